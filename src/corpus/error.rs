//! Input errors: a file fpx was given (or found) and could not use. They are not
//! findings about rules; they make the run fail with exit code 2, and every output
//! format records them.

use std::fmt;
use std::path::{Path, PathBuf};

/// A 1-based line and column (in characters) in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// A file that could not be read, or an input that leaves nothing to check.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    pub file: PathBuf,
    /// Where in the file, when the problem is at one place (not for a missing file).
    pub position: Option<Position>,
    pub message: String,
}

impl LoadError {
    /// An error at a line and column of the file.
    pub fn at(file: &Path, line: usize, column: usize, message: impl Into<String>) -> LoadError {
        LoadError {
            file: file.to_path_buf(),
            position: Some(Position {
                line: line.max(1),
                column: column.max(1),
            }),
            message: message.into(),
        }
    }

    /// An error about the file as a whole (it cannot be found or read): no line.
    pub fn whole_file(file: PathBuf, message: impl Into<String>) -> LoadError {
        LoadError {
            file,
            position: None,
            message: message.into(),
        }
    }

    pub fn line(&self) -> Option<usize> {
        self.position.map(|p| p.line)
    }
}

/// `file:line:column: message`, or `file: message` for a whole file.
impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(f, "{}:{}:{}: {}", self.file.display(), p.line, p.column, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Reads a text file as every reader wants it: UTF-8 (else an error at the first bad
/// byte), without a leading byte-order mark, with CRLF line ends read as LF. Lines and
/// columns stay those of the file on disk.
pub fn read_text(file: &Path) -> Result<String, LoadError> {
    let bytes = std::fs::read(file)
        .map_err(|e| LoadError::whole_file(file.to_path_buf(), format!("cannot read the file: {e}")))?;
    decode_text(file, bytes)
}

/// [`read_text`] on bytes already read.
pub fn decode_text(file: &Path, bytes: Vec<u8>) -> Result<String, LoadError> {
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..at];
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        LoadError::at(
            file,
            before.iter().filter(|&&b| b == b'\n').count() + 1,
            String::from_utf8_lossy(&before[line_start..]).chars().count() + 1,
            format!("not UTF-8 text: byte 0x{:02X}", e.as_bytes()[at]),
        )
    })?;
    Ok(normalize(text))
}

/// Drops a leading BOM and turns CRLF into LF (a lone CR is left alone).
pub fn normalize(text: String) -> String {
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    };
    if text.contains("\r\n") {
        text.replace("\r\n", "\n")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_a_position_only_when_there_is_one() {
        let e = LoadError::at(Path::new("r.yaml"), 3, 7, "bad");
        assert_eq!(e.to_string(), "r.yaml:3:7: bad");
        let e = LoadError::whole_file("nosuch".into(), "no such file or directory");
        assert_eq!(e.to_string(), "nosuch: no such file or directory");
    }

    #[test]
    fn bom_and_crlf_are_read_silently() {
        let text = decode_text(Path::new("x"), b"\xEF\xBB\xBFid: a\r\nname: b\r\n".to_vec()).unwrap();
        assert_eq!(text, "id: a\nname: b\n");
    }

    #[test]
    fn bad_utf8_is_an_error_at_its_byte() {
        let e = decode_text(Path::new("x"), b"ab\ncd\xFF".to_vec()).unwrap_err();
        assert_eq!(e.to_string(), "x:2:3: not UTF-8 text: byte 0xFF");
    }
}
