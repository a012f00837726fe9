//! Fuzzing what fpx parses, on the stable toolchain: seed inputs from the project's and
//! the shared corpora, mutated by a deterministic generator (byte and token edits,
//! truncation, duplication, repetition up to thousands of times, non-ASCII look-alikes),
//! each run in-process on a thread with the main thread's stack. Invariants: no panic,
//! no stack overflow (the process would abort), no input taking longer than
//! [`HANG`] (a hang detector, not a speed test), no silently empty success where the
//! target can tell.
//!
//! cargo-fuzz needs a nightly toolchain, which this machine cannot fetch, so the
//! engine is this structured mutator (coverage-blind, but aimed at the grammar's
//! delimiters and keywords). Each target runs `FPX_FUZZ_SECONDS` (default 5) with seed
//! `FPX_FUZZ_SEED` (default 1), in a release build only (`.ci/run` runs
//! `cargo test --release --test fuzz -- --ignored`; a debug build skips them).
//! A long run: `FPX_FUZZ_SECONDS=600 cargo test --release --test fuzz -- --ignored
//! --test-threads 1`. The input being run is kept in `target/fuzz/<target>.current`
//! (what an abort leaves behind); a failing one is saved as `target/fuzz/<target>-*.fail`.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Longest an input may take before it counts as a hang.
const HANG: Duration = Duration::from_secs(20);

/// Tokens the mutator inserts: the delimiters, operators and keywords of the grammars,
/// and characters that broke readers before.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "\"",
    "'",
    "@\"",
    "\\",
    "\\\"",
    " not ",
    " and ",
    " or ",
    "!",
    "|",
    " | where ",
    "==",
    "!=",
    "=~",
    " in~ (",
    " has_any (",
    " contains ",
    " matches regex ",
    "//",
    "\n",
    "\r\n",
    "---\n",
    "*",
    "?",
    "|base64",
    "|base64offset",
    "|wide",
    "|re",
    "|contains|all",
    "\u{201c}",
    "\u{201d}",
    "\u{200b}",
    "\u{feff}",
    "\u{2212}",
    "\u{ff5c}",
    "é",
    "\u{7}",
    "{",
    "}",
    "[",
    "]",
    ":",
    ": ",
    "- ",
    "    ",
    "\t",
    "let x = ",
    "dynamic([",
    "])",
    "datatable(",
    "$left.",
    "1 of ",
    "all of ",
    "condition: ",
    "selection",
    "filter_",
    "null",
    "''",
    "0x",
    "1e308",
    "-9223372036854775809",
    "datetime(",
    "ago(",
    "bin(",
    ",",
    ";",
    "=",
    "{\"a\":",
    "}{",
    " where ",
    "sequence by ",
    " : ",
    " like~ ",
    " regex ",
    "?\"",
    "\"\"\"",
    "startsWith~(",
    "[[exceptions.items]]\n",
    "'\'\'\'",
    "\0",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic, so a failure replays with its seed.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The nearest char boundary at or before `i`.
fn boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One to four edits of `seed`.
fn mutate(seed: &str, rng: &mut Rng) -> String {
    let mut s = seed.to_string();
    for _ in 0..1 + rng.below(4) {
        let a = boundary(&s, rng.below(s.len() + 1));
        let b = boundary(&s, a + rng.below(64.min(s.len() - a + 1)));
        match rng.below(8) {
            0 => s.replace_range(a..b, ""),
            1 => s.insert_str(a, TOKENS[rng.below(TOKENS.len())]),
            2 => {
                let piece = s[a..b].to_string();
                s.insert_str(b, &piece);
            }
            3 => s.truncate(a),
            4 => {
                // Repetition: the shapes that were quadratic or overflowed the stack.
                let token = TOKENS[rng.below(TOKENS.len())];
                let n = [10, 100, 1_000, 5_000][rng.below(4)];
                s.insert_str(a, &token.repeat(n));
            }
            5 => {
                let piece = s[a..b].to_string();
                s.insert_str(a, &piece.repeat(2 + rng.below(50)));
            }
            6 => s.replace_range(a..b, TOKENS[rng.below(TOKENS.len())]),
            _ => {
                let c = char::from_u32(rng.below(0x3000) as u32).unwrap_or('x');
                s.insert(a, c);
            }
        }
    }
    s
}

/// Seconds each target runs, and the generator's seed.
fn budget() -> (Duration, u64) {
    let var = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    (Duration::from_secs(var("FPX_FUZZ_SECONDS", 5)), var("FPX_FUZZ_SEED", 1))
}

/// Runs `target` on mutations of `seeds` for the time budget; fails on a panic or a
/// hang, saving the input.
fn fuzz(name: &str, seeds: Vec<String>, target: fn(&str)) {
    if cfg!(debug_assertions) {
        // Unoptimised code is slow enough to look like a hang: fuzz the release build.
        eprintln!("{name}: skipped in a debug build; run `cargo test --release --test fuzz -- --ignored`");
        return;
    }
    assert!(!seeds.is_empty(), "{name}: no seed inputs");
    let (time, seed) = budget();
    let dir = Path::new(ROOT).join("target/fuzz");
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let start = Instant::now();
    let mut runs = 0usize;
    while start.elapsed() < time {
        let input = mutate(&seeds[rng.below(seeds.len())], &mut rng);
        std::fs::write(dir.join(format!("{name}.current")), &input).unwrap();
        let (send, receive) = mpsc::channel();
        let owned = input.clone();
        std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn(move || {
                let result = std::panic::catch_unwind(|| target(&owned));
                let _ = send.send(result.is_ok());
            })
            .unwrap();
        let failure = match receive.recv_timeout(HANG) {
            Ok(true) => None,
            Ok(false) => Some("panicked"),
            Err(_) => Some("hung"),
        };
        if let Some(what) = failure {
            let saved = dir.join(format!("{name}-{seed}-{runs}.fail"));
            std::fs::write(&saved, &input).unwrap();
            panic!("{name}: input {runs} {what}; saved as {}", saved.display());
        }
        runs += 1;
    }
    eprintln!(
        "{name}: {runs} inputs in {:.1} s, no failure",
        start.elapsed().as_secs_f64()
    );
}

fn files(dir: &Path, ext: &[&str], limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| ext.iter().any(|x| e == *x))
                && let Ok(text) = std::fs::read_to_string(&p)
            {
                out.push(text);
            }
        }
        if out.len() >= limit {
            break;
        }
    }
    out.truncate(limit);
    out
}

fn shared() -> PathBuf {
    Path::new(ROOT).join("../shared")
}

#[test]
#[ignore = "a time-boxed fuzz run (CI runs it)"]
fn fuzz_exclusions() {
    let mut seeds: Vec<String> = std::fs::read_to_string(Path::new(ROOT).join("tests/fixtures/seed_exclusions.txt"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    seeds.push("DeviceName in~ (\"a\", \"b\") and not(FileName has_any (\"x\", \"y\"))".into());
    fuzz("exclusions", seeds, |text| {
        let a = fpx::checks::analyze_exclusion(text);
        let _ = fpx::checks::analyze_bytes(text.as_bytes(), Some("DeviceProcessEvents"));
        for f in &a.findings {
            assert!(f.span.end <= text.len(), "a span past the end of the exclusion");
        }
    });
}

#[test]
#[ignore = "a time-boxed fuzz run (CI runs it)"]
fn fuzz_kql_queries() {
    let mut seeds: Vec<String> = files(&Path::new(ROOT).join("tests/corpus/m365-hunting"), &["yaml"], 400)
        .iter()
        .filter_map(|t| fpx::corpus::read_rule(Path::new("q.yaml"), t).ok().map(|r| r.query))
        .collect();
    seeds.extend(
        files(&shared().join("corpus/rmm-rules"), &["yaml"], 200)
            .iter()
            .filter_map(|t| fpx::corpus::read_rule(Path::new("q.yaml"), t).ok().map(|r| r.query)),
    );
    fuzz("kql", seeds, |query| {
        let q = fpx::kql::read_query(query);
        for e in &q.errors {
            assert!(e.span.end <= query.len(), "an error span past the end of the query");
        }
    });
}

#[test]
#[ignore = "a time-boxed fuzz run (CI runs it)"]
fn fuzz_sigma_rules() {
    let mut seeds = files(&Path::new(ROOT).join("tests/fixtures"), &["yml"], 50);
    seeds.extend(files(&shared().join("corpus/sigma/rules"), &["yml"], 300));
    fuzz("sigma", seeds, |text| {
        let _ = fpx::sigma::read_sigma(text);
        let _ = fpx::sigma::lower(text);
    });
}

#[test]
#[ignore = "a time-boxed fuzz run (CI runs it)"]
fn fuzz_rule_and_scenario_files() {
    let mut seeds = files(&Path::new(ROOT).join("rules"), &["yaml"], 10);
    seeds.extend(files(&Path::new(ROOT).join("scenarios"), &["yaml"], 10));
    seeds.extend(files(&Path::new(ROOT).join("tests/fixtures"), &["yaml"], 30));
    fuzz("files", seeds, |text| {
        // A whole corpus of one file through load, the checks and the gate.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.yaml"), text).unwrap();
        let mut report = fpx::checks::check_corpus(fpx::corpus::load(&[dir.path().to_path_buf()]), None);
        fpx::gate::apply(&mut report, &fpx::gate::Settings::default(), None);
        // Nothing read is never a silent pass: an empty report has an input error.
        assert!(
            !report.rules.is_empty() || !report.load_errors.is_empty() || !report.located().is_empty(),
            "a file that gave nothing and said nothing"
        );
    });
}

#[test]
#[ignore = "a time-boxed fuzz run (CI runs it)"]
fn fuzz_event_files() {
    let mut seeds = files(
        &Path::new(ROOT).join("tests/fixtures/replay"),
        &["json", "ndjson", "csv"],
        20,
    );
    seeds.extend(files(&shared().join("corpus/sigma/regression_data"), &["json"], 50));
    fuzz("events", seeds, |text| {
        let dir = tempfile::tempdir().unwrap();
        for name in ["e.ndjson", "e.csv"] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let _ = fpx::replay::events::read_file(&path, |_, _| {}, |_| {});
        }
    });
}

#[test]
#[ignore = "a time-boxed fuzz run (CI runs it)"]
fn fuzz_elastic_rules() {
    // The project's fixtures, and the shared corpus's rules when it is there.
    let mut seeds = files(&Path::new(ROOT).join("tests/fixtures/elastic"), &["toml", "ndjson"], 10);
    seeds.extend(files(&shared().join("corpus/elastic/rules/windows"), &["toml"], 150));
    seeds.extend(files(&shared().join("corpus/elastic/rules/linux"), &["toml"], 100));
    // ES|QL with `KQL()`, `CIDR_MATCH` and `FROM` lists lives under integrations/.
    seeds.extend(files(
        &shared().join("corpus/elastic/rules/integrations/kubernetes"),
        &["toml"],
        40,
    ));
    seeds.extend(files(
        &shared().join("corpus/elastic/rules/integrations/gcp"),
        &["toml"],
        40,
    ));
    fuzz("elastic", seeds, |text| {
        // The rule file, its query in each language, and the text as exception lists.
        if let Ok(rule) = fpx::elastic::read_rule(text) {
            for q in [&rule.query, text] {
                for language in ["eql", "kuery", "esql"] {
                    let read = fpx::elastic::lower(q, Some(language), "query");
                    for e in &read.errors {
                        assert!(e.span.end <= q.len(), "an error span past the end of the query");
                    }
                    // Every place read out of the query (a `KQL()` call's are shifted into it).
                    for e in &read.inline {
                        assert!(
                            q.get(e.span.clone()).is_some(),
                            "an inline exclusion placed off the query"
                        );
                    }
                    for n in &read.notes {
                        assert!(n.span.end <= q.len(), "a note past the end of the query");
                    }
                }
            }
        }
        let _ = fpx::elastic::exceptions::read_toml(text);
        let _ = fpx::elastic::exceptions::read_ndjson(text);
    });
}
