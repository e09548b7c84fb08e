//! The predictive source through the `Scaler`: warm-up, never below the reactive proposal,
//! forecast-only, bad input, compact and exact state.

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
