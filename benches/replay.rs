//! `fpx replay`'s evaluator against rsigma-eval, side by side in one run, on the same
//! rules (every shared SigmaHQ rule fpx reads a detection of) and the same events
//! (SigmaHQ's regression events, flattened to Sigma field names, replicated). Needs
//! ../shared; without it the benchmarks do nothing.
//!
//! `cargo bench --bench replay`: each benchmark evaluates every event once; events/s is
//! the event count divided by the time.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use divan::Bencher;
use fpx::pred::Event;

fn main() {
    divan::main();
}

/// Copies of the regression events per benchmark run.
const COPIES: usize = 20;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/sigma")
}

/// Files under `dir` with this extension.
fn files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    fpx::corpus::files_under(dir, &|p| p.extension().is_some_and(|e| e == extension), &mut Vec::new())
}

static EVENTS: LazyLock<Vec<Event>> = LazyLock::new(|| {
    let mut events = Vec::new();
    for p in files(&shared().join("regression_data"), "json") {
        fpx::replay::events::read_file(&p, |_, e| events.push(e), |_| {}).unwrap();
    }
    let one = events.clone();
    for _ in 1..COPIES {
        events.extend(one.iter().cloned());
    }
    events
});

static RULES: LazyLock<Vec<fpx::replay::Rule>> = LazyLock::new(|| {
    let report = fpx::checks::check_corpus(
        fpx::corpus::load(&[shared().join("rules"), shared().join("rules-placeholder")]),
        None,
    );
    fpx::replay::plan(&report).0
});

#[divan::bench(sample_count = 10)]
fn fpx_replay(bencher: Bencher) {
    if !shared().exists() {
        return;
    }
    let engine = fpx::replay::Engine::new(&RULES);
    let events = &*EVENTS;
    bencher
        .counter(divan::counter::ItemsCount::new(events.len()))
        .bench(|| events.iter().map(|e| engine.matches(e, None)).sum::<usize>());
}

#[divan::bench(sample_count = 10)]
fn rsigma_eval(bencher: Bencher) {
    if !shared().exists() {
        return;
    }
    let mut rules = Vec::new();
    for dir in ["rules", "rules-placeholder"] {
        for p in files(&shared().join(dir), "yml") {
            if let Ok(text) = std::fs::read_to_string(&p)
                && let Ok(collection) = rsigma_parser::parse_sigma_yaml(&text)
            {
                rules.extend(collection.rules);
            }
        }
    }
    // One batch: rsigma's index is rebuilt once (per collection it is rebuilt each
    // time, quadratic in the corpus: minutes for SigmaHQ).
    let mut engine = rsigma_eval::Engine::new();
    let _ = engine.add_rules(&rules);
    let json: Vec<serde_json::Value> = EVENTS
        .iter()
        .map(|e| {
            serde_json::Value::Object(
                e.iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect(),
            )
        })
        .collect();
    bencher.counter(divan::counter::ItemsCount::new(json.len())).bench(|| {
        json.iter()
            .map(|e| engine.evaluate(&rsigma_eval::event::JsonEvent::borrow(e)).len())
            .sum::<usize>()
    });
}
