//! FPX105 never-applies (warning)
//!
//! ## What it catches
//! An exclusion that suppresses none of the events the rule alerts on (D and E never
//! hold together): its values contradict the rule, or its fields are not in the
//! rule's table and read as empty there.
//!
//! ## Why it matters
//! The false positives it was written for keep alerting, and the exclusion gives a
//! false sense that they are handled.
//!
//! ## Example
//! ```text
//! table: DeviceFileCertificateInfo
//! rule: Signer has "LiteManager"
//! exclusion: process.command_line contains "schtasks.exe"
//! ```
//!
//! ## Passes
//! ```text
//! table: DeviceFileCertificateInfo
//! rule: Signer has "LiteManager"
//! exclusion: Signer has "LiteManager" and DeviceName startswith "IT-ADMIN-"
//! ```
//!
//! ## Fix
//! Write the exclusion over the columns of the rule's table (see FPX202) and check
//! its values against what the rule matches. No automatic fix.

use super::{Finding, Code, CodeInfo, Severity, not_in_table, whole_span};
use crate::logic::{Domains, SatResult, sat_in};
use crate::pred::Pred;

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx105,
    name: "never-applies",
    severity: Severity::Warning,
    summary: "no event the rule alerts on is suppressed",
    source: include_str!("fpx105_never_applies.rs"),
};

/// FPX105, or `Err(())` when fpx cannot decide whether the exclusion suppresses any
/// alert (a regular expression too long to decide, a search past its budget).
pub(super) fn finding(
    text: &str,
    pred: &Pred,
    on_table: &Pred,
    detection: &Pred,
    absent: &[String],
    domains: &Domains,
    scoped: bool,
) -> Result<Option<Finding>, ()> {
    match sat_in(&Pred::And(vec![detection.clone(), on_table.clone()]), domains) {
        SatResult::Unsat => {}
        SatResult::Unknown => return Err(()),
        SatResult::Sat(_) => return Ok(None),
    }
    let mut f = Finding::new(
        &INFO,
        match scoped {
            false => "never applies: no event the rule alerts on is suppressed by this exclusion",
            true => "never applies: no event that only the `or` branch it binds to alerts on is suppressed by it",
        },
        whole_span(text, pred),
        "never true on the rule's alerts",
    );
    f.help = Some(match not_in_table(absent) {
        Some((subject, one)) => format!("{subject} and read{} as empty there", if one { "s" } else { "" }),
        None => "its conditions contradict the rule's own query".to_string(),
    });
    Ok(Some(f))
}
