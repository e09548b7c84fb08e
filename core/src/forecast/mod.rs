//! Forecasting: models behind one trait pair, with an incremental form for the control loop.
//!
//! An *unfitted* description (a spec: [`SeasonalNaive`], [`Ets`], [`Regression`],
//! [`MultiSeasonal`], [`Auto`], or the serde enum [`ModelSpec`] over them) implements [`Fit`];
//! fitting returns a *fitted* model ([`FittedSeasonalNaive`], [`FittedEts`],
//! [`FittedRegression`], [`FittedMultiSeasonal`], [`FittedAuto`], or [`FittedModel`]) that implements
//! [`Predict`] and [`Update`]: it absorbs each new sample in O(1) (O(period) at worst) without
//! refitting, and is plain serde data a scaler state can embed.
//!
//! Series are regular (one value per step, oldest first, every value finite). Irregular data with
//! timestamps, gaps or `NaN`s goes through [`regularize`] first, which fills holes explicitly.
//! See `docs/forecasting.md` for the models, estimation, period detection, selection and the
//! gap/outlier policy.
//!
//! ```
//! use replicast::forecast::{Fit, ModelSpec, Predict, Update};
//! let y: Vec<f64> = (0..200).map(|t| 10.0 + (t % 24) as f64).collect();
//! let spec: ModelSpec = serde_json::from_str(r#"{"kind": "seasonal_naive", "period": 24}"#).unwrap();
//! let mut fitted = spec.fit(&y).unwrap();
//! let fc = fitted.predict(3, 0.9).unwrap();
//! assert_eq!(fc.point, vec![18.0, 19.0, 20.0]);
//! fitted.update(18.0).unwrap();
//! assert_eq!(fitted.n_obs(), 201);
//! ```

// Formulas keep the literature's notation (y, m, n, h, e, l, b, s).
#![allow(clippy::many_single_char_names)]

mod auto;
mod ets;
mod eval;
mod multi_seasonal;
mod optim;
mod period;
mod regression;
mod seasonal_naive;
mod series;
mod stats;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub(crate) use auto::validate_outlier_k;
pub use auto::{Auto, Candidate, FittedAuto};
pub use ets::{ErrorType, Ets, FittedEts, SeasonType, TrendType};
pub use eval::{EvalConfig, EvalReport, HorizonScore, OriginError, evaluate};
pub use multi_seasonal::{FittedMultiSeasonal, MultiSeasonal};
pub use period::{PeriodConfig, detect_periods};
pub use regression::{FittedRegression, Regression};
pub use seasonal_naive::{FittedSeasonalNaive, SeasonalNaive};
pub use series::{Regular, regularize};
pub(crate) use stats::{normal_cdf, normal_quantile};

/// A forecast: `point` predictions for steps `1..=horizon` after the last observation, and
/// optionally a central prediction interval at one level.
///
/// ```
/// use replicast::forecast::{Fit, Predict, SeasonalNaive};
/// let fc = SeasonalNaive::new(1).fit(&[1.0, 2.0, 3.0]).unwrap().predict(2, 0.8).unwrap();
/// assert_eq!(fc.point, vec![3.0, 3.0]);
/// let iv = fc.intervals.unwrap();
/// assert!(iv.lower[0] < 3.0 && 3.0 < iv.upper[0]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// Point forecasts (the conditional mean), one per step ahead.
    pub point: Vec<f64>,
    /// The prediction interval, when a level was asked for.
    pub intervals: Option<Intervals>,
}

/// A central prediction interval: `lower[i] <= point[i] <= upper[i]`, covering the future value
/// with probability `level` under the model's error distribution.
///
/// ```
/// use replicast::forecast::Intervals;
/// let iv = Intervals { level: 0.9, lower: vec![1.0], upper: vec![3.0] };
/// assert!(iv.lower[0] <= iv.upper[0]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Intervals {
    /// Nominal coverage, in (0, 1).
    pub level: f64,
    /// Lower bounds, one per step ahead.
    pub lower: Vec<f64>,
    /// Upper bounds, one per step ahead.
    pub upper: Vec<f64>,
}

/// An unfitted model description that can be fitted to a regular series.
///
/// ```
/// use replicast::forecast::{Fit, SeasonalNaive};
/// let fitted = SeasonalNaive::new(2).fit(&[1.0, 2.0, 1.0, 2.0]).unwrap();
/// # let _ = fitted;
/// ```
pub trait Fit {
    /// The fitted model this description produces.
    type Fitted: Predict + Update;

    /// Fits the model to `y` (oldest first, one value per step).
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] for an empty series or a non-finite value (the message
    /// names its index), [`crate::ErrorKind::InvalidConfig`] for an invalid spec,
    /// [`crate::ErrorKind::InsufficientData`] when `y` is too short for the model (e.g. shorter
    /// than two seasons), [`crate::ErrorKind::Numerical`] if estimation breaks down.
    fn fit(&self, y: &[f64]) -> Result<Self::Fitted>;
}

/// A fitted model that forecasts the steps after its last observation.
///
/// ```
/// use replicast::forecast::{Fit, Forecast, Predict, SeasonalNaive};
/// let fitted = SeasonalNaive::new(1).fit(&[5.0, 6.0]).unwrap();
/// let mut out = Forecast::default();
/// fitted.predict_into(3, None, &mut out).unwrap(); // reuses out's buffers
/// assert_eq!(out.point, vec![6.0; 3]);
/// assert!(out.intervals.is_none());
/// ```
pub trait Predict {
    /// Writes the forecast for steps `1..=horizon` into `out`, reusing its buffers.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] when `horizon` is 0 or `level` is not in (0, 1);
    /// [`crate::ErrorKind::InsufficientData`] when the model declines to forecast
    /// ([`FittedAuto`] after every candidate did badly); [`crate::ErrorKind::Numerical`] if a
    /// forecast is not finite. `out` is unspecified after an error.
    fn predict_into(&self, horizon: usize, level: Option<f64>, out: &mut Forecast) -> Result<()>;

    /// Number of observations the model has absorbed (fit plus updates).
    fn n_obs(&self) -> usize;

    /// The forecast for steps `1..=horizon`, with a central interval at `level` if given.
    ///
    /// # Errors
    /// As [`Predict::predict_into`].
    fn predict(&self, horizon: usize, level: impl Into<Option<f64>>) -> Result<Forecast>
    where
        Self: Sized,
    {
        let mut out = Forecast::default();
        self.predict_into(horizon, level.into(), &mut out)?;
        Ok(out)
    }
}

/// The incremental form: a fitted model absorbs one new observation without refitting.
///
/// ```
/// use replicast::forecast::{Fit, Predict, SeasonalNaive, Update};
/// let mut m = SeasonalNaive::new(1).fit(&[1.0]).unwrap();
/// m.update(4.0).unwrap();
/// assert_eq!(m.predict(1, None).unwrap().point, vec![4.0]);
/// ```
pub trait Update {
    /// Absorbs `y`, the observation one step after the last one. O(1) for the models here.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] if `y` is not finite, [`crate::ErrorKind::Numerical`]
    /// if it would make the model's error sums overflow (a value of extreme magnitude); the
    /// model is unchanged then.
    fn update(&mut self, y: f64) -> Result<()>;
}

/// Any model, as serde data: `{"kind": "ets", "period": 24}`. Fits to a [`FittedModel`].
///
/// ```
/// use replicast::forecast::{Fit, ModelSpec, Predict};
/// let spec: ModelSpec = serde_json::from_str(r#"{"kind": "auto", "step_s": 60}"#).unwrap();
/// let y: Vec<f64> = (0..600).map(|t| 50.0 + 10.0 * ((t as f64) / 30.0).sin()).collect();
/// let fc = spec.fit(&y).unwrap().predict(5, 0.9).unwrap();
/// assert_eq!(fc.point.len(), 5);
/// assert!(serde_json::from_str::<ModelSpec>(r#"{"kind": "ets", "bogus": 1}"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ModelSpec {
    /// [`SeasonalNaive`]: repeat the value one period ago.
    SeasonalNaive(SeasonalNaive),
    /// [`Ets`]: exponential smoothing (Holt-Winters) with estimated parameters.
    Ets(Ets),
    /// [`Auto`]: period detection plus selection by rolling out-of-sample error.
    Auto(Auto),
    /// [`Regression`]: least squares on lags and calendar Fourier terms.
    Regression(Regression),
    /// [`MultiSeasonal`]: one seasonal profile per period plus ETS on the remainder.
    MultiSeasonal(MultiSeasonal),
}

impl ModelSpec {
    /// Parses and validates a spec from JSON (`{"kind": "ets", "period": 24}`); every binding
    /// reads model specs through this.
    ///
    /// ```
    /// use replicast::{ErrorKind, forecast::ModelSpec};
    /// let err = ModelSpec::from_json(r#"{"kind": "ets", "bogus": 1}"#).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    /// assert!(err.message().contains("unknown field `bogus`"));
    /// ```
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] for malformed JSON, an unknown kind or field, or a
    /// value [`ModelSpec::validate`] refuses.
    pub fn from_json(text: &str) -> Result<Self> {
        let spec: Self = serde_json::from_str(text)
            .map_err(|e| Error::invalid_config(format!("invalid model spec: {e}")))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Checks the spec without fitting.
    ///
    /// ```
    /// use replicast::forecast::{ModelSpec, SeasonalNaive};
    /// assert!(ModelSpec::SeasonalNaive(SeasonalNaive::new(0)).validate().is_err());
    /// ```
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] naming the offending field.
    pub fn validate(&self) -> Result<()> {
        match self {
            ModelSpec::SeasonalNaive(s) => s.validate(),
            ModelSpec::Ets(s) => s.validate(),
            ModelSpec::Auto(s) => s.validate(),
            ModelSpec::Regression(s) => s.validate(),
            ModelSpec::MultiSeasonal(s) => s.validate(),
        }
    }
}

impl Fit for ModelSpec {
    type Fitted = FittedModel;

    fn fit(&self, y: &[f64]) -> Result<FittedModel> {
        Ok(match self {
            ModelSpec::SeasonalNaive(s) => FittedModel::SeasonalNaive(s.fit(y)?),
            ModelSpec::Ets(s) => FittedModel::Ets(s.fit(y)?),
            ModelSpec::Auto(s) => FittedModel::Auto(s.fit(y)?),
            ModelSpec::Regression(s) => FittedModel::Regression(s.fit(y)?),
            ModelSpec::MultiSeasonal(s) => FittedModel::MultiSeasonal(s.fit(y)?),
        })
    }
}

/// Any fitted model, as serde data (what a scaler state embeds).
///
/// ```
/// use replicast::forecast::{Fit, FittedModel, ModelSpec, SeasonalNaive};
/// let fitted = ModelSpec::SeasonalNaive(SeasonalNaive::new(2)).fit(&[1.0, 2.0, 3.0]).unwrap();
/// let json = serde_json::to_string(&fitted).unwrap();
/// let back: FittedModel = serde_json::from_str(&json).unwrap();
/// assert_eq!(back, fitted);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FittedModel {
    /// A fitted [`SeasonalNaive`].
    SeasonalNaive(FittedSeasonalNaive),
    /// A fitted [`Ets`].
    Ets(FittedEts),
    /// A fitted [`Auto`].
    Auto(FittedAuto),
    /// A fitted [`Regression`].
    Regression(FittedRegression),
    /// A fitted [`MultiSeasonal`].
    MultiSeasonal(FittedMultiSeasonal),
}

impl FittedModel {
    /// Restores a model from its JSON (serde's form of `FittedModel`) and checks that it is
    /// usable. Serde accepts internally inconsistent models (a ring buffer shorter than its
    /// period, a position outside it, say) that would fail on first use; a check of the
    /// structure (the lengths and positions forecasts and updates index with, counts at most
    /// 2⁵³) and a trial one-step forecast refuse them here. A model that declines to forecast is
    /// usable. Every binding restores models through this.
    ///
    /// ```
    /// use replicast::forecast::{Fit, FittedModel, ModelSpec, SeasonalNaive};
    /// let fitted = ModelSpec::SeasonalNaive(SeasonalNaive::new(2)).fit(&[1.0, 2.0, 3.0]).unwrap();
    /// let back = FittedModel::from_json(&serde_json::to_string(&fitted).unwrap()).unwrap();
    /// assert_eq!(back, fitted);
    /// let broken = r#"{"kind": "seasonal_naive", "period": 4, "last": [1.0], "pos": 3, "n": 4, "sse": 0.0, "n_err": 0}"#;
    /// assert!(FittedModel::from_json(broken).is_err());
    /// ```
    ///
    /// # Errors
    /// [`crate::ErrorKind::Serialization`] for malformed JSON or an inconsistent model.
    pub fn from_json(text: &str) -> Result<Self> {
        let model: FittedModel = serde_json::from_str(text)
            .map_err(|e| Error::serialization(format!("invalid fitted model JSON: {e}")))?;
        model.check_usable()?;
        Ok(model)
    }

    /// The checks behind [`FittedModel::from_json`]: the model's structure (the lengths and
    /// positions its forecasts and updates index with, counters far from overflowing), then a
    /// trial forecast. The structural check is what keeps `predict` and `update` from panicking
    /// on a restored model; the trial's `catch_unwind` is a backstop only (it does nothing in a
    /// `panic = "abort"` build, and the fuzz targets report any panic that reaches it).
    pub(crate) fn check_usable(&self) -> Result<()> {
        self.check_restored().map_err(|e| {
            Error::serialization(format!("invalid fitted model JSON: {}", e.message()))
        })?;
        let trial = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut fc = Forecast::default();
            self.predict_into(1, Some(0.5), &mut fc)
        }));
        match trial {
            Ok(Ok(()) | Err(_)) => Ok(()),
            Err(_) => Err(Error::serialization(
                "invalid fitted model JSON: the model is internally inconsistent",
            )),
        }
    }
}

impl FittedModel {
    /// The structure of the model (see [`FittedModel::check_usable`]); the message names the
    /// field.
    pub(crate) fn check_restored(&self) -> Result<()> {
        match self {
            FittedModel::SeasonalNaive(m) => m.check_restored(),
            FittedModel::Ets(m) => m.check_restored(),
            FittedModel::Auto(m) => m.check_restored(),
            FittedModel::Regression(m) => m.check_restored(),
            FittedModel::MultiSeasonal(m) => m.check_restored(),
        }
    }
}

/// Largest count (observations, errors, evaluations) a restored model may carry: 2⁵³, far
/// beyond any history (285 million years of one-second samples) and far from overflowing when
/// updates count on.
pub(crate) const MAX_RESTORED_COUNT: usize = 1 << 53;

/// Refuses a restored model's count above [`MAX_RESTORED_COUNT`], naming the field.
pub(crate) fn check_restored_count(field: &str, n: usize) -> Result<()> {
    if n > MAX_RESTORED_COUNT {
        return Err(Error::serialization(format!(
            "{field} must be at most 2^53, got {n}"
        )));
    }
    Ok(())
}

impl Predict for FittedModel {
    fn predict_into(&self, horizon: usize, level: Option<f64>, out: &mut Forecast) -> Result<()> {
        match self {
            FittedModel::SeasonalNaive(m) => m.predict_into(horizon, level, out),
            FittedModel::Ets(m) => m.predict_into(horizon, level, out),
            FittedModel::Auto(m) => m.predict_into(horizon, level, out),
            FittedModel::Regression(m) => m.predict_into(horizon, level, out),
            FittedModel::MultiSeasonal(m) => m.predict_into(horizon, level, out),
        }
    }

    fn n_obs(&self) -> usize {
        match self {
            FittedModel::SeasonalNaive(m) => m.n_obs(),
            FittedModel::Ets(m) => m.n_obs(),
            FittedModel::Auto(m) => m.n_obs(),
            FittedModel::Regression(m) => m.n_obs(),
            FittedModel::MultiSeasonal(m) => m.n_obs(),
        }
    }
}

impl FittedModel {
    /// [`Update::update`], returning the one-step forecast issued for `y` where the model keeps
    /// one (the automatic model: `FittedAuto::update_issued` says which point and bound).
    pub(crate) fn update_issued(&mut self, y: f64) -> Result<Option<(f64, f64)>> {
        match self {
            FittedModel::Auto(m) => m.update_issued(y),
            other => other.update(y).map(|()| None),
        }
    }

    /// The forecast the predictive source provisions to: as [`Predict::predict_into`], but an
    /// automatic model's intervals carry the calibration of its fit without the online
    /// rescaling that follows their one-step coverage (`FittedAuto::predict_without_online_scale`
    /// says why).
    pub(crate) fn predict_for_provisioning(
        &self,
        horizon: usize,
        level: Option<f64>,
        out: &mut Forecast,
    ) -> Result<()> {
        match self {
            FittedModel::Auto(m) => m.predict_without_online_scale(horizon, level, out),
            other => other.predict_into(horizon, level, out),
        }
    }
}

impl Update for FittedModel {
    fn update(&mut self, y: f64) -> Result<()> {
        match self {
            FittedModel::SeasonalNaive(m) => m.update(y),
            FittedModel::Ets(m) => m.update(y),
            FittedModel::Auto(m) => m.update(y),
            FittedModel::Regression(m) => m.update(y),
            FittedModel::MultiSeasonal(m) => m.update(y),
        }
    }
}

/// Rejects an empty series or a non-finite value, naming its index.
pub(crate) fn check_series(y: &[f64]) -> Result<()> {
    if y.is_empty() {
        return Err(Error::invalid_input("series is empty"));
    }
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid_input(format!(
            "y[{i}] must be finite, got {}",
            y[i]
        )));
    }
    Ok(())
}

/// Rejects a zero horizon and a level outside (0, 1).
pub(crate) fn check_request(horizon: usize, level: Option<f64>) -> Result<()> {
    if horizon == 0 {
        return Err(Error::invalid_input("horizon must be at least 1, got 0"));
    }
    if let Some(l) = level
        && !(l > 0.0 && l < 1.0)
    {
        return Err(Error::invalid_input(format!(
            "level must be in (0, 1), got {l}"
        )));
    }
    Ok(())
}

/// Rejects a non-finite observation passed to `update`.
pub(crate) fn check_value(y: f64) -> Result<()> {
    if y.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid_input(format!("y must be finite, got {y}")))
    }
}

/// Fills `out` from point forecasts and per-step standard deviations.
pub(crate) fn fill_forecast(
    out: &mut Forecast,
    level: Option<f64>,
    point: impl Iterator<Item = (f64, f64)>,
) -> Result<()> {
    out.point.clear();
    let z = level.map(|l| (l, stats::normal_quantile(0.5 + l / 2.0)));
    let mut iv = out.intervals.take().unwrap_or_default();
    iv.lower.clear();
    iv.upper.clear();
    for (p, sd) in point {
        if !p.is_finite() || !sd.is_finite() {
            return Err(Error::new(
                crate::ErrorKind::Numerical,
                format!("forecast is not finite (point {p}, sd {sd})"),
            ));
        }
        out.point.push(p);
        if let Some((_, z)) = z {
            iv.lower.push(p - z * sd);
            iv.upper.push(p + z * sd);
        }
    }
    if let Some((l, _)) = z {
        iv.level = l;
        out.intervals = Some(iv);
    }
    Ok(())
}
