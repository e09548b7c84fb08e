//! `replicast_status`: what every fallible export returns.

use std::ffi::c_char;

use replicast_core::ErrorKind;

/// The result of a fallible call: `REPLICAST_STATUS_OK` (0), one of the core's error kinds
/// (1–6, the numbers every binding shares), or a condition of the C boundary itself (100–102).
///
/// Returned as `uint32_t`; new values may be added, so C code should treat unknown values as
/// errors.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum replicast_status {
    /// Success; outputs were written.
    Ok = 0,
    /// An observation or argument is unusable (NaN, negative, out of order, wrong length, an
    /// unknown enum value).
    InvalidInput = 1,
    /// A spec is malformed or out of range.
    InvalidConfig = 2,
    /// Not enough data for what was asked.
    InsufficientData = 3,
    /// An estimation did not converge.
    NotConverged = 4,
    /// A computation produced a non-finite or out-of-range number.
    Numerical = 5,
    /// A state or other JSON could not be (de)serialised.
    Serialization = 6,
    /// A required pointer argument was NULL.
    NullArgument = 100,
    /// The caller's output buffer is too small; `*out_needed` holds the size required.
    BufferTooSmall = 101,
    /// replicast panicked (a bug); the message says where. Handles passed in are unchanged.
    Panic = 102,
}

impl replicast_status {
    /// The status for a core error kind (the numbers are identical by contract).
    #[allow(clippy::match_same_arms)] // the wildcard's fallback is deliberate, see below
    pub(crate) fn of_kind(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::InvalidInput => Self::InvalidInput,
            ErrorKind::InvalidConfig => Self::InvalidConfig,
            ErrorKind::InsufficientData => Self::InsufficientData,
            ErrorKind::NotConverged => Self::NotConverged,
            ErrorKind::Numerical => Self::Numerical,
            ErrorKind::Serialization => Self::Serialization,
            // `ErrorKind` is non-exhaustive: a kind added to the core without a status here is
            // caught by the `status_numbers_match_error_kinds` test; until then it reads as
            // invalid input rather than as success.
            _ => Self::InvalidInput,
        }
    }

    /// A short stable name (`"ok"`, `"invalid_input"`, `"null_argument"`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.as_cstr().to_str().unwrap_or("unknown")
    }

    fn as_cstr(self) -> &'static std::ffi::CStr {
        match self {
            Self::Ok => c"ok",
            Self::InvalidInput => c"invalid_input",
            Self::InvalidConfig => c"invalid_config",
            Self::InsufficientData => c"insufficient_data",
            Self::NotConverged => c"not_converged",
            Self::Numerical => c"numerical",
            Self::Serialization => c"serialization",
            Self::NullArgument => c"null_argument",
            Self::BufferTooSmall => c"buffer_too_small",
            Self::Panic => c"panic",
        }
    }
}

impl TryFrom<u32> for replicast_status {
    type Error = u32;

    fn try_from(value: u32) -> Result<Self, u32> {
        Ok(match value {
            0 => Self::Ok,
            1 => Self::InvalidInput,
            2 => Self::InvalidConfig,
            3 => Self::InsufficientData,
            4 => Self::NotConverged,
            5 => Self::Numerical,
            6 => Self::Serialization,
            100 => Self::NullArgument,
            101 => Self::BufferTooSmall,
            102 => Self::Panic,
            other => return Err(other),
        })
    }
}

/// The stable name of a status (`"invalid_config"`), or `"unknown"` for a value that is not a
/// `replicast_status`. A static NUL-terminated string: never NULL, never freed.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn replicast_status_name(status: u32) -> *const c_char {
    replicast_status::try_from(status)
        .map_or(c"unknown", replicast_status::as_cstr)
        .as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_numbers_match_error_kinds() {
        for kind in [
            ErrorKind::InvalidInput,
            ErrorKind::InvalidConfig,
            ErrorKind::InsufficientData,
            ErrorKind::NotConverged,
            ErrorKind::Numerical,
            ErrorKind::Serialization,
        ] {
            assert_eq!(replicast_status::of_kind(kind) as u32, kind as u32);
            assert_eq!(replicast_status::of_kind(kind).as_str(), kind.as_str());
        }
    }

    #[test]
    fn try_from_round_trips() {
        for n in 0..200 {
            if let Ok(s) = replicast_status::try_from(n) {
                assert_eq!(s as u32, n);
            }
        }
        assert_eq!(replicast_status::try_from(7), Err(7));
    }
}
