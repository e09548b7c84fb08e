//! What a controller observes for one HPA sync: pods, and per-metric samples (per pod, per
//! object, external series, or already aggregated).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// A pod of the scale target, as the HPA controller sees it.
///
/// ```
/// use replicast::hpa::{Pod, PodPhase};
/// let pod: Pod = serde_json::from_str(r#"{
///     "name": "web-0", "phase": "running",
///     "start_time_ms": 0, "ready": {"status": "true", "last_transition_ms": 1000},
///     "containers": [{"name": "app", "requests_milli": {"cpu": 500}}]
/// }"#).unwrap();
/// assert_eq!(pod.phase, PodPhase::Running);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pod {
    /// Pod name; metric samples refer to pods by name.
    pub name: String,
    /// `status.phase`.
    pub phase: PodPhase,
    /// Whether the pod has a deletion timestamp.
    #[serde(default)]
    pub deleting: bool,
    /// `status.startTime`; `None` when the pod has none.
    #[serde(default)]
    pub start_time_ms: Option<Timestamp>,
    /// The `Ready` condition; `None` when the pod has none.
    #[serde(default)]
    pub ready: Option<ReadyCondition>,
    /// Regular containers with their requests.
    #[serde(default)]
    pub containers: Vec<Container>,
    /// Init containers; only those with `restart_always` (sidecars) count towards requests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<InitContainer>,
    /// Pod-level requests (`spec.resources.requests`), used with the PodLevelResources gate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_requests_milli: Option<BTreeMap<String, i64>>,
}

/// `status.phase` of a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PodPhase {
    /// Accepted, not all containers running yet.
    Pending,
    /// Bound and running.
    Running,
    /// All containers terminated successfully.
    Succeeded,
    /// All containers terminated, at least one in failure.
    Failed,
    /// State unknown.
    Unknown,
}

/// A pod's `Ready` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadyCondition {
    /// The condition status.
    pub status: ConditionStatus,
    /// When the status last changed.
    pub last_transition_ms: Timestamp,
}

/// Status of a Kubernetes condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConditionStatus {
    /// `True`.
    True,
    /// `False`.
    False,
    /// `Unknown`.
    Unknown,
}

/// A regular container and its resource requests (milli-units by resource name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Container {
    /// Container name.
    pub name: String,
    /// Requests in milli-units, by resource (`cpu`, `memory`); a missing key means no request.
    #[serde(default)]
    pub requests_milli: BTreeMap<String, i64>,
}

/// An init container; a sidecar (`restartPolicy: Always`) counts towards the pod's requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitContainer {
    /// Container name.
    pub name: String,
    /// Requests in milli-units, by resource.
    #[serde(default)]
    pub requests_milli: BTreeMap<String, i64>,
    /// `restartPolicy: Always` (a sidecar).
    #[serde(default)]
    pub restart_always: bool,
}

/// One pod's resource usage sample (metrics.k8s.io `PodMetrics`) for the metric's resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodResourceSample {
    /// Pod name (may name a pod not in the pod list; such samples are kept, as upstream does).
    pub pod: String,
    /// When the sample was taken.
    pub timestamp_ms: Timestamp,
    /// The window the sample averages over.
    pub window_ms: i64,
    /// Per-container usage of the metric's resource.
    pub containers: Vec<ContainerUsage>,
}

/// A container's usage of one resource; `None` when the container did not report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerUsage {
    /// Container name.
    pub name: String,
    /// Usage in milli-units.
    pub usage_milli: Option<i64>,
}

/// One pod's value of a custom (Pods) metric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodMetricSample {
    /// Pod name.
    pub pod: String,
    /// Value in milli-units.
    pub value_milli: i64,
    /// When the sample was taken.
    pub timestamp_ms: Timestamp,
    /// The window the sample averages over (the controller's default is one minute).
    #[serde(default = "default_window_ms")]
    pub window_ms: i64,
}

fn default_window_ms() -> i64 {
    60_000
}

/// The observation for one HPA metric, in the same position as the metric in the spec.
///
/// Per-pod forms reproduce the controller exactly; `Aggregated` serves callers that only have
/// an average (e.g. from Prometheus) and a ready-replica count.
///
/// ```
/// use replicast::hpa::MetricInput;
/// let m: MetricInput = serde_json::from_str(
///     r#"{"kind": "aggregated", "value": 85.0, "ready_replicas": 4}"#,
/// ).unwrap();
/// assert!(matches!(m, MetricInput::Aggregated { ready_replicas: 4, .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum MetricInput {
    /// Per-pod resource usage (for `Resource` and `ContainerResource` metrics).
    Resource {
        /// One sample per pod the metrics API returned.
        samples: Vec<PodResourceSample>,
    },
    /// Per-pod custom metric values (for `Pods` metrics).
    Pods {
        /// One sample per pod the custom metrics API returned.
        samples: Vec<PodMetricSample>,
    },
    /// The value of an `Object` metric, milli-units.
    Object {
        /// The object's value.
        value_milli: i64,
    },
    /// Every series of an `External` metric, milli-units (summed, as the controller does).
    External {
        /// One value per series.
        values_milli: Vec<i64>,
    },
    /// An already aggregated value, in whole units (not milli): for Resource and Pods metrics
    /// the average over `ready_replicas` pods (percent of the request for `Utilization`
    /// targets); for Object and External metrics the object's value or the sum of the series,
    /// exactly what the controller would read (`ready_replicas` is then the ready-pod count a
    /// `Value` target multiplies, and `AverageValue` targets divide by the status replicas).
    /// With `ready_replicas == 0` a Resource or Pods average has no pods behind it and the
    /// metric fails, as upstream does when no pod has metrics.
    Aggregated {
        /// The aggregated value.
        value: f64,
        /// Ready replicas the average was taken over.
        ready_replicas: u32,
    },
    /// The metric could not be fetched; the decision holds instead of scaling down.
    Unavailable {
        /// Why (shown in the decision).
        reason: String,
    },
}

impl MetricInput {
    /// The `kind` tag of this input (`"aggregated"`, `"unavailable"`...), for messages.
    #[must_use]
    pub fn kind_name(&self) -> &'static str {
        match self {
            MetricInput::Resource { .. } => "resource",
            MetricInput::Pods { .. } => "pods",
            MetricInput::Object { .. } => "object",
            MetricInput::External { .. } => "external",
            MetricInput::Aggregated { .. } => "aggregated",
            MetricInput::Unavailable { .. } => "unavailable",
        }
    }
}
