//! Rendering findings: rustc-style snippets, and one module per output format.

pub mod diagnostic;
pub mod json;
pub mod text;

use crate::checks::{ExclusionAnalysis, Severity};

/// One linted exclusion and where it came from.
#[derive(Debug, Clone)]
pub struct LintRecord {
    /// `<stdin>` or `<arg>`.
    pub origin: String,
    /// 1-based line (stdin) or argument number.
    pub line: usize,
    pub analysis: ExclusionAnalysis,
}

/// Counts of findings by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Counts {
    /// Counts the findings of every record.
    pub fn of(records: &[LintRecord]) -> Counts {
        let mut counts = Counts::default();
        for f in records.iter().flat_map(|r| &r.analysis.findings) {
            match f.rule.severity {
                Severity::Error => counts.errors += 1,
                Severity::Warning => counts.warnings += 1,
                Severity::Info => counts.infos += 1,
            }
        }
        counts
    }
}
