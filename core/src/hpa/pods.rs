//! Pod classification (`specs/hpa.md` §3): which pods' samples count, and how.

use std::collections::{BTreeMap, BTreeSet};

use crate::hpa::{ConditionStatus, Pod, PodPhase};
use crate::spec::{ControllerConfig, TerminalPods};
use crate::time::{Timestamp, secs_to_ms};

/// One pod's sample of the metric being evaluated, after per-container summing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodSample {
    /// The value in milli-units.
    pub value_milli: i64,
    /// When it was taken.
    pub timestamp_ms: Timestamp,
    /// The window it averages over.
    pub window_ms: i64,
}

/// The classification of a pod list against a set of samples.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodGroups {
    /// Pods whose samples count as they are.
    pub ready_count: usize,
    /// Pending pods, and (for CPU) pods not yet ready or sampled too soon after becoming ready.
    pub unready: BTreeSet<String>,
    /// Pods without a sample.
    pub missing: BTreeSet<String>,
    /// Deleting and failed (optionally succeeded) pods: left out entirely.
    pub ignored: BTreeSet<String>,
}

/// Classifies `pods` as the HPA controller does before computing a ratio: each pod is
/// ignored, unready, missing or ready, checked in that order. The readiness rules apply only
/// when `cpu_readiness` is set (a Resource or ContainerResource metric of `cpu`); all time
/// comparisons are strict, so equality counts as ready.
///
/// ```
/// use std::collections::BTreeMap;
/// use replicast::hpa::{group_pods, Pod, PodPhase, PodSample};
/// use replicast::spec::ControllerConfig;
///
/// let pod = |name: &str, phase| Pod {
///     name: name.into(), phase, deleting: false, start_time_ms: None, ready: None,
///     containers: vec![], init_containers: vec![], pod_requests_milli: None,
/// };
/// let pods = [pod("a", PodPhase::Running), pod("b", PodPhase::Pending), pod("c", PodPhase::Failed)];
/// let samples = BTreeMap::from([
///     ("a".to_string(), PodSample { value_milli: 100, timestamp_ms: 0, window_ms: 60_000 }),
/// ]);
/// let g = group_pods(&pods, &samples, false, &ControllerConfig::default(), 0);
/// assert_eq!(g.ready_count, 1);
/// assert!(g.unready.contains("b") && g.ignored.contains("c"));
/// ```
#[must_use]
pub fn group_pods(
    pods: &[Pod],
    samples: &BTreeMap<String, PodSample>,
    cpu_readiness: bool,
    config: &ControllerConfig,
    now_ms: Timestamp,
) -> PodGroups {
    let mut groups = PodGroups::default();
    let cpu_init_ms = secs_to_ms(i64::from(config.cpu_initialization_period_s));
    let readiness_delay_ms = secs_to_ms(i64::from(config.initial_readiness_delay_s));
    for pod in pods {
        let terminal = match pod.phase {
            PodPhase::Failed => true,
            PodPhase::Succeeded => {
                config.compatibility.terminal_pods == TerminalPods::FailedAndSucceeded
            }
            _ => false,
        };
        if pod.deleting || terminal {
            groups.ignored.insert(pod.name.clone());
            continue;
        }
        if pod.phase == PodPhase::Pending {
            groups.unready.insert(pod.name.clone());
            continue;
        }
        let Some(sample) = samples.get(&pod.name) else {
            groups.missing.insert(pod.name.clone());
            continue;
        };
        if cpu_readiness {
            let unready = match (pod.ready, pod.start_time_ms) {
                (Some(ready), Some(start)) => {
                    if start.saturating_add(cpu_init_ms) > now_ms {
                        // inside the initialization period: trust only samples taken a whole
                        // window after the pod last changed readiness
                        ready.status == ConditionStatus::False
                            || sample.timestamp_ms
                                < ready.last_transition_ms.saturating_add(sample.window_ms)
                    } else {
                        // afterwards: unready only if it has never been ready since start
                        ready.status == ConditionStatus::False
                            && start.saturating_add(readiness_delay_ms) > ready.last_transition_ms
                    }
                }
                _ => true,
            };
            if unready {
                groups.unready.insert(pod.name.clone());
                continue;
            }
        }
        groups.ready_count += 1;
    }
    groups
}
