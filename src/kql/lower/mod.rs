//! Lowering: the syntax tree ([`super::ast`]) of a rule's query to its table, its
//! detection D (the `where` conditions before the first `summarize`, as a [`Pred`]) and
//! its output columns. What a column's name means at each stage (an alias of a column,
//! a column computed from another) is the binder's ([`super::bind`]), which the reader
//! drives stage by stage through the sources it follows (a `let`-bound query, each query
//! of a union); `let` values and queries are followed here. Nothing is read again from the
//! query's text but the values of literal tokens, which the exclusion grammar's decoder
//! reads ([`super::literal`]), so a literal means the same in a `where` clause and in an
//! exclusion. Operators are mapped by the exclusion code too ([`operator`]).
//!
//! What cannot be lowered exactly is over-approximated and noted (see [`super`]).

mod condition;

use super::ast::{Expr, Item, Query, Stage, StageBody, Statement};
use super::bind::{Binder, Let, Scope, derived_column_name};
use super::literal::Src;
use crate::model::{QueryNote, RuleQuery, approximate, opaque};
use crate::pred::{Atom, Pred, Span};

/// Why most opaque conditions are approximated (see `Reader::approximated`).
const UNDECIDABLE: &str = "is not a condition on the table's columns that fpx can decide; it is read";

/// Reads the query's table, D and output columns from its syntax tree, as far as they
/// can be lowered.
pub(super) fn lower(query: &str, tree: &Query) -> RuleQuery {
    let mut reader = Reader::new(Src(query));
    let mut main = None;
    reader.statements(&tree.statements, &mut main);
    // Several queries (`T | ...; U | ...`): which one is the rule's is not said.
    let queries: Vec<&Expr> = tree
        .statements
        .iter()
        .filter_map(|s| match s {
            Statement::Expr(e) => Some(e),
            _ => None,
        })
        .collect();
    if let [_, second, ..] = queries.as_slice() {
        return RuleQuery::unreadable(
            second.span(),
            format!(
                "the query has {} queries (separated by `;`): fpx cannot tell which one is the rule's, so it is checked without its detection logic",
                queries.len()
            ),
        );
    }
    let Some(main) = main else {
        return RuleQuery::unreadable(
            query.trim_end().len().saturating_sub(1)..query.trim_end().len(),
            "the query has no tabular expression: fpx checks it without its detection logic".into(),
        );
    };
    let (table, detection, output_columns) = reader.tabular(main);
    let fatal = reader.notes.iter().any(|n| n.fatal);
    let detection = if fatal {
        None
    } else {
        detection.map(|d| approximate(&d, true))
    };
    RuleQuery {
        table: table.map(crate::schema::Table::kql),
        detection,
        output_columns,
        notes: reader.notes,
        errors: Vec::new(),
        inline: Vec::new(),
        unexcluded: None,
    }
}

#[derive(Clone)]
struct Reader<'q> {
    src: Src<'q>,
    /// The `let`-bound queries being read (a query that names itself is not read
    /// forever).
    reading: Vec<String>,
    /// The tables of the queries `field in (query)` was read as a condition on.
    memberships: Vec<String>,
    notes: Vec<QueryNote>,
    /// The binder, and the row at the stage being read: what each name means.
    binder: Binder<'q>,
    scope: Scope,
    /// The table the query reads (once known), for its columns' types.
    table: Option<String>,
    /// After a `join` that keeps the rule's rows: a name that is not a column of the
    /// rule's table is the other table's, and a condition on it is not the rule's.
    joined: bool,
    /// The rule's columns at a join that followed a `project` (the projected names):
    /// then a name not among them is the other table's.
    left_columns: Option<Vec<String>>,
    /// After a `| union` that adds other tables' rows to the rule's: a name that is not
    /// a column of the rule's row is null on it, which fpx does not read.
    unioned: bool,
}

/// A tabular expression as read so far: its source, its `where` conditions (before the
/// first `summarize`), its output columns.
struct Read {
    source: String,
    wheres: Vec<Pred>,
    outputs: Vec<String>,
    summarized: bool,
    /// The tables of a `union`/`find` source, where it is, and whether it is `find`.
    several: Option<(Vec<String>, Span, bool)>,
    /// A join that keeps the rule's rows after their columns were projected (so a name
    /// after it may be the other table's): where it is and how it reads. It costs D
    /// only if a condition follows it before the first `summarize`.
    combined: Option<(Span, String, String)>,
    /// Whether the rule's columns were projected, and whether `outputs` still lists them
    /// exactly (see `stages`); kept from a `let`-bound query to the stages after it.
    projected: bool,
    known: bool,
}

/// A tabular expression's source and stages.
fn pipeline(e: &Expr) -> (&Expr, &[Stage]) {
    match e {
        Expr::Pipe { source, stages } => (source, stages),
        other => (other, &[]),
    }
}

/// The expression inside one pair of parentheses.
fn parenthesised(e: &Expr) -> Option<&Expr> {
    match e {
        Expr::List { items, .. } if items.len() == 1 => Some(&items[0]),
        _ => None,
    }
}

impl<'q> Reader<'q> {
    fn new(src: Src<'q>) -> Reader<'q> {
        Reader {
            src,
            reading: Vec::new(),
            memberships: Vec::new(),
            notes: Vec::new(),
            binder: Binder::follower(src),
            scope: Scope::unknown(),
            table: None,
            joined: false,
            unioned: false,
            left_columns: None,
        }
    }

    fn text(&self, span: &Span) -> &'q str {
        self.src.text(span)
    }

    /// Reads `let` statements into the reader; the last query is the main one.
    fn statements(&mut self, statements: &'q [Statement], main: &mut Option<&'q Expr>) {
        for statement in statements {
            match statement {
                Statement::Let { name, value, .. } => self.binder.let_statement(name, value),
                Statement::Expr(e) => *main = Some(e),
                Statement::Option { .. } => {}
            }
        }
    }

    /// Whether, after a join, `field` names the other table's column: not a column of
    /// the rule's table (nor an alias or computed column of it). Conditions on it are
    /// about the other table's rows (the join's note says so).
    fn other_table(&self, field: &str) -> bool {
        let head = crate::pred::column_of(field);
        let name = crate::pred::canonical_path(field).is_some();
        self.joined
            && name
            && self.binder.let_named(head).is_none()
            && !self.scope.made(head)
            && match &self.left_columns {
                Some(left) => !left.iter().any(|c| c == head),
                None => self
                    .table
                    .as_deref()
                    .and_then(|t| crate::schema::schema().table(t))
                    .is_some_and(|columns| !columns.iter().any(|c| c.name == head)),
            }
    }

    fn note(&mut self, span: Span, message: String, fatal: bool) {
        self.notes.push(QueryNote::new(span, message, fatal));
    }

    /// The query a source name reads (a `let`-bound query, or a `let` function's), with
    /// the names its body binds; not one being read.
    fn view(&self, name: &str) -> Option<(&'q Expr, Vec<(String, Let<'q>)>)> {
        if self.reading.iter().any(|r| r == name) {
            return None;
        }
        self.binder.query_of(name).map(|(q, locals)| (q, locals.to_vec()))
    }

    /// Reads a `let`-bound query (`view` of `name`), with its function's names bound.
    fn read_view(&mut self, name: &str, view: &'q Expr, locals: &[(String, Let<'q>)]) -> Option<Read> {
        let hidden = self.binder.enter(locals);
        self.reading.push(name.to_string());
        let read = self.read(view);
        self.reading.pop();
        self.binder.leave(hidden);
        read
    }

    /// Table, D (with opaque parts still marked), output columns.
    fn tabular(&mut self, e: &'q Expr) -> (Option<String>, Option<Pred>, Vec<String>) {
        let Some(mut read) = self.read(e) else {
            return (None, None, Vec::new());
        };
        self.resolve_combined(&mut read);
        let Read {
            source,
            mut wheres,
            outputs,
            several,
            ..
        } = read;
        let mut detection = match wheres.len() {
            0 => Pred::True,
            1 => wheres.pop().expect("one"),
            _ => Pred::And(wheres),
        };
        let mut source = source;
        if let Some((names, at, find)) = several {
            (source, detection) = self.one_of_several(&names, at, find, detection);
        }
        (Some(source), Some(detection), outputs)
    }

    /// The `let`-bound query a source reads: a name, or a call of a `let` function.
    fn view_name(&self, source: &Expr) -> Option<String> {
        match source {
            Expr::Name(n) if crate::schema::schema().table(&n.name).is_none() => Some(n.name.clone()),
            Expr::Call { .. } => source.called().map(|(f, _)| f.to_string()),
            _ => None,
        }
    }

    /// Reads a tabular expression's source and stages; `None` when its source is not
    /// one table (said in a fatal note).
    fn read(&mut self, e: &'q Expr) -> Option<Read> {
        let (first, stages) = pipeline(e);
        let mut wheres = Vec::new();
        let mut several = None;
        if let Some(name) = self.view_name(first)
            && let Some((view, locals)) = self.view(&name)
        {
            // Its stages, then this one's. One fpx cannot read as a table is read as an
            // unknown source instead, as before it was known.
            let (notes, scope) = (self.notes.len(), self.scope.clone());
            let read = self.read_view(&name, view, &locals);
            if let Some(mut read) = read {
                self.stages(stages, &mut read);
                return Some(read);
            }
            self.notes.truncate(notes);
            self.scope = scope;
        }
        if let Expr::Name(n) = first
            && let Some(Let::Datatable(at)) = self.binder.let_named(&n.name).cloned()
        {
            self.note(
                at,
                format!(
                    "`{}` is a datatable: fpx does not read inline tables, so the rule is checked without its detection logic",
                    n.name
                ),
                true,
            );
            return None;
        }
        let union = match first {
            Expr::Source(stage) => match &stage.body {
                StageBody::Union(operands) => Some((operands.as_slice(), stage.span.clone())),
                _ => None,
            },
            _ => None,
        };
        let names = |operands: &[Expr]| -> Option<Vec<String>> {
            operands
                .iter()
                .map(|o| match o {
                    Expr::Name(n) if !n.name.contains('*') => Some(n.name.clone()),
                    _ => None,
                })
                .collect()
        };
        if let Some((operands, _)) = &union
            && let Some(tables) = names(operands)
            && tables.len() > 1
            && let Some(read) = self.union_of_views(&tables, stages)
        {
            return Some(read);
        }
        // A query in parentheses, or a union whose first operand is one: the first
        // query's rows, then this query's stages. A union's other queries read other
        // rows: noted, as a union of tables is.
        let sub = match (&union, first) {
            (Some((operands, _)), _) => operands.first().and_then(parenthesised),
            (None, first) => parenthesised(first),
        };
        if let Some(sub) = sub {
            let at = first.span();
            if let Some((operands, _)) = &union
                && let Some(read) = self.union_of_queries(operands, at.clone(), stages)
            {
                return Some(read);
            }
            let mut read = self.read(sub)?;
            if union.is_some() {
                self.note(
                    at,
                    format!(
                        "the rule reads a union of queries: fpx checks it on the first, which reads {} (the others are not checked)",
                        read.source
                    ),
                    false,
                );
            }
            self.stages(stages, &mut read);
            return Some(read);
        }
        let find = match first {
            Expr::Source(stage) => match &stage.body {
                StageBody::Find { tables, condition } => names(tables)
                    .filter(|t| !t.is_empty())
                    .map(|t| (t, condition, stage.span.clone())),
                _ => None,
            },
            _ => None,
        };
        let source = match (first, union, find) {
            (_, Some((operands, at)), _) if names(operands).is_some() => {
                let tables = names(operands).unwrap_or_default();
                let name = tables[0].clone();
                several = Some((tables, at, false));
                name
            }
            (_, _, Some((tables, condition, at))) => {
                // `find`'s condition holds on each table's rows alike.
                let name = tables[0].clone();
                self.table = Some(name.clone());
                self.scope = Scope::of_table(&name);
                several = Some((tables, at, true));
                wheres.push(self.condition(condition).0);
                name
            }
            (Expr::Name(n), None, None) => n.name.clone(),
            (first, _, _) => {
                let short: String = self
                    .text(&first.span())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                let short: String = short.chars().take(40).collect();
                self.note(
                    first.span(),
                    format!(
                        "the rule reads `{short}`: not one table (a union of queries, `print`, a function call), so it is checked without its detection logic"
                    ),
                    true,
                );
                return None;
            }
        };
        self.table = Some(source.clone());
        self.scope = Scope::of_table(&source);
        let mut read = Read {
            source,
            wheres,
            outputs: Vec::new(),
            summarized: false,
            several,
            combined: None,
            projected: false,
            known: true,
        };
        self.stages(stages, &mut read);
        Some(read)
    }

    /// `union V1, V2, ... | stages` where every `Vi` is a `let`-bound query and all read
    /// one table: the rows of each, so D is the `or` over the queries of each one's D
    /// with `stages` read on top of it (each in its own columns: an `extend` in one is
    /// not a column of another). `None` (the caller reads it as a union of tables) when
    /// a name is not such a query, the queries read different tables, or one cannot be
    /// read.
    fn union_of_views(&mut self, names: &[String], stages: &'q [Stage]) -> Option<Read> {
        if !names.iter().all(|n| self.view(n).is_some()) {
            return None;
        }
        let base = self.clone();
        let mut reads: Vec<Read> = Vec::new();
        let mut notes: Vec<QueryNote> = Vec::new();
        for name in names {
            *self = base.clone();
            let (view, locals) = self.view(name).expect("checked: a view");
            let read = self.read_view(name, view, &locals);
            let Some(mut read) = read else {
                *self = base;
                return None;
            };
            self.stages(stages, &mut read);
            self.resolve_combined(&mut read);
            let same = reads.first().is_none_or(|r: &Read| r.source == read.source);
            // A name only another query makes (null in these rows) is not read here.
            let columns = crate::schema::schema().table(&read.source);
            let own = |field: &String| {
                field == crate::model::OPAQUE
                    || columns.is_some_and(|cs| cs.iter().any(|c| c.name == crate::pred::column_of(field)))
            };
            let foreign = read.wheres.iter().any(|w| !w.fields().iter().all(own));
            if !same || foreign || read.several.is_some() || self.notes[base.notes.len()..].iter().any(|n| n.fatal) {
                *self = base;
                return None;
            }
            for note in &self.notes[base.notes.len()..] {
                if !notes.contains(note) {
                    notes.push(note.clone());
                }
            }
            reads.push(read);
        }
        // The last query's columns stand for the rest (the reader's state is the last
        // one's); the notes are every query's, once.
        self.notes = base.notes;
        self.notes.extend(notes);
        let branch = |read: &mut Read| match read.wheres.len() {
            0 => Pred::True,
            1 => read.wheres.pop().expect("one"),
            _ => Pred::And(std::mem::take(&mut read.wheres)),
        };
        let detection = Pred::Or(reads.iter_mut().map(branch).collect());
        let mut outputs: Vec<String> = Vec::new();
        for read in &reads {
            for column in &read.outputs {
                if !outputs.contains(column) {
                    outputs.push(column.clone());
                }
            }
        }
        let first = &reads[0];
        Some(Read {
            source: first.source.clone(),
            wheres: vec![detection],
            outputs,
            summarized: reads.iter().any(|r| r.summarized),
            several: None,
            combined: None,
            projected: reads.iter().any(|r| r.projected),
            known: reads.iter().all(|r| r.known),
        })
    }

    /// `union (A | where P), (B | where P), C...` where every query reads one known table
    /// with the same conditions (and no other stage): the rows of those tables that meet
    /// P, which is `union A, B | where P` (one table of their rows, see
    /// `crate::schema::Schema::union`), with `stages` after it. `None` otherwise (the
    /// caller reads the first query and notes the others).
    fn union_of_queries(&mut self, operands: &'q [Expr], at: Span, stages: &'q [Stage]) -> Option<Read> {
        let base = self.clone();
        let mut tables = Vec::new();
        let mut detection: Option<Pred> = None;
        for operand in operands {
            let query = match operand {
                Expr::Name(n) => {
                    crate::schema::schema().table(&n.name)?;
                    tables.push(n.name.clone());
                    if detection.as_ref().is_some_and(|d| *d != Pred::True) {
                        *self = base;
                        return None;
                    }
                    detection = Some(Pred::True);
                    continue;
                }
                other => match parenthesised(other) {
                    Some(query) => query,
                    None => continue,
                },
            };
            *self = base.clone();
            let read = self.read(query);
            let plain = matches!(
                &read,
                Some(read)
                    if read.several.is_none()
                        && read.outputs.is_empty()
                        && !read.summarized
                        && read.combined.is_none()
                        && self.notes.len() == base.notes.len()
                        && !self.scope.any_made()
                        && crate::schema::schema().table(&read.source).is_some()
            );
            let Some(read) = read.filter(|_| plain) else {
                *self = base;
                return None;
            };
            let d = match read.wheres.as_slice() {
                [] => Pred::True,
                [one] => approximate(one, true),
                all => approximate(&Pred::And(all.to_vec()), true),
            };
            match &detection {
                None => detection = Some(d),
                Some(first) if first.without_spans() == d.without_spans() => {}
                Some(_) => {
                    *self = base;
                    return None;
                }
            }
            tables.push(read.source.clone());
        }
        *self = base;
        let detection = detection?;
        if tables.len() < 2 || crate::schema::schema().union(&tables).is_none() {
            return None;
        }
        self.table = Some(tables[0].clone());
        self.scope = Scope::of_table(&tables[0]);
        let mut read = Read {
            source: tables[0].clone(),
            wheres: vec![detection],
            outputs: Vec::new(),
            summarized: false,
            several: Some((tables, at, false)),
            combined: None,
            projected: false,
            known: true,
        };
        self.stages(stages, &mut read);
        Some(read)
    }

    /// The name of an item's column (`Name = ...`, or the name KQL gives it).
    fn item_names(item: &Item) -> Vec<String> {
        if !item.names.is_empty() {
            return item.names.iter().map(|n| n.name.clone()).collect();
        }
        derived_column_name(&item.value).into_iter().collect()
    }

    /// Reads `stages` on top of what `read` holds.
    fn stages(&mut self, stages: &'q [Stage], read: &mut Read) {
        let mut wheres = std::mem::take(&mut read.wheres);
        let mut outputs = std::mem::take(&mut read.outputs);
        let mut summarized = read.summarized;
        // Whether the rule's columns were projected: after a join, a name could then be
        // the other table's column of the same name. And whether `outputs` is still
        // exactly the rule's columns since then (only `extend`, `where` and stages that
        // keep columns followed the `project`).
        let (mut projected, mut known) = (read.projected, read.known);
        for stage in stages {
            // What each name means after the stage (a `where` changes none).
            let before = std::mem::take(&mut self.scope);
            self.scope = self.binder.stage(stage, before);
            let stage_span = stage.span.clone();
            let word = stage.op.name.to_ascii_lowercase();
            match (&stage.body, word.as_str()) {
                (StageBody::Where(expr), _) if !summarized && read.combined.is_some() => {
                    // A condition after a join whose names fpx cannot attribute: D is
                    // what was read up to the join. One that is only a time window (no
                    // condition on any row) costs nothing.
                    let notes = self.notes.len();
                    let condition = approximate(&self.condition(expr).0, true);
                    if self.notes.len() == notes
                        && condition.atoms().is_empty()
                        && condition.eval(&crate::pred::Event::new())
                    {
                        continue;
                    }
                    self.notes.truncate(notes);
                    let (at, word, _) = read.combined.take().expect("checked");
                    self.note(
                        at,
                        format!(
                            "`| {word}` combines the rule's table with other tables: fpx reads the detection up to here and not the conditions after it, so D may match more than the rule does"
                        ),
                        false,
                    );
                    summarized = true;
                }
                (StageBody::Where(expr), _) if !summarized => {
                    // A stage that is only a condition (the parser reads it as the
                    // `where` it should be, and reports it).
                    if stage.op.span.start == expr.span().start {
                        self.note(
                            stage_span,
                            format!(
                                "`| {}` has no operator; fpx reads it as `| where {0}`",
                                self.text(&expr.span()).trim()
                            ),
                            false,
                        );
                    }
                    wheres.push(self.condition(expr).0);
                }
                (StageBody::Summarize { aggregates, by }, _) => {
                    summarized = true;
                    self.resolve_combined(read);
                    // `n = count()`, `(a, b) = arg_max(...)`, a `by` column, or the
                    // default name of an unnamed aggregate.
                    outputs = aggregates.iter().chain(by).flat_map(Self::item_names).collect();
                }
                (StageBody::Items(items), "project" | "extend") => {
                    let project = word == "project";
                    projected |= project;
                    known |= project;
                    let names = items.iter().flat_map(Self::item_names).collect();
                    if project {
                        outputs = names;
                    } else {
                        outputs.extend(names);
                    }
                }
                // `distinct *` keeps every column.
                (StageBody::Items(items), "distinct") => {
                    outputs = items.iter().flat_map(Self::item_names).collect();
                }
                (StageBody::Join { .. } | StageBody::Union(_), _) if !summarized => {
                    self.combine(stage, &word, read, &mut summarized, projected, known, &outputs);
                }
                _ if !summarized => {
                    known &= matches!(
                        word.as_str(),
                        "sort" | "order" | "top" | "take" | "limit" | "sample" | "render" | "serialize" | "as"
                    );
                    // `project-away`, `-keep`, `-rename` reshape the rule's columns too.
                    projected |= word.starts_with("project");
                    // Aggregations, as `summarize`: what follows is about groups.
                    if matches!(word.as_str(), "make-series" | "top-nested") {
                        summarized = true;
                        self.resolve_combined(read);
                        continue;
                    }
                }
                _ => {}
            }
        }
        (read.wheres, read.outputs, read.summarized) = (wheres, outputs, summarized);
        (read.projected, read.known) = (projected, known);
    }

    /// A `join`, `lookup` or `| union` stage: what it does to the rule's rows.
    #[allow(clippy::too_many_arguments)]
    fn combine(
        &mut self,
        stage: &Stage,
        word: &str,
        read: &mut Read,
        summarized: &mut bool,
        projected: bool,
        known: bool,
        outputs: &[String],
    ) {
        // The rows of the rule's table that reach this stage satisfy the conditions read
        // so far; a join, lookup or union only removes them or adds rows of other
        // tables, and what follows works on the combined rows. Those conditions alone
        // are a sound over-approximation.
        let stage_span = stage.span.clone();
        if word == "union" && !projected {
            // The rule's rows go on as they are, with other tables' rows added: what
            // follows is still about the rule's rows, and a condition on their columns
            // is read.
            self.notes.push(QueryNote {
                span: stage_span,
                message: "`| union` adds other tables' rows to the rule's: fpx reads D on the rule's own table (conditions after it on its columns too); the added rows are outside one table's events".into(),
                fatal: false,
                correlates: true,
            });
            self.unioned = true;
            return;
        }
        let kind = stage
            .params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case("kind"))
            .and_then(|p| match &p.value {
                Expr::Name(n) => Some(n.name.to_ascii_lowercase()),
                _ => None,
            })
            .unwrap_or_else(|| if word == "lookup" { "leftouter" } else { "innerunique" }.into());
        // A join that keeps the rule's rows and their column names (`inner`,
        // `innerunique`, the `left...` kinds; `lookup`): what follows is still about
        // those rows, and a condition on their columns is read.
        let keeps_rows = word != "union"
            && matches!(
                kind.as_str(),
                "innerunique"
                    | "inner"
                    | "leftouter"
                    | "leftsemi"
                    | "leftanti"
                    | "leftantisemi"
                    | "rightouter"
                    | "fullouter"
            );
        if keeps_rows && projected && known {
            // The rule's columns are those it projected: any other name is the other
            // table's.
            self.left_columns = Some(outputs.to_vec());
        }
        if keeps_rows && (!projected || known) {
            self.notes.push(QueryNote {
                span: stage_span,
                message: format!(
                    "`| {word}` (kind={kind}) matches the rule's rows with another table's: fpx reads D on the rule's own table (conditions after it on its columns too); whether a row also has its match is outside one table's events"
                ),
                fatal: false,
                correlates: true,
            });
            self.joined = true;
            return;
        }
        if keeps_rows {
            // After a `project`, a name could be either table's column: harmless unless
            // a condition follows.
            read.combined.get_or_insert((stage_span, word.to_string(), kind));
            return;
        }
        self.note(
            stage_span,
            format!(
                "`| {word}` combines the rule's table with other tables: fpx reads the detection up to here and not the conditions after it, so D may match more than the rule does"
            ),
            false,
        );
        *summarized = true;
    }

    /// `field in (view)` read as a condition on another table's rows (see
    /// [`Self::view_of_another_table`]), noted; `None` when it is not one.
    fn membership(&mut self, field: &str, view: &str, text: &str, at: Span) -> Option<Pred> {
        let table = self.view_of_another_table(field, view)?;
        self.notes.push(QueryNote {
            span: at,
            message: format!(
                "`{text}` compares with the rows of a query on {table}: whether some {table} row holds the value is outside the rule's table (that query leaves the value free), so D is exact for the rule's own table"
            ),
            fatal: false,
            correlates: true,
        });
        Some(opaque(None))
    }

    /// `field in (view)` where `view` is a `let`-bound query on another table, read
    /// exactly, satisfiable, returning one column of that table that its conditions do
    /// not mention: then for any value of `field`, some content of that table makes the
    /// membership true and some (none) makes it false, so the condition is about that
    /// table's rows, not the rule's. The table it reads, if so. A second membership in
    /// the same table is not independent of the first, and is not read this way.
    fn view_of_another_table(&mut self, field: &str, view: &str) -> Option<String> {
        let schema = crate::schema::schema();
        let rule_table = self.table.clone()?;
        let own = schema.table(&rule_table)?.iter().find(|c| c.name == field)?;
        if self.scope.made(field) {
            return None;
        }
        let (query, locals) = self.view(view)?;
        let mut sub = Reader {
            binder: self.binder.clone(),
            reading: self.reading.clone(),
            ..Reader::new(self.src)
        };
        let read = sub.read_view(view, query, &locals)?;
        let table = read.source.trim().to_string();
        let columns = schema.table(&table)?;
        if !sub.notes.is_empty() || read.several.is_some() || table == rule_table || self.memberships.contains(&table) {
            return None;
        }
        // The one column it returns: `distinct K`, `project K`, `summarize by K`,
        // `summarize make_set(K)` / `make_list(K)` (named `set_K`, `list_K`).
        let [output] = read.outputs.as_slice() else {
            return None;
        };
        let key = ["set_", "list_"]
            .iter()
            .find_map(|p| output.strip_prefix(p))
            .filter(|k| !columns.iter().any(|c| &c.name == output) && columns.iter().any(|c| c.name == *k))
            .unwrap_or(output);
        let column = columns.iter().find(|c| c.name == key)?;
        if column.ty != own.ty || sub.scope.made(key) {
            return None;
        }
        let detection = match read.wheres.len() {
            0 => Pred::True,
            _ => Pred::And(read.wheres),
        };
        let detection = approximate(&detection, true);
        if detection.fields().iter().any(|f| crate::pred::column_of(f) == key) {
            return None;
        }
        let typed = crate::schema::typed(&detection, &table, crate::schema::Applied::Where);
        if !matches!(
            crate::logic::sat_in(&typed, schema.domains(&table)),
            crate::logic::SatResult::Sat(_)
        ) {
            return None;
        }
        self.memberships.push(table.clone());
        Some(table)
    }

    /// The type of the rule table's column `name`, if the table is known and has it.
    fn column_type(&self, name: &str) -> Option<crate::schema::ColumnType> {
        let columns = crate::schema::schema().table(self.table.as_deref()?)?;
        columns.iter().find(|c| c.name == name).map(|c| c.ty)
    }

    /// Whether `name` is a column of the row at this point (of the rule's table, or made
    /// or renamed by the query): KQL reads it before a `let` of the same name.
    fn row_column(&self, name: &str) -> bool {
        self.scope.made(name) || self.column_type(name).is_some()
    }

    /// The `let` binding `name` reads, unless a column of the row has that name.
    fn let_of(&self, name: &str) -> Option<&Let<'q>> {
        if self.row_column(name) {
            return None;
        }
        self.binder.let_named(name)
    }

    /// `atom` with its values that are `let` scalars replaced by them
    /// (`SearchFilter contains KERBEROASTING`), and for a list operator the `let` lists
    /// by their elements (`P in (ExtensionList)`); `None` if another name is among them.
    fn with_scalars(&self, atom: &Atom, names: &[String]) -> Option<Atom> {
        let mut candidate = atom.clone();
        let mut values = Vec::with_capacity(atom.values.len());
        for value in &atom.values {
            if !names.iter().any(|n| n == value.text()) {
                values.push(value.clone());
                continue;
            }
            match self.let_of(value.text()) {
                Some(Let::Scalar(v)) => values.push(v.clone()),
                // `P in (list)` reads the list's elements, as KQL expands a dynamic array.
                Some(Let::List(list)) if atom.op.takes_list() => values.extend(list.iter().cloned()),
                _ => return None,
            }
        }
        candidate.values = values;
        Some(candidate)
    }

    /// Whether `name` is a string column of the rule's table as read here (not made or
    /// renamed): what `extract` reads as text.
    fn table_column(&self, name: &str) -> bool {
        self.scope.table_string(name)
    }

    /// A join after a `project` that no condition follows: D read up to it is exact for
    /// the rule's table, as after any join that keeps its rows.
    fn resolve_combined(&mut self, read: &mut Read) {
        if let Some((span, word, kind)) = read.combined.take() {
            self.notes.push(QueryNote {
                span,
                message: format!(
                    "`| {word}` (kind={kind}) matches the rule's rows with another table's; no condition follows it, so D is exact for the rule's own table; whether a row also has its match is outside one table's events"
                ),
                fatal: false,
                correlates: true,
            });
        }
    }

    /// A source that reads several tables (`union A, B`, `find in (A, B)`): their union
    /// when fpx knows them all; else checked on the first that has every column D reads,
    /// with a note naming the others. When none has them all, conditions on columns the
    /// first lacks are approximated (read there, they would be a misreading).
    fn one_of_several(&mut self, names: &[String], at: Span, find: bool, detection: Pred) -> (String, Pred) {
        let schema = crate::schema::schema();
        // Known tables whose shared columns agree: their rows read as one table, D
        // exact on each (a column a table lacks is null on its rows).
        if let Some(union) = schema.union(names) {
            return (union, detection);
        }
        let has = |table: &str, field: &str| {
            schema
                .table(table)
                .is_none_or(|columns| columns.iter().any(|c| c.name == field))
        };
        let fields: Vec<String> = detection
            .fields()
            .into_iter()
            .filter(|f| f != crate::model::OPAQUE)
            .collect();
        let chosen = names
            .iter()
            .find(|t| fields.iter().all(|f| has(t, f)))
            .unwrap_or(&names[0])
            .clone();
        let what = if find { "`find`" } else { "the rule" };
        self.note(
            at,
            format!(
                "{what} reads {}: fpx checks it on {chosen} only (the conditions apply to each table alike)",
                names.join(", ")
            ),
            false,
        );
        let detection = detection.map_atoms(&mut |a| {
            if a.field == crate::model::OPAQUE || has(&chosen, &a.field) {
                return Pred::Atom(a.clone());
            }
            let text = crate::expr::print(&Pred::Atom(a.clone()));
            self.approximated(
                a.span.clone(),
                &text,
                &format!("reads `{}`, which {chosen} does not have; it is read", a.field),
            )
        });
        (chosen, detection)
    }

    /// Notes why `text` cannot be decided (`why` ends in "... read") and returns the
    /// opaque atom that stands for it until its polarity is known.
    fn approximated(&mut self, at: Span, text: &str, why: &str) -> Pred {
        let short: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        self.note(at.clone(), format!("`{short}` {why} as \"could be true\""), false);
        opaque(Some(at))
    }
}
