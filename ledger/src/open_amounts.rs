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

use crate::index::{HashIndex, Key};
use crate::items::OpenItem;

/// Invoice numbers (unordered: nothing iterates them but a lookup, which sorts what it
/// finds by debtor). Most amounts have one open item or a few: a short list, searched
/// one by one, costs no table of its own; past [`LIST_MAX`] entries, a set.
#[derive(Clone, Debug)]
enum Entries {
    List(Vec<Key>),
    Set(HashSet<Key, RandomState>),
}

/// Entries kept in a list, at most.
const LIST_MAX: usize = 8;

impl Default for Entries {
    fn default() -> Self {
        Entries::List(Vec::new())
    }
}

/// Equal when they hold the same numbers, as a list or a set.
impl PartialEq for Entries {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|n| other.contains(n))
    }
}

impl Eq for Entries {}

impl Entries {
    fn len(&self) -> usize {
        match self {
            Entries::List(l) => l.len(),
            Entries::Set(s) => s.len(),
        }
    }

    fn contains(&self, number: &str) -> bool {
        match self {
            Entries::List(l) => l.iter().any(|n| n == number),
            Entries::Set(s) => s.contains(number),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Key> {
        let (list, set) = match self {
            Entries::List(l) => (Some(l), None),
            Entries::Set(s) => (None, Some(s)),
        };
        list.into_iter().flatten().chain(set.into_iter().flatten())
    }

    fn insert(&mut self, item: &OpenItem) {
        let number = item.invoice_number.as_str();
        match self {
            Entries::List(l) if l.iter().any(|n| n == number) => {}
            Entries::List(l) if l.len() < LIST_MAX => l.push(Key::from(number)),
            Entries::List(l) => {
                let mut set: HashSet<Key, RandomState> = l.drain(..).collect();
                set.insert(Key::from(number));
                *self = Entries::Set(set);
            }
            Entries::Set(s) => {
                if !s.contains(number) {
                    s.insert(Key::from(number));
                }
            }
        }
    }

    /// Removes the item; whether no entry is left.
    fn remove(&mut self, item: &OpenItem) -> bool {
        let number = item.invoice_number.as_str();
        match self {
            Entries::List(l) => {
                if let Some(at) = l.iter().position(|n| n == number) {
                    l.swap_remove(at);
                }
                l.is_empty()
            }
            Entries::Set(s) => {
                s.remove(number);
                s.is_empty()
            }
        }
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
    ) -> Vec<Key> {
        let key = (currency, amount);
        let mut debtors: BTreeSet<&str> = BTreeSet::new();
        for invoice in self
            .by_changed_open_amount
            .get(&key)
            .into_iter()
            .flat_map(Entries::iter)
        {
            if let Some(i) = item(invoice) {
                debtors.insert(&i.debtor_id);
            }
        }
        for invoice in self
            .by_invoice_amount
            .get(&key)
            .into_iter()
            .flat_map(Entries::iter)
        {
            if let Some(i) = item(invoice).filter(|i| i.open_amount == amount) {
                debtors.insert(&i.debtor_id);
            }
        }
        debtors.into_iter().take(limit).map(Key::from).collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    fn item(n: usize, amount: i64) -> OpenItem {
        crate::items::open_item(
            &format!("INV-{n}"),
            &format!("D{:02}", n % 13),
            Decimal::new(amount, 2),
        )
    }

    /// The debtors a lookup should find: every open item at that open amount.
    fn expected(items: &BTreeMap<Key, OpenItem>, amount: Decimal) -> Vec<String> {
        let debtors: BTreeSet<&str> = items
            .values()
            .filter(|i| i.is_open() && i.open_amount == amount)
            .map(|i| i.debtor_id.as_str())
            .collect();
        debtors.into_iter().map(str::to_owned).collect()
    }

    #[test]
    fn lookups_hold_through_many_items_at_one_amount_settled_and_part_paid() {
        let mut index = OpenAmountIndex::default();
        let mut items = BTreeMap::new();
        // Up to three times the list's size at one amount, then most of them settled or
        // part paid down to a second amount, in an order that empties lists and sets.
        // And a few at a second amount: a list.
        for n in (0..3 * LIST_MAX).chain(100..104) {
            let i = item(n, if n < 100 { 10_000 } else { 20_000 });
            index.changed(&i, Decimal::ZERO);
            items.insert(i.invoice_number.clone(), i);
        }
        let (full, part) = (Decimal::new(10_000, 2), Decimal::new(4_000, 2));
        let lookup = |index: &OpenAmountIndex, items: &BTreeMap<Key, OpenItem>, a| {
            index.debtors(Currency::EUR, a, usize::MAX, |n| items.get(n))
        };
        assert_eq!(lookup(&index, &items, full).len(), 13);
        let second = Decimal::new(20_000, 2);
        let pay = |index: &mut OpenAmountIndex,
                   items: &mut BTreeMap<Key, OpenItem>,
                   n: usize,
                   to: Decimal| {
            let i = items.get_mut(format!("INV-{n}").as_str()).unwrap();
            let old = i.open_amount;
            i.open_amount = to;
            index.changed(i, old);
            for a in [full, part, second] {
                assert_eq!(lookup(index, items, a), expected(items, a), "at {a}");
            }
        };
        for n in (0..3 * LIST_MAX).rev().chain([101, 103]) {
            pay(
                &mut index,
                &mut items,
                n,
                if n % 3 == 0 { part } else { Decimal::ZERO },
            );
        }
        assert!(lookup(&index, &items, full).is_empty());
        assert_eq!(lookup(&index, &items, second).len(), 2);
        assert_eq!(lookup(&index, &items, part).len(), LIST_MAX);
        // The part-paid ones paid off but one: out of the list of the open amount.
        for n in (3..3 * LIST_MAX).step_by(3) {
            pay(&mut index, &mut items, n, Decimal::ZERO);
        }
        assert_eq!(lookup(&index, &items, part).len(), 1);
        // Rebuilt from the items (as on loading a checkpoint): equal to the one kept
        // change by change, whatever form its entries took on the way.
        let mut rebuilt = OpenAmountIndex::default();
        for i in items.values() {
            rebuilt.issued(i);
        }
        assert_eq!(rebuilt, index);
        let mut other = OpenAmountIndex::default();
        other.issued(&item(999, 10_000));
        assert_ne!(other, index);
    }

    #[test]
    fn entries_are_equal_as_a_list_or_a_set() {
        let mut list = Entries::default();
        let mut set = Entries::default();
        for n in 0..=LIST_MAX {
            set.insert(&item(n, 1));
        }
        for n in 1..=LIST_MAX {
            assert!(!set.remove(&item(n, 1)));
        }
        list.insert(&item(0, 1));
        assert!(matches!(set, Entries::Set(_)) && matches!(list, Entries::List(_)));
        assert_eq!(list, set);
        list.insert(&item(0, 1));
        assert_eq!(list.len(), 1);
        list.insert(&item(1, 1));
        assert_ne!(list, set);
        assert!(set.remove(&item(0, 1)));
    }
}
