//! Workflow over a real nats-server: a debtor whose behaviour turns bad gets a
//! limit-change alert and a credit hold on its subjects; a crash mid-stream publishes no
//! action twice; people list and close tasks and set limits through the HTTP API, and
//! what they do comes back through the log.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use events::*;
use pipeline::registry::{Registry, activation_event};
use pipeline::stages::Stages;
use pipeline::task_api::{TaskApi, TaskBoard};
use rust_decimal::Decimal;

use crate::fixture::*;

const BAD: &str = "BAD-001";

fn at(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(10, 0, 0).expect("a time"))
}

/// A business debtor that pays its monthly invoices early for `good` months, then stops
/// paying; invoices go on.
fn turning_bad(start: NaiveDate, good: u32, months: u32) -> Vec<Envelope> {
    let mut out = vec![Envelope::new(
        "bad-master",
        at(start),
        InputEvent::DebtorUpdated(DebtorUpdated {
            debtor_id: BAD.into(),
            name: "Slippery Trading BV".into(),
            debtor_type: DebtorType::Business,
            country: "NL".into(),
            payment_method: PaymentMethod::BankTransfer,
            preferred_channel: Channel::Email,
            credit_limit: Decimal::new(20_000, 0),
            currency: Currency::EUR,
            ibans: vec![],
        }),
    )];
    for m in 0..months {
        let issued = start + Days::new(u64::from(30 * m + 1));
        let due = issued + Days::new(30);
        let number = format!("BAD-INV-{m:02}");
        out.push(Envelope::new(
            format!("bad-inv-{m}"),
            at(issued),
            InputEvent::InvoiceIssued(InvoiceIssued {
                invoice_number: number.clone(),
                debtor_id: BAD.into(),
                amount: Decimal::new(6_000, 0),
                currency: Currency::EUR,
                issue_date: issued,
                due_date: due,
                payment_reference: None,
            }),
        ));
        if m < good {
            let paid = due - Days::new(5);
            out.push(Envelope::new(
                format!("bad-pay-{m}"),
                at(paid),
                InputEvent::PaymentReceived(PaymentReceived {
                    payment_id: format!("BAD-PAY-{m}"),
                    amount: Decimal::new(6_000, 0),
                    currency: Currency::EUR,
                    value_date: paid,
                    method: PaymentMethod::BankTransfer,
                    counterparty_name: None,
                    counterparty_iban: None,
                    remittance_text: Some(format!("invoice {number}")),
                    structured_reference: None,
                    end_to_end_id: None,
                    debtor_id: Some(BAD.into()),
                }),
            ));
        }
    }
    out
}

/// Merges two logs by event time (stable: ties keep `a` first).
fn merge(a: Vec<Envelope>, b: Vec<Envelope>) -> Vec<Envelope> {
    let mut all: Vec<(DateTime<Utc>, usize, Envelope)> = a
        .into_iter()
        .enumerate()
        .map(|(i, e)| (e.event_time, i, e))
        .chain(
            b.into_iter()
                .enumerate()
                .map(|(i, e)| (e.event_time, 1_000_000 + i, e)),
        )
        .collect();
    all.sort_by_key(|x| (x.0, x.1));
    all.into_iter().map(|(_, _, e)| e).collect()
}

/// The log run offline, models offered from the registry as the worker does.
async fn offline(registry: &Registry, log: &[Envelope]) -> (Stages, Vec<OutputEnvelope>) {
    let mut stages = Stages::default();
    let mut outputs = Vec::new();
    for e in log {
        let e = Envelope::decode(&e.to_json(), DEFAULT_MAX_EVENT_BYTES).expect("valid");
        registry
            .offer_activation(&mut stages, &e)
            .await
            .expect("registry");
        outputs.extend(stages.process(&e).expect("runs"));
    }
    (stages, outputs)
}

fn of_kind<'a>(outputs: &'a [OutputEnvelope], kind: &str, debtor: &str) -> Vec<&'a OutputEnvelope> {
    outputs
        .iter()
        .filter(|o| o.output.kind_label() == kind && o.debtor_id.as_deref() == Some(debtor))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_debtor_turning_bad_gets_a_limit_alert_and_a_hold_and_a_crash_repeats_no_action() {
    let nats = Nats::start().await;
    let (artifact, _) = crate::scoring::trained_model("v1");
    let registry = nats.registry(&[&artifact]).await;

    let background = portfolio(60, 10, 41);
    let start = background[0].event_time.date_naive();
    let activation = activation_event(
        &registry,
        "v1",
        ModelRole::Champion,
        "ops",
        "test",
        background[0].event_time,
    )
    .await
    .expect("activation");
    let mut log = vec![activation];
    log.extend(merge(background, turning_bad(start, 4, 9)));

    // While it pays, its limit is set to what the model recommends (a person following
    // the recommendation); then it stops paying.
    let turn = log
        .iter()
        .position(|e| e.event_id == "bad-inv-4")
        .expect("fifth invoice");
    let (before, _) = offline(&registry, &log[..turn]).await;
    let recommended = before
        .decisions()
        .last_score(BAD)
        .and_then(|s| s.recommended_limit)
        .expect("the debtor is scored with a recommended limit while it pays");
    let set_limit = Envelope::new(
        "bad-limit",
        log[turn].event_time,
        InputEvent::LimitOverride(LimitOverride {
            debtor_id: BAD.into(),
            credit_limit: recommended,
            currency: Currency::EUR,
            set_by: "credit.devries".into(),
            reason: "follow the recommendation".into(),
        }),
    );
    log.insert(turn, set_limit);
    let (_, expected) = offline(&registry, &log).await;

    // What the debtor's turn must produce, offline already: a downward limit alert and a
    // credit hold after the override.
    let after = |o: &&OutputEnvelope| o.event_time >= log[turn].event_time;
    // Downward: the limit in force is more than the debtor's risk supports now.
    let limit_alerts: Vec<_> = of_kind(&expected, "limit_change_recommended", BAD)
        .into_iter()
        .filter(after)
        .filter(|o| matches!(&o.output, Output::Alert(a) if a.severity == Severity::Warning))
        .collect();
    assert!(
        !limit_alerts.is_empty(),
        "a downward limit-change alert once the debtor turns bad: {:#?}",
        of_kind(&expected, "limit_change_recommended", BAD)
    );
    let holds: Vec<_> = of_kind(&expected, "credit_hold", BAD)
        .into_iter()
        .filter(after)
        .collect();
    assert!(!holds.is_empty(), "a credit hold once the debtor turns bad");

    // Live: a worker consumes the log, crashes mid-stream, and a second one resumes.
    let config = pipeline::worker::WorkerConfig {
        batch_max: 50,
        checkpoint_every: 700,
        checkpoint_interval: Duration::from_secs(3600),
        ..nats.worker_config()
    };
    let last = nats.publish(&log).await;
    let (mut first, _) = nats.start_worker(config.clone()).await;
    let at_crash = first
        .wait_for(PATIENCE, |s| s.processed_sequence >= last / 2)
        .await
        .expect("half processed");
    first.kill().await;
    assert!(at_crash.processed_sequence < last, "crashed mid-stream");
    let (mut second, _) = nats.start_worker(config).await;
    second
        .wait_for(PATIENCE, |s| s.checkpointed_sequence >= last)
        .await
        .expect("all input checkpointed after the restart");

    // Exactly the offline outputs, no action or alert twice, on their subjects.
    let stored = nats.read_stream(&nats.subjects.output_stream()).await;
    let published: Vec<(String, OutputEnvelope)> = stored
        .iter()
        .flat_map(|m| {
            let outputs = events::decode_outputs(&m.payload).expect("outputs decode");
            outputs.into_iter().map(|o| (m.subject.clone(), o))
        })
        .collect();
    let outputs: Vec<OutputEnvelope> = published.iter().map(|(_, o)| o.clone()).collect();
    assert_same_outputs_after_crash(&outputs, &expected);
    let subject_of = |id: &str| {
        published
            .iter()
            .find(|(_, o)| o.output_id == id)
            .map(|(subject, _)| subject.clone())
            .expect("published")
    };
    assert_eq!(
        subject_of(&limit_alerts[0].output_id),
        nats.subjects.output(OutputFamily::Alerts, Some(BAD))
    );
    assert_eq!(
        subject_of(&holds[0].output_id),
        nats.subjects.output(OutputFamily::Actions, Some(BAD))
    );
    let Output::Alert(alert) = &limit_alerts[0].output else {
        panic!("an alert")
    };
    assert!(
        alert
            .summary
            .contains("more than the debtor's risk supports"),
        "{}",
        alert.summary
    );
    let Output::Action(hold) = &holds[0].output else {
        panic!("an action")
    };
    assert_eq!(hold.reason.rule, "credit_hold");
    assert!(hold.reason.strategy_version.is_some());
    second.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_list_and_close_tasks_and_set_limits_through_the_api_and_the_log() {
    let nats = Nats::start().await;
    let board = Arc::new(TaskBoard::default());
    let config = pipeline::worker::WorkerConfig {
        task_board: Some(board.clone()),
        ..nats.worker_config()
    };
    let registry = prometheus::Registry::new();
    let api = TaskApi {
        board: board.clone(),
        js: nats.js.clone(),
        subjects: nats.subjects.clone(),
    };
    let server = pipeline::http::serve("127.0.0.1:0".parse().expect("addr"), registry, Some(api))
        .await
        .expect("serves");
    let addr = server.addr;

    let events = portfolio(60, 4, 9);
    let (mut worker, _) = nats.start_worker(config).await;
    let last = nats.publish(&events).await;
    worker
        .wait_for(PATIENCE, |s| s.checkpointed_sequence >= last)
        .await
        .expect("all input checkpointed");

    // The list as the pipeline has it.
    let expected = expected_outputs(&events);
    let closed: Vec<&str> = expected
        .iter()
        .filter_map(|o| match &o.output {
            Output::Task(t) => t.closure.as_ref().map(|c| c.task_id.as_str()),
            _ => None,
        })
        .collect();
    let opened: Vec<&OutputEnvelope> = expected
        .iter()
        .filter(|o| matches!(&o.output, Output::Task(t) if t.closure.is_none()))
        .filter(|o| !closed.contains(&o.output_id.as_str()))
        .collect();
    assert!(!opened.is_empty(), "the portfolio opens tasks");
    let (status, body) = http(addr, "GET", "/tasks", None).await.expect("GET /tasks");
    assert_eq!(status, 200, "{body}");
    let listed: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        listed["count"].as_u64(),
        Some(opened.len() as u64),
        "{body}"
    );
    let first = &opened[0];
    let kind = first.output.kind_label();
    let (status, body) = http(addr, "GET", &format!("/tasks?kind={kind}"), None)
        .await
        .expect("filtered");
    assert_eq!(status, 200);
    let filtered: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let same_kind = opened
        .iter()
        .filter(|o| o.output.kind_label() == kind)
        .count();
    assert_eq!(filtered["count"].as_u64(), Some(same_kind as u64));
    for (path, status_wanted) in [
        ("/tasks?kind=coffee", 400),
        ("/tasks?status=maybe", 400),
        ("/tasks/no-such-task", 404),
    ] {
        let (status, body) = http(addr, "GET", path, None).await.expect("GET");
        assert_eq!(status, status_wanted, "{path}: {body}");
    }

    // Closing: published into the log; the pipeline closes the task and says so.
    let id = first.output_id.clone();
    let close = format!("/tasks/{id}/close");
    let (status, body) = http(
        addr,
        "POST",
        &close,
        Some(r#"{"closed_by": "credit.devries"}"#),
    )
    .await
    .expect("POST");
    assert_eq!(status, 400, "a closing needs its reason: {body}");
    let (status, body) = http(
        addr,
        "POST",
        &close,
        Some(r#"{"closed_by": "credit.devries", "reason": "applied by hand after a call"}"#),
    )
    .await
    .expect("POST");
    assert_eq!(status, 202, "{body}");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (_, body) = http(addr, "GET", &format!("/tasks/{id}"), None)
            .await
            .expect("GET");
        let task: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        if task["closed"]["closed_by"] == "credit.devries" {
            assert_eq!(task["closed"]["reason"], "applied by hand after a call");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "task not closed: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _) = http(
        addr,
        "POST",
        &close,
        Some(r#"{"closed_by": "someone", "reason": "again"}"#),
    )
    .await
    .expect("POST");
    assert_eq!(status, 409, "a closed task cannot be closed again");
    let outputs = nats.outputs().await;
    let closure = outputs
        .iter()
        .find(|o| matches!(&o.output, Output::Task(t) if t.closure.as_ref().is_some_and(|c| c.task_id == id)))
        .expect("the closure is published on the tasks subject");
    assert!(closure.output_id.starts_with("task_closed:api-"));

    // A limit set by hand: refused when malformed, otherwise in the log and in force.
    let debtor = events
        .iter()
        .find_map(|e| match &e.event {
            InputEvent::DebtorUpdated(d) => Some(d.debtor_id.clone()),
            _ => None,
        })
        .expect("a debtor");
    let path = format!("/debtors/{debtor}/limit");
    let (status, body) = http(
        addr,
        "POST",
        &path,
        Some(r#"{"credit_limit": "12,50", "currency": "EUR", "set_by": "credit.devries", "reason": "x"}"#),
    )
    .await
    .expect("POST");
    assert_eq!(status, 400, "{body}");
    let (status, body) = http(
        addr,
        "POST",
        &path,
        Some(r#"{"credit_limit": "75000.00", "currency": "EUR", "set_by": "credit.devries", "reason": "guarantee from the parent"}"#),
    )
    .await
    .expect("POST");
    assert_eq!(status, 202, "{body}");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (_, body) = http(
            addr,
            "GET",
            &format!("/tasks?kind=limit_override_review&debtor={debtor}"),
            None,
        )
        .await
        .expect("GET");
        let listed: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        if listed["count"] == 1 {
            let summary = listed["tasks"][0]["summary"].as_str().unwrap_or("");
            assert!(summary.contains("75000.00"), "{summary}");
            assert!(summary.contains("guarantee from the parent"), "{summary}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no review task: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let outputs = nats.outputs().await;
    assert!(
        outputs
            .iter()
            .any(|o| matches!(&o.output, Output::ScoreUpdate(s)
            if o.debtor_id.as_deref() == Some(debtor.as_str())
                && s.credit_limit == Some(Decimal::new(7_500_000, 2)))),
        "the override is in force: the debtor's standing shows the new limit"
    );
    worker.stop().await.expect("stops");
    server.task.abort();
}

/// One event with more outputs than the publish acks the connection lets wait (a model
/// activated over thousands of debtors, with score points as large as that, scores each):
/// the worker awaits acks as it goes instead of waiting for itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_with_thousands_of_outputs_does_not_stall_the_worker() {
    let nats = Nats::start().await;
    let (artifact, _) = crate::scoring::trained_model("v1");
    let registry = nats.registry(&[&artifact]).await;
    // A month of 7,000 debtors: most have invoices, so features and a score.
    let mut log: Vec<Envelope> = portfolio(7000, 1, 17);
    let activation = activation_event(
        &registry,
        "v1",
        ModelRole::Champion,
        "ops",
        "test",
        log.last().expect("events").event_time,
    )
    .await
    .expect("activation");
    let id = activation.event_id.clone();
    log.push(activation);
    let last = nats.publish(&log).await;
    let mut config = nats.worker_config();
    config.scoring.max_debtors = 10_000;
    let (worker, _) = nats.start_worker(config).await;
    let mut worker = worker;
    worker
        .wait_for(PATIENCE, |s| s.checkpointed_sequence >= last)
        .await
        .expect("the whole log processed and checkpointed");
    worker.stop().await.expect("stops");
    let scored = nats
        .outputs()
        .await
        .iter()
        .filter(|o| o.cause_event_id == id && o.output.kind_label() == "score_update")
        .count();
    assert!(scored > 4096, "{scored} score updates from the activation");
}
