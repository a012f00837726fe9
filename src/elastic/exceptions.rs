//! Elastic exception lists: detection-rules' TOML exception files (`[metadata]` with
//! `rule_ids`, `[[exceptions]]` with a `container` and `items`) and Kibana's NDJSON
//! exports (a list container, its items, and an export summary, one JSON object per
//! line). Each item is an exclusion of the rules the file names (or that name its list
//! in `[[rule.exceptions_list]]`), judged like a Sigma meta-filter.
//!
//! An item suppresses an alert when all its entries hold (items are alternatives).
//! Entries, as Kibana builds their queries: `match` (*is*) and `match_any` (*is one of*)
//! compare the whole value, case-sensitively (a `match_phrase` on a keyword); `wildcard`
//! (*matches*) with `*` and `?`, case-sensitively, a backslash escaping the next
//! character; `exists`: the field has a value; operator `excluded` negates the entry
//! (*is not*, *does not match*). `list` entries (value lists kept in Kibana) and `nested`
//! entries (conditions on one element of an array of objects) are not judged (FPX401).

use serde::Deserialize;

use super::values::{atom, column_type, is_null, typed};
use crate::model::FilterKind;
use crate::pred::{Op, Pred, Span};
use crate::sigma::MetaFilter;
use crate::sigma::values::{Piece, matcher};

/// Whether a TOML text is a detection-rules exception list.
pub fn is_exception_toml(text: &str) -> bool {
    text.lines().any(|l| l.trim_end() == "[[exceptions]]") && text.contains("list_name")
}

/// Whether a JSON line is an exception list or item of a Kibana export.
pub fn is_exception_ndjson(text: &str) -> bool {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    serde_json::from_str::<serde_json::Value>(first)
        .is_ok_and(|v| v.get("list_id").is_some() && (v.get("entries").is_some() || v.get("namespace_type").is_some()))
}

#[derive(Deserialize)]
struct TomlFile {
    metadata: Metadata,
    exceptions: Vec<TomlList>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    rule_ids: Vec<String>,
    #[serde(default)]
    rule_names: Vec<String>,
}

#[derive(Deserialize)]
struct TomlList {
    container: Container,
    #[serde(default)]
    items: Vec<toml::Spanned<Item>>,
}

#[derive(Deserialize)]
struct Container {
    list_id: Option<String>,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    name: String,
    #[serde(default)]
    item_id: Option<String>,
    list_id: Option<String>,
    entries: Vec<Entry>,
}

#[derive(Deserialize, Clone)]
struct Entry {
    field: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    operator: Option<String>,
    #[serde(default)]
    value: Option<EntryValue>,
}

#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum EntryValue {
    One(String),
    Many(Vec<String>),
}

/// The items of a TOML exception file, as filters of the rules its metadata names.
pub fn read_toml(text: &str) -> Result<Vec<MetaFilter>, String> {
    let file: TomlFile = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let mut rules = file.metadata.rule_ids;
    rules.extend(file.metadata.rule_names);
    let mut out = Vec::new();
    for list in file.exceptions {
        for item in list.items {
            let span = item_span(text, item.span().start);
            let item = item.into_inner();
            let list_id = item.list_id.clone().or(list.container.list_id.clone());
            out.push(filter(&item, span, rules.clone(), list_id, &list.container.name));
        }
    }
    Ok(out)
}

/// An item's bytes: from its `[[exceptions.items]]` header to the next item or list
/// (its entries are tables of their own, which `toml` does not count as the item's).
fn item_span(text: &str, start: usize) -> Span {
    let rest = &text[start..];
    let end = rest
        .match_indices("\n[[exceptions")
        .map(|(i, _)| i)
        .find(|&i| !rest[i + 1..].starts_with("[[exceptions.items.entries]]"))
        .unwrap_or(rest.len());
    start..start + rest[..end].trim_end().len()
}

/// The items of a Kibana NDJSON export, as filters of the rules that name their list.
pub fn read_ndjson(text: &str) -> Result<Vec<MetaFilter>, String> {
    let mut out = Vec::new();
    let mut at = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let span = at..at + line.trim_end().len();
        at += line.len();
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("line {}: not JSON: {e}", n + 1))?;
        if value.get("entries").is_none() {
            // The list container, or the export's summary line.
            continue;
        }
        let item: Item =
            serde_json::from_value(value).map_err(|e| format!("line {}: not an exception item: {e}", n + 1))?;
        let list_id = item.list_id.clone();
        out.push(filter(&item, span, Vec::new(), list_id, ""));
    }
    Ok(out)
}

fn filter(item: &Item, span: Span, rules: Vec<String>, list_id: Option<String>, list_name: &str) -> MetaFilter {
    let entries: Result<Vec<Pred>, String> = item.entries.iter().map(|e| entry(e, &span)).collect();
    let (suppresses, why) = match entries {
        Ok(mut preds) if preds.len() == 1 => (preds.pop(), None),
        Ok(preds) => (Some(Pred::And(preds)), None),
        Err(why) => (None, Some(why)),
    };
    let name = match (&item.name, &item.item_id) {
        (n, _) if !n.is_empty() => n.clone(),
        (_, Some(id)) => id.clone(),
        _ => list_name.to_string(),
    };
    MetaFilter {
        id: item.item_id.clone().unwrap_or_default(),
        title: name,
        rules,
        table: crate::schema::Table::ecs(),
        suppresses,
        why,
        span,
        list_id,
        kind: FilterKind::ElasticException,
    }
}

/// One entry as the events it holds for.
fn entry(e: &Entry, span: &Span) -> Result<Pred, String> {
    let values = || -> Vec<String> {
        match &e.value {
            Some(EntryValue::One(v)) => vec![v.clone()],
            Some(EntryValue::Many(vs)) => vs.clone(),
            None => Vec::new(),
        }
    };
    let field = e.field.as_str();
    let text_field = matches!(crate::schema::ecs::es_type(field), Some("text" | "match_only_text"));
    let holds = match e.kind.as_str() {
        "match" | "match_any" => {
            if text_field {
                return Err(format!(
                    "`{field}` is a text field, which a phrase matches word by word"
                ));
            }
            let tests: Result<Vec<Pred>, String> = values()
                .iter()
                .map(|v| {
                    typed(field, v)
                        .map(|value| atom(field, Op::Equals, true, value, span))
                        .ok_or_else(|| format!("`{v}` is not a {:?} value of `{field}`", column_type(field)))
                })
                .collect();
            or(tests?)
        }
        "wildcard" => {
            if text_field {
                return Err(format!(
                    "`{field}` is a text field, which a pattern matches word by word"
                ));
            }
            or(values()
                .iter()
                .map(|v| matcher(field, &wildcard(v), true, span))
                .collect())
        }
        "exists" => Pred::Not(Box::new(is_null(field, span))),
        "list" => {
            return Err(format!(
                "the entry on `{field}` compares with a value list kept in Kibana, which fpx does not read"
            ));
        }
        "nested" => {
            return Err(format!(
                "the entry on `{field}` is nested (one element of an array of objects), which fpx does not read"
            ));
        }
        other => return Err(format!("`{other}` is not an exception entry type fpx knows")),
    };
    Ok(match e.operator.as_deref() {
        Some("excluded") => Pred::Not(Box::new(holds)),
        _ => holds,
    })
}

fn or(mut preds: Vec<Pred>) -> Pred {
    match preds.len() {
        1 => preds.pop().expect("one"),
        _ => Pred::Or(preds),
    }
}

/// A *matches* value: `*` and `?` wildcards, a backslash escaping the next character.
fn wildcard(value: &str) -> Vec<Piece> {
    super::values::escaped_pieces(value, true).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::print;

    const TOML: &str = r#"[metadata]
creation_date = "2024/01/01"
list_name = "Trusted tools"
rule_ids = ["r1"]
rule_names = []
updated_date = "2024/01/01"

[[exceptions]]
[exceptions.container]
description = "d"
list_id = "trusted"
name = "Trusted tools"
namespace_type = "single"
type = "detection"

[[exceptions.items]]
description = "backup agent"
list_id = "trusted"
name = "backup agent"
type = "simple"
comments = []

[[exceptions.items.entries]]
field = "process.executable"
type = "match_any"
operator = "included"
value = ["C:\\Program Files\\Backup\\agent.exe"]

[[exceptions.items.entries]]
field = "process.parent.name"
type = "wildcard"
operator = "excluded"
value = "cmd*"

[[exceptions.items]]
description = "x"
list_id = "trusted"
name = "listed"
type = "simple"
comments = []

[[exceptions.items.entries]]
field = "process.name"
type = "list"
operator = "included"
"#;

    #[test]
    fn toml_items_are_filters_of_the_named_rules() {
        assert!(is_exception_toml(TOML));
        let filters = read_toml(TOML).unwrap();
        assert_eq!(filters.len(), 2);
        let f = &filters[0];
        assert_eq!(f.rules, ["r1"]);
        assert_eq!(f.list_id.as_deref(), Some("trusted"));
        assert_eq!(
            print(f.suppresses.as_ref().unwrap()),
            r#"process.executable == @"C:\Program Files\Backup\agent.exe" and not (process.parent.name startswith_cs "cmd")"#
        );
        assert!(
            TOML[f.span.clone()].contains("backup agent"),
            "{:?}",
            &TOML[f.span.clone()]
        );
        assert!(filters[1].suppresses.is_none());
        assert!(filters[1].why.as_ref().unwrap().contains("value list"));
    }

    #[test]
    fn kibana_exports_are_read() {
        let export = r#"{"list_id":"trusted","name":"Trusted","namespace_type":"single","type":"detection","description":"d"}
{"item_id":"i1","list_id":"trusted","name":"svchost","type":"simple","namespace_type":"single","entries":[{"field":"process.name","operator":"included","type":"match","value":"svchost.exe"},{"field":"process.pid","operator":"included","type":"exists"}]}
{"exported_exception_list_count":1,"exported_exception_list_item_count":1}
"#;
        assert!(is_exception_ndjson(export));
        let filters = read_ndjson(export).unwrap();
        assert_eq!(filters.len(), 1);
        assert_eq!(
            print(filters[0].suppresses.as_ref().unwrap()),
            r#"process.name == "svchost.exe" and not (process.pid == "")"#
        );
        assert!(export[filters[0].span.clone()].starts_with("{\"item_id\":\"i1\""));
        assert!(!is_exception_ndjson("{\"process\":{\"name\":\"x\"}}\n"));
    }

    #[test]
    fn each_entry_type_and_operator() {
        let item = |entry: &str| {
            let line = format!(r#"{{"item_id":"i","list_id":"l","name":"n","type":"simple","entries":[{entry}]}}"#);
            let filter = read_ndjson(&line).unwrap().pop().unwrap();
            filter
                .suppresses
                .as_ref()
                .map(print)
                .ok_or_else(|| filter.why.clone().unwrap_or_default())
        };
        assert_eq!(
            item(r#"{"field":"process.name","operator":"excluded","type":"match","value":"a.exe"}"#),
            Ok(r#"not (process.name == "a.exe")"#.into())
        );
        assert_eq!(
            item(r#"{"field":"process.name","operator":"included","type":"match_any","value":["a","b"]}"#),
            Ok(r#"process.name == "a" or process.name == "b""#.into())
        );
        // `matches`: `?` is one character, `\*` a star.
        assert_eq!(
            item(r#"{"field":"file.name","operator":"included","type":"wildcard","value":"a?c\\*"}"#),
            Ok(r#"file.name matches regex @"(?s)^a.c\*$""#.into())
        );
        assert_eq!(
            item(r#"{"field":"file.name","operator":"excluded","type":"exists"}"#),
            Ok("not (not (isnull(file.name)))".into())
        );
        assert!(
            item(r#"{"field":"file.name","operator":"included","type":"list","list":{"id":"x","type":"keyword"}}"#)
                .unwrap_err()
                .contains("value list")
        );
        assert!(
            item(r#"{"field":"file.Ext.code_signature","type":"nested","entries":[]}"#)
                .unwrap_err()
                .contains("nested")
        );
        // A number field takes numbers; a word there is not a value of it.
        assert!(item(r#"{"field":"process.pid","operator":"included","type":"match","value":"x"}"#).is_err());
    }
}
