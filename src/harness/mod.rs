//! The scenario harness: synthetic benign and malicious events, replayed against the
//! rule (D) and the exclusion (E), with proptest.
//!
//! Per scenario three properties are explored, each with its own deterministic random
//! stream derived from the seed, so the same seed gives the same report:
//! - benign events (each benign template, other columns generated) must match the rule
//!   (else FPX303: not a false positive of this rule) and be suppressed (else FPX302);
//! - malicious events (each malicious template, attacker-controlled columns also drawn
//!   from values built from the exclusion's constants) that the rule alerts on must not
//!   be suppressed (else FPX301);
//! - generated alerts (events the rule matches, attacker columns adversarial): their
//!   suppression rate is reported. Suppressing some alerts is what an exclusion is for,
//!   so a generated alert is no evidence of FPX301; only a declared malicious event is.
//!
//! A property with nothing to test (no malicious event the rule alerts on, no alert
//! generated) is reported as inconclusive (FPX305), never as a pass.
//!
//! The first failing event of a property is shrunk (proptest's value trees) to a
//! minimal one that still fails.

pub mod strategy;

use proptest::strategy::{BoxedStrategy, Just, Strategy, ValueTree};
use proptest::test_runner::{Config as RunnerConfig, RngAlgorithm, TestRng, TestRunner};

use crate::logic::{SatResult, sat_in};
use crate::pred::{Event, Pred};
use crate::schema::Column;

/// How much to generate, and from which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub seed: u64,
    /// Events per property (benign, malicious, generated alerts).
    pub cases: u32,
}

/// What a scenario is tested against, all over the rule table's columns.
pub struct Setup<'a> {
    pub columns: &'a [Column],
    /// For a union of tables, each table's columns: an event is a row of one of them
    /// (the one that has every field its template gives), empty in the others' columns.
    pub members: Vec<(&'a str, &'a [Column])>,
    /// The rule's detection predicate, if it could be read.
    pub detection: Option<&'a Pred>,
    /// The exclusion over the table's columns, if it parsed.
    pub exclusion: Option<&'a Pred>,
    /// Templates with their fields already resolved to columns.
    pub benign: &'a [Event],
    pub malicious: &'a [Event],
    /// Values an attacker would try: the exclusion's and the rule's constants.
    pub constants: Vec<String>,
    /// Mixed into the seed so scenarios draw different streams.
    pub salt: u64,
}

/// Counts over every generated event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub events: usize,
    pub benign: usize,
    pub benign_suppressed: usize,
    pub malicious: usize,
    pub malicious_suppressed: usize,
    /// Generated events the rule alerts on, and how many of those are suppressed.
    pub alerts: usize,
    pub alerts_suppressed: usize,
}

/// Which generator produced a counterexample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Benign(usize),
    Malicious(usize),
}

/// A property of the scenario that the harness explores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Property {
    /// Benign events are suppressed (FPX302) and match the rule (FPX303).
    Benign,
    /// Malicious events the rule alerts on are not suppressed (FPX301).
    Malicious,
    /// The suppression rate among generated alerts.
    Alerts,
}

impl Property {
    pub fn as_str(self) -> &'static str {
        match self {
            Property::Benign => "benign events are suppressed",
            Property::Malicious => "malicious events are not suppressed",
            Property::Alerts => "share of the rule's alerts suppressed",
        }
    }
}

/// A failing event, shrunk.
#[derive(Debug, Clone, PartialEq)]
pub struct Counterexample {
    pub event: Event,
    pub source: Source,
}

/// The harness's verdicts on one scenario.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub stats: Stats,
    /// A benign event the rule does not match (FPX303).
    pub not_a_false_positive: Option<Counterexample>,
    /// A benign event the exclusion does not suppress (FPX302).
    pub misses_benign: Option<Counterexample>,
    /// A malicious event the rule alerts on that the exclusion suppresses (FPX301).
    pub suppresses_true_positive: Option<Counterexample>,
    /// Properties that could not be tested, and why (FPX305).
    pub inconclusive: Vec<(Property, String)>,
}

/// Most shrinking steps per counterexample.
const MAX_SHRINK_STEPS: usize = 400;

/// Runs the three properties of one scenario.
pub fn run(setup: &Setup, config: Config) -> Outcome {
    let mut outcome = Outcome::default();
    let matches = |e: &Event| setup.detection.is_none_or(|d| d.eval(e));
    let suppressed = |e: &Event| setup.exclusion.is_some_and(|x| x.eval(e));

    // Benign: must match the rule and be suppressed.
    for (i, template) in setup.benign.iter().enumerate() {
        let strategy = event_strategy(setup, template, false);
        let mut runner = runner(config, setup.salt, 1 + i as u64);
        let mut not_fp = None;
        let mut missed = None;
        for _ in 0..per_template(config.cases, setup.benign.len()) {
            let Ok(mut tree) = strategy.new_tree(&mut runner) else {
                break;
            };
            let event = tree.current();
            outcome.stats.events += 1;
            outcome.stats.benign += 1;
            if suppressed(&event) {
                outcome.stats.benign_suppressed += 1;
            }
            if not_fp.is_none() && setup.detection.is_some() && !matches(&event) {
                not_fp = Some(shrink(&mut tree, &|e: &Event| !matches(e)));
            }
            if missed.is_none() && setup.exclusion.is_some() && matches(&event) && !suppressed(&event) {
                missed = Some(shrink(&mut tree, &|e: &Event| matches(e) && !suppressed(e)));
            }
        }
        let found = |event| Counterexample {
            event,
            source: Source::Benign(i),
        };
        outcome.not_a_false_positive = outcome.not_a_false_positive.or(not_fp.map(found));
        outcome.misses_benign = outcome.misses_benign.or(missed.map(found));
    }

    if !setup.benign.is_empty() && outcome.stats.benign == 0 {
        outcome.inconclusive.push((
            Property::Benign,
            "no benign event could be generated from the templates".into(),
        ));
    }

    // Malicious: alerts that must not be suppressed.
    let mut malicious_alerts = 0;
    for (i, template) in setup.malicious.iter().enumerate() {
        let strategy = event_strategy(setup, template, true);
        let mut runner = runner(config, setup.salt, 1_000 + i as u64);
        for _ in 0..per_template(config.cases, setup.malicious.len()) {
            let Ok(mut tree) = strategy.new_tree(&mut runner) else {
                break;
            };
            let event = tree.current();
            outcome.stats.events += 1;
            outcome.stats.malicious += 1;
            if suppressed(&event) {
                outcome.stats.malicious_suppressed += 1;
            }
            malicious_alerts += usize::from(matches(&event));
            if outcome.suppresses_true_positive.is_none() && matches(&event) && suppressed(&event) {
                let event = shrink(&mut tree, &|e: &Event| matches(e) && suppressed(e));
                outcome.suppresses_true_positive = Some(Counterexample {
                    event,
                    source: Source::Malicious(i),
                });
            }
        }
    }

    // No template at all: nothing shows the exclusion leaves attacks alerting. (The
    // generated alerts below sample the rule, not an attack the scenario describes.) A
    // scenario that means it silences this with `ignore: [{code: FPX305, reason: ...}]`;
    // an exclusion that does not parse has its own error to fix first.
    if setup.malicious.is_empty() && setup.detection.is_some() && setup.exclusion.is_some() {
        outcome.inconclusive.push((
            Property::Malicious,
            "the scenario has no malicious template, so nothing shows the exclusion leaves an attack alerting (FPX301)"
                .into(),
        ));
    }
    if !setup.malicious.is_empty() && malicious_alerts == 0 && setup.detection.is_some() {
        outcome.inconclusive.push((
            Property::Malicious,
            format!(
                "none of the {} malicious events generated from the templates matches the rule, so none can prove or refute FPX301",
                outcome.stats.malicious
            ),
        ));
    }

    // Generated alerts: the rule's own matches, attacker columns adversarial.
    let Some(detection) = setup.detection else {
        return outcome;
    };
    let witness = match sat_in(detection, &crate::schema::domains_of(setup.columns)) {
        SatResult::Sat(witness) => witness,
        SatResult::Unsat => {
            outcome
                .inconclusive
                .push((Property::Alerts, "the rule matches no event at all".into()));
            return outcome;
        }
        SatResult::Unknown => {
            outcome.inconclusive.push((
                Property::Alerts,
                "fpx could not construct an event the rule matches (its logic is undecided here, e.g. a regex)".into(),
            ));
            return outcome;
        }
    };
    {
        let base: Event = witness
            .into_iter()
            .filter(|(k, _)| setup.columns.iter().any(|c| &c.name == k))
            .collect();
        let strategy = event_strategy(setup, &Event::new(), true);
        let mut runner = runner(config, setup.salt, 2_000);
        // Overlay the rule's witness where a draw misses the rule, keeping the draw's
        // attacker-chosen values where they still match.
        let to_alert = |mut e: Event| -> Event {
            if !detection.eval(&e) {
                for (k, v) in &base {
                    e.insert(k.clone(), v.clone());
                }
            }
            e
        };
        for _ in 0..config.cases {
            let Ok(tree) = strategy.new_tree(&mut runner) else {
                break;
            };
            let event = to_alert(tree.current());
            if !detection.eval(&event) {
                continue;
            }
            outcome.stats.events += 1;
            outcome.stats.alerts += 1;
            outcome.stats.alerts_suppressed += usize::from(suppressed(&event));
        }
        if outcome.stats.alerts == 0 {
            outcome
                .inconclusive
                .push((Property::Alerts, "none of the generated events matches the rule".into()));
        }
    }
    outcome
}

fn per_template(cases: u32, templates: usize) -> u32 {
    (cases / templates.max(1) as u32).max(1)
}

/// Every column of the table: fixed by the template, else drawn from its shape (or, for
/// attacker columns of malicious events, from the adversarial values as well).
fn event_strategy(setup: &Setup, template: &Event, hostile: bool) -> BoxedStrategy<Event> {
    // Shrinking simplifies fields in order: the ones the rule and the exclusion read go
    // first, so the budget is spent where it makes the counterexample clearer.
    let mentioned: Vec<String> = setup
        .detection
        .iter()
        .chain(setup.exclusion.iter())
        .flat_map(|p| p.fields())
        .collect();
    let member = setup
        .members
        .iter()
        .find(|(_, m)| {
            template
                .keys()
                .all(|k| m.iter().any(|c| &c.name == k) || !setup.columns.iter().any(|c| &c.name == k))
        })
        .or(setup.members.first());
    let mut columns: Vec<&Column> = member.map_or(setup.columns, |(_, m)| m).iter().collect();
    // A row of a table with a `Type` column (Sentinel's) names its table there.
    let mut template = template.clone();
    if let Some((table, m)) = member
        && m.iter().any(|c| c.name == "Type")
    {
        template.entry("Type".into()).or_insert_with(|| table.to_string());
    }
    let template = &template;
    columns.sort_by_key(|c| !mentioned.contains(&c.name));
    let fields: Vec<(String, BoxedStrategy<String>)> = columns
        .into_iter()
        .map(|c| {
            let strategy = match template.get(&c.name) {
                Some(v) => Just(v.clone()).boxed(),
                None if !mentioned.contains(&c.name) => strategy::filler_value(c),
                None if hostile && c.attacker => strategy::attacker_value(c, &setup.constants),
                None => strategy::column_value(c),
            };
            (c.name.clone(), strategy)
        })
        .collect();
    let names: Vec<String> = fields.iter().map(|(n, _)| n.clone()).collect();
    let values: Vec<BoxedStrategy<String>> = fields.into_iter().map(|(_, s)| s).collect();
    // Template fields that are not columns of the table are kept as given.
    let extra: Vec<(String, String)> = template
        .iter()
        .filter(|(k, _)| !names.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    values
        .prop_map(move |vs| {
            let mut e: Event = names.iter().cloned().zip(vs).collect();
            e.extend(extra.iter().cloned());
            e
        })
        .boxed()
}

/// A runner whose random stream depends only on the seed, the scenario and the property.
fn runner(config: Config, salt: u64, stream: u64) -> TestRunner {
    let mut state = config.seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ stream.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(8) {
        // SplitMix64.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    let runner_config = RunnerConfig {
        cases: config.cases,
        failure_persistence: None,
        ..RunnerConfig::default()
    };
    TestRunner::new_with_rng(runner_config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// Shrinks a failing value tree to a minimal event that still fails.
fn shrink(tree: &mut dyn ValueTree<Value = Event>, fails: &dyn Fn(&Event) -> bool) -> Event {
    let mut last = tree.current();
    debug_assert!(fails(&last), "shrinking starts from a failure");
    for _ in 0..MAX_SHRINK_STEPS {
        let current = tree.current();
        if fails(&current) {
            last = current;
            if !tree.simplify() {
                break;
            }
        } else if !tree.complicate() {
            break;
        }
    }
    last
}

#[cfg(test)]
mod tests;
