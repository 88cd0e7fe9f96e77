use ledger::LedgerEffect;

use crate::support::*;

#[test]
fn crossing_the_limit_is_reported_once_each_way() {
    let mut h = Harness::new();
    h.on("2025-01-01", debtor("D1", "150", &[]));
    h.on("2025-01-01", inv("A", "D1", "100", "2025-02-01"));
    let effects = h.on("2025-01-02", inv("B", "D1", "100", "2025-02-01"));
    assert!(matches!(
        &effects[1],
        LedgerEffect::ExposureAboveLimit { open_balance, credit_limit, .. }
            if *open_balance == dec("200") && *credit_limit == dec("150")
    ));
    assert!(h.ledger.standing("D1").unwrap().exposure_above_limit);
    let effects = h.on("2025-01-03", inv("C", "D1", "10", "2025-02-01"));
    assert!(
        !names(&effects).contains(&"exposure_above_limit"),
        "still above: no repeat"
    );

    let mut p = payment("P1", "100");
    p.remittance_text = Some("A".into());
    let effects = h.on("2025-01-04", paid(p));
    assert!(matches!(
        effects.iter().find(|e| e.name() == "exposure_within_limit"),
        Some(LedgerEffect::ExposureWithinLimit { open_balance, .. }) if *open_balance == dec("110")
    ));
    assert!(!h.ledger.standing("D1").unwrap().exposure_above_limit);
}

#[test]
fn limit_change_alone_can_cross_the_limit() {
    let mut h = Harness::new();
    h.on("2025-01-01", debtor("D1", "1000", &[]));
    h.on("2025-01-01", inv("A", "D1", "500", "2025-02-01"));
    let effects = h.on("2025-01-02", debtor("D1", "400", &[]));
    assert_eq!(
        names(&effects),
        ["debtor_updated", "exposure_above_limit", "standing_changed"]
    );
    let effects = h.on("2025-01-03", debtor("D1", "500", &[]));
    assert_eq!(
        names(&effects),
        [
            "debtor_updated",
            "exposure_within_limit",
            "standing_changed"
        ]
    );
}

#[test]
fn debtor_without_a_limit_has_no_exposure_checks() {
    let mut h = Harness::new();
    let effects = h.on("2025-01-01", inv("A", "D1", "1000000", "2025-02-01"));
    assert!(!names(&effects).iter().any(|n| n.starts_with("exposure")));
    assert!(!h.ledger.standing("D1").unwrap().exposure_above_limit);
}

fn limit_override(debtor: &str, limit: &str, currency: &str) -> events::InputEvent {
    events::InputEvent::LimitOverride(events::LimitOverride {
        debtor_id: debtor.into(),
        credit_limit: dec(limit),
        currency: events::Currency::parse(currency).unwrap(),
        set_by: "credit.devries".into(),
        reason: "test".into(),
    })
}

#[test]
fn a_limit_set_by_hand_takes_effect_and_outlives_later_master_data() {
    let mut h = Harness::new();
    h.on("2025-01-01", debtor("D1", "1000", &[]));
    h.on("2025-01-01", inv("A", "D1", "500", "2025-02-01"));
    let effects = h.on("2025-01-02", limit_override("D1", "400", "EUR"));
    assert_eq!(
        names(&effects),
        [
            "limit_overridden",
            "exposure_above_limit",
            "standing_changed"
        ]
    );
    assert!(matches!(
        &effects[0],
        LedgerEffect::LimitOverridden { credit_limit, previous, .. }
            if *credit_limit == dec("400") && *previous == Some(dec("1000"))
    ));
    // The ERP sends its master data again: the override stays in force.
    let effects = h.on("2025-01-03", debtor("D1", "1000", &[]));
    assert!(!names(&effects).iter().any(|n| n.starts_with("exposure")));
    assert_eq!(
        h.ledger.standing("D1").unwrap().credit_limit,
        Some(dec("400"))
    );
    // The next override replaces it.
    let effects = h.on("2025-01-04", limit_override("D1", "600", "EUR"));
    assert!(names(&effects).contains(&"exposure_within_limit"));
}

#[test]
fn a_limit_in_another_currency_than_the_account_is_ignored() {
    let mut h = Harness::new();
    h.on("2025-01-01", debtor("D1", "1000", &[]));
    let effects = h.on("2025-01-02", limit_override("D1", "5", "GBP"));
    assert!(matches!(
        &effects[..],
        [LedgerEffect::Ignored {
            reason: ledger::IgnoredReason::CurrencyMismatch,
            ..
        }]
    ));
    assert_eq!(
        h.ledger.standing("D1").unwrap().credit_limit,
        Some(dec("1000"))
    );
}
