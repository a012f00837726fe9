//! `fpx fix [PATH...] [--unsafe] [--diff]`: apply fixes to exclusions in place.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use similar::TextDiff;

use super::{EXIT_USAGE, default_paths, print};
use crate::checks::{check_corpus, fixed_text};
use crate::corpus::{load, read_scenarios, read_seed, replace_exclusion, write_atomically};

#[derive(Args)]
pub(super) struct FixArgs {
    /// Scenario files, seed documents, or directories (default: ./rules and ./scenarios).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Also apply fixes that change what is suppressed: the negation of an inverted
    /// exclusion (FPX103) and the simplified form (FPX106).
    #[arg(long = "unsafe")]
    unsafe_fixes: bool,
    /// Print the changes as a unified diff instead of writing them.
    #[arg(long)]
    diff: bool,
}

pub(super) fn run(args: FixArgs) -> Result<u8, String> {
    let paths = default_paths(&args.paths)?;
    let mut report = check_corpus(load(&paths), None);
    // What the configuration and suppressions silence is not fixed either.
    let config = crate::config::discover(std::path::Path::new(".")).map_err(|e| e.to_string())?;
    crate::gate::apply(&mut report, &config.settings(), None);
    if !report.load_errors.is_empty() {
        for e in &report.load_errors {
            eprintln!("fpx: error: {e}");
        }
        return Ok(EXIT_USAGE);
    }
    // Per file: the edited text, grown one exclusion at a time from the bottom up so
    // earlier lines keep their positions.
    let mut edits: BTreeMap<PathBuf, Vec<(usize, usize, String, String)>> = BTreeMap::new();
    let mut unsafe_available = 0;
    for s in report.rules.iter().flat_map(|r| &r.scenarios) {
        if let Some((fixed, _)) = fixed_text(&s.exclusion, s.findings(), args.unsafe_fixes) {
            edits
                .entry(s.file.clone())
                .or_default()
                .push((s.line, s.column, s.exclusion.clone(), fixed));
        } else if !args.unsafe_fixes && fixed_text(&s.exclusion, s.findings(), true).is_some() {
            unsafe_available += 1;
        }
    }
    let mut out = String::new();
    let mut problems = Vec::new();
    let (mut fixed_count, mut files) = (0, 0);
    for (file, mut changes) in edits {
        let original = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let yaml = file.extension().is_none_or(|e| e != "txt");
        changes.sort_by_key(|c| std::cmp::Reverse((c.0, c.1)));
        let mut text = original.clone();
        let mut done = 0;
        for (line, column, old, new) in &changes {
            match replace_exclusion(&text, *line, *column, old, new, yaml) {
                Ok(edited) => {
                    text = edited;
                    done += 1;
                }
                Err(why) => problems.push(format!("{}:{line}:{column}: not fixed: {why}", file.display())),
            }
        }
        if done == 0 {
            continue;
        }
        // Read the result back: each fixed exclusion must now be exactly the new text.
        let reread: Vec<String> = if yaml {
            read_scenarios(&file, &text).map(|f| f.scenarios.into_iter().map(|s| s.exclusion).collect())
        } else {
            read_seed(&file, &text).map(|d| d.scenarios.into_iter().map(|s| s.exclusion).collect())
        }
        .map_err(|e| {
            format!(
                "{}: the fixed file would not read back ({}); nothing written",
                file.display(),
                e.message
            )
        })?;
        if let Some((_, _, _, new)) = changes.iter().find(|c| !reread.contains(&c.3)) {
            return Err(format!(
                "{}: the fix `{new}` did not read back; nothing written",
                file.display()
            ));
        }
        fixed_count += done;
        files += 1;
        if args.diff {
            let name = file.display().to_string();
            out.push_str(
                &TextDiff::from_lines(&original, &text)
                    .unified_diff()
                    .header(&name, &name)
                    .to_string(),
            );
        } else {
            write_atomically(&file, text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
            out.push_str(&format!(
                "fixed {done} exclusion{} in {}\n",
                if done == 1 { "" } else { "s" },
                file.display()
            ));
        }
    }
    for p in &problems {
        out.push_str(&format!("{p}\n"));
    }
    let verb = if args.diff { "would fix" } else { "fixed" };
    out.push_str(&format!(
        "{verb} {fixed_count} exclusion{} in {files} file{}",
        plural(fixed_count),
        plural(files)
    ));
    if unsafe_available > 0 {
        out.push_str(&format!(
            "; {unsafe_available} more with --unsafe (changes what they suppress)"
        ));
    }
    out.push('\n');
    if args.diff {
        print(&out)?;
    } else {
        eprint!("{out}");
    }
    Ok(if problems.is_empty() { 0 } else { EXIT_USAGE })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
