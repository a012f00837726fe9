//! Function calls, checked on the syntax tree the way Kusto.Language checks them: a
//! call names a built-in function ([`super::catalog`]) or a `let` function, with as many
//! arguments as it takes; an aggregate (`count()`, `max(X)`) is called only where rows
//! are aggregated (`summarize`), and there every column is read inside one
//! (`summarize X = FileName` is an error, `summarize X = any(FileName)` is not).
//!
//! One-sided like the rest of FPX403: a call whose callee fpx cannot name (a member,
//! `invoke`) is left alone.

use super::ast::*;
use super::catalog::{FUNCTIONS, Function, Kind};
use crate::model::QueryError;
use crate::schema::nearest_name;

/// Calls that are not functions of the catalog but part of the language.
const SPECIAL: &[&str] = &[
    "toscalar",
    "materialize",
    "table",
    "database",
    "cluster",
    "external_table",
    "materialized_view",
    "stored_query_result",
    "view",
    "entity_group",
];

/// The catalog's entries for `name`.
fn builtin(name: &str) -> &'static [Function] {
    let from = FUNCTIONS.partition_point(|f| f.name < name);
    let to = FUNCTIONS.partition_point(|f| f.name <= name);
    &FUNCTIONS[from..to]
}

/// What a `let` name is, for calls.
#[derive(Debug, Clone)]
enum Bound {
    /// A function: how many arguments it takes.
    Function { min: usize, max: usize },
    /// A query (a tabular expression): it cannot be called.
    Query,
    /// A scalar, a function parameter, or anything else.
    Other,
}

/// Every call error in `query`.
pub fn check(query: &Query) -> Vec<QueryError> {
    let mut c = Calls {
        scope: Vec::new(),
        errors: Vec::new(),
    };
    c.statements(&query.statements);
    c.errors
}

struct Calls {
    /// `let` names and function parameters in scope, innermost last.
    scope: Vec<(String, Bound)>,
    errors: Vec<QueryError>,
}

/// Where an expression is.
#[derive(Debug, Clone, Copy)]
struct Ctx {
    /// Aggregates may be called (an aggregate item of `summarize`).
    aggregates: bool,
    /// Columns must be read inside an aggregate (an aggregate item of `summarize`,
    /// outside any aggregate call).
    needs_aggregate: bool,
    /// No columns are in scope (the value of a scalar `let`): a name is a `let`, a
    /// table or an error.
    no_columns: bool,
}

const PLAIN: Ctx = Ctx {
    aggregates: false,
    needs_aggregate: false,
    no_columns: false,
};

impl Calls {
    fn bound(&self, name: &str) -> Option<&Bound> {
        self.scope.iter().rev().find(|(n, _)| n == name).map(|(_, b)| b)
    }

    fn error(&mut self, span: crate::pred::Span, message: String, help: Option<String>) {
        self.errors.push(QueryError { span, message, help });
    }

    fn statements(&mut self, statements: &[Statement]) {
        let depth = self.scope.len();
        for s in statements {
            match s {
                Statement::Let { name, value, .. } => {
                    let bound = match value {
                        LetValue::Function { params, body, .. } => {
                            let inner = self.scope.len();
                            for p in params {
                                if let Some(d) = &p.default {
                                    self.expr(d, PLAIN);
                                }
                                self.scope.push((p.name.name.clone(), Bound::Other));
                            }
                            self.statements(body);
                            self.scope.truncate(inner);
                            Bound::Function {
                                min: params.iter().filter(|p| p.default.is_none()).count(),
                                max: params.len(),
                            }
                        }
                        LetValue::Expr(e) => {
                            self.expr(
                                e,
                                Ctx {
                                    no_columns: true,
                                    ..PLAIN
                                },
                            );
                            match e {
                                Expr::Pipe { .. } | Expr::Source(_) => Bound::Query,
                                _ => Bound::Other,
                            }
                        }
                    };
                    self.scope.push((name.name.clone(), bound));
                }
                Statement::Expr(e) => self.expr(e, PLAIN),
                Statement::Option { .. } => {}
            }
        }
        self.scope.truncate(depth);
    }

    fn stages(&mut self, stages: &[Stage]) {
        for stage in stages {
            self.stage(stage);
        }
    }

    fn stage(&mut self, stage: &Stage) {
        match &stage.body {
            StageBody::Where(e) | StageBody::Count(e) | StageBody::Find { condition: e, .. } => self.expr(e, PLAIN),
            StageBody::Items(items) => self.items(items, PLAIN),
            StageBody::Summarize { aggregates, by } => {
                self.items(
                    aggregates,
                    Ctx {
                        aggregates: true,
                        needs_aggregate: true,
                        no_columns: false,
                    },
                );
                self.items(by, PLAIN);
            }
            StageBody::Top { count, by } => {
                self.expr(count, PLAIN);
                for k in by {
                    self.expr(&k.value, PLAIN);
                }
            }
            StageBody::Sort(keys) => {
                for k in keys {
                    self.expr(&k.value, PLAIN);
                }
            }
            StageBody::Join { right, on } => {
                self.expr(right, PLAIN);
                for e in on {
                    self.expr(e, PLAIN);
                }
            }
            StageBody::Union(operands) => {
                for e in operands {
                    self.expr(e, PLAIN);
                }
            }
            StageBody::MvExpand { items, limit } => {
                self.items(items, PLAIN);
                if let Some(l) = limit {
                    self.expr(l, PLAIN);
                }
            }
            StageBody::MvApply { items, on } => {
                self.items(items, PLAIN);
                self.stages(on);
            }
            StageBody::Parse { source, .. } | StageBody::ParseKv { source, .. } => self.expr(source, PLAIN),
            StageBody::Call(call) if stage.op.name == "evaluate" => self.plugin(call),
            StageBody::Call(Expr::Call { args, .. }) => self.args(args, PLAIN),
            StageBody::Range { from, to, step, .. } => {
                for e in [from, to, step] {
                    self.expr(e, PLAIN);
                }
            }
            StageBody::Call(_)
            | StageBody::Names(_)
            | StageBody::Renames(_)
            | StageBody::Nothing
            | StageBody::As(_)
            | StageBody::Unread(_) => {}
        }
    }

    fn items(&mut self, items: &[Item], ctx: Ctx) {
        for item in items {
            self.expr(&item.value, ctx);
        }
    }

    fn args(&mut self, args: &[Arg], ctx: Ctx) {
        for a in args {
            self.expr(&a.value, ctx);
        }
    }

    /// `evaluate plugin(...)`: a plugin Kusto knows, with its arguments.
    fn plugin(&mut self, call: &Expr) {
        let Expr::Call { callee, args, span } = call else {
            return;
        };
        self.args(args, PLAIN);
        let Expr::Name(name) = callee.as_ref() else {
            return;
        };
        match builtin(&name.name).iter().find(|f| f.kind == Kind::Plugin) {
            Some(f) => self.arity(
                &name.name,
                f.min_args.into(),
                f.max_args.into(),
                args.len(),
                span.clone(),
            ),
            None => {
                let plugins = FUNCTIONS.iter().filter(|f| f.kind == Kind::Plugin).map(|f| f.name);
                let help = nearest_name(&name.name, plugins).map(|p| format!("did you mean `{p}`?"));
                self.error(
                    name.span.clone(),
                    format!("`{}` is not a plugin `evaluate` can run", name.name),
                    help,
                );
            }
        }
    }

    fn arity(&mut self, name: &str, min: usize, max: usize, given: usize, span: crate::pred::Span) {
        if (min..=max).contains(&given) {
            return;
        }
        let expects = match (min, max) {
            (a, b) if a == b => format!("{a} argument{}", if a == 1 { "" } else { "s" }),
            (a, b) if b >= 64 => format!("at least {a} arguments"),
            (a, b) => format!("{a} to {b} arguments"),
        };
        self.error(span, format!("`{name}` takes {expects}, not {given}"), None);
    }

    fn expr(&mut self, e: &Expr, ctx: Ctx) {
        match e {
            Expr::Name(n) => {
                let function = builtin(&n.name).iter().any(|f| f.kind == Kind::Scalar);
                if ctx.no_columns && function && self.bound(&n.name).is_none() {
                    self.error(
                        n.span.clone(),
                        format!("`{}` is a function: it is called with its arguments", n.name),
                        Some(format!("write `{}()`", n.name)),
                    );
                }
                if ctx.needs_aggregate && self.bound(&n.name).is_none() {
                    self.error(
                        n.span.clone(),
                        format!(
                            "`{}` is read outside an aggregate: each `summarize` item is an aggregate such as `any({0})` or `count()`",
                            n.name
                        ),
                        Some(format!("group by it (`by {}`) or aggregate it (`take_any({0})`)", n.name)),
                    );
                }
            }
            Expr::Literal(_) | Expr::Star(_) => {}
            Expr::Logical { items, .. } => items.iter().for_each(|e| self.expr(e, ctx)),
            Expr::Binary { lhs, rhs, .. } => {
                self.expr(lhs, ctx);
                self.expr(rhs, ctx);
            }
            Expr::Unary { operand, .. } => self.expr(operand, ctx),
            Expr::Between { value, lo, hi, .. } => {
                for e in [value, lo, hi] {
                    self.expr(e, ctx);
                }
            }
            Expr::Member { object, .. } => self.expr(object, ctx),
            Expr::Index { object, index, .. } => {
                self.expr(object, ctx);
                self.expr(index, ctx);
            }
            Expr::List { items, .. } => {
                for i in items {
                    self.expr(i, ctx);
                }
            }
            Expr::Pipe { source, stages } => {
                self.expr(source, PLAIN);
                self.stages(stages);
            }
            Expr::Source(stage) => self.stage(stage),
            Expr::Call { callee, args, span } => self.call(callee, args, span.clone(), ctx),
        }
    }

    fn call(&mut self, callee: &Expr, args: &[Arg], span: crate::pred::Span, ctx: Ctx) {
        let Expr::Name(name) = callee else {
            self.expr(callee, ctx);
            self.args(args, ctx);
            return;
        };
        let n = name.name.as_str();
        match self.bound(n).cloned() {
            Some(Bound::Function { min, max }) => {
                self.arity(n, min, max, args.len(), span);
                self.args(args, PLAIN);
                return;
            }
            Some(Bound::Query) => {
                self.error(
                    name.span.clone(),
                    format!("`{n}` is a query, not a function: it is read without `()`"),
                    Some(format!("write `{n}`")),
                );
                return;
            }
            Some(Bound::Other) => {
                self.args(args, ctx);
                return;
            }
            None => {}
        }
        if SPECIAL.contains(&n) {
            self.args(args, PLAIN);
            return;
        }
        let entries = builtin(n);
        let scalar = entries.iter().find(|f| f.kind == Kind::Scalar);
        let aggregate = entries.iter().find(|f| f.kind == Kind::Aggregate);
        match (scalar, aggregate) {
            (_, Some(f)) if ctx.aggregates => {
                self.arity(n, f.min_args.into(), f.max_args.into(), args.len(), span);
                // Inside an aggregate, columns are what it aggregates.
                self.args(args, PLAIN);
            }
            (Some(f), _) => {
                self.arity(n, f.min_args.into(), f.max_args.into(), args.len(), span);
                self.args(args, ctx);
            }
            (None, Some(_)) => {
                self.error(
                    name.span.clone(),
                    format!("`{n}` is an aggregate: it is only allowed in `summarize` (and the like)"),
                    Some("aggregate in a `summarize` stage, then use the column it makes".into()),
                );
            }
            (None, None) => {
                let lets = self.scope.iter().map(|(n, _)| n.as_str());
                let known = FUNCTIONS.iter().filter(|f| f.kind != Kind::Plugin).map(|f| f.name);
                let help = nearest_name(n, lets.chain(known)).map(|s| format!("did you mean `{s}`?"));
                self.error(
                    name.span.clone(),
                    format!("`{n}` is not a function KQL knows, or a `let` function"),
                    help,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(q: &str) -> Vec<String> {
        check(&super::super::parse::parse(q).expect("parses").query)
            .into_iter()
            .map(|e| e.message)
            .collect()
    }

    #[test]
    fn calls_are_checked_against_the_catalog() {
        for q in [
            "DeviceEvents | where Timestamp > ago(7d) | summarize count(), x = dcount(A, 2) by bin(Timestamp, 1h)",
            "let f = (a:string, b:long = 1) { strcat(a, b) };\nDeviceEvents | extend x = f('a'), y = f('a', 2)",
            "let n = 5;\nDeviceEvents | summarize x = n, y = tostring(make_set(A)), z = count() * 100 / toscalar(DeviceInfo | count)",
            "DeviceEvents | evaluate bag_unpack(AdditionalFields) | extend x = iff(A, 1, 2)",
            "DeviceEvents | mv-apply x = A on (summarize y = make_list(x))",
        ] {
            assert_eq!(errors(q), Vec::<String>::new(), "{q}");
        }
        for (q, message) in [
            (
                "DeviceEvents | where Timestamp > ago()",
                "`ago` takes 1 argument, not 0",
            ),
            (
                "DeviceEvents | where Timestamp > ago10d()",
                "`ago10d` is not a function KQL knows, or a `let` function",
            ),
            ("DeviceEvents | summarize x = max()", "`max` takes 1 argument, not 0"),
            (
                "DeviceEvents | extend x = count()",
                "`count` is an aggregate: it is only allowed in `summarize` (and the like)",
            ),
            (
                "DeviceEvents | summarize x = (Timestamp)",
                "`Timestamp` is read outside an aggregate: each `summarize` item is an aggregate such as `any(Timestamp)` or `count()`",
            ),
            (
                "let q = DeviceInfo | distinct DeviceId;\nDeviceEvents | where DeviceId in (q())",
                "`q` is a query, not a function: it is read without `()`",
            ),
            ("let f = (a:string) { a };\nprint f()", "`f` takes 1 argument, not 0"),
            (
                "DeviceEvents | evaluate bag_unpak(A)",
                "`bag_unpak` is not a plugin `evaluate` can run",
            ),
        ] {
            assert_eq!(errors(q), vec![message.to_string()], "{q}");
        }
    }
}
