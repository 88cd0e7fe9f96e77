//! Events published by the simulator come back as the pipeline's outputs.

use crate::fixture::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_events_come_back_as_exactly_the_outputs_of_the_stages() {
    let nats = Nats::start().await;
    let events = portfolio(100, 6, 7);
    assert!(
        events.len() > 1000,
        "a portfolio worth testing: {} events",
        events.len()
    );
    let expected = expected_outputs(&events);
    for family in ["alert", "action", "task", "score_update"] {
        assert!(
            expected
                .iter()
                .any(|o| serde_json::to_value(o).unwrap()["type"] == family),
            "the scenario yields at least one {family}"
        );
    }

    let (mut worker, metrics) = nats.start_worker(nats.worker_config()).await;
    let last = nats.publish(&events).await;
    worker
        .wait_for(PATIENCE, |s| s.checkpointed_sequence >= last)
        .await
        .expect("all input checkpointed");

    assert_same_outputs(&nats.outputs().await, &expected);
    assert_eq!(metrics.events_total(), events.len() as u64);
    assert_eq!(metrics.dead_letters_total(), 0);

    // Cash application metrics agree with the published tasks and payments.
    let payments = events
        .iter()
        .filter(|e| e.event.kind() == events::EventKind::PaymentReceived)
        .count() as u64;
    let payment_tasks = expected
        .iter()
        .filter(|o| {
            matches!(&o.output, events::Output::Task(t)
                if matches!(t.kind, events::TaskKind::UnmatchedPayment | events::TaskKind::CurrencyMismatch))
        })
        .count() as u64;
    assert_eq!(metrics.payments_to_people.get(), payment_tasks);
    // Every task published and not closed since is open, by kind.
    let opened = expected
        .iter()
        .filter(|o| matches!(&o.output, events::Output::Task(t) if t.closure.is_none()))
        .count() as i64;
    let closed = expected
        .iter()
        .filter(|o| matches!(&o.output, events::Output::Task(t) if t.closure.is_some()))
        .count() as i64;
    let tasks = opened - closed;
    let open: i64 = events::TaskKind::ALL
        .iter()
        .map(|k| metrics.tasks_open.with_label_values(&[k.as_str()]).get())
        .sum();
    assert!(tasks > 0);
    assert_eq!(open, tasks);
    let matched: u64 = ledger::MatchRule::ALL
        .iter()
        .map(|r| {
            metrics
                .payments_matched
                .with_label_values(&[r.as_str()])
                .get()
        })
        .sum();
    assert_eq!(
        matched + payment_tasks,
        payments,
        "every payment counted once"
    );
    let ratio = metrics.auto_match_ratio.get();
    assert!((ratio - matched as f64 / payments as f64).abs() < 1e-12);
    assert!(ratio > 0.98, "auto-match ratio {ratio}");
    worker.stop().await.expect("stops cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_land_on_the_partition_subject_of_their_debtor() {
    let nats = Nats::start().await;
    let events = portfolio(20, 2, 11);
    let (mut worker, _) = nats.start_worker(nats.worker_config()).await;
    let last = nats.publish(&events).await;
    worker
        .wait_for(PATIENCE, |s| s.checkpointed_sequence >= last)
        .await
        .expect("processed");
    let stored = nats.read_stream(&nats.subjects.output_stream()).await;
    assert!(!stored.is_empty());
    let mut together = 0;
    for m in stored {
        let outputs = events::decode_outputs(&m.payload).expect("outputs decode");
        for out in &outputs {
            let expected = nats
                .subjects
                .output(out.output.family(), out.debtor_id.as_deref());
            assert_eq!(m.subject, expected);
        }
        let header = |name: &str| {
            m.headers
                .as_ref()
                .and_then(|h| h.get(name))
                .map(|v| v.to_string())
        };
        let (first, last) = (&outputs[0], &outputs[outputs.len() - 1]);
        if outputs.len() == 1 {
            assert_eq!(
                header("Nats-Msg-Id").as_deref(),
                Some(first.output_id.as_str()),
                "Nats-Msg-Id is the output id"
            );
            assert_eq!(header(events::OUTPUTS_HEADER), None);
        } else {
            together += 1;
            assert!(
                outputs
                    .iter()
                    .all(|o| o.output.family() == events::OutputFamily::Scores),
                "only score updates go out together"
            );
            let id = header("Nats-Msg-Id").expect("a message id");
            let named = format!("{}..{}:{}:", first.output_id, last.output_id, outputs.len());
            let digest = id.strip_prefix(&named).unwrap_or_else(|| {
                panic!("Nats-Msg-Id {id} names the first and last output and the count")
            });
            assert!(
                digest.len() == 16 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
                "{id}: the ids' digest ends it"
            );
            assert_eq!(
                header(events::OUTPUTS_HEADER),
                Some(outputs.len().to_string())
            );
        }
    }
    assert!(together > 0, "score updates went out together");
    worker.stop().await.unwrap();
}
