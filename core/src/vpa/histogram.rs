//! Bucketed histograms of resource usage (spec §3–§4): exponential buckets in production,
//! linear ones for tests, percentiles reported at bucket **upper** edges.

use serde::{Deserialize, Serialize};

use super::gomath;
use crate::error::{Error, Result};

/// The bucketing scheme of a histogram, as configured (spec §3).
///
/// | scheme | fields | buckets | bucket of `v` | start of bucket `b` |
/// | --- | --- | --- | --- | --- |
/// | `exponential` | `max_value`, `first_bucket_size`, `ratio` (> 1), `epsilon` | ⌈log_r(M(r−1)/f + 1)⌉ + 1 | ⌊log_r(v(r−1)/f + 1)⌋ (0 below `f`) | f(r^b − 1)/(r − 1) |
/// | `linear` | `max_value`, `bucket_size`, `epsilon` | ⌈M/size⌉ + 1 | ⌊v/size⌋ | b·size |
///
/// Values past the last start land in the last, open-ended bucket; negative values in bucket 0.
/// `epsilon` is the weight below which a bucket counts as empty. The defaults are the VPA's:
/// [`HistogramSpec::default_cpu`] (cores) and [`HistogramSpec::default_memory`] (bytes).
///
/// ```
/// use replicast::vpa::histogram::{HistogramOptions, HistogramSpec};
/// let cpu = HistogramOptions::new(HistogramSpec::default_cpu()).unwrap();
/// assert_eq!(cpu.num_buckets(), 176);
/// assert_eq!(cpu.find_bucket(0.5), 25);
/// assert!((cpu.bucket_start(26) - 0.511_134_537_588_870_6).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "scheme", rename_all = "snake_case", deny_unknown_fields)]
pub enum HistogramSpec {
    /// Buckets growing geometrically: bucket `b` is `first_bucket_size × ratio^b` wide.
    Exponential {
        /// The value the buckets must reach (the last bucket starts at or beyond it).
        max_value: f64,
        /// Width of bucket 0.
        first_bucket_size: f64,
        /// Growth ratio of consecutive bucket widths (> 1).
        ratio: f64,
        /// Minimum weight of a non-empty bucket.
        epsilon: f64,
    },
    /// Buckets of equal width (upstream uses them only in tests).
    Linear {
        /// The value the buckets must reach.
        max_value: f64,
        /// Width of every bucket.
        bucket_size: f64,
        /// Minimum weight of a non-empty bucket.
        epsilon: f64,
    },
}

impl HistogramSpec {
    /// The VPA's CPU histogram, in cores: 10 m first bucket, ×1.05, up to 1000 cores, epsilon
    /// 1e-4 (176 buckets).
    #[must_use]
    pub const fn default_cpu() -> Self {
        HistogramSpec::Exponential {
            max_value: 1000.0,
            first_bucket_size: 0.01,
            ratio: 1.05,
            epsilon: 1e-4,
        }
    }

    /// The VPA's memory histogram, in bytes: 1e7 B first bucket, ×1.05, up to 1e12 B, epsilon
    /// 1e-4 (176 buckets).
    #[must_use]
    pub const fn default_memory() -> Self {
        HistogramSpec::Exponential {
            max_value: 1e12,
            first_bucket_size: 1e7,
            ratio: 1.05,
            epsilon: 1e-4,
        }
    }
}

/// The most buckets a histogram may have (the defaults have 176): bounds the state size.
pub const MAX_BUCKETS: usize = 10_000;

/// A validated [`HistogramSpec`] with its bucket count: how values map to buckets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "HistogramSpec", into = "HistogramSpec")]
pub struct HistogramOptions {
    spec: HistogramSpec,
    num_buckets: usize,
    ln_ratio: f64,
}

impl TryFrom<HistogramSpec> for HistogramOptions {
    type Error = Error;
    fn try_from(spec: HistogramSpec) -> Result<Self> {
        Self::new(spec)
    }
}

impl From<HistogramOptions> for HistogramSpec {
    fn from(options: HistogramOptions) -> Self {
        options.spec
    }
}

/// Go's `int(x)` on amd64: truncation, with `MinInt64` for NaN and out-of-range values.
fn go_int(x: f64) -> i64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if x.is_nan() || !(-TWO_63..TWO_63).contains(&x) {
        i64::MIN
    } else {
        x as i64
    }
}

impl HistogramOptions {
    /// Validates `spec` and computes its bucket count.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] when a size, the maximum or epsilon is not a positive
    /// finite number, the ratio is not > 1, or the scheme needs more than [`MAX_BUCKETS`].
    pub fn new(spec: HistogramSpec) -> Result<Self> {
        let positive = |name: &str, v: f64| -> Result<()> {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::invalid_config(format!(
                    "histogram {name} must be a finite number > 0, got {v}"
                )))
            }
        };
        let (num_buckets, ln_ratio) = match spec {
            HistogramSpec::Exponential {
                max_value,
                first_bucket_size,
                ratio,
                epsilon,
            } => {
                positive("max_value", max_value)?;
                positive("first_bucket_size", first_bucket_size)?;
                positive("epsilon", epsilon)?;
                if !(ratio.is_finite() && ratio > 1.0) {
                    return Err(Error::invalid_config(format!(
                        "histogram ratio must be a finite number > 1, got {ratio}"
                    )));
                }
                let ln_ratio = gomath::log(ratio);
                let n = (gomath::log(max_value * (ratio - 1.0) / first_bucket_size + 1.0)
                    / ln_ratio)
                    .ceil()
                    + 1.0;
                (n, ln_ratio)
            }
            HistogramSpec::Linear {
                max_value,
                bucket_size,
                epsilon,
            } => {
                positive("max_value", max_value)?;
                positive("bucket_size", bucket_size)?;
                positive("epsilon", epsilon)?;
                ((max_value / bucket_size).ceil() + 1.0, 0.0)
            }
        };
        if !(num_buckets >= 1.0 && num_buckets <= MAX_BUCKETS as f64) {
            return Err(Error::invalid_config(format!(
                "histogram needs {num_buckets} buckets, more than the {MAX_BUCKETS} allowed: raise the bucket size or lower max_value"
            )));
        }
        Ok(Self {
            spec,
            num_buckets: num_buckets as usize,
            ln_ratio,
        })
    }

    /// The configuration these options were built from.
    #[must_use]
    pub fn spec(&self) -> HistogramSpec {
        self.spec
    }

    /// Number of buckets.
    #[must_use]
    pub fn num_buckets(&self) -> usize {
        self.num_buckets
    }

    /// Minimum weight of a non-empty bucket.
    #[must_use]
    pub fn epsilon(&self) -> f64 {
        match self.spec {
            HistogramSpec::Exponential { epsilon, .. } | HistogramSpec::Linear { epsilon, .. } => {
                epsilon
            }
        }
    }

    /// The bucket holding `value` (bit-exact with upstream's float64 computation).
    #[must_use]
    pub fn find_bucket(&self, value: f64) -> usize {
        let last = self.num_buckets - 1;
        let bucket = match self.spec {
            HistogramSpec::Linear { bucket_size, .. } => go_int(value / bucket_size),
            HistogramSpec::Exponential {
                first_bucket_size,
                ratio,
                ..
            } => {
                if value < first_bucket_size {
                    return 0;
                }
                go_int(gomath::log(value * (ratio - 1.0) / first_bucket_size + 1.0) / self.ln_ratio)
            }
        };
        if bucket < 0 {
            0
        } else if bucket as u64 >= last as u64 {
            last
        } else {
            bucket as usize
        }
    }

    /// The lower edge of `bucket` (bucket indexes past the last are clamped to it).
    #[must_use]
    pub fn bucket_start(&self, bucket: usize) -> f64 {
        let bucket = bucket.min(self.num_buckets - 1);
        match self.spec {
            HistogramSpec::Linear { bucket_size, .. } => bucket as f64 * bucket_size,
            HistogramSpec::Exponential {
                first_bucket_size,
                ratio,
                ..
            } => {
                if bucket == 0 {
                    0.0
                } else {
                    first_bucket_size * (gomath::pow_int(ratio, bucket as i64) - 1.0)
                        / (ratio - 1.0)
                }
            }
        }
    }
}

/// A histogram of weighted samples (spec §4): weight per bucket, total weight, and the first
/// and last buckets holding at least `epsilon`.
///
/// ```
/// use replicast::vpa::histogram::{Histogram, HistogramOptions, HistogramSpec};
/// let options = HistogramOptions::new(HistogramSpec::Linear {
///     max_value: 10.0, bucket_size: 1.0, epsilon: 1e-15,
/// }).unwrap();
/// let mut h = Histogram::new(options);
/// h.add(2.5, 1.0);
/// // percentiles are bucket upper edges
/// assert_eq!(h.percentile(0.5), 3.0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "HistogramRepr", into = "HistogramRepr")]
pub struct Histogram {
    options: HistogramOptions,
    weights: Vec<f64>,
    total_weight: f64,
    min_bucket: usize,
    max_bucket: usize,
}

/// The serialised form: only non-zero buckets, as `[index, weight]` pairs.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistogramRepr {
    options: HistogramOptions,
    total_weight: f64,
    min_bucket: usize,
    max_bucket: usize,
    weights: Vec<(usize, f64)>,
}

impl From<Histogram> for HistogramRepr {
    fn from(h: Histogram) -> Self {
        HistogramRepr {
            options: h.options,
            total_weight: h.total_weight,
            min_bucket: h.min_bucket,
            max_bucket: h.max_bucket,
            weights: h
                .weights
                .iter()
                .enumerate()
                .filter(|(_, w)| **w != 0.0)
                .map(|(i, w)| (i, *w))
                .collect(),
        }
    }
}

impl TryFrom<HistogramRepr> for Histogram {
    type Error = Error;
    fn try_from(repr: HistogramRepr) -> Result<Self> {
        let n = repr.options.num_buckets();
        if repr.min_bucket >= n || repr.max_bucket >= n {
            return Err(Error::serialization(format!(
                "histogram min_bucket {} / max_bucket {} must be < {n}",
                repr.min_bucket, repr.max_bucket
            )));
        }
        if !repr.total_weight.is_finite() || repr.total_weight < 0.0 {
            return Err(Error::serialization(format!(
                "histogram total_weight must be a finite number >= 0, got {}",
                repr.total_weight
            )));
        }
        let mut weights = vec![0.0; n];
        for (i, w) in repr.weights {
            if i >= n || !w.is_finite() || w < 0.0 {
                return Err(Error::serialization(format!(
                    "histogram bucket {i} with weight {w}: index must be < {n} and weight finite and >= 0"
                )));
            }
            weights[i] = w;
        }
        Ok(Histogram {
            options: repr.options,
            weights,
            total_weight: repr.total_weight,
            min_bucket: repr.min_bucket,
            max_bucket: repr.max_bucket,
        })
    }
}

impl Histogram {
    /// An empty histogram.
    #[must_use]
    pub fn new(options: HistogramOptions) -> Self {
        let n = options.num_buckets();
        Self {
            options,
            weights: vec![0.0; n],
            total_weight: 0.0,
            min_bucket: n - 1,
            max_bucket: 0,
        }
    }

    /// The bucketing options.
    #[must_use]
    pub fn options(&self) -> &HistogramOptions {
        &self.options
    }

    /// Sum of all weights added (and not subtracted).
    #[must_use]
    pub fn total_weight(&self) -> f64 {
        self.total_weight
    }

    /// The weight of `bucket` (0 past the last bucket).
    #[must_use]
    pub fn bucket_weight(&self, bucket: usize) -> f64 {
        self.weights.get(bucket).copied().unwrap_or(0.0)
    }

    /// The first bucket with at least `epsilon` weight (the last bucket when empty).
    #[must_use]
    pub fn min_bucket(&self) -> usize {
        self.min_bucket
    }

    /// The last bucket with at least `epsilon` weight (0 when empty).
    #[must_use]
    pub fn max_bucket(&self) -> usize {
        self.max_bucket
    }

    /// Adds `weight` at `value`. Negative or NaN weights are ignored (upstream panics on
    /// them; replicast never produces one).
    pub fn add(&mut self, value: f64, weight: f64) {
        if weight.is_nan() || weight < 0.0 {
            return;
        }
        let bucket = self.options.find_bucket(value);
        self.weights[bucket] += weight;
        self.total_weight += weight;
        let eps = self.options.epsilon();
        if bucket < self.min_bucket && self.weights[bucket] >= eps {
            self.min_bucket = bucket;
        }
        if bucket > self.max_bucket && self.weights[bucket] >= eps {
            self.max_bucket = bucket;
        }
    }

    /// Subtracts `weight` at `value`; totals that fall below epsilon become exactly 0.
    pub fn subtract(&mut self, value: f64, weight: f64) {
        if weight.is_nan() || weight < 0.0 {
            return;
        }
        let bucket = self.options.find_bucket(value);
        let eps = self.options.epsilon();
        self.total_weight = safe_subtract(self.total_weight, weight, eps);
        self.weights[bucket] = safe_subtract(self.weights[bucket], weight, eps);
        self.update_min_and_max();
    }

    /// Adds every bucket of `other` (same options required) into this histogram.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] when the options differ.
    pub fn merge(&mut self, other: &Histogram) -> Result<()> {
        if self.options != other.options {
            return Err(Error::invalid_input(
                "cannot merge histograms with different options",
            ));
        }
        if other.min_bucket <= other.max_bucket {
            for b in other.min_bucket..=other.max_bucket {
                self.weights[b] += other.weights[b];
            }
        }
        self.total_weight += other.total_weight;
        self.min_bucket = self.min_bucket.min(other.min_bucket);
        self.max_bucket = self.max_bucket.max(other.max_bucket);
        Ok(())
    }

    /// Whether no bucket holds `epsilon` weight.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.weights[self.min_bucket] < self.options.epsilon()
    }

    /// The `p`-th percentile (`p` in [0, 1]; values outside behave like clamping): the upper
    /// edge of the first bucket whose cumulative weight reaches `p × total` (the start of the
    /// last bucket when that is the one); 0 for an empty histogram.
    #[must_use]
    pub fn percentile(&self, p: f64) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        let threshold = p * self.total_weight;
        let mut partial = 0.0;
        let mut bucket = self.min_bucket;
        while bucket < self.max_bucket {
            partial += self.weights[bucket];
            if partial >= threshold {
                break;
            }
            bucket += 1;
        }
        if bucket < self.options.num_buckets() - 1 {
            self.options.bucket_start(bucket + 1)
        } else {
            self.options.bucket_start(bucket)
        }
    }

    /// Multiplies every weight by `factor` (≥ 0) and re-tightens the non-empty range.
    pub(crate) fn scale(&mut self, factor: f64) {
        if factor.is_nan() || factor < 0.0 {
            return;
        }
        if self.min_bucket <= self.max_bucket {
            for w in &mut self.weights[self.min_bucket..=self.max_bucket] {
                *w *= factor;
            }
        }
        self.total_weight *= factor;
        self.update_min_and_max();
    }

    /// Upstream's `Equals`: same options, same non-empty range, weights within 1e-15.
    #[must_use]
    pub fn approx_eq(&self, other: &Histogram) -> bool {
        if self.options != other.options
            || self.min_bucket != other.min_bucket
            || self.max_bucket != other.max_bucket
        {
            return false;
        }
        (self.min_bucket..=self.max_bucket)
            .all(|b| (self.weights[b] - other.weights[b]).abs() <= 1e-15)
    }

    fn update_min_and_max(&mut self) {
        let eps = self.options.epsilon();
        let last = self.options.num_buckets() - 1;
        while self.weights[self.min_bucket] < eps && self.min_bucket < last {
            self.min_bucket += 1;
        }
        while self.weights[self.max_bucket] < eps && self.max_bucket > 0 {
            self.max_bucket -= 1;
        }
    }

    /// The checkpoint form (spec §10): every bucket between min and max scaled so the heaviest
    /// is 10000, rounded half up, zeros dropped; the total weight stored exactly.
    #[must_use]
    pub fn save(&self) -> (std::collections::BTreeMap<i64, i64>, f64) {
        let mut out = std::collections::BTreeMap::new();
        let mut max_weight = 0.0f64;
        if self.min_bucket <= self.max_bucket {
            for b in self.min_bucket..=self.max_bucket {
                if self.weights[b] > max_weight {
                    max_weight = self.weights[b];
                }
            }
            let ratio = f64::from(MAX_CHECKPOINT_WEIGHT) / max_weight;
            for b in self.min_bucket..=self.max_bucket {
                // Go's uint32(int(...)): the value is in [0, 10000] whenever max_weight > 0
                let w = gomath::round_half_up(self.weights[b] * ratio);
                if w > 0 && w <= i64::from(u32::MAX) {
                    out.insert(b as i64, w);
                }
            }
        }
        (out, self.total_weight)
    }

    /// Adds a checkpoint's weights (spec §10): each stored weight × `total / Σ stored`.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Serialization`] for a negative or non-finite total, a negative or
    /// out-of-range bucket index, or a weight outside [0, 2³²−1]; the histogram is unchanged.
    pub fn load(
        &mut self,
        bucket_weights: &std::collections::BTreeMap<i64, i64>,
        total_weight: f64,
        what: &str,
    ) -> Result<()> {
        if !total_weight.is_finite() || total_weight < 0.0 {
            return Err(Error::serialization(format!(
                "{what}.totalWeight must be a finite number >= 0, got {total_weight}"
            )));
        }
        let n = self.options.num_buckets();
        let mut sum: i64 = 0;
        for (&bucket, &weight) in bucket_weights {
            if bucket < 0 || bucket >= n as i64 {
                return Err(Error::serialization(format!(
                    "{what}.bucketWeights has bucket {bucket}, valid buckets are 0..={}",
                    n - 1
                )));
            }
            if !(0..=i64::from(u32::MAX)).contains(&weight) {
                return Err(Error::serialization(format!(
                    "{what}.bucketWeights[{bucket}] must be in [0, {}], got {weight}",
                    u32::MAX
                )));
            }
            sum += weight;
        }
        if sum == 0 {
            return Ok(());
        }
        let ratio = total_weight / sum as f64;
        for (&bucket, &weight) in bucket_weights {
            let b = bucket as usize;
            self.min_bucket = self.min_bucket.min(b);
            self.max_bucket = self.max_bucket.max(b);
            self.weights[b] += weight as f64 * ratio;
        }
        self.total_weight += total_weight;
        self.update_min_and_max();
        Ok(())
    }
}

/// The weight of the heaviest bucket in a checkpoint.
pub const MAX_CHECKPOINT_WEIGHT: u32 = 10_000;

fn safe_subtract(value: f64, sub: f64, epsilon: f64) -> f64 {
    let v = value - sub;
    if v < epsilon { 0.0 } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linear(max: f64, size: f64, eps: f64) -> HistogramOptions {
        HistogramOptions::new(HistogramSpec::Linear {
            max_value: max,
            bucket_size: size,
            epsilon: eps,
        })
        .unwrap()
    }

    #[test]
    fn default_schemes_have_176_buckets() {
        for spec in [
            HistogramSpec::default_cpu(),
            HistogramSpec::default_memory(),
        ] {
            assert_eq!(HistogramOptions::new(spec).unwrap().num_buckets(), 176);
        }
    }

    #[test]
    fn rejects_bad_options() {
        let bad = HistogramOptions::new(HistogramSpec::Exponential {
            max_value: 10.0,
            first_bucket_size: 1.0,
            ratio: 1.0,
            epsilon: 1e-4,
        });
        assert!(bad.unwrap_err().message().contains("ratio"));
        assert!(
            HistogramOptions::new(HistogramSpec::Linear {
                max_value: 1e12,
                bucket_size: 1.0,
                epsilon: 1.0
            })
            .is_err()
        );
    }

    #[test]
    fn serde_round_trip_is_exact() {
        let mut h = Histogram::new(linear(10.0, 1.0, 1e-15));
        h.add(1.5, 0.1);
        h.add(7.0, 1.0 / 3.0);
        let json = serde_json::to_string(&h).unwrap();
        let back: Histogram = serde_json::from_str(&json).unwrap();
        assert_eq!(back, h);
    }

    #[test]
    fn linear_find_bucket_mimics_go_overflow() {
        let o = linear(5.0, 0.3, 1e-3);
        assert_eq!(o.find_bucket(1e300), 0);
        assert_eq!(o.find_bucket(f64::NAN), 0);
        assert_eq!(o.find_bucket(100.0), 17);
    }
}
