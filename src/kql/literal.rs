//! The values of a query's literal tokens and of the names and property paths it
//! writes, read from the query's text by the syntax tree's spans. Literals are decoded
//! by the exclusion grammar's value decoder ([`crate::expr::parse_value`]), so a
//! literal means the same in a `where` clause and in an exclusion.

use super::ast::{Expr, LiteralKind};
use crate::expr::parse_value;
use crate::pred::{Span, Value};

/// The query's text, for the values of its literals and the words of its notes.
#[derive(Clone, Copy)]
pub struct Src<'q>(pub &'q str);

impl<'q> Src<'q> {
    pub fn text(&self, span: &Span) -> &'q str {
        self.0.get(span.clone()).unwrap_or("")
    }

    /// A value written in a comparison or a `let`: a literal (decoded as an exclusion's
    /// value is), a negative number, `ago(...)`/`now(...)`, or a bare name (a `let`,
    /// another column). The flag is the exclusion decoder's: a literal written as KQL
    /// writes one (not a bare word, not a placeholder). `None` for any other expression.
    pub fn value(&self, e: &Expr) -> Option<(Value, bool)> {
        match e {
            Expr::Literal(l) => parse_value(self.text(&l.span)),
            Expr::Unary { operand, .. } if matches!(operand.as_ref(), Expr::Literal(l) if l.kind == LiteralKind::Number) => {
                parse_value(self.text(&e.span()))
            }
            Expr::Call { .. } if matches!(e.called(), Some(("ago" | "now", _))) => parse_value(self.text(&e.span())),
            Expr::Name(_) | Expr::Member { .. } | Expr::Index { .. } => {
                let name = self.path(e)?;
                Some((Value::Str(name), false))
            }
            _ => None,
        }
    }

    /// A string literal's value.
    pub fn string(&self, e: &Expr) -> Option<String> {
        match e {
            Expr::Literal(l) if l.kind == LiteralKind::String => match parse_value(self.text(&l.span)) {
                Some((Value::Str(s), _)) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    /// The field a name or property access reads, in fpx's one form of property paths
    /// (`X['a']` and `X["a"]` are `X.a`, `X[2]` an index; see
    /// [`crate::pred::canonical_path`]); `None` for any other expression.
    pub fn path(&self, e: &Expr) -> Option<String> {
        self.access(e, false)
    }

    /// [`Self::path`], also through `parse_json(C)` / `todynamic(C)`
    /// (`parse_json(AdditionalFields).A[0]` is `AdditionalFields.A[0]`).
    pub fn property(&self, e: &Expr) -> Option<String> {
        self.access(e, true)
    }

    fn access(&self, e: &Expr, calls: bool) -> Option<String> {
        match e {
            Expr::Name(n) => Some(n.name.clone()),
            Expr::Member { object, member } => Some(format!("{}.{}", self.access(object, calls)?, member.name)),
            Expr::Index { object, index, .. } => {
                let object = self.access(object, calls)?;
                let number = |e: &Expr| match e {
                    Expr::Literal(l) if l.kind == LiteralKind::Number => Some(self.text(&l.span)),
                    _ => None,
                };
                let key = match index.as_ref() {
                    Expr::Unary { op, operand } if op.name == "-" => {
                        return Some(format!("{object}[-{}]", number(operand)?));
                    }
                    other => match number(other) {
                        Some(n) => return Some(format!("{object}[{n}]")),
                        None => self.string(other)?,
                    },
                };
                let identifier = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                Some(if identifier {
                    format!("{object}.{key}")
                } else {
                    format!("{object}['{}']", key.replace('\\', "\\\\").replace('\'', "\\'"))
                })
            }
            Expr::Call { .. } if calls => match e.called()? {
                (f, [arg])
                    if matches!(
                        f.to_ascii_lowercase().as_str(),
                        "parse_json" | "parsejson" | "todynamic"
                    ) =>
                {
                    self.path(&arg.value)
                }
                _ => None,
            },
            _ => None,
        }
    }
}
