//! `fpx diff OLD NEW` and `fpx diff --git BASE [HEAD]`: what a change to rules and
//! exclusions does to the events they alert on.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::{EXIT_FINDINGS, EXIT_USAGE, print};
use crate::checks::{CheckReport, check_corpus};
use crate::config::{self, Config};
use crate::corpus::{Scan, load_with, write_atomically};
use crate::diff::{self, git};
use crate::gate;
use crate::report::diff::{self as render, DiffGate};

#[derive(Args)]
pub(super) struct DiffArgs {
    /// OLD and NEW: two versions of a rule set (files or directories). With --git, the
    /// paths to compare in the repository instead (default: the configuration's paths,
    /// else ./rules and ./scenarios, else .); give them before --git or after `--`.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Compare git revisions: BASE against HEAD, or against the working tree when HEAD
    /// is not given.
    #[arg(long, num_args = 1..=2, value_names = ["BASE", "HEAD"])]
    git: Vec<String>,
    /// Output format (`markdown` fits a pull-request comment).
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
    /// Write the report to this file (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit with 1 when: some event stops alerting, some event starts alerting, the new
    /// version has an error finding the old did not, or never.
    #[arg(long, value_enum, default_value_t = FailOnDiff::NewFindings)]
    fail_on: FailOnDiff,
    /// Read the configuration from this file instead of the nearest fpx.toml or
    /// pyproject.toml [tool.fpx] (its select, ignore, severities and exclude apply to
    /// both versions).
    #[arg(long, value_name = "FILE", conflicts_with = "isolated")]
    config: Option<PathBuf>,
    /// Ignore every configuration file.
    #[arg(long)]
    isolated: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiffFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOnDiff {
    StopsAlerting,
    Broadened,
    NewFindings,
    Never,
}

impl FailOnDiff {
    fn gate(self) -> DiffGate {
        match self {
            FailOnDiff::StopsAlerting => DiffGate::StopsAlerting,
            FailOnDiff::Broadened => DiffGate::Broadened,
            FailOnDiff::NewFindings => DiffGate::NewFindings,
            FailOnDiff::Never => DiffGate::Never,
        }
    }
}

pub(super) fn run(args: DiffArgs) -> Result<u8, String> {
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
    let (old, new) = if args.git.is_empty() {
        let [old, new] = args.paths.as_slice() else {
            return Err(format!(
                "give two versions to compare (OLD NEW), or --git BASE [HEAD]; got {} path{}",
                args.paths.len(),
                if args.paths.len() == 1 { "" } else { "s" }
            ));
        };
        for p in [old, new] {
            if !p.exists() {
                return Err(format!("{}: no such file or directory", p.display()));
            }
        }
        (
            checked(&config, std::slice::from_ref(old), None),
            checked(&config, std::slice::from_ref(new), None),
        )
    } else {
        let paths = if !args.paths.is_empty() {
            args.paths.clone()
        } else if !config.paths.is_empty() {
            config.paths.clone()
        } else {
            super::default_paths(&[]).unwrap_or_else(|_| vec![PathBuf::from(".")])
        };
        let base = git::tree_at(&args.git[0], &paths)?;
        let old = checked(&config, &paths, Some(base.path()));
        let new = match args.git.get(1) {
            Some(head) => {
                let tree = git::tree_at(head, &paths)?;
                checked(&config, &paths, Some(tree.path()))
            }
            None => checked(&config, &existing(&paths), None),
        };
        (old, new)
    };
    let report = diff::diff(&old, &new);
    let gate = args.fail_on.gate();
    let output = match args.format {
        DiffFormat::Text => render::text(&report, gate),
        DiffFormat::Json => render::json(&report, gate),
        DiffFormat::Markdown => render::markdown(&report, gate, crate::report::markdown::GITHUB_COMMENT_LIMIT),
    };
    match &args.output {
        Some(path) => {
            write_atomically(path, output.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?
        }
        None => print(&output)?,
    }
    for error in &report.new_errors {
        eprintln!("fpx: error: {error}");
    }
    if !report.new_errors.is_empty() {
        return Ok(EXIT_USAGE);
    }
    Ok(if gate.failing(&report).is_empty() {
        0
    } else {
        EXIT_FINDINGS
    })
}

/// The paths that exist in the working tree (one a revision added may not).
fn existing(paths: &[PathBuf]) -> Vec<PathBuf> {
    paths.iter().filter(|p| p.exists()).cloned().collect()
}

/// One version checked as `fpx check --cases 0` checks it, with the configuration's
/// gate applied (its `select`, `ignore`, severities and suppressions). `tree`: the
/// directory a revision's files were written to, `paths` relative to it.
fn checked(config: &Config, paths: &[PathBuf], tree: Option<&Path>) -> CheckReport {
    let scan = Scan {
        respect_gitignore: config.respect_gitignore,
        exclude: config.exclude.is_some().then(|| {
            let config = config.clone();
            let tree = tree.map(Path::to_path_buf);
            std::sync::Arc::new(move |p: &Path| {
                let local = tree.as_deref().and_then(|t| p.strip_prefix(t).ok()).unwrap_or(p);
                config.excludes(local)
            }) as crate::corpus::Exclude
        }),
    };
    let mut corpus = match tree {
        Some(tree) => {
            let inside: Vec<PathBuf> = paths.iter().map(|p| tree.join(p)).filter(|p| p.exists()).collect();
            let mut corpus = load_with(&inside, &scan);
            git::relocate(&mut corpus, tree);
            corpus
        }
        None => load_with(paths, &scan),
    };
    // A version with no rule at those paths is an empty rule set, not an error (a
    // revision before the rules existed): every rule of the other is added or removed.
    corpus.errors.retain(|e| !e.message.starts_with("nothing to check"));
    let mut report = check_corpus(corpus, None);
    gate::apply(&mut report, &config.settings(), None);
    report
}
