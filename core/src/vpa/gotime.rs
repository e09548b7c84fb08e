//! Go `time.Time` arithmetic on replicast's `i64` millisecond timestamps.
//!
//! The recommender measures durations with Go's `Time.Sub`, which returns nanoseconds and
//! saturates at ±292 years, and renormalises its decaying histograms with `Time.Round`, which
//! rounds to a multiple of the duration counted from Go's zero time (0001-01-01T00:00:00Z),
//! halves rounding up. Both are reproduced here. Kubernetes serialises times as RFC 3339 with
//! whole seconds (`metav1.Time`), with `null` for the zero time.

use crate::time::GO_ZERO_TIME_MS;

/// The latest instant replicast's VPA accepts: 9999-12-31T23:59:59.999Z (RFC 3339's range).
pub(crate) const MAX_TIME_MS: i64 = 253_402_300_799_999;

/// Whether `t_ms` is a usable observation time: after Go's zero time, at most year 9999.
pub(crate) fn in_range(t_ms: i64) -> bool {
    t_ms > GO_ZERO_TIME_MS && t_ms <= MAX_TIME_MS
}

/// Go's `a.Sub(b)` in nanoseconds, saturating at the `i64` range as Go does.
pub(crate) fn sub_ns(a_ms: i64, b_ms: i64) -> i64 {
    let ns = (i128::from(a_ms) - i128::from(b_ms)) * 1_000_000;
    ns.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Go's `t.Round(d)` for `d > 0` (both in ms): the nearest multiple of `d` since Go's zero
/// time, halves up.
pub(crate) fn round(t_ms: i64, d_ms: i64) -> i64 {
    if d_ms <= 0 {
        return t_ms;
    }
    let rel = i128::from(t_ms) - i128::from(GO_ZERO_TIME_MS);
    let d = i128::from(d_ms);
    let r = rel.rem_euclid(d);
    let rounded = if r + r < d {
        i128::from(t_ms) - r
    } else {
        i128::from(t_ms) + (d - r)
    };
    rounded.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Days since 1970-01-01 of a proleptic Gregorian civil date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `t_ms` as Kubernetes writes a `metav1.Time`: RFC 3339 in UTC, whole seconds (truncated
/// toward the past, as Go's formatting does).
pub(crate) fn format_rfc3339(t_ms: i64) -> String {
    let secs = t_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// Parses an RFC 3339 time (`2024-01-01T00:00:00Z`, optional fraction, `Z` or `±hh:mm`) to
/// milliseconds (fractions below a millisecond are truncated).
pub(crate) fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(range)?;
        if s.bytes().all(|c| c.is_ascii_digit()) && !s.is_empty() {
            s.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let frac = &text[start..i];
        let padded: String = frac.chars().chain(std::iter::repeat('0')).take(3).collect();
        millis = padded.parse().ok()?;
    }
    let offset_s = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let off = oh * 3600 + om * 60;
            if *sign == b'+' { off } else { -off }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset_s;
    Some(secs * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::{format_rfc3339, parse_rfc3339, round, sub_ns};
    use crate::time::GO_ZERO_TIME_MS;

    const DAY: i64 = 86_400_000;

    #[test]
    fn round_is_to_utc_midnight_for_a_day() {
        let jan1 = parse_rfc3339("2024-01-01T00:00:00Z").unwrap();
        assert_eq!(round(jan1 + 11 * 3_600_000, DAY), jan1);
        assert_eq!(
            round(jan1 + 12 * 3_600_000, DAY),
            jan1 + DAY,
            "halves round up"
        );
        assert_eq!(round(jan1 - 1, DAY), jan1);
        // before the Unix epoch the rounding is still to the nearest multiple since year 1
        let old = parse_rfc3339("1969-12-31T13:00:00Z").unwrap();
        assert_eq!(round(old, DAY), 0);
        assert_eq!(round(GO_ZERO_TIME_MS + 1, DAY), GO_ZERO_TIME_MS);
    }

    #[test]
    fn sub_saturates_like_go() {
        assert_eq!(sub_ns(2000, 1000), 1_000_000_000);
        assert_eq!(sub_ns(0, GO_ZERO_TIME_MS), i64::MAX);
        assert_eq!(sub_ns(GO_ZERO_TIME_MS, 0), i64::MIN);
    }

    #[test]
    fn rfc3339_round_trips() {
        for text in [
            "2018-01-01T02:03:04Z",
            "0001-01-01T00:00:00Z",
            "1969-07-20T20:17:40Z",
            "9999-12-31T23:59:59Z",
        ] {
            let t = parse_rfc3339(text).unwrap();
            assert_eq!(format_rfc3339(t), text);
        }
        assert_eq!(parse_rfc3339("0001-01-01T00:00:00Z"), Some(GO_ZERO_TIME_MS));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00.5+01:00"), Some(500));
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59Z");
        for bad in [
            "",
            "2018-01-01",
            "2018-13-01T00:00:00Z",
            "2018-01-01T00:00:00",
            "x018-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
