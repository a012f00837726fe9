//! FPX304 attacker-controllable (warning)
//!
//! ## What it catches
//! An exclusion that an attacker can satisfy on purpose: every event the rule alerts
//! on can be turned into a suppressed alert by changing only fields the attacker
//! chooses (command line, file name, folder path, URL, version info), i.e.
//! D implies (there are attacker values with D and E). An exclusion that also needs
//! a field the attacker cannot choose (the device, the account, the signer) does not
//! qualify, whatever else it tests: most alerts stay out of its reach. Decided
//! exactly (or not reported when the logic cannot decide); fpx proves it with two
//! events that differ only in attacker fields.
//!
//! Each finding says what the cheapest bypass costs (`schemas/bypass.yaml`): *free*,
//! text the attacker writes (a command line, a URL, a substring anywhere in a path);
//! *user*, a name or path a normal user creates; *admin*, a path in a folder only an
//! administrator writes, an HKLM key, a service. The tier is decided: the same exact
//! decision, with every test costing more than the tier read as out of reach. An
//! admin-only bypass is reported as info.
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

use super::{Code, Finding, CodeInfo, Severity, describe_event, whole_span};
use crate::logic::{Domains, SatResult, sat_in};
use crate::pred::{Atom, Event, Op, Pred};
use crate::schema::{Bypass, FieldKind, field_kind, protected_key, protected_path};

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx304,
    name: "attacker-controllable",
    severity: Severity::Warning,
    summary: "every alert can be suppressed by changing fields an attacker sets",
    source: include_str!("fpx304_attacker_controllable.rs"),
};

/// Most distinct conditions on fields the attacker does not set that the decision
/// enumerates (2^n truth assignments at worst); past it the answer is "unknown" and no
/// finding is reported.
const MAX_FIXED_ATOMS: usize = 14;

/// FPX304 holds when D implies (exists attacker columns. D and E): every alert can be
/// turned into a suppressed alert by changing attacker-set columns alone. `on_table` is
/// E over the table's columns; the caller has ruled out D implies E (FPX104).
///
/// Decided exactly by enumerating the truth values of the conditions on the other
/// columns (`fixed`): they are all an alert keeps when the attacker changes their own
/// columns. An assignment under which D can hold but D and E cannot (whatever the
/// attacker's columns) is an alert the attacker cannot get suppressed: no finding.
pub(super) fn finding(
    text: &str,
    pred: &Pred,
    on_table: &Pred,
    detection: &Pred,
    attacker: &dyn Fn(&str) -> bool,
    domains: &Domains,
    scoped: bool,
) -> Option<Finding> {
    // The columns the exclusion reads (a pseudo-ECS or aliased name is its column).
    if !on_table.atoms().iter().any(|a| attacker(&a.field)) {
        return None;
    }
    // The cheapest bypass: the exclusion with every attacker test that needs more than
    // `tier` read as unreachable, from free up to the exclusion as it is.
    let needed = cost(on_table, true, attacker);
    let tiers = [Bypass::Free, Bypass::User, Bypass::Admin];
    let (bypass, proof) = tiers
        .into_iter()
        .filter(|&tier| tier <= needed)
        .find_map(|tier| {
            let reachable = if tier == needed {
                on_table.clone()
            } else {
                within(on_table, true, tier, attacker)
            };
            switch_on(&reachable, detection, attacker, domains).map(|proof| (tier, proof))
        })?;
    let Proof { before, after, changes } = proof;
    let fields: Vec<&str> = changes.keys().map(String::as_str).collect();
    let mut f = Finding::new(
        &INFO,
        format!(
            "an attacker can switch this exclusion on for every alert {} (bypass {}): setting {} suppresses the alert",
            if scoped { "only its `or` branch raises" } else { "of the rule" },
            bypass.describe(),
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
    f.witness = Some(after);
    f.severity = bypass_severity(bypass);
    f.bypass = Some(bypass);
    Some(f)
}

/// The severity of an FPX304 by what the bypass costs: one only an administrator can
/// make is worth knowing, not a warning.
pub fn bypass_severity(bypass: Bypass) -> Severity {
    match bypass {
        Bypass::Free | Bypass::User => Severity::Warning,
        Bypass::Admin => Severity::Info,
    }
}

/// Two events that prove the exclusion can be switched on: an alert it does not
/// suppress, the same alert with the attacker's values, and those values.
struct Proof {
    before: Event,
    after: Event,
    changes: Event,
}

/// Whether every alert of `detection` can be moved into `on_table` by changing
/// attacker columns alone (decided exactly, `None` when not or when the logic cannot
/// decide), with the proof.
fn switch_on(on_table: &Pred, detection: &Pred, attacker: &dyn Fn(&str) -> bool, domains: &Domains) -> Option<Proof> {
    let mut both = Pred::And(vec![detection.clone(), on_table.clone()]);
    // An attacker chooses a field's value, not whether the log source records it: the
    // values they set are never Sigma's null.
    let mut nullable: Vec<&str> = Vec::new();
    for a in both.atoms() {
        if a.is_null_test() && attacker(&a.field) && !nullable.contains(&a.field.as_str()) {
            nullable.push(&a.field);
        }
    }
    if !nullable.is_empty() {
        let guards = nullable.iter().map(|f| {
            Pred::Atom(Atom::new(f, crate::pred::Op::Equals, true, true, vec![crate::pred::Value::Null]))
        });
        both = Pred::And(std::iter::once(both.clone()).chain(guards).collect());
    }
    // A field compared with another (`A == B`) where only one side is the attacker's:
    // what the attacker can do then depends on the other side's value, not only on the
    // truth of its conditions, so the search below would not be exact. No finding.
    let mixed = |a: &&Atom| a.other_field().is_some_and(|other| attacker(&a.field) != attacker(other));
    if both.atoms().iter().any(mixed) {
        return None;
    }
    let mut fixed: Vec<Atom> = Vec::new();
    for atom in both.atoms() {
        if !attacker(&atom.field) && !fixed.contains(atom) {
            fixed.push(atom.clone());
        }
    }
    if fixed.len() > MAX_FIXED_ATOMS {
        return None;
    }
    let mut search = Search {
        fixed: &fixed,
        detection,
        both: &both,
        truth: Vec::new(),
        domains,
    };
    if search.escape()? {
        return None;
    }
    // Proof: an alert the exclusion does not suppress, and the same alert with the
    // attacker's values, still an alert and now suppressed.
    let SatResult::Sat(before) = sat_in(&Pred::And(vec![detection.clone(), on_table.negate()]), domains) else {
        return None;
    };
    let kept: Vec<bool> = fixed.iter().map(|a| a.eval(&before)).collect();
    let SatResult::Sat(chosen) = sat_in(&assign(&both, &fixed, &kept), domains) else {
        return None;
    };
    let mut after = before.clone();
    for (k, v) in chosen.into_iter().filter(|(k, _)| attacker(k)) {
        after.insert(k, v);
    }
    if !(detection.eval(&after) && on_table.eval(&after)) {
        return None;
    }
    let changes: Event = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Some(Proof { before, after, changes })
}

/// What making the literal of `a` true costs the attacker (`positive`: the atom as
/// written must hold; else its negation must).
fn atom_cost(a: &Atom, positive: bool) -> Bypass {
    let holds = positive != a.negated;
    let all = |protected: fn(&str) -> bool| !a.values.is_empty() && a.values.iter().all(|v| protected(v.text()));
    match field_kind(&a.field) {
        FieldKind::Text => Bypass::Free,
        FieldKind::Name => Bypass::User,
        FieldKind::Admin => Bypass::Admin,
        FieldKind::Registry if holds && matches!(a.op, Op::Equals | Op::StartsWith | Op::In) && all(protected_key) => {
            Bypass::Admin
        }
        FieldKind::Registry => Bypass::User,
        // A path that must avoid something: any path of their own.
        FieldKind::Path if !holds => Bypass::User,
        FieldKind::Path => match a.op {
            // A substring anywhere in a path: a folder name they choose.
            Op::Contains | Op::Has | Op::HasAny | Op::HasAll | Op::HasPrefix | Op::HasSuffix => Bypass::Free,
            Op::Equals | Op::StartsWith | Op::In if all(protected_path) => Bypass::Admin,
            _ => Bypass::User,
        },
    }
}

/// The most any attacker test of `p` costs.
fn cost(p: &Pred, positive: bool, attacker: &dyn Fn(&str) -> bool) -> Bypass {
    match p {
        Pred::Atom(a) if attacker(&a.field) => atom_cost(a, positive),
        Pred::Not(q) => cost(q, !positive, attacker),
        Pred::And(ps) | Pred::Or(ps) => ps.iter().map(|q| cost(q, positive, attacker)).max().unwrap_or(Bypass::Free),
        _ => Bypass::Free,
    }
}

/// `p` with every attacker test that costs more than `tier` read as beyond the
/// attacker's reach: false where it must hold, true where it must not.
fn within(p: &Pred, positive: bool, tier: Bypass, attacker: &dyn Fn(&str) -> bool) -> Pred {
    match p {
        Pred::Atom(a) if attacker(&a.field) && atom_cost(a, positive) > tier => {
            if positive {
                Pred::False
            } else {
                Pred::True
            }
        }
        Pred::Not(q) => Pred::Not(Box::new(within(q, !positive, tier, attacker))),
        Pred::And(ps) => Pred::And(ps.iter().map(|q| within(q, positive, tier, attacker)).collect()),
        Pred::Or(ps) => Pred::Or(ps.iter().map(|q| within(q, positive, tier, attacker)).collect()),
        other => other.clone(),
    }
}

/// The search for an alert that no change of attacker columns gets suppressed.
struct Search<'a> {
    fixed: &'a [Atom],
    detection: &'a Pred,
    both: &'a Pred,
    /// Truth values of the first `truth.len()` fixed atoms.
    truth: Vec<bool>,
    domains: &'a Domains,
}

impl Search<'_> {
    /// `Some(true)` when such an alert exists, `Some(false)` when none does, `None` when
    /// the logic could not decide a step.
    fn escape(&mut self) -> Option<bool> {
        let chosen = &self.fixed[..self.truth.len()];
        // The fixed columns can take these truth values together, and D can still hold.
        let literals: Vec<Pred> = chosen
            .iter()
            .zip(&self.truth)
            .map(|(a, &t)| {
                let atom = Pred::Atom(a.clone());
                if t { atom } else { Pred::Not(Box::new(atom)) }
            })
            .collect();
        match sat_in(&Pred::And(literals), self.domains) {
            SatResult::Unsat => return Some(false),
            SatResult::Unknown => return None,
            SatResult::Sat(_) => {}
        }
        match sat_in(&assign(self.detection, chosen, &self.truth), self.domains) {
            SatResult::Unsat => return Some(false),
            SatResult::Unknown => return None,
            SatResult::Sat(_) => {}
        }
        if self.truth.len() == self.fixed.len() {
            // Every fixed condition is decided; what is left is over attacker columns.
            return match sat_in(&assign(self.both, self.fixed, &self.truth), self.domains) {
                SatResult::Unsat => Some(true),
                SatResult::Sat(_) => Some(false),
                SatResult::Unknown => None,
            };
        }
        for value in [false, true] {
            self.truth.push(value);
            let found = self.escape();
            self.truth.pop();
            if found != Some(false) {
                return found;
            }
        }
        Some(false)
    }
}

/// `pred` with each of `atoms` replaced by its truth value (the first `truth.len()`).
fn assign(pred: &Pred, atoms: &[Atom], truth: &[bool]) -> Pred {
    pred.map_atoms(&mut |a: &Atom| match atoms.iter().zip(truth).find(|(b, _)| *b == a) {
        Some((_, true)) => Pred::True,
        Some((_, false)) => Pred::False,
        None => Pred::Atom(a.clone()),
    })
}
