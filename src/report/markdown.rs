//! A review report to paste into a pull request, within GitHub's comment limit whatever
//! the corpus size: the totals, a table of the rules (failing first), then the findings,
//! those that fail the gate and the most severe first (each scenario with its exclusion,
//! findings, proof events and the fix as a diff), until the budget or `--max-findings`;
//! then how many more the full report has.

use std::fmt::Write;

use similar::TextDiff;

use super::{Counts, Emitter, Run};
use crate::checks::{CheckReport, Finding, Origin, Outcome, OutcomeCounts, Severity, fixed_text};
use crate::pred::Event;

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
        f.severity,
        f.kind.code,
        f.kind.name,
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

/// GitHub's limit on a pull-request comment, in characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// Room kept for the closing "N more findings" note.
const TAIL_ROOM: usize = 600;

/// A part of the report that is shown whole or not at all: a scenario's exclusion with
/// its findings and fix, a rule's own findings, a scenario file without its rule.
struct Block {
    /// Sort key: blocks with a finding that fails the gate first, then by worst severity.
    rank: (bool, Severity),
    /// The heading and what the findings are about.
    head: String,
    /// Each finding, rendered.
    findings: Vec<String>,
    /// Statistics and the fix.
    tail: String,
}

impl Block {
    fn new(rank: (bool, Severity), head: String, findings: &[&Finding]) -> Block {
        Block {
            rank,
            head,
            findings: findings
                .iter()
                .map(|f| {
                    let mut text = String::new();
                    finding(&mut text, f);
                    text
                })
                .collect(),
            tail: "\n".into(),
        }
    }

    /// The block with at most `room` characters and `count` findings; how many it shows.
    fn fit(&self, room: usize, count: usize) -> (String, usize) {
        let whole = self.head.len() + self.findings.iter().map(String::len).sum::<usize>() + self.tail.len();
        if whole <= room && self.findings.len() <= count {
            return (
                format!("{}{}{}", self.head, self.findings.concat(), self.tail),
                self.findings.len(),
            );
        }
        let mut text = self.head.clone();
        let mut shown = 0;
        for f in &self.findings {
            if shown == count || text.len() + f.len() + 80 > room {
                break;
            }
            text.push_str(f);
            shown += 1;
        }
        if shown == 0 {
            return (String::new(), 0);
        }
        let _ = writeln!(text, "- *… and {} more here*\n", self.findings.len() - shown);
        (text, shown)
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
        summary_table(&mut out, report, self.budget / 3);
        let mut blocks = blocks(report, run);
        blocks.sort_by_key(|b| std::cmp::Reverse(b.rank));
        let total: usize = blocks.iter().map(|b| b.findings.len()).sum();
        let mut shown = 0;
        if !blocks.is_empty() {
            out.push_str("## Findings\n\n");
        }
        for block in blocks {
            let room = self.budget.saturating_sub(out.len() + TAIL_ROOM);
            let count = self.max_findings.map_or(usize::MAX, |max| max - shown);
            let (text, n) = block.fit(room, count);
            out.push_str(&text);
            shown += n;
            if n < block.findings.len() {
                break;
            }
        }
        if shown < total {
            let _ = writeln!(
                out,
                "**{} more finding{} in the full report**: `fpx check --format html --output fpx.html` (or `--format sarif`).",
                total - shown,
                if total - shown == 1 { "" } else { "s" }
            );
        }
        out
    }
}

/// `fpx check --format markdown`: a review comment that fits `budget` characters and
/// shows at most `max_findings` findings.
pub struct Markdown {
    pub budget: usize,
    pub max_findings: Option<usize>,
}

impl Default for Markdown {
    fn default() -> Markdown {
        Markdown {
            budget: GITHUB_COMMENT_LIMIT,
            max_findings: None,
        }
    }
}

/// One row per rule (failing first), within `room` characters.
fn summary_table(out: &mut String, report: &CheckReport, room: usize) {
    if report.rules.is_empty() {
        return;
    }
    let mut rows: Vec<(Outcome, String)> = report
        .rules
        .iter()
        .map(|rule| {
            let findings = || rule.all_findings();
            let outcome = Outcome::of_all(findings());
            let mut counts = Counts::default();
            findings().for_each(|f| counts.add(f));
            let mut codes: Vec<&str> = findings().map(|f| f.kind.code.as_str()).collect();
            codes.sort();
            codes.dedup();
            let row = format!(
                "| {} | `{}` | {} | {} | {} | {} | {} |\n",
                mark(outcome),
                cell(&rule.rule.file.display().to_string()),
                rule.scenarios.len(),
                counts.errors,
                counts.warnings,
                counts.infos,
                codes.join(" ")
            );
            (outcome, row)
        })
        .collect();
    rows.sort_by_key(|(o, _)| std::cmp::Reverse(*o as usize));
    let start = out.len();
    out.push_str("| verdict | rule | scenarios | errors | warnings | infos | codes |\n|---|---|---|---|---|---|---|\n");
    let mut left = rows.len();
    for (_, row) in &rows {
        if out.len() - start + row.len() > room {
            break;
        }
        out.push_str(row);
        left -= 1;
    }
    if left > 0 {
        let _ = writeln!(
            out,
            "\n*{left} more rule{} in the full report.*",
            if left == 1 { "" } else { "s" }
        );
    }
    out.push('\n');
}

/// Every part of the report with findings, rendered.
fn blocks(report: &CheckReport, run: &Run) -> Vec<Block> {
    let rank = |findings: &[&Finding]| {
        (
            findings.iter().any(|f| run.fails(f)),
            findings.iter().map(|f| f.severity).max().unwrap_or(Severity::Info),
        )
    };
    let mut blocks = Vec::new();
    for orphan in &report.orphans {
        let at = orphan.finding.anchor();
        let mut head = format!("### Scenario file without its rule — {}\n\n", mark(Outcome::Fail));
        let _ = writeln!(head, "`{}:{}:{}`\n", at.file.display(), at.line, at.column);
        let findings = [&orphan.finding];
        blocks.push(Block::new(rank(&findings), head, &findings));
    }
    for rule in &report.rules {
        if !rule.findings.is_empty() {
            let mut head = format!("### {} — the rule\n\n", cell(&rule.rule.name));
            let _ = writeln!(head, "`{}`\n", rule.rule.file.display());
            let findings: Vec<&Finding> = rule.findings.iter().collect();
            blocks.push(Block::new(rank(&findings), head, &findings));
        }
        for (i, s) in rule.exclusions().enumerate() {
            let outcome = Outcome::of(s.findings());
            if s.findings().is_empty() {
                continue;
            }
            let table = rule.query.table.as_deref().unwrap_or("unknown table");
            let title = match s.origin {
                Origin::Scenario => format!("{}. {}", i + 1, cell(&s.name)),
                Origin::Inline => format!("{} (in the query)", cell(&s.name)),
                Origin::MetaFilter | Origin::Exception | Origin::Filter => cell(&s.name),
            };
            let mut head = format!("### {} › {title} — {}\n\n", cell(&rule.rule.name), mark(outcome));
            let _ = writeln!(
                head,
                "`{}:{}:{}` · table `{table}`\n",
                s.file.display(),
                s.line,
                s.column
            );
            let _ = writeln!(head, "```kql\n{}\n```\n", s.exclusion);
            let findings: Vec<&Finding> = s.findings().iter().collect();
            let mut block = Block::new(rank(&findings), head, &findings);
            let text = &mut block.tail;
            if let Some(st) = s.stats {
                let ratio = |a: usize, b: usize| if b == 0 { "-".to_string() } else { format!("{a}/{b}") };
                let _ = writeln!(
                    text,
                    "\nSuppressed among generated events: benign {}, malicious {}, sampled alerts {}.",
                    ratio(st.benign_suppressed, st.benign),
                    ratio(st.malicious_suppressed, st.malicious),
                    ratio(st.alerts_suppressed, st.alerts)
                );
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
                let _ = writeln!(text, "\n**Fix** ({kind}):\n\n```diff\n{body}```");
            }
            for x in report.suppressed_of(&rule.rule.id, Some(&s.name)) {
                let _ = writeln!(text, "\n*{} silenced: {}*", x.finding.kind.code, cell(&x.by.reason));
            }
            text.push('\n');
            blocks.push(block);
        }
    }
    blocks
}
