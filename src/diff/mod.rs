//! `fpx diff`: exactly what a change to rules and exclusions does.
//!
//! Two versions of a rule set are checked as `fpx check` checks them; rules are matched
//! by id (a rule without one by its file), scenario exclusions by rule id and scenario
//! name. For each rule, with A the events it alerts on (D with every inline exclusion
//! applied), the decision procedure finds an event of `A_old and not A_new` (it stops
//! alerting) and one of `A_new and not A_old` (it starts): none of either is
//! `equivalent`, one kind `narrowed` or `broadened`, both `changed`. Every event printed
//! is re-checked by evaluating both versions on it first. Where D is approximated
//! (FPX401) the comparison is of D as fpx reads it, and the rule is marked not exact.
//!
//! Meta-filters are not compared (a change to one is a change to its file, which names
//! the rules it applies to); `--events` replay counts are not part of this module.

pub mod git;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use serde::Serialize;

use crate::checks::{
    CheckReport, Code, Finding, RuleContext, RuleResult, ScenarioResult, Severity, exclusion_on_table,
    scenario_on_table,
};
use crate::corpus::{Corpus, RuleDoc, RuleFormat};
use crate::logic::{Domains, SatResult, sat_in};
use crate::pred::{Event, Pred};
use crate::replay::{self, Replay};
use crate::schema::schema;

/// How the events a rule alerts on changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// The same detection text.
    Unchanged,
    /// Different text, the same alerts (a refactor).
    Equivalent,
    /// Some events stop alerting, none start.
    Narrowed,
    /// Some events start alerting, none stop.
    Broadened,
    /// Some stop and some start.
    Changed,
    Added,
    Removed,
    /// fpx could not decide (a version without a detection fpx can read, or a decision
    /// past its limits): treated as both narrowed and broadened by the gate.
    Undecided,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Unchanged => "unchanged",
            Change::Equivalent => "equivalent",
            Change::Narrowed => "narrowed",
            Change::Broadened => "broadened",
            Change::Changed => "changed",
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Undecided => "undecided",
        }
    }

    /// Whether some event may stop alerting.
    pub fn stops(self) -> bool {
        matches!(
            self,
            Change::Narrowed | Change::Changed | Change::Removed | Change::Undecided
        )
    }

    /// Whether some event may start alerting.
    pub fn starts(self) -> bool {
        matches!(
            self,
            Change::Broadened | Change::Changed | Change::Added | Change::Undecided
        )
    }

    /// The order reports list rules in: what needs a reviewer first.
    fn rank(self) -> u8 {
        match self {
            Change::Changed => 0,
            Change::Narrowed => 1,
            Change::Broadened => 2,
            Change::Undecided => 3,
            Change::Removed => 4,
            Change::Added => 5,
            Change::Equivalent => 6,
            Change::Unchanged => 7,
        }
    }
}

/// How what a scenario's exclusion suppresses (within its rule's D) changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScenarioChange {
    Unchanged,
    Equivalent,
    SuppressesMore,
    SuppressesLess,
    Changed,
    Added,
    Removed,
    Undecided,
}

impl ScenarioChange {
    pub fn as_str(self) -> &'static str {
        match self {
            ScenarioChange::Unchanged => "unchanged",
            ScenarioChange::Equivalent => "equivalent",
            ScenarioChange::SuppressesMore => "suppresses more",
            ScenarioChange::SuppressesLess => "suppresses less",
            ScenarioChange::Changed => "changed",
            ScenarioChange::Added => "added",
            ScenarioChange::Removed => "removed",
            ScenarioChange::Undecided => "undecided",
        }
    }
}

/// The result of comparing two predicates over one table's events.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// An event the old predicate holds on and the new does not.
    pub lost: Option<Event>,
    /// An event the new predicate holds on and the old does not.
    pub gained: Option<Event>,
    /// Why a side could not be decided, if one could not.
    pub undecided: Option<String>,
}

impl Difference {
    /// The change class of a rule whose alerts went from `old` to `new`.
    pub fn change(&self) -> Change {
        match (&self.undecided, &self.lost, &self.gained) {
            (Some(_), _, _) => Change::Undecided,
            (None, None, None) => Change::Equivalent,
            (None, Some(_), None) => Change::Narrowed,
            (None, None, Some(_)) => Change::Broadened,
            (None, Some(_), Some(_)) => Change::Changed,
        }
    }
}

/// Decides `old and not new` and `new and not old` over `domains`; every event returned
/// holds of its side by evaluation (one that does not is reported as undecided, never
/// printed as proof).
pub fn compare(old: &Pred, new: &Pred, domains: &Domains) -> Difference {
    let mut undecided = None;
    let mut side = |holds: &Pred, fails: &Pred, what: &str| {
        let question = question(holds, fails)?;
        match sat_in(&question, domains) {
            SatResult::Sat(event) if holds.eval(&event) && !fails.eval(&event) => Some(event),
            SatResult::Sat(_) => {
                undecided = Some(format!(
                    "the event fpx found that {what} did not hold on evaluation (please report this)"
                ));
                None
            }
            SatResult::Unsat => None,
            SatResult::Unknown => {
                undecided = Some(format!("fpx could not decide whether some event {what}"));
                None
            }
        }
    };
    let lost = side(old, new, "stops alerting");
    let gained = side(new, old, "starts alerting");
    Difference {
        lost,
        gained,
        undecided,
    }
}

/// `holds and not fails`, with what the two share taken out (`None`: no event, as when
/// every condition of `fails` is one of `holds`). A change touches one part of a rule;
/// negating the whole of a large rule makes the decision needlessly hard (a SigmaHQ
/// rule of 400 values: minutes), while the part that changed decides it at once.
/// - A conjunct of `fails` that is one of `holds` holds wherever `holds` does: only the
///   other conjuncts of `fails` can fail.
/// - A disjunct of `holds` that is one of `fails` fails wherever `fails` does: only
///   the other disjuncts of `holds` can hold.
fn question(holds: &Pred, fails: &Pred) -> Option<Pred> {
    fn parts(p: &Pred, and: bool) -> Vec<&Pred> {
        match p {
            Pred::And(ps) if and => ps.iter().flat_map(|p| parts(p, true)).collect(),
            Pred::Or(ps) if !and => ps.iter().flat_map(|p| parts(p, false)).collect(),
            other => vec![other],
        }
    }
    let unspanned = |ps: &[&Pred]| -> Vec<Pred> { ps.iter().map(|p| p.without_spans()).collect() };
    let (holds_and, fails_and) = (parts(holds, true), parts(fails, true));
    let asserted = unspanned(&holds_and);
    let left: Vec<Pred> = fails_and
        .iter()
        .filter(|f| !asserted.contains(&f.without_spans()))
        .map(|f| (*f).clone())
        .collect();
    if left.is_empty() {
        return None;
    }
    let fails = match left.len() {
        1 => left.into_iter().next().expect("one"),
        _ => Pred::And(left),
    };
    let denied = unspanned(&parts(&fails, false));
    let holds_or = parts(holds, false);
    let kept: Vec<Pred> = holds_or
        .iter()
        .filter(|h| !denied.contains(&h.without_spans()))
        .map(|h| (*h).clone())
        .collect();
    let holds = match kept.len() {
        0 => return None,
        1 => kept.into_iter().next().expect("one"),
        _ => Pred::Or(kept),
    };
    Some(Pred::And(vec![holds, Pred::Not(Box::new(fails))]))
}

/// An event whose alerting changed, and the part of the rule that explains it.
#[derive(Debug, Clone, Serialize)]
pub struct Witness {
    pub event: Event,
    /// Which exclusion or detection part the change comes from.
    pub cause: String,
}

/// A finding new in one version or gone from it.
#[derive(Debug, Clone, Serialize)]
pub struct FindingChange {
    pub code: Code,
    pub name: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The exclusion it is about (a scenario's or an inline exclusion's name).
    pub exclusion: Option<String>,
    /// Where it is (the version's file; 1-based).
    pub line: usize,
    pub column: usize,
}

/// One scenario exclusion of a rule, compared.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioDiff {
    pub name: String,
    pub change: ScenarioChange,
    /// An event of the rule it suppresses now and did not.
    pub suppresses_more: Option<Event>,
    /// An event of the rule it suppressed and no longer does.
    pub suppresses_less: Option<Event>,
    pub note: Option<String>,
}

/// One rule, compared.
#[derive(Debug, Clone, Serialize)]
pub struct RuleDiff {
    pub id: String,
    pub name: String,
    pub format: &'static str,
    pub old_file: Option<PathBuf>,
    pub new_file: Option<PathBuf>,
    pub change: Change,
    pub stops_alerting: Option<Witness>,
    pub starts_alerting: Option<Witness>,
    /// Whether D is exact in both versions (else the comparison is of D as fpx reads it).
    pub exact: bool,
    /// Why the change is what it is when that needs saying (undecided, another table).
    pub note: Option<String>,
    pub new_findings: Vec<FindingChange>,
    pub gone_findings: Vec<FindingChange>,
    pub scenarios: Vec<ScenarioDiff>,
    /// With `--events`: what replaying them through both versions showed.
    pub events: Option<Replayed>,
}

/// Real events replayed through both versions of a rule: how many stop and start
/// alerting, and which exclusion each was suppressed by (in the new version for those
/// that stop, in the old for those that start).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Replayed {
    pub stop_alerting: usize,
    pub start_alerting: usize,
    /// (exclusion name, events) of the new version, for events that stop alerting.
    pub stopped_by: Vec<(String, usize)>,
    /// (exclusion name, events) of the old version, for events that start alerting.
    pub no_longer_suppressed_by: Vec<(String, usize)>,
}

impl RuleDiff {
    /// Whether a reviewer has something to look at.
    pub fn interesting(&self) -> bool {
        self.change != Change::Unchanged
            || !self.new_findings.is_empty()
            || !self.gone_findings.is_empty()
            || self.scenarios.iter().any(|s| s.change != ScenarioChange::Unchanged)
    }
}

/// Two versions of a rule set, compared.
#[derive(Debug, Default, Serialize)]
pub struct DiffReport {
    /// Every rule of either version, what needs review first.
    pub rules: Vec<RuleDiff>,
    /// Files of the old version fpx could not read (they do not stop the diff).
    pub old_errors: Vec<String>,
    /// Files of the new version fpx could not read (an input error).
    pub new_errors: Vec<String>,
}

impl DiffReport {
    /// How many rules have each change class.
    pub fn counts(&self) -> Vec<(Change, usize)> {
        let mut counts: Vec<(Change, usize)> = Vec::new();
        for r in &self.rules {
            match counts.iter_mut().find(|(c, _)| *c == r.change) {
                Some((_, n)) => *n += 1,
                None => counts.push((r.change, 1)),
            }
        }
        counts.sort_by_key(|(c, _)| c.rank());
        counts
    }

    /// New findings at `severity` or above, over every rule.
    pub fn new_findings_at(&self, severity: Severity) -> usize {
        self.rules
            .iter()
            .flat_map(|r| &r.new_findings)
            .filter(|f| f.severity >= severity)
            .count()
    }
}

/// Rules by key (id, or the file for a rule without one); the first of an id, as
/// FPX404 has it.
fn rules_of(report: &CheckReport) -> Vec<(String, &RuleResult)> {
    let mut seen = HashSet::new();
    report
        .rules
        .iter()
        .map(|r| (key(&r.rule), r))
        .filter(|(key, _)| seen.insert(key.clone()))
        .collect()
}

fn key(doc: &RuleDoc) -> String {
    match doc.id.trim() {
        "" => format!("file:{}", doc.file.display()),
        id => id.to_string(),
    }
}

/// The two versions with only the rules that need checking, and the rules that do not:
/// a rule whose file text and scenario files are the same in both versions (and whose
/// id no other rule has) has the same findings and alerts in both, so it is
/// `unchanged` without being checked. Any meta-filter change checks every rule.
pub fn changed_only(mut old: Corpus, mut new: Corpus) -> (Corpus, Corpus, Vec<RuleDiff>) {
    let meta = |c: &Corpus| -> Vec<String> {
        let mut texts: Vec<String> = c.meta_filters.iter().map(|m| m.source.to_string()).collect();
        texts.sort();
        texts
    };
    if meta(&old) != meta(&new) {
        return (old, new, Vec::new());
    }
    // What a rule's check reads, beyond its own file: its scenario files.
    let scenarios = |c: &Corpus| -> HashMap<String, Vec<String>> {
        let mut by_rule: HashMap<String, Vec<String>> = HashMap::new();
        for f in &c.scenario_files {
            by_rule.entry(f.rule.clone()).or_default().push(f.source.to_string());
        }
        by_rule.values_mut().for_each(|v| v.sort());
        by_rule
    };
    let repeated = |c: &Corpus| -> HashSet<String> {
        let mut seen = HashSet::new();
        c.rules.iter().map(key).filter(|k| !seen.insert(k.clone())).collect()
    };
    let (old_scenarios, new_scenarios) = (scenarios(&old), scenarios(&new));
    let (old_repeated, new_repeated) = (repeated(&old), repeated(&new));
    let old_rules: HashMap<String, &RuleDoc> = old.rules.iter().map(|r| (key(r), r)).collect();
    let mut same: HashSet<String> = HashSet::new();
    let mut unchanged = Vec::new();
    for r in &new.rules {
        let k = key(r);
        let Some(before) = old_rules.get(&k) else {
            continue;
        };
        if old_repeated.contains(&k)
            || new_repeated.contains(&k)
            || old_scenarios.get(&k) != new_scenarios.get(&k)
            || before.source != r.source
        {
            continue;
        }
        unchanged.push(RuleDiff {
            id: r.id.clone(),
            name: r.name.clone(),
            format: r.format.as_str(),
            old_file: Some(before.file.clone()),
            new_file: Some(r.file.clone()),
            change: Change::Unchanged,
            stops_alerting: None,
            starts_alerting: None,
            exact: r.lowered.as_ref().is_some_and(|q| q.detection.is_some() && q.exact()),
            note: None,
            new_findings: Vec::new(),
            gone_findings: Vec::new(),
            scenarios: Vec::new(),
            events: None,
        });
        same.insert(k);
    }
    for c in [&mut old, &mut new] {
        c.rules.retain(|r| !same.contains(&key(r)));
        c.scenario_files.retain(|f| !same.contains(&f.rule));
    }
    (old, new, unchanged)
}

/// Compares two checked versions of a rule set.
/// `unchanged`: the rules [`changed_only`] left out, reported as they are.
pub fn diff(old: &CheckReport, new: &CheckReport, unchanged: Vec<RuleDiff>) -> DiffReport {
    let old_rules = rules_of(old);
    let new_rules = rules_of(new);
    let old_by_key: HashMap<&str, &RuleResult> = old_rules.iter().map(|(k, r)| (k.as_str(), *r)).collect();
    let new_keys: HashSet<&str> = new_rules.iter().map(|(k, _)| k.as_str()).collect();
    let mut rules: Vec<RuleDiff> = {
        use rayon::prelude::*;
        new_rules
            .par_iter()
            .map(|(key, n)| match old_by_key.get(key.as_str()) {
                Some(o) => compare_rule(o, n),
                None => one_sided(n, Change::Added),
            })
            .collect()
    };
    rules.extend(
        old_rules
            .iter()
            .filter(|(key, _)| !new_keys.contains(key.as_str()))
            .map(|(_, o)| one_sided(o, Change::Removed)),
    );
    rules.extend(unchanged);
    rules.sort_by(|a, b| {
        (a.change.rank(), &a.new_file, &a.old_file, &a.id).cmp(&(b.change.rank(), &b.new_file, &b.old_file, &b.id))
    });
    let errors = |v: &CheckReport| v.load_errors.iter().map(|e| e.to_string()).collect();
    DiffReport {
        rules,
        old_errors: errors(old),
        new_errors: errors(new),
    }
}

/// A rule only one version has.
fn one_sided(r: &RuleResult, change: Change) -> RuleDiff {
    let file = Some(r.rule.file.clone());
    let findings = findings_of(r);
    let (old_file, new_file, new_findings) = match change {
        Change::Added => (None, file, findings),
        _ => (file, None, Vec::new()),
    };
    RuleDiff {
        id: r.rule.id.clone(),
        name: r.rule.name.clone(),
        format: r.rule.format.as_str(),
        old_file,
        new_file,
        change,
        stops_alerting: None,
        starts_alerting: None,
        exact: r.query.detection.is_some() && r.query.exact(),
        note: None,
        new_findings,
        gone_findings: Vec::new(),
        scenarios: Vec::new(),
        events: None,
    }
}

/// The text a rule's alerts follow from: the query (KQL, seed), or a Sigma rule's
/// `logsource` and `detection` (its title or description changing changes nothing).
fn logic_text(r: &RuleResult) -> String {
    if r.rule.format == RuleFormat::Sigma
        && let Ok(serde_yaml::Value::Mapping(map)) = serde_yaml::from_str::<serde_yaml::Value>(&r.rule.query)
    {
        let part = |k: &str| map.get(k).map(|v| serde_yaml::to_string(v).unwrap_or_default());
        return format!("{:?}\n{:?}", part("logsource"), part("detection"));
    }
    r.rule.query.clone()
}

/// What a version of a rule alerts on: its table and D (on the rows a union of tables
/// has), or why fpx cannot say.
struct Alerting<'a> {
    table: Option<&'a crate::schema::Table>,
    detection: Pred,
    rule: &'a RuleResult,
}

impl<'a> Alerting<'a> {
    fn of(r: &'a RuleResult) -> Result<Alerting<'a>, String> {
        let detection = r
            .query
            .detection
            .clone()
            .ok_or_else(|| "fpx cannot read its detection (see FPX401)".to_string())?;
        let table = r.query.table.as_ref().filter(|t| schema().table(t).is_some());
        Ok(Alerting {
            table,
            detection: on_rows(table, detection),
            rule: r,
        })
    }

    fn domains(&self) -> &'static Domains {
        schema().domains(self.table.map_or("", |t| t.name()))
    }

    fn context(&self) -> Option<RuleContext<'_>> {
        self.table.map(|table| RuleContext {
            table,
            detection: Some(&self.detection),
            scoped: false,
        })
    }

    /// The inline exclusions that suppress `event`, by their text (whitespace squashed).
    fn suppressing(&self, event: &Event) -> Vec<String> {
        let Some(context) = self.context() else {
            return Vec::new();
        };
        self.rule
            .query
            .inline
            .iter()
            .filter(|e| exclusion_on_table(&e.suppresses, &context).eval(event))
            .map(|e| squash(self.rule.rule.query.get(e.span.clone()).unwrap_or("")))
            .collect()
    }

    fn inline_texts(&self) -> HashSet<String> {
        self.rule
            .query
            .inline
            .iter()
            .map(|e| squash(self.rule.rule.query.get(e.span.clone()).unwrap_or("")))
            .collect()
    }

    /// Whether the rule matches `event` before its inline exclusions.
    fn matches_unexcluded(&self, event: &Event) -> bool {
        match &self.rule.query.unexcluded {
            Some(d) => on_rows(self.table, d.clone()).eval(event),
            None => self.detection.eval(event),
        }
    }
}

fn on_rows(table: Option<&crate::schema::Table>, d: Pred) -> Pred {
    match table.and_then(|t| schema().rows(t)) {
        Some(rows) => Pred::And(vec![d, rows.clone()]),
        None => d,
    }
}

/// An exclusion's text as a cause names it: its first 160 characters.
fn shortened(text: &str) -> String {
    const MAX: usize = 160;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Why `event` stopped alerting: a new version's exclusion suppresses it, or its
/// detection no longer matches it.
fn why_stops(old: &Alerting, new: &Alerting, event: &Event) -> String {
    if !new.matches_unexcluded(event) {
        return "the detection no longer matches it".into();
    }
    let before = old.inline_texts();
    let by = new.suppressing(event);
    let named: Vec<String> = by
        .iter()
        .map(|t| match before.contains(t) {
            true => format!("`{}`", shortened(t)),
            false => format!("`{}` (new or changed)", shortened(t)),
        })
        .collect();
    match named.as_slice() {
        [] => "the new version's exclusions suppress it together".into(),
        [one] => format!("suppressed by the exclusion {one}"),
        all => format!("suppressed by the exclusions {}", all.join(", ")),
    }
}

/// Why `event` started alerting: an old exclusion no longer suppresses it, or the
/// detection now matches it.
fn why_starts(old: &Alerting, new: &Alerting, event: &Event) -> String {
    if !old.matches_unexcluded(event) {
        return "the detection now matches it".into();
    }
    let after = new.inline_texts();
    let by = old.suppressing(event);
    let named: Vec<String> = by
        .iter()
        .map(|t| match after.contains(t) {
            true => format!("`{}`", shortened(t)),
            false => format!("`{}` (removed or changed)", shortened(t)),
        })
        .collect();
    match named.as_slice() {
        [] => "the old version's exclusions no longer suppress it".into(),
        [one] => format!("no longer suppressed by the exclusion {one}"),
        all => format!("no longer suppressed by the exclusions {}", all.join(", ")),
    }
}

fn compare_rule(o: &RuleResult, n: &RuleResult) -> RuleDiff {
    let (new_findings, gone_findings) = finding_changes(o, n);
    let mut out = RuleDiff {
        id: n.rule.id.clone(),
        name: n.rule.name.clone(),
        format: n.rule.format.as_str(),
        old_file: Some(o.rule.file.clone()),
        new_file: Some(n.rule.file.clone()),
        change: Change::Unchanged,
        stops_alerting: None,
        starts_alerting: None,
        exact: [o, n].iter().all(|r| r.query.detection.is_some() && r.query.exact()),
        note: None,
        new_findings,
        gone_findings,
        scenarios: Vec::new(),
        events: None,
    };
    let same_text = logic_text(o) == logic_text(n);
    let sides = (Alerting::of(o), Alerting::of(n));
    out.scenarios = scenario_changes(o, n, sides.1.as_ref().ok());
    if same_text {
        return out;
    }
    let (a_old, a_new) = match sides {
        (Ok(a), Ok(b)) => (a, b),
        (Err(why), _) => return undecided(out, format!("the old version: {why}")),
        (_, Err(why)) => return undecided(out, format!("the new version: {why}")),
    };
    if a_old.table != a_new.table || o.query.table != n.query.table {
        out.change = Change::Changed;
        out.note = Some(format!(
            "the rule now reads {} (it read {}): every event of the old table stops alerting and the new table's start",
            n.query.table.as_deref().unwrap_or("no known table"),
            o.query.table.as_deref().unwrap_or("no known table"),
        ));
        return out;
    }
    let difference = compare(&a_old.detection, &a_new.detection, a_new.domains());
    out.change = difference.change();
    out.note = difference.undecided.clone();
    out.stops_alerting = difference.lost.map(|event| Witness {
        cause: why_stops(&a_old, &a_new, &event),
        event,
    });
    out.starts_alerting = difference.gained.map(|event| Witness {
        cause: why_starts(&a_old, &a_new, &event),
        event,
    });
    out
}

fn undecided(mut out: RuleDiff, why: String) -> RuleDiff {
    out.change = Change::Undecided;
    out.note = Some(why);
    out
}

/// Scenario exclusions of both versions, matched by name: for one whose text changed,
/// what the old and the new text suppress within the new version's D (the edit's own
/// effect; a change of D alone shows in the rule's change and its findings).
fn scenario_changes(o: &RuleResult, n: &RuleResult, a_new: Option<&Alerting>) -> Vec<ScenarioDiff> {
    let olds: HashMap<&str, &ScenarioResult> = o.scenarios.iter().map(|s| (s.name.as_str(), s)).collect();
    let news: HashSet<&str> = n.scenarios.iter().map(|s| s.name.as_str()).collect();
    let suppressed = |s: &ScenarioResult| {
        let a = a_new?;
        let e = scenario_on_table(&s.exclusion, &a.context()?)?;
        Some(Pred::And(vec![a.detection.clone(), e]))
    };
    let mut out: Vec<ScenarioDiff> = n
        .scenarios
        .iter()
        .map(|s| {
            let mut d = ScenarioDiff {
                name: s.name.clone(),
                change: ScenarioChange::Unchanged,
                suppresses_more: None,
                suppresses_less: None,
                note: None,
            };
            let Some(before) = olds.get(s.name.as_str()) else {
                d.change = ScenarioChange::Added;
                return d;
            };
            if squash(&before.exclusion) == squash(&s.exclusion) {
                return d;
            }
            let (Some(was), Some(is)) = (suppressed(before), suppressed(s)) else {
                d.change = ScenarioChange::Undecided;
                d.note = Some("fpx cannot read the exclusion (old or new) or the rule's detection".into());
                return d;
            };
            let domains = a_new.map_or_else(|| schema().domains(""), Alerting::domains);
            let difference = compare(&was, &is, domains);
            d.change = match difference.change() {
                Change::Equivalent => ScenarioChange::Equivalent,
                Change::Narrowed => ScenarioChange::SuppressesLess,
                Change::Broadened => ScenarioChange::SuppressesMore,
                Change::Changed => ScenarioChange::Changed,
                _ => ScenarioChange::Undecided,
            };
            d.note = difference.undecided;
            d.suppresses_less = difference.lost;
            d.suppresses_more = difference.gained;
            d
        })
        .collect();
    out.extend(
        o.scenarios
            .iter()
            .filter(|s| !news.contains(s.name.as_str()))
            .map(|s| ScenarioDiff {
                name: s.name.clone(),
                change: ScenarioChange::Removed,
                suppresses_more: None,
                suppresses_less: None,
                note: None,
            }),
    );
    out
}

/// Every finding of a rule, with the exclusion it is about.
fn findings_with_exclusion(r: &RuleResult) -> Vec<(Option<&str>, &Finding)> {
    r.findings
        .iter()
        .map(|f| (None, f))
        .chain(
            r.exclusions()
                .flat_map(|s| s.findings().iter().map(move |f| (Some(s.name.as_str()), f))),
        )
        .collect()
}

fn finding_change(exclusion: Option<&str>, f: &Finding) -> FindingChange {
    let (line, column) = f.anchor.as_ref().map_or((0, 0), |a| (a.line, a.column));
    FindingChange {
        code: f.kind.code,
        name: f.kind.name,
        severity: f.severity,
        message: f.message.clone(),
        exclusion: exclusion.map(str::to_string),
        line,
        column,
    }
}

fn findings_of(r: &RuleResult) -> Vec<FindingChange> {
    findings_with_exclusion(r)
        .into_iter()
        .map(|(e, f)| finding_change(e, f))
        .collect()
}

/// Each rule's matches in a replay, by event (file and position).
type Matches<'a> = HashMap<&'a str, HashMap<(&'a std::path::Path, usize), &'a replay::Match>>;

fn matches_of<'a>(rules: &'a [replay::Rule], run: &'a Replay) -> Matches<'a> {
    let mut by_rule: Matches = HashMap::new();
    for m in &run.matches {
        by_rule
            .entry(rules[m.rule].id.as_str())
            .or_default()
            .insert((m.file.as_path(), m.index), m);
    }
    by_rule
}

/// Counts one more event for each exclusion of `rule` in `by` (by its name).
fn count_by(rule: Option<&replay::Rule>, by: &[usize], counts: &mut Vec<(String, usize)>) {
    for &j in by {
        let Some(e) = rule.and_then(|r| r.exclusions.get(j)) else {
            continue;
        };
        match counts.iter_mut().find(|(n, _)| *n == e.name) {
            Some((_, k)) => *k += 1,
            None => counts.push((e.name.clone(), 1)),
        }
    }
}

/// Adds to every rule the replay covered what replaying the same events through both
/// versions showed (`old` and `new`: each version's replayed rules and its replay, with
/// the matches kept).
pub fn with_events(report: &mut DiffReport, old: (&[replay::Rule], &Replay), new: (&[replay::Rule], &Replay)) {
    let (old_seen, new_seen) = (matches_of(old.0, old.1), matches_of(new.0, new.1));
    let empty = HashMap::new();
    for r in report.rules.iter_mut().filter(|r| r.change != Change::Unchanged) {
        let was = old.0.iter().find(|x| x.id == r.id);
        let is = new.0.iter().find(|x| x.id == r.id);
        if was.is_none() && is.is_none() {
            continue;
        }
        let before = old_seen.get(r.id.as_str()).unwrap_or(&empty);
        let after = new_seen.get(r.id.as_str()).unwrap_or(&empty);
        let mut replayed = Replayed::default();
        // Alerting in one version and not the other; the exclusions that suppress it
        // where it does not alert.
        for (event, _) in before.iter().filter(|(_, m)| m.alerts) {
            match after.get(event) {
                Some(m) if m.alerts => {}
                now => {
                    replayed.stop_alerting += 1;
                    if let Some(m) = now {
                        count_by(is, &m.suppressed_by, &mut replayed.stopped_by);
                    }
                }
            }
        }
        for (event, _) in after.iter().filter(|(_, m)| m.alerts) {
            match before.get(event) {
                Some(m) if m.alerts => {}
                then => {
                    replayed.start_alerting += 1;
                    if let Some(m) = then {
                        count_by(was, &m.suppressed_by, &mut replayed.no_longer_suppressed_by);
                    }
                }
            }
        }
        for counts in [&mut replayed.stopped_by, &mut replayed.no_longer_suppressed_by] {
            counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
        r.events = Some(replayed);
    }
}

/// Findings of the new version the old lacks, and the reverse: matched by fingerprint,
/// then what is left by code and exclusion name (an edited exclusion that keeps its
/// finding has a new fingerprint, not a new finding).
fn finding_changes(o: &RuleResult, n: &RuleResult) -> (Vec<FindingChange>, Vec<FindingChange>) {
    let olds = findings_with_exclusion(o);
    let news = findings_with_exclusion(n);
    let prints = |all: &[(Option<&str>, &Finding)]| -> HashSet<String> {
        all.iter().map(|(_, f)| f.fingerprint.clone()).collect()
    };
    let (old_prints, new_prints) = (prints(&olds), prints(&news));
    let unmatched = |all: &[(Option<&str>, &Finding)], other: &HashSet<String>| -> Vec<FindingChange> {
        all.iter()
            .filter(|(_, f)| !other.contains(&f.fingerprint))
            .map(|(e, f)| finding_change(*e, f))
            .collect()
    };
    let (mut new, mut gone) = (unmatched(&news, &old_prints), unmatched(&olds, &new_prints));
    // The same message first, then the same code at the same severity on the same
    // exclusion (its proof event reworded): a reviewer is shown what is new, not what
    // was reworded.
    for by_message in [true, false] {
        let same = |a: &FindingChange, b: &FindingChange| {
            a.code == b.code
                && a.exclusion == b.exclusion
                && a.severity == b.severity
                && (!by_message || a.message == b.message)
        };
        new.retain(|f| {
            let pair = gone.iter().position(|g| same(f, g));
            match pair {
                Some(i) => {
                    gone.remove(i);
                    false
                }
                None => true,
            }
        });
    }
    (new, gone)
}

#[cfg(test)]
mod tests;
