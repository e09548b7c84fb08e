//! Kubernetes resource quantities (`"500m"`, `"20"`, `"2Gi"`) as milli-units.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Kubernetes quantity held as milli-units (`1000` = one CPU core or `1.0` of a custom metric),
/// exactly as the HPA controller sees it after `MilliValue()` (fractions of a milli round up).
///
/// Deserialises from a number (`20`, `0.5`) or a Kubernetes quantity string (`"20"`, `"500m"`,
/// `"1.5k"`, `"2Gi"`); serialises as a quantity string.
///
/// ```
/// use replicast::spec::Quantity;
/// assert_eq!(Quantity::parse("500m").unwrap().milli(), 500);
/// assert_eq!(Quantity::parse("2").unwrap().milli(), 2000);
/// assert_eq!(Quantity::parse("1Ki").unwrap().milli(), 1_024_000);
/// assert!(Quantity::parse("ten").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity {
    milli: i64,
}

impl Quantity {
    /// A quantity of `milli` milli-units.
    #[must_use]
    pub const fn from_milli(milli: i64) -> Self {
        Self { milli }
    }

    /// The value in milli-units.
    #[must_use]
    pub const fn milli(self) -> i64 {
        self.milli
    }

    /// The value in whole units, as a float (`"500m"` → `0.5`).
    #[must_use]
    pub fn as_f64(self) -> f64 {
        self.milli as f64 / 1000.0
    }

    /// Parses a Kubernetes quantity string: an optional sign, a decimal number, and an optional
    /// suffix (`m`, `k`, `M`, `G`, `T`, `P`, `E`, `Ki`, `Mi`, `Gi`, `Ti`, `Pi`, `Ei`, or an
    /// exponent `e3`/`E3`).
    ///
    /// # Errors
    /// A message naming the string when it is not a quantity or overflows `i64` milli-units.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
            .unwrap_or(text.len());
        let (number, suffix) = text.split_at(split);
        let invalid = || {
            format!(
                "invalid quantity {text:?}: expected a number with an optional suffix such as m, k, Mi, Gi"
            )
        };
        if number.is_empty() || number == "+" || number == "-" {
            return Err(invalid());
        }
        let (negative, digits) = match number.as_bytes()[0] {
            b'-' => (true, &number[1..]),
            b'+' => (false, &number[1..]),
            _ => (false, number),
        };
        let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
        if (int_part.is_empty() && frac_part.is_empty())
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(invalid());
        }
        // value = mantissa * 10^exp10 * 2^exp2, mantissa an exact integer from the digits
        let mut mantissa: i128 = 0;
        for b in int_part.bytes().chain(frac_part.bytes()) {
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(b - b'0')))
                .ok_or_else(invalid)?;
        }
        let mut exp10: i32 = -(frac_part.len() as i32) + 3; // to milli-units
        let mut exp2: u32 = 0;
        match suffix {
            "" => {}
            "m" => exp10 -= 3,
            "k" => exp10 += 3,
            "M" => exp10 += 6,
            "G" => exp10 += 9,
            "T" => exp10 += 12,
            "P" => exp10 += 15,
            "E" => exp10 += 18,
            "Ki" => exp2 = 10,
            "Mi" => exp2 = 20,
            "Gi" => exp2 = 30,
            "Ti" => exp2 = 40,
            "Pi" => exp2 = 50,
            "Ei" => exp2 = 60,
            s if s.starts_with(['e', 'E']) => {
                let e: i32 = s[1..].parse().map_err(|_| invalid())?;
                exp10 = exp10.checked_add(e).ok_or_else(invalid)?;
            }
            _ => return Err(invalid()),
        }
        let overflow = || format!("quantity {text:?} is out of range");
        mantissa = mantissa.checked_shl(exp2).ok_or_else(overflow)?;
        if exp2 > 0 && mantissa >> exp2 == 0 && mantissa != 0 {
            return Err(overflow());
        }
        let value = if exp10 >= 0 {
            let scale = 10i128.checked_pow(exp10 as u32).ok_or_else(overflow)?;
            mantissa.checked_mul(scale).ok_or_else(overflow)?
        } else {
            // fractions of a milli-unit round up, as Kubernetes' MilliValue does
            let scale = 10i128
                .checked_pow(exp10.unsigned_abs())
                .unwrap_or(i128::MAX);
            let whole = mantissa / scale;
            if mantissa % scale == 0 {
                whole
            } else {
                whole + 1
            }
        };
        let signed = if negative { -value } else { value };
        i64::try_from(signed)
            .map(Self::from_milli)
            .map_err(|_| overflow())
    }

    /// A number in whole units as a quantity, rounded to the nearest milli-unit.
    ///
    /// # Errors
    /// When `value` is not finite or does not fit in `i64` milli-units.
    pub fn from_f64(value: f64) -> Result<Self, String> {
        let milli = (value * 1000.0).round();
        if !milli.is_finite() || milli.abs() >= 9.2e18 {
            return Err(format!("quantity {value} is not a finite number in range"));
        }
        Ok(Self::from_milli(milli as i64))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.milli % 1000 == 0 {
            write!(f, "{}", self.milli / 1000)
        } else {
            write!(f, "{}m", self.milli)
        }
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct QuantityVisitor;
        impl Visitor<'_> for QuantityVisitor {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a Kubernetes quantity string such as \"500m\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                v.checked_mul(1000)
                    .map(Quantity::from_milli)
                    .ok_or_else(|| E::custom(format!("quantity {v} is out of range")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
                i64::try_from(v)
                    .ok()
                    .and_then(|v| v.checked_mul(1000))
                    .map(Quantity::from_milli)
                    .ok_or_else(|| E::custom(format!("quantity {v} is out of range")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
                Quantity::from_f64(v).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
                Quantity::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(QuantityVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::Quantity;

    #[test]
    fn parses_kubernetes_forms() {
        let cases = [
            ("20", 20_000),
            ("500m", 500),
            ("0.5", 500),
            ("1.5k", 1_500_000),
            ("2Gi", 2_147_483_648_000),
            ("1e3", 1_000_000),
            ("-3", -3000),
            ("0.0001", 1),
            ("100m", 100),
        ];
        for (text, milli) in cases {
            assert_eq!(Quantity::parse(text).unwrap().milli(), milli, "{text}");
        }
    }

    #[test]
    fn rejects_garbage() {
        for text in [
            "",
            "m",
            "1.2.3",
            "5x",
            "--1",
            "1e999",
            "99999999999999999999",
        ] {
            assert!(Quantity::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn round_trips_through_display() {
        for milli in [0, 1, 999, 1000, 20_000, 1_234_567] {
            let q = Quantity::from_milli(milli);
            assert_eq!(Quantity::parse(&q.to_string()).unwrap(), q);
        }
    }
}
