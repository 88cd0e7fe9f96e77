//! [`HashIndex`]: a hash map for the ledger's large lookup tables (items by number,
//! references, digit cores, IBANs, accounts) that serialises exactly like an ordered map.
//!
//! With a million items an ordered map costs some twenty string comparisons and cache
//! misses per lookup; a hash map one hash and one comparison. Its iteration order is
//! arbitrary, so nothing the ledger outputs may depend on it: the ledger only looks up
//! (`get`, `get_mut`, `entry`, `insert`, `remove`), the serialised form (checkpoints) is
//! written in key order, and [`HashIndex::sorted`] gives the entries in key order where an
//! order is needed. Equality does not depend on order. Keys are hashed with foldhash (a
//! fast hash seeded per process: input cannot aim at collisions without learning the
//! seed; foldhash claims only minimal resistance to a determined attacker).

use std::collections::HashMap;
use std::hash::Hash;
use std::ops::{Deref, DerefMut};

use foldhash::fast::RandomState;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A key of the ledger's tables (invoice numbers, references, payment and debtor ids),
/// and the type of those ids in the records the ledger keeps ([`crate::OpenItem`],
/// [`crate::PaymentRecord`], [`crate::Allocation`]): held in place, without an
/// allocation, up to 24 bytes (the usual length of such ids), so a lookup compares it in
/// the table's own memory instead of following a pointer to it, and a copy allocates
/// nothing. It hashes, orders, compares with `str` and serialises as the string.
pub type Key = compact_str::CompactString;

/// A hash map that serialises in key order (the same JSON as a `BTreeMap`): for tables
/// only looked up, never walked in an order the outputs could depend on (the ledger's,
/// and the decisions' per-debtor and per-invoice state).
#[derive(Clone, Debug)]
pub struct HashIndex<K, V>(HashMap<K, V, RandomState>);

impl<K, V> Default for HashIndex<K, V> {
    fn default() -> Self {
        HashIndex(HashMap::default())
    }
}

impl<K: Eq + Hash, V: PartialEq> PartialEq for HashIndex<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<K: Eq + Hash, V: Eq> Eq for HashIndex<K, V> {}

impl<K, V> Deref for HashIndex<K, V> {
    type Target = HashMap<K, V, RandomState>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<K, V> DerefMut for HashIndex<K, V> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<K: Ord, V> HashIndex<K, V> {
    /// The entries in key order.
    pub fn sorted(&self) -> Vec<(&K, &V)> {
        in_key_order(self.0.iter())
    }
}

/// `entries` in key order (how the ledger's maps are written, whatever holds them).
pub(crate) fn in_key_order<'a, K: Ord, V>(
    entries: impl Iterator<Item = (&'a K, &'a V)>,
) -> Vec<(&'a K, &'a V)> {
    let mut entries: Vec<(&K, &V)> = entries.collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    entries
}

impl<K: Ord + Serialize, V: Serialize> Serialize for HashIndex<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.sorted())
    }
}

impl<'de, K, V> Deserialize<'de> for HashIndex<K, V>
where
    K: Deserialize<'de> + Eq + Hash,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        HashMap::<K, V, RandomState>::deserialize(deserializer).map(HashIndex)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn serialises_like_an_ordered_map_and_round_trips() {
        let mut index: HashIndex<String, u32> = HashIndex::default();
        let mut ordered = BTreeMap::new();
        for i in (0..200_u32).rev() {
            index.insert(format!("k{i}"), i);
            ordered.insert(format!("k{i}"), i);
        }
        let json = serde_json::to_string(&index).unwrap_or_default();
        assert_eq!(json, serde_json::to_string(&ordered).unwrap_or_default());
        let back: Result<HashIndex<String, u32>, _> = serde_json::from_str(&json);
        assert_eq!(back.ok(), Some(index));
    }

    #[test]
    fn keys_up_to_24_bytes_are_held_in_place_and_longer_ones_work_the_same() {
        let short = "INV-2026-000000000000123"; // 24 bytes
        let long = "RF18 5390 0754 7034 0000 0001"; // 29 bytes
        assert!(!Key::from(short).is_heap_allocated());
        assert!(Key::from(long).is_heap_allocated());
        let mut index: HashIndex<Key, u32> = HashIndex::default();
        let mut ordered = BTreeMap::new();
        for (i, k) in [long, short, "D000001"].into_iter().enumerate() {
            index.insert(Key::from(k), i as u32);
            ordered.insert(k.to_owned(), i as u32);
        }
        // Looked up by the string itself, written and read as strings are.
        assert_eq!(index.get(long), Some(&0));
        assert_eq!(index.get(short), Some(&1));
        assert_eq!(index.get("D00000"), None);
        let json = serde_json::to_string(&index).unwrap_or_default();
        assert_eq!(json, serde_json::to_string(&ordered).unwrap_or_default());
        let back: Result<HashIndex<Key, u32>, _> = serde_json::from_str(&json);
        assert_eq!(back.ok(), Some(index));
    }
}
