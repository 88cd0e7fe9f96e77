//! The stage loop: pull a micro-batch of input from JetStream, decode it (bad input to the
//! dead-letter subject), run the stages, publish the outputs with deterministic message
//! ids, checkpoint, and only then ack.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::header::NATS_MESSAGE_ID;
use async_nats::jetstream::{self, message::PublishMessage};
use events::{Envelope, InputEvent, Subjects, subjects as subj};
use futures::StreamExt;
use tokio::sync::watch;

use crate::broker;
use crate::checkpoint::{Chain, CheckpointStore, CheckpointWriter, Written};
use crate::error::PipelineError;
use crate::metrics::PipelineMetrics;
use crate::outbox::Outbox;
use crate::registry::Registry;
use crate::spin::Spin;
use crate::stages::Stages;

/// Most score updates in one message by default (see
/// [`WorkerConfig::score_updates_per_message`]).
pub const DEFAULT_SCORE_UPDATES_PER_MESSAGE: usize = 256;

/// Knobs of the stage loop.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Subject layout.
    pub subjects: Subjects,
    /// Name of this worker (durable consumer `<prefix>-worker-<name>`, checkpoint object).
    pub name: String,
    /// Largest micro-batch.
    pub batch_max: usize,
    /// Largest accepted input message.
    pub max_event_bytes: usize,
    /// Most score updates in one message on a `scores` subject (see
    /// [`events::output_lines`]): those of one subject that the outbox finds handed over
    /// together go out together; 1 publishes each alone.
    pub score_updates_per_message: usize,
    /// Checkpoint at least every this many input messages...
    pub checkpoint_every: u64,
    /// ...or this often, whichever comes first (and whenever the input goes quiet); when
    /// checkpoints are slow they are spaced so that they take about a tenth of the time
    /// (see `checkpoint_due`).
    pub checkpoint_interval: Duration,
    /// Checkpoints as deltas written beside the stage loop (the default), or the whole
    /// state written while the loop waits (as before format 4; for comparison, and for a
    /// state that is mostly rewritten between checkpoints anyway). See
    /// [`crate::checkpoint`].
    pub checkpoint_deltas: bool,
    /// How long without input counts as quiet.
    pub idle: Duration,
    /// How long the stage loop keeps looking for input once it runs dry, yielding its
    /// core to any thread with work, before it sleeps (see [`crate::spin`]): woken from a
    /// sleep its caches are cold. Zero sleeps at once.
    pub spin: Duration,
    /// Feature definitions (checked and compiled at start).
    pub feature_definitions: features::Definitions,
    /// Feature micro-batching and lateness.
    pub features: features::FeatureConfig,
    /// Where to archive input events (Parquet), if anywhere.
    pub archive_dir: Option<std::path::PathBuf>,
    /// Score points and the credit-limit policy.
    pub scoring: crate::scoring::ScoringConfig,
    /// The model registry to load activated versions from: a directory, or (by default)
    /// the `<prefix>-models` object store of the worker's own JetStream.
    pub registry_dir: Option<std::path::PathBuf>,
    /// Where the task API reads the task list (updated at each checkpoint), if one is
    /// served.
    pub task_board: Option<Arc<crate::task_api::TaskBoard>>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            subjects: Subjects::default(),
            name: "all".into(),
            batch_max: 1000,
            max_event_bytes: events::DEFAULT_MAX_EVENT_BYTES,
            score_updates_per_message: DEFAULT_SCORE_UPDATES_PER_MESSAGE,
            checkpoint_every: 20_000,
            checkpoint_interval: Duration::from_secs(2),
            checkpoint_deltas: true,
            idle: Duration::from_millis(100),
            spin: Duration::from_micros(DEFAULT_SPIN_MICROS),
            feature_definitions: features::Definitions::builtin()
                .expect("the built-in feature definitions parse"),
            features: features::FeatureConfig::default(),
            archive_dir: None,
            scoring: crate::scoring::ScoringConfig::default(),
            registry_dir: None,
            task_board: None,
        }
    }
}

impl WorkerConfig {
    /// Checks the knobs, naming the bad one.
    pub fn check(&self) -> Result<(), PipelineError> {
        let bad = |name, reason: &str| {
            Err(PipelineError::InvalidOption {
                name,
                reason: reason.into(),
            })
        };
        if self.batch_max == 0 || self.batch_max > 10_000 {
            return bad("batch size", "must be between 1 and 10000");
        }
        if self.max_event_bytes < 256 || self.max_event_bytes > 1024 * 1024 {
            return bad(
                "max event bytes",
                "must be between 256 and 1048576 (the server's limit)",
            );
        }
        if self.score_updates_per_message == 0 || self.score_updates_per_message > 1000 {
            return bad("score updates per message", "must be between 1 and 1000");
        }
        self.scoring.check()?;
        if self.spin > Duration::from_micros(MAX_SPIN_MICROS) {
            return bad("spin", "must be at most 10000 microseconds");
        }
        if self.checkpoint_every == 0 || self.checkpoint_every > 1_000_000 {
            return bad("checkpoint every", "must be between 1 and 1000000 messages");
        }
        if self.name.is_empty()
            || !self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return bad("worker name", "letters, digits, '-' and '_' only");
        }
        Ok(())
    }

    /// Input messages delivered and not yet acked, at most, for the worker's consumer:
    /// room for the checkpoints' pacing (see `checkpoint_due`), since acks wait for a
    /// checkpoint.
    pub fn max_ack_pending(&self) -> i64 {
        i64::try_from(
            self.checkpoint_every
                .saturating_mul(CHECKPOINT_BACKLOG_FACTOR + 2),
        )
        .unwrap_or(i64::MAX)
        .saturating_add(self.batch_max as i64 * 4)
    }
}

/// How long the stage loop looks for input before it sleeps, by default, in microseconds
/// ([`WorkerConfig::spin`]). Ten times the gap between two events at 10,000 events/s:
/// where events come closer than this, the stage loop's thread never sleeps (its core
/// shows busy, yielded to any other thread with work at each turn). Paced at 10,000
/// events/s (docs/operations.md, Spinning before sleeping) it cut the stage loop's time in
/// batches by about a tenth; p99 moved less than this machine's spread.
pub const DEFAULT_SPIN_MICROS: u64 = 1000;

/// The longest spin allowed, in microseconds.
pub const MAX_SPIN_MICROS: u64 = 10_000;

/// What the worker has done, for the demo's summary and for tests to wait on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerStatus {
    /// Last input stream sequence processed (its outputs sent; stored by the server at the
    /// latest when the next checkpoint is written).
    pub processed_sequence: u64,
    /// Last input stream sequence checkpointed and acked.
    pub checkpointed_sequence: u64,
    /// Debtors in the ledger.
    pub debtors: u64,
}

/// A running worker's handle: its status and a way to stop it.
pub struct WorkerHandle {
    /// Status updates.
    pub status: watch::Receiver<WorkerStatus>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    stage_loop: StageLoop,
}

/// The stage loop's thread, seen from the handle.
struct StageLoop {
    /// Ends the stage loop the next time it waits, as a crash would.
    kill: Option<tokio::sync::oneshot::Sender<()>>,
    /// How it ended.
    done: tokio::sync::oneshot::Receiver<Result<(), PipelineError>>,
    thread: std::thread::JoinHandle<()>,
}

impl StageLoop {
    /// Waits for the stage loop to end, with how it ended.
    async fn ended(&mut self) -> Result<(), PipelineError> {
        match (&mut self.done).await {
            Ok(r) => r,
            Err(_) => Err(PipelineError::Internal(
                "the stage loop's thread ended without a word".into(),
            )),
        }
    }
}

impl WorkerHandle {
    /// Waits until `done(status)` holds, or fails after `timeout`.
    pub async fn wait_for(
        &mut self,
        timeout: Duration,
        mut done: impl FnMut(&WorkerStatus) -> bool,
    ) -> Result<WorkerStatus, PipelineError> {
        let wait = self.status.wait_for(|s| done(s));
        match tokio::time::timeout(timeout, wait).await {
            Ok(Ok(s)) => Ok(*s),
            Ok(Err(_)) => Err(PipelineError::js(
                "worker",
                "stopped before the condition held",
            )),
            Err(_) => Err(PipelineError::js(
                "worker",
                format!("condition not met within {timeout:?}"),
            )),
        }
    }

    /// Is the worker still running?
    pub fn is_running(&self) -> bool {
        !self.stage_loop.thread.is_finished()
    }

    /// Stops gracefully: finishes the batch in hand, checkpoints, acks.
    pub async fn stop(mut self) -> Result<(), PipelineError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.stage_loop.ended().await
    }

    /// Stops at once, as a crash would: nothing more is published, checkpointed or acked
    /// once it returns (the stage loop ends the next time it waits, as an aborted task
    /// would; outputs not yet handed to the outbox are dropped with it).
    pub async fn kill(mut self) {
        if let Some(kill) = self.stage_loop.kill.take() {
            let _ = kill.send(());
        }
        let _ = self.stage_loop.ended().await;
    }

    /// Waits for the worker to end by itself (it only does on an error). Call it once,
    /// and not together with [`WorkerHandle::stop`].
    pub async fn wait(&mut self) -> Result<(), PipelineError> {
        self.stage_loop.ended().await
    }
}

/// A checkpoint costs the stage loop a pause (the copy of the state it writes, the gauges
/// refreshed) and the machine a write beside it (encoding, storing, and now and then
/// folding the deltas into a new base, which costs the whole state: 120 MB for 10,000
/// debtors over a year). After one, the next waits at least 9 times its pause, so that
/// pauses take at most a tenth of the loop's time, and `WRITE_SPACING` times its write,
/// so that writing takes at most a quarter of a core. They still come at least
/// every `CHECKPOINT_MAX_GAP` (the consumer redelivers what is not acked within a minute)
/// and before `CHECKPOINT_BACKLOG_FACTOR` × `checkpoint_every` events wait for their ack.
const CHECKPOINT_MAX_GAP: Duration = Duration::from_secs(30);
/// See [`CHECKPOINT_MAX_GAP`].
const CHECKPOINT_BACKLOG_FACTOR: u64 = 8;
/// See [`CHECKPOINT_MAX_GAP`].
const WRITE_SPACING: u32 = 4;

/// What the last checkpoint cost.
#[derive(Debug, Clone, Copy, Default)]
struct CheckpointCost {
    /// The stage loop's pause.
    pause: Duration,
    /// The write beside it (zero until it is done).
    write: Duration,
}

impl CheckpointCost {
    /// The least time from this checkpoint to the next (see [`CHECKPOINT_MAX_GAP`]).
    fn spacing(&self) -> Duration {
        self.pause
            .saturating_mul(9)
            .max(self.write.saturating_mul(WRITE_SPACING))
    }
}

/// Whether a checkpoint is due after a batch.
fn checkpoint_due(
    events: u64,
    elapsed: Duration,
    spacing: Duration,
    config: &WorkerConfig,
) -> bool {
    let asked = events >= config.checkpoint_every || elapsed >= config.checkpoint_interval;
    let affordable = elapsed >= spacing;
    (asked && affordable) || checkpoint_forced(events, elapsed, config)
}

/// Whether a checkpoint must come now, however long the last one took.
fn checkpoint_forced(events: u64, elapsed: Duration, config: &WorkerConfig) -> bool {
    events
        >= config
            .checkpoint_every
            .saturating_mul(CHECKPOINT_BACKLOG_FACTOR)
        || elapsed >= CHECKPOINT_MAX_GAP
}

/// Starts a worker: loads its checkpoint, positions its consumer after it, and runs the
/// stage loop on a thread of its own (`stage-loop`). Checkpoints go through `js` too: see
/// [`start_with_checkpoints`] to keep them off the connection that carries the events and
/// the outputs.
pub async fn start(
    js: jetstream::Context,
    config: WorkerConfig,
    metrics: Arc<PipelineMetrics>,
) -> Result<WorkerHandle, PipelineError> {
    start_with_checkpoints(js.clone(), js, config, metrics).await
}

/// Starts a worker as [`start`] does, reading and writing its checkpoints through
/// `checkpoint_js` (a connection of their own). A checkpoint is tens of megabytes, and
/// folding deltas rewrites a base of a hundred or more: on the connection that fetches
/// the events and publishes the outputs they would queue ahead of both for as long as
/// they take to send.
pub async fn start_with_checkpoints(
    js: jetstream::Context,
    checkpoint_js: jetstream::Context,
    config: WorkerConfig,
    metrics: Arc<PipelineMetrics>,
) -> Result<WorkerHandle, PipelineError> {
    config.check()?;
    broker::ensure_streams(&js, &config.subjects).await?;
    let checkpoints =
        CheckpointStore::open(&checkpoint_js, config.subjects.prefix(), &config.name).await?;
    let (mut stages, sequence, chain) = match checkpoints.load().await? {
        Some((c, chain)) => (c.stages, c.sequence, chain),
        None => (Stages::default(), 0, Chain::default()),
    };
    stages.configure_features(config.feature_definitions.clone(), config.features.clone())?;
    stages.configure_scoring(config.scoring.clone())?;
    stages.check_restored_models()?;
    // What the checkpoint holds is written; from here on the changes are remembered.
    if config.checkpoint_deltas {
        stages.start_journal();
    }
    let registry = match &config.registry_dir {
        Some(dir) => Registry::Directory(dir.clone()),
        None => Registry::object_store(&js, config.subjects.prefix()).await?,
    };
    observe_models(&metrics, &stages);
    if let Some(board) = &config.task_board {
        board.update(&stages);
    }
    let archive = match &config.archive_dir {
        Some(dir) => Some(crate::archive::Archive::open(dir)?),
        None => None,
    };
    let durable = format!("{}-worker-{}", config.subjects.prefix(), config.name);
    let consumer = broker::worker_consumer(
        &js,
        &config.subjects,
        &durable,
        sequence,
        config.max_ack_pending(),
    )
    .await?;
    let (status_tx, status) = watch::channel(WorkerStatus {
        processed_sequence: sequence,
        checkpointed_sequence: sequence,
        debtors: stages.ledger().debtor_count() as u64,
    });
    metrics.checkpointed_sequence.set(sequence as i64);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    let scoring_errors_seen = stages.models().errors().0;
    let worker = Worker {
        io: tokio::runtime::Handle::current(),
        client: js.client(),
        outbox: Outbox::start(
            js,
            config.subjects.clone(),
            config.score_updates_per_message,
        ),
        config,
        metrics,
        writer: Some(CheckpointWriter::new(checkpoints, chain)),
        writing: None,
        stages,
        sequence,
        checkpointed: sequence,
        unacked: None,
        features_waiting_since: None,
        archive,
        scoring_errors_seen,
        registry,
        since_checkpoint: 0,
        last_checkpoint: Instant::now(),
        last_checkpoint_cost: CheckpointCost::default(),
        status: status_tx,
    };
    let messages = broker::worker_messages(&consumer, worker.config.batch_max).await?;
    // The lag is read by a task of its own, so that a worker stuck in a batch still
    // shows a growing lag (the stalled-pipeline alert relies on it).
    let lag = AbortOnDrop(tokio::spawn(watch_lag(consumer, worker.metrics.clone())));
    let stage_loop = spawn_stage_loop(worker, messages, stop_rx, lag)?;
    Ok(WorkerHandle {
        status,
        stop: Some(stop_tx),
        stage_loop,
    })
}

/// Runs the stage loop on a thread of its own, in a runtime of its own that runs nothing
/// else: its work is a core's worth of computing between awaits, which on a worker of the
/// caller's runtime would hold up the tasks queued there (the outbox, the connections'
/// reading and writing, the checkpoints' writing) and be held up by them in turn. Those
/// stay on the caller's runtime, where the worker spawns its own tasks too.
fn spawn_stage_loop(
    worker: Worker,
    messages: jetstream::consumer::pull::Stream,
    stop: tokio::sync::oneshot::Receiver<()>,
    lag: AbortOnDrop<()>,
) -> Result<StageLoop, PipelineError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| PipelineError::Internal(format!("starting the stage loop's runtime: {e}")))?;
    let (kill, killed) = tokio::sync::oneshot::channel();
    let (ended, done) = tokio::sync::oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("stage-loop".into())
        .spawn(move || {
            let _lag = lag;
            let run = std::panic::AssertUnwindSafe(|| {
                runtime.block_on(async move {
                    tokio::select! {
                        biased;
                        // A handle dropped without a word leaves the worker running.
                        Ok(()) = killed => Ok(()),
                        result = worker.run(messages, stop) => result,
                    }
                })
            });
            let result = std::panic::catch_unwind(run).unwrap_or_else(|panic| {
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(PipelineError::Internal(format!(
                    "the stage loop panicked: {why}"
                )))
            });
            let _ = ended.send(result);
        })
        .map_err(|e| PipelineError::Internal(format!("starting the stage loop's thread: {e}")))?;
    Ok(StageLoop {
        kill: Some(kill),
        done,
        thread,
    })
}

/// Sets the active-model metric from the stages.
fn observe_models(metrics: &PipelineMetrics, stages: &Stages) {
    let models = stages.models();
    crate::metrics::set_active_models(
        metrics,
        models.champion().map(|m| m.version.as_str()),
        models.challenger().map(|m| m.version.as_str()),
    );
}

/// Counts an activation's outcome from the alert it raised.
fn observe_activation(metrics: &PipelineMetrics, outputs: &[events::OutputEnvelope]) {
    for o in outputs {
        if let events::Output::Alert(a) = &o.output {
            let outcome = match a.kind {
                events::AlertKind::ModelActivated => "taken",
                events::AlertKind::ModelRefused => {
                    tracing::warn!(summary = %a.summary, "model activation refused");
                    "refused"
                }
                _ => continue,
            };
            metrics
                .models_activations
                .with_label_values(&[outcome])
                .inc();
        }
    }
}

/// Aborts a task when dropped, also when the worker itself is aborted.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Sets the consumer-lag gauge from the server's view of the consumer, every second.
async fn watch_lag(consumer: jetstream::consumer::PullConsumer, metrics: Arc<PipelineMetrics>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Ok(info) = consumer.get_info().await {
            metrics.consumer_lag.set(info.num_pending as i64);
        }
    }
}

/// What the task writing a checkpoint gives back: the writer and how the write went.
type WriteResult = (CheckpointWriter, Result<Written, PipelineError>);

/// A checkpoint being written by its own task while the stages run on.
struct Writing {
    task: AbortOnDrop<WriteResult>,
    /// The input message acked once it is written, and its sequence.
    message: jetstream::Message,
    sequence: u64,
    started: Instant,
}

/// Waits for the checkpoint being written, if any (otherwise forever).
async fn written(writing: &mut Option<Writing>) -> Result<WriteResult, tokio::task::JoinError> {
    match writing {
        Some(w) => (&mut w.task.0).await,
        None => std::future::pending().await,
    }
}

/// The dead letter of the input message `payload`, stored at `sequence` on `subject`:
/// its bytes as received, with why, where and which in headers. An input within a few
/// hundred bytes of the server's `max_payload` would not fit with those headers: its dead
/// letter then goes without the bytes and gives their size
/// ([`subj::HEADER_DLQ_PAYLOAD_OMITTED`]); the input stream keeps them at the sequence
/// named, so nothing is lost.
fn dead_letter(
    payload: &bytes::Bytes,
    subject: &str,
    sequence: u64,
    error: &events::DecodeError,
    max_payload: usize,
) -> PublishMessage {
    let detail: String = error
        .detail
        .chars()
        .filter(|c| !c.is_control())
        .take(512)
        .collect();
    let message_id = NATS_MESSAGE_ID;
    let mut headers = vec![
        (message_id.as_ref(), format!("dlq:{sequence}")),
        (subj::HEADER_DLQ_REASON, error.reason.as_str().to_owned()),
        (subj::HEADER_DLQ_DETAIL, detail),
        (subj::HEADER_DLQ_SUBJECT, subject.to_owned()),
        (subj::HEADER_DLQ_SEQUENCE, sequence.to_string()),
    ];
    if let Some(id) = &error.event_id {
        headers.push((subj::HEADER_DLQ_EVENT_ID, id.clone()));
    }
    // The header block as sent: "NATS/1.0\r\n", "<name>: <value>\r\n" each, "\r\n".
    let wire = |headers: &[(&str, String)]| {
        12 + headers
            .iter()
            .map(|(name, value)| name.len() + value.len() + 4)
            .sum::<usize>()
    };
    let mut message = PublishMessage::build();
    if wire(&headers) + payload.len() <= max_payload {
        message = message.payload(payload.clone());
    } else {
        headers.push((subj::HEADER_DLQ_PAYLOAD_OMITTED, payload.len().to_string()));
    }
    for (name, value) in headers {
        message = message.header(name, value.as_str());
    }
    message
}

struct Worker {
    /// The runtime the worker was started on, where its tasks run (the stage loop has a
    /// thread of its own).
    io: tokio::runtime::Handle,
    /// The connection (for the largest message the server takes).
    client: async_nats::Client,
    /// Publishes outputs and dead letters beside the stages.
    outbox: Outbox,
    config: WorkerConfig,
    metrics: Arc<PipelineMetrics>,
    /// Writes checkpoints; `None` while a task has it (`writing`).
    writer: Option<CheckpointWriter>,
    writing: Option<Writing>,
    stages: Stages,
    /// Last stream sequence whose effects are in `stages`.
    sequence: u64,
    /// Last stream sequence checkpointed and acked.
    checkpointed: u64,
    /// The newest message not yet acked (AckAll: acking it acks all before it).
    unacked: Option<jetstream::Message>,
    /// When the oldest event of the feature micro-batch arrived.
    features_waiting_since: Option<Instant>,
    /// Input events archived at each checkpoint.
    archive: Option<crate::archive::Archive>,
    /// Where activated model versions are loaded from.
    registry: Registry,
    /// Scoring errors of the stages already counted in the metric (the stages' count is
    /// checkpointed, the metric starts at zero with the process).
    scoring_errors_seen: u64,
    since_checkpoint: u64,
    last_checkpoint: Instant,
    /// What the last checkpoint cost.
    last_checkpoint_cost: CheckpointCost,
    status: watch::Sender<WorkerStatus>,
}

impl Worker {
    async fn run(
        mut self,
        messages: jetstream::consumer::pull::Stream,
        mut stop: tokio::sync::oneshot::Receiver<()>,
    ) -> Result<(), PipelineError> {
        let mut batches = messages.ready_chunks(self.config.batch_max);
        self.stage_loop(&mut batches, &mut stop).await
    }

    async fn stage_loop(
        &mut self,
        batches: &mut (
                 impl futures::Stream<
            Item = Vec<
                Result<jetstream::Message, async_nats::jetstream::consumer::pull::MessagesError>,
            >,
        > + Unpin
             ),
        stop: &mut tokio::sync::oneshot::Receiver<()>,
    ) -> Result<(), PipelineError> {
        loop {
            tokio::select! {
                biased;
                _ = &mut *stop => {
                    self.checkpoint().await?;
                    self.finish_writing().await?;
                    return Ok(());
                }
                done = written(&mut self.writing), if self.writing.is_some() => {
                    if let Some(writing) = self.writing.take() {
                        self.on_written(writing, done).await?;
                    }
                }
                next = tokio::time::timeout(self.config.idle, Spin::new(batches.next(), self.config.spin)) => match next {
                    Err(_quiet) => {
                        self.flush_features()?;
                        // Not while the previous checkpoint is being written: waiting for
                        // it (a fold takes a second or more) would hold the events that
                        // arrive meanwhile. The next quiet moment after it comes does.
                        if self.unacked.is_some() && self.writing.is_none() {
                            self.checkpoint().await?;
                        }
                    }
                    Ok(None) => return Err(PipelineError::js("pulling input", "the message stream ended")),
                    Ok(Some(batch)) => {
                        self.process(batch).await?;
                        let (events, elapsed) = (self.since_checkpoint, self.last_checkpoint.elapsed());
                        let due = checkpoint_due(events, elapsed, self.last_checkpoint_cost.spacing(), &self.config);
                        // The previous checkpoint still being written, the next waits for
                        // it unless it must not.
                        if due && (self.writing.is_none() || checkpoint_forced(events, elapsed, &self.config)) {
                            self.checkpoint().await?;
                        }
                    }
                },
            }
        }
    }

    async fn process(
        &mut self,
        batch: Vec<
            Result<jetstream::Message, async_nats::jetstream::consumer::pull::MessagesError>,
        >,
    ) -> Result<(), PipelineError> {
        let started = Instant::now();
        let mut size = 0_u64;
        for message in batch {
            let message = match message {
                Ok(m) => m,
                // Missed heartbeats and the like: the stream recovers by itself; what was
                // not processed is not acked and comes again.
                Err(e) => {
                    tracing::warn!(error = %e, "pulling input");
                    continue;
                }
            };
            let info = message
                .info()
                .map_err(|e| PipelineError::js("reading message info", e))?;
            let sequence = info.stream_sequence;
            if sequence <= self.sequence {
                // Delivered again (ack wait expired during a long pause): its effects are
                // already in the state. Ack it now if they are checkpointed too; otherwise
                // the next checkpoint's ack of a newer message covers it.
                self.metrics.redelivered.inc();
                if sequence <= self.checkpointed {
                    message
                        .ack()
                        .await
                        .map_err(|e| PipelineError::js("acking input", e))?;
                }
                continue;
            }
            size += 1;
            self.metrics
                .ingest_delay
                .observe(crate::metrics::delay_since(
                    info.published.unix_timestamp_nanos(),
                    std::time::SystemTime::now(),
                ));
            match Envelope::decode(&message.payload, self.config.max_event_bytes) {
                Ok(event) => {
                    self.metrics
                        .events
                        .with_label_values(&[event.event.kind().as_str()])
                        .inc();
                    if let Some(archive) = &mut self.archive {
                        archive.push(sequence, &event, &message.payload);
                    }
                    self.registry
                        .offer_activation(&mut self.stages, &event)
                        .await?;
                    let flush_started = Instant::now();
                    let processed = self.stages.process_with_effects(&event)?;
                    let (errors, why) = self.stages.models().errors();
                    if errors > self.scoring_errors_seen {
                        let failed = errors - self.scoring_errors_seen;
                        tracing::warn!(failed, reason = why.unwrap_or(""), "scoring failed");
                        self.metrics.models_scoring_errors.inc_by(failed);
                        self.scoring_errors_seen = errors;
                    }
                    if processed.scored > 0 {
                        self.metrics
                            .models_score_point_seconds
                            .observe(flush_started.elapsed().as_secs_f64());
                        self.metrics
                            .models_scored_debtors
                            .inc_by(processed.scored as u64);
                    }
                    self.metrics
                        .models_debtors_waiting
                        .set(self.stages.models().waiting() as i64);
                    if let InputEvent::ModelActivated(_) = &event.event {
                        observe_activation(&self.metrics, &processed.outputs);
                        observe_models(&self.metrics, &self.stages);
                    }
                    if let Some(report) = &processed.features {
                        self.observe_features(report, flush_started);
                    } else if self.features_waiting_since.is_none() {
                        self.features_waiting_since = Some(Instant::now());
                    }
                    for effect in &processed.effects {
                        crate::metrics::observe_ledger(&self.metrics, effect);
                    }
                    for output in &processed.outputs {
                        self.metrics
                            .outputs
                            .with_label_values(&[
                                output.output.family().as_str(),
                                output.output.kind_label(),
                            ])
                            .inc();
                    }
                    self.outbox.hold(processed.outputs).await?;
                }
                Err(error) => {
                    self.metrics
                        .dead_letters
                        .with_label_values(&[error.reason.as_str()])
                        .inc();
                    tracing::info!(reason = error.reason.as_str(), detail = %error.detail, sequence, "dead letter");
                    let publish = dead_letter(
                        &message.payload,
                        &message.subject,
                        sequence,
                        &error,
                        self.client.max_payload(),
                    );
                    // After the outputs of the events before it (handed over first).
                    self.outbox
                        .message(self.config.subjects.dead_letter(error.reason), publish)
                        .await?;
                }
            }
            self.sequence = sequence;
            self.unacked = Some(message);
        }
        self.outbox.hand_over().await?;
        let delay = Duration::from_millis(self.config.features.batch_max_delay_ms);
        if self
            .features_waiting_since
            .is_some_and(|t| t.elapsed() >= delay)
        {
            self.flush_features()?;
        }
        self.since_checkpoint += size;
        if size > 0 {
            self.metrics.batch_size.observe(size as f64);
            self.metrics
                .batch_seconds
                .observe(started.elapsed().as_secs_f64());
        }
        let ledger = self.stages.ledger();
        self.metrics.debtors.set(ledger.debtor_count() as i64);
        crate::metrics::refresh_ledger_gauges(&self.metrics, ledger);
        if let Some(clock) = ledger.clock() {
            self.metrics.watermark.set(clock.timestamp());
        }
        self.status.send_modify(|s| {
            s.processed_sequence = self.sequence;
            s.debtors = ledger.debtor_count() as u64;
        });
        Ok(())
    }

    /// Runs the feature micro-batch now (time is up, the input is quiet, or a checkpoint
    /// comes).
    fn flush_features(&mut self) -> Result<(), PipelineError> {
        let started = Instant::now();
        if let Some(report) = self.stages.flush_features()? {
            self.observe_features(&report, started);
        }
        self.features_waiting_since = None;
        Ok(())
    }

    fn observe_features(&mut self, report: &features::FlushReport, started: Instant) {
        crate::metrics::observe_feature_flush(
            &self.metrics,
            report,
            started.elapsed().as_secs_f64(),
            self.stages.features().late_facts(),
        );
        self.features_waiting_since = None;
    }

    async fn checkpoint(&mut self) -> Result<(), PipelineError> {
        if let Some(paused) = self.checkpoint_now().await? {
            let pause = paused.elapsed();
            self.metrics
                .checkpoint_pause_seconds
                .observe(pause.as_secs_f64());
            // The write, when done already (the whole state), counts as well.
            let write = if self.writing.is_some() {
                Duration::ZERO
            } else {
                self.last_checkpoint_cost.write
            };
            self.last_checkpoint_cost = CheckpointCost { pause, write };
        }
        Ok(())
    }

    /// Flushes, writes (or hands to a task) a checkpoint of what is not acked, and acks
    /// when it is stored; returns when the stage loop started pausing for it, if it did.
    async fn checkpoint_now(&mut self) -> Result<Option<Instant>, PipelineError> {
        // The checkpointed state holds every fact of the events it covers, and the archive
        // every event.
        self.flush_features()?;
        if let Some(archive) = &mut self.archive
            && archive.pending() > 0
        {
            archive.write()?;
        }
        // No input is acked before its outputs are stored.
        let waiting = Instant::now();
        self.outbox.stored().await?;
        let Some(last) = self.unacked.take() else {
            return Ok(None);
        };
        // Checkpoints are written in order: the one being written first.
        self.finish_writing().await?;
        self.metrics
            .checkpoint_wait_seconds
            .observe(waiting.elapsed().as_secs_f64());
        let paused = Instant::now();
        let sequence = self.sequence;
        let mut writer = self
            .writer
            .take()
            .ok_or_else(|| PipelineError::Internal("the checkpoint writer is missing".into()))?;
        if self.config.checkpoint_deltas {
            let delta = self.stages.take_delta()?;
            // On the caller's runtime, beside the stage loop.
            let task = self.io.spawn(async move {
                let result = writer.write(sequence, delta).await;
                (writer, result)
            });
            self.writing = Some(Writing {
                task: AbortOnDrop(task),
                message: last,
                sequence,
                started: paused,
            });
        } else {
            // The whole state, written while the stage loop waits.
            let result = writer.write_whole(sequence, &self.stages).await;
            self.writer = Some(writer);
            self.written(result?, last, sequence, paused).await?;
        }
        self.refresh_gauges();
        self.since_checkpoint = 0;
        self.last_checkpoint = Instant::now();
        Ok(Some(paused))
    }

    /// The gauges refreshed at each checkpoint: the portfolio KPIs cost a pass over the
    /// debtors, once per checkpoint rather than per batch.
    fn refresh_gauges(&self) {
        crate::metrics::refresh_portfolio_gauges(&self.metrics, &self.stages.ledger().kpis());
        crate::metrics::set_risk_classes(
            &self.metrics,
            &self.stages.decisions().risk_class_counts(),
        );
        crate::metrics::set_drift(&self.metrics, &self.stages.models().drift());
        crate::metrics::set_open_tasks(&self.metrics, &self.stages.decisions().open_tasks());
        if let Some(board) = &self.config.task_board {
            board.update(&self.stages);
        }
        self.metrics
            .features_state_bytes
            .set(self.stages.features().state_bytes() as i64);
    }

    /// Waits for the checkpoint being written, if any, and acks its input.
    async fn finish_writing(&mut self) -> Result<(), PipelineError> {
        if let Some(mut writing) = self.writing.take() {
            let done = (&mut writing.task.0).await;
            self.on_written(writing, done).await?;
        }
        Ok(())
    }

    /// The task writing a checkpoint is done.
    async fn on_written(
        &mut self,
        writing: Writing,
        done: Result<WriteResult, tokio::task::JoinError>,
    ) -> Result<(), PipelineError> {
        let (writer, result) = done.map_err(|e| PipelineError::js("writing a checkpoint", e))?;
        self.writer = Some(writer);
        self.written(result?, writing.message, writing.sequence, writing.started)
            .await
    }

    /// A checkpoint of the state at `sequence` is stored: its input is acked.
    async fn written(
        &mut self,
        written: Written,
        message: jetstream::Message,
        sequence: u64,
        started: Instant,
    ) -> Result<(), PipelineError> {
        let took = started.elapsed();
        self.last_checkpoint_cost.write = took;
        self.metrics.checkpoints.inc();
        self.metrics.checkpoint_seconds.observe(took.as_secs_f64());
        self.metrics.checkpoint_bytes.set(written.bytes as i64);
        if let Some(base) = written.base {
            self.metrics.checkpoint_base_bytes.set(base as i64);
            if self.config.checkpoint_deltas {
                self.metrics.checkpoint_compactions.inc();
            }
        }
        message
            .ack()
            .await
            .map_err(|e| PipelineError::js("acking input", e))?;
        self.checkpointed = sequence;
        self.metrics.checkpointed_sequence.set(sequence as i64);
        self.status
            .send_modify(|s| s.checkpointed_sequence = sequence);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks `config`: accepted when `ok`, otherwise refused naming `option`.
    fn accepted_or_refused(config: &WorkerConfig, ok: bool, value: &str, option: &str) {
        match config.check() {
            Ok(()) => assert!(ok, "{value} accepted"),
            Err(e) => {
                assert!(!ok, "{value} refused: {e}");
                assert!(e.to_string().contains(option), "{e}");
            }
        }
    }

    #[test]
    fn score_updates_per_message_out_of_range_are_refused_by_name() {
        for (n, ok) in [
            (0, false),
            (1, true),
            (256, true),
            (1000, true),
            (1001, false),
        ] {
            let config = WorkerConfig {
                score_updates_per_message: n,
                ..WorkerConfig::default()
            };
            accepted_or_refused(&config, ok, &n.to_string(), "score updates per message");
        }
    }

    #[test]
    fn a_spin_longer_than_ten_milliseconds_is_refused_by_name() {
        for (micros, ok) in [
            (0, true),
            (DEFAULT_SPIN_MICROS, true),
            (10_000, true),
            (10_001, false),
        ] {
            let config = WorkerConfig {
                spin: Duration::from_micros(micros),
                ..WorkerConfig::default()
            };
            accepted_or_refused(&config, ok, &format!("{micros} µs"), "spin");
        }
    }

    #[test]
    fn slow_checkpoints_are_spaced_but_never_too_far_apart() {
        let config = WorkerConfig::default();
        let s = Duration::from_secs;
        let every = config.checkpoint_every;
        // Cheap checkpoints: as configured.
        assert!(checkpoint_due(every, s(0), Duration::ZERO, &config));
        assert!(checkpoint_due(
            1,
            config.checkpoint_interval,
            Duration::ZERO,
            &config
        ));
        assert!(!checkpoint_due(1, s(1), Duration::ZERO, &config));
        // A pause of a second: the next waits nine; a write of three: twelve.
        let paused = CheckpointCost {
            pause: s(1),
            write: Duration::ZERO,
        };
        assert!(!checkpoint_due(every, s(5), paused.spacing(), &config));
        assert!(checkpoint_due(every, s(9), paused.spacing(), &config));
        let written = CheckpointCost {
            pause: s(1),
            write: s(3),
        };
        assert!(!checkpoint_due(every, s(11), written.spacing(), &config));
        assert!(checkpoint_due(every, s(12), written.spacing(), &config));
        // A backlog of acks or the redelivery deadline forces one.
        assert!(checkpoint_due(
            every * CHECKPOINT_BACKLOG_FACTOR,
            s(1),
            s(10),
            &config
        ));
        assert!(checkpoint_due(1, CHECKPOINT_MAX_GAP, s(10), &config));
    }
}
