//! The ground truth agrees with the events: payments pay invoices of their own debtor,
//! allocations add up, reversals, promises, disputes and bad debt are recorded as they
//! happened.

use std::collections::{BTreeMap, BTreeSet};

use events::{InputEvent, PaymentMethod};
use rust_decimal::Decimal;

use crate::support::default_run;

#[test]
fn every_invoice_a_payment_pays_exists_and_belongs_to_the_payer() {
    let run = default_run();
    let invoices = run.invoices();
    for (payment_id, truth) in &run.truth.payments {
        assert!(!truth.allocations.is_empty(), "{payment_id} pays nothing");
        for allocation in &truth.allocations {
            let invoice = invoices
                .get(allocation.invoice_number.as_str())
                .unwrap_or_else(|| {
                    panic!("{payment_id} pays unknown {}", allocation.invoice_number)
                });
            assert_eq!(invoice.debtor_id, truth.debtor_id, "{payment_id}");
            assert!(allocation.amount > Decimal::ZERO && allocation.amount <= invoice.amount);
        }
    }
}

#[test]
fn allocations_and_unapplied_add_up_to_the_payment() {
    let run = default_run();
    let payments = run.payments();
    assert_eq!(payments.len(), run.truth.payments.len());
    for (payment_id, truth) in &run.truth.payments {
        let event = payments[payment_id.as_str()];
        let allocated: Decimal = truth.allocations.iter().map(|a| a.amount).sum();
        assert_eq!(allocated + truth.unapplied, event.amount, "{payment_id}");
        assert_eq!(event.method, truth.method);
    }
}

#[test]
fn no_invoice_is_paid_more_than_once_over() {
    let run = default_run();
    let invoices = run.invoices();
    let mut paid: BTreeMap<&str, Decimal> = BTreeMap::new();
    for truth in run.truth.payments.values().filter(|p| !p.is_reversed) {
        for a in &truth.allocations {
            *paid
                .entry(a.invoice_number.as_str())
                .or_insert(Decimal::ZERO) += a.amount;
        }
    }
    let mut credited: BTreeMap<&str, Decimal> = BTreeMap::new();
    for e in &run.events {
        if let InputEvent::CreditNoteIssued(c) = &e.event {
            *credited
                .entry(c.invoice_number.as_deref().unwrap_or(""))
                .or_insert(Decimal::ZERO) += c.amount;
        }
    }
    for (number, amount) in paid {
        let credit = credited.get(number).copied().unwrap_or(Decimal::ZERO);
        assert!(
            amount + credit <= invoices[number].amount,
            "{number} paid {amount} + credited {credit}"
        );
    }
}

#[test]
fn reversals_return_direct_debits_that_the_truth_marks_reversed() {
    let run = default_run();
    let payments = run.payments();
    let mut reversed = BTreeSet::new();
    for e in &run.events {
        if let InputEvent::PaymentReversed(r) = &e.event {
            let original = payments[r.payment_id.as_str()];
            assert_eq!(original.method, PaymentMethod::DirectDebit);
            assert_eq!(original.amount, r.amount);
            assert_eq!(original.debtor_id, r.debtor_id);
            assert!(r.value_date > original.value_date);
            let truth = &run.truth.payments[&r.payment_id];
            assert!(truth.is_reversed);
            assert_eq!(
                truth.reversal_reason.as_deref(),
                Some(r.reason_code.as_str())
            );
            reversed.insert(r.payment_id.as_str());
        }
    }
    let marked: BTreeSet<&str> = run
        .truth
        .payments
        .iter()
        .filter(|(_, p)| p.is_reversed)
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(reversed, marked);
    assert!(!reversed.is_empty());
}

#[test]
fn kept_promises_are_paid_by_the_promised_date_and_broken_ones_are_not() {
    let run = default_run();
    // Payments per invoice, as (position in the stream, value date).
    let mut paid: BTreeMap<&str, Vec<(usize, chrono::NaiveDate)>> = BTreeMap::new();
    let mut promises = Vec::new();
    for (position, e) in run.events.iter().enumerate() {
        match &e.event {
            InputEvent::PaymentReceived(p) => {
                for a in &run.truth.payments[&p.payment_id].allocations {
                    paid.entry(a.invoice_number.as_str())
                        .or_default()
                        .push((position, p.value_date));
                }
            }
            InputEvent::PromiseToPay(p) => promises.push((position, p)),
            _ => {}
        }
    }
    let end = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
    let (mut kept, mut broken) = (0, 0);
    for (position, promise) in promises {
        let truth = &run.truth.promises[&promise.promise_id];
        assert_eq!(truth.invoice_numbers, promise.invoice_numbers);
        if promise.promised_date >= end {
            continue;
        }
        let invoice = promise.invoice_numbers[0].as_str();
        let paid_in_time = paid.get(invoice).is_some_and(|ps| {
            ps.iter()
                .any(|&(p, date)| p > position && date <= promise.promised_date)
        });
        assert_eq!(truth.kept, paid_in_time, "{}", promise.promise_id);
        if truth.kept {
            kept += 1;
        } else {
            broken += 1;
        }
    }
    assert!(kept > 50 && broken > 50, "kept {kept}, broken {broken}");
}

#[test]
fn disputes_are_recorded_with_their_outcome_and_credit_notes() {
    let run = default_run();
    let mut credit_notes = BTreeSet::new();
    let mut opened = 0;
    for e in &run.events {
        match &e.event {
            InputEvent::CreditNoteIssued(c) => {
                credit_notes.insert(c.credit_note_number.clone());
            }
            InputEvent::DisputeOpened(d) => {
                opened += 1;
                assert_eq!(
                    run.truth.disputes[&d.dispute_id].invoice_number,
                    d.invoice_number
                );
            }
            InputEvent::DisputeResolved(d) => {
                assert_eq!(run.truth.disputes[&d.dispute_id].outcome, Some(d.outcome));
            }
            _ => {}
        }
    }
    assert_eq!(opened, run.truth.disputes.len());
    let from_truth: BTreeSet<String> = run
        .truth
        .disputes
        .values()
        .filter_map(|d| d.credit_note_number.clone())
        .collect();
    assert_eq!(from_truth, credit_notes);
    assert!(!credit_notes.is_empty());
}

#[test]
fn written_off_invoices_are_never_paid_in_full() {
    let run = default_run();
    let invoices = run.invoices();
    let mut paid: BTreeMap<&str, Decimal> = BTreeMap::new();
    for truth in run.truth.payments.values().filter(|p| !p.is_reversed) {
        for a in &truth.allocations {
            *paid
                .entry(a.invoice_number.as_str())
                .or_insert(Decimal::ZERO) += a.amount;
        }
    }
    assert!(!run.truth.written_off.is_empty());
    for number in &run.truth.written_off {
        let amount = invoices[number.as_str()].amount;
        assert!(
            paid.get(number.as_str()).copied().unwrap_or(Decimal::ZERO) < amount,
            "{number}"
        );
    }
}

#[test]
fn truth_jsonl_holds_one_tagged_record_per_fact() {
    let run = default_run();
    let mut out = Vec::new();
    run.truth.write_jsonl(&mut out).expect("write to a Vec");
    let text = String::from_utf8(out).expect("utf-8");
    let mut records: BTreeMap<String, usize> = BTreeMap::new();
    for line in text.lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect("JSON");
        let record = value["record"].as_str().expect("tagged").to_owned();
        *records.entry(record).or_insert(0) += 1;
    }
    assert_eq!(records["debtor"], run.truth.debtors.len());
    assert_eq!(records["payment"], run.truth.payments.len());
    assert_eq!(records["promise"], run.truth.promises.len());
    assert_eq!(records["dispute"], run.truth.disputes.len());
    assert_eq!(records["written_off"], run.truth.written_off.len());
}
