//! Turning timestamped, possibly gappy observations into the regular series the models take.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::time::Timestamp;

/// A regular series: `values[i]` is the mean of the observations in
/// `[start_ms + i·step_ms, start_ms + (i+1)·step_ms)`.
///
/// ```
/// use replicast::forecast::regularize;
/// let r = regularize(&[0, 60_000, 180_000], &[1.0, 2.0, 4.0], None).unwrap();
/// assert_eq!(r.values, vec![1.0, 2.0, 3.0, 4.0]);
/// assert_eq!(r.filled, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Regular {
    /// Start of the first slot.
    pub start_ms: Timestamp,
    /// Slot width.
    pub step_ms: i64,
    /// One value per slot, all finite.
    pub values: Vec<f64>,
    /// Slots that had no finite observation and were filled by linear interpolation.
    pub filled: usize,
}

/// Puts observations on a regular grid of `step_ms` (default: the (lower) median spacing), averaging
/// several observations in one slot. `NaN` values count as missing. Missing slots are filled by
/// linear interpolation between their neighbours (the nearest value at either end) and counted in
/// [`Regular::filled`], so the caller can refuse a series with too many holes.
///
/// ```
/// use replicast::forecast::regularize;
/// let r = regularize(&[0, 30_000, 60_000, 90_000], &[1.0, 3.0, f64::NAN, 5.0], Some(60_000)).unwrap();
/// assert_eq!(r.values, vec![2.0, 5.0]);
/// assert!(regularize(&[10, 5], &[1.0, 2.0], None).is_err()); // out of order
/// ```
///
/// # Errors
/// [`crate::ErrorKind::InvalidInput`] for empty or mismatched slices, timestamps not strictly
/// increasing, an infinite value or a non-positive `step_ms`;
/// [`crate::ErrorKind::InsufficientData`] when no value is finite.
pub fn regularize(
    timestamps_ms: &[Timestamp],
    values: &[f64],
    step_ms: Option<i64>,
) -> Result<Regular> {
    if timestamps_ms.len() != values.len() {
        return Err(Error::invalid_input(format!(
            "timestamps and values must have the same length, got {} and {}",
            timestamps_ms.len(),
            values.len()
        )));
    }
    if values.is_empty() {
        return Err(Error::invalid_input("series is empty"));
    }
    if let Some(i) = timestamps_ms.windows(2).position(|w| w[1] <= w[0]) {
        return Err(Error::invalid_input(format!(
            "timestamps must be strictly increasing, got {} then {} at index {}",
            timestamps_ms[i],
            timestamps_ms[i + 1],
            i + 1
        )));
    }
    if let Some(i) = values.iter().position(|v| v.is_infinite()) {
        return Err(Error::invalid_input(format!(
            "values[{i}] must be finite or NaN (missing), got {}",
            values[i]
        )));
    }
    let step = match step_ms {
        Some(s) if s <= 0 => {
            return Err(Error::invalid_input(format!(
                "step_ms must be positive, got {s}"
            )));
        }
        Some(s) => s,
        None => {
            let mut d: Vec<i64> = timestamps_ms.windows(2).map(|w| w[1] - w[0]).collect();
            if d.is_empty() {
                60_000
            } else {
                d.sort_unstable();
                d[(d.len() - 1) / 2]
            }
        }
    };
    let start = timestamps_ms[0];
    let span = timestamps_ms[timestamps_ms.len() - 1].saturating_sub(start);
    let slots = usize::try_from(span / step).unwrap_or(0).saturating_add(1);
    if slots > 100_000_000 {
        return Err(Error::invalid_input(format!(
            "series spans {slots} slots of {step} ms, more than 100000000"
        )));
    }
    let mut sum = vec![0.0; slots];
    let mut cnt = vec![0u32; slots];
    for (&t, &v) in timestamps_ms.iter().zip(values) {
        if v.is_nan() {
            continue;
        }
        let i = usize::try_from((t - start) / step)
            .unwrap_or(0)
            .min(slots - 1);
        sum[i] += v;
        cnt[i] += 1;
    }
    let known: Vec<usize> = (0..slots).filter(|&i| cnt[i] > 0).collect();
    if known.is_empty() {
        return Err(Error::insufficient_data("no finite value in the series"));
    }
    let mut out: Vec<f64> = (0..slots)
        .map(|i| {
            if cnt[i] > 0 {
                sum[i] / f64::from(cnt[i])
            } else {
                f64::NAN
            }
        })
        .collect();
    let mut filled = 0;
    let first = known[0];
    let last = known[known.len() - 1];
    for i in 0..first {
        out[i] = out[first];
        filled += 1;
    }
    for i in last + 1..slots {
        out[i] = out[last];
        filled += 1;
    }
    for w in known.windows(2) {
        let (a, b) = (w[0], w[1]);
        for i in a + 1..b {
            let f = (i - a) as f64 / (b - a) as f64;
            out[i] = out[a] + f * (out[b] - out[a]);
            filled += 1;
        }
    }
    Ok(Regular {
        start_ms: start,
        step_ms: step,
        values: out,
        filled,
    })
}
