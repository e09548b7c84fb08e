//! Forecasting: models behind one trait pair, fitted once and updated sample by sample.
//!
//! | model | spec | what it captures |
//! | --- | --- | --- |
//! | seasonal naive | [`ModelSpec::SeasonalNaive`] | the value one period ago (period 1: the last value) |
//! | Holt–Winters | [`ModelSpec::HoltWinters`] | level, damped trend, additive season; α, β, γ, φ estimated by least squares (the Gaussian likelihood) with a bounded Nelder–Mead under a fixed evaluation budget |
//! | automatic | [`ModelSpec::Auto`] | detects the period ([`detect_period`]), fits both, and forecasts with the one whose recent one-step errors cost least under an asymmetric loss (under-forecasting weighs [`UNDER_FORECAST_WEIGHT`] times more, as under-provisioning does) |
//!
//! Every model gives prediction intervals at any level (normal quantiles from `statrs`). Inputs
//! must be finite; the predictive source fills gaps by repeating the last sample (see
//! `docs/forecasting.md`). The core has no clock, so the "time budget" of a refit is a budget of
//! likelihood evaluations.
//!
//! ```
//! use replicast::forecast::{Fit, ModelSpec, Predict};
//! let y: Vec<f64> = (0..400).map(|t| 10.0 + 3.0 * ((t % 24) as f64 / 24.0 * std::f64::consts::TAU).sin()).collect();
//! let model = ModelSpec::Auto { period: None, horizon: None }.fit(&y).unwrap();
//! let f = model.predict(24, 0.9).unwrap();
//! assert_eq!(f.point.len(), 24);
//! assert!((f.point[5] - y[5 + 400 - 24 * 16]).abs() < 0.5);
//! assert!(f.lower[0] <= f.point[0] && f.point[0] <= f.upper[0]);
//! ```

mod evaluate;
mod models;
mod optimize;
mod periods;

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

pub use evaluate::{Evaluation, HorizonScore, evaluate};
pub use models::{FittedHoltWinters, FittedSeasonalNaive, HoltWintersParams};
pub use periods::detect_period;

use crate::error::{Error, Result};

/// How much more an under-forecast costs than an over-forecast of the same size in the
/// automatic selection.
pub const UNDER_FORECAST_WEIGHT: f64 = 3.0;

/// A forecast with its prediction interval.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// Point forecasts, one per step ahead.
    pub point: Vec<f64>,
    /// Lower bounds of the central interval.
    pub lower: Vec<f64>,
    /// Upper bounds of the central interval.
    pub upper: Vec<f64>,
    /// The interval's coverage level, in (0, 1).
    pub level: f64,
}

impl Forecast {
    fn clear(&mut self, level: f64) {
        self.point.clear();
        self.lower.clear();
        self.upper.clear();
        self.level = level;
    }

    fn push(&mut self, point: f64, half_width: f64) {
        self.point.push(point);
        self.lower.push(point - half_width);
        self.upper.push(point + half_width);
    }
}

/// The standard normal quantile.
pub(crate) fn normal_quantile(p: f64) -> f64 {
    Normal::standard().inverse_cdf(p.clamp(1e-12, 1.0 - 1e-12))
}

/// An unfitted model description.
pub trait Fit {
    /// The fitted model.
    type Fitted: Predict;
    /// Fits to `y` (one sample per step, oldest first).
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] for non-finite values or too short a series.
    fn fit(&self, y: &[f64]) -> Result<Self::Fitted>;
}

/// A fitted model.
pub trait Predict {
    /// Writes `horizon` steps ahead with a central interval at `level` into `out`, reusing its
    /// buffers.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] for a level outside (0, 1).
    fn predict_into(&self, horizon: usize, level: f64, out: &mut Forecast) -> Result<()>;

    /// Absorbs one new sample without refitting (O(1)).
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] for a non-finite sample.
    fn update(&mut self, y: f64) -> Result<()>;

    /// `horizon` steps ahead with a central interval at `level`.
    ///
    /// # Errors
    /// As [`Predict::predict_into`].
    fn predict(&self, horizon: usize, level: f64) -> Result<Forecast> {
        let mut out = Forecast::default();
        self.predict_into(horizon, level, &mut out)?;
        Ok(out)
    }
}

/// Which model to fit.
///
/// ```
/// let spec: replicast::forecast::ModelSpec = serde_json::from_str(r#"{"kind": "holt_winters", "period": 24}"#).unwrap();
/// assert_eq!(spec, replicast::forecast::ModelSpec::HoltWinters { period: 24 });
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ModelSpec {
    /// The value one period ago.
    SeasonalNaive {
        /// Season length in samples (1: the last value).
        period: usize,
    },
    /// Additive Holt–Winters with a damped trend, parameters estimated.
    HoltWinters {
        /// Season length in samples (1: no season).
        period: usize,
    },
    /// Detect the period, fit the candidates, forecast with the best on recent errors.
    Auto {
        /// Season length in samples; `None` detects it.
        #[serde(default)]
        period: Option<usize>,
        /// Steps ahead at which candidates are compared (the lead the forecasts are for); default 1.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        horizon: Option<usize>,
    },
}

/// A fitted model of any kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FittedModel {
    /// Seasonal naive.
    SeasonalNaive(FittedSeasonalNaive),
    /// Holt–Winters.
    HoltWinters(FittedHoltWinters),
    /// The automatic selection.
    Auto(FittedAuto),
}

/// One candidate of the automatic model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Candidate {
    SeasonalNaive(FittedSeasonalNaive),
    HoltWinters(FittedHoltWinters),
}

impl Candidate {
    fn update(&mut self, y: f64) {
        match self {
            Candidate::SeasonalNaive(m) => m.update(y),
            Candidate::HoltWinters(m) => m.update(y),
        }
    }

    fn predict_into(&self, horizon: usize, level: f64, out: &mut Forecast) {
        match self {
            Candidate::SeasonalNaive(m) => m.predict_into(horizon, level, out),
            Candidate::HoltWinters(m) => m.predict_into(horizon, level, out),
        }
    }

    fn ahead(&self, horizon: usize) -> f64 {
        match self {
            Candidate::SeasonalNaive(m) => m.point_ahead(horizon),
            Candidate::HoltWinters(m) => m.point_ahead(horizon),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Candidate::SeasonalNaive(m) if m.period() > 1 => "seasonal_naive",
            Candidate::SeasonalNaive(_) => "naive",
            Candidate::HoltWinters(m) if m.period() > 1 => "holt_winters",
            Candidate::HoltWinters(_) => "holt_winters_nonseasonal",
        }
    }

    fn fit(kind: usize, y: &[f64], period: usize) -> Option<Candidate> {
        match kind {
            0 => FittedSeasonalNaive::fit(y, period)
                .ok()
                .map(Candidate::SeasonalNaive),
            1 => FittedSeasonalNaive::fit(y, 1)
                .ok()
                .map(Candidate::SeasonalNaive),
            2 => FittedHoltWinters::fit(y, period)
                .ok()
                .map(Candidate::HoltWinters),
            _ => FittedHoltWinters::fit(y, 1)
                .ok()
                .map(Candidate::HoltWinters),
        }
    }
}

/// The automatic model: seasonal naive, naive, Holt–Winters with and without the season,
/// updated together, each with an exponentially weighted asymmetric one-step loss; forecasts
/// come from the candidate with the smallest loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedAuto {
    period: usize,
    horizon: usize,
    candidates: Vec<Candidate>,
    losses: Vec<f64>,
    /// Per candidate, its forecasts `horizon` steps ahead not yet compared with the outcome.
    pending: Vec<VecDeque<f64>>,
}

/// Weight of the newest error in the rolling loss (about a 100-sample memory).
const LOSS_DECAY: f64 = 0.01;

fn asymmetric_loss(actual: f64, forecast: f64) -> f64 {
    let e = actual - forecast;
    if e > 0.0 {
        UNDER_FORECAST_WEIGHT * e
    } else {
        -e
    }
}

impl FittedAuto {
    /// The detected (or given) period in samples.
    #[must_use]
    pub fn period(&self) -> usize {
        self.period
    }

    fn best(&self) -> usize {
        self.losses
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i)
    }

    /// The name of the candidate currently used: `seasonal_naive`, `naive`, `holt_winters` or
    /// `holt_winters_nonseasonal`.
    #[must_use]
    pub fn selected(&self) -> &'static str {
        self.candidates
            .get(self.best())
            .map_or("naive", Candidate::name)
    }

    /// Scores a candidate's forecasts `horizon` steps ahead against `y` as it arrives, and
    /// returns the candidate having absorbed `y`.
    fn replay_loss(mut c: Candidate, y: &[f64], horizon: usize) -> (f64, Candidate) {
        let mut pending: VecDeque<f64> = VecDeque::with_capacity(horizon + 1);
        let (mut total, mut count) = (0.0, 0usize);
        for &v in y {
            pending.push_back(c.ahead(horizon));
            if pending.len() >= horizon
                && let Some(f) = pending.pop_front()
            {
                total += asymmetric_loss(v, f);
                count += 1;
            }
            c.update(v);
        }
        let loss = if count == 0 {
            f64::MAX
        } else {
            total / count as f64
        };
        (loss, c)
    }

    fn fit(y: &[f64], period: Option<usize>, horizon: usize) -> Result<Self> {
        let period = period.or_else(|| detect_period(y)).unwrap_or(1);
        let period = if y.len() > period { period } else { 1 };
        // score each candidate on the last stretch of the history, fitted on what came before
        let holdout = (y.len() / 5).clamp(1, 500);
        let (train, test) = y.split_at(y.len() - holdout);
        let mut candidates = Vec::new();
        let mut losses = Vec::new();
        let kinds: &[usize] = if period > 1 { &[0, 1, 2, 3] } else { &[1, 3] };
        for &kind in kinds {
            // fitted on the first four fifths, scored on the rest while absorbing it: the
            // result is a model of the whole history at the cost of one fit
            let Some(trained) = Candidate::fit(kind, train, period) else {
                continue;
            };
            let (loss, full) = Self::replay_loss(trained, test, horizon);
            candidates.push(full);
            losses.push(loss);
        }
        if candidates.is_empty() {
            return Err(Error::invalid_input(format!(
                "automatic forecasting needs at least 2 samples, got {}",
                y.len()
            )));
        }
        let pending = candidates
            .iter()
            .map(|c| (1..horizon).map(|h| c.ahead(h)).collect())
            .collect();
        Ok(Self {
            period,
            horizon,
            candidates,
            losses,
            pending,
        })
    }
}

impl Fit for ModelSpec {
    type Fitted = FittedModel;

    fn fit(&self, y: &[f64]) -> Result<FittedModel> {
        models::check_series(y)?;
        match *self {
            ModelSpec::SeasonalNaive { period } => {
                FittedSeasonalNaive::fit(y, period).map(FittedModel::SeasonalNaive)
            }
            ModelSpec::HoltWinters { period } => {
                FittedHoltWinters::fit(y, period).map(FittedModel::HoltWinters)
            }
            ModelSpec::Auto { period, horizon } => {
                FittedAuto::fit(y, period, horizon.unwrap_or(1).max(1)).map(FittedModel::Auto)
            }
        }
    }
}

impl Predict for FittedModel {
    fn predict_into(&self, horizon: usize, level: f64, out: &mut Forecast) -> Result<()> {
        models::check_level(level)?;
        match self {
            FittedModel::SeasonalNaive(m) => m.predict_into(horizon, level, out),
            FittedModel::HoltWinters(m) => m.predict_into(horizon, level, out),
            FittedModel::Auto(a) => {
                if let Some(c) = a.candidates.get(a.best()) {
                    c.predict_into(horizon, level, out);
                }
            }
        }
        Ok(())
    }

    fn update(&mut self, y: f64) -> Result<()> {
        if !y.is_finite() {
            return Err(Error::invalid_input(format!(
                "forecast sample must be finite, got {y}"
            )));
        }
        match self {
            FittedModel::SeasonalNaive(m) => m.update(y),
            FittedModel::HoltWinters(m) => m.update(y),
            FittedModel::Auto(a) => {
                let horizon = a.horizon;
                for ((c, loss), pending) in a
                    .candidates
                    .iter_mut()
                    .zip(&mut a.losses)
                    .zip(&mut a.pending)
                {
                    pending.push_back(c.ahead(horizon));
                    if pending.len() >= horizon
                        && let Some(f) = pending.pop_front()
                    {
                        *loss = (1.0 - LOSS_DECAY) * *loss + LOSS_DECAY * asymmetric_loss(y, f);
                    }
                    c.update(y);
                }
            }
        }
        Ok(())
    }
}
