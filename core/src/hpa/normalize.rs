//! Normalization of a pre-normalized proposal (`specs/hpa.md` §8): stabilization over the
//! recommendation history, then the rate limits and bounds, and the scale-event bookkeeping
//! that feeds the rate limits. Each function is one upstream step.

use crate::hpa::{ConditionReason, Recommendation, ScaleEvent};
use crate::spec::{PolicyType, ScalingRules, SelectPolicy};
use crate::time::{Timestamp, secs_to_ms};

/// The outcome of a stabilization step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stabilization {
    /// The stabilized replicas.
    pub replicas: i32,
    /// `ReadyForNewScale`, `ScaleDownStabilized` or `ScaleUpStabilized`.
    pub reason: ConditionReason,
}

/// The outcome of a limiting step (rate limits and bounds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// The limited replicas.
    pub replicas: i32,
    /// `DesiredWithinRange`, `TooManyReplicas`, `TooFewReplicas`, `ScaleUpLimit` or `ScaleDownLimit`.
    pub reason: ConditionReason,
}

/// Stores `prenormalized` in `history` the way upstream does: overwrite the **last** entry older
/// than `cutoff` (by `is_old`), or append when none is.
fn store_recommendation(
    history: &mut Vec<Recommendation>,
    prenormalized: i32,
    now_ms: Timestamp,
    is_old: impl Fn(&Recommendation) -> bool,
) {
    let entry = Recommendation {
        replicas: prenormalized,
        at_ms: now_ms,
    };
    match history.iter().rposition(is_old) {
        Some(slot) => history[slot] = entry,
        None => history.push(entry),
    }
}

/// Behavior unset: the maximum of `prenormalized` and every recommendation not older than
/// `now − window` (an entry exactly at the cutoff counts), in both directions (§8.2). Then
/// records `prenormalized`.
///
/// ```
/// use replicast::hpa::{stabilize_legacy, Recommendation, ConditionReason};
/// let now = 1_000_000;
/// let mut history = vec![Recommendation { replicas: 8, at_ms: now - 60_000 }];
/// let s = stabilize_legacy(&mut history, 3, 300, now);
/// assert_eq!(s.replicas, 8);
/// assert_eq!(s.reason, ConditionReason::ScaleDownStabilized);
/// assert_eq!(history.len(), 2);
/// ```
pub fn stabilize_legacy(
    history: &mut Vec<Recommendation>,
    prenormalized: i32,
    window_s: u32,
    now_ms: Timestamp,
) -> Stabilization {
    let cutoff = now_ms.saturating_sub(secs_to_ms(i64::from(window_s)));
    let stabilized = history
        .iter()
        .filter(|r| r.at_ms >= cutoff)
        .map(|r| r.replicas)
        .fold(prenormalized, i32::max);
    store_recommendation(history, prenormalized, now_ms, |r| r.at_ms < cutoff);
    Stabilization {
        replicas: stabilized,
        reason: if stabilized == prenormalized {
            ConditionReason::ReadyForNewScale
        } else {
            ConditionReason::ScaleDownStabilized
        },
    }
}

/// Behavior set: the stabilization envelope (§8.3). `up` is the minimum of `prenormalized` and
/// the recommendations strictly newer than `now − up_window`, `down` the maximum over the
/// down window; the result is `current` raised to `up` and lowered to `down`. Then records
/// `prenormalized` (overwriting the last entry older than both cutoffs).
///
/// ```
/// use replicast::hpa::{stabilize_with_behavior, Recommendation, ConditionReason};
/// let now = 1_000_000;
/// let mut history = vec![Recommendation { replicas: 6, at_ms: now - 100_000 }];
/// // scaling down from 10 to 4 is held at 6 by a 300 s down window
/// let s = stabilize_with_behavior(&mut history, 10, 4, 0, 300, now);
/// assert_eq!(s.replicas, 6);
/// assert_eq!(s.reason, ConditionReason::ScaleDownStabilized);
/// ```
pub fn stabilize_with_behavior(
    history: &mut Vec<Recommendation>,
    current: i32,
    prenormalized: i32,
    up_window_s: u32,
    down_window_s: u32,
    now_ms: Timestamp,
) -> Stabilization {
    let up_cutoff = now_ms.saturating_sub(secs_to_ms(i64::from(up_window_s)));
    let down_cutoff = now_ms.saturating_sub(secs_to_ms(i64::from(down_window_s)));
    let mut up = prenormalized;
    let mut down = prenormalized;
    for r in history.iter() {
        if r.at_ms > up_cutoff {
            up = up.min(r.replicas);
        }
        if r.at_ms > down_cutoff {
            down = down.max(r.replicas);
        }
    }
    // start from current, raise to the up-window's agreement, lower to the down-window's
    let stabilized = current.max(up).min(down);
    let oldest_cutoff = up_cutoff.min(down_cutoff);
    store_recommendation(history, prenormalized, now_ms, |r| r.at_ms < oldest_cutoff);
    let reason = if stabilized == prenormalized {
        ConditionReason::ReadyForNewScale
    } else if prenormalized >= current {
        ConditionReason::ScaleUpStabilized
    } else {
        ConditionReason::ScaleDownStabilized
    };
    Stabilization {
        replicas: stabilized,
        reason,
    }
}

/// Behavior unset: clamp to `[min, min(max, scale-up cap)]` with the cap
/// `int32(max(factor × current, minimum))` (§8.1).
///
/// ```
/// use replicast::hpa::{limit_legacy, ConditionReason};
/// let l = limit_legacy(3, 50, 1, 20, 2.0, 4.0);
/// assert_eq!((l.replicas, l.reason), (6, ConditionReason::ScaleUpLimit));
/// ```
#[must_use]
pub fn limit_legacy(
    current: i32,
    desired: i32,
    min: i32,
    max: i32,
    scale_up_limit_factor: f64,
    scale_up_limit_minimum: f64,
) -> Limited {
    let cap = f64_to_i32((scale_up_limit_factor * f64::from(current)).max(scale_up_limit_minimum));
    let max_allowed = max.min(cap);
    if desired < min {
        Limited {
            replicas: min,
            reason: ConditionReason::TooFewReplicas,
        }
    } else if desired > max_allowed {
        Limited {
            replicas: max_allowed,
            reason: if max > cap {
                ConditionReason::ScaleUpLimit
            } else {
                ConditionReason::TooManyReplicas
            },
        }
    } else {
        Limited {
            replicas: desired,
            reason: ConditionReason::DesiredWithinRange,
        }
    }
}

/// Go's `int32(float64)` for the values reachable here, saturating instead of wrapping.
fn f64_to_i32(value: f64) -> i32 {
    if value.is_nan() {
        0
    } else {
        value.clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
    }
}

/// The sum of `change` over events strictly newer than `now − period`.
///
/// ```
/// use replicast::hpa::{replicas_changed_in_period, ScaleEvent};
/// let now = 1_000_000;
/// let events = [
///     ScaleEvent { change: 2, at_ms: now - 10_000, outdated: false },
///     ScaleEvent { change: 5, at_ms: now - 60_000, outdated: false },
/// ];
/// assert_eq!(replicas_changed_in_period(&events, 60, now), 2);
/// ```
#[must_use]
pub fn replicas_changed_in_period(events: &[ScaleEvent], period_s: i32, now_ms: Timestamp) -> i32 {
    let cutoff = now_ms.saturating_sub(secs_to_ms(i64::from(period_s)));
    let sum: i64 = events
        .iter()
        .filter(|e| e.at_ms > cutoff)
        .map(|e| i64::from(e.change))
        .sum();
    saturate_i32(sum)
}

fn saturate_i32(value: i64) -> i32 {
    value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// The replicas at the start of a period: current minus the scale-ups plus the scale-downs
/// recorded within it (both lists, for every policy, §8.4).
fn period_start(
    current: i32,
    period_s: i32,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    now_ms: Timestamp,
) -> i64 {
    i64::from(current) - i64::from(replicas_changed_in_period(up_events, period_s, now_ms))
        + i64::from(replicas_changed_in_period(down_events, period_s, now_ms))
}

/// The most replicas the scale-up policies allow now (§8.4). `rules` must be defaulted
/// ([`crate::spec::Behavior::defaulted`]).
///
/// ```
/// use replicast::hpa::{scale_up_limit, ScalingRules};
/// use replicast::spec::{Behavior};
/// let rules = Behavior::default().defaulted().scale_up; // max(4 pods, 100 %) per 15 s
/// assert_eq!(scale_up_limit(3, &rules, &[], &[], 0), 7);
/// assert_eq!(scale_up_limit(10, &rules, &[], &[], 0), 20);
/// ```
#[must_use]
pub fn scale_up_limit(
    current: i32,
    rules: &ScalingRules,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    now_ms: Timestamp,
) -> i32 {
    let select = rules.select_policy.unwrap_or(SelectPolicy::Max);
    if select == SelectPolicy::Disabled {
        return current;
    }
    let mut limit: Option<i64> = None;
    for policy in &rules.policies {
        let start = period_start(current, policy.period_s, up_events, down_events, now_ms);
        let proposed = match policy.kind {
            PolicyType::Pods => start + i64::from(policy.value),
            PolicyType::Percent => {
                let factor = 1.0 + f64::from(policy.value) / 100.0;
                f64_to_i64((start as f64 * factor).ceil())
            }
        };
        limit = Some(match (limit, select) {
            (None, _) => proposed,
            (Some(l), SelectPolicy::Min) => l.min(proposed),
            (Some(l), _) => l.max(proposed),
        });
    }
    let limit = limit.unwrap_or(match select {
        SelectPolicy::Min => i64::from(i32::MAX),
        _ => i64::from(i32::MIN),
    });
    saturate_i32(limit).max(current)
}

/// The fewest replicas the scale-down policies allow now (§8.4). `rules` must be defaulted.
///
/// ```
/// use replicast::hpa::{scale_down_limit, ScalingRules};
/// use replicast::spec::Behavior;
/// let rules = Behavior::default().defaulted().scale_down; // 100 % per 15 s
/// assert_eq!(scale_down_limit(10, &rules, &[], &[], 0), 0);
/// ```
#[must_use]
pub fn scale_down_limit(
    current: i32,
    rules: &ScalingRules,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    now_ms: Timestamp,
) -> i32 {
    let select = rules.select_policy.unwrap_or(SelectPolicy::Max);
    if select == SelectPolicy::Disabled {
        return current;
    }
    let mut limit: Option<i64> = None;
    for policy in &rules.policies {
        let start = period_start(current, policy.period_s, up_events, down_events, now_ms);
        let proposed = match policy.kind {
            PolicyType::Pods => start - i64::from(policy.value),
            PolicyType::Percent => {
                let factor = 1.0 - f64::from(policy.value) / 100.0;
                // truncation toward zero, as Go's int32(float64)
                f64_to_i64((start as f64 * factor).trunc())
            }
        };
        // Max = the policy removing the most pods (smallest limit)
        limit = Some(match (limit, select) {
            (None, _) => proposed,
            (Some(l), SelectPolicy::Min) => l.max(proposed),
            (Some(l), _) => l.min(proposed),
        });
    }
    let limit = limit.unwrap_or(match select {
        SelectPolicy::Min => i64::from(i32::MIN),
        _ => i64::from(i32::MAX),
    });
    saturate_i32(limit).min(current)
}

fn f64_to_i64(value: f64) -> i64 {
    if value.is_nan() {
        0
    } else {
        value.clamp(i64::MIN as f64, i64::MAX as f64) as i64
    }
}

/// Behavior set: the rate limits of the direction of change, then `[min, max]` (§8.4).
/// `scale_up` and `scale_down` must be defaulted.
///
/// ```
/// use replicast::hpa::{limit_with_behavior, ConditionReason};
/// use replicast::spec::Behavior;
/// let b = Behavior::default().defaulted();
/// let l = limit_with_behavior(2, 30, 1, 100, &b.scale_up, &b.scale_down, &[], &[], 0);
/// assert_eq!((l.replicas, l.reason), (6, ConditionReason::ScaleUpLimit)); // max(2 + 4, 2 × 2)
/// ```
#[allow(clippy::too_many_arguments)]
#[must_use]
pub fn limit_with_behavior(
    current: i32,
    stabilized: i32,
    min: i32,
    max: i32,
    scale_up: &ScalingRules,
    scale_down: &ScalingRules,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    now_ms: Timestamp,
) -> Limited {
    if stabilized > current {
        let limit = scale_up_limit(current, scale_up, up_events, down_events, now_ms);
        let max_allowed = max.min(limit);
        if stabilized > max_allowed {
            return Limited {
                replicas: max_allowed,
                reason: if max > limit {
                    ConditionReason::ScaleUpLimit
                } else {
                    ConditionReason::TooManyReplicas
                },
            };
        }
    } else if stabilized < current {
        let limit = scale_down_limit(current, scale_down, up_events, down_events, now_ms);
        let min_allowed = min.max(limit);
        if stabilized < min_allowed {
            return Limited {
                replicas: min_allowed,
                reason: if min < limit {
                    ConditionReason::ScaleDownLimit
                } else {
                    ConditionReason::TooFewReplicas
                },
            };
        }
    }
    Limited {
        replicas: stabilized,
        reason: ConditionReason::DesiredWithinRange,
    }
}

/// The longest `period_s` among the policies (0 without policies).
#[must_use]
pub fn longest_policy_period_s(rules: &ScalingRules) -> i32 {
    rules.policies.iter().map(|p| p.period_s).max().unwrap_or(0)
}

/// Records a rescale of `change` replicas in one direction's event list (§8.5). `rules` is that
/// direction's rules, `None` when behavior is unset (nothing is recorded then). Events older than
/// the longest policy period are marked outdated; the new event takes the **last** outdated slot
/// or is appended.
///
/// ```
/// use replicast::hpa::{store_scale_event, ScaleEvent};
/// use replicast::spec::Behavior;
/// let rules = Behavior::default().defaulted().scale_up; // longest period 15 s
/// let mut events = vec![ScaleEvent { change: 3, at_ms: 0, outdated: false }];
/// store_scale_event(Some(&rules), &mut events, 2, 60_000);
/// assert_eq!(events, vec![ScaleEvent { change: 2, at_ms: 60_000, outdated: false }]);
/// ```
pub fn store_scale_event(
    rules: Option<&ScalingRules>,
    events: &mut Vec<ScaleEvent>,
    change: i32,
    now_ms: Timestamp,
) {
    let Some(rules) = rules else {
        return;
    };
    let cutoff = now_ms.saturating_sub(secs_to_ms(i64::from(longest_policy_period_s(rules))));
    let mut last_outdated = None;
    for (i, event) in events.iter_mut().enumerate() {
        if event.at_ms < cutoff {
            event.outdated = true;
        }
        if event.outdated {
            last_outdated = Some(i);
        }
    }
    let event = ScaleEvent {
        change,
        at_ms: now_ms,
        outdated: false,
    };
    match last_outdated {
        Some(slot) => events[slot] = event,
        None => events.push(event),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Behavior, ScalingPolicy};

    fn percent(value: i32) -> ScalingRules {
        ScalingRules {
            stabilization_window_s: None,
            select_policy: Some(SelectPolicy::Max),
            policies: vec![ScalingPolicy {
                kind: PolicyType::Percent,
                value,
                period_s: 60,
            }],
            tolerance: None,
        }
    }

    #[test]
    fn percent_math_is_binary64() {
        // ceil(50 × 1.1) = 56; trunc(10 × (1 − 0.8)) = trunc(1.9999999999999996) = 1
        assert_eq!(scale_up_limit(50, &percent(10), &[], &[], 0), 56);
        assert_eq!(scale_down_limit(10, &percent(80), &[], &[], 0), 1);
    }

    #[test]
    fn extreme_values_saturate() {
        let up = Behavior::default().defaulted().scale_up;
        assert_eq!(scale_up_limit(i32::MAX, &up, &[], &[], 0), i32::MAX);
        let l = limit_legacy(i32::MAX, i32::MAX, 0, i32::MAX, 2.0, 4.0);
        assert_eq!(l.replicas, i32::MAX);
        let events = [ScaleEvent {
            change: i32::MAX,
            at_ms: 0,
            outdated: false,
        }; 3];
        assert_eq!(replicas_changed_in_period(&events, 60, 1), i32::MAX);
    }
}
