//! Which events a Sigma rule applies to: its log source's event ids and channels, and
//! the fields it names differently there (`schemas/sigma_events.yaml`, from SigmaHQ's
//! THOR configuration). A log source that is not listed applies to every event.

use std::collections::BTreeMap;

use serde::Deserialize;

use std::borrow::Cow;

use super::view::View;

/// One kind of event a log source covers.
#[derive(Debug, Deserialize)]
pub struct Alternative {
    /// Field -> the values it may have (any of them).
    #[serde(default)]
    when: BTreeMap<String, Vec<String>>,
    /// Rule field -> event field.
    #[serde(default)]
    fields: BTreeMap<String, String>,
}

impl Alternative {
    /// Whether rules read some fields of these events under other names.
    pub fn renames(&self) -> bool {
        !self.fields.is_empty()
    }
}

/// The events of each log source.
#[derive(Debug)]
pub struct Routes(BTreeMap<String, Vec<Alternative>>);

impl Routes {
    pub fn load() -> Routes {
        Routes(
            serde_yaml::from_str(include_str!("../../schemas/sigma_events.yaml"))
                .expect("schemas/sigma_events.yaml is valid"),
        )
    }

    /// The kinds of event a log source covers; `None` when it is not listed (every
    /// event).
    pub fn alternatives(&self, table: &str) -> Option<&[Alternative]> {
        self.0.get(table).map(Vec::as_slice)
    }
}

/// How an event fits a log source.
pub enum Fit<'a> {
    /// Not one of its events.
    No,
    /// One of its events, with the field names its rules use.
    AsIs,
    /// One of its events, some of whose fields its rules name differently.
    Renamed(&'a Alternative),
}

/// How `event` fits a log source with these `alternatives` (`None`: every event, as is).
pub fn fit<'a>(alternatives: Option<&'a [Alternative]>, event: &View) -> Fit<'a> {
    let Some(alternatives) = alternatives else {
        return Fit::AsIs;
    };
    let found = alternatives.iter().find(|a| {
        a.when.iter().all(|(field, values)| {
            event
                .get(field)
                .is_some_and(|v| values.iter().any(|w| w.eq_ignore_ascii_case(v)))
        })
    });
    match found {
        None => Fit::No,
        Some(a) if a.fields.is_empty() => Fit::AsIs,
        Some(a) => Fit::Renamed(a),
    }
}

impl Alternative {
    /// The event with its fields also under the names the log source's rules use.
    pub fn rename<'e>(&'e self, event: &'e View<'e>) -> View<'e> {
        let mut fields: Vec<(Cow<'e, str>, Cow<'e, str>)> = event
            .iter()
            .map(|(k, v)| (Cow::Borrowed(k), Cow::Borrowed(v)))
            .collect();
        for (rule_field, event_field) in &self.fields {
            if let Some(value) = event.get(event_field) {
                fields.push((Cow::Borrowed(rule_field.as_str()), Cow::Borrowed(value)));
            }
        }
        View::from_pairs(fields)
    }
}

/// The index (or data stream) an ECS document is in, when it says: its data stream
/// (`data_stream.type`-`dataset`-`namespace`, as Elastic Agent writes them), else the
/// `_index` of a search hit, a data stream's backing index (`.ds-NAME-2024.01.01-000001`)
/// read as its stream's NAME.
pub fn index_of(event: &View) -> Option<String> {
    let part = |f: &str| event.get(f).filter(|v| !v.is_empty());
    if let (Some(kind), Some(dataset), Some(namespace)) = (
        part("data_stream.type"),
        part("data_stream.dataset"),
        part("data_stream.namespace"),
    ) {
        return Some(format!("{kind}-{dataset}-{namespace}"));
    }
    let index = part("_index")?;
    let backing = index.strip_prefix(".ds-").and_then(|rest| {
        let (stream, generation) = rest.rsplit_once('-')?;
        let (stream, date) = stream.rsplit_once('-')?;
        (generation.bytes().all(|b| b.is_ascii_digit()) && date.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
            .then_some(stream)
    });
    Some(backing.unwrap_or(index).to_string())
}

/// Whether an index name is one of the patterns' (`*` any text; a pattern after `-`
/// takes away from those before it, as Elasticsearch reads a list; `cluster:pattern`
/// is read as the pattern).
pub fn index_matches(patterns: &[String], name: &str) -> bool {
    let mut matched = false;
    for pattern in patterns {
        let pattern = pattern.trim();
        let pattern = pattern.rsplit_once(':').map_or(pattern, |(_, local)| local);
        match pattern.strip_prefix('-') {
            Some(excluded) if matched => matched = !glob(excluded, name),
            Some(_) => {}
            None => matched = matched || glob(pattern, name),
        }
    }
    matched
}

/// `*`-wildcard matching of a whole text.
fn glob(pattern: &str, text: &str) -> bool {
    let mut pieces = pattern.split('*');
    let first = pieces.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = pieces.collect();
    let Some((last, middle)) = pieces.split_last() else {
        return rest.is_empty();
    };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_ecs_document_says_its_index() {
        let stream = event(&[
            ("data_stream.type", "logs"),
            ("data_stream.dataset", "endpoint.events.process"),
            ("data_stream.namespace", "default"),
        ]);
        assert_eq!(
            index_of(&stream).as_deref(),
            Some("logs-endpoint.events.process-default")
        );
        let hit = event(&[("_index", ".ds-logs-endpoint.events.process-default-2026.12.01-000001")]);
        assert_eq!(index_of(&hit).as_deref(), Some("logs-endpoint.events.process-default"));
        assert_eq!(
            index_of(&event(&[("_index", "winlogbeat-8.1.0")])).as_deref(),
            Some("winlogbeat-8.1.0")
        );
        assert_eq!(index_of(&event(&[("process.name", "a")])), None);
        let patterns: Vec<String> = [
            "logs-endpoint.events.*",
            "winlogbeat-*",
            "-winlogbeat-7*",
            "remote:auditbeat-*",
        ]
        .iter()
        .map(|p| p.to_string())
        .collect();
        for (name, expected) in [
            ("logs-endpoint.events.process-default", true),
            ("logs-endpoint.alerts-default", false),
            ("winlogbeat-8.1.0", true),
            ("winlogbeat-7.17.0", false),
            ("auditbeat-8.0.0", true),
            ("logs-system.security-default", false),
        ] {
            assert_eq!(index_matches(&patterns, name), expected, "{name}");
        }
        assert!(glob("a*b*c", "aXbYc") && !glob("a*b*c", "aXbY") && glob("*", "") && !glob("ab", "abc"));
    }

    use super::*;

    fn event(fields: &[(&str, &str)]) -> View<'static> {
        View::from_pairs(
            fields
                .iter()
                .map(|(k, v)| (Cow::Owned(k.to_string()), Cow::Owned(v.to_string())))
                .collect(),
        )
    }

    #[test]
    fn sysmon_and_security_process_creation() {
        let routes = Routes::load();
        let process_creation = routes.alternatives("sigma:windows/process_creation");
        let sysmon = event(&[
            ("EventID", "1"),
            ("Channel", "Microsoft-Windows-Sysmon/Operational"),
            ("Image", "a"),
        ]);
        assert!(matches!(fit(process_creation, &sysmon), Fit::AsIs));
        let security = event(&[("EventID", "4688"), ("Channel", "Security"), ("NewProcessName", "b")]);
        let Fit::Renamed(alternative) = fit(process_creation, &security) else {
            panic!("Security 4688 is a process creation with other field names")
        };
        assert_eq!(alternative.rename(&security).get("Image"), Some("b"));
        let file = event(&[("EventID", "11"), ("Channel", "Microsoft-Windows-Sysmon/Operational")]);
        assert!(matches!(fit(process_creation, &file), Fit::No));
        assert!(matches!(
            fit(routes.alternatives("sigma:unlisted/source"), &file),
            Fit::AsIs
        ));
    }
}
