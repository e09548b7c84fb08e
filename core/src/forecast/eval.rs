//! Rolling-origin evaluation of a model on a trace (the protocol of the peer comparison).

use serde::{Deserialize, Serialize};

use super::period::calendar_season;
use super::{
    Auto, Fit, FittedModel, Forecast, ModelSpec, Predict, SeasonalNaive, Update, regularize,
};
use crate::error::{Error, ErrorKind, Result};
use crate::time::Timestamp;

/// Settings of [`evaluate`].
///
/// | field | default | unit/range | meaning |
/// |---|---|---|---|
/// | `model` | `auto` | [`ModelSpec`] | model evaluated (an `auto` model gets the data's `step_s` and the longest horizon) |
/// | `eval_frac` | 0.25 | (0, 1) | the last share of the series whose points are forecast origins |
/// | `horizons_s` | [300, 900] | seconds | horizons scored (rounded to whole steps, at least 1) |
/// | `level` | 0.9 | (0, 1) | prediction-interval level scored by `coverage` |
/// | `min_step_s` | 60 | seconds | finer data is averaged to this step first |
/// | `refit_every` | 0 | origins, 0 = model's own schedule | refit period (`auto` refits when [`super::FittedAuto::needs_refit`]) |
/// | `record_origins` | false | | also report each origin's errors ([`EvalReport::origin_errors`]) |
///
/// ```
/// let cfg = replicast::forecast::EvalConfig::default();
/// assert_eq!(cfg.horizons_s, vec![300, 900]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalConfig {
    /// The model evaluated.
    pub model: ModelSpec,
    /// Share of the series (at the end) used as forecast origins.
    pub eval_frac: f64,
    /// Horizons in seconds.
    pub horizons_s: Vec<u64>,
    /// Interval level scored by the coverage.
    pub level: f64,
    /// Data finer than this step is averaged to it.
    pub min_step_s: u64,
    /// Refit every this many origins (0 = the model's own schedule).
    pub refit_every: usize,
    /// Report each origin's errors too (to compare on another evaluation's origins, or to see
    /// where the model fails).
    pub record_origins: bool,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            model: ModelSpec::Auto(Auto::default()),
            eval_frac: 0.25,
            horizons_s: vec![300, 900],
            level: 0.9,
            min_step_s: 60,
            refit_every: 0,
            record_origins: false,
        }
    }
}

/// Accuracy at one horizon, averaged over all origins and steps `1..=steps`.
///
/// ```
/// let s = replicast::forecast::HorizonScore::default();
/// assert_eq!(s.steps, 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HorizonScore {
    /// The horizon asked for, seconds.
    pub horizon_s: u64,
    /// The horizon in steps.
    pub steps: usize,
    /// Mean absolute error of the model.
    pub mae: f64,
    /// Mean absolute error of seasonal naive (the baseline) on the same origins.
    pub mae_seasonal_naive: f64,
    /// `mae / mae_seasonal_naive` (< 1 beats the baseline).
    pub rel_mae: f64,
    /// `mae` over the in-sample seasonal-naive MAE of the data before the evaluation region.
    pub mase: f64,
    /// Symmetric MAPE in percent, `200·|y-f|/(|y|+|f|)`, 0/0 counted as 0.
    pub smape: f64,
    /// Share of points inside the interval (over points that had one).
    pub coverage: f64,
    /// Points that had an interval.
    pub coverage_points: usize,
    /// Why this horizon was not evaluated (the series is too short for it; the shorter
    /// horizons were); its scores are then NaN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// The errors at one origin and horizon ([`EvalConfig::record_origins`]).
///
/// ```
/// let e = replicast::forecast::OriginError::default();
/// assert_eq!(e.mae, 0.0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct OriginError {
    /// Index of the first forecast point in the regularised series.
    pub origin: usize,
    /// The horizon, seconds.
    pub horizon_s: u64,
    /// Mean absolute error over steps `1..=steps`.
    pub mae: f64,
    /// The same for seasonal naive.
    pub mae_seasonal_naive: f64,
}

/// What [`evaluate`] measured.
///
/// ```
/// let r = replicast::forecast::EvalReport::default();
/// assert!(r.horizons.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Points after regularisation.
    pub n: usize,
    /// Step after regularisation, seconds.
    pub step_s: u64,
    /// Slots filled by interpolation during regularisation.
    pub filled: usize,
    /// First origin (index of the first forecast point).
    pub eval_start: usize,
    /// Origins scored.
    pub origins: usize,
    /// Season of the seasonal-naive baseline and of the MASE scale.
    pub season: usize,
    /// Most history a (re)fit sees, points.
    pub window: usize,
    /// One score per horizon.
    pub horizons: Vec<HorizonScore>,
    /// Incremental updates performed.
    pub updates: usize,
    /// Fits performed (the first one included).
    pub refits: usize,
    /// Refits that failed (the previous model was kept).
    pub fit_errors: usize,
    /// Origins where the model declined to forecast (scored as persistence: the last value,
    /// which is what the reactive policy acts on; no interval).
    pub no_forecast: usize,
    /// Per origin and horizon, in origin order; empty unless [`EvalConfig::record_origins`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origin_errors: Vec<OriginError>,
}

#[derive(Default)]
struct Acc {
    abs: f64,
    abs_sn: f64,
    smape: f64,
    pts: usize,
    covered: usize,
    cov_pts: usize,
}

/// Rolling-origin evaluation: every point of the last `eval_frac` of the series is a forecast
/// origin; the model is fitted once on at most `window` points (4 days, at most 7, at the data's
/// step; 500 points when a day is under 2 steps), then absorbs each new point through
/// [`Update`], refitting on the model's schedule. Season of the baseline: daily when the first
/// window holds two days and ten points, else hourly likewise, else 1; MASE scale: in-sample
/// seasonal-naive MAE before the evaluation region. Pure: the caller times it if it wants costs.
///
/// ```
/// use replicast::forecast::{evaluate, EvalConfig};
/// let ts: Vec<i64> = (0..3000).map(|i| i * 60_000).collect();
/// let y: Vec<f64> = (0..3000).map(|i| 50.0 + 10.0 * ((i % 60) as f64 / 60.0 * 6.283).sin()).collect();
/// let r = evaluate(&ts, &y, &EvalConfig::default()).unwrap();
/// assert_eq!(r.horizons[0].steps, 5);
/// assert_eq!(r.season, 60); // one day is not in the 2,250-point history: hourly baseline
/// assert!(r.origins > 0 && r.horizons[0].mase.is_finite());
/// ```
///
/// # Errors
/// As [`regularize`] for the input; [`ErrorKind::InvalidConfig`] for invalid settings;
/// [`ErrorKind::InsufficientData`] when the series is too short to evaluate.
pub fn evaluate(
    timestamps_ms: &[Timestamp],
    values: &[f64],
    cfg: &EvalConfig,
) -> Result<EvalReport> {
    if !(cfg.eval_frac > 0.0 && cfg.eval_frac < 1.0) {
        return Err(Error::invalid_config(format!(
            "eval_frac must be in (0, 1), got {}",
            cfg.eval_frac
        )));
    }
    if !(cfg.level > 0.0 && cfg.level < 1.0) {
        return Err(Error::invalid_config(format!(
            "level must be in (0, 1), got {}",
            cfg.level
        )));
    }
    if cfg.horizons_s.is_empty() {
        return Err(Error::invalid_config("horizons_s must not be empty"));
    }
    cfg.model.validate()?;
    let mut reg = regularize(timestamps_ms, values, None)?;
    let min_step_ms = i64::try_from(cfg.min_step_s.saturating_mul(1000)).unwrap_or(i64::MAX);
    if reg.step_ms < min_step_ms {
        reg = regularize(timestamps_ms, values, Some(min_step_ms))?;
    }
    let y = &reg.values;
    let n = y.len();
    let step_s = (reg.step_ms / 1000).max(1) as u64;
    let sf = step_s as f64;
    let steps: Vec<usize> = cfg
        .horizons_s
        .iter()
        .map(|&h| ((h as f64 / sf).round() as usize).max(1))
        .collect();
    let m_day = (86_400.0 / sf).round() as usize;
    let window = if m_day >= 2 {
        (4 * m_day).min((7.0 * 86_400.0 / sf).round() as usize)
    } else {
        500
    };
    let start0 = (n as f64 * (1.0 - cfg.eval_frac)).floor() as usize;
    let hist0 = start0.min(window);
    let season = calendar_season(hist0, step_s);
    let eval_start = start0.max(2 * season + 10);
    // a horizon is evaluated when at least one origin leaves it room; longer ones are skipped
    // and say why, so a short history still gets the horizons it can (a day of 1 s data at
    // 15 min)
    let fits = |h: usize| eval_start + h < n;
    let Some(big_h) = steps.iter().copied().filter(|&h| fits(h)).max() else {
        let shortest = steps.iter().copied().min().unwrap_or(1);
        return Err(Error::insufficient_data(format!(
            "series of {n} points is too short to evaluate {shortest} steps ahead after point {eval_start}"
        )));
    };
    let pre = &y[..eval_start];
    let sm = if pre.len() > season + 1 { season } else { 1 };
    let scale = {
        let s: f64 = pre
            .iter()
            .skip(sm)
            .zip(pre)
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / (pre.len() - sm).max(1) as f64;
        if s > 0.0 { s } else { 1.0 }
    };
    let spec = match &cfg.model {
        ModelSpec::Auto(a) => ModelSpec::Auto(Auto {
            step_s,
            horizon: big_h,
            refit_every: if cfg.refit_every > 0 {
                0
            } else {
                a.refit_every
            },
            ..a.clone()
        }),
        other => other.clone(),
    };
    let fit_at = |o: usize| -> Result<FittedModel> { spec.fit(&y[o.saturating_sub(window)..o]) };
    let mut report = EvalReport {
        n,
        step_s,
        filled: reg.filled,
        eval_start,
        season,
        window,
        ..EvalReport::default()
    };
    let fallback = |o: usize| -> Result<FittedModel> {
        ModelSpec::SeasonalNaive(SeasonalNaive::new(season)).fit(&y[o.saturating_sub(window)..o])
    };
    report.refits += 1;
    let mut model = if let Ok(m) = fit_at(eval_start) {
        m
    } else {
        report.fit_errors += 1;
        fallback(eval_start)?
    };
    let mut absorbed = eval_start;
    let mut since = 0;
    let mut accs: Vec<Acc> = steps.iter().map(|_| Acc::default()).collect();
    let mut fc = Forecast::default();
    let mut sn = vec![0.0; big_h];
    for o in eval_start..=n - big_h {
        while absorbed < o {
            model.update(y[absorbed])?;
            absorbed += 1;
            report.updates += 1;
            since += 1;
        }
        let due = if cfg.refit_every > 0 {
            since >= cfg.refit_every
        } else {
            matches!(&model, FittedModel::Auto(a) if a.needs_refit())
        };
        if due {
            report.refits += 1;
            since = 0;
            match fit_at(o) {
                Ok(m) => model = m,
                Err(_) => report.fit_errors += 1,
            }
        }
        for (j, s) in sn.iter_mut().enumerate() {
            *s = y[o - season + (j % season)];
        }
        match model.predict_into(big_h, Some(cfg.level), &mut fc) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::InsufficientData => {
                // Declined: the reactive policy decides, which amounts to persistence.
                report.no_forecast += 1;
                fc.point.clear();
                fc.point.resize(big_h, y[o - 1]);
                fc.intervals = None;
            }
            Err(e) => return Err(e),
        }
        report.origins += 1;
        for ((acc, &h), &horizon_s) in accs.iter_mut().zip(&steps).zip(&cfg.horizons_s) {
            if !fits(h) {
                continue;
            }
            let (mut origin_abs, mut origin_abs_sn) = (0.0, 0.0);
            for j in 0..h {
                let (a, f) = (y[o + j], fc.point[j]);
                let e = (a - f).abs();
                origin_abs += e;
                origin_abs_sn += (a - sn[j]).abs();
                let den = a.abs() + f.abs();
                acc.smape += if den > 0.0 { 200.0 * e / den } else { 0.0 };
                acc.pts += 1;
                if let Some(iv) = &fc.intervals {
                    acc.cov_pts += 1;
                    acc.covered += usize::from(iv.lower[j] <= a && a <= iv.upper[j]);
                }
            }
            acc.abs += origin_abs;
            acc.abs_sn += origin_abs_sn;
            if cfg.record_origins {
                report.origin_errors.push(OriginError {
                    origin: o,
                    horizon_s,
                    mae: origin_abs / h as f64,
                    mae_seasonal_naive: origin_abs_sn / h as f64,
                });
            }
        }
    }
    report.horizons = accs
        .iter()
        .zip(steps.iter().zip(&cfg.horizons_s))
        .map(|(a, (&s, &hs))| {
            if !fits(s) {
                return HorizonScore {
                    horizon_s: hs,
                    steps: s,
                    mae: f64::NAN,
                    mae_seasonal_naive: f64::NAN,
                    rel_mae: f64::NAN,
                    mase: f64::NAN,
                    smape: f64::NAN,
                    coverage: f64::NAN,
                    coverage_points: 0,
                    skipped: Some(format!(
                        "not evaluated: {s} steps of {step_s} s after the first origin (point {eval_start}) need {} points, the series has {n}",
                        eval_start + s + 1
                    )),
                };
            }
            let p = a.pts.max(1) as f64;
            HorizonScore {
                horizon_s: hs,
                steps: s,
                mae: a.abs / p,
                mae_seasonal_naive: a.abs_sn / p,
                rel_mae: if a.abs_sn > 0.0 {
                    a.abs / a.abs_sn
                } else {
                    f64::NAN
                },
                mase: a.abs / p / scale,
                smape: a.smape / p,
                coverage: if a.cov_pts > 0 {
                    a.covered as f64 / a.cov_pts as f64
                } else {
                    f64::NAN
                },
                coverage_points: a.cov_pts,
                skipped: None,
            }
        })
        .collect();
    Ok(report)
}
