//! Does the query compile? The checks behind FPX403, phase by phase: strings and
//! brackets on the tokens ([`super::lex`]), then the syntax ([`super::parse`]), then
//! names ([`super::bind`]) and calls ([`super::calls`]) on the syntax tree. Each error
//! is one Kusto.Language reports too (tests compare both on the corpora and on
//! mutations of them).

use super::lex::{Tok, Token, tokens};
use super::parse::parse;
use crate::pred::Span;

pub use crate::model::QueryError;

/// Every reason `query` does not compile that fpx can be sure of.
pub fn validate(query: &str) -> Vec<QueryError> {
    validated(query).0
}

/// [`validate`], and the syntax tree (recovered past syntax errors: a stage the parser
/// could not read is [`super::ast::StageBody::Unread`] with no operator), unless the
/// tokens are too broken to parse or the query nests too deep.
pub(super) fn validated(query: &str) -> (Vec<QueryError>, Option<super::parse::Parsed>) {
    let mut errors = Vec::new();
    if !structure(&tokens(query), &mut errors) {
        return (errors, None);
    }
    // Nested deeper than the parser reads: not checked.
    let Ok(parsed) = parse(query) else {
        return (errors, None);
    };
    let syntax_ok = parsed.errors.is_empty();
    errors.extend(parsed.errors.iter().cloned());
    errors.extend(super::bind::check(&parsed.query, super::literal::Src(query)));
    // Calls are checked on a complete tree.
    if syntax_ok {
        errors.extend(super::calls::check(&parsed.query));
    }
    errors.sort_by_key(|e| e.span.start);
    (errors, Some(parsed))
}

/// The error that makes the query unreadable past a point: a string never closed, a
/// bracket never closed or closed by the wrong one (found on the tokens, before the
/// syntax is read).
pub fn unreadable(query: &str) -> Option<QueryError> {
    let mut errors = Vec::new();
    structure(&tokens(query), &mut errors);
    errors.into_iter().next()
}

fn error(errors: &mut Vec<QueryError>, span: Span, message: String, help: Option<String>) {
    errors.push(QueryError { span, message, help });
}

/// Strings and brackets; false when the query is too broken to read further.
fn structure(toks: &[Token], errors: &mut Vec<QueryError>) -> bool {
    let mut stack: Vec<&Token> = Vec::new();
    for t in toks {
        if t.kind == Tok::Unclosed {
            error(
                errors,
                t.span.start..t.span.start + 1,
                "this string is never closed".into(),
                Some("close it with the same quote it starts with".into()),
            );
            return false;
        }
        if t.kind != Tok::Punct {
            continue;
        }
        match t.text {
            "(" | "[" | "{" => stack.push(t),
            ")" | "]" | "}" => {
                let expected = match stack.pop().map(|o| o.text) {
                    Some("(") => ")",
                    Some("[") => "]",
                    Some(_) => "}",
                    None => {
                        error(errors, t.span.clone(), format!("`{}` closes nothing", t.text), None);
                        return false;
                    }
                };
                if t.text != expected {
                    error(
                        errors,
                        t.span.clone(),
                        format!("expected `{expected}`, found `{}`", t.text),
                        None,
                    );
                    return false;
                }
            }
            _ => {}
        }
    }
    if let Some(open) = stack.pop() {
        error(
            errors,
            open.span.clone(),
            format!("this `{}` is never closed", open.text),
            None,
        );
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(query: &str) -> Vec<String> {
        validate(query).into_iter().map(|e| e.message).collect()
    }

    #[test]
    fn names_are_followed_through_the_pipeline() {
        assert!(
            errors("DeviceNetworkEvents | where RemotePort == 443 | extend P = RemotePort | where P > 1").is_empty()
        );
        let e = validate("DeviceNetworkEvents | summarize count() by DeviceId, AccountUpn");
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(
            e[0].help.as_deref(),
            Some("did you mean `InitiatingProcessAccountUpn`?")
        );
        assert!(errors("DeviceProcessEvents | project-rename Cmd = ProcessCommandLine | where Cmd has 'x'").is_empty());
        assert_eq!(
            errors("DeviceProcessEvents | project-rename Cmd = ProcessCommandLine | where ProcessCommandLine has 'x'")
                .len(),
            1
        );
        assert_eq!(
            errors("DeviceProcessEvents | project FileName | where FolderPath has 'x'").len(),
            1
        );
        assert!(errors("DeviceProcessEvents | summarize n = count() by DeviceId | where n > 5").is_empty());
        assert_eq!(
            errors("DeviceProcessEvents | summarize count() by DeviceId, DeviceId").len(),
            1
        );
        assert!(errors("DeviceProcessEvents | summarize count() by DeviceId | where count_ > 5").is_empty());
        // A name KQL derives from `bin(...)` is made unique (Kusto.Language accepts these);
        // two written names clash.
        assert!(errors("DeviceInfo | summarize by bin(Timestamp, 1d), Timestamp").is_empty());
        assert!(errors("DeviceInfo | project Timestamp, bin(Timestamp, 1d)").is_empty());
        assert_eq!(
            errors("DeviceInfo | summarize DeviceName = count() by DeviceName").len(),
            1
        );
        assert_eq!(
            errors("DeviceInfo | summarize by T = bin(Timestamp, 1d), T = DeviceName").len(),
            1
        );
        assert!(
            errors("DeviceProcessEvents | summarize (T, Cmd) = arg_max(Timestamp, ProcessCommandLine) by DeviceId | where Cmd has 'x'")
                .is_empty()
        );
        assert_eq!(
            errors("DeviceProcessEvents | summarize (T, Cmd) = arg_max(Timestamp, ProcessCommandLine) by DeviceId | where Cmdx has 'x'")
                .len(),
            1
        );
        assert!(errors("let L = dynamic(['a']); DeviceProcessEvents | where FileName in~ (L)").is_empty());
        assert!(errors("DeviceProcessEvents | join (DeviceFileEvents) on DeviceId | where Anything == 1").is_empty());
    }

    #[test]
    fn operators_tables_and_syntax() {
        let e = validate("DeviceProcessEvents | wher FileName =~ 'x'");
        assert_eq!(e[0].help.as_deref(), Some("did you mean `where`?"));
        let e = validate("DeviceProcesEvents | where FileName =~ 'x'");
        assert_eq!(e[0].help.as_deref(), Some("did you mean `DeviceProcessEvents`?"));
        assert_eq!(
            errors("DeviceFileCertificateInfo | Sha1 in ('a')").len(),
            2,
            "no operator, and Sha1 is not SHA1"
        );
        assert_eq!(
            errors("DeviceProcessEvents | where FolderPath has_all has_any ('a')").len(),
            1
        );
        assert_eq!(errors("DeviceProcessEvents | where FileName has_any ('a', )").len(), 1);
        assert_eq!(errors("DeviceProcessEvents | where (FileName == 'a'").len(), 1);
        assert_eq!(errors("DeviceProcessEvents | where FileName == 'a").len(), 1);
        assert_eq!(
            errors("DeviceProcessEvents | where FileName == 'a' AND FolderPath == 'b'").len(),
            1
        );
        assert_eq!(errors("DeviceProcessEvents | ").len(), 1);
        assert!(
            errors(
                "DeviceProcessEvents | where Timestamp > datetime(2024-01-01T10:00:00Z) and TimeGenerated > ago(1d)"
            )
            .is_empty()
        );
    }
}
