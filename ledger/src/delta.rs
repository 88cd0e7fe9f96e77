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
use serde::{Deserialize, Serialize};

use crate::account::DebtorAccount;
use crate::config::LedgerConfig;
use crate::ibans::IbanDirectory;
use crate::index::HashIndex;
use crate::items::OpenItem;
use crate::journal::Shared;
use crate::kpis::KpiHistory;
use crate::ledger::{Ledger, LedgerImage};
use crate::overdue::DueIndex;
use crate::payments::PaymentRecord;
use crate::promises::Promise;
use crate::totals::LedgerTotals;

/// The ledger's state since the previous checkpoint; see the module documentation.
/// [`Ledger::take_delta`] makes one, [`LedgerImage::apply_deltas`] applies them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LedgerDelta {
    /// Everything but the history, in full.
    core: LedgerCore,
    /// History entries inserted or changed (the tables never lose one), as they are now.
    items: BTreeMap<String, Shared<OpenItem>>,
    by_reference: BTreeMap<String, String>,
    by_number: BTreeMap<String, String>,
    payments: BTreeMap<String, Shared<PaymentRecord>>,
}

/// The serialised ledger without its history tables: every field of [`LedgerImage`] but
/// those. A field added there and not here is lost by deltas; the
/// property test comparing a restored chain with the live ledger fails on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct LedgerCore {
    config: LedgerConfig,
    clock: Option<DateTime<Utc>>,
    accounts: HashIndex<String, DebtorAccount>,
    ibans: IbanDirectory,
    reversals: BTreeSet<String>,
    credit_notes: BTreeSet<String>,
    promises: BTreeMap<String, Promise>,
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
            items: self.items.take_changes().into_iter().collect(),
            by_reference: self.by_reference.take_changes().into_iter().collect(),
            by_number: self.by_number.take_changes().into_iter().collect(),
            payments: self.payments.take_changes().into_iter().collect(),
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
            self.items.upsert(delta.items);
            self.by_reference.upsert(delta.by_reference);
            self.by_number.upsert(delta.by_number);
            self.payments.upsert(delta.payments);
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
