//! What a scaler remembers about one workload between decisions.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::source::hpa::HpaHistory;
use crate::source::keda::KedaState;
use crate::source::kpa::KpaState;
use crate::source::predictive::{self, PredictiveState};
use crate::time::Timestamp;
use crate::vpa::VpaState;

/// The version written into every [`ScalerState`]; bumped when the layout changes.
pub const STATE_VERSION: u32 = 1;

/// Everything a scaler remembers about one workload between decisions.
///
/// Serialisable (a controller persists it, e.g. in a ConfigMap or a CRD status) and versioned;
/// a decision that fails leaves it untouched.
///
/// ```
/// use replicast::ScalerState;
/// let state = ScalerState::default();
/// let json = state.to_json();
/// assert_eq!(ScalerState::from_json(&json).unwrap(), state);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalerState {
    pub(super) version: u32,
    #[serde(default)]
    pub(super) last_decision_ms: Option<Timestamp>,
    #[serde(default)]
    pub(super) last_rescale_ms: Option<Timestamp>,
    #[serde(default)]
    pub(super) hpa: HpaHistory,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) predictive: Option<PredictiveState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) keda: Option<KedaState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) kpa: Option<KpaState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) vpa: Option<VpaState>,
}

impl Default for ScalerState {
    fn default() -> Self {
        Self {
            version: STATE_VERSION,
            last_decision_ms: None,
            last_rescale_ms: None,
            hpa: HpaHistory::default(),
            predictive: None,
            keda: None,
            kpa: None,
            vpa: None,
        }
    }
}

impl ScalerState {
    /// A fresh state, as for a workload never seen before.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The predictive source's forecast of its next load sample (for the backtest's scores).
    pub(crate) fn forecast_next(&self, level: f64) -> Option<predictive::NextSample> {
        self.predictive.as_ref()?.forecast_next(level)
    }

    /// Where the sample [`Self::forecast_next`] would forecast starts (`None` without one).
    pub(crate) fn next_sample_start_ms(&self) -> Option<crate::time::Timestamp> {
        self.predictive.as_ref()?.last_sample_ms()
    }

    /// A state carrying an existing HPA controller history (e.g. migrated from a controller).
    #[must_use]
    pub fn with_hpa_history(history: HpaHistory) -> Self {
        Self {
            hpa: history,
            ..Self::default()
        }
    }

    /// The HPA controller history (recommendations and scale events).
    #[must_use]
    pub fn hpa_history(&self) -> &HpaHistory {
        &self.hpa
    }

    /// The instant of the last successful decision.
    #[must_use]
    pub fn last_decision_ms(&self) -> Option<Timestamp> {
        self.last_decision_ms
    }

    /// The instant of the last rescale.
    #[must_use]
    pub fn last_rescale_ms(&self) -> Option<Timestamp> {
        self.last_rescale_ms
    }

    /// The state as compact JSON.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Restores a state from [`ScalerState::to_json`] output.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Serialization`] for malformed JSON or an unsupported `version`.
    pub fn from_json(text: &str) -> Result<Self> {
        let state: Self = serde_json::from_str(text).map_err(|e| {
            Error::serialization(format!(
                "invalid scaler state: {}",
                crate::error::serde_message(&e)
            ))
        })?;
        if state.version != STATE_VERSION {
            return Err(Error::serialization(format!(
                "scaler state version must be {STATE_VERSION}, got {}",
                state.version
            )));
        }
        if let Some(predictive) = &state.predictive {
            predictive.check_usable()?;
        }
        if let Some(kpa) = &state.kpa {
            kpa.check()?;
        }

        Ok(state)
    }
}
