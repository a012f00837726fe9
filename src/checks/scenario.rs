//! A scenario of a rule: its exclusion in context, its event templates, and the harness
//! (FPX301-FPX303, FPX305).

use super::context::{RuleContext, analyze_in_context, resolve_field};
use super::fingerprint::salt;
use super::results::{Origin, ScenarioResult};
use super::{
    Finding, fpx301_suppresses_true_positive, fpx302_misses_benign, fpx303_not_a_false_positive,
    fpx305_harness_inconclusive,
};
use crate::corpus::{RuleDoc, Scenario, ScenarioFile, Template};
use crate::harness::{self, Counterexample, Setup, Source};
use crate::pred::{Event, Span};
use crate::schema::schema;

/// One scenario: its exclusion in context, its templates resolved to the table's
/// columns (FPX201/FPX202 on template fields), and the harness (FPX301-FPX303).
pub(super) fn check_scenario(
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
                    // The value of `A == B` is a field's name, not a constant.
                    .filter(|a| a.other_field().is_none())
                    .flat_map(|a| a.values.iter().map(|v| v.text().to_string()))
            })
            .filter(|v| !v.is_empty())
            .collect();
        let tables = schema().tables_of(context.table);
        let members = match tables.as_slice() {
            [_] => Vec::new(),
            tables => tables
                .iter()
                .filter_map(|t| schema().table(t).map(|c| (*t, c)))
                .collect(),
        };
        let setup = Setup {
            columns,
            members,
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
        result.analysis.findings.sort_by_key(|f| f.kind.code);
        stats = Some(outcome.stats);
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
        ignore: s.ignore.clone(),
        origin: Origin::Scenario,
    }
    .placed()
}

/// Template fields renamed to the table's columns; fields the table lacks are reported
/// on the template's line and left out.
pub(super) fn resolve_templates(
    templates: &[Template],
    lines: &[usize],
    file: &ScenarioFile,
    table: &crate::schema::Table,
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
pub(super) fn field_position(source: &str, from: usize, field: &str) -> (usize, Span) {
    for (i, line) in source.lines().enumerate().skip(from.saturating_sub(1)).take(50) {
        if let Some(at) = line.find(&format!("{field}:")) {
            return (i + 1, at..at + field.len());
        }
    }
    (from.max(1), 0..0)
}
