//! The bad-input matrix through the C ABI (docs/errors.md).
//!
//! 1. Every case of `testdata/vectors/api/errors.json` that C can express (spec, decide, the
//!    aggregated hot path, state restore, fit / update / predict, model restore) is called the
//!    way C calls it: the status must be the case's kind (never `PANIC`), the message
//!    (`replicast_error_message`) must contain the case's `message_contains`, and a refused
//!    decision or update must leave the state or model byte for byte as it was.
//! 2. The conditions only C has (NULL pointers with non-zero lengths, output buffers too small,
//!    text that is not UTF-8, unknown enum values, a state listed twice) are cases of their own,
//!    written with their statuses and messages to `testdata/vectors/api/errors_c.json` by
//!    `UPDATE_GOLDEN=1 cargo test -p replicast-ffi --test errors_matrix` (the doc's C-only table
//!    is generated from it); otherwise the test fails when that file is stale.

#![allow(clippy::undocumented_unsafe_blocks)]

use std::ffi::{CStr, c_char};
use std::path::PathBuf;
use std::ptr::{null, null_mut};

use serde_json::{Value, json};

use replicast_ffi::*;

mod common;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A call's outcome: the status, the message of its error handle, and `*out_needed` where the
/// call has one.
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    status: replicast_status,
    message: String,
    needed: Option<usize>,
}

impl Outcome {
    fn of(status: replicast_status, err: *mut replicast_error) -> Self {
        let message = if err.is_null() {
            String::new()
        } else {
            let m = unsafe { CStr::from_ptr(replicast_error_message(err)) }
                .to_str()
                .unwrap()
                .to_owned();
            assert_eq!(unsafe { replicast_error_status(err) }, status);
            unsafe { replicast_error_free(err) };
            m
        };
        if status == replicast_status::Ok {
            assert!(err.is_null(), "a success leaves *err_out NULL");
        } else {
            assert!(
                !err.is_null(),
                "a failure ({status:?}) must produce an error handle"
            );
        }
        Self {
            status,
            message,
            needed: None,
        }
    }
}

fn ptr(text: &str) -> *const c_char {
    text.as_ptr().cast()
}

fn float(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        other => other.as_f64().unwrap(),
    }
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(float).collect()
}

fn new_scaler(spec: &str) -> (Outcome, *mut replicast_scaler) {
    let mut out = null_mut();
    let mut err = null_mut();
    let st = unsafe { replicast_scaler_new(ptr(spec), spec.len(), &raw mut out, &raw mut err) };
    (Outcome::of(st, err), out)
}

fn new_state(json: Option<&str>) -> *mut replicast_scaler_state {
    let mut out = null_mut();
    let st = match json {
        Some(j) => unsafe {
            replicast_scaler_state_from_json(ptr(j), j.len(), &raw mut out, null_mut())
        },
        None => unsafe { replicast_scaler_state_new(&raw mut out, null_mut()) },
    };
    assert_eq!(st, replicast_status::Ok);
    out
}

fn state_json(state: *const replicast_scaler_state) -> String {
    common::written_json(|buf, len, needed| unsafe {
        replicast_scaler_state_to_json(state, buf, len, needed, null_mut())
    })
}

fn decide_json(
    scaler: *const replicast_scaler,
    state: *mut replicast_scaler_state,
    input: &str,
) -> Outcome {
    let mut buf = vec![0u8; 1 << 20];
    let mut needed = 0;
    let mut err = null_mut();
    let st = unsafe {
        replicast_scaler_decide_json(
            scaler,
            state,
            ptr(input),
            input.len(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            &raw mut needed,
            &raw mut err,
        )
    };
    Outcome::of(st, err)
}

fn fit(model: &str, y: &[f64]) -> (Outcome, *mut replicast_fitted_model) {
    let mut out = null_mut();
    let mut err = null_mut();
    let st = unsafe {
        replicast_model_fit(
            ptr(model),
            model.len(),
            if y.is_empty() { null() } else { y.as_ptr() },
            y.len(),
            &raw mut out,
            &raw mut err,
        )
    };
    (Outcome::of(st, err), out)
}

fn model_json(model: *const replicast_fitted_model) -> String {
    let mut buf = vec![0u8; 1 << 20];
    let mut needed = 0;
    let st = unsafe {
        replicast_fitted_model_to_json(
            model,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &raw mut needed,
            null_mut(),
        )
    };
    assert_eq!(st, replicast_status::Ok);
    String::from_utf8(buf[..needed - 1].to_vec()).unwrap()
}

/// Runs a shared case through the exports: the outcome and, for a decision or an update, the
/// state or model before and after.
fn run(case: &Value) -> Option<(Outcome, Option<(String, String)>)> {
    let text = |key: &str| case[key].as_str().unwrap().to_owned();
    Some(match case["call"].as_str().unwrap() {
        "spec" => {
            let (outcome, scaler) = new_scaler(&text("spec_json"));
            unsafe { replicast_scaler_free(scaler) };
            (outcome, None)
        }
        call @ ("decide" | "decide_aggregated") => {
            let (outcome, scaler) = new_scaler(&case["spec"].to_string());
            assert_eq!(outcome.status, replicast_status::Ok, "{outcome:?}");
            let state = new_state(case["state_json"].as_str());
            for input in case["before"].as_array().into_iter().flatten() {
                let o = decide_json(scaler, state, &input.to_string());
                assert_eq!(o.status, replicast_status::Ok, "{o:?}");
            }
            let before = state_json(state);
            let outcome = if call == "decide" {
                decide_json(scaler, state, &case["input"].to_string())
            } else {
                let i = &case["input"];
                let input = replicast_aggregated_input {
                    now_ms: i["now_ms"].as_i64().unwrap(),
                    current_replicas: u32::try_from(i["current_replicas"].as_u64().unwrap())
                        .unwrap(),
                    ready_replicas: u32::try_from(i["ready_replicas"].as_u64().unwrap()).unwrap(),
                    ..replicast_aggregated_input::default()
                };
                let values = floats(&case["values"]);
                let mut out = replicast_decision_summary::default();
                let mut err = null_mut();
                let st = unsafe {
                    replicast_scaler_decide_aggregated(
                        scaler,
                        state,
                        &raw const input,
                        if values.is_empty() {
                            null()
                        } else {
                            values.as_ptr()
                        },
                        values.len(),
                        &raw mut out,
                        &raw mut err,
                    )
                };
                Outcome::of(st, err)
            };
            let after = state_json(state);
            unsafe {
                replicast_scaler_state_free(state);
                replicast_scaler_free(scaler);
            }
            (outcome, Some((before, after)))
        }
        "state" => {
            let json = text("state_json");
            let mut out = null_mut();
            let mut err = null_mut();
            let st = unsafe {
                replicast_scaler_state_from_json(ptr(&json), json.len(), &raw mut out, &raw mut err)
            };
            unsafe { replicast_scaler_state_free(out) };
            (Outcome::of(st, err), None)
        }
        "fit" => {
            let (outcome, model) = fit(&case["model"].to_string(), &floats(&case["series"]));
            unsafe { replicast_fitted_model_free(model) };
            (outcome, None)
        }
        call @ ("update" | "predict") => {
            let (outcome, model) = fit(&case["model"].to_string(), &floats(&case["series"]));
            assert_eq!(outcome.status, replicast_status::Ok, "{outcome:?}");
            let before = model_json(model);
            let mut err = null_mut();
            let st = if call == "update" {
                unsafe { replicast_fitted_model_update(model, float(&case["value"]), &raw mut err) }
            } else {
                let horizon = usize::try_from(case["horizon"].as_u64().unwrap()).unwrap();
                let mut point = vec![0.0; horizon.max(1)];
                let mut lower = point.clone();
                let mut upper = point.clone();
                unsafe {
                    replicast_fitted_model_predict(
                        model,
                        horizon,
                        float(&case["level"]),
                        point.as_mut_ptr(),
                        lower.as_mut_ptr(),
                        upper.as_mut_ptr(),
                        point.len(),
                        &raw mut err,
                    )
                }
            };
            let outcome = Outcome::of(st, err);
            let after = model_json(model);
            unsafe { replicast_fitted_model_free(model) };
            (outcome, Some((before, after)))
        }
        "model_json" => {
            let json = text("model_json");
            let mut out = null_mut();
            let mut err = null_mut();
            let st = unsafe {
                replicast_fitted_model_from_json(ptr(&json), json.len(), &raw mut out, &raw mut err)
            };
            unsafe { replicast_fitted_model_free(out) };
            (Outcome::of(st, err), None)
        }
        // not exposed over the C ABI
        _ => return None,
    })
}

#[test]
fn the_shared_matrix_through_the_c_abi() {
    let path = root().join("testdata/vectors/api/errors.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let expected = case
            .get("expected")
            .and_then(|e| e.get("c"))
            .unwrap_or(&case["expected"]);
        let Some((outcome, snapshots)) = run(case) else {
            continue;
        };
        ran += 1;
        assert_ne!(
            outcome.status,
            replicast_status::Panic,
            "{name}: {outcome:?}"
        );
        let kind = expected["kind"].as_str().unwrap();
        let status = if kind == "ok" {
            "ok"
        } else {
            unsafe { CStr::from_ptr(replicast_status_name(outcome.status as u32)) }
                .to_str()
                .unwrap()
        };
        if outcome.status.as_str() != kind || status != kind {
            failures.push(format!("{name}: expected {kind}, got {outcome:?}"));
            continue;
        }
        if kind != "ok" {
            let contains = expected["message_contains"].as_str().unwrap();
            if !outcome.message.contains(contains) {
                failures.push(format!(
                    "{name}: {:?} does not contain {contains:?}",
                    outcome.message
                ));
            }
            if let Some((before, after)) = snapshots
                && before != after
            {
                failures.push(format!(
                    "{name}: the refused call changed the state or model"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(ran >= 80, "only {ran} cases ran");
}

// ---- the C-only conditions

const SPEC: &str = r#"{"min_replicas": 1, "max_replicas": 10, "hpa": {"metrics": [
    {"type": "resource", "resource": "cpu", "target": {"type": "utilization", "average_utilization": 50}}]}}"#;
const INPUT: &str = r#"{"now_ms": 1700000000000, "current_replicas": 2, "metrics": [{"kind": "aggregated", "value": 90.0, "ready_replicas": 2}]}"#;
const NOT_UTF8: &[u8] = b"{\"max_replicas\": 5, \"hpa\": {}, \"x\": \"\xff\xfe\"}";
const MODEL: &str = r#"{"kind": "seasonal_naive", "period": 2}"#;

fn scaler() -> *mut replicast_scaler {
    let (o, s) = new_scaler(SPEC);
    assert_eq!(o.status, replicast_status::Ok);
    s
}

fn model() -> *mut replicast_fitted_model {
    let (o, m) = fit(MODEL, &[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(o.status, replicast_status::Ok);
    m
}

fn agg_input() -> replicast_aggregated_input {
    replicast_aggregated_input {
        now_ms: 1_700_000_000_000,
        current_replicas: 2,
        ready_replicas: 2,
        ..replicast_aggregated_input::default()
    }
}

/// `decide_json` on a fresh state with the given pointers (NULL where asked), checking that a
/// refused call leaves the state as it was.
/// Which pointer argument of `decide_json` to pass as NULL.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Null {
    Nothing,
    Scaler,
    State,
    Buf,
    OutNeeded,
}

fn decide_with(which: Null, input: Option<&[u8]>, buf_len: usize) -> Outcome {
    let s = scaler();
    let st = new_state(None);
    let before = state_json(st);
    let mut buf = vec![0u8; buf_len.max(1)];
    let mut needed = 0usize;
    let mut err = null_mut();
    let (iptr, ilen) = input.map_or((null(), 7), |i| (i.as_ptr().cast(), i.len()));
    let status = unsafe {
        replicast_scaler_decide_json(
            if which == Null::Scaler { null() } else { s },
            if which == Null::State { null_mut() } else { st },
            iptr,
            ilen,
            if which == Null::Buf {
                null_mut()
            } else {
                buf.as_mut_ptr().cast()
            },
            buf_len,
            if which == Null::OutNeeded {
                null_mut()
            } else {
                &raw mut needed
            },
            &raw mut err,
        )
    };
    let mut o = Outcome::of(status, err);
    if status == replicast_status::BufferTooSmall {
        o.needed = Some(needed);
        assert!(
            buf.iter().all(|&b| b == 0),
            "a short buffer is left untouched"
        );
    }
    assert_eq!(
        state_json(st),
        before,
        "a refused call leaves the state as it was"
    );
    unsafe {
        replicast_scaler_state_free(st);
        replicast_scaler_free(s);
    }
    o
}

struct CCase {
    name: &'static str,
    class: &'static str,
    export: &'static str,
    about: &'static str,
    status: replicast_status,
    run: fn() -> Outcome,
}

#[allow(clippy::too_many_lines)] // one table
fn c_cases() -> Vec<CCase> {
    use replicast_status::{
        BufferTooSmall, InvalidConfig, InvalidInput, NullArgument, Serialization,
    };
    vec![
        CCase {
            name: "c/scaler-new/spec-null-with-length",
            class: "null_pointer",
            export: "replicast_scaler_new",
            about: "spec_json NULL with spec_len 10",
            status: NullArgument,
            run: || {
                let mut out = null_mut();
                let mut err = null_mut();
                let st = unsafe { replicast_scaler_new(null(), 10, &raw mut out, &raw mut err) };
                assert!(out.is_null());
                Outcome::of(st, err)
            },
        },
        CCase {
            name: "c/scaler-new/out-null",
            class: "null_pointer",
            export: "replicast_scaler_new",
            about: "out NULL",
            status: NullArgument,
            run: || {
                let mut err = null_mut();
                let st = unsafe {
                    replicast_scaler_new(ptr(SPEC), SPEC.len(), null_mut(), &raw mut err)
                };
                Outcome::of(st, err)
            },
        },
        CCase {
            name: "c/decide-json/scaler-null",
            class: "null_pointer",
            export: "replicast_scaler_decide_json",
            about: "scaler NULL",
            status: NullArgument,
            run: || decide_with(Null::Scaler, Some(INPUT.as_bytes()), 4096),
        },
        CCase {
            name: "c/decide-json/state-null",
            class: "null_pointer",
            export: "replicast_scaler_decide_json",
            about: "state NULL",
            status: NullArgument,
            run: || decide_with(Null::State, Some(INPUT.as_bytes()), 4096),
        },
        CCase {
            name: "c/decide-json/input-null-with-length",
            class: "null_pointer",
            export: "replicast_scaler_decide_json",
            about: "input_json NULL with input_len 7",
            status: NullArgument,
            run: || decide_with(Null::Nothing, None, 4096),
        },
        CCase {
            name: "c/decide-json/buf-null-with-length",
            class: "null_pointer",
            export: "replicast_scaler_decide_json",
            about: "buf NULL with buf_len 4096",
            status: NullArgument,
            run: || decide_with(Null::Buf, Some(INPUT.as_bytes()), 4096),
        },
        CCase {
            name: "c/decide-json/out-needed-null",
            class: "null_pointer",
            export: "replicast_scaler_decide_json",
            about: "out_needed NULL",
            status: NullArgument,
            run: || decide_with(Null::OutNeeded, Some(INPUT.as_bytes()), 4096),
        },
        CCase {
            name: "c/decide-aggregated/values-null-with-length",
            class: "null_pointer",
            export: "replicast_scaler_decide_aggregated",
            about: "values NULL with n_values 1",
            status: NullArgument,
            run: || {
                let s = scaler();
                let st = new_state(None);
                let input = agg_input();
                let mut out = replicast_decision_summary::default();
                let mut err = null_mut();
                let status = unsafe {
                    replicast_scaler_decide_aggregated(
                        s,
                        st,
                        &raw const input,
                        null(),
                        1,
                        &raw mut out,
                        &raw mut err,
                    )
                };
                assert_eq!(state_json(st), state_json(new_state(None)));
                unsafe {
                    replicast_scaler_state_free(st);
                    replicast_scaler_free(s);
                }
                Outcome::of(status, err)
            },
        },
        CCase {
            name: "c/decide-aggregated/input-null",
            class: "null_pointer",
            export: "replicast_scaler_decide_aggregated",
            about: "input NULL",
            status: NullArgument,
            run: || {
                let s = scaler();
                let st = new_state(None);
                let values = [50.0];
                let mut out = replicast_decision_summary::default();
                let mut err = null_mut();
                let status = unsafe {
                    replicast_scaler_decide_aggregated(
                        s,
                        st,
                        null(),
                        values.as_ptr(),
                        1,
                        &raw mut out,
                        &raw mut err,
                    )
                };
                unsafe {
                    replicast_scaler_state_free(st);
                    replicast_scaler_free(s);
                }
                Outcome::of(status, err)
            },
        },
        CCase {
            name: "c/aggregated-batch/state-null",
            class: "null_pointer",
            export: "replicast_scaler_decide_aggregated_batch",
            about: "states[1] NULL",
            status: NullArgument,
            run: || aggregated_batch(true, 2),
        },
        CCase {
            name: "c/model-fit/y-null-with-length",
            class: "null_pointer",
            export: "replicast_model_fit",
            about: "y NULL with n 5",
            status: NullArgument,
            run: || {
                let mut out = null_mut();
                let mut err = null_mut();
                let st = unsafe {
                    replicast_model_fit(
                        ptr(MODEL),
                        MODEL.len(),
                        null(),
                        5,
                        &raw mut out,
                        &raw mut err,
                    )
                };
                assert!(out.is_null());
                Outcome::of(st, err)
            },
        },
        CCase {
            name: "c/update/model-null",
            class: "null_pointer",
            export: "replicast_fitted_model_update",
            about: "model NULL",
            status: NullArgument,
            run: || {
                let mut err = null_mut();
                let st = unsafe { replicast_fitted_model_update(null_mut(), 1.0, &raw mut err) };
                Outcome::of(st, err)
            },
        },
        CCase {
            name: "c/predict/lower-null-with-level",
            class: "null_pointer",
            export: "replicast_fitted_model_predict",
            about: "lower NULL with level 0.9",
            status: NullArgument,
            run: || predict_with(3, 0.9, 3, true),
        },
        CCase {
            name: "c/decide-json/buffer-too-small",
            class: "buffer_length",
            export: "replicast_scaler_decide_json",
            about: "a decision into an 8-byte buffer (the state is not changed: call again with *out_needed bytes)",
            status: BufferTooSmall,
            run: || decide_with(Null::Nothing, Some(INPUT.as_bytes()), 8),
        },
        CCase {
            name: "c/decide-json/query",
            class: "buffer_length",
            export: "replicast_scaler_decide_json",
            about: "the size query: buf NULL, buf_len 0",
            status: BufferTooSmall,
            run: || decide_with(Null::Buf, Some(INPUT.as_bytes()), 0),
        },
        CCase {
            name: "c/state-to-json/buffer-too-small",
            class: "buffer_length",
            export: "replicast_scaler_state_to_json",
            about: "a state into a 4-byte buffer",
            status: BufferTooSmall,
            run: || {
                let st = new_state(None);
                let mut buf = [0u8; 4];
                let mut needed = 0;
                let mut err = null_mut();
                let status = unsafe {
                    replicast_scaler_state_to_json(
                        st,
                        buf.as_mut_ptr().cast(),
                        buf.len(),
                        &raw mut needed,
                        &raw mut err,
                    )
                };
                assert_eq!(buf, [0; 4]);
                assert_eq!(needed, state_json(st).len() + 1);
                unsafe { replicast_scaler_state_free(st) };
                let mut o = Outcome::of(status, err);
                o.needed = Some(needed);
                o
            },
        },
        CCase {
            name: "c/model-to-json/buffer-too-small",
            class: "buffer_length",
            export: "replicast_fitted_model_to_json",
            about: "a model into a 16-byte buffer",
            status: BufferTooSmall,
            run: || {
                let m = model();
                let mut buf = [0u8; 16];
                let mut needed = 0;
                let mut err = null_mut();
                let status = unsafe {
                    replicast_fitted_model_to_json(
                        m,
                        buf.as_mut_ptr().cast(),
                        buf.len(),
                        &raw mut needed,
                        &raw mut err,
                    )
                };
                assert_eq!(needed, model_json(m).len() + 1);
                unsafe { replicast_fitted_model_free(m) };
                let mut o = Outcome::of(status, err);
                o.needed = Some(needed);
                o
            },
        },
        CCase {
            name: "c/predict/out-len-below-horizon",
            class: "buffer_length",
            export: "replicast_fitted_model_predict",
            about: "horizon 5 into arrays of 2",
            status: BufferTooSmall,
            run: || predict_with(5, 0.0, 2, false),
        },
        CCase {
            name: "c/aggregated-batch/n-values-mismatch",
            class: "buffer_length",
            export: "replicast_scaler_decide_aggregated_batch",
            about: "3 values for 2 workloads of 1 metric",
            status: InvalidInput,
            run: || aggregated_batch(false, 3),
        },
        CCase {
            name: "c/decide-batch-json/wrong-length",
            class: "buffer_length",
            export: "replicast_scaler_decide_batch_json",
            about: "one input for two states",
            status: InvalidInput,
            run: || batch_json(false),
        },
        CCase {
            name: "c/decide-batch-json/state-twice",
            class: "null_pointer",
            export: "replicast_scaler_decide_batch_json",
            about: "the same state handle twice",
            status: InvalidInput,
            run: || batch_json(true),
        },
        CCase {
            name: "c/scaler-new/not-utf8",
            class: "not_utf8",
            export: "replicast_scaler_new",
            about: "a spec with the bytes 0xff 0xfe",
            status: InvalidConfig,
            run: || {
                let mut out = null_mut();
                let mut err = null_mut();
                let st = unsafe {
                    replicast_scaler_new(
                        NOT_UTF8.as_ptr().cast(),
                        NOT_UTF8.len(),
                        &raw mut out,
                        &raw mut err,
                    )
                };
                Outcome::of(st, err)
            },
        },
        CCase {
            name: "c/decide-json/not-utf8",
            class: "not_utf8",
            export: "replicast_scaler_decide_json",
            about: "an input with the bytes 0xff 0xfe",
            status: InvalidInput,
            run: || decide_with(Null::Nothing, Some(NOT_UTF8), 4096),
        },
        CCase {
            name: "c/state-from-json/not-utf8",
            class: "not_utf8",
            export: "replicast_scaler_state_from_json",
            about: "a state with the bytes 0xff 0xfe",
            status: Serialization,
            run: || {
                let mut out = null_mut();
                let mut err = null_mut();
                let st = unsafe {
                    replicast_scaler_state_from_json(
                        NOT_UTF8.as_ptr().cast(),
                        NOT_UTF8.len(),
                        &raw mut out,
                        &raw mut err,
                    )
                };
                Outcome::of(st, err)
            },
        },
        CCase {
            name: "c/model-fit/not-utf8",
            class: "not_utf8",
            export: "replicast_model_fit",
            about: "a model spec with the bytes 0xff 0xfe",
            status: InvalidConfig,
            run: || {
                let y = [1.0, 2.0];
                let mut out = null_mut();
                let mut err = null_mut();
                let st = unsafe {
                    replicast_model_fit(
                        NOT_UTF8.as_ptr().cast(),
                        NOT_UTF8.len(),
                        y.as_ptr(),
                        2,
                        &raw mut out,
                        &raw mut err,
                    )
                };
                Outcome::of(st, err)
            },
        },
        CCase {
            name: "c/model-from-json/not-utf8",
            class: "not_utf8",
            export: "replicast_fitted_model_from_json",
            about: "a model with the bytes 0xff 0xfe",
            status: Serialization,
            run: || {
                let mut out = null_mut();
                let mut err = null_mut();
                let st = unsafe {
                    replicast_fitted_model_from_json(
                        NOT_UTF8.as_ptr().cast(),
                        NOT_UTF8.len(),
                        &raw mut out,
                        &raw mut err,
                    )
                };
                Outcome::of(st, err)
            },
        },
        CCase {
            name: "c/decide-aggregated/unknown-health",
            class: "unknown_enum",
            export: "replicast_scaler_decide_aggregated",
            about: "health 7",
            status: InvalidInput,
            run: || {
                let s = scaler();
                let st = new_state(None);
                let input = replicast_aggregated_input {
                    health: 7,
                    ..agg_input()
                };
                let values = [50.0];
                let mut out = replicast_decision_summary::default();
                let mut err = null_mut();
                let status = unsafe {
                    replicast_scaler_decide_aggregated(
                        s,
                        st,
                        &raw const input,
                        values.as_ptr(),
                        1,
                        &raw mut out,
                        &raw mut err,
                    )
                };
                assert_eq!(state_json(st), state_json(new_state(None)));
                unsafe {
                    replicast_scaler_state_free(st);
                    replicast_scaler_free(s);
                }
                Outcome::of(status, err)
            },
        },
    ]
}

fn predict_with(horizon: usize, level: f64, out_len: usize, lower_null: bool) -> Outcome {
    let m = model();
    let mut point = vec![-1.0; out_len];
    let mut lower = vec![-1.0; out_len];
    let mut upper = vec![-1.0; out_len];
    let mut err = null_mut();
    let st = unsafe {
        replicast_fitted_model_predict(
            m,
            horizon,
            level,
            point.as_mut_ptr(),
            if lower_null {
                null_mut()
            } else {
                lower.as_mut_ptr()
            },
            upper.as_mut_ptr(),
            out_len,
            &raw mut err,
        )
    };
    assert!(
        point.iter().all(|&v| v == -1.0),
        "nothing is written on failure"
    );
    unsafe { replicast_fitted_model_free(m) };
    Outcome::of(st, err)
}

fn aggregated_batch(null_state: bool, n_values: usize) -> Outcome {
    let s = scaler();
    let a = new_state(None);
    let b = new_state(None);
    let states = [a, if null_state { null_mut() } else { b }];
    let inputs = [agg_input(), agg_input()];
    let values = vec![50.0; n_values];
    let mut out = [replicast_decision_summary::default(); 2];
    let mut statuses = [0u32; 2];
    let mut err = null_mut();
    let st = unsafe {
        replicast_scaler_decide_aggregated_batch(
            s,
            states.as_ptr(),
            inputs.as_ptr(),
            2,
            values.as_ptr(),
            values.len(),
            out.as_mut_ptr(),
            statuses.as_mut_ptr(),
            null_mut(),
            &raw mut err,
        )
    };
    assert_eq!(state_json(a), state_json(b), "no state changed");
    unsafe {
        replicast_scaler_state_free(a);
        replicast_scaler_state_free(b);
        replicast_scaler_free(s);
    }
    Outcome::of(st, err)
}

fn batch_json(same_twice: bool) -> Outcome {
    let s = scaler();
    let a = new_state(None);
    let b = new_state(None);
    let states = [a, if same_twice { a } else { b }];
    let inputs = if same_twice {
        format!("[{INPUT}, {INPUT}]")
    } else {
        format!("[{INPUT}]")
    };
    let mut buf = vec![0u8; 1 << 16];
    let mut needed = 0;
    let mut err = null_mut();
    let st = unsafe {
        replicast_scaler_decide_batch_json(
            s,
            states.as_ptr(),
            2,
            ptr(&inputs),
            inputs.len(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            &raw mut needed,
            &raw mut err,
        )
    };
    assert_eq!(state_json(a), state_json(b), "no state changed");
    unsafe {
        replicast_scaler_state_free(a);
        replicast_scaler_state_free(b);
        replicast_scaler_free(s);
    }
    Outcome::of(st, err)
}

#[test]
fn the_c_only_conditions_are_current() {
    let mut out = Vec::new();
    for case in c_cases() {
        let o = (case.run)();
        assert_eq!(o.status, case.status, "{}: {o:?}", case.name);
        assert!(!o.message.is_empty(), "{}: no message", case.name);
        let mut expected =
            json!({"status": o.status.as_str(), "code": o.status as u32, "message": o.message});
        if let Some(n) = o.needed {
            expected["needed"] = json!(n);
        }
        out.push(
            json!({"name": case.name, "class": case.class, "export": case.export,
                        "about": case.about, "expected": expected}),
        );
    }
    let doc = json!({
        "about": "The conditions only the C ABI has (NULL pointers, short buffers, text that is not UTF-8, unknown enum values): each case's status and message. Generated by `UPDATE_GOLDEN=1 cargo test -p replicast-ffi --test errors_matrix`, do not edit; docs/errors.md shows them.",
        "cases": out,
    });
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let path = root().join("testdata/vectors/api/errors_c.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{} is stale: run `UPDATE_GOLDEN=1 cargo test -p replicast-ffi --test errors_matrix` and review the diff",
        path.display()
    );
}
