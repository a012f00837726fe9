//! FPX108 dead-rule (error)
//!
//! ## What it catches
//! A rule whose detection can never be true (no event matches it), or one `or` branch
//! of it that can never match in the context of the rest: contradictory values
//! (`FileName =~ "a.exe" and FileName =~ "b.exe"`), an inline exclusion that removes
//! everything the rule matches, a branch that repeats a condition with another value.
//! Decided on D as fpx reads it; where D is approximated (FPX401) the approximation
//! only widens it, so a dead D is dead. Branches are the `or`s a person wrote between
//! conditions; the values of one list (`in~ (...)`, a Sigma value list) are not
//! examined one by one.
//!
//! ## Why it matters
//! The rule never alerts, or part of it is dead weight that looks like coverage: the
//! technique the author meant to catch with that branch is not caught.
//!
//! ## Example
//! ```text
//! DeviceProcessEvents
//! | where FileName =~ "anydesk.exe"
//! | where FileName =~ "teamviewer.exe" or ProcessCommandLine has "--remote"
//! ```
//!
//! ## Passes
//! ```text
//! DeviceProcessEvents
//! | where FileName in~ ("anydesk.exe", "teamviewer.exe")
//! | where ProcessCommandLine has "--remote"
//! ```
//!
//! ## Fix
//! Correct the values (often an `and` meant as `or`, or `in~ (...)` for several
//! names). No automatic fix.

use super::{Code, Finding, CodeInfo, Severity};
use crate::logic::{Domains, SatResult, sat_in};
use crate::pred::{Pred, Span};

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx108,
    name: "dead-rule",
    severity: Severity::Error,
    summary: "the rule's detection, or one `or` branch of it, can never be true",
    source: include_str!("fpx108_dead_rule.rs"),
};

/// Most `or` branches examined (each costs one decision).
const MAX_BRANCHES: usize = 64;

/// Dead-rule findings of a detection predicate, with the span (in the query) each one
/// points at.
/// `rows` is what a row of the table is, when not every combination of values is one (a
/// union of tables): branches are judged on those rows.
pub(super) fn findings(detection: &Pred, rows: Option<&Pred>, domains: &Domains) -> Vec<(Span, Finding)> {
    let whole = span_of(detection);
    let on_rows = |d: Pred| match rows {
        Some(rows) => Pred::And(vec![d, rows.clone()]),
        None => d,
    };
    let alive = match sat_in(&on_rows(detection.clone()), domains) {
        SatResult::Unsat => {
            let mut f = Finding::new(
                &INFO,
                "the rule's detection can never be true: no event matches it",
                0..0,
                "never true",
            );
            f.help = Some("its conditions contradict each other; the rule never alerts".into());
            return vec![(whole, f)];
        }
        SatResult::Unknown => return Vec::new(),
        SatResult::Sat(event) => event,
    };
    let mut out = Vec::new();
    let mut budget = MAX_BRANCHES;
    let mut search = Branches {
        budget: &mut budget,
        out: &mut out,
        alive: vec![alive],
        sat: &|d: &Pred| sat_in(d, domains),
        on_rows: &on_rows,
    };
    search.dead_branches(detection, detection, &mut Vec::new());
    out
}

/// The search for dead branches: what is left of its budget, what it found, and the
/// events it has seen D (with some branch chosen) hold on.
struct Branches<'a> {
    budget: &'a mut usize,
    out: &'a mut Vec<(Span, Finding)>,
    /// Events D holds on with some branches chosen: a branch one of them makes D hold
    /// with is alive without a decision. In an `and` of many `(a or b)` pairs, the
    /// event that shows one branch alive shows the other pairs' chosen branches alive
    /// too: one decision per pair becomes one for a few pairs (1,600 pairs: 64
    /// quadratic decisions before).
    alive: Vec<crate::pred::Event>,
    sat: &'a dyn Fn(&Pred) -> SatResult,
    on_rows: &'a dyn Fn(Pred) -> Pred,
}

impl Branches<'_> {
    /// Walks the `or` nodes of `node` that are not under a `not` (`path` leads from
    /// `root` to `node`); a branch is dead when replacing its `or` by the branch alone
    /// leaves D unsatisfiable.
    fn dead_branches(&mut self, root: &Pred, node: &Pred, path: &mut Vec<usize>) {
        let children = match node {
            Pred::And(items) | Pred::Or(items) => items,
            _ => return,
        };
        // A list of values for one field (`Image|endswith: [...]`, `in~ (...)`) is not a
        // branch a person wrote as one: its values are not examined one by one.
        let value_list = |branches: &[Pred]| {
            let fields: Vec<&str> = branches
                .iter()
                .filter_map(|b| match b {
                    Pred::Atom(a) => Some(a.field.as_str()),
                    _ => None,
                })
                .collect();
            fields.len() == branches.len() && fields.windows(2).all(|w| w[0] == w[1])
        };
        if let Pred::Or(branches) = node
            && !value_list(branches)
        {
            for branch in branches {
                if *self.budget == 0 {
                    return;
                }
                *self.budget -= 1;
                let chosen = (self.on_rows)(replace(root, path, branch));
                if self.alive.iter().any(|e| chosen.eval(e)) {
                    continue;
                }
                match (self.sat)(&chosen) {
                    SatResult::Sat(event) => self.alive.push(event),
                    SatResult::Unknown => {}
                    SatResult::Unsat => {
                        let mut f = Finding::new(
                            &INFO,
                            "this branch can never match: with the rest of the rule's conditions it is never true",
                            0..0,
                            "dead branch",
                        );
                        f.help =
                            Some("the rule still alerts through its other branches, but not through this one".into());
                        self.out.push((span_of(branch), f));
                    }
                }
            }
        }
        for (i, child) in children.iter().enumerate() {
            path.push(i);
            self.dead_branches(root, child, path);
            path.pop();
        }
    }
}

/// `root` with the node at `path` replaced by `with`.
fn replace(root: &Pred, path: &[usize], with: &Pred) -> Pred {
    let Some((&i, rest)) = path.split_first() else {
        return with.clone();
    };
    let swapped = |items: &[Pred]| {
        let mut items = items.to_vec();
        items[i] = replace(&items[i], rest, with);
        items
    };
    match root {
        Pred::And(items) => Pred::And(swapped(items)),
        Pred::Or(items) => Pred::Or(swapped(items)),
        _ => root.clone(),
    }
}

/// From the first atom's start to the last atom's end.
fn span_of(p: &Pred) -> Span {
    let atoms = p.atoms();
    let start = atoms.iter().map(|a| a.span.start).min().unwrap_or(0);
    let end = atoms.iter().map(|a| a.span.end).max().unwrap_or(start);
    start..end
}
