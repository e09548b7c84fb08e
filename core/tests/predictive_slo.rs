//! The predictive source's inputs as a caller really has them (the load since the previous
//! decision, as a mean or as the samples themselves), and its self-calibrating headroom
//! (`predictive.slo`): the calibration moves the right way, its cost stays bounded, its state is
//! small and restores exactly.

use replicast::hpa::MetricInput;
use replicast::{
    Decision, DecisionInput, ErrorKind, LoadSamples, Scaler, ScalerSpec, ScalerState, SourceKind,
};

const NOW: i64 = 1_700_000_000_000;

fn scaler(predictive: &str) -> Scaler {
    Scaler::new(
        ScalerSpec::from_yaml(&format!(
            "min_replicas: 1\nmax_replicas: 200\nhpa: {{metrics: [{{type: resource, resource: cpu, target: {{type: utilization, average_utilization: 70}}}}]}}\npredictive: {{capacity_per_replica: 10, startup_s: 120, {predictive}}}\n"
        ))
        .unwrap(),
    )
    .unwrap()
}

fn predictive(d: &Decision) -> &replicast::Proposal {
    d.proposals
        .iter()
        .find(|p| p.source == SourceKind::Predictive)
        .unwrap()
}

/// An observation at `now_ms` whose HPA metric reports `load` on `ready` replicas.
fn observe(now_ms: i64, current: u32, ready: u32, load: f64) -> DecisionInput {
    DecisionInput {
        now_ms,
        current_replicas: current,
        ready_replicas: Some(ready),
        metrics: vec![MetricInput::Aggregated {
            value: 100.0 * load / (f64::from(ready.max(1)) * 10.0),
            ready_replicas: ready,
        }],
        ..DecisionInput::default()
    }
}

/// The number in the warm-up reason "warming up: N of M load samples".
fn samples_seen(d: &Decision) -> usize {
    let reason = &predictive(d).reason;
    reason
        .strip_prefix("warming up: ")
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not warming up: {reason}"))
}

/// The peak point forecast in the reason "load forecast over the next N s peaks at X ...".
fn forecast_peak(d: &Decision) -> f64 {
    let reason = &predictive(d).reason;
    reason
        .split("peaks at ")
        .nth(1)
        .and_then(|r| r.split([' ', ',']).next())
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("no forecast: {reason}"))
}

#[test]
fn samples_finer_than_the_forecast_s_resolution_are_averaged_into_it() {
    // one-second samples, decided every 15 s, forecast per minute (the default sample interval)
    let s = scaler("decision_interval_s: 15");
    let mut state = ScalerState::new();
    let mut last = None;
    for decision in 1..=8 {
        let mut input = observe(NOW + decision * 15_000, 10, 10, 100.0);
        input.load_samples = Some(LoadSamples {
            step_ms: 1_000,
            values: (0..15)
                .map(|i| if i % 2 == 0 { 50.0 } else { 150.0 })
                .collect(),
        });
        last = Some(s.decide(&mut state, &input).unwrap());
        // a minute sample completes every fourth decision
        assert_eq!(
            samples_seen(last.as_ref().unwrap()),
            usize::try_from(decision / 4).unwrap()
        );
    }
    assert!(last.is_some());
}

#[test]
fn the_forecaster_learns_the_minute_mean_not_a_staircase_of_one_sample_per_decision() {
    // within every minute the load alternates 20 / 180 per second (mean 100); each decision,
    // every 15 s, passes its 15 samples
    let s = scaler("decision_interval_s: 15, warmup_samples: 10");
    let mut state = ScalerState::new();
    let mut d = None;
    for decision in 1..=(4 * 30) {
        let mut input = observe(NOW + decision * 15_000, 20, 20, 100.0);
        input.load_samples = Some(LoadSamples {
            step_ms: 1_000,
            values: (0..15)
                .map(|i| if i % 2 == 0 { 20.0 } else { 180.0 })
                .collect(),
        });
        d = Some(s.decide(&mut state, &input).unwrap());
    }
    // each decision's 15 samples are 8 of 20 and 7 of 180: every minute averages 94.667 (the
    // last sample of each decision, what one sample per decision would see, is always 20)
    let peak = forecast_peak(d.as_ref().unwrap());
    let mean = (8.0 * 20.0 + 7.0 * 180.0) / 15.0;
    assert!((peak - mean).abs() < 0.01, "forecast {peak}, mean {mean}");
}

#[test]
fn a_mean_over_an_explicit_window_and_overlapping_windows_count_once() {
    let s = scaler("");
    let mut state = ScalerState::new();
    // the mean over the last two minutes: two samples of the 60 s interval at once
    let mut first = observe(NOW + 120_000, 10, 10, 100.0);
    first.load = Some(100.0);
    first.load_since_ms = Some(NOW);
    assert_eq!(samples_seen(&s.decide(&mut state, &first).unwrap()), 2);
    // the same window again (a retried decision): nothing new
    assert_eq!(samples_seen(&s.decide(&mut state, &first).unwrap()), 2);
    // a rate over the last minute read 15 s later: only its last 15 s are new
    let mut later = observe(NOW + 135_000, 10, 10, 100.0);
    later.load = Some(100.0);
    assert_eq!(samples_seen(&s.decide(&mut state, &later).unwrap()), 2);
    let mut minute = observe(NOW + 180_000, 10, 10, 100.0);
    minute.load = Some(100.0);
    assert_eq!(samples_seen(&s.decide(&mut state, &minute).unwrap()), 3);
}

#[test]
fn a_missed_interval_repeats_the_last_sample() {
    let s = scaler("");
    let mut state = ScalerState::new();
    let mut input = observe(NOW + 60_000, 10, 10, 100.0);
    input.load = Some(100.0);
    assert_eq!(samples_seen(&s.decide(&mut state, &input).unwrap()), 1);
    // the next observation comes five minutes later and covers only its last minute
    let mut late = observe(NOW + 360_000, 10, 10, 100.0);
    late.load = Some(100.0);
    assert_eq!(samples_seen(&s.decide(&mut state, &late).unwrap()), 6);
}

#[test]
fn unusable_load_windows_are_named_errors_and_leave_the_state_untouched() {
    let s = scaler("");
    let mut state = ScalerState::new();
    let mut good = observe(NOW, 10, 10, 100.0);
    good.load = Some(100.0);
    s.decide(&mut state, &good).unwrap();
    let before = state.clone();
    let samples = |step_ms, values: Vec<f64>| Some(LoadSamples { step_ms, values });
    let cases: Vec<(DecisionInput, &str)> = vec![
        (
            DecisionInput {
                load: Some(1.0),
                load_samples: samples(1_000, vec![1.0]),
                ..observe(NOW + 60_000, 10, 10, 1.0)
            },
            "load and load_samples are two forms of the same observation: give one",
        ),
        (
            DecisionInput {
                load_samples: samples(0, vec![1.0]),
                ..observe(NOW + 60_000, 10, 10, 1.0)
            },
            "load_samples.step_ms must be >= 1, got 0",
        ),
        (
            DecisionInput {
                load_samples: samples(1_000, vec![1.0, f64::NAN]),
                ..observe(NOW + 60_000, 10, 10, 1.0)
            },
            "load_samples.values[1] must be a finite number >= 0, got NaN",
        ),
        (
            DecisionInput {
                load_samples: samples(1_000, vec![-2.0]),
                ..observe(NOW + 60_000, 10, 10, 1.0)
            },
            "load_samples.values[0] must be a finite number >= 0, got -2",
        ),
        (
            DecisionInput {
                load: Some(1.0),
                load_since_ms: Some(NOW + 60_000),
                ..observe(NOW + 60_000, 10, 10, 1.0)
            },
            "load_since_ms must be before now_ms (1700000060000), got 1700000060000",
        ),
        (
            DecisionInput {
                load_since_ms: Some(NOW),
                ..observe(NOW + 60_000, 10, 10, 1.0)
            },
            "load_since_ms must come with load (the mean load since that instant)",
        ),
    ];
    for (input, message) in cases {
        let err = s.decide(&mut state, &input).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(err.message(), message);
        assert_eq!(state, before);
    }
}

const SLO: &str = "warmup_samples: 30, slo: {max_overloaded_pct: 1}";

/// The headroom `z` in the reason "… +Zσ at …".
fn headroom(d: &Decision) -> f64 {
    let reason = &predictive(d).reason;
    reason
        .split('+')
        .nth(1)
        .and_then(|r| r.split('σ').next())
        .and_then(|z| z.parse().ok())
        .unwrap_or_else(|| panic!("no headroom: {reason}"))
}

/// A number in [0, 1) from `m`, repeating every 13 minutes: a model learns it within about an
/// hour, its intervals closing to the point.
fn periodic_noise(m: i64) -> f64 {
    (m * 7_919 % 13) as f64 / 12.0
}

/// A number in [0, 1) from `m`, in no period a forecaster could learn (splitmix64).
fn unit_noise(m: i64) -> f64 {
    let mut z = (m as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as f64 / 2f64.powi(64)
}

/// A steady load of about 200 per minute, ± 20 by `noise`, decided for `minutes`, with the
/// ready replicas chosen by `ready(minute, decided)`; the last decision.
fn run(
    s: &Scaler,
    state: &mut ScalerState,
    noise: fn(i64) -> f64,
    minutes: std::ops::RangeInclusive<i64>,
    ready: impl Fn(i64, u32) -> u32,
    provisioned: impl Fn(u32) -> u32,
) -> Decision {
    let mut decided = 30;
    let mut last = None;
    for minute in minutes {
        let load = 200.0 + 40.0 * (noise(minute) - 0.5);
        let r = ready(minute, decided);
        let mut input = observe(NOW + minute * 60_000, provisioned(r), r, load);
        input.load = Some(load);
        let d = s.decide(state, &input).unwrap();
        decided = d.replicas;
        last = Some(d);
    }
    last.unwrap()
}

#[test]
fn more_overload_seen_raises_the_headroom_less_lowers_it() {
    // a cost bound far off: paying 40 where a reactive target runs 29 leaves the bound room to
    // rise (0.02 a minute once the model forecasts: from minute 10 here), so the overload loop
    // alone moves the headroom (the bound starts where the headroom does)
    let s = scaler("warmup_samples: 10, slo: {max_overloaded_pct: 1, max_cost_ratio: 10}");
    // warm up with enough capacity
    let mut state = ScalerState::new();
    let warm = run(&s, &mut state, unit_noise, 1..=60, |_, _| 40, |r| r);
    let start = headroom(&warm);
    // then three minutes with too few ready replicas (15 × 10 < 200): overloaded
    let mut overloaded = state.clone();
    let hot = run(&s, &mut overloaded, unit_noise, 61..=63, |_, _| 15, |r| r);
    // or twenty minutes with plenty: never overloaded
    let mut calm = state.clone();
    let cool = run(&s, &mut calm, unit_noise, 61..=80, |_, _| 40, |r| r);
    // each overloaded minute adds 0.25 × 0.99; each calm one takes 0.25 × 0.01 away
    assert!(
        (headroom(&hot) - (start + 3.0 * 0.25 * 0.99)).abs() < 0.02,
        "{} → {}",
        start,
        headroom(&hot)
    );
    assert!(
        (headroom(&cool) - (start - 20.0 * 0.25 * 0.01)).abs() < 0.02,
        "{} → {}",
        start,
        headroom(&cool)
    );
    // more headroom is more replicas for the same forecast
    assert!(
        predictive(&hot).replicas > predictive(&cool).replicas,
        "{} / {}",
        predictive(&hot).reason,
        predictive(&cool).reason
    );
    assert!(
        predictive(&hot).reason.contains("budget 1 %"),
        "{}",
        predictive(&hot).reason
    );
}

#[test]
fn a_model_that_declined_on_the_warm_up_is_refit_once_the_history_has_doubled() {
    let s = scaler(SLO);
    let mut state = ScalerState::new();
    // white noise: on the warm-up's 30 samples, the model's validation finds it no better than
    // repeating the last value
    let early = run(&s, &mut state, unit_noise, 1..=45, |_, _| 40, |r| r);
    let reason = &predictive(&early).reason;
    assert!(reason.starts_with("no forecast"), "{reason}");
    // refit at 60 samples (not a day later): the mean beats the last value on more of them
    let later = run(&s, &mut state, unit_noise, 46..=90, |_, _| 40, |r| r);
    let reason = &predictive(&later).reason;
    assert!(reason.starts_with("load forecast"), "{reason}");
    assert!(predictive(&later).replicas.is_some());
}

#[test]
fn paying_more_than_the_reactive_target_would_bounds_the_headroom() {
    let s = scaler(SLO);
    let mut state = ScalerState::new();
    run(&s, &mut state, periodic_noise, 1..=60, |_, _| 40, |r| r);
    // overloaded all the time (so the overload loop pushes the headroom up) while paying for
    // three times what a reactive 70 % target runs (ceil(200 / 7) = 29): the cost bound wins
    let mut expensive = state.clone();
    let d = run(
        &s,
        &mut expensive,
        periodic_noise,
        61..=360,
        |_, _| 15,
        |_| 90,
    );
    let mut cheap = state.clone();
    let e = run(&s, &mut cheap, periodic_noise, 61..=360, |_, _| 15, |_| 25);
    assert!(
        headroom(&d) < headroom(&e) - 1.0,
        "paying 90: {}, paying 25: {}",
        predictive(&d).reason,
        predictive(&e).reason
    );
    assert!(
        predictive(&d).reason.contains("(bound 1)"),
        "{}",
        predictive(&d).reason
    );
}

#[test]
fn slo_specs_are_validated() {
    for (yaml, message) in [
        (
            "slo: {max_overloaded_pct: 0}",
            "predictive.slo.max_overloaded_pct must be in (0, 50], got 0",
        ),
        (
            "slo: {max_overloaded_pct: 1, max_cost_ratio: 0.1}",
            "predictive.slo.max_cost_ratio must be in [0.5, 10], got 0.1",
        ),
        (
            "slo: {max_overloaded_pct: 1}, peak_utilization: 0.9",
            "predictive.peak_utilization must be unset with slo (the calibration sets the headroom), got Some(0.9)",
        ),
    ] {
        let err = ScalerSpec::from_yaml(&format!(
            "max_replicas: 5\npredictive: {{capacity_per_replica: 10, {yaml}}}\n"
        ))
        .and_then(Scaler::new)
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{yaml}");
        assert_eq!(err.message(), message);
    }
    let err = ScalerSpec::from_yaml(
        "max_replicas: 5\npredictive: {capacity_per_replica: 10, slo: {max_overloaded_pct: 1, budget: 2}}\n",
    )
    .unwrap_err();
    assert!(err.message().contains("unknown field `budget`"), "{err}");
}

#[test]
fn the_calibration_keeps_the_state_small() {
    let s = scaler(&format!("{SLO}, decision_interval_s: 15"));
    let mut state = ScalerState::new();
    // a day of one-second samples every 15 s
    let mut current = 30;
    for decision in 1..=(4 * 1440) {
        let mut input = observe(NOW + decision * 15_000, current, current, 200.0);
        input.load_samples = Some(LoadSamples {
            step_ms: 1_000,
            values: (0..15).map(|i| 150.0 + f64::from(i) * 7.0).collect(),
        });
        current = s.decide(&mut state, &input).unwrap().replicas;
    }
    let json = state.to_json();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let calibration = &value["predictive"]["calibration"];
    assert!(calibration["recent_needs"].as_array().unwrap().len() <= 21);
    // a day of minute samples and the model: well under the 1 MiB a controller can persist
    assert!(json.len() < 200_000, "{} bytes", json.len());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn full_spec(min: u32, max: u32) -> ScalerSpec {
        ScalerSpec::from_yaml(&format!(
            "min_replicas: {min}\nmax_replicas: {max}\nhpa: {{metrics: [{{type: resource, resource: cpu, target: {{type: utilization, average_utilization: 80}}}}]}}\npredictive: {{capacity_per_replica: 10, sample_interval_s: 60, decision_interval_s: 30, warmup_samples: 10, history_s: 7200, slo: {{max_overloaded_pct: 0.5, max_cost_ratio: 1.2}}, scale_in: {{window_s: 180}}}}\n"
        ))
        .unwrap()
    }

    /// Observations: seconds since the previous one, a load, and whether it comes as samples.
    fn observations() -> impl Strategy<Value = Vec<(u16, f64, bool)>> {
        prop::collection::vec((10u16..150, 0.0f64..1000.0, any::<bool>()), 1..150)
    }

    fn replay(
        scaler: &Scaler,
        state: &mut ScalerState,
        start_ms: i64,
        start: u32,
        obs: &[(u16, f64, bool)],
    ) -> Vec<Decision> {
        let mut now = start_ms;
        let mut current = start;
        obs.iter()
            .map(|&(dt, load, as_samples)| {
                now += i64::from(dt) * 1000;
                let mut input = observe(now, current, current, load);
                if as_samples {
                    input.load_samples = Some(LoadSamples {
                        step_ms: 5_000,
                        values: (0..dt / 5).map(|i| load * f64::from(i % 3) / 2.0).collect(),
                    });
                } else {
                    input.load = Some(load);
                }
                let d = scaler.decide(state, &input).unwrap();
                current = d.replicas;
                d
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn replicas_stay_within_min_and_max_and_reasons_have_no_nan(
            min in 1u32..10, span in 0u32..40, start in 1u32..60, obs in observations(),
        ) {
            let max = min + span;
            let scaler = Scaler::new(full_spec(min, max)).unwrap();
            let mut state = ScalerState::new();
            for d in replay(&scaler, &mut state, NOW, start, &obs) {
                prop_assert!(d.replicas >= min && d.replicas <= max, "{} not in [{min}, {max}]: {d}", d.replicas);
                prop_assert!(d.proposals.iter().all(|p| !p.reason.contains("NaN")), "{d}");
            }
        }

        #[test]
        fn restored_state_gives_identical_future_decisions(
            start in 1u32..60, obs in observations(), split in 0usize..150,
        ) {
            let scaler = Scaler::new(full_spec(2, 80)).unwrap();
            let split = split.min(obs.len());
            let mut state = ScalerState::new();
            let first = replay(&scaler, &mut state, NOW, start, &obs[..split]);
            let current = first.last().map_or(start, |d| d.replicas);
            let mut restored = ScalerState::from_json(&state.to_json()).unwrap();
            prop_assert_eq!(&restored, &state);
            let resume_ms = NOW + obs[..split].iter().map(|&(dt, _, _)| i64::from(dt) * 1000).sum::<i64>();
            prop_assert_eq!(
                replay(&scaler, &mut state, resume_ms, current, &obs[split..]),
                replay(&scaler, &mut restored, resume_ms, current, &obs[split..])
            );
        }

        #[test]
        fn the_same_inputs_give_the_same_decisions(start in 1u32..60, obs in observations()) {
            let scaler = Scaler::new(full_spec(1, 100)).unwrap();
            let (mut a, mut b) = (ScalerState::new(), ScalerState::new());
            prop_assert_eq!(
                replay(&scaler, &mut a, NOW, start, &obs),
                replay(&scaler, &mut b, NOW, start, &obs)
            );
        }
    }
}
