//! `fpx check [PATH...]`: every rule with its scenarios, in context.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{EXIT_FINDINGS, EXIT_USAGE, FailOn, print, use_color};
use crate::checks::{CheckReport, Finding, check_corpus, lookup};
use crate::corpus::{load, write_atomically};
use crate::harness;
use crate::report::{json, text};

#[derive(Args)]
pub(super) struct CheckArgs {
    /// Rule files, scenario files, seed documents, or directories holding them
    /// (default: ./rules and ./scenarios).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    format: CheckFormat,
    /// Write the report to this file (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit with 1 when a finding is at least this severe.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// Report only these codes (comma-separated, e.g. FPX101,FPX104).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    select: Vec<String>,
    /// Do not report these codes (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    ignore: Vec<String>,
    /// Seed of the scenario harness; the same seed gives the same report.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Events the harness generates per property of each scenario (0: harness off).
    #[arg(long, default_value_t = 256)]
    cases: u32,
}

/// The harness seed when none is given: fixed, so a CI gate never flakes.
const DEFAULT_SEED: u64 = 1;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CheckFormat {
    Text,
    Json,
}

pub(super) fn run(args: CheckArgs) -> Result<u8, String> {
    for code in args.select.iter().chain(&args.ignore) {
        if lookup(code).is_none() {
            return Err(format!(
                "unknown code `{code}` in --select/--ignore; `fpx explain --list` lists them"
            ));
        }
    }
    let paths = if args.paths.is_empty() {
        let defaults: Vec<PathBuf> = ["rules", "scenarios"]
            .into_iter()
            .map(PathBuf::from)
            .filter(|p| p.exists())
            .collect();
        if defaults.is_empty() {
            return Err("no paths given, and there is no ./rules or ./scenarios here".into());
        }
        defaults
    } else {
        args.paths.clone()
    };
    let harness = (args.cases > 0).then_some(harness::Config {
        seed: args.seed,
        cases: args.cases,
    });
    let mut report = check_corpus(load(&paths), harness);
    filter(&mut report, &args.select, &args.ignore);
    let output = match args.format {
        CheckFormat::Text => text::check(&report, harness, args.output.is_none() && use_color()),
        CheckFormat::Json => {
            serde_json::to_string_pretty(&json::check(&report, harness.map(|h| h.seed))).expect("JSON values serialize")
                + "\n"
        }
    };
    match &args.output {
        Some(path) => {
            write_atomically(path, output.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?
        }
        None => print(&output)?,
    }
    if !report.load_errors.is_empty() {
        return Ok(EXIT_USAGE);
    }
    let failed = all_findings(&report).any(|f| args.fail_on.fails(f.rule.severity));
    Ok(if failed { EXIT_FINDINGS } else { 0 })
}

fn all_findings(report: &CheckReport) -> impl Iterator<Item = &Finding> {
    report
        .rules
        .iter()
        .flat_map(|r| r.findings.iter().chain(r.scenarios.iter().flat_map(|s| s.findings())))
}

fn filter(report: &mut CheckReport, select: &[String], ignore: &[String]) {
    let keep = |f: &Finding| {
        let named = |codes: &[String]| codes.iter().any(|c| lookup(c).is_some_and(|r| std::ptr::eq(r, f.rule)));
        (select.is_empty() || named(select)) && !named(ignore)
    };
    for rule in &mut report.rules {
        rule.findings.retain(keep);
        for s in &mut rule.scenarios {
            s.result.analysis.findings.retain(keep);
        }
    }
}
