//! KEDA's documented behaviours through the public API: activation (0 <-> 1 apart from
//! 1 <-> N), cooldown to zero, the initial cooldown, idle replicas, fallback after repeated
//! failures (each behaviour), formulas (scaling modifiers), and ScaledObject manifests.
//! Expected values come from `specs/keda.md` and the upstream tests it cites.

use replicast::hpa::MetricInput;
use replicast::keda::{FallbackBehavior, TriggerMetricType};
use replicast::{
    Decision, DecisionInput, ErrorKind, Scaler, ScalerSpec, ScalerState, SourceKind, Stage,
};

const T0: i64 = 1_700_000_000_000;

fn scaler(yaml: &str) -> Scaler {
    Scaler::new(ScalerSpec::from_yaml(yaml).unwrap()).unwrap()
}

fn value(v: f64, ready: u32) -> MetricInput {
    MetricInput::Aggregated {
        value: v,
        ready_replicas: ready,
    }
}

fn failed() -> MetricInput {
    MetricInput::Unavailable {
        reason: "connection refused".to_owned(),
    }
}

fn input(at_s: i64, current: u32, metrics: Vec<MetricInput>) -> DecisionInput {
    DecisionInput {
        now_ms: T0 + at_s * 1000,
        current_replicas: current,
        ready_replicas: Some(current),
        metrics,
        ..DecisionInput::default()
    }
}

fn decide(
    s: &Scaler,
    state: &mut ScalerState,
    at_s: i64,
    current: u32,
    m: Vec<MetricInput>,
) -> Decision {
    s.decide(state, &input(at_s, current, m)).unwrap()
}

const QUEUE: &str = r"
min_replicas: 0
max_replicas: 30
keda:
  cooldown_period_s: 300
  triggers:
    - {type: rabbitmq, name: queue, target: 10, activation_target: 5}
";

#[test]
fn activation_is_strictly_above_its_threshold_and_separate_from_scaling() {
    let s = scaler(QUEUE);
    let mut state = ScalerState::new();
    // 5 is not above the activation threshold of 5: the target stays at zero
    let d = decide(&s, &mut state, 0, 0, vec![value(5.0, 0)]);
    assert_eq!(d.replicas, 0);
    let k = d.keda.as_ref().unwrap();
    assert!(!k.active && !k.error);
    assert_eq!(k.triggers[0].value, Some(5.0));
    // 5.5 activates: 0 -> 1 (min is 0, so max(min, 1)); the HPA decides 1 -> N afterwards
    let d = decide(&s, &mut state, 30, 0, vec![value(5.5, 0)]);
    assert_eq!(d.replicas, 1);
    let step = d
        .steps
        .iter()
        .find(|s| s.stage == Stage::Activation)
        .unwrap();
    assert_eq!((step.from, step.to), (0, 1));
    // at one replica, 95 messages against 10 per replica: ceil(95 / 10) = 10, capped by the
    // legacy scale-up limit max(2 x 1, 4) = 4 (KEDA passes no behavior; the activation 0 -> 1
    // was KEDA's, not an HPA scale event)
    let d = decide(&s, &mut state, 60, 1, vec![value(95.0, 1)]);
    assert_eq!(d.replicas, 4);
    assert_eq!(d.proposals[0].source, SourceKind::Keda);
    assert_eq!(d.proposals[0].replicas, Some(10));
    let d = decide(&s, &mut state, 90, 4, vec![value(95.0, 4)]);
    assert_eq!(d.replicas, 8);
}

#[test]
fn cooldown_to_zero_counts_from_the_last_active_decision() {
    let s = scaler(QUEUE);
    let mut state = ScalerState::new();
    let d = decide(&s, &mut state, 0, 2, vec![value(12.0, 2)]);
    assert!(d.keda.as_ref().unwrap().active);
    assert_eq!(d.replicas, 2);
    // inactive from t = 30 s: the HPA holds its min of one (legacy 5-minute stabilization
    // keeps 2), KEDA waits for last_active + 300 s < now
    let d = decide(&s, &mut state, 30, 2, vec![value(0.0, 2)]);
    assert_eq!(d.replicas, 2);
    let d = decide(&s, &mut state, 300, 2, vec![value(0.0, 2)]);
    assert_eq!(
        d.replicas, 2,
        "exactly 300 s after the last activity is not yet past it"
    );
    let d = decide(&s, &mut state, 301, 2, vec![value(0.0, 2)]);
    assert_eq!(d.replicas, 0);
    let step = d
        .steps
        .iter()
        .find(|s| s.stage == Stage::Activation)
        .unwrap();
    assert!(
        step.reason.contains("cooldown_period_s (300s)"),
        "{}",
        step.reason
    );
    // at zero and inactive nothing moves
    let d = decide(&s, &mut state, 400, 0, vec![value(1.0, 0)]);
    assert_eq!(d.replicas, 0);
    assert!(!d.rescale);
}

#[test]
fn a_never_active_target_waits_for_the_initial_cooldown() {
    let s = scaler(
        r"
min_replicas: 0
max_replicas: 10
keda:
  initial_cooldown_period_s: 120
  triggers: [{type: kafka, target: 10}]
",
    );
    let mut state = ScalerState::new();
    assert_eq!(
        decide(&s, &mut state, 0, 3, vec![value(0.0, 3)]).replicas,
        3
    );
    assert_eq!(
        decide(&s, &mut state, 120, 3, vec![value(0.0, 3)]).replicas,
        3
    );
    assert_eq!(
        decide(&s, &mut state, 121, 3, vec![value(0.0, 3)]).replicas,
        0
    );
}

#[test]
fn idle_replicas_stand_in_for_zero_and_activation_returns_to_min() {
    let s = scaler(
        r"
min_replicas: 3
max_replicas: 10
keda:
  cooldown_period_s: 60
  idle_replica_count: 0
  triggers: [{type: aws-sqs-queue, target: 5}]
",
    );
    let mut state = ScalerState::new();
    assert!(
        decide(&s, &mut state, 0, 3, vec![value(4.0, 3)])
            .keda
            .unwrap()
            .active
    );
    // inactive past the cooldown: to the idle count, below min_replicas
    assert_eq!(
        decide(&s, &mut state, 61, 3, vec![value(0.0, 3)]).replicas,
        0
    );
    assert_eq!(
        decide(&s, &mut state, 75, 0, vec![value(0.0, 0)]).replicas,
        0
    );
    // from idle, activity goes back to min_replicas (not to one)
    let d = decide(&s, &mut state, 90, 0, vec![value(2.0, 0)]);
    assert_eq!(d.replicas, 3);
    let step = d
        .steps
        .iter()
        .find(|s| s.stage == Stage::Activation)
        .unwrap();
    assert_eq!((step.from, step.to), (0, 3));
}

const FALLBACK: &str = r"
min_replicas: 1
max_replicas: 50
behavior:
  scale_up: {policies: [{type: pods, value: 100, period_s: 15}]}
  scale_down: {stabilization_window_s: 0, policies: [{type: percent, value: 100, period_s: 15}]}
keda:
  triggers: [{type: prometheus, name: q, target: 10}]
  fallback: {failure_threshold: 3, replicas: 10, behavior: BEHAVIOR}
";

fn fallback_scaler(behavior: &str) -> Scaler {
    scaler(&FALLBACK.replace("BEHAVIOR", behavior))
}

#[test]
fn fallback_engages_on_the_failure_after_the_threshold() {
    let s = fallback_scaler("static");
    let mut state = ScalerState::new();
    // three failures: errors, the HPA holds (a failed metric never lets the target shrink)
    for (i, at) in [0, 15, 30].into_iter().enumerate() {
        let d = decide(&s, &mut state, at, 15, vec![failed()]);
        assert_eq!(d.replicas, 15, "failure {}", i + 1);
        let k = d.keda.unwrap();
        assert!(k.error && !k.fallback);
        assert_eq!(k.triggers[0].failures, i as u32 + 1);
    }
    // the fourth: static fallback serves 10 x 10 = 100, the HPA computes 10 even from 15
    let d = decide(&s, &mut state, 45, 15, vec![failed()]);
    assert_eq!(d.replicas, 10);
    let k = d.keda.as_ref().unwrap();
    assert!(k.fallback && k.active && !k.error);
    assert!(
        k.notes[0].contains("fallback to 10 replicas (static)"),
        "{:?}",
        k.notes
    );
    // one success resets the count
    let d = decide(&s, &mut state, 60, 10, vec![value(30.0, 10)]);
    assert_eq!(d.keda.unwrap().triggers[0].failures, 0);
    assert_eq!(d.replicas, 3);
}

#[test]
fn each_fallback_behavior_serves_its_replica_count() {
    for (behavior, current, expected) in [
        ("static", 6, 10),
        ("currentReplicas", 6, 6),
        ("currentReplicasIfHigher", 4, 10),
        ("currentReplicasIfHigher", 14, 14),
        ("currentReplicasIfLower", 4, 4),
        ("currentReplicasIfLower", 14, 10),
    ] {
        let s = fallback_scaler(behavior);
        let mut state = ScalerState::new();
        let mut last = None;
        for at in 0..4 {
            last = Some(decide(&s, &mut state, at * 15, current, vec![failed()]));
        }
        let d = last.unwrap();
        assert_eq!(d.replicas, expected, "{behavior} from {current}");
    }
}

#[test]
fn fallback_behaviors_load_from_kedas_camel_case_names_too() {
    let spec =
        ScalerSpec::from_yaml(&FALLBACK.replace("BEHAVIOR", "currentReplicasIfHigher")).unwrap();
    assert_eq!(
        spec.keda.unwrap().fallback.unwrap().behavior,
        FallbackBehavior::CurrentReplicasIfHigher
    );
}

#[test]
fn a_formula_composes_named_triggers_into_one_metric() {
    // upstream formula test: trigger1 = 2, trigger2 = 5, `trigger1 + trigger2` = 7
    let s = scaler(
        r#"
min_replicas: 1
max_replicas: 20
keda:
  triggers:
    - {type: prometheus, name: trigger1, target: 1}
    - {type: prometheus, name: trigger2, target: 1}
  scaling_modifiers: {formula: "trigger1 + trigger2", target: 2, activation_target: 6}
"#,
    );
    let mut state = ScalerState::new();
    let d = decide(&s, &mut state, 0, 2, vec![value(2.0, 2), value(5.0, 2)]);
    let k = d.keda.as_ref().unwrap();
    assert_eq!(k.composite_value, Some(7.0));
    assert!(k.active, "7 > activation target 6");
    assert_eq!(d.proposals.len(), 1);
    assert_eq!(d.proposals[0].name, "external metric composite-metric");
    assert_eq!(d.proposals[0].replicas, Some(4)); // ceil(7 / 2)
    assert_eq!(d.replicas, 4);
    // the composite, not any trigger, decides activity
    let d = decide(&s, &mut state, 15, 4, vec![value(1.0, 4), value(5.0, 4)]);
    assert!(!d.keda.unwrap().active, "6 is not above 6");
}

#[test]
fn coalescing_serves_the_backup_then_the_fallback_target() {
    // upstream: target 2, fallback replicas 7, both failing > 3 times, `trigger1 ?? trigger2`
    // -> 14 (= 7 x 2) -> 7 replicas
    let s = scaler(
        r#"
min_replicas: 1
max_replicas: 20
behavior:
  scale_down: {stabilization_window_s: 0}
keda:
  triggers:
    - {type: prometheus, name: trigger1, target: 1}
    - {type: prometheus, name: trigger2, target: 1}
  fallback: {failure_threshold: 3, replicas: 7, behavior: scaling_modifiers}
  scaling_modifiers: {formula: "trigger1 ?? trigger2", target: 2}
"#,
    );
    let mut state = ScalerState::new();
    for at in 0..3 {
        let d = decide(&s, &mut state, at * 15, 3, vec![failed(), value(8.0, 3)]);
        assert!(
            d.keda.unwrap().error,
            "failures up to the threshold are errors"
        );
    }
    let d = decide(&s, &mut state, 45, 3, vec![failed(), value(8.0, 3)]);
    assert_eq!(d.keda.as_ref().unwrap().composite_value, Some(8.0));
    assert_eq!(d.replicas, 4, "the backup trigger: ceil(8 / 2)");
    for at in 4..7 {
        decide(&s, &mut state, at * 15, 4, vec![failed(), failed()]);
    }
    let d = decide(&s, &mut state, 105, 4, vec![failed(), failed()]);
    assert_eq!(d.keda.as_ref().unwrap().composite_value, Some(14.0));
    assert_eq!(d.replicas, 7);
}

#[test]
fn a_formula_that_divides_by_zero_holds_and_names_it() {
    let s = scaler(
        r#"
min_replicas: 1
max_replicas: 20
keda:
  triggers:
    - {type: prometheus, name: requests, target: 1}
    - {type: prometheus, name: workers, target: 1}
  scaling_modifiers: {formula: "requests / workers", target: 10}
"#,
    );
    let mut state = ScalerState::new();
    let d = decide(&s, &mut state, 0, 5, vec![value(40.0, 5), value(0.0, 5)]);
    assert_eq!(
        d.replicas, 5,
        "a failed metric never lets the target shrink"
    );
    assert!(d.keda.as_ref().unwrap().error);
    assert!(
        d.errors[0].contains("divided by zero with requests = 40, workers = 0"),
        "{:?}",
        d.errors
    );
}

#[test]
fn bad_formulas_and_triggers_are_config_errors_naming_the_problem() {
    let base = r#"
min_replicas: 1
max_replicas: 20
keda:
  triggers:
    - {type: prometheus, name: queue, target: 1}
  scaling_modifiers: {formula: "FORMULA", target: 10}
"#;
    let err = |formula: &str| {
        ScalerSpec::from_yaml(&base.replace("FORMULA", formula))
            .unwrap_err()
            .to_string()
    };
    let e = err("queue + latency");
    assert!(
        e.contains("not a trigger name") && e.contains("latency"),
        "{e}"
    );
    assert!(err("queue *").contains("not a valid expression"));
    assert!(err("queue > 2").contains("must evaluate to a number"));
    let e = ScalerSpec::from_yaml(
        r"
min_replicas: 0
max_replicas: 5
keda: {triggers: [{type: cpu, metric_type: utilization, target: 60}]}
",
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    assert!(
        e.to_string().contains("cannot activate a target from zero"),
        "{e}"
    );
    let e = ScalerSpec::from_yaml(
        r"
min_replicas: 2
max_replicas: 5
keda: {idle_replica_count: 2, triggers: [{type: kafka, target: 10}]}
",
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("idle_replica_count must be < min_replicas (2)"),
        "{e}"
    );
}

#[test]
fn the_wrong_number_or_kind_of_observations_is_an_input_error() {
    let s = scaler(QUEUE);
    let mut state = ScalerState::new();
    let e = s.decide(&mut state, &input(0, 1, vec![])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(
        e.to_string()
            .contains("one input per keda trigger (1), got 0"),
        "{e}"
    );
    let e = s
        .decide(
            &mut state,
            &input(0, 1, vec![MetricInput::Object { value_milli: 3 }]),
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("must be aggregated, external or unavailable"),
        "{e}"
    );
    assert_eq!(
        state,
        ScalerState::new(),
        "a refused decision leaves the state alone"
    );
}

#[test]
fn state_round_trips_with_failures_and_activity() {
    let s = fallback_scaler("static");
    let mut state = ScalerState::new();
    decide(&s, &mut state, 0, 4, vec![value(30.0, 4)]);
    decide(&s, &mut state, 15, 4, vec![failed()]);
    let restored = ScalerState::from_json(&state.to_json()).unwrap();
    assert_eq!(restored, state);
    let mut a = state.clone();
    let mut b = restored;
    for at in 2..8 {
        let x = decide(&s, &mut a, at * 15, 4, vec![failed()]);
        let y = decide(&s, &mut b, at * 15, 4, vec![failed()]);
        assert_eq!(x, y);
    }
}

fn example(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../examples/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn a_scaled_object_manifest_loads_as_written() {
    let spec = ScalerSpec::from_yaml(&example("specs/keda-scaledobject.yaml")).unwrap();
    assert_eq!((spec.min_replicas, spec.max_replicas), (0, 40));
    let keda = spec.keda.as_ref().unwrap();
    assert_eq!((keda.polling_interval_s, keda.cooldown_period_s), (15, 120));
    assert_eq!(keda.initial_cooldown_period_s, 0);
    let fb = keda.fallback.unwrap();
    assert_eq!(
        (fb.failure_threshold, fb.replicas, fb.behavior),
        (3, 6, FallbackBehavior::Static)
    );
    let t = &keda.triggers;
    assert_eq!(
        (t[0].kind.as_str(), t[0].name.as_deref()),
        ("prometheus", Some("queue"))
    );
    assert_eq!(
        (t[0].target, t[0].activation_target, t[0].metric_type),
        (20.0, 5.0, TriggerMetricType::AverageValue)
    );
    assert_eq!(
        (t[1].target, t[1].activation_target, t[1].metric_type),
        (0.5, 0.2, TriggerMetricType::Value)
    );
    let behavior = spec.behavior.as_ref().unwrap();
    assert_eq!(behavior.scale_down.stabilization_window_s, Some(120));
    // the observation beside it: queue 130 / 20 -> 7, latency 0.42 / 0.5 x 2 -> 2; the
    // default scale-up policies allow max(+100 %, +4 pods) from 2 -> 6
    let s = Scaler::new(spec).unwrap();
    let observation: DecisionInput =
        serde_json::from_str(&example("inputs/keda-observation.json")).unwrap();
    let d = s.decide(&mut ScalerState::new(), &observation).unwrap();
    let proposed: Vec<Option<u32>> = d.proposals.iter().map(|p| p.replicas).collect();
    assert_eq!(proposed, [Some(7), Some(2)]);
    assert_eq!(d.replicas, 6);
    assert!(d.steps.iter().any(|s| s.stage == Stage::RateLimit));
}

#[test]
fn scaled_object_defaults_and_scaler_specific_keys() {
    let spec = ScalerSpec::from_yaml(
        r"
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: w}
spec:
  scaleTargetRef: {name: w}
  triggers:
    - type: kafka
      metadata: {bootstrapServers: 'k:9092', consumerGroup: g, topic: t, activationLagThreshold: '3'}
    - type: aws-sqs-queue
      metadata: {queueURL: 'https://sqs/q', queueLength: '8'}
    - type: cpu
      metricType: Utilization
      metadata: {value: '60'}
",
    )
    .unwrap();
    assert_eq!((spec.min_replicas, spec.max_replicas), (0, 100));
    let keda = spec.keda.unwrap();
    assert_eq!((keda.polling_interval_s, keda.cooldown_period_s), (30, 300));
    let t = &keda.triggers;
    assert_eq!(
        (t[0].target, t[0].activation_target),
        (10.0, 3.0),
        "kafka's lagThreshold defaults to 10"
    );
    assert_eq!((t[1].target, t[1].activation_target), (8.0, 0.0));
    assert_eq!(
        (t[2].target, t[2].metric_type),
        (60.0, TriggerMetricType::Utilization)
    );
    assert!(spec.behavior.is_none());
}

#[test]
fn an_unknown_trigger_type_or_a_missing_threshold_is_named() {
    let manifest = |trigger: &str| {
        format!(
            "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {{name: w}}\nspec:\n  triggers:\n    - {trigger}\n"
        )
    };
    let e = ScalerSpec::from_yaml(&manifest(
        "{type: carrier-pigeon, metadata: {threshold: '1'}}",
    ))
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    assert!(
        e.to_string()
            .contains(r#"spec.triggers[0].type "carrier-pigeon" is not a KEDA trigger type"#),
        "{e}"
    );
    assert!(
        e.to_string().contains("prometheus"),
        "the message lists the known types: {e}"
    );
    let e =
        ScalerSpec::from_yaml(&manifest("{type: prometheus, metadata: {query: up}}")).unwrap_err();
    assert!(
        e.to_string()
            .contains("spec.triggers[0].metadata.threshold must be set for a prometheus trigger"),
        "{e}"
    );
    let e = ScalerSpec::from_yaml(&manifest("{type: prometheus, metadata: {threshold: lots}}"))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("spec.triggers[0].metadata.threshold must be a number"),
        "{e}"
    );
    let e = ScalerSpec::from_yaml(&manifest("{type: cron, metadata: {start: '0 8 * * *'}}"))
        .unwrap_err();
    assert!(e.to_string().contains("scheduled floors"), "{e}");
}

#[test]
fn keda_spec_json_round_trips() {
    let spec = ScalerSpec::from_yaml(&example("specs/keda-scaledobject.yaml")).unwrap();
    let back = ScalerSpec::from_json(&spec.to_json()).unwrap();
    assert_eq!(back, spec);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    const SPEC: &str = r"
min_replicas: MIN
max_replicas: 25
keda:
  cooldown_period_s: 60
  triggers:
    - {type: prometheus, name: a, target: 10, activation_target: 2}
    - {type: kafka, name: b, target: 4}
  fallback: {failure_threshold: 2, replicas: 6, behavior: BEHAVIOR}
  FORMULA
";

    fn keda_scaler(min: u32, behavior: &str, formula: bool) -> Scaler {
        let formula = if formula {
            r#"scaling_modifiers: {formula: "(a ?? 0) + (b ?? 0) / 2", target: 5}"#
        } else {
            ""
        };
        let behavior = if formula.is_empty() && behavior == "scaling_modifiers" {
            "static"
        } else {
            behavior
        };
        scaler(
            &SPEC
                .replace("MIN", &min.to_string())
                .replace("BEHAVIOR", behavior)
                .replace("FORMULA", formula),
        )
    }

    /// (seconds since the previous decision, trigger a, trigger b); `None` = the scaler failed.
    fn observations() -> impl Strategy<Value = Vec<(u16, Option<f64>, Option<f64>)>> {
        let v = prop::option::weighted(0.8, 0.0f64..400.0);
        prop::collection::vec((0u16..200, v.clone(), v), 1..40)
    }

    fn replay(
        s: &Scaler,
        state: &mut ScalerState,
        obs: &[(u16, Option<f64>, Option<f64>)],
    ) -> Vec<Decision> {
        let mut at = 0;
        let mut current = 0;
        obs.iter()
            .map(|&(dt, a, b)| {
                at += i64::from(dt);
                let m = |v: Option<f64>| v.map_or_else(failed, |x| value(x, current));
                let d = decide(s, state, at, current, vec![m(a), m(b)]);
                current = d.replicas;
                d
            })
            .collect()
    }

    fn behaviors() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "static",
            "current_replicas",
            "current_replicas_if_higher",
            "current_replicas_if_lower",
            "scaling_modifiers",
        ])
    }

    proptest! {
        #[test]
        fn replicas_stay_within_bounds_and_activation_owns_zero(
            min in 0u32..4, behavior in behaviors(), formula: bool, obs in observations()
        ) {
            let s = keda_scaler(min, behavior, formula);
            let mut state = ScalerState::new();
            for d in replay(&s, &mut state, &obs) {
                prop_assert!(d.replicas <= 25);
                let k = d.keda.as_ref().unwrap();
                if d.replicas < min.max(1) {
                    // only KEDA's scale loop goes below the HPA's minimum, and only to zero
                    prop_assert_eq!(d.replicas, 0);
                    prop_assert!(!k.active);
                }
                if d.current_replicas == 0 && k.active {
                    prop_assert!(d.replicas >= min.max(1));
                }
                prop_assert!(k.composite_value.is_none_or(f64::is_finite));
            }
        }

        #[test]
        fn decisions_are_deterministic_and_survive_a_snapshot(
            behavior in behaviors(), formula: bool, obs in observations(), cut in 0usize..40
        ) {
            let s = keda_scaler(0, behavior, formula);
            let mut straight = ScalerState::new();
            let all = replay(&s, &mut straight, &obs);
            let cut = cut.min(obs.len());
            let mut first = ScalerState::new();
            let head = replay(&s, &mut first, &obs[..cut]);
            let mut restored = ScalerState::from_json(&first.to_json()).unwrap();
            prop_assert_eq!(&restored, &first);
            // continue from where the first half stopped
            let mut at: i64 = obs[..cut].iter().map(|o| i64::from(o.0)).sum();
            let mut current = head.last().map_or(0, |d| d.replicas);
            for (i, &(dt, a, b)) in obs[cut..].iter().enumerate() {
                at += i64::from(dt);
                let m = |v: Option<f64>| v.map_or_else(failed, |x| value(x, current));
                let d = decide(&s, &mut restored, at, current, vec![m(a), m(b)]);
                prop_assert_eq!(&d, &all[cut + i]);
                current = d.replicas;
            }
            prop_assert_eq!(restored, straight);
        }
    }
}
