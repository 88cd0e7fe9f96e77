//! Debtor slots: every debtor the feature stage has seen gets a dense number, the row of
//! its state and the `debtor` column of the facts table.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Debtor ids and their slots, both ways.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DebtorSlots {
    ids: Vec<String>,
    index: HashMap<String, u32, RandomState>,
}

impl DebtorSlots {
    /// The slot of a debtor, giving it one if it has none.
    pub fn slot(&mut self, debtor_id: &str) -> u32 {
        if let Some(&s) = self.index.get(debtor_id) {
            return s;
        }
        let s = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        self.ids.push(debtor_id.to_owned());
        self.index.insert(debtor_id.to_owned(), s);
        s
    }

    /// The slot of a known debtor.
    pub fn get(&self, debtor_id: &str) -> Option<u32> {
        self.index.get(debtor_id).copied()
    }

    /// The id of a slot.
    pub fn id(&self, slot: u32) -> &str {
        self.ids.get(slot as usize).map_or("", String::as_str)
    }

    /// Debtors known.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no debtor is known.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Heap bytes held (ids twice: the list and the index).
    pub fn heap_bytes(&self) -> usize {
        let strings: usize = self.ids.iter().map(|s| s.capacity()).sum();
        self.ids.capacity() * std::mem::size_of::<String>()
            + 2 * strings
            + self.index.capacity() * (std::mem::size_of::<String>() + 4 + 1)
    }
}

impl Serialize for DebtorSlots {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.ids.serialize(s)
    }
}

impl<'de> Deserialize<'de> for DebtorSlots {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let ids = Vec::<String>::deserialize(d)?;
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
