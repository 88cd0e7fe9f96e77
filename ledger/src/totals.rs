//! Money totals over the whole ledger, for invariants, metrics and the demo summary.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Running money totals. Amounts of all currencies are added together (the ledger holds
/// one currency in practice; the totals are for checks and summaries, not for booking).
///
/// Two equations always hold ([`LedgerTotals::is_balanced`]):
/// - payments: `paid_in − reversed + credited = allocated + credit_applied + unapplied + unmatched`
///   (every payment and credit note is on an item, kept as unapplied credit, or waiting as
///   an exception);
/// - items: `open = invoiced − allocated − credit_applied − written_off`.
///
/// Write-offs are no money: a payment short by bank costs within the tolerance allocates
/// what it paid and the item's rest is written off.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerTotals {
    /// Sum of invoices issued.
    pub invoiced: Decimal,
    /// Sum of payments received (gross, before reversals).
    pub paid_in: Decimal,
    /// Payment money currently applied to items (net of reversals).
    pub allocated: Decimal,
    /// Unapplied credit on accounts (from payments and credit notes).
    pub unapplied: Decimal,
    /// Payment money waiting in exceptions (unmatched or currency mismatch), net of
    /// reversals.
    pub unmatched: Decimal,
    /// Sum of known payments taken back.
    pub reversed: Decimal,
    /// Sum of credit notes issued.
    pub credited: Decimal,
    /// Credit-note money applied to items.
    pub credit_applied: Decimal,
    /// Sum of open amounts of all items.
    pub open: Decimal,
    /// Rests of items written off within the bank-cost tolerance (net of reversals).
    #[serde(default)]
    pub written_off: Decimal,
}

impl LedgerTotals {
    /// Whether both conservation equations hold.
    pub fn is_balanced(&self) -> bool {
        let money_in = self.paid_in - self.reversed + self.credited;
        let placed = self.allocated + self.credit_applied + self.unapplied + self.unmatched;
        money_in == placed
            && self.open == self.invoiced - self.allocated - self.credit_applied - self.written_off
    }
}
