//! The KPA's public API beyond the vectors: bad specs and inputs give errors that name the
//! field and leave the state unchanged, annotations and ConfigMaps load as Knative reads them,
//! reasons explain each step, and a revision idles to zero as Knative's does.

use std::collections::BTreeMap;

use replicast::ErrorKind;
use replicast::kpa::{
    ActiveStatus, Aggregation, Kpa, KpaAverages, KpaInput, KpaMetric, KpaSample, KpaSpec, KpaStage,
    KpaState, ReconcileInput, ScaleInput, SksMode,
};

const T0_MS: i64 = 1_700_000_000_000;

fn config_error(spec: KpaSpec) -> String {
    let err = Kpa::new(spec).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    err.to_string()
}

#[test]
fn invalid_spec_values_name_the_field() {
    let d = KpaSpec::default;
    let cases: Vec<(KpaSpec, &str)> = vec![
        (
            KpaSpec {
                target: Some(0.001),
                ..d()
            },
            "target must be >= 0.01, got 0.001",
        ),
        (
            KpaSpec {
                target: Some(f64::NAN),
                ..d()
            },
            "target",
        ),
        (
            KpaSpec {
                target_utilization_percentage: Some(0.5),
                ..d()
            },
            "target_utilization_percentage must be in [1, 100], got 0.5",
        ),
        (
            KpaSpec {
                container_concurrency_target_percentage: 0.0,
                ..d()
            },
            "container_concurrency_target_percentage must be in (0, 100], got 0",
        ),
        (
            KpaSpec {
                container_concurrency_target_percentage: 101.0,
                ..d()
            },
            "container_concurrency_target_percentage",
        ),
        (
            KpaSpec {
                container_concurrency_target_default: 0.001,
                ..d()
            },
            "container_concurrency_target_default",
        ),
        (
            KpaSpec {
                requests_per_second_target_default: 0.0,
                ..d()
            },
            "requests_per_second_target_default must be >= 0.01, got 0",
        ),
        (
            KpaSpec {
                rps_target_utilization_percentage: 0.0,
                ..d()
            },
            "rps_target_utilization_percentage",
        ),
        (
            KpaSpec {
                target_burst_capacity: -2.0,
                ..d()
            },
            "target_burst_capacity must be >= 0 or exactly -1, got -2",
        ),
        (
            KpaSpec {
                target_burst_capacity: f64::INFINITY,
                ..d()
            },
            "target_burst_capacity",
        ),
        (
            KpaSpec {
                stable_window_s: 5,
                ..d()
            },
            "stable_window_s must be in [6, 3600], got 5",
        ),
        (
            KpaSpec {
                stable_window_s: 3601,
                ..d()
            },
            "stable_window_s",
        ),
        (
            KpaSpec {
                panic_window_percentage: 0.5,
                ..d()
            },
            "panic_window_percentage must be in [1, 100], got 0.5",
        ),
        (
            KpaSpec {
                panic_threshold_percentage: 0.0,
                ..d()
            },
            "panic_threshold_percentage must be finite and > 0, got 0",
        ),
        (
            KpaSpec {
                max_scale_up_rate: 1.0,
                ..d()
            },
            "max_scale_up_rate must be finite and > 1, got 1",
        ),
        (
            KpaSpec {
                max_scale_down_rate: f64::NAN,
                ..d()
            },
            "max_scale_down_rate must be finite and > 1, got NaN",
        ),
        (
            KpaSpec {
                scale_down_delay_s: 3601,
                ..d()
            },
            "scale_down_delay_s must be in [0, 3600], got 3601",
        ),
        (
            KpaSpec {
                activation_scale: 1,
                ..d()
            },
            "activation_scale must be 0 (unset) or >= 2, got 1",
        ),
        (
            KpaSpec {
                activation_scale: 3,
                max_scale: 2,
                ..d()
            },
            "activation_scale must be <= max_scale (2), got 3",
        ),
        (
            KpaSpec {
                activation_scale: 2,
                min_scale: 3,
                ..d()
            },
            "activation_scale must be >= min_scale (3), got 2",
        ),
        (
            KpaSpec {
                initial_scale: 0,
                ..d()
            },
            "initial_scale must be >= 1 unless allow_zero_initial_scale is true, got 0",
        ),
        (
            KpaSpec {
                min_scale: 5,
                max_scale: 3,
                ..d()
            },
            "min_scale must be <= max_scale (3), got 5",
        ),
        (
            KpaSpec {
                max_scale_limit: 10,
                ..d()
            },
            "max_scale must be in [1, max_scale_limit (10)], got 0",
        ),
        (
            KpaSpec {
                max_scale: u32::MAX,
                ..d()
            },
            "max_scale must be in [0, 2147483647]",
        ),
        (
            KpaSpec {
                scale_to_zero_grace_period_s: 0.0,
                ..d()
            },
            "scale_to_zero_grace_period_s must be finite and > 0, got 0",
        ),
        (
            KpaSpec {
                scale_to_zero_pod_retention_period_s: -1.0,
                ..d()
            },
            "scale_to_zero_pod_retention_period_s",
        ),
        (
            KpaSpec {
                progress_deadline_s: 0.0,
                ..d()
            },
            "progress_deadline_s",
        ),
        (
            KpaSpec {
                activator_capacity: 0.5,
                ..d()
            },
            "activator_capacity must be finite and >= 1, got 0.5",
        ),
    ];
    for (spec, want) in cases {
        let message = config_error(spec);
        assert!(
            message.contains(want),
            "{message:?} should contain {want:?}"
        );
    }
    // legal edge values
    for spec in [
        KpaSpec {
            target_burst_capacity: -1.0,
            ..d()
        },
        KpaSpec {
            initial_scale: 0,
            allow_zero_initial_scale: true,
            ..d()
        },
        KpaSpec {
            stable_window_s: 6,
            panic_window_percentage: 1.0,
            ..d()
        },
        KpaSpec {
            activation_scale: 2,
            min_scale: 2,
            max_scale: 2,
            ..d()
        },
        KpaSpec {
            panic_threshold_percentage: 10_000.0,
            ..d()
        },
    ] {
        Kpa::new(spec).unwrap();
    }
}

#[test]
fn spec_json_is_snake_case_with_defaults_and_rejects_unknown_fields() {
    let spec: KpaSpec = serde_json::from_str(
        r#"{"metric": "rps", "aggregation": "weighted_exponential", "target_burst_capacity": -1}"#,
    )
    .unwrap();
    assert_eq!(spec.metric, KpaMetric::Rps);
    assert_eq!(spec.aggregation, Aggregation::WeightedExponential);
    assert_eq!(spec.stable_window_s, 60);
    let back: KpaSpec = serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
    assert_eq!(back, spec);
    let err = serde_json::from_str::<KpaSpec>(r#"{"stable_window": 60}"#).unwrap_err();
    assert!(err.to_string().contains("stable_window"));
}

fn annotations(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (format!("autoscaling.knative.dev/{k}"), (*v).to_owned()))
        .collect()
}

#[test]
fn annotations_load_as_knative_reads_them() {
    let cluster = KpaSpec {
        max_scale_limit: 100,
        max_scale: 50,
        ..KpaSpec::default()
    };
    let mut anns = annotations(&[
        ("class", "kpa.autoscaling.knative.dev"),
        ("metric", "rps"),
        ("target", "150"),
        ("targetUtilizationPercentage", "80"),
        ("target-burst-capacity", "-1"),
        ("window", "2m"),
        ("panic-window-percentage", "20"),
        ("panic-threshold-percentage", "300"),
        ("scale-down-delay", "15m"),
        ("scale-to-zero-pod-retention-period", "1m30s"),
        ("minScale", "2"),
        ("max-scale", "20"),
        ("initial-scale", "3"),
        ("activation-scale", "4"),
        ("metric-aggregation-algorithm", "weighted-exponential"),
        ("not-a-kpa-key", "whatever"),
    ]);
    anns.insert("serving.knative.dev/progress-deadline".into(), "5m".into());
    let spec = KpaSpec::from_annotations(&anns, &cluster).unwrap();
    assert_eq!(spec.metric, KpaMetric::Rps);
    assert_eq!(spec.resolve_target(), (120.0, 150.0));
    assert_eq!(spec.target_burst_capacity, -1.0);
    assert_eq!(spec.stable_window_s, 120);
    assert_eq!(spec.panic_window_s(), 24);
    assert_eq!(spec.panic_threshold_percentage, 300.0);
    assert_eq!(spec.scale_down_delay_s, 900);
    assert_eq!(spec.scale_to_zero_pod_retention_period_s, 90.0);
    assert_eq!((spec.min_scale, spec.max_scale), (2, 20));
    assert_eq!((spec.initial_scale, spec.activation_scale), (3, 4));
    assert_eq!(spec.aggregation, Aggregation::WeightedExponential);
    assert_eq!(spec.progress_deadline_s, 300.0);
    // the new key wins over the legacy one
    let both = annotations(&[("min-scale", "1"), ("minScale", "2")]);
    assert_eq!(
        KpaSpec::from_annotations(&both, &KpaSpec::default())
            .unwrap()
            .min_scale,
        1
    );
}

#[test]
fn bad_annotations_name_the_key_and_value() {
    let cluster = KpaSpec::default();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("class", "hpa.autoscaling.knative.dev")],
            "autoscaling.knative.dev/class must be kpa.autoscaling.knative.dev",
        ),
        (
            &[("metric", "cpu")],
            "autoscaling.knative.dev/metric must be concurrency or rps, got \"cpu\"",
        ),
        (
            &[("metric-aggregation-algorithm", "median")],
            "metric-aggregation-algorithm",
        ),
        (
            &[("target", "0.001")],
            "autoscaling.knative.dev/target must be >= 0.01, got 0.001",
        ),
        (
            &[("target", "ten")],
            "autoscaling.knative.dev/target must be a finite number, got \"ten\"",
        ),
        (
            &[("target-utilization-percentage", "101")],
            "target-utilization-percentage must be in [1, 100]",
        ),
        (
            &[("target-burst-capacity", "-2")],
            "target-burst-capacity must be >= 0 or exactly -1",
        ),
        (
            &[("window", "5s")],
            "autoscaling.knative.dev/window must be a duration of whole seconds in [6s, 3600s], got \"5s\"",
        ),
        (&[("window", "6.5s")], "autoscaling.knative.dev/window"),
        (
            &[("window", "60")],
            "autoscaling.knative.dev/window must be a duration such as 30s or 1m30s, got \"60\"",
        ),
        (
            &[("panic-window-percentage", "0")],
            "panic-window-percentage must be in [1, 100]",
        ),
        (
            &[("panic-threshold-percentage", "100")],
            "panic-threshold-percentage must be in [110, 1000], got 100",
        ),
        (&[("scale-down-delay", "2h")], "scale-down-delay"),
        (
            &[("scale-to-zero-pod-retention-period", "-1s")],
            "scale-to-zero-pod-retention-period",
        ),
        (
            &[("min-scale", "-1")],
            "min-scale must be an integer in [0, 2147483647], got \"-1\"",
        ),
        (
            &[("min-scale", "3"), ("max-scale", "2")],
            "max-scale must be >= autoscaling.knative.dev/min-scale (3) or 0, got 2",
        ),
        (
            &[("initial-scale", "0")],
            "initial-scale must be >= 1 (allow-zero-initial-scale is false)",
        ),
        (
            &[("activation-scale", "1")],
            "activation-scale must be >= 2, got 1",
        ),
        (
            &[("activation-scale", "5"), ("max-scale", "3")],
            "activation-scale must be <= autoscaling.knative.dev/max-scale (3), got 5",
        ),
    ];
    for (pairs, want) in cases {
        let err = KpaSpec::from_annotations(&annotations(pairs), &cluster).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        assert!(
            err.to_string().contains(want),
            "{err} should contain {want:?}"
        );
    }
    let limited = KpaSpec {
        max_scale_limit: 10,
        max_scale: 10,
        ..KpaSpec::default()
    };
    let err =
        KpaSpec::from_annotations(&annotations(&[("max-scale", "11")]), &limited).unwrap_err();
    assert!(
        err.to_string()
            .contains("max-scale must be in [1, max_scale_limit (10)], got 11"),
        "{err}"
    );
}

#[test]
fn config_map_loads_knative_keys() {
    let data: BTreeMap<String, String> = [
        ("container-concurrency-target-percentage", "0.5"),
        ("container-concurrency-target-default", "20"),
        ("enable-scale-to-zero", "false"),
        ("scale-to-zero-grace-period", "45s"),
        ("stable-window", "90s"),
        ("max-scale-up-rate", "10"),
        ("initial-scale", "0"),
        ("allow-zero-initial-scale", "true"),
        ("_example", "ignored"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let spec = KpaSpec::from_config_map(&data).unwrap();
    assert_eq!(spec.resolve_target(), (10.0, 20.0)); // 0.5 read as a fraction
    assert!(!spec.enable_scale_to_zero);
    assert_eq!(spec.scale_to_zero_grace_period_s, 45.0);
    assert_eq!(spec.stable_window_s, 90);
    assert_eq!(spec.initial_scale, 0);
    for (key, value, want) in [
        (
            "enable-scale-to-zero",
            "yes",
            "enable-scale-to-zero must be a boolean",
        ),
        (
            "stable-window",
            "61500ms",
            "stable-window must be a duration of whole seconds",
        ),
        (
            "max-scale-down-rate",
            "1",
            "max_scale_down_rate must be finite and > 1, got 1",
        ),
        (
            "scale-to-zero-grace-period",
            "0s",
            "scale_to_zero_grace_period_s must be finite and > 0",
        ),
    ] {
        let data = BTreeMap::from([(key.to_owned(), value.to_owned())]);
        let err = KpaSpec::from_config_map(&data).unwrap_err();
        assert!(
            err.to_string().contains(want),
            "{err} should contain {want:?}"
        );
    }
}

fn busy_state(kpa: &Kpa) -> KpaState {
    let mut state = kpa.new_state(T0_MS, Some(1));
    for i in 0..10 {
        kpa.record(&mut state, T0_MS + i * 1000, 100.0).unwrap();
    }
    kpa.scale(
        &mut state,
        &ScaleInput {
            now_ms: T0_MS + 10_000,
            ready_pods: Some(1),
            averages: None,
        },
    )
    .unwrap();
    state
}

#[test]
fn bad_inputs_are_errors_and_leave_the_state_unchanged() {
    let kpa = Kpa::new(KpaSpec::default()).unwrap();
    let state = busy_state(&kpa);
    let now = T0_MS + 12_000;
    let ok = KpaInput {
        now_ms: now,
        ready_pods: Some(2),
        current_replicas: 2,
        ..KpaInput::default()
    };
    let sample = |time_ms, value| KpaSample { time_ms, value };
    let cases: Vec<(KpaInput, &str)> = vec![
        (
            KpaInput {
                samples: vec![sample(now, f64::NAN)],
                ..ok.clone()
            },
            "samples[0]: sample value must be in [0, 1e15], got NaN",
        ),
        (
            KpaInput {
                samples: vec![sample(now, -1.0)],
                ..ok.clone()
            },
            "got -1",
        ),
        (
            KpaInput {
                samples: vec![sample(now, f64::INFINITY)],
                ..ok.clone()
            },
            "got inf",
        ),
        (
            KpaInput {
                samples: vec![sample(now - 1, 1.0), sample(now - 2, 1.0)],
                ..ok.clone()
            },
            "samples[1].time_ms must not be before the previous sample's",
        ),
        (
            KpaInput {
                samples: vec![sample(now + 1, 1.0)],
                ..ok.clone()
            },
            "samples[0].time_ms must be <= now_ms",
        ),
        (
            KpaInput {
                samples: vec![sample(now, 1.0)],
                averages: Some(KpaAverages {
                    stable: 1.0,
                    panic: 1.0,
                }),
                ..ok.clone()
            },
            "samples and averages are exclusive",
        ),
        (
            KpaInput {
                averages: Some(KpaAverages {
                    stable: f64::NAN,
                    panic: 1.0,
                }),
                ..ok.clone()
            },
            "averages.stable must be in [0, 1e15], got NaN",
        ),
        (
            KpaInput {
                averages: Some(KpaAverages {
                    stable: 1.0,
                    panic: -3.0,
                }),
                ..ok.clone()
            },
            "averages.panic",
        ),
        (
            KpaInput {
                now_ms: T0_MS + 9_000,
                ..ok.clone()
            },
            "now_ms must not be before the previous tick's",
        ),
        (
            KpaInput {
                ready_pods: Some(u32::MAX),
                ..ok.clone()
            },
            "ready_pods must be in [0, 2147483647]",
        ),
        (
            KpaInput {
                current_replicas: u32::MAX,
                ..ok.clone()
            },
            "current_replicas must be in [0, 2147483647]",
        ),
    ];
    for (input, want) in cases {
        let mut s = state.clone();
        let err = kpa.decide(&mut s, &input).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(
            err.to_string().contains(want),
            "{err} should contain {want:?}"
        );
        assert_eq!(s, state, "state changed by a failed decide ({want})");
    }
    let mut s = state.clone();
    assert_eq!(
        kpa.record(&mut s, now, f64::NAN).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let bad = ReconcileInput {
        now_ms: now,
        desired_scale: Some(-2),
        ..ReconcileInput::default()
    };
    let err = kpa.reconcile(&mut s, &bad).unwrap_err();
    assert!(
        err.to_string()
            .contains("desired_scale must be -1 (unknown) or >= 0, got -2")
    );
    assert_eq!(s, state);
    // the unchanged state still decides
    kpa.decide(&mut s, &ok).unwrap();
}

#[test]
fn state_json_round_trips_and_bad_json_is_a_serialization_error() {
    let kpa = Kpa::new(KpaSpec {
        scale_down_delay_s: 30,
        ..KpaSpec::default()
    })
    .unwrap();
    let state = busy_state(&kpa);
    let json = state.to_json();
    assert_eq!(KpaState::from_json(&json).unwrap(), state);
    for bad in [
        "{}".to_owned(),
        "not json".to_owned(),
        json.replace("\"version\":1", "\"version\":2"),
        json.replacen("\"buckets\":[", "\"buckets\":[1e999,", 1),
        r#"{"version":1,"stable":{"buckets":[],"total":0},"panic":{"buckets":[0],"total":0},"max_panic_pods":0,"desired_scale":-1,"excess_burst_capacity":0,"active":"active","active_reason":"none","active_since_ms":0,"scale_target_initialized":false,"sks_mode":"proxy"}"#.to_owned(),
    ] {
        let err = KpaState::from_json(&bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Serialization, "{bad}: {err}");
    }
}

#[test]
fn each_changing_step_gives_its_reason() {
    // rate limit and activation scale
    let kpa = Kpa::new(KpaSpec {
        target: Some(10.0),
        target_utilization_percentage: Some(100.0),
        max_scale_up_rate: 2.0,
        activation_scale: 3,
        ..KpaSpec::default()
    })
    .unwrap();
    let mut state = kpa.new_state(T0_MS, Some(1));
    let scale = |state: &mut KpaState, now, ready, stable, panic| {
        kpa.scale(
            state,
            &ScaleInput {
                now_ms: now,
                ready_pods: Some(ready),
                averages: Some(KpaAverages { stable, panic }),
            },
        )
        .unwrap()
    };
    let out = scale(&mut state, T0_MS, 4, 200.0, 10.0);
    assert_eq!(out.desired_pod_count, Some(8));
    assert_eq!(out.steps[0].stage, KpaStage::RateLimit);
    assert_eq!((out.steps[0].from, out.steps[0].to), (20, 8));
    assert!(
        out.steps[0]
            .reason
            .contains("scale-up rate limit: at most ceil(2 x 4) = 8 pods"),
        "{}",
        out.steps[0].reason
    );
    let out = scale(&mut state, T0_MS + 2_000, 1, 10.0, 0.0);
    assert_eq!(out.desired_pod_count, Some(3));
    assert_eq!(out.steps[0].stage, KpaStage::ActivationScale);
    assert_eq!((out.steps[0].from, out.steps[0].to), (1, 3));

    // panic, then the hold
    let kpa = Kpa::new(KpaSpec {
        target: Some(10.0),
        target_utilization_percentage: Some(100.0),
        ..KpaSpec::default()
    })
    .unwrap();
    let mut state = kpa.new_state(T0_MS, Some(1));
    let out = kpa
        .scale(
            &mut state,
            &ScaleInput {
                now_ms: T0_MS,
                ready_pods: Some(2),
                averages: Some(KpaAverages {
                    stable: 20.0,
                    panic: 50.0,
                }),
            },
        )
        .unwrap();
    assert!(out.panicking);
    assert_eq!(out.desired_pod_count, Some(5));
    assert_eq!(out.steps.last().unwrap().stage, KpaStage::Panic);
    let out = kpa
        .scale(
            &mut state,
            &ScaleInput {
                now_ms: T0_MS + 2_000,
                ready_pods: Some(5),
                averages: Some(KpaAverages {
                    stable: 10.0,
                    panic: 10.0,
                }),
            },
        )
        .unwrap();
    assert_eq!(out.desired_pod_count, Some(5));
    let hold = out.steps.last().unwrap();
    // 1 wanted, the scale-down limit floor(5 / 2) makes it 2, panic holds 5
    assert_eq!(
        (hold.stage, hold.from, hold.to),
        (KpaStage::PanicHold, 2, 5)
    );
    assert!(hold.reason.contains("never scales down"));

    // scale-down delay
    let kpa = Kpa::new(KpaSpec {
        target: Some(10.0),
        target_utilization_percentage: Some(100.0),
        scale_down_delay_s: 60,
        ..KpaSpec::default()
    })
    .unwrap();
    let mut state = kpa.new_state(T0_MS, Some(1));
    kpa.scale(
        &mut state,
        &ScaleInput {
            now_ms: T0_MS,
            ready_pods: Some(4),
            averages: Some(KpaAverages {
                stable: 40.0,
                panic: 40.0,
            }),
        },
    )
    .unwrap();
    let out = kpa
        .scale(
            &mut state,
            &ScaleInput {
                now_ms: T0_MS + 2_000,
                ready_pods: Some(4),
                averages: Some(KpaAverages {
                    stable: 20.0,
                    panic: 20.0,
                }),
            },
        )
        .unwrap();
    assert_eq!(out.desired_pod_count, Some(4));
    let delay = out.steps.last().unwrap();
    assert_eq!(
        (delay.stage, delay.from, delay.to),
        (KpaStage::ScaleDownDelay, 2, 4)
    );
}

/// A revision at steady traffic, then idle: with the defaults it is at zero 60–90 s after the
/// traffic stops, and comes back through Activating when traffic returns.
#[test]
fn idle_revision_scales_to_zero_and_back() {
    let kpa = Kpa::new(KpaSpec::default()).unwrap();
    let mut state = kpa.new_state(T0_MS, None);
    let stop_s = 120;
    let mut replicas = 1u32;
    let mut zero_at = None;
    for tick in 1..=150i64 {
        let now = T0_MS + tick * 2_000;
        let t_s = tick * 2;
        let value = if t_s <= stop_s { 50.0 } else { 0.0 };
        // while pods exist they are scraped each second, idle or not; at zero nothing is
        let samples = if replicas > 0 {
            vec![
                KpaSample {
                    time_ms: now - 1_000,
                    value,
                },
                KpaSample {
                    time_ms: now,
                    value,
                },
            ]
        } else {
            Vec::new()
        };
        let d = kpa
            .decide(
                &mut state,
                &KpaInput {
                    now_ms: now,
                    ready_pods: Some(replicas),
                    current_replicas: replicas,
                    samples,
                    ..KpaInput::default()
                },
            )
            .unwrap();
        let r = d.reconcile.unwrap();
        if r.apply && r.want >= 0 {
            replicas = r.want as u32;
        }
        if t_s <= stop_s {
            assert_eq!(r.want, 1, "t={t_s}");
            assert_eq!(state.active(), ActiveStatus::Active, "t={t_s}");
            // TBC 211 > 1 pod × 100: the activator stays in the path
            assert_eq!(r.sks_mode, SksMode::Proxy);
        }
        if replicas == 0 && zero_at.is_none() {
            zero_at = Some(t_s);
            assert!(r.rescale);
            assert_eq!(state.active(), ActiveStatus::Inactive);
        }
    }
    let zero_at = zero_at.expect("scaled to zero");
    let idle = zero_at - stop_s;
    println!("idle for {idle} s before zero");
    assert!((60..=92).contains(&idle), "idle for {idle} s before zero");

    // traffic returns: the activator reports it
    let now = T0_MS + 302_000;
    let d = kpa
        .decide(
            &mut state,
            &KpaInput {
                now_ms: now,
                ready_pods: Some(0),
                current_replicas: 0,
                samples: vec![KpaSample {
                    time_ms: now,
                    value: 5.0,
                }],
                ..KpaInput::default()
            },
        )
        .unwrap();
    assert_eq!(d.scale.desired_pod_count, Some(1));
    let r = d.reconcile.unwrap();
    assert_eq!((r.want, r.rescale), (1, true));
    assert_eq!(state.active(), ActiveStatus::Activating);
}

#[test]
fn kpa_types_are_send_sync_and_debug() {
    fn check<T: Send + Sync + std::fmt::Debug>() {}
    check::<Kpa>();
    check::<KpaSpec>();
    check::<KpaState>();
    check::<KpaInput>();
    check::<replicast::kpa::KpaDecision>();
    check::<replicast::kpa::window::WindowAverager>();
    check::<replicast::kpa::window::MaxWindow>();
}
