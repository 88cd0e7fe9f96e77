//! Reversals: a collected payment taken back (returned direct debit, chargeback). Undoes
//! exactly what the payment did: its allocations re-open the items by the allocated
//! amounts, its unapplied credit is removed, its promise credits are withdrawn.

use events::{EventKind, Money, PaymentReversed};
use rust_decimal::Decimal;

use crate::effects::LedgerEffect;
use crate::ledger::Ledger;
use crate::payments::PaymentStatus;

impl Ledger {
    /// `payment_reversed`: undo the named payment. Unknown payment: an exception effect.
    /// A second reversal of the same payment id is ignored.
    pub(crate) fn reverse_payment(&mut self, r: &PaymentReversed, effects: &mut Vec<LedgerEffect>) {
        if !self.reversals.insert(r.payment_id.clone()) {
            effects.push(LedgerEffect::DuplicateIgnored {
                kind: EventKind::PaymentReversed,
                key: r.payment_id.clone(),
            });
            return;
        }
        let Some(record) = self.payments.get_mut(&r.payment_id) else {
            effects.push(LedgerEffect::ReversalUnknown {
                payment_id: r.payment_id.clone(),
                debtor_id: r.debtor_id.clone(),
                amount: Money::new(r.amount, r.currency),
                reason_code: r.reason_code.clone(),
            });
            return;
        };
        record.reversed = true;
        let record = record.clone();
        self.totals.reversed += record.amount;

        let was_exception = record.status != PaymentStatus::Applied;
        if was_exception {
            self.totals.unmatched -= record.amount;
        } else {
            for a in &record.allocations {
                let Some(open) = self.item(&a.invoice_number).map(|i| i.open_amount) else {
                    continue;
                };
                self.set_open_amount(&a.invoice_number, open + a.amount);
                if let Some(item) = self.item_mut(&a.invoice_number) {
                    item.paid_amount -= a.amount;
                }
                self.totals.allocated -= a.amount;
            }
            if let Some(debtor_id) = &record.debtor_id {
                self.add_unapplied(debtor_id, -record.unapplied);
            }
            for (promise_id, amount) in &record.promise_credits {
                self.withdraw_promise_credit(promise_id, *amount);
            }
        }
        effects.push(LedgerEffect::PaymentReversed {
            payment_id: record.payment_id.clone(),
            debtor_id: record.debtor_id.clone(),
            amount: Money::new(record.amount, record.currency),
            reason_code: r.reason_code.clone(),
            reopened: record.allocations.clone(),
            unapplied_removed: if was_exception {
                Decimal::ZERO
            } else {
                record.unapplied
            },
            was_exception,
        });
    }
}
