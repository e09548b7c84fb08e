//! One metric → one replica proposal (`specs/hpa.md` §4–§5, §10), for every source and target
//! type, from per-pod samples or from an aggregated value.
//!
//! Arithmetic follows the controller exactly: sums in integers (here `i128`, so no overflow),
//! utilization and averages truncated to integers before the ratio, ratios and products in
//! binary64 without fused multiply-add, `ceil` of the product, saturation where upstream
//! saturates.

use std::collections::HashMap;
use std::fmt::{self, Write as _};

use crate::fixed::Fixed;
use crate::source::hpa::pods::{PodClass, classify_pod};
use crate::source::hpa::{
    ConditionReason, ConditionStatus, MetricInput, Pod, PodPhase, PodResourceSample, PodSample,
};
use crate::spec::{
    ControllerConfig, LabelSelector, MetricSpec, MetricTarget, MissingContainerMetric,
    MissingFallback, Quantity, TargetType, ToleranceCompare,
};
use crate::time::Timestamp;

/// The tolerance band around a usage ratio of 1 inside which nothing changes.
///
/// ```
/// use replicast::hpa::Tolerances;
/// use replicast::spec::ToleranceCompare;
/// let t = Tolerances::uniform(0.1);
/// assert!(t.is_within(1.1, ToleranceCompare::Band));
/// assert!(!t.is_within(1.1, ToleranceCompare::Abs)); // |1 − 1.1| = 0.10000000000000009
/// assert!(!t.is_within(f64::NAN, ToleranceCompare::Band));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    /// Tolerance below 1 (scale-down side).
    pub down: f64,
    /// Tolerance above 1 (scale-up side).
    pub up: f64,
}

impl Tolerances {
    /// The same tolerance in both directions.
    #[must_use]
    pub fn uniform(tolerance: f64) -> Self {
        Self {
            down: tolerance,
            up: tolerance,
        }
    }

    /// Whether `ratio` is inside the band (both ends inclusive; NaN never is).
    #[must_use]
    pub fn is_within(&self, ratio: f64, compare: ToleranceCompare) -> bool {
        match compare {
            ToleranceCompare::Band => (1.0 - self.down) <= ratio && ratio <= (1.0 + self.up),
            ToleranceCompare::Abs => {
                let tolerance = if ratio > 1.0 { self.up } else { self.down };
                (1.0 - ratio).abs() <= tolerance
            }
        }
    }
}

/// What a metric's proposal depends on besides the metric and its input.
#[derive(Debug, Clone, Copy)]
pub struct MetricContext<'a> {
    /// `scale.spec.replicas`.
    pub current_replicas: i32,
    /// `scale.status.replicas` (used by Object/External `AverageValue` targets).
    pub status_replicas: i32,
    /// Ready pods when `pods` is not given (Object/External `Value` targets); defaults to
    /// `status_replicas`.
    pub ready_replicas: Option<i32>,
    /// The pods of the target, for per-pod inputs.
    pub pods: Option<&'a [Pod]>,
    /// The effective tolerances.
    pub tolerances: Tolerances,
    /// Controller flags and compatibility profile.
    pub config: &'a ControllerConfig,
    /// The decision instant.
    pub now_ms: Timestamp,
    /// The HPA's namespace, which the controller's error messages name (Kubernetes'
    /// `default` unless the HPA says otherwise, [`crate::spec::HpaSource::namespace`]).
    pub namespace: &'a str,
}

/// One metric's proposal and the values the controller reports for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricProposal {
    /// Proposed replicas.
    pub replicas: i32,
    /// Current average utilization, percent (Resource/ContainerResource `Utilization`).
    pub utilization: Option<i32>,
    /// Current value in milli-units: the raw average for utilization targets, the average per
    /// pod for `AverageValue`, the total for `Value`.
    pub value_milli: i64,
    /// The usage ratio against the target (before any rebalancing).
    pub ratio: f64,
}

fn fixed3(value: f64) -> Fixed {
    Fixed { value, decimals: 3 }
}

impl MetricProposal {
    /// A one-line explanation: `utilization 85%, ratio 1.214 to target`.
    #[must_use]
    pub fn summary(&self) -> String {
        match self.utilization {
            Some(u) => format!("utilization {u}%, ratio {} to target", fixed3(self.ratio)),
            None => format!(
                "value {}, ratio {} to target",
                format_milli(self.value_milli),
                fixed3(self.ratio)
            ),
        }
    }
}

fn format_milli(milli: i64) -> String {
    if milli % 1000 == 0 {
        format!("{}", milli / 1000)
    } else {
        format!("{milli}m")
    }
}

/// Why a metric gave no proposal: the condition reason and the texts the Kubernetes controller
/// reports for it, word for word.
///
/// The replica calculator's error travels through two layers of `horizontal.go` before anyone
/// sees it, and each layer is kept:
///
/// | field | upstream | example (a Resource metric whose metrics API returned nothing) |
/// | --- | --- | --- |
/// | `calculator_error` | the error the replica calculator returns (`GetResourceReplicas`, ...; a target error as `horizontal.go` words it) | `unable to get metrics for resource cpu: no metrics returned from resource metrics API` |
/// | `message` | the error `computeStatusFor*Metric` hands to the `ScalingActive` condition and its warning event | `failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API` |
/// | [`MetricFailure::condition_message`] | the `ScalingActive=False` condition message | `the HPA was unable to compute the replica count: ` + `message` |
/// | `error` | the metric's error as `computeReplicasForMetric` returns it to the sync | `failed to get cpu resource metric value: ` + `message` |
///
/// Observations replicast accepts that the controller has no counterpart for (an
/// [`MetricInput::Aggregated`] input with no ready replicas, an input of the wrong kind, per-pod
/// samples without the pod list) fail with replicast's own message at the replica calculator's
/// level, wrapped the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricFailure {
    /// `FailedGetResourceMetric`, `FailedGetPodsMetric`, ..., or `InvalidMetricSourceType`.
    pub reason: ConditionReason,
    /// The replica calculator's error, before `horizontal.go` wraps it (what the upstream
    /// replica calculator tests assert).
    pub calculator_error: String,
    /// The error as the controller reports it in the `ScalingActive` condition and its event.
    pub message: String,
    /// The metric's error as the controller's sync returns it.
    pub error: String,
}

impl MetricFailure {
    /// The `ScalingActive=False` condition message the controller sets for this failure.
    ///
    /// ```
    /// use replicast::hpa::{metric_proposal, MetricContext, MetricInput, Tolerances};
    /// use replicast::spec::{ControllerConfig, MetricSpec, MetricTarget};
    ///
    /// let config = ControllerConfig::default();
    /// let ctx = MetricContext {
    ///     current_replicas: 4, status_replicas: 4, ready_replicas: None, pods: None,
    ///     tolerances: Tolerances::uniform(0.1), config: &config, now_ms: 0, namespace: "default",
    /// };
    /// let cpu = MetricSpec::Resource { resource: "cpu".into(), target: MetricTarget::utilization(50) };
    /// let down = MetricInput::Unavailable { reason: "metrics-server is down".into() };
    /// let f = metric_proposal(&cpu, &down, &ctx).unwrap_err();
    /// assert_eq!(
    ///     f.condition_message(),
    ///     "the HPA was unable to compute the replica count: failed to get cpu utilization: \
    ///      unable to get metrics for resource cpu: metrics-server is down"
    /// );
    /// ```
    #[must_use]
    pub fn condition_message(&self) -> String {
        format!(
            "the HPA was unable to compute the replica count: {}",
            self.message
        )
    }
}

impl fmt::Display for MetricFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.error)
    }
}

type Outcome = Result<MetricProposal, MetricFailure>;

/// Where a metric's computation failed, which decides how the controller words it.
#[derive(Debug)]
enum Cause {
    /// The metrics client failed: the caller's [`MetricInput::Unavailable`] reason, or the
    /// client's own "no metrics returned from ..." errors. The replica calculator prefixes
    /// what it was fetching.
    Fetch(String),
    /// The replica calculator failed after the fetch (pods, readiness, requests).
    Calc(String),
    /// The metric's target is unusable: reported as it is, without the calculator's wrapping.
    Target(String),
}

type Inner = Result<MetricProposal, Cause>;

/// The message of a [`Cause`] once the replica calculator has prefixed a fetch error with
/// `fetching`.
fn calculator_message(cause: Cause, fetching: impl FnOnce(&str) -> String) -> (String, bool) {
    match cause {
        Cause::Fetch(why) => (fetching(&why), false),
        Cause::Calc(message) => (message, false),
        Cause::Target(message) => (message, true),
    }
}

const NO_RESOURCE_METRICS: &str = "no metrics returned from resource metrics API";
const NO_CUSTOM_METRICS: &str = "no metrics returned from custom metrics API";
const NO_EXTERNAL_METRICS: &str = "no metrics returned from external metrics API";
const NO_PODS: &str = "no pods returned by selector while calculating replica count";
const NO_POD_METRICS: &str = "did not receive metrics for targeted pods (pods might be unready)";

/// The replica proposal of one metric (`computeReplicasForMetric`).
///
/// ```
/// use replicast::hpa::{metric_proposal, MetricContext, MetricInput, Tolerances};
/// use replicast::spec::{ControllerConfig, MetricSpec, MetricTarget};
///
/// let config = ControllerConfig::default();
/// let ctx = MetricContext {
///     current_replicas: 4, status_replicas: 4, ready_replicas: None, pods: None,
///     tolerances: Tolerances::uniform(0.1), config: &config, now_ms: 0, namespace: "default",
/// };
/// let cpu = MetricSpec::Resource { resource: "cpu".into(), target: MetricTarget::utilization(50) };
/// let p = metric_proposal(&cpu, &MetricInput::Aggregated { value: 75.9, ready_replicas: 4 }, &ctx).unwrap();
/// assert_eq!(p.utilization, Some(75)); // truncated, as Kubernetes does
/// assert_eq!(p.replicas, 6);           // ceil(1.5 × 4)
/// ```
///
/// # Errors
/// A [`MetricFailure`] with the reason and the texts the controller would report.
pub fn metric_proposal(metric: &MetricSpec, input: &MetricInput, ctx: &MetricContext) -> Outcome {
    match metric {
        MetricSpec::Resource { resource, target } => {
            resource_metric(resource, None, target, input, ctx)
        }
        MetricSpec::ContainerResource {
            resource,
            container,
            target,
        } => resource_metric(resource, Some(container), target, input, ctx),
        MetricSpec::Pods { name, target } => pods_proposal(metric, name, target, input, ctx)
            .map_err(|cause| {
                let (message, _) =
                    calculator_message(cause, |why| format!("unable to get metric {name}: {why}"));
                MetricFailure {
                    reason: ConditionReason::FailedGetPodsMetric,
                    calculator_error: message.clone(),
                    error: format!("failed to get pods metric value: {message}"),
                    message,
                }
            }),
        MetricSpec::Object {
            name,
            target,
            described_object,
        } => {
            let per_pod = !(target.kind == TargetType::Value && target.value.is_some());
            object_proposal(metric, target, input, ctx).map_err(|cause| {
                let (kind, object) = described_object
                    .as_ref()
                    .map_or(("", ""), |d| (d.kind.as_str(), d.name.as_str()));
                // upstream's format puts the error where the object's name ends:
                // "unable to get metric %s: %v on %s %s/%s" with (name, kind, ns, object, err)
                let (message, target_error) = calculator_message(cause, |why| {
                    format!(
                        "unable to get metric {name}: {kind} on {} {object}/{why}",
                        ctx.namespace
                    )
                });
                let returned = if per_pod && !target_error {
                    format!("failed to get {name} object metric: {message}")
                } else {
                    message.clone()
                };
                MetricFailure {
                    reason: ConditionReason::FailedGetObjectMetric,
                    calculator_error: message.clone(),
                    error: format!("failed to get object metric value: {returned}"),
                    message,
                }
            })
        }
        MetricSpec::External {
            name,
            target,
            selector,
        } => external_proposal(metric, target, input, ctx).map_err(|cause| {
            let (message, target_error) = calculator_message(cause, |why| {
                format!(
                    "unable to get external metric {}/{name}/{}: {why}",
                    ctx.namespace,
                    LabelSelector::go_string_of(selector.as_ref())
                )
            });
            let returned = if target_error {
                message.clone()
            } else if target.average_value.is_some() {
                format!("failed to get {name} external metric: {message}")
            } else {
                format!("failed to get external metric {name}: {message}")
            };
            MetricFailure {
                reason: ConditionReason::FailedGetExternalMetric,
                calculator_error: message.clone(),
                error: format!("failed to get {name} external metric value: {returned}"),
                message,
            }
        }),
        MetricSpec::Unsupported { type_name } => {
            let message = format!("unknown metric source type {}", go_quote(type_name));
            Err(MetricFailure {
                reason: ConditionReason::InvalidMetricSourceType,
                calculator_error: message.clone(),
                error: message.clone(),
                message,
            })
        }
    }
}

/// A Resource or ContainerResource metric, its failures worded as `computeStatusForResourceMetricGeneric`
/// and `computeReplicasForMetric` word them.
fn resource_metric(
    resource: &str,
    container: Option<&str>,
    target: &MetricTarget,
    input: &MetricInput,
    ctx: &MetricContext,
) -> Outcome {
    resource_proposal(resource, container, target, input, ctx).map_err(|cause| {
        let (calculator, target_error) = calculator_message(cause, |why| {
            format!("unable to get metrics for resource {resource}: {why}")
        });
        let message = if target_error {
            calculator.clone()
        } else if target.average_value.is_some() {
            format!("failed to get {resource} usage: {calculator}")
        } else {
            format!("failed to get {resource} utilization: {calculator}")
        };
        let (reason, error) = match container {
            None => (
                ConditionReason::FailedGetResourceMetric,
                format!("failed to get {resource} resource metric value: {message}"),
            ),
            Some(container) => (
                ConditionReason::FailedGetContainerResourceMetric,
                format!("failed to get {container} container metric value: {message}"),
            ),
        };
        MetricFailure {
            reason,
            calculator_error: calculator,
            message,
            error,
        }
    })
}

fn pods_proposal(
    metric: &MetricSpec,
    name: &str,
    target: &MetricTarget,
    input: &MetricInput,
    ctx: &MetricContext,
) -> Inner {
    let Some(target_milli) = target.average_value.map(Quantity::milli) else {
        return Err(Cause::Target(format!(
            "invalid pods metric source {name}: no average value target"
        )));
    };
    match input {
        MetricInput::Pods { samples } => {
            if samples.is_empty() {
                return Err(Cause::Fetch(NO_CUSTOM_METRICS.to_owned()));
            }
            let values: Vec<_> = samples
                .iter()
                .map(|s| {
                    (
                        s.pod.as_str(),
                        PodSample {
                            value_milli: s.value_milli,
                            timestamp_ms: s.timestamp_ms,
                            window_ms: s.window_ms,
                        },
                    )
                })
                .collect();
            plain_metric_replicas(values, target_milli, false, ctx)
        }
        MetricInput::Aggregated {
            ready_replicas: 0, ..
        } => Err(no_ready_pods()),
        MetricInput::Aggregated {
            value,
            ready_replicas,
        } => Ok(aggregated_average(
            *value,
            target_milli,
            *ready_replicas,
            ctx,
        )),
        other => Err(wrong_input(metric, other)),
    }
}

/// `computeStatusForObjectMetric`: the target type is chosen (and checked) before the fetch.
fn object_proposal(
    metric: &MetricSpec,
    target: &MetricTarget,
    input: &MetricInput,
    ctx: &MetricContext,
) -> Inner {
    let value_target = target.value.filter(|_| target.kind == TargetType::Value);
    let average_target = target
        .average_value
        .filter(|_| target.kind == TargetType::AverageValue);
    if value_target.is_none() && average_target.is_none() {
        return Err(Cause::Target(
            "invalid object metric source: neither a value target nor an average value target was set"
                .to_owned(),
        ));
    }
    let value = match input {
        MetricInput::Object { value_milli } => *value_milli,
        MetricInput::Aggregated { value, .. } => units_to_milli(*value),
        other => return Err(wrong_input(metric, other)),
    };
    match (value_target, average_target) {
        (Some(t), _) => value_replicas(value, t.milli(), ctx),
        (None, Some(t)) => Ok(per_pod_replicas(value, t.milli(), false, ctx)),
        (None, None) => Err(Cause::Target("invalid object metric source".to_owned())),
    }
}

/// `computeStatusForExternalMetric`: `averageValue` first whatever `type` says, then `value`.
fn external_proposal(
    metric: &MetricSpec,
    target: &MetricTarget,
    input: &MetricInput,
    ctx: &MetricContext,
) -> Inner {
    if target.average_value.is_none() && target.value.is_none() {
        return Err(Cause::Target(
            "invalid external metric source: neither a value target nor an average value target was set"
                .to_owned(),
        ));
    }
    let value = match input {
        MetricInput::External { values_milli } => {
            if values_milli.is_empty() {
                return Err(Cause::Fetch(NO_EXTERNAL_METRICS.to_owned()));
            }
            let sum: i128 = values_milli.iter().map(|v| i128::from(*v)).sum();
            i64::try_from(sum).unwrap_or(if sum > 0 { i64::MAX } else { i64::MIN })
        }
        MetricInput::Aggregated { value, .. } => units_to_milli(*value),
        other => return Err(wrong_input(metric, other)),
    };
    match (target.average_value, target.value) {
        (Some(t), _) => Ok(per_pod_replicas(value, t.milli(), true, ctx)),
        (None, Some(t)) => value_replicas(value, t.milli(), ctx),
        (None, None) => Err(Cause::Target("invalid external metric source".to_owned())),
    }
}

/// A string as Go's `%q` prints it: double-quoted, with `"` and `\` escaped and control
/// characters written as escapes.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An observation the metric cannot use: the caller's fetch error as it is, or replicast's
/// message naming both kinds.
fn wrong_input(metric: &MetricSpec, input: &MetricInput) -> Cause {
    if let MetricInput::Unavailable { reason } = input {
        return Cause::Fetch(reason.clone());
    }
    let got = input.kind_name();
    let expected = match metric {
        MetricSpec::Resource { .. } | MetricSpec::ContainerResource { .. } => {
            "resource or aggregated"
        }
        MetricSpec::Pods { .. } => "pods or aggregated",
        MetricSpec::Object { .. } => "object or aggregated",
        MetricSpec::External { .. } => "external or aggregated",
        MetricSpec::Unsupported { .. } => "none",
    };
    Cause::Calc(format!(
        "input kind {got} does not fit a {} metric: expected {expected}",
        metric.kind_name()
    ))
}

/// Whole units (as callers aggregate them) to milli-units, rounded to the nearest milli.
fn units_to_milli(value: f64) -> i64 {
    let milli = (value * 1000.0).round();
    if milli >= i64::MAX as f64 {
        i64::MAX
    } else if milli.is_nan() || milli <= 0.0 {
        0
    } else {
        milli as i64
    }
}

/// `int32(math.Ceil(x))` with the upstream saturation at `MaxInt32`.
fn ceil_replicas(x: f64) -> i32 {
    let c = x.ceil();
    if c.is_nan() {
        0
    } else if c >= f64::from(i32::MAX) {
        i32::MAX
    } else if c <= f64::from(i32::MIN) {
        i32::MIN
    } else {
        c as i32
    }
}

fn saturate_i64(x: i128) -> i64 {
    x.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

fn within(ratio: f64, ctx: &MetricContext) -> bool {
    ctx.tolerances
        .is_within(ratio, ctx.config.compatibility.tolerance_compare)
}

fn resource_proposal(
    resource: &str,
    container: Option<&str>,
    target: &MetricTarget,
    input: &MetricInput,
    ctx: &MetricContext,
) -> Inner {
    // averageValue wins over averageUtilization when both are set
    let target_value = target.average_value.map(Quantity::milli);
    if target_value.is_none() && target.average_utilization.is_none() {
        return Err(Cause::Target(
            "invalid resource metric source: neither an average utilization target nor an average value (usage) target was set"
                .to_owned(),
        ));
    }
    match input {
        MetricInput::Resource { samples } => {
            if samples.is_empty() {
                return Err(Cause::Fetch(NO_RESOURCE_METRICS.to_owned()));
            }
            let values = resource_samples(samples, container, ctx)?;
            let cpu = resource == "cpu";
            match (target_value, target.average_utilization) {
                (Some(t), _) => plain_metric_replicas(values, t, cpu, ctx),
                (None, Some(u)) => utilization_replicas(values, resource, container, u, ctx),
                (None, None) => Err(unreachable_target()),
            }
        }
        MetricInput::Aggregated {
            ready_replicas: 0, ..
        } => Err(no_ready_pods()),
        MetricInput::Aggregated {
            value,
            ready_replicas,
        } => match (target_value, target.average_utilization) {
            (Some(t), _) => Ok(aggregated_average(*value, t, *ready_replicas, ctx)),
            (None, Some(u)) => {
                if u <= 0 {
                    return Err(Cause::Calc(format!(
                        "target utilization must be > 0, got {u}"
                    )));
                }
                // the controller truncates the utilization to an integer before the ratio
                let utilization = value.trunc().min(f64::from(i32::MAX)) as i32;
                let ratio = f64::from(utilization) / f64::from(u);
                let replicas = if within(ratio, ctx) {
                    ctx.current_replicas
                } else {
                    ceil_replicas(ratio * f64::from(*ready_replicas))
                };
                Ok(MetricProposal {
                    replicas,
                    utilization: Some(utilization),
                    value_milli: 0,
                    ratio,
                })
            }
            (None, None) => Err(unreachable_target()),
        },
        other => Err(wrong_input(
            &MetricSpec::Resource {
                resource: resource.to_owned(),
                target: target.clone(),
            },
            other,
        )),
    }
}

fn unreachable_target() -> Cause {
    Cause::Target("invalid resource metric source: no target".to_owned())
}

/// Per-pod values from resource samples: whole-pod sums, or one container's usage.
fn resource_samples<'s>(
    samples: &'s [PodResourceSample],
    container: Option<&str>,
    ctx: &MetricContext,
) -> Result<Vec<(&'s str, PodSample)>, Cause> {
    let mut values = Vec::with_capacity(samples.len());
    for s in samples {
        let value = match container {
            None => {
                if s.containers.is_empty() {
                    continue;
                }
                // a pod with any container lacking the resource has no usable sample
                let total = s
                    .containers
                    .iter()
                    .try_fold(0i128, |sum, c| c.usage_milli.map(|u| sum + i128::from(u)));
                let Some(total) = total else {
                    continue;
                };
                saturate_i64(total)
            }
            Some(name) => match s.containers.iter().find(|c| c.name == name) {
                Some(c) => match c.usage_milli {
                    Some(u) => u,
                    None => continue,
                },
                None => match ctx.config.compatibility.missing_container_metric {
                    MissingContainerMetric::SkipPod => continue,
                    MissingContainerMetric::Error => {
                        // the metrics client's own error, the pod qualified with its namespace
                        return Err(Cause::Fetch(format!(
                            "failed to get container metrics: container {name} not present in metrics for pod {}/{}",
                            ctx.namespace, s.pod
                        )));
                    }
                },
            },
        };
        values.push((
            s.pod.as_str(),
            PodSample {
                value_milli: value,
                timestamp_ms: s.timestamp_ms,
                window_ms: s.window_ms,
            },
        ));
    }
    Ok(values)
}

fn no_ready_pods() -> Cause {
    Cause::Calc(
        "did not receive metrics for targeted pods (the aggregated input has 0 ready replicas)"
            .to_owned(),
    )
}

fn pods_or_fail<'a>(ctx: &MetricContext<'a>) -> Result<&'a [Pod], Cause> {
    match ctx.pods {
        Some(pods) if !pods.is_empty() => Ok(pods),
        Some(_) => Err(Cause::Calc(NO_PODS.to_owned())),
        None => Err(Cause::Calc(
            "per-pod samples need the pod list: pass `pods` or an aggregated input".to_owned(),
        )),
    }
}

/// Samples lined up with the pod list: `by_pod[i]` is pod `i`'s sample; `extra` holds samples
/// of pods that are not in the list ("superfluous": skipped in utilization sums but, as
/// upstream, counted when a rebalanced ratio multiplies the number of samples).
struct Aligned<'s> {
    by_pod: Vec<Option<PodSample>>,
    extra: Vec<(&'s str, PodSample)>,
}

impl Aligned<'_> {
    fn entries(&self) -> usize {
        self.by_pod.iter().filter(|s| s.is_some()).count() + self.extra.len()
    }
}

/// Lines samples up with pods. A later sample for the same pod replaces an earlier one, as a
/// map keyed by pod name does upstream. Samples usually come in pod order, so the positional
/// match is tried before a name index is built.
fn align<'s>(pods: &[Pod], samples: Vec<(&'s str, PodSample)>) -> Aligned<'s> {
    let mut aligned = Aligned {
        by_pod: vec![None; pods.len()],
        extra: Vec::new(),
    };
    let mut index: Option<HashMap<&str, usize>> = None;
    for (k, (name, sample)) in samples.into_iter().enumerate() {
        let slot = if pods.get(k).is_some_and(|p| p.name == name) {
            Some(k)
        } else {
            let index = index.get_or_insert_with(|| {
                let mut map = HashMap::with_capacity(pods.len());
                for (i, p) in pods.iter().enumerate() {
                    map.entry(p.name.as_str()).or_insert(i);
                }
                map
            });
            index.get(name).copied()
        };
        match slot {
            Some(i) => aligned.by_pod[i] = Some(sample),
            None => match aligned.extra.iter_mut().find(|(n, _)| *n == name) {
                Some(existing) => existing.1 = sample,
                None => aligned.extra.push((name, sample)),
            },
        }
    }
    aligned
}

/// Classifies every pod and drops the samples of ignored and unready ones.
fn classify(
    pods: &[Pod],
    aligned: &mut Aligned,
    cpu_readiness: bool,
    ctx: &MetricContext,
) -> Vec<PodClass> {
    pods.iter()
        .zip(aligned.by_pod.iter_mut())
        .map(|(pod, sample)| {
            let class = classify_pod(pod, sample.as_ref(), cpu_readiness, ctx.config, ctx.now_ms);
            if matches!(class, PodClass::Ignored | PodClass::Unready) {
                *sample = None;
            }
            class
        })
        .collect()
}

/// Requests of the metric's resource for every listed pod (§2.3), in pod order.
fn pod_requests(
    pods: &[Pod],
    resource: &str,
    container: Option<&str>,
    ctx: &MetricContext,
) -> Result<Vec<i64>, String> {
    pods.iter()
        .map(|pod| {
            let missing = |c: &str| {
                format!(
                    "missing request for {resource} in container {c} of Pod {}",
                    pod.name
                )
            };
            if let Some(name) = container {
                let regular = pod
                    .containers
                    .iter()
                    .find(|c| c.name == name)
                    .map(|c| (&c.name, &c.requests_milli));
                let sidecar = || {
                    pod.init_containers
                        .iter()
                        .find(|c| c.restart_always && c.name == name)
                        .map(|c| (&c.name, &c.requests_milli))
                };
                let Some((cname, reqs)) = regular.or_else(sidecar) else {
                    return Err(format!("container {name} not found in Pod {}", pod.name));
                };
                return reqs.get(resource).copied().ok_or_else(|| missing(cname));
            }
            let pod_level = ctx
                .config
                .compatibility
                .pod_level_resources
                .then_some(pod.pod_requests_milli.as_ref())
                .flatten();
            if let Some(reqs) = pod_level {
                return reqs.get(resource).copied().ok_or_else(|| {
                    format!(
                        "missing pod-level request for {resource} in Pod {}",
                        pod.name
                    )
                });
            }
            let regular = pod.containers.iter().map(|c| (&c.name, &c.requests_milli));
            let sidecars = pod
                .init_containers
                .iter()
                .filter(|c| c.restart_always)
                .map(|c| (&c.name, &c.requests_milli));
            let mut sum: i128 = 0;
            for (cname, reqs) in regular.chain(sidecars) {
                sum += i128::from(*reqs.get(resource).ok_or_else(|| missing(cname))?);
            }
            Ok(saturate_i64(sum))
        })
        .collect()
}

/// `GetResourceUtilizationRatio`: (ratio, utilization %, raw average milli). Samples of pods not
/// in the pod list have no request and are skipped.
fn utilization_ratio(
    aligned: &Aligned,
    requests: &[i64],
    target_utilization: i32,
) -> Result<(f64, i32, i64), String> {
    let mut usage_total: i128 = 0;
    let mut request_total: i128 = 0;
    let mut entities: i128 = 0;
    for (sample, request) in aligned.by_pod.iter().zip(requests) {
        if let Some(sample) = sample {
            usage_total += i128::from(sample.value_milli);
            request_total += i128::from(*request);
            entities += 1;
        }
    }
    if request_total == 0 {
        return Err("no metrics returned matched known pods".to_owned());
    }
    let utilization = (usage_total * 100 / request_total)
        .clamp(i128::from(i32::MIN), i128::from(i32::MAX)) as i32;
    let raw = saturate_i64(usage_total / entities.max(1));
    Ok((
        f64::from(utilization) / f64::from(target_utilization),
        utilization,
        raw,
    ))
}

/// `GetMetricUsageRatio`: (ratio, average milli), the average truncated, over every sample.
fn usage_ratio(aligned: &Aligned, target_milli: i64) -> (f64, i64) {
    let total: i128 = aligned
        .by_pod
        .iter()
        .flatten()
        .chain(aligned.extra.iter().map(|(_, s)| s))
        .map(|s| i128::from(s.value_milli))
        .sum();
    let count = aligned.entries().max(1) as i128;
    let usage = saturate_i64(total / count);
    (usage as f64 / target_milli as f64, usage)
}

fn filler(value_milli: i64) -> PodSample {
    PodSample {
        value_milli,
        timestamp_ms: 0,
        window_ms: 0,
    }
}

/// Gives `value` to every pod of `class` (the rebalancing of §5.1 step 7).
fn fill(aligned: &mut Aligned, classes: &[PodClass], class: PodClass, value_milli: i64) {
    for (sample, c) in aligned.by_pod.iter_mut().zip(classes) {
        if *c == class {
            *sample = Some(filler(value_milli));
        }
    }
}

fn count(classes: &[PodClass], class: PodClass) -> usize {
    classes.iter().filter(|c| **c == class).count()
}

/// §5.1: Resource / ContainerResource with a `Utilization` target, from per-pod samples.
fn utilization_replicas(
    samples: Vec<(&str, PodSample)>,
    resource: &str,
    container: Option<&str>,
    target_utilization: i32,
    ctx: &MetricContext,
) -> Inner {
    let pods = pods_or_fail(ctx)?;
    let mut aligned = align(pods, samples);
    let classes = classify(pods, &mut aligned, resource == "cpu", ctx);
    if aligned.entries() == 0 {
        return Err(Cause::Calc(NO_POD_METRICS.to_owned()));
    }
    let requests = pod_requests(pods, resource, container, ctx).map_err(Cause::Calc)?;
    let (ratio, utilization, raw) =
        utilization_ratio(&aligned, &requests, target_utilization).map_err(Cause::Calc)?;
    let proposal = |replicas| MetricProposal {
        replicas,
        utilization: Some(utilization),
        value_milli: raw,
        ratio,
    };
    let unready = count(&classes, PodClass::Unready);
    let missing = count(&classes, PodClass::Missing);
    let scale_up_with_unready = unready > 0 && ratio > 1.0;
    if !scale_up_with_unready && missing == 0 {
        if within(ratio, ctx) {
            return Ok(proposal(ctx.current_replicas));
        }
        let ready = count(&classes, PodClass::Ready);
        return Ok(proposal(ceil_replicas(ratio * ready as f64)));
    }
    if missing > 0 {
        let fallback_percent = match ctx.config.compatibility.missing_fallback {
            MissingFallback::Max100Target => i128::from(target_utilization.max(100)),
            MissingFallback::Hundred => 100,
        };
        for ((sample, class), request) in aligned.by_pod.iter_mut().zip(&classes).zip(&requests) {
            if *class != PodClass::Missing {
                continue;
            }
            if ratio < 1.0 {
                *sample = Some(filler(saturate_i64(
                    i128::from(*request) * fallback_percent / 100,
                )));
            } else if ratio > 1.0 {
                *sample = Some(filler(0));
            }
        }
    }
    if scale_up_with_unready {
        fill(&mut aligned, &classes, PodClass::Unready, 0);
    }
    let (new_ratio, _, _) =
        utilization_ratio(&aligned, &requests, target_utilization).map_err(Cause::Calc)?;
    Ok(proposal(rebalanced(
        ratio,
        new_ratio,
        aligned.entries(),
        ctx,
    )))
}

/// Steps 8–10 of §5.1: the rebalanced proposal, never against the direction of the ratio.
fn rebalanced(ratio: f64, new_ratio: f64, entries: usize, ctx: &MetricContext) -> i32 {
    let current = ctx.current_replicas;
    if within(new_ratio, ctx)
        || (ratio < 1.0 && new_ratio > 1.0)
        || (ratio > 1.0 && new_ratio < 1.0)
    {
        return current;
    }
    let replicas = ceil_replicas(new_ratio * entries as f64);
    if (new_ratio < 1.0 && replicas > current) || (new_ratio > 1.0 && replicas < current) {
        current
    } else {
        replicas
    }
}

/// §5.2 / §5.3: a plain per-pod average (`AverageValue` of a resource, or a Pods metric).
fn plain_metric_replicas(
    samples: Vec<(&str, PodSample)>,
    target_milli: i64,
    cpu_readiness: bool,
    ctx: &MetricContext,
) -> Inner {
    let pods = pods_or_fail(ctx)?;
    let mut aligned = align(pods, samples);
    let classes = classify(pods, &mut aligned, cpu_readiness, ctx);
    if aligned.entries() == 0 {
        return Err(Cause::Calc(NO_POD_METRICS.to_owned()));
    }
    let (ratio, usage) = usage_ratio(&aligned, target_milli);
    let proposal = |replicas| MetricProposal {
        replicas,
        utilization: None,
        value_milli: usage,
        ratio,
    };
    let unready = count(&classes, PodClass::Unready);
    let missing = count(&classes, PodClass::Missing);
    let scale_up_with_unready = unready > 0 && ratio > 1.0;
    if !scale_up_with_unready && missing == 0 {
        if within(ratio, ctx) {
            return Ok(proposal(ctx.current_replicas));
        }
        let ready = count(&classes, PodClass::Ready);
        return Ok(proposal(ceil_replicas(ratio * ready as f64)));
    }
    if ratio < 1.0 {
        fill(&mut aligned, &classes, PodClass::Missing, target_milli);
    } else if ratio > 1.0 {
        fill(&mut aligned, &classes, PodClass::Missing, 0);
    }
    if scale_up_with_unready {
        fill(&mut aligned, &classes, PodClass::Unready, 0);
    }
    let (new_ratio, _) = usage_ratio(&aligned, target_milli);
    Ok(proposal(rebalanced(
        ratio,
        new_ratio,
        aligned.entries(),
        ctx,
    )))
}

/// An aggregated per-pod average against an `AverageValue` target (fast path only).
fn aggregated_average(
    value: f64,
    target_milli: i64,
    ready_replicas: u32,
    ctx: &MetricContext,
) -> MetricProposal {
    let usage = units_to_milli(value);
    let ratio = usage as f64 / target_milli as f64;
    let replicas = if within(ratio, ctx) {
        ctx.current_replicas
    } else {
        ceil_replicas(ratio * f64::from(ready_replicas))
    };
    MetricProposal {
        replicas,
        utilization: None,
        value_milli: usage,
        ratio,
    }
}

/// Running and Ready pods (deleting ones included), as `getReadyPodsCount`; its error comes
/// wrapped as `getUsageRatioReplicaCount` wraps it.
fn ready_pod_count(ctx: &MetricContext) -> Result<i32, Cause> {
    match ctx.pods {
        Some([]) => Err(Cause::Calc(format!(
            "unable to calculate ready pods: {NO_PODS}"
        ))),
        Some(pods) => Ok(pods
            .iter()
            .filter(|p| {
                p.phase == PodPhase::Running
                    && p.ready.is_some_and(|r| r.status == ConditionStatus::True)
            })
            .count() as i32),
        None => Ok(ctx.ready_replicas.unwrap_or(ctx.status_replicas)),
    }
}

/// §5.4 / §5.6: Object or External with a `Value` target (`getUsageRatioReplicaCount`).
fn value_replicas(value_milli: i64, target_milli: i64, ctx: &MetricContext) -> Inner {
    let ratio = value_milli as f64 / target_milli as f64;
    let replicas = if ctx.current_replicas != 0 {
        if within(ratio, ctx) {
            ctx.current_replicas
        } else {
            let ready = ready_pod_count(ctx)?;
            ceil_replicas(ratio * f64::from(ready))
        }
    } else {
        // scaling from zero: no tolerance, no pod count
        ceil_replicas(ratio)
    };
    Ok(MetricProposal {
        replicas,
        utilization: None,
        value_milli,
        ratio,
    })
}

/// §5.5 / §5.7: Object or External with an `AverageValue` target, against status replicas.
fn per_pod_replicas(
    value_milli: i64,
    target_milli: i64,
    external: bool,
    ctx: &MetricContext,
) -> MetricProposal {
    let status = ctx.status_replicas;
    let ratio = value_milli as f64 / (target_milli as f64 * f64::from(status));
    let replicas = if within(ratio, ctx) {
        status
    } else {
        let per_target = (value_milli as f64 / target_milli as f64).ceil();
        if external || per_target < f64::from(i32::MAX) {
            ceil_replicas(per_target)
        } else {
            // Object AverageValue has no saturation upstream; the conversion cannot represent
            // the wrapped value, so it saturates here too
            i32::MAX
        }
    };
    let per_pod = if status == 0 {
        if ctx.config.compatibility.overflow_guards {
            0
        } else {
            i64::MIN // Go's int64(±Inf or NaN) on amd64
        }
    } else {
        let x = (value_milli as f64 / f64::from(status)).ceil();
        if x >= i64::MAX as f64 {
            i64::MAX
        } else {
            x as i64
        }
    };
    MetricProposal {
        replicas,
        utilization: None,
        value_milli: per_pod,
        ratio,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(config: &ControllerConfig) -> MetricContext<'_> {
        MetricContext {
            current_replicas: 25,
            status_replicas: 25,
            ready_replicas: None,
            pods: None,
            tolerances: Tolerances::uniform(0.1),
            config,
            now_ms: 0,
            namespace: "default",
        }
    }

    #[test]
    fn ceil_of_the_binary64_product_overshoots_like_go() {
        // 0.28 × 25 = 7.000000000000001 → 8
        assert_eq!(ceil_replicas(0.28 * 25.0), 8);
    }

    #[test]
    fn aggregated_utilization_is_truncated() {
        let config = ControllerConfig::default();
        let cpu = MetricSpec::Resource {
            resource: "cpu".into(),
            target: MetricTarget::utilization(100),
        };
        let p = metric_proposal(
            &cpu,
            &MetricInput::Aggregated {
                value: 110.9,
                ready_replicas: 25,
            },
            &ctx(&config),
        )
        .unwrap();
        assert_eq!(p.utilization, Some(110));
        assert_eq!(p.replicas, 25, "110 % is inside the 10 % band");
    }

    #[test]
    fn go_quote_escapes_like_percent_q() {
        assert_eq!(go_quote("CheddarCheese"), "\"CheddarCheese\"");
        assert_eq!(go_quote("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\x01\"");
        assert_eq!(go_quote("héllo"), "\"héllo\"");
    }

    #[test]
    fn tolerance_edges() {
        let t = Tolerances::uniform(0.1);
        assert!(t.is_within(0.9, ToleranceCompare::Band));
        assert!(t.is_within(0.9, ToleranceCompare::Abs));
        assert!(!t.is_within(0.899_999, ToleranceCompare::Band));
        assert!(t.is_within(1.1, ToleranceCompare::Band));
        assert!(!t.is_within(1.1, ToleranceCompare::Abs));
    }

    #[test]
    fn wrong_input_kind_is_a_failure_naming_both() {
        let config = ControllerConfig::default();
        let cpu = MetricSpec::Resource {
            resource: "cpu".into(),
            target: MetricTarget::utilization(100),
        };
        let f = metric_proposal(&cpu, &MetricInput::Object { value_milli: 1 }, &ctx(&config))
            .unwrap_err();
        assert_eq!(f.reason, ConditionReason::FailedGetResourceMetric);
        assert_eq!(
            f.message,
            "failed to get cpu utilization: input kind object does not fit a Resource metric: expected resource or aggregated"
        );
        assert_eq!(
            f.error,
            format!("failed to get cpu resource metric value: {}", f.message)
        );
    }
}
