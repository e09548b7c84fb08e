//! Go's `time.ParseDuration`, for Knative's duration annotations and ConfigMap keys
//! (`60s`, `1m30s`, `1.5h`, `300ms`, `0`).

/// Nanoseconds in one unit of each suffix Go accepts.
const UNITS: [(&str, u128); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Parses a Go duration string into nanoseconds; `None` when Go would reject it (bad syntax,
/// missing unit, out of `i64` nanoseconds).
pub(crate) fn parse_go_duration(text: &str) -> Option<i64> {
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac_part = "";
        if let Some(after_dot) = rest.strip_prefix('.') {
            let frac_len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &after_dot[..frac_len];
            rest = &after_dot[frac_len..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let unit_len = rest
            .char_indices()
            .find(|&(_, c)| c == '.' || c.is_ascii_digit())
            .map_or(rest.len(), |(i, _)| i);
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale = UNITS.iter().find(|(name, _)| *name == unit)?.1;
        let whole: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().ok()?
        };
        let mut value = whole.checked_mul(scale)?;
        // the fraction, truncated to whole nanoseconds as Go does
        let mut frac_scale = scale;
        for digit in frac_part.bytes() {
            frac_scale /= 10;
            if frac_scale == 0 {
                break;
            }
            value = value.checked_add(u128::from(digit - b'0') * frac_scale)?;
        }
        total = total.checked_add(value)?;
        if total > 1u128 << 63 {
            return None;
        }
    }
    if negative {
        Some((-(total as i128)) as i64)
    } else {
        i64::try_from(total).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::parse_go_duration as p;

    #[test]
    fn parses_go_durations() {
        assert_eq!(p("0"), Some(0));
        assert_eq!(p("60s"), Some(60_000_000_000));
        assert_eq!(p("1m30s"), Some(90_000_000_000));
        assert_eq!(p("1.5s"), Some(1_500_000_000));
        assert_eq!(p(".5s"), Some(500_000_000));
        assert_eq!(p("300ms"), Some(300_000_000));
        assert_eq!(p("1h"), Some(3_600_000_000_000));
        assert_eq!(p("-2s"), Some(-2_000_000_000));
        assert_eq!(p("2\u{b5}s"), Some(2_000));
        for bad in ["", "5", "s", "1x", "1.s5", "--1s", "."] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
        assert_eq!(p("1.s"), Some(1_000_000_000));
    }
}
