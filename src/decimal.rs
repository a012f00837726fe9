//! Exact decimal numbers, as fpx compares numbers: the text `-?[0-9]+(\.[0-9]+)?` read
//! as the number it writes, with no rounding (a long above 2^53 compares exactly).

use std::cmp::Ordering;

/// A decimal number in canonical form: no leading zeros in the integer part, no
/// trailing zeros in the fraction, and zero is not negative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    negative: bool,
    /// The integer digits, `"0"` for none.
    int: String,
    /// The fraction digits, without trailing zeros (`""` for an integer).
    frac: String,
}

impl Decimal {
    /// Reads `-?[0-9]+(\.[0-9]+)?`, nothing else.
    pub fn parse(text: &str) -> Option<Decimal> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int, frac) = match digits.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (digits, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int) || frac.is_some_and(|f| !all_digits(f)) {
            return None;
        }
        let int = int.trim_start_matches('0');
        let frac = frac.unwrap_or("").trim_end_matches('0');
        let zero = int.is_empty() && frac.is_empty();
        Some(Decimal {
            negative: negative && !zero,
            int: if int.is_empty() { "0".into() } else { int.into() },
            frac: frac.into(),
        })
    }

    /// The number as `mantissa / 10^scale`.
    pub fn from_scaled(mantissa: i128, scale: u32) -> Decimal {
        let digits = mantissa.unsigned_abs().to_string();
        let scale = scale as usize;
        let padded = if digits.len() <= scale {
            format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
        } else {
            digits
        };
        let (int, frac) = padded.split_at(padded.len() - scale);
        let sign = if mantissa < 0 { "-" } else { "" };
        Decimal::parse(&format!("{sign}{int}.{frac}0")).expect("digits with a point are a decimal")
    }

    /// `self * 10^scale` as an integer, when that is one and fits.
    pub fn scaled(&self, scale: u32) -> Option<i128> {
        if self.frac.len() > scale as usize {
            return None;
        }
        let digits = format!(
            "{}{}{}",
            self.int,
            self.frac,
            "0".repeat(scale as usize - self.frac.len())
        );
        let magnitude: i128 = digits.parse().ok()?;
        Some(if self.negative { -magnitude } else { magnitude })
    }

    /// Number of fraction digits.
    pub fn scale(&self) -> u32 {
        self.frac.len() as u32
    }

    /// Whether the number is whole.
    pub fn is_integer(&self) -> bool {
        self.frac.is_empty()
    }

    /// The largest integer `<= self` (`floor`) or smallest `>= self`, when it fits.
    pub fn round(&self, up: bool) -> Option<i128> {
        let int: i128 = self.int.parse().ok()?;
        let int = if self.negative { -int } else { int };
        Some(match (self.frac.is_empty(), up, self.negative) {
            (true, ..) => int,
            (false, true, false) => int + 1,
            (false, false, true) => int - 1,
            _ => int,
        })
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        f.write_str(&self.int)?;
        if !self.frac.is_empty() {
            write!(f, ".{}", self.frac)?;
        }
        Ok(())
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        let magnitude = || {
            self.int
                .len()
                .cmp(&other.int.len())
                .then_with(|| self.int.cmp(&other.int))
                .then_with(|| self.frac.cmp(&other.frac))
        };
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => magnitude(),
            (true, true) => magnitude().reverse(),
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The canonical text of a decimal number's text (`0443` -> `443`, `1.50` -> `1.5`,
/// `-0` -> `0`), or `None` when it is not one.
pub fn canonical(text: &str) -> Option<String> {
    Decimal::parse(text).map(|d| d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    #[test]
    fn canonical_forms() {
        for (text, want) in [
            ("0443", "443"),
            ("443.0", "443"),
            ("1.50", "1.5"),
            ("-0", "0"),
            ("-0.0", "0"),
            ("0.05", "0.05"),
            ("-007.100", "-7.1"),
        ] {
            assert_eq!(canonical(text).as_deref(), Some(want), "{text}");
        }
        for bad in ["", "-", "1.", ".5", "1e3", "+1", "0x10", " 1"] {
            assert_eq!(canonical(bad), None, "{bad}");
        }
    }

    #[test]
    fn longs_above_two_to_the_53_compare_exactly() {
        assert!(d("9007199254740993") > d("9007199254740992"));
        assert!(d("-9007199254740993") < d("-9007199254740992"));
        assert!(d("0.1000000000000000000001") > d("0.1"));
    }

    #[test]
    fn scaling_and_rounding() {
        assert_eq!(d("1.25").scaled(3), Some(1250));
        assert_eq!(d("-1.25").scaled(1), None);
        assert_eq!(Decimal::from_scaled(-1250, 3), d("-1.25"));
        assert_eq!(Decimal::from_scaled(5, 3), d("0.005"));
        assert_eq!(d("2.5").round(true), Some(3));
        assert_eq!(d("2.5").round(false), Some(2));
        assert_eq!(d("-2.5").round(true), Some(-2));
        assert_eq!(d("-2.5").round(false), Some(-3));
        assert_eq!(d("-2").round(false), Some(-2));
    }

    proptest! {
        #[test]
        fn order_agrees_with_f64_where_f64_is_exact(a in -1_000_000i64..1_000_000, b in -1_000_000i64..1_000_000, s in 0u32..4) {
            let (x, y) = (Decimal::from_scaled(a.into(), s), Decimal::from_scaled(b.into(), s));
            prop_assert_eq!(x.cmp(&y), a.cmp(&b));
            prop_assert_eq!(Decimal::parse(&x.to_string()), Some(x.clone()));
            prop_assert_eq!(x.scaled(s), Some(i128::from(a)));
        }
    }
}
