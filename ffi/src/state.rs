//! `replicast_scaler_state`: one workload's memory between decisions.

use std::ffi::c_char;

use replicast_core::ScalerState;

use crate::boundary::{FfiResult, TextOut, arg, ffi_boundary, guard, out_ptr, text};
use crate::error::replicast_error;
use crate::status::replicast_status;

/// What a scaler remembers about one workload (recommendation history, scale events, the last
/// decision and rescale instants). Serialise it with `replicast_scaler_state_to_json` to persist
/// it between controller restarts.
///
/// Ownership: created by `replicast_scaler_state_new` / `_from_json`, owned by the caller,
/// released with `replicast_scaler_state_free`. Thread-safety: not synchronised — one call at a
/// time per state (it may move between threads between calls); distinct states may be used
/// concurrently, even with one shared scaler.
#[derive(Debug)]
pub struct replicast_scaler_state {
    pub(crate) inner: ScalerState,
}

fn boxed(inner: ScalerState) -> *mut replicast_scaler_state {
    Box::into_raw(Box::new(replicast_scaler_state { inner }))
}

/// Creates a fresh state, as for a workload never seen before, into `*out`.
///
/// # Safety
/// `out` is valid for writing one pointer; `err_out` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_scaler_state_new(
    out: *mut *mut replicast_scaler_state,
    err_out: *mut *mut replicast_error,
) -> replicast_status {
    ffi_boundary!(err_out, {
        let out = out_ptr(out, "out")?;
        // SAFETY: `out` is non-NULL and, by contract, writable.
        unsafe { out.write(boxed(ScalerState::new())) };
        Ok(())
    })
}

/// Restores a state from `replicast_scaler_state_to_json` output (`json`, `json_len` bytes of
/// UTF-8, no NUL needed) into `*out`.
///
/// # Errors
/// `REPLICAST_STATUS_SERIALIZATION` for malformed JSON or an unsupported state version.
///
/// # Safety
/// `json` is valid for reads of `json_len` bytes (NULL only if `json_len` is 0); `out` is valid
/// for writing one pointer; `err_out` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_scaler_state_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut *mut replicast_scaler_state,
    err_out: *mut *mut replicast_error,
) -> replicast_status {
    ffi_boundary!(err_out, {
        let out = out_ptr(out, "out")?;
        // SAFETY: the caller's contract on `json`.
        let json = unsafe { text(json, json_len, "json", replicast_status::Serialization) }?;
        let inner = ScalerState::from_json(json)?;
        // SAFETY: `out` is non-NULL and, by contract, writable.
        unsafe { out.write(boxed(inner)) };
        Ok(())
    })
}

/// Serialises `state` as compact JSON into the caller's buffer: query-then-fill.
///
/// `*out_needed` always receives the bytes needed (the JSON plus a terminating NUL). If `buf_len`
/// is smaller, nothing is written to `buf` and the call returns `REPLICAST_STATUS_BUFFER_TOO_SMALL`;
/// call again with a buffer of `*out_needed` bytes. `buf` may be NULL when `buf_len` is 0 (the
/// query).
///
/// # Safety
/// `state` is NULL or a live state handle not used by another thread during the call; `buf` is
/// valid for writes of `buf_len` bytes (NULL only if `buf_len` is 0); `out_needed` is valid for
/// writing one `size_t`; `err_out` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_scaler_state_to_json(
    state: *const replicast_scaler_state,
    buf: *mut c_char,
    buf_len: usize,
    out_needed: *mut usize,
    err_out: *mut *mut replicast_error,
) -> replicast_status {
    ffi_boundary!(err_out, {
        // SAFETY: the caller's contract on `state`.
        let state = unsafe { arg(state, "state") }?;
        let out = TextOut::new(buf, buf_len, out_needed)?;
        let json = state.inner.to_json();
        // SAFETY: the caller's contract on `buf` and `out_needed`.
        unsafe { out.write(&json) }
    })
}

/// Releases `state`; NULL is a no-op.
///
/// # Safety
/// `state` is NULL or a live state handle, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_scaler_state_free(state: *mut replicast_scaler_state) {
    guard((), || {
        if !state.is_null() {
            // SAFETY: the caller's contract: `state` came from `Box::into_raw`, freed once.
            drop(unsafe { Box::from_raw(state) });
        }
    });
}

/// Collects `n` state handles as exclusive references, refusing NULLs and duplicates.
///
/// # Safety
/// Each non-NULL pointer is a live state handle that no other thread uses during the call.
pub(crate) unsafe fn states_mut<'a>(
    states: &[*mut replicast_scaler_state],
) -> FfiResult<Vec<&'a mut replicast_scaler_state>> {
    let mut seen = std::collections::HashMap::with_capacity(states.len());
    let mut out = Vec::with_capacity(states.len());
    for (i, &p) in states.iter().enumerate() {
        if p.is_null() {
            return Err(crate::boundary::Failure::null(&format!("states[{i}]")));
        }
        if let Some(first) = seen.insert(p as usize, i) {
            return Err(crate::boundary::Failure::new(
                replicast_status::InvalidInput,
                format!(
                    "states[{i}] is the same handle as states[{first}]: each workload needs its own state"
                ),
            ));
        }
        // SAFETY: the caller's contract; NULLs and duplicates were refused above, so the
        // references are valid and exclusive.
        out.push(unsafe { &mut *p });
    }
    Ok(out)
}
