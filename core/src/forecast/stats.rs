//! Distribution helpers over `statrs` (kept internal: no public signature exposes it).

use std::cell::Cell;

use statrs::distribution::{ContinuousCDF, Normal};

/// The upper bound's probability of a central 90 % interval, `0.5 + 0.9 / 2` as the callers
/// compute it.
const P_90: f64 = 0.5 + 0.9 / 2.0;

/// `normal_quantile_of(P_90)`, bit for bit (tested): every refit asks for it once per validation
/// origin, and every update once, so it is not recomputed.
const Z_90: f64 = 1.644_853_626_951_472_4;

/// The `p` quantile of the standard normal distribution, `p` in (0, 1).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    #[allow(clippy::float_cmp)] // exactly the callers' value, else the general path
    if p == P_90 {
        return Z_90;
    }
    // a decision asks for the same level several times (each member of a combination, then
    // its calibration): the last answer is kept per thread
    LAST_QUANTILE.with(|last| {
        let (bits, z) = last.get();
        if bits == p.to_bits() {
            return z;
        }
        let z = normal_quantile_of(p);
        last.set((p.to_bits(), z));
        z
    })
}

thread_local! {
    /// The last `(p.to_bits(), quantile)` computed on this thread (starts with p = 0.5).
    static LAST_QUANTILE: Cell<(u64, f64)> = const { Cell::new((0x3FE0_0000_0000_0000, 0.0)) };
}

fn normal_quantile_of(p: f64) -> f64 {
    match Normal::new(0.0, 1.0) {
        Ok(n) => n.inverse_cdf(p),
        // Unreachable with constant parameters; 0 keeps the interval degenerate, not wrong-signed.
        Err(_) => 0.0,
    }
}

/// The standard normal distribution function at `x`.
pub(crate) fn normal_cdf(x: f64) -> f64 {
    match Normal::new(0.0, 1.0) {
        Ok(n) => n.cdf(x),
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_90_percent_shortcut_is_the_computed_quantile_bit_for_bit() {
        assert_eq!(Z_90.to_bits(), normal_quantile_of(P_90).to_bits());
        assert_eq!(normal_quantile(0.5 + 0.9 / 2.0).to_bits(), Z_90.to_bits());
    }

    #[test]
    fn the_remembered_quantile_is_the_one_asked_for() {
        for p in [0.5, 0.975, 0.975, 0.8, 0.975, 0.5, 0.5, 0.01] {
            assert_eq!(
                normal_quantile(p).to_bits(),
                normal_quantile_of(p).to_bits(),
                "{p}"
            );
        }
        assert_eq!(normal_quantile_of(0.5), 0.0);
    }

    #[test]
    fn quantiles_match_tables() {
        // Reference: standard normal tables (scipy.stats.norm.ppf), tolerance 1e-9.
        assert!((normal_quantile(0.95) - 1.644_853_626_951_472_2).abs() < 1e-9);
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-9);
        assert!(normal_quantile(0.5).abs() < 1e-12);
        // scipy.stats.norm.cdf(1.959963984540054) = 0.975
        assert!((normal_cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-9);
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-15);
    }
}
