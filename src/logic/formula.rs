//! Lowering a `Pred` into the solver's form: a negation normal form over *basic
//! literals*, each one string (or number) test on one field. List operators expand
//! (`in` is an `or` of equalities, `has_all` an `and` of `has`), so the field solver
//! only ever meets single-value tests.

use rustc_hash::FxHashMap as HashMap;

use crate::pred::{self, Atom, Op, Pred};

/// The test a basic literal makes on its field's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Eq,
    Contains,
    Prefix,
    Suffix,
    Has,
    HasPrefix,
    HasSuffix,
    Regex,
    Lt,
    Le,
    Gt,
    Ge,
    /// The field's text equals another field's ([`Basic::other`]): decided across
    /// fields when a witness is built, never by the field solver.
    Same,
}

impl Kind {
    pub(crate) fn is_numeric(self) -> bool {
        matches!(self, Kind::Lt | Kind::Le | Kind::Gt | Kind::Ge)
    }
}

/// One positive test on one field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Basic {
    pub field: usize,
    pub kind: Kind,
    pub cs: bool,
    pub value: String,
    /// `==` and `< <= > >=` with a datetime: the value and the text compare as instants.
    pub time: bool,
    /// The other field of a [`Kind::Same`] test (its `value` is then empty).
    pub other: Option<usize>,
}

impl Basic {
    /// Truth of the test on a text (the same semantics as `Pred::eval`).
    pub(crate) fn eval(&self, text: &str) -> bool {
        let (v, cs) = (self.value.as_str(), self.cs);
        if self.time {
            let order = pred::compare(text, v, true);
            return match self.kind {
                Kind::Eq => order.is_some_and(|o| o.is_eq()),
                Kind::Lt => order.is_some_and(|o| o.is_lt()),
                Kind::Le => order.is_some_and(|o| o.is_le()),
                Kind::Gt => order.is_some_and(|o| o.is_gt()),
                _ => order.is_some_and(|o| o.is_ge()),
            };
        }
        match self.kind {
            Kind::Same => unreachable!("a test of two fields is not decided on one text"),
            Kind::Eq => pred::text_equals(text, v, cs),
            Kind::Contains => pred::contains(text, v, cs),
            Kind::Prefix => pred::starts_with(text, v, cs),
            Kind::Suffix => pred::ends_with(text, v, cs),
            Kind::Has => pred::has(text, v, cs, true, true),
            Kind::HasPrefix => pred::has(text, v, cs, true, false),
            Kind::HasSuffix => pred::has(text, v, cs, false, true),
            Kind::Regex | Kind::Lt | Kind::Le | Kind::Gt | Kind::Ge => {
                let op = match self.kind {
                    Kind::Regex => Op::MatchesRegex,
                    Kind::Lt => Op::Lt,
                    Kind::Le => Op::Le,
                    Kind::Gt => Op::Gt,
                    _ => Op::Ge,
                };
                Atom::new("", op, false, true, vec![pred::Value::Str(self.value.clone())]).eval_text(text)
            }
        }
    }
}

impl Basic {
    /// Whether this test has one truth on every text a positive `eq` (an `==` or `=~`)
    /// allows, so evaluating it on `eq`'s value decides it: any test when `eq` is
    /// case-sensitive (the text is the value), a case-insensitive text test otherwise
    /// (the text is the value up to the case of its ASCII letters, which such a test
    /// does not see). Regular expressions are left to the solver.
    pub(crate) fn decided_by_equality(&self, eq: &Basic) -> bool {
        self.kind != Kind::Regex
            && self.kind != Kind::Same
            && (eq.cs || (!self.cs && !self.time && !self.kind.is_numeric()))
    }
}

/// A formula in negation normal form over basic literals.
#[derive(Debug, Clone)]
pub(crate) enum Nnf {
    Const(bool),
    Lit(usize, bool),
    And(Vec<Nnf>),
    Or(Vec<Nnf>),
}

impl Nnf {
    /// Number of nodes.
    pub(crate) fn size(&self) -> usize {
        match self {
            Nnf::Const(_) | Nnf::Lit(..) => 1,
            Nnf::And(items) | Nnf::Or(items) => 1 + items.iter().map(Nnf::size).sum::<usize>(),
        }
    }
}

/// The solver's view of one or more predicates: fields, basics and formulas over them.
#[derive(Debug, Default)]
pub(crate) struct Lowered {
    pub fields: Vec<String>,
    pub basics: Vec<Basic>,
    index: HashMap<Basic, usize>,
    /// Where each field is in `fields` (a search of the list was quadratic in a
    /// predicate of 30,000 fields).
    field_index: HashMap<String, usize>,
}

impl Lowered {
    /// Lowers `pred` (negated when `positive` is false) into NNF, sharing basics and
    /// fields with whatever was lowered before.
    pub(crate) fn lower(&mut self, pred: &Pred, positive: bool) -> Nnf {
        match pred {
            Pred::True => Nnf::Const(positive),
            Pred::False => Nnf::Const(!positive),
            Pred::Not(p) => self.lower(p, !positive),
            Pred::And(ps) | Pred::Or(ps) => {
                let items = ps.iter().map(|p| self.lower(p, positive)).collect();
                if matches!(pred, Pred::And(_)) == positive {
                    Nnf::And(items)
                } else {
                    Nnf::Or(items)
                }
            }
            Pred::Atom(atom) => self.atom(atom, positive != atom.negated),
        }
    }

    fn field(&mut self, name: &str) -> usize {
        if let Some(&i) = self.field_index.get(name) {
            return i;
        }
        self.fields.push(name.to_string());
        self.field_index.insert(name.to_string(), self.fields.len() - 1);
        self.fields.len() - 1
    }

    fn atom(&mut self, atom: &Atom, positive: bool) -> Nnf {
        let field = self.field(&atom.field);
        if let Some(other) = atom.other_field() {
            let other = self.field(other);
            if other == field {
                // `A == A` holds on every event (texts, never null).
                return Nnf::Const(positive);
            }
            // One basic for `A == B` and `B == A`.
            let (field, other) = (field.min(other), field.max(other));
            let basic = Basic {
                field,
                kind: Kind::Same,
                cs: true,
                value: String::new(),
                time: false,
                other: Some(other),
            };
            return Nnf::Lit(self.intern(basic), positive);
        }
        if atom.op == Op::ContainedIn {
            // The field is one of the value's substrings: a list of them.
            let text = atom.value().text();
            let mut parts: Vec<String> = Vec::new();
            let mut seen = rustc_hash::FxHashSet::default();
            for start in text.char_indices().map(|(i, _)| i).chain([text.len()]) {
                for end in text[start..]
                    .char_indices()
                    .map(|(i, _)| start + i)
                    .skip(1)
                    .chain([text.len()])
                {
                    let part = &text[start..end];
                    let key = if atom.case_sensitive {
                        part.to_string()
                    } else {
                        part.to_ascii_lowercase()
                    };
                    if seen.insert(key) {
                        parts.push(part.to_string());
                    }
                }
            }
            let list = Atom::new(
                &atom.field,
                Op::In,
                false,
                atom.case_sensitive,
                parts.into_iter().map(pred::Value::Str).collect(),
            );
            return self.atom(&list, positive);
        }
        let kind = match atom.op {
            Op::SameAs | Op::ContainedIn => unreachable!("handled above"),
            Op::Equals | Op::In => Kind::Eq,
            Op::Contains => Kind::Contains,
            Op::StartsWith => Kind::Prefix,
            Op::EndsWith => Kind::Suffix,
            Op::Has | Op::HasAny | Op::HasAll => Kind::Has,
            Op::HasPrefix => Kind::HasPrefix,
            Op::HasSuffix => Kind::HasSuffix,
            Op::MatchesRegex => Kind::Regex,
            Op::Lt => Kind::Lt,
            Op::Le => Kind::Le,
            Op::Gt => Kind::Gt,
            Op::Ge => Kind::Ge,
        };
        // Regex and numeric tests ignore the case flag; one basic serves both spellings.
        let cs = atom.case_sensitive || kind == Kind::Regex || kind.is_numeric();
        let lits: Vec<Nnf> = atom
            .values
            .iter()
            .map(|v| {
                let basic = Basic {
                    field,
                    kind,
                    cs,
                    value: v.text().to_string(),
                    time: v.is_datetime() && (kind == Kind::Eq || kind.is_numeric()),
                    other: None,
                };
                Nnf::Lit(self.intern(basic), positive)
            })
            .collect();
        // A list holds when any (in, has_any) or all (has_all) of its values do; the
        // negation swaps the connective.
        let any = atom.op != Op::HasAll;
        match (lits.len(), any == positive) {
            (1, _) => lits.into_iter().next().expect("one literal"),
            (_, true) => Nnf::Or(lits),
            (_, false) => Nnf::And(lits),
        }
    }

    fn intern(&mut self, basic: Basic) -> usize {
        if let Some(&i) = self.index.get(&basic) {
            return i;
        }
        self.basics.push(basic.clone());
        self.index.insert(basic, self.basics.len() - 1);
        self.basics.len() - 1
    }
}

/// Three-valued evaluation under a partial assignment of the basics.
pub(crate) fn eval3(f: &Nnf, assign: &[Option<bool>]) -> Option<bool> {
    match f {
        Nnf::Const(b) => Some(*b),
        Nnf::Lit(i, pos) => assign[*i].map(|v| v == *pos),
        Nnf::And(items) => {
            let mut all = true;
            for item in items {
                match eval3(item, assign) {
                    Some(false) => return Some(false),
                    None => all = false,
                    Some(true) => {}
                }
            }
            if all { Some(true) } else { None }
        }
        Nnf::Or(items) => {
            let mut none = true;
            for item in items {
                match eval3(item, assign) {
                    Some(true) => return Some(true),
                    None => none = false,
                    Some(false) => {}
                }
            }
            if none { Some(false) } else { None }
        }
    }
}

/// The first unassigned literal inside a still-undecided part of the formula, with the
/// polarity it appears in there.
pub(crate) fn pick(f: &Nnf, assign: &[Option<bool>]) -> Option<(usize, bool)> {
    match f {
        Nnf::Const(_) => None,
        Nnf::Lit(i, pos) => assign[*i].is_none().then_some((*i, *pos)),
        Nnf::And(items) | Nnf::Or(items) => items
            .iter()
            .filter(|item| eval3(item, assign).is_none())
            .find_map(|item| pick(item, assign)),
    }
}

/// The items of the `or` whose literal [`pick`] would pick, when that literal is an
/// item of an `or` (not of an `and`).
pub(crate) fn picked_or<'a>(f: &'a Nnf, assign: &[Option<bool>]) -> Option<&'a [Nnf]> {
    match f {
        Nnf::Const(_) | Nnf::Lit(..) => None,
        Nnf::And(items) | Nnf::Or(items) => {
            let first = items.iter().find(|item| eval3(item, assign).is_none())?;
            match (f, first) {
                (Nnf::Or(_), Nnf::Lit(..)) => Some(items),
                (_, Nnf::Lit(..)) => None,
                _ => picked_or(first, assign),
            }
        }
    }
}

/// [`picked_or`]'s alternatives first, then those of every other undecided `or` in the
/// conjunction it sits in (empty when it sits in none): the `or`s a search deciding
/// the conjunction's items in turn would reach next.
pub(crate) fn picked_ors<'a>(f: &'a Nnf, assign: &[Option<bool>]) -> Vec<&'a [Nnf]> {
    let (Nnf::And(items) | Nnf::Or(items)) = f else {
        return Vec::new();
    };
    let Some(first) = items.iter().find(|item| eval3(item, assign).is_none()) else {
        return Vec::new();
    };
    match (f, first) {
        (Nnf::Or(_), Nnf::Lit(..)) => vec![items],
        (_, Nnf::Lit(..)) => Vec::new(),
        (Nnf::And(_), Nnf::Or(alternatives))
            if picked_or(first, assign).is_some_and(|picked| std::ptr::eq(picked, &alternatives[..])) =>
        {
            let mut ors = vec![&alternatives[..]];
            ors.extend(
                items
                    .iter()
                    .filter(|item| !std::ptr::eq(*item, first) && eval3(item, assign).is_none())
                    .filter_map(|item| match item {
                        Nnf::Or(alternatives) => Some(&alternatives[..]),
                        _ => None,
                    }),
            );
            ors
        }
        _ => picked_ors(first, assign),
    }
}

/// What [`pick`] would pick, with the literals it would pick right after it: in a
/// conjunction, each undecided item in turn that is a literal, or an `or` of literals
/// (its first undecided one, which decides it), up to the first other item. The search
/// would branch on each of them in turn, in order, with nothing between them but unit
/// propagation. The conjunction is returned too (by address), so a failed attempt to
/// take them all at once is not repeated.
pub(crate) fn pick_run(f: &Nnf, assign: &[Option<bool>]) -> Option<(Vec<(usize, bool)>, usize)> {
    match f {
        Nnf::Const(_) => None,
        Nnf::Lit(i, pos) => assign[*i].is_none().then(|| (vec![(*i, *pos)], 0)),
        Nnf::And(items) => {
            let mut run = Vec::new();
            for item in items.iter().filter(|item| eval3(item, assign).is_none()) {
                let next = match item {
                    Nnf::Lit(i, pos) => Some((*i, *pos)),
                    Nnf::Or(alternatives) if alternatives.iter().all(|a| matches!(a, Nnf::Lit(..))) => {
                        pick(item, assign)
                    }
                    _ => None,
                };
                match next {
                    Some(lit) => run.push(lit),
                    None if run.is_empty() => return pick_run(item, assign),
                    None => break,
                }
            }
            (!run.is_empty()).then_some((run, f as *const Nnf as usize))
        }
        Nnf::Or(items) => items
            .iter()
            .filter(|item| eval3(item, assign).is_none())
            .find_map(|item| pick_run(item, assign)),
    }
}

/// The literals the formula forces under a partial assignment (unit propagation):
/// those that must hold for the formula to hold, found through `and`s and through `or`s
/// with one undecided branch left. Deciding these before branching finds a
/// contradiction among them at once, whatever the order of the terms, and decides a
/// long conjunction (a negated allow-list) in one step instead of one per literal.
pub(crate) fn units(f: &Nnf, assign: &[Option<bool>], out: &mut Vec<(usize, bool)>) {
    match f {
        Nnf::Const(_) => {}
        Nnf::Lit(i, pos) => {
            if assign[*i].is_none() {
                out.push((*i, *pos));
            }
        }
        Nnf::And(items) => {
            for item in items {
                if eval3(item, assign).is_none() {
                    units(item, assign, out);
                }
            }
        }
        Nnf::Or(items) => {
            let mut open = items.iter().filter(|item| eval3(item, assign).is_none());
            if let (Some(only), None) = (open.next(), open.next()) {
                units(only, assign, out);
            }
        }
    }
}
