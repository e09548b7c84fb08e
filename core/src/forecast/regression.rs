//! Linear regression on recent lags, seasonal lags and calendar Fourier terms, fitted by
//! (ridge-stabilised) least squares with `linfa-linear`, forecasting recursively.

use linfa::Dataset;
use linfa::traits::Fit as LinfaFit;
use linfa_linear::LinearRegression;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::period::{PeriodConfig, detect_periods};
use super::{
    Fit, Forecast, Predict, Update, check_request, check_restored_count, check_series, check_value,
    fill_forecast,
};
use crate::error::{Error, ErrorKind, Result};

/// Seconds in a day and in a week: the calendar cycles.
const DAY_S: f64 = 86_400.0;
const WEEK_S: f64 = 604_800.0;

/// Regression spec: `y[t] = c + Σ φ_l y[t-l] + Σ (a_k sin + b_k cos)(2π k t / P) + e[t]`, by
/// default in differenced form (`c = 0`, `Σ φ_l = 1`).
///
/// | field | default | unit/range | meaning |
/// |---|---|---|---|
/// | `step_s` | 60 | seconds, >= 1 | sampling step: places the daily and weekly cycles in steps |
/// | `lags` | `[1, 2, 3]` | steps, each >= 1, 1 to 16 of them | recent lags |
/// | `periods` | detect | steps, each >= 2 | season lengths; the first (strongest) adds lags `p-1, p, p+1`; empty = none; absent = [`detect_periods`] |
/// | `fourier` | 2 | harmonics, 0..=10 | Fourier pairs per calendar cycle (day, week); 0 = no calendar terms |
/// | `ridge` | 1e-4 | >= 0 | ridge penalty on standardised coefficients, relative to the number of rows |
/// | `difference` | true | bool | regress the change `y[t] - y[t-1]` (anchored form, below); false = levels with an intercept |
///
/// **Features.** The lags above, then for each calendar cycle (one day and one week of `step_s`
/// steps) that is at least `2·fourier + 1` steps long and seen twice in the history,
/// `sin(2πkt/P)` and `cos(2πkt/P)` for `k = 1..=fourier`, `t` counting steps from the first
/// observation. A sine/cosine pair represents any phase, so no wall-clock origin is needed: the
/// fit learns where in the day the series starts.
///
/// **Anchored (differenced) form**, the default: the target is `y[t] - y[t-1]` and the lag
/// features are `y[t-l] - y[t-1]` (lag 1 is always included), with no intercept; in level terms
/// the lag coefficients sum to 1. All coefficients zero is the naive forecast and `φ_p = 1` the
/// seasonal naive one, so the model nests both, and it never pulls the forecast back to the
/// history's mean after a level shift (the levels form does, through its intercept). The ridge
/// shrinks towards the naive forecast. `difference: false` fits levels with an intercept.
///
/// **Fit.** Features are standardised, zero-variance ones dropped, and the ridge problem
/// `min Σ e² + ridge·rows·Σ β²` solved through its normal equations (one pass over the rows
/// builds a `features × features` system, which `linfa-linear` solves by QR). `ridge = 0` is
/// plain OLS; on exactly collinear features (e.g. a noiseless line in the levels form) it fails
/// with `Numerical` or gives unstable coefficients, which the default ridge prevents.
///
/// **Forecast.** Recursive: predictions are fed back as lags. Intervals are normal with
/// `Var(h) = σ²·Σ_{j<h} ψ_j²`, `σ²` the residual variance (`SSE / (rows - features - 1)` at fit;
/// updates add their one-step squared errors to it as a running mean, the fit counting as
/// `min(rows, 1000)` samples) and `ψ` the impulse
/// response of the lag coefficients (`ψ_0 = 1`, `ψ_j = Σ_l φ_l ψ_{j-l}`): the exact h-step
/// variance of the fitted linear recursion, without the coefficients' estimation error.
///
/// **Update.** O(features): one dot product for the one-step error, then the new value goes into
/// a ring buffer of the last `max lag` values. Coefficients stay fixed until the next refit.
///
/// ```
/// use replicast::forecast::{Fit, Predict, Regression};
/// let y: Vec<f64> = (0..600).map(|t| 50.0 + 10.0 * ((t % 24) as f64 / 24.0 * 6.283).sin()).collect();
/// let spec = Regression { step_s: 3600, periods: Some(vec![24]), ..Regression::default() };
/// let fc = spec.fit(&y).unwrap().predict(3, 0.9).unwrap();
/// assert!((fc.point[0] - y[600 - 24]).abs() < 0.5, "{:?}", fc.point);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Regression {
    /// Sampling step in seconds.
    pub step_s: u64,
    /// Recent lags in steps.
    pub lags: Vec<usize>,
    /// Season lengths in steps; `None` = detect.
    pub periods: Option<Vec<usize>>,
    /// Fourier harmonics per calendar cycle.
    pub fourier: usize,
    /// Ridge penalty on standardised coefficients.
    pub ridge: f64,
    /// Regress changes (anchored form) instead of levels.
    pub difference: bool,
}

impl Default for Regression {
    fn default() -> Self {
        Self {
            step_s: 60,
            lags: vec![1, 2, 3],
            periods: None,
            fourier: 2,
            ridge: 1e-4,
            difference: true,
        }
    }
}

impl Regression {
    /// Checks the spec.
    ///
    /// ```
    /// use replicast::forecast::Regression;
    /// assert!(Regression { step_s: 0, ..Regression::default() }.validate().is_err());
    /// assert!(Regression { lags: vec![], ..Regression::default() }.validate().is_err());
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] naming the field outside its range.
    pub fn validate(&self) -> Result<()> {
        if self.step_s == 0 {
            return Err(Error::invalid_config("step_s must be at least 1, got 0"));
        }
        if self.lags.is_empty() || self.lags.len() > 16 {
            return Err(Error::invalid_config(format!(
                "lags must list 1 to 16 lags, got {}",
                self.lags.len()
            )));
        }
        if self.lags.contains(&0) {
            return Err(Error::invalid_config("lags must be >= 1, got 0"));
        }
        if let Some(ps) = &self.periods
            && let Some(p) = ps.iter().find(|&&p| p < 2)
        {
            return Err(Error::invalid_config(format!(
                "periods must be >= 2, got {p}"
            )));
        }
        if self.fourier > MAX_FOURIER {
            return Err(Error::invalid_config(format!(
                "fourier must be in 0..={MAX_FOURIER}, got {}",
                self.fourier
            )));
        }
        if !(self.ridge >= 0.0 && self.ridge.is_finite()) {
            return Err(Error::invalid_config(format!(
                "ridge must be finite and >= 0, got {}",
                self.ridge
            )));
        }
        Ok(())
    }
}

/// Most Fourier pairs per calendar cycle ([`Regression::fourier`]).
const MAX_FOURIER: usize = 10;

/// A calendar cycle: its length in steps and the number of harmonics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Cycle {
    period: f64,
    harmonics: usize,
}

/// A fitted [`Regression`]: coefficients, and the last `max lag` observations in a ring buffer.
///
/// Serialised size is dominated by the buffer (one season plus one value when a period is used:
/// about 20 bytes per value in JSON).
///
/// ```
/// use replicast::forecast::{Fit, Predict, Regression, Update};
/// let y: Vec<f64> = (0..300).map(|t| 5.0 + ((t * 7) % 11) as f64).collect();
/// let mut m = Regression { periods: Some(vec![]), ..Regression::default() }.fit(&y).unwrap();
/// m.update(9.0).unwrap();
/// assert_eq!(m.n_obs(), 301);
/// assert_eq!(m.predict(4, 0.8).unwrap().point.len(), 4);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedRegression {
    /// Lags, in the order of the first coefficients.
    lags: Vec<usize>,
    cycles: Vec<Cycle>,
    /// One coefficient per lag, then `(sin, cos)` per harmonic per cycle.
    coef: Vec<f64>,
    intercept: f64,
    /// `buf[(pos + k) % len]` is the observation `len - k` steps ago.
    buf: Vec<f64>,
    pos: usize,
    n: usize,
    sse: f64,
    n_err: usize,
    dof: usize,
}

/// Appends the calendar terms for step `t` to `out`.
fn calendar(cycles: &[Cycle], t: usize, out: &mut Vec<f64>) {
    calendar_terms(cycles, t, |v| out.push(v));
}

/// Calls `f` with `sin(2πkt/P)`, `cos(2πkt/P)` for each cycle and harmonic, in feature order.
/// One `sin_cos` per cycle; higher harmonics by the angle-addition recurrence.
#[inline]
fn calendar_terms(cycles: &[Cycle], t: usize, mut f: impl FnMut(f64)) {
    for c in cycles {
        // Phase from the exact integer step count: no drift however long the model runs.
        let phase = (t as f64 / c.period).fract() * std::f64::consts::TAU;
        let (s1, c1) = phase.sin_cos();
        let (mut s, mut co) = (s1, c1);
        for _ in 0..c.harmonics {
            f(s);
            f(co);
            (s, co) = (s * c1 + co * s1, co * c1 - s * s1);
        }
    }
}

/// The lags used: the recent ones (and 1 when differencing), then `p-1, p, p+1` for the
/// strongest period; sorted, unique.
fn all_lags(lags: &[usize], period: Option<usize>, difference: bool) -> Vec<usize> {
    let mut v = lags.to_vec();
    if difference {
        v.push(1);
    }
    if let Some(p) = period {
        v.extend([p - 1, p, p + 1]);
    }
    v.retain(|&l| l >= 1);
    v.sort_unstable();
    v.dedup();
    v
}

impl Fit for Regression {
    type Fitted = FittedRegression;

    fn fit(&self, y: &[f64]) -> Result<FittedRegression> {
        self.validate()?;
        check_series(y)?;
        let n = y.len();
        let period = match &self.periods {
            Some(p) => p.first().copied(),
            None => detect_periods(
                y,
                &PeriodConfig {
                    step_s: self.step_s,
                    ..PeriodConfig::default()
                },
            )?
            .first()
            .copied(),
        };
        let lags = all_lags(&self.lags, period, self.difference);
        let max_lag = lags.last().copied().unwrap_or(1);
        let mut cycles = Vec::new();
        if self.fourier > 0 {
            for secs in [DAY_S, WEEK_S] {
                let p = secs / self.step_s as f64;
                if p >= (2 * self.fourier + 1) as f64 && n as f64 >= 2.0 * p {
                    cycles.push(Cycle {
                        period: p,
                        harmonics: self.fourier,
                    });
                }
            }
        }
        let k = lags.len() + cycles.iter().map(|c| 2 * c.harmonics).sum::<usize>();
        let need_rows = 5 * (k + 1);
        let rows = n.saturating_sub(max_lag);
        if rows < need_rows {
            return Err(Error::insufficient_data(format!(
                "regression with {k} features and lags up to {max_lag} needs at least {} observations, got {n}",
                max_lag + need_rows
            )));
        }
        // Design matrix, row-major, rows t = max_lag..n.
        // Anchored form: everything relative to the previous value.
        let anchor = |t: usize| if self.difference { y[t - 1] } else { 0.0 };
        let mut x = Vec::with_capacity(rows * k);
        for t in max_lag..n {
            x.extend(lags.iter().map(|&l| y[t - l] - anchor(t)));
            calendar(&cycles, t, &mut x);
        }
        let target: Vec<f64> = (max_lag..n).map(|t| y[t] - anchor(t)).collect();
        let (intercept, mut coef) = solve(&x, &target, k, self.ridge, !self.difference)?;
        let mut sse = 0.0;
        for (row, &v) in x.chunks_exact(k).zip(&target) {
            let e = v - intercept - dot(&coef, row);
            sse += e * e;
        }
        let active = coef.iter().filter(|c| **c != 0.0).count();
        let dof = rows
            .saturating_sub(active + usize::from(!self.difference))
            .max(1);
        if self.difference {
            // Back to levels: y[t] = y[t-1] (1 - Σ_{l>1} φ_l) + Σ_{l>1} φ_l y[t-l] + calendar;
            // lags are sorted and contain 1, so lag 1 is coefficient 0 (its feature was all zero).
            let rest: f64 = coef[1..lags.len()].iter().sum();
            coef[0] = 1.0 - rest;
        }
        if !sse.is_finite() {
            return Err(Error::new(
                ErrorKind::Numerical,
                "regression residuals are not finite",
            ));
        }
        Ok(FittedRegression {
            lags,
            cycles,
            coef,
            intercept,
            buf: y[n - max_lag..].to_vec(),
            pos: 0,
            n,
            sse,
            n_err: 0,
            dof,
        })
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum()
}

/// Least squares on row-major `x` (`k` columns), with an intercept if asked: standardise (centre
/// only with an intercept), drop constant columns, solve the ridge normal equations with linfa,
/// map back. Returns `(intercept, coefficients)` on the original
/// scale (0 for dropped columns; intercept 0 without one).
fn solve(
    x: &[f64],
    y: &[f64],
    k: usize,
    ridge: f64,
    with_intercept: bool,
) -> Result<(f64, Vec<f64>)> {
    let rows = y.len();
    let r = rows as f64;
    let mut mean = vec![0.0; k];
    if with_intercept {
        for row in x.chunks_exact(k) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        for m in &mut mean {
            *m /= r;
        }
    }
    let mut sd = vec![0.0; k];
    for row in x.chunks_exact(k) {
        for ((s, v), m) in sd.iter_mut().zip(row).zip(&mean) {
            *s += (v - m) * (v - m);
        }
    }
    let active: Vec<usize> = (0..k)
        .filter(|&j| {
            sd[j] = (sd[j] / r).sqrt();
            sd[j] > 1e-12 * (1.0 + mean[j].abs())
        })
        .collect();
    let y_mean = if with_intercept {
        y.iter().sum::<f64>() / r
    } else {
        0.0
    };
    let mut coef = vec![0.0; k];
    if active.is_empty() {
        return Ok((y_mean, coef));
    }
    // Normal equations of the standardised problem, `(ZᵀZ + ridge·rows·I) β = Zᵀt`: one pass
    // over the rows builds the small `a × a` system (a = active features, at most a few dozen),
    // which linfa solves (QR least squares on a square system = the exact solution). Standardising
    // keeps its condition number moderate; the ridge bounds it.
    let a = active.len();
    let mut gram = Array2::<f64>::zeros((a, a));
    let mut rhs = Array1::<f64>::zeros(a);
    let mut z = vec![0.0; a];
    for (row, &v) in x.chunks_exact(k).zip(y) {
        for (zc, &j) in z.iter_mut().zip(&active) {
            *zc = (row[j] - mean[j]) / sd[j];
        }
        let t = v - y_mean;
        for c in 0..a {
            rhs[c] += z[c] * t;
            for d in 0..=c {
                gram[[c, d]] += z[c] * z[d];
            }
        }
    }
    for c in 0..a {
        gram[[c, c]] += ridge * r;
        for d in 0..c {
            gram[[d, c]] = gram[[c, d]];
        }
    }
    let fitted = LinearRegression::new()
        .with_intercept(false)
        .fit(&Dataset::new(gram, rhs))
        .map_err(|e| {
            Error::new(
                ErrorKind::Numerical,
                format!("regression least squares failed ({e}); collinear features? use ridge > 0"),
            )
        })?;
    let mut intercept = y_mean;
    for (c, &j) in active.iter().enumerate() {
        let b = fitted.params()[c] / sd[j];
        coef[j] = b;
        intercept -= b * mean[j];
    }
    if !(intercept.is_finite() && coef.iter().all(|c| c.is_finite())) {
        return Err(Error::new(
            ErrorKind::Numerical,
            "regression coefficients are not finite",
        ));
    }
    Ok((intercept, coef))
}

impl FittedRegression {
    /// The lags used (steps, ascending) and their coefficients, in level form (in the anchored
    /// form they sum to 1).
    ///
    /// ```
    /// use replicast::forecast::{Fit, Regression};
    /// let y: Vec<f64> = (0..200).map(|t| (t % 5) as f64).collect();
    /// let m = Regression { lags: vec![1], periods: Some(vec![5]), ..Regression::default() }.fit(&y).unwrap();
    /// assert_eq!(m.lags().0, &[1, 4, 5, 6]);
    /// ```
    #[must_use]
    pub fn lags(&self) -> (&[usize], &[f64]) {
        (&self.lags, self.phi())
    }

    /// The intercept (0 in the anchored form).
    ///
    /// ```
    /// use replicast::forecast::{Fit, Regression};
    /// let y: Vec<f64> = (0..200).map(|t| (t % 5) as f64).collect();
    /// let m = Regression { lags: vec![1], periods: Some(vec![]), fourier: 0, ..Regression::default() }.fit(&y).unwrap();
    /// assert!(m.intercept().is_finite());
    /// ```
    #[must_use]
    pub fn intercept(&self) -> f64 {
        self.intercept
    }

    /// Residual standard deviation (see [`Regression`]).
    fn sigma(&self) -> f64 {
        let d = if self.n_err == 0 {
            self.dof
        } else {
            self.n_err
        };
        (self.sse / d as f64).sqrt()
    }

    /// Value `l` steps before the next observation (1 = the last one), `l <= buf.len()`.
    ///
    /// Indexing is total: a deserialised model whose buffer, position or coefficients are
    /// inconsistent gives wrong numbers (the FFI's trial forecast rejects it), never a panic.
    fn past(&self, l: usize) -> f64 {
        let len = self.buf.len().max(1);
        self.buf
            .get((self.pos % len + len - l % len) % len)
            .copied()
            .unwrap_or(0.0)
    }

    /// The structure a restored model must have: lags >= 1 (a forecast reads the values `lag`
    /// steps back, among those it just made), at most [`MAX_FOURIER`] harmonics per cycle on a
    /// finite period > 0, one coefficient per feature, counts that updates cannot overflow.
    pub(crate) fn check_restored(&self) -> Result<()> {
        if let Some(l) = self.lags.iter().find(|&&l| l == 0) {
            return Err(Error::serialization(format!(
                "regression lags must be >= 1, got {l}"
            )));
        }
        if let Some(c) = self
            .cycles
            .iter()
            .find(|c| !(c.period.is_finite() && c.period > 0.0) || c.harmonics > MAX_FOURIER)
        {
            return Err(Error::serialization(format!(
                "regression cycles need a finite period > 0 and at most {MAX_FOURIER} harmonics, got period {} with {} harmonics",
                c.period, c.harmonics
            )));
        }
        let features = self.lags.len() + self.cycles.iter().map(|c| 2 * c.harmonics).sum::<usize>();
        if self.coef.len() != features {
            return Err(Error::serialization(format!(
                "regression needs one coefficient per feature ({features}), got {}",
                self.coef.len()
            )));
        }
        check_restored_count("regression n", self.n)?;
        check_restored_count("regression n_err", self.n_err)?;
        check_restored_count("regression dof", self.dof)
    }

    /// The lag coefficients (level form).
    fn phi(&self) -> &[f64] {
        self.coef.get(..self.lags.len()).unwrap_or(&self.coef)
    }

    /// Prediction for step `t` from the lag values `lag_val(l)`.
    fn predict_step(&self, t: usize, lag_val: impl Fn(usize) -> f64) -> f64 {
        let mut acc = self.intercept
            + self
                .lags
                .iter()
                .zip(self.phi())
                .map(|(&l, b)| b * lag_val(l))
                .sum::<f64>();
        let mut coef = self.coef.get(self.lags.len()..).unwrap_or(&[]).iter();
        calendar_terms(&self.cycles, t, |v| {
            acc += coef.next().copied().unwrap_or(0.0) * v;
        });
        acc
    }
}

impl Predict for FittedRegression {
    fn predict_into(&self, horizon: usize, level: Option<f64>, out: &mut Forecast) -> Result<()> {
        check_request(horizon, level)?;
        let mut pts = Vec::with_capacity(horizon);
        for j in 0..horizon {
            let p = self.predict_step(self.n + j, |l| {
                if l <= j { pts[j - l] } else { self.past(l - j) }
            });
            pts.push(p);
        }
        let sigma = self.sigma();
        let phi = self.phi();
        // The impulse response is only needed for an interval.
        let mut psi: Vec<f64> = Vec::with_capacity(if level.is_some() { horizon } else { 0 });
        let mut sum_psi2 = 0.0;
        fill_forecast(
            out,
            level,
            pts.iter().enumerate().map(|(j, &p)| {
                if level.is_none() {
                    return (p, 0.0);
                }
                let w = if j == 0 {
                    1.0
                } else {
                    self.lags
                        .iter()
                        .zip(phi)
                        .filter(|(l, _)| **l <= j)
                        .map(|(l, f)| f * psi[j - l])
                        .sum()
                };
                psi.push(w);
                sum_psi2 += w * w;
                (p, sigma * sum_psi2.sqrt())
            }),
        )
    }

    fn n_obs(&self) -> usize {
        self.n
    }
}

impl Update for FittedRegression {
    fn update(&mut self, y: f64) -> Result<()> {
        check_value(y)?;
        let p = self.predict_step(self.n, |l| self.past(l));
        let e = y - p;
        if e.is_finite() {
            let (mut sse, mut n_err) = (self.sse, self.n_err);
            if n_err == 0 {
                // Start the running mean square from the fit's residual variance.
                sse = sse / self.dof as f64 * self.dof.min(1000) as f64;
                n_err = self.dof.min(1000);
            }
            sse += e * e;
            if !sse.is_finite() {
                return Err(Error::new(
                    ErrorKind::Numerical,
                    format!("regression update with y = {y} overflows the sum of squared errors"),
                ));
            }
            (self.sse, self.n_err) = (sse, n_err + 1);
        }
        let len = self.buf.len();
        if len > 0 {
            let i = self.pos % len;
            self.buf[i] = y;
            self.pos = (i + 1) % len;
        }
        self.n += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_equals_refit_with_fixed_coefficients() {
        let y: Vec<f64> = (0..500)
            .map(|t: usize| 20.0 + 5.0 * ((t % 17) as f64) + ((t * 31) % 7) as f64)
            .collect();
        let spec = Regression {
            step_s: 3600,
            periods: Some(vec![17]),
            ..Regression::default()
        };
        let mut a = spec.fit(&y[..400]).unwrap();
        for &v in &y[400..] {
            a.update(v).unwrap();
        }
        let mut b = spec.fit(&y).unwrap();
        b.coef.clone_from(&a.coef);
        b.intercept = a.intercept;
        let (pa, pb) = (a.predict(40, None).unwrap(), b.predict(40, None).unwrap());
        for (u, v) in pa.point.iter().zip(&pb.point) {
            assert!((u - v).abs() < 1e-9, "{u} vs {v}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 32, ..Default::default() })]

        /// Absorbing samples one by one equals a fit on the longer series whose coefficients are
        /// replaced by the shorter fit's (same lag buffer, same calendar phase): point forecasts
        /// agree to 1e-9 relative.
        #[test]
        fn update_equals_refit_with_fixed_coefficients_prop(
            y in proptest::collection::vec(-100.0..100.0f64, 150..260),
            split in 100usize..140,
            p in 2usize..12,
        ) {
            let spec = Regression { step_s: 3600, periods: Some(vec![p]), ..Regression::default() };
            let Ok(mut a) = spec.fit(&y[..split]) else { return Ok(()) };
            for &v in &y[split..] {
                a.update(v).unwrap();
            }
            let mut b = spec.fit(&y).unwrap();
            proptest::prop_assert_eq!(&a.lags, &b.lags);
            proptest::prop_assert_eq!(&a.cycles, &b.cycles);
            b.coef.clone_from(&a.coef);
            b.intercept = a.intercept;
            let (pa, pb) = (a.predict(12, None).unwrap(), b.predict(12, None).unwrap());
            for (u, v) in pa.point.iter().zip(&pb.point) {
                proptest::prop_assert!((u - v).abs() <= 1e-9 * u.abs().max(1.0), "{} vs {}", u, v);
            }
        }
    }

    #[test]
    fn ar1_interval_widening_matches_closed_form() {
        // AR(1): Var(h) = σ² (1 + φ² + ... + φ^{2(h-1)}) (Box & Jenkins), tolerance 1e-9.
        let m = FittedRegression {
            lags: vec![1],
            cycles: vec![],
            coef: vec![0.5],
            intercept: 1.0,
            buf: vec![4.0],
            pos: 0,
            n: 10,
            sse: 4.0,
            n_err: 1,
            dof: 1,
        };
        let fc = m.predict(3, 0.95).unwrap();
        assert!((fc.point[0] - 3.0).abs() < 1e-12);
        assert!((fc.point[1] - 2.5).abs() < 1e-12);
        let iv = fc.intervals.unwrap();
        let z = 1.959_963_984_540_054;
        for (h, want) in [1.0_f64, 1.25, 1.3125].iter().enumerate() {
            let sd = 2.0 * want.sqrt();
            assert!((iv.upper[h] - fc.point[h] - z * sd).abs() < 1e-9);
        }
    }
}
