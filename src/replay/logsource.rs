//! Which events a Sigma rule applies to: its log source's event ids and channels, and
//! the fields it names differently there (`schemas/sigma_events.yaml`, from SigmaHQ's
//! THOR configuration). A log source that is not listed applies to every event.

use std::borrow::Cow;
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

/// The event as a rule of a log source with these `alternatives` reads it.
pub fn view_in<'e>(alternatives: Option<&[Alternative]>, event: &'e Event) -> Option<Cow<'e, Event>> {
    {
        let Some(alternatives) = alternatives else {
            return Some(Cow::Borrowed(event));
        };
        let alternative = alternatives.iter().find(|a| {
            a.when.iter().all(|(field, values)| {
                event
                    .get(field)
                    .is_some_and(|v| values.iter().any(|w| w.eq_ignore_ascii_case(v)))
            })
        })?;
        if alternative.fields.is_empty() {
            return Some(Cow::Borrowed(event));
        }
        let mut view = event.clone();
        for (rule_field, event_field) in &alternative.fields {
            if let Some(value) = event.get(event_field) {
                view.insert(rule_field.clone(), value.clone());
            }
        }
        Some(Cow::Owned(view))
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
        let sysmon = event(&[
            ("EventID", "1"),
            ("Channel", "Microsoft-Windows-Sysmon/Operational"),
            ("Image", "a"),
        ]);
        assert_eq!(
            view_in(routes.alternatives("sigma:windows/process_creation"), &sysmon).unwrap()["Image"],
            "a"
        );
        let security = event(&[("EventID", "4688"), ("Channel", "Security"), ("NewProcessName", "b")]);
        assert_eq!(
            view_in(routes.alternatives("sigma:windows/process_creation"), &security).unwrap()["Image"],
            "b"
        );
        let file = event(&[("EventID", "11"), ("Channel", "Microsoft-Windows-Sysmon/Operational")]);
        assert!(view_in(routes.alternatives("sigma:windows/process_creation"), &file).is_none());
        assert!(view_in(routes.alternatives("sigma:unlisted/source"), &file).is_some());
    }
}
