//! Decision time of the logic engine: `classify` (sat of E and of not E, with witnesses)
//! on each seed exclusion that parses, and on generated 20-atom exclusions.
//! Run: `cargo bench --bench logic`.

use fpx::expr::{ParseOutcome, parse_exclusion};
use fpx::logic::classify;
use fpx::pred::Pred;

const SEEDS: &str = include_str!("../tests/fixtures/seed_exclusions.txt");

fn main() {
    divan::main();
}

fn parsed(text: &str) -> Option<Pred> {
    match parse_exclusion(text) {
        ParseOutcome::Parsed(p) => Some(p.pred),
        _ => None,
    }
}

fn seed_preds() -> Vec<Pred> {
    SEEDS.lines().filter_map(parsed).collect()
}

/// 20-atom exclusions over four fields, mixing every operator family, nested two deep.
/// Deterministic (a fixed linear congruential sequence), so runs compare.
fn generated(seed: u64) -> Pred {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    const FIELDS: [&str; 4] = ["FileName", "FolderPath", "ProcessCommandLine", "AccountName"];
    const OPS: [&str; 10] = [
        "==",
        "!=",
        "=~",
        "contains",
        "!contains",
        "startswith",
        "endswith",
        "has",
        "!has",
        "in~",
    ];
    const VALUES: [&str; 8] = [
        "cmd.exe",
        "powershell",
        "C:\\Windows",
        "svc_backup",
        "-enc",
        "temp",
        "Admin",
        "x.ps1",
    ];
    let mut groups = Vec::new();
    for _ in 0..5 {
        let mut atoms = Vec::new();
        for _ in 0..4 {
            let field = FIELDS[next(4) as usize];
            let op = OPS[next(10) as usize];
            let value = format!("@\"{}\"", VALUES[next(8) as usize]);
            let rhs = if op == "in~" {
                format!("({value}, \"other\")")
            } else {
                value
            };
            atoms.push(format!("{field} {op} {rhs}"));
        }
        groups.push(format!("({})", atoms.join(if next(2) == 0 { " and " } else { " or " })));
    }
    let text = groups.join(if next(2) == 0 { " or " } else { " and " });
    parsed(&text).expect("generated text parses")
}

#[divan::bench(args = 0..19)]
fn seed_exclusion(bencher: divan::Bencher, index: usize) {
    let pred = &seed_preds()[index];
    bencher.bench(|| classify(divan::black_box(pred)));
}

#[divan::bench(args = 0..10)]
fn twenty_atoms(bencher: divan::Bencher, seed: u64) {
    let pred = generated(seed);
    assert_eq!(pred.atom_count(), 20);
    bencher.bench(|| classify(divan::black_box(&pred)));
}

/// `DeviceName in (...)` with `n` host names.
fn allow_list(n: usize) -> String {
    let values: Vec<String> = (0..n).map(|i| format!("\"host-{i:06}.contoso.com\"")).collect();
    format!("DeviceName in ({})", values.join(", "))
}

/// An allow-list of real size, analysed as `fpx lint` does (parse and every check of
/// the exclusion on its own): linear in its length.
#[divan::bench(args = [1_000, 10_000, 100_000], sample_count = 5)]
fn allow_list_lint(bencher: divan::Bencher, n: usize) {
    let text = allow_list(n);
    bencher.bench(|| fpx::checks::analyze_exclusion(divan::black_box(&text)));
}

/// `fpx check` of one rule with a scenario whose exclusion is an allow-list of `n` host
/// names (loading, every check, the harness with its default 256 cases).
#[divan::bench(args = [1_000, 30_000], sample_count = 5)]
fn allow_list_check(bencher: divan::Bencher, n: usize) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("r.yaml"),
        "id: a1\nname: allow\nquery: |\n  DeviceProcessEvents\n  | where FileName =~ \"anydesk.exe\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        format!(
            "rule: a1\nscenarios:\n  - name: fleet\n    exclusion: |-\n      {}\n",
            allow_list(n)
        ),
    )
    .unwrap();
    let paths = [dir.path().to_path_buf()];
    bencher.bench(|| {
        let config = fpx::harness::Config { seed: 1, cases: 256 };
        fpx::checks::check_corpus(fpx::corpus::load(&paths), Some(config))
    });
}
