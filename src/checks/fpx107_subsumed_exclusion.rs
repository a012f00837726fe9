//! FPX107 subsumed-exclusion (info)
//!
//! ## What it catches
//! An exclusion whose every suppressed event is already suppressed by another
//! scenario's exclusion of the same rule (on the rule's table). Two equivalent
//! exclusions are both reported, as duplicates of each other, so the order of the
//! scenarios does not decide which one is. Exclusions with an error of their own, or
//! that suppress everything or nothing, are left out on both sides: they are reported
//! as such, and "subsumed by a broken exclusion" would only echo that.
//!
//! ## Why it matters
//! The duplicate adds review and maintenance cost and nothing else; often one of the
//! two was meant to say something different.
//!
//! ## Example
//! ```text
//! table: DeviceProcessEvents
//! rule: FileName =~ "anydesk.exe"
//! exclusion: AccountName == "svc_it" and DeviceName == "IT-01"
//! other: AccountName == "svc_it"
//! ```
//!
//! ## Passes
//! ```text
//! table: DeviceProcessEvents
//! rule: FileName =~ "anydesk.exe"
//! exclusion: AccountName == "svc_it"
//! other: AccountName == "svc_helpdesk"
//! ```
//!
//! ## Fix
//! Drop this scenario's exclusion, or make it say what it was meant to. No automatic
//! fix.

use super::{Code, Finding, CodeInfo, ScenarioResult, Severity, whole_span};
use crate::expr::ParseOutcome;
use crate::logic::{Domains, Validity, Verdict, implies_in};
use crate::pred::Pred;

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx107,
    name: "subsumed-exclusion",
    severity: Severity::Info,
    summary: "another scenario's exclusion of the same rule already suppresses all this one does",
    source: include_str!("fpx107_subsumed_exclusion.rs"),
};

/// For each exclusion of a rule, the first other one that suppresses all it does.
/// `groups` says which exclusions are judged on the same events (an inline exclusion's
/// conjunction); only those are compared.
pub(super) fn findings(scenarios: &mut [ScenarioResult], groups: &[usize], domains: &Domains) {
    let usable = |s: &ScenarioResult| {
        let trivial = [Code::Fpx102, Code::Fpx105].into_iter().any(|c| s.result.has(c))
            || s.result
                .analysis
                .classification
                .as_ref()
                .is_none_or(|c| c.verdict != Verdict::Contingent);
        let broken = s.findings().iter().any(|f| f.kind.severity == Severity::Error);
        !trivial && !broken
    };
    let preds: Vec<Option<Pred>> = scenarios
        .iter()
        .map(|s| if usable(s) { s.result.on_table.clone() } else { None })
        .collect();
    for i in 0..scenarios.len() {
        let Some(mine) = &preds[i] else { continue };
        for (j, other) in preds.iter().enumerate() {
            let Some(other) = other else { continue };
            let apart = groups.get(i) != groups.get(j);
            if i == j || apart || implies_in(mine, other, domains) != Validity::Valid {
                continue;
            }
            let equivalent = implies_in(other, mine, domains) == Validity::Valid;
            let ParseOutcome::Parsed(parsed) = &scenarios[i].result.analysis.outcome else {
                continue;
            };
            let f = finding(&scenarios[i].exclusion, &parsed.pred, &scenarios[j].name, equivalent);
            scenarios[i].add(f);
            break;
        }
    }
}

fn finding(text: &str, pred: &Pred, other_name: &str, equivalent: bool) -> Finding {
    let mut f = Finding::new(
        &INFO,
        if equivalent {
            format!("a duplicate: suppresses exactly what scenario {other_name:?} suppresses")
        } else {
            format!("everything this suppresses is already suppressed by scenario {other_name:?}")
        },
        whole_span(text, pred),
        "adds nothing",
    );
    f.help = Some("drop it, or make it say what it was meant to".into());
    f
}
