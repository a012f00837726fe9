//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` annotation
//! per finding (and per input error), at its file, line and column relative to the
//! repository root, so a pull request shows each finding on the line it is about.
//! Suppressed findings are not annotated; known (baseline) findings are notices.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::{Emitter, Run};
use crate::checks::{CheckReport, Finding, Severity, describe_event};

/// `fpx check --format github`.
pub struct Github {
    /// The directory paths are relative to (the repository root).
    root: PathBuf,
}

impl Github {
    /// With `--root DIR`, or else the git root of the current directory, or else the
    /// current directory (as for SARIF).
    pub fn new(root: Option<&Path>) -> Github {
        Github {
            root: super::sarif::Sarif::new(root).root,
        }
    }

    fn path(&self, file: &Path) -> String {
        let absolute = std::env::current_dir().unwrap_or_default().join(file);
        let absolute = absolute.canonicalize().unwrap_or(absolute);
        let shown = absolute.strip_prefix(&self.root).unwrap_or(&absolute);
        shown.display().to_string().replace('\\', "/")
    }
}

/// Escapes a command's message (`%`, CR, LF).
fn data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a command's property value (also `:` and `,`).
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

fn annotation(out: &mut String, github: &Github, f: &Finding, run: &Run) {
    let place = f.anchor();
    let level = match (f.severity, f.baseline) {
        (_, true) | (Severity::Info, _) => "notice",
        (Severity::Warning, _) => "warning",
        (Severity::Error, _) => "error",
    };
    let mut message = f.message.clone();
    if let Some(help) = &f.help {
        let _ = write!(message, "\nhelp: {help}");
    }
    if let Some(w) = &f.witness {
        let _ = write!(message, "\nproof: {}", describe_event(w));
    }
    if f.baseline {
        message.push_str("\n(in the baseline: does not fail the gate)");
    } else if run.fails(f) {
        message.push_str("\n(fails the gate)");
    }
    let width = place
        .snippet
        .get(f.span.start + place.offset..f.span.end + place.offset)
        .map_or(1, |s| s.chars().count().max(1));
    let title = format!("{} {}", f.kind.code, f.kind.name);
    let _ = writeln!(
        out,
        "::{level} file={},line={},col={},endColumn={},title={}::{}",
        property(&github.path(&place.file)),
        place.line,
        place.column,
        place.column + width,
        property(&title),
        data(&message)
    );
}

impl Emitter for Github {
    fn emit(&self, report: &CheckReport, run: &Run) -> String {
        let mut out = String::new();
        for error in &report.load_errors {
            let mut props = format!("file={}", property(&self.path(&error.file)));
            if let Some(p) = error.position {
                let _ = write!(props, ",line={},col={}", p.line, p.column);
            }
            let _ = writeln!(out, "::error {props},title=fpx input error::{}", data(&error.message));
        }
        let findings: Vec<&Finding> = report.findings().collect();
        for f in &findings {
            annotation(&mut out, self, f, run);
        }
        let failing = findings.iter().filter(|f| run.fails(f)).count();
        let _ = writeln!(
            out,
            "fpx: {} finding{}, {failing} failing the gate, {} suppressed",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" },
            report.suppressed.len()
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_properties_are_escaped() {
        assert_eq!(data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(property("x:y,z"), "x%3Ay%2Cz");
    }
}
