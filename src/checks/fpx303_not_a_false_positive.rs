//! FPX303 not-a-false-positive (warning)
//!
//! ## What it catches
//! A benign event of the scenario that the rule does not match at all: the scenario
//! describes activity this rule never alerts on (another product, another table).
//!
//! ## Why it matters
//! An exclusion for it is dead weight at best; at worst it widens what is suppressed
//! for no benefit.
//!
//! ## Example
//! ```text
//! table: DeviceFileCertificateInfo
//! rule: Signer has "Level Software, Inc"
//! exclusion: Signer == "Kaseya Holdings Inc."
//! benign: {Signer: "Kaseya Holdings Inc."}
//! ```
//!
//! ## Passes
//! ```text
//! table: DeviceFileCertificateInfo
//! rule: Signer has "Level Software, Inc"
//! exclusion: DeviceName == "it-admin-01.contoso.com"
//! benign: {Signer: "Level Software, Inc.", DeviceName: "it-admin-01.contoso.com"}
//! ```
//!
//! ## Fix
//! Drop the scenario from this rule, or describe the benign activity as this rule sees
//! it. No automatic fix.

use super::{Finding, Code, CodeInfo, Severity};
use crate::harness::{Counterexample, Source};
use crate::pred::{Event, Span};

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx303,
    name: "not-a-false-positive",
    severity: Severity::Warning,
    summary: "a benign event of the scenario does not even match the rule",
    source: include_str!("fpx303_not_a_false_positive.rs"),
};

pub(super) fn finding(c: &Counterexample, shown: Event, span: Span) -> Finding {
    let n = match c.source {
        Source::Benign(i) => i + 1,
        _ => 0,
    };
    let mut f = Finding::new(
        &INFO,
        format!("benign event {n} does not match the rule: this scenario is not a false positive of it"),
        span,
        "written for activity the rule never alerts on",
    );
    f.help = Some("drop the scenario from this rule, or describe the activity as this rule's table sees it".into());
    f.witness = Some(shown);
    f
}
