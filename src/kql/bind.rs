//! Names, bound on the syntax tree: which columns each stage can see, through `let`,
//! `extend`, `project`, `project-rename`, `project-away`/`-keep`, `summarize ... by`,
//! `distinct` and `count`; and whether every name a condition reads is one of them (or a
//! `let`). Behind FPX403's "not a column" and "not a table" errors, decided the way
//! Kusto.Language decides them.
//!
//! A CI gate must never be failed by a valid query, so the binder is one-sided: where
//! it cannot tell which columns exist (after a `join`, `union`, `mv-expand`, `parse`,
//! an unnamed computed column, ...) the scope is "open" and names are not checked.
//! Every error it reports is one Kusto.Language reports too (a test compares both on the
//! corpora and on mutations of them).

use std::collections::HashMap;

use super::ast::*;
use crate::model::QueryError;
use crate::pred::Span;
use crate::schema::{nearest_name, schema};

/// Columns that Microsoft Sentinel adds to every table it holds (Sentinel rules use
/// them on the Defender tables too).
const SENTINEL_COLUMNS: [&str; 2] = ["TimeGenerated", "Type"];

/// Words of expressions that are not column names.
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

/// Operators written as words (a name that is one in upper case is a typo).
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

/// Names a query can read rows from without a table (their columns are not known here).
const TABULAR_SOURCES: &[&str] = &["materialize", "view", "table", "cluster", "database"];

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

/// Every name error in `query`.
pub fn check(query: &Query) -> Vec<QueryError> {
    let mut b = Binder {
        lets: HashMap::new(),
        errors: Vec::new(),
        expanded: Vec::new(),
    };
    for statement in &query.statements {
        match statement {
            Statement::Let { name, value, .. } => b.let_statement(name, value),
            Statement::Expr(e) => b.tabular(e),
            Statement::Option { .. } => {}
        }
    }
    b.errors
}

struct Binder {
    lets: HashMap<String, Let>,
    errors: Vec<QueryError>,
    /// Columns the last `mv-expand` made (dynamic values, unless `to typeof(...)`),
    /// while only `where` and `extend` stages follow it.
    expanded: Vec<String>,
}

/// Whether a name is written plainly (not `['bracketed']`).
fn plain(name: &Ident) -> bool {
    name.span.len() == name.name.len()
}

/// The name an expression is, when it is one plain name.
fn plain_name(e: &Expr) -> Option<&Ident> {
    match e {
        Expr::Name(n) if plain(n) => Some(n),
        _ => None,
    }
}

/// Whether an item holds a `*` (`project` of one is left unchecked).
fn has_star(e: &Expr) -> bool {
    match e {
        Expr::Star(_) => true,
        Expr::Binary { op, lhs, rhs } => op.name == "*" || has_star(lhs) || has_star(rhs),
        Expr::Unary { operand, .. } => has_star(operand),
        Expr::Call { args, .. } => args.iter().any(|a| has_star(&a.value)),
        Expr::List { items, .. } => items.iter().any(has_star),
        Expr::Member { object, .. } => has_star(object),
        Expr::Index { object, index, .. } => has_star(object) || has_star(index),
        Expr::Between { value, lo, hi, .. } => has_star(value) || has_star(lo) || has_star(hi),
        _ => false,
    }
}

impl Binder {
    fn error(&mut self, span: Span, message: String, help: Option<String>) {
        self.errors.push(QueryError { span, message, help });
    }

    fn let_statement(&mut self, name: &Ident, value: &LetValue) {
        let kind = match value {
            LetValue::Function { .. } => Let::Function,
            LetValue::Expr(e) => {
                let source = match e {
                    Expr::Pipe { source, .. } => Some(source.as_ref()),
                    _ => None,
                };
                match (e, source) {
                    (Expr::Name(n), _) if self.is_tabular_name(n) => {
                        if schema().table(&n.name).is_some() || self.lets.get(&n.name) == Some(&Let::Tabular) {
                            self.tabular(e);
                        }
                        Let::Tabular
                    }
                    // `let x = Name | ...`: only a table can be piped, so `Name` must be one.
                    (_, Some(Expr::Name(_))) => {
                        self.tabular(e);
                        Let::Tabular
                    }
                    (Expr::Pipe { .. } | Expr::Source(_), _) => Let::Tabular,
                    _ => Let::Scalar,
                }
            }
        };
        self.lets.insert(name.name.clone(), kind);
    }

    /// Whether a name reads rows: a known table, a tabular `let`, or another source.
    fn is_tabular_name(&self, n: &Ident) -> bool {
        schema().table(&n.name).is_some()
            || self.lets.get(&n.name) == Some(&Let::Tabular)
            || TABULAR_SOURCES.contains(&n.name.as_str())
    }

    /// A tabular expression: its source, then each `|` stage.
    fn tabular(&mut self, e: &Expr) {
        let (source, stages) = match e {
            Expr::Pipe { source, stages } => (source.as_ref(), stages.as_slice()),
            other => (other, &[][..]),
        };
        let outer = std::mem::take(&mut self.expanded);
        let mut scope = self.source(source);
        for stage in stages {
            let expanded = self.expanded_by(stage);
            scope = self.stage(stage, scope);
            self.expanded = expanded;
        }
        self.expanded = outer;
    }

    fn source(&mut self, source: &Expr) -> Scope {
        match source {
            Expr::Source(stage) => {
                if let StageBody::Union(operands) = &stage.body {
                    self.subqueries(operands);
                }
                Scope::Open
            }
            Expr::Name(n) => {
                if let Some(columns) = schema().table(&n.name) {
                    return Scope::Known {
                        columns: columns
                            .iter()
                            .map(|c| c.name.clone())
                            .chain(SENTINEL_COLUMNS.iter().map(|c| c.to_string()))
                            .collect(),
                        from: n.name.clone(),
                    };
                }
                if self.lets.contains_key(&n.name) || TABULAR_SOURCES.contains(&n.name.as_str()) {
                    return Scope::Open;
                }
                let help = nearest_name(&n.name, schema().kql_tables()).map(|t| format!("did you mean `{t}`?"));
                self.error(
                    n.span.clone(),
                    format!("`{}` is not a table (or a `let`) the query can read", n.name),
                    help,
                );
                Scope::Open
            }
            _ => Scope::Open,
        }
    }

    /// The queries in parentheses among a `join`, `lookup` or `union`'s operands
    /// (`join kind=inner (DeviceFileEvents | where ...) on SHA1`): checked as queries.
    fn subqueries<'e>(&mut self, operands: impl IntoIterator<Item = &'e Expr>) {
        for operand in operands {
            let Expr::List { items, .. } = operand else {
                continue;
            };
            for inner in items {
                let source = match inner {
                    Expr::Pipe { source, .. } => source.as_ref(),
                    other => other,
                };
                if let Expr::Name(n) = source
                    && self.is_tabular_name(n)
                {
                    self.tabular(inner);
                }
            }
        }
    }

    /// The dynamic columns known after `stage`: those `mv-expand` makes, those known
    /// before it through `where` and `extend` (less the ones `extend` redefines), none
    /// after any other stage.
    fn expanded_by(&self, stage: &Stage) -> Vec<String> {
        match (&stage.body, stage.op.name.as_str()) {
            (StageBody::MvExpand { items, .. }, _) => items
                .iter()
                .filter(|item| item.to_type.is_none())
                .filter_map(|item| match (item.names.as_slice(), &item.value) {
                    ([name], _) => Some(name.name.clone()),
                    ([], value) => plain_name(value).map(|n| n.name.clone()),
                    _ => None,
                })
                .collect(),
            (StageBody::Where(_), "where" | "filter") => self.expanded.clone(),
            (StageBody::Items(items), "extend") => {
                let made: Vec<&str> = items
                    .iter()
                    .filter_map(|i| match i.names.as_slice() {
                        [n] => Some(n.name.as_str()),
                        _ => None,
                    })
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

    /// One stage; the columns after it.
    fn stage(&mut self, stage: &Stage, scope: Scope) -> Scope {
        let op = stage.op.name.as_str();
        match &stage.body {
            StageBody::Where(e) if op != "find" => {
                self.expr(e, &scope);
                scope
            }
            StageBody::Items(items) if matches!(op, "extend" | "serialize") => self.extend(items, scope),
            StageBody::Items(items) if op == "project" => self.project(items, scope),
            StageBody::Renames(renames) => {
                let mut scope = scope;
                for (new, old) in renames {
                    self.name(old, &scope);
                    match &mut scope {
                        Scope::Known { columns, .. } if plain(old) && plain(new) => {
                            columns.retain(|c| c != &old.name);
                            columns.push(new.name.clone());
                        }
                        _ => scope = Scope::Open,
                    }
                }
                scope
            }
            StageBody::Names(names) => {
                let mut known = Vec::new();
                let mut all_known = true;
                for n in names {
                    if plain(n) && !n.name.contains('*') {
                        self.name(n, &scope);
                        known.push(n.name.clone());
                    } else {
                        all_known = false;
                    }
                }
                match (op, all_known, scope) {
                    ("project-away", true, Scope::Known { mut columns, from }) => {
                        columns.retain(|c| !known.contains(c));
                        Scope::Known { columns, from }
                    }
                    ("project-keep", true, Scope::Known { from, .. }) => Scope::Known { columns: known, from },
                    ("project-reorder", _, scope) => scope,
                    _ => Scope::Open,
                }
            }
            StageBody::Summarize { aggregates, by } => {
                if stage.params.is_empty() {
                    self.summarize(aggregates, by, scope)
                } else {
                    Scope::Open
                }
            }
            StageBody::Nothing if op == "distinct" => scope,
            StageBody::Items(items) if op == "distinct" => {
                let mut names = Vec::new();
                let mut known = true;
                for item in items {
                    match (item.names.is_empty(), plain_name(&item.value)) {
                        (true, Some(n)) => {
                            self.name(n, &scope);
                            names.push(n.name.clone());
                        }
                        _ => known = false,
                    }
                }
                if known {
                    Scope::Known {
                        columns: names,
                        from: "`distinct`".into(),
                    }
                } else {
                    Scope::Open
                }
            }
            StageBody::Top { by, .. } | StageBody::Sort(by) => {
                for key in by {
                    self.expr(&key.value, &scope);
                }
                scope
            }
            StageBody::Count(_) | StageBody::As(_) => scope,
            StageBody::Unread(_) if matches!(op, "render" | "consume") => scope,
            StageBody::Nothing if op == "consume" => scope,
            StageBody::Nothing if op == "count" => Scope::Known {
                columns: vec!["Count".into()],
                from: "`count`".into(),
            },
            // Joins, unions, expansions, parsing, plugins: the columns after them are not
            // worked out here (the queries they combine with are checked on their own).
            StageBody::Join { right, .. } => {
                self.subqueries([right]);
                Scope::Open
            }
            StageBody::Union(operands) => {
                self.subqueries(operands);
                Scope::Open
            }
            _ => Scope::Open,
        }
    }

    fn extend(&mut self, items: &[Item], mut scope: Scope) -> Scope {
        for item in items {
            self.expr(&item.value, &scope);
            match item.names.as_slice() {
                [name] if plain(name) => {
                    if let Scope::Known { columns, .. } = &mut scope
                        && !columns.iter().any(|c| c == &name.name)
                    {
                        columns.push(name.name.clone());
                    }
                }
                _ => scope = Scope::Open,
            }
        }
        scope
    }

    fn project(&mut self, items: &[Item], scope: Scope) -> Scope {
        let mut columns = Vec::new();
        let mut derived = Vec::new();
        let mut open = false;
        for item in items {
            // `project` takes no wildcards; an item with one is left unchecked.
            if has_star(&item.value) {
                open = true;
                continue;
            }
            open |= !self.output(item, &scope, &mut columns, &mut derived);
        }
        self.declared_once(&columns, &derived);
        Scope::output(columns.into_iter().map(|(n, _)| n).collect(), open, "`project`")
    }

    /// Adds the column an output item makes to `columns` (and to `derived` when KQL
    /// derives its name); false when its name is not certain.
    fn output(
        &mut self,
        item: &Item,
        scope: &Scope,
        columns: &mut Vec<(String, Span)>,
        derived: &mut Vec<String>,
    ) -> bool {
        let Some((name, is_derived)) = self.output_item(item, scope) else {
            return false;
        };
        if is_derived {
            derived.push(name.0.clone());
        }
        columns.push(name);
        true
    }

    /// An item of `project` or `summarize ... by` (checked against `scope`): the name of
    /// the column it makes (and where it is named), when KQL's name for it is certain:
    /// `Name = expr`, a column, `bin(Column, ...)`; and whether KQL derived that name
    /// from an expression (`bin`).
    fn output_item(&mut self, item: &Item, scope: &Scope) -> Option<((String, Span), bool)> {
        self.expr(&item.value, scope);
        if let [name] = item.names.as_slice() {
            return plain(name).then(|| ((name.name.clone(), name.span.clone()), false));
        }
        if !item.names.is_empty() {
            return None;
        }
        if let Some(n) = plain_name(&item.value) {
            return Some(((n.name.clone(), n.span.clone()), false));
        }
        match item.value.called() {
            Some(("bin", [first, ..])) => plain_name(&first.value).map(|n| ((n.name.clone(), n.span.clone()), true)),
            _ => None,
        }
    }

    fn summarize(&mut self, aggregates: &[Item], by: &[Item], scope: Scope) -> Scope {
        let mut columns: Vec<(String, Span)> = Vec::new();
        let mut open = false;
        for item in aggregates {
            self.count_of_a_column(&item.value, &scope);
            self.expr(&item.value, &scope);
            match item.names.as_slice() {
                [] => match default_column_name(&item.value) {
                    Some(name) => columns.push((name, item.value.span())),
                    None => open = true,
                },
                [name] => {
                    columns.push((name.name.clone(), name.span.clone()));
                    // `R = arg_max(T, C)` also outputs `C` (as `C1` when `C` is taken):
                    // the names after it are not worked out here.
                    open |= item.value.called().is_some_and(|(f, _)| {
                        matches!(f, "arg_max" | "arg_min" | "take_any" | "any" | "take_anyif" | "anyif")
                    });
                }
                names => columns.extend(names.iter().map(|n| (n.name.clone(), n.span.clone()))),
            }
        }
        let mut derived = Vec::new();
        for item in by {
            open |= !self.output(item, &scope, &mut columns, &mut derived);
        }
        self.declared_once(&columns, &derived);
        Scope::output(columns.into_iter().map(|(n, _)| n).collect(), open, "`summarize`")
    }

    /// `count(X)` counts the rows where the bool `X` holds: with a column of the rule's
    /// table that is not a bool (`count(RemoteUrl)`), Kusto refuses the query.
    fn count_of_a_column(&mut self, value: &Expr, scope: &Scope) {
        let Some(("count", [arg])) = value.called() else {
            return;
        };
        let Some(column) = plain_name(&arg.value) else {
            return;
        };
        if self.expanded.iter().any(|c| c == &column.name) {
            self.error(
                column.span.clone(),
                format!(
                    "`count` takes a condition, and `{}` is a dynamic value made by `mv-expand`",
                    column.name
                ),
                Some(format!(
                    "count the rows with `count()`, the values with `dcount({})`, or expand it `to typeof(bool)`",
                    column.name
                )),
            );
            return;
        }
        let Scope::Known { columns, from } = scope else {
            return;
        };
        if !columns.iter().any(|c| c == &column.name) {
            return;
        }
        let Some(ty) = schema()
            .table(from)
            .and_then(|cs| cs.iter().find(|c| c.name == column.name))
            .map(|c| c.ty)
        else {
            return;
        };
        if ty != crate::schema::ColumnType::Bool {
            self.error(
                column.span.clone(),
                format!("`count` takes a condition, and `{}` is not a bool", column.name),
                Some(format!(
                    "count the rows with `count()`, or the values with `dcount({})`",
                    column.name
                )),
            );
        }
    }

    /// A stage's output columns must have distinct names; the second of two is an error.
    /// A name KQL derives from an expression (`derived`: `bin(Timestamp, 1d)` is
    /// `Timestamp`) is made unique when it is taken (`Timestamp1`), so only two written
    /// names clash.
    fn declared_once(&mut self, columns: &[(String, Span)], derived: &[String]) {
        let mut seen: Vec<&String> = Vec::new();
        let mut skipped: Vec<&String> = Vec::new();
        for (name, span) in columns {
            // The derived names, one occurrence each, are left out.
            if derived.iter().filter(|d| *d == name).count() > skipped.iter().filter(|s| **s == name).count() {
                skipped.push(name);
                continue;
            }
            if seen.contains(&name) {
                self.error(
                    span.clone(),
                    format!("a column named `{name}` is already declared"),
                    None,
                );
            }
            seen.push(name);
        }
    }

    /// Checks every name an expression reads. A query inside it (in parentheses, or
    /// an argument) reads its own table and is not checked here.
    fn expr(&mut self, e: &Expr, scope: &Scope) {
        match e {
            Expr::Name(n) => self.name(n, scope),
            Expr::Literal(_) | Expr::Star(_) | Expr::Pipe { .. } | Expr::Source(_) => {}
            Expr::Logical { items, .. } => items.iter().for_each(|e| self.expr(e, scope)),
            Expr::Binary { op, lhs, rhs } => {
                self.expr(lhs, scope);
                self.expr(rhs, scope);
                self.datetime_against_timespan(op, lhs, rhs, scope);
            }
            Expr::Unary { operand, .. } => self.expr(operand, scope),
            Expr::Between { value, lo, hi, .. } => {
                for e in [value, lo, hi] {
                    self.expr(e, scope);
                }
            }
            // The callee is a function, the member a property.
            Expr::Call { args, .. } => {
                for a in args {
                    self.expr(&a.value, scope);
                }
            }
            Expr::Member { object, .. } => self.expr(object, scope),
            Expr::Index { object, index, .. } => {
                self.expr(object, scope);
                self.expr(index, scope);
            }
            Expr::List { items, .. } => {
                for i in items {
                    self.expr(i, scope);
                }
            }
        }
    }

    /// `Timestamp > 7d`: a datetime column compared with a timespan, which Kusto
    /// refuses (the time since then is `ago(7d)`).
    fn datetime_against_timespan(&mut self, op: &Ident, lhs: &Expr, rhs: &Expr, scope: &Scope) {
        // (Kusto compares them with `==` and `!=`, not with an order.)
        if !matches!(op.name.as_str(), "<" | ">" | "<=" | ">=") {
            return;
        }
        let Scope::Known { columns, from } = scope else {
            return;
        };
        let timespan = |e: &Expr| {
            let mut e = e;
            while let Expr::List { items, .. } = e
                && let [inner] = items.as_slice()
            {
                e = inner;
            }
            matches!(
                e,
                Expr::Literal(Literal {
                    kind: LiteralKind::Timespan,
                    ..
                })
            )
            .then(|| e.span())
        };
        let datetime = |e: &Expr| {
            let n = plain_name(e)?;
            if self.lets.contains_key(&n.name) || !columns.iter().any(|c| c == &n.name) {
                return None;
            }
            let ty = schema().table(from)?.iter().find(|c| c.name == n.name)?.ty;
            (ty == crate::schema::ColumnType::Datetime).then(|| n.name.clone())
        };
        let (column, at) = match (datetime(lhs), timespan(rhs), datetime(rhs), timespan(lhs)) {
            (Some(c), Some(at), ..) | (_, _, Some(c), Some(at)) => (c, at),
            _ => return,
        };
        self.error(
            at,
            format!(
                "`{column}` is a datetime and this is a timespan: `{}` is not defined between them",
                op.name
            ),
            Some("a time that long ago is `ago(...)`".into()),
        );
    }

    /// A name read by an expression: a column in scope or a `let`.
    fn name(&mut self, n: &Ident, scope: &Scope) {
        let name = n.name.as_str();
        if !plain(n) || name.starts_with('$') || KEYWORDS.contains(&name) || self.lets.contains_key(name) {
            return;
        }
        let lower = name.to_ascii_lowercase();
        if lower != name && (KEYWORDS.contains(&lower.as_str()) || OPERATOR_WORDS.contains(&lower.as_str())) {
            self.error(
                n.span.clone(),
                format!("`{name}` is not KQL: its keywords and operators are lower case"),
                Some(format!("write `{lower}`")),
            );
            return;
        }
        let Scope::Known { columns, from } = scope else {
            return;
        };
        if columns.iter().any(|c| c == name) {
            return;
        }
        let candidates = columns
            .iter()
            .map(String::as_str)
            .chain(self.lets.keys().map(String::as_str));
        let by_suffix = columns
            .iter()
            .filter(|c| c.len() > name.len() && c.ends_with(name))
            .min_by_key(|c| c.len())
            .map(String::as_str);
        let help = by_suffix
            .or_else(|| nearest_name(name, candidates))
            .map(|c| format!("did you mean `{c}`?"));
        let message = format!("`{name}` is not a column of {from} or a `let` name");
        self.error(n.span.clone(), message, help);
    }
}
