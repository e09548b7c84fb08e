//! [`VpaSpec`]: what a vertical recommendation is computed with — the VPA object's policy
//! (update mode, container policies) plus the recommender's tuning, per workload.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::decaying::MAX_HALF_LIFE_MS;
use super::histogram::{HistogramOptions, HistogramSpec};
use crate::error::{Error, Result};
use crate::spec::Quantity;

/// CPU and memory amounts: CPU in millicores, memory in bytes (the VPA's `ResourceAmount`
/// units). `None` means "not set" (no bound, not controlled, not recommended).
///
/// ```
/// use replicast::vpa::Resources;
/// let r = Resources::new(500, 1 << 30);
/// assert_eq!(r.cpu_millicores, Some(500));
/// assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"cpu_millicores":500,"memory_bytes":1073741824}"#);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// CPU in millicores (1000 = one core).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_millicores: Option<i64>,
    /// Memory in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<i64>,
}

impl Resources {
    /// Both resources set.
    #[must_use]
    pub const fn new(cpu_millicores: i64, memory_bytes: i64) -> Self {
        Self {
            cpu_millicores: Some(cpu_millicores),
            memory_bytes: Some(memory_bytes),
        }
    }

    /// The amount of `resource`.
    #[must_use]
    pub fn get(&self, resource: Resource) -> Option<i64> {
        match resource {
            Resource::Cpu => self.cpu_millicores,
            Resource::Memory => self.memory_bytes,
        }
    }

    /// Sets the amount of `resource`.
    pub fn set(&mut self, resource: Resource, value: Option<i64>) {
        match resource {
            Resource::Cpu => self.cpu_millicores = value,
            Resource::Memory => self.memory_bytes = value,
        }
    }

    /// Whether neither resource is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.cpu_millicores.is_none() && self.memory_bytes.is_none()
    }

    fn validate(&self, at: &str) -> Result<()> {
        for r in Resource::ALL {
            if let Some(v) = self.get(r)
                && v < 0
            {
                return Err(Error::invalid_config(format!(
                    "{at}.{} must be >= 0, got {v}",
                    r.field()
                )));
            }
        }
        Ok(())
    }
}

/// A resource the VPA recommends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// CPU (millicores).
    Cpu,
    /// Memory (bytes).
    Memory,
}

impl Resource {
    /// Both resources, CPU first.
    pub const ALL: [Resource; 2] = [Resource::Cpu, Resource::Memory];

    /// The Kubernetes resource name (`cpu`, `memory`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Cpu => "cpu",
            Resource::Memory => "memory",
        }
    }

    fn field(self) -> &'static str {
        match self {
            Resource::Cpu => "cpu_millicores",
            Resource::Memory => "memory_bytes",
        }
    }
}

/// When the VPA applies its recommendation (`spec.updatePolicy.updateMode`). replicast only
/// recommends; the mode is carried for the caller and decides whether the container policies
/// shape the limits (`Off` ignores them, as the admission controller does).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateMode {
    /// Never change pod resources; recommendations are only published.
    Off,
    /// Set resources only when pods are created.
    Initial,
    /// Evict pods whose resources differ enough (the API default).
    #[default]
    Recreate,
    /// Resize in place, evicting when that is not possible.
    InPlaceOrRecreate,
    /// Resize in place only.
    InPlace,
    /// Deprecated alias of `Recreate`.
    Auto,
}

/// Whether a container is autoscaled (`containerPolicies[].mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScalingMode {
    /// Recommend for this container (default).
    #[default]
    Auto,
    /// No recommendation; the container does not count in the per-pod minimum split.
    Off,
}

/// Which values the VPA sets (`containerPolicies[].controlledValues`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlledValues {
    /// Requests := target, limits scaled to keep the original limit:request ratio (default).
    #[default]
    RequestsAndLimits,
    /// Only requests change; the recommendation is capped to the current limits.
    RequestsOnly,
}

/// One entry of `resourcePolicy.containerPolicies`: applies to the container of that name,
/// or to every container without its own policy when the name is `"*"`.
///
/// | field | default | unit | meaning |
/// | --- | --- | --- | --- |
/// | `container_name` | required | | container name or `"*"` |
/// | `mode` | `auto` | | `off` = no recommendation |
/// | `min_allowed` / `max_allowed` | none | m / B | clamp target, lower and upper bound |
/// | `controlled_resources` | `[cpu, memory]` | | resources recommended |
/// | `controlled_values` | `requests_and_limits` | | see [`ControlledValues`] |
/// | `oom_bump_up_ratio` | recommender's (1.2) | × | per-VPA OOM bump ratio (`PerVPAConfig`) |
/// | `oom_min_bump_up_bytes` | recommender's (100 MiB) | B | per-VPA minimum OOM bump |
/// | `memory_aggregation_interval_s` | recommender's (86400) | s | per-VPA peak interval |
/// | `memory_aggregation_interval_count` | recommender's (8) | | per-VPA history length in intervals |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerPolicy {
    /// Container name, or `"*"` for the default policy.
    pub container_name: String,
    /// Whether the container is autoscaled.
    #[serde(default)]
    pub mode: ScalingMode,
    /// Lower clamp of every bound.
    #[serde(default, skip_serializing_if = "Resources::is_empty")]
    pub min_allowed: Resources,
    /// Upper clamp of every bound.
    #[serde(default, skip_serializing_if = "Resources::is_empty")]
    pub max_allowed: Resources,
    /// Resources recommended (default both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controlled_resources: Option<Vec<Resource>>,
    /// Which values are set.
    #[serde(default)]
    pub controlled_values: ControlledValues,
    /// Per-VPA OOM bump ratio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_bump_up_ratio: Option<f64>,
    /// Per-VPA minimum OOM bump in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_min_bump_up_bytes: Option<f64>,
    /// Per-VPA memory aggregation interval in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_aggregation_interval_s: Option<u32>,
    /// Per-VPA number of memory aggregation intervals kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_aggregation_interval_count: Option<u32>,
}

impl ContainerPolicy {
    /// A policy for `container_name` with every field at its default.
    #[must_use]
    pub fn new(container_name: impl Into<String>) -> Self {
        Self {
            container_name: container_name.into(),
            mode: ScalingMode::Auto,
            min_allowed: Resources::default(),
            max_allowed: Resources::default(),
            controlled_resources: None,
            controlled_values: ControlledValues::RequestsAndLimits,
            oom_bump_up_ratio: None,
            oom_min_bump_up_bytes: None,
            memory_aggregation_interval_s: None,
            memory_aggregation_interval_count: None,
        }
    }

    /// Whether `resource` is controlled (recommended).
    #[must_use]
    pub fn controls(&self, resource: Resource) -> bool {
        self.controlled_resources
            .as_ref()
            .is_none_or(|list| list.contains(&resource))
    }
}

/// The recommender's tuning, per workload. Every default is the upstream recommender flag's
/// default; the flag is named in each field's doc.
///
/// | field | default | unit / range |
/// | --- | --- | --- |
/// | `target_cpu_percentile`, `target_memory_percentile` | 0.9 | [0, 1] |
/// | `lower_bound_cpu_percentile`, `lower_bound_memory_percentile` | 0.5 | [0, 1] |
/// | `upper_bound_cpu_percentile`, `upper_bound_memory_percentile` | 0.95 | [0, 1] |
/// | `safety_margin_fraction` | 0.15 | [0, 100] |
/// | `pod_min_cpu_millicores` | 25 | m per pod, ≥ 0 |
/// | `pod_min_memory_mb` | 250 | MiB per pod, ≥ 0 |
/// | `cpu_histogram_decay_half_life_s`, `memory_histogram_decay_half_life_s` | 86400 | s, [1, 365 d] |
/// | `memory_aggregation_interval_s` | 86400 | s, ≥ 1 |
/// | `memory_aggregation_interval_count` | 8 | ≥ 1 |
/// | `confidence_interval_cpu_s`, `confidence_interval_memory_s` | 86400 | s, ≥ 60 |
/// | `oom_bump_up_ratio` | 1.2 | ≥ 1 |
/// | `oom_min_bump_up_bytes` | 104857600 | B, ≥ 0 |
/// | `cpu_histogram`, `memory_histogram` | exponential 0.01 core / 1e7 B ×1.05 | see [`HistogramSpec`] |
/// | `round_cpu_millicores`, `round_memory_bytes` | 1 | round up to a multiple, ≥ 1 |
/// | `global_max_allowed` | none | m / B; fills resources missing from `max_allowed` |
/// | `integer_cpu_containers` | none | containers whose CPU rounds up to whole cores |
///
/// Changing a histogram scheme changes what checkpoint bucket indexes mean: checkpoints are
/// only exchangeable with a VPA using the same scheme (the defaults, for a real VPA).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecommenderConfig {
    /// `--target-cpu-percentile`.
    pub target_cpu_percentile: f64,
    /// `--recommendation-lower-bound-cpu-percentile`.
    pub lower_bound_cpu_percentile: f64,
    /// `--recommendation-upper-bound-cpu-percentile`.
    pub upper_bound_cpu_percentile: f64,
    /// `--target-memory-percentile`.
    pub target_memory_percentile: f64,
    /// `--recommendation-lower-bound-memory-percentile`.
    pub lower_bound_memory_percentile: f64,
    /// `--recommendation-upper-bound-memory-percentile`.
    pub upper_bound_memory_percentile: f64,
    /// `--recommendation-margin-fraction`.
    pub safety_margin_fraction: f64,
    /// `--pod-recommendation-min-cpu-millicores` (split across the pod's containers).
    pub pod_min_cpu_millicores: f64,
    /// `--pod-recommendation-min-memory-mb` (MiB; split across the pod's containers).
    pub pod_min_memory_mb: f64,
    /// `--cpu-histogram-decay-half-life`.
    pub cpu_histogram_decay_half_life_s: u32,
    /// `--memory-histogram-decay-half-life`.
    pub memory_histogram_decay_half_life_s: u32,
    /// `--memory-aggregation-interval`.
    pub memory_aggregation_interval_s: u32,
    /// `--memory-aggregation-interval-count`.
    pub memory_aggregation_interval_count: u32,
    /// `--confidence-interval-cpu`.
    pub confidence_interval_cpu_s: u32,
    /// `--confidence-interval-memory`.
    pub confidence_interval_memory_s: u32,
    /// `--oom-bump-up-ratio`.
    pub oom_bump_up_ratio: f64,
    /// `--oom-min-bump-up-bytes`.
    pub oom_min_bump_up_bytes: f64,
    /// The CPU histogram (values in cores).
    pub cpu_histogram: HistogramSpec,
    /// The memory histogram (values in bytes).
    pub memory_histogram: HistogramSpec,
    /// `--round-cpu-millicores`.
    pub round_cpu_millicores: u32,
    /// `--round-memory-bytes`.
    pub round_memory_bytes: u32,
    /// `--container-recommendation-max-allowed-cpu` / `-memory`.
    #[serde(skip_serializing_if = "Resources::is_empty")]
    pub global_max_allowed: Resources,
    /// Containers opted in to the integer-CPU post-processor (upstream: the VPA annotation
    /// `vpa-post-processor.kubernetes.io/{container}_integerCPU: "true"`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub integer_cpu_containers: Vec<String>,
}

impl Default for RecommenderConfig {
    fn default() -> Self {
        Self {
            target_cpu_percentile: 0.9,
            lower_bound_cpu_percentile: 0.5,
            upper_bound_cpu_percentile: 0.95,
            target_memory_percentile: 0.9,
            lower_bound_memory_percentile: 0.5,
            upper_bound_memory_percentile: 0.95,
            safety_margin_fraction: 0.15,
            pod_min_cpu_millicores: 25.0,
            pod_min_memory_mb: 250.0,
            cpu_histogram_decay_half_life_s: DAY_S,
            memory_histogram_decay_half_life_s: DAY_S,
            memory_aggregation_interval_s: DAY_S,
            memory_aggregation_interval_count: 8,
            confidence_interval_cpu_s: DAY_S,
            confidence_interval_memory_s: DAY_S,
            oom_bump_up_ratio: 1.2,
            oom_min_bump_up_bytes: 100.0 * 1024.0 * 1024.0,
            cpu_histogram: HistogramSpec::default_cpu(),
            memory_histogram: HistogramSpec::default_memory(),
            round_cpu_millicores: 1,
            round_memory_bytes: 1,
            global_max_allowed: Resources::default(),
            integer_cpu_containers: Vec::new(),
        }
    }
}

const DAY_S: u32 = 86_400;

/// The updater's thresholds: when a recommendation is worth applying (spec §9.3).
///
/// | field | default | unit |
/// | --- | --- | --- |
/// | `pod_lifetime_update_threshold_s` | 43200 (12 h) | s a pod must have run before an in-range update |
/// | `min_change_priority` | 0.1 | minimum `resource_diff` for an in-range update |
/// | `evict_after_oom_threshold_s` | 600 | s: an OOM kill sooner than this after start is a "quick OOM" |
/// | `min_replicas` | 2 | replicas needed alive before the updater evicts |
/// | `eviction_tolerance` | 0.5 | fraction of replicas that may be evicted at once |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpdaterConfig {
    /// `--in-recommendation-bounds-eviction-lifetime-threshold`.
    pub pod_lifetime_update_threshold_s: u32,
    /// `--pod-update-threshold`.
    pub min_change_priority: f64,
    /// `--evict-after-oom-threshold` (per VPA: `updatePolicy.evictAfterOOMSeconds`).
    pub evict_after_oom_threshold_s: u32,
    /// `--min-replicas` (per VPA: `updatePolicy.minReplicas`).
    pub min_replicas: u32,
    /// `--eviction-tolerance`.
    pub eviction_tolerance: f64,
}

impl Default for UpdaterConfig {
    fn default() -> Self {
        Self {
            pod_lifetime_update_threshold_s: 12 * 3600,
            min_change_priority: 0.1,
            evict_after_oom_threshold_s: 600,
            min_replicas: 2,
            eviction_tolerance: 0.5,
        }
    }
}

/// The whole configuration of one vertical recommender: the VPA object's policy plus the
/// recommender's and updater's tuning. Loads from replicast's own JSON/YAML (snake_case,
/// unknown fields rejected) or from a `VerticalPodAutoscaler` manifest
/// ([`VpaSpec::from_manifest`]).
///
/// | field | default | meaning |
/// | --- | --- | --- |
/// | `update_mode` | `recreate` | [`UpdateMode`] |
/// | `container_policies` | none | [`ContainerPolicy`] list (exact name wins over `"*"`) |
/// | `recommender` | upstream flags | [`RecommenderConfig`]: percentiles, margin, half-lives, ... |
/// | `updater` | upstream flags | [`UpdaterConfig`] |
///
/// ```
/// use replicast::vpa::VpaSpec;
/// let spec = VpaSpec::from_yaml(r#"
/// container_policies:
///   - container_name: app
///     min_allowed: {cpu_millicores: 100}
/// recommender:
///   target_cpu_percentile: 0.95
/// "#).unwrap();
/// assert_eq!(spec.recommender.target_cpu_percentile, 0.95);
/// assert_eq!(spec.recommender.safety_margin_fraction, 0.15);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpaSpec {
    /// When recommendations are applied.
    #[serde(default)]
    pub update_mode: UpdateMode,
    /// Per-container policies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub container_policies: Vec<ContainerPolicy>,
    /// The recommender's tuning.
    #[serde(default)]
    pub recommender: RecommenderConfig,
    /// The updater's thresholds.
    #[serde(default)]
    pub updater: UpdaterConfig,
}

/// The longest memory aggregation window (interval × count) accepted: ~292 years, Go's
/// `Duration` range.
const MAX_WINDOW_MS: i64 = i64::MAX / 1_000_000;

/// The most container policies a spec may list.
pub const MAX_CONTAINER_POLICIES: usize = 256;

impl VpaSpec {
    /// The policy for `container`: its own, else the `"*"` one (upstream's
    /// `GetContainerResourcePolicy`).
    #[must_use]
    pub fn policy_for(&self, container: &str) -> Option<&ContainerPolicy> {
        let mut default = None;
        for p in &self.container_policies {
            if p.container_name == container {
                return Some(p);
            }
            if p.container_name == "*" {
                default = Some(p);
            }
        }
        default
    }

    /// Parses and validates a spec from JSON: replicast's own form or a
    /// `VerticalPodAutoscaler` manifest.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] for malformed JSON, unknown fields or invalid values.
    pub fn from_json(text: &str) -> Result<Self> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::invalid_config(format!("malformed JSON spec: {e}")))?;
        Self::from_value(value)
    }

    /// Parses and validates a spec from YAML: replicast's own form or a
    /// `VerticalPodAutoscaler` manifest.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] for malformed YAML, unknown fields or invalid values.
    pub fn from_yaml(text: &str) -> Result<Self> {
        let value: Value = serde_yaml_ng::from_str(text)
            .map_err(|e| Error::invalid_config(format!("malformed YAML spec: {e}")))?;
        Self::from_value(value)
    }

    /// Builds and validates a spec from a parsed value (own form or manifest).
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] for unknown fields or invalid values.
    pub fn from_value(value: Value) -> Result<Self> {
        if value.get("apiVersion").is_some() && value.get("kind").is_some() {
            return Self::from_manifest(&value);
        }
        let spec: VpaSpec = serde_json::from_value(value)
            .map_err(|e| Error::invalid_config(format!("invalid vpa spec: {e}")))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Loads a Kubernetes `VerticalPodAutoscaler` (`autoscaling.k8s.io/v1`) manifest with the
    /// API defaults applied (update mode `Recreate`, container mode `Auto`, controlled values
    /// `RequestsAndLimits`, both resources controlled) and the recommender defaults for
    /// everything the object does not carry. Read: `spec.updatePolicy` (`updateMode`,
    /// `minReplicas`, `evictAfterOOMSeconds`), `spec.resourcePolicy.containerPolicies`
    /// (every field, quantities such as `"500m"` or `"2Gi"`; the `PerVPAConfig` fields are
    /// honoured as if the gate were on), and the integer-CPU opt-in annotations. Ignored:
    /// `metadata` otherwise, `targetRef`, `recommenders`, `startupBoost`, `status`.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] naming the manifest field (e.g.
    /// `spec.updatePolicy.updateMode`) for a wrong kind/apiVersion, an unknown enum value, a
    /// bad quantity or an out-of-range number.
    pub fn from_manifest(value: &Value) -> Result<Self> {
        let spec = manifest::spec_from_manifest(value)?;
        spec.validate()?;
        Ok(spec)
    }

    /// The spec as pretty JSON in replicast's own form.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks every value against its valid range.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] naming the first invalid field, its value and the
    /// valid range.
    pub fn validate(&self) -> Result<()> {
        let r = &self.recommender;
        for (name, p) in [
            ("target_cpu_percentile", r.target_cpu_percentile),
            ("lower_bound_cpu_percentile", r.lower_bound_cpu_percentile),
            ("upper_bound_cpu_percentile", r.upper_bound_cpu_percentile),
            ("target_memory_percentile", r.target_memory_percentile),
            (
                "lower_bound_memory_percentile",
                r.lower_bound_memory_percentile,
            ),
            (
                "upper_bound_memory_percentile",
                r.upper_bound_memory_percentile,
            ),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(Error::invalid_config(format!(
                    "recommender.{name} must be in [0, 1], got {p}"
                )));
            }
        }
        for (lower, target, upper, what) in [
            (
                r.lower_bound_cpu_percentile,
                r.target_cpu_percentile,
                r.upper_bound_cpu_percentile,
                "cpu",
            ),
            (
                r.lower_bound_memory_percentile,
                r.target_memory_percentile,
                r.upper_bound_memory_percentile,
                "memory",
            ),
        ] {
            if !(lower <= target && target <= upper) {
                return Err(Error::invalid_config(format!(
                    "recommender {what} percentiles must satisfy lower_bound <= target <= upper_bound, got {lower} / {target} / {upper}"
                )));
            }
        }
        finite_in(
            "recommender.safety_margin_fraction",
            r.safety_margin_fraction,
            0.0,
            100.0,
        )?;
        finite_in(
            "recommender.pod_min_cpu_millicores",
            r.pod_min_cpu_millicores,
            0.0,
            1e14,
        )?;
        finite_in(
            "recommender.pod_min_memory_mb",
            r.pod_min_memory_mb,
            0.0,
            1e8,
        )?;
        finite_in(
            "recommender.oom_bump_up_ratio",
            r.oom_bump_up_ratio,
            1.0,
            1000.0,
        )?;
        finite_in(
            "recommender.oom_min_bump_up_bytes",
            r.oom_min_bump_up_bytes,
            0.0,
            1e14,
        )?;
        for (name, s) in [
            (
                "cpu_histogram_decay_half_life_s",
                r.cpu_histogram_decay_half_life_s,
            ),
            (
                "memory_histogram_decay_half_life_s",
                r.memory_histogram_decay_half_life_s,
            ),
        ] {
            if s == 0 || i64::from(s) * 1000 > MAX_HALF_LIFE_MS {
                return Err(Error::invalid_config(format!(
                    "recommender.{name} must be in [1, {}] s, got {s}",
                    MAX_HALF_LIFE_MS / 1000
                )));
            }
        }
        for (name, s) in [
            ("confidence_interval_cpu_s", r.confidence_interval_cpu_s),
            (
                "confidence_interval_memory_s",
                r.confidence_interval_memory_s,
            ),
        ] {
            if s < 60 {
                return Err(Error::invalid_config(format!(
                    "recommender.{name} must be >= 60 s, got {s}"
                )));
            }
        }
        check_window(
            "recommender",
            r.memory_aggregation_interval_s,
            r.memory_aggregation_interval_count,
        )?;
        if r.round_cpu_millicores == 0 || r.round_memory_bytes == 0 {
            return Err(Error::invalid_config(format!(
                "recommender.round_cpu_millicores and round_memory_bytes must be >= 1, got {} and {}",
                r.round_cpu_millicores, r.round_memory_bytes
            )));
        }
        HistogramOptions::new(r.cpu_histogram)
            .map_err(|e| e.context("recommender.cpu_histogram"))?;
        HistogramOptions::new(r.memory_histogram)
            .map_err(|e| e.context("recommender.memory_histogram"))?;
        r.global_max_allowed
            .validate("recommender.global_max_allowed")?;
        let u = &self.updater;
        finite_in(
            "updater.min_change_priority",
            u.min_change_priority,
            0.0,
            f64::MAX,
        )?;
        finite_in("updater.eviction_tolerance", u.eviction_tolerance, 0.0, 1.0)?;
        if self.container_policies.len() > MAX_CONTAINER_POLICIES {
            return Err(Error::invalid_config(format!(
                "container_policies must have at most {MAX_CONTAINER_POLICIES} entries, got {}",
                self.container_policies.len()
            )));
        }
        for (i, p) in self.container_policies.iter().enumerate() {
            let at = format!("container_policies[{i}]");
            if p.container_name.is_empty() {
                return Err(Error::invalid_config(format!(
                    "{at}.container_name must not be empty"
                )));
            }
            if self.container_policies[..i]
                .iter()
                .any(|q| q.container_name == p.container_name)
            {
                return Err(Error::invalid_config(format!(
                    "{at}.container_name {:?} is listed twice",
                    p.container_name
                )));
            }
            p.min_allowed.validate(&format!("{at}.min_allowed"))?;
            p.max_allowed.validate(&format!("{at}.max_allowed"))?;
            for res in Resource::ALL {
                if let (Some(lo), Some(hi)) = (p.min_allowed.get(res), p.max_allowed.get(res))
                    && hi > 0
                    && lo > hi
                {
                    return Err(Error::invalid_config(format!(
                        "{at}.min_allowed.{} must be <= max_allowed ({hi}), got {lo}",
                        res.field()
                    )));
                }
            }
            if let Some(ratio) = p.oom_bump_up_ratio {
                finite_in(&format!("{at}.oom_bump_up_ratio"), ratio, 1.0, 1000.0)?;
            }
            if let Some(bump) = p.oom_min_bump_up_bytes {
                finite_in(&format!("{at}.oom_min_bump_up_bytes"), bump, 0.0, 1e14)?;
            }
            check_window(
                &at,
                p.memory_aggregation_interval_s
                    .unwrap_or(r.memory_aggregation_interval_s),
                p.memory_aggregation_interval_count
                    .unwrap_or(r.memory_aggregation_interval_count),
            )?;
        }
        Ok(())
    }
}

fn finite_in(name: &str, v: f64, lo: f64, hi: f64) -> Result<()> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(Error::invalid_config(format!(
            "{name} must be in [{lo}, {hi}], got {v}"
        )))
    }
}

fn check_window(at: &str, interval_s: u32, count: u32) -> Result<()> {
    if interval_s == 0 {
        return Err(Error::invalid_config(format!(
            "{at}.memory_aggregation_interval_s must be >= 1, got 0"
        )));
    }
    if count == 0 {
        return Err(Error::invalid_config(format!(
            "{at}.memory_aggregation_interval_count must be >= 1, got 0"
        )));
    }
    let window_ms = i64::from(interval_s) * 1000 * i64::from(count);
    if window_ms > MAX_WINDOW_MS {
        return Err(Error::invalid_config(format!(
            "{at}: memory_aggregation_interval_s × memory_aggregation_interval_count must be at most {} s, got {interval_s} × {count}",
            MAX_WINDOW_MS / 1000
        )));
    }
    Ok(())
}

/// Quantity helpers shared by the manifest loader and the conformance-style inputs.
impl Resource {
    /// A Kubernetes quantity in this resource's unit: CPU as millicores (`MilliValue`, fractions
    /// round up), memory as bytes (`Value`, fractions round up).
    #[must_use]
    pub fn amount_of(self, q: Quantity) -> i64 {
        match self {
            Resource::Cpu => q.milli(),
            Resource::Memory => {
                let m = q.milli();
                m.div_euclid(1000) + i64::from(m.rem_euclid(1000) != 0)
            }
        }
    }
}

mod manifest {
    //! `VerticalPodAutoscaler` manifests → [`VpaSpec`], field by field, errors named by the
    //! manifest path.

    use serde_json::Value;

    use super::{
        ContainerPolicy, ControlledValues, Resource, Resources, ScalingMode, UpdateMode, VpaSpec,
    };
    use crate::error::{Error, Result};
    use crate::spec::Quantity;

    const INTEGER_CPU_PREFIX: &str = "vpa-post-processor.kubernetes.io/";
    const INTEGER_CPU_SUFFIX: &str = "_integerCPU";

    pub(super) fn spec_from_manifest(value: &Value) -> Result<VpaSpec> {
        let kind = value["kind"].as_str().unwrap_or_default();
        let api_version = value["apiVersion"].as_str().unwrap_or_default();
        if kind != "VerticalPodAutoscaler" {
            return Err(Error::invalid_config(format!(
                "kind must be VerticalPodAutoscaler, got {kind:?}"
            )));
        }
        if api_version != "autoscaling.k8s.io/v1" {
            return Err(Error::invalid_config(format!(
                "apiVersion must be autoscaling.k8s.io/v1 for a VerticalPodAutoscaler, got {api_version:?}"
            )));
        }
        let spec = value
            .get("spec")
            .filter(|s| s.is_object())
            .ok_or_else(|| Error::invalid_config("spec must be an object"))?;
        let mut out = VpaSpec::default();
        if let Some(policy) = object(spec, "updatePolicy", "spec")? {
            out.update_mode = match policy.get("updateMode") {
                None | Some(Value::Null) => UpdateMode::Recreate,
                Some(Value::String(s)) if s.is_empty() => UpdateMode::Recreate,
                Some(Value::String(s)) => match s.as_str() {
                    "Off" => UpdateMode::Off,
                    "Initial" => UpdateMode::Initial,
                    "Recreate" => UpdateMode::Recreate,
                    "InPlaceOrRecreate" => UpdateMode::InPlaceOrRecreate,
                    "InPlace" => UpdateMode::InPlace,
                    "Auto" => UpdateMode::Auto,
                    other => {
                        return Err(enum_error(
                            "spec.updatePolicy.updateMode",
                            "Off, Initial, Recreate, InPlaceOrRecreate, InPlace, Auto",
                            other,
                        ));
                    }
                },
                Some(other) => {
                    return Err(Error::invalid_config(format!(
                        "spec.updatePolicy.updateMode must be a string, got {other}"
                    )));
                }
            };
            if let Some(n) = int(
                policy,
                "minReplicas",
                "spec.updatePolicy",
                1,
                i64::from(i32::MAX),
            )? {
                out.updater.min_replicas = n as u32;
            }
            if let Some(n) = int(
                policy,
                "evictAfterOOMSeconds",
                "spec.updatePolicy",
                1,
                i64::from(i32::MAX),
            )? {
                out.updater.evict_after_oom_threshold_s = n as u32;
            }
        }
        if let Some(resource_policy) = object(spec, "resourcePolicy", "spec")? {
            match resource_policy.get("containerPolicies") {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        let at = format!("spec.resourcePolicy.containerPolicies[{i}]");
                        out.container_policies.push(container_policy(item, &at)?);
                    }
                }
                Some(other) => {
                    return Err(Error::invalid_config(format!(
                        "spec.resourcePolicy.containerPolicies must be a list, got {other}"
                    )));
                }
            }
        }
        if let Some(Value::Object(annotations)) =
            value.get("metadata").and_then(|m| m.get("annotations"))
        {
            for (key, v) in annotations {
                if let Some(name) = key
                    .strip_prefix(INTEGER_CPU_PREFIX)
                    .and_then(|rest| rest.strip_suffix(INTEGER_CPU_SUFFIX))
                    && !name.is_empty()
                    && v.as_str() == Some("true")
                {
                    out.recommender.integer_cpu_containers.push(name.to_owned());
                }
            }
        }
        Ok(out)
    }

    fn enum_error(at: &str, valid: &str, got: &str) -> Error {
        Error::invalid_config(format!("{at} must be one of {valid}, got {got:?}"))
    }

    fn object<'a>(v: &'a Value, key: &str, at: &str) -> Result<Option<&'a Value>> {
        match v.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(o @ Value::Object(_)) => Ok(Some(o)),
            Some(other) => Err(Error::invalid_config(format!(
                "{at}.{key} must be an object, got {other}"
            ))),
        }
    }

    fn int(v: &Value, key: &str, at: &str, lo: i64, hi: i64) -> Result<Option<i64>> {
        match v.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(x) => x
                .as_i64()
                .filter(|n| (lo..=hi).contains(n))
                .map(Some)
                .ok_or_else(|| {
                    Error::invalid_config(format!(
                        "{at}.{key} must be an integer in [{lo}, {hi}], got {x}"
                    ))
                }),
        }
    }

    fn quantity(v: &Value, at: &str) -> Result<Quantity> {
        let q = match v {
            Value::String(s) => Quantity::parse(s),
            Value::Number(n) => n
                .as_f64()
                .ok_or_else(|| format!("{n} is not a number"))
                .and_then(Quantity::from_f64),
            other => Err(format!(
                "expected a quantity such as \"500m\" or \"2Gi\", got {other}"
            )),
        }
        .map_err(|e| Error::invalid_config(format!("{at}: {e}")))?;
        if q.milli() < 0 {
            return Err(Error::invalid_config(format!("{at} must be >= 0, got {q}")));
        }
        Ok(q)
    }

    fn resource_list(v: Option<&Value>, at: &str) -> Result<Resources> {
        let mut out = Resources::default();
        match v {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (name, q) in map {
                    let at = format!("{at}.{name}");
                    let res = match name.as_str() {
                        "cpu" => Resource::Cpu,
                        "memory" => Resource::Memory,
                        // other resources (ephemeral-storage, GPUs) are not recommended by the VPA
                        _ => continue,
                    };
                    out.set(res, Some(res.amount_of(quantity(q, &at)?)));
                }
            }
            Some(other) => {
                return Err(Error::invalid_config(format!(
                    "{at} must be a map of resource quantities, got {other}"
                )));
            }
        }
        Ok(out)
    }

    fn container_policy(p: &Value, at: &str) -> Result<ContainerPolicy> {
        if !p.is_object() {
            return Err(Error::invalid_config(format!(
                "{at} must be an object, got {p}"
            )));
        }
        let name = match p.get("containerName") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            other => {
                return Err(Error::invalid_config(format!(
                    "{at}.containerName must be a non-empty string, got {}",
                    other.map_or_else(|| "nothing".to_owned(), ToString::to_string)
                )));
            }
        };
        let mut policy = ContainerPolicy::new(name);
        policy.mode = match p.get("mode") {
            None | Some(Value::Null) => ScalingMode::Auto,
            Some(v) => match v.as_str() {
                Some("Auto") => ScalingMode::Auto,
                Some("Off") => ScalingMode::Off,
                _ => {
                    return Err(enum_error(
                        &format!("{at}.mode"),
                        "Auto, Off",
                        &v.to_string(),
                    ));
                }
            },
        };
        policy.min_allowed = resource_list(p.get("minAllowed"), &format!("{at}.minAllowed"))?;
        policy.max_allowed = resource_list(p.get("maxAllowed"), &format!("{at}.maxAllowed"))?;
        policy.controlled_resources = match p.get("controlledResources") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => {
                let mut list = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some("cpu") => list.push(Resource::Cpu),
                        Some("memory") => list.push(Resource::Memory),
                        _ => {
                            return Err(enum_error(
                                &format!("{at}.controlledResources[{i}]"),
                                "cpu, memory",
                                &item.to_string(),
                            ));
                        }
                    }
                }
                Some(list)
            }
            Some(other) => {
                return Err(Error::invalid_config(format!(
                    "{at}.controlledResources must be a list, got {other}"
                )));
            }
        };
        policy.controlled_values = match p.get("controlledValues") {
            None | Some(Value::Null) => ControlledValues::RequestsAndLimits,
            Some(v) => match v.as_str() {
                Some("RequestsAndLimits") => ControlledValues::RequestsAndLimits,
                Some("RequestsOnly") => ControlledValues::RequestsOnly,
                _ => {
                    return Err(enum_error(
                        &format!("{at}.controlledValues"),
                        "RequestsAndLimits, RequestsOnly",
                        &v.to_string(),
                    ));
                }
            },
        };
        // upstream reads both quantities through MilliValue() / 1000
        if let Some(v) = p.get("oomBumpUpRatio").filter(|v| !v.is_null()) {
            let q = quantity(v, &format!("{at}.oomBumpUpRatio"))?;
            policy.oom_bump_up_ratio = Some(q.milli() as f64 / 1000.0);
        }
        if let Some(v) = p.get("oomMinBumpUp").filter(|v| !v.is_null()) {
            let q = quantity(v, &format!("{at}.oomMinBumpUp"))?;
            policy.oom_min_bump_up_bytes = Some(q.milli() as f64 / 1000.0);
        }
        if let Some(n) = int(
            p,
            "memoryAggregationIntervalSeconds",
            at,
            1,
            i64::from(i32::MAX),
        )? {
            policy.memory_aggregation_interval_s = Some(n as u32);
        }
        if let Some(n) = int(
            p,
            "memoryAggregationIntervalCount",
            at,
            1,
            i64::from(u32::MAX),
        )? {
            policy.memory_aggregation_interval_count = Some(n as u32);
        }
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_upstream_flags() {
        let spec = VpaSpec::default();
        spec.validate().unwrap();
        assert_eq!(spec.update_mode, UpdateMode::Recreate);
        assert_eq!(spec.recommender.oom_min_bump_up_bytes, 104_857_600.0);
        let back: VpaSpec = serde_json::from_str(&spec.to_json()).unwrap();
        assert_eq!(back, spec);
    }

    #[test]
    fn policy_lookup_prefers_exact_name() {
        let mut spec = VpaSpec::default();
        spec.container_policies.push(ContainerPolicy::new("*"));
        let mut app = ContainerPolicy::new("app");
        app.mode = ScalingMode::Off;
        spec.container_policies.push(app);
        assert_eq!(spec.policy_for("app").unwrap().mode, ScalingMode::Off);
        assert_eq!(spec.policy_for("other").unwrap().container_name, "*");
    }

    #[test]
    fn memory_quantities_round_up_to_bytes() {
        assert_eq!(
            Resource::Memory.amount_of(Quantity::parse("1m").unwrap()),
            1
        );
        assert_eq!(
            Resource::Memory.amount_of(Quantity::parse("2Gi").unwrap()),
            1 << 31
        );
        assert_eq!(Resource::Cpu.amount_of(Quantity::parse("2").unwrap()), 2000);
    }
}
