//! Rolling-origin evaluation as an autoscaler sees it (the protocol of the project's forecasting
//! peers): at every origin over the last 25 % of a series, using at most four days of history,
//! forecast 5 and 15 minutes ahead and compare with seasonal naive on the same origins.

use serde::{Deserialize, Serialize};

use super::{Fit, FittedModel, Forecast, ModelSpec, Predict};
use crate::error::{Error, Result};

/// Accuracy at one horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HorizonScore {
    /// Label (`5min`, `15min`, or `N step` for coarse series).
    pub label: String,
    /// Steps ahead.
    pub steps: usize,
    /// MAE over steps 1..=h divided by seasonal naive's on the same origins.
    pub rel_mae: f64,
    /// MAE over steps 1..=h divided by the in-sample seasonal-naive MAE before the evaluation region.
    pub mase: f64,
    /// Mean of `200 |y − f| / (|y| + |f|)` over steps 1..=h.
    pub smape: f64,
    /// Share of outcomes inside the 90 % interval (steps 1..=h).
    pub coverage90: f64,
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Number of forecast origins.
    pub origins: usize,
    /// The seasonal period used by the baseline (samples per day when the history allows).
    pub baseline_period: usize,
    /// Scores per horizon.
    pub horizons: Vec<HorizonScore>,
    /// Incremental updates made.
    pub updates: usize,
    /// Full refits made (the first fit included).
    pub refits: usize,
}

/// The horizon the automatic model's candidates are compared at: ten minutes.
fn compare_at(step_s: i64) -> usize {
    usize::try_from((600 + step_s / 2) / step_s.max(1))
        .unwrap_or(1)
        .max(1)
}

/// Samples between full refits: one day's worth, and at least 24.
fn refit_every(step_s: i64) -> usize {
    usize::try_from(86_400 / step_s.max(1))
        .unwrap_or(24)
        .max(24)
}

/// Evaluates `model` on `values` (one sample every `step_s` seconds).
///
/// The model is fitted on the (at most four days of) history before the first origin, then
/// absorbs each new sample with an O(1) update and is refitted once a day of samples, always on
/// the last four days — the way the predictive source runs it.
///
/// # Errors
/// [`crate::ErrorKind::InvalidInput`] when the series is too short for the protocol.
pub fn evaluate(values: &[f64], step_s: i64, model: &ModelSpec) -> Result<Evaluation> {
    let model = &match *model {
        ModelSpec::Auto {
            period,
            horizon: None,
        } => ModelSpec::Auto {
            period,
            horizon: Some(compare_at(step_s)),
        },
        ref other => other.clone(),
    };
    let n = values.len();
    let step_s = step_s.max(1);
    let m_day = usize::try_from((86_400 + step_s / 2) / step_s).unwrap_or(1);
    let m_hour = usize::try_from((3_600 + step_s / 2) / step_s).unwrap_or(1);
    let h5 = usize::try_from((300 + step_s / 2) / step_s)
        .unwrap_or(1)
        .max(1);
    let h15 = usize::try_from((900 + step_s / 2) / step_s)
        .unwrap_or(1)
        .max(1);
    let horizons: Vec<(String, usize)> = if step_s <= 300 {
        vec![("5min".to_owned(), h5), ("15min".to_owned(), h15)]
    } else {
        vec![("1step".to_owned(), 1), ("4step".to_owned(), 4)]
    };
    let max_h = horizons.iter().map(|(_, h)| *h).max().unwrap_or(1);
    let window = if m_day >= 2 {
        (4 * m_day).min(usize::try_from(7 * 86_400 / step_s).unwrap_or(usize::MAX))
    } else {
        500
    };
    let mut eval_start = n * 3 / 4;
    let hist0 = eval_start.min(window);
    let m = if m_day >= 2 && hist0 >= 2 * m_day + 10 {
        m_day
    } else if m_hour >= 2 && hist0 >= 2 * m_hour + 10 {
        m_hour
    } else {
        1
    };
    eval_start = eval_start.max(2 * m + 10);
    if eval_start + max_h >= n {
        return Err(Error::invalid_input(format!(
            "series of {n} samples is too short for a rolling-origin evaluation"
        )));
    }
    let scale = {
        let before = &values[..eval_start];
        let diffs: Vec<f64> = before
            .iter()
            .zip(&before[m..])
            .map(|(a, b)| (b - a).abs())
            .collect();
        (diffs.iter().sum::<f64>() / diffs.len().max(1) as f64).max(f64::MIN_POSITIVE)
    };
    let fit_at = |origin: usize| -> Result<FittedModel> {
        model.fit(&values[origin.saturating_sub(window)..origin])
    };
    let baseline_spec = ModelSpec::SeasonalNaive { period: m };
    let mut fitted = fit_at(eval_start)?;
    let mut baseline = baseline_spec.fit(&values[eval_start.saturating_sub(window)..eval_start])?;
    let mut refits = 1;
    let mut updates = 0;
    let every = refit_every(step_s);
    let k = horizons.len();
    let (mut abs_err, mut base_err, mut smape, mut covered, mut count) = (
        vec![0.0; k],
        vec![0.0; k],
        vec![0.0; k],
        vec![0usize; k],
        vec![0usize; k],
    );
    let mut origins = 0;
    let mut f = Forecast::default();
    let mut b = Forecast::default();
    for origin in eval_start..n - max_h {
        if origin > eval_start {
            let y = values[origin - 1];
            if (origin - eval_start).is_multiple_of(every) {
                fitted = fit_at(origin)?;
                refits += 1;
            } else {
                fitted.update(y)?;
                updates += 1;
            }
            baseline.update(y)?;
        }
        fitted.predict_into(max_h, 0.9, &mut f)?;
        baseline.predict_into(max_h, 0.9, &mut b)?;
        origins += 1;
        for (i, (_, h)) in horizons.iter().enumerate() {
            let (mut e, mut eb, mut s, mut c) = (0.0, 0.0, 0.0, 0usize);
            for step in 0..*h {
                let y = values[origin + step];
                let err = (y - f.point[step]).abs();
                e += err;
                eb += (y - b.point[step]).abs();
                let den = y.abs() + f.point[step].abs();
                s += if den > 0.0 { 200.0 * err / den } else { 0.0 };
                c += usize::from(f.lower[step] <= y && y <= f.upper[step]);
            }
            abs_err[i] += e / *h as f64;
            base_err[i] += eb / *h as f64;
            smape[i] += s / *h as f64;
            covered[i] += c;
            count[i] += *h;
        }
    }
    let horizons = horizons
        .into_iter()
        .enumerate()
        .map(|(i, (label, steps))| HorizonScore {
            label,
            steps,
            rel_mae: abs_err[i] / base_err[i].max(f64::MIN_POSITIVE),
            mase: abs_err[i] / origins as f64 / scale,
            smape: smape[i] / origins as f64,
            coverage90: covered[i] as f64 / count[i].max(1) as f64,
        })
        .collect();
    Ok(Evaluation {
        origins,
        baseline_period: m,
        horizons,
        updates,
        refits,
    })
}
