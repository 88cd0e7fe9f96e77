//! A large config streams past a million events in order without holding them.

use std::time::Instant;

use events::{DEFAULT_MAX_EVENT_BYTES, Envelope};
use simulator::{SimConfig, Simulator};

/// 15 000 debtors over two years: a little over a million events.
fn large() -> SimConfig {
    SimConfig {
        debtors: 15_000,
        months: 24,
        ..SimConfig::default()
    }
}

#[test]
fn a_large_config_yields_a_million_events_in_order() {
    let started = Instant::now();
    let mut sim = Simulator::new(large().check().expect("valid"));
    let mut count: u64 = 0;
    let mut last = None;
    for envelope in sim.by_ref() {
        if let Some(previous) = last {
            assert!(previous <= envelope.event_time);
        }
        last = Some(envelope.event_time);
        // A sample goes through the wire form (all of it would triple the time of a
        // debug build; the contract tests check every event of smaller runs).
        if count.is_multiple_of(997) {
            Envelope::decode(&envelope.to_json(), DEFAULT_MAX_EVENT_BYTES).expect("valid event");
        }
        count += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "{count} events in {seconds:.2} s: {:.0} events/s; {} payments in the truth",
        count as f64 / seconds,
        sim.truth().payments.len()
    );
    assert!(count >= 1_000_000, "{count} events");
}
