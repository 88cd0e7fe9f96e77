//! Debtor slots: every debtor the feature stage has seen gets a dense number, the row of
//! its state and the `debtor` column of the facts table.

use std::collections::HashMap;

use compact_str::CompactString;
use foldhash::fast::RandomState;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Debtor ids and their slots, both ways. Ids are held in place up to 24 bytes (the
/// usual length of a debtor id): a lookup compares the key in the table's own memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DebtorSlots {
    ids: Vec<CompactString>,
    index: HashMap<CompactString, u32, RandomState>,
}

impl DebtorSlots {
    /// The slot of a debtor, giving it one if it has none.
    pub fn slot(&mut self, debtor_id: &str) -> u32 {
        if let Some(&s) = self.index.get(debtor_id) {
            return s;
        }
        let s = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        let id = CompactString::from(debtor_id);
        self.ids.push(id.clone());
        self.index.insert(id, s);
        s
    }

    /// The slot of a known debtor.
    pub fn get(&self, debtor_id: &str) -> Option<u32> {
        self.index.get(debtor_id).copied()
    }

    /// The id of a slot.
    pub fn id(&self, slot: u32) -> &str {
        self.ids
            .get(slot as usize)
            .map_or("", CompactString::as_str)
    }

    /// Debtors known.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no debtor is known.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Heap bytes held (ids longer than fits in place twice: the list and the index).
    pub fn heap_bytes(&self) -> usize {
        let spilled: usize = self
            .ids
            .iter()
            .filter(|s| s.is_heap_allocated())
            .map(|s| s.capacity())
            .sum();
        self.ids.capacity() * std::mem::size_of::<CompactString>()
            + 2 * spilled
            + self.index.capacity() * (std::mem::size_of::<CompactString>() + 4 + 1)
    }
}

impl Serialize for DebtorSlots {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.ids.serialize(s)
    }
}

impl<'de> Deserialize<'de> for DebtorSlots {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let ids = Vec::<CompactString>::deserialize(d)?;
        let mut index = HashMap::with_capacity_and_hasher(ids.len(), RandomState::default());
        for (i, id) in ids.iter().enumerate() {
            let slot = u32::try_from(i).map_err(serde::de::Error::custom)?;
            if index.insert(id.clone(), slot).is_some() {
                return Err(serde::de::Error::custom(format!(
                    "debtor `{id}` listed twice"
                )));
            }
        }
        Ok(DebtorSlots { ids, index })
    }
}
