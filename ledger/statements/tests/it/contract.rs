//! What every import plan promises, over every sample and fixture: events that pass the
//! event contract, unique and deterministic ids, and every booked amount either published
//! or skipped, to the cent.

use std::collections::{BTreeMap, HashSet};

use events::{DEFAULT_MAX_EVENT_BYTES, Envelope, InputEvent};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::support::*;

#[test]
fn every_event_decodes_under_the_event_contract() {
    let mut count = 0;
    for (name, bytes) in all_good_files() {
        let (_, plan) = import(&bytes);
        for event in &plan.events {
            let decoded = Envelope::decode(&event.to_json(), DEFAULT_MAX_EVENT_BYTES)
                .unwrap_or_else(|e| panic!("{name}: {}: {e}", event.event_id));
            assert_eq!(&decoded, event, "{name}: the event survives its wire form");
            assert!(event.event_id.starts_with("stmt-"));
            assert_eq!(
                event.event.debtor_id(),
                None,
                "{name}: the routing step finds debtors"
            );
            if let InputEvent::PaymentReversed(r) = &event.event {
                assert_eq!(r.reason_code.len(), 4, "{name}");
            }
            count += 1;
        }
    }
    assert!(count >= 90, "{count} events checked");
}

#[test]
fn event_ids_and_payment_ids_are_unique_across_a_file() {
    for (name, bytes) in all_good_files() {
        let (_, plan) = import(&bytes);
        let mut event_ids = HashSet::new();
        let mut payment_ids = HashSet::new();
        for event in &plan.events {
            assert!(
                event_ids.insert(&event.event_id),
                "{name}: {} twice",
                event.event_id
            );
            if let InputEvent::PaymentReceived(p) = &event.event {
                assert!(
                    payment_ids.insert(&p.payment_id),
                    "{name}: {} twice",
                    p.payment_id
                );
            }
        }
    }
}

#[test]
fn parsing_twice_gives_identical_events_and_ids() {
    for (name, bytes) in all_good_files() {
        let (first_file, first) = import(&bytes);
        let (second_file, second) = import(&bytes.clone());
        assert_eq!(first_file, second_file, "{name}");
        assert_eq!(first, second, "{name}");
        let wire = |p: &statements::ImportPlan| -> Vec<Vec<u8>> {
            p.events.iter().map(Envelope::to_json).collect()
        };
        assert_eq!(wire(&first), wire(&second), "{name}: byte for byte");
    }
}

#[test]
fn the_digest_is_the_sha256_of_the_file_bytes() {
    for (name, bytes) in all_good_files() {
        let file = statements::parse(&bytes).unwrap();
        let expected: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(file.digest, expected, "{name}");
        assert_eq!(file.digest.len(), 64);
    }
}

#[test]
fn every_booked_amount_is_published_or_skipped_to_the_cent() {
    for (name, bytes) in all_good_files() {
        let (file, plan) = import(&bytes);
        // Per currency: booked entries = events + skipped (pending entries are skipped
        // but not booked).
        let mut booked: BTreeMap<String, Decimal> = BTreeMap::new();
        for e in file.statements.iter().flat_map(|s| &s.entries) {
            if e.is_booked() {
                *booked.entry(e.currency.to_string()).or_default() += e.amount;
            }
        }
        let mut accounted: BTreeMap<String, Decimal> = BTreeMap::new();
        for event in &plan.events {
            let money = event.event.money().unwrap();
            *accounted.entry(money.currency.to_string()).or_default() += money.amount;
        }
        for s in plan
            .skipped
            .iter()
            .filter(|s| !matches!(s.reason, statements::SkipReason::NotBooked { .. }))
        {
            *accounted.entry(s.currency.to_string()).or_default() += s.amount;
        }
        assert_eq!(booked, accounted, "{name}");
    }
}

#[test]
fn a_file_changed_by_one_byte_has_another_digest_but_the_same_ids() {
    // The importer remembers digests; the ids make a re-sent statement (same content,
    // other bytes, e.g. CRLF instead of LF) publish nothing new either.
    let lf = mt940("jejik-mt940_volksbankenraiffeisenbanken.txt");
    let text = String::from_utf8(lf.clone()).unwrap().replace("\r\n", "\n");
    let (a, plan_a) = import(&lf);
    let (b, plan_b) = import(text.as_bytes());
    assert_ne!(a.digest, b.digest);
    let ids = |p: &statements::ImportPlan| -> Vec<String> {
        p.events.iter().map(|e| e.event_id.clone()).collect()
    };
    assert_eq!(ids(&plan_a), ids(&plan_b));
}
