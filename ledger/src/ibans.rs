//! Who pays from which IBAN: from master data and learnt from matched payments.
//!
//! Master data is authoritative. A learnt IBAN that turns out to pay for two different
//! debtors becomes ambiguous and identifies nobody, so a shared account (a parent company,
//! a payment provider) never sends money to the wrong debtor.

use serde::{Deserialize, Serialize};

use crate::index::HashIndex;
use crate::references::{normalize_reference, normalized_reference};

/// The owner of one IBAN.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IbanOwner {
    /// The debtor, `None` when ambiguous.
    debtor_id: Option<String>,
    /// Whether master data says so (learning never overrides it).
    from_master: bool,
}

/// IBAN (normalised) → owner.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IbanDirectory {
    owners: HashIndex<String, IbanOwner>,
}

impl IbanDirectory {
    /// The debtor who pays from `iban`, when exactly one is known.
    pub(crate) fn owner(&self, iban: &str) -> Option<&str> {
        self.owners
            .get(normalized_reference(iban).as_ref())
            .and_then(|o| o.debtor_id.as_deref())
    }

    /// Master data says `debtor_id` owns `iban`.
    pub(crate) fn register(&mut self, iban: &str, debtor_id: &str) {
        self.owners.insert(
            normalize_reference(iban),
            IbanOwner {
                debtor_id: Some(debtor_id.to_owned()),
                from_master: true,
            },
        );
    }

    /// Master data no longer lists `iban` for `debtor_id`: forget it unless it was learnt
    /// (`still_learnt`), in which case it stays as a learnt IBAN of that debtor.
    pub(crate) fn unregister(&mut self, iban: &str, debtor_id: &str, still_learnt: bool) {
        let key = normalize_reference(iban);
        let Some(owner) = self.owners.get_mut(&key) else {
            return;
        };
        if owner.from_master && owner.debtor_id.as_deref() == Some(debtor_id) {
            if still_learnt {
                owner.from_master = false;
            } else {
                self.owners.remove(&key);
            }
        }
    }

    /// A matched payment from `iban` paid for `debtor_id`. Returns whether the IBAN is now
    /// known as the debtor's (false when it belongs to someone else or became ambiguous).
    pub(crate) fn learn(&mut self, iban: &str, debtor_id: &str) -> bool {
        let key = normalized_reference(iban);
        match self.owners.get_mut(key.as_ref()) {
            None => {
                self.owners.insert(
                    key.into_owned(),
                    IbanOwner {
                        debtor_id: Some(debtor_id.to_owned()),
                        from_master: false,
                    },
                );
                true
            }
            Some(owner) if owner.debtor_id.as_deref() == Some(debtor_id) => true,
            Some(owner) if owner.from_master => false,
            Some(owner) => {
                owner.debtor_id = None;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learnt_iban_identifies_its_debtor_regardless_of_spacing() {
        let mut dir = IbanDirectory::default();
        assert!(dir.learn("NL91 ABNA 0417 1643 00", "D1"));
        assert_eq!(dir.owner("nl91abna0417164300"), Some("D1"));
    }

    #[test]
    fn iban_paying_for_two_debtors_becomes_ambiguous() {
        let mut dir = IbanDirectory::default();
        dir.learn("NL91ABNA0417164300", "D1");
        assert!(!dir.learn("NL91ABNA0417164300", "D2"));
        assert_eq!(dir.owner("NL91ABNA0417164300"), None);
        assert!(!dir.learn("NL91ABNA0417164300", "D1"));
        assert_eq!(dir.owner("NL91ABNA0417164300"), None);
    }

    #[test]
    fn master_data_wins_over_learning() {
        let mut dir = IbanDirectory::default();
        dir.learn("NL91ABNA0417164300", "D2");
        dir.register("NL91ABNA0417164300", "D1");
        assert!(!dir.learn("NL91ABNA0417164300", "D2"));
        assert_eq!(dir.owner("NL91ABNA0417164300"), Some("D1"));
        dir.unregister("NL91ABNA0417164300", "D1", false);
        assert_eq!(dir.owner("NL91ABNA0417164300"), None);
    }
}
