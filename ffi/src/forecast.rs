//! `replicast_fitted_model`: forecasting over the C ABI (fit, update, predict, JSON).

use std::ffi::c_char;

use replicast_core::forecast::{Fit, FittedModel, Forecast, ModelSpec, Predict, Update};

use crate::boundary::{
    Failure, FfiResult, TextOut, arg, arg_mut, ffi_boundary, guard, out_ptr, slice, text,
};
use crate::error::replicast_error;
use crate::status::replicast_status;

/// A fitted forecasting model (seasonal naive, ETS or auto-selected): it forecasts the steps
/// after its last observation and absorbs new observations one at a time without refitting.
/// Persist it with `replicast_fitted_model_to_json`.
///
/// Ownership: created by `replicast_model_fit` / `replicast_fitted_model_from_json`, owned by the
/// caller, released with `replicast_fitted_model_free`. Thread-safety: not synchronised —
/// `replicast_fitted_model_update` needs the model to itself; the read-only calls (`_predict`,
/// `_n_obs`, `_to_json`) may run concurrently from several threads while no update runs. The
/// handle may move between threads between calls.
#[derive(Debug)]
pub struct replicast_fitted_model {
    pub(crate) inner: FittedModel,
}

fn boxed(inner: FittedModel) -> *mut replicast_fitted_model {
    Box::into_raw(Box::new(replicast_fitted_model { inner }))
}

/// Fits the model described by `spec_json` (UTF-8 JSON, `spec_len` bytes, no NUL needed; the
/// Rust `ModelSpec` schema: `{"kind": "seasonal_naive", "period": 24}`, `{"kind": "ets", ...}`
/// or `{"kind": "auto", "step_s": 60, ...}`) to the series `y` (`n` values, oldest first, one per
/// step, every value finite) and writes the fitted model to `*out`.
///
/// # Errors
/// `REPLICAST_STATUS_INVALID_CONFIG` for malformed JSON, an unknown kind or field, or an invalid
/// spec (naming the field); `REPLICAST_STATUS_INVALID_INPUT` for an empty series or a non-finite
/// value (naming its index); `REPLICAST_STATUS_INSUFFICIENT_DATA` when `y` is too short for the
/// model (e.g. shorter than two seasons); `REPLICAST_STATUS_NUMERICAL` if estimation breaks down.
/// `*out` is not written on failure.
///
/// # Safety
/// `spec_json` is valid for reads of `spec_len` bytes (NULL only if `spec_len` is 0); `y` is
/// valid for reads of `n` doubles (NULL only if `n` is 0); `out` is valid for writing one
/// pointer; `err_out` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_model_fit(
    spec_json: *const c_char,
    spec_len: usize,
    y: *const f64,
    n: usize,
    out: *mut *mut replicast_fitted_model,
    err_out: *mut *mut replicast_error,
) -> replicast_status {
    ffi_boundary!(err_out, {
        let out = out_ptr(out, "out")?;
        // SAFETY: the caller's contract on `spec_json` and `y`.
        let (json, y) = unsafe {
            (
                text(
                    spec_json,
                    spec_len,
                    "spec_json",
                    replicast_status::InvalidConfig,
                )?,
                slice(y, n, "y")?,
            )
        };
        let spec = ModelSpec::from_json(json)?;
        let fitted = spec.fit(y)?;
        // SAFETY: `out` is non-NULL and, by contract, writable.
        unsafe { out.write(boxed(fitted)) };
        Ok(())
    })
}

/// Absorbs `y`, the observation one step after the model's last one, without refitting (O(1),
/// O(period) at worst; an auto model may refit itself when its chosen model degrades).
///
/// # Errors
/// `REPLICAST_STATUS_INVALID_INPUT` if `y` is NaN or infinite; the model is unchanged then.
///
/// # Safety
/// `model` is NULL or a live model handle that no other thread uses during the call; `err_out`
/// is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_fitted_model_update(
    model: *mut replicast_fitted_model,
    y: f64,
    err_out: *mut *mut replicast_error,
) -> replicast_status {
    ffi_boundary!(err_out, {
        // SAFETY: the caller's contract on `model`.
        let model = unsafe { arg_mut(model, "model") }?;
        // Update a copy, so that a failure (or a panic) part-way leaves the model as it was.
        let mut next = model.inner.clone();
        next.update(y)?;
        model.inner = next;
        Ok(())
    })
}

/// Forecasts steps `1..=horizon` after the model's last observation into the caller's arrays:
/// `point[i]` is the forecast `i + 1` steps ahead and, when `level` is not 0, `lower[i]` /
/// `upper[i]` bound the central prediction interval of coverage `level` (in (0, 1), e.g. 0.9).
/// With `level` 0 no interval is computed and `lower` / `upper` are not touched (they may be
/// NULL). Each array holds `out_len` doubles, which must be at least `horizon`; elements from
/// `horizon` on are not written. Nothing is written on failure.
///
/// # Errors
/// `REPLICAST_STATUS_BUFFER_TOO_SMALL` when `out_len < horizon`; `REPLICAST_STATUS_INVALID_INPUT`
/// when `horizon` is 0 or `level` is neither 0 nor in (0, 1); `REPLICAST_STATUS_INSUFFICIENT_DATA`
/// when the model declines to forecast (an auto model after every candidate did badly);
/// `REPLICAST_STATUS_NUMERICAL` if a forecast is not finite.
///
/// # Safety
/// `model` is NULL or a live model handle not being updated by another thread; `point` is valid
/// for writes of `out_len` doubles (NULL only if `out_len` is 0); unless `level` is 0, so are
/// `lower` and `upper`; `err_out` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_fitted_model_predict(
    model: *const replicast_fitted_model,
    horizon: usize,
    level: f64,
    point: *mut f64,
    lower: *mut f64,
    upper: *mut f64,
    out_len: usize,
    err_out: *mut *mut replicast_error,
) -> replicast_status {
    ffi_boundary!(err_out, {
        // SAFETY: the caller's contract on `model`.
        let model = unsafe { arg(model, "model") }?;
        let level = (level != 0.0).then_some(level);
        if out_len > 0 {
            out_ptr(point, "point")?;
            if level.is_some() {
                out_ptr(lower, "lower (with a non-zero level)")?;
                out_ptr(upper, "upper (with a non-zero level)")?;
            }
        }
        if out_len < horizon {
            return Err(Failure::new(
                replicast_status::BufferTooSmall,
                format!("out_len must be at least horizon ({horizon}), got {out_len}"),
            ));
        }
        let mut fc = Forecast::default();
        model.inner.predict_into(horizon, level, &mut fc)?;
        let write = |dst: *mut f64, src: &[f64], name: &str| -> FfiResult {
            if src.len() != horizon {
                return Err(Failure::new(
                    replicast_status::Numerical,
                    format!(
                        "the model returned {} {name} values for horizon {horizon}",
                        src.len()
                    ),
                ));
            }
            // SAFETY: `dst` is non-NULL (checked above, as `horizon > 0` implies `out_len > 0`)
            // and valid for `out_len >= horizon` writes; Rust's vector does not overlap it.
            unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst, horizon) };
            Ok(())
        };
        match (level, &fc.intervals) {
            (None, _) => write(point, &fc.point, "point"),
            (Some(_), Some(iv)) => {
                // Check every length before writing anything.
                if iv.lower.len() != horizon || iv.upper.len() != horizon {
                    return Err(Failure::new(
                        replicast_status::Numerical,
                        "the model returned intervals of the wrong length",
                    ));
                }
                write(point, &fc.point, "point")?;
                write(lower, &iv.lower, "lower")?;
                write(upper, &iv.upper, "upper")
            }
            (Some(_), None) => Err(Failure::new(
                replicast_status::Numerical,
                "the model returned no interval for a non-zero level",
            )),
        }
    })
}

/// Writes to `*out` how many observations the model has absorbed (fit plus updates).
///
/// # Safety
/// `model` is NULL or a live model handle not being updated by another thread; `out` is valid
/// for writing one `size_t`; `err_out` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_fitted_model_n_obs(
    model: *const replicast_fitted_model,
    out: *mut usize,
    err_out: *mut *mut replicast_error,
) -> replicast_status {
    ffi_boundary!(err_out, {
        // SAFETY: the caller's contract on `model`.
        let model = unsafe { arg(model, "model") }?;
        let out = out_ptr(out, "out")?;
        // SAFETY: `out` is non-NULL and, by contract, writable.
        unsafe { out.write(model.inner.n_obs()) };
        Ok(())
    })
}

/// Serialises `model` as compact JSON (the Rust `FittedModel` serde form, `{"kind": ...}`) into
/// the caller's buffer: query-then-fill, as in `replicast_scaler_state_to_json` (`*out_needed`
/// always receives the JSON bytes plus the NUL; a short buffer is left untouched and the call
/// returns `REPLICAST_STATUS_BUFFER_TOO_SMALL`).
///
/// # Safety
/// `model` is NULL or a live model handle not being updated by another thread; `buf` is valid
/// for writes of `buf_len` bytes (NULL only if `buf_len` is 0); `out_needed` is valid for
/// writing one `size_t`; `err_out` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_fitted_model_to_json(
    model: *const replicast_fitted_model,
    buf: *mut c_char,
    buf_len: usize,
    out_needed: *mut usize,
    err_out: *mut *mut replicast_error,
) -> replicast_status {
    ffi_boundary!(err_out, {
        // SAFETY: the caller's contract on `model`.
        let model = unsafe { arg(model, "model") }?;
        let out = TextOut::new(buf, buf_len, out_needed)?;
        let json = serde_json::to_string(&model.inner).map_err(|e| {
            Failure::new(
                replicast_status::Serialization,
                format!("cannot serialise the model: {e}"),
            )
        })?;
        // SAFETY: the caller's contract on `buf` and `out_needed`.
        unsafe { out.write(&json) }
    })
}

/// Restores a model from `replicast_fitted_model_to_json` output (`json`, `json_len` bytes of
/// UTF-8, no NUL needed) into `*out`.
///
/// # Errors
/// `REPLICAST_STATUS_SERIALIZATION` for malformed JSON, or JSON that does not describe a usable
/// model (it must forecast one step).
///
/// # Safety
/// `json` is valid for reads of `json_len` bytes (NULL only if `json_len` is 0); `out` is valid
/// for writing one pointer; `err_out` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_fitted_model_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut *mut replicast_fitted_model,
    err_out: *mut *mut replicast_error,
) -> replicast_status {
    ffi_boundary!(err_out, {
        let out = out_ptr(out, "out")?;
        // SAFETY: the caller's contract on `json`.
        let json = unsafe { text(json, json_len, "json", replicast_status::Serialization) }?;
        let inner = FittedModel::from_json(json)?;
        // SAFETY: `out` is non-NULL and, by contract, writable.
        unsafe { out.write(boxed(inner)) };
        Ok(())
    })
}

/// Releases `model`; NULL is a no-op.
///
/// # Safety
/// `model` is NULL or a live model handle that no call is using, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_fitted_model_free(model: *mut replicast_fitted_model) {
    guard((), || {
        if !model.is_null() {
            // SAFETY: the caller's contract: `model` came from `Box::into_raw`, freed once.
            drop(unsafe { Box::from_raw(model) });
        }
    });
}
