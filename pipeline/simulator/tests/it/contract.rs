//! Every event honours the event contract and the stream's promises: order, unique ids,
//! master data first, a tick closing every day, quarterly ratings.

use std::collections::{BTreeMap, BTreeSet};

use events::{DEFAULT_MAX_EVENT_BYTES, Envelope, EventKind, InputEvent, PaymentMethod};
use ledger::references::is_valid_creditor_reference;
use simulator::SimConfig;

use crate::support::{default_run, run};

#[test]
fn every_event_decodes_and_validates_to_itself() {
    for envelope in &default_run().events {
        let bytes = envelope.to_json();
        let decoded = Envelope::decode(&bytes, DEFAULT_MAX_EVENT_BYTES)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)));
        assert_eq!(&decoded, envelope);
    }
}

#[test]
fn events_come_in_non_decreasing_event_time() {
    let events = &default_run().events;
    for pair in events.windows(2) {
        assert!(
            pair[0].event_time <= pair[1].event_time,
            "{} at {} before {} at {}",
            pair[0].event_id,
            pair[0].event_time,
            pair[1].event_id,
            pair[1].event_time
        );
    }
}

#[test]
fn event_ids_are_unique() {
    let mut seen = BTreeSet::new();
    for envelope in &default_run().events {
        assert!(
            seen.insert(envelope.event_id.as_str()),
            "duplicate {}",
            envelope.event_id
        );
    }
}

#[test]
fn master_data_of_every_debtor_comes_first() {
    let run = default_run();
    let first: Vec<&Envelope> = run.events.iter().take(1000).collect();
    let ids: BTreeSet<&str> = first
        .iter()
        .map(|e| match &e.event {
            InputEvent::DebtorUpdated(d) => d.debtor_id.as_str(),
            other => panic!("{:?} before the master data", other.kind()),
        })
        .collect();
    assert_eq!(ids.len(), 1000);
    assert!(ids.contains("D000001") && ids.contains("D001000"));
    for e in &first {
        if let InputEvent::DebtorUpdated(d) = &e.event {
            assert_eq!(d.ibans.len(), 1);
            assert!(simulator::iban::is_valid(&d.ibans[0]), "{}", d.ibans[0]);
            assert!(d.credit_limit > rust_decimal::Decimal::ZERO);
        }
    }
}

#[test]
fn a_clock_tick_closes_every_simulated_day() {
    let events = &default_run().events;
    let ticks: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.event.kind() == EventKind::ClockTick)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(ticks.len(), 365);
    assert_eq!(events[ticks[0]].event_id, "tick-2025-01-01");
    assert_eq!(events[ticks[364]].event_id, "tick-2025-12-31");
    for &i in &ticks {
        let tick_day = events[i].event_time.date_naive();
        assert_eq!(
            events[i].event_time.format("%H:%M:%S").to_string(),
            "23:59:59"
        );
        if let Some(next) = events.get(i + 1) {
            assert!(
                next.event_time.date_naive() > tick_day,
                "{} after the tick of {tick_day}",
                next.event_id
            );
        }
    }
}

#[test]
fn without_daily_ticks_there_are_none() {
    let run = run(SimConfig {
        debtors: 30,
        months: 2,
        tick_daily: false,
        ..SimConfig::default()
    });
    assert!(!run.events.is_empty());
    assert!(
        run.events
            .iter()
            .all(|e| e.event.kind() != EventKind::ClockTick)
    );
}

#[test]
fn every_debtor_is_rated_once_a_quarter() {
    let mut ratings: BTreeMap<&str, u32> = BTreeMap::new();
    for e in &default_run().events {
        if let InputEvent::BureauRating(r) = &e.event {
            *ratings.entry(r.debtor_id.as_str()).or_insert(0) += 1;
            assert!(r.probability_of_default.is_some());
        }
    }
    assert_eq!(ratings.len(), 1000);
    assert!(ratings.values().all(|&n| n == 4));
}

#[test]
fn only_direct_debits_name_the_debtor() {
    for e in &default_run().events {
        if let InputEvent::PaymentReceived(p) = &e.event {
            match p.method {
                PaymentMethod::DirectDebit => {
                    assert!(p.debtor_id.is_some() && p.end_to_end_id.is_some());
                    assert!(p.structured_reference.is_some());
                }
                _ => assert!(p.debtor_id.is_none(), "{} names its debtor", p.payment_id),
            }
        }
    }
}

#[test]
fn invoices_carry_valid_payment_references_mostly() {
    let invoices = default_run().invoices();
    let mut with_reference = 0;
    for invoice in invoices.values() {
        assert!(invoice.invoice_number.starts_with("INV-") && invoice.invoice_number.len() == 11);
        assert!(invoice.due_date > invoice.issue_date);
        let terms = (invoice.due_date - invoice.issue_date).num_days();
        assert!([14, 30, 45, 60].contains(&terms), "terms {terms}");
        assert_eq!(invoice.amount.scale(), 2);
        if let Some(reference) = &invoice.payment_reference {
            with_reference += 1;
            if reference.starts_with("RF") {
                assert!(is_valid_creditor_reference(reference), "{reference}");
            } else {
                assert_eq!(reference.len(), 16, "{reference}");
                assert!(reference.bytes().all(|b| b.is_ascii_digit()));
            }
        }
    }
    let share = f64::from(with_reference) / invoices.len() as f64;
    assert!(share > 0.9, "{share}");
}

#[test]
fn every_debtor_type_is_invoiced_at_its_own_size_and_pace() {
    let run = default_run();
    let mut per_type: BTreeMap<events::DebtorType, (u32, rust_decimal::Decimal)> = BTreeMap::new();
    for invoice in run.invoices().values() {
        let t = run.truth.debtors[&invoice.debtor_id].debtor_type;
        let e = per_type
            .entry(t)
            .or_insert((0, rust_decimal::Decimal::ZERO));
        e.0 += 1;
        e.1 += invoice.amount;
    }
    assert_eq!(per_type.len(), 4);
    let mean = |t| {
        let (n, sum) = per_type[&t];
        sum / rust_decimal::Decimal::from(n)
    };
    use events::DebtorType::*;
    assert!(mean(Consumer) < mean(Business));
    assert!(mean(Business) < mean(Government));
    assert!(mean(Business) < mean(TopCustomer));
    let debtors_of = |t| {
        run.truth
            .debtors
            .values()
            .filter(|d| d.debtor_type == t)
            .count() as f64
    };
    let per_debtor = |t| f64::from(per_type[&t].0) / debtors_of(t);
    assert!(per_debtor(TopCustomer) > 3.0 * per_debtor(Consumer));
}
