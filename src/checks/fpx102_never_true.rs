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

use super::{Finding, Code, CodeInfo, Severity, describe_event, whole_span};
use crate::logic::Classification;
use crate::pred::{Event, Pred};

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx102,
    name: "never-true",
    severity: Severity::Warning,
    summary: "the exclusion holds for no event: it suppresses nothing",
    source: include_str!("fpx102_never_true.rs"),
};

/// `null_suppressed`: an event the exclusion still suppresses because a column it
/// compares is null there (KQL's `not(null)` is null, and `where` drops the row).
pub(super) fn finding(text: &str, pred: &Pred, c: &Classification, null_suppressed: Option<&Event>) -> Finding {
    let mut f = Finding::new(
        &INFO,
        match null_suppressed {
            None => "never true: no event satisfies this exclusion, so it suppresses nothing",
            Some(_) => {
                "never true: no event satisfies this exclusion, so it suppresses only events where a column it compares is null"
            }
        },
        whole_span(text, pred),
        "false for every event",
    );
    let example = c.when_false.as_ref().map(|e| format!("for example {} is not suppressed", describe_event(e)));
    f.help = match (example, null_suppressed) {
        (Some(example), Some(null)) => Some(format!(
            "{example}; {} is (a comparison with null is null, and `where not(null)` drops the row)",
            describe_event(null)
        )),
        (example, _) => example,
    };
    f.witness = c.when_false.clone();
    f
}
