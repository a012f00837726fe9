//! A KQL lexer for checking a query's names and structure (FPX403): identifiers,
//! operator words (`!contains`, `in~`), literals, punctuation, with byte spans. It
//! follows learn.microsoft.com's KQL string literal forms (`"..."` and `'...'` with
//! escapes, `@"..."` verbatim with doubled quotes, `h"..."` obfuscated, ```` ``` ````
//! multi-line) and never fails: what it cannot close is an [`Tok::Unclosed`] token.

use crate::pred::Span;

/// A token kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    /// A name or keyword; `!contains`, `in~` and `project-away` are one word each.
    Word,
    /// A string literal (any form).
    Str,
    /// A number, possibly with a unit or exponent (`7d`, `1e3`, `0x10`).
    Num,
    /// Punctuation: `(`, `==`, `..`, `|`, ...
    Punct,
    /// A string that is never closed (from its opening quote to the end of the text).
    Unclosed,
}

/// One token and where it is in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Token<'a> {
    pub kind: Tok,
    pub text: &'a str,
    pub span: Span,
}

impl Token<'_> {
    pub fn is(&self, punct: &str) -> bool {
        self.kind == Tok::Punct && self.text == punct
    }
}

const TWO_CHAR: [&str; 9] = ["==", "!=", "=~", "!~", "<=", ">=", "<>", "..", "=>"];

/// `text` with the inside of every `// ...` comment (outside strings) replaced by
/// spaces, byte for byte, so spans are unchanged: what the grammar reads. A comment is
/// nothing to KQL, and brackets in one sent the grammar into exponential backtracking.
pub fn blank_comments(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("//") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = text.as_bytes().to_vec();
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with("//") {
            let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
            out[i..end].fill(b' ');
            i = end;
        } else if let Some(end) = string_at(text, i) {
            i = end.unwrap_or(text.len());
        } else {
            i += text[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    std::borrow::Cow::Owned(String::from_utf8(out).expect("only whole comments became spaces"))
}

/// The tokens of `text`; comments (`// ...`) are dropped.
pub fn tokens(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let kind = if c.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if let Some(len) = wide_space(&text[i..]) {
            i += len;
            continue;
        } else if text[i..].starts_with("//") {
            i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
            continue;
        } else if let Some(end) = string_at(text, i) {
            i = end.unwrap_or(bytes.len());
            if end.is_some() { Tok::Str } else { Tok::Unclosed }
        } else if c.is_ascii_digit() {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || number_dot(bytes, i)) {
                i += 1;
            }
            Tok::Num
        } else if is_word_start(c) || (c == b'!' && bytes.get(i + 1).is_some_and(|&b| b.is_ascii_alphabetic())) {
            i += 1;
            while i < bytes.len() {
                let b = bytes[i];
                // `project-away`, `mv-expand`: a dash between letters joins the word.
                let dash = b == b'-'
                    && bytes.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic())
                    && bytes[i - 1].is_ascii_alphabetic()
                    && is_dashed_word(&text[start..], i - start);
                if b.is_ascii_alphanumeric() || b == b'_' || dash {
                    i += 1;
                } else {
                    break;
                }
            }
            if bytes.get(i) == Some(&b'~') {
                i += 1;
            }
            Tok::Word
        } else {
            let len = if TWO_CHAR.iter().any(|p| text[i..].starts_with(p)) {
                2
            } else {
                text[i..].chars().next().map_or(1, char::len_utf8)
            };
            i += len;
            Tok::Punct
        };
        out.push(Token {
            kind,
            text: &text[start..i],
            span: start..i,
        });
    }
    out
}

/// The length of a non-ASCII space at the start of `text`: Kusto reads every Unicode
/// space (no-break, narrow, em, ...), the zero-width space and the byte order mark as
/// white space, and real queries pasted from web pages carry them.
pub fn wide_space(text: &str) -> Option<usize> {
    let c = text.chars().next()?;
    (!c.is_ascii() && (c.is_whitespace() || c == '\u{200B}' || c == '\u{FEFF}')).then(|| c.len_utf8())
}

/// Words of KQL that contain a dash (query operators).
const DASHED: [&str; 11] = [
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "project-smart",
    "mv-expand",
    "mv-apply",
    "parse-where",
    "parse-kv",
    "make-series",
    "top-nested",
];

/// Whether the dash at `dash_at` of `from_word` (text from the word's start) is inside
/// one of the [`DASHED`] operator names.
fn is_dashed_word(from_word: &str, dash_at: usize) -> bool {
    DASHED.iter().any(|w| {
        w.as_bytes().get(dash_at) == Some(&b'-') && from_word.get(..w.len()).is_some_and(|p| p.eq_ignore_ascii_case(w))
    })
}

fn is_word_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'$'
}

/// A `.` inside a number (`1.5`), not the range `..`.
fn number_dot(bytes: &[u8], i: usize) -> bool {
    bytes[i] == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) && bytes.get(i - 1) != Some(&b'.')
}

/// If a string literal starts at `i`: `Some(Some(end))`, or `Some(None)` when it is
/// never closed.
fn string_at(text: &str, i: usize) -> Option<Option<usize>> {
    let bytes = text.as_bytes();
    let mut j = i;
    // `h"..."`, `H@'...'`: obfuscated strings.
    if matches!(bytes[j], b'h' | b'H') && matches!(bytes.get(j + 1), Some(b'"' | b'\'' | b'@')) {
        if bytes.get(j + 1) == Some(&b'@') && !matches!(bytes.get(j + 2), Some(b'"' | b'\'')) {
            return None;
        }
        j += 1;
    }
    if text[j..].starts_with("```") {
        return Some(text[j + 3..].find("```").map(|n| j + 3 + n + 3));
    }
    let verbatim = bytes[j] == b'@';
    if verbatim {
        j += 1;
    }
    let quote = *bytes.get(j).filter(|b| matches!(b, b'"' | b'\''))?;
    let mut k = j + 1;
    while k < bytes.len() {
        let b = bytes[k];
        if b == quote {
            if verbatim && bytes.get(k + 1) == Some(&quote) {
                k += 2;
                continue;
            }
            return Some(Some(k + 1));
        }
        if b == b'\\' && !verbatim {
            k += 2;
            continue;
        }
        if b == b'\n' && !verbatim {
            return Some(None);
        }
        k += 1;
    }
    Some(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<&str> {
        tokens(text).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn operator_words_and_literals() {
        assert_eq!(
            texts(r#"a !in~ ("x", 'y') and b !contains @"c""d" | project-away e // no"#),
            [
                "a",
                "!in~",
                "(",
                "\"x\"",
                ",",
                "'y'",
                ")",
                "and",
                "b",
                "!contains",
                "@\"c\"\"d\"",
                "|",
                "project-away",
                "e"
            ]
        );
        assert_eq!(
            texts("ago(7d) > 1.5 and x between (1 .. 2)"),
            [
                "ago", "(", "7d", ")", ">", "1.5", "and", "x", "between", "(", "1", "..", "2", ")"
            ]
        );
        assert_eq!(
            texts("x == h'secret' or y =~ \"a\\\"b\""),
            ["x", "==", "h'secret'", "or", "y", "=~", "\"a\\\"b\""]
        );
        assert_eq!(texts("a-b"), ["a", "-", "b"]);
    }

    #[test]
    fn an_unclosed_string_is_one_token_to_the_end_of_its_line() {
        let t = tokens("x == \"abc\n| where y");
        assert_eq!(t[2].kind, Tok::Unclosed);
    }
}
