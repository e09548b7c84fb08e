//! The few float64 functions whose last bits decide bucket boundaries, computed exactly as
//! Go's `math` package computes them on amd64 (where the upstream recommender runs).
//!
//! C's libm (what `f64::ln`, `f64::powf` and `f64::exp2` call) is correctly rounded or close to
//! it; Go's versions are not, and differ in the last ulp for a large share of inputs: `Pow`
//! multiplies by repeated squaring, `Log` (an assembly routine on amd64) and `Exp2` are the
//! FreeBSD polynomial approximations. The VPA's bucket starts (`Pow`), bucket search (`Log`)
//! and decay factors (`Exp2`) depend on those bits, so replicast uses the same algorithms,
//! re-derived here from their published descriptions, to reproduce upstream bit for bit.

// The polynomial constants are transcribed with the digits of their published source (Go's
// math package, after FreeBSD's msun); they parse to the same binary64 values.
#![allow(clippy::excessive_precision)]

const SHIFT: u32 = 52;
const MASK: u64 = 0x7ff;
const BIAS: i64 = 1023;
const SMALLEST_NORMAL: f64 = 2.225_073_858_507_201_4e-308;

/// Go's `math.Frexp`: `f = frac × 2^exp` with `|frac|` in [0.5, 1).
fn frexp(f: f64) -> (f64, i64) {
    if f == 0.0 || !f.is_finite() {
        return (f, 0);
    }
    let (f, mut exp) = normalize(f);
    let mut x = f.to_bits();
    exp += ((x >> SHIFT) & MASK) as i64 - BIAS + 1;
    x &= !(MASK << SHIFT);
    x |= ((-1 + BIAS) as u64) << SHIFT;
    (f64::from_bits(x), exp)
}

fn normalize(x: f64) -> (f64, i64) {
    if x.abs() < SMALLEST_NORMAL {
        (x * (1u64 << 52) as f64, -52)
    } else {
        (x, 0)
    }
}

/// Go's `math.Ldexp`: `frac × 2^exp`, with Go's underflow / overflow / subnormal handling.
pub(crate) fn ldexp(frac: f64, exp: i64) -> f64 {
    if frac == 0.0 || !frac.is_finite() {
        return frac;
    }
    let (frac, e) = normalize(frac);
    let mut exp = exp.saturating_add(e);
    let mut x = frac.to_bits();
    exp = exp.saturating_add(((x >> SHIFT) & MASK) as i64 - BIAS);
    if exp < -1075 {
        return 0.0f64.copysign(frac);
    }
    if exp > 1023 {
        return if frac < 0.0 {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let mut m = 1.0;
    if exp < -1022 {
        exp += 53;
        m = 1.0 / (1u64 << 53) as f64;
    }
    x &= !(MASK << SHIFT);
    x |= ((exp + BIAS) as u64) << SHIFT;
    m * f64::from_bits(x)
}

/// Go's `math.Log` as the amd64 assembly routine computes it (finite positive normal inputs;
/// the special cases follow IEEE as Go does).
pub(crate) fn log(x: f64) -> f64 {
    const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-01;
    const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
    const L1: f64 = 6.666_666_666_666_735_130e-01;
    const L2: f64 = 3.999_999_999_940_941_908e-01;
    const L3: f64 = 2.857_142_874_366_239_149e-01;
    const L4: f64 = 2.222_219_843_214_978_396e-01;
    const L5: f64 = 1.818_357_216_161_805_012e-01;
    const L6: f64 = 1.531_383_769_920_937_332e-01;
    const L7: f64 = 1.479_819_860_511_658_591e-01;
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x < 0.0 {
        return f64::NAN;
    }
    // The assembly reads the exponent bits directly (no subnormal normalisation).
    let bits = x.to_bits();
    let mut f1 = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3fe0_0000_0000_0000);
    let mut k = (((bits >> 52) & 0x7ff) as i64 - 0x3fe) as f64;
    if f1 < std::f64::consts::FRAC_1_SQRT_2 {
        k -= 1.0;
        f1 *= 2.0;
    }
    let f = f1 - 1.0;
    let s = f / (2.0 + f);
    let s2 = s * s;
    let s4 = s2 * s2;
    let t1 = s2 * (((L7 * s4 + L5) * s4 + L3) * s4 + L1);
    let t2 = s4 * ((L6 * s4 + L4) * s4 + L2);
    let r = t1 + t2;
    let hfsq = 0.5 * f * f;
    k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f)
}

/// Go's `math.Pow(x, y)` for an integral `y` (the only kind the recommender uses: bucket
/// indexes and the confidence exponents 1 and −2).
pub(crate) fn pow_int(x: f64, y: i64) -> f64 {
    if y == 0 || x == 1.0 {
        return 1.0;
    }
    if y == 1 {
        return x;
    }
    let yf = y as f64;
    if x.is_nan() {
        return f64::NAN;
    }
    let odd = y & 1 == 1;
    if x == 0.0 {
        return if y < 0 {
            if x.is_sign_negative() && odd {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        } else if x.is_sign_negative() && odd {
            x
        } else {
            0.0
        };
    }
    if x.is_infinite() {
        if x < 0.0 {
            return pow_int(1.0 / x, -y);
        }
        return if y < 0 { 0.0 } else { f64::INFINITY };
    }
    let mut a1 = 1.0;
    let mut ae: i64 = 0;
    let (mut x1, mut xe) = frexp(x);
    let mut i = y.unsigned_abs();
    while i != 0 {
        if !(-(1 << 12)..=(1 << 12)).contains(&xe) {
            ae += xe;
            break;
        }
        if i & 1 == 1 {
            a1 *= x1;
            ae += xe;
        }
        x1 *= x1;
        xe <<= 1;
        if x1 < 0.5 {
            x1 += x1;
            xe -= 1;
        }
        i >>= 1;
    }
    if yf < 0.0 {
        a1 = 1.0 / a1;
        ae = -ae;
    }
    ldexp(a1, ae)
}

/// Go's `math.Exp2` (the portable routine, which amd64 uses).
pub(crate) fn exp2(x: f64) -> f64 {
    const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-01;
    const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
    const OVERFLOW: f64 = 1.023_999_999_999_999_9e3;
    const UNDERFLOW: f64 = -1.0740e3;
    if x.is_nan() {
        return x;
    }
    if x > OVERFLOW {
        return f64::INFINITY;
    }
    if x < UNDERFLOW {
        return 0.0;
    }
    let k: i64 = if x > 0.0 {
        (x + 0.5) as i64
    } else if x < 0.0 {
        (x - 0.5) as i64
    } else {
        0
    };
    let t = x - k as f64;
    let hi = t * LN2_HI;
    let lo = -t * LN2_LO;
    expmulti(hi, lo, k)
}

fn expmulti(hi: f64, lo: f64, k: i64) -> f64 {
    const P1: f64 = 1.666_666_666_666_666_574_15e-01;
    const P2: f64 = -2.777_777_777_701_559_338_42e-03;
    const P3: f64 = 6.613_756_321_437_934_361_17e-05;
    const P4: f64 = -1.653_390_220_546_525_153_90e-06;
    const P5: f64 = 4.138_136_797_057_238_460_39e-08;
    let r = hi - lo;
    let t = r * r;
    let c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
    let y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    ldexp(y, k)
}

/// Go's `int(math.Floor(x + 0.5))` as the recommender's `round` helper writes it, saturating
/// at the `i64` range (Go's conversion of an out-of-range float is undefined).
pub(crate) fn round_half_up(x: f64) -> i64 {
    let r = (x + 0.5).floor();
    if r.is_nan() { 0 } else { r as i64 }
}

#[cfg(test)]
mod tests {
    use super::{exp2, log, pow_int};

    /// Bit patterns printed by Go 1.26 on linux/amd64 for inputs where C's libm (and so
    /// `f64::powf` / `ln` / `exp2`) gives a different last bit.
    #[test]
    #[allow(clippy::unreadable_literal)] // bit patterns, as Go printed them
    fn matches_go_amd64_bits() {
        const POW_1_05: [(i64, u64); 40] = [
            (4, 0x3ff372b6ae7d566d),
            (5, 0x3ff46ba63736cdf3),
            (6, 0x3ff57108205ff1d8),
            (7, 0x3ff6837bbb97f124),
            (8, 0x3ff7a3a851c5f065),
            (9, 0x3ff8d23d890fd604),
            (10, 0x3ffa0ff3cfea3a51),
            (11, 0x3ffb5d8ccd82bd3c),
            (12, 0x3ffcbbd3d7c946b1),
            (13, 0x3ffe2b9e6f6023d5),
            (14, 0x3fffadccc1be8c04),
            (15, 0x4000a1a518ea6fea),
            (16, 0x40017686f3c2f582),
            (17, 0x4002560db3264e96),
            (18, 0x400340c195b505b7),
            (19, 0x40043731a9fe12cd),
            (20, 0x400539f425b12d57),
            (21, 0x400649a6c12d3c68),
            (22, 0x400766ef17a2b2a0),
            (23, 0x4008927b0c046ec3),
            (24, 0x4009cd013304a77f),
            (25, 0x400b1741425e7cac),
            (26, 0x400c720485b002e8),
            (27, 0x400dde1e592c030e),
            (28, 0x400f5c6caa6e3667),
            (29, 0x401076ec3fe042f7),
            (30, 0x401149ab4311dfe8),
            (31, 0x401226f3d3392b1c),
            (32, 0x40130f4cd0fc06dd),
            (33, 0x40140343db6f0735),
            (34, 0x4015036da667c791),
            (35, 0x4016106655202b26),
            (36, 0x40172ad1d961c6e7),
            (37, 0x4018535c57737740),
            (38, 0x40198aba8f060a02),
            (39, 0x401ad1aa495ff0ea),
            (40, 0x401c28f2cd0b235b),
            (41, 0x401d9165574bb1ed),
            (42, 0x401f0bdd9ba9146c),
            (43, 0x40204ca124ebf786),
        ];
        const LOG: [(f64, u64); 20] = [
            (5.81, 0x3ffc273df4e89808),
            (10.99, 0x40032d06dfe293ba),
            (22.46, 0x4008e4d5d1409a18),
            (23.2, 0x400927394f54547c),
            (41.7, 0x400dd810f9cf4294),
            (47.99, 0x400ef7caff6025e0),
            (87.21, 0x4011df8f044c0686),
            (99.42, 0x401265bcdf247316),
            (150.48, 0x40140e298000f766),
            (159.73, 0x40144b3f9f79cbf4),
            (177.49, 0x4014b7354d5dbab6),
            (178.6, 0x4014bd979ccf6ea4),
            (188.22, 0x4014f3506d4364c0),
            (220.04, 0x40159342c1fa3376),
            (321.05, 0x4017161d7db23a3c),
            (334.0, 0x40173e9bbe951e9c),
            (336.21999999999997, 0x401745645fa7d048),
            (355.09, 0x40177d4ee57c0346),
            (359.53, 0x40178a086357fc0a),
            (367.67, 0x4017a0f550415c30),
        ];
        const EXP2: [(f64, u64); 30] = [
            (-27.386300000000002, 0x3e387b9c7f80c48c),
            (-27.1808, 0x3e3c3b1822e1ce8e),
            (-27.0849, 0x3e3e2bd386ba3d68),
            (-26.6191, 0x3e44d59f5b7277c6),
            (-26.4821, 0x3e46e8effafaa390),
            (-26.4684, 0x3e4720e596a151ec),
            (-26.413600000000002, 0x3e48061ffb00cb64),
            (-26.1533, 0x3e4cc62cdb44ac5c),
            (-26.1259, 0x3e4d53698c0df5b2),
            (-26.0985, 0x3e4de35b7f120c0e),
            (-25.7971, 0x3e526a8927770070),
            (-25.5779, 0x3e5570224fd814d6),
            (-25.4957, 0x3e56b1e8db5dfa2c),
            (-25.482, 0x3e56e9580e05a6b8),
            (-25.4272, 0x3e57cc6bdbda97cd),
            (-25.3998, 0x3e58413c5c0d99ba),
            (-25.262800000000002, 0x3e5aabc6a3e24c52),
            (-25.1258, 0x3e5d53eec47a54e0),
            (-24.9066, 0x3e6111f2614767f6),
            (-24.5778, 0x3e657083b3283a7e),
            (-24.4956, 0x3e66b24ff46e7900),
            (-24.4682, 0x3e6721b7bb006f2c),
            (-24.4408, 0x3e67934256311e06),
            (-24.3997, 0x3e6841aa8b29cd1e),
            (-24.386, 0x3e687cea2e505a1e),
            (-23.7695, 0x3e72c598df403e30),
            (-23.5503, 0x3e75da23335d7602),
            (-23.4544, 0x3e775aa21d1c9868),
            (-23.3585, 0x3e78f58e5f15eee6),
            (-23.3311, 0x3e79701159e5f18e),
        ];
        for (b, want) in POW_1_05 {
            assert_eq!(pow_int(1.05, b).to_bits(), want, "Pow(1.05, {b})");
        }
        for (x, want) in LOG {
            assert_eq!(log(x).to_bits(), want, "Log({x})");
        }
        for (x, want) in EXP2 {
            assert_eq!(exp2(x).to_bits(), want, "Exp2({x})");
        }
    }

    #[test]
    fn special_cases() {
        assert_eq!(pow_int(f64::INFINITY, -2), 0.0);
        assert_eq!(pow_int(f64::INFINITY, 1), f64::INFINITY);
        assert_eq!(pow_int(0.0, -2), f64::INFINITY);
        assert_eq!(pow_int(-2.0, 3), -8.0);
        assert_eq!(pow_int(2.0, -2), 0.25);
        assert_eq!(exp2(3.0), 8.0);
        assert_eq!(exp2(-2000.0), 0.0);
        assert_eq!(exp2(2000.0), f64::INFINITY);
        assert_eq!(log(1.0), 0.0);
        assert!(log(-1.0).is_nan());
    }
}
