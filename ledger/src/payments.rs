//! Booking payments: the outcome of matching becomes allocations to items, unapplied
//! credit, or an exception. Every payment is recorded so a reversal can undo exactly
//! what it did.

use chrono::NaiveDate;
use events::{Currency, EventKind, Money, PaymentReceived};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::effects::{IgnoredReason, LedgerEffect};
use crate::ledger::Ledger;
use crate::matching::{MatchOutcome, MatchRule};

/// Part of a payment applied to one item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// Invoice number.
    pub invoice_number: String,
    /// Debtor of the item.
    pub debtor_id: String,
    /// Amount applied (never more than the payment or the item's open amount).
    pub amount: Decimal,
    /// The rule that matched the payment to the item.
    pub rule: MatchRule,
}

/// What became of a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Applied to items and/or kept as unapplied credit.
    Applied,
    /// No rule applied; the money waits for a person.
    Unmatched,
    /// It referred to items or an account in another currency; waits for a person.
    CurrencyMismatch,
}

/// A payment the ledger has seen and what it did with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRecord {
    /// Bank transaction id.
    pub payment_id: String,
    /// Amount received.
    pub amount: Decimal,
    /// Currency.
    pub currency: Currency,
    /// Value date.
    pub value_date: NaiveDate,
    /// The debtor the payment was booked to, if any.
    pub debtor_id: Option<String>,
    /// What became of it.
    pub status: PaymentStatus,
    /// The rule that applied it (status `Applied` only).
    pub rule: Option<MatchRule>,
    /// Amounts applied to items.
    pub allocations: Vec<Allocation>,
    /// Amount kept as unapplied credit of `debtor_id`.
    pub unapplied: Decimal,
    /// Whether it has been reversed.
    pub reversed: bool,
    /// Amounts it counted towards open promises (promise id, amount).
    pub promise_credits: Vec<(String, Decimal)>,
}

impl Ledger {
    /// `payment_received`: match, then allocate or raise an exception. A known payment id
    /// is ignored.
    pub(crate) fn receive_payment(&mut self, p: &PaymentReceived, effects: &mut Vec<LedgerEffect>) {
        if self.payments.contains_key(&p.payment_id) {
            effects.push(LedgerEffect::DuplicateIgnored {
                kind: EventKind::PaymentReceived,
                key: p.payment_id.clone(),
            });
            return;
        }
        if p.amount <= Decimal::ZERO {
            effects.push(LedgerEffect::Ignored {
                kind: EventKind::PaymentReceived,
                key: p.payment_id.clone(),
                reason: IgnoredReason::NonPositiveAmount,
            });
            return;
        }
        self.totals.paid_in += p.amount;
        let mut record = PaymentRecord {
            payment_id: p.payment_id.clone(),
            amount: p.amount,
            currency: p.currency,
            value_date: p.value_date,
            debtor_id: None,
            status: PaymentStatus::Applied,
            rule: None,
            allocations: Vec::new(),
            unapplied: Decimal::ZERO,
            reversed: false,
            promise_credits: Vec::new(),
        };
        let money = Money::new(p.amount, p.currency);

        let (rule, invoices, debtor_id) = match self.plan_match(p) {
            MatchOutcome::Items {
                rule,
                invoices,
                payer,
            } => {
                let first_owner = invoices
                    .first()
                    .and_then(|i| self.item_owner.get(i))
                    .cloned();
                let Some(debtor_id) = payer.or(first_owner) else {
                    // Items always have an owner; be safe and treat as unmatched.
                    self.book_exception(
                        record,
                        PaymentStatus::Unmatched,
                        effects,
                        LedgerEffect::PaymentUnmatched {
                            payment_id: p.payment_id.clone(),
                            amount: money,
                            candidates: Vec::new(),
                        },
                    );
                    return;
                };
                (rule, invoices, debtor_id)
            }
            MatchOutcome::Unapplied { debtor_id } => {
                (MatchRule::PayerKnownUnapplied, Vec::new(), debtor_id)
            }
            MatchOutcome::Unmatched { candidates } => {
                self.book_exception(
                    record,
                    PaymentStatus::Unmatched,
                    effects,
                    LedgerEffect::PaymentUnmatched {
                        payment_id: p.payment_id.clone(),
                        amount: money,
                        candidates,
                    },
                );
                return;
            }
        };

        // Currency: every item (or, with no items, the payer's account) must agree.
        let expected = invoices
            .iter()
            .filter_map(|i| self.item(i))
            .map(|i| i.currency)
            .find(|c| *c != p.currency)
            .or_else(|| {
                let account_currency = self.accounts.get(&debtor_id).and_then(|a| a.currency);
                account_currency.filter(|c| invoices.is_empty() && *c != p.currency)
            });
        if let Some(expected) = expected {
            record.debtor_id = Some(debtor_id.clone());
            self.book_exception(
                record,
                PaymentStatus::CurrencyMismatch,
                effects,
                LedgerEffect::CurrencyMismatch {
                    payment_id: p.payment_id.clone(),
                    debtor_id: Some(debtor_id.clone()),
                    amount: money,
                    expected,
                    invoice_numbers: invoices.clone(),
                },
            );
            return;
        }

        self.account_mut(&debtor_id, Some(p.currency));
        let mut remaining = p.amount;
        let mut settled = Vec::new();
        for invoice in &invoices {
            if remaining <= Decimal::ZERO {
                break;
            }
            let Some(item) = self.item(invoice) else {
                continue;
            };
            let (open, item_debtor, due_date) =
                (item.open_amount, item.debtor_id.clone(), item.due_date);
            let take = remaining.min(open);
            if take <= Decimal::ZERO {
                continue;
            }
            self.set_open_amount(invoice, open - take);
            if let Some(item) = self.item_mut(invoice) {
                item.paid_amount += take;
                if !item.is_open() {
                    item.settled_on = Some(p.value_date);
                }
            }
            remaining -= take;
            self.totals.allocated += take;
            if take == open {
                settled.push(LedgerEffect::ItemSettled {
                    debtor_id: item_debtor.clone(),
                    invoice_number: invoice.clone(),
                    due_date,
                    settled_on: p.value_date,
                });
            }
            record.allocations.push(Allocation {
                invoice_number: invoice.clone(),
                debtor_id: item_debtor,
                amount: take,
                rule,
            });
        }
        self.add_unapplied(&debtor_id, remaining);
        record.unapplied = remaining;
        record.rule = Some(rule);
        record.debtor_id = Some(debtor_id.clone());

        if let Some(iban) = &p.counterparty_iban
            && self.ibans.learn(iban, &debtor_id)
            && let Some(account) = self.accounts.get_mut(&debtor_id)
        {
            account
                .learnt_ibans
                .insert(crate::references::normalize_reference(iban));
        }

        // Money that reached each debtor counts towards its open promises.
        let mut per_debtor: Vec<(String, Decimal)> = Vec::new();
        for a in &record.allocations {
            match per_debtor.iter_mut().find(|(d, _)| *d == a.debtor_id) {
                Some((_, sum)) => *sum += a.amount,
                None => per_debtor.push((a.debtor_id.clone(), a.amount)),
            }
        }
        if remaining > Decimal::ZERO {
            match per_debtor.iter_mut().find(|(d, _)| *d == debtor_id) {
                Some((_, sum)) => *sum += remaining,
                None => per_debtor.push((debtor_id.clone(), remaining)),
            }
        }
        let mut promise_effects = Vec::new();
        for (debtor, amount) in per_debtor {
            record.promise_credits.extend(self.credit_promises(
                &debtor,
                amount,
                &mut promise_effects,
            ));
        }

        effects.push(LedgerEffect::PaymentApplied {
            payment_id: p.payment_id.clone(),
            debtor_id,
            amount: money,
            rule,
            allocations: record.allocations.clone(),
            unapplied: remaining,
        });
        effects.extend(settled);
        effects.extend(promise_effects);
        self.payments.insert(p.payment_id.clone(), record);
    }

    /// Records a payment as an exception: its money goes to the exceptions total.
    fn book_exception(
        &mut self,
        mut record: PaymentRecord,
        status: PaymentStatus,
        effects: &mut Vec<LedgerEffect>,
        effect: LedgerEffect,
    ) {
        record.status = status;
        self.totals.unmatched += record.amount;
        effects.push(effect);
        self.payments.insert(record.payment_id.clone(), record);
    }

    /// Mutable access to an item, for fields other than its open amount (which only
    /// [`Ledger::set_open_amount`] changes).
    pub(crate) fn item_mut(&mut self, invoice_number: &str) -> Option<&mut crate::items::OpenItem> {
        let debtor = self.item_owner.get(invoice_number)?;
        self.accounts.get_mut(debtor)?.items.get_mut(invoice_number)
    }
}
