//! A predicate compiled for evaluating many events: fields are slots looked up once per
//! event, case-insensitive tests compare with constants lowered once (and the event's
//! text lowered once per field), substring tests use precompiled searchers, and an
//! `or` of `contains` (or of equalities) on one field is one Aho-Corasick automaton (or
//! one set lookup). It means exactly what `Pred::eval` means (a test checks both on
//! every rule and event of SigmaHQ's regression data).

use std::collections::{HashMap, HashSet};

use aho_corasick::AhoCorasick;
use memchr::memmem::Finder;
use rayon::prelude::*;

use super::literals::Literals;
use super::view::View;
use crate::pred::{Atom, Op, Pred, Value};

/// How a rule names an event's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Naming {
    /// Each flattened name is one value (KQL's `Target[0].ID`, Sigma's `Image`).
    Flat,
    /// Elasticsearch's reading of an ECS document: a field is every value at its
    /// dotted path, through arrays (`process.args` is each argument,
    /// `threat.enrichments.indicator.ip` each enrichment's address); a test holds when
    /// one value passes it (EQL, Kibana KQL).
    Ecs,
    /// The same values, where a field with several is null, as a missing one is
    /// (ES|QL's tests of a multi-valued field).
    EcsSingle,
}

impl Naming {
    /// How a rule whose language reads several values of a field so names them.
    pub fn of(many: crate::model::ManyValues) -> Naming {
        match many {
            crate::model::ManyValues::One => Naming::Flat,
            crate::model::ManyValues::Any => Naming::Ecs,
            crate::model::ManyValues::Null => Naming::EcsSingle,
        }
    }
}

/// Field names to slot numbers, shared by every compiled rule of a replay: one map per
/// [`Naming`], slots numbered together.
#[derive(Debug, Default)]
pub struct Fields {
    flat: rustc_hash::FxHashMap<String, usize>,
    ecs: rustc_hash::FxHashMap<String, usize>,
    single: rustc_hash::FxHashMap<String, usize>,
    /// The slots of `single`, by slot: their values are dropped when there are several.
    at_most_one: Vec<bool>,
}

impl Fields {
    fn map(&self, naming: Naming) -> &rustc_hash::FxHashMap<String, usize> {
        match naming {
            Naming::Flat => &self.flat,
            Naming::Ecs => &self.ecs,
            Naming::EcsSingle => &self.single,
        }
    }

    /// Gives a field a slot (the one it has, if any).
    fn add(&mut self, name: &str, naming: Naming) -> usize {
        let next = self.at_most_one.len();
        let map = match naming {
            Naming::Flat => &mut self.flat,
            Naming::Ecs => &mut self.ecs,
            Naming::EcsSingle => &mut self.single,
        };
        let slot = *map.entry(name.to_string()).or_insert(next);
        if slot == next {
            self.at_most_one.push(naming == Naming::EcsSingle);
        }
        slot
    }

    /// Gives every field `pred` reads a slot, so that [`compile`] (which only looks
    /// slots up) can run on many predicates at once.
    pub fn register(&mut self, pred: &Pred, naming: Naming) {
        for a in pred.atoms() {
            self.add(&a.field, naming);
            if let Some(other) = a.other_field() {
                self.add(other, naming);
            }
        }
    }

    fn slot(&self, name: &str, naming: Naming) -> usize {
        *self
            .map(naming)
            .get(name)
            .expect("a predicate's fields are registered before it is compiled")
    }

    /// An event's values by slot (a field no rule reads is left out; an absent field
    /// reads as empty). Events have a few dozen fields, so this is a small sorted list;
    /// an ECS field has one entry per value.
    pub fn slots<'e>(&self, event: &'e View<'e>) -> Slots<'e> {
        // Each value with the name it was read under: a name read twice keeps its last.
        let mut read: Vec<(usize, &'e str, &'e str)> = Vec::with_capacity(event.len());
        for (k, v) in event.iter() {
            if let Some(&i) = self.flat.get(k) {
                read.push((i, k, v));
            }
            if self.ecs.is_empty() && self.single.is_empty() {
                continue;
            }
            let Some(name) = ecs_name(k) else { continue };
            for map in [&self.ecs, &self.single] {
                if let Some(&i) = map.get(name.as_ref())
                    && !is_array_text(event, k, v)
                {
                    read.push((i, k, v));
                }
            }
        }
        // By slot, in the order read within one (a stable sort).
        read.sort_by_key(|(i, _, _)| *i);
        let mut values: Vec<(usize, &'e str)> = Vec::with_capacity(read.len());
        let mut start = 0;
        while start < read.len() {
            let slot = read[start].0;
            let mut end = start + 1;
            while end < read.len() && read[end].0 == slot {
                end += 1;
            }
            let run = &read[start..end];
            // A slot of one name has one value; of several (an ECS array), each name's last.
            for (at, &(_, name, value)) in run.iter().enumerate() {
                if !run[at + 1..].iter().any(|(_, later, _)| *later == name) {
                    values.push((slot, value));
                }
            }
            start = end;
        }
        if !self.single.is_empty() {
            // A field read as one value that has several is null: as if missing.
            let several = |i: usize| {
                let slot = values[i].0;
                self.at_most_one[slot]
                    && (values.get(i + 1).is_some_and(|n| n.0 == slot) || i > 0 && values[i - 1].0 == slot)
            };
            let keep: Vec<bool> = (0..values.len()).map(|i| !several(i)).collect();
            let mut kept = keep.iter();
            values.retain(|_| *kept.next().unwrap_or(&true));
        }
        Slots {
            lower: vec![None; values.len()],
            values,
        }
    }
}

/// The ECS name of a flattened event key: its element indices dropped
/// (`process.args[0]` is a value of `process.args`). `None` for the keys flattening
/// adds besides (elements counted from the end, `X['a b']` spellings).
pub fn ecs_name(key: &str) -> Option<std::borrow::Cow<'_, str>> {
    if !key.contains('[') {
        return Some(key.into());
    }
    let mut out = String::with_capacity(key.len());
    let mut rest = key;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find(']')? + open;
        let index = &rest[open + 1..close];
        if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Some(out.into())
}

/// An Elastic rule's predicate as the replay reads it: the values the checks split an
/// array field into (`process.args`, `process.args[2]`, ...; see `elastic::arrays_apart`)
/// are the field itself, whose test holds when one of the event's values passes it,
/// which is what the split reads exactly (and what the approximate reading of a field
/// with more tests over-approximates).
pub fn ecs_reading(pred: &Pred) -> Pred {
    pred.map_atoms(&mut |a| {
        let field = match a.field.strip_suffix(']').and_then(|f| f.rsplit_once('[')) {
            Some((base, index))
                if !index.is_empty()
                    && index.bytes().all(|b| b.is_ascii_digit())
                    && crate::schema::ecs::is_array(base) =>
            {
                base.to_string()
            }
            _ => a.field.clone(),
        };
        Pred::Atom(Atom { field, ..a.clone() })
    })
}

/// A field's value in `event` as a report shows it: its text, or an ECS field's
/// values (through arrays of objects) joined by `, `.
pub fn value_of(event: &View, field: &str, naming: Naming) -> String {
    if let Some(v) = event.get(field) {
        return v.to_string();
    }
    match naming {
        Naming::Flat => String::new(),
        Naming::Ecs | Naming::EcsSingle => event
            .sorted()
            .into_iter()
            .filter(|(k, v)| ecs_name(k).is_some_and(|n| n == field) && !is_array_text(event, k, v))
            .map(|(_, v)| v)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Whether `key`'s value is the JSON text flattening gives an array besides its
/// elements (`process.args` = `["a","b"]` beside `process.args[0]`): not a value of its
/// own in ECS. An empty array (`[]`, no elements) holds no value either.
fn is_array_text(event: &View, key: &str, value: &str) -> bool {
    value.starts_with('[')
        && value.ends_with(']')
        && (value == "[]"
            || event
                .iter()
                .any(|(k, _)| k.strip_prefix(key).is_some_and(|rest| rest.starts_with("[0]"))))
}

/// One event's field values by slot, with their lower-case forms made on demand. A
/// slot holds several values when an ECS field is an array.
pub struct Slots<'e> {
    values: Vec<(usize, &'e str)>,
    lower: Vec<Option<String>>,
}

impl Slots<'_> {
    /// The positions of the slot's values.
    fn range(&self, slot: usize) -> std::ops::Range<usize> {
        let start = self.values.partition_point(|(i, _)| *i < slot);
        let mut end = start;
        while end < self.values.len() && self.values[end].0 == slot {
            end += 1;
        }
        start..end
    }

    fn present(&self, slot: usize) -> bool {
        !self.range(slot).is_empty()
    }

    /// The texts of the slot's values; one empty text when it has none (an absent
    /// field reads as empty).
    fn texts(&self, slot: usize) -> impl Iterator<Item = &str> + '_ {
        let range = self.range(slot);
        let absent = range.is_empty().then_some("");
        self.values[range].iter().map(|(_, v)| *v).chain(absent)
    }

    /// The lower-case text of the value at `position`.
    fn lower_at(&mut self, position: usize) -> &str {
        if self.lower[position].is_none() {
            self.lower[position] = Some(self.values[position].1.to_ascii_lowercase());
        }
        self.lower[position].as_deref().unwrap_or("")
    }
}

/// A compiled predicate.
#[derive(Debug)]
pub enum Node {
    True,
    False,
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Test {
        slot: usize,
        cs: bool,
        negated: bool,
        test: Test,
    },
}

/// A test on one field's text (lower-cased first when `cs` is false).
#[derive(Debug)]
pub enum Test {
    Equals(Vec<u8>),
    StartsWith(Vec<u8>),
    EndsWith(Vec<u8>),
    Contains(Box<Finder<'static>>),
    /// Any of these substrings.
    ContainsAny(AhoCorasick),
    /// Any of these values.
    EqualsAny(HashSet<Vec<u8>>),
    /// A regular expression, compiled once (as `matches regex`: a search).
    Regex(regex::Regex),
    /// Everything else (`has`, regular expressions, numbers), by `Atom::eval_text`.
    Other(Box<Atom>),
    /// The text equals another field's (in this slot).
    Same(usize),
    /// Sigma's null test: the field is absent (or holds the null text).
    Null,
}

/// Compiles `pred`, whose fields have slots in `fields` ([`Fields::register`]).
pub fn compile(pred: &Pred, fields: &Fields, naming: Naming) -> Node {
    match pred {
        Pred::True => Node::True,
        Pred::False => Node::False,
        Pred::Not(p) => Node::Not(Box::new(compile(p, fields, naming))),
        Pred::And(ps) => Node::And(ps.iter().map(|p| compile(p, fields, naming)).collect()),
        Pred::Or(ps) => compile_or(ps, fields, naming),
        Pred::Atom(a) => atom(a, fields, naming),
    }
}

/// An `or`: positive `contains` (and positive equalities) of one field and one case
/// sensitivity become one test each; the rest are compiled one by one.
fn compile_or(ps: &[Pred], fields: &Fields, naming: Naming) -> Node {
    let mut groups: HashMap<(String, bool, bool), Vec<String>> = HashMap::new();
    let mut rest = Vec::new();
    for p in ps {
        match p {
            Pred::Atom(a)
                if !a.negated
                    && !a.is_null_test()
                    && matches!(a.op, Op::Contains | Op::Equals | Op::In)
                    && !a.values.iter().any(Value::is_datetime) =>
            {
                let contains = a.op == Op::Contains;
                let key = (a.field.clone(), a.case_sensitive, contains);
                let values = groups.entry(key).or_default();
                values.extend(a.values.iter().map(|v| fold(v.text(), a.case_sensitive)));
            }
            other => rest.push(compile(other, fields, naming)),
        }
    }
    let mut keys: Vec<_> = groups.into_iter().collect();
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    for ((field, cs, contains), values) in keys {
        let slot = fields.slot(&field, naming);
        let test = if contains {
            if values.iter().any(String::is_empty) {
                // `contains ""` holds for every text.
                rest.push(Node::True);
                continue;
            }
            Test::ContainsAny(automaton(&values))
        } else {
            Test::EqualsAny(values.into_iter().map(String::into_bytes).collect())
        };
        rest.push(Node::Test {
            slot,
            cs,
            negated: false,
            test,
        });
    }
    Node::Or(rest)
}

/// An Aho-Corasick automaton over literals: a contiguous NFA, not the DFA the crate
/// picks for few patterns. Thousands of rules each have a few such sets; their DFAs
/// took most of replay's start-up (and 70 MB) for no measurable gain per event.
fn automaton(patterns: &[String]) -> AhoCorasick {
    AhoCorasick::builder()
        .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
        .build(patterns)
        .expect("literal patterns compile")
}

fn fold(text: &str, cs: bool) -> String {
    if cs {
        text.to_string()
    } else {
        text.to_ascii_lowercase()
    }
}

fn atom(a: &Atom, fields: &Fields, naming: Naming) -> Node {
    let slot = fields.slot(&a.field, naming);
    if let Some(other) = a.other_field() {
        return Node::Test {
            slot,
            cs: true,
            negated: a.negated,
            test: Test::Same(fields.slot(other, naming)),
        };
    }
    let cs = a.case_sensitive;
    let value = || fold(a.value().text(), cs).into_bytes();
    let test = match a.op {
        _ if a.is_null_test() => Test::Null,
        // A datetime compares as an instant, not as text.
        _ if a.values.iter().any(Value::is_datetime) => Test::Other(Box::new(a.clone())),
        Op::Equals => Test::Equals(value()),
        Op::StartsWith => Test::StartsWith(value()),
        Op::EndsWith => Test::EndsWith(value()),
        Op::Contains => Test::Contains(Box::new(Finder::new(&value()).into_owned())),
        Op::In => Test::EqualsAny(a.values.iter().map(|v| fold(v.text(), cs).into_bytes()).collect()),
        // The original text, whatever the flag: the pattern says its own case rules.
        Op::MatchesRegex => match regex::Regex::new(a.value().text()) {
            Ok(re) => {
                return Node::Test {
                    slot,
                    cs: true,
                    negated: a.negated,
                    test: Test::Regex(re),
                };
            }
            Err(_) => Test::Other(Box::new(a.clone())),
        },
        _ => Test::Other(Box::new(a.clone())),
    };
    Node::Test {
        slot,
        cs,
        negated: a.negated,
        test,
    }
}

impl Node {
    /// The predicate's truth on an event.
    pub fn eval(&self, slots: &mut Slots) -> bool {
        match self {
            Node::True => true,
            Node::False => false,
            Node::Not(n) => !n.eval(slots),
            Node::And(ns) => ns.iter().all(|n| n.eval(slots)),
            Node::Or(ns) => ns.iter().any(|n| n.eval(slots)),
            Node::Test {
                slot,
                cs,
                negated,
                test,
            } => {
                // An array's test holds when one of its values passes it (a negated
                // test when none does): `holds` is the test as written, unnegated.
                let holds = match test {
                    // `eval_text` applies the atom's negation itself.
                    Test::Other(atom) => match atom.negated {
                        false => slots.texts(*slot).any(|t| atom.eval_text(t)),
                        true => !slots.texts(*slot).all(|t| atom.eval_text(t)),
                    },
                    Test::Same(other) => slots.texts(*slot).any(|t| slots.texts(*other).any(|o| t == o)),
                    // No value, or every value null.
                    Test::Null => !slots.present(*slot) || slots.texts(*slot).all(|t| t == crate::pred::NULL),
                    _ => {
                        let range = slots.range(*slot);
                        if range.is_empty() {
                            test.holds(b"")
                        } else if *cs {
                            slots.values[range].iter().any(|(_, v)| test.holds(v.as_bytes()))
                        } else {
                            range.into_iter().any(|p| test.holds(slots.lower_at(p).as_bytes()))
                        }
                    }
                };
                holds != *negated
            }
        }
    }
}

impl Test {
    /// Whether a text (lower-cased for a case-insensitive test) passes a test of text.
    fn holds(&self, text: &[u8]) -> bool {
        match self {
            Test::Equals(v) => text == v.as_slice(),
            Test::StartsWith(v) => text.starts_with(v),
            Test::EndsWith(v) => text.ends_with(v),
            Test::Contains(f) => f.find(text).is_some(),
            Test::ContainsAny(ac) => ac.is_match(text),
            Test::EqualsAny(set) => set.contains(text),
            Test::Regex(re) => std::str::from_utf8(text).is_ok_and(|t| re.is_match(t)),
            Test::Other(_) | Test::Same(_) | Test::Null => unreachable!("tests of their own, in `Node::eval`"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{ParseOutcome, parse_exclusion};
    use crate::pred::Event;

    fn check(text: &str, events: &[&[(&str, &str)]]) {
        let ParseOutcome::Parsed(p) = parse_exclusion(text) else {
            panic!("{text}")
        };
        let mut fields = Fields::default();
        fields.register(&p.pred, Naming::Flat);
        let node = compile(&p.pred, &fields, Naming::Flat);
        for e in events {
            let event: Event = e.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let view = View::of(&event);
            let mut slots = fields.slots(&view);
            assert_eq!(node.eval(&mut slots), p.pred.eval(&event), "{text} on {event:?}");
        }
    }

    /// A rule is a candidate when both of its most selective requirements are met (one
    /// alone lets through the events that share a common image), and always when it
    /// has none.
    #[test]
    fn candidates_meet_every_indexed_requirement() {
        let pred = |text: &str| match parse_exclusion(text) {
            ParseOutcome::Parsed(p) => p.pred,
            _ => panic!("{text}"),
        };
        let rules = [
            pred(r#"Image endswith "\\rundll32.exe" and CommandLine contains "davsetcookie""#),
            pred(r#"Image endswith "\\rundll32.exe" or Image endswith "\\regsvr32.exe""#),
            pred(r#"not (User =~ "system")"#),
        ];
        let indexed: Vec<(usize, &Pred, Naming)> =
            rules.iter().enumerate().map(|(i, p)| (i, p, Naming::Flat)).collect();
        let mut fields = Fields::default();
        let index = Index::new(&indexed, &mut fields);
        let candidates = |event: &[(&str, &str)]| {
            let event: Event = event.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let mut out = Vec::new();
            index.candidates(&mut fields.slots(&View::of(&event)), &mut out);
            out.sort_unstable();
            out
        };
        let image = ("Image", r"C:\Windows\System32\RUNDLL32.EXE");
        assert_eq!(
            candidates(&[image, ("CommandLine", "shell32.dll,Control_RunDLL")]),
            vec![1, 2]
        );
        assert_eq!(candidates(&[image, ("CommandLine", "DavSetCookie x")]), vec![0, 1, 2]);
        assert_eq!(candidates(&[("CommandLine", "DavSetCookie x")]), vec![2]);
    }

    #[test]
    fn regex_literals_every_match_contains() {
        let lits = |p: &str| regex_necessary(p);
        let v = |xs: &[&str]| Some(xs.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(lits(r"(?is)^.*ipconfig.*\|.*find.*$"), v(&["ipconfig"]));
        assert_eq!(lits(r"APT\d"), v(&["apt"]));
        assert_eq!(lits(r"(?i)echo.*clipboard"), v(&["clipboard"]));
        assert_eq!(lits(r"cmd.{0,5}(?:/c|/r)"), v(&["cmd"]));
        assert_eq!(lits(r"(?:/cx|/rx)"), v(&["/cx", "/rx"]));
        assert!([v(&["ab"]), v(&["cd"])].contains(&lits(r"(ab)+cd")));
        // `k` and `s` have non-ASCII case variants under (?i): no literal from them.
        assert_eq!(lits(r"(?i)ks"), None);
        assert_eq!(lits(r"(?i)kso"), v(&["o"]));
        assert_eq!(lits(r"a*"), None);
        assert_eq!(lits(r"x?yz|w"), v(&["yz", "w"]));
        assert_eq!(lits(r"[ab]"), None);
        assert_eq!(lits(r"^$"), None);
        assert_eq!(lits(r"(unclosed"), None);
        // Each literal holds of every match, lower-cased.
        for (pattern, text) in [
            (r"(?i)IPCONFIG /ALL", "ipconfig /all"),
            (r"x?yz|w", "w"),
            (r"APT\d", "xAPT1"),
        ] {
            let re = regex::Regex::new(pattern).unwrap();
            let lower = re.find(text).unwrap().as_str().to_ascii_lowercase();
            assert!(
                lits(pattern).unwrap().iter().any(|l| lower.contains(l.as_str())),
                "{pattern}"
            );
        }
    }

    #[test]
    fn compiled_predicates_mean_what_pred_eval_means() {
        let events: &[&[(&str, &str)]] = &[
            &[("a", "Hello World"), ("b", "x")],
            &[("a", "HELLO"), ("b", "")],
            &[("b", "y")],
            &[("a", "say hello"), ("b", "X")],
            &[("a", "2024-01-01 00:00"), ("b", "2024-01-01T00:00:00.5Z")],
        ];
        for text in [
            r#"a contains "hello" or a contains "xyz" or b == "x""#,
            r#"a =~ "hello" or a == "HELLO" or a in ("Hello World", "z")"#,
            r#"not (a startswith "hel") and b !~ "x""#,
            r#"a endswith_cs "World" or a has "world" or a contains """#,
            r#"a !contains "o" or b in~ ("X", "y")"#,
            r#"a matches regex "^[A-Z]+$""#,
            r#"a !has "world" and b !hasprefix "q""#,
            r#"not (a has_any ("hello", "q")) or a !has_cs "HELLO""#,
            r#"a == datetime(2024-01-01)"#,
            r#"b in (datetime(2024-01-01 00:00:00.5), "q")"#,
            r#"a == datetime(2024-01-01) or b == "q""#,
            r#"b > datetime(2024-01-01) and a != datetime(2024-01-02)"#,
        ] {
            check(text, events);
        }
    }

    fn json_event(json: &str) -> Event {
        crate::replay::events::flatten(serde_json::from_str(json).unwrap()).to_event()
    }

    /// ECS reading: a test holds when one of a field's values passes it, a negated
    /// test (and the null test) when none does; an absent field or an empty array
    /// reads as one empty text, as an absent field does elsewhere.
    #[test]
    fn an_ecs_field_is_every_value_of_its_array() {
        use crate::pred::{Atom, Op, Value};
        let atom = |field: &str, op, negated, value: &str| {
            Pred::Atom(Atom::new(field, op, negated, false, vec![Value::Str(value.into())]))
        };
        let cases: &[(Pred, &str, bool)] = &[
            (
                atom("process.args", Op::Equals, false, "-a"),
                r#"{"process":{"args":["x.exe","-A"]}}"#,
                true,
            ),
            (
                atom("process.args", Op::Equals, true, "-a"),
                r#"{"process":{"args":["x.exe","-A"]}}"#,
                false,
            ),
            (
                atom("process.args", Op::Equals, true, "-a"),
                r#"{"process":{"args":["x.exe","-b"]}}"#,
                true,
            ),
            // Two tests that must both hold may hold of different values.
            (
                Pred::And(vec![
                    atom("process.args", Op::Equals, false, "-a"),
                    atom("process.args", Op::EndsWith, false, ".exe"),
                ]),
                r#"{"process":{"args":["x.exe","-a"]}}"#,
                true,
            ),
            // The array's own JSON text is not a value; `[]` has none.
            (
                atom("process.args", Op::Contains, false, "["),
                r#"{"process":{"args":["x"]}}"#,
                false,
            ),
            (
                atom("process.args", Op::Contains, true, "x"),
                r#"{"process":{"args":[]}}"#,
                true,
            ),
            (
                atom("process.args", Op::Equals, false, ""),
                r#"{"process":{"args":[]}}"#,
                true,
            ),
            // Dotted keys, and values under arrays of objects.
            (
                atom("process.name", Op::Equals, false, "a.exe"),
                r#"{"process.name":"A.EXE"}"#,
                true,
            ),
            (
                atom("threat.enrichments.indicator.ip", Op::Equals, false, "10.0.0.2"),
                r#"{"threat":{"enrichments":[{"indicator":{"ip":"10.0.0.1"}},{"indicator":{"ip":"10.0.0.2"}}]}}"#,
                true,
            ),
            // A number in the document is its text.
            (
                atom("process.pid", Op::Gt, false, "4"),
                r#"{"process":{"pid":[1, 42]}}"#,
                true,
            ),
            (
                atom("process.pid", Op::Gt, true, "4"),
                r#"{"process":{"pid":[1, 42]}}"#,
                false,
            ),
            (
                atom("process.pid", Op::MatchesRegex, false, "^4"),
                r#"{"process":{"pid":[1, 42]}}"#,
                true,
            ),
        ];
        for (p, json, expected) in cases {
            let mut fields = Fields::default();
            fields.register(p, Naming::Ecs);
            let node = compile(p, &fields, Naming::Ecs);
            let event = json_event(json);
            assert_eq!(
                node.eval(&mut fields.slots(&View::of(&event))),
                *expected,
                "{p} on {json}"
            );
        }
        // The null test: no value at all.
        let null = Pred::Atom(Atom::new("process.args", Op::Equals, false, true, vec![Value::Null]));
        let mut fields = Fields::default();
        fields.register(&null, Naming::Ecs);
        let node = compile(&null, &fields, Naming::Ecs);
        for (json, expected) in [
            (r#"{"process":{"args":["a"]}}"#, false),
            (r#"{"process":{"args":[]}}"#, true),
        ] {
            assert_eq!(
                node.eval(&mut fields.slots(&View::of(&json_event(json)))),
                expected,
                "{json}"
            );
        }
        // ES|QL: a field with several values is null, as a missing one; the same name
        // read by an EQL rule in the same replay still has its values.
        let esql = Pred::Atom(Atom::new(
            "process.args",
            Op::Equals,
            false,
            true,
            vec![Value::Str("a".into())],
        ));
        let mut fields = Fields::default();
        fields.register(&esql, Naming::EcsSingle);
        fields.register(&esql, Naming::Ecs);
        let single = compile(&esql, &fields, Naming::EcsSingle);
        let any = compile(&esql, &fields, Naming::Ecs);
        for (json, one, some) in [
            (r#"{"process":{"args":["a"]}}"#, true, true),
            (r#"{"process":{"args":"a"}}"#, true, true),
            (r#"{"process":{"args":["a", "b"]}}"#, false, true),
        ] {
            let event = json_event(json);
            assert_eq!(single.eval(&mut fields.slots(&View::of(&event))), one, "{json}");
            assert_eq!(any.eval(&mut fields.slots(&View::of(&event))), some, "{json}");
        }
    }

    #[test]
    fn ecs_names_of_flattened_keys() {
        assert_eq!(ecs_name("process.args[3]").as_deref(), Some("process.args"));
        assert_eq!(ecs_name("a[0].b[12].c").as_deref(), Some("a.b.c"));
        assert_eq!(ecs_name("process.args[-1]"), None);
        assert_eq!(ecs_name("R['FROM SAM']"), None);
        assert_eq!(ecs_name("process.name").as_deref(), Some("process.name"));
        let split = |field: &str| {
            let p = Pred::Atom(crate::pred::Atom::new(
                field,
                Op::Equals,
                false,
                false,
                vec![Value::Str("x".into())],
            ));
            match ecs_reading(&p) {
                Pred::Atom(a) => a.field,
                _ => unreachable!(),
            }
        };
        assert_eq!(split("process.args[2]"), "process.args");
        // Only the values the checks split an array field into.
        assert_eq!(split("process.name[2]"), "process.name[2]");
    }

    /// `A == B` of two fields, compiled, as `Pred::eval` reads it (absent reads empty).
    #[test]
    fn fields_compared_with_each_other() {
        use crate::pred::{Atom, Op, Value};
        let same = |negated| {
            Pred::Or(vec![
                Pred::Atom(Atom::new("a", Op::SameAs, negated, true, vec![Value::Str("b".into())])),
                Pred::Atom(Atom::new("c", Op::Equals, false, true, vec![Value::Str("q".into())])),
            ])
        };
        for negated in [false, true] {
            let p = same(negated);
            let mut fields = Fields::default();
            fields.register(&p, Naming::Flat);
            let node = compile(&p, &fields, Naming::Flat);
            for e in [
                &[("a", "x"), ("b", "x")][..],
                &[("a", "x"), ("b", "X")],
                &[("a", "")],
                &[("b", "x")],
                &[("c", "q"), ("a", "1")],
            ] {
                let event: Event = e.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
                let view = View::of(&event);
                let mut slots = fields.slots(&view);
                assert_eq!(node.eval(&mut slots), p.eval(&event), "{p} on {event:?}");
            }
        }
    }
}

/// A literal prefilter over many rules: for each rule, up to [`REQUIRED`]
/// requirements, each a field and literals one of which must occur in that field's
/// (lower-case) text for the rule's detection to hold. Per event, one pass per indexed
/// field ([`Literals`]) finds the requirements met; the rules that have all of theirs
/// met are worth evaluating. Rules without a requirement are always evaluated.
#[derive(Debug, Default)]
pub struct Index {
    /// Per field slot: its literals and, per literal, the requirements it meets (a
    /// rule's position times [`REQUIRED`], plus which of the rule's it is).
    fields: Vec<(usize, Literals, Vec<Vec<usize>>)>,
    /// Per rule (by position), how many requirements it has.
    required: Vec<usize>,
    /// Per slot, its position in `fields` (`None`: not indexed): an event's values
    /// are looked up, rather than each indexed field in the event (a few dozen values,
    /// hundreds of indexed fields).
    at: Vec<Option<usize>>,
    /// Rules with no necessary literal.
    always: Vec<usize>,
}

impl Index {
    /// Indexes `rules` (position, detection) for events whose fields `fields` slots.
    pub fn new(rules: &[(usize, &Pred, Naming)], fields: &mut Fields) -> Index {
        // Per field: its literals in first-seen order, their rules, and where each is.
        type Gathered = (Vec<String>, Vec<Vec<usize>>, HashMap<String, usize>);
        let mut by_field: HashMap<(String, Naming), Gathered> = HashMap::new();
        let mut always = Vec::new();
        let mut required = vec![0; rules.iter().map(|&(rule, ..)| rule + 1).max().unwrap_or(0)];
        // Each rule's requirements on their own, on every core (a corpus's start-up).
        let all: Vec<Vec<Requirement>> = rules
            .par_iter()
            .map(|&(_, pred, _)| necessary(pred, REQUIRED))
            .collect();
        for (&(rule, _, naming), requirements) in rules.iter().zip(all) {
            if requirements.is_empty() {
                always.push(rule);
            }
            required[rule] = requirements.len();
            for (k, pairs) in requirements.into_iter().enumerate() {
                let code = rule * REQUIRED + k;
                for (field, literal) in pairs {
                    let (patterns, owners, at) = by_field.entry((field, naming)).or_default();
                    match at.get(&literal) {
                        Some(&i) => owners[i].push(code),
                        None => {
                            at.insert(literal.clone(), patterns.len());
                            patterns.push(literal);
                            owners.push(vec![code]);
                        }
                    }
                }
            }
        }
        let mut keys: Vec<_> = by_field.into_iter().collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        let fields = keys
            .into_iter()
            .map(|((field, naming), (patterns, owners, _))| (fields.add(&field, naming), patterns, owners))
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|(slot, patterns, owners)| (slot, Literals::new(&patterns), owners))
            .collect::<Vec<_>>();
        let slots = fields.iter().map(|(slot, ..)| slot + 1).max().unwrap_or(0);
        let mut at = vec![None; slots];
        for (i, (slot, ..)) in fields.iter().enumerate() {
            at[*slot] = Some(i);
        }
        Index {
            fields,
            required,
            at,
            always,
        }
    }

    /// The rules worth evaluating on an event (each once, in no particular order).
    pub fn candidates(&self, slots: &mut Slots, out: &mut Vec<usize>) {
        out.clear();
        for position in 0..slots.values.len() {
            let Some(&Some(field)) = self.at.get(slots.values[position].0) else {
                continue;
            };
            let (_, literals, owners) = &self.fields[field];
            let text = slots.lower_at(position);
            literals.find(text.as_bytes(), |i| out.extend_from_slice(&owners[i]));
        }
        // The requirements met, each once, by rule: a rule all of whose are met stays.
        out.sort_unstable();
        out.dedup();
        let mut kept = 0;
        let mut i = 0;
        while i < out.len() {
            let rule = out[i] / REQUIRED;
            let mut met = 0;
            while i < out.len() && out[i] / REQUIRED == rule {
                met += 1;
                i += 1;
            }
            if met == self.required[rule] {
                out[kept] = rule;
                kept += 1;
            }
        }
        out.truncate(kept);
        out.extend_from_slice(&self.always);
    }
}

/// The most requirements indexed per rule: two rule out most of the rules one lets
/// through (an `Image` ending and a `CommandLine` word, where the image alone is
/// common).
const REQUIRED: usize = 2;

/// Field-literal pairs (literals lower-case, non-empty), one of which occurs in its
/// field's lower-case text whenever `pred` holds.
type Requirement = Vec<(String, String)>;

/// How selective a requirement is: the length of its shortest literal (a short one
/// occurs in many texts).
fn selectivity(r: &Requirement) -> usize {
    r.iter().map(|(_, l)| l.len()).min().unwrap_or(0)
}

/// The most selective requirements of `pred` (at most `n`, distinct, best first): each
/// must be met for `pred` to hold.
fn necessary(pred: &Pred, n: usize) -> Vec<Requirement> {
    let mut all = requirements(pred);
    // Best first; of equals, the one written last (as `max_by_key` picks).
    all.reverse();
    all.sort_by_key(|r| std::cmp::Reverse(selectivity(r)));
    let mut out: Vec<Requirement> = Vec::new();
    for r in all {
        if out.len() == n {
            break;
        }
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// The requirements fpx knows of `pred`, in the order they are written.
fn requirements(pred: &Pred) -> Vec<Requirement> {
    match pred {
        // Every value test needs its value in the text (`has` too: a term is a substring);
        // `has_all` needs each of its values, any one of which will do.
        Pred::Atom(a) if !a.negated && a.op == Op::HasAll => a
            .values
            .iter()
            .map(|v| v.text().to_ascii_lowercase())
            .filter(|l| !l.is_empty())
            .max_by_key(String::len)
            .map(|l| vec![(a.field.clone(), l)])
            .into_iter()
            .collect(),
        // A datetime equals texts other than its own (`2024-01-01 00:00`): no literal.
        // Nor does an absent field hold one (Sigma's `null`).
        Pred::Atom(a) if a.values.iter().any(Value::is_datetime) || a.is_null_test() => Vec::new(),
        Pred::Atom(a)
            if !a.negated
                && matches!(
                    a.op,
                    Op::Equals
                        | Op::Contains
                        | Op::StartsWith
                        | Op::EndsWith
                        | Op::In
                        | Op::Has
                        | Op::HasPrefix
                        | Op::HasSuffix
                        | Op::HasAny
                ) =>
        {
            let pairs: Requirement = a
                .values
                .iter()
                .map(|v| (a.field.clone(), v.text().to_ascii_lowercase()))
                .collect();
            (!pairs.is_empty() && pairs.iter().all(|(_, l)| !l.is_empty()))
                .then_some(pairs)
                .into_iter()
                .collect()
        }
        Pred::Atom(a) if !a.negated && a.op == Op::MatchesRegex => regex_necessary(a.value().text())
            .map(|literals| literals.into_iter().map(|l| (a.field.clone(), l)).collect())
            .into_iter()
            .collect(),
        // Each conjunct's requirements are the conjunction's.
        Pred::And(items) => items.iter().flat_map(requirements).collect(),
        // Every branch must meet one: the most selective of each, any one of which.
        Pred::Or(items) => {
            let mut pairs = Vec::new();
            for item in items {
                let Some(best) = necessary(item, 1).pop() else {
                    return Vec::new();
                };
                pairs.extend(best);
            }
            (!pairs.is_empty()).then_some(pairs).into_iter().collect()
        }
        _ => Vec::new(),
    }
}

/// Literals (lower-case, non-empty), one of which occurs in a text's lower-case form
/// whenever the regular expression finds a match in it; `None` when fpx knows none.
fn regex_necessary(pattern: &str) -> Option<Vec<String>> {
    // The same syntax and defaults as `regex::Regex::new`.
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let literals = hir_necessary(&hir)?;
    let literals: Vec<String> = literals
        .into_iter()
        .map(|l| String::from_utf8(l).ok())
        .collect::<Option<_>>()?;
    (!literals.is_empty() && literals.iter().all(|l| !l.is_empty())).then_some(literals)
}

/// Byte strings (lower-case), one of which every match of `hir` contains.
fn hir_necessary(hir: &regex_syntax::hir::Hir) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Literal(_) | HirKind::Class(_) => fixed(hir).map(|l| vec![l]),
        HirKind::Capture(c) => hir_necessary(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => hir_necessary(&r.sub),
        HirKind::Alternation(branches) => {
            let mut all = Vec::new();
            for b in branches {
                all.extend(hir_necessary(b)?);
            }
            Some(all)
        }
        HirKind::Concat(items) => {
            // A run of adjacent fixed pieces is one literal; any item's own literals
            // also do. The candidate whose shortest literal is longest is kept.
            let mut candidates: Vec<Vec<Vec<u8>>> = Vec::new();
            let mut run: Vec<u8> = Vec::new();
            for item in items {
                match fixed(item) {
                    Some(piece) => run.extend(piece),
                    None => {
                        if !run.is_empty() {
                            candidates.push(vec![std::mem::take(&mut run)]);
                        }
                        candidates.extend(hir_necessary(item));
                    }
                }
            }
            if !run.is_empty() {
                candidates.push(vec![run]);
            }
            candidates
                .into_iter()
                .filter(|c| c.iter().all(|l| !l.is_empty()))
                .max_by_key(|c| c.iter().map(Vec::len).min().unwrap_or(0))
        }
        _ => None,
    }
}

/// The one text (lower-case) `hir` matches, up to ASCII case: a literal, or a class of
/// one character or of one ASCII letter in both cases.
fn fixed(hir: &regex_syntax::hir::Hir) -> Option<Vec<u8>> {
    use regex_syntax::hir::{Class, HirKind};
    match hir.kind() {
        HirKind::Literal(l) => Some(l.0.to_ascii_lowercase()),
        HirKind::Class(Class::Unicode(c)) => {
            let chars: Vec<char> = c.iter().flat_map(|r| r.start()..=r.end()).take(3).collect();
            let one = match chars[..] {
                [c] => c,
                [a, b] if a.is_ascii_alphabetic() && a.eq_ignore_ascii_case(&b) => a,
                _ => return None,
            };
            Some(one.to_string().to_ascii_lowercase().into_bytes())
        }
        HirKind::Class(Class::Bytes(c)) => {
            let bytes: Vec<u8> = c.iter().flat_map(|r| r.start()..=r.end()).take(3).collect();
            match bytes[..] {
                [b] => Some(vec![b.to_ascii_lowercase()]),
                [a, b] if a.is_ascii_alphabetic() && a.eq_ignore_ascii_case(&b) => Some(vec![a.to_ascii_lowercase()]),
                _ => None,
            }
        }
        _ => None,
    }
}
