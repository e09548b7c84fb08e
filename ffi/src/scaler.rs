//! `replicast_scaler`: a validated spec, and the JSON forms of `decide`.

use std::ffi::c_char;

use replicast_core::{Decision, DecisionInput, Scaler, ScalerSpec, ScalerState};
use serde::Serialize;

use crate::boundary::{
    Failure, FfiResult, TextOut, arg, ffi_boundary, guard, out_ptr, slice, text,
};
use crate::error::replicast_error;
use crate::state::{replicast_scaler_state, states_mut};
use crate::status::replicast_status;

/// A validated spec, ready to decide for any number of workloads (each with its own
/// `replicast_scaler_state`).
///
/// Ownership: created by `replicast_scaler_new`, owned by the caller, released with
/// `replicast_scaler_free`. Thread-safety: immutable after creation — one scaler may be used by
/// any number of threads at once (with distinct states); free it only when no call is running.
#[derive(Debug)]
pub struct replicast_scaler {
    pub(crate) inner: Scaler,
    /// How many HPA metrics the spec has (the length of an aggregated input's values).
    pub(crate) metric_count: usize,
}

/// Parses a spec (UTF-8 JSON, `spec_len` bytes, no NUL needed; the same schema as the Rust
/// `ScalerSpec::from_json`: replicast's own format, a Kubernetes `HorizontalPodAutoscaler`
/// manifest, or the seed's threshold settings), validates it and writes a new scaler to `*out`.
///
/// # Errors
/// `REPLICAST_STATUS_INVALID_CONFIG` naming the first invalid field (also for malformed JSON or
/// text that is not UTF-8).
///
/// # Safety
/// `spec_json` is valid for reads of `spec_len` bytes (NULL only if `spec_len` is 0); `out` is
/// valid for writing one pointer; `err_out` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_scaler_new(
    spec_json: *const c_char,
    spec_len: usize,
    out: *mut *mut replicast_scaler,
    err_out: *mut *mut replicast_error,
) -> replicast_status {
    ffi_boundary!(err_out, {
        let out = out_ptr(out, "out")?;
        // SAFETY: the caller's contract on `spec_json`.
        let json = unsafe {
            text(
                spec_json,
                spec_len,
                "spec_json",
                replicast_status::InvalidConfig,
            )
        }?;
        let spec = ScalerSpec::from_json(json)?;
        let inner = Scaler::new(spec)?;
        let handle = Box::new(replicast_scaler {
            metric_count: inner.metric_input_count(),
            inner,
        });
        // SAFETY: `out` is non-NULL and, by contract, writable.
        unsafe { out.write(Box::into_raw(handle)) };
        Ok(())
    })
}

/// Releases `scaler`; NULL is a no-op.
///
/// # Safety
/// `scaler` is NULL or a live scaler handle that no call is using, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_scaler_free(scaler: *mut replicast_scaler) {
    guard((), || {
        if !scaler.is_null() {
            // SAFETY: the caller's contract: `scaler` came from `Box::into_raw`, freed once.
            drop(unsafe { Box::from_raw(scaler) });
        }
    });
}

/// Writes to `*out` how many HPA metrics the scaler's spec has: the number of values each
/// aggregated input carries (0 for a spec without an `hpa` source).
///
/// # Safety
/// `scaler` is NULL or a live scaler handle; `out` is valid for writing one `size_t`; `err_out`
/// is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_scaler_metric_count(
    scaler: *const replicast_scaler,
    out: *mut usize,
    err_out: *mut *mut replicast_error,
) -> replicast_status {
    ffi_boundary!(err_out, {
        // SAFETY: the caller's contract on `scaler`.
        let scaler = unsafe { arg(scaler, "scaler") }?;
        let out = out_ptr(out, "out")?;
        // SAFETY: `out` is non-NULL and, by contract, writable.
        unsafe { out.write(scaler.metric_count) };
        Ok(())
    })
}

fn parse_input<T: serde::de::DeserializeOwned>(json: &str, what: &str) -> FfiResult<T> {
    serde_json::from_str(json).map_err(|e| {
        Failure::new(
            replicast_status::InvalidInput,
            format!("invalid {what}: {e}"),
        )
    })
}

fn to_json<T: Serialize>(value: &T) -> FfiResult<String> {
    serde_json::to_string(value).map_err(|e| {
        Failure::new(
            replicast_status::Serialization,
            format!("cannot serialise the output: {e}"),
        )
    })
}

/// Decides for one workload: `input_json` is a `DecisionInput` (UTF-8 JSON, `input_len` bytes)
/// and the `Decision` is written as JSON into the caller's buffer, query-then-fill as in
/// `replicast_scaler_state_to_json` (`*out_needed` = JSON bytes + NUL).
///
/// `state` is updated only when the call returns `REPLICAST_STATUS_OK`: after
/// `REPLICAST_STATUS_BUFFER_TOO_SMALL` call again with the same input and a buffer of
/// `*out_needed` bytes (the decision is deterministic). A 4 KiB buffer holds the decision of a
/// typical one- or two-metric spec.
///
/// # Errors
/// `REPLICAST_STATUS_INVALID_INPUT` for malformed JSON or unusable observations (NaN, negative
/// values, a timestamp before the state's last decision, the wrong number of metric inputs).
///
/// # Safety
/// `scaler` is NULL or a live scaler handle; `state` is NULL or a live state handle that no
/// other thread uses during the call; `input_json` is valid for reads of `input_len` bytes (NULL
/// only if `input_len` is 0); `buf` is valid for writes of `buf_len` bytes (NULL only if
/// `buf_len` is 0); `out_needed` is valid for writing one `size_t`; `err_out` is NULL or valid
/// for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_scaler_decide_json(
    scaler: *const replicast_scaler,
    state: *mut replicast_scaler_state,
    input_json: *const c_char,
    input_len: usize,
    buf: *mut c_char,
    buf_len: usize,
    out_needed: *mut usize,
    err_out: *mut *mut replicast_error,
) -> replicast_status {
    ffi_boundary!(err_out, {
        // SAFETY: the caller's contract on `scaler`.
        let scaler = unsafe { arg(scaler, "scaler") }?;
        // SAFETY: the caller's contract on `state`.
        let state = unsafe { crate::boundary::arg_mut(state, "state") }?;
        let out = TextOut::new(buf, buf_len, out_needed)?;
        // SAFETY: the caller's contract on `input_json`.
        let json = unsafe {
            text(
                input_json,
                input_len,
                "input_json",
                replicast_status::InvalidInput,
            )
        }?;
        let input = DecisionInput::from_json(json)?;
        let mut next = state.inner.clone();
        let decision = scaler.inner.decide(&mut next, &input)?;
        // SAFETY: the caller's contract on `buf` and `out_needed`.
        unsafe { out.write(&to_json(&decision)?) }?;
        state.inner = next;
        Ok(())
    })
}

/// One workload's outcome in `replicast_scaler_decide_batch_json` output.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum BatchOutcome {
    Decision(Box<Decision>),
    Error { code: u32, message: String },
}

/// Decides for `n_states` workloads with one scaler: `inputs_json` is a JSON array of
/// `n_states` `DecisionInput`s (`states[i]` goes with element `i`); the output is a JSON array of
/// the same length whose elements are `{"decision": {...}}` or `{"error": {"code": N,
/// "message": "..."}}`, written query-then-fill as in `replicast_scaler_decide_json`.
///
/// A failed workload does not fail the call: its state is left as it was, the others proceed.
/// No state changes unless the call returns `REPLICAST_STATUS_OK`.
///
/// # Errors
/// `REPLICAST_STATUS_INVALID_INPUT` for malformed JSON, an array of the wrong length, or a state
/// handle listed twice.
///
/// # Safety
/// `scaler` is NULL or a live scaler handle; `states` is valid for reads of `n_states` pointers
/// (NULL only if `n_states` is 0), each a live state handle that no other thread uses during the
/// call; the text and buffer arguments as in `replicast_scaler_decide_json`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_scaler_decide_batch_json(
    scaler: *const replicast_scaler,
    states: *const *mut replicast_scaler_state,
    n_states: usize,
    inputs_json: *const c_char,
    inputs_len: usize,
    buf: *mut c_char,
    buf_len: usize,
    out_needed: *mut usize,
    err_out: *mut *mut replicast_error,
) -> replicast_status {
    ffi_boundary!(err_out, {
        // SAFETY: the caller's contract on `scaler`.
        let scaler = unsafe { arg(scaler, "scaler") }?;
        // SAFETY: the caller's contract on `states`.
        let handles = unsafe { slice(states, n_states, "states") }?;
        // SAFETY: the caller's contract on each handle.
        let mut states = unsafe { states_mut(handles) }?;
        let out = TextOut::new(buf, buf_len, out_needed)?;
        // SAFETY: the caller's contract on `inputs_json`.
        let json = unsafe {
            text(
                inputs_json,
                inputs_len,
                "inputs_json",
                replicast_status::InvalidInput,
            )
        }?;
        let inputs: Vec<DecisionInput> = parse_input(json, "decision inputs")?;
        if inputs.len() != states.len() {
            return Err(Failure::new(
                replicast_status::InvalidInput,
                format!(
                    "inputs_json must have one element per state ({}), got {}",
                    states.len(),
                    inputs.len()
                ),
            ));
        }
        let mut next: Vec<ScalerState> = states.iter().map(|s| s.inner.clone()).collect();
        let outcomes: Vec<BatchOutcome> = scaler
            .inner
            .decide_batch(&mut next, &inputs)?
            .into_iter()
            .map(|r| match r {
                Ok(d) => BatchOutcome::Decision(Box::new(d)),
                Err(e) => BatchOutcome::Error {
                    code: replicast_status::of_kind(e.kind()) as u32,
                    message: e.message().to_owned(),
                },
            })
            .collect();
        // SAFETY: the caller's contract on `buf` and `out_needed`.
        unsafe { out.write(&to_json(&outcomes)?) }?;
        for (state, n) in states.iter_mut().zip(next) {
            state.inner = n;
        }
        Ok(())
    })
}
