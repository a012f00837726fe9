//! FPX110 letter-case (warning)
//!
//! ## What it catches
//! An exclusion of an Elastic rule that compares letter case where case means nothing
//! (an exception entry *is* / *is one of*, a `wildcard` entry, EQL `==` or `in`, a
//! Kibana KQL keyword match) while the rule alerts on the same event spelt otherwise: an
//! alert that differs from what the exclusion suppresses only in letter case still
//! fires. Case means nothing in a Windows rule's paths, names, command lines and
//! registry keys (the rule requires `host.os.type == "windows"`), and in a domain name
//! anywhere; on Linux and macOS paths it does, and fpx says nothing. Decided exactly: fpx
//! finds an event the rule alerts on that the exclusion suppresses when case is ignored
//! but not as written, and prints it.
//!
//! ## Why it matters
//! Windows paths and names, DNS names and registry keys are case-insensitive, and events
//! carry them as the program wrote them: `C:\Windows\System32\svchost.exe` one day,
//! `c:\windows\system32\svchost.exe` the next. Kibana's *is one of* even drops values
//! that differ only in case when the list is edited (kibana #96537), so the exception
//! silently stops applying to the spelling it dropped.
//!
//! ## Example
//! ```text
//! --- rule.toml
//! [rule]
//! name = "Child of WmiPrvSE"
//! rule_id = "r1"
//! type = "eql"
//! language = "eql"
//! query = '''process where host.os.type == "windows" and process.parent.name : "WmiPrvSE.exe"'''
//! --- exception.toml
//! [metadata]
//! list_name = "trusted"
//! rule_ids = ["r1"]
//! [[exceptions]]
//! [exceptions.container]
//! list_id = "trusted"
//! name = "trusted"
//! [[exceptions.items]]
//! name = "scanner"
//! [[exceptions.items.entries]]
//! field = "process.executable"
//! type = "match_any"
//! operator = "included"
//! value = ["C:\\Windows\\System32\\scanner.exe"]
//! ```
//!
//! ## Passes
//! ```text
//! --- rule.toml
//! [rule]
//! name = "Child of WmiPrvSE"
//! rule_id = "r1"
//! type = "eql"
//! language = "eql"
//! query = '''process where host.os.type == "windows" and process.parent.name : "WmiPrvSE.exe" and process.executable == "C:\\Windows\\System32\\scanner.exe"'''
//! --- exception.toml
//! [metadata]
//! list_name = "trusted"
//! rule_ids = ["r1"]
//! [[exceptions]]
//! [exceptions.container]
//! list_id = "trusted"
//! name = "trusted"
//! [[exceptions.items]]
//! name = "scanner"
//! [[exceptions.items.entries]]
//! field = "process.executable"
//! type = "match_any"
//! operator = "included"
//! value = ["C:\\Windows\\System32\\scanner.exe"]
//! ```
//!
//! ## Fix
//! List every spelling the events carry, or compare case-insensitively: EQL `:` or
//! `in~`, an exception on a case-insensitive field (Elastic Defend's `*.caseless`). No
//! automatic fix.

use super::{Code, CodeInfo, Finding, Severity, describe_event, whole_span};
use crate::logic::{Domains, SatResult, sat_in};
use crate::pred::{Atom, Op, Pred};

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx110,
    name: "letter-case",
    severity: Severity::Warning,
    summary: "an alert that differs from what the exclusion suppresses only in letter case still fires",
    source: include_str!("fpx110_letter_case.rs"),
};

/// Operators whose case-insensitive form means the same test ignoring case.
fn has_case(op: Op) -> bool {
    matches!(
        op,
        Op::Equals | Op::Contains | Op::StartsWith | Op::EndsWith | Op::In | Op::Has | Op::HasPrefix | Op::HasSuffix
    )
}

/// Fields whose values are case-insensitive wherever they come from.
const DOMAINS: &[&str] = &["dns.question.name", "url.domain", "destination.domain", "source.domain"];

/// FPX110 on an exclusion (`on_table`: what it suppresses, on the table's columns)
/// judged against `detection`, on a table of `columns` (the attacker-set ones are the
/// paths, names and command lines).
pub(super) fn finding(
    text: &str,
    pred: &Pred,
    on_table: &Pred,
    detection: &Pred,
    columns: &[crate::schema::Column],
    domains: &Domains,
) -> Option<Finding> {
    let windows_only = || {
        let other = Atom::new("host.os.type", Op::Equals, true, true, vec![crate::pred::Value::Str("windows".into())]);
        matches!(sat_in(&Pred::And(vec![detection.clone(), Pred::Atom(other)]), domains), SatResult::Unsat)
    };
    let attacker = |field: &str| columns.iter().any(|c| c.name == field && c.attacker);
    let windows = std::cell::OnceCell::new();
    let case_free = |field: &str| DOMAINS.contains(&field) || attacker(field) && *windows.get_or_init(windows_only);
    let cased = |a: &Atom| a.case_sensitive && has_case(a.op) && case_free(&a.field);
    if !on_table.atoms().iter().any(|a| cased(a)) {
        return None;
    }
    let ignoring_case = on_table.map_atoms(&mut |a| {
        Pred::Atom(Atom {
            case_sensitive: a.case_sensitive && !cased(a),
            ..a.clone()
        })
    });
    let escapes = Pred::And(vec![
        detection.clone(),
        ignoring_case,
        Pred::Not(Box::new(on_table.clone())),
    ]);
    let SatResult::Sat(event) = sat_in(&escapes, domains) else {
        return None;
    };
    let mut f = Finding::new(
        &INFO,
        format!(
            "compares letter case: {} still alerts, though it differs from what this exclusion suppresses only in letter case",
            describe_event(&event)
        ),
        whole_span(text, pred),
        "case-sensitive",
    );
    f.help = Some(
        "paths, names, domains and registry keys reach events in any case: list every spelling, or compare case-insensitively (EQL `:` or `in~`, a `*.caseless` field)"
            .into(),
    );
    f.witness = Some(event);
    Some(f)
}
