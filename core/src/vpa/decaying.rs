//! Exponentially decaying histograms (spec §5): newer samples weigh more, a sample one
//! half-life older weighs half as much.

use serde::{Deserialize, Serialize};

use super::gomath;
use super::gotime;
use super::histogram::{Histogram, HistogramOptions};
use crate::error::{Error, Result};
use crate::time::GO_ZERO_TIME_MS;

/// Renormalise when a sample's decay factor would exceed 2^100.
const MAX_DECAY_EXPONENT: i64 = 100;

/// A [`Histogram`] whose sample weights are multiplied by `2^((t − reference)/half_life)`.
///
/// The reference time starts at Go's zero time (year 1) and moves, rounded to a multiple of the
/// half-life counted from year 1 (UTC midnight for 24 h), whenever a sample is more than 100
/// half-lives past it; existing weights are then scaled down by the matching power of two.
///
/// ```
/// use replicast::vpa::decaying::DecayingHistogram;
/// use replicast::vpa::histogram::{HistogramOptions, HistogramSpec};
/// let options = HistogramOptions::new(HistogramSpec::Linear {
///     max_value: 10.0, bucket_size: 1.0, epsilon: 1e-15,
/// }).unwrap();
/// let hour = 3_600_000;
/// let mut h = DecayingHistogram::new(options, hour).unwrap();
/// h.add(2.0, 1000.0, 0);
/// h.add(1.0, 1.0, 20 * hour); // 20 half-lives later: outweighs the old sample
/// assert_eq!(h.percentile(0.999), 2.0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecayingHistogram {
    histogram: Histogram,
    half_life_ms: i64,
    reference_ms: i64,
}

/// The longest half-life accepted: 365 days (Go's `Duration` holds 100 of them).
pub const MAX_HALF_LIFE_MS: i64 = 365 * 86_400_000;

impl DecayingHistogram {
    /// An empty decaying histogram with its reference at Go's zero time.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] when `half_life_ms` is not in [1, 365 days].
    pub fn new(options: HistogramOptions, half_life_ms: i64) -> Result<Self> {
        if !(1..=MAX_HALF_LIFE_MS).contains(&half_life_ms) {
            return Err(Error::invalid_config(format!(
                "half-life must be in [1, {MAX_HALF_LIFE_MS}] ms, got {half_life_ms}"
            )));
        }
        Ok(Self {
            histogram: Histogram::new(options),
            half_life_ms,
            reference_ms: GO_ZERO_TIME_MS,
        })
    }

    /// As [`DecayingHistogram::new`] with the half-life clamped into its valid range (for
    /// half-lives a validated spec already checked).
    pub(crate) fn new_clamped(options: HistogramOptions, half_life_ms: i64) -> Self {
        Self {
            histogram: Histogram::new(options),
            half_life_ms: half_life_ms.clamp(1, MAX_HALF_LIFE_MS),
            reference_ms: GO_ZERO_TIME_MS,
        }
    }

    /// The underlying (scaled) histogram.
    #[must_use]
    pub fn histogram(&self) -> &Histogram {
        &self.histogram
    }

    /// The half-life in milliseconds.
    #[must_use]
    pub fn half_life_ms(&self) -> i64 {
        self.half_life_ms
    }

    /// The current reference time (ms; Go's zero time until the first sample).
    #[must_use]
    pub fn reference_ms(&self) -> i64 {
        self.reference_ms
    }

    /// Adds `weight` at `value`, decayed for time `t_ms`.
    pub fn add(&mut self, value: f64, weight: f64, t_ms: i64) {
        let factor = self.decay_factor(t_ms);
        self.histogram.add(value, weight * factor);
    }

    /// Subtracts `weight` at `value`, decayed for time `t_ms` (cancels an `add` with the same
    /// arguments exactly while the reference has not moved).
    pub fn subtract(&mut self, value: f64, weight: f64, t_ms: i64) {
        let factor = self.decay_factor(t_ms);
        self.histogram.subtract(value, weight * factor);
    }

    /// The `p`-th percentile (see [`Histogram::percentile`]).
    #[must_use]
    pub fn percentile(&self, p: f64) -> f64 {
        self.histogram.percentile(p)
    }

    /// Whether no bucket holds `epsilon` weight.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.histogram.is_empty()
    }

    /// Merges `other` into this histogram, first moving the older reference to the younger.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] when the half-lives or bucket options differ.
    pub fn merge(&mut self, other: &DecayingHistogram) -> Result<()> {
        if self.half_life_ms != other.half_life_ms {
            return Err(Error::invalid_input(
                "cannot merge decaying histograms with different half-lives",
            ));
        }
        if self.histogram.options() != other.histogram.options() {
            return Err(Error::invalid_input(
                "cannot merge histograms with different options",
            ));
        }
        match self.reference_ms.cmp(&other.reference_ms) {
            std::cmp::Ordering::Less => {
                self.shift_reference(other.reference_ms);
                self.histogram.merge(&other.histogram)
            }
            std::cmp::Ordering::Greater => {
                let mut shifted = other.clone();
                shifted.shift_reference(self.reference_ms);
                self.histogram.merge(&shifted.histogram)
            }
            std::cmp::Ordering::Equal => self.histogram.merge(&other.histogram),
        }
    }

    /// Upstream's `Equals`: same half-life and reference, weights within 1e-15.
    #[must_use]
    pub fn approx_eq(&self, other: &DecayingHistogram) -> bool {
        self.half_life_ms == other.half_life_ms
            && self.reference_ms == other.reference_ms
            && self.histogram.approx_eq(&other.histogram)
    }

    /// The checkpoint form: `(bucket weights, total weight, reference time)`.
    #[must_use]
    pub fn save(&self) -> (std::collections::BTreeMap<i64, i64>, f64, i64) {
        let (weights, total) = self.histogram.save();
        (weights, total, self.reference_ms)
    }

    /// Loads a checkpoint (appending its weights) and takes its reference time.
    ///
    /// # Errors
    /// As [`Histogram::load`]; the histogram is unchanged on error.
    pub fn load(
        &mut self,
        weights: &std::collections::BTreeMap<i64, i64>,
        total_weight: f64,
        reference_ms: i64,
        what: &str,
    ) -> Result<()> {
        self.histogram.load(weights, total_weight, what)?;
        self.reference_ms = reference_ms;
        Ok(())
    }

    fn shift_reference(&mut self, new_reference_ms: i64) {
        let new_reference_ms = gotime::round(new_reference_ms, self.half_life_ms);
        let half_life_ns = self.half_life_ms as f64 * 1e6;
        let exponent = gomath::round_half_up(
            gotime::sub_ns(self.reference_ms, new_reference_ms) as f64 / half_life_ns,
        );
        self.histogram.scale(gomath::ldexp(1.0, exponent));
        self.reference_ms = new_reference_ms;
    }

    fn decay_factor(&mut self, t_ms: i64) -> f64 {
        // Go: referenceTimestamp.Add(halfLife × 100); Time.Add does not saturate, but the sum
        // stays far inside i64 milliseconds for any accepted time.
        let max_allowed = self
            .reference_ms
            .saturating_add(self.half_life_ms.saturating_mul(MAX_DECAY_EXPONENT));
        if t_ms > max_allowed {
            self.shift_reference(t_ms);
        }
        let half_life_ns = self.half_life_ms as f64 * 1e6;
        gomath::exp2(gotime::sub_ns(t_ms, self.reference_ms) as f64 / half_life_ns)
    }
}
