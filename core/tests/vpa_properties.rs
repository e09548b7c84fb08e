//! Properties of the VPA recommender over random sample sequences and tunings: ordered and
//! allowed bounds, exact checkpoint and state round trips, no panic and no negative output.

use std::collections::BTreeMap;

use proptest::prelude::*;
use replicast::ErrorKind;
use replicast::vpa::estimator::MAX_RESOURCE_AMOUNT;
use replicast::vpa::{
    ContainerPolicy, ContainerResources, ContainerUsage, ControlledValues, Resource, Resources,
    Vpa, VpaSpec, VpaState,
};

const T0: i64 = 1_704_067_200_000;
const NAMES: [&str; 3] = ["app", "db", "sidecar"];

#[derive(Debug, Clone)]
enum Op {
    Cpu(usize, i64, i64),
    Memory(usize, i64, i64),
    Oom(usize, i64, i64),
}

fn amount() -> impl Strategy<Value = i64> {
    prop_oneof![
        8 => 0i64..4_000,
        4 => 0i64..20_000_000_000,
        1 => -1_000i64..0,
        1 => Just(i64::MAX),
        1 => (1i64 << 40)..(1i64 << 62),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    // time steps from 0 to 3 h, occasionally backwards (discarded samples)
    let dt = prop_oneof![9 => 0i64..10_800_000, 1 => -3_600_000i64..0];
    (0usize..3, dt, amount(), 0u8..10).prop_map(|(c, dt, v, kind)| match kind {
        0..=4 => Op::Cpu(c, dt, v),
        5..=8 => Op::Memory(c, dt, v),
        _ => Op::Oom(c, dt, v.max(0)),
    })
}

fn spec() -> impl Strategy<Value = VpaSpec> {
    (
        (0.0f64..=1.0, 0.0f64..=1.0, 0.0f64..=1.0),
        0.0f64..2.0,
        prop::option::of((0i64..3000, 0i64..3_000_000_000)),
        prop::option::of((1i64..6000, 1i64..6_000_000_000)),
        any::<bool>(),
        1u32..4,
        any::<bool>(),
    )
        .prop_map(
            |(p, margin, min, max, requests_only, interval_h, integer)| {
                let mut spec = VpaSpec::default();
                let mut ps = [p.0, p.1, p.2];
                ps.sort_by(f64::total_cmp);
                let r = &mut spec.recommender;
                (
                    r.lower_bound_cpu_percentile,
                    r.target_cpu_percentile,
                    r.upper_bound_cpu_percentile,
                ) = (ps[0], ps[1], ps[2]);
                (
                    r.lower_bound_memory_percentile,
                    r.target_memory_percentile,
                    r.upper_bound_memory_percentile,
                ) = (ps[0], ps[1], ps[2]);
                r.safety_margin_fraction = margin;
                r.memory_aggregation_interval_s = interval_h * 3600;
                if integer {
                    r.integer_cpu_containers.push("db".into());
                }
                let mut policy = ContainerPolicy::new("*");
                if let Some((c, m)) = min {
                    policy.min_allowed = Resources::new(c, m);
                }
                if let Some((c, m)) = max {
                    // keep min <= max, as validation requires
                    let lo = policy.min_allowed;
                    policy.max_allowed = Resources::new(
                        c.max(lo.cpu_millicores.unwrap_or(0)),
                        m.max(lo.memory_bytes.unwrap_or(0)),
                    );
                }
                if requests_only {
                    policy.controlled_values = ControlledValues::RequestsOnly;
                }
                spec.container_policies.push(policy);
                spec
            },
        )
}

fn apply(vpa: &Vpa, state: &mut VpaState, ops: &[Op]) -> i64 {
    let mut t = T0;
    for op in ops {
        let r = match *op {
            Op::Cpu(c, dt, v) => {
                t += dt;
                state.add_cpu_sample(vpa, NAMES[c], "", t, v)
            }
            Op::Memory(c, dt, v) => {
                t += dt;
                state.add_memory_sample(vpa, NAMES[c], "", t, v)
            }
            Op::Oom(c, dt, v) => {
                t += dt;
                state.record_oom(vpa, NAMES[c], "", t, v)
            }
        };
        r.expect("valid observations are never errors");
    }
    t
}

fn current() -> Vec<ContainerResources> {
    NAMES
        .iter()
        .map(|n| ContainerResources {
            container: (*n).to_owned(),
            requests: Resources::new(500, 1 << 29),
            limits: Resources::new(1000, 1 << 30),
            ..ContainerResources::default()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn bounds_are_ordered_allowed_and_in_range(spec in spec(), ops in prop::collection::vec(op(), 0..120)) {
        let vpa = Vpa::new(spec.clone()).unwrap();
        let mut state = VpaState::new();
        let now = apply(&vpa, &mut state, &ops);
        let rec = vpa.recommend(&state, now, &current()).unwrap();
        let policy = &spec.container_policies[0];
        for c in &rec.containers {
            for res in Resource::ALL {
                let (lo, t, hi) = (c.lower_bound.get(res), c.target.get(res), c.upper_bound.get(res));
                let (Some(lo), Some(t), Some(hi)) = (lo, t, hi) else {
                    prop_assert!(false, "{}: {res:?} missing", c.container);
                    unreachable!()
                };
                prop_assert!(0 <= lo && lo <= t && t <= hi, "{}: {lo} <= {t} <= {hi}", c.container);
                // 1e14 at most (+ the integer-CPU round-up to a whole core)
                prop_assert!(hi <= MAX_RESOURCE_AMOUNT + 1000, "{res:?} upper {hi}");
                if let Some(min) = policy.min_allowed.get(res).filter(|&m| m > 0) {
                    prop_assert!(lo >= min, "{res:?} lower {lo} < minAllowed {min}");
                }
                if let Some(max) = policy.max_allowed.get(res).filter(|&m| m > 0) {
                    prop_assert!(hi <= max, "{res:?} upper {hi} > maxAllowed {max}");
                }
                let u = c.uncapped_target.get(res).unwrap();
                prop_assert!(u >= 0);
                prop_assert!(c.requests.get(res).is_some_and(|r| r >= 0));
            }
            prop_assert!(c.cpu_confidence.is_finite() && c.memory_confidence.is_finite());
        }
        if let Some(u) = rec.update {
            prop_assert!(u.resource_diff.is_finite() && u.resource_diff >= 0.0);
        }
    }

    #[test]
    fn checkpoints_round_trip(spec in spec(), ops in prop::collection::vec(op(), 0..120)) {
        let vpa = Vpa::new(spec).unwrap();
        let mut state = VpaState::new();
        let now = apply(&vpa, &mut state, &ops);
        let saved = state.to_checkpoints(now);
        // through JSON, as a controller stores them
        let json = serde_json::to_string(&saved).unwrap();
        let parsed: BTreeMap<String, replicast::vpa::CheckpointStatus> = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&parsed, &saved);
        let loaded = VpaState::from_checkpoints(&vpa, &parsed, now).unwrap();
        let again = loaded.to_checkpoints(now);
        prop_assert_eq!(again, saved);
    }

    #[test]
    fn state_json_round_trip_gives_identical_recommendations(
        spec in spec(),
        ops in prop::collection::vec(op(), 0..120),
        more in prop::collection::vec(op(), 0..40),
    ) {
        let vpa = Vpa::new(spec).unwrap();
        let mut state = VpaState::new();
        let now = apply(&vpa, &mut state, &ops);
        let mut restored = VpaState::from_json(&state.to_json()).unwrap();
        prop_assert_eq!(&restored, &state);
        let a = vpa.recommend(&state, now, &current()).unwrap();
        let b = vpa.recommend(&restored, now, &current()).unwrap();
        prop_assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
        // and the future is identical too
        let t1 = apply(&vpa, &mut state, &more);
        let t2 = apply(&vpa, &mut restored, &more);
        prop_assert_eq!(t1, t2);
        let later = t1.max(now);
        prop_assert_eq!(
            vpa.recommend(&state, later, &[]).unwrap(),
            vpa.recommend(&restored, later, &[]).unwrap()
        );
    }

    #[test]
    fn observe_never_panics_and_rejects_non_finite(
        cpu in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), -1e20f64..1e20],
        mem in prop_oneof![Just(f64::NAN), -1e20f64..1e20],
        oom in prop::option::of(prop_oneof![Just(f64::NAN), -1e12f64..1e20]),
        start in prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(0i64), T0..T0 + 1_000_000],
    ) {
        let vpa = Vpa::new(VpaSpec::default()).unwrap();
        let mut state = VpaState::new();
        let before = state.clone();
        let usage = [ContainerUsage {
            container: "app".into(),
            start_ms: Some(start),
            cpu_cores: Some(cpu),
            memory_bytes: Some(mem),
            oom_requested_memory_bytes: oom,
            ..ContainerUsage::default()
        }];
        match state.observe(&vpa, T0, &usage) {
            Ok(observed) => {
                prop_assert!(cpu.is_finite() && mem.is_finite());
                prop_assert_eq!(observed[0].cpu, Some((cpu * 1000.0).round() >= 0.0));
                let rec = vpa.recommend(&state, T0, &[]).unwrap();
                for c in &rec.containers {
                    prop_assert!(c.target.cpu_millicores.unwrap() >= 0);
                    prop_assert!(c.upper_bound.memory_bytes.unwrap() <= MAX_RESOURCE_AMOUNT);
                }
            }
            Err(e) => {
                prop_assert_eq!(e.kind(), ErrorKind::InvalidInput);
                prop_assert_eq!(&state, &before);
            }
        }
    }
}
