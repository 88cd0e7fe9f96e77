//! Payments short by bank costs: within the tolerance the rest is written off (or left
//! open, by policy), recorded as its own allocation kind; a reversal takes it back.

use ledger::{AllocationKind, LedgerConfig, LedgerEffect, ShortPaymentPolicy};

use crate::support::*;

fn with_text(id: &str, amount: &str, text: &str) -> events::InputEvent {
    let mut p = payment(id, amount);
    p.remittance_text = Some(text.into());
    paid(p)
}

fn write_offs(effects: &[LedgerEffect]) -> Vec<(String, String, AllocationKind)> {
    effects
        .iter()
        .find_map(|e| match e {
            LedgerEffect::PaymentApplied { write_offs, .. } => Some(
                write_offs
                    .iter()
                    .map(|w| (w.invoice_number.to_string(), w.amount.to_string(), w.kind))
                    .collect(),
            ),
            _ => None,
        })
        .expect("a PaymentApplied effect")
}

#[test]
fn a_payment_short_by_bank_costs_settles_the_item_and_writes_the_rest_off() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-02-01"));
    let effects = h.on("2025-01-10", with_text("P1", "97.50", "A"));
    assert_eq!(
        write_offs(&effects),
        [("A".into(), "2.50".into(), AllocationKind::WriteOff)]
    );
    assert_eq!(
        names(&effects),
        ["payment_applied", "item_settled", "standing_changed"]
    );
    let item = h.ledger.item("A").unwrap();
    assert_eq!(item.open_amount, dec("0"));
    assert_eq!(item.paid_amount, dec("97.50"));
    assert_eq!(item.written_off_amount, dec("2.50"));
    let totals = h.ledger.totals();
    assert_eq!(totals.written_off, dec("2.50"));
    assert_eq!(totals.allocated, dec("97.50"));
    assert!(totals.is_balanced());
}

#[test]
fn a_shortfall_beyond_the_tolerance_is_a_partial_payment() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-02-01"));
    h.on("2025-01-01", inv("B", "D1", "20", "2025-02-01"));
    // More than 5.00 short.
    assert!(write_offs(&h.on("2025-01-10", with_text("P1", "94.99", "A"))).is_empty());
    assert_eq!(h.open("A"), dec("5.01"));
    // Within 5.00 but more than 10 % of a small item.
    assert!(write_offs(&h.on("2025-01-10", with_text("P2", "17.90", "B"))).is_empty());
    assert_eq!(h.open("B"), dec("2.10"));
}

#[test]
fn the_leave_open_policy_keeps_the_rest_on_the_item() {
    let mut h = Harness::with(LedgerConfig {
        short_payment_policy: ShortPaymentPolicy::LeaveOpen,
        ..LedgerConfig::default()
    });
    h.on("2025-01-01", inv("A", "D1", "100", "2025-02-01"));
    let effects = h.on("2025-01-10", with_text("P1", "98", "A"));
    assert!(write_offs(&effects).is_empty());
    assert!(!names(&effects).contains(&"item_settled"));
    assert_eq!(h.open("A"), dec("2"));
}

#[test]
fn several_named_items_short_in_total_write_off_the_last_items_rest() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-02-01"));
    h.on("2025-01-01", inv("B", "D1", "60", "2025-02-01"));
    let effects = h.on("2025-01-10", with_text("P1", "158.75", "A B"));
    assert_eq!(
        write_offs(&effects),
        [("B".into(), "1.25".into(), AllocationKind::WriteOff)]
    );
    assert_eq!(h.open("A"), dec("0"));
    assert_eq!(h.open("B"), dec("0"));
}

#[test]
fn reversing_a_short_payment_reopens_the_whole_item() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-02-01"));
    h.on("2025-01-10", with_text("P1", "97.50", "A"));
    let effects = h.on("2025-01-12", reversal("P1", "97.50", "AM04"));
    let LedgerEffect::PaymentReversed { reopened, .. } = &effects[0] else {
        panic!("{effects:?}")
    };
    let reopened: Vec<(String, AllocationKind)> = reopened
        .iter()
        .map(|a| (a.amount.to_string(), a.kind))
        .collect();
    assert_eq!(
        reopened,
        [
            ("97.50".into(), AllocationKind::Payment),
            ("2.50".into(), AllocationKind::WriteOff)
        ]
    );
    let item = h.ledger.item("A").unwrap();
    assert_eq!(item.open_amount, dec("100"));
    assert_eq!(item.written_off_amount, dec("0"));
    assert_eq!(h.ledger.totals().written_off, dec("0"));
}
