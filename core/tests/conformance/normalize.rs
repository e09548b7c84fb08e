//! The normalization groups (`specs/hpa.md` §8): legacy clamp and stabilization, the behavior
//! stabilization envelope, policy limits, rate limits with bounds, and scale-event bookkeeping.
//!
//! Vector times are seconds relative to the evaluation instant; they are placed on a fixed
//! `NOW_MS` so that the library sees ordinary millisecond timestamps.

use replicast::hpa::{
    self, Behavior, HpaHistory, PolicyType, Recommendation, ScaleEvent, ScaleEvents, ScalingPolicy,
    ScalingRules, SelectPolicy,
};
use replicast::time::{GO_ZERO_TIME_MS, Timestamp};
use serde_json::Value;

use crate::Outcome;

/// The evaluation instant every vector time is relative to.
const NOW_MS: Timestamp = 1_700_000_000_000;

fn field<'a>(v: &'a Value, key: &str) -> Result<&'a Value, String> {
    v.get(key).ok_or_else(|| format!("missing field {key:?}"))
}

fn int(v: &Value, key: &str) -> Result<i32, String> {
    let raw = field(v, key)?;
    raw.as_i64()
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| format!("{key:?} is not an int32: {raw}"))
}

fn float(v: &Value, key: &str) -> Result<f64, String> {
    let raw = field(v, key)?;
    raw.as_f64()
        .ok_or_else(|| format!("{key:?} is not a number: {raw}"))
}

fn window_s(v: &Value, key: &str) -> Result<u32, String> {
    let raw = field(v, key)?;
    raw.as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| format!("{key:?} is not a window in seconds: {raw}"))
}

fn array<'a>(v: &'a Value, key: &str) -> Result<&'a [Value], String> {
    let raw = field(v, key)?;
    raw.as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| format!("{key:?} is not an array: {raw}"))
}

/// A history time: `"zero"` is Go's zero time; `0` was stamped earlier in the same sync, so it
/// must land strictly before now (a 0-second window must not see it).
fn history_time(v: &Value, key: &str) -> Result<Timestamp, String> {
    let raw = field(v, key)?;
    if raw.as_str() == Some("zero") {
        return Ok(GO_ZERO_TIME_MS);
    }
    let seconds = raw
        .as_f64()
        .ok_or_else(|| format!("{key:?} is not a time: {raw}"))?;
    if seconds == 0.0 {
        return Ok(NOW_MS - 1);
    }
    Ok(NOW_MS + (seconds * 1000.0).round() as i64)
}

fn recommendations(v: &Value, key: &str) -> Result<Vec<Recommendation>, String> {
    array(v, key)?
        .iter()
        .map(|r| {
            Ok(Recommendation {
                replicas: int(r, "replicas")?,
                at_ms: history_time(r, "at_s")?,
            })
        })
        .collect()
}

fn events(v: &Value, key: &str) -> Result<Vec<ScaleEvent>, String> {
    array(v, key)?
        .iter()
        .map(|e| {
            Ok(ScaleEvent {
                change: int(e, "change")?,
                at_ms: history_time(e, "at_s")?,
                outdated: e.get("outdated").and_then(Value::as_bool).unwrap_or(false),
            })
        })
        .collect()
}

fn rules(v: &Value) -> Result<ScalingRules, String> {
    let stabilization_window_s = match field(v, "stabilization_window_s")? {
        Value::Null => None,
        _ => Some(window_s(v, "stabilization_window_s")?),
    };
    let select_policy = match field(v, "select_policy")?.as_str() {
        Some("Max") => SelectPolicy::Max,
        Some("Min") => SelectPolicy::Min,
        Some("Disabled") => SelectPolicy::Disabled,
        other => return Err(format!("unknown select_policy {other:?}")),
    };
    let policies = array(v, "policies")?
        .iter()
        .map(|p| {
            let kind = match field(p, "type")?.as_str() {
                Some("Pods") => PolicyType::Pods,
                Some("Percent") => PolicyType::Percent,
                other => return Err(format!("unknown policy type {other:?}")),
            };
            Ok(ScalingPolicy {
                kind,
                value: int(p, "value")?,
                period_s: int(p, "period_s")?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let tolerance = match v.get("tolerance") {
        None | Some(Value::Null) => None,
        Some(_) => Some(float(v, "tolerance")?),
    };
    Ok(ScalingRules {
        stabilization_window_s,
        select_policy: Some(select_policy),
        policies,
        tolerance,
    })
}

fn check<T: PartialEq + std::fmt::Debug + ?Sized>(what: &str, got: &T, expected: &T) -> Outcome {
    if got == expected {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, expected {expected:?}"))
    }
}

fn check_reason(got: impl std::fmt::Display, expected: &Value) -> Outcome {
    let expected = expected
        .as_str()
        .ok_or_else(|| format!("expected reason is not a string: {expected}"))?;
    check("reason", got.to_string().as_str(), expected)
}

fn parts(v: &Value) -> Result<(&Value, &Value), String> {
    Ok((field(v, "inputs")?, field(v, "expected")?))
}

pub(crate) fn rate_limit_behavior(v: &Value) -> Outcome {
    let (inputs, expected) = parts(v)?;
    let behavior = Behavior {
        scale_up: rules(field(inputs, "scale_up_rules")?)?,
        scale_down: rules(field(inputs, "scale_down_rules")?)?,
    };
    let up = events(inputs, "scale_up_events")?;
    let down = events(inputs, "scale_down_events")?;
    let stabilized = int(inputs, "desired_replicas")?;
    let limited = hpa::limit_with_behavior(
        int(inputs, "current_replicas")?,
        stabilized,
        int(inputs, "min_replicas")?,
        int(inputs, "max_replicas")?,
        &behavior,
        ScaleEvents {
            up: &up,
            down: &down,
        },
        NOW_MS,
    );
    check("replicas", &limited.replicas, &int(expected, "replicas")?)?;
    check_reason(limited.reason, field(expected, "reason")?)?;
    check(
        "limited",
        &limited.limited,
        &(limited.replicas != stabilized),
    )
}

pub(crate) fn clamp_legacy(v: &Value) -> Outcome {
    let (inputs, expected) = parts(v)?;
    let desired = int(inputs, "desired_replicas")?;
    let limited = hpa::limit_legacy(
        int(inputs, "current_replicas")?,
        desired,
        int(inputs, "min_replicas")?,
        int(inputs, "max_replicas")?,
        float(inputs, "scale_up_limit_factor")?,
        float(inputs, "scale_up_limit_minimum")?,
    );
    check("replicas", &limited.replicas, &int(expected, "replicas")?)?;
    check_reason(limited.reason, field(expected, "reason")?)?;
    check("limited", &limited.limited, &(limited.replicas != desired))
}

pub(crate) fn policy_limit(v: &Value) -> Outcome {
    let (inputs, expected) = parts(v)?;
    let current = int(inputs, "current_replicas")?;
    let rules = rules(field(inputs, "rules")?)?;
    let up = events(inputs, "scale_up_events")?;
    let down = events(inputs, "scale_down_events")?;
    let events = ScaleEvents {
        up: &up,
        down: &down,
    };
    let limit = match field(inputs, "direction")?.as_str() {
        Some("up") => hpa::scale_up_limit(current, &rules, events, NOW_MS),
        Some("down") => hpa::scale_down_limit(current, &rules, events, NOW_MS),
        other => return Err(format!("unknown direction {other:?}")),
    };
    check("limit", &limit, &int(expected, "limit")?)
}

pub(crate) fn stabilize_legacy(v: &Value) -> Outcome {
    let (inputs, expected) = parts(v)?;
    let mut history = recommendations(inputs, "recommendations")?;
    let prenormalized = int(inputs, "prenormalized_replicas")?;
    let stabilized = hpa::stabilize_legacy(
        &mut history,
        prenormalized,
        window_s(inputs, "window_s")?,
        NOW_MS,
    );
    check(
        "replicas",
        &stabilized.replicas,
        &int(expected, "replicas")?,
    )?;
    let expected_len = field(expected, "history_len_after")?
        .as_u64()
        .ok_or("history_len_after is not a count")?;
    check("history_len_after", &(history.len() as u64), &expected_len)?;
    check(
        "stored recommendation",
        &history.iter().any(|r| {
            *r == Recommendation {
                replicas: prenormalized,
                at_ms: NOW_MS,
            }
        }),
        &true,
    )
}

pub(crate) fn stabilize_behavior(v: &Value) -> Outcome {
    let (inputs, expected) = parts(v)?;
    let mut history = recommendations(inputs, "recommendations")?;
    let stabilized = hpa::stabilize_with_behavior(
        &mut history,
        int(inputs, "current_replicas")?,
        int(inputs, "desired_replicas")?,
        window_s(inputs, "up_window_s")?,
        window_s(inputs, "down_window_s")?,
        NOW_MS,
    );
    check(
        "replicas",
        &stabilized.replicas,
        &int(expected, "replicas")?,
    )?;
    if let Some(reason) = expected.get("reason") {
        check_reason(stabilized.reason, reason)?;
    }
    if let Some(after) = expected.get("history_after") {
        let expected_after = after
            .as_array()
            .ok_or("history_after is not an array")?
            .iter()
            .map(|r| r.as_i64().and_then(|n| i32::try_from(n).ok()))
            .collect::<Option<Vec<i32>>>()
            .ok_or("history_after holds a non-int32")?;
        let got: Vec<i32> = history.iter().map(|r| r.replicas).collect();
        check("history_after", &got, &expected_after)?;
    }
    Ok(())
}

/// Upstream runs each of these cases for both directions (10 → 15 stores a scale-up event,
/// 10 → 5 a scale-down one); so do we, through the per-list function and through the
/// direction-picking one, and check that the other direction's list is left alone.
pub(crate) fn store_scale_event(v: &Value) -> Outcome {
    let (inputs, expected) = parts(v)?;
    let rules = match field(inputs, "rules")? {
        Value::Null => None,
        raw => Some(rules(raw)?),
    };
    let previous = events(inputs, "previous_events")?;
    let previous_replicas = int(inputs, "previous_replicas")?;
    let change = int(inputs, "replica_change")?;

    let sum_before =
        hpa::replicas_changed_in_period(&previous, int(inputs, "sum_period_s")?, NOW_MS);
    check(
        "sum_before",
        &sum_before,
        &i64::from(int(expected, "sum_before")?),
    )?;

    let expected_after = array(expected, "events_after")?
        .iter()
        .map(|e| {
            let outdated = field(e, "outdated")?
                .as_bool()
                .ok_or("outdated is not a bool")?;
            Ok((int(e, "change")?, outdated))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let summary = |list: &[ScaleEvent]| -> Vec<(i32, bool)> {
        list.iter().map(|e| (e.change, e.outdated)).collect()
    };

    let mut direct = previous.clone();
    hpa::store_scale_event(rules.as_ref(), &mut direct, change, NOW_MS);
    check("events_after", &summary(&direct), &expected_after)?;

    let behavior = rules.map(|r| Behavior {
        scale_up: r.clone(),
        scale_down: r,
    });
    for (direction, new_replicas) in [
        ("up", previous_replicas + change),
        ("down", previous_replicas - change),
    ] {
        let mut history = HpaHistory::default();
        if direction == "up" {
            history.scale_up_events.clone_from(&previous);
        } else {
            history.scale_down_events.clone_from(&previous);
        }
        hpa::store_rescale_event(
            behavior.as_ref(),
            &mut history,
            previous_replicas,
            new_replicas,
            NOW_MS,
        );
        let (same, other) = if direction == "up" {
            (&history.scale_up_events, &history.scale_down_events)
        } else {
            (&history.scale_down_events, &history.scale_up_events)
        };
        check(
            &format!("events_after ({direction})"),
            &summary(same),
            &expected_after,
        )?;
        check(
            &format!("other direction's events ({direction})"),
            &other.len(),
            &0,
        )?;
    }
    Ok(())
}
