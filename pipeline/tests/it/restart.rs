//! A restart mid-stream loses no output and repeats no alert, action or task (score
//! updates published after the last checkpoint may come again, unchanged).

use std::time::Duration;

use crate::fixture::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_stream_loses_no_output_and_repeats_no_alert_action_or_task() {
    let nats = Nats::start().await;
    let events = portfolio(80, 4, 3);
    let expected = expected_outputs(&events);
    let last = nats.publish(&events).await;
    let config = pipeline::worker::WorkerConfig {
        batch_max: 50,
        checkpoint_every: 700,
        checkpoint_interval: Duration::from_secs(3600),
        ..nats.worker_config()
    };

    // First run: crash (abort, nothing flushed) once about half the input is processed.
    let (mut first, _) = nats.start_worker(config.clone()).await;
    let at_crash = first
        .wait_for(PATIENCE, |s| s.processed_sequence >= last / 2)
        .await
        .expect("half processed");
    first.kill().await;
    assert!(at_crash.processed_sequence < last, "crashed mid-stream");

    // Second run resumes from the checkpoint and redoes what was not checkpointed.
    let (mut second, metrics) = nats.start_worker(config).await;
    let resumed_at = *second.status.borrow();
    assert!(resumed_at.checkpointed_sequence <= at_crash.processed_sequence);
    second
        .wait_for(PATIENCE, |s| s.checkpointed_sequence >= last)
        .await
        .expect("all input checkpointed after the restart");

    assert_same_outputs_after_crash(&nats.outputs().await, &expected);
    // The second run processed exactly what the checkpoint did not hold.
    assert_eq!(
        metrics.events_total(),
        last - resumed_at.checkpointed_sequence,
        "events processed after the restart"
    );
    second.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_and_start_continues_where_it_stopped() {
    let nats = Nats::start().await;
    let events = portfolio(40, 3, 5);
    let expected = expected_outputs(&events);
    let (head, tail) = events.split_at(events.len() / 2);

    let (mut first, _) = nats.start_worker(nats.worker_config()).await;
    let mid = nats.publish(head).await;
    first
        .wait_for(PATIENCE, |s| s.checkpointed_sequence >= mid)
        .await
        .expect("first half");
    first.stop().await.expect("graceful stop");

    let last = nats.publish(tail).await;
    let (mut second, metrics) = nats.start_worker(nats.worker_config()).await;
    second
        .wait_for(PATIENCE, |s| s.checkpointed_sequence >= last)
        .await
        .expect("second half");
    assert_eq!(
        metrics.events_total(),
        tail.len() as u64,
        "nothing processed twice"
    );
    assert_same_outputs(&nats.outputs().await, &expected);
    second.stop().await.unwrap();
}
