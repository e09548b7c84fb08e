//! Time as the caller gives it: `i64` milliseconds on any fixed origin (Unix epoch in practice).
//!
//! The core never reads a clock. Every decision takes `now_ms`; every stored event carries the
//! `now_ms` of the decision that recorded it.

/// A point in time: milliseconds since an origin the caller chooses (usually the Unix epoch).
pub type Timestamp = i64;

/// Go's zero `time.Time` (0001-01-01T00:00:00Z) in Unix milliseconds: "older than anything".
///
/// Kubernetes objects carry it for unset times; callers translating such objects may pass it.
pub const GO_ZERO_TIME_MS: Timestamp = -62_135_596_800_000;

/// Milliseconds in one second.
pub(crate) const MS_PER_S: i64 = 1000;

/// `seconds` as milliseconds, saturating instead of overflowing.
pub(crate) fn secs_to_ms(seconds: i64) -> i64 {
    seconds.saturating_mul(MS_PER_S)
}
