//! FPX402 malformed-rule-file (warning)
//!
//! ## What it catches
//! A rule file that is not valid YAML. All 168 rules of the RMM corpus indent
//! `dataTypes` under `requiredDataConnectors` wrongly. fpx reads each top-level key on
//! its own, recovers what it can, and says what it recovered.
//!
//! ## Why it matters
//! Strict tools (the Sentinel repository validation, `yq`, deployment pipelines) reject
//! the file or read something else than the author meant.
//!
//! ## Example
//! ```text
//! requiredDataConnectors:
//!     - connectorId: MicrosoftThreatProtection
//!     dataTypes:
//!         - DeviceProcessEvents
//! ```
//!
//! ## Passes
//! ```text
//! requiredDataConnectors:
//!   - connectorId: MicrosoftThreatProtection
//!     dataTypes:
//!       - DeviceProcessEvents
//! ```
//!
//! ## Fix
//! Align `dataTypes` with `connectorId` (two more spaces). No automatic fix yet.

use super::{Finding, Code, CodeInfo, Severity};
use crate::corpus::Malformed;
use crate::pred::Span;

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx402,
    name: "malformed-rule-file",
    severity: Severity::Warning,
    summary: "the rule file is not valid YAML; fpx read it leniently",
    source: include_str!("fpx402_malformed_rule_file.rs"),
};

pub(super) fn finding(m: &Malformed, span: Span) -> Finding {
    let mut f = Finding::new(
        &INFO,
        format!("the rule file is not valid YAML: {}", m.error),
        span,
        "invalid YAML here",
    );
    f.help = Some(format!("fpx read it leniently and recovered: {}", m.recovered));
    f
}
