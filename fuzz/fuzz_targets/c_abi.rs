//! The C ABI, called from Rust the way C calls it (as `ffi/tests/abi.rs` does), with arbitrary
//! bytes, lengths, NULL pointers (also with non-zero lengths), buffer sizes and numbers.
//!
//! Every call must return a status, never `REPLICAST_STATUS_PANIC` (and never unwind or abort);
//! an error handle comes back exactly when the call fails, with that status and a message;
//! outputs (handles, buffers, summaries, forecasts) are written only on success, and a state or
//! model is unchanged by a failed call. After `BUFFER_TOO_SMALL`, the same call with a buffer of
//! `*out_needed` bytes succeeds (the contract of query-then-fill); JSON written is well formed
//! and restores.
//!
//! Input layout (so that seeds are mostly readable text; `fuzz/make_corpus.py` writes them):
//!
//! ```text
//! 12 control bytes | spec \0 state \0 input \0 model spec \0 fitted model \0 | numbers
//! ```
//!
//! control: 0 NULL flags for the text arguments (bit 0 spec, 1 state, 2 input, 3 model spec,
//! 4 fitted model, 5 series y, 6 aggregated values, 7 no `err_out`); 1 the length passed with a
//! NULL pointer; 2 the output buffer's size (0: NULL and 0; 255: 64 KiB; n: 16·n); 3 more flags
//! (bit 0 NULL buffer with a non-zero length, 1 NULL `out_needed`, 2 NULL handle out-pointer,
//! 3 NULL state handle, 4 NULL aggregated input, 5 NULL `point`, 6 NULL `lower`/`upper`, 7 wrong
//! `n_values` in the batch); 4 the forecast horizon; 5 the level (0: none, 255: from the
//! numbers, n: n/255); 6 how much `out_len` differs from the horizon (signed); 7 the aggregated
//! input's `health`; 8 how many aggregated values; 9–11 unused.
//! numbers (little-endian, zero when missing): `now_ms` i64, `current_replicas`, `ready_replicas`,
//! `status_replicas` u32, `has_status_replicas` u8, the values f64, the level f64, the update
//! f64, then the series y (f64 each, the rest of the input).

#![no_main]

use std::ffi::{CStr, c_char};
use std::ptr::{NonNull, null, null_mut};

use libfuzzer_sys::fuzz_target;
use replicast_ffi::*;

const CONTROL: usize = 12;
const FIELDS: usize = 5;
/// What an output buffer is filled with before a call, to see whether it was written.
const FILL: u8 = 0xA5;
/// The value of a not-yet-written `f64` output.
const FILL_F64: f64 = -7.25e300;

struct Numbers<'a>(&'a [u8]);

impl Numbers<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }
    fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }
    fn i64(&mut self) -> i64 {
        i64::from_le_bytes(self.take())
    }
    fn f64(&mut self) -> f64 {
        f64::from_le_bytes(self.take())
    }
    fn rest_f64(&mut self) -> Vec<f64> {
        let v = self
            .0
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or_default()))
            .take(2_000)
            .collect();
        self.0 = &[];
        v
    }
}

struct Input<'a> {
    ctl: [u8; CONTROL],
    fields: [&'a [u8]; FIELDS],
    numbers: Numbers<'a>,
}

impl<'a> Input<'a> {
    fn parse(data: &'a [u8]) -> Self {
        let mut ctl = [0u8; CONTROL];
        let n = CONTROL.min(data.len());
        ctl[..n].copy_from_slice(&data[..n]);
        let mut rest = &data[n..];
        let mut fields: [&[u8]; FIELDS] = [&[]; FIELDS];
        for field in &mut fields {
            match rest.iter().position(|&b| b == 0) {
                Some(i) => {
                    *field = &rest[..i];
                    rest = &rest[i + 1..];
                }
                None => {
                    *field = rest;
                    rest = &[];
                }
            }
        }
        Self {
            ctl,
            fields,
            numbers: Numbers(rest),
        }
    }

    fn flag(&self, byte: usize, bit: u32) -> bool {
        self.ctl[byte] & (1 << bit) != 0
    }

    /// Text argument `i` as `(pointer, length)`: the field, or NULL with the control length.
    fn text(&self, i: usize) -> (*const c_char, usize) {
        if self.flag(0, i as u32) {
            (null(), usize::from(self.ctl[1]))
        } else {
            (self.fields[i].as_ptr().cast(), self.fields[i].len())
        }
    }

    fn err_out(&self, err: &mut *mut replicast_error) -> *mut *mut replicast_error {
        if self.flag(0, 7) {
            null_mut()
        } else {
            *err = NonNull::dangling().as_ptr();
            err
        }
    }

    fn buf_len(&self) -> usize {
        match self.ctl[2] {
            255 => 1 << 16,
            n => 16 * usize::from(n),
        }
    }
}

/// The error handle's contract: present exactly on failure (when asked for), with the status
/// returned and a message; the call never panicked.
fn check(what: &str, status: replicast_status, err_out: *mut *mut replicast_error) {
    assert_ne!(
        status,
        replicast_status::Panic,
        "{what} returned REPLICAST_STATUS_PANIC"
    );
    if err_out.is_null() {
        return;
    }
    // SAFETY: `err_out` points at our local.
    let err = unsafe { *err_out };
    if status == replicast_status::Ok {
        assert!(err.is_null(), "{what} succeeded but left an error handle");
        return;
    }
    assert!(
        !err.is_null(),
        "{what} failed ({status:?}) without an error handle"
    );
    // SAFETY: a live error handle, freed once below.
    unsafe {
        assert_eq!(replicast_error_status(err), status, "{what}: error status");
        let message = CStr::from_ptr(replicast_error_message(err));
        assert!(
            !message.to_bytes().is_empty(),
            "{what} failed with an empty message"
        );
        replicast_error_free(err);
    }
}

/// `replicast_scaler_state_to_json`, query then fill.
fn state_json(state: *const replicast_scaler_state) -> String {
    let mut needed = 0usize;
    // SAFETY: a live state; the query passes no buffer.
    let st = unsafe {
        replicast_scaler_state_to_json(state, null_mut(), 0, &raw mut needed, null_mut())
    };
    assert_eq!(st, replicast_status::BufferTooSmall, "state query");
    let mut buf = vec![0u8; needed];
    // SAFETY: `buf` holds `needed` bytes.
    let st = unsafe {
        replicast_scaler_state_to_json(
            state,
            buf.as_mut_ptr().cast(),
            needed,
            &raw mut needed,
            null_mut(),
        )
    };
    assert_eq!(st, replicast_status::Ok, "state fill");
    let text = CStr::from_bytes_with_nul(&buf).expect("state JSON is NUL-terminated");
    text.to_str().expect("state JSON is UTF-8").to_owned()
}

/// Checks a query-then-fill output after a call: written (NUL-terminated JSON, nothing after
/// it) only on success; `*out_needed` larger than the buffer after `BUFFER_TOO_SMALL`.
fn check_text_out(
    what: &str,
    status: replicast_status,
    buf: &[u8],
    buf_len: usize,
    needed: usize,
) -> Option<String> {
    match status {
        replicast_status::Ok => {
            assert!(
                needed >= 1 && needed <= buf_len,
                "{what}: out_needed {needed} vs {buf_len}"
            );
            assert_eq!(buf[needed - 1], 0, "{what}: output not NUL-terminated");
            assert!(
                buf[needed..].iter().all(|&b| b == FILL),
                "{what}: wrote past the text"
            );
            let text = std::str::from_utf8(&buf[..needed - 1]).expect("output is UTF-8");
            serde_json::from_str::<serde_json::Value>(text)
                .unwrap_or_else(|e| panic!("{what}: output is not JSON: {e}"));
            Some(text.to_owned())
        }
        _ => {
            assert!(
                buf.iter().all(|&b| b == FILL),
                "{what}: buffer written on failure {status:?}"
            );
            if status == replicast_status::BufferTooSmall {
                assert!(
                    needed > buf_len,
                    "{what}: too small, yet out_needed {needed} fits {buf_len}"
                );
            }
            None
        }
    }
}

/// `replicast_scaler_decide_json` with the input's buffer settings; checks its contract.
fn decide_json(input: &Input, scaler: *const replicast_scaler, state: *mut replicast_scaler_state) {
    let (json, json_len) = input.text(2);
    let null_buf = input.flag(3, 0);
    let buf_len = if null_buf {
        input.buf_len().max(1)
    } else {
        input.buf_len()
    };
    let mut buf = vec![FILL; buf_len];
    let buf_ptr = if null_buf || buf_len == 0 {
        null_mut()
    } else {
        buf.as_mut_ptr().cast()
    };
    let mut needed = 0usize;
    let needed_ptr = if input.flag(3, 1) {
        null_mut()
    } else {
        &raw mut needed
    };
    let state_ptr = if input.flag(3, 3) { null_mut() } else { state };
    let before = state_json(state);
    let mut err = null_mut();
    let err_out = input.err_out(&mut err);
    // SAFETY: every pointer is NULL or valid for its length.
    let st = unsafe {
        replicast_scaler_decide_json(
            scaler, state_ptr, json, json_len, buf_ptr, buf_len, needed_ptr, err_out,
        )
    };
    check("decide_json", st, err_out);
    check_text_out(
        "decide_json",
        st,
        &buf,
        if buf_ptr.is_null() { 0 } else { buf_len },
        needed,
    );
    if st == replicast_status::Ok {
        // what a controller persists after a decision must restore
        let json = state_json(state);
        let mut back = null_mut();
        // SAFETY: `json` is valid for its length; a local out-pointer.
        let st = unsafe {
            replicast_scaler_state_from_json(
                json.as_ptr().cast(),
                json.len(),
                &raw mut back,
                null_mut(),
            )
        };
        assert_eq!(
            st,
            replicast_status::Ok,
            "a state left by decide_json does not restore: {json}"
        );
        assert_eq!(
            state_json(back),
            json,
            "a state left by decide_json restores differently"
        );
        // SAFETY: ours, freed once.
        unsafe { replicast_scaler_state_free(back) };
    } else {
        assert_eq!(
            state_json(state),
            before,
            "decide_json changed the state on failure {st:?}"
        );
    }
    if st == replicast_status::BufferTooSmall {
        // the documented retry: same input, a buffer of *out_needed bytes
        let mut again = vec![FILL; needed];
        let mut needed2 = 0usize;
        // SAFETY: `again` holds `needed` bytes.
        let st2 = unsafe {
            replicast_scaler_decide_json(
                scaler,
                state,
                json,
                json_len,
                again.as_mut_ptr().cast(),
                needed,
                &raw mut needed2,
                null_mut(),
            )
        };
        assert_eq!(
            st2,
            replicast_status::Ok,
            "decide_json retry with out_needed bytes"
        );
        assert_eq!(needed2, needed, "decide_json retry needs another size");
        check_text_out("decide_json retry", st2, &again, needed, needed2);
    }
}

/// `replicast_scaler_decide_batch_json` with the state and a fresh one, the input twice.
fn decide_batch_json(
    input: &Input,
    scaler: *const replicast_scaler,
    state: *mut replicast_scaler_state,
) {
    let mut fresh = null_mut();
    // SAFETY: `fresh` is a local out-pointer.
    assert_eq!(
        unsafe { replicast_scaler_state_new(&raw mut fresh, null_mut()) },
        replicast_status::Ok
    );
    let item = String::from_utf8_lossy(input.fields[2]);
    let inputs = format!("[{item},{item}]");
    let states = [state, fresh];
    let before = [state_json(state), state_json(fresh)];
    let buf_len = input.buf_len();
    let mut buf = vec![FILL; buf_len];
    let mut needed = 0usize;
    let mut err = null_mut();
    let err_out = input.err_out(&mut err);
    // SAFETY: every pointer is valid for its length.
    let st = unsafe {
        replicast_scaler_decide_batch_json(
            scaler,
            states.as_ptr(),
            2,
            inputs.as_ptr().cast(),
            inputs.len(),
            if buf_len == 0 {
                null_mut()
            } else {
                buf.as_mut_ptr().cast()
            },
            buf_len,
            &raw mut needed,
            err_out,
        )
    };
    check("decide_batch_json", st, err_out);
    if let Some(text) = check_text_out("decide_batch_json", st, &buf, buf_len, needed) {
        let v: serde_json::Value = serde_json::from_str(&text).expect("checked above");
        assert_eq!(
            v.as_array().map(Vec::len),
            Some(2),
            "decide_batch_json: one outcome per state"
        );
    } else {
        assert_eq!(
            [state_json(state), state_json(fresh)],
            before,
            "decide_batch_json changed a state on failure"
        );
    }
    // SAFETY: `fresh` is ours, freed once.
    unsafe { replicast_scaler_state_free(fresh) };
}

/// The hot path, single and batched, with the input's numbers.
fn decide_aggregated(
    input: &mut Input,
    scaler: *const replicast_scaler,
    state: *mut replicast_scaler_state,
) {
    let agg = replicast_aggregated_input {
        now_ms: input.numbers.i64(),
        current_replicas: input.numbers.u32(),
        ready_replicas: input.numbers.u32(),
        status_replicas: input.numbers.u32(),
        has_status_replicas: input.numbers.u8() & 1 == 1,
        health: u32::from(input.ctl[7]),
    };
    let values: Vec<f64> = (0..input.ctl[8] % 9).map(|_| input.numbers.f64()).collect();
    let (values_ptr, n_values) = if input.flag(0, 6) {
        (null(), usize::from(input.ctl[1]))
    } else {
        (values.as_ptr(), values.len())
    };
    let sentinel = replicast_decision_summary {
        replicas: 0xDEAD_BEEF,
        n_errors: 0xDEAD_BEEF,
        ..Default::default()
    };
    let mut out = sentinel;
    let input_ptr: *const replicast_aggregated_input = if input.flag(3, 4) { null() } else { &agg };
    let before = state_json(state);
    let mut err = null_mut();
    let err_out = input.err_out(&mut err);
    // SAFETY: every pointer is NULL or valid for its length.
    let st = unsafe {
        replicast_scaler_decide_aggregated(
            scaler,
            state,
            input_ptr,
            values_ptr,
            n_values,
            &raw mut out,
            err_out,
        )
    };
    check("decide_aggregated", st, err_out);
    if st != replicast_status::Ok {
        assert_eq!(
            out, sentinel,
            "decide_aggregated wrote its output on failure {st:?}"
        );
        assert_eq!(
            state_json(state),
            before,
            "decide_aggregated changed the state on failure {st:?}"
        );
    }

    // the batch: this state and a fresh one, the same observation each
    let mut fresh = null_mut();
    // SAFETY: `fresh` is a local out-pointer.
    assert_eq!(
        unsafe { replicast_scaler_state_new(&raw mut fresh, null_mut()) },
        replicast_status::Ok
    );
    let states = [state, fresh];
    let inputs = [agg, agg];
    let all_values: Vec<f64> = values.iter().chain(&values).copied().collect();
    // a wrong count: one value short (the pointer stays valid for the count passed)
    let n_all = if input.flag(3, 7) {
        all_values.len().saturating_sub(1)
    } else {
        all_values.len()
    };
    let mut outs = [sentinel; 2];
    let mut statuses = [u32::MAX; 2];
    let mut failed = usize::MAX;
    let before = [state_json(state), state_json(fresh)];
    let mut err = null_mut();
    let err_out = input.err_out(&mut err);
    // SAFETY: every pointer is valid for its length.
    let st = unsafe {
        replicast_scaler_decide_aggregated_batch(
            scaler,
            states.as_ptr(),
            inputs.as_ptr(),
            2,
            all_values.as_ptr(),
            n_all,
            outs.as_mut_ptr(),
            statuses.as_mut_ptr(),
            &raw mut failed,
            err_out,
        )
    };
    check("decide_aggregated_batch", st, err_out);
    let after = [state_json(state), state_json(fresh)];
    if st == replicast_status::Ok {
        assert_eq!(
            failed,
            statuses.iter().filter(|&&s| s != 0).count(),
            "out_failed"
        );
        for i in 0..2 {
            assert_ne!(
                statuses[i],
                replicast_status::Panic as u32,
                "batch workload {i} panicked"
            );
            if statuses[i] != 0 {
                assert_eq!(
                    outs[i], sentinel,
                    "batch wrote out[{i}] for a failed workload"
                );
                assert_eq!(
                    after[i], before[i],
                    "batch changed state {i} of a failed workload"
                );
            }
        }
    } else {
        assert_eq!(outs, [sentinel; 2], "batch wrote outputs on failure");
        assert_eq!(after, before, "batch changed a state on failure");
    }
    // SAFETY: `fresh` is ours, freed once.
    unsafe { replicast_scaler_state_free(fresh) };
}

/// `replicast_fitted_model_to_json`, query then fill; `None` if it fails.
fn model_json(model: *const replicast_fitted_model) -> String {
    let mut needed = 0usize;
    // SAFETY: a live model; the query passes no buffer.
    let st = unsafe {
        replicast_fitted_model_to_json(model, null_mut(), 0, &raw mut needed, null_mut())
    };
    assert_eq!(st, replicast_status::BufferTooSmall, "model query");
    let mut buf = vec![FILL; needed];
    // SAFETY: `buf` holds `needed` bytes.
    let st = unsafe {
        replicast_fitted_model_to_json(
            model,
            buf.as_mut_ptr().cast(),
            needed,
            &raw mut needed,
            null_mut(),
        )
    };
    assert_eq!(st, replicast_status::Ok, "model fill");
    CStr::from_bytes_with_nul(&buf)
        .expect("model JSON is NUL-terminated")
        .to_str()
        .expect("UTF-8")
        .to_owned()
}

/// A model's JSON must restore: what a caller persisted, it can load.
fn check_restores(model: *const replicast_fitted_model) {
    let json = model_json(model);
    let mut back = null_mut();
    let mut err = null_mut();
    // SAFETY: `json` is valid for its length; local out-pointers.
    let st = unsafe {
        replicast_fitted_model_from_json(
            json.as_ptr().cast(),
            json.len(),
            &raw mut back,
            &raw mut err,
        )
    };
    check("fitted_model_from_json of to_json", st, &raw mut err);
    assert_eq!(
        st,
        replicast_status::Ok,
        "a fitted model's to_json does not restore: {json}"
    );
    assert_eq!(
        model_json(back),
        json,
        "a fitted model restores differently"
    );
    // SAFETY: ours, freed once.
    unsafe { replicast_fitted_model_free(back) };
}

/// Predict with the input's horizon, level and array settings, then update and predict again.
fn use_model(input: &mut Input, model: *mut replicast_fitted_model, level: f64, update: f64) {
    let mut n_obs = 0usize;
    // SAFETY: a live model, a local out-pointer.
    assert_eq!(
        unsafe { replicast_fitted_model_n_obs(model, &raw mut n_obs, null_mut()) },
        replicast_status::Ok
    );
    let horizon = usize::from(input.ctl[4]);
    let out_len = horizon.saturating_add_signed(isize::from(input.ctl[6] as i8));
    // 4 guard elements past out_len must never be written
    let mut arrays = [
        vec![FILL_F64; out_len + 4],
        vec![FILL_F64; out_len + 4],
        vec![FILL_F64; out_len + 4],
    ];
    let [point, lower, upper] = &mut arrays;
    let point_ptr = if input.flag(3, 5) {
        null_mut()
    } else {
        point.as_mut_ptr()
    };
    let (lower_ptr, upper_ptr) = if input.flag(3, 6) {
        (null_mut(), null_mut())
    } else {
        (lower.as_mut_ptr(), upper.as_mut_ptr())
    };
    let mut err = null_mut();
    let err_out = input.err_out(&mut err);
    // SAFETY: each array is NULL or holds out_len + 4 doubles.
    let st = unsafe {
        replicast_fitted_model_predict(
            model, horizon, level, point_ptr, lower_ptr, upper_ptr, out_len, err_out,
        )
    };
    check("fitted_model_predict", st, err_out);
    let untouched = |a: &[f64]| a.iter().all(|v| v.to_bits() == FILL_F64.to_bits());
    if st == replicast_status::Ok {
        assert!(
            point[..horizon].iter().all(|v| v.is_finite()),
            "predict: a point is not finite"
        );
        assert!(untouched(&point[horizon..]), "predict wrote past horizon");
        if level == 0.0 {
            assert!(
                untouched(lower) && untouched(upper),
                "predict wrote intervals without a level"
            );
        } else {
            for i in 0..horizon {
                assert!(
                    lower[i] <= point[i] && point[i] <= upper[i],
                    "predict: interval [{}, {}] does not hold point {} at step {i}",
                    lower[i],
                    upper[i],
                    point[i]
                );
            }
            assert!(
                untouched(&lower[horizon..]) && untouched(&upper[horizon..]),
                "predict wrote past horizon"
            );
        }
    } else {
        assert!(
            untouched(point) && untouched(lower) && untouched(upper),
            "predict wrote on failure {st:?}"
        );
    }

    let before = model_json(model);
    let mut err = null_mut();
    let err_out = input.err_out(&mut err);
    // SAFETY: a live model.
    let st = unsafe { replicast_fitted_model_update(model, update, err_out) };
    check("fitted_model_update", st, err_out);
    if st == replicast_status::Ok {
        check_restores(model);
        let mut p = [0.0f64; 3];
        // SAFETY: `p` holds 3 doubles; no level, so lower/upper are not touched.
        let st = unsafe {
            replicast_fitted_model_predict(
                model,
                3,
                0.0,
                p.as_mut_ptr(),
                null_mut(),
                null_mut(),
                3,
                null_mut(),
            )
        };
        assert_ne!(st, replicast_status::Panic, "predict after update panicked");
    } else {
        assert_eq!(
            model_json(model),
            before,
            "update changed the model on failure {st:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::parse(data);

    // the scaler
    let (spec, spec_len) = input.text(0);
    let mut scaler: *mut replicast_scaler = NonNull::dangling().as_ptr();
    let out = if input.flag(3, 2) {
        null_mut()
    } else {
        &raw mut scaler
    };
    let mut err = null_mut();
    let err_out = input.err_out(&mut err);
    // SAFETY: `spec` is NULL or valid for `spec_len` bytes; local out-pointers.
    let st = unsafe { replicast_scaler_new(spec, spec_len, out, err_out) };
    check("scaler_new", st, err_out);
    if st == replicast_status::Ok {
        assert!(
            !scaler.is_null() && scaler != NonNull::dangling().as_ptr(),
            "scaler_new: no handle"
        );
    } else {
        assert_eq!(
            scaler,
            NonNull::dangling().as_ptr(),
            "scaler_new wrote *out on failure"
        );
        scaler = null_mut();
    }

    // the state: restored from the input, else fresh
    let (json, json_len) = input.text(1);
    let mut state: *mut replicast_scaler_state = NonNull::dangling().as_ptr();
    let mut err = null_mut();
    let err_out = input.err_out(&mut err);
    // SAFETY: `json` is NULL or valid for `json_len` bytes; local out-pointers.
    let st = unsafe { replicast_scaler_state_from_json(json, json_len, &raw mut state, err_out) };
    check("scaler_state_from_json", st, err_out);
    if st == replicast_status::Ok {
        let restored = state_json(state);
        serde_json::from_str::<serde_json::Value>(&restored).expect("state JSON");
    } else {
        assert_eq!(
            state,
            NonNull::dangling().as_ptr(),
            "state_from_json wrote *out on failure"
        );
        // SAFETY: a local out-pointer.
        assert_eq!(
            unsafe { replicast_scaler_state_new(&raw mut state, null_mut()) },
            replicast_status::Ok
        );
    }

    if !scaler.is_null() {
        let mut count = usize::MAX;
        // SAFETY: a live scaler, a local out-pointer.
        assert_eq!(
            unsafe { replicast_scaler_metric_count(scaler, &raw mut count, null_mut()) },
            replicast_status::Ok
        );
    }
    // a NULL scaler must be refused as well
    decide_json(&input, scaler, state);
    decide_batch_json(&input, scaler, state);
    decide_aggregated(&mut input, scaler, state);

    let level = match input.ctl[5] {
        0 => 0.0,
        255 => input.numbers.f64(),
        n => f64::from(n) / 255.0,
    };
    let update = input.numbers.f64();
    let y = input.numbers.rest_f64();

    // forecasting: fit, then restore a model from the input's JSON
    let (model_spec, model_spec_len) = input.text(3);
    let (y_ptr, n) = if input.flag(0, 5) {
        (null(), usize::from(input.ctl[1]))
    } else {
        (y.as_ptr(), y.len())
    };
    let mut model: *mut replicast_fitted_model = NonNull::dangling().as_ptr();
    let mut err = null_mut();
    let err_out = input.err_out(&mut err);
    // SAFETY: every pointer is NULL or valid for its length.
    let st = unsafe {
        replicast_model_fit(
            model_spec,
            model_spec_len,
            y_ptr,
            n,
            &raw mut model,
            err_out,
        )
    };
    check("model_fit", st, err_out);
    if st == replicast_status::Ok {
        check_restores(model);
        use_model(&mut input, model, level, update);
        // SAFETY: ours, freed once.
        unsafe { replicast_fitted_model_free(model) };
    } else {
        assert_eq!(
            model,
            NonNull::dangling().as_ptr(),
            "model_fit wrote *out on failure"
        );
    }

    let (fitted, fitted_len) = input.text(4);
    let mut model: *mut replicast_fitted_model = NonNull::dangling().as_ptr();
    let mut err = null_mut();
    let err_out = input.err_out(&mut err);
    // SAFETY: `fitted` is NULL or valid for its length; local out-pointers.
    let st =
        unsafe { replicast_fitted_model_from_json(fitted, fitted_len, &raw mut model, err_out) };
    check("fitted_model_from_json", st, err_out);
    if st == replicast_status::Ok {
        use_model(&mut input, model, level, update);
        // SAFETY: ours, freed once.
        unsafe { replicast_fitted_model_free(model) };
    } else {
        assert_eq!(
            model,
            NonNull::dangling().as_ptr(),
            "fitted_model_from_json wrote *out on failure"
        );
    }

    // SAFETY: ours (or NULL), freed once.
    unsafe {
        replicast_scaler_state_free(state);
        replicast_scaler_free(scaler);
        replicast_fitted_model_free(null_mut());
    }
    // SAFETY: a static string, never NULL.
    assert!(!replicast_status_name(u32::from(input.ctl[9])).is_null());
});
