//! The ground truth of a run, kept beside the events for tests and benchmarks: which
//! debtor behaves how, which payment pays which invoices (and how it was remitted),
//! which promises were kept, how disputes ended and which invoices will never be paid.
//! None of it is published as an event.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use chrono::NaiveDate;
use events::{DebtorType, DisputeOutcome, PaymentMethod};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::behaviour::Behaviour;
use crate::remittance::NoiseKind;

/// What is true of one debtor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DebtorTruth {
    /// Its behaviour.
    pub behaviour: Behaviour,
    /// Its segment.
    pub debtor_type: DebtorType,
    /// How it paid at the start of the run.
    pub payment_method: PaymentMethod,
    /// Its country.
    pub country: String,
    /// Turning bad: the day it turned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turns_bad_on: Option<NaiveDate>,
    /// Turning bad: the day from which it pays nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stops_paying_on: Option<NaiveDate>,
}

/// Part of a payment applied to one invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Allocation {
    /// The invoice paid.
    pub invoice_number: String,
    /// The amount applied to it.
    pub amount: Decimal,
}

/// What is true of one payment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PaymentTruth {
    /// The debtor who really paid (also for unknown payers).
    pub debtor_id: String,
    /// The invoices it pays and how much of each. Allocations plus `unapplied` add up to
    /// the payment's amount. A payment short by bank costs allocates what it paid; the
    /// rest of that invoice is meant to be written off within the tolerance.
    pub allocations: Vec<Allocation>,
    /// Overpaid amount, to be kept as unapplied credit on the debtor.
    pub unapplied: Decimal,
    /// How it was remitted.
    pub noise: NoiseKind,
    /// How the money came in.
    pub method: PaymentMethod,
    /// Whether it was returned later in the run.
    pub is_reversed: bool,
    /// The SEPA return reason when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reversal_reason: Option<String>,
}

/// What is true of one promise to pay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromiseTruth {
    /// The debtor.
    pub debtor_id: String,
    /// The invoices promised.
    pub invoice_numbers: Vec<String>,
    /// The promised date.
    pub promised_date: NaiveDate,
    /// Whether money came in on the invoice between the promise and the end of the
    /// promised date (a kept promise may still be paid in parts). For a promised date
    /// after the end of the run: whether the debtor meant to keep it.
    pub kept: bool,
}

/// How one dispute ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DisputeTruth {
    /// The debtor.
    pub debtor_id: String,
    /// The disputed invoice.
    pub invoice_number: String,
    /// The outcome, once resolved within the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<DisputeOutcome>,
    /// The credit note that settled it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_note_number: Option<String>,
}

/// Everything the simulator knows and the events do not say.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GroundTruth {
    /// Per debtor id.
    pub debtors: BTreeMap<String, DebtorTruth>,
    /// Per payment id.
    pub payments: BTreeMap<String, PaymentTruth>,
    /// Per promise id.
    pub promises: BTreeMap<String, PromiseTruth>,
    /// Per dispute id.
    pub disputes: BTreeMap<String, DisputeTruth>,
    /// Invoices (or their rest) the debtor will never pay: bad debt.
    pub written_off: BTreeSet<String>,
}

/// One line of the JSON-lines form.
#[derive(Serialize)]
#[serde(tag = "record", rename_all = "snake_case")]
enum Line<'a> {
    Debtor {
        debtor_id: &'a str,
        #[serde(flatten)]
        truth: &'a DebtorTruth,
    },
    Payment {
        payment_id: &'a str,
        #[serde(flatten)]
        truth: &'a PaymentTruth,
    },
    Promise {
        promise_id: &'a str,
        #[serde(flatten)]
        truth: &'a PromiseTruth,
    },
    Dispute {
        dispute_id: &'a str,
        #[serde(flatten)]
        truth: &'a DisputeTruth,
    },
    WrittenOff {
        invoice_number: &'a str,
    },
}

impl GroundTruth {
    /// Writes the truth as JSON lines, one record per line, tagged by `record`
    /// (`debtor`, `payment`, `promise`, `dispute`, `written_off`), in id order.
    pub fn write_jsonl(&self, w: &mut impl Write) -> io::Result<()> {
        let mut write = |line: Line<'_>| -> io::Result<()> {
            serde_json::to_writer(&mut *w, &line)?;
            w.write_all(b"\n")
        };
        for (debtor_id, truth) in &self.debtors {
            write(Line::Debtor { debtor_id, truth })?;
        }
        for (payment_id, truth) in &self.payments {
            write(Line::Payment { payment_id, truth })?;
        }
        for (promise_id, truth) in &self.promises {
            write(Line::Promise { promise_id, truth })?;
        }
        for (dispute_id, truth) in &self.disputes {
            write(Line::Dispute { dispute_id, truth })?;
        }
        for invoice_number in &self.written_off {
            write(Line::WrittenOff { invoice_number })?;
        }
        Ok(())
    }

    /// Number of payments of each kind.
    pub fn noise_counts(&self) -> BTreeMap<NoiseKind, u64> {
        let mut counts = BTreeMap::new();
        for p in self.payments.values() {
            *counts.entry(p.noise).or_insert(0) += 1;
        }
        counts
    }

    /// Number of debtors of each behaviour.
    pub fn behaviour_counts(&self) -> BTreeMap<Behaviour, u64> {
        let mut counts = BTreeMap::new();
        for d in self.debtors.values() {
            *counts.entry(d.behaviour).or_insert(0) += 1;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_has_one_tagged_record_per_line() {
        let mut truth = GroundTruth::default();
        truth.debtors.insert(
            "D000001".into(),
            DebtorTruth {
                behaviour: Behaviour::OnTime,
                debtor_type: DebtorType::Consumer,
                payment_method: PaymentMethod::BankTransfer,
                country: "NL".into(),
                turns_bad_on: None,
                stops_paying_on: None,
            },
        );
        truth.payments.insert(
            "TX-000000001".into(),
            PaymentTruth {
                debtor_id: "D000001".into(),
                allocations: vec![Allocation {
                    invoice_number: "INV-0000001".into(),
                    amount: Decimal::new(12345, 2),
                }],
                unapplied: Decimal::ZERO,
                noise: NoiseKind::InvoiceNumberExact,
                method: PaymentMethod::BankTransfer,
                is_reversed: false,
                reversal_reason: None,
            },
        );
        truth.written_off.insert("INV-0000002".into());
        let mut out = Vec::new();
        truth.write_jsonl(&mut out).expect("write to a Vec");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[0]
                .starts_with(r#"{"record":"debtor","debtor_id":"D000001","behaviour":"on_time""#)
        );
        assert!(lines[1].contains(r#""amount":"123.45""#), "{}", lines[1]);
        assert!(lines[1].contains(r#""noise":"invoice_number_exact""#));
        assert_eq!(
            lines[2],
            r#"{"record":"written_off","invoice_number":"INV-0000002"}"#
        );
    }
}
