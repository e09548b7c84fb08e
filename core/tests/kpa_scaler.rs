//! Knative's KPA as a source of the `Scaler`: the decider's proposal, panic mode, the
//! reconciler's bounds and scale to zero, through `Scaler::decide` (the KPA module's own
//! conformance and properties are in conformance_kpa.rs and kpa_properties.rs).

use proptest::prelude::*;
use replicast::kpa::{KpaObservation, KpaSample};
use replicast::{
    Decision, DecisionInput, ErrorKind, Scaler, ScalerSpec, ScalerState, SourceKind, Stage,
};

const T0: i64 = 1_700_000_000_000;

fn scaler(yaml: &str) -> Scaler {
    Scaler::new(ScalerSpec::from_yaml(yaml).unwrap()).unwrap()
}

/// One 2-second tick at `t_s` with one sample per second of `total` in-flight requests.
fn tick(t_s: i64, current: u32, ready: u32, total: f64) -> DecisionInput {
    let now_ms = T0 + t_s * 1000;
    DecisionInput {
        now_ms,
        current_replicas: current,
        ready_replicas: Some(ready),
        kpa: Some(KpaObservation {
            samples: vec![
                KpaSample {
                    time_ms: now_ms - 1000,
                    value: total,
                },
                KpaSample {
                    time_ms: now_ms,
                    value: total,
                },
            ],
            ..KpaObservation::default()
        }),
        ..DecisionInput::default()
    }
}

/// Runs ticks every 2 s from `from_s` to `to_s`, replicas becoming ready at once.
fn run(
    s: &Scaler,
    state: &mut ScalerState,
    from_s: i64,
    to_s: i64,
    mut current: u32,
    load: impl Fn(i64) -> f64,
) -> Vec<(i64, Decision)> {
    let mut out = Vec::new();
    let mut t = from_s;
    while t <= to_s {
        let d = s
            .decide(state, &tick(t, current, current, load(t)))
            .unwrap();
        current = d.replicas;
        out.push((t, d));
        t += 2;
    }
    out
}

const DEFAULTS: &str = "min_replicas: 0\nmax_replicas: 50\nkpa: {}\n";

#[test]
fn the_decider_proposes_ceil_of_the_total_over_the_target_and_panics() {
    let s = scaler(DEFAULTS);
    let mut state = ScalerState::new();
    // 140 in flight against 70 per pod on one pod: 2 pods, and 2 >= 2 x 1 ready: panic
    let d = s.decide(&mut state, &tick(2, 1, 1, 140.0)).unwrap();
    assert_eq!(d.replicas, 2);
    assert_eq!(d.proposals[0].source, SourceKind::Kpa);
    assert_eq!(d.proposals[0].name, "knative kpa (concurrency)");
    assert_eq!(d.proposals[0].replicas, Some(2));
    assert!(
        d.proposals[0]
            .reason
            .contains("stable 140 / panic 140 against 70 per pod"),
        "{}",
        d.proposals[0].reason
    );
    let kpa = d.kpa.as_ref().unwrap();
    assert!(kpa.scale.panicking);
    // excess burst capacity: floor(1 x 100 - 211 - 140) = -251
    assert_eq!(kpa.scale.excess_burst_capacity, Some(-251));
    assert_eq!(kpa.reconcile.as_ref().unwrap().want, 2);
}

#[test]
fn panic_mode_holds_the_peak_until_a_stable_window_passes() {
    let s = scaler(DEFAULTS);
    let mut state = ScalerState::new();
    // a burst of 700 in flight for 10 s, then 70: panic ratchets to 10 pods and holds them
    let ticks = run(&s, &mut state, 2, 120, 1, |t| {
        if t <= 10 { 700.0 } else { 70.0 }
    });
    let peak = ticks.iter().map(|(_, d)| d.replicas).max().unwrap();
    assert_eq!(peak, 10);
    let last_panic = ticks
        .iter()
        .filter(|(_, d)| d.kpa.as_ref().unwrap().scale.panicking)
        .map(|(t, _)| *t)
        .max()
        .unwrap();
    for (t, d) in &ticks {
        if *t <= last_panic && *t > 10 {
            assert_eq!(d.replicas, 10, "no scale-down while panicking (t = {t} s)");
        }
    }
    // panic ends a stable window (60 s) after the last over-threshold tick; then the stable
    // average decides, rate-limited to halving per tick (max_scale_down_rate 2)
    assert!(last_panic < 80, "panic ended at {last_panic} s");
    let (_, end) = ticks.last().unwrap();
    assert!(
        end.replicas < 10,
        "scaled down after the panic: {}",
        end.replicas
    );
    assert!(
        ticks
            .iter()
            .any(|(_, d)| d.steps.iter().any(|s| s.stage == Stage::Panic))
    );
}

#[test]
fn idle_traffic_scales_to_zero_after_the_stable_window_and_the_grace_period() {
    let s = scaler(DEFAULTS);
    let mut state = ScalerState::new();
    let busy = run(&s, &mut state, 2, 30, 1, |_| 35.0);
    assert_eq!(busy.last().unwrap().1.replicas, 1);
    let idle = run(&s, &mut state, 32, 200, 1, |_| 0.0);
    let zero_at = idle
        .iter()
        .find(|(_, d)| d.replicas == 0)
        .map(|(t, _)| *t)
        .unwrap();
    // the stable average of a window of zeros from 32 s reaches 0 at about 91 s; the grace
    // period of 30 s follows (Knative: 60-90 s of idleness with the defaults)
    assert!((90..=125).contains(&zero_at), "zero at {zero_at} s");
    assert!(
        idle.iter()
            .any(|(_, d)| d.steps.iter().any(|s| s.stage == Stage::ScaleToZero))
    );
    // from zero, traffic brings one pod back at once
    let back = s.decide(&mut state, &tick(210, 0, 0, 20.0)).unwrap();
    assert_eq!(back.replicas, 1);
}

#[test]
fn min_replicas_is_the_kpas_min_scale_and_bounds_come_from_the_scaler() {
    let s = scaler("min_replicas: 2\nmax_replicas: 4\nkpa: {}\n");
    let mut state = ScalerState::new();
    let d = s.decide(&mut state, &tick(2, 2, 2, 0.0)).unwrap();
    assert_eq!(d.replicas, 2, "min scale holds while routed");
    let d = s.decide(&mut state, &tick(4, 2, 2, 7000.0)).unwrap();
    assert_eq!(d.replicas, 4, "max scale caps");
    assert!(
        d.steps.iter().any(|s| s.stage == Stage::MinMax),
        "{:?}",
        d.steps
    );
}

#[test]
fn kpa_settings_that_conflict_are_config_errors() {
    for (yaml, needle) in [
        (
            "max_replicas: 5\nkpa: {min_scale: 2}\n",
            "kpa.min_scale and kpa.max_scale must be left unset",
        ),
        (
            "max_replicas: 5\nkpa: {}\nhpa: {metrics: []}\n",
            "kpa must not be set with hpa or keda",
        ),
        (
            "max_replicas: 5\nkpa: {stable_window_s: 5}\n",
            "kpa: stable_window_s must be in [6, 3600], got 5",
        ),
    ] {
        let e = ScalerSpec::from_yaml(yaml).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        assert!(e.to_string().contains(needle), "{e}");
    }
}

#[test]
fn bad_kpa_observations_are_input_errors_and_leave_the_state_alone() {
    let s = scaler(DEFAULTS);
    let mut state = ScalerState::new();
    s.decide(&mut state, &tick(2, 1, 1, 10.0)).unwrap();
    let before = state.clone();
    let mut nan = tick(4, 1, 1, f64::NAN);
    let e = s.decide(&mut state, &nan).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("kpa: samples[0]"), "{e}");
    nan.kpa.as_mut().unwrap().samples.reverse();
    nan.kpa.as_mut().unwrap().samples[0].value = 1.0;
    nan.kpa.as_mut().unwrap().samples[1].value = 1.0;
    let e = s.decide(&mut state, &nan).unwrap_err();
    assert!(e.to_string().contains("out of order"), "{e}");
    assert_eq!(state, before);
    let hpa = scaler("max_replicas: 5\nhpa: {}\n");
    let mut with_metric = tick(2, 1, 1, 1.0);
    with_metric.metrics = vec![replicast::hpa::MetricInput::Aggregated {
        value: 50.0,
        ready_replicas: 1,
    }];
    let e = hpa
        .decide(&mut ScalerState::new(), &with_metric)
        .unwrap_err();
    assert!(e.to_string().contains("the spec has no kpa source"), "{e}");
}

proptest! {
    #[test]
    fn never_scales_down_while_panicking_and_restores_exactly(
        loads in prop::collection::vec(0.0f64..2000.0, 1..60), cut in 0usize..60
    ) {
        let s = scaler(DEFAULTS);
        let mut state = ScalerState::new();
        let mut current = 1;
        let mut decisions = Vec::new();
        let mut snapshot = None;
        for (i, load) in loads.iter().enumerate() {
            if i == cut {
                snapshot = Some((ScalerState::from_json(&state.to_json()).unwrap(), current));
            }
            let d = s.decide(&mut state, &tick(2 * (i as i64 + 1), current, current, *load)).unwrap();
            let panicking = d.kpa.as_ref().unwrap().scale.panicking;
            if panicking {
                prop_assert!(d.replicas >= current, "scaled down {current} -> {} in panic", d.replicas);
            }
            prop_assert!(d.replicas <= 50);
            current = d.replicas;
            decisions.push(d);
        }
        if let Some((mut restored, mut current)) = snapshot {
            for (i, load) in loads.iter().enumerate().skip(cut) {
                let d = s.decide(&mut restored, &tick(2 * (i as i64 + 1), current, current, *load)).unwrap();
                prop_assert_eq!(&d, &decisions[i]);
                current = d.replicas;
            }
            prop_assert_eq!(restored, state);
        }
    }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn a_knative_service_loads_its_annotations_as_written() {
    let spec = ScalerSpec::from_yaml(&read("examples/specs/knative-service.yaml")).unwrap();
    assert_eq!((spec.min_replicas, spec.max_replicas), (0, 30));
    let kpa = spec.kpa.as_ref().unwrap();
    assert_eq!(kpa.container_concurrency, 20);
    assert_eq!(kpa.scale_down_delay_s, 30);
    // target annotation 10 (below containerConcurrency 20) at the default 70 %
    assert_eq!(kpa.resolve_target(), (7.0, 10.0));
    let observation: DecisionInput =
        serde_json::from_str(&read("examples/inputs/kpa-observation.json")).unwrap();
    let d = Scaler::new(spec)
        .unwrap()
        .decide(&mut ScalerState::new(), &observation)
        .unwrap();
    // 75 in flight at 7 per pod: ceil(10.7) = 11, and 11 >= 2 x 2 ready: panic
    assert_eq!(d.replicas, 11);
    assert!(d.kpa.unwrap().scale.panicking);
}

#[test]
fn a_config_autoscaler_configmap_in_the_same_file_sets_the_cluster_defaults() {
    let service = read("examples/specs/knative-service.yaml");
    let config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config-autoscaler, namespace: knative-serving}\ndata:\n  stable-window: 2m\n  container-concurrency-target-percentage: \"80\"\n";
    let spec = ScalerSpec::from_yaml(&format!("{config}---\n{service}")).unwrap();
    let kpa = spec.kpa.unwrap();
    assert_eq!(kpa.stable_window_s, 120);
    assert_eq!(kpa.resolve_target(), (8.0, 10.0));
    let bad = service.replace("kpa.autoscaling.knative.dev", "hpa.autoscaling.knative.dev");
    let e = ScalerSpec::from_yaml(&bad).unwrap_err();
    assert!(
        e.to_string().contains("autoscaling.knative.dev/class"),
        "{e}"
    );
}
