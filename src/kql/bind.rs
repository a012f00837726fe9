//! Names, bound on the syntax tree: the row each stage sees (a [`Scope`]: its columns,
//! each with what it [`Meaning`]s: a column of the table, an alias of one, a column
//! computed from one that fpx lowers exactly, an expanded or other computed value),
//! through `extend`, `project`, `project-rename`, `project-away`/`-keep`, `summarize ...
//! by`, `distinct`, `count`, `parse`, `mv-expand`; and whether every name a condition
//! reads is one of them (or a `let`). One binder for both readers of the tree: the
//! checker ([`check`]) reports FPX403's "not a column" and type errors, decided the way
//! Kusto.Language decides them; the lowering ([`super::lower`]) drives a
//! [`Binder::follower`] through the stages it reads and asks the scope what each name in
//! a condition means. A stage that remakes a column replaces its meaning in one place, so
//! nothing an earlier stage said about it survives.
//!
//! A CI gate must never be failed by a valid query, so the checker is one-sided: where
//! it cannot tell which columns exist (after a `join`, `union`, `mv-expand`, `parse`,
//! an unnamed computed column, ...) the scope is "open" and names are not checked.
//! Every error it reports is one Kusto.Language reports too (a test compares both on the
//! corpora and on mutations of them).

use std::collections::HashMap;

use super::ast::*;
use super::derived::{Fold, ParsedRest, SplitPart, SuffixExtract, counted, extracted};
use super::literal::Src;
use crate::model::QueryError;
use crate::pred::{Span, Value};
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
#[derive(Debug, Clone)]
pub(super) enum Let<'q> {
    /// A list of constants: `dynamic([...])`, `pack_array(...)` of literals.
    List(Vec<Value>),
    /// A constant.
    Scalar(Value),
    /// A query, or a table under another name (`let procs = DeviceProcessEvents | where
    /// ...`, `materialize(...)` of one): a query that reads the name reads its rows
    /// through its stages.
    Query(&'q Expr),
    /// `datatable(...)`, and where.
    Datatable(Span),
    /// Other rows (`union`, `range`, ...), not followed.
    Tabular,
    /// A function (`let f = (a: string) { ... }`): the query its body ends with, if any
    /// (a call reads it), and the names its parameters and its own `let`s bind there.
    Function {
        query: Option<&'q Expr>,
        locals: Vec<(String, Let<'q>)>,
    },
    /// A value fpx does not know (a parameter, a computed scalar).
    Other,
}

impl Let<'_> {
    /// Whether the name stands for rows.
    pub fn is_rows(&self) -> bool {
        matches!(
            self,
            Let::Query(_) | Let::Datatable(_) | Let::Tabular | Let::Function { .. }
        )
    }
}

/// Another name for a column (or a property of one), perhaps case-folded:
/// `project-rename Cmd = ProcessCommandLine`, `extend P = tolower(FileName)`,
/// `extend T = tostring(RawEventData.Target)`. A condition on it is one on the column.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Alias {
    pub column: String,
    pub fold: Option<Fold>,
}

/// The ways a computed column is lowered exactly ([`super::derived`]); one definition
/// can be read in two (`extract(".*(G)$", 1, C)`: its emptiness and its value).
#[derive(Debug, Clone, Default)]
pub(super) struct Derivations {
    /// Made by `parse` of the rest of a column's text.
    pub parsed: Option<ParsedRest>,
    /// `extract(regex, n, C)` whose group n is never empty in a match: empty exactly
    /// when C does not match. The column and the regex.
    pub extracted: Option<(String, String)>,
    /// `extract(".*(G)$", n, C)`.
    pub suffix: Option<SuffixExtract>,
    /// `split(C, sep)[0]` or `[-1]`.
    pub split: Option<SplitPart>,
    /// `countof(C, "text")` of a text that cannot overlap itself: the column and the text.
    pub counted: Option<(String, String)>,
}

impl Derivations {
    fn any(&self) -> bool {
        self.parsed.is_some()
            || self.extracted.is_some()
            || self.suffix.is_some()
            || self.split.is_some()
            || self.counted.is_some()
    }
}

/// What a name of the row means at a stage.
#[derive(Debug, Clone)]
pub(super) enum Meaning {
    /// A column of the table the rows are read from, as the table has it.
    Table,
    Alias(Alias),
    /// A computed column fpx lowers exactly.
    Derived(Box<Derivations>),
    /// A dynamic value made by `mv-expand` (no `to typeof(...)`).
    Expanded,
    /// Any other value the query computes.
    Computed,
}

/// The columns of the row at a stage: those the binder knows, each with what it
/// means, and whether others may exist ("open": after a `join`, a `union`, an
/// `mv-expand`, a column whose name it does not work out, ...). Names are checked only
/// against a scope that is not open; the lowering reads a name not listed as a column
/// of the table.
#[derive(Debug, Clone, Default)]
pub(super) struct Scope {
    columns: Vec<(String, Meaning)>,
    open: bool,
    /// Where the columns come from, for messages: a table, "`project`", ...
    from: String,
    /// The table the rows are read from, for its columns' types.
    table: Option<String>,
}

impl Scope {
    /// Rows whose columns are not known (a `let`-bound query, a union, ...).
    pub fn unknown() -> Scope {
        Scope {
            open: true,
            ..Scope::default()
        }
    }

    /// The rows of table `name`: its columns, when fpx knows them.
    pub fn of_table(name: &str) -> Scope {
        match schema().table(name) {
            Some(columns) => Scope {
                columns: columns
                    .iter()
                    .map(|c| c.name.clone())
                    .chain(SENTINEL_COLUMNS.iter().map(|c| c.to_string()))
                    .map(|c| (c, Meaning::Table))
                    .collect(),
                open: false,
                from: name.to_string(),
                table: Some(name.to_string()),
            },
            None => Scope {
                table: Some(name.to_string()),
                ..Scope::unknown()
            },
        }
    }

    /// The rows of `union A, B, ...` of known tables whose shared columns agree
    /// ([`crate::schema::Schema::union`]): every column of each; else not known.
    fn of_union(operands: &[Expr]) -> Scope {
        let names: Option<Vec<String>> = operands
            .iter()
            .map(|o| match o {
                Expr::Name(n) if plain(n) && schema().table(&n.name).is_some() => Some(n.name.clone()),
                _ => None,
            })
            .collect();
        let Some(names) = names.filter(|n| schema().union(n).is_some()) else {
            return Scope::unknown();
        };
        let mut scope = Scope {
            from: format!("the union of {}", names.join(", ")),
            ..Scope::default()
        };
        for table in &names {
            for (column, meaning) in Scope::of_table(table).columns {
                if !scope.has(&column) {
                    scope.columns.push((column, meaning));
                }
            }
        }
        scope
    }

    fn listed(&self, name: &str) -> Option<&Meaning> {
        self.columns.iter().find(|(c, _)| c == name).map(|(_, m)| m)
    }

    /// What `name` means: as the query made it, or a column of the table.
    pub fn meaning(&self, name: &str) -> &Meaning {
        self.listed(name).unwrap_or(&Meaning::Table)
    }

    /// Whether the query made `name` (or renamed a column to it).
    pub fn made(&self, name: &str) -> bool {
        !matches!(self.meaning(name), Meaning::Table)
    }

    /// Whether the query made a value of its own under `name` (not an alias).
    pub fn computed(&self, name: &str) -> bool {
        matches!(
            self.meaning(name),
            Meaning::Computed | Meaning::Expanded | Meaning::Derived(_)
        )
    }

    pub fn alias(&self, name: &str) -> Option<&Alias> {
        match self.meaning(name) {
            Meaning::Alias(a) => Some(a),
            _ => None,
        }
    }

    pub fn derived(&self, name: &str) -> Option<&Derivations> {
        match self.meaning(name) {
            Meaning::Derived(d) => Some(d),
            _ => None,
        }
    }

    /// Whether any column was made by the query.
    pub fn any_made(&self) -> bool {
        self.columns.iter().any(|(_, m)| !matches!(m, Meaning::Table))
    }

    /// The type of `name` when it is a column of the known table, as the table has it.
    fn table_type(&self, name: &str) -> Option<crate::schema::ColumnType> {
        if self.made(name) {
            return None;
        }
        let columns = schema().table(self.table.as_deref()?)?;
        columns.iter().find(|c| c.name == name).map(|c| c.ty)
    }

    /// Whether `name` is a string column of the table, as the table has it: what
    /// `extract`, `split` and `countof` are lowered on.
    pub fn table_string(&self, name: &str) -> bool {
        self.table_type(name) == Some(crate::schema::ColumnType::String)
    }

    fn set(&mut self, name: &str, meaning: Meaning) {
        match self.columns.iter_mut().find(|(c, _)| c == name) {
            Some(slot) => slot.1 = meaning,
            None => self.columns.push((name.to_string(), meaning)),
        }
    }

    fn names(&self) -> impl Iterator<Item = &String> {
        self.columns.iter().map(|(c, _)| c)
    }

    fn has(&self, name: &str) -> bool {
        self.listed(name).is_some()
    }

    /// The columns a stage outputs, from `self` (the row before it).
    fn output(&self, columns: Vec<(String, Meaning)>, open: bool, from: &str) -> Scope {
        Scope {
            columns,
            open,
            from: from.to_string(),
            table: self.table.clone(),
        }
    }
}

/// Every name error in `query`.
pub fn check<'q>(query: &'q Query, src: Src<'q>) -> Vec<QueryError> {
    let mut b = Binder::checker(src);
    for statement in &query.statements {
        match statement {
            Statement::Let { name, value, .. } => b.let_statement(name, value),
            Statement::Expr(e) => {
                b.tabular(e);
            }
            Statement::Option { .. } => {}
        }
    }
    b.errors
}

/// Follows the names of a query stage by stage ([`Binder::stage`]); the checker also
/// reports the names that are not in scope (FPX403).
#[derive(Clone)]
pub(super) struct Binder<'q> {
    src: Src<'q>,
    lets: HashMap<String, Let<'q>>,
    errors: Vec<QueryError>,
    /// Whether names are checked (FPX403), or only followed (for the lowering, which
    /// reads a query that was checked).
    checking: bool,
    /// The `let`-bound queries being read as a source (one that names itself is not
    /// read forever).
    reading: Vec<String>,
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

impl<'q> Binder<'q> {
    /// A binder that reports names not in scope.
    fn checker(src: Src<'q>) -> Binder<'q> {
        Binder {
            src,
            lets: HashMap::new(),
            errors: Vec::new(),
            checking: true,
            reading: Vec::new(),
        }
    }

    /// A binder that only follows what names mean (the lowering's).
    pub fn follower(src: Src<'q>) -> Binder<'q> {
        Binder {
            checking: false,
            ..Binder::checker(src)
        }
    }

    fn error(&mut self, span: Span, message: String, help: Option<String>) {
        if !self.checking {
            return;
        }
        self.errors.push(QueryError { span, message, help });
    }

    /// Binds a `let` statement: what its name stands for from here on. The checker
    /// also checks the names of a query bound to a table.
    pub fn let_statement(&mut self, name: &Ident, value: &'q LetValue) {
        let bound = match value {
            LetValue::Function { params, body, .. } => self.function(params, body),
            LetValue::Expr(e) => {
                if self.checking {
                    self.check_let(e);
                }
                self.let_value(e)
            }
        };
        self.lets.insert(name.name.clone(), bound);
    }

    /// A `let` function: its parameters (values not known) and its own `let`s are bound
    /// in its body only; its body's last query is what a call reads.
    fn function(&mut self, params: &'q [Param], body: &'q [Statement]) -> Let<'q> {
        let outer = self.lets.clone();
        let mut names: Vec<&str> = Vec::new();
        for param in params {
            self.lets.insert(param.name.name.clone(), Let::Other);
            names.push(&param.name.name);
        }
        let mut query = None;
        for statement in body {
            match statement {
                Statement::Let { name, value, .. } => {
                    self.let_statement(name, value);
                    names.push(&name.name);
                }
                Statement::Expr(e) => {
                    if self.checking {
                        self.tabular(e);
                    }
                    query = Some(e);
                }
                Statement::Option { .. } => {}
            }
        }
        let locals = names
            .into_iter()
            .filter_map(|n| Some((n.to_string(), self.lets.get(n)?.clone())))
            .collect();
        self.lets = outer;
        Let::Function { query, locals }
    }

    /// Binds `locals` (a function's, while its body is read); returns what they hid.
    pub fn enter(&mut self, locals: &[(String, Let<'q>)]) -> Vec<(String, Option<Let<'q>>)> {
        locals
            .iter()
            .map(|(name, value)| (name.clone(), self.lets.insert(name.clone(), value.clone())))
            .collect()
    }

    /// Undoes [`Self::enter`].
    pub fn leave(&mut self, hidden: Vec<(String, Option<Let<'q>>)>) {
        for (name, value) in hidden.into_iter().rev() {
            match value {
                Some(v) => self.lets.insert(name, v),
                None => self.lets.remove(&name),
            };
        }
    }

    /// What a `let` name stands for.
    pub fn let_named(&self, name: &str) -> Option<&Let<'q>> {
        self.lets.get(name)
    }

    /// The query a name reads: a `let`-bound query, or a `let` function whose body is
    /// one (with the names its body binds).
    pub fn query_of(&self, name: &str) -> Option<(&'q Expr, &[(String, Let<'q>)])> {
        match self.lets.get(name)? {
            Let::Query(q) => Some((q, &[])),
            Let::Function { query: Some(q), locals } => Some((q, locals)),
            _ => None,
        }
    }

    /// The names of a `let`-bound query that reads a table or another such query.
    fn check_let(&mut self, e: &'q Expr) {
        // The query inside `materialize(...)` or parentheses too.
        let query = match (e, self.let_value(e)) {
            (Expr::Name(_), _) => e,
            (_, Let::Query(query)) => query,
            _ => return,
        };
        let source = match query {
            Expr::Pipe { source, .. } => Some(source.as_ref()),
            _ => None,
        };
        match (query, source) {
            (Expr::Name(n), _)
                if schema().table(&n.name).is_some() || self.lets.get(&n.name).is_some_and(Let::is_rows) =>
            {
                self.tabular(query);
            }
            // `let x = Name | ...`: only a table can be piped, so `Name` must be one.
            (_, Some(Expr::Name(_))) => {
                self.tabular(query);
            }
            _ => {}
        }
    }

    /// What `let name = e` binds.
    fn let_value(&self, e: &'q Expr) -> Let<'q> {
        let src = &self.src;
        match e {
            Expr::Source(stage) if stage.op.name == "datatable" => Let::Datatable(e.span()),
            Expr::Source(_) => Let::Tabular,
            Expr::Literal(l) if l.elements.is_some() => {
                let elements = l.elements.as_deref().unwrap_or_default();
                Let::List(
                    elements
                        .iter()
                        .filter_map(|span| crate::expr::parse_value(src.text(span)))
                        .map(|(v, _)| v)
                        .collect(),
                )
            }
            Expr::Call { args, .. } if matches!(e.called(), Some(("pack_array", _))) => {
                let values: Option<Vec<Value>> = args
                    .iter()
                    .map(|a| src.value(&a.value).filter(|(_, literal)| *literal).map(|(v, _)| v))
                    .collect();
                values.map_or(Let::Other, Let::List)
            }
            // A lone name: another `let`, or a table (or query) read under a new name.
            Expr::Name(n) => match self.lets.get(&n.name) {
                Some(bound) => bound.clone(),
                None => Let::Query(e),
            },
            Expr::Pipe { .. } => Let::Query(e),
            // `materialize(T | ...)`, `(T | ...)`: the query inside.
            Expr::Call { args, .. } if matches!(e.called(), Some(("materialize", [_]))) => match args.as_slice() {
                [Arg { value, .. }] if matches!(value, Expr::Pipe { .. }) => Let::Query(value),
                _ => Let::Tabular,
            },
            Expr::List { items, .. } if items.len() == 1 && matches!(items[0], Expr::Pipe { .. }) => {
                Let::Query(&items[0])
            }
            _ => match src.value(e) {
                Some((value, true)) => Let::Scalar(value),
                _ => Let::Other,
            },
        }
    }

    /// Whether a name reads rows: a known table, a `let` of rows, or another source.
    fn is_tabular_name(&self, n: &Ident) -> bool {
        schema().table(&n.name).is_some()
            || self.lets.get(&n.name).is_some_and(Let::is_rows)
            || TABULAR_SOURCES.contains(&n.name.as_str())
    }

    /// A tabular expression: its source, then each `|` stage; the row after them.
    fn tabular(&mut self, e: &Expr) -> Scope {
        let (source, stages) = match e {
            Expr::Pipe { source, stages } => (source.as_ref(), stages.as_slice()),
            other => (other, &[][..]),
        };
        let mut scope = self.source(source);
        for stage in stages {
            scope = self.stage(stage, scope);
        }
        scope
    }

    fn source(&mut self, source: &Expr) -> Scope {
        match source {
            Expr::Source(stage) => match &stage.body {
                StageBody::Union(operands) => {
                    self.subqueries(operands);
                    self.tables_named(operands);
                    match stage.params.is_empty() {
                        true => Scope::of_union(operands),
                        false => Scope::unknown(),
                    }
                }
                StageBody::Find { tables, .. } => {
                    self.tables_named(tables);
                    Scope::unknown()
                }
                _ => Scope::unknown(),
            },
            Expr::Name(n) => {
                if schema().table(&n.name).is_some() {
                    return Scope::of_table(&n.name);
                }
                // A `let`-bound query: the row after its stages (its own names were
                // checked where it is bound).
                if let Some(Let::Query(query)) = self.lets.get(&n.name)
                    && !self.reading.contains(&n.name)
                {
                    let (query, checking) = (*query, self.checking);
                    self.reading.push(n.name.clone());
                    self.checking = false;
                    let scope = self.tabular(query);
                    self.checking = checking;
                    self.reading.pop();
                    return scope;
                }
                if self.lets.contains_key(&n.name) || TABULAR_SOURCES.contains(&n.name.as_str()) {
                    return Scope::unknown();
                }
                self.not_a_table(n);
                Scope::unknown()
            }
            _ => Scope::unknown(),
        }
    }

    fn not_a_table(&mut self, n: &Ident) {
        let help = nearest_name(&n.name, schema().kql_tables()).map(|t| format!("did you mean `{t}`?"));
        self.error(
            n.span.clone(),
            format!("`{}` is not a table (or a `let`) the query can read", n.name),
            help,
        );
    }

    /// The names a `union` or `find` reads (`union DeviceProcessEvents, DeviceFileEvents`):
    /// each must be a table or a `let` (a wildcard `Device*` is not checked).
    fn tables_named(&mut self, operands: &[Expr]) {
        if !self.checking {
            return;
        }
        for operand in operands {
            if let Expr::Name(n) = operand
                && plain(n)
                && !n.name.contains('*')
                && schema().table(&n.name).is_none()
                && !self.lets.contains_key(&n.name)
                && !TABULAR_SOURCES.contains(&n.name.as_str())
            {
                self.not_a_table(n);
            }
        }
    }

    /// The queries in parentheses among a `join`, `lookup` or `union`'s operands
    /// (`join kind=inner (DeviceFileEvents | where ...) on SHA1`): checked as queries.
    fn subqueries<'e>(&mut self, operands: impl IntoIterator<Item = &'e Expr>) {
        if !self.checking {
            return;
        }
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

    /// One stage: the row after it, from the row before it (`scope`).
    pub fn stage(&mut self, stage: &Stage, scope: Scope) -> Scope {
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
                    let meaning = self.defined(&scope, &Expr::Name(old.clone()));
                    scope.columns.retain(|(c, _)| c != &old.name);
                    scope.set(&new.name, meaning);
                    scope.open |= !(plain(old) && plain(new));
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
                let mut scope = scope;
                match (op, all_known) {
                    ("project-away", true) => scope.columns.retain(|(c, _)| !known.contains(c)),
                    ("project-keep", true) => {
                        let kept = known.iter().map(|n| (n.clone(), scope.meaning(n).clone())).collect();
                        scope.columns = kept;
                    }
                    ("project-reorder", _) => {}
                    _ => scope.open = true,
                }
                scope
            }
            StageBody::Summarize { aggregates, by } => {
                let mut after = self.summarize(aggregates, by, &scope);
                after.open |= !stage.params.is_empty();
                after
            }
            StageBody::Nothing if op == "distinct" => scope,
            StageBody::Items(items) if op == "distinct" => {
                let mut columns = Vec::new();
                let mut known = true;
                for item in items {
                    match (item.names.is_empty(), plain_name(&item.value)) {
                        (true, Some(n)) => {
                            self.name(n, &scope);
                            columns.push((n.name.clone(), scope.meaning(&n.name).clone()));
                        }
                        _ => known = false,
                    }
                }
                scope.output(columns, !known, "`distinct`")
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
            StageBody::Nothing if op == "count" => {
                scope.output(vec![("Count".into(), Meaning::Computed)], false, "`count`")
            }
            // Joins and unions: the columns after them are not worked out here (the
            // queries they combine with are checked on their own).
            StageBody::Join { right, .. } => {
                self.subqueries([right]);
                Scope { open: true, ..scope }
            }
            StageBody::Union(operands) => {
                self.subqueries(operands);
                Scope { open: true, ..scope }
            }
            StageBody::MvExpand { items, .. } | StageBody::MvApply { items, .. } => {
                let expand = matches!(stage.body, StageBody::MvExpand { .. });
                let mut scope = Scope { open: true, ..scope };
                for item in items {
                    let meaning = if expand && item.to_type.is_none() {
                        Meaning::Expanded
                    } else {
                        Meaning::Computed
                    };
                    match item.names.as_slice() {
                        [] => {
                            if let Expr::Name(n) = &item.value {
                                scope.set(&n.name, meaning);
                            }
                        }
                        names => names.iter().for_each(|n| scope.set(&n.name, meaning.clone())),
                    }
                }
                scope
            }
            StageBody::Parse { source, pattern } => {
                // The row, with the columns the pattern names.
                self.expr(source, &scope);
                let mut scope = scope;
                for part in pattern {
                    if let ParsePart::Column { name, .. } = part {
                        scope.set(&name.name, Meaning::Computed);
                        scope.open |= !plain(name);
                    }
                }
                // (`parse-where` drops the rows the pattern does not match: not read.)
                let rest = (stage.params.is_empty() && op == "parse")
                    .then(|| ParsedRest::of(source, pattern, &self.src))
                    .flatten();
                if let Some((name, rest)) = rest
                    && !scope.made(&rest.column)
                {
                    let parsed = Derivations {
                        parsed: Some(rest),
                        ..Derivations::default()
                    };
                    scope.set(&name, Meaning::Derived(Box::new(parsed)));
                }
                scope
            }
            StageBody::ParseKv { columns, .. } => {
                let mut scope = Scope { open: true, ..scope };
                for (name, _) in columns {
                    scope.set(&name.name, Meaning::Computed);
                }
                scope
            }
            _ => Scope { open: true, ..scope },
        }
    }

    fn extend(&mut self, items: &[Item], mut scope: Scope) -> Scope {
        for item in items {
            self.expr(&item.value, &scope);
            match item.names.as_slice() {
                [name] => {
                    let meaning = self.defined(&scope, &item.value);
                    scope.set(&name.name, meaning);
                    scope.open |= !plain(name);
                }
                [] => {
                    // An expression's default name is a column of its own.
                    if let Some(name) = derived_column_name(&item.value) {
                        scope.set(&name, Meaning::Computed);
                    }
                    scope.open = true;
                }
                names => {
                    for name in names {
                        scope.set(&name.name, Meaning::Computed);
                    }
                    scope.open = true;
                }
            }
        }
        scope
    }

    fn project(&mut self, items: &[Item], scope: Scope) -> Scope {
        let mut columns = Vec::new();
        let mut declared = Vec::new();
        let mut derived = Vec::new();
        let mut open = false;
        for item in items {
            // `project` takes no wildcards; an item with one is left unchecked.
            if has_star(&item.value) {
                open = true;
                continue;
            }
            open |= !self.output(item, &scope, &mut columns, &mut declared, &mut derived);
        }
        self.declared_once(&declared, &derived);
        scope.output(columns, open, "`project`")
    }

    /// Adds the column an output item of `project` or `summarize ... by` makes to
    /// `columns` with what it means (and to `declared` with where it is named, to
    /// `derived` when KQL derives its name); false when its name is not certain.
    fn output(
        &mut self,
        item: &Item,
        scope: &Scope,
        columns: &mut Vec<(String, Meaning)>,
        declared: &mut Vec<(String, Span)>,
        derived: &mut Vec<String>,
    ) -> bool {
        self.expr(&item.value, scope);
        let certain = self.output_name(item);
        let meaning = match item.names.as_slice() {
            [_] => self.defined(scope, &item.value),
            // A column, `bin(C, ...)`, `tostring(C)` keep the column's meaning.
            _ => Meaning::Table,
        };
        match item.names.as_slice() {
            [] => {
                if let Some(name) = derived_column_name(&item.value) {
                    let meaning = scope.meaning(&name).clone();
                    columns.push((name, meaning));
                }
            }
            [name] => columns.push((name.name.clone(), meaning)),
            names => columns.extend(names.iter().map(|n| (n.name.clone(), Meaning::Computed))),
        }
        let Some((name, is_derived)) = certain else {
            return false;
        };
        if is_derived {
            derived.push(name.0.clone());
        }
        declared.push(name);
        true
    }

    /// The name of the column an item of `project` or `summarize ... by` makes (and
    /// where it is named), when KQL's name for it is certain: `Name = expr`, a column,
    /// `bin(Column, ...)`; and whether KQL derived that name from an expression (`bin`).
    fn output_name(&self, item: &Item) -> Option<((String, Span), bool)> {
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

    fn summarize(&mut self, aggregates: &[Item], by: &[Item], scope: &Scope) -> Scope {
        let mut columns = Vec::new();
        let mut declared: Vec<(String, Span)> = Vec::new();
        let mut open = false;
        for item in aggregates {
            self.count_of_a_column(&item.value, scope);
            self.expr(&item.value, scope);
            match item.names.as_slice() {
                [] => match default_column_name(&item.value) {
                    Some(name) => declared.push((name, item.value.span())),
                    None => open = true,
                },
                [name] => {
                    declared.push((name.name.clone(), name.span.clone()));
                    // `R = arg_max(T, C)` also outputs `C` (as `C1` when `C` is taken):
                    // the names after it are not worked out here.
                    open |= item.value.called().is_some_and(|(f, _)| {
                        matches!(f, "arg_max" | "arg_min" | "take_any" | "any" | "take_anyif" | "anyif")
                    });
                }
                names => declared.extend(names.iter().map(|n| (n.name.clone(), n.span.clone()))),
            }
        }
        columns.extend(declared.iter().map(|(n, _)| (n.clone(), Meaning::Computed)));
        let mut derived = Vec::new();
        for item in by {
            open |= !self.output(item, scope, &mut columns, &mut declared, &mut derived);
        }
        self.declared_once(&declared, &derived);
        scope.output(columns, open, "`summarize`")
    }

    /// What `definition` means as a column of the row `scope`: an alias when it is a
    /// column (or an alias, or a property of a column), or `tolower`/`toupper` of one;
    /// else a computed column, perhaps one fpx lowers exactly ([`super::derived`]).
    fn defined(&self, scope: &Scope, definition: &Expr) -> Meaning {
        let src = &self.src;
        let mut derivations = Derivations {
            counted: counted(definition, src).filter(|(column, _)| scope.table_string(column)),
            split: SplitPart::of(definition, src).filter(|p| scope.table_string(&p.column)),
            extracted: extracted(definition, src)
                .filter(|(_, column)| scope.table_string(column))
                .map(|(pattern, column)| (column, pattern)),
            suffix: SuffixExtract::of(definition, src).filter(|s| scope.table_string(&s.column)),
            parsed: None,
        };
        let computed = |derivations: Derivations| {
            if derivations.any() {
                Meaning::Derived(Box::new(derivations))
            } else {
                Meaning::Computed
            }
        };
        let called = |e: &Expr, f: &str| match e.called() {
            Some((g, [arg])) if g.eq_ignore_ascii_case(f) => Some(arg.value.clone()),
            _ => None,
        };
        let plain = |e: &Expr| match e {
            Expr::Name(n) if n.span.len() == n.name.len() => Some(n.name.clone()),
            _ => None,
        };
        // `tostring(...)`, `parse_json(...)`, `todynamic(...)` keep the value they wrap.
        let mut inner = definition.clone();
        let mut dynamic = false;
        let mut outermost = true;
        while let Some(next) = ["tostring", "parse_json", "todynamic"]
            .iter()
            .find_map(|f| called(&inner, f).map(|e| (*f, e)))
        {
            if outermost {
                dynamic = next.0 != "tostring";
            }
            outermost = false;
            inner = next.1;
        }
        // `extractjson("$.a.b", C)` is the property `C.a.b` as text.
        let path = extractjson_path(definition, src).or_else(|| {
            src.property(&inner)
                .filter(|p| p.contains(['.', '[']) || (dynamic && !matches!(inner, Expr::Call { .. })))
        });
        let (column, fold) = if let Some(column) = plain(definition) {
            (column, None)
        } else if let Some(path) = path {
            // A dynamic value read from a column, or one of its properties as text: the
            // same field (`Parsed = parse_json(AdditionalFields)`, `P = tostring(Parsed.P)`,
            // `T = RawEventData.Target[2].ID`).
            let head = crate::pred::column_of(&path);
            let tail = &path[head.len()..];
            match (tail, scope.meaning(head)) {
                ("", _) => (path.clone(), None),
                (_, Meaning::Alias(a)) if a.fold.is_none() => (format!("{}{tail}", a.column), None),
                (_, Meaning::Table) => (path.clone(), None),
                _ => return computed(std::mem::take(&mut derivations)),
            }
        } else if let Some(column) = called(definition, "tolower").as_ref().and_then(plain) {
            (column, Some(Fold::Lower))
        } else if let Some(column) = called(definition, "toupper").as_ref().and_then(plain) {
            (column, Some(Fold::Upper))
        } else {
            return computed(derivations);
        };
        // An alias of an alias is an alias of its column.
        match scope.meaning(&column) {
            Meaning::Table => Meaning::Alias(Alias { column, fold }),
            Meaning::Alias(a) if fold.is_none() => Meaning::Alias(a.clone()),
            Meaning::Alias(a) if a.fold.is_none() => Meaning::Alias(Alias {
                column: a.column.clone(),
                fold,
            }),
            _ => computed(derivations),
        }
    }

    /// `count(X)` counts the rows where the bool `X` holds: with a column of the rule's
    /// table that is not a bool (`count(RemoteUrl)`), or a dynamic value made by
    /// `mv-expand`, Kusto refuses the query.
    fn count_of_a_column(&mut self, value: &Expr, scope: &Scope) {
        if !self.checking {
            return;
        }
        let Some(("count", [arg])) = value.called() else {
            return;
        };
        let Some(column) = plain_name(&arg.value) else {
            return;
        };
        if matches!(scope.listed(&column.name), Some(Meaning::Expanded)) {
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
        if scope.open || !scope.has(&column.name) {
            return;
        }
        let Some(ty) = scope.table_type(&column.name) else {
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
        if !self.checking {
            return;
        }
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
        if !self.checking {
            return;
        }
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
        if !matches!(op.name.as_str(), "<" | ">" | "<=" | ">=") || scope.open {
            return;
        }
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
            if self.lets.contains_key(&n.name) || !scope.has(&n.name) {
                return None;
            }
            (scope.table_type(&n.name)? == crate::schema::ColumnType::Datetime).then(|| n.name.clone())
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
        if !self.checking {
            return;
        }
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
        if scope.open || scope.has(name) {
            return;
        }
        let candidates = scope
            .names()
            .map(String::as_str)
            .chain(self.lets.keys().map(String::as_str));
        let by_suffix = scope
            .names()
            .filter(|c| c.len() > name.len() && c.ends_with(name))
            .min_by_key(|c| c.len())
            .map(String::as_str);
        let help = by_suffix
            .or_else(|| nearest_name(name, candidates))
            .map(|c| format!("did you mean `{c}`?"));
        let message = format!("`{name}` is not a column of {} or a `let` name", scope.from);
        self.error(n.span.clone(), message, help);
    }
}

/// `extractjson("$.a.b", C)` (or with `typeof(string)`): the property path `C.a.b`, as a
/// definition reads it. `None` for another call or a path with filters or wildcards.
fn extractjson_path(definition: &Expr, src: &Src) -> Option<String> {
    let (f, args) = definition.called()?;
    if !matches!(f, "extractjson" | "extract_json") {
        return None;
    }
    let (path, column) = match args {
        [path, column] => (path, column),
        [path, column, ty] if src.text(&ty.value.span()).split_whitespace().collect::<String>() == "typeof(string)" => {
            (path, column)
        }
        _ => return None,
    };
    let path = src.string(&path.value)?;
    let rest = path.strip_prefix('$')?;
    if rest.is_empty() {
        return None;
    }
    let column = src.path(&column.value)?;
    crate::pred::canonical_path(&format!("{column}{rest}"))
}

/// KQL's name for an unnamed column: a column's own name, the column of a conversion
/// (`tostring(SPN)` is `SPN`, as Kusto.Language names it) or of `bin(C, ...)`, else the
/// name of an aggregate ([`super::ast::default_column_name`]).
pub(super) fn derived_column_name(e: &Expr) -> Option<String> {
    const KEEP_NAME: [&str; 10] = [
        "tostring",
        "toint",
        "tolong",
        "todouble",
        "toreal",
        "todatetime",
        "tobool",
        "totimespan",
        "todecimal",
        "bin",
    ];
    if let Some((f, [first, ..])) = e.called()
        && KEEP_NAME.contains(&f)
        && let Expr::Name(n) = &first.value
    {
        return Some(n.name.clone());
    }
    default_column_name(e)
}
