//! Which open items have a given open amount (the candidates listed on a payment nobody
//! could match), kept cheap for the common case.
//!
//! Two indices by (currency, amount), each to (debtor id, invoice number): one by the
//! invoice amount, of the items that are open (entered when the invoice is issued, left
//! when the item is settled, entered again if it re-opens); one by the open amount, only
//! for items whose open amount differs from their invoice amount (partly paid, credited,
//! reopened in part). A part payment touches only the second. A lookup reads both and
//! keeps the entries of the first index whose item is still open at that amount, so it
//! costs O(k) in the open items issued with that amount; it runs only for exceptions.
//! Neither index keeps a settled item: they grow with what is open, not with history.

use std::collections::{BTreeMap, BTreeSet};

use events::Currency;
use rust_decimal::Decimal;

use crate::index::HashIndex;
use crate::items::OpenItem;

/// Debtor id → invoice numbers, both in order (entries enter and leave without copying
/// the strings they look up).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Entries(BTreeMap<String, BTreeSet<String>>);

impl Entries {
    fn insert(&mut self, item: &OpenItem) {
        let invoice = item.invoice_number.clone();
        match self.0.get_mut(item.debtor_id.as_str()) {
            Some(invoices) => {
                invoices.insert(invoice);
            }
            None => {
                self.0
                    .insert(item.debtor_id.clone(), BTreeSet::from([invoice]));
            }
        }
    }

    /// Removes the item; whether no entry is left.
    fn remove(&mut self, item: &OpenItem) -> bool {
        if let Some(invoices) = self.0.get_mut(item.debtor_id.as_str()) {
            invoices.remove(item.invoice_number.as_str());
            if invoices.is_empty() {
                self.0.remove(item.debtor_id.as_str());
            }
        }
        self.0.is_empty()
    }

    /// (debtor id, invoice number) in order.
    fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .flat_map(|(d, invoices)| invoices.iter().map(move |i| (d.as_str(), i.as_str())))
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
        let mut debtors: BTreeSet<&str> = self
            .by_changed_open_amount
            .get(&key)
            .into_iter()
            .flat_map(Entries::iter)
            .map(|(debtor, _)| debtor)
            .collect();
        // Entries come in debtor order: once `limit` debtors are found, a new one cannot
        // be among the first `limit`.
        let mut found: BTreeSet<&str> = BTreeSet::new();
        for (debtor, invoice) in self
            .by_invoice_amount
            .get(&key)
            .into_iter()
            .flat_map(Entries::iter)
        {
            if found.len() >= limit && found.last() != Some(&debtor) {
                break;
            }
            if item(invoice).is_some_and(|i| i.open_amount == amount) {
                found.insert(debtor);
            }
        }
        debtors.extend(found);
        debtors.into_iter().take(limit).map(str::to_owned).collect()
    }
}
