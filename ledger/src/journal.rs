//! [`JournaledIndex`]: a [`HashIndex`] that can remember which keys it changed, for the
//! ledger's history tables (items, payments and the reference lookups). These tables hold
//! every invoice and payment ever seen and make up most of the ledger; a checkpoint that
//! writes only what changed since the previous one costs what happened in between rather
//! than what the ledger has accumulated.
//!
//! The tables only grow: an entry is inserted or changed in place, never removed. So what
//! changed since the last checkpoint is a set of entries to upsert ([`JournaledIndex::take_changes`],
//! [`JournaledIndex::upsert`]). Reading goes through `Deref`; every change goes through a
//! method here, which is what makes the journal complete (there is no `DerefMut`).

use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::Hash;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use foldhash::fast::RandomState;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::dense::{DenseIndex, Slot};

/// Records `key` in the journal `changed`, when journaling.
fn mark_in<K, Q>(changed: &mut Option<HashSet<K, RandomState>>, key: &Q)
where
    K: Eq + Hash + Borrow<Q> + for<'q> From<&'q Q>,
    Q: Hash + Eq + ?Sized,
{
    if let Some(changed) = changed
        && !changed.contains(key)
    {
        changed.insert(K::from(key));
    }
}

/// Records `key`, a key of the table itself, in the journal `changed`, when journaling.
fn mark_owned<K: Eq + Hash + Clone>(changed: &mut Option<HashSet<K, RandomState>>, key: &K) {
    if let Some(changed) = changed
        && !changed.contains(key)
    {
        changed.insert(key.clone());
    }
}

/// A [`DenseIndex`] with an optional journal of the keys changed since it was last taken.
#[derive(Clone, Debug)]
pub(crate) struct JournaledIndex<K, V> {
    map: DenseIndex<K, V>,
    /// Keys inserted or changed since the last [`JournaledIndex::take_changes`]; `None`
    /// while not journaling (replays and training sets never checkpoint).
    changed: Option<HashSet<K, RandomState>>,
    /// Entries added by [`JournaledIndex::insert_if_absent`] since the last take, kept as
    /// added while journaling: an entry reached again is recorded in `changed` too, and
    /// only that record counts. The lookup tables that only ever gain entries (payment
    /// references, invoice numbers) are taken from here without a lookup per entry (a
    /// cache miss each in a table of a year's invoices).
    added: Vec<(K, V)>,
}

impl<K, V> Default for JournaledIndex<K, V> {
    fn default() -> Self {
        JournaledIndex {
            map: DenseIndex::default(),
            changed: None,
            added: Vec::new(),
        }
    }
}

/// Equal when the entries are; the journal is bookkeeping, not state.
impl<K: Eq + Hash, V: PartialEq> PartialEq for JournaledIndex<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.map == other.map
    }
}

impl<K: Eq + Hash, V: Eq> Eq for JournaledIndex<K, V> {}

impl<K, V> Deref for JournaledIndex<K, V> {
    type Target = DenseIndex<K, V>;

    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl<K: Eq + Hash + Clone, V> JournaledIndex<K, V> {
    /// Starts remembering changed keys (from now on; what is already here is not a change).
    pub(crate) fn start_journal(&mut self) {
        if self.changed.is_none() {
            self.changed = Some(HashSet::default());
        }
    }

    fn mark<Q>(&mut self, key: &Q)
    where
        K: Borrow<Q> + for<'q> From<&'q Q>,
        Q: Hash + Eq + ?Sized,
    {
        mark_in(&mut self.changed, key);
    }

    /// Inserts or replaces an entry.
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        mark_owned(&mut self.changed, &key);
        self.map.insert(key, value)
    }

    /// Inserts `value()` unless the key is present (the first comes first).
    pub(crate) fn insert_if_absent(&mut self, key: K, value: impl FnOnce() -> V)
    where
        V: Clone,
    {
        // One probe: the entry, not a lookup and then an insert.
        if let Slot::Vacant(slot) = self.map.slot(key) {
            let value = value();
            if self.changed.is_some() {
                self.added.push((slot.key().clone(), value.clone()));
            }
            slot.insert(value);
        }
    }

    /// An entry to change in place (journaled as changed when it exists).
    pub(crate) fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q> + for<'q> From<&'q Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.changed.is_some() && self.map.contains_key(key) {
            self.mark(key);
        }
        self.map.get_mut(key)
    }

    /// Makes room for `additional` more entries.
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.map.reserve(additional);
    }

    /// The entries changed since the last call, as they are now, in no particular order
    /// (the caller orders them: a delta keeps them in a sorted map); empties the journal
    /// (which keeps running when it was).
    pub(crate) fn take_changes(&mut self) -> Vec<(K, V)>
    where
        V: Clone,
    {
        let Some(changed) = &mut self.changed else {
            return Vec::new();
        };
        let mut changes: Vec<(K, V)> = std::mem::take(&mut self.added)
            .into_iter()
            .filter(|(k, _)| !changed.contains(k))
            .collect();
        changes.extend(changed.drain().filter_map(|k| {
            let v = self.map.get(&k)?.clone();
            Some((k, v))
        }));
        changes
    }

    /// Applies entries taken by [`JournaledIndex::take_changes`] (journaled in turn when
    /// this index journals).
    pub(crate) fn upsert(&mut self, entries: impl IntoIterator<Item = (K, V)>) {
        let entries = entries.into_iter();
        self.map.reserve(entries.size_hint().0);
        for (k, v) in entries {
            self.insert(k, v);
        }
    }
}

impl<K: Ord + Serialize, V: Serialize> Serialize for JournaledIndex<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.map.serialize(serializer)
    }
}

impl<'de, K, V> Deserialize<'de> for JournaledIndex<K, V>
where
    K: Deserialize<'de> + Eq + Hash,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(JournaledIndex {
            map: DenseIndex::deserialize(deserializer)?,
            changed: None,
            added: Vec::new(),
        })
    }
}

/// A history entry shared between the table and the deltas taken from it: taking a delta
/// copies a pointer, and the entry is copied only when it changes while a delta still
/// holds it (`DerefMut`). Serialises as the entry itself.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Shared<T>(Arc<T>);

impl<T> Shared<T> {
    pub(crate) fn new(value: T) -> Self {
        Shared(Arc::new(value))
    }
}

/// The entry to change, copied first when a delta still holds it.
impl<T: Clone> DerefMut for Shared<T> {
    fn deref_mut(&mut self) -> &mut T {
        Arc::make_mut(&mut self.0)
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Serialize> Serialize for Shared<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (*self.0).serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Shared<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Shared::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_every_key_inserted_or_reached_mutably_since_the_last_take() {
        let mut index: JournaledIndex<String, u32> = JournaledIndex::default();
        index.insert("before".into(), 1);
        index.start_journal();
        assert!(index.take_changes().is_empty(), "entries already there");
        index.insert("b".into(), 2);
        index.insert_if_absent("a".into(), || 5);
        index.insert_if_absent("b".into(), || 7);
        if let Some(v) = index.get_mut("before") {
            *v = 10;
        }
        assert!(index.get_mut("missing").is_none());
        let mut changes = index.take_changes();
        changes.sort_unstable();
        assert_eq!(
            changes,
            vec![("a".into(), 5), ("b".into(), 2), ("before".into(), 10)]
        );
        assert!(index.take_changes().is_empty(), "the journal was emptied");
        let mut copy: JournaledIndex<String, u32> = JournaledIndex::default();
        copy.upsert(vec![
            ("a".into(), 5),
            ("b".into(), 2),
            ("before".into(), 10),
        ]);
        assert_eq!(copy, index);
        // An entry already present is not replaced, nor journaled.
        index.insert_if_absent("a".into(), || 0);
        assert!(index.take_changes().is_empty());
        assert_eq!(index.get("a"), Some(&5));
        // Added, then changed before the take: taken once, as it is now.
        index.insert_if_absent("c".into(), || 1);
        if let Some(v) = index.get_mut("c") {
            *v = 3;
        }
        index.insert_if_absent("d".into(), || 4);
        let mut changes = index.take_changes();
        changes.sort_unstable();
        assert_eq!(changes, vec![("c".into(), 3), ("d".into(), 4)]);
        assert!(
            index.take_changes().is_empty(),
            "both journals were emptied"
        );
    }

    #[test]
    fn without_a_journal_nothing_is_remembered() {
        let mut index: JournaledIndex<String, u32> = JournaledIndex::default();
        index.insert("a".into(), 1);
        if let Some(v) = index.get_mut("a") {
            *v = 2;
        }
        assert!(index.take_changes().is_empty());
        assert_eq!(index.get("a"), Some(&2));
        // Added before the journal started: not a change once it has.
        index.insert_if_absent("b".into(), || 3);
        index.start_journal();
        assert!(index.take_changes().is_empty());
        assert_eq!(index.get("b"), Some(&3));
    }
}
