//! Properties: any valid invoice or payment round-trips exactly, and no input, however
//! broken, makes the decoder panic.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, Utc};
use events::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::examples::{decode, full};

/// Ids as producers write them: mostly ASCII, sometimes any non-control text, 1..=128 bytes.
fn id() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Z]{1,4}-[0-9]{1,12}",
        "[A-Za-z0-9_./:-]{1,128}",
        "[^\\p{Cc}]{1,40}",
    ]
    .prop_filter("a usable id", |s| !s.trim().is_empty() && s.len() <= 128)
}

/// Free text, control characters included (JSON escapes them), at most 1024 bytes.
fn text() -> impl Strategy<Value = String> {
    "(?s).{0,200}"
}

/// A positive amount up to 10^12 with 0 to 6 decimals, the scale kept as written.
fn amount() -> impl Strategy<Value = Decimal> {
    (0_u32..=6).prop_flat_map(|scale| {
        let max = 10_i64.pow(12 + scale);
        prop_oneof![1_i64..=100_000, 1_i64..=max, Just(max)]
            .prop_map(move |mantissa| Decimal::new(mantissa, scale))
    })
}

/// Every code `Currency::parse` accepts, found by trying every three-letter code.
fn currency() -> impl Strategy<Value = Currency> {
    let letters = b'A'..=b'Z';
    let codes: Vec<Currency> = letters
        .clone()
        .flat_map(|a| {
            letters.clone().flat_map(move |b| {
                (b'A'..=b'Z').map(move |c| String::from_utf8_lossy(&[a, b, c]).into_owned())
            })
        })
        .filter_map(|code| Currency::parse(&code).ok())
        .collect();
    proptest::sample::select(codes)
}

fn date() -> impl Strategy<Value = NaiveDate> {
    // 1900 to 2100.
    (693_596_i32..=766_645).prop_map(|d| NaiveDate::from_num_days_from_ce_opt(d).expect("in range"))
}

fn event_time() -> impl Strategy<Value = DateTime<Utc>> {
    (-2_208_988_800_i64..=4_102_444_800, 0_u32..1_000_000_000)
        .prop_map(|(s, ns)| DateTime::from_timestamp(s, ns).expect("in range"))
}

fn method() -> impl Strategy<Value = PaymentMethod> {
    proptest::sample::select(vec![
        PaymentMethod::DirectDebit,
        PaymentMethod::BankTransfer,
        PaymentMethod::Card,
    ])
}

fn invoice() -> impl Strategy<Value = InvoiceIssued> {
    (
        id(),
        id(),
        amount(),
        currency(),
        date(),
        0_i64..=400,
        proptest::option::of(id()),
    )
        .prop_map(
            |(invoice_number, debtor_id, amount, currency, issue_date, days, reference)| {
                InvoiceIssued {
                    invoice_number,
                    debtor_id,
                    amount,
                    currency,
                    issue_date,
                    due_date: issue_date + TimeDelta::days(days),
                    payment_reference: reference,
                }
            },
        )
}

fn payment() -> impl Strategy<Value = PaymentReceived> {
    (
        (id(), amount(), currency(), date(), method()),
        (
            proptest::option::of(text()),
            proptest::option::of(id()),
            proptest::option::of(text()),
            proptest::option::of(id()),
            proptest::option::of(id()),
            proptest::option::of(id()),
        ),
    )
        .prop_map(
            |(
                (payment_id, amount, currency, value_date, method),
                (name, iban, text, sref, e2e, debtor),
            )| {
                PaymentReceived {
                    payment_id,
                    amount,
                    currency,
                    value_date,
                    method,
                    counterparty_name: name,
                    counterparty_iban: iban,
                    remittance_text: text,
                    structured_reference: sref,
                    end_to_end_id: e2e,
                    debtor_id: debtor,
                }
            },
        )
}

/// Round-trips `envelope` and checks the amount came back with the same value and scale.
fn assert_round_trip(envelope: &Envelope) -> Result<(), TestCaseError> {
    let decoded = decode(&envelope.to_json());
    prop_assert_eq!(decoded.as_ref(), Ok(envelope), "{:?}", decoded);
    let (Some(before), Some(after)) = (
        envelope.event.money(),
        decoded.ok().and_then(|d| d.event.money()),
    ) else {
        return Err(TestCaseError::fail("money expected"));
    };
    // Decimal equality is by value; the written form (scale) must survive too.
    prop_assert_eq!(before.amount, after.amount);
    prop_assert_eq!(before.amount.to_string(), after.amount.to_string());
    prop_assert_eq!(before.currency, after.currency);
    Ok(())
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
        "-?[0-9]{0,16}(\\.[0-9]{0,9})?".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(".{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Whatever the decoder says about `bytes`, it says it without panicking, and what it
/// accepts it writes back in a form it accepts again unchanged.
fn assert_well_behaved(bytes: &[u8]) -> Result<(), TestCaseError> {
    match decode(bytes) {
        Ok(envelope) => prop_assert_eq!(decode(&envelope.to_json()), Ok(envelope.clone())),
        Err(e) => {
            prop_assert!(!e.detail.is_empty());
            prop_assert!(!e.detail.contains(['\r', '\n']), "{:?}", e.detail);
            prop_assert!(e.detail.len() <= 520);
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn any_valid_invoice_round_trips_exactly(
        event_id in id(),
        event_time in event_time(),
        invoice in invoice(),
    ) {
        assert_round_trip(&Envelope::new(event_id, event_time, InputEvent::InvoiceIssued(invoice)))?;
    }

    #[test]
    fn any_valid_payment_round_trips_exactly(
        event_id in id(),
        event_time in event_time(),
        payment in payment(),
    ) {
        assert_round_trip(&Envelope::new(event_id, event_time, InputEvent::PaymentReceived(payment)))?;
    }

    #[test]
    fn an_amount_written_as_text_reads_as_the_same_decimal(amount in amount()) {
        let text = amount.to_string();
        let bytes = crate::examples::with(
            EventKind::InvoiceIssued,
            "/data/amount",
            Value::String(text.clone()),
        );
        let decoded = decode(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let read = decoded.event.money().map(|m| m.amount);
        prop_assert_eq!(read, Some(amount));
        prop_assert_eq!(read.map(|a| a.to_string()), Some(text));
    }

    #[test]
    fn an_event_time_in_any_zone_reads_as_the_same_instant(
        instant in event_time(),
        offset_minutes in -(23 * 60 + 59)..=(23 * 60 + 59_i32),
    ) {
        let zone = FixedOffset::east_opt(offset_minutes * 60).expect("in range");
        let text = instant.with_timezone(&zone).to_rfc3339();
        let bytes = crate::examples::with(EventKind::ClockTick, "/event_time", Value::String(text));
        let decoded = decode(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(decoded.event_time, instant);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        assert_well_behaved(&bytes)?;
    }

    #[test]
    fn damaged_valid_messages_never_panic_the_decoder(
        kind in proptest::sample::select(EventKind::ALL.to_vec()),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0_u8..3), 1..8),
    ) {
        let mut bytes = full(kind).to_json();
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => { bytes.remove(i); }
            }
        }
        assert_well_behaved(&bytes)?;
    }

    #[test]
    fn any_json_in_any_field_never_panics_the_decoder(
        kind in proptest::sample::select(EventKind::ALL.to_vec()),
        field in any::<prop::sample::Index>(),
        value in json_value(),
        in_envelope in any::<bool>(),
    ) {
        let mut message = crate::examples::message(kind);
        let target = if in_envelope { &mut message } else { &mut message["data"] };
        if let Some(object) = target.as_object_mut() {
            let keys: Vec<String> = object.keys().cloned().collect();
            if !keys.is_empty() {
                object.insert(keys[field.index(keys.len())].clone(), value);
            }
        }
        assert_well_behaved(&serde_json::to_vec(&message).expect("JSON"))?;
    }
}
