//! Horizontal and vertical together through `Scaler::decide`: the VPA source beside the HPA,
//! the requests to apply, the HPA's utilization recomputed against them, manifests (the
//! seed's VPA alone and with its HPA), and a proptest that the two never oscillate on a
//! steady load.

use proptest::prelude::*;
use replicast::hpa::MetricInput;
use replicast::vpa::{ContainerResources, ContainerUsage, Resources};
use replicast::{Decision, DecisionInput, ErrorKind, Scaler, ScalerSpec, ScalerState, Stage};

const T0: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z
const GI: i64 = 1 << 30;

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn scaler(yaml: &str) -> Scaler {
    Scaler::new(ScalerSpec::from_yaml(yaml).unwrap()).unwrap()
}

fn usage(pods: u32, cpu_cores: f64, memory_bytes: f64) -> Vec<ContainerUsage> {
    (0..pods)
        .map(|p| ContainerUsage {
            container: "app".into(),
            pod: format!("app-{p}"),
            cpu_cores: Some(cpu_cores),
            memory_bytes: Some(memory_bytes),
            ..ContainerUsage::default()
        })
        .collect()
}

fn resources(cpu_m: i64, memory_b: i64) -> Vec<ContainerResources> {
    vec![ContainerResources {
        container: "app".into(),
        requests: Resources::new(cpu_m, memory_b),
        limits: Resources::new(2 * cpu_m, 2 * memory_b),
        ..ContainerResources::default()
    }]
}

const HV: &str = r"
min_replicas: 1
max_replicas: 40
hpa:
  metrics:
    - {type: resource, resource: cpu, target: {type: utilization, average_utilization: 70}}
vpa:
  container_policies:
    - {container_name: app, min_allowed: {cpu_millicores: 250}}
";

#[test]
fn the_seed_vpa_manifest_loads_as_written_with_api_defaults() {
    let spec = ScalerSpec::from_yaml(&read("testdata/seed/vpa.yaml")).unwrap();
    assert!(spec.hpa.is_none());
    let vpa = spec.vpa.as_ref().unwrap();
    let policy = vpa.policy_for("sutazai-backend").unwrap();
    assert_eq!(policy.min_allowed, Resources::new(1000, 2 * GI));
    assert_eq!(policy.max_allowed, Resources::new(8000, 16 * GI));
    // a vertical-only scaler holds the replicas and recommends requests
    let s = Scaler::new(spec).unwrap();
    let d = s
        .decide(
            &mut ScalerState::new(),
            &DecisionInput {
                now_ms: T0,
                current_replicas: 3,
                container_usage: vec![ContainerUsage {
                    container: "sutazai-backend".into(),
                    cpu_cores: Some(0.2),
                    memory_bytes: Some(1e9),
                    ..ContainerUsage::default()
                }],
                ..DecisionInput::default()
            },
        )
        .unwrap();
    assert_eq!((d.replicas, d.rescale), (3, false));
    let rec = &d.vertical.as_ref().unwrap().recommendation;
    assert_eq!(
        rec.containers[0].target,
        Resources::new(1000, 2 * GI),
        "minAllowed raises both"
    );
}

#[test]
fn an_hpa_and_a_vpa_in_one_file_decide_together() {
    let spec = ScalerSpec::from_yaml(&read("examples/specs/hpa-vpa.yaml")).unwrap();
    assert_eq!((spec.min_replicas, spec.max_replicas), (2, 20));
    assert!(spec.hpa.is_some() && spec.vpa.is_some());
    let observation: DecisionInput =
        serde_json::from_str(&read("examples/inputs/hpa-vpa-observation.json")).unwrap();
    let d = Scaler::new(spec)
        .unwrap()
        .decide(&mut ScalerState::new(), &observation)
        .unwrap();
    // 140 % of a 500m request is 700m per pod; the request moves to the VPA's minAllowed of
    // 1000m, so the HPA sees 70 % (its target): it holds
    // at 4 instead of doubling to 8 while the pods double in size
    assert_eq!(d.replicas, 4);
    assert_eq!(d.proposals[0].replicas, Some(4));
    assert!(
        d.proposals[0].reason.contains("utilization 70%"),
        "{}",
        d.proposals[0].reason
    );
    let v = d.vertical.unwrap();
    assert_eq!(v.apply.len(), 1);
    assert_eq!(v.apply[0].requests, Resources::new(1000, 2 * GI));
    assert_eq!(
        v.apply[0].limits,
        Resources::new(2000, 4 * GI),
        "limit:request ratio kept"
    );
    assert!(
        v.notes[0].contains("500m is below min_allowed 1000m: moved to it"),
        "{:?}",
        v.notes
    );
}

#[test]
fn a_request_within_the_allowed_range_stays_for_the_resource_the_hpa_scales_on() {
    let s = scaler(HV);
    let mut state = ScalerState::new();
    let mut last = None;
    // a day of 2 pods at 350m each, requests 500m: the HPA sits at its 70 % target
    for minute in 0..24 * 60 {
        let input = DecisionInput {
            now_ms: T0 + minute * 60_000,
            current_replicas: 2,
            metrics: vec![MetricInput::Aggregated {
                value: 70.0,
                ready_replicas: 2,
            }],
            container_usage: usage(2, 0.35, 4e8),
            container_resources: resources(500, GI),
            ..DecisionInput::default()
        };
        last = Some(s.decide(&mut state, &input).unwrap());
    }
    let d = last.unwrap();
    assert_eq!(d.replicas, 2);
    let v = d.vertical.unwrap();
    let rec = &v.recommendation.containers[0];
    // the VPA alone would set 350m x 1.15 (bucket edge): not 500m
    let target = rec.target.cpu_millicores.unwrap();
    assert!((390..=430).contains(&target), "target {target}");
    assert!(
        v.notes
            .iter()
            .any(|n| n.contains("app cpu: kept at 500m (the VPA recommends")),
        "{:?}",
        v.notes
    );
    // memory is not what the HPA scales on: it follows the VPA (down from 1 GiB)
    let applied = &v.apply[0];
    assert_eq!(applied.requests.cpu_millicores, Some(500));
    assert_eq!(applied.requests.memory_bytes, rec.target.memory_bytes);
}

#[test]
fn update_mode_off_reports_without_applying() {
    let s = scaler(&format!("{HV}  update_mode: off\n"));
    let d = s
        .decide(
            &mut ScalerState::new(),
            &DecisionInput {
                now_ms: T0,
                current_replicas: 2,
                metrics: vec![MetricInput::Aggregated {
                    value: 140.0,
                    ready_replicas: 2,
                }],
                container_usage: usage(2, 0.7, 4e8),
                container_resources: resources(100, GI),
                ..DecisionInput::default()
            },
        )
        .unwrap();
    let v = d.vertical.unwrap();
    assert!(v.apply.is_empty());
    assert!(v.notes[0].contains("update_mode off"));
    // the HPA decides on the requests as they are: 140 % of 70 % doubles
    assert_eq!(d.replicas, 4);
}

#[test]
fn bad_vertical_inputs_are_named_and_leave_the_state_alone() {
    let s = scaler(HV);
    let mut state = ScalerState::new();
    let good = DecisionInput {
        now_ms: T0,
        current_replicas: 2,
        metrics: vec![MetricInput::Aggregated {
            value: 70.0,
            ready_replicas: 2,
        }],
        container_usage: usage(2, 0.35, 4e8),
        container_resources: resources(500, GI),
        ..DecisionInput::default()
    };
    s.decide(&mut state, &good).unwrap();
    let before = state.clone();
    let mut nan = DecisionInput {
        now_ms: T0 + 60_000,
        ..good.clone()
    };
    nan.container_usage[1].cpu_cores = Some(f64::NAN);
    let e = s.decide(&mut state, &nan).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(
        e.to_string()
            .contains("container_usage: usage[1].cpu_cores"),
        "{e}"
    );
    let mut negative = DecisionInput {
        now_ms: T0 + 60_000,
        ..good
    };
    negative.container_resources[0].requests.cpu_millicores = Some(-1);
    let e = s.decide(&mut state, &negative).unwrap_err();
    assert!(
        e.to_string()
            .contains("requests.cpu_millicores must be >= 0"),
        "{e}"
    );
    assert_eq!(state, before);
    let e = ScalerSpec::from_yaml("max_replicas: 3\nvpa: {update_mode: sometimes}\n").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
}

#[test]
fn two_horizontal_manifests_in_one_file_are_refused() {
    let hpa = read("testdata/seed/hpa.yaml");
    let e = ScalerSpec::from_yaml(&format!("{hpa}\n---\n{hpa}")).unwrap_err();
    assert!(e.to_string().contains("one horizontal autoscaler"), "{e}");
}

/// Replays a steady total demand of `demand_cores` for `hours`, one decision per 5 minutes,
/// applying each decision's replicas and requests, and returns (replicas, cpu request) after
/// each decision.
fn replay_steady(
    s: &Scaler,
    demand_cores: f64,
    start_request_m: i64,
    start_replicas: u32,
    hours: i64,
) -> Vec<(u32, i64)> {
    let mut state = ScalerState::new();
    let mut replicas = start_replicas;
    let mut request = start_request_m;
    let mut out = Vec::new();
    for step in 0..hours * 12 {
        let per_pod = demand_cores / f64::from(replicas);
        let input = DecisionInput {
            now_ms: T0 + step * 300_000,
            current_replicas: replicas,
            metrics: vec![MetricInput::Aggregated {
                value: per_pod * 1000.0 / request as f64 * 100.0,
                ready_replicas: replicas,
            }],
            container_usage: usage(replicas, per_pod, 3e8),
            container_resources: resources(request, GI),
            ..DecisionInput::default()
        };
        let d: Decision = s.decide(&mut state, &input).unwrap();
        replicas = d.replicas;
        if let Some(a) = d.vertical.as_ref().and_then(|v| v.apply.first()) {
            request = a.requests.cpu_millicores.unwrap_or(request);
        }
        out.push((replicas, request));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn horizontal_and_vertical_never_oscillate_on_a_steady_load(
        demand in 0.5f64..12.0, request in 100i64..3000, replicas in 1u32..12, target in 50u32..90
    ) {
        let s = scaler(&HV.replace("average_utilization: 70", &format!("average_utilization: {target}")));
        let path = replay_steady(&s, demand, request, replicas, 36);
        // settle: a few moves (the HPA's, then at most a resize or two as the VPA's range
        // tightens with its confidence over the first day), then nothing changes
        let tail = &path[path.len() - 6 * 12..];
        prop_assert!(tail.windows(2).all(|w| w[0] == w[1]), "still moving in the last 6 hours: {:?}", &tail[..8]);
        // and never back to a state left earlier (no A -> B -> A), except the HPA's own
        // overshoot by one replica at an unchanged request (a capped scale-up's recommendation
        // held in the downscale window: `a_capped_scale_up_may_overshoot_once_as_kubernetes_does`)
        let mut seen: Vec<(u32, i64)> = Vec::new();
        let mut overshoots = 0;
        for p in &path {
            if seen.last() != Some(p) {
                if seen.contains(p) {
                    let from = *seen.last().unwrap();
                    let horizontal_only = from.1 == p.1 && from.0 == p.0 + 1;
                    prop_assert!(horizontal_only && overshoots == 0, "returned to {p:?}: {seen:?}");
                    overshoots += 1;
                }
                seen.push(*p);
            }
        }
        prop_assert!(seen.len() <= 5, "kept moving: {seen:?}");
    }
}

#[test]
fn a_resized_request_is_what_the_hpa_sees() {
    let s = scaler(HV);
    let d = s
        .decide(
            &mut ScalerState::new(),
            &DecisionInput {
                now_ms: T0,
                current_replicas: 2,
                // 70 % of a 100m request: 70m per pod
                metrics: vec![MetricInput::Aggregated {
                    value: 70.0,
                    ready_replicas: 2,
                }],
                container_usage: usage(2, 0.07, 4e8),
                container_resources: resources(100, GI),
                ..DecisionInput::default()
            },
        )
        .unwrap();
    // 100m is below min_allowed (250m): resized to 250m ..
    let v = d.vertical.unwrap();
    assert_eq!(v.apply[0].requests.cpu_millicores, Some(250));
    // .. and the HPA sees 70m of 250m = 28 %: it proposes one replica, not two
    assert!(
        d.proposals[0].reason.contains("utilization 28%"),
        "{}",
        d.proposals[0].reason
    );
    assert_eq!(d.proposals[0].replicas, Some(1));
    // the replica count itself waits for the HPA's 5-minute downscale window
    assert_eq!(d.replicas, 2);
    assert!(d.steps.iter().any(|s| s.stage == Stage::Stabilization));
}

/// Found by the property above (its minimal input): 9.54 cores on 1 replica of 1632m at a 72 %
/// target. The HPA's scale-up from 4 is capped at 8 (twice the replicas); its recommendation, 9,
/// stays in the five-minute downscale window (a decision exactly five minutes later included, as
/// Kubernetes keeps it); at 8 the utilization is within tolerance (73 %), so the window's 9
/// wins; at 9 it is 64 % (ratio 0.889, outside tolerance) and the HPA settles at 8. Kubernetes
/// does the same; the request never moves.
#[test]
fn a_capped_scale_up_may_overshoot_once_as_kubernetes_does() {
    let s = scaler(&HV.replace("average_utilization: 70", "average_utilization: 72"));
    let path = replay_steady(&s, 9.543_718_183_279_623, 1632, 1, 2);
    let replicas: Vec<u32> = path.iter().map(|p| p.0).collect();
    assert_eq!(replicas[..6], [4, 8, 9, 8, 8, 8]);
    assert!(path.iter().all(|p| p.1 == 1632), "{path:?}");
    assert!(replicas[3..].iter().all(|&r| r == 8), "{replicas:?}");
}
