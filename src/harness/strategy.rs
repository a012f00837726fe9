//! Proptest strategies for event fields, shaped like the column they fill, and the
//! adversarial strategy: values an attacker builds from the exclusion's own constants.

use proptest::prelude::*;
use proptest::sample::select;

use crate::schema::{Column, ColumnType};

/// Values shaped like what the column holds in real data. Strategies are built once
/// per column shape and shared (they are reference-counted).
pub fn column_value(column: &Column) -> BoxedStrategy<String> {
    cached(Kind::Shape, column, build_column_value)
}

/// Which per-column strategy a cache entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Shape,
    Filler,
}

/// The strategy of this kind for this column, built once per thread.
fn cached(kind: Kind, column: &Column, build: fn(&Column) -> BoxedStrategy<String>) -> BoxedStrategy<String> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    type Key = (Kind, String, ColumnType);
    thread_local! {
        static CACHE: RefCell<HashMap<Key, BoxedStrategy<String>>> = RefCell::new(HashMap::new());
    }
    let key = (kind, column.name.clone(), column.ty);
    if let Some(s) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return s;
    }
    // Built outside the borrow: building a filler builds (and caches) the shape first.
    let strategy = build(column);
    CACHE.with(|c| c.borrow_mut().insert(key, strategy.clone()));
    strategy
}

fn build_column_value(column: &Column) -> BoxedStrategy<String> {
    let name = column.name.as_str();
    match column.ty {
        ColumnType::Long | ColumnType::Int => (0u32..100_000).prop_map(|n| n.to_string()).boxed(),
        ColumnType::Bool => prop_oneof![Just("true".to_string()), Just("false".to_string())].boxed(),
        ColumnType::Datetime => "2026-1[01]-[012][0-9]T[01][0-9]:[0-5][0-9]:[0-5][0-9]Z".boxed(),
        ColumnType::Dynamic => Just("{}".to_string()).boxed(),
        ColumnType::Real => (0u32..100_000, 0u32..100).prop_map(|(n, f)| format!("{n}.{f}")).boxed(),
        ColumnType::Guid => "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}".boxed(),
        ColumnType::Timespan => (0u32..86_400).prop_map(|s| format!("{s}s")).boxed(),
        ColumnType::String => string_shape(name),
    }
}

fn string_shape(name: &str) -> BoxedStrategy<String> {
    let pattern = if name.ends_with("SHA256") {
        "[0-9a-f]{64}"
    } else if name.ends_with("SHA1") || name.ends_with("Hash") || name == "DeviceId" {
        "[0-9a-f]{40}"
    } else if name.ends_with("MD5") {
        "[0-9a-f]{32}"
    } else if name.ends_with("CommandLine") {
        r#"[a-z]{2,8}\.exe( -{1,2}[a-z]{1,8}( [a-z0-9]{1,8})?){0,3}"#
    } else if name.ends_with("FileName") {
        r"[a-z]{2,10}\.(exe|dll|ps1|bat|msi)"
    } else if name.ends_with("FolderPath") {
        r"C:\\(Windows\\System32|Program Files\\[A-Z][a-z]{2,8}|Users\\[a-z]{3,8}\\AppData\\Local\\Temp)\\[a-z]{2,10}\.exe"
    } else if name.ends_with("Url") || name.ends_with("Urls") {
        r"https://[a-z]{3,10}\.(com|net|io|org)/[a-z0-9]{0,8}"
    } else if name == "DeviceName" || name.ends_with("DeviceName") {
        r"(ws|srv|lap|fin|hr)-[a-z0-9]{2,6}\.contoso\.com"
    } else if name.ends_with("AccountUpn") {
        r"[a-z]{3,8}\.[a-z]{3,8}@contoso\.com"
    } else if name.ends_with("AccountSid") {
        r"S-1-5-21-[0-9]{6,10}-[0-9]{3,5}"
    } else if name.ends_with("AccountDomain") {
        "[A-Z]{3,8}"
    } else if name.ends_with("AccountName") {
        r"[a-z]{3,8}(\.[a-z]{3,8})?"
    } else if name.ends_with("IP") {
        r"(10|172|192)\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}"
    } else if matches!(name, "Signer" | "Issuer") || name.ends_with("CompanyName") || name.ends_with("ProductName") {
        r"[A-Z][a-z]{2,9}( [A-Z][a-z]{2,8}){0,2}(, Inc\.| Ltd| Corporation| GmbH)?"
    } else if name.ends_with("SerialNumber") {
        "[0-9a-f]{16,32}"
    } else if name == "ActionType" {
        "[A-Z][a-z]{3,8}[A-Z][a-z]{3,8}"
    } else {
        "[A-Za-z0-9 ._-]{0,16}"
    };
    proptest::string::string_regex(pattern)
        .expect("the column patterns are valid")
        .boxed()
}

/// For a column no predicate reads: one of a few realistic values, drawn once from
/// the column's shape. Such a column cannot change a verdict, so a cheap choice keeps
/// events complete without paying for a fresh string each time.
pub fn filler_value(column: &Column) -> BoxedStrategy<String> {
    cached(Kind::Filler, column, |column| {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let shape = column_value(column);
        let mut runner = TestRunner::deterministic();
        let pool: Vec<String> = (0..8)
            .filter_map(|_| shape.new_tree(&mut runner).ok().map(|t| t.current()))
            .collect();
        select(pool).boxed()
    })
}

/// Values an attacker builds from `constants` (the exclusion's and the rule's values):
/// a constant as written or in another case, with something before or after it.
/// Shrinks towards the bare constant.
pub fn adversarial(constants: &[String]) -> BoxedStrategy<String> {
    let constants = constants.to_vec();
    let before = select(vec!["", " ", "x", "C:\\Users\\Public\\", "cmd.exe /c "]);
    let after = select(vec!["", " ", ".exe", "x", " --silent"]);
    let case = select(vec![Case::AsIs, Case::Lower, Case::Upper]);
    (select(constants), before, after, case)
        .prop_map(|(c, before, after, case)| {
            let c = match case {
                Case::AsIs => c,
                Case::Lower => c.to_ascii_lowercase(),
                Case::Upper => c.to_ascii_uppercase(),
            };
            format!("{before}{c}{after}")
        })
        .boxed()
}

#[derive(Debug, Clone, Copy)]
enum Case {
    AsIs,
    Lower,
    Upper,
}

/// For an attacker-controlled column: its usual shape or, as often, an adversarial
/// value.
pub fn attacker_value(column: &Column, constants: &[String]) -> BoxedStrategy<String> {
    if constants.is_empty() {
        return column_value(column);
    }
    prop_oneof![column_value(column), adversarial(constants)].boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    #[test]
    fn shapes_fit_their_columns() {
        let mut runner = TestRunner::deterministic();
        let column = |name: &str, ty| Column {
            name: name.into(),
            ty,
            attacker: false,
        };
        for _ in 0..50 {
            let sha = column_value(&column("SHA1", ColumnType::String))
                .new_tree(&mut runner)
                .unwrap()
                .current();
            assert!(sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()));
            let n = column_value(&column("ReportId", ColumnType::Long))
                .new_tree(&mut runner)
                .unwrap()
                .current();
            assert!(crate::pred::parse_number(&n).is_some());
            let path = column_value(&column("FolderPath", ColumnType::String))
                .new_tree(&mut runner)
                .unwrap()
                .current();
            assert!(path.starts_with("C:\\") && path.ends_with(".exe"), "{path}");
        }
    }

    #[test]
    fn adversarial_values_contain_a_constant_and_shrink_to_it() {
        let mut runner = TestRunner::deterministic();
        let constants = vec!["schtasks.exe".to_string()];
        let mut tree = adversarial(&constants).new_tree(&mut runner).unwrap();
        assert!(tree.current().to_ascii_lowercase().contains("schtasks.exe"));
        while tree.simplify() {}
        assert_eq!(tree.current(), "schtasks.exe");
    }
}
