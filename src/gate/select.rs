//! Code selectors: `FPX304`, a prefix (`FPX3`, `FPX30`), a name (`always-true`) or
//! `ALL`, as `--select`, `--ignore`, the configuration and suppressions write them.

use std::fmt;
use std::str::FromStr;

use crate::checks::{CODES, Code, lookup};

/// A set of finding codes named one way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// Every code.
    All,
    /// The codes starting with this text (upper-case): a whole code is its own prefix.
    Prefix(String),
}

impl Selector {
    /// Whether the selector names `code`.
    pub fn matches(&self, code: Code) -> bool {
        match self {
            Selector::All => true,
            Selector::Prefix(p) => code.as_str().starts_with(p.as_str()),
        }
    }

    /// How specific the selector is: a longer prefix wins over a shorter one (as in
    /// ruff, `select = ["FPX3"]` with `ignore = ["FPX304"]` drops FPX304 only, and
    /// `ignore = ["FPX3"]` with `select = ["FPX304"]` keeps it).
    pub fn specificity(&self) -> usize {
        match self {
            Selector::All => 0,
            Selector::Prefix(p) => p.len(),
        }
    }
}

impl FromStr for Selector {
    type Err = String;

    fn from_str(text: &str) -> Result<Selector, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("ALL") {
            return Ok(Selector::All);
        }
        if let Some(rule) = lookup(text) {
            return Ok(Selector::Prefix(rule.code.as_str().to_string()));
        }
        let upper = text.to_ascii_uppercase();
        if upper.len() >= 3 && CODES.iter().any(|r| r.code.as_str().starts_with(&upper)) {
            return Ok(Selector::Prefix(upper));
        }
        Err(format!(
            "`{text}` is not a finding code, a code prefix (FPX3) or ALL; `fpx explain --list` lists the codes"
        ))
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::All => f.write_str("ALL"),
            Selector::Prefix(p) => f.write_str(p),
        }
    }
}

/// Parses a list of selectors; the first bad one is the error.
pub fn parse_all<S: AsRef<str>>(items: &[S]) -> Result<Vec<Selector>, String> {
    items.iter().map(|s| s.as_ref().parse()).collect()
}

/// Whether a finding of `code` is reported under `select` and `ignore`: the most
/// specific selector that names it decides; with no `select`, every code is selected.
pub fn selected(code: Code, select: &[Selector], ignore: &[Selector]) -> bool {
    let best = |list: &[Selector]| list.iter().filter(|s| s.matches(code)).map(Selector::specificity).max();
    let chosen = if select.is_empty() { Some(0) } else { best(select) };
    match (chosen, best(ignore)) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(s), Some(i)) => s > i,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(items: &[&str]) -> Vec<Selector> {
        parse_all(items).unwrap()
    }

    #[test]
    fn prefixes_names_and_all_parse() {
        assert_eq!("fpx3".parse::<Selector>(), Ok(Selector::Prefix("FPX3".into())));
        assert_eq!("always-true".parse::<Selector>(), Ok(Selector::Prefix("FPX101".into())));
        assert_eq!("all".parse::<Selector>(), Ok(Selector::All));
        assert!("FPX9".parse::<Selector>().is_err());
        assert!("FP".parse::<Selector>().is_err());
        assert!("nonsense".parse::<Selector>().is_err());
    }

    #[test]
    fn the_most_specific_selector_wins() {
        assert!(selected(Code::Fpx304, &[], &[]));
        assert!(!selected(Code::Fpx304, &[], &sel(&["FPX3"])));
        assert!(selected(Code::Fpx301, &sel(&["FPX3"]), &sel(&["FPX304"])));
        assert!(!selected(Code::Fpx304, &sel(&["FPX3"]), &sel(&["FPX304"])));
        assert!(selected(Code::Fpx304, &sel(&["FPX304"]), &sel(&["FPX3"])));
        assert!(!selected(Code::Fpx101, &sel(&["FPX3"]), &[]));
        assert!(!selected(Code::Fpx101, &sel(&["ALL"]), &sel(&["ALL"])));
    }
}
