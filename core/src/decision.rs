//! What goes into and comes out of one decision.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::scaler::VerticalDecision;
use crate::source::hpa::{Condition, MetricInput, Pod};
use crate::source::keda::KedaStatus;
use crate::source::kpa::{KpaDecision, KpaObservation};
use crate::time::Timestamp;
use crate::vpa::{ContainerResources, ContainerUsage};

/// Everything observed for one workload at one instant.
///
/// | field | meaning |
/// | --- | --- |
/// | `now_ms` | the decision instant; must not go back in time between decisions on one state |
/// | `current_replicas` | the target's desired replicas now (`scale.spec.replicas`) |
/// | `status_replicas` | replicas that exist (`scale.status.replicas`); defaults to `current_replicas` |
/// | `ready_replicas` | running and ready pods, when `pods` is not given (used by Object/External `value` targets) |
/// | `pods` | per-pod state, for Kubernetes-exact pod handling; optional when every metric input is aggregated |
/// | `metrics` | one [`MetricInput`] per `hpa.metrics` entry (or per `keda.triggers` entry), in the same order |
/// | `load` | the mean load since `load_since_ms` (or over the last sample interval), for the predictive source |
/// | `load_since_ms` | where the window of `load` starts; absent: one `sample_interval_s` before `now_ms` |
/// | `load_samples` | instead of `load`: the load samples since the previous decision ([`LoadSamples`]) |
/// | `signals` | named values for the threshold source (`cpu`, `memory`, `inference_queue_depth`, ...) |
/// | `healthy` | the caller's health check; `Some(false)` blocks scale-down |
/// | `kpa` | the KPA source's samples (revision-wide totals) or stable/panic averages ([`KpaObservation`]) |
/// | `container_usage` | per-container CPU / memory usage samples and OOM events, for the vertical recommender ([`ContainerUsage`]) |
/// | `container_resources` | the pod's current requests and limits per container ([`ContainerResources`]) |
///
/// ```
/// use replicast::DecisionInput;
/// let input: DecisionInput = serde_json::from_str(r#"{
///     "now_ms": 1700000000000, "current_replicas": 3,
///     "metrics": [{"kind": "aggregated", "value": 90.0, "ready_replicas": 3}]
/// }"#).unwrap();
/// assert_eq!(input.current_replicas, 3);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// The decision instant.
    pub now_ms: Timestamp,
    /// The target's current desired replicas.
    pub current_replicas: u32,
    /// Replicas that currently exist; defaults to `current_replicas`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_replicas: Option<u32>,
    /// Ready pods, for callers that do not pass `pods`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_replicas: Option<u32>,
    /// Per-pod state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pods: Option<Vec<Pod>>,
    /// One input per HPA metric, in spec order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<MetricInput>,
    /// The mean load over `load_since_ms..now_ms` (without `load_since_ms`: over the predictive
    /// source's last sample interval), in the units of its `capacity_per_replica`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<f64>,
    /// Where the window `load` is the mean of starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_since_ms: Option<Timestamp>,
    /// Instead of `load`: the load samples since the previous decision, ending at `now_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_samples: Option<LoadSamples>,
    /// Named signals for the threshold source.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub signals: BTreeMap<String, f64>,
    /// The caller's health check (`Some(false)` blocks scale-down).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy: Option<bool>,
    /// The KPA source's samples or averages since the previous decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kpa: Option<KpaObservation>,
    /// Per-container usage samples for the vertical recommender.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub container_usage: Vec<ContainerUsage>,
    /// The pod's current requests and limits per container (the vertical recommender's
    /// limits and coordination with the HPA's utilization need them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub container_resources: Vec<ContainerResources>,
}

impl DecisionInput {
    /// Parses an observation from JSON (the serde form above); every binding reads its JSON
    /// inputs through this, so a malformed one gets the same message everywhere.
    ///
    /// ```
    /// use replicast::{DecisionInput, ErrorKind};
    /// let err = DecisionInput::from_json(r#"{"now_ms": 1, "current_replicas": -1}"#).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput);
    /// assert!(err.message().starts_with("invalid decision input: "));
    /// ```
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] for malformed JSON, an unknown field or a value of the
    /// wrong type or range (a negative replica count), with serde's line and column.
    pub fn from_json(text: &str) -> crate::Result<Self> {
        serde_json::from_str(text).map_err(|e| {
            crate::Error::invalid_input(format!(
                "invalid decision input: {}",
                crate::error::located(text, &e)
            ))
        })
    }
}

/// Load samples that end at the decision instant, evenly spaced `step_ms` apart: with `n`
/// values, `values[i]` is the mean load over the `step_ms` that end `(n − 1 − i) × step_ms`
/// before `now_ms` (what a range query over the time since the previous decision returns). The
/// predictive source averages them into its own `sample_interval_s`; the parts it has seen
/// before count once.
///
/// ```
/// use replicast::{DecisionInput, LoadSamples};
/// // 15 one-second samples since the decision 15 s ago
/// let input = DecisionInput {
///     now_ms: 1_700_000_015_000,
///     load_samples: Some(LoadSamples { step_ms: 1_000, values: vec![40.0; 15] }),
///     ..DecisionInput::default()
/// };
/// assert_eq!(input.load_samples.unwrap().values.len(), 15);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadSamples {
    /// Spacing of the samples, and the time each covers, ms (≥ 1).
    pub step_ms: i64,
    /// The samples, oldest first; the last one ends at `now_ms`.
    pub values: Vec<f64>,
}

/// Which source made a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A Kubernetes HPA metric.
    Hpa,
    /// The threshold bands.
    Threshold,
    /// The load forecast.
    Predictive,
    /// A KEDA trigger (or the composite metric of its formula).
    Keda,
    /// Knative's KPA decider.
    Kpa,
}

/// One source's proposal (one per HPA metric, one for the threshold source).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// Which source.
    pub source: SourceKind,
    /// What it looked at (`cpu resource utilization`, `threshold bands`).
    pub name: String,
    /// The proposed replicas; `None` when the source failed.
    pub replicas: Option<u32>,
    /// Why: the observed value against the target, or the failure.
    pub reason: String,
}

/// The stage of the pipeline that changed the replica count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The target was outside `[min, max]` (or at zero with scaling disabled): no metrics read.
    Bounds,
    /// The proposals were combined (max).
    Combine,
    /// A failed metric blocked the change.
    MetricFailure,
    /// Stabilization windows held the change back.
    Stabilization,
    /// Rate-limit policies (or the legacy scale-up cap) limited the change.
    RateLimit,
    /// `min_replicas` / `max_replicas` clamped the value.
    MinMax,
    /// A cooldown held the change back.
    Cooldown,
    /// Scale-to-zero rules raised the value.
    ScaleFromZero,
    /// KEDA's activation loop: from zero (or idle) when active, to zero (or idle) after the
    /// cooldown.
    Activation,
    /// Knative's panic mode: the panic window's larger value, or no scale-down while panicking.
    Panic,
    /// Knative's scale-down delay kept a recent larger value.
    ScaleDownDelay,
    /// Knative's scale-to-zero rules (grace period, pod retention, the last pod kept while
    /// active for less than a stable window).
    ScaleToZero,
}

/// One step that changed the value, in pipeline order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The stage.
    pub stage: Stage,
    /// The value before this step.
    pub from: u32,
    /// The value after this step.
    pub to: u32,
    /// Why.
    pub reason: String,
}

/// The outcome of one decision: the replicas to run and why.
///
/// `replicas` equals `current_replicas` unless `rescale` is true. `steps` lists, in order,
/// every stage that changed the value; `conditions` are the Kubernetes HPA status conditions
/// for this decision; `errors` lists metrics that failed (a Kubernetes sync would return an
/// error, yet may still scale up on the metrics that worked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Replicas to run.
    pub replicas: u32,
    /// Replicas before this decision.
    pub current_replicas: u32,
    /// Whether `replicas != current_replicas`.
    pub rescale: bool,
    /// Each source's proposal.
    pub proposals: Vec<Proposal>,
    /// The stages that changed the value.
    pub steps: Vec<Step>,
    /// Kubernetes HPA status conditions.
    pub conditions: Vec<Condition>,
    /// Failed metrics, by message.
    pub errors: Vec<String>,
    /// KEDA's view: activity, fallback, the formula's value, each trigger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keda: Option<KedaStatus>,
    /// The KPA's decider and reconciler outcomes: averages, panic, excess burst capacity,
    /// ServerlessService mode, activators, what the scale-to-zero rules wait for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kpa: Option<KpaDecision>,
    /// The vertical recommendation and the requests to apply with this replica count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vertical: Option<VerticalDecision>,
}

impl Decision {
    /// A decision that holds `current` replicas and explains nothing yet.
    pub(crate) fn blank(current: u32) -> Self {
        Self {
            replicas: current,
            current_replicas: current,
            rescale: false,
            proposals: Vec::new(),
            steps: Vec::new(),
            conditions: Vec::new(),
            errors: Vec::new(),
            keda: None,
            kpa: None,
            vertical: None,
        }
    }

    /// Back to [`Decision::blank`], keeping the lists' buffers (a replay reuses one decision).
    pub(crate) fn reset(&mut self, current: u32) {
        self.replicas = current;
        self.current_replicas = current;
        self.rescale = false;
        self.proposals.clear();
        self.steps.clear();
        self.conditions.clear();
        self.errors.clear();
        self.keda = None;
        self.kpa = None;
        self.vertical = None;
    }
}

impl fmt::Display for Decision {
    /// A multi-line human summary: the verdict, each proposal, each step, each condition.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rescale {
            writeln!(f, "scale {} -> {}", self.current_replicas, self.replicas)?;
        } else {
            writeln!(f, "hold at {}", self.replicas)?;
        }
        for p in &self.proposals {
            let replicas = p.replicas.map_or_else(|| "-".to_owned(), |r| r.to_string());
            writeln!(
                f,
                "  proposal {:?} {}: {} ({})",
                p.source, p.name, replicas, p.reason
            )?;
        }
        for s in &self.steps {
            writeln!(
                f,
                "  step {:?}: {} -> {} ({})",
                s.stage, s.from, s.to, s.reason
            )?;
        }
        for c in &self.conditions {
            writeln!(
                f,
                "  condition {:?}={} {}{}{}",
                c.kind,
                if c.status { "True" } else { "False" },
                c.reason,
                if c.message.is_empty() { "" } else { ": " },
                c.message
            )?;
        }
        for e in &self.errors {
            writeln!(f, "  error: {e}")?;
        }
        if let Some(k) = &self.keda {
            write!(
                f,
                "  keda: {}{}{}",
                if k.active { "active" } else { "inactive" },
                if k.error { ", a trigger failed" } else { "" },
                if k.fallback { ", fallback served" } else { "" }
            )?;
            if let Some(c) = k.composite_value {
                write!(f, ", composite {c}")?;
            }
            writeln!(f)?;
            for t in &k.triggers {
                let value = t.value.map_or_else(|| "-".to_owned(), |v| v.to_string());
                writeln!(
                    f,
                    "    trigger {}: {value}{}{} (failures {})",
                    t.name,
                    if t.active { ", active" } else { "" },
                    if t.fallback { ", fallback" } else { "" },
                    t.failures
                )?;
            }
            for note in &k.notes {
                writeln!(f, "    {note}")?;
            }
        }
        if let Some(kpa) = &self.kpa {
            let scale = &kpa.scale;
            write!(
                f,
                "  kpa: {}",
                if scale.panicking {
                    "panicking"
                } else {
                    "stable"
                }
            )?;
            if let Some(ebc) = scale.excess_burst_capacity {
                write!(f, ", excess burst capacity {ebc}")?;
            }
            if let Some(r) = &kpa.reconcile {
                write!(f, ", want {}, activators {}", r.want, r.activators)?;
                if let Some(waiting) = &r.waiting {
                    write!(f, ", waiting: {waiting}")?;
                }
            }
            writeln!(f)?;
        }
        if let Some(v) = &self.vertical {
            for c in &v.apply {
                let show = |r: &crate::vpa::Resources| {
                    format!(
                        "cpu {}, memory {}",
                        r.cpu_millicores
                            .map_or_else(|| "-".to_owned(), |m| format!("{m}m")),
                        r.memory_bytes
                            .map_or_else(|| "-".to_owned(), |b| format!("{b} B"))
                    )
                };
                writeln!(
                    f,
                    "  resize {}: requests {}; limits {}",
                    c.container,
                    show(&c.requests),
                    show(&c.limits)
                )?;
            }
            if v.apply.is_empty() {
                writeln!(f, "  vertical: no change")?;
            }
            for note in &v.notes {
                writeln!(f, "    {note}")?;
            }
        }
        Ok(())
    }
}
