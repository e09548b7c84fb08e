//! Shared fixtures for the criterion benches (the benches live in `benches/`).
//!
//! Inputs are synthetic and deterministic so that runs compare.

use replicast::hpa::{
    ConditionStatus, Container, ContainerUsage, MetricInput, Pod, PodMetricSample, PodPhase,
    PodResourceSample, ReadyCondition,
};
use replicast::{DecisionInput, ScalerSpec};

/// The instant every fixture decides at.
pub const NOW_MS: i64 = 1_700_000_000_000;

/// A one-metric CPU utilization HPA with no behavior (the legacy path).
///
/// # Panics
/// Never for this fixed spec.
#[must_use]
pub fn aggregated_spec() -> ScalerSpec {
    ScalerSpec::from_yaml(
        "min_replicas: 1\nmax_replicas: 100\nhpa:\n  metrics:\n    - {type: resource, resource: cpu, target: {type: utilization, average_utilization: 70}}\n",
    )
    .expect("valid fixture spec")
}

/// An aggregated observation whose utilization varies with `i`.
#[must_use]
pub fn aggregated_input(i: u64, now_ms: i64) -> DecisionInput {
    DecisionInput {
        now_ms,
        current_replicas: 10,
        metrics: vec![MetricInput::Aggregated {
            value: 40.0 + (i % 60) as f64,
            ready_replicas: 10,
        }],
        ..DecisionInput::default()
    }
}

/// A two-metric HPA (CPU utilization and a Pods metric) with behavior set.
///
/// # Panics
/// Never for this fixed spec.
#[must_use]
pub fn per_pod_spec() -> ScalerSpec {
    ScalerSpec::from_yaml(
        r"
min_replicas: 1
max_replicas: 500
hpa:
  metrics:
    - {type: resource, resource: cpu, target: {type: utilization, average_utilization: 60}}
    - {type: pods, name: rps, target: {type: average_value, average_value: 100}}
behavior:
  scale_down: {stabilization_window_s: 300}
",
    )
    .expect("valid fixture spec")
}

/// `pods` running, ready pods with one container each, and their CPU and rps samples.
#[must_use]
pub fn per_pod_input(pods: usize, now_ms: i64) -> DecisionInput {
    let pod_list: Vec<Pod> = (0..pods)
        .map(|i| Pod {
            name: format!("web-{i}"),
            phase: PodPhase::Running,
            deleting: false,
            start_time_ms: Some(now_ms - 3_600_000),
            ready: Some(ReadyCondition {
                status: ConditionStatus::True,
                last_transition_ms: now_ms - 3_500_000,
            }),
            containers: vec![Container {
                name: "app".to_owned(),
                requests_milli: [("cpu".to_owned(), 500)].into_iter().collect(),
            }],
            init_containers: Vec::new(),
            pod_requests_milli: None,
        })
        .collect();
    let cpu = pod_list
        .iter()
        .enumerate()
        .map(|(i, p)| PodResourceSample {
            pod: p.name.clone(),
            timestamp_ms: now_ms - 10_000,
            window_ms: 60_000,
            containers: vec![ContainerUsage {
                name: "app".to_owned(),
                usage_milli: Some(250 + (i as i64 * 37) % 200),
            }],
        })
        .collect();
    let rps = pod_list
        .iter()
        .enumerate()
        .map(|(i, p)| PodMetricSample {
            pod: p.name.clone(),
            value_milli: 80_000 + (i as i64 * 7919) % 50_000,
            timestamp_ms: now_ms - 10_000,
            window_ms: 60_000,
        })
        .collect();
    DecisionInput {
        now_ms,
        current_replicas: pods as u32,
        pods: Some(pod_list),
        metrics: vec![
            MetricInput::Resource { samples: cpu },
            MetricInput::Pods { samples: rps },
        ],
        ..DecisionInput::default()
    }
}

/// A week of 5-minute load (2016 steps, issue 15's unit of work): a daily cycle, a quieter
/// weekend and deterministic noise, so that every policy scales up and down and the predictive
/// source has a season to learn.
///
/// # Panics
/// Never: the timestamps are regular and the values finite.
#[must_use]
pub fn week_5min_trace() -> replicast::sim::Trace {
    const STEPS: i64 = 7 * 288;
    // a fixed linear congruential generator: the same noise on every run and machine
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut noise = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let values = (0..STEPS)
        .map(|k| {
            let day = (k as f64 / 288.0) * std::f64::consts::TAU;
            let weekend = if k / 288 >= 5 { 0.6 } else { 1.0 };
            weekend * (500.0 + 350.0 * (day - 1.5).sin()) * (1.0 + 0.15 * noise())
        })
        .collect();
    replicast::sim::Trace::new((0..STEPS).map(|k| k * 300).collect(), values)
        .expect("a regular, finite trace")
}
