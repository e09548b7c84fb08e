//! The Kubernetes HorizontalPodAutoscaler part of a spec: metrics, behavior, controller flags
//! and the compatibility profile that pins behaviour which changed between releases.
//!
//! Field names are the autoscaling/v2 ones in snake_case; [`super::manifest`] converts a real
//! manifest (camelCase) into these types and applies the API server's defaults.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Quantity;

/// One metric of an HPA (`spec.metrics[i]`).
///
/// | variant | Kubernetes source | reads |
/// | --- | --- | --- |
/// | `Resource` | `Resource` | per-pod resource usage (metrics.k8s.io), summed over containers |
/// | `ContainerResource` | `ContainerResource` | one container's usage per pod |
/// | `Pods` | `Pods` | one custom-metric value per pod |
/// | `Object` | `Object` | one value describing one object (e.g. a queue) |
/// | `External` | `External` | values from outside the cluster, summed |
///
/// ```
/// use replicast::spec::MetricSpec;
/// let m: MetricSpec = serde_json::from_str(
///     r#"{"type": "resource", "resource": "cpu", "target": {"type": "utilization", "average_utilization": 70}}"#,
/// ).unwrap();
/// assert_eq!(m.kind_name(), "Resource");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum MetricSpec {
    /// A resource (`cpu`, `memory`, ...) of whole pods.
    Resource {
        /// Resource name, e.g. `cpu`.
        resource: String,
        /// What to keep the metric at.
        target: MetricTarget,
    },
    /// A resource of one named container in each pod.
    ContainerResource {
        /// Resource name, e.g. `cpu`.
        resource: String,
        /// Container name.
        container: String,
        /// What to keep the metric at.
        target: MetricTarget,
    },
    /// A custom metric with one value per pod (e.g. requests per second).
    Pods {
        /// Metric name.
        name: String,
        /// What to keep the metric at (`average_value`).
        target: MetricTarget,
    },
    /// A metric describing one object (e.g. the depth of a queue).
    Object {
        /// Metric name.
        name: String,
        /// What to keep the metric at (`value` or `average_value`).
        target: MetricTarget,
        /// The object the metric describes (`describedObject`); only named in error messages,
        /// as the controller names it. Unset prints as an empty kind and name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        described_object: Option<DescribedObject>,
    },
    /// A metric from outside the cluster; every series returned is summed.
    External {
        /// Metric name.
        name: String,
        /// What to keep the metric at (`value` or `average_value`).
        target: MetricTarget,
        /// The series selector (`metric.selector`); only printed in error messages, as the
        /// controller prints it (`nil` when unset).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        selector: Option<LabelSelector>,
    },
    /// A metric source this version of replicast does not know (a newer API version's, say).
    ///
    /// Never produced by [`super::ScalerSpec`] loading (which rejects unknown types); the
    /// low-level [`crate::source::hpa::reconcile`] accepts it and reports `InvalidMetricSourceType` for it,
    /// exactly as the Kubernetes controller does.
    #[serde(skip)]
    Unsupported {
        /// The type name as found.
        type_name: String,
    },
}

impl MetricSpec {
    /// The Kubernetes name of the source type (`"Resource"`, `"Pods"`, ...).
    #[must_use]
    pub fn kind_name(&self) -> &str {
        match self {
            MetricSpec::Resource { .. } => "Resource",
            MetricSpec::ContainerResource { .. } => "ContainerResource",
            MetricSpec::Pods { .. } => "Pods",
            MetricSpec::Object { .. } => "Object",
            MetricSpec::External { .. } => "External",
            MetricSpec::Unsupported { type_name } => type_name,
        }
    }

    /// The target of the metric, if the source type is known.
    #[must_use]
    pub fn target(&self) -> Option<&MetricTarget> {
        match self {
            MetricSpec::Resource { target, .. }
            | MetricSpec::ContainerResource { target, .. }
            | MetricSpec::Pods { target, .. }
            | MetricSpec::Object { target, .. }
            | MetricSpec::External { target, .. } => Some(target),
            MetricSpec::Unsupported { .. } => None,
        }
    }

    /// A short human name for reasons and logs: `cpu resource utilization`, `pods metric rps`.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            MetricSpec::Resource { resource, target } => {
                format!("{resource} resource {}", target.kind.describe())
            }
            MetricSpec::ContainerResource {
                resource,
                container,
                target,
            } => format!(
                "{resource} resource {} of container {container}",
                target.kind.describe()
            ),
            MetricSpec::Pods { name, .. } => format!("pods metric {name}"),
            MetricSpec::Object { name, .. } => format!("object metric {name}"),
            MetricSpec::External { name, .. } => format!("external metric {name}"),
            MetricSpec::Unsupported { type_name } => format!("metric of unknown type {type_name}"),
        }
    }
}

/// The object an `Object` metric describes (`describedObject`, a `CrossVersionObjectReference`).
///
/// ```
/// use replicast::spec::DescribedObject;
/// let d: DescribedObject = serde_json::from_str(
///     r#"{"kind": "Ingress", "name": "main-route", "api_version": "networking.k8s.io/v1"}"#,
/// ).unwrap();
/// assert_eq!(d.kind, "Ingress");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DescribedObject {
    /// Kind of the object (`Deployment`, `Ingress`, ...).
    #[serde(default)]
    pub kind: String,
    /// Name of the object.
    #[serde(default)]
    pub name: String,
    /// API version of the object (`apps/v1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
}

/// A Kubernetes label selector (`metav1.LabelSelector`), as an External metric's `selector`.
///
/// [`LabelSelector::go_string`] prints it as the controller's error messages do.
///
/// ```
/// use replicast::spec::LabelSelector;
/// let s: LabelSelector = serde_json::from_str(r#"{"match_labels": {"queue": "jobs"}}"#).unwrap();
/// assert_eq!(
///     s.go_string(),
///     "&LabelSelector{MatchLabels:map[string]string{queue: jobs,},MatchExpressions:[]LabelSelectorRequirement{},}"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelSelector {
    /// `matchLabels`: label → value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    /// `matchExpressions`, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// One `matchExpressions` entry of a [`LabelSelector`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelSelectorRequirement {
    /// The label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`, as written.
    pub operator: String,
    /// The values (empty for `Exists` / `DoesNotExist`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

impl LabelSelector {
    /// The selector as Go prints a `*metav1.LabelSelector` with `%v` / `%+v` (its generated
    /// `String` method): labels sorted by key, expressions in order.
    #[must_use]
    pub fn go_string(&self) -> String {
        let mut labels = String::new();
        for (k, v) in &self.match_labels {
            labels.push_str(k);
            labels.push_str(": ");
            labels.push_str(v);
            labels.push(',');
        }
        let mut expressions = String::new();
        for e in &self.match_expressions {
            expressions.push_str("LabelSelectorRequirement{Key:");
            expressions.push_str(&e.key);
            expressions.push_str(",Operator:");
            expressions.push_str(&e.operator);
            expressions.push_str(",Values:[");
            expressions.push_str(&e.values.join(" "));
            expressions.push_str("],},");
        }
        format!(
            "&LabelSelector{{MatchLabels:map[string]string{{{labels}}},MatchExpressions:[]LabelSelectorRequirement{{{expressions}}},}}"
        )
    }

    /// [`LabelSelector::go_string`] of an optional selector: `nil` when there is none.
    #[must_use]
    pub fn go_string_of(selector: Option<&LabelSelector>) -> String {
        selector.map_or_else(|| "nil".to_owned(), LabelSelector::go_string)
    }
}

/// The target of a metric (`spec.metrics[i].*.target`), as Kubernetes holds it: a type and up
/// to three values. Which value is read depends on the source, exactly as in the controller
/// (e.g. a Resource target with both `average_value` and `average_utilization` uses
/// `average_value`; an External target reads `average_value` first whatever `type` says).
///
/// ```
/// use replicast::spec::{MetricTarget, TargetType};
/// let t = MetricTarget::utilization(70);
/// assert_eq!(t.kind, TargetType::Utilization);
/// assert_eq!(t.average_utilization, Some(70));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricTarget {
    /// Which kind of target this is.
    #[serde(rename = "type")]
    pub kind: TargetType,
    /// Target average utilisation, percent of the request (Resource / ContainerResource only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_utilization: Option<i32>,
    /// Target value per pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_value: Option<Quantity>,
    /// Target total value (Object / External).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Quantity>,
}

impl MetricTarget {
    /// A `Utilization` target of `percent` % of the request.
    #[must_use]
    pub fn utilization(percent: i32) -> Self {
        Self {
            kind: TargetType::Utilization,
            average_utilization: Some(percent),
            average_value: None,
            value: None,
        }
    }

    /// An `AverageValue` target (per pod).
    #[must_use]
    pub fn average_value(value: Quantity) -> Self {
        Self {
            kind: TargetType::AverageValue,
            average_utilization: None,
            average_value: Some(value),
            value: None,
        }
    }

    /// A `Value` target (total).
    #[must_use]
    pub fn value(value: Quantity) -> Self {
        Self {
            kind: TargetType::Value,
            average_utilization: None,
            average_value: None,
            value: Some(value),
        }
    }
}

/// The kind of a metric target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetType {
    /// Percent of the pods' request.
    Utilization,
    /// Value per pod.
    AverageValue,
    /// Total value.
    Value,
}

impl TargetType {
    fn describe(self) -> &'static str {
        match self {
            TargetType::Utilization => "utilization",
            TargetType::AverageValue => "average value",
            TargetType::Value => "value",
        }
    }
}

/// `spec.behavior`: how fast, and after how much agreement, the target may be rescaled.
///
/// Fields left unset are completed with the Kubernetes API defaults by [`Behavior::defaulted`]
/// (scale-up: no stabilization, `Max` of `4 pods / 15 s` and `100 % / 15 s`; scale-down:
/// window from [`ControllerConfig::downscale_stabilization_window_s`] (300 s), `100 % / 15 s`).
///
/// ```
/// use replicast::spec::{Behavior, SelectPolicy};
/// let b = Behavior::default().defaulted();
/// assert_eq!(b.scale_up.select_policy, Some(SelectPolicy::Max));
/// assert_eq!(b.scale_up.policies.len(), 2);
/// assert_eq!(b.scale_down.stabilization_window_s, None); // filled from the controller flag
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Behavior {
    /// Rules for scaling up.
    #[serde(default)]
    pub scale_up: ScalingRules,
    /// Rules for scaling down.
    #[serde(default)]
    pub scale_down: ScalingRules,
}

/// One direction's rules (`behavior.scaleUp` / `behavior.scaleDown`).
///
/// | field | default | unit / range | meaning |
/// | --- | --- | --- | --- |
/// | `stabilization_window_s` | up 0, down the controller's 300 | s, 0–3600 | recommendations considered |
/// | `select_policy` | `max` | `max`, `min`, `disabled` | which policy's limit wins |
/// | `policies` | up `4 pods/15 s` + `100 %/15 s`; down `100 %/15 s` | value > 0, period 1–1800 s | allowed change per period |
/// | `tolerance` | the controller's (0.1) | ≥ 0 | per-direction tolerance (HPAConfigurableTolerance) |
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalingRules {
    /// Seconds of past recommendations that must agree before a change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stabilization_window_s: Option<u32>,
    /// Which policy wins when several apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_policy: Option<SelectPolicy>,
    /// The rate-limit policies; empty means "use the default policies".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<ScalingPolicy>,
    /// Per-direction tolerance, replacing the controller-wide one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
}

/// One rate-limit policy: at most `value` pods or percent of change per `period_s` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalingPolicy {
    /// Pods or Percent.
    #[serde(rename = "type")]
    pub kind: PolicyType,
    /// Allowed change (pods, or percent of the replicas at the start of the period); > 0.
    pub value: i32,
    /// Length of the look-back period, seconds, 1–1800.
    pub period_s: i32,
}

/// The unit of a [`ScalingPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyType {
    /// An absolute number of pods.
    Pods,
    /// A percentage of the replicas at the start of the period.
    Percent,
}

/// Which limit wins when a direction has several policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectPolicy {
    /// The policy allowing the largest change.
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No change in this direction at all.
    Disabled,
}

impl Behavior {
    /// The behavior with every unset field completed as the Kubernetes API server does
    /// (`SetDefaults_HorizontalPodAutoscalerBehavior`): user fields win, `policies` are replaced
    /// as a whole, the scale-down window stays unset (the controller fills it at every sync).
    #[must_use]
    pub fn defaulted(&self) -> Behavior {
        let up = &self.scale_up;
        let down = &self.scale_down;
        Behavior {
            scale_up: ScalingRules {
                stabilization_window_s: Some(up.stabilization_window_s.unwrap_or(0)),
                select_policy: Some(up.select_policy.unwrap_or(SelectPolicy::Max)),
                policies: if up.policies.is_empty() {
                    vec![
                        ScalingPolicy {
                            kind: PolicyType::Pods,
                            value: 4,
                            period_s: 15,
                        },
                        ScalingPolicy {
                            kind: PolicyType::Percent,
                            value: 100,
                            period_s: 15,
                        },
                    ]
                } else {
                    up.policies.clone()
                },
                tolerance: up.tolerance,
            },
            scale_down: ScalingRules {
                stabilization_window_s: down.stabilization_window_s,
                select_policy: Some(down.select_policy.unwrap_or(SelectPolicy::Max)),
                policies: if down.policies.is_empty() {
                    vec![ScalingPolicy {
                        kind: PolicyType::Percent,
                        value: 100,
                        period_s: 15,
                    }]
                } else {
                    down.policies.clone()
                },
                tolerance: down.tolerance,
            },
        }
    }
}

/// The kube-controller-manager settings that shape an HPA decision, with the production
/// defaults. Upstream unit tests use other values (CPU initialization 120 s, readiness delay
/// 10 s, scale-up factor 8); conformance vectors carry theirs.
///
/// | field | default | unit | flag |
/// | --- | --- | --- | --- |
/// | `tolerance` | 0.1 | ratio | `--horizontal-pod-autoscaler-tolerance` |
/// | `downscale_stabilization_window_s` | 300 | s | `--horizontal-pod-autoscaler-downscale-stabilization` |
/// | `cpu_initialization_period_s` | 300 | s | `--horizontal-pod-autoscaler-cpu-initialization-period` |
/// | `initial_readiness_delay_s` | 30 | s | `--horizontal-pod-autoscaler-initial-readiness-delay` |
/// | `scale_up_limit_factor` | 2.0 | × | legacy (behavior unset) cap `max(factor × current, minimum)` |
/// | `scale_up_limit_minimum` | 4.0 | replicas | same cap |
/// | `configurable_tolerance` | true | gate | HPAConfigurableTolerance (beta, on since v1.35) |
///
/// ```
/// let c = replicast::spec::ControllerConfig::default();
/// assert_eq!(c.tolerance, 0.1);
/// assert_eq!(c.downscale_stabilization_window_s, 300);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ControllerConfig {
    /// Cluster-wide tolerance, both directions.
    pub tolerance: f64,
    /// Scale-down stabilization when behavior does not set one (and the legacy path's window).
    pub downscale_stabilization_window_s: u32,
    /// After a pod starts, CPU samples are trusted only once it is ready and sampled after that.
    pub cpu_initialization_period_s: u32,
    /// A pod that became unready within this delay of starting counts as never ready yet.
    pub initial_readiness_delay_s: u32,
    /// Legacy scale-up cap factor.
    pub scale_up_limit_factor: f64,
    /// Legacy scale-up cap minimum.
    pub scale_up_limit_minimum: f64,
    /// Whether per-direction `behavior.*.tolerance` replaces the cluster tolerance.
    pub configurable_tolerance: bool,
    /// Behaviour that changed between Kubernetes releases.
    pub compatibility: Compatibility,
}

impl ControllerConfig {
    /// Whether every field has its default (such a config is left out when a spec is written).
    #[must_use]
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl Default for ControllerConfig {
    fn default() -> Self {
        Self {
            tolerance: 0.1,
            downscale_stabilization_window_s: 300,
            cpu_initialization_period_s: 300,
            initial_readiness_delay_s: 30,
            scale_up_limit_factor: 2.0,
            scale_up_limit_minimum: 4.0,
            configurable_tolerance: true,
            compatibility: Compatibility::default(),
        }
    }
}

/// Switches for behaviour that differs between Kubernetes releases (`specs/hpa.md` §A.3, §11).
/// Defaults are the behaviour of the current release line (v1.35–v1.37).
///
/// | field | default | alternative (release) |
/// | --- | --- | --- |
/// | `tolerance_compare` | `band`: `1−down ≤ r ≤ 1+up` (v1.33+) | `abs`: `|1−r| ≤ t` (≤ v1.32) |
/// | `terminal_pods` | `failed_only` | `failed_and_succeeded` (master, PR #141302) |
/// | `missing_container_metric` | `skip_pod` (v1.32+) | `error` (older) |
/// | `missing_fallback` | `max100_target` (v1.26+) | `hundred` (older) |
/// | `scale_from_zero` | `legacy` (min 0 ⇒ compute) | `condition` (v1.36+, ScaledToZero condition) |
/// | `scale_to_zero_gate` | false | true (HPAScaleToZero) |
/// | `overflow_guards` | true | false (before 2025) |
/// | `pod_level_resources` | false | true (PodLevelResources gate) |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Compatibility {
    /// How a usage ratio is tested against the tolerance.
    pub tolerance_compare: ToleranceCompare,
    /// Which terminal pod phases are ignored.
    pub terminal_pods: TerminalPods,
    /// What a container missing from a pod's metrics does.
    pub missing_container_metric: MissingContainerMetric,
    /// The usage assumed for pods without metrics on a scale-down.
    pub missing_fallback: MissingFallback,
    /// When metrics are computed for a target at zero replicas.
    pub scale_from_zero: ScaleFromZero,
    /// The HPAScaleToZero feature gate.
    pub scale_to_zero_gate: bool,
    /// int32/int64 saturation and the status-replicas-0 guards.
    pub overflow_guards: bool,
    /// The PodLevelResources feature gate (pod-level requests).
    pub pod_level_resources: bool,
}

impl Default for Compatibility {
    fn default() -> Self {
        Self {
            tolerance_compare: ToleranceCompare::Band,
            terminal_pods: TerminalPods::FailedOnly,
            missing_container_metric: MissingContainerMetric::SkipPod,
            missing_fallback: MissingFallback::Max100Target,
            scale_from_zero: ScaleFromZero::Legacy,
            scale_to_zero_gate: false,
            overflow_guards: true,
            pod_level_resources: false,
        }
    }
}

/// See [`Compatibility::tolerance_compare`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToleranceCompare {
    /// `(1 − down) ≤ r ≤ (1 + up)` (v1.33+).
    Band,
    /// `|1 − r| ≤ t` (before v1.33).
    Abs,
}

/// See [`Compatibility::terminal_pods`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TerminalPods {
    /// Only `Failed` pods are ignored.
    FailedOnly,
    /// `Failed` and `Succeeded` pods are ignored.
    FailedAndSucceeded,
}

/// See [`Compatibility::missing_container_metric`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingContainerMetric {
    /// The pod is treated as missing.
    SkipPod,
    /// The whole metric fails.
    Error,
}

/// See [`Compatibility::missing_fallback`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingFallback {
    /// `max(100 %, target)` of the request; plain metrics: the target (v1.26+).
    Max100Target,
    /// 100 % of the request (before v1.26).
    Hundred,
}

/// See [`Compatibility::scale_from_zero`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleFromZero {
    /// `min_replicas == 0` and zero replicas ⇒ compute metrics (≤ v1.35).
    Legacy,
    /// Based on the `ScaledToZero` condition (v1.36+).
    Condition,
}
