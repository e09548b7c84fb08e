//! Public-API tests of the regression and multi-seasonal models (`replicast::forecast::Regression`,
//! `MultiSeasonal`) and of their place among `Auto`'s candidates.
//!
//! Tolerances: the least-squares reference is numpy 2.4 `np.linalg.lstsq` (values pasted below),
//! checked to 1e-8 relative; the hand-computed cases are exact up to 1e-9; properties are exact.

use proptest::prelude::*;
use replicast::ErrorKind;
use replicast::forecast::{
    Auto, Candidate, Fit, FittedModel, FittedMultiSeasonal, ModelSpec, MultiSeasonal, Predict,
    Regression, Update,
};

mod common;
use common::{check_ordered_and_nested, kind};

/// `y[t] = 10 + 3 sin(2πt/8) + ((37t) mod 11)/2`, the series of the numpy reference.
fn reference_series() -> Vec<f64> {
    (0..60u32)
        .map(|t| {
            10.0 + 3.0 * (std::f64::consts::TAU * f64::from(t) / 8.0).sin()
                + f64::from((t * 37) % 11) / 2.0
        })
        .collect()
}

#[test]
fn ols_matches_numpy_lstsq() {
    // Reference (numpy 2.4.6), rows t = 2..60, columns [y[t-1], y[t-2], sin, cos, 1] with
    // angle 2π·((t/8) mod 1):
    //   b, *_ = np.linalg.lstsq(X, y[2:], rcond=None)
    //   b   = [-0.5825573285700802, -0.4352603123746688, 4.278909825208524,
    //          -2.5066060163477326, 25.191956161969458]
    //   SSE = 96.24333039546336
    // step_s = 10800 makes the daily cycle 8 steps (the weekly one, 56 steps, is not seen twice).
    let y = reference_series();
    let spec = Regression {
        step_s: 10_800,
        lags: vec![1, 2],
        periods: Some(vec![]),
        fourier: 1,
        ridge: 0.0,
        difference: false,
    };
    let m = spec.fit(&y).unwrap();
    let (lags, coef) = m.lags();
    assert_eq!(lags, &[1, 2]);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-8 * b.abs().max(1.0);
    assert!(close(coef[0], -0.582_557_328_570_080_2), "{coef:?}");
    assert!(close(coef[1], -0.435_260_312_374_668_8), "{coef:?}");
    assert!(close(m.intercept(), 25.191_956_161_969_458));
    // One-step forecast = intercept + b·x at t = 60 (angle 2π·0.5: sin 0, cos -1).
    let want =
        25.191_956_161_969_458 - 0.582_557_328_570_080_2 * y[59] - 0.435_260_312_374_668_8 * y[58]
            + 4.278_909_825_208_524 * (std::f64::consts::TAU * 0.5).sin()
            - 2.506_606_016_347_732_6 * (std::f64::consts::TAU * 0.5).cos();
    let fc = m.predict(1, 0.95).unwrap();
    assert!(close(fc.point[0], want), "{} vs {want}", fc.point[0]);
    // Interval half-width = z · sqrt(SSE / (58 - 4 - 1)) at h = 1.
    let sd = (96.243_330_395_463_36_f64 / 53.0).sqrt();
    let iv = fc.intervals.unwrap();
    assert!(close(iv.upper[0] - fc.point[0], 1.959_963_984_540_054 * sd));
    // A small ridge barely moves the solution; a large one shrinks the lag coefficients.
    let ridged = Regression {
        ridge: 1e-8,
        ..spec.clone()
    }
    .fit(&y)
    .unwrap();
    assert!((ridged.lags().1[0] - coef[0]).abs() < 1e-5);
    let heavy = Regression {
        ridge: 10.0,
        ..spec
    }
    .fit(&y)
    .unwrap();
    assert!(heavy.lags().1[0].abs() < coef[0].abs() / 2.0);
}

#[test]
fn recursive_forecast_of_a_noiseless_ar1() {
    // y[t] = 2 + 0.5 y[t-1]: the fit recovers it and the forecast follows the recursion.
    let mut y = vec![10.0];
    for _ in 0..99 {
        let last = *y.last().unwrap();
        y.push(2.0 + 0.5 * last + if y.len() % 2 == 0 { 1e-3 } else { -1e-3 });
    }
    let m = Regression {
        lags: vec![1],
        periods: Some(vec![]),
        fourier: 0,
        ridge: 0.0,
        difference: false,
        ..Regression::default()
    }
    .fit(&y)
    .unwrap();
    let fc = m.predict(3, None).unwrap();
    let mut v = y[99];
    for p in &fc.point {
        v = 2.0 + 0.5 * v;
        assert!((p - v).abs() < 1e-2, "{p} vs {v}");
    }
}

#[test]
fn anchored_form_follows_a_level_shift_and_nests_seasonal_naive() {
    // A period-12 pattern whose level jumps from 10 to 60 two thirds of the way through.
    let f = |t: usize| {
        [
            0.0, 1.0, 3.0, 6.0, 3.0, 1.0, 0.0, -1.0, -3.0, -6.0, -3.0, -1.0,
        ][t % 12]
            + if t < 400 { 10.0 } else { 60.0 }
    };
    let y: Vec<f64> = (0..600).map(f).collect();
    let spec = Regression {
        lags: vec![1],
        periods: Some(vec![12]),
        fourier: 0,
        ..Regression::default()
    };
    let m = spec.fit(&y).unwrap();
    // Level-form coefficients sum to 1; the forecast stays at the new level, near seasonal naive.
    let (_, coef) = m.lags();
    assert!((coef.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{coef:?}");
    assert_eq!(m.intercept(), 0.0);
    let mae = |m: &replicast::forecast::FittedRegression| {
        let fc = m.predict(24, None).unwrap();
        fc.point
            .iter()
            .enumerate()
            .map(|(j, p)| (p - f(600 + j)).abs())
            .sum::<f64>()
            / 24.0
    };
    // Not exact: the 13 rows spanning the jump are least-squares outliers that tilt the
    // coefficients a little (measured MAE 1.33 against a jump of 50).
    assert!(mae(&m) < 2.0, "{}", mae(&m));
}

#[test]
fn bad_inputs_are_named_errors() {
    let specs = [
        ModelSpec::Regression(Regression::default()),
        ModelSpec::MultiSeasonal(MultiSeasonal {
            periods: Some(vec![4]),
            ..MultiSeasonal::default()
        }),
    ];
    for spec in &specs {
        assert_eq!(kind(spec.fit(&[])), ErrorKind::InvalidInput);
        let e = spec.fit(&[1.0, 2.0, f64::NAN, 3.0]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.message().contains("y[2]"), "{e}");
        assert_eq!(
            kind(spec.fit(&[1.0, 2.0, 3.0])),
            ErrorKind::InsufficientData
        );
    }
    let e = Regression {
        periods: Some(vec![24]),
        ..Regression::default()
    }
    .fit(&[1.0; 50])
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InsufficientData);
    assert!(e.message().contains("needs at least"), "{e}");
    let e = MultiSeasonal {
        periods: Some(vec![24, 168]),
        ..MultiSeasonal::default()
    }
    .fit(&[1.0; 300])
    .unwrap_err();
    assert!(e.message().contains("two cycles of period 168"), "{e}");
    // No detectable period.
    let e = MultiSeasonal::default().fit(&[5.0; 100]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InsufficientData);
    assert!(e.message().contains("no period"), "{e}");
    // Invalid configs.
    for json in [
        r#"{"kind": "regression", "step_s": 0}"#,
        r#"{"kind": "regression", "lags": []}"#,
        r#"{"kind": "regression", "lags": [0]}"#,
        r#"{"kind": "regression", "ridge": -1}"#,
        r#"{"kind": "regression", "periods": [1]}"#,
        r#"{"kind": "regression", "fourier": 11}"#,
        r#"{"kind": "multi_seasonal", "step_s": 0}"#,
        r#"{"kind": "multi_seasonal", "periods": []}"#,
        r#"{"kind": "multi_seasonal", "periods": [1]}"#,
        r#"{"kind": "multi_seasonal", "iterations": 0}"#,
        r#"{"kind": "multi_seasonal", "smooth": 0.5}"#,
        r#"{"kind": "multi_seasonal", "max_evals": 1}"#,
    ] {
        let spec: ModelSpec = serde_json::from_str(json).unwrap();
        let e = spec.validate().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{json}");
        assert_eq!(kind(spec.fit(&[1.0; 500])), ErrorKind::InvalidConfig);
    }
    assert!(serde_json::from_str::<ModelSpec>(r#"{"kind": "regression", "lag": [1]}"#).is_err());
    assert!(
        serde_json::from_str::<ModelSpec>(r#"{"kind": "multi_seasonal", "bogus": 1}"#).is_err()
    );
    // Bad requests and updates (the model is unchanged after a refused update).
    let y: Vec<f64> = (0..200).map(|t| f64::from(t % 4)).collect();
    for spec in &specs {
        let mut m = spec.fit(&y).unwrap();
        assert_eq!(kind(m.predict(0, None)), ErrorKind::InvalidInput);
        assert_eq!(kind(m.predict(1, 1.0)), ErrorKind::InvalidInput);
        let before = m.clone();
        assert_eq!(kind(m.update(f64::INFINITY)), ErrorKind::InvalidInput);
        assert_eq!(m, before);
    }
}

#[test]
fn inconsistent_deserialised_models_do_not_panic() {
    // Serde accepts shapes the fit never produces (hand-edited persisted state): predictions may
    // be meaningless, but no call panics.
    for json in [
        r#"{"kind":"regression","lags":[1,2,30],"cycles":[],"coef":[0.5],"intercept":1.0,"buf":[],"pos":7,"n":10,"sse":1.0,"n_err":0,"dof":0}"#,
        r#"{"kind":"regression","lags":[],"cycles":[{"period":0.0,"harmonics":3}],"coef":[],"intercept":1.0,"buf":[1.0],"pos":9,"n":10,"sse":1.0,"n_err":3,"dof":1}"#,
    ] {
        let mut m: FittedModel = serde_json::from_str(json).unwrap();
        let _ = m.predict(20, 0.9);
        let _ = m.update(1.0);
        let _ = m.predict(3, None);
    }
    let y: Vec<f64> = (0..100).map(|t| f64::from(t % 10)).collect();
    let fitted = MultiSeasonal {
        periods: Some(vec![10]),
        ..MultiSeasonal::default()
    }
    .fit(&y)
    .unwrap();
    let mut v = serde_json::to_value(&fitted).unwrap();
    v["profiles"] = serde_json::json!([[1.0, 2.0]]);
    v["periods"] = serde_json::json!([0]);
    let mut m: FittedMultiSeasonal = serde_json::from_value(v).unwrap();
    let _ = m.predict(20, 0.9);
    let _ = m.update(1.0);
}

#[test]
fn multi_seasonal_recovers_daily_and_weekly_shape() {
    // Hourly data, 4 weeks: a daily shape, weekends at 60 %; forecast one week ahead.
    let f = |t: usize| {
        let d = 100.0 + 50.0 * (std::f64::consts::TAU * (t % 24) as f64 / 24.0).sin();
        if (t / 24) % 7 >= 5 { 0.6 * d } else { d }
    };
    let y: Vec<f64> = (0..4 * 168).map(f).collect();
    let m = MultiSeasonal {
        step_s: 3600,
        periods: Some(vec![24, 168]),
        smooth: 0.0,
        ..MultiSeasonal::default()
    }
    .fit(&y)
    .unwrap();
    let fc = m.predict(168, 0.9).unwrap();
    let mae = fc
        .point
        .iter()
        .enumerate()
        .map(|(j, p)| (p - f(y.len() + j)).abs())
        .sum::<f64>()
        / 168.0;
    assert!(mae < 2.0, "mae {mae}");
}

#[test]
fn weekly_and_daily_profiles_at_one_minute_serialise_under_one_mib() {
    let week = 7 * 1440;
    let y: Vec<f64> = (0..2 * week)
        .map(|t| {
            let d = 100.0 + 30.0 * (f64::from(t % 1440) / 1440.0 * std::f64::consts::TAU).sin();
            if (t / 1440) % 7 >= 5 { 0.7 * d } else { d }
        })
        .collect();
    let fitted = ModelSpec::MultiSeasonal(MultiSeasonal {
        periods: Some(vec![1440, week as usize]),
        max_evals: 20,
        ..MultiSeasonal::default()
    })
    .fit(&y)
    .unwrap();
    let json = serde_json::to_string(&fitted).unwrap();
    // Measured: about 230 KB.
    assert!(json.len() < 512 * 1024, "{} bytes", json.len());
    let back: FittedModel = serde_json::from_str(&json).unwrap();
    assert_eq!(back, fitted);
    // The regression with a weekly lag keeps one week of values.
    let reg = ModelSpec::Regression(Regression {
        periods: Some(vec![week as usize]),
        ..Regression::default()
    })
    .fit(&y)
    .unwrap();
    let json = serde_json::to_string(&reg).unwrap();
    assert!(json.len() < 512 * 1024, "{} bytes", json.len());
    assert_eq!(serde_json::from_str::<FittedModel>(&json).unwrap(), reg);
}

#[test]
fn auto_tries_both_on_long_histories_only() {
    let day = |t: usize| {
        100.0
            + 40.0 * (std::f64::consts::TAU * (t % 288) as f64 / 288.0).sin()
            + ((t * 7919) % 13) as f64
    };
    // Five-minute steps, 4 days: the daily period (288) is detected.
    let y: Vec<f64> = (0..4 * 288).map(day).collect();
    let m = Auto {
        step_s: 300,
        ..Auto::default()
    }
    .fit(&y)
    .unwrap();
    let tried: Vec<Candidate> = m.losses().0.iter().map(|(c, _)| *c).collect();
    assert!(tried.contains(&Candidate::Regression), "{tried:?}");
    // one period: the seasonal ETS covers it, the multi-seasonal model needs two
    assert!(!tried.contains(&Candidate::MultiSeasonal), "{tried:?}");
    let two = Auto {
        step_s: 300,
        periods: Some(vec![288, 48]),
        ..Auto::default()
    }
    .fit(&y)
    .unwrap();
    let tried_two: Vec<Candidate> = two.losses().0.iter().map(|(c, _)| *c).collect();
    assert!(
        tried_two.contains(&Candidate::MultiSeasonal),
        "{tried_two:?}"
    );
    // The budget holds up to Nelder–Mead finishing its last iteration (measured: 301 of 300; the
    // overshoot is in the optimiser's stopping rule, not in the candidates added here).
    assert!(m.evals() <= Auto::default().max_evals + 4, "{}", m.evals());
    let fc = m.predict(5, 0.9).unwrap();
    assert!(fc.point.iter().all(|p| p.is_finite()));
    // Short history: neither.
    let m = Auto {
        step_s: 300,
        ..Auto::default()
    }
    .fit(&y[..200])
    .unwrap();
    let tried: Vec<Candidate> = m.losses().0.iter().map(|(c, _)| *c).collect();
    assert!(!tried.contains(&Candidate::Regression) && !tried.contains(&Candidate::MultiSeasonal));
}

fn specs() -> [ModelSpec; 4] {
    [
        ModelSpec::Regression(Regression {
            periods: Some(vec![]),
            ..Regression::default()
        }),
        ModelSpec::Regression(Regression {
            step_s: 10_800,
            periods: Some(vec![5]),
            ..Regression::default()
        }),
        ModelSpec::MultiSeasonal(MultiSeasonal {
            periods: Some(vec![4]),
            ..MultiSeasonal::default()
        }),
        ModelSpec::MultiSeasonal(MultiSeasonal {
            periods: Some(vec![3, 8]),
            ..MultiSeasonal::default()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn forecasts_are_finite_ordered_and_nested(
        y in prop::collection::vec(-1e3..1e3f64, 16..200),
        h in 1usize..30,
        which in 0usize..4,
    ) {
        let spec = &specs()[which];
        let fitted = match spec.fit(&y) {
            Ok(f) => f,
            Err(e) => {
                prop_assert!(matches!(e.kind(), ErrorKind::InsufficientData | ErrorKind::NotConverged | ErrorKind::Numerical), "{e}");
                return Ok(());
            }
        };
        if let (Ok(narrow), Ok(wide)) = (fitted.predict(h, 0.5), fitted.predict(h, 0.95)) {
            prop_assert_eq!(&narrow.point, &wide.point);
            check_ordered_and_nested(&narrow, &wide, h)?;
        }
    }

    #[test]
    fn updates_count_and_never_panic(
        y in prop::collection::vec(-1e3..1e3f64, 16..200),
        extra in prop::collection::vec(prop::num::f64::ANY, 1..40),
    ) {
        for spec in specs() {
            if let Ok(mut m) = spec.fit(&y) {
                let n = m.n_obs();
                let ok = extra.iter().filter(|&&v| m.update(v).is_ok()).count();
                prop_assert_eq!(m.n_obs(), n + ok);
                if let Ok(fc) = m.predict(5, 0.9) {
                    prop_assert!(fc.point.iter().all(|p| p.is_finite()));
                }
            }
        }
    }

    #[test]
    fn no_panic_on_any_input(y in prop::collection::vec(prop::num::f64::ANY, 0..80)) {
        for spec in specs() {
            let _ = spec.fit(&y);
        }
        let _ = Regression::default().fit(&y);
        let _ = MultiSeasonal::default().fit(&y);
    }
}
