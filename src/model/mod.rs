//! The one rule model every front-end (seed text, Sentinel KQL, Sigma) produces: the
//! rule's table or log source, its detection predicate D with spans, the exclusions
//! written inline in it, and notes on what was approximated. Checks and reports read
//! this, never the front-end's syntax.

use crate::pred::{Atom, Op, Pred, Span, Value};

/// What a test of a field that holds several values (an array in an Elasticsearch
/// document) means in the rule's language; events flattened to one value per name
/// (KQL's `Target[0].ID`, Sigma's fields) have none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ManyValues {
    /// Each name is one value (KQL, Sigma, seed documents).
    #[default]
    One,
    /// The test holds when one of the values passes it, a negated test when none does
    /// (EQL, Kibana KQL, exception lists, query filters).
    Any,
    /// The test is null, as a test of a missing field is (ES|QL: single-value functions
    /// and operators return null on a multi-valued field, and `WHERE` drops the row).
    Null,
}

/// What fpx understood of a rule's query.
#[derive(Debug, Clone)]
pub struct RuleQuery {
    /// The table (or log source) the query reads: the source of its last tabular
    /// expression.
    pub table: Option<crate::schema::Table>,
    /// The detection predicate D, if the query could be lowered.
    pub detection: Option<Pred>,
    /// The columns of the query's result.
    pub output_columns: Vec<String>,
    /// What was approximated or could not be read, with where in the query.
    pub notes: Vec<QueryNote>,
    /// Why the query does not compile in KQL (FPX403); empty when it does, as far as
    /// fpx can tell.
    pub errors: Vec<QueryError>,
    /// The exclusions written in D, wherever they bind.
    pub inline: Vec<InlineExclusion>,
    /// D with every inline exclusion replaced by `true`: what the rule matches before
    /// its exclusions (the replay counts those apart). `None` when D has none.
    pub unexcluded: Option<Pred>,
}

impl RuleQuery {
    /// Whether D is exact: nothing had to be approximated or left out.
    pub fn exact(&self) -> bool {
        self.notes.iter().all(|n| n.correlates)
    }

    /// A query fpx could not read at all: no table, no D, one fatal note.
    pub(crate) fn unreadable(span: Span, message: String) -> RuleQuery {
        RuleQuery {
            table: None,
            detection: None,
            output_columns: Vec::new(),
            errors: Vec::new(),
            inline: Vec::new(),
            unexcluded: None,
            notes: vec![QueryNote::new(span, message, true)],
        }
    }
}

/// Why a rule's query does not compile (a KQL syntax or name error, a Sigma condition
/// that names an undefined selection), where, and what would fix it (becomes FPX403).
#[derive(Debug, Clone, PartialEq)]
pub struct QueryError {
    /// Bytes of the query.
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
}

/// Something about the query a reviewer should know (becomes FPX401).
#[derive(Debug, Clone, PartialEq)]
pub struct QueryNote {
    pub span: Span,
    pub message: String,
    /// True when the note made the whole query unsupported (no D).
    pub fatal: bool,
    /// True when the note is about other tables the rule's rows are matched with (a
    /// `join` that keeps the rule's rows): D is still exact for the rule's own table.
    pub correlates: bool,
}

impl QueryNote {
    /// A note about the rule's own rows (not about tables it is matched with).
    pub fn new(span: Span, message: String, fatal: bool) -> QueryNote {
        QueryNote {
            span,
            message,
            fatal,
            correlates: false,
        }
    }
}

/// One inline exclusion of a rule's query.
#[derive(Debug, Clone)]
pub struct InlineExclusion {
    /// Bytes of the query the conjunct covers (from its first atom to its last).
    pub span: Span,
    /// What it suppresses: the negation of the conjunct (atom spans index the query).
    pub suppresses: Pred,
    /// What the exclusion is judged against: for a conjunct of D, the rule's detection
    /// without its exclusions (this one and the others: overlaps between exclusions are
    /// FPX107's); for one inside an `or` branch ([`InlineExclusion::scoped`]), the events
    /// whose alerting it decides (see [`scoped_exclusions`]).
    pub rest: Pred,
    /// The name the rule gives it (a Sigma filter selection), if any.
    pub name: Option<String>,
    /// Whether it binds to part of D only (a conjunct inside an `or` branch): then an
    /// event it suppresses is one in `rest` it matches, and `rest` is not D's rows.
    pub scoped: bool,
    /// The conjunction it sits in (0: D's own conjuncts). Exclusions of one conjunction
    /// are judged on the same events, so only they can subsume each other (FPX107).
    pub group: usize,
    /// Whether the conjunct is an `or` of negated tests of one field with one operator
    /// (`f !contains "a" or f !contains "b"`): a keep-clause that holds for nearly every
    /// event, where `and` was meant (FPX103).
    pub alternatives: bool,
    /// Whether it binds to one `or` branch only because `and` binds tighter than `or`:
    /// no parentheses were written around its conjunction (`a or b and not filter`).
    /// Written parentheses make the scope deliberate.
    pub by_precedence: bool,
}

/// Where an exclusion that lives in a file of its own comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKind {
    /// A Sigma meta-filter (filters specification v2.1.0).
    SigmaMetaFilter,
    /// An item of an Elastic exception list (detection-rules TOML, a Kibana export).
    ElasticException,
    /// A negated filter of an Elastic rule (`[[rule.filters]]` with `negate = true`).
    ElasticFilter,
}

/// The field name opaque conditions are parked under until their polarity is known;
/// NUL cannot occur in a real field name.
pub(crate) const OPAQUE: &str = "\0opaque";

pub(crate) fn opaque(at: Option<Span>) -> Pred {
    Pred::Atom(Atom {
        span: at.unwrap_or(0..0),
        ..Atom::new(OPAQUE, Op::Equals, false, true, vec![Value::Str(String::new())])
    })
}

/// Replaces opaque conditions by `true` where asserted and `false` where negated.
pub(crate) fn approximate(pred: &Pred, positive: bool) -> Pred {
    match pred {
        Pred::Atom(a) if a.field == OPAQUE => {
            if positive {
                Pred::True
            } else {
                Pred::False
            }
        }
        Pred::Not(p) => Pred::Not(Box::new(approximate(p, !positive))),
        Pred::And(ps) => Pred::And(ps.iter().map(|p| approximate(p, positive)).collect()),
        Pred::Or(ps) => Pred::Or(ps.iter().map(|p| approximate(p, positive)).collect()),
        other => other.clone(),
    }
}

mod inline;
mod scope;
pub use inline::inline_exclusions;
pub use scope::{Finish, Scoped, scoped_exclusions};
