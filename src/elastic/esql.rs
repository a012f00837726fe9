//! ES|QL queries (`FROM indices | WHERE condition | ...`) lowered with Elasticsearch's
//! semantics (ES|QL reference):
//! - D is the `WHERE` conditions before the first command that makes or changes rows or
//!   columns (`STATS` ends D as KQL's `summarize` does; after `EVAL`, `GROK`, `DISSECT`,
//!   `MV_EXPAND`, `RENAME`, `ENRICH` the conditions are not read: noted, D approximated);
//!   `KEEP`, `DROP`, `SORT`, `LIMIT` change nothing D says;
//! - `==`, `!=`, `IN`: exact and case-sensitive; `LIKE`: wildcards `*` and `?`, a
//!   backslash escaping the next character, case-sensitive (`TO_LOWER(f) LIKE "..."`:
//!   case-insensitive); `RLIKE`: a Lucene regular expression matched whole;
//!   `STARTS_WITH`, `ENDS_WITH`; `IS NULL`, `IS NOT NULL`;
//! - null: a comparison with a field the event lacks is null, `NOT` of null is null, and
//!   `WHERE` keeps only rows where the condition is true. So `NOT (f LIKE "x*")` drops
//!   the rows without `f` too, and an exclusion written so suppresses them.

use std::sync::LazyLock;

use pest::Parser;
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op as PrattOp, PrattParser};
use pest_derive::Parser;

use super::values::{atom, column_type, escaped_pieces, is_null, typed};
use super::{Read, note};

use crate::pred::{Op, Pred, Span, Value};
use crate::sigma::values::matcher;

#[derive(Parser)]
#[grammar = "../grammar/esql.pest"]
struct Esql;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(PrattOp::infix(Rule::or_op, Assoc::Left))
        .op(PrattOp::infix(Rule::and_op, Assoc::Left))
        .op(PrattOp::prefix(Rule::not_op))
});

/// Reads an ES|QL query.
pub fn lower(query: &str) -> Read {
    let mut reader = Reader::default();
    if let Some(error) = super::too_deep(query) {
        reader.r.errors.push(error);
        return reader.r.finish(None);
    }
    let pair = match Esql::parse(Rule::query, query) {
        Ok(mut pairs) => pairs.next().expect("grammar: query"),
        Err(e) => {
            let (start, end) = match e.location {
                pest::error::InputLocation::Pos(p) => (p, p),
                pest::error::InputLocation::Span(s) => s,
            };
            let end = super::floor(query, end.max(start + 1));
            let start = super::floor(query, start.min(end.saturating_sub(1)));
            // No ES|QL oracle runs here to say the query is invalid: fpx's grammar may
            // lack the construct, so this is "not read" (FPX401), not an error.
            let (line, column) = super::line_column(query, start);
            note(
                &mut reader.r.notes,
                start..end.max(start),
                format!(
                    "fpx cannot read this ES|QL past line {line}, column {column} ({}), so the rule is checked without its detection logic",
                    e.variant.message()
                ),
                true,
            );
            return reader.r.finish(None);
        }
    };
    let mut wheres = Vec::new();
    for command in pair.into_inner() {
        match command.as_rule() {
            Rule::source => {
                reader.r.indices = command
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::index)
                    .map(|p| match p.as_str().strip_prefix('"') {
                        Some(quoted) => super::unescape(quoted.trim_end_matches('"')),
                        None => p.as_str().to_string(),
                    })
                    .collect();
            }
            Rule::where_cmd => {
                let expr = command
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::expr)
                    .expect("grammar: where");
                let condition = reader.truth(expr);
                wheres.push(reader.on_derived(condition));
            }
            // Conditions after these read the fields they make as computed values
            // (approximated, each where it is read); the other fields are unchanged.
            Rule::eval_cmd => {
                for assignment in command.into_inner().filter(|p| p.as_rule() == Rule::assignment) {
                    if let Some(name) = assignment.into_inner().find(|p| p.as_rule() == Rule::field) {
                        reader.derived.push(field_name(name.as_str()));
                    }
                }
            }
            Rule::mv_expand_cmd => {
                if let Some(name) = command.into_inner().find(|p| p.as_rule() == Rule::field) {
                    reader.derived.push(field_name(name.as_str()));
                }
            }
            Rule::other_cmd => {
                let at = super::span_of(command.as_span());
                let word = command
                    .into_inner()
                    .next()
                    .map_or(String::new(), |w| w.as_str().to_ascii_uppercase());
                match word.as_str() {
                    "KEEP" | "DROP" | "SORT" | "LIMIT" => {}
                    "STATS" | "INLINESTATS" | "INLINE" => break,
                    _ => {
                        note(
                            &mut reader.r.notes,
                            at.start..at.start + word.len(),
                            format!(
                                "the conditions after `{word}` are on values it makes or changes, which fpx does not read"
                            ),
                            false,
                        );
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    let d = match wheres.len() {
        0 => Pred::True,
        1 => wheres.pop().expect("one"),
        _ => Pred::And(wheres),
    };
    reader.r.finish(Some(d))
}

#[derive(Default)]
struct Reader {
    r: super::Reading,
    /// Fields an `EVAL` or `MV_EXPAND` before the condition being read made or changed.
    derived: Vec<String>,
}

/// How an expression was written: for the precedence check.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    And,
    Or,
    Other,
}

impl Reader {
    /// `condition` with each test of a field an earlier command made or changed read
    /// as a computed value: "could be true" (FPX401), where the rest stays exact. An
    /// `EVAL` no longer ends what fpx reads of the query.
    fn on_derived(&mut self, condition: Pred) -> Pred {
        if self.derived.is_empty() {
            return condition;
        }
        let derived = std::mem::take(&mut self.derived);
        // One note per field and place (a test is read in two forms, true and true or
        // null).
        let mut noted: Vec<(String, Span)> = Vec::new();
        let read = condition.map_atoms(&mut |a| {
            let field = [Some(a.field.as_str()), a.other_field()]
                .into_iter()
                .flatten()
                .find(|f| derived.iter().any(|d| d == f));
            let Some(field) = field else {
                return Pred::Atom(a.clone());
            };
            let key = (field.to_string(), a.span.clone());
            if noted.contains(&key) {
                return crate::model::opaque(Some(a.span.clone()));
            }
            noted.push(key);
            self.r.approximated(
                a.span.clone(),
                field,
                "is a value an earlier `EVAL` or `MV_EXPAND` computes, which fpx does not evaluate",
            )
        });
        self.derived = derived;
        read
    }

    /// Where the condition is true. ES|QL's logic has three values: a test of a field
    /// the event lacks is null (fpx's tests are false there, which is "true" read
    /// strictly), and `NOT p` is true where `p` is false, not where it is null: so each
    /// part is read in two forms, where it is true and where it is true or null.
    fn truth(&mut self, pair: Pair<Rule>) -> Pred {
        self.expr(pair).0
    }

    /// An expression's two forms (true; true or null), where it is, and its shape.
    fn expr(&mut self, pair: Pair<Rule>) -> (Pred, Pred, Span, Shape) {
        let at = super::span_of(pair.as_span());
        let mut by_precedence = Vec::new();
        let (t, p, _, shape) = PRATT
            .map_primary(|primary| {
                let primary = unwrap(primary);
                let at = span(&primary);
                let (t, p) = self.both(primary);
                (t, p, at, Shape::Other)
            })
            // `NOT p` is true where p is false (not true or null), and true or null
            // where p is not true.
            .map_prefix(|_, (t, p, at, _)| (Pred::Not(Box::new(p)), Pred::Not(Box::new(t)), at, Shape::Other))
            .map_infix(|(lt, lp, ls, lshape), op, (rt, rp, rs, rshape)| {
                let and = op.as_rule() == Rule::and_op;
                if !and {
                    // An `and` written as a branch of an `or` without parentheses.
                    for (shape, s) in [(lshape, &ls), (rshape, &rs)] {
                        if shape == Shape::And {
                            by_precedence.push(s.clone());
                        }
                    }
                }
                let join = |a: Pred, b: Pred| {
                    if and {
                        Pred::And(vec![a, b])
                    } else {
                        Pred::Or(vec![a, b])
                    }
                };
                (
                    join(lt, rt),
                    join(lp, rp),
                    ls.start..rs.end,
                    if and { Shape::And } else { Shape::Or },
                )
            })
            .parse(pair.into_inner());
        self.r.by_precedence.extend(by_precedence);
        (t, p, at, shape)
    }

    /// A primary's two forms: where it is true, and where it is true or null.
    fn both(&mut self, pair: Pair<Rule>) -> (Pred, Pred) {
        match pair.as_rule() {
            Rule::paren => {
                let (t, p, _, _) = self.expr(pair.into_inner().next().expect("grammar: paren"));
                (t, p)
            }
            _ => {
                let (t, fields, negated) = self.primary(pair);
                // True or null: true, or a field it reads is missing.
                let nulls: Vec<Pred> = fields.iter().map(|(f, at)| is_null(f, at)).collect();
                let p = match nulls.is_empty() {
                    true => t.clone(),
                    false => Pred::Or(std::iter::once(t.clone()).chain(nulls).collect()),
                };
                // `NOT IN`, `NOT LIKE`, `!=`: the test negated, as `NOT` reads it.
                match negated {
                    false => (t, p),
                    true => (Pred::Not(Box::new(p)), Pred::Not(Box::new(t))),
                }
            }
        }
    }

    /// `KQL("""query""")`: a Kibana KQL query, read by fpx's Kibana KQL reader (spans
    /// placed in the ES|QL query). Elasticsearch runs it as a search: never null, and a
    /// field with several values passes a test when one value does. Read as one value
    /// (as the rest of ES|QL), which is exact while no field must pass two of its tests
    /// at once (then the `KQL` call is "could be true").
    fn kql(&mut self, args: &[Pair<Rule>], at: Span, text: &str) -> (Pred, Vec<(String, Span)>, bool) {
        let source = match args {
            [arg] if arg.as_rule() == Rule::string => arg
                .clone()
                .into_inner()
                .next()
                .and_then(|kind| {
                    let raw = kind.as_rule() == Rule::raw3;
                    kind.into_inner().next().map(|t| (t, raw))
                })
                // A quoted string with escapes is not its text at its place.
                .filter(|(t, raw)| *raw || !t.as_str().contains('\\'))
                .map(|(t, _)| (t.as_str().to_string(), t.as_span().start())),
            _ => None,
        };
        let Some((query, offset)) = source else {
            return (
                self.r
                    .approximated(at, text, "calls `KQL` on a value fpx does not read"),
                Vec::new(),
                false,
            );
        };
        let read = super::kuery::lower(&query);
        let shift = |span: &Span| span.start + offset..span.end + offset;
        let Some(d) = read
            .detection
            .filter(|_| read.errors.is_empty() && !read.notes.iter().any(|n| n.fatal))
        else {
            return (
                self.r.approximated(at, text, "is Kibana KQL fpx cannot read"),
                Vec::new(),
                false,
            );
        };
        let d = d.map_atoms(&mut |a| {
            Pred::Atom(crate::pred::Atom {
                span: shift(&a.span),
                ..a.clone()
            })
        });
        let mut needed = super::widths(&d, true);
        let mut negated = Vec::new();
        super::negated_parts(&d, &mut negated);
        for q in negated {
            for (field, n) in super::widths(q, true) {
                *needed.entry(field).or_default() += n;
            }
        }
        if let Some((field, _)) = needed.iter().find(|(_, n)| **n >= 2) {
            let why = format!(
                "tests `{field}` two ways that must hold together, which Elasticsearch may pass with two of its values"
            );
            return (self.r.approximated(at, text, &why), Vec::new(), false);
        }
        for n in read.notes {
            note(&mut self.r.notes, shift(&n.span), n.message, n.fatal);
        }
        self.r.by_precedence.extend(read.by_precedence.iter().map(shift));
        (d, Vec::new(), false)
    }

    /// `CIDR_MATCH(ip, range, ...)`: the address is in one of the ranges (as Sigma's
    /// `cidr` reads them on the address's text).
    fn cidr_match(&mut self, args: &[Pair<Rule>], at: Span, text: &str) -> (Pred, Vec<(String, Span)>, bool) {
        let subject = args.first().and_then(subject_of).filter(|(_, cased)| *cased);
        let ranges: Option<Vec<String>> = args
            .iter()
            .skip(1)
            .map(|a| (a.as_rule() == Rule::string).then(|| unescape(a.clone())))
            .collect();
        let (Some((field, _)), Some(ranges)) = (subject, ranges.filter(|r| !r.is_empty())) else {
            return (
                self.r
                    .approximated(at, text, "calls a function on values fpx does not evaluate"),
                Vec::new(),
                false,
            );
        };
        let mut tests = Vec::new();
        for range in &ranges {
            match crate::sigma::values::in_range(&field, range, &at) {
                Ok(test) => tests.push(test),
                Err(why) => return (self.r.approximated(at, text, &why), Vec::new(), false),
            }
        }
        (or(tests), vec![(field, at)], false)
    }

    /// A test where it is true, the fields whose absence makes it null, and whether it
    /// is written negated (`NOT IN`, `NOT LIKE`, `!=`: the test returned is the positive
    /// one).
    fn primary(&mut self, pair: Pair<Rule>) -> (Pred, Vec<(String, Span)>, bool) {
        let at = span(&pair);
        let text = pair.as_str()[..at.len()].to_string();
        let rule = pair.as_rule();
        let mut inner = pair.into_inner().map(unwrap);
        match rule {
            Rule::bool_lit => (
                if text.eq_ignore_ascii_case("true") {
                    Pred::True
                } else {
                    Pred::False
                },
                Vec::new(),
                false,
            ),
            Rule::is_null => {
                let subject = inner.next().expect("grammar: value");
                let negated = inner.any(|p| p.as_rule() == Rule::not_op);
                match field_of(&subject) {
                    Some(field) => {
                        let test = is_null(&field, &at);
                        (
                            if negated { Pred::Not(Box::new(test)) } else { test },
                            Vec::new(),
                            false,
                        )
                    }
                    None => (
                        self.r
                            .approximated(at, &text, "tests a computed value, which fpx does not evaluate"),
                        Vec::new(),
                        false,
                    ),
                }
            }
            Rule::like => {
                let subject = inner.next().expect("grammar: value");
                let mut negated = false;
                let mut regex = false;
                let mut patterns = Vec::new();
                for p in inner {
                    match p.as_rule() {
                        Rule::not_op => negated = true,
                        Rule::like_op => regex = p.as_str().eq_ignore_ascii_case("rlike"),
                        _ => patterns.push(unescape(p)),
                    }
                }
                let Some((field, cased)) = subject_of(&subject) else {
                    return (
                        self.r
                            .approximated(at, &text, "matches a computed value, which fpx does not evaluate"),
                        Vec::new(),
                        false,
                    );
                };
                let mut tests = Vec::new();
                for pattern in &patterns {
                    if regex {
                        let Some(re) = super::eql::lucene_regex(pattern) else {
                            return (
                                self.r
                                    .approximated(at, &text, "is a Lucene regular expression fpx does not translate"),
                                Vec::new(),
                                false,
                            );
                        };
                        let re = if cased { re } else { format!("(?i){re}") };
                        let Ok(compiled) = regex::Regex::new(&re) else {
                            return (
                                self.r
                                    .approximated(at, &text, "is a regular expression fpx cannot compile"),
                                Vec::new(),
                                false,
                            );
                        };
                        let test = atom(&field, Op::MatchesRegex, true, Value::Str(re), &at);
                        tests.push(crate::sigma::values::not_null(&field, &compiled, test, &at));
                    } else {
                        tests.push(matcher(&field, &escaped_pieces(pattern, true).0, cased, &at));
                    }
                }
                (or(tests), vec![(field, at)], negated)
            }
            Rule::in_list => {
                let subject = inner.next().expect("grammar: value");
                let mut negated = false;
                let mut values = Vec::new();
                for p in inner {
                    match p.as_rule() {
                        Rule::not_op => negated = true,
                        Rule::kw_in => {}
                        _ => values.push(p),
                    }
                }
                // `true IN (c1, c2, ...)` is `c1 OR c2 OR ...` (`IN` is an `OR` of
                // equalities, null where none is true and one is null: so is the `OR`).
                let conditions = subject.as_rule() == Rule::bool_lit
                    && subject.as_str().eq_ignore_ascii_case("true")
                    && !negated
                    && values.iter().all(|v| v.as_rule() == Rule::call);
                if conditions {
                    let (mut tests, mut nulls) = (Vec::new(), Vec::new());
                    for v in values {
                        let (test, null, negated) = self.primary(v);
                        if negated {
                            return (
                                self.r.approximated(
                                    at,
                                    &text,
                                    "compares a computed value, which fpx does not evaluate",
                                ),
                                Vec::new(),
                                false,
                            );
                        }
                        tests.push(test);
                        nulls.extend(null);
                    }
                    return (or(tests), nulls, false);
                }
                let Some((field, cased)) = subject_of(&subject) else {
                    return (
                        self.r
                            .approximated(at, &text, "compares a computed value, which fpx does not evaluate"),
                        Vec::new(),
                        false,
                    );
                };
                let mut tests = Vec::new();
                for v in values {
                    match literal(&field, v) {
                        Some(value) => tests.push(atom(&field, Op::Equals, cased, value, &at)),
                        None => {
                            return (
                                self.r
                                    .approximated(at, &text, "compares with a value fpx does not evaluate"),
                                Vec::new(),
                                false,
                            );
                        }
                    }
                }
                (or(tests), vec![(field, at)], negated)
            }
            Rule::comparison => {
                let left = inner.next().expect("grammar: value");
                let op = inner.next().expect("grammar: op").as_str().to_string();
                let right = inner.next().expect("grammar: value");
                let Some((field, cased)) = subject_of(&left) else {
                    return (
                        self.r
                            .approximated(at, &text, "compares a computed value, which fpx does not evaluate"),
                        Vec::new(),
                        false,
                    );
                };
                if let Some(other) = field_of(&right) {
                    if op == "==" || op == "!=" {
                        let same = atom(&field, Op::SameAs, true, Value::Str(other.clone()), &at);
                        return (same, vec![(field, at.clone()), (other, at)], op == "!=");
                    }
                    return (
                        self.r
                            .approximated(at, &text, "orders two fields, which fpx does not read"),
                        Vec::new(),
                        false,
                    );
                }
                let Some(value) = literal(&field, right) else {
                    return (
                        self.r
                            .approximated(at, &text, "compares with a value fpx does not evaluate"),
                        Vec::new(),
                        false,
                    );
                };
                let test = match op.as_str() {
                    "==" | "!=" => atom(&field, Op::Equals, cased, value, &at),
                    _ if matches!(value, Value::Num(_)) => {
                        let op = match op.as_str() {
                            "<" => Op::Lt,
                            "<=" => Op::Le,
                            ">" => Op::Gt,
                            _ => Op::Ge,
                        };
                        atom(&field, op, true, value, &at)
                    }
                    _ => {
                        return (
                            self.r.approximated(at, &text, "orders values fpx reads as text"),
                            Vec::new(),
                            false,
                        );
                    }
                };
                (test, vec![(field, at)], op == "!=")
            }
            Rule::call => {
                let name = inner.next().expect("grammar: func").as_str().to_ascii_uppercase();
                let args: Vec<Pair<Rule>> = inner.collect();
                if name == "CIDR_MATCH" {
                    return self.cidr_match(&args, at, &text);
                }
                if name == "KQL" {
                    return self.kql(&args, at, &text);
                }
                let op = match name.as_str() {
                    "STARTS_WITH" => Op::StartsWith,
                    "ENDS_WITH" => Op::EndsWith,
                    _ => {
                        return (
                            self.r.approximated(
                                at,
                                &text,
                                &format!("calls `{name}`, a function fpx does not evaluate"),
                            ),
                            Vec::new(),
                            false,
                        );
                    }
                };
                let (Some((field, cased)), Some(Rule::string)) =
                    (args.first().and_then(subject_of), args.get(1).map(|a| a.as_rule()))
                else {
                    return (
                        self.r
                            .approximated(at, &text, "calls a function on values fpx does not evaluate"),
                        Vec::new(),
                        false,
                    );
                };
                let value = unescape(args[1].clone());
                (
                    atom(&field, op, cased, Value::Str(value), &at),
                    vec![(field, at)],
                    false,
                )
            }
            Rule::field => {
                let field = field_name(&text);
                if column_type(&field) == crate::schema::ColumnType::Bool {
                    (
                        atom(&field, Op::Equals, true, Value::Bool(true), &at),
                        vec![(field, at)],
                        false,
                    )
                } else {
                    (
                        self.r
                            .approximated(at, &text, "is a value, not a condition fpx can decide"),
                        Vec::new(),
                        false,
                    )
                }
            }
            _ => (
                self.r.approximated(at, &text, "is not a condition fpx can decide"),
                Vec::new(),
                false,
            ),
        }
    }
}

/// A value without arithmetic as its one term (in parentheses or not); a value with
/// arithmetic as itself.
fn unwrap(pair: Pair<Rule>) -> Pair<Rule> {
    let mut pair = pair;
    while pair.as_rule() == Rule::value {
        let mut terms = pair.clone().into_inner();
        match (terms.next(), terms.next()) {
            (Some(term), None) => pair = term,
            _ => break,
        }
    }
    pair
}

/// Where a node is written, up to its last token: not the whitespace and comments the
/// grammar skips after it (a value's optional arithmetic is tried past them).
fn span(pair: &Pair<Rule>) -> Span {
    let start = pair.as_span().start();
    start..start + super::code_end(pair.as_str())
}

fn or(mut preds: Vec<Pred>) -> Pred {
    match preds.len() {
        1 => preds.pop().expect("one"),
        _ => Pred::Or(preds),
    }
}

/// A field as written (backticks removed).
fn field_name(text: &str) -> String {
    text.replace("``", "\u{0}").replace('`', "").replace('\u{0}', "`")
}

fn field_of(pair: &Pair<Rule>) -> Option<String> {
    (pair.as_rule() == Rule::field).then(|| field_name(pair.as_str()))
}

/// The field a test compares and whether case counts: `f`, or `TO_LOWER(f)` /
/// `TO_UPPER(f)` (case-insensitive; the patterns are written in that case).
fn subject_of(pair: &Pair<Rule>) -> Option<(String, bool)> {
    match pair.as_rule() {
        Rule::field => Some((field_name(pair.as_str()), true)),
        Rule::call => {
            let mut inner = pair.clone().into_inner().map(unwrap);
            let name = inner.next()?.as_str().to_ascii_uppercase();
            let arg = inner.next()?;
            if inner.next().is_some() || arg.as_rule() != Rule::field {
                return None;
            }
            let field = field_name(arg.as_str());
            // A conversion that leaves the text as fpx reads it: an ip field's text is the
            // canonical address, `TO_STRING` of it or of a keyword is that text.
            let kind = crate::schema::ecs::es_type(&field);
            let text_kind = matches!(kind, Some("keyword" | "constant_keyword" | "wildcard" | "ip"));
            match name.as_str() {
                "TO_LOWER" | "TO_UPPER" => Some((field, false)),
                "TO_STRING" if text_kind => Some((field, true)),
                "TO_IP" if kind == Some("ip") => Some((field, true)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A literal compared with `field`, typed by it.
fn literal(field: &str, pair: Pair<Rule>) -> Option<Value> {
    match pair.as_rule() {
        Rule::string => typed(field, &unescape(pair)),
        Rule::number | Rule::bool_lit => typed(field, pair.as_str()),
        _ => None,
    }
}

/// A string literal's value: `"..."` with escapes, `"""..."""` as written.
fn unescape(pair: Pair<Rule>) -> String {
    let Some(kind) = pair.into_inner().next() else {
        return String::new();
    };
    let rule = kind.as_rule();
    let text = kind.into_inner().next().map_or("", |t| t.as_str());
    if rule != Rule::quoted {
        return text.to_string();
    }
    super::unescape(text)
}
