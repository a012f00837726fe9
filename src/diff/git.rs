//! A git revision's files, for `fpx diff --git`: listed with `git ls-tree` and read in
//! one `git cat-file --batch` (two processes whatever the number of files), written
//! into a directory the corpus reader then reads as it reads any checkout.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A directory that is removed when dropped.
pub struct TempTree {
    dir: tempfile::TempDir,
}

impl TempTree {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn git(args: &[&str]) -> Command {
    let mut command = Command::new("git");
    command.args(args);
    command
}

fn run(mut command: Command, what: &str) -> Result<Vec<u8>, String> {
    let output = command.output().map_err(|e| format!("cannot run git ({what}): {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("git {what}: {}", stderr.trim()));
    }
    Ok(output.stdout)
}

/// The commit `rev` names, or an error that says it is not one.
pub fn commit(rev: &str) -> Result<String, String> {
    let spec = format!("{rev}^{{commit}}");
    let out = run(git(&["rev-parse", "--verify", "--quiet", &spec]), "rev-parse")
        .map_err(|_| format!("`{rev}` is not a commit of the git repository here"))?;
    Ok(String::from_utf8_lossy(&out).trim().to_string())
}

/// The files under `paths` (relative to the current directory, as git reads them) at
/// commit `rev`, written into a temporary directory under the same relative paths.
/// Symbolic links and submodules are left out.
pub fn tree_at(rev: &str, paths: &[PathBuf]) -> Result<TempTree, String> {
    let commit = commit(rev)?;
    let mut ls = git(&["ls-tree", "-r", "-z", &commit, "--"]);
    ls.args(paths);
    let listing = run(ls, "ls-tree")?;
    let mut entries: Vec<(String, PathBuf)> = Vec::new();
    for entry in listing.split(|&b| b == 0).filter(|e| !e.is_empty()) {
        let entry = String::from_utf8_lossy(entry);
        let Some((meta, path)) = entry.split_once('\t') else {
            continue;
        };
        let fields: Vec<&str> = meta.split(' ').collect();
        if let [mode, "blob", object] = fields.as_slice()
            && *mode != "120000"
        {
            entries.push((object.to_string(), PathBuf::from(path)));
        }
    }
    let dir = tempfile::Builder::new()
        .prefix("fpx-diff-")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let blobs = cat_blobs(entries.iter().map(|(o, _)| o.as_str()))?;
    for ((_, path), blob) in entries.iter().zip(blobs) {
        let to = dir.path().join(path);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot write {}: {e}", to.display()))?;
        }
        std::fs::write(&to, blob).map_err(|e| format!("cannot write {}: {e}", to.display()))?;
    }
    Ok(TempTree { dir })
}

/// The contents of `objects`, in order, from one `git cat-file --batch`.
fn cat_blobs<'a>(objects: impl Iterator<Item = &'a str>) -> Result<Vec<Vec<u8>>, String> {
    let request: String = objects.map(|o| format!("{o}\n")).collect();
    if request.is_empty() {
        return Ok(Vec::new());
    }
    let mut child = git(&["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git (cat-file): {e}"))?;
    let mut stdin = child.stdin.take().expect("piped");
    // Written from another thread: git answers while it reads, and a full pipe on both
    // sides would block both.
    let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
    let mut out = Vec::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_end(&mut out)
        .map_err(|e| format!("cannot read from git cat-file: {e}"))?;
    let _ = writer.join();
    let status = child.wait().map_err(|e| format!("git cat-file: {e}"))?;
    if !status.success() {
        return Err("git cat-file failed".into());
    }
    parse_batch(&out)
}

/// `<object> <type> <size>\n<contents>\n`, repeated.
fn parse_batch(mut out: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut blobs = Vec::new();
    while !out.is_empty() {
        let end = out
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("git cat-file: a header without its end")?;
        let header = String::from_utf8_lossy(&out[..end]).to_string();
        let size: usize = header
            .rsplit(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("git cat-file: unexpected `{header}`"))?;
        let body = end + 1;
        let contents = out.get(body..body + size).ok_or("git cat-file: an object cut short")?;
        blobs.push(contents.to_vec());
        out = out.get(body + size + 1..).unwrap_or(&[]);
    }
    Ok(blobs)
}

/// A corpus read from `tree`, with every file named as it is in the repository (relative
/// to the current directory, as the working tree's files are): reports, per-file
/// ignores and rule matching then see the same names in both versions.
pub fn relocate(corpus: &mut crate::corpus::Corpus, tree: &Path) {
    let local = |file: &mut PathBuf| {
        if let Ok(relative) = file.strip_prefix(tree) {
            *file = relative.to_path_buf();
        }
    };
    corpus.rules.iter_mut().for_each(|r| local(&mut r.file));
    corpus.scenario_files.iter_mut().for_each(|f| local(&mut f.file));
    corpus.meta_filters.iter_mut().for_each(|m| local(&mut m.file));
    corpus.errors.iter_mut().for_each(|e| local(&mut e.file));
    corpus.skipped.iter_mut().for_each(local);
}

#[cfg(test)]
mod tests {
    use super::parse_batch;

    #[test]
    fn batch_output_is_split_by_sizes_not_lines() {
        let out = b"aaa blob 5\nab\ncd\nbbb blob 0\n\nccc blob 2\nxy\n";
        let blobs = parse_batch(out).unwrap();
        assert_eq!(blobs, vec![b"ab\ncd".to_vec(), b"".to_vec(), b"xy".to_vec()]);
    }

    #[test]
    fn a_cut_object_is_an_error() {
        assert!(parse_batch(b"aaa blob 50\nab\n").is_err());
    }
}
