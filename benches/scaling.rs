//! How the checks of one exclusion grow with its length: the families the fuzz campaign
//! found super-linear (issue "No input crashes, hangs or passes silently"), each linted
//! in full (`analyze_exclusion`: parse, classify, FPX101-FPX106 with the inverted fix).
//! Run: `cargo bench --bench scaling`.

use fpx::checks::analyze_exclusion;

fn main() {
    divan::main();
}

fn joined(n: usize, sep: &str, term: impl Fn(usize) -> String) -> String {
    (0..n).map(term).collect::<Vec<_>>().join(sep)
}

/// `FileName != "f0" and FileName != "f1" and ...`: a keep-list written as `!=`.
#[divan::bench(args = [1_000, 10_000, 100_000])]
fn and_of_not_equal_on_one_field(bencher: divan::Bencher, n: usize) {
    let text = joined(n, " and ", |i| format!("FileName != \"f{i}\""));
    bencher.bench(|| analyze_exclusion(divan::black_box(&text)));
}

/// `F0 != "v" or F1 != "v" or ...`: an inverted exclusion (FPX103) over many fields.
#[divan::bench(args = [1_000, 10_000, 100_000])]
fn or_of_not_equal_on_distinct_fields(bencher: divan::Bencher, n: usize) {
    let text = joined(n, " or ", |i| format!("F{i} != \"v\""));
    bencher.bench(|| analyze_exclusion(divan::black_box(&text)));
}

/// `F0 == "v" and F1 == "v" and ...`.
#[divan::bench(args = [1_000, 10_000, 100_000])]
fn and_of_equal_on_distinct_fields(bencher: divan::Bencher, n: usize) {
    let text = joined(n, " and ", |i| format!("F{i} == \"v\""));
    bencher.bench(|| analyze_exclusion(divan::black_box(&text)));
}

/// `DeviceName in ("h0", ...) and FileName =~ "psexec.exe"`: its negation is a run of
/// `!=` in an `or` branch, taken in one search step.
#[divan::bench(args = [1_000, 10_000, 100_000])]
fn long_in_list_and_a_condition(bencher: divan::Bencher, n: usize) {
    let list = joined(n, ", ", |i| format!("\"h{i}\""));
    let text = format!("DeviceName in ({list}) and FileName =~ \"psexec.exe\"");
    bencher.bench(|| analyze_exclusion(divan::black_box(&text)));
}

/// `(F0 == "x" or G0 == "y") and (F1 == "x" or G1 == "y") and ...`.
#[divan::bench(args = [1_000, 10_000, 100_000])]
fn and_of_or_pairs(bencher: divan::Bencher, n: usize) {
    let text = joined(n, " and ", |i| format!("(F{i} == \"x\" or G{i} == \"y\")"));
    bencher.bench(|| analyze_exclusion(divan::black_box(&text)));
}

/// `FileName in~ ("f0", ...) and FileName endswith ".jnlp"` where no value ends so: the
/// values are refused in one sweep.
#[divan::bench(args = [1_000, 10_000, 100_000])]
fn same_field_list_no_value_passes(bencher: divan::Bencher, n: usize) {
    let list = joined(n, ", ", |i| format!("\"f{i}\""));
    let text = format!("FileName in~ ({list}) and FileName endswith \".jnlp\"");
    bencher.bench(|| analyze_exclusion(divan::black_box(&text)));
}

/// `FileName in~ ("f0.jnlp", ...) and FileName endswith ".jnlp"` where every value ends
/// so: FPX106's redundancy checks branch on the `endswith` before the values (issue 22:
/// 5,000 values took 4.6 s, one search step per value).
#[divan::bench(args = [1_000, 10_000, 100_000])]
fn same_field_list_every_value_passes(bencher: divan::Bencher, n: usize) {
    let list = joined(n, ", ", |i| format!("\"f{i}.jnlp\""));
    let text = format!("FileName in~ ({list}) and FileName endswith \".jnlp\"");
    bencher.bench(|| analyze_exclusion(divan::black_box(&text)));
}
