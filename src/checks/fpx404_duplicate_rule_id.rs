//! FPX404 duplicate-rule-id (error)
//!
//! ## What it catches
//! Two rule files with the same `id`, or a rule file without one.
//!
//! ## Why it matters
//! Scenario files name their rule by id. With two rules of one id, fpx (and any
//! tool that deploys by id) cannot tell which rule a scenario belongs to; Sentinel
//! keeps one of them and silently drops the other. A rule without an id can have no
//! scenarios at all. fpx checks each scenario once, against the first file of the id
//! (in path order), and reports the others.
//!
//! ## Example
//! ```text
//! --- a.yaml
//! id: 5d1f0c32-0d4b-4b37-9d26-3c7d6a4b1e01
//! name: LogMeIn file signature
//! query: |
//!   DeviceFileCertificateInfo | where Signer has "LogMeIn"
//! --- b.yaml
//! id: 5d1f0c32-0d4b-4b37-9d26-3c7d6a4b1e01
//! name: LogMeIn file signature (copy)
//! query: |
//!   DeviceFileCertificateInfo | where Signer has "GoTo"
//! ```
//!
//! ## Passes
//! ```text
//! --- a.yaml
//! id: 5d1f0c32-0d4b-4b37-9d26-3c7d6a4b1e01
//! name: LogMeIn file signature
//! query: |
//!   DeviceFileCertificateInfo | where Signer has "LogMeIn"
//! --- b.yaml
//! id: 0a8c5e1e-7f2b-4d0c-8e55-2f0b9d7c4a02
//! name: GoTo file signature
//! query: |
//!   DeviceFileCertificateInfo | where Signer has "GoTo"
//! ```
//!
//! ## Fix
//! Give each rule its own id (a new GUID for a copied rule). No automatic fix.

use std::collections::HashMap;
use std::path::Path;

use super::{Code, Finding, CodeInfo, Severity};
use crate::corpus::RuleDoc;
use crate::pred::Span;

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx404,
    name: "duplicate-rule-id",
    severity: Severity::Error,
    summary: "two rule files share an id, or a rule has none",
    source: include_str!("fpx404_duplicate_rule_id.rs"),
};

/// For each rule (by index) that repeats an earlier rule's id or has none, its finding.
/// Spans index the rule file.
pub(super) fn findings(rules: &[RuleDoc]) -> Vec<(usize, Finding)> {
    let mut first: HashMap<&str, &Path> = HashMap::new();
    let mut out = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let span = id_span(&rule.source);
        if rule.id.trim().is_empty() {
            let mut f = Finding::new(&INFO, "the rule has no `id`", span, "no id");
            f.help = Some("scenario files name their rule by id: add `id: <a new GUID>`".into());
            out.push((i, f));
            continue;
        }
        match first.get(rule.id.as_str()) {
            Some(earlier) => {
                let mut f = Finding::new(
                    &INFO,
                    format!("the rule id `{}` is also the id of {}", rule.id, earlier.display()),
                    span,
                    "duplicate id",
                );
                f.help = Some(format!(
                    "scenarios naming `{}` are checked against {} only; give this rule its own id",
                    rule.id,
                    earlier.display()
                ));
                out.push((i, f));
            }
            None => {
                first.insert(&rule.id, &rule.file);
            }
        }
    }
    out
}

/// The `id:` line's value in the file (the first line when there is none).
fn id_span(source: &str) -> Span {
    let mut at = 0;
    for line in source.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("id:") {
            let value = rest.trim();
            let start = at + 3 + (rest.len() - rest.trim_start().len());
            return start..start + value.len().max(1);
        }
        at += line.len();
    }
    0..source.lines().next().map_or(0, str::len)
}
