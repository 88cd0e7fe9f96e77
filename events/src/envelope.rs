//! The envelope every input event travels in, and its decoder.
//!
//! ```json
//! {"schema_version":1,"event_id":"inv-2025-000123","event_time":"2025-03-01T09:30:00Z",
//!  "type":"invoice_issued","data":{"invoice_number":"INV-000123", ...}}
//! ```
//! Decoding is done in two steps so that every failure gets its own reason: first the
//! envelope (size, JSON syntax, schema version, type, id, time), then `data` by type,
//! then the rules serde cannot express (positive amounts, due after issue, id lengths).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::input::*;
use crate::money::{INVALID_AMOUNT, NEGATIVE_AMOUNT, UNKNOWN_CURRENCY};

/// The schema versions this build reads. Version 1 is the only one so far.
pub const SUPPORTED_SCHEMA_VERSIONS: &[u32] = &[1];

/// The version this build writes.
pub const CURRENT_SCHEMA_VERSION: u32 = 1;

/// Default largest accepted message (64 KiB): an event is a few hundred bytes, the
/// server's own limit is 1 MiB.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 64 * 1024;

/// Longest id (event id, debtor id, invoice number ...) accepted.
pub const MAX_ID_LEN: usize = 128;

/// Longest free text (names, remittance text, reasons) accepted.
pub const MAX_TEXT_LEN: usize = 1024;

/// An input event with its identity and event time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Envelope {
    /// Version of the contract the producer wrote.
    pub schema_version: u32,
    /// Idempotency key, unique per event; also the input's `Nats-Msg-Id`.
    pub event_id: String,
    /// When it happened in the business (event time), with a time zone.
    pub event_time: DateTime<Utc>,
    /// The event itself (`type` and `data` on the wire).
    #[serde(flatten)]
    pub event: InputEvent,
}

impl Envelope {
    /// Wraps an event in a current-version envelope.
    pub fn new(event_id: impl Into<String>, event_time: DateTime<Utc>, event: InputEvent) -> Self {
        Envelope {
            schema_version: CURRENT_SCHEMA_VERSION,
            event_id: event_id.into(),
            event_time,
            event,
        }
    }

    /// The wire form (compact JSON).
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising these types cannot fail: string keys, no maps with other keys.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Decodes and validates one message.
    pub fn decode(bytes: &[u8], max_bytes: usize) -> Result<Envelope, DecodeError> {
        decode(bytes, max_bytes)
    }
}

/// Why a message was refused. The reason is a small fixed set (used as a metric label
/// and in the dead-letter subject); the detail is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterReason {
    /// Larger than the configured limit.
    Oversized,
    /// Not JSON, not UTF-8, or not an object.
    MalformedJson,
    /// `schema_version` this build does not read.
    UnsupportedSchemaVersion,
    /// `type` not in the contract.
    UnknownEventType,
    /// A required field is absent.
    MissingField,
    /// An amount that is not a decimal string, is zero where it must be positive, or is out
    /// of range.
    InvalidAmount,
    /// An amount below zero.
    NegativeAmount,
    /// A currency that is not an active ISO 4217 code.
    UnknownCurrency,
    /// Any other value that breaks the contract (bad date, unknown enum value, id too
    /// long, due date before issue date ...).
    InvalidValue,
}

impl DeadLetterReason {
    /// Every reason.
    pub const ALL: [DeadLetterReason; 9] = [
        DeadLetterReason::Oversized,
        DeadLetterReason::MalformedJson,
        DeadLetterReason::UnsupportedSchemaVersion,
        DeadLetterReason::UnknownEventType,
        DeadLetterReason::MissingField,
        DeadLetterReason::InvalidAmount,
        DeadLetterReason::NegativeAmount,
        DeadLetterReason::UnknownCurrency,
        DeadLetterReason::InvalidValue,
    ];

    /// Wire and label name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadLetterReason::Oversized => "oversized",
            DeadLetterReason::MalformedJson => "malformed_json",
            DeadLetterReason::UnsupportedSchemaVersion => "unsupported_schema_version",
            DeadLetterReason::UnknownEventType => "unknown_event_type",
            DeadLetterReason::MissingField => "missing_field",
            DeadLetterReason::InvalidAmount => "invalid_amount",
            DeadLetterReason::NegativeAmount => "negative_amount",
            DeadLetterReason::UnknownCurrency => "unknown_currency",
            DeadLetterReason::InvalidValue => "invalid_value",
        }
    }
}

/// A message that is not a valid event: bad input, to be dead-lettered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {detail}", reason.as_str())]
pub struct DecodeError {
    /// Class of the problem.
    pub reason: DeadLetterReason,
    /// What exactly is wrong, naming the field.
    pub detail: String,
    /// The event id, when the envelope got far enough to have one.
    pub event_id: Option<String>,
}

impl DecodeError {
    fn new(reason: DeadLetterReason, detail: impl Into<String>) -> Self {
        DecodeError {
            reason,
            detail: detail.into(),
            event_id: None,
        }
    }
}

#[derive(Deserialize)]
struct RawEnvelope<'a> {
    schema_version: Option<serde_json::Value>,
    #[serde(borrow)]
    event_id: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    event_time: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "type", borrow)]
    kind: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

fn decode(bytes: &[u8], max_bytes: usize) -> Result<Envelope, DecodeError> {
    use DeadLetterReason as R;
    if bytes.len() > max_bytes {
        return Err(DecodeError::new(
            R::Oversized,
            format!("{} bytes, the limit is {max_bytes}", bytes.len()),
        ));
    }
    let raw: RawEnvelope<'_> = serde_json::from_slice(bytes)
        .map_err(|e| DecodeError::new(R::MalformedJson, format!("envelope: {e}")))?;

    let version = match raw.schema_version {
        None => return Err(DecodeError::new(R::MissingField, "missing field `schema_version`")),
        Some(v) => v,
    };
    let version = version
        .as_u64()
        .and_then(|v| u32::try_from(v).ok())
        .filter(|v| SUPPORTED_SCHEMA_VERSIONS.contains(v))
        .ok_or_else(|| {
            DecodeError::new(
                R::UnsupportedSchemaVersion,
                format!("schema_version {version}; this build reads {SUPPORTED_SCHEMA_VERSIONS:?}"),
            )
        })?;

    let event_id = raw
        .event_id
        .ok_or_else(|| DecodeError::new(R::MissingField, "missing field `event_id`"))?;
    check_id("event_id", &event_id).map_err(|d| DecodeError::new(R::InvalidValue, d))?;
    let event_id = event_id.into_owned();
    let with_id = |mut e: DecodeError| {
        e.event_id = Some(event_id.clone());
        e
    };

    let event_time = raw
        .event_time
        .ok_or_else(|| with_id(DecodeError::new(R::MissingField, "missing field `event_time`")))?;
    let event_time = DateTime::parse_from_rfc3339(&event_time)
        .map_err(|e| {
            with_id(DecodeError::new(
                R::InvalidValue,
                format!("event_time `{event_time}`: {e} (expected RFC 3339 with a zone)"),
            ))
        })?
        .with_timezone(&Utc);

    let kind_name = raw
        .kind
        .ok_or_else(|| with_id(DecodeError::new(R::MissingField, "missing field `type`")))?;
    let kind = EventKind::from_wire(&kind_name).ok_or_else(|| {
        with_id(DecodeError::new(
            R::UnknownEventType,
            format!("type `{kind_name}` is not in schema version {version}"),
        ))
    })?;
    let data = match (raw.data, kind) {
        (Some(d), _) => d.get(),
        (None, EventKind::ClockTick) => "{}",
        (None, _) => return Err(with_id(DecodeError::new(R::MissingField, "missing field `data`"))),
    };

    let event = decode_data(kind, data).map_err(|e| with_id(classify(kind, &e)))?;
    validate(&event).map_err(|(reason, detail)| with_id(DecodeError::new(reason, detail)))?;
    Ok(Envelope {
        schema_version: version,
        event_id,
        event_time,
        event,
    })
}

fn decode_data(kind: EventKind, data: &str) -> Result<InputEvent, serde_json::Error> {
    use serde_json::from_str as de;
    Ok(match kind {
        EventKind::DebtorUpdated => InputEvent::DebtorUpdated(de(data)?),
        EventKind::InvoiceIssued => InputEvent::InvoiceIssued(de(data)?),
        EventKind::PaymentReceived => InputEvent::PaymentReceived(de(data)?),
        EventKind::PaymentReversed => InputEvent::PaymentReversed(de(data)?),
        EventKind::CreditNoteIssued => InputEvent::CreditNoteIssued(de(data)?),
        EventKind::DisputeOpened => InputEvent::DisputeOpened(de(data)?),
        EventKind::DisputeResolved => InputEvent::DisputeResolved(de(data)?),
        EventKind::PromiseToPay => InputEvent::PromiseToPay(de(data)?),
        EventKind::BureauRating => InputEvent::BureauRating(de(data)?),
        EventKind::ClockTick => InputEvent::ClockTick(de(data)?),
    })
}

/// Maps a serde error on `data` to a reason. The amount and currency messages are our own
/// (see `money`), so their prefixes are stable.
fn classify(kind: EventKind, e: &serde_json::Error) -> DecodeError {
    use DeadLetterReason as R;
    let msg = e.to_string();
    let reason = if e.is_syntax() || e.is_eof() {
        R::MalformedJson
    } else if msg.starts_with("missing field") {
        R::MissingField
    } else if msg.starts_with(NEGATIVE_AMOUNT) {
        R::NegativeAmount
    } else if msg.starts_with(INVALID_AMOUNT) {
        R::InvalidAmount
    } else if msg.starts_with(UNKNOWN_CURRENCY) {
        R::UnknownCurrency
    } else {
        R::InvalidValue
    };
    DecodeError::new(reason, format!("{} data: {msg}", kind.as_str()))
}

fn check_id(field: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("`{field}` is empty"));
    }
    if value.len() > MAX_ID_LEN {
        return Err(format!("`{field}` is {} bytes long, at most {MAX_ID_LEN}", value.len()));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("`{field}` holds a control character"));
    }
    Ok(())
}

fn check_text(field: &str, value: &str) -> Result<(), String> {
    if value.len() > MAX_TEXT_LEN {
        return Err(format!("`{field}` is {} bytes long, at most {MAX_TEXT_LEN}", value.len()));
    }
    Ok(())
}

type Invalid = (DeadLetterReason, String);

fn positive(field: &str, amount: rust_decimal::Decimal) -> Result<(), Invalid> {
    if amount.is_zero() {
        return Err((DeadLetterReason::InvalidAmount, format!("`{field}` must be greater than zero")));
    }
    Ok(())
}

fn value(r: Result<(), String>) -> Result<(), Invalid> {
    r.map_err(|d| (DeadLetterReason::InvalidValue, d))
}

/// Rules serde cannot express.
fn validate(event: &InputEvent) -> Result<(), Invalid> {
    match event {
        InputEvent::DebtorUpdated(e) => {
            value(check_id("debtor_id", &e.debtor_id))?;
            value(check_text("name", &e.name))?;
            if !(e.country.len() == 2 && e.country.bytes().all(|b| b.is_ascii_uppercase())) {
                return value(Err(format!(
                    "`country` `{}` is not an ISO 3166-1 alpha-2 code",
                    e.country
                )));
            }
            for iban in &e.ibans {
                value(check_id("ibans[]", iban))?;
            }
        }
        InputEvent::InvoiceIssued(e) => {
            value(check_id("invoice_number", &e.invoice_number))?;
            value(check_id("debtor_id", &e.debtor_id))?;
            positive("amount", e.amount)?;
            if e.due_date < e.issue_date {
                return value(Err(format!(
                    "`due_date` {} is before `issue_date` {}",
                    e.due_date, e.issue_date
                )));
            }
            if let Some(r) = &e.payment_reference {
                value(check_id("payment_reference", r))?;
            }
        }
        InputEvent::PaymentReceived(e) => {
            value(check_id("payment_id", &e.payment_id))?;
            positive("amount", e.amount)?;
            for (field, text) in [
                ("counterparty_name", &e.counterparty_name),
                ("remittance_text", &e.remittance_text),
            ] {
                if let Some(t) = text {
                    value(check_text(field, t))?;
                }
            }
            for (field, id) in [
                ("counterparty_iban", &e.counterparty_iban),
                ("structured_reference", &e.structured_reference),
                ("end_to_end_id", &e.end_to_end_id),
                ("debtor_id", &e.debtor_id),
            ] {
                if let Some(t) = id {
                    value(check_id(field, t))?;
                }
            }
        }
        InputEvent::PaymentReversed(e) => {
            value(check_id("payment_id", &e.payment_id))?;
            positive("amount", e.amount)?;
            let code_ok = e.reason_code.len() == 4
                && e.reason_code
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
            if !code_ok {
                return value(Err(format!(
                    "`reason_code` `{}` is not a four-character ISO 20022 code such as AM04",
                    e.reason_code
                )));
            }
            if let Some(d) = &e.debtor_id {
                value(check_id("debtor_id", d))?;
            }
        }
        InputEvent::CreditNoteIssued(e) => {
            value(check_id("credit_note_number", &e.credit_note_number))?;
            value(check_id("debtor_id", &e.debtor_id))?;
            positive("amount", e.amount)?;
            if let Some(i) = &e.invoice_number {
                value(check_id("invoice_number", i))?;
            }
        }
        InputEvent::DisputeOpened(e) => {
            value(check_id("dispute_id", &e.dispute_id))?;
            value(check_id("debtor_id", &e.debtor_id))?;
            value(check_id("invoice_number", &e.invoice_number))?;
            value(check_text("reason", &e.reason))?;
            if let Some(a) = e.amount {
                positive("amount", a)?;
            }
        }
        InputEvent::DisputeResolved(e) => {
            value(check_id("dispute_id", &e.dispute_id))?;
            value(check_id("debtor_id", &e.debtor_id))?;
            value(check_id("invoice_number", &e.invoice_number))?;
        }
        InputEvent::PromiseToPay(e) => {
            value(check_id("promise_id", &e.promise_id))?;
            value(check_id("debtor_id", &e.debtor_id))?;
            positive("amount", e.amount)?;
            for i in &e.invoice_numbers {
                value(check_id("invoice_numbers[]", i))?;
            }
        }
        InputEvent::BureauRating(e) => {
            value(check_id("debtor_id", &e.debtor_id))?;
            value(check_id("bureau", &e.bureau))?;
            value(check_id("rating", &e.rating))?;
            if let Some(p) = e.probability_of_default
                && p > rust_decimal::Decimal::ONE
            {
                return value(Err(format!("`probability_of_default` {p} is above 1")));
            }
        }
        InputEvent::ClockTick(_) => {}
    }
    Ok(())
}
