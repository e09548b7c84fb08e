//! The seed's threshold-band source (interim implementation; see `spec::ThresholdSpec`).

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::spec::ThresholdSpec;

/// The threshold source's proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThresholdProposal {
    /// Proposed replicas.
    pub replicas: u32,
    /// Why.
    pub reason: String,
}

/// Proposes one replica more when any signal is above its up-threshold, one fewer when every
/// signal is below its down-threshold, the current count otherwise.
///
/// # Errors
/// [`crate::ErrorKind::InvalidInput`] for a NaN, infinite or negative signal.
pub fn threshold_proposal(
    spec: &ThresholdSpec,
    current_replicas: u32,
    signals: &BTreeMap<String, f64>,
    healthy: Option<bool>,
) -> Result<ThresholdProposal> {
    for (name, value) in signals {
        if !(value.is_finite() && *value >= 0.0) {
            return Err(Error::invalid_input(format!(
                "signal {name} must be a finite number >= 0, got {value}"
            )));
        }
    }
    for rule in &spec.rules {
        if let Some(v) = signals.get(&rule.signal)
            && *v > rule.scale_up_above
        {
            return Ok(ThresholdProposal {
                replicas: current_replicas.saturating_add(1),
                reason: format!("{} {v} > {}", rule.signal, rule.scale_up_above),
            });
        }
    }
    let all_below = healthy != Some(false)
        && spec.rules.iter().all(|rule| {
            signals
                .get(&rule.signal)
                .is_some_and(|v| rule.scale_down_below.is_none_or(|d| *v < d))
        });
    if all_below {
        return Ok(ThresholdProposal {
            replicas: current_replicas.saturating_sub(1),
            reason: "every signal below its down-threshold".to_owned(),
        });
    }
    Ok(ThresholdProposal {
        replicas: current_replicas,
        reason: "inside the bands".to_owned(),
    })
}
