//! Properties of the normalization steps (`specs/hpa.md` §8) over arbitrary inputs.

use std::cmp::Ordering;

use proptest::prelude::*;
use replicast::hpa::{
    self, Behavior, HpaHistory, PolicyType, Recommendation, ScaleEvent, ScaleEvents, ScalingPolicy,
    ScalingRules, SelectPolicy,
};
use replicast::time::Timestamp;

const NOW_MS: Timestamp = 1_700_000_000_000;

fn policy() -> impl Strategy<Value = ScalingPolicy> {
    (
        prop_oneof![Just(PolicyType::Pods), Just(PolicyType::Percent)],
        1..=200_i32,
        1..=180_i32,
    )
        .prop_map(|(kind, value, period_s)| ScalingPolicy {
            kind,
            value,
            period_s,
        })
}

fn rules() -> impl Strategy<Value = ScalingRules> {
    (
        prop_oneof![Just(SelectPolicy::Max), Just(SelectPolicy::Min)],
        prop::collection::vec(policy(), 1..=3),
    )
        .prop_map(|(select, policies)| ScalingRules {
            stabilization_window_s: Some(0),
            select_policy: Some(select),
            policies,
            tolerance: None,
        })
}

/// Replicas right after every rescale recorded at or before `at_ms` (the period start a
/// policy sees is exactly this: changes strictly newer than the cutoff are taken back).
fn replicas_at(initial: i32, timeline: &[(Timestamp, i32)], at_ms: Timestamp) -> i32 {
    timeline
        .iter()
        .take_while(|(t, _)| *t <= at_ms)
        .last()
        .map_or(initial, |(_, r)| *r)
}

/// What one policy allows from `start`, in the direction given.
fn allowance(policy: &ScalingPolicy, start: i32, up: bool) -> i64 {
    let start = i64::from(start);
    let value = i64::from(policy.value);
    match (policy.kind, up) {
        (PolicyType::Pods, true) => start + value,
        (PolicyType::Pods, false) => start - value,
        (PolicyType::Percent, true) => {
            (start as f64 * (1.0 + f64::from(policy.value) / 100.0)).ceil() as i64
        }
        (PolicyType::Percent, false) => {
            (start as f64 * (1.0 - f64::from(policy.value) / 100.0)) as i64
        }
    }
}

proptest! {
    /// Applied sync after sync with every rescale stored, the policies never let the replicas
    /// move further within any policy period than the policy allows from the replicas at the
    /// start of that period (`Max`: the most generous policy, `Min`: every policy).
    #[test]
    fn policies_bound_the_change_over_every_period(
        initial in 1..=100_i32,
        up_rules in rules(),
        down_rules in rules(),
        steps in prop::collection::vec((0..=40_i64, 0..=400_i32), 1..=40),
    ) {
        let behavior = Behavior { scale_up: up_rules, scale_down: down_rules };
        let (min, max) = (0, 1000);
        let mut history = HpaHistory::default();
        let mut timeline: Vec<(Timestamp, i32)> = Vec::new();
        let mut current = initial;
        let mut now = NOW_MS;
        for (advance_s, desired) in steps {
            now += advance_s * 1000;
            let limited = hpa::limit_with_behavior(
                current, desired, min, max, &behavior, ScaleEvents::of(&history), now,
            );
            let next = limited.replicas;
            prop_assert!((min..=max).contains(&next));
            if next != current {
                let up = next > current;
                let rules = if up { &behavior.scale_up } else { &behavior.scale_down };
                let bounds = rules.policies.iter().map(|p| {
                    let start = replicas_at(initial, &timeline, now - i64::from(p.period_s) * 1000);
                    allowance(p, start, up)
                });
                let next = i64::from(next);
                match (rules.select_policy, up) {
                    (Some(SelectPolicy::Min), true) => {
                        for bound in bounds { prop_assert!(next <= bound); }
                    }
                    (Some(SelectPolicy::Min), false) => {
                        for bound in bounds { prop_assert!(next >= bound); }
                    }
                    (_, true) => prop_assert!(bounds.into_iter().any(|b| next <= b)),
                    (_, false) => prop_assert!(bounds.into_iter().any(|b| next >= b)),
                }
                hpa::store_rescale_event(Some(&behavior), &mut history, current, limited.replicas, now);
                timeline.push((now, limited.replicas));
                current = limited.replicas;
            }
        }
    }

    /// Scaling down under a behavior never goes below the highest recommendation of the
    /// down window (nor above current); scaling up never above the lowest of the up window.
    #[test]
    fn behavior_stabilization_respects_both_windows(
        current in 0..=50_i32,
        prenormalized in 0..=50_i32,
        up_window_s in 0..=600_u32,
        down_window_s in 0..=600_u32,
        past in prop::collection::vec((0..=50_i32, 1..=900_i64), 0..=8),
    ) {
        let mut history: Vec<Recommendation> = past
            .iter()
            .map(|&(replicas, seconds_ago)| Recommendation { replicas, at_ms: NOW_MS - seconds_ago * 1000 })
            .collect();
        let within = |window_s: u32| {
            past.iter()
                .filter(move |(_, ago)| *ago < i64::from(window_s))
                .map(|(r, _)| *r)
        };
        let down_max = within(down_window_s).fold(prenormalized, i32::max);
        let up_min = within(up_window_s).fold(prenormalized, i32::min);
        let s = hpa::stabilize_with_behavior(
            &mut history, current, prenormalized, up_window_s, down_window_s, NOW_MS,
        );
        match prenormalized.cmp(&current) {
            Ordering::Less => {
                prop_assert!(s.replicas >= current.min(down_max));
                prop_assert!(s.replicas <= current);
            }
            Ordering::Greater => {
                prop_assert!(s.replicas <= current.max(up_min));
                prop_assert!(s.replicas >= current);
            }
            Ordering::Equal => prop_assert_eq!(s.replicas, current),
        }
        prop_assert_eq!(history.iter().filter(|r| r.at_ms == NOW_MS).count(), 1);
        prop_assert!(history.len() <= past.len() + 1);
    }

    /// With `min <= current <= max` (the controller exits early otherwise, §7.1) both limiting
    /// paths keep the result inside `[min, max]`, whatever the proposal, events and rules.
    #[test]
    fn limits_stay_within_bounds(
        min in 0..=1000_i32,
        span in 0..=1000_i32,
        offset in 0..=1000_i32,
        stabilized in any::<i32>(),
        up_rules in rules(),
        down_rules in rules(),
        up in prop::collection::vec((0..=500_i32, 0..=200_i64), 0..=5),
        down in prop::collection::vec((0..=500_i32, 0..=200_i64), 0..=5),
        factor in 1.0..=10.0_f64,
        minimum in -10.0..=10.0_f64,
    ) {
        let max = min + span;
        let current = min + offset.min(span);
        let to_events = |list: &[(i32, i64)]| -> Vec<ScaleEvent> {
            list.iter()
                .map(|&(change, ago)| ScaleEvent { change, at_ms: NOW_MS - ago * 1000, outdated: false })
                .collect()
        };
        let (up, down) = (to_events(&up), to_events(&down));
        let behavior = Behavior { scale_up: up_rules, scale_down: down_rules };
        let limited = hpa::limit_with_behavior(
            current, stabilized, min, max, &behavior, ScaleEvents { up: &up, down: &down }, NOW_MS,
        );
        prop_assert!((min..=max).contains(&limited.replicas));
        prop_assert_eq!(limited.limited, limited.replicas != stabilized);
        let legacy = hpa::limit_legacy(current, stabilized, min, max, factor, minimum);
        prop_assert!((min..=max).contains(&legacy.replicas));
        prop_assert_eq!(legacy.limited, legacy.replicas != stabilized);
    }

    /// Nothing panics or overflows, whatever the integers (and floats) given.
    #[test]
    fn no_input_panics(
        current in any::<i32>(),
        desired in any::<i32>(),
        min in any::<i32>(),
        max in any::<i32>(),
        windows in any::<(u32, u32)>(),
        now in any::<i64>(),
        policies in prop::collection::vec(
            (any::<bool>(), any::<i32>(), any::<i32>()).prop_map(|(pods, value, period_s)| ScalingPolicy {
                kind: if pods { PolicyType::Pods } else { PolicyType::Percent },
                value,
                period_s,
            }),
            0..=3,
        ),
        select in prop_oneof![Just(SelectPolicy::Max), Just(SelectPolicy::Min), Just(SelectPolicy::Disabled)],
        events in prop::collection::vec((any::<i32>(), any::<i64>(), any::<bool>()), 0..=4),
        recommendations in prop::collection::vec((any::<i32>(), any::<i64>()), 0..=4),
        floats in any::<(f64, f64)>(),
    ) {
        let rules = ScalingRules {
            stabilization_window_s: Some(windows.0),
            select_policy: Some(select),
            policies,
            tolerance: None,
        };
        let mut events: Vec<ScaleEvent> = events
            .into_iter()
            .map(|(change, at_ms, outdated)| ScaleEvent { change, at_ms, outdated })
            .collect();
        let mut history: Vec<Recommendation> = recommendations
            .into_iter()
            .map(|(replicas, at_ms)| Recommendation { replicas, at_ms })
            .collect();
        let behavior = Behavior { scale_up: rules.clone(), scale_down: rules.clone() };
        let both = ScaleEvents { up: &events, down: &events };
        let _ = hpa::scale_up_limit(current, &rules, both, now);
        let _ = hpa::scale_down_limit(current, &rules, both, now);
        let _ = hpa::replicas_changed_in_period(&events, windows.0 as i32, now);
        let _ = hpa::limit_with_behavior(current, desired, min, max, &behavior, both, now);
        let _ = hpa::limit_legacy(current, desired, min, max, floats.0, floats.1);
        let _ = hpa::stabilize_legacy(&mut history.clone(), desired, windows.0, now);
        let _ = hpa::stabilize_with_behavior(&mut history, current, desired, windows.0, windows.1, now);
        hpa::store_scale_event(Some(&rules), &mut events, desired, now);
        let mut state = HpaHistory { scale_up_events: events.clone(), scale_down_events: events, ..HpaHistory::default() };
        hpa::store_rescale_event(Some(&behavior), &mut state, current, desired, now);
    }
}
