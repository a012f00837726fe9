//! JSON output. The shapes are the ones DESIGN.md documents; keys are stable.

use serde_json::{Value, json};

use super::place::{Place, in_rule, in_scenario};
use super::{Counts, Emitter, LintRecord, Run};

/// `fpx check --format json`.
pub struct Json;

impl Emitter for Json {
    fn emit(&self, report: &CheckReport, run: &Run) -> String {
        serde_json::to_string_pretty(&check(report, run.harness.map(|h| h.seed))).expect("JSON values serialize") + "\n"
    }
}
use crate::checks::{CheckReport, Finding, Outcome};
use crate::pred::Event;

/// One finding: code, name, severity, message, span, and the fixed text if any.
pub fn finding(f: &Finding, source: &str) -> Value {
    let mut v = json!({
        "code": f.rule.code,
        "name": f.rule.name,
        "severity": f.rule.severity,
        "message": f.message,
        "span": [f.span.start, f.span.end],
    });
    if let Some(fix) = &f.fix {
        v["fix"] = json!(fix.apply(source));
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
    json!({
        "input": a.text,
        "logic": a.logic(),
        "findings": a.findings.iter().map(|f| finding(f, &a.text)).collect::<Vec<_>>(),
        "witnesses": {"true": when_true, "false": when_false},
    })
}

/// A finding of `check`: `line`/`column` are where its exclusion starts (`anchor`; for
/// a rule-level finding, the finding itself), `span` the bytes inside the exclusion, and
/// `finding_line`/`finding_column` where the finding itself starts.
fn placed(f: &Finding, source: &str, place: &Place, anchor: Option<(usize, usize)>) -> Value {
    let mut v = finding(f, source);
    v["fingerprint"] = json!(f.fingerprint);
    if f.baseline {
        v["baseline"] = json!(true);
    }
    let (line, column) = anchor.unwrap_or((place.line, place.column));
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

/// The `fpx check --format json` document (shape in DESIGN.md; `seed` is the harness
/// seed, null while the harness is not part of the run).
pub fn check(report: &CheckReport, seed: Option<u64>) -> Value {
    let mut results = Vec::new();
    let mut counts = Counts::default();
    let mut scenarios = 0;
    for rule in &report.rules {
        if !rule.findings.is_empty() || rule.scenarios.is_empty() {
            let findings: Vec<Value> = rule
                .findings
                .iter()
                .map(|f| {
                    counts.add(f);
                    placed(f, &rule.rule.source, &in_rule(rule, f), None)
                })
                .collect();
            results.push(json!({
                "rule_id": rule.rule.id,
                "rule_name": rule.rule.name,
                "file": rule.rule.file.display().to_string(),
                "line": 1,
                "scenario": Value::Null,
                "exclusion": Value::Null,
                "verdict": Outcome::of(&rule.findings).as_str(),
                "findings": findings,
            }));
        }
        for s in &rule.scenarios {
            scenarios += 1;
            let findings: Vec<Value> = s
                .findings()
                .iter()
                .map(|f| {
                    counts.add(f);
                    placed(f, &s.exclusion, &in_scenario(s, f), Some((s.line, s.column)))
                })
                .collect();
            results.push(json!({
                "rule_id": rule.rule.id,
                "rule_name": rule.rule.name,
                "file": s.file.display().to_string(),
                "line": s.line,
                "column": s.column,
                "scenario": s.name,
                "exclusion": s.exclusion,
                "verdict": Outcome::of(s.findings()).as_str(),
                "findings": findings,
                "stats": s.stats.map(|st| json!({
                    "events": st.events,
                    "benign": {"suppressed": st.benign_suppressed, "total": st.benign},
                    "malicious": {"suppressed": st.malicious_suppressed, "total": st.malicious},
                    "alerts": {"suppressed": st.alerts_suppressed, "total": st.alerts},
                })),
            }));
        }
    }
    json!({
        "version": 1,
        "summary": {
            "rules": report.rules.len(),
            "scenarios": scenarios,
            "errors": counts.errors,
            "warnings": counts.warnings,
            "infos": counts.infos,
            "seed": seed,
        },
        "results": results,
    })
}
