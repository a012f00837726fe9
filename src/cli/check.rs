//! `fpx check [PATH...]`: every rule with its scenarios, in context.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use std::path::Path;

use super::{EXIT_FINDINGS, EXIT_USAGE, FailOn, print, use_color};
use crate::checks::check_corpus;
use crate::config::{self, Config};
use crate::corpus::{Scan, load_with, write_atomically};
use crate::report::{Emitter, Run, github, html, json, junit, markdown, sarif, text};
use crate::{gate, harness};

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
    /// Exit with 1 when a finding is at least this severe [default: error, or the
    /// configuration's `fail-on`].
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Report only these codes: codes, prefixes (FPX3), names or ALL, comma-separated
    /// (replaces the configuration's `select`).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    select: Vec<String>,
    /// Do not report these codes (comma-separated; added to the configuration's `ignore`).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    ignore: Vec<String>,
    /// Read the configuration from this file instead of the nearest fpx.toml or
    /// pyproject.toml [tool.fpx].
    #[arg(long, value_name = "FILE", conflicts_with = "isolated")]
    config: Option<PathBuf>,
    /// Ignore every configuration file.
    #[arg(long)]
    isolated: bool,
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
    /// Print how many findings of each code there are instead of the report (text, or
    /// JSON with --format json); the gate and exit code are as without it.
    #[arg(long, conflicts_with = "write_baseline")]
    statistics: bool,
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
    /// GitHub Actions workflow commands: an annotation per finding.
    Github,
}

pub(super) fn run(args: CheckArgs) -> Result<u8, String> {
    let config = match (&args.config, args.isolated) {
        (Some(file), _) => config::load(file),
        (None, true) => Ok(Config::default()),
        (None, false) => config::discover(Path::new(".")),
    };
    let config = match config {
        Ok(config) => config,
        Err(e) => {
            eprintln!("fpx: error: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    let mut settings = config.settings();
    let flags = |list: &[String], what: &str| gate::select::parse_all(list).map_err(|e| format!("in {what}: {e}"));
    if !args.select.is_empty() {
        settings.select = flags(&args.select, "--select")?;
    }
    settings.ignore.extend(flags(&args.ignore, "--ignore")?);
    let fail_on = match args.fail_on {
        Some(f) => f.threshold(),
        None => config.fail_on.unwrap_or(Some(crate::checks::Severity::Error)),
    };
    let paths = if args.paths.is_empty() && !config.paths.is_empty() {
        config.paths.clone()
    } else {
        super::default_paths(&args.paths)?
    };
    let harness = (args.cases > 0).then_some(harness::Config {
        seed: args.seed,
        cases: args.cases,
    });
    let scan = Scan {
        respect_gitignore: config.respect_gitignore,
        exclude: config.exclude.is_some().then(|| {
            let config = config.clone();
            std::sync::Arc::new(move |p: &Path| config.excludes(p)) as crate::corpus::Exclude
        }),
    };
    let mut report = check_corpus(load_with(&paths, &scan), harness);
    let known = match &args.baseline {
        Some(path) => Some(gate::baseline::read(path)?),
        None => None,
    };
    gate::apply(&mut report, &settings, known.as_ref());
    if let Some(path) = &args.write_baseline {
        let text = gate::baseline::write(&report);
        write_atomically(path, text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    // The process ends after the report: freeing the rules' results one by one (a
    // corpus's formulas, spans and findings; 20 ms for SigmaHQ) would only delay the exit.
    let report = std::mem::ManuallyDrop::new(report);
    let run = Run {
        harness,
        fail_on,
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
        CheckFormat::Github => Box::new(github::Github::new(args.root.as_deref())),
        CheckFormat::Markdown => Box::new(markdown::Markdown {
            max_findings: args.max_findings,
            ..markdown::Markdown::default()
        }),
    };
    let output = match args.statistics {
        true => statistics(&report, args.format == CheckFormat::Json)?,
        false => emitter.emit(&report, &run),
    };
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

/// `--statistics`: the findings the gate kept, counted per code, most first (as ruff's
/// `--statistics`): `count  code  name  severity` per line, or a JSON array.
fn statistics(report: &crate::checks::CheckReport, json: bool) -> Result<String, String> {
    let mut counts: Vec<(&'static crate::checks::CodeInfo, crate::checks::Severity, usize)> = Vec::new();
    for f in report.findings() {
        match counts
            .iter_mut()
            .find(|(info, severity, _)| info.code == f.kind.code && *severity == f.severity)
        {
            Some((.., n)) => *n += 1,
            None => counts.push((f.kind, f.severity, 1)),
        }
    }
    counts.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.code.as_str().cmp(b.0.code.as_str())));
    if json {
        let rows: Vec<serde_json::Value> = counts
            .iter()
            .map(|(info, severity, n)| {
                serde_json::json!({"code": info.code.as_str(), "name": info.name, "severity": severity, "count": n})
            })
            .collect();
        return serde_json::to_string_pretty(&rows)
            .map(|s| s + "\n")
            .map_err(|e| format!("cannot write JSON: {e}"));
    }
    let width = counts.iter().map(|(.., n)| n.to_string().len()).max().unwrap_or(1);
    Ok(counts
        .iter()
        .map(|(info, severity, n)| format!("{n:>width$}  {}  {:<26}  {severity}\n", info.code, info.name))
        .collect())
}
