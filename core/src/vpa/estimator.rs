//! From an aggregate to raw bounds (spec §2, §8): percentile → amount (truncated) → safety
//! margin → confidence multiplier (bounds only) → per-pod minimum split across containers.
//! Every stage truncates toward zero exactly as upstream's `ScaleResource` does.

use super::container::AggregateState;
use super::gomath;
use super::gotime;
use super::spec::{RecommenderConfig, Resource, Resources};

/// Largest amount the recommender produces (`MaxResourceAmount` = 1e14).
pub const MAX_RESOURCE_AMOUNT: i64 = 100_000_000_000_000;

/// Float → amount as upstream's `resourceAmountFromFloat`: clamps above 1e14 and below 0,
/// truncates toward zero. NaN (only from `0 × ∞`, an empty histogram with no history) is
/// **defined as 0** here; Go converts it to `MinInt64` on amd64, which the per-pod minimum
/// then hides, so the visible result is the same.
#[must_use]
pub fn amount_from_float(amount: f64) -> i64 {
    if amount > MAX_RESOURCE_AMOUNT as f64 {
        MAX_RESOURCE_AMOUNT
    } else if amount.is_nan() || amount < 0.0 {
        0
    } else {
        amount as i64
    }
}

/// Cores → millicores: `trunc(cores × 1000)`, clamped (`CPUAmountFromCores`).
#[must_use]
pub fn cpu_amount_from_cores(cores: f64) -> i64 {
    amount_from_float(cores * 1000.0)
}

/// Bytes → amount: `trunc(bytes)`, clamped (`MemoryAmountFromBytes`).
#[must_use]
pub fn memory_amount_from_bytes(bytes: f64) -> i64 {
    amount_from_float(bytes)
}

/// `trunc(amount × factor)`, clamped (`ScaleResource`).
#[must_use]
pub fn scale_resource(amount: i64, factor: f64) -> i64 {
    amount_from_float(amount as f64 * factor)
}

/// `base + ScaleResource(base, fraction)`: the safety margin. The sum is clamped to 1e14
/// like every other amount (upstream adds without clamping; with its histograms the sum never
/// gets near 1e14, and clamping keeps `target <= upper bound` for any tuning).
#[must_use]
pub fn with_margin(base: i64, fraction: f64) -> i64 {
    base.saturating_add(scale_resource(base, fraction))
        .min(MAX_RESOURCE_AMOUNT.max(base))
}

/// The confidence in "days of history" (spec §8.3): `min(lifespan / interval, samples /
/// interval-in-minutes)`, with Go's nanosecond durations.
#[must_use]
pub fn confidence(aggregate: &AggregateState, interval_ms: i64) -> f64 {
    let first = aggregate
        .first_sample_start_ms
        .unwrap_or(crate::time::GO_ZERO_TIME_MS);
    let last = aggregate
        .last_sample_start_ms
        .unwrap_or(crate::time::GO_ZERO_TIME_MS);
    let interval_ns = interval_ms.saturating_mul(1_000_000);
    let lifespan = gotime::sub_ns(last, first) as f64 / interval_ns as f64;
    // Go's Duration.Minutes(): whole minutes plus the remaining nanoseconds / 6e10
    let minutes =
        (interval_ns / 60_000_000_000) as f64 + (interval_ns % 60_000_000_000) as f64 / 60e9;
    let samples = aggregate.total_samples_count as f64 / minutes;
    go_min(lifespan, samples)
}

/// Go's `math.Min` (NaN wins; −0 < +0).
fn go_min(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else {
        x.min(y)
    }
}

/// `ScaleResource(value, (1 + multiplier / confidence)^exponent)` with Go's `Pow`.
#[must_use]
pub fn confidence_multiplier(value: i64, multiplier: f64, exponent: i64, confidence: f64) -> i64 {
    scale_resource(
        value,
        gomath::pow_int(1.0 + multiplier / confidence, exponent),
    )
}

/// The per-container share of the per-pod minimum: `ScaleResource(min, 1 / containers)`.
#[must_use]
pub fn per_container_minimum(config: &RecommenderConfig, containers: usize) -> Resources {
    let fraction = 1.0 / containers.max(1) as f64;
    Resources::new(
        scale_resource(
            cpu_amount_from_cores(config.pod_min_cpu_millicores * 0.001),
            fraction,
        ),
        scale_resource(
            memory_amount_from_bytes(config.pod_min_memory_mb * 1024.0 * 1024.0),
            fraction,
        ),
    )
}

/// The three bounds of one resource before post-processing, with how they were reached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResourceEstimate {
    /// Percentile value in the histogram's unit (cores or bytes), per bound:
    /// target, lower, upper.
    pub percentiles: [f64; 3],
    /// The percentiles as amounts (millicores or bytes, truncated), per bound.
    pub amounts: [i64; 3],
    /// After the margin (amounts), per bound.
    pub with_margin: [i64; 3],
    /// After the confidence multiplier (target unchanged), per bound.
    pub with_confidence: [i64; 3],
    /// Final: `max(·, per-container minimum)`, per bound.
    pub bounds: [i64; 3],
    /// The confidence used.
    pub confidence: f64,
    /// The per-container minimum.
    pub minimum: i64,
}

/// Upper-bound confidence multiplier and exponent (upstream constants).
const UPPER_MULTIPLIER: (f64, i64) = (1.0, 1);
/// Lower-bound confidence multiplier and exponent (upstream constants).
const LOWER_MULTIPLIER: (f64, i64) = (0.001, -2);

/// Runs the estimator chain for `resource` on `aggregate` (spec §8.5).
#[must_use]
pub fn estimate(
    config: &RecommenderConfig,
    aggregate: &AggregateState,
    resource: Resource,
    minimum: i64,
) -> ResourceEstimate {
    let (percentiles, interval_s) = match resource {
        Resource::Cpu => (
            [
                config.target_cpu_percentile,
                config.lower_bound_cpu_percentile,
                config.upper_bound_cpu_percentile,
            ],
            config.confidence_interval_cpu_s,
        ),
        Resource::Memory => (
            [
                config.target_memory_percentile,
                config.lower_bound_memory_percentile,
                config.upper_bound_memory_percentile,
            ],
            config.confidence_interval_memory_s,
        ),
    };
    let conf = confidence(aggregate, i64::from(interval_s) * 1000);
    let mut out = ResourceEstimate {
        percentiles: [0.0; 3],
        amounts: [0; 3],
        with_margin: [0; 3],
        with_confidence: [0; 3],
        bounds: [0; 3],
        confidence: conf,
        minimum,
    };
    for (i, p) in percentiles.into_iter().enumerate() {
        let (value, amount) = match resource {
            Resource::Cpu => {
                let v = aggregate.cpu.percentile(p);
                (v, cpu_amount_from_cores(v))
            }
            Resource::Memory => {
                let v = aggregate.memory.percentile(p);
                (v, memory_amount_from_bytes(v))
            }
        };
        out.percentiles[i] = value;
        out.amounts[i] = amount;
        out.with_margin[i] = with_margin(amount, config.safety_margin_fraction);
        out.with_confidence[i] = match i {
            1 => confidence_multiplier(
                out.with_margin[i],
                LOWER_MULTIPLIER.0,
                LOWER_MULTIPLIER.1,
                conf,
            ),
            2 => confidence_multiplier(
                out.with_margin[i],
                UPPER_MULTIPLIER.0,
                UPPER_MULTIPLIER.1,
                conf,
            ),
            _ => out.with_margin[i],
        };
        out.bounds[i] = out.with_confidence[i].max(minimum);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::approx_constant)] // 3.14 is upstream's test input, not π
    fn truncation_matches_upstream_examples() {
        assert_eq!(cpu_amount_from_cores(3.14), 3140);
        assert_eq!(scale_resource(3140, 1.44), 4521);
        assert_eq!(memory_amount_from_bytes(3.14e9 * 1.44), 4_521_600_000);
        assert_eq!(with_margin(3140, 0.1), 3454);
        assert_eq!(
            scale_resource(0, f64::INFINITY),
            0,
            "0 × inf is defined as 0"
        );
        assert_eq!(scale_resource(5, f64::INFINITY), MAX_RESOURCE_AMOUNT);
        assert_eq!(amount_from_float(-3.0), 0);
    }

    #[test]
    fn minimum_is_split_per_pod() {
        let m = per_container_minimum(&RecommenderConfig::default(), 2);
        assert_eq!(m, Resources::new(12, 131_072_000));
        let m = per_container_minimum(&RecommenderConfig::default(), 1);
        assert_eq!(m, Resources::new(25, 262_144_000));
    }
}
