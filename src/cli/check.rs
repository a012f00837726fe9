//! `fpx check [PATH...]`: every rule with its scenarios, in context.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{EXIT_FINDINGS, EXIT_USAGE, FailOn, print, use_color};
use crate::checks::{CheckReport, Finding, check_corpus, lookup};
use crate::corpus::{load, write_atomically};
use crate::harness;
use crate::report::{Emitter, Run, html, json, junit, markdown, sarif, text};

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
    /// Findings listed in this file (from --write-baseline) are reported but do not fail
    /// the gate; only new ones do.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write every finding of this run to FILE as the baseline for later runs (exits 0
    /// unless an input is in error).
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// The repository root that SARIF paths are relative to (`%SRCROOT%`; default: the
    /// git root of the current directory, else the current directory).
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Markdown: show at most N findings (default: as many as fit in a GitHub comment).
    #[arg(long, value_name = "N")]
    max_findings: Option<usize>,
    /// Print only the summary (totals, the gate, one line per rule) in the text report.
    #[arg(long, short)]
    quiet: bool,
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
    Sarif,
    Junit,
    Markdown,
    Html,
}

pub(super) fn run(args: CheckArgs) -> Result<u8, String> {
    for code in args.select.iter().chain(&args.ignore) {
        if lookup(code).is_none() {
            return Err(format!(
                "unknown code `{code}` in --select/--ignore; `fpx explain --list` lists them"
            ));
        }
    }
    let paths = super::default_paths(&args.paths)?;
    let harness = (args.cases > 0).then_some(harness::Config {
        seed: args.seed,
        cases: args.cases,
    });
    let mut report = check_corpus(load(&paths), harness);
    filter(&mut report, &args.select, &args.ignore);
    if let Some(path) = &args.baseline {
        let known = read_baseline(path)?;
        for f in report.findings_mut() {
            f.baseline = known.contains(&f.fingerprint);
        }
    }
    if let Some(path) = &args.write_baseline {
        let text = write_baseline(&report);
        write_atomically(path, text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let run = Run {
        harness,
        fail_on: args.fail_on.threshold(),
        baseline: args.baseline.is_some(),
        color: args.output.is_none() && use_color(),
        writes_baseline: args.write_baseline.is_some(),
        quiet: args.quiet,
        width: super::width(),
    };
    let emitter: Box<dyn Emitter> = match args.format {
        CheckFormat::Text => Box::new(text::Text),
        CheckFormat::Json => Box::new(json::Json),
        CheckFormat::Sarif => Box::new(sarif::Sarif::new(args.root.as_deref())),
        CheckFormat::Junit => Box::new(junit::Junit),
        CheckFormat::Html => Box::new(html::Html),
        CheckFormat::Markdown => Box::new(markdown::Markdown {
            max_findings: args.max_findings,
            ..markdown::Markdown::default()
        }),
    };
    let output = emitter.emit(&report, &run);
    match &args.output {
        Some(path) => {
            write_atomically(path, output.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?
        }
        None => print(&output)?,
    }
    // Input errors are said on stderr whatever the format (the report has them too):
    // a CI log shows them even when the report goes to a file or a code-scanning upload.
    for error in &report.load_errors {
        eprintln!("fpx: error: {error}");
    }
    if !report.load_errors.is_empty() {
        return Ok(EXIT_USAGE);
    }
    if let Some(path) = &args.write_baseline {
        // Recording the baseline is the job: the findings it records do not fail it.
        let n = report.findings().count();
        eprintln!(
            "fpx: wrote the baseline {} ({n} finding{})",
            path.display(),
            if n == 1 { "" } else { "s" }
        );
        return Ok(0);
    }
    let failed = report.findings().any(|f| run.fails(f));
    Ok(if failed { EXIT_FINDINGS } else { 0 })
}

/// The baseline file: the fingerprints of known findings, with enough context for a
/// person to read it (code, rule, scenario, message). Sorted, so it diffs well.
fn write_baseline(report: &CheckReport) -> String {
    let mut entries: Vec<serde_json::Value> = Vec::new();
    for rule in &report.rules {
        for f in &rule.findings {
            entries.push(serde_json::json!({"fingerprint": f.fingerprint, "code": f.rule.code, "rule": rule.rule.id, "scenario": null, "message": f.message}));
        }
        for s in &rule.scenarios {
            for f in s.findings() {
                entries.push(serde_json::json!({"fingerprint": f.fingerprint, "code": f.rule.code, "rule": rule.rule.id, "scenario": s.name, "message": f.message}));
            }
        }
    }
    entries.sort_by(|a, b| a["fingerprint"].as_str().cmp(&b["fingerprint"].as_str()));
    serde_json::to_string_pretty(&serde_json::json!({"version": 1, "findings": entries}))
        .expect("JSON values serialize")
        + "\n"
}

fn read_baseline(path: &std::path::Path) -> Result<std::collections::HashSet<String>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("cannot read the baseline {}: {e}", path.display()))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a baseline file: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    let findings = doc["findings"]
        .as_array()
        .ok_or_else(|| format!("{}: not a baseline file: no `findings` list", path.display()))?;
    Ok(findings
        .iter()
        .filter_map(|f| f["fingerprint"].as_str().map(str::to_string))
        .collect())
}

fn filter(report: &mut CheckReport, select: &[String], ignore: &[String]) {
    let keep = |f: &Finding| {
        let named = |codes: &[String]| codes.iter().any(|c| lookup(c).is_some_and(|r| r.code == f.rule.code));
        (select.is_empty() || named(select)) && !named(ignore)
    };
    for rule in &mut report.rules {
        rule.findings.retain(keep);
        for s in &mut rule.scenarios {
            s.result.analysis.findings.retain(keep);
        }
    }
}
