//! Each kind of bad input goes to the dead-letter subject with its reason and the original
//! bytes, is counted, and every other event is processed as if it were not there.

use bytes::Bytes;
use events::DeadLetterReason;
use events::subjects::{HEADER_DLQ_DETAIL, HEADER_DLQ_REASON, HEADER_DLQ_SEQUENCE};

use crate::fixture::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_is_dead_lettered_with_its_reason_and_nothing_else_is_lost() {
    let nats = Nats::start().await;
    let events = portfolio(30, 2, 9);
    let expected = expected_outputs(&events);
    let bad = pipeline::demo::bad_examples(&nats.subjects);
    let reasons = [
        DeadLetterReason::MalformedJson,
        DeadLetterReason::UnknownEventType,
        DeadLetterReason::UnsupportedSchemaVersion,
        DeadLetterReason::MissingField,
        DeadLetterReason::InvalidAmount,
        DeadLetterReason::NegativeAmount,
        DeadLetterReason::UnknownCurrency,
        DeadLetterReason::InvalidValue,
        DeadLetterReason::Oversized,
    ];
    assert_eq!(bad.len(), reasons.len());
    let mut more = vec![
        // Not UTF-8 at all.
        (nats.subjects.input(None, events::EventKind::PaymentReceived), Bytes::from_static(&[0xff, 0xfe, 0x00, 0x01])),
        // An amount as a JSON number.
        (
            nats.subjects.input(None, events::EventKind::PaymentReceived),
            Bytes::from_static(br#"{"schema_version":1,"event_id":"n1","event_time":"2025-01-02T10:00:00Z","type":"payment_received","data":{"payment_id":"P-n1","amount":12.5,"currency":"EUR","value_date":"2025-01-02"}}"#),
        ),
    ];
    let more_reasons = [
        DeadLetterReason::MalformedJson,
        DeadLetterReason::InvalidAmount,
    ];

    let (mut worker, metrics) = nats.start_worker(nats.worker_config()).await;
    // Bad messages interleaved with the good ones.
    let chunk = events.len() / (bad.len() + more.len()) + 1;
    let mut bad_iter = bad.iter().cloned().chain(more.drain(..));
    let mut bad_sequences = Vec::new();
    let mut last = 0;
    for part in events.chunks(chunk) {
        last = nats.publish(part).await;
        if let Some((subject, bytes)) = bad_iter.next() {
            last = nats.publish_raw(subject, bytes.clone()).await;
            bad_sequences.push((last, bytes));
        }
    }
    for (subject, bytes) in bad_iter {
        last = nats.publish_raw(subject, bytes.clone()).await;
        bad_sequences.push((last, bytes));
    }
    worker
        .wait_for(PATIENCE, |s| s.checkpointed_sequence >= last)
        .await
        .expect("all input checkpointed");

    // Nothing else lost: the outputs are those of the good events alone.
    assert_same_outputs(&nats.outputs().await, &expected);
    assert_eq!(metrics.events_total(), events.len() as u64);

    let dead = nats.read_stream(&nats.subjects.dead_letter_stream()).await;
    let all_reasons: Vec<DeadLetterReason> = reasons.iter().chain(&more_reasons).copied().collect();
    assert_eq!(dead.len(), all_reasons.len());
    for ((message, reason), (sequence, original)) in
        dead.iter().zip(&all_reasons).zip(&bad_sequences)
    {
        let headers = message
            .headers
            .as_ref()
            .expect("dead letters carry headers");
        assert_eq!(
            headers.get(HEADER_DLQ_REASON).map(|v| v.to_string()),
            Some(reason.as_str().to_owned())
        );
        assert_eq!(message.subject, nats.subjects.dead_letter(*reason));
        assert_eq!(&message.payload, original, "original bytes kept");
        assert_eq!(
            headers.get(HEADER_DLQ_SEQUENCE).map(|v| v.to_string()),
            Some(sequence.to_string())
        );
        let detail = headers
            .get(HEADER_DLQ_DETAIL)
            .map(|v| v.to_string())
            .unwrap_or_default();
        assert!(!detail.is_empty(), "a detail for {reason:?}");
        assert_eq!(
            metrics
                .dead_letters
                .with_label_values(&[reason.as_str()])
                .get(),
            all_reasons.iter().filter(|r| *r == reason).count() as u64,
            "counted under {reason:?}"
        );
    }
    worker.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_field_detail_names_the_field() {
    let nats = Nats::start().await;
    let (mut worker, _) = nats.start_worker(nats.worker_config()).await;
    let bad = pipeline::demo::bad_examples(&nats.subjects);
    let (subject, bytes) = bad[3].clone();
    let last = nats.publish_raw(subject, bytes).await;
    worker
        .wait_for(PATIENCE, |s| s.checkpointed_sequence >= last)
        .await
        .unwrap();
    let dead = nats.read_stream(&nats.subjects.dead_letter_stream()).await;
    let detail = dead[0]
        .headers
        .as_ref()
        .unwrap()
        .get(HEADER_DLQ_DETAIL)
        .unwrap()
        .to_string();
    assert!(
        detail.contains("due_date"),
        "detail names the field: {detail}"
    );
    worker.stop().await.unwrap();
}
