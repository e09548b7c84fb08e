//! The threshold source and the seed's threshold YAML, through the public API.

use std::collections::BTreeMap;

use replicast::spec::{ScaleStep, StepKind, ThresholdRule, ThresholdSpec, seed_presets};
use replicast::threshold::{Direction, threshold_proposal};
use replicast::{DecisionInput, ErrorKind, Scaler, ScalerSpec, ScalerState, SourceKind, Stage};

const NOW: i64 = 1_700_000_000_000;

fn seed_file(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../testdata/seed/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn signals(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

fn calm() -> BTreeMap<String, f64> {
    signals(&[
        ("cpu", 20.0),
        ("memory", 40.0),
        ("inference_queue_depth", 2.0),
        ("response_time_p95", 0.5),
    ])
}

#[test]
fn seed_thresholds_yaml_loads_as_written() {
    let spec = ScalerSpec::from_yaml(&seed_file("thresholds.yaml")).unwrap();
    let t = spec.threshold.as_ref().unwrap();
    assert_eq!(t.rules, ThresholdSpec::seed_rules());
    assert_eq!((spec.min_replicas, spec.max_replicas), (2, 20));
    assert!(spec.hpa.is_none() && spec.behavior.is_none() && spec.cooldown.is_none());
}

#[test]
fn seed_presets_yaml_loads_as_written() {
    let text = seed_file("threshold-presets.yaml");
    let presets = seed_presets(&text).unwrap();
    let names: Vec<&str> = presets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["aggressive", "conservative"]);
    let aggressive = &presets[0].1;
    let rule = &aggressive.threshold.as_ref().unwrap().rules[0];
    assert_eq!(
        (
            rule.signal.as_str(),
            rule.scale_up_above,
            rule.scale_down_below
        ),
        ("cpu", 60.0, Some(20.0))
    );
    let c = aggressive.cooldown.unwrap();
    assert_eq!((c.scale_up_s, c.scale_down_s), (30, 120));
    let c = presets[1].1.cooldown.unwrap();
    assert_eq!((c.scale_up_s, c.scale_down_s), (60, 300));
    // a YAML 1.1 reader keeps the last value of a repeated key: the conservative preset
    assert_eq!(ScalerSpec::from_yaml(&text).unwrap(), presets[1].1);
}

#[test]
fn any_signal_above_scales_up() {
    let spec = ThresholdSpec::default();
    let mut s = calm();
    s.insert("response_time_p95".into(), 6.5);
    let p = threshold_proposal(&spec, 4, &s, Some(true)).unwrap();
    assert_eq!((p.replicas, p.direction), (5, Direction::Up));
    assert_eq!(p.reason, "response_time_p95 6.5 > 5: scale up by 1");
}

#[test]
fn all_signals_below_scale_down() {
    let p = threshold_proposal(&ThresholdSpec::default(), 4, &calm(), None).unwrap();
    assert_eq!((p.replicas, p.direction), (3, Direction::Down));
}

#[test]
fn one_signal_inside_the_band_holds() {
    let mut s = calm();
    s.insert("memory".into(), 50.0); // not strictly below 50
    let p = threshold_proposal(&ThresholdSpec::default(), 4, &s, None).unwrap();
    assert_eq!((p.replicas, p.direction), (4, Direction::Hold));
    assert!(p.reason.contains("memory 50 >= 50"), "{}", p.reason);
}

#[test]
fn missing_signal_blocks_scale_down_but_not_scale_up() {
    let mut s = calm();
    s.remove("memory");
    let p = threshold_proposal(&ThresholdSpec::default(), 4, &s, None).unwrap();
    assert_eq!((p.replicas, p.direction), (4, Direction::Hold));
    assert!(p.reason.contains("missing memory"), "{}", p.reason);
    s.insert("cpu".into(), 95.0);
    let p = threshold_proposal(&ThresholdSpec::default(), 4, &s, None).unwrap();
    assert_eq!(p.replicas, 5);
}

#[test]
fn unhealthy_service_blocks_scale_down() {
    let p = threshold_proposal(&ThresholdSpec::default(), 4, &calm(), Some(false)).unwrap();
    assert_eq!((p.replicas, p.direction), (4, Direction::Hold));
    assert!(p.reason.contains("unhealthy"), "{}", p.reason);
}

#[test]
fn percent_steps_round_up() {
    let spec = ThresholdSpec {
        rules: vec![ThresholdRule {
            signal: "cpu".into(),
            scale_up_above: 70.0,
            scale_down_below: Some(30.0),
        }],
        scale_up_step: ScaleStep {
            kind: StepKind::Percent,
            value: 50,
        },
        scale_down_step: ScaleStep {
            kind: StepKind::Percent,
            value: 25,
        },
    };
    let up = threshold_proposal(&spec, 5, &signals(&[("cpu", 90.0)]), None).unwrap();
    assert_eq!(up.replicas, 8); // 5 + ceil(2.5)
    let down = threshold_proposal(&spec, 5, &signals(&[("cpu", 10.0)]), None).unwrap();
    assert_eq!(down.replicas, 3); // 5 - ceil(1.25)
}

#[test]
fn bad_signals_are_invalid_input() {
    for bad in [f64::NAN, f64::INFINITY, -1.0] {
        let err = threshold_proposal(
            &ThresholdSpec::default(),
            3,
            &signals(&[("cpu", bad)]),
            None,
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().contains("signal cpu"), "{err}");
    }
}

#[test]
fn scaler_applies_cooldowns_from_the_seed_preset() {
    let text = seed_file("threshold-presets.yaml");
    let aggressive = seed_presets(&text).unwrap().remove(0).1; // cpu 60/20, 30 s up, 120 s down
    let scaler = Scaler::new(aggressive).unwrap();
    let mut state = ScalerState::new();
    let input = |now_ms: i64, current: u32, cpu: f64| DecisionInput {
        now_ms,
        current_replicas: current,
        signals: signals(&[("cpu", cpu)]),
        ..DecisionInput::default()
    };
    let d = scaler.decide(&mut state, &input(NOW, 3, 75.0)).unwrap();
    assert_eq!(d.replicas, 4);
    assert_eq!(d.proposals[0].source, SourceKind::Threshold);
    // 10 s later: still hot, but inside the 30 s scale-up cooldown
    let d = scaler
        .decide(&mut state, &input(NOW + 10_000, 4, 75.0))
        .unwrap();
    assert_eq!(d.replicas, 4);
    assert_eq!(d.steps.last().unwrap().stage, Stage::Cooldown);
    let d = scaler
        .decide(&mut state, &input(NOW + 30_000, 4, 75.0))
        .unwrap();
    assert_eq!(d.replicas, 5);
    // cold 60 s after that: the 120 s scale-down cooldown holds
    let d = scaler
        .decide(&mut state, &input(NOW + 90_000, 5, 10.0))
        .unwrap();
    assert_eq!(d.replicas, 5);
    let d = scaler
        .decide(&mut state, &input(NOW + 150_000, 5, 10.0))
        .unwrap();
    assert_eq!(d.replicas, 4);
}

#[test]
fn scaler_clamps_threshold_proposals_to_bounds() {
    let spec = ScalerSpec::from_yaml("min_replicas: 2\nmax_replicas: 3\nthreshold: {}\n").unwrap();
    let scaler = Scaler::new(spec).unwrap();
    let mut hot = calm();
    hot.insert("cpu".into(), 99.0);
    let d = scaler
        .decide(
            &mut ScalerState::new(),
            &DecisionInput {
                now_ms: NOW,
                current_replicas: 3,
                signals: hot,
                ..DecisionInput::default()
            },
        )
        .unwrap();
    assert_eq!(d.replicas, 3);
    assert_eq!(d.steps.last().unwrap().stage, Stage::MinMax);
}

#[test]
fn own_format_round_trips_and_rejects_unknown_fields() {
    let spec = ScalerSpec::from_yaml(
        "max_replicas: 8\nthreshold:\n  rules: [{signal: queue, scale_up_above: 10, scale_down_below: 2}]\n  scale_up_step: {type: replicas, value: 2}\ncooldown: {scale_up_s: 30, scale_down_s: 120}\n",
    )
    .unwrap();
    assert_eq!(ScalerSpec::from_json(&spec.to_json()).unwrap(), spec);
    let err = ScalerSpec::from_yaml("max_replicas: 8\nthreshold: {rulez: []}\n").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.message().contains("rulez"), "{err}");
}

#[test]
fn invalid_threshold_values_name_the_field() {
    let cases = [
        (
            "max_replicas: 8\nthreshold: {rules: [{signal: cpu, scale_up_above: 30, scale_down_below: 70}]}\n",
            "threshold.rules[0].scale_down_below must be in [0, scale_up_above = 30), got 70",
        ),
        (
            "max_replicas: 8\nthreshold: {rules: []}\n",
            "threshold.rules must have at least one rule",
        ),
        (
            "max_replicas: 8\nthreshold: {scale_up_step: {type: replicas, value: 0}}\n",
            "threshold.scale_up_step.value must be in [1, 10000], got 0",
        ),
    ];
    for (text, message) in cases {
        let err = ScalerSpec::from_yaml(text).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        assert_eq!(err.message(), message);
    }
}

#[test]
fn invalid_seed_values_name_the_line() {
    let err = ScalerSpec::from_yaml("cpu_threshold_up: seventy\n").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert_eq!(
        err.message(),
        "line 1: cpu_threshold_up must be a number >= 0, optionally with %, got \"seventy\""
    );
    let err = ScalerSpec::from_yaml("cpu_threshold_up: 70%\nscale_up_cooldown: 5 fortnights\n")
        .unwrap_err();
    assert!(err.message().contains("line 2: scale_up_cooldown"), "{err}");
    let err = ScalerSpec::from_yaml("cpu_threshold_up: 70%\ngpu_temperature: 80\n").unwrap_err();
    assert!(
        err.message()
            .contains("unknown seed threshold setting \"gpu_temperature\""),
        "{err}"
    );
}
