//! Seed documents (the text format of shared/seeds/): a hunting query's description,
//! the query, its Sentinel YAML with the indentation lost, then "Scenario:" /
//! "Description:" / "Filter/Exclusion:" entries, the last of which may be cut off.

use std::path::Path;

use super::error::LoadError;
use super::rule::RuleDoc;
use super::scenario::Scenario;
use crate::expr::{ParseOutcome, parse_exclusion};

/// What a seed document holds.
#[derive(Debug, Clone)]
pub struct SeedDoc {
    pub rule: RuleDoc,
    pub scenarios: Vec<Scenario>,
    /// What could not be read, or was incomplete.
    pub notes: Vec<String>,
}

const KEYS: [&str; 8] = [
    "id:",
    "name:",
    "description:",
    "requiredDataConnectors:",
    "dataTypes:",
    "tactics:",
    "relevantTechniques:",
    "query:",
];

/// Reads a seed document.
pub fn read_seed(file: &Path, text: &str) -> Result<SeedDoc, LoadError> {
    let lines: Vec<&str> = text.lines().collect();
    let error = |line: usize, message: &str| LoadError::at(file, line, 1, message);
    let id_line = lines
        .iter()
        .position(|l| l.starts_with("id:"))
        .ok_or_else(|| error(1, "not a seed document: no `id:` line"))?;
    let first_scenario = lines
        .iter()
        .position(|l| l.starts_with("Scenario:"))
        .unwrap_or(lines.len());
    let mut notes = Vec::new();
    let mut rule = RuleDoc {
        format: super::RuleFormat::Seed,
        file: file.to_path_buf(),
        source: text.into(),
        ..RuleDoc::default()
    };
    // The YAML part: each known key starts a field that runs to the next known key.
    let mut key = "";
    for (i, line) in lines.iter().enumerate().take(first_scenario).skip(id_line) {
        if let Some(k) = KEYS.iter().find(|k| line.starts_with(*k)) {
            key = k;
            let rest = line[k.len()..].trim();
            match *k {
                "id:" => rule.id = rest.to_string(),
                "name:" => rule.name = rest.to_string(),
                "tactics:" if !rest.is_empty() => rule.tactics.push(rest.to_string()),
                "relevantTechniques:" if !rest.is_empty() => rule.techniques.push(rest.to_string()),
                "query:" => rule.query_line = i + 2,
                _ => {}
            }
            continue;
        }
        let item = line.strip_prefix("- ").map(str::trim);
        match (key, item) {
            ("description:", _) => push_line(&mut rule.description, line),
            ("query:", _) => push_line(&mut rule.query, line),
            ("dataTypes:", Some(t)) => rule.data_types.push(t.to_string()),
            ("tactics:", Some(t)) => rule.tactics.push(t.to_string()),
            ("relevantTechniques:", Some(t)) => rule.techniques.push(t.to_string()),
            _ => {}
        }
    }
    if rule.query.trim().is_empty() {
        return Err(error(id_line + 1, "the seed document has no `query: |` block"));
    }
    rule.query = rule.query.trim_end().to_string() + "\n";
    rule.description = rule.description.trim_end().to_string();
    for (what, missing) in [
        ("name", rule.name.is_empty()),
        ("dataTypes", rule.data_types.is_empty()),
    ] {
        if missing {
            notes.push(format!("no {what} in the rule's YAML"));
        }
    }

    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut field = "";
    for (i, line) in lines.iter().enumerate().skip(first_scenario) {
        if let Some(name) = line.strip_prefix("Scenario:") {
            scenarios.push(Scenario {
                name: name.trim().to_string(),
                ..Scenario::default()
            });
            field = "name";
        } else if let (Some(s), Some(d)) = (scenarios.last_mut(), line.strip_prefix("Description:")) {
            s.description = d.trim().to_string();
            field = "description";
        } else if let (Some(s), Some(e)) = (scenarios.last_mut(), line.strip_prefix("Filter/Exclusion:")) {
            s.exclusion = e.trim_start().to_string();
            s.line = i + 1;
            s.column = line[..line.len() - s.exclusion.len()].chars().count() + 1;
            field = "exclusion";
        } else if let Some(s) = scenarios.last_mut() {
            let target = match field {
                "name" => &mut s.name,
                "description" => &mut s.description,
                _ => &mut s.exclusion,
            };
            if !line.trim().is_empty() {
                target.push('\n');
                target.push_str(line);
            }
        }
    }
    for (n, s) in scenarios.iter().enumerate() {
        if s.line == 0 {
            notes.push(format!(
                "scenario {} ({:?}) has no Filter/Exclusion line",
                n + 1,
                s.name
            ));
        }
    }
    if let Some(last) = scenarios.last()
        && !text.ends_with('\n')
        && matches!(parse_exclusion(&last.exclusion), ParseOutcome::Invalid(_))
    {
        notes.push(format!(
            "scenario {} ({:?}): the document ends in the middle of its exclusion; kept verbatim: {}",
            scenarios.len(),
            last.name,
            last.exclusion
        ));
    }
    if scenarios.is_empty() {
        notes.push("no scenarios".into());
    } else if scenarios.iter().all(|s| s.description.is_empty()) {
        notes.push("the scenarios have no Description lines".into());
    }
    Ok(SeedDoc { rule, scenarios, notes })
}

fn push_line(target: &mut String, line: &str) {
    target.push_str(line);
    target.push('\n');
}
