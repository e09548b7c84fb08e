//! Calibrating the provisioning headroom to an overload budget (`predictive.slo`).
//!
//! A quantile and a peak utilization picked by hand hold on the workloads they were picked on.
//! With an `slo`, the user states what they know instead, how much of the time the load may
//! exceed the ready capacity (`max_overloaded_pct`), and the source calibrates its headroom per
//! workload, online, from what it sees:
//!
//! - **Headroom in the forecast's own units.** The forecast's upper quantile is `point + z·σ`,
//!   with `σ` per step ahead from the model's own errors (its prediction interval). The source
//!   provisions it at 100 % of ready capacity, and never less than the point forecast.
//! - **`z` follows the overload seen** (adaptive conformal inference, Gibbs & Candès 2021, on the
//!   headroom instead of the miss rate): every minute of observed load above the ready capacity
//!   raises `z` by `OVERLOAD_GAIN × (1 − α)`, every minute within it lowers `z` by
//!   `OVERLOAD_GAIN × α`, with `α` the budget. The two balance exactly when the overloaded share
//!   of time is `α`, whatever the errors' distribution (heavy tails, a biased model, a reactive
//!   backstop that covers part of the risk, rounding to whole replicas). `z` starts at the normal
//!   quantile of the budget and stays in `[0, Z_MAX]`.
//! - **Bounded cost.** A second loop bounds `z` so that, on average, the replicas paid for stay
//!   within `max_cost_ratio` of what a reactive autoscaler at `target_utilization` would run for
//!   the same load: `max(1, ceil(load / (capacity × target)))`, held for the Kubernetes default
//!   downscale stabilization (the highest of the last `REFERENCE_WINDOW_MS`). Each minute the
//!   bound moves by `COST_GAIN` times the excess of the replicas paid over that budget, relative
//!   to the reference's mean over about a day (over what was seen, in the first day). The bound
//!   starts where `z` starts, so the headroom grows past its start only as the cost allows it.
//!   A workload whose forecasts are poor (wide
//!   intervals that buy little) thus falls back to its reactive cost instead of buying headroom
//!   blindly, and may miss its overload budget; the decision's reason shows both figures.
//! - **What counts.** The load windows the caller passes (`load`, `load_samples`) against the
//!   ready replicas of that decision (`ready_replicas`, the ready `pods`, or else
//!   `current_replicas`) times `capacity_per_replica`, and the replicas paid for
//!   (`current_replicas`); only while a forecast exists and acts (`forecast_and_scale`), and
//!   overload not while the fleet runs at `max_replicas` (more headroom could not have helped).
//!
//! The gains were set from the loop's arithmetic, not fitted to traces (one overloaded minute is
//! worth a quarter of a standard deviation; a 100 % cost excess sustained for an hour moves the
//! bound by 0.6 σ), and the backtest's leave-one-trace-out sweep shows the outcome changing little
//! over a threefold range of either (docs/decisions.md, "Self-calibrating headroom").

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::forecast::{normal_cdf, normal_quantile};
use crate::time::Timestamp;

/// An overload budget for the predictive source: the share of time the load may exceed the ready
/// capacity, and how much the headroom may cost. The source then calibrates its own headroom
/// ([`PredictiveSpec`]'s `quantile` and `peak_utilization` do not apply); see
/// `docs/decisions.md`, "Self-calibrating headroom".
///
/// | field | default | unit / range | meaning |
/// | --- | --- | --- | --- |
/// | `max_overloaded_pct` | required | percent of time, (0, 50] | how long the load may exceed the ready capacity |
/// | `max_cost_ratio` | 1.0 | [0.5, 10] | replicas paid for, on average, at most this multiple of what a reactive autoscaler at `target_utilization` would run |
///
/// ```
/// let slo: replicast::spec::Slo = serde_json::from_str(r#"{"max_overloaded_pct": 0.1}"#).unwrap();
/// assert_eq!((slo.max_overloaded_pct, slo.max_cost_ratio), (0.1, 1.0));
/// ```
///
/// [`PredictiveSpec`]: crate::spec::PredictiveSpec
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    /// Percent of time the load may exceed the ready capacity, in (0, 50].
    pub max_overloaded_pct: f64,
    /// Replicas paid for, on average, at most this multiple of what a reactive autoscaler at
    /// `target_utilization` would run for the same load, in [0.5, 10].
    #[serde(default = "default_cost_ratio")]
    pub max_cost_ratio: f64,
}

fn default_cost_ratio() -> f64 {
    1.0
}

/// The largest headroom, in standard deviations (the normal 0.99997 quantile).
pub(crate) const Z_MAX: f64 = 4.0;

/// How far one minute of overload raises the headroom, in standard deviations.
const OVERLOAD_GAIN: f64 = 0.25;

/// How far one minute of cost excess (one reference mean over the budget) lowers the bound on
/// the headroom, in standard deviations.
const COST_GAIN: f64 = 0.01;

/// The reactive reference holds its highest need this long (the Kubernetes default downscale
/// stabilization window; inclusive of a decision exactly that long ago).
const REFERENCE_WINDOW_MS: i64 = 300_000;

/// The reference's need is kept in buckets this long (so its window is at most 21 entries).
const REFERENCE_BUCKET_MS: i64 = 15_000;

/// The time constant of the reference's mean, minutes (about a day).
const REFERENCE_MEAN_MINUTES: f64 = 1440.0;

impl Slo {
    /// Checks every value.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] naming the field, the value and the valid range.
    pub(crate) fn validate(&self) -> Result<()> {
        if !(self.max_overloaded_pct > 0.0 && self.max_overloaded_pct <= 50.0) {
            return Err(Error::invalid_config(format!(
                "predictive.slo.max_overloaded_pct must be in (0, 50], got {}",
                self.max_overloaded_pct
            )));
        }
        if !(self.max_cost_ratio >= 0.5 && self.max_cost_ratio <= 10.0) {
            return Err(Error::invalid_config(format!(
                "predictive.slo.max_cost_ratio must be in [0.5, 10], got {}",
                self.max_cost_ratio
            )));
        }
        Ok(())
    }

    /// The budget as a share of time.
    fn alpha(&self) -> f64 {
        self.max_overloaded_pct / 100.0
    }

    /// The headroom a workload starts with: the normal quantile of the budget.
    fn initial_z(&self) -> f64 {
        normal_quantile(1.0 - self.alpha()).clamp(0.0, Z_MAX)
    }
}

/// One stretch of observed load and the fleet that served it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Observed {
    /// Where the stretch ends.
    pub end_ms: Timestamp,
    pub duration_ms: i64,
    pub load: f64,
    /// What the ready replicas serve at 100 %; `None` at the fleet's maximum.
    pub ready_capacity: Option<f64>,
    /// Replicas paid for.
    pub provisioned: u32,
    /// Replicas a reactive autoscaler at the target would run for this load (≥ 1).
    pub reactive: f64,
}

/// What the calibration remembers: a few numbers and at most 21 reference buckets, so the state
/// stays small.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Calibration {
    /// Headroom above the point forecast, in forecast standard deviations.
    pub z: f64,
    /// The bound the cost keeps on `z` (it starts at the budget's normal quantile, as `z` does).
    pub z_cost: f64,
    /// Time observed, ms.
    pub observed_ms: i64,
    /// Of that, time the load exceeded the ready capacity, ms.
    pub overloaded_ms: i64,
    /// Replica-milliseconds paid for, and the reactive reference's, over the observed time.
    pub paid_replica_ms: f64,
    pub reference_replica_ms: f64,
    /// The reference's mean (the plain mean over the first day, then exponentially weighted
    /// over about a day), replicas.
    pub reference_mean: f64,
    /// The reactive need's highest value per bucket over the reference window, oldest first:
    /// (bucket number, replicas).
    pub recent_needs: Vec<(i64, f64)>,
}

impl Calibration {
    pub(crate) fn new(slo: &Slo) -> Self {
        Self {
            z: slo.initial_z(),
            // the bound starts where the headroom does: the overload loop may raise the headroom
            // above its start only as far as the cost has shown room for (from `Z_MAX`, a
            // workload paid for an unbounded headroom until its cost loop had come down, most of
            // a day: docs/decisions.md, "Self-calibrating headroom")
            z_cost: slo.initial_z(),
            observed_ms: 0,
            overloaded_ms: 0,
            paid_replica_ms: 0.0,
            reference_replica_ms: 0.0,
            reference_mean: 0.0,
            recent_needs: Vec::new(),
        }
    }

    /// Notes one stretch of observed load.
    pub(crate) fn observe(&mut self, slo: &Slo, seen: &Observed) {
        let minutes = seen.duration_ms as f64 / 60_000.0;
        let reference = self.reference(seen.end_ms, seen.reactive);
        self.observed_ms = self.observed_ms.saturating_add(seen.duration_ms);
        self.paid_replica_ms += f64::from(seen.provisioned) * seen.duration_ms as f64;
        self.reference_replica_ms += reference * seen.duration_ms as f64;
        // the plain mean of what was seen until a day has been, then exponentially weighted:
        // started at the first reference alone, the mean kept a busy first minute for a day
        let observed_minutes = self.observed_ms as f64 / 60_000.0;
        let weight = (minutes / observed_minutes.min(REFERENCE_MEAN_MINUTES)).min(1.0);
        self.reference_mean = if self.reference_mean > 0.0 {
            self.reference_mean + weight * (reference - self.reference_mean)
        } else {
            reference
        };
        let excess = (f64::from(seen.provisioned) - slo.max_cost_ratio * reference)
            / self.reference_mean.max(1.0);
        self.z_cost =
            (self.z_cost - COST_GAIN * minutes * excess.clamp(-2.0, 2.0)).clamp(0.0, Z_MAX);
        if let Some(capacity) = seen.ready_capacity {
            let overloaded = seen.load > capacity;
            let miss = if overloaded { 1.0 } else { 0.0 };
            self.z += OVERLOAD_GAIN * minutes * (miss - slo.alpha());
            if overloaded {
                self.overloaded_ms = self.overloaded_ms.saturating_add(seen.duration_ms);
            }
        }
        // the cost's bound also stops the overload loop from winding up beyond it
        self.z = self.z.clamp(0.0, self.z_cost);
    }

    /// The reactive reference at `end_ms`: the highest need over the window, this one included.
    fn reference(&mut self, end_ms: Timestamp, need: f64) -> f64 {
        let bucket = end_ms.div_euclid(REFERENCE_BUCKET_MS);
        match self.recent_needs.last_mut() {
            Some((last, value)) if *last == bucket => *value = value.max(need),
            _ => self.recent_needs.push((bucket, need)),
        }
        let oldest = (end_ms - REFERENCE_WINDOW_MS).div_euclid(REFERENCE_BUCKET_MS);
        self.recent_needs
            .retain(|(b, _)| *b >= oldest && *b <= bucket);
        self.recent_needs
            .iter()
            .map(|(_, v)| *v)
            .fold(need, f64::max)
    }

    /// The overloaded share of the observed time, percent.
    pub(crate) fn overloaded_pct(&self) -> f64 {
        if self.observed_ms > 0 {
            100.0 * self.overloaded_ms as f64 / self.observed_ms as f64
        } else {
            0.0
        }
    }

    /// The replicas paid for over the reactive reference's, so far (1 before any observation).
    pub(crate) fn cost_ratio(&self) -> f64 {
        if self.reference_replica_ms > 0.0 {
            self.paid_replica_ms / self.reference_replica_ms
        } else {
            1.0
        }
    }

    /// The central interval level whose upper bound is `point + z·σ`; `None` at `z = 0`.
    pub(crate) fn level(&self) -> Option<f64> {
        let level = 2.0 * normal_cdf(self.z) - 1.0;
        (level > 1e-9 && level < 1.0).then_some(level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLO: Slo = Slo {
        max_overloaded_pct: 1.0,
        max_cost_ratio: 1.0,
    };

    fn minute(end_min: i64, load: f64, ready_capacity: f64, provisioned: u32) -> Observed {
        Observed {
            end_ms: end_min * 60_000,
            duration_ms: 60_000,
            load,
            ready_capacity: Some(ready_capacity),
            provisioned,
            reactive: 10.0,
        }
    }

    #[test]
    fn starts_at_the_normal_quantile_of_the_budget() {
        // scipy.stats.norm.ppf(0.99) = 2.3263478740408408
        assert!((Calibration::new(&SLO).z - 2.326_347_874_040_841).abs() < 1e-9);
    }

    #[test]
    fn overload_raises_the_headroom_and_quiet_time_lowers_it_at_the_budget_s_rate() {
        let mut c = Calibration::new(&SLO);
        // room above the start (what a cost below its budget gives: tested below)
        c.z_cost = Z_MAX;
        let z0 = c.z;
        c.observe(&SLO, &minute(1, 120.0, 100.0, 10));
        // one overloaded minute: + 0.25 × (1 − 0.01)
        assert!((c.z - (z0 + 0.25 * 0.99)).abs() < 1e-12, "{}", c.z);
        for m in 2..=100 {
            c.observe(&SLO, &minute(m, 50.0, 100.0, 10));
        }
        // 99 quiet minutes: − 99 × 0.25 × 0.01, back where it started: overloaded exactly the
        // budget's 1 % of the time
        assert!((c.z - z0).abs() < 1e-9, "{}", c.z);
        assert!((c.overloaded_pct() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn paying_more_than_the_reactive_reference_lowers_the_bound() {
        let mut c = Calibration::new(&SLO);
        // 20 replicas paid where the reactive reference runs 10: one reference mean over, per minute
        for m in 1..=60 {
            c.observe(&SLO, &minute(m, 50.0, 100.0, 20));
        }
        assert!(
            (c.z_cost - (SLO.initial_z() - 60.0 * COST_GAIN)).abs() < 1e-9,
            "{}",
            c.z_cost
        );
        assert!(c.z <= c.z_cost);
        assert!((c.cost_ratio() - 2.0).abs() < 1e-12);
        // within budget, it rises back
        let low = c.z_cost;
        for m in 61..=70 {
            c.observe(&SLO, &minute(m, 50.0, 100.0, 5));
        }
        assert!(c.z_cost > low);
    }

    #[test]
    fn the_headroom_grows_past_its_start_only_as_far_as_the_cost_allows() {
        let mut c = Calibration::new(&SLO);
        let z0 = c.z;
        assert_eq!(c.z_cost, z0);
        // overloaded at the reactive cost: no room to grow
        c.observe(&SLO, &minute(1, 120.0, 100.0, 10));
        assert_eq!(c.z, z0);
        // an hour at half the reactive cost: the bound rises by 60 × 0.01 × 0.5
        for m in 2..=61 {
            c.observe(&SLO, &minute(m, 50.0, 100.0, 5));
        }
        assert!((c.z_cost - (z0 + 0.3)).abs() < 1e-9, "{}", c.z_cost);
        let quiet = c.z;
        c.observe(&SLO, &minute(62, 120.0, 100.0, 5));
        assert!(c.z > quiet && c.z <= c.z_cost, "{} {}", c.z, c.z_cost);
    }

    #[test]
    fn the_reference_mean_is_the_plain_mean_over_the_first_day() {
        let mut c = Calibration::new(&SLO);
        // ten minutes apart, so that no need is held into the next
        for (i, reactive) in [10.0, 2.0, 2.0, 2.0].into_iter().enumerate() {
            let at = 10 * (i as i64 + 1);
            c.observe(
                &SLO,
                &Observed {
                    reactive,
                    ..minute(at, 50.0, 100.0, 5)
                },
            );
        }
        assert!(
            (c.reference_mean - 4.0).abs() < 1e-12,
            "{}",
            c.reference_mean
        );
        // after a day of needs of 2, the exponential weighting of about a day carries on from there
        let mut day = c.clone();
        for m in 0..1440 {
            day.observe(
                &SLO,
                &Observed {
                    reactive: 2.0,
                    ..minute(100 + m, 50.0, 100.0, 5)
                },
            );
        }
        assert!(
            (day.reference_mean - 2.0).abs() < 0.01,
            "{}",
            day.reference_mean
        );
        let before = day.reference_mean;
        day.observe(
            &SLO,
            &Observed {
                reactive: 1442.0,
                ..minute(1600, 50.0, 100.0, 5)
            },
        );
        // one minute in a day's worth: a 1440th of the step
        assert!(
            (day.reference_mean - (before + (1442.0 - before) / 1440.0)).abs() < 1e-9,
            "{}",
            day.reference_mean
        );
    }

    #[test]
    fn the_reference_holds_its_highest_need_for_five_minutes() {
        let mut c = Calibration::new(&SLO);
        assert_eq!(c.reference(60_000, 30.0), 30.0);
        assert_eq!(c.reference(120_000, 10.0), 30.0);
        // exactly five minutes after the 30: still held
        assert_eq!(c.reference(360_000, 10.0), 30.0);
        assert_eq!(c.reference(375_000, 10.0), 10.0);
        assert!(c.recent_needs.len() <= 21);
    }

    #[test]
    fn at_the_maximum_overload_does_not_move_the_headroom() {
        let mut c = Calibration::new(&SLO);
        let z0 = c.z;
        c.observe(
            &SLO,
            &Observed {
                ready_capacity: None,
                ..minute(1, 500.0, 100.0, 10)
            },
        );
        assert_eq!(c.z, z0);
        assert_eq!(c.overloaded_ms, 0);
    }

    #[test]
    fn bad_budgets_are_refused_naming_the_field() {
        for (pct, ratio, field) in [
            (0.0, 1.0, "max_overloaded_pct"),
            (51.0, 1.0, "max_overloaded_pct"),
            (f64::NAN, 1.0, "max_overloaded_pct"),
            (1.0, 0.4, "max_cost_ratio"),
            (1.0, f64::INFINITY, "max_cost_ratio"),
        ] {
            let e = Slo {
                max_overloaded_pct: pct,
                max_cost_ratio: ratio,
            }
            .validate()
            .unwrap_err();
            assert!(e.message().contains(field), "{e}");
        }
    }
}
