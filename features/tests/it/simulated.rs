//! The streaming store on a simulated portfolio against a full recomputation.

use crate::support::*;

#[test]
fn streaming_features_equal_a_full_recomputation_on_a_simulated_portfolio() {
    let events = simulated(150, 8);
    let mut h = Harness::new();
    let mut checked = 0;
    for (i, e) in events.iter().enumerate() {
        h.envelope(e);
        if (i + 1) % 997 == 0 {
            h.flush();
        }
        // Compare in the middle of the run and at its end.
        if i + 1 == events.len() / 2 || i + 1 == events.len() {
            h.flush();
            let today = h.store.watermark().unwrap();
            let ((inputs, features), (ref_inputs, ref_features)) = h.both(today);
            assert!(inputs.num_rows() >= 150);
            assert_same(&inputs, &ref_inputs);
            assert_same(&features, &ref_features);
            checked += 1;
        }
    }
    assert_eq!(checked, 2);
    // The portfolio exercised every kind of fact.
    let kinds: std::collections::BTreeSet<String> = h
        .facts
        .iter()
        .flat_map(|b| {
            let c = b.column_by_name("kind").unwrap();
            (0..b.num_rows())
                .map(|r| datafusion::arrow::util::display::array_value_to_string(c, r).unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    for k in [
        "invoice",
        "settled",
        "payment",
        "reversal",
        "dispute",
        "promise_broken",
        "promise_kept",
        "credit_note",
    ] {
        assert!(kinds.contains(k), "no {k} fact in {kinds:?}");
    }
}

#[test]
fn standing_walked_by_keys_equals_standing_by_items() {
    // The standing reads balances from the account and looks up only old overdue items;
    // on a simulated portfolio it equals the sum over every open item, after every few
    // events, for every debtor, on the event's day and on days before it (late events).
    use features::StandingSource;
    let events = simulated(120, 10);
    let windows = features::Definitions::builtin().unwrap().windows;
    let mut ledger = ledger::Ledger::new(ledger::LedgerConfig::default());
    let (mut compared, mut old_overdue) = (0, 0);
    for (i, e) in events.iter().enumerate() {
        ledger.advance_to(e.event_time);
        ledger.apply(e);
        if i % 5 != 0 {
            continue;
        }
        let day = e.event_time.date_naive();
        let ids: Vec<String> = ledger.debtors().map(|a| a.debtor_id.clone()).collect();
        for id in &ids {
            for today in [day, day - chrono::Days::new(3)] {
                let by_keys = StandingSource::standing(&ledger, id, today, &windows);
                let by_items = features::standing::standing_by_items(&ledger, id, today, &windows);
                assert_eq!(by_keys, by_items, "debtor {id} on {today}, event {i}");
                compared += 1;
                if by_keys.overdue_over.iter().any(|a| !a.is_zero()) {
                    old_overdue += 1;
                }
            }
        }
    }
    assert!(compared > 10_000, "{compared} standings compared");
    // The walk looked items up: debtors with items more than a window overdue were seen.
    assert!(
        old_overdue > 1_000,
        "{old_overdue} standings with old overdue items"
    );
}
