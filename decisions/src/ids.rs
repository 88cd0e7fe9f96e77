//! Deterministic output ids: `<rule>:<cause event id>`, plus `:<discriminator>` where one
//! cause can yield several outputs of one rule (an invoice number, a debtor id, a promise
//! id). The same input always gives the same ids, so a replay publishes nothing new.

use std::collections::HashSet;

/// The ids handed out while deciding on one cause. A hash set: only membership counts
/// (never the order), and the ids of one cause share a long prefix (`score_update:<cause>:`
/// for the thousand debtors of a score point) that every comparison of an ordered set
/// would read again.
#[derive(Debug, Default)]
pub(crate) struct OutputIds {
    seen: HashSet<String>,
}

impl OutputIds {
    /// The id for `rule` on `cause_event_id`, with an optional discriminator. Should the
    /// same id come up twice for one cause, later ones get `:2`, `:3`... so ids stay unique
    /// and still deterministic.
    pub(crate) fn next(
        &mut self,
        rule: &str,
        cause_event_id: &str,
        discriminator: Option<&str>,
    ) -> String {
        let base = match discriminator {
            Some(d) => format!("{rule}:{cause_event_id}:{d}"),
            None => format!("{rule}:{cause_event_id}"),
        };
        let mut id = base.clone();
        let mut n = 1;
        while !self.seen.insert(id.clone()) {
            n += 1;
            id = format!("{base}:{n}");
        }
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_rule_cause_and_discriminator() {
        let mut ids = OutputIds::default();
        assert_eq!(
            ids.next("reminder", "e1", Some("INV-1")),
            "reminder:e1:INV-1"
        );
        assert_eq!(
            ids.next("unmatched_payment", "e1", None),
            "unmatched_payment:e1"
        );
    }

    #[test]
    fn repeated_id_within_one_cause_gets_a_counter() {
        let mut ids = OutputIds::default();
        assert_eq!(ids.next("x", "e1", None), "x:e1");
        assert_eq!(ids.next("x", "e1", None), "x:e1:2");
        assert_eq!(ids.next("x", "e1", None), "x:e1:3");
    }
}
