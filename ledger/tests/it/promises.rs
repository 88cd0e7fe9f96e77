use ledger::{LedgerEffect, PromiseStatus};

use crate::support::*;

fn pay_debtor(id: &str, amount: &str) -> events::InputEvent {
    let mut p = payment(id, amount);
    p.debtor_id = Some("D1".into());
    paid(p)
}

#[test]
fn promise_paid_in_full_by_the_date_is_kept() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-01-15"));
    h.on("2025-01-20", promise("PR1", "D1", "100", "2025-01-31", &[]));
    assert!(h.ledger.open_promise_covering("A").is_some());
    h.on("2025-01-25", pay_debtor("P1", "60"));
    let effects = h.on("2025-01-30", pay_debtor("P2", "40"));
    assert!(
        effects.iter().any(
            |e| matches!(e, LedgerEffect::PromiseKept { promise_id, .. } if promise_id == "PR1")
        )
    );
    assert_eq!(h.ledger.promise("PR1").unwrap().status, PromiseStatus::Kept);
    let effects = h.on("2025-02-05", tick());
    assert!(!names(&effects).contains(&"promise_broken"));
}

#[test]
fn promise_short_paid_when_the_date_passes_is_broken() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-01-15"));
    h.on(
        "2025-01-20",
        promise("PR1", "D1", "100", "2025-01-31", &["A"]),
    );
    h.on("2025-01-25", pay_debtor("P1", "60"));
    let effects = h.on("2025-01-31", tick());
    assert!(
        !names(&effects).contains(&"promise_broken"),
        "not before the day has passed"
    );
    let effects = h.on("2025-02-01", tick());
    let [
        LedgerEffect::PromiseBroken {
            paid, promise_id, ..
        },
    ] = &effects[..]
    else {
        panic!("{effects:?}")
    };
    assert_eq!((promise_id.as_str(), *paid), ("PR1", dec("60")));
    assert!(h.ledger.open_promise_covering("A").is_none());
}

#[test]
fn money_paid_before_the_promise_does_not_count() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-01-15"));
    h.on("2025-01-18", pay_debtor("P1", "50"));
    h.on("2025-01-20", promise("PR1", "D1", "50", "2025-01-31", &[]));
    let effects = h.on("2025-02-01", tick());
    assert_eq!(names(&effects), ["promise_broken"]);
}

#[test]
fn reversed_payment_is_withdrawn_from_an_open_promise() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-01-15"));
    h.on("2025-01-20", promise("PR1", "D1", "100", "2025-01-31", &[]));
    h.on("2025-01-25", pay_debtor("P1", "60"));
    h.on("2025-01-26", reversal("P1", "60", "AM04"));
    assert_eq!(h.ledger.promise("PR1").unwrap().paid, dec("0"));
}

#[test]
fn promise_covers_only_the_invoices_it_names() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-01-15"));
    h.on("2025-01-01", inv("B", "D1", "100", "2025-01-15"));
    h.on(
        "2025-01-20",
        promise("PR1", "D1", "100", "2025-01-31", &["A"]),
    );
    assert!(h.ledger.open_promise_covering("A").is_some());
    assert!(h.ledger.open_promise_covering("B").is_none());
}
