//! The predictive source: forecast the load over the time a new replica needs to start and one
//! decision interval more, and propose the replicas that load needs at the target utilization —
//! so capacity is ready when the load arrives.
//!
//! - **Samples.** Each decision may carry `load` (the load of the last sample interval). Samples
//!   closer together than `sample_interval_s` are ignored after the first; a gap of several
//!   intervals is filled by repeating the last sample (at most one history length), so the model
//!   always sees a regular series. At most `history_s` of samples are kept.
//! - **Warm-up.** Silent until `warmup_samples` samples exist; the decision says how many are
//!   missing. The seasonal models join once two periods of history exist (refits are daily).
//! - **Forecast.** The automatic model ([`crate::forecast::Auto`]) is fitted at the end
//!   of warm-up, absorbs each sample in O(1), and is refitted every day of samples on the kept
//!   history, or earlier when its recent errors grow. When it does worse than repeating the last
//!   value it declines to forecast, and the decision says so. Lead = `startup_s + decision_interval_s`; the proposal is
//!   `ceil(max over the lead of the forecast's q-quantile / (capacity × target))`.
//! - **Modes.** `forecast_and_scale` joins the max of the sources, so by default it can only raise
//!   the reactive proposal; `forecast_only` reports the proposal without acting on it.
//! - **Max capacity.** The proposal is capped at `max_replicas + max_buffer_replicas` before the
//!   scaler's own bounds; with the default buffer 0 it honours `max_replicas`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::forecast::{Auto, Fit, FittedModel, Forecast, Predict, Update};
use crate::time::{Timestamp, secs_to_ms};

/// Settings of the predictive source.
///
/// | field | default | unit / range | meaning |
/// | --- | --- | --- | --- |
/// | `capacity_per_replica` | required | load units per sample interval, > 0 | load one replica serves at 100 % |
/// | `target_utilization` | 0.7 | (0, 1] | utilization to provision for |
/// | `startup_s` | 120 | s | from scale-up to serving |
/// | `decision_interval_s` | 15 | s | time between decisions |
/// | `sample_interval_s` | 60 | s, ≥ 1 | cadence of load samples |
/// | `quantile` | 0.9 | [0.5, 1) | provision to this quantile of the forecast |
/// | `mode` | `forecast_and_scale` | or `forecast_only` | act, or only report |
/// | `warmup_samples` | 60 | ≥ 10 | samples before the first forecast |
/// | `history_s` | 345600 (4 days) | s | history kept for refits |
/// | `max_buffer_replicas` | 0 | replicas | how far a forecast may go above `max_replicas` |
///
/// ```
/// let p: replicast::spec::PredictiveSpec = serde_json::from_str(r#"{"capacity_per_replica": 50}"#).unwrap();
/// assert_eq!(p.target_utilization, 0.7);
/// assert_eq!(p.quantile, 0.9);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictiveSpec {
    /// Load one replica serves per sample interval at 100 %.
    pub capacity_per_replica: f64,
    /// Utilization to provision for, in (0, 1].
    #[serde(default = "default_target")]
    pub target_utilization: f64,
    /// Start-up delay of a replica, seconds.
    #[serde(default = "default_startup")]
    pub startup_s: u32,
    /// Time between decisions, seconds.
    #[serde(default = "default_interval")]
    pub decision_interval_s: u32,
    /// Cadence of load samples, seconds.
    #[serde(default = "default_sample_interval")]
    pub sample_interval_s: u32,
    /// Quantile of the forecast to provision to.
    #[serde(default = "default_quantile")]
    pub quantile: f64,
    /// Act on the forecast, or only report it.
    #[serde(default)]
    pub mode: PredictiveMode,
    /// Samples before the first forecast.
    #[serde(default = "default_warmup")]
    pub warmup_samples: u32,
    /// Seconds of history kept.
    #[serde(default = "default_history")]
    pub history_s: u32,
    /// Replicas a forecast may ask for above `max_replicas`.
    #[serde(default)]
    pub max_buffer_replicas: u32,
}

fn default_target() -> f64 {
    0.7
}
fn default_startup() -> u32 {
    120
}
fn default_interval() -> u32 {
    15
}
fn default_sample_interval() -> u32 {
    60
}
fn default_quantile() -> f64 {
    0.9
}
fn default_warmup() -> u32 {
    60
}
fn default_history() -> u32 {
    4 * 86_400
}

/// Whether the predictive source acts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PredictiveMode {
    /// The proposal joins the max of the sources.
    #[default]
    ForecastAndScale,
    /// The proposal is reported in the decision only.
    ForecastOnly,
}

impl PredictiveSpec {
    /// Checks every value.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] naming the field, the value and the valid range.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, range: &str, value: String| {
            Err(Error::invalid_config(format!(
                "predictive.{field} must be {range}, got {value}"
            )))
        };
        if !(self.capacity_per_replica.is_finite() && self.capacity_per_replica > 0.0) {
            return bad(
                "capacity_per_replica",
                "a finite number > 0",
                self.capacity_per_replica.to_string(),
            );
        }
        if !(self.target_utilization > 0.0 && self.target_utilization <= 1.0) {
            return bad(
                "target_utilization",
                "in (0, 1]",
                self.target_utilization.to_string(),
            );
        }
        if !(self.quantile >= 0.5 && self.quantile < 1.0) {
            return bad("quantile", "in [0.5, 1)", self.quantile.to_string());
        }
        if self.sample_interval_s == 0 {
            return bad("sample_interval_s", ">= 1", "0".to_owned());
        }
        if self.warmup_samples < 10 {
            return bad("warmup_samples", ">= 10", self.warmup_samples.to_string());
        }
        if self.history_s < self.sample_interval_s.saturating_mul(self.warmup_samples) {
            return bad(
                "history_s",
                "at least warmup_samples × sample_interval_s",
                self.history_s.to_string(),
            );
        }
        Ok(())
    }

    fn capacity_samples(&self) -> usize {
        (self.history_s / self.sample_interval_s).max(self.warmup_samples) as usize
    }

    fn lead_steps(&self) -> usize {
        let lead = u64::from(self.startup_s) + u64::from(self.decision_interval_s);
        usize::try_from(lead.div_ceil(u64::from(self.sample_interval_s)))
            .unwrap_or(1)
            .max(1)
    }

    fn refit_every(&self) -> u32 {
        (86_400 / self.sample_interval_s).max(24)
    }
}

/// Likelihood evaluations allowed per refit of the predictive source's model (the default of
/// [`Auto`] is larger; a refit here runs inside a `decide` call once a day per workload).
const PREDICTIVE_REFIT_EVALS: usize = 120;

/// What the predictive source remembers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PredictiveState {
    /// Load samples, oldest first (at most `history_s` of them).
    history: Vec<f64>,
    last_sample_ms: Option<Timestamp>,
    model: Option<FittedModel>,
    samples_since_fit: u32,
}

/// The predictive proposal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PredictiveProposal {
    pub replicas: Option<u32>,
    pub reason: String,
    pub acts: bool,
}

fn check_load(load: f64) -> Result<()> {
    if load.is_finite() && load >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "load must be a finite number >= 0, got {load}"
        )))
    }
}

/// Validates what [`record`] would reject, so that `decide` fails before it changes anything.
pub(crate) fn check_input(load: Option<f64>) -> Result<()> {
    load.map_or(Ok(()), check_load)
}

/// Adds the sample (filling gaps) and keeps the model current.
pub(crate) fn record(
    spec: &PredictiveSpec,
    state: &mut PredictiveState,
    now_ms: Timestamp,
    load: f64,
) {
    let interval_ms = secs_to_ms(i64::from(spec.sample_interval_s));
    let missing = match state.last_sample_ms {
        None => 0,
        Some(last) if now_ms - last < interval_ms => return,
        // a gap of k intervals: k − 1 samples were never seen; repeat the last one
        Some(last) => usize::try_from((now_ms - last) / interval_ms - 1).unwrap_or(0),
    };
    let cap = spec.capacity_samples();
    let fill = state.history.last().copied().unwrap_or(load);
    for value in std::iter::repeat_n(fill, missing.min(cap)).chain(std::iter::once(load)) {
        state.history.push(value);
        if let Some(model) = &mut state.model {
            // finite by construction (checked loads), so the update cannot fail
            let _ = model.update(value);
        }
        state.samples_since_fit = state.samples_since_fit.saturating_add(1);
    }
    // trimmed in batches (up to a quarter over), so that a full history is not shifted on every sample
    if state.history.len() > cap + cap / 4 {
        let excess = state.history.len() - cap;
        state.history.drain(..excess);
    }
    state.last_sample_ms = Some(now_ms);
    let due = match &state.model {
        None => true,
        // on schedule, or earlier when the model's recent errors have grown
        Some(FittedModel::Auto(auto)) => {
            auto.needs_refit() || state.samples_since_fit >= spec.refit_every()
        }
        Some(_) => state.samples_since_fit >= spec.refit_every(),
    };
    if due && state.history.len() >= spec.warmup_samples as usize {
        let model = Auto {
            step_s: u64::from(spec.sample_interval_s),
            horizon: spec.lead_steps(),
            refit_every: spec.refit_every() as usize,
            // a smaller likelihood budget than the default: this refit runs inside a decision
            max_evals: PREDICTIVE_REFIT_EVALS,
            ..Auto::default()
        };
        let recent = &state.history[state.history.len().saturating_sub(cap)..];
        if let Ok(fitted) = model.fit(recent) {
            state.model = Some(FittedModel::Auto(fitted));
            state.samples_since_fit = 0;
        }
    }
}

/// The proposal for the next lead: silent during warm-up.
pub(crate) fn propose(
    spec: &PredictiveSpec,
    state: &PredictiveState,
    max_replicas: u32,
) -> PredictiveProposal {
    let acts = spec.mode == PredictiveMode::ForecastAndScale;
    let Some(model) = &state.model else {
        let have = state.history.len();
        return PredictiveProposal {
            replicas: None,
            reason: format!("warming up: {have} of {} load samples", spec.warmup_samples),
            acts,
        };
    };
    let steps = spec.lead_steps();
    let mut forecast = Forecast::default();
    let level = 2.0 * spec.quantile - 1.0;
    // a model that declines to forecast (worse than repeating the last value) leaves the
    // decision to the reactive sources
    let peak = if level > 0.0 {
        model
            .predict_into(steps, Some(level), &mut forecast)
            .ok()
            .and(forecast.intervals.as_ref())
            .and_then(|i| i.upper.iter().copied().reduce(f64::max))
    } else {
        model
            .predict_into(steps, None, &mut forecast)
            .ok()
            .and_then(|()| forecast.point.iter().copied().reduce(f64::max))
    };
    let Some(peak) = peak.filter(|p| p.is_finite()) else {
        return PredictiveProposal {
            replicas: None,
            reason: "no forecast: the model does worse than repeating the last value".to_owned(),
            acts,
        };
    };
    let peak = peak.max(0.0);
    let needed = (peak / (spec.capacity_per_replica * spec.target_utilization)).ceil();
    let cap = max_replicas.saturating_add(spec.max_buffer_replicas);
    let replicas = if needed >= f64::from(cap) {
        cap
    } else {
        needed as u32
    };
    PredictiveProposal {
        replicas: Some(replicas),
        reason: format!(
            "q{:.0} load forecast over the next {} s peaks at {peak:.3}: {replicas} replicas at {:.0} % of {} each",
            spec.quantile * 100.0,
            u64::try_from(steps).unwrap_or(0) * u64::from(spec.sample_interval_s),
            spec.target_utilization * 100.0,
            spec.capacity_per_replica
        ),
        acts,
    }
}
