//! FPX304 attacker-controllable (warning)
//!
//! ## What it catches
//! An exclusion that an attacker can satisfy on purpose: on an event the rule alerts
//! on, changing only fields the attacker chooses (command line, file name, folder
//! path, URL, version info) turns the exclusion on. fpx proves it with two events that
//! differ only in those fields.
//!
//! ## Why it matters
//! `ProcessCommandLine contains "schtasks.exe"` is a free pass: the attacker adds the
//! word to their command line and the alert is gone.
//!
//! ## Example
//! ```text
//! table: DeviceProcessEvents
//! rule: FileName =~ "LiteManager.exe"
//! exclusion: ProcessCommandLine contains "schtasks.exe"
//! ```
//!
//! ## Passes
//! ```text
//! table: DeviceProcessEvents
//! rule: FileName =~ "LiteManager.exe"
//! exclusion: AccountName == "svc_backup" and DeviceName == "BACKUP-01"
//! ```
//!
//! ## Fix
//! Anchor the exclusion on what the attacker cannot choose: the account, the device,
//! the signer, a hash. No automatic fix.

use super::{Finding, Code, Rule, Severity, describe_event, whole_span};
use crate::logic::{SatResult, sat};
use crate::pred::{Atom, Event, Pred};

pub(super) static RULE: Rule = Rule {
    code: Code::Fpx304,
    name: "attacker-controllable",
    severity: Severity::Warning,
    summary: "the exclusion can be made true through fields an attacker sets",
    source: include_str!("fpx304_attacker_controllable.rs"),
};

/// Marks the attacker's second choice of a field's value.
const CHOSEN: &str = " (attacker's choice)";

/// Is there an alert that the exclusion does not suppress, and a variant of it that
/// differs only in attacker-controlled fields, still alerts, and is suppressed?
pub(super) fn finding(
    text: &str,
    pred: &Pred,
    on_table: &Pred,
    detection: &Pred,
    attacker: &dyn Fn(&str) -> bool,
) -> Option<Finding> {
    let chosen = |p: &Pred| {
        p.map_atoms(&mut |a: &Atom| {
            let mut a = a.clone();
            if attacker(&a.field) {
                a.field.push_str(CHOSEN);
            }
            Pred::Atom(a)
        })
    };
    let question = Pred::And(vec![
        detection.clone(),
        Pred::Not(Box::new(on_table.clone())),
        chosen(detection),
        chosen(on_table),
    ]);
    let SatResult::Sat(both) = sat(&question) else {
        return None;
    };
    let before: Event = both
        .iter()
        .filter(|(k, _)| !k.ends_with(CHOSEN))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let changes: Event = both
        .iter()
        .filter_map(|(k, v)| k.strip_suffix(CHOSEN).map(|f| (f.to_string(), v.clone())))
        .filter(|(f, v)| before.get(f) != Some(v))
        .collect();
    let fields: Vec<&str> = changes.keys().map(String::as_str).collect();
    let mut f = Finding::new(
        &RULE,
        format!(
            "an attacker can switch this exclusion on: setting {} on an alert suppresses it",
            describe_event(&changes)
        ),
        whole_span(text, pred),
        format!("true when the attacker sets {}", fields.join(", ")),
    );
    f.help = Some(format!(
        "the alert {} is not suppressed; with {} it is. Anchor the exclusion on fields the attacker cannot choose",
        describe_event(&before),
        describe_event(&changes)
    ));
    let mut after = before.clone();
    after.extend(changes);
    f.witness = Some(after);
    Some(f)
}
