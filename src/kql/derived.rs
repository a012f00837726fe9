//! Computed columns that fpx lowers exactly: a condition on one is a condition on the
//! column it is computed from. Each is recognised on the syntax tree of its definition
//! (`extend X = extract(...)`, `parse C with ...`) and compares the way KQL computes it:
//! - [`ParsedRest`]: the last column of a simple `parse` (its `contains`);
//! - [`SplitPart`]: `split(C, sep)[0]` or `[-1]` (`==`, `in`);
//! - [`SuffixExtract`]: `extract(".*(G)$", n, C)` (`==`, `in`);
//! - [`extracted`]: `extract(regex, n, C)` whose group is never empty (emptiness);
//! - [`counted`]: `countof(C, "text")` (`<`, `<=`, `==`, `>=`, `>`).

use super::ast::{Expr, LiteralKind, ParsePart};
use super::literal::Src;
use crate::pred::{Atom, Op, Pred, Value};

/// A case change applied to a column (`tolower(C)`, `toupper(C)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fold {
    Lower,
    Upper,
}

/// A column written plainly (no property path): what `extract`, `split` and `countof`
/// are lowered on.
fn plain_column(e: &Expr) -> Option<String> {
    match e {
        Expr::Name(n) if n.span.len() == n.name.len() => Some(n.name.clone()),
        _ => None,
    }
}

/// The last column of a `parse C with * "a" X "b" Y "c" Z`: the rest of C's text after
/// the first "a", the first "b" after it and the first "c" after that (empty when there
/// is none). Whether Z contains a value is then whether C matches `a.*b.*c.*value`: an
/// occurrence after some such chain is one after the first chain, which starts earliest.
#[derive(Debug, Clone)]
pub(super) struct ParsedRest {
    pub column: String,
    /// The regex (without flags) of what comes before the rest.
    before: String,
}

impl ParsedRest {
    /// The last column of a simple `parse` (`C with * "a" X "b" ... "c" Z`, every column
    /// but a string, no text after Z), and what it is made of.
    pub fn of(source: &Expr, pattern: &[ParsePart], src: &Src) -> Option<(String, ParsedRest)> {
        let column = plain_column(source)?;
        // The regex of what precedes the column read last, and that column if it has not
        // been followed by anything yet.
        let mut before = String::new();
        let mut last: Option<String> = None;
        for part in pattern {
            match part {
                ParsePart::Skip(_) => {
                    last = None;
                    before.push_str(".*");
                }
                ParsePart::Text(text) => {
                    let delimiter = src.string(text)?;
                    if last.take().is_some() {
                        before.push_str(".*");
                    }
                    before.push_str(&regex::escape(&delimiter));
                }
                ParsePart::Column { name, ty } => {
                    // Two columns in a row, or a column first: not the simple form.
                    if last.is_some() || before.is_empty() {
                        return None;
                    }
                    if ty.as_ref().is_some_and(|ty| src.text(ty).trim() != "string") {
                        return None;
                    }
                    last = Some(name.name.clone());
                }
            }
        }
        let name = last?;
        if !before.starts_with(".*") || before.ends_with(".*") {
            return None;
        }
        Some((name, ParsedRest { column, before }))
    }

    /// `Z contains v` (any case or `_cs`, negated or not) as a regex test of the column;
    /// `None` for another operator or an empty value.
    pub fn contains(&self, atom: &Atom) -> Option<Atom> {
        let [value] = atom.values.as_slice() else {
            return None;
        };
        let value = value.text();
        if atom.op != Op::Contains || value.is_empty() {
            return None;
        }
        // fpx's (and KQL's) case-insensitive `contains` folds ASCII letters only.
        let needle: String = value
            .chars()
            .map(|c| {
                if c.is_ascii_alphabetic() && !atom.case_sensitive {
                    format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase())
                } else {
                    regex::escape(&c.to_string())
                }
            })
            .collect();
        Some(Atom {
            span: atom.span.clone(),
            ..Atom::new(
                &self.column,
                Op::MatchesRegex,
                atom.negated,
                true,
                vec![Value::Str(format!("(?s){}.*{needle}", self.before))],
            )
        })
    }
}

/// `countof(C, "text")` (or with `"normal"`) of a text no two occurrences of which can
/// overlap (no proper prefix of it is also a suffix): then KQL's count of possibly
/// overlapping occurrences is the count of separate ones. The column and the text.
pub(super) fn counted(definition: &Expr, src: &Src) -> Option<(String, String)> {
    let ("countof", args) = definition.called()? else {
        return None;
    };
    let (column, text) = match args {
        [column, text] => (column, text),
        [column, text, kind] if src.string(&kind.value).as_deref() == Some("normal") => (column, text),
        _ => return None,
    };
    let column = plain_column(&column.value)?;
    let text = src.string(&text.value)?;
    let overlaps = (1..text.len()).any(|i| text.is_char_boundary(i) && text.ends_with(&text[..i]));
    (!text.is_empty() && !overlaps).then_some((column, text))
}

/// `N op k` where `N` counts the occurrences of `text` in `column` (see [`counted`]):
/// "at least m occurrences" is `column matches regex "(?s)(?:.*text){m}"`.
pub(super) fn count_compared(column: &str, text: &str, atom: &Atom) -> Option<Pred> {
    let [Value::Num(k)] = atom.values.as_slice() else {
        return None;
    };
    let k: u32 = k.parse().ok().filter(|k| *k < 1_000)?;
    let at_least = |m: u32| -> Pred {
        if m == 0 {
            return Pred::True;
        }
        Pred::Atom(Atom {
            span: atom.span.clone(),
            ..Atom::new(
                column,
                Op::MatchesRegex,
                false,
                true,
                vec![Value::Str(format!("(?s)(?:.*{}){{{m}}}", regex::escape(text)))],
            )
        })
    };
    let not = |p: Pred| Pred::Not(Box::new(p));
    let holds = match atom.op {
        Op::Gt => at_least(k + 1),
        Op::Ge => at_least(k),
        Op::Lt => not(at_least(k)),
        Op::Le => not(at_least(k + 1)),
        Op::Equals => Pred::And(vec![at_least(k), not(at_least(k + 1))]),
        _ => return None,
    };
    Some(if atom.negated { not(holds) } else { holds })
}

/// The first or last part of a column split at a separator: `split(C, sep)[0]`,
/// `tostring(split(C, sep)[-1])`, also lower- or upper-cased.
#[derive(Debug, Clone)]
pub(super) struct SplitPart {
    pub column: String,
    sep: String,
    first: bool,
    fold: Option<Fold>,
}

impl SplitPart {
    /// `split(C, "sep")[0]` or `[-1]`, inside `tostring(...)`, `tolower(...)`,
    /// `toupper(...)`.
    pub fn of(definition: &Expr, src: &Src) -> Option<SplitPart> {
        let mut e = definition;
        let mut fold = None;
        while let Some((f, [arg])) = e.called() {
            match f.to_ascii_lowercase().as_str() {
                "tolower" => fold = fold.or(Some(Fold::Lower)),
                "toupper" => fold = fold.or(Some(Fold::Upper)),
                "tostring" => {}
                _ => return None,
            }
            e = &arg.value;
        }
        let Expr::Index { object, index, .. } = e else {
            return None;
        };
        let first = match index.as_ref() {
            Expr::Literal(l) if l.kind == LiteralKind::Number && src.text(&l.span) == "0" => true,
            Expr::Unary { op, operand } if op.name == "-" => match operand.as_ref() {
                Expr::Literal(l) if l.kind == LiteralKind::Number && src.text(&l.span) == "1" => false,
                _ => return None,
            },
            _ => return None,
        };
        let ("split", [column, sep]) = object.called()? else {
            return None;
        };
        let column = plain_column(&column.value)?;
        let sep = src.string(&sep.value).filter(|s| !s.is_empty())?;
        Some(SplitPart {
            column,
            sep,
            first,
            fold,
        })
    }

    /// `P == v`, `P in (...)` (any case, negated or not) as conditions on the column:
    /// the first part is `v` exactly when C is `v` or starts with `v` then the
    /// separator, provided the separator does not occur in `v` + separator before `v`
    /// ends (the last part alike, at the end). `None` for another operator or value.
    pub fn compared(&self, atom: &Atom) -> Option<Pred> {
        if !matches!(atom.op, Op::Equals | Op::In) {
            return None;
        }
        let mut case_sensitive = atom.case_sensitive;
        let mut values = Vec::new();
        for value in &atom.values {
            let Value::Str(v) = value else {
                return None;
            };
            let clean = if self.first {
                format!("{v}{}", self.sep).find(&self.sep) == Some(v.len())
            } else {
                format!("{}{v}", self.sep).rfind(&self.sep) == Some(0)
            };
            if !clean || !v.is_ascii() {
                return None;
            }
            // `tolower(...) == v` holds only for a `v` without upper-case letters, and
            // then exactly when the part is `v` in any case.
            match self.fold {
                Some(Fold::Lower) if atom.case_sensitive && v.bytes().any(|b| b.is_ascii_uppercase()) => continue,
                Some(Fold::Upper) if atom.case_sensitive && v.bytes().any(|b| b.is_ascii_lowercase()) => continue,
                _ => {}
            }
            values.push(v.clone());
        }
        if self.fold.is_some() {
            case_sensitive = false;
        }
        // `split` finds the separator in its own case: a case-insensitive `startswith`
        // of `v` and a separator with letters would also accept it in another case.
        if !case_sensitive && self.sep.bytes().any(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        let at = |field: &str, op: Op, value: String| {
            Pred::Atom(Atom {
                span: atom.span.clone(),
                ..Atom::new(field, op, false, case_sensitive, vec![Value::Str(value)])
            })
        };
        let any = Pred::Or(
            values
                .into_iter()
                .map(|v| {
                    let edge = if self.first {
                        at(&self.column, Op::StartsWith, format!("{v}{}", self.sep))
                    } else {
                        at(&self.column, Op::EndsWith, format!("{}{v}", self.sep))
                    };
                    Pred::Or(vec![at(&self.column, Op::Equals, v), edge])
                })
                .collect(),
        );
        Some(if atom.negated { Pred::Not(Box::new(any)) } else { any })
    }
}

/// `extract("regex", n, C)` whose group n takes part in every match and is never empty
/// (a capture at the top level of the regex, of minimum length 1): its value is empty
/// exactly when C does not match. The regex and C.
pub(super) fn extracted(definition: &Expr, src: &Src) -> Option<(String, String)> {
    use regex_syntax::hir::{Hir, HirKind};
    let (pattern, group, column) = extract_arguments(definition, src)?;
    let hir = regex_syntax::Parser::new().parse(&pattern).ok()?;
    // Group 0 is the whole match; another group must sit in the top-level sequence.
    let mandatory = |h: &Hir| match h.kind() {
        HirKind::Capture(c) => c.index == group && h.properties().minimum_len().is_some_and(|n| n > 0),
        _ => false,
    };
    let ok = match hir.kind() {
        _ if group == 0 => hir.properties().minimum_len().is_some_and(|n| n > 0),
        HirKind::Concat(parts) => parts.iter().any(mandatory),
        _ => mandatory(&hir),
    };
    ok.then_some((pattern, column))
}

/// `extract("regex", n, C)`: the regex, the group and C (a column or property).
fn extract_arguments(definition: &Expr, src: &Src) -> Option<(String, u32, String)> {
    let ("extract", [pattern, group, column]) = definition.called()? else {
        return None;
    };
    let pattern = src.string(&pattern.value)?;
    let group: u32 = match &group.value {
        Expr::Literal(l) if l.kind == LiteralKind::Number => src.text(&l.span).parse().ok()?,
        _ => return None,
    };
    let column = src.path(&column.value)?;
    Some((pattern, group, column))
}

/// `extract(".*(G)$", n, C)` (group n the capture of G): the last part of C's text in
/// G's language. KQL's regexes (RE2) take the leftmost match, and `.*` cannot cross a
/// line end, so the match starts on C's last line; the greedy `.*` then leaves the
/// shortest suffix of C that G matches whole. When no text of G's language has a line
/// end, the value is `v` exactly when C ends with `v`, for a `v` G matches whole and
/// none of whose shorter suffixes it does ("clean"); any other `v` is never the value.
#[derive(Debug, Clone)]
pub(super) struct SuffixExtract {
    pub column: String,
    /// The whole regex (its match, or not, is the value's emptiness).
    pattern: String,
    /// `^(?:G)\z`: whether a text is in G's language.
    whole: regex::Regex,
    /// Whether G's language has the empty text.
    empty: bool,
    /// Whether G's language is closed under changing the case of ASCII letters (so a
    /// case-insensitive comparison is one over the case variants of a clean value).
    case_invariant: bool,
}

impl SuffixExtract {
    /// [`SuffixExtract`] of a definition, when it is one.
    pub fn of(definition: &Expr, src: &Src) -> Option<SuffixExtract> {
        use regex_syntax::hir::{Class, Dot, Hir, HirKind, Look};
        let (pattern, group, column) = extract_arguments(definition, src)?;
        let hir = regex_syntax::Parser::new().parse(&pattern).ok()?;
        let HirKind::Concat(parts) = hir.kind() else {
            return None;
        };
        let [any, capture, end] = parts.as_slice() else {
            return None;
        };
        let HirKind::Repetition(rep) = any.kind() else {
            return None;
        };
        let HirKind::Capture(cap) = capture.kind() else {
            return None;
        };
        let greedy_dot_star =
            rep.min == 0 && rep.max.is_none() && rep.greedy && *rep.sub == Hir::dot(Dot::AnyCharExceptLF);
        if !greedy_dot_star || cap.index != group || *end != Hir::look(Look::End) {
            return None;
        }
        // Whether some text of the language has a line end (or G looks at its context:
        // `^`, `\b`, ...); whether it is closed under ASCII case changes (literals without
        // letters, classes with both cases or none).
        fn walk(h: &Hir, line_end: &mut bool, case_invariant: &mut bool) {
            match h.kind() {
                HirKind::Literal(l) => {
                    *line_end |= l.0.contains(&b'\n');
                    *case_invariant &= !l.0.iter().any(u8::is_ascii_alphabetic);
                }
                HirKind::Class(Class::Unicode(c)) => {
                    let has = |ch: char| c.ranges().iter().any(|r| r.start() <= ch && ch <= r.end());
                    *line_end |= has('\n');
                    *case_invariant &= (b'a'..=b'z').all(|b| has(b as char) == has(b.to_ascii_uppercase() as char));
                }
                HirKind::Class(Class::Bytes(c)) => {
                    let has = |b: u8| c.ranges().iter().any(|r| r.start() <= b && b <= r.end());
                    *line_end |= has(b'\n');
                    *case_invariant &= (b'a'..=b'z').all(|b| has(b) == has(b.to_ascii_uppercase()));
                }
                HirKind::Empty => {}
                HirKind::Look(_) => *line_end = true,
                HirKind::Repetition(r) => walk(&r.sub, line_end, case_invariant),
                HirKind::Capture(c) => walk(&c.sub, line_end, case_invariant),
                HirKind::Concat(hs) | HirKind::Alternation(hs) => {
                    hs.iter().for_each(|h| walk(h, line_end, case_invariant))
                }
            }
        }
        let (mut line_end, mut case_invariant) = (false, true);
        walk(&cap.sub, &mut line_end, &mut case_invariant);
        if line_end {
            return None;
        }
        let whole = regex::Regex::new(&format!("^(?:{})\\z", cap.sub)).ok()?;
        Some(SuffixExtract {
            column,
            empty: whole.is_match(""),
            pattern,
            whole,
            case_invariant,
        })
    }

    /// `X == v`, `X in (...)`, any case, negated or not: `C endswith v` for a clean `v`,
    /// `false` for another, `C` not matching the regex for the empty value when G has
    /// no empty text. `None` for another operator or value.
    pub fn compared(&self, atom: &Atom) -> Option<Pred> {
        if !matches!(atom.op, Op::Equals | Op::In) || (!atom.case_sensitive && !self.case_invariant) {
            return None;
        }
        let at = |op: Op, negated: bool, value: &str, cs: bool| {
            Pred::Atom(Atom {
                span: atom.span.clone(),
                ..Atom::new(&self.column, op, negated, cs, vec![Value::Str(value.to_string())])
            })
        };
        let mut any = Vec::new();
        for value in &atom.values {
            let Value::Str(v) = value else {
                return None;
            };
            if v.is_empty() {
                if self.empty {
                    return None;
                }
                any.push(at(Op::MatchesRegex, true, &self.pattern, true));
                continue;
            }
            let shorter = v.char_indices().skip(1).any(|(i, _)| self.whole.is_match(&v[i..]));
            if self.whole.is_match(v) && !shorter {
                any.push(at(Op::EndsWith, false, v, atom.case_sensitive));
            }
        }
        let any = Pred::Or(any);
        Some(if atom.negated { Pred::Not(Box::new(any)) } else { any })
    }
}
