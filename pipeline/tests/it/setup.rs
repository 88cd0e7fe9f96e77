//! The pipeline creates its streams when missing and refuses ones it cannot use.

use async_nats::jetstream::stream;
use pipeline::PipelineError;

use crate::fixture::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_are_created_with_their_subjects_and_a_duplicate_window() {
    let nats = Nats::start().await;
    for (name, wildcard) in [
        (nats.subjects.input_stream(), nats.subjects.input_wildcard()),
        (
            nats.subjects.output_stream(),
            nats.subjects.output_wildcard(),
        ),
        (
            nats.subjects.dead_letter_stream(),
            nats.subjects.dead_letter_wildcard(),
        ),
    ] {
        let info = nats
            .js
            .get_stream(&name)
            .await
            .unwrap()
            .get_info()
            .await
            .unwrap();
        assert_eq!(info.config.subjects, vec![wildcard]);
        assert_eq!(
            info.config.duplicate_window,
            pipeline::broker::DUPLICATE_WINDOW
        );
        assert_eq!(info.config.storage, stream::StorageType::File);
    }
    // Checking again is harmless.
    pipeline::broker::ensure_streams(&nats.js, &nats.subjects)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_with_foreign_subjects_is_refused_with_a_clear_error() {
    let nats = Nats::start().await;
    let other = events::Subjects::new("clash", 4);
    nats.js
        .create_stream(stream::Config {
            name: other.input_stream(),
            subjects: vec!["somebody.else.>".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let err = pipeline::broker::ensure_streams(&nats.js, &other)
        .await
        .unwrap_err();
    assert!(matches!(err, PipelineError::Setup(_)), "{err}");
    assert!(err.to_string().contains("CLASH_IN"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_republished_event_is_dropped_by_its_event_id() {
    let nats = Nats::start().await;
    let events = portfolio(5, 1, 1);
    nats.publish(&events).await;
    let mut publisher =
        pipeline::publish::EventPublisher::new(nats.js.clone(), nats.subjects.clone());
    for e in &events {
        publisher.publish(e).await.unwrap();
    }
    publisher.flush().await.unwrap();
    assert_eq!(publisher.duplicates, events.len() as u64);
    assert_eq!(publisher.stored, 0);
}
