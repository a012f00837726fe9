//! FPX106 redundant-term (info)
//!
//! ## What it catches
//! A term of an `and`/`or` that can be dropped without changing which events the
//! exclusion suppresses, e.g. `FileName == "a.exe" or FileName =~ "A.EXE"` (the
//! first term is covered by the second). Decided exactly, not by pattern.
//!
//! ## Why it matters
//! Redundant terms hide what the exclusion really does, and often point at a typo:
//! the author meant a different field or value.
//!
//! ## Example
//! ```text
//! FileName == "a.exe" or FileName =~ "A.EXE"
//! ```
//!
//! ## Passes
//! ```text
//! FileName =~ "a.exe"
//! ```
//!
//! ## Fix
//! The exclusion with every redundant term dropped. It means the same, but the change
//! may hide a typo worth fixing instead, so `fpx fix` applies it only with `--unsafe`.

use super::{Finding, Fix, Code, CodeInfo, Severity};
use crate::expr::print;
use crate::logic::{redundant_terms, simplify};
use crate::pred::Pred;

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx106,
    name: "redundant-term",
    severity: Severity::Info,
    summary: "a term can be dropped without changing what the exclusion suppresses",
    source: include_str!("fpx106_redundant_term.rs"),
};

pub(super) fn finding(text: &str, pred: &Pred) -> Option<Finding> {
    let mut terms = redundant_terms(pred);
    // Sigma's `F: ''` is `F == "" and isnotnull(F)`: the guard says what an absent field
    // reads as, and is no term the author wrote.
    terms.retain(|t| !matches!(&t.term, Pred::Atom(a) if a.is_null_test() && a.negated));
    // ES|QL's `F IN (...)` is true or null: `... or isnull(F)`, the null at the test's own
    // place. A null test placed where another test of the exclusion is was not written.
    let tests: Vec<&crate::pred::Span> = pred
        .atoms()
        .into_iter()
        .filter(|a| !a.is_null_test())
        .map(|a| &a.span)
        .collect();
    terms.retain(|t| !matches!(&t.term, Pred::Atom(a) if a.is_null_test() && tests.contains(&&a.span)));
    let first = terms.first()?;
    let span = first.span.clone().unwrap_or(0..text.len());
    let more = match terms.len() {
        1 => String::new(),
        n => format!(" ({} more term{} too)", n - 1, if n == 2 { "" } else { "s" }),
    };
    let mut f = Finding::new(
        &INFO,
        format!(
            "`{}` can be dropped: the exclusion suppresses the same events without it{more}",
            print(&first.term)
        ),
        span,
        "redundant",
    );
    let simplified = print(&simplify(pred));
    f.fix = Some(Fix::replace_all(
        format!("simplify to {simplified}"),
        text,
        simplified,
        false,
    ));
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ES|QL's null reading adds `isnull(F)` to each test of F (a test of a missing field
    /// is null); two tests of one field repeat it, which is no term the author can drop.
    #[test]
    fn a_null_the_reader_adds_is_not_a_redundant_term() {
        let q = crate::elastic::lower(
            r#"from logs-* | where event.type == "start" and not (process.name in ("java", "node") or process.name like "python*")"#,
            Some("esql"),
            "esql",
        );
        let e = q.inline.first().expect("the inline exclusion");
        assert!(finding("text", &e.suppresses).is_none(), "{}", print(&e.suppresses));
        // A term the author wrote still is: `== "a"` is covered by `like "a*"`.
        let q = crate::elastic::lower(
            r#"from logs-* | where event.type == "start" and not (process.name == "a" or process.name like "a*")"#,
            Some("esql"),
            "esql",
        );
        let e = q.inline.first().expect("the inline exclusion");
        let f = finding("text", &e.suppresses).expect("FPX106");
        assert!(f.message.contains(r#"process.name == "a""#), "{}", f.message);
    }
}
