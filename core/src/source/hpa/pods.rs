//! Pod classification (`specs/hpa.md` §3): which pods' samples count, and how.

use std::collections::{BTreeMap, BTreeSet};

use crate::source::hpa::{ConditionStatus, Pod, PodPhase};
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
pub struct PodGroups<'a> {
    /// Pods whose samples count as they are.
    pub ready_count: usize,
    /// Pending pods, and (for CPU) pods not yet ready or sampled too soon after becoming ready.
    pub unready: BTreeSet<&'a str>,
    /// Pods without a sample.
    pub missing: BTreeSet<&'a str>,
    /// Deleting and failed (optionally succeeded) pods: left out entirely.
    pub ignored: BTreeSet<&'a str>,
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
///     ("a", PodSample { value_milli: 100, timestamp_ms: 0, window_ms: 60_000 }),
/// ]);
/// let g = group_pods(&pods, &samples, false, &ControllerConfig::default(), 0);
/// assert_eq!(g.ready_count, 1);
/// assert!(g.unready.contains("b") && g.ignored.contains("c"));
/// ```
#[must_use]
pub fn group_pods<'a>(
    pods: &'a [Pod],
    samples: &BTreeMap<&str, PodSample>,
    cpu_readiness: bool,
    config: &ControllerConfig,
    now_ms: Timestamp,
) -> PodGroups<'a> {
    let mut groups = PodGroups::default();
    for pod in pods {
        let sample = samples.get(pod.name.as_str());
        match classify_pod(pod, sample, cpu_readiness, config, now_ms) {
            PodClass::Ready => groups.ready_count += 1,
            PodClass::Unready => {
                groups.unready.insert(pod.name.as_str());
            }
            PodClass::Missing => {
                groups.missing.insert(pod.name.as_str());
            }
            PodClass::Ignored => {
                groups.ignored.insert(pod.name.as_str());
            }
        }
    }
    groups
}

/// The bucket of one pod (see [`group_pods`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PodClass {
    Ready,
    Unready,
    Missing,
    Ignored,
}

/// Classifies one pod given its sample, if any (§3, checked in order).
pub(crate) fn classify_pod(
    pod: &Pod,
    sample: Option<&PodSample>,
    cpu_readiness: bool,
    config: &ControllerConfig,
    now_ms: Timestamp,
) -> PodClass {
    let terminal = match pod.phase {
        PodPhase::Failed => true,
        PodPhase::Succeeded => {
            config.compatibility.terminal_pods == TerminalPods::FailedAndSucceeded
        }
        _ => false,
    };
    if pod.deleting || terminal {
        return PodClass::Ignored;
    }
    if pod.phase == PodPhase::Pending {
        return PodClass::Unready;
    }
    let Some(sample) = sample else {
        return PodClass::Missing;
    };
    if cpu_readiness {
        let unready = match (pod.ready, pod.start_time_ms) {
            (Some(ready), Some(start)) => {
                let cpu_init_ms = secs_to_ms(i64::from(config.cpu_initialization_period_s));
                if start.saturating_add(cpu_init_ms) > now_ms {
                    // inside the initialization period: trust only samples taken a whole
                    // window after the pod last changed readiness
                    ready.status == ConditionStatus::False
                        || sample.timestamp_ms
                            < ready.last_transition_ms.saturating_add(sample.window_ms)
                } else {
                    // afterwards: unready only if it has never been ready since start
                    let delay_ms = secs_to_ms(i64::from(config.initial_readiness_delay_s));
                    ready.status == ConditionStatus::False
                        && start.saturating_add(delay_ms) > ready.last_transition_ms
                }
            }
            _ => true,
        };
        if unready {
            return PodClass::Unready;
        }
    }
    PodClass::Ready
}
