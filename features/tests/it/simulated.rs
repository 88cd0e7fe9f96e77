//! The streaming store on a simulated portfolio against a full recomputation.

use simulator::SimConfig;

use crate::support::*;

#[test]
fn streaming_features_equal_a_full_recomputation_on_a_simulated_portfolio() {
    let config = SimConfig {
        debtors: 150,
        months: 8,
        ..SimConfig::default()
    };
    let events: Vec<_> = simulator::Simulator::new(config.check().unwrap()).collect();
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
