//! Replacing one exclusion in its file, byte for byte: everything else in the file
//! (comments, order, quoting of other values) stays as it was.

/// The file text with the exclusion that starts at `line`:`column` (1-based, columns in
/// characters) replaced by `new`. The exclusion must be the whole value at that place,
/// on one line. Its YAML quoting is kept: single- and double-quoted values are decoded
/// to compare and escaped to write, a plain value becomes single-quoted, a literal
/// block's line (or a seed document's) is replaced as is.
pub fn replace_exclusion(
    source: &str,
    line: usize,
    column: usize,
    old: &str,
    new: &str,
    yaml: bool,
) -> Result<String, String> {
    if old.contains('\n') || new.contains('\n') {
        return Err("the exclusion spans several lines; fpx edits one-line exclusions only".into());
    }
    let not_verbatim = || "the exclusion is not written verbatim at its place (folded or multi-line YAML)".to_string();
    let (line_start, text, at) = place(source, line, column)?;
    let prefix = text[..at].trim_end();
    let quote = if yaml {
        prefix.chars().last().filter(|c| matches!(c, '\'' | '"'))
    } else {
        None
    };
    // The value's raw extent on the line, and the replacement in the same style.
    let (len, replacement) = match quote {
        Some(q) => {
            let (value, len) = decode_quoted(&text[at..], q).ok_or_else(not_verbatim)?;
            if value != old {
                return Err(not_verbatim());
            }
            let escaped = if q == '\'' {
                new.replace('\'', "''")
            } else {
                new.replace('\\', "\\\\").replace('"', "\\\"")
            };
            (len, escaped)
        }
        None => {
            let after = text[at..].strip_prefix(old).ok_or_else(not_verbatim)?;
            // (A comment may follow after any run of spaces.)
            let comment = after.starts_with([' ', '\t']) && after.trim_start().starts_with('#');
            if !(after.trim().is_empty() || (yaml && comment)) {
                return Err(not_verbatim());
            }
            // A block scalar's line (or a seed's) takes the text as is; a plain YAML
            // value stays plain when YAML reads the new text back as that text, and is
            // single-quoted (which holds anything on one line) when it would not.
            let plain_yaml = yaml && !prefix.is_empty();
            let replacement = if plain_yaml && !reads_back_plain(new) {
                format!("'{}'", new.replace('\'', "''"))
            } else {
                new.to_string()
            };
            (old.len(), replacement)
        }
    };
    let start = line_start + at;
    let mut out = String::with_capacity(source.len() + replacement.len());
    out.push_str(&source[..start]);
    out.push_str(&replacement);
    out.push_str(&source[start + len..]);
    Ok(out)
}

/// The byte where `line` starts, that line's text, and the byte in it of `column`
/// (1-based, in characters).
fn place(source: &str, line: usize, column: usize) -> Result<(usize, &str, usize), String> {
    let line_start: usize = source
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let text = source
        .get(line_start..)
        .and_then(|rest| rest.lines().next())
        .ok_or("the line is past the end of the file")?;
    let at = text
        .char_indices()
        .nth(column.saturating_sub(1))
        .map(|(i, _)| i)
        .ok_or("the column is past the end of the line")?;
    Ok((line_start, text, at))
}

/// The file text with `old`, written verbatim at `line`:`column` (part of a rule's
/// query: an inline exclusion), replaced by `new`; the rest of the line and the file
/// are kept byte for byte.
pub fn replace_in_query(source: &str, line: usize, column: usize, old: &str, new: &str) -> Result<String, String> {
    if old.contains('\n') || new.contains('\n') {
        return Err("the exclusion spans several lines; fpx edits one-line exclusions only".into());
    }
    let (line_start, text, at) = place(source, line, column)?;
    if !text[at..].starts_with(old) {
        return Err("the exclusion is not written verbatim at its place (an escaped or folded query)".into());
    }
    let start = line_start + at;
    Ok(format!("{}{new}{}", &source[..start], &source[start + old.len()..]))
}

/// Whether `text` written as a plain YAML value is read back as that very string (not
/// another type, not cut at a `: ` or ` #`, no indicator at its start).
fn reads_back_plain(text: &str) -> bool {
    if text.trim() != text || text.is_empty() {
        return false;
    }
    matches!(
        serde_yaml::from_str::<serde_yaml::Value>(&format!("k: {text}\n")),
        Ok(serde_yaml::Value::Mapping(m)) if m.get("k").and_then(|v| v.as_str()) == Some(text)
    )
}

/// Decodes a quoted YAML value that starts just after its opening quote `q`: the text,
/// and the bytes up to (not including) the closing quote. `None` for an escape fpx does
/// not decode, or a value not closed on the line.
fn decode_quoted(raw: &str, q: char) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if q == '\'' && c == '\'' && chars.peek().is_some_and(|&(_, n)| n == '\'') {
            chars.next();
            out.push('\'');
        } else if q == '"' && c == '\\' {
            out.push(match chars.next()?.1 {
                '\\' => '\\',
                '"' => '"',
                '/' => '/',
                't' => '\t',
                _ => return None,
            });
        } else if c == q {
            return Some((out, i));
        } else {
            out.push(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_yaml_style_stays_valid_and_means_the_new_text() {
        let new = r#"a == "x" and b == 'y'"#;
        let cases = [
            ("    exclusion: |-\n      a != \"x\"\n", 2, 7, r#"a != "x""#),
            ("    exclusion: 'a != x' # note\n", 1, 17, "a != x"),
            ("    exclusion: 'it''s'\n", 1, 17, "it's"),
            ("    exclusion: \"a != \\\"x\\\"\"\n", 1, 17, r#"a != "x""#),
            ("    exclusion: a != x\n", 1, 16, "a != x"),
        ];
        for (text, line, column, old) in cases {
            let edited = replace_exclusion(text, line, column, old, new, true).unwrap();
            let value: serde_yaml::Value = serde_yaml::from_str(&edited).unwrap();
            assert_eq!(value["exclusion"].as_str().unwrap().trim_end(), new, "{edited}");
        }
    }

    #[test]
    fn everything_else_is_kept_byte_for_byte() {
        let text = "# a comment\nrule: r # trailing\nscenarios:\n  - name: a\n    exclusion: |-\n      x == “1”\n    benign: []\n";
        let edited = replace_exclusion(text, 6, 7, "x == “1”", "x == \"1\"", true).unwrap();
        assert_eq!(edited, text.replace("x == “1”", "x == \"1\""));
        assert!(replace_exclusion(text, 6, 7, "y == 1", "z", true).is_err());
    }

    #[test]
    fn a_value_that_is_not_the_exclusion_is_refused_never_cut() {
        let quoted = "    exclusion: 'a != ''x'''\n";
        assert!(replace_exclusion(quoted, 1, 17, "a != '", "z", true).is_err());
        assert!(replace_exclusion("    exclusion: a != x y\n", 1, 16, "a != x", "z", true).is_err());
        let seed = "Filter/Exclusion: `x == “1”`\n";
        assert_eq!(
            replace_exclusion(seed, 1, 19, "`x == “1”`", "x == \"1\"", false).unwrap(),
            "Filter/Exclusion: x == \"1\"\n"
        );
    }
}

#[cfg(test)]
mod plain_style {
    use super::*;

    #[test]
    fn a_plain_value_stays_plain_when_yaml_reads_it_back() {
        let text = "    exclusion: FileName =~ \"a\" AND X == 1   # our backup server\n";
        let edited = replace_exclusion(
            text,
            1,
            16,
            "FileName =~ \"a\" AND X == 1",
            "FileName =~ \"a\" and X == 1",
            true,
        )
        .unwrap();
        assert_eq!(
            edited,
            "    exclusion: FileName =~ \"a\" and X == 1   # our backup server\n"
        );
        // Text YAML would read otherwise is single-quoted.
        for new in ["'a' == x", "a: b", "x #y", "true", "- a", "{a}"] {
            let edited = replace_exclusion("    exclusion: a\n", 1, 16, "a", new, true).unwrap();
            assert!(edited.contains(&format!("'{}'", new.replace('\'', "''"))), "{edited}");
            let value: serde_yaml::Value = serde_yaml::from_str(&edited).unwrap();
            assert_eq!(value["exclusion"].as_str(), Some(new), "{edited}");
        }
    }
}

/// `fpx fix`'s edit on generated scenario files: every YAML style of the exclusion, with
/// comments, CRLF line ends and other scenarios around it. The file reads back with the
/// new text in its place and every other scenario as it was, and every byte outside the
/// edited value is unchanged.
#[cfg(test)]
mod generated_files {
    use super::*;
    use proptest::prelude::*;

    /// The exclusion written in one YAML style: the value's lines, how many lines below
    /// `exclusion:` its text starts, and the column it starts at once the lines are
    /// indented by four spaces.
    fn written(style: u8, text: &str, comment: bool) -> (String, usize, usize) {
        let note = if comment { "   # why" } else { "" };
        match style {
            0 => (format!("exclusion: {text}{note}"), 0, 16),
            1 => (format!("exclusion: '{}'{note}", text.replace('\'', "''")), 0, 17),
            2 => (
                format!(
                    "exclusion: \"{}\"{note}",
                    text.replace('\\', "\\\\").replace('"', "\\\"")
                ),
                0,
                17,
            ),
            3 => (format!("exclusion: |-{note}\n      {text}"), 1, 11),
            _ => (format!("exclusion: |{note}\n      {text}"), 1, 11),
        }
    }

    fn exclusion_text() -> impl Strategy<Value = String> {
        let atom = prop_oneof![
            Just("FileName =~ \"a.exe\""),
            Just("AccountName != \"svc\""),
            Just("ProcessCommandLine contains \"--x\""),
            Just("FolderPath startswith @\"C:\\Tools\""),
            Just("DeviceName in~ (\"h1\", \"h2\")"),
        ];
        proptest::collection::vec(atom, 1..4).prop_map(|atoms| atoms.join(" or "))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn only_the_value_changes_and_the_file_reads_back(
            texts in proptest::collection::vec(exclusion_text(), 1..4),
            styles in proptest::collection::vec(0u8..5, 4),
            comments in proptest::collection::vec(any::<bool>(), 4),
            target in 0usize..4,
            crlf in any::<bool>(),
            new in exclusion_text(),
        ) {
            let target = target % texts.len();
            let mut lines = vec!["# scenarios".to_string(), "rule: r   # the rule".into(), "scenarios:".into()];
            let mut place = (0, 0);
            for (i, text) in texts.iter().enumerate() {
                lines.push(format!("  - name: s{i}"));
                let (value, down, column) = written(styles[i], text, comments[i]);
                if i == target {
                    place = (lines.len() + 1 + down, column);
                }
                lines.extend(value.lines().map(|l| format!("    {l}")));
                lines.push("    benign: []   # none".into());
            }
            let end = if crlf { "\r\n" } else { "\n" };
            let source = lines.join(end) + end;
            // The edit's line and column are those of the text as read (CRLF read as LF).
            let old = &texts[target];
            let edited = match replace_exclusion(&source, place.0, place.1, old, &new, true) {
                Ok(edited) => edited,
                Err(why) => return Err(TestCaseError::fail(format!("{why}\n{source}"))),
            };
            let read = |text: &str| -> Vec<String> {
                let value: serde_yaml::Value = serde_yaml::from_str(&text.replace("\r\n", "\n")).unwrap();
                value["scenarios"]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .map(|s| s["exclusion"].as_str().unwrap().trim_end().to_string())
                    .collect()
            };
            let mut expected = read(&source);
            expected[target] = new.clone();
            prop_assert_eq!(read(&edited), expected, "{}", edited);
            // Outside the value: the same bytes.
            let prefix = source.bytes().zip(edited.bytes()).take_while(|(a, b)| a == b).count();
            let suffix = source
                .bytes()
                .rev()
                .zip(edited.bytes().rev())
                .take_while(|(a, b)| a == b)
                .count();
            let changed_source = &source[prefix..source.len() - suffix.min(source.len() - prefix)];
            prop_assert!(!changed_source.contains('\n'), "only the value's line changed: {:?}", changed_source);
        }
    }
}
