//! KEDA's `ScaledObject` semantics: triggers served to HPA math, activation separate from
//! scaling, cooldown to zero, idle replicas, fallback after repeated metric failures, and
//! composed signals (`scalingModifiers`).
//!
//! KEDA splits the decision in two (`specs/keda.md` §1): an **activation** loop decides 0 ↔ 1
//! (or idle ↔ min) from each trigger's *is active* (`value > activation_target`, strict), and
//! the HPA that KEDA generates decides 1 ↔ N from the triggers' values against their targets
//! (External metrics, `AverageValue` by default). The [`crate::Scaler`] runs both in one call:
//!
//! 1. `evaluate`: each trigger's observation (one [`MetricInput`] per trigger, in spec order)
//!    counts toward its consecutive failures; past `fallback.failure_threshold` (strict) a
//!    failing trigger is replaced by the synthetic value KEDA serves (`target × R`, R by the
//!    fallback behavior) and counts as active. With `scaling_modifiers` the named triggers'
//!    values are bound into the formula (evaluated by the maintained expr-lang crate, KEDA's
//!    own language) and the composite value becomes the one External metric; activity is then
//!    `composite > activation_target`.
//! 2. The HPA math ([`crate::hpa::metric_proposal`]) on the effective metrics, KEDA's
//!    `behavior` (or the legacy defaults), bounds `[max(1, min), max]`.
//! 3. `activation`: KEDA's scale loop — scale from zero (or idle) to `max(min, 1)` when active;
//!    to zero (or idle) once inactive for `cooldown_period_s` (from the first decision with
//!    `initial_cooldown_period_s` when never active); hold when a trigger errs.
//!
//! Time is the decision's `now_ms`; KEDA's `pollingInterval` is the caller's cadence (kept in
//! the spec so manifests round-trip, and used by the backtest as its decision interval).

use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::source::hpa::{MetricInput, MetricSpec, MetricTarget};
use crate::spec::Quantity;
use crate::time::{Timestamp, secs_to_ms};

/// The External metric KEDA generates for a formula.
pub const COMPOSITE_METRIC_NAME: &str = "composite-metric";

/// A KEDA `ScaledObject`'s decision settings: its triggers and the `advanced`/fallback fields.
///
/// | field | default | meaning |
/// | --- | --- | --- |
/// | `triggers` | required | the metric sources, in order ([`Trigger`]) |
/// | `polling_interval_s` | 30 | KEDA's activation-loop period (the caller's cadence) |
/// | `cooldown_period_s` | 300 | inactive time before scaling to zero / idle |
/// | `initial_cooldown_period_s` | 0 | the same, counted from the first decision, while never active |
/// | `idle_replica_count` | none | replicas while inactive instead of 0 (must be < `min_replicas`) |
/// | `fallback` | none | replicas to hold when a trigger keeps failing ([`Fallback`]) |
/// | `scaling_modifiers` | none | one composite metric from a formula over named triggers |
///
/// The scaler's `min_replicas` / `max_replicas` are `minReplicaCount` / `maxReplicaCount`
/// (`min_replicas` may be 0: activation takes the target from and to zero); KEDA's
/// `advanced.horizontalPodAutoscalerConfig.behavior` is the scaler's `behavior`.
///
/// ```
/// use replicast::ScalerSpec;
/// let spec = ScalerSpec::from_yaml(r#"
/// min_replicas: 0
/// max_replicas: 20
/// keda:
///   cooldown_period_s: 120
///   triggers:
///     - {type: rabbitmq, name: queue, target: 20, activation_target: 5}
///   fallback: {failure_threshold: 3, replicas: 6}
/// "#).unwrap();
/// assert_eq!(spec.keda.unwrap().triggers[0].target, 20.0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KedaSpec {
    /// The triggers, in the order their observations arrive.
    pub triggers: Vec<Trigger>,
    /// KEDA's activation-loop period, seconds.
    #[serde(default = "default_polling_interval_s")]
    pub polling_interval_s: u32,
    /// Seconds without activity before scaling to zero (or to the idle count).
    #[serde(default = "default_cooldown_period_s")]
    pub cooldown_period_s: u32,
    /// Seconds after the first decision before a never-active target may go to zero.
    #[serde(default)]
    pub initial_cooldown_period_s: u32,
    /// Replicas while inactive, instead of 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_replica_count: Option<u32>,
    /// What to serve when a trigger keeps failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
    /// A formula composing the triggers into one metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling_modifiers: Option<ScalingModifiers>,
}

fn default_polling_interval_s() -> u32 {
    30
}

fn default_cooldown_period_s() -> u32 {
    300
}

/// One KEDA trigger: a metric source with a target per replica and an activation threshold.
///
/// `kind` is KEDA's trigger `type` (`prometheus`, `rabbitmq`, `kafka`, `aws-sqs-queue`, ...,
/// or `cpu` / `memory`). The trigger's observation is a [`MetricInput`]: an `aggregated`
/// value or `external` series for scalers, `unavailable` when the scaler failed; `cpu` and
/// `memory` take the HPA's resource inputs (per-pod samples or an aggregated utilisation).
///
/// | field | default | meaning |
/// | --- | --- | --- |
/// | `type` | required | the scaler type |
/// | `name` | none | the trigger's name (required for triggers a formula uses) |
/// | `metric_type` | `average_value` | `average_value` or `value` (`utilization` for cpu/memory) |
/// | `target` | required | the threshold: value per replica (`average_value`), total (`value`), or percent (`utilization`) |
/// | `activation_target` | 0 | active when the value is strictly above it |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// KEDA's trigger type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The trigger's name, as a formula refers to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// How the HPA compares the value with the target.
    #[serde(default)]
    pub metric_type: TriggerMetricType,
    /// The target (threshold).
    pub target: f64,
    /// The activation threshold.
    #[serde(default)]
    pub activation_target: f64,
}

impl Trigger {
    /// Whether KEDA leaves this trigger to the metrics server (`cpu`, `memory`): it never
    /// activates a target from zero and cannot fall back.
    #[must_use]
    pub fn is_resource(&self) -> bool {
        self.kind == "cpu" || self.kind == "memory"
    }

    /// The External metric name KEDA generates for the trigger at `index` (`s0-prometheus`).
    #[must_use]
    pub fn metric_name(&self, index: usize) -> String {
        format!("s{index}-{}", self.kind)
    }

    /// What the decision calls this trigger: its name, else its metric name.
    #[must_use]
    pub fn label(&self, index: usize) -> String {
        self.name.clone().unwrap_or_else(|| self.metric_name(index))
    }
}

/// How a trigger's value is compared with its target (the HPA metric target type).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerMetricType {
    /// Value per replica: `desired = ceil(value / target)`.
    #[default]
    AverageValue,
    /// Total value: `desired = ceil(value / target × ready)`.
    Value,
    /// Percent of the request (cpu and memory triggers only).
    Utilization,
}

/// Replicas to hold when a trigger fails more than `failure_threshold` times in a row.
///
/// ```
/// use replicast::keda::{Fallback, FallbackBehavior};
/// let f: Fallback = serde_json::from_str(r#"{"failure_threshold": 3, "replicas": 10}"#).unwrap();
/// assert_eq!(f.behavior, FallbackBehavior::Static);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fallback {
    /// Consecutive failures tolerated; fallback engages on the next one.
    pub failure_threshold: u32,
    /// The fallback replica count.
    pub replicas: u32,
    /// Which replica count the fallback serves.
    #[serde(default)]
    pub behavior: FallbackBehavior,
}

/// KEDA's fallback behaviours (snake_case; KEDA's camelCase names are accepted too).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FallbackBehavior {
    /// `replicas`.
    #[default]
    Static,
    /// The current replica count.
    #[serde(alias = "currentReplicas")]
    CurrentReplicas,
    /// `max(current, replicas)`.
    #[serde(alias = "currentReplicasIfHigher")]
    CurrentReplicasIfHigher,
    /// `min(current, replicas)`.
    #[serde(alias = "currentReplicasIfLower")]
    CurrentReplicasIfLower,
    /// A failing trigger is `nil` in the formula (so `primary ?? backup` works); a `nil` result
    /// serves `replicas × target`.
    #[serde(alias = "scalingModifiers")]
    ScalingModifiers,
}

/// A formula over named triggers that becomes the one metric the HPA scales on.
///
/// The formula is an [expr-lang](https://expr-lang.org) expression, as in KEDA: arithmetic,
/// comparisons, `cond ? a : b`, `a ?? b`, `min`, `max`, `abs`, `ceil`, `floor`, `round`,
/// `float`, `int`. It must evaluate to a number.
///
/// ```
/// use replicast::ScalerSpec;
/// let spec = ScalerSpec::from_yaml(r#"
/// max_replicas: 50
/// keda:
///   triggers:
///     - {type: prometheus, name: queue, target: 10}
///     - {type: prometheus, name: inflight, target: 10}
///   scaling_modifiers: {formula: "queue + inflight / 2", target: 10}
/// "#).unwrap();
/// assert!(spec.keda.unwrap().scaling_modifiers.is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalingModifiers {
    /// The expression over trigger names.
    pub formula: String,
    /// The composite metric's target.
    pub target: f64,
    /// Active when the composite value is strictly above this.
    #[serde(default)]
    pub activation_target: f64,
    /// `average_value` (default) or `value`.
    #[serde(default)]
    pub metric_type: TriggerMetricType,
}

/// A compiled formula (parsed once, when the scaler is built).
#[derive(Clone)]
pub(crate) struct Formula {
    text: String,
    program: expr::Program,
}

impl fmt::Debug for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Formula").field(&self.text).finish()
    }
}

/// What one formula evaluation gave.
enum FormulaValue {
    Number(f64),
    Nil,
}

impl Formula {
    /// Parses `text`; `names` are the triggers it may use (checked by a trial evaluation).
    fn compile(text: &str, names: &[&str]) -> Result<Self> {
        let at = "keda.scaling_modifiers.formula";
        if text.trim().is_empty() {
            return Err(Error::invalid_config(format!("{at} must not be empty")));
        }
        // expr-lang is third-party code: a panic inside it must not reach the caller
        let program = std::panic::catch_unwind(|| expr::compile(text))
            .map_err(|_| Error::invalid_config(format!("{at} {text:?} could not be parsed")))?
            .map_err(|e| {
                Error::invalid_config(format!(
                    "{at} {text:?} is not a valid expression: {}",
                    one_line(&e.to_string())
                ))
            })?;
        let formula = Self {
            text: text.to_owned(),
            program,
        };
        // every name bound to 1: an unknown name fails here, whatever the values
        let trial: Vec<(&str, Option<f64>)> = names.iter().map(|n| (*n, Some(1.0))).collect();
        match formula.eval(&trial) {
            Err(e) if e.contains("unknown variable") || e.contains("unknown name") => {
                Err(Error::invalid_config(format!(
                    "{at} {text:?} references a metric that is not a trigger name ({e}); the triggers are: {}",
                    names.join(", ")
                )))
            }
            Err(e) if e.contains("not a number") => Err(Error::invalid_config(format!(
                "{at} {text:?} must evaluate to a number: {e}"
            ))),
            _ => Ok(formula),
        }
    }

    /// Evaluates with each name bound to its value (`None` = `nil`).
    fn eval(&self, values: &[(&str, Option<f64>)]) -> std::result::Result<FormulaValue, String> {
        let mut ctx = expr::Context::default();
        for (name, value) in values {
            ctx.insert(
                (*name).to_owned(),
                value.map_or(expr::Value::Nil, expr::Value::Float),
            );
        }
        let outcome = std::panic::catch_unwind(|| expr::run(&self.program, &ctx))
            .map_err(|_| "the expression evaluator failed".to_owned())?;
        match outcome {
            Ok(expr::Value::Float(v)) => Ok(FormulaValue::Number(v)),
            Ok(expr::Value::Integer(v)) => Ok(FormulaValue::Number(v as f64)),
            Ok(expr::Value::Nil) => Ok(FormulaValue::Nil),
            Ok(other) => Err(format!("the result is not a number: {other:?}")),
            Err(e) => Err(one_line(&e.to_string())),
        }
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl KedaSpec {
    /// Checks the triggers, fallback and formula (`min_replicas` is the scaler's).
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] naming the first invalid field.
    pub fn validate(&self, min_replicas: u32) -> Result<()> {
        self.compiled_formula(min_replicas).map(|_| ())
    }

    /// Validates and compiles the formula, if any.
    pub(crate) fn compiled_formula(&self, min_replicas: u32) -> Result<Option<Formula>> {
        if self.triggers.is_empty() {
            return Err(Error::invalid_config("keda.triggers must not be empty"));
        }
        let mut names: Vec<&str> = Vec::new();
        for (i, t) in self.triggers.iter().enumerate() {
            let at = format!("keda.triggers[{i}]");
            if t.kind.trim().is_empty() {
                return Err(Error::invalid_config(format!(
                    "{at}.type must not be empty"
                )));
            }
            if !(t.target.is_finite() && t.target > 0.0) {
                return Err(Error::invalid_config(format!(
                    "{at}.target must be a finite number > 0, got {}",
                    t.target
                )));
            }
            if !t.activation_target.is_finite() {
                return Err(Error::invalid_config(format!(
                    "{at}.activation_target must be a finite number, got {}",
                    t.activation_target
                )));
            }
            match (t.is_resource(), t.metric_type) {
                (false, TriggerMetricType::Utilization) => {
                    return Err(Error::invalid_config(format!(
                        "{at}.metric_type must be average_value or value for a {} trigger, got utilization (only cpu and memory take utilization)",
                        t.kind
                    )));
                }
                (true, TriggerMetricType::Value) => {
                    return Err(Error::invalid_config(format!(
                        "{at}.metric_type must be utilization or average_value for a {} trigger, got value",
                        t.kind
                    )));
                }
                (true, TriggerMetricType::Utilization) if t.target.fract() != 0.0 => {
                    return Err(Error::invalid_config(format!(
                        "{at}.target must be a whole percentage for a utilization trigger, got {}",
                        t.target
                    )));
                }
                _ => {}
            }
            if let Some(name) = &t.name {
                if name.trim().is_empty() {
                    return Err(Error::invalid_config(format!(
                        "{at}.name must not be empty when set"
                    )));
                }
                if names.contains(&name.as_str()) {
                    return Err(Error::invalid_config(format!(
                        "{at}.name must be unique, got {name:?} twice"
                    )));
                }
                names.push(name);
            }
        }
        let only_resources = self.triggers.iter().all(Trigger::is_resource);
        if only_resources && min_replicas == 0 {
            return Err(Error::invalid_config(
                "min_replicas must be >= 1 when every keda trigger is cpu or memory: they cannot activate a target from zero",
            ));
        }
        if let Some(idle) = self.idle_replica_count
            && idle >= min_replicas
        {
            return Err(Error::invalid_config(format!(
                "keda.idle_replica_count must be < min_replicas ({min_replicas}), got {idle}"
            )));
        }
        for (field, value) in [
            ("keda.cooldown_period_s", self.cooldown_period_s),
            (
                "keda.initial_cooldown_period_s",
                self.initial_cooldown_period_s,
            ),
        ] {
            if value > 7 * 86_400 {
                return Err(Error::invalid_config(format!(
                    "{field} must be in [0, 604800] seconds, got {value}"
                )));
            }
        }
        if self.polling_interval_s == 0 {
            return Err(Error::invalid_config(
                "keda.polling_interval_s must be >= 1, got 0",
            ));
        }
        if let Some(fallback) = &self.fallback {
            if only_resources {
                return Err(Error::invalid_config(
                    "keda.fallback needs at least one trigger other than cpu and memory (those are not served by KEDA)",
                ));
            }
            if fallback.behavior == FallbackBehavior::ScalingModifiers
                && self.scaling_modifiers.is_none()
            {
                return Err(Error::invalid_config(
                    "keda.fallback.behavior scaling_modifiers needs keda.scaling_modifiers",
                ));
            }
        }
        let Some(modifiers) = &self.scaling_modifiers else {
            return Ok(None);
        };
        let at = "keda.scaling_modifiers";
        if !(modifiers.target.is_finite() && modifiers.target > 0.0) {
            return Err(Error::invalid_config(format!(
                "{at}.target must be a finite number > 0, got {}",
                modifiers.target
            )));
        }
        if !modifiers.activation_target.is_finite() {
            return Err(Error::invalid_config(format!(
                "{at}.activation_target must be a finite number, got {}",
                modifiers.activation_target
            )));
        }
        if modifiers.metric_type == TriggerMetricType::Utilization {
            return Err(Error::invalid_config(format!(
                "{at}.metric_type must be average_value or value, got utilization"
            )));
        }
        if let Some(fallback) = &self.fallback
            && modifiers.target.fract() != 0.0
        {
            // KEDA's webhook parses the target as an integer when a fallback is set
            return Err(Error::invalid_config(format!(
                "{at}.target must be a whole number with a fallback ({} replicas), got {}",
                fallback.replicas, modifiers.target
            )));
        }
        if let Some((i, _)) = self
            .triggers
            .iter()
            .enumerate()
            .find(|(_, t)| !t.is_resource() && t.name.is_none())
        {
            return Err(Error::invalid_config(format!(
                "keda.triggers[{i}].name must be set: a formula addresses triggers by name"
            )));
        }
        let formula_names: Vec<&str> = self
            .triggers
            .iter()
            .filter(|t| !t.is_resource())
            .filter_map(|t| t.name.as_deref())
            .collect();
        Formula::compile(&modifiers.formula, &formula_names).map(Some)
    }

    /// The metrics of the HPA KEDA generates: one External metric per trigger (or one
    /// `composite-metric` for a formula) and a Resource metric per cpu/memory trigger.
    #[must_use]
    pub fn hpa_metrics(&self) -> Vec<MetricSpec> {
        let Some(modifiers) = &self.scaling_modifiers else {
            return self.trigger_metrics();
        };
        let mut metrics = vec![MetricSpec::External {
            name: COMPOSITE_METRIC_NAME.to_owned(),
            target: external_target(modifiers.metric_type, modifiers.target),
            selector: None,
        }];
        metrics.extend(
            self.trigger_metrics()
                .into_iter()
                .zip(&self.triggers)
                .filter(|(_, t)| t.is_resource())
                .map(|(m, _)| m),
        );
        metrics
    }

    /// Each trigger as the HPA metric it would be without a formula, in trigger order (the
    /// metric of each observation in `DecisionInput::metrics`).
    #[must_use]
    pub fn trigger_metrics(&self) -> Vec<MetricSpec> {
        self.triggers
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if t.is_resource() {
                    MetricSpec::Resource {
                        resource: t.kind.clone(),
                        target: if t.metric_type == TriggerMetricType::Utilization {
                            MetricTarget::utilization(t.target as i32)
                        } else {
                            MetricTarget::average_value(milli_quantity(t.target))
                        },
                    }
                } else {
                    MetricSpec::External {
                        name: t.metric_name(i),
                        target: external_target(t.metric_type, t.target),
                        selector: None,
                    }
                }
            })
            .collect()
    }
}

/// KEDA serves thresholds as milli-quantities, truncated (`int64(value × 1000)`).
fn milli_quantity(value: f64) -> Quantity {
    Quantity::from_milli((value * 1000.0) as i64)
}

fn external_target(kind: TriggerMetricType, target: f64) -> MetricTarget {
    match kind {
        TriggerMetricType::Value => MetricTarget::value(milli_quantity(target)),
        _ => MetricTarget::average_value(milli_quantity(target)),
    }
}

/// What KEDA remembers between decisions: failures per trigger, the last active instant, and
/// when this state first decided (KEDA's creation time for `initial_cooldown_period_s`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KedaState {
    /// Consecutive failures per trigger (tracked only with a fallback, as KEDA does).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<u32>,
    /// The last decision at which the target was active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active_ms: Option<Timestamp>,
    /// The first decision made with this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_decision_ms: Option<Timestamp>,
}

/// One trigger's status in a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggerStatus {
    /// The trigger's name, or its generated metric name.
    pub name: String,
    /// The observed value (`None` when it failed, or for cpu/memory).
    pub value: Option<f64>,
    /// Whether it counts as active (value above its activation target, or in fallback).
    pub active: bool,
    /// Consecutive failures so far.
    pub failures: u32,
    /// Whether its fallback value is being served.
    pub fallback: bool,
}

/// KEDA's view of one decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KedaStatus {
    /// Whether the ScaledObject is active.
    pub active: bool,
    /// Whether a trigger (or the formula) failed without a fallback to stand in.
    pub error: bool,
    /// Whether a fallback value is being served.
    pub fallback: bool,
    /// The formula's value, when there is a formula and it could be computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub composite_value: Option<f64>,
    /// Each trigger, in spec order.
    pub triggers: Vec<TriggerStatus>,
    /// What fallback or the formula changed, in words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The outcome of [`evaluate`]: the HPA metrics' effective inputs and KEDA's status.
#[derive(Debug, Clone)]
pub(crate) struct Evaluation {
    /// One input per [`KedaSpec::hpa_metrics`] entry, in that order.
    pub(crate) inputs: Vec<MetricInput>,
    /// Activity, errors and per-trigger values.
    pub(crate) status: KedaStatus,
    /// The failure counts after this decision.
    pub(crate) failures: Vec<u32>,
}

/// The replicas and ready pods of the target now, as fallback needs them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target {
    pub(crate) current: u32,
    pub(crate) ready: u32,
}

/// Checks that each trigger's observation is one its trigger can take.
pub(crate) fn check_inputs(spec: &KedaSpec, inputs: &[MetricInput]) -> Result<()> {
    if inputs.len() != spec.triggers.len() {
        return Err(Error::invalid_input(format!(
            "metrics must have one input per keda trigger ({}), got {}",
            spec.triggers.len(),
            inputs.len()
        )));
    }
    for (i, (t, input)) in spec.triggers.iter().zip(inputs).enumerate() {
        let fits = if t.is_resource() {
            matches!(
                input,
                MetricInput::Resource { .. }
                    | MetricInput::Aggregated { .. }
                    | MetricInput::Unavailable { .. }
            )
        } else {
            matches!(
                input,
                MetricInput::External { .. }
                    | MetricInput::Aggregated { .. }
                    | MetricInput::Unavailable { .. }
            )
        };
        if !fits {
            return Err(Error::invalid_input(format!(
                "metrics[{i}] must be {} for the {} trigger {}, got {}",
                if t.is_resource() {
                    "resource, aggregated or unavailable"
                } else {
                    "aggregated, external or unavailable"
                },
                t.kind,
                t.label(i),
                input.kind_name()
            )));
        }
    }
    Ok(())
}

/// A scaler trigger's value: the aggregated value or the sum of the External series.
fn trigger_value(input: &MetricInput) -> Option<f64> {
    match input {
        MetricInput::Aggregated { value, .. } => Some(*value),
        MetricInput::External { values_milli } => {
            Some(values_milli.iter().map(|v| *v as f64).sum::<f64>() / 1000.0)
        }
        _ => None,
    }
}

/// Each trigger's failures, fallback, the formula, and KEDA's activity (steps 1 of the module
/// docs). `inputs` are the observations, one per trigger, already checked.
pub(crate) fn evaluate(
    spec: &KedaSpec,
    formula: Option<&Formula>,
    state: &KedaState,
    inputs: &[MetricInput],
    target: Target,
) -> Evaluation {
    let fallback = spec.fallback.as_ref();
    let mut failures = state.failures.clone();
    failures.resize(spec.triggers.len(), 0);
    let mut notes = Vec::new();
    let mut statuses = Vec::with_capacity(spec.triggers.len());
    let mut any_error = false;
    let mut any_fallback = false;
    let mut any_active = false;
    // (input for the HPA math, value bound into a formula) per trigger
    let mut effective: Vec<(MetricInput, Option<f64>)> = Vec::with_capacity(inputs.len());
    for (i, (t, input)) in spec.triggers.iter().zip(inputs).enumerate() {
        let label = t.label(i);
        let failed = matches!(input, MetricInput::Unavailable { .. });
        if fallback.is_some() && !t.is_resource() {
            failures[i] = if failed {
                failures[i].saturating_add(1)
            } else {
                0
            };
        }
        let value = trigger_value(input);
        let mut status = TriggerStatus {
            name: label.clone(),
            value,
            active: false,
            failures: failures[i],
            fallback: false,
        };
        if t.is_resource() {
            // served by the metrics server; they take part in activity only on their own
            any_error |= failed;
            statuses.push(status);
            effective.push((input.clone(), None));
            continue;
        }
        match (failed, fallback) {
            (false, _) => {
                status.active = value.is_some_and(|v| v > t.activation_target);
                effective.push((input.clone(), value));
            }
            (true, Some(fb)) if failures[i] > fb.failure_threshold => {
                if fb.behavior == FallbackBehavior::ScalingModifiers {
                    // bound as nil in the formula; KEDA reports no error for it
                    notes.push(format!(
                        "{label} failed {} times (> {}): nil in the formula",
                        failures[i], fb.failure_threshold
                    ));
                    effective.push((input.clone(), None));
                } else {
                    let metric_type = spec
                        .scaling_modifiers
                        .as_ref()
                        .map_or(t.metric_type, |m| m.metric_type);
                    let per_metric_target = spec
                        .scaling_modifiers
                        .as_ref()
                        .map_or(t.target, |m| m.target);
                    match fallback_value(fb, metric_type, per_metric_target, target) {
                        Ok((milli, replicas)) => {
                            status.active = true;
                            status.fallback = true;
                            any_fallback = true;
                            notes.push(format!(
                                "{label} failed {} times (> {}): fallback to {replicas} replicas ({})",
                                failures[i],
                                fb.failure_threshold,
                                fallback_behavior_name(fb.behavior)
                            ));
                            effective.push((
                                MetricInput::External {
                                    values_milli: vec![milli],
                                },
                                Some(milli as f64 / 1000.0),
                            ));
                        }
                        Err(why) => {
                            any_error = true;
                            notes.push(format!("{label}: fallback failed: {why}"));
                            effective.push((input.clone(), None));
                        }
                    }
                }
            }
            (true, _) => {
                any_error = true;
                effective.push((input.clone(), None));
            }
        }
        any_active |= status.active;
        statuses.push(status);
    }

    let mut composite_value = None;
    let mut hpa_inputs = Vec::new();
    if let (Some(modifiers), Some(formula)) = (&spec.scaling_modifiers, formula) {
        any_active = false;
        let composite: std::result::Result<i64, String> = if any_fallback {
            // the formula is skipped: the composite metric carries the fallback value
            effective
                .iter()
                .zip(&statuses)
                .find(|(_, s)| s.fallback)
                .and_then(|((input, _), _)| match input {
                    MetricInput::External { values_milli } => values_milli.first().copied(),
                    _ => None,
                })
                .ok_or_else(|| "no fallback value".to_owned())
        } else if any_error {
            Err("a trigger the formula needs failed".to_owned())
        } else {
            let bound: Vec<(&str, Option<f64>)> = spec
                .triggers
                .iter()
                .zip(&effective)
                .filter(|(t, _)| !t.is_resource())
                .filter_map(|(t, (_, v))| t.name.as_deref().map(|n| (n, *v)))
                .collect();
            composite_milli(formula, &bound, modifiers, fallback)
        };
        match composite {
            Ok(milli) => {
                let value = milli as f64 / 1000.0;
                composite_value = Some(value);
                if !any_error {
                    any_active = value > modifiers.activation_target;
                }
                notes.push(format!(
                    "{COMPOSITE_METRIC_NAME} = {value} from {:?}",
                    formula.text
                ));
                hpa_inputs.push(MetricInput::External {
                    values_milli: vec![milli],
                });
            }
            Err(why) => {
                any_error = true;
                hpa_inputs.push(MetricInput::Unavailable {
                    reason: format!("formula {:?}: {why}", formula.text),
                });
            }
        }
        hpa_inputs.extend(
            spec.triggers
                .iter()
                .zip(effective)
                .filter(|(t, _)| t.is_resource())
                .map(|(_, (input, _))| input),
        );
    } else {
        hpa_inputs = effective.into_iter().map(|(input, _)| input).collect();
    }
    if spec.triggers.iter().all(Trigger::is_resource) && !any_error {
        any_active = true;
    }
    Evaluation {
        inputs: hpa_inputs,
        status: KedaStatus {
            active: any_active,
            error: any_error,
            fallback: any_fallback,
            composite_value,
            triggers: statuses,
            notes,
        },
        failures,
    }
}

fn fallback_behavior_name(b: FallbackBehavior) -> &'static str {
    match b {
        FallbackBehavior::Static => "static",
        FallbackBehavior::CurrentReplicas => "currentReplicas",
        FallbackBehavior::CurrentReplicasIfHigher => "currentReplicasIfHigher",
        FallbackBehavior::CurrentReplicasIfLower => "currentReplicasIfLower",
        FallbackBehavior::ScalingModifiers => "scalingModifiers",
    }
}

/// The synthetic value KEDA serves for a failing trigger, milli-units, so that the HPA computes
/// the fallback replicas: `target × R` (`Value` targets: `R / ready`). Also returns R.
fn fallback_value(
    fb: &Fallback,
    metric_type: TriggerMetricType,
    target_value: f64,
    target: Target,
) -> std::result::Result<(i64, u32), String> {
    let replicas = match fb.behavior {
        FallbackBehavior::CurrentReplicas => target.current,
        FallbackBehavior::CurrentReplicasIfHigher => target.current.max(fb.replicas),
        FallbackBehavior::CurrentReplicasIfLower => target.current.min(fb.replicas),
        FallbackBehavior::Static | FallbackBehavior::ScalingModifiers => fb.replicas,
    };
    let mut r = f64::from(replicas);
    if metric_type == TriggerMetricType::Value {
        if target.ready == 0 {
            return Err("no ready pods to spread a Value fallback over".to_owned());
        }
        r /= f64::from(target.ready);
    }
    Ok(((target_value * 1000.0 * r) as i64, replicas))
}

/// The composite metric in milli-units (`int64(result × 1000)`, as KEDA exports it).
fn composite_milli(
    formula: &Formula,
    bound: &[(&str, Option<f64>)],
    modifiers: &ScalingModifiers,
    fallback: Option<&Fallback>,
) -> std::result::Result<i64, String> {
    let value = match formula.eval(bound)? {
        FormulaValue::Number(v) => v,
        FormulaValue::Nil => match fallback {
            Some(fb) => f64::from(fb.replicas) * modifiers.target,
            None => {
                return Err("evaluated to nil but no fallback is configured".to_owned());
            }
        },
    };
    if value.is_nan() {
        return Err(format!("evaluated to NaN with {}", describe(bound)));
    }
    if value.is_infinite() {
        return Err(format!("divided by zero with {}", describe(bound)));
    }
    if value < 0.0 {
        return Err(format!("evaluated to {value} < 0 with {}", describe(bound)));
    }
    let milli = value * 1000.0;
    if milli >= 9.2e18 {
        return Err(format!("evaluated to {value}, out of range"));
    }
    Ok(milli as i64)
}

fn describe(bound: &[(&str, Option<f64>)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in bound.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match value {
            Some(v) => {
                let _ = write!(out, "{name} = {v}");
            }
            None => {
                let _ = write!(out, "{name} = nil");
            }
        }
    }
    out
}

/// The outcome of KEDA's scale loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Activation {
    /// The replicas after the loop (the HPA's value when the loop leaves it alone).
    pub(crate) replicas: u32,
    /// Why the loop changed the value, when it did.
    pub(crate) reason: Option<String>,
    /// Whether to record `now` as the last active instant.
    pub(crate) mark_active: bool,
}

/// KEDA's scale loop (`specs/keda.md` §6) after the HPA proposed `hpa_replicas`.
pub(crate) fn activation(
    spec: &KedaSpec,
    state: &KedaState,
    status: &KedaStatus,
    min_replicas: u32,
    current: u32,
    hpa_replicas: u32,
    now: Timestamp,
) -> Activation {
    let keep = |mark_active| Activation {
        replicas: hpa_replicas,
        reason: None,
        mark_active,
    };
    if status.active {
        let below_min = spec.idle_replica_count.is_some() && current < min_replicas;
        if below_min || current == 0 {
            let to = min_replicas.max(1);
            return Activation {
                replicas: to,
                reason: Some(format!(
                    "active: {} from {current} to {to}",
                    if current == 0 {
                        "scaling from zero"
                    } else {
                        "leaving the idle replica count"
                    }
                )),
                mark_active: true,
            };
        }
        // an erring active object is left to the HPA; KEDA records no activity for it
        return keep(!status.error);
    }
    if status.error {
        // with or without a fallback KEDA does not scale an erring object to zero
        return keep(false);
    }
    let idle = spec.idle_replica_count;
    let scale_in = idle.is_some_and(|i| current > i) || (current > 0 && min_replicas == 0);
    if scale_in {
        let to = idle.unwrap_or(min_replicas);
        let (since, period_s, what) = match state.last_active_ms {
            Some(last) => (last, spec.cooldown_period_s, "cooldown_period_s"),
            None => (
                state.first_decision_ms.unwrap_or(now),
                spec.initial_cooldown_period_s,
                "initial_cooldown_period_s",
            ),
        };
        let until = since.saturating_add(secs_to_ms(i64::from(period_s)));
        if until < now {
            return Activation {
                replicas: to,
                reason: Some(format!(
                    "inactive for longer than {what} ({period_s}s): scaling to {to}"
                )),
                mark_active: false,
            };
        }
        return keep(false);
    }
    if idle.is_none() && current < min_replicas {
        return Activation {
            replicas: min_replicas,
            reason: Some(format!(
                "inactive below min_replicas: scaling to {min_replicas}"
            )),
            mark_active: false,
        };
    }
    if current == 0 {
        // the HPA is disabled at zero: nothing changes while inactive
        return Activation {
            replicas: 0,
            reason: None,
            mark_active: false,
        };
    }
    keep(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger(name: &str, target: f64) -> Trigger {
        Trigger {
            kind: "prometheus".to_owned(),
            name: Some(name.to_owned()),
            metric_type: TriggerMetricType::AverageValue,
            target,
            activation_target: 0.0,
        }
    }

    fn spec(triggers: Vec<Trigger>) -> KedaSpec {
        KedaSpec {
            triggers,
            polling_interval_s: 30,
            cooldown_period_s: 300,
            initial_cooldown_period_s: 0,
            idle_replica_count: None,
            fallback: None,
            scaling_modifiers: None,
        }
    }

    #[test]
    fn formula_sums_two_triggers_into_milli_units() {
        // upstream formula_test: trigger1 = 2, trigger2 = 5, `trigger1 + trigger2` -> 7000 m
        let f = Formula::compile("trigger1 + trigger2", &["trigger1", "trigger2"]).unwrap();
        let m = ScalingModifiers {
            formula: f.text.clone(),
            target: 2.0,
            activation_target: 0.0,
            metric_type: TriggerMetricType::AverageValue,
        };
        let milli = composite_milli(
            &f,
            &[("trigger1", Some(2.0)), ("trigger2", Some(5.0))],
            &m,
            None,
        )
        .unwrap();
        assert_eq!(milli, 7000);
    }

    #[test]
    fn nil_formula_serves_fallback_replicas_times_target() {
        // upstream: target 2, fallback replicas 7, both failing, `trigger1 ?? trigger2` -> 14000 m
        let f = Formula::compile("trigger1 ?? trigger2", &["trigger1", "trigger2"]).unwrap();
        let m = ScalingModifiers {
            formula: f.text.clone(),
            target: 2.0,
            activation_target: 0.0,
            metric_type: TriggerMetricType::AverageValue,
        };
        let fb = Fallback {
            failure_threshold: 3,
            replicas: 7,
            behavior: FallbackBehavior::ScalingModifiers,
        };
        let milli =
            composite_milli(&f, &[("trigger1", None), ("trigger2", None)], &m, Some(&fb)).unwrap();
        assert_eq!(milli, 14_000);
        let backup = composite_milli(
            &f,
            &[("trigger1", None), ("trigger2", Some(3.5))],
            &m,
            Some(&fb),
        )
        .unwrap();
        assert_eq!(backup, 3500);
    }

    #[test]
    fn unknown_names_and_bad_syntax_are_config_errors() {
        let e = Formula::compile("queue + lag", &["queue"]).unwrap_err();
        assert!(e.to_string().contains("not a trigger name"), "{e}");
        assert!(e.to_string().contains("lag"), "{e}");
        let e = Formula::compile("queue +", &["queue"]).unwrap_err();
        assert!(e.to_string().contains("not a valid expression"), "{e}");
        let e = Formula::compile("queue > 1", &["queue"]).unwrap_err();
        assert!(e.to_string().contains("must evaluate to a number"), "{e}");
    }

    #[test]
    fn division_by_zero_is_named() {
        let f = Formula::compile("a / b", &["a", "b"]).unwrap();
        let m = ScalingModifiers {
            formula: f.text.clone(),
            target: 1.0,
            activation_target: 0.0,
            metric_type: TriggerMetricType::AverageValue,
        };
        let e = composite_milli(&f, &[("a", Some(4.0)), ("b", Some(0.0))], &m, None).unwrap_err();
        assert_eq!(e, "divided by zero with a = 4, b = 0");
    }

    #[test]
    fn fallback_values_follow_each_behavior() {
        // upstream fallback_test: target 10, fallback replicas 10
        let t = Target {
            current: 6,
            ready: 6,
        };
        let value = |behavior, current| {
            let fb = Fallback {
                failure_threshold: 3,
                replicas: 10,
                behavior,
            };
            fallback_value(
                &fb,
                TriggerMetricType::AverageValue,
                10.0,
                Target { current, ..t },
            )
            .unwrap()
            .0
        };
        assert_eq!(value(FallbackBehavior::Static, 15), 100_000);
        assert_eq!(value(FallbackBehavior::CurrentReplicas, 6), 60_000);
        assert_eq!(value(FallbackBehavior::CurrentReplicasIfHigher, 4), 100_000);
        assert_eq!(
            value(FallbackBehavior::CurrentReplicasIfHigher, 14),
            140_000
        );
        assert_eq!(value(FallbackBehavior::CurrentReplicasIfLower, 4), 40_000);
        assert_eq!(value(FallbackBehavior::CurrentReplicasIfLower, 14), 100_000);
        // a Value target spreads R over the ready pods: 10 replicas / 4 ready x 10 = 25
        let fb = Fallback {
            failure_threshold: 3,
            replicas: 10,
            behavior: FallbackBehavior::Static,
        };
        let v = fallback_value(
            &fb,
            TriggerMetricType::Value,
            10.0,
            Target {
                current: 4,
                ready: 4,
            },
        )
        .unwrap();
        assert_eq!(v, (25_000, 10));
        assert!(
            fallback_value(
                &fb,
                TriggerMetricType::Value,
                10.0,
                Target {
                    current: 4,
                    ready: 0
                }
            )
            .is_err()
        );
    }

    #[test]
    fn fallback_engages_after_more_failures_than_the_threshold() {
        let mut s = spec(vec![trigger("q", 10.0)]);
        s.fallback = Some(Fallback {
            failure_threshold: 3,
            replicas: 10,
            behavior: FallbackBehavior::Static,
        });
        let failed = vec![MetricInput::Unavailable {
            reason: "timeout".to_owned(),
        }];
        let mut state = KedaState::default();
        let t = Target {
            current: 2,
            ready: 2,
        };
        for n in 1..=3 {
            let e = evaluate(&s, None, &state, &failed, t);
            assert_eq!(e.failures, vec![n]);
            assert!(e.status.error && !e.status.fallback, "failure {n}");
            state.failures = e.failures;
        }
        let e = evaluate(&s, None, &state, &failed, t);
        assert_eq!(e.failures, vec![4]);
        assert!(e.status.fallback && e.status.active && !e.status.error);
        assert_eq!(
            e.inputs,
            vec![MetricInput::External {
                values_milli: vec![100_000]
            }]
        );
        state.failures = e.failures;
        let ok = vec![MetricInput::Aggregated {
            value: 3.0,
            ready_replicas: 2,
        }];
        let e = evaluate(&s, None, &state, &ok, t);
        assert_eq!(e.failures, vec![0], "a success resets the count");
    }
}
