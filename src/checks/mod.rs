//! Findings: a registry of stable codes (one file per code, whose `//!` doc comment is
//! the text `fpx explain CODE` prints) and the analysis that produces them for one
//! exclusion.

pub mod anchor;
mod context;
mod exclusions;
pub(crate) mod fingerprint;
mod fixes;
mod results;
mod rules;
mod scenario;

/// Declares every finding code once: the `Code` enum, the module holding its decision
/// logic and documentation, and the registry [`CODES`] (in code order, so `Code as usize`
/// indexes it).
macro_rules! registry {
    ($($variant:ident = $code:literal in $module:ident,)*) => {
        $(mod $module;)*

        /// A stable finding code. Compared as a value, never as text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// The code as users write it: `FPX101`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }

            /// The code's documentation, name and severity.
            pub fn info(self) -> &'static CodeInfo {
                CODES[self as usize]
            }
        }

        /// Every code fpx reports, in code order.
        pub static CODES: &[&CodeInfo] = &[$(&$module::INFO,)*];
    };
}

registry! {
    Fpx001 = "FPX001" in fpx001_parse_error,
    Fpx002 = "FPX002" in fpx002_prose_exclusion,
    Fpx003 = "FPX003" in fpx003_placeholder,
    Fpx004 = "FPX004" in fpx004_typographic_quotes,
    Fpx005 = "FPX005" in fpx005_not_kql,
    Fpx101 = "FPX101" in fpx101_always_true,
    Fpx102 = "FPX102" in fpx102_never_true,
    Fpx103 = "FPX103" in fpx103_inverted_exclusion,
    Fpx104 = "FPX104" in fpx104_mutes_rule,
    Fpx105 = "FPX105" in fpx105_never_applies,
    Fpx106 = "FPX106" in fpx106_redundant_term,
    Fpx107 = "FPX107" in fpx107_subsumed_exclusion,
    Fpx108 = "FPX108" in fpx108_dead_rule,
    Fpx109 = "FPX109" in fpx109_precedence_scope,
    Fpx110 = "FPX110" in fpx110_letter_case,
    Fpx201 = "FPX201" in fpx201_unknown_field,
    Fpx202 = "FPX202" in fpx202_field_not_in_table,
    Fpx203 = "FPX203" in fpx203_value_mismatch,
    Fpx204 = "FPX204" in fpx204_type_mismatch,
    Fpx301 = "FPX301" in fpx301_suppresses_true_positive,
    Fpx302 = "FPX302" in fpx302_misses_benign,
    Fpx303 = "FPX303" in fpx303_not_a_false_positive,
    Fpx304 = "FPX304" in fpx304_attacker_controllable,
    Fpx305 = "FPX305" in fpx305_harness_inconclusive,
    Fpx401 = "FPX401" in fpx401_unsupported_query,
    Fpx402 = "FPX402" in fpx402_malformed_rule_file,
    Fpx403 = "FPX403" in fpx403_invalid_query,
    Fpx404 = "FPX404" in fpx404_duplicate_rule_id,
    Fpx405 = "FPX405" in fpx405_orphan_scenario,
    Fpx406 = "FPX406" in fpx406_unused_suppression,
}

use std::fmt;

pub use anchor::Anchor;
pub use context::{InContext, RuleContext, analyze_in_context, exclusion_on_table, scenario_on_table};
pub use exclusions::{filter_label, filter_origin, inline_name};
pub use fixes::fixed_text;
pub use fpx304_attacker_controllable::bypass_severity;
pub use fpx406_unused_suppression::finding as unused_suppression;
pub use results::{
    CheckReport, Origin, Orphan, Outcome, OutcomeCounts, Owner, RuleResult, ScenarioResult, Suppressed, Suppression,
    SuppressionKind,
};
pub use rules::check_corpus;

use serde::Serialize;

use crate::expr::{ParseOutcome, parse_exclusion};
use crate::logic::{Classification, Verdict, classify};
use crate::pred::{Event, Pred, Span};

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A finding code: its stable identity and documentation.
#[derive(Debug)]
pub struct CodeInfo {
    pub code: Code,
    pub name: &'static str,
    pub severity: Severity,
    /// One line: when it fires.
    pub summary: &'static str,
    /// The source of the rule's file; its `//!` lines are the documentation.
    source: &'static str,
}

impl CodeInfo {
    /// The rule's documentation: the `//!` doc comment of its file.
    pub fn doc(&self) -> String {
        let mut out = String::new();
        for line in self.source.lines() {
            let Some(text) = line.strip_prefix("//!") else {
                if !out.is_empty() {
                    break;
                }
                continue;
            };
            out.push_str(text.strip_prefix(' ').unwrap_or(text));
            out.push('\n');
        }
        out
    }
}

/// Finds a rule by code (`FPX101`, any case) or name (`always-true`).
pub fn lookup(code_or_name: &str) -> Option<&'static CodeInfo> {
    CODES
        .iter()
        .copied()
        .find(|r| r.code.as_str().eq_ignore_ascii_case(code_or_name) || r.name.eq_ignore_ascii_case(code_or_name))
}

/// A replacement of one byte range of the exclusion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
}

/// A fix: edits to the exclusion text and the text they produce.
#[derive(Debug, Clone, PartialEq)]
pub struct Fix {
    /// What the fix does, for a person.
    pub description: String,
    pub edits: Vec<Edit>,
    /// Safe fixes never change what the exclusion means.
    pub safe: bool,
}

impl Fix {
    /// A fix that replaces the whole exclusion.
    pub fn replace_all(description: impl Into<String>, source: &str, replacement: String, safe: bool) -> Fix {
        Fix {
            description: description.into(),
            edits: vec![Edit {
                span: 0..source.len(),
                replacement,
            }],
            safe,
        }
    }

    /// The exclusion text after the fix.
    pub fn apply(&self, source: &str) -> String {
        apply_edits(source, &self.edits)
    }
}

/// Applies non-overlapping edits (in any order) to `source`.
pub fn apply_edits(source: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(source.len());
    let mut at = 0;
    for edit in sorted {
        if edit.span.start < at {
            continue;
        }
        out.push_str(&source[at..edit.span.start]);
        out.push_str(&edit.replacement);
        at = edit.span.end;
    }
    out.push_str(&source[at..]);
    out
}

/// One problem found in one exclusion.
#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: &'static CodeInfo,
    /// How bad it is: the code's severity, unless the configuration overrides it.
    pub severity: Severity,
    /// One sentence: what is wrong.
    pub message: String,
    /// Byte range inside the exclusion the finding points at.
    pub span: Span,
    /// Short text under the caret.
    pub label: String,
    /// Other places the finding involves, each with its own label.
    pub related: Vec<(Span, String)>,
    /// Advice, when there is more to say than the fix.
    pub help: Option<String>,
    pub fix: Option<Fix>,
    /// An event that proves the finding.
    pub witness: Option<Event>,
    /// Set when the finding is about a line of the scenario file other than the
    /// exclusion (an event template): `span` then indexes that line.
    pub line: Option<usize>,
    /// Identity across runs: survives reordering and unrelated edits (no line numbers).
    /// Filled in when a corpus is checked.
    pub fingerprint: String,
    /// Where the finding is in its file; set when a corpus is checked (`None` for a
    /// bare expression linted on its own).
    pub anchor: Option<anchor::Anchor>,
    /// Whether the finding was already known (in the `--baseline` file): it is reported
    /// but does not fail the gate.
    pub baseline: bool,
    /// For FPX304, what the attacker must control (its default severity follows).
    pub bypass: Option<crate::schema::Bypass>,
}

impl Finding {
    /// Where the finding is. Every finding of a checked corpus has its anchor
    /// ([`check_corpus`] sets them all); only a bare linted expression has none.
    pub fn anchor(&self) -> &Anchor {
        self.anchor
            .as_ref()
            .expect("check_corpus anchors every finding before it is reported")
    }

    fn new(kind: &'static CodeInfo, message: impl Into<String>, span: Span, label: impl Into<String>) -> Finding {
        Finding {
            kind,
            severity: kind.severity,
            message: message.into(),
            span,
            label: label.into(),
            related: Vec::new(),
            help: None,
            fix: None,
            witness: None,
            line: None,
            fingerprint: String::new(),
            anchor: None,
            baseline: false,
            bypass: None,
        }
    }
}

/// Everything fpx concludes about one exclusion on its own (no rule, no table).
#[derive(Debug, Clone)]
pub struct ExclusionAnalysis {
    pub text: String,
    pub outcome: ParseOutcome,
    /// The logic verdict, when the exclusion parsed.
    pub classification: Option<Classification>,
    pub findings: Vec<Finding>,
}

impl ExclusionAnalysis {
    /// The `logic` value of `fpx lint --format json`.
    pub fn logic(&self) -> &'static str {
        match &self.classification {
            Some(c) => c.verdict.as_str(),
            None => "invalid",
        }
    }
}

/// Parses an exclusion and runs every check that needs only the exclusion itself.
pub fn analyze_exclusion(text: &str) -> ExclusionAnalysis {
    analyze_outcome(text, parse_exclusion(text))
}

/// The checks that need only the exclusion, on an exclusion already read (`text` is
/// what its spans index).
pub fn analyze_outcome(text: &str, outcome: ParseOutcome) -> ExclusionAnalysis {
    let mut findings = Vec::new();
    let mut classification = None;
    match &outcome {
        ParseOutcome::Invalid(error) => findings.push(fpx001_parse_error::finding(error)),
        ParseOutcome::Prose(prose) => findings.push(fpx002_prose_exclusion::finding(text, prose)),
        ParseOutcome::Parsed(parsed) => {
            findings.extend(fpx003_placeholder::findings(parsed));
            findings.extend(fpx004_typographic_quotes::finding(parsed));
            let c = classify(&parsed.pred);
            findings.extend(logic_findings(text, &parsed.pred, &c, None));
            // After the logic's root causes: the spelling matters once the logic is right.
            findings.extend(fpx005_not_kql::finding(parsed));
            classification = Some(c);
        }
    }
    ExclusionAnalysis {
        text: text.to_string(),
        outcome,
        classification,
        findings,
    }
}

/// The findings of an exclusion's verdict. Root causes, not echoes: an exclusion that
/// is always (or never) true has no inverted or redundant part worth reporting.
/// `null_suppressed` is an event a never-true exclusion still suppresses because a
/// column it compares is null there.
fn logic_findings(text: &str, pred: &Pred, c: &Classification, null_suppressed: Option<&Event>) -> Vec<Finding> {
    let mut findings = Vec::new();
    match c.verdict {
        Verdict::AlwaysTrue => findings.push(fpx101_always_true::finding(text, pred, c)),
        Verdict::NeverTrue => findings.push(fpx102_never_true::finding(text, pred, c, null_suppressed)),
        Verdict::Contingent => {
            findings.extend(fpx103_inverted_exclusion::finding(text, pred, c));
            if pred.atom_count() <= MAX_ATOMS_FOR_REDUNDANCY {
                findings.extend(fpx106_redundant_term::finding(text, pred));
            }
        }
        Verdict::Unknown => {}
    }
    findings
}

/// The codes [`logic_findings`] reports.
const LOGIC_CODES: [Code; 4] = [Code::Fpx101, Code::Fpx102, Code::Fpx103, Code::Fpx106];

/// Exclusions with more atoms than this are not searched for redundant terms (FPX106),
/// which costs two decisions per term.
pub const MAX_ATOMS_FOR_REDUNDANCY: usize = crate::logic::MAX_ATOMS_TO_SIMPLIFY;

/// Like [`analyze_exclusion`] (or, with a table, [`analyze_in_context`] without a rule),
/// for raw bytes: text that is not UTF-8 is an FPX001.
pub fn analyze_bytes(bytes: &[u8], table: Option<&str>) -> ExclusionAnalysis {
    match std::str::from_utf8(bytes) {
        Ok(text) => match table {
            Some(table) => {
                let table = crate::schema::Table::named(table);
                analyze_in_context(
                    text,
                    Some(&RuleContext {
                        table: &table,
                        detection: None,
                        scoped: false,
                    }),
                )
                .analysis
            }
            None => analyze_exclusion(text),
        },
        Err(err) => {
            let at = err.valid_up_to();
            let error = crate::expr::not_utf8(at, bytes[at]);
            ExclusionAnalysis {
                text: String::from_utf8_lossy(bytes).into_owned(),
                findings: vec![fpx001_parse_error::finding(&error)],
                outcome: ParseOutcome::Invalid(error),
                classification: None,
            }
        }
    }
}

/// Renders an event as `{field: "value", ...}` for messages.
pub fn describe_event(event: &Event) -> String {
    let fields: Vec<String> = event
        .iter()
        .map(|(k, v)| match v.as_str() {
            crate::pred::NULL => format!("{k}: null"),
            v => format!("{k}: {v:?}"),
        })
        .collect();
    format!("{{{}}}", fields.join(", "))
}

/// `a, b are not in the rule's table` (or `a is ...`), and whether there is one field;
/// `None` when every field is in the table.
fn not_in_table(absent: &[String]) -> Option<(String, bool)> {
    let one = absent.len() == 1;
    (!absent.is_empty()).then(|| {
        (
            format!(
                "{} {} not in the rule's table",
                absent.join(", "),
                if one { "is" } else { "are" }
            ),
            one,
        )
    })
}

/// The span covering every atom of the exclusion (the whole text if none has a span).
fn whole_span(text: &str, pred: &crate::pred::Pred) -> Span {
    let atoms = pred.atoms();
    match (
        atoms.iter().map(|a| a.span.start).min(),
        atoms.iter().map(|a| a.span.end).max(),
    ) {
        (Some(s), Some(e)) if e > s => s..e,
        _ => 0..text.len(),
    }
}

#[cfg(test)]
mod tests;
