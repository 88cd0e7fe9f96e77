//! The [`Ledger`]: state, the entry points (`apply`, `advance_to`) and the one place where
//! an item's open amount changes, which keeps every balance and index in step.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use events::{Currency, Envelope, InputEvent};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::account::DebtorAccount;
use crate::aging::{AgingBuckets, days_past_due};
use crate::config::LedgerConfig;
use crate::dense::{DenseIndex, Slot};
use crate::effects::LedgerEffect;
use crate::ibans::IbanDirectory;
use crate::index::{HashIndex, Key};
use crate::items::OpenItem;
use crate::journal::{JournaledIndex, Shared};
use crate::kpis::{KpiHistory, KpiIndex};
use crate::names::NameDirectory;
use crate::open_amounts::OpenAmountIndex;
use crate::overdue::DueIndex;
use crate::payments::PaymentRecord;
use crate::promises::{Promise, Promises};
use crate::remittance::digit_core_key;
use crate::reversal::EndToEndIndex;
use crate::standing::Standing;
use crate::totals::LedgerTotals;

/// The accounts-receivable sub-ledger. Deterministic: the same calls give the same state
/// and effects; what it outputs never depends on the order of a hash map (the large
/// lookup tables are hash indexes, serialised in key order; the history tables keep their
/// entries in arrival order beside a table of positions, a `DenseIndex`). The state
/// serialises (checkpoints); indices that follow from it are rebuilt on loading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "LedgerImage")]
pub struct Ledger {
    pub(crate) config: LedgerConfig,
    pub(crate) clock: Option<DateTime<Utc>>,
    pub(crate) accounts: HashIndex<Key, Shared<DebtorAccount>>,
    /// Every item, open or settled, by invoice number (one lookup, whoever the debtor).
    /// This and the other journaled tables are the ledger's history: see `delta`.
    pub(crate) items: JournaledIndex<Key, Shared<OpenItem>>,
    /// Normalised payment reference → invoice number.
    pub(crate) by_reference: JournaledIndex<Key, Key>,
    /// Normalised invoice number → invoice number.
    pub(crate) by_number: JournaledIndex<Key, Key>,
    /// Digit core of an invoice number (its digits without leading zeros) → invoice
    /// numbers in order, for numbers written loosely or mistyped. Rebuilt on loading.
    #[serde(skip_serializing)]
    pub(crate) by_digits: DenseIndex<Key, DigitNumbers>,
    /// Open items by amount (candidates of unmatched payments). Rebuilt on loading.
    #[serde(skip_serializing)]
    pub(crate) open_amounts: OpenAmountIndex,
    pub(crate) ibans: IbanDirectory,
    /// Distinctive debtor names (payer identification when the IBAN is unknown). Rebuilt
    /// on loading.
    #[serde(skip_serializing)]
    pub(crate) names: NameDirectory,
    /// End-to-end id → payment id (reversals from bank statements name the original so).
    /// Rebuilt on loading.
    #[serde(skip_serializing)]
    pub(crate) end_to_end: EndToEndIndex,
    /// Payments by id (boxed: the table stays small while records accumulate). A hash
    /// index: a tree of millions of ids costs a cache miss per key compared on every
    /// payment; serialised in id order all the same.
    pub(crate) payments: JournaledIndex<Key, Shared<PaymentRecord>>,
    /// Payment ids of reversals already handled (known or not).
    pub(crate) reversals: BTreeSet<String>,
    pub(crate) credit_notes: BTreeSet<String>,
    pub(crate) promises: Promises,
    /// Open items not yet overdue, by (due date, invoice number). Entries of items settled
    /// since stay until their date comes (the sweep skips them): settling costs no
    /// search in this large set.
    pub(crate) due_index: DueIndex,
    /// Open promises by (promised date, promise id).
    pub(crate) promise_index: BTreeSet<(NaiveDate, String)>,
    pub(crate) totals: LedgerTotals,
    /// Day-end snapshots for the KPIs that look back over a window.
    pub(crate) kpi_history: KpiHistory,
    /// Open amounts by due date, overdue total and overdue debtors, for the KPIs. Rebuilt
    /// on loading (from the items and `kpi_history`).
    #[serde(skip_serializing)]
    pub(crate) kpi_index: KpiIndex,
    /// Debtors whose balances changed during the current call (empty between calls).
    #[serde(skip_serializing)]
    pub(crate) touched: BTreeSet<Key>,
}

impl Ledger {
    /// An empty ledger without a clock.
    pub fn new(config: LedgerConfig) -> Ledger {
        Ledger::from(LedgerImage::new(config))
    }

    /// Time passes: the event-time clock moves to `now` (never backwards; an earlier `now`
    /// changes nothing). Returns the effects of items turning overdue, promises broken,
    /// exposure changes and the standings that changed. Costs O(log n + k) for k items and
    /// promises that fall due; when the date changes, also a day-end snapshot for the
    /// KPIs (O(debtors whose overdue state changed that day)).
    pub fn advance_to(&mut self, now: DateTime<Utc>) -> Vec<LedgerEffect> {
        if self.clock.is_some_and(|c| now < c) {
            return Vec::new();
        }
        if let Some(previous) = self.clock {
            // The UTC date (`naive_utc`: a field read, unlike `date_naive`).
            let (day, today) = (previous.naive_utc().date(), now.naive_utc().date());
            if today > day {
                self.record_day_end(day, today);
            }
        }
        self.clock = Some(now);
        let mut effects = Vec::new();
        self.sweep_timers(&mut effects);
        self.finish(&mut effects);
        effects
    }

    /// Applies one validated input event and returns what changed. Does not move the
    /// clock (call [`Ledger::advance_to`] with the watermark first); items that are already
    /// past due on the current clock (an old invoice, a re-opened item) turn overdue within
    /// this call.
    pub fn apply(&mut self, event: &Envelope) -> Vec<LedgerEffect> {
        let mut effects = Vec::new();
        match &event.event {
            InputEvent::DebtorUpdated(e) => self.update_debtor(e, &mut effects),
            InputEvent::InvoiceIssued(e) => self.issue_invoice(e, &mut effects),
            InputEvent::PaymentReceived(e) => self.receive_payment(e, &mut effects),
            InputEvent::PaymentReversed(e) => self.reverse_payment(e, &mut effects),
            InputEvent::CreditNoteIssued(e) => self.issue_credit_note(e, &mut effects),
            InputEvent::DisputeOpened(e) => self.open_dispute(e, &mut effects),
            InputEvent::DisputeResolved(e) => self.resolve_dispute(e, &mut effects),
            InputEvent::PromiseToPay(e) => self.record_promise(e, event.event_time, &mut effects),
            InputEvent::BureauRating(e) => self.record_rating(e, event.event_time, &mut effects),
            InputEvent::LimitOverride(e) => self.override_limit(e, &mut effects),
            InputEvent::ClockTick(_)
            | InputEvent::ModelActivated(_)
            | InputEvent::StrategyActivated(_)
            | InputEvent::TaskClosed(_) => {}
        }
        self.sweep_timers(&mut effects);
        self.finish(&mut effects);
        effects
    }

    /// Makes room for `invoices` more items (their tables grow without moving what they
    /// hold): for a caller that knows how many invoices are coming, such as a replay of
    /// an archive. Changes nothing else.
    pub fn reserve_invoices(&mut self, invoices: usize) {
        self.items.reserve(invoices);
        self.by_number.reserve(invoices);
        self.by_reference.reserve(invoices);
        self.by_digits.reserve(invoices);
    }

    /// Makes room for `payments` more payments, as [`Ledger::reserve_invoices`] does for
    /// invoices.
    pub fn reserve_payments(&mut self, payments: usize) {
        self.payments.reserve(payments);
    }

    /// A debtor's balances, for score updates.
    pub fn standing(&self, debtor_id: &str) -> Option<Standing> {
        let account = self.accounts.get(debtor_id)?;
        // Items turn overdue in due-date order and the clock never goes back, so the
        // oldest open item is overdue whenever any open item is.
        let max_days_past_due = match (self.open_items_of(account).next(), self.clock) {
            (Some(item), Some(now)) if item.overdue => {
                days_past_due(item.due_date, now.date_naive()).max(0)
            }
            _ => 0,
        };
        Some(Standing {
            currency: account.currency.unwrap_or(Currency::EUR),
            open_balance: account.open_balance,
            overdue_balance: account.overdue_balance,
            max_days_past_due,
            unapplied_credit: account.unapplied_credit,
            credit_limit: account.credit_limit(),
            exposure_above_limit: account.exposure_above_limit,
        })
    }

    /// A debtor's open items, oldest due date first (ties by invoice number); none for an
    /// unknown debtor.
    pub fn open_items<'a>(&'a self, debtor_id: &str) -> impl Iterator<Item = &'a OpenItem> + 'a {
        self.accounts
            .get(debtor_id)
            .into_iter()
            .flat_map(|a| self.open_items_of(a))
    }

    /// The open items of `account` (one of this ledger's), oldest due date first: for a
    /// caller that holds the account already.
    pub fn open_items_of<'a>(
        &'a self,
        account: &'a DebtorAccount,
    ) -> impl Iterator<Item = &'a OpenItem> + 'a {
        account
            .open_index
            .iter()
            .filter_map(|(_, n)| self.items.get(n).map(|i| &**i))
    }

    /// A debtor's open amounts by days past due on `on` (empty for an unknown debtor).
    pub fn aging(&self, debtor_id: &str, on: NaiveDate) -> AgingBuckets {
        let mut buckets = AgingBuckets::default();
        for item in self.open_items(debtor_id) {
            buckets.add(days_past_due(item.due_date, on), item.open_amount);
        }
        buckets
    }

    /// Every item, open or settled, in invoice number order (sorts them: for reports and
    /// tests, not for a hot path).
    pub fn items(&self) -> impl Iterator<Item = &OpenItem> {
        self.items.sorted().into_iter().map(|(_, i)| &**i)
    }

    /// A debtor's account: master data, balances, open items' due-date index (the items:
    /// [`Ledger::open_items`]).
    pub fn debtor(&self, debtor_id: &str) -> Option<&DebtorAccount> {
        self.accounts.get(debtor_id).map(|a| &**a)
    }

    /// Number of debtor accounts.
    pub fn debtor_count(&self) -> usize {
        self.accounts.len()
    }

    /// Every account, in debtor id order (sorts the accounts: for reports and tests, not
    /// for a hot path).
    pub fn debtors(&self) -> impl Iterator<Item = &DebtorAccount> {
        self.accounts.sorted().into_iter().map(|(_, a)| &**a)
    }

    /// An item (open or settled) by invoice number.
    pub fn item(&self, invoice_number: &str) -> Option<&OpenItem> {
        self.items.get(invoice_number).map(|i| &**i)
    }

    /// A payment the ledger has seen, by payment id.
    pub fn payment(&self, payment_id: &str) -> Option<&PaymentRecord> {
        self.payments.get(payment_id).map(|r| &**r)
    }

    /// A payment the ledger has seen, by its SEPA end-to-end id (when exactly one payment
    /// carried it).
    pub fn payment_by_end_to_end_id(&self, end_to_end_id: &str) -> Option<&PaymentRecord> {
        self.payment(self.end_to_end.payment(end_to_end_id)?)
    }

    /// Every payment seen, in payment id order.
    pub fn payments(&self) -> impl Iterator<Item = &PaymentRecord> {
        self.payments.sorted().into_iter().map(|(_, r)| &**r)
    }

    /// A promise to pay, by promise id.
    pub fn promise(&self, promise_id: &str) -> Option<&Promise> {
        self.promises.get(promise_id).map(|p| &**p)
    }

    /// Money totals.
    pub fn totals(&self) -> LedgerTotals {
        self.totals.clone()
    }

    /// The event-time clock, once time has been set.
    pub fn clock(&self) -> Option<DateTime<Utc>> {
        self.clock
    }

    /// The configuration the ledger runs with.
    pub fn config(&self) -> &LedgerConfig {
        &self.config
    }

    /// The account of `debtor_id`, created without master data if it does not exist.
    /// `currency` becomes the account currency if it has none yet.
    pub(crate) fn account_mut(
        &mut self,
        debtor_id: &str,
        currency: Option<Currency>,
    ) -> &mut DebtorAccount {
        let account = self
            .accounts
            .entry(Key::from(debtor_id))
            .or_insert_with(|| Shared::new(DebtorAccount::new(debtor_id)));
        if account.currency.is_none() {
            account.currency = currency;
        }
        account
    }

    /// Adds `delta` (may be negative) to a debtor's unapplied credit.
    pub(crate) fn add_unapplied(&mut self, debtor_id: &str, delta: Decimal) {
        if delta.is_zero() {
            return;
        }
        if let Some(account) = self.accounts.get_mut(debtor_id) {
            account.unapplied_credit += delta;
            self.totals.unapplied += delta;
            self.touched.insert(Key::from(debtor_id));
        }
    }

    /// Sets an item's open amount, keeping balances, indices and totals in step. The one
    /// place an open amount changes. Returns the previous open amount (`None`: no such
    /// item).
    pub(crate) fn set_open_amount(
        &mut self,
        invoice_number: &str,
        new_open: Decimal,
    ) -> Option<Decimal> {
        self.set_open_amount_and(invoice_number, new_open, |_| {})
    }

    /// [`Ledger::set_open_amount`], then `update` on the item (for the fields that go with
    /// the change: paid, credited, written off), in one lookup.
    pub(crate) fn set_open_amount_and(
        &mut self,
        invoice_number: &str,
        new_open: Decimal,
        update: impl FnOnce(&mut OpenItem),
    ) -> Option<Decimal> {
        // Copied first when a checkpoint's delta still holds it (see `journal::Shared`).
        let item: &mut OpenItem = self.items.get_mut(invoice_number)?;
        let debtor = &item.debtor_id;
        let account = self.accounts.get_mut(debtor.as_str())?;
        let old = item.open_amount;
        if old != new_open {
            let delta = new_open - old;
            item.open_amount = new_open;
            self.open_amounts.changed(item, old);
            self.kpi_index.open_moved(item.due_date, delta);
            account.open_balance += delta;
            if item.overdue {
                let before = account.overdue_balance;
                account.overdue_balance += delta;
                self.kpi_index
                    .overdue_moved(debtor, before, account.overdue_balance);
            }
            if new_open > Decimal::ZERO {
                item.settled_on = None;
                if old <= Decimal::ZERO {
                    if !item.overdue {
                        self.due_index.insert(item.due_date, &item.invoice_number);
                    }
                    account.open_index.insert(item.due_key());
                }
            } else {
                // The due index keeps the entry (see `due_index`).
                account.open_index.remove(&item.due_key());
            }
            self.totals.open += delta;
            self.touched.insert(Key::from(debtor.as_str()));
        }
        update(item);
        Some(old)
    }

    /// Rebuilds the indices a checkpoint does not hold (they follow from the items, the
    /// master data and the payments) and the KPIs' running values.
    fn rebuild_derived_indices(&mut self) {
        self.by_digits = DenseIndex::default();
        self.by_digits.reserve(self.items.len());
        self.open_amounts = OpenAmountIndex::default();
        self.names = NameDirectory::default();
        self.end_to_end = EndToEndIndex::default();
        for (debtor_id, account) in self.accounts.sorted() {
            if let Some(master) = &account.master {
                self.names.rename(debtor_id, None, &master.name);
            }
        }
        for item in self.items.values() {
            index_digits(&mut self.by_digits, &item.invoice_number);
            self.open_amounts.issued(item);
        }
        self.kpi_index = KpiIndex::of(
            self.accounts.values().map(|a| &**a),
            self.items.values().map(|i| &**i),
            &self.kpi_history,
        );
        for (payment_id, record) in self.payments.iter() {
            if let Some(e2e) = &record.end_to_end_id {
                self.end_to_end.record(e2e, payment_id);
            }
        }
    }

    /// Ends a call: exposure transitions and one `StandingChanged` per touched debtor.
    fn finish(&mut self, effects: &mut Vec<LedgerEffect>) {
        for debtor_id in std::mem::take(&mut self.touched) {
            if let Some(account) = self.accounts.get_mut(&debtor_id) {
                if let Some(effect) = crate::exposure::transition(account) {
                    effects.push(effect);
                }
                effects.push(LedgerEffect::StandingChanged {
                    debtor_id: debtor_id.into_string(),
                });
            }
        }
    }

    /// Items turning overdue and promises falling due on the current clock.
    fn sweep_timers(&mut self, effects: &mut Vec<LedgerEffect>) {
        self.sweep_overdue(effects);
        self.sweep_promises(effects);
    }
}

/// Adds an invoice number to the index of digit cores (kept in order per core).
pub(crate) fn index_digits(index: &mut DenseIndex<Key, DigitNumbers>, invoice_number: &str) {
    let core = digit_core_key(invoice_number);
    if core.is_empty() {
        return;
    }
    match index.slot(core) {
        Slot::Vacant(slot) => slot.insert(DigitNumbers::One(Key::from(invoice_number))),
        Slot::Occupied(numbers) => numbers.insert(invoice_number),
    }
}

/// The invoice numbers of one digit core, in order. Nearly every core has one number,
/// kept in place: a list of its own for each would be an allocation per invoice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DigitNumbers {
    One(Key),
    Many(Vec<Key>),
}

impl DigitNumbers {
    /// The numbers, in order.
    pub(crate) fn as_slice(&self) -> &[Key] {
        match self {
            DigitNumbers::One(number) => std::slice::from_ref(number),
            DigitNumbers::Many(numbers) => numbers,
        }
    }

    fn insert(&mut self, invoice_number: &str) {
        if let Err(at) = self
            .as_slice()
            .binary_search_by(|n| n.as_str().cmp(invoice_number))
        {
            let mut numbers = match std::mem::replace(self, DigitNumbers::Many(Vec::new())) {
                DigitNumbers::One(number) => vec![number],
                DigitNumbers::Many(numbers) => numbers,
            };
            numbers.insert(at, Key::from(invoice_number));
            *self = DigitNumbers::Many(numbers);
        }
    }
}

/// The serialised state of a [`Ledger`] as read, in any layout a checkpoint was written
/// in; it becomes a [`LedgerImage`] in the current layout.
#[derive(Deserialize)]
struct LedgerState {
    config: LedgerConfig,
    clock: Option<DateTime<Utc>>,
    accounts: HashIndex<Key, Shared<DebtorAccount>>,
    /// Absent from checkpoints written when accounts held their items (moved here).
    #[serde(default)]
    items: JournaledIndex<Key, Shared<OpenItem>>,
    by_reference: JournaledIndex<Key, Key>,
    by_number: JournaledIndex<Key, Key>,
    ibans: IbanDirectory,
    payments: JournaledIndex<Key, Shared<PaymentRecord>>,
    reversals: BTreeSet<String>,
    credit_notes: BTreeSet<String>,
    promises: Promises,
    due_index: DueIndex,
    promise_index: BTreeSet<(NaiveDate, String)>,
    totals: LedgerTotals,
    /// Absent from checkpoints written before the KPIs: no history.
    #[serde(default)]
    kpi_history: KpiHistory,
}

/// A [`Ledger`]'s state without the indices that follow from it (digit cores, open
/// amounts, names, end-to-end ids, the KPIs' running values): what a checkpoint holds,
/// serialised exactly as the ledger is. Deltas apply to it
/// ([`LedgerImage::apply_deltas`]) without the indices being rebuilt, which folding a
/// chain of checkpoints into a new base does not need; [`Ledger::from`] rebuilds them once.
#[derive(Debug, Serialize, Deserialize)]
#[serde(from = "LedgerState")]
pub struct LedgerImage {
    pub(crate) config: LedgerConfig,
    pub(crate) clock: Option<DateTime<Utc>>,
    pub(crate) accounts: HashIndex<Key, Shared<DebtorAccount>>,
    pub(crate) items: JournaledIndex<Key, Shared<OpenItem>>,
    pub(crate) by_reference: JournaledIndex<Key, Key>,
    pub(crate) by_number: JournaledIndex<Key, Key>,
    pub(crate) ibans: IbanDirectory,
    pub(crate) payments: JournaledIndex<Key, Shared<PaymentRecord>>,
    pub(crate) reversals: BTreeSet<String>,
    pub(crate) credit_notes: BTreeSet<String>,
    pub(crate) promises: Promises,
    pub(crate) due_index: DueIndex,
    pub(crate) promise_index: BTreeSet<(NaiveDate, String)>,
    pub(crate) totals: LedgerTotals,
    pub(crate) kpi_history: KpiHistory,
}

impl LedgerImage {
    /// The image of an empty ledger (where a chain of checkpoints without a base starts).
    pub fn new(config: LedgerConfig) -> LedgerImage {
        LedgerImage {
            config,
            clock: None,
            accounts: HashIndex::default(),
            items: JournaledIndex::default(),
            by_reference: JournaledIndex::default(),
            by_number: JournaledIndex::default(),
            ibans: IbanDirectory::default(),
            payments: JournaledIndex::default(),
            reversals: BTreeSet::new(),
            credit_notes: BTreeSet::new(),
            promises: Promises::new(),
            due_index: DueIndex::default(),
            promise_index: BTreeSet::new(),
            totals: LedgerTotals::default(),
            kpi_history: KpiHistory::empty_ledger(),
        }
    }
}

impl From<LedgerState> for LedgerImage {
    fn from(s: LedgerState) -> LedgerImage {
        let mut image = LedgerImage {
            config: s.config,
            clock: s.clock,
            accounts: s.accounts,
            items: s.items,
            by_reference: s.by_reference,
            by_number: s.by_number,
            ibans: s.ibans,
            payments: s.payments,
            reversals: s.reversals,
            credit_notes: s.credit_notes,
            promises: s.promises,
            due_index: s.due_index,
            promise_index: s.promise_index,
            totals: s.totals,
            kpi_history: s.kpi_history,
        };
        // A checkpoint of the earlier layout: its accounts' items move to the table (an
        // entry already in the table wins; no writer puts an item in both).
        for account in image.accounts.values_mut() {
            for (number, item) in std::mem::take(&mut account.legacy_items) {
                image
                    .items
                    .insert_if_absent(Key::from(number), || Shared::new(item));
            }
        }
        image
    }
}

impl From<LedgerImage> for Ledger {
    fn from(s: LedgerImage) -> Ledger {
        let mut ledger = Ledger {
            config: s.config,
            clock: s.clock,
            accounts: s.accounts,
            items: s.items,
            by_reference: s.by_reference,
            by_number: s.by_number,
            by_digits: DenseIndex::default(),
            open_amounts: OpenAmountIndex::default(),
            ibans: s.ibans,
            names: NameDirectory::default(),
            end_to_end: EndToEndIndex::default(),
            payments: s.payments,
            reversals: s.reversals,
            credit_notes: s.credit_notes,
            promises: s.promises,
            due_index: s.due_index,
            promise_index: s.promise_index,
            totals: s.totals,
            kpi_history: s.kpi_history,
            kpi_index: KpiIndex::default(),
            touched: BTreeSet::new(),
        };
        ledger.rebuild_derived_indices();
        ledger
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digit_core_keeps_its_numbers_in_order_once_each() {
        let mut index = DenseIndex::default();
        index_digits(&mut index, "RE 1020");
        assert_eq!(
            index.get("1020"),
            Some(&DigitNumbers::One(Key::from("RE 1020")))
        );
        for number in ["INV-0001020", "A-1020", "RE 1020", "INV-0001020"] {
            index_digits(&mut index, number);
        }
        index_digits(&mut index, "no digits");
        index_digits(&mut index, "0000");
        let numbers: Vec<&str> = index
            .get("1020")
            .map_or(&[][..], DigitNumbers::as_slice)
            .iter()
            .map(Key::as_str)
            .collect();
        assert_eq!(numbers, ["A-1020", "INV-0001020", "RE 1020"]);
        assert_eq!(index.len(), 1, "a number without digits is not indexed");
    }
}
