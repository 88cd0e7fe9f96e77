//! `creditstream demo`: a private nats-server (unless --nats-url), the simulator publishing
//! a portfolio into JetStream, the worker processing it live, a running summary, and a
//! final summary once every event is checkpointed.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use prometheus::Registry;
use prometheus::core::Collector;

use crate::cli::DemoArgs;
use crate::error::PipelineError;
use crate::metrics::{self, PipelineMetrics};
use crate::natsd::LocalNats;
use crate::publish::EventPublisher;
use crate::worker::{self, WorkerStatus};

/// Runs the demo.
pub async fn run(args: DemoArgs) -> Result<(), PipelineError> {
    let started = Instant::now();
    // Validate everything before starting anything.
    let sim = crate::simulate::simulator(&args.portfolio)?;
    let subjects = args.nats.subjects();
    let mut config = args.worker.config(subjects.clone())?;

    let (_local, url) = match &args.nats.nats_url {
        Some(url) => (None, url.clone()),
        None => {
            let server = LocalNats::start()?;
            let url = server.url();
            eprintln!(
                "started nats-server at {url} (store {})",
                server.store_dir().display()
            );
            (Some(server), url)
        }
    };
    let options = args.nats.options(url);
    let (_client, js) = crate::broker::connect(&options).await?;
    // The worker's checkpoints on a connection of their own, as `run` does.
    let (_checkpoint_client, checkpoint_js) = crate::broker::connect(&options).await?;
    crate::broker::ensure_streams(&js, &subjects).await?;

    let registry = Registry::new();
    let metrics = Arc::new(
        PipelineMetrics::new(&registry)
            .map_err(|e| PipelineError::Internal(format!("metrics: {e}")))?,
    );
    let board = Arc::new(crate::task_api::TaskBoard::default());
    config.task_board = Some(board.clone());
    let api = crate::task_api::TaskApi {
        board,
        js: js.clone(),
        subjects: subjects.clone(),
    };
    let http = crate::http::serve(args.http_addr, registry.clone(), Some(api)).await?;
    eprintln!(
        "metrics at http://{0}/metrics, tasks at http://{0}/tasks",
        http.addr
    );

    // A risk model trained on another simulated history (another seed), stored in the
    // registry and activated by the first event of the log, as an analyst would.
    let activation = if args.no_model {
        None
    } else {
        let artifact = demo_model(&args.portfolio)?;
        let registry = crate::registry::Registry::object_store(&js, subjects.prefix()).await?;
        registry.publish(&artifact).await?;
        let version = &artifact.metadata.version;
        eprintln!(
            "trained risk model {version} on a separate simulated history: validation AUC {:.3}, \
             base rate {:.1} %",
            artifact.metadata.metrics.auc,
            100.0 * artifact.metadata.training_base_rate
        );
        Some(
            crate::registry::activation_event(
                &registry,
                version,
                events::ModelRole::Champion,
                "demo",
                "model trained by the demo",
                chrono::Utc::now(),
            )
            .await?,
        )
    };

    let mut handle =
        worker::start_with_checkpoints(js.clone(), checkpoint_js, config, metrics.clone()).await?;

    // The simulator publishes in a task of its own, like any producer.
    let bad = !args.no_bad_events;
    let publisher_subjects = subjects.clone();
    let publishing = tokio::spawn(async move {
        let mut publisher = EventPublisher::new(js, publisher_subjects.clone());
        if let Some(activation) = activation {
            publisher.publish(&activation).await?;
        }
        // A few malformed messages along the way show the dead-letter path: one every
        // 500 events, the rest at the end.
        let mut bad_examples = if bad {
            bad_examples(&publisher_subjects)
        } else {
            Vec::new()
        }
        .into_iter();
        for (i, event) in sim.enumerate() {
            publisher.publish(&event).await?;
            if i % 500 == 250
                && let Some((subject, bytes)) = bad_examples.next()
            {
                publisher.publish_raw(subject, bytes, None).await?;
            }
        }
        for (subject, bytes) in bad_examples {
            publisher.publish_raw(subject, bytes, None).await?;
        }
        publisher.flush().await?;
        Ok::<_, PipelineError>(publisher)
    });

    let live = std::io::stderr().is_terminal();
    let mut tick = tokio::time::interval(Duration::from_secs(if live { 1 } else { 5 }));
    let mut last = (Instant::now(), 0_u64);
    let mut published: Option<EventPublisher> = None;
    let mut publishing = publishing;
    loop {
        tokio::select! {
            done = &mut publishing, if published.is_none() => {
                match done {
                    Ok(Ok(p)) => published = Some(p),
                    Ok(Err(e)) => return Err(e),
                    Err(e) => return Err(PipelineError::js("simulator task", e)),
                }
            }
            _ = tick.tick() => {
                let events = metrics.events_total() + metrics.dead_letters_total();
                let rate = (events - last.1) as f64 / last.0.elapsed().as_secs_f64().max(1e-3);
                last = (Instant::now(), events);
                eprintln!("{}", status_line(started, rate, &metrics, &registry, &handle.status.borrow()));
            }
        }
        if let Some(p) = &published {
            let status = *handle.status.borrow();
            if status.checkpointed_sequence >= p.last_sequence {
                break;
            }
            if !handle.is_running() {
                break;
            }
        }
    }
    if !handle.is_running() {
        return handle.wait().await;
    }
    let publisher = published.ok_or_else(|| PipelineError::js("simulator", "did not finish"))?;
    let status = *handle.status.borrow();
    let secs = started.elapsed().as_secs_f64();
    print_summary(
        secs,
        &publisher,
        &metrics,
        &registry,
        &status,
        &http.addr.to_string(),
    );

    if args.keep_running {
        eprintln!(
            "still running; metrics at http://{}/metrics — Ctrl-C to stop",
            http.addr
        );
        crate::shutdown::requested().await;
        handle.stop().await?;
        http.task.abort();
        return Err(PipelineError::Interrupted);
    }
    handle.stop().await?;
    http.task.abort();
    Ok(())
}

/// The (first label value, value) of each series of a one-label gauge.
fn gauges(vec: &impl Collector) -> Vec<(String, f64)> {
    vec.collect()
        .iter()
        .flat_map(|f| f.get_metric())
        .filter_map(|m| {
            let label = m.get_label().first()?.value().to_owned();
            Some((label, m.get_gauge().get_value()))
        })
        .collect()
}

/// Trains the demo's risk model on a simulated history of its own (the next seed), so the
/// scores of the demo's portfolio come from a model that has not seen it.
pub fn demo_model(
    portfolio: &crate::cli::PortfolioArgs,
) -> Result<models::ModelArtifact, PipelineError> {
    let history = crate::cli::PortfolioArgs {
        seed: portfolio.seed.wrapping_add(1),
        debtors: portfolio.debtors.clamp(300, 2000),
        months: 12,
        ..portfolio.clone()
    };
    let (schema, batches, _) =
        features::TrainingSetBuilder::of_events(crate::simulate::simulator(&history)?)?;
    let exclude: Vec<&str> = crate::train::DEFAULT_EXCLUDE.split(',').collect();
    let table =
        models::TrainingTable::from_batches(&schema, &batches, "late", "issued_at", &exclude)?;
    let version = format!("demo-{}", history.seed);
    Ok(models::train(
        &table,
        &models::TrainingConfig::default(),
        &version,
        "issued_at",
        chrono::Utc::now(),
        |_| {},
    )?)
}

fn status_line(
    started: Instant,
    rate: f64,
    metrics: &PipelineMetrics,
    registry: &Registry,
    status: &WorkerStatus,
) -> String {
    let families = output_counts(registry, "family");
    let get = |k: &str| families.get(k).copied().unwrap_or(0);
    format!(
        "[{:>6.1}s] events {} ({:.0}/s) · debtors {} · alerts {} · actions {} · tasks {} · score updates {} · dead letters {}",
        started.elapsed().as_secs_f64(),
        metrics.events_total(),
        rate,
        status.debtors,
        get("alerts"),
        get("actions"),
        get("tasks"),
        get("scores"),
        metrics.dead_letters_total(),
    )
}

fn print_summary(
    secs: f64,
    publisher: &EventPublisher,
    metrics: &PipelineMetrics,
    registry: &Registry,
    status: &WorkerStatus,
    http: &str,
) {
    let events = metrics.events_total();
    let dead = metrics.dead_letters_total();
    println!("creditstream demo finished in {secs:.1} s");
    println!(
        "  input    {} messages published ({} duplicates dropped), {events} events processed ({:.0}/s), {dead} dead letters",
        publisher.stored,
        publisher.duplicates,
        (events + dead) as f64 / secs.max(1e-9)
    );
    println!("  ledger   {} debtors", status.debtors);
    println!(
        "  features {} micro-batches, {} debtor updates, {:.0} KB of window state",
        metrics.features_flush_seconds.get_sample_count(),
        metrics.features_debtors_changed.get(),
        metrics.features_state_bytes.get() as f64 / 1024.0
    );
    let scored = metrics.models_scored_debtors.get();
    if scored > 0 {
        let mut classes: Vec<String> = gauges(&metrics.models_debtors_by_class)
            .into_iter()
            .map(|(class, n)| format!("{class} {}", n as i64))
            .collect();
        classes.sort();
        let mut drift = gauges(&metrics.models_feature_drift);
        drift.sort_by(|a, b| b.1.total_cmp(&a.1));
        let drift: Vec<String> = drift
            .iter()
            .take(3)
            .map(|(f, psi)| format!("{f} {psi:.3}"))
            .collect();
        println!(
            "  drift    highest population stability index against the training rows: {}",
            drift.join(", ")
        );
        println!(
            "  models   {scored} debtor scorings at {} score points; debtors by risk class: {}",
            metrics.models_score_point_seconds.get_sample_count(),
            classes.join(" · ")
        );
    }
    let matched = metrics.payments_matched_total();
    let to_people = metrics.payments_to_people.get();
    if matched + to_people > 0 {
        println!(
            "  cash     {:.2} % of {} payments applied automatically, {to_people} handed to people",
            100.0 * matched as f64 / (matched + to_people) as f64,
            matched + to_people
        );
    }
    for (family, count) in output_counts(registry, "family") {
        let kinds: Vec<String> = output_counts_of(registry, &family)
            .into_iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        println!("  {family:<8} {count} ({})", kinds.join(", "));
    }
    let reasons: Vec<String> =
        label_counts(registry, metrics::INGEST_DEAD_LETTERS_TOTAL, "reason", None)
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
    if !reasons.is_empty() {
        println!("  dead letters by reason: {}", reasons.join(", "));
    }
    println!("  metrics  http://{http}/metrics");
}

/// Outputs published, summed by one label of the outputs counter.
fn output_counts(registry: &Registry, label: &str) -> BTreeMap<String, u64> {
    label_counts(registry, metrics::OUTPUTS_PUBLISHED_TOTAL, label, None)
}

fn output_counts_of(registry: &Registry, family: &str) -> BTreeMap<String, u64> {
    label_counts(
        registry,
        metrics::OUTPUTS_PUBLISHED_TOTAL,
        "kind",
        Some(("family", family)),
    )
}

fn label_counts(
    registry: &Registry,
    name: &str,
    label: &str,
    filter: Option<(&str, &str)>,
) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for family in registry.gather().into_iter().filter(|f| f.name() == name) {
        for metric in family.get_metric() {
            let labels = metric.get_label();
            if let Some((k, v)) = filter
                && !labels.iter().any(|l| l.name() == k && l.value() == v)
            {
                continue;
            }
            if let Some(l) = labels.iter().find(|l| l.name() == label) {
                *out.entry(l.value().to_owned()).or_insert(0) +=
                    metric.get_counter().get_value() as u64;
            }
        }
    }
    out
}

/// One malformed message per dead-letter reason, on plausible subjects.
pub fn bad_examples(subjects: &events::Subjects) -> Vec<(String, Bytes)> {
    let invoice = |data: &str| {
        format!(
            r#"{{"schema_version":1,"event_id":"bad-{}","event_time":"2025-01-02T10:00:00Z","type":"invoice_issued","data":{data}}}"#,
            data.len()
        )
    };
    let good = r#"{"invoice_number":"INV-X","debtor_id":"D-X","amount":"10.00","currency":"EUR","issue_date":"2025-01-02","due_date":"2025-02-01"}"#;
    let subject = subjects.input(Some("D-X"), events::EventKind::InvoiceIssued);
    let oversized = invoice(&good.replace(
        r#""D-X""#,
        &format!(
            "\"D-X\",\"note\":\"{}\"",
            "x".repeat(events::DEFAULT_MAX_EVENT_BYTES)
        ),
    ));
    [
        "{\"schema_version\":1,\"event_id\":".to_owned(),
        invoice(good).replace("invoice_issued", "invoice_teleported"),
        invoice(good).replace("\"schema_version\":1", "\"schema_version\":7"),
        invoice(&good.replace(r#","due_date":"2025-02-01""#, "")),
        invoice(&good.replace(r#""10.00""#, r#""ten euros""#)),
        invoice(&good.replace(r#""10.00""#, r#""-10.00""#)),
        invoice(&good.replace(r#""EUR""#, r#""EURO""#)),
        invoice(&good.replace("2025-02-01", "2024-12-01")),
        oversized,
    ]
    .into_iter()
    .map(|s| (subject.clone(), Bytes::from(s)))
    .collect()
}
