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
pub use simplify::{MAX_ATOMS_TO_SIMPLIFY, inverted_fix, redundant_terms, simplify};

use rustc_hash::FxHashMap as HashMap;

use field::FieldResult;
use formula::{Basic, Kind, Lowered, Nnf, eval3, pick, pick_run, picked_ors, units};

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
const FIELD_REASON: &str = "a field mixes datetime comparisons with a regular expression or text tests that no datetime fpx tried passes (fpx decides those by trying datetimes), or a regular-expression search reached its budget, or a regular expression only matches texts over 4,096 bytes";

/// Work allowed per question before answering `Unknown`: search steps times formula
/// size, so a 100 KB exclusion gets fewer (costlier) steps and still ends quickly.
const WORK_BUDGET: usize = 40_000_000;

/// The most assigned literals of one field whose solver answer is cached.
const MAX_CACHED_KEY: usize = 64;

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
    automata::start_decision();
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
/// A level of [`Search::run`]: the literals it assigned without a branch, and the
/// literal it branches on (its first value, and whether the second is being tried).
#[derive(Default)]
struct Level {
    assigned: Vec<usize>,
    decision: Option<(usize, bool, bool)>,
}

/// What one level of the search comes to.
enum Step {
    Found(Vec<(usize, String)>),
    Fail,
    /// A literal to try both values of (the first assigned).
    Branch(usize, bool),
    /// Literals branched on one after another, all with their first value assigned:
    /// one level each, as [`Step::Branch`] would have made them one at a time.
    Branches(Vec<(usize, bool)>),
}

/// Fewest literals [`Search::step`] takes at once (see [`formula::pick_run`]); shorter
/// runs are branched on one by one, as they always were.
const MIN_RUN: usize = 32;

/// A field's assigned literals (ordered by literal) and a text that passes them.
type Solved = (Vec<(usize, bool)>, String);

/// Fewest literals on a field for [`Search::field`] to reuse its last text.
const MIN_REUSED_KEY: usize = 256;

/// The literals of `key` that `solved` lacks, when `key` has every literal of `solved`
/// (both are ordered by literal).
fn added_to(solved: &[(usize, bool)], key: &[(usize, bool)]) -> Option<Vec<(usize, bool)>> {
    let mut added = Vec::new();
    let mut old = solved.iter().peekable();
    for &lit in key {
        if old.peek() == Some(&&lit) {
            old.next();
        } else {
            added.push(lit);
        }
    }
    old.next().is_none().then_some(added)
}

struct Search<'a> {
    lowered: &'a Lowered,
    /// The literals on each field (tests of two fields left out), in order: a field's
    /// check reads only its own (scanning every literal per check was quadratic in a
    /// conjunction of 30,000 fields).
    literals_of: Vec<Vec<usize>>,
    /// Each field's domain, by field index.
    domains: Vec<Domain>,
    assign: Vec<Option<bool>>,
    /// Field solver answers, keyed by the field's assigned literals.
    cache: HashMap<Vec<(usize, bool)>, FieldResult>,
    /// Each field's last long key solved satisfiable, and the text that passed it.
    last_sat: Vec<Option<Solved>>,
    /// Field solver runs (cache misses), for tests of how the search scales.
    solves: usize,
    /// Conjunctions (by address) whose run of literals could not be taken at once.
    refused_runs: std::collections::HashSet<usize>,
    nodes: usize,
    max_nodes: usize,
    unknown: bool,
    reason: Option<&'static str>,
}

impl<'a> Search<'a> {
    fn new(lowered: &'a Lowered, size: usize, domains: &Domains) -> Self {
        Search {
            // A field compared with a datetime holds datetimes, whatever the table says.
            domains: {
                let mut timed = vec![false; lowered.fields.len()];
                for b in lowered.basics.iter().filter(|b| b.time) {
                    timed[b.field] = true;
                }
                (0..lowered.fields.len())
                    .map(|i| {
                        if timed[i] {
                            Domain::Time
                        } else {
                            domains.of(&lowered.fields[i])
                        }
                    })
                    .collect()
            },
            literals_of: {
                let mut of = vec![Vec::new(); lowered.fields.len()];
                for (i, b) in lowered.basics.iter().enumerate() {
                    if b.kind != Kind::Same {
                        of[b.field].push(i);
                    }
                }
                of
            },
            // A formula needs at least one step per literal, however large it is.
            max_nodes: (WORK_BUDGET / size.max(1))
                .clamp(1_000, 200_000)
                .max(4 * lowered.basics.len()),
            lowered,
            assign: vec![None; lowered.basics.len()],
            cache: HashMap::default(),
            refused_runs: std::collections::HashSet::new(),
            last_sat: vec![None; lowered.fields.len()],
            solves: 0,
            nodes: 0,
            unknown: false,
            reason: None,
        }
    }

    /// A satisfying assignment as (field, text) pairs, or `None`: a depth-first search
    /// over the literals, with an explicit stack of levels rather than recursion (a
    /// disjunction of 12,000 equalities on one field once overflowed the stack).
    fn run(&mut self, formula: &Nnf) -> Option<Vec<(usize, String)>> {
        let mut levels = vec![Level::default()];
        loop {
            let level = levels.last_mut().expect("a level while searching");
            let step = self.step(formula, &mut level.assigned);
            match step {
                Step::Found(found) => {
                    for level in levels {
                        self.undo(&level);
                    }
                    return Some(found);
                }
                Step::Branch(lit, polarity) => {
                    levels.last_mut().expect("a level").decision = Some((lit, polarity, false));
                    levels.push(Level::default());
                }
                Step::Branches(run) => {
                    for (lit, polarity) in run {
                        levels.last_mut().expect("a level").decision = Some((lit, polarity, false));
                        levels.push(Level::default());
                    }
                }
                Step::Fail => loop {
                    // Back to the last decision with a value left to try; a level whose
                    // decision failed both ways fails in turn (popped next time round).
                    let failed = levels.pop()?;
                    self.undo(&failed);
                    let parent = levels.last_mut()?;
                    let (lit, polarity, second) = parent.decision.expect("a level above is a branch");
                    if !second {
                        parent.decision = Some((lit, polarity, true));
                        self.assign[lit] = Some(!polarity);
                        if self.field(self.lowered.basics[lit].field) != FieldResult::Unsat {
                            levels.push(Level::default());
                            break;
                        }
                    }
                },
            }
        }
    }

    /// Undoes what one level of the search assigned.
    fn undo(&mut self, level: &Level) {
        for &lit in &level.assigned {
            self.assign[lit] = None;
        }
        if let Some((lit, ..)) = level.decision {
            self.assign[lit] = None;
        }
    }

    /// One level of the search: assigns what needs no branch (forced literals, and a
    /// literal whose field refuses one of its values), recording it in `assigned`,
    /// until the formula is decided or a literal must be branched on.
    fn step(&mut self, formula: &Nnf, assigned: &mut Vec<usize>) -> Step {
        loop {
            self.nodes += 1;
            if self.nodes > self.max_nodes {
                self.unknown = true;
                self.reason = Some(BUDGET_REASON);
                return Step::Fail;
            }
            match eval3(formula, &self.assign) {
                Some(false) => return Step::Fail,
                Some(true) => return self.witness().map_or(Step::Fail, Step::Found),
                None => {}
            }
            // Assign every forced literal at once, then check each field they touch once.
            let mut forced = Vec::new();
            units(formula, &self.assign, &mut forced);
            if !forced.is_empty() {
                let mut fields = Vec::new();
                let mut conflict = false;
                for &(lit, value) in &forced {
                    match self.assign[lit] {
                        None => {
                            self.assign[lit] = Some(value);
                            assigned.push(lit);
                            fields.push(self.lowered.basics[lit].field);
                        }
                        Some(v) if v != value => conflict = true,
                        Some(_) => {}
                    }
                }
                fields.sort_unstable();
                fields.dedup();
                if conflict || fields.iter().any(|&f| self.field(f) == FieldResult::Unsat) {
                    return Step::Fail;
                }
                continue;
            }
            // A long run of literals the search would branch on one after another (a
            // conjunction of 20,000 `!=` in an `or`): all at once when their fields
            // accept them, else one by one. One by one took time quadratic in the run.
            if self.lowered.basics.len() >= MIN_RUN
                && let Some((run, conjunction)) = pick_run(formula, &self.assign)
                && run.len() >= MIN_RUN
                && !self.refused_runs.contains(&conjunction)
            {
                if let Some(step) = self.take_run(run) {
                    return step;
                }
                self.refused_runs.insert(conjunction);
            }
            let mut chosen = None;
            let ors = if self.lowered.basics.len() >= MIN_RUN {
                picked_ors(formula, &self.assign)
            } else {
                Vec::new()
            };
            if let Some((alternatives, siblings)) = ors.split_first() {
                let mut blockers = HashMap::default();
                if let Some(mut swept) = self.sweep(alternatives, assigned, &mut blockers) {
                    // The `or`s beside it in its conjunction are swept in the same
                    // step: the search would reach each of them next, one step (one
                    // reading of the formula) each (an `and` of 1,600 `(FileName ==
                    // "aN.exe" or ProcessCommandLine has "xN")` with one name chosen).
                    for siblings in siblings {
                        swept.extend(self.sweep(siblings, assigned, &mut blockers).unwrap_or_default());
                    }
                    swept.sort_unstable();
                    swept.dedup();
                    if swept.into_iter().any(|f| self.field(f) == FieldResult::Unsat) {
                        return Step::Fail;
                    }
                    continue;
                }
                chosen = self.test_before_values(alternatives);
            }
            let (lit, polarity) = match chosen {
                Some(lit) => (lit, true),
                None => pick(formula, &self.assign).expect("an undecided formula has an unassigned literal"),
            };
            let field = self.lowered.basics[lit].field;
            self.assign[lit] = Some(polarity);
            if self.field(field) != FieldResult::Unsat {
                return Step::Branch(lit, polarity);
            }
            // The field refuses `polarity`: the other value is the only branch.
            self.assign[lit] = Some(!polarity);
            assigned.push(lit);
            if self.field(field) == FieldResult::Unsat {
                return Step::Fail;
            }
        }
    }

    /// The alternatives of an `or` the search is about to branch on, from the first
    /// undecided one: each `==` whose value a test already decided on its field
    /// contradicts, where the test's truth on that value is its truth on every text the
    /// `==` allows ([`Basic::decided_by_equality`]: its field refuses it) is set false,
    /// as the search would set them one step at a time, each step reading the whole
    /// formula (`FileName in~ (12,000 names) and FileName endswith ".jnlp"`: 6 s). The
    /// fields touched, or `None` when the first alternative is not refused so.
    /// `blockers` holds, per field and case, the assigned literals that can refuse an
    /// `==` (shared by the sweeps of one step; what a sweep assigns refuses nothing).
    fn sweep(
        &mut self,
        alternatives: &[Nnf],
        assigned: &mut Vec<usize>,
        blockers: &mut HashMap<(usize, bool), Vec<usize>>,
    ) -> Option<Vec<usize>> {
        let mut fields: Vec<usize> = Vec::new();
        for item in alternatives {
            if eval3(item, &self.assign).is_some() {
                continue;
            }
            let &Nnf::Lit(lit, true) = item else { break };
            let basic = &self.lowered.basics[lit];
            if basic.kind != Kind::Eq || basic.time {
                break;
            }
            let field = basic.field;
            let (assign, literals_of, basics) = (&self.assign, &self.literals_of, &self.lowered.basics);
            let blocking = blockers.entry((field, basic.cs)).or_insert_with(|| {
                literals_of[field]
                    .iter()
                    .copied()
                    .filter(|&i| assign[i].is_some() && basics[i].decided_by_equality(basic))
                    .collect()
            });
            if !blocking
                .iter()
                .any(|&i| Some(basics[i].eval(&basic.value)) != assign[i])
            {
                break;
            }
            self.assign[lit] = Some(false);
            assigned.push(lit);
            fields.push(field);
        }
        fields.sort_unstable();
        fields.dedup();
        (!fields.is_empty()).then_some(fields)
    }

    /// Before a long `or` of `==` values of one field (an `in` list) is branched on value
    /// by value: an undecided test of that field that each value decides (an
    /// `endswith` beside `FileName in~ (5,000 names)`), to branch on first. Once it is
    /// assigned, [`Self::sweep`] refuses the values it contradicts all at once; branched
    /// after them, it was refused once per value, each step reading the whole formula
    /// (an exclusion's redundancy check: 4.6 s for 5,000 values).
    fn test_before_values(&self, alternatives: &[Nnf]) -> Option<usize> {
        if alternatives.len() < MIN_RUN {
            return None;
        }
        let first = alternatives.iter().find_map(|item| match item {
            Nnf::Lit(lit, true) if self.assign[*lit].is_none() => Some(*lit),
            _ => None,
        })?;
        let eq = &self.lowered.basics[first];
        if eq.kind != Kind::Eq || eq.time {
            return None;
        }
        self.literals_of[eq.field].iter().copied().find(|&i| {
            let b = &self.lowered.basics[i];
            self.assign[i].is_none() && b.kind != Kind::Eq && b.decided_by_equality(eq)
        })
    }

    /// Assigns every literal of `run` its value, as branching on each in turn would
    /// when none of them is refused by its field; `None` (and nothing assigned) when
    /// one is. Unit propagation between the branches is left to the next step: it
    /// forces nothing inside the run's own `or` branch, which is still open.
    fn take_run(&mut self, run: Vec<(usize, bool)>) -> Option<Step> {
        for &(lit, value) in &run {
            self.assign[lit] = Some(value);
        }
        let mut fields: Vec<usize> = run.iter().map(|&(lit, _)| self.lowered.basics[lit].field).collect();
        fields.sort_unstable();
        fields.dedup();
        if fields.into_iter().any(|f| self.field(f) == FieldResult::Unsat) {
            for &(lit, _) in &run {
                self.assign[lit] = None;
            }
            return None;
        }
        Some(Step::Branches(run))
    }

    fn field(&mut self, field: usize) -> FieldResult {
        // A test of two fields (`A == B`) is decided when a witness is built.
        let key: Vec<(usize, bool)> = self.literals_of[field]
            .iter()
            .filter_map(|&i| self.assign[i].map(|v| (i, v)))
            .collect();
        if let Some(result) = self.cache.get(&key) {
            return result.clone();
        }
        // A long key that only adds literals to the last long one solved on this field
        // (the search deciding an `and` of 1,600 `(FileName == x or CommandLine has y)`
        // one pair at a time): the last text, if it passes the added literals, is an
        // answer without solving again. Solving each growing key from scratch took
        // time cubic in the pairs.
        if key.len() >= MIN_REUSED_KEY
            && self.domains[field] == Domain::Text
            && let Some((solved, text)) = &self.last_sat[field]
            && let Some(added) = added_to(solved, &key)
            && let Some(text) = self.extended(text, &added, &key)
        {
            self.last_sat[field] = Some((key, text.clone()));
            return FieldResult::Sat(text);
        }
        let lits: Vec<field::Lit> = key.iter().map(|&(i, v)| (&self.lowered.basics[i], v)).collect();
        self.solves += 1;
        let result = domain::solve(&lits, self.domains[field]);
        if let FieldResult::Sat(text) = &result
            && key.len() >= MIN_REUSED_KEY
        {
            self.last_sat[field] = Some((key.clone(), text.clone()));
        }
        // A long key is rarely met again, and storing every one of a long run of
        // growing keys took memory quadratic in their length.
        if key.len() <= MAX_CACHED_KEY {
            self.cache.insert(key, result.clone());
        }
        result
    }

    /// A text for `key` from `text`, which passed all of it but `added`: `text` itself
    /// when it passes `added`, or `text` with the value of each added positive substring
    /// test appended between spaces, when that passes every literal of `key` an
    /// appended text can change (all but the positive substring tests, which still find
    /// their occurrence).
    fn extended(&self, text: &str, added: &[(usize, bool)], key: &[(usize, bool)]) -> Option<String> {
        let basics = &self.lowered.basics;
        if added.iter().all(|&(i, v)| basics[i].eval(text) == v) {
            return Some(text.to_string());
        }
        let substring = |i: usize| {
            matches!(
                basics[i].kind,
                Kind::Contains | Kind::Has | Kind::HasPrefix | Kind::HasSuffix
            ) && !basics[i].time
        };
        let mut longer = text.to_string();
        for &(i, v) in added {
            if v && substring(i) && !basics[i].eval(&longer) {
                longer.push(' ');
                longer.push_str(&basics[i].value);
                longer.push(' ');
            }
        }
        let holds = key
            .iter()
            .filter(|&&(i, v)| !(v && substring(i)) || added.contains(&(i, v)))
            .all(|&(i, v)| basics[i].eval(&longer) == v);
        holds.then_some(longer)
    }

    fn witness(&mut self) -> Option<Vec<(usize, String)>> {
        let same: Vec<(usize, usize, bool)> = self
            .lowered
            .basics
            .iter()
            .zip(&self.assign)
            .filter(|(b, v)| b.kind == Kind::Same && v.is_some())
            .map(|(b, v)| (b.field, b.other.expect("a test of two fields"), v.expect("filtered")))
            .collect();
        if !same.is_empty() {
            return match self.related_witness(&same) {
                Related::Sat(out) => Some(out),
                Related::Unsat => None,
                Related::Unknown(reason) => {
                    self.unknown = true;
                    self.reason.get_or_insert(reason);
                    None
                }
            };
        }
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

/// What [`Search::related_witness`] found.
enum Related {
    Sat(Vec<(usize, String)>),
    Unsat,
    Unknown(&'static str),
}

/// Fields that equal tests tie together could not be decided.
const RELATED_REASON: &str = "fields compared with each other (`A == B`) hold values fpx could not tell apart (typed fields of different types, or a search past its budget)";

impl Search<'_> {
    /// A witness under assigned tests of two fields (`same`: field, other, whether
    /// they are equal). Fields asserted equal form a class whose value meets every
    /// literal of its members; classes asserted different need different values. Each
    /// class gets up to one more value than it has classes to differ from: a class
    /// with that many can always take a value its neighbours lack, so it is coloured
    /// last; a class with fewer has exactly those values (the field solver proved
    /// there are no more), and those are searched exhaustively. So the answer is
    /// exact.
    fn related_witness(&mut self, same: &[(usize, usize, bool)]) -> Related {
        let n = self.lowered.fields.len();
        let mut parent: Vec<usize> = (0..n).collect();
        fn root(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        for &(a, b, equal) in same {
            if equal {
                let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
                parent[ra.max(rb)] = ra.min(rb);
            }
        }
        let roots: Vec<usize> = (0..n).map(|i| root(&mut parent, i)).collect();
        let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); n];
        for &(a, b, equal) in same {
            let (ra, rb) = (roots[a], roots[b]);
            if equal {
                continue;
            }
            if ra == rb {
                return Related::Unsat;
            }
            if !neighbours[ra].contains(&rb) {
                neighbours[ra].push(rb);
                neighbours[rb].push(ra);
            }
        }
        // Each class's candidate values.
        let mut candidates: Vec<Vec<String>> = vec![Vec::new(); n];
        for class in (0..n).filter(|&i| roots[i] == i) {
            let members: Vec<usize> = (0..n).filter(|&i| roots[i] == class).collect();
            let domain = self.domains[class];
            let alone = members.len() == 1 && neighbours[class].is_empty();
            // Datetimes compare as instants; a text inequality is not one on them.
            if members.iter().any(|&m| self.domains[m] != domain) || domain == Domain::Time && !alone {
                return Related::Unknown(RELATED_REASON);
            }
            if alone {
                match self.field(class) {
                    FieldResult::Sat(text) => candidates[class].push(text),
                    FieldResult::Unsat => return Related::Unsat,
                    FieldResult::Unknown => return Related::Unknown(FIELD_REASON),
                }
                continue;
            }
            let mut lits: Vec<(Basic, bool)> = self
                .assign
                .iter()
                .enumerate()
                .filter_map(|(i, v)| {
                    let basic = &self.lowered.basics[i];
                    (basic.kind != Kind::Same && members.contains(&basic.field)).then_some((basic.clone(), (*v)?))
                })
                .collect();
            while candidates[class].len() <= neighbours[class].len() {
                let refs: Vec<field::Lit> = lits.iter().map(|(b, v)| (b, *v)).collect();
                match domain::solve(&refs, domain) {
                    FieldResult::Sat(text) => {
                        lits.push((
                            Basic {
                                field: class,
                                kind: Kind::Eq,
                                cs: true,
                                value: text.clone(),
                                time: false,
                                other: None,
                            },
                            false,
                        ));
                        candidates[class].push(text);
                    }
                    FieldResult::Unsat => break,
                    FieldResult::Unknown => return Related::Unknown(FIELD_REASON),
                }
            }
            if candidates[class].is_empty() {
                return Related::Unsat;
            }
        }
        // Classes with no more values than neighbours first, by exhaustive search;
        // then the rest, each of which has a value none of its neighbours took.
        let classes: Vec<usize> = (0..n).filter(|&i| roots[i] == i).collect();
        let (tight, free): (Vec<usize>, Vec<usize>) = classes
            .iter()
            .partition(|&&c| candidates[c].len() <= neighbours[c].len());
        let mut value: Vec<Option<usize>> = vec![None; n];
        let mut steps = 0usize;
        fn colour(
            k: usize,
            tight: &[usize],
            candidates: &[Vec<String>],
            neighbours: &[Vec<usize>],
            value: &mut [Option<usize>],
            steps: &mut usize,
        ) -> Option<bool> {
            let Some(&class) = tight.get(k) else {
                return Some(true);
            };
            for (i, text) in candidates[class].iter().enumerate() {
                *steps += 1;
                if *steps > 100_000 {
                    return None;
                }
                let clash = neighbours[class]
                    .iter()
                    .any(|&o| value[o].is_some_and(|j| candidates[o][j] == *text));
                if clash {
                    continue;
                }
                value[class] = Some(i);
                match colour(k + 1, tight, candidates, neighbours, value, steps) {
                    Some(false) => {}
                    found => return found,
                }
                value[class] = None;
            }
            Some(false)
        }
        match colour(0, &tight, &candidates, &neighbours, &mut value, &mut steps) {
            None => return Related::Unknown(RELATED_REASON),
            Some(false) => return Related::Unsat,
            Some(true) => {}
        }
        for &class in &free {
            let taken: Vec<&String> = neighbours[class]
                .iter()
                .filter_map(|&o| value[o].map(|j| &candidates[o][j]))
                .collect();
            let pick = candidates[class]
                .iter()
                .position(|t| !taken.contains(&t))
                .expect("a class with more values than neighbours has a free one");
            value[class] = Some(pick);
        }
        Related::Sat(
            (0..n)
                .map(|i| {
                    let class = roots[i];
                    (
                        i,
                        candidates[class][value[class].expect("every class has a value")].clone(),
                    )
                })
                .collect(),
        )
    }
}

#[cfg(test)]
pub(crate) mod tests;
