//! Conditions: a `where` expression of the syntax tree lowered to a [`Pred`], as an
//! exclusion's is. Comparisons of a column (or a property) with literals are atoms;
//! names among the values are resolved (a `let` value or list, another column, the
//! joined table's column); a comparison of an alias is one of its column, of a column
//! computed exactly (`crate::kql::derived`) one of the column it is computed from; time
//! windows are dropped; anything else is approximated and noted.

use super::{Reader, UNDECIDABLE, parenthesised};
use crate::expr::{join, operator};
use crate::kql::ast::{Expr, LiteralKind};
use crate::kql::bind::Alias;
use crate::kql::bind::Let;
use crate::kql::derived::{Fold, count_compared};
use crate::model::opaque;
use crate::pred::{Atom, Op, Pred, Span, Value};

/// Comparison operators (and the string operators), as the parser spells them
/// (the word operators are [`is_word_operator`]).
const COMPARISONS: &[&str] = &["==", "!=", "<>", "=~", "!~", "<", "<=", ">", ">=", "="];

impl Reader<'_> {
    /// A condition, and whether it was written in parentheses (an infix chain flattens
    /// into one `And`/`Or` only where the author did not group it, as exclusions are
    /// read).
    pub(super) fn condition(&mut self, e: &Expr) -> (Pred, bool) {
        match e {
            Expr::List { items, .. } if items.len() == 1 => (self.condition(&items[0]).0, true),
            // Read as the left-nested pairs it abbreviates, so each `and`/`or` flattens
            // into one `And`/`Or` where the author did not group.
            Expr::Logical { op, items } => {
                let and = op.name == "and";
                let mut items = items.iter();
                let Some(first) = items.next() else {
                    return (if and { Pred::True } else { Pred::False }, false);
                };
                let mut lowered = self.condition(first);
                for item in items {
                    let rhs = self.condition(item).0;
                    lowered = (join(and, lowered, rhs), false);
                }
                lowered
            }
            Expr::Call { args, .. }
                if e.called()
                    .is_some_and(|(f, a)| f.eq_ignore_ascii_case("not") && a.len() == 1) =>
            {
                (Pred::Not(Box::new(self.condition(&args[0].value).0)), false)
            }
            _ => (self.primary(e), false),
        }
    }

    /// A condition that is not `and`, `or`, `not` or parentheses.
    fn primary(&mut self, e: &Expr) -> Pred {
        let at = e.span();
        let text = self.text(&at);
        match e {
            Expr::Literal(l) if l.kind == LiteralKind::Bool => {
                if text.eq_ignore_ascii_case("true") {
                    Pred::True
                } else {
                    Pred::False
                }
            }
            Expr::Between { op, value, lo, hi } => {
                if self.root_is_time(value) || self.mentions_time(e) {
                    return opaque(None);
                }
                let negated = op.name.starts_with('!');
                let bound = |b: &Expr| {
                    let t = self.text(&b.span()).trim();
                    crate::pred::parse_number(t).is_some().then_some(t)
                };
                match (self.src.path(value), bound(lo), bound(hi)) {
                    (Some(field), Some(lo), Some(hi)) => {
                        let inside = Pred::And(vec![
                            Pred::Atom(Atom {
                                span: at.clone(),
                                ..Atom::new(&field, Op::Ge, false, true, vec![Value::Num(lo.into())])
                            }),
                            Pred::Atom(Atom {
                                span: at,
                                ..Atom::new(&field, Op::Le, false, true, vec![Value::Num(hi.into())])
                            }),
                        ]);
                        if negated { Pred::Not(Box::new(inside)) } else { inside }
                    }
                    _ => self.approximated(at, text, UNDECIDABLE),
                }
            }
            Expr::Call { .. } => match e.called() {
                Some((f, [arg]))
                    if EMPTINESS.contains(&f.to_ascii_lowercase().as_str())
                        && arg.name.is_none()
                        && self.src.property(&arg.value).is_some() =>
                {
                    self.emptiness(&f.to_ascii_lowercase(), &arg.value, at)
                }
                _ => {
                    let name = match e.called() {
                        Some((f, _)) => f.to_string(),
                        None => text.split('(').next().unwrap_or("").trim().to_string(),
                    };
                    self.approximated(
                        at,
                        text,
                        &format!("calls `{name}`, a function fpx does not evaluate; it is read"),
                    )
                }
            },
            Expr::Binary { op, lhs, rhs } if is_comparison(&op.name) => self.compared(e, &op.name, lhs, rhs),
            // `FolderPath has_all has_any (...)` (the parser keeps both words).
            Expr::Binary { op, .. } if op.name.contains(' ') => self.approximated(
                at,
                text,
                "has two operators: KQL rejects this query; fpx reads the condition",
            ),
            Expr::Name(_) | Expr::Member { .. } | Expr::Index { .. } => self.bare_name(e),
            _ => self.approximated(at, text, UNDECIDABLE),
        }
    }

    /// `where IsSigned`, `where Flag`: a name that is itself the condition.
    fn bare_name(&mut self, e: &Expr) -> Pred {
        let at = e.span();
        let Some(name) = self.src.path(e) else {
            return self.approximated(at.clone(), self.text(&at), UNDECIDABLE);
        };
        match self.let_of(&name) {
            Some(Let::Scalar(Value::Bool(b))) => return if *b { Pred::True } else { Pred::False },
            Some(_) => return self.approximated(at, &name, UNDECIDABLE),
            None => {}
        }
        let column = self.scope.alias(&name).map_or(name.clone(), |a| a.column.clone());
        let bool_column =
            !self.scope.computed(&name) && self.column_type(&column) == Some(crate::schema::ColumnType::Bool);
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

    /// `isempty(C)`, `isnotempty(C)`, `isnull(C)`, `isnotnull(C)` (and `notempty`,
    /// `notnull`) of a column or property.
    fn emptiness(&mut self, function: &str, argument: &Expr, at: Span) -> Pred {
        let text = self.text(&at);
        let Some(written) = self.src.property(argument) else {
            return self.approximated(at, text, UNDECIDABLE);
        };
        let written = written.as_str();
        let negated = function.starts_with("isnot") || function.starts_with("not");
        // A `let` value is a constant; a computed column is not a column.
        match self.let_of(written) {
            Some(Let::Scalar(v)) => {
                return if v.text().is_empty() != negated {
                    Pred::True
                } else {
                    Pred::False
                };
            }
            Some(_) => return self.approximated(at, text, UNDECIDABLE),
            None => {}
        }
        if let Some((column, pattern)) = self.scope.derived(written).and_then(|d| d.extracted.as_ref())
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
        if self.scope.computed(head) {
            return self.approximated(at, text, UNDECIDABLE);
        }
        if self.other_table(written) {
            return opaque(None);
        }
        // An alias is its column (a case change keeps a text empty or not); a property
        // is named after its column.
        let field = match (self.scope.alias(head), tail) {
            (Some(a), None) => a.column.clone(),
            (Some(a), Some(tail)) if a.fold.is_none() => format!("{}{tail}", a.column),
            (Some(_), Some(_)) => return self.approximated(at, text, UNDECIDABLE),
            (None, _) => written.to_string(),
        };
        let field = field.as_str();
        // A string column is never null (an absent value is the empty string): `isnull`
        // of one is false, `isnotnull` true. Other columns are null where fpx reads the
        // empty text.
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

    /// `lhs op rhs`: a comparison of a column (or a property) with values, lowered as an
    /// exclusion's is; anything else that compares (functions of columns, a string
    /// literal with a column, a time window) is approximated or dropped.
    fn compared(&mut self, e: &Expr, op: &str, lhs: &Expr, rhs: &Expr) -> Pred {
        let at = e.span();
        let text = self.text(&at);
        let list_op = is_list_operator(op);
        // The values on the right: `(a, b)` for a list operator, one value (perhaps in
        // parentheses) for another.
        let items: Vec<&Expr> = match (rhs, list_op) {
            (Expr::List { items, .. }, true) => items.iter().collect(),
            (rhs, true) => vec![rhs],
            (rhs, false) => vec![parenthesised(rhs).unwrap_or(rhs)],
        };
        // Each value, and whether it is a name (a `let`, another column) rather than a
        // literal; a timespan is not a value of a column fpx reads.
        let values: Option<Vec<(Value, bool)>> = items
            .iter()
            .map(|v| {
                let name = matches!(
                    v,
                    Expr::Name(_)
                        | Expr::Member { .. }
                        | Expr::Index { .. }
                        | Expr::Literal(crate::kql::ast::Literal {
                            kind: LiteralKind::Timespan,
                            ..
                        })
                );
                let (value, _) = self.src.value(v)?;
                Some((value, name))
            })
            .collect();
        // A list operator takes its values in parentheses.
        let shaped = !list_op || matches!(rhs, Expr::List { .. });
        let subject = self.src.path(lhs);
        let property = subject.is_none().then(|| self.src.property(lhs)).flatten();
        match (subject, property, values) {
            (Some(field), _, Some(values)) if shaped => self.comparison(field, false, op, values, lhs, rhs, at),
            (None, Some(field), Some(values)) if shaped => self.comparison(field, true, op, values, lhs, rhs, at),
            (None, None, Some(_)) if is_property_call(lhs) => self.approximated(at, text, UNDECIDABLE),
            // `x in (letname | ...)`, `x has_any ((t | distinct c))`: membership in
            // another query's result.
            (Some(field), _, None) if list_op && matches!(rhs, Expr::List { .. }) => {
                // The name in (any number of) parentheses, and whether a query is there.
                let mut inner = rhs;
                while let Some(one) = parenthesised(inner) {
                    inner = one;
                }
                let bare = match inner {
                    Expr::Name(n) => n.name.clone(),
                    _ => String::new(),
                };
                let mut query = false;
                rhs.visit(&mut |x| query |= matches!(x, Expr::Pipe { .. }));
                if let Some(p) = self.membership(&field, &bare, text, at.clone()) {
                    return p;
                }
                match self.binder.let_named(&bare).cloned() {
                    Some(Let::List(values)) => {
                        let (op, negated, case_sensitive) = operator(op);
                        let atom = Atom::new(&field, op, negated, case_sensitive, values);
                        self.resolved(atom, &[], text, at)
                    }
                    Some(Let::Query(_) | Let::Datatable(_) | Let::Tabular | Let::Function { .. }) | None if query => {
                        self.approximated(
                            at,
                            text,
                            "compares with the rows of another query, which fpx does not run; it is read",
                        )
                    }
                    _ => self.approximated(at, text, UNDECIDABLE),
                }
            }
            _ => self.opaque_term(e, op, lhs, rhs),
        }
    }

    /// A comparison of `field` with values, lowered as an exclusion's is; names among
    /// the values (a `let`, another column) are resolved.
    #[allow(clippy::too_many_arguments)]
    fn comparison(
        &mut self,
        field: String,
        property: bool,
        op: &str,
        values: Vec<(Value, bool)>,
        lhs: &Expr,
        rhs: &Expr,
        at: Span,
    ) -> Pred {
        let text = self.text(&at);
        // A time window (`Timestamp > MaxAge`, `DetectionTime > UsbFirstSeen`): events
        // have no time, so it is dropped.
        if !property && self.root_is_time(lhs) {
            return opaque(None);
        }
        // Either side the joined table's column: a condition on the match (see
        // `resolved`).
        let last = match rhs {
            Expr::List { .. } if is_list_operator(op) => None,
            rhs => self.src.path(parenthesised(rhs).unwrap_or(rhs)),
        };
        if !property && (self.other_table(&field) || last.is_some_and(|o| self.other_table(&o))) {
            return opaque(None);
        }
        let (op, negated, case_sensitive) = operator(op);
        let names: Vec<String> = values
            .iter()
            .filter(|(_, name)| *name)
            .map(|(v, _)| v.text().to_string())
            .collect();
        let values: Vec<Value> = values.into_iter().map(|(v, _)| v).collect();
        // What the exclusion grammar refuses: no value, a number test of a text, a
        // regular expression that does not compile.
        let [first, ..] = values.as_slice() else {
            return self.approximated(at, text, UNDECIDABLE);
        };
        let refused = !op.takes_list()
            && (op.is_numeric() && first.number().is_none() && !first.is_datetime()
                || op == Op::MatchesRegex && regex::Regex::new(first.text()).is_err());
        if refused {
            return self.approximated(at, text, UNDECIDABLE);
        }
        let atom = Atom {
            span: at.clone(),
            ..Atom::new(&field, op, negated, case_sensitive, values)
        };
        self.resolved(atom, &names, text, at)
    }

    /// Anything else that compares: functions of columns, column against column.
    fn opaque_term(&mut self, e: &Expr, op: &str, lhs: &Expr, rhs: &Expr) -> Pred {
        let at = e.span();
        let text = self.text(&at);
        // `"S" contains C`, `"S" == C`: a literal string and a string column.
        if !is_list_operator(op)
            && let Some(literal) = self.src.string(lhs)
            && let Expr::Name(column) = rhs
            && self.table_column(&column.name)
        {
            let (op, negated, case_sensitive) = operator(op);
            let op = match op {
                Op::Equals => Op::Equals,
                Op::Contains => Op::ContainedIn,
                _ => return self.approximated(at, text, UNDECIDABLE),
            };
            return Pred::Atom(Atom {
                span: at,
                ..Atom::new(&column.name, op, negated, case_sensitive, vec![Value::Str(literal)])
            });
        }
        // A time window (`Timestamp > MaxAge`, `Timestamp < AlertTime + 5d`): events
        // have no time, so it is dropped.
        if self.root_is_time(lhs) || self.mentions_time(e) {
            return opaque(None);
        }
        // `column_ifexists("C", default) op ...` on a table that has C is `C op ...`.
        if let Some(("column_ifexists", [name, _default])) = lhs.called()
            && let Some(column) = self.src.string(&name.value)
            && crate::pred::canonical_path(&column).as_deref() == Some(column.as_str())
            && !column.contains(['.', '['])
            && self.row_column(&column)
        {
            let named = Expr::Binary {
                op: crate::kql::ast::Ident {
                    name: op.to_string(),
                    span: at.clone(),
                },
                lhs: Box::new(Expr::Name(crate::kql::ast::Ident {
                    name: column,
                    span: lhs.span(),
                })),
                rhs: Box::new(rhs.clone()),
            };
            // Spans point at the condition as written.
            return self.primary(&named).map_atoms(&mut |a| {
                Pred::Atom(Atom {
                    span: at.clone(),
                    ..a.clone()
                })
            });
        }
        self.approximated(at, text, UNDECIDABLE)
    }

    /// Whether the expression a comparison tests is a time (`Timestamp`, `ago(...)`,
    /// a column whose name ends in `Time`): the name it starts with.
    fn root_is_time(&self, e: &Expr) -> bool {
        let mut root = e;
        while let Expr::Member { object, .. } | Expr::Index { object, .. } = root {
            root = object;
        }
        let name = match root {
            Expr::Name(n) => n.name.as_str(),
            Expr::Call { .. } => root.called().map_or("", |(f, _)| f),
            Expr::Literal(l) if l.kind == LiteralKind::Typed => {
                self.text(&l.span).split('(').next().unwrap_or("").trim()
            }
            _ => "",
        };
        is_time(name)
    }

    /// Whether a condition names a time anywhere: a time column, `ago`, `now`,
    /// `datetime`, or a timespan literal (`5d`, `30min`).
    fn mentions_time(&self, e: &Expr) -> bool {
        let mut found = false;
        e.visit(&mut |x| {
            found |= match x {
                Expr::Name(n) => is_time(&n.name) || n.name.ends_with("Timestamp"),
                Expr::Member { member, .. } => member.name.ends_with("Timestamp"),
                Expr::Literal(l) => match l.kind {
                    LiteralKind::Timespan => true,
                    LiteralKind::Typed => {
                        let t = self.text(&l.span);
                        t.starts_with("datetime") || t.starts_with("timespan") || t.starts_with("time(")
                    }
                    _ => false,
                },
                _ => false,
            };
        });
        found
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
        if let Some(Let::Scalar(Value::Str(literal))) = self.let_of(&atom.field)
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
        let derived = self.scope.derived(&atom.field).cloned().unwrap_or_default();
        if let Some((column, pattern)) = &derived.extracted
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
        if let Some(rest) = &derived.parsed
            && let Some(candidate) = self.with_scalars(&atom, names)
            && let Some(lowered) = rest.contains(&candidate)
        {
            return Pred::Atom(lowered);
        }
        if let Some((column, counted)) = &derived.counted
            && let Some(candidate) = self.with_scalars(&atom, names)
            && let Some(lowered) = count_compared(column, counted, &candidate)
        {
            return lowered;
        }
        if let Some(part) = &derived.split
            && let Some(candidate) = self.with_scalars(&atom, names)
            && let Some(lowered) = part.compared(&candidate)
        {
            return lowered;
        }
        if let Some(suffix) = &derived.suffix
            && let Some(candidate) = self.with_scalars(&atom, names)
            && let Some(lowered) = suffix.compared(&candidate)
        {
            return lowered;
        }
        if self.scope.computed(&atom.field) {
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
            match self.scope.alias(&head) {
                _ if self.scope.computed(&head) => {
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
            match self.binder.let_named(name) {
                Some(Let::List(list)) => values.extend(list.iter().cloned()),
                Some(Let::Scalar(v)) => values.push(v.clone()),
                Some(l) if l.is_rows() && atom.op == Op::In && atom.values.len() == 1 => {
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
        match self.scope.alias(&atom.field).cloned() {
            None => Pred::Atom(atom),
            Some(alias) => match Self::through_alias(atom, &alias) {
                Some(p) => p,
                None => self.approximated(at, text, UNDECIDABLE),
            },
        }
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
}

/// The functions that test a value's emptiness.
const EMPTINESS: &[&str] = &["isnotempty", "isempty", "isnotnull", "isnull", "notempty", "notnull"];

/// Names of time columns and functions whose comparisons are time windows.
const TIMES: &[&str] = &["Timestamp", "TimeGenerated", "ago", "now", "datetime"];

fn is_time(name: &str) -> bool {
    TIMES.contains(&name) || name.ends_with("Time") && !name.contains('.')
}

fn is_comparison(op: &str) -> bool {
    let lower = op.to_ascii_lowercase();
    COMPARISONS.contains(&lower.as_str()) || lower.ends_with("regex") || is_word_operator(&lower)
}

/// `contains`, `!has_cs`, `in~`, ...: the word operators (any case).
fn is_word_operator(op: &str) -> bool {
    let word = op.trim_start_matches('!').to_ascii_lowercase();
    let base = word.strip_suffix("_cs").unwrap_or(&word);
    matches!(
        base,
        "contains"
            | "startswith"
            | "endswith"
            | "has"
            | "hasprefix"
            | "hassuffix"
            | "has_any"
            | "has_all"
            | "in"
            | "in~"
    )
}

fn is_list_operator(op: &str) -> bool {
    let word = op.trim_start_matches('!').to_ascii_lowercase();
    matches!(word.as_str(), "in" | "in~" | "has_any" | "has_all")
}

/// A property read through a call (`parse_json(C).a`, `todynamic(C)['a']`).
fn is_property_call(e: &Expr) -> bool {
    let mut root = e;
    let mut accessed = false;
    while let Expr::Member { object, .. } | Expr::Index { object, .. } = root {
        root = object;
        accessed = true;
    }
    accessed && matches!(root, Expr::Call { .. })
}
