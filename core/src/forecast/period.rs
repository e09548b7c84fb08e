//! Period detection from the autocorrelation function (computed through an FFT).

use realfft::RealFftPlanner;
use realfft::num_complex::Complex;
use serde::{Deserialize, Serialize};

use super::check_series;
use crate::error::{Error, Result};

/// Settings of [`detect_periods`].
///
/// | field | default | unit/range | meaning |
/// |---|---|---|---|
/// | `step_s` | 60 | seconds, >= 1 | sampling step, to place the calendar candidates (hour, day, week) |
/// | `min_acf` | 0.2 | (0, 1) | least autocorrelation at the period |
/// | `min_prominence` | 0.1 | (0, 1) | least `acf(p) - acf(p/2)`: the peak must stand above the half-period trough |
/// | `max_periods` | 2 | >= 1 | most periods returned |
///
/// ```
/// let cfg = replicast::forecast::PeriodConfig { step_s: 300, ..Default::default() };
/// assert_eq!(cfg.min_acf, 0.2);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PeriodConfig {
    /// Sampling step in seconds.
    pub step_s: u64,
    /// Least autocorrelation at an accepted period.
    pub min_acf: f64,
    /// Least height of the peak above the autocorrelation at half the period.
    pub min_prominence: f64,
    /// Most periods returned.
    pub max_periods: usize,
}

/// Default of [`PeriodConfig::min_acf`] (and of `Auto::min_acf`, which sets it).
pub(crate) const DEFAULT_MIN_ACF: f64 = 0.2;

impl Default for PeriodConfig {
    fn default() -> Self {
        Self {
            step_s: 60,
            min_acf: DEFAULT_MIN_ACF,
            min_prominence: 0.1,
            max_periods: 2,
        }
    }
}

impl PeriodConfig {
    fn validate(&self) -> Result<()> {
        if self.step_s == 0 {
            return Err(Error::invalid_config("step_s must be at least 1, got 0"));
        }
        for (name, v) in [
            ("min_acf", self.min_acf),
            ("min_prominence", self.min_prominence),
        ] {
            if !(v > 0.0 && v < 1.0) {
                return Err(Error::invalid_config(format!(
                    "{name} must be in (0, 1), got {v}"
                )));
            }
        }
        if self.max_periods == 0 {
            return Err(Error::invalid_config(
                "max_periods must be at least 1, got 0",
            ));
        }
        Ok(())
    }
}

/// Detects seasonal periods (in steps) in a regular series, strongest first; empty when there is
/// none.
///
/// Candidates are the calendar periods (one hour, one day, one week at `step_s`) and the highest
/// autocorrelation peak after the first zero crossing. A candidate needs two full cycles in `y`,
/// an autocorrelation (of the linearly detrended series) of at least `min_acf` and a peak at least
/// `min_prominence` above the autocorrelation at half the period, which rejects the slow decay of
/// a smooth or level-shifting series; a multiple of an accepted period must have an
/// autocorrelation `min_prominence / 2` higher. Calendar periods are returned exactly (1440 at 60 s); other
/// peaks as found.
///
/// ```
/// use replicast::forecast::{detect_periods, PeriodConfig};
/// let y: Vec<f64> = (0..480).map(|t| ((t % 24) as f64 / 24.0 * 6.283).sin()).collect();
/// let cfg = PeriodConfig { step_s: 3600, ..Default::default() };
/// assert_eq!(detect_periods(&y, &cfg).unwrap(), vec![24]);
/// let mut s = 1u64; // a linear congruential generator: no period in 480 points
/// let noise: Vec<f64> = (0..480)
///     .map(|_| { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (s >> 33) as f64 })
///     .collect();
/// assert!(detect_periods(&noise, &cfg).unwrap().is_empty());
/// ```
///
/// # Errors
/// [`crate::ErrorKind::InvalidInput`] for an empty series or a non-finite value;
/// [`crate::ErrorKind::InvalidConfig`] for invalid settings.
pub fn detect_periods(y: &[f64], cfg: &PeriodConfig) -> Result<Vec<usize>> {
    cfg.validate()?;
    check_series(y)?;
    let n = y.len();
    if n < 8 {
        return Ok(Vec::new());
    }
    let acf = autocorrelation(y);
    if acf.is_empty() {
        return Ok(Vec::new());
    }
    let max_lag = acf.len() - 1;
    let strength = |p: usize| -> Option<(usize, f64)> {
        if p < 2 || 2 * p > n || p > max_lag {
            return None;
        }
        let tol = (p / 50).max(1);
        let (best, a) = (p.saturating_sub(tol)..=(p + tol).min(max_lag))
            .map(|l| (l, acf[l]))
            .fold((p, f64::NEG_INFINITY), |b, c| if c.1 > b.1 { c } else { b });
        let trough = acf[best / 2];
        (a >= cfg.min_acf && a - trough >= cfg.min_prominence).then_some((best, a))
    };
    let mut found: Vec<(usize, f64)> = Vec::new();
    let step = cfg.step_s as f64;
    for secs in [3600.0, 86_400.0, 604_800.0] {
        let p = (secs / step).round() as usize;
        if (secs / step - p as f64).abs() > 0.01 * p as f64 {
            continue;
        }
        // A multiple of an accepted period must be clearly stronger (a weekly pattern on top
        // of the daily one), else it adds nothing.
        if let Some((_, a)) = strength(p)
            && found
                .iter()
                .all(|&(q, aq)| !p.is_multiple_of(q) || a >= aq + cfg.min_prominence / 2.0)
        {
            found.push((p, a));
        }
    }
    // The dominant peak after the first zero crossing.
    if let Some(z) = acf.iter().position(|&a| a <= 0.0) {
        let mut best: Option<(usize, f64)> = None;
        for l in z.max(2)..max_lag.min(n / 2) {
            if acf[l] >= acf[l - 1] && acf[l] >= acf[l + 1] && best.is_none_or(|b| acf[l] > b.1) {
                best = Some((l, acf[l]));
            }
        }
        if let Some((l, _)) = best
            && let Some((p, a)) = strength(l)
        {
            let near = found.iter().any(|&(q, _)| {
                let r = p as f64 / q as f64;
                (r - r.round()).abs() < 0.05 * r.round().max(1.0) && r.round() >= 1.0
                    || (q as f64 / p as f64 - (q as f64 / p as f64).round()).abs() < 0.05
            });
            if !near {
                found.push((p, a));
            }
        }
    }
    found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    found.truncate(cfg.max_periods);
    Ok(found.into_iter().map(|(p, _)| p).collect())
}

/// The calendar season of `n` points at `step_s`: one day when they hold two days and ten points,
/// else one hour likewise, else 1. It is the season of [`super::evaluate`]'s seasonal-naive
/// baseline, and [`super::Auto`] always keeps seasonal naive at it as a candidate.
pub(crate) fn calendar_season(n: usize, step_s: u64) -> usize {
    let sf = step_s.max(1) as f64;
    let m_day = (86_400.0 / sf).round() as usize;
    let m_hour = (3600.0 / sf).round() as usize;
    if m_day >= 2 && n >= 2 * m_day + 10 {
        m_day
    } else if m_hour >= 2 && n >= 2 * m_hour + 10 {
        m_hour
    } else {
        1
    }
}

/// Sample autocorrelation of the linearly detrended series for lags `0..=n/2` (empty if the
/// detrended series is constant).
pub(crate) fn autocorrelation(y: &[f64]) -> Vec<f64> {
    let n = y.len();
    let nf = n as f64;
    let tm = (nf - 1.0) / 2.0;
    let ym = y.iter().sum::<f64>() / nf;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (t, v) in y.iter().enumerate() {
        sxy += (t as f64 - tm) * (v - ym);
        sxx += (t as f64 - tm).powi(2);
    }
    let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    // Zero padding to n + n/2 + 1 keeps the circular correlation exact for every lag returned
    // (<= n/2); the transform length is the next even 5-smooth number (fast mixed-radix sizes),
    // and a real-input FFT does half the work of a complex one (period detection was a tenth of
    // a predictive decision's amortised cost with a hand-written radix-2 transform; perf).
    let size = fft_size(n + n / 2 + 1);
    let mut planner = RealFftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(size);
    let inverse = planner.plan_fft_inverse(size);
    let mut signal = forward.make_input_vec();
    for (t, v) in y.iter().enumerate() {
        signal[t] = v - ym - b * (t as f64 - tm);
    }
    let mut spectrum = forward.make_output_vec();
    // The lengths come from the plans, so the transforms cannot fail; an empty result says
    // "no structure" if they ever did.
    if forward.process(&mut signal, &mut spectrum).is_err() {
        return Vec::new();
    }
    for c in &mut spectrum {
        *c = Complex::new(c.norm_sqr(), 0.0);
    }
    if inverse.process(&mut spectrum, &mut signal).is_err() {
        return Vec::new();
    }
    let c0 = signal[0];
    if c0 <= 1e-300 * nf {
        return Vec::new();
    }
    signal[..=n / 2].iter().map(|c| c / c0).collect()
}

/// The smallest even number `>= min` whose only prime factors are 2, 3 and 5.
fn fft_size(min: usize) -> usize {
    let smooth = |mut m: usize| {
        for p in [2, 3, 5] {
            while m.is_multiple_of(p) {
                m /= p;
            }
        }
        m == 1
    };
    let mut size = min.max(2).next_multiple_of(2);
    while !smooth(size) {
        size += 2;
    }
    size
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fft_sizes_are_even_and_5_smooth() {
        assert_eq!(fft_size(1), 2);
        assert_eq!(fft_size(7), 8);
        assert_eq!(fft_size(8641), 8748); // 4 days at one minute: 2^2 · 3^7
        assert_eq!(fft_size(8748), 8748);
        for min in 1..2000 {
            let size = fft_size(min);
            assert!(size >= min && size.is_multiple_of(2), "{min} -> {size}");
        }
    }

    #[test]
    fn fft_acf_matches_direct_sum() {
        // Reference: the direct O(n^2) definition of the sample autocorrelation; tolerance 1e-9.
        let y: Vec<f64> = (0..37)
            .map(|t| f64::from(t * t % 11) + 0.3 * f64::from(t))
            .collect();
        let acf = autocorrelation(&y);
        let n = y.len() as f64;
        let tm = (n - 1.0) / 2.0;
        let ym = y.iter().sum::<f64>() / n;
        let sxy: f64 = y
            .iter()
            .enumerate()
            .map(|(t, v)| (t as f64 - tm) * (v - ym))
            .sum();
        let sxx: f64 = (0..y.len()).map(|t| (t as f64 - tm).powi(2)).sum();
        let d: Vec<f64> = y
            .iter()
            .enumerate()
            .map(|(t, v)| v - ym - sxy / sxx * (t as f64 - tm))
            .collect();
        let c0: f64 = d.iter().map(|v| v * v).sum();
        for (lag, a) in acf.iter().enumerate() {
            let c: f64 = (0..y.len() - lag).map(|t| d[t] * d[t + lag]).sum();
            assert!((a - c / c0).abs() < 1e-9, "lag {lag}");
        }
    }

    #[test]
    fn finds_daily_period_at_five_minutes() {
        let y: Vec<f64> = (0..288 * 4)
            .map(|t| {
                100.0
                    + 30.0 * (f64::from(t % 288) / 288.0 * std::f64::consts::TAU).sin()
                    + f64::from((t * 37) % 13)
            })
            .collect();
        let cfg = PeriodConfig {
            step_s: 300,
            ..PeriodConfig::default()
        };
        assert_eq!(detect_periods(&y, &cfg).unwrap()[0], 288);
    }

    #[test]
    fn level_shift_is_not_a_period() {
        let y: Vec<f64> = (0..1000).map(|t| if t < 500 { 1.0 } else { 5.0 }).collect();
        assert!(
            detect_periods(&y, &PeriodConfig::default())
                .unwrap()
                .is_empty()
        );
    }
}
