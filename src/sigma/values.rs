//! One Sigma detection item (`Field|modifiers: values`) as a predicate over the field,
//! following the modifiers appendix of the Sigma specification v2.1.0.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsigma_parser::{Modifier, SigmaString, SigmaValue, SpecialChar, StringPart};

use crate::pred::{Atom, Op, Pred, Span, Value};

/// The five characters `windash` makes interchangeable.
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// Most bytes of text the encoding modifiers (`base64`, `base64offset`, `wide`,
/// `utf16*`) of one value may make before the item is approximated instead.
const MAX_ENCODED_BYTES: usize = 1 << 20;

/// Most variants `windash` may create before the item is approximated instead.
const MAX_WINDASH_VARIANTS: usize = 625;

/// A value after its encoding modifiers: text to match, with wildcards where the rule
/// wrote them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Piece {
    Text(String),
    Any,
    One,
}

/// The item as a predicate, or why it cannot be lowered exactly.
pub fn lower_item(field: &str, modifiers: &[Modifier], values: &[SigmaValue], span: Span) -> Result<Pred, String> {
    let has = |m: Modifier| modifiers.contains(&m);
    let atom = |op: Op, negated: bool, cs: bool, value: Value| {
        Pred::Atom(Atom {
            span: span.clone(),
            ..Atom::new(field, op, negated, cs, vec![value])
        })
    };
    if has(Modifier::Exists) {
        let exists = match values {
            [SigmaValue::Bool(b)] => *b,
            [SigmaValue::String(s)] if s.original.eq_ignore_ascii_case("true") => true,
            [SigmaValue::String(s)] if s.original.eq_ignore_ascii_case("false") => false,
            _ => return Err(format!("`{field}|exists` takes true or false")),
        };
        // Present, even if empty: not null.
        return Ok(atom(Op::Equals, exists, true, Value::Null));
    }
    let numeric = [
        (Modifier::Gt, Op::Gt),
        (Modifier::Gte, Op::Ge),
        (Modifier::Lt, Op::Lt),
        (Modifier::Lte, Op::Le),
    ];
    if let Some((_, op)) = numeric.iter().find(|(m, _)| has(*m)) {
        let preds: Result<Vec<Pred>, String> = values
            .iter()
            .map(|v| match v {
                SigmaValue::Integer(n) => Ok(atom(*op, false, true, Value::Num(n.to_string()))),
                SigmaValue::Float(n) => Ok(atom(*op, false, true, Value::Num(n.to_string()))),
                SigmaValue::String(s) if crate::pred::parse_number(&s.original).is_some() => {
                    Ok(atom(*op, false, true, Value::Num(s.original.clone())))
                }
                other => Err(format!("`{field}` compares a number with `{other}`")),
            })
            .collect();
        return Ok(combine(preds?, has(Modifier::All)));
    }
    if has(Modifier::Re) {
        let mut flags = String::new();
        for (m, f) in [
            (Modifier::IgnoreCase, 'i'),
            (Modifier::Multiline, 'm'),
            (Modifier::DotAll, 's'),
        ] {
            if has(m) {
                flags.push(f);
            }
        }
        let preds: Result<Vec<Pred>, String> = values
            .iter()
            .map(|v| {
                let pattern = v.to_string();
                let pattern = if flags.is_empty() {
                    pattern
                } else {
                    format!("(?{flags}){pattern}")
                };
                // Look-around and back-references (PCRE, which Sigma backends pass on)
                // are beyond the regex engine fpx decides with: unknown, not "never".
                match regex::Regex::new(&pattern) {
                    Ok(re) => Ok(not_null(
                        field,
                        &re,
                        atom(Op::MatchesRegex, false, true, Value::Str(pattern)),
                        &span,
                    )),
                    Err(e) => Err(format!(
                        "`{field}|re` uses a construct fpx's regular expressions do not decide ({})",
                        e.to_string().lines().last().unwrap_or("").trim()
                    )),
                }
            })
            .collect();
        return Ok(combine(preds?, has(Modifier::All)));
    }
    if has(Modifier::Cidr) {
        let preds: Result<Vec<Pred>, String> = values.iter().map(|v| in_range(field, &v.to_string(), &span)).collect();
        return Ok(combine(preds?, has(Modifier::All)));
    }
    let cased = has(Modifier::Cased);
    let mut preds = Vec::new();
    for value in values {
        let pieces = match value {
            SigmaValue::Null => {
                preds.push(atom(Op::Equals, false, true, Value::Null));
                continue;
            }
            SigmaValue::Integer(n) => vec![vec![Piece::Text(n.to_string())]],
            SigmaValue::Float(n) => vec![vec![Piece::Text(n.to_string())]],
            SigmaValue::Bool(b) => vec![vec![Piece::Text(b.to_string())]],
            SigmaValue::String(s) => encoded(s, modifiers)?,
        };
        let mut variants = Vec::new();
        for mut p in pieces {
            if has(Modifier::Contains) || has(Modifier::EndsWith) {
                p.insert(0, Piece::Any);
            }
            if has(Modifier::Contains) || has(Modifier::StartsWith) {
                p.push(Piece::Any);
            }
            variants.push(matcher(field, &p, cased, &span));
        }
        let pred = if variants.len() == 1 {
            variants.pop().expect("one")
        } else {
            Pred::Or(variants)
        };
        preds.push(if has(Modifier::Neq) {
            // Differs from the value: a null field differs from nothing (rsigma-eval).
            Pred::And(vec![
                Pred::Not(Box::new(pred)),
                atom(Op::Equals, true, true, Value::Null),
            ])
        } else {
            pred
        });
    }
    Ok(combine(preds, has(Modifier::All) || has(Modifier::Neq)))
}

/// Values are OR-linked, or AND-linked with `|all` (and `|neq`: differs from each).
fn combine(mut preds: Vec<Pred>, all: bool) -> Pred {
    match preds.len() {
        1 => preds.pop().expect("one"),
        _ if all => Pred::And(preds),
        _ => Pred::Or(preds),
    }
}

/// A string value after `windash` and the encoding modifiers, as one or more
/// alternatives of text and wildcards.
fn encoded(s: &SigmaString, modifiers: &[Modifier]) -> Result<Vec<Vec<Piece>>, String> {
    let mut pieces: Vec<Piece> = s
        .parts
        .iter()
        .map(|p| match p {
            StringPart::Plain(t) => Piece::Text(t.clone()),
            StringPart::Special(SpecialChar::WildcardMulti) => Piece::Any,
            StringPart::Special(SpecialChar::WildcardSingle) => Piece::One,
        })
        .collect();
    // Adjacent text (after escapes) is one piece.
    pieces.dedup_by(|b, a| match (a, b) {
        (Piece::Text(a), Piece::Text(b)) => {
            a.push_str(b);
            true
        }
        _ => false,
    });
    let mut alternatives = vec![pieces];
    if modifiers.contains(&Modifier::WindAsh) {
        alternatives = alternatives
            .into_iter()
            .map(windash)
            .collect::<Result<Vec<_>, _>>()?
            .concat();
    }
    let encoders: Vec<&Modifier> = modifiers
        .iter()
        .filter(|m| {
            matches!(
                m,
                Modifier::Wide | Modifier::Utf16 | Modifier::Utf16be | Modifier::Base64 | Modifier::Base64Offset
            )
        })
        .collect();
    if encoders.is_empty() {
        return Ok(alternatives);
    }
    let mut out = Vec::new();
    for alternative in alternatives {
        let [Piece::Text(text)] = alternative.as_slice() else {
            return Err(format!("`{}` has wildcards under an encoding modifier", s.original));
        };
        let mut bytes: Vec<Vec<u8>> = vec![text.as_bytes().to_vec()];
        let mut textual = true;
        for m in &encoders {
            // Each encoder grows the text (base64 by 4/3, UTF-16 by 2, base64offset into
            // three texts): a chain of them would need gigabytes. Past the limit the
            // item is approximated (FPX401) instead.
            let total: usize = bytes.iter().map(|b| b.len() + 4).sum();
            let grown = match m {
                Modifier::Base64Offset => total.saturating_mul(4),
                _ => total.saturating_mul(2),
            };
            if grown > MAX_ENCODED_BYTES {
                return Err(format!(
                    "the encoding modifiers of `{}` make more than {MAX_ENCODED_BYTES} bytes of text",
                    s.original
                ));
            }
            match m {
                Modifier::Wide => bytes = bytes.iter().map(|b| utf16(b, false, false)).collect(),
                Modifier::Utf16be => bytes = bytes.iter().map(|b| utf16(b, true, false)).collect(),
                Modifier::Utf16 => bytes = bytes.iter().map(|b| utf16(b, false, true)).collect(),
                Modifier::Base64 => bytes = bytes.iter().map(|b| STANDARD.encode(b).into_bytes()).collect(),
                Modifier::Base64Offset => bytes = bytes.iter().flat_map(|b| base64_offsets(b)).collect(),
                _ => {}
            }
            textual = matches!(m, Modifier::Base64 | Modifier::Base64Offset);
        }
        if !textual {
            return Err("UTF-16 text without base64 is binary, which events do not carry as text".into());
        }
        for b in bytes {
            out.push(vec![Piece::Text(String::from_utf8(b).map_err(|e| e.to_string())?)]);
        }
    }
    Ok(out)
}

/// Every permutation of the five dash characters at each dash of the value.
fn windash(pieces: Vec<Piece>) -> Result<Vec<Vec<Piece>>, String> {
    let dashes: usize = pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.chars().filter(|c| DASHES.contains(c)).count(),
            _ => 0,
        })
        .sum();
    if DASHES
        .len()
        .checked_pow(dashes as u32)
        .is_none_or(|n| n > MAX_WINDASH_VARIANTS)
    {
        return Err(format!(
            "`windash` on a value with {dashes} dashes makes more than {MAX_WINDASH_VARIANTS} variants"
        ));
    }
    let mut out = vec![Vec::new()];
    for piece in pieces {
        match piece {
            Piece::Text(t) => {
                let mut texts = vec![String::new()];
                for c in t.chars() {
                    let options: Vec<char> = if DASHES.contains(&c) { DASHES.to_vec() } else { vec![c] };
                    texts = texts
                        .iter()
                        .flat_map(|s| {
                            options.iter().map(move |o| {
                                let mut s = s.clone();
                                s.push(*o);
                                s
                            })
                        })
                        .collect();
                }
                out = out
                    .into_iter()
                    .flat_map(|prefix: Vec<Piece>| {
                        texts.iter().map(move |t| {
                            let mut p = prefix.clone();
                            p.push(Piece::Text(t.clone()));
                            p
                        })
                    })
                    .collect();
            }
            other => out.iter_mut().for_each(|p| p.push(other.clone())),
        }
    }
    Ok(out)
}

fn utf16(bytes: &[u8], big_endian: bool, bom: bool) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    if bom {
        out.extend([0xFF, 0xFE]);
    }
    for unit in text.encode_utf16() {
        let pair = if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        };
        out.extend(pair);
    }
    out
}

/// The three base64 forms of a value at byte offsets 0, 1 and 2 of the encoded stream,
/// without the characters that depend on its neighbours (as pySigma computes them).
fn base64_offsets(value: &[u8]) -> Vec<Vec<u8>> {
    let starts = [0usize, 2, 3];
    (0..3)
        .map(|i| {
            let mut shifted = vec![b' '; i];
            shifted.extend_from_slice(value);
            let encoded = STANDARD.encode(&shifted).into_bytes();
            let end = match (value.len() + i) % 3 {
                0 => encoded.len(),
                1 => encoded.len().saturating_sub(3),
                _ => encoded.len().saturating_sub(2),
            };
            encoded[starts[i].min(end)..end].to_vec()
        })
        .collect()
}

/// Text and wildcards as the narrowest exact operator: equality, `contains`,
/// `startswith`, `endswith`, true for `*`, else a regular expression.
pub(crate) fn matcher(field: &str, pieces: &[Piece], cased: bool, span: &Span) -> Pred {
    let atom = |op: Op, value: &str| {
        Pred::Atom(Atom {
            span: span.clone(),
            ..Atom::new(field, op, false, cased, vec![Value::Str(value.to_string())])
        })
    };
    let null = |negated: bool| {
        Pred::Atom(Atom {
            span: span.clone(),
            ..Atom::new(field, Op::Equals, negated, true, vec![Value::Null])
        })
    };
    match pieces {
        // The empty string, which a field that is absent (null) does not hold.
        [] => Pred::And(vec![atom(Op::Equals, ""), null(true)]),
        [Piece::Text(t)] => atom(Op::Equals, t),
        // A lone wildcard matches any value the field has, the empty one too: the
        // field is not null (the specification; rsigma-eval and pySigma agree).
        [Piece::Any] => null(true),
        [Piece::Any, Piece::Text(t), Piece::Any] => atom(Op::Contains, t),
        [Piece::Text(t), Piece::Any] => atom(Op::StartsWith, t),
        [Piece::Any, Piece::Text(t)] => atom(Op::EndsWith, t),
        _ if pieces.iter().all(|p| *p == Piece::Any) => matcher(field, &[Piece::Any], cased, span),
        _ => {
            // Letter case folds as in `contains`/`startswith`/`endswith`: ASCII letters
            // only (`(?i-u:...)`), so one value means the same with or without `*`.
            let mut re = String::from("(?s)^");
            for p in pieces {
                match p {
                    Piece::Text(t) if cased => re.push_str(&regex::escape(t)),
                    Piece::Text(t) => {
                        re.push_str("(?i-u:");
                        re.push_str(&regex::escape(t));
                        re.push(')');
                    }
                    Piece::Any => re.push_str(".*"),
                    Piece::One => re.push('.'),
                }
            }
            re.push('$');
            let compiled = regex::Regex::new(&re).expect("escaped text and wildcards are a valid pattern");
            let test = Pred::Atom(Atom {
                span: span.clone(),
                ..Atom::new(field, Op::MatchesRegex, false, true, vec![Value::Str(re)])
            });
            not_null(field, &compiled, test, span)
        }
    }
}

/// A regular expression test that an absent field must not pass: guarded by "not
/// null" when the pattern matches the empty text (what an absent field reads as) or the
/// null text (`?`, `.*`).
pub(crate) fn not_null(field: &str, re: &regex::Regex, test: Pred, span: &Span) -> Pred {
    if re.is_match("") || re.is_match(crate::pred::NULL) {
        let guard = Pred::Atom(Atom {
            span: span.clone(),
            ..Atom::new(field, Op::Equals, true, true, vec![Value::Null])
        });
        Pred::And(vec![test, guard])
    } else {
        test
    }
}

/// A dotted-quad IPv4 range as the prefixes of the addresses in it: `10.0.0.0/8` is
/// `10.`, `172.16.0.0/12` is `172.16.` ... `172.31.`. Exact on dotted-quad text.
pub(crate) fn cidr(range: &str) -> Result<Vec<String>, String> {
    let (address, bits) = range.split_once('/').unwrap_or((range, "32"));
    let octets: Vec<u8> = address
        .split('.')
        .map(|o| o.parse::<u8>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("`{range}` is not an IPv4 range"))?;
    let bits: u32 = bits.parse().map_err(|_| format!("`{range}` has no prefix length"))?;
    if octets.len() != 4 || bits > 32 {
        return Err(format!("`{range}` is not an IPv4 range"));
    }
    let whole = (bits / 8) as usize;
    let rest = bits % 8;
    let fixed: Vec<String> = octets[..whole].iter().map(u8::to_string).collect();
    if rest == 0 {
        let mut prefix = fixed.join(".");
        if whole < 4 && whole > 0 {
            prefix.push('.');
        }
        // `/0` is every address; `/32` one address (a prefix followed by the end).
        return Ok(vec![prefix]);
    }
    let base = octets[whole] & (0xFFu8 << (8 - rest));
    let count = 1u16 << (8 - rest);
    Ok((0..count)
        .map(|k| {
            let mut parts = fixed.clone();
            parts.push((u16::from(base) + k).to_string());
            let mut p = parts.join(".");
            if whole + 1 < 4 {
                p.push('.');
            }
            p
        })
        .collect())
}

/// An IPv6 range on the canonical text of addresses (RFC 5952: lower-case hex, no
/// leading zeros, the longest run of zero groups as `::`), as events carry them: one
/// address (`/128`) is that text; a range within the first group, when that group has
/// four hex digits (`fe80::/10`, `fc00::/7`), is a regular expression on it. Other
/// ranges are not lowered.
fn ipv6_cidr(range: &str) -> Result<(Op, String), String> {
    let unsupported =
        || format!("`{range}` is an IPv6 range fpx does not lower (only /128 and ranges within a 4-digit first group)");
    let (address, bits) = range.split_once('/').unwrap_or((range, "128"));
    let address: std::net::Ipv6Addr = address.parse().map_err(|_| unsupported())?;
    let bits: u32 = bits.parse().map_err(|_| unsupported())?;
    if bits == 128 {
        return Ok((Op::Equals, address.to_string()));
    }
    let first = address.segments()[0];
    if bits > 16 || first < 0x1000 {
        return Err(unsupported());
    }
    // The first group's four hex digits: fixed ones, one partly fixed, then free ones.
    let mut re = String::from("^");
    for digit in 0..4u32 {
        let fixed = bits.saturating_sub(digit * 4).min(4);
        let value = (first >> (12 - digit * 4)) & 0xF;
        match fixed {
            4 => re.push_str(&format!("{value:x}")),
            0 => re.push_str("[0-9a-f]"),
            n => {
                // Every digit listed: an ASCII range like `8-b` would also take `:` to `a`.
                let low = value & (0xF << (4 - n));
                let high = low | (0xF >> n);
                let digits: String = (low..=high).map(|d| format!("{d:x}")).collect();
                re.push_str(&format!("[{digits}]"));
            }
        }
    }
    re.push(':');
    Ok((Op::MatchesRegex, format!("(?i){re}")))
}

/// `field` holds an address in `range` (IPv4 or IPv6, with or without a prefix
/// length), read on its text as [`cidr`] and [`ipv6_cidr`] say.
pub(crate) fn in_range(field: &str, range: &str, span: &Span) -> Result<Pred, String> {
    if range.contains(':') {
        let (op, value) = ipv6_cidr(range)?;
        return Ok(Pred::Atom(Atom {
            span: span.clone(),
            ..Atom::new(field, op, false, false, vec![Value::Str(value)])
        }));
    }
    cidr(range).map(|prefixes| starts_any(field, &prefixes, span))
}

/// `field` starts with one of `prefixes` (a whole address, for a /32).
pub(crate) fn starts_any(field: &str, prefixes: &[String], span: &Span) -> Pred {
    let preds: Vec<Pred> = prefixes
        .iter()
        .map(|p| {
            let op = if p.matches('.').count() == 3 && !p.ends_with('.') {
                Op::Equals
            } else {
                Op::StartsWith
            };
            Pred::Atom(Atom {
                span: span.clone(),
                ..Atom::new(field, op, false, true, vec![Value::Str(p.clone())])
            })
        })
        .collect();
    combine(preds, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_ranges_are_octet_prefixes() {
        assert_eq!(cidr("10.0.0.0/8").unwrap(), ["10."]);
        assert_eq!(cidr("192.168.0.0/16").unwrap(), ["192.168."]);
        assert_eq!(cidr("172.16.0.0/12").unwrap().len(), 16);
        assert_eq!(cidr("172.16.0.0/12").unwrap()[15], "172.31.");
        assert_eq!(cidr("1.2.3.4/32").unwrap(), ["1.2.3.4"]);
        assert!(cidr("::1/128").is_err());
        assert_eq!(ipv6_cidr("::1/128").unwrap(), (Op::Equals, "::1".to_string()));
        assert_eq!(ipv6_cidr("fe80::/10").unwrap().1, "(?i)^fe[89ab][0-9a-f]:");
        assert_eq!(ipv6_cidr("fc00::/7").unwrap().1, "(?i)^f[cd][0-9a-f][0-9a-f]:");
        assert!(ipv6_cidr("2a01:111:f403::/48").is_err());
    }

    #[test]
    fn base64offset_matches_pysigma() {
        // pySigma: base64offset of "/c" is ["L2", "9j", "vY"] (SigmaHQ's regression tests).
        let forms: Vec<String> = base64_offsets(b"/c")
            .into_iter()
            .map(|b| String::from_utf8(b).unwrap())
            .collect();
        assert_eq!(forms, ["L2", "9j", "vY"]);
        let forms: Vec<String> = base64_offsets(b"ping")
            .into_iter()
            .map(|b| String::from_utf8(b).unwrap())
            .collect();
        assert_eq!(forms, ["cGluZ", "Bpbm", "waW5n"]);
    }

    #[test]
    fn windash_makes_every_dash_variant() {
        let v = windash(vec![Piece::Text("-enc".into())]).unwrap();
        assert_eq!(v.len(), 5);
        assert!(v.contains(&vec![Piece::Text("\u{2015}enc".into())]));
    }
}
