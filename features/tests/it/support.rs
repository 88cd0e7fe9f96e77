//! Event builders and a harness that drives the ledger and the feature store like the
//! pipeline does.

use chrono::{DateTime, NaiveDate, Utc};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;
use events::*;
use features::{Definitions, FeatureConfig, FeatureStore, FlushReport, day_number};
use ledger::{Ledger, LedgerConfig};
use rust_decimal::Decimal;

/// The events of a simulated portfolio (the simulator's other settings at their defaults).
pub fn simulated(debtors: u32, months: u32) -> Vec<Envelope> {
    let config = simulator::SimConfig {
        debtors,
        months,
        ..simulator::SimConfig::default()
    };
    simulator::Simulator::new(config.check().unwrap()).collect()
}

pub fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub fn day(s: &str) -> i32 {
    day_number(date(s))
}

pub fn at(s: &str) -> DateTime<Utc> {
    format!("{s}T12:00:00Z").parse().unwrap()
}

pub fn debtor(id: &str, limit: &str, kind: DebtorType) -> InputEvent {
    InputEvent::DebtorUpdated(DebtorUpdated {
        debtor_id: id.into(),
        name: format!("Debtor {id}"),
        debtor_type: kind,
        country: "NL".into(),
        payment_method: PaymentMethod::BankTransfer,
        preferred_channel: Channel::Letter,
        credit_limit: dec(limit),
        currency: Currency::EUR,
        ibans: vec![],
    })
}

pub fn inv(number: &str, debtor: &str, amount: &str, issued: &str, due: &str) -> InputEvent {
    InputEvent::InvoiceIssued(InvoiceIssued {
        invoice_number: number.into(),
        debtor_id: debtor.into(),
        amount: dec(amount),
        currency: Currency::EUR,
        issue_date: date(issued),
        due_date: date(due),
        payment_reference: None,
    })
}

pub fn pay(
    id: &str,
    debtor: &str,
    invoice: &str,
    amount: &str,
    value: &str,
    method: PaymentMethod,
) -> InputEvent {
    InputEvent::PaymentReceived(PaymentReceived {
        payment_id: id.into(),
        amount: dec(amount),
        currency: Currency::EUR,
        value_date: date(value),
        method,
        counterparty_name: None,
        counterparty_iban: None,
        remittance_text: Some(invoice.into()),
        structured_reference: None,
        end_to_end_id: None,
        debtor_id: Some(debtor.into()),
    })
}

pub fn reversal(payment_id: &str, debtor: &str, amount: &str, value: &str) -> InputEvent {
    InputEvent::PaymentReversed(PaymentReversed {
        payment_id: payment_id.into(),
        amount: dec(amount),
        currency: Currency::EUR,
        value_date: date(value),
        reason_code: "AM04".into(),
        debtor_id: Some(debtor.into()),
    })
}

pub fn dispute(id: &str, debtor: &str, invoice: &str) -> InputEvent {
    InputEvent::DisputeOpened(DisputeOpened {
        dispute_id: id.into(),
        debtor_id: debtor.into(),
        invoice_number: invoice.into(),
        amount: None,
        reason: "goods damaged".into(),
    })
}

pub fn promise(id: &str, debtor: &str, amount: &str, by: &str, invoices: &[&str]) -> InputEvent {
    InputEvent::PromiseToPay(PromiseToPay {
        promise_id: id.into(),
        debtor_id: debtor.into(),
        promised_date: date(by),
        amount: dec(amount),
        currency: Currency::EUR,
        invoice_numbers: invoices.iter().map(|s| s.to_string()).collect(),
    })
}

pub fn rating(debtor: &str, grade: &str, pd: &str) -> InputEvent {
    InputEvent::BureauRating(BureauRating {
        debtor_id: debtor.into(),
        bureau: "creditsafe".into(),
        rating: grade.into(),
        probability_of_default: Some(dec(pd)),
    })
}

pub fn tick() -> InputEvent {
    InputEvent::ClockTick(ClockTick {})
}

/// The ledger and the feature store, driven like the pipeline drives them.
pub struct Harness {
    pub ledger: Ledger,
    pub store: FeatureStore,
    /// Every flushed batch of facts, for full recomputations.
    pub facts: Vec<RecordBatch>,
    seq: u64,
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with(FeatureConfig::default())
    }

    pub fn with(config: FeatureConfig) -> Harness {
        Harness {
            ledger: Ledger::new(LedgerConfig::default()),
            store: FeatureStore::new(Definitions::builtin().unwrap(), config).unwrap(),
            facts: Vec::new(),
            seq: 0,
        }
    }

    /// Processes an event at noon of `day` (not flushed).
    pub fn on(&mut self, day: &str, event: InputEvent) {
        self.seq += 1;
        self.envelope(&Envelope::new(format!("e{}", self.seq), at(day), event));
    }

    pub fn envelope(&mut self, envelope: &Envelope) {
        let mut effects = self.ledger.advance_to(envelope.event_time);
        effects.extend(self.ledger.apply(envelope));
        self.store.observe(envelope, &effects, &self.ledger);
    }

    pub fn flush(&mut self) -> FlushReport {
        let report = self.store.flush().unwrap();
        self.facts.push(report.facts.clone());
        report
    }

    /// Processes an event and flushes.
    pub fn at(&mut self, day: &str, event: InputEvent) -> FlushReport {
        self.on(day, event);
        self.flush()
    }

    /// The features of debtors on a day.
    pub fn features(&mut self, debtors: &[&str], on: &str) -> RecordBatch {
        self.store
            .features_of(debtors, day(on), &self.ledger)
            .unwrap()
    }

    /// One feature of one debtor on a day, as text (`` for NULL).
    pub fn feature(&mut self, debtor: &str, name: &str, on: &str) -> String {
        let batch = self.features(&[debtor], on);
        text(&batch, name, 0)
    }

    /// Every known debtor's slot.
    pub fn all_slots(&self) -> Vec<u32> {
        (0..self.store.slots().len() as u32).collect()
    }

    /// Streaming and full recomputation of every known debtor on `today`, inputs and
    /// features.
    pub fn both(&self, today: i32) -> ((RecordBatch, RecordBatch), (RecordBatch, RecordBatch)) {
        let slots = self.all_slots();
        let streamed = (
            self.store.inputs(&slots, today, &self.ledger).unwrap(),
            self.store.features(&slots, today, &self.ledger).unwrap(),
        );
        let recomputed = features::reference::recompute(
            self.store.engine(),
            self.store.slots(),
            &self.facts,
            &slots,
            today,
            &self.ledger,
        )
        .unwrap();
        (streamed, recomputed)
    }
}

/// A cell as text (`` for NULL).
pub fn text(batch: &RecordBatch, column: &str, row: usize) -> String {
    let c = batch
        .column_by_name(column)
        .unwrap_or_else(|| panic!("no column {column}"));
    if c.is_null(row) {
        return String::new();
    }
    array_value_to_string(c, row).unwrap()
}

/// Asserts two batches equal cell by cell, naming the first difference.
pub fn assert_same(streamed: &RecordBatch, recomputed: &RecordBatch) {
    assert_eq!(streamed.schema(), recomputed.schema());
    assert_eq!(streamed.num_rows(), recomputed.num_rows());
    for (i, field) in streamed.schema().fields().iter().enumerate() {
        let (a, b) = (streamed.column(i), recomputed.column(i));
        for row in 0..streamed.num_rows() {
            assert_eq!(
                (a.is_null(row), array_value_to_string(a, row).unwrap()),
                (b.is_null(row), array_value_to_string(b, row).unwrap()),
                "column {} row {row} (debtor slot {row})",
                field.name()
            );
        }
    }
    assert_eq!(streamed, recomputed);
}
