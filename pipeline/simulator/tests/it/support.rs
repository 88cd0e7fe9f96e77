//! Shared helpers: running a config and looking its events up.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, TimeDelta, Weekday};
use events::{Envelope, InputEvent, InvoiceIssued, PaymentReceived};
use simulator::{Behaviour, GroundTruth, SimConfig, Simulator};

/// A finished run: its events and its truth.
pub struct Run {
    pub events: Vec<Envelope>,
    pub truth: GroundTruth,
}

/// Runs `config` to the end.
pub fn run(config: SimConfig) -> Run {
    let mut sim = Simulator::new(config.check().expect("valid config"));
    let events: Vec<Envelope> = sim.by_ref().collect();
    Run {
        events,
        truth: sim.into_truth(),
    }
}

/// A small run (fast in debug builds).
pub fn small(seed: u64) -> SimConfig {
    SimConfig {
        seed,
        debtors: 150,
        months: 6,
        ..SimConfig::default()
    }
}

/// The date a payment due on `due` may arrive without being late: the due date, or the
/// Monday after when it falls on a weekend (banks book on business days).
pub fn pay_by(due: NaiveDate) -> NaiveDate {
    match due.weekday() {
        Weekday::Sat => due + TimeDelta::days(2),
        Weekday::Sun => due + TimeDelta::days(1),
        _ => due,
    }
}

impl Run {
    pub fn invoices(&self) -> BTreeMap<&str, &InvoiceIssued> {
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                InputEvent::InvoiceIssued(i) => Some((i.invoice_number.as_str(), i)),
                _ => None,
            })
            .collect()
    }

    pub fn payments(&self) -> BTreeMap<&str, &PaymentReceived> {
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                InputEvent::PaymentReceived(p) => Some((p.payment_id.as_str(), p)),
                _ => None,
            })
            .collect()
    }

    /// For each behaviour: (payments, payments arriving after the latest due date of the
    /// invoices they pay). Returned direct debits are left out.
    pub fn lateness(
        &self,
        only_due_in: impl Fn(NaiveDate) -> bool,
    ) -> BTreeMap<Behaviour, (u32, u32)> {
        let invoices = self.invoices();
        let payments = self.payments();
        let mut out: BTreeMap<Behaviour, (u32, u32)> = BTreeMap::new();
        for (id, p) in &self.truth.payments {
            if p.is_reversed {
                continue;
            }
            let due = p
                .allocations
                .iter()
                .map(|a| invoices[a.invoice_number.as_str()].due_date)
                .max()
                .expect("a payment pays at least one invoice");
            if !only_due_in(due) {
                continue;
            }
            let behaviour = self.truth.debtors[&p.debtor_id].behaviour;
            let entry = out.entry(behaviour).or_insert((0, 0));
            entry.0 += 1;
            if payments[id.as_str()].value_date > pay_by(due) {
                entry.1 += 1;
            }
        }
        out
    }
}

/// The default run (1000 debtors, 12 months), made once and shared by the tests.
pub fn default_run() -> &'static Run {
    static RUN: std::sync::OnceLock<Run> = std::sync::OnceLock::new();
    RUN.get_or_init(|| run(SimConfig::default()))
}
