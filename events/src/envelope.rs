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

use crate::field_errors;
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
    fn new(reason: DeadLetterReason, detail: impl AsRef<str>) -> Self {
        DecodeError {
            reason,
            detail: header_safe(detail.as_ref()),
            event_id: None,
        }
    }
}

/// Longest detail kept, in bytes (the detail quotes producer input, which can be as large
/// as the message).
const MAX_DETAIL_LEN: usize = 512;

/// The detail goes into a NATS header: it quotes producer input, so control characters
/// (a CR/LF would end the header) are escaped and the length is capped.
fn header_safe(detail: &str) -> String {
    let mut out = String::with_capacity(detail.len().min(MAX_DETAIL_LEN + 4));
    for c in detail.chars() {
        if out.len() >= MAX_DETAIL_LEN {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The envelope with every field still raw, so that each field's absence or wrong type is
/// reported with its name (serde's own messages do not name the field).
#[derive(Deserialize)]
struct RawEnvelope<'a> {
    #[serde(borrow)]
    schema_version: Option<&'a RawValue>,
    #[serde(borrow)]
    event_id: Option<&'a RawValue>,
    #[serde(borrow)]
    event_time: Option<&'a RawValue>,
    #[serde(rename = "type", borrow)]
    kind: Option<&'a RawValue>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

/// What a JSON text that is not an object is, for the detail.
fn json_shape(text: &str) -> &'static str {
    match text.trim_start().as_bytes().first() {
        None => "empty",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(b'-' | b'0'..=b'9') => "a number",
        Some(_) => "not JSON",
    }
}

fn is_object(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// A string field of the envelope: `Ok(None)` when absent (or null).
fn string_field(name: &str, raw: Option<&RawValue>) -> Result<Option<String>, DecodeError> {
    raw.map(|r| {
        serde_json::from_str::<String>(r.get()).map_err(|_| {
            DecodeError::new(
                DeadLetterReason::InvalidValue,
                format!("`{name}` must be a string, found `{}`", r.get()),
            )
        })
    })
    .transpose()
}

fn decode(bytes: &[u8], max_bytes: usize) -> Result<Envelope, DecodeError> {
    use DeadLetterReason as R;
    if bytes.len() > max_bytes {
        return Err(DecodeError::new(
            R::Oversized,
            format!("{} bytes, the limit is {max_bytes}", bytes.len()),
        ));
    }
    // serde_json checks UTF-8 only in the strings it reads, not in ignored fields.
    let text = std::str::from_utf8(bytes).map_err(|e| {
        DecodeError::new(
            R::MalformedJson,
            format!("envelope: not valid UTF-8 after byte {}", e.valid_up_to()),
        )
    })?;
    if !is_object(text) {
        // Checked here: serde would also read a JSON array as the envelope's fields in order.
        return Err(DecodeError::new(
            R::MalformedJson,
            format!(
                "envelope: expected a JSON object, found {}",
                json_shape(text)
            ),
        ));
    }
    let raw: RawEnvelope<'_> = serde_json::from_str(text)
        .map_err(|e| DecodeError::new(R::MalformedJson, format!("envelope: {e}")))?;

    // The id first, so that every later refusal carries it; its own errors come after the
    // version check, since another version may shape the envelope differently.
    let event_id = string_field("event_id", raw.event_id);
    let known_id = event_id
        .as_ref()
        .ok()
        .and_then(Option::as_deref)
        .filter(|id| check_id("event_id", id).is_ok())
        .map(str::to_owned);
    let with_id = |mut e: DecodeError| {
        e.event_id.clone_from(&known_id);
        e
    };

    let version = raw.schema_version.ok_or_else(|| {
        with_id(DecodeError::new(
            R::MissingField,
            "missing field `schema_version`",
        ))
    })?;
    let version = serde_json::from_str::<serde_json::Value>(version.get())
        .ok()
        .and_then(|v| v.as_u64())
        .and_then(|v| u32::try_from(v).ok())
        .filter(|v| SUPPORTED_SCHEMA_VERSIONS.contains(v))
        .ok_or_else(|| {
            with_id(DecodeError::new(
                R::UnsupportedSchemaVersion,
                format!(
                    "`schema_version` is {}; this build reads {SUPPORTED_SCHEMA_VERSIONS:?}",
                    version.get()
                ),
            ))
        })?;

    let event_id =
        event_id?.ok_or_else(|| DecodeError::new(R::MissingField, "missing field `event_id`"))?;
    check_id("event_id", &event_id).map_err(|d| DecodeError::new(R::InvalidValue, d))?;

    let event_time = string_field("event_time", raw.event_time)
        .map_err(with_id)?
        .ok_or_else(|| {
            with_id(DecodeError::new(
                R::MissingField,
                "missing field `event_time`",
            ))
        })?;
    let event_time = DateTime::parse_from_rfc3339(&event_time)
        .map_err(|e| {
            with_id(DecodeError::new(
                R::InvalidValue,
                format!("`event_time` `{event_time}`: {e} (expected RFC 3339 with a zone)"),
            ))
        })?
        .with_timezone(&Utc);

    let kind_name = string_field("type", raw.kind)
        .map_err(with_id)?
        .ok_or_else(|| with_id(DecodeError::new(R::MissingField, "missing field `type`")))?;
    let kind = EventKind::from_wire(&kind_name).ok_or_else(|| {
        with_id(DecodeError::new(
            R::UnknownEventType,
            format!("`type` `{kind_name}` is not in schema version {version}"),
        ))
    })?;
    let data = match (raw.data, kind) {
        (Some(d), _) => d.get(),
        (None, EventKind::ClockTick) => "{}",
        (None, _) => {
            return Err(with_id(DecodeError::new(
                R::MissingField,
                "missing field `data`",
            )));
        }
    };
    if !is_object(data) {
        // As for the envelope: serde would read an array as the fields in order.
        return Err(with_id(DecodeError::new(
            R::MalformedJson,
            format!("`data` must be a JSON object, found {}", json_shape(data)),
        )));
    }

    let event = decode_data(kind, data).map_err(|e| with_id(classify(kind, data, &e)))?;
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
        EventKind::ModelActivated => InputEvent::ModelActivated(de(data)?),
        EventKind::StrategyActivated => InputEvent::StrategyActivated(de(data)?),
        EventKind::TaskClosed => InputEvent::TaskClosed(de(data)?),
        EventKind::LimitOverride => InputEvent::LimitOverride(de(data)?),
    })
}

/// Maps a serde error on `data` to a reason, naming the field it came from. The amount and
/// currency messages are our own (see `money`), so their prefixes are stable.
fn classify(kind: EventKind, data: &str, e: &serde_json::Error) -> DecodeError {
    use DeadLetterReason as R;
    // serde_json does not say which field failed: decode again, field by field, to learn it
    // (only on this error path). When that pass does not fail (a field given twice), keep
    // the first error as it is.
    // `data` is known to be well-formed JSON (the envelope parsed), so a "syntax" error of
    // the first pass is serde_json refusing a value of the wrong type (a number where an
    // enum's string belongs): the second pass reports it as such.
    let (field, msg) = match field_errors::locate(kind, data) {
        Some((field, err)) => (field, err.to_string()),
        None => (None, e.to_string()),
    };
    let reason = if msg.starts_with("duplicate field") {
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
    let detail = match field {
        Some(f) => format!("{} data: `{f}`: {msg}", kind.as_str()),
        None => format!("{} data: {msg}", kind.as_str()),
    };
    DecodeError::new(reason, detail)
}

fn check_id(field: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("`{field}` is empty"));
    }
    if value.len() > MAX_ID_LEN {
        return Err(format!(
            "`{field}` is {} bytes long, at most {MAX_ID_LEN}",
            value.len()
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("`{field}` holds a control character"));
    }
    Ok(())
}

fn check_text(field: &str, value: &str) -> Result<(), String> {
    if value.len() > MAX_TEXT_LEN {
        return Err(format!(
            "`{field}` is {} bytes long, at most {MAX_TEXT_LEN}",
            value.len()
        ));
    }
    Ok(())
}

type Invalid = (DeadLetterReason, String);

fn positive(field: &str, amount: rust_decimal::Decimal) -> Result<(), Invalid> {
    if amount.is_zero() {
        return Err((
            DeadLetterReason::InvalidAmount,
            format!("`{field}` must be greater than zero"),
        ));
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
        InputEvent::ModelActivated(e) => {
            value(check_id("version", &e.version))?;
            if let Some(digest) = &e.sha256 {
                let hex = digest.len() == 64
                    && digest
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                if !hex {
                    return value(Err(format!(
                        "`sha256` `{digest}` is not 64 lower-case hexadecimal digits"
                    )));
                }
            }
            value(check_id("activated_by", &e.activated_by))?;
            value(check_text("reason", &e.reason))?;
        }
        InputEvent::StrategyActivated(e) => {
            value(check_id("version", &e.version))?;
            if e.config.trim().is_empty() {
                return value(Err("`config` is empty".into()));
            }
            value(check_id("activated_by", &e.activated_by))?;
            value(check_text("reason", &e.reason))?;
        }
        InputEvent::TaskClosed(e) => {
            value(check_id("task_id", &e.task_id))?;
            value(check_id("closed_by", &e.closed_by))?;
            if e.reason.trim().is_empty() {
                return value(Err("`reason` is empty: say what was decided".into()));
            }
            value(check_text("reason", &e.reason))?;
        }
        InputEvent::LimitOverride(e) => {
            value(check_id("debtor_id", &e.debtor_id))?;
            value(check_id("set_by", &e.set_by))?;
            if e.reason.trim().is_empty() {
                return value(Err("`reason` is empty: an override needs its reason".into()));
            }
            value(check_text("reason", &e.reason))?;
        }
    }
    Ok(())
}
