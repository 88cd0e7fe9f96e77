//! Credit notes: money the creditor gives back, taken off the named invoice or kept as
//! unapplied credit.

use events::{CreditNoteIssued, EventKind};
use rust_decimal::Decimal;

use crate::effects::{IgnoredReason, LedgerEffect};
use crate::ledger::Ledger;

impl Ledger {
    /// `credit_note_issued`: reduce the named invoice by min(credit, open amount); the rest
    /// (or all, when no invoice in the same currency is named) becomes unapplied credit.
    pub(crate) fn issue_credit_note(
        &mut self,
        e: &CreditNoteIssued,
        effects: &mut Vec<LedgerEffect>,
    ) {
        if self.credit_notes.contains(&e.credit_note_number) {
            effects.push(LedgerEffect::DuplicateIgnored {
                kind: EventKind::CreditNoteIssued,
                key: e.credit_note_number.clone(),
            });
            return;
        }
        if e.amount <= Decimal::ZERO {
            effects.push(LedgerEffect::Ignored {
                kind: EventKind::CreditNoteIssued,
                key: e.credit_note_number.clone(),
                reason: IgnoredReason::NonPositiveAmount,
            });
            return;
        }
        self.credit_notes.insert(e.credit_note_number.clone());
        self.account_mut(&e.debtor_id, Some(e.currency));
        self.totals.credited += e.amount;

        let mut applied = Decimal::ZERO;
        let mut invoice_number = None;
        let mut settled = None;
        if let Some(number) = &e.invoice_number {
            match self
                .item(number)
                .map(|i| (i.open_amount, i.currency, i.debtor_id.clone(), i.due_date))
            {
                None => effects.push(LedgerEffect::InvoiceUnknown {
                    kind: EventKind::CreditNoteIssued,
                    debtor_id: e.debtor_id.clone(),
                    invoice_number: number.clone(),
                }),
                Some((open, currency, debtor_id, due_date)) if currency == e.currency => {
                    applied = e.amount.min(open);
                    invoice_number = Some(number.clone());
                    if applied > Decimal::ZERO {
                        self.set_open_amount(number, open - applied);
                        if let Some(item) = self.item_mut(number) {
                            item.credited_amount += applied;
                            if !item.is_open() {
                                item.settled_on = Some(e.issue_date);
                            }
                        }
                        self.totals.credit_applied += applied;
                        if applied == open {
                            settled = Some(LedgerEffect::ItemSettled {
                                debtor_id: debtor_id.to_string(),
                                invoice_number: number.clone(),
                                due_date,
                                settled_on: e.issue_date,
                            });
                        }
                    }
                }
                // Another currency: nothing is taken off the item.
                Some(_) => invoice_number = Some(number.clone()),
            }
        }
        let unapplied = e.amount - applied;
        self.add_unapplied(&e.debtor_id, unapplied);
        effects.push(LedgerEffect::CreditNoteApplied {
            credit_note_number: e.credit_note_number.clone(),
            debtor_id: e.debtor_id.clone(),
            invoice_number,
            applied,
            unapplied,
        });
        effects.extend(settled);
    }
}
