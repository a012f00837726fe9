//! JUnit XML for CI test tabs: one test suite per rule file, one test case per rule x
//! scenario (and one for the rule itself when it has rule-level findings). A case fails
//! when it has a finding that fails the gate; the failure carries every finding with
//! its proof.

use std::collections::BTreeMap;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{Emitter, Run};
use crate::checks::{CheckReport, Finding, describe_event};

/// `fpx check --format junit`.
pub struct Junit;

fn describe(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| {
            let mut line = format!("{} {} [{}]: {}", f.severity, f.kind.code, f.kind.name, f.message);
            if let Some(help) = &f.help {
                line.push_str(&format!("\n  help: {help}"));
            }
            if let Some(w) = &f.witness {
                line.push_str(&format!("\n  proof: {}", describe_event(w)));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn case(name: &str, classname: &str, findings: &[Finding], run: &Run) -> TestCase {
    let failing: Vec<&Finding> = findings.iter().filter(|f| run.fails(f)).collect();
    let status = match failing.first() {
        Some(first) => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(format!("{}: {}", first.kind.code, first.message));
            status.set_type(first.kind.name);
            status.set_description(describe(findings));
            status
        }
        None => TestCaseStatus::success(),
    };
    let mut case = TestCase::new(name, status);
    case.set_classname(classname);
    if failing.is_empty() && !findings.is_empty() {
        case.set_system_out(describe(findings));
    }
    case
}

impl Emitter for Junit {
    fn emit(&self, report: &CheckReport, run: &Run) -> String {
        // Suites by file, in a stable order; a scenario's cases go with its rule's file.
        let mut suites: BTreeMap<String, Vec<TestCase>> = BTreeMap::new();
        for rule in &report.rules {
            let file = rule.rule.file.display().to_string();
            let cases = suites.entry(file).or_default();
            if !rule.findings.is_empty() || rule.scenarios.is_empty() {
                cases.push(case("(rule)", &rule.rule.name, &rule.findings, run));
            }
            for s in rule.exclusions() {
                cases.push(case(&s.name, &rule.rule.name, s.findings(), run));
            }
        }
        for orphan in &report.orphans {
            let file = orphan.file.display().to_string();
            let findings = std::slice::from_ref(&orphan.finding);
            suites
                .entry(file)
                .or_default()
                .push(case("(scenario file)", &orphan.rule_id, findings, run));
        }
        let mut out = Report::new("fpx");
        if !report.load_errors.is_empty() {
            // Input errors are errored cases of their own suite, so a CI test tab shows them.
            let mut suite = TestSuite::new("fpx input");
            suite.add_test_cases(report.load_errors.iter().map(|e| {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status.set_message(e.to_string());
                status.set_type("input-error");
                let mut case = TestCase::new(e.file.display().to_string(), status);
                case.set_classname("fpx input");
                case
            }));
            out.add_test_suite(suite);
        }
        for (file, cases) in suites {
            let mut suite = TestSuite::new(file);
            suite.add_test_cases(cases);
            out.add_test_suite(suite);
        }
        out.to_string().expect("JUnit XML serializes") + "\n"
    }
}
