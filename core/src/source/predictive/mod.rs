//! The predictive source: forecast the load over the time a new replica needs to start and one
//! decision interval more, and propose the replicas that load needs at the target utilization —
//! so capacity is ready when the load arrives.
//!
//! - **Samples.** Each decision may carry the load since the previous one: its mean (`load`, over
//!   `load_since_ms..now_ms`, or one sample interval without it) or the samples themselves
//!   (`load_samples`). They are averaged, weighted by time, into samples of `sample_interval_s`,
//!   the forecast's resolution ([`samples`]: overlaps count once, a missed interval repeats the
//!   last sample, at most one history length), so the model always sees a regular series at a
//!   resolution that fits the start-up, however fine the caller's samples and decisions. At most
//!   `history_s` of samples are kept.
//! - **Warm-up.** Silent until `warmup_samples` samples exist; the decision says how many are
//!   missing. The seasonal models join once two periods of history exist (refits are daily).
//! - **Forecast.** The automatic model ([`crate::forecast::Auto`]) is fitted at the end
//!   of warm-up, absorbs each sample in O(1), and is refitted every day of samples on the kept
//!   history, or earlier when its recent errors grow. When it does worse than repeating the last
//!   value it declines to forecast, and the decision says so. Lead = start-up + `decision_interval_s`.
//! - **Modes.** `forecast_and_scale` joins the max of the sources, so by default it can only raise
//!   the reactive proposal; `forecast_only` reports the proposal without acting on it.
//! - **Quantile.** The point forecast is provisioned at `target_utilization`, its q-quantile at
//!   `peak_utilization` (default: the target): `ceil(max(point / (capacity × target),
//!   q-quantile / (capacity × peak)))` over the lead.
//! - **SLO** (instead of the quantile, [`Slo`]): the headroom above the point forecast is
//!   calibrated online to an overload budget from the overload actually seen, its average cost
//!   bounded by what a reactive autoscaler at `target_utilization` would pay ([`slo`]).
//! - **Phases of the hour** ([`phase`]): each forecast step's headroom (the quantile's, or the
//!   calibrated one's, above the point forecast) is stretched or narrowed by its minute of the
//!   hour's own record of bursts, learned online from the one-step forecasts' misses, so that a
//!   burst recurring at :30 is provisioned for ahead of :30 and not all hour.
//! - **Scale-in on forecast** (opt-in, [`ForecastScaleIn`]): a forecast that stays low over its
//!   window replaces the scale-down stabilization window.
//! - **Scheduled floors** ([`ScheduledFloor`]): minimum replicas by time of day / day of week,
//!   from one lead before the window opens; like `min_replicas`, no cooldown holds them back.
//! - **Start-up.** `startup_s`, or with `learn_startup` the 90th percentile of the last 20
//!   readiness delays of the pods passed in `DecisionInput::pods`.
//! - **Max capacity.** The proposal is capped at `max_replicas + max_buffer_replicas` before the
//!   scaler's own bounds; with the default buffer 0 it honours `max_replicas`.

mod phase;
mod samples;
mod slo;

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

pub use slo::Slo;

use crate::decision::DecisionInput;
use crate::error::{Error, Result};
use crate::fixed::{Fixed, Shortest};
use crate::forecast::{Auto, Fit, FittedModel, Forecast, Predict};
use crate::source::hpa::{ConditionStatus, Pod};
use crate::time::{Timestamp, secs_to_ms};
use slo::Calibration;

/// Bytes reserved for a decision's reason: the longest usual one (with an `slo`) fits.
const REASON_CAPACITY: usize = 320;

/// Settings of the predictive source.
///
/// | field | default | unit / range | meaning |
/// | --- | --- | --- | --- |
/// | `capacity_per_replica` | required | load units, > 0 | load one replica serves at 100 % (in the load's units: a rate, or an amount per sample) |
/// | `target_utilization` | 0.7 | (0, 1] | utilization to provision for (with `slo`: the reactive target whose cost bounds the headroom) |
/// | `startup_s` | 120 | s | from scale-up to serving (until learned) |
/// | `learn_startup` | false | | learn the start-up from the pods' readiness delays |
/// | `decision_interval_s` | 15 | s | time between decisions |
/// | `sample_interval_s` | 60 | s, ≥ 1 | the forecast's resolution: the load is averaged over this interval |
/// | `quantile` | 0.9 | [0.5, 1) | provision to this quantile of the forecast (without `slo`) |
/// | `slo` | none | [`Slo`] | an overload budget: the headroom is calibrated to it instead |
/// | `mode` | `forecast_and_scale` | or `forecast_only` | act, or only report |
/// | `warmup_samples` | 60 | ≥ 10 | samples before the first forecast |
/// | `history_s` | 345600 (4 days) | s | history kept for refits |
/// | `max_buffer_replicas` | 0 | replicas | how far a forecast may go above `max_replicas` |
/// | `peak_utilization` | `target_utilization` | [`target_utilization`, 1] | utilization the forecast's q-quantile may reach |
/// | `scale_in` | none | [`ForecastScaleIn`] | opt-in: scale in when the forecast stays low |
/// | `floors` | none | [`ScheduledFloor`] list | minimum replicas by time of day / day of week |
/// | `outlier_k` | 0 (off) | 0, or ≥ 2 | the forecaster's outlier clipping ([`crate::forecast::Auto`]'s `outlier_k`) |
/// | `phase_of_hour` | true | | share the headroom out by the minute of the hour, to where bursts recur |
///
/// ```
/// let p: replicast::spec::PredictiveSpec = serde_json::from_str(r#"{"capacity_per_replica": 50}"#).unwrap();
/// assert_eq!(p.target_utilization, 0.7);
/// assert_eq!(p.quantile, 0.9);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictiveSpec {
    /// Load one replica serves at 100 %, in the units of the load the caller passes.
    pub capacity_per_replica: f64,
    /// Utilization to provision for, in (0, 1].
    #[serde(default = "default_target")]
    pub target_utilization: f64,
    /// Start-up delay of a replica, seconds (the value used until one is learned).
    #[serde(default = "default_startup")]
    pub startup_s: u32,
    /// Learn the start-up delay from the readiness delays of the pods the caller passes
    /// (`DecisionInput::pods`): the 90th percentile of the last 20 delays, once there are at least 3.
    #[serde(default)]
    pub learn_startup: bool,
    /// Time between decisions, seconds.
    #[serde(default = "default_interval")]
    pub decision_interval_s: u32,
    /// The forecast's resolution, seconds: the load is averaged over intervals this long.
    #[serde(default = "default_sample_interval")]
    pub sample_interval_s: u32,
    /// Quantile of the forecast to provision to (without `slo`).
    #[serde(default = "default_quantile")]
    pub quantile: f64,
    /// An overload budget: the headroom above the point forecast is calibrated online to it
    /// (`quantile` and `peak_utilization` then do not apply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<Slo>,
    /// Act on the forecast, or only report it.
    #[serde(default)]
    pub mode: PredictiveMode,
    /// Samples before the first forecast.
    #[serde(default = "default_warmup")]
    pub warmup_samples: u32,
    /// Seconds of history kept.
    #[serde(default = "default_history")]
    pub history_s: u32,
    /// Replicas a forecast may ask for above `max_replicas`.
    #[serde(default)]
    pub max_buffer_replicas: u32,
    /// Utilization the forecast's `quantile` may reach: the expected load (the point forecast)
    /// is provisioned at `target_utilization`, its q-quantile at this utilization (unset: at
    /// `target_utilization` too). Nearer 1.0 the q-quantile only has to fit in ready capacity,
    /// so overload stays rare without paying the target's headroom on top of the interval's
    /// (docs/decisions.md, "Provisioning to a quantile").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_utilization: Option<f64>,
    /// Scale-in on forecast (off unless set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_in: Option<ForecastScaleIn>,
    /// Scheduled floors: minimum replicas during time windows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub floors: Vec<ScheduledFloor>,
    /// Clip a load sample whose one-step forecast error exceeds this many recent mean absolute
    /// errors before the forecaster absorbs it (0 = off; a second one the same way passes as a
    /// level shift). The reactive sources always see the raw metric.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub outlier_k: f64,
    /// Share the headroom out by the minute of the hour: each forecast step's headroom is
    /// stretched or narrowed by its phase's own record of bursts (docs/decisions.md, "Headroom
    /// by the minute of the hour"). Off: one width all hour.
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub phase_of_hour: bool,
}

fn default_true() -> bool {
    true
}

// serde's `skip_serializing_if` passes a reference
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_true(v: &bool) -> bool {
    *v
}

// serde's `skip_serializing_if` passes a reference
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero_ms(v: &i64) -> bool {
    *v == 0
}

/// Scale-in on forecast: when the forecast says the load stays low for `window_s`, the
/// scale-down stabilization window (which looks back) is replaced by the forecast (which looks
/// ahead), so replicas are released as soon as they will not be needed.
///
/// Its own hysteresis: the forecast's q-quantile over the whole of `window_s` must fit at
/// `target_utilization` in the smaller fleet; never within `after_scale_up_s` of a scale-up;
/// never below the reactive proposal of this decision.
///
/// | field | default | unit | meaning |
/// | --- | --- | --- | --- |
/// | `window_s` | 300 | s, ≥ 1 | how far ahead the forecast must stay low |
/// | `after_scale_up_s` | 300 | s | no scale-in on forecast this soon after a scale-up |
///
/// ```
/// let s: replicast::spec::ForecastScaleIn = serde_json::from_str("{}").unwrap();
/// assert_eq!((s.window_s, s.after_scale_up_s), (300, 300));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForecastScaleIn {
    /// Seconds ahead the forecast must stay low.
    #[serde(default = "default_scale_in_window")]
    pub window_s: u32,
    /// Seconds after a scale-up during which the forecast does not scale in.
    #[serde(default = "default_scale_in_window")]
    pub after_scale_up_s: u32,
}

fn default_scale_in_window() -> u32 {
    300
}

/// A minimum number of replicas during a weekly time window, ready in advance: it applies from
/// one lead (start-up + decision interval) before `from` until `to`, so that the replicas are
/// serving at `from`. Times are local to `utc_offset_min` (no time-zone database: a daylight
/// saving change means a new offset). A window with `to` before `from` runs past midnight into
/// the next day; `days` names the day it starts on.
///
/// | field | default | meaning |
/// | --- | --- | --- |
/// | `min_replicas` | required | the floor |
/// | `from`, `to` | required | `HH:MM`, 00:00–24:00 |
/// | `days` | every day | `mon` … `sun` |
/// | `utc_offset_min` | 0 | minutes east of UTC, −1440 < offset < 1440 |
///
/// ```
/// let f: replicast::spec::ScheduledFloor = serde_json::from_str(
///     r#"{"min_replicas": 6, "from": "08:00", "to": "18:00", "days": ["mon", "fri"]}"#).unwrap();
/// // Friday 2023-11-17 09:00 UTC
/// assert!(f.active_at(1_700_211_600_000, 0).unwrap());
/// // Saturday 09:00 UTC
/// assert!(!f.active_at(1_700_298_000_000, 0).unwrap());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledFloor {
    /// Replicas at least, while the window is active.
    pub min_replicas: u32,
    /// Start, `HH:MM` local time.
    pub from: String,
    /// End (exclusive), `HH:MM` local time.
    pub to: String,
    /// Days the window starts on; empty means every day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<Weekday>,
    /// Offset of local time from UTC, minutes.
    #[serde(default)]
    pub utc_offset_min: i32,
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// The weekday of a day counted from 1970-01-01 (a Thursday).
    fn of_epoch_day(day: i64) -> Weekday {
        Weekday::ALL[usize::try_from((day + 3).rem_euclid(7)).unwrap_or(0)]
    }
}

/// Minutes since midnight of `HH:MM` (00:00–24:00; two-digit minutes, so `8:5` is not read
/// as 08:05).
fn parse_clock(field: &str, text: &str) -> Result<i64> {
    let parsed = text.split_once(':').and_then(|(h, m)| {
        if m.len() != 2 || h.is_empty() || h.len() > 2 {
            return None;
        }
        let (h, m) = (h.parse::<i64>().ok()?, m.parse::<i64>().ok()?);
        let minutes = h * 60 + m;
        ((0..60).contains(&m) && (0..=1440).contains(&minutes)).then_some(minutes)
    });
    parsed.ok_or_else(|| {
        Error::invalid_config(format!(
            "{field} must be a time HH:MM between 00:00 and 24:00, got {text:?}"
        ))
    })
}

impl ScheduledFloor {
    /// Whether the window is active at `at_ms` (UTC milliseconds), or will be within `lead_ms`.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] when `from` or `to` is not a valid `HH:MM`.
    pub fn active_at(&self, at_ms: Timestamp, lead_ms: i64) -> Result<bool> {
        let from = parse_clock("floors[].from", &self.from)?;
        let to = parse_clock("floors[].to", &self.to)?;
        Ok(self.active(at_ms, from, to) || self.active(at_ms.saturating_add(lead_ms), from, to))
    }

    fn active(&self, at_ms: Timestamp, from: i64, to: i64) -> bool {
        let local_min = at_ms.div_euclid(60_000) + i64::from(self.utc_offset_min);
        let day = local_min.div_euclid(1440);
        let minute = local_min.rem_euclid(1440);
        let starts_on =
            |d: i64| self.days.is_empty() || self.days.contains(&Weekday::of_epoch_day(d));
        if from <= to {
            (from..to).contains(&minute) && starts_on(day)
        } else {
            (minute >= from && starts_on(day)) || (minute < to && starts_on(day - 1))
        }
    }

    fn validate(&self, index: usize) -> Result<()> {
        parse_clock(&format!("predictive.floors[{index}].from"), &self.from)?;
        parse_clock(&format!("predictive.floors[{index}].to"), &self.to)?;
        if self.utc_offset_min.abs() >= 1440 {
            return Err(Error::invalid_config(format!(
                "predictive.floors[{index}].utc_offset_min must be in (-1440, 1440), got {}",
                self.utc_offset_min
            )));
        }
        Ok(())
    }
}

fn default_target() -> f64 {
    0.7
}
fn default_startup() -> u32 {
    120
}
fn default_interval() -> u32 {
    15
}
fn default_sample_interval() -> u32 {
    60
}
fn default_quantile() -> f64 {
    0.9
}
fn default_warmup() -> u32 {
    60
}
fn default_history() -> u32 {
    4 * 86_400
}

/// Whether the predictive source acts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PredictiveMode {
    /// The proposal joins the max of the sources.
    #[default]
    ForecastAndScale,
    /// The proposal is reported in the decision only.
    ForecastOnly,
}

impl PredictiveSpec {
    /// Checks every value.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] naming the field, the value and the valid range.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, range: &str, value: String| {
            Err(Error::invalid_config(format!(
                "predictive.{field} must be {range}, got {value}"
            )))
        };
        if !(self.capacity_per_replica.is_finite() && self.capacity_per_replica > 0.0) {
            return bad(
                "capacity_per_replica",
                "a finite number > 0",
                self.capacity_per_replica.to_string(),
            );
        }
        if !(self.target_utilization > 0.0 && self.target_utilization <= 1.0) {
            return bad(
                "target_utilization",
                "in (0, 1]",
                self.target_utilization.to_string(),
            );
        }
        if !(self.quantile >= 0.5 && self.quantile < 1.0) {
            return bad("quantile", "in [0.5, 1)", self.quantile.to_string());
        }
        if self.sample_interval_s == 0 {
            return bad("sample_interval_s", ">= 1", "0".to_owned());
        }
        if self.warmup_samples < 10 {
            return bad("warmup_samples", ">= 10", self.warmup_samples.to_string());
        }
        if let Some(slo) = &self.slo {
            slo.validate()?;
            if self.peak_utilization.is_some() {
                return bad(
                    "peak_utilization",
                    "unset with slo (the calibration sets the headroom)",
                    format!("{:?}", self.peak_utilization),
                );
            }
        }
        if let Some(peak) = self.peak_utilization
            && !(peak >= self.target_utilization && peak <= 1.0)
        {
            return bad(
                "peak_utilization",
                "in [target_utilization, 1]",
                peak.to_string(),
            );
        }
        if let Some(scale_in) = &self.scale_in
            && scale_in.window_s == 0
        {
            return bad("scale_in.window_s", ">= 1", "0".to_owned());
        }
        for (i, floor) in self.floors.iter().enumerate() {
            floor.validate(i)?;
        }
        crate::forecast::validate_outlier_k(self.outlier_k)
            .map_err(|e| Error::invalid_config(format!("predictive.{}", e.message())))?;
        if self.history_s < self.sample_interval_s.saturating_mul(self.warmup_samples) {
            return bad(
                "history_s",
                "at least warmup_samples × sample_interval_s",
                self.history_s.to_string(),
            );
        }
        Ok(())
    }

    fn capacity_samples(&self) -> usize {
        (self.history_s / self.sample_interval_s).max(self.warmup_samples) as usize
    }

    fn interval_ms(&self) -> i64 {
        secs_to_ms(i64::from(self.sample_interval_s))
    }

    /// The start-up delay in use: learned when enough readiness delays were seen, else configured.
    fn startup_s(&self, state: &PredictiveState) -> u32 {
        if self.learn_startup && state.startup_delays_s.len() >= MIN_LEARNED_STARTUP_SAMPLES {
            learned_startup_s(&state.startup_delays_s)
        } else {
            self.startup_s
        }
    }

    fn lead_s(&self, startup_s: u32) -> u64 {
        u64::from(startup_s) + u64::from(self.decision_interval_s)
    }

    /// Samples from the end of the last complete one to the end of the lead; `pending_ms` is the
    /// time since that end (the part of the next sample already under way).
    fn lead_steps(&self, startup_s: u32, pending_ms: i64) -> usize {
        let lead_ms = self
            .lead_s(startup_s)
            .saturating_mul(1000)
            .saturating_add(u64::try_from(pending_ms).unwrap_or(0));
        usize::try_from(lead_ms.div_ceil(u64::from(self.sample_interval_s.max(1)) * 1000))
            .unwrap_or(1)
            .max(1)
    }

    fn refit_every(&self) -> u32 {
        (86_400 / self.sample_interval_s).max(24)
    }
}

/// Likelihood evaluations allowed per refit of the predictive source's model (the default of
/// [`Auto`] is larger; a refit here runs inside a `decide` call once a day per workload).
const PREDICTIVE_REFIT_EVALS: usize = 120;

/// What the predictive source remembers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PredictiveState {
    /// Load samples, oldest first (at most `history_s` of them).
    history: Vec<f64>,
    /// The end of the last complete sample, where the pending one starts.
    last_sample_ms: Option<Timestamp>,
    /// The pending sample: load × milliseconds seen so far, and the milliseconds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pending_load: f64,
    #[serde(default, skip_serializing_if = "is_zero_ms")]
    pending_ms: i64,
    /// The end of the newest load window seen (absent in snapshots from before windows: the
    /// last sample's end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    covered_until_ms: Option<Timestamp>,
    /// The headroom's calibration, with an `slo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    calibration: Option<Calibration>,
    /// The headroom's share by phase of the hour ([`phase`]; absent in snapshots from before
    /// it, and until the model has issued a forecast).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phase_scale: Option<phase::PhaseScale>,
    model: Option<FittedModel>,
    samples_since_fit: u32,
    /// When the scaler last scaled up (for [`ForecastScaleIn::after_scale_up_s`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_scale_up_ms: Option<Timestamp>,
    /// The most recent readiness delays seen, seconds, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    startup_delays_s: Vec<u32>,
}

/// Readiness delays kept for [`PredictiveSpec::learn_startup`]: the start-up in use is the 90th
/// percentile (nearest rank) of the last 20, once there are at least 3. A high percentile,
/// because a replica that starts late is what overloads the fleet; the last 20, so that a new
/// image or node type is learned within a few scale-ups.
pub(crate) const LEARNED_STARTUP_SAMPLES: usize = 20;
const MIN_LEARNED_STARTUP_SAMPLES: usize = 3;
/// Longer readiness delays are not start-ups (a pod that turned unready and ready again).
const MAX_LEARNED_STARTUP_S: i64 = 3_600;

fn learned_startup_s(delays: &[u32]) -> u32 {
    let mut sorted = delays.to_vec();
    sorted.sort_unstable();
    let rank = (sorted.len() * 9).div_ceil(10).max(1);
    sorted[rank - 1]
}

/// Notes the readiness delays of pods that became ready after `since_ms` (the previous
/// decision): from `status.startTime` to the Ready condition's last transition.
pub(crate) fn observe_startups(
    spec: &PredictiveSpec,
    state: &mut PredictiveState,
    pods: &[Pod],
    since_ms: Option<Timestamp>,
) {
    if !spec.learn_startup {
        return;
    }
    for pod in pods {
        let (Some(start), Some(ready)) = (pod.start_time_ms, &pod.ready) else {
            continue;
        };
        let newly_ready = ready.status == ConditionStatus::True
            && since_ms.is_none_or(|since| ready.last_transition_ms > since);
        let delay_s = (ready.last_transition_ms - start) / 1000;
        if newly_ready && (0..=MAX_LEARNED_STARTUP_S).contains(&delay_s) {
            if state.startup_delays_s.len() == LEARNED_STARTUP_SAMPLES {
                state.startup_delays_s.remove(0);
            }
            state
                .startup_delays_s
                .push(u32::try_from(delay_s).unwrap_or(0));
        }
    }
}

/// A one-step-ahead forecast with its interval: of the sample that starts at `start_ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct NextSample {
    pub start_ms: Timestamp,
    pub point: f64,
    pub lower: f64,
    pub upper: f64,
}

impl PredictiveState {
    /// Refuses a restored state whose model is internally inconsistent
    /// ([`FittedModel::from_json`]'s check).
    pub(crate) fn check_usable(&self) -> Result<()> {
        if let Some(phase) = &self.phase_scale {
            phase.check_restored()?;
        }
        self.model
            .as_ref()
            .map_or(Ok(()), FittedModel::check_usable)
    }

    /// The model's forecast of the next sample at interval `level`; `None` in warm-up or when
    /// the model declines.
    pub(crate) fn forecast_next(&self, level: f64) -> Option<NextSample> {
        let mut forecast = Forecast::default();
        self.model
            .as_ref()?
            .predict_into(1, Some(level), &mut forecast)
            .ok()?;
        let intervals = forecast.intervals.as_ref()?;
        let sample = NextSample {
            start_ms: self.last_sample_ms?,
            point: *forecast.point.first()?,
            lower: *intervals.lower.first()?,
            upper: *intervals.upper.first()?,
        };
        sample.point.is_finite().then_some(sample)
    }

    /// Where the pending sample starts: the start of the sample [`Self::forecast_next`]
    /// forecasts (a replay asks for it only when this moves).
    pub(crate) fn last_sample_ms(&self) -> Option<Timestamp> {
        self.last_sample_ms
    }

    /// Notes a rescale decided by the scaler.
    pub(crate) fn note_rescale(&mut self, current: i32, desired: i32, now_ms: Timestamp) {
        if desired > current {
            self.last_scale_up_ms = Some(now_ms);
        }
    }
}

/// The predictive proposal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PredictiveProposal {
    pub replicas: Option<u32>,
    pub reason: String,
    pub acts: bool,
    /// What the forecast needs over the scale-in window, when scale-in on forecast may act now.
    pub scale_in_to: Option<u32>,
    /// The highest scheduled floor active now or within the lead, with its reason.
    pub floor: Option<(u32, String)>,
}

fn check_load(field: &str, load: f64) -> Result<()> {
    if load.is_finite() && load >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{field} must be a finite number >= 0, got {load}"
        )))
    }
}

/// Validates what [`record`] would reject, so that `decide` fails before it changes anything.
pub(crate) fn check_input(input: &DecisionInput) -> Result<()> {
    if let Some(load) = input.load {
        check_load("load", load)?;
    }
    if let Some(since) = input.load_since_ms {
        if input.load.is_none() {
            return Err(Error::invalid_input(
                "load_since_ms must come with load (the mean load since that instant)",
            ));
        }
        if since >= input.now_ms {
            return Err(Error::invalid_input(format!(
                "load_since_ms must be before now_ms ({}), got {since}",
                input.now_ms
            )));
        }
    }
    if let Some(samples) = &input.load_samples {
        if input.load.is_some() {
            return Err(Error::invalid_input(
                "load and load_samples are two forms of the same observation: give one",
            ));
        }
        if samples.step_ms <= 0 {
            return Err(Error::invalid_input(format!(
                "load_samples.step_ms must be >= 1, got {}",
                samples.step_ms
            )));
        }
        for (i, &value) in samples.values.iter().enumerate() {
            check_load(&format!("load_samples.values[{i}]"), value)?;
        }
    }
    Ok(())
}

/// Whether the input carries any load for the predictive source.
pub(crate) fn has_load(input: &DecisionInput) -> bool {
    input.load.is_some()
        || input
            .load_samples
            .as_ref()
            .is_some_and(|s| !s.values.is_empty())
}

/// Adds the load the input carries (the overload and cost it shows to the calibration, the
/// samples it completes to the history and the model), and keeps the model current.
/// `ready_replicas` serve the load now; `at_max` when the fleet cannot grow (overload then says
/// nothing about the headroom).
pub(crate) fn record(
    spec: &PredictiveSpec,
    state: &mut PredictiveState,
    input: &DecisionInput,
    ready_replicas: u32,
    at_max: bool,
) {
    let interval_ms = spec.interval_ms();
    // the headroom is calibrated on what it decided: while a forecast exists and acts
    let calibrating = spec.mode == PredictiveMode::ForecastAndScale && state.model.is_some();
    for window in samples::windows(input, interval_ms) {
        // what was seen before counts once, for the calibration and the samples alike
        let Some(unseen) = state.unseen(spec, window) else {
            continue;
        };
        if let (Some(slo), true) = (&spec.slo, calibrating) {
            let reactive = (unseen.mean / (spec.capacity_per_replica * spec.target_utilization))
                .ceil()
                .max(1.0);
            state
                .calibration
                .get_or_insert_with(|| Calibration::new(slo))
                .observe(
                    slo,
                    &slo::Observed {
                        end_ms: unseen.end_ms,
                        duration_ms: unseen.duration_ms(),
                        load: unseen.mean,
                        ready_capacity: (!at_max)
                            .then(|| f64::from(ready_replicas) * spec.capacity_per_replica),
                        provisioned: input.current_replicas,
                        reactive,
                    },
                );
        }
        state.absorb(spec, unseen);
    }
    let due = match &state.model {
        None => true,
        // on schedule, or earlier when the model's recent errors have grown, or (a model that
        // declined to forecast) once the history has doubled since: a verdict reached on the
        // warm-up's few samples would otherwise keep the source silent for a day
        Some(FittedModel::Auto(auto)) => {
            let since = state.samples_since_fit as usize;
            auto.needs_refit()
                || state.samples_since_fit >= spec.refit_every()
                || (auto.candidate().is_none() && since >= auto.n_obs().saturating_sub(since))
        }
        Some(_) => state.samples_since_fit >= spec.refit_every(),
    };
    if due && state.history.len() >= spec.warmup_samples as usize {
        let model = Auto {
            step_s: u64::from(spec.sample_interval_s),
            horizon: spec.lead_steps(spec.startup_s(state), 0),
            refit_every: spec.refit_every() as usize,
            // a smaller likelihood budget than the default: this refit runs inside a decision
            max_evals: PREDICTIVE_REFIT_EVALS,
            outlier_k: spec.outlier_k,
            ..Auto::default()
        };
        let cap = spec.capacity_samples();
        let recent = &state.history[state.history.len().saturating_sub(cap)..];
        if let Ok(fitted) = model.fit(recent) {
            state.model = Some(FittedModel::Auto(fitted));
            state.samples_since_fit = 0;
        }
    }
}

/// The proposal for the next lead: silent during warm-up (scheduled floors apply even then).
/// Without `explain` the reasons are left empty (a replay reads only the replicas).
pub(crate) fn propose(
    spec: &PredictiveSpec,
    state: &PredictiveState,
    max_replicas: u32,
    now_ms: Timestamp,
    explain: bool,
) -> PredictiveProposal {
    let acts = spec.mode == PredictiveMode::ForecastAndScale;
    // the learned start-up sorts the recent delays: once per decision
    let startup_s = spec.startup_s(state);
    let pending_ms = state
        .last_sample_ms
        .map_or(0, |start| now_ms.saturating_sub(start));
    let lead_steps = spec.lead_steps(startup_s, pending_ms);
    let lead_ms = secs_to_ms(i64::try_from(spec.lead_s(startup_s)).unwrap_or(i64::MAX));
    let floor = spec
        .floors
        .iter()
        // validated with the spec, so the clock strings parse
        .filter(|f| f.active_at(now_ms, lead_ms).unwrap_or(false))
        .max_by_key(|f| f.min_replicas)
        .map(|f| {
            let reason = if explain {
                format!(
                    "scheduled floor {} replicas {}–{} (UTC{:+}min), ready one lead ahead",
                    f.min_replicas, f.from, f.to, f.utc_offset_min
                )
            } else {
                String::new()
            };
            (f.min_replicas, reason)
        });
    let mut proposal = PredictiveProposal {
        replicas: None,
        reason: String::new(),
        acts,
        scale_in_to: None,
        floor,
    };
    let Some(model) = &state.model else {
        if !explain {
            return proposal;
        }
        proposal.reason = format!(
            "warming up: {} of {} load samples",
            state.history.len(),
            spec.warmup_samples
        );
        return proposal;
    };
    let scale_in_steps = spec.scale_in.as_ref().map_or(0, |s| {
        usize::try_from(u64::from(s.window_s).div_ceil(u64::from(spec.sample_interval_s)))
            .unwrap_or(usize::MAX)
            .max(1)
    });
    let steps = lead_steps.max(scale_in_steps);
    let mut forecast = Forecast::default();
    // the calibration so far, or the one a workload starts with (borrowed: no copy per decision)
    let fresh = spec
        .slo
        .as_ref()
        .filter(|_| state.calibration.is_none())
        .map(Calibration::new);
    let calibration = spec
        .slo
        .as_ref()
        .and(state.calibration.as_ref().or(fresh.as_ref()));
    let level = match calibration {
        Some(c) => c.level(),
        None => Some(2.0 * spec.quantile - 1.0).filter(|l| *l > 0.0),
    };
    // a model that declines to forecast (worse than repeating the last value) leaves the
    // decision to the reactive sources
    let predicted = model
        .predict_for_provisioning(steps, level, &mut forecast)
        .is_ok()
        && forecast.point.iter().all(|v| v.is_finite());
    if !predicted {
        if !explain {
            return proposal;
        }
        "no forecast: the model does worse than repeating the last value"
            .clone_into(&mut proposal.reason);
        return proposal;
    }
    // each step's headroom, shared out by the burst risk of its phase of the hour
    if let (true, Some(phase), Some(iv), Some(start)) = (
        spec.phase_of_hour,
        &state.phase_scale,
        forecast.intervals.as_mut(),
        state.last_sample_ms,
    ) {
        let mean = phase.mean();
        let interval_ms = spec.interval_ms();
        for (j, (up, p)) in iv.upper.iter_mut().zip(&forecast.point).enumerate() {
            let step_start = start.saturating_add(interval_ms.saturating_mul(j as i64));
            *up = p + (*up - p) * phase.share(step_start, mean);
        }
    }
    let upper = forecast
        .intervals
        .as_ref()
        .map_or(&forecast.point, |i| &i.upper);
    let peak = |values: &[f64], n: usize| {
        values[..n.min(values.len())]
            .iter()
            .copied()
            .fold(0.0_f64, f64::max)
    };
    let per_replica = spec.capacity_per_replica;
    let target = spec.target_utilization;
    let peak_utilization = spec.peak_utilization.unwrap_or(target);
    // replicas for the first n steps ahead
    let need = |n: usize| {
        let expected = peak(&forecast.point, n);
        let quantile = peak(upper, n).max(expected);
        if calibration.is_some() {
            // the calibrated quantile at 100 % (its cost is bounded on average, not here)
            (quantile / per_replica).ceil()
        } else {
            // the expected load at the target, its q-quantile at the peak utilization
            (expected / (per_replica * target))
                .max(quantile / (per_replica * peak_utilization))
                .ceil()
        }
    };
    let cap = max_replicas.saturating_add(spec.max_buffer_replicas);
    let bounded = |needed: f64| {
        if needed >= f64::from(cap) {
            cap
        } else {
            needed as u32
        }
    };
    let replicas = bounded(need(lead_steps));
    if let Some(scale_in) = &spec.scale_in {
        let since_up = state
            .last_scale_up_ms
            .map_or(i64::MAX, |t| now_ms.saturating_sub(t));
        if since_up >= secs_to_ms(i64::from(scale_in.after_scale_up_s)) {
            // the hysteresis of scale-in: the whole window at the quantile (without an slo, at
            // the target)
            let window_need = if calibration.is_some() {
                need(scale_in_steps)
            } else {
                (peak(upper, scale_in_steps).max(peak(&forecast.point, scale_in_steps))
                    / (per_replica * target))
                    .ceil()
            };
            proposal.scale_in_to = Some(bounded(window_need));
        }
    }
    proposal.replicas = Some(replicas);
    if !explain {
        return proposal;
    }
    let fixed = |value: f64, decimals: usize| Fixed { value, decimals };
    let horizon_s = u64::try_from(lead_steps).unwrap_or(0) * u64::from(spec.sample_interval_s);
    let expected = fixed(peak(&forecast.point, lead_steps), 3);
    let quantile_peak = fixed(
        peak(upper, lead_steps).max(peak(&forecast.point, lead_steps)),
        3,
    );
    let per_replica = Shortest(per_replica);
    // one allocation: the reason is written in place, its usual length reserved up front
    let mut reason = String::with_capacity(REASON_CAPACITY);
    // writing to a String cannot fail
    let _ = if let (Some(slo), Some(c)) = (&spec.slo, &calibration) {
        write!(
            reason,
            "load forecast over the next {horizon_s} s peaks at {expected}, +{}σ at {quantile_peak}: {replicas} replicas of {per_replica} at 100 %; overloaded {} % of {} h (budget {} %), cost {} of a reactive {} % target's (bound {})",
            fixed(c.z, 2),
            fixed(c.overloaded_pct(), 3),
            fixed(c.observed_ms as f64 / 3_600_000.0, 1),
            Shortest(slo.max_overloaded_pct),
            fixed(c.cost_ratio(), 2),
            fixed(target * 100.0, 0),
            Shortest(slo.max_cost_ratio),
        )
    } else {
        let quantile_pct = fixed(spec.quantile * 100.0, 0);
        write!(
            reason,
            "load forecast over the next {horizon_s} s peaks at {expected} (q{quantile_pct} {}): {replicas} replicas of {per_replica} at {} % (q{quantile_pct} at {} %)",
            fixed(peak(upper, lead_steps), 3),
            fixed(target * 100.0, 0),
            fixed(peak_utilization * 100.0, 0),
        )
    };
    if startup_s != spec.startup_s {
        let _ = write!(
            reason,
            " (start-up {startup_s} s, learned from {} readiness delays)",
            state.startup_delays_s.len()
        );
    }
    proposal.reason = reason;
    proposal
}
