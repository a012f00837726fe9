//! FPX305 harness-inconclusive (warning)
//!
//! ## What it catches
//! A scenario property the harness could not test: the scenario has no malicious
//! template, or none of the events generated from its malicious templates is an alert
//! of the rule (so nothing can show whether the exclusion suppresses an attack), no
//! event the rule matches could be generated (an undecided regex, a rule that matches
//! nothing), or no benign event could be built. The scenario's verdict is then
//! inconclusive, not pass. A scenario that has no attack to describe says so with
//! `ignore: [{code: FPX305, reason: "..."}]`.
//!
//! ## Why it matters
//! A gate that passes because nothing was tested has checked nothing. The scenario
//! needs a template that reaches the property (a malicious event with the fields the
//! rule matches on), or the rule needs a condition fpx can construct events for.
//!
//! ## Example
//! ```text
//! table: DeviceFileCertificateInfo
//! rule: Signer has "LogMeIn"
//! exclusion: DeviceName == "it-helpdesk-01.contoso.com"
//! malicious: {Signer: "DigiCert", DeviceName: "fin-ws-042.contoso.com"}
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
//! Give the scenario a malicious template the rule alerts on (set the fields the
//! rule's condition reads), or simplify the rule's condition. No automatic fix.

use super::{Code, Finding, CodeInfo, Severity};
use crate::harness::Property;
use crate::pred::Span;

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx305,
    name: "harness-inconclusive",
    severity: Severity::Warning,
    summary: "the harness could not generate events for a property: inconclusive, not pass",
    source: include_str!("fpx305_harness_inconclusive.rs"),
};

pub(super) fn finding(property: Property, why: &str, span: Span) -> Finding {
    let mut f = Finding::new(
        &INFO,
        format!("inconclusive: \"{}\" was not tested: {why}", property.as_str()),
        span,
        "not tested",
    );
    f.help = Some(match property {
        Property::Malicious => "give the scenario a malicious template the rule alerts on".into(),
        Property::Benign => "check the benign templates' fields and values".into(),
        Property::Alerts => "the share of alerts the exclusion suppresses is unknown for this rule".into(),
    });
    f
}
