//! `fpx check` of the SigmaHQ rules against rsigma's compile step, side by side in one
//! run, on the same files read from disk in each iteration: fpx loads the corpus and
//! decides every exclusion (`check --cases 0`), rsigma-parser parses each file and
//! rsigma-eval compiles its rules (what `rsigma rule validate` does). rsigma runs on one
//! thread; fpx is measured both on one thread and on the machine's cores. Needs
//! ../shared; without it the benchmarks do nothing.
//!
//! `cargo bench --bench check`.

use std::path::{Path, PathBuf};

use divan::Bencher;

fn main() {
    divan::main();
}

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/sigma")
}

fn dirs() -> Vec<PathBuf> {
    vec![shared().join("rules"), shared().join("rules-placeholder")]
}

/// Every finding of `check --cases 0` (so nothing is optimised away).
fn fpx_check() -> usize {
    let report = fpx::checks::check_corpus(fpx::corpus::load(&dirs()), None);
    report.rules.len()
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn fpx_check_one_thread(bencher: Bencher) {
    if !shared().exists() {
        return;
    }
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    bencher.bench(|| pool.install(fpx_check));
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn fpx_check_all_cores(bencher: Bencher) {
    if !shared().exists() {
        return;
    }
    bencher.bench(fpx_check);
}

/// rsigma-parser on every rule file (its YAML and conditions).
#[divan::bench(sample_count = 3, sample_size = 1)]
fn rsigma_parse(bencher: Bencher) {
    if !shared().exists() {
        return;
    }
    bencher.bench(|| {
        rule_files()
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter_map(|text| rsigma_parser::parse_sigma_yaml(&text).ok())
            .map(|c| c.rules.len())
            .sum::<usize>()
    });
}

/// rsigma-parser, then rsigma-eval compiling every rule it parsed.
#[divan::bench(sample_count = 3, sample_size = 1)]
fn rsigma_parse_and_compile(bencher: Bencher) {
    if !shared().exists() {
        return;
    }
    bencher.bench(|| {
        let rules: Vec<_> = rule_files()
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter_map(|text| rsigma_parser::parse_sigma_yaml(&text).ok())
            .flat_map(|c| c.rules)
            .collect();
        // One batch: rsigma's index is rebuilt once (per collection it is rebuilt
        // each time, quadratic in the corpus).
        let mut engine = rsigma_eval::Engine::new();
        let _ = engine.add_rules(&rules);
        engine.rule_count()
    });
}

fn rule_files() -> Vec<PathBuf> {
    dirs()
        .iter()
        .flat_map(|d| fpx::corpus::files_under(d, &|p| p.extension().is_some_and(|e| e == "yml"), &mut Vec::new()))
        .collect()
}
