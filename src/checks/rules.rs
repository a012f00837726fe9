//! Checking a corpus: every rule (its file and query) with its exclusions (scenarios,
//! inline, meta-filters), in parallel, then fingerprints and places for every finding.

use super::anchor::{self, line_span, query_span};
use super::context::RuleContext;
use super::exclusions::{check_inline, check_meta_filter};
use super::fingerprint::assign_fingerprints;
use super::results::{CheckReport, Orphan, RuleResult, ScenarioResult};
use super::scenario::check_scenario;
use super::{
    Finding, fpx107_subsumed_exclusion, fpx108_dead_rule, fpx401_unsupported_query, fpx402_malformed_rule_file,
    fpx403_invalid_query, fpx404_duplicate_rule_id, fpx405_orphan_scenario,
};
use crate::corpus::{Corpus, MetaFilterFile, RuleDoc, ScenarioFile};
use crate::harness;
use crate::model::InlineExclusion;
use crate::pred::Pred;
use crate::schema::schema;

/// Checks every rule of the corpus with its scenarios; with a harness configuration,
/// also replays generated events against each scenario.
pub fn check_corpus(corpus: Corpus, harness: Option<harness::Config>) -> CheckReport {
    let Corpus {
        rules,
        scenario_files,
        errors,
        meta_filters,
        skipped,
    } = corpus;
    let ids: Vec<&str> = rules
        .iter()
        .map(|r| r.id.as_str())
        .filter(|id| !id.is_empty())
        .collect();
    let names: Vec<(&str, &str)> = rules
        .iter()
        .filter(|r| !r.id.is_empty())
        .map(|r| (r.name.as_str(), r.id.as_str()))
        .collect();
    let orphans = scenario_files
        .iter()
        .filter_map(|f| {
            fpx405_orphan_scenario::finding(f, &ids, &names).map(|mut finding| {
                finding.anchor = Some(anchor::on_line(&f.file, &f.source, f.rule_line, &finding));
                Orphan {
                    file: f.file.clone(),
                    rule_id: f.rule.clone(),
                    finding,
                }
            })
        })
        .chain(meta_filters.iter().filter_map(|m| {
            // A meta-filter that names rules, none of them loaded, checks nothing.
            let named = &m.filter.rules;
            let loaded = |r: &String| rules.iter().any(|rule| rule.id == *r || rule.name == *r);
            if named.is_empty() || named.iter().any(loaded) {
                return None;
            }
            let line = m
                .source
                .lines()
                .position(|l| l.trim_start().starts_with("rules:"))
                .map_or(1, |i| i + 1);
            let at = m
                .source
                .lines()
                .nth(line - 1)
                .and_then(|l| l.find("rules"))
                .unwrap_or(0);
            let mut finding = fpx405_orphan_scenario::meta_filter(named, &ids, line, at..at + 5);
            finding.anchor = Some(anchor::on_line(&m.file, &m.source, line, &finding));
            Some(Orphan {
                file: m.file.clone(),
                rule_id: named.join(", "),
                finding,
            })
        }))
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
        suppressed: Vec::new(),
        skipped,
    };
    assign_fingerprints(&mut report);
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
    let query = rule.take_query();
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
    let known_table = query.table.as_ref().filter(|t| schema().table(t).is_some());
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
    let domains = schema().domains(known_table.map_or("", |t| t.name()));
    // On a union of tables, D holds of the rows that exist (see `Schema::rows`).
    let rows = known_table.and_then(|t| schema().rows(t));
    let on_rows = |d: &Pred| match rows {
        Some(rows) => Pred::And(vec![d.clone(), rows.clone()]),
        None => d.clone(),
    };
    let detection = query.detection.as_ref().map(on_rows);
    let context = known_table.map(|table| RuleContext {
        table,
        detection: detection.as_ref(),
        scoped: false,
    });
    let mut scenarios: Vec<ScenarioResult> = scenario_files
        .iter()
        .filter(|f| owns_scenarios && f.rule == rule.id)
        .flat_map(|f| f.scenarios.iter().map(move |s| (f, s)))
        .map(|(f, s)| check_scenario(&rule, f, s, context.as_ref(), harness))
        .collect();
    fpx107_subsumed_exclusion::findings(&mut scenarios, &[], domains);
    if let Some(d) = &query.detection {
        for (span, finding) in fpx108_dead_rule::findings(d, rows, domains) {
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
            .map(|(i, e)| {
                let e = InlineExclusion {
                    rest: on_rows(&e.rest),
                    ..e.clone()
                };
                check_inline(&rule, i, &e, table, detection.as_ref().unwrap_or(&e.rest))
            })
            .collect(),
        None => Vec::new(),
    };
    if let (Some(table), Some(detection)) = (known_table, &detection) {
        inline.extend(
            meta_filters
                .iter()
                .filter(|m| {
                    m.filter
                        .applies_to(&rule.id, &rule.name, query.table.as_deref(), &rule.exception_lists)
                })
                .map(|m| check_meta_filter(m, table, detection)),
        );
    }
    let mut groups: Vec<usize> = match known_table {
        Some(_) => query.inline.iter().map(|e| e.group).collect(),
        None => Vec::new(),
    };
    groups.resize(inline.len(), 0);
    fpx107_subsumed_exclusion::findings(&mut inline, &groups, domains);
    RuleResult {
        rule,
        query,
        findings,
        scenarios,
        inline,
    }
    .placed()
}
