//! Rendering findings: rustc-style snippets, and one module per output format.

pub mod diagnostic;
pub mod json;
pub mod place;
pub mod text;

use crate::checks::{ExclusionAnalysis, Finding, Severity};

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
            counts.add(f);
        }
        counts
    }

    /// Counts one more finding.
    pub fn add(&mut self, finding: &Finding) {
        match finding.rule.severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
            Severity::Info => self.infos += 1,
        }
    }
}
