//! The harness's cost: how fast the evaluator decides events (events/second), and a
//! harness run over the 168-rule corpus with one generated scenario per rule (when
//! ../shared is present). Run: `cargo bench --bench harness`.

use std::path::Path;

use divan::counter::ItemsCount;
use fpx::checks::check_corpus;
use fpx::corpus::{Corpus, Scenario, ScenarioFile, load};
use fpx::expr::{ParseOutcome, parse_exclusion};
use fpx::harness::Config;
use fpx::pred::{Event, Pred};

fn main() {
    divan::main();
}

fn parse(text: &str) -> Pred {
    match parse_exclusion(text) {
        ParseOutcome::Parsed(p) => p.pred,
        other => panic!("{other:?}"),
    }
}

/// A rule-like D and a realistic exclusion, on 1,000 varied process events.
#[divan::bench]
fn evaluate_rule_and_exclusion(bencher: divan::Bencher) {
    let detection = parse(
        r#"ProcessVersionInfoCompanyName has_any ("anydesk software", "philandro software") and ProcessVersionInfoProductName has "anydesk""#,
    );
    let exclusion = parse(
        r#"AccountName in~ ("svc_it", "svc_helpdesk") and FolderPath startswith @"C:\Program Files\AnyDesk\" and not (ProcessCommandLine contains "--silent")"#,
    );
    let events: Vec<Event> = (0..1_000)
        .map(|i| {
            [
                (
                    "ProcessVersionInfoCompanyName",
                    if i % 3 == 0 {
                        "AnyDesk Software GmbH"
                    } else {
                        "Contoso Ltd"
                    },
                ),
                ("ProcessVersionInfoProductName", "AnyDesk"),
                ("AccountName", if i % 2 == 0 { "svc_it" } else { "alice" }),
                ("FolderPath", r"C:\Program Files\AnyDesk\AnyDesk.exe"),
                (
                    "ProcessCommandLine",
                    if i % 5 == 0 {
                        "AnyDesk.exe --silent"
                    } else {
                        "AnyDesk.exe"
                    },
                ),
                ("DeviceName", "ws-0113.contoso.com"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), format!("{v}{}", if i % 7 == 0 { "" } else { " " })))
            .collect()
        })
        .collect();
    bencher
        .counter(ItemsCount::new(events.len()))
        .bench(|| events.iter().filter(|e| detection.eval(e) && exclusion.eval(e)).count());
}

/// The corpus with one scenario per rule: the exclusion `DeviceName == "it-admin-01"`
/// and no templates, so the harness generates 256 alerts per rule from its D.
#[divan::bench(sample_count = 5)]
fn corpus_with_a_generated_scenario_per_rule(bencher: divan::Bencher) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/rmm-rules");
    if !dir.exists() {
        eprintln!("../shared is missing: skipped");
        return;
    }
    let corpus = load(&[dir]);
    bencher
        .with_inputs(|| {
            let scenario_files = corpus
                .rules
                .iter()
                .map(|r| ScenarioFile {
                    file: r.file.clone(),
                    rule: r.id.clone(),
                    rule_line: 1,
                    scenarios: vec![Scenario {
                        name: "generated".into(),
                        description: String::new(),
                        exclusion: r#"DeviceName == "it-admin-01.contoso.com""#.into(),
                        line: 1,
                        column: 1,
                        ..Scenario::default()
                    }],
                    source: "".into(),
                })
                .collect();
            Corpus {
                rules: corpus.rules.clone(),
                scenario_files,
                ..Corpus::default()
            }
        })
        .bench_values(|c| check_corpus(c, Some(Config { seed: 1, cases: 256 })));
}
