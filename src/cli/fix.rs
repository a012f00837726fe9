//! `fpx fix [PATH...] [--unsafe] [--diff]`: apply fixes to exclusions in place.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use similar::TextDiff;

use super::{EXIT_USAGE, default_paths, print};
use crate::checks::{check_corpus, fixed_text};
use crate::corpus::{
    RuleFormat, load, read_rule, read_scenarios, read_seed, replace_exclusion, replace_in_query, write_atomically,
};

#[derive(Args)]
pub(super) struct FixArgs {
    /// Scenario files, rule files (their inline KQL exclusions and Sigma filters), seed
    /// documents, or directories (default: ./rules and ./scenarios).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Also apply fixes that change what is suppressed: the negation of an inverted
    /// exclusion (FPX103) and the simplified form (FPX106; for a Sigma filter, its
    /// redundant values and items dropped).
    #[arg(long = "unsafe")]
    unsafe_fixes: bool,
    /// Print the changes as a unified diff instead of writing them.
    #[arg(long)]
    diff: bool,
}

/// The harness an `--unsafe` fix is re-checked with (as `fpx check` runs it by default).
const RECHECK: crate::harness::Config = crate::harness::Config { seed: 1, cases: 256 };

/// One exclusion to replace: where it starts, its text, the fix, and whether the fix is
/// safe (it does not change what is suppressed).
struct Change {
    line: usize,
    column: usize,
    scenario: String,
    old: String,
    new: String,
    safe: bool,
    /// An inline exclusion: part of the rule's query, replaced where it is written.
    inline: bool,
}

pub(super) fn run(args: FixArgs) -> Result<u8, String> {
    let paths = default_paths(&args.paths)?;
    // A fix that changes what is suppressed is re-checked with the harness, so the
    // scenario's own events are run before and after it.
    let harness = args.unsafe_fixes.then_some(RECHECK);
    let mut report = check_corpus(load(&paths), harness);
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
    let mut edits: BTreeMap<PathBuf, Vec<Change>> = BTreeMap::new();
    let mut unsafe_available = 0;
    // Scenario exclusions, and the inline exclusions of KQL queries (a Sigma filter is
    // YAML, which a KQL-style fix does not rewrite).
    let exclusions = report.rules.iter().flat_map(|r| {
        let kql = r.rule.format.is_kql();
        r.scenarios
            .iter()
            .map(|s| (s, false))
            .chain(r.inline.iter().filter(move |_| kql).map(|s| (s, true)))
    });
    for (s, inline) in exclusions {
        if inline && s.origin != crate::checks::Origin::Inline {
            continue;
        }
        if let Some((fixed, safe)) = fixed_text(&s.exclusion, s.findings(), args.unsafe_fixes) {
            edits.entry(s.file.clone()).or_default().push(Change {
                line: s.line,
                column: s.column,
                scenario: s.name.clone(),
                old: s.exclusion.clone(),
                new: fixed,
                safe,
                inline,
            });
        } else if !args.unsafe_fixes && fixed_text(&s.exclusion, s.findings(), true).is_some() {
            unsafe_available += 1;
        }
    }
    // Sigma filters: FPX106's redundant values and items dropped from the YAML, each
    // proved not to change what the filter suppresses (`crate::sigma::fix`).
    let mut filters: BTreeMap<PathBuf, Vec<(String, usize, usize)>> = BTreeMap::new();
    for r in report.rules.iter().filter(|r| r.rule.format == RuleFormat::Sigma) {
        for s in r.inline.iter().filter(|s| s.origin == crate::checks::Origin::Inline) {
            let redundant = s.findings().iter().any(|f| f.kind.code == crate::checks::Code::Fpx106);
            let Some(name) = s.name.strip_prefix("filter ").filter(|_| redundant) else {
                continue;
            };
            match args.unsafe_fixes {
                true => filters
                    .entry(s.file.clone())
                    .or_default()
                    .push((name.to_string(), s.line, s.column)),
                false => unsafe_available += 1,
            }
        }
    }
    let mut problems = Vec::new();
    if args.unsafe_fixes {
        refuse_new_errors(&paths, &report, &config, &mut edits, &mut problems)?;
    }
    // Each file's text before and after, and how many exclusions were fixed in it.
    let mut fixed_files: Vec<(PathBuf, String, String, usize)> = Vec::new();
    for (file, names) in filters {
        let original = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let mut text = original.clone();
        let mut done = 0;
        for (name, line, column) in names {
            match crate::sigma::fix::drop_redundant_lines(&text, &name) {
                Some((fixed, _)) => {
                    text = fixed;
                    done += 1;
                }
                None => problems.push(format!(
                    "{}:{line}:{column}: not fixed: filter {name}: no value or item of it can be dropped without changing what it suppresses (its redundant term is not one line of the YAML)",
                    file.display()
                )),
            }
        }
        if done > 0 {
            fixed_files.push((file, original, text, done));
        }
    }
    for (file, mut changes) in edits {
        let original = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let yaml = file.extension().is_none_or(|e| e != "txt");
        changes.sort_by_key(|c| std::cmp::Reverse((c.line, c.column)));
        let (text, done, mut failed) = edited(&file, &original, &changes, yaml);
        problems.append(&mut failed);
        if done == 0 {
            continue;
        }
        // Read the result back: each fixed exclusion must now be exactly the new text
        // (an inline one: in the rule's query).
        let rule_file = changes.iter().any(|c| c.inline) && yaml;
        let reread: Vec<String> = if rule_file {
            read_rule(&file, &text).map(|r| vec![r.query])
        } else if yaml {
            read_scenarios(&file, &text).map(|f| f.scenarios.into_iter().map(|s| s.exclusion).collect())
        } else {
            read_seed(&file, &text).map(|d| {
                let query = d.rule.query.clone();
                d.scenarios.into_iter().map(|s| s.exclusion).chain([query]).collect()
            })
        }
        .map_err(|e| {
            format!(
                "{}: the fixed file would not read back ({}); nothing written",
                file.display(),
                e.message
            )
        })?;
        let read_back = |c: &Change| match c.inline {
            true => reread.iter().any(|text| text.contains(&c.new)),
            false => reread.contains(&c.new),
        };
        if let Some(c) = changes.iter().find(|c| !read_back(c)) {
            return Err(format!(
                "{}: the fix `{}` did not read back; nothing written",
                file.display(),
                c.new
            ));
        }
        fixed_files.push((file, original, text, done));
    }
    let mut out = String::new();
    let (mut fixed_count, mut files) = (0, 0);
    for (file, original, text, done) in fixed_files {
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

/// The file's text with `changes` (bottom up) applied, how many were, and why the
/// others could not be.
fn edited(file: &std::path::Path, original: &str, changes: &[Change], yaml: bool) -> (String, usize, Vec<String>) {
    let mut text = original.to_string();
    let (mut done, mut problems) = (0, Vec::new());
    for c in changes {
        let replaced = match c.inline {
            true => replace_in_query(&text, c.line, c.column, &c.old, &c.new),
            false => replace_exclusion(&text, c.line, c.column, &c.old, &c.new, yaml),
        };
        match replaced {
            Ok(edited) => {
                text = edited;
                done += 1;
            }
            Err(why) => problems.push(format!("{}:{}:{}: not fixed: {why}", file.display(), c.line, c.column)),
        }
    }
    (text, done, problems)
}

/// Re-checks every fix that changes what is suppressed: the scenario files with all
/// fixes applied are checked with the harness (the scenario's benign and malicious
/// templates), and a fix after which its scenario has an error it did not have
/// (FPX301: it now suppresses a malicious event; FPX302: it misses a benign one; ...) is
/// dropped, with the finding that refused it. Seed documents are not re-checked: their
/// unsafe fixes are refused.
fn refuse_new_errors(
    paths: &[PathBuf],
    before: &crate::checks::CheckReport,
    config: &crate::config::Config,
    edits: &mut BTreeMap<PathBuf, Vec<Change>>,
    problems: &mut Vec<String>,
) -> Result<(), String> {
    // A scenario's errors; for an inline exclusion, every error of its rule (a fix that
    // makes the rule dead is FPX108 on the rule).
    let errors_of =
        |report: &crate::checks::CheckReport, file: &std::path::Path, c: &Change| -> Vec<(String, String)> {
            let errors = |findings: &mut dyn Iterator<Item = &crate::checks::Finding>| -> Vec<(String, String)> {
                findings
                    .filter(|f| f.severity >= crate::checks::Severity::Error)
                    .map(|f| (f.kind.code.as_str().to_string(), f.message.clone()))
                    .collect()
            };
            match c.inline {
                true => report
                    .rules
                    .iter()
                    .filter(|r| r.rule.file == file)
                    .flat_map(|r| errors(&mut r.findings.iter().chain(r.inline.iter().flat_map(|s| s.findings()))))
                    .collect(),
                false => report
                    .rules
                    .iter()
                    .flat_map(|r| &r.scenarios)
                    .filter(|s| s.file == file && s.name == c.scenario)
                    .flat_map(|s| errors(&mut s.findings().iter()))
                    .collect(),
            }
        };
    let mut corpus = load(paths);
    for (file, changes) in edits.iter_mut() {
        let yaml = file.extension().is_none_or(|e| e != "txt");
        if !yaml {
            changes.retain(|c| {
                if !c.safe {
                    problems.push(format!(
                        "{}:{}:{}: not fixed: fixes that change what is suppressed are re-checked in scenario files only; run `fpx import` first",
                        file.display(),
                        c.line,
                        c.column
                    ));
                }
                c.safe
            });
            continue;
        }
        let original = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        changes.sort_by_key(|c| std::cmp::Reverse((c.line, c.column)));
        let (text, _, _) = edited(file, &original, changes, true);
        if changes.iter().any(|c| c.inline) {
            if let Ok(fixed) = read_rule(file, &text)
                && let Some(slot) = corpus.rules.iter_mut().find(|r| &r.file == file)
            {
                *slot = fixed;
            }
        } else if let Ok(fixed) = read_scenarios(file, &text)
            && let Some(slot) = corpus.scenario_files.iter_mut().find(|f| &f.file == file)
        {
            *slot = fixed;
        }
    }
    let mut after = check_corpus(corpus, Some(RECHECK));
    crate::gate::apply(&mut after, &config.settings(), None);
    for (file, changes) in edits.iter_mut() {
        changes.retain(|c| {
            if c.safe {
                return true;
            }
            let was = errors_of(before, file, c);
            let new: Vec<(String, String)> = errors_of(&after, file, c)
                .into_iter()
                .filter(|e| !was.iter().any(|w| w.0 == e.0))
                .collect();
            match new.first() {
                None => true,
                Some((code, message)) => {
                    problems.push(format!(
                        "{}:{}:{}: not fixed: the fix `{}` would add {code}: {message}",
                        file.display(),
                        c.line,
                        c.column,
                        c.new
                    ));
                    false
                }
            }
        });
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
