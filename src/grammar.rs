//! The pest parser of the exclusion language (`grammar/exclusion.pest`): exclusions, and
//! the values of KQL literals wherever fpx reads one (a rule query's literals are
//! decoded by `crate::expr::parse_value` too, so a literal means the same in a `where`
//! clause and in an exclusion).

use std::sync::LazyLock;

use pest::pratt_parser::{Assoc, Op as PrattOp, PrattParser};
use pest_derive::Parser;

/// The exclusion grammar's parser.
#[derive(Parser)]
#[grammar = "../grammar/exclusion.pest"]
pub(crate) struct Grammar;

/// `not` binds tighter than `and`, which binds tighter than `or` (in KQL `where`
/// clauses too: `crate::kql::parse`).
pub(crate) static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(PrattOp::infix(Rule::or_op, Assoc::Left))
        .op(PrattOp::infix(Rule::and_op, Assoc::Left))
        .op(PrattOp::prefix(Rule::not_op))
});
