//! FPX107 subsumed-exclusion (info)
//!
//! ## What it catches
//! An exclusion whose every suppressed event is already suppressed by another
//! scenario's exclusion of the same rule (on the rule's table). When two are
//! equivalent, the later one is reported.
//!
//! ## Why it matters
//! The duplicate adds review and maintenance cost and nothing else; often one of the
//! two was meant to say something different.
//!
//! ## Example
//! ```text
//! table: DeviceProcessEvents
//! rule: FileName =~ "anydesk.exe"
//! exclusion: AccountName == "svc_it" and DeviceName == "IT-01"
//! other: AccountName == "svc_it"
//! ```
//!
//! ## Passes
//! ```text
//! table: DeviceProcessEvents
//! rule: FileName =~ "anydesk.exe"
//! exclusion: AccountName == "svc_it"
//! other: AccountName == "svc_helpdesk"
//! ```
//!
//! ## Fix
//! Drop this scenario's exclusion, or make it say what it was meant to. No automatic
//! fix.

use super::{Finding, Code, Rule, Severity, whole_span};
use crate::pred::Pred;

pub(super) static RULE: Rule = Rule {
    code: Code::Fpx107,
    name: "subsumed-exclusion",
    severity: Severity::Info,
    summary: "another scenario's exclusion of the same rule already suppresses all this one does",
    source: include_str!("fpx107_subsumed_exclusion.rs"),
};

pub(super) fn finding(text: &str, pred: &Pred, other_name: &str, equivalent: bool) -> Finding {
    let mut f = Finding::new(
        &RULE,
        if equivalent {
            format!("suppresses exactly what scenario {other_name:?} already suppresses")
        } else {
            format!("everything this suppresses is already suppressed by scenario {other_name:?}")
        },
        whole_span(text, pred),
        "adds nothing",
    );
    f.help = Some("drop it, or make it say what it was meant to".into());
    f
}
