//! Exclusions where they bind. An exclusion is a conjunct of D under positive polarity
//! that removes events by constants (which conjuncts qualify is the front-end's call: a
//! KQL negated test, a negated Sigma selection). Its *scope* is the conjunction it sits
//! in: all of D for a top-level conjunct, one `or` branch for `A or (B and not F)`.
//!
//! An exclusion X is judged by what removing it changes. With every other exclusion of
//! its own conjunction read as `true` (their overlaps are FPX107's) and the rest of D as
//! written, D is monotone in X, so D[X:=false] ⊆ D ⊆ D[X:=true] and X decides exactly the
//! events of R = D[X:=true] ∧ ¬D[X:=false]: on R, D holds iff X does. What X suppresses
//! is R ∧ ¬X; it mutes its scope (FPX104) when R ⇒ ¬X and never applies (FPX105) when
//! R ∧ ¬X is unsatisfiable. For a top-level conjunct D[X:=false] is `false`, so R is the
//! rest of D, as it always was.

use super::InlineExclusion;
use crate::pred::{Atom, Op, Pred, Span, Value};

/// What a front-end says of a conjunct it was shown: an exclusion, with its name and
/// the bytes it covers, or not one (`None`).
pub struct Scoped {
    pub name: Option<String>,
    pub span: Span,
    /// Where written: the conjunction it sits in is bounded by an `or` with no
    /// parentheses around it (see [`InlineExclusion::by_precedence`]).
    pub by_precedence: bool,
}

/// Marks stand for the exclusions while D is rewritten; NUL cannot occur in a real
/// field name.
const MARK: &str = "\0exclusion";

struct Found {
    /// The conjunct as written (double negations dropped).
    conjunct: Pred,
    scoped: Scoped,
    /// Which conjunction it sits in (0: D itself, when D is a conjunction).
    group: usize,
}

/// How a front-end finishes a predicate it lowered: what the rules of its language make
/// of it (KQL's types and nulls) and what fpx over-approximated (an opaque condition is
/// `true` where `positive`, `false` under negation).
pub type Finish<'a> = &'a dyn Fn(&Pred, bool) -> Pred;

/// The exclusions of `detection` wherever they bind, and D with every one of them read
/// as `true` (both finished). `classify` decides which conjuncts are exclusions; a
/// conjunction that is nothing but exclusions detects "everything but" and has none.
/// Without `scoped`, only D's own conjuncts are judged (the front-end could not lower D
/// exactly and approximated it already: read under `not`, that would not be sound).
pub fn scoped_exclusions(
    detection: &Pred,
    classify: &dyn Fn(&Pred) -> Option<Scoped>,
    finish: Finish,
    scoped: bool,
) -> (Vec<InlineExclusion>, Option<Pred>) {
    let mut found = Vec::new();
    let mut groups = 0;
    let marked = mark(detection, classify, &mut found, &mut groups);
    let root = matches!(without_double_negation(detection), Pred::And(_));
    let judged: Vec<bool> = found.iter().map(|x| scoped || (root && x.group == 0)).collect();
    if !judged.contains(&true) {
        return (Vec::new(), None);
    }
    let unexcluded = finish(
        &fold(&substitute(&marked, &|j| match judged[j] {
            true => Pred::True,
            false => found[j].conjunct.clone(),
        })),
        true,
    );
    let exclusions = found
        .iter()
        .enumerate()
        .filter(|(k, _)| judged[*k])
        .map(|(k, x)| {
            let with = |value: Pred| {
                fold(&substitute(&marked, &|j| {
                    if j == k {
                        value.clone()
                    } else if judged[j] && found[j].group == x.group {
                        Pred::True
                    } else {
                        found[j].conjunct.clone()
                    }
                }))
            };
            let scoped = !root || x.group != 0;
            let rest = if scoped {
                // D[X:=true] and not D[X:=false], written along X's path: the rest of its
                // conjunction and every `and` above it hold, no other `or` branch does.
                let mut path = Vec::new();
                decides(&marked, k, &mut path);
                let by = |j: usize| {
                    if judged[j] && found[j].group == x.group {
                        Pred::True
                    } else {
                        found[j].conjunct.clone()
                    }
                };
                let parts = path
                    .iter()
                    .map(|(p, holds)| {
                        let p = fold(&substitute(p, &by));
                        match holds {
                            true => finish(&p, true),
                            false => Pred::Not(Box::new(finish(&p, false))),
                        }
                    })
                    .filter(|p| *p != Pred::True)
                    .collect();
                Pred::And(parts)
            } else {
                finish(&with(Pred::True), true)
            };
            InlineExclusion {
                span: x.scoped.span.clone(),
                suppresses: x.conjunct.negate(),
                rest,
                name: x.scoped.name.clone(),
                scoped,
                group: if scoped { x.group + 1 } else { 0 },
                alternatives: alternatives(&x.conjunct),
                by_precedence: scoped && x.scoped.by_precedence,
            }
        })
        .collect();
    (exclusions, Some(unexcluded))
}

/// Whether `p` is an `or` of two or more negated tests of one field with one operator
/// that takes one value (see [`InlineExclusion::alternatives`]).
fn alternatives(p: &Pred) -> bool {
    let Pred::Or(items) = p else { return false };
    let atoms: Vec<&Atom> = items
        .iter()
        .filter_map(|i| match i {
            Pred::Atom(a) if a.negated && !a.op.takes_list() && a.other_field().is_none() => Some(a),
            _ => None,
        })
        .collect();
    atoms.len() == items.len()
        && atoms.len() >= 2
        && atoms
            .iter()
            .all(|a| a.field == atoms[0].field && a.op == atoms[0].op && !a.is_null_test())
}

/// Whether mark `k` is in `p`; if so, pushes the conditions under which it decides `p`
/// (each with whether it must hold): the other conjuncts of every `and` on the way
/// hold, the other disjuncts of every `or` do not. Marks sit under `and`/`or` only.
fn decides(p: &Pred, k: usize, path: &mut Vec<(Pred, bool)>) -> bool {
    match p {
        Pred::Atom(a) => a.field == MARK && a.value().text().parse() == Ok(k),
        Pred::And(items) | Pred::Or(items) => {
            let Some(i) = items.iter().position(|q| decides(q, k, path)) else {
                return false;
            };
            let holds = matches!(p, Pred::And(_));
            path.extend(
                items
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, q)| (q.clone(), holds)),
            );
            true
        }
        _ => false,
    }
}

/// `p` with double negations dropped at its top.
fn without_double_negation(p: &Pred) -> &Pred {
    match p {
        Pred::Not(inner) => match inner.as_ref() {
            Pred::Not(x) => without_double_negation(x),
            _ => p,
        },
        _ => p,
    }
}

/// `p` with each exclusion under positive polarity replaced by a mark (whose index is
/// its position in `found`).
fn mark(p: &Pred, classify: &dyn Fn(&Pred) -> Option<Scoped>, found: &mut Vec<Found>, groups: &mut usize) -> Pred {
    match without_double_negation(p) {
        and @ Pred::And(_) => {
            let group = *groups;
            *groups += 1;
            let mut conjuncts = Vec::new();
            flatten(and, &mut conjuncts);
            let kinds: Vec<Option<Scoped>> = conjuncts.iter().map(|c| classify(c)).collect();
            let keeps_some = kinds.iter().any(Option::is_none);
            let mut items = Vec::with_capacity(conjuncts.len());
            for (c, kind) in conjuncts.into_iter().zip(kinds) {
                match kind {
                    Some(scoped) if keeps_some => {
                        items.push(mark_atom(found.len()));
                        found.push(Found {
                            conjunct: c.clone(),
                            scoped,
                            group,
                        });
                    }
                    _ => items.push(mark(c, classify, found, groups)),
                }
            }
            Pred::And(items)
        }
        Pred::Or(ps) => Pred::Or(ps.iter().map(|q| mark(q, classify, found, groups)).collect()),
        // Under `not` an exclusion would add events, not remove them.
        other => other.clone(),
    }
}

/// The conjuncts of a conjunction (nested `and`s and double negations flattened; `true`
/// ones dropped).
fn flatten<'a>(p: &'a Pred, out: &mut Vec<&'a Pred>) {
    match without_double_negation(p) {
        Pred::And(items) => items.iter().for_each(|i| flatten(i, out)),
        Pred::True => {}
        other => out.push(other),
    }
}

fn mark_atom(index: usize) -> Pred {
    Pred::Atom(Atom::new(
        MARK,
        Op::Equals,
        false,
        true,
        vec![Value::Str(index.to_string())],
    ))
}

/// `marked` with each mark replaced by `by(its index)`.
fn substitute(marked: &Pred, by: &dyn Fn(usize) -> Pred) -> Pred {
    marked.map_atoms(&mut |a| match a.field == MARK {
        true => by(a.value().text().parse().unwrap_or(usize::MAX)),
        false => Pred::Atom(a.clone()),
    })
}

/// `p` with the constants a substitution left folded away (`and` keeps its shape: a
/// conjunction of one stays one, as D's rest always was).
fn fold(p: &Pred) -> Pred {
    match p {
        Pred::And(ps) => {
            let items: Vec<Pred> = ps.iter().map(fold).filter(|q| *q != Pred::True).collect();
            if items.contains(&Pred::False) {
                Pred::False
            } else {
                Pred::And(items)
            }
        }
        Pred::Or(ps) => {
            let items: Vec<Pred> = ps.iter().map(fold).filter(|q| *q != Pred::False).collect();
            if items.contains(&Pred::True) {
                Pred::True
            } else if items.is_empty() {
                Pred::False
            } else {
                Pred::Or(items)
            }
        }
        Pred::Not(q) => match fold(q) {
            Pred::True => Pred::False,
            Pred::False => Pred::True,
            q => Pred::Not(Box::new(q)),
        },
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::{SatResult, sat};
    use crate::pred::Event;
    use std::collections::HashMap;

    const FIELDS: [&str; 3] = ["f", "g", "h"];
    const VALUES: [&str; 3] = ["a", "b", "c"];

    /// A small deterministic generator (xorshift), so a failure replays.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// A random D over `f`, `g`, `h` compared with `a`..`c`: nested `and`/`or`/`not`,
    /// negated tests (the exclusions) among positive ones. Every atom has its own span.
    fn random(rng: &mut Rng, depth: u32, next: &mut usize) -> Pred {
        let choice = if depth == 0 { 3 + rng.below(2) } else { rng.below(5) };
        match choice {
            0 => Pred::And((0..2 + rng.below(2)).map(|_| random(rng, depth - 1, next)).collect()),
            1 => Pred::Or((0..2 + rng.below(2)).map(|_| random(rng, depth - 1, next)).collect()),
            2 => {
                let inner = random(rng, depth - 1, next);
                match rng.below(3) {
                    0 => Pred::Not(Box::new(Pred::Not(Box::new(inner)))),
                    _ => Pred::Not(Box::new(inner)),
                }
            }
            _ => {
                *next += 1;
                let field = FIELDS[rng.below(3) as usize];
                let value = VALUES[rng.below(3) as usize];
                Pred::Atom(Atom {
                    span: *next..*next + 1,
                    ..Atom::new(
                        field,
                        Op::Equals,
                        rng.below(2) == 0,
                        true,
                        vec![Value::Str(value.into())],
                    )
                })
            }
        }
    }

    fn events() -> Vec<Event> {
        let values = ["a", "b", "c", "z"];
        let mut out = Vec::new();
        for i in 0..64 {
            let mut e = Event::new();
            for (k, f) in FIELDS.iter().enumerate() {
                e.insert(f.to_string(), values[(i >> (2 * k)) & 3].to_string());
            }
            out.push(e);
        }
        out
    }

    /// D evaluated with some atoms (by span start) forced to a truth value.
    fn eval(p: &Pred, e: &Event, forced: &HashMap<usize, bool>) -> bool {
        match p {
            Pred::True => true,
            Pred::False => false,
            Pred::Atom(a) => forced.get(&a.span.start).copied().unwrap_or_else(|| a.eval(e)),
            Pred::Not(q) => !eval(q, e, forced),
            Pred::And(ps) => ps.iter().all(|q| eval(q, e, forced)),
            Pred::Or(ps) => ps.iter().any(|q| eval(q, e, forced)),
        }
    }

    fn classify(c: &Pred) -> Option<Scoped> {
        match c {
            Pred::Atom(a) if a.negated => Some(Scoped {
                name: None,
                span: a.span.clone(),
                by_precedence: false,
            }),
            _ => None,
        }
    }

    /// For random D with exclusions at every depth: an exclusion suppresses (`rest` and
    /// `suppresses` hold) exactly the events it removes from D, by brute force: D with
    /// it (and the other exclusions of its conjunction) read as true alerts, D with only
    /// those others read as true does not. FPX105's question (can it remove anything?)
    /// answered by the solver agrees, and so does "D without exclusions".
    #[test]
    fn an_exclusion_at_any_depth_suppresses_what_it_removes() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let events = events();
        let (mut judged, mut scoped) = (0, 0);
        for _ in 0..3000 {
            let mut next = 0;
            let d = random(&mut rng, 4, &mut next);
            let (found, unexcluded) = scoped_exclusions(&d, &classify, &|p, _| p.clone(), true);
            for x in &found {
                judged += 1;
                scoped += usize::from(x.scoped);
                // The others of its conjunction: the found exclusions of the same group.
                let siblings: HashMap<usize, bool> = found
                    .iter()
                    .filter(|y| y.group == x.group && y.span != x.span)
                    .map(|y| (y.span.start, true))
                    .collect();
                let mut with = siblings.clone();
                with.insert(x.span.start, true);
                let mut removes_any = false;
                for e in &events {
                    let removes = eval(&d, e, &with) && !eval(&d, e, &siblings);
                    let suppresses = x.rest.eval(e) && x.suppresses.eval(e);
                    assert_eq!(removes, suppresses, "D = {d:?}\nX at {:?}\nevent {e:?}", x.span);
                    removes_any |= removes;
                }
                let solver = sat(&Pred::And(vec![x.rest.clone(), x.suppresses.clone()]));
                assert_eq!(removes_any, matches!(solver, SatResult::Sat(_)), "D = {d:?}");
            }
            if let Some(u) = unexcluded {
                let all: HashMap<usize, bool> = found.iter().map(|y| (y.span.start, true)).collect();
                for e in &events {
                    assert_eq!(u.eval(e), eval(&d, e, &all), "D = {d:?}");
                }
            }
        }
        // The generator reaches both kinds.
        assert!(judged > 1000 && scoped > 300, "{judged} judged, {scoped} scoped");
    }

    #[test]
    fn a_filter_in_one_branch_is_judged_on_that_branch() {
        let atom = |field: &str, negated: bool, at: usize| {
            Pred::Atom(Atom {
                span: at..at + 1,
                ..Atom::new(field, Op::Equals, negated, true, vec![Value::Str("x".into())])
            })
        };
        // a or (b and not c): c binds to the `b` branch only.
        let d = Pred::Or(vec![
            atom("a", false, 0),
            Pred::And(vec![atom("b", false, 1), atom("c", true, 2)]),
        ]);
        let (found, _) = scoped_exclusions(&d, &classify, &|p, _| p.clone(), true);
        assert_eq!(found.len(), 1);
        assert!(found[0].scoped);
        assert_eq!(crate::expr::print(&found[0].rest), r#"b == "x" and not (a == "x")"#);
        // Not judged at depth when the front-end says D is approximated.
        assert!(scoped_exclusions(&d, &classify, &|p, _| p.clone(), false).0.is_empty());
        // A branch that is only a negation is the branch, not an exclusion of it.
        let d = Pred::Or(vec![atom("a", false, 0), atom("c", true, 2)]);
        assert!(scoped_exclusions(&d, &classify, &|p, _| p.clone(), true).0.is_empty());
    }
}
