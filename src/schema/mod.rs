//! What fields exist: the Defender tables' columns (with types and whether an attacker
//! sets them) and the ECS-style aliases, from the project's own data in `schemas/`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

mod bypass;
pub mod ecs;
mod table;
pub use bypass::{Bypass, FieldKind, field_kind, protected_key, protected_path};
pub use table::Table;

/// A column's type, as the tables document it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    String,
    Long,
    Int,
    Bool,
    Datetime,
    Dynamic,
    Real,
    Guid,
    Timespan,
}

impl ColumnType {
    /// Whether values are numbers.
    pub fn is_numeric(self) -> bool {
        matches!(self, ColumnType::Long | ColumnType::Int | ColumnType::Real)
    }

    /// The values fpx's logic gives a column of this type. Timespans, guids and dynamic
    /// values are read as text.
    pub fn domain(self) -> crate::logic::Domain {
        use crate::logic::Domain;
        match self {
            ColumnType::Long => Domain::LONG,
            ColumnType::Int => Domain::INT,
            ColumnType::Real => Domain::Decimal,
            ColumnType::Bool => Domain::Bool,
            ColumnType::Datetime => Domain::Time,
            _ => Domain::Text,
        }
    }
}

/// How a predicate on a table's columns is applied, which decides what a null value
/// (a non-string column with no value; fpx reads it as the empty text) does to it.
/// KQL's comparisons with null are null, `not(null)` is null, and `where` keeps a row
/// only when its condition is true.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// `| where P`: a comparison with a null value makes its literal false.
    Where,
    /// An exclusion, `| where not(E)`: a row is dropped unless `not(E)` is true, so a
    /// comparison with a null value makes its literal true (the row is suppressed).
    Suppressing,
}

/// `pred` as the columns of `table` hold values and as KQL applies it:
/// - on a bool column the numbers 1 and 0 compared with `==`/`in` are `true` and
///   `false` (KQL compares a bool with a number as 1 or 0; fpx reads a bool column's
///   text as `true`/`false`);
/// - on a number column, `==`/`in` with `443.0` compare with `443` (a number's text is
///   canonical: no leading zeros, no trailing fraction zeros);
/// - a comparison on a column that can be null (any type but string) is, in negation
///   normal form, `L and C != ""` (`applied` is `Where`) or `L or C == ""`
///   (`Suppressing`): exactly Kleene logic's "true" and "not false" with null read as
///   the empty text. Emptiness tests (`isnull`, `isempty`: a comparison with `""`) are
///   not comparisons with null and stay as they are.
///
/// On ECS events (`elastic:ecs`) nothing changes: Elasticsearch's logic has two values (a
/// missing field fails a test and passes its negation), which the predicate already is.
pub fn typed(pred: &crate::pred::Pred, table: &str, applied: Applied) -> crate::pred::Pred {
    if Family::of(table) == Family::Elastic {
        return pred.clone();
    }
    match schema().table(table) {
        Some(columns) => typed_on(pred, columns, applied),
        None => pred.clone(),
    }
}

/// [`typed`] over a list of columns.
pub fn typed_on(pred: &crate::pred::Pred, columns: &[Column], applied: Applied) -> crate::pred::Pred {
    typed_in(pred, columns, true, applied)
}

fn typed_in(pred: &crate::pred::Pred, columns: &[Column], positive: bool, applied: Applied) -> crate::pred::Pred {
    use crate::pred::{Atom, Op, Pred, Value};
    match pred {
        Pred::True | Pred::False => pred.clone(),
        Pred::Not(p) => Pred::Not(Box::new(typed_in(p, columns, !positive, applied))),
        Pred::And(ps) => Pred::And(ps.iter().map(|p| typed_in(p, columns, positive, applied)).collect()),
        Pred::Or(ps) => Pred::Or(ps.iter().map(|p| typed_in(p, columns, positive, applied)).collect()),
        Pred::Atom(a) => {
            let Some(column) = columns.iter().find(|c| c.name == a.field) else {
                return pred.clone();
            };
            let mut a = a.clone();
            if column.ty == ColumnType::Bool && matches!(a.op, Op::Equals | Op::In) {
                for v in &mut a.values {
                    match v {
                        Value::Num(n) if n == "1" => *v = Value::Bool(true),
                        Value::Num(n) if n == "0" => *v = Value::Bool(false),
                        _ => {}
                    }
                }
            }
            if column.ty.is_numeric() && matches!(a.op, Op::Equals | Op::In) {
                // A number column holds numbers, whose text is canonical: `== 443.0`
                // and `== 0443` are `== 443`, `== 1.50` is `== 1.5`.
                for v in &mut a.values {
                    if let Value::Num(n) = v
                        && let Some(canonical) = crate::decimal::canonical(n)
                    {
                        *n = canonical;
                    }
                }
            }
            let emptiness = a.values.iter().all(|v| v.text().is_empty());
            if column.ty == ColumnType::String || emptiness {
                return Pred::Atom(a);
            }
            // The guard has the span of the comparison it guards (it is part of it).
            let (field, span) = (a.field.clone(), a.span.clone());
            let empty = |negated| {
                Pred::Atom(Atom {
                    span: span.clone(),
                    ..Atom::new(&field, Op::Equals, negated, true, vec![Value::Str(String::new())])
                })
            };
            // The literal in negation normal form is `a` when `positive`, else `not a`.
            // Strengthened (`and C != ""`) for `where` and weakened (`or C == ""`) for a
            // suppression; under a `not` the same literal needs the dual form of `a`.
            // A guard the atom already implies on the empty text is left out.
            let on_empty = a.eval_text("");
            if positive == (applied == Applied::Where) {
                if on_empty {
                    Pred::And(vec![Pred::Atom(a), empty(true)])
                } else {
                    Pred::Atom(a)
                }
            } else if on_empty {
                Pred::Atom(a)
            } else {
                Pred::Or(vec![Pred::Atom(a), empty(false)])
            }
        }
    }
}

/// The values each of `columns` holds, as the logic engine reads them.
pub fn domains_of(columns: &[Column]) -> crate::logic::Domains {
    let mut domains = crate::logic::Domains::text();
    for c in columns {
        domains.insert(&c.name, c.ty.domain());
    }
    domains
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ColumnType,
    /// Whether an attacker chooses the value (command line, file name, path, URL, ...).
    #[serde(default)]
    pub attacker: bool,
}

#[derive(Deserialize)]
struct AliasFile {
    aliases: BTreeMap<String, BTreeMap<String, String>>,
    no_column: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct SigmaFile {
    attacker: Vec<String>,
    logsources: BTreeMap<String, SigmaLogSource>,
}

#[derive(Deserialize)]
struct SigmaLogSource {
    #[serde(default)]
    open: bool,
    fields: Vec<String>,
}

/// All tables and aliases fpx knows.
#[derive(Debug)]
pub struct Schema {
    tables: BTreeMap<String, Vec<Column>>,
    /// Tables whose column list is not exhaustive (Sigma log sources nobody lists the
    /// fields of): other fields are accepted as columns.
    open: std::collections::BTreeSet<String>,
    aliases: BTreeMap<String, BTreeMap<String, String>>,
    no_column: BTreeMap<String, String>,
    /// Each table's typed columns, as the logic engine reads them.
    domains: BTreeMap<String, crate::logic::Domains>,
    /// The rows of several tables read as one (`union A, B`), made when first named.
    unions: std::sync::Mutex<BTreeMap<String, &'static Union>>,
    /// Each table's names for "did you mean", split into words when first needed.
    named: std::sync::Mutex<BTreeMap<String, std::sync::Arc<Vec<Named>>>>,
}

/// The rows of several KQL tables read as one: every column of any of them (a row has
/// null, read as empty, in the columns its own table lacks).
#[derive(Debug)]
struct Union {
    columns: Vec<Column>,
    domains: crate::logic::Domains,
    rows: crate::pred::Pred,
}

/// Which kind of rule reads a table: its rows are only compared with tables of the
/// same family (a Sigma log source's field is not looked for in Defender tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// Defender XDR and Sentinel tables (and unions of them).
    Kql,
    /// Sigma log sources (`sigma:PRODUCT/CATEGORY`).
    Sigma,
    /// ECS events (`elastic:ecs`).
    Elastic,
}

impl Family {
    /// The family of a table name.
    pub fn of(table: &str) -> Family {
        if table.starts_with("sigma:") {
            Family::Sigma
        } else if table.starts_with("elastic:") {
            Family::Elastic
        } else {
            Family::Kql
        }
    }
}

/// What a field name means in a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution<'a> {
    /// A column of the table, named directly or through an alias.
    Column { column: &'a Column, via_alias: bool },
    /// A known name that has no column in this table; these tables have it (as column).
    NotInTable { elsewhere: Vec<(String, String)> },
    /// A name fpx knows has no column anywhere, with the reason.
    NoColumn { reason: String },
    /// Neither a column nor an alias anywhere; the nearest known name, if one is close.
    Unknown { suggestion: Option<String> },
}

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    let mut tables: BTreeMap<String, Vec<Column>> =
        serde_yaml::from_str(include_str!("../../schemas/tables.yaml")).expect("schemas/tables.yaml is valid");
    let sigma: SigmaFile =
        serde_yaml::from_str(include_str!("../../schemas/sigma.yaml")).expect("schemas/sigma.yaml is valid");
    let mut open = std::collections::BTreeSet::new();
    for (name, source) in sigma.logsources {
        let columns = source
            .fields
            .into_iter()
            .map(|field| Column {
                attacker: sigma.attacker.contains(&field),
                name: field,
                ty: ColumnType::String,
            })
            .collect();
        if source.open {
            open.insert(name.clone());
        }
        tables.insert(name, columns);
    }
    // Elastic rules read ECS events; an integration's own fields are not listed.
    tables.insert(ecs::TABLE.into(), ecs::columns());
    open.insert(ecs::TABLE.to_string());
    let aliases: AliasFile =
        serde_yaml::from_str(include_str!("../../schemas/aliases.yaml")).expect("schemas/aliases.yaml is valid");
    let domains = tables
        .iter()
        .map(|(name, columns)| (name.clone(), domains_of(columns)))
        .collect();
    Schema {
        tables,
        domains,
        open,
        aliases: aliases.aliases,
        no_column: aliases.no_column,
        unions: std::sync::Mutex::new(BTreeMap::new()),
        named: std::sync::Mutex::new(BTreeMap::new()),
    }
});

/// The schema compiled into fpx.
pub fn schema() -> &'static Schema {
    &SCHEMA
}

impl Schema {
    /// The columns of a table, if fpx knows it (a union of tables named by
    /// [`Schema::union`] included).
    pub fn table(&self, name: &str) -> Option<&[Column]> {
        match self.tables.get(name) {
            Some(columns) => Some(columns.as_slice()),
            None => self.union_of(name).map(|u| u.columns.as_slice()),
        }
    }

    /// The values each column of `table` holds (every field is text in a table fpx
    /// does not know).
    pub fn domains(&self, table: &str) -> &crate::logic::Domains {
        static TEXT: LazyLock<crate::logic::Domains> = LazyLock::new(crate::logic::Domains::text);
        match self.domains.get(table) {
            Some(domains) => domains,
            None => self.union_of(table).map_or(&TEXT, |u| &u.domains),
        }
    }

    /// The table fpx reads the rows of several KQL tables as (`union A, B` is
    /// `union(A, B)`): `None` unless each is a known KQL table and every column they
    /// share has one type (Kusto renames columns whose types differ).
    pub fn union(&self, tables: &[String]) -> Option<String> {
        let name = format!("union({})", tables.join(", "));
        self.union_of(&name).map(|_| name)
    }

    /// The tables whose rows `table` holds: its members for a union of tables, else
    /// itself.
    pub fn tables_of<'t>(&self, table: &'t str) -> Vec<&'t str> {
        match table.strip_prefix("union(").and_then(|t| t.strip_suffix(')')) {
            Some(members) if self.union_of(table).is_some() => members.split(", ").collect(),
            _ => vec![table],
        }
    }

    /// Which of a table's rows exist, when not every combination of column values is a
    /// row: a union's row comes from one of its tables and is empty in the columns that
    /// table lacks (and its `Type` is that table's name, where the table has `Type`).
    pub fn rows(&self, table: &str) -> Option<&crate::pred::Pred> {
        self.union_of(table).map(|u| &u.rows)
    }

    /// A union of tables from its name, made (once) on first use.
    fn union_of(&self, name: &str) -> Option<&'static Union> {
        use crate::pred::{Atom, Op, Pred, Value};
        let members: Vec<&str> = name.strip_prefix("union(")?.strip_suffix(')')?.split(", ").collect();
        let mut unions = self.unions.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(u) = unions.get(name) {
            return Some(u);
        }
        if members.len() < 2 || members.iter().any(|m| Family::of(m) != Family::Kql) {
            return None;
        }
        let tables: Vec<&Vec<Column>> = members.iter().map(|m| self.tables.get(*m)).collect::<Option<_>>()?;
        let mut columns: Vec<Column> = Vec::new();
        for column in tables.iter().flat_map(|t| t.iter()) {
            match columns.iter().find(|c| c.name == column.name) {
                Some(c) if c.ty != column.ty => return None,
                Some(_) => {}
                None => columns.push(column.clone()),
            }
        }
        let empty = |field: &str| {
            Pred::Atom(Atom::new(
                field,
                Op::Equals,
                false,
                true,
                vec![Value::Str(String::new())],
            ))
        };
        let rows = Pred::Or(
            members
                .iter()
                .zip(&tables)
                .map(|(member, own)| {
                    let mut parts: Vec<Pred> = columns
                        .iter()
                        .filter(|c| !own.iter().any(|o| o.name == c.name))
                        .map(|c| empty(&c.name))
                        .collect();
                    if own.iter().any(|c| c.name == "Type") {
                        parts.push(Pred::Atom(Atom::new(
                            "Type",
                            Op::Equals,
                            false,
                            true,
                            vec![Value::Str(member.to_string())],
                        )));
                    }
                    Pred::And(parts)
                })
                .collect(),
        );
        let union: &'static Union = Box::leak(Box::new(Union {
            domains: domains_of(&columns),
            columns,
            rows,
        }));
        unions.insert(name.to_string(), union);
        Some(union)
    }

    /// Names of every known table (Sigma log sources are `sigma:...`, ECS events
    /// `elastic:ecs`).
    pub fn table_names(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }

    /// Names of the Defender XDR and Sentinel tables (what a KQL query can read).
    pub fn kql_tables(&self) -> impl Iterator<Item = &str> {
        self.table_names().filter(|t| Family::of(t) == Family::Kql)
    }

    /// Whether `table` holds KQL rows: a Defender/Sentinel table or a union of them.
    pub fn is_kql(&self, table: &str) -> bool {
        self.kql_tables().any(|t| t == table) || self.union_of(table).is_some()
    }

    /// Whether a table's column list is not exhaustive: a field it does not list may
    /// still be one of its columns.
    pub fn is_open(&self, table: &str) -> bool {
        self.open.contains(table)
    }

    /// The column `field` names in `table`, directly or through an alias (and whether
    /// through one); `None` otherwise. [`Self::resolve`] without the work of saying why
    /// not (its did-you-mean compares the name with every known one).
    pub fn column(&self, field: &str, table: &str) -> Option<(&Column, bool)> {
        let columns = self.table(table).unwrap_or(&[]);
        if let Some(column) = columns.iter().find(|c| c.name == field) {
            return Some((column, false));
        }
        let per_table = self.aliases.get(field)?;
        // On a union of tables, an alias its tables read as the same column.
        let members: Vec<&String> = self.tables_of(table).iter().filter_map(|t| per_table.get(*t)).collect();
        let same = members
            .first()
            .filter(|first| members.iter().all(|m| m == *first))
            .copied();
        let name = per_table.get(table).or(same)?;
        columns.iter().find(|c| &c.name == name).map(|c| (c, true))
    }

    /// What `field` means in `table`.
    pub fn resolve(&self, field: &str, table: &str) -> Resolution<'_> {
        if let Some((column, via_alias)) = self.column(field, table) {
            return Resolution::Column { column, via_alias };
        }
        if let Some(per_table) = self.aliases.get(field) {
            return Resolution::NotInTable {
                elsewhere: per_table.iter().map(|(t, c)| (t.clone(), c.clone())).collect(),
            };
        }
        if let Some(reason) = self.no_column.get(field) {
            return Resolution::NoColumn { reason: reason.clone() };
        }
        // Other tables of the same kind: Sigma log sources for a Sigma rule, Defender
        // and Sentinel tables for a KQL one.
        let family = Family::of(table);
        let elsewhere: Vec<(String, String)> = self
            .tables
            .iter()
            .filter(|(t, _)| Family::of(t) == family)
            .filter(|(_, cols)| cols.iter().any(|c| c.name == field))
            .map(|(t, _)| (t.clone(), field.to_string()))
            .collect();
        if !elsewhere.is_empty() {
            return Resolution::NotInTable { elsewhere };
        }
        Resolution::Unknown {
            suggestion: self.nearest(field, table),
        }
    }

    /// The known name closest to `field`: columns of `table` and every alias, compared by
    /// their words (`parent_process_name` ~ `parent.name`) and by spelling.
    fn nearest(&self, field: &str, table: &str) -> Option<String> {
        let candidates = {
            let mut named = self.named.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            std::sync::Arc::clone(named.entry(table.to_string()).or_insert_with(|| {
                let columns = self.table(table).unwrap_or(&[]).iter().map(|c| c.name.as_str());
                let names = self.aliases.keys().map(String::as_str).chain(columns);
                std::sync::Arc::new(names.map(Named::new).collect())
            }))
        };
        let mine = distinct(words(field));
        let lower = field.to_ascii_lowercase();
        let typo = 2.max(field.len() / 5);
        // Ranked by shared words, then by how many words the name has beyond those
        // (`parent_process_name` is `parent.name`, not `parent.parent.name`), then spelling.
        let mut best: Option<((usize, usize, usize), &str)> = None;
        for named in candidates.iter() {
            let candidate = named.name.as_str();
            let theirs = &named.words;
            let shared = mine.iter().filter(|w| theirs.contains(w)).count();
            let union = mine.len() + theirs.len() - shared;
            let alike = shared * 2 >= union;
            // Lengths further apart than a typo: the spelling cannot make it close (and
            // an input with 100,000 unknown fields skips the edit distances).
            if !alike && candidate.len().abs_diff(field.len()) > typo {
                continue;
            }
            let distance = edit_distance(&lower, &named.lower);
            let close = alike || distance <= typo;
            let rank = (union - shared, named.count.abs_diff(mine.len()), distance);
            if close && best.is_none_or(|(r, _)| rank < r) {
                best = Some((rank, candidate));
            }
        }
        best.map(|(_, name)| name.to_string())
    }
}

/// A known name as [`Schema::nearest`] compares it, split once.
#[derive(Debug)]
struct Named {
    name: String,
    lower: String,
    /// Its distinct words.
    words: Vec<String>,
    /// How many words it has.
    count: usize,
}

impl Named {
    fn new(name: &str) -> Named {
        let all = words(name);
        Named {
            name: name.to_string(),
            lower: name.to_ascii_lowercase(),
            count: all.len(),
            words: distinct(all),
        }
    }
}

/// The candidate spelled most like `name` (ignoring case), if one is close enough to
/// be a typo of it: "did you mean" for ids, tables, operators and columns.
pub fn nearest_name<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    let limit = 2.max(name.chars().count() / 4);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Lower-case words of a field name: split at `.` `_` and lower-to-upper case changes.
fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if (c == '.' || c == '_' || (c.is_ascii_uppercase() && prev_lower)) && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        if c != '.' && c != '_' {
            current.push(c.to_ascii_lowercase());
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn distinct(mut words: Vec<String>) -> Vec<String> {
    words.sort();
    words.dedup();
    words
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cost = usize::from(ca != b[j]);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = "DeviceFileCertificateInfo";

    #[test]
    fn every_defender_xdr_table_is_known() {
        assert_eq!(schema().kql_tables().count(), 86);
        assert!(schema().table("EmailEvents").is_some());
        assert!(
            schema()
                .table("DeviceProcessEvents")
                .unwrap()
                .iter()
                .any(|c| c.name == "ProcessCommandLine" && c.attacker)
        );
        assert!(
            !schema()
                .table(CERT)
                .unwrap()
                .iter()
                .any(|c| c.name == "Signer" && c.attacker)
        );
    }

    #[test]
    fn aliases_resolve_per_table() {
        let s = schema();
        assert!(
            matches!(s.resolve("process.name", "DeviceProcessEvents"), Resolution::Column { column, via_alias: true } if column.name == "FileName")
        );
        assert!(
            matches!(s.resolve("process.name", "DeviceNetworkEvents"), Resolution::Column { column, .. } if column.name == "InitiatingProcessFileName")
        );
        assert!(matches!(
            s.resolve("Signer", CERT),
            Resolution::Column { via_alias: false, .. }
        ));
        let Resolution::NotInTable { elsewhere } = s.resolve("process.command_line", CERT) else {
            panic!()
        };
        assert!(elsewhere.contains(&("DeviceProcessEvents".into(), "ProcessCommandLine".into())));
        assert!(matches!(s.resolve("user.account", CERT), Resolution::NotInTable { .. }));
        assert!(matches!(
            s.resolve("ProcessCommandLine", CERT),
            Resolution::NotInTable { .. }
        ));
        assert!(matches!(s.resolve("event_id", CERT), Resolution::NoColumn { .. }));
        // On a union, an alias its tables read as one column is that column; one they
        // read as different columns is none.
        let union = s
            .union(&["DeviceFileEvents".into(), "DeviceNetworkEvents".into()])
            .unwrap();
        assert!(
            matches!(s.resolve("process.name", &union), Resolution::Column { column, .. } if column.name == "InitiatingProcessFileName")
        );
        let union = s
            .union(&["DeviceProcessEvents".into(), "DeviceNetworkEvents".into()])
            .unwrap();
        assert!(matches!(
            s.resolve("process.name", &union),
            Resolution::NotInTable { .. }
        ));
    }

    #[test]
    fn a_union_of_tables_is_their_columns_and_rows() {
        let s = schema();
        let union = s
            .union(&["DeviceFileEvents".into(), "DeviceRegistryEvents".into()])
            .unwrap();
        assert_eq!(union, "union(DeviceFileEvents, DeviceRegistryEvents)");
        let columns = s.table(&union).unwrap();
        assert!(columns.iter().any(|c| c.name == "FolderPath"));
        assert!(columns.iter().any(|c| c.name == "RegistryKey"));
        assert_eq!(s.tables_of(&union), ["DeviceFileEvents", "DeviceRegistryEvents"]);
        assert!(s.is_kql(&union));
        let rows = s.rows(&union).unwrap();
        let row = |pairs: &[(&str, &str)]| -> crate::pred::Event {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        assert!(rows.eval(&row(&[("FolderPath", "C:\\x"), ("Type", "DeviceFileEvents")])));
        assert!(rows.eval(&row(&[("RegistryKey", "HKLM"), ("Type", "DeviceRegistryEvents")])));
        assert!(!rows.eval(&row(&[("FolderPath", "C:\\x"), ("RegistryKey", "HKLM")])));
        // Not a union: a table fpx does not know, a Sigma log source, one table.
        assert!(s.union(&["DeviceFileEvents".into(), "Nope".into()]).is_none());
        assert!(s.union(&["DeviceFileEvents".into()]).is_none());
        assert!(s.rows("DeviceFileEvents").is_none());
        assert_eq!(s.tables_of("DeviceFileEvents"), ["DeviceFileEvents"]);
    }

    #[test]
    fn unknown_fields_get_the_nearest_name() {
        let s = schema();
        assert_eq!(
            s.resolve("process.parent_process_name", CERT),
            Resolution::Unknown {
                suggestion: Some("process.parent.name".into())
            }
        );
        assert_eq!(
            s.resolve("Signr", CERT),
            Resolution::Unknown {
                suggestion: Some("Signer".into())
            }
        );
        assert_eq!(s.resolve("zzzz", CERT), Resolution::Unknown { suggestion: None });
    }
}

#[cfg(test)]
mod typed_tests {
    use super::*;
    use crate::expr::{ParseOutcome, parse_exclusion};
    use crate::pred::{Event, Pred};

    /// KQL's value of `p` (Kleene logic): a comparison on an absent non-string column
    /// is null (`None`).
    fn kleene(p: &Pred, event: &Event, columns: &[Column]) -> Option<bool> {
        match p {
            Pred::True => Some(true),
            Pred::False => Some(false),
            Pred::Not(q) => kleene(q, event, columns).map(|v| !v),
            Pred::And(ps) => ps
                .iter()
                .try_fold(Some(true), |acc, q| match (acc, kleene(q, event, columns)) {
                    (_, Some(false)) | (Some(false), _) => Err(()),
                    (Some(true), v) => Ok(v),
                    (None, _) => Ok(None),
                })
                .unwrap_or(Some(false)),
            Pred::Or(ps) => ps
                .iter()
                .try_fold(Some(false), |acc, q| match (acc, kleene(q, event, columns)) {
                    (_, Some(true)) | (Some(true), _) => Err(()),
                    (Some(false), v) => Ok(v),
                    (None, _) => Ok(None),
                })
                .map_or(Some(true), |v| v),
            Pred::Atom(a) => {
                let nullable = columns.iter().any(|c| c.name == a.field && c.ty != ColumnType::String);
                match event.get(&a.field) {
                    None if nullable => None,
                    _ => Some(p.eval(event)),
                }
            }
        }
    }

    #[test]
    fn null_comparisons_follow_kleene_logic_as_applied() {
        let table = "DeviceNetworkEvents";
        let columns = schema().table(table).unwrap();
        let events: Vec<Event> = [
            vec![],
            vec![("RemotePort", "443")],
            vec![("RemotePort", "80"), ("LocalPort", "5000")],
            vec![("LocalPort", "80"), ("RemoteUrl", "a.contoso.com")],
            vec![("RemotePort", "8443"), ("LocalPort", "1"), ("RemoteUrl", "x")],
        ]
        .into_iter()
        .map(|e| e.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
        .collect();
        for text in [
            "RemotePort == 443",
            "RemotePort != 443",
            "RemotePort > 100 or LocalPort < 1000",
            r#"not(RemotePort > 100 and RemoteUrl endswith ".com")"#,
            r#"not(not(LocalPort >= 80) or RemoteUrl == "x") and RemotePort in (80, 443)"#,
            "not(RemotePort in (443, 8443)) or not(LocalPort == 1)",
        ] {
            let ParseOutcome::Parsed(p) = parse_exclusion(text) else {
                panic!("{text}")
            };
            let whered = typed(&p.pred, table, Applied::Where);
            let suppressing = typed(&p.pred, table, Applied::Suppressing);
            for event in &events {
                let value = kleene(&p.pred, event, columns);
                assert_eq!(whered.eval(event), value == Some(true), "where {text} on {event:?}");
                assert_eq!(
                    suppressing.eval(event),
                    value != Some(false),
                    "not({text}) on {event:?}"
                );
            }
        }
    }
}
