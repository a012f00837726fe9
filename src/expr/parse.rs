//! Parsing with the pest grammar `grammar/exclusion.pest`, lowering to `Pred`, and the
//! translation of pest's errors into words a detection engineer understands. The
//! lowering of comparisons and values here is also the KQL reader's (`crate::kql`):
//! both parse with [`Grammar`], so a `where` clause and an exclusion mean the same.

use std::sync::LazyLock;

use pest::Parser;
use pest::iterators::{Pair, Pairs};
use regex::Regex;

pub(crate) use crate::grammar::{Grammar, PRATT, Rule};

use super::{Irregularity, ParseOutcome, ParsedExclusion, ProseExclusion, SyntaxError, operator_text};
use crate::pred::{Atom, Op, Pred, Span, Value};

/// Deepest nesting of parentheses and `not`s accepted; deeper input is refused with a
/// syntax error before pest (which recurses per level) sees it.
pub const MAX_NESTING: usize = 64;

/// Parses one exclusion. Never panics; every input yields an outcome.
pub fn parse_exclusion(text: &str) -> ParseOutcome {
    if text.trim().is_empty() {
        return ParseOutcome::Invalid(SyntaxError {
            span: 0..text.len(),
            message: "the exclusion is empty".into(),
            label: "expected an expression".into(),
            hint: Some("write a condition such as process.name == \"LogMeIn.exe\"".into()),
        });
    }
    if let Some(err) = nesting_error(text) {
        return ParseOutcome::Invalid(err);
    }
    match Grammar::parse(Rule::exclusion, text) {
        Ok(pairs) => match lower_exclusion(pairs) {
            Ok(parsed) => ParseOutcome::Parsed(parsed),
            Err(err) => ParseOutcome::Invalid(err),
        },
        Err(err) => {
            if looks_like_prose(text) {
                ParseOutcome::Prose(ProseExclusion { span: 0..text.len() })
            } else {
                ParseOutcome::Invalid(describe_pest_error(text, &err))
            }
        }
    }
}

/// The error for input that is not UTF-8 text, at its first bad byte.
pub fn not_utf8(bad_byte: usize, byte: u8) -> SyntaxError {
    SyntaxError {
        span: bad_byte..bad_byte + 1,
        message: format!("the input is not valid UTF-8: byte 0x{byte:02X} at offset {bad_byte}"),
        label: "not UTF-8".into(),
        hint: Some("save the exclusion as UTF-8 text".into()),
    }
}

// ---------------------------------------------------------------------------------------
// Lowering

struct Lowering {
    irregularities: Vec<Irregularity>,
}

/// A lowered subexpression and whether it was written in parentheses (an infix chain
/// flattens into one `And`/`Or` only where the author did not group it).
pub(crate) type Lowered = (Pred, bool);

/// One value written alone (a literal of a rule's query, a `let` value): the value, and
/// whether it is a KQL literal (quoted, a number, a boolean, a datetime) rather than a
/// bare word.
pub(crate) fn parse_value(text: &str) -> Option<(Value, bool)> {
    let pair = Grammar::parse(Rule::lone_value, text)
        .ok()?
        .next()?
        .into_inner()
        .next()?;
    let literal = pair.as_rule() != Rule::bare_word;
    let mut lowering = Lowering {
        irregularities: Vec::new(),
    };
    let value = lowering.value(pair).ok()?;
    Some((value, literal && lowering.irregularities.is_empty()))
}

fn lower_exclusion(mut pairs: Pairs<Rule>) -> Result<ParsedExclusion, SyntaxError> {
    let exclusion = pairs.next().expect("grammar: exclusion");
    let mut lowering = Lowering {
        irregularities: Vec::new(),
    };
    let mut pred = Pred::True;
    for pair in exclusion.into_inner() {
        match pair.as_rule() {
            Rule::wrapped => {
                let span = pair.as_span();
                lowering.irregularities.push(Irregularity::BacktickWrapping {
                    open: span.start()..span.start() + 1,
                    close: span.end() - 1..span.end(),
                });
                for inner in pair.into_inner() {
                    lowering.body_part(inner, &mut pred)?;
                }
            }
            Rule::EOI => {}
            _ => lowering.body_part(pair, &mut pred)?,
        }
    }
    Ok(ParsedExclusion {
        pred,
        irregularities: lowering.irregularities,
    })
}

impl Lowering {
    fn body_part(&mut self, pair: Pair<Rule>, pred: &mut Pred) -> Result<(), SyntaxError> {
        match pair.as_rule() {
            Rule::expression => *pred = self.expression(pair)?.0,
            Rule::annotation => {
                let span = pair.as_span();
                self.irregularities.push(Irregularity::Annotation {
                    span: span.start()..span.end(),
                    text: span.as_str().to_string(),
                });
            }
            _ => {}
        }
        Ok(())
    }

    fn expression(&mut self, pair: Pair<Rule>) -> Result<Lowered, SyntaxError> {
        self.strict_connectives(&pair);
        PRATT
            .map_primary(|primary| self.primary(primary))
            .map_prefix(|_, operand| Ok((Pred::Not(Box::new(operand?.0)), false)))
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                Ok((join(op.as_rule() == Rule::and_op, lhs, rhs.0), false))
            })
            .parse(pair.into_inner())
    }

    /// FPX005: `and`, `or` and `not(...)` as KQL spells them. KQL's `not` is a function,
    /// so `not x == "a"` becomes `not(x == "a")` (the operand `not` binds is the next
    /// primary, with its own prefixes).
    fn strict_connectives(&mut self, expression: &Pair<Rule>) {
        let items: Vec<Pair<Rule>> = expression.clone().into_inner().collect();
        for (i, item) in items.iter().enumerate() {
            let span = item.as_span().start()..item.as_span().end();
            let text = item.as_str();
            match item.as_rule() {
                Rule::and_op | Rule::or_op => {
                    let word = if item.as_rule() == Rule::and_op { "and" } else { "or" };
                    if text != word {
                        self.irregularities.push(Irregularity::NotKql {
                            span: span.clone(),
                            what: if text.starts_with(['&', '|']) {
                                "a C-style operator"
                            } else {
                                "an upper-case keyword"
                            },
                            edits: vec![(span, word.to_string())],
                        });
                    }
                }
                Rule::not_op => {
                    let Some(operand) = items[i + 1..].iter().find(|p| p.as_rule() != Rule::not_op) else {
                        continue;
                    };
                    let next = &items[i + 1];
                    if next.as_rule() == Rule::paren {
                        if text != "not" {
                            self.irregularities.push(Irregularity::NotKql {
                                span: span.clone(),
                                what: if text == "!" {
                                    "`!` for not"
                                } else {
                                    "an upper-case keyword"
                                },
                                edits: vec![(span, "not".to_string())],
                            });
                        }
                    } else {
                        let start = next.as_span().start();
                        let end = operand.as_span().end();
                        self.irregularities.push(Irregularity::NotKql {
                            span: span.start..end,
                            what: "`not` without parentheses (KQL's `not` is a function)",
                            edits: vec![(span.start..start, "not(".to_string()), (end..end, ")".to_string())],
                        });
                    }
                }
                _ => {}
            }
        }
    }

    fn primary(&mut self, pair: Pair<Rule>) -> Result<Lowered, SyntaxError> {
        match pair.as_rule() {
            Rule::paren => {
                let inner = pair.into_inner().next().expect("grammar: paren holds an expression");
                Ok((self.expression(inner)?.0, true))
            }
            Rule::bool_lit => {
                let truth = pair.as_str().eq_ignore_ascii_case("true");
                Ok((if truth { Pred::True } else { Pred::False }, false))
            }
            Rule::comparison => Ok((Pred::Atom(self.comparison(pair)?), false)),
            rule => unreachable!("grammar: unexpected primary {rule:?}"),
        }
    }

    fn comparison(&mut self, pair: Pair<Rule>) -> Result<Atom, SyntaxError> {
        let span = pair.as_span().start()..pair.as_span().end();
        let mut inner = pair.into_inner();
        let subject = inner.next().expect("grammar: field").as_str().to_string();
        // A property path is named in one form (`X['a']` is `X.a`).
        let field = crate::pred::canonical_path(&subject).unwrap_or(subject);
        let op_pair = inner.next().expect("grammar: operator");
        let op_span = op_pair.as_span().start()..op_pair.as_span().end();
        let (op, negated, case_sensitive) = operator(op_pair.as_str());
        let rhs = inner.next().expect("grammar: right-hand side");
        let canonical = operator_text(&Atom {
            field: String::new(),
            op,
            negated,
            case_sensitive,
            values: Vec::new(),
            span: 0..0,
        });
        let op_text = op_pair.as_str();
        // `<>` is KQL too; otherwise KQL spells operators in lower case, `!` negated.
        let spaced = op_text.split_whitespace().collect::<Vec<_>>().join(" ");
        if spaced != canonical && op_text != "<>" {
            self.irregularities.push(Irregularity::NotKql {
                span: op_span.clone(),
                what: if op_text == "=" {
                    "`=` as a comparison"
                } else if op_text.to_ascii_lowercase().starts_with("not") {
                    "`not` before an operator"
                } else {
                    "an upper-case operator"
                },
                edits: vec![(op_span.clone(), canonical)],
            });
        }
        let values = if rhs.as_rule() == Rule::list {
            let list_span = rhs.as_span().start()..rhs.as_span().end();
            // A comma after the last value.
            let last_end = rhs
                .clone()
                .into_inner()
                .last()
                .map_or(list_span.start + 1, |v| v.as_span().end());
            if let Some(comma) = rhs.as_str()[last_end - list_span.start..].find(',') {
                let at = last_end + comma;
                self.irregularities.push(Irregularity::NotKql {
                    span: at..at + 1,
                    what: "a trailing comma",
                    edits: vec![(at..at + 1, String::new())],
                });
            }
            let values: Vec<Value> = rhs.into_inner().map(|v| self.value(v)).collect::<Result<_, _>>()?;
            if values.is_empty() {
                return Err(SyntaxError {
                    span: list_span,
                    message: format!("`{}` needs at least one value", op_pair.as_str()),
                    label: "empty list".into(),
                    hint: Some("write the values in the parentheses: (\"a\", \"b\")".into()),
                });
            }
            values
        } else {
            let value_span = rhs.as_span().start()..rhs.as_span().end();
            let value = self.value(rhs)?;
            check_value(op, &value, value_span, op_span)?;
            vec![value]
        };
        Ok(Atom {
            field,
            op,
            negated,
            case_sensitive,
            values,
            span,
        })
    }

    fn value(&mut self, pair: Pair<Rule>) -> Result<Value, SyntaxError> {
        let span = pair.as_span().start()..pair.as_span().end();
        let text = pair.as_str();
        let value = match pair.as_rule() {
            Rule::string => {
                let inner = pair.into_inner().next().expect("grammar: string kind");
                let at = inner.as_span().start()..inner.as_span().end();
                Value::Str(unquote(inner.as_rule(), inner.as_str(), at)?)
            }
            Rule::typographic_string => {
                let chars: Vec<char> = text.chars().collect();
                let inside: String = chars[1..chars.len() - 1].iter().collect();
                self.irregularities.push(Irregularity::TypographicQuotes {
                    span: span.clone(),
                    replacement: super::print_value(&Value::Str(inside.clone())),
                });
                Value::Str(inside)
            }
            Rule::number => Value::Num(canonical_number(text)),
            Rule::typed_number => {
                let number = pair.into_inner().next().expect("grammar: typed number");
                Value::Num(canonical_number(number.as_str()))
            }
            Rule::datetime_value => datetime_value(pair)?,
            Rule::concatenated => {
                let mut joined = String::new();
                for part in pair.into_inner() {
                    let inner = part.into_inner().next().expect("grammar: string kind");
                    let at = inner.as_span().start()..inner.as_span().end();
                    joined.push_str(&unquote(inner.as_rule(), inner.as_str(), at)?);
                }
                Value::Str(joined)
            }
            Rule::bool_lit => Value::Bool(text.eq_ignore_ascii_case("true")),
            Rule::bare_word => {
                self.irregularities.push(Irregularity::UnquotedValue {
                    span: span.clone(),
                    replacement: super::print_value(&Value::Str(text.to_string())),
                });
                Value::Str(text.to_string())
            }
            rule => unreachable!("grammar: unexpected value {rule:?}"),
        };
        if let Value::Str(s) = &value
            && is_placeholder(s)
        {
            self.irregularities
                .push(Irregularity::Placeholder { span, value: s.clone() });
        }
        Ok(value)
    }
}

/// `lhs and rhs` (or `or`): one flat `And`/`Or` where the author did not group `lhs`.
pub(crate) fn join(and: bool, (lhs, lhs_grouped): Lowered, rhs: Pred) -> Pred {
    match (and, lhs, lhs_grouped) {
        (true, Pred::And(mut items), false) => {
            items.push(rhs);
            Pred::And(items)
        }
        (false, Pred::Or(mut items), false) => {
            items.push(rhs);
            Pred::Or(items)
        }
        (true, lhs, _) => Pred::And(vec![lhs, rhs]),
        (false, lhs, _) => Pred::Or(vec![lhs, rhs]),
    }
}

/// Maps operator text (any case, `not` or `!` negation) to (op, negated, case-sensitive).
pub(crate) fn operator(text: &str) -> (Op, bool, bool) {
    let lower = text.to_ascii_lowercase();
    let (negated, word) = if let Some(rest) = lower.strip_prefix('!') {
        (true, rest.trim_start().to_string())
    } else if let Some(rest) = lower.strip_prefix("not").filter(|r| r.starts_with(char::is_whitespace)) {
        (true, rest.trim_start().to_string())
    } else {
        (false, lower.clone())
    };
    match lower.as_str() {
        "==" | "=" => return (Op::Equals, false, true),
        "!=" | "<>" => return (Op::Equals, true, true),
        "=~" => return (Op::Equals, false, false),
        "!~" => return (Op::Equals, true, false),
        "<" => return (Op::Lt, false, true),
        "<=" => return (Op::Le, false, true),
        ">" => return (Op::Gt, false, true),
        ">=" => return (Op::Ge, false, true),
        _ => {}
    }
    if word.starts_with("matches") {
        return (Op::MatchesRegex, false, true);
    }
    if let Some(rest) = word.strip_prefix("in") {
        return (Op::In, negated, rest != "~");
    }
    let (base, cs) = match word.strip_suffix("_cs") {
        Some(base) => (base, true),
        None => (word.as_str(), false),
    };
    let op = match base {
        "contains" => Op::Contains,
        "startswith" => Op::StartsWith,
        "endswith" => Op::EndsWith,
        "has" => Op::Has,
        "hasprefix" => Op::HasPrefix,
        "hassuffix" => Op::HasSuffix,
        "has_any" => Op::HasAny,
        "has_all" => Op::HasAll,
        other => unreachable!("grammar: unknown operator {other}"),
    };
    (op, negated, cs)
}

fn check_value(op: Op, value: &Value, span: Span, op_span: Span) -> Result<(), SyntaxError> {
    if op.is_numeric() && value.number().is_none() && !value.is_datetime() {
        return Err(SyntaxError {
            span,
            message: format!("`{}` compares numbers, and this value is not a number", op_name(op)),
            label: "expected a number".into(),
            hint: Some("write the number without quotes, e.g. FileSize > 1000".into()),
        });
    }
    if op == Op::MatchesRegex
        && let Err(err) = regex::Regex::new(value.text())
    {
        let detail = err.to_string();
        let last = detail.lines().last().unwrap_or("invalid").trim().to_string();
        return Err(SyntaxError {
            span,
            message: "the regular expression does not compile".into(),
            label: last,
            hint: Some(format!(
                "`matches regex` (at byte {}) takes a regular expression (Rust regex syntax, as KQL); escape ( ) [ ] . with a backslash to match them literally",
                op_span.start
            )),
        });
    }
    Ok(())
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Gt => ">",
        _ => ">=",
    }
}

/// Decodes a KQL string literal.
fn unquote(kind: Rule, text: &str, span: Span) -> Result<String, SyntaxError> {
    if kind == Rule::verbatim {
        let quote = &text[1..2];
        return Ok(text[2..text.len() - 1].replace(&quote.repeat(2), quote));
    }
    let inside = &text[1..text.len() - 1];
    let mut out = String::with_capacity(inside.len());
    let mut chars = inside.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let (_, escaped) = chars
            .next()
            .expect("grammar: a backslash is always followed by a character");
        // KQL's escapes (as Kusto.Language reads them): \xHH, \uHHHH, \UHHHHHHHH and
        // octal \N, \NN, \NNN (three digits when the first is 0-3).
        let rest = &inside[i + 1 + escaped.len_utf8()..];
        let coded = match escaped {
            'x' => Some((2, 16)),
            'u' => Some((4, 16)),
            'U' => Some((8, 16)),
            '0'..='7' => {
                let digits = 1 + rest.bytes().take(2).take_while(|b| (b'0'..=b'7').contains(b)).count();
                let digits = if digits == 3 && escaped > '3' { 2 } else { digits };
                Some((digits, 8))
            }
            _ => None,
        };
        if let Some((digits, radix)) = coded {
            let (skip, code) = if radix == 8 {
                (digits - 1, &inside[i + 1..i + 1 + digits])
            } else {
                (digits, rest.get(..digits).unwrap_or(""))
            };
            let at = span.start + 1 + i;
            let value = (code.len() == digits && code.bytes().all(|b| (b as char).is_digit(radix)))
                .then(|| u32::from_str_radix(code, radix).ok())
                .flatten();
            match value.and_then(char::from_u32) {
                Some(c) => out.push(c),
                None => {
                    return Err(SyntaxError {
                        span: at..(at + 2 + skip).min(span.end),
                        message: format!("`\\{escaped}` needs {digits} digits of base {radix} naming a character"),
                        label: "bad escape".into(),
                        hint: Some("\\x41, \\u00A0, \\U0001F600 or octal \\101".into()),
                    });
                }
            }
            for _ in 0..skip {
                chars.next();
            }
            continue;
        }
        out.push(match escaped {
            '\\' => '\\',
            '"' => '"',
            '\'' => '\'',
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'v' => '\u{b}',
            other => {
                let at = span.start + 1 + i;
                return Err(SyntaxError {
                    span: at..at + 1 + other.len_utf8(),
                    message: format!("`\\{other}` is not an escape KQL knows"),
                    label: "unknown escape".into(),
                    hint: Some(format!(
                        "for a path write a verbatim string, @{text}, or double the backslash (\\\\)"
                    )),
                });
            }
        });
    }
    Ok(out)
}

/// A number literal as the text fpx compares: hex longs in decimal (`0x10` is `16`),
/// reals with an exponent or a bare trailing point in plain decimal (`1e3` is `1000`).
/// `datetime(...)`, `ago(...)` or `now(...)` as the instant it names.
fn datetime_value(pair: Pair<Rule>) -> Result<Value, SyntaxError> {
    let written = pair.as_str().to_string();
    let whole = pair.as_span().start()..pair.as_span().end();
    let call = pair.into_inner().next().expect("grammar: datetime call");
    let rule = call.as_rule();
    let argument = call.into_inner().next();
    let error = |at: &Pair<Rule>, what: &str, example: &str| SyntaxError {
        span: at.as_span().start()..at.as_span().end(),
        message: format!("`{}` is not {what} KQL reads", at.as_str()),
        label: format!("expected {what}"),
        hint: Some(format!("for example {example}")),
    };
    let ticks = match (rule, &argument) {
        // KQL also takes the text quoted: `datetime("2024-01-01")`.
        (Rule::datetime_call, Some(text)) => crate::time::parse_datetime(
            text.as_str().trim().trim_matches(|c| c == '"' || c == '\''),
        )
        .ok_or_else(|| {
            error(
                text,
                "a datetime",
                "datetime(2024-01-31) or datetime(2024-01-31 13:45:00)",
            )
        })?,
        (_, Some(span)) => {
            let ticks = crate::time::parse_timespan(span.as_str().trim_start_matches('-'))
                .ok_or_else(|| error(span, "a timespan", "7d, 12h, 30m, 10s or 100ms"))?;
            let signed = if span.as_str().starts_with('-') { -ticks } else { ticks };
            if rule == Rule::ago_call {
                crate::time::now() - signed
            } else {
                crate::time::now() + signed
            }
        }
        (_, None) => crate::time::now(),
    };
    if !(0..=crate::time::MAX_TICKS).contains(&ticks) {
        return Err(SyntaxError {
            span: whole,
            message: format!("`{written}` is outside the datetimes KQL holds (years 1 to 9999)"),
            label: "out of range".into(),
            hint: None,
        });
    }
    Ok(Value::DateTime {
        written,
        text: crate::time::format_datetime(ticks),
    })
}

fn canonical_number(text: &str) -> String {
    let (negative, body) = text.strip_prefix('-').map_or((false, text), |b| (true, b));
    let sign = if negative { "-" } else { "" };
    if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        // A long: 64 bits, two's complement, as KQL stores it.
        return match u64::from_str_radix(hex, 16) {
            Ok(v) if negative => (v as i64).wrapping_neg().to_string(),
            Ok(v) => (v as i64).to_string(),
            Err(_) => text.to_string(),
        };
    }
    if body.contains(['e', 'E']) || body.ends_with('.') {
        return match text.parse::<f64>() {
            Ok(v) if v.is_finite() => format!("{v}"),
            _ => text.to_string(),
        };
    }
    format!("{sign}{body}")
}

static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        ^\s*(todo|tbd|fixme|x{3,}|placeholder|changeme|change_me|replace_?me|example|n/a|\.{3}|\?+|\*+)\s*$
        | <[a-z][a-z0-9 _.\-]*>
        | \b(known_[a-z0-9_]*|[a-z0-9_]*_placeholder|your_[a-z0-9_]+|insert_[a-z0-9_]+|replace_with[a-z0-9_]*|todo|tbd|fixme)\b",
    )
    .expect("placeholder pattern compiles")
});

/// Whether a value is a stand-in for a real one.
pub(crate) fn is_placeholder(value: &str) -> bool {
    PLACEHOLDER.is_match(value)
}

// ---------------------------------------------------------------------------------------
// Refusing input too deep for a recursive parser

fn nesting_error(text: &str) -> Option<SyntaxError> {
    // Quotes are not tracked: a scan that misreads where a string ends (a verbatim
    // `@"C:\"`, a typographic quote, an apostrophe in a `//` comment) would hide the
    // brackets after it from the guard but not from the parser. Counting every bracket
    // and `not` overestimates the depth, which only a string with dozens of unmatched
    // `(` could make matter.
    let mut depth = 0usize;
    let mut pending_nots = 0usize;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '!' if chars.peek().is_none_or(|&(_, n)| n != '=' && n != '~') => pending_nots += 1,
            c if c.is_ascii_alphabetic() => {
                let start = i;
                let mut end = i + 1;
                while let Some(&(j, n)) = chars.peek() {
                    if !(n.is_ascii_alphanumeric() || n == '_' || n == '.') {
                        break;
                    }
                    end = j + n.len_utf8();
                    chars.next();
                }
                if text[start..end].eq_ignore_ascii_case("not") {
                    pending_nots += 1;
                } else if !matches!(text[start..end].to_ascii_lowercase().as_str(), "and" | "or") {
                    pending_nots = 0;
                }
            }
            _ => {}
        }
        if depth + pending_nots > MAX_NESTING {
            return Some(SyntaxError {
                span: i..i + c.len_utf8(),
                message: format!("the expression nests deeper than {MAX_NESTING} levels"),
                label: "too deep".into(),
                hint: Some("flatten the parentheses and `not`s; no exclusion needs this depth".into()),
            });
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Prose

/// Whether text that failed to parse reads as a sentence rather than a broken expression.
fn looks_like_prose(text: &str) -> bool {
    const OPERATOR_MARKS: [&str; 6] = ["==", "!=", "=~", "!~", "<>", "&&"];
    if OPERATOR_MARKS.iter().any(|m| text.contains(m)) || text.contains(['"', '“', '”']) {
        return false;
    }
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let is_word = |t: &&&str| {
        let t = t
            .trim_end_matches([',', '.', ';', ':', '!', '?', ')'])
            .trim_start_matches('(');
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_alphabetic() || matches!(c, '\'' | '’' | '-' | '&' | '/'))
    };
    let words = tokens.iter().filter(is_word).count();
    tokens.len() >= 5 && words * 10 >= tokens.len() * 7
}

// ---------------------------------------------------------------------------------------
// Errors in words

fn describe_pest_error(text: &str, err: &pest::error::Error<Rule>) -> SyntaxError {
    use pest::error::{ErrorVariant, InputLocation};
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut expected: Vec<&str> = Vec::new();
    if let ErrorVariant::ParsingError { positives, .. } = &err.variant {
        for rule in positives {
            if let Some(words) = rule_in_words(*rule)
                && !expected.contains(&words)
            {
                expected.push(words);
            }
        }
    }
    if expected.is_empty() {
        expected.push("an expression");
    }
    let found = token_at(text, pos);
    let label = format!("expected {}", join_alternatives(&expected));
    let mut error = SyntaxError {
        span: pos..(pos + found.len()).max(pos + 1).min(text.len().max(pos)),
        message: match found {
            "" => format!("syntax error: {label}, found the end of the exclusion"),
            tok => format!("syntax error: {label}, found `{tok}`"),
        },
        label,
        hint: None,
    };
    if let Some((at, quote)) = unclosed_string(text) {
        error.span = at..at + quote.len_utf8();
        error.message = "syntax error: this string is never closed".into();
        error.label = "string starts here".into();
        error.hint = Some(format!(
            // No column here: the caret shows where, and a column inside the exclusion
            // would disagree with the file's column the location line gives.
            "the string that starts with {quote} (at the caret) is never closed{}",
            if quote.is_ascii() {
                ""
            } else {
                "; use straight quotes \"...\""
            }
        ));
    } else if text.trim_start().starts_with('`') && !text.trim_end().ends_with('`') {
        error.hint = Some("the backtick that opens the exclusion is never closed".into());
    }
    error
}

fn rule_in_words(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::field | Rule::comparison => "a field name",
        Rule::scalar_op | Rule::list_op => "an operator (==, !=, contains, has, in, ...)",
        Rule::string | Rule::typographic_string | Rule::number | Rule::bare_word => "a value in quotes",
        Rule::list => "a list in parentheses, like (\"a\", \"b\")",
        Rule::or_op | Rule::and_op => "`and` or `or`",
        Rule::EOI => "the end of the exclusion",
        Rule::paren | Rule::not_op | Rule::expression => "an expression",
        _ => return None,
    })
}

fn join_alternatives(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// The token that starts at byte `pos`: a word, a quoted run start, or one character.
fn token_at(text: &str, pos: usize) -> &str {
    let rest = &text[pos.min(text.len())..];
    let word_len = rest
        .char_indices()
        .find(|&(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | '.')))
        .map_or(rest.len(), |(i, _)| i);
    if word_len > 0 {
        return &rest[..word_len];
    }
    rest.chars().next().map_or("", |c| &rest[..c.len_utf8()])
}

/// The first quote that opens a string never closed on its line, with its byte offset.
fn unclosed_string(text: &str) -> Option<(usize, char)> {
    const OPENERS: [char; 7] = ['"', '\'', '“', '”', '„', '‘', '’'];
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        if !OPENERS.contains(&c) {
            continue;
        }
        let closers: &[char] = match c {
            '"' => &['"', '”', '“'],
            '\'' => &['\'', '’', '‘'],
            '“' | '”' | '„' => &['”', '“', '"'],
            _ => &['’', '‘', '\''],
        };
        let mut closed = false;
        while let Some((_, n)) = chars.next() {
            if n == '\\' && c.is_ascii() {
                chars.next();
            } else if closers.contains(&n) {
                closed = true;
                break;
            } else if n == '\n' {
                break;
            }
        }
        if !closed {
            return Some((i, c));
        }
    }
    None
}
