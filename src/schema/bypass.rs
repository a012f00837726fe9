//! What an attacker must control to set a field's value (`schemas/bypass.yaml`): the
//! bypass cost of an exclusion an attacker can switch on (FPX304).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

/// How an attacker sets a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Text they write: a command line, a script, a URL.
    Text,
    /// A file or folder path.
    Path,
    /// A file, pipe or task name.
    Name,
    /// A registry key.
    Registry,
    /// What only an administrator creates: a service.
    Admin,
}

/// What an attacker must control to get an alert suppressed, cheapest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bypass {
    /// Text they write (a command line, a substring anywhere in a path).
    Free,
    /// A file name or path a normal user can create.
    User,
    /// A path or object only an administrator can write.
    Admin,
}

impl Bypass {
    /// What it takes, for a person.
    pub fn describe(self) -> &'static str {
        match self {
            Bypass::Free => "free: text the attacker writes",
            Bypass::User => "user: a file name or path a normal user creates",
            Bypass::Admin => "admin: a path or object only an administrator can write",
        }
    }

    /// The name JSON and text reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Bypass::Free => "free",
            Bypass::User => "user",
            Bypass::Admin => "admin",
        }
    }
}

#[derive(Deserialize)]
struct BypassFile {
    text: Vec<String>,
    path: Vec<String>,
    name: Vec<String>,
    registry: Vec<String>,
    admin: Vec<String>,
    protected_folders: Vec<String>,
    protected_keys: Vec<String>,
}

struct Kinds {
    kinds: BTreeMap<String, FieldKind>,
    protected_folders: Vec<String>,
    protected_keys: Vec<String>,
}

static KINDS: LazyLock<Kinds> = LazyLock::new(|| {
    let file: BypassFile =
        serde_yaml::from_str(include_str!("../../schemas/bypass.yaml")).expect("schemas/bypass.yaml is valid");
    let mut kinds = BTreeMap::new();
    for (list, kind) in [
        (file.text, FieldKind::Text),
        (file.path, FieldKind::Path),
        (file.name, FieldKind::Name),
        (file.registry, FieldKind::Registry),
        (file.admin, FieldKind::Admin),
    ] {
        for field in list {
            kinds.insert(field, kind);
        }
    }
    let lower = |v: Vec<String>| v.into_iter().map(|s| s.to_ascii_lowercase()).collect();
    Kinds {
        kinds,
        protected_folders: lower(file.protected_folders),
        protected_keys: lower(file.protected_keys),
    }
});

/// How an attacker sets `field` (a column or Sigma field; a property path reads as its
/// column): text unless listed otherwise.
pub fn field_kind(field: &str) -> FieldKind {
    let kinds = &KINDS.kinds;
    kinds
        .get(field)
        .or_else(|| kinds.get(crate::pred::column_of(field)))
        .copied()
        .unwrap_or(FieldKind::Text)
}

/// Whether a path starts in a folder only an administrator writes.
pub fn protected_path(path: &str) -> bool {
    let path = path.to_ascii_lowercase();
    KINDS.protected_folders.iter().any(|p| path.starts_with(p.as_str()))
}

/// Whether a registry key is one only an administrator writes.
pub fn protected_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    KINDS.protected_keys.iter().any(|p| key.starts_with(p.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_protected_places() {
        assert_eq!(field_kind("ProcessCommandLine"), FieldKind::Text);
        assert_eq!(field_kind("FolderPath"), FieldKind::Path);
        assert_eq!(field_kind("Image"), FieldKind::Path);
        assert_eq!(field_kind("FileName"), FieldKind::Name);
        assert_eq!(field_kind("ServiceName"), FieldKind::Admin);
        assert_eq!(field_kind("AdditionalFields.Command"), FieldKind::Text);
        assert!(protected_path(r"c:\program files\Vendor\x.exe"));
        assert!(!protected_path(r"C:\Users\a\Program Files\x.exe"));
        assert!(protected_key(r"HKLM\SOFTWARE\x"));
        assert!(!protected_key(r"HKCU\SOFTWARE\x"));
        assert!(Bypass::Free < Bypass::User && Bypass::User < Bypass::Admin);
    }
}
