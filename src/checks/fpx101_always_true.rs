//! FPX101 always-true (error)
//!
//! ## What it catches
//! An exclusion that holds for every possible event, so it suppresses everything. The
//! classic form is an `or` of two `!=` on one field: every value differs from at
//! least one of them.
//!
//! ## Why it matters
//! The rule never alerts again, and nothing says so: the SIEM shows a healthy rule
//! with zero results. Decided exactly, with an event as proof: the event below makes
//! every part of the exclusion as false as it can be, and it is still suppressed.
//!
//! ## Example
//! ```text
//! process.parent.name != "splunkd.exe" or process.parent.name != "logstash"
//! ```
//!
//! ## Passes
//! ```text
//! process.parent.name in ("splunkd.exe", "logstash")
//! ```
//!
//! ## Fix
//! Decide which events are the benign case and say exactly that (usually `in (...)` or
//! `and` of `==`). No automatic fix: the intent cannot be recovered.

use super::{Finding, Code, CodeInfo, Severity, describe_event, whole_span};
use crate::logic::Classification;
use crate::pred::{Event, Pred};

/// Most candidate events tried when looking for a telling proof.
const MAX_CANDIDATES: usize = 512;

/// The event, built from the exclusion's own values, that makes the most of its atoms
/// false, so the proof reads as "even the case you meant to keep is suppressed".
fn telling_event(pred: &Pred) -> Option<Event> {
    let atoms = pred.atoms();
    let fields = pred.fields();
    let choices: Vec<Vec<String>> = fields
        .iter()
        .map(|f| {
            let mut values: Vec<String> = atoms
                .iter()
                // The value of `A == B` is the other field's name, not a text.
                .filter(|a| &a.field == f && a.other_field().is_none())
                .flat_map(|a| a.values.iter().map(|v| v.text().to_string()))
                .collect();
            values.push(String::new());
            values.dedup();
            values
        })
        .collect();
    let total = choices.iter().try_fold(1usize, |n, c| n.checked_mul(c.len()))?;
    if total > MAX_CANDIDATES {
        return None;
    }
    let mut best: Option<(usize, Event)> = None;
    for k in 0..total {
        let mut rest = k;
        let event: Event = fields
            .iter()
            .zip(&choices)
            .map(|(f, c)| {
                let v = c[rest % c.len()].clone();
                rest /= c.len();
                (f.clone(), v)
            })
            .collect();
        let false_atoms = atoms.iter().filter(|a| !a.eval(&event)).count();
        if pred.eval(&event) && best.as_ref().is_none_or(|(n, _)| false_atoms > *n) {
            best = Some((false_atoms, event));
        }
    }
    best.map(|(_, e)| e)
}

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx101,
    name: "always-true",
    severity: Severity::Error,
    summary: "the exclusion holds for every event: it suppresses everything",
    source: include_str!("fpx101_always_true.rs"),
};

pub(super) fn finding(text: &str, pred: &Pred, c: &Classification) -> Finding {
    let witness = telling_event(pred).or_else(|| c.when_true.clone());
    let message = match &witness {
        Some(event) => format!("always true: it suppresses every event, even {}", describe_event(event)),
        None => "always true: it suppresses every event".to_string(),
    };
    let mut f = Finding::new(&INFO, message, whole_span(text, pred), "true for every event");
    f.help = Some(if pred.atoms().iter().any(|a| a.other_field().is_some()) {
        "an exclusion true for every event mutes the rule; keep only the condition that names the benign case".into()
    } else {
        "an `or` of `!=` on one field holds for every value; list the benign values with `in (...)` instead".into()
    });
    f.witness = witness;
    f
}
