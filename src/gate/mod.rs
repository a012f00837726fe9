//! The gate: which findings the user chose to see and how severe, which they silenced
//! where they are written, which are already known (a baseline). Applied once to a
//! checked report, after every finding has its place and fingerprint, so every output
//! format, the baseline file and the exit code see the same findings.
//!
//! Order: the selection (`--select`/`--ignore`, the configuration's `select`, `ignore`
//! and `per-file-ignores`) drops findings from the report; `severity` overrides change
//! a code's severity; suppressions (a scenario's `ignore:` entries, `fpx: ignore[...]`
//! comments) move findings to [`CheckReport::suppressed`] with their reason, where they
//! never count for the gate; a suppression that silenced nothing is FPX406; last, the
//! baseline marks known findings.

pub mod baseline;
pub mod select;
pub mod suppress;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use select::{Selector, selected};

use crate::checks::{
    CheckReport, Code, Finding, Origin, Owner, Severity, Suppressed, Suppression, SuppressionKind, unused_suppression,
};

/// What the user asked the gate to do (CLI flags merged over the configuration).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub select: Vec<Selector>,
    pub ignore: Vec<Selector>,
    pub per_file_ignores: Vec<PerFileIgnores>,
    /// Severity overrides: the most specific selector naming a code decides.
    pub severity: Vec<(Selector, Severity)>,
    /// The directory `per-file-ignores` patterns are relative to (the configuration
    /// file's, else the current directory).
    pub root: PathBuf,
}

/// Codes not reported for the files a glob matches.
#[derive(Debug, Clone)]
pub struct PerFileIgnores {
    pub pattern: String,
    glob: globset::GlobMatcher,
    pub codes: Vec<Selector>,
}

impl PerFileIgnores {
    /// A pattern (relative to the configuration's directory; a pattern without `/`
    /// also matches a file name anywhere) and its codes.
    pub fn new(pattern: &str, codes: Vec<Selector>) -> Result<PerFileIgnores, String> {
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("`{pattern}` is not a glob: {e}"))?
            .compile_matcher();
        Ok(PerFileIgnores {
            pattern: pattern.to_string(),
            glob,
            codes,
        })
    }

    fn matches(&self, relative: &Path) -> bool {
        self.glob.is_match(relative)
            || (!self.pattern.contains('/') && relative.file_name().is_some_and(|n| self.glob.is_match(n)))
    }
}

impl Settings {
    /// Whether a finding is reported at all.
    pub fn reports(&self, f: &Finding) -> bool {
        if !selected(f.kind.code, &self.select, &self.ignore) {
            return false;
        }
        if self.per_file_ignores.is_empty() {
            return true;
        }
        let Some(anchor) = &f.anchor else {
            return true;
        };
        let relative = relative_to(&anchor.file, &self.root);
        !self
            .per_file_ignores
            .iter()
            .any(|p| p.matches(&relative) && p.codes.iter().any(|c| c.matches(f.kind.code)))
    }

    /// The severity of a code: overridden, or its own.
    pub fn severity_of(&self, code: Code) -> Severity {
        self.configured(code).unwrap_or(code.info().severity)
    }

    /// A finding's severity: the configured one for its code, else its own default (an
    /// FPX304 an administrator alone can use is info).
    pub fn severity_of_finding(&self, f: &crate::checks::Finding) -> Severity {
        let default = match f.bypass {
            Some(bypass) => crate::checks::bypass_severity(bypass),
            None => f.kind.severity,
        };
        self.configured(f.kind.code).unwrap_or(default)
    }

    fn configured(&self, code: Code) -> Option<Severity> {
        self.severity
            .iter()
            .filter(|(s, _)| s.matches(code))
            .max_by_key(|(s, _)| s.specificity())
            .map(|(_, sev)| *sev)
    }
}

/// `path` relative to `root` (both made absolute against the current directory).
pub fn relative_to(path: &Path, root: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    let absolute = |p: &Path| if p.is_absolute() { p.to_path_buf() } else { cwd.join(p) };
    let (path, root) = (absolute(path), absolute(root));
    let clean = |p: PathBuf| -> PathBuf { p.components().filter(|c| c.as_os_str() != ".").collect() };
    let (path, root) = (clean(path), clean(root));
    path.strip_prefix(&root).map(Path::to_path_buf).unwrap_or(path)
}

/// Applies the gate to a checked report. Bad suppression comments become input errors
/// of the report (exit 2).
pub fn apply(report: &mut CheckReport, settings: &Settings, baseline: Option<&HashSet<String>>) {
    report.retain(|_, f| settings.reports(f));
    for f in report.findings_mut() {
        f.severity = settings.severity_of_finding(f);
    }
    scenario_ignores(report, settings);
    comments(report, settings);
    if let Some(known) = baseline {
        for f in report.findings_mut() {
            f.baseline = known.contains(&f.fingerprint);
        }
    }
}

/// A scenario's `ignore:` entries silence its findings of those codes.
fn scenario_ignores(report: &mut CheckReport, settings: &Settings) {
    let mut unused: Vec<(usize, Finding)> = Vec::new();
    for (index, rule) in report.rules.iter_mut().enumerate() {
        for s in &mut rule.scenarios {
            for ignore in &s.ignore {
                let Some(code) = crate::checks::lookup(&ignore.code).map(|r| r.code) else {
                    let (line, _) = entry_position(&s.source, s.line, &ignore.code);
                    report.load_errors.push(crate::corpus::LoadError::at(
                        &s.file,
                        line,
                        1,
                        format!("scenario {:?}: `{}` is not a finding code", s.name, ignore.code),
                    ));
                    continue;
                };
                let (silenced, kept): (Vec<Finding>, Vec<Finding>) = std::mem::take(&mut s.result.analysis.findings)
                    .into_iter()
                    .partition(|f| f.kind.code == code);
                s.result.analysis.findings = kept;
                // The harness's codes cannot be judged unused when the harness did not run.
                let harness_code = matches!(code, Code::Fpx301 | Code::Fpx302 | Code::Fpx303 | Code::Fpx305);
                if silenced.is_empty() && (s.stats.is_some() || !harness_code) {
                    let (line, span) = entry_position(&s.source, s.line, code.as_str());
                    let mut f = unused_suppression(&s.file, &s.source, line, span, code.as_str());
                    f.message = format!(
                        "unused suppression: scenario {:?} has no {code} finding to silence",
                        s.name
                    );
                    f.fingerprint = fingerprint(&[&rule.rule.id, &s.name, code.as_str(), "ignore"]);
                    unused.push((index, f));
                }
                let owner = Owner {
                    rule: rule.rule.id.clone(),
                    scenario: Some(s.name.clone()),
                    origin: Some(Origin::Scenario),
                };
                report.suppressed.extend(silenced.into_iter().map(|finding| Suppressed {
                    owner: owner.clone(),
                    finding,
                    by: Suppression {
                        kind: SuppressionKind::ScenarioIgnore,
                        reason: ignore.reason.clone(),
                    },
                }));
            }
        }
    }
    for (index, f) in unused {
        if settings.reports(&f) {
            report.rules[index].findings.push(f);
        }
    }
}

/// Where a scenario's `ignore:` entry for `code` is written: the first line at or
/// after the scenario's exclusion that names the code (else the exclusion's line).
fn entry_position(source: &str, from: usize, code: &str) -> (usize, crate::pred::Span) {
    source
        .lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find_map(|(i, l)| l.find(code).map(|at| (i + 1, at..at + code.len())))
        .unwrap_or((from.max(1), 0..0))
}

/// `fpx: ignore[...]` comments in every file the report points into silence the
/// findings on their line or the line below.
fn comments(report: &mut CheckReport, settings: &Settings) {
    // Each file once, and the rule a finding about the file itself belongs to.
    let mut files: Vec<(PathBuf, Arc<str>, usize)> = Vec::new();
    let mut seen = HashSet::new();
    for (index, rule) in report.rules.iter().enumerate() {
        let sources = std::iter::once((&rule.rule.file, &rule.rule.source))
            .chain(rule.exclusions().map(|s| (&s.file, &s.source)));
        for (file, source) in sources {
            if seen.insert(file.clone()) {
                files.push((file.clone(), source.clone(), index));
            }
        }
    }
    let mut by_file: HashMap<PathBuf, Vec<(suppress::Comment, bool)>> = HashMap::new();
    let mut owner_of: HashMap<PathBuf, (usize, Arc<str>)> = HashMap::new();
    let sources: HashMap<PathBuf, Arc<str>> = files.iter().map(|(f, s, _)| (f.clone(), s.clone())).collect();
    for (file, source, index) in files {
        match suppress::comments(&file, &source) {
            Ok(found) if !found.is_empty() => {
                by_file.insert(file.clone(), found.into_iter().map(|c| (c, false)).collect());
                owner_of.insert(file, (index, source));
            }
            Ok(_) => {}
            Err(e) => report.load_errors.push(e),
        }
    }
    if by_file.is_empty() {
        return;
    }
    let silenced = report.retain(|owner, f| {
        let Some(anchor) = &f.anchor else {
            return true;
        };
        let Some(comments) = by_file.get_mut(&anchor.file) else {
            return true;
        };
        let lines = claimed_lines(owner, f, &sources);
        for (comment, used) in comments.iter_mut() {
            if comment.covers(&lines) && comment.codes.iter().any(|c| c.matches(f.kind.code)) {
                *used = true;
                return false;
            }
        }
        true
    });
    for (owner, finding) in silenced {
        let anchor = finding.anchor.as_ref().expect("retained findings with an anchor only");
        let comment = by_file[&anchor.file]
            .iter()
            .map(|(c, _)| c)
            .find(|c| {
                c.covers(&claimed_lines(&owner, &finding, &sources))
                    && c.codes.iter().any(|s| s.matches(finding.kind.code))
            })
            .expect("the comment that silenced it");
        let by = Suppression {
            kind: SuppressionKind::Comment,
            reason: comment.reason.clone(),
        };
        report.suppressed.push(Suppressed { owner, finding, by });
    }
    let mut unused: Vec<(usize, Finding)> = Vec::new();
    for (file, comments) in &by_file {
        let (index, source) = &owner_of[file];
        for (c, used) in comments {
            if *used {
                continue;
            }
            let mut f = unused_suppression(file, source, c.line, c.span.clone(), &c.codes_text());
            let text = source.lines().nth(c.line - 1).unwrap_or("");
            let id = &report.rules[*index].rule.id;
            f.fingerprint = fingerprint(&[id, &file.display().to_string(), text.trim()]);
            unused.push((*index, f));
        }
    }
    unused.sort_by(|a, b| (a.0, &a.1.anchor().line).cmp(&(b.0, &b.1.anchor().line)));
    for (index, f) in unused {
        if settings.reports(&f) {
            report.rules[index].findings.push(f);
        }
    }
}

/// The lines a finding can be silenced from: its own, its exclusion's first, and for
/// an exclusion whose first line follows a bare `name:` key (a Sigma selection), the
/// key's line.
fn claimed_lines(owner: &Owner, f: &Finding, sources: &HashMap<PathBuf, Arc<str>>) -> Vec<usize> {
    let anchor = f.anchor();
    let mut lines = vec![anchor.line, anchor.subject_line];
    let key_above = || {
        let source = sources.get(&anchor.file)?;
        let above = source.lines().nth(anchor.subject_line.checked_sub(2)?)?;
        let key = above.trim().strip_suffix(':')?;
        (!key.is_empty() && !key.contains(' ')).then_some(())
    };
    if owner.origin.is_some_and(|o| o != Origin::Scenario) && key_above().is_some() {
        lines.push(anchor.subject_line - 1);
    }
    lines
}

/// A fingerprint for a finding the gate creates (no line numbers, like the others).
fn fingerprint(parts: &[&str]) -> String {
    let hash = crate::checks::fingerprint::fnv1a(
        std::iter::once(Code::Fpx406.as_str())
            .chain(parts.iter().copied())
            .flat_map(|p| p.bytes().chain([0xff])),
    );
    format!("{hash:016x}")
}
