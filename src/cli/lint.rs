//! `fpx lint EXPR... | -`: check bare exclusion expressions.

use std::ffi::OsString;
use std::io::Read;

use clap::{Args, ValueEnum};

use super::{EXIT_FINDINGS, FailOn, print, use_color};
use crate::checks::analyze_bytes;
use crate::report::{LintRecord, json, text};
use crate::schema::schema;

#[derive(Args)]
pub(super) struct LintArgs {
    /// Exclusion expressions; `-` reads one per line from stdin.
    #[arg(required = true, value_name = "EXPR")]
    exprs: Vec<OsString>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    format: LintFormat,
    /// Also check the fields against this Defender table (FPX201-FPX204).
    #[arg(long, value_name = "TABLE")]
    table: Option<String>,
    /// Exit with 1 when a finding is at least this severe.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LintFormat {
    Text,
    Json,
    Jsonl,
}

pub(super) fn run(args: LintArgs) -> Result<u8, String> {
    if let Some(table) = &args.table
        && schema().table(table).is_none()
    {
        let hint = match crate::schema::nearest_name(table, schema().table_names()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!(
                "fpx knows the {} Defender XDR and Sentinel tables and {} Sigma log sources (`sigma:PRODUCT/CATEGORY`)",
                schema().kql_tables().count(),
                schema().table_names().count() - schema().kql_tables().count()
            ),
        };
        return Err(format!("unknown table `{table}`; {hint}"));
    }
    let table = args.table.as_deref();
    let mut records = Vec::new();
    for (i, expr) in args.exprs.iter().enumerate() {
        if expr == "-" {
            let mut input = Vec::new();
            std::io::stdin()
                .read_to_end(&mut input)
                .map_err(|e| format!("cannot read stdin: {e}"))?;
            // Nothing to lint is not a pass: a pipeline that lost its input must fail.
            if input.is_empty() {
                return Err("stdin is empty: no exclusion to lint (give one per line)".into());
            }
            for (n, line) in lines(&input).enumerate() {
                records.push(LintRecord {
                    origin: "<stdin>".into(),
                    line: n + 1,
                    analysis: analyze_bytes(line, table),
                });
            }
        } else {
            records.push(LintRecord {
                origin: "<arg>".into(),
                line: i + 1,
                analysis: analyze_bytes(&os_bytes(expr), table),
            });
        }
    }
    let output = match args.format {
        LintFormat::Text => text::lint(&records, use_color(), super::width()),
        LintFormat::Json => {
            let all: Vec<_> = records.iter().map(json::lint_record).collect();
            serde_json::to_string_pretty(&all).expect("JSON values serialize") + "\n"
        }
        LintFormat::Jsonl => records
            .iter()
            .map(|r| json::lint_record(r).to_string() + "\n")
            .collect(),
    };
    print(&output)?;
    let failed = records
        .iter()
        .flat_map(|r| &r.analysis.findings)
        .any(|f| args.fail_on.fails(f.kind.severity));
    Ok(if failed { EXIT_FINDINGS } else { 0 })
}

/// Lines of stdin without their `\n` / `\r\n`; a final newline ends the last line
/// rather than starting an empty one.
fn lines(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = input.strip_suffix(b"\n").unwrap_or(input);
    let empty = input.is_empty();
    body.split(|&b| b == b'\n')
        .filter(move |_| !empty)
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

#[cfg(unix)]
fn os_bytes(s: &OsString) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    s.as_bytes().to_vec()
}

#[cfg(not(unix))]
fn os_bytes(s: &OsString) -> Vec<u8> {
    s.to_string_lossy().into_owned().into_bytes()
}
