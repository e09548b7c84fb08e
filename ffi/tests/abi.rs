//! Every export, called the way C would: NULLs, short buffers, unknown enum values, bad JSON,
//! a panic inside the boundary, and the happy paths.

#![allow(clippy::undocumented_unsafe_blocks)]

use std::ffi::CStr;
use std::ptr::{null, null_mut};

use replicast_ffi::*;

mod common;

const SPEC: &str = r#"{"min_replicas": 1, "max_replicas": 10, "hpa": {"metrics": [
    {"type": "resource", "resource": "cpu", "target": {"type": "utilization", "average_utilization": 50}}]}}"#;
const NOW: i64 = 1_700_000_000_000;

fn input_json(now_ms: i64, value: f64) -> String {
    format!(
        r#"{{"now_ms": {now_ms}, "current_replicas": 2, "metrics": [{{"kind": "aggregated", "value": {value}, "ready_replicas": 2}}]}}"#
    )
}

/// Takes an error handle: its status and message; frees it.
fn take(err: *mut replicast_error) -> (replicast_status, String) {
    assert!(!err.is_null(), "a failure must produce an error handle");
    let status = unsafe { replicast_error_status(err) };
    let message = unsafe { CStr::from_ptr(replicast_error_message(err)) }
        .to_str()
        .unwrap()
        .to_owned();
    unsafe { replicast_error_free(err) };
    (status, message)
}

fn scaler() -> *mut replicast_scaler {
    let mut s = null_mut();
    let st =
        unsafe { replicast_scaler_new(SPEC.as_ptr().cast(), SPEC.len(), &raw mut s, null_mut()) };
    assert_eq!(st, replicast_status::Ok);
    s
}

fn state() -> *mut replicast_scaler_state {
    let mut s = null_mut();
    assert_eq!(
        unsafe { replicast_scaler_state_new(&raw mut s, null_mut()) },
        replicast_status::Ok
    );
    s
}

fn state_json(state: *const replicast_scaler_state) -> String {
    common::written_json(|buf, len, needed| unsafe {
        replicast_scaler_state_to_json(state, buf, len, needed, null_mut())
    })
}

/// `decide_json` with a buffer of `cap` bytes; the status, `out_needed` and the text.
fn decide_json(
    scaler: *const replicast_scaler,
    state: *mut replicast_scaler_state,
    input: &str,
    cap: usize,
) -> (replicast_status, usize, String, *mut replicast_error) {
    let mut buf = vec![0u8; cap];
    let mut needed = 0usize;
    let mut err = null_mut();
    let st = unsafe {
        replicast_scaler_decide_json(
            scaler,
            state,
            input.as_ptr().cast(),
            input.len(),
            if cap == 0 {
                null_mut()
            } else {
                buf.as_mut_ptr().cast()
            },
            cap,
            &raw mut needed,
            &raw mut err,
        )
    };
    let text = if st == replicast_status::Ok {
        CStr::from_bytes_until_nul(&buf)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    } else {
        String::new()
    };
    (st, needed, text, err)
}

#[test]
fn version_and_abi_marker() {
    let v = unsafe { CStr::from_ptr(replicast_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    replicast_abi_v1();
    assert_eq!(REPLICAST_ABI_VERSION, 1);
}

#[test]
fn status_names_and_unknown_values() {
    let name = |n| {
        unsafe { CStr::from_ptr(replicast_status_name(n)) }
            .to_str()
            .unwrap()
    };
    assert_eq!(name(0), "ok");
    assert_eq!(name(2), "invalid_config");
    assert_eq!(name(101), "buffer_too_small");
    assert_eq!(name(7), "unknown");
    assert_eq!(name(u32::MAX), "unknown");
}

#[test]
fn error_accessors_accept_null() {
    assert_eq!(
        unsafe { replicast_error_status(null()) },
        replicast_status::NullArgument
    );
    assert_eq!(
        unsafe { CStr::from_ptr(replicast_error_message(null())) }.to_bytes(),
        b""
    );
    unsafe { replicast_error_free(null_mut()) };
    unsafe { replicast_scaler_free(null_mut()) };
    unsafe { replicast_scaler_state_free(null_mut()) };
}

#[test]
fn scaler_new_null_bad_json_and_invalid_spec() {
    let mut s = null_mut();
    let mut err = null_mut();
    // out NULL
    let st =
        unsafe { replicast_scaler_new(SPEC.as_ptr().cast(), SPEC.len(), null_mut(), &raw mut err) };
    assert_eq!(st, replicast_status::NullArgument);
    assert_eq!(
        take(err),
        (
            replicast_status::NullArgument,
            "out must not be NULL".to_owned()
        )
    );
    // spec NULL with a length
    let st = unsafe { replicast_scaler_new(null(), 3, &raw mut s, &raw mut err) };
    assert_eq!(st, replicast_status::NullArgument);
    assert!(take(err).1.contains("spec_json"));
    // empty spec (NULL, 0) is a config error, not a NULL one
    let st = unsafe { replicast_scaler_new(null(), 0, &raw mut s, &raw mut err) };
    assert_eq!(st, replicast_status::InvalidConfig);
    take(err);
    // not JSON
    let bad = "{not json";
    let st =
        unsafe { replicast_scaler_new(bad.as_ptr().cast(), bad.len(), &raw mut s, &raw mut err) };
    assert_eq!(st, replicast_status::InvalidConfig);
    take(err);
    // not UTF-8
    let bytes = [b'{', 0xff, b'}'];
    let st = unsafe { replicast_scaler_new(bytes.as_ptr().cast(), 3, &raw mut s, &raw mut err) };
    assert_eq!(st, replicast_status::InvalidConfig);
    assert!(take(err).1.contains("UTF-8"));
    // invalid value, named
    let spec = r#"{"min_replicas": 5, "max_replicas": 2}"#;
    let st =
        unsafe { replicast_scaler_new(spec.as_ptr().cast(), spec.len(), &raw mut s, &raw mut err) };
    assert_eq!(st, replicast_status::InvalidConfig);
    let (_, message) = take(err);
    assert!(message.contains("min_replicas"), "{message}");
    assert!(s.is_null(), "outputs are written only on success");
    // err_out NULL is fine
    let st =
        unsafe { replicast_scaler_new(spec.as_ptr().cast(), spec.len(), &raw mut s, null_mut()) };
    assert_eq!(st, replicast_status::InvalidConfig);
}

#[test]
fn success_clears_err_out() {
    let mut err: *mut replicast_error = std::ptr::dangling_mut(); // garbage a C caller might leave
    let mut s = null_mut();
    let st =
        unsafe { replicast_scaler_new(SPEC.as_ptr().cast(), SPEC.len(), &raw mut s, &raw mut err) };
    assert_eq!(st, replicast_status::Ok);
    assert!(err.is_null());
    unsafe { replicast_scaler_free(s) };
}

#[test]
fn metric_count() {
    let s = scaler();
    let mut n = 99usize;
    assert_eq!(
        unsafe { replicast_scaler_metric_count(s, &raw mut n, null_mut()) },
        replicast_status::Ok
    );
    assert_eq!(n, 1);
    let mut err = null_mut();
    assert_eq!(
        unsafe { replicast_scaler_metric_count(null(), &raw mut n, &raw mut err) },
        replicast_status::NullArgument
    );
    take(err);
    assert_eq!(
        unsafe { replicast_scaler_metric_count(s, null_mut(), &raw mut err) },
        replicast_status::NullArgument
    );
    take(err);
    unsafe { replicast_scaler_free(s) };
}

#[test]
fn state_new_to_json_from_json() {
    let mut err = null_mut();
    assert_eq!(
        unsafe { replicast_scaler_state_new(null_mut(), &raw mut err) },
        replicast_status::NullArgument
    );
    take(err);
    let st = state();
    let json = state_json(st);
    assert!(json.contains("\"version\":1"), "{json}");
    // short buffer: BUFFER_TOO_SMALL, out_needed set, buffer untouched
    let mut buf = [b'x'; 4];
    let mut needed = 0usize;
    let status = unsafe {
        replicast_scaler_state_to_json(
            st,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &raw mut needed,
            &raw mut err,
        )
    };
    assert_eq!(status, replicast_status::BufferTooSmall);
    assert_eq!(needed, json.len() + 1);
    assert_eq!(buf, [b'x'; 4]);
    take(err);
    // exactly the text without room for the NUL is too small too
    let mut buf = vec![0u8; json.len()];
    let status = unsafe {
        replicast_scaler_state_to_json(
            st,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &raw mut needed,
            null_mut(),
        )
    };
    assert_eq!(status, replicast_status::BufferTooSmall);
    // NULLs
    let status = unsafe {
        replicast_scaler_state_to_json(null(), null_mut(), 0, &raw mut needed, &raw mut err)
    };
    assert_eq!(status, replicast_status::NullArgument);
    take(err);
    let status =
        unsafe { replicast_scaler_state_to_json(st, null_mut(), 0, null_mut(), &raw mut err) };
    assert_eq!(status, replicast_status::NullArgument);
    assert!(take(err).1.contains("out_needed"));
    let status = unsafe {
        replicast_scaler_state_to_json(st, null_mut(), 10, &raw mut needed, &raw mut err)
    };
    assert_eq!(status, replicast_status::NullArgument);
    take(err);
    // round trip
    let mut back = null_mut();
    let status = unsafe {
        replicast_scaler_state_from_json(
            json.as_ptr().cast(),
            json.len(),
            &raw mut back,
            null_mut(),
        )
    };
    assert_eq!(status, replicast_status::Ok);
    assert_eq!(state_json(back), json);
    // bad JSON, wrong version, NULLs
    for bad in ["{", r#"{"version": 2}"#, "[]"] {
        let mut out = null_mut();
        let status = unsafe {
            replicast_scaler_state_from_json(
                bad.as_ptr().cast(),
                bad.len(),
                &raw mut out,
                &raw mut err,
            )
        };
        assert_eq!(status, replicast_status::Serialization, "{bad}");
        assert!(out.is_null());
        take(err);
    }
    let status =
        unsafe { replicast_scaler_state_from_json(null(), 5, &raw mut back, &raw mut err) };
    assert_eq!(status, replicast_status::NullArgument);
    take(err);
    let status = unsafe {
        replicast_scaler_state_from_json(json.as_ptr().cast(), json.len(), null_mut(), &raw mut err)
    };
    assert_eq!(status, replicast_status::NullArgument);
    take(err);
    unsafe {
        replicast_scaler_state_free(st);
        replicast_scaler_state_free(back);
    }
}

#[test]
fn decide_json_query_then_fill_and_state_only_on_success() {
    let s = scaler();
    let st = state();
    let before = state_json(st);
    let input = input_json(NOW, 100.0);
    // query: too small, state untouched
    let (status, needed, _, err) = decide_json(s, st, &input, 0);
    assert_eq!(status, replicast_status::BufferTooSmall);
    take(err);
    assert_eq!(state_json(st), before);
    let (status, _, _, err) = decide_json(s, st, &input, needed - 1);
    assert_eq!(status, replicast_status::BufferTooSmall);
    take(err);
    assert_eq!(state_json(st), before);
    // fill
    let (status, needed2, text, err) = decide_json(s, st, &input, needed);
    assert_eq!(status, replicast_status::Ok);
    assert!(err.is_null());
    assert_eq!(needed2, needed);
    assert_eq!(text.len() + 1, needed);
    let decision: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(decision["replicas"], 4);
    assert_eq!(decision["rescale"], true);
    assert_ne!(state_json(st), before);
    // out of order: INVALID_INPUT, state untouched
    let after = state_json(st);
    let (status, _, _, err) = decide_json(s, st, &input_json(NOW - 1, 100.0), 4096);
    assert_eq!(status, replicast_status::InvalidInput);
    assert!(take(err).1.contains("now_ms"));
    assert_eq!(state_json(st), after);
    // bad JSON, unknown field, negative value
    for bad in [
        "{",
        r#"{"now_ms": 1, "current_replicas": 1, "bogus": 1}"#,
        &input_json(NOW + 1, -1.0),
    ] {
        let (status, _, _, err) = decide_json(s, st, bad, 4096);
        assert_eq!(status, replicast_status::InvalidInput, "{bad}");
        take(err);
    }
    // NULLs
    let (status, _, _, err) = decide_json(null(), st, &input, 4096);
    assert_eq!(status, replicast_status::NullArgument);
    assert!(take(err).1.contains("scaler"));
    let (status, _, _, err) = decide_json(s, null_mut(), &input, 4096);
    assert_eq!(status, replicast_status::NullArgument);
    assert!(take(err).1.contains("state"));
    let mut err = null_mut();
    let mut scratch = 0usize;
    let status = unsafe {
        replicast_scaler_decide_json(
            s,
            st,
            null(),
            4,
            null_mut(),
            0,
            &raw mut scratch,
            &raw mut err,
        )
    };
    assert_eq!(status, replicast_status::NullArgument);
    take(err);
    let status = unsafe {
        replicast_scaler_decide_json(
            s,
            st,
            input.as_ptr().cast(),
            input.len(),
            null_mut(),
            0,
            null_mut(),
            &raw mut err,
        )
    };
    assert_eq!(status, replicast_status::NullArgument);
    take(err);
    unsafe {
        replicast_scaler_state_free(st);
        replicast_scaler_free(s);
    }
}

#[test]
fn decide_json_equals_the_core() {
    let s = scaler();
    let st = state();
    let core = replicast_core_scaler();
    let mut core_state = replicast_core_state();
    for (i, v) in [100.0, 30.0, 75.0, 0.0].into_iter().enumerate() {
        let input = input_json(NOW + i as i64 * 15_000, v);
        let (status, _, text, _) = decide_json(s, st, &input, 8192);
        assert_eq!(status, replicast_status::Ok);
        let parsed = serde_json::from_str(&input).unwrap();
        let want = core.decide(&mut core_state, &parsed).unwrap();
        assert_eq!(text, serde_json::to_string(&want).unwrap());
    }
    assert_eq!(state_json(st), core_state.to_json());
    unsafe {
        replicast_scaler_state_free(st);
        replicast_scaler_free(s);
    }
}

#[test]
fn a_predictive_spec_with_an_slo_and_load_samples_equal_the_core() {
    const SLO_SPEC: &str = r#"{"min_replicas": 1, "max_replicas": 100, "predictive": {
        "capacity_per_replica": 10, "decision_interval_s": 15, "warmup_samples": 10,
        "slo": {"max_overloaded_pct": 0.5, "max_cost_ratio": 1.2}}}"#;
    let mut s = null_mut();
    let st_new = unsafe {
        replicast_scaler_new(
            SLO_SPEC.as_ptr().cast(),
            SLO_SPEC.len(),
            &raw mut s,
            null_mut(),
        )
    };
    assert_eq!(st_new, replicast_status::Ok);
    let st = state();
    let core =
        replicast_core::Scaler::new(replicast_core::ScalerSpec::from_json(SLO_SPEC).unwrap())
            .unwrap();
    let mut core_state = replicast_core_state();
    let mut text = String::new();
    for i in 1..=60_i64 {
        let samples: Vec<String> = (0..15)
            .map(|j| format!("{}", 200 + (i * 15 + j) % 60))
            .collect();
        let input = format!(
            r#"{{"now_ms": {}, "current_replicas": 30, "ready_replicas": 30, "load_samples": {{"step_ms": 1000, "values": [{}]}}}}"#,
            NOW + i * 15_000,
            samples.join(", ")
        );
        let (status, _, out, _) = decide_json(s, st, &input, 1 << 16);
        assert_eq!(status, replicast_status::Ok);
        let want = core
            .decide(&mut core_state, &serde_json::from_str(&input).unwrap())
            .unwrap();
        assert_eq!(out, serde_json::to_string(&want).unwrap());
        text = out;
    }
    assert!(
        text.contains("peaks at 229.5") && text.contains("(budget 0.5 %)"),
        "{text}"
    );
    assert_eq!(state_json(st), core_state.to_json());
    // a bad sample is an InvalidInput status naming it
    let bad = format!(
        r#"{{"now_ms": {}, "current_replicas": 30, "load_samples": {{"step_ms": 1000, "values": [1, -1]}}}}"#,
        NOW + 61 * 15_000
    );
    let (status, _, _, err) = decide_json(s, st, &bad, 4096);
    assert_eq!(status, replicast_status::InvalidInput);
    assert_eq!(
        take(err).1,
        "load_samples.values[1] must be a finite number >= 0, got -1"
    );
    unsafe {
        replicast_scaler_state_free(st);
        replicast_scaler_free(s);
    }
}

fn replicast_core_scaler() -> replicast_core::Scaler {
    replicast_core::Scaler::new(replicast_core::ScalerSpec::from_json(SPEC).unwrap()).unwrap()
}

fn replicast_core_state() -> replicast_core::ScalerState {
    replicast_core::ScalerState::new()
}

fn batch_json(
    scaler: *const replicast_scaler,
    states: &[*mut replicast_scaler_state],
    inputs: &str,
    cap: usize,
) -> (replicast_status, usize, String, *mut replicast_error) {
    let mut buf = vec![0u8; cap];
    let mut needed = 0usize;
    let mut err = null_mut();
    let st = unsafe {
        replicast_scaler_decide_batch_json(
            scaler,
            if states.is_empty() {
                null()
            } else {
                states.as_ptr()
            },
            states.len(),
            inputs.as_ptr().cast(),
            inputs.len(),
            if cap == 0 {
                null_mut()
            } else {
                buf.as_mut_ptr().cast()
            },
            cap,
            &raw mut needed,
            &raw mut err,
        )
    };
    let text = if st == replicast_status::Ok {
        CStr::from_bytes_until_nul(&buf)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    } else {
        String::new()
    };
    (st, needed, text, err)
}

#[test]
fn decide_batch_json() {
    let s = scaler();
    let (a, b) = (state(), state());
    let inputs = format!("[{}, {}]", input_json(NOW, 100.0), input_json(NOW, -5.0));
    let before = (state_json(a), state_json(b));
    let (status, needed, _, err) = batch_json(s, &[a, b], &inputs, 0);
    assert_eq!(status, replicast_status::BufferTooSmall);
    take(err);
    assert_eq!((state_json(a), state_json(b)), before);
    let (status, _, text, _) = batch_json(s, &[a, b], &inputs, needed);
    assert_eq!(status, replicast_status::Ok);
    let out: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(out[0]["decision"]["replicas"], 4);
    assert_eq!(out[1]["error"]["code"], 1);
    assert!(
        out[1]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("aggregated value")
    );
    assert_ne!(state_json(a), before.0);
    assert_eq!(state_json(b), before.1, "a failed workload keeps its state");
    // wrong length, duplicates, NULL handle, bad JSON, empty
    let one = format!("[{}]", input_json(NOW + 1, 1.0));
    for (states, inputs, want) in [
        (vec![a, b], one.as_str(), replicast_status::InvalidInput),
        (vec![a, a], inputs.as_str(), replicast_status::InvalidInput),
        (
            vec![a, null_mut()],
            inputs.as_str(),
            replicast_status::NullArgument,
        ),
        (vec![a], "[{]", replicast_status::InvalidInput),
    ] {
        let (status, _, _, err) = batch_json(s, &states, inputs, 8192);
        assert_eq!(status, want, "{inputs}");
        take(err);
    }
    let (status, _, text, _) = batch_json(s, &[], "[]", 16);
    assert_eq!(status, replicast_status::Ok);
    assert_eq!(text, "[]");
    let (status, _, _, err) = batch_json(null(), &[a], &one, 8192);
    assert_eq!(status, replicast_status::NullArgument);
    take(err);
    let mut err = null_mut();
    let mut scratch = 0usize;
    let status = unsafe {
        replicast_scaler_decide_batch_json(
            s,
            null(),
            2,
            inputs.as_ptr().cast(),
            inputs.len(),
            null_mut(),
            0,
            &raw mut scratch,
            &raw mut err,
        )
    };
    assert_eq!(status, replicast_status::NullArgument);
    take(err);
    unsafe {
        replicast_scaler_state_free(a);
        replicast_scaler_state_free(b);
        replicast_scaler_free(s);
    }
}

fn agg(now_ms: i64) -> replicast_aggregated_input {
    replicast_aggregated_input {
        now_ms,
        current_replicas: 2,
        ready_replicas: 2,
        ..replicast_aggregated_input::default()
    }
}

#[test]
fn decide_aggregated_single() {
    let s = scaler();
    let st = state();
    let mut out = replicast_decision_summary::default();
    let mut err = null_mut();
    let values = [100.0];
    let first = agg(NOW);
    let status = unsafe {
        replicast_scaler_decide_aggregated(
            s,
            st,
            &raw const first,
            values.as_ptr(),
            1,
            &raw mut out,
            &raw mut err,
        )
    };
    assert_eq!(status, replicast_status::Ok);
    assert_eq!(
        out,
        replicast_decision_summary {
            replicas: 4,
            current_replicas: 2,
            rescale: true,
            scaling_active: true,
            scaling_limited: false,
            n_steps: 1,
            last_stage: replicast_stage::Combine as u32,
            n_errors: 0,
        }
    );
    // invalid enum value
    let before = state_json(st);
    let mut bad = agg(NOW + 1);
    bad.health = 3;
    let status = unsafe {
        replicast_scaler_decide_aggregated(
            s,
            st,
            &raw const bad,
            values.as_ptr(),
            1,
            &raw mut out,
            &raw mut err,
        )
    };
    assert_eq!(status, replicast_status::InvalidInput);
    assert!(take(err).1.contains("health"));
    // wrong count, NaN, NULLs
    let two = [1.0, 2.0];
    let status = unsafe {
        replicast_scaler_decide_aggregated(
            s,
            st,
            &raw const bad,
            two.as_ptr(),
            2,
            &raw mut out,
            &raw mut err,
        )
    };
    assert_eq!(status, replicast_status::InvalidInput);
    take(err);
    let nan = [f64::NAN];
    let next = agg(NOW + 1);
    let status = unsafe {
        replicast_scaler_decide_aggregated(
            s,
            st,
            &raw const next,
            nan.as_ptr(),
            1,
            &raw mut out,
            &raw mut err,
        )
    };
    assert_eq!(status, replicast_status::InvalidInput);
    take(err);
    assert_eq!(state_json(st), before);
    let a = agg(NOW + 1);
    let cases: [(
        *const replicast_scaler,
        *mut replicast_scaler_state,
        *const replicast_aggregated_input,
        *const f64,
        *mut replicast_decision_summary,
    ); 5] = [
        (null(), st, &raw const a, values.as_ptr(), &raw mut out),
        (s, null_mut(), &raw const a, values.as_ptr(), &raw mut out),
        (s, st, null(), values.as_ptr(), &raw mut out),
        (s, st, &raw const a, null(), &raw mut out),
        (s, st, &raw const a, values.as_ptr(), null_mut()),
    ];
    for (sc, state, input, vals, o) in cases {
        let status = unsafe {
            replicast_scaler_decide_aggregated(sc, state, input, vals, 1, o, &raw mut err)
        };
        assert_eq!(status, replicast_status::NullArgument);
        take(err);
    }
    assert_eq!(state_json(st), before);
    unsafe {
        replicast_scaler_state_free(st);
        replicast_scaler_free(s);
    }
}

#[test]
fn decide_aggregated_batch() {
    let s = scaler();
    let states: Vec<_> = (0..3).map(|_| state()).collect();
    let inputs = [agg(NOW), agg(NOW), agg(NOW)];
    let values = [100.0, -1.0, 20.0];
    let mut out = [replicast_decision_summary::default(); 3];
    let mut statuses = [u32::MAX; 3];
    let mut failed = 0usize;
    let mut err = null_mut();
    let status = unsafe {
        replicast_scaler_decide_aggregated_batch(
            s,
            states.as_ptr(),
            inputs.as_ptr(),
            3,
            values.as_ptr(),
            3,
            out.as_mut_ptr(),
            statuses.as_mut_ptr(),
            &raw mut failed,
            &raw mut err,
        )
    };
    assert_eq!(status, replicast_status::Ok);
    assert!(err.is_null());
    assert_eq!(statuses, [0, 1, 0]);
    assert_eq!(failed, 1);
    assert_eq!(out[0].replicas, 4);
    assert_eq!(
        out[1],
        replicast_decision_summary::default(),
        "untouched on failure"
    );
    assert_eq!(
        out[2].replicas, 2,
        "scale-down held by the 5-minute stabilization window"
    );
    // wrong n_values
    let status = unsafe {
        replicast_scaler_decide_aggregated_batch(
            s,
            states.as_ptr(),
            inputs.as_ptr(),
            3,
            values.as_ptr(),
            2,
            out.as_mut_ptr(),
            statuses.as_mut_ptr(),
            null_mut(),
            &raw mut err,
        )
    };
    assert_eq!(status, replicast_status::InvalidInput);
    assert!(take(err).1.contains("n_values"));
    // NULL outputs and a NULL state
    let with_null = [states[0], null_mut(), states[2]];
    for (sts, o, stat) in [
        (states.as_ptr(), null_mut(), statuses.as_mut_ptr()),
        (states.as_ptr(), out.as_mut_ptr(), null_mut()),
        (with_null.as_ptr(), out.as_mut_ptr(), statuses.as_mut_ptr()),
        (null(), out.as_mut_ptr(), statuses.as_mut_ptr()),
    ] {
        let status = unsafe {
            replicast_scaler_decide_aggregated_batch(
                s,
                sts,
                inputs.as_ptr(),
                3,
                values.as_ptr(),
                3,
                o,
                stat,
                null_mut(),
                &raw mut err,
            )
        };
        assert_eq!(status, replicast_status::NullArgument);
        take(err);
    }
    // empty batch with NULLs is fine
    let status = unsafe {
        replicast_scaler_decide_aggregated_batch(
            s,
            null(),
            null(),
            0,
            null(),
            0,
            null_mut(),
            null_mut(),
            null_mut(),
            null_mut(),
        )
    };
    assert_eq!(status, replicast_status::Ok);
    for st in states {
        unsafe { replicast_scaler_state_free(st) };
    }
    unsafe { replicast_scaler_free(s) };
}

#[test]
fn panics_become_a_status() {
    let mut err = null_mut();
    let status = unsafe { replicast_testing_panic(&raw mut err) };
    assert_eq!(status, replicast_status::Panic);
    let (code, message) = take(err);
    assert_eq!(code, replicast_status::Panic);
    assert!(
        message.contains("replicast_testing_panic was called"),
        "{message}"
    );
    assert_eq!(
        unsafe { replicast_testing_panic(null_mut()) },
        replicast_status::Panic
    );
}

// ---- forecasting ----

/// 3 seasons of a period-4 pattern, the last season `[10, 20, 30, 40]`.
const SERIES: [f64; 12] = [
    1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0, 20.0, 30.0, 40.0,
];
const NAIVE4: &str = r#"{"kind": "seasonal_naive", "period": 4}"#;

fn fit(spec: &str, y: &[f64]) -> (replicast_status, *mut replicast_fitted_model) {
    let mut m = null_mut();
    let mut err = null_mut();
    let st = unsafe {
        replicast_model_fit(
            spec.as_ptr().cast(),
            spec.len(),
            y.as_ptr(),
            y.len(),
            &raw mut m,
            &raw mut err,
        )
    };
    if st == replicast_status::Ok {
        assert!(err.is_null());
    } else {
        assert!(m.is_null());
        let (code, _) = take(err);
        assert_eq!(code, st);
    }
    (st, m)
}

fn fit_err(spec: &str, y: &[f64]) -> (replicast_status, String) {
    let mut m = null_mut();
    let mut err = null_mut();
    let st = unsafe {
        replicast_model_fit(
            spec.as_ptr().cast(),
            spec.len(),
            y.as_ptr(),
            y.len(),
            &raw mut m,
            &raw mut err,
        )
    };
    assert!(m.is_null());
    let (code, message) = take(err);
    assert_eq!(code, st);
    (st, message)
}

/// Predicts `horizon` steps at `level` into buffers of `cap`; the status and the three arrays.
fn predict(
    m: *const replicast_fitted_model,
    horizon: usize,
    level: f64,
    cap: usize,
) -> (replicast_status, Vec<f64>, Vec<f64>, Vec<f64>) {
    let (mut p, mut lo, mut hi) = (vec![-1.0; cap], vec![-1.0; cap], vec![-1.0; cap]);
    let st = unsafe {
        replicast_fitted_model_predict(
            m,
            horizon,
            level,
            p.as_mut_ptr(),
            lo.as_mut_ptr(),
            hi.as_mut_ptr(),
            cap,
            null_mut(),
        )
    };
    (st, p, lo, hi)
}

fn model_json(m: *const replicast_fitted_model) -> String {
    let mut needed = 0usize;
    let st =
        unsafe { replicast_fitted_model_to_json(m, null_mut(), 0, &raw mut needed, null_mut()) };
    assert_eq!(st, replicast_status::BufferTooSmall);
    let mut buf = vec![0u8; needed];
    let st = unsafe {
        replicast_fitted_model_to_json(
            m,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &raw mut needed,
            null_mut(),
        )
    };
    assert_eq!(st, replicast_status::Ok);
    CStr::from_bytes_with_nul(&buf)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn model_fit_errors() {
    // NULLs
    let mut m = null_mut();
    let y = SERIES;
    assert_eq!(
        unsafe {
            replicast_model_fit(
                NAIVE4.as_ptr().cast(),
                NAIVE4.len(),
                y.as_ptr(),
                y.len(),
                null_mut(),
                null_mut(),
            )
        },
        replicast_status::NullArgument
    );
    assert_eq!(
        unsafe { replicast_model_fit(null(), 3, y.as_ptr(), y.len(), &raw mut m, null_mut()) },
        replicast_status::NullArgument
    );
    assert_eq!(
        unsafe {
            replicast_model_fit(
                NAIVE4.as_ptr().cast(),
                NAIVE4.len(),
                null(),
                5,
                &raw mut m,
                null_mut(),
            )
        },
        replicast_status::NullArgument
    );
    assert!(m.is_null());
    // bad JSON, unknown kind, unknown field, invalid spec, not UTF-8
    for spec in [
        "{",
        r#"{"kind": "prophet"}"#,
        r#"{"kind": "ets", "bogus": 1}"#,
        r#"{"kind": "seasonal_naive", "period": 0}"#,
        "\u{0}\u{1}",
    ] {
        let (st, msg) = fit_err(spec, &SERIES);
        assert_eq!(st, replicast_status::InvalidConfig, "{spec}: {msg}");
    }
    let bytes = [0xffu8, 0xfe];
    assert_eq!(
        unsafe {
            replicast_model_fit(
                bytes.as_ptr().cast(),
                2,
                y.as_ptr(),
                y.len(),
                &raw mut m,
                null_mut(),
            )
        },
        replicast_status::InvalidConfig
    );
    let (_, msg) = fit_err(r#"{"kind": "seasonal_naive", "period": 0}"#, &SERIES);
    assert!(msg.contains("period"), "{msg}");
    // NaN / infinite input, empty series, too short
    let mut bad = SERIES;
    bad[5] = f64::NAN;
    let (st, msg) = fit_err(NAIVE4, &bad);
    assert_eq!(st, replicast_status::InvalidInput);
    assert!(msg.contains("y[5]"), "{msg}");
    bad[5] = f64::INFINITY;
    assert_eq!(fit_err(NAIVE4, &bad).0, replicast_status::InvalidInput);
    assert_eq!(
        unsafe {
            replicast_model_fit(
                NAIVE4.as_ptr().cast(),
                NAIVE4.len(),
                null(),
                0,
                &raw mut m,
                null_mut(),
            )
        },
        replicast_status::InvalidInput
    );
    assert_eq!(
        fit_err(NAIVE4, &SERIES[..2]).0,
        replicast_status::InsufficientData
    );
}

#[test]
fn seasonal_naive_fit_predict_update() {
    let (st, m) = fit(NAIVE4, &SERIES);
    assert_eq!(st, replicast_status::Ok);
    let mut n = 0usize;
    assert_eq!(
        unsafe { replicast_fitted_model_n_obs(m, &raw mut n, null_mut()) },
        replicast_status::Ok
    );
    assert_eq!(n, 12);

    // Point forecast only: the last season, repeated; lower/upper untouched (and may be NULL).
    let (st, p, lo, hi) = predict(m, 6, 0.0, 8);
    assert_eq!(st, replicast_status::Ok);
    assert_eq!(p, [10.0, 20.0, 30.0, 40.0, 10.0, 20.0, -1.0, -1.0]);
    assert!(lo.iter().chain(&hi).all(|&v| v == -1.0));
    let mut p = [0.0; 2];
    assert_eq!(
        unsafe {
            replicast_fitted_model_predict(
                m,
                2,
                0.0,
                p.as_mut_ptr(),
                null_mut(),
                null_mut(),
                2,
                null_mut(),
            )
        },
        replicast_status::Ok
    );
    assert_eq!(p, [10.0, 20.0]);

    // With an interval: the same as the core, bit for bit.
    let core: replicast_core::forecast::FittedModel = serde_json::from_str(&model_json(m)).unwrap();
    let want = replicast_core::forecast::Predict::predict(&core, 5, 0.9).unwrap();
    let iv = want.intervals.unwrap();
    let (st, p, lo, hi) = predict(m, 5, 0.9, 5);
    assert_eq!(st, replicast_status::Ok);
    assert_eq!(
        (p, lo.clone(), hi.clone()),
        (want.point, iv.lower, iv.upper)
    );
    assert!(lo[0] < 10.0 && 10.0 < hi[0]);

    // Update shifts the season.
    assert_eq!(
        unsafe { replicast_fitted_model_update(m, 11.0, null_mut()) },
        replicast_status::Ok
    );
    let (_, p, _, _) = predict(m, 4, 0.0, 4);
    assert_eq!(p, [20.0, 30.0, 40.0, 11.0]);
    assert_eq!(
        unsafe { replicast_fitted_model_n_obs(m, &raw mut n, null_mut()) },
        replicast_status::Ok
    );
    assert_eq!(n, 13);

    // NaN update: InvalidInput, the model unchanged.
    let before = model_json(m);
    let mut err = null_mut();
    assert_eq!(
        unsafe { replicast_fitted_model_update(m, f64::NAN, &raw mut err) },
        replicast_status::InvalidInput
    );
    assert!(take(err).1.contains("finite"));
    assert_eq!(model_json(m), before);
    unsafe { replicast_fitted_model_free(m) };
}

#[test]
fn model_predict_errors() {
    let (_, m) = fit(NAIVE4, &SERIES);
    let mut buf = [-1.0; 4];
    let mut err = null_mut();
    // NULL model, NULL point, NULL lower/upper with a level
    assert_eq!(
        unsafe {
            replicast_fitted_model_predict(
                null(),
                1,
                0.0,
                buf.as_mut_ptr(),
                null_mut(),
                null_mut(),
                4,
                &raw mut err,
            )
        },
        replicast_status::NullArgument
    );
    assert!(take(err).1.contains("model"));
    assert_eq!(
        unsafe {
            replicast_fitted_model_predict(
                m,
                1,
                0.0,
                null_mut(),
                null_mut(),
                null_mut(),
                4,
                null_mut(),
            )
        },
        replicast_status::NullArgument
    );
    assert_eq!(
        unsafe {
            replicast_fitted_model_predict(
                m,
                1,
                0.9,
                buf.as_mut_ptr(),
                null_mut(),
                null_mut(),
                4,
                &raw mut err,
            )
        },
        replicast_status::NullArgument
    );
    assert!(take(err).1.contains("lower"));
    // short buffer: nothing written
    let (st, p, _, _) = predict(m, 5, 0.9, 4);
    assert_eq!(st, replicast_status::BufferTooSmall);
    assert!(p.iter().all(|&v| v == -1.0));
    assert_eq!(
        unsafe {
            replicast_fitted_model_predict(
                m,
                5,
                0.0,
                buf.as_mut_ptr(),
                null_mut(),
                null_mut(),
                4,
                &raw mut err,
            )
        },
        replicast_status::BufferTooSmall
    );
    assert!(
        take(err)
            .1
            .contains("out_len must be at least horizon (5), got 4")
    );
    // horizon 0 (no buffers needed), bad levels
    assert_eq!(
        unsafe {
            replicast_fitted_model_predict(
                m,
                0,
                0.0,
                null_mut(),
                null_mut(),
                null_mut(),
                0,
                null_mut(),
            )
        },
        replicast_status::InvalidInput
    );
    for level in [1.0, 1.5, -0.2, f64::NAN] {
        let (st, p, lo, hi) = predict(m, 2, level, 2);
        assert_eq!(st, replicast_status::InvalidInput, "level {level}");
        assert!(p.iter().chain(&lo).chain(&hi).all(|&v| v == -1.0));
    }
    // update and n_obs with NULLs
    assert_eq!(
        unsafe { replicast_fitted_model_update(null_mut(), 1.0, null_mut()) },
        replicast_status::NullArgument
    );
    assert_eq!(
        unsafe { replicast_fitted_model_update(m, f64::NEG_INFINITY, null_mut()) },
        replicast_status::InvalidInput
    );
    let mut n = 0usize;
    assert_eq!(
        unsafe { replicast_fitted_model_n_obs(null(), &raw mut n, null_mut()) },
        replicast_status::NullArgument
    );
    assert_eq!(
        unsafe { replicast_fitted_model_n_obs(m, null_mut(), null_mut()) },
        replicast_status::NullArgument
    );
    unsafe { replicast_fitted_model_free(m) };
    unsafe { replicast_fitted_model_free(null_mut()) };
}

#[test]
fn model_json_round_trip_and_errors() {
    let y: Vec<f64> = (0..96)
        .map(|t| {
            50.0 + 10.0 * (f64::from(t) * std::f64::consts::TAU / 24.0).sin() + f64::from(t % 5)
        })
        .collect();
    let (st, m) = fit(r#"{"kind": "ets", "period": 24}"#, &y);
    assert_eq!(st, replicast_status::Ok);
    let json = model_json(m);
    assert!(json.starts_with(r#"{"kind":"ets""#), "{json}");

    // short buffer: needed reported, buffer untouched
    let mut small = [7u8; 8];
    let mut needed = 0usize;
    assert_eq!(
        unsafe {
            replicast_fitted_model_to_json(
                m,
                small.as_mut_ptr().cast(),
                small.len(),
                &raw mut needed,
                null_mut(),
            )
        },
        replicast_status::BufferTooSmall
    );
    assert_eq!(needed, json.len() + 1);
    assert_eq!(small, [7u8; 8]);
    assert_eq!(
        unsafe { replicast_fitted_model_to_json(m, null_mut(), 4, &raw mut needed, null_mut()) },
        replicast_status::NullArgument
    );
    assert_eq!(
        unsafe { replicast_fitted_model_to_json(m, null_mut(), 0, null_mut(), null_mut()) },
        replicast_status::NullArgument
    );
    assert_eq!(
        unsafe {
            replicast_fitted_model_to_json(null(), null_mut(), 0, &raw mut needed, null_mut())
        },
        replicast_status::NullArgument
    );

    // restore: same JSON, same forecasts
    let mut back = null_mut();
    assert_eq!(
        unsafe {
            replicast_fitted_model_from_json(
                json.as_ptr().cast(),
                json.len(),
                &raw mut back,
                null_mut(),
            )
        },
        replicast_status::Ok
    );
    assert_eq!(model_json(back), json);
    assert_eq!(predict(m, 30, 0.8, 30), predict(back, 30, 0.8, 30));
    let (st, p, _, _) = predict(back, 30, 0.8, 30);
    assert_eq!(st, replicast_status::Ok);
    assert!(p.iter().all(|v| v.is_finite()));

    // bad JSON, wrong kind, inconsistent model, NULLs
    let mut out = null_mut();
    let mut err = null_mut();
    let inconsistent = model_json_of_naive_with_short_buffer();
    for bad in ["{", r#"{"kind": "prophet"}"#, "[]", inconsistent.as_str()] {
        assert_eq!(
            unsafe {
                replicast_fitted_model_from_json(
                    bad.as_ptr().cast(),
                    bad.len(),
                    &raw mut out,
                    &raw mut err,
                )
            },
            replicast_status::Serialization,
            "{bad}"
        );
        assert!(out.is_null());
        let (code, _) = take(err);
        assert_eq!(code, replicast_status::Serialization);
    }
    assert_eq!(
        unsafe { replicast_fitted_model_from_json(null(), 2, &raw mut out, null_mut()) },
        replicast_status::NullArgument
    );
    assert_eq!(
        unsafe {
            replicast_fitted_model_from_json(
                json.as_ptr().cast(),
                json.len(),
                null_mut(),
                null_mut(),
            )
        },
        replicast_status::NullArgument
    );
    unsafe {
        replicast_fitted_model_free(back);
        replicast_fitted_model_free(m);
    }
}

/// A seasonal naive model whose ring buffer is shorter than its period: serde accepts it, using
/// it would index out of bounds.
fn model_json_of_naive_with_short_buffer() -> String {
    let (_, m) = fit(NAIVE4, &SERIES);
    let mut v: serde_json::Value = serde_json::from_str(&model_json(m)).unwrap();
    unsafe { replicast_fitted_model_free(m) };
    v["last"] = serde_json::json!([1.0]);
    v["pos"] = serde_json::json!(3);
    v.to_string()
}

#[test]
fn auto_model_over_the_abi_equals_the_core() {
    use replicast_core::forecast::{Fit, ModelSpec, Predict, Update};
    let spec = r#"{"kind": "auto", "step_s": 3600}"#;
    let y: Vec<f64> = (0..400).map(|t| 10.0 + f64::from(t % 7)).collect();
    let (st, m) = fit(spec, &y);
    assert_eq!(st, replicast_status::Ok);
    let mut core = serde_json::from_str::<ModelSpec>(spec)
        .unwrap()
        .fit(&y)
        .unwrap();
    assert_eq!(model_json(m), serde_json::to_string(&core).unwrap());
    for step in 0..3 {
        let v = 10.0 + f64::from((400 + step) % 7);
        assert_eq!(
            unsafe { replicast_fitted_model_update(m, v, null_mut()) },
            replicast_status::Ok
        );
        core.update(v).unwrap();
    }
    let want = core.predict(10, 0.95).unwrap();
    let iv = want.intervals.unwrap();
    let (st, p, lo, hi) = predict(m, 10, 0.95, 16);
    assert_eq!(st, replicast_status::Ok);
    assert_eq!(&p[..10], want.point.as_slice());
    assert_eq!(&lo[..10], iv.lower.as_slice());
    assert_eq!(&hi[..10], iv.upper.as_slice());
    unsafe { replicast_fitted_model_free(m) };
}

#[test]
fn regression_and_multi_seasonal_kinds_work_over_the_abi() {
    // No binding code names the model kinds: new ones work through the JSON spec as they are.
    use replicast_core::forecast::{Fit, ModelSpec, Predict};
    let y: Vec<f64> = (0..400).map(|t| 10.0 + f64::from(t % 7)).collect();
    for spec in [
        r#"{"kind": "regression", "step_s": 3600, "periods": [7]}"#,
        r#"{"kind": "multi_seasonal", "periods": [7, 28]}"#,
    ] {
        let (st, m) = fit(spec, &y);
        assert_eq!(st, replicast_status::Ok, "{spec}");
        let core = serde_json::from_str::<ModelSpec>(spec)
            .unwrap()
            .fit(&y)
            .unwrap();
        assert_eq!(model_json(m), serde_json::to_string(&core).unwrap());
        let want = core.predict(5, 0.9).unwrap();
        let (st, p, _, _) = predict(m, 5, 0.9, 5);
        assert_eq!(st, replicast_status::Ok);
        assert_eq!(p, want.point);
        unsafe { replicast_fitted_model_free(m) };
    }
}
