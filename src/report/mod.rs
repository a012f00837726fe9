//! Rendering findings: rustc-style snippets, and one module per output format.

pub mod diagnostic;
pub mod diff;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod text;

use crate::checks::{CheckReport, ExclusionAnalysis, Finding, Severity};
use crate::harness;

/// An output format of `fpx check`: renders the whole report.
pub trait Emitter {
    fn emit(&self, report: &CheckReport, run: &Run) -> String;
}

/// What the run was asked to do, as the emitters need it.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub harness: Option<harness::Config>,
    /// The lowest severity that fails the gate (`None`: `--fail-on never`).
    pub fail_on: Option<Severity>,
    /// Whether a baseline was given (SARIF then says which results are new).
    pub baseline: bool,
    pub color: bool,
    /// `--write-baseline`: this run records the findings; the gate is not applied.
    pub writes_baseline: bool,
    /// `--quiet`: the text report prints its summary only.
    pub quiet: bool,
    /// Columns to wrap long text at (the terminal's width, else 100).
    pub width: usize,
}

impl Run {
    /// Whether this finding fails the gate: at or above `--fail-on` and not in the
    /// baseline.
    pub fn fails(&self, finding: &Finding) -> bool {
        !finding.baseline && self.fail_on.is_some_and(|s| finding.severity >= s)
    }
}

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

    /// `N errors, N warnings, N info`.
    pub fn describe(&self) -> String {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        format!(
            "{} error{}, {} warning{}, {} info",
            self.errors,
            plural(self.errors),
            self.warnings,
            plural(self.warnings),
            self.infos
        )
    }

    /// Adds the counts of another set of findings.
    pub fn merge(&mut self, other: Counts) {
        self.errors += other.errors;
        self.warnings += other.warnings;
        self.infos += other.infos;
    }

    /// Counts one more finding.
    pub fn add(&mut self, finding: &Finding) {
        match finding.severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
            Severity::Info => self.infos += 1,
        }
    }
}
