//! Which open items have a given open amount (the candidates listed on a payment nobody
//! could match), kept cheap for the common case.
//!
//! Two indices by (currency, amount), each to invoice numbers: one by the invoice amount,
//! of the items that are open (entered when the invoice is issued, left when the item is
//! settled, entered again if it re-opens); one by the open amount, only for items whose
//! open amount differs from their invoice amount (partly paid, credited, reopened in part).
//! A part payment touches only the second. Keeping them costs a hash lookup per change,
//! no ordered walk: the order is made at a lookup, which reads both, keeps the entries of
//! the first index whose item is still open at that amount and sorts their debtors, so it
//! costs O(k log k) in the open items at that amount; it runs only for exceptions.
//! Neither index keeps a settled item: they grow with what is open, not with history.

use std::collections::{BTreeSet, HashSet};

use events::Currency;
use foldhash::fast::RandomState;
use rust_decimal::Decimal;

use crate::index::HashIndex;
use crate::items::OpenItem;

/// Invoice numbers (unordered: nothing iterates them but a lookup, which sorts what it
/// finds by debtor).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Entries(HashSet<String, RandomState>);

impl Entries {
    fn insert(&mut self, item: &OpenItem) {
        if !self.0.contains(item.invoice_number.as_str()) {
            self.0.insert(item.invoice_number.clone());
        }
    }

    /// Removes the item; whether no entry is left.
    fn remove(&mut self, item: &OpenItem) -> bool {
        self.0.remove(item.invoice_number.as_str());
        self.0.is_empty()
    }
}

/// The two indices.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct OpenAmountIndex {
    by_invoice_amount: HashIndex<(Currency, Decimal), Entries>,
    by_changed_open_amount: HashIndex<(Currency, Decimal), Entries>,
}

impl OpenAmountIndex {
    /// An item loaded from a checkpoint (live items enter through [`Self::changed`]).
    pub(crate) fn issued(&mut self, item: &OpenItem) {
        if !item.is_open() {
            return;
        }
        self.by_invoice_amount
            .entry((item.currency, item.amount))
            .or_default()
            .insert(item);
        if item.open_amount != item.amount {
            self.changed(item, Decimal::ZERO);
        }
    }

    /// `item`'s open amount changed from `old` (already set on the item).
    pub(crate) fn changed(&mut self, item: &OpenItem, old: Decimal) {
        let (was_open, is_open) = (old > Decimal::ZERO, item.is_open());
        if was_open != is_open {
            let key = (item.currency, item.amount);
            if is_open {
                self.by_invoice_amount.entry(key).or_default().insert(item);
            } else if let Some(entries) = self.by_invoice_amount.get_mut(&key)
                && entries.remove(item)
            {
                self.by_invoice_amount.remove(&key);
            }
        }
        let was_indexed = old > Decimal::ZERO && old != item.amount;
        let is_indexed = item.open_amount > Decimal::ZERO && item.open_amount != item.amount;
        if was_indexed {
            let key = (item.currency, old);
            if let Some(entries) = self.by_changed_open_amount.get_mut(&key)
                && entries.remove(item)
            {
                self.by_changed_open_amount.remove(&key);
            }
        }
        if is_indexed {
            self.by_changed_open_amount
                .entry((item.currency, item.open_amount))
                .or_default()
                .insert(item);
        }
    }

    /// Debtors with an open item of exactly `amount` in `currency`, in debtor id order, at
    /// most `limit`. `item` looks an item up by invoice number.
    pub(crate) fn debtors<'a>(
        &self,
        currency: Currency,
        amount: Decimal,
        limit: usize,
        item: impl Fn(&str) -> Option<&'a OpenItem>,
    ) -> Vec<String> {
        let key = (currency, amount);
        let mut debtors: BTreeSet<&str> = BTreeSet::new();
        for invoice in self
            .by_changed_open_amount
            .get(&key)
            .into_iter()
            .flat_map(|e| &e.0)
        {
            if let Some(i) = item(invoice) {
                debtors.insert(&i.debtor_id);
            }
        }
        for invoice in self
            .by_invoice_amount
            .get(&key)
            .into_iter()
            .flat_map(|e| &e.0)
        {
            if let Some(i) = item(invoice).filter(|i| i.open_amount == amount) {
                debtors.insert(&i.debtor_id);
            }
        }
        debtors.into_iter().take(limit).map(str::to_owned).collect()
    }
}
