//! Scenario files: one per rule, `rule: <id>` and a list of scenarios, each with its
//! exclusion and the benign and malicious event templates it is tested against.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_yaml::Value as Yaml;

use super::error::LoadError;

/// A scenario file as read.
#[derive(Debug, Clone)]
pub struct ScenarioFile {
    pub file: PathBuf,
    pub rule: String,
    /// The 1-based line of `rule:` (0 for a seed document, whose rule is its own).
    pub rule_line: usize,
    pub scenarios: Vec<Scenario>,
    /// The file's text, for pointing into it; shared with every scenario's result.
    pub source: std::sync::Arc<str>,
}

/// An event template: fields fixed by the author (every other field is generated).
pub type Template = BTreeMap<String, String>;

/// One false-positive scenario of a rule.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub exclusion: String,
    pub benign: Vec<Template>,
    pub malicious: Vec<Template>,
    /// Where the exclusion's first character is in the file (1-based).
    pub line: usize,
    pub column: usize,
    /// The line each benign and malicious template starts on (1-based; 0 if unknown).
    pub benign_lines: Vec<usize>,
    pub malicious_lines: Vec<usize>,
    /// Finding codes not reported for this scenario, each with the reason given.
    pub ignore: Vec<Ignore>,
}

/// A finding code a scenario silences, and why.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ignore {
    pub code: String,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    rule: String,
    #[serde(default)]
    scenarios: Vec<RawScenario>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    #[serde(default)]
    description: String,
    exclusion: String,
    #[serde(default)]
    benign: Vec<BTreeMap<String, Yaml>>,
    #[serde(default)]
    malicious: Vec<BTreeMap<String, Yaml>>,
    #[serde(default)]
    ignore: Vec<RawIgnore>,
}

/// `- {code: FPX304, reason: ...}`, or a bare code (refused: a reason is required).
#[derive(Deserialize)]
#[serde(untagged)]
enum RawIgnore {
    Full(Ignore),
    Bare(String),
}

/// Reads a scenario file.
pub fn read_scenarios(file: &Path, text: &str) -> Result<ScenarioFile, LoadError> {
    let raw: RawFile = serde_yaml::from_str(text).map_err(|e| {
        let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        let message = e.to_string();
        let message = message.lines().next().unwrap_or("invalid YAML");
        // A Sigma selection (`Field|modifier: value`) written where an expression goes.
        let selection = message.contains(".exclusion: invalid type: map")
            || message.contains(".exclusion: invalid type: sequence");
        let message = match selection {
            true => format!(
                "{}: a scenario's `exclusion:` is one KQL-style expression (`InitiatingProcessFileName endswith \"\\\\deploy.exe\"`), not a Sigma selection; a Sigma filter belongs in the rule's `detection:` or in a meta-filter file",
                message.split(": invalid type").next().unwrap_or("exclusion")
            ),
            false => message.to_string(),
        };
        LoadError::at(file, line, column, message)
    })?;
    let places = exclusion_places(text);
    let templates = template_places(text);
    let error = |line: usize, message: String| LoadError::at(file, line, 1, message);
    let mut scenarios = Vec::new();
    for (i, mut s) in raw.scenarios.into_iter().enumerate() {
        let (line, _) = places.get(i).copied().unwrap_or((1, 1));
        let mut ignore = Vec::new();
        for entry in std::mem::take(&mut s.ignore) {
            let entry = match entry {
                RawIgnore::Full(entry) if !entry.reason.trim().is_empty() => entry,
                RawIgnore::Full(Ignore { code, .. }) | RawIgnore::Bare(code) => {
                    return Err(error(
                        line,
                        format!(
                            "scenario {:?}: ignoring {code} needs a reason: write `- {{code: {code}, reason: \"...\"}}`",
                            s.name
                        ),
                    ));
                }
            };
            // Whether the code is one fpx has is the gate's to say (`crate::gate`).
            ignore.push(entry);
        }
        scenarios.push((s, ignore));
    }
    let scenarios = scenarios
        .into_iter()
        .enumerate()
        .map(|(i, (s, ignore))| {
            let (line, column) = places.get(i).copied().unwrap_or((1, 1));
            let (benign_lines, malicious_lines) = templates.get(i).cloned().unwrap_or_default();
            Scenario {
                name: s.name,
                description: s.description,
                exclusion: s.exclusion,
                benign: s.benign.into_iter().map(template).collect(),
                malicious: s.malicious.into_iter().map(template).collect(),
                line,
                column,
                benign_lines,
                malicious_lines,
                ignore,
            }
        })
        .collect();
    let rule_line = text.lines().position(|l| l.starts_with("rule:")).map_or(1, |i| i + 1);
    Ok(ScenarioFile {
        file: file.to_path_buf(),
        rule: raw.rule,
        rule_line,
        scenarios,
        source: text.into(),
    })
}

fn template(raw: BTreeMap<String, Yaml>) -> Template {
    raw.into_iter()
        .map(|(k, v)| {
            let text = match v {
                Yaml::String(s) => s,
                Yaml::Number(n) => n.to_string(),
                Yaml::Bool(b) => b.to_string(),
                Yaml::Null => String::new(),
                other => serde_yaml::to_string(&other).unwrap_or_default().trim().to_string(),
            };
            (k, text)
        })
        .collect()
}

/// Line and column of each `exclusion:` value, in order: the next line's indentation
/// for a block scalar, the value's first character (inside its quote) otherwise.
fn exclusion_places(text: &str) -> Vec<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start().trim_start_matches("- ");
        let Some(value) = trimmed.strip_prefix("exclusion:") else {
            continue;
        };
        let value_start = line.len() - value.len();
        let v = value.trim_start();
        if v.starts_with(['|', '>']) {
            let next = lines.get(i + 1).unwrap_or(&"");
            out.push((i + 2, next.len() - next.trim_start().len() + 1));
        } else {
            let at = value_start + (value.len() - v.len()) + usize::from(v.starts_with(['"', '\'']));
            out.push((i + 1, line[..at].chars().count() + 1));
        }
    }
    out
}

/// Per scenario (a `- name:` item), the lines its benign and malicious templates start on.
fn template_places(text: &str) -> Vec<(Vec<usize>, Vec<usize>)> {
    let mut out: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
    let mut list: Option<(bool, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim_start();
        if t.starts_with("- name:") {
            out.push(Default::default());
            list = None;
            continue;
        }
        let Some(current) = out.last_mut() else { continue };
        if let Some(rest) = t.strip_prefix("benign:").or_else(|| t.strip_prefix("malicious:")) {
            let benign = t.starts_with("benign:");
            list = rest.trim().is_empty().then_some((benign, indent));
            // A flow list (`benign: [{...}]`): its items are on the key's line.
            if rest.trim().starts_with("[{") {
                let target = if benign { &mut current.0 } else { &mut current.1 };
                target.extend(std::iter::repeat_n(i + 1, rest.matches('{').count()));
            }
            continue;
        }
        match list {
            Some((benign, key_indent)) if t.starts_with("- ") && indent >= key_indent => {
                let target = if benign { &mut current.0 } else { &mut current.1 };
                target.push(i + 1);
            }
            Some((_, key_indent)) if !t.is_empty() && indent <= key_indent && !t.starts_with("- ") => list = None,
            _ => {}
        }
    }
    out
}

/// Writes a scenario file in fpx's layout: exclusions as literal blocks, so a finding's
/// byte span lands on the same column in the file.
pub fn write_scenarios(rule_id: &str, header: &str, scenarios: &[Scenario]) -> String {
    let mut out = String::new();
    for line in header.lines() {
        let _ = writeln!(out, "# {line}");
    }
    let _ = writeln!(out, "rule: {}", yaml_scalar(rule_id));
    let _ = writeln!(out, "scenarios:");
    for s in scenarios {
        let _ = writeln!(out, "  - name: {}", yaml_scalar(&s.name));
        if !s.description.is_empty() {
            let _ = writeln!(out, "    description: {}", yaml_scalar(&s.description));
        }
        if s.exclusion.trim().is_empty() || s.exclusion.starts_with(char::is_whitespace) {
            let _ = writeln!(out, "    exclusion: {}", json_string(&s.exclusion));
        } else {
            let _ = writeln!(out, "    exclusion: |-");
            for line in s.exclusion.lines() {
                let _ = writeln!(out, "      {line}");
            }
        }
        for (key, templates) in [("benign", &s.benign), ("malicious", &s.malicious)] {
            if templates.is_empty() {
                let _ = writeln!(out, "    {key}: []");
                continue;
            }
            let _ = writeln!(out, "    {key}:");
            for t in templates {
                let fields: Vec<String> = t.iter().map(|(k, v)| format!("{k}: {}", json_string(v))).collect();
                let _ = writeln!(out, "      - {{{}}}", fields.join(", "));
            }
        }
    }
    out
}

/// A YAML scalar: plain when that is unambiguous, double-quoted otherwise.
pub fn yaml_scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars().all(|c| c.is_alphanumeric() || " ,.()'/&+-_’".contains(c))
        && !s.ends_with(' ')
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off"
        )
        && s.parse::<f64>().is_err();
    if plain { s.to_string() } else { json_string(s) }
}

/// A double-quoted string; JSON's escapes are valid YAML.
fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(name: &str, exclusion: &str) -> Scenario {
        Scenario {
            name: name.into(),
            description: "What: an admin runs it.".into(),
            exclusion: exclusion.into(),
            benign: vec![[("FileName".to_string(), "a.exe".to_string())].into()],
            ..Scenario::default()
        }
    }

    #[test]
    fn written_files_read_back_with_exclusion_positions() {
        let scenarios = [
            scenario("One: first", r#"process.name != "x" OR a == 'b'"#),
            scenario("true", "`process.name != ”"),
        ];
        let text = write_scenarios("abc-123", "Scenarios for a rule.", &scenarios);
        let back = read_scenarios(Path::new("s.yaml"), &text).unwrap();
        assert_eq!(back.rule, "abc-123");
        assert_eq!(back.scenarios.len(), 2);
        for (a, b) in scenarios.iter().zip(&back.scenarios) {
            assert_eq!(
                (&a.name, &a.description, &a.exclusion, &a.benign),
                (&b.name, &b.description, &b.exclusion, &b.benign)
            );
            let line = text.lines().nth(b.line - 1).unwrap();
            assert_eq!(
                &line[b.column - 1..],
                a.exclusion,
                "the position points at the exclusion"
            );
        }
    }

    #[test]
    fn inline_exclusions_are_located_inside_their_quotes() {
        let text = "rule: r\nscenarios:\n  - name: a\n    exclusion: 'x == \"1\"'\n    benign: [{FileName: 5}]\n";
        let f = read_scenarios(Path::new("s.yaml"), text).unwrap();
        assert_eq!((f.scenarios[0].line, f.scenarios[0].column), (4, 17));
        assert_eq!(f.scenarios[0].benign[0]["FileName"], "5");
        assert_eq!(f.scenarios[0].benign_lines, [5]);
    }

    #[test]
    fn template_lines_are_found_in_block_and_flow_style() {
        let text = "rule: r\nscenarios:\n  - name: a\n    exclusion: x == 1\n    benign:\n      - {A: 1}\n      - A: 2\n        B: 3\n    malicious: [{A: 4}]\n  - name: b\n    exclusion: y == 1\n    malicious:\n      - {A: 5}\n";
        let f = read_scenarios(Path::new("s.yaml"), text).unwrap();
        assert_eq!(f.scenarios[0].benign_lines, [6, 7]);
        assert_eq!(
            f.scenarios[0].malicious_lines,
            [9],
            "a flow list's items are on its line"
        );
        assert_eq!(f.scenarios[1].malicious_lines, [13]);
    }

    #[test]
    fn unknown_keys_and_bad_yaml_are_errors_with_lines() {
        let e = read_scenarios(
            Path::new("s.yaml"),
            "rule: r\nscenarios:\n  - name: a\n    exclusoin: x\n",
        )
        .unwrap_err();
        assert_eq!(e.line(), Some(4));
        let e = read_scenarios(Path::new("s.yaml"), "rule: r\nscenarios: [\n").unwrap_err();
        assert!(e.line().unwrap() >= 2);
    }
}
