//! Normalization of a combined replica proposal (`specs/hpa.md` §8): stabilization over the
//! recommendation history, the scale-up cap or the behavior rate limits, the min/max bounds,
//! and the scale-event bookkeeping the rate limits read on the next sync.
//!
//! Every function takes `now_ms` explicitly and mutates only the history it is handed, so each
//! step can be replayed and checked on its own. Arithmetic follows the controller exactly:
//! binary64 for percentages and the legacy cap, integer replica math done in `i64` and
//! saturated to `i32` so that no input can overflow.

use crate::spec::{Behavior, PolicyType, ScalingPolicy, ScalingRules, SelectPolicy};
use crate::time::{Timestamp, secs_to_ms};

use super::conditions::ConditionReason;
use super::state::{HpaHistory, Recommendation, ScaleEvent};

/// The outcome of a stabilization step (§8.2, §8.3).
///
/// `reason` is the `AbleToScale=True` reason the controller reports right after stabilizing:
/// `ReadyForNewScale`, `ScaleDownStabilized` or `ScaleUpStabilized`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stabilization {
    /// The stabilized recommendation.
    pub replicas: i32,
    /// Why the recommendation was (or was not) held back.
    pub reason: ConditionReason,
}

/// The outcome of a limiting step (§8.1, §8.4).
///
/// `reason` is the `ScalingLimited` reason; `limited` its status (`True` when the bounds or a
/// rate limit changed the stabilized recommendation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// The replicas to scale to.
    pub replicas: i32,
    /// `DesiredWithinRange`, `TooManyReplicas`, `TooFewReplicas`, `ScaleUpLimit` or `ScaleDownLimit`.
    pub reason: ConditionReason,
    /// Whether the result differs from the stabilized recommendation.
    pub limited: bool,
}

/// Both directions' scale events, as the rate limits read them: every policy looks at both
/// lists (§8.4 `periodStart`).
///
/// ```
/// use replicast::hpa::{HpaHistory, ScaleEvents};
/// let history = HpaHistory::default();
/// let events = ScaleEvents::of(&history);
/// assert!(events.up.is_empty() && events.down.is_empty());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScaleEvents<'a> {
    /// Events of past scale-ups.
    pub up: &'a [ScaleEvent],
    /// Events of past scale-downs.
    pub down: &'a [ScaleEvent],
}

impl<'a> ScaleEvents<'a> {
    /// The scale events remembered in `history`.
    #[must_use]
    pub fn of(history: &'a HpaHistory) -> Self {
        Self {
            up: &history.scale_up_events,
            down: &history.scale_down_events,
        }
    }
}

fn saturate_i32(value: i64) -> i32 {
    i32::try_from(value).unwrap_or(if value < 0 { i32::MIN } else { i32::MAX })
}

fn cutoff_ms(now_ms: Timestamp, seconds: i64) -> Timestamp {
    now_ms.saturating_sub(secs_to_ms(seconds))
}

/// Legacy stabilization, used when `behavior` is unset (§8.2, upstream `stabilizeRecommendation`).
///
/// The result is the maximum of `prenormalized` and every recommendation not older than
/// `now − window_s` (an entry exactly at the cutoff still counts) — in both directions, so a
/// recent high recommendation also inflates a scale-up. `prenormalized` is then remembered:
/// it overwrites the last entry older than the cutoff, or is appended when there is none.
///
/// The reason is `ScaleDownStabilized` when the result differs from `prenormalized`, else
/// `ReadyForNewScale`.
///
/// ```
/// use replicast::hpa::{stabilize_legacy, ConditionReason, Recommendation};
/// let now = 1_000_000;
/// let mut history = vec![
///     Recommendation { replicas: 9, at_ms: now - 600_000 }, // outside a 300 s window
///     Recommendation { replicas: 5, at_ms: now - 60_000 },
/// ];
/// let s = stabilize_legacy(&mut history, 3, 300, now);
/// assert_eq!(s.replicas, 5);
/// assert_eq!(s.reason, ConditionReason::ScaleDownStabilized);
/// // the old slot was reused for the new recommendation
/// assert_eq!(history[0], Recommendation { replicas: 3, at_ms: now });
/// ```
pub fn stabilize_legacy(
    recommendations: &mut Vec<Recommendation>,
    prenormalized: i32,
    window_s: u32,
    now_ms: Timestamp,
) -> Stabilization {
    let cutoff = cutoff_ms(now_ms, i64::from(window_s));
    let mut stabilized = prenormalized;
    let mut reusable_slot = None;
    for (index, rec) in recommendations.iter().enumerate() {
        if rec.at_ms < cutoff {
            reusable_slot = Some(index);
        } else {
            stabilized = stabilized.max(rec.replicas);
        }
    }
    remember(recommendations, reusable_slot, prenormalized, now_ms);
    let reason = if stabilized == prenormalized {
        ConditionReason::ReadyForNewScale
    } else {
        ConditionReason::ScaleDownStabilized
    };
    Stabilization {
        replicas: stabilized,
        reason,
    }
}

fn remember(
    recommendations: &mut Vec<Recommendation>,
    reusable_slot: Option<usize>,
    replicas: i32,
    now_ms: Timestamp,
) {
    let entry = Recommendation {
        replicas,
        at_ms: now_ms,
    };
    match reusable_slot.and_then(|index| recommendations.get_mut(index)) {
        Some(slot) => *slot = entry,
        None => recommendations.push(entry),
    }
}

/// Stabilization envelope, used when `behavior` is set (§8.3, upstream
/// `stabilizeRecommendationWithBehaviors`, v1.21+).
///
/// `up` is the minimum of `prenormalized` and the recommendations strictly newer than
/// `now − up_window_s`; `down` the maximum of `prenormalized` and those strictly newer than
/// `now − down_window_s`. The result starts from `current`, is raised to `up` and lowered to
/// `down`: it only moves when the whole up-window agrees on more replicas, or the whole
/// down-window on fewer. `prenormalized` is remembered by overwriting the last entry strictly
/// older than both cutoffs, or appended.
///
/// The reason is `ReadyForNewScale` when the result equals `prenormalized`; otherwise
/// `ScaleUpStabilized` if `prenormalized >= current`, else `ScaleDownStabilized`.
///
/// ```
/// use replicast::hpa::{stabilize_with_behavior, ConditionReason, Recommendation};
/// let now = 1_000_000;
/// let mut history = vec![
///     Recommendation { replicas: 4, at_ms: now - 120_000 },
///     Recommendation { replicas: 5, at_ms: now - 60_000 },
/// ];
/// // scaling 1 → 7 with a 300 s scale-up window: the window only agrees on 4
/// let s = stabilize_with_behavior(&mut history, 1, 7, 300, 0, now);
/// assert_eq!(s.replicas, 4);
/// assert_eq!(s.reason, ConditionReason::ScaleUpStabilized);
/// assert_eq!(history.len(), 3);
/// ```
pub fn stabilize_with_behavior(
    recommendations: &mut Vec<Recommendation>,
    current: i32,
    prenormalized: i32,
    up_window_s: u32,
    down_window_s: u32,
    now_ms: Timestamp,
) -> Stabilization {
    let up_cutoff = cutoff_ms(now_ms, i64::from(up_window_s));
    let down_cutoff = cutoff_ms(now_ms, i64::from(down_window_s));
    let mut up = prenormalized;
    let mut down = prenormalized;
    let mut reusable_slot = None;
    for (index, rec) in recommendations.iter().enumerate() {
        if rec.at_ms > up_cutoff {
            up = up.min(rec.replicas);
        }
        if rec.at_ms > down_cutoff {
            down = down.max(rec.replicas);
        }
        if rec.at_ms < up_cutoff && rec.at_ms < down_cutoff {
            reusable_slot = Some(index);
        }
    }
    // up <= prenormalized <= down, so raising then lowering is a well-defined clamp.
    let stabilized = current.max(up).min(down);
    remember(recommendations, reusable_slot, prenormalized, now_ms);
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

/// Go's `math.Max`: NaN wins, unlike `f64::max`.
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// The legacy scale-up cap `int32(max(factor × current, minimum))` (§8.1, §10 item 7).
///
/// Production uses factor 2 and minimum 4; the upstream unit tests set the factor to 8.
///
/// ```
/// assert_eq!(replicast::hpa::legacy_scale_up_limit(3, 2.0, 4.0), 6);
/// assert_eq!(replicast::hpa::legacy_scale_up_limit(1, 2.0, 4.0), 4);
/// ```
#[must_use]
pub fn legacy_scale_up_limit(current: i32, factor: f64, minimum: f64) -> i32 {
    // `as` saturates out-of-range floats (and maps NaN to 0) instead of wrapping.
    go_max(factor * f64::from(current), minimum) as i32
}

/// Bounds and scale-up cap when `behavior` is unset (§8.1, upstream
/// `convertDesiredReplicasWithRules`).
///
/// Below `min` ⇒ `min` (`TooFewReplicas`); above `min(max, cap)` ⇒ that value (`ScaleUpLimit`
/// when the cap is the tighter bound, else `TooManyReplicas`); otherwise unchanged
/// (`DesiredWithinRange`). There is no scale-down limit on this path.
///
/// ```
/// use replicast::hpa::{limit_legacy, ConditionReason};
/// let l = limit_legacy(3, 1000, 1, 2000, 2.0, 4.0);
/// assert_eq!((l.replicas, l.reason, l.limited), (6, ConditionReason::ScaleUpLimit, true));
/// let l = limit_legacy(3, 1, 2, 8, 2.0, 4.0);
/// assert_eq!((l.replicas, l.reason), (2, ConditionReason::TooFewReplicas));
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
    let cap = legacy_scale_up_limit(current, scale_up_limit_factor, scale_up_limit_minimum);
    let (max_allowed, ceiling_reason) = if max > cap {
        (cap, ConditionReason::ScaleUpLimit)
    } else {
        (max, ConditionReason::TooManyReplicas)
    };
    let (replicas, reason) = if desired < min {
        (min, ConditionReason::TooFewReplicas)
    } else if desired > max_allowed {
        (max_allowed, ceiling_reason)
    } else {
        (desired, ConditionReason::DesiredWithinRange)
    };
    Limited {
        replicas,
        reason,
        limited: replicas != desired,
    }
}

/// The sum of `change` over the events strictly newer than `now − period_s` (upstream
/// `getReplicasChangePerPeriod`). Outdated flags are ignored: events stop counting by age.
///
/// Summed in `i64`, so no number of events can overflow it.
///
/// ```
/// use replicast::hpa::{replicas_changed_in_period, ScaleEvent};
/// let now = 1_000_000;
/// let events = [
///     ScaleEvent { change: 7, at_ms: now - 60_000, outdated: false }, // exactly at the cutoff
///     ScaleEvent { change: 6, at_ms: now - 59_000, outdated: false },
/// ];
/// assert_eq!(replicas_changed_in_period(&events, 60, now), 6);
/// ```
#[must_use]
pub fn replicas_changed_in_period(events: &[ScaleEvent], period_s: i32, now_ms: Timestamp) -> i64 {
    let cutoff = cutoff_ms(now_ms, i64::from(period_s));
    events
        .iter()
        .filter(|event| event.at_ms > cutoff)
        .fold(0_i64, |sum, event| {
            sum.saturating_add(i64::from(event.change))
        })
}

/// The replicas at the start of `policy`'s period: current, minus what was added, plus what
/// was removed within it (§8.4). Both lists count for every policy.
fn period_start(
    current: i32,
    policy: &ScalingPolicy,
    events: ScaleEvents<'_>,
    now_ms: Timestamp,
) -> i64 {
    let added = replicas_changed_in_period(events.up, policy.period_s, now_ms);
    let removed = replicas_changed_in_period(events.down, policy.period_s, now_ms);
    i64::from(current)
        .saturating_sub(added)
        .saturating_add(removed)
}

/// What one scale-up policy allows from `start` replicas.
fn scale_up_proposal(start: i64, policy: &ScalingPolicy) -> i32 {
    match policy.kind {
        PolicyType::Pods => saturate_i32(start.saturating_add(i64::from(policy.value))),
        // Rounded up so that a small percentage still allows one more replica; separate
        // multiply and ceil on binary64, exactly as the controller (no fused multiply-add).
        PolicyType::Percent => {
            (start as f64 * (1.0 + f64::from(policy.value) / 100.0)).ceil() as i32
        }
    }
}

/// What one scale-down policy allows from `start` replicas.
fn scale_down_proposal(start: i64, policy: &ScalingPolicy) -> i32 {
    match policy.kind {
        PolicyType::Pods => saturate_i32(start.saturating_sub(i64::from(policy.value))),
        // Truncated toward zero on the binary64 product: 10 × (1 − 0.8) = 1.999… gives 1.
        PolicyType::Percent => (start as f64 * (1.0 - f64::from(policy.value) / 100.0)) as i32,
    }
}

/// The scale-up limit of one direction's policies (§8.4, upstream
/// `calculateScaleUpLimitWithScalingRules`), before it is raised to `current`.
///
/// `Max` (also when `select_policy` is unset, the API default) takes the largest proposal,
/// `Min` the smallest, `Disabled` answers `current`. With no policies the limit is `i32::MIN`
/// for `Max` and `i32::MAX` for `Min`, as upstream. Pods policies propose `start + value`,
/// Percent policies `ceil(start × (1 + value/100))`.
///
/// ```
/// use replicast::hpa::{scale_up_limit, PolicyType, ScaleEvents, ScalingPolicy, ScalingRules, SelectPolicy};
/// let rules = ScalingRules {
///     select_policy: Some(SelectPolicy::Min),
///     policies: vec![
///         ScalingPolicy { kind: PolicyType::Pods, value: 2, period_s: 60 },
///         ScalingPolicy { kind: PolicyType::Percent, value: 50, period_s: 60 },
///     ],
///     ..ScalingRules::default()
/// };
/// // 1 + 2 = 3 vs ceil(1 × 1.5) = 2: Min picks 2
/// assert_eq!(scale_up_limit(1, &rules, ScaleEvents::default(), 0), 2);
/// ```
#[must_use]
pub fn scale_up_limit(
    current: i32,
    rules: &ScalingRules,
    events: ScaleEvents<'_>,
    now_ms: Timestamp,
) -> i32 {
    let proposals = rules
        .policies
        .iter()
        .map(|policy| scale_up_proposal(period_start(current, policy, events, now_ms), policy));
    match rules.select_policy.unwrap_or(SelectPolicy::Max) {
        SelectPolicy::Disabled => current,
        SelectPolicy::Max => proposals.fold(i32::MIN, i32::max),
        SelectPolicy::Min => proposals.fold(i32::MAX, i32::min),
    }
}

/// The scale-down limit of one direction's policies (§8.4, upstream
/// `calculateScaleDownLimitWithBehaviors`), before it is lowered to `current`.
///
/// `Max` (also when unset) takes the policy removing the most replicas, i.e. the *smallest*
/// proposal; `Min` the largest; `Disabled` answers `current`. With no policies the limit is
/// `i32::MAX` for `Max` and `i32::MIN` for `Min`. Pods policies propose `start − value`,
/// Percent policies `trunc(start × (1 − value/100))`.
///
/// ```
/// use replicast::hpa::{scale_down_limit, PolicyType, ScaleEvents, ScalingPolicy, ScalingRules, SelectPolicy};
/// let rules = ScalingRules {
///     select_policy: Some(SelectPolicy::Min),
///     policies: vec![
///         ScalingPolicy { kind: PolicyType::Pods, value: 2, period_s: 60 },
///         ScalingPolicy { kind: PolicyType::Percent, value: 50, period_s: 60 },
///     ],
///     ..ScalingRules::default()
/// };
/// // 5 − 2 = 3 vs trunc(5 × 0.5) = 2: Min removes the fewest, 3
/// assert_eq!(scale_down_limit(5, &rules, ScaleEvents::default(), 0), 3);
/// ```
#[must_use]
pub fn scale_down_limit(
    current: i32,
    rules: &ScalingRules,
    events: ScaleEvents<'_>,
    now_ms: Timestamp,
) -> i32 {
    let proposals = rules
        .policies
        .iter()
        .map(|policy| scale_down_proposal(period_start(current, policy, events, now_ms), policy));
    match rules.select_policy.unwrap_or(SelectPolicy::Max) {
        SelectPolicy::Disabled => current,
        SelectPolicy::Max => proposals.fold(i32::MAX, i32::min),
        SelectPolicy::Min => proposals.fold(i32::MIN, i32::max),
    }
}

/// Rate limits and bounds when `behavior` is set (§8.4, upstream
/// `convertDesiredReplicasWithBehaviorRate`). `behavior` must be API-defaulted
/// ([`Behavior::defaulted`]); the stabilization windows are not read here.
///
/// * Scaling up: the policy limit (never below `current`) and `max` cap the result; the reason
///   is `ScaleUpLimit` when the policy limit is the tighter one, else `TooManyReplicas`.
/// * Scaling down: the policy limit (never above `current`) and `min` floor the result;
///   `ScaleDownLimit` when the policy limit is the tighter one, else `TooFewReplicas`.
/// * `stabilized == current`: unchanged. Bounds are not applied then, nor on the side
///   opposite to the movement — the controller only gets here with `min <= current <= max`.
///
/// When nothing cut the recommendation the reason is `DesiredWithinRange`.
///
/// ```
/// use replicast::hpa::{limit_with_behavior, Behavior, ConditionReason, ScaleEvents};
/// let behavior = Behavior::default().defaulted();
/// // default scale-up from 1 replica: max(1 + 4, ceil(1 × 2)) = 5
/// let l = limit_with_behavior(1, 10, 1, 100, &behavior, ScaleEvents::default(), 0);
/// assert_eq!((l.replicas, l.reason, l.limited), (5, ConditionReason::ScaleUpLimit, true));
/// ```
#[must_use]
pub fn limit_with_behavior(
    current: i32,
    stabilized: i32,
    min: i32,
    max: i32,
    behavior: &Behavior,
    events: ScaleEvents<'_>,
    now_ms: Timestamp,
) -> Limited {
    let within = Limited {
        replicas: stabilized,
        reason: ConditionReason::DesiredWithinRange,
        limited: false,
    };
    let cut_to = |replicas, reason| Limited {
        replicas,
        reason,
        limited: true,
    };
    if stabilized > current {
        // A used-up budget yields a limit below current; that means "hold", not "scale down".
        let limit = scale_up_limit(current, &behavior.scale_up, events, now_ms).max(current);
        let (max_allowed, reason) = if max > limit {
            (limit, ConditionReason::ScaleUpLimit)
        } else {
            (max, ConditionReason::TooManyReplicas)
        };
        if stabilized > max_allowed {
            return cut_to(max_allowed, reason);
        }
    } else if stabilized < current {
        let limit = scale_down_limit(current, &behavior.scale_down, events, now_ms).min(current);
        let (min_allowed, reason) = if min < limit {
            (limit, ConditionReason::ScaleDownLimit)
        } else {
            (min, ConditionReason::TooFewReplicas)
        };
        if stabilized < min_allowed {
            return cut_to(min_allowed, reason);
        }
    }
    within
}

/// The longest `period_s` among `rules`' policies (0 without policies), upstream
/// `getLongestPolicyPeriod`.
fn longest_policy_period_s(rules: &ScalingRules) -> i32 {
    rules
        .policies
        .iter()
        .map(|policy| policy.period_s)
        .fold(0, i32::max)
}

/// Remembers one rescale in one direction's event list (§8.5, upstream `storeScaleEvent`).
///
/// `rules` are that direction's API-defaulted rules; `None` means `behavior` is unset, and then
/// nothing is stored (the legacy path has no rate limits to feed). `change` is the absolute
/// replica delta. Every event older than `now − longest policy period` is marked outdated; the
/// new event overwrites the last outdated slot, or is appended. Outdated events are never
/// removed, and a policy-less `rules` makes every past event outdated.
///
/// ```
/// use replicast::hpa::{store_scale_event, PolicyType, ScaleEvent, ScalingPolicy, ScalingRules};
/// let now = 1_000_000;
/// let rules = ScalingRules {
///     policies: vec![ScalingPolicy { kind: PolicyType::Pods, value: 10, period_s: 60 }],
///     ..ScalingRules::default()
/// };
/// let mut events = vec![
///     ScaleEvent { change: 7, at_ms: now - 61_000, outdated: false },
///     ScaleEvent { change: 6, at_ms: now - 59_000, outdated: false },
/// ];
/// store_scale_event(Some(&rules), &mut events, 5, now);
/// assert_eq!(events[0], ScaleEvent { change: 5, at_ms: now, outdated: false });
/// assert_eq!(events[1].change, 6);
///
/// let mut untouched = Vec::new();
/// store_scale_event(None, &mut untouched, 5, now);
/// assert!(untouched.is_empty());
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
    let cutoff = cutoff_ms(now_ms, i64::from(longest_policy_period_s(rules)));
    for event in events.iter_mut() {
        if event.at_ms < cutoff {
            event.outdated = true;
        }
    }
    let new_event = ScaleEvent {
        change,
        at_ms: now_ms,
        outdated: false,
    };
    match events.iter_mut().rev().find(|event| event.outdated) {
        Some(slot) => *slot = new_event,
        None => events.push(new_event),
    }
}

/// Remembers a successful rescale from `previous_replicas` to `new_replicas` in `history`
/// (§7.3, §8.5): a scale-up goes to the scale-up events under `behavior.scale_up`, anything
/// else to the scale-down events under `behavior.scale_down`, with the absolute delta
/// (saturated to `i32`). `behavior == None` (unset) stores nothing. `behavior` must be
/// API-defaulted.
///
/// ```
/// use replicast::hpa::{store_rescale_event, Behavior, HpaHistory};
/// let behavior = Behavior::default().defaulted();
/// let mut history = HpaHistory::default();
/// store_rescale_event(Some(&behavior), &mut history, 10, 4, 1_000_000);
/// assert_eq!(history.scale_down_events[0].change, 6);
/// assert!(history.scale_up_events.is_empty());
/// ```
pub fn store_rescale_event(
    behavior: Option<&Behavior>,
    history: &mut HpaHistory,
    previous_replicas: i32,
    new_replicas: i32,
    now_ms: Timestamp,
) {
    let Some(behavior) = behavior else {
        return;
    };
    let change = saturate_i32((i64::from(new_replicas) - i64::from(previous_replicas)).abs());
    if new_replicas > previous_replicas {
        store_scale_event(
            Some(&behavior.scale_up),
            &mut history.scale_up_events,
            change,
            now_ms,
        );
    } else {
        store_scale_event(
            Some(&behavior.scale_down),
            &mut history.scale_down_events,
            change,
            now_ms,
        );
    }
}

#[cfg(test)]
mod tests {
    //! Boundaries the conformance vectors do not pin (no vector has an entry exactly at a
    //! cutoff), taken from the comparisons of spec §8.2–§8.5, and overflow behaviour.

    use super::*;

    const NOW: Timestamp = 1_700_000_000_000;

    fn rec(replicas: i32, seconds_ago: i64) -> Recommendation {
        Recommendation {
            replicas,
            at_ms: NOW - seconds_ago * 1000,
        }
    }

    fn event(change: i32, seconds_ago: i64) -> ScaleEvent {
        ScaleEvent {
            change,
            at_ms: NOW - seconds_ago * 1000,
            outdated: false,
        }
    }

    fn pods(value: i32, period_s: i32) -> ScalingPolicy {
        ScalingPolicy {
            kind: PolicyType::Pods,
            value,
            period_s,
        }
    }

    fn rules(policies: Vec<ScalingPolicy>) -> ScalingRules {
        ScalingRules {
            policies,
            ..ScalingRules::default()
        }
    }

    #[test]
    fn legacy_window_includes_its_cutoff_and_does_not_reuse_it() {
        let mut history = vec![rec(9, 300)];
        let s = stabilize_legacy(&mut history, 3, 300, NOW);
        assert_eq!(s.replicas, 9);
        assert_eq!(history.len(), 2);
    }

    #[test]
    fn behavior_windows_exclude_their_cutoff_and_do_not_reuse_it() {
        let mut history = vec![rec(9, 300)];
        let s = stabilize_with_behavior(&mut history, 10, 3, 300, 300, NOW);
        assert_eq!(s.replicas, 3);
        assert_eq!(s.reason, ConditionReason::ReadyForNewScale);
        // neither inside a window nor strictly older than both cutoffs: kept, new one appended
        assert_eq!(history.len(), 2);
    }

    #[test]
    fn behavior_reuses_only_entries_older_than_both_windows() {
        let mut history = vec![rec(9, 200), rec(8, 400)];
        stabilize_with_behavior(&mut history, 10, 3, 100, 300, NOW);
        assert_eq!(history[0].replicas, 9);
        assert_eq!(
            history[1],
            Recommendation {
                replicas: 3,
                at_ms: NOW
            }
        );
    }

    #[test]
    fn behavior_stabilization_reasons() {
        let mut history = vec![rec(8, 10)];
        let held_down = stabilize_with_behavior(&mut history, 10, 3, 0, 300, NOW);
        assert_eq!(
            (held_down.replicas, held_down.reason),
            (8, ConditionReason::ScaleDownStabilized)
        );
        let mut history = vec![rec(4, 10)];
        let held_up = stabilize_with_behavior(&mut history, 2, 9, 300, 0, NOW);
        assert_eq!(
            (held_up.replicas, held_up.reason),
            (4, ConditionReason::ScaleUpStabilized)
        );
    }

    #[test]
    fn events_exactly_one_period_old_no_longer_count() {
        let events = [event(5, 60), event(2, 59)];
        assert_eq!(replicas_changed_in_period(&events, 60, NOW), 2);
    }

    #[test]
    fn events_exactly_one_period_old_are_not_outdated() {
        let mut events = vec![event(5, 60), event(4, 61)];
        store_scale_event(Some(&rules(vec![pods(1, 60)])), &mut events, 1, NOW);
        assert_eq!(events[0], event(5, 60));
        assert_eq!(
            events[1],
            ScaleEvent {
                change: 1,
                at_ms: NOW,
                outdated: false
            }
        );
    }

    #[test]
    fn previously_outdated_events_stay_outdated_and_the_last_one_is_reused() {
        let mut events = vec![
            ScaleEvent {
                outdated: true,
                ..event(1, 10)
            },
            ScaleEvent {
                outdated: true,
                ..event(2, 10)
            },
            event(3, 10),
        ];
        store_scale_event(Some(&rules(vec![pods(1, 60)])), &mut events, 7, NOW);
        assert!(events[0].outdated);
        assert_eq!(
            events[1],
            ScaleEvent {
                change: 7,
                at_ms: NOW,
                outdated: false
            }
        );
        assert_eq!(events[2], event(3, 10));
    }

    #[test]
    fn both_event_lists_move_the_period_start() {
        let up = [event(4, 10)];
        let down = [event(6, 10)];
        let events = ScaleEvents {
            up: &up,
            down: &down,
        };
        // start = 10 − 4 + 6 = 12
        assert_eq!(
            scale_up_limit(10, &rules(vec![pods(3, 60)]), events, NOW),
            15
        );
        assert_eq!(
            scale_down_limit(10, &rules(vec![pods(3, 60)]), events, NOW),
            9
        );
    }

    #[test]
    fn disabled_and_policy_less_directions() {
        let disabled = ScalingRules {
            select_policy: Some(SelectPolicy::Disabled),
            ..rules(vec![pods(3, 60)])
        };
        let none = ScaleEvents::default();
        assert_eq!(scale_up_limit(10, &disabled, none, NOW), 10);
        assert_eq!(scale_down_limit(10, &disabled, none, NOW), 10);
        assert_eq!(scale_up_limit(10, &rules(vec![]), none, NOW), i32::MIN);
        assert_eq!(scale_down_limit(10, &rules(vec![]), none, NOW), i32::MAX);
        let behavior = Behavior {
            scale_up: disabled.clone(),
            scale_down: disabled,
        };
        let l = limit_with_behavior(10, 20, 1, 100, &behavior, none, NOW);
        assert_eq!(
            (l.replicas, l.reason, l.limited),
            (10, ConditionReason::ScaleUpLimit, true)
        );
    }

    #[test]
    fn extreme_replicas_saturate_instead_of_overflowing() {
        let none = ScaleEvents::default();
        let up = rules(vec![
            pods(i32::MAX, 15),
            ScalingPolicy {
                kind: PolicyType::Percent,
                value: i32::MAX,
                period_s: 15,
            },
        ]);
        assert_eq!(scale_up_limit(i32::MAX, &up, none, NOW), i32::MAX);
        let down = rules(vec![pods(i32::MAX, 15)]);
        assert_eq!(scale_down_limit(i32::MIN, &down, none, NOW), i32::MIN);
        let many = vec![event(i32::MAX, 1); 4];
        let events = ScaleEvents {
            up: &[],
            down: &many,
        };
        assert_eq!(
            scale_up_limit(i32::MAX, &rules(vec![pods(1, 15)]), events, NOW),
            i32::MAX
        );
        assert_eq!(legacy_scale_up_limit(i32::MAX, 8.0, 4.0), i32::MAX);
        assert_eq!(legacy_scale_up_limit(3, f64::NAN, 4.0), 0);
    }

    #[test]
    fn rescale_events_go_to_the_direction_of_the_change() {
        let behavior = Behavior::default().defaulted();
        let mut history = HpaHistory::default();
        store_rescale_event(Some(&behavior), &mut history, 3, 8, NOW);
        store_rescale_event(Some(&behavior), &mut history, i32::MAX, i32::MIN, NOW);
        assert_eq!(history.scale_up_events[0].change, 5);
        assert_eq!(history.scale_down_events[0].change, i32::MAX);
        store_rescale_event(None, &mut history, 8, 3, NOW);
        assert_eq!(history.scale_down_events.len(), 1);
    }
}
