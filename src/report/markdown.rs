//! A review report to paste into a pull request: a summary table per rule, then each
//! scenario that does not pass, with its exclusion, findings, proof events, and the fix
//! as a diff.

use std::fmt::Write;

use similar::TextDiff;

use super::{Counts, Emitter, Run};
use crate::checks::{CheckReport, Finding, Outcome, OutcomeCounts, fixed_text};
use crate::pred::Event;

/// `fpx check --format markdown`.
pub struct Markdown;

/// Text safe inside a table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn mark(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "✅ pass",
        Outcome::Warn => "⚠️ warn",
        Outcome::Inconclusive => "❔ inconclusive",
        Outcome::Fail => "❌ fail",
    }
}

fn event_table(out: &mut String, event: &Event, indent: &str) {
    let _ = writeln!(out, "{indent}| field | value |\n{indent}|---|---|");
    for (k, v) in event {
        let value = if v.is_empty() {
            "*(empty)*".to_string()
        } else {
            format!("`{}`", cell(v).replace('`', "ˋ"))
        };
        let _ = writeln!(out, "{indent}| `{}` | {value} |", cell(k));
    }
}

fn finding(out: &mut String, f: &Finding) {
    let baseline = if f.baseline { " *(in the baseline)*" } else { "" };
    let _ = writeln!(
        out,
        "- **{} {}** `{}`{baseline}: {}",
        f.rule.severity,
        f.rule.code,
        f.rule.name,
        cell(&f.message)
    );
    if let Some(help) = &f.help {
        let _ = writeln!(out, "  - {}", cell(help));
    }
    if let Some(w) = &f.witness {
        let _ = writeln!(out, "  - proof:\n");
        event_table(out, w, "    ");
        out.push('\n');
    }
}

impl Emitter for Markdown {
    fn emit(&self, report: &CheckReport, run: &Run) -> String {
        let mut out = String::from("# fpx report\n\n");
        let mut counts = Counts::default();
        let mut outcomes = OutcomeCounts::default();
        for f in report.findings() {
            counts.add(f);
        }
        for s in report.rules.iter().flat_map(|r| &r.scenarios) {
            outcomes.add(Outcome::of(s.findings()));
        }
        let scenarios = outcomes.total();
        let _ = writeln!(
            out,
            "**{} rule{}, {scenarios} scenario{}**: {} · {} errors, {} warnings, {} infos{}\n",
            report.rules.len(),
            if report.rules.len() == 1 { "" } else { "s" },
            if scenarios == 1 { "" } else { "s" },
            outcomes.describe(),
            counts.errors,
            counts.warnings,
            counts.infos,
            run.harness
                .map(|h| format!(" · harness seed {}, {} cases", h.seed, h.cases))
                .unwrap_or_default(),
        );
        for error in &report.load_errors {
            let _ = writeln!(out, "> **input error**: {}\n", cell(&error.to_string()));
        }
        if !report.orphans.is_empty() {
            let _ = writeln!(out, "## Scenario files without their rule\n");
            for orphan in &report.orphans {
                let at = orphan.finding.anchor();
                let _ = writeln!(out, "`{}:{}:{}`\n", at.file.display(), at.line, at.column);
                finding(&mut out, &orphan.finding);
            }
            out.push('\n');
        }
        for rule in &report.rules {
            let _ = writeln!(out, "## {}\n", cell(&rule.rule.name));
            let table = rule.query.table.as_deref().unwrap_or("unknown table");
            let _ = writeln!(out, "`{}` · table `{table}`\n", rule.rule.file.display());
            for f in &rule.findings {
                finding(&mut out, f);
            }
            if !rule.findings.is_empty() {
                out.push('\n');
            }
            if rule.scenarios.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "| # | scenario | verdict | findings | benign suppressed | malicious suppressed |\n|---|---|---|---|---|---|"
            );
            for (i, s) in rule.scenarios.iter().enumerate() {
                let mut codes: Vec<&str> = s.findings().iter().map(|f| f.rule.code.as_str()).collect();
                codes.dedup();
                let st = s.stats.unwrap_or_default();
                let ratio = |a: usize, b: usize| if b == 0 { "-".to_string() } else { format!("{a}/{b}") };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    i + 1,
                    cell(&s.name),
                    mark(Outcome::of(s.findings())),
                    codes.join(" "),
                    ratio(st.benign_suppressed, st.benign),
                    ratio(st.malicious_suppressed, st.malicious),
                );
            }
            out.push('\n');
            for (i, s) in rule.scenarios.iter().enumerate() {
                let outcome = Outcome::of(s.findings());
                if outcome == Outcome::Pass {
                    continue;
                }
                let _ = writeln!(out, "### {}. {} — {}\n", i + 1, cell(&s.name), mark(outcome));
                let _ = writeln!(out, "`{}:{}:{}`\n", s.file.display(), s.line, s.column);
                let _ = writeln!(out, "```kql\n{}\n```\n", s.exclusion);
                for f in s.findings() {
                    finding(&mut out, f);
                }
                if let Some((fixed, safe)) = fixed_text(&s.exclusion, s.findings(), true) {
                    let kind = if safe {
                        "safe"
                    } else {
                        "changes what is suppressed: `fpx fix --unsafe`"
                    };
                    let diff = TextDiff::from_lines(&format!("{}\n", s.exclusion), &format!("{fixed}\n"))
                        .unified_diff()
                        .context_radius(0)
                        .to_string();
                    let body: String = diff
                        .lines()
                        .filter(|l| !l.starts_with("@@"))
                        .map(|l| format!("{l}\n"))
                        .collect();
                    let _ = writeln!(out, "\n**Fix** ({kind}):\n\n```diff\n{body}```");
                }
                for (code, reason, n) in &s.suppressed {
                    let _ = writeln!(out, "\n*{n} × {code} silenced: {}*", cell(reason));
                }
                out.push('\n');
            }
        }
        out
    }
}
