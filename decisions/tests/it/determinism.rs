use decisions::{DecisionConfig, Decisions};
use events::*;
use ledger::{Ledger, LedgerConfig};

use crate::support::*;

fn scenario() -> Vec<Envelope> {
    let events = vec![
        ("e1", "2025-01-01", debtor("D1", "150", Channel::Letter)),
        ("e2", "2025-01-01", inv("A", "D1", "100", "2025-01-31")),
        ("e3", "2025-01-02", inv("B", "D1", "100", "2025-02-15")),
        ("e4", "2025-01-03", inv("C", "D2", "40", "2025-01-20")),
        ("e5", "2025-01-10", pay_text("P1", "100", "A")),
        ("e6", "2025-01-12", reversal("P1", "100", "MD06")),
        ("e7", "2025-01-15", dispute("X1", "D1", "B")),
        ("e8", "2025-02-20", tick()),
        (
            "e9",
            "2025-02-21",
            InputEvent::PaymentReceived(payment("P2", "40")),
        ),
    ];
    events
        .into_iter()
        .map(|(id, day, e)| Envelope::new(id, at(day), e))
        .collect()
}

fn run(events: &[Envelope]) -> (Vec<OutputEnvelope>, Decisions) {
    let mut ledger = Ledger::new(LedgerConfig::default());
    let mut decisions = crate::support::decisions_with(DecisionConfig::default());
    let mut outputs = Vec::new();
    for e in events {
        let mut effects = ledger.advance_to(e.event_time);
        effects.extend(ledger.apply(e));
        outputs.extend(decisions.decide(e, &effects, &ledger));
    }
    (outputs, decisions)
}

#[test]
fn same_inputs_give_identical_outputs() {
    let (a, state_a) = run(&scenario());
    let (b, state_b) = run(&scenario());
    assert!(!a.is_empty());
    assert_eq!(a, b);
    let wire_a: Vec<Vec<u8>> = a.iter().map(OutputEnvelope::to_json).collect();
    let wire_b: Vec<Vec<u8>> = b.iter().map(OutputEnvelope::to_json).collect();
    assert_eq!(wire_a, wire_b);
    assert_eq!(
        serde_json::to_string(&state_a).unwrap(),
        serde_json::to_string(&state_b).unwrap()
    );
}

#[test]
fn output_ids_are_unique_across_a_run() {
    let (outputs, _) = run(&scenario());
    let mut ids: Vec<&str> = outputs.iter().map(|o| o.output_id.as_str()).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n);
}

#[test]
fn decisions_restored_from_a_checkpoint_decide_the_same() {
    let events = scenario();
    let (whole, _) = run(&events);

    let mut ledger = Ledger::new(LedgerConfig::default());
    let mut decisions = crate::support::decisions_with(DecisionConfig::default());
    let mut outputs = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if i == 5 {
            ledger = serde_json::from_str(&serde_json::to_string(&ledger).unwrap()).unwrap();
            decisions = serde_json::from_str(&serde_json::to_string(&decisions).unwrap()).unwrap();
        }
        let mut effects = ledger.advance_to(e.event_time);
        effects.extend(ledger.apply(e));
        outputs.extend(decisions.decide(e, &effects, &ledger));
    }
    assert_eq!(outputs, whole);
}
