//! Fixed-point formatting of the numbers in decision reasons, without the float-to-decimal
//! machinery of `{:.N}` (which took about a tenth of a predictive decision, profiled with perf).

use std::fmt;

/// Formats `value` exactly as `format!("{:.decimals$}", value)` does: ordinary magnitudes by
/// integer arithmetic, the rest (non-finite, negative, huge, or within 1e-6 of a rounding tie,
/// where the scaled product may round the other way) by the standard formatter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fixed {
    pub value: f64,
    pub decimals: usize,
}

/// Largest scaled magnitude formatted by the integer path (exact integers in an f64).
const EXACT_LIMIT: f64 = 4_503_599_627_370_496.0; // 2^52

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (value, decimals) = (self.value, self.decimals);
        let Some(scale) = u32::try_from(decimals)
            .ok()
            .and_then(|d| 10_u64.checked_pow(d))
        else {
            return write!(f, "{value:.decimals$}");
        };
        #[allow(clippy::cast_precision_loss)] // scale <= 10^19, exact enough for the bounds test
        let scaled = value * scale as f64;
        let tie_distance = (scaled - scaled.trunc() - 0.5).abs();
        if !(0.0..EXACT_LIMIT).contains(&scaled) || value.is_sign_negative() || tie_distance < 1e-6
        {
            return write!(f, "{value:.decimals$}");
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // 0 <= scaled < 2^52
        let units = scaled.round() as u64;
        if decimals == 0 {
            write!(f, "{units}")
        } else {
            write!(f, "{}.{:0decimals$}", units / scale, units % scale)
        }
    }
}

/// Formats `value` exactly as `format!("{}", value)` does (the shortest decimal that reads back
/// as the same `f64`): values with at most six decimals below 10^9 by integer arithmetic, the rest
/// by the standard formatter. For a spec's settings quoted in every decision's reason.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shortest(pub f64);

/// Below this, an `f64`'s spacing (at most 2^-23) is finer than the sixth decimal, so at most one
/// decimal of up to six places reads back as the value: the nearest one.
const SHORTEST_LIMIT: f64 = 1e9;

impl fmt::Display for Shortest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.0;
        if (0.0..SHORTEST_LIMIT).contains(&value) && !value.is_sign_negative() {
            let mut scale = 1_u64;
            for decimals in 0..=6 {
                #[allow(clippy::cast_precision_loss)] // scale <= 10^6
                let units = (value * scale as f64).round();
                #[allow(clippy::float_cmp)] // the decimal must read back as exactly this value
                if units / scale as f64 == value {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // < 10^15
                    let units = units as u64;
                    return if decimals == 0 {
                        write!(f, "{units}")
                    } else {
                        write!(f, "{}.{:0decimals$}", units / scale, units % scale)
                    };
                }
                scale *= 10;
            }
        }
        write!(f, "{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::{Fixed, Shortest};
    use proptest::prelude::*;

    fn same(value: f64, decimals: usize) {
        assert_eq!(
            Fixed { value, decimals }.to_string(),
            format!("{value:.decimals$}"),
            "{value:e} at {decimals}"
        );
    }

    #[test]
    fn edge_values_format_like_the_standard_formatter() {
        for v in [
            0.0,
            -0.0,
            0.0005,
            1.0005,
            2.5,
            0.5,
            1.5,
            999.9995,
            1e15,
            1e16,
            4.5e15,
            -1.25,
            -0.0001,
            0.1,
            0.7,
            123.456_789,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            f64::MAX,
        ] {
            for d in 0..=4 {
                same(v, d);
            }
        }
        same(1.0, 25);
    }

    fn shortest_same(value: f64) {
        assert_eq!(Shortest(value).to_string(), format!("{value}"), "{value:e}");
    }

    #[test]
    fn shortest_formats_settings_like_the_standard_formatter() {
        for v in [
            0.0,
            -0.0,
            0.05,
            0.1,
            0.7,
            1.0,
            1.1,
            2.5,
            10.0,
            50.0,
            0.000_001,
            0.000_000_1,
            123.456,
            999_999_999.0,
            1e9,
            1e20,
            -1.5,
            f64::NAN,
            f64::INFINITY,
            f64::MIN_POSITIVE,
        ] {
            shortest_same(v);
        }
    }

    proptest! {
        #[test]
        fn shortest_on_decimals(n in 0u64..2_000_000_000_000, d in 0i32..8) {
            shortest_same(n as f64 / 10f64.powi(d));
        }

        #[test]
        fn shortest_on_any_value(v in 0.0..1e10f64) {
            shortest_same(v);
        }

        #[test]
        fn shortest_on_any_bits(bits in any::<u64>()) {
            shortest_same(f64::from_bits(bits));
        }

        #[test]
        fn formats_like_the_standard_formatter(v in 0.0..1e7f64, d in 0usize..5) {
            same(v, d);
        }

        #[test]
        fn near_rounding_ties(n in 0u64..10_000_000, d in 0usize..5, nudge in -4i64..=4) {
            let tie = (n as f64 + 0.5) / 10f64.powi(d as i32);
            same(f64::from_bits((tie.to_bits() as i64 + nudge) as u64), d);
        }

        #[test]
        fn on_any_bits_too(bits in any::<u64>(), d in 0usize..5) {
            same(f64::from_bits(bits), d);
        }
    }
}
