//! The status conditions the HPA controller reports, with the upstream reason strings.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The type of a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConditionType {
    /// Whether the target can be read and rescaled, and whether stabilization holds it.
    AbleToScale,
    /// Whether metrics could be computed.
    ScalingActive,
    /// Whether min/max or a rate limit changed the desired replicas.
    ScalingLimited,
    /// Whether the controller itself scaled the target to zero.
    ScaledToZero,
}

/// Why a condition has its status; the strings are the Kubernetes reasons.
#[allow(missing_docs)] // each variant is the upstream reason of the same name
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConditionReason {
    SucceededGetScale,
    FailedGetScale,
    ReadyForNewScale,
    ScaleDownStabilized,
    ScaleUpStabilized,
    SucceededRescale,
    FailedUpdateScale,
    ValidMetricFound,
    ScalingDisabled,
    InvalidSelector,
    AmbiguousSelector,
    FailedGetResourceMetric,
    FailedGetContainerResourceMetric,
    FailedGetPodsMetric,
    FailedGetObjectMetric,
    FailedGetExternalMetric,
    InvalidMetricSourceType,
    DesiredWithinRange,
    TooManyReplicas,
    TooFewReplicas,
    ScaleUpLimit,
    ScaleDownLimit,
    ScaledToZero,
    NotScaledToZero,
}

impl fmt::Display for ConditionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// One status condition.
///
/// ```
/// use replicast::hpa::{Condition, ConditionType, ConditionReason};
/// let c = Condition::new(ConditionType::ScalingLimited, false, ConditionReason::DesiredWithinRange, "");
/// assert_eq!(c.reason.to_string(), "DesiredWithinRange");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Which condition.
    #[serde(rename = "type")]
    pub kind: ConditionType,
    /// `True` or `False`.
    pub status: bool,
    /// The upstream reason.
    pub reason: ConditionReason,
    /// A human-readable message.
    pub message: String,
}

impl Condition {
    /// A condition with the given fields.
    #[must_use]
    pub fn new(
        kind: ConditionType,
        status: bool,
        reason: ConditionReason,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            status,
            reason,
            message: message.into(),
        }
    }
}

/// Sets `condition` in `list` the way upstream `setConditionInList` does: replace the entry of
/// the same type in place, or append.
pub fn set_condition(list: &mut Vec<Condition>, condition: Condition) {
    if let Some(existing) = list.iter_mut().find(|c| c.kind == condition.kind) {
        *existing = condition;
    } else {
        list.push(condition);
    }
}
