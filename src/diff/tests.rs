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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn change_classes_agree_with_brute_force(
        old in strategy::pred(strategy::atom(vec!["f", "g"], pool_value(), false), 2),
        new in strategy::pred(strategy::atom(vec!["f", "g"], pool_value(), false), 2),
    ) {
        let d = compare(&old, &new, &text_domains());
        prop_assert!(d.undecided.is_none(), "{d:?}");
        // Every event printed holds of its side.
        if let Some(e) = &d.lost {
            prop_assert!(old.eval(e) && !new.eval(e));
        }
        if let Some(e) = &d.gained {
            prop_assert!(new.eval(e) && !old.eval(e));
        }
        // And none is missed: where brute force finds an event, so does fpx (brute force
        // tries a finite set of texts, so it may miss one fpx finds).
        if d.lost.is_none() {
            prop_assert_eq!(brute(&old, &new), None);
        }
        if d.gained.is_none() {
            prop_assert_eq!(brute(&new, &old), None);
        }
    }
}
