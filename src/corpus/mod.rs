//! Loading inputs: rule files, scenario files and seed documents, found under the paths
//! given (recursively), paired by rule id.

mod edit;
mod rule;
mod scenario;
mod seed;
mod write;

pub use edit::replace_exclusion;
pub use rule::{LoadError, Malformed, RuleDoc, read_rule, write_rule};
pub use scenario::{Ignore, Scenario, ScenarioFile, Template, read_scenarios, write_scenarios};
pub use seed::{SeedDoc, read_seed};
pub use write::{WriteOutcome, write_atomically, write_if_changed};

use std::path::{Path, PathBuf};

/// Everything read from the inputs.
#[derive(Debug, Default)]
pub struct Corpus {
    pub rules: Vec<RuleDoc>,
    pub scenario_files: Vec<ScenarioFile>,
    /// Files that could not be read; the others were still loaded.
    pub errors: Vec<LoadError>,
    /// Files skipped because they are neither rules, scenarios nor seeds.
    pub skipped: Vec<PathBuf>,
}

impl Corpus {
    /// The scenarios of a rule, from every scenario file that names it.
    pub fn scenarios_of<'a>(
        &'a self,
        rule: &'a RuleDoc,
    ) -> impl Iterator<Item = (&'a ScenarioFile, &'a Scenario)> + 'a {
        self.scenario_files
            .iter()
            .filter(move |f| f.rule == rule.id)
            .flat_map(|f| f.scenarios.iter().map(move |s| (f, s)))
    }
}

/// Loads every rule, scenario and seed file under `paths`, in a stable (sorted) order.
pub fn load(paths: &[PathBuf]) -> Corpus {
    let mut files = Vec::new();
    let mut corpus = Corpus::default();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut files, &mut corpus);
        } else if path.exists() {
            files.push(path.clone());
        } else {
            corpus
                .errors
                .push(LoadError::whole_file(path.clone(), "no such file or directory".into()));
        }
    }
    files.sort();
    files.dedup();
    for file in files {
        load_file(&file, &mut corpus);
    }
    corpus
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, corpus: &mut Corpus) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            corpus.errors.push(LoadError::whole_file(
                dir.to_path_buf(),
                format!("cannot read the directory: {e}"),
            ));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files, corpus);
        } else if matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "txt")) {
            files.push(path);
        }
    }
}

fn load_file(file: &Path, corpus: &mut Corpus) {
    let text = match std::fs::read(file) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let before = &e.as_bytes()[..at];
                let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                corpus.errors.push(LoadError {
                    file: file.to_path_buf(),
                    line: before.iter().filter(|&&b| b == b'\n').count() + 1,
                    column: String::from_utf8_lossy(&before[line_start..]).chars().count() + 1,
                    message: format!("not UTF-8 text: byte 0x{:02X}", e.as_bytes()[at]),
                });
                return;
            }
        },
        Err(e) => {
            corpus.errors.push(LoadError::whole_file(
                file.to_path_buf(),
                format!("cannot read the file: {e}"),
            ));
            return;
        }
    };
    let is_txt = file.extension().is_some_and(|e| e == "txt");
    let has_key = |key: &str| text.lines().any(|l| l.starts_with(key));
    let result = if is_txt {
        if !text.contains("Filter/Exclusion:") && !has_key("id:") {
            corpus.skipped.push(file.to_path_buf());
            return;
        }
        read_seed(file, &text).map(|seed| {
            let scenarios = ScenarioFile {
                file: file.to_path_buf(),
                rule: seed.rule.id.clone(),
                scenarios: seed.scenarios,
                source: text.as_str().into(),
            };
            corpus.rules.push(seed.rule);
            corpus.scenario_files.push(scenarios);
        })
    } else if has_key("scenarios:") {
        read_scenarios(file, &text).map(|f| corpus.scenario_files.push(f))
    } else if has_key("query:") {
        read_rule(file, &text).map(|r| corpus.rules.push(r))
    } else {
        corpus.skipped.push(file.to_path_buf());
        return;
    };
    if let Err(e) = result {
        corpus.errors.push(e);
    }
}
