//! Public-API tests of the scaler: decisions with asserted values, explanations, state, and
//! one test per kind of bad input.

use replicast::hpa::{ConditionReason, ConditionType, MetricInput};
use replicast::{DecisionInput, ErrorKind, Scaler, ScalerSpec, ScalerState, SourceKind, Stage};

const NOW: i64 = 1_700_000_000_000;

fn cpu_spec(extra: &str) -> ScalerSpec {
    ScalerSpec::from_yaml(&format!(
        "min_replicas: 2\nmax_replicas: 10\nhpa:\n  metrics:\n    - {{type: resource, resource: cpu, target: {{type: utilization, average_utilization: 50}}}}\n{extra}"
    ))
    .unwrap()
}

fn aggregated(now_ms: i64, current: u32, utilization: f64) -> DecisionInput {
    DecisionInput {
        now_ms,
        current_replicas: current,
        metrics: vec![MetricInput::Aggregated {
            value: utilization,
            ready_replicas: current,
        }],
        ..DecisionInput::default()
    }
}

#[test]
fn scale_up_is_explained() {
    let scaler = Scaler::new(cpu_spec("")).unwrap();
    let mut state = ScalerState::new();
    let d = scaler
        .decide(&mut state, &aggregated(NOW, 3, 90.0))
        .unwrap();
    // ratio 90/50 = 1.8, ceil(1.8 × 3) = 6
    assert_eq!(d.replicas, 6);
    assert!(d.rescale);
    assert_eq!(d.proposals.len(), 1);
    assert_eq!(d.proposals[0].source, SourceKind::Hpa);
    assert_eq!(d.proposals[0].replicas, Some(6));
    assert_eq!(d.steps[0].stage, Stage::Combine);
    assert_eq!((d.steps[0].from, d.steps[0].to), (3, 6));
    let reasons: Vec<_> = d.conditions.iter().map(|c| (c.kind, c.reason)).collect();
    assert_eq!(
        reasons,
        vec![
            (
                ConditionType::AbleToScale,
                ConditionReason::SucceededRescale
            ),
            (
                ConditionType::ScalingActive,
                ConditionReason::ValidMetricFound
            ),
            (
                ConditionType::ScalingLimited,
                ConditionReason::DesiredWithinRange
            ),
        ]
    );
}

#[test]
fn legacy_path_caps_scale_up_and_stabilizes_scale_down() {
    let scaler = Scaler::new(cpu_spec("")).unwrap();
    let mut state = ScalerState::new();
    // 500 % of a 50 % target on 2 pods wants 20; the legacy cap is max(2 × 2, 4) = 4, max is 10
    let d = scaler
        .decide(&mut state, &aggregated(NOW, 2, 500.0))
        .unwrap();
    assert_eq!(d.replicas, 4);
    assert_eq!(d.steps.last().unwrap().stage, Stage::RateLimit);
    // load drops one minute later: the 5-minute window still holds the recommendation of 20 → max 10
    let d = scaler
        .decide(&mut state, &aggregated(NOW + 60_000, 4, 10.0))
        .unwrap();
    assert_eq!(
        d.replicas, 8,
        "stabilized at the window max 20, capped at 2 × 4"
    );
    // six minutes after the last high recommendation the low one wins
    let d = scaler
        .decide(&mut state, &aggregated(NOW + 420_000, 8, 10.0))
        .unwrap();
    assert_eq!(
        d.replicas, 2,
        "ceil(0.2 × 8) = 2 once the window has passed"
    );
}

#[test]
fn tolerance_holds_small_deviations() {
    let scaler = Scaler::new(cpu_spec("")).unwrap();
    let mut state = ScalerState::new();
    let d = scaler
        .decide(&mut state, &aggregated(NOW, 5, 54.0))
        .unwrap();
    assert_eq!(d.replicas, 5);
    assert!(!d.rescale);
    assert_eq!(d.proposals[0].replicas, Some(5));
}

#[test]
fn bounds_clamp_before_metrics() {
    let scaler = Scaler::new(cpu_spec("")).unwrap();
    let mut state = ScalerState::new();
    let d = scaler
        .decide(&mut state, &aggregated(NOW, 15, 50.0))
        .unwrap();
    assert_eq!(d.replicas, 10);
    assert_eq!(d.steps[0].stage, Stage::Bounds);
    assert!(
        d.proposals.is_empty(),
        "no metrics are read outside the bounds"
    );
}

#[test]
fn failed_metric_never_scales_down() {
    let spec = ScalerSpec::from_yaml(
        "max_replicas: 10\nhpa:\n  metrics:\n    - {type: resource, resource: cpu, target: {type: utilization, average_utilization: 50}}\n    - {type: external, name: queue, target: {type: average_value, average_value: 10}}\n",
    )
    .unwrap();
    let scaler = Scaler::new(spec).unwrap();
    let mut state = ScalerState::new();
    let input = DecisionInput {
        now_ms: NOW,
        current_replicas: 6,
        metrics: vec![
            MetricInput::Aggregated {
                value: 10.0,
                ready_replicas: 6,
            },
            MetricInput::Unavailable {
                reason: "prometheus unreachable".to_owned(),
            },
        ],
        ..DecisionInput::default()
    };
    let d = scaler.decide(&mut state, &input).unwrap();
    assert_eq!(d.replicas, 6);
    assert!(!d.rescale);
    assert_eq!(d.errors.len(), 1);
    assert!(
        d.errors[0].contains("prometheus unreachable"),
        "{:?}",
        d.errors
    );
    let active = d
        .conditions
        .iter()
        .find(|c| c.kind == ConditionType::ScalingActive)
        .unwrap();
    assert!(!active.status);
    assert_eq!(active.reason, ConditionReason::FailedGetExternalMetric);
}

#[test]
fn behavior_policies_limit_the_rate() {
    let scaler = Scaler::new(cpu_spec(
        "behavior:\n  scale_up:\n    policies: [{type: pods, value: 2, period_s: 60}]\n",
    ))
    .unwrap();
    let mut state = ScalerState::new();
    let d = scaler
        .decide(&mut state, &aggregated(NOW, 2, 250.0))
        .unwrap();
    assert_eq!(d.replicas, 4, "2 pods per minute from 2");
    let d = scaler
        .decide(&mut state, &aggregated(NOW + 30_000, 4, 250.0))
        .unwrap();
    assert_eq!(d.replicas, 4, "the minute's allowance is spent");
    let d = scaler
        .decide(&mut state, &aggregated(NOW + 61_000, 4, 250.0))
        .unwrap();
    assert_eq!(d.replicas, 6);
}

#[test]
fn state_round_trips_and_is_untouched_on_error() {
    let scaler = Scaler::new(cpu_spec("")).unwrap();
    let mut state = ScalerState::new();
    scaler
        .decide(&mut state, &aggregated(NOW, 3, 90.0))
        .unwrap();
    let restored = ScalerState::from_json(&state.to_json()).unwrap();
    assert_eq!(restored, state);
    let before = state.clone();
    let err = scaler
        .decide(&mut state, &aggregated(NOW + 1000, 3, f64::NAN))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(state, before);
}

#[test]
fn batch_decides_each_workload() {
    let scaler = Scaler::new(cpu_spec("")).unwrap();
    let mut states = vec![ScalerState::new(); 3];
    let inputs = vec![
        aggregated(NOW, 3, 90.0),
        aggregated(NOW, 3, f64::INFINITY),
        aggregated(NOW, 4, 50.0),
    ];
    let results = scaler.decide_batch(&mut states, &inputs).unwrap();
    assert_eq!(results[0].as_ref().unwrap().replicas, 6);
    assert_eq!(
        results[1].as_ref().unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(results[2].as_ref().unwrap().replicas, 4);
    assert_eq!(states[1], ScalerState::new());
    let err = scaler.decide_batch(&mut states, &inputs[..2]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

// ---- bad input: one test each ----

#[test]
fn nan_metric_is_rejected() {
    let scaler = Scaler::new(cpu_spec("")).unwrap();
    let err = scaler
        .decide(&mut ScalerState::new(), &aggregated(NOW, 3, f64::NAN))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("metrics[0]"), "{err}");
    assert!(err.message().contains("NaN"), "{err}");
}

#[test]
fn infinite_metric_is_rejected() {
    let scaler = Scaler::new(cpu_spec("")).unwrap();
    let err = scaler
        .decide(&mut ScalerState::new(), &aggregated(NOW, 3, f64::INFINITY))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("inf"), "{err}");
}

#[test]
fn negative_metric_is_rejected() {
    let scaler = Scaler::new(cpu_spec("")).unwrap();
    let err = scaler
        .decide(&mut ScalerState::new(), &aggregated(NOW, 3, -5.0))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("-5"), "{err}");
    let input = DecisionInput {
        now_ms: NOW,
        current_replicas: 3,
        metrics: vec![MetricInput::Object { value_milli: -1 }],
        ..DecisionInput::default()
    };
    let spec = ScalerSpec::from_yaml(
        "max_replicas: 5\nhpa: {metrics: [{type: object, name: q, target: {type: value, value: 3}}]}\n",
    )
    .unwrap();
    let err = Scaler::new(spec)
        .unwrap()
        .decide(&mut ScalerState::new(), &input)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn out_of_order_timestamps_are_rejected() {
    let scaler = Scaler::new(cpu_spec("")).unwrap();
    let mut state = ScalerState::new();
    scaler
        .decide(&mut state, &aggregated(NOW, 3, 50.0))
        .unwrap();
    let err = scaler
        .decide(&mut state, &aggregated(NOW - 1, 3, 50.0))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("out of order"), "{err}");
}

#[test]
fn wrong_number_of_metric_inputs_is_rejected() {
    let scaler = Scaler::new(cpu_spec("")).unwrap();
    let input = DecisionInput {
        now_ms: NOW,
        current_replicas: 3,
        ..DecisionInput::default()
    };
    let err = scaler.decide(&mut ScalerState::new(), &input).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("one input per hpa metric"), "{err}");
}

#[test]
fn min_above_max_is_rejected() {
    let err = ScalerSpec::from_yaml("min_replicas: 5\nmax_replicas: 2\nhpa: {}\n").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.message().contains("min_replicas"), "{err}");
    assert!(err.message().contains("got 5"), "{err}");
}

#[test]
fn zero_target_is_rejected() {
    let err = ScalerSpec::from_yaml(
        "max_replicas: 5\nhpa: {metrics: [{type: resource, resource: cpu, target: {type: utilization, average_utilization: 0}}]}\n",
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(
        err.message()
            .contains("hpa.metrics[0].target.average_utilization must be > 0"),
        "{err}"
    );
    let err = ScalerSpec::from_yaml(
        "max_replicas: 5\nhpa: {metrics: [{type: pods, name: rps, target: {type: average_value, average_value: 0}}]}\n",
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.message().contains("average_value must be > 0"), "{err}");
}

#[test]
fn unknown_metric_type_is_rejected() {
    let err = ScalerSpec::from_yaml(
        "max_replicas: 5\nhpa: {metrics: [{type: cheddar_cheese, name: x}]}\n",
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.message().contains("cheddar_cheese"), "{err}");
    let manifest = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nspec:\n  maxReplicas: 3\n  metrics:\n  - type: CheddarCheese\n";
    let err = ScalerSpec::from_yaml(manifest).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.message().contains("spec.metrics[0].type"), "{err}");
    assert!(err.message().contains("CheddarCheese"), "{err}");
}

#[test]
fn unknown_field_is_rejected() {
    let err =
        ScalerSpec::from_json(r#"{"max_replicas": 3, "hpa": {}, "max_replica": 4}"#).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.message().contains("max_replica"), "{err}");
}

#[test]
fn malformed_yaml_and_json_are_rejected() {
    let err = ScalerSpec::from_yaml("max_replicas: [1, 2\n").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.message().contains("malformed YAML"), "{err}");
    let err = ScalerSpec::from_json("{\"max_replicas\": ").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.message().contains("malformed JSON"), "{err}");
}

#[test]
fn invalid_behavior_values_name_field_and_range() {
    let err = ScalerSpec::from_yaml(&format!(
        "max_replicas: 5\nhpa: {{}}\nbehavior:\n  scale_down: {{stabilization_window_s: 4000}}\n{}",
        ""
    ))
    .unwrap_err();
    assert_eq!(
        err.message(),
        "behavior.scale_down.stabilization_window_s must be in [0, 3600], got 4000"
    );
    let err = ScalerSpec::from_yaml(
        "max_replicas: 5\nhpa: {}\nbehavior:\n  scale_up: {policies: [{type: percent, value: 10, period_s: 0}]}\n",
    )
    .unwrap_err();
    assert_eq!(
        err.message(),
        "behavior.scale_up.policies[0].period_s must be in [1, 1800], got 0"
    );
}

#[test]
fn seed_hpa_manifest_loads_with_defaults() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/seed/hpa.yaml"
    ))
    .unwrap();
    let spec = ScalerSpec::from_yaml(&text).unwrap();
    assert_eq!((spec.min_replicas, spec.max_replicas), (2, 20));
    let metrics = &spec.hpa.as_ref().unwrap().metrics;
    assert_eq!(metrics.len(), 2);
    assert_eq!(metrics[1].kind_name(), "Object");
    assert_eq!(
        metrics[1].target().unwrap().average_value.unwrap().milli(),
        20_000
    );
    assert!(spec.behavior.is_none(), "no behavior: the legacy path");
    assert_eq!(spec.controller.tolerance, 0.1);
}

#[test]
fn manifest_behavior_is_defaulted_like_kubernetes() {
    let manifest = r"
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: x, namespace: y}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: x}
  maxReplicas: 30
  behavior:
    scaleDown:
      policies: [{type: Pods, value: 1, periodSeconds: 60}]
      tolerance: 50m
status: {currentReplicas: 3, desiredReplicas: 3}
";
    let spec = ScalerSpec::from_yaml(manifest).unwrap();
    assert_eq!(spec.min_replicas, 1);
    let b = spec.behavior.unwrap().defaulted();
    assert_eq!(b.scale_up.stabilization_window_s, Some(0));
    assert_eq!(b.scale_up.policies.len(), 2);
    assert_eq!(b.scale_down.policies.len(), 1);
    assert_eq!(b.scale_down.policies[0].value, 1);
    assert_eq!(b.scale_down.stabilization_window_s, None);
    assert_eq!(b.scale_down.tolerance, Some(0.05));
}

#[test]
fn scaler_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Scaler>();
    assert_send_sync::<ScalerState>();
    assert_send_sync::<replicast::Decision>();
    assert_send_sync::<replicast::Error>();
}
