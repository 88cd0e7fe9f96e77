//! Which open items have a given open amount (the candidates listed on a payment nobody
//! could match), kept cheap for the common case.
//!
//! One index by (currency, open amount) of every open item, each entry its invoice number
//! and debtor: an item enters when its invoice is issued (or it re-opens), moves when a
//! part payment or credit note changes its open amount, and leaves when it is settled. A
//! change costs a hash lookup or two and no ordered walk; a lookup reads one entry list and
//! sorts its debtors, O(k log k) in the open items at that amount, and reads no item (it
//! runs for every payment from an unknown payer). It grows with what is open, not with
//! history.
//!
//! Most amounts have one open item: its entry sits in the table itself, with no allocation
//! of its own and no second cache miss to reach it. The earlier form (two indices, by
//! invoice amount and by changed open amount, of invoice numbers in a list allocated per
//! amount, each candidate's item read to learn its debtor) was 13 % of the ledger's samples
//! in `creditstream dataset` over 10 million events; replaying their ledger alone took
//! 73.5 s against 76.1 s on average (six runs each, 2026-12-05, within the machine's
//! spread of 70–83 s), 30–40 MB less memory, the same training set byte for byte.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};

use events::Currency;
use foldhash::fast::RandomState;
use rust_decimal::Decimal;

use crate::index::{HashIndex, Key};
use crate::items::OpenItem;

/// An open item as the index holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct OpenEntry {
    invoice_number: Key,
    debtor_id: Key,
}

impl OpenEntry {
    fn of(item: &OpenItem) -> OpenEntry {
        OpenEntry {
            invoice_number: item.invoice_number.clone(),
            debtor_id: item.debtor_id.clone(),
        }
    }
}

/// The open items at one amount (unordered: nothing iterates them but a lookup, which
/// sorts what it finds by debtor). One item sits in place; a few are a short list searched
/// one by one; past [`LIST_MAX`], a table by invoice number.
#[derive(Clone, Debug)]
enum Entries {
    One(OpenEntry),
    List(Vec<OpenEntry>),
    Set(HashMap<Key, Key, RandomState>),
}

/// Entries kept in a list, at most.
const LIST_MAX: usize = 8;

/// Equal when they hold the same items, in whichever form.
impl PartialEq for Entries {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|(number, debtor)| other.debtor_of(number) == Some(debtor))
    }
}

impl Eq for Entries {}

impl Entries {
    fn len(&self) -> usize {
        match self {
            Entries::One(_) => 1,
            Entries::List(l) => l.len(),
            Entries::Set(s) => s.len(),
        }
    }

    /// The debtor of the item `number`, if it is here.
    fn debtor_of(&self, number: &str) -> Option<&str> {
        match self {
            Entries::One(e) => (e.invoice_number == number).then_some(e.debtor_id.as_str()),
            Entries::List(l) => l
                .iter()
                .find(|e| e.invoice_number == number)
                .map(|e| e.debtor_id.as_str()),
            Entries::Set(s) => s.get(number).map(Key::as_str),
        }
    }

    /// (invoice number, debtor) of each item.
    fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let (one, list, set) = match self {
            Entries::One(e) => (Some(e), None, None),
            Entries::List(l) => (None, Some(l), None),
            Entries::Set(s) => (None, None, Some(s)),
        };
        let entries = one.into_iter().chain(list.into_iter().flatten());
        entries
            .map(|e| (e.invoice_number.as_str(), e.debtor_id.as_str()))
            .chain(
                set.into_iter()
                    .flatten()
                    .map(|(n, d)| (n.as_str(), d.as_str())),
            )
    }

    fn insert(&mut self, item: &OpenItem) {
        if self.debtor_of(&item.invoice_number).is_some() {
            return;
        }
        match self {
            Entries::One(_) => {
                let second = Entries::List(Vec::new());
                if let Entries::One(first) = std::mem::replace(self, second) {
                    *self = Entries::List(vec![first, OpenEntry::of(item)]);
                }
            }
            Entries::List(l) if l.len() < LIST_MAX => l.push(OpenEntry::of(item)),
            Entries::List(l) => {
                let mut set: HashMap<Key, Key, RandomState> = l
                    .drain(..)
                    .map(|e| (e.invoice_number, e.debtor_id))
                    .collect();
                set.insert(item.invoice_number.clone(), item.debtor_id.clone());
                *self = Entries::Set(set);
            }
            Entries::Set(s) => {
                s.insert(item.invoice_number.clone(), item.debtor_id.clone());
            }
        }
    }

    /// Removes the item; whether no entry is left.
    fn remove(&mut self, item: &OpenItem) -> bool {
        let number = item.invoice_number.as_str();
        match self {
            Entries::One(e) => e.invoice_number == number,
            Entries::List(l) => {
                if let Some(at) = l.iter().position(|e| e.invoice_number == number) {
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

/// Open items by (currency, open amount).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct OpenAmountIndex {
    by_open_amount: HashIndex<(Currency, Decimal), Entries>,
}

impl OpenAmountIndex {
    /// An item loaded from a checkpoint (live items enter through [`Self::changed`]).
    pub(crate) fn issued(&mut self, item: &OpenItem) {
        if item.is_open() {
            self.enter(item);
        }
    }

    /// `item`'s open amount changed from `old` (already set on the item).
    pub(crate) fn changed(&mut self, item: &OpenItem, old: Decimal) {
        if old > Decimal::ZERO
            && let Entry::Occupied(mut entries) = self.by_open_amount.entry((item.currency, old))
            && entries.get_mut().remove(item)
        {
            entries.remove();
        }
        if item.is_open() {
            self.enter(item);
        }
    }

    /// Enters `item` at its open amount (one hash of the amount, found or not).
    fn enter(&mut self, item: &OpenItem) {
        match self.by_open_amount.entry((item.currency, item.open_amount)) {
            Entry::Occupied(mut entries) => entries.get_mut().insert(item),
            Entry::Vacant(place) => {
                place.insert(Entries::One(OpenEntry::of(item)));
            }
        }
    }

    /// Debtors with an open item of exactly `amount` in `currency`, in debtor id order, at
    /// most `limit`.
    pub(crate) fn debtors(&self, currency: Currency, amount: Decimal, limit: usize) -> Vec<Key> {
        let debtors: BTreeSet<&str> = self
            .by_open_amount
            .get(&(currency, amount))
            .into_iter()
            .flat_map(Entries::iter)
            .map(|(_, debtor)| debtor)
            .collect();
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
        let lookup = |index: &OpenAmountIndex, a| index.debtors(Currency::EUR, a, usize::MAX);
        assert_eq!(lookup(&index, full).len(), 13);
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
                assert_eq!(lookup(index, a), expected(items, a), "at {a}");
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
        assert!(lookup(&index, full).is_empty());
        assert_eq!(lookup(&index, second).len(), 2);
        assert_eq!(lookup(&index, part).len(), LIST_MAX);
        // The part-paid ones paid off but one: out of the list of the open amount.
        for n in (3..3 * LIST_MAX).step_by(3) {
            pay(&mut index, &mut items, n, Decimal::ZERO);
        }
        assert_eq!(lookup(&index, part).len(), 1);
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
    fn entries_are_equal_as_one_a_list_or_a_set() {
        let mut one = Entries::One(OpenEntry::of(&item(0, 1)));
        let mut set = Entries::One(OpenEntry::of(&item(0, 1)));
        for n in 1..=LIST_MAX {
            set.insert(&item(n, 1));
        }
        assert!(matches!(set, Entries::Set(_)));
        for n in 1..=LIST_MAX {
            assert!(!set.remove(&item(n, 1)));
        }
        assert_eq!(one, set);
        one.insert(&item(0, 1));
        assert!(
            matches!(one, Entries::One(_)),
            "an item entered twice is one entry"
        );
        one.insert(&item(1, 1));
        assert!(matches!(one, Entries::List(_)) && one.len() == 2);
        assert_ne!(one, set);
        assert!(!one.remove(&item(1, 1)));
        assert_eq!(one, set);
        // The same number with another debtor is another entry.
        let mut other = OpenItem::clone(&item(0, 1));
        other.debtor_id = Key::from("elsewhere");
        assert_ne!(Entries::One(OpenEntry::of(&other)), set);
        assert!(set.remove(&item(0, 1)));
        assert!(one.remove(&item(0, 1)));
    }
}
