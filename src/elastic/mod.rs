//! Elastic detection rules (elastic/detection-rules TOML): read from the `[rule]`
//! table and lowered to the one rule model. The query is read by the grammar of its
//! `language`: EQL event queries ([`eql`]) and Kibana Query Language ([`kuery`]), each
//! lowered with Elasticsearch's semantics (see those modules). Every rule reads ECS
//! events: its table is `elastic:ecs` (ECS's fields and types, `schemas/ecs.yaml`;
//! other fields, such as an integration's own, are accepted and read as keywords).
//!
//! What is not read yet, and says so (FPX401, no D): EQL sequences and samples, ES|QL,
//! Lucene queries, machine-learning rules (no query). Negated parts of D are inline
//! exclusions wherever they bind, as in KQL (`crate::model::inline_exclusions`).

mod eql;
mod esql;
pub mod exceptions;
mod filters;
mod kuery;
mod values;

use serde::Deserialize;

use crate::model::{QueryNote, RuleQuery, approximate, inline_exclusions};
use crate::pred::{Pred, Span};

pub use crate::schema::ecs::TABLE;

/// Whether a file's text is an Elastic rule: a TOML `[rule]` table.
pub fn is_elastic(text: &str) -> bool {
    text.lines().any(|l| l.trim_end() == "[rule]")
}

#[derive(Deserialize)]
struct RuleFile {
    rule: RuleTable,
}

#[derive(Deserialize)]
struct RuleTable {
    rule_id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    language: Option<String>,
    index: Option<Vec<String>>,
    query: Option<toml::Spanned<String>>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    exceptions_list: Vec<ListRef>,
    #[serde(default)]
    filters: Vec<toml::Value>,
}

/// An exception list a rule names.
#[derive(Deserialize)]
struct ListRef {
    list_id: String,
}

/// An Elastic rule as fpx reads it: its metadata, its query and where it is in the file,
/// the rule model, and its negated filters (exclusions of the rule).
#[derive(Debug, Clone)]
pub struct ElasticDoc {
    pub id: String,
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    pub query: String,
    /// 1-based line of the query's first character.
    pub query_line: usize,
    /// The file's byte offset of each byte of the query, and of its end.
    pub query_offsets: Vec<usize>,
    /// The exception lists it names (`[[rule.exceptions_list]]` `list_id`).
    pub exception_lists: Vec<String>,
    /// What a test of an array field means in its language (ES|QL's differs).
    pub many_values: crate::model::ManyValues,
    /// The index patterns it searches (`index`, or ES|QL's `FROM`); empty when it
    /// names none (a data view).
    pub indices: Vec<String>,
    pub lowered: RuleQuery,
    pub filters: Vec<crate::sigma::MetaFilter>,
}

/// Why a file is not a readable Elastic rule: where (1-based) and what.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Reads an Elastic rule file's text.
pub fn read_rule(text: &str) -> Result<ElasticDoc, ReadError> {
    let parsed: RuleFile = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map_or((1, 1), |s| line_column(text, s.start));
        ReadError {
            line,
            column,
            message: format!("not a readable Elastic rule: {}", e.message()),
        }
    })?;
    let rule = parsed.rule;
    let missing = |key: &str| ReadError {
        line: 1,
        column: 1,
        message: format!("the Elastic rule has no `{key}` in `[rule]`"),
    };
    let id = rule.rule_id.ok_or_else(|| missing("rule_id"))?;
    let name = rule.name.ok_or_else(|| missing("name"))?;
    let kind = rule.kind.unwrap_or_default();
    let (query, offsets, line) = match &rule.query {
        Some(q) => {
            let offsets = string_offsets(text, q.span(), q.get_ref());
            let line = line_column(text, offsets.first().copied().unwrap_or(q.span().start)).0;
            (q.get_ref().clone(), offsets, line)
        }
        None => {
            let at = text.find("[rule]").unwrap_or(0);
            (String::new(), vec![at], line_column(text, at).0)
        }
    };
    let filters = filters::read(text, &id, &rule.filters);
    let mut from = Vec::new();
    let lowered = lower_with(&query, rule.language.as_deref(), &kind, filters.kept, &mut from);
    // The rule's `index` patterns, else those its ES|QL query names.
    let indices = match rule.index {
        Some(index) => index,
        None => from,
    };
    Ok(ElasticDoc {
        id,
        name,
        description: rule.description.unwrap_or_default(),
        tags: rule.tags,
        query,
        query_line: line,
        query_offsets: offsets,
        exception_lists: rule.exceptions_list.into_iter().map(|l| l.list_id).collect(),
        many_values: many_values(rule.language.as_deref()),
        indices,
        lowered,
        filters: filters.exclusions,
    })
}

/// What a test of a field with several values means in `language`: in ES|QL it is
/// null (single-value functions and operators return null on a multi-valued field,
/// with a warning, and `WHERE` drops the row); in EQL and Kibana KQL it holds when one
/// value passes it.
fn many_values(language: Option<&str>) -> crate::model::ManyValues {
    match language {
        Some("esql") => crate::model::ManyValues::Null,
        _ => crate::model::ManyValues::Any,
    }
}

/// 1-based line and column of a byte of `text`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// The file's byte offset of each byte of a TOML string's value (and of its end):
/// `span` is the string as written, quotes included. Literal strings (`'...'`,
/// `'''...'''`) are their text; basic ones (`"..."`, `"""..."""`) have escapes, each
/// escaped character placed at its backslash. A multi-line string drops the newline
/// right after its opening quotes.
fn string_offsets(text: &str, span: std::ops::Range<usize>, value: &str) -> Vec<usize> {
    let raw = &text[span.clone()];
    let (quote, literal) = match () {
        _ if raw.starts_with("'''") => (3, true),
        _ if raw.starts_with("\"\"\"") => (3, false),
        _ if raw.starts_with('\'') => (1, true),
        _ => (1, false),
    };
    let mut at = span.start + quote;
    if quote == 3 && text[at..].starts_with('\n') {
        at += 1;
    }
    let mut offsets = Vec::with_capacity(value.len() + 1);
    let bytes = text.as_bytes();
    for ch in value.chars() {
        let mut width = ch.len_utf8();
        if !literal && bytes.get(at) == Some(&b'\\') {
            // One escape (`\\`, `\"`, `\n`, `\uXXXX`): the character is at its backslash.
            let escape = match bytes.get(at + 1) {
                Some(b'u') => 6,
                Some(b'U') => 10,
                _ => 2,
            };
            offsets.extend(std::iter::repeat_n(at, ch.len_utf8()));
            at += escape;
            continue;
        }
        if !literal && text[at..].starts_with("\\\n") {
            // A line-ending backslash: the next characters start after the blanks.
            width = 0;
        }
        offsets.extend(at..at + ch.len_utf8());
        at += width.max(ch.len_utf8());
    }
    offsets.push(at.min(span.end));
    offsets
}

/// The rule model of a query in `language` (`kind` is the rule's `type`).
pub fn lower(query: &str, language: Option<&str>, kind: &str) -> RuleQuery {
    lower_with(query, language, kind, Vec::new(), &mut Vec::new())
}

/// [`lower`], with the rule's filters that hold with the query (or why one is not read);
/// the index patterns the query names (ES|QL's `FROM`) are put in `indices`.
fn lower_with(
    query: &str,
    language: Option<&str>,
    kind: &str,
    kept: Vec<Result<Pred, String>>,
    indices: &mut Vec<String>,
) -> RuleQuery {
    let whole = 0..query.trim_end().len().max(1).min(query.len().max(1));
    let unsupported = |why: String| {
        let mut q = RuleQuery::unreadable(whole.clone(), why);
        q.table = Some(crate::schema::Table::ecs());
        q
    };
    if kind == "machine_learning" {
        return unsupported(
            "a machine-learning rule has no query: its anomaly job decides what alerts, so it is checked without detection logic".into(),
        );
    }
    let read = match language {
        Some("eql") => match eql::lower(query) {
            eql::Lowered::Query(read) => read,
            eql::Lowered::Steps(steps, notes) => return steps_of(steps, notes),
        },
        Some("kuery") => kuery::lower(query),
        Some("esql") => esql::lower(query),
        Some(other) => {
            return unsupported(format!(
                "the rule's query is {}: fpx reads EQL, Kibana KQL (kuery) and ES|QL rules, so it is checked without detection logic",
                match other {
                    "lucene" => "a Lucene query".to_string(),
                    other => format!("in `{other}`"),
                }
            ));
        }
        None => return unsupported("the rule has no `language`: fpx cannot tell how to read its query".into()),
    };
    let mut read = read;
    if let Some(d) = read.detection.take() {
        let mut conjuncts = vec![d];
        for filter in kept {
            conjuncts.push(match filter {
                Ok(p) => p,
                Err(why) => {
                    note(
                        &mut read.notes,
                        0..0,
                        format!("the rule's {why}; it is read as \"could be true\""),
                        false,
                    );
                    crate::model::opaque(None)
                }
            });
        }
        read.detection = Some(match conjuncts.len() {
            1 => conjuncts.pop().expect("one"),
            _ => Pred::And(conjuncts),
        });
    }
    *indices = std::mem::take(&mut read.indices);
    finish(read, many_values(language))
}

/// A sequence (or sample) of EQL steps: no single D (its steps match different events,
/// joined in ways fpx does not read), and each step's inline exclusions judged on the
/// events of that step. Their groups are kept apart (FPX107 compares exclusions of one
/// step only).
fn steps_of(steps: Vec<Read>, notes: Vec<QueryNote>) -> RuleQuery {
    let mut query = RuleQuery {
        table: Some(crate::schema::Table::ecs()),
        detection: None,
        output_columns: Vec::new(),
        notes,
        errors: Vec::new(),
        inline: Vec::new(),
        unexcluded: None,
    };
    let mut base = 0;
    for step in steps {
        let step = finish(step, crate::model::ManyValues::Any);
        let groups = step.inline.iter().map(|e| e.group + 1).max().unwrap_or(0);
        query
            .inline
            .extend(step.inline.into_iter().map(|e| crate::model::InlineExclusion {
                group: e.group + base,
                ..e
            }));
        base += groups;
        query.notes.extend(step.notes);
        query.errors.extend(step.errors);
    }
    query
}

/// What a language's reader made of a query: D with opaque parts still marked, the
/// notes and errors, and the spans of `and`s that bind inside an `or` by precedence.
pub(crate) struct Read {
    pub detection: Option<Pred>,
    pub notes: Vec<QueryNote>,
    pub errors: Vec<crate::model::QueryError>,
    pub by_precedence: Vec<Span>,
    /// The index patterns the query names (ES|QL's `FROM`).
    pub indices: Vec<String>,
}

/// What a language's reader collects besides D, shared by the three readers.
#[derive(Default)]
pub(crate) struct Reading {
    pub notes: Vec<QueryNote>,
    pub errors: Vec<crate::model::QueryError>,
    pub by_precedence: Vec<Span>,
    pub indices: Vec<String>,
}

impl Reading {
    pub fn finish(self, detection: Option<Pred>) -> Read {
        Read {
            detection,
            notes: self.notes,
            errors: self.errors,
            by_precedence: self.by_precedence,
            indices: self.indices,
        }
    }

    /// An over-approximated condition at `at` (`text` as written), noted with `why`.
    pub fn approximated(&mut self, at: Span, text: &str, why: &str) -> Pred {
        let short: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let short: String = short.chars().take(60).collect();
        note(
            &mut self.notes,
            at.clone(),
            format!("`{short}` {why}; it is read as \"could be true\""),
            false,
        );
        crate::model::opaque(Some(at))
    }
}

/// A double-quoted string's text with its escapes read (`\n`, `\t`, `\r`, `\0`, and
/// a backslash before any other character is that character).
pub(crate) fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// The rule model of what a reader read; an array field's tests are read as its
/// language reads them (`many`): in EQL and Kibana KQL apart ([`arrays_apart`]); in
/// ES|QL as one value, which is exact there: a multi-valued field makes each of its
/// tests null, and a condition true with a test null is true with the test true or
/// false (three-valued logic is monotone), so with the field as any one value.
fn finish(read: Read, many: crate::model::ManyValues) -> RuleQuery {
    let fatal = read.notes.iter().any(|n| n.fatal) || !read.errors.is_empty();
    let mut query = RuleQuery {
        table: Some(crate::schema::Table::ecs()),
        detection: None,
        output_columns: Vec::new(),
        notes: read.notes,
        errors: read.errors,
        inline: Vec::new(),
        unexcluded: None,
    };
    let Some(d) = read.detection.filter(|_| !fatal) else {
        return query;
    };
    let d = match many {
        crate::model::ManyValues::Any => arrays_apart(&d, &mut query.notes),
        crate::model::ManyValues::One | crate::model::ManyValues::Null => d,
    };
    let d = approximate(&d, true);
    let bound = |span: &Span| {
        read.by_precedence
            .iter()
            .any(|s| s.start <= span.start && span.end <= s.end)
    };
    (query.inline, query.unexcluded) = inline_exclusions(&d, &|p, _| p.clone(), query.exact(), &bound);
    query.detection = Some(d);
    query
}

/// Most values of an array field read exactly (see [`arrays_apart`]): each test of the
/// field is read on every value, so the formula grows with their product.
const MAX_ARRAY_VALUES: usize = 16;

/// D with the tests of an array field (ECS's `event.category`, `process.args`, ...) read
/// apart where that matters: a test holds when one of the field's values passes it,
/// so two tests that must both hold (`process.args == "a" and process.args == "b"`)
/// may hold of different values. Only such a conjunction makes the one-value reading
/// wrong (a negated test holds when no value passes it, and an `or` needs one);
/// [`widths`] counts, per field, how many values the checks may need at once.
///
/// A field that may need n >= 2 values (n <= [`MAX_ARRAY_VALUES`]) is read as n values
/// (`process.args`, `process.args[2]`, ..., each possibly missing): a test holds when
/// one of them passes it, its negation when none does. That is exact: an array that
/// satisfies a formula keeps doing so cut down to one value per test that must hold
/// (a test that fails on every value still fails; one that holds keeps its witness),
/// and a missing value fails every test (`F == null` holds when every value is
/// missing, `F != null` when one is not). A field that may need more, or with a test
/// of a value that also holds on a missing one (the empty text), keeps the reading of
/// before: each distinct test after the first reads its own copy of the field, which
/// over-approximates what the tests can hold of together (noted: D is approximated).
fn arrays_apart(d: &Pred, notes: &mut Vec<QueryNote>) -> Pred {
    let mut needed = widths(d, true);
    // Each negated part is also judged on its own (an exclusion, with D or alone).
    let mut negated = Vec::new();
    negated_parts(d, &mut negated);
    for q in negated {
        for (field, n) in widths(q, true) {
            *needed.entry(field).or_default() += n;
        }
    }
    let conjoined: Vec<String> = needed
        .iter()
        .filter(|(_, n)| **n >= 2)
        .map(|(f, _)| f.clone())
        .collect();
    if conjoined.is_empty() {
        return d.clone();
    }
    let key = |a: &crate::pred::Atom| crate::pred::Atom {
        negated: false,
        span: 0..0,
        ..a.clone()
    };
    // Per field: its distinct tests, and whether every one fails on a missing value.
    let mut tests: Vec<(String, crate::pred::Atom)> = Vec::new();
    let mut irregular: Vec<String> = Vec::new();
    d.map_atoms(&mut |a| {
        if conjoined.contains(&a.field) {
            let k = key(a);
            if !k.is_null_test() && k.eval_absent() {
                irregular.push(a.field.clone());
            }
            if !tests.iter().any(|(f, t)| *f == a.field && *t == k) {
                tests.push((a.field.clone(), k));
            }
        }
        Pred::Atom(a.clone())
    });
    // As many values as the checks may need at once (not one per distinct test: a
    // `process.args : (...)` of forty values needs one).
    let values = |field: &str| needed.get(field).copied().unwrap_or(1);
    let copy = |a: &crate::pred::Atom, index: usize| {
        Pred::Atom(crate::pred::Atom {
            field: match index {
                0 => a.field.clone(),
                _ => format!("{}[{}]", a.field, index + 1),
            },
            ..a.clone()
        })
    };
    let mut noted: Vec<String> = Vec::new();
    d.map_atoms(&mut |a| {
        if !conjoined.contains(&a.field) {
            return Pred::Atom(a.clone());
        }
        let n = values(&a.field);
        if n <= MAX_ARRAY_VALUES && !irregular.contains(&a.field) {
            let each: Vec<Pred> = (0..n).map(|i| copy(a, i)).collect();
            // A test that holds on a missing value (a negated test, `F == null`) holds
            // when it holds on every value; any other when it holds on one.
            return if a.eval_absent() { Pred::And(each) } else { Pred::Or(each) };
        }
        let k = key(a);
        let index = tests
            .iter()
            .filter(|(f, _)| *f == a.field)
            .position(|(_, t)| *t == k)
            .expect("every test of the field was collected");
        if index == 0 {
            return Pred::Atom(a.clone());
        }
        if !noted.contains(&a.field) {
            noted.push(a.field.clone());
            note(
                notes,
                a.span.clone(),
                format!(
                    "`{}` holds several values (an array), and two of its tests must hold together: each may hold of a different value, which fpx reads apart",
                    a.field
                ),
                false,
            );
        }
        copy(a, index)
    })
}

/// The parts of `p` under a `not`, at any depth.
fn negated_parts<'a>(p: &'a Pred, out: &mut Vec<&'a Pred>) {
    match p {
        Pred::Not(q) => {
            out.push(q);
            negated_parts(q, out);
        }
        Pred::And(ps) | Pred::Or(ps) => ps.iter().for_each(|q| negated_parts(q, out)),
        Pred::Atom(_) | Pred::True | Pred::False => {}
    }
}

/// Per array field, how many of its values `p` may need at once (`positive`: `p` as
/// written, else its negation): one per test that must hold (a literal that is not
/// negated, `F : "a*"`), summed over a conjunction (an `and`, or an `or` negated), the
/// largest over a disjunction. A negated test needs none (no value passes it), nor does
/// Sigma-style `F == null` or a test of the empty text, which hold on a missing value
/// (those fields keep the approximate reading; see [`arrays_apart`]).
fn widths(p: &Pred, positive: bool) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    match p {
        Pred::Atom(a) => {
            let null = a.values.iter().any(|v| matches!(v, crate::pred::Value::Null))
                || a.values.iter().all(|v| v.text().is_empty());
            if positive != a.negated && !null && crate::schema::ecs::is_array(&a.field) {
                out.insert(a.field.clone(), 1);
            }
        }
        Pred::Not(q) => return widths(q, !positive),
        Pred::And(ps) | Pred::Or(ps) => {
            let conjunction = matches!(p, Pred::And(_)) == positive;
            for q in ps {
                for (field, n) in widths(q, positive) {
                    let total: &mut usize = out.entry(field).or_default();
                    *total = if conjunction { *total + n } else { (*total).max(n) };
                }
            }
        }
        Pred::True | Pred::False => {}
    }
    out
}

/// The largest char boundary of `text` at or before `i`.
pub(crate) fn floor(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A pest span as a byte range.
pub(crate) fn span_of(span: pest::Span) -> Span {
    span.start()..span.end()
}

/// Most brackets one inside another the readers take: the grammars recurse per level.
const MAX_NESTING: usize = 64;

/// An error when brackets nest deeper than [`MAX_NESTING`] (outside strings: `"..."`
/// with backslash escapes, EQL's `"""..."""`), at the bracket that goes too deep.
pub(crate) fn too_deep(query: &str) -> Option<crate::model::QueryError> {
    nested_deeper_than(query, MAX_NESTING).map(|i| crate::model::QueryError {
        span: i..i + 1,
        message: format!("brackets nest deeper than {MAX_NESTING} levels, more than fpx reads"),
        help: None,
    })
}

/// The end of the last token of `text`: what follows it is whitespace and comments
/// (`// ...`, `/* ... */`), read past strings (`"..."` with escapes, `?"..."` raw,
/// `"""..."""`).
pub(crate) fn code_end(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut i, mut end) = (0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'"' if text[i..].starts_with("\"\"\"") => {
                i = text[i + 3..].find("\"\"\"").map_or(bytes.len(), |e| i + 3 + e + 3);
                end = i;
            }
            b'"' => {
                let raw = i > 0 && bytes[i - 1] == b'?';
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' && !raw { 2 } else { 1 };
                }
                i = (i + 1).min(bytes.len());
                end = i;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = text[i..].find('\n').map_or(bytes.len(), |e| i + e);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..].find("*/").map_or(bytes.len(), |e| i + 2 + e + 2);
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                i += 1;
                end = i;
            }
        }
    }
    // (Always a character boundary: it follows a whole token.)
    end.min(text.len())
}

/// Where brackets first nest deeper than `max` (outside strings), if they do.
fn nested_deeper_than(query: &str, max: usize) -> Option<usize> {
    let bytes = query.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'"' if query[i..].starts_with("\"\"\"") => {
                i = query[i + 3..].find("\"\"\"").map_or(bytes.len(), |end| i + 3 + end + 3);
                continue;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Shared by the readers: a note at `span`.
pub(crate) fn note(notes: &mut Vec<QueryNote>, span: Span, message: String, fatal: bool) {
    notes.push(QueryNote::new(span, message, fatal));
}

#[cfg(test)]
mod tests;
