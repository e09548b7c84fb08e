//! Inputs the fuzz targets (`fuzz/`, docs/fuzzing.md) found panicking, each through the calls
//! its target made: every one must now give a clear error (or work), never a panic. The inputs
//! are committed under `testdata/fuzz/<target>/` and in the target's corpus.

use replicast::ErrorKind;
use replicast::forecast::{FittedModel, Predict, Update};
use replicast::sim::Trace;

/// `trace_read`: timestamps near ±2⁶² s made the step (and, in a replay, the millisecond
/// instants) overflow `i64`: `Trace::new` refuses timestamps beyond ±10¹⁵ s.
#[test]
fn trace_with_huge_timestamps_is_refused() {
    let text = include_str!("../../testdata/fuzz/trace_read/huge-timestamps.csv");
    let err = Trace::from_csv(text).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("row 1"), "{err}");
    let err = Trace::new(vec![i64::MIN, 0], vec![1.0, 1.0]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    // the bound itself is accepted
    let t = Trace::new(vec![-1_000_000_000_000_000, 0], vec![1.0, 1.0]).unwrap();
    assert_eq!(t.step_s(), 1_000_000_000_000_000);
}

/// `state_restore`: fitted models whose ring buffer and position disagree with the period.
/// `FittedModel::from_json` caught the panic of a trial forecast (which a `panic = "abort"`
/// build cannot) and did not try `update`, which indexed outside the ring; it now checks the
/// structure.
#[test]
fn inconsistent_seasonal_naive_is_refused() {
    for text in [
        include_str!("../../testdata/fuzz/state_restore/seasonal-naive-short-ring.json"),
        include_str!("../../testdata/fuzz/state_restore/seasonal-naive-pos-outside-ring.json"),
    ] {
        let err = FittedModel::from_json(text).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Serialization, "{text}");
        assert!(err.to_string().contains("pos < period"), "{err}");
    }
    // the consistent model loads, forecasts and updates
    let mut m = FittedModel::from_json(
        r#"{"kind":"seasonal_naive","period":2,"last":[1.0,2.0],"pos":1,"n":2,"sse":0.0,"n_err":0}"#,
    )
    .unwrap();
    m.update(3.0).unwrap();
    assert_eq!(m.predict(2, None).unwrap().point, vec![1.0, 3.0]);
}

/// `c_abi`: a seasonal naive fitted to `[2.6e251, 0, 0, 40]` then updated with `3.0e180`: the
/// squared error overflowed, the model kept `sse = inf` and wrote it as `null`, so its own JSON
/// (and a scaler state holding it) no longer restored. Fits and updates whose error sums would
/// overflow are now refused (`Numerical`), the model unchanged.
#[test]
fn error_sums_that_overflow_are_refused() {
    use replicast::forecast::{Ets, Fit, ModelSpec, SeasonalNaive};
    let y = [2.602_358_493_301_596_3e251, 0.0, 0.0, 40.000_007_661_059_5];
    let mut m = ModelSpec::SeasonalNaive(SeasonalNaive::new(4))
        .fit(&y)
        .unwrap();
    let before = m.clone();
    let err = m.update(3.031_786_768_962_426_4e180).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Numerical, "{err}");
    assert_eq!(m, before, "a refused update leaves the model unchanged");
    let json = serde_json::to_string(&m).unwrap();
    assert_eq!(FittedModel::from_json(&json).unwrap(), m);

    // the same at fit time: one-season differences whose squares overflow
    let err = SeasonalNaive::new(1)
        .fit(&[1e200, -1e200, 1e200])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Numerical, "{err}");

    // ETS: an update whose squared error overflows leaves the state as it was
    let y: Vec<f64> = (0..48).map(|t| 10.0 + f64::from(t % 12)).collect();
    let mut ets = Ets::default().fit(&y).unwrap();
    let before = ets.clone();
    assert_eq!(
        ets.update(1.7e308).unwrap_err().kind(),
        ErrorKind::Numerical
    );
    assert_eq!(ets, before);
    ets.update(12.0).unwrap();
}
