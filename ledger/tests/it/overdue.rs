use ledger::{LedgerConfig, LedgerEffect};

use crate::support::*;

#[test]
fn item_turns_overdue_the_day_after_its_due_date_exactly_once() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-01-31"));
    assert!(h.on("2025-01-31", tick()).is_empty());
    let effects = h.on("2025-02-01", tick());
    let [
        LedgerEffect::ItemOverdue {
            invoice_number,
            days_past_due,
            open_amount,
            ..
        },
        LedgerEffect::StandingChanged { .. },
    ] = &effects[..]
    else {
        panic!("{effects:?}")
    };
    assert_eq!(
        (invoice_number.as_str(), *days_past_due, *open_amount),
        ("A", 1, dec("100"))
    );
    assert!(h.on("2025-02-10", tick()).is_empty());
    let standing = h.ledger.standing("D1").unwrap();
    assert_eq!(standing.overdue_balance, dec("100"));
    assert_eq!(standing.max_days_past_due, 10);
}

#[test]
fn grace_days_delay_the_overdue_flag() {
    let mut h = Harness::with(LedgerConfig {
        grace_days_before_overdue: 5,
        ..LedgerConfig::default()
    });
    h.on("2025-01-01", inv("A", "D1", "100", "2025-01-31"));
    assert!(h.on("2025-02-05", tick()).is_empty());
    let effects = h.on("2025-02-06", tick());
    assert!(matches!(
        &effects[0],
        LedgerEffect::ItemOverdue {
            days_past_due: 6,
            ..
        }
    ));
}

#[test]
fn paid_item_never_turns_overdue() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("A", "D1", "100", "2025-01-31"));
    let mut p = payment("P1", "100");
    p.remittance_text = Some("A".into());
    h.on("2025-01-20", paid(p));
    assert!(h.on("2025-03-01", tick()).is_empty());
}

#[test]
fn clock_never_goes_back() {
    let mut h = Harness::new();
    h.ledger.advance_to(at("2025-02-01"));
    assert!(h.ledger.advance_to(at("2025-01-01")).is_empty());
    assert_eq!(h.ledger.clock(), Some(at("2025-02-01")));
}

#[test]
fn several_items_turn_overdue_in_due_date_order() {
    let mut h = Harness::new();
    h.on("2025-01-01", inv("B", "D2", "10", "2025-01-10"));
    h.on("2025-01-01", inv("A", "D1", "20", "2025-01-12"));
    h.on("2025-01-01", inv("C", "D1", "30", "2025-01-05"));
    let effects = h.on("2025-01-20", tick());
    let overdue: Vec<&str> = effects
        .iter()
        .filter_map(|e| match e {
            LedgerEffect::ItemOverdue { invoice_number, .. } => Some(invoice_number.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(overdue, ["C", "B", "A"]);
    let standings: Vec<&str> = effects
        .iter()
        .filter_map(|e| match e {
            LedgerEffect::StandingChanged { debtor_id } => Some(debtor_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(standings, ["D1", "D2"], "one per debtor, in id order");
    assert_eq!(h.ledger.standing("D1").unwrap().max_days_past_due, 15);
}

#[test]
fn invoice_issued_already_past_due_turns_overdue_on_arrival() {
    let mut h = Harness::new();
    let effects = h.on("2025-03-01", inv("OLD", "D1", "10", "2025-01-31"));
    assert_eq!(
        names(&effects),
        ["invoice_opened", "item_overdue", "standing_changed"]
    );
}

#[test]
fn advancing_over_many_quiet_days_stays_cheap() {
    // 20 000 items, 2 000 clock moves that each turn ten items overdue: a scan of all
    // items per move would be 40 million visits; the index makes it 20 000.
    let mut h = Harness::new();
    let start = date("2025-01-01");
    for i in 0..20_000_u64 {
        let due = start + chrono::Days::new(i / 10);
        let mut invoice = invoice(
            &format!("I{i}"),
            &format!("D{}", i % 500),
            "10",
            "2025-01-01",
        );
        invoice.due_date = due;
        invoice.issue_date = start;
        h.ledger.apply(&events::Envelope::new(
            format!("i{i}"),
            at("2025-01-01"),
            issued(invoice),
        ));
    }
    let began = std::time::Instant::now();
    let mut overdue = 0;
    for day in 1..=2_000_u64 {
        let now = at("2025-01-01") + chrono::Duration::days(day as i64);
        overdue += h
            .ledger
            .advance_to(now)
            .iter()
            .filter(|e| matches!(e, LedgerEffect::ItemOverdue { .. }))
            .count();
    }
    assert_eq!(overdue, 20_000);
    assert!(
        began.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );
}
