//! `fpx diff` reports: text (summary first), JSON, and Markdown that fits a pull-request
//! comment.

use std::fmt::Write;

use serde_json::json;

use crate::checks::{Severity, describe_event};
use crate::diff::{Change, DiffReport, FindingChange, RuleDiff, ScenarioChange, ScenarioDiff, Witness};

/// What fails the diff gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffGate {
    /// Some event may stop alerting (narrowed, changed, removed, undecided).
    StopsAlerting,
    /// Some event may start alerting (broadened, changed, added, undecided).
    Broadened,
    /// A finding at error level that the old version did not have.
    NewFindings,
    Never,
}

impl DiffGate {
    pub fn as_str(self) -> &'static str {
        match self {
            DiffGate::StopsAlerting => "stops-alerting",
            DiffGate::Broadened => "broadened",
            DiffGate::NewFindings => "new-findings",
            DiffGate::Never => "never",
        }
    }

    /// The rules that fail the gate.
    pub fn failing(self, report: &DiffReport) -> Vec<&RuleDiff> {
        report
            .rules
            .iter()
            .filter(|r| match self {
                DiffGate::StopsAlerting => r.change.stops(),
                DiffGate::Broadened => r.change.starts(),
                DiffGate::NewFindings => r.new_findings.iter().any(|f| f.severity >= Severity::Error),
                DiffGate::Never => false,
            })
            .collect()
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn name_of(r: &RuleDiff) -> String {
    match (r.name.trim(), r.id.trim()) {
        ("", "") => "(unnamed rule)".into(),
        ("", id) => id.into(),
        (name, _) => name.into(),
    }
}

fn file_of(r: &RuleDiff) -> String {
    match (&r.old_file, &r.new_file) {
        (Some(o), Some(n)) if o != n => format!("{} → {}", o.display(), n.display()),
        (_, Some(f)) | (Some(f), None) => f.display().to_string(),
        (None, None) => String::new(),
    }
}

/// `3 rules changed (1 narrowed, 2 equivalent), 40 unchanged; 1 new error finding`.
fn summary(report: &DiffReport) -> String {
    let counts = report.counts();
    let unchanged = counts
        .iter()
        .find(|(c, _)| *c == Change::Unchanged)
        .map_or(0, |(_, n)| *n);
    let changed: Vec<String> = counts
        .iter()
        .filter(|(c, _)| *c != Change::Unchanged)
        .map(|(c, n)| format!("{n} {}", c.as_str()))
        .collect();
    let total: usize = counts
        .iter()
        .filter(|(c, _)| *c != Change::Unchanged)
        .map(|(_, n)| n)
        .sum();
    let mut out = if total == 0 {
        "no rule's alerts changed".to_string()
    } else {
        format!(
            "{} ({})",
            plural(total, "rule differs", "rules differ"),
            changed.join(", ")
        )
    };
    let _ = write!(out, ", {unchanged} unchanged");
    let new: usize = report.rules.iter().map(|r| r.new_findings.len()).sum();
    let gone: usize = report.rules.iter().map(|r| r.gone_findings.len()).sum();
    let errors = report.new_findings_at(Severity::Error);
    if new + gone > 0 {
        let errors = match errors {
            0 => String::new(),
            n => format!(" ({})", plural(n, "error", "errors")),
        };
        let _ = write!(
            out,
            "; {}{errors}, {gone} gone",
            plural(new, "new finding", "new findings")
        );
    }
    out
}

fn finding_line(f: &FindingChange) -> String {
    let place = match &f.exclusion {
        Some(e) => format!(" [{e}]"),
        None => String::new(),
    };
    format!(
        "{} {} {}{place} line {}: {}",
        f.severity, f.code, f.name, f.line, f.message
    )
}

/// `3 stop alerting (2 suppressed by filter_x), 1 starts alerting`.
fn events_line(e: &crate::diff::Replayed) -> String {
    let by = |counts: &[(String, usize)], what: &str| -> String {
        if counts.is_empty() {
            return String::new();
        }
        let parts: Vec<String> = counts.iter().map(|(name, n)| format!("{n} by {name}")).collect();
        format!(" ({what} {})", parts.join(", "))
    };
    format!(
        "{} stop alerting{}, {} start alerting{}",
        e.stop_alerting,
        by(&e.stopped_by, "suppressed"),
        e.start_alerting,
        by(&e.no_longer_suppressed_by, "no longer suppressed")
    )
}

fn gate_line(gate: DiffGate, failing: &[&RuleDiff]) -> String {
    match (gate, failing.len()) {
        (DiffGate::Never, _) => "gate: off (--fail-on never)".into(),
        (_, 0) => format!("gate: passed (--fail-on {})", gate.as_str()),
        (_, n) => format!(
            "gate: failed (--fail-on {}): {}",
            gate.as_str(),
            plural(n, "rule", "rules")
        ),
    }
}

/// The text report.
pub fn text(report: &DiffReport, gate: DiffGate) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "fpx diff: {}", summary(report));
    for e in &report.new_errors {
        let _ = writeln!(out, "error: {e}");
    }
    for e in &report.old_errors {
        let _ = writeln!(out, "note: the old version: {e}");
    }
    for r in report.rules.iter().filter(|r| r.interesting()) {
        let _ = writeln!(out, "\n{:<10} {}  {}", r.change.as_str(), name_of(r), file_of(r));
        if !r.exact && !matches!(r.change, Change::Added | Change::Removed | Change::Unchanged) {
            let _ = writeln!(
                out,
                "  (D is approximated in a version, see FPX401: compared as fpx reads it)"
            );
        }
        if let Some(note) = &r.note {
            let _ = writeln!(out, "  {note}");
        }
        let witness = |out: &mut String, what: &str, w: &Witness| {
            let _ = writeln!(out, "  {what}: {}\n    {}", describe_event(&w.event), w.cause);
        };
        if let Some(w) = &r.stops_alerting {
            witness(&mut out, "stops alerting", w);
        }
        if let Some(w) = &r.starts_alerting {
            witness(&mut out, "starts alerting", w);
        }
        if let Some(e) = &r.events {
            let _ = writeln!(out, "  events: {}", events_line(e));
        }
        for f in &r.new_findings {
            let _ = writeln!(out, "  + {}", finding_line(f));
        }
        for f in &r.gone_findings {
            let _ = writeln!(out, "  - {}", finding_line(f));
        }
        for s in r.scenarios.iter().filter(|s| s.change != ScenarioChange::Unchanged) {
            let _ = writeln!(out, "  scenario {:?}: {}", s.name, s.change.as_str());
            scenario_events(&mut out, s, "    ");
        }
    }
    let failing = gate.failing(report);
    let _ = writeln!(out, "\n{}", gate_line(gate, &failing));
    out
}

fn scenario_events(out: &mut String, s: &ScenarioDiff, indent: &str) {
    if let Some(e) = &s.suppresses_more {
        let _ = writeln!(out, "{indent}now suppresses: {}", describe_event(e));
    }
    if let Some(e) = &s.suppresses_less {
        let _ = writeln!(out, "{indent}no longer suppresses: {}", describe_event(e));
    }
    if let Some(note) = &s.note {
        let _ = writeln!(out, "{indent}{note}");
    }
}

/// The JSON report.
pub fn json(report: &DiffReport, gate: DiffGate) -> String {
    let failing = gate.failing(report);
    let counts: serde_json::Map<String, serde_json::Value> = report
        .counts()
        .into_iter()
        .map(|(c, n)| (c.as_str().to_string(), json!(n)))
        .collect();
    let value = json!({
        "fpx_version": env!("CARGO_PKG_VERSION"),
        "summary": {
            "rules": counts,
            "new_findings": report.rules.iter().map(|r| r.new_findings.len()).sum::<usize>(),
            "new_error_findings": report.new_findings_at(Severity::Error),
            "gone_findings": report.rules.iter().map(|r| r.gone_findings.len()).sum::<usize>(),
        },
        "gate": {
            "fail_on": gate.as_str(),
            "failed": !failing.is_empty(),
            "rules": failing.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        },
        "errors": report.new_errors,
        "old_errors": report.old_errors,
        "rules": report.rules,
    });
    let mut out = serde_json::to_string_pretty(&value).unwrap_or_default();
    out.push('\n');
    out
}

/// Text safe inside a Markdown table cell or inline code.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ").replace('`', "ˋ")
}

fn event_md(e: &crate::pred::Event) -> String {
    format!("`{}`", cell(&describe_event(e)))
}

/// Text on one line of a Markdown list (inline code in it kept).
fn line(s: &str) -> String {
    s.replace('\n', " ")
}

/// The Markdown report: a summary line, one table row per rule that differs, and the
/// details folded under it; at most `limit` characters (GitHub's comment limit), details
/// left out from the last rule up when they do not fit.
pub fn markdown(report: &DiffReport, gate: DiffGate, limit: usize) -> String {
    let failing = gate.failing(report);
    let mut head = String::new();
    let _ = writeln!(head, "### fpx diff\n\n{}\n", summary(report));
    for e in &report.new_errors {
        let _ = writeln!(head, "> **error**: {}\n", cell(e));
    }
    let shown: Vec<&RuleDiff> = report.rules.iter().filter(|r| r.interesting()).collect();
    let mut rows: Vec<String> = Vec::new();
    let mut details: Vec<String> = Vec::new();
    for r in &shown {
        let findings = match (r.new_findings.len(), r.gone_findings.len()) {
            (0, 0) => String::new(),
            (new, gone) => format!("+{new} / −{gone}"),
        };
        let mark = if failing.iter().any(|f| std::ptr::eq(*f, *r)) {
            " ❌"
        } else {
            ""
        };
        rows.push(format!(
            "| {} (`{}`) | {}{mark} | {findings} |\n",
            cell(&name_of(r)),
            cell(&file_of(r)),
            r.change.as_str()
        ));
        details.push(rule_details(r));
    }
    let tail = format!("\n{}\n", gate_line(gate, &failing));
    let mut out = head;
    // Rows first: every rule that differs is listed even when no detail fits.
    if !rows.is_empty() {
        out.push_str("| rule | change | findings |\n|---|---|---|\n");
    }
    let room = limit.saturating_sub(tail.len() + 400);
    let total = rows.len();
    for (i, row) in rows.into_iter().enumerate() {
        if out.len() + row.len() > room {
            let _ = writeln!(
                out,
                "\n*({} more differ than fit here: see `fpx diff --format text`)*",
                plural(total - i, "rule", "rules")
            );
            break;
        }
        out.push_str(&row);
    }
    let mut left_out = 0;
    for d in details {
        if out.len() + d.len() + tail.len() + 200 <= limit {
            out.push('\n');
            out.push_str(&d);
        } else {
            left_out += 1;
        }
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "\n*(details of {} left out to fit a comment: see `fpx diff --format text`)*",
            plural(left_out, "rule", "rules")
        );
    }
    out.push_str(&tail);
    out
}

fn rule_details(r: &RuleDiff) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<details><summary>{} — {}</summary>\n",
        cell(&name_of(r)),
        r.change.as_str()
    );
    if let Some(note) = &r.note {
        let _ = writeln!(out, "{}\n", line(note));
    }
    if !r.exact && !matches!(r.change, Change::Added | Change::Removed | Change::Unchanged) {
        let _ = writeln!(
            out,
            "*D is approximated in a version (FPX401): compared as fpx reads it.*\n"
        );
    }
    if let Some(w) = &r.stops_alerting {
        let _ = writeln!(out, "- **stops alerting**: {} — {}", event_md(&w.event), line(&w.cause));
    }
    if let Some(w) = &r.starts_alerting {
        let _ = writeln!(
            out,
            "- **starts alerting**: {} — {}",
            event_md(&w.event),
            line(&w.cause)
        );
    }
    if let Some(e) = &r.events {
        let _ = writeln!(out, "- **events replayed**: {}", line(&events_line(e)));
    }
    for f in &r.new_findings {
        let _ = writeln!(out, "- new: {}", line(&finding_line(f)));
    }
    for f in &r.gone_findings {
        let _ = writeln!(out, "- gone: {}", line(&finding_line(f)));
    }
    for s in r.scenarios.iter().filter(|s| s.change != ScenarioChange::Unchanged) {
        let _ = write!(out, "- scenario *{}*: {}", cell(&s.name), s.change.as_str());
        if let Some(e) = &s.suppresses_more {
            let _ = write!(out, "; now suppresses {}", event_md(e));
        }
        if let Some(e) = &s.suppresses_less {
            let _ = write!(out, "; no longer suppresses {}", event_md(e));
        }
        out.push('\n');
    }
    out.push_str("\n</details>\n");
    out
}
