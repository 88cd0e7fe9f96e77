use events::{DisputeOpened, DisputeOutcome, DisputeResolved, InputEvent};
use ledger::LedgerEffect;

use crate::support::*;

fn opened(id: &str, invoice: &str) -> InputEvent {
    InputEvent::DisputeOpened(DisputeOpened {
        dispute_id: id.into(),
        debtor_id: "D1".into(),
        invoice_number: invoice.into(),
        amount: None,
        reason: "goods damaged".into(),
    })
}

fn resolved(id: &str, invoice: &str) -> InputEvent {
    InputEvent::DisputeResolved(DisputeResolved {
        dispute_id: id.into(),
        debtor_id: "D1".into(),
        invoice_number: invoice.into(),
        outcome: DisputeOutcome::InvoiceUpheld,
    })
}

#[test]
fn dispute_flags_the_item_until_every_dispute_is_resolved() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-02-01"));
    let effects = h.on("2025-01-02", opened("X1", "A"));
    assert_eq!(names(&effects), ["dispute_opened"]);
    h.on("2025-01-02", opened("X2", "A"));
    assert!(h.ledger.item("A").unwrap().is_disputed());
    let effects = h.on("2025-01-03", resolved("X1", "A"));
    assert!(matches!(
        &effects[0],
        LedgerEffect::DisputeResolved {
            still_disputed: true,
            ..
        }
    ));
    h.on("2025-01-04", resolved("X2", "A"));
    assert!(!h.ledger.item("A").unwrap().is_disputed());
    assert_eq!(
        h.open("A"),
        dec("100"),
        "a dispute does not change balances"
    );
}

#[test]
fn dispute_on_an_unknown_invoice_is_reported_not_a_panic() {
    let mut h = Harness::new();
    let effects = h.on("2025-01-02", opened("X1", "NOPE"));
    assert!(matches!(
        &effects[..],
        [LedgerEffect::InvoiceUnknown { .. }]
    ));
    let effects = h.on("2025-01-02", resolved("X1", "NOPE"));
    assert!(matches!(
        &effects[..],
        [LedgerEffect::InvoiceUnknown { .. }]
    ));
}

#[test]
fn resolving_a_dispute_that_is_not_open_is_ignored() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-02-01"));
    let effects = h.on("2025-01-02", resolved("X9", "A"));
    assert!(matches!(&effects[..], [LedgerEffect::Ignored { .. }]));
}
