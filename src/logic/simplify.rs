//! Simplification by the decision procedure: a term of an `and`/`or` is redundant when
//! dropping it leaves an equivalent predicate. Used for FPX106 and to tidy fixes.

use super::{Validity, equivalent};
use crate::pred::{Pred, Span};

/// A term that can be dropped without changing what the predicate holds on.
#[derive(Debug, Clone)]
pub struct RedundantTerm {
    /// The term as written.
    pub term: Pred,
    /// Where it was written (the span of its atoms), when it has atoms with spans.
    pub span: Option<Span>,
    /// The predicate without it.
    pub without: Pred,
}

/// Every term (child of an `and`/`or`) that can be dropped on its own.
pub fn redundant_terms(pred: &Pred) -> Vec<RedundantTerm> {
    let mut out = Vec::new();
    collect(pred, pred, &mut Vec::new(), &mut out, false);
    out
}

/// Walks the terms depth-first, recording each redundant one (and not descending into
/// it); with `first_only`, stops at the first.
fn collect(root: &Pred, node: &Pred, path: &mut Vec<usize>, out: &mut Vec<RedundantTerm>, first_only: bool) {
    let children: Vec<&Pred> = match node {
        Pred::And(items) | Pred::Or(items) => items.iter().collect(),
        Pred::Not(inner) => vec![inner],
        _ => return,
    };
    let droppable = !matches!(node, Pred::Not(_));
    for (i, item) in children.into_iter().enumerate() {
        if first_only && !out.is_empty() {
            return;
        }
        path.push(i);
        let without = droppable.then(|| remove_at(root, path));
        match without {
            Some(without) if equivalent(root, &without) == Validity::Valid => out.push(RedundantTerm {
                term: item.clone(),
                span: span_of(item),
                without,
            }),
            _ => collect(root, item, path, out, first_only),
        }
        path.pop();
    }
}

/// Removes repeatedly the first redundant term until none is left.
pub fn simplify(pred: &Pred) -> Pred {
    let mut current = pred.clone();
    // Each round removes a term, so this ends after at most as many rounds as terms.
    loop {
        let mut found = Vec::new();
        collect(&current, &current, &mut Vec::new(), &mut found, true);
        match found.pop() {
            Some(term) => current = term.without,
            None => return current,
        }
    }
}

/// The fix for an inverted exclusion: its negation, pushed into the atoms and simplified.
pub fn inverted_fix(pred: &Pred) -> Pred {
    simplify(&pred.negate())
}

/// `pred` with the term at `path` (indices into `and`/`or`/`not` children) removed.
fn remove_at(pred: &Pred, path: &[usize]) -> Pred {
    let Some((&first, rest)) = path.split_first() else {
        return pred.clone();
    };
    match pred {
        Pred::And(items) | Pred::Or(items) => {
            let mut items = items.clone();
            if rest.is_empty() {
                items.remove(first);
            } else {
                items[first] = remove_at(&items[first], rest);
            }
            let and = matches!(pred, Pred::And(_));
            match items.len() {
                0 if and => Pred::True,
                0 => Pred::False,
                1 => items.pop().expect("one item"),
                _ if and => Pred::And(items),
                _ => Pred::Or(items),
            }
        }
        Pred::Not(inner) => Pred::Not(Box::new(remove_at(inner, rest))),
        other => other.clone(),
    }
}

fn span_of(pred: &Pred) -> Option<Span> {
    let atoms = pred.atoms();
    let start = atoms.iter().map(|a| a.span.start).min()?;
    let end = atoms.iter().map(|a| a.span.end).max()?;
    (end > start).then_some(start..end)
}
