//! The standing columns of the feature inputs: what a debtor owes and how overdue it is on
//! the day of scoring, its limit, bureau rating and type. Read from the ledger (the one
//! place open amounts change) at the moment features are computed, so they are always as
//! of that moment.

use chrono::NaiveDate;
use ledger::Ledger;
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

/// Where standing comes from: the ledger in the pipeline, anything in a test.
pub trait StandingSource {
    /// The standing of a debtor on `today`.
    fn standing(&self, debtor_id: &str, today: NaiveDate, windows: &[Window]) -> StandingInputs;
}

impl StandingSource for Ledger {
    fn standing(&self, debtor_id: &str, today: NaiveDate, windows: &[Window]) -> StandingInputs {
        let mut s = StandingInputs {
            overdue_over: vec![Decimal::ZERO; windows.len()],
            ..StandingInputs::default()
        };
        let Some(account) = self.debtor(debtor_id) else {
            return s;
        };
        s.unapplied_credit = account.unapplied_credit;
        s.credit_limit = account.credit_limit();
        s.debtor_type = account.debtor_type().map(|t| t.as_str());
        if let Some(r) = &account.bureau_rating {
            s.bureau_rating = Some(r.rating.clone());
            s.bureau_pd = r.probability_of_default;
        }
        for item in self.open_items_of(account) {
            s.open_balance += item.open_amount;
            s.open_items += 1;
            if item.overdue {
                let dpd = (today - item.due_date).num_days();
                s.overdue_balance += item.open_amount;
                s.overdue_items += 1;
                s.oldest_overdue_days = Some(s.oldest_overdue_days.map_or(dpd, |d| d.max(dpd)));
                for (w, over) in windows.iter().zip(s.overdue_over.iter_mut()) {
                    if dpd > i64::from(w.days) {
                        *over += item.open_amount;
                    }
                }
            }
        }
        s
    }
}
