//! `fpx explain CODE | --list`: the documentation of finding codes.

use clap::Args;
use tabled::{Table, Tabled, settings::Style};

use super::print;
use crate::checks::{CODES, lookup};

#[derive(Args)]
pub(super) struct ExplainArgs {
    /// A code (FPX101) or name (always-true).
    #[arg(required_unless_present = "list", conflicts_with = "list")]
    code: Option<String>,
    /// List every code with its name, severity and summary.
    #[arg(long)]
    list: bool,
}

#[derive(Tabled)]
struct Row {
    code: &'static str,
    name: &'static str,
    severity: String,
    #[tabled(rename = "fires when")]
    summary: &'static str,
}

pub(super) fn run(args: ExplainArgs) -> Result<u8, String> {
    if args.list {
        let rows = CODES.iter().map(|r| Row {
            code: r.code.as_str(),
            name: r.name,
            severity: r.severity.to_string(),
            summary: r.summary,
        });
        print(&format!("{}\n", Table::new(rows).with(Style::sharp())))?;
        return Ok(0);
    }
    let code = args.code.expect("clap requires a code without --list");
    let rule = lookup(&code).ok_or_else(|| format!("unknown code `{code}`; `fpx explain --list` lists them"))?;
    print(&rule.doc())?;
    Ok(0)
}
