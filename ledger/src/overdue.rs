//! Items turning overdue as the clock moves: an index of not-yet-overdue items by due
//! date, so each sweep costs O(log n + k) for the k entries that fall due. Items settled
//! before their due date keep their entry until then and are skipped by the sweep.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeDelta};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::aging::days_past_due;
use crate::effects::LedgerEffect;
use crate::index::Key;
use crate::ledger::Ledger;

impl Ledger {
    /// The first due date that is not yet overdue on the clock's date: items due before it
    /// (due date + grace before today) are overdue. Between calls every open item due
    /// before it has been flagged overdue (`apply` and `advance_to` sweep before they
    /// return), and none due on or after it has: the flag never goes back and the clock
    /// never goes back, so with an unchanged grace the open items in due-date order are
    /// the overdue ones, then the others ([`DebtorAccount::open_item_keys`] without
    /// looking the items up). `None` before the clock is set.
    ///
    /// [`DebtorAccount::open_item_keys`]: crate::DebtorAccount::open_item_keys
    pub fn overdue_cutoff(&self) -> Option<NaiveDate> {
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
        for (due_date, invoice_number) in self.due_index.take_before(cutoff) {
            let Some(item) = self
                .items
                .get_mut(invoice_number.as_str())
                .map(|i| &mut **i)
            else {
                continue;
            };
            if item.overdue || !item.is_open() {
                continue;
            }
            let debtor_id = &item.debtor_id;
            let Some(account) = self.accounts.get_mut(debtor_id.as_str()) else {
                continue;
            };
            item.overdue = true;
            let before = account.overdue_balance;
            account.overdue_balance += item.open_amount;
            self.kpi_index
                .overdue_moved(debtor_id, before, account.overdue_balance);
            self.touched.insert(Key::from(debtor_id.as_str()));
            effects.push(LedgerEffect::ItemOverdue {
                debtor_id: debtor_id.to_string(),
                invoice_number: invoice_number.into_string(),
                due_date,
                open_amount: item.open_amount,
                days_past_due: days_past_due(due_date, today),
            });
        }
    }
}

/// Open items not yet overdue by due date: (due date, invoice number) entries, a set in
/// effect. Entries wait in a list per date and are sorted when their date is taken (or
/// the index written), so an invoice costs a comparison of dates, not of strings, to
/// enter. Serialised as the ordered set of pairs.
#[derive(Clone, Debug, Default)]
pub(crate) struct DueIndex(BTreeMap<NaiveDate, Vec<Key>>);

impl DueIndex {
    pub(crate) fn insert(&mut self, due: NaiveDate, invoice_number: &str) {
        self.0
            .entry(due)
            .or_default()
            .push(Key::from(invoice_number));
    }

    /// Takes the entries due before `cutoff`, in (due date, invoice number) order, once
    /// each.
    fn take_before(&mut self, cutoff: NaiveDate) -> Vec<(NaiveDate, Key)> {
        let mut taken = Vec::new();
        while let Some(entry) = self.0.first_entry() {
            if *entry.key() >= cutoff {
                break;
            }
            let (due, numbers) = entry.remove_entry();
            taken.extend(sorted(numbers).into_iter().map(|n| (due, n)));
        }
        taken
    }

    /// Every entry in order, once each.
    fn pairs(&self) -> impl Iterator<Item = (NaiveDate, Key)> + '_ {
        self.0
            .iter()
            .flat_map(|(due, numbers)| sorted(numbers.clone()).into_iter().map(|n| (*due, n)))
    }
}

fn sorted(mut numbers: Vec<Key>) -> Vec<Key> {
    numbers.sort_unstable();
    numbers.dedup();
    numbers
}

impl PartialEq for DueIndex {
    fn eq(&self, other: &Self) -> bool {
        self.pairs().eq(other.pairs())
    }
}

impl Serialize for DueIndex {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.pairs())
    }
}

impl<'de> Deserialize<'de> for DueIndex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pairs = Vec::<(NaiveDate, Key)>::deserialize(deserializer)?;
        let mut index = DueIndex::default();
        for (due, number) in pairs {
            index.0.entry(due).or_default().push(number);
        }
        Ok(index)
    }
}
