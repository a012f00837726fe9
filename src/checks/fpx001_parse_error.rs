//! FPX001 parse-error (error)
//!
//! ## What it catches
//! An exclusion that is meant as an expression but does not parse: a missing operator
//! or value, an unclosed string, an escape KQL does not know, a regex that does not
//! compile, a number comparison against text, or nesting deeper than 64 levels.
//!
//! ## Why it matters
//! Nothing can be concluded about an exclusion that cannot be read, and the SIEM will
//! reject it (or, worse, the rule will be deployed without it).
//!
//! ## Example
//! ```text
//! `process.name != ”
//! ```
//! The string started with `”` is never closed: the exclusion was cut off.
//!
//! ## Passes
//! ```text
//! process.name != "RemotePC.exe"
//! ```
//!
//! ## Fix
//! Complete the expression as the caret and the hint say. fpx cannot guess the
//! missing part, so there is no automatic fix.

use super::{Finding, Code, CodeInfo, Severity};
use crate::expr::SyntaxError;

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx001,
    name: "parse-error",
    severity: Severity::Error,
    summary: "the exclusion is meant as an expression but does not parse",
    source: include_str!("fpx001_parse_error.rs"),
};

/// The finding for a syntax error.
pub(super) fn finding(error: &SyntaxError) -> Finding {
    let mut f = Finding::new(&INFO, error.message.clone(), error.span.clone(), error.label.clone());
    f.help = error.hint.clone();
    f
}
