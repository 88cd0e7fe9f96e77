//! A ledger and decisions driven like the pipeline drives them, and event builders.

use chrono::{DateTime, NaiveDate, Utc};
use decisions::{DecisionConfig, Decisions};
use events::*;
use ledger::{Ledger, LedgerConfig};
use rust_decimal::Decimal;

pub fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub fn at(s: &str) -> DateTime<Utc> {
    format!("{s}T12:00:00Z").parse().unwrap()
}

pub fn debtor(id: &str, limit: &str, channel: Channel) -> InputEvent {
    InputEvent::DebtorUpdated(DebtorUpdated {
        debtor_id: id.into(),
        name: format!("Debtor {id}"),
        debtor_type: DebtorType::Business,
        country: "NL".into(),
        payment_method: PaymentMethod::DirectDebit,
        preferred_channel: channel,
        credit_limit: dec(limit),
        currency: Currency::EUR,
        ibans: vec![],
    })
}

pub fn inv(number: &str, debtor: &str, amount: &str, due: &str) -> InputEvent {
    InputEvent::InvoiceIssued(InvoiceIssued {
        invoice_number: number.into(),
        debtor_id: debtor.into(),
        amount: dec(amount),
        currency: Currency::EUR,
        issue_date: date(due) - chrono::Days::new(30),
        due_date: date(due),
        payment_reference: None,
    })
}

pub fn payment(id: &str, amount: &str) -> PaymentReceived {
    PaymentReceived {
        payment_id: id.into(),
        amount: dec(amount),
        currency: Currency::EUR,
        value_date: date("2025-01-01"),
        method: PaymentMethod::BankTransfer,
        counterparty_name: None,
        counterparty_iban: None,
        remittance_text: None,
        structured_reference: None,
        end_to_end_id: None,
        debtor_id: None,
    }
}

pub fn pay_text(id: &str, amount: &str, text: &str) -> InputEvent {
    let mut p = payment(id, amount);
    p.remittance_text = Some(text.into());
    InputEvent::PaymentReceived(p)
}

pub fn reversal(payment_id: &str, amount: &str, code: &str) -> InputEvent {
    InputEvent::PaymentReversed(PaymentReversed {
        payment_id: payment_id.into(),
        amount: dec(amount),
        currency: Currency::EUR,
        value_date: date("2025-01-01"),
        reason_code: code.into(),
        debtor_id: None,
    })
}

pub fn dispute(id: &str, debtor: &str, invoice: &str) -> InputEvent {
    InputEvent::DisputeOpened(DisputeOpened {
        dispute_id: id.into(),
        debtor_id: debtor.into(),
        invoice_number: invoice.into(),
        amount: None,
        reason: "wrong quantity".into(),
    })
}

pub fn promise(id: &str, debtor: &str, amount: &str, by: &str) -> InputEvent {
    InputEvent::PromiseToPay(PromiseToPay {
        promise_id: id.into(),
        debtor_id: debtor.into(),
        promised_date: date(by),
        amount: dec(amount),
        currency: Currency::EUR,
        invoice_numbers: vec![],
    })
}

pub fn tick() -> InputEvent {
    InputEvent::ClockTick(ClockTick {})
}

/// The strategy the tests run: the first built-in one, fixed (scenarios/segmented-1.toml),
/// so they test the mechanics whatever the built-in strategy becomes.
pub const TEST_STRATEGY: &str = include_str!("scenarios/segmented-1.toml");

/// Decisions following [`TEST_STRATEGY`], activated as an event before anything else.
pub fn decisions_with(config: DecisionConfig) -> Decisions {
    let mut decisions = Decisions::new(config);
    let activation = Envelope::new(
        "strategy-tests",
        at("2000-01-01"),
        InputEvent::StrategyActivated(StrategyActivated {
            version: "segmented-1".into(),
            config: TEST_STRATEGY.into(),
            activated_by: "tests".into(),
            reason: "the tests' strategy".into(),
        }),
    );
    decisions.decide(&activation, &[], &Ledger::new(LedgerConfig::default()));
    assert_eq!(decisions.strategy().version, "segmented-1");
    decisions
}

/// Ledger + decisions, as the pipeline's stage loop runs them.
pub struct Engine {
    pub ledger: Ledger,
    pub decisions: Decisions,
}

impl Engine {
    pub fn new() -> Engine {
        Engine::with(DecisionConfig::default())
    }

    pub fn with(config: DecisionConfig) -> Engine {
        Engine {
            ledger: Ledger::new(LedgerConfig::default()),
            decisions: decisions_with(config),
        }
    }

    /// advance_to(event time) + apply + decide.
    pub fn on(&mut self, event_id: &str, day: &str, event: InputEvent) -> Vec<OutputEnvelope> {
        let envelope = Envelope::new(event_id, at(day), event);
        let mut effects = self.ledger.advance_to(envelope.event_time);
        effects.extend(self.ledger.apply(&envelope));
        self.decisions.decide(&envelope, &effects, &self.ledger)
    }
}

/// (output id, kind label) of each output.
pub fn ids(outputs: &[OutputEnvelope]) -> Vec<(String, &'static str)> {
    outputs
        .iter()
        .map(|o| (o.output_id.clone(), o.output.kind_label()))
        .collect()
}

/// Outputs other than score updates.
pub fn without_scores(outputs: &[OutputEnvelope]) -> Vec<&OutputEnvelope> {
    outputs
        .iter()
        .filter(|o| !matches!(o.output, Output::ScoreUpdate(_)))
        .collect()
}

/// Compares `actual` with the golden file at `path` (under this crate); `UPDATE_GOLDEN=1`
/// rewrites it. A difference names the first line that differs.
pub fn golden(path: &std::path::Path, actual: &str) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    if actual != expected {
        let first = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(actual.lines().count().min(expected.lines().count()));
        panic!(
            "{} differs from the run at line {}:\n  golden: {:?}\n  run:    {:?}\nrun with UPDATE_GOLDEN=1 and review the diff",
            path.display(),
            first + 1,
            expected.lines().nth(first),
            actual.lines().nth(first)
        );
    }
}
