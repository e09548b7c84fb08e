//! The controller's memory between syncs, made explicit: recommendation history and scale
//! events (upstream keeps these in process memory and loses them on restart).

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// A pre-normalization recommendation remembered for stabilization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recommendation {
    /// The recommended replicas (before clamping or rate limits).
    pub replicas: i32,
    /// When it was recorded.
    pub at_ms: Timestamp,
}

/// One rescale, remembered for rate-limit policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleEvent {
    /// Absolute replica change of the rescale.
    pub change: i32,
    /// When it happened.
    pub at_ms: Timestamp,
    /// Older than the direction's longest policy period when last checked; the slot may be reused.
    #[serde(default)]
    pub outdated: bool,
}

/// Everything the HPA controller remembers about one autoscaler between syncs.
///
/// ```
/// let h = replicast::hpa::HpaHistory::default();
/// assert!(h.recommendations.is_none()); // the first sync seeds it with the current replicas
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HpaHistory {
    /// Recommendation history; `None` until the first sync seeds it.
    pub recommendations: Option<Vec<Recommendation>>,
    /// Scale-up events (behavior set only).
    pub scale_up_events: Vec<ScaleEvent>,
    /// Scale-down events (behavior set only).
    pub scale_down_events: Vec<ScaleEvent>,
    /// The `ScaledToZero` condition (`Some(true)` after the controller scaled the target to 0).
    pub scaled_to_zero: Option<bool>,
}
