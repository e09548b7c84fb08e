//! Helpers shared by the forecasting test files (`forecast.rs`, `forecast_models.rs`).

use proptest::prelude::*;
use replicast::ErrorKind;
use replicast::forecast::Forecast;

/// The kind of an error the call must return.
pub(crate) fn kind<T: std::fmt::Debug>(r: replicast::Result<T>) -> ErrorKind {
    r.unwrap_err().kind()
}

/// Both forecasts have `h` finite points inside their intervals, and the wide interval
/// contains the narrow one at every step.
pub(crate) fn check_ordered_and_nested(
    narrow: &Forecast,
    wide: &Forecast,
    h: usize,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(narrow.point.len(), h);
    let (n, w) = (
        narrow.intervals.as_ref().unwrap(),
        wide.intervals.as_ref().unwrap(),
    );
    for i in 0..h {
        let p = narrow.point[i];
        prop_assert!(p.is_finite());
        prop_assert!(n.lower[i] <= p && p <= n.upper[i]);
        prop_assert!(w.lower[i] <= n.lower[i] && n.upper[i] <= w.upper[i]);
    }
    Ok(())
}
