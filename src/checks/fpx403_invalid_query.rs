//! FPX403 invalid-query (error)
//!
//! ## What it catches
//! A rule whose query does not compile in KQL: a syntax error (an unclosed string or
//! parenthesis, a list that ends with a comma, two operators in a row, a stage without
//! its operator such as `| Sha1 in (...)`), an unknown query operator (`| wher`), an
//! unknown table, a keyword in upper case (`AND`), or a name that resolves nowhere in
//! the pipeline. Names are followed through `extend`, `project`, `project-rename`,
//! `project-away`, `summarize ... by`, `distinct` and `let`; after a `join`, `union`,
//! `mv-expand` or `parse` fpx stops checking names rather than guess. What fpx reports
//! here, Microsoft's Kusto.Language reports too (a test compares them).
//!
//! For a Sigma rule: a condition that names a selection the rule does not define
//! (`not filter_main_sccmm`), or a `1 of filter_mian_*` that matches no selection. Every
//! Sigma backend refuses such a rule; read as written, the misspelt filter would be
//! silently dropped and the rule would alert on what it was meant to exclude.
//!
//! ## Why it matters
//! Sentinel refuses to save the rule, or the hunting query fails when it runs: the
//! detection never fires. 62 of the 168 RMM corpus rules end in `summarize ... by
//! ..., AccountUpn` on DeviceNetworkEvents, which has no `AccountUpn`. The rest of the
//! query is still analysed as far as it can be, so exclusions are judged anyway.
//!
//! ## Example
//! ```text
//! DeviceNetworkEvents
//! | where RemoteUrl has "anydesk.com"
//! | summarize count() by DeviceId, AccountUpn
//! ```
//!
//! ## Passes
//! ```text
//! DeviceNetworkEvents
//! | where RemoteUrl has "anydesk.com"
//! | summarize count() by DeviceId, InitiatingProcessAccountUpn
//! ```
//!
//! ## Fix
//! Use the name the message suggests (the nearest column in scope at that point of the
//! query), or the operator it suggests. No automatic fix: a query edit changes what the
//! rule detects.

use super::{Code, Finding, CodeInfo, Severity};
use crate::model::QueryError;
use crate::pred::Span;

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx403,
    name: "invalid-query",
    severity: Severity::Error,
    summary: "the rule's query does not compile",
    source: include_str!("fpx403_invalid_query.rs"),
};

/// `span` is where the error is in the rule file.
pub(super) fn finding(error: &QueryError, span: Span) -> Finding {
    let mut f = Finding::new(&INFO, error.message.clone(), span, "does not compile");
    f.help = error.help.clone();
    f
}
