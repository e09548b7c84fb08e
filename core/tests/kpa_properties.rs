//! Properties of the KPA (`replicast::kpa`) over random specs and tick sequences:
//! panic mode never scales down, the reconciled scale stays within its bounds, nothing
//! overflows or turns NaN, a state restored from JSON decides as the original, and the same
//! inputs give the same outputs.

use proptest::prelude::*;
use replicast::kpa::{
    Aggregation, Kpa, KpaAverages, KpaDecision, KpaInput, KpaSample, KpaSpec, KpaState,
};

/// The instant the sequences start at.
const T0_MS: i64 = 1_700_000_000_000;

fn spec_strategy() -> impl Strategy<Value = KpaSpec> {
    (
        (
            1.0f64..200.0,
            1.0f64..=100.0,
            1.1f64..20.0,
            1.1f64..10.0,
            110.0f64..1000.0,
            prop_oneof![Just(0u32), 2u32..5],
            prop_oneof![Just(0u32), 1u32..30],
            6u32..120,
            1.0f64..=100.0,
        ),
        (
            0u32..3,
            prop_oneof![Just(0u32), 5u32..50],
            1u32..4,
            any::<bool>(),
            any::<bool>(),
            prop_oneof![Just(-1.0f64), Just(0.0), 0.0f64..300.0],
            any::<bool>(),
            1.0f64..60.0,
            0.0f64..60.0,
        ),
    )
        .prop_map(
            |(
                (target, tu, up, down, threshold, activation, delay, window, panic_pct),
                (min, max, initial, reachable, to_zero, tbc, weighted, grace, retention),
            )| {
                KpaSpec {
                    target: Some(target),
                    target_utilization_percentage: Some(tu),
                    max_scale_up_rate: up,
                    max_scale_down_rate: down,
                    panic_threshold_percentage: threshold,
                    activation_scale: activation,
                    scale_down_delay_s: delay,
                    stable_window_s: window,
                    panic_window_percentage: panic_pct,
                    min_scale: min,
                    max_scale: max,
                    initial_scale: initial,
                    reachable,
                    enable_scale_to_zero: to_zero,
                    target_burst_capacity: tbc,
                    aggregation: if weighted {
                        Aggregation::WeightedExponential
                    } else {
                        Aggregation::Linear
                    },
                    scale_to_zero_grace_period_s: grace,
                    scale_to_zero_pod_retention_period_s: retention,
                    ..KpaSpec::default()
                }
            },
        )
}

/// One tick as generated: time step, ready pods, samples (or averages), the probe.
#[derive(Debug, Clone)]
struct Tick {
    dt_ms: i64,
    ready: Option<u32>,
    samples: Vec<f64>,
    averages: Option<(f64, f64)>,
    activator_in_path: Option<bool>,
}

fn value_strategy() -> impl Strategy<Value = f64> {
    prop_oneof![8 => 0.0f64..2_000.0, 1 => Just(0.0), 1 => 1e6f64..=1e15]
}

fn tick_strategy() -> impl Strategy<Value = Tick> {
    (
        prop_oneof![Just(0i64), 1i64..3_000, 3_000i64..200_000],
        prop_oneof![9 => (0u32..60).prop_map(Some), 1 => Just(None)],
        prop::collection::vec(value_strategy(), 0..4),
        prop::option::weighted(0.3, (value_strategy(), value_strategy())),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(dt_ms, ready, samples, averages, activator_in_path)| {
            // samples and averages are exclusive
            let samples = if averages.is_some() {
                Vec::new()
            } else {
                samples
            };
            Tick {
                dt_ms,
                ready,
                samples,
                averages,
                activator_in_path,
            }
        })
}

fn input(now_ms: i64, tick: &Tick, current_replicas: u32) -> KpaInput {
    let n = tick.samples.len() as i64;
    KpaInput {
        now_ms,
        ready_pods: tick.ready,
        current_replicas,
        // evenly spread over the last second, ascending, the last one at now
        samples: tick
            .samples
            .iter()
            .enumerate()
            .map(|(i, &value)| KpaSample {
                time_ms: now_ms - (n - 1 - i as i64) * 1_000 / n.max(1),
                value,
            })
            .collect(),
        averages: tick
            .averages
            .map(|(stable, panic)| KpaAverages { stable, panic }),
        sks_proxy_since_ms: None,
        activator_in_path: tick.activator_in_path,
    }
}

/// Runs `ticks` from `state`, starting at `now_ms`; returns every decision and the last time.
fn run(
    kpa: &Kpa,
    state: &mut KpaState,
    mut now_ms: i64,
    ticks: &[Tick],
) -> (Vec<KpaDecision>, i64) {
    let mut replicas = 1;
    let mut out = Vec::new();
    for tick in ticks {
        now_ms += tick.dt_ms;
        let decision = kpa
            .decide(state, &input(now_ms, tick, replicas))
            .expect("generated inputs are valid");
        if let Some(r) = &decision.reconcile
            && r.apply
            && r.want >= 0
        {
            replicas = r.want as u32;
        }
        out.push(decision);
    }
    (out, now_ms)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// While the decider stays in panic mode, the desired scale never goes down (without a
    /// scale-down delay; with one, it never goes below the panic ratchet).
    #[test]
    fn panic_never_scales_down(
        spec in spec_strategy(),
        creation in prop::option::of(0u32..20),
        ticks in prop::collection::vec(tick_strategy(), 1..40),
    ) {
        let kpa = Kpa::new(spec).unwrap();
        let mut state = kpa.new_state(T0_MS, creation);
        let mut now = T0_MS;
        let mut previous: Option<(bool, i32)> = None;
        for tick in &ticks {
            now += tick.dt_ms;
            let before = state.desired_scale();
            let decision = kpa.decide(&mut state, &input(now, tick, 1)).unwrap();
            let scale = decision.scale;
            let Some(desired) = scale.desired_pod_count else {
                // an invalid tick keeps the decision in effect
                prop_assert_eq!(state.desired_scale(), before);
                continue;
            };
            if scale.panicking {
                prop_assert!(desired >= state.max_panic_pods());
                if kpa.spec().scale_down_delay_s == 0 || !kpa.spec().reachable {
                    prop_assert_eq!(desired, state.max_panic_pods());
                    if let Some((true, prev)) = previous {
                        prop_assert!(desired >= prev, "panicking: {} after {}", desired, prev);
                    }
                }
            }
            previous = Some((scale.panicking, desired));
        }
    }

    /// After the reconciler, a known scale is within [min, max] (min only while reachable).
    #[test]
    fn reconciled_scale_within_bounds(
        spec in spec_strategy(),
        ticks in prop::collection::vec(tick_strategy(), 1..40),
    ) {
        prop_assume!(spec.max_scale == 0 || spec.initial_scale <= spec.max_scale);
        let kpa = Kpa::new(spec).unwrap();
        let mut state = kpa.new_state(T0_MS, Some(1));
        let (decisions, _) = run(&kpa, &mut state, T0_MS, &ticks);
        let spec = kpa.spec();
        let min = if spec.reachable { spec.min_scale as i32 } else { 0 };
        for d in decisions {
            let Some(r) = d.reconcile else { continue };
            if r.want == -1 {
                continue;
            }
            prop_assert!(r.want >= min, "want {} < min {}", r.want, min);
            if spec.max_scale > 0 {
                prop_assert!(r.want <= spec.max_scale as i32, "want {} > max {}", r.want, spec.max_scale);
            }
            if !spec.enable_scale_to_zero {
                prop_assert!(r.want != 0);
            }
        }
    }

    /// Extreme observations and pod counts neither panic (debug builds check overflow) nor
    /// produce NaN: counts stay non-negative, averages finite.
    #[test]
    fn no_nan_no_overflow(
        spec in spec_strategy(),
        ready in prop_oneof![0u32..10, Just(i32::MAX as u32)],
        stable in prop_oneof![0.0f64..1e3, Just(1e15)],
        panic in prop_oneof![0.0f64..1e3, Just(1e15)],
        dt in prop_oneof![0i64..10_000, Just(i64::MAX / 4)],
    ) {
        let kpa = Kpa::new(spec).unwrap();
        let mut state = kpa.new_state(T0_MS, Some(ready));
        for (i, now) in [T0_MS, T0_MS + dt].into_iter().enumerate() {
            let averages = (i == 0).then_some(KpaAverages { stable, panic });
            let samples = if i == 0 { Vec::new() } else { vec![KpaSample { time_ms: now, value: stable }] };
            let d = kpa.decide(&mut state, &KpaInput {
                now_ms: now, ready_pods: Some(ready), current_replicas: ready,
                samples, averages, ..KpaInput::default()
            }).unwrap();
            let desired = d.scale.desired_pod_count.unwrap();
            prop_assert!(desired >= 0);
            if let Some(obs) = d.scale.observed {
                prop_assert!(!obs.stable.is_nan() && !obs.panic.is_nan());
            }
            let r = d.reconcile.unwrap();
            prop_assert!(r.want >= -1);
            prop_assert!(r.activators >= 2);
        }
        let json = state.to_json();
        prop_assert_eq!(KpaState::from_json(&json).unwrap(), state);
    }

    /// A state restored from its JSON makes exactly the decisions the original makes.
    #[test]
    fn json_round_trip_keeps_decisions(
        spec in spec_strategy(),
        creation in prop::option::of(0u32..20),
        prefix in prop::collection::vec(tick_strategy(), 0..30),
        suffix in prop::collection::vec(tick_strategy(), 1..30),
    ) {
        let kpa = Kpa::new(spec).unwrap();
        let mut state = kpa.new_state(T0_MS, creation);
        let (_, now) = run(&kpa, &mut state, T0_MS, &prefix);
        let json = state.to_json();
        let mut restored = KpaState::from_json(&json).unwrap();
        prop_assert_eq!(&restored, &state);
        prop_assert_eq!(restored.to_json(), json);
        let (a, _) = run(&kpa, &mut state, now, &suffix);
        let (b, _) = run(&kpa, &mut restored, now, &suffix);
        prop_assert_eq!(a, b);
        prop_assert_eq!(state, restored);
    }

    /// The same spec and inputs give the same decisions and the same state.
    #[test]
    fn deterministic(
        spec in spec_strategy(),
        ticks in prop::collection::vec(tick_strategy(), 1..40),
    ) {
        let kpa = Kpa::new(spec).unwrap();
        let mut s1 = kpa.new_state(T0_MS, Some(2));
        let mut s2 = kpa.new_state(T0_MS, Some(2));
        let (a, _) = run(&kpa, &mut s1, T0_MS, &ticks);
        let (b, _) = run(&kpa, &mut s2, T0_MS, &ticks);
        prop_assert_eq!(a, b);
        prop_assert_eq!(s1.to_json(), s2.to_json());
    }
}
