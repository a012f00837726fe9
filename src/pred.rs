//! The predicate IR shared by the exclusion grammar and the KQL front-end.
//!
//! A [`Pred`] is a boolean formula over [`Atom`]s; an atom compares one field of an
//! event with a value (or a list of values) under one operator. [`Pred::eval`] gives
//! the KQL meaning of a predicate on one [`Event`]; the logic engine decides the same
//! meaning over all events.
//!
//! Semantics (the contract the logic engine is exact against):
//! - A field the event lacks reads as the empty string.
//! - Case-insensitive operators fold ASCII letters only (as KQL does).
//! - Terms are maximal runs of ASCII letters and digits. `has v` holds when `v` occurs
//!   at a term boundary on each side where `v` begins or ends with a letter or digit
//!   (so a multi-term value matches as a phrase); `hasprefix` needs the boundary before,
//!   `hassuffix` the one after.
//! - `==`, `in` and friends compare text, also for number and boolean literals
//!   (`event_id == 1234` holds for the text `1234`).
//! - `< <= > >=` hold only when the field's text is a decimal number
//!   (`-?[0-9]+(\.[0-9]+)?`) that compares as asked, exactly (no rounding to a
//!   float); any other text makes them false.
//! - `matches regex` searches the field's text with the (case-sensitive) pattern.
//! - Two fields compared ([`Op::SameAs`], read from KQL's `A == B` of two string
//!   columns) are equal texts; a field contained in a constant ([`Op::ContainedIn`],
//!   `"S" contains C`) is one of the constant's substrings (ASCII case folded unless
//!   `_cs`).

use std::collections::BTreeMap;
use std::ops::Range;

use crate::decimal::Decimal;

/// An event: field name to text. Absent fields read as the empty string.
pub type Event = BTreeMap<String, String>;

/// A byte range inside the source text an atom was parsed from.
pub type Span = Range<usize>;

/// A boolean formula over atoms.
#[derive(Debug, Clone, PartialEq)]
pub enum Pred {
    True,
    False,
    Atom(Atom),
    Not(Box<Pred>),
    And(Vec<Pred>),
    Or(Vec<Pred>),
}

/// The comparison an atom makes. Negation and case sensitivity are separate flags on
/// [`Atom`], so `!contains_cs` is `Contains` with `negated` and `case_sensitive` set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
    Has,
    HasPrefix,
    HasSuffix,
    In,
    HasAny,
    HasAll,
    MatchesRegex,
    Lt,
    Le,
    Gt,
    Ge,
    /// `field == other`: the field's text equals another field's of the same event
    /// (KQL's `A == B` of two string columns; `!=` when negated). Its one value is the
    /// other field's name. Case-sensitive only: `=~` of two columns is not this.
    SameAs,
    /// `"S" contains field`: the field's text occurs in the value's (KQL's `contains`
    /// with the literal on the left and a column on the right; `_cs`, `!` as usual).
    ContainedIn,
}

impl Op {
    /// Whether KQL spells a negated form of this operator (`!=`, `!contains`, `!in`, ...).
    pub fn has_negated_form(self) -> bool {
        matches!(
            self,
            Op::Equals
                | Op::Contains
                | Op::StartsWith
                | Op::EndsWith
                | Op::Has
                | Op::HasPrefix
                | Op::HasSuffix
                | Op::In
                | Op::SameAs
                | Op::ContainedIn
        )
    }

    /// Whether KQL spells both a case-sensitive and a case-insensitive form.
    pub fn has_case_forms(self) -> bool {
        self.has_negated_form() && self != Op::SameAs
    }

    /// Whether the operator takes a parenthesised list of values.
    pub fn takes_list(self) -> bool {
        matches!(self, Op::In | Op::HasAny | Op::HasAll)
    }

    /// Whether the operator compares numbers.
    pub fn is_numeric(self) -> bool {
        matches!(self, Op::Lt | Op::Le | Op::Gt | Op::Ge)
    }
}

/// A literal value on the right-hand side of an atom.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    /// A number literal, kept as written (its text is what `==` compares).
    Num(String),
    Bool(bool),
    /// A datetime (`datetime(2024-01-01)`, `ago(7d)`, `now()`): as written, and the
    /// canonical text of its instant (see [`crate::time`]), which `==` and `<` compare
    /// with a field's datetime.
    DateTime {
        written: String,
        text: String,
    },
    /// Sigma's `null`: what an absent (or null) field holds, which is not the empty
    /// string. Only the Sigma front-end writes it, in `F == null` (see [`NULL`]).
    Null,
}

/// The text [`Value::Null`] compares as: a NUL, which no field of a real event holds.
/// The logic reads it as any other text, so a null field is a value of its own; an
/// event that lacks a field holds it for the null test (`F == null`) and the empty text
/// for every other test (KQL's reading). The Sigma front-end guards the tests an empty
/// text passes (`F: ''`, regular expressions, `?`) with `F != null`, so that in Sigma an
/// absent field matches nothing but `null`.
pub const NULL: &str = "\0";

impl Value {
    /// The text the value compares as.
    pub fn text(&self) -> &str {
        match self {
            Value::Str(s) | Value::Num(s) | Value::DateTime { text: s, .. } => s,
            Value::Null => NULL,
            Value::Bool(true) => "true",
            Value::Bool(false) => "false",
        }
    }

    /// The numeric value, when the value is a number (or a string holding one).
    pub fn number(&self) -> Option<f64> {
        parse_number(self.text())
    }

    /// Whether the value is a datetime.
    pub fn is_datetime(&self) -> bool {
        matches!(self, Value::DateTime { .. })
    }

    /// Whether a field's text equals the value: as instants for a datetime, else as
    /// text.
    pub fn equals(&self, text: &str, cs: bool) -> bool {
        match self {
            Value::DateTime { text: v, .. } => same_instant(text, v),
            v => text_equals(text, v.text(), cs),
        }
    }
}

/// One comparison of a field with a value or list of values.
#[derive(Debug, Clone)]
pub struct Atom {
    pub field: String,
    pub op: Op,
    pub negated: bool,
    pub case_sensitive: bool,
    pub values: Vec<Value>,
    /// Where the atom was written; ignored by equality.
    pub span: Span,
}

impl PartialEq for Atom {
    fn eq(&self, other: &Self) -> bool {
        self.field == other.field
            && self.op == other.op
            && self.negated == other.negated
            && self.case_sensitive == other.case_sensitive
            && self.values == other.values
    }
}

impl Atom {
    /// An atom with no source span, for code that builds predicates.
    pub fn new(field: &str, op: Op, negated: bool, case_sensitive: bool, values: Vec<Value>) -> Atom {
        Atom {
            field: field.to_string(),
            op,
            negated,
            case_sensitive,
            values,
            span: 0..0,
        }
    }

    /// The single value of a scalar operator (the first of a list).
    pub fn value(&self) -> &Value {
        &self.values[0]
    }

    /// The other field a [`Op::SameAs`] atom compares with.
    pub fn other_field(&self) -> Option<&str> {
        (self.op == Op::SameAs).then(|| self.value().text())
    }

    /// Truth of the atom on a field's text. A [`Op::SameAs`] atom needs the other
    /// field too: see [`Atom::eval_texts`]; here the other reads as empty.
    pub fn eval_text(&self, text: &str) -> bool {
        self.eval_texts(text, "")
    }

    /// Truth of the atom on its field's text and, for [`Op::SameAs`], the other field's.
    pub fn eval_texts(&self, text: &str, other: &str) -> bool {
        let cs = self.case_sensitive;
        let positive = match self.op {
            Op::SameAs => text == other,
            Op::ContainedIn => contains(self.value().text(), text, cs),
            Op::Equals => self.value().equals(text, cs),
            Op::Contains => contains(text, self.value().text(), cs),
            Op::StartsWith => starts_with(text, self.value().text(), cs),
            Op::EndsWith => ends_with(text, self.value().text(), cs),
            Op::Has => has(text, self.value().text(), cs, true, true),
            Op::HasPrefix => has(text, self.value().text(), cs, true, false),
            Op::HasSuffix => has(text, self.value().text(), cs, false, true),
            Op::In => self.values.iter().any(|v| v.equals(text, cs)),
            Op::HasAny => self.values.iter().any(|v| has(text, v.text(), cs, true, true)),
            Op::HasAll => self.values.iter().all(|v| has(text, v.text(), cs, true, true)),
            Op::MatchesRegex => regex_matches(text, self.value().text()),
            Op::Lt | Op::Le | Op::Gt | Op::Ge => compare(text, self.value().text(), self.value().is_datetime())
                .is_some_and(|o| match self.op {
                    Op::Lt => o.is_lt(),
                    Op::Le => o.is_le(),
                    Op::Gt => o.is_gt(),
                    _ => o.is_ge(),
                }),
        };
        positive != self.negated
    }

    /// Truth of the atom on an event.
    pub fn eval(&self, event: &Event) -> bool {
        let read = |f: &str| event.get(f).map(String::as_str).unwrap_or("");
        if self.is_null_test() && !event.contains_key(&self.field) {
            return !self.negated;
        }
        self.eval_texts(read(&self.field), self.other_field().map_or("", read))
    }

    /// Whether the atom is Sigma's null test, `F == null` (negated or not).
    pub fn is_null_test(&self) -> bool {
        self.op == Op::Equals && matches!(self.values.as_slice(), [Value::Null])
    }

    /// Truth of the atom on an event that lacks its field: the null test holds, every
    /// other test reads the empty text (see [`NULL`]).
    pub fn eval_absent(&self) -> bool {
        match self.is_null_test() {
            true => !self.negated,
            false => self.eval_texts("", ""),
        }
    }
}

impl Pred {
    /// KQL truth of the predicate on one event.
    pub fn eval(&self, event: &Event) -> bool {
        match self {
            Pred::True => true,
            Pred::False => false,
            Pred::Atom(a) => a.eval(event),
            Pred::Not(p) => !p.eval(event),
            Pred::And(ps) => ps.iter().all(|p| p.eval(event)),
            Pred::Or(ps) => ps.iter().any(|p| p.eval(event)),
        }
    }

    /// All atoms, left to right.
    pub fn atoms(&self) -> Vec<&Atom> {
        let mut out = Vec::new();
        self.visit_atoms(&mut |a| out.push(a));
        out
    }

    fn visit_atoms<'a>(&'a self, f: &mut dyn FnMut(&'a Atom)) {
        match self {
            Pred::True | Pred::False => {}
            Pred::Atom(a) => f(a),
            Pred::Not(p) => p.visit_atoms(f),
            Pred::And(ps) | Pred::Or(ps) => ps.iter().for_each(|p| p.visit_atoms(f)),
        }
    }

    /// The distinct field names, in order of first appearance (the other field of a
    /// [`Op::SameAs`] atom after its own).
    pub fn fields(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for a in self.atoms() {
            for field in std::iter::once(a.field.as_str()).chain(a.other_field()) {
                if seen.insert(field) {
                    out.push(field.to_string());
                }
            }
        }
        out
    }

    /// Number of atoms.
    pub fn atom_count(&self) -> usize {
        self.atoms().len()
    }

    /// The negation with `not` pushed down to the atoms where KQL has a negated operator,
    /// so a fix reads `a == "x" and b == "y"`, not `not (a != "x" or b != "y")`.
    pub fn negate(&self) -> Pred {
        match self {
            Pred::True => Pred::False,
            Pred::False => Pred::True,
            Pred::Atom(a) if a.op.has_negated_form() => {
                let mut a = a.clone();
                a.negated = !a.negated;
                Pred::Atom(a)
            }
            Pred::Atom(_) => Pred::Not(Box::new(self.clone())),
            Pred::Not(p) => (**p).clone(),
            Pred::And(ps) => Pred::Or(ps.iter().map(Pred::negate).collect()),
            Pred::Or(ps) => Pred::And(ps.iter().map(Pred::negate).collect()),
        }
    }

    /// The predicate with every atom replaced by what `f` makes of it.
    pub fn map_atoms(&self, f: &mut dyn FnMut(&Atom) -> Pred) -> Pred {
        match self {
            Pred::Atom(a) => f(a),
            Pred::Not(p) => Pred::Not(Box::new(p.map_atoms(f))),
            Pred::And(ps) => Pred::And(ps.iter().map(|p| p.map_atoms(f)).collect()),
            Pred::Or(ps) => Pred::Or(ps.iter().map(|p| p.map_atoms(f)).collect()),
            other => other.clone(),
        }
    }

    /// Drops source spans (sets them empty), for comparing predicates structurally.
    pub fn without_spans(&self) -> Pred {
        match self {
            Pred::Atom(a) => Pred::Atom(Atom {
                span: 0..0,
                ..a.clone()
            }),
            Pred::Not(p) => Pred::Not(Box::new(p.without_spans())),
            Pred::And(ps) => Pred::And(ps.iter().map(Pred::without_spans).collect()),
            Pred::Or(ps) => Pred::Or(ps.iter().map(Pred::without_spans).collect()),
            other => other.clone(),
        }
    }
}

/// The column a field reads: the field itself, or the head of a property path
/// (`AdditionalFields` of `AdditionalFields.Command`, `RawEventData` of
/// `RawEventData.Target[2].ID`).
pub fn column_of(field: &str) -> &str {
    field.find(['.', '[']).map_or(field, |i| &field[..i])
}

/// A property path in the one form fpx names fields by: `.name` for a key that is an
/// identifier (`X['a']` and `X["a"]` are `X.a`), `[2]` or `[-1]` for an array index,
/// `['key']` for any other key (`X["FROM SAM"]` is `X['FROM SAM']`). `None` when `text`
/// is not a name followed by accessors.
pub fn canonical_path(text: &str) -> Option<String> {
    let text = text.trim();
    let identifier_len = |t: &str| {
        let mut chars = t.char_indices();
        match chars.next() {
            Some((_, c)) if c.is_ascii_alphabetic() || c == '_' => {}
            _ => return 0,
        }
        chars
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
            .map_or(t.len(), |(i, _)| i)
    };
    let head = identifier_len(text);
    if head == 0 {
        return None;
    }
    let mut out = text[..head].to_string();
    let mut rest = &text[head..];
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let n = identifier_len(after);
            if n == 0 {
                return None;
            }
            out.push('.');
            out.push_str(&after[..n]);
            rest = &after[n..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let after = after.trim_start();
            let (key, tail) = if let Some(quote) = after.chars().next().filter(|c| *c == '\'' || *c == '"') {
                // A quoted key, with backslash escapes.
                let mut key = String::new();
                let mut chars = after[1..].char_indices();
                let end = loop {
                    match chars.next()? {
                        (_, '\\') => key.push(chars.next()?.1),
                        (i, c) if c == quote => break 1 + i + 1,
                        (_, c) => key.push(c),
                    }
                };
                (Err(key), &after[end..])
            } else {
                let digits = after.strip_prefix('-').unwrap_or(after);
                let n = digits.bytes().take_while(u8::is_ascii_digit).count();
                if n == 0 {
                    return None;
                }
                let len = after.len() - digits.len() + n;
                (Ok(&after[..len]), &after[len..])
            };
            rest = tail.trim_start().strip_prefix(']')?;
            match key {
                Ok(index) => out.push_str(&format!("[{index}]")),
                Err(key) if !key.is_empty() && identifier_len(&key) == key.len() => {
                    out.push('.');
                    out.push_str(&key);
                }
                Err(key) => out.push_str(&format!("['{}']", key.replace('\\', "\\\\").replace('\'', "\\'"))),
            }
        } else {
            return None;
        }
    }
    Some(out)
}

/// Whether a byte is part of a term (ASCII letter or digit).
pub fn is_term_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// How a field's text compares with a value's: as datetimes (`datetime`), else as
/// decimal numbers; `None` when either is not one.
pub fn compare(text: &str, value: &str, datetime: bool) -> Option<std::cmp::Ordering> {
    if datetime {
        return Some(crate::time::parse_datetime(text)?.cmp(&crate::time::parse_datetime(value)?));
    }
    Some(Decimal::parse(text)?.cmp(&Decimal::parse(value)?))
}

/// Whether two texts are the same datetime.
pub fn same_instant(a: &str, b: &str) -> bool {
    compare(a, b, true).is_some_and(std::cmp::Ordering::is_eq)
}

/// Parses a field's text as a decimal number: `-?[0-9]+(\.[0-9]+)?`, nothing else.
pub fn parse_number(text: &str) -> Option<f64> {
    Decimal::parse(text).and_then(|_| text.parse().ok())
}

fn bytes_eq(a: &[u8], b: &[u8], cs: bool) -> bool {
    if cs { a == b } else { a.eq_ignore_ascii_case(b) }
}

/// `==` / `=~`.
pub fn text_equals(text: &str, value: &str, cs: bool) -> bool {
    bytes_eq(text.as_bytes(), value.as_bytes(), cs)
}

/// `contains` / `contains_cs`.
pub fn contains(text: &str, value: &str, cs: bool) -> bool {
    occurrences(text.as_bytes(), value.as_bytes(), cs).next().is_some()
}

/// `startswith` / `startswith_cs`.
pub fn starts_with(text: &str, value: &str, cs: bool) -> bool {
    let (t, v) = (text.as_bytes(), value.as_bytes());
    t.len() >= v.len() && bytes_eq(&t[..v.len()], v, cs)
}

/// `endswith` / `endswith_cs`.
pub fn ends_with(text: &str, value: &str, cs: bool) -> bool {
    let (t, v) = (text.as_bytes(), value.as_bytes());
    t.len() >= v.len() && bytes_eq(&t[t.len() - v.len()..], v, cs)
}

/// `has` (both boundaries), `hasprefix` (boundary before), `hassuffix` (boundary after).
/// A boundary is needed only where the value's own edge is a term character.
pub fn has(text: &str, value: &str, cs: bool, before: bool, after: bool) -> bool {
    let (t, v) = (text.as_bytes(), value.as_bytes());
    occurrences(t, v, cs).any(|i| boundary_ok(t, v, i, before, after))
}

/// Whether an occurrence of `v` at byte `i` of `t` sits at the term boundaries asked for.
pub fn boundary_ok(t: &[u8], v: &[u8], i: usize, before: bool, after: bool) -> bool {
    let left = !before || v.first().is_none_or(|&b| !is_term_byte(b)) || i == 0 || !is_term_byte(t[i - 1]);
    let end = i + v.len();
    let right = !after || v.last().is_none_or(|&b| !is_term_byte(b)) || end == t.len() || !is_term_byte(t[end]);
    left && right
}

/// Start offsets of every occurrence of `v` in `t`. Only the offsets where `v`'s first
/// byte occurs (in either case) are compared, found with `memchr`: a contains test is
/// the evaluator's most common, and comparing at every offset made a Sigma
/// `contains|all` of 5,000 values take seconds to check one text.
pub fn occurrences<'a>(t: &'a [u8], v: &'a [u8], cs: bool) -> impl Iterator<Item = usize> + 'a {
    let last = t.len().checked_sub(v.len());
    let (lower, upper) = match v.first() {
        Some(&b) if !cs => (b.to_ascii_lowercase(), b.to_ascii_uppercase()),
        Some(&b) => (b, b),
        None => (0, 0),
    };
    let mut next = 0;
    std::iter::from_fn(move || {
        let last = last?;
        while next <= last {
            let i = if v.is_empty() {
                next
            } else {
                next + memchr::memchr2(lower, upper, &t[next..=last])?
            };
            next = i + 1;
            if bytes_eq(&t[i..i + v.len()], v, cs) {
                return Some(i);
            }
        }
        None
    })
}

/// A KQL regex as the evaluator runs it: `regex::Regex::new`'s syntax and limits, with
/// room for a lazy DFA of a long pattern. With the default 2 MB cache, `a{40000}`
/// fell back to the NFA simulation, quadratic in the text (11 s to check one witness).
pub fn compile_regex(pattern: &str) -> Option<regex::Regex> {
    regex::RegexBuilder::new(pattern).dfa_size_limit(64 << 20).build().ok()
}

fn regex_matches(text: &str, pattern: &str) -> bool {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static CACHE: RefCell<HashMap<String, Option<regex::Regex>>> = RefCell::new(HashMap::new());
    }
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        // Evaluation is the harness's hot path: allocate the key only on a miss.
        if !cache.contains_key(pattern) {
            cache.insert(pattern.to_string(), compile_regex(pattern));
        }
        cache[pattern].as_ref().is_some_and(|re| re.is_match(text))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    proptest::proptest! {
        /// `occurrences` (which skips to the first byte with `memchr`) finds every
        /// offset a comparison at each offset finds.
        #[test]
        fn occurrences_are_every_matching_offset(t in "[aAbB.]{0,12}", v in "[aAbB.]{0,3}", cs: bool) {
            let (tb, vb) = (t.as_bytes(), v.as_bytes());
            let naive: Vec<usize> = (0..=tb.len())
                .filter(|&i| i + vb.len() <= tb.len() && bytes_eq(&tb[i..i + vb.len()], vb, cs))
                .collect();
            proptest::prop_assert_eq!(occurrences(tb, vb, cs).collect::<Vec<_>>(), naive);
        }
    }

    fn atom(op: Op, negated: bool, cs: bool, values: &[&str]) -> Atom {
        Atom::new(
            "f",
            op,
            negated,
            cs,
            values.iter().map(|v| Value::Str(v.to_string())).collect(),
        )
    }

    #[rstest]
    #[case(Op::Equals, false, true, "LogMeIn.exe", "LogMeIn.exe", true)]
    #[case(Op::Equals, false, true, "LogMeIn.exe", "logmein.exe", false)]
    #[case(Op::Equals, false, false, "LogMeIn.exe", "LOGMEIN.EXE", true)]
    #[case(Op::Equals, true, true, "x", "", true)]
    #[case(Op::Equals, true, false, "abc", "ABC", false)]
    #[case(Op::Contains, false, false, "Power", "C:\\powershell.exe", true)]
    #[case(Op::Contains, false, true, "Power", "C:\\powershell.exe", false)]
    #[case(Op::Contains, true, false, "x", "abc", true)]
    #[case(Op::Contains, false, false, "", "", true)]
    #[case(Op::StartsWith, false, false, "c:\\", "C:\\Windows", true)]
    #[case(Op::StartsWith, false, true, "c:\\", "C:\\Windows", false)]
    #[case(Op::EndsWith, false, false, ".EXE", "a.exe", true)]
    #[case(Op::EndsWith, true, false, ".exe", "a.exe", false)]
    #[case(Op::Has, false, false, "explorer", "KustoExplorerQueryRun", false)]
    #[case(Op::Has, false, false, "explorer", "Kusto Explorer QueryRun", true)]
    #[case(Op::Has, false, true, "Explorer", "Kusto explorer", false)]
    #[case(Op::Has, false, false, "GoTo, Inc", "GoTo, Inc.", true)]
    #[case(Op::Has, false, false, "GoTo, Inc", "GoToMyPC, Inc", false)]
    #[case(Op::Has, false, false, "GoTo, Inc", "GoTo Inc", false)]
    #[case(Op::Has, false, false, "North America", "North America", true)]
    #[case(Op::Has, false, false, "/rg/test.rg1?", "sub/xyz/rg/test.rg1?a=1", true)]
    #[case(Op::Has, false, false, "logmein", "LogMeIn, Inc.", true)]
    #[case(Op::Has, true, false, "logmein", "LogMeIn, Inc.", false)]
    #[case(Op::Has, false, false, "exe", "cmd.exe", true)]
    #[case(Op::Has, false, false, "ex", "cmd.exe", false)]
    #[case(Op::HasPrefix, false, false, "ex", "cmd.exe", true)]
    #[case(Op::HasPrefix, false, false, "xe", "cmd.exe", false)]
    #[case(Op::HasSuffix, false, false, "xe", "cmd.exe", true)]
    #[case(Op::HasSuffix, false, false, "ex", "cmd.exe", false)]
    #[case(Op::Has, false, false, "é", "caféé", true)]
    fn scalar_operators(
        #[case] op: Op,
        #[case] negated: bool,
        #[case] cs: bool,
        #[case] value: &str,
        #[case] text: &str,
        #[case] expected: bool,
    ) {
        assert_eq!(
            atom(op, negated, cs, &[value]).eval_text(text),
            expected,
            "{op:?} {value:?} on {text:?}"
        );
    }

    #[test]
    fn list_operators() {
        let list = ["splunkd.exe", "logstash"];
        assert!(atom(Op::In, false, true, &list).eval_text("logstash"));
        assert!(!atom(Op::In, false, true, &list).eval_text("LogStash"));
        assert!(atom(Op::In, false, false, &list).eval_text("LogStash"));
        assert!(atom(Op::In, true, true, &list).eval_text("LogStash"));
        assert!(!atom(Op::In, true, false, &list).eval_text("LogStash"));
        let terms = ["anydesk software", "philandro"];
        assert!(atom(Op::HasAny, false, false, &terms).eval_text("Philandro Software GmbH"));
        assert!(!atom(Op::HasAll, false, false, &terms).eval_text("Philandro Software GmbH"));
        assert!(atom(Op::HasAll, false, false, &terms).eval_text("AnyDesk Software (philandro)"));
    }

    #[test]
    fn numeric_operators() {
        let lt = Atom::new("f", Op::Lt, false, true, vec![Value::Num("10".into())]);
        assert!(lt.eval_text("9.5"));
        assert!(lt.eval_text("-3"));
        assert!(!lt.eval_text("10"));
        assert!(!lt.eval_text(""), "a missing field is no number");
        assert!(!lt.eval_text("1e3"));
        let ge = Atom::new("f", Op::Ge, false, true, vec![Value::Num("10".into())]);
        assert!(ge.eval_text("10.0"));
        let eq = Atom::new("f", Op::Equals, false, true, vec![Value::Num("1234".into())]);
        assert!(eq.eval_text("1234"));
        assert!(!eq.eval_text("01234"), "== compares text");
    }

    #[test]
    fn missing_field_reads_as_empty() {
        let ne = Pred::Atom(Atom::new(
            "process.name",
            Op::Equals,
            true,
            true,
            vec![Value::Str("LogMeIn.exe".into())],
        ));
        assert!(ne.eval(&Event::new()));
        let mut e = Event::new();
        e.insert("process.name".into(), "LogMeIn.exe".into());
        assert!(!ne.eval(&e));
    }

    #[test]
    fn regex_is_case_sensitive_search() {
        let re = Atom::new("f", Op::MatchesRegex, false, true, vec![Value::Str("^a.c".into())]);
        assert!(re.eval_text("abcd"));
        assert!(!re.eval_text("Abc"));
    }

    #[test]
    fn negate_pushes_into_atoms() {
        let p = Pred::Or(vec![
            Pred::Atom(Atom::new("a", Op::Equals, true, true, vec![Value::Str("x".into())])),
            Pred::Atom(Atom::new("b", Op::HasAny, false, false, vec![Value::Str("y".into())])),
        ]);
        let n = p.negate();
        let Pred::And(parts) = &n else { panic!("{n:?}") };
        assert!(matches!(&parts[0], Pred::Atom(a) if !a.negated));
        assert!(matches!(&parts[1], Pred::Not(_)));
    }
}

/// Proptest strategies for predicates, shared by the parser and logic tests.
#[cfg(test)]
pub(crate) mod strategy {
    use super::*;
    use proptest::prelude::*;

    /// Every operator spelling the grammar has: (op, negated, case-sensitive).
    pub(crate) fn operator() -> impl Strategy<Value = (Op, bool, bool)> {
        let scalar = prop_oneof![
            Just(Op::Equals),
            Just(Op::Contains),
            Just(Op::StartsWith),
            Just(Op::EndsWith),
            Just(Op::Has),
            Just(Op::HasPrefix),
            Just(Op::HasSuffix),
            Just(Op::In),
        ];
        prop_oneof![
            8 => (scalar, any::<bool>(), any::<bool>()),
            1 => Just((Op::HasAny, false, false)),
            1 => Just((Op::HasAll, false, false)),
        ]
    }

    /// An atom over `fields` whose string values come from `value`.
    pub(crate) fn atom(fields: Vec<&'static str>, value: BoxedStrategy<Value>, numeric: bool) -> BoxedStrategy<Atom> {
        let field = proptest::sample::select(fields);
        let strings = (field.clone(), operator(), proptest::collection::vec(value, 1..4)).prop_map(
            |(field, (op, negated, cs), mut values)| {
                if !op.takes_list() {
                    values.truncate(1);
                }
                Atom::new(field, op, negated, cs, values)
            },
        );
        if !numeric {
            return strings.boxed();
        }
        let numbers = (
            field,
            prop_oneof![Just(Op::Lt), Just(Op::Le), Just(Op::Gt), Just(Op::Ge)],
            prop_oneof![Just("1"), Just("5"), Just("12"), Just("-2"), Just("2.5")],
        )
            .prop_map(|(field, op, n)| Atom::new(field, op, false, true, vec![Value::Num(n.to_string())]));
        let regexes = (
            proptest::sample::select(vec!["f", "g"]),
            prop_oneof![
                Just("^a"),
                Just("b$"),
                Just("a.b"),
                Just("[0-9]+"),
                Just("^$"),
                Just("a|B"),
                Just("^[a-z]+$")
            ],
        )
            .prop_map(|(field, re)| Atom::new(field, Op::MatchesRegex, false, true, vec![Value::Str(re.to_string())]));
        prop_oneof![6 => strings, 1 => numbers, 1 => regexes].boxed()
    }

    /// A predicate of bounded depth over the given atoms.
    pub(crate) fn pred(atom: BoxedStrategy<Atom>, depth: u32) -> BoxedStrategy<Pred> {
        let leaf = prop_oneof![
            12 => atom.prop_map(Pred::Atom),
            1 => Just(Pred::True),
            1 => Just(Pred::False),
        ];
        leaf.prop_recursive(depth, 24, 3, |inner| {
            prop_oneof![
                1 => inner.clone().prop_map(|p| Pred::Not(Box::new(p))),
                3 => proptest::collection::vec(inner.clone(), 2..4).prop_map(Pred::And),
                3 => proptest::collection::vec(inner, 2..4).prop_map(Pred::Or),
            ]
        })
        .boxed()
    }
}

#[cfg(test)]
mod path_tests {
    use super::*;

    #[test]
    fn property_paths_have_one_form() {
        assert_eq!(canonical_path("A").as_deref(), Some("A"));
        assert_eq!(canonical_path("A['b']").as_deref(), Some("A.b"));
        assert_eq!(canonical_path("A[\"b\"].c").as_deref(), Some("A.b.c"));
        assert_eq!(canonical_path("R.Target[2].ID").as_deref(), Some("R.Target[2].ID"));
        assert_eq!(canonical_path("R.Actor[-1].ID").as_deref(), Some("R.Actor[-1].ID"));
        assert_eq!(
            canonical_path("A['FROM SAM Account Name']").as_deref(),
            Some("A['FROM SAM Account Name']")
        );
        assert_eq!(canonical_path("A[\"it's\"]").as_deref(), Some("A['it\\'s']"));
        assert_eq!(canonical_path(" A [ 'x' ] ").as_deref(), None);
        for bad in ["", "1a", "A.", "A[", "A[x]", "A['x'", "A-b", "A.1"] {
            assert_eq!(canonical_path(bad), None, "{bad}");
        }
        assert_eq!(column_of("R.Target[2].ID"), "R");
        assert_eq!(column_of("A['x y']"), "A");
        assert_eq!(column_of("FileName"), "FileName");
    }
}
