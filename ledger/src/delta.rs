//! [`LedgerDelta`]: the ledger's state as a checkpoint after the first writes it — the
//! history tables' entries changed since the previous checkpoint, and everything else in
//! full.
//!
//! Most of a ledger is history: every invoice and payment ever seen, with the lookups
//! from references and normalised numbers. It grows with time, while the rest (accounts,
//! promises, the due-date index, totals, the KPIs' day-end snapshots) grows with the
//! portfolio. A delta costs the events since the previous checkpoint plus the rest; a
//! state is a full ledger followed by deltas in order ([`LedgerImage::apply_deltas`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::account::DebtorAccount;
use crate::config::LedgerConfig;
use crate::ibans::IbanDirectory;
use crate::index::{HashIndex, Key};
use crate::items::OpenItem;
use crate::journal::Shared;
use crate::kpis::KpiHistory;
use crate::ledger::{Ledger, LedgerImage};
use crate::overdue::DueIndex;
use crate::payments::PaymentRecord;
use crate::promises::Promises;
use crate::totals::LedgerTotals;

/// The ledger's state since the previous checkpoint; see the module documentation.
/// [`Ledger::take_delta`] makes one, [`LedgerImage::apply_deltas`] applies them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LedgerDelta {
    /// Everything but the history, in full.
    core: LedgerCore,
    /// History entries inserted or changed (the tables never lose one), as they are now.
    items: Changes<Key, Shared<OpenItem>>,
    by_reference: Changes<Key, Key>,
    by_number: Changes<Key, Key>,
    payments: Changes<Key, Shared<PaymentRecord>>,
}

/// History entries of a delta, in the order the journal gave them: ordered by key only
/// when written (a map in key order, as a sorted map would be), which the task writing
/// the checkpoint does, not the stage loop that takes the delta.
#[derive(Clone, Debug)]
struct Changes<K, V>(Vec<(K, V)>);

impl<K, V> Changes<K, V> {
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Equal when they hold the same entries, in whatever order.
impl<K: Ord, V: PartialEq> PartialEq for Changes<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.sorted() == other.sorted()
    }
}

impl<K: Ord, V> Changes<K, V> {
    fn sorted(&self) -> Vec<(&K, &V)> {
        crate::index::in_key_order(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<K: Ord + Serialize, V: Serialize> Serialize for Changes<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.sorted())
    }
}

impl<'de, K, V> Deserialize<'de> for Changes<K, V>
where
    K: Ord + Deserialize<'de>,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<K, V>::deserialize(deserializer)?;
        Ok(Changes(map.into_iter().collect()))
    }
}

/// The serialised ledger without its history tables: every field of [`LedgerImage`] but
/// those. A field added there and not here is lost by deltas; the
/// property test comparing a restored chain with the live ledger fails on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct LedgerCore {
    config: LedgerConfig,
    clock: Option<DateTime<Utc>>,
    accounts: HashIndex<Key, Shared<DebtorAccount>>,
    ibans: IbanDirectory,
    reversals: BTreeSet<String>,
    credit_notes: BTreeSet<String>,
    promises: Promises,
    due_index: DueIndex,
    promise_index: BTreeSet<(NaiveDate, String)>,
    totals: LedgerTotals,
    kpi_history: KpiHistory,
}

impl LedgerDelta {
    /// History entries it carries (items, payments and reference lookups together).
    pub fn history_entries(&self) -> usize {
        self.items.len() + self.by_reference.len() + self.by_number.len() + self.payments.len()
    }
}

impl Ledger {
    /// Starts remembering which history entries change, for [`Ledger::take_delta`]. What
    /// the ledger holds now counts as written; call it right after the ledger was loaded
    /// from (or written to) a checkpoint.
    pub fn start_journal(&mut self) {
        self.items.start_journal();
        self.by_reference.start_journal();
        self.by_number.start_journal();
        self.payments.start_journal();
    }

    /// The state since the last call (or since [`Ledger::start_journal`]): the history
    /// entries changed and everything else copied. Costs the changed entries plus the
    /// accounts, promises and indices — not the history. Without a journal the delta
    /// carries no history, so applying it to an older state loses what changed.
    pub fn take_delta(&mut self) -> LedgerDelta {
        LedgerDelta {
            core: LedgerCore {
                config: self.config.clone(),
                clock: self.clock,
                accounts: self.accounts.clone(),
                ibans: self.ibans.clone(),
                reversals: self.reversals.clone(),
                credit_notes: self.credit_notes.clone(),
                promises: self.promises.clone(),
                due_index: self.due_index.clone(),
                promise_index: self.promise_index.clone(),
                totals: self.totals.clone(),
                kpi_history: self.kpi_history.clone(),
            },
            items: Changes(self.items.take_changes()),
            by_reference: Changes(self.by_reference.take_changes()),
            by_number: Changes(self.by_number.take_changes()),
            payments: Changes(self.payments.take_changes()),
        }
    }
}

impl LedgerImage {
    /// Brings the image to the state of the last of `deltas`, taken in order from a ledger
    /// in this image's state: their history entries go into the tables and the last one's
    /// core replaces this one's. The indices are rebuilt when the image becomes a
    /// [`Ledger`].
    pub fn apply_deltas(&mut self, deltas: impl IntoIterator<Item = LedgerDelta>) {
        let mut last = None;
        for delta in deltas {
            self.items.upsert(delta.items.0);
            self.by_reference.upsert(delta.by_reference.0);
            self.by_number.upsert(delta.by_number.0);
            self.payments.upsert(delta.payments.0);
            last = Some(delta.core);
        }
        let Some(core) = last else {
            return;
        };
        let LedgerCore {
            config,
            clock,
            accounts,
            ibans,
            reversals,
            credit_notes,
            promises,
            due_index,
            promise_index,
            totals,
            kpi_history,
        } = core;
        self.config = config;
        self.clock = clock;
        self.accounts = accounts;
        self.ibans = ibans;
        self.reversals = reversals;
        self.credit_notes = credit_notes;
        self.promises = promises;
        self.due_index = due_index;
        self.promise_index = promise_index;
        self.totals = totals;
        self.kpi_history = kpi_history;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn history_entries_are_written_in_key_order_whatever_order_they_were_taken_in() {
        let entries = [("INV-3", "c"), ("INV-1", "a"), ("INV-2", "b")];
        let changes = |order: &[usize]| {
            Changes(
                order
                    .iter()
                    .map(|&i| (entries[i].0.to_owned(), entries[i].1.to_owned()))
                    .collect::<Vec<_>>(),
            )
        };
        let (one, other) = (changes(&[0, 1, 2]), changes(&[2, 0, 1]));
        let json = serde_json::to_string(&one).unwrap();
        assert_eq!(json, r#"{"INV-1":"a","INV-2":"b","INV-3":"c"}"#);
        assert_eq!(serde_json::to_string(&other).unwrap(), json);
        assert_eq!(one, other);
        assert_ne!(one, changes(&[0, 1]));
        let read: Changes<String, String> = serde_json::from_str(&json).unwrap();
        assert_eq!(read, one);
    }
}
