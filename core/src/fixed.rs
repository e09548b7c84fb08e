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

#[cfg(test)]
mod tests {
    use super::Fixed;
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

    proptest! {
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
