//! Disputes: a debtor contests an invoice. The item is flagged while any dispute on it is
//! open; balances do not change.

use events::{DisputeOpened, DisputeResolved, EventKind};

use crate::effects::{IgnoredReason, LedgerEffect};
use crate::ledger::Ledger;

impl Ledger {
    /// `dispute_opened`: flag the item.
    pub(crate) fn open_dispute(&mut self, e: &DisputeOpened, effects: &mut Vec<LedgerEffect>) {
        let Some(item) = self.item_mut(&e.invoice_number) else {
            effects.push(LedgerEffect::InvoiceUnknown {
                kind: EventKind::DisputeOpened,
                debtor_id: e.debtor_id.clone(),
                invoice_number: e.invoice_number.clone(),
            });
            return;
        };
        if !item.disputes.insert_sorted(e.dispute_id.clone()) {
            effects.push(LedgerEffect::DuplicateIgnored {
                kind: EventKind::DisputeOpened,
                key: e.dispute_id.clone(),
            });
            return;
        }
        effects.push(LedgerEffect::DisputeOpened {
            debtor_id: item.debtor_id.to_string(),
            invoice_number: e.invoice_number.clone(),
            dispute_id: e.dispute_id.clone(),
            amount: e.amount,
        });
    }

    /// `dispute_resolved`: unflag the item once no dispute on it stays open.
    pub(crate) fn resolve_dispute(&mut self, e: &DisputeResolved, effects: &mut Vec<LedgerEffect>) {
        let Some(item) = self.item_mut(&e.invoice_number) else {
            effects.push(LedgerEffect::InvoiceUnknown {
                kind: EventKind::DisputeResolved,
                debtor_id: e.debtor_id.clone(),
                invoice_number: e.invoice_number.clone(),
            });
            return;
        };
        if !item.disputes.remove_sorted(e.dispute_id.as_str()) {
            effects.push(LedgerEffect::Ignored {
                kind: EventKind::DisputeResolved,
                key: e.dispute_id.clone(),
                reason: IgnoredReason::UnknownDispute,
            });
            return;
        }
        effects.push(LedgerEffect::DisputeResolved {
            debtor_id: item.debtor_id.to_string(),
            invoice_number: e.invoice_number.clone(),
            dispute_id: e.dispute_id.clone(),
            outcome: e.outcome,
            still_disputed: item.is_disputed(),
        });
    }
}
