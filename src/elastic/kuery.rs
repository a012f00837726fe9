//! Kibana Query Language (`language = "kuery"`) lowered with the semantics Elasticsearch
//! gives the query Kibana builds from it:
//! - `field : value` on a keyword (or `wildcard`, `constant_keyword`) field: the whole
//!   value, case-sensitive (a `term` query); an unquoted `*` is a wildcard (a quoted
//!   one is a `*`); `field : *`: the field has a value;
//! - on a number or boolean field: equality; ranges (`<`, `<=`, `>`, `>=`) on numbers;
//!   on an `ip` field, `a.b.c.d/n` is the addresses in the range;
//! - on a text field (`message`, `*.text`): words, as the field's analyzer splits them:
//!   approximated (FPX401), as are dates, a value without a field (it searches every
//!   field), a field name with a wildcard and nested queries (`field : { ... }`);
//! - `not`: every event the test does not hold for, those without the field too
//!   (`must_not`); `and` binds tighter than `or`.
//!
//! Fields ECS does not define are read as keywords (an integration's fields nearly all
//! are).

use pest::Parser;
use pest::iterators::Pair;
use pest_derive::Parser;

use super::Read;
use super::values::{atom, column_type, is_null, typed};
use crate::model::QueryError;
use crate::pred::{Op, Pred, Span, Value};
use crate::sigma::values::{Piece, matcher};

#[derive(Parser)]
#[grammar = "../grammar/kuery.pest"]
struct Kuery;

/// Reads a Kibana KQL query.
pub fn lower(query: &str) -> Read {
    let mut reader = Reader::default();
    if let Some(error) = super::too_deep(query) {
        reader.r.errors.push(error);
        return reader.r.finish(None);
    }
    let pair = match Kuery::parse(Rule::query, query) {
        Ok(mut pairs) => pairs.next().expect("grammar: query"),
        Err(e) => {
            let (start, end) = match e.location {
                pest::error::InputLocation::Pos(p) => (p, p),
                pest::error::InputLocation::Span(s) => s,
            };
            let end = super::floor(query, end.max(start + 1));
            let start = super::floor(query, start.min(end.saturating_sub(1)));
            reader.r.errors.push(QueryError {
                span: start..end.max(start),
                message: format!("not valid Kibana KQL: {}", e.variant.message()),
                help: None,
            });
            return reader.r.finish(None);
        }
    };
    let d = match pair.into_inner().find(|p| p.as_rule() == Rule::or_expr) {
        Some(expr) => reader.or_expr(expr),
        // An empty query matches every event.
        None => Pred::True,
    };
    reader.r.finish(Some(d))
}

/// The bytes of a pair, without the blanks an unquoted value ends with.
fn span(pair: &Pair<Rule>) -> Span {
    let start = pair.as_span().start();
    start..start + pair.as_str().trim_end().len()
}

#[derive(Default)]
struct Reader {
    r: super::Reading,
}

/// A value as written: its text, whether quoted, and its pieces (an unquoted `*` is a
/// wildcard; an escaped one is text).
struct Written {
    text: String,
    quoted: bool,
    pieces: Vec<Piece>,
}

impl Reader {
    fn or_expr(&mut self, pair: Pair<Rule>) -> Pred {
        let branches: Vec<Pair<Rule>> = pair.into_inner().filter(|p| p.as_rule() == Rule::and_expr).collect();
        let several = branches.len() > 1;
        let mut out: Vec<Pred> = branches
            .into_iter()
            .map(|branch| {
                let at = span(&branch);
                let items: Vec<Pair<Rule>> = branch.into_inner().filter(|p| p.as_rule() == Rule::not_expr).collect();
                if several && items.len() > 1 {
                    // An `and` as a branch of an `or`, without parentheses of its own.
                    self.r.by_precedence.push(at);
                }
                let mut items: Vec<Pred> = items.into_iter().map(|n| self.not_expr(n)).collect();
                match items.len() {
                    1 => items.pop().expect("one"),
                    _ => Pred::And(items),
                }
            })
            .collect();
        match out.len() {
            1 => out.pop().expect("one"),
            _ => Pred::Or(out),
        }
    }

    fn not_expr(&mut self, pair: Pair<Rule>) -> Pred {
        let mut nots = 0;
        let mut pred = Pred::True;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::not_kw => nots += 1,
                _ => pred = self.primary(part),
            }
        }
        (0..nots).fold(pred, |p, _| Pred::Not(Box::new(p)))
    }

    fn primary(&mut self, pair: Pair<Rule>) -> Pred {
        let at = span(&pair);
        let text = pair.as_str().to_string();
        match pair.as_rule() {
            Rule::paren => self.or_expr(pair.into_inner().next().expect("grammar: paren")),
            Rule::nested => self
                .r
                .approximated(at, &text, "is a nested query, which fpx does not read"),
            Rule::free_text => self
                .r
                .approximated(at, &text, "searches every field's text, which fpx does not read"),
            Rule::range => {
                let mut inner = pair.into_inner();
                let field = field_name(inner.next().expect("grammar: field").as_str());
                let op = match inner.next().expect("grammar: op").as_str() {
                    "<" => Op::Lt,
                    "<=" => Op::Le,
                    ">" => Op::Gt,
                    _ => Op::Ge,
                };
                let value = written(inner.next().expect("grammar: value"));
                let numeric = matches!(
                    column_type(&field),
                    crate::schema::ColumnType::Long | crate::schema::ColumnType::Int | crate::schema::ColumnType::Real
                );
                match crate::pred::parse_number(&value.text) {
                    Some(_) if numeric => atom(&field, op, true, Value::Num(value.text), &at),
                    _ => self.r.approximated(at, &text, "is a range fpx reads on numbers only"),
                }
            }
            Rule::field_match => {
                let mut inner = pair.into_inner();
                let field = field_name(inner.next().expect("grammar: field").as_str());
                if field.contains('*') {
                    return self
                        .r
                        .approximated(at, &text, "names fields by a pattern, which fpx does not expand");
                }
                let values = inner.next().expect("grammar: value");
                self.values(&field, values, &at, &text)
            }
            _ => self.r.approximated(at, &text, "is not a condition fpx reads"),
        }
    }

    /// The tests of `field : values` (a value, or a list of `or`/`and`/`not` values).
    fn values(&mut self, field: &str, pair: Pair<Rule>, at: &Span, text: &str) -> Pred {
        match pair.as_rule() {
            Rule::value_list | Rule::v_or | Rule::v_and => {
                let rule = pair.as_rule();
                let mut items: Vec<Pred> = pair
                    .into_inner()
                    .filter(|p| !matches!(p.as_rule(), Rule::or_kw | Rule::and_kw))
                    .map(|p| self.values(field, p, at, text))
                    .collect();
                match (rule, items.len()) {
                    (_, 1) => items.pop().expect("one"),
                    (Rule::v_and, _) => Pred::And(items),
                    _ => Pred::Or(items),
                }
            }
            Rule::v_not => {
                let mut nots = 0;
                let mut pred = Pred::True;
                for part in pair.into_inner() {
                    match part.as_rule() {
                        Rule::not_kw => nots += 1,
                        _ => pred = self.values(field, part, at, text),
                    }
                }
                (0..nots).fold(pred, |p, _| Pred::Not(Box::new(p)))
            }
            _ => {
                let value = written(pair);
                match self.test(field, &value, at) {
                    Ok(p) => p,
                    Err(why) => self.r.approximated(at.clone(), text, &why),
                }
            }
        }
    }

    /// One `field : value`.
    fn test(&mut self, field: &str, value: &Written, at: &Span) -> Result<Pred, String> {
        let es_type = crate::schema::ecs::es_type(field).unwrap_or("keyword");
        if !value.quoted && value.pieces == [Piece::Any] {
            return Ok(Pred::Not(Box::new(is_null(field, at))));
        }
        match es_type {
            "keyword" | "constant_keyword" | "wildcard" => Ok(matcher(field, &value.pieces, true, at)),
            "text" | "match_only_text" => Err(format!(
                "matches words of `{field}`, a text field its analyzer splits, which fpx does not read"
            )),
            "ip" if value.text.contains('/') => crate::sigma::values::in_range(field, &value.text, at),
            "ip" => Ok(atom(field, Op::Equals, true, Value::Str(value.text.clone()), at)),
            "date" => Err(format!("compares `{field}`, a date, which fpx does not read")),
            _ => match typed(field, &value.text) {
                Some(v @ (Value::Num(_) | Value::Bool(_))) => Ok(atom(field, Op::Equals, true, v, at)),
                _ => Err(format!("compares `{field}` ({es_type}) with `{}`", value.text)),
            },
        }
    }
}

/// A field name without its escapes.
fn field_name(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// A value as written (`value` pair).
fn written(pair: Pair<Rule>) -> Written {
    let inner = pair.into_inner().next().expect("grammar: value");
    match inner.as_rule() {
        Rule::quoted => {
            let raw = inner.into_inner().next().map_or("", |t| t.as_str());
            let mut text = String::new();
            let mut chars = raw.chars();
            while let Some(c) = chars.next() {
                if c != '\\' {
                    text.push(c);
                    continue;
                }
                match chars.next() {
                    Some('"') => text.push('"'),
                    Some('\\') => text.push('\\'),
                    Some('t') => text.push('\t'),
                    Some('r') => text.push('\r'),
                    Some('n') => text.push('\n'),
                    Some(other) => {
                        text.push('\\');
                        text.push(other);
                    }
                    None => text.push('\\'),
                }
            }
            Written {
                pieces: if text.is_empty() {
                    Vec::new()
                } else {
                    vec![Piece::Text(text.clone())]
                },
                text,
                quoted: true,
            }
        }
        _ => {
            let (pieces, text) = super::values::escaped_pieces(inner.as_str().trim_end(), false);
            Written {
                text,
                quoted: false,
                pieces,
            }
        }
    }
}
