//! Multi-seasonal model for long histories: an MSTL-like decomposition into one seasonal profile
//! per period (e.g. daily and weekly), then non-seasonal ETS on the deseasonalised remainder.

use serde::{Deserialize, Serialize};

use super::ets::{ErrorType, Ets, FittedEts, SeasonType, TrendType};
use super::period::{PeriodConfig, detect_periods};
use super::{Fit, Forecast, Predict, Update, check_request, check_series, check_value};
use crate::error::{Error, Result};

/// Multi-seasonal spec.
///
/// | field | default | unit/range | meaning |
/// |---|---|---|---|
/// | `step_s` | 60 | seconds, >= 1 | sampling step (places the calendar periods for detection) |
/// | `periods` | detect | steps, each >= 2, at most 4 | season lengths; absent = [`detect_periods`] (those seen twice) |
/// | `iterations` | 2 | 1..=5 | passes of the seasonal extraction (MSTL's `iterate`) |
/// | `smooth` | 0.005 | [0, 0.25] | width of the circular moving average that smooths each profile, as a share of its period (0 = none) |
/// | `error` | auto | additive / multiplicative | error form of the remainder's ETS |
/// | `trend` | auto | `none` / `additive` / `additive_damped` | trend form of the remainder's ETS |
/// | `max_evals` | 100 | >= 10 | work budget of the remainder's ETS (likelihood evaluations) |
///
/// **Fit** (after Bandara, Hyndman & Bergmeir, *MSTL*, 2021, with moving averages in place of
/// loess): periods in ascending order; on each pass and for each period `p`, add its current
/// profile back to the deseasonalised series `d`, remove the trend with a centred moving average
/// of length `p` (`2×p` when `p` is even), average `d - trend` per slot `t mod p` over the
/// cycles, smooth the profile circularly (width `2·round(smooth·p) + 1`), centre it to mean 0, and
/// subtract it from `d` again. The remainder `d` gets a non-seasonal [`Ets`] fit (forms chosen by
/// `AICc` unless fixed). Every period needs two full cycles: the fit needs `2·max(periods)`
/// observations. Cost: O(n · periods · iterations) plus the ETS fit.
///
/// **Forecast:** the remainder's ETS forecast plus the profiles' values at the future slots;
/// the interval is the remainder's, shifted by the same amount (profile estimation error is
/// not included).
///
/// **Update:** O(periods): the new value minus its profile values updates the remainder's ETS.
/// The profiles stay **fixed until the next refit** (so an update is exactly what a refit with
/// the same profiles and ETS parameters would give; the level and trend still adapt through
/// ETS, and a refit, which [`crate::forecast::FittedAuto::needs_refit`] schedules, re-estimates
/// the profiles).
///
/// **Size:** one `f64` per slot of every profile: a weekly (10,080 slots at one minute) plus a
/// daily profile serialises to about 230 KB of JSON.
///
/// ```
/// use replicast::forecast::{Fit, MultiSeasonal, Predict};
/// let y: Vec<f64> = (0..240)
///     .map(|t| 50.0 + 5.0 * ((t % 6) as f64) + 20.0 * ((t % 24 >= 12) as u8 as f64))
///     .collect();
/// let spec = MultiSeasonal { periods: Some(vec![6, 24]), ..MultiSeasonal::default() };
/// let fc = spec.fit(&y).unwrap().predict(24, 0.9).unwrap();
/// assert!((fc.point[0] - y[240 - 24]).abs() < 1.0, "{:?}", fc.point);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MultiSeasonal {
    /// Sampling step in seconds.
    pub step_s: u64,
    /// Season lengths in steps; `None` = detect.
    pub periods: Option<Vec<usize>>,
    /// Passes of the seasonal extraction.
    pub iterations: usize,
    /// Profile smoothing width as a share of the period.
    pub smooth: f64,
    /// Error form of the remainder's ETS, `None` = choose.
    pub error: Option<ErrorType>,
    /// Trend form of the remainder's ETS, `None` = choose.
    pub trend: Option<TrendType>,
    /// Likelihood evaluations allowed for the remainder's ETS.
    pub max_evals: usize,
}

impl Default for MultiSeasonal {
    fn default() -> Self {
        Self {
            step_s: 60,
            periods: None,
            iterations: 2,
            smooth: 0.005,
            error: None,
            trend: None,
            max_evals: 100,
        }
    }
}

impl MultiSeasonal {
    /// Checks the spec.
    ///
    /// ```
    /// use replicast::forecast::MultiSeasonal;
    /// assert!(MultiSeasonal { periods: Some(vec![1]), ..MultiSeasonal::default() }.validate().is_err());
    /// ```
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] naming the field outside its range.
    pub fn validate(&self) -> Result<()> {
        if self.step_s == 0 {
            return Err(Error::invalid_config("step_s must be at least 1, got 0"));
        }
        if let Some(ps) = &self.periods {
            if ps.is_empty() || ps.len() > 4 {
                return Err(Error::invalid_config(format!(
                    "periods must list 1 to 4 periods, got {}",
                    ps.len()
                )));
            }
            if let Some(p) = ps.iter().find(|&&p| p < 2) {
                return Err(Error::invalid_config(format!(
                    "periods must be >= 2, got {p}"
                )));
            }
        }
        if !(1..=5).contains(&self.iterations) {
            return Err(Error::invalid_config(format!(
                "iterations must be in 1..=5, got {}",
                self.iterations
            )));
        }
        if !(0.0..=0.25).contains(&self.smooth) {
            return Err(Error::invalid_config(format!(
                "smooth must be in [0, 0.25], got {}",
                self.smooth
            )));
        }
        if self.max_evals < 10 {
            return Err(Error::invalid_config(format!(
                "max_evals must be at least 10, got {}",
                self.max_evals
            )));
        }
        Ok(())
    }
}

/// A fitted [`MultiSeasonal`]: one seasonal profile per period and the remainder's ETS.
///
/// ```
/// use replicast::forecast::{Fit, MultiSeasonal, Predict, Update};
/// let y: Vec<f64> = (0..100).map(|t| 10.0 + (t % 10) as f64).collect();
/// let mut m = MultiSeasonal { periods: Some(vec![10]), ..MultiSeasonal::default() }.fit(&y).unwrap();
/// m.update(10.0).unwrap();
/// assert_eq!(m.periods(), &[10]);
/// assert!((m.predict(1, None).unwrap().point[0] - 11.0).abs() < 0.5);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedMultiSeasonal {
    periods: Vec<usize>,
    /// `profiles[i][t % periods[i]]` is the seasonal value of step `t` (0 = first observation).
    profiles: Vec<Vec<f64>>,
    remainder: FittedEts,
    n: usize,
}

/// Centred moving average of length `p` (`2×p` for even `p`) at `t` in `p/2..len-p/2`, via
/// prefix sums `pre`.
fn centred_ma(pre: &[f64], p: usize, t: usize) -> f64 {
    let half = p / 2;
    let sum = |a: usize, b: usize| pre[b] - pre[a];
    if p.is_multiple_of(2) {
        (sum(t - half, t + half) + sum(t + 1 - half, t + half + 1)) / (2.0 * p as f64)
    } else {
        sum(t - half, t + half + 1) / p as f64
    }
}

/// The seasonal profile of `d` at period `p`: slot means of `d - trend`, smoothed, centred.
fn profile(d: &[f64], p: usize, smooth: f64) -> Vec<f64> {
    let mut pre = Vec::with_capacity(d.len() + 1);
    pre.push(0.0);
    let mut acc_sum = 0.0;
    for v in d {
        acc_sum += v;
        pre.push(acc_sum);
    }
    let half = p / 2;
    let mut acc = vec![0.0; p];
    let mut cnt = vec![0u32; p];
    for t in half..d.len() - half {
        acc[t % p] += d[t] - centred_ma(&pre, p, t);
        cnt[t % p] += 1;
    }
    let raw: Vec<f64> = acc
        .iter()
        .zip(&cnt)
        .map(|(a, &c)| if c == 0 { 0.0 } else { a / f64::from(c) })
        .collect();
    let w = (smooth * p as f64).round() as usize;
    let mut s = if w == 0 || 2 * w + 1 >= p {
        raw
    } else {
        // Circular moving average of width 2w + 1, running sum.
        let width = (2 * w + 1) as f64;
        let mut run: f64 = (0..=2 * w).map(|i| raw[(i + p - w) % p]).sum();
        let mut out = Vec::with_capacity(p);
        for k in 0..p {
            out.push(run / width);
            run += raw[(k + w + 1) % p] - raw[(k + p - w) % p];
        }
        out
    };
    let mean = s.iter().sum::<f64>() / p as f64;
    for v in &mut s {
        *v -= mean;
    }
    s
}

impl Fit for MultiSeasonal {
    type Fitted = FittedMultiSeasonal;

    fn fit(&self, y: &[f64]) -> Result<FittedMultiSeasonal> {
        self.validate()?;
        check_series(y)?;
        let n = y.len();
        let mut periods = match &self.periods {
            Some(p) => p.clone(),
            None => detect_periods(
                y,
                &PeriodConfig {
                    step_s: self.step_s,
                    ..PeriodConfig::default()
                },
            )?
            .into_iter()
            .filter(|&p| n >= 2 * p)
            .collect(),
        };
        periods.sort_unstable();
        periods.dedup();
        let Some(&longest) = periods.last() else {
            return Err(Error::insufficient_data(
                "multi_seasonal found no period with two full cycles in the history (give periods or use ets)",
            ));
        };
        if n < 2 * longest {
            return Err(Error::insufficient_data(format!(
                "multi_seasonal needs at least {} observations (two cycles of period {longest}), got {n}",
                2 * longest
            )));
        }
        let mut d = y.to_vec();
        let mut profiles: Vec<Vec<f64>> = periods.iter().map(|&p| vec![0.0; p]).collect();
        for _ in 0..self.iterations {
            for (s, &p) in profiles.iter_mut().zip(&periods) {
                for (t, v) in d.iter_mut().enumerate() {
                    *v += s[t % p];
                }
                *s = profile(&d, p, self.smooth);
                for (t, v) in d.iter_mut().enumerate() {
                    *v -= s[t % p];
                }
            }
        }
        let ets = Ets {
            period: 1,
            error: self.error,
            trend: self.trend,
            season: Some(SeasonType::None),
            max_evals: self.max_evals,
        };
        let remainder = ets.fit(&d)?;
        Ok(FittedMultiSeasonal {
            periods,
            profiles,
            remainder,
            n,
        })
    }
}

impl FittedMultiSeasonal {
    /// The season lengths, ascending.
    ///
    /// ```
    /// use replicast::forecast::{Fit, MultiSeasonal};
    /// let y: Vec<f64> = (0..60).map(|t| (t % 3 + t % 12) as f64).collect();
    /// let m = MultiSeasonal { periods: Some(vec![12, 3]), ..MultiSeasonal::default() }.fit(&y).unwrap();
    /// assert_eq!(m.periods(), &[3, 12]);
    /// ```
    #[must_use]
    pub fn periods(&self) -> &[usize] {
        &self.periods
    }

    /// The remainder's fitted ETS model.
    ///
    /// ```
    /// use replicast::forecast::{Fit, MultiSeasonal, SeasonType};
    /// let y: Vec<f64> = (0..60).map(|t| (t % 12) as f64).collect();
    /// let m = MultiSeasonal { periods: Some(vec![12]), ..MultiSeasonal::default() }.fit(&y).unwrap();
    /// assert_eq!(m.remainder().components().2, SeasonType::None);
    /// ```
    #[must_use]
    pub fn remainder(&self) -> &FittedEts {
        &self.remainder
    }

    /// Likelihood evaluations the fit spent (the remainder's ETS).
    pub(crate) fn evals(&self) -> usize {
        self.remainder.evals()
    }

    /// Sum of the profiles at step `t`.
    /// The structure a restored model must have: one profile per period, the remainder's, a
    /// count that updates cannot overflow (the profiles are indexed totally).
    pub(crate) fn check_restored(&self) -> Result<()> {
        if self.profiles.len() != self.periods.len() {
            return Err(Error::serialization(format!(
                "multi-seasonal needs one profile per period ({}), got {}",
                self.periods.len(),
                self.profiles.len()
            )));
        }
        self.remainder.check_restored()?;
        super::check_restored_count("multi-seasonal n", self.n)
    }

    fn seasonal(&self, t: usize) -> f64 {
        self.profiles
            .iter()
            .zip(&self.periods)
            // Total indexing: an inconsistent deserialised model must not panic.
            .map(|(s, &p)| s.get(t % p.max(1)).copied().unwrap_or(0.0))
            .sum()
    }
}

impl Predict for FittedMultiSeasonal {
    fn predict_into(&self, horizon: usize, level: Option<f64>, out: &mut Forecast) -> Result<()> {
        check_request(horizon, level)?;
        self.remainder.predict_into(horizon, level, out)?;
        for (j, p) in out.point.iter_mut().enumerate() {
            *p += self.seasonal(self.n + j);
        }
        if let Some(iv) = &mut out.intervals {
            for (j, (lo, hi)) in iv.lower.iter_mut().zip(&mut iv.upper).enumerate() {
                let s = self.seasonal(self.n + j);
                *lo += s;
                *hi += s;
            }
        }
        Ok(())
    }

    fn n_obs(&self) -> usize {
        self.n
    }
}

impl Update for FittedMultiSeasonal {
    fn update(&mut self, y: f64) -> Result<()> {
        check_value(y)?;
        self.remainder.update(y - self.seasonal(self.n))?;
        self.n += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference: hand-computed. A pure period-4 pattern [1, 3, 5, 3] (mean 3) has the centred
    // 2×4 moving average 3 everywhere, so the profile is [-2, 0, 2, 0] exactly; tolerance 1e-12.
    #[test]
    fn profile_of_exact_season() {
        let d: Vec<f64> = (0..16).map(|t| [1.0, 3.0, 5.0, 3.0][t % 4]).collect();
        let s = profile(&d, 4, 0.0);
        for (a, b) in s.iter().zip([-2.0, 0.0, 2.0, 0.0]) {
            assert!((a - b).abs() < 1e-12, "{s:?}");
        }
    }

    #[test]
    fn recovers_two_exact_seasons() {
        // Sum of a period-6 and a period-24 pattern on a constant level: the forecast repeats it.
        let f = |t: usize| {
            30.0 + [0.0, 2.0, 4.0, 2.0, 0.0, -2.0][t % 6] + if t % 24 < 12 { 5.0 } else { -5.0 }
        };
        let y: Vec<f64> = (0..240).map(f).collect();
        let spec = MultiSeasonal {
            periods: Some(vec![24, 6]),
            smooth: 0.0,
            ..MultiSeasonal::default()
        };
        let m = spec.fit(&y).unwrap();
        let fc = m.predict(48, None).unwrap();
        for (j, p) in fc.point.iter().enumerate() {
            assert!(
                (p - f(240 + j)).abs() < 1e-6,
                "step {j}: {p} vs {}",
                f(240 + j)
            );
        }
    }
}
