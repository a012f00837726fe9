//! Suppressions written where the finding is: `# fpx: ignore[FPX304] reason` in YAML
//! (a Sigma selection, a rule or scenario file) and `// fpx: ignore[FPX304] reason` in
//! a KQL query, on the finding's line or the line above it. A reason is required, as
//! for a scenario's `ignore:` entries.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use super::select::{Selector, parse_all};
use crate::corpus::LoadError;
use crate::pred::Span;

/// One `fpx: ignore[...]` comment.
#[derive(Debug, Clone)]
pub struct Comment {
    pub file: PathBuf,
    /// 1-based line of the comment.
    pub line: usize,
    /// The comment's bytes on its line.
    pub span: Span,
    pub codes: Vec<Selector>,
    pub reason: String,
}

impl Comment {
    /// The codes as written, for messages: `FPX304, FPX105`.
    pub fn codes_text(&self) -> String {
        self.codes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether the comment covers a finding that claims `lines` (its own line, its
    /// exclusion's first line, a Sigma selection's name): on one of them or just above.
    pub fn covers(&self, lines: &[usize]) -> bool {
        lines.iter().any(|&l| l == self.line || l == self.line + 1)
    }
}

static COMMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:#|//)\s*fpx\s*:\s*ignore\s*(?:\[([^\]]*)\])?(.*)$").expect("the comment pattern is valid")
});

/// The `fpx: ignore[...]` comments of a file. A comment without codes, with an unknown
/// code or without a reason is an input error at its line.
pub fn comments(file: &Path, source: &str) -> Result<Vec<Comment>, LoadError> {
    let mut out = Vec::new();
    if !source.contains("fpx") {
        return Ok(out);
    }
    for (i, line) in source.lines().enumerate() {
        let Some(m) = COMMENT.captures(line) else {
            continue;
        };
        let whole = m.get(0).expect("group 0 is the match");
        let column = line[..whole.start()].chars().count() + 1;
        let error = |message: String| Err(LoadError::at(file, i + 1, column, message));
        let Some(codes) = m.get(1) else {
            return error("`fpx: ignore` needs the codes it silences: `fpx: ignore[FPX304] reason`".into());
        };
        let names: Vec<&str> = codes
            .as_str()
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        if names.is_empty() {
            return error("`fpx: ignore[]` names no code: write `fpx: ignore[FPX304] reason`".into());
        }
        let codes = match parse_all(&names) {
            Ok(codes) => codes,
            Err(e) => return error(format!("in `fpx: ignore[...]`: {e}")),
        };
        let reason = m
            .get(2)
            .map_or("", |r| r.as_str())
            .trim()
            .trim_start_matches([':', '-', '—', '–'])
            .trim();
        if reason.is_empty() {
            return error(format!(
                "`fpx: ignore[{}]` needs a reason after it: `fpx: ignore[{0}] why this is fine`",
                names.join(", ")
            ));
        }
        out.push(Comment {
            file: file.to_path_buf(),
            line: i + 1,
            span: whole.start()..whole.end(),
            codes,
            reason: reason.to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_kql_comments_are_read_with_their_reasons() {
        let text = "detection:\n    # fpx: ignore[FPX304, FPX105] only admins write there\n    filter: x\nquery: |\n  T | where A != 1 // fpx: ignore[FPX3]: known\n";
        let c = comments(Path::new("r.yml"), text).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].line, c[0].codes_text().as_str()), (2, "FPX304, FPX105"));
        assert_eq!(c[0].reason, "only admins write there");
        assert_eq!((c[1].line, c[1].reason.as_str()), (5, "known"));
        assert!(c[0].covers(&[3]) && c[0].covers(&[2]) && !c[0].covers(&[4]) && !c[0].covers(&[1]));
    }

    #[test]
    fn a_comment_without_a_reason_or_with_a_bad_code_is_an_error_at_its_line() {
        let e = comments(Path::new("r.yml"), "a: 1\n  # fpx: ignore[FPX304]\n").unwrap_err();
        assert!(e.to_string().starts_with("r.yml:2:3: "), "{e}");
        assert!(e.to_string().contains("needs a reason"), "{e}");
        let e = comments(Path::new("r.yml"), "# fpx: ignore[FPX999] x\n").unwrap_err();
        assert!(e.to_string().contains("FPX999"), "{e}");
        let e = comments(Path::new("r.yml"), "# fpx: ignore because\n").unwrap_err();
        assert!(e.to_string().contains("needs the codes"), "{e}");
    }
}
