//! Issuing invoices: a new open item and its entries in the indices (payment reference,
//! normalised number, digit core, invoice amount).

use events::{EventKind, InvoiceIssued, Money};
use rust_decimal::Decimal;

use crate::effects::{IgnoredReason, LedgerEffect};
use crate::index::Key;
use crate::items::OpenItem;
use crate::journal::Shared;
use crate::ledger::{Ledger, index_digits};
use crate::references::normalize_reference;

impl Ledger {
    /// `invoice_issued`: opens an item (open amount = amount). A known invoice number is
    /// ignored (idempotent).
    pub(crate) fn issue_invoice(&mut self, e: &InvoiceIssued, effects: &mut Vec<LedgerEffect>) {
        if self.items.contains_key(e.invoice_number.as_str()) {
            effects.push(LedgerEffect::DuplicateIgnored {
                kind: EventKind::InvoiceIssued,
                key: e.invoice_number.clone(),
            });
            return;
        }
        if e.amount <= Decimal::ZERO {
            effects.push(LedgerEffect::Ignored {
                kind: EventKind::InvoiceIssued,
                key: e.invoice_number.clone(),
                reason: IgnoredReason::NonPositiveAmount,
            });
            return;
        }
        self.account_mut(&e.debtor_id, Some(e.currency));
        self.items.insert(
            Key::from(e.invoice_number.as_str()),
            Shared::new(OpenItem {
                invoice_number: Key::from(e.invoice_number.as_str()),
                debtor_id: Key::from(e.debtor_id.as_str()),
                amount: e.amount,
                currency: e.currency,
                issue_date: e.issue_date,
                due_date: e.due_date,
                payment_reference: e.payment_reference.as_deref().map(Key::from),
                open_amount: Decimal::ZERO,
                paid_amount: Decimal::ZERO,
                credited_amount: Decimal::ZERO,
                written_off_amount: Decimal::ZERO,
                overdue: false,
                disputes: Default::default(),
                settled_on: None,
            }),
        );
        // First come keeps a normalised key; a later clash stays reachable by exact number.
        self.by_number
            .insert_if_absent(Key::from(normalize_reference(&e.invoice_number)), || {
                Key::from(e.invoice_number.as_str())
            });
        index_digits(&mut self.by_digits, &e.invoice_number);
        if let Some(reference) = &e.payment_reference {
            self.by_reference
                .insert_if_absent(Key::from(normalize_reference(reference)), || {
                    Key::from(e.invoice_number.as_str())
                });
        }
        self.totals.invoiced += e.amount;
        // Opening the item (from zero) enters it in the open-amount index.
        self.set_open_amount(&e.invoice_number, e.amount);
        effects.push(LedgerEffect::InvoiceOpened {
            debtor_id: e.debtor_id.clone(),
            invoice_number: e.invoice_number.clone(),
            amount: Money::new(e.amount, e.currency),
            due_date: e.due_date,
        });
    }
}
