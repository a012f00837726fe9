//! What a rule reads, as a type: a KQL table (or a union of tables), a Sigma log source,
//! or ECS events. Each front-end makes its own kind with its own constructor, so which
//! family a rule belongs to is known from how it was read, not parsed back out of a name;
//! the name (`DeviceProcessEvents`, `sigma:windows/process_creation`, `elastic:ecs`) is
//! what the schema is keyed by and what reports print.

use super::Family;

/// The rows a rule reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Table {
    name: String,
    family: Family,
}

impl Table {
    /// A KQL table, a union of tables (`union(A, B)`, see
    /// [`super::Schema::union`]) or any other name a KQL query reads.
    pub fn kql(name: impl Into<String>) -> Table {
        Table {
            name: name.into(),
            family: Family::Kql,
        }
    }

    /// A Sigma log source: `sigma:PRODUCT/CATEGORY`, or `sigma:PRODUCT/service/SERVICE`
    /// (`any` when there is no product).
    pub fn sigma(product: Option<&str>, category: Option<&str>, service: Option<&str>) -> Table {
        let product = product.unwrap_or("any");
        let name = match (category, service) {
            (Some(category), _) => format!("sigma:{product}/{category}"),
            (None, Some(service)) => format!("sigma:{product}/service/{service}"),
            (None, None) => format!("sigma:{product}"),
        };
        Table {
            name,
            family: Family::Sigma,
        }
    }

    /// The events of every Elastic rule: ECS's fields.
    pub fn ecs() -> Table {
        Table {
            name: super::ecs::TABLE.to_string(),
            family: Family::Elastic,
        }
    }

    /// A table named by a user (`--table`) or listed by the schema: its family from its
    /// name.
    pub fn named(name: &str) -> Table {
        Table {
            name: name.to_string(),
            family: Family::of(name),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn family(&self) -> Family {
        self.family
    }
}

/// A table reads as its name wherever the schema is asked about it.
impl std::ops::Deref for Table {
    type Target = str;

    fn deref(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl serde::Serialize for Table {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_named_as_the_schema_keys_it_and_knows_its_family() {
        let s = Table::sigma(Some("windows"), Some("process_creation"), None);
        assert_eq!(
            (s.name(), s.family()),
            ("sigma:windows/process_creation", Family::Sigma)
        );
        assert_eq!(
            Table::sigma(None, None, Some("security")).name(),
            "sigma:any/service/security"
        );
        assert_eq!(Table::ecs().family(), Family::Elastic);
        assert_eq!(Table::kql("union(A, B)").family(), Family::Kql);
        assert_eq!(
            Table::named("sigma:linux/file_event"),
            Table::sigma(Some("linux"), Some("file_event"), None)
        );
    }
}
