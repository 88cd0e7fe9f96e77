//! The streaming store on small hand-checked portfolios: windows, time passing, late
//! events, and a golden feature table.

use events::{DebtorType, PaymentMethod};
use features::FeatureConfig;

use crate::support::*;

#[test]
fn invoice_counts_leave_the_30_day_window_as_time_passes() {
    let mut h = Harness::new();
    h.at("2025-01-01", debtor("D1", "1000", DebtorType::Business));
    h.at(
        "2025-01-02",
        inv("I1", "D1", "100", "2025-01-02", "2025-03-31"),
    );
    assert_eq!(h.feature("D1", "invoice_count_30d", "2025-01-02"), "1");
    assert_eq!(
        h.feature("D1", "invoiced_amount_30d", "2025-01-02"),
        "100.000000"
    );

    // Quiet days: ticks only. On day 29 after the invoice it still counts...
    h.at("2025-01-31", tick());
    assert_eq!(h.feature("D1", "invoice_count_30d", "2025-01-31"), "1");
    // ...on day 30 it has left the 30-day window, not the 90-day one.
    let report = h.at("2025-02-01", tick());
    assert_eq!(h.feature("D1", "invoice_count_30d", "2025-02-01"), "0");
    assert_eq!(
        h.feature("D1", "invoiced_amount_30d", "2025-02-01"),
        "0.000000"
    );
    assert_eq!(h.feature("D1", "invoice_count_90d", "2025-02-01"), "1");
    assert_eq!(h.feature("D1", "invoice_count_365d", "2025-02-01"), "1");
    let slot = h.store.slots().get("D1").unwrap();
    assert!(report.changed.contains(&slot), "{:?}", report.changed);
}

#[test]
fn an_invoice_turning_31_days_overdue_changes_the_30_day_overdue_balance() {
    let mut h = Harness::new();
    h.at("2025-01-01", debtor("D1", "1000", DebtorType::Consumer));
    h.at(
        "2025-01-02",
        inv("I1", "D1", "250.50", "2025-01-02", "2025-01-31"),
    );
    h.at("2025-03-02", tick());
    assert_eq!(
        h.feature("D1", "overdue_balance", "2025-03-02"),
        "250.500000"
    );
    assert_eq!(h.feature("D1", "oldest_overdue_days", "2025-03-02"), "30");
    assert_eq!(
        h.feature("D1", "overdue_balance_over_30d", "2025-03-02"),
        "0.000000"
    );
    h.at("2025-03-03", tick());
    assert_eq!(h.feature("D1", "oldest_overdue_days", "2025-03-03"), "31");
    assert_eq!(
        h.feature("D1", "overdue_balance_over_30d", "2025-03-03"),
        "250.500000"
    );
    assert_eq!(
        h.feature("D1", "overdue_balance_over_90d", "2025-03-03"),
        "0.000000"
    );
    assert_eq!(h.feature("D1", "utilisation", "2025-03-03"), "0.2505");
}

#[test]
fn settlements_give_days_late_late_share_and_part_payments() {
    let mut h = Harness::new();
    h.at("2025-01-01", debtor("D1", "5000", DebtorType::Business));
    h.on(
        "2025-01-02",
        inv("I1", "D1", "100", "2025-01-02", "2025-01-31"),
    );
    h.on(
        "2025-01-02",
        inv("I2", "D1", "200", "2025-01-02", "2025-02-10"),
    );
    h.on(
        "2025-01-02",
        inv("I3", "D1", "300", "2025-01-02", "2025-02-10"),
    );
    h.flush();
    // I1 five days late, I2 on time, I3 in two parts, the last one 8 days late.
    h.on(
        "2025-02-05",
        pay(
            "P1",
            "D1",
            "I1",
            "100",
            "2025-02-05",
            PaymentMethod::BankTransfer,
        ),
    );
    h.on(
        "2025-02-07",
        pay(
            "P2",
            "D1",
            "I2",
            "200",
            "2025-02-07",
            PaymentMethod::DirectDebit,
        ),
    );
    h.on(
        "2025-02-08",
        pay("P3", "D1", "I3", "100", "2025-02-08", PaymentMethod::Card),
    );
    h.on(
        "2025-02-18",
        pay(
            "P4",
            "D1",
            "I3",
            "200",
            "2025-02-18",
            PaymentMethod::BankTransfer,
        ),
    );
    h.flush();
    let f = h.features(&["D1"], "2025-02-18");
    assert_eq!(text(&f, "max_days_late_30d", 0), "8");
    assert_eq!(text(&f, "avg_days_late_30d", 0), "4.333333333333333");
    assert_eq!(text(&f, "late_share_30d", 0), "0.6666666666666666");
    assert_eq!(text(&f, "part_paid_share_30d", 0), "0.3333333333333333");
    assert_eq!(text(&f, "direct_debit_share_30d", 0), "0.25");
    assert_eq!(text(&f, "card_share_30d", 0), "0.25");
    assert_eq!(text(&f, "open_balance", 0), "0.000000");
    assert_eq!(text(&f, "days_since_last_payment", 0), "0");
    assert_eq!(
        h.feature("D1", "days_since_last_payment", "2025-02-28"),
        "10"
    );
    assert_eq!(text(&f, "debtor_type", 0), "business");
}

#[test]
fn reversals_disputes_and_broken_promises_are_counted_in_their_windows() {
    let mut h = Harness::new();
    h.at("2025-01-01", debtor("D1", "5000", DebtorType::Consumer));
    h.on(
        "2025-01-02",
        inv("I1", "D1", "100", "2025-01-02", "2025-01-31"),
    );
    h.on(
        "2025-01-02",
        inv("I2", "D1", "80", "2025-01-02", "2025-01-31"),
    );
    h.on(
        "2025-01-20",
        pay(
            "P1",
            "D1",
            "I1",
            "100",
            "2025-01-20",
            PaymentMethod::DirectDebit,
        ),
    );
    h.on("2025-01-24", reversal("P1", "D1", "100", "2025-01-24"));
    h.on("2025-02-03", dispute("DS1", "D1", "I2"));
    h.on(
        "2025-02-04",
        promise("PR1", "D1", "100", "2025-02-10", &["I1"]),
    );
    h.on("2025-02-12", tick());
    h.on("2025-02-12", rating("D1", "BB", "0.035"));
    h.flush();
    let f = h.features(&["D1"], "2025-02-12");
    assert_eq!(text(&f, "reversals_30d", 0), "1");
    assert_eq!(text(&f, "disputes_30d", 0), "1");
    assert_eq!(text(&f, "promises_broken_30d", 0), "1");
    assert_eq!(text(&f, "open_balance", 0), "180.000000");
    assert_eq!(text(&f, "bureau_rating", 0), "BB");
    assert_eq!(text(&f, "bureau_pd", 0), "0.035000");
    // The reversal falls out of the 30-day window on 2025-02-23, not out of the 90-day one.
    h.at("2025-02-23", tick());
    assert_eq!(h.feature("D1", "reversals_30d", "2025-02-23"), "0");
    assert_eq!(h.feature("D1", "reversals_90d", "2025-02-23"), "1");
}

#[test]
fn late_events_within_the_allowed_lateness_count_and_older_ones_are_dropped() {
    let config = FeatureConfig {
        allowed_lateness_days: 10,
        ..FeatureConfig::default()
    };
    let mut h = Harness::with(config);
    h.at("2025-01-01", debtor("D1", "5000", DebtorType::Business));
    h.at(
        "2025-03-01",
        inv("I1", "D1", "100", "2025-03-01", "2025-03-31"),
    );
    // Five days behind the watermark: applied, in its own day.
    h.at(
        "2025-02-24",
        inv("I2", "D1", "40", "2025-02-24", "2025-03-24"),
    );
    // Forty days behind: left out of the features, counted.
    h.at(
        "2025-01-20",
        inv("I3", "D1", "7", "2025-01-20", "2025-02-20"),
    );
    assert_eq!(h.store.late_facts(), (1, 1));
    assert_eq!(h.feature("D1", "invoice_count_30d", "2025-03-01"), "2");
    assert_eq!(
        h.feature("D1", "invoiced_amount_30d", "2025-03-01"),
        "140.000000"
    );
    // The applied late fact leaves the window on its own day's schedule.
    h.at("2025-03-26", tick());
    assert_eq!(h.feature("D1", "invoice_count_30d", "2025-03-26"), "1");
    let today = day("2025-03-26");
    let ((inputs, features), (ref_inputs, ref_features)) = h.both(today);
    assert_same(&inputs, &ref_inputs);
    assert_same(&features, &ref_features);
}

/// A small portfolio by hand, its feature table checked in a golden file
/// (`UPDATE_GOLDEN=1 cargo test` rewrites it; review the diff).
#[test]
fn golden_small_portfolio() {
    let mut h = Harness::new();
    h.on("2025-01-01", debtor("GOOD", "3000", DebtorType::Business));
    h.on("2025-01-01", debtor("LATE", "1000", DebtorType::Consumer));
    h.on("2025-01-01", debtor("GONE", "500", DebtorType::Consumer));
    for (month, issued, due) in [
        (1, "2025-01-06", "2025-02-05"),
        (2, "2025-02-05", "2025-03-07"),
        (3, "2025-03-07", "2025-04-06"),
    ] {
        h.on(
            issued,
            inv(&format!("G{month}"), "GOOD", "1000", issued, due),
        );
        h.on(issued, inv(&format!("L{month}"), "LATE", "90", issued, due));
        h.on(
            issued,
            inv(&format!("X{month}"), "GONE", "45.45", issued, due),
        );
    }
    h.on(
        "2025-02-03",
        pay(
            "PG1",
            "GOOD",
            "G1",
            "1000",
            "2025-02-03",
            PaymentMethod::BankTransfer,
        ),
    );
    h.on(
        "2025-03-05",
        pay(
            "PG2",
            "GOOD",
            "G2",
            "1000",
            "2025-03-05",
            PaymentMethod::BankTransfer,
        ),
    );
    h.on(
        "2025-02-25",
        pay("PL1", "LATE", "L1", "90", "2025-02-25", PaymentMethod::Card),
    );
    h.on(
        "2025-03-20",
        pay(
            "PL2a",
            "LATE",
            "L2",
            "30",
            "2025-03-20",
            PaymentMethod::Card,
        ),
    );
    h.on(
        "2025-04-02",
        pay(
            "PL2b",
            "LATE",
            "L2",
            "60",
            "2025-04-02",
            PaymentMethod::Card,
        ),
    );
    h.on(
        "2025-04-02",
        promise("PRL", "LATE", "90", "2025-04-20", &["L3"]),
    );
    h.on("2025-04-30", tick());
    h.flush();
    let f = h.features(&["GOOD", "LATE", "GONE"], "2025-04-30");
    // One line per feature, one column per debtor: easy to check by hand.
    let mut table = String::new();
    for field in f.schema().fields() {
        let cells: Vec<String> = (0..f.num_rows())
            .map(|r| text(&f, field.name(), r))
            .collect();
        table.push_str(&format!("{:<28} {}\n", field.name(), cells.join(" | ")));
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/small_portfolio.txt"
    );
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &table).unwrap();
    }
    let golden = std::fs::read_to_string(path).expect("golden file (UPDATE_GOLDEN=1 writes it)");
    assert_eq!(table, golden, "features differ from {path}");
}

#[test]
fn a_checkpointed_state_resumes_and_a_state_of_other_aggregates_is_not_read() {
    let mut h = Harness::new();
    h.at("2025-01-01", debtor("D1", "1000", DebtorType::Business));
    h.on(
        "2025-01-02",
        inv("I1", "D1", "100", "2025-01-02", "2025-01-31"),
    );
    h.on(
        "2025-02-10",
        pay("P1", "D1", "I1", "100", "2025-02-10", PaymentMethod::Card),
    );
    h.flush();
    let before = h.features(&["D1"], "2025-02-10");
    let json = serde_json::to_string(h.store.state()).unwrap();
    let state: features::FeatureState = serde_json::from_str(&json).unwrap();

    let resumed = features::FeatureStore::with_state(
        features::Definitions::builtin().unwrap(),
        FeatureConfig::default(),
        state.clone(),
    )
    .unwrap();
    let slot = resumed.slots().get("D1").unwrap();
    let after = resumed
        .features(&[slot], day("2025-02-10"), &h.ledger)
        .unwrap();
    assert_same(&after, &before);
    assert_eq!(text(&after, "max_days_late_30d", 0), "10");

    // Other aggregates lay tiles out differently: such a state starts over.
    let text = features::definitions::DEFAULT_DEFINITIONS.replace(
        "sql = \"count(*) FILTER (WHERE kind = 'reversal')\"",
        "sql = \"count(*) FILTER (WHERE kind = 'reversal' AND amount > 0)\"",
    );
    let other = features::Definitions::parse("other.toml", &text).unwrap();
    let restarted =
        features::FeatureStore::with_state(other, FeatureConfig::default(), state).unwrap();
    assert_eq!(restarted.slots().len(), 0);
}
