//! `fpx diff`'s decision: two versions of a rule compared (`diff::compare`: an event that
//! stops and one that starts alerting, or none). A large detection where one filter
//! changed (the common pull request), and a refactor that rewrites a list.
//! Run: `cargo bench --bench diff`.

use fpx::diff::compare;
use fpx::expr::{ParseOutcome, parse_exclusion};
use fpx::logic::Domains;
use fpx::pred::Pred;

fn main() {
    divan::main();
}

fn parsed(text: &str) -> Pred {
    match parse_exclusion(text) {
        ParseOutcome::Parsed(p) => p.pred,
        other => panic!("{text}: {other:?}"),
    }
}

/// `Image endswith` one of `n` names, `CommandLine contains` one of `n` words, and a
/// filter on the parent.
fn rule(n: usize, filter: &str) -> Pred {
    let images: Vec<String> = (0..n).map(|i| format!("\"\\\\tool{i}.exe\"")).collect();
    let words: Vec<String> = (0..n).map(|i| format!("\"-flag{i}\"")).collect();
    let images = images
        .iter()
        .map(|v| format!("Image endswith {v}"))
        .collect::<Vec<_>>()
        .join(" or ");
    let words = words
        .iter()
        .map(|v| format!("CommandLine contains {v}"))
        .collect::<Vec<_>>()
        .join(" or ");
    parsed(&format!("({images}) and ({words}) and not ({filter})"))
}

#[divan::bench(args = [10, 100, 400])]
fn one_filter_changed(bencher: divan::Bencher, n: usize) {
    let old = rule(n, r#"ParentImage endswith "\\msiexec.exe""#);
    let new = rule(
        n,
        r#"ParentImage endswith "\\msiexec.exe" or ParentImage endswith "\\ccmexec.exe""#,
    );
    let domains = Domains::text();
    bencher.bench(|| compare(&old, &new, &domains));
}

#[divan::bench(args = [10, 100, 1000])]
fn list_refactored(bencher: divan::Bencher, n: usize) {
    let values: Vec<String> = (0..n).map(|i| format!("\"tool{i}.exe\"")).collect();
    let old = parsed(&format!("FileName in~ ({})", values.join(", ")));
    let new = parsed(
        &values
            .iter()
            .map(|v| format!("FileName =~ {v}"))
            .collect::<Vec<_>>()
            .join(" or "),
    );
    let domains = Domains::text();
    bencher.bench(|| compare(&old, &new, &domains));
}
