//! Combine: every source's proposal, and their maximum (with the invalid-metric rule).

use super::Scaler;
use crate::decision::{Decision, DecisionInput, Proposal, SourceKind, Stage, Step};
use crate::source::hpa::{
    self, Condition, ConditionReason, ConditionType, MetricContext, MetricInput, set_condition,
};
use crate::source::kpa::{InvalidReason, Kpa, ScaleOutcome};
use crate::source::predictive::PredictiveProposal;
use crate::source::threshold;
use crate::spec::{DEFAULT_NAMESPACE, HpaSource};

impl Scaler {
    /// Computes every source's proposal and combines them (max). `None` when the invalid-metric
    /// rule stops the decision (upstream §6.1): a failed metric never lets the target shrink.
    pub(super) fn combine(
        &self,
        input: &DecisionInput,
        metric_inputs: &[MetricInput],
        kpa_scale: Option<&ScaleOutcome>,
        forecast: Option<PredictiveProposal>,
        decision: &mut Decision,
    ) -> Option<i32> {
        let current = input.current_replicas as i32;
        let mut combined: Option<i32> = None;
        let mut first_failure: Option<(ConditionReason, String)> = None;
        let mut failures = 0usize;
        if self.runs_hpa_math() {
            let source = if self.spec.keda.is_some() {
                SourceKind::Keda
            } else {
                SourceKind::Hpa
            };
            let status_replicas = input.status_replicas.unwrap_or(input.current_replicas) as i32;
            let ctx = MetricContext {
                current_replicas: current,
                status_replicas,
                ready_replicas: input.ready_replicas.map(|r| r as i32),
                pods: input.pods.as_deref(),
                tolerances: self.tolerances(),
                config: &self.spec.controller,
                now_ms: input.now_ms,
                namespace: self
                    .spec
                    .hpa
                    .as_ref()
                    .map_or(DEFAULT_NAMESPACE, HpaSource::namespace),
            };
            for (metric, metric_input) in self.metrics.iter().zip(metric_inputs) {
                match hpa::metric_proposal(metric, metric_input, &ctx) {
                    Ok(p) => {
                        combined = Some(combined.map_or(p.replicas, |c| c.max(p.replicas)));
                        if self.explain {
                            decision.proposals.push(Proposal {
                                source,
                                name: metric.describe(),
                                replicas: Some(p.replicas.max(0) as u32),
                                reason: p.summary(),
                            });
                        }
                    }
                    Err(f) => {
                        // the texts the controller reports: the metric's sync error, its
                        // warning event, and (for the first failure) the condition message
                        failures += 1;
                        if self.explain {
                            decision.errors.push(f.error.clone());
                            decision.proposals.push(Proposal {
                                source,
                                name: metric.describe(),
                                replicas: None,
                                reason: f.message.clone(),
                            });
                        }
                        if first_failure.is_none() {
                            let message = if self.explain {
                                f.condition_message()
                            } else {
                                String::new()
                            };
                            first_failure = Some((f.reason, message));
                        }
                    }
                }
            }
        }
        if let Some(spec) = &self.spec.threshold {
            // the signals were checked in `check_input`, so this proposal cannot fail
            if let Ok(p) = threshold::proposal(
                spec,
                input.current_replicas,
                &input.signals,
                input.healthy,
                self.explain,
            ) {
                let replicas = i32::try_from(p.replicas).unwrap_or(i32::MAX);
                combined = Some(combined.map_or(replicas, |c| c.max(replicas)));
                if self.explain {
                    decision.proposals.push(Proposal {
                        source: SourceKind::Threshold,
                        name: "threshold bands".to_owned(),
                        replicas: Some(p.replicas),
                        reason: p.reason,
                    });
                }
            }
        }
        if let (Some(kpa), Some(scale)) = (&self.kpa, kpa_scale) {
            // the decider's own limits (rate, panic, delay) come before the max, as in Knative
            decision
                .steps
                .extend(scale.steps.iter().map(super::kpa_step));
            if let Some(pods) = scale.desired_pod_count {
                combined = Some(combined.map_or(pods, |c| c.max(pods)));
            }
            if self.explain {
                decision.proposals.push(Proposal {
                    source: SourceKind::Kpa,
                    name: format!("knative kpa ({})", kpa.spec().metric.as_str()),
                    replicas: scale.desired_pod_count.map(|p| p.max(0) as u32),
                    reason: kpa_reason(kpa, scale),
                });
            }
        }
        if let Some(p) = forecast {
            if p.acts
                && let Some(r) = p.replicas
            {
                let replicas = i32::try_from(r).unwrap_or(i32::MAX);
                combined = Some(combined.map_or(replicas, |c| c.max(replicas)));
            }
            if self.explain {
                decision.proposals.push(Proposal {
                    source: SourceKind::Predictive,
                    name: if p.acts {
                        "load forecast"
                    } else {
                        "load forecast (forecast only)"
                    }
                    .to_owned(),
                    replicas: p.replicas,
                    reason: p.reason,
                });
            }
        }
        if let Some((reason, message)) = first_failure {
            let value = combined.unwrap_or(0);
            if combined.is_none() || value < current {
                if self.explain {
                    set_condition(
                        &mut decision.conditions,
                        Condition::new(ConditionType::ScalingActive, false, reason, message),
                    );
                }
                if failures > 0 && combined.is_some() {
                    decision.steps.push(Step {
                        stage: Stage::MetricFailure,
                        from: value.max(0) as u32,
                        to: input.current_replicas,
                        reason: self.explained("a metric failed: holding instead of scaling down"),
                    });
                }
                return None;
            }
        }
        if self.explain {
            set_condition(
                &mut decision.conditions,
                Condition::new(
                    ConditionType::ScalingActive,
                    true,
                    ConditionReason::ValidMetricFound,
                    "the scaler was able to compute a replica count",
                ),
            );
        }
        if combined.is_none() && self.kpa.is_some() {
            // the KPA without data: its reconciler decides what an unknown scale does
            return None;
        }
        // HPA metrics that all failed were handled above; a source-less moment (predictive
        // warming up, no other source) holds
        let value = combined.unwrap_or(current);
        if value != current {
            decision.steps.push(Step {
                stage: Stage::Combine,
                from: input.current_replicas,
                to: value.max(0) as u32,
                reason: self.explained("largest proposal"),
            });
        }
        Some(value)
    }
}

/// The KPA proposal's reason: the averages against the target, the pods each window wants,
/// panic mode, or why the tick has no decision.
fn kpa_reason(kpa: &Kpa, scale: &ScaleOutcome) -> String {
    match (&scale.observed, scale.invalid) {
        (_, Some(InvalidReason::NoData)) => {
            "no data in the stable window: the previous decision stands".to_owned()
        }
        (_, Some(InvalidReason::PodCountUnavailable)) => {
            "the ready pods could not be counted".to_owned()
        }
        (Some(avg), None) => format!(
            "stable {} / panic {} against {} per pod: {} / {} pods{}",
            avg.stable,
            avg.panic,
            kpa.target_value(),
            scale.stable_pods.unwrap_or(0.0),
            scale.panic_pods.unwrap_or(0.0),
            if scale.panicking { ", panicking" } else { "" }
        ),
        (None, None) => "no averages".to_owned(),
    }
}
