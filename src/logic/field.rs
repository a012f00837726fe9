//! Deciding a conjunction of literals on one field: is there a text that passes every
//! positive test and fails every negated one? Exact for all string tests; numeric and
//! regex tests are decided where the answer can be proven and `Unknown` otherwise.
//!
//! ## Why the search is finite (and complete)
//!
//! Without a positive equality, suppose some text `s` satisfies the literals. Pick, in
//! `s`, one occurrence for every positive contains/has/hasprefix/hassuffix literal, plus
//! the longest required prefix and suffix. Build `s'` from those occurrences ("pieces"),
//! in order, with every gap replaced by one or two *filler* characters that occur in no
//! literal's value, each filler a term character exactly when the character next to the
//! piece in `s` was. Then:
//! - every positive literal still holds (its piece is there, with the same neighbours'
//!   term/non-term class, and the prefix/suffix pieces still open/close the text);
//! - no negated literal starts to hold: an occurrence of its value cannot touch a filler,
//!   so it lies inside one piece, whose neighbours have the same class as in `s`, so it
//!   was an occurrence in `s` too; `s'` contains a filler, so it equals no constant.
//!
//! So it is enough to search, piece by piece and independently, over the case of each
//! piece's letters and the class of its two neighbours. With a positive equality the
//! text is fixed up to the case of its letters, and the same case search decides it.

use super::formula::{Basic, Kind};
use std::cell::RefCell;

/// The outcome for one field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FieldResult {
    Sat(String),
    Unsat,
    Unknown,
}

/// A literal: a basic test and whether it must hold (`true`) or fail (`false`).
pub(crate) type Lit<'a> = (&'a Basic, bool);

/// Longest text a regular expression may need before fpx leaves it undecided: checking
/// a text against a pattern is linear in the text times the pattern's automaton, and
/// `a{40000}` needs a text of 40,000 characters against 40,000 states (over a minute).
/// No rule tests a field for texts this long; such a regex is a documented limit
/// (`Unknown`, FPX401), not a verdict.
pub(crate) const MAX_REGEX_TEXT: usize = 4_096;

/// Whether every text `pattern` matches is longer than [`MAX_REGEX_TEXT`] bytes.
fn needs_long_text(pattern: &str) -> bool {
    // Without a counted repetition (`{n}`, which needs a `{`), each byte of the pattern
    // stands for at most one character of a match (four bytes): such a pattern needs no
    // text longer than that. Parsing it on every field solve took most of a rule of 40
    // wildcard patterns' check.
    if !pattern.contains('{') && pattern.len() * 4 <= MAX_REGEX_TEXT {
        return false;
    }
    regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .ok()
        .and_then(|hir| hir.properties().minimum_len())
        .is_some_and(|len| len > MAX_REGEX_TEXT)
}

/// Decides a conjunction of literals over one field.
pub(crate) fn solve(lits: &[Lit]) -> FieldResult {
    if lits
        .iter()
        .any(|(b, _)| b.kind == Kind::Regex && needs_long_text(&b.value))
    {
        return FieldResult::Unknown;
    }
    // A positive `==` fixes the text up to case: candidates that fail it are skipped
    // before the other literals are read (each of 12,000 values of an `in` list was
    // otherwise read against all the others).
    let fixed = lits.iter().find(|(b, pos)| *pos && b.kind == Kind::Eq && !b.time);
    // A test with one truth on every text the equality allows, contradicted by its
    // value, needs no solving (the search refusing an `in` list's values one by one
    // against an `endswith`).
    if let Some((eq, _)) = fixed
        && lits
            .iter()
            .any(|(b, pos)| b.decided_by_equality(eq) && b.eval(&eq.value) != *pos)
    {
        return FieldResult::Unsat;
    }
    for candidate in quick_candidates(lits) {
        if fixed.is_none_or(|(eq, _)| eq.eval(&candidate)) && satisfies(&candidate, lits) {
            return FieldResult::Sat(candidate);
        }
    }
    let always_true_negated = lits.iter().any(|(b, pos)| {
        !pos && b.value.is_empty()
            && matches!(
                b.kind,
                Kind::Contains | Kind::Prefix | Kind::Suffix | Kind::Has | Kind::HasPrefix | Kind::HasSuffix
            )
    });
    if always_true_negated {
        return FieldResult::Unsat;
    }
    if let Some((eq, _)) = lits.iter().find(|(b, pos)| *pos && b.kind == Kind::Eq) {
        return fixed_text(eq, lits);
    }
    let has_regex = lits.iter().any(|(b, _)| b.kind == Kind::Regex);
    let numeric = lits.iter().any(|(b, pos)| *pos && b.kind.is_numeric());
    if !has_regex && !numeric {
        return pieces(lits);
    }
    // Numbers and regexes: the string literals alone are a relaxation, so their
    // unsatisfiability is final; otherwise try candidates and admit what is unproven.
    let strings: Vec<Lit> = lits
        .iter()
        .copied()
        .filter(|(b, _)| b.kind != Kind::Regex && !b.kind.is_numeric())
        .collect();
    let relaxed = pieces(&strings);
    if relaxed == FieldResult::Unsat {
        return FieldResult::Unsat;
    }
    if numeric && numeric_interval_empty(lits) {
        return FieldResult::Unsat;
    }
    // A number comparison holds only on decimal text (`-?[0-9]+(\.[0-9]+)?`): a test that
    // needs any other character (`has "a"`) cannot hold with it.
    if numeric && lits.iter().any(|(b, pos)| *pos && needs_non_decimal(b)) {
        return FieldResult::Unsat;
    }
    // A regular expression with a finite language (`^$`, `^(a|b)$`): its words are every
    // candidate there is, so trying them all decides exactly.
    if let Some(words) = lits
        .iter()
        .filter(|(b, pos)| *pos && b.kind == Kind::Regex)
        .find_map(|(b, _)| finite_language(&b.value))
    {
        return words
            .into_iter()
            .find(|w| satisfies(w, lits))
            .map_or(FieldResult::Unsat, FieldResult::Sat);
    }
    // A number comparison that must hold makes the text decimal (`-?[0-9]+(\.[0-9]+)?`,
    // what `Decimal::parse` reads): with that language, the text tests and regular
    // expressions alone are a relaxation the automata decide (`matches regex "x" and
    // f < 5` has no text).
    let decimal = numeric && lits.iter().any(|(b, pos)| *pos && b.kind.is_numeric() && !b.time);
    if decimal {
        let language = Basic {
            kind: Kind::Regex,
            value: r"^-?[0-9]+(\.[0-9]+)?$".to_string(),
            cs: true,
            ..*lits[0].0
        };
        let mut relaxed: Vec<Lit> = lits
            .iter()
            .copied()
            .filter(|(b, _)| !b.kind.is_numeric() && !b.time)
            .collect();
        relaxed.push((&language, true));
        if super::automata::free(&relaxed) == FieldResult::Unsat {
            return FieldResult::Unsat;
        }
    }
    let mut candidates = numeric_candidates(lits);
    if numeric {
        // Numbers around the bounds with the string tests' values appended or
        // prepended (`> 100 and endswith ".25"`: 101.25).
        let around: Vec<String> = candidates.iter().take(40).cloned().collect();
        for (b, pos) in lits {
            if *pos && !b.kind.is_numeric() && b.kind != Kind::Regex {
                for c in &around {
                    let integer = c.split('.').next().unwrap_or(c);
                    candidates.push(format!("{integer}{}", b.value));
                    candidates.push(format!("{}{c}", b.value));
                    // A fraction ending in the value (`> 5 and < 6 and endswith "9"`: 5.9).
                    if b.value.bytes().all(|d| d.is_ascii_digit()) {
                        candidates.push(format!("{integer}.{}", b.value));
                    }
                }
            }
        }
    }
    if let FieldResult::Sat(s) = relaxed {
        candidates.insert(0, s);
    }
    for (b, pos) in lits {
        if *pos && b.kind == Kind::Regex {
            candidates.extend(regex_samples(&b.value));
        }
    }
    match candidates.into_iter().find(|c| satisfies(c, lits)) {
        Some(found) => FieldResult::Sat(found),
        // No readable candidate: the automata decide text tests and regexes exactly.
        None if !lits.iter().any(|(b, _)| b.kind.is_numeric()) => super::automata::free(lits),
        None => numbers_and_texts(lits),
    }
}

/// Number comparisons and text tests on one field, decided exactly. A text that is a
/// number meets the comparisons when its number lies in their interval, and the texts
/// of those numbers are a regular language ([`crate::decimal::bound_regex`]), which the
/// automata intersect with the text tests and regular expressions. A text that is not a
/// number meets only negated comparisons (when every comparison is one, that case is
/// decided the same way, with the number texts excluded). A datetime comparison is not
/// read this way (unknown).
fn numbers_and_texts(lits: &[Lit]) -> FieldResult {
    if lits.iter().any(|(b, _)| b.time) {
        return FieldResult::Unknown;
    }
    const NUMBER: &str = r"^-?[0-9]+(\.[0-9]+)?$";
    let template = lits[0].0;
    let regex = |value: String| Basic {
        kind: Kind::Regex,
        value,
        cs: true,
        ..template.clone()
    };
    // The text tests with `extra` (regexes the text must, or must not, match).
    let solve = |extra: &[(Basic, bool)]| {
        let mut exact: Vec<Lit> = lits.iter().copied().filter(|(b, _)| !b.kind.is_numeric()).collect();
        exact.extend(extra.iter().map(|(b, pos)| (b, *pos)));
        match super::automata::free(&exact) {
            // (Read back on the comparisons themselves, as every witness is.)
            FieldResult::Sat(text) if satisfies(&text, lits) => FieldResult::Sat(text),
            FieldResult::Sat(_) => FieldResult::Unknown,
            other => other,
        }
    };
    let bounds = super::domain::Bounds::of(lits);
    let mut number: Vec<(Basic, bool)> = bounds.regexes().into_iter().map(|r| (regex(r), true)).collect();
    number.push((regex(NUMBER.into()), true));
    let as_number = if bounds.is_empty() {
        FieldResult::Unsat
    } else {
        solve(&number)
    };
    if lits.iter().any(|(b, pos)| b.kind.is_numeric() && *pos) {
        return as_number;
    }
    match (as_number, solve(&[(regex(NUMBER.into()), false)])) {
        (FieldResult::Sat(w), _) | (_, FieldResult::Sat(w)) => FieldResult::Sat(w),
        (FieldResult::Unsat, FieldResult::Unsat) => FieldResult::Unsat,
        _ => FieldResult::Unknown,
    }
}

/// Fewest substring tests (`contains`, `has`, `hasprefix`, `hassuffix`) [`satisfies`]
/// reads in one pass over a text, and the shortest text it does so for.
const MANY_CONTAINS: usize = 32;
const LONG_TEXT: usize = 256;

/// The term boundaries a substring test needs around an occurrence (before, after), or
/// `None` for a test that is not a substring test.
fn substring_test(b: &Basic) -> Option<(bool, bool)> {
    match b.kind {
        _ if b.time => None,
        Kind::Contains => Some((false, false)),
        Kind::Has => Some((true, true)),
        Kind::HasPrefix => Some((true, false)),
        Kind::HasSuffix => Some((false, true)),
        _ => None,
    }
}

fn satisfies(text: &str, lits: &[Lit]) -> bool {
    let plain = |b: &Basic| substring_test(b).is_some();
    // Building the automaton costs about as much as one scan of the text per value, so
    // it only pays on longer texts (a witness that holds all 5,000 values).
    if text.len() < LONG_TEXT || lits.iter().filter(|(b, _)| plain(b)).count() < MANY_CONTAINS {
        return lits.iter().all(|(b, pos)| b.eval(text) == *pos);
    }
    // Many substring tests (a Sigma `contains|all` of 5,000 values, an `and` of 1,600
    // `has` alternatives): which of them occur is found in one pass of an Aho-Corasick
    // automaton per case rule, not one scan of the text per value.
    let bytes = text.as_bytes();
    for cs in [true, false] {
        let group: Vec<&Lit> = lits.iter().filter(|(b, _)| plain(b) && b.cs == cs).collect();
        if group.is_empty() {
            continue;
        }
        let Ok(searcher) = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(!cs)
            .build(group.iter().map(|(b, _)| b.value.as_bytes()))
        else {
            return lits.iter().all(|(b, pos)| b.eval(text) == *pos);
        };
        let mut found = vec![false; group.len()];
        for m in searcher.find_overlapping_iter(text) {
            let i = m.pattern().as_usize();
            let (before, after) = substring_test(group[i].0).expect("a substring test");
            if !found[i] && crate::pred::boundary_ok(bytes, group[i].0.value.as_bytes(), m.start(), before, after) {
                found[i] = true;
            }
        }
        if group.iter().zip(found).any(|((_, pos), occurs)| occurs != *pos) {
            return false;
        }
    }
    lits.iter()
        .filter(|(b, _)| !plain(b))
        .all(|(b, pos)| b.eval(text) == *pos)
}

/// Readable texts worth trying first: the field absent, the constants themselves.
fn quick_candidates(lits: &[Lit]) -> Vec<String> {
    let mut out = vec![String::new()];
    for (b, pos) in lits {
        if *pos && !b.kind.is_numeric() && b.kind != Kind::Regex {
            out.push(b.value.clone());
        }
    }
    out.push("x".into());
    out.push("other".into());
    out
}

// ---------------------------------------------------------------------------------------
// Pieces and their neighbours

/// What lies next to a piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edge {
    Start,
    End,
    /// A filler that is a term character.
    Term,
    /// A filler that is not.
    NonTerm,
}

impl Edge {
    fn is_boundary(self) -> bool {
        self != Edge::Term
    }
}

/// A window: the start of an occurrence of a literal's value inside a piece, and the
/// value in its own case (the window is *exact* when the piece's letters match it).
type Window<'a> = (usize, &'a [u8]);

/// Where `basic`'s value occurs in `folded` as the literal would count it, given what
/// lies on either side of the text.
fn windows<'a>(basic: &'a Basic, folded: &[u8], left: Edge, right: Edge) -> Vec<Window<'a>> {
    let v = basic.value.as_bytes();
    let fv = v.to_ascii_lowercase();
    if v.len() > folded.len() {
        return Vec::new();
    }
    let n = folded.len();
    let starts: Vec<usize> = (0..=n - v.len())
        .filter(|&i| folded[i..i + v.len()] == fv[..])
        .collect();
    let term = |b: u8| crate::pred::is_term_byte(b);
    let left_ok = |i: usize| {
        v.first().is_none_or(|&c| !term(c))
            || if i == 0 {
                left.is_boundary()
            } else {
                !term(folded[i - 1])
            }
    };
    let right_ok = |i: usize| {
        let end = i + v.len();
        v.last().is_none_or(|&c| !term(c))
            || if end == n {
                right.is_boundary()
            } else {
                !term(folded[end])
            }
    };
    let keep = |i: &usize| match basic.kind {
        Kind::Eq => left == Edge::Start && right == Edge::End && v.len() == n,
        Kind::Contains => true,
        Kind::Prefix => left == Edge::Start && *i == 0,
        Kind::Suffix => right == Edge::End && *i + v.len() == n,
        Kind::Has => left_ok(*i) && right_ok(*i),
        Kind::HasPrefix => left_ok(*i),
        Kind::HasSuffix => right_ok(*i),
        Kind::Regex | Kind::Lt | Kind::Le | Kind::Gt | Kind::Ge | Kind::Same => false,
    };
    starts.into_iter().filter(keep).map(|i| (i, v)).collect()
}

/// Case constraints on one piece of text.
struct CaseProblem<'a> {
    folded: Vec<u8>,
    /// Per byte: `Some(true)` upper case, `Some(false)` lower case, `None` free.
    fixed: Vec<Option<bool>>,
    /// Each entry: at least one of these windows must be exact.
    required: Vec<Vec<Window<'a>>>,
    /// None of these windows may be exact.
    forbidden: Vec<Window<'a>>,
}

/// Why a case search gave up.
struct Exhausted;

const CASE_BUDGET: usize = 20_000;

impl CaseProblem<'_> {
    fn solve(mut self) -> Result<Option<Vec<u8>>, Exhausted> {
        let mut budget = CASE_BUDGET;
        let mut assign = std::mem::take(&mut self.fixed);
        if !self.choose_required(0, &mut assign, &mut budget)? {
            return Ok(None);
        }
        Ok(Some(
            self.folded
                .iter()
                .zip(&assign)
                .map(
                    |(&b, case)| {
                        if *case == Some(true) { b.to_ascii_uppercase() } else { b }
                    },
                )
                .collect(),
        ))
    }

    fn choose_required(&self, k: usize, assign: &mut Vec<Option<bool>>, budget: &mut usize) -> Result<bool, Exhausted> {
        let Some(options) = self.required.get(k) else {
            return self.avoid_forbidden(assign, budget);
        };
        for &(start, pattern) in options {
            *budget = budget.checked_sub(1).ok_or(Exhausted)?;
            let saved = assign.clone();
            let fits = pattern.iter().enumerate().all(|(j, &c)| {
                if !c.is_ascii_alphabetic() {
                    return true;
                }
                let want = c.is_ascii_uppercase();
                match assign[start + j] {
                    Some(have) => have == want,
                    None => {
                        assign[start + j] = Some(want);
                        true
                    }
                }
            });
            if fits && self.choose_required(k + 1, assign, budget)? {
                return Ok(true);
            }
            *assign = saved;
        }
        Ok(false)
    }

    /// DPLL over the free letters: every forbidden window needs one letter off its case.
    fn avoid_forbidden(&self, assign: &mut Vec<Option<bool>>, budget: &mut usize) -> Result<bool, Exhausted> {
        *budget = budget.checked_sub(1).ok_or(Exhausted)?;
        let open = self.forbidden.iter().find(|&&(start, pattern)| {
            !pattern.iter().enumerate().any(|(j, &c)| {
                c.is_ascii_alphabetic() && assign[start + j].is_some_and(|up| up != c.is_ascii_uppercase())
            })
        });
        let Some(&(start, pattern)) = open else {
            return Ok(true);
        };
        let free: Vec<(usize, bool)> = pattern
            .iter()
            .enumerate()
            .filter(|(j, c)| c.is_ascii_alphabetic() && assign[start + j].is_none())
            .map(|(j, c)| (start + j, c.is_ascii_uppercase()))
            .collect();
        let mut set = Vec::new();
        let mut result = false;
        for &(pos, up) in &free {
            assign[pos] = Some(!up);
            if self.avoid_forbidden(assign, budget)? {
                result = true;
                break;
            }
            // This letter keeps the window's case in the remaining branches.
            assign[pos] = Some(up);
            set.push(pos);
        }
        if !result {
            for pos in set {
                assign[pos] = None;
            }
        }
        Ok(result)
    }
}

/// With a positive equality the text is that value up to the case of its letters.
fn fixed_text(eq: &Basic, lits: &[Lit]) -> FieldResult {
    if lits.iter().any(|(b, _)| b.kind == Kind::Regex) {
        return fixed_text_with_regex(eq, lits);
    }
    let folded = eq.value.as_bytes().to_ascii_lowercase();
    let mut problem = CaseProblem {
        fixed: vec![None; folded.len()],
        folded,
        required: Vec::new(),
        forbidden: Vec::new(),
    };
    let mut regex = false;
    for &(b, pos) in lits {
        if b.kind == Kind::Regex {
            regex = true;
            continue;
        }
        if b.kind.is_numeric() {
            // Digits have no case: the test's truth is already known.
            if b.eval(&eq.value) != pos {
                return FieldResult::Unsat;
            }
            continue;
        }
        let ws = windows(b, &problem.folded, Edge::Start, Edge::End);
        match (pos, b.cs) {
            (true, _) if ws.is_empty() => return FieldResult::Unsat,
            (true, false) => {}
            (true, true) => problem.required.push(ws),
            (false, false) if !ws.is_empty() => return FieldResult::Unsat,
            (false, false) => {}
            (false, true) => problem.forbidden.extend(ws),
        }
    }
    match problem.solve() {
        Err(Exhausted) => super::automata::fixed_case(&eq.value, lits),
        Ok(None) if regex => FieldResult::Unknown,
        Ok(None) => FieldResult::Unsat,
        Ok(Some(bytes)) => verified(bytes, lits, regex),
    }
}

/// A regex cannot be reasoned about letter by letter, but with a positive equality the
/// candidates are known: the value itself (case-sensitive `==`), or its case variants
/// (`=~`), decided by walking automata over both cases of each letter.
fn fixed_text_with_regex(eq: &Basic, lits: &[Lit]) -> FieldResult {
    if eq.cs || !eq.value.bytes().any(|b| b.is_ascii_alphabetic()) {
        return if satisfies(&eq.value, lits) {
            FieldResult::Sat(eq.value.clone())
        } else {
            FieldResult::Unsat
        };
    }
    super::automata::fixed_case(&eq.value, lits)
}

/// The witness, checked against every literal before it is believed.
fn verified(bytes: Vec<u8>, lits: &[Lit], may_fail: bool) -> FieldResult {
    let Ok(text) = String::from_utf8(bytes) else {
        debug_assert!(false, "case changes keep UTF-8 valid");
        return FieldResult::Unknown;
    };
    if satisfies(&text, lits) {
        return FieldResult::Sat(text);
    }
    debug_assert!(may_fail, "field witness {text:?} fails {lits:?}");
    FieldResult::Unknown
}

/// A piece of the witness with what must lie around it.
struct Piece {
    folded: Vec<u8>,
    fixed: Vec<Option<bool>>,
    lefts: Vec<Edge>,
    rights: Vec<Edge>,
}

/// The chosen text of a piece and its neighbours' classes.
struct Placed {
    text: Vec<u8>,
    left: Edge,
    right: Edge,
}

/// Without a positive equality: build the witness from independent pieces.
fn pieces(lits: &[Lit]) -> FieldResult {
    let values: Vec<&[u8]> = lits.iter().map(|(b, _)| b.value.as_bytes()).collect();
    // A term filler that occurs in no value keeps the argument above exact. When the
    // values use all 36 letters and digits (an encoded command line does), only a
    // witness that needs no term filler is built that way; one that does is tried with
    // two-letter fillers and kept only if it checks out.
    // (The bytes the values hold, lower-cased, gathered once: this runs for every
    // field question of every rule.)
    let mut held = [false; 256];
    for &b in values.iter().flat_map(|v| v.iter()) {
        held[usize::from(b.to_ascii_lowercase())] = true;
    }
    let term_filler = b"xqzjkvwybcdfghmnprstlaeiou0123456789"
        .iter()
        .copied()
        .find(|&f| !held[usize::from(f)]);
    let non_term_filler = [
        ' ', '#', '|', '~', '^', '*', '+', '/', ';', '!', '§', '¤', '¦', '\u{2022}', '\u{25CA}',
    ]
    .into_iter()
    .find(|f| !lits.iter().any(|(b, _)| b.value.contains(*f)))
    .unwrap_or('\u{E000}');
    let negated: Vec<&Basic> = lits.iter().filter(|(_, pos)| !pos).map(|(b, _)| *b).collect();
    let positive = |kind: Kind| {
        lits.iter()
            .filter(move |(b, pos)| *pos && b.kind == kind && !b.value.is_empty())
    };

    let anchored = |kind: Kind| -> Result<Option<Piece>, FieldResult> {
        let group: Vec<&Basic> = positive(kind).map(|(b, _)| *b).collect();
        let Some(longest) = group.iter().max_by_key(|b| b.value.len()) else {
            return Ok(None);
        };
        let folded = longest.value.as_bytes().to_ascii_lowercase();
        let mut fixed = vec![None; folded.len()];
        for b in &group {
            let v = b.value.as_bytes();
            let offset = if kind == Kind::Prefix {
                0
            } else {
                folded.len() - v.len()
            };
            if folded[offset..offset + v.len()] != v.to_ascii_lowercase()[..] {
                return Err(FieldResult::Unsat);
            }
            if b.cs {
                for (j, &c) in v.iter().enumerate().filter(|(_, c)| c.is_ascii_alphabetic()) {
                    let want = Some(c.is_ascii_uppercase());
                    if fixed[offset + j].is_some_and(|have| Some(have) != want) {
                        return Err(FieldResult::Unsat);
                    }
                    fixed[offset + j] = want;
                }
            }
        }
        let (lefts, rights) = if kind == Kind::Prefix {
            (vec![Edge::Start], vec![Edge::NonTerm, Edge::Term])
        } else {
            (vec![Edge::NonTerm, Edge::Term], vec![Edge::End])
        };
        Ok(Some(Piece {
            folded,
            fixed,
            lefts,
            rights,
        }))
    };
    let prefix = match anchored(Kind::Prefix) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let suffix = match anchored(Kind::Suffix) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mut middle = Vec::new();
    for (b, _) in lits.iter().filter(|(b, pos)| {
        *pos && !b.value.is_empty() && matches!(b.kind, Kind::Contains | Kind::Has | Kind::HasPrefix | Kind::HasSuffix)
    }) {
        let v = b.value.as_bytes();
        let edge_term = |c: Option<&u8>| c.is_some_and(|&c| crate::pred::is_term_byte(c));
        let needs_left = matches!(b.kind, Kind::Has | Kind::HasPrefix) && edge_term(v.first());
        let needs_right = matches!(b.kind, Kind::Has | Kind::HasSuffix) && edge_term(v.last());
        let both = vec![Edge::NonTerm, Edge::Term];
        middle.push(Piece {
            folded: v.to_ascii_lowercase(),
            fixed: v
                .iter()
                .map(|c| (b.cs && c.is_ascii_alphabetic()).then(|| c.is_ascii_uppercase()))
                .collect(),
            lefts: if needs_left { vec![Edge::NonTerm] } else { both.clone() },
            rights: if needs_right { vec![Edge::NonTerm] } else { both },
        });
    }

    let mut placed: Vec<Placed> = Vec::new();
    for piece in prefix.iter().chain(&middle).chain(&suffix) {
        match place(piece, &negated) {
            Ok(Some(p)) => placed.push(p),
            Ok(None) => return FieldResult::Unsat,
            Err(Exhausted) => return FieldResult::Unknown,
        }
    }

    let needs_term = |p: &Placed| p.left == Edge::Term || p.right == Edge::Term;
    let witness = |term_filler: &str, may_fail: bool| {
        build(
            &placed,
            prefix.is_some(),
            suffix.is_some(),
            term_filler,
            non_term_filler,
            lits,
            may_fail,
        )
    };
    match term_filler {
        Some(f) => witness(&(f as char).to_string(), false),
        None if !placed.iter().any(needs_term) => witness("", false),
        None => ["qz", "zq", "jx", "xj", "qj"]
            .iter()
            .map(|f| witness(f, true))
            .find(|r| matches!(r, FieldResult::Sat(_)))
            .unwrap_or(FieldResult::Unknown),
    }
}

/// The witness from placed pieces, gaps filled with `term_filler` or `non_term_filler`
/// as each neighbour needs (`may_fail`: the fillers are not proven safe, so a witness
/// that fails a literal is `Unknown`, not a bug).
fn build(
    placed: &[Placed],
    has_prefix: bool,
    has_suffix: bool,
    term_filler: &str,
    non_term_filler: char,
    lits: &[Lit],
    may_fail: bool,
) -> FieldResult {
    let filler = |edge: Edge| -> String {
        if edge == Edge::Term {
            term_filler.to_string()
        } else {
            non_term_filler.to_string()
        }
    };
    let mut text = String::new();
    if !has_prefix {
        text.push_str(&filler(placed.first().map_or(Edge::NonTerm, |p| p.left)));
    }
    for (i, p) in placed.iter().enumerate() {
        if i > 0 {
            let before = placed[i - 1].right;
            text.push_str(&filler(before));
            if before != p.left {
                text.push_str(&filler(p.left));
            }
        }
        text.push_str(std::str::from_utf8(&p.text).expect("case changes keep UTF-8 valid"));
    }
    if !has_suffix {
        text.push_str(&filler(placed.last().map_or(Edge::NonTerm, |p| p.right)));
    }
    verified(text.into_bytes(), lits, may_fail)
}

/// Chooses neighbour classes and letter case for one piece so no negated literal occurs
/// in it. `Ok(None)`: no choice works.
fn place(piece: &Piece, negated: &[&Basic]) -> Result<Option<Placed>, Exhausted> {
    for &left in &piece.lefts {
        for &right in &piece.rights {
            let mut problem = CaseProblem {
                folded: piece.folded.clone(),
                fixed: piece.fixed.clone(),
                required: Vec::new(),
                forbidden: Vec::new(),
            };
            let mut blocked = false;
            for b in negated {
                if b.kind == Kind::Regex || b.kind.is_numeric() {
                    continue;
                }
                let ws = windows(b, &piece.folded, left, right);
                if ws.is_empty() {
                    continue;
                }
                if !b.cs {
                    blocked = true;
                    break;
                }
                problem.forbidden.extend(ws);
            }
            if blocked {
                continue;
            }
            if let Some(text) = problem.solve()? {
                return Ok(Some(Placed { text, left, right }));
            }
        }
    }
    Ok(None)
}

/// Whether a positive string test needs a character no decimal number has.
fn needs_non_decimal(b: &Basic) -> bool {
    let string_test = matches!(
        b.kind,
        Kind::Eq | Kind::Contains | Kind::Prefix | Kind::Suffix | Kind::Has | Kind::HasPrefix | Kind::HasSuffix
    );
    string_test && b.value.chars().any(|c| !(c.is_ascii_digit() || c == '.' || c == '-'))
}

/// Every text a regular expression matches (as a search), when they are few: the
/// pattern is anchored at both ends and its language is a finite set of literals.
fn finite_language(pattern: &str) -> Option<Vec<String>> {
    thread_local! {
        static KNOWN: RefCell<PatternCache<Option<Vec<String>>>> = RefCell::default();
    }
    KNOWN.with(|known| known.borrow_mut().get_or(pattern, finite_language_of).clone())
}

/// What a function of a regex pattern answered, per thread: a rule's regex is solved
/// against each of its exclusions and branches, and parsing it again each time (or
/// drawing its samples) was a few per cent of a corpus's check.
struct PatternCache<T> {
    answers: std::collections::HashMap<String, T>,
}

impl<T> Default for PatternCache<T> {
    fn default() -> Self {
        Self {
            answers: std::collections::HashMap::new(),
        }
    }
}

impl<T> PatternCache<T> {
    /// Patterns remembered at most; past that the cache starts again (a corpus has a
    /// few thousand distinct regexes).
    const CAPACITY: usize = 4_096;

    fn get_or(&mut self, pattern: &str, answer: impl FnOnce(&str) -> T) -> &T {
        if !self.answers.contains_key(pattern) {
            if self.answers.len() >= Self::CAPACITY {
                self.answers.clear();
            }
            self.answers.insert(pattern.to_string(), answer(pattern));
        }
        &self.answers[pattern]
    }
}

fn finite_language_of(pattern: &str) -> Option<Vec<String>> {
    use regex_syntax::hir::literal::Extractor;
    use regex_syntax::hir::{HirKind, Look};
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let HirKind::Concat(items) = hir.kind() else {
        return None;
    };
    let (first, last) = (items.first()?, items.last()?);
    let anchored = |h: &regex_syntax::hir::Hir, look: Look| matches!(h.kind(), HirKind::Look(l) if *l == look);
    if !(anchored(first, Look::Start) && anchored(last, Look::End)) {
        return None;
    }
    let inner = regex_syntax::hir::Hir::concat(items[1..items.len() - 1].to_vec());
    let mut extractor = Extractor::new();
    extractor.limit_total(256);
    let seq = extractor.extract(&inner);
    if !seq.is_exact() {
        return None;
    }
    seq.literals()?
        .iter()
        .map(|l| String::from_utf8(l.as_bytes().to_vec()).ok())
        .collect()
}

/// A few strings that match a regex, generated deterministically (none for patterns
/// the generator does not support, such as anchors or look-around).
fn regex_samples(pattern: &str) -> Vec<String> {
    thread_local! {
        static KNOWN: RefCell<PatternCache<Vec<String>>> = RefCell::default();
    }
    KNOWN.with(|known| known.borrow_mut().get_or(pattern, regex_samples_of).clone())
}

/// [`regex_samples`], drawn: the simplest text of each of 16 draws, and the draw.
fn regex_samples_of(pattern: &str) -> Vec<String> {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;
    let Ok(strategy) = proptest::string::string_regex(pattern) else {
        return Vec::new();
    };
    let mut runner = TestRunner::deterministic();
    let mut out = Vec::new();
    for _ in 0..16 {
        if let Ok(mut tree) = strategy.new_tree(&mut runner) {
            out.push(tree.current());
            // The simplest match first: it reads best as a witness.
            while tree.simplify() {}
            out.insert(0, tree.current());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Numbers

/// Whether the positive numeric tests (with the negated ones, which bind once the text
/// must be a number) leave no number.
fn numeric_interval_empty(lits: &[Lit]) -> bool {
    super::domain::Bounds::of(lits).is_empty()
}

/// Numbers around and between every constant, written as a field would hold them.
fn numeric_candidates(lits: &[Lit]) -> Vec<String> {
    let mut points: Vec<f64> = lits
        .iter()
        .filter_map(|(b, _)| crate::pred::parse_number(&b.value))
        .collect();
    points.extend([0.0, 1.0, -1.0]);
    points.sort_by(f64::total_cmp);
    points.dedup();
    let mut numbers = Vec::new();
    for (i, &p) in points.iter().enumerate() {
        numbers.extend([
            p,
            p - 1.0,
            p + 1.0,
            p - 0.5,
            p + 0.5,
            // Other fractions, for a test that rules out a digit (`!contains "5"`).
            p + 0.1,
            p - 0.1,
            p.floor(),
            p.ceil(),
            p * 10.0,
            p + 1000.0,
        ]);
        if let Some(&next) = points.get(i + 1) {
            numbers.push((p + next) / 2.0);
        }
    }
    let mut out: Vec<String> = numbers
        .into_iter()
        .filter(|x| x.is_finite())
        .map(render_number)
        .collect();
    // Texts built from the digit constants, for tests like `contains "7"` on a number.
    for (b, pos) in lits {
        if *pos && !b.value.is_empty() && b.value.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
            for affix in ["1", "9", "0"] {
                out.push(format!("{affix}{}", b.value));
                out.push(format!("{}{affix}", b.value));
            }
        }
    }
    out
}

fn render_number(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    format!("{x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(kind: Kind, cs: bool, value: &str) -> Basic {
        Basic {
            time: false,
            field: 0,
            kind,
            cs,
            value: value.into(),
            other: None,
        }
    }

    fn check(lits: &[(Basic, bool)]) -> FieldResult {
        let refs: Vec<Lit> = lits.iter().map(|(b, p)| (b, *p)).collect();
        let result = solve(&refs);
        if let FieldResult::Sat(s) = &result {
            assert!(satisfies(s, &refs), "{s:?}");
        }
        result
    }

    /// A regex that only matches texts over [`MAX_REGEX_TEXT`] bytes is left undecided
    /// (checking one witness of `a{40000}` took over a minute); a shorter one is
    /// decided.
    #[test]
    fn a_regex_needing_a_huge_text_is_unknown_not_slow() {
        let huge = format!("a{{{}}}", MAX_REGEX_TEXT + 1);
        assert_eq!(check(&[(basic(Kind::Regex, true, &huge), true)]), FieldResult::Unknown);
        assert_eq!(check(&[(basic(Kind::Regex, true, &huge), false)]), FieldResult::Unknown);
        let fine = format!("^a{{{MAX_REGEX_TEXT}}}$");
        assert!(
            matches!(check(&[(basic(Kind::Regex, true, &fine), true)]), FieldResult::Sat(t) if t.len() == MAX_REGEX_TEXT)
        );
    }

    /// With many `contains` tests and a long text, one Aho-Corasick pass answers as
    /// one test at a time does, in both cases and both polarities.
    #[test]
    fn many_contains_on_a_long_text_agree_with_one_at_a_time() {
        let text: String = (0..1_000).map(|i| format!("Val{i} ")).collect();
        assert!(text.len() >= LONG_TEXT);
        for (values, expected) in [
            ((0..100).map(|i| format!("val{i} ")).collect::<Vec<_>>(), true),
            (
                (0..100)
                    .map(|i| format!("val{} ", i * 37))
                    .chain(["missing".into()])
                    .collect(),
                false,
            ),
        ] {
            for cs in [false, true] {
                let lits: Vec<(Basic, bool)> = values
                    .iter()
                    .map(|v| (basic(Kind::Contains, cs, v), !v.starts_with("missing")))
                    .collect();
                let refs: Vec<Lit> = lits.iter().map(|(b, p)| (b, *p)).collect();
                let one_at_a_time = refs.iter().all(|(b, pos)| b.eval(&text) == *pos);
                assert_eq!(satisfies(&text, &refs), one_at_a_time, "cs {cs}");
                assert_eq!(one_at_a_time, expected && !cs, "cs {cs}");
            }
        }
    }

    #[test]
    fn case_insensitive_equality_meets_case_sensitive_tests() {
        let r = check(&[
            (basic(Kind::Eq, false, "abc"), true),
            (basic(Kind::Eq, true, "abc"), false),
            (basic(Kind::Eq, true, "ABC"), false),
            (basic(Kind::Contains, true, "B"), true),
        ]);
        assert!(matches!(r, FieldResult::Sat(_)), "{r:?}");
        let r = check(&[
            (basic(Kind::Eq, false, "a"), true),
            (basic(Kind::Eq, true, "a"), false),
            (basic(Kind::Eq, true, "A"), false),
        ]);
        assert_eq!(r, FieldResult::Unsat);
    }

    #[test]
    fn contains_without_term() {
        let r = check(&[
            (basic(Kind::Contains, false, "exe"), true),
            (basic(Kind::Has, false, "exe"), false),
        ]);
        assert!(matches!(r, FieldResult::Sat(_)), "{r:?}");
        let r = check(&[
            (basic(Kind::Has, true, "Exe"), true),
            (basic(Kind::Has, false, "exe"), false),
        ]);
        assert_eq!(r, FieldResult::Unsat);
    }

    #[test]
    fn prefixes_must_agree() {
        let r = check(&[
            (basic(Kind::Prefix, false, "ab"), true),
            (basic(Kind::Prefix, false, "ac"), true),
        ]);
        assert_eq!(r, FieldResult::Unsat);
        let r = check(&[
            (basic(Kind::Prefix, true, "AB"), true),
            (basic(Kind::Prefix, false, "abc"), true),
            (basic(Kind::Prefix, true, "ABC"), false),
        ]);
        assert!(matches!(r, FieldResult::Sat(ref s) if s.starts_with("ABc")), "{r:?}");
    }

    #[test]
    fn numbers() {
        let r = check(&[(basic(Kind::Gt, true, "5"), true), (basic(Kind::Lt, true, "5"), true)]);
        assert_eq!(r, FieldResult::Unsat);
        let r = check(&[
            (basic(Kind::Gt, true, "5"), true),
            (basic(Kind::Le, true, "6"), true),
            (basic(Kind::Eq, true, "6"), false),
        ]);
        assert!(matches!(r, FieldResult::Sat(_)), "{r:?}");
        let r = check(&[(basic(Kind::Lt, true, "5"), false), (basic(Kind::Ge, true, "5"), false)]);
        assert!(matches!(r, FieldResult::Sat(_)), "non-numbers fail both: {r:?}");
    }
}
