//! FPX406 unused-suppression (info)
//!
//! ## What it catches
//! An `fpx: ignore[CODE] reason` comment in a rule or scenario file, or an `ignore:`
//! entry of a scenario, that silences nothing: no finding with that code is reported
//! on the comment's line or the line below it (or, for `ignore:`, on the scenario).
//!
//! ## Why it matters
//! Suppressions outlive the problems they were written for. A stale one hides the next
//! finding of the same code at that place without anyone deciding so, and its reason
//! no longer describes the rule. Like ruff's RUF100.
//!
//! ## Example
//! ```text
//! --- rule.yaml
//! id: anydesk-process
//! name: AnyDesk started
//! query: |
//!   DeviceProcessEvents
//!   // fpx: ignore[FPX101] reviewed with the helpdesk team
//!   | where FileName =~ "AnyDesk.exe"
//! ```
//! (the query has no exclusion, so there is no FPX101 to silence.)
//!
//! ## Passes
//! ```text
//! --- rule.yaml
//! id: anydesk-process
//! name: AnyDesk started
//! query: |
//!   DeviceProcessEvents
//!   | where FileName =~ "AnyDesk.exe"
//! ```
//!
//! ## Fix
//! Delete the comment (or the `ignore:` entry). No automatic fix.

use std::path::Path;

use super::{Code, Finding, CodeInfo, Severity, anchor};

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx406,
    name: "unused-suppression",
    severity: Severity::Info,
    summary: "an `fpx: ignore[...]` comment or `ignore:` entry silences no finding",
    source: include_str!("fpx406_unused_suppression.rs"),
};

/// The finding for a suppression of `codes` written on `line` of `file` (`span`
/// indexes that line) that silenced nothing.
pub fn finding(file: &Path, source: &str, line: usize, span: crate::pred::Span, codes: &str) -> Finding {
    let mut f = Finding::new(
        &INFO,
        format!("unused suppression: no {codes} finding here to silence"),
        span,
        "silences nothing",
    );
    f.help = Some("delete it; a stale suppression would hide the next finding of that code here".into());
    f.anchor = Some(anchor::on_line(file, source, line, &f));
    f
}
