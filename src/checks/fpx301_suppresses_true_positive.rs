//! FPX301 suppresses-true-positive (error)
//!
//! ## What it catches
//! The harness found an attack the exclusion suppresses: a malicious event of the
//! scenario (a template, with the other columns generated, attacker-chosen columns
//! also from values built from the exclusion's own constants) that the rule matches.
//! Only a declared malicious event is evidence: a generated alert is just some event
//! the rule matches, and suppressing some of those is what an exclusion is for (their
//! suppression rate is reported as a statistic). The event is shrunk to a minimal one
//! and printed with the seed that replays it.
//!
//! ## Why it matters
//! That is an attack the rule would have caught, silenced by the exclusion.
//!
//! ## Example
//! ```text
//! table: DeviceFileCertificateInfo
//! rule: Signer has "LogMeIn"
//! exclusion: process.name != "LogMeIn.exe"
//! malicious: {Signer: "LogMeIn, Inc.", DeviceName: "fin-ws-042.contoso.com"}
//! ```
//!
//! ## Passes
//! ```text
//! table: DeviceFileCertificateInfo
//! rule: Signer has "LogMeIn"
//! exclusion: DeviceName == "it-helpdesk-01.contoso.com"
//! malicious: {Signer: "LogMeIn, Inc.", DeviceName: "fin-ws-042.contoso.com"}
//! ```
//!
//! ## Fix
//! Narrow the exclusion to what only the benign activity has. No automatic fix.

use super::{Finding, Code, CodeInfo, Severity};
use crate::harness::{Counterexample, Source};
use crate::pred::Span;

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx301,
    name: "suppresses-true-positive",
    severity: Severity::Error,
    summary: "a malicious event the rule alerts on is suppressed",
    source: include_str!("fpx301_suppresses_true_positive.rs"),
};

pub(super) fn finding(
    c: &Counterexample,
    shown: crate::pred::Event,
    span: Span,
    seed: u64,
) -> Finding {
    // The harness reports FPX301 from malicious templates only.
    let (Source::Malicious(i) | Source::Benign(i)) = c.source;
    let message = format!(
        "suppresses a true positive: malicious event {} matches the rule and is suppressed",
        i + 1
    );
    let mut f = Finding::new(&INFO, message, span, "suppresses an attack");
    f.help = Some(format!("replay with `fpx check --seed {seed}`"));
    f.witness = Some(shown);
    f
}
