//! Per-container state (spec §6–§7): the aggregate histograms every pod of the workload feeds,
//! and each pod's own bookkeeping (CPU sample ordering, the memory peak of the current
//! aggregation interval, OOM peaks).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::decaying::DecayingHistogram;
use super::estimator::{memory_amount_from_bytes, scale_resource};
use super::gotime;
use crate::time::GO_ZERO_TIME_MS;

/// Weight of one CPU sample (upstream `minSampleWeight`; constant since VPA 1.4.0).
pub const CPU_SAMPLE_WEIGHT: f64 = 0.1;

/// The aggregate of one container name (upstream `AggregateContainerState`): the decaying CPU
/// usage histogram (cores, one entry per sample, weight 0.1), the decaying histogram of memory
/// peaks (bytes, one entry per pod and aggregation interval, weight 1, stamped at the interval's
/// end), and the CPU sample times and count that drive the confidence of both resources.
///
/// Times are `i64` ms; `None` is Go's zero time ("never").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregateState {
    /// CPU usage in cores.
    pub cpu: DecayingHistogram,
    /// Memory peaks in bytes.
    pub memory: DecayingHistogram,
    /// Start of the earliest CPU sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_sample_start_ms: Option<i64>,
    /// Start of the latest CPU sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sample_start_ms: Option<i64>,
    /// Number of CPU samples aggregated.
    pub total_samples_count: u64,
    /// When the aggregate was created (an empty one expires one window after it).
    pub creation_ms: i64,
}

impl AggregateState {
    /// An empty aggregate created at `creation_ms`.
    #[must_use]
    pub fn new(cpu: DecayingHistogram, memory: DecayingHistogram, creation_ms: i64) -> Self {
        Self {
            cpu,
            memory,
            first_sample_start_ms: None,
            last_sample_start_ms: None,
            total_samples_count: 0,
            creation_ms,
        }
    }

    /// Records one CPU sample (upstream `addCPUSample` of the aggregate).
    pub fn add_cpu_sample(&mut self, cpu_millicores: i64, start_ms: i64) {
        self.cpu
            .add(cpu_millicores as f64 / 1000.0, CPU_SAMPLE_WEIGHT, start_ms);
        if self.last_sample_start_ms.is_none_or(|last| start_ms > last) {
            self.last_sample_start_ms = Some(start_ms);
        }
        if self
            .first_sample_start_ms
            .is_none_or(|first| start_ms < first)
        {
            self.first_sample_start_ms = Some(start_ms);
        }
        self.total_samples_count = self.total_samples_count.saturating_add(1);
    }

    /// Whether the aggregate has had no CPU sample.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.total_samples_count == 0
    }

    /// Upstream `isExpired`: no CPU sample for a whole memory aggregation window (an empty
    /// aggregate: one window after its creation).
    #[must_use]
    pub fn is_expired(&self, now_ms: i64, window_ms: i64) -> bool {
        let since = if self.is_empty() {
            self.creation_ms
        } else {
            self.last_sample_start_ms.unwrap_or(GO_ZERO_TIME_MS)
        };
        gotime::sub_ns(now_ms, since) >= window_ms.saturating_mul(1_000_000)
    }
}

/// One pod's bookkeeping for a container (upstream `ContainerState`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodState {
    /// Start of the last accepted CPU sample (later ones must be strictly newer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_cpu_sample_start_ms: Option<i64>,
    /// Start of the last accepted memory sample (later non-OOM ones must not be older).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_memory_sample_start_ms: Option<i64>,
    /// End of the current memory aggregation interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_end_ms: Option<i64>,
    /// Highest usage sample in the current interval (bytes).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub memory_peak_bytes: i64,
    /// Highest OOM-derived sample in the current interval (bytes).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub oom_peak_bytes: i64,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(v: &i64) -> bool {
    *v == 0
}

impl PodState {
    /// The peak the aggregate currently holds for this pod's interval.
    #[must_use]
    pub fn max_memory_peak(&self) -> i64 {
        self.memory_peak_bytes.max(self.oom_peak_bytes)
    }

    /// The latest time this pod reported anything.
    pub(crate) fn last_activity_ms(&self) -> Option<i64> {
        [
            self.last_cpu_sample_start_ms,
            self.last_memory_sample_start_ms,
            self.window_end_ms,
        ]
        .into_iter()
        .flatten()
        .max()
    }
}

/// Memory and OOM settings in force for one container (recommender defaults overlaid by its
/// container policy).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct MemoryConfig {
    pub(crate) interval_ms: i64,
    pub(crate) interval_count: i64,
    pub(crate) oom_bump_up_ratio: f64,
    pub(crate) oom_min_bump_up_bytes: f64,
}

impl MemoryConfig {
    pub(crate) fn window_ms(&self) -> i64 {
        self.interval_ms.saturating_mul(self.interval_count)
    }
}

/// `pods[pod]`, inserted empty when missing (the key is allocated only then).
fn pod_entry<'a>(pods: &'a mut BTreeMap<String, PodState>, pod: &str) -> Option<&'a mut PodState> {
    if !pods.contains_key(pod) {
        pods.insert(pod.to_owned(), PodState::default());
    }
    pods.get_mut(pod)
}

/// Everything kept for one container name: its aggregate and its pods' bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerState {
    /// The aggregate the recommendation is computed from.
    pub aggregate: AggregateState,
    /// Per-pod bookkeeping, by pod name (`""` when the caller feeds one stream).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pods: BTreeMap<String, PodState>,
}

impl ContainerState {
    /// Upstream `ContainerState.addCPUSample`: accepted unless negative or not strictly newer
    /// than the pod's last CPU sample.
    pub(crate) fn add_cpu_sample(&mut self, pod: &str, start_ms: i64, cpu_millicores: i64) -> bool {
        let last = self.pods.get(pod).and_then(|p| p.last_cpu_sample_start_ms);
        if cpu_millicores < 0 || last.is_some_and(|last| start_ms <= last) {
            return false;
        }
        self.aggregate.add_cpu_sample(cpu_millicores, start_ms);
        if let Some(p) = pod_entry(&mut self.pods, pod) {
            p.last_cpu_sample_start_ms = Some(start_ms);
        }
        true
    }

    /// Upstream `ContainerState.addMemorySample`: keeps one peak per pod and aggregation
    /// interval in the aggregate, replacing it (subtract + add at the interval's end) when a
    /// higher sample arrives in the same interval.
    pub(crate) fn add_memory_sample(
        &mut self,
        pod: &str,
        start_ms: i64,
        memory_bytes: i64,
        is_oom: bool,
        config: &MemoryConfig,
    ) -> bool {
        let state = self.pods.get(pod);
        let last = state.and_then(|p| p.last_memory_sample_start_ms);
        if memory_bytes < 0 || (!is_oom && last.is_some_and(|last| start_ms < last)) {
            return false;
        }
        let Some(pod_state) = pod_entry(&mut self.pods, pod) else {
            return false;
        };
        pod_state.last_memory_sample_start_ms = Some(start_ms);
        let window_end = *pod_state.window_end_ms.get_or_insert(start_ms);
        let mut add_new_peak = false;
        if start_ms < window_end {
            let old_max = pod_state.max_memory_peak();
            if old_max != 0 && memory_bytes > old_max {
                self.aggregate
                    .memory
                    .subtract(old_max as f64, 1.0, window_end);
                add_new_peak = true;
            }
        } else {
            // Go: ts.Sub(windowEnd).Truncate(interval) + interval, in saturating nanoseconds
            let interval_ns = i128::from(config.interval_ms) * 1_000_000;
            let elapsed_ns = i128::from(gotime::sub_ns(start_ms, window_end));
            let shift_ns = elapsed_ns - elapsed_ns % interval_ns + interval_ns;
            let new_end = i128::from(window_end) + shift_ns / 1_000_000;
            pod_state.window_end_ms = Some(new_end.min(i128::from(i64::MAX)) as i64);
            pod_state.memory_peak_bytes = 0;
            pod_state.oom_peak_bytes = 0;
            add_new_peak = true;
        }
        if add_new_peak {
            let window_end = pod_state.window_end_ms.unwrap_or(start_ms);
            self.aggregate
                .memory
                .add(memory_bytes as f64, 1.0, window_end);
            if is_oom {
                pod_state.oom_peak_bytes = memory_bytes;
            } else {
                pod_state.memory_peak_bytes = memory_bytes;
            }
        }
        true
    }

    /// Upstream `RecordOOM` with main's staleness rule (spec §6.4, after v1.7.1): an OOM more
    /// than one aggregation interval older than the pod's last memory sample is discarded
    /// (`false`). Otherwise a synthetic peak of
    /// `max(used + min_bump, trunc(used × ratio))`, `used = max(requested, memory peak)`, is
    /// recorded at `time_ms`.
    pub(crate) fn record_oom(
        &mut self,
        pod: &str,
        time_ms: i64,
        requested_memory_bytes: i64,
        config: &MemoryConfig,
    ) -> bool {
        let state = self.pods.get(pod).cloned().unwrap_or_default();
        if let Some(last) = state.last_memory_sample_start_ms
            && i128::from(time_ms) < i128::from(last) - i128::from(config.interval_ms)
        {
            return false;
        }
        let used = requested_memory_bytes.max(state.memory_peak_bytes);
        let needed = used
            .saturating_add(memory_amount_from_bytes(config.oom_min_bump_up_bytes))
            .max(scale_resource(used, config.oom_bump_up_ratio));
        self.add_memory_sample(pod, time_ms, needed, true, config)
    }

    /// The aggregate with every pod's in-progress peak (interval not yet ended at `now_ms`)
    /// subtracted: what upstream writes to a checkpoint, since those peaks will be observed
    /// again after a restart.
    #[must_use]
    pub fn aggregate_for_checkpoint(&self, now_ms: i64) -> AggregateState {
        let mut aggregate = self.aggregate.clone();
        for pod in self.pods.values() {
            if let Some(end) = pod.window_end_ms
                && now_ms < end
            {
                aggregate
                    .memory
                    .subtract(pod.max_memory_peak() as f64, 1.0, end);
            }
        }
        aggregate
    }
}
