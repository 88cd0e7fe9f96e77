//! Promises to pay: recorded, credited with the money the debtor pays afterwards, kept
//! when that reaches the promised amount, broken when the clock passes the promised date
//! first.
//!
//! Every payment that reaches the debtor after the promise counts (applied to any of its
//! items or kept as unapplied credit), whichever invoices the promise names; the invoices
//! only say which reminders the promise holds back. A reversal withdraws its money from
//! promises still open; a promise already kept stays kept.

use chrono::{DateTime, NaiveDate, Utc};
use events::{Currency, EventKind, Money, PromiseToPay};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::effects::{IgnoredReason, LedgerEffect};
use crate::journal::Shared;
use crate::ledger::Ledger;

/// Every promise by promise id, each shared with the checkpoint deltas taken since it
/// last changed (a delta copies pointers, not promises).
pub(crate) type Promises = std::collections::BTreeMap<String, Shared<Promise>>;

/// Where a promise stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromiseStatus {
    /// Date not passed, not yet paid in full.
    Open,
    /// Paid in full by the date.
    Kept,
    /// The date passed without the full amount.
    Broken,
}

/// A promise to pay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promise {
    /// Promise id.
    pub promise_id: String,
    /// Debtor.
    pub debtor_id: String,
    /// Date by which the money is promised.
    pub promised_date: NaiveDate,
    /// Amount promised.
    pub amount: Decimal,
    /// Currency.
    pub currency: Currency,
    /// Invoices the promise covers (empty: all the debtor's open items).
    pub invoice_numbers: Vec<String>,
    /// Event time the promise was made.
    pub made_at: DateTime<Utc>,
    /// Paid since the promise.
    pub paid: Decimal,
    /// Where it stands.
    pub status: PromiseStatus,
}

impl Promise {
    /// Whether the promise covers `invoice_number`.
    pub fn covers(&self, invoice_number: &str) -> bool {
        self.invoice_numbers.is_empty() || self.invoice_numbers.iter().any(|i| i == invoice_number)
    }
}

impl Ledger {
    /// `promise_to_pay`: record it and set its timer. A known promise id is ignored.
    pub(crate) fn record_promise(
        &mut self,
        e: &PromiseToPay,
        event_time: DateTime<Utc>,
        effects: &mut Vec<LedgerEffect>,
    ) {
        if self.promises.contains_key(&e.promise_id) {
            effects.push(LedgerEffect::DuplicateIgnored {
                kind: EventKind::PromiseToPay,
                key: e.promise_id.clone(),
            });
            return;
        }
        if e.amount <= Decimal::ZERO {
            effects.push(LedgerEffect::Ignored {
                kind: EventKind::PromiseToPay,
                key: e.promise_id.clone(),
                reason: IgnoredReason::NonPositiveAmount,
            });
            return;
        }
        let account = self.account_mut(&e.debtor_id, Some(e.currency));
        account.open_promises.insert(e.promise_id.clone());
        self.promises.insert(
            e.promise_id.clone(),
            Shared::new(Promise {
                promise_id: e.promise_id.clone(),
                debtor_id: e.debtor_id.clone(),
                promised_date: e.promised_date,
                amount: e.amount,
                currency: e.currency,
                invoice_numbers: e.invoice_numbers.clone(),
                made_at: event_time,
                paid: Decimal::ZERO,
                status: PromiseStatus::Open,
            }),
        );
        self.promise_index
            .insert((e.promised_date, e.promise_id.clone()));
        effects.push(LedgerEffect::PromiseRecorded {
            debtor_id: e.debtor_id.clone(),
            promise_id: e.promise_id.clone(),
            promised_date: e.promised_date,
            amount: Money::new(e.amount, e.currency),
        });
    }

    /// Counts `amount` paid by `debtor_id` towards each of its open promises; returns what
    /// was counted where, and pushes `PromiseKept` for those now paid in full.
    pub(crate) fn credit_promises(
        &mut self,
        debtor_id: &str,
        amount: Decimal,
        effects: &mut Vec<LedgerEffect>,
    ) -> Vec<(String, Decimal)> {
        let Some(account) = self.accounts.get_mut(debtor_id) else {
            return Vec::new();
        };
        let mut credits = Vec::new();
        let mut kept = Vec::new();
        for promise_id in &account.open_promises {
            let Some(promise) = self.promises.get_mut(promise_id) else {
                continue;
            };
            promise.paid += amount;
            credits.push((promise_id.clone(), amount));
            if promise.paid >= promise.amount {
                promise.status = PromiseStatus::Kept;
                self.promise_index
                    .remove(&(promise.promised_date, promise_id.clone()));
                kept.push(promise_id.clone());
                effects.push(LedgerEffect::PromiseKept {
                    debtor_id: debtor_id.to_owned(),
                    promise_id: promise_id.clone(),
                    paid: promise.paid,
                });
            }
        }
        for promise_id in kept {
            account.open_promises.remove(&promise_id);
        }
        credits
    }

    /// Takes back money a reversed payment had counted towards a promise still open.
    pub(crate) fn withdraw_promise_credit(&mut self, promise_id: &str, amount: Decimal) {
        if let Some(promise) = self.promises.get_mut(promise_id)
            && promise.status == PromiseStatus::Open
        {
            promise.paid -= amount;
        }
    }

    /// Breaks every open promise whose date is before the clock's date.
    pub(crate) fn sweep_promises(&mut self, effects: &mut Vec<LedgerEffect>) {
        let Some(today) = self.clock.map(|c| c.date_naive()) else {
            return;
        };
        while self
            .promise_index
            .first()
            .is_some_and(|(date, _)| *date < today)
        {
            let Some((_, promise_id)) = self.promise_index.pop_first() else {
                break;
            };
            let Some(promise) = self.promises.get_mut(&promise_id) else {
                continue;
            };
            if promise.status != PromiseStatus::Open {
                continue;
            }
            promise.status = PromiseStatus::Broken;
            if let Some(account) = self.accounts.get_mut(promise.debtor_id.as_str()) {
                account.open_promises.remove(&promise_id);
            }
            effects.push(LedgerEffect::PromiseBroken {
                debtor_id: promise.debtor_id.clone(),
                promise_id,
                promised_date: promise.promised_date,
                amount: Money::new(promise.amount, promise.currency),
                paid: promise.paid,
            });
        }
    }

    /// The open (not kept, not broken) promise covering `invoice_number`, if any: a
    /// reminder for that item waits.
    pub fn open_promise_covering(&self, invoice_number: &str) -> Option<&Promise> {
        let debtor_id = &self.items.get(invoice_number)?.debtor_id;
        let account = self.accounts.get(debtor_id.as_str())?;
        account
            .open_promises
            .iter()
            .filter_map(|id| self.promise(id))
            .find(|p| p.status == PromiseStatus::Open && p.covers(invoice_number))
    }
}
