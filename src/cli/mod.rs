//! The command line: argument parsing and one module per subcommand. Everything here is
//! a thin layer over the library; exit codes are 0 (gate passed), 1 (findings at or
//! above `--fail-on`), 2 (usage or input error).

mod check;
mod diff;
mod explain;
mod fix;
mod import;
mod lint;
mod replay;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::checks::Severity;

#[derive(Parser)]
#[command(
    name = "fpx",
    version,
    about = "Tests the false-positive exclusions of detection rules"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check every rule and its scenarios (default: ./rules and ./scenarios).
    Check(check::CheckArgs),
    /// Check exclusion expressions given as arguments, or one per line on stdin with `-`.
    Lint(lint::LintArgs),
    /// What a change to rules and exclusions does: events that stop or start alerting,
    /// findings new or gone (two paths, or --git BASE [HEAD]).
    Diff(diff::DiffArgs),
    /// Apply fixes to exclusions in place (safe ones; with --unsafe, meaning-changing ones).
    Fix(fix::FixArgs),
    /// Replay rules and their exclusions over real events (NDJSON, JSON, evtx_dump, CSV).
    Replay(replay::ReplayArgs),
    /// Turn seed documents into rule and scenario files.
    Import(import::ImportArgs),
    /// Print the documentation of a finding code, or list every code.
    Explain(explain::ExplainArgs),
}

/// The lowest severity that fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

impl FailOn {
    /// The lowest failing severity, `None` for never.
    pub(crate) fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }

    pub(crate) fn fails(self, severity: Severity) -> bool {
        match self {
            FailOn::Error => severity >= Severity::Error,
            FailOn::Warning => severity >= Severity::Warning,
            FailOn::Info => true,
            FailOn::Never => false,
        }
    }
}

/// Exit code: findings at or above `--fail-on`.
pub(crate) const EXIT_FINDINGS: u8 = 1;
/// Exit code: bad usage or unreadable input.
pub(crate) const EXIT_USAGE: u8 = 2;

/// Runs fpx with the process arguments and returns its exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Lint(args) => lint::run(args),
        Command::Fix(args) => fix::run(args),
        Command::Import(args) => import::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Explain(args) => explain::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            let _ = writeln!(io::stderr(), "fpx: error: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// The paths given, or ./rules and ./scenarios where they exist.
pub(crate) fn default_paths(paths: &[std::path::PathBuf]) -> Result<Vec<std::path::PathBuf>, String> {
    if !paths.is_empty() {
        return Ok(paths.to_vec());
    }
    let defaults: Vec<std::path::PathBuf> = ["rules", "scenarios"]
        .into_iter()
        .map(std::path::PathBuf::from)
        .filter(|p| p.exists())
        .collect();
    if defaults.is_empty() {
        return Err("no paths given, and there is no ./rules or ./scenarios here".into());
    }
    Ok(defaults)
}

/// Writes to stdout; a closed pipe (`fpx ... | head`) is not an error.
pub(crate) fn print(text: &str) -> Result<(), String> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("cannot write to stdout: {e}")),
    }
}

/// The width to wrap text at: the terminal's, else `COLUMNS`, else 100 (a log).
pub(crate) fn width() -> usize {
    use std::io::IsTerminal;
    let terminal = io::stdout()
        .is_terminal()
        .then(terminal_size::terminal_size)
        .flatten()
        .map(|(w, _)| usize::from(w.0));
    let columns = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok());
    terminal.or(columns).unwrap_or(100).clamp(40, 400)
}

/// Whether to colour output: stdout is a terminal and `NO_COLOR` is unset.
pub(crate) fn use_color() -> bool {
    use std::io::IsTerminal;
    io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
