//! The engine against brute force: random predicates over few fields and small
//! constant pools, evaluated on every combination of candidate texts.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;
use crate::expr::{ParseOutcome, parse_exclusion};
use crate::pred::strategy;
use crate::pred::{Atom, Op, Value};

const POOL: [&str; 10] = ["a", "A", "ab", "aB", "b", "a.b", "a b", "1", "12", ""];

/// Texts tried per field: short strings over an alphabet that covers the pool's
/// characters in both cases, plus pool constants joined by separators.
fn candidates() -> Vec<String> {
    let alphabet = ['a', 'A', 'b', 'B', 'c', 'C', '.', ' ', '-', '1', '5', 'x'];
    let mut out = vec![String::new()];
    let mut frontier = vec![String::new()];
    for _ in 0..3 {
        let mut next = Vec::new();
        for s in &frontier {
            for c in alphabet {
                next.push(format!("{s}{c}"));
            }
        }
        out.extend(next.iter().cloned());
        frontier = next;
    }
    let pool: Vec<&str> = POOL.iter().chain(RICH_POOL.iter()).copied().collect();
    for &a in &pool {
        for &b in &pool {
            for sep in ["", " ", "x", "."] {
                out.push(format!("{a}{sep}{b}"));
                out.push(format!("x{a}{sep}{b}x"));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Brute force: per field, one representative text per distinct vector of atom truths;
/// then every combination across fields. Returns an event making `pred` true, if any.
pub(crate) fn brute_force(pred: &Pred) -> Option<Event> {
    let universes = pred.fields().iter().map(|f| representatives(pred, f)).collect();
    first_event(pred, universes)
}

/// One text of [`candidates`] per distinct vector of truths of `pred`'s atoms on `field`.
fn representatives(pred: &Pred, field: &str) -> Vec<String> {
    representatives_of(pred, field, candidates())
}

/// One text of `texts` per distinct vector of truths of `pred`'s atoms on `field`.
fn representatives_of(pred: &Pred, field: &str, texts: Vec<String>) -> Vec<String> {
    let atoms = pred.atoms();
    let mine: Vec<&&Atom> = atoms.iter().filter(|a| a.field == field).collect();
    let mut seen: BTreeMap<Vec<bool>, String> = BTreeMap::new();
    for t in texts {
        seen.entry(mine.iter().map(|a| a.eval_text(&t)).collect()).or_insert(t);
    }
    seen.into_values().collect()
}

/// The first event, over every combination of each field's values (`universes`, in the
/// order of `pred.fields()`), that makes `pred` true.
fn first_event(pred: &Pred, universes: Vec<Vec<String>>) -> Option<Event> {
    let fields = pred.fields();
    let mut index = vec![0usize; fields.len()];
    loop {
        let event: Event = fields
            .iter()
            .cloned()
            .zip(index.iter().enumerate().map(|(f, &i)| universes[f][i].clone()))
            .collect();
        if pred.eval(&event) {
            return Some(event);
        }
        // Odometer over the per-field values.
        let mut k = 0;
        loop {
            if k == fields.len() {
                return None;
            }
            index[k] += 1;
            if index[k] < universes[k].len() {
                break;
            }
            index[k] = 0;
            k += 1;
        }
    }
}

/// The case count: `default`, or `PROPTEST_CASES` for a longer run.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Constants with spaces, punctuation, digits and mixed case: terms, phrases, prefixes.
const RICH_POOL: [&str; 12] = [
    "a b", "A-b", "b.c", "ab", "Bc", "1.5", "c", " ", "-", "x1", "a b.c", "B",
];

fn rich_value() -> BoxedStrategy<Value> {
    proptest::sample::select(RICH_POOL.to_vec())
        .prop_map(|s| Value::Str(s.to_string()))
        .boxed()
}

pub(crate) fn pool_value() -> BoxedStrategy<Value> {
    proptest::sample::select(POOL.to_vec())
        .prop_map(|s| Value::Str(s.to_string()))
        .boxed()
}

fn check_against_brute_force(pred: &Pred) -> Result<(), TestCaseError> {
    let engine = sat(pred);
    let brute = brute_force(pred);
    match (&engine, &brute) {
        (SatResult::Sat(w), _) => prop_assert!(pred.eval(w), "witness {w:?} fails {pred}"),
        (SatResult::Unsat, Some(e)) => {
            prop_assert!(false, "engine says never, but {e:?} satisfies {pred}")
        }
        (SatResult::Unsat, None) => {}
        (SatResult::Unknown, _) => prop_assert!(false, "unknown: {pred}"),
    }
    if let SatResult::Sat(w) = &engine {
        let fields: BTreeSet<String> = pred.fields().into_iter().collect();
        let keys: BTreeSet<String> = w.keys().cloned().collect();
        prop_assert_eq!(keys, fields, "the witness lists every field");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(400), ..ProptestConfig::default() })]

    #[test]
    fn one_field_agrees_with_brute_force(p in strategy::pred(strategy::atom(vec!["f"], pool_value(), false), 3)) {
        check_against_brute_force(&p)?;
        check_against_brute_force(&Pred::Not(Box::new(p)))?;
    }

    #[test]
    fn three_fields_agree_with_brute_force(p in strategy::pred(strategy::atom(vec!["f", "g", "h"], pool_value(), false), 3)) {
        check_against_brute_force(&p)?;
        check_against_brute_force(&Pred::Not(Box::new(p)))?;
    }

    #[test]
    fn rich_constants_agree_with_brute_force(p in strategy::pred(strategy::atom(vec!["f", "g"], rich_value(), false), 3)) {
        check_against_brute_force(&p)?;
        check_against_brute_force(&Pred::Not(Box::new(p)))?;
    }

    #[test]
    fn numbers_agree_with_brute_force(p in strategy::pred(strategy::atom(vec!["f", "g"], pool_value(), true), 2)) {
        check_against_brute_force(&p)?;
    }

    #[test]
    fn classification_is_consistent(p in strategy::pred(strategy::atom(vec!["f", "g"], pool_value(), false), 3)) {
        let c = classify(&p);
        match c.verdict {
            Verdict::AlwaysTrue => prop_assert!(c.when_false.is_none() && c.when_true.is_some()),
            Verdict::NeverTrue => prop_assert!(c.when_true.is_none() && c.when_false.is_some()),
            Verdict::Contingent => {
                prop_assert!(p.eval(c.when_true.as_ref().unwrap()));
                prop_assert!(!p.eval(c.when_false.as_ref().unwrap()));
            }
            Verdict::Unknown => prop_assert!(false, "unknown on {}", p),
        }
    }

    #[test]
    fn simplify_keeps_meaning(p in strategy::pred(strategy::atom(vec!["f", "g"], pool_value(), false), 2)) {
        let s = simplify(&p);
        prop_assert_eq!(equivalent(&p, &s), Validity::Valid, "{} vs {}", p, s);
        prop_assert!(s.atom_count() <= p.atom_count());
        let n = inverted_fix(&p);
        prop_assert_eq!(equivalent(&Pred::Not(Box::new(p.clone())), &n), Validity::Valid);
    }
}

/// An atom over `f`, `g`, `h`: a test of one field, one field compared with another
/// (`==`, `!=`), or a field contained in a constant (`"a b.c" contains f`).
fn related_atom() -> BoxedStrategy<Atom> {
    let fields = vec!["f", "g", "h"];
    let same = (
        proptest::sample::select(fields.clone()),
        proptest::sample::select(fields.clone()),
        any::<bool>(),
    )
        .prop_map(|(a, b, negated)| Atom::new(a, Op::SameAs, negated, true, vec![Value::Str(b.to_string())]));
    let within = (
        proptest::sample::select(fields.clone()),
        prop_oneof![pool_value(), rich_value()],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(f, v, negated, cs)| Atom::new(f, Op::ContainedIn, negated, cs, vec![v]));
    prop_oneof![3 => strategy::atom(fields, pool_value(), false), 2 => same, 1 => within].boxed()
}

/// Brute force for predicates that compare fields with each other: one universe for
/// every field, with as many texts per vector of one-field atom truths as there are
/// fields, so that any event over [`candidates`] maps onto it keeping every atom's
/// truth and which fields are equal (the search is complete relative to them).
fn related_brute_force(pred: &Pred) -> Option<Event> {
    let fields = pred.fields();
    let atoms = pred.atoms();
    let own: Vec<&&Atom> = atoms.iter().filter(|a| a.op != Op::SameAs).collect();
    let mut seen: BTreeMap<Vec<bool>, Vec<String>> = BTreeMap::new();
    for t in candidates() {
        let texts = seen.entry(own.iter().map(|a| a.eval_text(&t)).collect()).or_default();
        if texts.len() < fields.len() {
            texts.push(t);
        }
    }
    let universe: Vec<String> = seen.into_values().flatten().collect();
    first_event(pred, vec![universe; fields.len()])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(300), ..ProptestConfig::default() })]

    /// Fields compared with each other (`A == B`, `A != B`) with one-field tests.
    #[test]
    fn related_fields_agree_with_brute_force(p in strategy::pred(related_atom(), 3)) {
        for p in [p.clone(), Pred::Not(Box::new(p))] {
            let engine = sat(&p);
            let brute = related_brute_force(&p);
            match (&engine, &brute) {
                (SatResult::Sat(w), _) => prop_assert!(p.eval(w), "witness {w:?} fails {p}"),
                (SatResult::Unsat, Some(e)) => prop_assert!(false, "engine says never, but {e:?} satisfies {p}"),
                (SatResult::Unsat, None) => {}
                (SatResult::Unknown, _) => prop_assert!(false, "unknown: {p}"),
            }
        }
    }
}

#[rstest::rstest]
#[case(r#"f == "a" and g == "a""#, &[("f", "g", false)], Verdict::Contingent)]
// Equal fields meet both fields' tests.
#[case(r#"f == "a" and g == "b""#, &[("f", "g", false)], Verdict::NeverTrue)]
#[case(r#"f in ("a", "b") and g in ("b", "c")"#, &[("f", "g", false)], Verdict::Contingent)]
// Three fields that must differ pairwise, with two values between them.
#[case(r#"f in ("a", "b") and g in ("a", "b") and h in ("a", "b")"#, &[("f", "g", true), ("g", "h", true), ("f", "h", true)], Verdict::NeverTrue)]
#[case(r#"f in ("a", "b") and g in ("a", "b") and h in ("a", "b", "c")"#, &[("f", "g", true), ("g", "h", true), ("f", "h", true)], Verdict::Contingent)]
// Equality is transitive: f == g, g == h, f != h never holds.
#[case(r#"f != "x""#, &[("f", "g", false), ("g", "h", false), ("f", "h", true)], Verdict::NeverTrue)]
fn related_fields(#[case] text: &str, #[case] same: &[(&str, &str, bool)], #[case] expected: Verdict) {
    let mut parts = vec![parse(text)];
    for (a, b, negated) in same {
        parts.push(Pred::Atom(Atom::new(
            a,
            Op::SameAs,
            *negated,
            true,
            vec![Value::Str(b.to_string())],
        )));
    }
    let p = Pred::And(parts);
    let c = classify(&p);
    assert_eq!(c.verdict, expected, "{p}");
    if let Some(w) = &c.when_true {
        assert!(p.eval(w), "{w:?}");
    }
}

/// `"S" contains f`: f is one of S's substrings (the empty one too), in S's case or any.
#[test]
fn a_field_contained_in_a_constant() {
    let within = |cs| {
        Pred::Atom(Atom::new(
            "f",
            Op::ContainedIn,
            false,
            cs,
            vec![Value::Str("abC".into())],
        ))
    };
    let all = r#"f !in ("", "a", "b", "C", "ab", "bC", "abC")"#;
    let p = Pred::And(vec![within(true), parse(all)]);
    assert_eq!(classify(&p).verdict, Verdict::NeverTrue);
    let p = Pred::And(vec![within(false), parse(all)]);
    let c = classify(&p);
    assert_eq!(c.verdict, Verdict::Contingent);
    assert!(p.eval(c.when_true.as_ref().unwrap()));
    let p = Pred::And(vec![within(false), parse(&all.replace("!in", "!in~"))]);
    assert_eq!(classify(&p).verdict, Verdict::NeverTrue);
}

fn parse(text: &str) -> Pred {
    match parse_exclusion(text) {
        ParseOutcome::Parsed(p) => p.pred,
        other => panic!("{text}: {other:?}"),
    }
}

fn verdict(text: &str) -> Verdict {
    classify(&parse(text)).verdict
}

#[rstest::rstest]
// == against contains, startswith, has: case and term rules.
#[case(r#"f == "abc" and f !contains "b""#, Verdict::NeverTrue)]
#[case(r#"f == "abc" and f !contains_cs "B""#, Verdict::Contingent)]
#[case(r#"f =~ "abc" and f !contains_cs "b" and f !contains_cs "B""#, Verdict::NeverTrue)]
#[case(r#"f == "cmd.exe" and f !has "exe""#, Verdict::NeverTrue)]
#[case(r#"f == "cmdexe" and f has "exe""#, Verdict::NeverTrue)]
#[case(r#"f contains "exe" and f !has "exe""#, Verdict::Contingent)]
#[case(r#"f has "exe" and f !contains "exe""#, Verdict::NeverTrue)]
#[case(r#"f has_cs "Exe" and f !has "exe""#, Verdict::NeverTrue)]
#[case(r#"f has "GoTo, Inc" and f !has "goto""#, Verdict::NeverTrue)]
#[case(r#"f hasprefix "ab" and f !contains "ab""#, Verdict::NeverTrue)]
#[case(r#"f startswith "ab" and f startswith "ac""#, Verdict::NeverTrue)]
#[case(
    r#"f startswith "ab" and f endswith "ba" and f !contains "aba""#,
    Verdict::Contingent
)]
#[case(r#"f startswith "ab" or f !startswith "ab""#, Verdict::AlwaysTrue)]
// in against !=, case-insensitive lists.
#[case(r#"f in ("a", "b") and f != "a" and f != "b""#, Verdict::NeverTrue)]
#[case(r#"f in~ ("a") and f != "a" and f != "A""#, Verdict::NeverTrue)]
#[case(r#"f in~ ("a") and f != "a""#, Verdict::Contingent)]
#[case(r#"f !in ("a", "b") or f == "a" or f == "b""#, Verdict::AlwaysTrue)]
#[case(r#"f has_all ("a", "b") and not (f has_any ("b"))"#, Verdict::NeverTrue)]
// Numbers with text tests (issue 28): a fraction that ends in the value, one without a
// digit, and a regular expression no decimal text matches.
#[case(r#"f > 5 and f < 6 and f endswith "9""#, Verdict::Contingent)]
#[case(r#"f > 1 and f < 2 and f !contains "5""#, Verdict::Contingent)]
#[case(r#"f matches regex "x" and f < 5"#, Verdict::NeverTrue)]
#[case(r#"f > 5 and f < 6 and f contains "a""#, Verdict::NeverTrue)]
#[case(r#"not (f > 5) and f matches regex "x""#, Verdict::Contingent)]
// Decided exactly: the texts of an interval's numbers (a regular language) against the
// text tests. Every number in (5, 6) is written with a leading 5 or 0; one in (1, 2)
// ending in 0 is written with a trailing zero; `1.999` is the regex's only number there.
#[case(r#"f > 5 and f < 6 and f !startswith "5" and f !startswith "0""#, Verdict::NeverTrue)]
#[case(r#"f > 1 and f < 2 and f endswith "0""#, Verdict::Contingent)]
#[case(r#"f > 1 and f < 2 and f matches regex @"^1\.9{3}$""#, Verdict::Contingent)]
#[case(
    r#"f > 1 and f < 2 and f matches regex @"^1\.[0-4]*$" and f contains "5""#,
    Verdict::NeverTrue
)]
#[case(r#"f >= -3 and f <= -2 and f !contains "-""#, Verdict::NeverTrue)]
#[case(r#"f >= -3 and f <= -2 and f contains "2.""#, Verdict::Contingent)]
// Seeds: an or of two different != on one field holds everywhere.
#[case(
    r#"process.name != "LogMeIn.exe" OR process.parent.name != "splunkd.exe" OR process.parent.name != "logstash""#,
    Verdict::AlwaysTrue
)]
#[case(
    r#"process.name != "LogMeIn.exe" OR process.parent.name != "LogMeIn.exe" OR user.account != "IT_Admin_Account""#,
    Verdict::Contingent
)]
// Numbers.
#[case("n > 5 and n < 6", Verdict::Contingent)]
#[case("n > 5 and n <= 5", Verdict::NeverTrue)]
#[case("n >= 5 or n < 5", Verdict::Contingent)]
#[case(r#"n == 5 and n > 4"#, Verdict::Contingent)]
#[case(r#"n == "abc" and n > 4"#, Verdict::NeverTrue)]
// Regexes: decided where a generated match or the string tests settle it.
#[case(r#"f matches regex "a+b""#, Verdict::Contingent)]
#[case(r#"f matches regex "[0-9]{3}" and f startswith "12""#, Verdict::Contingent)]
#[case(r#"f matches regex "a" and f == "b""#, Verdict::NeverTrue)]
// Numbers have no letters; bounds combine with the string tests' values.
#[case(r#"f > 5 and f has "a""#, Verdict::NeverTrue)]
#[case(r#"f > 5 and f contains "-x""#, Verdict::NeverTrue)]
#[case(r#"f > 100 and f endswith ".25""#, Verdict::Contingent)]
#[case(r#"f > 5 and f contains "7""#, Verdict::Contingent)]
// Regexes whose language is a few words are decided by trying every word.
#[case(r#"f matches regex "^$" and f != """#, Verdict::NeverTrue)]
#[case(
    r#"f matches regex "^(ab|cd)$" and f != "ab" and f !contains "c""#,
    Verdict::NeverTrue
)]
#[case(r#"f matches regex "^(ab|cd)$" and f != "ab""#, Verdict::Contingent)]
// Values that use all 36 letters and digits leave no one-character term filler.
#[case(
    r#"f contains "abcdefghijklmnopqrstuvwxyz0123456789" and f != "abcdefghijklmnopqrstuvwxyz0123456789""#,
    Verdict::Contingent
)]
#[case(
    r#"f has "abcdefghijklmnopqrstuvwxyz0123456789" and f !contains " ""#,
    Verdict::Contingent
)]
// Letter case of many letters under a regex: automata walk both cases at once.
#[case(r#"f =~ "abcdefghijkl" and f matches regex "^[A-Z]""#, Verdict::Contingent)]
#[case(
    r#"f =~ "abcdefghijklmnopqrstuvwxyz" and f matches regex "^[A-Z]+$" and f != "ABCDEFGHIJKLMNOPQRSTUVWXYZ""#,
    Verdict::NeverTrue
)]
// Regexes against regexes and text tests: a search over the automata decides them.
#[case(r#"f matches regex "^a" and not(f matches regex "^[a-c]")"#, Verdict::NeverTrue)]
#[case(r#"f matches regex "^[0-9]+$" and f matches regex "[a-z]""#, Verdict::NeverTrue)]
#[case(r#"f matches regex "^a" and f !startswith "a""#, Verdict::NeverTrue)]
#[case(
    r#"f matches regex "^\\w+$" and f matches regex "[^a-zA-Z0-9_]""#,
    Verdict::Contingent
)]
#[case(
    r#"f matches regex "^[a-z]{3}$" and f !has "abc" and f matches regex "c$""#,
    Verdict::Contingent
)]
#[case(r#"f matches regex "(?i)^k$" and f != "k" and f !~ "k""#, Verdict::Contingent)]
fn interacting_operators(#[case] text: &str, #[case] expected: Verdict) {
    let c = classify(&parse(text));
    assert_eq!(c.verdict, expected, "{text}: {c:?}");
}

#[test]
fn always_true_seed_has_a_witness_that_is_suppressed() {
    let p = parse(
        r#"process.name != "LogMeIn.exe" OR process.parent.name != "splunkd.exe" OR process.parent.name != "logstash""#,
    );
    let c = classify(&p);
    assert_eq!(c.verdict, Verdict::AlwaysTrue);
    assert!(p.eval(c.when_true.as_ref().unwrap()));
}

#[test]
fn budget_is_respected_on_large_input() {
    let text = (0..400)
        .map(|i| format!("f{} == \"v{i}\"", i % 7))
        .collect::<Vec<_>>()
        .join(" or ");
    assert_ne!(verdict(&text), Verdict::NeverTrue);
}

/// A contradiction after many satisfiable `or`-pairs is found by unit propagation, in
/// any order of the terms (enumerating the pairs first would take 2^20 steps).
#[test]
fn contradiction_after_many_or_pairs_is_found_in_any_order() {
    let pairs: Vec<String> = (0..20).map(|i| format!(r#"(a{i} == "x" or b{i} == "y")"#)).collect();
    let pairs = pairs.join(" and ");
    for text in [
        format!(r#"{pairs} and g == "a" and g == "b""#),
        format!(r#"g == "a" and {pairs} and g == "b""#),
        format!(r#"(g == "a" or h == "c") and {pairs} and g == "b" and not(h == "c")"#),
    ] {
        assert_eq!(verdict(&text), Verdict::NeverTrue, "{text}");
    }
}

// ---------------------------------------------------------------------------------------
// Typed fields against brute force: `i` an int, `l` a long, `r` a real, `b` a bool, `t` a
// datetime, `s` text; nulls
// as KQL applies a `where` (see `schema::typed`) on the same random predicates.

/// The operators every typed column takes.
fn typed_op() -> impl Strategy<Value = Op> {
    proptest::sample::select(vec![Op::Equals, Op::In, Op::Lt, Op::Le, Op::Gt, Op::Ge])
}

/// Atoms a typed column takes: equalities, lists and comparisons with numbers (and
/// `true`/`false`, `""` for `isnull`), negated or not.
fn typed_atom() -> BoxedStrategy<Atom> {
    let number = proptest::sample::select(vec!["-1", "0", "1", "2", "2.5", "3", "10", "0443", "1.50"]);
    let numbers = (
        proptest::sample::select(vec!["i", "l", "r"]),
        typed_op(),
        any::<bool>(),
        proptest::collection::vec(number, 1..3),
    )
        .prop_map(|(field, op, negated, values)| {
            let take = if op.takes_list() { values.len() } else { 1 };
            let negated = negated && op.has_negated_form();
            let values = values[..take].iter().map(|v| Value::Num(v.to_string())).collect();
            Atom::new(field, op, negated, true, values)
        });
    let bools = (
        any::<bool>(),
        proptest::sample::select(vec![Value::Bool(true), Value::Bool(false), Value::Num("1".into())]),
    )
        .prop_map(|(negated, v)| Atom::new("b", Op::Equals, negated, true, vec![v]));
    let times = (
        typed_op(),
        any::<bool>(),
        proptest::collection::vec(proptest::sample::select(TIMES.to_vec()), 1..3),
    )
        .prop_map(|(op, negated, values)| {
            let take = if op.takes_list() { values.len() } else { 1 };
            let negated = negated && op.has_negated_form();
            let values = values[..take]
                .iter()
                .map(|v| Value::DateTime {
                    written: format!("datetime({v})"),
                    text: crate::time::format_datetime(crate::time::parse_datetime(v).unwrap()),
                })
                .collect();
            Atom::new("t", op, negated, true, values)
        });
    let nulls = (proptest::sample::select(vec!["i", "l", "r", "b", "t"]), any::<bool>())
        .prop_map(|(f, negated)| Atom::new(f, Op::Equals, negated, true, vec![Value::Str(String::new())]));
    let strings = strategy::atom(vec!["s"], pool_value(), false);
    prop_oneof![6 => numbers, 2 => bools, 3 => times, 1 => nulls, 2 => strings].boxed()
}

/// Datetimes the typed tests compare with: a tick, a second and a day apart.
const TIMES: [&str; 4] = [
    "2024-01-01",
    "2024-01-01T00:00:00.0000001Z",
    "2024-01-01 00:00:01",
    "2024-01-02",
];

fn typed_domains() -> Domains {
    let mut d = Domains::text();
    d.insert("i", Domain::INT);
    d.insert("l", Domain::LONG);
    d.insert("r", Domain::Decimal);
    d.insert("b", Domain::Bool);
    d.insert("t", Domain::Time);
    d
}

/// Every value the typed fields can usefully take next to the pool's constants (whole
/// numbers around them, reals in quarter steps), and null.
fn typed_universe(field: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    match field {
        "i" | "l" => out.extend((-3..=12).map(|n| n.to_string())),
        "r" => out.extend((-12..=48).map(|q| crate::decimal::Decimal::from_scaled(q * 25, 2).to_string())),
        "t" => {
            // Each constant and the ticks next to it: a value of every region between them.
            for t in TIMES {
                let ticks = crate::time::parse_datetime(t).unwrap();
                out.extend([ticks - 1, ticks, ticks + 1].map(crate::time::format_datetime));
            }
        }
        _ => out.extend(["true", "false"].map(String::from)),
    }
    out
}

/// The typed predicate as `where` applies it, the way `schema::typed` does for a table
/// with these column types.
fn as_where(pred: &Pred) -> Pred {
    use crate::schema::{Applied, Column, ColumnType};
    let columns = [
        ("i", ColumnType::Int),
        ("l", ColumnType::Long),
        ("r", ColumnType::Real),
        ("b", ColumnType::Bool),
        ("s", ColumnType::String),
        ("t", ColumnType::Datetime),
    ]
    .map(|(name, ty)| Column {
        name: name.into(),
        ty,
        attacker: false,
    });
    crate::schema::typed_on(pred, &columns, Applied::Where)
}

fn brute_force_typed(pred: &Pred) -> Option<Event> {
    let universes = pred
        .fields()
        .iter()
        .map(|f| {
            if f == "s" {
                representatives(pred, f)
            } else {
                representatives_of(pred, f, typed_universe(f))
            }
        })
        .collect();
    first_event(pred, universes)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(300), ..ProptestConfig::default() })]

    #[test]
    fn typed_fields_agree_with_brute_force(p in strategy::pred(typed_atom(), 3)) {
        let domains = typed_domains();
        for pred in [as_where(&p), as_where(&Pred::Not(Box::new(p.clone())))] {
            let engine = sat_in(&pred, &domains);
            let brute = brute_force_typed(&pred);
            match (&engine, &brute) {
                (SatResult::Sat(w), _) => {
                    prop_assert!(pred.eval(w), "witness {w:?} fails {pred}");
                    prop_assert!(domains.hold(w), "witness {w:?} is not typed");
                }
                (SatResult::Unsat, Some(e)) => prop_assert!(false, "engine says never, but {e:?} satisfies {pred}"),
                (SatResult::Unsat, None) => {}
                (SatResult::Unknown, _) => prop_assert!(false, "unknown on {pred}"),
            }
        }
    }
}

/// Issue 22: a disjunction of thousands of equalities on one field, each refused by
/// another condition on it, once recursed once per equality (a stack overflow at
/// 12,000) and cached every growing set of them (3 GB). Decided now, on a stack of
/// 512 KiB (a recursion per equality overflows it).
#[test]
fn a_long_disjunction_each_refused_in_turn_is_decided() {
    std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(long_disjunctions)
        .expect("a thread")
        .join()
        .expect("decided");
}

fn long_disjunctions() {
    let values: Vec<String> = (0..2_000).map(|i| format!("\"f{i}\"")).collect();
    let text = format!("FileName in~ ({}) and FileName endswith \".jnlp\"", values.join(", "));
    let ParseOutcome::Parsed(e) = parse_exclusion(&text) else {
        panic!("parses")
    };
    assert_eq!(classify(&e.pred).verdict, Verdict::NeverTrue);
    let text = format!(
        "FileName in~ ({}, \"a.jnlp\") and FileName endswith \".jnlp\"",
        values.join(", ")
    );
    let ParseOutcome::Parsed(e) = parse_exclusion(&text) else {
        panic!("parses")
    };
    assert_eq!(classify(&e.pred).verdict, Verdict::Contingent);
}

/// The search steps a satisfiable formula takes (each step reads the whole formula).
fn steps(pred: &Pred) -> usize {
    let mut lowered = Lowered::default();
    let formula = lowered.lower(pred, true);
    let mut search = Search::new(&lowered, formula.size(), &Domains::text());
    let found = search.run(&formula).expect("satisfiable");
    let event: Event = found.into_iter().map(|(f, t)| (lowered.fields[f].clone(), t)).collect();
    assert!(pred.eval(&event), "{event:?}");
    search.nodes
}

/// A long conjunction the search would branch on literal by literal (a negated
/// allow-list in an `or` branch; `and` of `(a or b)` pairs) is taken in one step when
/// the fields accept it: one by one, each step reading the whole formula, was
/// quadratic (20,000 names: 5 s).
#[test]
fn a_long_run_of_branches_is_taken_in_one_step() {
    let names: Vec<String> = (0..5_000).map(|i| format!("\"h{i}\"")).collect();
    let negated_list = parse(&format!(
        "not (DeviceName in ({})) or FileName == \"x\"",
        names.join(", ")
    ));
    assert!(steps(&negated_list) < 10, "{}", steps(&negated_list));
    let pairs: Vec<String> = (0..5_000)
        .map(|i| format!("(F{i} == \"x\" or G{i} == \"y\")"))
        .collect();
    let pairs = parse(&pairs.join(" and "));
    assert!(steps(&pairs) < 10, "{}", steps(&pairs));
    // A run one of whose literals its field refuses is branched on one by one, and
    // still decided right.
    let refused = parse(&format!(
        "(not (F in ({})) and F == \"h7\") or G == \"y\"",
        names.join(", ")
    ));
    assert!(matches!(sat(&refused), SatResult::Sat(e) if e["G"] == "y"));
}

/// An `in~` list beside a case-insensitive test on the same field that none of its
/// values passes: the values are refused in one sweep, not one search step each
/// (12,000 values: 6 s, each step reading the whole formula).
#[test]
fn values_a_field_refuses_are_swept_in_one_step() {
    let names: Vec<String> = (0..5_000).map(|i| format!("\"f{i}\"")).collect();
    let list = format!("FileName in~ ({})", names.join(", "));
    let refused = parse(&format!("FileName endswith \".jnlp\" and ({list} or G == \"y\")"));
    assert!(steps(&refused) < 10, "{}", steps(&refused));
    assert_eq!(
        sat(&parse(&format!("{list} and FileName endswith \".jnlp\""))),
        SatResult::Unsat
    );
    // The last value passes: it is found, after the others are swept.
    let last = parse(&format!(
        "{}, \"f.JNLP\") and FileName endswith \".jnlp\"",
        &list[..list.len() - 1]
    ));
    assert!(matches!(sat(&last), SatResult::Sat(e) if e["FileName"].eq_ignore_ascii_case("f.jnlp")));
}

/// An `and` of `(F == x or G has y)` pairs is decided one pair at a time, each adding a
/// `has` to G: past 256 literals the last text is extended, not solved again (solving
/// each growing set from scratch was cubic: a 1,600-pair rule took over a minute).
#[test]
fn a_growing_set_of_has_tests_extends_the_last_text() {
    let pairs: Vec<String> = (0..600).map(|i| format!("(F == \"a{i}\" or G has \"x{i}\")")).collect();
    let pred = parse(&pairs.join(" and "));
    let mut lowered = Lowered::default();
    let formula = lowered.lower(&pred, true);
    let mut search = Search::new(&lowered, formula.size(), &Domains::text());
    let found = search.run(&formula).expect("satisfiable");
    let event: Event = found.into_iter().map(|(f, t)| (lowered.fields[f].clone(), t)).collect();
    assert!(pred.eval(&event), "{event:?}");
    // Two solves per pair without the reuse (F refusing a value, G growing).
    assert!(search.solves < 700, "{} field solves", search.solves);
}

/// The same pairs with one `F` chosen (FPX108 asking whether that branch is alive): the
/// `F ==` of every other pair is refused in the step that refuses the first one, not
/// one step (one reading of the formula) per pair: 1,600 pairs took 0.2 s per decision.
#[test]
fn the_refused_values_of_every_pair_are_swept_in_one_step() {
    let pairs: Vec<String> = (0..1_600)
        .map(|i| format!("(F == \"a{i}\" or G has \"x{i}\")"))
        .collect();
    let chosen = parse(&format!("F == \"a7\" and {}", pairs.join(" and ")));
    assert!(steps(&chosen) < 10, "{}", steps(&chosen));
    let dead = parse(&format!("F == \"b\" and {} and G !has \"x5\"", pairs.join(" and ")));
    assert_eq!(sat(&dead), SatResult::Unsat);
}

/// Number comparisons with text tests on one field (issue 28): every such conjunction is
/// decided (never unknown), its witness holds, and no text over `-0125.9a` of up to five
/// characters satisfies one it calls never true.
mod numbers_with_texts {
    use super::*;

    fn number_atom() -> BoxedStrategy<Atom> {
        (
            prop_oneof![Just(Op::Lt), Just(Op::Le), Just(Op::Gt), Just(Op::Ge)],
            proptest::sample::select(vec!["-2", "0", "1", "1.5", "5", "12", "0.05", "-0.5"]),
        )
            .prop_map(|(op, n)| Atom::new("f", op, false, true, vec![Value::Num(n.to_string())]))
            .boxed()
    }

    fn text_atom() -> BoxedStrategy<Atom> {
        let texts = (
            prop_oneof![
                Just(Op::Contains),
                Just(Op::StartsWith),
                Just(Op::EndsWith),
                Just(Op::Equals)
            ],
            any::<bool>(),
            proptest::sample::select(vec!["1", "5", "0", ".", "-", "12", "2.5", ".5", "9", "05", "1.", "a"]),
        )
            .prop_map(|(op, negated, v)| Atom::new("f", op, negated, true, vec![Value::Str(v.to_string())]));
        let regexes = (
            any::<bool>(),
            proptest::sample::select(vec![r"^1", r"5$", r"\.", r"^-?[0-9]+$", r"^0", r"9{2}"]),
        )
            .prop_map(|(negated, re)| {
                Atom::new("f", Op::MatchesRegex, negated, true, vec![Value::Str(re.to_string())])
            });
        prop_oneof![3 => texts, 1 => regexes].boxed()
    }

    fn universe() -> Vec<String> {
        let alphabet = ['-', '0', '1', '2', '5', '9', '.', 'a'];
        let mut all = vec![String::new()];
        let mut frontier = vec![String::new()];
        for _ in 0..5 {
            frontier = frontier
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            all.extend(frontier.iter().cloned());
        }
        all
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: cases(300), ..ProptestConfig::default() })]

        #[test]
        fn are_decided_and_agree_with_brute_force(
            (first, negated) in (number_atom(), proptest::bool::weighted(0.3)),
            rest in proptest::collection::vec(
                (prop_oneof![1 => number_atom(), 3 => text_atom()], any::<bool>()),
                1..4,
            ),
        ) {
            let mut parts = Vec::new();
            for (atom, negated) in std::iter::once((first, negated)).chain(rest) {
                let atom = Pred::Atom(atom);
                parts.push(if negated { Pred::Not(Box::new(atom)) } else { atom });
            }
            let p = Pred::And(parts);
            match sat(&p) {
                SatResult::Sat(w) => prop_assert!(p.eval(&w), "witness {w:?} fails {p}"),
                SatResult::Unknown => prop_assert!(false, "unknown: {p}"),
                SatResult::Unsat => {
                    let found = universe().into_iter().find(|t| {
                        let mut e = Event::new();
                        e.insert("f".into(), t.clone());
                        p.eval(&e)
                    });
                    prop_assert!(found.is_none(), "never true, but {found:?} satisfies {p}");
                }
            }
        }
    }
}
