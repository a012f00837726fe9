//! JSON output. The shapes are the ones DESIGN.md documents; keys are stable.

use serde_json::{Value, json};

use super::{Counts, Emitter, LintRecord, Run};

/// `fpx check --format json`.
pub struct Json;

impl Emitter for Json {
    fn emit(&self, report: &CheckReport, run: &Run) -> String {
        serde_json::to_string_pretty(&check(report, run.harness.map(|h| h.seed))).expect("JSON values serialize") + "\n"
    }
}
use crate::checks::{CheckReport, Finding, Origin, Outcome, RuleResult};
use crate::pred::Event;

/// One finding: code, name, severity, message, span, and the fixed text if any.
pub fn finding(f: &Finding, source: &str) -> Value {
    let mut v = json!({
        "code": f.kind.code,
        "name": f.kind.name,
        "severity": f.severity,
        "message": f.message,
        "span": [f.span.start, f.span.end],
    });
    if let Some(fix) = &f.fix {
        v["fix"] = json!(fix.apply(source));
    }
    if let Some(bypass) = f.bypass {
        v["bypass"] = json!(bypass);
    }
    v
}

fn event(e: &Option<Event>) -> Value {
    match e {
        Some(e) => json!(e),
        None => Value::Null,
    }
}

/// One `fpx lint` record: `{"input","logic","findings","witnesses":{"true","false"}}`.
pub fn lint_record(record: &LintRecord) -> Value {
    let a = &record.analysis;
    let (when_true, when_false) = match &a.classification {
        Some(c) => (event(&c.when_true), event(&c.when_false)),
        None => (Value::Null, Value::Null),
    };
    let mut record = json!({
        "input": a.text,
        "logic": a.logic(),
        "findings": a.findings.iter().map(|f| finding(f, &a.text)).collect::<Vec<_>>(),
        "witnesses": {"true": when_true, "false": when_false},
    });
    if let Some(reason) = a.classification.as_ref().and_then(|c| c.unknown_reason) {
        record["unknown_reason"] = json!(reason);
    }
    record
}

/// A finding of `check`: `line`/`column` are where its exclusion starts (`anchor`; for
/// a rule-level finding, the finding itself), `span` the bytes inside the exclusion, and
/// `finding_line`/`finding_column` where the finding itself starts.
fn placed(f: &Finding) -> Value {
    let place = f.anchor();
    let mut v = finding(f, &place.subject);
    v["fingerprint"] = json!(f.fingerprint);
    if f.baseline {
        v["baseline"] = json!(true);
    }
    let (line, column) = (place.subject_line, place.subject_column);
    if let Some(help) = &f.help {
        v["help"] = json!(help);
    }
    v["file"] = json!(place.file.display().to_string());
    v["line"] = json!(line);
    v["column"] = json!(column);
    v["finding_line"] = json!(place.line);
    v["finding_column"] = json!(place.column);
    if let Some(w) = &f.witness {
        v["witness"] = json!(w);
    }
    v
}

/// The suppressed findings of a rule (`None`) or one of its exclusions, each placed
/// like a finding, with `suppression: {kind, reason}`.
fn suppressed(report: &CheckReport, rule: &str, scenario: Option<&str>) -> Vec<Value> {
    report
        .suppressed_of(rule, scenario)
        .map(|x| {
            let mut v = placed(&x.finding);
            v["suppression"] = json!({"kind": x.by.kind.as_str(), "reason": x.by.reason});
            v
        })
        .collect()
}

/// One rule's results (the rule's own findings, then each exclusion's), the findings'
/// counts, and how many of its exclusions are scenarios.
fn rule_results(report: &CheckReport, rule: &RuleResult) -> (Vec<Value>, Counts, usize) {
    let mut results = Vec::new();
    let mut counts = Counts::default();
    let mut scenarios = 0;
    let rule_suppressed = suppressed(report, &rule.rule.id, None);
    if !rule.findings.is_empty() || rule.scenarios.is_empty() || !rule_suppressed.is_empty() {
        let findings: Vec<Value> = rule
            .findings
            .iter()
            .map(|f| {
                counts.add(f);
                placed(f)
            })
            .collect();
        results.push(json!({
            "rule_id": rule.rule.id,
            "rule_name": rule.rule.name,
            "file": rule.rule.file.display().to_string(),
            "line": 1,
            "scenario": Value::Null,
            "exclusion": Value::Null,
            "source": "rule",
            "verdict": Outcome::of(&rule.findings).as_str(),
            "findings": findings,
        }));
        if let (false, Some(result)) = (rule_suppressed.is_empty(), results.last_mut()) {
            result["suppressed"] = json!(rule_suppressed);
        }
    }
    for s in rule.exclusions() {
        scenarios += usize::from(s.origin == Origin::Scenario);
        let findings: Vec<Value> = s
            .findings()
            .iter()
            .map(|f| {
                counts.add(f);
                placed(f)
            })
            .collect();
        results.push(json!({
            "rule_id": rule.rule.id,
            "rule_name": rule.rule.name,
            "file": s.file.display().to_string(),
            "line": s.line,
            "column": s.column,
            "scenario": (s.origin == Origin::Scenario).then_some(&s.name),
            "exclusion": s.exclusion,
            "source": s.origin.as_str(),
            "verdict": Outcome::of(s.findings()).as_str(),
            "findings": findings,
        }));
        let silenced = suppressed(report, &rule.rule.id, Some(&s.name));
        if let (false, Some(result)) = (silenced.is_empty(), results.last_mut()) {
            result["suppressed"] = json!(silenced);
        }
        // Present only when the harness ran (absent with `--cases 0`).
        if let (Some(st), Some(result)) = (s.stats, results.last_mut()) {
            result["stats"] = json!({
                "events": st.events,
                "benign": {"suppressed": st.benign_suppressed, "total": st.benign},
                "malicious": {"suppressed": st.malicious_suppressed, "total": st.malicious},
                "alerts": {"suppressed": st.alerts_suppressed, "total": st.alerts},
            });
        }
    }
    (results, counts, scenarios)
}

/// The `fpx check --format json` document (shape in DESIGN.md; `seed` is the harness
/// seed, null while the harness is not part of the run).
pub fn check(report: &CheckReport, seed: Option<u64>) -> Value {
    // Each rule's results are built on their own, on every core, then joined in order.
    use rayon::prelude::*;
    let per_rule: Vec<(Vec<Value>, Counts, usize)> =
        report.rules.par_iter().map(|rule| rule_results(report, rule)).collect();
    let mut results = Vec::new();
    let mut counts = Counts::default();
    let mut scenarios = 0;
    for (rule_results, rule_counts, rule_scenarios) in per_rule {
        results.extend(rule_results);
        counts.merge(rule_counts);
        scenarios += rule_scenarios;
    }
    for orphan in &report.orphans {
        counts.add(&orphan.finding);
        let at = orphan.finding.anchor();
        results.push(json!({
            "rule_id": orphan.rule_id,
            "rule_name": Value::Null,
            "file": orphan.file.display().to_string(),
            "line": at.line,
            "column": at.column,
            "scenario": Value::Null,
            "exclusion": Value::Null,
            "verdict": Outcome::of(std::slice::from_ref(&orphan.finding)).as_str(),
            "findings": [placed(&orphan.finding)],
        }));
    }
    let errors: Vec<Value> = report
        .load_errors
        .iter()
        .map(|e| {
            json!({
                "file": e.file.display().to_string(),
                "line": e.position.map(|p| p.line),
                "column": e.position.map(|p| p.column),
                "message": e.message,
            })
        })
        .collect();
    let rules: Vec<Value> = report
        .rules
        .iter()
        .map(|r| {
            json!({
                "rule_id": r.rule.id,
                "file": r.rule.file.display().to_string(),
                "format": r.rule.format.as_str(),
                "table": r.query.table,
                "detection": r.detection(),
                "inline_exclusions": r.inline.len(),
            })
        })
        .collect();
    json!({
        "version": 1,
        "summary": {
            "rules": report.rules.len(),
            "scenarios": scenarios,
            "errors": counts.errors,
            "warnings": counts.warnings,
            "infos": counts.infos,
            "seed": seed,
            "input_errors": errors.len(),
            "suppressed": report.suppressed.len(),
            "skipped": report.skipped.len(),
        },
        "rules": rules,
        "results": results,
        "errors": errors,
        "skipped": report.skipped.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
    })
}
