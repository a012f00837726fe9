//! Where a finding is: the file, line and column, and the text a snippet shows around
//! it. Resolved once, when the corpus is checked, so every emitter places a finding the
//! same way.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Finding, RuleResult, ScenarioResult};
use crate::corpus::RuleDoc;
use crate::pred::Span;

/// A finding's place in its file, and the text to draw it on.
#[derive(Debug, Clone, PartialEq)]
pub struct Anchor {
    pub file: PathBuf,
    /// 1-based line and column (in characters) of the finding's first character.
    pub line: usize,
    pub column: usize,
    /// Where the text the finding is about starts: its exclusion, or for a finding on
    /// the rule or a file, the finding itself.
    pub subject_line: usize,
    pub subject_column: usize,
    /// The text the finding's span and fix index (the exclusion, the rule file, a line).
    pub subject: Arc<str>,
    /// Text the snippet shows, its first line's number, and where the subject starts in it.
    pub snippet: Arc<str>,
    pub first_line: usize,
    pub offset: usize,
}

/// For a rule-level finding: its spans index the whole rule file.
pub fn in_rule(rule: &RuleResult, finding: &Finding) -> Anchor {
    let source = rule.rule.source.clone();
    let (line, column) = line_column(&source, finding.span.start);
    Anchor {
        file: rule.rule.file.clone(),
        line,
        column,
        subject_line: line,
        subject_column: column,
        subject: source.clone(),
        snippet: source,
        first_line: 1,
        offset: 0,
    }
}

/// For a finding on one line of a file (`span` indexes that line).
pub fn on_line(file: &Path, source: &str, line: usize, finding: &Finding) -> Anchor {
    let text: Arc<str> = source.lines().nth(line.saturating_sub(1)).unwrap_or("").into();
    let (_, column) = line_column(&text, finding.span.start);
    Anchor {
        file: file.to_path_buf(),
        line,
        column,
        subject_line: line,
        subject_column: column,
        subject: text.clone(),
        snippet: text,
        first_line: line,
        offset: 0,
    }
}

/// For a finding on an exclusion: its spans index the exclusion, which starts at the
/// scenario's line and column; the snippet shows the file's line when the exclusion
/// is written on it verbatim. A finding on another line (an event template) is placed
/// on that line.
pub fn in_scenario(s: &ScenarioResult, finding: &Finding) -> Anchor {
    if let Some(line) = finding.line {
        let mut anchor = on_line(&s.file, &s.source, line, finding);
        (anchor.subject_line, anchor.subject_column) = (s.line, s.column);
        return anchor;
    }
    let line_text = s.source.lines().nth(s.line.saturating_sub(1)).unwrap_or("");
    let col_byte = line_text
        .char_indices()
        .nth(s.column.saturating_sub(1))
        .map_or(line_text.len(), |(i, _)| i);
    let verbatim = !s.exclusion.contains('\n') && line_text[col_byte..].starts_with(s.exclusion.as_str());
    let subject: Arc<str> = s.exclusion.as_str().into();
    let (snippet, offset) = if verbatim {
        (line_text.into(), col_byte)
    } else {
        (subject.clone(), 0)
    };
    let (dl, dc) = line_column(&s.exclusion, finding.span.start);
    Anchor {
        file: s.file.clone(),
        line: s.line + dl - 1,
        column: if dl == 1 { s.column + dc - 1 } else { dc },
        subject_line: s.line,
        subject_column: s.column,
        subject,
        snippet,
        first_line: s.line,
        offset,
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(super) fn line_column(text: &str, byte: usize) -> (usize, usize) {
    let byte = crate::elastic::floor(text, byte);
    let before = &text[..byte];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..byte].chars().count() + 1)
}

/// The byte span of `line`:`column` (1-based) to the end of that line.
pub(super) fn line_span(source: &str, line: usize, column: usize) -> Span {
    let start_of_line: usize = source
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let text = source[start_of_line.min(source.len())..].lines().next().unwrap_or("");
    let col = text
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(text.len(), |(i, _)| i);
    let start = (start_of_line + col).min(source.len());
    start..(start_of_line + text.len()).max(start)
}

/// Where a span of the rule's query is in the rule file (kept to one line).
pub(super) fn query_span(rule: &RuleDoc, span: &Span) -> Span {
    let query = &rule.query;
    if let Some(offsets) = &rule.query_offsets {
        // A flow scalar: its bytes are placed one by one (escapes, folded lines).
        let at = |i: usize| {
            offsets
                .get(i.min(query.len()))
                .copied()
                .unwrap_or(0)
                .min(rule.source.len())
        };
        let begin = at(span.start);
        let line_end = rule.source[begin..].find('\n').map_or(rule.source.len(), |e| begin + e);
        let end = at(span.end.max(span.start + 1)).clamp(begin + 1, line_end.max(begin + 1));
        return begin..end.min(rule.source.len());
    }
    // A span inside a character (a reader's one-byte span over U+200B) is widened to it.
    let start = crate::elastic::floor(query, span.start);
    let line_in_query = query[..start].matches('\n').count();
    let line_start = query[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_len = query[line_start..].find('\n').unwrap_or(query.len() - line_start);
    let col = start - line_start;
    let file_line = rule.query_line + line_in_query;
    let begin = line_span(&rule.source, file_line, 1).start + rule.query_indent + col;
    let len = (span.end.min(query.len()) - start).clamp(1, (line_len - col).max(1));
    let begin = crate::elastic::floor(&rule.source, begin);
    let mut end = (begin + len).min(rule.source.len());
    while !rule.source.is_char_boundary(end) {
        end += 1;
    }
    begin..end
}
