//! What `fpx check` found: the report, per rule, per exclusion, and the outcomes.

use std::path::PathBuf;

use super::context::InContext;
use super::{Code, Finding, Severity};
use crate::corpus::{LoadError, RuleDoc};
use crate::harness;
use crate::model::RuleQuery;

/// The result of `fpx check`.
#[derive(Debug)]
pub struct CheckReport {
    pub rules: Vec<RuleResult>,
    pub load_errors: Vec<LoadError>,
    /// FPX405 findings: scenario files whose `rule:` names no rule that was loaded.
    pub orphans: Vec<Orphan>,
}

/// A scenario file whose rule was not loaded, and its FPX405 finding.
#[derive(Debug)]
pub struct Orphan {
    pub file: PathBuf,
    /// The rule id the file names.
    pub rule_id: String,
    pub finding: Finding,
}

impl CheckReport {
    /// Every finding, the rules' own first, in report order.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.rules
            .iter()
            .flat_map(RuleResult::all_findings)
            .chain(self.orphans.iter().map(|o| &o.finding))
    }

    /// Every finding, mutably (to mark baseline membership, to filter codes).
    pub fn findings_mut(&mut self) -> impl Iterator<Item = &mut Finding> {
        self.rules
            .iter_mut()
            .flat_map(|r| {
                r.findings.iter_mut().chain(
                    r.scenarios
                        .iter_mut()
                        .chain(&mut r.inline)
                        .flat_map(|s| s.result.analysis.findings.iter_mut()),
                )
            })
            .chain(self.orphans.iter_mut().map(|o| &mut o.finding))
    }
}

/// One rule: its own findings (spans index the rule file), its scenarios, and the
/// exclusions written inline in its query.
#[derive(Debug)]
pub struct RuleResult {
    pub rule: RuleDoc,
    pub query: RuleQuery,
    pub findings: Vec<Finding>,
    pub scenarios: Vec<ScenarioResult>,
    pub inline: Vec<ScenarioResult>,
}

impl RuleResult {
    /// Every exclusion of the rule: its scenarios', then the inline ones.
    pub fn exclusions(&self) -> impl Iterator<Item = &ScenarioResult> {
        self.scenarios.iter().chain(&self.inline)
    }

    /// Every finding of the rule: its own, then its exclusions'.
    pub fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().chain(self.exclusions().flat_map(|s| s.findings()))
    }

    /// Whether D is exact, approximated (sound, with FPX401 notes), or missing.
    pub fn detection(&self) -> &'static str {
        match (&self.query.detection, self.query.exact()) {
            (None, _) => "none",
            (Some(_), true) => "exact",
            (Some(_), false) => "approximated",
        }
    }
}

/// Where an exclusion comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A scenario file (or a seed document's scenario).
    Scenario,
    /// A negated constant test in the rule's own query (a Sigma filter selection).
    Inline,
    /// A Sigma meta-filter that names the rule.
    MetaFilter,
}

impl Origin {
    /// The `source` value of the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Scenario => "scenario",
            Origin::Inline => "inline",
            Origin::MetaFilter => "meta-filter",
        }
    }
}

/// One scenario of a rule: its exclusion's findings (spans index the exclusion).
#[derive(Debug)]
pub struct ScenarioResult {
    pub file: PathBuf,
    /// The scenario file's text (shared by the file's scenarios).
    pub source: std::sync::Arc<str>,
    pub name: String,
    pub exclusion: String,
    /// Where the exclusion starts in the file (1-based).
    pub line: usize,
    pub column: usize,
    pub result: InContext,
    /// What the harness generated and how much of it was suppressed, when it ran.
    pub stats: Option<harness::Stats>,
    /// Findings silenced by the scenario's `ignore:` entries: code, reason, how many.
    pub suppressed: Vec<(String, String, usize)>,
    pub origin: Origin,
}

/// pass, warn, inconclusive or fail: by the most severe finding, except that a run the
/// harness could not complete (FPX305) is inconclusive unless something failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Warn,
    Inconclusive,
    Fail,
}

impl Outcome {
    /// Every outcome, in the order reports count them.
    pub const ALL: [Outcome; 4] = [Outcome::Fail, Outcome::Inconclusive, Outcome::Warn, Outcome::Pass];

    pub fn of(findings: &[Finding]) -> Outcome {
        Outcome::of_all(findings)
    }

    /// The outcome of findings from several places (a rule's and its scenarios').
    pub fn of_all<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Outcome {
        let (mut severity, mut inconclusive) = (None, false);
        for f in findings {
            severity = severity.max(Some(f.rule.severity));
            inconclusive |= f.rule.code == Code::Fpx305;
        }
        match severity {
            Some(Severity::Error) => Outcome::Fail,
            _ if inconclusive => Outcome::Inconclusive,
            Some(Severity::Warning) => Outcome::Warn,
            _ => Outcome::Pass,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Warn => "warn",
            Outcome::Inconclusive => "inconclusive",
            Outcome::Fail => "fail",
        }
    }
}

/// How many results have each outcome, and a description: `1 fail, 0 warn, 2 pass`
/// (inconclusive only when there are some).
#[derive(Debug, Clone, Copy, Default)]
pub struct OutcomeCounts([usize; 4]);

impl OutcomeCounts {
    pub fn add(&mut self, outcome: Outcome) {
        self.0[outcome as usize] += 1;
    }

    pub fn get(&self, outcome: Outcome) -> usize {
        self.0[outcome as usize]
    }

    pub fn total(&self) -> usize {
        self.0.iter().sum()
    }

    pub fn describe(&self) -> String {
        Outcome::ALL
            .iter()
            .filter(|&&o| o != Outcome::Inconclusive || self.get(o) > 0)
            .map(|&o| format!("{} {}", self.get(o), o.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl ScenarioResult {
    pub fn findings(&self) -> &[Finding] {
        &self.result.analysis.findings
    }
}
