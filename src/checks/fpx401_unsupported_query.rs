//! FPX401 unsupported-query (warning)
//!
//! ## What it catches
//! An exclusion whose effect on the rule's alerts fpx could not decide (a regular
//! expression that only matches texts over 4,096 bytes, or a formula past the search
//! budget): the checks against the rule's alerts are skipped for it, and it says so.
//! And KQL in the rule's query that fpx cannot lower exactly: a `datatable`, a `join`,
//! membership in another query's result, functions of columns, or a query that is not
//! valid KQL at all. fpx says what it did: either it read the condition as "could be
//! true" (so checks stay sound but may miss problems), or it checks the rule without
//! its detection logic (FPX104, FPX105 and FPX304 are skipped). A `join` that keeps the
//! rule's rows (`inner`, `innerunique`, the `left...` kinds, `lookup`) is noted too, but
//! D stays exact for the rule's own table: fpx judges exclusions on those rows, and
//! whether a row also has its match in the other table is outside one table's events.
//!
//! ## Why it matters
//! A reviewer should know which verdicts rest on the whole query and which do not.
//!
//! ## Example
//! ```text
//! let set = datatable(URI:string)['a.com'];
//! DeviceNetworkEvents | where RemoteUrl has_any ((set | distinct URI))
//! ```
//!
//! ## Passes
//! ```text
//! DeviceNetworkEvents | where RemoteUrl has_any ('a.com')
//! ```
//!
//! ## Fix
//! Nothing to fix in the rule for fpx's sake; where the query itself is invalid KQL
//! (two operators in a row, a stage without an operator), fix the query.

use super::{Finding, Code, CodeInfo, Severity};
use crate::kql::QueryNote;
use crate::pred::Span;

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx401,
    name: "unsupported-query",
    severity: Severity::Warning,
    summary: "the rule's query uses KQL that fpx cannot lower",
    source: include_str!("fpx401_unsupported_query.rs"),
};

/// `span` is where the note's construct is in the rule file.
/// An exclusion fpx read, whose effect on the rule's alerts it could not decide (a
/// regular expression that only matches texts over 4,096 bytes, a search past its
/// budget): FPX104, FPX105 and FPX304 found nothing only because they could not finish.
pub(super) fn undecided(text: &str, pred: &crate::pred::Pred) -> Finding {
    let mut f = Finding::new(
        &INFO,
        "fpx could not decide which of the rule's alerts this exclusion suppresses",
        super::whole_span(text, pred),
        "not decided",
    );
    f.help = Some(
        "FPX104, FPX105 and FPX304 are skipped for it: the rule's detection or the exclusion holds a test fpx does not decide (a regular expression that only matches texts over 4,096 bytes, or a formula past the search budget)"
            .into(),
    );
    f
}

pub(super) fn finding(note: &QueryNote, span: Span) -> Finding {
    let mut f = Finding::new(
        &INFO,
        note.message.clone(),
        span,
        match (note.fatal, note.correlates) {
            (true, _) => "not lowered",
            (false, true) => "another table",
            (false, false) => "approximated",
        },
    );
    f.help = Some(match (note.fatal, note.correlates) {
        (true, _) => "checks that need the rule's detection logic (FPX104, FPX105, FPX304) are skipped for this rule".into(),
        (false, true) => "D is exact for the rule's own table; an exclusion is judged on those rows, whatever the other table holds".into(),
        (false, false) => {
            "verdicts that depend on the rule stay sound, but fpx may miss problems this condition would reveal".into()
        }
    });
    f
}

/// The rule's table is not one fpx knows.
pub(super) fn unknown_table(table: &str, span: Span) -> Finding {
    let mut f = Finding::new(
        &INFO,
        format!("fpx does not know the table `{table}`"),
        span,
        "unknown table",
    );
    f.help = Some("field checks (FPX201-FPX203) and rule-dependent checks are skipped for this rule".into());
    f
}
