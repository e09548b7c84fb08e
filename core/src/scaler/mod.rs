//! The composition: sources → combine → hysteresis → limits → [`Decision`].
//!
//! One pipeline serves every spec. With only an `hpa` source it is the Kubernetes HPA sync,
//! step for step (`specs/hpa.md` §1): seed the recommendation history, the early exits for a
//! target outside `[min, max]` or at zero, one proposal per metric combined by max with the
//! invalid-metric rule, then the legacy or behavior normalization and the scale-event
//! bookkeeping. Other sources join the max before normalization; cooldowns apply after it.
//! Every stage that changes the value is recorded as a [`Step`] with its reason.
//!
//! | stage | file |
//! | --- | --- |
//! | early exits, the sources' inputs, the pipeline in order, the outcome's bookkeeping | `mod.rs` |
//! | combine: each source's proposal, their maximum, the invalid-metric rule | `combine.rs` |
//! | hysteresis and limits: stabilization, rate limits, bounds, cooldowns, scheduled floors | `hysteresis.rs` |
//! | what is remembered between decisions ([`ScalerState`]) | `state.rs` |

mod combine;
mod hysteresis;
mod state;
mod vertical;

use crate::decision::{Decision, DecisionInput, Stage, Step};
use crate::error::{Error, Result};
use crate::source::hpa::{
    self, Condition, ConditionReason, ConditionType, HpaHistory, MetricInput, MetricSpec,
    Tolerances, set_condition,
};
use crate::source::keda::{self, KedaSpec, KedaState};
use crate::source::kpa::{Kpa, KpaDecision, KpaInput, ScaleOutcome};
use crate::source::predictive::{self, PredictiveState};
use crate::spec::{Behavior, ScaleFromZero, ScalerSpec};
use crate::time::Timestamp;
use crate::vpa::{VerticalRecommendation, Vpa, VpaState};

use hysteresis::raise_to_floor;
pub use state::{STATE_VERSION, ScalerState};
pub use vertical::VerticalDecision;

/// A validated spec, ready to decide.
///
/// `Scaler` is immutable and `Send + Sync`: share one across threads, each workload with its
/// own [`ScalerState`].
///
/// ```
/// use replicast::{DecisionInput, Scaler, ScalerSpec, ScalerState};
/// use replicast::hpa::MetricInput;
///
/// let spec = ScalerSpec::from_yaml(r#"
/// min_replicas: 1
/// max_replicas: 10
/// hpa:
///   metrics:
///     - type: resource
///       resource: cpu
///       target: {type: utilization, average_utilization: 50}
/// "#).unwrap();
/// let scaler = Scaler::new(spec).unwrap();
/// let mut state = ScalerState::new();
/// let input = DecisionInput {
///     now_ms: 1_700_000_000_000,
///     current_replicas: 2,
///     metrics: vec![MetricInput::Aggregated { value: 100.0, ready_replicas: 2 }],
///     ..DecisionInput::default()
/// };
/// let decision = scaler.decide(&mut state, &input).unwrap();
/// assert_eq!(decision.replicas, 4); // 100 % against a 50 % target doubles the replicas
/// ```
#[derive(Debug, Clone)]
pub struct Scaler {
    spec: ScalerSpec,
    /// The metrics the HPA math runs on: `hpa.metrics`, or those KEDA generates.
    metrics: Vec<MetricSpec>,
    behavior: Option<Behavior>,
    formula: Option<keda::Formula>,
    /// The KPA source with the scaler's bounds as its min / max scale.
    kpa: Option<Kpa>,
    /// The vertical recommender.
    vpa: Option<Vpa>,
    /// Whether decisions carry their explanation (reasons, step descriptions, condition
    /// messages). Always true for a public `Scaler`; a replay ([`crate::sim::simulate`]) reads
    /// only the replica count and decides on a copy without it ([`Scaler::quiet`]), which skips
    /// formatting text it would throw away. The replica count never depends on it.
    explain: bool,
}

impl Scaler {
    /// Validates `spec` and builds a scaler.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] naming the first invalid field.
    pub fn new(spec: ScalerSpec) -> Result<Self> {
        spec.validate()?;
        let formula = match &spec.keda {
            Some(k) => k.compiled_formula(spec.min_replicas)?,
            None => None,
        };
        let kpa = spec.kpa_with_bounds()?;
        let vpa = spec.vpa.clone().map(Vpa::new).transpose()?;
        Ok(Self {
            formula,
            kpa,
            vpa,
            ..Self::unchecked(spec)
        })
    }

    /// Builds without validation: the Kubernetes controller runs whatever the API server
    /// stored, including metric types it does not know ([`crate::source::hpa::reconcile`]).
    pub(crate) fn unchecked(spec: ScalerSpec) -> Self {
        let metrics = match (&spec.hpa, &spec.keda) {
            (Some(hpa), _) => hpa.defaulted_metrics(),
            (None, Some(keda)) => keda.hpa_metrics(),
            (None, None) => Vec::new(),
        };
        let behavior = spec.behavior.as_ref().map(Behavior::defaulted);
        Self {
            spec,
            metrics,
            behavior,
            formula: None,
            kpa: None,
            vpa: None,
            explain: true,
        }
    }

    /// A copy that decides without explaining: the same replicas and state, but proposals,
    /// conditions and error messages are left out and steps keep only their stage (empty
    /// reasons). For replays that read only [`Decision::replicas`], with
    /// [`Scaler::decide_replicas`].
    pub(crate) fn quiet(&self) -> Self {
        Self {
            explain: false,
            ..self.clone()
        }
    }

    /// A step's fixed reason, or nothing on a [`Scaler::quiet`] copy (no allocation).
    fn explained(&self, reason: &str) -> String {
        if self.explain {
            reason.to_owned()
        } else {
            String::new()
        }
    }

    /// The spec this scaler decides with.
    #[must_use]
    pub fn spec(&self) -> &ScalerSpec {
        &self.spec
    }

    /// How many entries [`DecisionInput::metrics`] must have: one per HPA metric (with the API
    /// default, no metrics means one, CPU at 80 %), or one per KEDA trigger.
    ///
    /// ```
    /// use replicast::{Scaler, ScalerSpec};
    /// let spec = ScalerSpec::from_yaml("max_replicas: 5\nhpa: {}\n").unwrap();
    /// assert_eq!(Scaler::new(spec).unwrap().metric_input_count(), 1);
    /// ```
    #[must_use]
    pub fn metric_input_count(&self) -> usize {
        match &self.spec.keda {
            Some(keda) => keda.triggers.len(),
            None if self.spec.hpa.is_some() => self.metrics.len(),
            None => 0,
        }
    }

    /// Decides the replicas for one workload at `input.now_ms`, updating `state`.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] for unusable observations (NaN, infinite or negative
    /// values, a timestamp before the previous decision's, the wrong number of metric inputs);
    /// `state` is then left untouched.
    pub fn decide(&self, state: &mut ScalerState, input: &DecisionInput) -> Result<Decision> {
        let mut decision = Decision::blank(input.current_replicas);
        self.decide_into(state, input, &mut decision)?;
        Ok(decision)
    }

    /// Decides like [`Scaler::decide`], into `scratch` (its buffers reused from one decision to
    /// the next), and returns the replicas: the replay's loop, which allocates nothing per
    /// decision on a [`Scaler::quiet`] copy.
    pub(crate) fn decide_replicas(
        &self,
        state: &mut ScalerState,
        input: &DecisionInput,
        scratch: &mut Decision,
    ) -> Result<u32> {
        self.decide_into(state, input, scratch)?;
        Ok(scratch.replicas)
    }

    fn decide_into(
        &self,
        state: &mut ScalerState,
        input: &DecisionInput,
        decision: &mut Decision,
    ) -> Result<()> {
        // everything that can fail is checked first, so the state is only changed on success
        self.check_input(state, input)?;
        let vertical = match &self.vpa {
            Some(vpa) => {
                // on a copy: a refused observation or request leaves the state as it was
                let mut vpa_state = state.vpa.clone().unwrap_or_default();
                vpa_state
                    .observe(vpa, input.now_ms, &input.container_usage)
                    .map_err(|e| e.context("container_usage"))?;
                vpa_state.gc(vpa, input.now_ms);
                let recommendation = vpa
                    .recommend(&vpa_state, input.now_ms, &input.container_resources)
                    .map_err(|e| e.context("container_resources"))?;
                Some((vpa_state, recommendation))
            }
            None => None,
        };
        self.run(state, input, vertical, decision);
        Ok(())
    }

    /// Decides for many workloads: `states[i]` with `inputs[i]`. Each result is independent;
    /// a failed workload's state is left untouched.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] when the two slices differ in length.
    pub fn decide_batch(
        &self,
        states: &mut [ScalerState],
        inputs: &[DecisionInput],
    ) -> Result<Vec<Result<Decision>>> {
        if states.len() != inputs.len() {
            return Err(Error::invalid_input(format!(
                "decide_batch needs one state per input, got {} states and {} inputs",
                states.len(),
                inputs.len()
            )));
        }
        Ok(states
            .iter_mut()
            .zip(inputs)
            .map(|(state, input)| self.decide(state, input))
            .collect())
    }

    fn check_input(&self, state: &ScalerState, input: &DecisionInput) -> Result<()> {
        if state.version != STATE_VERSION {
            return Err(Error::invalid_input(format!(
                "scaler state version must be {STATE_VERSION}, got {}",
                state.version
            )));
        }
        if let Some(last) = state.last_decision_ms
            && input.now_ms < last
        {
            return Err(Error::invalid_input(format!(
                "now_ms must not be before the previous decision's ({last}), got {}: timestamps out of order",
                input.now_ms
            )));
        }
        let limit = i32::MAX as u32;
        for (field, value) in [
            ("current_replicas", Some(input.current_replicas)),
            ("status_replicas", input.status_replicas),
            ("ready_replicas", input.ready_replicas),
        ] {
            if let Some(v) = value
                && v > limit
            {
                return Err(Error::invalid_input(format!(
                    "{field} must be in [0, {limit}], got {v}"
                )));
            }
        }
        if let Some(keda) = &self.spec.keda {
            keda::check_inputs(keda, &input.metrics)?;
        } else if self.spec.hpa.is_some() && input.metrics.len() != self.metrics.len() {
            return Err(Error::invalid_input(format!(
                "metrics must have one input per hpa metric ({}), got {}",
                self.metrics.len(),
                input.metrics.len()
            )));
        }
        for (i, metric) in input.metrics.iter().enumerate() {
            check_metric_input(metric).map_err(|e| e.context(format!("metrics[{i}]")))?;
        }
        for (name, value) in &input.signals {
            if !(value.is_finite() && *value >= 0.0) {
                return Err(Error::invalid_input(format!(
                    "signal {name} must be a finite number >= 0, got {value}"
                )));
            }
        }
        if let Some(kpa) = &self.kpa {
            let fresh;
            let kpa_state = if let Some(s) = &state.kpa {
                s
            } else {
                fresh = kpa.new_state(input.now_ms, Some(ready_replicas(input)));
                &fresh
            };
            Kpa::check(kpa_state, &kpa_input(input)).map_err(|e| e.context("kpa"))?;
        } else if input.kpa.is_some() {
            return Err(Error::invalid_input(
                "kpa must not be given: the spec has no kpa source",
            ));
        }
        predictive::check_input(input)?;
        if self.spec.predictive.is_some()
            && !predictive::has_load(input)
            && !self.runs_hpa_math()
            && self.spec.threshold.is_none()
        {
            return Err(Error::invalid_input(
                "load must be given: the predictive source is the only source",
            ));
        }
        Ok(())
    }

    /// Whether the HPA's replica math and normalization run: an `hpa` source, or the HPA a
    /// KEDA ScaledObject generates.
    fn runs_hpa_math(&self) -> bool {
        self.spec.hpa.is_some() || self.spec.keda.is_some()
    }

    /// The lower bound of the HPA step: KEDA's HPA never goes below one replica (activation
    /// owns zero).
    fn hpa_min_replicas(&self) -> u32 {
        if self.spec.keda.is_some() {
            self.spec.min_replicas.max(1)
        } else {
            self.spec.min_replicas
        }
    }

    fn tolerances(&self) -> Tolerances {
        let cluster = self.spec.controller.tolerance;
        let rules = self
            .behavior
            .as_ref()
            .filter(|_| self.spec.controller.configurable_tolerance);
        Tolerances {
            down: rules
                .and_then(|b| b.scale_down.tolerance)
                .unwrap_or(cluster),
            up: rules.and_then(|b| b.scale_up.tolerance).unwrap_or(cluster),
        }
    }

    fn scale_from_zero_allowed(&self, history: &HpaHistory) -> bool {
        let min = self.hpa_min_replicas();
        match self.spec.controller.compatibility.scale_from_zero {
            ScaleFromZero::Legacy => min == 0,
            ScaleFromZero::Condition => {
                let has_object_or_external = self
                    .metrics
                    .iter()
                    .any(|m| matches!(m, MetricSpec::Object { .. } | MetricSpec::External { .. }));
                history.scaled_to_zero == Some(true) && (min != 0 || has_object_or_external)
            }
        }
    }

    #[allow(clippy::too_many_lines)]
    fn run(
        &self,
        state: &mut ScalerState,
        input: &DecisionInput,
        vertical: Option<(VpaState, VerticalRecommendation)>,
        decision: &mut Decision,
    ) {
        // the vertical half first: the horizontal sources see the requests it applies
        let mut vertical_decision = None;
        let mut recomputed = None;
        if let (Some(vpa), Some((vpa_state, recommendation))) = (&self.vpa, vertical) {
            state.vpa = Some(vpa_state);
            // the metric of each observation: the HPA's, or each KEDA trigger's
            let observed_metrics = match &self.spec.keda {
                Some(keda) => keda.trigger_metrics(),
                None => self.metrics.clone(),
            };
            let v = vertical::coordinate(
                recommendation,
                vpa.spec(),
                &input.container_resources,
                &observed_metrics,
            );
            recomputed = vertical::recompute(input, &observed_metrics, &v.apply);
            vertical_decision = Some(v);
        }
        let input = recomputed.as_ref().unwrap_or(input);
        self.run_horizontal(state, input, decision);
        decision.vertical = vertical_decision;
    }

    fn run_horizontal(
        &self,
        state: &mut ScalerState,
        input: &DecisionInput,
        decision: &mut Decision,
    ) {
        let now = input.now_ms;
        let current = input.current_replicas as i32;
        let min = self.hpa_min_replicas() as i32;
        let max = self.spec.max_replicas as i32;
        decision.reset(input.current_replicas);
        if self.explain {
            decision.conditions.push(Condition::new(
                ConditionType::AbleToScale,
                true,
                ConditionReason::SucceededGetScale,
                "the scaler was able to read the current replicas",
            ));
        }
        if self.runs_hpa_math() && state.hpa.recommendations.is_none() {
            // Upstream stamps the seed a few microseconds before the comparisons of the same
            // sync; one millisecond before `now` is the nearest instant we can represent.
            state.hpa.recommendations = Some(vec![hpa::Recommendation {
                replicas: current,
                at_ms: now.saturating_sub(1),
            }]);
        }

        if let (Some(spec), Some(pods)) = (&self.spec.predictive, &input.pods) {
            predictive::observe_startups(
                spec,
                state
                    .predictive
                    .get_or_insert_with(PredictiveState::default),
                pods,
                state.last_decision_ms,
            );
        }
        if let Some(spec) = &self.spec.predictive
            && predictive::has_load(input)
        {
            let ready = ready_replicas(input);
            predictive::record(
                spec,
                state
                    .predictive
                    .get_or_insert_with(PredictiveState::default),
                input,
                ready,
                ready >= self.spec.max_replicas,
            );
        }

        let mut forecast = self.spec.predictive.as_ref().map(|spec| {
            let empty = PredictiveState::default();
            let predictive_state = state.predictive.as_ref().unwrap_or(&empty);
            predictive::propose(
                spec,
                predictive_state,
                self.spec.max_replicas,
                now,
                self.explain,
            )
        });
        let forecast_acts = forecast.as_ref().is_some_and(|p| p.acts);
        let scale_in_to = forecast
            .as_ref()
            .and_then(|p| p.scale_in_to)
            .filter(|_| forecast_acts);
        let floor = forecast
            .as_mut()
            .and_then(|p| p.floor.take())
            .filter(|_| forecast_acts);

        let keda_evaluation = self.spec.keda.as_ref().map(|spec| {
            let fresh = KedaState::default();
            keda::evaluate(
                spec,
                self.formula.as_ref(),
                state.keda.as_ref().unwrap_or(&fresh),
                &input.metrics,
                keda::Target {
                    current: input.current_replicas,
                    ready: ready_replicas(input),
                },
            )
        });
        let metric_inputs = keda_evaluation
            .as_ref()
            .map_or(input.metrics.as_slice(), |e| e.inputs.as_slice());

        let kpa_tick = self.kpa.as_ref().map(|kpa| {
            let kpa_input = kpa_input(input);
            let kpa_state = state
                .kpa
                .get_or_insert_with(|| kpa.new_state(now, kpa_input.ready_pods));
            let scale = kpa.tick(kpa_state, &kpa_input);
            (kpa_input, scale)
        });

        let mut desired: i32;
        // Knative bounds the value after the decision (min scale only while routed, initial
        // scale, scale to zero): no HPA early exits
        let hpa_exits = self.kpa.is_none();
        if hpa_exits && current == 0 && !self.scale_from_zero_allowed(&state.hpa) {
            if self.explain {
                set_condition(
                    &mut decision.conditions,
                    Condition::new(
                        ConditionType::ScalingActive,
                        false,
                        ConditionReason::ScalingDisabled,
                        "scaling is disabled since the replica count of the target is zero",
                    ),
                );
            }
            if keda_evaluation.is_none() {
                state.last_decision_ms = Some(now);
                return;
            }
            // KEDA's activation loop owns zero
            desired = 0;
        } else if hpa_exits && (current > max || current < min) {
            desired = if current > max { max } else { min };
            decision.steps.push(Step {
                stage: Stage::Bounds,
                from: input.current_replicas,
                to: desired as u32,
                reason: self.explained(if current > max {
                    "Current number of replicas above Spec.MaxReplicas"
                } else {
                    "Current number of replicas below Spec.MinReplicas"
                }),
            });
        } else {
            let kpa_scale = kpa_tick.as_ref().map(|(_, scale)| scale);
            desired = match self.combine(input, metric_inputs, kpa_scale, forecast, decision) {
                Some(combined) => {
                    self.hysteresis(state, input, combined, scale_in_to, floor, decision)
                }
                // nothing to act on: the KPA reconciler passes an unknown scale through
                None if self.kpa.is_some() => -1,
                // The invalid-metric rule holds the target, but a scheduled floor is a minimum
                // like min_replicas, which the bounds check above enforces without metrics too.
                None => raise_to_floor(current, floor, self.spec.max_replicas, decision),
            };
        }
        if let (Some(kpa), Some((kpa_input, scale))) = (&self.kpa, kpa_tick) {
            desired = reconcile_kpa(kpa, state, &kpa_input, scale, desired, decision);
        }
        if let (Some(spec), Some(evaluation)) = (&self.spec.keda, keda_evaluation) {
            desired = self.activate(state, spec, evaluation, input, desired, decision);
        }
        self.finish(state, current, desired, now, decision);
    }

    /// KEDA's scale loop on the HPA's value, and what it remembers.
    fn activate(
        &self,
        state: &mut ScalerState,
        spec: &KedaSpec,
        evaluation: keda::Evaluation,
        input: &DecisionInput,
        desired: i32,
        decision: &mut Decision,
    ) -> i32 {
        let now = input.now_ms;
        let keda_state = state.keda.get_or_insert_with(KedaState::default);
        let outcome = keda::activation(
            spec,
            keda_state,
            &evaluation.status,
            self.spec.min_replicas,
            input.current_replicas,
            desired.max(0) as u32,
            now,
        );
        keda_state.failures = evaluation.failures;
        keda_state.first_decision_ms.get_or_insert(now);
        if outcome.mark_active {
            keda_state.last_active_ms = Some(now);
        }
        if let Some(reason) = outcome.reason
            && outcome.replicas != desired.max(0) as u32
        {
            decision.steps.push(Step {
                stage: Stage::Activation,
                from: desired.max(0) as u32,
                to: outcome.replicas,
                reason,
            });
        }
        decision.keda = Some(evaluation.status);
        i32::try_from(outcome.replicas).unwrap_or(i32::MAX)
    }

    /// Records the outcome: a rescale (conditions, the events behaviors and scale-to-zero
    /// tracking read, the predictive source's last scale-up) when `desired` differs, and the
    /// decision time.
    fn finish(
        &self,
        state: &mut ScalerState,
        current: i32,
        desired: i32,
        now: Timestamp,
        decision: &mut Decision,
    ) {
        if desired != current {
            decision.rescale = true;
            decision.replicas = desired as u32;
            if self.explain {
                set_condition(
                    &mut decision.conditions,
                    Condition::new(
                        ConditionType::AbleToScale,
                        true,
                        ConditionReason::SucceededRescale,
                        format!("the scaler recommends a new size of {desired}"),
                    ),
                );
            }
            // KEDA's scale loop acts on the target directly: the HPA it generates records no
            // scale event for it (its rate limits count only its own rescales)
            let by_activation = decision
                .steps
                .last()
                .is_some_and(|s| s.stage == Stage::Activation);
            if !by_activation {
                hpa::store_rescale_event(
                    self.behavior.as_ref(),
                    &mut state.hpa,
                    current,
                    desired,
                    now,
                );
            }
            self.track_scaled_to_zero(state, current, desired, decision);
            if let Some(predictive_state) = &mut state.predictive {
                predictive_state.note_rescale(current, desired, now);
            }
            state.last_rescale_ms = Some(now);
        }
        state.last_decision_ms = Some(now);
    }

    fn track_scaled_to_zero(
        &self,
        state: &mut ScalerState,
        current: i32,
        desired: i32,
        decision: &mut Decision,
    ) {
        let compat = &self.spec.controller.compatibility;
        if compat.scale_from_zero != ScaleFromZero::Condition || !has_hpa_zero_gate(*compat) {
            state.hpa.scaled_to_zero = None;
            return;
        }
        let has_object_or_external = self
            .metrics
            .iter()
            .any(|m| matches!(m, MetricSpec::Object { .. } | MetricSpec::External { .. }));
        let to_zero =
            current > 0 && desired == 0 && self.spec.min_replicas == 0 && has_object_or_external;
        state.hpa.scaled_to_zero = Some(to_zero);
        if !self.explain {
            return;
        }
        decision.conditions.push(Condition::new(
            ConditionType::ScaledToZero,
            to_zero,
            if to_zero {
                ConditionReason::ScaledToZero
            } else {
                ConditionReason::NotScaledToZero
            },
            "",
        ));
    }
}

/// The replicas serving now: `ready_replicas`, else the ready pods of `pods`, else
/// `current_replicas`.
fn ready_replicas(input: &DecisionInput) -> u32 {
    if let Some(ready) = input.ready_replicas {
        return ready;
    }
    input.pods.as_ref().map_or(input.current_replicas, |pods| {
        let ready = pods
            .iter()
            .filter(|p| {
                !p.deleting
                    && p.phase == hpa::PodPhase::Running
                    && p.ready
                        .as_ref()
                        .is_some_and(|r| r.status == hpa::ConditionStatus::True)
            })
            .count();
        u32::try_from(ready).unwrap_or(u32::MAX)
    })
}

fn has_hpa_zero_gate(compat: crate::spec::Compatibility) -> bool {
    compat.scale_to_zero_gate
}

fn check_metric_input(input: &MetricInput) -> Result<()> {
    let bad = |what: &str, v: String| {
        Err(Error::invalid_input(format!(
            "{what} must be a finite number >= 0, got {v}"
        )))
    };
    match input {
        MetricInput::Resource { samples } => {
            for s in samples {
                for c in &s.containers {
                    if let Some(u) = c.usage_milli
                        && u < 0
                    {
                        return bad(
                            &format!("usage of container {} of pod {}", c.name, s.pod),
                            u.to_string(),
                        );
                    }
                }
            }
        }
        MetricInput::Pods { samples } => {
            for s in samples {
                if s.value_milli < 0 {
                    return bad(
                        &format!("value of pod {}", s.pod),
                        s.value_milli.to_string(),
                    );
                }
            }
        }
        MetricInput::Object { value_milli } => {
            if *value_milli < 0 {
                return bad("object value", value_milli.to_string());
            }
        }
        MetricInput::External { values_milli } => {
            if let Some(v) = values_milli.iter().find(|v| **v < 0) {
                return bad("external value", v.to_string());
            }
        }
        MetricInput::Aggregated { value, .. } => {
            if !(value.is_finite() && *value >= 0.0) {
                return bad("aggregated value", value.to_string());
            }
        }
        MetricInput::Unavailable { .. } => {}
    }
    Ok(())
}

/// A KPA step as a pipeline step (Knative's stages mapped to the scaler's).
pub(super) fn kpa_step(step: &crate::source::kpa::KpaStep) -> Step {
    use crate::source::kpa::KpaStage;
    let stage = match step.stage {
        KpaStage::RateLimit => Stage::RateLimit,
        KpaStage::Panic | KpaStage::PanicHold => Stage::Panic,
        KpaStage::ScaleDownDelay => Stage::ScaleDownDelay,
        KpaStage::ActivationScale
        | KpaStage::MinScale
        | KpaStage::InitialScale
        | KpaStage::MaxScale => Stage::MinMax,
        KpaStage::ScaleToZero => Stage::ScaleToZero,
    };
    Step {
        stage,
        from: step.from.max(0) as u32,
        to: step.to.max(0) as u32,
        reason: step.reason.clone(),
    }
}

/// The KPA tick input of a decision (its samples or averages, the ready pods, replicas).
fn kpa_input(input: &DecisionInput) -> KpaInput {
    input.kpa.clone().unwrap_or_default().at(
        input.now_ms,
        ready_replicas(input),
        input.current_replicas,
    )
}

/// Knative's reconciler on the combined value (`-1`: unknown): min / max / initial scale
/// and the scale-to-zero rules; a value it does not apply yet holds the current replicas.
fn reconcile_kpa(
    kpa: &Kpa,
    state: &mut ScalerState,
    kpa_input: &KpaInput,
    scale: ScaleOutcome,
    desired: i32,
    decision: &mut Decision,
) -> i32 {
    let current = kpa_input.current_replicas as i32;
    let Some(kpa_state) = state.kpa.as_mut() else {
        return current;
    };
    let reconcile = kpa.reconcile_tick(kpa_state, kpa_input, Some(desired));
    let mut value = current;
    if let Some(r) = &reconcile {
        decision.steps.extend(r.steps.iter().map(kpa_step));
        if r.apply && r.want >= 0 {
            value = r.want;
        } else if let Some(waiting) = &r.waiting
            && r.want != current
        {
            decision.steps.push(Step {
                stage: Stage::ScaleToZero,
                from: r.want.max(0) as u32,
                to: current.max(0) as u32,
                reason: waiting.clone(),
            });
        }
    }
    decision.kpa = Some(KpaDecision { scale, reconcile });
    value
}
