//! The C ABI of replicast: `libreplicast.a` / `libreplicast.so` and `include/replicast.h`.
//!
//! Conventions (the project's STYLE.md §4):
//!
//! - every symbol starts with `replicast_`; handles are opaque (`replicast_scaler`,
//!   `replicast_scaler_state`, `replicast_fitted_model`, `replicast_error`), created through
//!   `T **out` and freed by exactly one `replicast_<type>_free` that accepts NULL;
//! - fallible calls return a [`replicast_status`]: `0` on success, the core's `ErrorKind` numbers
//!   (1–6), or `NULL_ARGUMENT` (100), `BUFFER_TOO_SMALL` (101), `PANIC` (102); their last parameter
//!   is an optional `replicast_error **err_out` that receives the message on failure (there is no
//!   thread-local "last error": goroutines move between OS threads);
//! - specs, inputs, states and decisions cross as UTF-8 JSON `(const char *, size_t)` in the
//!   core's serde schema; variable-size outputs are caller-allocated, query-then-fill
//!   `(char *buf, size_t buf_len, size_t *out_needed)`;
//! - the hot path (one aggregated value per HPA metric, summary out) uses plain `#[repr(C)]`
//!   structs and slices, no JSON;
//! - every export runs inside a panic boundary: a panic becomes `REPLICAST_STATUS_PANIC`, never an
//!   unwind across the ABI or an abort.
//!
//! Forecasting crosses as `replicast_model_fit` (a `ModelSpec` JSON and a `const double *`
//! series) into an opaque `replicast_fitted_model`, which predicts into caller-allocated
//! `double *` arrays and updates one observation at a time.

// The C names (`replicast_scaler`, `replicast_status`) are the ABI; they are not Rust-style.
#![allow(non_camel_case_types)]

mod boundary;
mod error;
mod forecast;
mod hot;
mod scaler;
mod state;
mod status;

pub use error::{
    replicast_error, replicast_error_free, replicast_error_message, replicast_error_status,
};
pub use forecast::{
    replicast_fitted_model, replicast_fitted_model_free, replicast_fitted_model_from_json,
    replicast_fitted_model_n_obs, replicast_fitted_model_predict, replicast_fitted_model_to_json,
    replicast_fitted_model_update, replicast_model_fit,
};
pub use hot::{
    replicast_aggregated_input, replicast_decision_summary, replicast_health,
    replicast_scaler_decide_aggregated, replicast_scaler_decide_aggregated_batch, replicast_stage,
};
pub use scaler::{
    replicast_scaler, replicast_scaler_decide_batch_json, replicast_scaler_decide_json,
    replicast_scaler_free, replicast_scaler_metric_count, replicast_scaler_new,
};
pub use state::{
    replicast_scaler_state, replicast_scaler_state_free, replicast_scaler_state_from_json,
    replicast_scaler_state_new, replicast_scaler_state_to_json,
};
pub use status::{replicast_status, replicast_status_name};

/// The ABI generation of this library. Bumped on every breaking change, together with the
/// `replicast_abi_vN` marker symbol.
pub const REPLICAST_ABI_VERSION: u32 = 1;

/// The library version (`"0.1.0"`), a static NUL-terminated string. Never NULL, never freed.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn replicast_version() -> *const std::ffi::c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// ABI marker: does nothing. Bindings reference it (the Go package calls it from its preamble)
/// so that linking against a library of another ABI generation fails at link time.
#[unsafe(no_mangle)]
pub extern "C" fn replicast_abi_v1() {}

/// Test-only (feature `testing`, never in the header): panics inside the panic boundary, which
/// must turn it into `REPLICAST_STATUS_PANIC` with the panic message in `*err_out`.
///
/// # Safety
/// `err_out` is NULL or valid for writing one pointer.
#[cfg(feature = "testing")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_testing_panic(
    err_out: *mut *mut replicast_error,
) -> replicast_status {
    // SAFETY: the caller's contract on `err_out`.
    unsafe {
        boundary::boundary(err_out, || -> boundary::FfiResult {
            panic!("replicast_testing_panic was called")
        })
    }
}
