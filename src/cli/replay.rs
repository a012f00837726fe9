//! `fpx replay PATH... --events FILE|DIR...`: rules and their exclusions over real events.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use super::{EXIT_FINDINGS, EXIT_USAGE, print};
use crate::checks::{Code, describe_event};
use crate::corpus::{load, write_atomically};
use crate::replay::{self, Label, Replay, Rule};

#[derive(Args)]
pub(super) struct ReplayArgs {
    /// Rule files, scenario files, Sigma meta-filters, or directories holding them.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
    /// Event files or directories (NDJSON, JSON arrays or objects, evtx_dump JSON, CSV).
    #[arg(long, value_name = "FILE|DIR", required_unless_present_any = ["true_positives", "emit"], num_args = 1..)]
    events: Vec<PathBuf>,
    /// Events labelled as true positives: a directory per rule with SigmaHQ's
    /// `info.yml` naming the rule, or any event file (a true positive of every rule).
    #[arg(long, value_name = "DIR")]
    true_positives: Vec<PathBuf>,
    /// The table KQL rules' events come from (default: a file named after a table).
    #[arg(long, value_name = "TABLE")]
    table: Option<String>,
    /// Output format: `jsonl` prints one line per match.
    #[arg(long, value_enum, default_value_t = ReplayFormat::Text)]
    format: ReplayFormat,
    /// Write the output to this file (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print, per KQL rule, one query that runs the replay on Microsoft Sentinel or Azure
    /// Data Explorer (counts and top suppressed values per exclusion), instead of
    /// replaying events here.
    #[arg(long, value_enum, conflicts_with_all = ["events", "true_positives"])]
    emit: Option<Emit>,
    /// With `--emit kql`: the time range to replay, as a KQL timespan (`30d`, `12h`).
    #[arg(long, value_name = "TIMESPAN", requires = "emit")]
    since: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Emit {
    Kql,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReplayFormat {
    Text,
    Json,
    Jsonl,
}

const EVENT_EXTENSIONS: [&str; 4] = ["json", "jsonl", "ndjson", "csv"];

pub(super) fn run(args: ReplayArgs) -> Result<u8, String> {
    // The rule model, without the checks: replay starts on the events at once.
    let corpus = load(&args.paths);
    if !corpus.errors.is_empty() {
        for e in &corpus.errors {
            eprintln!("fpx: error: {e}");
        }
        return Ok(EXIT_USAGE);
    }
    if let Some(table) = &args.table {
        known_table(table)?;
    }
    let (rules, skipped) = replay::plan_corpus(corpus);
    // The process ends with the replay: freeing thousands of rules' predicates one
    // node at a time would only delay the exit.
    let rules: &[replay::Rule] = rules.leak();
    if args.emit.is_some() {
        return emit(&args, rules);
    }
    let mut files: Vec<(PathBuf, Label)> = Vec::new();
    for path in &args.events {
        if !path.exists() {
            return Err(format!("{}: no such file or directory", path.display()));
        }
        files.extend(event_files(path)?.into_iter().map(|f| (f, Label::None)));
    }
    for path in &args.true_positives {
        if !path.exists() {
            return Err(format!("{}: no such file or directory", path.display()));
        }
        files.extend(labelled_files(path)?);
    }
    if files.is_empty() {
        return Err("no event files (.json, .jsonl, .ndjson, .csv) in the paths given".into());
    }
    let bar = progress_bar(&files);
    let outcome = replay::replay_with_progress(
        rules,
        &files,
        args.table.as_deref(),
        args.format == ReplayFormat::Jsonl,
        &|read| {
            if let Some(bar) = &bar {
                bar.set_position(read);
            }
        },
    )?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    for b in &outcome.bad {
        eprintln!("fpx: bad event: {}:{}: {}", b.file.display(), b.line, b.message);
    }
    let output = match args.format {
        ReplayFormat::Text => text(rules, &skipped, &outcome),
        ReplayFormat::Json => {
            serde_json::to_string_pretty(&json_report(rules, &skipped, &outcome)).expect("JSON") + "\n"
        }
        ReplayFormat::Jsonl => jsonl(rules, &outcome),
    };
    match &args.output {
        Some(path) => {
            write_atomically(path, output.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?
        }
        None => print(&output)?,
    }
    for (file, n) in &outcome.unrouted {
        eprintln!("fpx: warning: {}", unrouted(file, *n, rules));
    }
    // True positives no KQL rule could see were not checked: that is not a pass.
    let unchecked_tps = outcome.unrouted.iter().any(|(file, _)| {
        files
            .iter()
            .any(|(f, label)| f == file && !matches!(label, Label::None))
    });
    // Exit 0 only when every event given was read: a bad event (and, for a broken JSON
    // array, the rest of its file) is reported with the replay of everything else, and
    // the run is not a pass.
    // No event evaluated against any rule (every file unrouted, no Sigma rule to see
    // them): nothing was replayed, which is not a pass.
    let unrouted_events: usize = outcome.unrouted.iter().map(|(_, n)| n).sum();
    let nothing_replayed = (outcome.events > 0 && unrouted_events == outcome.events && rules.iter().all(|r| r.format.is_kql()))
        // Rules were given and none could be replayed (none has a detection fpx reads).
        || rules.is_empty() && !skipped.is_empty();
    Ok(if !outcome.suppressed_true_positives.is_empty() {
        EXIT_FINDINGS
    } else if unchecked_tps || nothing_replayed || !outcome.bad.is_empty() {
        EXIT_USAGE
    } else {
        0
    })
}

/// `--table T` names a table fpx knows, or the error says which it may have meant.
pub(super) fn known_table(table: &str) -> Result<(), String> {
    if crate::schema::schema().is_kql(table) {
        return Ok(());
    }
    let hint = match crate::schema::nearest_name(table, crate::schema::schema().kql_tables()) {
        Some(near) => format!("; did you mean `{near}`?"),
        None => String::new(),
    };
    Err(format!("--table {table}: not a table fpx knows{hint}"))
}

/// The note for an event file no KQL rule saw, with what would route it: `--table` (the
/// KQL rules' table, when they read one) or a file named after its table.
fn unrouted(file: &Path, events: usize, rules: &[Rule]) -> String {
    let mut tables: Vec<&str> = rules
        .iter()
        .filter(|r| r.format.is_kql())
        .filter_map(|r| r.table.as_deref())
        .collect();
    tables.sort_unstable();
    tables.dedup();
    let extension = file.extension().and_then(|e| e.to_str()).unwrap_or("json");
    let fix = match tables.as_slice() {
        [one] => format!(": pass `--table {one}` (the table the KQL rules read), or name the file `{one}.{extension}`"),
        _ => format!(": pass `--table TABLE`, or name the file after its table (`TABLE.{extension}`)"),
    };
    format!(
        "{}: its {events} event{} not evaluated against the KQL rules: neither --table nor the file's name says which table they are rows of{fix}",
        file.display(),
        if events == 1 { " was" } else { "s were" }
    )
}

/// `--emit kql`: one query per KQL rule.
fn emit(args: &ReplayArgs, rules: &[Rule]) -> Result<u8, String> {
    if let Some(since) = &args.since
        && !is_timespan(since)
    {
        return Err(format!(
            "--since {since}: expected a KQL timespan such as 30d, 12h, 90m or 45s"
        ));
    }
    let mut queries = Vec::new();
    let mut not_kql = 0;
    for rule in rules {
        match replay::emit::query(rule, args.since.as_deref()) {
            Ok(q) => queries.push((rule, q)),
            Err(replay::emit::NotEmitted::NotKql) => not_kql += 1,
            Err(replay::emit::NotEmitted::NoTable) => eprintln!(
                "fpx: warning: {}: no query emitted: the rule names no table fpx knows",
                rule.file.display()
            ),
        }
    }
    if not_kql > 0 {
        eprintln!("fpx: note: {not_kql} Sigma and Elastic rules skipped (--emit kql is for KQL rules)");
    }
    if queries.is_empty() {
        return Err("no KQL rule with a table to emit a query for".into());
    }
    let output = match args.format {
        ReplayFormat::Jsonl => queries
            .iter()
            .map(|(r, q)| json!({"rule_id": r.id, "file": r.file, "query": q}).to_string() + "\n")
            .collect(),
        ReplayFormat::Json => {
            let all: Vec<Value> = queries
                .iter()
                .map(|(r, q)| json!({"rule_id": r.id, "file": r.file, "query": q}))
                .collect();
            serde_json::to_string_pretty(&all).expect("JSON") + "\n"
        }
        ReplayFormat::Text => queries.iter().map(|(_, q)| q.as_str()).collect::<Vec<_>>().join("\n"),
    };
    match &args.output {
        Some(path) => {
            write_atomically(path, output.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?
        }
        None => print(&output)?,
    }
    Ok(0)
}

/// A KQL timespan literal: a number and a unit (`30d`, `1.5h`, `90m`, `45s`, `500ms`).
fn is_timespan(text: &str) -> bool {
    let unit_at = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(unit_at);
    crate::pred::parse_number(number).is_some()
        && matches!(
            unit,
            "d" | "h" | "m" | "s" | "ms" | "microsecond" | "microseconds" | "tick" | "ticks"
        )
}

/// Event input this large (bytes) gets a progress bar.
const LARGE_INPUT: u64 = 64 << 20;

/// A progress bar over the bytes of the event files, on stderr, when stderr is a
/// terminal and the input is large (else `None`: nothing is drawn).
fn progress_bar(files: &[(PathBuf, Label)]) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    let total: u64 = files
        .iter()
        .filter_map(|(f, _)| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    if total < LARGE_INPUT || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::stderr());
    let style = indicatif::ProgressStyle::with_template(
        "fpx replay {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
    )
    .expect("the template is valid");
    bar.set_style(style);
    Some(bar)
}

/// Event files under a path (recursively), sorted; an unreadable directory is an error.
pub(super) fn event_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let is_event_file = |p: &Path| {
        p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EVENT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
    };
    let mut errors = Vec::new();
    let files = crate::corpus::files_under(path, &is_event_file, &mut errors);
    match errors.first() {
        Some(e) => Err(e.to_string()),
        None => Ok(files),
    }
}

/// True-positive files: those in a directory with an `info.yml` are true positives of
/// the rules it names (`rule_metadata: [{id}]`); others of every rule.
fn labelled_files(path: &Path) -> Result<Vec<(PathBuf, Label)>, String> {
    let mut out = Vec::new();
    for file in event_files(path)? {
        let info = file.parent().map(|d| d.join("info.yml")).filter(|i| i.exists());
        let label = match info {
            Some(info) => {
                let text = crate::corpus::read_text(&info).map_err(|e| e.to_string())?;
                let doc: serde_yaml::Value =
                    serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", info.display()))?;
                let ids: Vec<String> = doc["rule_metadata"]
                    .as_sequence()
                    .map(|items| {
                        items
                            .iter()
                            .filter_map(|i| i["id"].as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                Label::Rules(ids)
            }
            None => Label::Any,
        };
        out.push((file, label));
    }
    Ok(out)
}

fn origin(e: &replay::Exclusion) -> &'static str {
    e.origin.as_str()
}

fn text(rules: &[Rule], skipped: &[String], r: &Replay) -> String {
    let mut out = String::new();
    let matched = r.counts.iter().filter(|c| c.matches > 0).count();
    let _ = writeln!(
        out,
        "fpx replay: {} events ({} bad), {} rules ({} skipped), {matched} rules matched: {} matches, {} alerts",
        r.events,
        r.bad.len(),
        rules.len(),
        skipped.len(),
        r.counts.iter().map(|c| c.matches).sum::<usize>(),
        r.counts.iter().map(|c| c.alerts).sum::<usize>(),
    );
    for s in skipped {
        let _ = writeln!(out, "note: {s}");
    }
    for (rule, count) in rules.iter().zip(&r.counts).filter(|(_, c)| c.matches > 0) {
        let approx = if rule.exact {
            ""
        } else {
            " (detection approximated: see FPX401)"
        };
        let _ = writeln!(
            out,
            "\n{} — {}{approx}\n  {} matches, {} alerts",
            rule.file.display(),
            rule.name,
            count.matches,
            count.alerts
        );
        for (e, c) in rule.exclusions.iter().zip(&count.exclusions) {
            let top: Vec<String> = c
                .top(3)
                .into_iter()
                .map(|(field, value, n)| format!("{field}={value:?} ×{n}"))
                .collect();
            let _ = writeln!(
                out,
                "  [{}] {}: suppressed {}{}",
                origin(e),
                e.name,
                c.suppressed,
                if top.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", top.join(", "))
                }
            );
        }
    }
    let fpx301 = Code::Fpx301.info();
    for tp in &r.suppressed_true_positives {
        let rule = &rules[tp.rule];
        let e = &rule.exclusions[tp.exclusion];
        let _ = writeln!(
            out,
            "\nerror[{}]: {} {:?} suppresses a true positive of {}: {}:{} [{}]\n  proof: {}",
            fpx301.code,
            origin(e),
            e.name,
            rule.file.display(),
            tp.file.display(),
            tp.index,
            fpx301.name,
            describe_event(&tp.event)
        );
    }
    for m in &r.missed_true_positives {
        let _ = match m.rule_id.as_str() {
            "" => writeln!(
                out,
                "\nwarning: {} holds true positives, and no rule matches any of its events",
                m.file.display()
            ),
            id => writeln!(
                out,
                "\nwarning: {} is labelled a true positive of rule {id}, which matches none of its events",
                m.file.display()
            ),
        };
    }
    for (file, n) in &r.unrouted {
        let _ = writeln!(out, "\nwarning: {}", unrouted(file, *n, rules));
    }
    if !r.bad.is_empty() {
        let _ = writeln!(
            out,
            "\n{} bad events (the rest was replayed; exit code 2):",
            r.bad.len()
        );
        for b in r.bad.iter().take(20) {
            let _ = writeln!(out, "  {}:{}: {}", b.file.display(), b.line, b.message);
        }
    }
    out
}

fn json_report(rules: &[Rule], skipped: &[String], r: &Replay) -> Value {
    use rayon::prelude::*;
    let rule_values: Vec<Value> = rules
        .par_iter()
        .zip(&r.counts)
        .map(|(rule, c)| {
            json!({
                "rule_id": rule.id,
                "file": rule.file.display().to_string(),
                "exact": rule.exact,
                "matches": c.matches,
                "alerts": c.alerts,
                "exclusions": rule.exclusions.iter().zip(&c.exclusions).map(|(e, ec)| json!({
                    "source": origin(e),
                    "name": e.name,
                    "exclusion": e.text,
                    "suppressed": ec.suppressed,
                    "top": ec.top(5).into_iter().map(|(f, v, n)| json!({"field": f, "value": v, "count": n})).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "version": 1,
        "summary": {
            "events": r.events,
            "bad_events": r.bad.len(),
            "rules": rules.len(),
            "matches": r.counts.iter().map(|c| c.matches).sum::<usize>(),
            "alerts": r.counts.iter().map(|c| c.alerts).sum::<usize>(),
            "suppressed_true_positives": r.suppressed_true_positives.len(),
        },
        "skipped": skipped,
        "rules": rule_values,
        "findings": r.suppressed_true_positives.iter().map(|tp| {
            let rule = &rules[tp.rule];
            let e = &rule.exclusions[tp.exclusion];
            json!({
                "code": Code::Fpx301.as_str(),
                "name": Code::Fpx301.info().name,
                "severity": "error",
                "rule_id": rule.id,
                "source": origin(e),
                "exclusion": e.name,
                "event": {"file": tp.file.display().to_string(), "index": tp.index},
                "witness": tp.event,
            })
        }).collect::<Vec<_>>(),
        "missed_true_positives": r.missed_true_positives.iter().map(|m| json!({
            "rule_id": (!m.rule_id.is_empty()).then_some(&m.rule_id), "file": m.file.display().to_string(),
        })).collect::<Vec<_>>(),
        "unrouted": r.unrouted.iter().map(|(file, n)| json!({
            "file": file.display().to_string(), "events": n, "message": unrouted(file, *n, rules),
        })).collect::<Vec<_>>(),
        "bad_events": r.bad.iter().map(|b| json!({
            "file": b.file.display().to_string(), "line": b.line, "message": b.message,
        })).collect::<Vec<_>>(),
    })
}

fn jsonl(rules: &[Rule], r: &Replay) -> String {
    let mut out = String::new();
    for m in &r.matches {
        let rule = &rules[m.rule];
        let suppressed_by: Vec<Value> = m
            .suppressed_by
            .iter()
            .map(|&j| json!({"source": origin(&rule.exclusions[j]), "name": rule.exclusions[j].name}))
            .collect();
        let line = json!({
            "rule_id": rule.id,
            "event": {"file": m.file.display().to_string(), "index": m.index},
            "suppressed_by": suppressed_by,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}
