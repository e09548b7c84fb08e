//! Headroom by the minute of the hour: bursts that recur at the same minutes.
//!
//! Many workloads burst at fixed minutes of the hour (cron jobs at :00 and :30, reports at :50,
//! a stream that jumps fivefold at :32 in one hour of four). A seasonal model of the day sees
//! the hour's mean, not these jumps, and its interval is as wide at :31 as at :32; provisioning
//! the interval's upper bound then pays the same headroom all hour and still misses the burst.
//!
//! [`PhaseScale`] learns, per phase bucket of the hour, how far the one-step interval's upper
//! bound must stretch to cover that phase's samples (group-conditional adaptive conformal
//! inference, Gibbs and Candès 2021, with the hour's phases as the groups): each sample whose
//! value exceeds `point + g_b · (upper − point)` raises `ln g_b` by `STEP × (1 − MISS_SHARE)`,
//! each covered one lowers it by `STEP × MISS_SHARE`, so every phase settles where one sample in
//! twenty of it lies above its stretched bound, whatever the errors' distribution. The source
//! then provisions each forecast step's headroom times `g_b / ḡ` (`ḡ` the mean stretch over the
//! buckets): the calibrated headroom is shared out among the phases by their own burst risk, and
//! its level stays with the overload and cost loops ([`super::slo`]). The arithmetic mean, not
//! the geometric: a decision provisions the highest step of its lead, so the noise of calm
//! phases' stretches would otherwise add headroom everywhere (leave one trace out, at a step of
//! 0.2, the median cost ratio was 1.029 against the HPA with the geometric mean, 1.023 with the
//! arithmetic).
//!
//! A workload without recurring bursts keeps `g_b` near one everywhere (the forecaster's own
//! online scale already gives one sample in twenty above the bound on average), and the
//! provisioning is unchanged. The state is one number per bucket: at most 120 (30 s buckets).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::time::Timestamp;

const HOUR_MS: i64 = 3_600_000;

/// The narrowest bucket, seconds (at most 120 per hour).
const MIN_BUCKET_S: u32 = 30;

/// The widest bucket, seconds: with fewer than four per hour the hour has no phases to tell
/// apart.
const MAX_BUCKET_S: u32 = 900;

/// What a miss multiplies a stretch by, `exp(STEP × (1 − MISS_SHARE))`, and a covered sample,
/// `exp(−STEP × MISS_SHARE)`, with the step 0.1 of `ln g_b` and the share 0.05 of misses each
/// phase settles at (the tests' `STEP` and `MISS_SHARE` say why). The stretches are kept as
/// such, not as logarithms, so that a decision's mean over the buckets is a sum, without an
/// `exp` per bucket.
const MISS_FACTOR: f64 = 1.099_658_855_126_102_8;
const COVERED_FACTOR: f64 = 0.995_012_479_192_682_3;

/// Bounds of a stretch: a phase's headroom at most 20 times, at least an eighth of the
/// hour's mean (a calm phase must keep some headroom for the burst no hour has shown yet).
const STRETCH_MIN: f64 = 0.125;
const STRETCH_MAX: f64 = 20.0;

/// Per-phase stretch of the provisioning headroom (module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PhaseScale {
    /// Width of a phase bucket, ms (divides the hour).
    bucket_ms: i64,
    /// `g_b` per bucket, from the top of the hour.
    stretch: Vec<f64>,
}

impl PhaseScale {
    /// The buckets for samples of `sample_interval_s`: the narrowest divisor of the hour at least
    /// as wide as a sample and [`MIN_BUCKET_S`]; `None` for samples wider than [`MAX_BUCKET_S`].
    pub(crate) fn for_samples(sample_interval_s: u32) -> Option<Self> {
        let bucket_s =
            (sample_interval_s.max(MIN_BUCKET_S)..=MAX_BUCKET_S).find(|b| 3600 % b == 0)?;
        Some(Self {
            bucket_ms: i64::from(bucket_s) * 1000,
            stretch: vec![1.0; (3600 / bucket_s) as usize],
        })
    }

    fn bucket(&self, start_ms: Timestamp) -> usize {
        usize::try_from(start_ms.rem_euclid(HOUR_MS) / self.bucket_ms).unwrap_or(0)
    }

    /// Notes the sample that started at `start_ms`: `value` against the one-step forecast issued
    /// for it (`point`, and the upper bound of its 90 % interval).
    pub(crate) fn record(&mut self, start_ms: Timestamp, value: f64, point: f64, upper: f64) {
        let b = self.bucket(start_ms);
        let Some(g) = self.stretch.get_mut(b) else {
            return;
        };
        let half_width = (upper - point).max(0.0);
        let missed = value > point + *g * half_width;
        let factor = if missed { MISS_FACTOR } else { COVERED_FACTOR };
        *g = (*g * factor).clamp(STRETCH_MIN, STRETCH_MAX);
    }

    /// The multiplier of the headroom for the sample that starts at `start_ms`: its phase's
    /// stretch over the mean of all phases' (`mean`, from [`Self::mean`]).
    pub(crate) fn share(&self, start_ms: Timestamp, mean: f64) -> f64 {
        self.stretch
            .get(self.bucket(start_ms))
            .map_or(1.0, |g| g / mean)
    }

    /// The mean stretch `ḡ` over the buckets (once per decision; at least [`STRETCH_MIN`]).
    pub(crate) fn mean(&self) -> f64 {
        if self.stretch.is_empty() {
            return 1.0;
        }
        self.stretch.iter().sum::<f64>() / self.stretch.len() as f64
    }

    /// Refuses a restored scale whose buckets do not tile the hour or whose stretches are out of
    /// bounds, naming the field.
    pub(crate) fn check_restored(&self) -> Result<()> {
        let width_ok = self.bucket_ms > 0
            && HOUR_MS % self.bucket_ms == 0
            && usize::try_from(HOUR_MS / self.bucket_ms).ok() == Some(self.stretch.len());
        if !width_ok {
            return Err(Error::serialization(format!(
                "predictive phase_scale: {} buckets of {} ms do not tile the hour",
                self.stretch.len(),
                self.bucket_ms
            )));
        }
        if let Some(bad) = self
            .stretch
            .iter()
            .find(|v| !(STRETCH_MIN..=STRETCH_MAX).contains(*v))
        {
            return Err(Error::serialization(format!(
                "predictive phase_scale.stretch must be in [{STRETCH_MIN}, {STRETCH_MAX}], got {bad}"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The share of a phase's samples above its stretched upper bound (the upper tail of the
    /// forecaster's 90 % interval).
    const MISS_SHARE: f64 = 0.05;

    /// Step of `ln g_b` per sample. A bucket sees one sample an hour (or a few), sixty times fewer
    /// than the forecaster's own online scale sees: a larger step than its 0.05, so that a burst
    /// that recurs one hour in four stretches its phase about 1.6-fold a day at first (each miss
    /// by a tenth). Twice this step learned faster but its noise cost more (docs/decisions.md,
    /// "Headroom by the minute of the hour").
    const STEP: f64 = 0.1;

    const MINUTE: i64 = 60_000;

    #[test]
    fn the_factors_are_the_step_s() {
        assert!((MISS_FACTOR - (STEP * (1.0 - MISS_SHARE)).exp()).abs() < 1e-15);
        assert!((COVERED_FACTOR - (-STEP * MISS_SHARE).exp()).abs() < 1e-15);
    }

    #[test]
    fn buckets_tile_the_hour_at_the_samples_resolution_or_thirty_seconds() {
        let buckets = |s: u32| PhaseScale::for_samples(s).map(|p| (p.bucket_ms, p.stretch.len()));
        assert_eq!(buckets(1), Some((30_000, 120)));
        assert_eq!(buckets(30), Some((30_000, 120)));
        assert_eq!(buckets(60), Some((60_000, 60)));
        assert_eq!(buckets(70), Some((72_000, 50)));
        assert_eq!(buckets(300), Some((300_000, 12)));
        assert_eq!(buckets(900), Some((900_000, 4)));
        assert_eq!(buckets(1800), None);
    }

    #[test]
    fn a_miss_stretches_its_phase_and_covered_samples_shrink_it_at_the_miss_share_s_rate() {
        let mut p = PhaseScale::for_samples(60).unwrap();
        // minute 32 of an hour: above point + half-width, a miss
        p.record(5 * 3_600_000 + 32 * MINUTE, 150.0, 100.0, 120.0);
        assert!((p.stretch[32].ln() - STEP * 0.95).abs() < 1e-12);
        // nineteen covered samples there take it back
        for hour in 6..25 {
            p.record(hour * 3_600_000 + 32 * MINUTE, 110.0, 100.0, 120.0);
        }
        assert!((p.stretch[32] - 1.0).abs() < 1e-12, "{}", p.stretch[32]);
        // the other phases never moved
        assert!(
            p.stretch
                .iter()
                .enumerate()
                .all(|(b, v)| b == 32 || *v == 1.0)
        );
    }

    #[test]
    fn the_stretched_bound_decides_what_a_miss_is() {
        let mut p = PhaseScale::for_samples(60).unwrap();
        p.stretch[10] = 2.0;
        // 135 is above the bound 120 but within the stretched one, 100 + 2 × 20: covered
        p.record(10 * MINUTE, 135.0, 100.0, 120.0);
        assert!(p.stretch[10] < 2.0);
    }

    #[test]
    fn the_headroom_is_shared_out_relative_to_the_phases_mean() {
        let mut p = PhaseScale::for_samples(900).unwrap();
        p.stretch = vec![3.0, 1.0, 1.0, 1.0];
        let mean = p.mean();
        assert!((mean - 1.5).abs() < 1e-12);
        assert!((p.share(0, mean) - 2.0).abs() < 1e-12);
        assert!((p.share(20 * MINUTE, mean) - 2.0 / 3.0).abs() < 1e-12);
        // the phase of a time before the epoch too
        assert!((p.share(-40 * MINUTE, mean) - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn stretches_stay_within_bounds_under_runs_of_misses() {
        let mut p = PhaseScale::for_samples(60).unwrap();
        for hour in 0..1000 {
            p.record(hour * 3_600_000, 1e9, 1.0, 2.0);
            p.record(hour * 3_600_000 + MINUTE, 0.0, 1.0, 2.0);
        }
        assert_eq!(p.stretch[0], STRETCH_MAX);
        assert_eq!(p.stretch[1], STRETCH_MIN);
        assert!(p.check_restored().is_ok());
    }

    #[test]
    fn a_restored_scale_that_does_not_tile_the_hour_or_is_out_of_bounds_is_refused() {
        let mut p = PhaseScale::for_samples(60).unwrap();
        p.stretch.pop();
        assert!(
            p.check_restored()
                .unwrap_err()
                .message()
                .contains("do not tile the hour")
        );
        for bad in [f64::NAN, 0.0, 21.0] {
            let mut q = PhaseScale::for_samples(60).unwrap();
            q.stretch[3] = bad;
            assert!(
                q.check_restored()
                    .unwrap_err()
                    .message()
                    .contains("stretch")
            );
        }
        let mut r = PhaseScale::for_samples(60).unwrap();
        r.bucket_ms = 0;
        assert!(r.check_restored().is_err());
    }
}
