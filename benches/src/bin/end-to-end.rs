//! End to end through a real nats-server (started here, loopback, temporary store), in one
//! run on one machine:
//!
//! 1. **reference**: the raw JetStream consume rate of the portfolio's events — a pull
//!    consumer as the worker's (ack all, batches of 1000), no processing;
//! 2. **as fast as possible**: the worker consumes the same stream, runs every stage and
//!    publishes its decisions: events/s in, outputs/s out, the ratio to the reference;
//! 3. **at a fixed rate** (default 10,000 events/s): the simulator publishes paced while
//!    the worker runs; event-to-decision latency is from an event's publish to the arrival
//!    of the first output it caused (subscribed on the output subjects), p50/p99/p99.9,
//!    how much of it was spent waiting in the input stream for the worker (its
//!    `creditstream_ingest_delay_seconds`), and a line per second: its slowest latency
//!    beside the worker's checkpoints, folds, waits at checkpoints (for outputs to be
//!    stored, the previous checkpoint written), pauses, time in score points, debtors
//!    scored and waiting for a score, and backlog, to tell what a slow second was.
//!    Before each paced run of the worker, the **relay** (the floor under its latency)
//!    takes the same events at the same rate through the worker's consumer, decoding and
//!    outbox with no stage between them, one output per event: what the broker, the
//!    worker's I/O and the machine's scheduling take at that rate (`NO_RELAY=1` leaves it
//!    out).
//! 4. **replay**: after the as-fast run with deltas, `creditstream replay` of the same
//!    input stream (read from the server, outputs to a file): its events/s beside the
//!    live run's, its outputs counted beside the live run's.
//!
//! Every stage runs: a risk model trained on another simulated history (as the demo does)
//! is published to each run's registry and activated by the first event of its stream
//! (`NO_MODEL=1` leaves it out).
//!
//! Each phase also prints the CPU time nats-server and this process (the harness and the
//! worker) used in it, in cores and in microseconds per event: what the broker's share of
//! the machine is beside the pipeline's. The worker's runs add how long the threads of
//! each process were on a core and how long they waited for one, runnable (the kernel's
//! scheduler statistics, for the threads alive at the end of the run; by name for this
//! process's busiest): on two cores shared by the broker, the worker and the harness, a
//! stage loop slower than alone is one that waits for a core.
//!
//! Peak memory is the process's high-water mark (`VmHWM`): the harness holds the
//! portfolio's events too, so it bounds the pipeline's from above.
//!
//! The worker has two connections of its own (events and outputs; checkpoints), the
//! harness a third (`ONE_CONNECTION=1`: one connection for the worker and the harness, to
//! compare); the paced publisher and the latency listener each have a connection and a
//! thread of their own, as a separate producer and a downstream service would, so that
//! neither waits for the threads of the runtime the worker's stage loop and outbox share.
//!
//! `FAST_ONLY=1` leaves out the paced runs (3.); `PACED_ONLY=1` keeps only the paced run
//! with deltas, to look at latency; `PACED_RUNS=<n>` repeats each paced run `n` times (a
//! fresh worker on a stream of its own each time) and prints the median (the middle run's
//! figure) and the spread of their latency, since one paced run's p99 varies severalfold
//! from run to run. `SCORE_MAX_DEBTORS=<n>` caps score points
//! at `n` debtors instead of the default 1,000, `SCORE_EVERY=<n>` has one every `n` events
//! instead of 1,000 (`CHECKPOINT_EVERY` and `CHECKPOINT_SECONDS` change when checkpoints
//! come). `SCORE_UPDATES_PER_MESSAGE=<n>` puts at most `n` score updates in one output
//! message instead of 256 (1: each in a message of its own, as before 2026-12-04).
//! `SCORE_THREADS=<n>` scores a score point's debtors on `n` threads instead of 2 (1: on
//! the stage loop's alone, as before 2026-12-04 night).
//!
//! `cargo run --release -p benches --bin end-to-end -- [DEBTORS] [MONTHS] [RATE]`

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer};
use benches::percentile;
use bytes::Bytes;
use events::{Envelope, Subjects};
use futures::StreamExt;
use pipeline::broker::{self, NatsOptions};
use pipeline::metrics::PipelineMetrics;
use pipeline::natsd::LocalNats;
use pipeline::outbox::Outbox;
use pipeline::publish::EventPublisher;
use pipeline::worker::{self, WorkerConfig};
use rust_decimal::Decimal;
use simulator::{SimConfig, Simulator};

fn peak_rss_mb() -> f64 {
    benches::status_kb("VmHWM").map_or(0.0, |kb| kb as f64 / 1024.0)
}

async fn publish_all(js: &jetstream::Context, subjects: &Subjects, events: &[Envelope]) -> u64 {
    let mut publisher = EventPublisher::new(js.clone(), subjects.clone());
    for e in events {
        publisher.publish(e).await.expect("publish");
    }
    publisher.flush().await.expect("flush");
    publisher.last_sequence
}

/// Consumes the whole input stream as the worker's consumer would, without processing.
async fn raw_consume(js: &jetstream::Context, subjects: &Subjects, last: u64) -> Duration {
    let stream = js
        .get_stream(subjects.input_stream())
        .await
        .expect("stream");
    let consumer = stream
        .create_consumer(consumer::pull::Config {
            durable_name: Some("raw-reference".into()),
            filter_subject: subjects.input_wildcard(),
            deliver_policy: consumer::DeliverPolicy::All,
            ack_policy: consumer::AckPolicy::All,
            max_ack_pending: 100_000,
            ..Default::default()
        })
        .await
        .expect("consumer");
    let started = Instant::now();
    let mut seen = 0_u64;
    while seen < last {
        let mut batch = consumer
            .fetch()
            .max_messages(1000)
            .expires(Duration::from_millis(500))
            .messages()
            .await
            .expect("fetch");
        let mut tail = None;
        while let Some(m) = batch.next().await {
            let m = m.expect("message");
            seen = m.info().expect("info").stream_sequence;
            tail = Some(m);
        }
        if let Some(m) = tail {
            m.ack().await.expect("ack");
        }
    }
    started.elapsed()
}

/// Connects to the server at `url` as the worker does.
async fn connect(url: &str) -> (async_nats::Client, jetstream::Context) {
    broker::connect(&NatsOptions {
        url: url.to_owned(),
        ..Default::default()
    })
    .await
    .expect("connects")
}

/// Runs the future `task` makes on a thread of its own, in a runtime of its own (a
/// separate producer's or subscriber's, not the worker's).
fn on_own_thread<F>(
    what: &'static str,
    task: impl FnOnce() -> F + Send + 'static,
) -> std::thread::JoinHandle<()>
where
    F: std::future::Future<Output = ()>,
{
    // Named, so that the threads' times say which is which (a thread unnamed takes its
    // creator's name).
    std::thread::Builder::new()
        .name(what.to_owned())
        .spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("the {what}'s runtime: {e}"))
                .block_on(task());
        })
        .unwrap_or_else(|e| panic!("the {what}'s thread: {e}"))
}

/// When each paced event was handed over to the broker (`None` until it is).
type Sent = HashMap<String, Option<Instant>>;

/// When the first output of each paced event arrived, and that output's rule (`None`
/// until one does).
type Arrivals = HashMap<String, Option<(Instant, String)>>;

/// The latency listener: a subscriber on the output subjects with a connection and a
/// thread of its own, as a downstream service would be, so that when an output arrives
/// does not wait for a thread of the worker's runtime.
struct Listener {
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Listener {
    /// Subscribes to `subject` and returns once the subscription is in place; notes in
    /// `arrived` the first output of each cause.
    async fn start(url: &str, subject: String, arrived: Arc<Mutex<Arrivals>>) -> Listener {
        let (ready, is_ready) = tokio::sync::oneshot::channel();
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let url = url.to_owned();
        let thread = on_own_thread("listener", move || async move {
            let (client, _) = connect(&url).await;
            let mut outputs = client.subscribe(subject).await.expect("subscribe");
            client.flush().await.expect("flush");
            let _ = ready.send(());
            loop {
                let m = tokio::select! {
                    _ = &mut stopped => break,
                    m = outputs.next() => m,
                };
                let Some(m) = m else { break };
                let now = Instant::now();
                let mut arrived = arrived.lock().expect("lock");
                for line in events::output_lines(&m.payload) {
                    if let Ok(o) = serde_json::from_slice::<Seen>(line) {
                        // Causes outside the paced run (none are expected) are not timed.
                        if let Some(first @ None) = arrived.get_mut(&o.cause_event_id) {
                            let rule = o.output_id.split(':').next().unwrap_or_default();
                            *first = Some((now, rule.to_owned()));
                        }
                    }
                }
            }
        });
        is_ready.await.expect("the listener subscribed");
        Listener { stop, thread }
    }

    fn stop(self) {
        let _ = self.stop.send(());
        self.thread.join().expect("the listener ends");
    }
}

/// Publishes `paced` at `rate` events a second (a tick every 10 ms) with a connection
/// and a thread of its own, as a separate producer would (not on the runtime the worker's
/// stage loop and outbox share), noting in `sent` when each event was handed over; returns
/// how long publishing took and the last event's stream sequence.
async fn publish_paced(
    url: &str,
    subjects: Subjects,
    paced: Vec<Envelope>,
    rate: u64,
    sent: Arc<Mutex<Sent>>,
) -> (Duration, u64) {
    let (done, is_done) = tokio::sync::oneshot::channel();
    let url = url.to_owned();
    on_own_thread("publisher", move || async move {
        let (_, js) = connect(&url).await;
        let per_tick = (rate / 100).max(1) as usize;
        let mut publisher = EventPublisher::new(js, subjects.clone());
        let started = Instant::now();
        let mut interval = tokio::time::interval(Duration::from_millis(10));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        for (i, chunk) in paced.chunks(per_tick).enumerate() {
            if i % 500 == 0 {
                eprintln!("  paced: {} published", i * per_tick);
            }
            interval.tick().await;
            for e in chunk {
                let bytes = Bytes::from(e.to_json());
                if let Some(at) = sent.lock().expect("lock").get_mut(&e.event_id) {
                    *at = Some(Instant::now());
                }
                publisher
                    .publish_raw(
                        subjects.input(e.event.debtor_id(), e.event.kind()),
                        bytes,
                        Some(&e.event_id),
                    )
                    .await
                    .expect("publish");
            }
        }
        publisher.flush().await.expect("flush");
        let _ = done.send((started.elapsed(), publisher.last_sequence));
    });
    is_done.await.expect("the paced publisher ends")
}

/// What the latency listener reads of an output.
#[derive(serde::Deserialize)]
struct Seen {
    output_id: String,
    cause_event_id: String,
}

fn config(subjects: &Subjects) -> WorkerConfig {
    let mut c = WorkerConfig {
        subjects: subjects.clone(),
        ..WorkerConfig::default()
    };
    // Experiments: CHECKPOINT_EVERY=<events> and CHECKPOINT_SECONDS=<s> override the
    // worker's defaults (20,000 events / 2 s).
    if let Some(n) = benches::env_setting("CHECKPOINT_EVERY") {
        c.checkpoint_every = n;
    }
    if let Some(s) = benches::env_setting("CHECKPOINT_SECONDS") {
        c.checkpoint_interval = Duration::from_secs(s);
    }
    // SCORE_MAX_DEBTORS=<n>: debtors a score point scores at most (default 1,000).
    if let Some(n) = benches::env_setting("SCORE_MAX_DEBTORS") {
        c.scoring.max_debtors = n;
    }
    // SCORE_THREADS=<n>: threads a score point scores on (default 2).
    if let Some(n) = benches::env_setting("SCORE_THREADS") {
        c.scoring.threads = n;
    }
    // SCORE_EVERY=<events>: a score point every this many events (default 1,000).
    if let Some(n) = benches::env_setting("SCORE_EVERY") {
        c.scoring.every_events = n;
    }
    // SPIN_MICROS=<n>: how long the stage loop looks for input before it sleeps
    // (default 1,000; 0 sleeps at once).
    if let Some(n) = benches::env_setting("SPIN_MICROS") {
        c.spin = Duration::from_micros(n);
    }
    // SCORE_UPDATES_PER_MESSAGE=<n>: most score updates in one output message (default
    // 256; 1 publishes each alone).
    if let Some(n) = benches::env_setting("SCORE_UPDATES_PER_MESSAGE") {
        c.score_updates_per_message = n;
    }
    c
}

/// 4.: `creditstream replay` of the same input stream as it runs (the log read from the
/// server, the stages with the event-time clock, the outputs as JSON lines to a file),
/// beside the live run's rate and outputs.
async fn replay(
    js: &jetstream::Context,
    subjects: &Subjects,
    config: &WorkerConfig,
    live_rate: f64,
    live_outputs: u64,
    server: u32,
) {
    use pipeline::replay::{Replayer, Sink, read_input_stream};
    let registry = pipeline::registry::Registry::object_store(js, subjects.prefix())
        .await
        .expect("registry");
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = std::fs::File::create(dir.path().join("outputs.jsonl")).expect("output file");
    let mut sink = Sink::Lines(Box::new(std::io::BufWriter::new(file)));
    let t = Instant::now();
    let cpu = benches::CpuSpan::start(server);
    let mut replayer = Replayer::new(config, &registry, None, None).expect("replay");
    read_input_stream(js, subjects, async |sequence, bytes| {
        replayer.push(sequence, bytes, &mut sink).await
    })
    .await
    .expect("replayed");
    sink.finish().await.expect("outputs written");
    let took = t.elapsed().as_secs_f64();
    let summary = replayer.summary();
    let rate = summary.events as f64 / took;
    println!(
        "replay of the input stream {} events in {took:7.3} s = {rate:9.0} events/s ({:.1} times the live rate), {} outputs (the live run's: {live_outputs})",
        summary.events,
        rate / live_rate,
        summary.outputs
    );
    println!("  {}", cpu.report(took, summary.events));
}

/// The model every run activates (trained once), or `None` with `NO_MODEL=1`.
fn model(debtors: u32, months: u32) -> Option<models::ModelArtifact> {
    if std::env::var_os("NO_MODEL").is_some() {
        return None;
    }
    let portfolio = pipeline::cli::PortfolioArgs {
        debtors,
        months,
        seed: 42,
        start: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("date"),
    };
    let artifact = pipeline::demo::demo_model(&portfolio).expect("model");
    println!(
        "risk model {} trained on another simulated history (AUC {:.3})",
        artifact.metadata.version, artifact.metadata.metrics.auc
    );
    Some(artifact)
}

/// Publishes `model` to the registry of `subjects` and returns its activation event.
async fn activation(
    js: &jetstream::Context,
    subjects: &Subjects,
    model: &models::ModelArtifact,
) -> Envelope {
    let registry = pipeline::registry::Registry::object_store(js, subjects.prefix())
        .await
        .expect("registry");
    registry.publish(model).await.expect("model published");
    pipeline::registry::activation_event(
        &registry,
        &model.metadata.version,
        events::ModelRole::Champion,
        "bench",
        "every stage runs",
        chrono::Utc::now(),
    )
    .await
    .expect("activation")
}

/// Waits until the worker has processed `last`, saying every 15 s where it is; fails when
/// the worker stopped or made no progress for two minutes.
async fn wait_processed(handle: &mut worker::WorkerHandle, last: u64, metrics: &PipelineMetrics) {
    let mut seen = 0;
    let mut still = 0;
    loop {
        match handle
            .wait_for(Duration::from_secs(15), |s| s.processed_sequence >= last)
            .await
        {
            Ok(_) => return,
            Err(e) if !handle.is_running() => panic!("the worker stopped: {e}"),
            Err(_) => {
                let s = *handle.status.borrow();
                eprintln!(
                    "  waiting: processed {} of {last}, checkpointed {}, {} checkpoints",
                    s.processed_sequence,
                    s.checkpointed_sequence,
                    metrics.checkpoints.get()
                );
                still = if s.processed_sequence == seen {
                    still + 1
                } else {
                    0
                };
                seen = s.processed_sequence;
                assert!(still < 8, "no progress for two minutes");
            }
        }
    }
}

/// Messages in the output stream (score updates go several to a message).
async fn output_messages(js: &jetstream::Context, subjects: &Subjects) -> u64 {
    js.get_stream(subjects.output_stream())
        .await
        .expect("output stream")
        .info()
        .await
        .expect("info")
        .state
        .messages
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    pipeline::tune_allocator(pipeline::MemoryUse::Churning);
    let mut args = std::env::args().skip(1);
    let debtors = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let months = args.next().and_then(|a| a.parse().ok()).unwrap_or(12);
    let rate: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let sim = match (SimConfig {
        debtors,
        months,
        ..SimConfig::default()
    })
    .check()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}\nusage: end-to-end [DEBTORS] [MONTHS] [RATE]");
            std::process::exit(2);
        }
    };
    let mut events: Vec<Envelope> = Simulator::new(sim).collect();
    let model = model(debtors, months);

    let server = LocalNats::start().expect("nats-server (is it installed?)");
    // Interrupted (Ctrl-C, SIGTERM), the runs stop and the server is stopped with them
    // rather than left running.
    let runs = async {
        let (_, js) = connect(&server.url()).await;
        // The worker has connections of its own, as a separate process would: one for the
        // events and outputs, one for its checkpoints. `ONE_CONNECTION=1` puts the worker and
        // the harness on one connection (as before 2026-12-03), to compare.
        let worker_connections = if std::env::var_os("ONE_CONNECTION").is_some() {
            (js.clone(), js.clone())
        } else {
            let ((_, work), (_, checkpoints)) =
                (connect(&server.url()).await, connect(&server.url()).await);
            (work, checkpoints)
        };

        // 1. and 2.: the same stream, consumed raw and by the pipeline.
        let subjects = Subjects::new("e2e", 1);
        broker::ensure_streams(&js, &subjects)
            .await
            .expect("streams");
        if let Some(model) = &model {
            events.insert(0, activation(&js, &subjects, model).await);
        }
        let n = events.len() as u64;
        println!("portfolio: {debtors} debtors, {months} months, {n} events");
        let t = Instant::now();
        let cpu = benches::CpuSpan::start(server.pid());
        let last = publish_all(&js, &subjects, &events).await;
        let publish = t.elapsed();
        println!(
            "publish (acknowledged)      {n} events in {:7.3} s = {:9.0} events/s",
            publish.as_secs_f64(),
            n as f64 / publish.as_secs_f64()
        );
        println!("  {}", cpu.report(publish.as_secs_f64(), n));
        let cpu = benches::CpuSpan::start(server.pid());
        let raw = raw_consume(&js, &subjects, last).await;
        let raw_rate = n as f64 / raw.as_secs_f64();
        println!(
            "raw JetStream consume       {n} events in {:7.3} s = {raw_rate:9.0} events/s (reference)",
            raw.as_secs_f64()
        );
        println!("  {}", cpu.report(raw.as_secs_f64(), n));
        // 2. and 3., with checkpoints as deltas beside the stages (the default), then with the
        // whole state written while the stages wait — the same events under another prefix.
        // `WHOLE_FIRST=1` swaps the order, to see what running second costs.
        let order = if std::env::var_os("WHOLE_FIRST").is_some() {
            [false, true]
        } else {
            [true, false]
        };
        // The second under another prefix, its events published again.
        let mut stream = (subjects, last);
        // `PACED_ONLY=1`: only the first way of checkpointing.
        let ways = if std::env::var_os("PACED_ONLY").is_some() {
            1
        } else {
            order.len()
        };
        for (i, deltas) in order.into_iter().enumerate().take(ways) {
            if i > 0 {
                let subjects = Subjects::new("e2e-second", 1);
                broker::ensure_streams(&js, &subjects)
                    .await
                    .expect("streams");
                if let Some(model) = &model {
                    events[0] = activation(&js, &subjects, model).await;
                }
                let last = publish_all(&js, &subjects, &events).await;
                stream = (subjects, last);
            }
            pipeline_runs(
                &js,
                (&server.url(), server.pid()),
                &worker_connections,
                &stream.0,
                deltas,
                n,
                stream.1,
                raw_rate,
                rate,
                &events,
                &model,
            )
            .await;
        }
    };
    tokio::select! {
        _ = runs => {}
        _ = pipeline::shutdown::requested() => eprintln!("interrupted: stopping nats-server"),
    }
    drop(server);
}

/// 2. and 3. for one way of checkpointing.
#[allow(clippy::too_many_arguments)]
async fn pipeline_runs(
    js: &jetstream::Context,
    (url, server): (&str, u32),
    (worker_js, checkpoint_js): &(jetstream::Context, jetstream::Context),
    subjects: &Subjects,
    deltas: bool,
    n: u64,
    last: u64,
    raw_rate: f64,
    rate: u64,
    events: &[Envelope],
    model: &Option<models::ModelArtifact>,
) {
    let config = |subjects: &Subjects| WorkerConfig {
        checkpoint_deltas: deltas,
        ..config(subjects)
    };
    println!(
        "-- checkpoints {}",
        if deltas {
            "as deltas written beside the stages"
        } else {
            "of the whole state, written while the stages wait"
        }
    );
    // `PACED_ONLY=1` skips the run as fast as it can (and its replay), to look at latency.
    if std::env::var_os("PACED_ONLY").is_none() {
        as_fast(
            js,
            (worker_js, checkpoint_js),
            subjects,
            deltas,
            (n, last),
            raw_rate,
            server,
        )
        .await;
    }
    if std::env::var_os("FAST_ONLY").is_some() {
        return;
    }

    // 3.: paced publishing while the worker runs, `PACED_RUNS` times (default once), each
    // on a stream of its own with a fresh worker: one paced run's p99 varies several times
    // over from run to run on this machine, their median compares builds.
    // Before each, the relay on the same events (`NO_RELAY=1` leaves it out): the floor
    // under the worker's latency on this machine at this rate.
    let runs: usize = benches::env_setting("PACED_RUNS").unwrap_or(1).max(1);
    let relayed = std::env::var_os("NO_RELAY").is_none();
    let mut figures = Vec::with_capacity(runs);
    let mut floors = Vec::with_capacity(runs);
    for k in 0..runs {
        let prefix = match k {
            0 => format!("{}-paced", subjects.prefix()),
            k => format!("{}-paced{k}", subjects.prefix()),
        };
        if runs > 1 {
            println!("paced run {} of {runs}", k + 1);
        }
        if relayed {
            let subjects = Subjects::new(&format!("{prefix}-relay"), 1);
            floors.push(relay_paced(js, (url, server), worker_js, &subjects, rate, events).await);
        }
        let subjects = Subjects::new(&prefix, 1);
        figures.push(
            paced(
                js,
                (url, server),
                (worker_js, checkpoint_js),
                &config(&subjects),
                rate,
                events,
                model,
            )
            .await,
        );
    }
    if runs > 1 {
        if relayed {
            print_paced_summary("the relay", rate, &floors);
        }
        print_paced_summary("the worker", rate, &figures);
    }
}

/// One paced run's latency figures, in milliseconds.
struct PacedFigures {
    p50: f64,
    p99: f64,
    p999: f64,
    max: f64,
}

impl PacedFigures {
    /// The figures of latencies sorted in ascending order.
    fn of(sorted: &[f64]) -> PacedFigures {
        PacedFigures {
            p50: percentile(sorted, 0.5),
            p99: percentile(sorted, 0.99),
            p999: percentile(sorted, 0.999),
            max: sorted.last().copied().unwrap_or(f64::NAN),
        }
    }
}

impl std::fmt::Display for PacedFigures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms",
            self.p50, self.p99, self.p999, self.max
        )
    }
}

/// The events of a paced run at `rate`: the first 30 seconds' worth.
fn paced_events(events: &[Envelope], rate: u64) -> Vec<Envelope> {
    events.iter().take((rate * 30) as usize).cloned().collect()
}

/// One paced run's clock: when each event was handed over and when its first output
/// arrived (with that output's rule), the listener that notes the arrivals, and the CPU
/// both processes used from the start of publishing.
struct PacedRun {
    sent: Arc<Mutex<Sent>>,
    arrived: Arc<Mutex<Arrivals>>,
    listener: Listener,
    /// When publishing started.
    started: Instant,
    cpu: benches::CpuSpan,
}

impl PacedRun {
    /// Listens on the output subjects of `subjects` for the outputs of `paced`; the clock
    /// starts once the listener is in place. Every paced event has its place in both
    /// tables from the start: filled as they went, the tables grew by doubling in the
    /// middle of the run, each doubling tens of megabytes of fresh memory and every entry
    /// moved while the publisher or the listener waited, taking a core from the worker in
    /// that second.
    async fn start(url: &str, subjects: &Subjects, paced: &[Envelope], server: u32) -> PacedRun {
        fn places<T>(paced: &[Envelope]) -> Arc<Mutex<HashMap<String, Option<T>>>> {
            Arc::new(Mutex::new(
                paced.iter().map(|e| (e.event_id.clone(), None)).collect(),
            ))
        }
        let (sent, arrived) = (places(paced), places(paced));
        let listener = Listener::start(url, subjects.output_wildcard(), arrived.clone()).await;
        PacedRun {
            sent,
            arrived,
            listener,
            started: Instant::now(),
            cpu: benches::CpuSpan::start(server),
        }
    }

    /// Publishes `paced` at `rate` on the input subjects of `subjects` (see
    /// [`publish_paced`]): how long it took and the last event's stream sequence.
    async fn publish(
        &self,
        url: &str,
        subjects: &Subjects,
        paced: Vec<Envelope>,
        rate: u64,
    ) -> (Duration, u64) {
        publish_paced(url, subjects.clone(), paced, rate, self.sent.clone()).await
    }

    /// The CPU nats-server and this process used since publishing started, for `events`
    /// events, and the threads' times on a core and waiting for one.
    fn cpu(&self, events: u64) -> (String, String) {
        (
            self.cpu
                .report(self.started.elapsed().as_secs_f64(), events),
            self.cpu.waits(),
        )
    }

    /// Outputs of the last events are in flight: gives them a moment to arrive.
    async fn settle(&self) {
        tokio::time::sleep(Duration::from_secs(2)).await;
    }

    /// Stops the listener; each paced event's latency.
    fn finish(self) -> Latencies {
        self.listener.stop();
        latencies(
            &self.sent.lock().expect("lock"),
            &self.arrived.lock().expect("lock"),
            self.started,
        )
    }
}

/// The paced events' latencies, in milliseconds.
struct Latencies {
    /// Every event's with an output, in ascending order.
    all: Vec<f64>,
    /// By the rule of the event's first output.
    by_rule: std::collections::BTreeMap<String, Vec<f64>>,
    /// The slowest of the events published in each second of the run.
    by_second: std::collections::BTreeMap<u64, f64>,
}

/// Each paced event's latency, from its hand-over (`sent`) to its first output's arrival,
/// for a run that started publishing at `started`.
fn latencies(sent: &Sent, arrived: &Arrivals, started: Instant) -> Latencies {
    let mut all: Vec<f64> = Vec::with_capacity(arrived.len());
    let mut by_rule: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    let mut by_second: std::collections::BTreeMap<u64, f64> = Default::default();
    let arrived = arrived
        .iter()
        .filter_map(|(cause, first)| Some((cause, first.as_ref()?)));
    for (cause, (at, rule)) in arrived {
        let Some(Some(s)) = sent.get(cause) else {
            continue;
        };
        let ms = at.saturating_duration_since(*s).as_secs_f64() * 1000.0;
        all.push(ms);
        by_rule.entry(rule.clone()).or_default().push(ms);
        let worst = by_second
            .entry(s.saturating_duration_since(started).as_secs())
            .or_insert(0.0);
        *worst = worst.max(ms);
    }
    all.sort_by(f64::total_cmp);
    Latencies {
        all,
        by_rule,
        by_second,
    }
}

/// The median and the spread of the paced runs' latency (`what` ran them).
fn print_paced_summary(what: &str, rate: u64, figures: &[PacedFigures]) {
    let of = |f: fn(&PacedFigures) -> f64| {
        let mut v: Vec<f64> = figures.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        let each: Vec<String> = v.iter().map(|x| format!("{x:.0}")).collect();
        format!(
            "median {:.1} ms (each, ascending: {})",
            benches::percentile(&v, 0.5),
            each.join(", ")
        )
    };
    println!("{what}, paced runs at {rate} events/s: {}", figures.len());
    println!("  p50   {}", of(|f| f.p50));
    println!("  p99   {}", of(|f| f.p99));
    println!("  p99.9 {}", of(|f| f.p999));
    println!("  max   {}", of(|f| f.max));
}

/// 3.: the simulator publishes the first 30 seconds' worth of `events` at `rate` on the
/// subjects of `config` while a fresh worker runs; latency to the first output per cause.
async fn paced(
    js: &jetstream::Context,
    (url, server): (&str, u32),
    (worker_js, checkpoint_js): (&jetstream::Context, &jetstream::Context),
    config: &WorkerConfig,
    rate: u64,
    events: &[Envelope],
    model: &Option<models::ModelArtifact>,
) -> PacedFigures {
    let subjects = config.subjects.clone();
    broker::ensure_streams(js, &subjects)
        .await
        .expect("streams");
    let metrics = Arc::new(PipelineMetrics::new(&prometheus::Registry::new()).expect("metrics"));
    let mut handle = worker::start_with_checkpoints(
        worker_js.clone(),
        checkpoint_js.clone(),
        config.clone(),
        metrics.clone(),
    )
    .await
    .expect("worker");
    let mut paced = paced_events(events, rate);
    if let Some(model) = &model {
        eprintln!("  publishing the model for the paced run");
        paced[0] = activation(js, &subjects, model).await;
        eprintln!("  published");
    }
    let m = paced.len() as u64;
    let run = PacedRun::start(url, &subjects, &paced, server).await;
    let timeline: Arc<Mutex<Vec<Second>>> = Arc::default();
    let sampler = tokio::spawn(sample_timeline(
        metrics.clone(),
        handle.status.clone(),
        run.started,
        rate,
        timeline.clone(),
    ));
    let (publishing, last) = run.publish(url, &subjects, paced, rate).await;
    wait_processed(&mut handle, last, &metrics).await;
    let (paced_cpu, paced_waits) = run.cpu(m);
    run.settle().await;
    handle.stop().await.expect("stops");
    sampler.abort();
    let Latencies {
        all: latencies,
        by_rule,
        by_second,
    } = run.finish();
    // Every output is stored once the worker has stopped.
    let messages = output_messages(js, &subjects).await;
    let timeline = timeline.lock().expect("lock").clone();
    println!(
        "paced at {rate} events/s       {m} events published in {:7.3} s ({:.0} events/s achieved); {} caused outputs; {} outputs in {} messages",
        publishing.as_secs_f64(),
        m as f64 / publishing.as_secs_f64(),
        latencies.len(),
        metrics.outputs_total(),
        messages
    );
    println!("  {paced_cpu} (the paced publisher and the listener included)");
    println!("  {paced_waits}");
    let figures = PacedFigures::of(&latencies);
    println!("event-to-decision latency   {figures}");
    // How much of it the events spent in the input stream before the worker took them up
    // (behind a backlog, or behind earlier events of their batch): the worker's histogram.
    let waited = |q: f64| benches::bucket_quantile(&metrics.ingest_delay, q) * 1000.0;
    println!(
        "  of which waiting in the input stream for the worker (its ingest-delay histogram, bucket bounds): p50 <= {:.1} ms, p99 <= {:.0} ms",
        waited(0.5),
        waited(0.99)
    );
    // By the rule of the first output: which decisions the slow ones were.
    let mut rules: Vec<(String, Vec<f64>)> = by_rule.into_iter().collect();
    rules.sort_by_key(|(_, l)| std::cmp::Reverse(l.len()));
    let rules: Vec<String> = rules
        .iter_mut()
        .take(6)
        .map(|(rule, l)| {
            l.sort_by(f64::total_cmp);
            format!(
                "{rule} {} (p50 {:.1}, p99 {:.1} ms)",
                l.len(),
                percentile(l, 0.5),
                percentile(l, 0.99)
            )
        })
        .collect();
    println!("  first outputs by rule: {}", rules.join(", "));
    checkpoint_summary(&metrics);
    // Where in the run the slowest events were: the seconds with the highest latency.
    let mut worst: Vec<(u64, f64)> = by_second.iter().map(|(s, ms)| (*s, *ms)).collect();
    worst.sort_by(|a, b| b.1.total_cmp(&a.1));
    let worst: Vec<String> = worst
        .iter()
        .take(5)
        .map(|(s, ms)| format!("{s} s: {ms:.0} ms"))
        .collect();
    println!(
        "  slowest seconds of the paced run (max latency): {}",
        worst.join(", ")
    );
    print_timeline(&by_second, &timeline);
    println!(
        "peak RSS of the harness (events held included): {:.0} MB",
        peak_rss_mb()
    );
    figures
}

/// The relay: the worker's consumer, decoding and outbox with no stage between them, on a
/// thread and runtime of its own as the stage loop is, the outbox on the caller's runtime
/// as the worker's. Each event's one output is a score update of its debtor, held and
/// handed over as the stage loop hands its outputs over (`Outbox::hold`);
/// the input is acked every [`WorkerConfig::checkpoint_every`] events, as checkpoints
/// ack it. Fed at the paced rate, its latency is what the broker and the worker's I/O
/// take on this machine at that rate, beside the other threads: the floor under the
/// worker's.
struct Relay {
    stop: tokio::sync::oneshot::Sender<()>,
    /// The stream sequence of the last event whose output was handed over.
    processed: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<()>,
}

impl Relay {
    /// Starts the relay on the input stream of `subjects`, from its first event.
    async fn start(js: &jetstream::Context, subjects: &Subjects) -> Relay {
        let config = config(subjects);
        let consumer = broker::worker_consumer(js, subjects, "relay", 0, config.max_ack_pending())
            .await
            .expect("the relay's consumer");
        let messages = broker::worker_messages(&consumer, config.batch_max)
            .await
            .expect("the relay's pull");
        let outbox = Outbox::start(
            js.clone(),
            subjects.clone(),
            config.score_updates_per_message,
        );
        let processed = Arc::new(AtomicU64::new(0));
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let handed = processed.clone();
        let thread = on_own_thread("relay", move || {
            relay(messages, outbox, config, stopped, handed)
        });
        Relay {
            stop,
            processed,
            thread,
        }
    }

    /// Waits until the relay has handed over the output of the event at `last`; fails
    /// after two minutes without progress.
    async fn wait_processed(&self, last: u64) {
        let (mut seen, mut since) = (0, Instant::now());
        loop {
            let now = self.processed.load(Ordering::Acquire);
            if now >= last {
                return;
            }
            if now > seen {
                (seen, since) = (now, Instant::now());
            }
            assert!(
                since.elapsed() < Duration::from_secs(120),
                "the relay made no progress for two minutes (at {now} of {last})"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops the relay once every output it handed over is stored.
    fn stop(self) {
        let _ = self.stop.send(());
        self.thread.join().expect("the relay ends");
    }
}

/// The relay's loop (see [`Relay`]).
async fn relay(
    messages: jetstream::consumer::pull::Stream,
    mut outbox: Outbox,
    config: WorkerConfig,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
    processed: Arc<AtomicU64>,
) {
    let mut batches = messages.ready_chunks(config.batch_max);
    let mut unacked = 0;
    loop {
        let batch = tokio::select! {
            biased;
            _ = &mut stopped => break,
            batch = pipeline::spin::Spin::new(batches.next(), config.spin) => batch.expect("the relay's message stream ends only when dropped"),
        };
        let size = batch.len() as u64;
        let mut tail = None;
        for message in batch {
            let Ok(message) = message else {
                continue;
            };
            let event = Envelope::decode(&message.payload, config.max_event_bytes)
                .expect("the paced events decode");
            outbox
                .hold(vec![standing_update(&event)])
                .await
                .expect("handed over");
            tail = Some(message);
        }
        outbox.hand_over().await.expect("handed over");
        let Some(tail) = tail else {
            continue;
        };
        let sequence = tail.info().expect("message info").stream_sequence;
        unacked += size;
        if unacked >= config.checkpoint_every {
            tail.ack().await.expect("ack");
            unacked = 0;
        }
        processed.store(sequence, Ordering::Release);
    }
    outbox.stored().await.expect("the relay's outputs stored");
}

/// The relay's output for `event`: a score update of its debtor, balances at zero.
fn standing_update(event: &Envelope) -> events::OutputEnvelope {
    events::OutputEnvelope {
        schema_version: events::CURRENT_SCHEMA_VERSION,
        output_id: format!("score_update:{}", event.event_id),
        event_time: event.event_time,
        cause_event_id: event.event_id.clone(),
        debtor_id: event.event.debtor_id().map(str::to_owned),
        output: events::Output::ScoreUpdate(events::ScoreUpdate {
            currency: events::Currency::EUR,
            open_balance: Decimal::ZERO,
            overdue_balance: Decimal::ZERO,
            max_days_past_due: 0,
            unapplied_credit: Decimal::ZERO,
            credit_limit: None,
            exposure_above_limit: false,
            probability_late: None,
            risk_class: None,
            recommended_limit: None,
            model_version: None,
            challenger: None,
            reason: "relayed".into(),
        }),
    }
}

/// 3., the floor: the relay fed the paced run's events at `rate` on `subjects` (streams
/// of their own), with the same publisher and listener; its latency figures.
async fn relay_paced(
    js: &jetstream::Context,
    (url, server): (&str, u32),
    worker_js: &jetstream::Context,
    subjects: &Subjects,
    rate: u64,
    events: &[Envelope],
) -> PacedFigures {
    broker::ensure_streams(js, subjects).await.expect("streams");
    let relay = Relay::start(worker_js, subjects).await;
    let paced = paced_events(events, rate);
    let m = paced.len() as u64;
    let run = PacedRun::start(url, subjects, &paced, server).await;
    let (publishing, last) = run.publish(url, subjects, paced, rate).await;
    relay.wait_processed(last).await;
    let (relay_cpu, relay_waits) = run.cpu(m);
    run.settle().await;
    relay.stop();
    let latencies = run.finish().all;
    println!(
        "relay at {rate} events/s       {m} events published in {:7.3} s; {} caused outputs (the consumer, decoding and outbox without the stages)",
        publishing.as_secs_f64(),
        latencies.len()
    );
    println!("  {relay_cpu} (the paced publisher and the listener included)");
    println!("  {relay_waits}");
    let figures = PacedFigures::of(&latencies);
    println!("relay latency (the floor)   {figures}");
    figures
}

/// 2.: the pipeline over the whole stream as fast as it can, then (with deltas) its replay.
async fn as_fast(
    js: &jetstream::Context,
    (worker_js, checkpoint_js): (&jetstream::Context, &jetstream::Context),
    subjects: &Subjects,
    deltas: bool,
    (n, last): (u64, u64),
    raw_rate: f64,
    server: u32,
) {
    let config = |subjects: &Subjects| WorkerConfig {
        checkpoint_deltas: deltas,
        ..config(subjects)
    };
    let registry = prometheus::Registry::new();
    let metrics = Arc::new(PipelineMetrics::new(&registry).expect("metrics"));
    let t = Instant::now();
    let cpu = benches::CpuSpan::start(server);
    let mut handle = worker::start_with_checkpoints(
        worker_js.clone(),
        checkpoint_js.clone(),
        config(subjects),
        metrics.clone(),
    )
    .await
    .expect("worker");
    wait_processed(&mut handle, last, &metrics).await;
    let full = t.elapsed();
    // Up to the last event processed, as the rate (stopping writes a last checkpoint).
    let waits = cpu.waits();
    let cpu = cpu.report(full.as_secs_f64(), n);
    handle.stop().await.expect("stops");
    // Handed to the outbox; all stored once the worker has stopped.
    let outputs = metrics.outputs_total();
    let messages = output_messages(js, subjects).await;
    let full_rate = n as f64 / full.as_secs_f64();
    println!(
        "pipeline, as fast as it can {n} events in {:7.3} s = {full_rate:9.0} events/s in, {:9.0} outputs/s out ({outputs} outputs in {messages} messages); {:.1} % of the raw consume rate",
        full.as_secs_f64(),
        outputs as f64 / full.as_secs_f64(),
        100.0 * full_rate / raw_rate
    );
    println!("  {cpu}");
    println!("  {waits}");
    checkpoint_summary(&metrics);
    if deltas {
        replay(js, subjects, &config(subjects), full_rate, outputs, server).await;
    }
}

/// What the worker did in one second of the paced run (differences of its metrics).
#[derive(Debug, Clone, Copy, Default)]
struct Second {
    checkpoints: u64,
    folds: u64,
    pause_ms: f64,
    /// Waiting at checkpoints before the pause (outputs stored, the previous written).
    wait_ms: f64,
    score_point_ms: f64,
    /// Time the stage loop spent processing micro-batches of input (score points included).
    busy_ms: f64,
    /// Debtors scored.
    scored: u64,
    /// Debtors waiting for a score at the end of the second.
    waiting: i64,
    /// Events published (at the pace) but not yet processed, at the end of the second.
    backlog: i64,
    /// The stage loop's thread: on a core, and waiting for one while runnable.
    stage_loop: benches::SchedTimes,
    /// Pages the stage loop's thread and the whole process faulted in.
    faults: (u64, u64),
}

/// Samples the worker's metrics into `sink` every second of the paced run (until aborted).
async fn sample_timeline(
    metrics: Arc<PipelineMetrics>,
    status: tokio::sync::watch::Receiver<worker::WorkerStatus>,
    started: Instant,
    rate: u64,
    sink: Arc<Mutex<Vec<Second>>>,
) {
    let read = |m: &PipelineMetrics| {
        (
            m.checkpoints.get(),
            m.checkpoint_compactions.get(),
            m.checkpoint_pause_seconds.get_sample_sum(),
            m.models_score_point_seconds.get_sample_sum(),
            m.checkpoint_wait_seconds.get_sample_sum(),
            m.models_scored_debtors.get(),
            m.batch_seconds.get_sample_sum(),
        )
    };
    let stage_loop = || -> benches::SchedTimes {
        benches::thread_times(None)
            .into_values()
            .filter(|(name, _)| name == "stage-loop")
            .map(|(_, times)| times)
            .sum()
    };
    let mut last = read(&metrics);
    let mut last_loop = stage_loop();
    let mut last_faults = benches::minor_faults("stage-loop");
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::from_std(started) + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    loop {
        tick.tick().await;
        let now = read(&metrics);
        let now_loop = stage_loop();
        let now_faults = benches::minor_faults("stage-loop");
        let published = (started.elapsed().as_secs_f64() * rate as f64) as i64;
        let processed = status.borrow().processed_sequence as i64;
        sink.lock().expect("lock").push(Second {
            checkpoints: now.0 - last.0,
            folds: now.1 - last.1,
            pause_ms: (now.2 - last.2) * 1e3,
            wait_ms: (now.4 - last.4) * 1e3,
            score_point_ms: (now.3 - last.3) * 1e3,
            scored: now.5 - last.5,
            busy_ms: (now.6 - last.6) * 1e3,
            waiting: metrics.models_debtors_waiting.get(),
            backlog: published - processed,
            stage_loop: now_loop.since(last_loop),
            faults: (
                now_faults.0.saturating_sub(last_faults.0),
                now_faults.1.saturating_sub(last_faults.1),
            ),
        });
        last = now;
        last_loop = now_loop;
        last_faults = now_faults;
    }
}

/// One line per second of the paced run: the slowest latency of the events published in
/// it beside what the worker did (to tell a checkpoint's pause, a fold, a score point and
/// plain backlog apart).
fn print_timeline(worst: &std::collections::BTreeMap<u64, f64>, timeline: &[Second]) {
    println!(
        "  second  max latency  checkpoints  folds  pause    wait     busy  (on a core  waiting)  score points  scored  waiting  backlog (events)  faults (loop / all)"
    );
    for (second, s) in timeline.iter().enumerate() {
        // Only the seconds events were published in.
        let Some(latency) = worst.get(&(second as u64)).copied() else {
            continue;
        };
        println!(
            "  {second:6}  {latency:8.0} ms  {:11}  {:5}  {:4.0} ms  {:4.0} ms  {:4.0} ms  ({:6.0} ms  {:4.0} ms)  {:9.0} ms  {:6}  {:7}  {:8}  {:7} / {:7}",
            s.checkpoints,
            s.folds,
            s.pause_ms,
            s.wait_ms,
            s.busy_ms,
            s.stage_loop.on_core * 1e3,
            s.stage_loop.waiting * 1e3,
            s.score_point_ms,
            s.scored,
            s.waiting,
            s.backlog,
            s.faults.0,
            s.faults.1
        );
    }
}

/// The checkpoints of a run: writes beside the stages, bases, the stage loop's pauses.
fn checkpoint_summary(metrics: &PipelineMetrics) {
    let pauses = &metrics.checkpoint_pause_seconds;
    println!(
        "  checkpoints: {} written in {:.1} s beside the stages (the last {:.1} MB), {} folded into a base (the last {:.1} MB); the stage loop paused {:.2} s for them ({:.1} ms each)",
        metrics.checkpoints.get(),
        metrics.checkpoint_seconds.get_sample_sum(),
        metrics.checkpoint_bytes.get() as f64 / 1e6,
        metrics.checkpoint_compactions.get(),
        metrics.checkpoint_base_bytes.get() as f64 / 1e6,
        pauses.get_sample_sum(),
        1e3 * pauses.get_sample_sum() / pauses.get_sample_count().max(1) as f64
    );
}
