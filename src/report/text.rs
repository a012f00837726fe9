//! The text report: diagnostics, then one summary line.

use std::fmt::Write;

use super::diagnostic::{Location, render};
use super::{Counts, LintRecord};
use crate::checks::describe_event;

/// Renders `fpx lint` results for a terminal or a log.
pub fn lint(records: &[LintRecord], color: bool) -> String {
    let mut out = String::new();
    for record in records {
        let a = &record.analysis;
        let origin = format!("{}:{}", record.origin, record.line);
        let location = Location {
            origin: &record.origin,
            line: record.line,
        };
        if a.findings.is_empty() {
            let _ = write!(out, "{origin}: no findings ({})", a.logic());
            if let Some(c) = &a.classification {
                if let Some(e) = &c.when_true {
                    let _ = write!(out, "; suppresses {}", describe_event(e));
                }
                if let Some(e) = &c.when_false {
                    let _ = write!(out, "; keeps {}", describe_event(e));
                }
            }
            out.push('\n');
            continue;
        }
        for finding in &a.findings {
            out.push_str(&render(finding, &a.text, &location, color));
            out.push_str("\n\n");
        }
    }
    let counts = Counts::of(records);
    let parsed = records
        .iter()
        .filter(|r| r.analysis.classification.is_some())
        .count();
    let _ = writeln!(
        out,
        "{} exclusion{} linted ({} parsed): {} error{}, {} warning{}, {} info",
        records.len(),
        plural(records.len()),
        parsed,
        counts.errors,
        plural(counts.errors),
        counts.warnings,
        plural(counts.warnings),
        counts.infos,
    );
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
