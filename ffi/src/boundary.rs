//! The panic boundary and the argument checks every export goes through.
//!
//! [`ffi_boundary!`] (a thin wrapper over [`boundary`]) clears `*err_out`, runs the body under
//! `catch_unwind`, and turns a failure or a panic into a status plus, when the caller asked for
//! it, a `replicast_error` handle. Bodies return [`FfiResult`]; the helpers below turn NULL
//! pointers, bad slices, bad UTF-8 and short buffers into failures with messages that name the
//! argument.

use std::any::Any;
use std::ffi::c_char;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::replicast_error;
use crate::status::replicast_status;

/// A failed call: the status to return and the message for `*err_out`.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: replicast_status,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: replicast_status, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn null(name: &str) -> Self {
        Self::new(
            replicast_status::NullArgument,
            format!("{name} must not be NULL"),
        )
    }

    fn panic(payload: &(dyn Any + Send)) -> Self {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-string payload".to_owned());
        Self::new(
            replicast_status::Panic,
            format!("replicast panicked (a bug, please report it): {what}"),
        )
    }
}

impl From<replicast_core::Error> for Failure {
    fn from(e: replicast_core::Error) -> Self {
        Self::new(replicast_status::of_kind(e.kind()), e.message())
    }
}

/// What an export's body returns.
pub(crate) type FfiResult<T = ()> = Result<T, Failure>;

/// Runs `body` inside the panic boundary and reports its outcome (see the module docs).
///
/// # Safety
/// `err_out` is NULL or valid for writing one pointer.
pub(crate) unsafe fn boundary(
    err_out: *mut *mut replicast_error,
    body: impl FnOnce() -> FfiResult,
) -> replicast_status {
    if !err_out.is_null() {
        // SAFETY: the caller's contract.
        unsafe { err_out.write(std::ptr::null_mut()) };
    }
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|p| Err(Failure::panic(&*p)));
    match outcome {
        Ok(()) => replicast_status::Ok,
        Err(failure) => {
            let status = failure.status;
            if !err_out.is_null() {
                // Building the error handle allocates; a panic there is caught too, leaving
                // `*err_out` NULL.
                if let Ok(handle) = catch_unwind(AssertUnwindSafe(|| replicast_error::new(failure)))
                {
                    // SAFETY: the caller's contract.
                    unsafe { err_out.write(Box::into_raw(Box::new(handle))) };
                }
            }
            status
        }
    }
}

/// `ffi_boundary!(err_out, { body })`: the body of every fallible export (see [`boundary`]).
macro_rules! ffi_boundary {
    ($err_out:expr, $body:block) => {{
        let body = || -> $crate::boundary::FfiResult { $body };
        // SAFETY: every export documents `err_out` as NULL or valid for writing one pointer.
        unsafe { $crate::boundary::boundary($err_out, body) }
    }};
}
pub(crate) use ffi_boundary;

/// Runs an infallible export (a getter, a `_free`) inside the panic boundary; a panic yields
/// `fallback`.
pub(crate) fn guard<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// `&*ptr`, or a `NULL_ARGUMENT` failure naming `name`.
///
/// # Safety
/// `ptr` is NULL or valid for reads as a `T` for `'a`.
pub(crate) unsafe fn arg<'a, T>(ptr: *const T, name: &str) -> FfiResult<&'a T> {
    // SAFETY: the caller's contract.
    unsafe { ptr.as_ref() }.ok_or_else(|| Failure::null(name))
}

/// `&mut *ptr`, or a `NULL_ARGUMENT` failure naming `name`.
///
/// # Safety
/// `ptr` is NULL or valid for reads and writes as a `T` for `'a`, with no other reference.
pub(crate) unsafe fn arg_mut<'a, T>(ptr: *mut T, name: &str) -> FfiResult<&'a mut T> {
    // SAFETY: the caller's contract.
    unsafe { ptr.as_mut() }.ok_or_else(|| Failure::null(name))
}

/// Checks that an output pointer is not NULL.
pub(crate) fn out_ptr<T>(ptr: *mut T, name: &str) -> FfiResult<*mut T> {
    if ptr.is_null() {
        Err(Failure::null(name))
    } else {
        Ok(ptr)
    }
}

/// The slice `(ptr, len)`; `ptr` may be NULL only when `len` is 0.
///
/// # Safety
/// Unless NULL, `ptr` is valid for reads of `len` elements for `'a`.
pub(crate) unsafe fn slice<'a, T>(ptr: *const T, len: usize, name: &str) -> FfiResult<&'a [T]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: the caller's contract; `ptr` is non-NULL.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// The UTF-8 text `(ptr, len)` (no terminating NUL needed); invalid UTF-8 fails with `status`.
///
/// # Safety
/// As [`slice`].
pub(crate) unsafe fn text<'a>(
    ptr: *const c_char,
    len: usize,
    name: &str,
    status: replicast_status,
) -> FfiResult<&'a str> {
    // SAFETY: the caller's contract.
    let bytes = unsafe { slice(ptr.cast::<u8>(), len, name) }?;
    std::str::from_utf8(bytes)
        .map_err(|e| Failure::new(status, format!("{name} must be UTF-8 text: {e}")))
}

/// A caller-allocated text output `(buf, buf_len, out_needed)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextOut {
    buf: *mut c_char,
    buf_len: usize,
    out_needed: *mut usize,
}

impl TextOut {
    /// Checks the pointers (`out_needed` is required; `buf` may be NULL only when `buf_len` is 0).
    pub(crate) fn new(buf: *mut c_char, buf_len: usize, out_needed: *mut usize) -> FfiResult<Self> {
        out_ptr(out_needed, "out_needed")?;
        if buf.is_null() && buf_len != 0 {
            return Err(Failure::null("buf (with a non-zero buf_len)"));
        }
        Ok(Self {
            buf,
            buf_len,
            out_needed,
        })
    }

    /// Whether `text` plus its NUL fits.
    pub(crate) fn fits(self, text: &str) -> bool {
        text.len() < self.buf_len
    }

    /// Writes `*out_needed = text.len() + 1` and, if it fits, `text` and a NUL into the buffer;
    /// otherwise fails with `BUFFER_TOO_SMALL` (the buffer is untouched).
    ///
    /// # Safety
    /// The pointers given to [`TextOut::new`] are valid: `out_needed` for one write, `buf` for
    /// `buf_len` bytes.
    pub(crate) unsafe fn write(self, text: &str) -> FfiResult {
        let needed = text.len() + 1;
        // SAFETY: the caller's contract.
        unsafe { self.out_needed.write(needed) };
        if !self.fits(text) {
            return Err(Failure::new(
                replicast_status::BufferTooSmall,
                format!(
                    "buf_len must be at least {needed} (the text plus its NUL), got {}",
                    self.buf_len
                ),
            ));
        }
        // SAFETY: the caller's contract; `needed <= buf_len`, and Rust's text does not overlap
        // the caller's buffer.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), self.buf.cast::<u8>(), text.len());
            self.buf.add(text.len()).write(0);
        }
        Ok(())
    }
}
