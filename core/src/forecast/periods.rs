//! Dominant period detection from the autocorrelation function.

/// The dominant period of `y` in samples, or `None` when there is none.
///
/// The series is averaged into at most 2 048 buckets (so a week at one-minute resolution costs
/// about 4 M multiply-adds), its autocorrelation computed for lags up to half its length, and
/// the highest local maximum taken if it exceeds `0.3`; the lag is then refined at full
/// resolution within one bucket. Any period the data shows is found, not only a day or a week.
///
/// ```
/// let y: Vec<f64> = (0..600).map(|t| (t as f64 * std::f64::consts::TAU / 50.0).sin() + 2.0).collect();
/// assert_eq!(replicast::forecast::detect_period(&y), Some(50));
/// assert_eq!(replicast::forecast::detect_period(&vec![3.0; 600]), None);
/// ```
#[must_use]
pub fn detect_period(y: &[f64]) -> Option<usize> {
    const MAX_POINTS: usize = 2048;
    const MIN_ACF: f64 = 0.3;
    if y.len() < 8 {
        return None;
    }
    let bucket = y.len().div_ceil(MAX_POINTS);
    let z: Vec<f64> = y
        .chunks(bucket)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect();
    let acf = autocorrelation(&z, z.len() / 2);
    let mut best: Option<(usize, f64)> = None;
    for lag in 2..acf.len().saturating_sub(1) {
        let r = acf[lag];
        if r > acf[lag - 1] && r >= acf[lag + 1] && r > MIN_ACF && best.is_none_or(|(_, b)| r > b) {
            best = Some((lag, r));
        }
    }
    let (lag, _) = best?;
    if bucket == 1 {
        return Some(lag);
    }
    // refine at full resolution around lag × bucket
    let centre = lag * bucket;
    let lo = centre.saturating_sub(bucket).max(2);
    let hi = (centre + bucket).min(y.len() / 2);
    (lo..=hi)
        .map(|l| (l, lag_correlation(y, l)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(l, _)| l)
}

fn autocorrelation(z: &[f64], max_lag: usize) -> Vec<f64> {
    let n = z.len();
    let mean = z.iter().sum::<f64>() / n as f64;
    let var: f64 = z.iter().map(|v| (v - mean).powi(2)).sum();
    if var <= 0.0 {
        return vec![0.0; max_lag + 1];
    }
    (0..=max_lag)
        .map(|lag| {
            z.iter()
                .zip(&z[lag..])
                .map(|(a, b)| (a - mean) * (b - mean))
                .sum::<f64>()
                / var
        })
        .collect()
}

fn lag_correlation(y: &[f64], lag: usize) -> f64 {
    let n = y.len();
    let mean = y.iter().sum::<f64>() / n as f64;
    let var: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
    if var <= 0.0 || lag >= n {
        return 0.0;
    }
    y.iter()
        .zip(&y[lag..])
        .map(|(a, b)| (a - mean) * (b - mean))
        .sum::<f64>()
        / var
}
