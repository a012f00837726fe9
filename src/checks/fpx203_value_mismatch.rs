//! FPX203 value-mismatch (warning)
//!
//! ## What it catches
//! A value that cannot occur in the column it is compared with: a "hash" that is not
//! hex of the column's length (`SHA1 != "known_good_hashes"`), text compared with a
//! number column, anything but true/false compared with a boolean column.
//!
//! ## Why it matters
//! `==` with such a value never matches and `!=` always does, whatever the event.
//!
//! ## Example
//! ```text
//! table: DeviceFileCertificateInfo
//! rule: Signer has "BeyondTrust"
//! exclusion: file.hash == "known_good_hashes"
//! ```
//!
//! ## Passes
//! ```text
//! table: DeviceFileCertificateInfo
//! rule: Signer has "BeyondTrust"
//! exclusion: file.hash == "3395856ce81f2b7382dee72602f798b642f14140"
//! ```
//!
//! ## Fix
//! Put in a value of the column's kind (the real hashes, numbers). No automatic fix.

use super::{Finding, Code, CodeInfo, Severity};
use crate::pred::{Atom, Op};
use crate::schema::{Column, ColumnType};

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx203,
    name: "value-mismatch",
    severity: Severity::Warning,
    summary: "a value cannot occur in the field",
    source: include_str!("fpx203_value_mismatch.rs"),
};

/// The hex length of a hash column, by its name.
fn hash_length(column: &str) -> Option<usize> {
    [("SHA256", 64), ("SHA1", 40), ("MD5", 32)]
        .into_iter()
        .find(|(suffix, _)| column.ends_with(suffix))
        .map(|(_, n)| n)
}

pub(super) fn findings(atom: &Atom, column: &Column) -> Vec<Finding> {
    if !matches!(atom.op, Op::Equals | Op::In) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for value in &atom.values {
        let text = value.text();
        let problem = if let Some(n) = hash_length(&column.name) {
            (text.len() != n || !text.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| format!("{text:?} is not a {} hash ({n} hex digits)", column.name))
        } else if column.ty.is_numeric() {
            crate::pred::parse_number(text)
                .is_none()
                .then(|| format!("{} holds numbers; {text:?} is not one", column.name))
        } else if column.ty == ColumnType::Bool {
            (!matches!(text, "true" | "false" | "1" | "0"))
                .then(|| format!("{} is true or false; {text:?} is neither", column.name))
        } else {
            None
        };
        if let Some(message) = problem {
            let mut f = Finding::new(&INFO, message, atom.span.clone(), "cannot occur in this column");
            f.help = Some(if atom.negated {
                "so this `!=` holds on every event".into()
            } else {
                "so this comparison never holds".into()
            });
            out.push(f);
        }
    }
    out
}
