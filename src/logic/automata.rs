//! Deciding a field's text tests with automata: every test is written as a regular
//! expression and run by a lazy DFA, all of them in step. Texts that leave every
//! automaton in the same state (and with the same tests matched so far) behave the same
//! from there on, so a search needs one text per tuple of states. That makes two exact
//! searches:
//!
//! - [`fixed_case`]: a positive `=~` fixes the text up to the case of its ASCII letters,
//!   2^n texts for n letters; walking them letter by letter over both cases at once
//!   keeps a number of texts bounded by the automata, not by 2^n.
//! - [`free`]: any text. A breadth-first search over tuples, one character at a time,
//!   from an alphabet that has one character of every class the patterns tell apart
//!   (every ASCII character, and one character of each stretch of Unicode that the
//!   patterns' character classes do not split). It finds the shortest text passing the
//!   tests, or proves there is none, unless it meets its budget.

use regex_automata::hybrid::LazyStateID;
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input};
use rustc_hash::FxHashMap as HashMap;

use super::field::{FieldResult, Lit};
use super::formula::{Basic, Kind};

/// Most state tuples kept over a whole search before the answer is `Unknown`.
const MAX_TUPLES: usize = 200_000;
/// Most automaton steps (tuples times alphabet) of a free search.
const MAX_STEPS: usize = 20_000_000;
/// Most automaton steps of all the free searches of one decision (`sat`): a formula
/// whose search tries many truth assignments of many regular expressions on one field
/// (a Sigma rule's branches of `?` wildcards, read under `not`) is `Unknown` after it,
/// not minutes later.
pub(crate) const MAX_DECISION_STEPS: usize = 20_000_000;

thread_local! {
    /// Automaton steps the current decision may still take (see [`MAX_DECISION_STEPS`]).
    static STEPS_LEFT: std::cell::Cell<usize> = const { std::cell::Cell::new(MAX_DECISION_STEPS) };
}

/// Starts a decision's step budget (each `sat` call is one decision, on one thread).
pub(crate) fn start_decision() {
    STEPS_LEFT.with(|left| left.set(MAX_DECISION_STEPS));
}

/// One test as an automaton: the DFA, its cache, and whether the test must hold.
type Automaton = (DFA, Cache, bool);

/// The automata of the text tests among `lits`, or the answer when a test decides it
/// alone; numeric tests are left to `fixed` (their truth on every candidate text, when
/// that is known) or refused (`None`).
///
/// The tests that must fail are one automaton, of their alternation: "none of them
/// matches" is "the alternation does not match", and its state says all that their
/// states together say about what may follow. A rule's list of hundreds of values read
/// under `not` is then one automaton stepped per character, not hundreds.
fn automata_of(lits: &[Lit], fixed: Option<&str>) -> Result<(Vec<Automaton>, Vec<String>), FieldResult> {
    let mut automata: Vec<Automaton> = Vec::new();
    let mut patterns = Vec::new();
    let mut must_fail = Vec::new();
    for &(b, pos) in lits {
        if b.kind.is_numeric() || b.time {
            match fixed {
                // Digits have no case: the test's truth is the same on every variant.
                Some(value) if b.eval(value) != pos => return Err(FieldResult::Unsat),
                Some(_) => continue,
                None => return Err(FieldResult::Unknown),
            }
        }
        let p = pattern(b);
        let Some(dfa) = automaton(&p) else {
            // A pattern the regex engine refuses matches nothing (as `Pred::eval` reads it).
            if pos {
                return Err(FieldResult::Unsat);
            }
            continue;
        };
        if pos {
            let cache = dfa.create_cache();
            automata.push((dfa, cache, pos));
            patterns.push(p);
        } else {
            must_fail.push((dfa, p));
        }
    }
    let alternation = match must_fail.len() {
        0 | 1 => None,
        _ => {
            let joined = must_fail
                .iter()
                .map(|(_, p)| format!("(?:{p})"))
                .collect::<Vec<_>>()
                .join("|");
            automaton(&joined).map(|dfa| (dfa, joined))
        }
    };
    // Otherwise (one test, or an alternation too large for the engine) one automaton each.
    if let Some(one) = alternation {
        must_fail = vec![one];
    }
    for (dfa, p) in must_fail {
        let cache = dfa.create_cache();
        automata.push((dfa, cache, false));
        patterns.push(p);
    }
    Ok((automata, patterns))
}

/// Decides the literals when the text is `value` up to the case of its ASCII letters.
pub(crate) fn fixed_case(value: &str, lits: &[Lit]) -> FieldResult {
    match automata_of(lits, Some(value)) {
        Ok((mut automata, _)) => verified(walk(value, &mut automata), lits),
        Err(answer) => answer,
    }
}

/// The literals of a [`free`] question, as its cache keys them (the field does not
/// matter: they are all on one).
type FreeKey = Vec<(Kind, bool, bool, bool, String, bool)>;

/// Most answers [`free`] keeps per thread (then it starts over).
const MAX_CACHED: usize = 50_000;

thread_local! {
    /// Answers of [`free`] and the automaton steps each took: the rules of a corpus ask
    /// the same questions of their shared filters many times (FPX105, FPX108, FPX304
    /// of each rule, rule after rule).
    static FREE: std::cell::RefCell<HashMap<FreeKey, (FieldResult, usize)>> = std::cell::RefCell::new(HashMap::default());
}

/// Decides the literals (text tests and regular expressions, no numbers) over every text.
/// A question asked before is answered from the cache as the search would answer it
/// now: the same answer, and the same steps taken from the decision's budget (or
/// `Unknown`, when what is left of the budget would not have let it finish).
pub(crate) fn free(lits: &[Lit]) -> FieldResult {
    let key: FreeKey = lits
        .iter()
        .map(|(b, pos)| (b.kind, b.cs, b.time, b.other.is_some(), b.value.clone(), *pos))
        .collect();
    let left = STEPS_LEFT.with(std::cell::Cell::get);
    if let Some((answer, steps)) = FREE.with(|cache| cache.borrow().get(&key).cloned()) {
        if steps <= left {
            STEPS_LEFT.with(|l| l.set(left - steps));
            return answer;
        }
        STEPS_LEFT.with(|l| l.set(0));
        return FieldResult::Unknown;
    }
    let (answer, steps) = free_uncached(lits);
    // An answer the budget cut short is not the question's answer: not kept.
    if steps <= left {
        FREE.with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
            cache.insert(key, (answer.clone(), steps));
        });
    }
    answer
}

/// [`free`] without the cache, and the automaton steps its search took.
fn free_uncached(lits: &[Lit]) -> (FieldResult, usize) {
    match automata_of(lits, None) {
        Ok((mut automata, patterns)) => match alphabet(&patterns) {
            Some(alphabet) => {
                let alphabet = distinct_moves(alphabet, &automata);
                if let Some(text) = first_instance(lits, &automata, &patterns, &alphabet) {
                    return (FieldResult::Sat(text), 0);
                }
                let (walk, steps) = search(&alphabet, &mut automata);
                (verified(walk, lits), steps)
            }
            None => (FieldResult::Unknown, 0),
        },
        Err(answer) => (answer, 0),
    }
}

/// The text the search would find, when one test that must hold says it: the first (in
/// the alphabet's order) of that test's shortest matches, if it passes every test. Any
/// text that passes is a match of each test that must hold, so none is shorter than
/// that test's shortest match; of those as short, it is the first; the search finds the
/// first of the shortest texts that pass. (A test with several characters at a place
/// takes the first of the alphabet there; an alternation its first shortest branch.)
/// The search, walking dozens of wildcard patterns in step a character at a time, takes
/// long to reach a path of fifty characters that this reads off one pattern.
fn first_instance(lits: &[Lit], automata: &[Automaton], patterns: &[String], alphabet: &[char]) -> Option<String> {
    automata
        .iter()
        .zip(patterns)
        .filter(|((.., pos), _)| *pos)
        .filter_map(|(_, p)| {
            let hir = regex_syntax::parse(p).ok()?;
            let (text, _) = shortest(&hir, alphabet)?;
            Some(text)
        })
        .find(|text| lits.iter().all(|(b, pos)| b.eval(text) == *pos))
}

/// The first (by `rank`) of the shortest texts `hir` matches, and its ranks; `None` when
/// a character class has no character of the alphabet. Assertions (`^`, `\b`) read as
/// empty: a text they refuse fails the check [`first_instance`] makes of it.
fn shortest(hir: &regex_syntax::hir::Hir, alphabet: &[char]) -> Option<(String, Vec<usize>)> {
    let rank = |c: char| alphabet.iter().position(|&a| a == c);
    use regex_syntax::hir::{Class, HirKind};
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some((String::new(), Vec::new())),
        HirKind::Literal(lit) => {
            let text = String::from_utf8(lit.0.to_vec()).ok()?;
            let ranks = text.chars().map(rank).collect::<Option<Vec<_>>>()?;
            Some((text, ranks))
        }
        HirKind::Class(class) => {
            let holds = |c: char| match class {
                Class::Unicode(u) => u.ranges().iter().any(|r| r.start() <= c && c <= r.end()),
                Class::Bytes(b) => {
                    c.is_ascii() && b.ranges().iter().any(|r| r.start() <= c as u8 && c as u8 <= r.end())
                }
            };
            // The first character of the alphabet in the class.
            let (r, &c) = alphabet.iter().enumerate().find(|(_, c)| holds(**c))?;
            Some((c.to_string(), vec![r]))
        }
        HirKind::Capture(cap) => shortest(&cap.sub, alphabet),
        HirKind::Repetition(rep) => {
            let (text, ranks) = shortest(&rep.sub, alphabet)?;
            let n = rep.min as usize;
            Some((text.repeat(n), ranks.repeat(n)))
        }
        HirKind::Concat(items) => {
            let (mut text, mut ranks) = (String::new(), Vec::new());
            for item in items {
                let (t, r) = shortest(item, alphabet)?;
                text.push_str(&t);
                ranks.extend(r);
            }
            Some((text, ranks))
        }
        HirKind::Alternation(branches) => branches
            .iter()
            .map(|b| shortest(b, alphabet))
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .min_by(|a, b| a.1.len().cmp(&b.1.len()).then_with(|| a.1.cmp(&b.1))),
    }
}

fn verified(walk: Walk, lits: &[Lit]) -> FieldResult {
    match walk {
        Walk::Found(text) if lits.iter().all(|(b, pos)| b.eval(&text) == *pos) => FieldResult::Sat(text),
        Walk::Found(text) => {
            debug_assert!(false, "automata witness {text:?} fails {lits:?}");
            FieldResult::Unknown
        }
        Walk::None => FieldResult::Unsat,
        Walk::GaveUp => FieldResult::Unknown,
    }
}

/// Most compiled patterns [`automaton`] keeps per thread (then it starts over).
const MAX_COMPILED: usize = 4_096;

thread_local! {
    /// Patterns compiled so far: a corpus asks about the same wildcard lists in many
    /// questions (FPX304's search asks about one rule's dozens of patterns at every
    /// step), and compiling is most of what a question over many patterns costs.
    static COMPILED: std::cell::RefCell<rustc_hash::FxHashMap<String, Option<DFA>>> =
        std::cell::RefCell::new(rustc_hash::FxHashMap::default());
}

/// A lazy DFA that finds a match anywhere, or `None` when the pattern does not compile
/// (compiled once per thread; a clone shares the compiled program).
fn automaton(pattern: &str) -> Option<DFA> {
    COMPILED.with(|compiled| {
        let mut compiled = compiled.borrow_mut();
        if let Some(dfa) = compiled.get(pattern) {
            return dfa.clone();
        }
        if compiled.len() >= MAX_COMPILED {
            compiled.clear();
        }
        let dfa = compile(pattern);
        compiled.insert(pattern.to_string(), dfa.clone());
        dfa
    })
}

fn compile(pattern: &str) -> Option<DFA> {
    DFA::builder()
        .configure(
            DFA::config()
                .unicode_word_boundary(true)
                .cache_capacity(16 << 20)
                .minimum_cache_clear_count(Some(0)),
        )
        .syntax(syntax::Config::new())
        .build(pattern)
        .ok()
}

/// The test `b` as a regular expression with the same matches (ASCII-only case folding,
/// term boundaries of `has` as bytes that are not ASCII letters or digits).
fn pattern(b: &Basic) -> String {
    if b.kind == Kind::Regex {
        return b.value.clone();
    }
    let mut lit = String::new();
    for c in b.value.chars() {
        if !b.cs && c.is_ascii_alphabetic() {
            lit.push_str(&format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase()));
        } else {
            lit.push_str(&regex_syntax::escape(c.encode_utf8(&mut [0; 4])));
        }
    }
    let term = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let before = if term(b.value.chars().next()) {
        r"(?:\A|[^0-9A-Za-z])"
    } else {
        ""
    };
    let after = if term(b.value.chars().last()) {
        r"(?:[^0-9A-Za-z]|\z)"
    } else {
        ""
    };
    match b.kind {
        Kind::Eq => format!(r"\A{lit}\z"),
        Kind::Prefix => format!(r"\A{lit}"),
        Kind::Suffix => format!(r"{lit}\z"),
        Kind::Has => format!("{before}{lit}{after}"),
        Kind::HasPrefix => format!("{before}{lit}"),
        Kind::HasSuffix => format!("{lit}{after}"),
        _ => lit,
    }
}

enum Walk {
    Found(String),
    None,
    GaveUp,
}

/// Where every automaton is after a prefix. An automaton that has matched stays in the
/// (match-tagged) state it matched in: it has passed, whatever follows.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Tuple {
    states: Vec<LazyStateID>,
}

impl Tuple {
    fn matched(&self, i: usize) -> bool {
        self.states[i].is_match()
    }
}

fn walk(value: &str, automata: &mut [Automaton]) -> Walk {
    let Some(start) = start(automata) else {
        return Walk::GaveUp;
    };
    // Each layer: the tuples after one more byte, each with its parent and the byte.
    let mut layers: Vec<Vec<(Tuple, usize, u8)>> = vec![vec![(start.clone(), 0, 0)]];
    let mut kept = 1;
    let mut stepped = start;
    for &byte in value.as_bytes() {
        let choices: &[u8] = if byte.is_ascii_alphabetic() {
            &[byte.to_ascii_lowercase(), byte.to_ascii_uppercase()]
        } else {
            std::slice::from_ref(&byte)
        };
        let mut next: Vec<(Tuple, usize, u8)> = Vec::new();
        let mut seen: HashMap<Tuple, ()> = HashMap::default();
        for (parent, (tuple, ..)) in layers.last().expect("a first layer").iter().enumerate() {
            for &c in choices {
                if step(
                    tuple,
                    automata,
                    |dfa, cache, s| dfa.next_state(cache, s, c),
                    &mut stepped,
                )
                .is_none()
                {
                    return Walk::GaveUp;
                }
                if !seen.contains_key(&stepped) {
                    seen.insert(stepped.clone(), ());
                    next.push((stepped.clone(), parent, c));
                }
            }
        }
        kept += next.len();
        if kept > MAX_TUPLES {
            return Walk::GaveUp;
        }
        layers.push(next);
    }
    let last = layers.last().expect("a last layer");
    for (i, (tuple, ..)) in last.iter().enumerate() {
        let Some(accepted) = accepts(tuple, automata) else {
            return Walk::GaveUp;
        };
        if accepted {
            // Read the bytes back through the parents.
            let mut bytes = Vec::new();
            let mut at = i;
            for layer in layers.iter().skip(1).rev() {
                let (_, parent, byte) = &layer[at];
                bytes.push(*byte);
                at = *parent;
            }
            bytes.reverse();
            return String::from_utf8(bytes).map_or(Walk::GaveUp, Walk::Found);
        }
    }
    Walk::None
}

/// Every automaton at the start of the text.
fn start(automata: &mut [Automaton]) -> Option<Tuple> {
    let mut start = Tuple { states: Vec::new() };
    for (dfa, cache, _) in automata.iter_mut() {
        start.states.push(
            dfa.start_state_forward(cache, &Input::new("").anchored(Anchored::No))
                .ok()?,
        );
    }
    Some(start)
}

/// Whether the text that led to `tuple`, ended there, passes every test (`None`: an
/// automaton gave up).
fn accepts(tuple: &Tuple, automata: &mut [Automaton]) -> Option<bool> {
    let mut end = tuple.clone();
    step(tuple, automata, |dfa, cache, s| dfa.next_eoi_state(cache, s), &mut end)?;
    Some(automata.iter().enumerate().all(|(i, (.., pos))| end.matched(i) == *pos))
}

/// Breadth first over the tuples, one character of `alphabet` at a time: the shortest
/// text that passes every test, or proof that none does; its steps count against the
/// decision's budget.
fn search(alphabet: &[char], automata: &mut [Automaton]) -> (Walk, usize) {
    let mut steps = 0usize;
    let walk = search_counted(alphabet, automata, &mut steps);
    STEPS_LEFT.with(|left| left.set(left.get().saturating_sub(steps)));
    (walk, steps)
}

fn search_counted(alphabet: &[char], automata: &mut [Automaton], steps: &mut usize) -> Walk {
    let Some(first) = start(automata) else {
        return Walk::GaveUp;
    };
    // Every tuple found, in the order found, each with its parent and the character
    // that led to it.
    let mut found: indexmap::IndexSet<Tuple, rustc_hash::FxBuildHasher> = indexmap::IndexSet::default();
    let mut how: Vec<(usize, char)> = vec![(0, '\0')];
    found.insert(first.clone());
    let (mut stepped, mut scratch) = (first.clone(), first);
    let mut gave_up = false;
    let budget = STEPS_LEFT.with(std::cell::Cell::get);
    let mut next = 0;
    while next < found.len() {
        let tuple = found.get_index(next).expect("found").clone();
        match accepts(&tuple, automata) {
            Some(true) => {
                let mut text = Vec::new();
                let mut at = next;
                while at != 0 {
                    text.push(how[at].1);
                    at = how[at].0;
                }
                return Walk::Found(text.into_iter().rev().collect());
            }
            Some(false) => {}
            None => gave_up = true,
        }
        for &c in alphabet {
            *steps += automata.len();
            if *steps > MAX_STEPS || *steps > budget || found.len() > MAX_TUPLES {
                return Walk::GaveUp;
            }
            let mut buf = [0; 4];
            let bytes = c.encode_utf8(&mut buf).as_bytes();
            // An automaton that gives up on this character (a Unicode word boundary)
            // leaves the branch unexplored: no proof of "none" after that.
            let mut ok = step(
                &tuple,
                automata,
                |dfa, cache, s| dfa.next_state(cache, s, bytes[0]),
                &mut stepped,
            );
            for &byte in &bytes[1..] {
                ok = ok.and_then(|()| {
                    std::mem::swap(&mut stepped, &mut scratch);
                    step(
                        &scratch,
                        automata,
                        |dfa, cache, s| dfa.next_state(cache, s, byte),
                        &mut stepped,
                    )
                });
            }
            if ok.is_none() {
                gave_up = true;
                continue;
            }
            // A tuple no text can lead on from to a pass (a test that must fail has
            // matched, or one that must match no longer can) is not explored: every
            // tuple after it is as doomed, so what the search finds, and in which
            // order, is unchanged; only proofs of "none" take fewer steps.
            if !doomed(&stepped, automata) && !found.contains(&stepped) {
                found.insert(stepped.clone());
                how.push((next, c));
            }
        }
        next += 1;
    }
    if gave_up { Walk::GaveUp } else { Walk::None }
}

/// Whether no text can take `tuple` to a pass: an automaton whose test must fail has
/// matched (it stays matched), or one whose test must hold is dead (it never will).
fn doomed(tuple: &Tuple, automata: &[Automaton]) -> bool {
    automata
        .iter()
        .zip(&tuple.states)
        .any(|((.., pos), s)| if *pos { s.is_dead() } else { s.is_match() })
}

/// A pattern's cut points (where its classes and literals start and end) and whether it
/// tests word boundaries.
type Cuts = (Vec<u32>, bool);

/// One character of every class the patterns tell apart: every ASCII character (the
/// readable ones first, for readable witnesses), and the first character of each
/// stretch of non-ASCII characters on which every pattern's classes and literals agree.
fn alphabet(patterns: &[String]) -> Option<Vec<char>> {
    use regex_syntax::hir::{Class, Hir, HirKind, Look};
    fn cuts(hir: &Hir, out: &mut Vec<u32>, word: &mut bool) {
        match hir.kind() {
            HirKind::Literal(lit) => {
                for c in String::from_utf8_lossy(&lit.0).chars() {
                    out.extend([c as u32, c as u32 + 1]);
                }
            }
            HirKind::Class(Class::Unicode(class)) => {
                for r in class.ranges() {
                    out.extend([r.start() as u32, r.end() as u32 + 1]);
                }
            }
            HirKind::Class(Class::Bytes(_)) | HirKind::Empty => {}
            HirKind::Look(look) => {
                *word |= matches!(
                    look,
                    Look::WordUnicode
                        | Look::WordUnicodeNegate
                        | Look::WordStartUnicode
                        | Look::WordEndUnicode
                        | Look::WordStartHalfUnicode
                        | Look::WordEndHalfUnicode
                );
            }
            HirKind::Repetition(rep) => cuts(&rep.sub, out, word),
            HirKind::Capture(cap) => cuts(&cap.sub, out, word),
            HirKind::Concat(items) | HirKind::Alternation(items) => {
                for item in items {
                    cuts(item, out, word);
                }
            }
        }
    }
    thread_local! {
        /// Each pattern's cut points and whether it tests word boundaries, as parsed
        /// once per thread (`None`: it does not parse).
        static CUTS: std::cell::RefCell<rustc_hash::FxHashMap<String, Option<Cuts>>> =
            std::cell::RefCell::new(rustc_hash::FxHashMap::default());
    }
    let mut points = vec![0x80u32];
    let mut word = false;
    for p in patterns {
        let (own, own_word) = CUTS.with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.len() >= MAX_COMPILED && !cache.contains_key(p) {
                cache.clear();
            }
            cache
                .entry(p.clone())
                .or_insert_with(|| {
                    let hir = regex_syntax::parse(p).ok()?;
                    let (mut out, mut word) = (Vec::new(), false);
                    cuts(&hir, &mut out, &mut word);
                    Some((out, word))
                })
                .clone()
        })?;
        points.extend(own);
        word |= own_word;
    }
    if word {
        cuts(&regex_syntax::parse(r"\w").ok()?, &mut points, &mut word);
    }
    points.retain(|&p| p >= 0x80);
    points.sort_unstable();
    points.dedup();
    let ascii = (0u8..0x80).map(char::from);
    let mut out: Vec<char> = ('a'..='z')
        .chain('A'..='Z')
        .chain('0'..='9')
        .chain(
            ascii
                .clone()
                .filter(|c| c.is_ascii_graphic() && !c.is_ascii_alphanumeric()),
        )
        .chain(ascii.filter(|c| !c.is_ascii_graphic()))
        .collect();
    // A stretch that starts in the surrogates starts, for `char`, after them.
    out.extend(
        points
            .into_iter()
            .filter_map(|p| char::from_u32(p).or_else(|| (p < 0xE000).then_some('\u{E000}'))),
    );
    out.dedup();
    Some(out)
}

/// `alphabet` without the ASCII characters that move every automaton as an earlier one
/// does (same byte class in each DFA): the search steps each tuple by every character,
/// and a later character of an earlier one's classes only reaches a tuple already seen,
/// so leaving it out changes nothing found, in the same order, at a fraction of the
/// steps (most tests tell apart a handful of the 128 ASCII characters).
fn distinct_moves(alphabet: Vec<char>, automata: &[Automaton]) -> Vec<char> {
    let mut seen: std::collections::HashSet<Vec<u8>> = std::collections::HashSet::new();
    alphabet
        .into_iter()
        .filter(|&c| {
            if !c.is_ascii() {
                return true;
            }
            let classes: Vec<u8> = automata
                .iter()
                .map(|(dfa, ..)| dfa.byte_classes().get(c as u8))
                .collect();
            seen.insert(classes)
        })
        .collect()
}

/// Every automaton moved by `next` (a byte, or the end of the text), written to `out`
/// (which the caller reuses: most steps reach a tuple already seen, and allocate
/// nothing); `None` when one gives up (a Unicode word boundary on non-ASCII text) or its
/// cache was reset.
fn step(
    tuple: &Tuple,
    automata: &mut [Automaton],
    next: impl Fn(&DFA, &mut Cache, LazyStateID) -> Result<LazyStateID, regex_automata::hybrid::CacheError>,
    out: &mut Tuple,
) -> Option<()> {
    out.states.clear();
    out.states.extend_from_slice(&tuple.states);
    for (i, (dfa, cache, _)) in automata.iter_mut().enumerate() {
        if tuple.matched(i) {
            continue;
        }
        let clears = cache.clear_count();
        let s = next(dfa, cache, tuple.states[i]).ok()?;
        if cache.clear_count() != clears || s.is_quit() || s.is_unknown() {
            return None;
        }
        out.states[i] = s;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(kind: Kind, cs: bool, value: &str) -> Basic {
        Basic {
            field: 0,
            kind,
            cs,
            value: value.into(),
            time: false,
            other: None,
        }
    }

    fn decide(value: &str, lits: &[(Basic, bool)]) -> FieldResult {
        let lits: Vec<Lit> = lits.iter().map(|(b, p)| (b, *p)).collect();
        fixed_case(value, &lits)
    }

    #[test]
    fn many_letters_under_a_regex_are_decided() {
        let upper_first = basic(Kind::Regex, true, "^[A-Z]");
        assert_eq!(
            decide("abcdefghijkl", &[(upper_first.clone(), true)]),
            FieldResult::Sat("Abcdefghijkl".into())
        );
        // Every letter upper case, and yet not all upper case: impossible.
        let all_upper = basic(Kind::Regex, true, "^[A-Z]+$");
        let not_shouting = basic(Kind::Eq, true, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        assert_eq!(
            decide(
                "abcdefghijklmnopqrstuvwxyz",
                &[(all_upper.clone(), true), (not_shouting.clone(), false)]
            ),
            FieldResult::Unsat
        );
        assert_eq!(
            decide("abcdefghijklmnopqrstuvwxyz", &[(all_upper, true)]),
            FieldResult::Sat("ABCDEFGHIJKLMNOPQRSTUVWXYZ".into())
        );
        // 40 letters, alternating case demanded by a regex.
        let value = "ab".repeat(20);
        let alternating = basic(Kind::Regex, true, "^(aB)+$");
        assert_eq!(
            decide(&value, &[(alternating, true)]),
            FieldResult::Sat("aB".repeat(20))
        );
    }

    /// A small deterministic generator: `next(n)` is below `n`.
    fn xorshift(mut state: u64) -> impl FnMut(usize) -> usize {
        move |n| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        }
    }

    /// The tests that must fail, searched as one automaton of their alternation, give
    /// what one automaton per test gives: the same first shortest text, or none.
    #[test]
    fn the_alternation_of_the_tests_that_must_fail_searches_alike() {
        let values = ["?:\\windows\\*.dll", "*\\a?c.dll", "abc", "B", "c.d", "x*y", ""];
        let mut tests: Vec<Basic> = Vec::new();
        for v in values {
            for (kind, cs) in [
                (Kind::Eq, false),
                (Kind::Contains, false),
                (Kind::Suffix, false),
                (Kind::Prefix, true),
                (Kind::Has, false),
            ] {
                tests.push(basic(kind, cs, v));
            }
        }
        tests.extend(
            ["^[a-c]+\\.dll$", "(?i)b{2}", "^.{0,3}$"]
                .iter()
                .map(|r| basic(Kind::Regex, true, r)),
        );
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15u64);
        let (mut found, mut none) = (0, 0);
        for _ in 0..400 {
            let k = 2 + next(8);
            let lits: Vec<(Basic, bool)> = (0..k)
                .map(|i| (tests[next(tests.len())].clone(), i < 2 && next(2) == 0))
                .collect();
            let lits: Vec<Lit> = lits.iter().map(|(b, p)| (b, *p)).collect();
            let Ok((mut joined, patterns)) = automata_of(&lits, None) else {
                continue;
            };
            let mut apart: Vec<Automaton> = lits
                .iter()
                .filter_map(|&(b, pos)| {
                    let dfa = automaton(&pattern(b))?;
                    let cache = dfa.create_cache();
                    Some((dfa, cache, pos))
                })
                .collect();
            let Some(alphabet) = alphabet(&patterns) else { continue };
            let alphabet = distinct_moves(alphabet, &apart);
            STEPS_LEFT.with(|l| l.set(MAX_DECISION_STEPS));
            let (one, _) = search(&alphabet, &mut joined);
            STEPS_LEFT.with(|l| l.set(MAX_DECISION_STEPS));
            let (each, _) = search(&alphabet, &mut apart);
            match (one, each) {
                (Walk::Found(a), Walk::Found(b)) => {
                    assert_eq!(a, b, "{lits:?}");
                    found += 1;
                }
                (Walk::None, Walk::None) => none += 1,
                (Walk::GaveUp, Walk::GaveUp) => {}
                (a, b) => panic!("{:?} joined, {:?} apart: {lits:?}", walked(&a), walked(&b)),
            }
        }
        assert!(found > 50 && none > 10, "{found} found, {none} none");
    }

    fn walked(walk: &Walk) -> Option<Option<&str>> {
        match walk {
            Walk::Found(text) => Some(Some(text)),
            Walk::None => Some(None),
            Walk::GaveUp => None,
        }
    }

    /// The shortcut finds what the search finds: on every set of tests drawn here where
    /// it answers, the search gives the same text.
    #[test]
    fn the_first_shortest_match_is_what_the_search_finds() {
        let values = [
            "?:\\Program Files\\*\\a.exe",
            "?:\\program files (x86)\\*",
            "*\\temp\\?.exe",
            "cmd",
            "CMD.exe",
            "a?b*c",
            "x",
            "",
        ];
        let regexes = [
            "(?i)^[a-z]:\\windows\\",
            "^(ab|b|ba)c$",
            "^(?:zb|ya)q$",
            "(?:Q|p)r",
            "x{2,3}y",
            "\\bword\\b",
            "(?i)[ß]",
            "é+",
        ];
        let mut tests: Vec<Basic> = Vec::new();
        for v in values {
            for (kind, cs) in [
                (Kind::Eq, false),
                (Kind::Contains, true),
                (Kind::Prefix, false),
                (Kind::Suffix, true),
                (Kind::Has, false),
            ] {
                tests.push(basic(kind, cs, v));
            }
            // Wildcards as the front-ends write them: `?` one character, `*` any.
            let re: String = v
                .chars()
                .map(|c| match c {
                    '?' => ".".to_string(),
                    '*' => ".*".to_string(),
                    c => regex_syntax::escape(&c.to_string()),
                })
                .collect();
            tests.push(basic(Kind::Regex, true, &format!("(?is)^{re}$")));
        }
        tests.extend(regexes.iter().map(|r| basic(Kind::Regex, true, r)));
        let mut next = xorshift(0x2545_f491_4f6c_dd1du64);
        let mut answered = 0;
        for _ in 0..600 {
            let k = 1 + next(5);
            let lits: Vec<(Basic, bool)> = (0..k)
                .map(|i| (tests[next(tests.len())].clone(), i == 0 || next(3) == 0))
                .collect();
            let lits: Vec<Lit> = lits.iter().map(|(b, p)| (b, *p)).collect();
            let Ok((mut automata, patterns)) = automata_of(&lits, None) else {
                continue;
            };
            let Some(alphabet) = alphabet(&patterns) else { continue };
            let alphabet = distinct_moves(alphabet, &automata);
            let Some(quick) = first_instance(&lits, &automata, &patterns, &alphabet) else {
                continue;
            };
            STEPS_LEFT.with(|l| l.set(MAX_DECISION_STEPS));
            let (walk, _) = search(&alphabet, &mut automata);
            match walk {
                Walk::Found(text) => assert_eq!(quick, text, "{lits:?}"),
                _ => panic!("the search found no text, the shortcut {quick:?}: {lits:?}"),
            }
            answered += 1;
        }
        assert!(answered > 100, "{answered}");
    }

    #[test]
    fn text_tests_become_patterns_with_the_same_matches() {
        let cases = [
            (basic(Kind::Has, false, "exe"), "cmd.EXE", true),
            (basic(Kind::Has, false, "exe"), "cmdexe", false),
            (basic(Kind::HasPrefix, true, "Ab"), "x Abc", true),
            (basic(Kind::HasSuffix, true, "Ab"), "x Abc", false),
            (basic(Kind::Contains, false, "a.b"), "xA.By", true),
            (basic(Kind::Contains, false, "a.b"), "xAxBy", false),
            (basic(Kind::Eq, false, "é"), "é", true),
            (basic(Kind::Suffix, true, ".exe"), "a.EXE", false),
            (basic(Kind::Has, false, "-"), "a-b", true),
            (basic(Kind::Has, false, ""), "", true),
        ];
        for (b, text, expected) in cases {
            assert_eq!(b.eval(text), expected, "{b:?} on {text}");
            let dfa = automaton(&pattern(&b)).unwrap();
            let re = regex::Regex::new(&pattern(&b)).unwrap();
            assert_eq!(re.is_match(text), expected, "{} on {text}", pattern(&b));
            drop(dfa);
        }
    }
}
