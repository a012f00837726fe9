//! Exclusions that are not in scenario files: inline in a rule's query (a KQL negated
//! test, a Sigma filter selection) and Sigma meta-filters, judged like a scenario's.

use super::Code;
use super::analyze_outcome;
use super::anchor::{line_column, query_span};
use super::context::{RuleContext, in_context};
use super::results::{Origin, ScenarioResult};
use crate::corpus::{MetaFilterFile, RuleDoc, RuleFormat};
use crate::expr::{ParseOutcome, ParsedExclusion};
use crate::model::InlineExclusion;
use crate::pred::Pred;

/// An inline exclusion of the rule's query, judged like a scenario's exclusion relative
/// to the rest of the rule. Its text is the conjunct as written in the query (what it
/// keeps); what it suppresses is the conjunct's negation.
pub(super) fn check_inline(
    rule: &RuleDoc,
    index: usize,
    e: &InlineExclusion,
    table: &crate::schema::Table,
    detection: &Pred,
) -> ScenarioResult {
    let text = rule.query.get(e.span.clone()).unwrap_or("").to_string();
    let name = inline_name(e, index);
    let at = query_span(rule, &e.span).start;
    let regexes = [&e.rest, &e.suppresses]
        .iter()
        .flat_map(|p| p.atoms())
        .filter(|a| a.op == crate::pred::Op::MatchesRegex)
        .count();
    if e.scoped && regexes > MAX_SCOPED_REGEXES {
        let why = format!(
            "fpx does not judge this exclusion: the `or` branch it binds to is decided with {regexes} regular expressions (wildcard patterns), past the {MAX_SCOPED_REGEXES} it decides quickly"
        );
        let mut result = not_judged(&text, why);
        // Not judged, still replayed: what it suppresses is known.
        let context = RuleContext {
            table,
            detection: Some(&e.rest),
            scoped: e.scoped,
        };
        result.on_table = Some(super::context::exclusion_on_table(
            &relative(&e.suppresses, e.span.start),
            &context,
        ));
        return placed(&rule.file, &rule.source, at, name, text, result, Origin::Inline);
    }
    let suppresses = relative(&e.suppresses, e.span.start);
    let parsed = ParseOutcome::Parsed(ParsedExclusion {
        pred: suppresses.clone(),
        irregularities: Vec::new(),
    });
    let context = RuleContext {
        table,
        detection: Some(&e.rest),
        scoped: e.scoped,
    };
    let mut result = in_context(analyze_outcome(&text, parsed), Some(&context));
    // A keep-clause of alternatives (`f !contains a or f !contains b`) that drops some
    // events but not the ones meant: judged only when nothing worse was found.
    let judged = [Code::Fpx102, Code::Fpx104, Code::Fpx105]
        .iter()
        .any(|&c| result.has(c));
    if e.alternatives && !judged {
        let domains = crate::schema::schema().domains(table);
        if let Some(f) = super::fpx103_inverted_exclusion::meant_and(&text, &suppresses, &e.rest, domains) {
            // The root cause: an attacker matching every test is an echo of it.
            let findings = &mut result.analysis.findings;
            findings.retain(|f| f.kind.code != Code::Fpx304);
            findings.push(f);
            findings.sort_by_key(|f| f.kind.code);
        }
    }
    // Names in a KQL query are checked by FPX403 (a Sigma filter's fields are checked
    // here, against the log source); a fix rewrites what is suppressed, so the conjunct
    // that keeps events becomes its `not(...)`.
    if e.by_precedence {
        let domains = crate::schema::schema().domains(table);
        let on_table = result.on_table.clone().unwrap_or_else(|| suppresses.clone());
        result.analysis.findings.extend(super::fpx109_precedence_scope::finding(
            &text, &on_table, detection, domains,
        ));
        result.analysis.findings.sort_by_key(|f| f.kind.code);
    }
    if rule.format != RuleFormat::Sigma {
        result
            .analysis
            .findings
            .retain(|f| !matches!(f.kind.code, Code::Fpx201 | Code::Fpx202));
    }
    for f in &mut result.analysis.findings {
        if !rule.format.is_kql() {
            // A fix is printed as KQL; a Sigma filter is YAML, an Elastic query EQL or
            // Kibana KQL.
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
    placed(&rule.file, &rule.source, at, name, text, result, Origin::Inline)
}

/// Most regular expressions a branch-scoped exclusion's decision may involve: the events
/// a branch decides are read under `not`, and many wildcard patterns on one field there
/// make the automata search run for seconds to answer "unknown" (a SigmaHQ rule's
/// `UserAccountControl` flags: 48 `?` patterns).
const MAX_SCOPED_REGEXES: usize = 24;

/// The result of an exclusion fpx does not judge either way: FPX401 on its first line,
/// no other finding.
fn not_judged(text: &str, why: String) -> super::context::InContext {
    let note = crate::model::QueryNote::new(0..text.len(), why, true);
    let first_line = text.lines().next().map_or(0, str::len);
    let mut result = in_context(
        analyze_outcome(
            text,
            ParseOutcome::Parsed(ParsedExclusion {
                pred: Pred::True,
                irregularities: Vec::new(),
            }),
        ),
        None,
    );
    result.analysis.classification = None;
    result.analysis.findings = vec![super::fpx401_unsupported_query::finding(&note, 0..first_line)];
    result
}

/// The name an inline exclusion is reported under: `filter NAME` for a Sigma filter,
/// else `inline exclusion N`.
pub fn inline_name(e: &InlineExclusion, index: usize) -> String {
    match &e.name {
        Some(name) => format!("filter {name}"),
        None => format!("inline exclusion {}", index + 1),
    }
}

/// Where a filter of its own file comes from, as results name it.
pub fn filter_origin(m: &MetaFilterFile) -> Origin {
    match m.filter.kind {
        crate::model::FilterKind::SigmaMetaFilter => Origin::MetaFilter,
        crate::model::FilterKind::ElasticException => Origin::Exception,
        crate::model::FilterKind::ElasticFilter => Origin::Filter,
    }
}

/// A filter's name in reports: `meta-filter TITLE`, `exception NAME`, `filter N`.
pub fn filter_label(m: &MetaFilterFile) -> String {
    match m.filter.kind {
        crate::model::FilterKind::SigmaMetaFilter => format!("meta-filter {}", m.filter.title),
        crate::model::FilterKind::ElasticException => format!("exception {}", m.filter.title),
        crate::model::FilterKind::ElasticFilter => m.filter.title.clone(),
    }
}

/// A Sigma meta-filter that names the rule: an exclusion of the rule's whole detection.
pub(super) fn check_meta_filter(m: &MetaFilterFile, table: &crate::schema::Table, detection: &Pred) -> ScenarioResult {
    let f = &m.filter;
    let text = m.source.get(f.span.clone()).unwrap_or("").to_string();
    let context = RuleContext {
        table,
        detection: Some(detection),
        scoped: false,
    };
    let mut result = match &f.suppresses {
        Some(pred) => {
            let parsed = ParseOutcome::Parsed(ParsedExclusion {
                pred: relative(pred, f.span.start),
                irregularities: Vec::new(),
            });
            in_context(analyze_outcome(&text, parsed), Some(&context))
        }
        // A condition fpx cannot lower exactly cannot be judged either way: FPX401 (the
        // filter is valid Sigma; fpx cannot decide it), and no other finding.
        None => not_judged(
            &text,
            format!(
                "fpx cannot judge this {}: {}",
                match f.kind {
                    crate::model::FilterKind::SigmaMetaFilter => "meta-filter",
                    crate::model::FilterKind::ElasticException => "exception",
                    crate::model::FilterKind::ElasticFilter => "filter",
                },
                f.why.as_deref().unwrap_or("its condition is not lowered")
            ),
        ),
    };
    for finding in &mut result.analysis.findings {
        finding.fix = None;
    }
    placed(
        &m.file,
        &m.source,
        f.span.start,
        filter_label(m),
        text,
        result,
        filter_origin(m),
    )
}

/// The result of an exclusion written at byte `at` of a file (not a scenario: no
/// harness, no `ignore:` entries).
fn placed(
    file: &std::path::Path,
    source: &std::sync::Arc<str>,
    at: usize,
    name: String,
    exclusion: String,
    result: super::context::InContext,
    origin: Origin,
) -> ScenarioResult {
    let (line, column) = line_column(source, at);
    ScenarioResult {
        file: file.to_path_buf(),
        source: source.clone(),
        name,
        exclusion,
        line,
        column,
        result,
        stats: None,
        ignore: Vec::new(),
        origin,
    }
    .placed()
}

/// `pred` with its atoms' spans made relative to `start` (the exclusion's text, cut out
/// of the file, is what findings index).
fn relative(pred: &Pred, start: usize) -> Pred {
    pred.map_atoms(&mut |a| {
        let mut a = a.clone();
        a.span = a.span.start.saturating_sub(start)..a.span.end.saturating_sub(start);
        Pred::Atom(a)
    })
}
