//! Writing files safely: whole or not at all.

use std::io::Write;
use std::path::Path;

/// Writes `contents` to `path` through a temporary file in the same directory and a
/// rename, so a reader (or an interrupted run) never sees half a file.
pub fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.fpx-{}.tmp", std::process::id()));
    // Keep the permissions of a file being replaced.
    let permissions = std::fs::metadata(path).ok().map(|m| m.permissions());
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        if let Some(permissions) = permissions {
            std::fs::set_permissions(&tmp, permissions)?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// What writing a generated file did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Written,
    Unchanged,
}

/// Writes `contents` unless the file already holds exactly that.
pub fn write_if_changed(path: &Path, contents: &str) -> std::io::Result<WriteOutcome> {
    if std::fs::read(path).is_ok_and(|old| old == contents.as_bytes()) {
        return Ok(WriteOutcome::Unchanged);
    }
    write_atomically(path, contents.as_bytes())?;
    Ok(WriteOutcome::Written)
}
