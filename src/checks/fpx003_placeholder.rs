//! FPX003 placeholder (error)
//!
//! ## What it catches
//! Values that stand in for real ones (`known_good_hashes`, `<patch-server-name>`,
//! `TODO`, `xxx`) and instructions left in the exclusion, such as a trailing
//! `(replace with actual event ID ...)`.
//!
//! ## Why it matters
//! A placeholder matches nothing real (or something unintended); an instruction means
//! the author knew the exclusion was unfinished. The rest of the expression is still
//! parsed and checked, with the note left out.
//!
//! ## Example
//! ```text
//! process.name != "fileverifier.exe" or file.hash != "known_good_hashes"
//! ```
//!
//! ## Passes
//! ```text
//! process.name == "fileverifier.exe" and SHA1 in ("3395856ce81f2b7382dee72602f798b642f14140")
//! ```
//!
//! ## Fix
//! Put in the real value and delete the note. There is no automatic fix.

use super::{Finding, Code, CodeInfo, Severity};
use crate::expr::{Irregularity, ParsedExclusion};

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx003,
    name: "placeholder",
    severity: Severity::Error,
    summary: "placeholder values or instructions left in the exclusion",
    source: include_str!("fpx003_placeholder.rs"),
};

pub(super) fn findings(parsed: &ParsedExclusion) -> Vec<Finding> {
    parsed
        .irregularities
        .iter()
        .filter_map(|irregularity| match irregularity {
            Irregularity::Placeholder { span, value } => {
                let mut f = Finding::new(
                    &INFO,
                    format!("{value:?} is a placeholder, not a real value"),
                    span.clone(),
                    "placeholder",
                );
                f.help = Some("replace it with the real value(s) before deploying".into());
                Some(f)
            }
            Irregularity::Annotation { span, text } => {
                let mut f = Finding::new(
                    &INFO,
                    format!("an instruction is left in the exclusion: {text}"),
                    span.clone(),
                    "not part of the condition; ignored when checking",
                );
                f.help = Some("do what it says, then delete the note".into());
                Some(f)
            }
            _ => None,
        })
        .collect()
}
