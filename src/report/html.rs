//! The HTML report for rule reviews: one self-contained file (inline CSS, inline SVG, a
//! small inline script; nothing is fetched) that a reviewer opens from a CI artifact.
//! An overview (the gate, rules by verdict, findings by code as a chart, filters by
//! severity, code and rule), then per rule its detection printed as KQL and each
//! exclusion with its verdict, a chart of what it suppresses among the generated
//! events, its findings with proof events as tables, and fixes as diffs.

use std::collections::BTreeMap;
use std::fmt::Write;

use similar::{ChangeTag, TextDiff};

use super::{Counts, Emitter, Run};
use crate::checks::{
    CheckReport, Finding, Origin, Outcome, OutcomeCounts, RuleResult, ScenarioResult, Severity, fixed_text,
};
use crate::pred::Event;

/// `fpx check --format html`.
pub struct Html;

/// Text safe in HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { --fail: #c62828; --warn: #ef6c00; --info: #1565c0; --pass: #2e7d32; --inc: #6a1b9a;
        --kept: #cfd8dc; --ink: #1c2430; --muted: #5f6b7a; --line: #dde3ea; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { margin: 0 0 4px; font-size: 24px; } h2 { margin: 32px 0 8px; font-size: 19px; }
h3 { margin: 20px 0 6px; font-size: 15px; }
code, pre { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Consolas, monospace; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px;
      overflow-x: auto; white-space: pre-wrap; word-break: break-word; margin: 6px 0; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
.muted { color: var(--muted); }
.badge { display: inline-block; border-radius: 10px; padding: 0 8px; color: #fff; font-size: 12px; font-weight: 600; }
.fail, .error { background: var(--fail); } .warn, .warning { background: var(--warn); }
.pass { background: var(--pass); } .info { background: var(--info); } .inconclusive { background: var(--inc); }
.gate { font-weight: 600; }
.filters { display: flex; gap: 16px; flex-wrap: wrap; margin: 10px 0; padding: 8px 10px;
           background: #f6f8fa; border-radius: 6px; }
.filters label { color: var(--muted); } select { font: inherit; }
.rule { border-top: 2px solid var(--line); margin-top: 28px; }
.exclusion { border: 1px solid var(--line); border-radius: 8px; padding: 4px 14px 10px; margin: 14px 0; }
.finding { border-left: 4px solid var(--line); padding: 4px 10px; margin: 8px 0; }
.finding.sev-error { border-color: var(--fail); } .finding.sev-warning { border-color: var(--warn); }
.finding.sev-info { border-color: var(--info); }
.finding .where { color: var(--muted); font-size: 12.5px; }
.diff .add { color: #1a7f37; } .diff .del { color: #cf222e; }
.input-error { border-left: 4px solid var(--fail); background: #fff3f3; padding: 6px 10px; margin: 6px 0; }
svg text { font: 12px system-ui, sans-serif; fill: var(--ink); }
.hidden { display: none; }
"#;

/// Filters findings (and whole rules) by severity, code and rule, client-side.
const SCRIPT: &str = r#"
(function () {
  var rank = { info: 0, warning: 1, error: 2 };
  var sev = document.getElementById('f-severity'), code = document.getElementById('f-code'),
      rule = document.getElementById('f-rule');
  function apply() {
    var min = rank[sev.value] || 0;
    document.querySelectorAll('.finding').forEach(function (f) {
      var show = rank[f.dataset.severity] >= min && (!code.value || f.dataset.code === code.value);
      f.classList.toggle('hidden', !show);
    });
    document.querySelectorAll('.rule').forEach(function (r) {
      var any = r.querySelector('.finding:not(.hidden)') !== null;
      var filtering = sev.value !== 'info' || code.value;
      r.classList.toggle('hidden', (rule.value && r.dataset.rule !== rule.value) || (filtering && !any));
    });
  }
  [sev, code, rule].forEach(function (s) { s.addEventListener('change', apply); });
  apply();
})();
"#;

impl Emitter for Html {
    fn emit(&self, report: &CheckReport, run: &Run) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>fpx report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        );
        overview(&mut out, report, run);
        // What needs attention first: failing rules, then warnings, inconclusive, passes
        // (in input order within each).
        let mut rules: Vec<&RuleResult> = report.rules.iter().collect();
        rules.sort_by_key(|r| {
            let outcome = Outcome::of_all(r.all_findings());
            Outcome::ALL.iter().position(|o| *o == outcome).unwrap_or(usize::MAX)
        });
        for rule in rules {
            rule_section(&mut out, rule, report);
        }
        let _ = write!(out, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
        out
    }
}

fn badge(class: &str, text: &str) -> String {
    format!("<span class=\"badge {class}\">{}</span>", esc(text))
}

fn overview(out: &mut String, report: &CheckReport, run: &Run) {
    let mut counts = Counts::default();
    let mut by_code: BTreeMap<&str, (usize, Severity)> = BTreeMap::new();
    for f in report.findings() {
        counts.add(f);
        by_code.entry(f.kind.code.as_str()).or_insert((0, f.severity)).0 += 1;
    }
    let mut outcomes = OutcomeCounts::default();
    for s in report.rules.iter().flat_map(|r| &r.scenarios) {
        outcomes.add(Outcome::of(s.findings()));
    }
    let _ = writeln!(out, "<header>\n<h1>fpx report</h1>");
    let _ = writeln!(
        out,
        "<p>{} rules, {} scenarios ({}): {}{}</p>",
        report.rules.len(),
        outcomes.total(),
        esc(&outcomes.describe()),
        esc(&counts.describe()),
        run.harness
            .map(|h| format!(" · harness seed {}, {} cases per property", h.seed, h.cases))
            .unwrap_or_default()
    );
    let failing = report.findings().filter(|f| run.fails(f)).count();
    let gate = if !report.load_errors.is_empty() {
        badge("fail", "input errors")
    } else if failing > 0 {
        format!("{} {failing} findings fail the gate", badge("fail", "gate fails"))
    } else {
        badge("pass", "gate passes")
    };
    let _ = writeln!(out, "<p class=\"gate\">{gate}</p>\n</header>");
    for e in &report.load_errors {
        let _ = writeln!(
            out,
            "<div class=\"input-error\">input error: <code>{}</code></div>",
            esc(&e.to_string())
        );
    }

    let _ = writeln!(out, "<section id=\"overview\">\n<h2>Rules</h2>");
    let _ = writeln!(
        out,
        "<table class=\"rules\"><tr><th>verdict</th><th>rule</th><th>table</th><th>scenarios</th><th>errors</th><th>warnings</th><th>infos</th></tr>"
    );
    for rule in &report.rules {
        let findings = || rule.all_findings();
        let outcome = Outcome::of_all(findings());
        let mut c = Counts::default();
        findings().for_each(|f| c.add(f));
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td><a href=\"#{}\">{}</a><br><span class=\"muted\">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            badge(outcome.as_str(), outcome.as_str()),
            anchor_id(rule),
            esc(&rule.rule.name),
            esc(&rule.rule.file.display().to_string()),
            esc(rule.query.table.as_deref().unwrap_or("?")),
            rule.scenarios.len(),
            c.errors,
            c.warnings,
            c.infos
        );
    }
    out.push_str("</table>\n");
    for orphan in &report.orphans {
        finding_html(out, &orphan.finding, "");
    }
    let _ = writeln!(out, "<h2>Findings by code</h2>");
    code_chart(out, &by_code);
    // Filters.
    let _ = write!(
        out,
        "<div class=\"filters\"><label>severity <select id=\"f-severity\"><option value=\"info\">all</option>\
         <option value=\"warning\">warning and error</option><option value=\"error\">error</option></select></label>\
         <label>code <select id=\"f-code\"><option value=\"\">all</option>"
    );
    for code in by_code.keys() {
        let _ = write!(out, "<option>{code}</option>");
    }
    let _ = write!(
        out,
        "</select></label><label>rule <select id=\"f-rule\"><option value=\"\">all</option>"
    );
    for rule in &report.rules {
        let _ = write!(
            out,
            "<option value=\"{}\">{}</option>",
            anchor_id(rule),
            esc(&rule.rule.name)
        );
    }
    out.push_str("</select></label></div>\n</section>\n");
}

/// A stable element id for a rule (from its file path).
fn anchor_id(rule: &RuleResult) -> String {
    let path = rule.rule.file.display().to_string();
    let slug: String = path
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("rule-{slug}")
}

fn severity_color(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "#c62828",
        Severity::Warning => "#ef6c00",
        Severity::Info => "#1565c0",
    }
}

/// Horizontal bars: how many findings of each code.
fn code_chart(out: &mut String, by_code: &BTreeMap<&str, (usize, Severity)>) {
    if by_code.is_empty() {
        out.push_str("<p class=\"muted\">No findings.</p>\n");
        return;
    }
    let max = by_code.values().map(|(n, _)| *n).max().unwrap_or(1).max(1);
    let (row, label, width) = (22, 70, 520.0);
    let height = by_code.len() * row + 8;
    let _ = writeln!(
        out,
        "<svg class=\"chart\" id=\"codes-chart\" role=\"img\" aria-label=\"findings by code\" width=\"{}\" height=\"{height}\" viewBox=\"0 0 {} {height}\">",
        label + 600,
        label + 600
    );
    for (i, (code, (n, severity))) in by_code.iter().enumerate() {
        let y = i * row + 4;
        let w = (*n as f64 / max as f64 * width).max(2.0);
        let _ = writeln!(
            out,
            "<text x=\"0\" y=\"{}\">{code}</text><rect x=\"{label}\" y=\"{y}\" width=\"{w:.1}\" height=\"16\" rx=\"2\" fill=\"{}\"><title>{code}: {n}</title></rect><text x=\"{:.1}\" y=\"{}\">{n}</text>",
            y + 13,
            severity_color(*severity),
            label as f64 + w + 6.0,
            y + 13
        );
    }
    out.push_str("</svg>\n");
}

fn rule_section(out: &mut String, rule: &RuleResult, report: &CheckReport) {
    let _ = writeln!(
        out,
        "<section class=\"rule\" id=\"{id}\" data-rule=\"{id}\">\n<h2>{}</h2>\n<p class=\"muted\"><code>{}</code> · table <code>{}</code></p>",
        esc(&rule.rule.name),
        esc(&rule.rule.file.display().to_string()),
        esc(rule.query.table.as_deref().unwrap_or("?")),
        id = anchor_id(rule),
    );
    let _ = writeln!(out, "<h3>Detection</h3>");
    match &rule.query.detection {
        Some(d) => {
            let exact = if rule.query.exact() {
                ""
            } else {
                " <span class=\"muted\">(approximated: see FPX401)</span>"
            };
            // D as read, only its constants folded (a time window read as `true`), not
            // simplified: a simplification drops a filter that never applies, and the
            // reader is looking for exactly that filter.
            let shown = crate::expr::print(&folded(d));
            let _ = writeln!(out, "<pre class=\"kql\">{}</pre>{exact}", esc(&shown));
        }
        None => {
            let _ = writeln!(
                out,
                "<p class=\"muted\">fpx could not read the rule's detection (see FPX401).</p>"
            );
        }
    }
    for f in &rule.findings {
        finding_html(out, f, "");
    }
    let sigma = rule.rule.format == crate::corpus::RuleFormat::Sigma;
    for (i, s) in rule.exclusions().enumerate() {
        scenario_html(out, i, s, sigma);
    }
    suppressed_html(out, report, rule);
    out.push_str("</section>\n");
}

/// `p` with `true` and `false` folded away (`true and x` is `x`).
fn folded(p: &crate::pred::Pred) -> crate::pred::Pred {
    use crate::pred::Pred;
    match p {
        Pred::Not(q) => match folded(q) {
            Pred::True => Pred::False,
            Pred::False => Pred::True,
            q => Pred::Not(Box::new(q)),
        },
        Pred::And(ps) | Pred::Or(ps) => {
            let and = matches!(p, Pred::And(_));
            let (unit, zero) = if and {
                (Pred::True, Pred::False)
            } else {
                (Pred::False, Pred::True)
            };
            let mut kept = Vec::new();
            for q in ps.iter().map(folded) {
                if q == zero {
                    return zero;
                }
                if q != unit {
                    kept.push(q);
                }
            }
            match kept.len() {
                0 => unit,
                1 => kept.pop().expect("one"),
                _ if and => Pred::And(kept),
                _ => Pred::Or(kept),
            }
        }
        other => other.clone(),
    }
}

/// The rule's findings the user silenced (scenario `ignore:` entries, `fpx: ignore`
/// comments), folded, each with its reason: silenced is not gone.
fn suppressed_html(out: &mut String, report: &CheckReport, rule: &RuleResult) {
    let silenced: Vec<&crate::checks::Suppressed> = report
        .suppressed
        .iter()
        .filter(|s| s.owner.rule == rule.rule.id)
        .collect();
    if silenced.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<details class=\"suppressed\"><summary>{} suppressed finding{}</summary>",
        silenced.len(),
        if silenced.len() == 1 { "" } else { "s" }
    );
    for s in silenced {
        let _ = writeln!(
            out,
            "<p><strong>{}</strong> <code>{}</code>{}: {} <span class=\"muted\">(suppressed by {}: {})</span></p>",
            s.finding.kind.code,
            s.finding.kind.name,
            s.owner
                .scenario
                .as_deref()
                .map(|n| format!(" [{}]", esc(n)))
                .unwrap_or_default(),
            prose(&s.finding.message),
            match s.by.kind {
                crate::checks::SuppressionKind::ScenarioIgnore => "the scenario's <code>ignore:</code>",
                crate::checks::SuppressionKind::Comment => "an <code>fpx: ignore</code> comment",
            },
            prose(&s.by.reason),
        );
    }
    out.push_str("</details>\n");
}

/// Escaped text with its `backticked` parts as inline code (messages quote the query
/// that way).
fn prose(s: &str) -> String {
    let escaped = esc(s);
    let parts: Vec<&str> = escaped.split('`').collect();
    // An odd backtick (an unclosed quote) is left as it is.
    if parts.len().is_multiple_of(2) {
        return escaped;
    }
    let mut out = String::with_capacity(escaped.len() + 16);
    for (i, part) in parts.iter().enumerate() {
        match i % 2 {
            1 => {
                let _ = write!(out, "<code>{part}</code>");
            }
            _ => out.push_str(part),
        }
    }
    out
}

/// `sigma`: the rule is a Sigma rule, whose inline exclusions are filters written as
/// what they suppress (a KQL inline exclusion is written as what the rule keeps).
fn scenario_html(out: &mut String, i: usize, s: &ScenarioResult, sigma: bool) {
    let outcome = Outcome::of(s.findings());
    let _ = writeln!(
        out,
        "<article class=\"exclusion\">\n<h3>{}. {} {}</h3>\n<p class=\"where muted\"><code>{}:{}:{}</code> · {}</p>\n<pre class=\"kql\">{}</pre>",
        i + 1,
        esc(&s.name),
        badge(outcome.as_str(), outcome.as_str()),
        esc(&s.file.display().to_string()),
        s.line,
        s.column,
        match s.origin {
            Origin::Scenario => "from a scenario",
            Origin::Inline if sigma => "a filter in the rule's detection (the events it suppresses)",
            Origin::Inline => "inline in the rule's query (the events it keeps; it suppresses the rest)",
            Origin::MetaFilter => "a Sigma meta-filter that names this rule (what it suppresses)",
            Origin::Exception => "an item of an Elastic exception list attached to this rule (what it suppresses)",
            Origin::Filter => "a negated filter of this rule (what it suppresses)",
        },
        esc(&s.exclusion)
    );
    if let Some(st) = s.stats {
        out.push_str(
            "<p class=\"muted\">Generated events it suppresses (coloured) and keeps (grey). Sampled alerts: a sample of \
             events the rule matches, not your alert volume.</p>\n",
        );
        suppression_chart(
            out,
            &[
                ("benign", st.benign_suppressed, st.benign),
                ("malicious", st.malicious_suppressed, st.malicious),
                ("sampled alerts", st.alerts_suppressed, st.alerts),
            ],
        );
    }
    for f in s.findings() {
        finding_html(out, f, &s.exclusion);
    }
    if let Some((fixed, safe)) = fixed_text(&s.exclusion, s.findings(), true) {
        let kind = if safe {
            "safe fix"
        } else {
            "fix that changes what is suppressed (fpx fix --unsafe)"
        };
        let _ = write!(out, "<p><strong>{kind}</strong></p><pre class=\"diff\">");
        let (old, new) = (format!("{}\n", s.exclusion), format!("{fixed}\n"));
        let diff = TextDiff::from_lines(&old, &new);
        for change in diff.iter_all_changes() {
            let (class, sign) = match change.tag() {
                ChangeTag::Delete => ("del", "-"),
                ChangeTag::Insert => ("add", "+"),
                ChangeTag::Equal => ("", " "),
            };
            let _ = write!(out, "<span class=\"{class}\">{sign} {}</span>", esc(change.value()));
        }
        out.push_str("</pre>\n");
    }
    out.push_str("</article>\n");
}

/// Stacked bars: of the generated events of each kind, how many the exclusion
/// suppressed (coloured) and how many it kept (grey).
fn suppression_chart(out: &mut String, rows: &[(&str, usize, usize)]) {
    let (row, label, width) = (24, 110, 360.0);
    let height = rows.len() * row + 6;
    let _ = writeln!(
        out,
        "<svg class=\"bars\" role=\"img\" aria-label=\"what the exclusion suppresses\" width=\"{}\" height=\"{height}\" viewBox=\"0 0 {} {height}\">",
        label + 520,
        label + 520
    );
    for (i, (name, suppressed, total)) in rows.iter().enumerate() {
        let y = i * row + 3;
        let _ = write!(out, "<text x=\"0\" y=\"{}\">{name}</text>", y + 13);
        if *total == 0 {
            let _ = write!(
                out,
                "<text x=\"{label}\" y=\"{}\" class=\"muted\">none generated</text>",
                y + 13
            );
            continue;
        }
        let share = *suppressed as f64 / *total as f64;
        let color = match *name {
            "benign" => "#2e7d32",
            "malicious" => "#c62828",
            _ => "#ef6c00",
        };
        let on = share * width;
        let _ = write!(
            out,
            "<rect x=\"{label}\" y=\"{y}\" width=\"{on:.1}\" height=\"16\" fill=\"{color}\"><title>{name}: {suppressed} of {total} suppressed</title></rect>\
             <rect x=\"{:.1}\" y=\"{y}\" width=\"{:.1}\" height=\"16\" fill=\"#cfd8dc\"><title>{name}: {} of {total} kept</title></rect>\
             <text x=\"{:.1}\" y=\"{}\">{suppressed}/{total} suppressed</text>",
            label as f64 + on,
            width - on,
            total - suppressed,
            label as f64 + width + 8.0,
            y + 13
        );
    }
    out.push_str("</svg>\n");
}

fn finding_html(out: &mut String, f: &Finding, exclusion: &str) {
    let at = f.anchor();
    let _ = write!(
        out,
        "<div class=\"finding sev-{sev}\" data-severity=\"{sev}\" data-code=\"{code}\">\
         <p>{} <strong>{code}</strong> <code>{}</code>{}: {}</p>\
         <p class=\"where\"><code>{}:{}:{}</code></p>",
        badge(&f.severity.to_string(), &f.severity.to_string()),
        f.kind.name,
        if f.baseline {
            " <span class=\"muted\">(in the baseline)</span>"
        } else {
            ""
        },
        prose(&f.message),
        esc(&at.file.display().to_string()),
        at.line,
        at.column,
        sev = f.severity,
        code = f.kind.code,
    );
    if let Some(help) = &f.help {
        let _ = write!(out, "<p class=\"muted\">{}</p>", prose(help));
    }
    if let Some(fix) = &f.fix
        && !exclusion.is_empty()
    {
        let _ = write!(out, "<p>fix: <code>{}</code></p>", esc(&fix.apply(exclusion)));
    }
    if let Some(w) = &f.witness {
        out.push_str("<p class=\"muted\">proof event:</p>");
        event_table(out, w);
    }
    out.push_str("</div>\n");
}

fn event_table(out: &mut String, event: &Event) {
    out.push_str("<table class=\"event\"><tr><th>field</th><th>value</th></tr>");
    for (k, v) in event {
        let value = if v.is_empty() {
            "<span class=\"muted\">(empty)</span>".to_string()
        } else {
            format!("<code>{}</code>", esc(v))
        };
        let _ = write!(out, "<tr><td><code>{}</code></td><td>{value}</td></tr>", esc(k));
    }
    out.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
