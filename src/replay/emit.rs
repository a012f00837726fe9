//! `fpx replay --emit kql`: the replay of a KQL rule as one query for the SIEM's own
//! engine (Microsoft Sentinel, Azure Data Explorer), so that a back-test over a tenant's
//! logs runs where the logs are.
//!
//! The query keeps the events the rule's detection matches (fpx's reading of it, the
//! predicate the local replay evaluates), marks each exclusion as a column, and returns
//! one row of counts (matches, alerts, suppressed per exclusion) and, per exclusion, the
//! ten most common values of the fields it reads among the matches it suppresses.
//!
//! fpx reads every field as text and an absent field as empty; the query says the same
//! in KQL, so that it means on the cluster what the predicate means locally: a column of
//! another type is compared as `tostring(C)`, a field the table lacks as
//! `tostring(column_ifexists("F", ""))`, a number comparison on a numeric column holds
//! only where the value is not null, and on any other column only where its text is a
//! decimal number.

use std::fmt::Write;

use crate::expr::{operator_text, print_value, print_with, write_atom};
use crate::pred::{Atom, Op, Pred};
use crate::schema::{Column, ColumnType, schema};

use super::Rule;

/// How many suppressed values of each exclusion the query returns.
const TOP: usize = 10;

/// Why a rule has no emitted query.
#[derive(Debug, Clone, PartialEq)]
pub enum NotEmitted {
    /// Sigma rules have no one KQL table.
    NotKql,
    /// The rule names no table fpx knows.
    NoTable,
}

/// The query that replays `rule` on the SIEM, over the last `since` (a KQL timespan
/// such as `30d`; `None`: the time range the query is run with).
pub fn query(rule: &Rule, since: Option<&str>) -> Result<String, NotEmitted> {
    if !rule.format.is_kql() {
        return Err(NotEmitted::NotKql);
    }
    let table = rule.table.as_deref().ok_or(NotEmitted::NoTable)?;
    let columns = schema().table(table).ok_or(NotEmitted::NoTable)?;
    let kql = |p: &Pred| kql(p, columns);
    let mut q = String::new();
    let _ = writeln!(q, "// fpx replay: {} ({})", one_line(&rule.name), rule.file.display());
    let _ = writeln!(q, "// rule id: {}", one_line(&rule.id));
    if !rule.exact {
        q.push_str(
            "// detection approximated by fpx (see FPX401): matches may include events the rule does not match\n",
        );
    }
    let tested: Vec<(usize, &super::Exclusion, &Pred)> = rule
        .exclusions
        .iter()
        .enumerate()
        .filter_map(|(i, e)| e.pred.as_ref().map(|p| (i + 1, e, p)))
        .collect();
    for (i, e) in rule.exclusions.iter().enumerate() {
        let state = if e.pred.is_some() {
            ""
        } else {
            " (not tested: it did not parse)"
        };
        let _ = writeln!(
            q,
            "// fpx_{} ({} \"{}\"): {}{state}",
            i + 1,
            e.origin.as_str(),
            one_line(&e.name),
            one_line(&e.text)
        );
    }
    // A union of tables (`union(A, B)`) is read as the rule reads it.
    let source = match schema().tables_of(table).as_slice() {
        [one] => name(one),
        tables => format!("union {}", tables.join(", ")),
    };
    let _ = writeln!(q, "let fpx_matches = materialize({source}");
    if let Some(since) = since {
        let _ = writeln!(q, "    | where TimeGenerated > ago({since})");
    }
    let _ = write!(q, "    | where {}", kql(&rule.detection));
    if !tested.is_empty() {
        let marks: Vec<String> = tested.iter().map(|(i, _, p)| format!("fpx_{i} = {}", kql(p))).collect();
        let _ = write!(q, "\n    | extend {}", marks.join(", "));
    }
    q.push_str(");\n");
    // Alerts: matches no inline exclusion or meta-filter suppresses (scenario exclusions
    // are proposals, counted apart), as the local replay counts them.
    let deployed: Vec<String> = tested
        .iter()
        .filter(|(_, e, _)| e.origin != crate::checks::Origin::Scenario)
        .map(|(i, _, _)| format!("fpx_{i}"))
        .collect();
    let alerts = if deployed.is_empty() {
        "count()".to_string()
    } else {
        format!("countif(not({}))", deployed.join(" or "))
    };
    let mut counts = format!("fpx_matches\n    | summarize matches = count(), alerts = {alerts}");
    for (i, _, _) in &tested {
        let _ = write!(counts, ", suppressed_{i} = countif(fpx_{i})");
    }
    counts.push_str("\n    | extend row = \"counts\"");
    if tested.is_empty() {
        q.push_str(&counts);
        q.push('\n');
        return Ok(q);
    }
    let _ = write!(q, "union\n    ({})", counts.replace('\n', "\n    "));
    for (i, _, p) in &tested {
        let by: Vec<String> = p.fields().iter().map(|f| group_key(f, columns)).collect();
        let by = if by.is_empty() {
            String::new()
        } else {
            format!(" by {}", by.join(", "))
        };
        let _ = write!(
            q,
            ",\n    (fpx_matches | where fpx_{i} | summarize suppressed = count(){by} | top {TOP} by suppressed | extend row = \"top\", exclusion = {i})"
        );
    }
    q.push('\n');
    Ok(q)
}

/// A predicate in KQL over a table with these columns, meaning what fpx means by it.
pub fn kql(pred: &Pred, columns: &[Column]) -> String {
    print_with(pred, &|atom, out| write_typed(atom, columns, out))
}

fn write_typed(atom: &Atom, columns: &[Column], out: &mut String) {
    if atom.op.takes_list() && atom.values.is_empty() {
        // `in ()` (an empty allow-list) does not parse in KQL; it is a constant.
        out.push_str(if atom.eval_text("") { "true" } else { "false" });
        return;
    }
    let column = columns.iter().find(|c| c.name == atom.field);
    if let Some(other) = atom.other_field() {
        // Two fields compared as texts, as fpx reads them.
        let subject = text_of(&atom.field, column);
        let other = text_of(other, columns.iter().find(|c| c.name == other));
        let _ = write!(out, "{subject} {} {other}", operator_text(atom));
        return;
    }
    let comparison = matches!(atom.op, Op::Lt | Op::Le | Op::Gt | Op::Ge);
    if atom.values.iter().any(crate::pred::Value::is_datetime) {
        // fpx compares datetimes as instants: the column itself, or the field read as one.
        let subject = match column {
            Some(c) if c.ty == ColumnType::Datetime => name(&atom.field),
            _ => format!("todatetime({})", text_of(&atom.field, column)),
        };
        if comparison {
            let _ = write!(out, "(isnotnull({subject}) and ");
            write_atom(atom, &subject, false, out);
            out.push(')');
        } else {
            write_atom(atom, &subject, false, out);
        }
        return;
    }
    match column {
        Some(c) if c.ty == ColumnType::String && !comparison => write_atom(atom, &name(&atom.field), false, out),
        Some(c) if c.ty.is_numeric() && comparison => {
            // A null number compares as null; fpx reads it as empty, which compares false.
            let subject = name(&atom.field);
            let _ = write!(out, "(isnotnull({subject}) and ");
            write_atom(atom, &subject, false, out);
            out.push(')');
        }
        _ => {
            let subject = text_of(&atom.field, column);
            if comparison {
                // fpx compares numbers only where the text is a decimal number.
                let op = operator_text(atom);
                let _ = write!(
                    out,
                    "({subject} matches regex @\"^-?[0-9]+(\\.[0-9]+)?$\" and todouble({subject}) {op} {})",
                    atom.value().text()
                );
            } else {
                write_atom(atom, &subject, true, out);
            }
        }
    }
}

/// A field as text: a non-string column converted, a field the table lacks empty.
fn text_of(field: &str, column: Option<&Column>) -> String {
    match column {
        Some(c) if c.ty == ColumnType::String => name(field),
        Some(_) => format!("tostring({})", name(field)),
        None => {
            // A property of a column (`AdditionalFields.Command`, `RawEventData.Target[2].ID`)
            // is read from the column's parsed text, whether the column is a string or dynamic.
            let column = crate::pred::column_of(field);
            let (read, path) = match crate::pred::canonical_path(field) {
                Some(path) if column.len() < field.len() => (column, path[column.len()..].to_string()),
                _ => (field, String::new()),
            };
            let read = format!(
                "column_ifexists({}, \"\")",
                print_value(&crate::pred::Value::Str(read.to_string()))
            );
            if path.is_empty() {
                format!("tostring({read})")
            } else {
                format!("tostring(parse_json(tostring({read})){path})")
            }
        }
    }
}

/// A `summarize ... by` key for a field.
fn group_key(field: &str, columns: &[Column]) -> String {
    match columns.iter().find(|c| c.name == field) {
        // KQL does not group by a dynamic value: by its text.
        Some(c) if c.ty == ColumnType::Dynamic => format!("{} = tostring({})", name(field), name(field)),
        Some(_) => name(field),
        None => format!("{} = {}", name(field), text_of(field, None)),
    }
}

/// A column name as KQL writes it: bare when it is an identifier, else `['...']`.
fn name(field: &str) -> String {
    let identifier = field
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if identifier {
        field.to_string()
    } else {
        format!("['{}']", field.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// Text for a `//` comment: one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{ParseOutcome, parse_exclusion};

    fn typed(text: &str) -> String {
        let ParseOutcome::Parsed(p) = parse_exclusion(text) else {
            panic!("{text}")
        };
        kql(&p.pred, schema().table("DeviceNetworkEvents").unwrap())
    }

    /// KQL groups by a dynamic column's text, not by the dynamic value (KS116).
    #[test]
    fn a_dynamic_column_is_grouped_by_its_text() {
        let columns = crate::schema::schema().table("CloudAppEvents").unwrap();
        assert_eq!(
            group_key("RawEventData", columns),
            "RawEventData = tostring(RawEventData)"
        );
        assert_eq!(group_key("ActionType", columns), "ActionType");
    }

    #[test]
    fn fields_read_as_fpx_reads_them() {
        assert_eq!(typed(r#"RemoteUrl has "x""#), r#"RemoteUrl has "x""#);
        assert_eq!(typed("RemotePort == 443"), r#"tostring(RemotePort) == "443""#);
        assert_eq!(
            typed("RemotePort > 1024"),
            "(isnotnull(RemotePort) and RemotePort > 1024)"
        );
        assert_eq!(
            typed(r#"Nope =~ "a""#),
            r#"tostring(column_ifexists("Nope", "")) =~ "a""#
        );
        assert_eq!(
            typed("RemoteUrl > 5"),
            r#"(RemoteUrl matches regex @"^-?[0-9]+(\.[0-9]+)?$" and todouble(RemoteUrl) > 5)"#
        );
        assert_eq!(name("a.b"), "['a.b']");
    }
}
