//! A git revision's files, for `fpx diff --git`: listed with `git ls-tree` and read in
//! one `git cat-file --batch` (two processes whatever the number of files), and handed
//! to the corpus reader in memory (writing a checkout of 3,000 files costs more than
//! everything else together).

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

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
/// commit `rev`, named as git lists them (relative to the current directory), with
/// their bytes. Symbolic links and submodules are left out.
pub fn files_at(rev: &str, paths: &[PathBuf]) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
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
    let blobs = cat_blobs(entries.iter().map(|(o, _)| o.as_str()))?;
    if blobs.len() != entries.len() {
        return Err(format!(
            "git cat-file returned {} of {} files",
            blobs.len(),
            entries.len()
        ));
    }
    Ok(entries.into_iter().map(|(_, path)| path).zip(blobs).collect())
}

/// The contents of `objects`, in order, from one `git cat-file --batch`.
fn cat_blobs<'a>(objects: impl Iterator<Item = &'a str>) -> Result<Vec<Vec<u8>>, String> {
    let request: String = objects.map(|o| format!("{o}\n")).collect();
    if request.is_empty() {
        return Ok(Vec::new());
    }
    // Request and answer through files, not pipes: git writes each object on its own,
    // and a pipe turns that into a wake-up of this process per write (10x slower).
    let temporary =
        |what: &str| tempfile::tempfile().map_err(|e| format!("cannot make a temporary file for {what}: {e}"));
    let mut input = temporary("git")?;
    input
        .write_all(request.as_bytes())
        .and_then(|()| input.seek(SeekFrom::Start(0)).map(|_| ()))
        .map_err(|e| format!("cannot write a temporary file: {e}"))?;
    let mut output = temporary("git")?;
    let mut command = git(&["cat-file", "--batch", "--buffer"]);
    command.stdin(Stdio::from(input));
    command.stdout(Stdio::from(
        output.try_clone().map_err(|e| format!("temporary file: {e}"))?,
    ));
    let status = command
        .status()
        .map_err(|e| format!("cannot run git (cat-file): {e}"))?;
    if !status.success() {
        return Err("git cat-file failed".into());
    }
    let mut out = Vec::new();
    output
        .seek(SeekFrom::Start(0))
        .and_then(|_| output.read_to_end(&mut out))
        .map_err(|e| format!("cannot read what git cat-file wrote: {e}"))?;
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
