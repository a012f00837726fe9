//! An event as the replay reads it: its fields sorted by name, names and values
//! borrowed from the event's text where they need no unescaping. What a
//! `BTreeMap<String, String>` ([`Event`]) holds, built without a tree and, for most
//! fields, without an allocation: a replay reads millions of events and keeps almost
//! none.

use std::borrow::Cow;

use crate::pred::Event;

/// An event's fields, sorted by name, each name once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct View<'a> {
    fields: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> View<'a> {
    /// The fields of `pairs`; of a name given twice, the last value is kept (as
    /// inserting them into a map one by one keeps it).
    pub fn from_pairs(mut pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>) -> View<'a> {
        // A stable sort keeps a name's values in the order given: the last of each run
        // is the one kept.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut kept: usize = 0;
        for i in 0..pairs.len() {
            if kept > 0 && pairs[kept - 1].0 == pairs[i].0 {
                pairs.swap(kept - 1, i);
            } else {
                pairs.swap(kept, i);
                kept += 1;
            }
        }
        pairs.truncate(kept);
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

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .binary_search_by(|(k, _)| k.as_ref().cmp(name))
            .ok()
            .map(|i| self.fields[i].1.as_ref())
    }

    /// Every field, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }

    /// The fields whose names sort after `name`, in order.
    pub fn after(&self, name: &str) -> impl Iterator<Item = (&str, &str)> {
        let start = self.fields.partition_point(|(k, _)| k.as_ref() <= name);
        self.fields[start..].iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }

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
            prop_assert_eq!(view.len(), map.len());
            for (k, v) in &map {
                prop_assert_eq!(view.get(k), Some(v.as_str()));
                let after: Vec<(&str, &str)> = view.after(k).collect();
                let expected: Vec<(&str, &str)> = map
                    .range::<str, _>((std::ops::Bound::Excluded(k.as_str()), std::ops::Bound::Unbounded))
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                prop_assert_eq!(after, expected);
            }
            prop_assert_eq!(view.get("zz"), None);
            prop_assert_eq!(View::of(&map), view);
        }
    }
}
