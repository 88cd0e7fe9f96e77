//! Same seed, same bytes; another seed, another portfolio.

use simulator::Simulator;

use crate::support::small;

fn bytes(seed: u64) -> (Vec<u8>, Vec<u8>) {
    let mut sim = Simulator::new(small(seed).check().expect("valid"));
    let mut events = Vec::new();
    sim.write_jsonl(&mut events).expect("write to a Vec");
    let mut truth = Vec::new();
    sim.truth().write_jsonl(&mut truth).expect("write to a Vec");
    (events, truth)
}

#[test]
fn same_seed_gives_identical_event_bytes_and_truth() {
    let (events_a, truth_a) = bytes(7);
    let (events_b, truth_b) = bytes(7);
    assert!(events_a.len() > 10_000);
    assert_eq!(events_a, events_b);
    assert_eq!(truth_a, truth_b);
}

#[test]
fn different_seed_gives_different_events() {
    let (events_a, truth_a) = bytes(7);
    let (events_b, truth_b) = bytes(8);
    assert_ne!(events_a, events_b);
    assert_ne!(truth_a, truth_b);
}

#[test]
fn write_jsonl_writes_one_decodable_event_per_line() {
    let (events, _) = bytes(3);
    let text = String::from_utf8(events).expect("utf-8");
    let mut count = 0;
    for line in text.lines() {
        events::Envelope::decode(line.as_bytes(), events::DEFAULT_MAX_EVENT_BYTES)
            .expect("decodes");
        count += 1;
    }
    assert!(count > 1000);
}
