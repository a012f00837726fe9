//! Judging an exclusion in its rule's context: which of its fields the rule's table
//! has (FPX201-FPX203), and how it meets the rule's detection predicate D (FPX104,
//! FPX105, FPX304). Fields the table lacks read as empty, as the SIEM would.

use super::{
    Code, ExclusionAnalysis, Finding, LOGIC_CODES, analyze_outcome, fpx104_mutes_rule, fpx105_never_applies,
    fpx110_letter_case, fpx201_unknown_field, fpx202_field_not_in_table, fpx203_value_mismatch, fpx204_type_mismatch,
    fpx304_attacker_controllable, logic_findings,
};
use crate::expr::{Irregularity, ParseOutcome, ParsedExclusion, parse_exclusion};
use crate::logic::{Domain, SatResult, Verdict, classify_sides, sat_in};
use crate::pred::{Atom, Pred, Span};
use crate::schema::{Applied, Column, Resolution, domains_of, schema, typed_on};
use std::collections::HashMap;

/// What an exclusion is checked against.
#[derive(Debug, Clone, Copy)]
pub struct RuleContext<'a> {
    /// The rule's table (one fpx knows).
    pub table: &'a crate::schema::Table,
    /// The rule's detection predicate, when its query could be lowered; for an inline
    /// exclusion, what it is judged against.
    pub detection: Option<&'a Pred>,
    /// Whether `detection` is one `or` branch's events (an inline exclusion that binds
    /// there), not the rule's: the findings say so.
    pub scoped: bool,
}

/// An exclusion's findings in context, and its meaning on the rule's table.
#[derive(Debug, Clone)]
pub struct InContext {
    pub analysis: ExclusionAnalysis,
    /// The exclusion over the table's columns (absent fields replaced by their truth on
    /// the empty string), when it parsed.
    pub on_table: Option<Pred>,
}

impl InContext {
    /// Whether a finding with this code was reported.
    pub fn has(&self, code: Code) -> bool {
        self.analysis.findings.iter().any(|f| f.kind.code == code)
    }
}

/// The column a field names in `table` (directly or through an alias), or the FPX201 /
/// FPX202 finding that says why it has none; `span` is where the field is written.
pub fn resolve_field(field: &str, table: &crate::schema::Table, span: Span) -> Result<&'static Column, Box<Finding>> {
    Err(Box::new(match schema().resolve(field, table) {
        Resolution::Column { column, .. } => return Ok(column),
        Resolution::NotInTable { elsewhere } => fpx202_field_not_in_table::finding(field, span, table, &elsewhere),
        Resolution::NoColumn { reason } => fpx201_unknown_field::no_column(field, span, &reason),
        Resolution::Unknown { suggestion } => fpx201_unknown_field::unknown(field, span, suggestion.as_deref()),
    }))
}

/// Runs the exclusion-level checks, then the checks that need the rule.
pub fn analyze_in_context(text: &str, context: Option<&RuleContext>) -> InContext {
    let mut outcome = parse_exclusion(text);
    if let (ParseOutcome::Parsed(parsed), Some(context)) = (&mut outcome, context) {
        columns_compared(parsed, context.table);
    }
    in_context(analyze_outcome(text, outcome), context)
}

/// `A == B` or `A != B` with `B` unquoted, where both are string columns of the table:
/// KQL compares the two columns, and so does fpx then ([`crate::pred::Op::SameAs`]; no
/// FPX004, whose fix would quote `B` and change the meaning). Elsewhere an unquoted word
/// stays a value with FPX004.
fn columns_compared(parsed: &mut ParsedExclusion, table: &str) {
    use crate::pred::{Atom, Op, Value};
    let Some(columns) = schema().table(table) else {
        return;
    };
    let string = |name: &str| {
        columns
            .iter()
            .any(|c| c.name == name && c.ty == crate::schema::ColumnType::String)
    };
    let unquoted: Vec<Span> = parsed
        .irregularities
        .iter()
        .filter_map(|i| match i {
            Irregularity::UnquotedValue { span, .. } => Some(span.clone()),
            _ => None,
        })
        .collect();
    let mut read: Vec<Span> = Vec::new();
    let pred = parsed.pred.map_atoms(&mut |a| {
        let word = unquoted
            .iter()
            .find(|s| a.span.start <= s.start && s.end <= a.span.end && s.end > s.start);
        match (word, a.values.as_slice()) {
            (Some(word), [Value::Str(name)])
                if a.op == Op::Equals && a.case_sensitive && string(&a.field) && string(name) =>
            {
                read.push(word.clone());
                Pred::Atom(Atom {
                    span: a.span.clone(),
                    ..Atom::new(&a.field, Op::SameAs, a.negated, true, vec![Value::Str(name.clone())])
                })
            }
            _ => Pred::Atom(a.clone()),
        }
    });
    parsed.pred = pred;
    parsed
        .irregularities
        .retain(|i| !matches!(i, Irregularity::UnquotedValue { span, .. } if read.contains(span)));
}

/// The checks that need the rule, after the exclusion's own.
pub fn in_context(mut analysis: ExclusionAnalysis, context: Option<&RuleContext>) -> InContext {
    let text = analysis.text.clone();
    let text = text.as_str();
    let (ParseOutcome::Parsed(parsed), Some(context)) = (&analysis.outcome, context) else {
        return InContext {
            analysis,
            on_table: None,
        };
    };
    let pred = parsed.pred.clone();
    let columns = schema().table(context.table).unwrap_or(&[]);
    let Resolved {
        mut findings,
        renamed,
        absent,
    } = resolve_fields(&pred, context);
    let lookup = Lookup::new(&renamed, &absent);
    let on_columns = |a: &crate::pred::Atom| column_atom(a, &lookup);
    let on_table = crate::schema::typed(&pred, context.table, crate::schema::Applied::Suppressing)
        .map_atoms(&mut |a| on_columns(a));
    let domains = schema().domains(context.table);
    match schema().rows(context.table) {
        Some(rows) => rows_verdict(
            &mut analysis,
            &pred.map_atoms(&mut |a| on_columns(a)),
            context.table,
            rows,
        ),
        // KQL's nulls; Elasticsearch's logic has two values (see `schema::typed`).
        None if context.table.family() != crate::schema::Family::Elastic => {
            retype_verdict(&mut analysis, &pred, &renamed)
        }
        None => {}
    }
    let verdict = analysis.classification.as_ref().map_or(Verdict::Unknown, |c| c.verdict);
    if let Some(detection) = context.detection {
        let mutes = (verdict != Verdict::AlwaysTrue)
            .then(|| fpx104_mutes_rule::finding(text, &pred, &on_table, detection, &absent, domains, context.scoped))
            .flatten();
        let never = if verdict != Verdict::NeverTrue && mutes.is_none() {
            fpx105_never_applies::finding(text, &pred, &on_table, detection, &absent, domains, context.scoped)
        } else {
            Ok(None)
        };
        // Undecided is said, not passed: the checks against the rule's alerts found
        // nothing because they could not run to the end.
        let never = never.unwrap_or_else(|()| Some(super::fpx401_unsupported_query::undecided(text, &pred)));
        if verdict == Verdict::Contingent && mutes.is_none() && never.is_none() {
            // Another value of an array column (`process.args[2]`, as the Elastic reader
            // names the values of an array) is the attacker's when the column is.
            let attacker = |column: &str| {
                let column = column
                    .strip_suffix(']')
                    .and_then(|c| c.rsplit_once('['))
                    .filter(|(_, index)| !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()))
                    .map_or(column, |(base, _)| base);
                columns.iter().any(|c| c.name == column && c.attacker)
            };
            findings.extend(fpx304_attacker_controllable::finding(
                text,
                &pred,
                &on_table,
                detection,
                &attacker,
                domains,
                context.scoped,
            ));
        }
        // Elastic's exact matches: paths and names arrive in any letter case.
        if context.table.family() == crate::schema::Family::Elastic
            && mutes.is_none()
            && never.is_none()
            && verdict == Verdict::Contingent
        {
            findings.extend(fpx110_letter_case::finding(
                text, &pred, &on_table, detection, columns, domains,
            ));
        }
        findings.extend(mutes);
        findings.extend(never);
    }
    analysis.findings.extend(findings);
    analysis.findings.sort_by_key(|f| f.kind.code);
    InContext {
        analysis,
        on_table: Some(on_table),
    }
}

/// The exclusion's own verdict as KQL reads its columns' types: numbers compare as
/// numbers of the column's type, a bool is `true` or `false`, and a column other than a
/// string can be null. It is *never true* when no row makes it true, *always true* when
/// no row makes it false (it suppresses every row: null rows are suppressed as well).
/// Only exclusions on such columns are decided again; on text the verdict stands.
fn retype_verdict(analysis: &mut ExclusionAnalysis, pred: &Pred, renamed: &[(String, &Column)]) {
    let typed: Vec<Column> = renamed
        .iter()
        .filter(|(_, c)| c.ty.domain() != Domain::Text)
        .map(|(field, c)| Column {
            name: field.clone(),
            ..(*c).clone()
        })
        .collect();
    if typed.is_empty() {
        return;
    }
    let domains = domains_of(&typed);
    let holds = typed_on(pred, &typed, Applied::Where);
    let suppresses = typed_on(pred, &typed, Applied::Suppressing);
    let c = classify_sides(&holds, &Pred::Not(Box::new(suppresses.clone())), &domains);
    let null_suppressed = match (c.verdict, sat_in(&suppresses, &domains)) {
        (Verdict::NeverTrue, SatResult::Sat(e)) => Some(e),
        _ => None,
    };
    analysis.findings.retain(|f| !LOGIC_CODES.contains(&f.kind.code));
    let text = analysis.text.clone();
    analysis
        .findings
        .extend(logic_findings(&text, pred, &c, null_suppressed.as_ref()));
    analysis.classification = Some(c);
}

/// The exclusion's own verdict on a table whose rows are not every combination of
/// values (a union of tables: see [`crate::schema::Schema::rows`]), decided over those
/// rows; `plain` is the exclusion on the table's columns, untyped. Witnesses keep the
/// exclusion's own fields.
fn rows_verdict(analysis: &mut ExclusionAnalysis, plain: &Pred, table: &str, rows: &Pred) {
    let ParseOutcome::Parsed(parsed) = &analysis.outcome else {
        return;
    };
    let pred = parsed.pred.clone();
    let domains = schema().domains(table);
    let on_rows = |p: Pred| Pred::And(vec![p, rows.clone()]);
    let holds = crate::schema::typed(plain, table, Applied::Where);
    let suppresses = crate::schema::typed(plain, table, Applied::Suppressing);
    let mut c = classify_sides(
        &on_rows(holds),
        &on_rows(Pred::Not(Box::new(suppresses.clone()))),
        domains,
    );
    let fields = plain.fields();
    let own = |e: &mut crate::pred::Event| e.retain(|k, _| fields.contains(k));
    for witness in [&mut c.when_true, &mut c.when_false].into_iter().flatten() {
        own(witness);
    }
    let null_suppressed = match (c.verdict, sat_in(&on_rows(suppresses), domains)) {
        (Verdict::NeverTrue, SatResult::Sat(mut e)) => {
            own(&mut e);
            Some(e)
        }
        _ => None,
    };
    analysis.findings.retain(|f| !LOGIC_CODES.contains(&f.kind.code));
    let text = analysis.text.clone();
    analysis
        .findings
        .extend(logic_findings(&text, &pred, &c, null_suppressed.as_ref()));
    analysis.classification = Some(c);
}

/// An exclusion's fields resolved on the rule's table.
struct Resolved {
    /// FPX201-FPX204 on the fields and their values.
    findings: Vec<Finding>,
    /// Fields that name a column (directly or through an alias), with the column.
    renamed: Vec<(String, &'static Column)>,
    /// Fields the table lacks: they read as empty.
    absent: Vec<String>,
}

fn resolve_fields(pred: &Pred, context: &RuleContext) -> Resolved {
    let columns = schema().table(context.table).unwrap_or(&[]);
    let read_by_rule: std::collections::HashSet<String> = context
        .detection
        .map(Pred::fields)
        .unwrap_or_default()
        .into_iter()
        .collect();
    let in_detection = |field: &str| read_by_rule.contains(field);
    let mut findings: Vec<Finding> = Vec::new();
    let mut renamed: Vec<(String, &Column)> = Vec::new();
    let mut absent: Vec<String> = Vec::new();
    // Each field's atoms, and the first atom that names it (as its field or as the
    // other field of `A == B`), in one pass: a chain of 100,000 tests stays linear.
    let atoms = pred.atoms();
    let mut first_of: HashMap<&str, &Atom> = HashMap::new();
    let mut atoms_of: HashMap<&str, Vec<&Atom>> = HashMap::new();
    for &atom in &atoms {
        for field in std::iter::once(atom.field.as_str()).chain(atom.other_field()) {
            first_of.entry(field).or_insert(atom);
        }
        atoms_of.entry(atom.field.as_str()).or_default().push(atom);
    }
    for field in pred.fields() {
        let first = first_of[field.as_str()];
        // The other field of `A == B` is written last.
        let span = if first.field == field {
            first.span.start..first.span.start + field.len()
        } else {
            first.span.end.saturating_sub(field.len())..first.span.end
        };
        // A log source whose fields nobody lists may have this one; and a field the rule's
        // own detection reads is one its events have (a Sigma rule on an enriched log
        // source; in KQL, FPX403 says when it is not): only its column is wanted, not
        // why there is none.
        let unlisted_is_fine = schema().is_open(context.table) || in_detection(&field);
        let resolved = if unlisted_is_fine {
            schema().column(&field, context.table).map(|(c, _)| c).ok_or(None)
        } else {
            resolve_field(&field, context.table, span).map_err(Some)
        };
        match resolved {
            Ok(column) => {
                for &atom in atoms_of.get(field.as_str()).into_iter().flatten() {
                    findings.extend(fpx203_value_mismatch::findings(atom, column));
                    if schema().is_kql(context.table) {
                        findings.extend(fpx204_type_mismatch::findings(atom, column));
                    }
                }
                renamed.push((field, column));
            }
            Err(None) => {}
            // A property of one of the table's columns (`AdditionalFields.Command`,
            // `RawEventData.Target[2].ID`) is a field of its own.
            Err(Some(_)) if is_property(&field, columns) => {}
            Err(Some(finding)) => {
                findings.push(*finding);
                absent.push(field);
            }
        }
    }
    Resolved {
        findings,
        renamed,
        absent,
    }
}

/// [`Resolved`]'s renamed and absent fields, indexed by name (an exclusion of 100,000
/// tests looks each one up).
struct Lookup<'a> {
    renamed: HashMap<&'a str, &'static Column>,
    absent: std::collections::HashSet<&'a str>,
}

impl<'a> Lookup<'a> {
    fn new(renamed: &'a [(String, &'static Column)], absent: &'a [String]) -> Self {
        Lookup {
            renamed: renamed.iter().map(|(f, c)| (f.as_str(), *c)).collect(),
            absent: absent.iter().map(String::as_str).collect(),
        }
    }
}

/// An atom over the table's columns: renamed to its column, or its truth on the empty
/// string when the table lacks its field.
fn column_atom(a: &crate::pred::Atom, lookup: &Lookup) -> Pred {
    if lookup.absent.contains(a.field.as_str()) {
        return if a.eval_absent() { Pred::True } else { Pred::False };
    }
    let mut a = a.clone();
    if let Some(column) = lookup.renamed.get(a.field.as_str()) {
        a.field = column.name.clone();
    }
    Pred::Atom(a)
}

/// What an exclusion (as parsed, in the exclusion language's fields) suppresses over
/// the rule's table: [`InContext::on_table`] without the checks, for the replay.
pub fn exclusion_on_table(pred: &Pred, context: &RuleContext) -> Pred {
    let Resolved { renamed, absent, .. } = resolve_fields(pred, context);
    let lookup = Lookup::new(&renamed, &absent);
    crate::schema::typed(pred, context.table, crate::schema::Applied::Suppressing)
        .map_atoms(&mut |a| column_atom(a, &lookup))
}

/// A scenario's exclusion text over the rule's table, as [`analyze_in_context`] reads
/// it (`None` when it does not parse).
pub fn scenario_on_table(text: &str, context: &RuleContext) -> Option<Pred> {
    match parse_exclusion(text) {
        ParseOutcome::Parsed(mut parsed) => {
            columns_compared(&mut parsed, context.table);
            Some(exclusion_on_table(&parsed.pred, context))
        }
        _ => None,
    }
}

/// Whether `field` is a property path of one of `columns` (not the column itself).
fn is_property(field: &str, columns: &[Column]) -> bool {
    let column = crate::pred::column_of(field);
    column.len() < field.len() && columns.iter().any(|c| c.name == column)
}
