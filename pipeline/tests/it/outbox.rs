//! The outbox publishes what the stage loop hands over, in order, and says when the server
//! has stored it — or why not.

use async_nats::jetstream::message::PublishMessage;
use events::{Output, OutputEnvelope, OutputFamily, Subjects};
use pipeline::broker;
use pipeline::outbox::Outbox;

use crate::fixture::{Nats, assert_same_outputs, expected_outputs, portfolio};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_handed_over_is_stored_in_order_when_stored_returns() {
    let nats = Nats::start().await;
    let outputs = expected_outputs(&portfolio(20, 3, 7));
    assert!(outputs.len() > 100, "a portfolio with outputs to publish");
    let mut outbox = Outbox::start(nats.js.clone(), nats.subjects.clone(), 16);
    // Handed over in uneven pieces, as events give them.
    for (i, piece) in outputs.chunks(7).enumerate() {
        outbox.outputs(piece.to_vec()).await.expect("handed over");
        if i % 5 == 0 {
            outbox
                .outputs(Vec::new())
                .await
                .expect("nothing to hand over");
        }
    }
    outbox.stored().await.expect("stored");
    // `stored` returned: everything is in the stream now, no waiting needed.
    assert_same_outputs(&nats.outputs().await, &outputs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn score_updates_handed_over_together_share_a_message_up_to_the_limit() {
    let nats = Nats::start().await;
    let outputs = expected_outputs(&portfolio(30, 3, 9));
    let scores = |outputs: &[OutputEnvelope]| {
        outputs
            .iter()
            .filter(|o| o.output.family() == OutputFamily::Scores)
            .count()
    };
    assert!(scores(&outputs) > 100, "score updates to publish");
    // Handed over at once: the outbox finds them all waiting.
    let sizes = message_sizes(&nats, "five", 5, &outputs).await;
    assert!(sizes.iter().all(|&n| (1..=5).contains(&n)), "{sizes:?}");
    assert!(sizes.contains(&5), "full messages: {sizes:?}");
    assert!(
        sizes.len() < outputs.len() - scores(&outputs) / 2,
        "{} messages for {} outputs",
        sizes.len(),
        outputs.len()
    );
    assert_same_outputs(&nats.outputs_of(&Subjects::new("five", 4)).await, &outputs);

    // One per message when asked: as many messages as outputs.
    let sizes = message_sizes(&nats, "alone", 1, &outputs).await;
    assert_eq!(sizes.len(), outputs.len());

    // Large score updates: a message holds at most 64 KiB, whatever the count allows (an
    // update that would take it past goes to the next).
    let mut large: Vec<OutputEnvelope> = outputs
        .into_iter()
        .filter(|o| o.output.family() == OutputFamily::Scores)
        .collect();
    for o in &mut large {
        if let Output::ScoreUpdate(update) = &mut o.output {
            update.reason = "x".repeat(10_000);
        }
    }
    let sizes = message_sizes(&nats, "big", 256, &large).await;
    assert!(sizes.iter().all(|&n| (1..=6).contains(&n)), "{sizes:?}");
    assert!(sizes.contains(&6), "{sizes:?}");
    assert_eq!(sizes.iter().sum::<usize>(), large.len());
}

/// Publishes `outputs` (handed over at once) through an outbox on subjects of their own
/// (`prefix`, 4 partitions), `per_message` score updates at most in a message; returns
/// how many outputs each stored message holds.
pub(crate) async fn message_sizes(
    nats: &Nats,
    prefix: &str,
    per_message: usize,
    outputs: &[OutputEnvelope],
) -> Vec<usize> {
    let subjects = Subjects::new(prefix, 4);
    broker::ensure_streams(&nats.js, &subjects)
        .await
        .expect("streams");
    let mut outbox = Outbox::start(nats.js.clone(), subjects.clone(), per_message);
    outbox.outputs(outputs.to_vec()).await.expect("handed over");
    outbox.stored().await.expect("stored");
    nats.read_stream(&subjects.output_stream())
        .await
        .iter()
        .map(|m| events::decode_outputs(&m.payload).expect("decodes").len())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_the_server_does_not_store_is_an_error_and_stays_one() {
    let nats = Nats::start().await;
    let outputs = expected_outputs(&portfolio(5, 2, 3));
    // No stream takes these subjects: JetStream answers no publish.
    let nowhere = Subjects::new("nostream", 1);
    let mut outbox = Outbox::start(nats.js.clone(), nowhere.clone(), 256);
    outbox
        .message(
            nowhere.output(outputs[0].output.family(), None),
            PublishMessage::build().payload("x".into()),
        )
        .await
        .expect("handed over: the failure shows when it is awaited");
    let error = outbox.stored().await.expect_err("not stored");
    assert!(
        error.to_string().contains("not acknowledged"),
        "the reason names the missing acknowledgement: {error}"
    );
    let again = outbox
        .outputs(outputs.clone())
        .await
        .and(outbox.stored().await)
        .expect_err("the outbox stopped at the first failure");
    assert!(again.to_string().contains("failed before"), "{again}");
}
