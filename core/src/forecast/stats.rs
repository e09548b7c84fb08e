//! Distribution helpers over `statrs` (kept internal: no public signature exposes it).

use statrs::distribution::{ContinuousCDF, Normal};

/// The `p` quantile of the standard normal distribution, `p` in (0, 1).
pub(crate) fn normal_quantile(p: f64) -> f64 {
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
