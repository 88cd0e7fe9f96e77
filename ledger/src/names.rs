//! Who pays under which name: the debtors' names from master data, for a payer whose IBAN
//! the ledger does not know.
//!
//! A name identifies a debtor only when it is distinctive (at least two words of three or
//! more letters besides legal forms and name particles, so `J. de Vries` never does) and
//! exactly one debtor has it. Even then the matcher uses it only together with an exact
//! amount of one of that debtor's open items.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Words that do not make a name distinctive: legal forms and common particles.
const COMMON_WORDS: [&str; 24] = [
    "AND", "BVBA", "CIE", "COMPANY", "DEN", "DER", "DES", "DIE", "EN", "GMBH", "HET", "LES", "LTD",
    "SAS", "SARL", "SPRL", "SRL", "THE", "UND", "VAN", "VON", "VOF", "GROEP", "GROUPE",
];

/// Upper-case words of letters and digits, joined by one space (`de Vries B.V.` →
/// `DE VRIES B V`).
pub(crate) fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for word in name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_uppercase));
    }
    out
}

/// Whether a normalised name has at least two words of three or more letters that are
/// not legal forms or particles.
pub(crate) fn is_distinctive(normalized: &str) -> bool {
    normalized
        .split(' ')
        .filter(|w| w.chars().count() >= 3 && !COMMON_WORDS.contains(w))
        .count()
        >= 2
}

/// Normalised distinctive name → the debtors that have it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct NameDirectory {
    debtors: BTreeMap<String, BTreeSet<String>>,
}

impl NameDirectory {
    /// `debtor_id` is now called `new` (and no longer `old`).
    pub(crate) fn rename(&mut self, debtor_id: &str, old: Option<&str>, new: &str) {
        if let Some(old) = old {
            let key = normalize_name(old);
            if let Some(set) = self.debtors.get_mut(&key) {
                set.remove(debtor_id);
                if set.is_empty() {
                    self.debtors.remove(&key);
                }
            }
        }
        let key = normalize_name(new);
        if is_distinctive(&key) {
            self.debtors
                .entry(key)
                .or_default()
                .insert(debtor_id.to_owned());
        }
    }

    /// The one debtor with this distinctive name, if exactly one has it.
    pub(crate) fn owner(&self, name: &str) -> Option<&str> {
        let set = self.debtors.get(&normalize_name(name))?;
        match set.len() {
            1 => set.first().map(String::as_str),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_compared_without_case_and_punctuation() {
        assert_eq!(normalize_name("de Vries  Bouw B.V."), "DE VRIES BOUW B V");
        let mut dir = NameDirectory::default();
        dir.rename("D1", None, "Jansen Bloemen B.V.");
        assert_eq!(dir.owner("JANSEN BLOEMEN B.V."), Some("D1"));
        assert_eq!(dir.owner("jansen bloemen bv"), None, "BV is not B V");
    }

    #[test]
    fn person_names_and_shared_names_identify_nobody() {
        assert!(!is_distinctive(&normalize_name("J. de Vries")));
        assert!(!is_distinctive(&normalize_name("Schmidt GmbH")));
        assert!(is_distinctive(&normalize_name("Gemeente Utrecht")));
        let mut dir = NameDirectory::default();
        dir.rename("D1", None, "J. de Vries");
        assert_eq!(dir.owner("J. de Vries"), None);
        dir.rename("D2", None, "Stadt Essen");
        dir.rename("D3", None, "Stadt Essen");
        assert_eq!(dir.owner("Stadt Essen"), None);
        dir.rename("D3", Some("Stadt Essen"), "Stadt Bremen");
        assert_eq!(dir.owner("Stadt Essen"), Some("D2"));
        assert_eq!(dir.owner("stadt bremen"), Some("D3"));
    }
}
