//! The predictive source through the `Scaler`: warm-up, never below the reactive proposal,
//! forecast-only, bad input, compact and exact state, peak utilization, scale-in on forecast,
//! scheduled floors, learned start-up, and properties with every option on.

use replicast::hpa::MetricInput;
use replicast::{DecisionInput, ErrorKind, Scaler, ScalerSpec, ScalerState, SourceKind};

const NOW: i64 = 1_700_000_000_000;

fn spec(extra: &str) -> ScalerSpec {
    ScalerSpec::from_yaml(&format!(
        "min_replicas: 1\nmax_replicas: 100\nhpa: {{metrics: [{{type: resource, resource: cpu, target: {{type: utilization, average_utilization: 70}}}}]}}\npredictive: {{capacity_per_replica: 10, sample_interval_s: 60, decision_interval_s: 60, startup_s: 120{extra}}}\n"
    ))
    .unwrap()
}

/// A daily-shaped load at one-minute resolution, in load units per minute.
fn load(minute: i64) -> f64 {
    let day = (minute % 1440) as f64 / 1440.0;
    200.0 + 150.0 * (day * std::f64::consts::TAU).sin()
}

fn input(minute: i64, current: u32) -> DecisionInput {
    let l = load(minute - 1);
    DecisionInput {
        now_ms: NOW + minute * 60_000,
        current_replicas: current,
        metrics: vec![MetricInput::Aggregated {
            value: 100.0 * l / (f64::from(current) * 10.0),
            ready_replicas: current,
        }],
        load: Some(l),
        ..DecisionInput::default()
    }
}

/// Three replicas at 70 % CPU serving a load of 21 (the reactive sources want 3), the CPU
/// average taken over `ready_replicas` pods.
fn light_load(minute: i64, ready_replicas: u32) -> DecisionInput {
    DecisionInput {
        now_ms: NOW + minute * 60_000,
        current_replicas: 3,
        metrics: vec![MetricInput::Aggregated {
            value: 70.0,
            ready_replicas,
        }],
        load: Some(21.0),
        ..DecisionInput::default()
    }
}

fn predictive_proposal(d: &replicast::Decision) -> &replicast::Proposal {
    d.proposals
        .iter()
        .find(|p| p.source == SourceKind::Predictive)
        .unwrap()
}

#[test]
fn silent_during_warm_up_and_says_so() {
    let scaler = Scaler::new(spec("")).unwrap();
    let mut state = ScalerState::new();
    let d = scaler.decide(&mut state, &input(1, 30)).unwrap();
    let p = predictive_proposal(&d);
    assert_eq!(p.replicas, None);
    assert_eq!(p.reason, "warming up: 1 of 60 load samples");
    for minute in 2..=60 {
        scaler.decide(&mut state, &input(minute, 30)).unwrap();
    }
    let d = scaler.decide(&mut state, &input(61, 30)).unwrap();
    assert!(predictive_proposal(&d).replicas.is_some(), "{d}");
}

#[test]
fn never_below_the_reactive_proposal_and_ready_before_the_load() {
    let scaler = Scaler::new(spec("")).unwrap();
    let reactive = Scaler::new(ScalerSpec {
        predictive: None,
        keda: None,
        kpa: None,
        vpa: None,
        ..spec("")
    })
    .unwrap();
    let mut state = ScalerState::new();
    let mut current = 30;
    let mut ahead = 0;
    for minute in 1..=(3 * 1440) {
        let d = scaler.decide(&mut state, &input(minute, current)).unwrap();
        let hpa = d
            .proposals
            .iter()
            .find(|p| p.source == SourceKind::Hpa)
            .unwrap();
        // the combined proposal is the max of the two: never below the reactive one
        let combined = d
            .steps
            .iter()
            .find(|s| s.stage == replicast::Stage::Combine)
            .map(|s| s.to);
        if let (Some(c), Some(h)) = (combined, hpa.replicas) {
            assert!(c >= h);
        }
        // on the third day, the rising edge is provisioned before it arrives
        if minute > 2 * 1440 {
            let needed = (load(minute + 2) / 7.0).ceil() as u32;
            ahead += usize::from(d.replicas >= needed);
        }
        current = d.replicas;
    }
    assert!(
        ahead as f64 > 0.95 * 1440.0,
        "ahead of the load in only {ahead} of 1440 minutes"
    );
    // the same inputs without the predictive source are never higher
    let mut state = ScalerState::new();
    let d = reactive.decide(&mut state, &input(1, 30)).unwrap();
    assert!(d.proposals.iter().all(|p| p.source == SourceKind::Hpa));
}

#[test]
fn forecast_only_reports_without_acting() {
    let only = Scaler::new(spec(", mode: forecast_only")).unwrap();
    let reactive = Scaler::new(ScalerSpec {
        predictive: None,
        keda: None,
        kpa: None,
        vpa: None,
        ..spec("")
    })
    .unwrap();
    let (mut a, mut b) = (ScalerState::new(), ScalerState::new());
    let (mut ca, mut cb) = (30, 30);
    for minute in 1..=600 {
        let da = only.decide(&mut a, &input(minute, ca)).unwrap();
        let db = reactive.decide(&mut b, &input(minute, cb)).unwrap();
        assert_eq!(da.replicas, db.replicas);
        ca = da.replicas;
        cb = db.replicas;
        if minute > 60 {
            let p = predictive_proposal(&da);
            assert!(p.replicas.is_some());
            assert_eq!(p.name, "load forecast (forecast only)");
        }
    }
}

#[test]
fn bad_load_and_config_are_rejected() {
    let scaler = Scaler::new(spec("")).unwrap();
    let mut state = ScalerState::new();
    let mut bad = input(1, 3);
    bad.load = Some(f64::NAN);
    let err = scaler.decide(&mut state, &bad).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.message()
            .contains("load must be a finite number >= 0, got NaN"),
        "{err}"
    );
    assert_eq!(state, ScalerState::new());
    bad.load = Some(-3.0);
    assert_eq!(
        scaler.decide(&mut state, &bad).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let err = ScalerSpec::from_yaml(
        "max_replicas: 5\npredictive: {capacity_per_replica: 10, quantile: 1.2}\n",
    )
    .unwrap_err();
    assert_eq!(
        err.message(),
        "predictive.quantile must be in [0.5, 1), got 1.2"
    );
    let err = ScalerSpec::from_yaml("max_replicas: 5\npredictive: {capacity_per_replica: 0}\n")
        .unwrap_err();
    assert_eq!(
        err.message(),
        "predictive.capacity_per_replica must be a finite number > 0, got 0"
    );
}

#[test]
fn outlier_k_keeps_one_glitch_out_of_the_forecast() {
    let err = ScalerSpec::from_yaml(
        "max_replicas: 5\npredictive: {capacity_per_replica: 10, outlier_k: 1}\n",
    )
    .unwrap_err();
    assert_eq!(
        err.message(),
        "predictive.outlier_k must be 0 (off) or finite and >= 2, got 1"
    );
    let forecast_after_glitch = |extra: &str| {
        let scaler = Scaler::new(spec(extra)).unwrap();
        let mut state = ScalerState::new();
        for minute in 1..=300 {
            scaler.decide(&mut state, &input(minute, 30)).unwrap();
        }
        let steady = predictive_proposal(&scaler.decide(&mut state, &input(301, 30)).unwrap())
            .replicas
            .unwrap();
        // one sample a hundred times the load (a scrape glitch), then the load as before
        let mut glitch = input(302, 30);
        glitch.load = Some(100.0 * load(301));
        scaler.decide(&mut state, &glitch).unwrap();
        let after = predictive_proposal(&scaler.decide(&mut state, &input(303, 30)).unwrap())
            .replicas
            .unwrap();
        (steady, after)
    };
    let (steady, clipped) = forecast_after_glitch(", outlier_k: 4");
    assert!(clipped <= steady + 2, "{steady} -> {clipped}");
    let (steady, raw) = forecast_after_glitch("");
    assert!(raw > steady + 10, "{steady} -> {raw}");
}

#[test]
fn state_is_compact_and_round_trips_exactly() {
    let scaler = Scaler::new(spec("")).unwrap();
    let mut state = ScalerState::new();
    let mut current = 30;
    for minute in 1..=(5 * 1440) {
        current = scaler
            .decide(&mut state, &input(minute, current))
            .unwrap()
            .replicas;
    }
    let json = state.to_json();
    // four days of one-minute samples and a daily-season model
    assert!(json.len() < 512 * 1024, "state is {} bytes", json.len());
    println!(
        "predictive state after 5 days at 1-minute samples: {} bytes of JSON",
        json.len()
    );
    let mut restored = ScalerState::from_json(&json).unwrap();
    assert_eq!(restored, state);
    for minute in (5 * 1440 + 1)..=(5 * 1440 + 200) {
        let a = scaler.decide(&mut state, &input(minute, current)).unwrap();
        let b = scaler
            .decide(&mut restored, &input(minute, current))
            .unwrap();
        assert_eq!(a, b);
        current = a.replicas;
    }
}

/// Replica-minutes over the third day, minutes ahead of the load on it, and the decisions.
fn replay_third_day(scaler: &Scaler) -> (u64, usize, Vec<replicast::Decision>) {
    let mut state = ScalerState::new();
    let mut current = 30;
    let (mut replica_minutes, mut ahead) = (0, 0);
    let mut decisions = Vec::new();
    for minute in 1..=(3 * 1440) {
        let d = scaler.decide(&mut state, &input(minute, current)).unwrap();
        current = d.replicas;
        if minute > 2 * 1440 {
            replica_minutes += u64::from(current);
            ahead += usize::from(current >= (load(minute + 2) / 7.0).ceil() as u32);
            decisions.push(d);
        }
    }
    (replica_minutes, ahead, decisions)
}

#[test]
fn scale_in_on_forecast_releases_replicas_sooner_and_stays_ahead() {
    let (held, held_ahead, _) = replay_third_day(&Scaler::new(spec("")).unwrap());
    let scaler = Scaler::new(spec(", scale_in: {window_s: 300, after_scale_up_s: 300}")).unwrap();
    let (released, released_ahead, decisions) = replay_third_day(&scaler);
    assert!(
        released < held,
        "scale-in on forecast used {released} replica-minutes, without it {held}"
    );
    assert!(
        released_ahead as f64 > 0.95 * 1440.0 && released_ahead + 10 >= held_ahead,
        "ahead of the load in {released_ahead} minutes (without scale-in {held_ahead})"
    );
    let scale_ins: Vec<_> = decisions
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            d.steps
                .iter()
                .any(|s| s.reason.starts_with("scale-in on forecast"))
        })
        .map(|(i, _)| i)
        .collect();
    assert!(!scale_ins.is_empty());
    // its own hysteresis: never within after_scale_up_s (5 decisions here) of a scale-up
    for &i in &scale_ins {
        for back in 1..5.min(i + 1) {
            let earlier = &decisions[i - back];
            assert!(
                !(earlier.rescale && earlier.replicas > earlier.current_replicas),
                "scale-in on forecast {back} min after a scale-up"
            );
        }
        // never below the reactive proposal
        let d = &decisions[i];
        let hpa = d
            .proposals
            .iter()
            .find(|p| p.source == SourceKind::Hpa)
            .and_then(|p| p.replicas)
            .unwrap();
        assert!(d.replicas >= hpa.min(d.current_replicas), "{d}");
    }
}

#[test]
fn peak_utilization_provisions_the_quantile_at_full_capacity() {
    // unset, the quantile is provisioned at the target like the point forecast
    let at_target = Scaler::new(spec("")).unwrap();
    let at_full = Scaler::new(spec(", peak_utilization: 1.0")).unwrap();
    let (target_minutes, _, _) = replay_third_day(&at_target);
    let (full_minutes, full_ahead, _) = replay_third_day(&at_full);
    assert!(
        full_minutes < target_minutes,
        "{full_minutes} replica-minutes at 100 %, {target_minutes} at the target"
    );
    assert!(full_ahead as f64 > 0.95 * 1440.0, "{full_ahead}");
    let err = ScalerSpec::from_yaml(
        "max_replicas: 5\npredictive: {capacity_per_replica: 10, peak_utilization: 0.5}\n",
    )
    .unwrap_err();
    assert_eq!(
        err.message(),
        "predictive.peak_utilization must be in [target_utilization, 1], got 0.5"
    );
}

#[test]
fn scheduled_floors_hold_from_one_lead_before_the_window() {
    // NOW is Tuesday 2023-11-14 22:13:20 UTC; the floor runs 22:30–23:00 on Tuesdays
    let floor = ", floors: [{min_replicas: 12, from: '22:30', to: '23:00', days: [tue]}]";
    let scaler = Scaler::new(spec(floor)).unwrap();
    let mut state = ScalerState::new();
    let mut seen = Vec::new();
    for minute in 1..=60 {
        // a light load: the reactive sources want 3
        let d = scaler.decide(&mut state, &light_load(minute, 3)).unwrap();
        seen.push(d.replicas);
        if d.replicas == 12 {
            let step = d.steps.last().unwrap();
            assert_eq!(step.stage, replicast::Stage::MinMax);
            assert!(
                step.reason
                    .starts_with("scheduled floor 12 replicas 22:30–23:00"),
                "{step:?}"
            );
        }
    }
    // lead = 120 s start-up + 60 s interval: from 22:27 (minute 14) until 22:59 (minute 46)
    let floored: Vec<i64> = (1..=60).filter(|m| seen[*m as usize - 1] == 12).collect();
    assert_eq!(floored, (14..=46).collect::<Vec<_>>());
    // forecast_only reports, never acts
    let only = Scaler::new(spec(&format!("{floor}, mode: forecast_only"))).unwrap();
    let mut state = ScalerState::new();
    let d = only.decide(&mut state, &input(20, 30)).unwrap();
    assert!(
        d.steps
            .iter()
            .all(|s| !s.reason.starts_with("scheduled floor"))
    );
}

#[test]
fn a_scheduled_floor_holds_when_every_metric_fails() {
    // NOW + 20 min is Tuesday 22:33 UTC, inside the floor's window
    let floor = ", floors: [{min_replicas: 12, from: '22:30', to: '23:00', days: [tue]}]";
    let scaler = Scaler::new(spec(floor)).unwrap();
    let mut state = ScalerState::new();
    // no ready pod behind the average: the CPU metric fails, as upstream with no metrics
    let failing = |minute: i64| light_load(minute, 0);
    // outside the window the invalid-metric rule holds the current size
    let d = scaler.decide(&mut state, &failing(1)).unwrap();
    assert_eq!((d.replicas, d.rescale), (3, false), "{d}");
    assert!(!d.errors.is_empty());
    // inside it the floor is a minimum, as min_replicas is without metrics
    let d = scaler.decide(&mut state, &failing(20)).unwrap();
    assert_eq!((d.replicas, d.rescale), (12, true), "{d}");
    let step = d.steps.last().unwrap();
    assert_eq!(step.stage, replicast::Stage::MinMax);
    assert!(
        step.reason.starts_with("scheduled floor 12 replicas"),
        "{step:?}"
    );
    assert!(!d.errors.is_empty(), "the failure is still reported");
}

#[test]
fn scheduled_floor_windows_wrap_midnight_and_respect_offsets() {
    use replicast::spec::ScheduledFloor;
    let night: ScheduledFloor = serde_json::from_str(
        r#"{"min_replicas": 2, "from": "22:00", "to": "02:00", "days": ["fri"]}"#,
    )
    .unwrap();
    let fri_23h = 1_700_262_000_000; // Friday 2023-11-17 23:00 UTC
    let sat_01h = fri_23h + 2 * 3_600_000;
    let sat_03h = fri_23h + 4 * 3_600_000;
    let sat_23h = fri_23h + 24 * 3_600_000;
    assert!(night.active_at(fri_23h, 0).unwrap());
    assert!(
        night.active_at(sat_01h, 0).unwrap(),
        "runs past midnight into Saturday"
    );
    assert!(!night.active_at(sat_03h, 0).unwrap());
    assert!(
        !night.active_at(sat_23h, 0).unwrap(),
        "starts on Fridays only"
    );
    // UTC+2: Friday 23:00 UTC is Saturday 01:00 local, still in Friday's window
    let east = ScheduledFloor {
        utc_offset_min: 120,
        ..night.clone()
    };
    assert!(east.active_at(fri_23h, 0).unwrap());
    assert!(!east.active_at(sat_01h, 0).unwrap(), "03:00 local");
    // a lead reaches into the window before it opens
    assert!(night.active_at(fri_23h - 90 * 60_000, 30 * 60_000).unwrap());
    assert!(!night.active_at(fri_23h - 90 * 60_000, 29 * 60_000).unwrap());
    for (field, yaml, message) in [
        (
            "from",
            "from: '8:5', to: '09:00'",
            "predictive.floors[0].from must be a time HH:MM between 00:00 and 24:00, got \"8:5\"",
        ),
        (
            "to",
            "from: '08:00', to: '24:01'",
            "predictive.floors[0].to must be a time HH:MM between 00:00 and 24:00, got \"24:01\"",
        ),
        (
            "offset",
            "from: '08:00', to: '09:00', utc_offset_min: 1440",
            "predictive.floors[0].utc_offset_min must be in (-1440, 1440), got 1440",
        ),
    ] {
        let err = ScalerSpec::from_yaml(&format!(
            "max_replicas: 5\npredictive: {{capacity_per_replica: 10, floors: [{{min_replicas: 2, {yaml}}}]}}\n"
        ))
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{field}");
        assert_eq!(err.message(), message, "{field}");
    }
    let err = ScalerSpec::from_yaml(
        "max_replicas: 5\npredictive: {capacity_per_replica: 10, floors: [{min_replicas: 2, from: '08:00', to: '09:00', days: [monday]}]}\n",
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.message().contains("monday"), "{err}");
}

fn pod(name: &str, start_ms: i64, ready_ms: i64) -> replicast::hpa::Pod {
    serde_json::from_value(serde_json::json!({
        "name": name, "phase": "running", "start_time_ms": start_ms,
        "ready": {"status": "true", "last_transition_ms": ready_ms},
    }))
    .unwrap()
}

#[test]
fn start_up_is_learned_from_readiness_delays() {
    let scaler = Scaler::new(spec(", learn_startup: true")).unwrap();
    let mut state = ScalerState::new();
    for minute in 1..=70 {
        scaler.decide(&mut state, &input(minute, 30)).unwrap();
    }
    let configured = predictive_proposal(&scaler.decide(&mut state, &input(71, 30)).unwrap())
        .reason
        .clone();
    assert!(configured.contains("over the next 180 s"), "{configured}");
    // three pods became ready 600 s after they started; one 2 hours after (a restart, ignored)
    let t = NOW + 72 * 60_000;
    let mut with_pods = input(72, 30);
    with_pods.pods = Some(vec![
        pod("a", t - 600_000, t - 1_000),
        pod("b", t - 610_000, t - 10_000),
        pod("c", t - 620_000, t - 20_000),
        pod("d", t - 7_200_000, t - 5_000),
    ]);
    let d = scaler.decide(&mut state, &with_pods).unwrap();
    let reason = &predictive_proposal(&d).reason;
    assert!(
        reason.contains("over the next 660 s")
            && reason.ends_with("(start-up 600 s, learned from 3 readiness delays)"),
        "{reason}"
    );
    // the same pods again: nothing new became ready since the last decision
    let mut again = input(73, 30);
    again.pods = with_pods.pods.clone();
    let d = scaler.decide(&mut state, &again).unwrap();
    assert!(
        predictive_proposal(&d)
            .reason
            .ends_with("learned from 3 readiness delays)")
    );
    // without learn_startup the pods are ignored
    let fixed = Scaler::new(spec("")).unwrap();
    let mut state = ScalerState::new();
    for minute in 1..=71 {
        fixed.decide(&mut state, &input(minute, 30)).unwrap();
    }
    let d = fixed.decide(&mut state, &with_pods).unwrap();
    assert!(
        predictive_proposal(&d)
            .reason
            .contains("over the next 180 s")
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Every predictive option on: quantile at a peak utilization, scale-in on forecast, a floor
    /// for part of the run (22:00–22:40 UTC; NOW is 22:13), a short warm-up.
    fn full_spec(min: u32, max: u32) -> ScalerSpec {
        ScalerSpec::from_yaml(&format!(
            "min_replicas: {min}\nmax_replicas: {max}\nhpa: {{metrics: [{{type: resource, resource: cpu, target: {{type: utilization, average_utilization: 70}}}}]}}\npredictive: {{capacity_per_replica: 10, sample_interval_s: 60, decision_interval_s: 60, warmup_samples: 10, history_s: 7200, quantile: 0.95, peak_utilization: 0.9, scale_in: {{window_s: 180, after_scale_up_s: 120}}, floors: [{{min_replicas: {}, from: '22:00', to: '22:40'}}], outlier_k: 4}}\n",
            min + 3
        ))
        .unwrap()
    }

    fn replay(
        scaler: &Scaler,
        state: &mut ScalerState,
        start_ms: i64,
        start: u32,
        obs: &[(u16, f64)],
    ) -> Vec<replicast::Decision> {
        let mut now = start_ms;
        let mut current = start;
        obs.iter()
            .map(|&(dt, load)| {
                now += i64::from(dt) * 1000;
                let input = DecisionInput {
                    now_ms: now,
                    current_replicas: current,
                    metrics: vec![MetricInput::Aggregated {
                        value: 100.0 * load / (f64::from(current.max(1)) * 10.0),
                        ready_replicas: current,
                    }],
                    load: Some(load),
                    ..DecisionInput::default()
                };
                let d = scaler.decide(state, &input).unwrap();
                current = d.replicas;
                d
            })
            .collect()
    }

    fn observations() -> impl Strategy<Value = Vec<(u16, f64)>> {
        prop::collection::vec((30u16..150, 0.0f64..1000.0), 1..120)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn replicas_stay_within_min_and_max(
            min in 1u32..10, span in 0u32..40, start in 1u32..60, obs in observations(),
        ) {
            let max = min + span;
            let scaler = Scaler::new(full_spec(min, max)).unwrap();
            let mut state = ScalerState::new();
            for d in replay(&scaler, &mut state, NOW, start, &obs) {
                prop_assert!(d.replicas >= min && d.replicas <= max, "{} not in [{min}, {max}]: {d}", d.replicas);
            }
        }

        #[test]
        fn restored_state_gives_identical_future_decisions(
            start in 1u32..60, obs in observations(), split in 0usize..120,
        ) {
            let scaler = Scaler::new(full_spec(2, 80)).unwrap();
            let split = split.min(obs.len());
            let mut state = ScalerState::new();
            let first = replay(&scaler, &mut state, NOW, start, &obs[..split]);
            let current = first.last().map_or(start, |d| d.replicas);
            let mut restored = ScalerState::from_json(&state.to_json()).unwrap();
            prop_assert_eq!(&restored, &state);
            let resume_ms = NOW + obs[..split].iter().map(|&(dt, _)| i64::from(dt) * 1000).sum::<i64>();
            prop_assert_eq!(
                replay(&scaler, &mut state, resume_ms, current, &obs[split..]),
                replay(&scaler, &mut restored, resume_ms, current, &obs[split..])
            );
        }
    }
}

#[test]
fn a_restored_state_with_an_inconsistent_model_is_refused() {
    let broken = r#"{"kind": "seasonal_naive", "period": 4, "last": [1.0], "pos": 3, "n": 4, "sse": 0.0, "n_err": 0}"#;
    let mut state: serde_json::Value = serde_json::from_str(&ScalerState::new().to_json()).unwrap();
    state["predictive"] = serde_json::json!({
        "history": [1.0, 2.0, 3.0, 4.0],
        "model": serde_json::from_str::<serde_json::Value>(broken).unwrap(),
        "samples_since_fit": 0,
    });
    let err = ScalerState::from_json(&state.to_string()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Serialization);
    assert_eq!(
        err.message(),
        "invalid fitted model JSON: seasonal naive needs period >= 1, `last` of `period` values and pos < period, got period 4, 1 values, pos 3"
    );
    // the same state with a consistent model restores
    state["predictive"]["model"]["last"] = serde_json::json!([1.0, 2.0, 3.0, 4.0]);
    assert!(ScalerState::from_json(&state.to_string()).is_ok());
}
