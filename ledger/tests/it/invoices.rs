use ledger::LedgerEffect;

use crate::support::*;

#[test]
fn invoice_opens_an_item_for_its_full_amount() {
    let mut h = Harness::new();
    let effects = h.on("2025-01-01", inv("INV-1", "D1", "100.00", "2025-01-31"));
    assert_eq!(names(&effects), ["invoice_opened", "standing_changed"]);
    assert_eq!(h.open("INV-1"), dec("100"));
    let standing = h.ledger.standing("D1").unwrap();
    assert_eq!(standing.open_balance, dec("100"));
    assert_eq!(standing.credit_limit, None, "implicit debtor has no limit");
    assert_eq!(h.ledger.totals().invoiced, dec("100"));
}

#[test]
fn duplicate_invoice_number_is_ignored() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("INV-1", "D1", "100", "2025-01-31"));
    let effects = h.on("2025-01-02", inv("INV-1", "D1", "999", "2025-02-28"));
    assert!(matches!(&effects[..], [LedgerEffect::DuplicateIgnored { key, .. }] if key == "INV-1"));
    assert_eq!(h.open("INV-1"), dec("100"));
    assert_eq!(h.ledger.totals().invoiced, dec("100"));
}

#[test]
fn debtor_update_stores_master_data_and_reports_the_limit() {
    let mut h = Harness::new();
    let effects = h.on("2025-01-01", debtor("D1", "5000", &[]));
    assert_eq!(names(&effects), ["debtor_updated", "standing_changed"]);
    let account = h.ledger.debtor("D1").unwrap();
    assert_eq!(account.credit_limit(), Some(dec("5000")));
    assert_eq!(account.preferred_channel(), Some(events::Channel::Letter));
    // Same limit again: no standing change.
    let effects = h.on("2025-01-02", debtor("D1", "5000", &[]));
    assert_eq!(names(&effects), ["debtor_updated"]);
}

#[test]
fn aging_buckets_sum_the_open_items_by_days_past_due() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "10", "2025-03-01"));
    h.on("2025-01-01", inv("B", "D1", "20", "2025-02-20"));
    h.on("2025-01-01", inv("C", "D1", "40", "2024-11-01"));
    let aging = h.ledger.aging("D1", date("2025-03-01"));
    assert_eq!(aging.current, dec("10"));
    assert_eq!(aging.days_1_30, dec("20"));
    assert_eq!(aging.days_61_90, dec("0"));
    assert_eq!(aging.over_90, dec("40"));
}
