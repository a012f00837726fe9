//! `fpx replay`: the rules and their exclusions (scenario, inline, meta-filter) over real
//! events, read as a stream. Per rule: the events its detection matches (without its
//! exclusions), the alerts it raises (after its own inline exclusions and meta-filters),
//! and per exclusion how many matches it suppressed and their most common values.
//! Events labelled as true positives that an exclusion suppresses are FPX301 with the
//! real event as proof.

pub mod events;
mod logsource;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use crate::checks::{CheckReport, Origin, RuleResult};
use crate::corpus::RuleFormat;
use crate::pred::{Event, Pred};
pub use events::BadEvent;
use logsource::Routes;

/// One exclusion as the replay evaluates it.
#[derive(Debug, Clone)]
pub struct Exclusion {
    pub origin: Origin,
    pub name: String,
    pub text: String,
    /// What it suppresses, over the rule's fields (`None`: it did not parse).
    pub pred: Option<Pred>,
}

/// A rule as the replay evaluates it.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub file: PathBuf,
    pub table: Option<String>,
    pub format: RuleFormat,
    /// The detection without its exclusions; `exact` is false when fpx approximated it
    /// (its matches may then include events the real rule does not match).
    pub detection: Pred,
    pub exact: bool,
    pub exclusions: Vec<Exclusion>,
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

fn rule_of(r: &RuleResult) -> Option<Rule> {
    let detection = r.query.detection.clone()?;
    // Inline exclusions are part of D; the replay counts them apart.
    let detection = r.query.inline.first().map_or(detection, |e| e.rest.clone());
    let exclusions = r
        .exclusions()
        .map(|s| Exclusion {
            origin: s.origin,
            name: s.name.clone(),
            text: s.exclusion.clone(),
            pred: s.result.on_table.clone(),
        })
        .collect();
    Some(Rule {
        id: r.rule.id.clone(),
        name: r.rule.name.clone(),
        file: r.rule.file.clone(),
        table: r.query.table.clone(),
        format: r.rule.format,
        detection,
        exact: r.query.exact(),
        exclusions,
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
}

static ROUTES: LazyLock<Routes> = LazyLock::new(Routes::load);

/// Most distinct values kept per field of an exclusion (for the top values).
const MAX_VALUES: usize = 10_000;

/// Replays `rules` over the events of `files`; `table` is the table KQL rules' events
/// come from (else a file whose name starts with a table's name is that table's).
pub fn replay(
    rules: &[Rule],
    files: &[(PathBuf, Label)],
    table: Option<&str>,
    keep_matches: bool,
) -> Result<Replay, String> {
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
    for (file, label) in files {
        let file_table = table.map(str::to_string).or_else(|| table_of_file(file));
        let mut bad = Vec::new();
        let mut tp_hits: HashMap<usize, usize> = HashMap::new();
        let labelled: Vec<usize> = match label {
            Label::None => Vec::new(),
            Label::Any => (0..rules.len()).collect(),
            Label::Rules(ids) => (0..rules.len()).filter(|&i| ids.contains(&rules[i].id)).collect(),
        };
        events::read_file(
            file,
            |index, event| {
                out.events += 1;
                for (i, rule) in rules.iter().enumerate() {
                    let Some(view) = applies(rule, &event, file_table.as_deref()) else {
                        continue;
                    };
                    if !rule.detection.eval(&view) {
                        continue;
                    }
                    let count = &mut out.counts[i];
                    count.matches += 1;
                    let mut suppressed_by = Vec::new();
                    for (j, e) in rule.exclusions.iter().enumerate() {
                        if e.pred.as_ref().is_some_and(|p| p.eval(&view)) {
                            suppressed_by.push(j);
                            record(&mut count.exclusions[j], e, &view);
                            if labelled.contains(&i) {
                                out.suppressed_true_positives.push(SuppressedTruePositive {
                                    rule: i,
                                    exclusion: j,
                                    file: file.clone(),
                                    index,
                                    event: view.clone().into_owned(),
                                });
                            }
                        }
                    }
                    let deployed = suppressed_by
                        .iter()
                        .any(|&j| rule.exclusions[j].origin != Origin::Scenario);
                    if !deployed {
                        count.alerts += 1;
                    }
                    if labelled.contains(&i) {
                        *tp_hits.entry(i).or_default() += 1;
                    }
                    if keep_matches {
                        out.matches.push(Match {
                            rule: i,
                            file: file.clone(),
                            index,
                            suppressed_by,
                        });
                    }
                }
            },
            |b| bad.push(b),
        )?;
        out.bad.extend(bad);
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

/// The event as the rule reads it, when the rule applies to it: a Sigma rule to events
/// of its log source (with its field names), a KQL rule to events of its table.
fn applies<'e>(rule: &Rule, event: &'e Event, file_table: Option<&str>) -> Option<std::borrow::Cow<'e, Event>> {
    match rule.format {
        RuleFormat::Sigma => ROUTES.view(rule.table.as_deref().unwrap_or(""), event),
        RuleFormat::Kql | RuleFormat::Seed => {
            (file_table.is_some() && file_table == rule.table.as_deref()).then_some(std::borrow::Cow::Borrowed(event))
        }
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

fn record(count: &mut ExclusionCount, e: &Exclusion, event: &Event) {
    count.suppressed += 1;
    let Some(pred) = &e.pred else { return };
    for field in pred.fields() {
        let value = event.get(&field).cloned().unwrap_or_default();
        let values = count.values.entry(field).or_default();
        if values.len() < MAX_VALUES || values.contains_key(&value) {
            *values.entry(value).or_default() += 1;
        }
    }
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
