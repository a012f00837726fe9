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

/// The texts `-?[0-9]+(\.[0-9]+)?` whose number is above `c` (`strict`: `> c`, else
/// `>= c`) or below it (`above` false), as an anchored regular expression. Leading zeros
/// and trailing fraction zeros are allowed, as [`Decimal::parse`] reads them, so the
/// language is exactly the texts a comparison holds on: a text test intersected with it
/// (by the automata) says whether some number in an interval is written that way.
pub fn bound_regex(c: &Decimal, above: bool, strict: bool) -> String {
    const ANY_POS: &str = r"[0-9]+(?:\.[0-9]+)?";
    let zero = c.int == "0" && c.frac.is_empty();
    let magnitude = |gt: bool, strict: bool| match (gt, strict) {
        (true, true) => pos_gt(&c.int, &c.frac),
        (true, false) => pos_ge(&c.int, &c.frac),
        (false, true) => pos_lt(&c.int, &c.frac),
        (false, false) => pos_le(&c.int, &c.frac),
    };
    // `-0` and `-0.0` are zero; a non-negative text's magnitude is its number.
    let body = match (above, c.negative) {
        // x > c, c >= 0: a non-negative text above c (a negative one is at most 0).
        (true, false) => match (strict, zero) {
            (false, true) => format!("{}|-0+(?:\\.0+)?", magnitude(true, false)),
            _ => magnitude(true, strict),
        },
        // x > -m: any non-negative text, or a negative one of magnitude below m.
        (true, true) => format!("{ANY_POS}|-(?:{})", magnitude(false, strict)),
        // x < c, c > 0 (or <= c, c >= 0): a non-negative text below c, or any negative one.
        (false, false) if !zero || !strict => format!("{}|-{ANY_POS}", magnitude(false, strict)),
        // x < 0: a negative text of magnitude above 0.
        (false, false) => format!("-(?:{})", magnitude(true, true)),
        // x < -m: a negative text of magnitude above m.
        (false, true) => format!("-(?:{})", magnitude(true, strict)),
    };
    format!("^(?:{body})$")
}

/// Digit-string comparisons for [`bound_regex`]: an integer part (leading zeros
/// allowed) against `int` (no leading zeros, `"0"` for zero), a fraction part (the
/// `\.digits`, trailing zeros allowed, or none) against `frac` (no trailing zeros).
fn int_eq(int: &str) -> String {
    if int == "0" { "0+".into() } else { format!("0*{int}") }
}

fn int_gt(int: &str) -> String {
    if int == "0" {
        return "0*[1-9][0-9]*".into();
    }
    let n = int.len();
    let mut alternatives = vec![format!("[1-9][0-9]{{{n},}}")];
    for (i, d) in int.bytes().enumerate() {
        if d < b'9' {
            alternatives.push(format!("{}[{}-9][0-9]{{{}}}", &int[..i], (d + 1) as char, n - i - 1));
        }
    }
    format!("0*(?:{})", alternatives.join("|"))
}

/// `None`: no integer part is below `int` (it is zero).
fn int_lt(int: &str) -> Option<String> {
    if int == "0" {
        return None;
    }
    let n = int.len();
    let mut alternatives = vec!["0+".to_string()];
    if n >= 2 {
        alternatives.push(format!("0*[1-9][0-9]{{0,{}}}", n - 2));
    }
    for (i, d) in int.bytes().enumerate() {
        let low = if i == 0 { b'1' } else { b'0' };
        if d > low {
            alternatives.push(format!(
                "0*{}[{}-{}][0-9]{{{}}}",
                &int[..i],
                low as char,
                (d - 1) as char,
                n - i - 1
            ));
        }
    }
    Some(format!("(?:{})", alternatives.join("|")))
}

const FRAC_ANY: &str = r"(?:\.[0-9]+)?";

fn frac_eq(frac: &str) -> String {
    if frac.is_empty() {
        r"(?:\.0+)?".into()
    } else {
        format!(r"\.{frac}0*")
    }
}

fn frac_gt(frac: &str) -> String {
    if frac.is_empty() {
        return r"\.[0-9]*[1-9][0-9]*".into();
    }
    let mut alternatives = vec![format!("{frac}[0-9]*[1-9][0-9]*")];
    for (i, d) in frac.bytes().enumerate() {
        if d < b'9' {
            alternatives.push(format!("{}[{}-9][0-9]*", &frac[..i], (d + 1) as char));
        }
    }
    format!(r"\.(?:{})", alternatives.join("|"))
}

/// `None`: no fraction is below `frac` (it is zero).
fn frac_lt(frac: &str) -> Option<String> {
    if frac.is_empty() {
        return None;
    }
    let mut alternatives = Vec::new();
    for (i, d) in frac.bytes().enumerate() {
        if d > b'0' {
            alternatives.push(format!("{}[0-{}][0-9]*", &frac[..i], (d - 1) as char));
        }
        // A shorter fraction that agrees so far: its missing digits are zeros.
        if i >= 1 {
            alternatives.push(frac[..i].to_string());
        }
    }
    // No fraction at all is zero, below a fraction with a digit that is not.
    Some(format!(r"(?:\.(?:{}))?", alternatives.join("|")))
}

fn either(a: String, b: Option<String>) -> String {
    match b {
        Some(b) => format!("{a}|{b}"),
        None => a,
    }
}

fn pos_gt(int: &str, frac: &str) -> String {
    format!("{}{FRAC_ANY}|{}{}", int_gt(int), int_eq(int), frac_gt(frac))
}

fn pos_ge(int: &str, frac: &str) -> String {
    format!(
        "{}{FRAC_ANY}|{}(?:{}|{})",
        int_gt(int),
        int_eq(int),
        frac_gt(frac),
        frac_eq(frac)
    )
}

fn pos_lt(int: &str, frac: &str) -> String {
    let below = int_lt(int).map(|i| format!("{i}{FRAC_ANY}"));
    match frac_lt(frac) {
        Some(f) => either(format!("{}{f}", int_eq(int)), below),
        None => below.unwrap_or_else(|| "[^\\s\\S]".into()),
    }
}

fn pos_le(int: &str, frac: &str) -> String {
    let equal = format!("{}(?:{})", int_eq(int), either(frac_eq(frac), frac_lt(frac)));
    either(equal, int_lt(int).map(|i| format!("{i}{FRAC_ANY}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    /// Every text over `-0123456789.` up to five characters: the bound's regex matches
    /// exactly the numbers on its side of the bound, for bounds of every shape.
    #[test]
    fn bound_regexes_match_exactly_the_texts_on_their_side() {
        let alphabet = ['-', '0', '1', '5', '9', '.'];
        let mut texts = vec![String::new()];
        let mut all = Vec::new();
        for _ in 0..5 {
            texts = texts
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            all.extend(texts.iter().cloned());
        }
        let bounds = [
            "0", "-0", "1", "5", "9", "10", "15", "0.5", "0.05", "1.5", "-1", "-0.5", "-15", "99", "0.95", "5.1",
            "50.01",
        ];
        for b in bounds {
            let c = d(b);
            for (above, strict) in [(true, true), (true, false), (false, true), (false, false)] {
                let re = regex::Regex::new(&bound_regex(&c, above, strict)).unwrap();
                for t in &all {
                    let want = Decimal::parse(t).is_some_and(|x| match (above, strict) {
                        (true, true) => x > c,
                        (true, false) => x >= c,
                        (false, true) => x < c,
                        (false, false) => x <= c,
                    });
                    assert_eq!(
                        re.is_match(t),
                        want,
                        "{t} against {b} (above {above}, strict {strict}): {re}"
                    );
                }
            }
        }
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
