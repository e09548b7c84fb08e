//! proptest properties of the scaler: bounds, no NaN/panic, determinism, snapshot/restore,
//! tolerance band, rate-limit allowances and stabilization.

use proptest::prelude::*;
use replicast::hpa::MetricInput;
use replicast::{Decision, DecisionInput, ErrorKind, Scaler, ScalerSpec, ScalerState};

const NOW: i64 = 1_700_000_000_000;

fn spec(min: u32, max: u32, target: i32, behavior: bool) -> ScalerSpec {
    let behavior = if behavior {
        "behavior:\n  scale_up: {policies: [{type: pods, value: 3, period_s: 60}, {type: percent, value: 50, period_s: 30}]}\n  scale_down: {stabilization_window_s: 120, policies: [{type: percent, value: 20, period_s: 60}]}\n"
    } else {
        ""
    };
    ScalerSpec::from_yaml(&format!(
        "min_replicas: {min}\nmax_replicas: {max}\nhpa:\n  metrics:\n    - {{type: resource, resource: cpu, target: {{type: utilization, average_utilization: {target}}}}}\n{behavior}"
    ))
    .unwrap()
}

fn input(now_ms: i64, current: u32, value: f64) -> DecisionInput {
    DecisionInput {
        now_ms,
        current_replicas: current,
        metrics: vec![MetricInput::Aggregated {
            value,
            ready_replicas: current,
        }],
        ..DecisionInput::default()
    }
}

/// A run of observations: (seconds since the previous one, utilization).
fn observations() -> impl Strategy<Value = Vec<(u16, f64)>> {
    prop::collection::vec((0u16..400, 0.0f64..1000.0), 1..40)
}

/// Replays `obs`, feeding each decision's replicas back as the next current count.
fn replay(
    scaler: &Scaler,
    state: &mut ScalerState,
    start: u32,
    obs: &[(u16, f64)],
) -> Vec<Decision> {
    let mut now = NOW;
    let mut current = start;
    obs.iter()
        .map(|&(dt, value)| {
            now += i64::from(dt) * 1000;
            let d = scaler.decide(state, &input(now, current, value)).unwrap();
            current = d.replicas;
            d
        })
        .collect()
}

proptest! {
    #[test]
    fn replicas_stay_within_min_and_max(
        min in 1u32..10, span in 0u32..50, target in 1i32..200, behavior: bool,
        start in 1u32..100, obs in observations(),
    ) {
        let max = min + span;
        let scaler = Scaler::new(spec(min, max, target, behavior)).unwrap();
        let mut state = ScalerState::new();
        for d in replay(&scaler, &mut state, start, &obs) {
            prop_assert!(d.replicas >= min && d.replicas <= max, "{} not in [{min}, {max}]", d.replicas);
        }
    }

    #[test]
    fn any_value_gives_a_decision_or_an_invalid_input_error(
        value in prop::num::f64::ANY, current in 0u32..1000, behavior: bool,
    ) {
        let scaler = Scaler::new(spec(1, 500, 60, behavior)).unwrap();
        match scaler.decide(&mut ScalerState::new(), &input(NOW, current, value)) {
            Ok(d) => {
                prop_assert!(value.is_finite() && value >= 0.0);
                prop_assert!(d.replicas <= 500);
                let json = serde_json::to_string(&d).unwrap();
                prop_assert!(!json.contains("NaN") && !json.contains("inf"));
            }
            Err(e) => {
                prop_assert!(!(value.is_finite() && value >= 0.0), "{e}");
                prop_assert_eq!(e.kind(), ErrorKind::InvalidInput);
            }
        }
    }

    #[test]
    fn decisions_are_deterministic(start in 1u32..50, behavior: bool, obs in observations()) {
        let scaler = Scaler::new(spec(1, 60, 70, behavior)).unwrap();
        let mut a = ScalerState::new();
        let mut b = ScalerState::new();
        prop_assert_eq!(replay(&scaler, &mut a, start, &obs), replay(&scaler, &mut b, start, &obs));
        prop_assert_eq!(a, b);
    }

    #[test]
    fn restored_state_gives_identical_future_decisions(
        start in 1u32..50, behavior: bool, obs in observations(), split in 0usize..40,
    ) {
        let scaler = Scaler::new(spec(1, 60, 70, behavior)).unwrap();
        let split = split.min(obs.len());
        let mut state = ScalerState::new();
        let first = replay(&scaler, &mut state, start, &obs[..split]);
        let current = first.last().map_or(start, |d| d.replicas);
        let mut restored = ScalerState::from_json(&state.to_json()).unwrap();
        prop_assert_eq!(&restored, &state);
        // continue both from the same instant
        let offset: i64 = obs[..split].iter().map(|&(dt, _)| i64::from(dt) * 1000).sum();
        let rest: Vec<_> = obs[split..].to_vec();
        let shifted = |s: &mut ScalerState| {
            let mut now = NOW + offset;
            let mut cur = current;
            rest.iter().map(|&(dt, v)| {
                now += i64::from(dt) * 1000;
                let d = scaler.decide(s, &input(now, cur, v)).unwrap();
                cur = d.replicas;
                d
            }).collect::<Vec<_>>()
        };
        prop_assert_eq!(shifted(&mut state), shifted(&mut restored));
    }

    #[test]
    fn tolerance_band_holds(current in 1u32..200, ratio in 0.9f64..=1.1) {
        // utilization is truncated to an integer percent first, as Kubernetes does
        let value = (100.0 * ratio).trunc();
        prop_assume!((90.0..=110.0).contains(&value));
        let scaler = Scaler::new(spec(1, 1000, 100, false)).unwrap();
        let d = scaler.decide(&mut ScalerState::new(), &input(NOW, current, value)).unwrap();
        prop_assert_eq!(d.proposals[0].replicas, Some(current));
        prop_assert_eq!(d.replicas, current);
    }

    #[test]
    fn scale_up_never_exceeds_the_policy_allowance(start in 1u32..20, obs in observations()) {
        // scale_up policies: 3 pods per 60 s or 50 % per 30 s, whichever allows more
        let scaler = Scaler::new(spec(1, 1000, 50, true)).unwrap();
        let mut state = ScalerState::new();
        let mut now = NOW;
        let mut current = start;
        let mut history: Vec<(i64, u32, u32)> = Vec::new(); // (time, before, after)
        for &(dt, value) in &obs {
            now += i64::from(dt) * 1000;
            let d = scaler.decide(&mut state, &input(now, current, value)).unwrap();
            if d.replicas > current {
                // replicas at the start of each period, reconstructed from the events
                let added = |period_ms: i64| -> u32 {
                    history.iter().filter(|(t, b, a)| *t > now - period_ms && a > b).map(|(_, b, a)| a - b).sum()
                };
                let removed = |period_ms: i64| -> u32 {
                    history.iter().filter(|(t, b, a)| *t > now - period_ms && a < b).map(|(_, b, a)| b - a).sum()
                };
                let start60 = current + removed(60_000) - added(60_000);
                let start30 = current + removed(30_000) - added(30_000);
                let allowed = (start60 + 3).max((f64::from(start30) * 1.5).ceil() as u32);
                prop_assert!(d.replicas <= allowed.max(current), "{} > {allowed}", d.replicas);
            }
            history.push((now, current, d.replicas));
            current = d.replicas;
        }
    }

    #[test]
    fn scale_down_never_goes_below_the_window_maximum(start in 1u32..60, obs in observations()) {
        // scale_down stabilization window 120 s: never below any recommendation of the window
        let scaler = Scaler::new(spec(1, 1000, 50, true)).unwrap();
        let mut state = ScalerState::new();
        let mut now = NOW;
        let mut current = start;
        let mut recommendations: Vec<(i64, u32)> = vec![(now - 1, start)];
        for &(dt, value) in &obs {
            now += i64::from(dt) * 1000;
            let d = scaler.decide(&mut state, &input(now, current, value)).unwrap();
            let proposal = d.proposals.first().and_then(|p| p.replicas).unwrap_or(current);
            if d.replicas < current {
                let window_max = recommendations.iter()
                    .filter(|(t, _)| *t > now - 120_000)
                    .map(|&(_, r)| r)
                    .chain([proposal])
                    .max()
                    .unwrap();
                prop_assert!(d.replicas >= window_max.min(current), "{} < {window_max}", d.replicas);
            }
            recommendations.push((now, proposal));
            current = d.replicas;
        }
    }

    #[test]
    fn more_load_never_gives_fewer_replicas(
        current in 1u32..100, a in 0.0f64..1000.0, b in 0.0f64..1000.0, behavior: bool,
    ) {
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        let scaler = Scaler::new(spec(1, 1000, 70, behavior)).unwrap();
        let at_low = scaler.decide(&mut ScalerState::new(), &input(NOW, current, low)).unwrap();
        let at_high = scaler.decide(&mut ScalerState::new(), &input(NOW, current, high)).unwrap();
        prop_assert!(at_low.replicas <= at_high.replicas, "{low} -> {}, {high} -> {}", at_low.replicas, at_high.replicas);
    }

    #[test]
    fn constant_load_settles_without_flapping(start in 1u32..50, load in 1.0f64..5000.0, behavior: bool) {
        // `load` is total work in percent-of-one-pod; each replica's utilization is load / replicas
        let scaler = Scaler::new(spec(1, 1000, 70, behavior)).unwrap();
        let mut state = ScalerState::new();
        let mut current = start;
        let mut history = Vec::new();
        for step in 0..120 {
            let utilization = load / f64::from(current);
            let d = scaler.decide(&mut state, &input(NOW + step * 15_000, current, utilization)).unwrap();
            history.push(d.replicas);
            current = d.replicas;
        }
        // after 20 minutes of the same load, nothing moves any more
        let tail = &history[80..];
        prop_assert!(tail.iter().all(|r| *r == tail[0]), "still moving: {tail:?}");
    }
}
