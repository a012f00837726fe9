//! Checking a corpus: every rule (its file and query), and every scenario of it in
//! the rule's context, plus the comparison of a rule's exclusions with each other.

use std::path::PathBuf;

use super::analyze_outcome;
use super::context::{InContext, RuleContext, analyze_in_context, in_context, resolve_field};
use super::{
    Code, Finding, Severity, anchor, fpx107_subsumed_exclusion, fpx108_dead_rule, fpx301_suppresses_true_positive,
    fpx302_misses_benign, fpx303_not_a_false_positive, fpx305_harness_inconclusive, fpx401_unsupported_query,
    fpx402_malformed_rule_file, fpx403_invalid_query, fpx404_duplicate_rule_id, fpx405_orphan_scenario,
};
use crate::corpus::{Corpus, LoadError, MetaFilterFile, RuleDoc, RuleFormat, Scenario, ScenarioFile, Template};
use crate::expr::{ParseOutcome, ParsedExclusion};
use crate::harness::{self, Counterexample, Setup, Source};
use crate::kql::InlineExclusion;
use crate::kql::{RuleQuery, read_query};
use crate::pred::Event;
use crate::pred::Pred;
use crate::pred::Span;
use crate::schema::schema;

/// The result of `fpx check`.
#[derive(Debug)]
pub struct CheckReport {
    pub rules: Vec<RuleResult>,
    pub load_errors: Vec<LoadError>,
    /// FPX405 findings: scenario files whose `rule:` names no rule that was loaded.
    pub orphans: Vec<Orphan>,
}

/// A scenario file whose rule was not loaded, and its FPX405 finding.
#[derive(Debug)]
pub struct Orphan {
    pub file: PathBuf,
    /// The rule id the file names.
    pub rule_id: String,
    pub finding: Finding,
}

impl CheckReport {
    /// Every finding, the rules' own first, in report order.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.rules
            .iter()
            .flat_map(RuleResult::all_findings)
            .chain(self.orphans.iter().map(|o| &o.finding))
    }

    /// Every finding, mutably (to mark baseline membership, to filter codes).
    pub fn findings_mut(&mut self) -> impl Iterator<Item = &mut Finding> {
        self.rules
            .iter_mut()
            .flat_map(|r| {
                r.findings.iter_mut().chain(
                    r.scenarios
                        .iter_mut()
                        .chain(&mut r.inline)
                        .flat_map(|s| s.result.analysis.findings.iter_mut()),
                )
            })
            .chain(self.orphans.iter_mut().map(|o| &mut o.finding))
    }
}

/// One rule: its own findings (spans index the rule file), its scenarios, and the
/// exclusions written inline in its query.
#[derive(Debug)]
pub struct RuleResult {
    pub rule: RuleDoc,
    pub query: RuleQuery,
    pub findings: Vec<Finding>,
    pub scenarios: Vec<ScenarioResult>,
    pub inline: Vec<ScenarioResult>,
}

impl RuleResult {
    /// Every exclusion of the rule: its scenarios', then the inline ones.
    pub fn exclusions(&self) -> impl Iterator<Item = &ScenarioResult> {
        self.scenarios.iter().chain(&self.inline)
    }

    /// Every finding of the rule: its own, then its exclusions'.
    pub fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().chain(self.exclusions().flat_map(|s| s.findings()))
    }

    /// Whether D is exact, approximated (sound, with FPX401 notes), or missing.
    pub fn detection(&self) -> &'static str {
        match (&self.query.detection, self.query.exact()) {
            (None, _) => "none",
            (Some(_), true) => "exact",
            (Some(_), false) => "approximated",
        }
    }
}

/// Where an exclusion comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A scenario file (or a seed document's scenario).
    Scenario,
    /// A negated constant test in the rule's own query (a Sigma filter selection).
    Inline,
    /// A Sigma meta-filter that names the rule.
    MetaFilter,
}

impl Origin {
    /// The `source` value of the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Scenario => "scenario",
            Origin::Inline => "inline",
            Origin::MetaFilter => "meta-filter",
        }
    }
}

/// One scenario of a rule: its exclusion's findings (spans index the exclusion).
#[derive(Debug)]
pub struct ScenarioResult {
    pub file: PathBuf,
    /// The scenario file's text (shared by the file's scenarios).
    pub source: std::sync::Arc<str>,
    pub name: String,
    pub exclusion: String,
    /// Where the exclusion starts in the file (1-based).
    pub line: usize,
    pub column: usize,
    pub result: InContext,
    /// What the harness generated and how much of it was suppressed, when it ran.
    pub stats: Option<harness::Stats>,
    /// Findings silenced by the scenario's `ignore:` entries: code, reason, how many.
    pub suppressed: Vec<(String, String, usize)>,
    pub origin: Origin,
}

/// pass, warn, inconclusive or fail: by the most severe finding, except that a run the
/// harness could not complete (FPX305) is inconclusive unless something failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Warn,
    Inconclusive,
    Fail,
}

impl Outcome {
    /// Every outcome, in the order reports count them.
    pub const ALL: [Outcome; 4] = [Outcome::Fail, Outcome::Inconclusive, Outcome::Warn, Outcome::Pass];

    pub fn of(findings: &[Finding]) -> Outcome {
        Outcome::of_all(findings)
    }

    /// The outcome of findings from several places (a rule's and its scenarios').
    pub fn of_all<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Outcome {
        let (mut severity, mut inconclusive) = (None, false);
        for f in findings {
            severity = severity.max(Some(f.rule.severity));
            inconclusive |= f.rule.code == Code::Fpx305;
        }
        match severity {
            Some(Severity::Error) => Outcome::Fail,
            _ if inconclusive => Outcome::Inconclusive,
            Some(Severity::Warning) => Outcome::Warn,
            _ => Outcome::Pass,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Warn => "warn",
            Outcome::Inconclusive => "inconclusive",
            Outcome::Fail => "fail",
        }
    }
}

/// How many results have each outcome, and a description: `1 fail, 0 warn, 2 pass`
/// (inconclusive only when there are some).
#[derive(Debug, Clone, Copy, Default)]
pub struct OutcomeCounts([usize; 4]);

impl OutcomeCounts {
    pub fn add(&mut self, outcome: Outcome) {
        self.0[outcome as usize] += 1;
    }

    pub fn get(&self, outcome: Outcome) -> usize {
        self.0[outcome as usize]
    }

    pub fn total(&self) -> usize {
        self.0.iter().sum()
    }

    pub fn describe(&self) -> String {
        Outcome::ALL
            .iter()
            .filter(|&&o| o != Outcome::Inconclusive || self.get(o) > 0)
            .map(|&o| format!("{} {}", self.get(o), o.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl ScenarioResult {
    pub fn findings(&self) -> &[Finding] {
        &self.result.analysis.findings
    }
}

/// Checks every rule of the corpus with its scenarios; with a harness configuration,
/// also replays generated events against each scenario.
pub fn check_corpus(corpus: Corpus, harness: Option<harness::Config>) -> CheckReport {
    let Corpus {
        rules,
        scenario_files,
        errors,
        meta_filters,
        ..
    } = corpus;
    let ids: Vec<&str> = rules
        .iter()
        .map(|r| r.id.as_str())
        .filter(|id| !id.is_empty())
        .collect();
    let orphans = scenario_files
        .iter()
        .filter_map(|f| {
            fpx405_orphan_scenario::finding(f, &ids).map(|mut finding| {
                finding.anchor = Some(anchor::on_line(&f.file, &f.source, f.rule_line, &finding));
                Orphan {
                    file: f.file.clone(),
                    rule_id: f.rule.clone(),
                    finding,
                }
            })
        })
        .collect();
    // A rule that repeats an id (or has none) gets FPX404 and no scenarios: each
    // scenario is checked once, against the first rule of its id.
    let mut id_findings: Vec<Option<Finding>> = vec![None; rules.len()];
    for (index, finding) in fpx404_duplicate_rule_id::findings(&rules) {
        id_findings[index] = Some(finding);
    }
    // Rules are independent: checked in parallel, reported in input order.
    use rayon::prelude::*;
    let results: Vec<RuleResult> = rules
        .into_par_iter()
        .zip(id_findings)
        .map(|(rule, id_finding)| check_rule(rule, id_finding, &scenario_files, &meta_filters, harness))
        .collect();
    let mut report = CheckReport {
        rules: results,
        load_errors: errors,
        orphans,
    };
    assign_fingerprints(&mut report);
    assign_anchors(&mut report);
    report
}

/// One rule: its file and query, its scenarios (unless another rule has its id), its
/// inline exclusions.
fn check_rule(
    mut rule: RuleDoc,
    id_finding: Option<Finding>,
    scenario_files: &[ScenarioFile],
    meta_filters: &[MetaFilterFile],
    harness: Option<harness::Config>,
) -> RuleResult {
    let query = match (rule.lowered.take(), rule.format) {
        (Some(lowered), _) => lowered,
        (None, RuleFormat::Sigma) => crate::sigma::lower(&rule.source),
        (None, RuleFormat::Kql | RuleFormat::Seed) => read_query(&rule.query),
    };
    let mut findings = Vec::new();
    let owns_scenarios = id_finding.is_none();
    findings.extend(id_finding);
    if let Some(m) = &rule.malformed {
        findings.push(fpx402_malformed_rule_file::finding(
            m,
            line_span(&rule.source, m.line, m.column),
        ));
    }
    for error in &query.errors {
        findings.push(fpx403_invalid_query::finding(error, query_span(&rule, &error.span)));
    }
    for note in &query.notes {
        findings.push(fpx401_unsupported_query::finding(note, query_span(&rule, &note.span)));
    }
    let known_table = query.table.as_deref().filter(|t| schema().table(t).is_some());
    let table_invalid = |table: &str| {
        query
            .errors
            .iter()
            .any(|e| rule.query.get(e.span.clone()) == Some(table))
    };
    if let (Some(table), None) = (&query.table, known_table)
        && query.notes.iter().all(|n| !n.fatal)
        && !table_invalid(table)
    {
        findings.push(fpx401_unsupported_query::unknown_table(
            table,
            query_span(&rule, &(0..table.len())),
        ));
    }
    let context = known_table.map(|table| RuleContext {
        table,
        detection: query.detection.as_ref(),
    });
    let mut scenarios: Vec<ScenarioResult> = scenario_files
        .iter()
        .filter(|f| owns_scenarios && f.rule == rule.id)
        .flat_map(|f| f.scenarios.iter().map(move |s| (f, s)))
        .map(|(f, s)| check_scenario(&rule, f, s, context.as_ref(), harness))
        .collect();
    fpx107_subsumed_exclusion::findings(&mut scenarios);
    if let Some(d) = &query.detection {
        for (span, finding) in fpx108_dead_rule::findings(d) {
            let mut finding = finding;
            finding.span = query_span(&rule, &span);
            findings.push(finding);
        }
    }
    let mut inline: Vec<ScenarioResult> = match known_table {
        Some(table) => query
            .inline
            .iter()
            .enumerate()
            .map(|(i, e)| check_inline(&rule, i, e, table))
            .collect(),
        None => Vec::new(),
    };
    if let (Some(table), Some(detection)) = (known_table, &query.detection) {
        let applies = |f: &crate::sigma::MetaFilter| {
            if f.rules.is_empty() {
                query.table.as_deref() == Some(f.table.as_str())
            } else {
                f.rules.iter().any(|r| *r == rule.id || *r == rule.name)
            }
        };
        inline.extend(
            meta_filters
                .iter()
                .filter(|m| applies(&m.filter))
                .map(|m| check_meta_filter(m, table, detection)),
        );
    }
    fpx107_subsumed_exclusion::findings(&mut inline);
    RuleResult {
        rule,
        query,
        findings,
        scenarios,
        inline,
    }
}

/// An inline exclusion of the rule's query, judged like a scenario's exclusion relative
/// to the rest of the rule. Its text is the conjunct as written in the query (what it
/// keeps); what it suppresses is the conjunct's negation.
fn check_inline(rule: &RuleDoc, index: usize, e: &InlineExclusion, table: &str) -> ScenarioResult {
    let text = rule.query.get(e.span.clone()).unwrap_or("").to_string();
    let shift = e.span.start;
    let suppresses = e.suppresses.map_atoms(&mut |a| {
        let mut a = a.clone();
        a.span = a.span.start.saturating_sub(shift)..a.span.end.saturating_sub(shift);
        Pred::Atom(a)
    });
    let parsed = ParseOutcome::Parsed(ParsedExclusion {
        pred: suppresses,
        irregularities: Vec::new(),
    });
    let context = RuleContext {
        table,
        detection: Some(&e.rest),
    };
    let mut result = in_context(analyze_outcome(&text, parsed), Some(&context));
    // Names in a KQL query are checked by FPX403 (a Sigma filter's fields are checked
    // here, against the log source); a fix rewrites what is suppressed, so the conjunct
    // that keeps events becomes its `not(...)`.
    if rule.format != RuleFormat::Sigma {
        result
            .analysis
            .findings
            .retain(|f| !matches!(f.rule.code, Code::Fpx201 | Code::Fpx202));
    }
    for f in &mut result.analysis.findings {
        if rule.format == RuleFormat::Sigma {
            // A fix is printed as KQL; a Sigma filter is YAML.
            f.fix = None;
        }
        if let Some(fix) = &mut f.fix {
            for edit in &mut fix.edits {
                if edit.span == (0..text.len()) {
                    edit.replacement = format!("not({})", edit.replacement);
                }
            }
        }
    }
    let at = query_span(rule, &e.span);
    let (line, column) = line_column(&rule.source, at.start);
    ScenarioResult {
        file: rule.file.clone(),
        source: rule.source.as_str().into(),
        name: match &e.name {
            Some(name) => format!("filter {name}"),
            None => format!("inline exclusion {}", index + 1),
        },
        exclusion: text,
        line,
        column,
        result,
        stats: None,
        suppressed: Vec::new(),
        origin: Origin::Inline,
    }
}

/// A Sigma meta-filter that names the rule: an exclusion of the rule's whole detection.
fn check_meta_filter(m: &MetaFilterFile, table: &str, detection: &Pred) -> ScenarioResult {
    let f = &m.filter;
    let text = m.source.get(f.span.clone()).unwrap_or("").to_string();
    let outcome = match &f.suppresses {
        Some(pred) => {
            let shift = f.span.start;
            ParseOutcome::Parsed(ParsedExclusion {
                pred: pred.map_atoms(&mut |a| {
                    let mut a = a.clone();
                    a.span = a.span.start.saturating_sub(shift)..a.span.end.saturating_sub(shift);
                    Pred::Atom(a)
                }),
                irregularities: Vec::new(),
            })
        }
        // A condition fpx cannot lower exactly cannot be judged either way.
        None => ParseOutcome::Invalid(crate::expr::SyntaxError {
            span: 0..text.len(),
            message: format!(
                "fpx cannot judge this meta-filter: {}",
                f.why.as_deref().unwrap_or("its condition")
            ),
            label: "not lowered".into(),
            hint: None,
        }),
    };
    let context = RuleContext {
        table,
        detection: Some(detection),
    };
    let mut result = in_context(analyze_outcome(&text, outcome), Some(&context));
    for finding in &mut result.analysis.findings {
        finding.fix = None;
    }
    let (line, column) = line_column(&m.source, f.span.start);
    ScenarioResult {
        file: m.file.clone(),
        source: m.source.clone(),
        name: format!("meta-filter {}", f.title),
        exclusion: text,
        line,
        column,
        result,
        stats: None,
        suppressed: Vec::new(),
        origin: Origin::MetaFilter,
    }
}

/// 1-based line and column (in characters) of a byte offset of `text`.
fn line_column(text: &str, byte: usize) -> (usize, usize) {
    let before = &text[..byte.min(text.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// Places every finding in its file, once, for every emitter.
fn assign_anchors(report: &mut CheckReport) {
    for rule in &mut report.rules {
        for i in 0..rule.findings.len() {
            let at = anchor::in_rule(rule, &rule.findings[i]);
            rule.findings[i].anchor = Some(at);
        }
        for s in rule.scenarios.iter_mut().chain(&mut rule.inline) {
            for i in 0..s.result.analysis.findings.len() {
                let at = anchor::in_scenario(s, &s.result.analysis.findings[i]);
                s.result.analysis.findings[i].anchor = Some(at);
            }
        }
    }
}

/// Gives every finding its fingerprint: a hash of the code, the rule, the scenario, the
/// exclusion and the text the finding points at. Two findings that would collide get an
/// occurrence number.
fn assign_fingerprints(report: &mut CheckReport) {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut stamp = |f: &mut Finding, parts: &[&str]| {
        let hash = fnv1a(
            std::iter::once(f.rule.code.as_str())
                .chain(parts.iter().copied())
                .flat_map(|p| p.bytes().chain([0xff])),
        );
        let base = format!("{hash:016x}");
        let n = seen.entry(base.clone()).or_insert(0);
        *n += 1;
        f.fingerprint = if *n == 1 { base } else { format!("{base}-{n}") };
    };
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    for orphan in &mut report.orphans {
        let file = orphan.file.display().to_string();
        stamp(&mut orphan.finding, &[&orphan.rule_id, &file]);
    }
    for rule in &mut report.rules {
        for f in &mut rule.findings {
            let anchor = rule.rule.source.get(f.span.clone()).unwrap_or("").to_string();
            stamp(f, &[&rule.rule.id, "", &squash(&anchor)]);
        }
        for s in rule.scenarios.iter_mut().chain(&mut rule.inline) {
            let exclusion = squash(&s.exclusion);
            for f in &mut s.result.analysis.findings {
                let text = match f.line {
                    Some(line) => s.source.lines().nth(line.saturating_sub(1)).unwrap_or(""),
                    None => s.exclusion.as_str(),
                };
                let anchor = squash(text.get(f.span.clone()).unwrap_or(""));
                stamp(f, &[&rule.rule.id, &s.name, &exclusion, &anchor]);
            }
        }
    }
}

/// One scenario: its exclusion in context, its templates resolved to the table's
/// columns (FPX201/FPX202 on template fields), and the harness (FPX301-FPX303).
fn check_scenario(
    rule: &RuleDoc,
    file: &ScenarioFile,
    s: &Scenario,
    context: Option<&RuleContext>,
    config: Option<harness::Config>,
) -> ScenarioResult {
    let mut result = analyze_in_context(&s.exclusion, context);
    let mut stats = None;
    if let (Some(context), Some(config)) = (context, config) {
        let mut template_findings = Vec::new();
        let benign = resolve_templates(&s.benign, &s.benign_lines, file, context.table, &mut template_findings);
        let malicious = resolve_templates(
            &s.malicious,
            &s.malicious_lines,
            file,
            context.table,
            &mut template_findings,
        );
        let columns = schema().table(context.table).unwrap_or(&[]);
        let exclusion = result.on_table.as_ref();
        let constants: Vec<String> = exclusion
            .iter()
            .chain(context.detection.iter())
            .flat_map(|p| {
                p.atoms()
                    .into_iter()
                    .flat_map(|a| a.values.iter().map(|v| v.text().to_string()))
            })
            .filter(|v| !v.is_empty())
            .collect();
        let setup = Setup {
            columns,
            detection: context.detection,
            exclusion,
            benign: &benign,
            malicious: &malicious,
            constants,
            salt: salt(&rule.id, &s.name),
        };
        let outcome = harness::run(&setup, config);
        // A counterexample is shown with the fields that matter: those the rule and the
        // exclusion read, the template's own, and (for a generated alert) the attacker's.
        let read: Vec<String> = context
            .detection
            .into_iter()
            .chain(exclusion)
            .flat_map(|p| p.fields())
            .collect();
        let show = |c: &Counterexample, extra: &[String]| -> Event {
            let template = match c.source {
                Source::Benign(i) => benign.get(i),
                Source::Malicious(i) => malicious.get(i),
            };
            let keep =
                |k: &String| read.contains(k) || extra.contains(k) || template.is_some_and(|t| t.contains_key(k));
            c.event
                .iter()
                .filter(|(k, _)| keep(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        let span = 0..s.exclusion.len();
        if let Some(c) = &outcome.not_a_false_positive {
            template_findings.push(fpx303_not_a_false_positive::finding(c, show(c, &[]), span.clone()));
        }
        if let Some(c) = &outcome.misses_benign {
            template_findings.push(fpx302_misses_benign::finding(
                c,
                show(c, &[]),
                span.clone(),
                config.seed,
            ));
        }
        if let Some(c) = &outcome.suppresses_true_positive {
            template_findings.push(fpx301_suppresses_true_positive::finding(
                c,
                show(c, &[]),
                span.clone(),
                config.seed,
            ));
        }
        for (property, why) in &outcome.inconclusive {
            template_findings.push(fpx305_harness_inconclusive::finding(*property, why, span.clone()));
        }
        result.analysis.findings.extend(template_findings);
        result.analysis.findings.sort_by_key(|f| f.rule.code);
        stats = Some(outcome.stats);
    }
    let mut suppressed = Vec::new();
    for ignore in &s.ignore {
        let rule = super::lookup(&ignore.code).expect("ignore codes are checked when the file is read");
        let before = result.analysis.findings.len();
        result.analysis.findings.retain(|f| f.rule.code != rule.code);
        suppressed.push((
            rule.code.to_string(),
            ignore.reason.clone(),
            before - result.analysis.findings.len(),
        ));
    }
    ScenarioResult {
        file: file.file.clone(),
        source: file.source.clone(),
        name: s.name.clone(),
        exclusion: s.exclusion.clone(),
        line: s.line,
        column: s.column,
        result,
        stats,
        suppressed,
        origin: Origin::Scenario,
    }
}

/// Template fields renamed to the table's columns; fields the table lacks are reported
/// on the template's line and left out.
fn resolve_templates(
    templates: &[Template],
    lines: &[usize],
    file: &ScenarioFile,
    table: &str,
    findings: &mut Vec<Finding>,
) -> Vec<Event> {
    templates
        .iter()
        .enumerate()
        .map(|(i, template)| {
            let mut event = Event::new();
            for (field, value) in template {
                let at = field_position(&file.source, lines.get(i).copied().unwrap_or(0), field);
                match resolve_field(field, table, at.1.clone()) {
                    Ok(column) => {
                        event.insert(column.name.clone(), value.clone());
                    }
                    Err(finding) => {
                        let mut finding = *finding;
                        finding.line = Some(at.0);
                        finding.message.push_str(" (in an event template)");
                        findings.push(finding);
                    }
                }
            }
            event
        })
        .collect()
}

/// The line (1-based) and byte span on it where a template writes `field`, searching
/// from the template's first line; the template's line if not found.
fn field_position(source: &str, from: usize, field: &str) -> (usize, Span) {
    for (i, line) in source.lines().enumerate().skip(from.saturating_sub(1)).take(50) {
        if let Some(at) = line.find(&format!("{field}:")) {
            return (i + 1, at..at + field.len());
        }
    }
    (from.max(1), 0..0)
}

/// A stable number from the rule and scenario, so each scenario draws its own events.
fn salt(rule: &str, scenario: &str) -> u64 {
    fnv1a(rule.bytes().chain([0]).chain(scenario.bytes()))
}

/// The 64-bit FNV-1a hash: stable across runs and platforms (std's hashers are not).
fn fnv1a(bytes: impl Iterator<Item = u8>) -> u64 {
    bytes.fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// The byte span of `line`:`column` (1-based) to the end of that line.
fn line_span(source: &str, line: usize, column: usize) -> Span {
    let start_of_line: usize = source
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let text = source[start_of_line.min(source.len())..].lines().next().unwrap_or("");
    let col = text
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(text.len(), |(i, _)| i);
    let start = (start_of_line + col).min(source.len());
    start..(start_of_line + text.len()).max(start)
}

/// Where a span of the rule's query is in the rule file (kept to one line).
fn query_span(rule: &RuleDoc, span: &Span) -> Span {
    let query = &rule.query;
    let start = span.start.min(query.len());
    let line_in_query = query[..start].matches('\n').count();
    let line_start = query[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_len = query[line_start..].find('\n').unwrap_or(query.len() - line_start);
    let col = start - line_start;
    let file_line = rule.query_line + line_in_query;
    let begin = line_span(&rule.source, file_line, 1).start + rule.query_indent + col;
    let len = (span.end.min(query.len()) - start).clamp(1, (line_len - col).max(1));
    let begin = begin.min(rule.source.len());
    begin..(begin + len).min(rule.source.len())
}
