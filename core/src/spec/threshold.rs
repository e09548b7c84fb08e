//! The seed's threshold-band autoscaler settings. (Filled in by the threshold work.)

use serde::{Deserialize, Serialize};

/// Hysteresis bands over named signals: scale up when any signal is above its up-threshold,
/// down only when every signal is below its down-threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdSpec {
    /// One rule per signal.
    pub rules: Vec<ThresholdRule>,
}

/// The band of one signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdRule {
    /// Signal name, as in [`crate::DecisionInput::signals`].
    pub signal: String,
    /// Scale up when the signal is above this.
    pub scale_up_above: f64,
    /// Scale down only when the signal is below this (and every other signal below its own).
    #[serde(default)]
    pub scale_down_below: Option<f64>,
}

use crate::error::{Error, Result};

impl ThresholdSpec {
    /// Checks every rule.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] naming the rule and value.
    pub fn validate(&self) -> Result<()> {
        if self.rules.is_empty() {
            return Err(Error::invalid_config("threshold.rules must not be empty"));
        }
        Ok(())
    }
}

pub(super) fn looks_like_seed_format(_text: &str) -> bool {
    false
}

pub(super) fn is_seed_value(_value: &serde_json::Value) -> bool {
    false
}

pub(super) fn from_seed_yaml(_text: &str) -> Result<super::ScalerSpec> {
    Err(Error::invalid_config(
        "seed threshold format not supported yet",
    ))
}

pub(super) fn from_seed_value(_value: &serde_json::Value) -> Result<super::ScalerSpec> {
    Err(Error::invalid_config(
        "seed threshold format not supported yet",
    ))
}
