//! An event as the replay reads it: its fields in the order they were read, names and
//! values borrowed from the event's text where they need no unescaping. What a
//! `BTreeMap<String, String>` ([`Event`]) holds, built without a tree, a sort or, for
//! most fields, an allocation: a replay reads millions of events and keeps almost
//! none. A name read twice is there twice, and every reader takes the last value, as
//! inserting the fields into a map one by one keeps it.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::pred::Event;

/// An event's fields, in the order read.
#[derive(Debug, Clone, Default)]
pub struct View<'a> {
    fields: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> View<'a> {
    /// The fields of `pairs` (of a name given twice, the last value counts).
    pub fn from_pairs(pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>) -> View<'a> {
        View { fields: pairs }
    }

    /// A view of `event`'s fields (borrowed).
    pub fn of(event: &'a Event) -> View<'a> {
        View {
            fields: event
                .iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), Cow::Borrowed(v.as_str())))
                .collect(),
        }
    }

    /// The value of `name` (the last, if read twice). Events have a few dozen fields
    /// and names mostly differ in length: a scan is cheaper than keeping them sorted.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_ref())
    }

    /// Every field as read: a name read twice comes twice (the last counts).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }

    /// The fields by name, each name once (its last value).
    pub fn sorted(&self) -> BTreeMap<&str, &str> {
        self.iter().collect()
    }

    /// How many fields were read (a name read twice counts twice).
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The fields as an [`Event`].
    pub fn to_event(&self) -> Event {
        self.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// The same view, owning its text.
    pub fn into_owned(self) -> View<'static> {
        View {
            fields: self
                .fields
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k.into_owned()), Cow::Owned(v.into_owned())))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Built from pairs, a view holds what inserting them into a map in order holds.
        #[test]
        fn a_view_is_the_map_of_its_pairs(pairs in prop::collection::vec(("[a-d]{0,2}", "[xy]{0,2}"), 0..24)) {
            let map: Event = pairs.iter().cloned().collect();
            let view = View::from_pairs(pairs.iter().map(|(k, v)| (Cow::Borrowed(k.as_str()), Cow::Borrowed(v.as_str()))).collect());
            prop_assert_eq!(view.to_event(), map.clone());
            let sorted: Vec<(&str, &str)> = view.sorted().into_iter().collect();
            let expected: Vec<(&str, &str)> = map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            prop_assert_eq!(sorted, expected);
            for (k, v) in &map {
                prop_assert_eq!(view.get(k), Some(v.as_str()));
            }
            prop_assert_eq!(view.get("zz"), None);
            prop_assert_eq!(View::of(&map).to_event(), map);
        }
    }
}
