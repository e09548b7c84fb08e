//! Forecasting through the public API: reference values, properties, bad input.
//!
//! Reference values: seasonal naive is checked against the definition (the value one period
//! earlier, exact); Holt–Winters against a noiseless seasonal series with a linear trend, which
//! any correctly estimated additive model continues to within 1 % over a season (tolerance of
//! this file).

use proptest::prelude::*;
use replicast::ErrorKind;
use replicast::forecast::{Fit, FittedModel, ModelSpec, Predict, detect_period, evaluate};

fn seasonal(n: usize, period: usize, trend: f64) -> Vec<f64> {
    (0..n)
        .map(|t| {
            100.0
                + trend * t as f64
                + 20.0 * (t as f64 / period as f64 * std::f64::consts::TAU).sin()
        })
        .collect()
}

#[test]
fn seasonal_naive_repeats_the_last_period() {
    let y: Vec<f64> = (0..50).map(f64::from).collect();
    let m = ModelSpec::SeasonalNaive { period: 7 }.fit(&y).unwrap();
    let f = m.predict(10, 0.9).unwrap();
    assert_eq!(
        f.point,
        vec![43.0, 44.0, 45.0, 46.0, 47.0, 48.0, 49.0, 43.0, 44.0, 45.0]
    );
    // residuals y_t − y_{t−7} are all 7: σ = 7, and the interval is 1.645 σ √k wide each side
    let half = f.upper[0] - f.point[0];
    assert!(
        (half - 1.644_853_626_951_472_2 * 7.0).abs() < 1e-9,
        "{half}"
    );
    assert!(((f.upper[7] - f.point[7]) - half * 2f64.sqrt()).abs() < 1e-9);
}

#[test]
fn seasonal_naive_update_equals_a_refit() {
    let y = seasonal(300, 24, 0.1);
    let mut updated = ModelSpec::SeasonalNaive { period: 24 }
        .fit(&y[..200])
        .unwrap();
    for &v in &y[200..] {
        updated.update(v).unwrap();
    }
    let refit = ModelSpec::SeasonalNaive { period: 24 }.fit(&y).unwrap();
    let (a, b) = (
        updated.predict(30, 0.8).unwrap(),
        refit.predict(30, 0.8).unwrap(),
    );
    assert_eq!(a.point, b.point);
    for (x, y) in a.upper.iter().zip(&b.upper) {
        assert!((x - y).abs() < 1e-9);
    }
}

#[test]
fn holt_winters_continues_a_trend_and_a_season() {
    let y = seasonal(24 * 20, 24, 0.5);
    let future = seasonal(24 * 22, 24, 0.5);
    let m = ModelSpec::HoltWinters { period: 24 }.fit(&y).unwrap();
    let f = m.predict(24, 0.9).unwrap();
    for (h, p) in f.point.iter().enumerate() {
        let actual = future[y.len() + h];
        assert!(
            (p - actual).abs() / actual < 0.01,
            "step {h}: {p} vs {actual}"
        );
    }
    let FittedModel::HoltWinters(hw) = m else {
        panic!()
    };
    let p = hw.params();
    assert!(p.alpha > 0.0 && p.alpha < 1.0 && p.beta >= 0.0 && p.gamma >= 0.0);
    assert!((0.8..=1.0).contains(&p.phi));
}

#[test]
fn period_detection_finds_any_period_and_no_period_in_noise() {
    assert_eq!(detect_period(&seasonal(2000, 37, 0.0)), Some(37));
    assert_eq!(detect_period(&seasonal(10_080, 1440, 0.0)), Some(1440));
    // deterministic pseudo-random noise (a 64-bit LCG's high bits)
    let mut x: u64 = 42;
    let noise: Vec<f64> = (0..2000)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) as f64
        })
        .collect();
    assert_eq!(detect_period(&noise), None);
}

#[test]
fn auto_beats_seasonal_naive_on_a_trending_season() {
    let y = seasonal(24 * 30, 24, 0.3);
    let e = evaluate(
        &y,
        3600,
        &ModelSpec::Auto {
            period: None,
            horizon: None,
        },
    )
    .unwrap();
    assert!(e.horizons.iter().all(|h| h.rel_mae < 0.5), "{e:?}");
    assert!(e.refits >= 1 && e.updates > 0);
}

#[test]
fn bad_input_is_rejected() {
    let err = ModelSpec::HoltWinters { period: 4 }
        .fit(&[1.0, f64::NAN, 3.0])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.message()
            .contains("series value 1 must be finite, got NaN"),
        "{err}"
    );
    let err = ModelSpec::HoltWinters { period: 24 }
        .fit(&seasonal(30, 24, 0.0))
        .unwrap_err();
    assert!(
        err.message().contains("needs at least 48 samples, got 30"),
        "{err}"
    );
    let err = ModelSpec::SeasonalNaive { period: 10 }
        .fit(&[1.0; 5])
        .unwrap_err();
    assert!(err.message().contains("needs at least 11 samples"), "{err}");
    let m = ModelSpec::SeasonalNaive { period: 2 }
        .fit(&[1.0, 2.0, 3.0])
        .unwrap();
    let err = m.predict(3, 1.5).unwrap_err();
    assert!(
        err.message().contains("level must be in (0, 1), got 1.5"),
        "{err}"
    );
    let mut m = m;
    let err = m.update(f64::INFINITY).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = evaluate(
        &[1.0; 20],
        60,
        &ModelSpec::Auto {
            period: None,
            horizon: None,
        },
    )
    .unwrap_err();
    assert!(err.message().contains("too short"), "{err}");
}

#[test]
fn fitted_models_round_trip_through_json() {
    let y = seasonal(24 * 10, 24, 0.2);
    for spec in [
        ModelSpec::SeasonalNaive { period: 24 },
        ModelSpec::HoltWinters { period: 24 },
        ModelSpec::Auto {
            period: None,
            horizon: Some(3),
        },
    ] {
        let mut m = spec.fit(&y).unwrap();
        let mut back: FittedModel =
            serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        for v in [101.0, 99.5, 120.0] {
            m.update(v).unwrap();
            back.update(v).unwrap();
        }
        assert_eq!(back.predict(12, 0.9).unwrap(), m.predict(12, 0.9).unwrap());
    }
}

proptest! {
    #[test]
    fn forecasts_are_finite_ordered_and_wider_at_higher_levels(
        y in prop::collection::vec(0.0f64..1e6, 60..300),
        period in 1usize..12,
        horizon in 1usize..40,
        kind in 0usize..3,
    ) {
        let spec = match kind {
            0 => ModelSpec::SeasonalNaive { period },
            1 => ModelSpec::HoltWinters { period },
            _ => ModelSpec::Auto { period: None, horizon: Some(period) },
        };
        let m = spec.fit(&y).unwrap();
        let narrow = m.predict(horizon, 0.5).unwrap();
        let wide = m.predict(horizon, 0.95).unwrap();
        prop_assert_eq!(narrow.point.len(), horizon);
        for i in 0..horizon {
            prop_assert!(narrow.point[i].is_finite() && wide.upper[i].is_finite() && wide.lower[i].is_finite());
            prop_assert!(wide.lower[i] <= narrow.lower[i] && narrow.lower[i] <= narrow.point[i]);
            prop_assert!(narrow.point[i] <= narrow.upper[i] && narrow.upper[i] <= wide.upper[i]);
        }
    }
}
