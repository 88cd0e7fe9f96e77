//! Bad input: every kind of problem gets its own reason, a detail naming the field, and the
//! event id when the envelope had a usable one.

use events::DeadLetterReason as R;
use events::*;
use serde_json::{Value, json};

use crate::examples::*;

/// Decodes `bytes`, expecting a refusal for `reason` whose detail names `field` (in
/// backticks) and that carries the examples' event id.
#[track_caller]
fn refused(bytes: &[u8], reason: R, field: &str) -> DecodeError {
    let e = refused_without_id(bytes, reason, field);
    assert_eq!(
        e.event_id.as_deref(),
        Some(EVENT_ID),
        "event id carried: {e}"
    );
    e
}

/// As [`refused`], for refusals that come before a usable event id.
#[track_caller]
fn refused_without_id(bytes: &[u8], reason: R, field: &str) -> DecodeError {
    let e = match decode(bytes) {
        Ok(ok) => panic!("accepted {:?} as {ok:?}", String::from_utf8_lossy(bytes)),
        Err(e) => e,
    };
    assert_eq!(e.reason, reason, "{e}");
    if !field.is_empty() {
        assert!(
            e.detail.contains(&format!("`{field}`")),
            "detail names `{field}`: {}",
            e.detail
        );
    }
    assert!(!e.detail.contains(['\n', '\r']), "one line: {:?}", e.detail);
    e
}

#[track_caller]
fn accepted(bytes: &[u8]) -> Envelope {
    decode(bytes).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(bytes)))
}

/// Every amount field of every kind, with whether it must be positive.
const AMOUNTS: &[(EventKind, &str, bool)] = &[
    (EventKind::DebtorUpdated, "credit_limit", false),
    (EventKind::InvoiceIssued, "amount", true),
    (EventKind::PaymentReceived, "amount", true),
    (EventKind::PaymentReversed, "amount", true),
    (EventKind::CreditNoteIssued, "amount", true),
    (EventKind::DisputeOpened, "amount", true),
    (EventKind::PromiseToPay, "amount", true),
];

// ---- malformed JSON ----

#[test]
fn truncated_messages_are_malformed_json() {
    for kind in EventKind::ALL {
        let bytes = full(kind).to_json();
        for end in 0..bytes.len() {
            let e = refused_without_id(&bytes[..end], R::MalformedJson, "");
            assert_eq!(e.event_id, None);
        }
    }
}

#[test]
fn a_message_that_is_not_an_object_is_malformed_json() {
    let full = full(EventKind::ClockTick).to_json();
    let as_array = format!("[1,\"{EVENT_ID}\",\"2025-03-01T09:30:00Z\",\"clock_tick\",{{}}]");
    for (text, shape) in [
        (as_array.as_str(), "an array"),
        ("\"invoice_issued\"", "a string"),
        ("42", "a number"),
        ("null", "null"),
        ("true", "a boolean"),
        ("", "empty"),
        ("   ", "empty"),
        ("<invoice/>", "not JSON"),
    ] {
        let e = refused_without_id(text.as_bytes(), R::MalformedJson, "");
        assert!(e.detail.contains(shape), "{text:?}: {}", e.detail);
    }
    // Two objects, or an object followed by rubbish.
    let mut twice = full.clone();
    twice.extend_from_slice(&full);
    refused_without_id(&twice, R::MalformedJson, "");
    let mut trailing = full;
    trailing.extend_from_slice(b" x");
    refused_without_id(&trailing, R::MalformedJson, "");
}

#[test]
fn data_that_is_not_an_object_is_malformed_json() {
    // Serde would otherwise read an array as the fields in declaration order.
    let positional = json!([
        "INV-2025-000123",
        "D000042",
        "1250.00",
        "EUR",
        "2025-03-01",
        "2025-03-31"
    ]);
    refused(
        &with(EventKind::InvoiceIssued, "/data", positional),
        R::MalformedJson,
        "data",
    );
    refused(
        &with(EventKind::ClockTick, "/data", json!([])),
        R::MalformedJson,
        "data",
    );
    refused(
        &with(EventKind::InvoiceIssued, "/data", json!("INV-2025-000123")),
        R::MalformedJson,
        "data",
    );
}

#[test]
fn invalid_utf8_is_malformed_json_wherever_it_is() {
    let valid = String::from_utf8(full(EventKind::PaymentReceived).to_json()).expect("UTF-8");
    // In a value that is read, in a value that is ignored, in a key that is ignored.
    for (from, to) in [
        ("BAKKERIJ", b"BAKK\xffRIJ".as_slice()),
        (
            "\"schema_version\"",
            b"\"x\":\"\xc3\x28\",\"schema_version\"",
        ),
        (
            "\"schema_version\"",
            b"\"\xed\xa0\x80\":1,\"schema_version\"",
        ),
    ] {
        let at = valid.find(from).expect("present");
        let mut bytes = valid.as_bytes()[..at].to_vec();
        bytes.extend_from_slice(to);
        bytes.extend_from_slice(&valid.as_bytes()[at + from.len()..]);
        let e = refused_without_id(&bytes, R::MalformedJson, "");
        assert!(e.detail.contains("UTF-8"), "{}", e.detail);
    }
}

#[test]
fn a_field_given_twice_is_malformed_json() {
    let text = String::from_utf8(full(EventKind::InvoiceIssued).to_json()).expect("UTF-8");
    let twice = text.replacen('{', "{\"event_id\":\"other\",", 1);
    let e = refused_without_id(twice.as_bytes(), R::MalformedJson, "");
    assert!(e.detail.contains("duplicate field"), "{}", e.detail);
    let twice = text.replacen("\"amount\"", "\"amount\":\"1.00\",\"amount\"", 1);
    let e = refused(twice.as_bytes(), R::MalformedJson, "amount");
    assert!(e.detail.contains("duplicate field"), "{}", e.detail);
}

// ---- envelope ----

#[test]
fn unknown_event_types_are_refused_as_such() {
    for name in [
        "invoice_paid",
        "InvoiceIssued",
        "invoice-issued",
        "",
        "clock_tick ",
    ] {
        let e = refused(
            &with(EventKind::InvoiceIssued, "/type", json!(name)),
            R::UnknownEventType,
            "type",
        );
        assert!(e.detail.contains(&format!("`{name}`")), "{}", e.detail);
    }
}

#[test]
fn unsupported_schema_versions_are_refused_as_such() {
    for version in [
        json!(0),
        json!(2),
        json!("1"),
        json!(1.0),
        json!(-1),
        json!(4_294_967_297_u64),
        json!([1]),
    ] {
        let e = refused(
            &with(EventKind::InvoiceIssued, "/schema_version", version.clone()),
            R::UnsupportedSchemaVersion,
            "schema_version",
        );
        assert!(e.detail.contains(&version.to_string()), "{}", e.detail);
    }
}

#[test]
fn the_version_is_checked_before_the_rest_of_the_envelope() {
    // Another version may shape the envelope differently: that is what gets reported.
    let mut message = message(EventKind::InvoiceIssued);
    message["schema_version"] = json!(2);
    message["event_id"] = json!({"source": "erp", "id": 123});
    message["event_time"] = json!(1_740_821_400);
    let e = refused_without_id(
        &serde_json::to_vec(&message).expect("JSON"),
        R::UnsupportedSchemaVersion,
        "schema_version",
    );
    assert_eq!(e.event_id, None);
}

#[test]
fn missing_schema_version_is_a_missing_field() {
    refused(
        &without(EventKind::InvoiceIssued, "/schema_version"),
        R::MissingField,
        "schema_version",
    );
    refused(
        &with(EventKind::InvoiceIssued, "/schema_version", Value::Null),
        R::MissingField,
        "schema_version",
    );
}

#[test]
fn a_missing_envelope_field_is_named() {
    for field in ["event_time", "type", "data"] {
        refused(
            &without(EventKind::InvoiceIssued, &format!("/{field}")),
            R::MissingField,
            field,
        );
    }
    let e = refused_without_id(
        &without(EventKind::InvoiceIssued, "/event_id"),
        R::MissingField,
        "event_id",
    );
    assert_eq!(e.event_id, None);
}

#[test]
fn envelope_fields_of_the_wrong_type_are_named() {
    for (field, value) in [
        ("event_time", json!(1_740_821_400)),
        ("type", json!(3)),
        ("type", json!({"name": "invoice_issued"})),
    ] {
        refused(
            &with(EventKind::InvoiceIssued, &format!("/{field}"), value),
            R::InvalidValue,
            field,
        );
    }
    let e = refused_without_id(
        &with(EventKind::InvoiceIssued, "/event_id", json!(123)),
        R::InvalidValue,
        "event_id",
    );
    assert_eq!(e.event_id, None);
}

#[test]
fn event_time_needs_a_zone() {
    for text in [
        "2025-03-01T09:30:00",
        "2025-03-01",
        "2025-03-01T09:30",
        "01/03/2025 09:30",
        "yesterday",
        "",
    ] {
        let e = refused(
            &with(EventKind::InvoiceIssued, "/event_time", json!(text)),
            R::InvalidValue,
            "event_time",
        );
        assert!(e.detail.contains("RFC 3339"), "{}", e.detail);
    }
}

#[test]
fn bad_event_ids_are_refused_without_an_id_to_carry() {
    for id in [
        String::new(),
        "   ".to_owned(),
        "x".repeat(129),
        "€".repeat(43), // 129 bytes: the limit counts bytes, not characters
        "erp\n000123".to_owned(),
        "erp\u{0}000123".to_owned(),
    ] {
        let e = refused_without_id(
            &with(EventKind::InvoiceIssued, "/event_id", json!(id)),
            R::InvalidValue,
            "event_id",
        );
        assert_eq!(e.event_id, None, "{id:?}");
    }
    for id in ["x".repeat(128), "€".repeat(42), "a".to_owned()] {
        assert_eq!(
            accepted(&with(EventKind::InvoiceIssued, "/event_id", json!(id))).event_id,
            id
        );
    }
}

#[test]
fn the_event_id_is_carried_even_when_the_version_is_wrong() {
    // The id is read before anything else is checked, so even a refusal of the whole
    // envelope names the event it refused.
    let mut message = message(EventKind::InvoiceIssued);
    message["schema_version"] = json!(7);
    message["type"] = json!("nonsense");
    message.as_object_mut().map(|m| m.remove("event_time"));
    refused(
        &serde_json::to_vec(&message).expect("JSON"),
        R::UnsupportedSchemaVersion,
        "schema_version",
    );
}

// ---- oversized ----

#[test]
fn a_message_just_over_the_limit_is_oversized_and_one_at_it_is_read() {
    let mut bytes = full(EventKind::PaymentReceived).to_json();
    // JSON allows trailing whitespace: pad to exactly the limit.
    bytes.resize(LIMIT, b' ');
    assert_eq!(bytes.len(), LIMIT);
    accepted(&bytes);
    bytes.push(b' ');
    let e = refused_without_id(&bytes, R::Oversized, "");
    assert_eq!(e.event_id, None, "oversized input is not parsed");
    assert!(
        e.detail.contains(&(LIMIT + 1).to_string()) && e.detail.contains(&LIMIT.to_string()),
        "{}",
        e.detail
    );
    // The limit is the caller's.
    let exact = full(EventKind::ClockTick).to_json();
    assert!(Envelope::decode(&exact, exact.len()).is_ok());
    let e = Envelope::decode(&exact, exact.len() - 1).expect_err("over");
    assert_eq!(e.reason, R::Oversized);
}

// ---- missing fields in data ----

#[test]
fn every_required_data_field_is_reported_missing_by_name() {
    for kind in EventKind::ALL {
        let message = message(kind);
        let fields: Vec<String> = message["data"]
            .as_object()
            .expect("data")
            .keys()
            .cloned()
            .collect();
        for field in fields {
            let bytes = without(kind, &format!("/data/{field}"));
            if optional_fields(kind).contains(&field.as_str()) {
                accepted(&bytes);
            } else {
                let e = refused(&bytes, R::MissingField, &field);
                assert!(
                    e.detail.starts_with(kind.as_str()),
                    "names the kind: {}",
                    e.detail
                );
            }
        }
    }
}

#[test]
fn an_invoice_without_due_date_is_a_missing_field() {
    let e = refused(
        &without(EventKind::InvoiceIssued, "/data/due_date"),
        R::MissingField,
        "due_date",
    );
    assert_eq!(e.detail, "invoice_issued data: missing field `due_date`");
}

// ---- amounts ----

#[test]
fn amounts_that_are_not_decimal_strings_are_invalid_amounts() {
    for &(kind, field, _) in AMOUNTS {
        for value in [
            json!("12,50"),
            json!("abc"),
            json!(""),
            json!("1e5"),
            json!("1.2.3"),
            json!("EUR 12.50"),
            json!(12.5),
            json!(12),
            json!(true),
            json!(["12.50"]),
            json!({"value": "12.50"}),
        ] {
            let pointer = format!("/data/{field}");
            let e = refused(
                &with(kind, &pointer, value.clone()),
                R::InvalidAmount,
                field,
            );
            if let Value::String(s) = &value {
                let shown: String = s.chars().flat_map(char::escape_default).collect();
                assert!(e.detail.contains(&shown), "quotes the value: {}", e.detail);
            }
        }
    }
}

#[test]
fn a_json_number_amount_says_why_it_is_refused() {
    let e = refused(
        &with(EventKind::InvoiceIssued, "/data/amount", json!(12.5)),
        R::InvalidAmount,
        "amount",
    );
    assert!(e.detail.contains("JSON number"), "{}", e.detail);
}

#[test]
fn a_null_required_data_field_is_a_value_of_the_wrong_type() {
    refused(
        &with(
            EventKind::InvoiceIssued,
            "/data/invoice_number",
            Value::Null,
        ),
        R::InvalidValue,
        "invoice_number",
    );
    refused(
        &with(EventKind::InvoiceIssued, "/data/due_date", Value::Null),
        R::InvalidValue,
        "due_date",
    );
}

#[test]
fn a_null_required_amount_is_an_invalid_amount() {
    refused(
        &with(EventKind::InvoiceIssued, "/data/amount", Value::Null),
        R::InvalidAmount,
        "amount",
    );
}

#[test]
fn negative_amounts_are_refused_as_such() {
    for &(kind, field, _) in AMOUNTS {
        for text in ["-1", "-0.01", "-1250.00", "-1000000000001"] {
            refused(
                &with(kind, &format!("/data/{field}"), json!(text)),
                R::NegativeAmount,
                field,
            );
        }
    }
}

#[test]
fn zero_is_refused_where_an_amount_must_be_positive() {
    for &(kind, field, positive) in AMOUNTS {
        for text in ["0", "0.00", "-0", "0.000000"] {
            let bytes = with(kind, &format!("/data/{field}"), json!(text));
            if positive {
                let e = refused(&bytes, R::InvalidAmount, field);
                assert!(e.detail.contains("greater than zero"), "{}", e.detail);
            } else {
                accepted(&bytes);
            }
        }
    }
}

#[test]
fn out_of_range_amounts_are_invalid_amounts() {
    let too_many_digits = "9".repeat(40);
    for &(kind, field, _) in AMOUNTS {
        let pointer = format!("/data/{field}");
        for text in [
            "1000000000000.000001",
            "1000000000001",
            "99999999999999",
            too_many_digits.as_str(),
            "1.0000001",
            "0.0000001",
            "12.5000000",
        ] {
            let e = refused(&with(kind, &pointer, json!(text)), R::InvalidAmount, field);
            assert!(e.detail.contains("out of range"), "{text}: {}", e.detail);
        }
        for text in [
            "1000000000000",
            "1000000000000.000000",
            "0.000001",
            "1.123456",
        ] {
            accepted(&with(kind, &pointer, json!(text)));
        }
    }
}

// ---- currencies ----

#[test]
fn unknown_currencies_are_refused_as_such() {
    for kind in EventKind::ALL {
        if message(kind)["data"].get("currency").is_none() {
            continue;
        }
        for code in [
            "EURO", "XXX", "eur", "Eur", "", "EU", "ZZZ", "HRK", " EUR", "XAU",
        ] {
            let e = refused(
                &with(kind, "/data/currency", json!(code)),
                R::UnknownCurrency,
                "currency",
            );
            assert!(e.detail.contains(&format!("`{code}`")), "{}", e.detail);
        }
        for code in ["EUR", "USD", "GBP", "CHF", "JPY", "XCG"] {
            accepted(&with(kind, "/data/currency", json!(code)));
        }
    }
}

#[test]
fn a_currency_that_is_not_a_string_is_an_invalid_value() {
    refused(
        &with(EventKind::InvoiceIssued, "/data/currency", json!(978)),
        R::InvalidValue,
        "currency",
    );
}

// ---- other values ----

#[test]
fn a_due_date_before_the_issue_date_is_refused() {
    let e = refused(
        &with(
            EventKind::InvoiceIssued,
            "/data/due_date",
            json!("2025-02-28"),
        ),
        R::InvalidValue,
        "due_date",
    );
    assert!(e.detail.contains("`issue_date`"), "{}", e.detail);
    // Due on the day of issue is fine.
    accepted(&with(
        EventKind::InvoiceIssued,
        "/data/due_date",
        json!("2025-03-01"),
    ));
}

#[test]
fn dates_that_are_not_calendar_dates_are_named() {
    for (kind, field) in [
        (EventKind::InvoiceIssued, "issue_date"),
        (EventKind::InvoiceIssued, "due_date"),
        (EventKind::PaymentReceived, "value_date"),
        (EventKind::PaymentReversed, "value_date"),
        (EventKind::CreditNoteIssued, "issue_date"),
        (EventKind::PromiseToPay, "promised_date"),
    ] {
        for value in [
            json!("2025-02-30"),
            json!("2025-13-01"),
            json!("31-03-2025"),
            json!("2025/03/31"),
            json!("2025-03-31T00:00:00Z"),
            json!(20_250_331),
        ] {
            refused(
                &with(kind, &format!("/data/{field}"), value),
                R::InvalidValue,
                field,
            );
        }
    }
}

#[test]
fn bad_reason_codes_are_refused() {
    for code in ["am04", "AM0", "AM045", "AM-4", "", "AM 4"] {
        let e = refused(
            &with(EventKind::PaymentReversed, "/data/reason_code", json!(code)),
            R::InvalidValue,
            "reason_code",
        );
        assert!(e.detail.contains("ISO 20022"), "{}", e.detail);
    }
    for code in ["AM04", "MD06", "AC04", "MS03", "SL01"] {
        accepted(&with(
            EventKind::PaymentReversed,
            "/data/reason_code",
            json!(code),
        ));
    }
}

#[test]
fn unknown_enum_values_are_named() {
    for (kind, field) in [
        (EventKind::DebtorUpdated, "debtor_type"),
        (EventKind::DebtorUpdated, "payment_method"),
        (EventKind::DebtorUpdated, "preferred_channel"),
        (EventKind::PaymentReceived, "method"),
        (EventKind::DisputeResolved, "outcome"),
    ] {
        for value in [json!("vip"), json!("Business"), json!(1)] {
            refused(
                &with(kind, &format!("/data/{field}"), value),
                R::InvalidValue,
                field,
            );
        }
    }
}

#[test]
fn bad_countries_are_refused() {
    for country in ["nl", "NLD", "N", "", "N1"] {
        refused(
            &with(EventKind::DebtorUpdated, "/data/country", json!(country)),
            R::InvalidValue,
            "country",
        );
    }
}

#[test]
fn probabilities_stay_between_zero_and_one() {
    let pointer = "/data/probability_of_default";
    refused(
        &with(EventKind::BureauRating, pointer, json!("1.01")),
        R::InvalidValue,
        "probability_of_default",
    );
    refused(
        &with(EventKind::BureauRating, pointer, json!("-0.1")),
        R::NegativeAmount,
        "probability_of_default",
    );
    for p in ["0", "1", "0.5", "0.000001"] {
        accepted(&with(EventKind::BureauRating, pointer, json!(p)));
    }
}

/// Every id field of every kind (`[]` marks a list of ids).
const IDS: &[(EventKind, &str)] = &[
    (EventKind::DebtorUpdated, "debtor_id"),
    (EventKind::DebtorUpdated, "ibans[]"),
    (EventKind::InvoiceIssued, "invoice_number"),
    (EventKind::InvoiceIssued, "debtor_id"),
    (EventKind::InvoiceIssued, "payment_reference"),
    (EventKind::PaymentReceived, "payment_id"),
    (EventKind::PaymentReceived, "counterparty_iban"),
    (EventKind::PaymentReceived, "structured_reference"),
    (EventKind::PaymentReceived, "end_to_end_id"),
    (EventKind::PaymentReceived, "debtor_id"),
    (EventKind::PaymentReversed, "payment_id"),
    (EventKind::PaymentReversed, "debtor_id"),
    (EventKind::CreditNoteIssued, "credit_note_number"),
    (EventKind::CreditNoteIssued, "debtor_id"),
    (EventKind::CreditNoteIssued, "invoice_number"),
    (EventKind::DisputeOpened, "dispute_id"),
    (EventKind::DisputeOpened, "debtor_id"),
    (EventKind::DisputeOpened, "invoice_number"),
    (EventKind::DisputeResolved, "dispute_id"),
    (EventKind::DisputeResolved, "debtor_id"),
    (EventKind::DisputeResolved, "invoice_number"),
    (EventKind::PromiseToPay, "promise_id"),
    (EventKind::PromiseToPay, "debtor_id"),
    (EventKind::PromiseToPay, "invoice_numbers[]"),
    (EventKind::BureauRating, "debtor_id"),
    (EventKind::BureauRating, "bureau"),
    (EventKind::BureauRating, "rating"),
];

fn with_id(kind: EventKind, field: &str, id: &str) -> Vec<u8> {
    match field.strip_suffix("[]") {
        Some(list) => with(kind, &format!("/data/{list}"), json!(["OK-1", id])),
        None => with(kind, &format!("/data/{field}"), json!(id)),
    }
}

#[test]
fn empty_blank_oversized_and_control_ids_are_refused() {
    for &(kind, field) in IDS {
        for id in [
            String::new(),
            " ".to_owned(),
            "x".repeat(129),
            "a\u{7}b".to_owned(),
        ] {
            refused(&with_id(kind, field, &id), R::InvalidValue, field);
        }
        accepted(&with_id(kind, field, &"x".repeat(128)));
    }
}

#[test]
fn text_is_limited_to_1024_bytes() {
    for (kind, field) in [
        (EventKind::DebtorUpdated, "name"),
        (EventKind::PaymentReceived, "counterparty_name"),
        (EventKind::PaymentReceived, "remittance_text"),
        (EventKind::DisputeOpened, "reason"),
    ] {
        let pointer = format!("/data/{field}");
        accepted(&with(kind, &pointer, json!("é".repeat(512))));
        refused(
            &with(kind, &pointer, json!(format!("{}x", "é".repeat(512)))),
            R::InvalidValue,
            field,
        );
    }
}

#[test]
fn a_field_of_the_wrong_type_is_named() {
    for (kind, field, value) in [
        (EventKind::InvoiceIssued, "invoice_number", json!(123)),
        (
            EventKind::DebtorUpdated,
            "ibans",
            json!("NL91ABNA0417164300"),
        ),
        (EventKind::PromiseToPay, "invoice_numbers", json!([1, 2])),
        (
            EventKind::PaymentReceived,
            "remittance_text",
            json!({"a": 1}),
        ),
    ] {
        refused(
            &with(kind, &format!("/data/{field}"), value),
            R::InvalidValue,
            field,
        );
    }
}

#[test]
fn the_detail_is_safe_for_a_header() {
    // Producer text is quoted in the detail, which becomes a NATS header value.
    let e = refused(
        &with(
            EventKind::InvoiceIssued,
            "/data/amount",
            json!("12\r\nCreditstream-Forged: yes"),
        ),
        R::InvalidAmount,
        "amount",
    );
    assert!(e.detail.contains("\\r\\n"), "{}", e.detail);
    let huge = "9,".repeat(20_000);
    let e = refused(
        &with(EventKind::InvoiceIssued, "/data/amount", json!(huge)),
        R::InvalidAmount,
        "amount",
    );
    assert!(e.detail.len() <= 520, "capped: {} bytes", e.detail.len());
    let e = refused_without_id(
        &with(
            EventKind::InvoiceIssued,
            "/event_id",
            json!({"x": "y".repeat(30_000)}),
        ),
        R::InvalidValue,
        "event_id",
    );
    assert!(e.detail.len() <= 520, "capped: {} bytes", e.detail.len());
}

#[test]
fn every_reason_is_reachable() {
    let reasons = [
        refused_without_id(&[0xff], R::MalformedJson, "").reason,
        refused_without_id(&vec![b' '; LIMIT + 1], R::Oversized, "").reason,
        refused(
            &with(EventKind::ClockTick, "/schema_version", json!(2)),
            R::UnsupportedSchemaVersion,
            "schema_version",
        )
        .reason,
        refused(
            &with(EventKind::ClockTick, "/type", json!("tick")),
            R::UnknownEventType,
            "type",
        )
        .reason,
        refused(
            &without(EventKind::InvoiceIssued, "/data/amount"),
            R::MissingField,
            "amount",
        )
        .reason,
        refused(
            &with(EventKind::InvoiceIssued, "/data/amount", json!("x")),
            R::InvalidAmount,
            "amount",
        )
        .reason,
        refused(
            &with(EventKind::InvoiceIssued, "/data/amount", json!("-1")),
            R::NegativeAmount,
            "amount",
        )
        .reason,
        refused(
            &with(EventKind::InvoiceIssued, "/data/currency", json!("EURO")),
            R::UnknownCurrency,
            "currency",
        )
        .reason,
        refused(
            &with(
                EventKind::InvoiceIssued,
                "/data/due_date",
                json!("2000-01-01"),
            ),
            R::InvalidValue,
            "due_date",
        )
        .reason,
    ];
    let mut reached = reasons.to_vec();
    reached.sort();
    let mut all = R::ALL.to_vec();
    all.sort();
    assert_eq!(reached, all);
}
