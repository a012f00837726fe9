//! FPX104 mutes-rule (error)
//!
//! ## What it catches
//! An exclusion that suppresses every event the rule alerts on (D implies E). Often
//! the exclusion looks selective, but its fields do not exist in the rule's table:
//! there they read as empty, and `process.name != "LogMeIn.exe"` holds on every event.
//!
//! ## Why it matters
//! The rule is switched off for good, and its query still looks fine.
//!
//! ## Example
//! ```text
//! table: DeviceFileCertificateInfo
//! rule: Signer has "LogMeIn"
//! exclusion: process.name != "LogMeIn.exe"
//! ```
//!
//! ## Passes
//! ```text
//! table: DeviceFileCertificateInfo
//! rule: Signer has "LogMeIn"
//! exclusion: Signer == "LogMeIn, Inc." and IsTrusted == true and SHA1 == "3395856ce81f2b7382dee72602f798b642f14140"
//! ```
//!
//! ## Fix
//! Use the table's own columns (fpx names them under FPX202), and say which events to
//! drop, not which to keep. No automatic fix.

use super::{Finding, Code, CodeInfo, Severity, describe_event, not_in_table, whole_span};
use crate::logic::{Domains, SatResult, Validity, implies_in, sat_in};
use crate::pred::Pred;

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx104,
    name: "mutes-rule",
    severity: Severity::Error,
    summary: "every event the rule alerts on is suppressed",
    source: include_str!("fpx104_mutes_rule.rs"),
};

/// `on_table` is the exclusion as the table sees it (absent fields read as empty).
pub(super) fn finding(
    text: &str,
    pred: &Pred,
    on_table: &Pred,
    detection: &Pred,
    absent: &[String],
    domains: &Domains,
    scoped: bool,
) -> Option<Finding> {
    if implies_in(detection, on_table, domains) != Validity::Valid {
        return None;
    }
    let example = match sat_in(detection, domains) {
        SatResult::Sat(event) => event,
        // The rule alerts on nothing: that is not this exclusion's doing.
        _ => return None,
    };
    let mut f = Finding::new(
        &INFO,
        match scoped {
            false => format!(
                "mutes the rule: every event the rule alerts on is suppressed, e.g. {}",
                describe_event(&example)
            ),
            true => format!(
                "mutes its branch: every event only the `or` branch it binds to alerts on is suppressed, e.g. {}",
                describe_event(&example)
            ),
        },
        whole_span(text, pred),
        "suppresses every alert",
    );
    if let Some((subject, one)) = not_in_table(absent) {
        f.help = Some(format!(
            "{subject}, so {} as empty on every event",
            if one { "it reads" } else { "they read" }
        ));
    }
    f.witness = Some(example);
    Some(f)
}
