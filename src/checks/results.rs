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
    /// Findings the user silenced where they are (a scenario's `ignore:`, an
    /// `fpx: ignore[...]` comment): reported with the reason, never counted for the gate.
    pub suppressed: Vec<Suppressed>,
    /// Files found under a scanned directory that are neither rules, scenarios nor
    /// seeds (and do not look like one): counted, not read.
    pub skipped: Vec<PathBuf>,
}

/// Which part of the report a finding belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The rule's id (for an orphan scenario file, the id it names).
    pub rule: String,
    /// The exclusion's name (a scenario's, `filter NAME`, `meta-filter TITLE`); `None`
    /// for a finding on the rule itself or on a scenario file.
    pub scenario: Option<String>,
    /// Where the exclusion comes from; `None` for a finding on the rule or a file.
    pub origin: Option<Origin>,
}

/// A finding the user silenced, and how.
#[derive(Debug, Clone)]
pub struct Suppressed {
    pub owner: Owner,
    pub finding: Finding,
    pub by: Suppression,
}

/// How a finding was silenced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub kind: SuppressionKind,
    /// The reason the user wrote (required).
    pub reason: String,
}

/// Where a suppression is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuppressionKind {
    /// An `ignore:` entry of a scenario.
    ScenarioIgnore,
    /// An `fpx: ignore[CODE] reason` comment in a rule file.
    Comment,
}

impl SuppressionKind {
    /// The `kind` value of the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionKind::ScenarioIgnore => "scenario-ignore",
            SuppressionKind::Comment => "comment",
        }
    }
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

    /// The suppressed findings of a rule (`scenario: None`: of the rule itself) or of
    /// one of its exclusions.
    pub fn suppressed_of<'a>(
        &'a self,
        rule: &'a str,
        scenario: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Suppressed> {
        self.suppressed
            .iter()
            .filter(move |s| s.owner.rule == rule && s.owner.scenario.as_deref() == scenario)
    }

    /// Every finding with its owner, in report order.
    pub fn located(&self) -> Vec<(Owner, &Finding)> {
        let mut out = Vec::new();
        for r in &self.rules {
            let owner = |s: Option<&ScenarioResult>| Owner {
                rule: r.rule.id.clone(),
                scenario: s.map(|s| s.name.clone()),
                origin: s.map(|s| s.origin),
            };
            out.extend(r.findings.iter().map(|f| (owner(None), f)));
            for s in r.exclusions() {
                out.extend(s.findings().iter().map(|f| (owner(Some(s)), f)));
            }
        }
        for o in &self.orphans {
            let owner = Owner {
                rule: o.rule_id.clone(),
                scenario: None,
                origin: None,
            };
            out.push((owner, &o.finding));
        }
        out
    }

    /// Keeps the findings `keep` accepts and returns the others, with their owners.
    pub fn retain(&mut self, mut keep: impl FnMut(&Owner, &Finding) -> bool) -> Vec<(Owner, Finding)> {
        let mut removed = Vec::new();
        let mut sieve = |owner: Owner, findings: &mut Vec<Finding>| {
            for f in std::mem::take(findings) {
                if keep(&owner, &f) {
                    findings.push(f);
                } else {
                    removed.push((owner.clone(), f));
                }
            }
        };
        for r in &mut self.rules {
            let id = r.rule.id.clone();
            sieve(
                Owner {
                    rule: id.clone(),
                    scenario: None,
                    origin: None,
                },
                &mut r.findings,
            );
            for s in r.scenarios.iter_mut().chain(&mut r.inline) {
                let owner = Owner {
                    rule: id.clone(),
                    scenario: Some(s.name.clone()),
                    origin: Some(s.origin),
                };
                sieve(owner, &mut s.result.analysis.findings);
            }
        }
        let orphans = std::mem::take(&mut self.orphans);
        for o in orphans {
            let owner = Owner {
                rule: o.rule_id.clone(),
                scenario: None,
                origin: None,
            };
            if keep(&owner, &o.finding) {
                self.orphans.push(o);
            } else {
                removed.push((owner, o.finding));
            }
        }
        removed
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
    /// An item of an Elastic exception list attached to the rule.
    Exception,
    /// A negated filter of an Elastic rule (`[[rule.filters]]`).
    Filter,
}

impl Origin {
    /// The `source` value of the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Scenario => "scenario",
            Origin::Inline => "inline",
            Origin::MetaFilter => "meta-filter",
            Origin::Exception => "exception",
            Origin::Filter => "filter",
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
    /// The scenario's `ignore:` entries (the gate applies them).
    pub ignore: Vec<crate::corpus::Ignore>,
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
            severity = severity.max(Some(f.severity));
            inconclusive |= f.kind.code == Code::Fpx305;
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

    /// The result, with each finding placed in its file: a located result's findings
    /// are placed when it is made, so no emitter places one.
    pub(super) fn placed(mut self) -> ScenarioResult {
        for i in 0..self.result.analysis.findings.len() {
            let at = super::anchor::in_scenario(&self, &self.result.analysis.findings[i]);
            self.result.analysis.findings[i].anchor = Some(at);
        }
        self
    }

    /// Adds a finding found after the result was made (FPX107 compares exclusions with
    /// each other), placed.
    pub(super) fn add(&mut self, mut finding: Finding) {
        finding.anchor = Some(super::anchor::in_scenario(self, &finding));
        self.result.analysis.findings.push(finding);
    }
}

impl RuleResult {
    /// The rule's result, with its own findings placed in its file (its exclusions'
    /// were placed when their results were made).
    pub(super) fn placed(mut self) -> RuleResult {
        for i in 0..self.findings.len() {
            let at = super::anchor::in_rule(&self, &self.findings[i]);
            self.findings[i].anchor = Some(at);
        }
        self
    }
}
