//! FPX103 inverted-exclusion (error)
//!
//! ## What it catches
//! An exclusion that is false only where some field equals one of a few listed values:
//! `a != x or b != y`, `f != x and f != y`, `f !in (...)`. It suppresses everything
//! *except* the benign case, so it was written as a keep-filter.
//!
//! ## Why it matters
//! The rule alerts only on the activity it was meant to ignore, and is silent for
//! everything else, including the attacker.
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
//! terms dropped. This changes what the exclusion means (that is the point), so
//! `fpx fix` applies it only with `--unsafe`.

use super::{Finding, Fix, Code, CodeInfo, Severity, describe_event, whole_span};
use crate::expr::print;
use crate::logic::{Classification, Validity, implies, inverted_fix};
use crate::pred::{Atom, Op, Pred};

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx103,
    name: "inverted-exclusion",
    severity: Severity::Error,
    summary: "the exclusion suppresses everything except the benign case",
    source: include_str!("fpx103_inverted_exclusion.rs"),
};

pub(super) fn finding(text: &str, pred: &Pred, c: &Classification) -> Option<Finding> {
    // The listed values: every equality in the exclusion, read positively.
    let listed: Vec<Pred> = pred
        .atoms()
        .into_iter()
        .filter(|a| matches!(a.op, Op::Equals | Op::In))
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
