//! Valid example events of every kind, and tools to spoil them one field at a time.
//!
//! Two examples per input kind: `minimal` (required fields only) and `full` (every optional
//! field present). The docs' JSON examples are the `full` ones (see `docs.rs`).

use chrono::{DateTime, NaiveDate, Utc};
use events::money::Money;
use events::*;
use rust_decimal::Decimal;
use serde_json::Value;

/// The default limit, as the pipeline uses it.
pub const LIMIT: usize = DEFAULT_MAX_EVENT_BYTES;

/// The event id every example carries.
pub const EVENT_ID: &str = "erp-7f3a-000123";

/// The debtor of every example.
pub const DEBTOR: &str = "D000042";

pub fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("example time")
        .with_timezone(&Utc)
}

pub fn date(text: &str) -> NaiveDate {
    text.parse().expect("example date")
}

pub fn dec(text: &str) -> Decimal {
    text.parse().expect("example decimal")
}

pub fn eur(amount: &str) -> Money {
    Money::new(dec(amount), Currency::EUR)
}

pub fn decode(bytes: &[u8]) -> Result<Envelope, DecodeError> {
    Envelope::decode(bytes, LIMIT)
}

fn envelope(event: InputEvent) -> Envelope {
    Envelope::new(EVENT_ID, time("2025-03-01T09:30:00Z"), event)
}

/// Required fields only.
pub fn minimal(kind: EventKind) -> Envelope {
    envelope(match kind {
        EventKind::DebtorUpdated => InputEvent::DebtorUpdated(DebtorUpdated {
            debtor_id: DEBTOR.into(),
            name: "Bakkerij De Korenaar B.V.".into(),
            debtor_type: DebtorType::Business,
            country: "NL".into(),
            payment_method: PaymentMethod::BankTransfer,
            preferred_channel: Channel::Email,
            credit_limit: dec("25000.00"),
            currency: Currency::EUR,
            ibans: vec![],
        }),
        EventKind::InvoiceIssued => InputEvent::InvoiceIssued(InvoiceIssued {
            invoice_number: "INV-2025-000123".into(),
            debtor_id: DEBTOR.into(),
            amount: dec("1250.00"),
            currency: Currency::EUR,
            issue_date: date("2025-03-01"),
            due_date: date("2025-03-31"),
            payment_reference: None,
        }),
        EventKind::PaymentReceived => InputEvent::PaymentReceived(PaymentReceived {
            payment_id: "NL91ABNA0417164300-2025-03-28-0017".into(),
            amount: dec("1250.00"),
            currency: Currency::EUR,
            value_date: date("2025-03-28"),
            method: PaymentMethod::BankTransfer,
            counterparty_name: None,
            counterparty_iban: None,
            remittance_text: None,
            structured_reference: None,
            end_to_end_id: None,
            debtor_id: None,
        }),
        EventKind::PaymentReversed => InputEvent::PaymentReversed(PaymentReversed {
            payment_id: "DD-2025-03-05-000981".into(),
            amount: dec("89.95"),
            currency: Currency::EUR,
            value_date: date("2025-03-10"),
            reason_code: "AM04".into(),
            debtor_id: None,
        }),
        EventKind::CreditNoteIssued => InputEvent::CreditNoteIssued(CreditNoteIssued {
            credit_note_number: "CN-2025-000007".into(),
            debtor_id: DEBTOR.into(),
            amount: dec("150.00"),
            currency: Currency::EUR,
            issue_date: date("2025-03-12"),
            invoice_number: None,
        }),
        EventKind::DisputeOpened => InputEvent::DisputeOpened(DisputeOpened {
            dispute_id: "DSP-2025-0042".into(),
            debtor_id: DEBTOR.into(),
            invoice_number: "INV-2025-000123".into(),
            amount: None,
            reason: String::new(),
        }),
        EventKind::DisputeResolved => InputEvent::DisputeResolved(DisputeResolved {
            dispute_id: "DSP-2025-0042".into(),
            debtor_id: DEBTOR.into(),
            invoice_number: "INV-2025-000123".into(),
            outcome: DisputeOutcome::DebtorUpheld,
        }),
        EventKind::PromiseToPay => InputEvent::PromiseToPay(PromiseToPay {
            promise_id: "PTP-2025-0311".into(),
            debtor_id: DEBTOR.into(),
            promised_date: date("2025-04-15"),
            amount: dec("600.00"),
            currency: Currency::EUR,
            invoice_numbers: vec![],
        }),
        EventKind::BureauRating => InputEvent::BureauRating(BureauRating {
            debtor_id: DEBTOR.into(),
            bureau: "graydon".into(),
            rating: "BB+".into(),
            probability_of_default: None,
        }),
        EventKind::ClockTick => InputEvent::ClockTick(ClockTick {}),
        EventKind::ModelActivated => InputEvent::ModelActivated(ModelActivated {
            role: ModelRole::Champion,
            version: "risk-2025-03".into(),
            sha256: None,
            activated_by: "analyst.jansen".into(),
            reason: String::new(),
        }),
        EventKind::StrategyActivated => InputEvent::StrategyActivated(StrategyActivated {
            version: "2025-03-segmented".into(),
            config: "version = \"2025-03-segmented\"\n\n[[segment]]\nname = \"everyone\"\ndunning = [{ day = 7, channel = \"preferred\", tone = \"friendly\" }]\n".into(),
            activated_by: "analyst.jansen".into(),
            reason: String::new(),
        }),
        EventKind::TaskClosed => InputEvent::TaskClosed(TaskClosed {
            task_id: "unmatched_payment:bank-2025-03-10-000042".into(),
            closed_by: "credit.devries".into(),
            reason: "Applied by hand to INV-2025-000123 after a call with the payer".into(),
        }),
        EventKind::LimitOverride => InputEvent::LimitOverride(LimitOverride {
            debtor_id: DEBTOR.into(),
            credit_limit: dec("40000.00"),
            currency: Currency::EUR,
            set_by: "credit.devries".into(),
            reason: "Signed guarantee from the parent company".into(),
        }),
    })
}

/// Every optional field present.
pub fn full(kind: EventKind) -> Envelope {
    let mut example = minimal(kind);
    match &mut example.event {
        InputEvent::DebtorUpdated(e) => {
            e.ibans = vec!["NL91ABNA0417164300".into(), "NL20INGB0001234567".into()];
        }
        InputEvent::InvoiceIssued(e) => {
            e.payment_reference = Some("RF18539007547034".into());
        }
        InputEvent::PaymentReceived(e) => {
            e.method = PaymentMethod::DirectDebit;
            e.counterparty_name = Some("BAKKERIJ DE KORENAAR BV".into());
            e.counterparty_iban = Some("NL91ABNA0417164300".into());
            e.remittance_text = Some("Factuur INV-2025-000123 dank u".into());
            e.structured_reference = Some("RF18539007547034".into());
            e.end_to_end_id = Some("E2E-20250328-4471".into());
            e.debtor_id = Some(DEBTOR.into());
        }
        InputEvent::PaymentReversed(e) => e.debtor_id = Some(DEBTOR.into()),
        InputEvent::CreditNoteIssued(e) => e.invoice_number = Some("INV-2025-000123".into()),
        InputEvent::DisputeOpened(e) => {
            e.amount = Some(dec("150.00"));
            e.reason = "Two of the ten crates arrived damaged".into();
        }
        InputEvent::DisputeResolved(_) | InputEvent::ClockTick(_) => {}
        InputEvent::PromiseToPay(e) => {
            e.invoice_numbers = vec!["INV-2025-000123".into(), "INV-2025-000131".into()];
        }
        InputEvent::BureauRating(e) => e.probability_of_default = Some(dec("0.0215")),
        InputEvent::StrategyActivated(e) => {
            e.reason = "fewer letters for low-risk debtors".into();
        }
        InputEvent::TaskClosed(_) | InputEvent::LimitOverride(_) => {}
        InputEvent::ModelActivated(e) => {
            e.sha256 =
                Some("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into());
            e.reason = "validation AUC 0.86 against 0.84 of the champion".into();
        }
    }
    example
}

/// Fields of `data` a producer may leave out, per kind.
pub fn optional_fields(kind: EventKind) -> &'static [&'static str] {
    match kind {
        EventKind::DebtorUpdated => &["ibans"],
        EventKind::InvoiceIssued => &["payment_reference"],
        EventKind::PaymentReceived => &[
            "method",
            "counterparty_name",
            "counterparty_iban",
            "remittance_text",
            "structured_reference",
            "end_to_end_id",
            "debtor_id",
        ],
        EventKind::PaymentReversed => &["debtor_id"],
        EventKind::CreditNoteIssued => &["invoice_number"],
        EventKind::DisputeOpened => &["amount", "reason"],
        EventKind::DisputeResolved | EventKind::ClockTick => &[],
        EventKind::PromiseToPay => &["invoice_numbers"],
        EventKind::BureauRating => &["probability_of_default"],
        EventKind::ModelActivated => &["sha256", "reason"],
        EventKind::StrategyActivated => &["reason"],
        EventKind::TaskClosed | EventKind::LimitOverride => &[],
    }
}

/// The full example of `kind` as a JSON value, to be spoilt.
pub fn message(kind: EventKind) -> Value {
    serde_json::from_slice(&full(kind).to_json()).expect("examples are JSON")
}

/// `message` with the value at a JSON pointer (`/data/amount`) replaced or added.
pub fn with(kind: EventKind, pointer: &str, value: Value) -> Vec<u8> {
    let mut message = message(kind);
    set(&mut message, pointer, value);
    serde_json::to_vec(&message).expect("JSON")
}

/// `message` without the field at a JSON pointer.
pub fn without(kind: EventKind, pointer: &str) -> Vec<u8> {
    let mut message = message(kind);
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    let removed = message
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .and_then(|o| o.remove(key));
    assert!(
        removed.is_some(),
        "{pointer} is not in the {kind:?} example"
    );
    serde_json::to_vec(&message).expect("JSON")
}

fn set(message: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    let object = message
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("{parent} is not an object"));
    object.insert(key.to_owned(), value);
}

/// One example of every output family, with every optional field present. Their ids follow
/// the rule of the `decisions` crate: `<kind label>:<cause event id>[:<discriminator>]`.
pub fn outputs() -> Vec<OutputEnvelope> {
    let at = time("2025-03-10T08:15:00Z");
    let output = |cause: &str, discriminator: Option<&str>, output: Output| OutputEnvelope {
        schema_version: CURRENT_SCHEMA_VERSION,
        output_id: match discriminator {
            Some(d) => format!("{}:{cause}:{d}", output.kind_label()),
            None => format!("{}:{cause}", output.kind_label()),
        },
        event_time: at,
        cause_event_id: cause.to_owned(),
        debtor_id: Some(DEBTOR.to_owned()),
        output,
    };
    vec![
        output(
            "bank-2025-03-10-000981",
            None,
            Output::Alert(Alert {
                kind: AlertKind::ReversalReceived,
                severity: Severity::Warning,
                summary: "Direct debit of EUR 89.95 returned: insufficient funds (AM04)".into(),
                amount: Some(eur("89.95")),
                reference: Some("DD-2025-03-05-000981".into()),
            }),
        ),
        output(
            "tick-2025-03-10T08:15:00Z",
            Some("INV-2025-000123"),
            Output::Action(Action {
                kind: ActionKind::Reminder,
                channel: Some(Channel::Email),
                tone: Some(Tone::Friendly),
                invoice_numbers: vec!["INV-2025-000123".into()],
                payment_term_days: Some(14),
                installments: vec![],
                summary: "Remind debtor D000042 (friendly): invoice INV-2025-000123 was due on 2025-02-28 (10 days ago); EUR 1250.00 is open. Offer 14 days to pay.".into(),
                reason: ActionReason {
                    rule: "dunning".into(),
                    strategy_version: Some("2025-03-segmented".into()),
                    segment: Some("low-risk".into()),
                    step_day: Some(10),
                    risk_class: Some("B".into()),
                    probability_late: Some(0.25),
                    model_version: Some("risk-2025-03".into()),
                },
            }),
        ),
        OutputEnvelope {
            debtor_id: None,
            ..output(
                "bank-2025-03-10-000042",
                None,
                Output::Task(Task {
                    kind: TaskKind::UnmatchedPayment,
                    summary: "Payment of EUR 412.10 without a usable reference".into(),
                    payment_id: Some("NL91ABNA0417164300-2025-03-10-0042".into()),
                    amount: Some(eur("412.10")),
                    candidates: vec!["D000042".into(), "D000317".into()],
                    invoice_numbers: vec![],
                    closure: None,
                }),
            )
        },
        output(
            "bank-2025-03-10-000981",
            Some(DEBTOR),
            Output::ScoreUpdate(ScoreUpdate {
                currency: Currency::EUR,
                open_balance: dec("3340.45"),
                overdue_balance: dec("1250.00"),
                max_days_past_due: 10,
                unapplied_credit: dec("0.00"),
                credit_limit: Some(dec("25000.00")),
                exposure_above_limit: false,
                probability_late: Some(0.25),
                risk_class: Some("B".into()),
                recommended_limit: Some(dec("20000.00")),
                model_version: Some("risk-2025-03".into()),
                challenger: Some(ShadowScore {
                    model_version: "risk-2025-03-trees".into(),
                    probability_late: 0.21,
                    risk_class: "B".into(),
                }),
                reason: "Direct debit returned".into(),
            }),
        ),
    ]
}

/// Further examples, for the fields the first example of their family cannot carry (a
/// reminder offers no installments; a new task closes nothing).
pub fn more_outputs() -> Vec<OutputEnvelope> {
    let at = time("2025-03-01T09:30:00Z");
    let eur = |a: &str| Money::new(dec(a), Currency::EUR);
    vec![
        OutputEnvelope {
            schema_version: CURRENT_SCHEMA_VERSION,
            output_id: "payment_plan_proposed:erp-7f3a-000123:INV-2025-000123".into(),
            event_time: at,
            cause_event_id: "erp-7f3a-000123".into(),
            debtor_id: Some(DEBTOR.to_owned()),
            output: Output::Action(Action {
                kind: ActionKind::PaymentPlanProposed,
                channel: Some(Channel::Email),
                tone: Some(Tone::Friendly),
                invoice_numbers: vec!["INV-2025-000123".into()],
                payment_term_days: None,
                installments: vec![
                    Installment {
                        due_date: date("2025-03-31"),
                        amount: eur("416.66"),
                    },
                    Installment {
                        due_date: date("2025-04-30"),
                        amount: eur("416.66"),
                    },
                    Installment {
                        due_date: date("2025-05-30"),
                        amount: eur("416.68"),
                    },
                ],
                summary: "Offer debtor D000042 to pay invoice INV-2025-000123 (EUR 1250.00) in 3 installments.".into(),
                reason: ActionReason {
                    rule: "payment_plan".into(),
                    strategy_version: Some("2025-03-segmented".into()),
                    segment: Some("consumers-at-risk".into()),
                    step_day: None,
                    risk_class: Some("D".into()),
                    probability_late: Some(0.61),
                    model_version: Some("risk-2025-03".into()),
                },
            }),
        },
        OutputEnvelope {
            schema_version: CURRENT_SCHEMA_VERSION,
            output_id: "task_closed:ops-2025-03-11-0007:unmatched_payment:bank-2025-03-10-000042"
                .into(),
            event_time: at,
            cause_event_id: "ops-2025-03-11-0007".into(),
            debtor_id: None,
            output: Output::Task(Task {
                kind: TaskKind::UnmatchedPayment,
                summary: "Task unmatched_payment:bank-2025-03-10-000042 closed by credit.devries: applied by hand to INV-2025-000123".into(),
                payment_id: Some("NL91ABNA0417164300-2025-03-10-0042".into()),
                amount: Some(eur("412.10")),
                candidates: vec![],
                invoice_numbers: vec!["INV-2025-000123".into()],
                closure: Some(TaskClosure {
                    task_id: "unmatched_payment:bank-2025-03-10-000042".into(),
                    closed_by: "credit.devries".into(),
                    reason: "applied by hand to INV-2025-000123".into(),
                }),
            }),
        },
    ]
}

/// The same outputs with every optional field absent.
pub fn minimal_outputs() -> Vec<OutputEnvelope> {
    outputs()
        .into_iter()
        .map(|mut o| {
            o.debtor_id = None;
            match &mut o.output {
                Output::Alert(a) => {
                    a.amount = None;
                    a.reference = None;
                }
                Output::Action(a) => {
                    a.channel = None;
                    a.tone = None;
                    a.invoice_numbers.clear();
                    a.payment_term_days = None;
                    a.installments.clear();
                }
                Output::Task(t) => {
                    t.payment_id = None;
                    t.amount = None;
                    t.candidates.clear();
                    t.invoice_numbers.clear();
                    t.closure = None;
                }
                Output::ScoreUpdate(s) => {
                    s.probability_late = None;
                    s.risk_class = None;
                    s.recommended_limit = None;
                    s.credit_limit = None;
                    s.model_version = None;
                    s.challenger = None;
                }
            }
            o
        })
        .collect()
}
