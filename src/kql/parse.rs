//! The KQL parser: tokens ([`super::lex`]) to a syntax tree ([`super::ast`]), by
//! recursive descent with one token of look-ahead (two in a few places), so its time is
//! linear in the query. It reads the Kusto grammar: statements (`let`, functions and
//! views, options), tabular pipelines, every query operator, and scalar expressions with
//! Kusto's precedence (`or` < `and` < comparisons and string operators < `+ -` <
//! `* / %` < unary < member, index and call).
//!
//! A query it rejects is not valid KQL: a syntax error is an error (FPX403), with where
//! and what was expected. Operators whose arguments fpx has no use for (`make-series`,
//! `render`, `top-nested`, `fork`, `scan`, `datatable`, ...) are read as balanced
//! brackets up to the next `|`, so that nothing valid is ever rejected for want of a
//! rule here; a test compares every verdict with Kusto.Language's on the corpora and on
//! mutations of them.

use super::ast::*;
use super::lex::{Tok, Token, tokens};
use crate::model::QueryError;
use crate::pred::Span;

/// How deep brackets and sub-queries may nest before the parser stops reading (and
/// reports nothing: Kusto accepts deeper queries, fpx just does not check them).
pub const MAX_DEPTH: usize = 100;

/// How many operators other than `and`/`or` may follow one another at one level
/// (`a + b + ...`, `x.a.b...`) before the parser stops reading, as for [`MAX_DEPTH`].
pub const MAX_CHAIN: usize = 1_000;

/// Why a parse stopped.
#[derive(Debug, Clone, PartialEq)]
enum ParseError {
    /// The query is not valid KQL.
    Syntax(QueryError),
    /// Nested deeper than [`MAX_DEPTH`]: not checked.
    TooDeep,
}

type PResult<T> = Result<T, ParseError>;

/// A query read: its tree, and the syntax errors found on the way (the parser
/// recovers at the next stage or statement, so one mistake does not hide the next).
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub query: Query,
    pub errors: Vec<QueryError>,
    /// Whether recovering from an error skipped part of the query (a statement or a
    /// stage): then the tree does not hold all of it.
    pub dropped: bool,
}

/// The query nests deeper than the parser reads (100 levels): not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep;

/// Parses a whole query.
pub fn parse(query: &str) -> Result<Parsed, TooDeep> {
    let toks = tokens(query);
    let mut p = Parser {
        query,
        toks,
        pos: 0,
        depth: 0,
        errors: Vec::new(),
        dropped: false,
    };
    match p.statements(None) {
        Ok(statements) => Ok(Parsed {
            query: Query { statements },
            errors: p.errors,
            dropped: p.dropped,
        }),
        Err(ParseError::TooDeep) => Err(TooDeep),
        Err(ParseError::Syntax(e)) => {
            // (Statements recover from their errors; kept for completeness.)
            p.errors.push(e);
            Ok(Parsed {
                query: Query { statements: Vec::new() },
                errors: p.errors,
                dropped: true,
            })
        }
    }
}

/// The query operators that may follow `|` (and `mvexpand`/`mvapply`, their old names).
pub const OPERATORS: &[&str] = &[
    "as",
    "consume",
    "count",
    "distinct",
    "evaluate",
    "extend",
    "facet",
    "filter",
    "find",
    "fork",
    "getschema",
    "invoke",
    "join",
    "limit",
    "lookup",
    "make-series",
    "mv-apply",
    "mv-expand",
    "mvapply",
    "mvexpand",
    "order",
    "parse",
    "parse-kv",
    "parse-where",
    "partition",
    "project",
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "project-smart",
    "range",
    "reduce",
    "render",
    "sample",
    "sample-distinct",
    "scan",
    "search",
    "serialize",
    "sort",
    "summarize",
    "take",
    "top",
    "top-hitters",
    "top-nested",
    "union",
    "where",
    "macro-expand",
    "assert-schema",
    "execute-and-cache",
];

/// Binary operators written as words (with their `!` and `~` forms as lexed).
const WORD_OPERATORS: &[&str] = &[
    "contains",
    "!contains",
    "contains_cs",
    "!contains_cs",
    "has",
    "!has",
    "has_cs",
    "!has_cs",
    "hasprefix",
    "!hasprefix",
    "hasprefix_cs",
    "!hasprefix_cs",
    "hassuffix",
    "!hassuffix",
    "hassuffix_cs",
    "!hassuffix_cs",
    "startswith",
    "!startswith",
    "startswith_cs",
    "!startswith_cs",
    "endswith",
    "!endswith",
    "endswith_cs",
    "!endswith_cs",
    "like",
    "notlike",
    "like_cs",
    "notlike_cs",
    "has_any",
    "has_all",
    "in",
    "!in",
    "in~",
    "!in~",
];

/// Comparison operators written as punctuation.
const PUNCT_COMPARISONS: &[&str] = &["==", "!=", "<>", "<", ">", "<=", ">=", "=~", "!~"];

/// Operators whose right side is a list: `in (a, b)`, `has_any (a, b)`.
const LIST_OPERATORS: &[&str] = &["in", "!in", "in~", "!in~", "has_any", "has_all"];

/// Calls whose argument is a literal's text, not an expression (`datetime(2024-01-01
/// 10:00)`, `dynamic(["a"])`, `typeof(string)`).
const LITERAL_CALLS: &[&str] = &[
    "datetime", "timespan", "time", "date", "guid", "dynamic", "typeof", "int", "long", "real", "double", "bool",
    "boolean", "decimal",
];

/// Parameters (`name=value` before the operator's arguments) each operator takes;
/// `hint.*` is accepted everywhere.
fn takes_param(op: &str, name: &str) -> bool {
    if name.starts_with("hint.") {
        return true;
    }
    let names: &[&str] = match op {
        "join" | "lookup" => &["kind"],
        "union" => &["kind", "withsource", "isfuzzy"],
        "mv-expand" | "mvexpand" => &["bagexpansion", "with_itemindex", "kind", "itemindex"],
        "mv-apply" | "mvapply" => &["with_itemindex", "itemindex"],
        "parse" | "parse-where" => &["kind", "flags"],
        "find" => &["withsource", "datascope", "kind"],
        "search" => &["kind"],
        "make-series" => &["kind"],
        "summarize" | "distinct" | "evaluate" | "as" | "order" | "sort" | "top" | "partition" => &[],
        _ => return false,
    };
    names.contains(&name)
}

/// Operators that may start a query (a source), besides names.
const SOURCE_OPERATORS: &[&str] = &[
    "union",
    "range",
    "print",
    "find",
    "search",
    "evaluate",
    "datatable",
    "externaldata",
];

/// What a bad character probably should have been (text pasted from a document).
fn look_alike(c: char) -> Option<&'static str> {
    Some(match c {
        '｜' | '¦' => "|",
        '−' | '–' | '—' | '‐' => "-",
        '“' | '”' | '„' | '″' => "\"",
        '‘' | '’' | '′' => "'",
        '（' => "(",
        '）' => ")",
        '＝' => "=",
        '，' => ",",
        '；' => ";",
        '＜' => "<",
        '＞' => ">",
        'ı' => "i",
        _ => return None,
    })
}

/// What a stage that does not start with an operator probably meant.
enum Meant {
    /// `| FileName == "x"`: a condition.
    Where,
    /// `| wher ...`: the operator nearest to the word.
    Operator(&'static str),
}

struct Parser<'q> {
    query: &'q str,
    toks: Vec<Token<'q>>,
    pos: usize,
    depth: usize,
    /// Syntax errors recovered from.
    errors: Vec<QueryError>,
    /// Whether a recovery skipped tokens.
    dropped: bool,
}

impl<'q> Parser<'q> {
    // ---- tokens -------------------------------------------------------------------

    fn peek(&self) -> Option<&Token<'q>> {
        self.toks.get(self.pos)
    }

    fn peek_at(&self, ahead: usize) -> Option<&Token<'q>> {
        self.toks.get(self.pos + ahead)
    }

    fn at(&self, punct: &str) -> bool {
        self.peek().is_some_and(|t| t.is(punct))
    }

    fn at_word(&self, word: &str) -> bool {
        self.peek().is_some_and(|t| t.kind == Tok::Word && t.text == word)
    }

    fn bump(&mut self) -> Token<'q> {
        let t = self.toks[self.pos].clone();
        self.pos += 1;
        t
    }

    fn eat(&mut self, punct: &str) -> bool {
        if self.at(punct) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if self.at_word(word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// The end of the previous token (or the query's start).
    fn last_end(&self) -> usize {
        self.pos.checked_sub(1).map_or(0, |i| self.toks[i].span.end)
    }

    fn expect(&mut self, punct: &str) -> PResult<Token<'q>> {
        if self.at(punct) {
            Ok(self.bump())
        } else {
            Err(self.expected(&format!("`{punct}`")))
        }
    }

    fn expect_word(&mut self, word: &str) -> PResult<Token<'q>> {
        if self.at_word(word) {
            Ok(self.bump())
        } else {
            Err(self.expected(&format!("`{word}`")))
        }
    }

    /// A syntax error at the current token: `what` was expected.
    fn expected(&self, what: &str) -> ParseError {
        let (span, message, help) = match self.peek() {
            None => {
                let end = self.query.trim_end().len();
                let start = self.query[..end].char_indices().next_back().map_or(0, |(i, _)| i);
                (
                    start..end.max(start),
                    format!("the query ends here; expected {what}"),
                    None,
                )
            }
            Some(t) if t.kind == Tok::Punct && !t.text.is_ascii() => {
                let c = t.text.chars().next().unwrap_or(' ');
                let help = match look_alike(c) {
                    Some(a) => format!("did you mean `{a}`? `{c}` looks like it but is not KQL"),
                    None => "KQL names and operators are ASCII: was this pasted from a document?".into(),
                };
                (
                    t.span.clone(),
                    format!("unexpected character `{c}` (U+{:04X}); expected {what}", c as u32),
                    Some(help),
                )
            }
            Some(t) if t.kind == Tok::Punct && t.text.chars().all(|c| c.is_control()) => {
                let c = t.text.chars().next().unwrap_or(' ');
                (
                    t.span.clone(),
                    format!("unexpected control character U+{:04X}; expected {what}", c as u32),
                    None,
                )
            }
            Some(t) if t.kind == Tok::Word && is_upper_case_keyword(t.text) => {
                let lower = t.text.to_ascii_lowercase();
                (
                    t.span.clone(),
                    format!("`{}` is not KQL: its keywords and operators are lower case", t.text),
                    Some(format!("write `{lower}`")),
                )
            }
            Some(t) => (t.span.clone(), format!("expected {what}, found `{}`", t.text), None),
        };
        ParseError::Syntax(QueryError { span, message, help })
    }

    /// After a `,` in a list: whether `)` follows, an error of its own kind, recorded
    /// (the list is read as if it ended before the comma).
    fn trailing_comma(&mut self) -> bool {
        if !self.at(")") {
            return false;
        }
        self.errors.push(QueryError {
            span: self.toks[self.pos - 1].span.clone(),
            message: "a list cannot end with a comma: an expression is expected before `)`".into(),
            help: Some("remove the comma".into()),
        });
        true
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::TooDeep);
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Skips balanced tokens up to (not including) a `|`, `;` or closing bracket at
    /// this level, or the end: the arguments of an operator fpx does not model.
    fn skip_balanced(&mut self) -> Span {
        let start = self.peek().map_or(self.last_end(), |t| t.span.start);
        let mut depth = 0usize;
        while let Some(t) = self.peek() {
            if t.kind == Tok::Punct {
                match t.text {
                    "(" | "[" | "{" => depth += 1,
                    ")" | "]" | "}" if depth == 0 => break,
                    ")" | "]" | "}" => depth -= 1,
                    "|" | ";" if depth == 0 => break,
                    _ => {}
                }
            }
            self.pos += 1;
        }
        start..self.last_end().max(start)
    }

    /// Skips a bracketed group starting at the current `open` token, returning its span.
    fn skip_group(&mut self, open: &str, close: &str) -> PResult<Span> {
        let start = self.expect(open)?.span.start;
        let mut depth = 1usize;
        while let Some(t) = self.peek() {
            if t.kind == Tok::Punct {
                if matches!(t.text, "(" | "[" | "{") {
                    depth += 1;
                } else if matches!(t.text, ")" | "]" | "}") {
                    depth -= 1;
                    if depth == 0 {
                        if t.text != close {
                            return Err(self.expected(&format!("`{close}`")));
                        }
                        let end = self.bump().span.end;
                        return Ok(start..end);
                    }
                }
            }
            self.pos += 1;
        }
        Err(self.expected(&format!("`{close}`")))
    }

    // ---- statements ---------------------------------------------------------------

    /// Records a syntax error to go on after it; stops at [`ParseError::TooDeep`].
    fn recover(&mut self, e: ParseError) -> PResult<()> {
        match e {
            ParseError::Syntax(e) => {
                self.errors.push(e);
                Ok(())
            }
            ParseError::TooDeep => Err(ParseError::TooDeep),
        }
    }

    /// Skips from token `from` past the next `;` at its level (or to `close`, or the
    /// end): where the next statement starts.
    fn skip_statement(&mut self, from: usize, close: Option<&str>) {
        self.pos = from;
        self.dropped = true;
        let mut depth = 0usize;
        while let Some(t) = self.peek() {
            if t.kind == Tok::Punct {
                match t.text {
                    "(" | "[" | "{" => depth += 1,
                    ")" | "]" | "}" if depth > 0 => depth -= 1,
                    c if depth == 0 && close == Some(c) => return,
                    ";" if depth == 0 => {
                        self.pos += 1;
                        return;
                    }
                    _ => {}
                }
            }
            self.pos += 1;
        }
    }

    /// Skips from token `from` to the next `|` or `;` at its level, or the bracket that
    /// closes it: where the next stage starts.
    fn skip_stage(&mut self, from: usize) {
        self.pos = from;
        self.dropped = true;
        self.skip_balanced();
    }

    /// At a token after a complete statement that is not `;`: a table at the start
    /// of a line (two queries pasted as one).
    fn another_query(&self) -> Option<ParseError> {
        let t = self.peek()?;
        let line_start = self
            .query
            .get(self.last_end()..t.span.start)
            .is_some_and(|gap| gap.contains('\n'));
        (t.kind == Tok::Word && line_start && crate::schema::schema().table(t.text).is_some()).then(|| {
            ParseError::Syntax(QueryError {
                span: t.span.clone(),
                message: format!("`{}` starts another query: KQL expects `;` before it", t.text),
                help: Some("a rule is one query; end the previous statement with `;` or remove one of them".into()),
            })
        })
    }

    /// Statements up to the end (or to `close`, for a function body). A `;` ends a
    /// statement; an empty one (`;;`, a leading `;`) is an error, as in Kusto. A
    /// statement with a syntax error is recorded and skipped.
    fn statements(&mut self, close: Option<&str>) -> PResult<Vec<Statement>> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => break,
                Some(t) if close.is_some_and(|c| t.is(c)) => break,
                Some(t) if t.is(";") => {
                    let e = self.expected("a statement (two `;` in a row)");
                    self.recover(e)?;
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            let (start, depth) = (self.pos, self.depth);
            let statement = match self.statement() {
                Ok(statement) => statement,
                Err(e) => {
                    self.recover(e)?;
                    self.depth = depth;
                    self.skip_statement(start, close);
                    continue;
                }
            };
            let is_let = matches!(statement, Statement::Let { .. } | Statement::Option { .. });
            out.push(statement);
            if self.eat(";") {
                continue;
            }
            match self.peek() {
                None => break,
                Some(t) if close.is_some_and(|c| t.is(c)) => break,
                _ => {}
            }
            // Something follows a complete statement without a `;`: a second query, or
            // a `let` without its `;`, is read as the next statement; anything else is
            // skipped to the next `;`.
            if is_let {
                let e = self.expected("`;` after the `let` statement");
                self.recover(e)?;
            } else if let Some(e) = self.another_query() {
                self.recover(e)?;
            } else if let Some(t) = self.peek().filter(|t| {
                t.kind == Tok::Word
                    && (matches!(t.text, "let" | "set" | "declare") || SOURCE_OPERATORS.contains(&t.text))
            }) {
                let e = ParseError::Syntax(QueryError {
                    span: t.span.clone(),
                    message: format!("`{}` starts another statement: KQL expects `;` before it", t.text),
                    help: Some("end the previous statement with `;`".into()),
                });
                self.recover(e)?;
            } else {
                let t = self.peek().expect("checked: a token follows");
                let what = if t.is(")") || t.is("]") || t.is("}") {
                    "the end of the query"
                } else {
                    "`;` between statements, or `|` before a query operator"
                };
                let e = self.expected(what);
                // A name at the start of a line probably starts the next query: read on
                // from it; anything else is skipped to the next `;`.
                let line_start = t.kind == Tok::Word
                    && self
                        .query
                        .get(self.last_end()..t.span.start)
                        .is_some_and(|gap| gap.contains('\n'));
                self.recover(e)?;
                if !line_start {
                    let from = self.pos;
                    self.skip_statement(from, close);
                    if self.pos == from {
                        self.pos += 1;
                    }
                }
            }
        }
        Ok(out)
    }

    fn statement(&mut self) -> PResult<Statement> {
        let t = self.peek().cloned().expect("called with a token ahead");
        if t.kind == Tok::Word {
            match t.text {
                "let" => return self.let_statement(),
                "set" | "declare" | "alias" | "pattern" | "restrict" => {
                    self.pos += 1;
                    // Options: read to the end of the statement.
                    let mut depth = 0usize;
                    while let Some(n) = self.peek() {
                        if n.is(";") && depth == 0 {
                            break;
                        }
                        if n.is("(") || n.is("[") || n.is("{") {
                            depth += 1;
                        } else if (n.is(")") || n.is("]") || n.is("}")) && depth > 0 {
                            depth -= 1;
                        }
                        self.pos += 1;
                    }
                    return Ok(Statement::Option {
                        keyword: ident(&t),
                        span: t.span.start..self.last_end(),
                    });
                }
                _ => {}
            }
        }
        Ok(Statement::Expr(self.pipe()?))
    }

    fn let_statement(&mut self) -> PResult<Statement> {
        let start = self.bump().span.start;
        let name = self.name("a name after `let`")?;
        self.expect("=")?;
        let value = if self.at_word("view") && self.peek_at(1).is_some_and(|t| t.is("(")) {
            self.pos += 1;
            self.function(true)?
        } else if self.at("(") && self.is_function_start() {
            self.function(false)?
        } else {
            LetValue::Expr(self.pipe()?)
        };
        Ok(Statement::Let {
            name,
            value,
            span: start..self.last_end(),
        })
    }

    /// At `(`: whether a function's parameter list follows (`()` then `{`, or
    /// `(name:` ...).
    fn is_function_start(&self) -> bool {
        match (self.peek_at(1), self.peek_at(2)) {
            (Some(a), Some(b)) if a.is(")") => b.is("{"),
            (Some(a), Some(b)) => (a.kind == Tok::Word || a.is("[")) && (b.is(":") || a.is("[")),
            _ => false,
        }
    }

    fn function(&mut self, view: bool) -> PResult<LetValue> {
        let start = self.expect("(")?.span.start;
        let mut params = Vec::new();
        if !self.at(")") {
            loop {
                let name = self.name("a parameter name")?;
                self.expect(":")?;
                let ty = self.type_ref()?;
                let default = if self.eat("=") { Some(self.expr()?) } else { None };
                params.push(Param { name, ty, default });
                if !self.eat(",") {
                    break;
                }
            }
        }
        self.expect(")")?;
        self.expect("{")?;
        self.enter()?;
        let body = self.statements(Some("}"))?;
        self.leave();
        let end = self.expect("}")?.span.end;
        Ok(LetValue::Function {
            params,
            body,
            view,
            span: start..end,
        })
    }

    /// A type: a scalar type name, or a tabular schema `(*)`, `(x:string, *)`.
    fn type_ref(&mut self) -> PResult<Span> {
        if self.at("(") {
            let start = self.bump().span.start;
            loop {
                if !self.eat("*") {
                    self.name("a column name")?;
                    self.expect(":")?;
                    self.type_ref()?;
                }
                if !self.eat(",") {
                    break;
                }
            }
            let end = self.expect(")")?.span.end;
            return Ok(start..end);
        }
        match self.peek() {
            Some(t) if t.kind == Tok::Word => Ok(self.bump().span),
            _ => Err(self.expected("a type")),
        }
    }

    // ---- tabular ------------------------------------------------------------------

    /// An expression followed by `| operator` stages.
    fn pipe(&mut self) -> PResult<Expr> {
        self.enter()?;
        let source = match self.peek() {
            Some(t) if t.kind == Tok::Word && SOURCE_OPERATORS.contains(&t.text) && self.source_operator_follows() => {
                Expr::Source(Box::new(self.stage()?))
            }
            _ => self.expr()?,
        };
        let mut stages = Vec::new();
        while self.eat("|") {
            let (start, depth) = (self.pos, self.depth);
            match self.stage() {
                Ok(stage) => stages.push(stage),
                Err(e) => {
                    // Read on from the next stage; this one's columns are not known.
                    self.recover(e)?;
                    self.depth = depth;
                    self.skip_stage(start);
                    let at = self.toks.get(start).map_or(self.last_end(), |t| t.span.start);
                    let span = at..self.last_end().max(at);
                    stages.push(Stage {
                        op: Ident {
                            name: String::new(),
                            span: at..at,
                        },
                        params: Vec::new(),
                        body: StageBody::Unread(span.clone()),
                        span,
                    });
                }
            }
        }
        self.leave();
        Ok(if stages.is_empty() {
            source
        } else {
            Expr::Pipe {
                source: Box::new(source),
                stages,
            }
        })
    }

    /// At a source operator's word: whether it is used as one (`union T`, `range x
    /// from`, `print x`, `datatable(`), not as a name (`print` could be a column).
    fn source_operator_follows(&self) -> bool {
        let word = self.peek().map_or("", |t| t.text);
        let next = self.peek_at(1);
        match word {
            "datatable" | "externaldata" => next.is_some_and(|t| t.is("(")),
            "range" => self.peek_at(2).is_some_and(|t| t.kind == Tok::Word && t.text == "from"),
            "evaluate" => next.is_some_and(|t| t.kind == Tok::Word),
            _ => next.is_some_and(|t| !(t.is("|") || t.is(";") || t.is(")") || t.is(","))),
        }
    }

    /// A query operator and its arguments.
    fn stage(&mut self) -> PResult<Stage> {
        let (op_tok, op) = match self.peek() {
            Some(t) if t.kind == Tok::Word && (OPERATORS.contains(&t.text) || SOURCE_OPERATORS.contains(&t.text)) => {
                let t = self.bump();
                let op = t.text;
                (t, op)
            }
            _ => {
                // A stage that starts with a condition is read as the `where` it
                // should be, a misspelt operator as the one meant: their names are
                // still checked.
                let (error, meant) = self.not_an_operator();
                let head = self.peek().cloned();
                match (meant, head) {
                    (Some(Meant::Where), Some(head)) => {
                        self.recover(error)?;
                        (head, "where")
                    }
                    (Some(Meant::Operator(op)), Some(head)) => {
                        self.recover(error)?;
                        self.pos += 1;
                        (head, op)
                    }
                    _ => return Err(error),
                }
            }
        };
        let params = self.op_params(op)?;
        let body = match op {
            "where" | "filter" => StageBody::Where(self.expr()?),
            "extend" | "project" | "print" => StageBody::Items(self.items(true)?),
            "serialize" => StageBody::Items(self.items(false)?),
            "project-away" | "project-keep" | "project-reorder" => StageBody::Names(self.name_patterns(op)?),
            "project-rename" => {
                let mut renames = Vec::new();
                loop {
                    let new = self.name("a new column name")?;
                    self.expect("=")?;
                    let old = self.name("the column to rename")?;
                    renames.push((new, old));
                    if !self.eat(",") {
                        break;
                    }
                }
                StageBody::Renames(renames)
            }
            "summarize" => {
                let aggregates = if self.at_word("by") {
                    Vec::new()
                } else {
                    self.items(false)?
                };
                let by = if self.eat_word("by") {
                    self.items(true)?
                } else {
                    Vec::new()
                };
                if aggregates.is_empty() && by.is_empty() {
                    return Err(self.expected("an aggregate or `by`"));
                }
                StageBody::Summarize { aggregates, by }
            }
            "distinct" => {
                if self.eat("*") {
                    StageBody::Nothing
                } else {
                    StageBody::Items(self.items(true)?)
                }
            }
            "count" | "getschema" | "consume" => StageBody::Nothing,
            "find" => {
                let mut tables = Vec::new();
                if self.eat_word("in") {
                    self.expect("(")?;
                    loop {
                        tables.push(self.union_operand()?);
                        if !self.eat(",") {
                            break;
                        }
                    }
                    self.expect(")")?;
                }
                self.expect_word("where")?;
                let condition = self.expr()?;
                if self.eat_word("project") {
                    self.items(true)?;
                } else {
                    self.eat_word("project-smart");
                }
                StageBody::Find { tables, condition }
            }
            "datatable" | "externaldata" => {
                let start = self.peek().map_or(self.last_end(), |t| t.span.start);
                self.type_ref()?;
                self.expect("[")?;
                while !self.at("]") {
                    self.expr()?;
                    if !self.eat(",") {
                        break;
                    }
                }
                self.expect("]")?;
                if op == "externaldata" && self.eat_word("with") {
                    self.properties()?;
                }
                StageBody::Unread(start..self.last_end())
            }
            "make-series" => {
                let start = self.peek().map_or(self.last_end(), |t| t.span.start);
                loop {
                    self.item()?;
                    if self.eat_word("default") {
                        self.expect("=")?;
                        self.expr()?;
                    }
                    if !self.eat(",") {
                        break;
                    }
                }
                self.expect_word("on")?;
                // The axis is a column (`on Timestamp in range(...)`: `in` is not a test).
                self.additive()?;
                if self.eat_word("in") {
                    self.postfix()?;
                } else {
                    for (word, required) in [("from", false), ("to", false), ("step", true)] {
                        if self.eat_word(word) {
                            self.expr()?;
                        } else if required {
                            return Err(self.expected("`step` and the series' interval"));
                        }
                    }
                }
                if self.eat_word("by") {
                    self.items(true)?;
                }
                StageBody::Unread(start..self.last_end())
            }
            "top-nested" => {
                let start = self.peek().map_or(self.last_end(), |t| t.span.start);
                loop {
                    if !self.at_word("of") {
                        self.expr()?;
                    }
                    self.expect_word("of")?;
                    self.item()?;
                    if self.eat_word("with") {
                        self.expect_word("others")?;
                        self.expect("=")?;
                        self.expr()?;
                    }
                    self.expect_word("by")?;
                    self.item()?;
                    for dir in ["asc", "desc"] {
                        self.eat_word(dir);
                    }
                    if !self.eat(",") {
                        break;
                    }
                    self.expect_word("top-nested")?;
                }
                StageBody::Unread(start..self.last_end())
            }
            "take" | "limit" | "sample" => StageBody::Count(self.expr()?),
            "top" => {
                let count = self.expr()?;
                self.expect_word("by")?;
                StageBody::Top {
                    count,
                    by: self.sort_keys()?,
                }
            }
            "sort" | "order" => {
                self.expect_word("by")?;
                StageBody::Sort(self.sort_keys()?)
            }
            "join" | "lookup" => {
                let right = self.operand()?;
                if !self.at_word("on") {
                    return Err(self.expected("`on` and the columns to join on"));
                }
                self.pos += 1;
                let mut on = vec![self.expr()?];
                while self.eat(",") {
                    on.push(self.expr()?);
                }
                StageBody::Join { right, on }
            }
            "union" => {
                let mut operands = vec![self.union_operand()?];
                while self.eat(",") {
                    operands.push(self.union_operand()?);
                }
                StageBody::Union(operands)
            }
            "mv-expand" | "mvexpand" => {
                let items = self.items(true)?;
                let limit = if self.eat_word("limit") {
                    Some(self.expr()?)
                } else {
                    None
                };
                StageBody::MvExpand { items, limit }
            }
            "mv-apply" | "mvapply" => {
                let items = self.items(true)?;
                if self.eat_word("limit") {
                    self.expr()?;
                }
                self.expect_word("on")?;
                self.expect("(")?;
                self.enter()?;
                let mut on = vec![self.stage()?];
                while self.eat("|") {
                    on.push(self.stage()?);
                }
                self.leave();
                self.expect(")")?;
                StageBody::MvApply { items, on }
            }
            "parse" | "parse-where" => {
                let source = self.expr()?;
                self.expect_word("with")?;
                StageBody::Parse {
                    source,
                    pattern: self.parse_pattern()?,
                }
            }
            "parse-kv" => {
                let source = self.expr()?;
                self.expect_word("as")?;
                self.expect("(")?;
                let mut columns = Vec::new();
                loop {
                    let name = self.name("a column name")?;
                    let ty = if self.eat(":") { Some(self.type_ref()?) } else { None };
                    columns.push((name, ty));
                    if !self.eat(",") {
                        break;
                    }
                }
                self.expect(")")?;
                if self.eat_word("with") {
                    self.properties()?;
                }
                StageBody::ParseKv { source, columns }
            }
            "evaluate" | "invoke" => {
                let call = self.postfix()?;
                if !matches!(call, Expr::Call { .. }) {
                    return Err(ParseError::Syntax(QueryError {
                        span: call.span(),
                        message: format!("`{op}` expects a call, such as `name(...)`"),
                        help: None,
                    }));
                }
                StageBody::Call(call)
            }
            "as" => StageBody::As(self.name("a name after `as`")?),
            "render" => {
                // `render chart [with (...)]`, or the older `render chart name=value ...`.
                let start = self.peek().map_or(self.last_end(), |t| t.span.start);
                self.name("a chart type, such as `timechart` or `table`")?;
                if self.eat_word("with") {
                    self.skip_group("(", ")")?;
                }
                while self.peek().is_some_and(|t| t.kind == Tok::Word) && self.peek_at(1).is_some_and(|t| t.is("=")) {
                    self.pos += 2;
                    match self.peek() {
                        Some(t) if matches!(t.kind, Tok::Word | Tok::Num | Tok::Str) => self.pos += 1,
                        _ => return Err(self.expected("a value")),
                    }
                }
                StageBody::Unread(start..self.last_end())
            }
            "range" => {
                let name = self.name("a column name")?;
                self.expect_word("from")?;
                let from = self.expr()?;
                self.expect_word("to")?;
                let to = self.expr()?;
                self.expect_word("step")?;
                let step = self.expr()?;
                StageBody::Range { name, from, to, step }
            }
            _ => {
                if self.peek().is_none() || self.at("|") {
                    // Every other operator takes arguments, except these.
                    if op != "reduce" {
                        return Err(self.expected(&format!("the arguments of `{op}`")));
                    }
                }
                StageBody::Unread(self.skip_balanced())
            }
        };
        Ok(Stage {
            op: ident(&op_tok),
            params,
            body,
            span: op_tok.span.start..self.last_end(),
        })
    }

    /// `(name = value, ...)`: the properties of `externaldata` and `parse-kv`.
    fn properties(&mut self) -> PResult<()> {
        self.expect("(")?;
        loop {
            self.name("a property name")?;
            self.expect("=")?;
            match self.peek() {
                Some(t) if matches!(t.kind, Tok::Word | Tok::Num) => self.pos += 1,
                // Adjacent strings are one.
                Some(t) if t.kind == Tok::Str => {
                    while self.peek().is_some_and(|t| t.kind == Tok::Str) {
                        self.pos += 1;
                    }
                }
                _ => return Err(self.expected("a value")),
            }
            if !self.eat(",") {
                break;
            }
        }
        self.expect(")")?;
        Ok(())
    }

    /// The error for a stage that does not start with a query operator, and what the
    /// stage probably meant.
    fn not_an_operator(&self) -> (ParseError, Option<Meant>) {
        let Some(head) = self.peek() else {
            return (
                self.expected("a query operator (`where`, `extend`, `project`, `summarize`, ...)"),
                None,
            );
        };
        let syntax =
            |span: Span, message: String, help: Option<String>| ParseError::Syntax(QueryError { span, message, help });
        if head.is("|") || head.is(";") || head.is(")") {
            let at = self.last_end();
            return (
                syntax(at..at + 1, "a query operator is expected after `|`".into(), None),
                None,
            );
        }
        let compares = self.peek_at(1).is_some_and(|t| {
            (t.kind == Tok::Punct && PUNCT_COMPARISONS.contains(&t.text))
                || (t.kind == Tok::Word && WORD_OPERATORS.contains(&t.text))
        });
        if compares {
            // The stage's text, to say how it should read.
            let mut words = Vec::new();
            let mut depth = 0usize;
            for t in &self.toks[self.pos..] {
                if t.kind == Tok::Punct {
                    match t.text {
                        "(" | "[" | "{" => depth += 1,
                        ")" | "]" | "}" => depth = depth.saturating_sub(1),
                        "|" | ";" if depth == 0 => break,
                        _ => {}
                    }
                }
                words.push(t.text);
            }
            return (
                syntax(
                    head.span.clone(),
                    "a query operator is expected here: a stage cannot start with a condition".into(),
                    Some(format!("write `| where {}`", words.join(" "))),
                ),
                Some(Meant::Where),
            );
        }
        if head.kind != Tok::Word {
            return (
                self.expected("a query operator (`where`, `extend`, `project`, `summarize`, ...)"),
                None,
            );
        }
        let near = crate::schema::nearest_name(head.text, OPERATORS.iter().copied());
        let error = syntax(
            head.span.clone(),
            format!("`{}` is not a query operator", head.text),
            Some(match near {
                Some(op) => format!("did you mean `{op}`?"),
                None => "a stage starts with an operator such as `where`, `extend` or `summarize`".into(),
            }),
        );
        (error, near.map(Meant::Operator))
    }

    /// `name=value` parameters of an operator.
    fn op_params(&mut self, op: &str) -> PResult<Vec<OpParam>> {
        let mut out = Vec::new();
        while let Some(t) = self.peek().filter(|t| t.kind == Tok::Word) {
            // A dotted name: `hint.strategy`.
            let mut name = t.text.to_string();
            let mut n = 1;
            while self.peek_at(n).is_some_and(|d| d.is(".")) && self.peek_at(n + 1).is_some_and(|w| w.kind == Tok::Word)
            {
                name.push('.');
                name.push_str(self.peek_at(n + 1).map_or("", |w| w.text));
                n += 2;
            }
            if !self.peek_at(n).is_some_and(|e| e.is("=")) || !takes_param(op, &name) {
                break;
            }
            let start = t.span.start;
            self.pos += n + 1;
            let value = match self.peek() {
                Some(v) if matches!(v.kind, Tok::Word | Tok::Num | Tok::Str) => {
                    let v = self.bump();
                    match v.kind {
                        Tok::Word => Expr::Name(ident(&v)),
                        Tok::Num => Expr::Literal(Literal::new(LiteralKind::Number, v.span)),
                        _ => Expr::Literal(Literal::new(LiteralKind::String, v.span)),
                    }
                }
                _ => return Err(self.expected(&format!("a value for `{name}`"))),
            };
            out.push(OpParam {
                name,
                value,
                span: start..self.last_end(),
            });
        }
        Ok(out)
    }

    /// Items: `expr`, `Name = expr`, `(A, B) = expr`, comma-separated; at least one
    /// when `required`.
    fn items(&mut self, required: bool) -> PResult<Vec<Item>> {
        let mut out = Vec::new();
        if !required && (self.peek().is_none() || self.at("|") || self.at(")") || self.at(";") || self.at_word("by")) {
            return Ok(out);
        }
        loop {
            out.push(self.item()?);
            if !self.eat(",") {
                break;
            }
        }
        Ok(out)
    }

    fn item(&mut self) -> PResult<Item> {
        let mut names = Vec::new();
        let assigns = match (self.peek(), self.peek_at(1)) {
            // (A name may start with a digit: `extend 5x = 1`.)
            (Some(a), Some(b)) if matches!(a.kind, Tok::Word | Tok::Num) && b.is("=") => true,
            (Some(a), Some(_)) if a.is("[") => self.bracketed_name_then_eq(),
            (Some(a), Some(_)) if a.is("(") => self.tuple_then_eq(),
            _ => false,
        };
        if assigns {
            if self.eat("(") {
                loop {
                    names.push(self.name("a column name")?);
                    if !self.eat(",") {
                        break;
                    }
                }
                self.expect(")")?;
            } else if self.peek().is_some_and(|t| t.kind == Tok::Num) {
                names.push(ident(&self.bump()));
            } else {
                names.push(self.name("a column name")?);
            }
            self.expect("=")?;
        }
        let value = self.expr()?;
        let to_type = if self.eat_word("to") {
            self.expect_word("typeof")?;
            Some(self.skip_group("(", ")")?)
        } else {
            None
        };
        Ok(Item { names, value, to_type })
    }

    /// At `[`: `['name'] =`.
    fn bracketed_name_then_eq(&self) -> bool {
        matches!(
            (self.peek_at(1), self.peek_at(2), self.peek_at(3)),
            (Some(s), Some(c), Some(e)) if s.kind == Tok::Str && c.is("]") && e.is("=")
        )
    }

    /// At `(`: `(A, B) =` (names only, then `=`).
    fn tuple_then_eq(&self) -> bool {
        let mut i = 1;
        loop {
            match self.peek_at(i) {
                Some(t) if t.kind == Tok::Word => i += 1,
                _ => return false,
            }
            match self.peek_at(i) {
                Some(t) if t.is(",") => i += 1,
                Some(t) if t.is(")") => return self.peek_at(i + 1).is_some_and(|e| e.is("=")),
                _ => return false,
            }
        }
    }

    /// Column names or wildcard patterns (`Device*`), comma-separated.
    fn name_patterns(&mut self, op: &str) -> PResult<Vec<Ident>> {
        let mut out = vec![self.name_pattern(op)?];
        while self.eat(",") {
            out.push(self.name_pattern(op)?);
        }
        Ok(out)
    }

    /// A column name or a wildcard pattern (`Device*`, adjacent words and `*`).
    fn name_pattern(&mut self, op: &str) -> PResult<Ident> {
        let start = self.peek().map_or(self.last_end(), |t| t.span.start);
        let mut name = String::new();
        while let Some(t) = self.peek() {
            let adjacent = name.is_empty() || self.last_end() == t.span.start;
            if !adjacent {
                break;
            }
            if t.kind == Tok::Word || t.is("*") {
                name.push_str(t.text);
                self.pos += 1;
            } else if t.is("[") {
                name.push_str(&self.name("a column name")?.name);
            } else {
                break;
            }
        }
        if name.is_empty() {
            return Err(self.expected("a column name"));
        }
        if op == "project-reorder" {
            for dir in ["asc", "desc", "granny-asc", "granny-desc"] {
                self.eat_word(dir);
            }
        }
        Ok(Ident {
            name,
            span: start..self.last_end(),
        })
    }

    fn sort_keys(&mut self) -> PResult<Vec<SortKey>> {
        let mut out = Vec::new();
        loop {
            let value = self.expr()?;
            let descending = if self.eat_word("asc") {
                Some(false)
            } else if self.eat_word("desc") {
                Some(true)
            } else {
                None
            };
            let nulls_first = if self.eat_word("nulls") {
                if self.eat_word("first") {
                    Some(true)
                } else {
                    self.expect_word("last")?;
                    Some(false)
                }
            } else {
                None
            };
            out.push(SortKey {
                value,
                descending,
                nulls_first,
            });
            if !self.eat(",") {
                break;
            }
        }
        Ok(out)
    }

    /// The right side of `join`/`lookup`: `(query)` or a name (with calls and members).
    fn operand(&mut self) -> PResult<Expr> {
        if self.at("(") {
            let start = self.bump().span.start;
            let inner = self.pipe()?;
            let end = self.expect(")")?.span.end;
            return Ok(Expr::List {
                items: vec![inner],
                span: start..end,
            });
        }
        match self.peek() {
            Some(t) if t.kind == Tok::Word || t.is("[") => self.postfix(),
            _ => Err(self.expected("a table or a query in parentheses")),
        }
    }

    /// An operand of `union`: a query in parentheses, or a table name or pattern.
    fn union_operand(&mut self) -> PResult<Expr> {
        if self.at("(") {
            return self.operand();
        }
        match self.peek() {
            Some(t) if t.kind == Tok::Word && !self.peek_at(1).is_some_and(|n| n.is("(") || n.is(".")) => {
                Ok(Expr::Name(self.name_pattern("union")?))
            }
            Some(t) if t.kind == Tok::Word || t.is("[") => self.postfix(),
            _ => Err(self.expected("a table or a query in parentheses")),
        }
    }

    /// The pattern of `parse ... with`: strings, `*`, and `Column[:type]`.
    fn parse_pattern(&mut self) -> PResult<Vec<ParsePart>> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Some(t) if t.kind == Tok::Str => {
                    let span = self.bump().span;
                    out.push(ParsePart::Text(Expr::Literal(Literal::new(LiteralKind::String, span))))
                }
                Some(t) if t.is("*") => {
                    let span = self.bump().span;
                    out.push(ParsePart::Skip(span));
                }
                Some(t) if t.kind == Tok::Word || t.is("[") => {
                    let name = self.name("a column name")?;
                    let ty = if self.eat(":") { Some(self.type_ref()?) } else { None };
                    out.push(ParsePart::Column { name, ty });
                }
                _ => break,
            }
        }
        if out.is_empty() {
            return Err(self.expected("a pattern of strings, `*` and column names"));
        }
        // A column follows a string (or starts the pattern); a `*` is followed by a string
        // (or ends it): otherwise where one part ends and the next begins is not said.
        for (i, part) in out.iter().enumerate() {
            let before_is_text = i == 0 || matches!(out[i - 1], ParsePart::Text(_));
            let after_is_text = i + 1 == out.len() || matches!(out[i + 1], ParsePart::Text(_));
            let message = match part {
                ParsePart::Column { name, .. } if !before_is_text => Some((
                    name.span.clone(),
                    format!("the column `{}` must follow a string", name.name),
                )),
                ParsePart::Skip(span) if !after_is_text => {
                    Some((span.clone(), "a `*` must be followed by a string".to_string()))
                }
                _ => None,
            };
            if let Some((span, message)) = message {
                return Err(ParseError::Syntax(QueryError {
                    span,
                    message,
                    help: Some("the strings say where each part of the text ends".into()),
                }));
            }
        }
        Ok(out)
    }

    /// A name: an identifier or `['bracketed name']`.
    fn name(&mut self, what: &str) -> PResult<Ident> {
        match self.peek() {
            Some(t) if t.kind == Tok::Word && !t.text.starts_with('!') && !t.text.ends_with('~') => {
                let t = self.bump();
                Ok(ident(&t))
            }
            Some(t) if t.is("[") => {
                let start = t.span.start;
                match (self.peek_at(1), self.peek_at(2)) {
                    (Some(s), Some(c)) if s.kind == Tok::Str && c.is("]") => {
                        let name = unquote(s.text);
                        self.pos += 3;
                        Ok(Ident {
                            name,
                            span: start..self.last_end(),
                        })
                    }
                    _ => {
                        self.pos += 1;
                        Err(self.expected("a quoted name, such as `['Column Name']`"))
                    }
                }
            }
            _ => Err(self.expected(what)),
        }
    }

    // ---- scalar expressions -------------------------------------------------------

    fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let e = self.or();
        self.leave();
        e
    }

    fn or(&mut self) -> PResult<Expr> {
        self.logical("or", Self::and)
    }

    fn and(&mut self) -> PResult<Expr> {
        self.logical("and", Self::comparison)
    }

    /// `a and b and c` (or `or`): one flat chain, however long (a rule may `or` a
    /// hundred thousand comparisons; a tree of them would be that deep).
    fn logical(&mut self, word: &str, operand: fn(&mut Self) -> PResult<Expr>) -> PResult<Expr> {
        let first = operand(self)?;
        if !self.at_word(word) {
            return Ok(first);
        }
        let op = ident(self.peek().expect("checked: a token"));
        let mut items = vec![first];
        while self.eat_word(word) {
            items.push(operand(self)?);
        }
        Ok(Expr::Logical { op, items })
    }

    /// Counts one more operator of a left-associative chain (`a + b + ...`, `x.a.b...`,
    /// `a == b == ...`): past [`MAX_CHAIN`] the query is not read (a tree that deep
    /// is not walked).
    fn chained(&self, n: &mut usize) -> PResult<()> {
        *n += 1;
        if *n > MAX_CHAIN {
            return Err(ParseError::TooDeep);
        }
        Ok(())
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let mut lhs = self.additive()?;
        let mut n = 0;
        loop {
            self.chained(&mut n)?;
            let Some(t) = self.peek().cloned() else {
                return Ok(lhs);
            };
            let is_word_op = t.kind == Tok::Word && WORD_OPERATORS.contains(&t.text);
            let is_punct_op = t.kind == Tok::Punct && PUNCT_COMPARISONS.contains(&t.text);
            if t.kind == Tok::Word && matches!(t.text, "between" | "!between") {
                self.pos += 1;
                self.expect("(")?;
                let lo = self.additive()?;
                self.expect("..")?;
                let hi = self.additive()?;
                self.expect(")")?;
                lhs = Expr::Between {
                    op: ident(&t),
                    value: Box::new(lhs),
                    lo: Box::new(lo),
                    hi: Box::new(hi),
                };
            } else if t.kind == Tok::Word && matches!(t.text, "matches" | "!matches") {
                let start = self.bump().span.start;
                let regex = self.expect_word("regex")?;
                let rhs = self.additive()?;
                let op = Ident {
                    name: format!("{} regex", t.text),
                    span: start..regex.span.end,
                };
                lhs = binary(op, lhs, rhs);
            } else if is_word_op && LIST_OPERATORS.contains(&t.text) {
                self.pos += 1;
                let op = self.second_operator(&t);
                let rhs = if self.at("(") { self.list()? } else { self.additive()? };
                lhs = binary(op, lhs, rhs);
            } else if is_word_op || is_punct_op {
                self.pos += 1;
                let op = self.second_operator(&t);
                let rhs = self.additive()?;
                lhs = binary(op, lhs, rhs);
            } else {
                return Ok(lhs);
            }
        }
    }

    /// After the operator `first`: another one (`has_all has_any`) is an error,
    /// recorded and read as one operator of both words (which the lowering does not
    /// take for either). The operator.
    fn second_operator(&mut self, first: &Token) -> Ident {
        let Some(t) = self
            .peek()
            .filter(|t| t.kind == Tok::Word && WORD_OPERATORS.contains(&t.text))
            .cloned()
        else {
            return ident(first);
        };
        self.errors.push(QueryError {
            span: t.span.clone(),
            message: format!("two operators in a row: `{}` then `{}`", first.text, t.text),
            help: Some("keep one of them".into()),
        });
        self.pos += 1;
        Ident {
            name: format!("{} {}", first.text, t.text),
            span: first.span.start..t.span.end,
        }
    }

    fn additive(&mut self) -> PResult<Expr> {
        let mut lhs = self.multiplicative()?;
        let mut n = 0;
        while self.at("+") || self.at("-") {
            self.chained(&mut n)?;
            let op = ident(&self.bump());
            let rhs = self.multiplicative()?;
            lhs = binary(op, lhs, rhs);
        }
        Ok(lhs)
    }

    fn multiplicative(&mut self) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        let mut n = 0;
        while self.at("*") || self.at("/") || self.at("%") {
            self.chained(&mut n)?;
            let op = ident(&self.bump());
            let rhs = self.unary()?;
            lhs = binary(op, lhs, rhs);
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> PResult<Expr> {
        if self.at("-") || self.at("+") {
            let op = ident(&self.bump());
            self.enter()?;
            let operand = self.unary()?;
            self.leave();
            return Ok(Expr::Unary {
                op,
                operand: Box::new(operand),
            });
        }
        self.postfix()
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut e = self.primary()?;
        let mut n = 0;
        loop {
            self.chained(&mut n)?;
            if self.at(".") {
                self.pos += 1;
                let member = match self.peek() {
                    Some(t) if t.kind == Tok::Word => ident(&self.bump()),
                    // `x.['name']`, `x.[1]`: an index written after a dot.
                    Some(t) if t.is("[") => {
                        let start = e.span().start;
                        self.pos += 1;
                        let index = self.expr()?;
                        let end = self.expect("]")?.span.end;
                        e = Expr::Index {
                            object: Box::new(e),
                            index: Box::new(index),
                            span: start..end,
                        };
                        continue;
                    }
                    _ => return Err(self.expected("a member name after `.`")),
                };
                e = Expr::Member {
                    object: Box::new(e),
                    member,
                };
            } else if self.at("[") {
                let start = e.span().start;
                self.pos += 1;
                let index = self.expr()?;
                let end = self.expect("]")?.span.end;
                e = Expr::Index {
                    object: Box::new(e),
                    index: Box::new(index),
                    span: start..end,
                };
            } else if self.at("(") && matches!(e, Expr::Name(_) | Expr::Member { .. }) {
                let start = e.span().start;
                let args = self.args()?;
                e = Expr::Call {
                    callee: Box::new(e),
                    args,
                    span: start..self.last_end(),
                };
            } else {
                return Ok(e);
            }
        }
    }

    /// `(args)` of a call: positional, `name = value`, `*`, or queries.
    fn args(&mut self) -> PResult<Vec<Arg>> {
        self.expect("(")?;
        let mut out = Vec::new();
        if self.eat(")") {
            return Ok(out);
        }
        self.enter()?;
        loop {
            let name = match (self.peek(), self.peek_at(1)) {
                // (Kusto takes a name that starts with a digit here: `bin(5Min=T, 5m)`.)
                (Some(a), Some(b)) if matches!(a.kind, Tok::Word | Tok::Num) && b.is("=") => {
                    let n = ident(&self.bump());
                    self.pos += 1;
                    Some(n)
                }
                _ => None,
            };
            let value = if self.at("*") && self.peek_at(1).is_some_and(|t| t.is(",") || t.is(")")) {
                Expr::Star(self.bump().span)
            } else {
                self.pipe()?
            };
            out.push(Arg { name, value });
            if !self.eat(",") || self.trailing_comma() {
                break;
            }
        }
        self.leave();
        self.expect(")")?;
        Ok(out)
    }

    /// `(a, b, ...)`: the right side of `in` and `has_any`, or a parenthesised
    /// expression; items may be queries.
    fn list(&mut self) -> PResult<Expr> {
        let start = self.expect("(")?.span.start;
        self.enter()?;
        let mut items = vec![self.pipe()?];
        while self.eat(",") {
            if self.trailing_comma() {
                break;
            }
            items.push(self.pipe()?);
        }
        self.leave();
        let end = self.expect(")")?.span.end;
        Ok(Expr::List {
            items,
            span: start..end,
        })
    }

    fn primary(&mut self) -> PResult<Expr> {
        let Some(t) = self.peek().cloned() else {
            return Err(self.expected("an expression"));
        };
        match t.kind {
            Tok::Str => {
                self.pos += 1;
                // Adjacent strings are one.
                while self.peek().is_some_and(|n| n.kind == Tok::Str) {
                    self.pos += 1;
                }
                Ok(Expr::Literal(Literal::new(
                    LiteralKind::String,
                    t.span.start..self.last_end(),
                )))
            }
            Tok::Num => {
                self.pos += 1;
                let kind = if is_timespan(t.text) {
                    LiteralKind::Timespan
                } else {
                    LiteralKind::Number
                };
                Ok(Expr::Literal(Literal::new(kind, t.span)))
            }
            Tok::Word if matches!(t.text, "true" | "false") => {
                self.pos += 1;
                Ok(Expr::Literal(Literal::new(LiteralKind::Bool, t.span)))
            }
            Tok::Word if LITERAL_CALLS.contains(&t.text) && self.peek_at(1).is_some_and(|n| n.is("(")) => {
                self.pos += 1;
                let group = self.skip_group("(", ")")?;
                let mut literal = Literal::new(LiteralKind::Typed, t.span.start..group.end);
                if t.text == "dynamic" {
                    literal.elements = self.check_json(group.clone())?;
                }
                Ok(Expr::Literal(literal))
            }
            Tok::Word if is_reserved(t.text) => Err(self.expected("an expression")),
            Tok::Word if t.text.starts_with('!') || t.text.ends_with('~') => Err(self.expected("an expression")),
            // `$left.Column`, `$right.Column` (in `join ... on`); no other name has a `$`.
            Tok::Word
                if t.text.starts_with('$')
                    && !(matches!(t.text, "$left" | "$right") && self.peek_at(1).is_some_and(|n| n.is("."))) =>
            {
                Err(self.expected("an expression (`$left.Column` or `$right.Column`)"))
            }
            Tok::Word => {
                self.pos += 1;
                Ok(Expr::Name(ident(&t)))
            }
            Tok::Punct if t.is("(") => {
                // A parenthesised expression (or query): one item; a list `(a, b)` is
                // only the right side of `in` and `has_any`.
                let start = self.bump().span.start;
                let inner = self.pipe()?;
                let end = self.expect(")")?.span.end;
                Ok(Expr::List {
                    items: vec![inner],
                    span: start..end,
                })
            }
            Tok::Punct if t.is("[") => Ok(Expr::Name(self.name("a quoted name")?)),
            Tok::Punct
                if t.is("*")
                    && self
                        .peek_at(1)
                        .is_some_and(|n| n.kind == Tok::Word && WORD_OPERATORS.contains(&n.text)) =>
            {
                self.pos += 1;
                Ok(Expr::Star(t.span))
            }
            _ => Err(self.expected("an expression")),
        }
    }

    /// The inside of `dynamic(...)`: a JSON value (with KQL literals allowed as values).
    /// For an array of scalars, each element's span.
    fn check_json(&mut self, group: Span) -> PResult<Option<Vec<Span>>> {
        // Re-reading the group's own tokens: find them by span.
        let from = self.toks.partition_point(|t| t.span.start <= group.start);
        let to = self.toks.partition_point(|t| t.span.end < group.end);
        let inner: Vec<Token<'q>> = self.toks[from..to].to_vec();
        let mut j = Json { toks: &inner, pos: 0 };
        let ok = inner.is_empty() || (j.value(0) && j.pos == inner.len());
        if ok {
            return Ok(scalar_elements(&inner));
        }
        let at = inner.get(j.pos).map_or(group.end - 1..group.end, |t| t.span.clone());
        let found = inner.get(j.pos).map_or(")", |t| t.text);
        Err(ParseError::Syntax(QueryError {
            span: at,
            message: format!("expected a JSON value in `dynamic(...)`, found `{found}`"),
            help: Some("`dynamic` takes a JSON literal: `[\"a\", \"b\"]`, `{\"k\": 1}`, `null`".into()),
        }))
    }
}

/// The elements of a JSON array of scalars (checked by [`Json`]): the span of each,
/// from its first token to its last; `None` for another value.
fn scalar_elements(toks: &[Token]) -> Option<Vec<Span>> {
    let [open, inside @ .., close] = toks else {
        return None;
    };
    if !open.is("[") || !close.is("]") {
        return None;
    }
    if inside.is_empty() {
        return Some(Vec::new());
    }
    let mut depth = 0usize;
    let mut elements = Vec::new();
    let mut start: Option<&Token> = None;
    let mut last: Option<&Token> = None;
    for t in inside.iter().chain(std::iter::once(close)) {
        if t.is("[") || t.is("{") {
            return None;
        }
        if depth == 0 && (t.is(",") || std::ptr::eq(t, close)) {
            elements.push(start?.span.start..last?.span.end);
            (start, last) = (None, None);
            continue;
        }
        if t.is("(") {
            depth += 1;
        } else if t.is(")") {
            depth = depth.saturating_sub(1);
        }
        start.get_or_insert(t);
        last = Some(t);
    }
    Some(elements)
}

/// A JSON value in tokens (the literal of `dynamic(...)`).
struct Json<'t, 'q> {
    toks: &'t [Token<'q>],
    pos: usize,
}

impl Json<'_, '_> {
    fn at(&self, p: &str) -> bool {
        self.toks.get(self.pos).is_some_and(|t| t.is(p))
    }

    fn value(&mut self, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let Some(t) = self.toks.get(self.pos) else {
            return false;
        };
        match t.kind {
            Tok::Str => {
                // Adjacent strings are one, in a dynamic as anywhere.
                while self.toks.get(self.pos).is_some_and(|n| n.kind == Tok::Str) {
                    self.pos += 1;
                }
                true
            }
            Tok::Num => {
                self.pos += 1;
                true
            }
            Tok::Word if LITERAL_CALLS.contains(&t.text) && self.toks.get(self.pos + 1).is_some_and(|n| n.is("(")) => {
                // `datetime(...)` and other typed literals inside a dynamic.
                self.pos += 2;
                let mut depth = 1;
                while let Some(n) = self.toks.get(self.pos) {
                    self.pos += 1;
                    if n.is("(") {
                        depth += 1;
                    } else if n.is(")") {
                        depth -= 1;
                        if depth == 0 {
                            return true;
                        }
                    }
                }
                false
            }
            Tok::Word => {
                self.pos += 1;
                matches!(t.text, "null" | "true" | "false")
            }
            Tok::Punct if t.is("-") || t.is("+") => {
                self.pos += 1;
                self.toks.get(self.pos).is_some_and(|n| n.kind == Tok::Num) && {
                    self.pos += 1;
                    true
                }
            }
            Tok::Punct if t.is("[") || t.is("{") => {
                let object = t.is("{");
                let close = if object { "}" } else { "]" };
                self.pos += 1;
                if self.at(close) {
                    self.pos += 1;
                    return true;
                }
                loop {
                    if object {
                        if !self.toks.get(self.pos).is_some_and(|k| k.kind == Tok::Str) {
                            return false;
                        }
                        self.pos += 1;
                        if !self.at(":") {
                            return false;
                        }
                        self.pos += 1;
                    }
                    if !self.value(depth + 1) {
                        return false;
                    }
                    if self.at(",") {
                        self.pos += 1;
                        continue;
                    }
                    if self.at(close) {
                        self.pos += 1;
                        return true;
                    }
                    return false;
                }
            }
            _ => false,
        }
    }
}

/// `AND`, `Or`, `CONTAINS`: a keyword or operator written in another case.
fn is_upper_case_keyword(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    lower != word && (matches!(lower.as_str(), "and" | "or" | "not" | "by") || WORD_OPERATORS.contains(&lower.as_str()))
}

/// Words that cannot start an expression: operators, and the keywords Kusto reserves
/// (a column with such a name is written `['desc']`).
fn is_reserved(word: &str) -> bool {
    matches!(
        word,
        "and"
            | "or"
            | "by"
            | "on"
            | "between"
            | "!between"
            | "matches"
            | "!matches"
            | "asc"
            | "desc"
            | "of"
            | "to"
            | "where"
            | "project"
            | "first"
            | "last"
            | "title"
            | "print"
            | "union"
            | "set"
            | "as"
            | "sample"
            | "search"
            | "find"
            | "invoke"
    ) || WORD_OPERATORS.contains(&word)
}

/// Whether a number token is a timespan (`7d`, `1.5h`, `30min`, `100ms`).
fn is_timespan(text: &str) -> bool {
    if text.starts_with("0x") || text.starts_with("0X") {
        return false;
    }
    let unit = text.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
    matches!(
        unit,
        "d" | "day"
            | "days"
            | "h"
            | "hr"
            | "hrs"
            | "hour"
            | "hours"
            | "m"
            | "min"
            | "minute"
            | "minutes"
            | "s"
            | "sec"
            | "second"
            | "seconds"
            | "ms"
            | "milli"
            | "millis"
            | "millisecond"
            | "milliseconds"
            | "microsecond"
            | "microseconds"
            | "tick"
            | "ticks"
    )
}

fn ident(t: &Token) -> Ident {
    Ident {
        name: t.text.to_string(),
        span: t.span.clone(),
    }
}

fn binary(op: Ident, lhs: Expr, rhs: Expr) -> Expr {
    Expr::Binary {
        op,
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
    }
}

/// The text of a string literal token without its quotes (escapes not decoded: a
/// bracketed name holds none in practice).
fn unquote(text: &str) -> String {
    let t = text.trim_start_matches(['h', 'H', '@']);
    t.get(1..t.len().saturating_sub(1)).unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(q: &str) -> Option<String> {
        match parse(q) {
            Ok(p) => p.errors.into_iter().next().map(|e| e.message),
            Err(TooDeep) => Some("too deep".into()),
        }
    }

    #[test]
    fn valid_queries_parse() {
        for q in [
            "DeviceProcessEvents | where FileName =~ \"powershell.exe\" and ProcessCommandLine has_any (\"-enc\", 'iex')",
            "let x = dynamic([\"a\", {\"b\": [1, -2.5, null]}]);\nDeviceProcessEvents | where FileName in~ (x)",
            "let f = (T:(FileName:string), n:long = 5) { T | take n };\nf(DeviceProcessEvents)",
            "let v = view () { DeviceEvents };\nv | summarize count() by bin(Timestamp, 1h), DeviceName",
            "DeviceEvents | where Timestamp between (ago(7d) .. now()) | extend (a, b) = f(1, 2)",
            "DeviceEvents | summarize arg_max(Timestamp, *) by DeviceId | top 10 by Timestamp desc nulls last",
            "DeviceEvents | join kind=inner hint.strategy=shuffle (DeviceInfo | where OSPlatform == 'x') on $left.DeviceId == $right.DeviceId, DeviceName",
            "union isfuzzy=true withsource=T Device*, (DeviceEvents | take 1) | project-away Init*, Report*",
            "DeviceEvents | mv-expand with_itemindex=i x = split(A, ',') to typeof(string) limit 10",
            "DeviceEvents | mv-apply x = AdditionalFields on (where x > 1 | summarize count())",
            "DeviceEvents | parse kind=regex flags=Ui AdditionalFields with * '\"a\":' A:long ',' *",
            "DeviceEvents | parse-kv AdditionalFields as (a:string, b:long) with (pair_delimiter=',', kv_delimiter='=')",
            "DeviceEvents | evaluate bag_unpack(AdditionalFields, OutputColumnPrefix='x_') | render timechart",
            "DeviceEvents | render timechart with (title='x', ycolumns=a, b) | render barchart kind=stacked title='t'",
            "datatable(a:string, b:long)['x', 1, 'y', 2] | where a == 'x'",
            "range x from 1 to 10 step 1 | extend y = x * 2 % 3 - -1",
            "print a = datetime(2024-01-01 10:00:00), b = timespan(1.00:00:00), c = typeof(long)",
            "DeviceEvents | where * has 'mimikatz' | where AdditionalFields.Name['x'][0] == 1 and A.[1].ID == 2",
            "set query_now = datetime(2024-01-01);\nDeviceEvents | take 1;",
            "DeviceEvents | where FileName matches regex @'^a\\d+$' and not(isempty(FileName))",
            "DeviceEvents | project ['Column Name'] = FileName, T = toscalar(DeviceInfo | count)",
            "DeviceEvents | where A !in ((DeviceInfo | project DeviceId)) | sort by A asc, B",
            "DeviceEvents | make-series count() on Timestamp from ago(1d) to now() step 1h by DeviceId",
            "DeviceEvents | make-series c = count() default = 0 on Timestamp in range(ago(1d), now(), 1h)",
            "DeviceEvents | top-nested 3 of DeviceName by count(), top-nested 2 of F with others = 'o' by x = max(T) desc",
            "find withsource=T in (DeviceEvents, Device*) where FileName == 'a' project FileName",
            "externaldata(a:string)[@'https://x', h'https://y'] with (format='csv', ignoreFirstRecord=true)",
            "datatable(a:string, b:long)['x', -1, 'y', long(null),] | parse a with * 'x' B:long",
            "DeviceEvents | summarize by DeviceId | distinct DeviceId | count | as hint.materialized=true T",
            "DeviceEvents | where x == 'a' 'b' | project-rename New = Old, ['N 2'] = ['O 2'] | project-reorder A desc",
        ] {
            assert_eq!(error(q), None, "{q}");
        }
    }

    #[test]
    fn syntax_errors_are_found_where_they_are() {
        for (q, message) in [
            (
                "DeviceEvents | where FileName ~ \"powershell.exe\"",
                "expected `;` between statements, or `|` before a query operator, found `~`",
            ),
            (
                "DeviceEvents | where Timestamp > ago(",
                "the query ends here; expected an expression",
            ),
            ("DeviceEvents | project , FileName", "expected an expression, found `,`"),
            (
                "DeviceEvents | where X =~ \n and Y has 'x'",
                "expected an expression, found `and`",
            ),
            (
                "DeviceEvents where X == 1",
                "expected `;` between statements, or `|` before a query operator, found `where`",
            ),
            (
                "DeviceProcéssEvents | take 1",
                "unexpected character `é` (U+00E9); expected `;` between statements, or `|` before a query operator",
            ),
            (
                "DeviceEvents ｜ take 1",
                "unexpected character `｜` (U+FF5C); expected `;` between statements, or `|` before a query operator",
            ),
            (
                "DeviceEvents | where X AND Y",
                "`AND` is not KQL: its keywords and operators are lower case",
            ),
            (
                "DeviceEvents | join (DeviceInfo)",
                "the query ends here; expected `on` and the columns to join on",
            ),
            (
                "let x = dynamic(['a',]);\nx",
                "expected a JSON value in `dynamic(...)`, found `]`",
            ),
            (
                "let x = 1\nDeviceEvents",
                "expected `;` after the `let` statement, found `DeviceEvents`",
            ),
            ("DeviceEvents | take", "the query ends here; expected an expression"),
            (
                "let x = 1;;\nDeviceEvents",
                "expected a statement (two `;` in a row), found `;`",
            ),
            (
                "DeviceEvents | where FileName in ()",
                "expected an expression, found `)`",
            ),
            (
                "let f = (T:(:string)) { T };\nf(DeviceEvents)",
                "expected a column name, found `:`",
            ),
        ] {
            assert_eq!(error(q).as_deref(), Some(message), "{q}");
        }
    }

    /// The parser is also called on text the bracket check did not see: stray
    /// closers, empty statements and dangling operators end, with an error.
    #[test]
    fn recovery_always_moves_on() {
        for q in [
            ")",
            "}",
            "]",
            ";;;",
            "| | |",
            "let",
            "let x",
            "let x =",
            "T | where (",
            "T | ) | where x",
            "T | where x ) y | take 1",
            "let f = (a:string) { a ; ; }",
            "T | extend x = , y = | project",
            "T\nU\nV | wher x == 1 | summarize by",
            "} T | where x == 1 {",
            "T | join (U | where ) on x",
        ] {
            let parsed = parse(q).expect("not too deep");
            assert!(!parsed.errors.is_empty(), "{q}");
        }
    }

    #[test]
    fn unclosed_brackets_are_linear() {
        let q = format!("DeviceProcessEvents | where f({}", "(".repeat(24));
        assert!(error(&q).is_some());
        // Deeper than fpx checks: not an error, and no stack overflow.
        let deep = format!("DeviceEvents | where {}1{}", "(".repeat(5000), ")".repeat(5000));
        assert_eq!(parse(&deep), Err(TooDeep));
    }
}
