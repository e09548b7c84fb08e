//! Automatic model choice: detect periods, fit a few candidates on the older part of the series,
//! roll them through the recent part scoring an asymmetric loss, keep the best.

use std::cell::RefCell;

use serde::{Deserialize, Serialize};

use super::ets::{Ets, FittedEts, SeasonType};
use super::multi_seasonal::{FittedMultiSeasonal, MultiSeasonal};
use super::period::{DEFAULT_MIN_ACF, PeriodConfig, calendar_season, detect_periods};
use super::regression::{FittedRegression, Regression};
use super::seasonal_naive::{FittedSeasonalNaive, SeasonalNaive};
use super::{Fit, Forecast, Predict, Update, check_series, check_value, stats};
use crate::error::{Error, Result};

/// Automatic selection spec.
///
/// | field | default | unit/range | meaning |
/// |---|---|---|---|
/// | `step_s` | 60 | seconds, >= 1 | sampling step (places the calendar periods for detection) |
/// | `periods` | detect | steps | season lengths to use; empty = non-seasonal; absent = [`detect_periods`] |
/// | `horizon` | 5 | steps, >= 1 | the selection loss averages steps `1..=horizon` ahead |
/// | `under_weight` | 2.0 | >= 1 | cost of under-prediction relative to over-prediction |
/// | `holdout` | 0.25 | (0, 0.5] | share of the series used for out-of-sample scoring |
/// | `max_evals` | 300 | >= 30 | work budget: ETS likelihood evaluations per fit, all candidates |
/// | `no_forecast_margin` | 0.05 | >= 0 | no forecast when the best candidate loses to persistence by more |
/// | `refit_every` | 1440 | steps, 0 = never | [`FittedAuto::needs_refit`] after this many updates |
/// | `degrade_ratio` | 1.5 | > 1 | [`FittedAuto::needs_refit`] when the recent one-step error exceeds the validation error by this factor |
/// | `outlier_k` | 0 (off) | 0, or >= 2 | clip an update whose one-step error exceeds this many mean absolute errors (below) |
/// | `min_acf` | 0.2 | (0, 1) | least autocorrelation at a detected period ([`PeriodConfig::min_acf`]; unused with `periods` given) |
/// | `long_history_margin` | 0.1 | finite, >= 0 | share by which the regression and multi-seasonal candidates' validation loss is raised before they compete |
/// | `combination_weight` | 0.25 | (0, 1) | weight of the seasonal member in [`Candidate::Combined`] (the non-seasonal ETS has the rest) |
/// | `correction_lags` | 1 | 1 or 2 | latest one-step errors the error correction regresses on |
/// | `correction_mean_weights` | [0.05, 0.1, 0.2, 0.4] | each in (0, 1]; empty = no mean term | weights (on the newest error) of the error mean the correction may add; each series takes the best one, or none |
///
/// The last five are constants chosen on the shared traces; they are fields so that
/// `replicast forecast-eval --auto KEY=VALUE` can judge each value out of sample (leave one
/// trace out: `scripts/forecast_loto.py`, docs/forecasting.md). The defaults are the chosen
/// values; change them only with that script's evidence.
///
/// **Outliers** (`outlier_k > 0`): an update whose one-step error `e = y - ŷ` exceeds
/// `outlier_k · s`, where `s` is the model's recent mean absolute one-step error, reaches the
/// chosen model as `ŷ ± outlier_k · s` (winsorised), so one wild sample (a scrape glitch, a
/// counter reset) cannot drag the level and the forecasts after it. A **second consecutive**
/// exceedance in the same direction is taken as a level shift: it reaches the model unclipped
/// (the load really moved; the model lags one step at most), and its error counts in `s` and in
/// [`FittedAuto::needs_refit`]'s degradation test. Off by default: on the shared traces (whose
/// spikes are mostly real load) it moved the median 5-minute relMAE 0.451 → 0.458 at `k = 4`
/// and 0.457 at `k = 6`, and no value of it is better out of sample (docs/forecasting.md,
/// `scripts/forecast_loto.py`); turn it on for metrics with isolated glitches. The fit itself sees the raw history; the selection loss penalises
/// candidates that outliers derail.
///
/// Candidates, cheapest first: seasonal naive at the strongest period (naive if none); when the
/// periods are detected, also seasonal naive at the calendar season (one day if the series holds
/// two days, else one hour: the baseline of [`super::evaluate`]), so that the choice is never worse
/// than that baseline on the validation part; ETS without season (`AICc` over error/trend forms);
/// ETS with additive or multiplicative season at the strongest period; on long seasonal histories
/// also [`super::Regression`] (lags `1, 2, 3` and `p-1, p, p+1` of the strongest period, calendar
/// terms; needs a period and 300 training samples beyond its longest lag) and
/// [`super::MultiSeasonal`] (every detected period with two cycles in the training part, when
/// there are two such periods or more; its
/// remainder's ETS gets a fifth of `max_evals`, taken before the seasonal ETS candidate's share).
/// These two have many parameters: their validation loss is raised by 10 %
/// (`long_history_margin`) before the comparison
/// (and reported so by [`FittedAuto::losses`]). Each is fitted on the first `1 - holdout` of the
/// series and updated through the rest, forecasting `horizon` steps at every origin; the loss is
/// `Σ w·|y - ŷ|` with `w = under_weight` when `y > ŷ`. One more candidate is scored from those
/// forecasts without fitting anything: [`Candidate::Combined`], the weighted mean of the
/// non-seasonal ETS (3/4) and the best of the seasonal ETS, regression and multi-seasonal
/// candidates (1/4, `combination_weight`): the level of the one, the shape of the other; no
/// margin. The winner's form
/// is refitted on the whole series (warm-started from the training part's parameters, with a
/// tenth of `max_evals`); a combination keeps its members as validated. The winner then gets an
/// **error correction** when it lowers its validation loss: a term on its own latest one-step
/// error and on an exponentially weighted mean of those errors (the weight chosen per series,
/// or no mean), fitted by least squares per step ahead on the validation part, that carries
/// forward the share of a miss that persisted there (a level the model lags, a day running
/// above the usual one); point and bounds move together, and each update records the new error
/// (O(1)). Its intervals are then **calibrated** on the same validation errors: per step ahead,
/// quantiles of the errors relative to the model's 90 % half-width rescale the model's interval
/// at every level (never below half its width; the normal shape kept above 90 %). If the
/// winner's loss (corrected) exceeds persistence's (naive, period 1) by more than
/// `no_forecast_margin`, the fitted model declines to forecast (a predictive source then stays
/// silent and the reactive policy decides). When the work budget runs out, the seasonal ETS
/// candidate is skipped (cheaper model).
///
/// ```
/// use replicast::forecast::{Auto, Fit, Predict};
/// let y: Vec<f64> = (0..2000).map(|t| 100.0 + 20.0 * ((t % 60) as f64 / 60.0 * 6.283).sin()).collect();
/// let m = Auto::default().fit(&y).unwrap();
/// let fc = m.predict(5, 0.9).unwrap();
/// let want = 100.0 + 20.0 * ((2000 % 60) as f64 / 60.0 * 6.283).sin();
/// assert!((fc.point[0] - want).abs() < 3.0, "{:?}", fc.point);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Auto {
    /// Sampling step in seconds.
    pub step_s: u64,
    /// Season lengths in steps; `None` = detect.
    pub periods: Option<Vec<usize>>,
    /// Steps ahead scored by the selection loss.
    pub horizon: usize,
    /// Weight of under-prediction errors (over-prediction weighs 1).
    pub under_weight: f64,
    /// Share of the series held out for scoring.
    pub holdout: f64,
    /// ETS likelihood evaluations allowed in one fit.
    pub max_evals: usize,
    /// Relative margin by which the winner may lose to persistence before "no forecast".
    pub no_forecast_margin: f64,
    /// Updates after which a refit is due (0 = no schedule).
    pub refit_every: usize,
    /// Error growth that makes a refit due.
    pub degrade_ratio: f64,
    /// Outlier threshold in recent mean absolute errors (0 = no clipping).
    pub outlier_k: f64,
    /// Least autocorrelation at a detected period (the detection's [`PeriodConfig::min_acf`]).
    pub min_acf: f64,
    /// Share by which the regression and multi-seasonal candidates' validation loss is raised
    /// before they compete (they have many parameters; one validation day is a noisy judge).
    pub long_history_margin: f64,
    /// Weight of the seasonal member in [`Candidate::Combined`].
    pub combination_weight: f64,
    /// Latest one-step errors (1 or 2) the error correction regresses on.
    pub correction_lags: usize,
    /// Weights of the error mean the correction may add as a regressor (empty: none).
    pub correction_mean_weights: Vec<f64>,
}

impl Default for Auto {
    fn default() -> Self {
        Self {
            step_s: 60,
            periods: None,
            horizon: 5,
            under_weight: 2.0,
            holdout: 0.25,
            max_evals: 300,
            no_forecast_margin: 0.05,
            refit_every: 1440,
            degrade_ratio: 1.5,
            outlier_k: 0.0,
            min_acf: DEFAULT_MIN_ACF,
            long_history_margin: LONG_HISTORY_MARGIN,
            combination_weight: COMBINATION_WEIGHT,
            correction_lags: CORRECTION_ESTIMATED_LAGS,
            correction_mean_weights: CORRECTION_MEAN_WEIGHTS.to_vec(),
        }
    }
}

/// Which candidate [`Auto`] chose.
///
/// ```
/// use replicast::forecast::Candidate;
/// assert_eq!(serde_json::to_string(&Candidate::EtsSeasonal).unwrap(), "\"ets_seasonal\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Candidate {
    /// Seasonal naive (naive when no period).
    SeasonalNaive,
    /// ETS without season.
    Ets,
    /// ETS with a season.
    EtsSeasonal,
    /// [`super::Regression`] on lags and calendar terms.
    Regression,
    /// [`super::MultiSeasonal`]: seasonal profiles plus ETS on the remainder.
    MultiSeasonal,
    /// The weighted mean (3/4, 1/4) of the non-seasonal ETS and one seasonal candidate
    /// ([`Candidate::EtsSeasonal`], [`Candidate::Regression`] or [`Candidate::MultiSeasonal`]):
    /// the level of the one, the daily shape of the other ([`FittedAuto::combined_members`]).
    Combined,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Chosen {
    SeasonalNaive(FittedSeasonalNaive),
    Ets(FittedEts),
    Regression(FittedRegression),
    MultiSeasonal(FittedMultiSeasonal),
    /// The weighted mean of the non-seasonal ETS (`level`) and a seasonal model; never nested.
    Combined {
        level: Box<Chosen>,
        seasonal: Box<Chosen>,
        /// The seasonal member's weight (snapshots from before it had equal weights).
        #[serde(default = "equal_weight")]
        weight: f64,
    },
}

/// The combination's weight in snapshots from before it was a field.
fn equal_weight() -> f64 {
    0.5
}

thread_local! {
    /// The seasonal member's forecast while a combination averages it in (no allocation per
    /// forecast once warm; members are never combinations, so there is no re-entry).
    static MEMBER_FORECAST: RefCell<Forecast> = RefCell::new(Forecast::default());
    /// `FittedAuto::one_step`'s forecast (a model's `predict_into` never reaches it).
    static ONE_STEP: RefCell<Forecast> = RefCell::new(Forecast::default());
}

impl Chosen {
    /// The structure of a restored model: each member's, and a combination of two single
    /// models (never nested).
    fn check_restored(&self) -> Result<()> {
        match self {
            Chosen::SeasonalNaive(m) => m.check_restored(),
            Chosen::Ets(m) => m.check_restored(),
            Chosen::Regression(m) => m.check_restored(),
            Chosen::MultiSeasonal(m) => m.check_restored(),
            Chosen::Combined {
                level, seasonal, ..
            } => {
                if matches!(**level, Chosen::Combined { .. })
                    || matches!(**seasonal, Chosen::Combined { .. })
                {
                    return Err(Error::serialization(
                        "a combined model's members must be single models, got a combination",
                    ));
                }
                level.check_restored()?;
                seasonal.check_restored()
            }
        }
    }

    /// Which candidate this model is (a seasonal ETS has a season).
    fn candidate_kind(&self) -> Candidate {
        match self {
            Chosen::SeasonalNaive(_) => Candidate::SeasonalNaive,
            Chosen::Ets(m) if m.components().2 == SeasonType::None => Candidate::Ets,
            Chosen::Ets(_) => Candidate::EtsSeasonal,
            Chosen::Regression(_) => Candidate::Regression,
            Chosen::MultiSeasonal(_) => Candidate::MultiSeasonal,
            Chosen::Combined { .. } => Candidate::Combined,
        }
    }

    fn predict_into(&self, horizon: usize, level: Option<f64>, out: &mut Forecast) -> Result<()> {
        let Chosen::Combined {
            level: level_model,
            seasonal,
            weight,
        } = self
        else {
            return self.as_predict().predict_into_dyn(horizon, level, out);
        };
        level_model.predict_into(horizon, level, out)?;
        MEMBER_FORECAST.with(|cell| {
            let mut other = cell.borrow_mut();
            seasonal.predict_into(horizon, level, &mut other)?;
            let w = *weight;
            let mean = |a: &mut f64, b: f64| *a = (1.0 - w) * *a + w * b;
            for (a, &b) in out.point.iter_mut().zip(&other.point) {
                mean(a, b);
            }
            // Averaged quantiles (both members' bounds at the same level): still ordered and
            // nested across levels, as each member's are.
            if let (Some(mine), Some(theirs)) = (&mut out.intervals, &other.intervals) {
                for (a, &b) in mine.lower.iter_mut().zip(&theirs.lower) {
                    mean(a, b);
                }
                for (a, &b) in mine.upper.iter_mut().zip(&theirs.upper) {
                    mean(a, b);
                }
            }
            Ok(())
        })
    }

    fn as_predict(&self) -> &dyn PredictDyn {
        match self {
            Chosen::SeasonalNaive(m) => m,
            Chosen::Ets(m) => m,
            Chosen::Regression(m) => m,
            Chosen::MultiSeasonal(m) => m,
            // `predict_into` averages the members before reaching here
            Chosen::Combined { level, .. } => level.as_predict(),
        }
    }

    fn update(&mut self, y: f64) -> Result<()> {
        match self {
            Chosen::SeasonalNaive(m) => m.update(y),
            Chosen::Ets(m) => m.update(y),
            Chosen::Regression(m) => m.update(y),
            Chosen::MultiSeasonal(m) => m.update(y),
            Chosen::Combined {
                level, seasonal, ..
            } => {
                // the level member refuses before anything changed (multiplicative state)
                let before = (**level).clone();
                level.update(y)?;
                seasonal.update(y).inspect_err(|_| **level = before)
            }
        }
    }
}

/// Object-safe view of `Predict` (the public trait has a generic provided method).
trait PredictDyn {
    fn predict_into_dyn(
        &self,
        horizon: usize,
        level: Option<f64>,
        out: &mut Forecast,
    ) -> Result<()>;
}

impl<T: Predict> PredictDyn for T {
    fn predict_into_dyn(
        &self,
        horizon: usize,
        level: Option<f64>,
        out: &mut Forecast,
    ) -> Result<()> {
        self.predict_into(horizon, level, out)
    }
}

/// A fitted [`Auto`]: the chosen model (or none), plus what is needed to tell when to refit.
///
/// ```
/// use replicast::forecast::{Auto, Fit, Predict, Update};
/// let y: Vec<f64> = (0..400).map(|t| 10.0 + (t % 7) as f64).collect();
/// let mut m = Auto { step_s: 3600, ..Auto::default() }.fit(&y).unwrap();
/// m.update(12.0).unwrap();
/// assert_eq!(m.n_obs(), 401);
/// assert!(!m.needs_refit());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedAuto {
    chosen: Option<Chosen>,
    candidate: Option<Candidate>,
    period: usize,
    losses: Vec<(Candidate, f64)>,
    persistence_loss: f64,
    n: usize,
    since_fit: usize,
    refit_every: usize,
    degrade_ratio: f64,
    baseline_abs_err: f64,
    recent_abs_err: f64,
    evals: usize,
    // Defaults keep snapshots from before the outlier policy readable (clipping off).
    #[serde(default)]
    outlier_k: f64,
    /// Direction of the last clipped update (+1 / -1), 0 when the last update was not clipped.
    #[serde(default)]
    outlier_run: f64,
    /// `None` when the correction did not lower the validation loss (and in snapshots from
    /// before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    correction: Option<Box<ErrorCorrection>>,
    /// `None` with too few validation origins (and in snapshots from before it): the chosen
    /// model's own intervals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    calibration: Option<Box<IntervalCalibration>>,
    /// `None` in snapshots from before it (their intervals stay as they were): the online
    /// rescaling that keeps the one-step interval's coverage at its level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    online_scale: Option<OnlineScale>,
}

/// Optimiser tolerance of the ETS candidates, relative to `1 + |-2 log L|` (`Ets::fit` uses
/// 1e-7): on days of one-minute data `-2 log L` is about 1e4, so the simplex stops within 0.1
/// of the optimum, far below what changes the `AICc` choice or the forecasts, while near a
/// parameter bound (alpha or gamma → 0, common for long seasons) the tighter tolerance used up
/// the whole budget crawling along a flat valley.
const SELECTION_FTOL: f64 = 1e-5;

/// Most recent points the non-seasonal ETS candidate is estimated on.
const NON_SEASONAL_FIT_POINTS: usize = 1440;

/// A candidate's record on the validation part: its selection loss, its one-step mean absolute
/// error, its point forecasts (`h` per origin, origin-major), which score combinations, and,
/// for the winner only ([`validation_widths`]), the half-widths of its [`CALIBRATION_LEVEL`]
/// intervals at the same places, which calibrate its intervals (empty otherwise).
struct Scored {
    loss: f64,
    mae: f64,
    path: Vec<f64>,
    width: Vec<f64>,
}

/// Asymmetric selection loss of one error (`y - ŷ`).
fn selection_loss(e: f64, under: f64) -> f64 {
    if e > 0.0 { under * e } else { -e }
}

/// Per-origin selection loss over steps `1..=h` of a model rolled through `y`.
fn rolling_loss<M: Predict + Update>(
    model: &mut M,
    y: &[f64],
    h: usize,
    under: f64,
) -> Result<Scored> {
    let mut out = Forecast::default();
    let (mut loss, mut one_step) = (0.0, 0.0);
    let mut path = Vec::with_capacity(y.len() * h);
    for i in 0..y.len() {
        model.predict_into(h, None, &mut out)?;
        path.extend_from_slice(&out.point);
        for (j, f) in out.point.iter().enumerate() {
            if let Some(&v) = y.get(i + j) {
                loss += selection_loss(v - f, under);
            }
        }
        one_step += (y[i] - out.point[0]).abs();
        model.update(y[i])?;
    }
    Ok(Scored {
        loss,
        mae: one_step / y.len().max(1) as f64,
        path,
        width: Vec::new(),
    })
}

/// The half-widths of a model's [`CALIBRATION_LEVEL`] intervals along the validation part
/// (`h` per origin, as [`rolling_loss`] rolls it; 0 where it gives none), for the winner only:
/// the model as it was before its validation roll, rolled again. `None` if it fails.
fn validation_widths(model: &mut Chosen, y: &[f64], h: usize) -> Option<Vec<f64>> {
    let mut out = Forecast::default();
    let mut width = Vec::with_capacity(y.len() * h);
    for &v in y {
        model
            .predict_into(h, Some(CALIBRATION_LEVEL), &mut out)
            .ok()?;
        match &out.intervals {
            Some(iv) => width.extend(iv.upper.iter().zip(&out.point).map(|(u, p)| u - p)),
            None => width.resize(width.len() + h, 0.0),
        }
        model.update(v).ok()?;
    }
    Some(width)
}

/// [`rolling_loss`]'s figures for the mean of two rolled-through candidates, `weight` on `b`.
fn combined_score(a: &Scored, b: &Scored, weight: f64, y: &[f64], h: usize, under: f64) -> Scored {
    let path: Vec<f64> = a
        .path
        .iter()
        .zip(&b.path)
        .map(|(p, q)| (1.0 - weight) * p + weight * q)
        .collect();
    let mut loss = 0.0;
    for (i, forecast) in path.chunks_exact(h).enumerate() {
        for (f, v) in forecast.iter().zip(&y[i..]) {
            loss += selection_loss(v - f, under);
        }
    }
    let mae = path
        .chunks_exact(h)
        .zip(y)
        .map(|(f, v)| (v - f[0]).abs())
        .sum::<f64>()
        / y.len().max(1) as f64;
    Scored {
        loss,
        mae,
        path,
        width: Vec::new(),
    }
}

impl Auto {
    /// Checks the spec.
    ///
    /// ```
    /// use replicast::forecast::Auto;
    /// assert!(Auto { under_weight: 0.5, ..Auto::default() }.validate().is_err());
    /// ```
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] naming the field outside its range.
    pub fn validate(&self) -> Result<()> {
        if self.step_s == 0 {
            return Err(Error::invalid_config("step_s must be at least 1, got 0"));
        }
        if self.horizon == 0 {
            return Err(Error::invalid_config("horizon must be at least 1, got 0"));
        }
        if !(self.under_weight >= 1.0 && self.under_weight.is_finite()) {
            return Err(Error::invalid_config(format!(
                "under_weight must be finite and >= 1, got {}",
                self.under_weight
            )));
        }
        if !(self.holdout > 0.0 && self.holdout <= 0.5) {
            return Err(Error::invalid_config(format!(
                "holdout must be in (0, 0.5], got {}",
                self.holdout
            )));
        }
        if self.max_evals < 30 {
            return Err(Error::invalid_config(format!(
                "max_evals must be at least 30, got {}",
                self.max_evals
            )));
        }
        if !(self.no_forecast_margin >= 0.0 && self.no_forecast_margin.is_finite()) {
            return Err(Error::invalid_config(format!(
                "no_forecast_margin must be finite and >= 0, got {}",
                self.no_forecast_margin
            )));
        }
        if self.degrade_ratio.is_nan() || self.degrade_ratio <= 1.0 {
            return Err(Error::invalid_config(format!(
                "degrade_ratio must be > 1, got {}",
                self.degrade_ratio
            )));
        }
        validate_outlier_k(self.outlier_k)?;
        if !(self.min_acf > 0.0 && self.min_acf < 1.0) {
            return Err(Error::invalid_config(format!(
                "min_acf must be in (0, 1), got {}",
                self.min_acf
            )));
        }
        if !(self.long_history_margin >= 0.0 && self.long_history_margin.is_finite()) {
            return Err(Error::invalid_config(format!(
                "long_history_margin must be finite and >= 0, got {}",
                self.long_history_margin
            )));
        }
        if !(self.combination_weight > 0.0 && self.combination_weight < 1.0) {
            return Err(Error::invalid_config(format!(
                "combination_weight must be in (0, 1), got {}",
                self.combination_weight
            )));
        }
        if !(1..=CORRECTION_LAGS).contains(&self.correction_lags) {
            return Err(Error::invalid_config(format!(
                "correction_lags must be 1 or 2, got {}",
                self.correction_lags
            )));
        }
        if let Some(w) = self
            .correction_mean_weights
            .iter()
            .find(|&&w| !(w > 0.0 && w <= 1.0))
        {
            return Err(Error::invalid_config(format!(
                "correction_mean_weights must each be in (0, 1], got {w}"
            )));
        }
        if let Some(ps) = &self.periods
            && let Some(p) = ps.iter().find(|&&p| p < 2)
        {
            return Err(Error::invalid_config(format!(
                "periods must be >= 2, got {p}"
            )));
        }
        Ok(())
    }
}

/// The range of `outlier_k` ([`Auto`]'s, and the predictive source's which passes it on).
pub(crate) fn validate_outlier_k(k: f64) -> Result<()> {
    if k == 0.0 || (k >= 2.0 && k.is_finite()) {
        return Ok(());
    }
    Err(Error::invalid_config(format!(
        "outlier_k must be 0 (off) or finite and >= 2, got {k}"
    )))
}

impl Fit for Auto {
    type Fitted = FittedAuto;

    fn fit(&self, y: &[f64]) -> Result<FittedAuto> {
        self.validate()?;
        check_series(y)?;
        let n = y.len();
        if n < 4 {
            return Err(Error::insufficient_data(format!(
                "auto needs at least 4 observations, got {n}"
            )));
        }
        let periods = match &self.periods {
            Some(p) => p.clone(),
            None => detect_periods(
                y,
                &PeriodConfig {
                    step_s: self.step_s,
                    min_acf: self.min_acf,
                    ..PeriodConfig::default()
                },
            )?,
        };
        let h = self.horizon;
        let v = ((n as f64 * self.holdout).round() as usize).clamp(1, n - 3);
        let train = n - v;
        let (yt, yv) = y.split_at(train);
        let period = periods.iter().copied().find(|&p| train >= p).unwrap_or(1);
        let u = self.under_weight;
        // every candidate tried: (which, loss it competes with, its validation record, model
        // rolled through the validation part, the model as fitted: the winner's is rolled again
        // for its interval widths)
        let mut pool: Vec<(Candidate, f64, Scored, Chosen, Chosen)> = Vec::new();
        // `margin`: the share by which the candidate's loss is raised before it competes
        let mut consider = |c: Candidate, margin: f64, scored: Scored, m: Chosen, fresh: Chosen| {
            pool.push((c, scored.loss * (1.0 + margin), scored, m, fresh));
        };
        // Persistence (the reactive reference) and seasonal naive.
        let mut naive = SeasonalNaive::new(1).fit(yt)?;
        let naive_fresh = naive.clone();
        let persistence = rolling_loss(&mut naive, yv, h, u)?;
        let persistence_loss = persistence.loss;
        let (seasonal_naive, fresh, scored) = if period > 1 {
            let mut sn = SeasonalNaive::new(period).fit(yt)?;
            let fresh = sn.clone();
            let scored = rolling_loss(&mut sn, yv, h, u)?;
            (sn, fresh, scored)
        } else {
            (naive, naive_fresh, persistence)
        };
        consider(
            Candidate::SeasonalNaive,
            0.0,
            scored,
            Chosen::SeasonalNaive(seasonal_naive),
            Chosen::SeasonalNaive(fresh),
        );
        // Seasonal naive at the calendar season (daily, else hourly: `evaluate`'s baseline) is
        // always a candidate, so the choice never loses to it on the validation part, also when
        // detection finds no period or another one (an hourly cron pattern too weak for the
        // autocorrelation test made the non-seasonal ETS win and lose to it out of sample).
        // An explicit period list (empty = non-seasonal) is the caller's choice and is kept.
        let calendar = calendar_season(n, self.step_s);
        if self.periods.is_none() && calendar > 1 && calendar != period && train >= calendar {
            let mut sn = SeasonalNaive::new(calendar).fit(yt)?;
            let fresh = Chosen::SeasonalNaive(sn.clone());
            let scored = rolling_loss(&mut sn, yv, h, u)?;
            consider(
                Candidate::SeasonalNaive,
                0.0,
                scored,
                Chosen::SeasonalNaive(sn),
                fresh,
            );
        }
        let mut evals = 0;
        let budget_ns = self.max_evals * 2 / 5;
        // A level/trend model needs no days of history for its 2-4 parameters: it is estimated
        // on the recent part only (a third of the work on 4 days at one minute).
        let recent = |z: &[f64]| z.len().saturating_sub(NON_SEASONAL_FIT_POINTS);
        if train >= 3
            && let Ok(mut m) = (Ets {
                max_evals: budget_ns.max(10),
                ..Ets::default()
            })
            .fit_tol(&yt[recent(yt)..], SELECTION_FTOL)
        {
            evals += m.evals();
            let fresh = Chosen::Ets(m.clone());
            let scored = rolling_loss(&mut m, yv, h, u)?;
            consider(Candidate::Ets, 0.0, scored, Chosen::Ets(m), fresh);
        }
        evals += self.try_long_history_candidates(yt, yv, &periods, period, &mut consider);
        let span = period.max(usize::try_from(86_400 / self.step_s).unwrap_or(1));
        let remaining = self.max_evals.saturating_sub(evals);
        let refit_reserve = self.max_evals / 5;
        if period > 1 && train >= 2 * period && remaining > refit_reserve + 20 {
            let spec = Ets {
                period,
                max_evals: (remaining - refit_reserve).max(10),
                ..Ets::default()
            };
            // On long histories, the last three seasons or three days (whichever is longer)
            // of the training part, four at the refit: the initial seasonal states come from
            // the first cycles only, and each evaluation is a pass over the data (7 days at
            // one minute cost 12 ms instead of 5).
            if let Ok(mut m) =
                spec.fit_tol(&yt[yt.len().saturating_sub(3 * span)..], SELECTION_FTOL)
            {
                evals += m.evals();
                let fresh = Chosen::Ets(m.clone());
                let scored = rolling_loss(&mut m, yv, h, u)?;
                consider(Candidate::EtsSeasonal, 0.0, scored, Chosen::Ets(m), fresh);
            }
        }
        let combined = best_combination(&pool, self.combination_weight, yv, h, u);
        let mut losses: Vec<(Candidate, f64)> = pool.iter().map(|(c, l, ..)| (*c, *l)).collect();
        if let Some((_, _, scored)) = &combined {
            losses.push((Candidate::Combined, scored.loss));
        }
        let best_single = (0..pool.len()).min_by(|&a, &b| pool[a].1.total_cmp(&pool[b].1));
        let (candidate, loss, mut scored, mut chosen, mut fresh) = match (combined, best_single) {
            (Some((level, seasonal, scored)), Some(single)) if scored.loss < pool[single].1 => {
                // take the higher index first so that the lower one stays in place
                let seasonal_model = pool.swap_remove(level.max(seasonal));
                let level_model = pool.swap_remove(level.min(seasonal));
                let (level_model, seasonal_model) = if level < seasonal {
                    (level_model, seasonal_model)
                } else {
                    (seasonal_model, level_model)
                };
                let chosen = Chosen::Combined {
                    level: Box::new(level_model.3),
                    seasonal: Box::new(seasonal_model.3),
                    weight: self.combination_weight,
                };
                let fresh = Chosen::Combined {
                    level: Box::new(level_model.4),
                    seasonal: Box::new(seasonal_model.4),
                    weight: self.combination_weight,
                };
                (Candidate::Combined, scored.loss, scored, chosen, fresh)
            }
            (_, Some(single)) => {
                let (c, l, scored, m, fresh) = pool.swap_remove(single);
                (c, l, scored, m, fresh)
            }
            (_, None) => {
                return Err(Error::insufficient_data(
                    "no candidate model could be fitted",
                ));
            }
        };
        let mae = scored.mae;
        // the winner's loss as it competed (with any margin), scaled by what the correction saved
        let (loss, correction) = match ErrorCorrection::estimate_for(
            &scored.path,
            yv,
            h,
            u,
            self.correction_lags,
            &self.correction_mean_weights,
        ) {
            Some((c, corrected)) if corrected < scored.loss => {
                (loss * corrected / scored.loss, Some(Box::new(c)))
            }
            _ => (loss, None),
        };
        if let Some(w) = validation_widths(&mut fresh, yv, h) {
            scored.width = w;
        }
        let calibration =
            IntervalCalibration::estimate(&scored, correction.as_deref(), yv, h).map(Box::new);
        let declined = loss > persistence_loss * (1.0 + self.no_forecast_margin);
        let ctx = RefitContext {
            y,
            periods: &periods,
            period,
            span,
        };
        // A combination keeps its members as validated (parameters from the training part,
        // states current): refitting them changed the pair that won, and measured no better
        // (docs/forecasting.md).
        if candidate != Candidate::Combined {
            self.refit_winner(&ctx, candidate, &mut chosen, &mut evals);
        }
        let period = if let Chosen::SeasonalNaive(m) = &chosen {
            m.period()
        } else {
            period
        };
        Ok(FittedAuto {
            chosen: (!declined).then_some(chosen),
            candidate: (!declined).then_some(candidate),
            period,
            losses,
            persistence_loss,
            n,
            since_fit: 0,
            refit_every: self.refit_every,
            degrade_ratio: self.degrade_ratio,
            baseline_abs_err: mae,
            recent_abs_err: mae,
            evals,
            outlier_k: self.outlier_k,
            outlier_run: 0.0,
            correction,
            calibration,
            online_scale: Some(OnlineScale::default()),
        })
    }
}

impl FittedAuto {
    /// The chosen candidate, `None` when the model declined to forecast.
    ///
    /// ```
    /// use replicast::forecast::{Auto, Fit};
    /// let m = Auto::default().fit(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]).unwrap();
    /// assert!(m.candidate().is_some());
    /// ```
    #[must_use]
    pub fn candidate(&self) -> Option<Candidate> {
        self.candidate
    }

    /// The two members when [`FittedAuto::candidate`] is [`Candidate::Combined`]: the
    /// non-seasonal ETS and the seasonal candidate it is averaged with.
    ///
    /// ```
    /// use replicast::forecast::{Auto, Candidate, Fit};
    /// let m = Auto::default().fit(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    /// assert_ne!(m.candidate(), Some(Candidate::Combined));
    /// assert_eq!(m.combined_members(), None);
    /// ```
    #[must_use]
    pub fn combined_members(&self) -> Option<(Candidate, Candidate)> {
        match &self.chosen {
            Some(Chosen::Combined {
                level, seasonal, ..
            }) => Some((level.candidate_kind(), seasonal.candidate_kind())),
            _ => None,
        }
    }

    /// The season length used (1 = none).
    ///
    /// ```
    /// use replicast::forecast::{Auto, Fit};
    /// assert_eq!(Auto::default().fit(&[1.0, 2.0, 3.0, 4.0]).unwrap().period(), 1);
    /// ```
    #[must_use]
    pub fn period(&self) -> usize {
        self.period
    }

    /// Validation loss of every candidate tried (the regression's and multi-seasonal's raised
    /// by their margin, as they competed; [`Candidate::Combined`] last, when a pair could be
    /// formed), and of persistence (the reference).
    ///
    /// ```
    /// use replicast::forecast::{Auto, Fit};
    /// let m = Auto::default().fit(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    /// assert!(!m.losses().0.is_empty() && m.losses().1 >= 0.0);
    /// ```
    #[must_use]
    pub fn losses(&self) -> (&[(Candidate, f64)], f64) {
        (&self.losses, self.persistence_loss)
    }

    /// Likelihood evaluations the fit spent (the work budget used).
    ///
    /// ```
    /// use replicast::forecast::{Auto, Fit};
    /// assert!(Auto::default().fit(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap().evals() <= 300);
    /// ```
    #[must_use]
    pub fn evals(&self) -> usize {
        self.evals
    }

    /// Whether a refit is due: `refit_every` updates since the fit, or the recent one-step error
    /// (exponentially weighted, about the last 50 updates) exceeds `degrade_ratio` times the
    /// validation error.
    ///
    /// ```
    /// use replicast::forecast::{Auto, Fit, Update};
    /// let mut m = Auto { refit_every: 2, ..Auto::default() }.fit(&[1.0, 2.0, 1.0, 2.0, 1.0, 2.0]).unwrap();
    /// m.update(1.0).unwrap();
    /// m.update(2.0).unwrap();
    /// assert!(m.needs_refit());
    /// ```
    #[must_use]
    pub fn needs_refit(&self) -> bool {
        (self.refit_every > 0 && self.since_fit >= self.refit_every)
            || (self.since_fit >= 50
                && self.recent_abs_err > self.degrade_ratio * self.baseline_abs_err.max(1e-12))
    }

    /// The structure a restored model must have: the chosen model's, an error correction with
    /// a row per validated step (its forecasts extend the last ones), counts that updates
    /// cannot overflow.
    pub(crate) fn check_restored(&self) -> Result<()> {
        if let Some(m) = &self.chosen {
            m.check_restored()?;
        }
        if self.correction.as_ref().is_some_and(|c| c.beta.is_empty()) {
            return Err(Error::serialization(
                "an auto model's error correction needs at least one step of weights, got none",
            ));
        }
        if let Some(s) = &self.online_scale {
            s.check_restored()?;
        }
        super::check_restored_count("auto n", self.n)?;
        super::check_restored_count("auto since_fit", self.since_fit)?;
        super::check_restored_count("auto evals", self.evals)
    }

    /// The outlier policy ([`Auto`]'s `outlier_k`): the value the chosen model absorbs, and the
    /// absolute error that enters the recent error (clipped too, so one glitch cannot loosen
    /// the threshold for the next).
    fn screen_outlier(&mut self, y: f64, predicted: f64) -> (f64, Option<f64>) {
        let e = y - predicted;
        if self.outlier_k == 0.0 {
            return (y, Some(e.abs()));
        }
        let limit = self.outlier_k * self.recent_abs_err;
        if e.abs() <= limit || limit <= 0.0 {
            self.outlier_run = 0.0;
            return (y, Some(e.abs()));
        }
        let direction = e.signum();
        if self.outlier_run == direction {
            // Second exceedance the same way: a level shift, absorbed as it is.
            return (y, Some(e.abs()));
        }
        self.outlier_run = direction;
        (predicted + direction * limit, Some(limit))
    }

    /// The next step's raw point forecast of the chosen model (which the recent error, the
    /// outlier policy and the error correction compare with) and, with an
    /// online scale, the [`CALIBRATION_LEVEL`] interval this model issues for that step
    /// (corrected, calibrated and rescaled, as a caller gets it) as its centre (the corrected
    /// point), lower and upper bound: both from one forecast of the chosen model, into the
    /// reused buffer (this runs on every update).
    fn one_step_with_interval(&self) -> (Option<f64>, Option<(f64, f64, f64)>) {
        let Some(m) = self.chosen.as_ref() else {
            return (None, None);
        };
        let level = self.online_scale.map(|_| CALIBRATION_LEVEL);
        ONE_STEP.with(|cell| {
            let mut out = cell.borrow_mut();
            if m.predict_into(1, level, &mut out).is_err() {
                // a model that gives no interval may still give the point
                return (one_step_point(m, &mut out), None);
            }
            let point = out.point.first().copied();
            self.finish(level, &mut out, true);
            let centre = out.point.first().copied();
            let interval = out
                .intervals
                .as_ref()
                .and_then(|iv| Some((centre?, *iv.lower.first()?, *iv.upper.first()?)))
                .filter(|(c, lo, up)| c.is_finite() && lo.is_finite() && up.is_finite());
            (point, interval)
        })
    }
}

impl FittedAuto {
    /// The forecast without the [`OnlineScale`] (the calibration of the fit alone): what the
    /// predictive source provisions to. The scale follows the one-step interval's coverage at
    /// 90 %; provisioning looks several steps ahead at other quantiles, and its self-calibrating
    /// headroom already moves the quantile it asks for by the overload it sees: an interval
    /// rescaled at the same time gives two loops one width to fight over. Provisioning to the
    /// rescaled intervals measured worse on the shared traces (docs/forecasting.md, step 7c).
    pub(crate) fn predict_without_online_scale(
        &self,
        horizon: usize,
        level: Option<f64>,
        out: &mut Forecast,
    ) -> Result<()> {
        self.predict_scaled(horizon, level, out, false)
    }

    fn predict_scaled(
        &self,
        horizon: usize,
        level: Option<f64>,
        out: &mut Forecast,
        online: bool,
    ) -> Result<()> {
        match &self.chosen {
            Some(m) => {
                m.predict_into(horizon, level, out)?;
                self.finish(level, out, online);
                Ok(())
            }
            None => Err(Error::insufficient_data(
                "no candidate beat persistence on recent data: no forecast (refit later)",
            )),
        }
    }
}

/// A model's point forecast of the next step, without an interval.
fn one_step_point(m: &Chosen, out: &mut Forecast) -> Option<f64> {
    m.predict_into(1, None, out).ok()?;
    out.point.first().copied()
}

impl FittedAuto {
    /// What this model adds to its chosen model's forecast: the error correction, the
    /// calibration of the fit and, when `online`, the [`OnlineScale`].
    fn finish(&self, level: Option<f64>, out: &mut Forecast, online: bool) {
        if let Some(c) = &self.correction {
            c.apply(out);
        }
        if let (Some(c), Some(l)) = (&self.calibration, level) {
            c.apply(l, out);
        }
        if let Some(s) = self.online_scale.filter(|_| online) {
            s.apply(out);
        }
    }
}

impl Predict for FittedAuto {
    fn predict_into(&self, horizon: usize, level: Option<f64>, out: &mut Forecast) -> Result<()> {
        self.predict_scaled(horizon, level, out, true)
    }

    fn n_obs(&self) -> usize {
        // The chosen model may have been estimated on a recent part only (non-seasonal ETS).
        self.n
    }
}

impl Update for FittedAuto {
    fn update(&mut self, y: f64) -> Result<()> {
        self.update_issued(y).map(|_| ())
    }
}

impl FittedAuto {
    /// [`Update::update`], returning the one-step forecast this model had issued for `y`, when it
    /// gave an interval: the point and the upper bound of the 90 % interval a caller gets
    /// (corrected, calibrated, with the [`OnlineScale`]). The point is the corrected one, the
    /// interval's centre, so that `upper − point` is the half-width; the recent error and the
    /// outlier screen keep using the chosen model's raw point (the correction regresses on it).
    pub(crate) fn update_issued(&mut self, y: f64) -> Result<Option<(f64, f64)>> {
        const LAMBDA: f64 = 0.02;
        check_value(y)?;
        let (pred, interval) = self.one_step_with_interval();
        let missed = interval.map(|(_, lo, up)| y < lo || y > up);
        let outlier_run = self.outlier_run;
        let (absorbed, err) = match pred {
            Some(p) => self.screen_outlier(y, p),
            None => (y, None),
        };
        let recent = err.map(|e| (1.0 - LAMBDA) * self.recent_abs_err + LAMBDA * e);
        // the error statistics must stay numbers (a snapshot writes them): an error beyond
        // the `f64` range refuses the update, before anything changed
        if recent.is_some_and(|r| !r.is_finite())
            || pred.is_some_and(|p| !(absorbed - p).is_finite())
        {
            self.outlier_run = outlier_run;
            return Err(Error::new(
                crate::ErrorKind::Numerical,
                format!("auto update with y = {y}: the one-step error overflows"),
            ));
        }
        if let Some(m) = &mut self.chosen
            && let Err(e) = m.update(absorbed)
        {
            self.outlier_run = outlier_run;
            return Err(e);
        }
        if let (Some(c), Some(p)) = (&mut self.correction, pred) {
            c.record(absorbed - p);
        }
        if let Some(r) = recent {
            self.recent_abs_err = r;
        }
        if let (Some(s), Some(missed)) = (&mut self.online_scale, missed) {
            s.record(missed);
        }
        self.n += 1;
        self.since_fit += 1;
        Ok(interval.map(|(centre, _, up)| (centre, up)))
    }
}

/// The best pair of the non-seasonal ETS and a seasonal candidate (seasonal ETS, regression or
/// multi-seasonal; seasonal naive is left out: averaging with a repeat of the day before added
/// its noise on the shared traces), `weight` ([`Auto::combination_weight`]) on the seasonal
/// member: the pool indices of the ETS and of the seasonal member, and the pair's record. `None`
/// without such a pair. The pair competes with its own loss, without
/// [`Auto::long_history_margin`]: a regression or multi-seasonal forecast shrunk towards the ETS
/// is what the margin guarded against.
fn best_combination(
    pool: &[(Candidate, f64, Scored, Chosen, Chosen)],
    weight: f64,
    yv: &[f64],
    h: usize,
    under: f64,
) -> Option<(usize, usize, Scored)> {
    let level = pool.iter().position(|(c, ..)| *c == Candidate::Ets)?;
    pool.iter()
        .enumerate()
        .filter(|(_, (c, ..))| {
            matches!(
                c,
                Candidate::EtsSeasonal | Candidate::Regression | Candidate::MultiSeasonal
            )
        })
        .map(|(i, (_, _, scored, ..))| {
            (
                level,
                i,
                combined_score(&pool[level].2, scored, weight, yv, h, under),
            )
        })
        .min_by(|a, b| a.2.loss.total_cmp(&b.2.loss))
}

/// Default of [`Auto::combination_weight`], the weight of the seasonal member in
/// [`Candidate::Combined`] (the non-seasonal ETS has the rest). Chosen on the shared traces
/// among 0.25 / 0.5 / 0.75, and judged out of sample there with each trace left out in turn
/// (`scripts/forecast_loto.py`, docs/forecasting.md). Choosing it per series on the validation
/// part was worse there (the validation day favours the seasonal shape that the following days
/// do not keep).
const COMBINATION_WEIGHT: f64 = 0.25;

/// One-step errors a correction holds: the latest two (the format of its snapshots; a
/// correction from before the error mean used both), the most [`Auto::correction_lags`] allows.
const CORRECTION_LAGS: usize = 2;

/// Default of [`Auto::correction_lags`], the one-step errors the correction regresses on since
/// the error mean joined them: the latest one (with the mean, two lags measured no better on
/// the shared traces, also out of sample: `scripts/forecast_loto.py`, docs/forecasting.md).
const CORRECTION_ESTIMATED_LAGS: usize = 1;

/// Default of [`Auto::correction_mean_weights`], the weights (on the newest error) of the error
/// mean the correction may add as a regressor; each series takes the one, or none, with the
/// lowest corrected validation loss (a fixed 0.2 had been chosen on the shared traces; the
/// per-series choice needs no such constant).
const CORRECTION_MEAN_WEIGHTS: [f64; 4] = [0.05, 0.1, 0.2, 0.4];

/// Error correction of the chosen model, an autoregressive term on its own errors: the forecast
/// `j + 1` steps ahead moves by `Σ_k beta[j][k] · e[k] + mean_beta[j] · m`, `e[k]` the one-step
/// error (`y - ŷ`, of the chosen model itself) `k` samples back and `m` an exponentially
/// weighted mean of those errors (weight `mean_weight` on the newest). A model that lags a
/// level move, or misses how far today runs above the usual day, makes errors that persist;
/// `beta` is the least-squares fit, on the validation part, of the errors `j + 1` steps ahead
/// at each origin on the error terms just before it, so it carries forward the share that
/// persisted there (near zero when the errors are white). Kept only when it lowers the
/// selection loss there. Beyond the validated horizon the shift decays geometrically at the
/// rate of its last two steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ErrorCorrection {
    /// Per step ahead, the weight of each lag.
    beta: Vec<[f64; CORRECTION_LAGS]>,
    /// The chosen model's latest one-step errors, newest first.
    errors: [f64; CORRECTION_LAGS],
    /// Per step ahead, the weight of the error mean (empty: no mean term, as in snapshots from
    /// before it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    mean_beta: Vec<f64>,
    /// Exponentially weighted mean of the one-step errors.
    #[serde(default)]
    mean: f64,
    /// Weight of the newest error in `mean`.
    #[serde(default)]
    mean_weight: f64,
}

// Index loops read as the formulas of the factorisation.
#[allow(clippy::needless_range_loop)]
/// Solves the symmetric positive definite system `a · x = b` (`K × K`, row-major) by Cholesky;
/// `None` when `a` is not positive definite to working precision.
fn solve_spd<const K: usize>(a: &[[f64; K]; K], b: &[f64; K]) -> Option<[f64; K]> {
    let mut l = [[0.0; K]; K];
    for i in 0..K {
        for j in 0..=i {
            let mut s = a[i][j];
            for k in 0..j {
                s -= l[i][k] * l[j][k];
            }
            if i == j {
                // relative pivot: rejects (near-)collinear regressors
                if s.is_nan() || s <= 1e-9 * a[i][i].abs().max(f64::MIN_POSITIVE) {
                    return None;
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    let mut z = [0.0; K];
    for i in 0..K {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i][k] * z[k];
        }
        z[i] = s / l[i][i];
    }
    let mut x = [0.0; K];
    for i in (0..K).rev() {
        let mut s = z[i];
        for k in i + 1..K {
            s -= l[k][i] * x[k];
        }
        x[i] = s / l[i][i];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

impl ErrorCorrection {
    /// [`ErrorCorrection::estimate_for`] with [`Auto`]'s default lags and mean weights.
    #[cfg(test)]
    fn estimate(path: &[f64], yv: &[f64], h: usize, under: f64) -> Option<(Self, f64)> {
        Self::estimate_for(
            path,
            yv,
            h,
            under,
            CORRECTION_ESTIMATED_LAGS,
            &CORRECTION_MEAN_WEIGHTS,
        )
    }

    /// The correction of a validation path (`h` forecasts per origin over `yv`, as
    /// [`rolling_loss`] makes it) and the selection loss of the corrected path: the latest
    /// `lags` errors alone or with the error mean at one of `mean_weights`
    /// ([`Auto::correction_lags`], [`Auto::correction_mean_weights`]), whichever corrects the
    /// path best; `None` with too few origins or degenerate errors.
    fn estimate_for(
        path: &[f64],
        yv: &[f64],
        h: usize,
        under: f64,
        lags: usize,
        mean_weights: &[f64],
    ) -> Option<(Self, f64)> {
        let mut best = Self::estimate_with(path, yv, h, under, lags, None);
        for &w in mean_weights {
            if let Some(c) = Self::estimate_with(path, yv, h, under, lags, Some(w))
                && best.as_ref().is_none_or(|b| c.1 < b.1)
            {
                best = Some(c);
            }
        }
        best
    }

    /// [`ErrorCorrection::estimate_for`] with one choice of regressors: the latest `lags` errors (1
    /// or 2), and with `weight` their exponentially weighted mean too.
    fn estimate_with(
        path: &[f64],
        yv: &[f64],
        h: usize,
        under: f64,
        lags: usize,
        weight: Option<f64>,
    ) -> Option<(Self, f64)> {
        const K: usize = CORRECTION_LAGS + 1;
        let origins = path.len() / h;
        if origins < 2 * h + 10 {
            return None;
        }
        let one_step = |i: usize| yv[i] - path[i * h];
        // features at each origin: the two latest errors and their weighted mean (the mean
        // term's column is left out without a weight)
        let w = weight.unwrap_or(0.0);
        let mut means = Vec::with_capacity(origins + 1);
        let mut m = 0.0;
        means.push(0.0);
        for i in 0..origins {
            m = (1.0 - w) * m + w * one_step(i);
            means.push(m);
        }
        let k = if weight.is_some() { K } else { CORRECTION_LAGS };
        let features = |i: usize| -> [f64; K] {
            if i < CORRECTION_LAGS {
                return [0.0; K];
            }
            // the second lag's column stays empty unless asked (see CORRECTION_LAGS)
            let second = if lags >= 2 { one_step(i - 2) } else { 0.0 };
            let mean = if k < K { 0.0 } else { means[i] };
            [one_step(i - 1), second, mean]
        };
        let mut xtx = [[0.0; K]; K];
        let mut rhs = vec![[0.0; K]; h];
        for i in CORRECTION_LAGS..origins {
            let f = features(i);
            for a in 0..k {
                for b in 0..k {
                    xtx[a][b] += f[a] * f[b];
                }
            }
            for (j, r) in rhs.iter_mut().enumerate() {
                if let Some(&v) = yv.get(i + j) {
                    let err = v - path[i * h + j];
                    for a in 0..k {
                        r[a] += err * f[a];
                    }
                }
            }
        }
        // empty columns get a unit diagonal: their coefficient solves to 0
        for (d, row) in xtx.iter_mut().enumerate().skip(1) {
            if row[d] == 0.0 {
                row[d] = 1.0;
            }
        }
        let mut betas = Vec::with_capacity(h);
        for r in &rhs {
            betas.push(solve_spd(&xtx, r)?);
        }
        let mut loss = 0.0;
        for i in 0..origins {
            let f = features(i);
            for (j, b) in betas.iter().enumerate() {
                if let Some(&v) = yv.get(i + j) {
                    let shift: f64 = b.iter().zip(&f).map(|(b, f)| b * f).sum();
                    loss += selection_loss(v - path[i * h + j] - shift, under);
                }
            }
        }
        let last = [one_step(origins - 1), one_step(origins - 2)];
        Some((
            ErrorCorrection {
                beta: betas.iter().map(|b| [b[0], b[1]]).collect(),
                errors: last,
                mean_beta: if weight.is_some() {
                    betas.iter().map(|b| b[2]).collect()
                } else {
                    Vec::new()
                },
                mean: means[origins],
                mean_weight: w,
            },
            loss,
        ))
    }

    /// The shifts this correction makes along a validation path (`h` per origin, as
    /// [`rolling_loss`] makes it), starting from no recorded error, as it would online.
    fn replay(&self, path: &[f64], yv: &[f64], h: usize) -> Vec<f64> {
        let mut c = ErrorCorrection {
            errors: [0.0; CORRECTION_LAGS],
            mean: 0.0,
            ..self.clone()
        };
        let mut shifts = Vec::with_capacity(path.len());
        for (i, &v) in yv.iter().enumerate().take(path.len() / h) {
            shifts.extend((0..h).map(|j| if j < c.beta.len() { c.shift(j) } else { 0.0 }));
            c.record(v - path[i * h]);
        }
        shifts
    }

    /// Records the chosen model's one-step error on the sample it just absorbed.
    fn record(&mut self, e: f64) {
        self.errors.rotate_right(1);
        self.errors[0] = e;
        self.mean = (1.0 - self.mean_weight) * self.mean + self.mean_weight * e;
    }

    fn shift(&self, step: usize) -> f64 {
        let lags: f64 = self.beta[step]
            .iter()
            .zip(&self.errors)
            .map(|(b, e)| b * e)
            .sum();
        lags + self.mean_beta.get(step).map_or(0.0, |b| b * self.mean)
    }

    /// Moves the point forecasts and the interval bounds alike.
    fn apply(&self, out: &mut Forecast) {
        let h = self.beta.len();
        let last = self.shift(h - 1);
        let before = if h >= 2 { self.shift(h - 2) } else { 0.0 };
        let decay = if before == 0.0 {
            0.0
        } else {
            (last / before).clamp(0.0, 1.0)
        };
        let mut far = last;
        for j in 0..out.point.len() {
            let shift = if j < h {
                self.shift(j)
            } else {
                far *= decay;
                far
            };
            out.point[j] += shift;
            if let Some(iv) = &mut out.intervals {
                iv.lower[j] += shift;
                iv.upper[j] += shift;
            }
        }
    }
}

/// Level of the interval half-widths recorded on the validation part ([`Scored::width`]).
const CALIBRATION_LEVEL: f64 = 0.9;

/// Interval levels at which [`IntervalCalibration`] measures the validation errors. Above the
/// last one the model's normal tail shape is kept, scaled by the ratio measured there: a day of
/// validation holds few errors beyond it (a 98 % quantile from 288 five-minute origins rests on
/// six), and measured tails at 95 % and 98 % widened the predictive source's 99th-percentile
/// provisioning on the bursty traces by a third or more (docs/forecasting.md).
const CALIBRATION_GRID: [f64; 3] = [0.5, 0.8, 0.9];

/// The standard normal quantiles `z` of [`CALIBRATION_GRID`] (of `0.5 + level / 2`; tested
/// against `stats::normal_quantile`), the last being [`CALIBRATION_LEVEL`]'s.
const CALIBRATION_GRID_Z: [f64; 3] = [
    0.674_489_750_196_081_7,
    1.281_551_565_544_600_4,
    1.644_853_626_951_472_2,
];

/// Most the calibration may narrow a model's interval: to this share of its half-width. The
/// validation part is a day or so, and a calm day must not collapse the interval before a
/// burst (nor a near-exact fit of a noiseless series make it a point).
const CALIBRATION_MIN_FACTOR: f64 = 0.5;

/// Least validation origins for an interval calibration.
const CALIBRATION_MIN_ORIGINS: usize = 50;

/// Interval calibration of the chosen model on its own validation errors (a split-conformal
/// rescaling with normalised residuals, per step ahead): the models' intervals come from a
/// normal error model, which on load series is too wide at some steps and too narrow at others
/// (the errors are heavy-tailed, and the variance formulas know neither the error correction
/// nor the parameters' estimation error). At each step `j`, `q[j][g]` is the
/// `CALIBRATION_GRID[g]` quantile of `|y - ŷ| / w` over the validation origins, `ŷ` the
/// (corrected) forecast and `w` the model's half-width at [`CALIBRATION_LEVEL`] there. A
/// forecast at level `L` inside the grid gets the half-width `q_j(L) · w_j`, `q_j` interpolated
/// between the grid levels linearly in the normal quantile `z_L` (exact for normal errors of
/// any spread, and increasing in `L`) and `w_j` the model's half-width at
/// [`CALIBRATION_LEVEL`]; outside the grid the ratio at the nearest grid level is applied to the
/// model's own half-width at `L` (the normal shape beyond the measured tail). The half-widths
/// grow with `L`, so intervals stay nested; beyond the validated steps the last step's row
/// holds. The ratios are measured on the series itself; the one constant, the floor
/// [`CALIBRATION_MIN_FACTOR`], bounds how far one validation day may narrow an interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct IntervalCalibration {
    /// Per step ahead, the normalised absolute error's quantile at each grid level.
    q: Vec<[f64; CALIBRATION_GRID.len()]>,
}

impl IntervalCalibration {
    /// The calibration of a winner's validation record (with its correction, if any); `None`
    /// with fewer than [`CALIBRATION_MIN_ORIGINS`] origins, where the model gave no interval,
    /// or where a quantile is zero (an exact fit would collapse the interval).
    fn estimate(
        scored: &Scored,
        correction: Option<&ErrorCorrection>,
        yv: &[f64],
        h: usize,
    ) -> Option<Self> {
        let origins = scored.path.len() / h;
        if origins < CALIBRATION_MIN_ORIGINS || scored.width.len() != scored.path.len() {
            return None;
        }
        let shifts = correction.map(|c| c.replay(&scored.path, yv, h));
        let mut q = Vec::with_capacity(h);
        let mut ratios = Vec::with_capacity(origins);
        for j in 0..h {
            ratios.clear();
            for i in 0..origins {
                let Some(&v) = yv.get(i + j) else { break };
                let k = i * h + j;
                let w = scored.width[k];
                if w.is_nan() || w <= 0.0 {
                    return None;
                }
                let f = scored.path[k] + shifts.as_ref().map_or(0.0, |s| s[k]);
                ratios.push((v - f).abs() / w);
            }
            if ratios.len() < CALIBRATION_MIN_ORIGINS {
                return None;
            }
            ratios.sort_by(f64::total_cmp);
            let mut row = [0.0; CALIBRATION_GRID.len()];
            for (r, &l) in row.iter_mut().zip(&CALIBRATION_GRID) {
                let at = ((l * ratios.len() as f64).ceil() as usize).clamp(1, ratios.len());
                *r = ratios[at - 1];
            }
            if !row.iter().all(|r| r.is_finite() && *r > 0.0) {
                return None;
            }
            q.push(row);
        }
        Some(Self { q })
    }

    /// The multiplier of the model's half-width at `level` for step `j` (`z_level`: the
    /// normal quantile of `level`).
    fn factor(&self, j: usize, level: f64, z_level: f64) -> f64 {
        let Some(row) = self.q.get(j).or(self.q.last()) else {
            return 1.0;
        };
        let (g, z) = (&CALIBRATION_GRID, &CALIBRATION_GRID_Z);
        let z_ref = z[z.len() - 1];
        let last = g.len() - 1;
        if level <= g[0] || level >= g[last] {
            let at = if level <= g[0] { 0 } else { last };
            return row[at] * z_ref / z[at];
        }
        let k = g.iter().position(|&x| x >= level).unwrap_or(last).max(1);
        let t = (z_level - z[k - 1]) / (z[k] - z[k - 1]);
        (row[k - 1] + t * (row[k] - row[k - 1])) * z_ref / z_level
    }

    /// Rescales the interval (at `level`) around the point forecast.
    fn apply(&self, level: f64, out: &mut Forecast) {
        let Some(iv) = &mut out.intervals else {
            return;
        };
        let z_level = stats::normal_quantile(0.5 + level / 2.0);
        if z_level.is_nan() || z_level <= 0.0 {
            return;
        }
        let bounds = iv.lower.iter_mut().zip(iv.upper.iter_mut());
        for (j, ((lo, up), p)) in bounds.zip(&out.point).enumerate() {
            let k = self.factor(j, level, z_level).max(CALIBRATION_MIN_FACTOR);
            *lo = p - k * (p - *lo);
            *up = p + k * (*up - p);
        }
    }
}

/// Step of [`OnlineScale`]'s log factor: a miss raises it by `0.05 × 0.9`, a covered value
/// lowers it by `0.05 × 0.1`, so it settles where one value in ten falls outside. Large enough to
/// follow a change of regime within a few dozen samples (ten misses widen the interval by half),
/// small enough that one burst does not double it.
const ONLINE_SCALE_STEP: f64 = 0.05;

/// Bounds of [`OnlineScale`]'s factor: at least [`CALIBRATION_MIN_FACTOR`] (a calm stretch must
/// not collapse the interval before a burst), at most 4 (a run of outliers must not make the
/// interval, and the replicas provisioned to it, unbounded).
const ONLINE_SCALE_MAX: f64 = 4.0;

/// Online rescaling of the issued intervals, by adaptive conformal inference on the one-step
/// interval at [`CALIBRATION_LEVEL`] (Gibbs and Candès, 2021, on a log scale): each update
/// checks whether the value fell outside the interval issued for it one step before, and moves
/// `log_factor` by [`ONLINE_SCALE_STEP`] × (missed − (1 − level)). Whatever the errors'
/// distribution, the long-run share of misses then approaches `1 − level`: the validation
/// day's calibration ([`IntervalCalibration`]) is a start, and this follows the workload after
/// it (calmer or wilder days than the validated one). Every level's half-width is multiplied by
/// the same factor, so intervals stay nested. O(1) per update: one one-step forecast.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
struct OnlineScale {
    /// Natural logarithm of the factor on every half-width; 0 at a fit.
    log_factor: f64,
}

impl OnlineScale {
    fn factor(self) -> f64 {
        self.log_factor.exp()
    }

    fn record(&mut self, missed: bool) {
        let miss_share = 1.0 - CALIBRATION_LEVEL;
        let step = ONLINE_SCALE_STEP * (f64::from(u8::from(missed)) - miss_share);
        self.log_factor =
            (self.log_factor + step).clamp(CALIBRATION_MIN_FACTOR.ln(), ONLINE_SCALE_MAX.ln());
    }

    /// Multiplies every half-width around the point forecast by the factor.
    fn apply(self, out: &mut Forecast) {
        let Some(iv) = &mut out.intervals else {
            return;
        };
        let k = self.factor();
        let bounds = iv.lower.iter_mut().zip(iv.upper.iter_mut());
        for ((lo, up), p) in bounds.zip(&out.point) {
            *lo = p - k * (p - *lo);
            *up = p + k * (*up - p);
        }
    }

    fn check_restored(self) -> Result<()> {
        let (lo, hi) = (CALIBRATION_MIN_FACTOR.ln(), ONLINE_SCALE_MAX.ln());
        if (lo..=hi).contains(&self.log_factor) {
            Ok(())
        } else {
            Err(Error::serialization(format!(
                "an auto model's online_scale.log_factor must be in [{lo}, {hi}], got {}",
                self.log_factor
            )))
        }
    }
}

/// What refitting a winner on the whole series needs.
struct RefitContext<'a> {
    y: &'a [f64],
    periods: &'a [usize],
    period: usize,
    /// The longest of the strongest period and one day, in steps.
    span: usize,
}

impl Auto {
    /// Refits a chosen single model's form on the whole series when budget remains (better
    /// parameters): an ETS warm-started from the training part's estimate with at most a tenth
    /// of the budget (a cold refit spent about 40 % of the whole fit's work), the non-seasonal
    /// one on the recent part only, a seasonal one on the last four spans; a regression or
    /// multi-seasonal model by [`Auto::refit_long_history`]. A refit that cannot run keeps the
    /// rolled-through model (parameters from the training part, state current): still valid.
    fn refit_winner(
        &self,
        ctx: &RefitContext<'_>,
        candidate: Candidate,
        chosen: &mut Chosen,
        evals: &mut usize,
    ) {
        let y = ctx.y;
        if let Chosen::Ets(m) = &*chosen {
            let left = self.max_evals.saturating_sub(*evals);
            let data = if candidate == Candidate::Ets {
                &y[y.len().saturating_sub(NON_SEASONAL_FIT_POINTS)..]
            } else {
                &y[y.len().saturating_sub(4 * ctx.span)..]
            };
            if left >= 10
                && let Some(full) =
                    m.refit_warm(data, left.min(self.max_evals / 10), SELECTION_FTOL)
            {
                *evals += full.evals();
                *chosen = Chosen::Ets(full);
            }
        }
        let spent = *evals;
        *evals += self.refit_long_history(chosen, y, ctx.periods, ctx.period, spent);
    }
}

/// Least training length for the [`Candidate::Regression`] candidate.
const REGRESSION_MIN_TRAIN: usize = 300;

/// Default of [`Auto::long_history_margin`], the relative loss margin the regression and
/// multi-seasonal candidates must win by (added to their validation loss): they have many more
/// parameters than ETS, and one day of validation is a noisy judge (measured on the shared
/// traces: 5 % still let the regression win validation days it then lost on, 10 % kept the
/// gains; out of sample it is the fragile one: `scripts/forecast_loto.py`, docs/forecasting.md).
const LONG_HISTORY_MARGIN: f64 = 0.10;

/// The regression and multi-seasonal candidates (issue 3): tried only on long enough histories.
impl Auto {
    fn regression_spec(&self, period: usize) -> Regression {
        Regression {
            step_s: self.step_s,
            periods: Some(if period > 1 { vec![period] } else { vec![] }),
            ..Regression::default()
        }
    }

    fn multi_seasonal_spec(&self, periods: &[usize], n: usize, max_evals: usize) -> MultiSeasonal {
        MultiSeasonal {
            step_s: self.step_s,
            periods: Some(periods.iter().copied().filter(|&p| n >= 2 * p).collect()),
            max_evals,
            ..MultiSeasonal::default()
        }
    }

    /// Tries [`Candidate::Regression`] (a period, and at least [`REGRESSION_MIN_TRAIN`] training
    /// samples beyond its longest lag; closed form, no likelihood evaluations) and
    /// [`Candidate::MultiSeasonal`] (every detected period with two cycles in the training part,
    /// when there are at least two such periods; at most a fifth of `max_evals`). Both compete with their loss raised by
    /// [`Auto::long_history_margin`] (also in [`FittedAuto::losses`]). Returns the evaluations spent.
    /// A candidate that fails is skipped.
    fn try_long_history_candidates(
        &self,
        yt: &[f64],
        yv: &[f64],
        periods: &[usize],
        period: usize,
        consider: &mut impl FnMut(Candidate, f64, Scored, Chosen, Chosen),
    ) -> usize {
        let (h, u) = (self.horizon, self.under_weight);
        let train = yt.len();
        let max_lag = if period > 1 { period + 1 } else { 3 };
        // Without a period the regression is a plain AR(3) on changes, which ETS already covers.
        if period > 1
            && train >= max_lag + REGRESSION_MIN_TRAIN
            && let Ok(mut m) = self.regression_spec(period).fit(yt)
        {
            let fresh = Chosen::Regression(m.clone());
            if let Ok(scored) = rolling_loss(&mut m, yv, h, u) {
                consider(
                    Candidate::Regression,
                    self.long_history_margin,
                    scored,
                    Chosen::Regression(m),
                    fresh,
                );
            }
        }
        let budget = self.max_evals / 5;
        let spec = self.multi_seasonal_spec(periods, train, budget);
        // with a single period the seasonal ETS covers it; the profiles only pay with several
        if spec.periods.as_ref().is_some_and(|p| p.len() >= 2)
            && let Ok(mut m) = spec.fit(yt)
        {
            let spent = m.evals();
            let fresh = Chosen::MultiSeasonal(m.clone());
            if let Ok(scored) = rolling_loss(&mut m, yv, h, u) {
                consider(
                    Candidate::MultiSeasonal,
                    self.long_history_margin,
                    scored,
                    Chosen::MultiSeasonal(m),
                    fresh,
                );
            }
            return spent;
        }
        0
    }

    /// Refits a regression or multi-seasonal winner on the whole series (the multi-seasonal one
    /// with its remainder's ETS form fixed, when at least 10 evaluations of the budget remain);
    /// returns the evaluations spent. On failure the rolled-through model stays.
    fn refit_long_history(
        &self,
        chosen: &mut Chosen,
        y: &[f64],
        periods: &[usize],
        period: usize,
        spent: usize,
    ) -> usize {
        match chosen {
            Chosen::Regression(_) => {
                if let Ok(m) = self.regression_spec(period).fit(y) {
                    *chosen = Chosen::Regression(m);
                }
                0
            }
            Chosen::MultiSeasonal(old) => {
                let left = self.max_evals.saturating_sub(spent);
                if left < 10 {
                    return 0;
                }
                let (error, trend, _) = old.remainder().components();
                let spec = MultiSeasonal {
                    error: Some(error),
                    trend: Some(trend),
                    // Keep the periods the candidate was scored with.
                    periods: Some(old.periods().to_vec()),
                    ..self.multi_seasonal_spec(periods, y.len(), left)
                };
                match spec.fit(y) {
                    Ok(m) => {
                        let e = m.evals();
                        *chosen = Chosen::MultiSeasonal(m);
                        e
                    }
                    Err(_) => 0,
                }
            }
            // a combination's members are refitted one by one (`refit_winner`)
            Chosen::SeasonalNaive(_) | Chosen::Ets(_) | Chosen::Combined { .. } => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_constants_chosen_on_the_traces_are_fields_with_their_old_values_as_defaults() {
        let a = Auto::default();
        assert_eq!(a.min_acf, PeriodConfig::default().min_acf);
        assert_eq!(a.long_history_margin, LONG_HISTORY_MARGIN);
        assert_eq!(a.combination_weight, COMBINATION_WEIGHT);
        assert_eq!(a.correction_lags, CORRECTION_ESTIMATED_LAGS);
        assert_eq!(a.correction_mean_weights, CORRECTION_MEAN_WEIGHTS);
        // a spec written before the fields reads as the defaults
        let old: Auto = serde_json::from_str(r#"{"step_s": 300, "outlier_k": 4}"#).unwrap();
        assert_eq!(
            old,
            Auto {
                step_s: 300,
                outlier_k: 4.0,
                ..Auto::default()
            }
        );
        for (bad, field) in [
            (
                Auto {
                    min_acf: 1.0,
                    ..Auto::default()
                },
                "min_acf",
            ),
            (
                Auto {
                    long_history_margin: -0.1,
                    ..Auto::default()
                },
                "long_history_margin",
            ),
            (
                Auto {
                    combination_weight: 0.0,
                    ..Auto::default()
                },
                "combination_weight",
            ),
            (
                Auto {
                    correction_lags: 3,
                    ..Auto::default()
                },
                "correction_lags",
            ),
            (
                Auto {
                    correction_mean_weights: vec![0.2, f64::NAN],
                    ..Auto::default()
                },
                "correction_mean_weights",
            ),
        ] {
            let err = bad.validate().unwrap_err().to_string();
            assert!(err.contains(field), "{field}: {err}");
        }
        let none = Auto {
            correction_mean_weights: Vec::new(),
            correction_lags: 2,
            ..Auto::default()
        };
        assert!(none.validate().is_ok());
    }

    #[test]
    fn the_long_history_margin_raises_the_losses_it_applies_to() {
        // hourly data, a daily cycle, 30 days: the regression candidate is tried
        let e = noise(720, 3);
        let y: Vec<f64> = (0..720)
            .map(|t| {
                100.0 + 20.0 * ((t % 24) as f64 / 24.0 * std::f64::consts::TAU).sin() + 5.0 * e[t]
            })
            .collect();
        let losses = |margin: f64| {
            let m = Auto {
                step_s: 3600,
                long_history_margin: margin,
                ..Auto::default()
            }
            .fit(&y)
            .unwrap();
            m.losses().0.to_vec()
        };
        let (plain, raised) = (losses(0.0), losses(0.5));
        let regression = |l: &[(Candidate, f64)]| {
            l.iter()
                .find(|(c, _)| *c == Candidate::Regression)
                .map(|(_, v)| *v)
                .expect("the regression candidate was tried")
        };
        let (a, b) = (regression(&plain), regression(&raised));
        assert!((b / a - 1.5).abs() < 1e-12, "{a} {b}");
        let ets = |l: &[(Candidate, f64)]| l.iter().find(|(c, _)| *c == Candidate::Ets).unwrap().1;
        assert_eq!(ets(&plain), ets(&raised));
    }

    #[test]
    fn a_combination_forecasts_the_mean_of_its_members_and_updates_both() {
        let y: Vec<f64> = (0..400)
            .map(|t| 50.0 + 10.0 * f64::from(t % 24) / 24.0 + f64::from(t * 7 % 5))
            .collect();
        let level = Ets::default().fit(&y).unwrap();
        let seasonal = Ets::default().period(24).fit(&y).unwrap();
        let mut combined = Chosen::Combined {
            level: Box::new(Chosen::Ets(level.clone())),
            seasonal: Box::new(Chosen::Ets(seasonal.clone())),
            weight: COMBINATION_WEIGHT,
        };
        assert_eq!(combined.candidate_kind(), Candidate::Combined);
        let mut out = Forecast::default();
        combined.predict_into(6, Some(0.8), &mut out).unwrap();
        let (a, b) = (
            level.predict(6, 0.8).unwrap(),
            seasonal.predict(6, 0.8).unwrap(),
        );
        let (ia, ib, io) = (
            a.intervals.unwrap(),
            b.intervals.unwrap(),
            out.intervals.unwrap(),
        );
        let mean = |x: f64, z: f64| 0.75 * x + 0.25 * z;
        for i in 0..6 {
            // reference: the weighted mean of the members (exact up to rounding)
            assert!((out.point[i] - mean(a.point[i], b.point[i])).abs() < 1e-12);
            assert!((io.lower[i] - mean(ia.lower[i], ib.lower[i])).abs() < 1e-12);
            assert!((io.upper[i] - mean(ia.upper[i], ib.upper[i])).abs() < 1e-12);
        }
        // a snapshot from before the weight restores as the equal-weight mean it was
        let mut old = serde_json::to_value(&combined).unwrap();
        old.as_object_mut().unwrap().remove("weight");
        let old: Chosen = serde_json::from_value(old).unwrap();
        let Chosen::Combined { weight, .. } = old else {
            unreachable!()
        };
        assert_eq!(weight, 0.5);
        combined.update(61.0).unwrap();
        let Chosen::Combined {
            level, seasonal, ..
        } = &combined
        else {
            unreachable!()
        };
        for member in [level, seasonal] {
            let Chosen::Ets(m) = &**member else {
                unreachable!()
            };
            assert_eq!(m.n_obs(), 401);
        }
    }

    #[test]
    fn a_member_refusing_an_update_leaves_the_combination_unchanged() {
        let y: Vec<f64> = (0..400)
            .map(|t| 50.0 + 10.0 * f64::from(t % 24) / 24.0 + f64::from(t * 7 % 5))
            .collect();
        let level = Ets::default()
            .error(super::super::ErrorType::Additive)
            .fit(&y)
            .unwrap();
        let seasonal = Ets::default()
            .period(24)
            .error(super::super::ErrorType::Multiplicative)
            .season(SeasonType::Multiplicative)
            .fit(&y)
            .unwrap();
        let mut combined = Chosen::Combined {
            level: Box::new(Chosen::Ets(level)),
            seasonal: Box::new(Chosen::Ets(seasonal)),
            weight: 0.5,
        };
        // drives the multiplicative member's level negative: its next forecast is not positive,
        // so it refuses the next update, which the additive level member would take
        combined.update(-1e6).unwrap();
        let before = combined.clone();
        assert!(combined.update(50.0).is_err());
        assert_eq!(combined, before);
    }

    /// Deterministic noise in [-0.5, 0.5) (a 64-bit linear congruential generator).
    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect()
    }

    fn ar2(n: usize, phi: [f64; 2], level: f64) -> Vec<f64> {
        let e = noise(n, 7);
        let mut d = vec![0.0; n];
        for t in 2..n {
            d[t] = phi[0] * d[t - 1] + phi[1] * d[t - 2] + e[t];
        }
        d.iter().map(|v| level + v).collect()
    }

    fn path_loss(path: &[f64], yv: &[f64], h: usize) -> f64 {
        let mut loss = 0.0;
        for (i, f) in path.chunks_exact(h).enumerate() {
            for (p, v) in f.iter().zip(&yv[i..]) {
                loss += selection_loss(v - p, 2.0);
            }
        }
        loss
    }

    // Reference: the AR(2) recursion itself. A zero forecast's errors are the series, so the
    // regression on the two latest errors recovers the process's coefficients `j` steps
    // ahead: c(j) = phi1 c(j-1) + phi2 c(j-2), c(-1) = (1, 0), c(-2) = (0, 1).
    // Tolerance 0.03 on 20,000 samples.
    #[test]
    fn the_correction_recovers_an_autoregressive_error_process() {
        let (phi, h) = ([0.6, 0.25], 3);
        let yv = ar2(20_000, phi, 0.0);
        let path = vec![0.0; yv.len() * h];
        let (c, corrected) = ErrorCorrection::estimate_with(&path, &yv, h, 2.0, 2, None).unwrap();
        assert!(c.mean_beta.is_empty());
        let (mut older, mut old) = ([0.0, 1.0], [1.0, 0.0]);
        for (j, got) in c.beta.iter().enumerate() {
            let want = [
                phi[0] * old[0] + phi[1] * older[0],
                phi[0] * old[1] + phi[1] * older[1],
            ];
            for k in 0..2 {
                assert!(
                    (got[k] - want[k]).abs() < 0.03,
                    "step {j} lag {k}: {} vs {}",
                    got[k],
                    want[k]
                );
            }
            (older, old) = (old, want);
        }
        assert_eq!(c.errors, [yv[yv.len() - 1], yv[yv.len() - 2]]);
        assert!(corrected < 0.8 * path_loss(&path, &yv, h));
    }

    // Reference: an AR(1) error process, e(t) = phi e(t-1) + noise: the best forecast of the
    // error j + 1 steps ahead from the latest one is phi^(j+1) times it. Tolerance 0.03.
    #[test]
    fn one_lag_recovers_an_ar1_error_process() {
        let (phi, h) = (0.8, 4);
        let yv = ar2(20_000, [phi, 0.0], 0.0);
        let path = vec![0.0; yv.len() * h];
        let (c, _) = ErrorCorrection::estimate_with(&path, &yv, h, 2.0, 1, None).unwrap();
        for (j, b) in c.beta.iter().enumerate() {
            let want = phi.powi(i32::try_from(j).unwrap() + 1);
            assert!((b[0] - want).abs() < 0.03, "step {j}: {} vs {want}", b[0]);
            assert_eq!(b[1], 0.0);
        }
    }

    #[test]
    fn white_errors_get_almost_no_correction() {
        let h = 4;
        let yv: Vec<f64> = noise(20_000, 3).iter().map(|e| 10.0 + e).collect();
        let path = vec![10.0; yv.len() * h];
        let (c, corrected) = ErrorCorrection::estimate(&path, &yv, h, 2.0).unwrap();
        assert!(
            c.beta.iter().flatten().all(|b| b.abs() < 0.03),
            "{:?}",
            c.beta
        );
        let raw = path_loss(&path, &yv, h);
        assert!(
            corrected <= raw && corrected > 0.99 * raw,
            "{corrected} vs {raw}"
        );
        // too few origins for the steps: no estimate
        assert!(ErrorCorrection::estimate(&path[..17 * h], &yv[..17], h, 2.0).is_none());
    }

    #[test]
    fn the_shift_moves_points_and_bounds_and_decays_past_the_validated_steps() {
        let mut c = ErrorCorrection {
            beta: vec![[0.5, 0.1], [0.4, 0.0]],
            errors: [0.0, 0.0],
            mean_beta: Vec::new(),
            mean: 0.0,
            mean_weight: 0.0,
        };
        c.record(-3.0);
        c.record(2.0);
        assert_eq!(c.errors, [2.0, -3.0]);
        let mut out = Forecast {
            point: vec![10.0; 4],
            intervals: Some(super::super::Intervals {
                level: 0.9,
                lower: vec![8.0; 4],
                upper: vec![12.0; 4],
            }),
        };
        c.apply(&mut out);
        // 0.5·2 + 0.1·(-3) = 0.7, then 0.8, then decaying at 0.8 / 0.7 -> capped at 1
        let want = [0.7, 0.8, 0.8, 0.8];
        let iv = out.intervals.unwrap();
        for (j, w) in want.iter().enumerate() {
            assert!((out.point[j] - 10.0 - w).abs() < 1e-12, "{:?}", out.point);
            assert!((iv.lower[j] - 8.0 - w).abs() < 1e-12);
            assert!((iv.upper[j] - 12.0 - w).abs() < 1e-12);
        }
        c.beta = vec![[0.8, 0.0], [0.4, 0.0]];
        let mut out = Forecast {
            point: vec![0.0; 4],
            intervals: None,
        };
        c.apply(&mut out);
        let want = [1.6, 0.8, 0.4, 0.2];
        for (got, w) in out.point.iter().zip(want) {
            assert!((got - w).abs() < 1e-12, "{:?}", out.point);
        }
    }

    // Reference: the exact solution of a 3 x 3 system, x = (1, -2, 0.5).
    #[test]
    fn the_cholesky_solver_solves_a_known_system_and_refuses_a_singular_one() {
        let a = [[4.0, 2.0, 0.4], [2.0, 5.0, 1.0], [0.4, 1.0, 3.0]];
        let x = [1.0, -2.0, 0.5];
        let b: [f64; 3] = std::array::from_fn(|i| (0..3).map(|k| a[i][k] * x[k]).sum());
        let got = solve_spd(&a, &b).unwrap();
        for (g, w) in got.iter().zip(x) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
        let singular = [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 6.0, 10.0]];
        assert!(solve_spd(&singular, &b).is_none());
    }

    // Closed form: errors that are a constant bias plus white noise are best corrected by the
    // bias itself, which only the error mean carries (the latest errors are mostly noise).
    #[test]
    fn the_error_mean_carries_a_persistent_bias() {
        let (h, bias) = (3, 2.0);
        let yv: Vec<f64> = noise(20_000, 5).iter().map(|e| bias + e).collect();
        let path = vec![0.0; yv.len() * h];
        let (c, corrected) = ErrorCorrection::estimate(&path, &yv, h, 2.0).unwrap();
        assert!(!c.mean_beta.is_empty(), "the mean term is chosen");
        for j in 0..h {
            assert!((c.shift(j) - bias).abs() < 0.1, "step {j}: {}", c.shift(j));
        }
        let (lags_only, lags_loss) =
            ErrorCorrection::estimate_with(&path, &yv, h, 2.0, 1, None).unwrap();
        assert!(corrected < lags_loss, "{corrected} vs {lags_loss}");
        assert!(lags_only.mean_beta.is_empty());
        // the online record moves the mean by its weight
        let mut online = c.clone();
        let before = online.mean;
        online.record(before + 1.0);
        assert!((online.mean - before - c.mean_weight).abs() < 1e-12);
    }

    /// `n` standard normal values at evenly spaced probabilities, in a deterministic shuffle.
    fn stratified_normal(n: usize) -> Vec<f64> {
        let mut v: Vec<f64> = (0..n)
            .map(|i| stats::normal_quantile((i as f64 + 0.5) / n as f64))
            .collect();
        let mut x = 11u64;
        for i in (1..n).rev() {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            v.swap(i, (x >> 33) as usize % (i + 1));
        }
        v
    }

    // Closed form: normal errors with standard deviation sigma, scored against a model whose
    // 90 % half-width assumes sigma 1, need every interval widened by sigma, at every level.
    #[test]
    fn the_interval_calibration_rescales_a_misstated_normal_width() {
        let (h, sigma, n) = (2, 2.5, 4_000);
        let z90 = stats::normal_quantile(0.95);
        let yv: Vec<f64> = stratified_normal(n)
            .iter()
            .map(|e| 10.0 + sigma * e)
            .collect();
        let scored = Scored {
            loss: 0.0,
            mae: 0.0,
            path: vec![10.0; n * h],
            width: vec![z90; n * h],
        };
        for (l, z) in CALIBRATION_GRID.iter().zip(CALIBRATION_GRID_Z) {
            assert!((stats::normal_quantile(0.5 + l / 2.0) - z).abs() < 1e-12);
        }
        assert_eq!(
            CALIBRATION_GRID[CALIBRATION_GRID.len() - 1],
            CALIBRATION_LEVEL
        );
        let cal = IntervalCalibration::estimate(&scored, None, &yv, h).unwrap();
        let mut widths = Vec::new();
        for level in [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.995] {
            let z = stats::normal_quantile(0.5 + level / 2.0);
            let mut out = Forecast {
                point: vec![10.0; 3],
                intervals: Some(super::super::Intervals {
                    level,
                    lower: vec![10.0 - z; 3],
                    upper: vec![10.0 + z; 3],
                }),
            };
            cal.apply(level, &mut out);
            let iv = out.intervals.unwrap();
            for j in 0..3 {
                let half = iv.upper[j] - 10.0;
                assert!(
                    (half - sigma * z).abs() < 0.02 * sigma * z,
                    "level {level} step {j}: {half}"
                );
                assert!((10.0 - iv.lower[j] - half).abs() < 1e-12);
            }
            widths.push(iv.upper[0] - iv.lower[0]);
        }
        assert!(widths.windows(2).all(|w| w[0] < w[1]), "nested: {widths:?}");
        // too few origins, or no interval: no calibration
        let short = Scored {
            path: vec![10.0; 40 * h],
            width: vec![z90; 40 * h],
            ..scored
        };
        assert!(IntervalCalibration::estimate(&short, None, &yv[..40], h).is_none());
        let none = Scored {
            width: vec![0.0; n * h],
            path: vec![10.0; n * h],
            ..short
        };
        assert!(IntervalCalibration::estimate(&none, None, &yv, h).is_none());
    }

    /// Updates `m` with `level + spread * e` for shuffled normal `e`, returning the share of
    /// values outside the 90 % one-step interval issued before each.
    fn miss_share(m: &mut FittedAuto, level: f64, spread: f64, n: usize) -> f64 {
        let mut missed = 0;
        for e in stratified_normal(n) {
            let y = level + spread * e;
            let iv = m.predict(1, 0.9).unwrap().intervals.unwrap();
            missed += usize::from(y < iv.lower[0] || y > iv.upper[0]);
            m.update(y).unwrap();
        }
        missed as f64 / n as f64
    }

    fn level_model() -> FittedAuto {
        let y: Vec<f64> = stratified_normal(2_000).iter().map(|e| 100.0 + e).collect();
        Auto {
            periods: Some(vec![]),
            ..Auto::default()
        }
        .fit(&y)
        .unwrap()
    }

    #[test]
    fn the_online_scale_brings_one_step_coverage_back_to_the_level_when_the_noise_changes() {
        // noise three times what the model was fitted on: at first about half the values miss
        // (|3e| > 1.64σ); the factor rises until about one in ten does
        let mut m = level_model();
        assert_eq!(m.online_scale, Some(OnlineScale::default()));
        let half = |m: &FittedAuto| {
            let iv = m.predict(1, 0.9).unwrap().intervals.unwrap();
            (iv.upper[0] - iv.lower[0]) / 2.0
        };
        let fitted_half = half(&m);
        let early = miss_share(&mut m, 100.0, 3.0, 20);
        let settled = miss_share(&mut m, 100.0, 3.0, 2_000);
        assert!(early > 0.35, "early misses {early}");
        assert!((0.07..=0.13).contains(&settled), "settled misses {settled}");
        // (the model's own error variance follows part of the way; the factor does the rest)
        let wide = m.online_scale.unwrap().factor();
        assert!(wide > 1.1, "factor {wide}");
        assert!(half(&m) > 2.0 * fitted_half);
        // calmer than fitted: the factor falls below 1, no lower than the floor
        let calm = miss_share(&mut m, 100.0, 0.3, 3_000);
        assert!(calm < 0.12, "calm misses {calm}");
        let narrow = m.online_scale.unwrap().factor();
        assert!(narrow < 1.0, "factor {narrow}");
        assert!(narrow >= CALIBRATION_MIN_FACTOR - 1e-12);
        // intervals stay nested at every level, centred on the point
        let fc50 = m.predict(3, 0.5).unwrap();
        let fc90 = m.predict(3, 0.9).unwrap();
        let (i50, i90) = (fc50.intervals.unwrap(), fc90.intervals.unwrap());
        for j in 0..3 {
            assert!(i90.lower[j] < i50.lower[j] && i50.upper[j] < i90.upper[j]);
            assert_eq!(fc50.point[j], fc90.point[j]);
        }
    }

    #[test]
    fn the_online_scale_round_trips_and_old_snapshots_keep_their_intervals() {
        let mut m = level_model();
        miss_share(&mut m, 100.0, 3.0, 200);
        let json = serde_json::to_value(&m).unwrap();
        assert!(json["online_scale"]["log_factor"].as_f64().unwrap() > 0.0);
        let back = crate::forecast::FittedModel::from_json(
            &serde_json::to_string(&crate::forecast::FittedModel::Auto(m.clone())).unwrap(),
        )
        .unwrap();
        assert_eq!(back, crate::forecast::FittedModel::Auto(m.clone()));
        // a snapshot from before the online scale: updates leave its intervals' width alone
        let mut old = json.clone();
        old.as_object_mut().unwrap().remove("online_scale");
        let mut old: FittedAuto = serde_json::from_value(old).unwrap();
        assert_eq!(old.online_scale, None);
        let mut rescaled = old.clone();
        rescaled.online_scale = Some(OnlineScale::default());
        miss_share(&mut old, 100.0, 3.0, 200);
        miss_share(&mut rescaled, 100.0, 3.0, 200);
        assert_eq!(old.online_scale, None);
        let width = |m: &FittedAuto| {
            let iv = m.predict(1, 0.9).unwrap().intervals.unwrap();
            iv.upper[0] - iv.lower[0]
        };
        let k = rescaled.online_scale.unwrap().factor();
        assert!(k > 1.2, "factor {k}");
        assert!((width(&rescaled) - k * width(&old)).abs() < 1e-9 * width(&rescaled));
        // a factor outside its bounds is refused, naming the field
        let mut broken = json;
        broken["online_scale"]["log_factor"] = serde_json::json!(10.0);
        broken["kind"] = serde_json::json!("auto");
        let err = crate::forecast::FittedModel::from_json(&broken.to_string()).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Serialization);
        assert!(err.message().contains("online_scale.log_factor"), "{err}");
    }

    /// The automatic model on an AR(2) series with no season tried: its one-step errors persist,
    /// so it carries an error correction.
    fn fitted_on_ar2_without_season() -> FittedAuto {
        let y = ar2(3_000, [0.7, 0.2], 100.0);
        Auto {
            periods: Some(vec![]),
            ..Auto::default()
        }
        .fit(&y)
        .unwrap()
    }

    #[test]
    fn an_update_returns_the_corrected_one_step_forecast_a_caller_was_given() {
        let mut m = fitted_on_ar2_without_season();
        let shift = m.correction.as_ref().expect("persistent errors").shift(0);
        assert!(
            m.online_scale.is_some() && shift.abs() > 1e-6,
            "shift {shift}"
        );
        let given = m.predict(1, CALIBRATION_LEVEL).unwrap();
        let raw = m.one_step_with_interval().0.unwrap();
        let (point, upper) = m.update_issued(103.0).unwrap().expect("an interval");
        assert_eq!(point, given.point[0]);
        assert_eq!(upper, given.intervals.unwrap().upper[0]);
        // the half-width around the centre the caller saw, not around the raw point
        assert!((point - raw - shift).abs() < 1e-9, "{point} {raw} {shift}");
    }

    #[test]
    fn an_auto_model_keeps_the_correction_through_updates_and_old_snapshots_read_without_it() {
        let mut m = fitted_on_ar2_without_season();
        let c = m
            .correction
            .clone()
            .expect("persistent errors are corrected");
        let raw = m.chosen.as_ref().unwrap();
        let mut plain = Forecast::default();
        raw.predict_into(5, Some(0.9), &mut plain).unwrap();
        let corrected = m.predict(5, 0.9).unwrap();
        for j in 0..5 {
            let shift = c.shift(j);
            assert!((corrected.point[j] - plain.point[j] - shift).abs() < 1e-9);
        }
        let before = m.one_step_with_interval().0.unwrap();
        m.update(103.0).unwrap();
        let after = m.correction.as_ref().unwrap();
        assert_eq!(after.errors, [103.0 - before, c.errors[0]]);

        let json = serde_json::to_value(&m).unwrap();
        let back: FittedAuto = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, m);
        assert!(json.get("calibration").is_some());
        // a correction from before the error mean reads as the two lags alone
        let mut lags_only = json.clone();
        let c_json = lags_only["correction"].as_object_mut().unwrap();
        for k in ["mean_beta", "mean", "mean_weight"] {
            c_json.remove(k);
        }
        let lags_only: FittedAuto = serde_json::from_value(lags_only).unwrap();
        let c_old = lags_only.correction.unwrap();
        assert!(c_old.mean_beta.is_empty() && c_old.mean_weight == 0.0);
        assert_eq!(c_old.beta, c.beta);
        let mut old = json;
        old.as_object_mut().unwrap().remove("correction");
        old.as_object_mut().unwrap().remove("calibration");
        let old: FittedAuto = serde_json::from_value(old).unwrap();
        assert_eq!(old.correction, None);
        assert_eq!(old.calibration, None);
        let mut plain = Forecast::default();
        old.chosen
            .as_ref()
            .unwrap()
            .predict_into(3, None, &mut plain)
            .unwrap();
        assert_eq!(old.predict(3, None).unwrap().point, plain.point);
    }
}
