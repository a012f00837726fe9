//! A finding as rustc renders an error: title with code, the exclusion with a caret
//! under the exact bytes, then help, fix and proof lines.

use annotate_snippets::{Level, Renderer, Snippet};

use crate::checks::{Finding, Severity, describe_event};

/// Where the exclusion text sits, for the snippet's `-->` line (annotate-snippets adds
/// the line and column of the caret).
pub struct Location<'a> {
    /// File name or `<stdin>`.
    pub origin: &'a str,
    /// 1-based line of `source`'s first line.
    pub line: usize,
    /// Bytes of `source` before the text the finding's spans index (the exclusion's
    /// place on its line in a scenario file).
    pub offset: usize,
    /// The text the finding's spans and fix apply to (the exclusion).
    pub text: &'a str,
}

/// Renders one finding against the exclusion `source`.
pub fn render(finding: &Finding, source: &str, location: &Location, color: bool, width: usize) -> String {
    // A caret just past the end of the text (an expression cut short) points at a space
    // added for it: the renderer cannot draw past the last character.
    let padded = format!("{source} ");
    let source = if finding.span.start + location.offset >= source.len() {
        padded.as_str()
    } else {
        source
    };
    let drawn = std::panic::catch_unwind(|| draw(finding, source, location, color, width));
    drawn.unwrap_or_else(|_| {
        format!(
            "{}[{}]: {} [{}]\n --> {}:{}",
            finding.severity, finding.kind.code, finding.message, finding.kind.name, location.origin, location.line
        )
    })
}

fn draw(finding: &Finding, source: &str, location: &Location, color: bool, width: usize) -> String {
    let level = match finding.severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
        Severity::Info => Level::Info,
    };
    let shift = |s: &std::ops::Range<usize>| s.start + location.offset..s.end + location.offset;
    let span = clamp(shift(&finding.span), source);
    let mut title = format!("{} [{}]", finding.message, finding.kind.name);
    if finding.baseline {
        title.push_str(" (in the baseline)");
    }
    let title = wrap(&title, width.saturating_sub(16).max(30), "  ")
        .trim_end()
        .to_string();
    let mut footers = Vec::new();
    // Footers start after `  = help: `; long ones wrap to the width, aligned under it.
    let wrap = |text: &str| wrap(text, width.saturating_sub(10).max(30), "").trim_end().to_string();
    if let Some(help) = &finding.help {
        footers.push((Level::Help, wrap(help)));
    }
    if let Some(fix) = &finding.fix {
        let kind = if fix.safe {
            "fix"
        } else {
            "fix (changes what is suppressed)"
        };
        footers.push((Level::Help, format!("{kind}: {}", fix.apply(location.text))));
    }
    if let Some(witness) = &finding.witness {
        footers.push((Level::Note, format!("proof:{}", proof(witness))));
    }
    let related: Vec<(std::ops::Range<usize>, &str)> = finding
        .related
        .iter()
        .map(|(span, label)| (clamp(span.clone(), source), label.as_str()))
        .collect();
    let message = level
        .title(&title)
        .id(finding.kind.code.as_str())
        .snippet(
            Snippet::source(source)
                .origin(location.origin)
                .line_start(location.line)
                .fold(true)
                .annotation(level.span(span).label(&finding.label))
                .annotations(
                    related
                        .iter()
                        .map(|(span, label)| level.span(span.clone()).label(label)),
                ),
        )
        .footers(footers.iter().map(|(level, text)| level.title(text)));
    let renderer = if color { Renderer::styled() } else { Renderer::plain() };
    renderer.render(message).to_string()
}

/// An event inline when it is short, else as a small table of field and value.
fn proof(event: &crate::pred::Event) -> String {
    let inline = describe_event(event);
    if event.len() <= 2 && inline.len() <= 80 {
        return format!(" {inline}");
    }
    let width = event.keys().map(|k| k.chars().count()).max().unwrap_or(0);
    event.iter().map(|(k, v)| format!("\n    {k:width$}  {v:?}")).collect()
}

/// A span that annotate-snippets can draw: inside the text, on char boundaries, and at
/// least one character wide (an error at the very end points just past the text).
fn clamp(span: std::ops::Range<usize>, source: &str) -> std::ops::Range<usize> {
    let fix = |mut i: usize| {
        i = i.min(source.len());
        while !source.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = fix(span.start);
    let end = fix(span.end).max(start);
    if end == start {
        let next = source[start..].chars().next().map_or(0, char::len_utf8);
        return start..start + next;
    }
    start..end
}

/// `text` wrapped at `width` columns, each line after the first indented by `indent`.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line = indent.to_string();
        } else if !line.is_empty() && line != indent {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}
