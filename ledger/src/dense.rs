//! [`DenseIndex`]: a hash index for the ledger's history tables (items, payments, the
//! reference lookups and the digit cores), which hold every invoice and payment seen and
//! only ever grow. The entries sit side by side in a list, in the order they came; the
//! hash table holds 4-byte positions into it.
//!
//! A hash map keeps its entries in its own slots, and a table sized for n entries has
//! between n and about 2.3 n slots (a power of two at most 7/8 full): for a year of
//! invoices, keys of 24 bytes and values of 8 to 32, half of the memory of these tables
//! was empty slots (1.85 GB of hash maps over 4.4 million invoices and 3.7 million
//! payments, memory that every process building them has to fault in and zero). Here an
//! empty slot costs 5 bytes, and the entries take what they hold.
//!
//! The list grows in segments, each twice the one before, and never moves what it holds:
//! a table of millions of entries gains room without a pause to copy them (a single list
//! would copy them all at every doubling, and have the kernel zero twice their memory).
//!
//! An entry is never removed. Iteration follows arrival order, which no output depends on:
//! the tables serialise in key order (as [`crate::index::HashIndex`] does).

use std::borrow::Borrow;
use std::fmt;
use std::hash::{BuildHasher, Hash};

use foldhash::fast::RandomState;
use hashbrown::HashTable;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::index::in_key_order;

/// A grow-only hash index: entries in arrival order, found through a table of positions.
#[derive(Clone)]
pub struct DenseIndex<K, V> {
    /// Positions in `entries`, hashed by their entry's key.
    table: HashTable<u32>,
    entries: Segments<(K, V)>,
    hasher: RandomState,
}

/// The first segment holds 2^`FIRST_SEGMENT_BITS` entries; each next one twice as many as
/// the one before.
const FIRST_SEGMENT_BITS: u32 = 4;

/// A list in segments of doubling size: entry `n` stays where it was put.
struct Segments<T> {
    segments: Vec<Vec<T>>,
    len: usize,
}

impl<T> Segments<T> {
    const fn new() -> Self {
        Segments {
            segments: Vec::new(),
            len: 0,
        }
    }

    /// The segment of entry `n` and its place there.
    fn place(n: usize) -> (usize, usize) {
        let shifted = n + (1 << FIRST_SEGMENT_BITS);
        let high = usize::BITS - 1 - shifted.leading_zeros();
        let segment = (high - FIRST_SEGMENT_BITS) as usize;
        (segment, shifted - (1 << high))
    }

    fn get(&self, n: usize) -> &T {
        let (segment, at) = Self::place(n);
        &self.segments[segment][at]
    }

    fn get_mut(&mut self, n: usize) -> &mut T {
        let (segment, at) = Self::place(n);
        &mut self.segments[segment][at]
    }

    fn push(&mut self, value: T) {
        let (segment, _) = Self::place(self.len);
        if segment == self.segments.len() {
            let size = 1 << (segment as u32 + FIRST_SEGMENT_BITS);
            self.segments.push(Vec::with_capacity(size));
        }
        self.segments[segment].push(value);
        self.len += 1;
    }

    fn iter(&self) -> impl ExactSizeIterator<Item = &T> + '_ {
        Counted {
            inner: self.segments.iter().flatten(),
            left: self.len,
        }
    }
}

/// A copy keeps each segment's room, so that it grows as the original does.
impl<T: Clone> Clone for Segments<T> {
    fn clone(&self) -> Self {
        let segments = self
            .segments
            .iter()
            .map(|s| {
                let mut copy = Vec::with_capacity(s.capacity());
                copy.extend(s.iter().cloned());
                copy
            })
            .collect();
        Segments {
            segments,
            len: self.len,
        }
    }
}

/// An iterator that knows how many items it has left (a flattened list of segments does
/// not): sorting a table of millions for a checkpoint then collects into one allocation.
struct Counted<I> {
    inner: I,
    left: usize,
}

impl<I: Iterator> Iterator for Counted<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        let next = self.inner.next()?;
        self.left -= 1;
        Some(next)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<I: Iterator> ExactSizeIterator for Counted<I> {}

impl<K, V> Default for DenseIndex<K, V> {
    fn default() -> Self {
        DenseIndex {
            table: HashTable::new(),
            entries: Segments::new(),
            hasher: RandomState::default(),
        }
    }
}

/// The position of entry number `n`. The table holds 4-byte positions: a ledger of more
/// than four billion invoices or payments is beyond what one process holds in memory.
fn position(n: usize) -> u32 {
    u32::try_from(n).expect("a ledger table of more than 4,294,967,295 entries")
}

fn at(n: u32) -> usize {
    n as usize
}

impl<K, V> DenseIndex<K, V> {
    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len
    }

    /// The entries, in arrival order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&K, &V)> + '_ {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The values, in arrival order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &V> + '_ {
        self.entries.iter().map(|(_, v)| v)
    }

    /// The entries in key order.
    pub fn sorted(&self) -> Vec<(&K, &V)>
    where
        K: Ord,
    {
        in_key_order(self.iter())
    }
}

impl<K: Hash + Eq, V> DenseIndex<K, V> {
    /// Makes room in the table for `additional` more entries (the list grows by segments
    /// as they come).
    pub fn reserve(&mut self, additional: usize) {
        let (entries, hasher) = (&self.entries, &self.hasher);
        self.table
            .reserve(additional, |&i| hasher.hash_one(&entries.get(at(i)).0));
    }

    fn find<Q>(&self, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        let entries = &self.entries;
        self.table
            .find(hash, |&i| entries.get(at(i)).0.borrow() == key)
            .map(|&i| at(i))
    }

    /// The value of `key`.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.find(key).map(|i| &self.entries.get(i).1)
    }

    /// The value of `key`, to change in place.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.find(key).map(|i| &mut self.entries.get_mut(i).1)
    }

    /// Whether `key` has an entry.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.find(key).is_some()
    }

    /// Sets the value of `key`; returns the one it replaces.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.slot(key) {
            Slot::Occupied(entry) => Some(std::mem::replace(entry, value)),
            Slot::Vacant(vacant) => {
                vacant.insert(value);
                None
            }
        }
    }

    /// The entry of `key`, found or to fill: one probe of the table either way.
    pub fn slot(&mut self, key: K) -> Slot<'_, K, V> {
        let hash = self.hasher.hash_one(&key);
        let entries = &self.entries;
        let hasher = &self.hasher;
        match self.table.entry(
            hash,
            |&i| entries.get(at(i)).0 == key,
            |&i| hasher.hash_one(&entries.get(at(i)).0),
        ) {
            hashbrown::hash_table::Entry::Occupied(found) => {
                let i = at(*found.get());
                Slot::Occupied(&mut self.entries.get_mut(i).1)
            }
            hashbrown::hash_table::Entry::Vacant(vacant) => Slot::Vacant(VacantSlot {
                table: vacant,
                entries: &mut self.entries,
                key,
            }),
        }
    }
}

/// An entry of a [`DenseIndex`], found or to fill.
pub enum Slot<'a, K, V> {
    /// The key has a value.
    Occupied(&'a mut V),
    /// The key has none yet.
    Vacant(VacantSlot<'a, K, V>),
}

/// The place of a key that has no value yet.
pub struct VacantSlot<'a, K, V> {
    table: hashbrown::hash_table::VacantEntry<'a, u32>,
    entries: &'a mut Segments<(K, V)>,
    key: K,
}

impl<K, V> VacantSlot<'_, K, V> {
    /// The key.
    pub fn key(&self) -> &K {
        &self.key
    }

    /// Gives the key `value`.
    pub fn insert(self, value: V) {
        self.table.insert(position(self.entries.len));
        self.entries.push((self.key, value));
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for DenseIndex<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Equal when they hold the same entries, in whatever order they came.
impl<K: Hash + Eq, V: PartialEq> PartialEq for DenseIndex<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl<K: Hash + Eq, V: Eq> Eq for DenseIndex<K, V> {}

impl<K: Hash + Eq, V> FromIterator<(K, V)> for DenseIndex<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
        let mut index = DenseIndex::default();
        index.extend(entries);
        index
    }
}

impl<K: Hash + Eq, V> Extend<(K, V)> for DenseIndex<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, entries: I) {
        let entries = entries.into_iter();
        self.reserve(entries.size_hint().0);
        for (k, v) in entries {
            self.insert(k, v);
        }
    }
}

/// A map in key order (the same JSON as a `BTreeMap` or a [`crate::index::HashIndex`]).
impl<K: Ord + Serialize, V: Serialize> Serialize for DenseIndex<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.sorted())
    }
}

impl<'de, K, V> Deserialize<'de> for DenseIndex<K, V>
where
    K: Deserialize<'de> + Hash + Eq,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<K, V>(std::marker::PhantomData<(K, V)>);
        impl<'de, K, V> Visitor<'de> for Entries<K, V>
        where
            K: Deserialize<'de> + Hash + Eq,
            V: Deserialize<'de>,
        {
            type Value = DenseIndex<K, V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut index = DenseIndex::default();
                // A length the input announces is room made, not trusted beyond a bound.
                index.reserve(map.size_hint().unwrap_or(0).min(1 << 20));
                while let Some((k, v)) = map.next_entry()? {
                    index.insert(k, v);
                }
                Ok(index)
            }
        }
        deserializer.deserialize_map(Entries(std::marker::PhantomData))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::index::Key;

    #[test]
    fn entries_are_found_replaced_and_kept_in_arrival_order() {
        let mut index: DenseIndex<Key, u32> = DenseIndex::default();
        for (n, k) in ["c", "a", "b"].into_iter().enumerate() {
            assert_eq!(index.insert(Key::from(k), n as u32), None);
        }
        assert_eq!(index.insert(Key::from("a"), 10), Some(1), "replaced");
        assert_eq!(index.len(), 3);
        assert_eq!(index.get("a"), Some(&10));
        assert_eq!(index.get("b"), Some(&2));
        assert!(index.get("d").is_none());
        assert!(index.contains_key("c"));
        if let Some(v) = index.get_mut("c") {
            *v += 5;
        }
        assert_eq!(
            index
                .iter()
                .map(|(k, v)| (k.as_str(), *v))
                .collect::<Vec<_>>(),
            vec![("c", 5), ("a", 10), ("b", 2)]
        );
    }

    #[test]
    fn segments_place_each_entry_once_and_never_move_it() {
        let place = Segments::<u32>::place;
        assert_eq!(place(0), (0, 0));
        assert_eq!(place(15), (0, 15));
        assert_eq!(place(16), (1, 0));
        assert_eq!(place(47), (1, 31));
        assert_eq!(place(48), (2, 0));
        let mut seen = std::collections::HashSet::new();
        assert!(
            (0..100_000).all(|n| seen.insert(place(n))),
            "two entries in one place"
        );
        let mut list = Segments::new();
        for n in 0..1_000_u32 {
            list.push(n);
        }
        let first: *const u32 = list.get(0);
        for n in 1_000..5_000 {
            list.push(n);
        }
        assert_eq!(list.get(0) as *const u32, first, "the first entry moved");
        assert!(list.iter().copied().eq(0..5_000));
        assert_eq!(list.iter().len(), 5_000);
        let mut copy = list.clone();
        let rooms = |l: &Segments<u32>| l.segments.iter().map(Vec::capacity).collect::<Vec<_>>();
        assert_eq!(
            rooms(&copy),
            rooms(&list),
            "a copy keeps each segment's room"
        );
        copy.push(5_000);
        *copy.get_mut(3) = 30;
        assert_eq!(
            (copy.len, *copy.get(5_000), *copy.get(3)),
            (5_001, 5_000, 30)
        );
        assert_eq!((list.len, *list.get(3)), (5_000, 3));
    }

    #[test]
    fn a_vacant_slot_fills_once_and_an_occupied_one_changes_in_place() {
        let mut index: DenseIndex<Key, Vec<u32>> = DenseIndex::default();
        for (k, v) in [("x", 1), ("y", 2), ("x", 3)] {
            match index.slot(Key::from(k)) {
                Slot::Occupied(values) => values.push(v),
                Slot::Vacant(slot) => {
                    assert_eq!(slot.key(), k);
                    slot.insert(vec![v]);
                }
            }
        }
        assert_eq!(index.get("x"), Some(&vec![1, 3]));
        assert_eq!(index.get("y"), Some(&vec![2]));
    }

    #[test]
    fn many_entries_survive_the_table_growing_with_and_without_room_made() {
        let mut grown: DenseIndex<Key, usize> = DenseIndex::default();
        let mut reserved: DenseIndex<Key, usize> = DenseIndex::default();
        reserved.reserve(10_000);
        for n in 0..10_000 {
            grown.insert(Key::from(format!("INV-{n:07}")), n);
            reserved.insert(Key::from(format!("INV-{n:07}")), n);
        }
        for n in (0..10_000).step_by(7) {
            let key = format!("INV-{n:07}");
            assert_eq!(grown.get(key.as_str()), Some(&n), "{key}");
            assert_eq!(reserved.get(key.as_str()), Some(&n), "{key}");
        }
        assert!(grown.get("INV-0010000").is_none());
        assert_eq!(grown, reserved);
    }

    #[test]
    fn equality_ignores_arrival_order_but_not_values() {
        let a: DenseIndex<Key, u32> = [("a".into(), 1), ("b".into(), 2)].into_iter().collect();
        let b: DenseIndex<Key, u32> = [("b".into(), 2), ("a".into(), 1)].into_iter().collect();
        let c: DenseIndex<Key, u32> = [("b".into(), 3), ("a".into(), 1)].into_iter().collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, DenseIndex::default());
    }

    #[test]
    fn serialises_in_key_order_as_a_hash_index_does_and_reads_back() {
        let mut dense: DenseIndex<Key, u32> = DenseIndex::default();
        let mut hashed: crate::index::HashIndex<Key, u32> = crate::index::HashIndex::default();
        for (k, v) in [("m", 1), ("b", 2), ("z", 3), ("a", 4)] {
            dense.insert(Key::from(k), v);
            hashed.insert(Key::from(k), v);
        }
        let json = serde_json::to_string(&dense).unwrap();
        assert_eq!(json, r#"{"a":4,"b":2,"m":1,"z":3}"#);
        assert_eq!(json, serde_json::to_string(&hashed).unwrap());
        let back: DenseIndex<Key, u32> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, dense);
        assert!(serde_json::from_str::<DenseIndex<Key, u32>>("[1]").is_err());
    }
}
