//! Load traces: CSV `timestamp,value` (seconds, load per interval) or the JSON that
//! Prometheus' `query_range` API returns.

use serde_json::Value;

use crate::error::{Error, Result};

/// A regular load trace: `values[i]` is the load during `[timestamps_s[i], timestamps_s[i] + step_s)`.
///
/// ```
/// use replicast::sim::Trace;
/// let t = Trace::from_csv("timestamp,value\n0,10\n60,12\n120,9\n").unwrap();
/// assert_eq!(t.step_s(), 60);
/// assert_eq!(t.values(), &[10.0, 12.0, 9.0]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    timestamps_s: Vec<i64>,
    values: Vec<f64>,
    step_s: i64,
}

/// Largest accepted timestamp magnitude, seconds (about 31.7 million years): in milliseconds,
/// and after adding a step or a start-up delay, every instant of a replay still fits an `i64`.
const MAX_TIMESTAMP_S: i64 = 1_000_000_000_000_000;

impl Trace {
    /// A trace from parallel timestamps (seconds) and values, checked: at least two points,
    /// timestamps within ±10¹⁵ s, strictly increasing on a regular step, finite non-negative
    /// values.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] naming the first offending row.
    pub fn new(timestamps_s: Vec<i64>, values: Vec<f64>) -> Result<Self> {
        if timestamps_s.len() != values.len() {
            return Err(Error::invalid_input(format!(
                "trace has {} timestamps but {} values",
                timestamps_s.len(),
                values.len()
            )));
        }
        if values.len() < 2 {
            return Err(Error::invalid_input(format!(
                "trace must have at least 2 points, got {}",
                values.len()
            )));
        }
        if let Some((i, t)) = timestamps_s
            .iter()
            .enumerate()
            .find(|(_, t)| t.unsigned_abs() > MAX_TIMESTAMP_S.unsigned_abs())
        {
            return Err(Error::invalid_input(format!(
                "trace timestamp at row {} must be within ±{MAX_TIMESTAMP_S} s, got {t}",
                i + 1
            )));
        }
        let step_s = timestamps_s[1] - timestamps_s[0];
        for (i, pair) in timestamps_s.windows(2).enumerate() {
            let gap = pair[1] - pair[0];
            if gap <= 0 {
                return Err(Error::invalid_input(format!(
                    "trace timestamps must increase: row {} ({}) is not after row {} ({}){}",
                    i + 2,
                    pair[1],
                    i + 1,
                    pair[0],
                    if gap == 0 {
                        " (duplicate timestamp)"
                    } else {
                        " (unsorted)"
                    }
                )));
            }
            if gap != step_s {
                return Err(Error::invalid_input(format!(
                    "trace must be regular: row {} is {gap} s after the previous one, expected {step_s} s (missing or irregular timestamps)",
                    i + 2
                )));
            }
        }
        if let Some((i, v)) = values
            .iter()
            .enumerate()
            .find(|(_, v)| !(v.is_finite() && **v >= 0.0))
        {
            return Err(Error::invalid_input(format!(
                "trace value at row {} must be a finite number >= 0, got {v}",
                i + 1
            )));
        }
        Ok(Self {
            timestamps_s,
            values,
            step_s,
        })
    }

    /// Parses CSV with a `timestamp,value` header (integer seconds, float load).
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] for a missing header, a malformed row (named by its
    /// line), or the checks of [`Trace::new`].
    pub fn from_csv(text: &str) -> Result<Self> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        match lines.next() {
            Some((_, header)) if header.trim().eq_ignore_ascii_case("timestamp,value") => {}
            Some((_, header)) => {
                return Err(Error::invalid_input(format!(
                    "trace CSV must start with the header timestamp,value, got {header:?}"
                )));
            }
            None => return Err(Error::invalid_input("trace CSV is empty")),
        }
        let mut timestamps = Vec::new();
        let mut values = Vec::new();
        for (n, line) in lines {
            let bad = || {
                Error::invalid_input(format!(
                    "trace CSV line {}: expected `timestamp,value`, got {line:?}",
                    n + 1
                ))
            };
            let (t, v) = line.split_once(',').ok_or_else(bad)?;
            timestamps.push(t.trim().parse::<i64>().map_err(|_| bad())?);
            values.push(v.trim().parse::<f64>().map_err(|_| bad())?);
        }
        Self::new(timestamps, values)
    }

    /// Parses a Prometheus `query_range` response (`{"status": "success", "data": {"resultType":
    /// "matrix", "result": [{"values": [[t, "v"], ...]}]}}`); several series are summed.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] when the document is not such a response, series
    /// disagree on timestamps, or the checks of [`Trace::new`] fail.
    pub fn from_prometheus_json(text: &str) -> Result<Self> {
        let doc: Value = serde_json::from_str(text)
            .map_err(|e| Error::invalid_input(format!("malformed Prometheus JSON: {e}")))?;
        if doc["status"] != "success" {
            return Err(Error::invalid_input(format!(
                "Prometheus response status must be \"success\", got {}",
                doc["status"]
            )));
        }
        let results = doc["data"]["result"].as_array().ok_or_else(|| {
            Error::invalid_input(
                "Prometheus response has no data.result array (a query_range matrix)",
            )
        })?;
        if results.is_empty() {
            return Err(Error::invalid_input("Prometheus response has no series"));
        }
        let mut timestamps: Vec<i64> = Vec::new();
        let mut values: Vec<f64> = Vec::new();
        for (s, series) in results.iter().enumerate() {
            let points = series["values"].as_array().ok_or_else(|| {
                Error::invalid_input(format!("Prometheus series {s} has no values array"))
            })?;
            for (i, point) in points.iter().enumerate() {
                let bad = || {
                    Error::invalid_input(format!(
                        "Prometheus series {s} point {i} must be [time, \"value\"], got {point}"
                    ))
                };
                let t = point[0].as_f64().ok_or_else(bad)?;
                let v: f64 = point[1]
                    .as_str()
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(bad)?;
                if s == 0 {
                    timestamps.push(t.round() as i64);
                    values.push(v);
                } else if timestamps.get(i) == Some(&(t.round() as i64)) {
                    values[i] += v;
                } else {
                    return Err(Error::invalid_input(format!(
                        "Prometheus series {s} point {i} is at {t}, but series 0 has no point there: series must share timestamps"
                    )));
                }
            }
        }
        Self::new(timestamps, values)
    }

    /// Timestamps, seconds.
    #[must_use]
    pub fn timestamps_s(&self) -> &[i64] {
        &self.timestamps_s
    }

    /// Load per step.
    #[must_use]
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The step, seconds.
    #[must_use]
    pub fn step_s(&self) -> i64 {
        self.step_s
    }

    /// Number of points.
    #[must_use]
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the trace is empty (never, for a constructed trace).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The largest load.
    #[must_use]
    pub fn peak(&self) -> f64 {
        self.values.iter().copied().fold(0.0, f64::max)
    }
}
