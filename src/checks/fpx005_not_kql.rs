//! FPX005 not-kql (warning, safe fix)
//!
//! ## What it catches
//! Forms fpx reads, leniently, that KQL refuses: `AND`/`OR`/`NOT IN`/`CONTAINS` in upper
//! case, `&&` and `||`, `!(...)`, `not x == "a"` (KQL's `not` is a function:
//! `not(x == "a")`), `=` as a comparison, `not contains` for `!contains`, a trailing comma
//! in a list.
//!
//! ## Why it matters
//! Pasted into the rule's query (`| where not(E)`), the exclusion does not compile and
//! the rule stops running. fpx's verdicts are about what the text means; the fix keeps
//! that meaning.
//!
//! ## Example
//! ```text
//! FileName == "a.exe" AND not FolderPath CONTAINS "temp"
//! ```
//!
//! ## Passes
//! ```text
//! FileName == "a.exe" and not(FolderPath contains "temp")
//! ```
//!
//! ## Fix
//! Safe: `fpx fix` writes the canonical KQL spelling (`and`, `or`, `not(...)`, `==`,
//! `!contains`, `!in`, no trailing comma). A test appends every fixed exclusion to its
//! rule as `| where not(E)` and Kusto.Language accepts it.

use super::{Code, Edit, Finding, Fix, CodeInfo, Severity};
use crate::expr::{Irregularity, ParsedExclusion};

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx005,
    name: "not-kql",
    severity: Severity::Warning,
    summary: "a form fpx accepts and KQL does not (AND, &&, !(...), =, trailing comma)",
    source: include_str!("fpx005_not_kql.rs"),
};

pub(super) fn finding(parsed: &ParsedExclusion) -> Option<Finding> {
    let mut places = Vec::new();
    let mut edits = Vec::new();
    let mut kinds: Vec<&str> = Vec::new();
    for irregularity in &parsed.irregularities {
        let Irregularity::NotKql {
            span,
            what,
            edits: these,
        } = irregularity
        else {
            continue;
        };
        places.push((span.clone(), format!("{what}: not KQL")));
        edits.extend(these.iter().map(|(span, replacement)| Edit {
            span: span.clone(),
            replacement: replacement.clone(),
        }));
        if !kinds.contains(what) {
            kinds.push(what);
        }
    }
    if places.is_empty() {
        return None;
    }
    places.sort_by_key(|(span, _)| span.start);
    edits.sort_by_key(|e| (e.span.start, e.span.end));
    let (span, label) = places.remove(0);
    let mut f = Finding::new(
        &INFO,
        format!("KQL does not accept {}", kinds.join(", ")),
        span,
        label,
    );
    f.related = places;
    f.help = Some("fpx reads it, but pasted into the rule's query it does not compile".into());
    f.fix = Some(Fix {
        description: "the KQL spelling, same meaning".into(),
        edits,
        safe: true,
    });
    Some(f)
}
