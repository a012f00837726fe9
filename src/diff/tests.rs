//! The change classes against brute force: random pairs of predicates, every event fpx
//! prints re-evaluated, and no event brute force finds missed.

use proptest::prelude::*;

use super::*;
use crate::logic::tests::{brute_force, pool_value};
use crate::pred::strategy;

fn pred(text: &str) -> Pred {
    match crate::expr::parse_exclusion(text) {
        crate::expr::ParseOutcome::Parsed(p) => p.pred.without_spans(),
        other => panic!("{text}: {other:?}"),
    }
}

fn text_domains() -> Domains {
    Domains::text()
}

#[test]
fn a_refactor_is_equivalent() {
    let d = compare(
        &pred(r#"FileName in~ ("a.exe", "b.exe")"#),
        &pred(r#"FileName =~ "a.exe" or FileName =~ "B.EXE""#),
        &text_domains(),
    );
    assert_eq!(d.change(), Change::Equivalent, "{d:?}");
}

#[test]
fn a_widened_exclusion_narrows_the_rule() {
    let d = compare(
        &pred(r#"P =~ "psexec.exe" and F !~ "a.exe""#),
        &pred(r#"P =~ "psexec.exe" and not (F endswith "a.exe")"#),
        &text_domains(),
    );
    assert_eq!(d.change(), Change::Narrowed, "{d:?}");
    let lost = d.lost.expect("an event that stops alerting");
    assert!(lost["F"].to_ascii_lowercase().ends_with("a.exe") && !lost["F"].eq_ignore_ascii_case("a.exe"));
}

#[test]
fn a_dropped_condition_broadens_and_a_swapped_value_changes() {
    let broad = compare(&pred(r#"P == "x" and Q == "y""#), &pred(r#"P == "x""#), &text_domains());
    assert_eq!(broad.change(), Change::Broadened);
    let swapped = compare(&pred(r#"P == "x""#), &pred(r#"P == "y""#), &text_domains());
    assert_eq!(swapped.change(), Change::Changed);
    assert_eq!(swapped.lost.unwrap()["P"], "x");
    assert_eq!(swapped.gained.unwrap()["P"], "y");
}

/// Which side brute force finds an event for, over the predicate's own values.
fn brute(holds: &Pred, fails: &Pred) -> Option<Event> {
    brute_force(&Pred::And(vec![holds.clone(), Pred::Not(Box::new(fails.clone()))]))
}

/// fpx's events hold of their side, and where brute force finds an event, so does fpx
/// (brute force tries a finite set of texts, so it may miss one fpx finds).
fn agrees(old: &Pred, new: &Pred) -> Result<(), TestCaseError> {
    let d = compare(old, new, &text_domains());
    prop_assert!(d.undecided.is_none(), "{d:?}");
    if let Some(e) = &d.lost {
        prop_assert!(old.eval(e) && !new.eval(e));
    }
    if let Some(e) = &d.gained {
        prop_assert!(new.eval(e) && !old.eval(e));
    }
    if d.lost.is_none() {
        prop_assert_eq!(brute(old, new), None);
    }
    if d.gained.is_none() {
        prop_assert_eq!(brute(new, old), None);
    }
    Ok(())
}

fn small_pred() -> BoxedStrategy<Pred> {
    strategy::pred(strategy::atom(vec!["f", "g"], pool_value(), false), 2)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn change_classes_agree_with_brute_force(old in small_pred(), new in small_pred()) {
        agrees(&old, &new)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Versions that share a part, as real changes do (what both share is left out of
    /// the decision). Fewer cases: brute force over three predicates' atoms is slow.
    #[test]
    fn shared_parts_are_factored_soundly(shared in small_pred(), x in small_pred(), y in small_pred()) {
        let and = |a: &Pred, b: &Pred| Pred::And(vec![a.clone(), b.clone()]);
        let or = |a: &Pred, b: &Pred| Pred::Or(vec![a.clone(), b.clone()]);
        agrees(&and(&shared, &x), &and(&y, &shared))?;
        agrees(&or(&x, &shared), &or(&shared, &y))?;
        agrees(&and(&shared, &x), &shared)?;
        agrees(&or(&x, &shared), &shared)?;
        agrees(&and(&or(&x, &shared), &y), &or(&shared, &y))?;
    }
}
