//! The exact decision procedure over [`Pred`]: `sat`, `valid`, `implies`, `equivalent`.
//!
//! Fields are independent and each literal tests one field, so a formula is satisfiable
//! exactly when some assignment of truth values to its literals makes it true *and*,
//! field by field, the literals assigned to that field can hold together. The search
//! below assigns literals DPLL-style, asks [`field::solve`] about each field as soon as
//! one of its literals is assigned, and prunes on the first contradiction. Every
//! satisfiable answer carries a witness event, which is checked with [`Pred::eval`]
//! before it is returned.
//!
//! Answers are never wrong. Where a field mixes numbers or regexes with other tests in
//! a way the field solver cannot settle, or a search exceeds its budget, the answer is
//! `Unknown`.

mod automata;
mod domain;
mod field;
mod formula;
mod simplify;

pub use domain::{Domain, Domains};
pub use simplify::{inverted_fix, redundant_terms, simplify};

use rustc_hash::FxHashMap as HashMap;

use field::FieldResult;
use formula::{Lowered, Nnf, eval3, pick, units};

use crate::pred::{Event, Pred};

/// The answer to "is there an event on which this holds?".
#[derive(Debug, Clone, PartialEq)]
pub enum SatResult {
    /// Yes: this event makes it hold.
    Sat(Event),
    /// No event does.
    Unsat,
    /// Undecided (a regex, a numeric test mixed with string tests, or a search budget).
    Unknown,
}

/// The answer to "does this hold on every event?".
#[derive(Debug, Clone, PartialEq)]
pub enum Validity {
    Valid,
    /// No: this event is a counterexample.
    Invalid(Event),
    Unknown,
}

/// What a predicate is true of, overall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    AlwaysTrue,
    NeverTrue,
    Contingent,
    Unknown,
}

impl Verdict {
    /// The spelling used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::AlwaysTrue => "always-true",
            Verdict::NeverTrue => "never-true",
            Verdict::Contingent => "contingent",
            Verdict::Unknown => "unknown",
        }
    }
}

/// A verdict with an event on which the predicate holds and one on which it fails,
/// where such events exist (and were found).
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub verdict: Verdict,
    pub when_true: Option<Event>,
    pub when_false: Option<Event>,
    /// Why the verdict is `Unknown` (the limit fpx reached), else `None`.
    pub unknown_reason: Option<&'static str>,
}

/// The search budget ran out.
const BUDGET_REASON: &str = "the search reached its step budget (a formula too large to decide here)";
/// The field solver could not decide a field.
const FIELD_REASON: &str = "a field mixes number comparisons with a regular expression or text tests that no number fpx tried passes (fpx decides those by trying numbers), or a regular-expression search reached its budget";

/// Work allowed per question before answering `Unknown`: search steps times formula
/// size, so a 100 KB exclusion gets fewer (costlier) steps and still ends quickly.
const WORK_BUDGET: usize = 40_000_000;

/// Is there an event on which `pred` holds?
pub fn sat(pred: &Pred) -> SatResult {
    sat_in(pred, &Domains::text())
}

/// Is there an event, with values of each field's domain, on which `pred` holds?
pub fn sat_in(pred: &Pred, domains: &Domains) -> SatResult {
    sat_with_reason(pred, domains).0
}

/// [`sat_in`], with the reason when the answer is `Unknown`.
fn sat_with_reason(pred: &Pred, domains: &Domains) -> (SatResult, Option<&'static str>) {
    let mut lowered = Lowered::default();
    let formula = lowered.lower(pred, true);
    let mut search = Search::new(&lowered, formula.size(), domains);
    match search.run(&formula) {
        Some(assignment) => {
            let mut event: Event = pred.fields().into_iter().map(|f| (f, String::new())).collect();
            for (field, text) in assignment {
                event.insert(lowered.fields[field].clone(), text);
            }
            if pred.eval(&event) {
                (SatResult::Sat(event), None)
            } else {
                debug_assert!(false, "witness {event:?} does not satisfy {pred}");
                (SatResult::Unknown, Some(FIELD_REASON))
            }
        }
        None if search.unknown => (SatResult::Unknown, search.reason),
        None => (SatResult::Unsat, None),
    }
}

/// Does `pred` hold on every event?
pub fn valid(pred: &Pred) -> Validity {
    valid_in(pred, &Domains::text())
}

/// Does `pred` hold on every event with values of each field's domain?
pub fn valid_in(pred: &Pred, domains: &Domains) -> Validity {
    match sat_in(&Pred::Not(Box::new(pred.clone())), domains) {
        SatResult::Sat(counterexample) => Validity::Invalid(counterexample),
        SatResult::Unsat => Validity::Valid,
        SatResult::Unknown => Validity::Unknown,
    }
}

/// Does every event that satisfies `a` satisfy `b`?
pub fn implies(a: &Pred, b: &Pred) -> Validity {
    implies_in(a, b, &Domains::text())
}

/// [`implies`] over events with values of each field's domain.
pub fn implies_in(a: &Pred, b: &Pred, domains: &Domains) -> Validity {
    match sat_in(&Pred::And(vec![a.clone(), Pred::Not(Box::new(b.clone()))]), domains) {
        SatResult::Sat(counterexample) => Validity::Invalid(counterexample),
        SatResult::Unsat => Validity::Valid,
        SatResult::Unknown => Validity::Unknown,
    }
}

/// Do `a` and `b` hold on exactly the same events?
pub fn equivalent(a: &Pred, b: &Pred) -> Validity {
    match implies(a, b) {
        Validity::Valid => implies(b, a),
        other => other,
    }
}

/// Always true, never true, or contingent, with an event for each side that exists.
pub fn classify(pred: &Pred) -> Classification {
    classify_sides(pred, &Pred::Not(Box::new(pred.clone())), &Domains::text())
}

/// The verdict of a predicate whose truth and falsity are given separately: `holds`
/// is where it is true, `fails` where it is false (under KQL's nulls a comparison can
/// be neither, see `schema::typed`), over events with values of each field's domain.
pub fn classify_sides(holds: &Pred, fails: &Pred, domains: &Domains) -> Classification {
    let (when_true, reason_true) = sat_with_reason(holds, domains);
    let (when_false, reason_false) = sat_with_reason(fails, domains);
    let verdict = match (&when_true, &when_false) {
        (SatResult::Sat(_), SatResult::Sat(_)) => Verdict::Contingent,
        (SatResult::Sat(_), SatResult::Unsat) => Verdict::AlwaysTrue,
        (SatResult::Unsat, SatResult::Sat(_)) => Verdict::NeverTrue,
        // A predicate and its negation cannot both be unsatisfiable.
        _ => Verdict::Unknown,
    };
    let event = |r: SatResult| match r {
        SatResult::Sat(e) => Some(e),
        _ => None,
    };
    let unknown_reason = (verdict == Verdict::Unknown).then(|| reason_true.or(reason_false).unwrap_or(FIELD_REASON));
    Classification {
        verdict,
        when_true: event(when_true),
        when_false: event(when_false),
        unknown_reason,
    }
}

/// DPLL over the basic literals with a per-field consistency check after every step.
struct Search<'a> {
    lowered: &'a Lowered,
    /// Each field's domain, by field index.
    domains: Vec<Domain>,
    assign: Vec<Option<bool>>,
    /// Field solver answers, keyed by the field's assigned literals.
    cache: HashMap<Vec<(usize, bool)>, FieldResult>,
    nodes: usize,
    max_nodes: usize,
    unknown: bool,
    reason: Option<&'static str>,
}

impl<'a> Search<'a> {
    fn new(lowered: &'a Lowered, size: usize, domains: &Domains) -> Self {
        Search {
            // A field compared with a datetime holds datetimes, whatever the table says.
            domains: (0..lowered.fields.len())
                .map(|i| {
                    if lowered.basics.iter().any(|b| b.field == i && b.time) {
                        Domain::Time
                    } else {
                        domains.of(&lowered.fields[i])
                    }
                })
                .collect(),
            // A formula needs at least one step per literal, however large it is.
            max_nodes: (WORK_BUDGET / size.max(1))
                .clamp(1_000, 200_000)
                .max(4 * lowered.basics.len()),
            lowered,
            assign: vec![None; lowered.basics.len()],
            cache: HashMap::default(),
            nodes: 0,
            unknown: false,
            reason: None,
        }
    }

    /// A satisfying assignment as (field, text) pairs, or `None`.
    fn run(&mut self, formula: &Nnf) -> Option<Vec<(usize, String)>> {
        self.nodes += 1;
        if self.nodes > self.max_nodes {
            self.unknown = true;
            self.reason = Some(BUDGET_REASON);
            return None;
        }
        match eval3(formula, &self.assign) {
            Some(false) => return None,
            Some(true) => return self.witness(),
            None => {}
        }
        // Assign every forced literal at once, then check each field they touch once.
        let mut forced = Vec::new();
        units(formula, &self.assign, &mut forced);
        if !forced.is_empty() {
            let mut assigned = Vec::new();
            let mut conflict = false;
            for &(lit, value) in &forced {
                match self.assign[lit] {
                    None => {
                        self.assign[lit] = Some(value);
                        assigned.push(lit);
                    }
                    Some(v) if v != value => conflict = true,
                    Some(_) => {}
                }
            }
            let mut fields: Vec<usize> = assigned.iter().map(|&l| self.lowered.basics[l].field).collect();
            fields.sort_unstable();
            fields.dedup();
            let found = if conflict || fields.iter().any(|&f| self.field(f) == FieldResult::Unsat) {
                None
            } else {
                self.run(formula)
            };
            for lit in assigned {
                self.assign[lit] = None;
            }
            return found;
        }
        let (lit, polarity) = pick(formula, &self.assign).expect("an undecided formula has an unassigned literal");
        let field = self.lowered.basics[lit].field;
        for value in [polarity, !polarity] {
            self.assign[lit] = Some(value);
            if self.field(field) != FieldResult::Unsat
                && let Some(found) = self.run(formula)
            {
                self.assign[lit] = None;
                return Some(found);
            }
        }
        self.assign[lit] = None;
        None
    }

    fn field(&mut self, field: usize) -> FieldResult {
        let key: Vec<(usize, bool)> = self
            .assign
            .iter()
            .enumerate()
            .filter(|(i, v)| v.is_some() && self.lowered.basics[*i].field == field)
            .map(|(i, v)| (i, v.expect("filtered to assigned")))
            .collect();
        if let Some(result) = self.cache.get(&key) {
            return result.clone();
        }
        let lits: Vec<field::Lit> = key.iter().map(|&(i, v)| (&self.lowered.basics[i], v)).collect();
        let result = domain::solve(&lits, self.domains[field]);
        self.cache.insert(key, result.clone());
        result
    }

    fn witness(&mut self) -> Option<Vec<(usize, String)>> {
        let mut out = Vec::new();
        for field in 0..self.lowered.fields.len() {
            match self.field(field) {
                FieldResult::Sat(text) => out.push((field, text)),
                FieldResult::Unsat => return None,
                FieldResult::Unknown => {
                    self.unknown = true;
                    self.reason.get_or_insert(FIELD_REASON);
                    return None;
                }
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests;
