//! Builders for events and a harness that moves the clock like the pipeline does.

use chrono::{DateTime, NaiveDate, Utc};
use events::*;
use ledger::{Ledger, LedgerConfig, LedgerEffect};
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

pub fn debtor(id: &str, limit: &str, ibans: &[&str]) -> InputEvent {
    InputEvent::DebtorUpdated(DebtorUpdated {
        debtor_id: id.into(),
        name: format!("Debtor {id}"),
        debtor_type: DebtorType::Business,
        country: "NL".into(),
        payment_method: PaymentMethod::BankTransfer,
        preferred_channel: Channel::Letter,
        credit_limit: dec(limit),
        currency: Currency::EUR,
        ibans: ibans.iter().map(|s| s.to_string()).collect(),
    })
}

pub fn invoice(number: &str, debtor: &str, amount: &str, due: &str) -> InvoiceIssued {
    InvoiceIssued {
        invoice_number: number.into(),
        debtor_id: debtor.into(),
        amount: dec(amount),
        currency: Currency::EUR,
        issue_date: date(due) - chrono::Days::new(30),
        due_date: date(due),
        payment_reference: None,
    }
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

pub fn credit_note(number: &str, debtor: &str, amount: &str, invoice: Option<&str>) -> InputEvent {
    InputEvent::CreditNoteIssued(CreditNoteIssued {
        credit_note_number: number.into(),
        debtor_id: debtor.into(),
        amount: dec(amount),
        currency: Currency::EUR,
        issue_date: date("2025-01-01"),
        invoice_number: invoice.map(str::to_owned),
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

/// A ledger driven like the pipeline drives it: advance to the event time, then apply.
pub struct Harness {
    pub ledger: Ledger,
    seq: u64,
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with(LedgerConfig::default())
    }

    pub fn with(config: LedgerConfig) -> Harness {
        Harness {
            ledger: Ledger::new(config),
            seq: 0,
        }
    }

    /// Advances to `day` and applies `event`; returns the effects of both.
    pub fn on(&mut self, day: &str, event: InputEvent) -> Vec<LedgerEffect> {
        self.seq += 1;
        let envelope = Envelope::new(format!("e{}", self.seq), at(day), event);
        let mut effects = self.ledger.advance_to(envelope.event_time);
        effects.extend(self.ledger.apply(&envelope));
        assert!(
            self.ledger.totals().is_balanced(),
            "{:?}",
            self.ledger.totals()
        );
        effects
    }

    pub fn open(&self, invoice: &str) -> Decimal {
        self.ledger.item(invoice).unwrap().open_amount
    }

    pub fn unapplied(&self, debtor: &str) -> Decimal {
        self.ledger.debtor(debtor).unwrap().unapplied_credit
    }
}

pub fn issued(i: InvoiceIssued) -> InputEvent {
    InputEvent::InvoiceIssued(i)
}

pub fn inv(number: &str, debtor: &str, amount: &str, due: &str) -> InputEvent {
    issued(invoice(number, debtor, amount, due))
}

pub fn paid(p: PaymentReceived) -> InputEvent {
    InputEvent::PaymentReceived(p)
}

pub fn tick() -> InputEvent {
    InputEvent::ClockTick(ClockTick {})
}

pub fn names(effects: &[LedgerEffect]) -> Vec<&'static str> {
    effects.iter().map(LedgerEffect::name).collect()
}
