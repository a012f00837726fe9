//! Baseline files: the fingerprints of known findings, with enough context for a
//! person to read them (code, rule, scenario, message). Sorted, so they diff well.

use std::collections::HashSet;
use std::path::Path;

use crate::checks::CheckReport;

/// The baseline file of every finding the report holds (suppressed ones are not
/// findings to baseline: they never fail the gate).
pub fn write(report: &CheckReport) -> String {
    let mut entries: Vec<serde_json::Value> = report
        .located()
        .into_iter()
        .map(|(owner, f)| {
            serde_json::json!({
                "fingerprint": f.fingerprint,
                "code": f.kind.code,
                "rule": owner.rule,
                "scenario": owner.scenario,
                "message": f.message,
            })
        })
        .collect();
    entries.sort_by(|a, b| a["fingerprint"].as_str().cmp(&b["fingerprint"].as_str()));
    serde_json::to_string_pretty(&serde_json::json!({"version": 1, "findings": entries}))
        .expect("JSON values serialize")
        + "\n"
}

/// The fingerprints a baseline file lists.
pub fn read(path: &Path) -> Result<HashSet<String>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("cannot read the baseline {}: {e}", path.display()))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a baseline file: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    let findings = doc["findings"]
        .as_array()
        .ok_or_else(|| format!("{}: not a baseline file: no `findings` list", path.display()))?;
    Ok(findings
        .iter()
        .filter_map(|f| f["fingerprint"].as_str().map(str::to_string))
        .collect())
}
