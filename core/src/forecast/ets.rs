//! ETS / Holt-Winters exponential smoothing in the innovations state-space form
//! (Hyndman, Koehler, Ord & Snyder, *Forecasting with Exponential Smoothing*, 2008).
//!
//! Smoothing parameters are estimated by maximum likelihood with a bounded Nelder–Mead; initial
//! states by classical decomposition of the first seasons (the "heuristic" initialisation of
//! statsmodels, needed for long seasons such as 1,440 one-minute steps); the model form is chosen
//! by `AICc` among a small candidate set.

use serde::{Deserialize, Serialize};

use super::optim::nelder_mead;
use super::{
    Fit, Forecast, Predict, Update, check_request, check_restored_count, check_series, check_value,
    fill_forecast,
};
use crate::error::{Error, ErrorKind, Result};

/// How the error enters the model (changes the likelihood and intervals, not the point forecasts).
///
/// ```
/// use replicast::forecast::ErrorType;
/// assert_eq!(serde_json::to_string(&ErrorType::Multiplicative).unwrap(), "\"multiplicative\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    /// `y = ŷ + e`.
    Additive,
    /// `y = ŷ (1 + e)`; needs strictly positive data.
    Multiplicative,
}

/// The trend component.
///
/// ```
/// use replicast::forecast::TrendType;
/// assert_eq!(serde_json::to_string(&TrendType::AdditiveDamped).unwrap(), "\"additive_damped\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendType {
    /// No trend (level only).
    None,
    /// Linear trend.
    Additive,
    /// Linear trend damped by `phi` in [0.8, 0.98].
    AdditiveDamped,
}

/// The seasonal component.
///
/// ```
/// use replicast::forecast::SeasonType;
/// assert_eq!(serde_json::to_string(&SeasonType::Additive).unwrap(), "\"additive\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeasonType {
    /// No season.
    None,
    /// Season added to the level.
    Additive,
    /// Season multiplies the level; needs strictly positive data.
    Multiplicative,
}

/// ETS spec. Components left `None` are chosen automatically by `AICc`.
///
/// | field | default | unit/range | meaning |
/// |---|---|---|---|
/// | `period` | 1 | steps, >= 1 | season length; 1 = non-seasonal |
/// | `error` | auto | additive / multiplicative | error form (multiplicative only tried on positive data) |
/// | `trend` | auto | `none` / `additive` / `additive_damped` | trend form (auto tries none and damped) |
/// | `season` | auto | none / additive / multiplicative | season form (auto: none if `period` is 1, else additive and, on positive data, multiplicative) |
/// | `max_evals` | 400 | >= 10 | work budget: likelihood evaluations over all candidates |
///
/// The candidate set excludes additive error with multiplicative season (numerically unstable).
/// When `max_evals` cannot give every candidate 40 evaluations, multiplicative and then damped
/// candidates are dropped: the fit gets cheaper, never slower.
///
/// ```
/// use replicast::forecast::{Ets, Fit, Predict, TrendType};
/// let y: Vec<f64> = (0..100).map(|t| 10.0 + 0.5 * t as f64).collect();
/// let fitted = Ets::default().trend(TrendType::Additive).fit(&y).unwrap();
/// let fc = fitted.predict(2, 0.9).unwrap();
/// assert!((fc.point[0] - 60.0).abs() < 0.5);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ets {
    /// Season length in steps (1 = no season).
    pub period: usize,
    /// Error form, `None` = choose.
    pub error: Option<ErrorType>,
    /// Trend form, `None` = choose.
    pub trend: Option<TrendType>,
    /// Season form, `None` = choose.
    pub season: Option<SeasonType>,
    /// Likelihood evaluations allowed in one fit, over all candidates.
    pub max_evals: usize,
}

impl Default for Ets {
    fn default() -> Self {
        Self {
            period: 1,
            error: None,
            trend: None,
            season: None,
            max_evals: 400,
        }
    }
}

/// Fewest evaluations a candidate gets before it is dropped for budget.
const MIN_EVALS_PER_CANDIDATE: usize = 40;

impl Ets {
    /// Sets the season length.
    ///
    /// ```
    /// assert_eq!(replicast::forecast::Ets::default().period(24).period, 24);
    /// ```
    #[must_use]
    pub fn period(mut self, period: usize) -> Self {
        self.period = period;
        self
    }

    /// Fixes the error form.
    ///
    /// ```
    /// use replicast::forecast::{Ets, ErrorType};
    /// assert_eq!(Ets::default().error(ErrorType::Additive).error, Some(ErrorType::Additive));
    /// ```
    #[must_use]
    pub fn error(mut self, error: ErrorType) -> Self {
        self.error = Some(error);
        self
    }

    /// Fixes the trend form.
    ///
    /// ```
    /// use replicast::forecast::{Ets, TrendType};
    /// assert_eq!(Ets::default().trend(TrendType::None).trend, Some(TrendType::None));
    /// ```
    #[must_use]
    pub fn trend(mut self, trend: TrendType) -> Self {
        self.trend = Some(trend);
        self
    }

    /// Damped additive trend (`true`) or no trend choice restriction (`false` = choose).
    ///
    /// ```
    /// use replicast::forecast::{Ets, TrendType};
    /// assert_eq!(Ets::default().damped(true).trend, Some(TrendType::AdditiveDamped));
    /// ```
    #[must_use]
    pub fn damped(mut self, damped: bool) -> Self {
        self.trend = damped.then_some(TrendType::AdditiveDamped);
        self
    }

    /// Fixes the season form.
    ///
    /// ```
    /// use replicast::forecast::{Ets, SeasonType};
    /// assert_eq!(Ets::default().season(SeasonType::Additive).season, Some(SeasonType::Additive));
    /// ```
    #[must_use]
    pub fn season(mut self, season: SeasonType) -> Self {
        self.season = Some(season);
        self
    }

    /// Sets the work budget (likelihood evaluations per fit).
    ///
    /// ```
    /// assert_eq!(replicast::forecast::Ets::default().max_evals(100).max_evals, 100);
    /// ```
    #[must_use]
    pub fn max_evals(mut self, max_evals: usize) -> Self {
        self.max_evals = max_evals;
        self
    }

    /// Checks the spec.
    ///
    /// ```
    /// use replicast::forecast::{Ets, SeasonType};
    /// assert!(Ets::default().season(SeasonType::Additive).validate().is_err()); // period 1
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for a zero period, a season with period 1, a multiplicative
    /// season with additive error, or `max_evals < 10`.
    pub fn validate(&self) -> Result<()> {
        if self.period == 0 {
            return Err(Error::invalid_config("period must be at least 1, got 0"));
        }
        if self.period == 1 && matches!(self.season, Some(s) if s != SeasonType::None) {
            return Err(Error::invalid_config(
                "season needs period >= 2, got period 1",
            ));
        }
        if self.error == Some(ErrorType::Additive)
            && self.season == Some(SeasonType::Multiplicative)
        {
            return Err(Error::invalid_config(
                "multiplicative season with additive error is not supported (unstable); use error multiplicative",
            ));
        }
        if self.max_evals < 10 {
            return Err(Error::invalid_config(format!(
                "max_evals must be at least 10, got {}",
                self.max_evals
            )));
        }
        Ok(())
    }

    /// The candidate forms, cheapest first, trimmed to the budget.
    fn candidates(&self, positive: bool) -> Vec<Form> {
        let errors: Vec<ErrorType> = match self.error {
            Some(e) => vec![e],
            None if positive => vec![ErrorType::Additive, ErrorType::Multiplicative],
            None => vec![ErrorType::Additive],
        };
        let trends: Vec<TrendType> = match self.trend {
            Some(t) => vec![t],
            None => vec![TrendType::None, TrendType::AdditiveDamped],
        };
        let seasons: Vec<SeasonType> = match self.season {
            Some(s) => vec![s],
            None if self.period == 1 => vec![SeasonType::None],
            None if positive => vec![SeasonType::Additive, SeasonType::Multiplicative],
            None => vec![SeasonType::Additive],
        };
        let mut out = Vec::new();
        for &season in &seasons {
            for &trend in &trends {
                for &error in &errors {
                    if error == ErrorType::Additive && season == SeasonType::Multiplicative {
                        continue;
                    }
                    out.push(Form {
                        error,
                        trend,
                        season,
                    });
                }
            }
        }
        // Over budget: drop multiplicative, then damped forms (cheaper model, documented).
        let fits = |v: &Vec<Form>| v.len() * MIN_EVALS_PER_CANDIDATE <= self.max_evals;
        if !fits(&out) && out.len() > 1 {
            out.retain(|f| {
                f.error == ErrorType::Additive && f.season != SeasonType::Multiplicative
            });
        }
        if !fits(&out) && out.len() > 1 {
            out.retain(|f| f.trend != TrendType::AdditiveDamped);
        }
        if out.is_empty() {
            // Only multiplicative forms were asked for on non-positive data: keep the cheapest
            // additive one so the caller gets a model (documented fallback).
            out.push(Form {
                error: ErrorType::Additive,
                trend: TrendType::None,
                season: if self.period > 1 {
                    SeasonType::Additive
                } else {
                    SeasonType::None
                },
            });
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Form {
    error: ErrorType,
    trend: TrendType,
    season: SeasonType,
}

#[derive(Debug, Clone, Copy)]
struct Params {
    alpha: f64,
    beta: f64,
    gamma: f64,
    phi: f64,
}

/// Maps the optimiser's unconstrained vector into the admissible parameter box
/// (0 < alpha < 1, 0 < beta < alpha, 0 < gamma < 1 - alpha, 0.8 <= phi <= 0.98).
fn decode(form: Form, x: &[f64]) -> Params {
    let sig = |v: f64| 1e-4 + (0.9999 - 1e-4) / (1.0 + (-v).exp());
    let mut i = 0;
    let mut next = || {
        let v = x.get(i).copied().unwrap_or(0.0);
        i += 1;
        v
    };
    let alpha = sig(next());
    let beta = if form.trend == TrendType::None {
        0.0
    } else {
        alpha * sig(next())
    };
    let gamma = if form.season == SeasonType::None {
        0.0
    } else {
        (1.0 - alpha) * sig(next())
    };
    let phi = match form.trend {
        TrendType::AdditiveDamped => 0.8 + 0.18 / (1.0 + (-next()).exp()),
        _ => 1.0,
    };
    Params {
        alpha,
        beta,
        gamma,
        phi,
    }
}

/// Inverse of the logistic map used by [`decode`], for starting values.
fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

fn n_params(form: Form) -> usize {
    1 + usize::from(form.trend != TrendType::None)
        + usize::from(form.season != SeasonType::None)
        + usize::from(form.trend == TrendType::AdditiveDamped)
}

/// The filter state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct State {
    level: f64,
    slope: f64,
    seasonal: Vec<f64>,
    pos: usize,
}

/// Likelihood terms of one pass.
#[derive(Debug, Clone, Copy, Default)]
struct Pass {
    /// Sum of squared errors on the error scale (absolute for additive, relative for
    /// multiplicative error).
    sse: f64,
    /// Sum of ln|ŷ| (multiplicative error only).
    log_yhat: f64,
    n: usize,
}

/// One step of the recursion; returns the error on its own scale and the one-step forecast, or
/// `None` (state untouched) if it would break down.
fn step(form: Form, p: Params, st: &mut State, y: f64) -> Option<(f64, f64)> {
    step_as(form.error, form.season, p, st, y)
}

/// [`step`] for an error and a season type (the trend enters through `p` only): always inlined,
/// so that [`run`]'s loops, which pass them as constants, carry no branch on the form.
#[allow(clippy::inline_always)] // the specialisation rests on it (refit 21 % faster, measured)
#[inline(always)]
fn step_as(
    error: ErrorType,
    season: SeasonType,
    p: Params,
    st: &mut State,
    y: f64,
) -> Option<(f64, f64)> {
    let t = st.level + p.phi * st.slope;
    let s = match season {
        SeasonType::None => 0.0,
        SeasonType::Additive | SeasonType::Multiplicative => st.seasonal[st.pos],
    };
    let yhat = match season {
        SeasonType::Multiplicative => t * s,
        _ => t + s,
    };
    let e = y - yhat;
    let err = match error {
        ErrorType::Additive => e,
        ErrorType::Multiplicative => {
            if yhat <= 0.0 {
                return None;
            }
            e / yhat
        }
    };
    let (level, slope, s_new) = match season {
        SeasonType::None => (t + p.alpha * e, p.phi * st.slope + p.beta * e, s),
        SeasonType::Additive => (
            t + p.alpha * e,
            p.phi * st.slope + p.beta * e,
            s + p.gamma * e,
        ),
        SeasonType::Multiplicative => {
            if s.abs() < 1e-12 || t.abs() < 1e-12 {
                return None;
            }
            (
                t + p.alpha * e / s,
                p.phi * st.slope + p.beta * e / s,
                s + p.gamma * e / t,
            )
        }
    };
    // a squared error beyond the `f64` range would make the error sums infinite
    if !(level.is_finite() && slope.is_finite() && s_new.is_finite() && (err * err).is_finite()) {
        return None;
    }
    st.level = level;
    st.slope = slope;
    if season != SeasonType::None {
        st.seasonal[st.pos] = s_new;
        st.pos += 1;
        if st.pos == st.seasonal.len() {
            st.pos = 0;
        }
    }
    Some((err, yhat))
}

/// The filter over `y` and its likelihood terms: the inner loop of every fit (a third of a
/// predictive decision's time, refits amortised), so each error and season type gets its own
/// loop, with the form's branches folded away. The arithmetic is the same, bit for bit.
fn run(form: Form, p: Params, st: &mut State, y: &[f64]) -> Option<Pass> {
    use ErrorType as E;
    use SeasonType as S;
    match (form.error, form.season) {
        (E::Additive, S::None) => run_as(E::Additive, S::None, p, st, y),
        (E::Additive, S::Additive) => run_as(E::Additive, S::Additive, p, st, y),
        (E::Additive, S::Multiplicative) => run_as(E::Additive, S::Multiplicative, p, st, y),
        (E::Multiplicative, S::None) => run_as(E::Multiplicative, S::None, p, st, y),
        (E::Multiplicative, S::Additive) => run_as(E::Multiplicative, S::Additive, p, st, y),
        (E::Multiplicative, S::Multiplicative) => {
            run_as(E::Multiplicative, S::Multiplicative, p, st, y)
        }
    }
}

#[allow(clippy::inline_always)] // one copy per match arm of `run`, as above
#[inline(always)]
fn run_as(
    error: ErrorType,
    season: SeasonType,
    p: Params,
    st: &mut State,
    y: &[f64],
) -> Option<Pass> {
    let mut pass = Pass::default();
    for &v in y {
        let (e, yhat) = step_as(error, season, p, st, v)?;
        pass.sse += e * e;
        if error == ErrorType::Multiplicative {
            pass.log_yhat += yhat.ln();
        }
        pass.n += 1;
    }
    Some(pass)
}

/// -2 log-likelihood up to a constant (concentrated over sigma).
fn neg2_loglik(form: Form, pass: Pass) -> f64 {
    let n = pass.n as f64;
    let s = (pass.sse / n).max(1e-300);
    match form.error {
        ErrorType::Additive => n * s.ln(),
        ErrorType::Multiplicative => n * s.ln() + 2.0 * pass.log_yhat,
    }
}

/// Least-squares line through `z` at t = 1..=len: (value at t = 0, slope).
fn line(z: &[f64]) -> (f64, f64) {
    let n = z.len() as f64;
    if z.len() < 2 {
        return (z.first().copied().unwrap_or(0.0), 0.0);
    }
    let tm = f64::midpoint(n, 1.0);
    let zm = z.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, v) in z.iter().enumerate() {
        let dt = (i + 1) as f64 - tm;
        sxy += dt * (v - zm);
        sxx += dt * dt;
    }
    let b = sxy / sxx;
    (zm - b * tm, b)
}

/// Heuristic initial states: classical decomposition of the first (up to four) seasons.
fn initial_state(form: Form, m: usize, y: &[f64]) -> State {
    let trend = form.trend != TrendType::None;
    if form.season == SeasonType::None {
        let k = y.len().min(10);
        let (l, b) = line(&y[..k]);
        return if trend {
            State {
                level: l,
                slope: b,
                seasonal: Vec::new(),
                pos: 0,
            }
        } else {
            State {
                level: y[..k].iter().sum::<f64>() / k as f64,
                slope: 0.0,
                seasonal: Vec::new(),
                pos: 0,
            }
        };
    }
    let cycles = (y.len() / m).clamp(2, 4);
    let w = &y[..cycles * m];
    // Centred moving average of length m (2 x m for even m) via prefix sums.
    let mut pre = Vec::with_capacity(w.len() + 1);
    pre.push(0.0);
    for v in w {
        pre.push(pre.last().copied().unwrap_or(0.0) + v);
    }
    let sum = |a: usize, b: usize| pre[b] - pre[a];
    let mult = form.season == SeasonType::Multiplicative;
    let mut acc = vec![0.0; m];
    let mut cnt = vec![0usize; m];
    let half = m / 2;
    for t in half..w.len() - half {
        let ma = if m.is_multiple_of(2) {
            (sum(t - half, t + half) + sum(t + 1 - half, t + half + 1)) / (2.0 * m as f64)
        } else {
            sum(t - half, t + half + 1) / m as f64
        };
        let d = if mult {
            if ma.abs() < 1e-12 { 1.0 } else { w[t] / ma }
        } else {
            w[t] - ma
        };
        acc[t % m] += d;
        cnt[t % m] += 1;
    }
    let mut seasonal: Vec<f64> = acc
        .iter()
        .zip(&cnt)
        .map(|(a, &c)| {
            if c == 0 {
                if mult { 1.0 } else { 0.0 }
            } else {
                a / c as f64
            }
        })
        .collect();
    let mean = seasonal.iter().sum::<f64>() / m as f64;
    for s in &mut seasonal {
        if mult {
            *s = if mean.abs() > 1e-12 { *s / mean } else { 1.0 };
        } else {
            *s -= mean;
        }
    }
    let z: Vec<f64> = w
        .iter()
        .enumerate()
        .map(|(t, v)| {
            if mult {
                v / seasonal[t % m]
            } else {
                v - seasonal[t % m]
            }
        })
        .collect();
    let (level, slope) = if trend {
        line(&z)
    } else {
        (z[..m].iter().sum::<f64>() / m as f64, 0.0)
    };
    State {
        level,
        slope,
        seasonal,
        pos: 0,
    }
}

/// A fitted [`Ets`] model: the chosen form, its parameters and the current state.
///
/// Serialised size is dominated by the `period` seasonal states (about 20 bytes each in JSON).
///
/// ```
/// use replicast::forecast::{Ets, Fit, Predict, Update};
/// let y: Vec<f64> = (0..240).map(|t| 100.0 + 10.0 * ((t % 24) as f64)).collect();
/// let mut m = Ets::default().period(24).fit(&y).unwrap();
/// m.update(100.0).unwrap();
/// let fc = m.predict(24, 0.9).unwrap();
/// assert!((fc.point[0] - 110.0).abs() < 1.0, "{:?}", fc.point);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedEts {
    error: ErrorType,
    trend: TrendType,
    season: SeasonType,
    alpha: f64,
    beta: f64,
    gamma: f64,
    phi: f64,
    state: State,
    n: usize,
    sse: f64,
    n_err: usize,
    /// Infinite when the fit had too few points for its parameters; JSON has no infinity, so
    /// that is written as `null` and read back as infinite.
    #[serde(with = "infinite_as_null")]
    aicc: f64,
    evals: usize,
}

/// Serde for an `f64` that is finite or `+inf` (an undefined `AICc`): `+inf` as `null`.
mod infinite_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's `with` passes a reference
    pub(super) fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        if value.is_finite() {
            serializer.serialize_f64(*value)
        } else {
            serializer.serialize_none()
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::INFINITY))
    }
}

impl FittedEts {
    fn form(&self) -> Form {
        Form {
            error: self.error,
            trend: self.trend,
            season: self.season,
        }
    }

    fn params(&self) -> Params {
        Params {
            alpha: self.alpha,
            beta: self.beta,
            gamma: self.gamma,
            phi: self.phi,
        }
    }

    /// The chosen form as `(error, trend, season)`.
    ///
    /// ```
    /// use replicast::forecast::{Ets, Fit, SeasonType};
    /// let m = Ets::default().fit(&[1.0, 2.0, 1.5, 1.7, 1.6]).unwrap();
    /// assert_eq!(m.components().2, SeasonType::None);
    /// ```
    #[must_use]
    pub fn components(&self) -> (ErrorType, TrendType, SeasonType) {
        (self.error, self.trend, self.season)
    }

    /// The estimated smoothing parameters `(alpha, beta, gamma, phi)` (0 / 1 where absent).
    ///
    /// ```
    /// use replicast::forecast::{Ets, Fit};
    /// let (a, _, _, _) = Ets::default().fit(&[1.0, 2.0, 1.5, 1.7, 1.6]).unwrap().params_tuple();
    /// assert!(a > 0.0 && a < 1.0);
    /// ```
    #[must_use]
    pub fn params_tuple(&self) -> (f64, f64, f64, f64) {
        (self.alpha, self.beta, self.gamma, self.phi)
    }

    /// The corrected Akaike information criterion of the fit (lower is better).
    ///
    /// ```
    /// use replicast::forecast::{Ets, Fit};
    /// assert!(Ets::default().fit(&[1.0, 2.0, 1.5, 1.7, 1.6]).unwrap().aicc().is_finite());
    /// ```
    #[must_use]
    pub fn aicc(&self) -> f64 {
        self.aicc
    }

    /// Likelihood evaluations the fit used (the work spent).
    ///
    /// ```
    /// use replicast::forecast::{Ets, Fit};
    /// assert!(Ets::default().fit(&[1.0, 2.0, 1.5, 1.7, 1.6]).unwrap().evals() > 0);
    /// ```
    #[must_use]
    pub fn evals(&self) -> usize {
        self.evals
    }

    /// Re-estimates the parameters of this form on `y` (typically the same history with more
    /// recent data), starting from the current ones with a small simplex: a warm start that
    /// needs a fraction of a cold fit's likelihood evaluations. `None` when `y` is too short
    /// for the form or no finite likelihood is found in `max_evals` evaluations.
    pub(crate) fn refit_warm(&self, y: &[f64], max_evals: usize, ftol: f64) -> Option<FittedEts> {
        let form = self.form();
        let m = self.state.seasonal.len().max(1);
        let need = if form.season == SeasonType::None {
            3
        } else {
            2 * m
        };
        if y.len() < need || check_series(y).is_err() {
            return None;
        }
        if (form.error == ErrorType::Multiplicative || form.season == SeasonType::Multiplicative)
            && y.iter().any(|&v| v <= 0.0)
        {
            return None;
        }
        let x0 = encode(form, self.params());
        fit_form_from(form, m, y, &x0, 0.5, max_evals.max(10), ftol)
    }

    /// The structure a restored model must have: with a season, a non-empty seasonal state and
    /// a position inside it (the recursion indexes it); counts that updates cannot overflow.
    pub(crate) fn check_restored(&self) -> Result<()> {
        let st = &self.state;
        if self.season != SeasonType::None
            && (st.seasonal.is_empty() || st.pos >= st.seasonal.len())
        {
            return Err(Error::serialization(format!(
                "a seasonal ETS needs seasonal states and pos < their number, got {} states, pos {}",
                st.seasonal.len(),
                st.pos
            )));
        }
        check_restored_count("ets n", self.n)?;
        check_restored_count("ets n_err", self.n_err)?;
        check_restored_count("ets evals", self.evals)
    }

    /// Residual standard deviation on the error scale.
    fn sigma(&self) -> f64 {
        if self.n_err == 0 {
            0.0
        } else {
            (self.sse / self.n_err as f64).sqrt()
        }
    }
}

/// Inverse of [`decode`]: the optimiser's vector for `p`, each coordinate kept a little inside
/// the box so that a parameter on its bound can still move.
fn encode(form: Form, p: Params) -> Vec<f64> {
    let inner = |u: f64| logit(u.clamp(1e-3, 1.0 - 1e-3));
    let mut x = vec![inner((p.alpha - 1e-4) / (0.9999 - 1e-4))];
    if form.trend != TrendType::None {
        x.push(inner(((p.beta / p.alpha) - 1e-4) / (0.9999 - 1e-4)));
    }
    if form.season != SeasonType::None {
        x.push(inner((p.gamma / (1.0 - p.alpha) - 1e-4) / (0.9999 - 1e-4)));
    }
    if form.trend == TrendType::AdditiveDamped {
        x.push(inner((p.phi - 0.8) / 0.18));
    }
    x
}

/// Fits one form with the given evaluation budget.
fn fit_form(form: Form, m: usize, y: &[f64], budget: usize, ftol: f64) -> Option<FittedEts> {
    let mut x0 = vec![logit(0.5)];
    if form.trend != TrendType::None {
        x0.push(logit(0.1));
    }
    if form.season != SeasonType::None {
        x0.push(logit(0.05));
    }
    if form.trend == TrendType::AdditiveDamped {
        x0.push(0.0);
    }
    fit_form_from(form, m, y, &x0, 1.0, budget, ftol)
}

/// Fits one form from the starting point `x0` (optimiser coordinates) with simplex step `step`.
fn fit_form_from(
    form: Form,
    m: usize,
    y: &[f64],
    x0: &[f64],
    step: f64,
    budget: usize,
    ftol: f64,
) -> Option<FittedEts> {
    let init = initial_state(form, m, y);
    let mut scratch = init.clone();
    let objective = |x: &[f64]| {
        let p = decode(form, x);
        scratch.clone_from(&init);
        match run(form, p, &mut scratch, y) {
            Some(pass) => neg2_loglik(form, pass),
            None => f64::INFINITY,
        }
    };
    let min = nelder_mead(objective, x0, step, ftol, budget);
    if !min.f.is_finite() {
        return None;
    }
    let p = decode(form, &min.x);
    let mut st = init;
    let pass = run(form, p, &mut st, y)?;
    let n = y.len() as f64;
    let seasonal_states = if form.season == SeasonType::None {
        0
    } else {
        m - 1
    };
    let k = (n_params(form) + 1 + usize::from(form.trend != TrendType::None) + seasonal_states + 1)
        as f64;
    let aic = neg2_loglik(form, pass) + 2.0 * k;
    let aicc = if n - k - 1.0 > 0.0 {
        aic + 2.0 * k * (k + 1.0) / (n - k - 1.0)
    } else {
        f64::INFINITY
    };
    Some(FittedEts {
        error: form.error,
        trend: form.trend,
        season: form.season,
        alpha: p.alpha,
        beta: p.beta,
        gamma: p.gamma,
        phi: p.phi,
        state: st,
        n: y.len(),
        sse: pass.sse,
        n_err: pass.n,
        aicc,
        evals: min.evals,
    })
}

/// Relative tolerance of the likelihood optimisation (`Ets::fit`): the simplex stops when its
/// `-2 log L` values agree within `FTOL · (1 + |best|)`.
pub(crate) const FTOL: f64 = 1e-7;

impl Fit for Ets {
    type Fitted = FittedEts;

    fn fit(&self, y: &[f64]) -> Result<FittedEts> {
        self.fit_tol(y, FTOL)
    }
}

impl Ets {
    /// [`Fit::fit`] with the optimiser's relative tolerance `ftol` (see [`FTOL`]).
    pub(crate) fn fit_tol(&self, y: &[f64], ftol: f64) -> Result<FittedEts> {
        self.validate()?;
        check_series(y)?;
        let m = self.period;
        let seasonal = m > 1 && self.season != Some(SeasonType::None);
        let need = if seasonal { 2 * m } else { 3 };
        if y.len() < need {
            return Err(Error::insufficient_data(format!(
                "ets needs at least {need} observations{}, got {}",
                if seasonal {
                    format!(" (two seasons of {m})")
                } else {
                    String::new()
                },
                y.len()
            )));
        }
        let positive = y.iter().all(|&v| v > 0.0);
        let mut spec = self.clone();
        if !seasonal {
            spec.season = Some(SeasonType::None);
        }
        let mut forms = spec.candidates(positive);
        if !positive {
            forms.retain(|f| {
                f.error == ErrorType::Additive && f.season != SeasonType::Multiplicative
            });
            if forms.is_empty() {
                return Err(Error::invalid_input(
                    "multiplicative error or season needs strictly positive data",
                ));
            }
        }
        let budget = (self.max_evals / forms.len()).max(10);
        let mut best: Option<FittedEts> = None;
        let mut spent = 0;
        for form in forms {
            if let Some(f) = fit_form(form, m, y, budget, ftol) {
                spent += f.evals;
                if best.as_ref().is_none_or(|b| f.aicc < b.aicc) {
                    best = Some(f);
                }
            } else {
                spent += budget;
            }
        }
        let mut best = best.ok_or_else(|| {
            Error::new(
                ErrorKind::NotConverged,
                "ets: no candidate model gave a finite likelihood",
            )
        })?;
        best.evals = spent;
        Ok(best)
    }
}

impl Predict for FittedEts {
    fn predict_into(&self, horizon: usize, level: Option<f64>, out: &mut Forecast) -> Result<()> {
        check_request(horizon, level)?;
        let st = &self.state;
        let sigma = self.sigma();
        let m = st.seasonal.len().max(1);
        let mut phi_h = 0.0;
        let mut phi_pow = 1.0;
        let mut sum_c2 = 0.0;
        let form = self.form();
        let p = self.params();
        fill_forecast(
            out,
            level,
            (1..=horizon).map(|h| {
                // Variance factor uses c_j for j < h; update with j = h - 1 first.
                if h > 1 {
                    let j = h - 1;
                    let c = p.alpha
                        + p.beta * phi_h
                        + if form.season != SeasonType::None && j % m == 0 {
                            p.gamma
                        } else {
                            0.0
                        };
                    sum_c2 += c * c;
                }
                phi_pow *= p.phi;
                phi_h += match form.trend {
                    TrendType::None => 0.0,
                    _ => phi_pow,
                };
                let t = st.level + phi_h * st.slope;
                let point = match form.season {
                    SeasonType::None => t,
                    SeasonType::Additive => t + st.seasonal[(st.pos + h - 1) % m],
                    SeasonType::Multiplicative => t * st.seasonal[(st.pos + h - 1) % m],
                };
                let scale = match form.error {
                    ErrorType::Additive => 1.0,
                    ErrorType::Multiplicative => point.abs(),
                };
                (point, sigma * scale * (1.0 + sum_c2).sqrt())
            }),
        )
    }

    fn n_obs(&self) -> usize {
        self.n
    }
}

impl Update for FittedEts {
    fn update(&mut self, y: f64) -> Result<()> {
        check_value(y)?;
        let form = self.form();
        let p = self.params();
        // what `step` changes, to undo it if the error sum would overflow
        let st = &self.state;
        let before = (st.level, st.slope, st.pos, st.seasonal.get(st.pos).copied());
        if let Some((e, _)) = step(form, p, &mut self.state, y) {
            let sse = self.sse + e * e;
            if !sse.is_finite() {
                let st = &mut self.state;
                (st.level, st.slope, st.pos) = (before.0, before.1, before.2);
                if let Some(s) = before.3 {
                    st.seasonal[st.pos] = s;
                }
                return Err(Error::new(
                    ErrorKind::Numerical,
                    format!("ets update with y = {y} overflows the sum of squared errors"),
                ));
            }
            self.sse = sse;
            self.n_err += 1;
            self.n += 1;
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::Numerical,
                format!(
                    "ets update with y = {y} would break the state (non-positive forecast under a multiplicative form?)"
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fit_with_an_undefined_aicc_round_trips_through_json() {
        // two seasons of four: more states and parameters than points, so no AICc
        let y = [10.0, 12.0, 14.0, 11.0, 10.5, 12.5, 14.5, 11.5];
        let m = Ets::default()
            .period(4)
            .season(SeasonType::Additive)
            .fit(&y)
            .unwrap();
        assert_eq!(m.aicc(), f64::INFINITY);
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains("\"aicc\":null"), "{json}");
        let back: FittedEts = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
    }

    /// Hand-computed Holt-Winters recursion (reference: the ETS(A,A,A) error-correction equations
    /// of Hyndman et al. 2008, Table 2.1, written out directly); tolerance 1e-12.
    #[test]
    fn recursion_matches_hand_computed_aaa() {
        let form = Form {
            error: ErrorType::Additive,
            trend: TrendType::Additive,
            season: SeasonType::Additive,
        };
        let p = Params {
            alpha: 0.3,
            beta: 0.1,
            gamma: 0.2,
            phi: 1.0,
        };
        let mut st = State {
            level: 10.0,
            slope: 1.0,
            seasonal: vec![1.0, -1.0],
            pos: 0,
        };
        let ys = [12.5, 10.0, 15.0];
        let (mut l, mut b, mut s) = (10.0_f64, 1.0_f64, [1.0_f64, -1.0]);
        for (t, &y) in ys.iter().enumerate() {
            let i = t % 2;
            let e = y - (l + b + s[i]);
            let l2 = l + b + 0.3 * e;
            let b2 = b + 0.1 * e;
            s[i] += 0.2 * e;
            l = l2;
            b = b2;
            let (got, _) = step(form, p, &mut st, y).unwrap();
            assert!((got - e).abs() < 1e-12);
        }
        assert!((st.level - l).abs() < 1e-12);
        assert!((st.slope - b).abs() < 1e-12);
        assert!((st.seasonal[0] - s[0]).abs() < 1e-12);
        assert!((st.seasonal[1] - s[1]).abs() < 1e-12);
    }

    #[test]
    fn warm_refit_matches_a_cold_fit_within_a_small_budget() {
        // Daily-shaped series at 1 min (3 days); parameters estimated on the first 2.5 days,
        // then re-estimated on all of it from there.
        let y: Vec<f64> = (0..3 * 1440)
            .map(|t| {
                let t = f64::from(t);
                200.0 + 100.0 * (t / 1440.0 * std::f64::consts::TAU).sin() + 7.0 * (t * 0.7).sin()
            })
            .collect();
        let spec = Ets::default()
            .period(1440)
            .error(ErrorType::Additive)
            .trend(TrendType::AdditiveDamped)
            .season(SeasonType::Additive);
        let head = spec.fit(&y[..2 * 1440 + 720]).unwrap();
        let cold = spec.clone().max_evals(400).fit(&y).unwrap();
        let warm = head.refit_warm(&y, 30, FTOL).unwrap();
        assert_eq!(warm.components(), cold.components());
        assert!(warm.evals() <= 30, "{}", warm.evals());
        // AICc = -2 log L + penalty (same penalty): within 0.5 of the cold optimum.
        assert!(
            warm.aicc() <= cold.aicc() + 0.5,
            "{} {}",
            warm.aicc(),
            cold.aicc()
        );
        // Parameters on their bound still move (encode keeps them inside the box).
        let x = encode(head.form(), head.params());
        assert!(x.iter().all(|v| v.is_finite()));
        let p = decode(head.form(), &x);
        assert!((p.alpha - head.alpha).abs() < 1e-3 && (p.phi - head.phi).abs() < 1e-3);
        // Too short a series or one the form cannot take: None, not a panic.
        assert!(head.refit_warm(&y[..100], 30, FTOL).is_none());
    }

    #[test]
    fn ses_variance_matches_closed_form() {
        // ETS(A,N,N): v_h = sigma^2 (1 + (h-1) alpha^2) (Hyndman et al. 2008, Table 6.1).
        let y: Vec<f64> = (0..50).map(|t| 10.0 + f64::from(t % 3)).collect();
        let m = Ets::default()
            .error(ErrorType::Additive)
            .trend(TrendType::None)
            .fit(&y)
            .unwrap();
        let fc = m.predict(4, 0.95).unwrap();
        let iv = fc.intervals.unwrap();
        let z = 1.959_963_984_540_054;
        for h in 1..=4 {
            let sd = m.sigma() * (1.0 + (h as f64 - 1.0) * m.alpha * m.alpha).sqrt();
            assert!((iv.upper[h - 1] - fc.point[h - 1] - z * sd).abs() < 1e-9);
        }
    }

    #[test]
    fn recovers_linear_trend() {
        let y: Vec<f64> = (0..60).map(|t| 5.0 + 2.0 * f64::from(t)).collect();
        let m = Ets::default().trend(TrendType::Additive).fit(&y).unwrap();
        let fc = m.predict(3, None).unwrap();
        for (h, p) in fc.point.iter().enumerate() {
            assert!((p - (5.0 + 2.0 * (60 + h) as f64)).abs() < 0.05, "{fc:?}");
        }
    }
}
