//! Forecast vectors for the bindings: `testdata/vectors/api/forecast.json` holds, per case, a
//! `ModelSpec`, a series, updates, a request and the Rust core's forecast (or error code). This
//! test regenerates it from the core with `UPDATE_GOLDEN=1 cargo test -p replicast-ffi --test
//! forecast_vectors` and checks it for drift otherwise, and replays every case through the C ABI,
//! which must give exactly the core's numbers. The Go tests replay the same file.

#![allow(clippy::undocumented_unsafe_blocks)]

use std::path::PathBuf;
use std::ptr::null_mut;

use replicast_core::forecast::{Fit, ModelSpec, Predict, Update};
use replicast_ffi::*;
use serde_json::{Value, json};

struct Case {
    name: &'static str,
    spec: &'static str,
    y: Vec<f64>,
    updates: Vec<f64>,
    horizon: usize,
    /// 0 = no interval (the C convention).
    level: f64,
}

fn series(n: u32, f: impl Fn(f64) -> f64) -> Vec<f64> {
    (0..n).map(|t| f(f64::from(t))).collect()
}

fn daily(t: f64) -> f64 {
    let tau = std::f64::consts::TAU;
    100.0 + 0.05 * t + 30.0 * (t * tau / 24.0).sin() + 5.0 * (t * 1.7).cos()
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "seasonal_naive_repeats_the_last_period",
            spec: r#"{"kind": "seasonal_naive", "period": 4}"#,
            y: vec![
                1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0, 20.0, 30.0, 40.0,
            ],
            updates: vec![],
            horizon: 6,
            level: 0.0,
        },
        Case {
            name: "seasonal_naive_with_interval_after_updates",
            spec: r#"{"kind": "seasonal_naive", "period": 24}"#,
            y: series(72, daily),
            updates: vec![101.5, 99.0, 120.25],
            horizon: 30,
            level: 0.9,
        },
        Case {
            name: "naive_persistence",
            spec: r#"{"kind": "seasonal_naive", "period": 1}"#,
            y: vec![3.0, 1.0, 4.0, 1.0, 5.0],
            updates: vec![9.0],
            horizon: 3,
            level: 0.8,
        },
        Case {
            name: "ets_seasonal",
            spec: r#"{"kind": "ets", "period": 24}"#,
            y: series(120, daily),
            updates: vec![130.0, 128.5],
            horizon: 24,
            level: 0.95,
        },
        Case {
            name: "ets_non_seasonal_trend",
            spec: r#"{"kind": "ets"}"#,
            y: series(60, |t| 20.0 + 0.5 * t + (t * 0.9).sin()),
            updates: vec![],
            horizon: 5,
            level: 0.8,
        },
        Case {
            name: "auto_weekly_pattern",
            spec: r#"{"kind": "auto", "step_s": 3600}"#,
            y: series(400, |t| 10.0 + t % 7.0),
            updates: vec![12.0, 13.0],
            horizon: 14,
            level: 0.9,
        },
        Case {
            name: "error_invalid_config_period_0",
            spec: r#"{"kind": "seasonal_naive", "period": 0}"#,
            y: vec![1.0, 2.0],
            updates: vec![],
            horizon: 1,
            level: 0.0,
        },
        Case {
            name: "error_invalid_config_unknown_kind",
            spec: r#"{"kind": "prophet"}"#,
            y: vec![1.0, 2.0],
            updates: vec![],
            horizon: 1,
            level: 0.0,
        },
        Case {
            name: "error_insufficient_data",
            spec: r#"{"kind": "seasonal_naive", "period": 24}"#,
            y: vec![1.0; 10],
            updates: vec![],
            horizon: 1,
            level: 0.0,
        },
        Case {
            name: "error_invalid_input_empty_series",
            spec: r#"{"kind": "ets"}"#,
            y: vec![],
            updates: vec![],
            horizon: 1,
            level: 0.0,
        },
    ]
}

/// The core's outcome: `{"forecast": {...}, "n_obs": N}` or `{"error": code}`.
fn core_outcome(c: &Case) -> Value {
    // A spec that does not parse is INVALID_CONFIG (2), as over the C ABI.
    let Ok(spec) = serde_json::from_str::<ModelSpec>(c.spec) else {
        return json!({"error": 2});
    };
    let result = (|| {
        spec.validate()?;
        let mut m = spec.fit(&c.y)?;
        for &v in &c.updates {
            m.update(v)?;
        }
        let level = (c.level != 0.0).then_some(c.level);
        let fc = m.predict(c.horizon, level)?;
        Ok::<_, replicast_core::Error>((fc, m.n_obs()))
    })();
    match result {
        Ok((fc, n_obs)) => json!({"forecast": fc, "n_obs": n_obs}),
        Err(e) => json!({"error": e.kind() as u32}),
    }
}

/// The same through the C ABI.
fn abi_outcome(c: &Case) -> Value {
    let mut m = null_mut();
    let st = unsafe {
        replicast_model_fit(
            c.spec.as_ptr().cast(),
            c.spec.len(),
            c.y.as_ptr(),
            c.y.len(),
            &raw mut m,
            null_mut(),
        )
    };
    if st != replicast_status::Ok {
        return json!({"error": st as u32});
    }
    let outcome = (|| {
        for &v in &c.updates {
            let st = unsafe { replicast_fitted_model_update(m, v, null_mut()) };
            if st != replicast_status::Ok {
                return json!({"error": st as u32});
            }
        }
        let h = c.horizon;
        let (mut p, mut lo, mut hi) = (vec![0.0; h], vec![0.0; h], vec![0.0; h]);
        let st = unsafe {
            replicast_fitted_model_predict(
                m,
                h,
                c.level,
                p.as_mut_ptr(),
                lo.as_mut_ptr(),
                hi.as_mut_ptr(),
                h,
                null_mut(),
            )
        };
        if st != replicast_status::Ok {
            return json!({"error": st as u32});
        }
        let mut n_obs = 0usize;
        assert_eq!(
            unsafe { replicast_fitted_model_n_obs(m, &raw mut n_obs, null_mut()) },
            replicast_status::Ok
        );
        let intervals =
            (c.level != 0.0).then(|| json!({"level": c.level, "lower": lo, "upper": hi}));
        json!({"forecast": {"point": p, "intervals": intervals}, "n_obs": n_obs})
    })();
    unsafe { replicast_fitted_model_free(m) };
    outcome
}

#[test]
fn forecast_vectors_match_the_core_and_the_committed_file() {
    let mut records = Vec::new();
    for c in cases() {
        let want = core_outcome(&c);
        assert_eq!(abi_outcome(&c), want, "{}", c.name);
        let mut rec = json!({
            "name": c.name,
            "spec": serde_json::from_str::<Value>(c.spec).unwrap(),
            "y": c.y,
            "updates": c.updates,
            "horizon": c.horizon,
            "level": c.level,
        });
        for (k, v) in want.as_object().unwrap() {
            rec[k] = v.clone();
        }
        records.push(rec);
    }
    let doc = json!({
        "about": "forecast vectors: the Rust core's forecasts (or error codes) for model specs, series, updates and requests (level 0 = no interval); generated by `UPDATE_GOLDEN=1 cargo test -p replicast-ffi --test forecast_vectors`, do not edit",
        "vectors": records,
    });
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors/api/forecast.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{} is stale: run `UPDATE_GOLDEN=1 cargo test -p replicast-ffi --test forecast_vectors` and review the diff",
        path.display()
    );
}
