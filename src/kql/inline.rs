//! Inline exclusions: the conjuncts of a rule's detection D that remove events by
//! constants (`| where ProcessCommandLine !contains "Unrestricted"`,
//! `and FileName !~ "svchost.exe"`, `| where not(FolderPath has_any (excludeProcs))`,
//! `InitiatingProcessFileName !in~ (allow_list)` with a literal `let` list). Each is an
//! exclusion of the conjunction it sits in, at any depth when D is exact
//! (`crate::model::scoped_exclusions`): it suppresses the events there where its negation
//! holds. Which conjuncts those are is `crate::model::inline_exclusions`'s (shared
//! with the Elastic front-end); where they bind by precedence is read here, on the
//! query's syntax tree.

use super::ast::{Expr, Query};
use crate::pred::Span;

/// The `and` chains that are branches of an `or` with no parentheses written around
/// them (`a or b and not f`): what sits in one binds to that branch only because `and`
/// binds tighter than `or`. Written parentheses (`a or (b and not f)`) make the scope
/// deliberate. Their spans, found in one walk of the tree.
pub fn precedence_branches(tree: &Query) -> Vec<Span> {
    let is = |e: &Expr, word: &str| matches!(e, Expr::Logical { op, .. } if op.name.eq_ignore_ascii_case(word));
    let mut branches = Vec::new();
    tree.visit(&mut |e| {
        if let Expr::Logical { items, .. } = e
            && is(e, "or")
        {
            branches.extend(items.iter().filter(|b| is(b, "and")).map(Expr::span));
        }
    });
    branches
}

/// Whether the text at `span` sits in one of the [`precedence_branches`].
pub fn bound_by_precedence(branches: &[Span], span: &Span) -> bool {
    branches.iter().any(|s| s.start <= span.start && span.end <= s.end)
}

#[cfg(test)]
mod tests {
    use crate::expr::print;
    use crate::kql::read_query;

    fn inline(query: &str) -> Vec<(String, String)> {
        let q = read_query(query);
        q.inline
            .iter()
            .map(|e| (query[e.span.clone()].to_string(), print(&e.suppresses)))
            .collect()
    }

    #[test]
    fn negated_constant_tests_are_inline_exclusions() {
        let found = inline(
            "let allow = dynamic(['svchost.exe', 'msmpeng.exe']);
DeviceProcessEvents
| where FileName =~ 'powershell.exe'
| where ProcessCommandLine !contains \"Unrestricted\" and InitiatingProcessFileName !in~ (allow)
| where not(FolderPath has_any ('C:\\\\Tools', 'D:\\\\Tools'))
| where isnotempty(AccountName)",
        );
        assert_eq!(
            found,
            [
                (
                    "ProcessCommandLine !contains \"Unrestricted\"".to_string(),
                    "ProcessCommandLine contains \"Unrestricted\"".to_string()
                ),
                (
                    "InitiatingProcessFileName !in~ (allow)".to_string(),
                    "InitiatingProcessFileName in~ (\"svchost.exe\", \"msmpeng.exe\")".to_string()
                ),
                (
                    "FolderPath has_any ('C:\\\\Tools', 'D:\\\\Tools')".to_string(),
                    "FolderPath has_any (@\"C:\\Tools\", @\"D:\\Tools\")".to_string()
                ),
            ]
        );
    }

    #[test]
    fn an_exclusion_scoped_to_a_branch_by_precedence_alone_is_marked() {
        let bound = |query: &str| -> Vec<bool> { read_query(query).inline.iter().map(|e| e.by_precedence).collect() };
        let branches = "DeviceProcessEvents | where FileName =~ 'wevtutil.exe' or FileName =~ 'wmic.exe'";
        // `a or b and not f`: `not f` filters `b` only, and nothing written says so.
        assert_eq!(
            bound(&format!(
                "{branches} and not(InitiatingProcessFileName =~ 'msiexec.exe')"
            )),
            [true]
        );
        // Parentheses make the scope deliberate, around the branch or around the `or`.
        let deliberate = "DeviceProcessEvents | where FileName =~ 'wevtutil.exe' or (FileName =~ 'wmic.exe' and not(InitiatingProcessFileName =~ 'msiexec.exe'))";
        assert_eq!(bound(deliberate), [false]);
        let whole = "DeviceProcessEvents | where (FileName =~ 'wevtutil.exe' or FileName =~ 'wmic.exe') and not(InitiatingProcessFileName =~ 'msiexec.exe')";
        assert_eq!(bound(whole), [false]);
        // A conjunct of D (no `or` around it) is not scoped at all.
        assert_eq!(
            bound("DeviceProcessEvents | where FileName =~ 'a.exe' and FolderPath !startswith 'C:'"),
            [false]
        );
    }

    #[test]
    fn a_rule_of_negations_only_has_no_inline_exclusion() {
        assert!(inline("DeviceProcessEvents | where FileName !~ 'svchost.exe'").is_empty());
        // An empty allow-list is still an exclusion (it never removes anything: FPX105).
        let found =
            inline("let l = dynamic([]); DeviceProcessEvents | where FileName =~ 'a.exe' and FileName !in~ (l)");
        assert_eq!(found.len(), 1, "{found:?}");
    }
}
