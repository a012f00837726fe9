//! FPX204 type-mismatch (error)
//!
//! ## What it catches
//! An operator KQL does not define for the column's type: a string operator on a number,
//! boolean, date or GUID column (`ProcessId contains "12"`, `RemotePort in~ ("443")`,
//! `Timestamp has "2024"`), a string operator with a number (`FileName contains 5`), or a
//! number comparison on a string column (`FileName > 5`).
//!
//! ## Why it matters
//! Kusto refuses the query ("The operator 'contains' is not defined for the operand types
//! long and string"): pasted into the rule as `| where not(...)`, the exclusion stops the
//! rule from running at all. fpx's logic verdicts read every field as text, which is not
//! what the cluster would do.
//!
//! ## Example
//! ```text
//! table: DeviceProcessEvents
//! rule: FileName =~ "cmd.exe"
//! exclusion: ProcessId contains "12"
//! ```
//!
//! ## Passes
//! ```text
//! table: DeviceProcessEvents
//! rule: FileName =~ "cmd.exe"
//! exclusion: ProcessId == 1234
//! ```
//!
//! ## Fix
//! Compare numbers with `==`, `in` or `<`/`>` and a number; to test a number's digits as
//! text, convert it: `tostring(ProcessId) contains "12"`. No automatic fix.
//!
//! Which operator, column type and value kind Kusto accepts was read off Kusto.Language
//! (`tests/kusto_agreement.rs` checks every combination against it).

use super::{Code, Finding, CodeInfo, Severity};
use crate::expr::operator_text;
use crate::pred::{Atom, Op, Value};
use crate::schema::{Column, ColumnType};

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx204,
    name: "type-mismatch",
    severity: Severity::Error,
    summary: "an operator KQL does not define for the column's type",
    source: include_str!("fpx204_type_mismatch.rs"),
};

/// KQL's name of a column type.
fn type_name(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::String => "string",
        ColumnType::Long => "long",
        ColumnType::Int => "int",
        ColumnType::Bool => "bool",
        ColumnType::Datetime => "datetime",
        ColumnType::Dynamic => "dynamic",
        ColumnType::Real => "real",
        ColumnType::Guid => "guid",
        ColumnType::Timespan => "timespan",
    }
}

/// KQL's type of a literal.
fn literal_type(value: &Value) -> &'static str {
    match value {
        Value::Str(_) => "string",
        Value::Bool(_) => "bool",
        Value::Num(text) if text.contains(['.', 'e', 'E']) => "real",
        Value::Num(_) => "long",
        Value::DateTime { .. } => "datetime",
        Value::Null => "null",
    }
}

/// Whether KQL defines the atom's operator for a column of type `ty` and its values;
/// `None` when it does, else the value type it refuses (the column's type alone when
/// no value type would do).
fn refused(atom: &Atom, ty: ColumnType) -> Option<Option<&Value>> {
    let text_column = matches!(ty, ColumnType::String | ColumnType::Dynamic);
    let non_string = atom.values.iter().find(|v| !matches!(v, Value::Str(_)));
    match atom.op {
        // `==`, `!=`, `in`, `!in` take any column and value.
        Op::Equals | Op::In if atom.case_sensitive => None,
        // Read from a query only for two string columns.
        Op::SameAs => None,
        // `=~`, `!~`: text and a string.
        Op::Equals => (!text_column).then_some(None).or_else(|| non_string.map(Some)),
        // `in~`, `has_any`, `has_all`: a text column, any values.
        Op::In | Op::HasAny | Op::HasAll => (!text_column).then_some(None),
        Op::Contains
        | Op::ContainedIn
        | Op::StartsWith
        | Op::EndsWith
        | Op::Has
        | Op::HasPrefix
        | Op::HasSuffix
        | Op::MatchesRegex => (!text_column).then_some(None).or_else(|| non_string.map(Some)),
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let value = atom.value();
            let accepted = match ty {
                ColumnType::Int | ColumnType::Long | ColumnType::Real | ColumnType::Bool => {
                    matches!(value, Value::Num(_) | Value::Bool(_))
                }
                ColumnType::Datetime => value.is_datetime(),
                ColumnType::Dynamic => matches!(value, Value::Num(_)),
                _ => false,
            };
            (!accepted).then_some(Some(value))
        }
    }
}

pub(super) fn findings(atom: &Atom, column: &Column) -> Vec<Finding> {
    let Some(value) = refused(atom, column.ty) else {
        return Vec::new();
    };
    let op = operator_text(atom);
    let column_type = type_name(column.ty);
    let message = match value {
        Some(v) => format!(
            "the operator '{op}' is not defined for the operand types {column_type} and {} ({} is {column_type})",
            literal_type(v),
            column.name
        ),
        None => format!(
            "the operator '{op}' is not defined for {column_type} columns ({} is {column_type})",
            column.name
        ),
    };
    let mut f = Finding::new(&INFO, message, atom.span.clone(), "Kusto refuses this comparison");
    f.help = Some(match column.ty {
        ColumnType::String | ColumnType::Dynamic => {
            "compare text with a string value; fpx's verdicts read the field as text".into()
        }
        _ => format!(
            "compare a {column_type} with `==`, `in` or `<`/`>`, or convert it: `tostring({})`; fpx's verdicts read the field as text",
            column.name
        ),
    });
    vec![f]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{ParseOutcome, parse_exclusion};

    fn refused_text(text: &str, ty: ColumnType) -> bool {
        let ParseOutcome::Parsed(p) = parse_exclusion(text) else {
            panic!("{text}")
        };
        let atoms = p.pred.atoms();
        refused(atoms[0], ty).is_some()
    }

    #[test]
    fn what_kusto_refuses() {
        use ColumnType::*;
        assert!(refused_text(r#"x contains "12""#, Long));
        assert!(refused_text(r#"x in~ ("12")"#, Int));
        assert!(refused_text("x > 5", String));
        assert!(refused_text("x > 5", Datetime));
        assert!(refused_text(r#"x > "5""#, Long));
        assert!(refused_text("x contains 5", String));
        assert!(refused_text(r#"x matches regex "1""#, Real));
        assert!(!refused_text(r#"x == "12""#, Long));
        assert!(!refused_text("x in (1, 2)", Guid));
        assert!(!refused_text("x > 1.5", Int));
        assert!(!refused_text(r#"x has_any (1, "a")"#, String));
        assert!(!refused_text(r#"x =~ "a""#, Dynamic));
        assert!(refused_text("x =~ 1", Dynamic));
        assert!(!refused_text("x >= 1", Bool));
    }
}
