//! Typed fields: the values a column of a type can hold, and deciding one field's
//! literals over them.
//!
//! A typed field holds either nothing (a null, read as the empty text, as
//! `schema::typed` writes KQL's null handling) or the canonical text of a value of its
//! type: `443` and never `0443` or `443.0` for an int; `true`/`false` for a bool. With
//! the values' texts canonical, `==` on text is `==` on values, and `< <= > >=` compare
//! exactly (see `crate::decimal`).
//!
//! Numbers are decided by intervals: the comparisons bound the value, the negated
//! equalities remove finitely many points, so trying one more candidate than there are
//! removed points, from one end of the interval, finds a value exactly when there is one.

use rustc_hash::FxHashMap as HashMap;

use super::field::{self, FieldResult, Lit};
use super::formula::{Basic, Kind};
use crate::decimal::Decimal;

/// The values a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Domain {
    /// Any text (fpx's untyped semantics).
    #[default]
    Text,
    /// Whole numbers in `min..=max` (KQL `int`, `long`), or null.
    Integer { min: i128, max: i128 },
    /// Decimal numbers (KQL `real`, compared as exact decimals, not doubles), or null.
    Decimal,
    /// `true` or `false`, or null.
    Bool,
    /// Datetimes (KQL `datetime`, in their canonical text, see `crate::time`), or null.
    Time,
}

impl Domain {
    /// KQL's `int`.
    pub const INT: Domain = Domain::Integer {
        min: i32::MIN as i128,
        max: i32::MAX as i128,
    };
    /// KQL's `long`.
    pub const LONG: Domain = Domain::Integer {
        min: i64::MIN as i128,
        max: i64::MAX as i128,
    };

    /// Whether `text` is a value of the domain (the empty text is null, in every one).
    pub fn holds(self, text: &str) -> bool {
        match self {
            Domain::Text => true,
            _ if text.is_empty() => true,
            Domain::Bool => text == "true" || text == "false",
            Domain::Time => crate::time::parse_datetime(text).is_some_and(|t| crate::time::format_datetime(t) == text),
            Domain::Decimal => crate::decimal::canonical(text).is_some_and(|c| c == text),
            Domain::Integer { min, max } => Decimal::parse(text)
                .filter(|d| d.is_integer() && d.to_string() == text)
                .and_then(|d| d.round(false))
                .is_some_and(|n| (min..=max).contains(&n)),
        }
    }
}

/// The domain of each field; a field not listed holds any text.
#[derive(Debug, Clone, Default)]
pub struct Domains(HashMap<String, Domain>);

impl Domains {
    /// Every field holds any text.
    pub fn text() -> Domains {
        Domains::default()
    }

    /// Sets a field's domain.
    pub fn insert(&mut self, field: &str, domain: Domain) {
        if domain == Domain::Text {
            self.0.remove(field);
        } else {
            self.0.insert(field.to_string(), domain);
        }
    }

    /// A field's domain.
    pub fn of(&self, field: &str) -> Domain {
        self.0.get(field).copied().unwrap_or_default()
    }

    /// Whether every field of `event` holds a value of its domain.
    pub fn hold(&self, event: &crate::pred::Event) -> bool {
        event.iter().all(|(f, v)| self.of(f).holds(v))
    }
}

/// Decides a conjunction of literals over one field of `domain`.
pub(crate) fn solve(lits: &[Lit], domain: Domain) -> FieldResult {
    match domain {
        Domain::Text => field::solve(lits),
        Domain::Bool => first(["", "true", "false"].map(String::from), lits),
        Domain::Integer { .. } | Domain::Decimal => number(lits, domain),
        Domain::Time => time(lits),
    }
}

/// Datetime fields: null, else an instant, found as a number of ticks (the datetime
/// tests are comparisons of ticks).
fn time(lits: &[Lit]) -> FieldResult {
    if satisfies("", lits) {
        return FieldResult::Sat(String::new());
    }
    let ticks: Vec<Basic> = lits
        .iter()
        .filter(|(b, _)| b.time)
        .map(|(b, _)| Basic {
            value: crate::time::parse_datetime(&b.value).map_or_else(String::new, |t| t.to_string()),
            time: false,
            cs: true,
            ..(*b).clone()
        })
        .collect();
    let on_ticks: Vec<Lit> = ticks
        .iter()
        .zip(lits.iter().filter(|(b, _)| b.time))
        .map(|(t, (_, pos))| (t, *pos))
        .collect();
    // Other tests: `isnull` / `isnotempty` (equality with ""), which every instant fails,
    // and text tests (KQL refuses them on a datetime: FPX204), which are tried.
    let others: Vec<Lit> = lits.iter().copied().filter(|(b, _)| !b.time).collect();
    if others
        .iter()
        .any(|(b, pos)| *pos && b.kind == Kind::Eq && b.value.is_empty())
    {
        return FieldResult::Unsat;
    }
    let decided = others.iter().all(|(b, _)| b.kind == Kind::Eq && b.value.is_empty());
    let domain = Domain::Integer {
        min: 0,
        max: i128::from(crate::time::MAX_TICKS),
    };
    let Some(found) = numbers(&on_ticks, domain, if decided { 1 } else { 64 }) else {
        return FieldResult::Unknown;
    };
    if decided && found.is_empty() {
        return FieldResult::Unsat;
    }
    found
        .iter()
        .filter_map(|t| t.parse::<i64>().ok())
        .map(crate::time::format_datetime)
        .find(|text| satisfies(text, lits))
        .map_or(FieldResult::Unknown, FieldResult::Sat)
}

fn satisfies(text: &str, lits: &[Lit]) -> bool {
    lits.iter().all(|(b, pos)| b.eval(text) == *pos)
}

fn first(candidates: impl IntoIterator<Item = String>, lits: &[Lit]) -> FieldResult {
    candidates
        .into_iter()
        .find(|c| satisfies(c, lits))
        .map_or(FieldResult::Unsat, FieldResult::Sat)
}

/// Number fields: null, else a number in the interval the comparisons leave, off the
/// points the negated equalities remove.
fn number(lits: &[Lit], domain: Domain) -> FieldResult {
    if satisfies("", lits) {
        return FieldResult::Sat(String::new());
    }
    let comparable = |k: Kind| k == Kind::Eq || k.is_numeric();
    if lits.iter().any(|(b, _)| !comparable(b.kind)) {
        // Text tests on a number (KQL refuses most: FPX204): the untyped answer bounds
        // this one, and numbers of the interval are tried.
        let numeric: Vec<Lit> = lits.iter().copied().filter(|(b, _)| comparable(b.kind)).collect();
        return match field::solve(lits) {
            FieldResult::Unsat => FieldResult::Unsat,
            relaxed => {
                let mut candidates = numbers(&numeric, domain, 64).unwrap_or_default();
                if let FieldResult::Sat(s) = relaxed {
                    candidates.insert(0, s);
                }
                candidates
                    .into_iter()
                    .find(|c| domain.holds(c) && satisfies(c, lits))
                    .map_or(FieldResult::Unknown, FieldResult::Sat)
            }
        };
    }
    match numbers(lits, domain, 1) {
        None => FieldResult::Unknown,
        Some(found) => match found.into_iter().next() {
            Some(text) if satisfies(&text, lits) && domain.holds(&text) => FieldResult::Sat(text),
            Some(text) => {
                debug_assert!(false, "{text} does not satisfy {lits:?}");
                FieldResult::Unknown
            }
            None => FieldResult::Unsat,
        },
    }
}

/// Up to `want` non-null values of `domain` that satisfy `lits` (equalities and
/// comparisons only): none exactly when there is none; `None` when the numbers are too
/// large to step through.
fn numbers(lits: &[Lit], domain: Domain, want: usize) -> Option<Vec<String>> {
    let bounds = Bounds::of(lits);
    if bounds.is_empty() {
        return Some(Vec::new());
    }
    let mut removed: Vec<Decimal> = Vec::new();
    let mut point: Option<String> = None;
    for &(b, pos) in lits.iter().filter(|(b, _)| b.kind == Kind::Eq) {
        if pos {
            if point.as_ref().is_some_and(|p| !b.eval(p)) {
                return Some(Vec::new());
            }
            point = Some(b.value.clone());
        } else if let Some(d) = Decimal::parse(&b.value) {
            removed.push(d);
        }
    }
    let Bounds { lo, hi, .. } = &bounds;
    if let Some(p) = point {
        // An equality fixes the text; it is a value when the domain holds it.
        return Some(
            (domain.holds(&p) && !p.is_empty() && satisfies(&p, lits))
                .then_some(p)
                .into_iter()
                .collect(),
        );
    }
    let inside = |x: &Decimal| bounds.holds(x);
    let mut out = Vec::new();
    // Whole numbers first (they read best), from the lower end, else down from the upper
    // end, else up from 0: one more than the removed points is enough.
    let (min, max) = match domain {
        Domain::Integer { min, max } => (min, max),
        _ => (i128::MIN / 2, i128::MAX / 2),
    };
    let start = |b: &Bound, up: bool| -> Option<Option<i128>> {
        match b {
            None => Some(None),
            Some((d, strict)) => {
                let r = d.round(up)?;
                Some(Some(if *strict && d.is_integer() {
                    if up { r + 1 } else { r - 1 }
                } else {
                    r
                }))
            }
        }
    };
    let lo_int = start(lo, true)?.map_or(min, |l| l.max(min));
    let hi_int = start(hi, false)?.map_or(max, |h| h.min(max));
    let (from, step): (i128, i128) = match (lo, hi) {
        (Some(_), _) => (lo_int, 1),
        (None, Some(_)) => (hi_int, -1),
        (None, None) => (0.clamp(lo_int, hi_int), 1),
    };
    let mut x = from;
    for _ in 0..=removed.len() + want {
        if x < lo_int || x > hi_int {
            break;
        }
        let d = Decimal::from_scaled(x, 0);
        if inside(&d) && !removed.contains(&d) {
            out.push(d.to_string());
            if out.len() >= want {
                return Some(out);
            }
        }
        x += step;
    }
    if matches!(domain, Domain::Integer { .. }) {
        return Some(out);
    }
    // Decimals between the bounds: steps finer than either bound's digits leave more
    // points strictly inside than there are removed ones.
    let scale = lo.iter().chain(hi.iter()).map(|(d, _)| d.scale()).max().unwrap_or(0)
        + (removed.len() + want + 2).to_string().len() as u32
        + 1;
    let (from, step) = match (lo, hi) {
        (Some((l, _)), _) => (l.scaled(scale)?, 1),
        (None, Some((h, _))) => (h.scaled(scale)?, -1),
        (None, None) => (0, 1),
    };
    let mut x = from;
    for _ in 0..=removed.len() + want + 1 {
        let d = Decimal::from_scaled(x, scale);
        if inside(&d) && !removed.contains(&d) && !out.contains(&d.to_string()) {
            out.push(d.to_string());
            if out.len() >= want {
                break;
            }
        }
        x = x.checked_add(step)?;
    }
    Some(out)
}

/// A bound of an interval: the number and whether it is excluded.
type Bound = Option<(Decimal, bool)>;

/// The interval a field's comparisons (`< <= > >=`, negated or not) leave a number in.
pub(crate) struct Bounds {
    lo: Bound,
    hi: Bound,
    /// A positive comparison with a value that is not a number: it holds on no text.
    impossible: bool,
}

impl Bounds {
    /// The bounds of the numeric literals among `lits` (a negated `x < c` is `x >= c`
    /// on a number).
    pub(crate) fn of(lits: &[Lit]) -> Bounds {
        let mut out = Bounds {
            lo: None,
            hi: None,
            impossible: false,
        };
        for &(b, pos) in lits.iter().filter(|(b, _)| b.kind.is_numeric()) {
            let Some(c) = Decimal::parse(&b.value) else {
                out.impossible |= pos;
                continue;
            };
            let kind = match (b.kind, pos) {
                (k, true) => k,
                (Kind::Lt, false) => Kind::Ge,
                (Kind::Le, false) => Kind::Gt,
                (Kind::Gt, false) => Kind::Le,
                (_, false) => Kind::Lt,
            };
            let strict = matches!(kind, Kind::Lt | Kind::Gt);
            let (bound, tighter) = match kind {
                Kind::Lt | Kind::Le => (&mut out.hi, std::cmp::Ordering::Less),
                _ => (&mut out.lo, std::cmp::Ordering::Greater),
            };
            if bound
                .as_ref()
                .is_none_or(|(old, old_strict)| c.cmp(old) == tighter || (c == *old && strict && !old_strict))
            {
                *bound = Some((c, strict));
            }
        }
        out
    }

    /// Whether no number lies within the bounds.
    pub(crate) fn is_empty(&self) -> bool {
        self.impossible
            || match (&self.lo, &self.hi) {
                (Some((lo, lo_strict)), Some((hi, hi_strict))) => lo > hi || (lo == hi && (*lo_strict || *hi_strict)),
                _ => false,
            }
    }

    /// The texts of the numbers within the bounds, as anchored regular expressions (one
    /// per bound; [`crate::decimal::bound_regex`]), to intersect with text tests.
    pub(crate) fn regexes(&self) -> Vec<String> {
        let lo = self
            .lo
            .iter()
            .map(|(c, strict)| crate::decimal::bound_regex(c, true, *strict));
        let hi = self
            .hi
            .iter()
            .map(|(c, strict)| crate::decimal::bound_regex(c, false, *strict));
        lo.chain(hi).collect()
    }

    /// Whether `x` lies within the bounds.
    fn holds(&self, x: &Decimal) -> bool {
        !self.impossible
            && self.lo.as_ref().is_none_or(|(l, s)| if *s { x > l } else { x >= l })
            && self.hi.as_ref().is_none_or(|(h, s)| if *s { x < h } else { x <= h })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(kind: Kind, value: &str) -> Basic {
        Basic {
            time: false,
            field: 0,
            kind,
            cs: true,
            value: value.into(),
            other: None,
        }
    }

    fn solve_all(lits: &[(Kind, &str, bool)], domain: Domain) -> FieldResult {
        let basics: Vec<Basic> = lits.iter().map(|(k, v, _)| basic(*k, v)).collect();
        let lits: Vec<Lit> = basics.iter().zip(lits).map(|(b, (_, _, pos))| (b, *pos)).collect();
        solve(&lits, domain)
    }

    #[test]
    fn integers_have_no_point_between_neighbours() {
        let lits = [
            (Kind::Ge, "443", true),
            (Kind::Le, "443", true),
            (Kind::Eq, "443", false),
        ];
        assert_eq!(solve_all(&lits, Domain::INT), FieldResult::Unsat);
        assert_eq!(solve_all(&lits, Domain::Decimal), FieldResult::Unsat);
        let open = [(Kind::Gt, "1", true), (Kind::Lt, "2", true)];
        assert_eq!(solve_all(&open, Domain::LONG), FieldResult::Unsat);
        assert_eq!(solve_all(&open, Domain::Decimal), FieldResult::Sat("1.01".into()));
        assert_eq!(solve_all(&open, Domain::Text), FieldResult::Sat("1.5".into()));
    }

    #[test]
    fn the_type_bounds_integers() {
        let lits = [(Kind::Gt, "2147483647", true)];
        assert_eq!(solve_all(&lits, Domain::INT), FieldResult::Unsat);
        assert_eq!(solve_all(&lits, Domain::LONG), FieldResult::Sat("2147483648".into()));
        let big = [
            (Kind::Eq, "9007199254740993", true),
            (Kind::Gt, "9007199254740992", true),
        ];
        assert_eq!(
            solve_all(&big, Domain::LONG),
            FieldResult::Sat("9007199254740993".into())
        );
    }

    #[test]
    fn removed_points_are_stepped_over() {
        let lits = [
            (Kind::Ge, "0", true),
            (Kind::Le, "2", true),
            (Kind::Eq, "0", false),
            (Kind::Eq, "1", false),
        ];
        assert_eq!(solve_all(&lits, Domain::INT), FieldResult::Sat("2".into()));
        let all = [
            (Kind::Ge, "0", true),
            (Kind::Le, "1", true),
            (Kind::Eq, "0", false),
            (Kind::Eq, "1", false),
        ];
        assert_eq!(solve_all(&all, Domain::INT), FieldResult::Unsat);
        assert_eq!(solve_all(&all, Domain::Decimal), FieldResult::Sat("0.01".into()));
    }

    #[test]
    fn null_and_bool() {
        assert_eq!(
            solve_all(&[(Kind::Eq, "443", false)], Domain::INT),
            FieldResult::Sat(String::new())
        );
        assert_eq!(solve_all(&[(Kind::Eq, "0443", true)], Domain::INT), FieldResult::Unsat);
        assert_eq!(
            solve_all(&[(Kind::Eq, "true", false), (Kind::Eq, "", false)], Domain::Bool),
            FieldResult::Sat("false".into())
        );
        assert!(Domain::INT.holds("-5") && !Domain::INT.holds("-0") && !Domain::INT.holds("1.5"));
        assert!(Domain::Decimal.holds("1.5") && !Domain::Decimal.holds("1.50"));
    }
}
