//! FPX002 prose-exclusion (error)
//!
//! ## What it catches
//! An exclusion written as a sentence instead of an expression, such as
//! `Exclude processes initiated by the Microsoft Endpoint Manager service`.
//!
//! ## Why it matters
//! A sentence cannot be deployed or tested. Whoever deploys the rule must guess the
//! fields and values, and the guess is never reviewed.
//!
//! ## Example
//! ```text
//! Exclude processes initiated by Ansible or tasks associated with Ansible controller hosts.
//! ```
//!
//! ## Passes
//! ```text
//! InitiatingProcessParentFileName =~ "ansible-playbook" and AccountName == "svc_ansible"
//! ```
//!
//! ## Fix
//! Write the condition as an expression over the rule table's columns. fpx cannot
//! translate prose, so there is no automatic fix.

use super::{Finding, Code, CodeInfo, Severity};
use crate::expr::ProseExclusion;

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx002,
    name: "prose-exclusion",
    severity: Severity::Error,
    summary: "the exclusion is natural language: nothing can be checked or deployed",
    source: include_str!("fpx002_prose_exclusion.rs"),
};

pub(super) fn finding(text: &str, prose: &ProseExclusion) -> Finding {
    let mut f = Finding::new(
        &INFO,
        "the exclusion is prose, not an expression: nothing can be checked or deployed",
        prose.span.clone(),
        "a sentence, not a condition",
    );
    let first_word = text.split_whitespace().next().unwrap_or("");
    f.help = Some(format!(
        "write it as a condition over the table's columns, e.g. InitiatingProcessFileName =~ \"agent.exe\" (it starts with `{first_word}`)"
    ));
    f
}
