//! Reading real KQL rules: the 368 Microsoft 365 Defender hunting queries of
//! `tests/corpus/m365-hunting` read (table, D, inline exclusions, FPX403 checks), and
//! checked as `fpx check --cases 0` does. Run: `cargo bench --bench queries`.

use std::path::PathBuf;

use divan::counter::ItemsCount;
use fpx::checks::check_corpus;
use fpx::corpus::load;

fn main() {
    divan::main();
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/m365-hunting")
}

/// `read_query` on each of the 368 queries.
#[divan::bench(sample_count = 10)]
fn read_hunting_queries(bencher: divan::Bencher) {
    let queries: Vec<String> = load(&[corpus_dir()]).rules.into_iter().map(|r| r.query).collect();
    bencher.counter(ItemsCount::new(queries.len())).bench(|| {
        for q in &queries {
            divan::black_box(fpx::kql::read_query(q));
        }
    });
}

/// Loading and checking the 368 rules (no harness): the rule-level and inline checks.
#[divan::bench(sample_count = 10)]
fn check_hunting_queries(bencher: divan::Bencher) {
    bencher
        .counter(ItemsCount::new(368usize))
        .bench(|| divan::black_box(check_corpus(load(&[corpus_dir()]), None)));
}
