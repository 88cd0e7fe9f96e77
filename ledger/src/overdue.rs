//! Items turning overdue as the clock moves: an index of not-yet-overdue items by due
//! date, so each sweep costs O(log n + k) for the k entries that fall due. Items settled
//! before their due date keep their entry until then and are skipped by the sweep.

use chrono::{NaiveDate, TimeDelta};

use crate::aging::days_past_due;
use crate::effects::LedgerEffect;
use crate::ledger::Ledger;

impl Ledger {
    /// The first due date that is not yet overdue on the clock's date: items due before it
    /// (due date + grace before today) are overdue.
    fn overdue_cutoff(&self) -> Option<NaiveDate> {
        let today = self.clock?.date_naive();
        let grace = TimeDelta::try_days(self.config.grace_days_before_overdue)?;
        today.checked_sub_signed(grace)
    }

    /// Flags every open item due before the cutoff as overdue, once.
    pub(crate) fn sweep_overdue(&mut self, effects: &mut Vec<LedgerEffect>) {
        let (Some(cutoff), Some(clock)) = (self.overdue_cutoff(), self.clock) else {
            return;
        };
        let today = clock.date_naive();
        while self.due_index.first().is_some_and(|(due, _)| *due < cutoff) {
            let Some((due_date, invoice_number)) = self.due_index.pop_first() else {
                break;
            };
            let Some(item) = self.items.get_mut(&invoice_number) else {
                continue;
            };
            if item.overdue || !item.is_open() {
                continue;
            }
            let debtor_id = &item.debtor_id;
            let Some(account) = self.accounts.get_mut(debtor_id) else {
                continue;
            };
            item.overdue = true;
            let before = account.overdue_balance;
            account.overdue_balance += item.open_amount;
            self.kpi_index
                .overdue_moved(debtor_id, before, account.overdue_balance);
            self.touched.insert(debtor_id.clone());
            effects.push(LedgerEffect::ItemOverdue {
                debtor_id: debtor_id.clone(),
                invoice_number,
                due_date,
                open_amount: item.open_amount,
                days_past_due: days_past_due(due_date, today),
            });
        }
    }
}
