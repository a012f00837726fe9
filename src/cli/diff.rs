//! `fpx diff OLD NEW` and `fpx diff --git BASE [HEAD]`: what a change to rules and
//! exclusions does to the events they alert on.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::{EXIT_FINDINGS, EXIT_USAGE, print};
use crate::checks::{CheckReport, check_corpus};
use crate::config::{self, Config};
use crate::corpus::{Corpus, Scan, load_with, write_atomically};
use crate::diff::{self, git};
use crate::gate;
use crate::report::diff::{self as render, DiffGate};

#[derive(Args)]
pub(super) struct DiffArgs {
    /// OLD and NEW: two versions of a rule set (files or directories). With --git, the
    /// paths to compare in the repository instead (default: the configuration's paths,
    /// else ./rules and ./scenarios, else .).
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
    /// Event files or directories (NDJSON, JSON, evtx_dump, CSV) to replay through both
    /// versions of every rule that differs: how many events stop and start alerting.
    #[arg(long, value_name = "FILE|DIR", num_args = 1..)]
    events: Vec<PathBuf>,
    /// The table KQL rules' events come from (default: a file named after a table).
    #[arg(long, value_name = "TABLE", requires = "events")]
    table: Option<String>,
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
            loaded(&config, std::slice::from_ref(old)),
            loaded(&config, std::slice::from_ref(new)),
        )
    } else {
        // `--git BASE PATH`: clap reads the path as HEAD; a path that is not a revision
        // is one of the paths (git's own rule for `git diff BASE PATH`).
        let mut revisions = args.git.clone();
        let mut given = args.paths.clone();
        if let [_, second] = revisions.as_slice()
            && Path::new(second).exists()
            && git::commit(second).is_err()
        {
            given.insert(0, PathBuf::from(revisions.pop().expect("two")));
        }
        let paths = if !given.is_empty() {
            given
        } else if !config.paths.is_empty() {
            config.paths.clone()
        } else {
            super::default_paths(&[]).unwrap_or_else(|_| vec![PathBuf::from(".")])
        };
        let old = at_revision(&config, &revisions[0], &paths)?;
        let new = match revisions.get(1) {
            Some(head) => at_revision(&config, head, &paths)?,
            None => loaded(&config, &existing(&paths)),
        };
        (old, new)
    };
    // Rules the same in both versions need no check.
    let (old, new, unchanged) = diff::changed_only(old, new);
    let checked = |corpus| {
        let mut report = check_corpus(corpus, None);
        gate::apply(&mut report, &config.settings(), None);
        report
    };
    let (old, new) = (checked(old), checked(new));
    let mut report = diff::diff(&old, &new, unchanged);
    let bad_events = if args.events.is_empty() {
        false
    } else {
        replayed(&mut report, &old, &new, &args)?
    };
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
    if !report.new_errors.is_empty() || bad_events {
        return Ok(EXIT_USAGE);
    }
    Ok(if gate.failing(&report).is_empty() {
        0
    } else {
        EXIT_FINDINGS
    })
}

/// Replays `--events` through both versions of the rules that differ (those checked)
/// and adds the counts to the report; whether an event could not be read (said on
/// stderr, as `fpx replay` says it: the run is then not a pass).
fn replayed(
    report: &mut diff::DiffReport,
    old: &CheckReport,
    new: &CheckReport,
    args: &DiffArgs,
) -> Result<bool, String> {
    if let Some(table) = &args.table {
        super::replay::known_table(table)?;
    }
    let mut files = Vec::new();
    for path in &args.events {
        if !path.exists() {
            return Err(format!("{}: no such file or directory", path.display()));
        }
        files.extend(
            super::replay::event_files(path)?
                .into_iter()
                .map(|f| (f, crate::replay::Label::None)),
        );
    }
    if files.is_empty() {
        return Err("no event files (.json, .jsonl, .ndjson, .csv) in the --events given".into());
    }
    let (old_rules, _) = crate::replay::plan(old);
    let (new_rules, _) = crate::replay::plan(new);
    let run = |rules: &[crate::replay::Rule]| {
        crate::replay::replay_with_progress(rules, &files, args.table.as_deref(), true, &|_| {})
    };
    let (old_run, new_run) = (run(&old_rules)?, run(&new_rules)?);
    for b in &new_run.bad {
        eprintln!("fpx: bad event: {}:{}: {}", b.file.display(), b.line, b.message);
    }
    for (file, n) in &new_run.unrouted {
        eprintln!(
            "fpx: warning: {}: its {n} events were not replayed through the KQL rules: neither --table nor the file's name says which table they are rows of",
            file.display()
        );
    }
    diff::with_events(report, (&old_rules, &old_run), (&new_rules, &new_run));
    Ok(!new_run.bad.is_empty())
}

/// The paths that exist in the working tree (one a revision added may not).
fn existing(paths: &[PathBuf]) -> Vec<PathBuf> {
    paths.iter().filter(|p| p.exists()).cloned().collect()
}

/// One version as `fpx check` reads it (it is checked as `check --cases 0` checks it,
/// with the configuration's `select`, `ignore`, severities and suppressions).
fn loaded(config: &Config, paths: &[PathBuf]) -> Corpus {
    let scan = Scan {
        respect_gitignore: config.respect_gitignore,
        exclude: config.exclude.is_some().then(|| {
            let config = config.clone();
            std::sync::Arc::new(move |p: &Path| config.excludes(p)) as crate::corpus::Exclude
        }),
    };
    without_emptiness(load_with(paths, &scan))
}

/// The version at git revision `rev`: the files under `paths` there, less those the
/// configuration's `exclude` names (a tracked file is not gitignored).
fn at_revision(config: &Config, rev: &str, paths: &[PathBuf]) -> Result<Corpus, String> {
    let files = git::files_at(rev, paths)?
        .into_iter()
        .filter(|(file, _)| {
            !file
                .ancestors()
                .any(|a| !a.as_os_str().is_empty() && config.excludes(a))
        })
        .collect();
    Ok(without_emptiness(crate::corpus::load_texts(files)))
}

/// A version with no rule at those paths is an empty rule set, not an error (a revision
/// before the rules existed): every rule of the other is added or removed.
fn without_emptiness(mut corpus: Corpus) -> Corpus {
    corpus.errors.retain(|e| !e.message.starts_with("nothing to check"));
    corpus
}
