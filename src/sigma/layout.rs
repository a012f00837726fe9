//! Where things are in a Sigma rule's YAML: the `detection:` section, each named
//! selection's block, each detection item's line, the condition. rsigma-parser's AST has
//! no positions, so diagnostics take them from this scan of the text.

use crate::pred::Span;

/// Byte ranges of the parts of a Sigma rule file.
#[derive(Debug, Default)]
pub struct Layout {
    /// The `detection:` key's line.
    pub detection: Span,
    /// The condition's value.
    pub condition: Span,
    /// Each named selection: its name, the whole block (name line included) and its
    /// body (the lines under the name, without trailing blank lines).
    blocks: Vec<(String, Span, Span)>,
    text: String,
}

/// Indentation of a line (spaces), or `None` for a blank or comment line.
fn indent(line: &str) -> Option<usize> {
    let trimmed = line.trim_start();
    (!trimmed.is_empty() && !trimmed.starts_with('#')).then(|| line.len() - trimmed.len())
}

/// Lines with their byte offsets.
fn lines(text: &str) -> Vec<(usize, &str)> {
    let mut at = 0;
    text.split_inclusive('\n')
        .map(|l| {
            let start = at;
            at += l.len();
            (start, l.trim_end_matches(['\n', '\r']))
        })
        .collect()
}

impl Layout {
    /// The layout of a rule's `detection:` section.
    pub fn of(text: &str) -> Layout {
        Layout::of_section(text, "detection:")
    }

    /// The layout of the section under a top-level `key` (a meta-filter's `filter:`).
    pub fn of_section(text: &str, key: &str) -> Layout {
        let mut layout = Layout {
            text: text.to_string(),
            ..Layout::default()
        };
        let lines = lines(text);
        let Some(start) = lines.iter().position(|(_, l)| l.starts_with(key)) else {
            return layout;
        };
        layout.detection = lines[start].0..lines[start].0 + lines[start].1.len();
        let section: Vec<(usize, &str)> = lines[start + 1..]
            .iter()
            .copied()
            .take_while(|(_, l)| indent(l).is_none_or(|i| i > 0))
            .collect();
        let Some(child) = section.iter().find_map(|(_, l)| indent(l)) else {
            return layout;
        };
        let keys: Vec<usize> = (0..section.len())
            .filter(|&i| indent(section[i].1) == Some(child) && !section[i].1.trim_start().starts_with('-'))
            .collect();
        for (k, &i) in keys.iter().enumerate() {
            let (offset, line) = section[i];
            let Some((name, rest)) = line.trim_start().split_once(':') else {
                continue;
            };
            let name = name.trim().trim_matches(['\'', '"']).to_string();
            if name == "rules" {
                continue;
            }
            let end_line = keys.get(k + 1).copied().unwrap_or(section.len());
            // The block's last line with content.
            let last = (i..end_line)
                .rev()
                .find(|&j| indent(section[j].1).is_some())
                .unwrap_or(i);
            let end = section[last].0 + section[last].1.len();
            let key_start = offset + child;
            if name == "condition" {
                let value_start = key_start + name.len() + 1 + (rest.len() - rest.trim_start().len());
                layout.condition = value_start.min(end)..end;
                continue;
            }
            let body_start = if last > i {
                let first = (i + 1..=last).find(|&j| indent(section[j].1).is_some()).unwrap_or(last);
                section[first].0 + indent(section[first].1).unwrap_or(0)
            } else {
                key_start
            };
            layout.blocks.push((name, key_start..end, body_start..end));
        }
        layout
    }

    /// The section's selections and condition: from the first block to the last.
    pub fn section(&self) -> Span {
        let condition = (!self.condition.is_empty()).then_some(self.condition.clone());
        let spans = || self.blocks.iter().map(|(_, b, _)| b.clone()).chain(condition.clone());
        let start = spans().map(|s| s.start).min().unwrap_or(0);
        let end = spans().map(|s| s.end).max().unwrap_or(start);
        start..end
    }

    /// The whole block of a named selection.
    pub fn block(&self, name: &str) -> Option<Span> {
        self.blocks
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, b, _)| b.clone())
    }

    /// The lines under a selection's name (what an inline exclusion shows).
    pub fn body(&self, name: &str) -> Option<Span> {
        self.blocks
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, b)| b.clone())
    }

    /// The line of a detection item (`Field|modifiers:`) in `block`, searching from
    /// `cursor` (items are read in file order) and then from the block's start; the
    /// block when it is not found. Moves the cursor past the item.
    pub fn item(&self, block: &Span, field: Option<&str>, cursor: &mut usize) -> Span {
        let Some(field) = field else {
            return block.clone();
        };
        let text = &self.text;
        let find = |from: usize| -> Option<Span> {
            let mut at = from.max(block.start);
            while at < block.end {
                let line_end = text[at..block.end].find('\n').map_or(block.end, |n| at + n);
                let line = &text[at..line_end];
                let trimmed = line.trim_start().trim_start_matches("- ").trim_start();
                let key_at = line_end - line.len() + (line.len() - trimmed.len());
                let key = trimmed.trim_start_matches(['\'', '"']);
                if key.starts_with(field) && key[field.len()..].starts_with([':', '|', '\'', '"']) {
                    return Some(key_at..line_end);
                }
                at = line_end + 1;
            }
            None
        };
        match find(*cursor).or_else(|| find(block.start)) {
            Some(span) => {
                *cursor = span.end;
                span
            }
            None => block.clone(),
        }
    }
}

/// Whether the negation of selection `name` in `condition` sits in an `and` chain that
/// an `or` bounds with no parentheses around the chain (`a or b and not name`): it then
/// binds to that branch by precedence alone. rsigma-parser's condition tree does not
/// keep parentheses, so this reads the condition's words.
pub fn bound_by_precedence(condition: &str, name: &str) -> bool {
    let spaced = condition.replace('(', " ( ").replace(')', " ) ");
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let negates = |i: usize| -> bool {
        if !words[i].eq_ignore_ascii_case("not") {
            return false;
        }
        match words.get(i + 1..) {
            Some([n, ..]) if *n == name => true,
            Some([one, of, pattern, ..]) if *one == "1" && of.eq_ignore_ascii_case("of") => {
                rsigma_parser::detection_name_matches(pattern, name)
            }
            _ => false,
        }
    };
    (0..words.len()).filter(|&i| negates(i)).any(|i| {
        let or_at_depth = |range: &mut dyn Iterator<Item = usize>, open: &str, close: &str| {
            let mut depth = 0i32;
            for j in range {
                let w = words[j];
                if w == close {
                    depth += 1;
                } else if w == open {
                    depth -= 1;
                    if depth < 0 {
                        return false;
                    }
                } else if depth == 0 && w.eq_ignore_ascii_case("or") {
                    return true;
                }
            }
            false
        };
        or_at_depth(&mut (0..i).rev(), "(", ")") || or_at_depth(&mut (i + 1..words.len()), ")", "(")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "title: t
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\\cmd.exe'
        CommandLine|contains:
            - '/c'
            - '/k'
    filter_main_system:
        User|contains: 'SYSTEM'
    condition: selection and not 1 of filter_*
level: high
";

    #[test]
    fn blocks_items_and_the_condition_are_placed() {
        let l = Layout::of(RULE);
        let body = l.body("selection").unwrap();
        assert!(
            RULE[body.clone()].starts_with("Image|endswith"),
            "{:?}",
            &RULE[body.clone()]
        );
        assert!(RULE[body.clone()].ends_with("- '/k'"));
        assert_eq!(&RULE[l.body("filter_main_system").unwrap()], "User|contains: 'SYSTEM'");
        assert_eq!(&RULE[l.condition.clone()], "selection and not 1 of filter_*");
        let mut cursor = 0;
        let item = l.item(&body, Some("CommandLine"), &mut cursor);
        assert_eq!(&RULE[item], "CommandLine|contains:");
    }

    #[test]
    fn a_negation_bound_by_precedence_alone_is_told_from_a_parenthesised_one() {
        let bound = |c: &str| bound_by_precedence(c, "filter_x");
        assert!(bound("a or b and not filter_x"));
        assert!(bound("a or b or c and not 1 of filter_*"));
        assert!(bound("a and not filter_x or b"));
        assert!(!bound("(a or b) and not filter_x"));
        assert!(!bound("a or (b and not filter_x)"));
        assert!(!bound("a and not filter_x"));
        assert!(!bound("(a or b) and (c and not filter_x)"));
        assert!(!bound("a or b and not filter_y"));
    }
}
