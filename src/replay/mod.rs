//! `fpx replay`: the rules and their exclusions (scenario, inline, meta-filter) over real
//! events, read as a stream. Per rule: the events its detection matches (without its
//! exclusions), the alerts it raises (after its own inline exclusions and meta-filters),
//! and per exclusion how many matches it suppressed and their most common values.
//! Events labelled as true positives that an exclusion suppresses are FPX301 with the
//! real event as proof.

mod compiled;
pub mod emit;
pub mod events;
mod json;
mod literals;
mod logsource;
pub mod view;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use crate::checks::{CheckReport, Origin, RuleContext, RuleResult, exclusion_on_table, inline_name, scenario_on_table};
use crate::corpus::Corpus;
use crate::corpus::RuleFormat;
use crate::pred::{Event, Pred};
use crate::schema::schema;
use compiled::Naming;
pub use events::BadEvent;
use logsource::{Fit, Routes};
use view::View;

/// One exclusion as the replay evaluates it.
#[derive(Debug, Clone)]
pub struct Exclusion {
    pub origin: Origin,
    pub name: String,
    pub text: String,
    /// What it suppresses, over the rule's fields (`None`: it did not parse).
    pub pred: Option<Pred>,
    /// For an inline exclusion that binds inside an `or` branch, the events it decides:
    /// it suppresses those of them `pred` holds on.
    pub scope: Option<Pred>,
}

/// A rule as the replay evaluates it.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub file: PathBuf,
    pub table: Option<crate::schema::Table>,
    pub format: RuleFormat,
    /// The detection without its exclusions; `exact` is false when fpx approximated it
    /// (its matches may then include events the real rule does not match).
    pub detection: Pred,
    /// D with its inline exclusions, when one binds inside an `or` branch: whether a
    /// match alerts is then D's to say (exclusions in several branches suppress an event
    /// together that none suppresses alone).
    pub alerting: Option<Pred>,
    pub exact: bool,
    pub exclusions: Vec<Exclusion>,
    /// What a test of a field with several values (an ECS array) means.
    pub many_values: crate::model::ManyValues,
    /// The index patterns an Elastic rule searches (empty: every event).
    pub indices: Vec<String>,
}

/// The rules of a checked corpus, ready to replay (rules without a detection are left
/// out, with the reason).
pub fn plan(report: &CheckReport) -> (Vec<Rule>, Vec<String>) {
    let mut rules = Vec::new();
    let mut skipped = Vec::new();
    for r in &report.rules {
        match rule_of(r) {
            Some(rule) => rules.push(rule),
            None => skipped.push(format!(
                "{}: no detection logic fpx could read (see FPX401)",
                r.rule.file.display()
            )),
        }
    }
    (rules, skipped)
}

/// The rules of a loaded corpus, ready to replay, read from the rule model without
/// running any check: the same rules, detections and exclusions as [`plan`] of the
/// checked corpus (a test compares them), in a fraction of the time.
pub fn plan_corpus(corpus: Corpus) -> (Vec<Rule>, Vec<String>) {
    use rayon::prelude::*;
    let Corpus {
        rules,
        scenario_files,
        meta_filters,
        ..
    } = corpus;
    // As FPX404 has it: the first rule of an id owns its scenarios; a rule without an
    // id has none.
    let mut owners = std::collections::HashSet::new();
    let owns: Vec<bool> = rules
        .iter()
        .map(|r| !r.id.trim().is_empty() && owners.insert(r.id.clone()))
        .collect();
    let planned: Vec<Result<Rule, String>> = rules
        .into_par_iter()
        .zip(owns)
        .map(|(mut doc, owns)| {
            let query = doc.take_query();
            let Some(detection) = query.detection.clone() else {
                return Err(format!(
                    "{}: no detection logic fpx could read (see FPX401)",
                    doc.file.display()
                ));
            };
            let known_table = query.table.as_ref().filter(|t| schema().table(t).is_some());
            // As the checks read them: D on the rows a union of tables has.
            let rows = known_table.and_then(|t| schema().rows(t));
            let on_rows = |d: &Pred| match rows {
                Some(rows) => Pred::And(vec![d.clone(), rows.clone()]),
                None => d.clone(),
            };
            let on_rows_detection = on_rows(&detection);
            let context = known_table.map(|table| RuleContext {
                table,
                detection: Some(&on_rows_detection),
                scoped: false,
            });
            let mut exclusions: Vec<Exclusion> = scenario_files
                .iter()
                .filter(|f| owns && f.rule == doc.id)
                .flat_map(|f| &f.scenarios)
                .map(|s| Exclusion {
                    origin: Origin::Scenario,
                    name: s.name.clone(),
                    text: s.exclusion.clone(),
                    pred: context.as_ref().and_then(|c| scenario_on_table(&s.exclusion, c)),
                    scope: None,
                })
                .collect();
            if let Some(context) = &context {
                exclusions.extend(query.inline.iter().enumerate().map(|(i, e)| {
                    // An inline exclusion is judged against the rest of the rule.
                    let rest = on_rows(&e.rest);
                    let own = RuleContext {
                        detection: Some(&rest),
                        ..*context
                    };
                    Exclusion {
                        origin: Origin::Inline,
                        name: inline_name(e, i),
                        text: doc.query.get(e.span.clone()).unwrap_or("").to_string(),
                        pred: Some(exclusion_on_table(&e.suppresses, &own)),
                        scope: e.scoped.then(|| e.rest.clone()),
                    }
                }));
                exclusions.extend(
                    meta_filters
                        .iter()
                        .filter(|m| {
                            m.filter
                                .applies_to(&doc.id, &doc.name, query.table.as_deref(), &doc.exception_lists)
                        })
                        .map(|m| Exclusion {
                            origin: crate::checks::filter_origin(m),
                            name: crate::checks::filter_label(m),
                            text: m.source.get(m.filter.span.clone()).unwrap_or("").to_string(),
                            pred: m.filter.suppresses.as_ref().map(|p| exclusion_on_table(p, context)),
                            scope: None,
                        }),
                );
            }
            let alerting = query.inline.iter().any(|e| e.scoped).then(|| detection.clone());
            let detection = query.unexcluded.clone().unwrap_or(detection);
            Ok(Rule {
                id: doc.id.clone(),
                name: doc.name.clone(),
                file: doc.file.clone(),
                table: query.table.clone(),
                format: doc.format,
                detection,
                alerting,
                exact: query.exact(),
                exclusions,
                many_values: doc.many_values,
                indices: doc.indices.clone(),
            })
        })
        .collect();
    let (mut rules, mut skipped) = (Vec::new(), Vec::new());
    for p in planned {
        match p {
            Ok(rule) => rules.push(rule),
            Err(why) => skipped.push(why),
        }
    }
    (rules, skipped)
}

fn rule_of(r: &RuleResult) -> Option<Rule> {
    let detection = r.query.detection.clone()?;
    // Inline exclusions are part of D; the replay counts them apart.
    let alerting = r.query.inline.iter().any(|e| e.scoped).then(|| detection.clone());
    let detection = r.query.unexcluded.clone().unwrap_or(detection);
    // Inline results are the query's inline exclusions, in order (then meta-filters).
    let mut inline = r.query.inline.iter();
    let exclusions = r
        .exclusions()
        .map(|s| Exclusion {
            origin: s.origin,
            name: s.name.clone(),
            text: s.exclusion.clone(),
            pred: s.result.on_table.clone(),
            scope: match s.origin {
                Origin::Inline => inline.next().filter(|e| e.scoped).map(|e| e.rest.clone()),
                _ => None,
            },
        })
        .collect();
    Some(Rule {
        id: r.rule.id.clone(),
        name: r.rule.name.clone(),
        file: r.rule.file.clone(),
        table: r.query.table.clone(),
        format: r.rule.format,
        detection,
        alerting,
        exact: r.query.exact(),
        exclusions,
        many_values: r.rule.many_values,
        indices: r.rule.indices.clone(),
    })
}

/// What one exclusion did over the events.
#[derive(Debug, Clone, Default)]
pub struct ExclusionCount {
    pub suppressed: usize,
    /// Per field the exclusion reads: value -> how many suppressed matches had it.
    pub values: BTreeMap<String, HashMap<String, usize>>,
}

/// What one rule did over the events.
#[derive(Debug, Clone, Default)]
pub struct RuleCount {
    /// Events the detection (without exclusions) matched.
    pub matches: usize,
    /// Matches no inline exclusion or meta-filter suppressed: what the deployed rule
    /// raises (scenario exclusions are proposals, counted apart).
    pub alerts: usize,
    pub exclusions: Vec<ExclusionCount>,
}

/// A match, for `--format jsonl`.
#[derive(Debug, Clone)]
pub struct Match {
    pub rule: usize,
    pub file: PathBuf,
    pub index: usize,
    /// The exclusions (by position in the rule) that suppress it.
    pub suppressed_by: Vec<usize>,
    /// Whether the deployed rule alerts on it (no inline exclusion or meta-filter
    /// suppresses it; scenario exclusions are proposals).
    pub alerts: bool,
}

/// A true-positive event an exclusion suppresses (FPX301 with a real event).
#[derive(Debug, Clone)]
pub struct SuppressedTruePositive {
    pub rule: usize,
    pub exclusion: usize,
    pub file: PathBuf,
    pub index: usize,
    pub event: Event,
}

/// A labelled true-positive event its rule does not match at all.
#[derive(Debug, Clone)]
pub struct MissedTruePositive {
    pub rule_id: String,
    pub file: PathBuf,
    pub index: usize,
}

/// Which rules an event file's events are true positives of.
#[derive(Debug, Clone)]
pub enum Label {
    /// Not labelled.
    None,
    /// True positives of every rule.
    Any,
    /// True positives of these rule ids (SigmaHQ's `regression_data` `info.yml`).
    Rules(Vec<String>),
}

/// The outcome of a replay.
#[derive(Debug, Default)]
pub struct Replay {
    pub events: usize,
    pub bad: Vec<BadEvent>,
    pub counts: Vec<RuleCount>,
    pub matches: Vec<Match>,
    pub suppressed_true_positives: Vec<SuppressedTruePositive>,
    pub missed_true_positives: Vec<MissedTruePositive>,
    /// Event files whose events no KQL rule saw, and how many events: neither
    /// `--table` nor the file's name says which table they are rows of.
    pub unrouted: Vec<(PathBuf, usize)>,
}

static ROUTES: LazyLock<Routes> = LazyLock::new(Routes::load);

/// Most distinct values kept per field of an exclusion (for the top values).
const MAX_VALUES: usize = 10_000;

/// Events evaluated together (in parallel) before their results are merged in order.
const CHUNK: usize = 4096;

/// The rules compiled for evaluation, grouped by the events they apply to.
struct Compiled<'r> {
    fields: compiled::Fields,
    /// The rules as evaluated (ECS rules' fields read as ECS names: a copy).
    rules: Vec<Cow<'r, Rule>>,
    /// Each rule compiled the first time an event is its candidate: most rules of a
    /// large corpus are never one on a given log, and building their automata was
    /// most of the replay's start-up.
    compiled: Vec<std::sync::OnceLock<CompiledRule>>,
    /// The fields each exclusion reads (for its top values).
    read: Vec<Vec<Vec<(String, Naming)>>>,
    /// Rules by the events they apply to, each group with its own literal prefilter.
    groups: Vec<Group>,
    /// The group of each rule.
    group_of: Vec<usize>,
    /// One literal prefilter over every rule: one pass per field of an event (or of a
    /// renamed view of it) finds the candidates of every group that reads it.
    index: compiled::Index,
    /// False: evaluate every rule on every event it applies to (the prefilter's
    /// reference, for tests).
    prefilter: bool,
}

/// One rule's predicates, compiled.
struct CompiledRule {
    detection: compiled::Node,
    /// D with its inline exclusions when one is scoped (`Rule::alerting`).
    alerting: Option<compiled::Node>,
    exclusions: Vec<Option<compiled::Node>>,
}

/// Rules that apply to the same events.
struct Group {
    applies: Applies,
    /// Whether the group reads some events with renamed fields (a view of the event
    /// that the prefilter looks at apart).
    renames: bool,
}

/// Which events a group of rules applies to.
enum Applies {
    /// A Sigma log source's kinds of events (`None`: every event).
    LogSource(Option<&'static [logsource::Alternative]>),
    /// A KQL table (or the tables of a union): events of files of those tables.
    Table(Vec<String>),
    /// An Elastic rule's index patterns: the documents of matching indices, and those
    /// that do not say which index they are in (empty: every event).
    Indices(Vec<String>),
}

/// How a rule says which events it applies to (groups rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reads {
    LogSource,
    Table,
    Indices,
}

impl<'r> Compiled<'r> {
    fn new(rules: &'r [Rule]) -> Compiled<'r> {
        // Slots first (in rule order, one at a time): a rule is compiled the first time
        // an event is its candidate, which only looks slots up.
        // An Elastic rule reads ECS documents (arrays included) and the fields its
        // checks split into values (`process.args[2]`) as the one field they are.
        let naming = |r: &Rule| Naming::of(r.many_values);
        let read_as = compiled::ecs_reading;
        let rules: Vec<Cow<Rule>> = rules
            .iter()
            .map(|r| match naming(r) {
                Naming::Flat | Naming::EcsSingle => Cow::Borrowed(r),
                Naming::Ecs => Cow::Owned(Rule {
                    detection: read_as(&r.detection),
                    alerting: r.alerting.as_ref().map(read_as),
                    exclusions: r
                        .exclusions
                        .iter()
                        .map(|e| Exclusion {
                            pred: e.pred.as_ref().map(read_as),
                            scope: e.scope.as_ref().map(read_as),
                            ..e.clone()
                        })
                        .collect(),
                    ..r.clone()
                }),
            })
            .collect();
        let mut fields = compiled::Fields::default();
        for r in &rules {
            fields.register(&r.detection, naming(r));
            r.alerting.iter().for_each(|p| fields.register(p, naming(r)));
            for p in r.exclusions.iter().flat_map(|e| e.pred.iter().chain(&e.scope)) {
                fields.register(p, naming(r));
            }
        }
        let read = rules
            .iter()
            .map(|r| {
                r.exclusions
                    .iter()
                    .map(|e| {
                        let fields = e.pred.as_ref().map(Pred::fields).unwrap_or_default();
                        fields.into_iter().map(|f| (f, naming(r))).collect()
                    })
                    .collect()
            })
            .collect();
        let mut members: BTreeMap<(Reads, String), Vec<usize>> = BTreeMap::new();
        for (i, r) in rules.iter().enumerate() {
            let key = match r.format {
                RuleFormat::Sigma => (
                    Reads::LogSource,
                    r.table.as_ref().map_or_else(String::new, |t| t.to_string()),
                ),
                // (Patterns hold no comma: an index name cannot.)
                RuleFormat::Elastic => (Reads::Indices, r.indices.join(",")),
                _ => (
                    Reads::Table,
                    r.table.as_ref().map_or_else(String::new, |t| t.to_string()),
                ),
            };
            members.entry(key).or_default().push(i);
        }
        let mut group_of = vec![0; rules.len()];
        let mut groups = Vec::new();
        for (g, ((reads, table), rule_ids)) in members.into_iter().enumerate() {
            for &i in &rule_ids {
                group_of[i] = g;
            }
            let applies = match reads {
                Reads::LogSource => Applies::LogSource(ROUTES.alternatives(&table)),
                Reads::Indices => Applies::Indices(match table.is_empty() {
                    true => Vec::new(),
                    false => table.split(',').map(str::to_string).collect(),
                }),
                Reads::Table => Applies::Table(
                    crate::schema::schema()
                        .tables_of(&table)
                        .into_iter()
                        .map(str::to_string)
                        .collect(),
                ),
            };
            // Only a log source that renames fields sees events the prefilter did not
            // look at: its view is looked at apart.
            let renames =
                matches!(applies, Applies::LogSource(Some(alternatives)) if alternatives.iter().any(|a| a.renames()));
            groups.push(Group { applies, renames });
        }
        let all: Vec<(usize, &Pred, Naming)> = rules
            .iter()
            .enumerate()
            .map(|(i, r)| (i, &r.detection, naming(r)))
            .collect();
        let index = compiled::Index::new(&all, &mut fields);
        let compiled = rules.iter().map(|_| std::sync::OnceLock::new()).collect();
        Compiled {
            fields,
            rules,
            compiled,
            read,
            groups,
            group_of,
            index,
            prefilter: true,
        }
    }

    /// What the rules make of one event: per matching rule, the exclusions that
    /// suppress it and the values they read.
    fn event(&self, event: &View, file_table: Option<&str>, labelled: &[usize]) -> Vec<Hit> {
        // Whether each group reads the event as it is, decided when first asked (most
        // events are candidates of a few groups only).
        let mut as_is: Vec<Option<bool>> = vec![None; self.groups.len()];
        // The index an ECS document is in, when it says (asked once).
        let mut index: Option<Option<String>> = None;
        let mut reads_as_is = |g: usize| {
            *as_is[g].get_or_insert_with(|| match &self.groups[g].applies {
                Applies::LogSource(route) => matches!(logsource::fit(*route, event), Fit::AsIs),
                Applies::Table(tables) => file_table.is_some_and(|f| tables.iter().any(|t| t == f)),
                Applies::Indices(patterns) => {
                    patterns.is_empty()
                        || index
                            .get_or_insert_with(|| logsource::index_of(event))
                            .as_deref()
                            .is_none_or(|name| logsource::index_matches(patterns, name))
                }
            })
        };
        let mut hits = Vec::new();
        let mut base = self.fields.slots(event);
        let mut candidates = Vec::new();
        let every = |group: usize| (0..self.group_of.len()).filter(move |&i| self.group_of[i] == group);
        if self.prefilter {
            self.index.candidates(&mut base, &mut candidates);
            candidates.retain(|&i| reads_as_is(self.group_of[i]));
        } else {
            candidates = (0..self.groups.len())
                .filter(|&g| reads_as_is(g))
                .flat_map(every)
                .collect();
        }
        self.rules(&candidates, event, &mut base, labelled, &mut hits);
        // A view with renamed fields, for the groups that read one.
        for (g, group) in self.groups.iter().enumerate() {
            let (true, Applies::LogSource(route)) = (group.renames, &group.applies) else {
                continue;
            };
            let Fit::Renamed(alternative) = logsource::fit(*route, event) else {
                continue;
            };
            let view = alternative.rename(event);
            let mut slots = self.fields.slots(&view);
            if self.prefilter {
                self.index.candidates(&mut slots, &mut candidates);
                candidates.retain(|&i| self.group_of[i] == g);
            } else {
                candidates = every(g).collect();
            }
            self.rules(&candidates, &view, &mut slots, labelled, &mut hits);
        }
        // Report order: by rule.
        hits.sort_by_key(|h| h.rule);
        hits
    }

    /// Compiles rule `i`'s predicates.
    fn compile(&self, i: usize) -> CompiledRule {
        let r = &self.rules[i];
        let naming = Naming::of(r.many_values);
        let compile = |p: &Pred| compiled::compile(p, &self.fields, naming);
        CompiledRule {
            detection: compile(&r.detection),
            alerting: r.alerting.as_ref().map(compile),
            exclusions: r
                .exclusions
                .iter()
                .map(|e| {
                    e.pred.as_ref().map(|p| match &e.scope {
                        Some(scope) => compile(&Pred::And(vec![scope.clone(), p.clone()])),
                        None => compile(p),
                    })
                })
                .collect(),
        }
    }

    fn rules(
        &self,
        rules: &[usize],
        event: &View,
        slots: &mut compiled::Slots,
        labelled: &[usize],
        hits: &mut Vec<Hit>,
    ) {
        for &i in rules {
            let compiled = self.compiled[i].get_or_init(|| self.compile(i));
            if !compiled.detection.eval(slots) {
                continue;
            }
            let mut hit = Hit {
                rule: i,
                suppressed_by: Vec::new(),
                values: Vec::new(),
                event: None,
                alerts: compiled.alerting.as_ref().map(|n| n.eval(slots)),
            };
            for (j, e) in compiled.exclusions.iter().enumerate() {
                if e.as_ref().is_some_and(|n| n.eval(slots)) {
                    hit.suppressed_by.push(j);
                    let values = self.read[i][j]
                        .iter()
                        .map(|(f, naming)| (f.clone(), compiled::value_of(event, f, *naming)))
                        .collect();
                    hit.values.push(values);
                }
            }
            if labelled.contains(&i) {
                hit.event = Some(event.to_event());
            }
            hits.push(hit);
        }
    }
}

/// The replay's evaluator on its own (rules compiled, routed and indexed once), for
/// benchmarks and for embedding.
pub struct Engine<'r>(Compiled<'r>);

impl<'r> Engine<'r> {
    pub fn new(rules: &'r [Rule]) -> Engine<'r> {
        Engine(Compiled::new(rules))
    }

    /// The same evaluator without its literal prefilter: every rule is evaluated on
    /// every event it applies to. Slow; the reference the prefilter is tested against.
    pub fn without_prefilter(rules: &'r [Rule]) -> Engine<'r> {
        let mut compiled = Compiled::new(rules);
        compiled.prefilter = false;
        Engine(compiled)
    }

    /// How many of the rules (Sigma rules, and KQL rules of `table`) match the event,
    /// their exclusions evaluated too.
    pub fn matches(&self, event: &Event, table: Option<&str>) -> usize {
        self.0.event(&View::of(event), table, &[]).len()
    }

    /// The rules (by position) that match the event, each with the exclusions (by
    /// position) that suppress the match.
    pub fn matching(&self, event: &Event, table: Option<&str>) -> Vec<(usize, Vec<usize>)> {
        self.0
            .event(&View::of(event), table, &[])
            .into_iter()
            .map(|h| (h.rule, h.suppressed_by))
            .collect()
    }
}

/// The rules that matched each event of one item (by its position in its file).
type Evaluated = Vec<(usize, Vec<Hit>)>;

/// A rule that matched an event.
struct Hit {
    rule: usize,
    suppressed_by: Vec<usize>,
    /// For each suppressing exclusion, the values of the fields it reads.
    values: Vec<Vec<(String, String)>>,
    /// The event as the rule read it, when it is a labelled true positive of the rule.
    event: Option<Event>,
    /// Whether D with its inline exclusions holds, when the rule has scoped ones.
    alerts: Option<bool>,
}

/// Replays `rules` over the events of `files`; `table` is the table KQL rules' events
/// come from (else a file whose name starts with a table's name is that table's).
/// Events are read as a stream and evaluated in parallel in chunks, so memory stays
/// flat in the number of events (apart from the matches kept for `jsonl`).
pub fn replay(
    rules: &[Rule],
    files: &[(PathBuf, Label)],
    table: Option<&str>,
    keep_matches: bool,
) -> Result<Replay, String> {
    replay_with_progress(rules, files, table, keep_matches, &|_| {})
}

/// [`replay`], calling `progress` with the bytes of event files read so far after each
/// chunk of events.
pub fn replay_with_progress(
    rules: &[Rule],
    files: &[(PathBuf, Label)],
    table: Option<&str>,
    keep_matches: bool,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Replay, String> {
    use rayon::prelude::*;
    let bytes = std::sync::atomic::AtomicU64::new(0);
    let bytes = &bytes;
    let plan = Compiled::new(rules);
    let mut out = Replay {
        counts: rules
            .iter()
            .map(|r| RuleCount {
                exclusions: vec![ExclusionCount::default(); r.exclusions.len()],
                ..RuleCount::default()
            })
            .collect(),
        ..Replay::default()
    };
    let kql_rules = rules.iter().any(|r| r.format.is_kql());
    for (file, label) in files {
        let file_table = table.map(str::to_string).or_else(|| table_of_file(file));
        let events_before = out.events;
        let labelled: Vec<usize> = match label {
            Label::None => Vec::new(),
            Label::Any => (0..rules.len()).collect(),
            Label::Rules(ids) => (0..rules.len()).filter(|&i| ids.contains(&rules[i].id)).collect(),
        };
        let mut tp_hits: HashMap<usize, usize> = HashMap::new();
        let mut bad = Vec::new();
        // Parsing (of NDJSON lines) and evaluation run in parallel; results are merged
        // in the file's order.
        let evaluate = |chunk: &mut Vec<events::Item>| -> Vec<Result<Evaluated, BadEvent>> {
            chunk
                .par_drain(..)
                .map_init(Vec::new, |scratch, item| {
                    let evaluate = |index: usize, e: &View| (index, plan.event(e, file_table.as_deref(), &labelled));
                    match item {
                        events::Item::Event(index, e) => Ok(vec![evaluate(index, &e)]),
                        events::Item::Line(line) => line
                            .parse(scratch)
                            .map(|es| es.iter().map(|e| evaluate(line.number, e)).collect()),
                        events::Item::Bad(b) => Err(b),
                    }
                })
                .collect()
        };
        let merge_all = |results: Vec<Result<Evaluated, BadEvent>>,
                         out: &mut Replay,
                         tp_hits: &mut HashMap<usize, usize>,
                         bad: &mut Vec<BadEvent>| {
            for result in results {
                match result {
                    Ok(evaluated) => {
                        for (index, hits) in evaluated {
                            out.events += 1;
                            for hit in hits {
                                merge(rules, out, hit, file, index, keep_matches, tp_hits);
                            }
                        }
                    }
                    Err(b) => bad.push(b),
                }
            }
        };
        // One thread reads the file while the others evaluate the chunk before: a
        // bounded channel keeps at most two chunks in memory ahead of evaluation.
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<events::Item>>(2);
        let read = std::thread::scope(|scope| {
            let reader = scope.spawn(move || {
                let mut chunk = Vec::with_capacity(CHUNK);
                let result = events::read_items_counted(file, bytes, |item| {
                    chunk.push(item);
                    if chunk.len() == CHUNK {
                        // The receiver only stops early on a panic, which is re-raised.
                        let _ = send.send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)));
                    }
                });
                let _ = send.send(chunk);
                result
            });
            // A chunk's results are merged while the next chunk is evaluated: the
            // merge is serial, and the cores would otherwise wait for it.
            let mut unmerged: Option<Vec<Result<Evaluated, BadEvent>>> = None;
            for mut chunk in receive {
                let before = unmerged.take();
                let (results, ()) = rayon::join(
                    || evaluate(&mut chunk),
                    || {
                        if let Some(before) = before {
                            merge_all(before, &mut out, &mut tp_hits, &mut bad);
                            progress(bytes.load(std::sync::atomic::Ordering::Relaxed));
                        }
                    },
                );
                unmerged = Some(results);
            }
            if let Some(last) = unmerged {
                merge_all(last, &mut out, &mut tp_hits, &mut bad);
                progress(bytes.load(std::sync::atomic::Ordering::Relaxed));
            }
            reader.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        read?;
        out.bad.extend(bad);
        let unrouted = kql_rules && file_table.is_none() && out.events > events_before;
        if unrouted {
            out.unrouted.push((file.clone(), out.events - events_before));
        }
        if let Label::Any = label {
            // Every rule is labelled: a true positive that no rule detects is missed
            // (unless the KQL rules never saw it: `unrouted` says so).
            if tp_hits.is_empty() && out.events > events_before && !unrouted {
                out.missed_true_positives.push(MissedTruePositive {
                    rule_id: String::new(),
                    file: file.clone(),
                    index: 0,
                });
            }
        }
        if let Label::Rules(_) = label {
            for &i in &labelled {
                if !tp_hits.contains_key(&i) {
                    out.missed_true_positives.push(MissedTruePositive {
                        rule_id: rules[i].id.clone(),
                        file: file.clone(),
                        index: 0,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Counts one rule's match of one event.
fn merge(
    rules: &[Rule],
    out: &mut Replay,
    hit: Hit,
    file: &Path,
    index: usize,
    keep_matches: bool,
    tp_hits: &mut HashMap<usize, usize>,
) {
    let i = hit.rule;
    let rule = &rules[i];
    let count = &mut out.counts[i];
    count.matches += 1;
    for (&j, values) in hit.suppressed_by.iter().zip(&hit.values) {
        let c = &mut count.exclusions[j];
        c.suppressed += 1;
        for (field, value) in values {
            let seen = c.values.entry(field.clone()).or_default();
            if seen.len() < MAX_VALUES || seen.contains_key(value) {
                *seen.entry(value.clone()).or_default() += 1;
            }
        }
        if let Some(event) = &hit.event {
            out.suppressed_true_positives.push(SuppressedTruePositive {
                rule: i,
                exclusion: j,
                file: file.to_path_buf(),
                index,
                event: event.clone(),
            });
        }
    }
    // A scoped inline exclusion suppresses with the others; D says whether they do.
    let deployed = |origin: Origin| match hit.alerts {
        Some(_) => matches!(origin, Origin::MetaFilter | Origin::Exception | Origin::Filter),
        None => origin != Origin::Scenario,
    };
    let alerts = hit.alerts != Some(false) && !hit.suppressed_by.iter().any(|&j| deployed(rule.exclusions[j].origin));
    if alerts {
        count.alerts += 1;
    }
    if hit.event.is_some() {
        *tp_hits.entry(i).or_default() += 1;
    }
    if keep_matches {
        out.matches.push(Match {
            rule: i,
            file: file.to_path_buf(),
            index,
            suppressed_by: hit.suppressed_by,
            alerts,
        });
    }
}

/// A table named by the file: `DeviceProcessEvents.csv`, `DeviceProcessEvents-2026.json`.
fn table_of_file(file: &Path) -> Option<String> {
    let stem = file.file_stem()?.to_str()?;
    crate::schema::schema()
        .kql_tables()
        .filter(|t| stem.starts_with(t))
        .max_by_key(|t| t.len())
        .map(str::to_string)
}

impl ExclusionCount {
    /// The `n` most common suppressed values of each field, most common first.
    pub fn top(&self, n: usize) -> Vec<(String, String, usize)> {
        let mut out = Vec::new();
        for (field, values) in &self.values {
            let mut sorted: Vec<(&String, &usize)> = values.iter().collect();
            sorted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            out.extend(sorted.into_iter().take(n).map(|(v, c)| (field.clone(), v.clone(), *c)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    /// A plan as text, without atom spans (the checks place inline exclusions relative to
    /// their text; spans do not change what is replayed).
    fn shape(plan: &(Vec<Rule>, Vec<String>)) -> String {
        let unspanned = |p: &Pred| {
            p.map_atoms(&mut |a| {
                let mut a = a.clone();
                a.span = 0..0;
                Pred::Atom(a)
            })
        };
        let rules: Vec<Rule> = plan
            .0
            .iter()
            .map(|r| Rule {
                detection: unspanned(&r.detection),
                exclusions: r
                    .exclusions
                    .iter()
                    .map(|e| Exclusion {
                        pred: e.pred.as_ref().map(unspanned),
                        scope: e.scope.as_ref().map(unspanned),
                        ..e.clone()
                    })
                    .collect(),
                alerting: r.alerting.as_ref().map(unspanned),
                ..r.clone()
            })
            .collect();
        format!("{rules:#?}\n{:?}", plan.1)
    }

    /// `plan_corpus` (the rule model) gives the replay what `plan` of the checked corpus
    /// does.
    pub(crate) fn assert_same_plan(paths: &[PathBuf]) {
        let checked = plan(&crate::checks::check_corpus(crate::corpus::load(paths), None));
        let modelled = plan_corpus(crate::corpus::load(paths));
        assert!(!checked.0.is_empty(), "{paths:?}");
        let (a, b) = (shape(&checked), shape(&modelled));
        if a != b {
            let diff = similar::TextDiff::from_lines(&a, &b)
                .unified_diff()
                .context_radius(3)
                .to_string();
            panic!("{paths:?}: the plans differ:\n{}", &diff[..diff.len().min(4000)]);
        }
    }

    #[test]
    fn the_rule_model_plans_what_the_checks_plan() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let bundled = vec![root.join("rules"), root.join("scenarios")];
        assert_same_plan(&bundled);
        for dir in ["inline", "sigma", "sigma-meta", "sigma-modifiers", "emit", "gate"] {
            assert_same_plan(&[root.join("tests/fixtures").join(dir)]);
        }
    }

    #[test]
    #[ignore = "needs ../shared"]
    fn the_rule_model_plans_what_the_checks_plan_on_the_corpora() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let shared = root.join("../shared/corpus");
        assert_same_plan(&[shared.join("rmm-rules")]);
        assert_same_plan(&[shared.join("sigma/rules"), shared.join("sigma/rules-placeholder")]);
        assert_same_plan(&[root.join("tests/corpus/m365-hunting")]);
        assert_same_plan(&[shared.join("elastic/rules")]);
    }
}
