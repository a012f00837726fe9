//! The text report: diagnostics, then one summary line.

use std::fmt::Write;

use tabled::settings::Style;
use tabled::{Table, Tabled};

use super::diagnostic::{Location, render, wrap};
use super::{Counts, Emitter, LintRecord, Run};

/// The text report (default format): tables, snippets, a summary line.
pub struct Text;

impl Emitter for Text {
    fn emit(&self, report: &CheckReport, run: &Run) -> String {
        check(report, run)
    }
}
use crate::checks::{
    CheckReport, Finding, Origin, Outcome, OutcomeCounts, RuleResult, ScenarioResult, SuppressionKind, describe_event,
};

/// Renders `fpx lint` results for a terminal or a log.
pub fn lint(records: &[LintRecord], color: bool, width: usize) -> String {
    let mut out = String::new();
    for record in records {
        let a = &record.analysis;
        let origin = format!("{}:{}", record.origin, record.line);
        let location = Location {
            origin: &record.origin,
            line: record.line,
            offset: 0,
            text: &a.text,
            at: None,
        };
        if a.findings.is_empty() {
            let _ = write!(out, "{origin}: no findings ({})", a.logic());
            if let Some(reason) = a.classification.as_ref().and_then(|c| c.unknown_reason) {
                let _ = write!(out, ": {reason}");
            }
            if let Some(c) = &a.classification {
                if let Some(e) = &c.when_true {
                    let _ = write!(out, "; suppresses {}", describe_event(e));
                }
                if let Some(e) = &c.when_false {
                    let _ = write!(out, "; keeps {}", describe_event(e));
                }
            }
            out.push('\n');
            continue;
        }
        for finding in &a.findings {
            out.push_str(&render(finding, &a.text, &location, color, width));
            out.push_str("\n\n");
        }
    }
    let counts = Counts::of(records);
    let parsed = records.iter().filter(|r| r.analysis.classification.is_some()).count();
    let _ = writeln!(
        out,
        "{} exclusion{} linted ({} parsed): {}",
        records.len(),
        plural(records.len()),
        parsed,
        counts.describe(),
    );
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[derive(Tabled)]
struct Row {
    #[tabled(rename = "#")]
    index: String,
    scenario: String,
    verdict: &'static str,
    codes: String,
    benign: String,
    malicious: String,
    #[tabled(rename = "sampled alerts")]
    alerts: String,
}

/// `a/b`, or `-` when nothing was generated.
fn ratio(part: usize, total: usize) -> String {
    if total == 0 {
        "-".into()
    } else {
        format!("{part}/{total}")
    }
}

/// A percentage, or `-` when nothing was generated.
fn rate(part: usize, total: usize) -> String {
    if total == 0 {
        "-".into()
    } else {
        format!("{:.0}%", 100.0 * part as f64 / total as f64)
    }
}

fn draw(out: &mut String, finding: &Finding, run: &Run) {
    let at = finding.anchor();
    let origin = at.file.display().to_string();
    // An exclusion not written verbatim in its file (an escaped YAML string) is drawn
    // alone: its `-->` line gives the finding's place in the file.
    let alone = at.snippet == at.subject && at.offset == 0;
    let location = Location {
        origin: &origin,
        line: at.first_line,
        offset: at.offset,
        text: &at.subject,
        at: alone.then_some((at.line, at.column)),
    };
    out.push_str(&render(finding, &at.snippet, &location, run.color, run.width));
    out.push_str("\n\n");
}

/// The most severe finding (the first of the highest severity).
fn worst<'a>(findings: impl Iterator<Item = &'a Finding>) -> Option<&'a Finding> {
    findings.fold(None, |best: Option<&Finding>, f| match best {
        Some(b) if b.severity >= f.severity => Some(b),
        _ => Some(f),
    })
}

/// Renders `fpx check` results, summary first: the totals and the gate, one line per
/// rule, then (unless `--quiet`) per rule its scenario table and its findings grouped
/// by scenario, and the totals again at the end for logs read from the bottom.
pub fn check(report: &CheckReport, run: &Run) -> String {
    let mut out = String::new();
    for error in &report.load_errors {
        let _ = writeln!(out, "input error: {error}");
    }
    if !report.load_errors.is_empty() {
        out.push('\n');
    }
    let mut counts = Counts::default();
    let mut outcomes = OutcomeCounts::default();
    for f in report.findings() {
        counts.add(f);
    }
    for s in report.rules.iter().flat_map(|r| &r.scenarios) {
        outcomes.add(Outcome::of(s.findings()));
    }
    let totals = format!(
        "{} rule{}, {} scenario{} ({}): {}",
        report.rules.len(),
        plural(report.rules.len()),
        outcomes.total(),
        plural(outcomes.total()),
        outcomes.describe(),
        counts.describe(),
    );
    let _ = writeln!(out, "fpx: {totals}");
    out.push_str(&gate(report, run));
    let _ = match run.harness {
        Some(h) => {
            let events: usize = report
                .rules
                .iter()
                .flat_map(|r| &r.scenarios)
                .filter_map(|s| s.stats)
                .map(|s| s.events)
                .sum();
            writeln!(
                out,
                "harness: seed {} (replay with --seed {}), {} cases per property, {events} events generated",
                h.seed, h.seed, h.cases
            )
        }
        None => writeln!(out, "harness: off (--cases 0)"),
    };
    if !report.skipped.is_empty() {
        let n = report.skipped.len();
        let shown: Vec<String> = report.skipped.iter().take(3).map(|p| p.display().to_string()).collect();
        let _ = writeln!(
            out,
            "skipped: {n} file{} neither rule, scenario nor seed ({}{})",
            plural(n),
            shown.join(", "),
            if n > 3 { ", ..." } else { "" }
        );
    }
    out.push('\n');
    // One line per rule (and per scenario file without its rule), in aligned columns.
    let mut lines: Vec<[String; 4]> = Vec::new();
    for orphan in &report.orphans {
        lines.push([
            Outcome::Fail.as_str().into(),
            orphan.file.display().to_string(),
            format!("scenarios for rule id {}", orphan.rule_id),
            format!("{} {}", orphan.finding.kind.code, orphan.finding.kind.name),
        ]);
    }
    for rule in &report.rules {
        let findings = || rule.all_findings();
        let mut rule_counts = Counts::default();
        findings().for_each(|f| rule_counts.add(f));
        let mut scenario_outcomes = OutcomeCounts::default();
        rule.scenarios
            .iter()
            .for_each(|s| scenario_outcomes.add(Outcome::of(s.findings())));
        lines.push([
            Outcome::of_all(findings()).as_str().into(),
            rule.rule.file.display().to_string(),
            format!(
                "{} scenario{} ({}){}, {}",
                rule.scenarios.len(),
                plural(rule.scenarios.len()),
                scenario_outcomes.describe(),
                match rule.inline.len() {
                    0 => String::new(),
                    n => format!(" + {n} inline exclusion{}", plural(n)),
                },
                rule_counts.describe()
            ),
            worst(findings())
                .map(|f| format!("worst: {} {}", f.kind.code, f.kind.name))
                .unwrap_or_default(),
        ]);
    }
    let widths: Vec<usize> = (0..3)
        .map(|i| lines.iter().map(|l| l[i].chars().count()).max().unwrap_or(0))
        .collect();
    for [verdict, file, what, worst] in &lines {
        let line = format!(
            "  {verdict:<w0$}  {file:<w1$}  {what:<w2$}  {worst}",
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    if run.quiet {
        return out;
    }
    out.push('\n');
    for orphan in &report.orphans {
        draw(&mut out, &orphan.finding, run);
    }
    // Each rule's details are drawn on their own (a corpus's report is mostly these, and
    // drawing a diagnostic is the costly part), on every core, then joined in order.
    use rayon::prelude::*;
    let drawn: Vec<String> = report
        .rules
        .par_iter()
        .map(|rule| {
            let mut part = String::new();
            details(&mut part, rule, run);
            part
        })
        .collect();
    drawn.iter().for_each(|part| out.push_str(part));
    if !report.suppressed.is_empty() {
        let n = report.suppressed.len();
        let by = |kind: SuppressionKind| report.suppressed.iter().filter(|s| s.by.kind == kind).count();
        let _ = writeln!(
            out,
            "{n} finding{} suppressed ({} by scenario `ignore:` entries, {} by `fpx: ignore` comments); the JSON and SARIF reports list them with their reasons",
            plural(n),
            by(SuppressionKind::ScenarioIgnore),
            by(SuppressionKind::Comment),
        );
    }
    let _ = writeln!(out, "{totals}");
    out
}

/// Whether the gate passes, and with a baseline, new findings apart from known ones.
fn gate(report: &CheckReport, run: &Run) -> String {
    let failing = report.findings().filter(|f| run.fails(f)).count();
    let threshold = match run.fail_on {
        Some(s) => format!("at or above {s}"),
        None => "(--fail-on never)".into(),
    };
    let mut line = if !report.load_errors.is_empty() {
        format!(
            "gate: error: {} input error{} (exit 2)",
            report.load_errors.len(),
            plural(report.load_errors.len())
        )
    } else if run.writes_baseline {
        "gate: not applied: this run writes the baseline (--write-baseline)".to_string()
    } else if failing > 0 {
        format!("gate: fail: {failing} finding{} {threshold}", plural(failing))
    } else {
        format!("gate: pass: no finding {threshold}")
    };
    if run.baseline {
        let known = report.findings().filter(|f| f.baseline).count();
        let new = report.findings().count() - known;
        line.push_str(&format!(
            "; baseline: {new} new finding{}, {known} known (known findings do not fail the gate)",
            plural(new)
        ));
    }
    line + "\n"
}

/// One rule in detail: its scenario table, help said once, and its findings by scenario.
fn details(out: &mut String, rule: &RuleResult, run: &Run) {
    let table = rule.query.table.as_deref().unwrap_or("?");
    let _ = writeln!(out, "{} — {} ({table})", rule.rule.file.display(), rule.rule.name);
    if rule.exclusions().next().is_some() {
        let rows = labelled(rule).map(|(label, s)| {
            let mut codes: Vec<&str> = s.findings().iter().map(|f| f.kind.code.as_str()).collect();
            codes.dedup();
            let st = s.stats.unwrap_or_default();
            Row {
                index: label,
                scenario: match s.origin {
                    Origin::Scenario => truncate(&s.name, 50),
                    Origin::Inline => truncate(&format!("inline: {}", s.exclusion), 50),
                    Origin::MetaFilter | Origin::Exception | Origin::Filter => truncate(&s.name, 50),
                },
                verdict: Outcome::of(s.findings()).as_str(),
                codes: codes.join(" "),
                benign: ratio(st.benign_suppressed, st.benign),
                malicious: ratio(st.malicious_suppressed, st.malicious),
                alerts: rate(st.alerts_suppressed, st.alerts),
            }
        });
        let _ = writeln!(out, "{}", Table::new(rows).with(Style::sharp()));
        if rule.scenarios.iter().any(|s| s.stats.is_some()) {
            out.push_str(&wrap(
                "benign, malicious: generated events the exclusion suppressed; sampled alerts: share of a sample of events the rule matches that it suppresses (not your alert volume; FPX104 says when it mutes the rule)",
                run.width,
                "",
            ));
        }
    }
    out.push('\n');
    // Help that several findings of this rule share is shown with the first only.
    let mut said: Vec<String> = Vec::new();
    let mut once = |f: &Finding| -> Finding {
        let mut f = f.clone();
        if let Some(help) = &f.help {
            if said.contains(help) {
                f.help = None;
            } else {
                said.push(help.clone());
            }
        }
        f
    };
    for f in &rule.findings {
        draw(out, &once(f), run);
    }
    for (label, s) in labelled(rule) {
        if s.findings().is_empty() {
            continue;
        }
        let what = match s.origin {
            Origin::Scenario => format!("scenario {label}: {}", s.name),
            Origin::Inline => format!("{} in the rule: {}", s.name, s.exclusion),
            Origin::MetaFilter | Origin::Exception | Origin::Filter => format!("{} ({})", s.name, s.file.display()),
        };
        let _ = writeln!(out, "── {what} ({})\n", Outcome::of(s.findings()).as_str());
        for f in s.findings() {
            draw(out, &once(f), run);
        }
    }
}

/// The rule's exclusions with their labels: scenarios by number (`3`), then inline
/// exclusions and meta-filters (`i1`).
fn labelled(rule: &RuleResult) -> impl Iterator<Item = (String, &ScenarioResult)> {
    let scenarios = rule.scenarios.iter().enumerate().map(|(i, s)| ((i + 1).to_string(), s));
    let inline = rule.inline.iter().enumerate().map(|(i, s)| (format!("i{}", i + 1), s));
    scenarios.chain(inline)
}

fn truncate(s: &str, max: usize) -> String {
    let first_line = s.lines().next().unwrap_or("");
    if first_line.chars().count() <= max {
        return first_line.to_string();
    }
    format!("{}…", first_line.chars().take(max - 1).collect::<String>())
}
