//! Hysteresis and limits: stabilization windows, rate limits, bounds and scheduled floors.

use super::{Scaler, ScalerState};
use crate::decision::{Decision, DecisionInput, Stage, Step};
use crate::source::hpa::{self, Condition, ConditionReason, ConditionType, set_condition};
use crate::spec::ScaleFromZero;
use crate::time::secs_to_ms;

impl Scaler {
    /// Stabilization and rate limits, cooldowns, the return from zero and scheduled floors,
    /// on the combined proposal.
    pub(super) fn hysteresis(
        &self,
        state: &mut ScalerState,
        input: &DecisionInput,
        combined: i32,
        scale_in_to: Option<u32>,
        floor: Option<(u32, String)>,
        decision: &mut Decision,
    ) -> i32 {
        let now = input.now_ms;
        let current = input.current_replicas as i32;
        let min = self.hpa_min_replicas() as i32;
        let mut value = combined.max(0);
        value = self.normalize(state, input, value, scale_in_to, decision);
        if let Some(cooldown) = &self.spec.cooldown
            && let Some(last) = state.last_rescale_ms
        {
            let (window_s, direction) = if value > current {
                (cooldown.scale_up_s, "scale-up")
            } else {
                (cooldown.scale_down_s, "scale-down")
            };
            let until = last.saturating_add(secs_to_ms(i64::from(window_s)));
            if value != current && now < until {
                decision.steps.push(Step {
                    stage: Stage::Cooldown,
                    from: value as u32,
                    to: input.current_replicas,
                    reason: if self.explain {
                        format!(
                            "{direction} cooldown of {window_s}s since the last rescale has {}s left",
                            (until - now + 999) / 1000
                        )
                    } else {
                        String::new()
                    },
                });
                value = current;
            }
        }
        if self.spec.controller.compatibility.scale_from_zero == ScaleFromZero::Condition
            && current == 0
            && min != 0
            && state.hpa.scaled_to_zero == Some(true)
            && value < min
        {
            decision.steps.push(Step {
                stage: Stage::ScaleFromZero,
                from: value as u32,
                to: min as u32,
                reason: self.explained("scaled to zero by the autoscaler: back to min_replicas"),
            });
            value = min;
        }
        // a schedule is a minimum like min_replicas, and no cooldown holds it back
        raise_to_floor(value, floor, self.spec.max_replicas, decision)
    }

    /// Stabilization (shortened by scale-in on forecast), rate limits and bounds.
    pub(super) fn normalize(
        &self,
        state: &mut ScalerState,
        input: &DecisionInput,
        prenormalized: i32,
        scale_in_to: Option<u32>,
        decision: &mut Decision,
    ) -> i32 {
        let now = input.now_ms;
        let current = input.current_replicas as i32;
        let min = self.hpa_min_replicas() as i32;
        let max = self.spec.max_replicas as i32;
        let controller = &self.spec.controller;
        let recommendations = state.hpa.recommendations.get_or_insert_with(Vec::new);
        let mut stabilized = if let Some(behavior) = &self.behavior {
            let down_window = behavior
                .scale_down
                .stabilization_window_s
                .unwrap_or(controller.downscale_stabilization_window_s);
            let up_window = behavior.scale_up.stabilization_window_s.unwrap_or(0);
            hpa::stabilize_with_behavior(
                recommendations,
                current,
                prenormalized,
                up_window,
                down_window,
                now,
            )
        } else if self.runs_hpa_math() {
            hpa::stabilize_legacy(
                recommendations,
                prenormalized,
                controller.downscale_stabilization_window_s,
                now,
            )
        } else {
            hpa::Stabilization {
                replicas: prenormalized,
                reason: ConditionReason::ReadyForNewScale,
            }
        };
        // the window looks back at recent recommendations; a forecast that the load stays low
        // looks ahead, and replaces it (never below this decision's proposal)
        let mut forecast_scale_in = None;
        if let Some(forecast_need) = scale_in_to {
            let target = prenormalized.max(i32::try_from(forecast_need).unwrap_or(i32::MAX));
            if stabilized.reason == ConditionReason::ScaleDownStabilized
                && target < stabilized.replicas
            {
                forecast_scale_in = Some((stabilized.replicas, forecast_need));
                stabilized = hpa::Stabilization {
                    replicas: target,
                    reason: ConditionReason::ReadyForNewScale,
                };
            }
        }
        let limited = if let Some(behavior) = &self.behavior {
            hpa::limit_with_behavior(
                current,
                stabilized.replicas,
                min,
                max,
                behavior,
                hpa::ScaleEvents {
                    up: &state.hpa.scale_up_events,
                    down: &state.hpa.scale_down_events,
                },
                now,
            )
        } else if self.runs_hpa_math() {
            hpa::limit_legacy(
                current,
                stabilized.replicas,
                min,
                max,
                controller.scale_up_limit_factor,
                controller.scale_up_limit_minimum,
            )
        } else if self.kpa.is_some() {
            // Knative's reconciler bounds the value (min scale only while routed)
            hpa::Limited {
                replicas: prenormalized,
                reason: ConditionReason::DesiredWithinRange,
                limited: false,
            }
        } else {
            clamp_only(prenormalized, min, max)
        };
        if self.explain {
            set_condition(
                &mut decision.conditions,
                Condition::new(
                    ConditionType::AbleToScale,
                    true,
                    stabilized.reason,
                    match stabilized.reason {
                        ConditionReason::ScaleDownStabilized => {
                            "recent recommendations were higher than current one, applying the highest recent recommendation"
                        }
                        ConditionReason::ScaleUpStabilized => {
                            "recent recommendations were lower than current one, applying the lowest recent recommendation"
                        }
                        _ => "the scaler is ready for a new scale",
                    },
                ),
            );
        }
        if let Some((held, need)) = forecast_scale_in {
            // said even when the value is this decision's own proposal: the window was skipped
            decision.steps.push(Step {
                stage: Stage::Stabilization,
                from: prenormalized.max(0) as u32,
                to: stabilized.replicas.max(0) as u32,
                reason: if self.explain {
                    format!(
                        "scale-in on forecast: the stabilization window would hold {held}; the forecast needs {need} over the scale-in window"
                    )
                } else {
                    String::new()
                },
            });
        } else if stabilized.replicas != prenormalized {
            decision.steps.push(Step {
                stage: Stage::Stabilization,
                from: prenormalized as u32,
                to: stabilized.replicas.max(0) as u32,
                reason: if self.explain {
                    stabilized.reason.to_string()
                } else {
                    String::new()
                },
            });
        }
        if self.explain {
            set_condition(
                &mut decision.conditions,
                Condition::new(
                    ConditionType::ScalingLimited,
                    limited.limited,
                    limited.reason,
                    limit_message(limited.reason),
                ),
            );
        }
        if limited.replicas != stabilized.replicas {
            let stage = match limited.reason {
                ConditionReason::ScaleUpLimit | ConditionReason::ScaleDownLimit => Stage::RateLimit,
                _ => Stage::MinMax,
            };
            decision.steps.push(Step {
                stage,
                from: stabilized.replicas.max(0) as u32,
                to: limited.replicas.max(0) as u32,
                reason: if self.explain {
                    limited.reason.to_string()
                } else {
                    String::new()
                },
            });
        }
        limited.replicas
    }
}

/// Raises `value` to an active scheduled floor (capped at `max_replicas`), with a `MinMax` step.
pub(super) fn raise_to_floor(
    value: i32,
    floor: Option<(u32, String)>,
    max_replicas: u32,
    decision: &mut Decision,
) -> i32 {
    let Some((floor, reason)) = floor else {
        return value;
    };
    let floor = floor.min(max_replicas) as i32;
    if value >= floor {
        return value;
    }
    decision.steps.push(Step {
        stage: Stage::MinMax,
        from: value as u32,
        to: floor as u32,
        reason,
    });
    floor
}

fn clamp_only(desired: i32, min: i32, max: i32) -> hpa::Limited {
    let (replicas, reason) = if desired < min {
        (min, ConditionReason::TooFewReplicas)
    } else if desired > max {
        (max, ConditionReason::TooManyReplicas)
    } else {
        (desired, ConditionReason::DesiredWithinRange)
    };
    hpa::Limited {
        replicas,
        reason,
        limited: replicas != desired,
    }
}

fn limit_message(reason: ConditionReason) -> &'static str {
    match reason {
        ConditionReason::TooFewReplicas => {
            "the desired replica count is less than the minimum replica count"
        }
        ConditionReason::TooManyReplicas => {
            "the desired replica count is more than the maximum replica count"
        }
        ConditionReason::ScaleUpLimit => {
            "the desired replica count is increasing faster than the maximum scale rate"
        }
        ConditionReason::ScaleDownLimit => {
            "the desired replica count is decreasing faster than the maximum scale rate"
        }
        _ => "the desired count is within the acceptable range",
    }
}
