//! The Elastic Common Schema: every ECS field and its Elasticsearch type
//! (`schemas/ecs.yaml`, generated from ECS 9.5.0 by `tools/ecs-types.py`), the columns
//! of the `elastic:ecs` table Elastic rules read. The type
//! decides what a Kibana KQL `field : value` means (a keyword is matched whole, a text
//! field word by word) and which values a field holds.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

use super::{Column, ColumnType};

/// The table every Elastic rule reads: ECS events.
pub const TABLE: &str = "elastic:ecs";

#[derive(Deserialize)]
struct EcsFile {
    fields: HashMap<String, String>,
    arrays: std::collections::HashSet<String>,
}

static ECS: LazyLock<EcsFile> = LazyLock::new(|| {
    serde_yaml::from_str::<EcsFile>(include_str!("../../schemas/ecs.yaml")).expect("schemas/ecs.yaml is valid")
});

/// ECS fields whose value an attacker chooses: what runs and from where, its command
/// line and PE metadata, the file, registry key or value it writes, the host, address,
/// domain or URL it contacts, script text.
const ATTACKER: &[&str] = &[
    "process.name",
    "process.executable",
    "process.command_line",
    "process.args",
    "process.working_directory",
    "process.title",
    "process.pe.original_file_name",
    "process.pe.description",
    "process.pe.product",
    "process.pe.company",
    "process.parent.name",
    "process.parent.executable",
    "process.parent.command_line",
    "process.parent.args",
    "file.name",
    "file.path",
    "file.extension",
    "file.directory",
    "file.pe.original_file_name",
    "dll.name",
    "dll.path",
    "registry.path",
    "registry.key",
    "registry.value",
    "registry.data.strings",
    "dns.question.name",
    "destination.domain",
    "destination.ip",
    "destination.port",
    "url.full",
    "url.original",
    "url.path",
    "url.domain",
    "user_agent.original",
    "service.name",
];

/// Fields outside ECS that the integrations rules read map as analysed text.
const INTEGRATION_TEXT: &[&str] = &["powershell.file.script_block_text"];

/// The Elasticsearch type of an ECS field (`keyword`, `wildcard`, `match_only_text`,
/// `long`, `ip`, `date`, ...), if ECS (or the short list of integration text fields)
/// defines it.
pub fn es_type(field: &str) -> Option<&'static str> {
    match ECS.fields.get(field) {
        Some(ty) => Some(ty.as_str()),
        None if INTEGRATION_TEXT.contains(&field) => Some("text"),
        None => None,
    }
}

/// Whether the field may hold several values: ECS says so (`event.category`,
/// `process.args`), or ECS does not define it (an integration's field may be an
/// array). A test of it holds when it holds of one of them.
pub fn is_array(field: &str) -> bool {
    ECS.arrays.contains(field) || es_type(field).is_none()
}

/// The column type fpx reads an Elasticsearch type's values as.
pub fn column_type(es_type: &str) -> ColumnType {
    match es_type {
        "long" | "integer" | "short" | "byte" | "unsigned_long" => ColumnType::Long,
        "float" | "double" | "scaled_float" | "half_float" => ColumnType::Real,
        "boolean" => ColumnType::Bool,
        "date" => ColumnType::Datetime,
        "object" | "nested" | "flattened" | "geo_point" => ColumnType::Dynamic,
        _ => ColumnType::String,
    }
}

/// The ECS fields as the columns of the `elastic:ecs` table.
pub fn columns() -> Vec<Column> {
    let mut columns: Vec<Column> = ECS
        .fields
        .iter()
        .map(|(name, ty)| Column {
            name: name.clone(),
            ty: column_type(ty),
            attacker: ATTACKER.contains(&name.as_str()),
        })
        .collect();
    columns.sort_by(|a, b| a.name.cmp(&b.name));
    columns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecs_types_are_read() {
        assert_eq!(es_type("process.name"), Some("keyword"));
        assert_eq!(es_type("process.command_line"), Some("wildcard"));
        assert_eq!(es_type("process.command_line.text"), Some("match_only_text"));
        assert_eq!(es_type("process.pid"), Some("long"));
        assert_eq!(es_type("process.nmae"), None);
        assert!(
            ATTACKER.iter().all(|f| es_type(f).is_some()),
            "every attacker field is ECS"
        );
    }
}
