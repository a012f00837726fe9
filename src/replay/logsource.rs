//! Which events a Sigma rule applies to: its log source's event ids and channels, and
//! the fields it names differently there (`schemas/sigma_events.yaml`, from SigmaHQ's
//! THOR configuration). A log source that is not listed applies to every event.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::pred::Event;

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
pub fn fit<'a>(alternatives: Option<&'a [Alternative]>, event: &Event) -> Fit<'a> {
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
    pub fn rename(&self, event: &Event) -> Event {
        let mut view = event.clone();
        for (rule_field, event_field) in &self.fields {
            if let Some(value) = event.get(event_field) {
                view.insert(rule_field.clone(), value.clone());
            }
        }
        view
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(fields: &[(&str, &str)]) -> Event {
        fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
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
        assert_eq!(alternative.rename(&security)["Image"], "b");
        let file = event(&[("EventID", "11"), ("Channel", "Microsoft-Windows-Sysmon/Operational")]);
        assert!(matches!(fit(process_creation, &file), Fit::No));
        assert!(matches!(
            fit(routes.alternatives("sigma:unlisted/source"), &file),
            Fit::AsIs
        ));
    }
}
