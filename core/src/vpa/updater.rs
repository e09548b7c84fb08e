//! "Should I apply it?" — the VPA updater's priority of a pod (spec §9.3): how far its requests
//! are from the targets, whether any request is outside [lowerBound, upperBound], and the gates
//! that decide whether an in-range pod is still worth updating.

use serde::{Deserialize, Serialize};

use super::capping::Bounds;
use super::spec::{Resource, Resources, UpdaterConfig};

/// The updater's view of one pod (upstream `PodPriority`).
///
/// ```
/// use replicast::vpa::capping::Bounds;
/// use replicast::vpa::updater::update_priority;
/// use replicast::vpa::Resources;
/// let requests = Resources { cpu_millicores: Some(2000), memory_bytes: None };
/// let bounds = Bounds { target: Resources { cpu_millicores: Some(10_000), memory_bytes: None }, ..Bounds::default() };
/// let p = update_priority(&[(requests, bounds)]);
/// assert!(p.scale_up && !p.outside_recommended_range);
/// assert_eq!(p.resource_diff, 4.0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdatePriority {
    /// Some request is below its lower bound or above its upper bound (or missing).
    pub outside_recommended_range: bool,
    /// Some target is above its request (or the request is missing).
    pub scale_up: bool,
    /// Σ over resources of |Σ requests − Σ targets| / max(Σ requests, 1), in milli-units.
    pub resource_diff: f64,
}

/// Why the updater would, or would not, apply the recommendation to a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateVerdict {
    /// A request is outside [lower bound, upper bound]: update.
    OutsideRecommendedRange,
    /// A quick OOM (killed soon after start) and the targets differ: update.
    QuickOom,
    /// In range, old enough, and the change reaches `min_change_priority`: update.
    SignificantChange,
    /// A quick OOM, but the recommendation equals the requests: nothing to change.
    NoChange,
    /// In range and the pod is younger than `pod_lifetime_update_threshold_s` (or its start
    /// time is unknown): leave it.
    PodTooYoung,
    /// In range and `resource_diff < min_change_priority`: leave it.
    ChangeTooSmall,
}

impl UpdateVerdict {
    /// Whether the updater would update (evict or resize) the pod.
    #[must_use]
    pub fn should_update(self) -> bool {
        matches!(
            self,
            UpdateVerdict::OutsideRecommendedRange
                | UpdateVerdict::QuickOom
                | UpdateVerdict::SignificantChange
        )
    }
}

/// Upstream `GetUpdatePriority` over a pod's containers: `(current requests, processed
/// recommendation)` pairs. Only the resources present in a target count; values compare in
/// milli-units as upstream does.
#[must_use]
pub fn update_priority(containers: &[(Resources, Bounds)]) -> UpdatePriority {
    let mut outside = false;
    let mut scale_up = false;
    let mut total_request = [0i128; 2];
    let mut total_recommended = [0i128; 2];
    let mut present = [false; 2];
    for (requests, bounds) in containers {
        for (i, res) in Resource::ALL.into_iter().enumerate() {
            let Some(target) = bounds.target.get(res) else {
                continue;
            };
            present[i] = true;
            let milli = |v: i64| match res {
                Resource::Cpu => i128::from(v),
                Resource::Memory => i128::from(v) * 1000,
            };
            total_recommended[i] += milli(target);
            if let Some(request) = requests.get(res) {
                total_request[i] += milli(request);
                if target > request {
                    scale_up = true;
                }
                if bounds.lower_bound.get(res).is_some_and(|lo| request < lo)
                    || bounds.upper_bound.get(res).is_some_and(|hi| request > hi)
                {
                    outside = true;
                }
            } else {
                scale_up = true;
                outside = true;
            }
        }
    }
    let mut diff = 0.0;
    for i in 0..2 {
        if present[i] {
            // Go: float64(int64 milli-values); i128 → f64 here equals it whenever Go's int64
            // did not overflow
            let request = (total_request[i] as f64).max(1.0);
            diff += (request - total_recommended[i] as f64).abs() / request;
        }
    }
    UpdatePriority {
        outside_recommended_range: outside,
        scale_up,
        resource_diff: diff,
    }
}

impl UpdatePriority {
    /// Upstream `UpdatePriorityCalculator.AddPod`'s gates for a pod that started at
    /// `pod_start_ms` (`None`: unknown) and possibly OOM-ed quickly (`quick_oom`: a container
    /// was OOM-killed less than `evict_after_oom_threshold_s` after it started).
    #[must_use]
    pub fn verdict(
        &self,
        config: &UpdaterConfig,
        now_ms: i64,
        pod_start_ms: Option<i64>,
        quick_oom: bool,
    ) -> UpdateVerdict {
        if !self.outside_recommended_range && !quick_oom {
            let Some(start) = pod_start_ms else {
                return UpdateVerdict::PodTooYoung;
            };
            let threshold_ms = i64::from(config.pod_lifetime_update_threshold_s) * 1000;
            if now_ms < start.saturating_add(threshold_ms) {
                return UpdateVerdict::PodTooYoung;
            }
            if self.resource_diff < config.min_change_priority {
                return UpdateVerdict::ChangeTooSmall;
            }
        }
        if quick_oom && self.resource_diff == 0.0 {
            return UpdateVerdict::NoChange;
        }
        if self.outside_recommended_range {
            UpdateVerdict::OutsideRecommendedRange
        } else if quick_oom {
            UpdateVerdict::QuickOom
        } else {
            UpdateVerdict::SignificantChange
        }
    }
}
