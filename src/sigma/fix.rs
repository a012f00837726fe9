//! Fixing a Sigma filter where it is written: FPX106's redundant terms dropped from the
//! rule's YAML. A Sigma filter is a selection (detection items, each a field with one
//! value or a list of values), so a term the exclusion does not need is one line of it:
//! a value of a list, or a whole detection item. Each line is dropped only if the rule,
//! read back, has the filter suppressing exactly the events it suppressed before (an
//! equivalence proved by the logic engine, not a pattern); every other byte of the file
//! (comments, quoting, order, line endings) stays as it was.

use super::layout::Layout;
use super::read_sigma;
use crate::logic::{Validity, equivalent};
use crate::pred::{Pred, Span};

/// Filters with more lines than this are left for a person (each line tried is a read
/// of the rule).
const MAX_LINES: usize = 200;

/// The rule `text` with the lines of its filter `name` dropped that the filter does not
/// need, and how many terms (items or values) were dropped; `None` when none can be
/// dropped without changing what the filter suppresses.
pub fn drop_redundant_lines(text: &str, name: &str) -> Option<(String, usize)> {
    let original = filter(text, name)?;
    let mut text = text.to_string();
    let mut dropped = 0;
    'search: while let Some(body) = Layout::of(&text).body(name) {
        let atoms = filter(&text, name).map_or(0, |p| p.atoms().len());
        for line in candidates(&text, body) {
            let mut next = text.clone();
            next.replace_range(line, "");
            let Some(fixed) = filter(&next, name) else {
                continue;
            };
            if fixed.atoms().len() < atoms && equivalent(&fixed, &original) == Validity::Valid {
                text = next;
                dropped += 1;
                continue 'search;
            }
        }
        break;
    }
    (dropped > 0).then_some((text, dropped))
}

/// What filter `name` of the rule `text` suppresses (spans left out), if the rule reads.
fn filter(text: &str, name: &str) -> Option<Pred> {
    let doc = read_sigma(text).ok()?;
    if doc.query.notes.iter().any(|n| n.fatal) {
        return None;
    }
    let exclusion = doc.query.inline.iter().find(|e| e.name.as_deref() == Some(name))?;
    Some(exclusion.suppresses.without_spans())
}

/// The byte ranges (whole lines, with their line break) that could be dropped from the
/// filter's `body`: each detection item with its values, then each value of a list
/// (`- value`).
fn candidates(text: &str, body: Span) -> Vec<Span> {
    // The body's lines: from the start of its first line to the end of its last.
    let start = text[..body.start].rfind('\n').map_or(0, |i| i + 1);
    let end = text[body.end..].find('\n').map_or(text.len(), |i| body.end + i + 1);
    let mut lines: Vec<(Span, &str)> = Vec::new();
    let mut at = start;
    for line in text[start..end].split_inclusive('\n') {
        lines.push((at..at + line.len(), line));
        at += line.len();
    }
    if lines.len() > MAX_LINES {
        return Vec::new();
    }
    let indent = |l: &str| l.len() - l.trim_start().len();
    let content = |l: &str| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#')
    };
    let base = lines.iter().find(|(_, l)| content(l)).map_or(0, |(_, l)| indent(l));
    let mut values = Vec::new();
    let mut items = Vec::new();
    for (i, (span, line)) in lines.iter().enumerate() {
        if !content(line) {
            continue;
        }
        if line.trim_start().starts_with("- ") && indent(line) > base {
            values.push(span.clone());
        } else if indent(line) == base {
            // The item's key line and every deeper line after it.
            let last = lines[i + 1..]
                .iter()
                .take_while(|(_, l)| !content(l) || indent(l) > base)
                .count();
            items.push(span.start..lines[i + last].0.end);
        }
    }
    // Whole items first: one edit instead of one per value.
    items.extend(values);
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "title: t\nlogsource:\n    product: macos\n    category: process_creation\ndetection:\n    selection:\n        Image|endswith: '/bash'\n    filter_main_chrome:\n        ParentImage|contains:\n            - 'Google Chrome Helper' # the helper\n            - 'Google Chrome'\n        CommandLine|contains: '/install.sh'\n    condition: selection and not filter_main_chrome\n";

    #[test]
    fn a_value_the_filter_does_not_need_is_dropped_and_nothing_else() {
        let (fixed, dropped) = drop_redundant_lines(RULE, "filter_main_chrome").expect("a fix");
        assert_eq!(dropped, 1);
        assert_eq!(
            fixed,
            RULE.replace("            - 'Google Chrome Helper' # the helper\n", "")
        );
        // A second run finds nothing more to drop.
        assert!(drop_redundant_lines(&fixed, "filter_main_chrome").is_none());
    }

    #[test]
    fn lines_that_change_what_the_filter_suppresses_are_kept() {
        let rule = RULE.replace("'Google Chrome Helper' # the helper", "'Chromium' # the other browser");
        assert!(drop_redundant_lines(&rule, "filter_main_chrome").is_none());
        assert!(drop_redundant_lines(RULE, "no_such_filter").is_none());
    }

    #[test]
    fn a_whole_item_implied_by_another_is_dropped() {
        let rule = RULE.replace(
            "        CommandLine|contains: '/install.sh'\n",
            "        CommandLine|contains: '/install.sh'\n        CommandLine|contains|all:\n            - 'install'\n            - '.sh'\n",
        );
        let (fixed, dropped) = drop_redundant_lines(&rule, "filter_main_chrome").expect("a fix");
        assert_eq!(dropped, 2, "{fixed}");
        assert!(
            !fixed.contains("contains|all") && fixed.contains("'/install.sh'"),
            "{fixed}"
        );
    }
}
