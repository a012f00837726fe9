//! The exclusion language: parse text into [`Pred`](crate::pred::Pred) and print it back.
//!
//! Parsing never fails with a panic: it returns a [`ParseOutcome`] that is either a
//! predicate (with the tolerated irregularities it met, which become FPX003/FPX004
//! findings), prose (FPX002), or a syntax error (FPX001).

mod parse;
mod print;

pub use parse::{MAX_NESTING, not_utf8, parse_exclusion};
pub(crate) use parse::{join, operator, parse_value};
pub use print::{operator_text, print, print_value, print_with, write_atom};

use crate::pred::{Pred, Span};

/// What parsing an exclusion produced.
#[derive(Debug, Clone)]
pub enum ParseOutcome {
    /// The exclusion is an expression (possibly with tolerated irregularities).
    Parsed(ParsedExclusion),
    /// The exclusion is natural language, not an expression.
    Prose(ProseExclusion),
    /// The exclusion was meant as an expression but does not parse.
    Invalid(SyntaxError),
}

/// A parsed exclusion and what the parser tolerated on the way.
#[derive(Debug, Clone)]
pub struct ParsedExclusion {
    pub pred: Pred,
    pub irregularities: Vec<Irregularity>,
}

/// Something the parser accepted that a deployable exclusion should not contain.
#[derive(Debug, Clone, PartialEq)]
pub enum Irregularity {
    /// A string delimited by typographic quotes; `replacement` is the same value in
    /// straight quotes.
    TypographicQuotes { span: Span, replacement: String },
    /// The whole exclusion is wrapped in backticks (markdown code).
    BacktickWrapping { open: Span, close: Span },
    /// A value written without quotes; `replacement` is it quoted.
    UnquotedValue { span: Span, replacement: String },
    /// A trailing parenthetical note, not part of the predicate.
    Annotation { span: Span, text: String },
    /// A value that is a stand-in to be replaced (`known_good_hashes`, `<hash>`, `TODO`).
    Placeholder { span: Span, value: String },
    /// A form fpx accepts and KQL does not (`AND`, `&&`, `!(...)`, `not x == "a"`, `=`,
    /// a trailing comma); `edits` turn it into KQL with the same meaning.
    NotKql {
        span: Span,
        what: &'static str,
        edits: Vec<(Span, String)>,
    },
}

/// An exclusion recognised as prose.
#[derive(Debug, Clone)]
pub struct ProseExclusion {
    /// The span of the whole text.
    pub span: Span,
}

/// A syntax error, phrased for a person.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    /// Where the caret goes.
    pub span: Span,
    /// One line: what is wrong.
    pub message: String,
    /// Label under the caret, e.g. "expected a value in quotes".
    pub label: String,
    /// A hint, e.g. "the string that starts with ” (at the caret) is never closed".
    pub hint: Option<String>,
}

#[cfg(test)]
mod tests;
