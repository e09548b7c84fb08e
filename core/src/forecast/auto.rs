//! Automatic model choice: detect periods, fit a few candidates on the older part of the series,
//! roll them through the recent part scoring an asymmetric loss, keep the best.

use serde::{Deserialize, Serialize};

use super::ets::{Ets, FittedEts};
use super::multi_seasonal::{FittedMultiSeasonal, MultiSeasonal};
use super::period::{PeriodConfig, calendar_season, detect_periods};
use super::regression::{FittedRegression, Regression};
use super::seasonal_naive::{FittedSeasonalNaive, SeasonalNaive};
use super::{Fit, Forecast, Predict, Update, check_series, check_value};
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
///
/// **Outliers** (`outlier_k > 0`): an update whose one-step error `e = y - ŷ` exceeds
/// `outlier_k · s`, where `s` is the model's recent mean absolute one-step error, reaches the
/// chosen model as `ŷ ± outlier_k · s` (winsorised), so one wild sample (a scrape glitch, a
/// counter reset) cannot drag the level and the forecasts after it. A **second consecutive**
/// exceedance in the same direction is taken as a level shift: it reaches the model unclipped
/// (the load really moved; the model lags one step at most), and its error counts in `s` and in
/// [`FittedAuto::needs_refit`]'s degradation test. Off by default: on the shared traces (whose
/// spikes are mostly real load) it moved no median relMAE by more than 0.002 at `k = 4` and cost
/// the NYC-taxi trace 0.275 → 0.293 at `k = 6` (docs/forecasting.md); turn it on for metrics with
/// isolated glitches. The fit itself sees the raw history; the selection loss penalises
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
/// These two have many parameters: their validation loss is raised by 10 % before the comparison
/// (and reported so by [`FittedAuto::losses`]). Each is fitted on the first `1 - holdout` of the
/// series and updated through the rest, forecasting `horizon` steps at every origin; the loss is
/// `Σ w·|y - ŷ|` with `w = under_weight` when `y > ŷ`. The winner's form is refitted on the whole
/// series (warm-started from the training part's parameters, with a tenth of `max_evals`). If the
/// winner's loss exceeds persistence's (naive, period 1) by more than `no_forecast_margin`, the
/// fitted model declines to forecast (a predictive source then stays
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Chosen {
    SeasonalNaive(FittedSeasonalNaive),
    Ets(FittedEts),
    Regression(FittedRegression),
    MultiSeasonal(FittedMultiSeasonal),
}

impl Chosen {
    fn as_predict(&self) -> &dyn PredictDyn {
        match self {
            Chosen::SeasonalNaive(m) => m,
            Chosen::Ets(m) => m,
            Chosen::Regression(m) => m,
            Chosen::MultiSeasonal(m) => m,
        }
    }

    fn update(&mut self, y: f64) -> Result<()> {
        match self {
            Chosen::SeasonalNaive(m) => m.update(y),
            Chosen::Ets(m) => m.update(y),
            Chosen::Regression(m) => m.update(y),
            Chosen::MultiSeasonal(m) => m.update(y),
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
}

/// Optimiser tolerance of the ETS candidates, relative to `1 + |-2 log L|` (`Ets::fit` uses
/// 1e-7): on days of one-minute data `-2 log L` is about 1e4, so the simplex stops within 0.1
/// of the optimum, far below what changes the `AICc` choice or the forecasts, while near a
/// parameter bound (alpha or gamma → 0, common for long seasons) the tighter tolerance used up
/// the whole budget crawling along a flat valley.
const SELECTION_FTOL: f64 = 1e-5;

/// Most recent points the non-seasonal ETS candidate is estimated on.
const NON_SEASONAL_FIT_POINTS: usize = 1440;

/// Per-origin selection loss over steps `1..=h` of a model rolled through `y`.
fn rolling_loss<M: Predict + Update>(
    model: &mut M,
    y: &[f64],
    h: usize,
    under: f64,
) -> Result<(f64, f64)> {
    let mut out = Forecast::default();
    let (mut loss, mut one_step) = (0.0, 0.0);
    for i in 0..y.len() {
        model.predict_into(h, None, &mut out)?;
        for (j, f) in out.point.iter().enumerate() {
            if let Some(&v) = y.get(i + j) {
                let e = v - f;
                loss += if e > 0.0 { under * e } else { -e };
            }
        }
        one_step += (y[i] - out.point[0]).abs();
        model.update(y[i])?;
    }
    Ok((loss, one_step / y.len().max(1) as f64))
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
        if !(self.outlier_k == 0.0 || (self.outlier_k >= 2.0 && self.outlier_k.is_finite())) {
            return Err(Error::invalid_config(format!(
                "outlier_k must be 0 (off) or finite and >= 2, got {}",
                self.outlier_k
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
        let mut losses = Vec::new();
        let mut best: Option<(Candidate, f64, f64, Chosen)> = None;
        let mut consider = |c: Candidate, loss: f64, mae: f64, m: Chosen| {
            losses.push((c, loss));
            if best.as_ref().is_none_or(|b| loss < b.1) {
                best = Some((c, loss, mae, m));
            }
        };
        // Persistence (the reactive reference) and seasonal naive.
        let mut naive = SeasonalNaive::new(1).fit(yt)?;
        let (persistence_loss, naive_mae) = rolling_loss(&mut naive, yv, h, u)?;
        if period > 1 {
            let mut sn = SeasonalNaive::new(period).fit(yt)?;
            let (l, mae) = rolling_loss(&mut sn, yv, h, u)?;
            consider(Candidate::SeasonalNaive, l, mae, Chosen::SeasonalNaive(sn));
        } else {
            consider(
                Candidate::SeasonalNaive,
                persistence_loss,
                naive_mae,
                Chosen::SeasonalNaive(naive),
            );
        }
        // Seasonal naive at the calendar season (daily, else hourly: `evaluate`'s baseline) is
        // always a candidate, so the choice never loses to it on the validation part, also when
        // detection finds no period or another one (an hourly cron pattern too weak for the
        // autocorrelation test made the non-seasonal ETS win and lose to it out of sample).
        // An explicit period list (empty = non-seasonal) is the caller's choice and is kept.
        let calendar = calendar_season(n, self.step_s);
        if self.periods.is_none() && calendar > 1 && calendar != period && train >= calendar {
            let mut sn = SeasonalNaive::new(calendar).fit(yt)?;
            let (l, mae) = rolling_loss(&mut sn, yv, h, u)?;
            consider(Candidate::SeasonalNaive, l, mae, Chosen::SeasonalNaive(sn));
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
            let (l, mae) = rolling_loss(&mut m, yv, h, u)?;
            consider(Candidate::Ets, l, mae, Chosen::Ets(m));
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
                let (l, mae) = rolling_loss(&mut m, yv, h, u)?;
                consider(Candidate::EtsSeasonal, l, mae, Chosen::Ets(m));
            }
        }
        let Some((candidate, loss, mae, mut chosen)) = best else {
            return Err(Error::insufficient_data(
                "no candidate model could be fitted",
            ));
        };
        let declined = loss > persistence_loss * (1.0 + self.no_forecast_margin);
        // Refit the winner's form on the whole series when budget remains (better parameters),
        // warm-started from the training part's estimate: a tenth of the budget suffices
        // (a cold refit spent about 40 % of the whole fit's work here).
        if let Chosen::Ets(m) = &chosen {
            let left = self.max_evals.saturating_sub(evals);
            if left >= 10
                && let Some(full) = m.refit_warm(
                    if candidate == Candidate::Ets {
                        &y[recent(y)..]
                    } else {
                        &y[n.saturating_sub(4 * span)..]
                    },
                    left.min(self.max_evals / 10),
                    SELECTION_FTOL,
                )
            {
                evals += full.evals();
                chosen = Chosen::Ets(full);
            }
            // A refit that cannot run keeps the rolled-through model (parameters from the
            // training part, state current): still valid.
        }
        evals += self.refit_long_history(&mut chosen, y, &periods, period, evals);
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

    /// Validation loss of every candidate tried, and of persistence (the reference).
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

    fn one_step(&self) -> Option<f64> {
        let mut out = Forecast {
            point: Vec::with_capacity(1),
            intervals: None,
        };
        let m = self.chosen.as_ref()?;
        m.as_predict().predict_into_dyn(1, None, &mut out).ok()?;
        out.point.first().copied()
    }
}

impl Predict for FittedAuto {
    fn predict_into(&self, horizon: usize, level: Option<f64>, out: &mut Forecast) -> Result<()> {
        match &self.chosen {
            Some(m) => m.as_predict().predict_into_dyn(horizon, level, out),
            None => Err(Error::insufficient_data(
                "no candidate beat persistence on recent data: no forecast (refit later)",
            )),
        }
    }

    fn n_obs(&self) -> usize {
        // The chosen model may have been estimated on a recent part only (non-seasonal ETS).
        self.n
    }
}

impl Update for FittedAuto {
    fn update(&mut self, y: f64) -> Result<()> {
        check_value(y)?;
        let pred = self.one_step();
        let (absorbed, err) = match pred {
            Some(p) => self.screen_outlier(y, p),
            None => (y, None),
        };
        if let Some(m) = &mut self.chosen {
            m.update(absorbed)?;
        }
        if let Some(e) = err {
            const LAMBDA: f64 = 0.02;
            self.recent_abs_err = (1.0 - LAMBDA) * self.recent_abs_err + LAMBDA * e;
        }
        self.n += 1;
        self.since_fit += 1;
        Ok(())
    }
}

/// Least training length for the [`Candidate::Regression`] candidate.
const REGRESSION_MIN_TRAIN: usize = 300;

/// Relative loss margin the regression and multi-seasonal candidates must win by (added to
/// their validation loss): they have many more parameters than ETS, and one day of validation
/// is a noisy judge (measured on the shared traces: 5 % still let the regression win validation
/// days it then lost on, 10 % kept the gains; docs/forecasting.md).
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
    /// [`LONG_HISTORY_MARGIN`] (also in [`FittedAuto::losses`]). Returns the evaluations spent.
    /// A candidate that fails is skipped.
    fn try_long_history_candidates(
        &self,
        yt: &[f64],
        yv: &[f64],
        periods: &[usize],
        period: usize,
        consider: &mut impl FnMut(Candidate, f64, f64, Chosen),
    ) -> usize {
        let (h, u) = (self.horizon, self.under_weight);
        let train = yt.len();
        let max_lag = if period > 1 { period + 1 } else { 3 };
        // Without a period the regression is a plain AR(3) on changes, which ETS already covers.
        if period > 1
            && train >= max_lag + REGRESSION_MIN_TRAIN
            && let Ok(mut m) = self.regression_spec(period).fit(yt)
            && let Ok((l, mae)) = rolling_loss(&mut m, yv, h, u)
        {
            consider(
                Candidate::Regression,
                l * (1.0 + LONG_HISTORY_MARGIN),
                mae,
                Chosen::Regression(m),
            );
        }
        let budget = self.max_evals / 5;
        let spec = self.multi_seasonal_spec(periods, train, budget);
        // with a single period the seasonal ETS covers it; the profiles only pay with several
        if spec.periods.as_ref().is_some_and(|p| p.len() >= 2)
            && let Ok(mut m) = spec.fit(yt)
        {
            let spent = m.evals();
            if let Ok((l, mae)) = rolling_loss(&mut m, yv, h, u) {
                consider(
                    Candidate::MultiSeasonal,
                    l * (1.0 + LONG_HISTORY_MARGIN),
                    mae,
                    Chosen::MultiSeasonal(m),
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
            Chosen::SeasonalNaive(_) | Chosen::Ets(_) => 0,
        }
    }
}
