//! JSON output. The shapes are the ones DESIGN.md documents; keys are stable.

use serde_json::{Value, json};

use super::LintRecord;
use crate::checks::Finding;
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
