//! FPX202 field-not-in-table (error)
//!
//! ## What it catches
//! A field that exists, but not in the rule's table: `process.command_line` on a
//! `DeviceFileCertificateInfo` rule. fpx names the tables that have it, and the column
//! it is called there.
//!
//! ## Why it matters
//! Pasted into the rule's KQL (`| where not(E)`), the exclusion does not compile: Kusto
//! refuses a name that is not a column (KS142), so the rule stops running. fpx's logic
//! verdicts read the field as it would be in a pseudo-ECS dialect that tolerates it:
//! empty on every event, so `!=` on it is always true (the exclusion mutes the rule) and
//! `==` always false (it never applies).
//!
//! ## Example
//! ```text
//! table: DeviceFileCertificateInfo
//! rule: Signer has "LogMeIn"
//! exclusion: process.command_line contains "integrity_check"
//! ```
//!
//! ## Passes
//! ```text
//! table: DeviceProcessEvents
//! rule: ProcessVersionInfoCompanyName has "LogMeIn"
//! exclusion: process.command_line contains "integrity_check"
//! ```
//!
//! ## Fix
//! Use a column of the rule's table, or move the exclusion to a rule on a table that
//! has the field. No automatic fix.

use super::{Finding, Code, CodeInfo, Severity};
use crate::pred::Span;

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx202,
    name: "field-not-in-table",
    severity: Severity::Error,
    summary: "the field exists, but not in the rule's table",
    source: include_str!("fpx202_field_not_in_table.rs"),
};

pub(super) fn finding(field: &str, span: Span, table: &crate::schema::Table, elsewhere: &[(String, String)]) -> Finding {
    let mut f = Finding::new(
        &INFO,
        match table.family() != crate::schema::Family::Kql {
            // A Sigma log source's (or ECS) events lack the field: it is null there.
            true => format!("`{field}` is not a field of {table}: it is null on every event there"),
            false => format!(
                "`{field}` is not a column of {table}: pasted into the rule's KQL the exclusion does not compile; fpx's verdicts read it as empty on every event"
            ),
        },
        span,
        format!("not in {table}"),
    );
    let places: Vec<String> = elsewhere
        .iter()
        .map(|(t, c)| if c == field { t.clone() } else { format!("{t} (as {c})") })
        .collect();
    f.help = Some(format!("it exists in {}", places.join(", ")));
    f
}
