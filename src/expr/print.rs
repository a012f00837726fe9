//! Printing a `Pred` in exclusion syntax (which is also KQL `where` syntax).
//! `parse_exclusion(print(p))` gives back `p` for every predicate the grammar can express.

use crate::pred::{Atom, Op, Pred, Value};

/// A predicate prints as the exclusion language writes it (here, not in `pred`: the IR
/// does not depend on a front-end's syntax).
impl std::fmt::Display for Pred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&print(self))
    }
}

/// Prints a predicate in exclusion syntax with the fewest parentheses that keep its shape.
pub fn print(pred: &Pred) -> String {
    print_with(pred, &|atom, out| write_atom(atom, &atom.field, false, out))
}

/// Prints a predicate as [`print`] does, each atom written by `atom` (which keeps the
/// operator and values but may, say, wrap the field in a conversion).
pub fn print_with(pred: &Pred, atom: &dyn Fn(&Atom, &mut String)) -> String {
    let mut out = String::new();
    write_pred(pred, 0, atom, &mut out);
    out
}

// Binding strength: `or` 1, `and` 2, atoms and `not (...)` 3. A chain is parenthesised
// inside a chain that binds as tightly or tighter (so `a or (b or c)` keeps its shape).
fn write_pred(pred: &Pred, context: u8, atom: &dyn Fn(&Atom, &mut String), out: &mut String) {
    match pred {
        Pred::True => out.push_str("true"),
        Pred::False => out.push_str("false"),
        Pred::Atom(a) => atom(a, out),
        Pred::Not(inner) => {
            out.push_str("not (");
            write_pred(inner, 0, atom, out);
            out.push(')');
        }
        Pred::And(items) => write_chain(items, " and ", 2, context, atom, out),
        Pred::Or(items) => write_chain(items, " or ", 1, context, atom, out),
    }
}

fn write_chain(
    items: &[Pred],
    sep: &str,
    strength: u8,
    context: u8,
    atom: &dyn Fn(&Atom, &mut String),
    out: &mut String,
) {
    match items {
        [] => out.push_str(if strength == 2 { "true" } else { "false" }),
        [only] => write_pred(only, context, atom, out),
        _ => {
            let grouped = strength <= context;
            if grouped {
                out.push('(');
            }
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                write_pred(item, strength, atom, out);
            }
            if grouped {
                out.push(')');
            }
        }
    }
}

/// Writes `atom` with `subject` in place of its field; with `as_text`, number and
/// boolean values are written as strings (for a subject converted with `tostring`).
pub fn write_atom(atom: &Atom, subject: &str, as_text: bool, out: &mut String) {
    let representable = (atom.op.has_negated_form() || !atom.negated)
        && (atom.op.has_case_forms() || atom.case_sensitive == default_case_sensitivity(atom.op));
    if !representable {
        // Only code can build these (e.g. a negated has_any); KQL spells them with `not`.
        let plain = Atom {
            negated: false,
            case_sensitive: default_case_sensitivity(atom.op),
            ..atom.clone()
        };
        if atom.negated {
            out.push_str("not (");
            write_atom(&plain, subject, as_text, out);
            out.push(')');
        } else {
            write_atom(&plain, subject, as_text, out);
        }
        return;
    }
    if atom.is_null_test() {
        // Sigma's `F: null`: KQL's nearest is `isnull` (a string is never null there).
        out.push_str(if atom.negated { "isnotnull(" } else { "isnull(" });
        out.push_str(subject);
        out.push(')');
        return;
    }
    if let Some(other) = atom.other_field() {
        // Two columns: the other is a name, not a literal.
        out.push_str(subject);
        out.push(' ');
        out.push_str(&operator_text(atom));
        out.push(' ');
        out.push_str(other);
        return;
    }
    if atom.op == Op::ContainedIn {
        // The literal is the left-hand side.
        out.push_str(&print_value(atom.value()));
        out.push(' ');
        out.push_str(&operator_text(atom));
        out.push(' ');
        out.push_str(subject);
        return;
    }
    let value = |v: &Value| match v {
        Value::Num(t) if as_text => print_value(&Value::Str(t.clone())),
        Value::Bool(b) if as_text => print_value(&Value::Str(b.to_string())),
        v => print_value(v),
    };
    out.push_str(subject);
    out.push(' ');
    out.push_str(&operator_text(atom));
    out.push(' ');
    if atom.op.takes_list() {
        out.push('(');
        for (i, v) in atom.values.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(&value(v));
        }
        out.push(')');
    } else {
        out.push_str(&value(atom.value()));
    }
}

fn default_case_sensitivity(op: Op) -> bool {
    !matches!(op, Op::HasAny | Op::HasAll)
}

/// The canonical spelling of an atom's operator.
pub fn operator_text(atom: &Atom) -> String {
    let (neg, cs) = (atom.negated, atom.case_sensitive);
    let word = match atom.op {
        Op::SameAs => return if neg { "!=" } else { "==" }.into(),
        Op::Equals => {
            return match (neg, cs) {
                (false, true) => "==",
                (false, false) => "=~",
                (true, true) => "!=",
                (true, false) => "!~",
            }
            .into();
        }
        Op::In => {
            return format!("{}in{}", if neg { "!" } else { "" }, if cs { "" } else { "~" });
        }
        Op::HasAny => return "has_any".into(),
        Op::HasAll => return "has_all".into(),
        Op::MatchesRegex => return "matches regex".into(),
        Op::Lt => return "<".into(),
        Op::Le => return "<=".into(),
        Op::Gt => return ">".into(),
        Op::Ge => return ">=".into(),
        Op::Contains | Op::ContainedIn => "contains",
        Op::StartsWith => "startswith",
        Op::EndsWith => "endswith",
        Op::Has => "has",
        Op::HasPrefix => "hasprefix",
        Op::HasSuffix => "hassuffix",
    };
    format!("{}{}{}", if neg { "!" } else { "" }, word, if cs { "_cs" } else { "" })
}

/// Prints a value as a KQL literal; a backslash-heavy string prints verbatim (@"C:\x").
pub fn print_value(value: &Value) -> String {
    match value {
        Value::Num(text) => text.clone(),
        Value::Bool(b) => b.to_string(),
        Value::DateTime { written, .. } => written.clone(),
        Value::Null => "null".to_string(),
        Value::Str(s) => {
            if s.contains('\\') && !s.contains(['"', '\n', '\r']) {
                return format!("@\"{s}\"");
            }
            let mut out = String::with_capacity(s.len() + 2);
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
    }
}
