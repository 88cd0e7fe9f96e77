//! Open items: one per invoice, with what is still open on it and its flags.

use chrono::NaiveDate;
use events::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::index::Key;
use crate::rare::RareVec;

/// An invoice in the sub-ledger. Items stay in the ledger after they are settled
/// (history); [`OpenItem::is_open`] says whether money is still owed. Serialised
/// (checkpoints) without the fields that hold their default (no reference, nothing ever
/// credited or written off, not overdue, no dispute, not settled).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenItem {
    /// Invoice number, unique per creditor.
    pub invoice_number: Key,
    /// Debtor who owes it.
    pub debtor_id: Key,
    /// Gross amount invoiced.
    pub amount: Decimal,
    /// Currency.
    pub currency: Currency,
    /// Issue date.
    pub issue_date: NaiveDate,
    /// Due date.
    pub due_date: NaiveDate,
    /// Structured payment reference printed on the invoice, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_reference: Option<Key>,
    /// Amount still owed: `amount − paid_amount − credited_amount − written_off_amount`.
    pub open_amount: Decimal,
    /// Amount applied from payments (net of reversals).
    pub paid_amount: Decimal,
    /// Amount taken off by credit notes.
    #[serde(default, skip_serializing_if = "crate::items::is_plain_zero")]
    pub credited_amount: Decimal,
    /// Rest written off within the bank-cost tolerance (net of reversals).
    #[serde(default, skip_serializing_if = "crate::items::is_plain_zero")]
    pub written_off_amount: Decimal,
    /// Whether the item has turned overdue (set once, never cleared).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub overdue: bool,
    /// Open disputes on the item, by dispute id, in order (a set; most items never have
    /// one, so it takes no allocation while empty).
    #[serde(
        default,
        skip_serializing_if = "crate::rare::is_empty",
        deserialize_with = "sorted_set"
    )]
    pub disputes: RareVec<String>,
    /// Date the open amount last reached zero, while it is zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_on: Option<NaiveDate>,
}

/// A zero as the ledger starts every sum (`0`, no decimal places): left out when
/// serialised, since it reads back the same. A zero reached by arithmetic (`0.00`) is
/// written, so that a restored amount prints as the running one would.
pub(crate) fn is_plain_zero(d: &Decimal) -> bool {
    d.is_zero() && d.scale() == 0
}

impl OpenItem {
    /// Whether money is still owed on the item.
    pub fn is_open(&self) -> bool {
        self.open_amount > Decimal::ZERO
    }

    /// Whether at least one dispute on the item is open.
    pub fn is_disputed(&self) -> bool {
        !self.disputes.is_empty()
    }

    /// Key of the item in due-date order (oldest due first, ties by invoice number).
    pub(crate) fn due_key(&self) -> (NaiveDate, Key) {
        (self.due_date, self.invoice_number.clone())
    }
}

/// A set of ids as a checkpoint wrote it (a `BTreeSet`: in order, each once), put in
/// order whatever the input says.
fn sorted_set<'de, D: serde::Deserializer<'de>>(d: D) -> Result<RareVec<String>, D::Error> {
    let mut ids: Vec<String> = Vec::deserialize(d)?;
    ids.sort_unstable();
    ids.dedup();
    Ok(RareVec::from(ids))
}

/// An item of `amount` in EUR, open for all of it, issued and due on 2026-01-31 (tests).
#[cfg(test)]
pub(crate) fn open_item(number: &str, debtor: &str, amount: Decimal) -> OpenItem {
    let day = NaiveDate::from_ymd_opt(2026, 1, 31).expect("a date");
    OpenItem {
        invoice_number: number.into(),
        debtor_id: debtor.into(),
        amount,
        currency: Currency::EUR,
        issue_date: day,
        due_date: day,
        payment_reference: None,
        open_amount: amount,
        paid_amount: Decimal::ZERO,
        credited_amount: Decimal::ZERO,
        written_off_amount: Decimal::ZERO,
        overdue: false,
        disputes: RareVec::new(),
        settled_on: None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// An item is held behind a shared pointer (16 bytes of counts): at 176 bytes the two
    /// take 192, one of the allocator's size classes, where 192 bytes took 224.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn an_item_stays_within_its_size_class() {
        assert!(std::mem::size_of::<OpenItem>() <= 176);
    }

    #[test]
    fn disputes_read_back_as_a_set_whatever_order_they_were_written_in() {
        let item = open_item("INV-1", "D1", Decimal::new(10000, 2));
        let mut written = serde_json::to_value(&item).unwrap();
        written["disputes"] = serde_json::json!(["DSP-2", "DSP-1", "DSP-2"]);
        let read: OpenItem = serde_json::from_value(written).unwrap();
        assert_eq!(&*read.disputes, &["DSP-1", "DSP-2"]);
        assert!(read.is_disputed());
    }

    #[test]
    fn defaults_are_left_out_when_written_and_read_back_either_way() {
        let item = open_item("INV-1", "D1", Decimal::new(10000, 2));
        let written = serde_json::to_string(&item).unwrap();
        for left_out in [
            "payment_reference",
            "credited_amount",
            "written_off_amount",
            "overdue",
            "disputes",
            "settled_on",
        ] {
            assert!(!written.contains(left_out), "{written}");
        }
        assert_eq!(serde_json::from_str::<OpenItem>(&written).unwrap(), item);
        // As checkpoints of format 2 and before wrote it: every field.
        let full = r#"{"invoice_number":"INV-1","debtor_id":"D1","amount":"100.00","currency":"EUR","issue_date":"2026-01-31","due_date":"2026-01-31","payment_reference":null,"open_amount":"100.00","paid_amount":"0","credited_amount":"0","written_off_amount":"0","overdue":false,"disputes":[],"settled_on":null}"#;
        assert_eq!(serde_json::from_str::<OpenItem>(full).unwrap(), item);
        // A zero reached by arithmetic keeps its decimal places through a round trip.
        let credited_back = OpenItem {
            credited_amount: Decimal::new(0, 2),
            ..item
        };
        let written = serde_json::to_string(&credited_back).unwrap();
        assert!(written.contains(r#""credited_amount":"0.00""#), "{written}");
        let read: OpenItem = serde_json::from_str(&written).unwrap();
        assert_eq!(read.credited_amount.to_string(), "0.00");
    }
}
