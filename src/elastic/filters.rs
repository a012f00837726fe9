//! A rule's `[[rule.filters]]`: Kibana filters (Elasticsearch query DSL) the rule's
//! query runs with. A filter holds with the query (AND); one with `negate = true` removes
//! the events it matches, so it is an exclusion of the rule, judged like an exception
//! item (a negated `exists` alone is the rule's own condition, "the field is missing",
//! as `F == null` is in a query); a `disabled` one does nothing. The forms rules use are read: `wildcard` (with
//! `case_insensitive`, `*`/`?` and backslash escapes) and `exists`; any other is not
//! judged (FPX401).

use super::values::{escaped_pieces, is_null};
use crate::model::FilterKind;
use crate::pred::{Pred, Span};
use crate::sigma::MetaFilter;
use crate::sigma::values::matcher;

/// The filters of a rule file, read from its `[rule]` table's `filters` array.
pub struct Filters {
    /// Filters that hold with the query (not negated): conjuncts of D, or why one is
    /// not read.
    pub kept: Vec<Result<Pred, String>>,
    /// Negated filters: exclusions of the rule (`rule_id`), placed in the file.
    pub exclusions: Vec<MetaFilter>,
}

/// Reads `filters` (the TOML values of `[[rule.filters]]`, in file order) of the rule
/// `rule_id` in `text`.
pub fn read(text: &str, rule_id: &str, filters: &[toml::Value]) -> Filters {
    let mut out = Filters {
        kept: Vec::new(),
        exclusions: Vec::new(),
    };
    let spans = header_spans(text);
    for (n, filter) in filters.iter().enumerate() {
        let meta = filter.get("meta");
        let flag = |key: &str| meta.and_then(|m| m.get(key)).and_then(toml::Value::as_bool) == Some(true);
        if flag("disabled") {
            continue;
        }
        let span = spans.get(n).cloned().unwrap_or(0..0);
        let lowered = lower(filter, &span);
        if !flag("negate") {
            out.kept.push(lowered);
            continue;
        }
        // A negated `exists` says what the rule looks for (events without the field), as
        // `F == null` does in a query: a condition of the rule, not an exclusion.
        if let Ok(p) = &lowered
            && p.atoms()
                .iter()
                .all(|a| a.is_null_test() || a.values.iter().all(|v| v.text().is_empty()))
        {
            out.kept.push(Ok(Pred::Not(Box::new(p.clone()))));
            continue;
        }
        let (suppresses, why) = match lowered {
            Ok(p) => (Some(p), None),
            Err(why) => (None, Some(why)),
        };
        out.exclusions.push(MetaFilter {
            id: format!("{rule_id}/filter/{}", n + 1),
            title: format!("filter {}", n + 1),
            rules: vec![rule_id.to_string()],
            table: crate::schema::Table::ecs(),
            suppresses,
            why,
            span,
            list_id: None,
            kind: FilterKind::ElasticFilter,
        });
    }
    out
}

/// Each `[[rule.filters]]` table's bytes: from its header to the next table that is not
/// one of its own (`[rule.filters.meta]`, `[rule.filters.query.wildcard."f"]`).
fn header_spans(text: &str) -> Vec<Span> {
    let mut spans: Vec<Span> = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if let Some(last) = spans.last_mut()
            && trimmed.starts_with('[')
            && !trimmed.starts_with("[rule.filters.")
        {
            // The filter ended before this header: close it (without trailing blanks).
            if last.end == usize::MAX {
                last.end = at;
            }
        }
        if trimmed == "[[rule.filters]]" {
            spans.push(at..usize::MAX);
        }
        at += line.len();
    }
    for s in &mut spans {
        if s.end == usize::MAX {
            s.end = text.len();
        }
        s.end = s.start + text[s.clone()].trim_end().len();
    }
    spans
}

/// What one filter matches.
fn lower(filter: &toml::Value, span: &Span) -> Result<Pred, String> {
    let query = filter.get("query").unwrap_or(filter);
    if let Some(wildcard) = query.get("wildcard").and_then(toml::Value::as_table) {
        let (field, spec) = wildcard.iter().next().ok_or("an empty `wildcard` filter")?;
        let (value, insensitive) = match spec {
            toml::Value::String(v) => (v.as_str(), false),
            spec => (
                spec.get("value")
                    .and_then(toml::Value::as_str)
                    .ok_or("a `wildcard` filter without a value")?,
                spec.get("case_insensitive").and_then(toml::Value::as_bool) == Some(true),
            ),
        };
        return Ok(matcher(field, &escaped_pieces(value, true).0, !insensitive, span));
    }
    let exists = query.get("exists").or_else(|| filter.get("exists"));
    if let Some(field) = exists.and_then(|e| e.get("field")).and_then(toml::Value::as_str) {
        return Ok(Pred::Not(Box::new(is_null(field, span))));
    }
    let kind = query
        .as_table()
        .and_then(|t| t.keys().next().cloned())
        .unwrap_or_default();
    Err(format!("a `{kind}` filter, a query form fpx does not read"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::print;

    #[test]
    fn negated_filters_are_exclusions_and_others_part_of_the_query() {
        let text = r#"[rule]
rule_id = "r"

[[rule.filters]]
[rule.filters.meta]
negate = true
[rule.filters.query.wildcard."file.directory"]
case_insensitive = true
value = "?:\\\\Program Files\\\\Modules\\\\*"

[[rule.filters]]
[rule.filters.meta]
negate = false
[rule.filters.query.exists]
field = "user.name"

[[rule.filters]]
[rule.filters.meta]
negate = true
disabled = true
[rule.filters.query.exists]
field = "x"

[[rule.threat]]
framework = "MITRE ATT&CK"
"#;
        let table: toml::Value = toml::from_str(text).unwrap();
        let filters = table["rule"]["filters"].as_array().unwrap();
        let read = read(text, "r", filters);
        assert_eq!(read.exclusions.len(), 1);
        let e = &read.exclusions[0];
        assert_eq!(
            print(e.suppresses.as_ref().unwrap()),
            r#"file.directory matches regex @"(?s)^.(?i-u::\\Program Files\\Modules\\).*$""#
        );
        assert!(text[e.span.clone()].starts_with("[[rule.filters]]"));
        assert!(
            text[e.span.clone()].ends_with(r#"Modules\\\\*""#),
            "{:?}",
            &text[e.span.clone()]
        );
        assert_eq!(read.kept.len(), 1);
        assert_eq!(print(read.kept[0].as_ref().unwrap()), "not (isnull(user.name))");
    }
}
