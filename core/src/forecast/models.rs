//! Seasonal naive and Holt–Winters (additive seasonality, optionally damped trend), each fitted
//! once and then updated one sample at a time in O(1).

use serde::{Deserialize, Serialize};

use super::optimize::nelder_mead;
use super::{Forecast, normal_quantile};
use crate::error::{Error, Result};

/// `y` must be finite and non-negative (loads).
pub(super) fn check_series(y: &[f64]) -> Result<()> {
    if let Some((i, v)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::invalid_input(format!(
            "series value {i} must be finite, got {v}"
        )));
    }
    Ok(())
}

pub(super) fn check_level(level: f64) -> Result<()> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "level must be in (0, 1), got {level}"
        )))
    }
}

/// A fitted seasonal naive model: the value one period ago.
///
/// Intervals: residuals `y_t − y_{t−m}` are taken as normal with variance `σ²`; `h` steps ahead
/// (`k = ceil(h / m)` seasons) the variance is `k σ²`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedSeasonalNaive {
    period: usize,
    /// The last `period` values, oldest first at `start`.
    ring: Vec<f64>,
    start: usize,
    sum_sq: f64,
    count: u64,
}

impl FittedSeasonalNaive {
    pub(super) fn fit(y: &[f64], period: usize) -> Result<Self> {
        check_series(y)?;
        let period = period.max(1);
        if y.len() < period + 1 {
            return Err(Error::invalid_input(format!(
                "seasonal naive with period {period} needs at least {} samples, got {}",
                period + 1,
                y.len()
            )));
        }
        let (sum_sq, count) = y
            .iter()
            .zip(&y[period..])
            .fold((0.0, 0u64), |(s, c), (a, b)| (s + (b - a).powi(2), c + 1));
        Ok(Self {
            period,
            ring: y[y.len() - period..].to_vec(),
            start: 0,
            sum_sq,
            count,
        })
    }

    /// The season length in samples.
    #[must_use]
    pub fn period(&self) -> usize {
        self.period
    }

    pub(super) fn update(&mut self, y: f64) {
        let old = self.ring[self.start];
        self.sum_sq += (y - old).powi(2);
        self.count += 1;
        self.ring[self.start] = y;
        self.start = (self.start + 1) % self.period;
    }

    /// The point forecast `h ≥ 1` steps ahead.
    pub(super) fn point_ahead(&self, h: usize) -> f64 {
        self.ring[(self.start + (h.max(1) - 1) % self.period) % self.period]
    }

    pub(super) fn predict_into(&self, horizon: usize, level: f64, out: &mut Forecast) {
        let sigma = (self.sum_sq / self.count.max(1) as f64).sqrt();
        let z = normal_quantile(0.5 + level / 2.0);
        out.clear(level);
        for h in 1..=horizon {
            let point = self.ring[(self.start + (h - 1) % self.period) % self.period];
            let k = h.div_ceil(self.period) as f64;
            let half = z * sigma * k.sqrt();
            out.push(point, half);
        }
    }
}

/// Smoothing parameters of a Holt–Winters model (estimated, never set by hand).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HoltWintersParams {
    /// Level smoothing α.
    pub alpha: f64,
    /// Trend smoothing β (0 without a trend).
    pub beta: f64,
    /// Seasonal smoothing γ (0 without a season).
    pub gamma: f64,
    /// Trend damping φ (1 = undamped).
    pub phi: f64,
}

/// A fitted additive Holt–Winters model with a damped trend (ETS(A,Ad,A) in error-correction
/// form), parameters by maximum likelihood (least squares under Gaussian errors).
///
/// Intervals use the ETS(A,Ad,A) variance `σ² (1 + Σ_{j<h} (α + βφ(1−φ^j)/(1−φ) + γ[j mod m = 0])²)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedHoltWinters {
    params: HoltWintersParams,
    period: usize,
    level: f64,
    trend: f64,
    seasonal: Vec<f64>,
    /// Index in `seasonal` of the next sample's season.
    position: usize,
    sum_sq: f64,
    count: u64,
}

/// Evaluations allowed per refit: the work budget that replaces a time budget.
const MAX_EVALS: usize = 120;

struct State {
    level: f64,
    trend: f64,
    seasonal: Vec<f64>,
    position: usize,
}

fn initial_state(y: &[f64], period: usize) -> State {
    let m = period;
    if m <= 1 {
        let level = y[0];
        let trend = if y.len() > 1 { y[1] - y[0] } else { 0.0 };
        return State {
            level,
            trend,
            seasonal: vec![0.0],
            position: 0,
        };
    }
    let first: f64 = y[..m].iter().sum::<f64>() / m as f64;
    let second: f64 = y[m..2 * m].iter().sum::<f64>() / m as f64;
    let seasonal: Vec<f64> = y[..m].iter().map(|v| v - first).collect();
    State {
        level: first,
        trend: (second - first) / m as f64,
        seasonal,
        position: 0,
    }
}

/// Runs the recursions over `y`, returning the sum of squared one-step errors and the end state.
fn run(y: &[f64], period: usize, p: HoltWintersParams, mut s: State) -> (f64, State) {
    let mut sse = 0.0;
    for &v in y {
        let season = s.seasonal[s.position];
        let forecast = s.level + p.phi * s.trend + season;
        let e = v - forecast;
        sse += e * e;
        let damped = p.phi * s.trend;
        s.level += damped + p.alpha * e;
        s.trend = damped + p.beta * e;
        if period > 1 {
            s.seasonal[s.position] = season + p.gamma * e;
        }
        s.position = (s.position + 1) % s.seasonal.len();
    }
    (sse, s)
}

fn params_from_unit(x: &[f64], seasonal: bool) -> HoltWintersParams {
    // α ∈ (0.0001, 0.9999); β ≤ α / 2; γ ≤ 1 − α; φ ∈ [0.8, 1] (1: an undamped trend)
    let alpha = 0.0001 + 0.9998 * x[0];
    HoltWintersParams {
        alpha,
        beta: x[1] * alpha * 0.5,
        gamma: if seasonal { x[2] * (1.0 - alpha) } else { 0.0 },
        phi: 0.8 + 0.2 * x[3],
    }
}

impl FittedHoltWinters {
    pub(super) fn fit(y: &[f64], period: usize) -> Result<Self> {
        check_series(y)?;
        let period = period.max(1);
        let needed = (2 * period).max(10);
        if y.len() < needed {
            return Err(Error::invalid_input(format!(
                "Holt-Winters with period {period} needs at least {needed} samples, got {}",
                y.len()
            )));
        }
        let seasonal = period > 1;
        // fit on the history after the first season used for the initial state
        let init = initial_state(y, period);
        let fit_from = if seasonal { period } else { 0 };
        let fresh = || State {
            level: init.level,
            trend: init.trend,
            seasonal: init.seasonal.clone(),
            position: init.position,
        };
        let mut objective = |x: &[f64]| {
            let p = params_from_unit(x, seasonal);
            run(&y[fit_from..], period, p, fresh()).0
        };
        let (best, _) = nelder_mead(&mut objective, &[0.3, 0.1, 0.1, 0.9], 0.2, MAX_EVALS);
        let params = params_from_unit(&best, seasonal);
        let (sse, end) = run(&y[fit_from..], period, params, fresh());
        let count = (y.len() - fit_from) as u64;
        Ok(Self {
            params,
            period,
            level: end.level,
            trend: end.trend,
            seasonal: end.seasonal,
            position: end.position,
            sum_sq: sse,
            count,
        })
    }

    /// The season length in samples (1: no season).
    #[must_use]
    pub fn period(&self) -> usize {
        self.period
    }

    /// The estimated smoothing parameters.
    #[must_use]
    pub fn params(&self) -> HoltWintersParams {
        self.params
    }

    pub(super) fn update(&mut self, y: f64) {
        let p = self.params;
        let season = self.seasonal[self.position];
        let forecast = self.level + p.phi * self.trend + season;
        let e = y - forecast;
        // a running mean of squared errors, so that sigma tracks the recent regime
        self.sum_sq += e * e;
        self.count += 1;
        let damped = p.phi * self.trend;
        self.level += damped + p.alpha * e;
        self.trend = damped + p.beta * e;
        if self.period > 1 {
            self.seasonal[self.position] = season + p.gamma * e;
        }
        self.position = (self.position + 1) % self.seasonal.len();
    }

    /// The point forecast `h ≥ 1` steps ahead.
    pub(super) fn point_ahead(&self, h: usize) -> f64 {
        let phi = self.params.phi;
        let h = h.max(1);
        let phi_sum = if (1.0 - phi).abs() < 1e-12 {
            h as f64
        } else {
            phi * (1.0 - phi.powi(i32::try_from(h).unwrap_or(i32::MAX))) / (1.0 - phi)
        };
        self.level
            + phi_sum * self.trend
            + self.seasonal[(self.position + h - 1) % self.seasonal.len()]
    }

    pub(super) fn predict_into(&self, horizon: usize, level: f64, out: &mut Forecast) {
        let p = self.params;
        let sigma2 = self.sum_sq / self.count.max(1) as f64;
        let z = normal_quantile(0.5 + level / 2.0);
        out.clear(level);
        let mut phi_sum = 0.0;
        let mut phi_pow = 1.0;
        let mut var_sum = 0.0;
        for h in 1..=horizon {
            phi_pow *= p.phi;
            phi_sum += phi_pow;
            let season = self.seasonal[(self.position + h - 1) % self.seasonal.len()];
            let point = self.level + phi_sum * self.trend + season;
            if h > 1 {
                let j = h - 1;
                let damp = if (1.0 - p.phi).abs() < 1e-12 {
                    j as f64
                } else {
                    p.phi * (1.0 - p.phi.powi(j as i32)) / (1.0 - p.phi)
                };
                let seasonal_hit = if self.period > 1 && j % self.period == 0 {
                    p.gamma
                } else {
                    0.0
                };
                var_sum += (p.alpha + p.beta * damp + seasonal_hit).powi(2);
            }
            let half = z * (sigma2 * (1.0 + var_sum)).sqrt();
            out.push(point, half);
        }
    }
}
