//! Values as Elasticsearch compares them, shared by the EQL and Kibana KQL readers:
//! wildcard patterns (`*` any text, `?` one character) as the narrowest exact test
//! (the Sigma front-end's matcher), and literals typed by the field's ECS type.

use crate::pred::{Atom, Op, Pred, Span, Value};
use crate::schema::ColumnType;
use crate::sigma::values::{Piece, matcher};

/// A pattern's text and wildcards; `single`: whether `?` is a wildcard too (EQL's
/// `:` and `like`; Kibana KQL has `*` only).
pub fn pieces(pattern: &str, single: bool) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    for ch in pattern.chars() {
        match ch {
            '*' => out.push(Piece::Any),
            '?' if single => out.push(Piece::One),
            ch => match out.last_mut() {
                Some(Piece::Text(t)) => t.push(ch),
                _ => out.push(Piece::Text(ch.to_string())),
            },
        }
    }
    out
}

/// A pattern whose backslash escapes the next character (Kibana KQL's unquoted values,
/// exception *matches* entries): its pieces, and its text without the escapes.
/// `single`: whether `?` is a wildcard too (an exception's, not Kibana KQL's), and then
/// `\t` is a `t` (an Elasticsearch wildcard), not Kibana KQL's tab.
pub fn escaped_pieces(pattern: &str, single: bool) -> (Vec<Piece>, String) {
    let mut pieces: Vec<Piece> = Vec::new();
    let mut text = String::new();
    let push = |pieces: &mut Vec<Piece>, c: char| match pieces.last_mut() {
        Some(Piece::Text(t)) => t.push(c),
        _ => pieces.push(Piece::Text(c.to_string())),
    };
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let escaped = match chars.next() {
                    Some('t') if !single => '\t',
                    Some('r') if !single => '\r',
                    Some('n') if !single => '\n',
                    Some(other) => other,
                    None => '\\',
                };
                text.push(escaped);
                push(&mut pieces, escaped);
            }
            '*' => {
                text.push('*');
                pieces.push(Piece::Any);
            }
            '?' if single => {
                text.push('?');
                pieces.push(Piece::One);
            }
            c => {
                text.push(c);
                push(&mut pieces, c);
            }
        }
    }
    (pieces, text)
}

/// `field` matches the wildcard pattern.
pub fn wildcard(field: &str, pattern: &str, single: bool, cased: bool, span: &Span) -> Pred {
    matcher(field, &pieces(pattern, single), cased, span)
}

/// One test of a field.
pub fn atom(field: &str, op: Op, cased: bool, value: Value, span: &Span) -> Pred {
    Pred::Atom(Atom {
        span: span.clone(),
        ..Atom::new(field, op, false, cased, vec![value])
    })
}

/// The field has no value (absent or null). Every other test is false there, and its
/// negation true: Elasticsearch's `must_not` keeps documents without the field.
/// (A number or boolean field's values hold no null text: there fpx reads no value as
/// the empty text, as it does for KQL's typed columns.)
pub fn is_null(field: &str, span: &Span) -> Pred {
    match column_type(field) {
        ColumnType::String => atom(field, Op::Equals, true, Value::Null, span),
        _ => atom(field, Op::Equals, true, Value::Str(String::new()), span),
    }
}

/// The type fpx reads a field's values as: its ECS type, else a keyword (the fields of
/// an integration ECS does not define are keywords, nearly all).
pub fn column_type(field: &str) -> ColumnType {
    crate::schema::ecs::es_type(field).map_or(ColumnType::String, crate::schema::ecs::column_type)
}

/// A literal compared with `field`: a number for a numeric field, `true`/`false` for a
/// boolean one, else text. `None` when the field's type cannot hold it (a word
/// compared with a number field).
pub fn typed(field: &str, text: &str) -> Option<Value> {
    match column_type(field) {
        ColumnType::Long | ColumnType::Int | ColumnType::Real => {
            crate::pred::parse_number(text).map(|_| Value::Num(text.to_string()))
        }
        ColumnType::Bool => match text.to_ascii_lowercase().as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => Some(Value::Str(text.to_string())),
    }
}

/// Whether the field holds text (and so takes wildcard and case-insensitive tests).
pub fn is_text(field: &str) -> bool {
    matches!(column_type(field), ColumnType::String)
}
