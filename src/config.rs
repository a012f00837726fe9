//! Configuration, like ruff's: `fpx.toml` (or `[tool.fpx]` in `pyproject.toml`), found
//! upward from the current directory; the first directory that has either wins (an
//! `fpx.toml` before a `pyproject.toml` in the same directory, which counts only when
//! it has a `[tool.fpx]` table). Command-line flags win over it.
//!
//! ```toml
//! paths = ["rules", "scenarios"]     # what `fpx check` reads when no path is given
//! select = ["FPX1", "FPX2", "FPX4"]  # codes, prefixes (FPX3), names, or ALL
//! ignore = ["FPX304"]
//! fail-on = "warning"                # error (default), warning, info, never
//! exclude = ["rules/deprecated/**"]  # globs, relative to this file's directory
//! respect-gitignore = true           # default: files .gitignore lists are not read
//!
//! [per-file-ignores]
//! "rules/windows/**" = ["FPX202"]
//!
//! [severity]
//! FPX304 = "info"
//! ```
//!
//! A configuration error is an input error (exit 2) at its file, line and column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::checks::Severity;
use crate::corpus::LoadError;
use crate::gate::{PerFileIgnores, Selector, Settings};

/// The configuration file names, in the order they are looked for in a directory.
pub const FILE_NAMES: [&str; 2] = ["fpx.toml", "pyproject.toml"];

/// The configuration in effect.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from; `None`: no file, every default.
    pub file: Option<PathBuf>,
    /// The directory relative paths and globs are relative to.
    pub root: PathBuf,
    pub select: Vec<Selector>,
    pub ignore: Vec<Selector>,
    pub per_file_ignores: Vec<PerFileIgnores>,
    pub severity: Vec<(Selector, Severity)>,
    /// Globs of files and directories not read when a directory is scanned.
    pub exclude: Option<globset::GlobSet>,
    pub exclude_patterns: Vec<String>,
    pub respect_gitignore: bool,
    /// `fail-on`: `Some(None)` is `never`.
    pub fail_on: Option<Option<Severity>>,
    /// Default paths of `fpx check`, relative to `root`.
    pub paths: Vec<PathBuf>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            file: None,
            root: PathBuf::from("."),
            select: Vec::new(),
            ignore: Vec::new(),
            per_file_ignores: Vec::new(),
            severity: Vec::new(),
            exclude: None,
            exclude_patterns: Vec::new(),
            respect_gitignore: true,
            fail_on: None,
            paths: Vec::new(),
        }
    }
}

impl Config {
    /// The gate settings of this configuration (before command-line flags).
    pub fn settings(&self) -> Settings {
        Settings {
            select: self.select.clone(),
            ignore: self.ignore.clone(),
            per_file_ignores: self.per_file_ignores.clone(),
            severity: self.severity.clone(),
            root: self.root.clone(),
        }
    }

    /// Whether a file or directory found while scanning is excluded.
    pub fn excludes(&self, path: &Path) -> bool {
        let Some(set) = &self.exclude else {
            return false;
        };
        let relative = crate::gate::relative_to(path, &self.root);
        set.is_match(&relative) || relative.file_name().is_some_and(|n| set.is_match(n))
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Raw {
    select: Option<Vec<Spanned<String>>>,
    ignore: Option<Vec<Spanned<String>>>,
    per_file_ignores: Option<Spanned<BTreeMap<String, Vec<Spanned<String>>>>>,
    severity: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    exclude: Option<Vec<Spanned<String>>>,
    respect_gitignore: Option<bool>,
    fail_on: Option<Spanned<String>>,
    paths: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Pyproject {
    tool: Option<Tool>,
}

#[derive(Deserialize)]
struct Tool {
    fpx: Option<Raw>,
}

/// The configuration for a run started in `dir`: the nearest `fpx.toml` or
/// `pyproject.toml` with `[tool.fpx]` in `dir` or above it, else the defaults.
pub fn discover(dir: &Path) -> Result<Config, LoadError> {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    for d in dir.ancestors() {
        let fpx = d.join(FILE_NAMES[0]);
        if fpx.is_file() {
            return load(&fpx);
        }
        let pyproject = d.join(FILE_NAMES[1]);
        if pyproject.is_file() {
            let text = crate::corpus::read_text(&pyproject)?;
            if has_tool_fpx(&text) {
                return parse(&pyproject, &text);
            }
        }
    }
    Ok(Config::default())
}

/// Whether a `pyproject.toml` has a `[tool.fpx]` table (or `tool.fpx` keys).
fn has_tool_fpx(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        l.starts_with("[tool.fpx") || l.starts_with("tool.fpx")
    })
}

/// Reads a configuration file (`fpx.toml`, or a `pyproject.toml`'s `[tool.fpx]`).
pub fn load(file: &Path) -> Result<Config, LoadError> {
    let text = crate::corpus::read_text(file)?;
    parse(file, &text)
}

/// Parses a configuration file's text.
pub fn parse(file: &Path, text: &str) -> Result<Config, LoadError> {
    let at = |span: Option<std::ops::Range<usize>>, message: String| {
        let (line, column) = span.map_or((1, 1), |s| line_column(text, s.start));
        LoadError::at(file, line, column, message)
    };
    let is_pyproject = file.file_name().is_some_and(|n| n == FILE_NAMES[1]);
    let raw: Raw = if is_pyproject {
        let doc: Pyproject = toml::from_str(text).map_err(|e| at(e.span(), de_message(&e)))?;
        doc.tool.and_then(|t| t.fpx).unwrap_or_default()
    } else {
        toml::from_str(text).map_err(|e| at(e.span(), de_message(&e)))?
    };
    let root = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let selectors = |items: &[Spanned<String>]| -> Result<Vec<Selector>, LoadError> {
        items
            .iter()
            .map(|s| s.get_ref().parse().map_err(|e| at(Some(s.span()), e)))
            .collect()
    };
    let mut config = Config {
        file: Some(file.to_path_buf()),
        root: root.clone(),
        select: selectors(raw.select.as_deref().unwrap_or_default())?,
        ignore: selectors(raw.ignore.as_deref().unwrap_or_default())?,
        respect_gitignore: raw.respect_gitignore.unwrap_or(true),
        paths: raw.paths.unwrap_or_default().iter().map(|p| root.join(p)).collect(),
        ..Config::default()
    };
    if let Some(map) = &raw.per_file_ignores {
        for (pattern, codes) in map.get_ref() {
            let entry = PerFileIgnores::new(pattern, selectors(codes)?)
                .map_err(|e| at(Some(map.span()), format!("in `per-file-ignores`: {e}")))?;
            config.per_file_ignores.push(entry);
        }
    }
    if let Some(map) = &raw.severity {
        for (code, level) in map.get_ref() {
            let selector: Selector = code
                .parse()
                .map_err(|e| at(Some(map.span()), format!("in `severity`: {e}")))?;
            let severity = severity(level.get_ref()).ok_or_else(|| {
                at(
                    Some(level.span()),
                    format!("`{}` is not a severity: write error, warning or info", level.get_ref()),
                )
            })?;
            config.severity.push((selector, severity));
        }
    }
    if let Some(fail_on) = &raw.fail_on {
        let value = fail_on.get_ref().as_str();
        config.fail_on = Some(match value {
            "never" => None,
            other => Some(severity(other).ok_or_else(|| {
                at(
                    Some(fail_on.span()),
                    format!("`{value}` is not a `fail-on` level: write error, warning, info or never"),
                )
            })?),
        });
    }
    if let Some(patterns) = &raw.exclude {
        let mut set = globset::GlobSetBuilder::new();
        for p in patterns {
            let glob = globset::GlobBuilder::new(p.get_ref().trim_end_matches('/'))
                .literal_separator(true)
                .build()
                .map_err(|e| {
                    at(
                        Some(p.span()),
                        format!("in `exclude`: `{}` is not a glob: {e}", p.get_ref()),
                    )
                })?;
            set.add(glob);
            config.exclude_patterns.push(p.get_ref().clone());
        }
        config.exclude = Some(set.build().map_err(|e| at(None, format!("in `exclude`: {e}")))?);
    }
    Ok(config)
}

fn severity(text: &str) -> Option<Severity> {
    match text {
        "error" => Some(Severity::Error),
        "warning" => Some(Severity::Warning),
        "info" => Some(Severity::Info),
        _ => None,
    }
}

/// The first line of a TOML error, with the nearest key when it names an unknown one.
fn de_message(e: &toml::de::Error) -> String {
    let message = e.message().lines().next().unwrap_or("invalid TOML").to_string();
    const KEYS: [&str; 8] = [
        "select",
        "ignore",
        "per-file-ignores",
        "severity",
        "exclude",
        "respect-gitignore",
        "fail-on",
        "paths",
    ];
    let unknown = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next());
    match unknown.and_then(|key| crate::schema::nearest_name(key, KEYS).map(|n| (key, n))) {
        Some((key, near)) => format!("unknown key `{key}`; did you mean `{near}`?"),
        None => message,
    }
}

fn line_column(text: &str, byte: usize) -> (usize, usize) {
    let byte = byte.min(text.len());
    let before = &text[..byte];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        text[line_start..byte].chars().count() + 1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_read() {
        let text = r#"
paths = ["rules"]
select = ["FPX1", "FPX304"]
ignore = ["always-true"]
fail-on = "warning"
exclude = ["rules/deprecated/**"]
respect-gitignore = false

[per-file-ignores]
"rules/windows/**" = ["FPX202"]

[severity]
FPX304 = "info"
"#;
        let c = parse(Path::new("proj/fpx.toml"), text).unwrap();
        assert_eq!(c.paths, [PathBuf::from("proj/rules")]);
        assert_eq!(c.select.len(), 2);
        assert_eq!(c.ignore, [Selector::Prefix("FPX101".into())]);
        assert_eq!(c.fail_on, Some(Some(Severity::Warning)));
        assert!(!c.respect_gitignore);
        assert_eq!(c.per_file_ignores.len(), 1);
        assert_eq!(c.severity, [(Selector::Prefix("FPX304".into()), Severity::Info)]);
        assert!(c.excludes(Path::new("proj/rules/deprecated/a.yml")));
        assert!(!c.excludes(Path::new("proj/rules/windows/a.yml")));
    }

    #[test]
    fn errors_have_a_line_and_the_nearest_key() {
        let e = parse(Path::new("fpx.toml"), "select = [\"FPX1\"]\nignroe = [\"FPX304\"]\n").unwrap_err();
        assert_eq!(e.line(), Some(2), "{e}");
        assert!(e.to_string().contains("did you mean `ignore`"), "{e}");
        let e = parse(Path::new("fpx.toml"), "select = [\"FPX1\", \"FPX999\"]\n").unwrap_err();
        assert!(e.to_string().starts_with("fpx.toml:1:19: "), "{e}");
        let e = parse(Path::new("fpx.toml"), "fail-on = \"sometimes\"\n").unwrap_err();
        assert!(e.to_string().contains("not a `fail-on` level"), "{e}");
    }

    #[test]
    fn pyproject_reads_tool_fpx_only() {
        let text = "[project]\nname = \"x\"\n\n[tool.fpx]\nignore = [\"FPX3\"]\n";
        let c = parse(Path::new("pyproject.toml"), text).unwrap();
        assert_eq!(c.ignore, [Selector::Prefix("FPX3".into())]);
        assert!(has_tool_fpx(text));
        assert!(!has_tool_fpx("[project]\nname = \"x\"\n"));
    }
}
