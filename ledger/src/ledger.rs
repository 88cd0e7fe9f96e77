//! The [`Ledger`]: state, the entry points (`apply`, `advance_to`) and the one place where
//! an item's open amount changes, which keeps every balance and index in step.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use events::{Currency, Envelope, InputEvent};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::account::DebtorAccount;
use crate::config::LedgerConfig;
use crate::effects::LedgerEffect;
use crate::ibans::IbanDirectory;
use crate::items::OpenItem;
use crate::payments::PaymentRecord;
use crate::promises::Promise;
use crate::standing::Standing;
use crate::totals::LedgerTotals;

/// The accounts-receivable sub-ledger. Deterministic: the same calls give the same state
/// and effects; all maps are ordered. The whole state serialises (checkpoints).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    pub(crate) config: LedgerConfig,
    pub(crate) clock: Option<DateTime<Utc>>,
    pub(crate) accounts: BTreeMap<String, DebtorAccount>,
    /// Invoice number → debtor id.
    pub(crate) item_owner: BTreeMap<String, String>,
    /// Normalised payment reference → invoice number.
    pub(crate) by_reference: BTreeMap<String, String>,
    /// Normalised invoice number → invoice number.
    pub(crate) by_number: BTreeMap<String, String>,
    /// `"<currency> <normalised open amount>"` → (debtor id, invoice number) of open items.
    pub(crate) by_open_amount: BTreeMap<String, BTreeSet<(String, String)>>,
    pub(crate) ibans: IbanDirectory,
    pub(crate) payments: BTreeMap<String, PaymentRecord>,
    /// Payment ids of reversals already handled (known or not).
    pub(crate) reversals: BTreeSet<String>,
    pub(crate) credit_notes: BTreeSet<String>,
    pub(crate) promises: BTreeMap<String, Promise>,
    /// Open items not yet overdue, by (due date, invoice number).
    pub(crate) due_index: BTreeSet<(NaiveDate, String)>,
    /// Open promises by (promised date, promise id).
    pub(crate) promise_index: BTreeSet<(NaiveDate, String)>,
    pub(crate) totals: LedgerTotals,
    /// Debtors whose balances changed during the current call (empty between calls).
    #[serde(skip)]
    pub(crate) touched: BTreeSet<String>,
}

impl Ledger {
    /// An empty ledger without a clock.
    pub fn new(config: LedgerConfig) -> Ledger {
        Ledger {
            config,
            clock: None,
            accounts: BTreeMap::new(),
            item_owner: BTreeMap::new(),
            by_reference: BTreeMap::new(),
            by_number: BTreeMap::new(),
            by_open_amount: BTreeMap::new(),
            ibans: IbanDirectory::default(),
            payments: BTreeMap::new(),
            reversals: BTreeSet::new(),
            credit_notes: BTreeSet::new(),
            promises: BTreeMap::new(),
            due_index: BTreeSet::new(),
            promise_index: BTreeSet::new(),
            totals: LedgerTotals::default(),
            touched: BTreeSet::new(),
        }
    }

    /// Time passes: the event-time clock moves to `now` (never backwards; an earlier `now`
    /// changes nothing). Returns the effects of items turning overdue, promises broken,
    /// exposure changes and the standings that changed. Costs O(log n + k) for k items and
    /// promises that fall due.
    pub fn advance_to(&mut self, now: DateTime<Utc>) -> Vec<LedgerEffect> {
        if self.clock.is_some_and(|c| now < c) {
            return Vec::new();
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
            InputEvent::ClockTick(_) => {}
        }
        self.sweep_timers(&mut effects);
        self.finish(&mut effects);
        effects
    }

    /// A debtor's balances, for score updates.
    pub fn standing(&self, debtor_id: &str) -> Option<Standing> {
        self.accounts.get(debtor_id).map(|a| a.standing(self.clock))
    }

    /// A debtor's account: master data, items and balances.
    pub fn debtor(&self, debtor_id: &str) -> Option<&DebtorAccount> {
        self.accounts.get(debtor_id)
    }

    /// Number of debtor accounts.
    pub fn debtor_count(&self) -> usize {
        self.accounts.len()
    }

    /// Every account, in debtor id order.
    pub fn debtors(&self) -> impl Iterator<Item = &DebtorAccount> {
        self.accounts.values()
    }

    /// An item (open or settled) by invoice number.
    pub fn item(&self, invoice_number: &str) -> Option<&OpenItem> {
        let debtor = self.item_owner.get(invoice_number)?;
        self.accounts.get(debtor)?.items.get(invoice_number)
    }

    /// A payment the ledger has seen, by payment id.
    pub fn payment(&self, payment_id: &str) -> Option<&PaymentRecord> {
        self.payments.get(payment_id)
    }

    /// Every payment seen, in payment id order.
    pub fn payments(&self) -> impl Iterator<Item = &PaymentRecord> {
        self.payments.values()
    }

    /// A promise to pay, by promise id.
    pub fn promise(&self, promise_id: &str) -> Option<&Promise> {
        self.promises.get(promise_id)
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
            .entry(debtor_id.to_owned())
            .or_insert_with(|| DebtorAccount::new(debtor_id));
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
            self.touched.insert(debtor_id.to_owned());
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
        let debtor = self.item_owner.get(invoice_number)?;
        let account = self.accounts.get_mut(debtor)?;
        let item = account.items.get_mut(invoice_number)?;
        let old = item.open_amount;
        if old == new_open {
            return Some(old);
        }
        let delta = new_open - old;
        let key = item.due_key();
        let member = (debtor.clone(), invoice_number.to_owned());
        if old > Decimal::ZERO {
            let amount_key = open_amount_key(item.currency, old);
            if let Some(set) = self.by_open_amount.get_mut(&amount_key) {
                set.remove(&member);
                if set.is_empty() {
                    self.by_open_amount.remove(&amount_key);
                }
            }
        }
        item.open_amount = new_open;
        account.open_balance += delta;
        if item.overdue {
            account.overdue_balance += delta;
        }
        if new_open > Decimal::ZERO {
            self.by_open_amount
                .entry(open_amount_key(item.currency, new_open))
                .or_default()
                .insert(member);
            item.settled_on = None;
            if !item.overdue {
                self.due_index.insert(key.clone());
            }
            account.open_index.insert(key);
        } else {
            self.due_index.remove(&key);
            account.open_index.remove(&key);
        }
        self.totals.open += delta;
        self.touched.insert(debtor.clone());
        Some(old)
    }

    /// Ends a call: exposure transitions and one `StandingChanged` per touched debtor.
    fn finish(&mut self, effects: &mut Vec<LedgerEffect>) {
        for debtor_id in std::mem::take(&mut self.touched) {
            if let Some(account) = self.accounts.get_mut(&debtor_id) {
                if let Some(effect) = crate::exposure::transition(account) {
                    effects.push(effect);
                }
                effects.push(LedgerEffect::StandingChanged { debtor_id });
            }
        }
    }

    /// Items turning overdue and promises falling due on the current clock.
    fn sweep_timers(&mut self, effects: &mut Vec<LedgerEffect>) {
        self.sweep_overdue(effects);
        self.sweep_promises(effects);
    }
}

/// Key of the open-amount index: currency and the amount without trailing zeros.
pub(crate) fn open_amount_key(currency: Currency, amount: Decimal) -> String {
    format!("{currency} {}", amount.normalize())
}
