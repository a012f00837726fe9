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
//! at all; so does a text of several queries (which one is the rule's is not said), and
//! a syntax error the parser had to skip part of the query for (one it reads as what
//! was meant, such as a stage without `where`, keeps D; the error is FPX403 either way).
//!
//! The phases, and which module owns each:
//! - [`lex`]: tokens with byte spans (strings of every form, operator words, comments
//!   dropped); unclosed strings and brackets are found on them (`validate::unreadable`).
//! - [`parse`]: the syntax tree ([`ast`]) of the whole Kusto grammar, linear, with error
//!   recovery at the next stage or statement: a syntax error is FPX403.
//! - `bind`: the row each stage sees (its columns and what each means: a column of the
//!   table, an alias, a column computed from one) through `extend`, `project*`,
//!   `summarize`, `distinct`, `parse`, `mv-expand`; names that are not among them are
//!   FPX403. The lowering reads names through the same binder.
//! - `calls`: calls against Kusto's function catalog ([`catalog`]): FPX403.
//! - `validate`: the phases above, in order: what FPX403 reports.
//! - `lower`: the syntax tree to the table, D and the output columns, following `let`
//!   values and queries and asking the binder what each column name means; `derived`:
//!   the computed columns it lowers exactly; `literal`: the values of literal tokens,
//!   decoded by the exclusion grammar's value decoder (operators are mapped by the
//!   exclusion code), so both mean the same. A query with a syntax error the parser had
//!   to skip part of, or with several queries, has no D (a fatal note).

pub mod ast;
mod bind;
mod calls;
pub mod catalog;
mod derived;
mod inline;
pub mod lex;
mod literal;
mod lower;
pub mod parse;
mod validate;

pub use crate::model::{InlineExclusion, QueryNote, RuleQuery};

pub use validate::{QueryError, validate};

use crate::pred::{Pred, Span};

/// Reads a query: whether it compiles, and what it detects. Never panics; a query that
/// fpx cannot parse yields a fatal note.
pub fn read_query(query: &str) -> RuleQuery {
    let (errors, tree) = validate::validated(query);
    let mut read = match (validate::unreadable(query), &tree) {
        // Nothing can be read past a string that never ends, nor past a bracket that
        // does not match.
        (Some(e), _) if e.message == "this string is never closed" => unreadable_from(query, e.span.start, e.span.end),
        (Some(_), _) => unreadable_at_end(query),
        // A syntax error (FPX403) the parser read past by skipping part of the query:
        // what the rule detects is not known. One it read as what was meant (a stage
        // without `where`, a misspelt operator) leaves the tree whole.
        (None, Some(tree)) => match tree.errors.first() {
            Some(e) if tree.dropped => unreadable_from(query, e.span.start, e.span.end),
            _ => lower::lower(query, &tree.query),
        },
        (None, None) => RuleQuery::unreadable(
            0..query.len().min(1),
            format!(
                "fpx cannot read the query: it nests deeper than {} levels, or chains more than {} operators other than `and`/`or` in a row",
                parse::MAX_DEPTH,
                parse::MAX_CHAIN
            ),
        ),
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
        let branches = tree
            .as_ref()
            .map(|t| inline::precedence_branches(&t.query))
            .unwrap_or_default();
        let bound = |span: &Span| inline::bound_by_precedence(&branches, span);
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

#[cfg(test)]
mod tests;
