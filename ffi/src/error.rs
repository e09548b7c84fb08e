//! `replicast_error`: the message of a failed call.

use std::ffi::{CString, c_char};

use crate::boundary::{Failure, guard};
use crate::status::replicast_status;

/// An error: a status and a message naming the offending argument, field or value.
///
/// Ownership: created by a failing call into the caller's `replicast_error **err_out`, owned by
/// the caller, released with `replicast_error_free`. Thread-safety: immutable; it may be read
/// from any thread, and freed once.
#[derive(Debug)]
pub struct replicast_error {
    status: replicast_status,
    message: CString,
}

impl replicast_error {
    pub(crate) fn new(failure: Failure) -> Self {
        let Failure { status, message } = failure;
        let message = CString::new(message).unwrap_or_else(|e| {
            let text = String::from_utf8_lossy(&e.into_vec()).replace('\0', "\\0");
            CString::new(text).unwrap_or_default()
        });
        Self { status, message }
    }
}

/// The status of `err` (never `REPLICAST_STATUS_OK`); `REPLICAST_STATUS_NULL_ARGUMENT` if `err`
/// is NULL.
///
/// # Safety
/// `err` is NULL or a live handle from this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_error_status(err: *const replicast_error) -> replicast_status {
    guard(replicast_status::Panic, || {
        // SAFETY: the caller's contract.
        unsafe { err.as_ref() }.map_or(replicast_status::NullArgument, |e| e.status)
    })
}

/// The message of `err`: NUL-terminated UTF-8, borrowed from `err` (valid until
/// `replicast_error_free(err)`); `""` if `err` is NULL. Never NULL.
///
/// # Safety
/// `err` is NULL or a live handle from this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_error_message(err: *const replicast_error) -> *const c_char {
    guard(c"".as_ptr(), || {
        // SAFETY: the caller's contract.
        unsafe { err.as_ref() }.map_or(c"".as_ptr(), |e| e.message.as_ptr())
    })
}

/// Releases `err`; NULL is a no-op.
///
/// # Safety
/// `err` is NULL or a live handle from this library, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn replicast_error_free(err: *mut replicast_error) {
    guard((), || {
        if !err.is_null() {
            // SAFETY: the caller's contract: `err` came from `Box::into_raw` and is freed once.
            drop(unsafe { Box::from_raw(err) });
        }
    });
}
