//! The one pest parser of fpx: the exclusion grammar (`grammar/exclusion.pest`) and the
//! KQL subset of rule queries (`grammar/kql.pest`, which reuses the exclusion grammar's
//! comparisons, values and operators), compiled together so both share one `Rule`
//! type, one lowering of comparisons and values (`crate::expr`), and one precedence
//! table.

use std::sync::LazyLock;

use pest::pratt_parser::{Assoc, Op as PrattOp, PrattParser};
use pest_derive::Parser;

/// The parser over both grammars.
#[derive(Parser)]
#[grammar = "../grammar/exclusion.pest"]
#[grammar = "../grammar/kql.pest"]
pub(crate) struct Grammar;

/// `not` binds tighter than `and`, which binds tighter than `or`, in exclusions and in
/// `where` clauses alike.
pub(crate) static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(PrattOp::infix(Rule::or_op, Assoc::Left))
        .op(PrattOp::infix(Rule::and_op, Assoc::Left))
        .op(PrattOp::prefix(Rule::not_op))
});
