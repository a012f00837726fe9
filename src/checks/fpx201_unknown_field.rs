//! FPX201 unknown-field (error)
//!
//! ## What it catches
//! A field that is no column of any Defender table and no known ECS-style alias, such
//! as `process.parent_process_name` (fpx suggests `process.parent.name`), or a name
//! like `event_id` that has no column anywhere.
//!
//! ## Why it matters
//! An unknown field reads as empty on every event, so the condition on it is decided
//! by the empty string, not by the data.
//!
//! ## Example
//! ```text
//! table: DeviceProcessEvents
//! rule: FileName =~ "LiteManager.exe"
//! exclusion: process.parent_process_name == "mstsc.exe"
//! ```
//!
//! ## Passes
//! ```text
//! table: DeviceProcessEvents
//! rule: FileName =~ "LiteManager.exe"
//! exclusion: process.parent.name == "mstsc.exe"
//! ```
//!
//! ## Fix
//! Use the suggested name, or the table's column. No automatic fix.

use super::{Finding, Code, CodeInfo, Severity};
use crate::pred::Span;

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx201,
    name: "unknown-field",
    severity: Severity::Error,
    summary: "the field is in no known schema or alias table",
    source: include_str!("fpx201_unknown_field.rs"),
};

pub(super) fn unknown(field: &str, span: Span, suggestion: Option<&str>) -> Finding {
    let mut f = Finding::new(
        &INFO,
        format!("unknown field `{field}`"),
        span,
        "no such column or alias",
    );
    f.help = Some(match suggestion {
        Some(s) => format!("did you mean `{s}`?"),
        None => "use a column of the rule's table (`fpx explain FPX202` shows how they are named)".into(),
    });
    f
}

pub(super) fn no_column(field: &str, span: Span, reason: &str) -> Finding {
    let mut f = Finding::new(
        &INFO,
        format!("`{field}` has no column in any Defender table"),
        span,
        "no such column",
    );
    f.help = Some(reason.to_string());
    f
}
