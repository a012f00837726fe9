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
    /// The finding's line and column in the file when `source` is the exclusion alone,
    /// not the file's lines (an exclusion read out of an escaped YAML string): the
    /// `-->` line says where it is in the file, not in the text drawn.
    pub at: Option<(usize, usize)>,
}

/// Renders one finding against the exclusion `source`.
pub fn render(finding: &Finding, source: &str, location: &Location, color: bool, width: usize) -> String {
    // A caret just past the end of the text (an expression cut short) points at a space
    // added for it: the renderer cannot draw past the last character.
    let padded;
    let source = if finding.span.start + location.offset >= source.len() {
        padded = format!("{source} ");
        padded.as_str()
    } else {
        source
    };
    let drawn = std::panic::catch_unwind(|| match (window(finding, source, location), location.at) {
        (Some(cropped), _) => draw_cropped(finding, source, &cropped, location, color, width),
        (None, Some((line, column))) => {
            let last_line = location.line + source.matches('\n').count();
            with_arrow(
                draw(finding, source, location, None, color, width),
                finding,
                width,
                last_line,
                location.origin,
                line,
                column,
            )
        }
        (None, None) => draw(finding, source, location, None, color, width),
    });
    drawn.unwrap_or_else(|_| {
        format!(
            "{}[{}]: {} [{}]\n --> {}:{}",
            finding.severity, finding.kind.code, finding.message, finding.kind.name, location.origin, location.line
        )
    })
}

/// Sources longer than this are drawn as a window around the finding's spans: the
/// renderer reads the whole source for every finding, so 10,000 findings on one
/// 500 KB exclusion would take minutes (issue 22).
const LONG_SOURCE: usize = 2_000;

/// Bytes of context kept on each side of the spans in a cropped source.
const CONTEXT: usize = 120;

/// The part of a long source a finding is drawn on.
struct Cropped {
    /// The window's first byte in the source.
    start: usize,
    /// The window's text, with `…` where it was cut.
    text: String,
    /// Bytes added before the window's text (the `…`).
    lead: usize,
}

/// The window of a long `source` around the finding's spans, or `None` when the
/// source is short enough to draw whole.
fn window(finding: &Finding, source: &str, location: &Location) -> Option<Cropped> {
    if source.len() <= LONG_SOURCE {
        return None;
    }
    let spans = std::iter::once(finding.span.clone())
        .map(|s| s.start + location.offset..s.end + location.offset)
        .chain(finding.related.iter().map(|(s, _)| s.clone()));
    let (low, high) = spans.fold((usize::MAX, 0), |(lo, hi), s| (lo.min(s.start), hi.max(s.end)));
    let boundary = |mut i: usize| {
        i = i.min(source.len());
        while !source.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = boundary(low.saturating_sub(CONTEXT));
    // A span over most of a long source (a whole 100,000-test chain) is drawn from its
    // start: the caret runs to the window's `…`.
    let end = boundary(high.min(low.saturating_add(2 * CONTEXT)).saturating_add(CONTEXT));
    if start == 0 && end == source.len() {
        return None;
    }
    let lead = if start > 0 { "…" } else { "" };
    let tail = if end < source.len() { "…" } else { "" };
    Some(Cropped {
        start,
        text: format!("{lead}{}{tail}", &source[start..end]),
        lead: lead.len(),
    })
}

/// A finding drawn on a window of its source: the renderer sees only the window, and
/// the `-->` line (which it would count from the window) is written here from the
/// whole source.
fn draw_cropped(
    finding: &Finding,
    source: &str,
    cropped: &Cropped,
    location: &Location,
    color: bool,
    width: usize,
) -> String {
    let at = clamp(
        finding.span.start + location.offset..finding.span.end + location.offset,
        source,
    )
    .start;
    let (line, line_start) = line_of(source, at);
    let line = location.line + line;
    let column = source[line_start..at].chars().count() + 1;
    let first_line = location.line + line_of(source, cropped.start).0;
    let last_line = first_line + cropped.text.matches('\n').count();
    let shift = Shift {
        by: cropped.start,
        lead: cropped.lead,
        line: first_line,
    };
    let drawn = draw(finding, &cropped.text, location, Some(&shift), color, width);
    with_arrow(drawn, finding, width, last_line, location.origin, line, column)
}

/// `drawn` (rendered without an origin) with the `-->` line written here: after the
/// title, which is as many lines as `draw` wrapped it into, indented like the
/// renderer's own (the width of the largest line number, `last_line`).
fn with_arrow(
    drawn: String,
    finding: &Finding,
    width: usize,
    last_line: usize,
    origin: &str,
    line: usize,
    column: usize,
) -> String {
    let title_lines = title(finding, width).lines().count();
    let arrow = format!(
        "{}--> {origin}:{line}:{column}",
        " ".repeat(last_line.to_string().len())
    );
    let mut out: Vec<&str> = drawn.lines().collect();
    out.insert(title_lines.min(out.len()), &arrow);
    out.join("\n")
}

/// The 0-based line of byte `at` in `source`, and where that line starts. The line
/// starts of the last source are kept: a long source's findings are drawn one after
/// another, and counting its newlines for each would be quadratic.
fn line_of(source: &str, at: usize) -> (usize, usize) {
    thread_local! {
        static STARTS: std::cell::RefCell<(usize, usize, Vec<usize>)> = const {
            std::cell::RefCell::new((0, 0, Vec::new()))
        };
    }
    STARTS.with(|cache| {
        let mut cache = cache.borrow_mut();
        let key = (source.as_ptr() as usize, source.len());
        if (cache.0, cache.1) != key {
            let starts = std::iter::once(0)
                .chain(source.match_indices('\n').map(|(i, _)| i + 1))
                .collect();
            *cache = (key.0, key.1, starts);
        }
        let line = cache.2.partition_point(|&start| start <= at) - 1;
        (line, cache.2[line])
    })
}

/// How spans move when a finding is drawn on a window of its source.
struct Shift {
    /// The window's first byte in the source.
    by: usize,
    /// Bytes added before the window's text.
    lead: usize,
    /// The window's first line number.
    line: usize,
}

fn draw(
    finding: &Finding,
    source: &str,
    location: &Location,
    cropped: Option<&Shift>,
    color: bool,
    width: usize,
) -> String {
    let level = match finding.severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
        Severity::Info => Level::Info,
    };
    // Spans index the whole source; a window moves them by its start.
    let (by, lead) = cropped.map_or((0, 0), |c| (c.by, c.lead));
    let moved = |s: std::ops::Range<usize>| s.start.saturating_sub(by) + lead..s.end.saturating_sub(by) + lead;
    let shift = |s: &std::ops::Range<usize>| moved(s.start + location.offset..s.end + location.offset);
    let span = clamp(shift(&finding.span), source);
    let title = title(finding, width);
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
        let fixed = fix.apply(location.text);
        let fixed = match shortened(&fixed) {
            std::borrow::Cow::Borrowed(whole) => whole.to_string(),
            std::borrow::Cow::Owned(cut) => format!("{cut} (whole in `--format json`; `fpx fix` applies it)"),
        };
        footers.push((Level::Help, format!("{kind}: {fixed}")));
    }
    if let Some(witness) = &finding.witness {
        footers.push((Level::Note, format!("proof:{}", proof(witness))));
    }
    let related: Vec<(std::ops::Range<usize>, &str)> = finding
        .related
        .iter()
        .map(|(span, label)| (clamp(moved(span.clone()), source), label.as_str()))
        .collect();
    let snippet = match (cropped, location.at) {
        (Some(c), _) => Snippet::source(source).line_start(c.line),
        (None, Some(_)) => Snippet::source(source).line_start(location.line),
        (None, None) => Snippet::source(source)
            .origin(location.origin)
            .line_start(location.line),
    };
    let message = level
        .title(&title)
        .id(finding.kind.code.as_str())
        .snippet(
            snippet
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

/// The finding's title line(s): message and name, wrapped to the width.
fn title(finding: &Finding, width: usize) -> String {
    let mut title = format!("{} [{}]", shortened(&finding.message), finding.kind.name);
    if finding.baseline {
        title.push_str(" (in the baseline)");
    }
    wrap(&title, width.saturating_sub(16).max(30), "  ")
        .trim_end()
        .to_string()
}

/// Longest message or fix drawn whole in text output; JSON and the other formats keep
/// it all.
const LONG_MESSAGE: usize = 1_000;

/// A message cut at [`LONG_MESSAGE`] bytes with `…`: a message that quotes a
/// 100,000-test exclusion would fill the terminal.
fn shortened(message: &str) -> std::borrow::Cow<'_, str> {
    if message.len() <= LONG_MESSAGE {
        return message.into();
    }
    let mut end = LONG_MESSAGE;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{} …", &message[..end]).into()
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
