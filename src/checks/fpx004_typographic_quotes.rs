//! FPX004 typographic-quotes (warning)
//!
//! ## What it catches
//! Curly quotes (`“…”`, `‘…’`), an exclusion wrapped in markdown backticks, and values
//! written without quotes. fpx reads them as meant; KQL does not.
//!
//! In a rule's context (a scenario's exclusion, `fpx lint --table T`), `A == B` or
//! `A != B` where both are string columns of the table is what KQL reads it as, a
//! comparison of the two columns: no finding then.
//!
//! ## Why it matters
//! Pasted into a query, `“LogMeIn.exe”` is a syntax error and an unquoted `LogMeIn.exe`
//! is read as a column name. These come from copying exclusions out of documents and
//! chat tools.
//!
//! ## Example
//! ```text
//! `process.name == “LogMeIn.exe”`
//! ```
//!
//! ## Passes
//! ```text
//! process.name == "LogMeIn.exe"
//! ```
//!
//! ## Fix
//! Straight quotes, no backticks, quoted values. This fix is safe: it never changes
//! what the exclusion means (`fpx fix` applies it).

use super::{Edit, Finding, Fix, Code, CodeInfo, Severity};
use crate::expr::{Irregularity, ParsedExclusion};
use crate::pred::Span;

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx004,
    name: "typographic-quotes",
    severity: Severity::Warning,
    summary: "curly quotes, backtick wrapping or unquoted values",
    source: include_str!("fpx004_typographic_quotes.rs"),
};

pub(super) fn finding(parsed: &ParsedExclusion) -> Option<Finding> {
    let mut places: Vec<(Span, String)> = Vec::new();
    let mut edits = Vec::new();
    let mut kinds: Vec<&str> = Vec::new();
    for irregularity in &parsed.irregularities {
        let kind = match irregularity {
            Irregularity::TypographicQuotes { span, replacement } => {
                edits.push(Edit {
                    span: span.clone(),
                    replacement: replacement.clone(),
                });
                places.push((span.clone(), "curly quotes".to_string()));
                "curly quotes"
            }
            Irregularity::UnquotedValue { span, replacement } => {
                edits.push(Edit {
                    span: span.clone(),
                    replacement: replacement.clone(),
                });
                places.push((span.clone(), "not quoted: KQL reads it as a column".to_string()));
                "an unquoted value"
            }
            Irregularity::BacktickWrapping { open, close } => {
                edits.push(Edit {
                    span: open.clone(),
                    replacement: String::new(),
                });
                edits.push(Edit {
                    span: close.clone(),
                    replacement: String::new(),
                });
                places.push((open.clone(), "markdown backtick".to_string()));
                places.push((close.clone(), "markdown backtick".to_string()));
                "backtick wrapping"
            }
            _ => continue,
        };
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    if places.is_empty() {
        return None;
    }
    places.sort_by_key(|(span, _)| span.start);
    let (span, label) = places.remove(0);
    let mut f = Finding::new(&INFO, format!("{} that KQL does not accept", join(&kinds)), span, label);
    f.related = places;
    f.fix = Some(Fix {
        description: "straight quotes, quoted values, no backticks".into(),
        edits,
        safe: true,
    });
    Some(f)
}

fn join(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {}", init.join(", "), last),
    }
}
