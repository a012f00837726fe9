//! Sentinel hunting-query YAML, read leniently. Every rule in the corpus mis-indents
//! `dataTypes`, which makes the file invalid YAML; fpx reads each top-level key on its
//! own, recovers what it can from the broken part, and says so (FPX402).

use std::path::{Path, PathBuf};

use serde_yaml::Value as Yaml;

use super::error::LoadError;

/// The language a rule is written in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RuleFormat {
    /// A Sentinel / Defender hunting query (YAML with `query:`).
    #[default]
    Kql,
    /// A seed document (text with a KQL query and scenarios).
    Seed,
    /// A Sigma rule (YAML with `logsource:` and `detection:`).
    Sigma,
    /// An Elastic detection rule (TOML with `[rule]`: EQL or Kibana KQL).
    Elastic,
}

impl RuleFormat {
    /// Whether the rule is written in KQL (a Sentinel rule or a seed document): what
    /// fpx's fixes and emitted queries are written in.
    pub fn is_kql(self) -> bool {
        matches!(self, RuleFormat::Kql | RuleFormat::Seed)
    }

    /// The `format` value of the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleFormat::Kql => "kql",
            RuleFormat::Seed => "seed",
            RuleFormat::Sigma => "sigma",
            RuleFormat::Elastic => "elastic",
        }
    }
}

/// A detection rule as fpx reads it.
#[derive(Debug, Clone, Default)]
pub struct RuleDoc {
    pub format: RuleFormat,
    pub file: PathBuf,
    pub id: String,
    pub name: String,
    pub description: String,
    pub data_types: Vec<String>,
    pub tactics: Vec<String>,
    pub techniques: Vec<String>,
    pub query: String,
    /// 1-based line of the query's first line in the file.
    pub query_line: usize,
    /// Columns of indentation the query's lines have in the file.
    pub query_indent: usize,
    /// For a query written as a flow scalar (`query: "..."`, `'...'` or plain), whose
    /// text differs from the file's (escapes, folded lines): the file's byte offset of
    /// each byte of the query, and of its end. `None` for a block scalar, which
    /// `query_line` and `query_indent` place.
    pub query_offsets: Option<Vec<usize>>,
    /// Set when the file is not valid YAML: what was wrong and what was recovered.
    pub malformed: Option<Malformed>,
    /// The file's text, for pointing into it; shared with every finding and inline
    /// exclusion placed in it.
    pub source: std::sync::Arc<str>,
    /// The rule model, built when the file is read (taken by the checks or the replay).
    pub lowered: Option<crate::model::RuleQuery>,
    /// The exception lists an Elastic rule names (`[[rule.exceptions_list]]` `list_id`).
    pub exception_lists: Vec<String>,
    /// What a test of a field with several values means in the rule's language.
    pub many_values: crate::model::ManyValues,
    /// The index patterns an Elastic rule searches (empty: it names none).
    pub indices: Vec<String>,
}

impl RuleDoc {
    /// The rule model of the rule's query: the one the front-end built while reading
    /// (Sigma), else the KQL query lowered now. Taken: a second call lowers again.
    pub fn take_query(&mut self) -> crate::model::RuleQuery {
        match (self.lowered.take(), self.format) {
            (Some(lowered), _) => lowered,
            (None, RuleFormat::Sigma) => crate::sigma::lower(&self.source),
            (None, RuleFormat::Elastic) => crate::elastic::read_rule(&self.source)
                .ok()
                .map(|doc| doc.lowered)
                .unwrap_or_else(|| crate::model::RuleQuery::unreadable(0..0, "the rule cannot be read again".into())),
            (None, RuleFormat::Kql | RuleFormat::Seed) => crate::kql::read_query(&self.query),
        }
    }
}

/// Why a rule file is not valid YAML, and what fpx read anyway.
#[derive(Debug, Clone, PartialEq)]
pub struct Malformed {
    pub line: usize,
    pub column: usize,
    pub error: String,
    pub recovered: String,
}

/// One top-level `key:` and the lines that belong to it.
struct Chunk<'a> {
    key: &'a str,
    /// 0-based line of the key.
    line: usize,
    text: String,
}

fn chunks(text: &str) -> Vec<Chunk<'_>> {
    let mut out: Vec<Chunk> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let top_key = line
            .split_once(':')
            .map(|(k, _)| k)
            .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .filter(|_| line.starts_with(|c: char| c.is_ascii_alphabetic()));
        match (top_key, out.last_mut()) {
            (Some(key), _) => out.push(Chunk {
                key,
                line: i,
                text: format!("{line}\n"),
            }),
            (None, Some(chunk)) => {
                chunk.text.push_str(line);
                chunk.text.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

/// Reads a rule file's text. `Err` when not even the query can be found.
pub fn read_rule(file: &Path, text: &str) -> Result<RuleDoc, LoadError> {
    let malformed_at = match serde_yaml::from_str::<Yaml>(text) {
        Ok(_) => None,
        Err(e) => {
            let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            Some((line, column, e.to_string()))
        }
    };
    let mut doc = RuleDoc {
        file: file.to_path_buf(),
        source: text.into(),
        ..RuleDoc::default()
    };
    let mut recovered = Vec::new();
    let mut query_found = false;
    for chunk in chunks(text) {
        let parsed: Option<Yaml> = serde_yaml::from_str::<Yaml>(&chunk.text)
            .ok()
            .and_then(|v| v.get(chunk.key).cloned());
        match chunk.key {
            "id" => doc.id = scalar(parsed.as_ref()),
            "name" => doc.name = scalar(parsed.as_ref()),
            "description" => doc.description = scalar(parsed.as_ref()),
            "tactics" => doc.tactics = list(parsed.as_ref()),
            "relevantTechniques" => doc.techniques = list(parsed.as_ref()),
            "requiredDataConnectors" => {
                doc.data_types = match &parsed {
                    Some(v) => data_types(v),
                    None => {
                        // The corpus's broken indentation: take the `- Name` items under
                        // `dataTypes:` line by line.
                        let items = data_types_by_line(&chunk.text);
                        recovered.push(format!("dataTypes [{}]", items.join(", ")));
                        items
                    }
                };
            }
            "query" => {
                if let Some(q) = parsed.as_ref().and_then(Yaml::as_str) {
                    query_found = true;
                    doc.query = q.to_string();
                    let block = chunk
                        .text
                        .lines()
                        .next()
                        .is_some_and(|l| l.trim_end().ends_with(['|', '>', '-']));
                    let first_content = chunk
                        .text
                        .lines()
                        .skip(usize::from(block))
                        .find(|l| !l.trim().is_empty());
                    doc.query_line = chunk.line + 1 + usize::from(block);
                    doc.query_indent = first_content.map_or(0, |l| l.len() - l.trim_start().len());
                    if !block {
                        doc.query_indent = chunk.text.find(q.lines().next().unwrap_or("")).unwrap_or(0);
                        let chunk_start: usize = text.split_inclusive('\n').take(chunk.line).map(str::len).sum();
                        doc.query_offsets = flow_offsets(&chunk.text, chunk.key.len() + 1, q)
                            .map(|offsets| offsets.into_iter().map(|o| o + chunk_start).collect());
                    }
                }
            }
            _ => {}
        }
    }
    if !query_found {
        let (line, column, message) = malformed_at.unwrap_or((1, 1, "the file has no `query:`".into()));
        return Err(LoadError::at(
            file,
            line,
            column,
            format!("not a readable rule: {message}"),
        ));
    }
    if let Some((line, column, error)) = malformed_at {
        let mut read = vec!["id", "name", "query"];
        read.retain(|k| match *k {
            "id" => !doc.id.is_empty(),
            "name" => !doc.name.is_empty(),
            _ => true,
        });
        recovered.insert(0, read.join(", "));
        doc.malformed = Some(Malformed {
            line,
            column,
            error: error.lines().next().unwrap_or("").to_string(),
            recovered: recovered.join(", "),
        });
    }
    Ok(doc)
}

/// Where each byte of a flow scalar's value is in `text` (the scalar starts after
/// `from`, past spaces): double-quoted (escapes, `\` line continuations), single-quoted
/// (`''`) or plain, with YAML's line folding (a line break and the indentation after it
/// read as one space, an empty line as a line break). `None` unless the value read this
/// way is exactly `value`, so a scalar this does not model is never misplaced.
fn flow_offsets(text: &str, from: usize, value: &str) -> Option<Vec<usize>> {
    let bytes = text.as_bytes();
    let mut i = from;
    while i < bytes.len() && bytes[i] == b' ' {
        i += 1;
    }
    let quote = match bytes.get(i) {
        Some(b'"') => Some(b'"'),
        Some(b'\'') => Some(b'\''),
        _ => None,
    };
    if quote.is_some() {
        i += 1;
    }
    let mut out: Vec<u8> = Vec::new();
    let mut offsets: Vec<usize> = Vec::new();
    let push = |out: &mut Vec<u8>, offsets: &mut Vec<usize>, s: &[u8], at: usize| {
        out.extend_from_slice(s);
        offsets.extend(std::iter::repeat_n(at, s.len()));
    };
    while i < bytes.len() {
        let b = bytes[i];
        match (quote, b) {
            (Some(q), _) if b == q && !(q == b'\'' && bytes.get(i + 1) == Some(&b'\'')) => break,
            (Some(b'\''), b'\'') => {
                push(&mut out, &mut offsets, b"'", i);
                i += 2;
            }
            (Some(b'"'), b'\\') => {
                let next = *bytes.get(i + 1)?;
                let simple: Option<&[u8]> = match next {
                    b'"' => Some(b"\""),
                    b'\\' => Some(b"\\"),
                    b'/' => Some(b"/"),
                    b'n' => Some(b"\n"),
                    b't' | b'\t' => Some(b"\t"),
                    b'r' => Some(b"\r"),
                    b'0' => Some(b"\0"),
                    b' ' => Some(b" "),
                    _ => None,
                };
                match (simple, next) {
                    (Some(s), _) => {
                        push(&mut out, &mut offsets, s, i);
                        i += 2;
                    }
                    (None, b'\n') => {
                        // An escaped line break: nothing, and the next line's indentation goes.
                        i += 2;
                        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
                            i += 1;
                        }
                    }
                    // \x, \u, \U and the rest: not modelled.
                    _ => return None,
                }
            }
            (None, b'#') if out.last().is_some_and(|c| *c == b' ') => break,
            (_, b'\n') => {
                // Folding: trailing spaces go; one break is a space, each empty line a break.
                while out.last().is_some_and(|c| *c == b' ' || *c == b'\t') && quote.is_some() {
                    out.pop();
                    offsets.pop();
                }
                let at = i;
                let mut breaks = 0;
                while i < bytes.len() && matches!(bytes[i], b'\n' | b' ' | b'\t') {
                    breaks += usize::from(bytes[i] == b'\n');
                    i += 1;
                }
                if quote.is_none() && (i >= bytes.len() || bytes[i - 1] == b'\n') {
                    // A plain scalar ends at a line that is not indented.
                    break;
                }
                if breaks == 1 {
                    push(&mut out, &mut offsets, b" ", at);
                } else {
                    push(&mut out, &mut offsets, &vec![b'\n'; breaks - 1], at);
                }
            }
            _ => {
                push(&mut out, &mut offsets, &[b], i);
                i += 1;
            }
        }
    }
    let read = String::from_utf8(out).ok()?;
    if read.trim_end() != value.trim_end() {
        return None;
    }
    offsets.truncate(value.len());
    offsets.push(offsets.last().map_or(i, |o| o + 1));
    (offsets.len() == value.len() + 1).then_some(offsets)
}

fn scalar(v: Option<&Yaml>) -> String {
    match v {
        Some(Yaml::String(s)) => s.trim_end().to_string(),
        Some(Yaml::Number(n)) => n.to_string(),
        Some(Yaml::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn list(v: Option<&Yaml>) -> Vec<String> {
    match v {
        Some(Yaml::Sequence(items)) => items.iter().map(|i| scalar(Some(i))).collect(),
        Some(other) => vec![scalar(Some(other))]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect(),
        None => Vec::new(),
    }
}

fn data_types(v: &Yaml) -> Vec<String> {
    let Some(connectors) = v.as_sequence() else {
        return Vec::new();
    };
    connectors.iter().flat_map(|c| list(c.get("dataTypes"))).collect()
}

fn data_types_by_line(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("dataTypes:") {
            inside = true;
        } else if inside && let Some(item) = t.strip_prefix("- ") {
            if item.contains(':') {
                inside = false;
            } else {
                out.push(item.trim().to_string());
            }
        } else if inside && !t.is_empty() {
            inside = false;
        }
    }
    out
}

/// Writes a rule as Sentinel hunting-query YAML (valid, two-space indentation).
pub fn write_rule(doc: &RuleDoc) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let block = |out: &mut String, key: &str, text: &str| {
        let _ = writeln!(out, "{key}: |");
        for line in text.trim_end().lines() {
            if line.trim().is_empty() {
                out.push('\n');
            } else {
                let _ = writeln!(out, "  {line}");
            }
        }
    };
    let _ = writeln!(out, "id: {}", super::scenario::yaml_scalar(&doc.id));
    let _ = writeln!(out, "name: {}", super::scenario::yaml_scalar(&doc.name));
    block(&mut out, "description", &doc.description);
    let _ = writeln!(
        out,
        "requiredDataConnectors:\n  - connectorId: MicrosoftThreatProtection\n    dataTypes:"
    );
    for t in &doc.data_types {
        let _ = writeln!(out, "      - {t}");
    }
    for (key, items) in [("tactics", &doc.tactics), ("relevantTechniques", &doc.techniques)] {
        let _ = writeln!(out, "{key}:");
        for i in items {
            let _ = writeln!(out, "  - {}", super::scenario::yaml_scalar(i));
        }
    }
    block(&mut out, "query", &doc.query);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CORPUS_STYLE: &str = "id: e9c26766-0fe4-49b6-ae27-c41c41aae094
name: Remote Management and Monitoring tool - AnyDesk - Create Process
description: |
    Remote Monitoring and Management (RMM) programs.
requiredDataConnectors:
    - connectorId: MicrosoftThreatProtection
    dataTypes:
        - DeviceProcessEvents
tactics: CommandAndControl
relevantTechniques: T1219
query: |
  DeviceProcessEvents
  | where ProcessVersionInfoProductName has 'anydesk'
";

    #[test]
    fn the_corpus_indentation_is_read_leniently() {
        let doc = read_rule(Path::new("r.yaml"), CORPUS_STYLE).unwrap();
        assert_eq!(doc.id, "e9c26766-0fe4-49b6-ae27-c41c41aae094");
        assert_eq!(doc.data_types, ["DeviceProcessEvents"]);
        assert_eq!(doc.tactics, ["CommandAndControl"]);
        assert_eq!(doc.query_line, 12);
        assert_eq!(doc.query_indent, 2);
        assert!(doc.query.starts_with("DeviceProcessEvents\n| where"));
        let m = doc.malformed.unwrap();
        assert_eq!(m.line, 7);
        assert!(
            m.recovered.contains("dataTypes [DeviceProcessEvents]"),
            "{}",
            m.recovered
        );
    }

    #[test]
    fn valid_yaml_is_not_malformed() {
        let fixed = CORPUS_STYLE.replace("    dataTypes:", "      dataTypes:");
        let doc = read_rule(Path::new("r.yaml"), &fixed).unwrap();
        assert!(doc.malformed.is_none());
        assert_eq!(doc.data_types, ["DeviceProcessEvents"]);
    }

    #[test]
    fn flow_scalar_queries_are_placed_byte_by_byte() {
        let text = "id: x\nname: x\nquery: \"T\n  | where A == \\\"b\\\"\\n| where C\n\n  | take 1\"\n";
        let doc = read_rule(Path::new("r.yaml"), text).unwrap();
        assert_eq!(doc.query, "T | where A == \"b\"\n| where C\n| take 1");
        let offsets = doc.query_offsets.as_ref().expect("a double-quoted query is mapped");
        for (i, c) in doc.query.char_indices() {
            let at = offsets[i];
            match c {
                // A folded line break is placed on the break; an escape on its backslash.
                ' ' | '\n' if text.as_bytes()[at] == b'\n' => {}
                '"' | '\n' if text.as_bytes()[at] == b'\\' => {}
                _ => assert_eq!(text[at..].chars().next(), Some(c), "byte {i} of the query"),
            }
        }
        let single = "id: x\nname: x\nquery: 'T | where A == ''b'''\n";
        let doc = read_rule(Path::new("r.yaml"), single).unwrap();
        assert_eq!(doc.query, "T | where A == 'b'");
        let offsets = doc.query_offsets.unwrap();
        assert_eq!(&single[offsets[16]..offsets[16] + 1], "b");
        // A block scalar is placed by its line and indentation.
        assert!(
            read_rule(Path::new("r.yaml"), CORPUS_STYLE)
                .unwrap()
                .query_offsets
                .is_none()
        );
    }

    #[test]
    fn a_file_without_a_query_is_an_error_with_a_line() {
        let e = read_rule(Path::new("r.yaml"), "id: x\nname: [unclosed\n").unwrap_err();
        assert!(e.line().unwrap() >= 2, "{e:?}");
    }
}
