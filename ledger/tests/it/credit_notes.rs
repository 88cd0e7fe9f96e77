use ledger::LedgerEffect;

use crate::support::*;

#[test]
fn credit_note_reduces_the_named_invoice() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-02-01"));
    let effects = h.on("2025-01-05", credit_note("CN1", "D1", "30", Some("A")));
    assert!(matches!(
        &effects[0],
        LedgerEffect::CreditNoteApplied { applied, unapplied, .. } if *applied == dec("30") && unapplied.is_zero()
    ));
    assert_eq!(h.open("A"), dec("70"));
    assert_eq!(h.ledger.item("A").unwrap().credited_amount, dec("30"));
}

#[test]
fn credit_note_larger_than_the_open_amount_leaves_unapplied_credit() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-02-01"));
    let effects = h.on("2025-01-05", credit_note("CN1", "D1", "130", Some("A")));
    assert_eq!(
        names(&effects),
        ["credit_note_applied", "item_settled", "standing_changed"]
    );
    assert_eq!(h.open("A"), dec("0"));
    assert_eq!(h.unapplied("D1"), dec("30"));
}

#[test]
fn credit_note_without_an_invoice_is_unapplied_credit() {
    let mut h = Harness::new();
    h.on("2025-01-05", credit_note("CN1", "D1", "25", None));
    assert_eq!(h.unapplied("D1"), dec("25"));
    assert_eq!(h.ledger.totals().credited, dec("25"));
}

#[test]
fn credit_note_naming_an_unknown_invoice_says_so_and_keeps_the_credit() {
    let mut h = Harness::new();
    let effects = h.on("2025-01-05", credit_note("CN1", "D1", "25", Some("NOPE")));
    assert!(
        matches!(&effects[0], LedgerEffect::InvoiceUnknown { invoice_number, .. } if invoice_number == "NOPE")
    );
    assert_eq!(h.unapplied("D1"), dec("25"));
}

#[test]
fn duplicate_credit_note_is_ignored() {
    let mut h = Harness::new();
    h.on("2025-01-05", credit_note("CN1", "D1", "25", None));
    let effects = h.on("2025-01-06", credit_note("CN1", "D1", "25", None));
    assert!(matches!(
        &effects[..],
        [LedgerEffect::DuplicateIgnored { .. }]
    ));
    assert_eq!(h.unapplied("D1"), dec("25"));
}
