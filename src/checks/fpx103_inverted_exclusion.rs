//! FPX103 inverted-exclusion (error)
//!
//! ## What it catches
//! An exclusion written as a keep-filter. Two shapes:
//! - an exclusion that is false only where a few positive tests hold: `a != x or b !=
//!   y`, `f != x and f != y`, `f !in (...)`, `f !contains x or f !contains y`,
//!   `not(a has x) or not(b has y)`. It suppresses everything *except* the benign case;
//! - a keep-clause inside a query written with `or` where `and` was meant: `| where
//!   FolderPath !contains @"\system32" or FolderPath !contains @"\syswow64"` (the shape
//!   splunk/security_content PR #1341 shipped) keeps every event whose path lacks
//!   *either* folder, so it drops only paths that contain both: nearly nothing.
//!
//! ## Why it matters
//! The rule alerts only on the activity it was meant to ignore, and is silent for
//! everything else, including the attacker; or the exclusion meant to drop the benign
//! folders drops none of them.
//!
//! ## Example
//! ```text
//! process.name != "LogMeIn.exe" or process.parent.name != "LogMeIn.exe"
//! ```
//!
//! ## Passes
//! ```text
//! process.name == "LogMeIn.exe" and process.parent.name == "LogMeIn.exe"
//! ```
//!
//! ## Fix
//! The negation of the exclusion, with `not` pushed into the operators and redundant
//! terms dropped; for a keep-clause, `and` for `or` (printed as the `not(...)` of what
//! it should drop). This changes what the exclusion means (that is the point), so
//! `fpx fix` applies it only with `--unsafe`.

use super::{Finding, Fix, Code, CodeInfo, Severity, describe_event, whole_span};
use crate::expr::print;
use crate::logic::{Classification, Domains, SatResult, Validity, implies, inverted_fix, sat_in};
use crate::pred::{Atom, Op, Pred};

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx103,
    name: "inverted-exclusion",
    severity: Severity::Error,
    summary: "the exclusion suppresses everything except the benign case",
    source: include_str!("fpx103_inverted_exclusion.rs"),
};

pub(super) fn finding(text: &str, pred: &Pred, c: &Classification) -> Option<Finding> {
    // The listed tests: every test in the exclusion, read positively.
    let listed: Vec<Pred> = pred
        .atoms()
        .into_iter()
        .filter(|a| a.op != Op::SameAs)
        .map(|a| {
            Pred::Atom(Atom {
                negated: false,
                ..a.clone()
            })
        })
        .collect();
    if listed.is_empty() {
        return None;
    }
    let not_pred = Pred::Not(Box::new(pred.clone()));
    if implies(&not_pred, &Pred::Or(listed)) != Validity::Valid {
        return None;
    }
    let fixed = inverted_fix(pred);
    let fixed_text = print(&fixed);
    let mut message = format!("inverted: it suppresses every event except where {fixed_text}");
    if let Some(event) = &c.when_true {
        message.push_str(&format!(", so even {} is suppressed", describe_event(event)));
    }
    let mut f = Finding::new(&INFO, message, whole_span(text, pred), "written as a keep-filter");
    f.help = Some("an exclusion says which events to drop; this one says which to keep".into());
    f.fix = Some(Fix::replace_all(
        format!("exclude exactly the benign case: {fixed_text}"),
        text,
        fixed_text,
        false,
    ));
    f.witness = c.when_true.clone();
    Some(f)
}

/// A keep-clause written with `or` where `and` was meant: `text` is the clause as
/// written (`f !contains "a" or f !contains "b"`), `suppresses` what it drops (the
/// events that match every test), `rest` the events it decides. The witness is an
/// event of `rest` that one test matches, which the author meant to drop and which
/// still alerts.
pub(super) fn meant_and(text: &str, suppresses: &Pred, rest: &Pred, domains: &Domains) -> Option<Finding> {
    let Pred::And(tests) = suppresses else { return None };
    let field = tests.first()?.atoms().first()?.field.clone();
    let witness = tests.iter().find_map(|t| {
        match sat_in(&Pred::And(vec![rest.clone(), t.clone(), suppresses.negate()]), domains) {
            SatResult::Sat(event) => Some(event),
            _ => None,
        }
    })?;
    let meant = Pred::Or(tests.clone());
    let mut f = Finding::new(
        &INFO,
        format!(
            "inverted: written with `or`, this keeps every event whose {field} fails any one test, so it drops only events that match all of them; {} still alerts",
            describe_event(&witness)
        ),
        whole_span(text, suppresses),
        "`or` where `and` was meant",
    );
    f.help = Some(format!(
        "to drop the events matching any of these tests, join them with `and`: drop where {}",
        print(&meant)
    ));
    f.fix = Some(Fix::replace_all(
        "join the tests with `and` (drop the events matching any of them)",
        text,
        print(&meant),
        false,
    ));
    f.witness = Some(witness);
    Some(f)
}
