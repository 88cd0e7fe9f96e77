use ledger::{LedgerEffect, PaymentStatus};

use crate::support::*;

fn with_text(id: &str, amount: &str, text: &str) -> events::InputEvent {
    let mut p = payment(id, amount);
    p.remittance_text = Some(text.into());
    paid(p)
}

#[test]
fn reversal_reopens_exactly_the_settled_items() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-02-01"));
    h.on("2025-01-01", inv("B", "D1", "50", "2025-02-01"));
    h.on("2025-01-01", inv("C", "D1", "70", "2025-02-01"));
    h.on("2025-01-05", with_text("P0", "20", "C"));
    h.on("2025-01-10", with_text("P1", "170", "A B"));
    assert_eq!(h.unapplied("D1"), dec("20"));
    let effects = h.on("2025-01-12", reversal("P1", "170", "AM04"));
    let LedgerEffect::PaymentReversed {
        reopened,
        unapplied_removed,
        reason_code,
        debtor_id,
        was_exception,
        ..
    } = &effects[0]
    else {
        panic!("{effects:?}")
    };
    let reopened: Vec<(&str, String)> = reopened
        .iter()
        .map(|a| (a.invoice_number.as_str(), a.amount.to_string()))
        .collect();
    assert_eq!(
        reopened,
        [("A", "100".to_string()), ("B", "50".to_string())]
    );
    assert_eq!(*unapplied_removed, dec("20"));
    assert_eq!(reason_code, "AM04");
    assert_eq!(debtor_id.as_deref(), Some("D1"));
    assert!(!was_exception);
    assert_eq!(h.open("A"), dec("100"));
    assert_eq!(h.open("B"), dec("50"));
    assert_eq!(h.open("C"), dec("50"), "another payment's allocation stays");
    assert_eq!(h.unapplied("D1"), dec("0"));
    assert!(h.ledger.payment("P1").unwrap().reversed);
    assert_eq!(h.ledger.totals().reversed, dec("170"));
}

#[test]
fn reversal_of_an_unknown_payment_is_an_exception_not_a_panic() {
    let mut h = Harness::new();
    let effects = h.on("2025-01-12", reversal("NOPE", "10", "MD06"));
    assert!(
        matches!(&effects[..], [LedgerEffect::ReversalUnknown { payment_id, .. }] if payment_id == "NOPE")
    );
    assert_eq!(h.ledger.totals().reversed, dec("0"));
}

#[test]
fn second_reversal_of_the_same_payment_is_ignored() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-02-01"));
    h.on("2025-01-10", with_text("P1", "100", "A"));
    h.on("2025-01-12", reversal("P1", "100", "AM04"));
    let effects = h.on("2025-01-13", reversal("P1", "100", "AM04"));
    assert!(matches!(
        &effects[..],
        [LedgerEffect::DuplicateIgnored { .. }]
    ));
    assert_eq!(h.open("A"), dec("100"));
}

#[test]
fn reversal_of_an_unmatched_payment_takes_it_out_of_the_exceptions() {
    let mut h = Harness::new();
    h.on("2025-01-10", paid(payment("P1", "42")));
    assert_eq!(
        h.ledger.payment("P1").unwrap().status,
        PaymentStatus::Unmatched
    );
    assert_eq!(h.ledger.totals().unmatched, dec("42"));
    let effects = h.on("2025-01-12", reversal("P1", "42", "MS02"));
    assert!(matches!(
        &effects[0],
        LedgerEffect::PaymentReversed {
            was_exception: true,
            ..
        }
    ));
    assert_eq!(h.ledger.totals().unmatched, dec("0"));
}

#[test]
fn reopened_item_already_past_due_turns_overdue_in_the_same_call() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-01-20"));
    h.on("2025-01-10", with_text("P1", "100", "A"));
    h.on("2025-02-01", tick());
    assert!(!h.ledger.item("A").unwrap().overdue, "paid before due");
    let effects = h.on("2025-02-03", reversal("P1", "100", "AM04"));
    assert_eq!(
        names(&effects),
        ["payment_reversed", "item_overdue", "standing_changed"]
    );
    assert_eq!(h.ledger.standing("D1").unwrap().overdue_balance, dec("100"));
    assert_eq!(h.ledger.standing("D1").unwrap().max_days_past_due, 14);
}

#[test]
fn a_return_naming_the_end_to_end_id_reverses_the_original_once() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-02-01"));
    let mut p = payment("TX-1", "100");
    p.method = events::PaymentMethod::DirectDebit;
    p.debtor_id = Some("D1".into());
    p.remittance_text = Some("A".into());
    p.end_to_end_id = Some("A-1".into());
    h.on("2025-01-10", paid(p));
    assert_eq!(
        h.ledger
            .payment_by_end_to_end_id("A-1")
            .map(|p| p.payment_id.as_str()),
        Some("TX-1")
    );
    let effects = h.on("2025-01-12", reversal("A-1", "100", "MD06"));
    let LedgerEffect::PaymentReversed { payment_id, .. } = &effects[0] else {
        panic!("{effects:?}")
    };
    assert_eq!(payment_id, "TX-1");
    assert_eq!(h.open("A"), dec("100"));
    // The same return again, by either id, changes nothing.
    for id in ["A-1", "TX-1"] {
        let effects = h.on("2025-01-13", reversal(id, "100", "MD06"));
        assert!(
            matches!(&effects[..], [LedgerEffect::DuplicateIgnored { key, .. }] if key == "TX-1"),
            "{effects:?}"
        );
    }
    assert_eq!(h.open("A"), dec("100"));
}
