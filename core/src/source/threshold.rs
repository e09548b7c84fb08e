//! The seed's threshold-band source: hysteresis bands over named signals.
//!
//! Scale up by the up-step when **any** signal is strictly above its up-threshold; scale down by
//! the down-step only when **every** rule's signal is present, not above its up-threshold, and —
//! where the rule has a down-threshold — strictly below it, and the caller does not report the
//! service unhealthy. Otherwise hold. The gap between the two thresholds is the hysteresis;
//! cooldowns between actions are the scaler's ([`crate::spec::Cooldown`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::spec::ThresholdSpec;

/// Which way the bands point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// A signal is above its up-threshold.
    Up,
    /// Every signal is below its down-threshold.
    Down,
    /// Inside the bands, or a scale-down is gated.
    Hold,
}

/// The threshold source's proposal and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThresholdProposal {
    /// Proposed replicas (not yet clamped to min/max).
    pub replicas: u32,
    /// Which way the bands point.
    pub direction: Direction,
    /// The signals and comparisons behind it, e.g. `cpu 82 > 70: scale up by 1`.
    pub reason: String,
}

/// The threshold source's proposal for `current_replicas` given the observed `signals`.
///
/// ```
/// use std::collections::BTreeMap;
/// use replicast::spec::ThresholdSpec;
/// use replicast::threshold::{threshold_proposal, Direction};
///
/// let spec = ThresholdSpec::default(); // the seed's bands
/// let signals = BTreeMap::from([
///     ("cpu".to_string(), 82.0), ("memory".to_string(), 40.0),
///     ("inference_queue_depth".to_string(), 3.0), ("response_time_p95".to_string(), 0.8),
/// ]);
/// let p = threshold_proposal(&spec, 4, &signals, None).unwrap();
/// assert_eq!((p.replicas, p.direction), (5, Direction::Up));
/// assert_eq!(p.reason, "cpu 82 > 70: scale up by 1");
/// ```
///
/// # Errors
/// [`crate::ErrorKind::InvalidInput`] when a signal is NaN, infinite or negative.
pub fn threshold_proposal(
    spec: &ThresholdSpec,
    current_replicas: u32,
    signals: &BTreeMap<String, f64>,
    healthy: Option<bool>,
) -> Result<ThresholdProposal> {
    proposal(spec, current_replicas, signals, healthy, true)
}

/// [`threshold_proposal`], with the reason only when `explain`: a replay reads only the
/// replicas, and formatting the comparisons would cost more than deciding.
pub(crate) fn proposal(
    spec: &ThresholdSpec,
    current_replicas: u32,
    signals: &BTreeMap<String, f64>,
    healthy: Option<bool>,
    explain: bool,
) -> Result<ThresholdProposal> {
    for (name, value) in signals {
        if !(value.is_finite() && *value >= 0.0) {
            return Err(Error::invalid_input(format!(
                "signal {name} must be a finite number >= 0, got {value}"
            )));
        }
    }
    // what decides is whether each list is empty; the texts are built only to explain
    let (mut any_above, mut any_missing, mut any_not_below) = (false, false, false);
    let mut above = Vec::new();
    let mut missing = Vec::new();
    let mut not_below = Vec::new();
    for rule in &spec.rules {
        match signals.get(&rule.signal) {
            None => {
                any_missing = true;
                if explain {
                    missing.push(rule.signal.as_str());
                }
            }
            Some(&v) if v > rule.scale_up_above => {
                any_above = true;
                if explain {
                    above.push(format!("{} {v} > {}", rule.signal, rule.scale_up_above));
                }
            }
            Some(&v) => {
                if let Some(down) = rule.scale_down_below
                    && v >= down
                {
                    any_not_below = true;
                    if explain {
                        not_below.push(format!("{} {v} >= {down}", rule.signal));
                    }
                }
            }
        }
    }
    let text = |build: &dyn Fn() -> String| if explain { build() } else { String::new() };
    if any_above {
        let step = spec.scale_up_step.replicas_from(current_replicas);
        return Ok(ThresholdProposal {
            replicas: current_replicas.saturating_add(step),
            direction: Direction::Up,
            reason: text(&|| format!("{}: scale up by {step}", above.join(", "))),
        });
    }
    let hold = |reason: String| ThresholdProposal {
        replicas: current_replicas,
        direction: Direction::Hold,
        reason,
    };
    if any_not_below {
        return Ok(hold(text(&|| {
            format!("inside the bands ({})", not_below.join(", "))
        })));
    }
    if any_missing {
        return Ok(hold(text(&|| {
            let mut reason = String::from("holding: no scale-down without every signal; missing ");
            let _ = write!(reason, "{}", missing.join(", "));
            reason
        })));
    }
    if healthy == Some(false) {
        return Ok(hold(text(&|| {
            "holding: the service is reported unhealthy, no scale-down".to_owned()
        })));
    }
    let step = spec.scale_down_step.replicas_from(current_replicas);
    Ok(ThresholdProposal {
        replicas: current_replicas.saturating_sub(step),
        direction: Direction::Down,
        reason: text(&|| format!("every signal below its down-threshold: scale down by {step}")),
    })
}
