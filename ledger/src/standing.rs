//! A debtor's standing: the balances later stages score and publish.

use events::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A debtor's balances at the ledger's clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    /// Account currency (from master data, else the first invoice or payment; EUR when
    /// nothing says).
    pub currency: Currency,
    /// Sum of open items.
    pub open_balance: Decimal,
    /// Sum of open items that have turned overdue.
    pub overdue_balance: Decimal,
    /// Days past due of the oldest overdue open item (0 when none).
    pub max_days_past_due: i64,
    /// Payments and credit notes received but not applied to an item.
    pub unapplied_credit: Decimal,
    /// Credit limit, when master data gave one.
    pub credit_limit: Option<Decimal>,
    /// Whether the open balance is above a known credit limit.
    pub exposure_above_limit: bool,
}
