//! Valid events of every kind decode, and what is written reads back the same.

use events::*;
use serde_json::{Value, json};

use crate::examples::*;

#[test]
fn every_kind_round_trips_with_optional_fields_absent_and_present() {
    for kind in EventKind::ALL {
        for example in [minimal(kind), full(kind)] {
            let bytes = example.to_json();
            let decoded = decode(&bytes).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            assert_eq!(decoded, example, "{kind:?}");
            assert_eq!(decoded.event.kind(), kind);
            assert_eq!(
                decoded.to_json(),
                bytes,
                "{kind:?}: re-encoding is byte-identical"
            );
        }
    }
}

#[test]
fn the_wire_form_is_the_documented_envelope() {
    for kind in EventKind::ALL {
        let message = message(kind);
        let keys: Vec<&str> = message
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["data", "event_id", "event_time", "schema_version", "type"],
            "{kind:?}"
        );
        assert_eq!(message["schema_version"], json!(CURRENT_SCHEMA_VERSION));
        assert_eq!(message["type"], json!(kind.as_str()));
        assert_eq!(message["event_time"], json!("2025-03-01T09:30:00Z"));
        assert!(message["data"].is_object());
    }
}

#[test]
fn optional_fields_are_left_out_of_the_minimal_wire_form() {
    for kind in EventKind::ALL {
        let minimal: Value = serde_json::from_slice(&minimal(kind).to_json()).expect("JSON");
        let full = message(kind);
        let data = |v: &Value| -> Vec<String> {
            v["data"]
                .as_object()
                .expect("data")
                .keys()
                .cloned()
                .collect()
        };
        let dropped: Vec<String> = data(&full)
            .into_iter()
            .filter(|k| !data(&minimal).contains(k))
            .collect();
        // `method` and `reason` have defaults, which the writer always spells out.
        let expected: Vec<&str> = optional_fields(kind)
            .iter()
            .copied()
            .filter(|f| !matches!(*f, "method" | "reason"))
            .collect();
        let mut dropped_sorted: Vec<&str> = dropped.iter().map(String::as_str).collect();
        let mut expected_sorted = expected.clone();
        dropped_sorted.sort_unstable();
        expected_sorted.sort_unstable();
        assert_eq!(dropped_sorted, expected_sorted, "{kind:?}");
    }
}

#[test]
fn optional_fields_given_as_null_read_as_absent() {
    for kind in EventKind::ALL {
        let mut message = message(kind);
        for field in optional_fields(kind) {
            message["data"][*field] = Value::Null;
        }
        let bytes = serde_json::to_vec(&message).expect("JSON");
        assert_eq!(decode(&bytes), Ok(minimal(kind)), "{kind:?}");
    }
}

#[test]
fn payment_method_defaults_to_bank_transfer() {
    let bytes = without(EventKind::PaymentReceived, "/data/method");
    let Ok(Envelope {
        event: InputEvent::PaymentReceived(p),
        ..
    }) = decode(&bytes)
    else {
        panic!("decodes");
    };
    assert_eq!(p.method, PaymentMethod::BankTransfer);
}

#[test]
fn clock_tick_may_leave_data_out() {
    let bytes = without(EventKind::ClockTick, "/data");
    assert_eq!(decode(&bytes), Ok(minimal(EventKind::ClockTick)));
}

#[test]
fn amounts_keep_their_decimals_exactly() {
    for text in [
        "1250",
        "1250.5",
        "1250.50",
        "0.000001",
        "1000000000000",
        "0.10",
    ] {
        let bytes = with(EventKind::InvoiceIssued, "/data/amount", json!(text));
        let decoded = decode(&bytes).unwrap_or_else(|e| panic!("{text}: {e}"));
        let written: Value = serde_json::from_slice(&decoded.to_json()).expect("JSON");
        assert_eq!(written["data"]["amount"], json!(text), "scale is kept");
        assert_eq!(decoded.event.money().map(|m| m.amount), Some(dec(text)));
    }
}

#[test]
fn event_time_with_an_offset_is_the_same_instant_in_utc() {
    for text in [
        "2025-03-01T10:30:00+01:00",
        "2025-03-01T04:30:00-05:00",
        "2025-03-01T09:30:00.000Z",
        "2025-03-01T09:30:00+00:00",
    ] {
        let bytes = with(EventKind::InvoiceIssued, "/event_time", json!(text));
        let decoded = decode(&bytes).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(decoded.event_time, time("2025-03-01T09:30:00Z"), "{text}");
    }
    let bytes = with(
        EventKind::ClockTick,
        "/event_time",
        json!("2025-03-01T09:30:00.123456789Z"),
    );
    let decoded = decode(&bytes).expect("nanoseconds");
    assert_eq!(decode(&decoded.to_json()), Ok(decoded));
}

#[test]
fn unknown_fields_are_ignored_for_forward_compatibility() {
    let mut message = message(EventKind::InvoiceIssued);
    message["producer"] = json!({"system": "erp", "version": "7.4"});
    message["data"]["cost_center"] = json!("NL-01");
    let bytes = serde_json::to_vec(&message).expect("JSON");
    assert_eq!(decode(&bytes), Ok(full(EventKind::InvoiceIssued)));
}

#[test]
fn field_order_and_whitespace_do_not_matter() {
    let text = r#"
        { "type" : "invoice_issued",
          "data" : { "due_date": "2025-03-31", "issue_date": "2025-03-01",
                     "currency": "EUR", "amount": "1250.00", "debtor_id": "D000042",
                     "invoice_number": "INV-2025-000123" },
          "event_time" : "2025-03-01T09:30:00Z", "event_id" : "erp-7f3a-000123",
          "schema_version" : 1 }
    "#;
    assert_eq!(
        decode(text.as_bytes()),
        Ok(minimal(EventKind::InvoiceIssued))
    );
}

#[test]
fn escaped_and_non_ascii_text_round_trips() {
    let mut example = full(EventKind::PaymentReceived);
    if let InputEvent::PaymentReceived(p) = &mut example.event {
        p.counterparty_name = Some("Müller & Söhne \"Backwaren\" GmbH".into());
        p.remittance_text = Some("Rechnung\tINV-2025-000123\n€ 1.250,00 \\ danke 🙏".into());
    }
    assert_eq!(decode(&example.to_json()), Ok(example));
}

#[test]
fn money_is_reported_for_the_kinds_that_carry_it() {
    let with_money = [
        EventKind::DebtorUpdated,
        EventKind::InvoiceIssued,
        EventKind::PaymentReceived,
        EventKind::PaymentReversed,
        EventKind::CreditNoteIssued,
        EventKind::PromiseToPay,
        EventKind::LimitOverride,
    ];
    for kind in EventKind::ALL {
        let money = full(kind).event.money();
        assert_eq!(money.is_some(), with_money.contains(&kind), "{kind:?}");
        if let Some(m) = money {
            assert_eq!(m.currency, Currency::EUR);
        }
    }
}

#[test]
fn debtor_is_known_for_every_kind_but_bank_input_ticks_and_control_events() {
    for kind in EventKind::ALL {
        let minimal_debtor = minimal(kind).event.debtor_id().map(str::to_owned);
        let expected = match kind {
            EventKind::PaymentReceived
            | EventKind::PaymentReversed
            | EventKind::ClockTick
            | EventKind::ModelActivated
            | EventKind::StrategyActivated
            | EventKind::TaskClosed => None,
            _ => Some(DEBTOR.to_owned()),
        };
        assert_eq!(minimal_debtor, expected, "{kind:?}");
    }
    for kind in [EventKind::PaymentReceived, EventKind::PaymentReversed] {
        assert_eq!(full(kind).event.debtor_id(), Some(DEBTOR), "{kind:?}");
    }
}

#[test]
fn kind_and_reason_names_are_their_serde_names() {
    for kind in EventKind::ALL {
        assert_eq!(serde_json::to_value(kind).ok(), Some(json!(kind.as_str())));
        assert_eq!(EventKind::from_wire(kind.as_str()), Some(kind));
    }
    for reason in DeadLetterReason::ALL {
        assert_eq!(
            serde_json::to_value(reason).ok(),
            Some(json!(reason.as_str()))
        );
    }
    for t in DebtorType::ALL {
        assert_eq!(serde_json::to_value(t).ok(), Some(json!(t.as_str())));
    }
}

#[test]
fn every_output_family_round_trips() {
    for output in outputs()
        .into_iter()
        .chain(minimal_outputs())
        .chain(more_outputs())
    {
        let bytes = output.to_json();
        let back: OutputEnvelope = serde_json::from_slice(&bytes).expect("reads back");
        assert_eq!(back, output);
        let value: Value = serde_json::from_slice(&bytes).expect("JSON");
        let wire_type = match output.output.family() {
            OutputFamily::Alerts => "alert",
            OutputFamily::Actions => "action",
            OutputFamily::Tasks => "task",
            OutputFamily::Scores => "score_update",
        };
        assert_eq!(value["type"], json!(wire_type));
        assert!(value["data"].is_object());
        assert_eq!(value["output_id"], json!(output.output_id));
    }
    let families: Vec<OutputFamily> = outputs().iter().map(|o| o.output.family()).collect();
    assert_eq!(families, OutputFamily::ALL);
}

#[test]
fn outputs_published_together_read_back_one_per_line() {
    let mut all: Vec<OutputEnvelope> = outputs().into_iter().chain(more_outputs()).collect();
    // A line break inside a text field stays escaped: lines never split an output.
    let update = all
        .iter_mut()
        .find_map(|o| match &mut o.output {
            Output::ScoreUpdate(update) => Some(update),
            _ => None,
        })
        .expect("a score update among the examples");
    update.reason = "first line\nsecond line".into();
    let payload = all
        .iter()
        .map(OutputEnvelope::to_json)
        .collect::<Vec<_>>()
        .join(&b'\n');
    assert_eq!(output_lines(&payload).count(), all.len());
    assert_eq!(decode_outputs(&payload).expect("decodes"), all);
    // One output alone is the envelope itself, as every other family is published.
    assert_eq!(
        decode_outputs(&all[0].to_json()).expect("decodes"),
        vec![all[0].clone()]
    );
    // A damaged line is an error, not a shorter list.
    let mut damaged = payload.clone();
    damaged.extend_from_slice(b"\n{\"output_id\":");
    assert!(decode_outputs(&damaged).is_err());
}

#[test]
fn output_kind_labels_are_their_serde_names() {
    for output in outputs() {
        let value: Value = serde_json::from_slice(&output.to_json()).expect("JSON");
        let label = output.output.kind_label();
        match output.output {
            Output::ScoreUpdate(_) => assert_eq!(label, "score_update"),
            _ => assert_eq!(value["data"]["kind"], json!(label)),
        }
    }
}

#[test]
fn output_ids_name_the_kind_and_the_cause() {
    for output in outputs() {
        let prefix = format!("{}:{}", output.output.kind_label(), output.cause_event_id);
        assert!(
            output.output_id == prefix || output.output_id.starts_with(&format!("{prefix}:")),
            "{}",
            output.output_id
        );
    }
}
