//! Where a finding of `fpx check` is: the file, line and column, and the text a
//! snippet shows around it.

use std::path::Path;

use crate::checks::{Finding, RuleResult, ScenarioResult};

/// A finding's place in its file, and the text to draw it on.
pub struct Place<'a> {
    pub file: &'a Path,
    /// 1-based line and column of the finding's first character.
    pub line: usize,
    pub column: usize,
    /// Text the snippet shows, its first line's number, and where the finding's spans
    /// start in it.
    pub source: &'a str,
    pub first_line: usize,
    pub offset: usize,
}

/// For a rule-level finding: its spans index the whole rule file.
pub fn in_rule<'a>(rule: &'a RuleResult, finding: &Finding) -> Place<'a> {
    let source = rule.rule.source.as_str();
    let (line, column) = line_column(source, finding.span.start);
    Place {
        file: &rule.rule.file,
        line,
        column,
        source,
        first_line: 1,
        offset: 0,
    }
}

/// For a finding on an exclusion: its spans index the exclusion, which starts at the
/// scenario's line and column; the snippet shows the file's line when the exclusion
/// is written on it verbatim.
pub fn in_scenario<'a>(s: &'a ScenarioResult, finding: &Finding) -> Place<'a> {
    if let Some(line) = finding.line {
        let text = s.source.lines().nth(line.saturating_sub(1)).unwrap_or("");
        let (_, column) = line_column(text, finding.span.start);
        return Place {
            file: &s.file,
            line,
            column,
            source: text,
            first_line: line,
            offset: 0,
        };
    }
    let line_text = s.source.lines().nth(s.line.saturating_sub(1)).unwrap_or("");
    let col_byte = line_text
        .char_indices()
        .nth(s.column.saturating_sub(1))
        .map_or(line_text.len(), |(i, _)| i);
    let verbatim = !s.exclusion.contains('\n') && line_text[col_byte..].starts_with(s.exclusion.as_str());
    let (source, offset) = if verbatim {
        (line_text, col_byte)
    } else {
        (s.exclusion.as_str(), 0)
    };
    let (dl, dc) = line_column(&s.exclusion, finding.span.start);
    Place {
        file: &s.file,
        line: s.line + dl - 1,
        column: if dl == 1 { s.column + dc - 1 } else { dc },
        source,
        first_line: s.line,
        offset,
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, byte: usize) -> (usize, usize) {
    let byte = byte.min(text.len());
    let before = &text[..byte];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..byte].chars().count() + 1)
}
