//! SARIF 2.1.0, as GitHub code scanning accepts it: every finding code as a rule with
//! its documentation as help, every finding as a result at the line and column of its
//! file, with a fingerprint that survives unrelated edits.

use serde_json::{Value, json};

use super::place::{Place, in_rule, in_scenario};
use super::{Emitter, Run};
use crate::checks::{CheckReport, Finding, RULES, Severity, describe_event};

/// `fpx check --format sarif`.
pub struct Sarif;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A path as a repository-relative URI: forward slashes, no leading `./`.
pub fn uri(path: &std::path::Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut rest = text.as_str();
    while let Some(stripped) = rest.strip_prefix("./") {
        rest = stripped;
    }
    rest.to_string()
}

/// The first paragraph of a section of a rule's documentation.
fn section(doc: &str, heading: &str) -> String {
    doc.split(heading)
        .nth(1)
        .map(|s| s.trim_start().split("\n\n").next().unwrap_or("").replace('\n', " "))
        .unwrap_or_default()
}

fn rule_descriptor(rule: &crate::checks::Rule) -> Value {
    let doc = rule.doc();
    json!({
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": section(&doc, "## What it catches")},
        "help": {"text": doc, "markdown": doc},
        "defaultConfiguration": {"level": level(rule.severity)},
        "properties": {"tags": ["detection-engineering", "false-positive-exclusion"]},
    })
}

fn result(f: &Finding, place: &Place, run: &Run) -> Value {
    let index = f.rule.code as usize;
    let mut text = f.message.clone();
    if let Some(help) = &f.help {
        text.push_str(&format!(". {help}"));
    }
    if let Some(w) = &f.witness {
        text.push_str(&format!(". Proof: {}", describe_event(w)));
    }
    let width = place
        .source
        .get(f.span.start + place.offset..f.span.end + place.offset)
        .map_or(1, |s| s.chars().count());
    let mut v = json!({
        "ruleId": f.rule.code,
        "ruleIndex": index,
        "level": level(f.rule.severity),
        "message": {"text": text},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": uri(place.file)},
                "region": {
                    "startLine": place.line,
                    "startColumn": place.column,
                    "endLine": place.line,
                    "endColumn": place.column + width.max(1),
                },
            },
        }],
        "partialFingerprints": {"fpxFinding/v1": f.fingerprint},
    });
    if run.baseline {
        v["baselineState"] = json!(if f.baseline { "unchanged" } else { "new" });
    }
    v
}

impl Emitter for Sarif {
    fn emit(&self, report: &CheckReport, run: &Run) -> String {
        let mut results = Vec::new();
        for rule in &report.rules {
            for f in &rule.findings {
                results.push(result(f, &in_rule(rule, f), run));
            }
            for s in &rule.scenarios {
                for f in s.findings() {
                    results.push(result(f, &in_scenario(s, f), run));
                }
            }
        }
        let doc = json!({
            "$schema": SCHEMA,
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "fpx",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": RULES.iter().map(|r| rule_descriptor(r)).collect::<Vec<_>>(),
                }},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }],
        });
        serde_json::to_string_pretty(&doc).expect("JSON values serialize") + "\n"
    }
}
