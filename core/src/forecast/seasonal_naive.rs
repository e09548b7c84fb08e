//! Seasonal naive: the forecast for a step is the last observed value one period earlier.

use serde::{Deserialize, Serialize};

use super::{
    Fit, Forecast, Predict, Update, check_request, check_restored_count, check_series, check_value,
    fill_forecast,
};
use crate::error::{Error, Result};

/// Seasonal naive spec: repeat the last season. `period = 1` is the naive (persistence) forecast.
///
/// | field | default | unit/range | meaning |
/// |---|---|---|---|
/// | `period` | 1 | steps, >= 1 | season length |
///
/// Intervals: normal with variance `sigma² · (⌊(h-1)/period⌋ + 1)`, `sigma²` the mean square of
/// the in-sample seasonal differences (updated with every new sample).
///
/// ```
/// use replicast::forecast::{Fit, Predict, SeasonalNaive};
/// let fc = SeasonalNaive::new(3).fit(&[1.0, 2.0, 3.0, 4.0]).unwrap().predict(4, None).unwrap();
/// assert_eq!(fc.point, vec![2.0, 3.0, 4.0, 2.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeasonalNaive {
    /// Season length in steps (>= 1).
    pub period: usize,
}

impl Default for SeasonalNaive {
    fn default() -> Self {
        Self { period: 1 }
    }
}

impl SeasonalNaive {
    /// A seasonal naive spec with the given period.
    ///
    /// ```
    /// assert_eq!(replicast::forecast::SeasonalNaive::new(24).period, 24);
    /// ```
    #[must_use]
    pub fn new(period: usize) -> Self {
        Self { period }
    }

    /// Checks the spec.
    ///
    /// ```
    /// assert!(replicast::forecast::SeasonalNaive::new(0).validate().is_err());
    /// ```
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] when `period` is 0.
    pub fn validate(&self) -> Result<()> {
        if self.period == 0 {
            return Err(Error::invalid_config("period must be at least 1, got 0"));
        }
        Ok(())
    }
}

/// A fitted [`SeasonalNaive`]: the last `period` observations in a ring buffer.
///
/// ```
/// use replicast::forecast::{Fit, Predict, SeasonalNaive, Update};
/// let mut m = SeasonalNaive::new(2).fit(&[1.0, 2.0]).unwrap();
/// m.update(3.0).unwrap();
/// assert_eq!(m.predict(2, None).unwrap().point, vec![2.0, 3.0]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedSeasonalNaive {
    period: usize,
    /// `last[(pos + k) % period]` is the observation `period - k` steps ago.
    last: Vec<f64>,
    pos: usize,
    n: usize,
    /// Sum of squared seasonal differences and their count.
    sse: f64,
    n_err: usize,
}

impl Fit for SeasonalNaive {
    type Fitted = FittedSeasonalNaive;

    fn fit(&self, y: &[f64]) -> Result<FittedSeasonalNaive> {
        self.validate()?;
        check_series(y)?;
        let m = self.period;
        if y.len() < m {
            return Err(Error::insufficient_data(format!(
                "seasonal naive with period {m} needs at least {m} observations, got {}",
                y.len()
            )));
        }
        let (sse, n_err) = y
            .iter()
            .skip(m)
            .zip(y)
            .fold((0.0, 0), |(s, k), (a, b)| (s + (a - b) * (a - b), k + 1));
        if !sse.is_finite() {
            return Err(overflow());
        }
        Ok(FittedSeasonalNaive {
            period: m,
            last: y[y.len() - m..].to_vec(),
            pos: 0,
            n: y.len(),
            sse,
            n_err,
        })
    }
}

impl FittedSeasonalNaive {
    /// The season length.
    ///
    /// ```
    /// use replicast::forecast::{Fit, SeasonalNaive};
    /// assert_eq!(SeasonalNaive::new(2).fit(&[1.0, 2.0]).unwrap().period(), 2);
    /// ```
    #[must_use]
    pub fn period(&self) -> usize {
        self.period
    }

    /// The structure a restored model must have: `period` values in the ring, a position
    /// inside it, counts that updates cannot overflow.
    pub(crate) fn check_restored(&self) -> Result<()> {
        if self.period == 0 || self.last.len() != self.period || self.pos >= self.period {
            return Err(Error::serialization(format!(
                "seasonal naive needs period >= 1, `last` of `period` values and pos < period, got period {}, {} values, pos {}",
                self.period,
                self.last.len(),
                self.pos
            )));
        }
        check_restored_count("seasonal naive n", self.n)?;
        check_restored_count("seasonal naive n_err", self.n_err)
    }

    /// Standard deviation of the one-step (one-season) error.
    pub(crate) fn sigma(&self) -> f64 {
        if self.n_err == 0 {
            // No seasonal difference seen yet: fall back to the spread of the stored values.
            let mean = self.last.iter().sum::<f64>() / self.last.len() as f64;
            let var =
                self.last.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / self.last.len() as f64;
            return var.sqrt();
        }
        (self.sse / self.n_err as f64).sqrt()
    }
}

/// The sum of squared seasonal differences left the `f64` range: values of extreme magnitude
/// (the model would have no error scale, and its JSON no number to write).
fn overflow() -> Error {
    Error::new(
        crate::ErrorKind::Numerical,
        "seasonal naive: the squared seasonal differences overflow (values of extreme magnitude)",
    )
}

impl Predict for FittedSeasonalNaive {
    fn predict_into(&self, horizon: usize, level: Option<f64>, out: &mut Forecast) -> Result<()> {
        check_request(horizon, level)?;
        let m = self.period;
        let sigma = self.sigma();
        fill_forecast(
            out,
            level,
            (0..horizon).map(|j| {
                let p = self.last[(self.pos + j % m) % m];
                let k = (j / m + 1) as f64;
                (p, sigma * k.sqrt())
            }),
        )
    }

    fn n_obs(&self) -> usize {
        self.n
    }
}

impl Update for FittedSeasonalNaive {
    fn update(&mut self, y: f64) -> Result<()> {
        check_value(y)?;
        let e = y - self.last[self.pos];
        let sse = self.sse + e * e;
        if !sse.is_finite() {
            return Err(overflow());
        }
        self.sse = sse;
        self.n_err += 1;
        self.last[self.pos] = y;
        self.pos = (self.pos + 1) % self.period;
        self.n += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference: hand-computed (definition of the seasonal naive forecast); exact.
    #[test]
    fn repeats_last_season_and_updates() {
        let mut m = SeasonalNaive::new(3)
            .fit(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
            .unwrap();
        assert_eq!(m.predict(4, None).unwrap().point, vec![4.0, 5.0, 6.0, 4.0]);
        m.update(7.0).unwrap();
        assert_eq!(m.predict(3, None).unwrap().point, vec![5.0, 6.0, 7.0]);
        // sigma: differences 3,3,3 then 3 -> 3.
        assert!((m.sigma() - 3.0).abs() < 1e-12);
    }

    #[test]
    fn too_short_is_insufficient() {
        let e = SeasonalNaive::new(5).fit(&[1.0]).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InsufficientData);
    }
}
