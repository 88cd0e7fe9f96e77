//! The standing columns of the feature inputs: what a debtor owes and how overdue it is on
//! the day of scoring, its limit, bureau rating and type. Read from the ledger (the one
//! place open amounts change) at the moment features are computed, so they are always as
//! of that moment.

use chrono::NaiveDate;
use ledger::{DebtorAccount, Ledger};
use rust_decimal::Decimal;

use crate::definitions::Window;

/// A debtor's standing on one day, as the feature inputs carry it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StandingInputs {
    /// Sum of open items.
    pub open_balance: Decimal,
    /// Sum of open items that have turned overdue.
    pub overdue_balance: Decimal,
    /// Open amount of items more than each window's days past due (window order).
    pub overdue_over: Vec<Decimal>,
    /// Payments and credit notes not applied to an item.
    pub unapplied_credit: Decimal,
    /// Open items.
    pub open_items: i64,
    /// Overdue open items.
    pub overdue_items: i64,
    /// Days past due of the oldest overdue item.
    pub oldest_overdue_days: Option<i64>,
    /// Credit limit, when known.
    pub credit_limit: Option<Decimal>,
    /// Latest bureau rating.
    pub bureau_rating: Option<String>,
    /// Latest bureau probability of default.
    pub bureau_pd: Option<Decimal>,
    /// Debtor type (`top_customer`, `business`, `consumer`, `government`).
    pub debtor_type: Option<&'static str>,
}

impl StandingInputs {
    /// Nothing owed, nothing known (an unknown debtor), over `windows`.
    fn empty(windows: &[Window]) -> StandingInputs {
        StandingInputs {
            overdue_over: vec![Decimal::ZERO; windows.len()],
            ..StandingInputs::default()
        }
    }
}

/// The standing's fields that come from the account itself (credit, limit, type, rating),
/// with the account; `None` for an unknown debtor.
fn of_account<'a>(
    ledger: &'a Ledger,
    debtor_id: &str,
    windows: &[Window],
) -> Option<(StandingInputs, &'a DebtorAccount)> {
    let account = ledger.debtor(debtor_id)?;
    let mut s = StandingInputs::empty(windows);
    s.unapplied_credit = account.unapplied_credit;
    s.credit_limit = account.credit_limit();
    s.debtor_type = account.debtor_type().map(|t| t.as_str());
    if let Some(r) = &account.bureau_rating {
        s.bureau_rating = Some(r.rating.clone());
        s.bureau_pd = r.probability_of_default;
    }
    Some((s, account))
}

impl StandingInputs {
    /// Adds an overdue item's open amount to every window it is more days past due than.
    fn add_overdue_over(&mut self, windows: &[Window], days_past_due: i64, open: Decimal) {
        for (w, over) in windows.iter().zip(self.overdue_over.iter_mut()) {
            if days_past_due > i64::from(w.days) {
                *over += open;
            }
        }
    }
}

/// Where standing comes from: the ledger in the pipeline, anything in a test.
pub trait StandingSource {
    /// The standing of a debtor on `today`.
    fn standing(&self, debtor_id: &str, today: NaiveDate, windows: &[Window]) -> StandingInputs;
}

impl StandingSource for Ledger {
    /// Balances from the account; the items are walked in due-date order by their keys,
    /// and only the overdue ones more days past due than the shortest window are looked
    /// up (for their open amount): by the sweep's invariant
    /// ([`Ledger::overdue_cutoff`]) the open items due before the cutoff are the overdue
    /// ones, the oldest first.
    fn standing(&self, debtor_id: &str, today: NaiveDate, windows: &[Window]) -> StandingInputs {
        let Some((mut s, account)) = of_account(self, debtor_id, windows) else {
            return StandingInputs::empty(windows);
        };
        s.open_balance = account.open_balance;
        s.overdue_balance = account.overdue_balance;
        s.open_items = account.open_item_count() as i64;
        let Some(cutoff) = self.overdue_cutoff() else {
            return s;
        };
        let shortest = windows.iter().map(|w| i64::from(w.days)).min();
        for (due, invoice_number) in account.open_item_keys() {
            if due >= cutoff {
                break;
            }
            let dpd = (today - due).num_days();
            s.overdue_items += 1;
            // The oldest comes first: its days past due are the most.
            s.oldest_overdue_days.get_or_insert(dpd);
            if shortest.is_none_or(|d| dpd <= d) {
                continue;
            }
            if let Some(item) = self.item(invoice_number) {
                s.add_overdue_over(windows, dpd, item.open_amount);
            }
        }
        s
    }
}

/// The standing by looking up every open item (the definition the walk by keys must
/// equal; for tests).
#[doc(hidden)]
pub fn standing_by_items(
    ledger: &Ledger,
    debtor_id: &str,
    today: NaiveDate,
    windows: &[Window],
) -> StandingInputs {
    let Some((mut s, account)) = of_account(ledger, debtor_id, windows) else {
        return StandingInputs::empty(windows);
    };
    for item in ledger.open_items_of(account) {
        s.open_balance += item.open_amount;
        s.open_items += 1;
        if item.overdue {
            let dpd = (today - item.due_date).num_days();
            s.overdue_balance += item.open_amount;
            s.overdue_items += 1;
            s.oldest_overdue_days = Some(s.oldest_overdue_days.map_or(dpd, |d| d.max(dpd)));
            s.add_overdue_over(windows, dpd, item.open_amount);
        }
    }
    s
}
