//! Inline exclusions of a query language (KQL, Elastic): the conjuncts of D that remove
//! events by constants, a negated test or a `not(...)` of tests (`FileName !~ "x"`,
//! `not process.name : "x"`), or an `or` of negated tests (a keep-filter).

use super::{Finish, InlineExclusion, Scoped, scoped_exclusions};
use crate::pred::{Pred, Span};

/// The inline exclusions of a (lowered, approximated) detection predicate, wherever
/// they bind when D is `exact` (else its own conjuncts only), and D without them.
/// `bound`: whether the exclusion at a span of the query binds to its `or` branch by
/// precedence alone (read on the front-end's syntax tree).
pub fn inline_exclusions(
    detection: &Pred,
    finish: Finish,
    exact: bool,
    bound: &dyn Fn(&Span) -> bool,
) -> (Vec<InlineExclusion>, Option<Pred>) {
    let classify = |c: &Pred| {
        removes_by_constants(c).then(|| {
            let atoms = c.atoms();
            let start = atoms.iter().map(|a| a.span.start).min().unwrap_or(0);
            let end = atoms.iter().map(|a| a.span.end).max().unwrap_or(start);
            Scoped {
                name: None,
                span: start..end,
                by_precedence: bound(&(start..end)),
            }
        })
    };
    scoped_exclusions(detection, &classify, finish, exact)
}

/// A negated test (a `not(...)` of tests, or an `or` of negated tests) on constants: every part is a comparison with
/// a literal (no approximated condition), none is an emptiness test, not all are null tests, and the whole is
/// written negatively.
fn removes_by_constants(p: &Pred) -> bool {
    fn constants_only(p: &Pred) -> bool {
        match p {
            // A null test (`F != null`, `F : *`) may sit beside constants; alone it
            // is not an exclusion (see below).
            Pred::Atom(a) => {
                a.span.end > a.span.start
                    && a.op != crate::pred::Op::SameAs
                    && a.values.iter().all(|v| !v.text().is_empty())
            }
            Pred::Not(q) => constants_only(q),
            Pred::And(ps) | Pred::Or(ps) => !ps.is_empty() && ps.iter().all(constants_only),
            Pred::True | Pred::False => false,
        }
    }
    let negative = |p: &Pred| match p {
        Pred::Not(_) => true,
        Pred::Atom(a) => a.negated,
        _ => false,
    };
    // A keep-filter written with `or` (`a !contains x or b !has y`) removes the events
    // that match every test: an exclusion too.
    let keep_filter = matches!(p, Pred::Or(items) if items.len() >= 2 && items.iter().all(negative));
    let null = |a: &&crate::pred::Atom| a.values.contains(&crate::pred::Value::Null);
    (negative(p) || keep_filter) && constants_only(p) && !p.atoms().iter().all(null)
}
