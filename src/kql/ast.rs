//! The syntax tree of a KQL query, as [`super::parse`] builds it: statements, tabular
//! pipelines, query operators and scalar expressions, each with its byte span in the
//! query text. It holds what was written, not what it means: names are not resolved
//! here (that is the binder's job) and nothing is lowered.

use crate::pred::Span;

/// A name as written: a plain identifier, or a bracketed one (`['Col Name']`), with the
/// name itself (quotes and brackets removed).
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A whole query: `;`-separated statements.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `let name = value`.
    Let { name: Ident, value: LetValue, span: Span },
    /// A tabular (or scalar) expression: the query's result.
    Expr(Expr),
    /// `set`, `declare`, `alias`, `pattern`, `restrict`: options that do not change
    /// which rows a query returns (their text is not read).
    Option { keyword: Ident, span: Span },
}

#[derive(Debug, Clone, PartialEq)]
pub enum LetValue {
    /// `(params) { body }`, or `view (params) { body }`.
    Function {
        params: Vec<Param>,
        body: Vec<Statement>,
        view: bool,
        span: Span,
    },
    /// A scalar or tabular expression.
    Expr(Expr),
}

/// A parameter of a `let` function: `name: type [= default]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: Ident,
    /// The type as written (`string`, `(*)`, `(x:string, *)`).
    pub ty: Span,
    pub default: Option<Expr>,
}

/// A parameter of a query operator: `kind=inner`, `hint.strategy=shuffle`.
#[derive(Debug, Clone, PartialEq)]
pub struct OpParam {
    /// The parameter's dotted name (`hint.strategy`).
    pub name: String,
    pub value: Expr,
    pub span: Span,
}

/// An item of `extend`, `project`, `summarize`, `print`, `serialize`, `mv-expand`:
/// `expr`, `Name = expr` or `(A, B) = expr`.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub names: Vec<Ident>,
    pub value: Expr,
    /// `mv-expand X to typeof(long)`: the type.
    pub to_type: Option<Span>,
}

/// `by` items of `sort`/`order`/`top`: an expression and its direction.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub value: Expr,
    pub descending: Option<bool>,
    pub nulls_first: Option<bool>,
}

/// A part of a `parse` pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsePart {
    /// A literal string the text must contain.
    Text(Expr),
    /// `*`: skip.
    Skip(Span),
    /// A column the matched text becomes, with its type.
    Column { name: Ident, ty: Option<Span> },
}

/// A query operator after `|` (or at the start of a query, for `union`, `range`,
/// `print`, `find`, `search`, `evaluate`, `datatable`, `externaldata`).
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// The operator's name (`where`, `project-away`, `mv-expand`).
    pub op: Ident,
    pub params: Vec<OpParam>,
    pub body: StageBody,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StageBody {
    /// `where`/`filter`.
    Where(Expr),
    /// `find [in (tables)] where condition [project ...]`: the tables named (none for
    /// every table) and the condition.
    Find { tables: Vec<Expr>, condition: Expr },
    /// `extend`, `project`, `print`, `serialize`.
    Items(Vec<Item>),
    /// `project-away`, `project-keep`, `project-reorder`, `distinct` of names (a
    /// wildcard pattern is one name with its `*`).
    Names(Vec<Ident>),
    /// `project-rename New = Old, ...`.
    Renames(Vec<(Ident, Ident)>),
    /// `summarize [aggregates] [by groups]`.
    Summarize { aggregates: Vec<Item>, by: Vec<Item> },
    /// `distinct *`, `count`, `getschema`, `consume`: no arguments.
    Nothing,
    /// `take N`, `limit N`, `sample N`.
    Count(Expr),
    /// `top N by ...`.
    Top { count: Expr, by: Vec<SortKey> },
    /// `sort by ...`, `order by ...`.
    Sort(Vec<SortKey>),
    /// `join`, `lookup`: the right side and the `on` conditions.
    Join { right: Expr, on: Vec<Expr> },
    /// `union`: its operands (table names, patterns, queries in parentheses).
    Union(Vec<Expr>),
    /// `mv-expand items [limit N]`.
    MvExpand { items: Vec<Item>, limit: Option<Expr> },
    /// `mv-apply items on (subquery)`.
    MvApply { items: Vec<Item>, on: Vec<Stage> },
    /// `parse`, `parse-where`: the text and the pattern.
    Parse { source: Expr, pattern: Vec<ParsePart> },
    /// `parse-kv expr as (columns) [with (...)]`.
    ParseKv {
        source: Expr,
        columns: Vec<(Ident, Option<Span>)>,
    },
    /// `evaluate plugin(...)`, `invoke f(...)`: the call.
    Call(Expr),
    /// `as Name`.
    As(Ident),
    /// `range x from a to b step c`.
    Range {
        name: Ident,
        from: Expr,
        to: Expr,
        step: Expr,
    },
    /// An operator whose arguments fpx does not model (`make-series`, `render`,
    /// `top-nested`, `fork`, `scan`, `datatable`, ...): balanced tokens, not read.
    Unread(Span),
}

/// A scalar or tabular expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Name(Ident),
    Literal(Literal),
    /// `*` (in `count(*)`-like arguments and `where * has ...`).
    Star(Span),
    /// `a and b and c`, `a or b or c`: a chain of one of them, flat. (`or` binds
    /// looser than `and`, so an `or` chain's items may be `and` chains; parentheses are
    /// a [`Expr::List`] of one.) `op` is the first operator word.
    Logical {
        op: Ident,
        items: Vec<Expr>,
    },
    /// `a op b`: comparisons, string operators, arithmetic.
    Binary {
        op: Ident,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `-x`, `+x`.
    Unary {
        op: Ident,
        operand: Box<Expr>,
    },
    /// `x between (lo .. hi)`, `x !between (...)`.
    Between {
        op: Ident,
        value: Box<Expr>,
        lo: Box<Expr>,
        hi: Box<Expr>,
    },
    /// `f(args)`.
    Call {
        callee: Box<Expr>,
        args: Vec<Arg>,
        span: Span,
    },
    /// `x.y`.
    Member {
        object: Box<Expr>,
        member: Ident,
    },
    /// `x[i]`.
    Index {
        object: Box<Expr>,
        index: Box<Expr>,
        span: Span,
    },
    /// `(a, b, c)`: a parenthesised expression is a list of one.
    List {
        items: Vec<Expr>,
        span: Span,
    },
    /// `source | stage | ...`.
    Pipe {
        source: Box<Expr>,
        stages: Vec<Stage>,
    },
    /// A query operator used as a source (`union ...`, `range ...`, `print ...`).
    Source(Box<Stage>),
}

/// An argument of a call: positional, or `name = value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Literal {
    pub kind: LiteralKind,
    pub span: Span,
    /// For `dynamic([...])` of scalars only (strings, numbers, booleans, typed
    /// literals): each element's span. `None` for any other literal.
    pub elements: Option<Vec<Span>>,
}

impl Literal {
    pub fn new(kind: LiteralKind, span: Span) -> Literal {
        Literal {
            kind,
            span,
            elements: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteralKind {
    /// One or more adjacent string literals.
    String,
    /// A number.
    Number,
    /// A timespan (`7d`, `1h`).
    Timespan,
    Bool,
    /// `datetime(...)`, `timespan(...)`, `guid(...)`, `dynamic(...)`, `typeof(...)`,
    /// `int(null)`, ...: a literal written as a call, its text not read further.
    Typed,
}

impl Expr {
    /// A call of a function by its name: the name and the arguments.
    pub fn called(&self) -> Option<(&str, &[Arg])> {
        match self {
            Expr::Call { callee, args, .. } => match callee.as_ref() {
                Expr::Name(n) => Some((n.name.as_str(), args)),
                _ => None,
            },
            _ => None,
        }
    }

    /// The bytes of the query the expression covers.
    pub fn span(&self) -> Span {
        match self {
            Expr::Name(i) => i.span.clone(),
            Expr::Literal(l) => l.span.clone(),
            Expr::Star(s) => s.clone(),
            Expr::Logical { items, .. } => {
                items.first().map_or(0, |e| e.span().start)..items.last().map_or(0, |e| e.span().end)
            }
            Expr::Binary { lhs, rhs, .. } => lhs.span().start..rhs.span().end,
            Expr::Unary { op, operand } => op.span.start..operand.span().end,
            Expr::Between { value, hi, .. } => value.span().start..hi.span().end + 1,
            Expr::Call { span, .. } | Expr::Index { span, .. } | Expr::List { span, .. } => span.clone(),
            Expr::Member { object, member } => object.span().start..member.span.end,
            Expr::Pipe { source, stages } => {
                source.span().start..stages.last().map_or(source.span().end, |s| s.span.end)
            }
            Expr::Source(stage) => stage.span.clone(),
        }
    }
}

impl Query {
    /// Calls `f` on every expression of the query, outer before inner, through `let`
    /// statements, function bodies, pipelines and every operator's arguments.
    pub fn visit(&self, f: &mut dyn FnMut(&Expr)) {
        visit_statements(&self.statements, f);
    }
}

fn visit_statements(statements: &[Statement], f: &mut dyn FnMut(&Expr)) {
    for s in statements {
        match s {
            Statement::Let { value, .. } => match value {
                LetValue::Function { params, body, .. } => {
                    params
                        .iter()
                        .filter_map(|p| p.default.as_ref())
                        .for_each(|e| e.visit(f));
                    visit_statements(body, f);
                }
                LetValue::Expr(e) => e.visit(f),
            },
            Statement::Expr(e) => e.visit(f),
            Statement::Option { .. } => {}
        }
    }
}

impl Expr {
    /// Calls `f` on this expression and every expression inside it, outer first.
    pub fn visit(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Name(_) | Expr::Literal(_) | Expr::Star(_) => {}
            Expr::Logical { items, .. } => items.iter().for_each(|e| e.visit(f)),
            Expr::Binary { lhs, rhs, .. } => {
                lhs.visit(f);
                rhs.visit(f);
            }
            Expr::Unary { operand, .. } => operand.visit(f),
            Expr::Between { value, lo, hi, .. } => {
                for e in [value, lo, hi] {
                    e.visit(f);
                }
            }
            Expr::Call { callee, args, .. } => {
                callee.visit(f);
                args.iter().for_each(|a| a.value.visit(f));
            }
            Expr::Member { object, .. } => object.visit(f),
            Expr::Index { object, index, .. } => {
                object.visit(f);
                index.visit(f);
            }
            Expr::List { items, .. } => items.iter().for_each(|e| e.visit(f)),
            Expr::Pipe { source, stages } => {
                source.visit(f);
                stages.iter().for_each(|s| s.visit(f));
            }
            Expr::Source(stage) => stage.visit(f),
        }
    }
}

impl Stage {
    /// Calls `f` on every expression of the operator's parameters and arguments.
    pub fn visit(&self, f: &mut dyn FnMut(&Expr)) {
        self.params.iter().for_each(|p| p.value.visit(f));
        let items = |items: &[Item], f: &mut dyn FnMut(&Expr)| items.iter().for_each(|i| i.value.visit(f));
        match &self.body {
            StageBody::Where(e) | StageBody::Count(e) | StageBody::Call(e) => e.visit(f),
            StageBody::Find { tables, condition } => {
                tables.iter().for_each(|t| t.visit(f));
                condition.visit(f);
            }
            StageBody::Items(list) => items(list, f),
            StageBody::Summarize { aggregates, by } => {
                items(aggregates, f);
                items(by, f);
            }
            StageBody::Top { count, by } => {
                count.visit(f);
                by.iter().for_each(|k| k.value.visit(f));
            }
            StageBody::Sort(keys) => keys.iter().for_each(|k| k.value.visit(f)),
            StageBody::Join { right, on } => {
                right.visit(f);
                on.iter().for_each(|e| e.visit(f));
            }
            StageBody::Union(operands) => operands.iter().for_each(|e| e.visit(f)),
            StageBody::MvExpand { items: list, limit } => {
                items(list, f);
                if let Some(limit) = limit {
                    limit.visit(f);
                }
            }
            StageBody::MvApply { items: list, on } => {
                items(list, f);
                on.iter().for_each(|s| s.visit(f));
            }
            StageBody::Parse { source, pattern } => {
                source.visit(f);
                for part in pattern {
                    if let ParsePart::Text(e) = part {
                        e.visit(f);
                    }
                }
            }
            StageBody::ParseKv { source, .. } => source.visit(f),
            StageBody::Range { from, to, step, .. } => {
                for e in [from, to, step] {
                    e.visit(f);
                }
            }
            StageBody::Names(_)
            | StageBody::Renames(_)
            | StageBody::Nothing
            | StageBody::As(_)
            | StageBody::Unread(_) => {}
        }
    }
}

/// The name KQL gives the column of an unnamed expression, where it is certain: a
/// column is its own name, an unnamed aggregate `count()` is `count_`, `dcount(X)`
/// `dcount_X`, `make_set(X)` `set_X` (likewise `min`, `max`, `sum`, `avg`, `make_list`).
/// One function for the binder (which columns a stage makes) and the lowering (the
/// query's output columns).
pub fn default_column_name(e: &Expr) -> Option<String> {
    let plain = |e: &Expr| match e {
        Expr::Name(n) if n.span.len() == n.name.len() => Some(n.name.clone()),
        _ => None,
    };
    if let Some(name) = plain(e) {
        return Some(name);
    }
    match e.called()? {
        ("count", []) => Some("count_".into()),
        (f, [arg]) if arg.name.is_none() => {
            let column = plain(&arg.value)?;
            let prefix = match f {
                "dcount" | "min" | "max" | "sum" | "avg" => f,
                "make_set" | "makeset" => "set",
                "make_list" | "makelist" => "list",
                _ => return None,
            };
            Some(format!("{prefix}_{column}"))
        }
        _ => None,
    }
}
