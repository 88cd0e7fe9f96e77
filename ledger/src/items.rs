//! Open items: one per invoice, with what is still open on it and its flags.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use events::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An invoice in the sub-ledger. Items stay in the ledger after they are settled
/// (history); [`OpenItem::is_open`] says whether money is still owed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenItem {
    /// Invoice number, unique per creditor.
    pub invoice_number: String,
    /// Debtor who owes it.
    pub debtor_id: String,
    /// Gross amount invoiced.
    pub amount: Decimal,
    /// Currency.
    pub currency: Currency,
    /// Issue date.
    pub issue_date: NaiveDate,
    /// Due date.
    pub due_date: NaiveDate,
    /// Structured payment reference printed on the invoice, if any.
    pub payment_reference: Option<String>,
    /// Amount still owed: `amount − paid_amount − credited_amount − written_off_amount`.
    pub open_amount: Decimal,
    /// Amount applied from payments (net of reversals).
    pub paid_amount: Decimal,
    /// Amount taken off by credit notes.
    pub credited_amount: Decimal,
    /// Rest written off within the bank-cost tolerance (net of reversals).
    #[serde(default)]
    pub written_off_amount: Decimal,
    /// Whether the item has turned overdue (set once, never cleared).
    pub overdue: bool,
    /// Open disputes on the item, by dispute id.
    pub disputes: BTreeSet<String>,
    /// Date the open amount last reached zero, while it is zero.
    pub settled_on: Option<NaiveDate>,
}

impl OpenItem {
    /// Whether money is still owed on the item.
    pub fn is_open(&self) -> bool {
        self.open_amount > Decimal::ZERO
    }

    /// Whether at least one dispute on the item is open.
    pub fn is_disputed(&self) -> bool {
        !self.disputes.is_empty()
    }

    /// Key of the item in due-date order (oldest due first, ties by invoice number).
    pub(crate) fn due_key(&self) -> (NaiveDate, String) {
        (self.due_date, self.invoice_number.clone())
    }
}
