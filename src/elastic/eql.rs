//! EQL event queries (`category where condition`) lowered with Elasticsearch's
//! semantics (EQL syntax reference):
//! - `category where`: `event.category` holds the category (`any`: every event);
//! - `==`, `!=`: exact and case-sensitive (no wildcards); `in`, `not in`: equal to one;
//!   `in~`, `not in~`: the same, case-insensitive;
//! - `:`: case-insensitive, with wildcards `*` (any text) and `?` (one character);
//!   `like`, `like~`: wildcards, case-sensitive and -insensitive; `regex`, `regex~`:
//!   Lucene regular expressions, matched whole (those the `regex` crate reads alike:
//!   no `@ & ~ < > #` operators, no `\d`-style classes; others are approximated);
//! - `startsWith`, `endsWith`, `stringContains` (and their `~` forms), `cidrMatch`
//!   (IPv4), `wildcard`: the tests they name; other functions are approximated;
//! - `field == null` (`!= null`): the field has no value (has one); a field an event
//!   lacks fails every other test and passes its negation (Elasticsearch's
//!   `must_not`), as Sigma's null does (`crate::pred::NULL`).
//!
//! Sequences and samples (`sequence by ... [...] [...]`) correlate several events,
//! which fpx does not read: each step is read as an event query of its own, its
//! exclusions judged on the events of that step (FPX401 says the rest).

use std::sync::LazyLock;

use pest::Parser;
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op as PrattOp, PrattParser};
use pest_derive::Parser;

use super::values::{atom, is_null, is_text, typed, wildcard};
use super::{Read, note};
use crate::model::{QueryError, QueryNote};
use crate::pred::{Op, Pred, Span, Value};

#[derive(Parser)]
#[grammar = "../grammar/eql.pest"]
struct Eql;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(PrattOp::infix(Rule::or_op, Assoc::Left))
        .op(PrattOp::infix(Rule::and_op, Assoc::Left))
        .op(PrattOp::prefix(Rule::not_op))
});

/// What an EQL query is read as: one event query, or the steps of a sequence (or
/// sample), each read as an event query of its own, with the note that says so.
pub enum Lowered {
    Query(Read),
    Steps(Vec<Read>, Vec<QueryNote>),
}

/// Reads an EQL query.
pub fn lower(query: &str) -> Lowered {
    let mut reader = Reader::default();
    if let Some(error) = super::too_deep(query) {
        reader.r.errors.push(error);
        return Lowered::Query(reader.r.finish(None));
    }
    let pair = match Eql::parse(Rule::query, query) {
        Ok(mut pairs) => pairs.next().expect("grammar: query"),
        Err(e) => {
            let (start, end) = match e.location {
                pest::error::InputLocation::Pos(p) => (p, p),
                pest::error::InputLocation::Span(s) => s,
            };
            let end = end.max(start + 1).min(query.len());
            let start = start.min(end.saturating_sub(1));
            reader.r.errors.push(QueryError {
                span: super::floor(query, start)..super::floor(query, end),
                message: format!("not valid EQL: {}", e.variant.message()),
                help: None,
            });
            return Lowered::Query(reader.r.finish(None));
        }
    };
    let mut d = None;
    let mut steps = Vec::new();
    let mut notes = Vec::new();
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::event_query => d = Some(reader.event_query(part)),
            Rule::sequence => {
                let at = span(&part);
                let keyword = part
                    .as_str()
                    .split_whitespace()
                    .next()
                    .unwrap_or("sequence")
                    .to_ascii_lowercase();
                for piece in part.into_inner() {
                    match piece.as_rule() {
                        // A missing event's conditions say what must not happen: its
                        // `not` parts are not exclusions of the alert.
                        Rule::step if piece.clone().into_inner().any(|p| p.as_rule() == Rule::missing) => note(
                            &mut notes,
                            span(&piece),
                            "a missing-event step (`![...]`) says what must not happen; fpx does not read it".into(),
                            false,
                        ),
                        Rule::step => {
                            let mut step = Reader::default();
                            let query = piece.into_inner().find(|p| p.as_rule() == Rule::event_query);
                            let d = query.map(|q| step.event_query(q));
                            steps.push(step.r.finish(d));
                        }
                        Rule::until => note(
                            &mut notes,
                            span(&piece),
                            "`until` ends a sequence early; fpx does not read what it cancels".into(),
                            false,
                        ),
                        _ => {}
                    }
                }
                note(
                    &mut notes,
                    at.start..at.start + keyword.len(),
                    format!(
                        "the rule is an EQL {keyword}: it alerts on related events together (joined by its `by` fields, within its time span), which fpx does not read; each step's exclusions are judged on the events of their step, and the rule has no single D"
                    ),
                    false,
                );
            }
            Rule::pipe => {
                let at = span(&part);
                let word = part
                    .into_inner()
                    .next()
                    .map_or(String::new(), |w| w.as_str().to_string());
                note(
                    &mut reader.r.notes,
                    at,
                    format!("the pipe `| {word}` limits which matches alert; fpx reads the events that match"),
                    false,
                );
            }
            _ => {}
        }
    }
    if !steps.is_empty() {
        notes.extend(reader.r.notes);
        return Lowered::Steps(steps, notes);
    }
    Lowered::Query(reader.r.finish(d))
}

/// Where a node is written, up to its last token: not the whitespace and comments the
/// grammar skips after it (a value's optional arithmetic is tried past them).
fn span(pair: &Pair<Rule>) -> Span {
    let start = pair.as_span().start();
    start..start + super::code_end(pair.as_str())
}

/// How an expression was written: for the precedence check.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    And,
    Or,
    Other,
}

#[derive(Default)]
struct Reader {
    r: super::Reading,
}

/// An operand as read: a field, a literal, or something fpx does not evaluate.
enum Operand {
    Field(String),
    Str(String),
    Num(String),
    Bool(bool),
    Null,
    Other,
}

impl Reader {
    /// `category where condition`: the event category, and the condition.
    fn event_query(&mut self, pair: Pair<Rule>) -> Pred {
        let mut d = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::category => {
                    let at = span(&part);
                    let inner = part.into_inner().next().expect("grammar: category");
                    let category = match inner.as_rule() {
                        Rule::kw_any => continue,
                        Rule::string => unescape(inner),
                        _ => inner.as_str().to_string(),
                    };
                    d.push(atom("event.category", Op::Equals, true, Value::Str(category), &at));
                }
                Rule::expr => d.push(self.expr(part).0),
                _ => {}
            }
        }
        match d.len() {
            1 => d.pop().expect("one"),
            _ => Pred::And(d),
        }
    }

    fn expr(&mut self, pair: Pair<Rule>) -> (Pred, Span, Shape) {
        let at = span(&pair);
        let mut by_precedence = Vec::new();
        let out = PRATT
            .map_primary(|p| match p.as_rule() {
                Rule::paren => {
                    let at = span(&p);
                    let (pred, _, _) = self.expr(p.into_inner().next().expect("grammar: paren"));
                    (pred, at, Shape::Other)
                }
                _ => {
                    let at = span(&p);
                    (self.primary(p), at, Shape::Other)
                }
            })
            .map_prefix(|_, (p, s, _)| (Pred::Not(Box::new(p)), s, Shape::Other))
            .map_infix(|(l, ls, lshape), op, (r, rs, rshape)| {
                let and = op.as_rule() == Rule::and_op;
                if !and {
                    // An `and` written as a branch of an `or` without parentheses.
                    for (shape, s) in [(lshape, &ls), (rshape, &rs)] {
                        if shape == Shape::And {
                            by_precedence.push(s.clone());
                        }
                    }
                }
                let joined = |p: Pred, shape: Shape| match (p, shape) {
                    (Pred::And(ps), Shape::And) if and => ps,
                    (Pred::Or(ps), Shape::Or) if !and => ps,
                    (p, _) => vec![p],
                };
                let mut items = joined(l, lshape);
                items.extend(joined(r, rshape));
                let pred = if and { Pred::And(items) } else { Pred::Or(items) };
                (pred, ls.start..rs.end, if and { Shape::And } else { Shape::Or })
            })
            .parse(pair.into_inner());
        self.r.by_precedence.extend(by_precedence);
        (out.0, at, out.2)
    }

    fn operand(&mut self, pair: Pair<Rule>) -> Operand {
        // A value without arithmetic is its one term (in parentheses or not).
        let mut pair = pair;
        while pair.as_rule() == Rule::value {
            let mut terms = pair.clone().into_inner();
            match (terms.next(), terms.next()) {
                (Some(term), None) => pair = term,
                _ => return Operand::Other,
            }
        }
        match pair.as_rule() {
            Rule::field => Operand::Field(field_name(pair.as_str())),
            Rule::string => Operand::Str(unescape(pair)),
            Rule::number => Operand::Num(pair.as_str().to_string()),
            Rule::bool_lit => Operand::Bool(pair.as_str().eq_ignore_ascii_case("true")),
            Rule::null_lit => Operand::Null,
            _ => Operand::Other,
        }
    }

    fn primary(&mut self, pair: Pair<Rule>) -> Pred {
        let at = span(&pair);
        let text = pair.as_str().to_string();
        match pair.as_rule() {
            Rule::comparison => self.comparison(pair),
            Rule::bool_lit => {
                if text.eq_ignore_ascii_case("true") {
                    Pred::True
                } else {
                    Pred::False
                }
            }
            Rule::call => self.call(pair),
            Rule::field => {
                let field = field_name(&text);
                if super::values::column_type(&field) == crate::schema::ColumnType::Bool {
                    atom(&field, Op::Equals, true, Value::Bool(true), &at)
                } else {
                    self.r
                        .approximated(at, &text, "is a value, not a condition fpx can decide")
                }
            }
            _ => self.r.approximated(at, &text, "is not a condition fpx can decide"),
        }
    }

    fn comparison(&mut self, pair: Pair<Rule>) -> Pred {
        let at = span(&pair);
        let text = pair.as_str().to_string();
        let mut inner = pair.into_inner();
        let left = inner.next().expect("grammar: operand");
        let op_text = inner.next().expect("grammar: op").as_str().to_ascii_lowercase();
        let op: String = op_text.split_whitespace().collect::<Vec<_>>().join(" ");
        let right = inner.next().expect("grammar: value");
        let Operand::Field(field) = self.operand(left) else {
            return self
                .r
                .approximated(at, &text, "compares a computed value, which fpx does not evaluate");
        };
        let values: Vec<Operand> = match right.as_rule() {
            Rule::list => right.into_inner().map(|v| self.operand(v)).collect(),
            _ => vec![self.operand(right)],
        };
        let negated = op.starts_with("not ") || op == "!=";
        let op = op.trim_start_matches("not ").to_string();
        let mut alternatives = Vec::new();
        for value in values {
            let test = match self.test(&field, &op, value, &at) {
                Ok(p) => p,
                Err(why) => return self.r.approximated(at, &text, &why),
            };
            alternatives.push(test);
        }
        let any = match alternatives.len() {
            1 => alternatives.pop().expect("one"),
            _ => Pred::Or(alternatives),
        };
        if negated { Pred::Not(Box::new(any)) } else { any }
    }

    /// One `field op value` (for `!=` and `not in`, the test they negate).
    fn test(&mut self, field: &str, op: &str, value: Operand, at: &Span) -> Result<Pred, String> {
        let text_value = |v: &Operand| match v {
            Operand::Str(s) | Operand::Num(s) => Some(s.clone()),
            Operand::Bool(b) => Some(b.to_string()),
            _ => None,
        };
        match (op, &value) {
            ("==" | "!=" | "in" | "in~", Operand::Null) => Ok(is_null(field, at)),
            ("==" | "!=" | "in" | "in~", Operand::Field(other)) if is_text(field) && op != "in~" => {
                Ok(atom(field, Op::SameAs, true, Value::Str(other.clone()), at))
            }
            ("==" | "!=" | "in" | "in~", v) => {
                let text = text_value(v).ok_or("compares with a value fpx does not evaluate")?;
                let value = typed(field, &text)
                    .ok_or_else(|| format!("compares a {:?} field with `{text}`", super::values::column_type(field)))?;
                Ok(atom(field, Op::Equals, op != "in~", value, at))
            }
            (":" | "like" | "like~", Operand::Str(pattern)) if is_text(field) => {
                Ok(wildcard(field, pattern, true, op == "like", at))
            }
            (":", v) => {
                // `:` on a number or boolean field: equality.
                let text = text_value(v).ok_or("compares with a value fpx does not evaluate")?;
                let value = typed(field, &text).ok_or("compares a field with a value of another type")?;
                Ok(atom(field, Op::Equals, false, value, at))
            }
            ("regex" | "regex~", Operand::Str(pattern)) => {
                let re = lucene_regex(pattern).ok_or("is a Lucene regular expression fpx does not translate")?;
                let re = if op == "regex~" { format!("(?i){re}") } else { re };
                let compiled =
                    regex::Regex::new(&re).map_err(|_| "is a regular expression fpx cannot compile".to_string())?;
                let test = atom(field, Op::MatchesRegex, true, Value::Str(re), at);
                Ok(crate::sigma::values::not_null(field, &compiled, test, at))
            }
            ("<" | "<=" | ">" | ">=", Operand::Num(n)) => {
                let op = match op {
                    "<" => Op::Lt,
                    "<=" => Op::Le,
                    ">" => Op::Gt,
                    _ => Op::Ge,
                };
                Ok(atom(field, op, true, Value::Num(n.clone()), at))
            }
            _ => Err("is a comparison fpx does not read".into()),
        }
    }

    /// A function used as a condition.
    fn call(&mut self, pair: Pair<Rule>) -> Pred {
        let at = span(&pair);
        let text = pair.as_str().to_string();
        let mut inner = pair.into_inner();
        let name = inner.next().expect("grammar: func").as_str().to_string();
        let args: Vec<Operand> = inner.map(|a| self.operand(a)).collect();
        let insensitive = name.ends_with('~');
        let function = name.trim_end_matches('~').to_ascii_lowercase();
        let (Some(Operand::Field(field)), rest) = (args.first(), args.get(1..).unwrap_or(&[])) else {
            return self.r.approximated(at, &text, "calls a function fpx does not evaluate");
        };
        let strings: Option<Vec<&String>> = rest
            .iter()
            .map(|a| match a {
                Operand::Str(s) => Some(s),
                _ => None,
            })
            .collect();
        let (Some(strings), false) = (strings, rest.is_empty()) else {
            return self.r.approximated(at, &text, "calls a function fpx does not evaluate");
        };
        let op = match function.as_str() {
            "startswith" => Op::StartsWith,
            "endswith" => Op::EndsWith,
            "stringcontains" => Op::Contains,
            "wildcard" => {
                let tests = strings
                    .iter()
                    .map(|s| wildcard(field, s, true, !insensitive, &at))
                    .collect();
                return Pred::Or(tests);
            }
            "cidrmatch" => {
                let mut tests = Vec::new();
                for range in &strings {
                    match crate::sigma::values::in_range(field, range, &at) {
                        Ok(test) => tests.push(test),
                        Err(why) => return self.r.approximated(at, &text, &why),
                    }
                }
                return Pred::Or(tests);
            }
            _ => {
                return self
                    .r
                    .approximated(at, &text, &format!("calls `{name}`, a function fpx does not evaluate"));
            }
        };
        // `stringContains` takes one string; `startsWith`/`endsWith` any number.
        Pred::Or(
            strings
                .iter()
                .map(|s| atom(field, op, !insensitive, Value::Str((*s).clone()), &at))
                .collect(),
        )
    }
}

/// A field name as written (`?optional`, `` `quoted` ``) as ECS names it.
fn field_name(text: &str) -> String {
    text.trim_start_matches('?')
        .replace("``", "\u{0}")
        .replace('`', "")
        .replace('\u{0}', "`")
}

/// A string literal's value: escapes read in `"..."`; raw strings as written.
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

/// A Lucene regular expression (matched against the whole value) as a `regex` crate
/// pattern, when both read it alike: Lucene's `.`, `*`, `+`, `?`, `|`, `()`, `[]`,
/// `{n,m}`; a backslash escapes the next character; `"` quotes. `None` for Lucene's
/// own operators (`@`, `&`, `~`, `<n-m>`, `#`) and anything else unsure.
pub(super) fn lucene_regex(pattern: &str) -> Option<String> {
    let mut out = String::from("^(?:");
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let next = chars.next()?;
                if next.is_ascii_alphanumeric() {
                    // `\d` is a `d` in Lucene; say so literally.
                    out.push(next);
                } else {
                    out.push_str(&regex::escape(&next.to_string()));
                }
            }
            '"' => {
                let mut quoted = String::new();
                for q in chars.by_ref() {
                    if q == '"' {
                        break;
                    }
                    quoted.push(q);
                }
                out.push_str(&regex::escape(&quoted));
            }
            '@' | '&' | '~' | '<' | '>' | '#' if !in_class => return None,
            '[' => {
                in_class = true;
                out.push(c);
            }
            ']' => {
                in_class = false;
                out.push(c);
            }
            '^' | '$' if !in_class => out.push_str(&regex::escape(&c.to_string())),
            c => out.push(c),
        }
    }
    out.push_str(")$");
    Some(format!("(?s){out}"))
}
