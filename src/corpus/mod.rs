//! Loading inputs: rule files, scenario files and seed documents, found under the paths
//! given (recursively), paired by rule id.

mod edit;
mod error;
mod rule;
mod scenario;
mod seed;
mod write;

pub use edit::{replace_exclusion, replace_in_query};
pub use error::{LoadError, Position, decode_text, normalize, read_text};
pub use rule::{Malformed, RuleDoc, RuleFormat, read_rule, write_rule};
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
    /// Sigma meta-filters: exclusions of the rules they name.
    pub meta_filters: Vec<MetaFilterFile>,
}

/// A Sigma meta-filter and the file it is in.
#[derive(Debug, Clone)]
pub struct MetaFilterFile {
    pub file: PathBuf,
    pub source: std::sync::Arc<str>,
    pub filter: crate::sigma::MetaFilter,
}

impl Corpus {
    /// The scenarios of a rule, from every scenario file that names it.
    /// Adds what another part of the corpus read, after what this one holds.
    fn absorb(&mut self, part: Corpus) {
        self.rules.extend(part.rules);
        self.scenario_files.extend(part.scenario_files);
        self.errors.extend(part.errors);
        self.skipped.extend(part.skipped);
        self.meta_filters.extend(part.meta_filters);
    }

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

/// Extensions of the files fpx reads: rules and scenarios (YAML) and seed documents.
const READ_EXTENSIONS: [&str; 5] = ["yaml", "yml", "txt", "toml", "ndjson"];

/// Whether a file or directory found while scanning is left out.
pub type Exclude = std::sync::Arc<dyn Fn(&Path) -> bool + Send + Sync>;

/// How directories are scanned: which files found there are not read.
pub struct Scan {
    /// Files a `.gitignore` (or `.git/info/exclude`) lists are not read.
    pub respect_gitignore: bool,
    /// Files and directories the configuration's `exclude` globs name.
    pub exclude: Option<Exclude>,
}

impl Default for Scan {
    fn default() -> Self {
        Scan {
            respect_gitignore: true,
            exclude: None,
        }
    }
}

/// Loads every rule, scenario and seed file under `paths`, in a stable (sorted) order.
/// Input errors (a path that does not exist, a named file fpx does not read, an empty
/// file, a directory with nothing to check) are collected in [`Corpus::errors`].
pub fn load(paths: &[PathBuf]) -> Corpus {
    load_with(paths, &Scan::default())
}

/// [`load`], scanning directories as `scan` says (a file named on its own is always
/// read).
pub fn load_with(paths: &[PathBuf], scan: &Scan) -> Corpus {
    let mut corpus = Corpus::default();
    // Each path and the files it contributes, so a named path that yields nothing is said.
    let mut given: Vec<(PathBuf, Vec<PathBuf>)> = Vec::new();
    for path in paths {
        let files = if path.is_dir() {
            scan_dir(path, scan, &has_read_extension, &mut corpus.errors)
        } else if path.exists() {
            vec![path.clone()]
        } else {
            corpus
                .errors
                .push(LoadError::whole_file(path.clone(), "no such file or directory"));
            continue;
        };
        given.push((path.clone(), files));
    }
    // Each file once (the first path that names it reads it); files are read and parsed
    // in parallel, and merged in order, so the corpus is the same as read one by one.
    let mut seen = std::collections::HashSet::new();
    let mut jobs: Vec<(usize, &Path, bool)> = Vec::new();
    let mut repeated = vec![false; given.len()];
    for (i, (path, files)) in given.iter().enumerate() {
        for file in files {
            if seen.insert(file.clone()) {
                jobs.push((i, file, !path.is_dir()));
            } else {
                repeated[i] = true;
            }
        }
    }
    use rayon::prelude::*;
    let read: Vec<(usize, Corpus, bool)> = jobs
        .into_par_iter()
        .map(|(i, file, named)| {
            let mut part = Corpus::default();
            let used = load_file(file, named, &mut part);
            (i, part, used)
        })
        .collect();
    let mut used = repeated;
    for (i, part, file_used) in read {
        used[i] |= file_used;
        corpus.absorb(part);
    }
    for (i, (path, _)) in given.iter().enumerate() {
        if path.is_dir() && !used[i] && corpus.errors.iter().all(|e| !e.file.starts_with(path)) {
            corpus.errors.push(LoadError::whole_file(
                path.clone(),
                "nothing to check: the directory holds no rule, scenario or seed file (.yaml, .yml, .toml, .txt)",
            ));
        }
    }
    if corpus.rules.is_empty()
        && corpus.scenario_files.is_empty()
        && corpus.meta_filters.is_empty()
        && corpus.errors.is_empty()
    {
        let path = paths.first().cloned().unwrap_or_default();
        corpus.errors.push(LoadError::whole_file(
            path,
            "nothing to check: no rule, scenario or seed file was found",
        ));
    }
    corpus
}

/// The files under `dir` (recursively) that `keep` accepts, sorted; a directory that
/// cannot be read is an error, and the rest are still listed. Nothing is skipped.
pub fn files_under(dir: &Path, keep: &dyn Fn(&Path) -> bool, errors: &mut Vec<LoadError>) -> Vec<PathBuf> {
    let scan = Scan {
        respect_gitignore: false,
        exclude: None,
    };
    scan_dir(dir, &scan, keep, errors)
}

/// The files under `dir` that `keep` accepts and `scan` does not skip, sorted. `.git`
/// is never entered.
fn scan_dir(dir: &Path, scan: &Scan, keep: &dyn Fn(&Path) -> bool, errors: &mut Vec<LoadError>) -> Vec<PathBuf> {
    let mut walk = ignore::WalkBuilder::new(dir);
    walk.standard_filters(false)
        .git_ignore(scan.respect_gitignore)
        .git_exclude(scan.respect_gitignore)
        .parents(scan.respect_gitignore)
        .require_git(false)
        .follow_links(true);
    let exclude = scan.exclude.clone();
    walk.filter_entry(move |e| {
        e.file_name() != ".git" && !exclude.as_ref().is_some_and(|x| e.depth() > 0 && x(e.path()))
    });
    let mut files = Vec::new();
    for entry in walk.build() {
        match entry {
            Ok(e) if e.file_type().is_some_and(|t| t.is_file()) && keep(e.path()) => files.push(e.into_path()),
            Ok(_) => {}
            Err(e) => {
                let path = match &e {
                    ignore::Error::WithPath { path, .. } => path.clone(),
                    _ => dir.to_path_buf(),
                };
                errors.push(LoadError::whole_file(path, format!("cannot read the directory: {e}")));
            }
        }
    }
    files.sort();
    files
}

fn has_read_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| READ_EXTENSIONS.contains(&e))
}

/// Reads one file into the corpus; whether it was a rule, scenario or seed file (or an
/// error about one). `named`: the user named this file, so a file fpx cannot use is an
/// error rather than something to skip.
fn load_file(file: &Path, named: bool, corpus: &mut Corpus) -> bool {
    if named && !has_read_extension(file) {
        corpus.errors.push(LoadError::whole_file(
            file.to_path_buf(),
            "fpx reads rule and scenario files (.yaml, .yml), Elastic rules (.toml) and seed documents (.txt); this file is neither",
        ));
        return true;
    }
    match read_text(file) {
        Ok(text) => load_text(file, text, named, corpus),
        Err(e) => {
            corpus.errors.push(e);
            true
        }
    }
}

/// Files given with their bytes (a git revision's blobs), read as a directory scan reads
/// the files it finds: those without a rule, scenario or seed extension are not read,
/// and one fpx cannot use is skipped, not an error. In the order given.
pub fn load_texts(files: Vec<(PathBuf, Vec<u8>)>) -> Corpus {
    use rayon::prelude::*;
    let parts: Vec<Corpus> = files
        .into_par_iter()
        .filter(|(file, _)| has_read_extension(file))
        .map(|(file, bytes)| {
            let mut part = Corpus::default();
            match decode_text(&file, bytes) {
                Ok(text) => {
                    load_text(&file, text, false, &mut part);
                }
                Err(e) => part.errors.push(e),
            }
            part
        })
        .collect();
    let mut corpus = Corpus::default();
    parts.into_iter().for_each(|part| corpus.absorb(part));
    corpus
}

/// [`load_file`] on the file's text.
fn load_text(file: &Path, text: String, named: bool, corpus: &mut Corpus) -> bool {
    let is_txt = file.extension().is_some_and(|e| e == "txt");
    let content = text.lines().any(|l| {
        let l = l.trim();
        !l.is_empty() && !l.starts_with('#')
    });
    if !content && !is_txt {
        corpus.errors.push(LoadError::whole_file(
            file.to_path_buf(),
            "the file is empty: no rule or scenario in it",
        ));
        return true;
    }
    let has_key = |key: &str| text.lines().any(|l| l.starts_with(key));
    // Filters that live in files of their own (Sigma meta-filters, Elastic exception
    // lists), all sharing the file's text.
    let filters = |read: Result<Vec<crate::sigma::MetaFilter>, String>, what: &str, corpus: &mut Corpus| {
        let source: std::sync::Arc<str> = text.as_str().into();
        read.map(|filters| {
            for filter in filters {
                corpus.meta_filters.push(MetaFilterFile {
                    file: file.to_path_buf(),
                    source: source.clone(),
                    filter,
                });
            }
        })
        .map_err(|e| LoadError::at(file, 1, 1, format!("not a readable {what}: {e}")))
    };
    let result = if file.extension().is_some_and(|e| e == "ndjson") {
        if !crate::elastic::exceptions::is_exception_ndjson(&text) {
            // Events for `fpx replay`, not something `check` reads.
            return skip(file, named, corpus, "it is not a Kibana exception-list export");
        }
        filters(
            crate::elastic::exceptions::read_ndjson(&text),
            "Elastic exception list",
            corpus,
        )
    } else if file.extension().is_some_and(|e| e == "toml") && crate::elastic::exceptions::is_exception_toml(&text) {
        filters(
            crate::elastic::exceptions::read_toml(&text),
            "Elastic exception list",
            corpus,
        )
    } else if file.extension().is_some_and(|e| e == "toml") {
        if !crate::elastic::is_elastic(&text) {
            // `fpx.toml` and other TOML files beside the rules are not rules.
            return skip(file, named, corpus, "it is not an Elastic rule (no `[rule]` table)");
        }
        crate::elastic::read_rule(&text)
            .map(|doc| {
                let source: std::sync::Arc<str> = text.as_str().into();
                corpus
                    .meta_filters
                    .extend(doc.filters.into_iter().map(|filter| MetaFilterFile {
                        file: file.to_path_buf(),
                        source: source.clone(),
                        filter,
                    }));
                corpus.rules.push(RuleDoc {
                    format: RuleFormat::Elastic,
                    file: file.to_path_buf(),
                    id: doc.id,
                    name: doc.name,
                    description: doc.description,
                    tactics: doc.tags,
                    exception_lists: doc.exception_lists,
                    many_values: doc.many_values,
                    indices: doc.indices,
                    query: doc.query,
                    query_line: doc.query_line,
                    query_indent: 0,
                    query_offsets: Some(doc.query_offsets),
                    source,
                    lowered: Some(doc.lowered),
                    ..RuleDoc::default()
                });
            })
            .map_err(|e| LoadError::at(file, e.line, e.column, e.message))
    } else if is_txt {
        if !text.contains("Filter/Exclusion:") && !has_key("id:") {
            return skip(
                file,
                named,
                corpus,
                "it is not a seed document (no `id:` and no `Filter/Exclusion:` line)",
            );
        }
        read_seed(file, &text).map(|seed| {
            let scenarios = ScenarioFile {
                file: file.to_path_buf(),
                rule: seed.rule.id.clone(),
                rule_line: 0,
                scenarios: seed.scenarios,
                // The seed document is both the rule's file and the scenarios' file.
                source: seed.rule.source.clone(),
            };
            corpus.rules.push(lowered(seed.rule));
            corpus.scenario_files.push(scenarios);
        })
    } else if has_key("scenarios:") {
        read_scenarios(file, &text).map(|f| corpus.scenario_files.push(f))
    } else if crate::sigma::is_meta_filter(&text) {
        filters(crate::sigma::read_meta_filters(&text), "Sigma meta-filter", corpus)
    } else if crate::sigma::is_sigma(&text) {
        read_sigma_documents(file, &text, corpus)
    } else if has_key("query:") {
        read_rule(file, &text).map(|r| corpus.rules.push(lowered(r)))
    } else if let Some(error) = near_miss(file, &text) {
        Err(error)
    } else {
        return skip(
            file,
            named,
            corpus,
            "it is neither a rule (no top-level `query:`) nor a scenario file (no top-level `scenarios:`)",
        );
    };
    if let Err(e) = result {
        corpus.errors.push(e);
    }
    true
}

/// A KQL rule with its query lowered: every front-end builds the rule model when the
/// file is read (Sigma's reader does it itself), so checks and replay take it as is.
fn lowered(mut rule: RuleDoc) -> RuleDoc {
    rule.lowered = Some(rule.take_query());
    rule
}

/// Every document of a Sigma file (`---` between them) as a rule; spans index the
/// document (the rule's `query`), which starts at its line of the file.
fn read_sigma_documents(file: &Path, text: &str, corpus: &mut Corpus) -> Result<(), LoadError> {
    let source: std::sync::Arc<str> = text.into();
    for (line, doc) in yaml_documents(text) {
        let at = |message: String| LoadError::at(file, line, 1, message);
        if !crate::sigma::is_sigma(doc) {
            return Err(at(format!(
                "document {} of the file is not a Sigma rule (no top-level `detection:` and `logsource:`); fpx reads every document of a file",
                corpus_document_number(text, line)
            )));
        }
        let sigma = crate::sigma::read_sigma(doc).map_err(|e| at(format!("not a readable Sigma rule: {e}")))?;
        corpus.rules.push(RuleDoc {
            format: RuleFormat::Sigma,
            file: file.to_path_buf(),
            id: sigma.id,
            name: sigma.title,
            description: sigma.description,
            tactics: sigma.tags,
            query: doc.to_string(),
            query_line: line,
            query_indent: 0,
            source: source.clone(),
            lowered: Some(sigma.query),
            ..RuleDoc::default()
        });
    }
    Ok(())
}

/// The documents of a YAML stream that have content, each with its first line
/// (1-based): the text between `---` lines (a leading `---` and a trailing `...` end
/// nothing).
pub fn yaml_documents(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let (mut start, mut start_line) = (0, 1);
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end();
        if bare == "---" || bare.starts_with("--- ") || bare == "..." {
            out.push((start_line, &text[start..offset]));
            start = offset + line.len();
            start_line = i + 2;
        }
        offset += line.len();
    }
    out.push((start_line, &text[start..]));
    out.retain(|(_, doc)| {
        doc.lines().any(|l| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with('#')
        })
    });
    out
}

/// Which document (1-based) of `text` starts at `line`.
fn corpus_document_number(text: &str, line: usize) -> usize {
    yaml_documents(text)
        .iter()
        .position(|(l, _)| *l == line)
        .map_or(1, |i| i + 1)
}

/// The top-level keys that make a file one of fpx's inputs.
const INPUT_KEYS: [&str; 5] = ["query", "scenarios", "detection", "logsource", "filter"];

/// Why a YAML file that is none of fpx's inputs looks like one: a top-level key
/// spelt like one of [`INPUT_KEYS`] (`qeury:`, `detecton:`, `log_source:`), or half of
/// a Sigma rule (`detection:` without `logsource:`, or the other way round). Such a
/// file is an input error even inside a scanned directory: skipping it would drop a
/// rule without a word.
fn near_miss(file: &Path, text: &str) -> Option<LoadError> {
    let keys: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with(|c: char| c.is_ascii_alphabetic()))
        .filter_map(|(i, l)| l.split_once(':').map(|(k, _)| (i + 1, k.trim())))
        .filter(|(_, k)| !k.is_empty() && !k.contains(' '))
        .collect();
    let has = |key: &str| keys.iter().any(|(_, k)| *k == key);
    for (line, key) in &keys {
        if INPUT_KEYS.contains(key) {
            continue;
        }
        let squashed = key.replace(['_', '-'], "").to_ascii_lowercase();
        let near = INPUT_KEYS
            .iter()
            .copied()
            .find(|k| *k == squashed)
            .or_else(|| crate::schema::nearest_name(key, INPUT_KEYS));
        if let Some(near) = near.filter(|n| !has(n)) {
            return Some(LoadError::at(
                file,
                *line,
                1,
                format!(
                    "`{key}:` is not a key fpx knows; did you mean `{near}:`? (without it the file is neither a rule nor a scenario file)"
                ),
            ));
        }
    }
    for (present, missing) in [("detection", "logsource"), ("logsource", "detection")] {
        if let Some((line, _)) = keys.iter().find(|(_, k)| *k == present)
            && !has(missing)
            && !has("filter")
        {
            return Some(LoadError::at(
                file,
                *line,
                1,
                format!(
                    "a Sigma rule needs `{missing}:` as well as `{present}:`; this file has no top-level `{missing}:`"
                ),
            ));
        }
    }
    None
}

/// A file that is none of fpx's inputs: an error when named, else skipped.
fn skip(file: &Path, named: bool, corpus: &mut Corpus, why: &str) -> bool {
    if named {
        corpus.errors.push(LoadError::whole_file(
            file.to_path_buf(),
            format!("fpx cannot check this file: {why}"),
        ));
        return true;
    }
    corpus.skipped.push(file.to_path_buf());
    false
}
