//! A server that takes only small messages: every message the pipeline builds stays within
//! the server's `max_payload` — score updates batched smaller, checkpoints and models
//! stored in smaller chunks, a dead letter without bytes that would not fit — and nothing
//! is lost.

use bytes::Bytes;
use events::subjects::{
    HEADER_DLQ_DETAIL, HEADER_DLQ_PAYLOAD_OMITTED, HEADER_DLQ_REASON, HEADER_DLQ_SEQUENCE,
    HEADER_DLQ_SUBJECT,
};
use events::{DeadLetterReason, EventKind, OutputFamily};
use pipeline::broker::HEADER_ROOM;

use crate::fixture::*;

/// The server's limit, headers included (its default is 1 MiB).
const MAX_PAYLOAD: usize = 8 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_taking_small_messages_gets_every_output_checkpoint_and_dead_letter() {
    let nats = Nats::start_with_max_payload(MAX_PAYLOAD).await;
    let events = portfolio(30, 3, 9);
    let expected = expected_outputs(&events);
    let mut config = nats.worker_config();
    // Only the server's limit closes a message of score updates.
    config.score_updates_per_message = 1000;
    let (mut worker, metrics) = nats.start_worker(config).await;

    let (first, second) = events.split_at(events.len() / 2);
    nats.publish(first).await;
    let subject = nats.subjects.input(None, EventKind::PaymentReceived);
    // Not JSON, and too large to go on with a dead letter's headers.
    let large = Bytes::from(vec![b'x'; MAX_PAYLOAD - 100]);
    let large_at = nats.publish_raw(subject.clone(), large.clone()).await;
    let small = Bytes::from_static(b"not json either");
    let small_at = nats.publish_raw(subject, small.clone()).await;
    let last = nats.publish(second).await;
    worker
        .wait_for(PATIENCE, |s| s.checkpointed_sequence >= last)
        .await
        .expect("all input processed and checkpointed");

    // Nothing lost: every output of the good events, each message within the limit.
    assert_same_outputs(&nats.outputs().await, &expected);
    assert_eq!(metrics.events_total(), events.len() as u64);
    let messages = nats.read_stream(&nats.subjects.output_stream()).await;
    let largest = messages.iter().map(|m| m.payload.len()).max().unwrap_or(0);
    assert!(
        largest <= MAX_PAYLOAD - HEADER_ROOM,
        "a message of {largest} bytes"
    );
    // Score updates still share messages.
    let scores: Vec<usize> = messages
        .iter()
        .map(|m| events::decode_outputs(&m.payload).expect("decodes"))
        .filter(|outputs| outputs[0].output.family() == OutputFamily::Scores)
        .map(|outputs| outputs.len())
        .collect();
    assert!(scores.iter().any(|&n| n > 1), "{scores:?}");

    // Dead letters: the large one without its bytes, which the input stream keeps.
    let dead = nats.read_stream(&nats.subjects.dead_letter_stream()).await;
    assert_eq!(dead.len(), 2);
    let header = |i: usize, name: &str| dead[i].header(name);
    for (i, at) in [(0, large_at), (1, small_at)] {
        assert_eq!(
            header(i, HEADER_DLQ_REASON).as_deref(),
            Some(DeadLetterReason::MalformedJson.as_str())
        );
        assert_eq!(header(i, HEADER_DLQ_SEQUENCE), Some(at.to_string()));
    }
    assert!(dead[0].payload.is_empty());
    assert_eq!(
        header(0, HEADER_DLQ_PAYLOAD_OMITTED),
        Some(large.len().to_string())
    );
    let input = nats.read_stream(&nats.subjects.input_stream()).await;
    let at = usize::try_from(large_at).unwrap() - 1;
    assert_eq!(input[at].payload, large, "the input stream keeps the bytes");
    assert_eq!(dead[1].payload, small);
    assert_eq!(header(1, HEADER_DLQ_PAYLOAD_OMITTED), None);

    // The checkpoint, larger than a message, went in chunks the server took.
    let bucket = nats
        .js
        .get_object_store(&format!("{}-checkpoints", nats.subjects.prefix()))
        .await
        .expect("checkpoint bucket");
    let info = bucket.info("worker-all").await.expect("checkpoint stored");
    assert!(
        info.size > MAX_PAYLOAD,
        "a checkpoint of {} bytes",
        info.size
    );
    assert!(info.chunks > 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn score_updates_handed_over_together_fill_messages_up_to_the_servers_limit() {
    let nats = Nats::start_with_max_payload(MAX_PAYLOAD).await;
    let outputs: Vec<_> = expected_outputs(&portfolio(30, 3, 9))
        .into_iter()
        .filter(|o| o.output.family() == OutputFamily::Scores)
        .collect();
    let sizes = crate::outbox::message_sizes(&nats, "small", 100_000, &outputs).await;
    assert_eq!(sizes.iter().sum::<usize>(), outputs.len());
    let stream = events::Subjects::new("small", 4).output_stream();
    let messages = nats.read_stream(&stream).await;
    let bytes: Vec<usize> = messages.iter().map(|m| m.payload.len()).collect();
    let room = MAX_PAYLOAD - HEADER_ROOM;
    assert!(bytes.iter().all(|&n| n <= room), "{bytes:?}");
    // Closed by the limit: the next update would not have fitted.
    assert!(bytes.iter().any(|&n| n > room * 3 / 4), "{bytes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_larger_than_a_message_is_stored_and_read_back() {
    let nats = Nats::start_with_max_payload(MAX_PAYLOAD).await;
    let (artifact, bytes) = crate::scoring::trained_model("v2");
    assert!(
        bytes.len() > MAX_PAYLOAD,
        "a model of {} bytes",
        bytes.len()
    );
    let registry = nats.registry(&[&artifact]).await;
    let version = &artifact.metadata.version;
    assert_eq!(registry.load(version).await.expect("read back"), artifact);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_keeps_the_bytes_up_to_the_last_one_that_fits() {
    let nats = Nats::start_with_max_payload(MAX_PAYLOAD).await;
    let subject = nats.subjects.input(None, EventKind::PaymentReceived);
    // The dead letter's headers as sent ("NATS/1.0\r\n", "<name>: <value>\r\n" each,
    // "\r\n") for a first and second message of the stream that are not JSON.
    let detail = events::Envelope::decode(b"xxxx", usize::MAX)
        .expect_err("not JSON")
        .detail;
    let headers = |sequence: u64| {
        let sequence = sequence.to_string();
        [
            ("Nats-Msg-Id", format!("dlq:{sequence}")),
            (
                HEADER_DLQ_REASON,
                DeadLetterReason::MalformedJson.as_str().into(),
            ),
            (HEADER_DLQ_DETAIL, detail.clone()),
            (HEADER_DLQ_SUBJECT, subject.clone()),
            (HEADER_DLQ_SEQUENCE, sequence),
        ]
        .iter()
        .map(|(name, value)| name.len() + value.len() + 4)
        .sum::<usize>()
            + 12
    };
    // Exactly the server's limit with its headers; then one byte more.
    let fits = Bytes::from(vec![b'x'; MAX_PAYLOAD - headers(1)]);
    let over = Bytes::from(vec![b'x'; MAX_PAYLOAD - headers(2) + 1]);
    for (bytes, at) in [(&fits, 1), (&over, 2)] {
        assert_eq!(
            events::Envelope::decode(bytes, usize::MAX)
                .expect_err("not JSON")
                .detail,
            detail,
            "the same detail whatever the length"
        );
        assert_eq!(nats.publish_raw(subject.clone(), bytes.clone()).await, at);
    }
    let (mut worker, _metrics) = nats.start_worker(nats.worker_config()).await;
    worker
        .wait_for(PATIENCE, |s| s.checkpointed_sequence >= 2)
        .await
        .expect("both dead-lettered");
    let dead = nats.read_stream(&nats.subjects.dead_letter_stream()).await;
    assert_eq!(dead.len(), 2);
    let omitted = |i: usize| dead[i].header(HEADER_DLQ_PAYLOAD_OMITTED);
    assert_eq!(dead[0].payload, fits);
    assert_eq!(omitted(0), None);
    assert!(dead[1].payload.is_empty());
    assert_eq!(omitted(1), Some(over.len().to_string()));
}
