//! [`RareVec`]: a list that nearly every record leaves empty (an item's disputes, a
//! payment's write-offs and promise credits), held behind a pointer that stays null while
//! it is empty: 8 bytes in the record instead of a `Vec`'s 24. The ledger keeps millions of
//! items and payments, each in an allocation of its own, and those bytes bring each into a
//! smaller size class of the allocator (a payment from 224 to 160 bytes, an item from 224
//! to 192). Serialises as the list itself (the same JSON as a `Vec`, or as a `BTreeSet`
//! when kept sorted with [`RareVec::insert_sorted`]).

use std::borrow::Borrow;
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A list, empty without an allocation of its own. Reads as a slice.
#[derive(Clone, PartialEq, Eq)]
// The box is the point: one pointer in the record while empty, the `Vec`'s three words
// only for the few records that have something in it.
#[allow(clippy::box_collection)]
pub struct RareVec<T>(Option<Box<Vec<T>>>);

impl<T> RareVec<T> {
    /// An empty list.
    pub const fn new() -> Self {
        RareVec(None)
    }

    /// Appends `value`.
    pub fn push(&mut self, value: T) {
        self.0.get_or_insert_with(Box::default).push(value);
    }

    /// Inserts `value` where it keeps the list sorted, unless it is there already;
    /// whether it was inserted (as `BTreeSet::insert`).
    pub fn insert_sorted(&mut self, value: T) -> bool
    where
        T: Ord,
    {
        match self.binary_search(&value) {
            Ok(_) => false,
            Err(at) => {
                self.0.get_or_insert_with(Box::default).insert(at, value);
                true
            }
        }
    }

    /// Removes `value` from a sorted list; whether it was there (as `BTreeSet::remove`).
    /// The list lets go of its allocation once empty.
    pub fn remove_sorted<Q>(&mut self, value: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let Some(list) = &mut self.0 else {
            return false;
        };
        match list.binary_search_by(|v| v.borrow().cmp(value)) {
            Ok(at) => {
                list.remove(at);
                if list.is_empty() {
                    self.0 = None;
                }
                true
            }
            Err(_) => false,
        }
    }
}

/// As the list it holds.
impl<T: std::fmt::Debug> std::fmt::Debug for RareVec<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T> Default for RareVec<T> {
    fn default() -> Self {
        RareVec::new()
    }
}

impl<T> Deref for RareVec<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl<'a, T> IntoIterator for &'a RareVec<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T> Extend<T> for RareVec<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        let mut iter = iter.into_iter().peekable();
        if iter.peek().is_some() {
            self.0.get_or_insert_with(Box::default).extend(iter);
        }
    }
}

impl<T> From<Vec<T>> for RareVec<T> {
    fn from(list: Vec<T>) -> Self {
        RareVec((!list.is_empty()).then(|| Box::new(list)))
    }
}

impl<T: Serialize> Serialize for RareVec<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for RareVec<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::deserialize(deserializer).map(RareVec::from)
    }
}

/// Whether the list is empty, for `skip_serializing_if`.
pub(crate) fn is_empty<T>(list: &RareVec<T>) -> bool {
    list.0.is_none()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_list_takes_one_pointer_and_no_allocation() {
        assert_eq!(
            std::mem::size_of::<RareVec<String>>(),
            std::mem::size_of::<usize>()
        );
        let list: RareVec<String> = RareVec::new();
        assert!(list.is_empty() && is_empty(&list));
        assert_eq!(RareVec::<u8>::from(Vec::new()), RareVec::new());
        let mut list: RareVec<u8> = RareVec::new();
        list.extend(std::iter::empty());
        assert!(is_empty(&list), "extending by nothing allocates nothing");
    }

    #[test]
    fn pushed_and_extended_values_read_back_in_order() {
        let mut list = RareVec::new();
        list.push(3);
        list.extend([1, 2]);
        assert_eq!(&*list, &[3, 1, 2]);
        assert_eq!(format!("{list:?}"), "[3, 1, 2]");
        assert_eq!(list.iter().copied().collect::<Vec<_>>(), vec![3, 1, 2]);
        assert_eq!((&list).into_iter().count(), 3);
    }

    #[test]
    fn a_sorted_list_behaves_as_a_set_and_lets_go_once_empty() {
        let mut set: RareVec<String> = RareVec::new();
        assert!(set.insert_sorted("b".into()));
        assert!(set.insert_sorted("a".into()));
        assert!(set.insert_sorted("c".into()));
        assert!(!set.insert_sorted("a".into()));
        assert_eq!(&*set, &["a", "b", "c"]);
        assert!(set.contains(&"b".to_owned()));
        assert!(!set.remove_sorted("x"));
        assert!(set.remove_sorted("b"));
        assert!(set.remove_sorted("a"));
        assert!(set.remove_sorted("c"));
        assert!(!set.remove_sorted("c"));
        assert!(is_empty(&set), "an emptied set holds no allocation");
    }

    #[test]
    fn serialises_as_the_list_and_as_the_set_a_btreeset_wrote() {
        let mut set: RareVec<String> = RareVec::new();
        for d in ["DSP-2", "DSP-1"] {
            set.insert_sorted(d.into());
        }
        let tree: std::collections::BTreeSet<String> =
            ["DSP-2".to_owned(), "DSP-1".to_owned()].into();
        assert_eq!(
            serde_json::to_string(&set).unwrap(),
            serde_json::to_string(&tree).unwrap()
        );
        let back: RareVec<String> = serde_json::from_str(r#"["DSP-1","DSP-2"]"#).unwrap();
        assert_eq!(back, set);
        let empty: RareVec<String> = serde_json::from_str("[]").unwrap();
        assert!(
            is_empty(&empty),
            "an empty list reads back without an allocation"
        );
        assert_eq!(serde_json::to_string(&empty).unwrap(), "[]");
    }
}
