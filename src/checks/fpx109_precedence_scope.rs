//! FPX109 precedence-scope (warning)
//!
//! ## What it catches
//! A filter (a Sigma filter selection, or a negated test in a KQL `where`) that binds
//! to one `or` branch only because `and` binds tighter than `or`, with no parentheses
//! written around that branch, while events it describes still alert through another
//! branch. In KQL: `FolderPath startswith @"C:\Windows\system32\" or FolderPath
//! startswith @"C:\Windows\SysWOW64\" and FileName !in~ ("fileacl.exe")` (a Microsoft
//! hunting query) leaves `fileacl.exe` under system32 alerting. SigmaHQ PR #6038 fixed
//! `selection_a or selection_b or selection_c and not 1 of filter_main_*`: the msiexec
//! filter applied to the third selection alone, and the `wevtutil sl` runs it describes
//! kept alerting through the first.
//!
//! ## Why it matters
//! The author wrote a filter for the rule and it filters one branch: the benign
//! activity it names keeps alerting, and nothing in the rule's text says so.
//!
//! ## Example
//! ```text
//! --- r8.yml
//! title: Event log settings changed
//! id: 6e0a1b2c-0000-4000-8000-000000006038
//! logsource:
//!     category: process_creation
//!     product: windows
//! detection:
//!     selection_wevtutil:
//!         Image|endswith: '\wevtutil.exe'
//!         CommandLine|contains: ' sl '
//!     selection_wmic:
//!         Image|endswith: '\wmic.exe'
//!         CommandLine|contains: 'ClearEventLog'
//!     filter_msiexec:
//!         ParentImage: 'C:\Windows\System32\msiexec.exe'
//!     condition: selection_wevtutil or selection_wmic and not filter_msiexec
//! ```
//!
//! ## Passes
//! ```text
//! --- r8.yml
//! title: Event log settings changed
//! id: 6e0a1b2c-0000-4000-8000-000000006038
//! logsource:
//!     category: process_creation
//!     product: windows
//! detection:
//!     selection_wevtutil:
//!         Image|endswith: '\wevtutil.exe'
//!         CommandLine|contains: ' sl '
//!     selection_wmic:
//!         Image|endswith: '\wmic.exe'
//!         CommandLine|contains: 'ClearEventLog'
//!     filter_msiexec:
//!         ParentImage: 'C:\Windows\System32\msiexec.exe'
//!     condition: (selection_wevtutil or selection_wmic) and not filter_msiexec
//! --- r9.yml
//! title: Event log settings changed
//! id: 6e0a1b2c-0000-4000-8000-000000006039
//! logsource:
//!     category: process_creation
//!     product: windows
//! detection:
//!     selection_wevtutil:
//!         Image|endswith: '\wevtutil.exe'
//!         CommandLine|contains: ' sl '
//!     selection_wmic:
//!         Image|endswith: '\wmic.exe'
//!         CommandLine|contains: 'ClearEventLog'
//!     filter_msiexec:
//!         ParentImage: 'C:\Windows\System32\msiexec.exe'
//!     condition: selection_wevtutil or (selection_wmic and not filter_msiexec)
//! ```
//! The second rule keeps the narrow scope, written on purpose: no finding.
//!
//! ## Fix
//! Parentheses around the `or` the filter was meant for, or around its branch if the
//! narrow scope is meant. No automatic fix: only the author knows which.

use super::{Code, CodeInfo, Finding, Severity, describe_event, whole_span};
use crate::logic::{Domains, SatResult, sat_in};
use crate::pred::Pred;

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx109,
    name: "precedence-scope",
    severity: Severity::Warning,
    summary: "a filter binds to one `or` branch by precedence; its events alert elsewhere",
    source: include_str!("fpx109_precedence_scope.rs"),
};

/// The finding for an exclusion whose scope is one branch by precedence: `suppresses`
/// is what it describes, `detection` the whole rule. An event of both is one the filter
/// describes that still alerts.
pub(super) fn finding(text: &str, suppresses: &Pred, detection: &Pred, domains: &Domains) -> Option<Finding> {
    let SatResult::Sat(event) = sat_in(&Pred::And(vec![detection.clone(), suppresses.clone()]), domains) else {
        return None;
    };
    let mut f = Finding::new(
        &INFO,
        format!(
            "binds to one `or` branch only: `and` binds tighter than `or` and no parentheses say otherwise, so {} matches this filter and still alerts through another branch",
            describe_event(&event)
        ),
        whole_span(text, suppresses),
        "filters one branch by precedence",
    );
    f.help = Some(
        "put parentheses around the `or` of the selections this filter is for, or around its own branch if only that branch is meant"
            .into(),
    );
    f.witness = Some(event);
    Some(f)
}
