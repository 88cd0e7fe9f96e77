//! A small hand-made scenario: the exact list of output ids and kinds, and the full outputs
//! against a golden file (`UPDATE_GOLDEN=1 cargo test -p decisions` rewrites it; review the
//! diff).

use events::*;

use crate::support::*;

fn scenario() -> Vec<(&'static str, &'static str, InputEvent)> {
    vec![
        ("e1", "2025-01-01", debtor("D1", "150", Channel::Letter)),
        ("e2", "2025-01-01", debtor("D2", "1000", Channel::Email)),
        ("e3", "2025-01-01", inv("A", "D1", "100", "2025-01-31")),
        ("e4", "2025-01-02", inv("B", "D1", "100", "2025-02-15")),
        ("e5", "2025-01-03", inv("C", "D2", "40", "2025-01-20")),
        ("e6", "2025-01-10", pay_text("P1", "100", "Invoice A")),
        ("e7", "2025-01-12", reversal("P1", "100", "MD06")),
        ("e8", "2025-01-15", dispute("X1", "D1", "B")),
        ("e9", "2025-01-16", promise("PR1", "D2", "40", "2025-01-25")),
        ("e10", "2025-02-20", tick()),
        (
            "e11",
            "2025-02-21",
            InputEvent::PaymentReceived(payment("P2", "40")),
        ),
    ]
}

fn run() -> Vec<OutputEnvelope> {
    let mut engine = Engine::new();
    scenario()
        .into_iter()
        .flat_map(|(id, day, event)| engine.on(id, day, event))
        .collect()
}

#[test]
fn scenario_yields_exactly_these_outputs() {
    let got: Vec<(String, &str)> = ids(&run());
    let expected: Vec<(&str, &str)> = vec![
        ("score_update:e1:D1", "score_update"),
        ("score_update:e2:D2", "score_update"),
        ("score_update:e3:D1", "score_update"),
        ("exposure_above_limit:e4:D1", "exposure_above_limit"),
        ("credit_hold:e4:D1", "credit_hold"),
        ("score_update:e4:D1", "score_update"),
        ("score_update:e5:D2", "score_update"),
        ("credit_hold_released:e6:D1", "credit_hold_released"),
        ("score_update:e6:D1", "score_update"),
        ("reversal_received:e7", "reversal_received"),
        ("exposure_above_limit:e7:D1", "exposure_above_limit"),
        ("credit_hold:e7:D1", "credit_hold"),
        ("score_update:e7:D1", "score_update"),
        ("dispute_opened:e8", "dispute_opened"),
        ("dispute_review:e8:X1", "dispute_review"),
        ("promise_broken:e10:PR1", "promise_broken"),
        ("score_update:e10:D1", "score_update"),
        ("score_update:e10:D2", "score_update"),
        // The dunning book, after the effects: C (due 20 Jan, promise broken on 26 Jan)
        // and A are reminded, in invoice order; B is disputed.
        ("reminder:e10:A", "reminder"),
        ("reminder:e10:C", "reminder"),
        ("unmatched_payment:e11", "unmatched_payment"),
    ];
    let got: Vec<(&str, &str)> = got.iter().map(|(id, kind)| (id.as_str(), *kind)).collect();
    assert_eq!(got, expected);
}

#[test]
fn scenario_outputs_match_the_golden_file() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/golden/scenario.json");
    let mut actual = serde_json::to_string_pretty(&run()).unwrap();
    actual.push('\n');
    golden(&path, &actual);
}
