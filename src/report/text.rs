//! The text report: diagnostics, then one summary line.

use std::fmt::Write;

use tabled::settings::Style;
use tabled::{Table, Tabled};

use super::diagnostic::{Location, render};
use super::{Counts, Emitter, LintRecord, Run};

/// The text report (default format): tables, snippets, a summary line.
pub struct Text;

impl Emitter for Text {
    fn emit(&self, report: &CheckReport, run: &Run) -> String {
        check(report, run)
    }
}
use crate::checks::{CheckReport, Finding, Outcome, OutcomeCounts, describe_event};

/// Renders `fpx lint` results for a terminal or a log.
pub fn lint(records: &[LintRecord], color: bool) -> String {
    let mut out = String::new();
    for record in records {
        let a = &record.analysis;
        let origin = format!("{}:{}", record.origin, record.line);
        let location = Location {
            origin: &record.origin,
            line: record.line,
            offset: 0,
            text: &a.text,
        };
        if a.findings.is_empty() {
            let _ = write!(out, "{origin}: no findings ({})", a.logic());
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
            out.push_str(&render(finding, &a.text, &location, color));
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
    index: usize,
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

fn draw(out: &mut String, finding: &Finding, color: bool) {
    let at = finding.anchor();
    let origin = at.file.display().to_string();
    let location = Location {
        origin: &origin,
        line: at.first_line,
        offset: at.offset,
        text: &at.subject,
    };
    out.push_str(&render(finding, &at.snippet, &location, color));
    out.push_str("\n\n");
}

/// Renders `fpx check` results: per rule a summary table, then every finding.
pub fn check(report: &CheckReport, run: &Run) -> String {
    let (harness, color) = (run.harness, run.color);
    let mut out = String::new();
    for error in &report.load_errors {
        let _ = writeln!(out, "error: {error}\n");
    }
    let (mut scenarios, mut outcomes) = (0, OutcomeCounts::default());
    let mut counts = Counts::default();
    for orphan in &report.orphans {
        draw(&mut out, &orphan.finding, color);
        counts.add(&orphan.finding);
    }
    for rule in &report.rules {
        let table = rule.query.table.as_deref().unwrap_or("?");
        let _ = writeln!(out, "{} — {} ({table})", rule.rule.file.display(), rule.rule.name);
        if !rule.scenarios.is_empty() {
            let rows = rule.scenarios.iter().enumerate().map(|(i, s)| {
                let outcome = Outcome::of(s.findings());
                outcomes.add(outcome);
                let mut codes: Vec<&str> = s.findings().iter().map(|f| f.rule.code.as_str()).collect();
                codes.dedup();
                let st = s.stats.unwrap_or_default();
                Row {
                    index: i + 1,
                    scenario: truncate(&s.name, 50),
                    verdict: outcome.as_str(),
                    codes: codes.join(" "),
                    benign: ratio(st.benign_suppressed, st.benign),
                    malicious: ratio(st.malicious_suppressed, st.malicious),
                    alerts: rate(st.alerts_suppressed, st.alerts),
                }
            });
            let _ = writeln!(out, "{}", Table::new(rows).with(Style::sharp()));
            if rule.scenarios.iter().any(|s| s.stats.is_some()) {
                let _ = writeln!(
                    out,
                    "benign, malicious: generated events the exclusion suppressed; sampled alerts: share of a sample of events the rule matches that it suppresses (not your alert volume; FPX104 says when it mutes the rule)"
                );
            }
        }
        out.push('\n');
        for f in &rule.findings {
            draw(&mut out, f, color);
            counts.add(f);
        }
        for s in &rule.scenarios {
            scenarios += 1;
            for f in s.findings() {
                draw(&mut out, f, color);
                counts.add(f);
            }
        }
    }
    let suppressed: usize = report
        .rules
        .iter()
        .flat_map(|r| &r.scenarios)
        .flat_map(|s| &s.suppressed)
        .map(|x| x.2)
        .sum();
    let known = report.findings().filter(|f| f.baseline).count();
    if suppressed > 0 || known > 0 {
        let _ = writeln!(
            out,
            "{known} in the baseline (they do not fail the gate), {suppressed} silenced by scenario `ignore:` entries"
        );
    }
    let events: usize = report
        .rules
        .iter()
        .flat_map(|r| &r.scenarios)
        .filter_map(|s| s.stats)
        .map(|s| s.events)
        .sum();
    let _ = match harness {
        Some(h) => writeln!(
            out,
            "harness: seed {} (replay with --seed {}), {} cases per property, {events} events generated",
            h.seed, h.seed, h.cases
        ),
        None => writeln!(out, "harness: off (--cases 0)"),
    };
    let _ = writeln!(
        out,
        "{} rule{}, {} scenario{} ({}): {}",
        report.rules.len(),
        plural(report.rules.len()),
        scenarios,
        plural(scenarios),
        outcomes.describe(),
        counts.describe(),
    );
    out
}

fn truncate(s: &str, max: usize) -> String {
    let first_line = s.lines().next().unwrap_or("");
    if first_line.chars().count() <= max {
        return first_line.to_string();
    }
    format!("{}…", first_line.chars().take(max - 1).collect::<String>())
}
