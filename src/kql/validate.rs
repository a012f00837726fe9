//! Does the query compile? The checks behind FPX403, decided the way Kusto.Language
//! decides them: structure (strings, brackets, empty stages), query operators, tables,
//! and names, following the columns through `extend`, `project`, `project-rename`,
//! `project-away`, `summarize ... by`, `distinct` and `let`.
//!
//! A CI gate must never be failed by a valid query, so the checker is one-sided: where
//! it cannot tell which columns exist (after a `join`, `union`, `mv-expand`, `parse`,
//! an unnamed computed column, ...) it stops checking names ("open" scope) rather than
//! guess. Every error it reports is one Kusto.Language reports too (a test compares both
//! on the shared corpus).

use std::collections::HashMap;

use super::lex::{Tok, Token, tokens};
use super::parse::OPERATORS;
use crate::pred::Span;
use crate::schema::{nearest_name, schema};

pub use crate::model::QueryError;

/// Columns that Microsoft Sentinel adds to every table it holds (Sentinel rules use
/// them on the Defender tables too).
const SENTINEL_COLUMNS: [&str; 2] = ["TimeGenerated", "Type"];

/// Binary operators written as words; two in a row is a syntax error.
const OPERATOR_WORDS: &[&str] = &[
    "contains",
    "contains_cs",
    "endswith",
    "endswith_cs",
    "has",
    "has_all",
    "has_any",
    "has_cs",
    "hasprefix",
    "hasprefix_cs",
    "hassuffix",
    "hassuffix_cs",
    "in",
    "in~",
    "startswith",
    "startswith_cs",
    "between",
    "like",
];

/// Words of expressions that are not names.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "matches",
    "regex",
    "true",
    "false",
    "null",
    "by",
    "asc",
    "desc",
    "nulls",
    "first",
    "last",
    "with",
    "kind",
    "on",
    "to",
    "step",
    "of",
    "bool",
    "boolean",
    "int",
    "long",
    "real",
    "double",
    "string",
    "datetime",
    "date",
    "time",
    "timespan",
    "dynamic",
    "guid",
    "decimal",
    "isfuzzy",
    "withsource",
];

/// Functions whose argument is a literal, not an expression (`datetime(2024-01-01)`).
const LITERAL_FUNCTIONS: &[&str] = &["datetime", "timespan", "guid", "typeof", "dynamic", "time", "date"];

/// Sources of a tabular expression other than a table (their columns are not known here).
const TABULAR_SOURCES: &[&str] = &[
    "union",
    "datatable",
    "range",
    "print",
    "find",
    "search",
    "externaldata",
    "materialize",
    "view",
    "table",
    "cluster",
    "database",
    "evaluate",
];

/// What a `let` name stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Let {
    Tabular,
    Scalar,
    Function,
}

/// The columns a stage can see: known (with where they come from), or not known.
#[derive(Debug, Clone)]
enum Scope {
    Open,
    Known { columns: Vec<String>, from: String },
}

impl Scope {
    /// The columns after a stage that outputs `columns`, or not known when some of its
    /// outputs have names fpx does not work out.
    fn output(columns: Vec<String>, open: bool, from: &str) -> Scope {
        if open {
            Scope::Open
        } else {
            Scope::Known {
                columns,
                from: from.to_string(),
            }
        }
    }
}

/// Every reason `query` does not compile that fpx can be sure of.
pub fn validate(query: &str) -> Vec<QueryError> {
    let toks = tokens(query);
    let mut checker = Checker {
        query,
        lets: HashMap::new(),
        errors: Vec::new(),
        expanded: Vec::new(),
    };
    if !checker.structure(&toks) {
        return checker.errors;
    }
    let mut statements: Vec<&[Token]> = split(&toks, |t| t.is(";"));
    statements.retain(|s| !s.is_empty());
    for statement in statements {
        let first = statement[0].text;
        match first {
            "let" => checker.let_statement(statement),
            "set" | "declare" | "alias" | "pattern" | "restrict" => {}
            _ => checker.tabular(statement),
        }
    }
    // The checks above say more about what they find (a misspelt operator or table);
    // the parser finds every other syntax error.
    if checker.errors.is_empty() {
        match super::parse::parse(query) {
            Ok(tree) => checker.errors.extend(super::calls::check(&tree)),
            Err(super::parse::ParseError::Syntax(e)) => checker.errors.push(e),
            Err(super::parse::ParseError::TooDeep) => {}
        }
    }
    checker.errors
}

struct Checker<'q> {
    query: &'q str,
    lets: HashMap<&'q str, Let>,
    errors: Vec<QueryError>,
    /// Columns the last `mv-expand` made (dynamic values, unless `to typeof(...)`),
    /// while only `where` and `extend` stages follow it.
    expanded: Vec<String>,
}

/// The bracket depth after token `t`.
fn nest(depth: &mut i32, t: &Token) {
    if t.kind == Tok::Punct {
        match t.text {
            "(" | "[" | "{" => *depth += 1,
            ")" | "]" | "}" => *depth -= 1,
            _ => {}
        }
    }
}

/// Splits tokens at depth-0 separators.
fn split<'t, 'q>(toks: &'t [Token<'q>], at: impl Fn(&Token) -> bool) -> Vec<&'t [Token<'q>]> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, t) in toks.iter().enumerate() {
        nest(&mut depth, t);
        if depth == 0 && at(t) {
            out.push(&toks[start..i]);
            start = i + 1;
        }
    }
    out.push(&toks[start..]);
    out
}

/// The index of the bracket closing the one at `open` (or the end).
fn closing(toks: &[Token], open: usize) -> usize {
    let mut depth = 0;
    for (i, t) in toks.iter().enumerate().skip(open) {
        if t.kind == Tok::Punct {
            match t.text {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => {
                    depth -= 1;
                    if depth == 0 {
                        return i;
                    }
                }
                _ => {}
            }
        }
    }
    toks.len()
}

/// `name = ...`: the name an item assigns, and the tokens of its value.
fn assignment<'t, 'q>(item: &'t [Token<'q>]) -> Option<(&'t Token<'q>, &'t [Token<'q>])> {
    match item {
        [name, eq, rest @ ..] if name.kind == Tok::Word && eq.is("=") => Some((name, rest)),
        _ => None,
    }
}

/// `(a, b) = expr` (an aggregate that makes several columns, `arg_max` and the like):
/// the names and the expression.
fn tuple_assignment<'t, 'q>(item: &'t [Token<'q>]) -> Option<(Vec<String>, &'t [Token<'q>])> {
    if !item.first()?.is("(") {
        return None;
    }
    let close = item.iter().position(|t| t.is(")"))?;
    let inner = &item[1..close];
    let names: Vec<String> = inner
        .iter()
        .enumerate()
        .map(|(i, t)| match (i % 2, t.kind) {
            (0, Tok::Word) => Some(Some(t.text.to_string())),
            (1, _) if t.is(",") => Some(None),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    match &item[close + 1..] {
        [eq, rest @ ..] if eq.is("=") && !names.is_empty() => Some((names, rest)),
        _ => None,
    }
}

impl<'q> Checker<'q> {
    fn error(&mut self, span: Span, message: String, help: Option<String>) {
        self.errors.push(QueryError { span, message, help });
    }

    /// Strings and brackets; false when the query is too broken to read further.
    fn structure(&mut self, toks: &[Token]) -> bool {
        let mut stack: Vec<&Token> = Vec::new();
        for t in toks {
            if t.kind == Tok::Unclosed {
                self.error(
                    t.span.start..t.span.start + 1,
                    "this string is never closed".into(),
                    Some("close it with the same quote it starts with".into()),
                );
                return false;
            }
            if t.kind != Tok::Punct {
                continue;
            }
            match t.text {
                "(" | "[" | "{" => stack.push(t),
                ")" | "]" | "}" => {
                    let expected = match stack.pop().map(|o| o.text) {
                        Some("(") => ")",
                        Some("[") => "]",
                        Some(_) => "}",
                        None => {
                            self.error(t.span.clone(), format!("`{}` closes nothing", t.text), None);
                            return false;
                        }
                    };
                    if t.text != expected {
                        self.error(
                            t.span.clone(),
                            format!("expected `{expected}`, found `{}`", t.text),
                            None,
                        );
                        return false;
                    }
                }
                _ => {}
            }
        }
        if let Some(open) = stack.pop() {
            self.error(open.span.clone(), format!("this `{}` is never closed", open.text), None);
            return false;
        }
        true
    }

    fn let_statement(&mut self, statement: &[Token<'q>]) {
        let (Some(name), Some(eq)) = (statement.get(1), statement.get(2)) else {
            return;
        };
        if name.kind != Tok::Word || !eq.is("=") {
            return;
        }
        let value = &statement[3..];
        let kind = match value.first() {
            None => Let::Scalar,
            Some(t) if t.is("(") && value.iter().any(|t| t.is("{")) => Let::Function,
            Some(t) if t.kind == Tok::Word && t.text == "view" => Let::Function,
            Some(t) if t.kind == Tok::Word && self.is_tabular_start(value) => {
                if schema().table(t.text).is_some() || self.lets.get(t.text) == Some(&Let::Tabular) {
                    self.tabular(value);
                }
                Let::Tabular
            }
            // `let x = Name | ...`: only a table can be piped, so `Name` must be one.
            Some(t) if t.kind == Tok::Word && value.get(1).is_some_and(|n| n.is("|")) => {
                self.tabular(value);
                Let::Tabular
            }
            Some(_) if split(value, |t| t.is("|")).len() > 1 => Let::Tabular,
            Some(_) => Let::Scalar,
        };
        self.lets.insert(name.text, kind);
    }

    /// Whether tokens starting with a word read a table: a known table, a tabular `let`,
    /// or another tabular source.
    fn is_tabular_start(&self, toks: &[Token]) -> bool {
        let word = toks[0].text;
        let called = toks.get(1).is_some_and(|t| t.is("("));
        (schema().table(word).is_some() && !called)
            || self.lets.get(word) == Some(&Let::Tabular)
            || TABULAR_SOURCES.contains(&word)
    }

    /// A tabular expression: its source, then each `|` stage.
    fn tabular(&mut self, toks: &[Token<'q>]) {
        // A table name at the start of a line, after a complete stage, starts another
        // query: KQL needs a `;` between them (several queries pasted as one).
        if let Some(at) = self.second_query(toks) {
            self.error(
                toks[at].span.clone(),
                format!("`{}` starts another query: KQL expects `;` before it", toks[at].text),
                Some("a rule is one query; end the previous statement with `;` or remove one of them".into()),
            );
            self.tabular(&toks[..at]);
            self.tabular(&toks[at..]);
            return;
        }
        let outer = std::mem::take(&mut self.expanded);
        self.stages(toks);
        self.expanded = outer;
    }

    fn stages(&mut self, toks: &[Token<'q>]) {
        let stages = split(toks, |t| t.is("|"));
        let mut scope = self.source(stages[0]);
        for (i, stage) in stages.iter().enumerate().skip(1) {
            if stage.is_empty() {
                let at = stages[i - 1].last().map_or(0..0, |t| t.span.end..t.span.end + 1);
                self.error(at, "a query operator is expected after `|`".into(), None);
                scope = Scope::Open;
                continue;
            }
            let expanded = self.expanded_by(stage);
            scope = self.stage(stage, scope);
            self.expanded = expanded;
        }
    }

    /// The dynamic columns known after `stage`: those `mv-expand` makes, those known
    /// before it through `where` and `extend` (less the ones `extend` redefines), none
    /// after any other stage.
    fn expanded_by(&self, stage: &[Token]) -> Vec<String> {
        match stage[0].text {
            "mv-expand" | "mvexpand" => split(&stage[1..], |t| t.is(","))
                .into_iter()
                .filter(|item| !item.iter().any(|t| t.text == "typeof"))
                .filter_map(|item| match item {
                    [name, eq, ..]
                        if eq.is("=")
                            && name.kind == Tok::Word
                            && !matches!(name.text, "kind" | "bagexpansion" | "with_itemindex" | "itemindex") =>
                    {
                        Some(name.text.to_string())
                    }
                    [name] if name.kind == Tok::Word => Some(name.text.to_string()),
                    _ => None,
                })
                .collect(),
            "where" | "filter" => self.expanded.clone(),
            "extend" => {
                let made: Vec<&str> = split(&stage[1..], |t| t.is(","))
                    .into_iter()
                    .filter_map(|item| assignment(item).map(|(name, _)| name.text))
                    .collect();
                self.expanded
                    .iter()
                    .filter(|c| !made.contains(&c.as_str()))
                    .cloned()
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// Where a second tabular statement starts inside `toks` (at depth 0): a known table
    /// at the start of a line, after a token that ends an operand.
    fn second_query(&self, toks: &[Token]) -> Option<usize> {
        let mut depth = 0i32;
        for (i, t) in toks.iter().enumerate() {
            nest(&mut depth, t);
            if i == 0 || depth != 0 || t.kind != Tok::Word || schema().table(t.text).is_none() {
                continue;
            }
            let before = &toks[i - 1];
            // (`| join` then a table on the next line is that join's operand.)
            let ends_operand = (matches!(before.kind, Tok::Num | Tok::Str)
                || before.kind == Tok::Word && !OPERATORS.contains(&before.text) && !is_operator_word(before.text))
                || before.is(")")
                || before.is("]");
            let line_start = self
                .query
                .get(before.span.end..t.span.start)
                .is_some_and(|gap| gap.contains('\n'));
            if ends_operand && line_start && !toks.get(i + 1).is_some_and(|n| n.is("(")) {
                return Some(i);
            }
        }
        None
    }

    /// The tabular expressions in parentheses of a `join`, `lookup` or `union` stage
    /// (`join kind=inner (DeviceFileEvents | where ...) on SHA1`): checked as queries.
    fn subqueries(&mut self, rest: &[Token<'q>]) {
        let mut i = 0;
        while i < rest.len() {
            if rest[i].is("(") {
                let close = closing(rest, i);
                let inner = &rest[i + 1..close.min(rest.len())];
                if inner.first().is_some_and(|t| t.kind == Tok::Word) && self.is_tabular_start(inner) {
                    self.tabular(inner);
                }
                i = close;
            }
            i += 1;
        }
    }

    fn source(&mut self, toks: &[Token<'q>]) -> Scope {
        let Some(first) = toks.first() else {
            return Scope::Open;
        };
        if first.kind == Tok::Word && first.text == "union" {
            self.subqueries(&toks[1..]);
        }
        if first.kind != Tok::Word || toks.len() > 1 {
            return Scope::Open;
        }
        if let Some(columns) = schema().table(first.text) {
            return Scope::Known {
                columns: columns
                    .iter()
                    .map(|c| c.name.clone())
                    .chain(SENTINEL_COLUMNS.iter().map(|c| c.to_string()))
                    .collect(),
                from: first.text.to_string(),
            };
        }
        if self.lets.contains_key(first.text) || TABULAR_SOURCES.contains(&first.text) {
            return Scope::Open;
        }
        let help = nearest_name(first.text, schema().kql_tables()).map(|t| format!("did you mean `{t}`?"));
        self.error(
            first.span.clone(),
            format!("`{}` is not a table (or a `let`) the query can read", first.text),
            help,
        );
        Scope::Open
    }

    /// One stage; the columns after it.
    fn stage(&mut self, stage: &[Token<'q>], scope: Scope) -> Scope {
        let head = &stage[0];
        let rest = &stage[1..];
        if head.kind != Tok::Word || !OPERATORS.contains(&head.text) {
            return self.unknown_operator(stage, scope);
        }
        match head.text {
            "where" | "filter" => {
                if rest.is_empty() {
                    self.error(head.span.clone(), format!("`{}` needs a condition", head.text), None);
                }
                self.expr(rest, &scope);
                scope
            }
            "extend" | "serialize" => self.extend(rest, scope),
            "project" => self.project(rest, scope),
            "project-rename" => self.project_rename(rest, scope),
            "project-away" | "project-keep" | "project-reorder" => {
                let names = self.name_list(rest, &scope);
                match (head.text, names, scope) {
                    ("project-away", Some(names), Scope::Known { mut columns, from }) => {
                        columns.retain(|c| !names.contains(c));
                        Scope::Known { columns, from }
                    }
                    ("project-keep", Some(names), Scope::Known { from, .. }) => Scope::Known { columns: names, from },
                    ("project-reorder", _, scope) => scope,
                    _ => Scope::Open,
                }
            }
            "summarize" => self.summarize(rest, scope),
            "distinct" => {
                if rest.len() == 1 && rest[0].is("*") {
                    return scope;
                }
                match self.name_list(rest, &scope) {
                    Some(columns) => Scope::Known {
                        columns,
                        from: "`distinct`".into(),
                    },
                    None => Scope::Open,
                }
            }
            "top" | "sort" | "order" => {
                if let Some(by) = rest.iter().position(|t| t.kind == Tok::Word && t.text == "by") {
                    for item in split(&rest[by + 1..], |t| t.is(",")) {
                        self.expr(item, &scope);
                    }
                }
                scope
            }
            "take" | "limit" | "sample" | "render" | "as" | "consume" => scope,
            "count" => Scope::Known {
                columns: vec!["Count".into()],
                from: "`count`".into(),
            },
            // Joins, unions, expansions, parsing, plugins: the columns after them are not
            // worked out here (the queries they combine with are checked on their own).
            "join" | "lookup" | "union" => {
                self.subqueries(rest);
                Scope::Open
            }
            _ => Scope::Open,
        }
    }

    /// A stage that does not start with a query operator.
    fn unknown_operator(&mut self, stage: &[Token<'q>], scope: Scope) -> Scope {
        let head = &stage[0];
        let compares = stage.get(1).is_some_and(|t| {
            matches!(t.text, "==" | "!=" | "=~" | "!~" | "<" | ">" | "<=" | ">=" | "<>")
                || (t.kind == Tok::Word && is_operator_word(t.text))
        });
        if compares {
            let text: String = stage.iter().map(|t| t.text).collect::<Vec<_>>().join(" ");
            self.error(
                head.span.clone(),
                "a query operator is expected here: a stage cannot start with a condition".into(),
                Some(format!("write `| where {text}`")),
            );
            self.expr(stage, &scope);
            return scope;
        }
        let near = (head.kind == Tok::Word)
            .then(|| nearest_name(head.text, OPERATORS.iter().copied()))
            .flatten();
        self.error(
            head.span.clone(),
            format!("`{}` is not a query operator", head.text),
            Some(match near {
                Some(op) => format!("did you mean `{op}`?"),
                None => "a stage starts with an operator such as `where`, `extend` or `summarize`".into(),
            }),
        );
        // A misspelt operator is read as the one meant, so the rest of the query is
        // still checked (the query is already invalid: more errors cannot be wrong).
        match near {
            Some(op) => {
                let mut meant = stage.to_vec();
                meant[0].text = op;
                self.stage(&meant, scope)
            }
            None => Scope::Open,
        }
    }

    fn extend(&mut self, rest: &[Token<'q>], mut scope: Scope) -> Scope {
        for item in split(rest, |t| t.is(",")) {
            match assignment(item) {
                Some((name, value)) => {
                    self.expr(value, &scope);
                    if let Scope::Known { columns, .. } = &mut scope
                        && !columns.iter().any(|c| c == name.text)
                    {
                        columns.push(name.text.to_string());
                    }
                }
                None => {
                    self.expr(item, &scope);
                    scope = Scope::Open;
                }
            }
        }
        scope
    }

    fn project(&mut self, rest: &[Token<'q>], scope: Scope) -> Scope {
        let mut columns = Vec::new();
        let mut derived_names = Vec::new();
        let mut open = false;
        for item in split(rest, |t| t.is(",")) {
            // `project` takes no wildcards; an item with one is left unchecked.
            if item.iter().any(|t| t.is("*")) {
                open = true;
                continue;
            }
            match self.output_item(item, &scope) {
                Some((name, derived)) => {
                    if derived {
                        derived_names.push(name.clone());
                    }
                    columns.push(name);
                }
                None => open = true,
            }
        }
        self.declared_once(&columns, &derived_names, rest);
        Scope::output(columns, open, "`project`")
    }

    /// An item of `project` or `summarize ... by` (checked against `scope`): the name of
    /// the column it makes, when KQL's name for it is certain: `Name = expr`, a column,
    /// `bin(Column, ...)`; and whether KQL derived that name from an expression (`bin`).
    fn output_item(&mut self, item: &[Token<'q>], scope: &Scope) -> Option<(String, bool)> {
        if let Some((name, value)) = assignment(item) {
            self.expr(value, scope);
            return Some((name.text.to_string(), false));
        }
        self.expr(item, scope);
        match item {
            [name] if name.kind == Tok::Word => Some((name.text.to_string(), false)),
            [bin, open, column, ..] if bin.text == "bin" && open.is("(") && column.kind == Tok::Word => {
                Some((column.text.to_string(), true))
            }
            _ => None,
        }
    }

    fn project_rename(&mut self, rest: &[Token<'q>], mut scope: Scope) -> Scope {
        for item in split(rest, |t| t.is(",")) {
            let Some((new, old)) = assignment(item) else {
                return Scope::Open;
            };
            self.expr(old, &scope);
            if let (Scope::Known { columns, .. }, [old]) = (&mut scope, old) {
                columns.retain(|c| c != old.text);
                columns.push(new.text.to_string());
            } else {
                scope = Scope::Open;
            }
        }
        scope
    }

    /// `a, b, c` (names, possibly with wildcards): checks each plain name; the names,
    /// or `None` when a wildcard or another form makes the result unknown.
    fn name_list(&mut self, rest: &[Token<'q>], scope: &Scope) -> Option<Vec<String>> {
        let mut names = Vec::new();
        let mut known = true;
        for item in split(rest, |t| t.is(",")) {
            match item {
                [name] if name.kind == Tok::Word => {
                    self.expr(item, scope);
                    names.push(name.text.to_string());
                }
                [name, order] if name.kind == Tok::Word && matches!(order.text, "asc" | "desc") => {
                    self.expr(&item[..1], scope);
                    names.push(name.text.to_string());
                }
                _ => known = false,
            }
        }
        known.then_some(names)
    }

    fn summarize(&mut self, rest: &[Token<'q>], scope: Scope) -> Scope {
        if rest.first().is_some_and(|t| t.text == "hint") {
            return Scope::Open;
        }
        let parts = split(rest, |t| t.kind == Tok::Word && t.text == "by");
        let (aggregates, by) = match parts.as_slice() {
            [a] => (*a, &[][..]),
            [a, b] => (*a, *b),
            _ => return Scope::Open,
        };
        let mut columns = Vec::new();
        let mut open = false;
        for item in split(aggregates, |t| t.is(",")).into_iter().filter(|i| !i.is_empty()) {
            self.count_of_a_column(item, &scope);
            if let Some((names, value)) = tuple_assignment(item) {
                self.expr(value, &scope);
                columns.extend(names);
                continue;
            }
            match assignment(item) {
                Some((name, value)) => {
                    self.expr(value, &scope);
                    columns.push(name.text.to_string());
                    // `R = arg_max(T, C)` also outputs `C` (as `C1` when `C` is taken):
                    // the names after it are not worked out here.
                    open |= value.first().is_some_and(|t| {
                        matches!(
                            t.text,
                            "arg_max" | "arg_min" | "take_any" | "any" | "take_anyif" | "anyif"
                        )
                    });
                }
                None => {
                    self.expr(item, &scope);
                    match default_aggregate_name(item) {
                        Some(name) => columns.push(name),
                        None => open = true,
                    }
                }
            }
        }
        let mut derived_names = Vec::new();
        for item in split(by, |t| t.is(",")).into_iter().filter(|i| !i.is_empty()) {
            match self.output_item(item, &scope) {
                Some((name, derived)) => {
                    if derived {
                        derived_names.push(name.clone());
                    }
                    columns.push(name);
                }
                None => open = true,
            }
        }
        self.declared_once(&columns, &derived_names, by);
        Scope::output(columns, open, "`summarize`")
    }

    /// `count(X)` counts the rows where the bool `X` holds: with a column of the rule's
    /// table that is not a bool (`count(RemoteUrl)`), Kusto refuses the query.
    fn count_of_a_column(&mut self, item: &[Token], scope: &Scope) {
        let call = match item {
            [_, eq, rest @ ..] if eq.is("=") => rest,
            _ => item,
        };
        if let [f, open, column, close] = call
            && f.text == "count"
            && open.is("(")
            && close.is(")")
            && self.expanded.iter().any(|c| c == column.text)
        {
            self.error(
                column.span.clone(),
                format!(
                    "`count` takes a condition, and `{}` is a dynamic value made by `mv-expand`",
                    column.text
                ),
                Some(format!(
                    "count the rows with `count()`, the values with `dcount({})`, or expand it `to typeof(bool)`",
                    column.text
                )),
            );
            return;
        }
        let ([f, open, column, close], Scope::Known { columns, from }) = (call, scope) else {
            return;
        };
        if f.text != "count" || !open.is("(") || !close.is(")") || !columns.iter().any(|c| c == column.text) {
            return;
        }
        let Some(ty) = schema()
            .table(from)
            .and_then(|cs| cs.iter().find(|c| c.name == column.text))
            .map(|c| c.ty)
        else {
            return;
        };
        if ty != crate::schema::ColumnType::Bool {
            self.error(
                column.span.clone(),
                format!("`count` takes a condition, and `{}` is not a bool", column.text),
                Some(format!(
                    "count the rows with `count()`, or the values with `dcount({})`",
                    column.text
                )),
            );
        }
    }

    /// A stage's output columns must have distinct names; the second of two is an error
    /// (placed on its last mention in `toks`). A name KQL derives from an expression
    /// (`derived`: `bin(Timestamp, 1d)` is `Timestamp`) is made unique when it is taken
    /// (`Timestamp1`), so only two written names clash.
    fn declared_once(&mut self, columns: &[String], derived: &[String], toks: &[Token]) {
        let mut seen: Vec<&String> = Vec::new();
        let mut skipped: Vec<&String> = Vec::new();
        for name in columns {
            // The derived names, one occurrence each, are left out.
            if derived.iter().filter(|d| *d == name).count() > skipped.iter().filter(|s| **s == name).count() {
                skipped.push(name);
                continue;
            }
            if seen.contains(&name) {
                let at = toks
                    .iter()
                    .rev()
                    .find(|t| t.text == name.as_str())
                    .map_or(0..0, |t| t.span.clone());
                self.error(at, format!("a column named `{name}` is already declared"), None);
            }
            seen.push(name);
        }
    }

    /// Checks every name an expression reads.
    fn expr(&mut self, toks: &[Token<'q>], scope: &Scope) {
        let mut i = 0;
        while i < toks.len() {
            let t = &toks[i];
            let next = toks.get(i + 1);
            let prev = i.checked_sub(1).map(|p| &toks[p]);
            if t.kind == Tok::Punct {
                if t.is(",") && next.is_some_and(|n| n.is(")")) {
                    self.error(
                        t.span.clone(),
                        "a list cannot end with a comma: an expression is expected before `)`".into(),
                        Some("remove the comma".into()),
                    );
                }
                // `['Column name']`, `[1, 2]`: a quoted name or an array, not an index.
                if t.is("[") && !prev.is_some_and(|p| p.kind == Tok::Word || p.is(")") || p.is("]")) {
                    i = closing(toks, i) + 1;
                    continue;
                }
                if t.is("(") {
                    let end = closing(toks, i);
                    let inner = &toks[i + 1..end.min(toks.len())];
                    // A sub-query in parentheses reads its own table.
                    if split(inner, |t| t.is("|")).len() > 1 {
                        i = end + 1;
                        continue;
                    }
                }
                i += 1;
                continue;
            }
            if t.kind != Tok::Word {
                i += 1;
                continue;
            }
            let called = next.is_some_and(|n| n.is("("));
            if called {
                if LITERAL_FUNCTIONS.contains(&t.text) {
                    i = closing(toks, i + 1) + 1;
                    continue;
                }
                i += 1;
                continue;
            }
            if is_operator_word(t.text)
                && let Some(n) = next
                && n.kind == Tok::Word
                && is_operator_word(n.text)
            {
                self.error(
                    n.span.clone(),
                    format!("two operators in a row: `{}` then `{}`", t.text, n.text),
                    Some("keep one of them".into()),
                );
                i += 2;
                continue;
            }
            let property = prev.is_some_and(|p| p.is("."));
            if property || t.text.starts_with('$') || is_operator_word(t.text) || KEYWORDS.contains(&t.text) {
                i += 1;
                continue;
            }
            self.name(t, scope);
            i += 1;
        }
    }

    /// A name read by an expression: a column in scope or a `let`.
    fn name(&mut self, t: &Token, scope: &Scope) {
        if self.lets.contains_key(t.text) {
            return;
        }
        let lower = t.text.to_ascii_lowercase();
        if lower != t.text && (KEYWORDS.contains(&lower.as_str()) || is_operator_word(&lower)) {
            self.error(
                t.span.clone(),
                format!("`{}` is not KQL: its keywords and operators are lower case", t.text),
                Some(format!("write `{lower}`")),
            );
            return;
        }
        let Scope::Known { columns, from } = scope else {
            return;
        };
        if columns.iter().any(|c| c == t.text) {
            return;
        }
        let candidates = columns.iter().map(String::as_str).chain(self.lets.keys().copied());
        let by_suffix = columns
            .iter()
            .filter(|c| c.len() > t.text.len() && c.ends_with(t.text))
            .min_by_key(|c| c.len())
            .map(String::as_str);
        let help = by_suffix
            .or_else(|| nearest_name(t.text, candidates))
            .map(|c| format!("did you mean `{c}`?"));
        self.error(
            t.span.clone(),
            format!("`{}` is not a column of {from} or a `let` name", t.text),
            help,
        );
    }
}

fn is_operator_word(word: &str) -> bool {
    let word = word.strip_prefix('!').unwrap_or(word);
    OPERATOR_WORDS.contains(&word)
}

/// The column name KQL gives an unnamed aggregate, for the aggregates where it is
/// certain (`count()` is `count_`, `dcount(X)` is `dcount_X`, `make_set(X)` is `set_X`).
fn default_aggregate_name(item: &[Token]) -> Option<String> {
    match item {
        [f, open, close] if f.text == "count" && open.is("(") && close.is(")") => Some("count_".into()),
        [f, open, arg, close] if open.is("(") && close.is(")") && arg.kind == Tok::Word => {
            let prefix = match f.text {
                "dcount" | "min" | "max" | "sum" | "avg" => f.text,
                "make_set" => "set",
                "make_list" => "list",
                _ => return None,
            };
            Some(format!("{prefix}_{}", arg.text))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(query: &str) -> Vec<String> {
        validate(query).into_iter().map(|e| e.message).collect()
    }

    #[test]
    fn names_are_followed_through_the_pipeline() {
        assert!(
            errors("DeviceNetworkEvents | where RemotePort == 443 | extend P = RemotePort | where P > 1").is_empty()
        );
        let e = validate("DeviceNetworkEvents | summarize count() by DeviceId, AccountUpn");
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(
            e[0].help.as_deref(),
            Some("did you mean `InitiatingProcessAccountUpn`?")
        );
        assert!(errors("DeviceProcessEvents | project-rename Cmd = ProcessCommandLine | where Cmd has 'x'").is_empty());
        assert_eq!(
            errors("DeviceProcessEvents | project-rename Cmd = ProcessCommandLine | where ProcessCommandLine has 'x'")
                .len(),
            1
        );
        assert_eq!(
            errors("DeviceProcessEvents | project FileName | where FolderPath has 'x'").len(),
            1
        );
        assert!(errors("DeviceProcessEvents | summarize n = count() by DeviceId | where n > 5").is_empty());
        assert_eq!(
            errors("DeviceProcessEvents | summarize count() by DeviceId, DeviceId").len(),
            1
        );
        assert!(errors("DeviceProcessEvents | summarize count() by DeviceId | where count_ > 5").is_empty());
        // A name KQL derives from `bin(...)` is made unique (Kusto.Language accepts these);
        // two written names clash.
        assert!(errors("DeviceInfo | summarize by bin(Timestamp, 1d), Timestamp").is_empty());
        assert!(errors("DeviceInfo | project Timestamp, bin(Timestamp, 1d)").is_empty());
        assert_eq!(
            errors("DeviceInfo | summarize DeviceName = count() by DeviceName").len(),
            1
        );
        assert_eq!(
            errors("DeviceInfo | summarize by T = bin(Timestamp, 1d), T = DeviceName").len(),
            1
        );
        assert!(
            errors("DeviceProcessEvents | summarize (T, Cmd) = arg_max(Timestamp, ProcessCommandLine) by DeviceId | where Cmd has 'x'")
                .is_empty()
        );
        assert_eq!(
            errors("DeviceProcessEvents | summarize (T, Cmd) = arg_max(Timestamp, ProcessCommandLine) by DeviceId | where Cmdx has 'x'")
                .len(),
            1
        );
        assert!(errors("let L = dynamic(['a']); DeviceProcessEvents | where FileName in~ (L)").is_empty());
        assert!(errors("DeviceProcessEvents | join (DeviceFileEvents) on DeviceId | where Anything == 1").is_empty());
    }

    #[test]
    fn operators_tables_and_syntax() {
        let e = validate("DeviceProcessEvents | wher FileName =~ 'x'");
        assert_eq!(e[0].help.as_deref(), Some("did you mean `where`?"));
        let e = validate("DeviceProcesEvents | where FileName =~ 'x'");
        assert_eq!(e[0].help.as_deref(), Some("did you mean `DeviceProcessEvents`?"));
        assert_eq!(
            errors("DeviceFileCertificateInfo | Sha1 in ('a')").len(),
            2,
            "no operator, and Sha1 is not SHA1"
        );
        assert_eq!(
            errors("DeviceProcessEvents | where FolderPath has_all has_any ('a')").len(),
            1
        );
        assert_eq!(errors("DeviceProcessEvents | where FileName has_any ('a', )").len(), 1);
        assert_eq!(errors("DeviceProcessEvents | where (FileName == 'a'").len(), 1);
        assert_eq!(errors("DeviceProcessEvents | where FileName == 'a").len(), 1);
        assert_eq!(
            errors("DeviceProcessEvents | where FileName == 'a' AND FolderPath == 'b'").len(),
            1
        );
        assert_eq!(errors("DeviceProcessEvents | ").len(), 1);
        assert!(
            errors(
                "DeviceProcessEvents | where Timestamp > datetime(2024-01-01T10:00:00Z) and TimeGenerated > ago(1d)"
            )
            .is_empty()
        );
    }
}
