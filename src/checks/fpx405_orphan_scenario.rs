//! FPX405 orphan-scenario (error)
//!
//! ## What it catches
//! A scenario file whose `rule:` names an id that no loaded rule has: a typo in the
//! id, a renamed rule, or a scenario file checked without its rule file. Likewise a
//! Sigma meta-filter none of whose `rules:` is loaded.
//!
//! ## Why it matters
//! Its exclusions are checked against no rule: nothing tells whether they mute the
//! rule, never apply, or name columns the rule's table lacks. A gate that passes then
//! has checked nothing.
//!
//! ## Example
//! ```text
//! --- rule.yaml
//! id: logmein-file-signature
//! name: LogMeIn file signature
//! query: |
//!   DeviceFileCertificateInfo | where Signer has "LogMeIn"
//! --- scenarios.yaml
//! rule: logmein-file-signatre
//! scenarios:
//!   - name: IT admin host
//!     exclusion: DeviceName startswith "it-admin-"
//! ```
//!
//! ## Passes
//! ```text
//! --- rule.yaml
//! id: logmein-file-signature
//! name: LogMeIn file signature
//! query: |
//!   DeviceFileCertificateInfo | where Signer has "LogMeIn"
//! --- scenarios.yaml
//! rule: logmein-file-signature
//! scenarios:
//!   - name: IT admin host
//!     exclusion: DeviceName startswith "it-admin-"
//! ```
//!
//! ## Fix
//! Correct the `rule:` id (the message suggests the nearest loaded id), or pass the
//! rule file to `fpx check` as well. No automatic fix.

use super::{Code, Finding, CodeInfo, Severity};
use crate::corpus::ScenarioFile;

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx405,
    name: "orphan-scenario",
    severity: Severity::Error,
    summary: "a scenario file names a rule id that no loaded rule has",
    source: include_str!("fpx405_orphan_scenario.rs"),
};

/// The finding for a Sigma meta-filter that names rules (`named`) none of which is
/// loaded; on its `rules:` line.
pub(super) fn meta_filter(named: &[String], ids: &[&str], line: usize, span: crate::pred::Span) -> Finding {
    let mut f = Finding::new(
        &INFO,
        format!(
            "no loaded rule is one this meta-filter names ({}): it is checked against no rule",
            named.join(", ")
        ),
        span,
        "no rule named here is loaded",
    );
    f.line = Some(line);
    f.help = Some(
        match named
            .iter()
            .find_map(|n| crate::schema::nearest_name(n, ids.iter().copied()))
        {
            Some(id) => format!("did you mean `{id}`?"),
            None => "pass the rule files it names too".into(),
        },
    );
    f
}

/// The finding for a scenario file whose rule is not among `ids`; its span indexes the
/// `rule:` line.
/// `ids`: the loaded rules' ids; `names`: each loaded rule's (name, id), for a `rule:`
/// that holds a rule's name instead of its id.
pub(super) fn finding(file: &ScenarioFile, ids: &[&str], names: &[(&str, &str)]) -> Option<Finding> {
    if ids.contains(&file.rule.as_str()) {
        return None;
    }
    let line = file.source.lines().nth(file.rule_line.saturating_sub(1)).unwrap_or("");
    let start = line.find(file.rule.as_str()).filter(|_| !file.rule.is_empty()).unwrap_or(0);
    let end = if file.rule.is_empty() { line.len() } else { start + file.rule.len() };
    let n = file.scenarios.len();
    let mut f = Finding::new(
        &INFO,
        format!(
            "no loaded rule has the id `{}`: the file's {n} scenario{} {} checked against no rule",
            file.rule,
            if n == 1 { "" } else { "s" },
            if n == 1 { "is" } else { "are" }
        ),
        start..end,
        "no rule has this id",
    );
    f.line = Some(file.rule_line.max(1));
    let named = names
        .iter()
        .find(|(name, _)| !name.is_empty() && name.trim().eq_ignore_ascii_case(file.rule.trim()));
    f.help = Some(match (named, crate::schema::nearest_name(&file.rule, ids.iter().copied())) {
        (Some((_, id)), _) => format!(
            "`{}` is the name of the loaded rule `{id}`; `rule:` takes the rule's id: `rule: {id}`",
            file.rule.trim()
        ),
        (None, Some(id)) => format!("did you mean `{id}`?"),
        (None, None) if ids.is_empty() => "no rule file was loaded: pass the rule file (or its directory) too".into(),
        (None, None) => {
            let shown: Vec<&str> = ids.iter().copied().take(5).collect();
            let more = if ids.len() > shown.len() { ", ..." } else { "" };
            format!("pass the rule file too; loaded ids: {}{more}", shown.join(", "))
        }
    });
    Some(f)
}
