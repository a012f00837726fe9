//! Simplification by the decision procedure: a term of an `and`/`or` is redundant when
//! dropping it leaves an equivalent predicate. Used for FPX106 and to tidy fixes.
//!
//! One implication decides it. Dropping a term of an `and` under an even number of
//! `not`s can only weaken the predicate (and strengthen it under an odd number); an `or`
//! the other way round. So the dropped form is equivalent exactly when it implies the
//! original (weaker case) or the original implies it (stronger case).

use super::{Validity, implies};
use crate::pred::{Pred, Span};

/// Predicates with more atoms than this are not simplified (nor searched for redundant
/// terms, FPX106): each term costs a decision over the whole predicate.
pub const MAX_ATOMS_TO_SIMPLIFY: usize = 48;

/// A term that can be dropped without changing what the predicate holds on.
#[derive(Debug, Clone)]
pub struct RedundantTerm {
    /// The term as written.
    pub term: Pred,
    /// Where it was written (the span of its atoms), when it has atoms with spans.
    pub span: Option<Span>,
    /// Where it is: indices into `and`/`or`/`not` children from the root.
    pub path: Vec<usize>,
}

/// Every term (child of an `and`/`or`) that can be dropped on its own, depth-first
/// (a redundant term's own children are not examined).
pub fn redundant_terms(pred: &Pred) -> Vec<RedundantTerm> {
    let mut out = Vec::new();
    collect(pred, pred, &mut Vec::new(), true, &mut out);
    out
}

fn collect(root: &Pred, node: &Pred, path: &mut Vec<usize>, positive: bool, out: &mut Vec<RedundantTerm>) {
    let (children, weakens): (Vec<&Pred>, Option<bool>) = match node {
        Pred::And(items) => (items.iter().collect(), Some(positive)),
        Pred::Or(items) => (items.iter().collect(), Some(!positive)),
        Pred::Not(inner) => (vec![inner], None),
        _ => return,
    };
    let child_positive = if matches!(node, Pred::Not(_)) {
        !positive
    } else {
        positive
    };
    for (i, item) in children.into_iter().enumerate() {
        path.push(i);
        let redundant = weakens.is_some_and(|weakens| same_meaning(root, &remove_at(root, path, true), weakens));
        if redundant {
            out.push(RedundantTerm {
                term: item.clone(),
                span: span_of(item),
                path: path.clone(),
            });
        } else {
            collect(root, item, path, child_positive, out);
        }
        path.pop();
    }
}

/// Whether `without` (the root with one term dropped) means the same as `root`, given
/// whether dropping that term can only weaken (or only strengthen) it.
fn same_meaning(root: &Pred, without: &Pred, weakens: bool) -> bool {
    let (a, b) = if weakens { (without, root) } else { (root, without) };
    implies(a, b) == Validity::Valid
}

/// Drops every term that can go: the redundant terms found in one scan, tried again one
/// at a time from the last to the first (so the paths of the earlier ones stay valid),
/// each kept only if the predicate still means the same without it.
pub fn simplify(pred: &Pred) -> Pred {
    // Each term costs an implication over the whole predicate: quadratic in its size.
    // A longer predicate is left as written (FPX106 is not searched there either).
    if pred.atom_count() > MAX_ATOMS_TO_SIMPLIFY {
        return collapse(pred);
    }
    let candidates = redundant_terms(pred);
    let mut current = pred.clone();
    for candidate in candidates.iter().rev() {
        let without = remove_at(&current, &candidate.path, false);
        let weakens = weakens_at(pred, &candidate.path);
        if same_meaning(pred, &without, weakens) {
            current = without;
        }
    }
    collapse(&current)
}

/// Whether dropping the term at `path` can only weaken the predicate.
fn weakens_at(pred: &Pred, path: &[usize]) -> bool {
    let mut positive = true;
    let mut node = pred;
    for (depth, &i) in path.iter().enumerate() {
        let last = depth + 1 == path.len();
        match node {
            Pred::And(items) | Pred::Or(items) if last => return matches!(node, Pred::And(_)) == positive,
            Pred::And(items) | Pred::Or(items) => node = &items[i],
            Pred::Not(inner) => {
                positive = !positive;
                node = inner;
            }
            _ => break,
        }
    }
    positive
}

/// The fix for an inverted exclusion: its negation, pushed into the atoms and simplified.
pub fn inverted_fix(pred: &Pred) -> Pred {
    simplify(&pred.negate())
}

/// `pred` with the term at `path` (indices into `and`/`or`/`not` children) removed.
/// With `collapse`, an `and`/`or` left with one term becomes that term (and with none,
/// `true`/`false`); without, the shape is kept so other paths stay valid.
fn remove_at(pred: &Pred, path: &[usize], collapse_here: bool) -> Pred {
    let Some((&first, rest)) = path.split_first() else {
        return pred.clone();
    };
    match pred {
        Pred::And(items) | Pred::Or(items) => {
            let mut items = items.clone();
            if rest.is_empty() {
                items.remove(first);
            } else {
                items[first] = remove_at(&items[first], rest, collapse_here);
            }
            let rebuilt = if matches!(pred, Pred::And(_)) {
                Pred::And(items)
            } else {
                Pred::Or(items)
            };
            if collapse_here { collapse_node(rebuilt) } else { rebuilt }
        }
        Pred::Not(inner) => Pred::Not(Box::new(remove_at(inner, rest, collapse_here))),
        other => other.clone(),
    }
}

/// An `and`/`or` with one term is that term; with none, `true` (`and`) or `false` (`or`).
fn collapse_node(pred: Pred) -> Pred {
    match pred {
        Pred::And(mut items) | Pred::Or(mut items) if items.len() == 1 => items.pop().expect("one item"),
        Pred::And(items) if items.is_empty() => Pred::True,
        Pred::Or(items) if items.is_empty() => Pred::False,
        other => other,
    }
}

/// Collapses every node, bottom-up.
fn collapse(pred: &Pred) -> Pred {
    match pred {
        Pred::And(items) => collapse_node(Pred::And(items.iter().map(collapse).collect())),
        Pred::Or(items) => collapse_node(Pred::Or(items.iter().map(collapse).collect())),
        Pred::Not(inner) => Pred::Not(Box::new(collapse(inner))),
        other => other.clone(),
    }
}

fn span_of(pred: &Pred) -> Option<Span> {
    let atoms = pred.atoms();
    let start = atoms.iter().map(|a| a.span.start).min()?;
    let end = atoms.iter().map(|a| a.span.end).max()?;
    (end > start).then_some(start..end)
}
