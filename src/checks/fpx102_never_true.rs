//! FPX102 never-true (warning)
//!
//! ## What it catches
//! An exclusion that holds for no event at all, such as
//! `FileName == "a.exe" and FileName == "b.exe"`.
//!
//! ## Why it matters
//! It suppresses nothing: the false positives it was written for keep alerting, and
//! the exclusion misleads whoever reads the rule.
//!
//! ## Example
//! ```text
//! FileName == "a.exe" and FileName == "b.exe"
//! ```
//!
//! ## Passes
//! ```text
//! FileName in ("a.exe", "b.exe")
//! ```
//!
//! ## Fix
//! Usually an `and` that should be an `or`. No automatic fix.

use super::{Finding, Code, Rule, Severity, describe_event, whole_span};
use crate::logic::Classification;
use crate::pred::Pred;

pub(super) static RULE: Rule = Rule {
    code: Code::Fpx102,
    name: "never-true",
    severity: Severity::Warning,
    summary: "the exclusion holds for no event: it suppresses nothing",
    source: include_str!("fpx102_never_true.rs"),
};

pub(super) fn finding(text: &str, pred: &Pred, c: &Classification) -> Finding {
    let mut f = Finding::new(
        &RULE,
        "never true: no event satisfies this exclusion, so it suppresses nothing",
        whole_span(text, pred),
        "false for every event",
    );
    if let Some(event) = &c.when_false {
        f.help = Some(format!("for example {} is not suppressed", describe_event(event)));
    }
    f.witness = c.when_false.clone();
    f
}
