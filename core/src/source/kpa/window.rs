//! The two time windows of the KPA: the averaging window of 1 s buckets behind the stable and
//! panic observations, and the sliding-maximum window behind the scale-down delay.
//!
//! Both follow Knative's `aggregation` package operation for operation, so that their floating
//! point results are the same bits: the averaging window keeps a running total that records add
//! to and clean-ups subtract from, in the same order; the weighted average multiplies its weight
//! down bucket by bucket; powers are computed the way Go's `math.Pow` computes them.
//!
//! Times are caller milliseconds. Bucket indexes are floor-divided seconds, so negative times
//! (before 1970, e.g. Go's zero time) index correctly.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::spec::Aggregation;
use crate::error::{Error, Result};
use crate::time::Timestamp;

/// The longest window a KPA keeps, in 1 s buckets (Knative's `WindowMax`, one hour).
pub const MAX_WINDOW_S: u32 = 3600;

/// `time_ms` as whole seconds, rounded towards minus infinity (Go's `Truncate(time.Second)` then
/// `Unix()`).
pub(crate) fn floor_seconds(time_ms: Timestamp) -> i64 {
    time_ms.div_euclid(1000)
}

/// `x^y` as Go's `math.Pow` computes it: the special cases, `exp(yf·ln x)` for the fractional
/// part of `y` and repeated squaring for its integer part. Agrees with Go bit for bit wherever
/// Go's `Exp`/`Log` and the platform's agree (they are all faithfully rounded) and outside the
/// subnormal range.
pub(crate) fn go_pow(x: f64, y: f64) -> f64 {
    if y == 0.0 || x == 1.0 {
        return 1.0;
    }
    if y == 1.0 {
        return x;
    }
    if x.is_nan() || y.is_nan() || x == 0.0 || x.is_infinite() || y.is_infinite() {
        return x.powf(y);
    }
    if y == 0.5 {
        return x.sqrt();
    }
    if y == -0.5 {
        return 1.0 / x.sqrt();
    }
    let abs_y = y.abs();
    let mut yi = abs_y.trunc();
    let mut yf = abs_y - yi;
    if yf != 0.0 && x < 0.0 {
        return f64::NAN;
    }
    if yi >= 9.223_372_036_854_776e18 {
        return x.powf(y);
    }
    let mut a1 = 1.0;
    if yf != 0.0 {
        if yf > 0.5 {
            yf -= 1.0;
            yi += 1.0;
        }
        a1 = (yf * x.ln()).exp();
    }
    // x^yi by repeated squaring; the mantissa/exponent split of Go only matters near overflow
    // and underflow
    let mut base = x;
    let mut i = yi as u64;
    while i != 0 {
        if i & 1 == 1 {
            a1 *= base;
        }
        base *= base;
        i >>= 1;
    }
    if y < 0.0 { 1.0 / a1 } else { a1 }
}

/// The weight of the newest bucket in a weighted-exponential average over `n_buckets`:
/// `max(1 − (1 − 0.9999)^(1/n), 0.2)` (60 buckets → 0.2, 6 → 0.78456, 5 → 0.84151).
///
/// ```
/// use replicast::kpa::window::smoothing_coefficient;
/// assert_eq!(smoothing_coefficient(60), 0.2);
/// assert!((smoothing_coefficient(6) - 0.78456).abs() < 1e-5);
/// ```
#[must_use]
pub fn smoothing_coefficient(n_buckets: u32) -> f64 {
    const WEIGHT_PRECISION: f64 = 0.9999;
    const MIN_EXPONENT: f64 = 0.2;
    let nb = f64::from(n_buckets.max(1));
    (1.0 - go_pow(1.0 - WEIGHT_PRECISION, 1.0 / nb)).max(MIN_EXPONENT)
}

fn round_6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// What [`WindowAverager::record`] did with a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordOutcome {
    /// Added to its bucket.
    Recorded,
    /// Ignored: older than the newest write minus the window.
    TooOld,
}

/// A window average over 1 s buckets (Knative's `TimedFloat64Buckets`): a ring buffer of
/// `window_s` buckets, samples in one second summed into one bucket.
///
/// * A sample more than a window older than the newest write is ignored.
/// * A sample after at least one window of silence clears every bucket and restarts the series.
/// * The linear average divides by the series' actual length (a young series is not diluted by
///   the empty part of the window), drops the buckets after the last write when data stopped,
///   counts gaps inside the series as zeros, is 0 after a window of silence, and is rounded to
///   6 decimals.
/// * The weighted-exponential average weights the bucket `i` seconds before `now` by
///   `α(1 − α)^i` ([`smoothing_coefficient`]), and is not rounded.
///
/// ```
/// use replicast::kpa::window::WindowAverager;
/// use replicast::kpa::Aggregation;
/// let mut w = WindowAverager::new(5).unwrap();
/// for (t, v) in [(0, 1.0), (1, 2.0), (2, 3.0)] {
///     w.record(t * 1000, v).unwrap();
/// }
/// assert_eq!(w.average(2_000, Aggregation::Linear), 2.0); // over the 3 s seen, not 5
/// assert_eq!(w.average(9_000, Aggregation::Linear), 0.0); // a whole window of silence
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowAverager {
    /// The ring buffer, indexed by `second mod len`.
    buckets: Vec<f64>,
    /// The second of the first write of the current series (`None`: Go's zero time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_write_s: Option<i64>,
    /// The second of the newest write (`None`: never written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_write_s: Option<i64>,
    /// The running sum of every bucket, updated exactly as upstream updates it.
    total: f64,
}

impl WindowAverager {
    /// An empty window of `window_s` one-second buckets.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] unless `window_s` is in `[1, 3600]`.
    pub fn new(window_s: u32) -> Result<Self> {
        if !(1..=MAX_WINDOW_S).contains(&window_s) {
            return Err(Error::invalid_config(format!(
                "window_s must be in [1, {MAX_WINDOW_S}], got {window_s}"
            )));
        }
        Ok(Self::with_len(window_s))
    }

    pub(crate) fn with_len(window_s: u32) -> Self {
        Self {
            buckets: vec![0.0; window_s as usize],
            first_write_s: None,
            last_write_s: None,
            total: 0.0,
        }
    }

    /// The window length in seconds (= buckets).
    #[must_use]
    pub fn window_s(&self) -> u32 {
        self.buckets.len() as u32
    }

    fn n(&self) -> i64 {
        self.buckets.len() as i64
    }

    fn slot(&self, second: i64) -> usize {
        second.rem_euclid(self.n()) as usize
    }

    /// Adds `value` to the bucket of `time_ms`.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] when `value` is outside `[0, 1e15]` (NaN, infinite,
    /// negative); the window is then unchanged.
    pub fn record(&mut self, time_ms: Timestamp, value: f64) -> Result<RecordOutcome> {
        super::check_sample_value(value)?;
        Ok(self.record_unchecked(time_ms, value))
    }

    pub(crate) fn record_unchecked(&mut self, time_ms: Timestamp, value: f64) -> RecordOutcome {
        let t = floor_seconds(time_ms);
        let n = self.n();
        if self.last_write_s != Some(t) {
            let within = self.last_write_s.is_none_or(|lw| t.saturating_add(n) > lw);
            if !within {
                return RecordOutcome::TooOld;
            }
            if self.first_write_s.is_none_or(|fw| fw > t) {
                self.first_write_s = Some(t);
            }
            if self.last_write_s.is_none_or(|lw| t > lw) {
                match self.last_write_s {
                    Some(lw) if t - lw < n => {
                        for i in lw + 1..=t {
                            let slot = self.slot(i);
                            self.total -= self.buckets[slot];
                            self.buckets[slot] = 0.0;
                        }
                    }
                    _ => {
                        // a whole window without writes: restart the series
                        self.first_write_s = Some(t);
                        self.buckets.iter_mut().for_each(|b| *b = 0.0);
                        self.total = 0.0;
                    }
                }
                self.last_write_s = Some(t);
            }
        }
        let slot = self.slot(t);
        self.buckets[slot] += value;
        self.total += value;
        RecordOutcome::Recorded
    }

    /// Whether nothing was written during the window that ends at `now_ms`.
    #[must_use]
    pub fn is_empty(&self, now_ms: Timestamp) -> bool {
        let now = floor_seconds(now_ms);
        self.last_write_s
            .is_none_or(|lw| now.saturating_sub(lw) > self.n())
    }

    /// The window average at `now_ms` by `aggregation`.
    #[must_use]
    pub fn average(&self, now_ms: Timestamp, aggregation: Aggregation) -> f64 {
        match aggregation {
            Aggregation::Linear => self.linear_average(now_ms),
            Aggregation::WeightedExponential => {
                self.weighted_average(now_ms, smoothing_coefficient(self.window_s()))
            }
        }
    }

    /// The number of buckets the series spans (`lastWrite − firstWrite + 1`), capped at `cap`.
    fn series_len(&self, last: i64, cap: i64) -> f64 {
        let len = self
            .first_write_s
            .map_or(i64::MAX, |fw| last.saturating_sub(fw).saturating_add(1));
        len.min(cap) as f64
    }

    fn linear_average(&self, now_ms: Timestamp) -> f64 {
        let now = floor_seconds(now_ms);
        let Some(lw) = self.last_write_s else {
            return 0.0;
        };
        let n = self.n();
        let d = now.saturating_sub(lw);
        if d <= 0 {
            round_6(self.total / self.series_len(lw, n))
        } else if d < n {
            let mut total = self.total;
            for i in lw + 1..=now {
                total -= self.buckets[self.slot(i)];
            }
            round_6(total / self.series_len(lw, n - d))
        } else {
            0.0
        }
    }

    fn weighted_average(&self, now_ms: Timestamp, alpha: f64) -> f64 {
        if self.is_empty(now_ms) {
            return 0.0;
        }
        let Some(lw) = self.last_write_s else {
            return 0.0;
        };
        let now = floor_seconds(now_ms);
        let mut count = self.n();
        let mut multiplier = alpha;
        if now > lw {
            let zeros = now - lw;
            multiplier *= go_pow(1.0 - alpha, zeros as f64);
            count -= zeros;
        }
        let mut sum = 0.0;
        for i in 0..count.max(0) {
            sum += self.buckets[self.slot(lw - i)] * multiplier;
            multiplier *= 1.0 - alpha;
        }
        sum
    }

    /// Changes the window to `window_s` buckets as Knative's `ResizeWindow` does: when data was
    /// written within the old window before `now_ms`, the newest buckets are kept and the series
    /// is taken to span the old window; otherwise the window restarts empty.
    pub(crate) fn resize(&mut self, window_s: u32, now_ms: Timestamp) {
        let new_n = i64::from(window_s.clamp(1, MAX_WINDOW_S));
        let old_n = self.n();
        if new_n == old_n {
            return;
        }
        let mut buckets = vec![0.0; new_n as usize];
        let mut total = 0.0;
        let now = floor_seconds(now_ms);
        match self.last_write_s {
            Some(lw) if now.saturating_sub(lw) <= old_n => {
                let mut t = lw;
                for _ in 0..new_n.min(old_n) {
                    let value = self.buckets[self.slot(t)];
                    buckets[t.rem_euclid(new_n) as usize] = value;
                    total += value;
                    t -= 1;
                }
                self.first_write_s = Some(lw - (old_n - 1));
            }
            _ => self.first_write_s = None,
        }
        self.buckets = buckets;
        self.total = total;
    }

    /// Checks a deserialized window: a length in `[1, 3600]`, finite values.
    pub(crate) fn check(&self, what: &str) -> Result<()> {
        let n = self.buckets.len();
        if !(1..=MAX_WINDOW_S as usize).contains(&n) {
            return Err(Error::serialization(format!(
                "{what} must have [1, {MAX_WINDOW_S}] buckets, got {n}"
            )));
        }
        if !self.total.is_finite() || self.buckets.iter().any(|b| !b.is_finite()) {
            return Err(Error::serialization(format!(
                "{what} must hold finite values"
            )));
        }
        Ok(())
    }
}

/// The maximum over a sliding time window (Knative's `max.TimeWindow`): values are recorded
/// into buckets of `granularity_s` seconds, indexed by floor-divided Unix seconds; two records
/// in one bucket keep the larger; [`MaxWindow::current`] is the largest value of the last
/// `ceil(duration / granularity)` buckets. Kept as the descending-maxima deque upstream uses, so
/// it holds at most that many entries.
///
/// ```
/// use replicast::kpa::window::MaxWindow;
/// let mut w = MaxWindow::new(300, 2).unwrap(); // a 5 minute scale-down delay on 2 s ticks
/// w.record(0, 4);
/// w.record(60_000, 1);
/// assert_eq!(w.current(), 4);
/// w.record(300_000, 0);
/// assert_eq!(w.current(), 1); // the 4 scrolled out after 300 s
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaxWindow {
    /// Seconds per bucket.
    granularity_s: u32,
    /// Buckets in the window.
    buckets: u32,
    /// `(bucket index, value)`, indexes ascending, values descending.
    entries: VecDeque<(i64, i32)>,
}

impl MaxWindow {
    /// A window of `duration_s` in buckets of `granularity_s`.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] unless `granularity_s` is in `[1, 3600]` and
    /// `duration_s` in `[1, 3600]`.
    pub fn new(duration_s: u32, granularity_s: u32) -> Result<Self> {
        if !(1..=MAX_WINDOW_S).contains(&granularity_s) {
            return Err(Error::invalid_config(format!(
                "granularity_s must be in [1, {MAX_WINDOW_S}], got {granularity_s}"
            )));
        }
        if !(1..=MAX_WINDOW_S).contains(&duration_s) {
            return Err(Error::invalid_config(format!(
                "duration_s must be in [1, {MAX_WINDOW_S}], got {duration_s}"
            )));
        }
        Ok(Self::with_duration(duration_s, granularity_s))
    }

    pub(crate) fn with_duration(duration_s: u32, granularity_s: u32) -> Self {
        Self {
            granularity_s,
            buckets: duration_s.div_ceil(granularity_s),
            entries: VecDeque::new(),
        }
    }

    /// The number of buckets.
    #[must_use]
    pub fn buckets(&self) -> u32 {
        self.buckets
    }

    /// Re-sizes the window to `duration_s`, keeping its entries (the next record drops those
    /// that are too old for the new size).
    pub(crate) fn set_duration(&mut self, duration_s: u32) {
        self.buckets = duration_s.div_ceil(self.granularity_s);
    }

    /// Records `value` at `time_ms`.
    pub fn record(&mut self, time_ms: Timestamp, value: i32) {
        let index = floor_seconds(time_ms).div_euclid(i64::from(self.granularity_s));
        let mut value = value;
        // values not above the new one can never be the maximum again
        while let Some(&(_, last)) = self.entries.back() {
            if value < last {
                break;
            }
            self.entries.pop_back();
        }
        // entries that left the window
        let size = i64::from(self.buckets);
        while let Some(&(first, _)) = self.entries.front() {
            if index.saturating_sub(first) < size {
                break;
            }
            self.entries.pop_front();
        }
        // two records in one bucket keep the larger
        if let Some(&(last_index, last)) = self.entries.back()
            && last_index == index
        {
            value = value.max(last);
            self.entries.pop_back();
        }
        self.entries.push_back((index, value));
    }

    /// The maximum over the window (0 before any record).
    #[must_use]
    pub fn current(&self) -> i32 {
        self.entries.front().map_or(0, |&(_, v)| v)
    }

    /// Checks a deserialized window: bounded, ordered.
    pub(crate) fn check(&self, what: &str) -> Result<()> {
        let ok = (1..=MAX_WINDOW_S).contains(&self.granularity_s)
            && (1..=MAX_WINDOW_S).contains(&self.buckets)
            && self.entries.len() <= self.buckets as usize
            && self
                .entries
                .iter()
                .zip(self.entries.iter().skip(1))
                .all(|(a, b)| a.0 < b.0 && a.1 > b.1);
        if ok {
            Ok(())
        } else {
            Err(Error::serialization(format!(
                "{what} must have granularity and buckets in [1, {MAX_WINDOW_S}] and at most that many entries, indexes ascending and values descending"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_pow_integer_powers_square_repeatedly() {
        let x = 0.8_f64;
        assert_eq!(go_pow(x, 1.0), x);
        assert_eq!(go_pow(x, 2.0), x * x);
        assert_eq!(go_pow(x, 3.0), x * (x * x));
        assert_eq!(go_pow(x, 0.0), 1.0);
        assert_eq!(go_pow(4.0, 0.5), 2.0);
    }

    #[test]
    fn floor_seconds_is_floor_for_negative_times() {
        assert_eq!(floor_seconds(-1), -1);
        assert_eq!(floor_seconds(-1000), -1);
        assert_eq!(floor_seconds(-1001), -2);
        assert_eq!(floor_seconds(999), 0);
    }

    #[test]
    fn max_window_negative_indexes_floor() {
        let mut w = MaxWindow::with_duration(6, 2); // 3 buckets
        w.record(-1_000, 5); // bucket -1
        w.record(-500, 3); // same bucket: keeps 5
        assert_eq!(w.current(), 5);
        w.record(3_000, 1); // bucket 1: -1 is 2 buckets back, kept
        assert_eq!(w.current(), 5);
        w.record(4_000, 0); // bucket 2: -1 is 3 buckets back, dropped
        assert_eq!(w.current(), 1);
    }

    #[test]
    fn resize_keeps_newest_buckets() {
        let mut w = WindowAverager::with_len(5);
        for t in 0..5 {
            w.record_unchecked(t * 1000, (t + 1) as f64);
        }
        w.resize(3, 4_000);
        assert_eq!(w.total, 12.0);
        assert_eq!(w.window_s(), 3);
    }
}
