//! The one error type of the crate.
//!
//! [`Error`] is opaque: callers branch on [`Error::kind`] and show the message. The
//! [`ErrorKind`] numbers are the cross-language contract (C status codes, Python `.code`,
//! Go `Code`) and are never renumbered or reused.

use std::fmt;

/// What went wrong, as a stable number shared by every binding.
///
/// ```
/// use replicast::{ErrorKind, ScalerSpec};
/// let err = ScalerSpec::from_yaml("min_replicas: 5\nmax_replicas: 2\n").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidConfig);
/// assert_eq!(err.kind() as u32, 2);
/// ```
#[non_exhaustive]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// An observation or argument is unusable: NaN, infinite, negative, out of order, inconsistent.
    InvalidInput = 1,
    /// A spec is malformed or has a value outside its valid range.
    InvalidConfig = 2,
    /// Not enough data to compute what was asked (e.g. no metrics for any pod).
    InsufficientData = 3,
    /// An estimation did not converge.
    NotConverged = 4,
    /// A computation produced a non-finite or out-of-range number.
    Numerical = 5,
    /// A state or spec could not be (de)serialised.
    Serialization = 6,
}

impl ErrorKind {
    /// A short lowercase name, stable across releases (`"invalid_config"`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::InvalidConfig => "invalid_config",
            ErrorKind::InsufficientData => "insufficient_data",
            ErrorKind::NotConverged => "not_converged",
            ErrorKind::Numerical => "numerical",
            ErrorKind::Serialization => "serialization",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of every fallible replicast call: a kind plus a message that names the
/// offending field or value and, where there is one, the valid range.
///
/// ```
/// use replicast::{ErrorKind, ScalerSpec};
/// let err = ScalerSpec::from_json(r#"{"min_replicas": 1, "max_replicas": 3, "bogus": 1}"#).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidConfig);
/// assert!(err.to_string().contains("bogus"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    pub(crate) fn invalid_config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidConfig, message)
    }

    pub(crate) fn insufficient_data(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InsufficientData, message)
    }

    pub(crate) fn serialization(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Serialization, message)
    }

    /// The stable category of this error.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human-readable message (lowercase, no final period).
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error with `context` prefixed to its message (`"context: message"`).
    #[must_use]
    pub(crate) fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for Error {}

/// serde's message for a JSON text, with the text just before the position it reports
/// (serde names no field for a wrong value: `invalid value: integer `-1`, expected u32 at line 1
/// column 37, after `"current_replicas": -1``).
pub(crate) fn located(text: &str, e: &serde_json::Error) -> String {
    let Some(line) = text.lines().nth(e.line().saturating_sub(1)) else {
        return e.to_string();
    };
    let mut end = e.column().min(line.len());
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    let mut start = end.saturating_sub(40);
    while !line.is_char_boundary(start) {
        start += 1;
    }
    let excerpt = line[start..end].trim();
    // an unknown field or variant is named already; the position is after the whole object
    let names_it = e.to_string().starts_with("unknown ");
    if excerpt.is_empty() || names_it {
        e.to_string()
    } else {
        format!("{e}, after `{excerpt}`")
    }
}

/// serde's message for `e`, without the kind of an [`Error`] a `try_from` conversion inside
/// it returned (serde shows that error whole: `serialization: histogram ...`), since the
/// caller's error carries its own kind.
pub(crate) fn serde_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    for kind in [
        ErrorKind::Serialization,
        ErrorKind::InvalidConfig,
        ErrorKind::InvalidInput,
    ] {
        if let Some(rest) = text.strip_prefix(&format!("{}: ", kind.as_str())) {
            return rest.to_owned();
        }
    }
    text
}

/// `Result` with replicast's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
