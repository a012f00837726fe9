//! SARIF 2.1.0, as GitHub code scanning accepts it: every finding code as a rule with
//! its documentation as help, every finding as a result at the line and column of its
//! file, with a fingerprint that survives unrelated edits.

use serde_json::{Value, json};

use super::{Emitter, Run};
use std::path::Path;

use crate::checks::{CODES, CheckReport, Finding, Severity, describe_event};
use crate::corpus::LoadError;

/// `fpx check --format sarif`, with paths relative to the repository root.
pub struct Sarif {
    /// The directory `%SRCROOT%` stands for (absolute).
    pub root: std::path::PathBuf,
}

impl Sarif {
    /// With `--root DIR`, or else the git root of the current directory, or else the
    /// current directory.
    pub fn new(root: Option<&Path>) -> Sarif {
        let cwd = std::env::current_dir().unwrap_or_default();
        let root = match root {
            Some(dir) => cwd.join(dir),
            None => cwd
                .ancestors()
                .find(|d| d.join(".git").exists())
                .unwrap_or(&cwd)
                .to_path_buf(),
        };
        Sarif {
            root: root.canonicalize().unwrap_or(root),
        }
    }

    /// The file's location: relative to `%SRCROOT%` when it is under the root, else an
    /// absolute `file://` URI.
    fn location(&self, file: &Path) -> Value {
        let absolute = std::env::current_dir().unwrap_or_default().join(file);
        let absolute = absolute.canonicalize().unwrap_or(absolute);
        match absolute.strip_prefix(&self.root) {
            Ok(relative) => json!({"uri": uri(relative), "uriBaseId": SRCROOT}),
            Err(_) => json!({"uri": file_uri(&absolute, false)}),
        }
    }
}

const SRCROOT: &str = "%SRCROOT%";

/// An absolute path as a `file://` URI (a directory's ends in `/`, as SARIF requires
/// for base URIs).
fn file_uri(path: &Path, directory: bool) -> String {
    let mut text = uri(path);
    if !text.starts_with('/') {
        text.insert(0, '/');
    }
    let encoded: String = text
        .chars()
        .map(|c| match c {
            ' ' => "%20".to_string(),
            '%' => "%25".to_string(),
            '#' => "%23".to_string(),
            '?' => "%3F".to_string(),
            c => c.to_string(),
        })
        .collect();
    let slash = if directory && !encoded.ends_with('/') { "/" } else { "" };
    format!("file://{encoded}{slash}")
}

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

fn rule_descriptor(rule: &crate::checks::CodeInfo) -> Value {
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

fn result(sarif: &Sarif, f: &Finding, run: &Run) -> Value {
    let place = f.anchor();
    let index = f.kind.code as usize;
    let mut text = f.message.clone();
    if let Some(help) = &f.help {
        text.push_str(&format!(". {help}"));
    }
    if let Some(w) = &f.witness {
        text.push_str(&format!(". Proof: {}", describe_event(w)));
    }
    let width = place
        .snippet
        .get(f.span.start + place.offset..f.span.end + place.offset)
        .map_or(1, |s| s.chars().count());
    let mut v = json!({
        "ruleId": f.kind.code,
        "ruleIndex": index,
        "level": level(f.severity),
        "message": {"text": text},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": sarif.location(&place.file),
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

impl Sarif {
    /// An input error as a tool execution notification, at its file (and line).
    fn notification(&self, error: &LoadError) -> Value {
        let mut location = json!({"physicalLocation": {"artifactLocation": self.location(&error.file)}});
        if let Some(p) = error.position {
            location["physicalLocation"]["region"] = json!({"startLine": p.line, "startColumn": p.column});
        }
        json!({
            "level": "error",
            "message": {"text": error.to_string()},
            "locations": [location],
        })
    }
}

impl Emitter for Sarif {
    fn emit(&self, report: &CheckReport, run: &Run) -> String {
        let mut results: Vec<Value> = report.findings().map(|f| result(self, f, run)).collect();
        // Suppressed findings stay in the log, marked as suppressed in source (code
        // scanning shows them as dismissed), with the reason as the justification.
        results.extend(report.suppressed.iter().map(|x| {
            let mut v = result(self, &x.finding, run);
            v["suppressions"] = json!([{"kind": "inSource", "justification": x.by.reason}]);
            v
        }));
        let doc = json!({
            "$schema": SCHEMA,
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "fpx",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": CODES.iter().map(|r| rule_descriptor(r)).collect::<Vec<_>>(),
                }},
                "originalUriBaseIds": {SRCROOT: {"uri": file_uri(&self.root, true)}},
                "invocations": [{
                    "executionSuccessful": report.load_errors.is_empty(),
                    "toolExecutionNotifications": report.load_errors.iter().map(|e| self.notification(e)).collect::<Vec<_>>(),
                }],
                "columnKind": "unicodeCodePoints",
                "results": results,
            }],
        });
        serde_json::to_string_pretty(&doc).expect("JSON values serialize") + "\n"
    }
}
