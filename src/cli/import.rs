//! `fpx import SEED.txt... [--out DIR]`: seed documents to rule and scenario files.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{EXIT_USAGE, print};
use crate::corpus::{
    SeedDoc, WriteOutcome, read_scenarios, read_seed, read_text, write_if_changed, write_rule, write_scenarios,
};

#[derive(Args)]
pub(super) struct ImportArgs {
    /// Seed documents (the text format of shared/seeds/).
    #[arg(required = true, value_name = "SEED")]
    seeds: Vec<PathBuf>,
    /// Where `rules/` and `scenarios/` go.
    #[arg(long, default_value = ".")]
    out: PathBuf,
}

pub(super) fn run(args: ImportArgs) -> Result<u8, String> {
    let mut report = String::new();
    let mut failed = false;
    for seed_path in &args.seeds {
        let seed = match read_text(seed_path)
            .and_then(|text| read_seed(seed_path, &text))
            .map_err(|e| e.to_string())
        {
            Ok(seed) => seed,
            Err(message) => {
                report.push_str(&format!("error: {message}\n"));
                failed = true;
                continue;
            }
        };
        report.push_str(&import_one(seed_path, &seed, &args.out)?);
    }
    print(&report)?;
    Ok(if failed { EXIT_USAGE } else { 0 })
}

fn import_one(seed_path: &Path, seed: &SeedDoc, out: &Path) -> Result<String, String> {
    let slug = slug(&seed.rule.name, seed_path);
    let rule_path = out.join("rules").join(format!("{slug}.yaml"));
    let scenario_path = out.join("scenarios").join(format!("{slug}.yaml"));
    let source = seed_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut lines = format!("{}: {} scenarios\n", seed_path.display(), seed.scenarios.len());

    let rule_text = write_rule(&seed.rule);
    let outcome = write_if_changed(&rule_path, &rule_text).map_err(|e| format!("{}: {e}", rule_path.display()))?;
    lines.push_str(&format!("  {} {}\n", describe(outcome), rule_path.display()));

    let header = format!(
        "Scenarios of the rule \"{}\".\nImported from {source} by `fpx import`. `benign` and `malicious` are event templates:\nthe exclusion must suppress every benign event and none of the malicious ones.",
        seed.rule.name
    );
    let scenario_text = write_scenarios(&seed.rule.id, &header, &seed.scenarios);
    let existing = std::fs::read_to_string(&scenario_path).ok();
    let hand_written = existing
        .as_deref()
        .and_then(|text| read_scenarios(&scenario_path, text).ok())
        .filter(|f| {
            f.scenarios
                .iter()
                .any(|s| !s.benign.is_empty() || !s.malicious.is_empty())
        });
    match hand_written {
        Some(file) if existing.as_deref() != Some(scenario_text.as_str()) => {
            let changed: Vec<&str> = seed
                .scenarios
                .iter()
                .filter(|s| {
                    !file
                        .scenarios
                        .iter()
                        .any(|o| o.name == s.name && o.exclusion == s.exclusion)
                })
                .map(|s| s.name.as_str())
                .collect();
            let what = if changed.is_empty() {
                "its exclusions match the seed".to_string()
            } else {
                format!("the seed differs in: {}", changed.join("; "))
            };
            lines.push_str(&format!(
                "  kept {} (it has hand-written benign/malicious templates; {what})\n",
                scenario_path.display()
            ));
        }
        _ => {
            let outcome = write_if_changed(&scenario_path, &scenario_text)
                .map_err(|e| format!("{}: {e}", scenario_path.display()))?;
            lines.push_str(&format!("  {} {}\n", describe(outcome), scenario_path.display()));
        }
    }
    for note in &seed.notes {
        lines.push_str(&format!("  note: {note}\n"));
    }
    Ok(lines)
}

fn describe(outcome: WriteOutcome) -> &'static str {
    match outcome {
        WriteOutcome::Written => "wrote",
        WriteOutcome::Unchanged => "unchanged",
    }
}

/// A file name from the rule's name: `Remote Management and Monitoring tool - LogMeIn -
/// File Signature` becomes `logmein-file-signature`.
fn slug(name: &str, fallback: &Path) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug = slug
        .strip_prefix("remote-management-and-monitoring-tool-")
        .unwrap_or(slug);
    if slug.is_empty() {
        return fallback
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "rule".into());
    }
    slug.to_string()
}
