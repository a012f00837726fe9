//! Reading a rule's KQL query: its table, its detection predicate D (the `where`
//! clauses before the first `summarize`, lowered into the same [`Pred`] as exclusions),
//! and its output columns.
//!
//! What cannot be lowered exactly is *over-approximated*: an opaque condition (a
//! function of a column, membership in another query's result) becomes `true` where it
//! is asserted and `false` where it is negated, so D' holds on every event D holds on.
//! Then "D implies E" and "D and E never meet" stay sound on D'. Each approximation is
//! reported (FPX401). Time-window conditions are dropped silently: events have no time.
//! D is exact when it holds of exactly the rows of the rule's table that can reach the
//! output for some content of the other tables: a `join` that keeps the rule's rows, a
//! comparison with the joined table's columns, and membership in a query on another
//! table that leaves the compared value free are conditions on those other rows (noted,
//! D stays exact); a `| union` adds other tables' rows and keeps the rule's as they are
//! (conditions after it on the rule's columns are read on them); other joins keep D as
//! read up to them. A `union A, B` of known tables is one table of their rows
//! (`crate::schema::Schema::union`), and so is a union of queries with the same
//! conditions on known tables; a union of `let`-bound queries on one table is the `or`
//! of their detections. Two string columns compared (`A == B`, `A != B`) are one test
//! of both ([`crate::pred::Op::SameAs`]); a `let` string containing a column is
//! [`crate::pred::Op::ContainedIn`]. A few computed values are lowered exactly
//! (`extract` emptiness and `extract(".*(G)$", ...)` compared with values, `contains` on
//! the rest of a `parse`, the first or last `split` part, `countof`, `column_ifexists`
//! of a column the table has). A `datatable` read as the rule's rows, `print`, or a
//! call of a function that is not a `let`-bound query makes the query unsupported: no D
//! at all.
//!
//! Comparisons and values are lowered by the exclusion code (`crate::expr`) on pairs of
//! the one parser over both grammars (`crate::grammar`), so both mean the same.
//!
//! The phases, and which module owns each:
//! - [`lex`]: tokens with byte spans (strings of every form, operator words, comments
//!   dropped); unclosed strings and brackets are found on them (`validate::unreadable`).
//! - [`parse`]: the syntax tree ([`ast`]) of the whole Kusto grammar, linear, with error
//!   recovery at the next stage or statement: a syntax error is FPX403.
//! - `bind`: which columns each stage sees, through `let`, `extend`, `project*`,
//!   `summarize`, `distinct`; names that are not among them are FPX403.
//! - `calls`: calls against Kusto's function catalog ([`catalog`]): FPX403.
//! - `validate`: the phases above, in order: what FPX403 reports.
//! - lowering to D (this module): still reads the query through the pest grammar
//!   (`grammar/kql.pest`) and re-scans stage text; moving it onto the syntax tree and the
//!   binder is the rest of issue 26.

pub mod ast;
mod bind;
mod calls;
pub mod catalog;
mod inline;
pub mod lex;
pub mod parse;
mod validate;

pub use crate::model::{InlineExclusion, QueryNote, RuleQuery};
use crate::model::{approximate, opaque};

pub use validate::{QueryError, validate};

use std::collections::HashMap;

use pest::Parser;
use pest::iterators::Pair;

use crate::expr::{Irregularity, join, lower_comparison, operator, parse_value};
use crate::grammar::{Grammar, PRATT, Rule};
use crate::pred::{Atom, Op, Pred, Span, Value};

/// Why most opaque conditions are approximated (see `Reader::approximated`).
const UNDECIDABLE: &str = "is not a condition on the table's columns that fpx can decide; it is read";

/// A value bound by `let`.
#[derive(Debug, Clone)]
enum Binding {
    List(Vec<Value>),
    Scalar(Value),
    /// Another query (or a datatable): its rows are not known.
    Table,
    Other,
}

/// Reads a query: whether it compiles, and what it detects. Never panics; a query that
/// fpx cannot parse yields a fatal note.
pub fn read_query(query: &str) -> RuleQuery {
    let (errors, tree) = validate::validated(query);
    // Brackets that do not match and strings never closed: the grammar would backtrack
    // over them at a cost that doubles with each unclosed `(`.
    let mut read = match validate::unreadable(query) {
        // Nothing can be read past a string that never ends.
        Some(e) if e.message == "this string is never closed" => unreadable_from(query, e.span.start, e.span.end),
        Some(_) => unreadable_at_end(query),
        None => lower(query),
    };
    read.errors = errors;
    // Types (and KQL's nulls) last, once the inline exclusions are found: D and the
    // rest of D are `where` conditions. What an inline exclusion suppresses is typed
    // where every exclusion is, when it is judged on the table (`checks::context`).
    let table = read.table.clone();
    let finish = |p: &Pred, _positive: bool| match &table {
        Some(table) => crate::schema::typed(p, table, crate::schema::Applied::Where),
        None => p.clone(),
    };
    if let Some(d) = &read.detection {
        let bound = |span: &Span| tree.as_ref().is_some_and(|t| inline::bound_by_precedence(t, span));
        (read.inline, read.unexcluded) = crate::model::inline_exclusions(d, &finish, read.exact(), &bound);
    }
    read.detection = read.detection.as_ref().map(|d| finish(d, true));
    read
}

/// A query fpx cannot read past bytes `start..end`: a fatal note there. An error at the
/// end of the input (an unclosed bracket) is reported at the query's last character,
/// not past its trailing newline.
fn unreadable_from(query: &str, start: usize, end: usize) -> RuleQuery {
    let last = query.trim_end().len();
    let floor = |mut i: usize| {
        i = i.min(query.len());
        while !query.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = floor(start.min(last.saturating_sub(1)));
    let end = end.max(start + 1).min(last.max(start + 1)).min(query.len());
    let mut end = end.max(start);
    while !query.is_char_boundary(end) {
        end += 1;
    }
    let line = query[..start].matches('\n').count() + 1;
    let col = query[..start].rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    RuleQuery::unreadable(
        start..end,
        format!("fpx cannot read the query past line {line}, column {col}"),
    )
}

/// [`unreadable_from`] at the end of the query (where the grammar stops at a bracket
/// that is never closed).
fn unreadable_at_end(query: &str) -> RuleQuery {
    unreadable_from(query, query.len(), query.len())
}

/// The query's table, D and output columns, as far as they can be lowered.
fn lower(query: &str) -> RuleQuery {
    let mut reader = Reader {
        lets: HashMap::new(),
        views: HashMap::new(),
        datatables: HashMap::new(),
        memberships: Vec::new(),
        parsed: HashMap::new(),
        extracted: HashMap::new(),
        suffixes: HashMap::new(),
        split_parts: HashMap::new(),
        counted: HashMap::new(),
        notes: Vec::new(),
        computed: Vec::new(),
        aliases: HashMap::new(),
        table: None,
        joined: false,
        unioned: false,
        left_columns: None,
    };
    // pest recurses per nesting level: refuse what could exhaust the stack.
    if let Some(deep) = crate::expr::nesting_error(query) {
        return RuleQuery::unreadable(deep.span, format!("fpx cannot read the query: {}", deep.message));
    }
    let query = &*lex::blank_comments(query);
    let pairs = match Grammar::parse(Rule::query, query) {
        Ok(mut pairs) => pairs.next().expect("grammar: query").into_inner(),
        Err(err) => {
            let (start, end) = match err.location {
                pest::error::InputLocation::Pos(p) => (p, p),
                pest::error::InputLocation::Span(s) => s,
            };
            return unreadable_from(query, start, end);
        }
    };
    let mut main = None;
    for pair in pairs {
        match pair.as_rule() {
            Rule::let_stmt => reader.let_stmt(pair),
            Rule::tabular => main = Some(pair),
            _ => {}
        }
    }
    let Some(main) = main else {
        unreachable!("grammar: a query ends with a tabular expression")
    };
    let (table, detection, output_columns) = reader.tabular(main);
    let fatal = reader.notes.iter().any(|n| n.fatal);
    let detection = if fatal {
        None
    } else {
        detection.map(|d| approximate(&d, true))
    };
    RuleQuery {
        table,
        detection,
        output_columns,
        notes: reader.notes,
        errors: Vec::new(),
        inline: Vec::new(),
        unexcluded: None,
    }
}

/// A name for a column, possibly case-folded.
#[derive(Debug, Clone)]
struct Alias {
    column: String,
    fold: Option<Fold>,
}

#[derive(Debug, Clone, Copy)]
enum Fold {
    Lower,
    Upper,
}

#[derive(Clone)]
struct Reader<'q> {
    lets: HashMap<String, Binding>,
    /// Queries bound by `let` (`let procs = DeviceProcessEvents | where ...;`): a rule
    /// that reads one reads its table through its stages.
    views: HashMap<String, Pair<'q, Rule>>,
    /// Tables bound by `let X = datatable(...)`, and where.
    datatables: HashMap<String, Span>,
    /// The tables of the queries `field in (query)` was read as a condition on.
    memberships: Vec<String>,
    /// Columns `parse` makes of the rest of a column's text (see [`parsed_rest`]).
    parsed: HashMap<String, ParsedRest>,
    /// Columns made by `extract(regex, n, C)` whose group n is never empty in a match:
    /// empty exactly when C does not match the regex. The column and the regex.
    extracted: HashMap<String, (String, String)>,
    /// Columns made by `extract(".*(G)$", n, C)`: the last part of C's text that `G`
    /// matches (see [`SuffixExtract`]).
    suffixes: HashMap<String, SuffixExtract>,
    /// Columns made by `split(C, sep)[0]` or `[-1]` (see [`SplitPart`]).
    split_parts: HashMap<String, SplitPart>,
    /// Columns made by `countof(C, "text")` of a text that cannot overlap itself: the
    /// column and the text.
    counted: HashMap<String, (String, String)>,
    notes: Vec<QueryNote>,
    /// Columns made by `extend`: conditions on them are not on the table's columns.
    computed: Vec<String>,
    /// Names given to a column (`project-rename Cmd = ProcessCommandLine`,
    /// `project Cmd = ProcessCommandLine`, `extend P = tolower(FileName)`): conditions on
    /// them are conditions on the column.
    aliases: HashMap<String, Alias>,
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

/// A pair's children without the keyword tokens (`let`, `where`, `by`, ...).
fn children(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    pair.into_inner().filter(|p| {
        !matches!(
            p.as_rule(),
            Rule::kw_let
                | Rule::kw_where
                | Rule::kw_summarize
                | Rule::kw_by
                | Rule::kw_project
                | Rule::kw_extend
                | Rule::kw_distinct
                | Rule::kw_join
        )
    })
}

fn span(pair: &Pair<Rule>) -> Span {
    pair.as_span().start()..pair.as_span().end()
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

impl<'q> Reader<'q> {
    /// Whether, after a join, `field` names the other table's column: not a column of
    /// the rule's table (nor an alias or computed column of it). Conditions on it are
    /// about the other table's rows (the join's note says so).
    fn other_table(&self, field: &str) -> bool {
        let head = crate::pred::column_of(field);
        let name = crate::pred::canonical_path(field).is_some();
        self.joined
            && name
            && !self.lets.contains_key(head)
            && !self.aliases.contains_key(head)
            && !self.computed.iter().any(|c| c == head)
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
        self.notes.push(QueryNote {
            span,
            message,
            fatal,
            correlates: false,
        });
    }

    fn let_stmt(&mut self, pair: Pair<'q, Rule>) {
        let mut inner = children(pair);
        let name = inner.next().expect("grammar: let name").as_str().to_string();
        let value = inner.next().expect("grammar: let value");
        let bound = value.into_inner().next().expect("grammar: let value kind");
        let binding = match bound.as_rule() {
            // Fatal only if the rule reads its rows (a join with it is a join).
            Rule::datatable => {
                self.datatables.insert(name.clone(), span(&bound));
                Binding::Table
            }
            Rule::literal_list => Binding::List(
                bound
                    .into_inner()
                    .filter_map(|v| literal(v.as_str()))
                    .map(|(v, _)| v)
                    .collect(),
            ),
            // A lone word (`let Flag = false;`, `let Other = Name;`) is a value or a name.
            Rule::tabular if bound.clone().into_inner().count() == 1 => {
                let word = bound.as_str().trim();
                match (literal(word), self.lets.get(word)) {
                    (Some((value, true)), _) => Binding::Scalar(value),
                    (_, Some(binding)) => binding.clone(),
                    _ => {
                        self.views.insert(name.clone(), bound.clone());
                        Binding::Table
                    }
                }
            }
            Rule::tabular => {
                self.views.insert(name.clone(), bound.clone());
                Binding::Table
            }
            Rule::wrapped_query => {
                if let Some(query) = bound.into_inner().find(|p| p.as_rule() == Rule::tabular) {
                    self.views.insert(name.clone(), query);
                }
                Binding::Table
            }
            // A function whose body is a query: a call reads that query. Its parameters
            // are names whose values fpx does not know.
            Rule::function_def => {
                for part in bound.into_inner() {
                    match part.as_rule() {
                        Rule::function_params => {
                            for param in top_level_commas(part.as_str()) {
                                let param = param.split(':').next().unwrap_or("").trim();
                                if !param.is_empty() {
                                    self.lets.insert(param.to_string(), Binding::Other);
                                }
                            }
                        }
                        Rule::let_stmt => self.let_stmt(part),
                        Rule::tabular => {
                            self.views.insert(name.clone(), part);
                        }
                        _ => {}
                    }
                }
                Binding::Table
            }
            // A bare word is a name (another `let`, a column), not a scalar value.
            _ => match literal(bound.as_str().trim()) {
                Some((value, true)) => Binding::Scalar(value),
                _ => Binding::Other,
            },
        };
        self.lets.insert(name, binding);
    }

    /// Table, D (with opaque parts still marked), output columns.
    fn tabular(&mut self, pair: Pair<'q, Rule>) -> (Option<String>, Option<Pred>, Vec<String>) {
        let Some(read) = self.read(pair) else {
            return (None, None, Vec::new());
        };
        let mut read = read;
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

    /// Reads a tabular expression's source and stages; `None` when its source is not
    /// one table (said in a fatal note).
    fn read(&mut self, pair: Pair<'q, Rule>) -> Option<Read> {
        let mut inner = pair.into_inner();
        let first = inner.next().expect("grammar: source");
        let mut wheres = Vec::new();
        let mut several = None;
        let named = first.as_str().trim();
        // A `let`-bound query, or a call of a `let` function whose body is a query.
        let view = match first.as_rule() {
            Rule::name if crate::schema::schema().table(named).is_none() => Some(named),
            Rule::other_source => first
                .clone()
                .into_inner()
                .find(|p| p.as_rule() == Rule::call && p.as_str() == named)
                .and_then(|call| call.as_str().split('(').next())
                .map(str::trim),
            _ => None,
        };
        if let Some(name) = view
            && let Some(view) = self.views.remove(name)
        {
            // Its stages, then this one's. One fpx cannot read as a table is read as an
            // unknown source instead, as before it was known. (Out of `views` while it
            // is read: a query that names itself is not read forever.)
            let (notes, state) = (self.notes.len(), (self.computed.clone(), self.aliases.clone()));
            let read = self.read(view.clone());
            self.views.insert(name.to_string(), view);
            if let Some(mut read) = read {
                self.stages(inner, &mut read);
                return Some(read);
            }
            self.notes.truncate(notes);
            (self.computed, self.aliases) = state;
        }
        if first.as_rule() == Rule::union_source
            && let Some(read) = self.union_of_views(&first, inner.clone())
        {
            return Some(read);
        }
        if first.as_rule() == Rule::name
            && let Some(at) = self.datatables.get(named).cloned()
        {
            self.note(
                at,
                format!("`{named}` is a datatable: fpx does not read inline tables, so the rule is checked without its detection logic"),
                true,
            );
            return None;
        }
        if first.as_rule() == Rule::query_source {
            // The first query's rows, then this query's stages. A union's other
            // queries read other rows: noted, as a union of tables is.
            let union = first.as_str().trim_start().to_ascii_lowercase().starts_with("union");
            let at = span(&first);
            if union && let Some(read) = self.union_of_queries(&first, inner.clone()) {
                return Some(read);
            }
            let sub = first.into_inner().find(|p| p.as_rule() == Rule::tabular)?;
            let mut read = self.read(sub)?;
            if union {
                self.note(
                    at,
                    format!(
                        "the rule reads a union of queries: fpx checks it on the first, which reads {} (the others are not checked)",
                        read.source
                    ),
                    false,
                );
            }
            self.stages(inner, &mut read);
            return Some(read);
        }
        if first.as_rule() == Rule::other_source {
            let short: String = first.as_str().split_whitespace().collect::<Vec<_>>().join(" ");
            let short: String = short.chars().take(40).collect();
            self.note(
                span(&first),
                format!(
                    "the rule reads `{short}`: not one table (a union of queries, `print`, a function call), so it is checked without its detection logic"
                ),
                true,
            );
            return None;
        }
        let source = if matches!(first.as_rule(), Rule::find_source | Rule::union_source) {
            let names = several_tables(&first);
            let name = names[0].clone();
            several = Some((names, span(&first), first.as_rule() == Rule::find_source));
            if first.as_rule() == Rule::find_source {
                // `find`'s condition holds on each table's rows alike.
                self.table = Some(name.clone());
                if let Some(expr) = first.clone().into_inner().find(|p| p.as_rule() == Rule::kql_expr) {
                    wheres.push(self.expr(expr));
                }
            }
            name
        } else {
            first.as_str().to_string()
        };
        self.table = Some(source.trim().to_string());
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
        self.stages(inner, &mut read);
        Some(read)
    }

    /// `union V1, V2, ... | stages` where every `Vi` is a `let`-bound query and all read
    /// one table: the rows of each, so D is the `or` over the queries of each one's D
    /// with `stages` read on top of it (each in its own columns: an `extend` in one is
    /// not a column of another). `None` (the caller reads it as a union of tables) when
    /// a name is not such a query, the queries read different tables, or one cannot be
    /// read.
    fn union_of_views(&mut self, source: &Pair<'q, Rule>, stages: pest::iterators::Pairs<'q, Rule>) -> Option<Read> {
        let names = several_tables(source);
        if !names.iter().all(|n| self.views.contains_key(n)) {
            return None;
        }
        let base = self.clone();
        let mut reads: Vec<Read> = Vec::new();
        let mut notes: Vec<QueryNote> = Vec::new();
        for name in &names {
            *self = base.clone();
            let view = self.views.remove(name).expect("checked: a view");
            let read = self.read(view.clone());
            self.views.insert(name.clone(), view);
            let Some(mut read) = read else {
                *self = base;
                return None;
            };
            self.stages(stages.clone(), &mut read);
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
    fn union_of_queries(&mut self, source: &Pair<'q, Rule>, stages: pest::iterators::Pairs<'q, Rule>) -> Option<Read> {
        let base = self.clone();
        let mut tables = Vec::new();
        let mut detection: Option<Pred> = None;
        for part in source.clone().into_inner() {
            let query = match part.as_rule() {
                Rule::tabular => part,
                // Another query, as text: read on its own.
                Rule::nested => Grammar::parse(Rule::tabular, part.as_str()).ok()?.next()?,
                Rule::name => {
                    crate::schema::schema().table(part.as_str())?;
                    tables.push(part.as_str().to_string());
                    if detection.as_ref().is_some_and(|d| *d != Pred::True) {
                        *self = base;
                        return None;
                    }
                    detection = Some(Pred::True);
                    continue;
                }
                _ => continue,
            };
            *self = base.clone();
            // The queries' own spans: a query read from text has spans of its own.
            let own = std::ptr::eq(query.get_input(), source.get_input());
            let read = self.read(query);
            let plain = matches!(
                &read,
                Some(read)
                    if read.several.is_none()
                        && read.outputs.is_empty()
                        && !read.summarized
                        && read.combined.is_none()
                        && self.notes.len() == base.notes.len()
                        && self.computed == base.computed
                        && self.aliases.len() == base.aliases.len()
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
                None if own => detection = Some(d),
                // The first query is the one written in the source, with its spans.
                None => {
                    *self = base;
                    return None;
                }
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
        let mut read = Read {
            source: tables[0].clone(),
            wheres: vec![detection],
            outputs: Vec::new(),
            summarized: false,
            several: Some((tables, span(source), false)),
            combined: None,
            projected: false,
            known: true,
        };
        self.stages(stages, &mut read);
        Some(read)
    }

    /// Reads `stages` on top of what `read` holds.
    fn stages(&mut self, stages: pest::iterators::Pairs<'q, Rule>, read: &mut Read) {
        let mut wheres = std::mem::take(&mut read.wheres);
        let mut outputs = std::mem::take(&mut read.outputs);
        let mut summarized = read.summarized;
        // Whether the rule's columns were projected: after a join, a name could then be
        // the other table's column of the same name. And whether `outputs` is still
        // exactly the rule's columns since then (only `extend`, `where` and stages that
        // keep columns followed the `project`).
        let (mut projected, mut known) = (read.projected, read.known);
        for stage in stages {
            let stage_span = span(&stage);
            match stage.as_rule() {
                Rule::where_stage | Rule::bare_predicate if !summarized && read.combined.is_some() => {
                    // A condition after a join whose names fpx cannot attribute: D is
                    // what was read up to the join. One that is only a time window (no
                    // condition on any row) costs nothing.
                    let notes = self.notes.len();
                    let expr = children(stage.clone()).next().expect("grammar: where expression");
                    let condition = approximate(&self.expr(expr), true);
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
                Rule::where_stage | Rule::bare_predicate if !summarized => {
                    if stage.as_rule() == Rule::bare_predicate {
                        self.note(
                            stage_span,
                            format!(
                                "`| {}` has no operator; fpx reads it as `| where {0}`",
                                stage.as_str().trim()
                            ),
                            false,
                        );
                    }
                    let expr = children(stage).next().expect("grammar: where expression");
                    wheres.push(self.expr(expr));
                }
                Rule::summarize_stage => {
                    summarized = true;
                    self.resolve_combined(read);
                    // `n = count()`, `(a, b) = arg_max(...)`, a `by` column, or the
                    // default name of an unnamed aggregate.
                    outputs = children(stage)
                        .flat_map(|item| {
                            let parts: Vec<_> = item.into_inner().collect();
                            let names: Vec<String> = parts
                                .iter()
                                .filter(|p| p.as_rule() == Rule::name)
                                .map(|p| p.as_str().to_string())
                                .collect();
                            if names.is_empty() {
                                vec![default_column_name(parts[0].as_str())]
                            } else {
                                names
                            }
                        })
                        .collect();
                }
                Rule::project_stage | Rule::extend_stage => {
                    let project = stage.as_rule() == Rule::project_stage;
                    projected |= project;
                    known |= project;
                    let mut names = Vec::new();
                    for item in children(stage) {
                        let mut parts = item.into_inner();
                        let first = parts.next().expect("grammar: item");
                        let name = first.as_str().trim().to_string();
                        match parts.next() {
                            // `Name = expression`: an alias of a column, or a computed one.
                            Some(definition) => self.define(&name, definition.as_str()),
                            // A bare column in `project` keeps its meaning; in `extend`,
                            // an expression's default name is computed.
                            None if !project => self.computed.push(name.clone()),
                            None => {}
                        }
                        names.push(name);
                    }
                    if project {
                        outputs = names;
                    } else {
                        outputs.extend(names);
                    }
                }
                Rule::other_stage if !summarized => {
                    let mut inner = stage.into_inner();
                    let word = inner
                        .next()
                        .map(|w| w.as_str().to_ascii_lowercase())
                        .unwrap_or_default();
                    let text = inner.next().map(|t| without_comments(t.as_str())).unwrap_or_default();
                    known &= matches!(
                        word.as_str(),
                        "sort" | "order" | "top" | "take" | "limit" | "sample" | "render" | "serialize" | "as"
                    );
                    // `project-away`, `-keep`, `-rename` reshape the rule's columns too.
                    projected |= word.starts_with("project");
                    // Aggregations, as `summarize`: what follows is about groups.
                    if matches!(word.as_str(), "make-series" | "top-nested" | "summarize" | "distinct") {
                        summarized = true;
                        self.resolve_combined(read);
                        continue;
                    }
                    if word == "project-rename" {
                        for pair in text.split(',') {
                            if let Some((new, old)) = pair.split_once('=') {
                                self.define(new.trim(), old.trim());
                            }
                        }
                    }
                    for name in made_columns(&word, &text) {
                        self.aliases.remove(&name);
                        self.forget_derivation(&name);
                        self.computed.push(name);
                    }
                    if word == "parse"
                        && let Some((name, rest)) = parsed_rest(&text)
                        && !self.computed.iter().any(|c| c == &rest.column)
                        && !self.aliases.contains_key(&rest.column)
                    {
                        self.parsed.insert(name, rest);
                    }
                }
                // `distinct *` keeps every column.
                Rule::distinct_stage => {
                    let names: Vec<String> = children(stage)
                        .filter(|n| n.as_rule() == Rule::by_item)
                        .map(|item| {
                            let first = item.into_inner().next().expect("grammar: by item");
                            match first.as_rule() {
                                Rule::call => derived_column_name(first.as_str()),
                                _ => first.as_str().to_string(),
                            }
                        })
                        .collect();
                    if !names.is_empty() {
                        outputs = names;
                    }
                }
                Rule::join_stage if !summarized => {
                    // The rows of the rule's table that reach this stage satisfy the
                    // conditions read so far; a join, lookup or union only removes them
                    // or adds rows of other tables, and what follows works on the
                    // combined rows. Those conditions alone are a sound over-approximation.
                    let word = stage
                        .as_str()
                        .split_whitespace()
                        .next()
                        .unwrap_or("join")
                        .to_ascii_lowercase();
                    // A join that keeps the rule's rows and their column names (`inner`,
                    // `innerunique`, the `left...` kinds; `lookup`): what follows is still
                    // about those rows, and a condition on their columns is read.
                    if word == "union" && !projected {
                        // The rule's rows go on as they are, with other tables' rows
                        // added: what follows is still about the rule's rows, and a
                        // condition on their columns is read.
                        self.notes.push(QueryNote {
                            span: stage_span,
                            message: "`| union` adds other tables' rows to the rule's: fpx reads D on the rule's own table (conditions after it on its columns too); the added rows are outside one table's events".into(),
                            fatal: false,
                            correlates: true,
                        });
                        self.unioned = true;
                        continue;
                    }
                    let kind = join_kind(stage.as_str())
                        .unwrap_or(if word == "lookup" { "leftouter" } else { "innerunique" }.into());
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
                        // The rule's columns are those it projected: any other name is
                        // the other table's.
                        self.left_columns = Some(outputs.clone());
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
                        continue;
                    }
                    if keeps_rows && !summarized {
                        // After a `project`, a name could be either table's column:
                        // harmless unless a condition follows.
                        read.combined.get_or_insert((stage_span, word, kind));
                        continue;
                    }
                    self.note(
                        stage_span,
                        format!(
                            "`| {word}` combines the rule's table with other tables: fpx reads the detection up to here and not the conditions after it, so D may match more than the rule does"
                        ),
                        false,
                    );
                    summarized = true;
                }
                _ => {}
            }
        }
        (read.wheres, read.outputs, read.summarized) = (wheres, outputs, summarized);
        (read.projected, read.known) = (projected, known);
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
        if self.computed.iter().any(|c| c == field) || self.aliases.contains_key(field) {
            return None;
        }
        let pair = self.views.get(view)?.clone();
        let mut sub = Reader {
            lets: self.lets.clone(),
            views: self.views.clone(),
            datatables: self.datatables.clone(),
            notes: Vec::new(),
            computed: Vec::new(),
            aliases: HashMap::new(),
            table: None,
            joined: false,
            unioned: false,
            left_columns: None,
            memberships: Vec::new(),
            parsed: HashMap::new(),
            extracted: HashMap::new(),
            suffixes: HashMap::new(),
            split_parts: HashMap::new(),
            counted: HashMap::new(),
        };
        let read = sub.read(pair)?;
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
        if column.ty != own.ty || sub.computed.iter().any(|c| c == key) || sub.aliases.contains_key(key) {
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
        self.aliases.contains_key(name) || self.computed.iter().any(|c| c == name) || self.column_type(name).is_some()
    }

    /// The `let` binding `name` reads, unless a column of the row has that name.
    fn let_of(&self, name: &str) -> Option<&Binding> {
        if self.row_column(name) {
            return None;
        }
        self.lets.get(name)
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
                Some(Binding::Scalar(v)) => values.push(v.clone()),
                // `P in (list)` reads the list's elements, as KQL expands a dynamic array.
                Some(Binding::List(list)) if atom.op.takes_list() => values.extend(list.iter().cloned()),
                _ => return None,
            }
        }
        candidate.values = values;
        Some(candidate)
    }

    /// Whether `name` is a string column of the rule's table as read here (not made or
    /// renamed): what `extract` reads as text.
    fn table_column(&self, name: &str) -> bool {
        !self.computed.iter().any(|c| c == name)
            && !self.aliases.contains_key(name)
            && self.column_type(name) == Some(crate::schema::ColumnType::String)
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

    /// A condition, with the author's parentheses kept as written (an infix chain
    /// flattens only where it was not grouped), as exclusions are read.
    fn expr(&mut self, pair: Pair<Rule>) -> Pred {
        PRATT
            .map_primary(|primary| match primary.as_rule() {
                Rule::kql_paren => (self.expr(primary.into_inner().next().expect("grammar: paren")), true),
                _ => (self.primary(primary), false),
            })
            .map_prefix(|_, operand| (Pred::Not(Box::new(operand.0)), false))
            .map_infix(|lhs, op, rhs| (join(op.as_rule() == Rule::and_op, lhs, rhs.0), false))
            .parse(pair.into_inner())
            .0
    }

    fn primary(&mut self, pair: Pair<Rule>) -> Pred {
        let at = span(&pair);
        match pair.as_rule() {
            Rule::kql_paren => self.expr(pair.into_inner().next().expect("grammar: paren")),
            Rule::bool_lit => {
                if pair.as_str().eq_ignore_ascii_case("true") {
                    Pred::True
                } else {
                    Pred::False
                }
            }
            Rule::between => {
                let text = pair.as_str();
                let mut inner = pair.into_inner();
                let operand = inner.next().expect("grammar: operand");
                let negated = inner.next().expect("grammar: between").as_str().starts_with('!');
                let range = inner.next().expect("grammar: range").as_str();
                if is_time(operand.as_str()) || mentions_time(text) {
                    return opaque(None);
                }
                let bounds = range.split_once("..").map(|(a, b)| (a.trim(), b.trim()));
                match bounds
                    .filter(|(a, b)| crate::pred::parse_number(a).is_some() && crate::pred::parse_number(b).is_some())
                {
                    Some((lo, hi)) if operand.as_rule() == Rule::field => {
                        let field = operand.as_str();
                        let inside = Pred::And(vec![
                            Pred::Atom(Atom {
                                span: at.clone(),
                                ..Atom::new(field, Op::Ge, false, true, vec![Value::Num(lo.into())])
                            }),
                            Pred::Atom(Atom {
                                span: at,
                                ..Atom::new(field, Op::Le, false, true, vec![Value::Num(hi.into())])
                            }),
                        ]);
                        if negated { Pred::Not(Box::new(inside)) } else { inside }
                    }
                    _ => self.approximated(at, text, UNDECIDABLE),
                }
            }
            Rule::emptiness => {
                let text = pair.as_str().to_string();
                let mut inner = pair.into_inner();
                let function = inner.next().expect("grammar: function").as_str().to_ascii_lowercase();
                let argument = inner.next().expect("grammar: field");
                let written = match argument.as_rule() {
                    Rule::property => match property_path(argument) {
                        Some(path) => path,
                        None => return self.approximated(at, &text, UNDECIDABLE),
                    },
                    _ => {
                        crate::pred::canonical_path(argument.as_str()).unwrap_or_else(|| argument.as_str().to_string())
                    }
                };
                let written = written.as_str();
                let negated = function.starts_with("isnot") || function.starts_with("not");
                // A `let` value is a constant; a computed column is not a column.
                match self.let_of(written) {
                    Some(Binding::Scalar(v)) => {
                        return if v.text().is_empty() != negated {
                            Pred::True
                        } else {
                            Pred::False
                        };
                    }
                    Some(_) => return self.approximated(at, &text, UNDECIDABLE),
                    None => {}
                }
                if let Some((column, pattern)) = self.extracted.get(written)
                    && !function.ends_with("null")
                {
                    // Not empty exactly when the column matches the regex.
                    return Pred::Atom(Atom {
                        span: at,
                        ..Atom::new(
                            column,
                            Op::MatchesRegex,
                            !negated,
                            true,
                            vec![Value::Str(pattern.clone())],
                        )
                    });
                }
                let head = crate::pred::column_of(written);
                let tail = Some(&written[head.len()..]).filter(|t| !t.is_empty());
                if self.computed.iter().any(|c| c == head) {
                    return self.approximated(at, &text, UNDECIDABLE);
                }
                if self.other_table(written) {
                    return opaque(None);
                }
                // An alias is its column (a case change keeps a text empty or not); a
                // property is named after its column.
                let field = match (self.aliases.get(head), tail) {
                    (Some(a), None) => a.column.clone(),
                    (Some(a), Some(tail)) if a.fold.is_none() => format!("{}{tail}", a.column),
                    (Some(_), Some(_)) => return self.approximated(at, &text, UNDECIDABLE),
                    (None, _) => written.to_string(),
                };
                let field = field.as_str();
                // A string column is never null (an absent value is the empty string):
                // `isnull` of one is false, `isnotnull` true. Other columns are null
                // where fpx reads the empty text.
                let string_column = self.column_type(field) == Some(crate::schema::ColumnType::String);
                if string_column && function.ends_with("null") {
                    if negated { Pred::True } else { Pred::False }
                } else {
                    Pred::Atom(Atom {
                        span: at,
                        ..Atom::new(field, Op::Equals, negated, true, vec![Value::Str(String::new())])
                    })
                }
            }
            Rule::comparison => self.comparison(pair, None),
            Rule::property_comparison => {
                let text = pair.as_str().to_string();
                let property = pair.clone().into_inner().next().expect("grammar: property");
                match property_path(property) {
                    Some(field) => self.comparison(pair, Some(field)),
                    None => self.approximated(at, &text, UNDECIDABLE),
                }
            }
            Rule::set_membership => {
                let text = pair.as_str().to_string();
                let mut inner = pair.into_inner();
                let field = inner.next().expect("grammar: field").as_str().to_string();
                let op = inner.next().expect("grammar: op").as_str().to_string();
                let set = inner.next().expect("grammar: set").as_str().trim().to_string();
                let bare = set.trim_matches(['(', ')', ' ']).to_string();
                if let Some(p) = self.membership(&field, &bare, &text, at.clone()) {
                    return p;
                }
                match self.lets.get(&bare).cloned() {
                    Some(Binding::List(values)) => self.comparison_with(&field, &op, values, &text, at),
                    Some(Binding::Table) | None if set.contains('|') || self.lets.contains_key(&set) => self
                        .approximated(
                            at,
                            &text,
                            "compares with the rows of another query, which fpx does not run; it is read",
                        ),
                    _ => self.approximated(at, &text, UNDECIDABLE),
                }
            }
            Rule::double_operator => self.approximated(
                at,
                pair.as_str(),
                "has two operators: KQL rejects this query; fpx reads the condition",
            ),
            Rule::opaque_term => {
                let text = pair.as_str().to_string();
                let parts: Vec<(Rule, String)> = pair
                    .clone()
                    .into_inner()
                    .map(|p| (p.as_rule(), p.as_str().trim().to_string()))
                    .collect();
                // `"S" contains C`, `"S" == C`: a literal string and a string column.
                if let [(_, left), (Rule::scalar_op, op), (Rule::field, column)] = parts.as_slice()
                    && let Some((Value::Str(literal), true)) = literal(left)
                    && self.table_column(column)
                {
                    let (op, negated, case_sensitive) = operator(op);
                    let op = match op {
                        Op::Equals => Op::Equals,
                        Op::Contains => Op::ContainedIn,
                        _ => return self.approximated(at, &text, UNDECIDABLE),
                    };
                    return Pred::Atom(Atom {
                        span: at,
                        ..Atom::new(column, op, negated, case_sensitive, vec![Value::Str(literal)])
                    });
                }
                let first = parts.first().map(|(_, p)| p.clone()).unwrap_or_default();
                // A time window (`Timestamp > MaxAge`, `Timestamp < AlertTime + 5d`):
                // events have no time, so it is dropped.
                if is_time(&first) || mentions_time(&text) {
                    return opaque(None);
                }
                // `column_ifexists("C", default) op ...` on a table that has C is `C op ...`.
                if let Some(column) = column_ifexists(&first)
                    && self.row_column(&column)
                    && let Some(rest) = text.strip_prefix(first.as_str())
                {
                    let rewritten = format!("{column}{rest}");
                    if let Ok(mut pairs) = Grammar::parse(Rule::kql_condition, &rewritten)
                        && let Some(condition) = pairs.next()
                        && condition.as_str().len() == rewritten.len()
                        && let Some(expr) = condition.into_inner().find(|p| p.as_rule() == Rule::kql_expr)
                    {
                        // Spans point at the condition as written.
                        return self.expr(expr).map_atoms(&mut |a| {
                            Pred::Atom(Atom {
                                span: at.clone(),
                                ..a.clone()
                            })
                        });
                    }
                }
                self.approximated(at, &text, UNDECIDABLE)
            }
            Rule::bare_name => {
                let name = pair.as_str().trim().to_string();
                match self.let_of(&name) {
                    Some(Binding::Scalar(Value::Bool(b))) => return if *b { Pred::True } else { Pred::False },
                    Some(_) => return self.approximated(at, &name, UNDECIDABLE),
                    None => {}
                }
                let column = self.aliases.get(&name).map_or(name.clone(), |a| a.column.clone());
                let bool_column = !self.computed.contains(&name)
                    && self.column_type(&column) == Some(crate::schema::ColumnType::Bool);
                if bool_column {
                    // `where IsSigned` is `where IsSigned == true`.
                    Pred::Atom(Atom {
                        span: at,
                        ..Atom::new(&column, Op::Equals, false, true, vec![Value::Bool(true)])
                    })
                } else {
                    self.approximated(at, &name, UNDECIDABLE)
                }
            }
            Rule::bool_call => {
                let text = pair.as_str().to_string();
                let name = text.split('(').next().unwrap_or("").trim().to_string();
                self.approximated(
                    at,
                    &text,
                    &format!("calls `{name}`, a function fpx does not evaluate; it is read"),
                )
            }
            rule => unreachable!("grammar: unexpected primary {rule:?}"),
        }
    }

    /// A comparison, parsed by the exclusion grammar so both mean the same; unquoted
    /// right-hand sides are names (a `let` or another column), not strings.
    /// A comparison, lowered as an exclusion's is (`field` replaces its subject when
    /// given); unquoted right-hand sides are names (a `let` or another column), not
    /// strings.
    fn comparison(&mut self, pair: Pair<Rule>, field: Option<String>) -> Pred {
        let (text, at) = (pair.as_str(), span(&pair));
        // A time window (`Timestamp > MaxAge`, `DetectionTime > UsbFirstSeen`): events
        // have no time, so it is dropped.
        let subject = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("");
        if is_time(subject) {
            return opaque(None);
        }
        // Either side the joined table's column: a condition on the match (see `resolved`).
        let other = pair.clone().into_inner().last().map(|p| p.as_str().trim().to_string());
        if field.is_none() && (self.other_table(subject) || other.is_some_and(|o| self.other_table(&o))) {
            return opaque(None);
        }
        let Ok((atom, irregularities)) = lower_comparison(pair.clone(), field) else {
            return self.approximated(at, text, UNDECIDABLE);
        };
        let names: Vec<String> = irregularities
            .iter()
            .filter_map(|i| match i {
                Irregularity::UnquotedValue { span, .. } => text.get(span.start - at.start..span.end - at.start),
                _ => None,
            })
            .map(str::to_string)
            .collect();
        self.resolved(atom, &names, text, at)
    }

    /// A comparison lowered from the query: its subject resolved (computed column,
    /// another table's, a dynamic property, an alias) and names among its values
    /// replaced by their `let` values.
    fn resolved(&mut self, mut atom: Atom, names: &[String], text: &str, at: Span) -> Pred {
        atom.span = at.clone();
        if let Some(path) = crate::pred::canonical_path(&atom.field) {
            atom.field = path;
        }
        // A `let` string on the left and a string column on the right
        // (`SensitiveObjects contains QueryTarget`): a test of the column.
        if let Some(Binding::Scalar(Value::Str(literal))) = self.let_of(&atom.field)
            && let [value] = atom.values.as_slice()
            && names.iter().any(|n| n == value.text())
            && self.table_column(value.text())
        {
            let op = match atom.op {
                Op::Equals => Op::Equals,
                Op::Contains => Op::ContainedIn,
                _ => return self.approximated(at, text, UNDECIDABLE),
            };
            return Pred::Atom(Atom {
                span: at,
                ..Atom::new(
                    value.text(),
                    op,
                    atom.negated,
                    atom.case_sensitive,
                    vec![Value::Str(literal.clone())],
                )
            });
        }
        if let Some((column, pattern)) = self.extracted.get(&atom.field)
            && names.is_empty()
            && atom.op == Op::Equals
            && matches!(atom.values.as_slice(), [v] if v.text().is_empty() && matches!(v, Value::Str(_)))
        {
            // `X == ""` is "the column does not match", `X != ""` that it does.
            return Pred::Atom(Atom {
                span: at,
                ..Atom::new(
                    column,
                    Op::MatchesRegex,
                    !atom.negated,
                    true,
                    vec![Value::Str(pattern.clone())],
                )
            });
        }
        if let Some(rest) = self.parsed.get(&atom.field)
            && let Some(candidate) = self.with_scalars(&atom, names)
            && let Some(lowered) = rest.contains(&candidate)
        {
            return Pred::Atom(lowered);
        }
        if let Some((column, counted)) = self.counted.get(&atom.field)
            && let Some(candidate) = self.with_scalars(&atom, names)
            && let Some(lowered) = count_compared(column, counted, &candidate)
        {
            return lowered;
        }
        if let Some(part) = self.split_parts.get(&atom.field)
            && let Some(candidate) = self.with_scalars(&atom, names)
            && let Some(lowered) = part.compared(&candidate)
        {
            return lowered;
        }
        if let Some(suffix) = self.suffixes.get(&atom.field)
            && let Some(candidate) = self.with_scalars(&atom, names)
            && let Some(lowered) = suffix.compared(&candidate)
        {
            return lowered;
        }
        if self.computed.contains(&atom.field) {
            return self.approximated(at, text, UNDECIDABLE);
        }
        if self.other_table(&atom.field) {
            return opaque(None);
        }
        if self.unioned && !self.row_column(crate::pred::column_of(&atom.field)) {
            return self.approximated(
                at,
                text,
                "reads a column the rule's rows lack (the tables the `| union` adds have it); it is read",
            );
        }
        // A property of a dynamic value (`Parsed.PipeName`): a field of its own, named
        // after the column it is read from (`AdditionalFields.PipeName`).
        let head = crate::pred::column_of(&atom.field).to_string();
        if head.len() < atom.field.len() {
            let tail = atom.field[head.len()..].to_string();
            match self.aliases.get(&head) {
                _ if self.computed.contains(&head) => {
                    return self.approximated(at, text, UNDECIDABLE);
                }
                Some(alias) if alias.fold.is_none() => atom.field = format!("{}{tail}", alias.column),
                Some(_) => return self.approximated(at, text, UNDECIDABLE),
                None => {}
            }
        }

        if is_time(&atom.field) {
            return opaque(None);
        }
        if names.is_empty() {
            return self.on_column(atom, text, at);
        }
        let mut values = Vec::new();
        for value in &atom.values {
            let name = value.text();
            if !names.iter().any(|n| n == name) {
                values.push(value.clone());
                continue;
            }
            // A column of the row, not a `let` of the same name: KQL reads the column.
            if self.row_column(name) {
                let string = self.column_type(name) == Some(crate::schema::ColumnType::String);
                // `C == C` of a string column (never null) always holds.
                if name == atom.field && atom.op == Op::Equals && atom.values.len() == 1 && string {
                    return if atom.negated { Pred::False } else { Pred::True };
                }
                // `A == B`, `A != B` of two string columns of the table (strings are
                // never null: the empty text is their empty value, as fpx reads it).
                if atom.op == Op::Equals
                    && atom.case_sensitive
                    && atom.values.len() == 1
                    && self.table_column(&atom.field)
                    && self.table_column(name)
                {
                    return Pred::Atom(Atom {
                        span: at,
                        ..Atom::new(
                            &atom.field,
                            Op::SameAs,
                            atom.negated,
                            true,
                            vec![Value::Str(name.to_string())],
                        )
                    });
                }
                return self.approximated(at, text, UNDECIDABLE);
            }
            match self.lets.get(name) {
                Some(Binding::List(list)) => values.extend(list.iter().cloned()),
                Some(Binding::Scalar(v)) => values.push(v.clone()),
                Some(Binding::Table) if atom.op == Op::In && atom.values.len() == 1 => {
                    if let Some(p) = self.membership(&atom.field.clone(), name, text, at.clone()) {
                        return p;
                    }
                    return self.approximated(at, text, UNDECIDABLE);
                }
                // The joined table's column (`RemoteIP endswith RemoteIP1`): a condition
                // on the match, which the join's note covers, as a condition on the
                // other table's columns is.
                None if self.other_table(name) => return opaque(None),
                _ => return self.approximated(at, text, UNDECIDABLE),
            }
        }
        atom.values = values;
        if !atom.op.takes_list() && atom.values.len() != 1 {
            return self.approximated(at, text, UNDECIDABLE);
        }
        self.on_column(atom, text, at)
    }

    /// A comparison read from the query, with an alias replaced by its column.
    fn on_column(&mut self, atom: Atom, text: &str, at: Span) -> Pred {
        match self.aliases.get(&atom.field).cloned() {
            None => Pred::Atom(atom),
            Some(alias) => match Self::through_alias(atom, &alias) {
                Some(p) => p,
                None => self.approximated(at, text, UNDECIDABLE),
            },
        }
    }

    /// `field op (values)`: a list operator applied to a `let` list's values.
    fn comparison_with(&mut self, field: &str, op: &str, values: Vec<Value>, text: &str, at: Span) -> Pred {
        let (op, negated, case_sensitive) = operator(op);
        let atom = Atom::new(field, op, negated, case_sensitive, values);
        self.resolved(atom, &[], text, at)
    }

    /// A column that is made anew: what an earlier stage derived it from no longer
    /// holds. (Every map of derived columns, in one place: `mv-expand` once forgot one.)
    fn forget_derivation(&mut self, name: &str) {
        self.parsed.remove(name);
        self.extracted.remove(name);
        self.suffixes.remove(name);
        self.split_parts.remove(name);
        self.counted.remove(name);
    }

    /// `name = definition` in `project`, `project-rename` or `extend`: an alias when the
    /// definition is a column (or an alias), or `tolower`/`toupper` of one; else a
    /// computed column.
    fn define(&mut self, name: &str, definition: &str) {
        self.forget_derivation(name);
        // A definition's text runs to the next stage, past `//` comments on their own lines.
        let definition = without_comments(definition);
        // `extractjson("$.a.b", C)` is the property `C.a.b` as text.
        let definition = extractjson_path(definition.trim()).unwrap_or(definition);
        let definition = definition.trim();
        if let Some((column, text)) = counted(definition)
            && self.table_column(&column)
        {
            self.counted.insert(name.to_string(), (column, text));
        }
        if let Some(part) = split_part(definition)
            && self.table_column(&part.column)
        {
            self.split_parts.insert(name.to_string(), part);
        }
        if let Some((pattern, column)) = extracted(definition)
            && self.table_column(&column)
        {
            self.extracted.insert(name.to_string(), (column, pattern));
        }
        if let Some(suffix) = suffix_extract(definition)
            && self.table_column(&suffix.column)
        {
            self.suffixes.insert(name.to_string(), suffix);
        }
        let identifier = |t: &str| {
            t.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        let call = |f: &str| {
            let lower = definition.to_ascii_lowercase();
            lower
                .strip_prefix(f)
                .and_then(|rest| rest.trim_start().strip_prefix('('))
                .and_then(|rest| rest.strip_suffix(')'))
                .map(|inner| {
                    definition[definition.len() - inner.len() - 1..definition.len() - 1]
                        .trim()
                        .to_string()
                })
        };
        let (column, fold) = if identifier(definition) {
            (definition.to_string(), None)
        } else if let Some(inner) = unwrapped(definition)
            .and_then(|c| dynamic_path(&c))
            .filter(|c| c.contains(['.', '[']) || dynamic_of(definition))
        {
            // A dynamic value read from a column, or one of its properties as text: the
            // same field (`Parsed = parse_json(AdditionalFields)`, `P = tostring(Parsed.P)`,
            // `T = RawEventData.Target[2].ID`).
            let head = crate::pred::column_of(&inner);
            let tail = &inner[head.len()..];
            match tail {
                "" => (inner.clone(), None),
                _ => match self.aliases.get(head) {
                    Some(a) if a.fold.is_none() => (format!("{}{tail}", a.column), None),
                    None if !self.computed.iter().any(|c| c == head) => (inner.clone(), None),
                    _ => {
                        self.computed.push(name.to_string());
                        return;
                    }
                },
            }
        } else if let Some(inner) = call("tolower").filter(|c| identifier(c)) {
            (inner, Some(Fold::Lower))
        } else if let Some(inner) = call("toupper").filter(|c| identifier(c)) {
            (inner, Some(Fold::Upper))
        } else {
            self.aliases.remove(name);
            self.computed.push(name.to_string());
            return;
        };
        if self.computed.contains(&column) {
            self.computed.push(name.to_string());
            return;
        }
        // An alias of an alias is an alias of its column.
        let alias = match self.aliases.get(&column) {
            Some(a) if fold.is_none() => a.clone(),
            Some(a) if a.fold.is_none() => Alias {
                column: a.column.clone(),
                fold,
            },
            Some(_) => {
                self.computed.push(name.to_string());
                return;
            }
            None => Alias { column, fold },
        };
        self.computed.retain(|c| c != name);
        self.aliases.insert(name.to_string(), alias);
    }

    /// A comparison on an alias, as a comparison on its column; `None` when it cannot be
    /// said exactly (a number or regex test of `tolower(...)`, a non-ASCII value).
    fn through_alias(atom: Atom, alias: &Alias) -> Option<Pred> {
        let mut atom = Atom {
            field: alias.column.clone(),
            ..atom
        };
        let Some(fold) = alias.fold else {
            return Some(Pred::Atom(atom));
        };
        if atom.op.is_numeric() || atom.op == Op::MatchesRegex || atom.values.iter().any(|v| !v.text().is_ascii()) {
            return None;
        }
        if atom.case_sensitive {
            // `tolower(C) == v` holds only for a `v` with no upper-case letter, and then
            // exactly when `C =~ v`.
            let possible = |v: &Value| match fold {
                Fold::Lower => !v.text().bytes().any(|b| b.is_ascii_uppercase()),
                Fold::Upper => !v.text().bytes().any(|b| b.is_ascii_lowercase()),
            };
            atom.values.retain(possible);
            if atom.values.is_empty() {
                return Some(if atom.negated { Pred::True } else { Pred::False });
            }
            if !atom.op.takes_list() && atom.values.len() != 1 {
                return None;
            }
            atom.case_sensitive = false;
        }
        Some(Pred::Atom(atom))
    }

    /// Notes why `text` cannot be decided (`why` ends in "... read") and returns the
    /// opaque atom that stands for it until its polarity is known.
    fn approximated(&mut self, at: Span, text: &str, why: &str) -> Pred {
        let short: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        self.note(at.clone(), format!("`{short}` {why} as \"could be true\""), false);
        opaque(Some(at))
    }
}

/// A value as the exclusion grammar reads it, and whether it was written as a KQL literal
/// (quoted, a number, a boolean) rather than as a bare word.
fn literal(text: &str) -> Option<(Value, bool)> {
    parse_value(text)
}

/// Whether a condition's text (outside its strings) names a time: a time column, `ago`,
/// `now`, `datetime`, or a timespan literal (`5d`, `30min`).
fn mentions_time(text: &str) -> bool {
    let mut outside = String::new();
    let mut quote = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None => outside.push(c),
        }
    }
    outside
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .any(|word| {
            is_time(word)
                || word.ends_with("Timestamp")
                || word
                    .find(|c: char| !c.is_ascii_digit() && c != '.')
                    .is_some_and(|at| at > 0 && crate::time::parse_timespan(&word.to_ascii_lowercase()).is_some())
        })
}

fn is_time(operand: &str) -> bool {
    let name = operand.split('(').next().unwrap_or(operand);
    matches!(name, "Timestamp" | "TimeGenerated" | "ago" | "now" | "datetime")
        || name.ends_with("Time") && !name.contains('.')
}

/// The last column of a `parse C with * "a" X "b" Y "c" Z`: the rest of C's text after
/// the first "a", the first "b" after it and the first "c" after that (empty when there
/// is none). Whether Z contains a value is then whether C matches `a.*b.*c.*value`: an
/// occurrence after some such chain is one after the first chain, which starts earliest.
#[derive(Debug, Clone)]
struct ParsedRest {
    column: String,
    /// The regex (without flags) of what comes before the rest.
    before: String,
}

impl ParsedRest {
    /// `Z contains v` (any case or `_cs`, negated or not) as a regex test of the column;
    /// `None` for another operator or an empty value.
    fn contains(&self, atom: &Atom) -> Option<Atom> {
        let [value] = atom.values.as_slice() else {
            return None;
        };
        let value = value.text();
        if atom.op != Op::Contains || value.is_empty() {
            return None;
        }
        // fpx's (and KQL's) case-insensitive `contains` folds ASCII letters only.
        let needle: String = value
            .chars()
            .map(|c| {
                if c.is_ascii_alphabetic() && !atom.case_sensitive {
                    format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase())
                } else {
                    regex::escape(&c.to_string())
                }
            })
            .collect();
        Some(Atom {
            span: atom.span.clone(),
            ..Atom::new(
                &self.column,
                Op::MatchesRegex,
                atom.negated,
                true,
                vec![Value::Str(format!("(?s){}.*{needle}", self.before))],
            )
        })
    }
}

/// The last column of a simple `parse` (`C with * "a" X "b" ... "c" Z`, every column but
/// a string, no text after Z), and what it is made of.
fn parsed_rest(text: &str) -> Option<(String, ParsedRest)> {
    let (column, pattern) = text.split_once(" with ")?;
    let column = column.trim();
    if crate::pred::canonical_path(column).as_deref() != Some(column) || column.contains(['.', '[']) {
        return None;
    }
    let mut rest = pattern.trim();
    // The regex of what precedes the column read last, and that column if it has not
    // been followed by anything yet.
    let mut before = String::new();
    let mut last: Option<String> = None;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('*') {
            last = None;
            before.push_str(".*");
            rest = after.trim_start();
        } else if rest.starts_with(['"', '\'', '@']) {
            // A quoted delimiter: its end is where `literal` reads one string.
            let end = (1..=rest.len())
                .filter(|&i| rest.is_char_boundary(i))
                .find(|&i| matches!(literal(&rest[..i]), Some((Value::Str(_), true))))?;
            let Some((Value::Str(delimiter), _)) = literal(&rest[..end]) else {
                return None;
            };
            if last.take().is_some() {
                before.push_str(".*");
            }
            before.push_str(&regex::escape(&delimiter));
            rest = rest[end..].trim_start();
        } else {
            let n = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            // Two columns in a row, or a column first: not the simple form.
            if n == 0 || last.is_some() || before.is_empty() {
                return None;
            }
            let name = rest[..n].to_string();
            rest = rest[n..].trim_start();
            if let Some(typed) = rest.strip_prefix(':') {
                let typed = typed.trim_start();
                let m = typed.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(typed.len());
                if &typed[..m] != "string" {
                    return None;
                }
                rest = typed[m..].trim_start();
            }
            last = Some(name);
        }
    }
    let name = last?;
    if !before.starts_with(".*") || before.ends_with(".*") {
        return None;
    }
    Some((
        name,
        ParsedRest {
            column: column.to_string(),
            before,
        },
    ))
}

/// `extractjson("$.a.b", C)` (or with `typeof(string)`): the property path `C.a.b`, as a
/// definition reads it. `None` for another call or a path with filters or wildcards.
fn extractjson_path(definition: &str) -> Option<String> {
    let args = definition
        .strip_prefix("extractjson")
        .or_else(|| definition.strip_prefix("extract_json"))?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')?;
    let parts = top_level_commas(args);
    let (path, column) = match parts[..] {
        [path, column] => (path, column),
        [path, column, ty] if ty.split_whitespace().collect::<String>() == "typeof(string)" => (path, column),
        _ => return None,
    };
    let Some((Value::Str(path), true)) = literal(path.trim()) else {
        return None;
    };
    let rest = path.strip_prefix('$')?;
    if rest.is_empty() {
        return None;
    }
    let column = column.trim();
    if crate::pred::canonical_path(column).as_deref() != Some(column) {
        return None;
    }
    crate::pred::canonical_path(&format!("{column}{rest}"))
}

/// `text` without its `//` comments (outside strings).
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut quote: Option<char> = None;
    let mut verbatim = false;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == '\\' && !verbatim {
                    if let Some(next) = chars.next() {
                        out.push(next);
                    }
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '/' && chars.peek() == Some(&'/') => {
                for rest in chars.by_ref() {
                    if rest == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            None => {
                if c == '"' || c == '\'' {
                    verbatim = out.ends_with('@');
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    out
}

/// `countof(C, "text")` (or with `"normal"`) of a text no two occurrences of which can
/// overlap (no proper prefix of it is also a suffix): then KQL's count of possibly
/// overlapping occurrences is the count of separate ones. The column and the text.
fn counted(definition: &str) -> Option<(String, String)> {
    let parts = call_arguments(definition, "countof")?;
    let (column, text) = match parts[..] {
        [column, text] => (column, text),
        [column, text, kind] if matches!(literal(kind.trim()), Some((Value::Str(k), true)) if k == "normal") => {
            (column, text)
        }
        _ => return None,
    };
    let column = column.trim();
    let Some((Value::Str(text), true)) = literal(text.trim()) else {
        return None;
    };
    let overlaps = (1..text.len()).any(|i| text.is_char_boundary(i) && text.ends_with(&text[..i]));
    let plain = crate::pred::canonical_path(column).as_deref() == Some(column) && !column.contains(['.', '[']);
    (!text.is_empty() && !overlaps && plain).then(|| (column.to_string(), text))
}

/// `N op k` where `N` counts the occurrences of `text` in `column` (see [`counted`]):
/// "at least m occurrences" is `column matches regex "(?s)(?:.*text){m}"`.
fn count_compared(column: &str, text: &str, atom: &Atom) -> Option<Pred> {
    let [Value::Num(k)] = atom.values.as_slice() else {
        return None;
    };
    let k: u32 = k.parse().ok().filter(|k| *k < 1_000)?;
    let at_least = |m: u32| -> Pred {
        if m == 0 {
            return Pred::True;
        }
        Pred::Atom(Atom {
            span: atom.span.clone(),
            ..Atom::new(
                column,
                Op::MatchesRegex,
                false,
                true,
                vec![Value::Str(format!("(?s)(?:.*{}){{{m}}}", regex::escape(text)))],
            )
        })
    };
    let not = |p: Pred| Pred::Not(Box::new(p));
    let holds = match atom.op {
        Op::Gt => at_least(k + 1),
        Op::Ge => at_least(k),
        Op::Lt => not(at_least(k)),
        Op::Le => not(at_least(k + 1)),
        Op::Equals => Pred::And(vec![at_least(k), not(at_least(k + 1))]),
        _ => return None,
    };
    Some(if atom.negated { not(holds) } else { holds })
}

/// The first or last part of a column split at a separator: `split(C, sep)[0]`,
/// `tostring(split(C, sep)[-1])`, also lower- or upper-cased.
#[derive(Debug, Clone)]
struct SplitPart {
    column: String,
    sep: String,
    first: bool,
    fold: Option<Fold>,
}

impl SplitPart {
    /// `P == v`, `P in (...)` (any case, negated or not) as conditions on the column:
    /// the first part is `v` exactly when C is `v` or starts with `v` then the
    /// separator, provided the separator does not occur in `v` + separator before `v`
    /// ends (the last part alike, at the end). `None` for another operator or value.
    fn compared(&self, atom: &Atom) -> Option<Pred> {
        if !matches!(atom.op, Op::Equals | Op::In) {
            return None;
        }
        let mut case_sensitive = atom.case_sensitive;
        let mut values = Vec::new();
        for value in &atom.values {
            let Value::Str(v) = value else {
                return None;
            };
            let clean = if self.first {
                format!("{v}{}", self.sep).find(&self.sep) == Some(v.len())
            } else {
                format!("{}{v}", self.sep).rfind(&self.sep) == Some(0)
            };
            if !clean || !v.is_ascii() {
                return None;
            }
            // `tolower(...) == v` holds only for a `v` without upper-case letters, and
            // then exactly when the part is `v` in any case.
            match self.fold {
                Some(Fold::Lower) if atom.case_sensitive && v.bytes().any(|b| b.is_ascii_uppercase()) => continue,
                Some(Fold::Upper) if atom.case_sensitive && v.bytes().any(|b| b.is_ascii_lowercase()) => continue,
                _ => {}
            }
            values.push(v.clone());
        }
        if self.fold.is_some() {
            case_sensitive = false;
        }
        // `split` finds the separator in its own case: a case-insensitive `startswith`
        // of `v` and a separator with letters would also accept it in another case.
        if !case_sensitive && self.sep.bytes().any(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        let at = |field: &str, op: Op, value: String| {
            Pred::Atom(Atom {
                span: atom.span.clone(),
                ..Atom::new(field, op, false, case_sensitive, vec![Value::Str(value)])
            })
        };
        let any = Pred::Or(
            values
                .into_iter()
                .map(|v| {
                    let edge = if self.first {
                        at(&self.column, Op::StartsWith, format!("{v}{}", self.sep))
                    } else {
                        at(&self.column, Op::EndsWith, format!("{}{v}", self.sep))
                    };
                    Pred::Or(vec![at(&self.column, Op::Equals, v), edge])
                })
                .collect(),
        );
        Some(if atom.negated { Pred::Not(Box::new(any)) } else { any })
    }
}

/// `split(C, "sep")[0]` or `[-1]`, inside `tostring(...)`, `tolower(...)`, `toupper(...)`.
fn split_part(definition: &str) -> Option<SplitPart> {
    let mut text = definition.trim();
    let mut fold = None;
    loop {
        let lower = text.to_ascii_lowercase();
        let Some((f, inner)) = ["tostring", "tolower", "toupper"].iter().find_map(|f| {
            lower
                .strip_prefix(f)
                .and_then(|rest| rest.trim_start().strip_prefix('('))
                .and_then(|rest| rest.strip_suffix(')'))
                .map(|inner| (*f, text[text.len() - inner.len() - 1..text.len() - 1].trim()))
        }) else {
            break;
        };
        match f {
            "tolower" => fold = fold.or(Some(Fold::Lower)),
            "toupper" => fold = fold.or(Some(Fold::Upper)),
            _ => {}
        }
        text = inner;
    }
    let (call, index) = text.rsplit_once('[')?;
    let first = match index.strip_suffix(']')?.trim() {
        "0" => true,
        "-1" => false,
        _ => return None,
    };
    let [column, sep] = call_arguments(call.trim(), "split")?[..] else {
        return None;
    };
    let column = column.trim();
    let Some((Value::Str(sep), true)) = literal(sep.trim()) else {
        return None;
    };
    if sep.is_empty() || crate::pred::canonical_path(column).as_deref() != Some(column) || column.contains(['.', '[']) {
        return None;
    }
    Some(SplitPart {
        column: column.to_string(),
        sep,
        first,
        fold,
    })
}

/// `extract("regex", n, C)` whose group n takes part in every match and is never empty
/// (a capture at the top level of the regex, of minimum length 1): its value is empty
/// exactly when C does not match. The regex and C.
fn extracted(definition: &str) -> Option<(String, String)> {
    use regex_syntax::hir::{Hir, HirKind};
    let (pattern, group, column) = extract_arguments(definition)?;
    let hir = regex_syntax::Parser::new().parse(&pattern).ok()?;
    // Group 0 is the whole match; another group must sit in the top-level sequence.
    let mandatory = |h: &Hir| match h.kind() {
        HirKind::Capture(c) => c.index == group && h.properties().minimum_len().is_some_and(|n| n > 0),
        _ => false,
    };
    let ok = match hir.kind() {
        _ if group == 0 => hir.properties().minimum_len().is_some_and(|n| n > 0),
        HirKind::Concat(parts) => parts.iter().any(mandatory),
        _ => mandatory(&hir),
    };
    ok.then_some((pattern, column))
}

/// `extract("regex", n, C)`: the regex, the group and C (a column name).
fn extract_arguments(definition: &str) -> Option<(String, u32, String)> {
    let inner = call_text(definition, "extract")?.trim();
    // The regex: the longest prefix that is one string literal.
    let end = (1..=inner.len())
        .rev()
        .filter(|&i| inner.is_char_boundary(i))
        .find(|&i| {
            inner[i..].trim_start().starts_with(',') && matches!(literal(&inner[..i]), Some((Value::Str(_), true)))
        })?;
    let Some((Value::Str(pattern), _)) = literal(&inner[..end]) else {
        return None;
    };
    let mut rest = inner[end..].trim_start().strip_prefix(',')?.split(',');
    let group: u32 = rest.next()?.trim().parse().ok()?;
    let column = rest.next()?.trim().to_string();
    if rest.next().is_some() || crate::pred::canonical_path(&column).as_deref() != Some(column.as_str()) {
        return None;
    }
    Some((pattern, group, column))
}

/// `extract(".*(G)$", n, C)` (group n the capture of G): the last part of C's text in
/// G's language. KQL's regexes (RE2) take the leftmost match, and `.*` cannot cross a
/// line end, so the match starts on C's last line; the greedy `.*` then leaves the
/// shortest suffix of C that G matches whole. When no text of G's language has a line
/// end, the value is `v` exactly when C ends with `v`, for a `v` G matches whole and
/// none of whose shorter suffixes it does ("clean"); any other `v` is never the value.
#[derive(Debug, Clone)]
struct SuffixExtract {
    column: String,
    /// The whole regex (its match, or not, is the value's emptiness).
    pattern: String,
    /// `^(?:G)\z`: whether a text is in G's language.
    whole: regex::Regex,
    /// Whether G's language has the empty text.
    empty: bool,
    /// Whether G's language is closed under changing the case of ASCII letters (so a
    /// case-insensitive comparison is one over the case variants of a clean value).
    case_invariant: bool,
}

impl SuffixExtract {
    /// `X == v`, `X in (...)`, any case, negated or not: `C endswith v` for a clean `v`,
    /// `false` for another, `C` not matching the regex for the empty value when G has
    /// no empty text. `None` for another operator or value.
    fn compared(&self, atom: &Atom) -> Option<Pred> {
        if !matches!(atom.op, Op::Equals | Op::In) || (!atom.case_sensitive && !self.case_invariant) {
            return None;
        }
        let at = |op: Op, negated: bool, value: &str, cs: bool| {
            Pred::Atom(Atom {
                span: atom.span.clone(),
                ..Atom::new(&self.column, op, negated, cs, vec![Value::Str(value.to_string())])
            })
        };
        let mut any = Vec::new();
        for value in &atom.values {
            let Value::Str(v) = value else {
                return None;
            };
            if v.is_empty() {
                if self.empty {
                    return None;
                }
                any.push(at(Op::MatchesRegex, true, &self.pattern, true));
                continue;
            }
            let shorter = v.char_indices().skip(1).any(|(i, _)| self.whole.is_match(&v[i..]));
            if self.whole.is_match(v) && !shorter {
                any.push(at(Op::EndsWith, false, v, atom.case_sensitive));
            }
        }
        let any = Pred::Or(any);
        Some(if atom.negated { Pred::Not(Box::new(any)) } else { any })
    }
}

/// [`SuffixExtract`] of a definition, when it is one.
fn suffix_extract(definition: &str) -> Option<SuffixExtract> {
    use regex_syntax::hir::{Class, Dot, Hir, HirKind, Look};
    let (pattern, group, column) = extract_arguments(definition)?;
    let hir = regex_syntax::Parser::new().parse(&pattern).ok()?;
    let HirKind::Concat(parts) = hir.kind() else {
        return None;
    };
    let [any, capture, end] = parts.as_slice() else {
        return None;
    };
    let HirKind::Repetition(rep) = any.kind() else {
        return None;
    };
    let HirKind::Capture(cap) = capture.kind() else {
        return None;
    };
    let greedy_dot_star = rep.min == 0 && rep.max.is_none() && rep.greedy && *rep.sub == Hir::dot(Dot::AnyCharExceptLF);
    if !greedy_dot_star || cap.index != group || *end != Hir::look(Look::End) {
        return None;
    }
    // Whether some text of the language has a line end (or G looks at its context:
    // `^`, `\b`, ...); whether it is closed under ASCII case changes (literals without
    // letters, classes with both cases or none).
    fn walk(h: &Hir, line_end: &mut bool, case_invariant: &mut bool) {
        match h.kind() {
            HirKind::Literal(l) => {
                *line_end |= l.0.contains(&b'\n');
                *case_invariant &= !l.0.iter().any(u8::is_ascii_alphabetic);
            }
            HirKind::Class(Class::Unicode(c)) => {
                let has = |ch: char| c.ranges().iter().any(|r| r.start() <= ch && ch <= r.end());
                *line_end |= has('\n');
                *case_invariant &= (b'a'..=b'z').all(|b| has(b as char) == has(b.to_ascii_uppercase() as char));
            }
            HirKind::Class(Class::Bytes(c)) => {
                let has = |b: u8| c.ranges().iter().any(|r| r.start() <= b && b <= r.end());
                *line_end |= has(b'\n');
                *case_invariant &= (b'a'..=b'z').all(|b| has(b) == has(b.to_ascii_uppercase()));
            }
            HirKind::Empty => {}
            HirKind::Look(_) => *line_end = true,
            HirKind::Repetition(r) => walk(&r.sub, line_end, case_invariant),
            HirKind::Capture(c) => walk(&c.sub, line_end, case_invariant),
            HirKind::Concat(hs) | HirKind::Alternation(hs) => hs.iter().for_each(|h| walk(h, line_end, case_invariant)),
        }
    }
    let (mut line_end, mut case_invariant) = (false, true);
    walk(&cap.sub, &mut line_end, &mut case_invariant);
    if line_end {
        return None;
    }
    let whole = regex::Regex::new(&format!("^(?:{})\\z", cap.sub)).ok()?;
    Some(SuffixExtract {
        column,
        empty: whole.is_match(""),
        pattern,
        whole,
        case_invariant,
    })
}

/// The columns a stage makes or remakes from others: `parse ... with * "x" A "y" B`
/// (A, B), `mv-expand X`, `mv-expand Y = X` (Y). Conditions on them are not on the
/// table's columns.
fn made_columns(word: &str, text: &str) -> Vec<String> {
    let identifier = |t: &str| {
        t.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    match word {
        "parse" | "parse-where" | "parse-kv" => {
            // The names after `with`, outside the quoted delimiters.
            let Some(at) = text.find(" with ") else {
                return Vec::new();
            };
            let mut names = Vec::new();
            let mut quote = None;
            let mut current = String::new();
            for c in text[at + 6..].chars().chain(std::iter::once(' ')) {
                match quote {
                    Some(q) if c == q => quote = None,
                    Some(_) => {}
                    None if c == '"' || c == '\'' => quote = Some(c),
                    None if c.is_ascii_alphanumeric() || c == '_' => current.push(c),
                    None => {
                        if identifier(&current)
                            && !matches!(
                                current.as_str(),
                                "kind" | "flags" | "regex" | "simple" | "relaxed" | "typeof"
                            )
                        {
                            names.push(std::mem::take(&mut current));
                        }
                        current.clear();
                    }
                }
            }
            names
        }
        "mv-expand" | "mvexpand" | "mv-apply" | "mvapply" => text
            .split(',')
            .filter_map(|item| {
                // Options first (`kind=array`, `with_itemindex=i`), then `X` or `Y = X`.
                let name = item
                    .split_whitespace()
                    .find(|w| {
                        let option = ["kind=", "bagexpansion=", "with_itemindex=", "itemindex="];
                        !option.iter().any(|o| w.to_ascii_lowercase().starts_with(o))
                    })?
                    .split('=')
                    .next()?;
                identifier(name).then(|| name.to_string())
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The field a dynamic property names: `parse_json(C).a.b`, `todynamic(C)['a']` and
/// `parse_json(C).a[0]` are `C.a.b`, `C.a` and `C.a[0]` (see [`canonical_path`]); `None`
/// for a function other than those.
///
/// [`canonical_path`]: crate::pred::canonical_path
fn property_path(property: Pair<Rule>) -> Option<String> {
    let mut path = String::new();
    for part in property.into_inner() {
        match part.as_rule() {
            Rule::call => {
                let text = part.as_str();
                let (function, argument) = text.split_once('(')?;
                let argument = argument.strip_suffix(')')?.trim();
                if !matches!(function.trim(), "parse_json" | "todynamic") {
                    return None;
                }
                path.push_str(&crate::pred::canonical_path(argument)?);
            }
            Rule::name => {
                path.push('.');
                path.push_str(part.as_str());
            }
            Rule::bracket => path.push_str(part.as_str()),
            _ => return None,
        }
    }
    crate::pred::canonical_path(&path)
}

/// A property path, or one read through `parse_json(C)` / `todynamic(C)`
/// (`parse_json(AdditionalFields).A[0]` is `AdditionalFields.A[0]`), in its one form.
fn dynamic_path(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let Some(open) = ["parse_json(", "parsejson(", "todynamic("]
        .iter()
        .find(|f| lower.starts_with(*f))
        .map(|f| f.len())
    else {
        return crate::pred::canonical_path(text);
    };
    let close = open + text[open..].find(')')?;
    let argument = crate::pred::canonical_path(&text[open..close])?;
    crate::pred::canonical_path(&format!("{argument}{}", &text[close + 1..]))
}

/// The expression inside `tostring(...)`, `parse_json(...)` and `todynamic(...)`
/// wrappers (`tostring(parse_json(P.AppId))` is `P.AppId`), or the expression itself.
fn unwrapped(definition: &str) -> Option<String> {
    let mut text = definition.trim();
    loop {
        let lower = text.to_ascii_lowercase();
        let Some(inner) = ["tostring", "parse_json", "todynamic"].iter().find_map(|f| {
            lower
                .strip_prefix(f)
                .and_then(|rest| rest.trim_start().strip_prefix('('))
                .and_then(|rest| rest.strip_suffix(')'))
                .map(|inner| text[text.len() - inner.len() - 1..text.len() - 1].trim())
        }) else {
            return Some(text.to_string());
        };
        text = inner;
    }
}

/// Whether a definition reads a column as a dynamic value (`parse_json(C)`,
/// `todynamic(C)`): the name is that value, and its properties are the column's.
fn dynamic_of(definition: &str) -> bool {
    let lower = definition.trim().to_ascii_lowercase();
    lower.starts_with("parse_json") || lower.starts_with("todynamic")
}

/// The `kind=` of a join or lookup stage, in lower case.
fn join_kind(stage: &str) -> Option<String> {
    let at = stage.find("kind")?;
    let rest = stage[at + 4..].trim_start().strip_prefix('=')?.trim_start();
    Some(
        rest.chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase(),
    )
}

/// The parts of `text` between commas outside brackets and strings.
fn top_level_commas(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut quote, mut start) = (Vec::new(), 0i32, None, 0);
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The tables a `union` or `find in` source names.
fn several_tables(source: &Pair<Rule>) -> Vec<String> {
    source
        .clone()
        .into_inner()
        .filter(|p| p.as_rule() == Rule::name)
        .map(|p| p.as_str().to_string())
        .collect()
}

/// The text between the parentheses of a call of `function` (`f(...)`, `f (...)`).
fn call_text<'t>(text: &'t str, function: &str) -> Option<&'t str> {
    text.strip_prefix(function)?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')
}

/// The arguments of a call of `function`, split at its top-level commas.
fn call_arguments<'t>(text: &'t str, function: &str) -> Option<Vec<&'t str>> {
    call_text(text, function).map(top_level_commas)
}

/// The column `column_ifexists("C", default)` names.
fn column_ifexists(call: &str) -> Option<String> {
    let [name, _default] = call_arguments(call, "column_ifexists")?[..] else {
        return None;
    };
    let Some((Value::Str(name), true)) = literal(name.trim()) else {
        return None;
    };
    (crate::pred::canonical_path(&name).as_deref() == Some(name.as_str()) && !name.contains(['.', '['])).then_some(name)
}

/// KQL's name for an unnamed `by` or `distinct` expression: the column of a conversion
/// (`tostring(SPN)` is `SPN`, as Kusto.Language names it) or of `bin(C, ...)`; else the
/// name of an aggregate (see [`default_column_name`]).
fn derived_column_name(call: &str) -> String {
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
    if let Some((function, rest)) = call.split_once('(')
        && KEEP_NAME.contains(&function.trim())
    {
        let argument = rest.split([',', ')']).next().unwrap_or("").trim();
        if crate::pred::canonical_path(argument).as_deref() == Some(argument) && !argument.contains(['.', '[']) {
            return argument.to_string();
        }
    }
    default_column_name(call)
}

/// KQL's name for an unnamed aggregate: `count()` is `count_`, `make_set(X)` is
/// `set_X`; others are `fn_arg`.
fn default_column_name(call: &str) -> String {
    let (function, rest) = call.split_once('(').unwrap_or((call, ""));
    let argument: String = rest
        .trim_end_matches(')')
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    match (function, argument.is_empty()) {
        ("count", _) => "count_".into(),
        ("make_set" | "makeset", false) => format!("set_{argument}"),
        ("make_list" | "makelist", false) => format!("list_{argument}"),
        (_, true) => format!("{function}_"),
        (_, false) => format!("{function}_{argument}"),
    }
}

#[cfg(test)]
mod tests;
