//! Input events: what producers (ERP, billing, bank statement import, portal, credit
//! bureau feed) tell creditstream. Each kind is one struct; [`InputEvent`] is their union.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use crate::money::{Currency, Money, amount_str};

/// The kind of an input event, as written in the envelope's `type` field and the last
/// token of its subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Debtor master data created or changed.
    DebtorUpdated,
    /// An invoice was issued.
    InvoiceIssued,
    /// Money arrived on a bank account (a bank transaction).
    PaymentReceived,
    /// A collected payment was taken back (returned direct debit, chargeback).
    PaymentReversed,
    /// A credit note was issued.
    CreditNoteIssued,
    /// A debtor disputes an invoice.
    DisputeOpened,
    /// A dispute was settled.
    DisputeResolved,
    /// A debtor promised to pay.
    PromiseToPay,
    /// An external credit bureau rated a debtor.
    BureauRating,
    /// Event time passed without other events (published by the pipeline's edge).
    ClockTick,
    /// A model version from the registry takes a role in scoring.
    ModelActivated,
    /// A version of the strategy config (dunning, payment plans, holds per segment) takes
    /// effect.
    StrategyActivated,
    /// A person closed a task.
    TaskClosed,
    /// A credit manager set a debtor's credit limit by hand.
    LimitOverride,
}

impl EventKind {
    /// Every kind, in contract order.
    pub const ALL: [EventKind; 14] = [
        EventKind::DebtorUpdated,
        EventKind::InvoiceIssued,
        EventKind::PaymentReceived,
        EventKind::PaymentReversed,
        EventKind::CreditNoteIssued,
        EventKind::DisputeOpened,
        EventKind::DisputeResolved,
        EventKind::PromiseToPay,
        EventKind::BureauRating,
        EventKind::ClockTick,
        EventKind::ModelActivated,
        EventKind::StrategyActivated,
        EventKind::TaskClosed,
        EventKind::LimitOverride,
    ];

    /// The wire name (`invoice_issued`), also used as a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::DebtorUpdated => "debtor_updated",
            EventKind::InvoiceIssued => "invoice_issued",
            EventKind::PaymentReceived => "payment_received",
            EventKind::PaymentReversed => "payment_reversed",
            EventKind::CreditNoteIssued => "credit_note_issued",
            EventKind::DisputeOpened => "dispute_opened",
            EventKind::DisputeResolved => "dispute_resolved",
            EventKind::PromiseToPay => "promise_to_pay",
            EventKind::BureauRating => "bureau_rating",
            EventKind::ClockTick => "clock_tick",
            EventKind::ModelActivated => "model_activated",
            EventKind::StrategyActivated => "strategy_activated",
            EventKind::TaskClosed => "task_closed",
            EventKind::LimitOverride => "limit_override",
        }
    }

    /// Looks a wire name up.
    pub fn from_wire(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// Segment of a debtor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DebtorType {
    /// Key account.
    TopCustomer,
    /// Other business customer.
    Business,
    /// Private person.
    Consumer,
    /// Public body.
    Government,
}

impl DebtorType {
    /// Every type.
    pub const ALL: [DebtorType; 4] = [
        DebtorType::TopCustomer,
        DebtorType::Business,
        DebtorType::Consumer,
        DebtorType::Government,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DebtorType::TopCustomer => "top_customer",
            DebtorType::Business => "business",
            DebtorType::Consumer => "consumer",
            DebtorType::Government => "government",
        }
    }
}

/// How a debtor pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// SEPA direct debit collected by the creditor (can be returned).
    DirectDebit,
    /// Credit transfer initiated by the debtor.
    BankTransfer,
    /// Card payment (can be charged back).
    Card,
}

impl PaymentMethod {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::DirectDebit => "direct_debit",
            PaymentMethod::BankTransfer => "bank_transfer",
            PaymentMethod::Card => "card",
        }
    }
}

/// Channel for reaching a debtor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// E-mail.
    Email,
    /// Text message.
    Sms,
    /// Paper letter.
    Letter,
    /// A phone call by a person (becomes a task).
    Phone,
}

impl Channel {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Letter => "letter",
            Channel::Phone => "phone",
        }
    }
}

/// Outcome of a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeOutcome {
    /// The claim stands; the invoice is due as issued.
    InvoiceUpheld,
    /// The debtor was right; a credit note follows separately.
    DebtorUpheld,
    /// Withdrawn by the debtor.
    Withdrawn,
}

/// Debtor master data (full replacement of the previous version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DebtorUpdated {
    /// Debtor id, stable across systems.
    pub debtor_id: String,
    /// Legal or personal name.
    pub name: String,
    /// Segment.
    pub debtor_type: DebtorType,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// How the debtor usually pays.
    pub payment_method: PaymentMethod,
    /// Where reminders go first.
    pub preferred_channel: Channel,
    /// Current credit limit.
    #[serde(with = "amount_str")]
    pub credit_limit: Decimal,
    /// Currency of the limit.
    pub currency: Currency,
    /// The debtor's IBANs, if the master data knows them.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ibans: Vec<String>,
}

/// An invoice was issued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceIssued {
    /// Invoice number, unique per creditor.
    pub invoice_number: String,
    /// Debtor who owes it.
    pub debtor_id: String,
    /// Gross amount.
    #[serde(with = "amount_str")]
    pub amount: Decimal,
    /// Currency.
    pub currency: Currency,
    /// Issue date.
    pub issue_date: NaiveDate,
    /// Due date (not before the issue date).
    pub due_date: NaiveDate,
    /// Structured payment reference printed on the invoice (RF creditor reference or a
    /// national reference), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_reference: Option<String>,
}

/// Money arrived: one bank transaction as the bank reports it. The debtor is usually not
/// known yet; matching finds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentReceived {
    /// Bank transaction id (unique per account; from the statement).
    pub payment_id: String,
    /// Amount credited.
    #[serde(with = "amount_str")]
    pub amount: Decimal,
    /// Currency.
    pub currency: Currency,
    /// Value date.
    pub value_date: NaiveDate,
    /// How the money came in.
    #[serde(default = "default_method", deserialize_with = "method_or_default")]
    pub method: PaymentMethod,
    /// Name of the payer as the bank gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterparty_name: Option<String>,
    /// IBAN of the payer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterparty_iban: Option<String>,
    /// Free (unstructured) remittance text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remittance_text: Option<String>,
    /// Structured reference (RF creditor reference or national reference), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_reference: Option<String>,
    /// SEPA end-to-end id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_to_end_id: Option<String>,
    /// Debtor, when the producer already knows it (direct debits, card payments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debtor_id: Option<String>,
}

fn default_method() -> PaymentMethod {
    PaymentMethod::BankTransfer
}

/// `null` in an optional field means absent, as it does for the `Option` fields.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `method`, with `null` read as absent (a bank transfer).
fn method_or_default<'de, D: Deserializer<'de>>(d: D) -> Result<PaymentMethod, D::Error> {
    Ok(Option::<PaymentMethod>::deserialize(d)?.unwrap_or_else(default_method))
}

/// A collected payment was taken back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentReversed {
    /// The `payment_id` of the original payment.
    pub payment_id: String,
    /// Amount taken back.
    #[serde(with = "amount_str")]
    pub amount: Decimal,
    /// Currency.
    pub currency: Currency,
    /// Value date of the return.
    pub value_date: NaiveDate,
    /// SEPA return reason code (ISO 20022 external code, e.g. AM04, MD06).
    pub reason_code: String,
    /// Debtor, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debtor_id: Option<String>,
}

/// A credit note was issued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditNoteIssued {
    /// Credit note number.
    pub credit_note_number: String,
    /// Debtor credited.
    pub debtor_id: String,
    /// Amount credited.
    #[serde(with = "amount_str")]
    pub amount: Decimal,
    /// Currency.
    pub currency: Currency,
    /// Issue date.
    pub issue_date: NaiveDate,
    /// Invoice the credit note reduces, if it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
}

/// A debtor disputes (part of) an invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisputeOpened {
    /// Dispute id.
    pub dispute_id: String,
    /// Debtor.
    pub debtor_id: String,
    /// Disputed invoice.
    pub invoice_number: String,
    /// Disputed amount, if only part of the invoice is disputed.
    #[serde(
        default,
        with = "amount_str::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub amount: Option<Decimal>,
    /// The debtor's reason, as recorded.
    #[serde(default, deserialize_with = "null_as_default")]
    pub reason: String,
}

/// A dispute was settled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisputeResolved {
    /// Dispute id.
    pub dispute_id: String,
    /// Debtor.
    pub debtor_id: String,
    /// Disputed invoice.
    pub invoice_number: String,
    /// How it ended.
    pub outcome: DisputeOutcome,
}

/// A debtor promised to pay an amount by a date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromiseToPay {
    /// Promise id.
    pub promise_id: String,
    /// Debtor.
    pub debtor_id: String,
    /// Date by which the money is promised.
    pub promised_date: NaiveDate,
    /// Promised amount.
    #[serde(with = "amount_str")]
    pub amount: Decimal,
    /// Currency.
    pub currency: Currency,
    /// Invoices the promise covers (empty: the oldest open items).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub invoice_numbers: Vec<String>,
}

/// An external credit bureau rated a debtor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BureauRating {
    /// Debtor.
    pub debtor_id: String,
    /// Bureau name.
    pub bureau: String,
    /// Rating as the bureau writes it (e.g. "A", "BB+", "3").
    pub rating: String,
    /// Bureau's probability of default within a year, if it gives one (0..=1).
    #[serde(
        default,
        with = "amount_str::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub probability_of_default: Option<Decimal>,
}

/// Event time moved on without other events.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClockTick {}

/// The part a model version plays in scoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelRole {
    /// Its scores are the ones published and acted on.
    Champion,
    /// It scores in shadow: its scores are recorded beside the champion's, nothing acts
    /// on them.
    Challenger,
    /// The challenger of this version stops scoring in shadow.
    ChallengerStopped,
}

impl ModelRole {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelRole::Champion => "champion",
            ModelRole::Challenger => "challenger",
            ModelRole::ChallengerStopped => "challenger_stopped",
        }
    }
}

/// A model version from the registry takes a role in scoring (or the challenger stops).
/// Being an event in the log, a replay switches models at the same point as the live run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelActivated {
    /// Champion, challenger, or the challenger stops.
    pub role: ModelRole,
    /// The version in the model registry (for `challenger_stopped`: the challenger that
    /// stops).
    pub version: String,
    /// SHA-256 of the artifact as stored in the registry (64 lower-case hex digits); the
    /// pipeline refuses an artifact with other content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Who activated it.
    pub activated_by: String,
    /// Why.
    #[serde(default, deserialize_with = "null_as_default")]
    pub reason: String,
}

/// A version of the strategy config takes effect: the dunning schedules, payment plans
/// and credit holds per segment that decisions follow from this event on. The config's
/// text travels in the event, so a replay applies exactly what the live run applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyActivated {
    /// The version's name, quoted in the reason of every action it causes.
    pub version: String,
    /// The strategy config (TOML), as the analyst wrote it.
    pub config: String,
    /// Who activated it.
    pub activated_by: String,
    /// Why.
    #[serde(default, deserialize_with = "null_as_default")]
    pub reason: String,
}

/// A person closed a task (audit trail: who and why).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskClosed {
    /// The task's `output_id`.
    pub task_id: String,
    /// Who closed it.
    pub closed_by: String,
    /// What was decided, in words.
    pub reason: String,
}

/// A credit manager set a debtor's credit limit by hand. It stays in force, whatever
/// later master data says, until the next override.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitOverride {
    /// Debtor.
    pub debtor_id: String,
    /// The new limit (zero blocks all credit).
    #[serde(with = "amount_str")]
    pub credit_limit: Decimal,
    /// Currency of the limit.
    pub currency: Currency,
    /// Who set it.
    pub set_by: String,
    /// Why.
    pub reason: String,
}

/// Any input event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum InputEvent {
    /// See [`DebtorUpdated`].
    DebtorUpdated(DebtorUpdated),
    /// See [`InvoiceIssued`].
    InvoiceIssued(InvoiceIssued),
    /// See [`PaymentReceived`].
    PaymentReceived(PaymentReceived),
    /// See [`PaymentReversed`].
    PaymentReversed(PaymentReversed),
    /// See [`CreditNoteIssued`].
    CreditNoteIssued(CreditNoteIssued),
    /// See [`DisputeOpened`].
    DisputeOpened(DisputeOpened),
    /// See [`DisputeResolved`].
    DisputeResolved(DisputeResolved),
    /// See [`PromiseToPay`].
    PromiseToPay(PromiseToPay),
    /// See [`BureauRating`].
    BureauRating(BureauRating),
    /// See [`ClockTick`].
    ClockTick(ClockTick),
    /// See [`ModelActivated`].
    ModelActivated(ModelActivated),
    /// See [`StrategyActivated`].
    StrategyActivated(StrategyActivated),
    /// See [`TaskClosed`].
    TaskClosed(TaskClosed),
    /// See [`LimitOverride`].
    LimitOverride(LimitOverride),
}

impl InputEvent {
    /// The event's kind.
    pub fn kind(&self) -> EventKind {
        match self {
            InputEvent::DebtorUpdated(_) => EventKind::DebtorUpdated,
            InputEvent::InvoiceIssued(_) => EventKind::InvoiceIssued,
            InputEvent::PaymentReceived(_) => EventKind::PaymentReceived,
            InputEvent::PaymentReversed(_) => EventKind::PaymentReversed,
            InputEvent::CreditNoteIssued(_) => EventKind::CreditNoteIssued,
            InputEvent::DisputeOpened(_) => EventKind::DisputeOpened,
            InputEvent::DisputeResolved(_) => EventKind::DisputeResolved,
            InputEvent::PromiseToPay(_) => EventKind::PromiseToPay,
            InputEvent::BureauRating(_) => EventKind::BureauRating,
            InputEvent::ClockTick(_) => EventKind::ClockTick,
            InputEvent::ModelActivated(_) => EventKind::ModelActivated,
            InputEvent::StrategyActivated(_) => EventKind::StrategyActivated,
            InputEvent::TaskClosed(_) => EventKind::TaskClosed,
            InputEvent::LimitOverride(_) => EventKind::LimitOverride,
        }
    }

    /// The debtor the event belongs to, when the producer knows it.
    pub fn debtor_id(&self) -> Option<&str> {
        match self {
            InputEvent::DebtorUpdated(e) => Some(&e.debtor_id),
            InputEvent::InvoiceIssued(e) => Some(&e.debtor_id),
            InputEvent::PaymentReceived(e) => e.debtor_id.as_deref(),
            InputEvent::PaymentReversed(e) => e.debtor_id.as_deref(),
            InputEvent::CreditNoteIssued(e) => Some(&e.debtor_id),
            InputEvent::DisputeOpened(e) => Some(&e.debtor_id),
            InputEvent::DisputeResolved(e) => Some(&e.debtor_id),
            InputEvent::PromiseToPay(e) => Some(&e.debtor_id),
            InputEvent::BureauRating(e) => Some(&e.debtor_id),
            InputEvent::LimitOverride(e) => Some(&e.debtor_id),
            InputEvent::ClockTick(_)
            | InputEvent::ModelActivated(_)
            | InputEvent::StrategyActivated(_)
            | InputEvent::TaskClosed(_) => None,
        }
    }

    /// Whether the event is a control event (a model or strategy activated, a task
    /// closed): it says what people decided, moves no event time and touches no ledger or
    /// feature state.
    pub fn is_control(&self) -> bool {
        matches!(
            self,
            InputEvent::ModelActivated(_)
                | InputEvent::StrategyActivated(_)
                | InputEvent::TaskClosed(_)
        )
    }

    /// The money the event carries, if any.
    pub fn money(&self) -> Option<Money> {
        let (amount, currency) = match self {
            InputEvent::DebtorUpdated(e) => (e.credit_limit, e.currency),
            InputEvent::InvoiceIssued(e) => (e.amount, e.currency),
            InputEvent::PaymentReceived(e) => (e.amount, e.currency),
            InputEvent::PaymentReversed(e) => (e.amount, e.currency),
            InputEvent::CreditNoteIssued(e) => (e.amount, e.currency),
            InputEvent::PromiseToPay(e) => (e.amount, e.currency),
            InputEvent::LimitOverride(e) => (e.credit_limit, e.currency),
            _ => return None,
        };
        Some(Money::new(amount, currency))
    }
}
