//! `creditstream replay`: the same stages as the worker over a log already written — the
//! JetStream input stream or the Parquet event archive — with the event-time clock, as
//! fast as the stages go. Model activations load their version from the registry as the
//! worker does; strategy activations, ticks, task closings and overrides are in the log.
//! So the outputs are the live run's, byte for byte (the live-vs-replay test checks it).
//!
//! `--from-sequence` / `--from-date` choose where outputs start being written; every
//! earlier event is still run, so the state they start from is the live run's. Events the
//! worker would dead-letter are skipped and counted.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use async_nats::jetstream::{self, consumer};
use chrono::NaiveDate;
use clap::Args;
use events::{Envelope, OutputEnvelope};
use futures::StreamExt;

use crate::cli::{NatsArgs, WorkerArgs};
use crate::error::PipelineError;
use crate::registry::Registry;
use crate::stages::Stages;
use crate::worker::WorkerConfig;

/// `creditstream replay`.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// Replay the Parquet event archive in this directory (written by `run --archive-dir`)
    /// instead of the NATS server's input stream.
    #[arg(long, value_name = "DIR")]
    pub archive: Option<PathBuf>,
    /// Write outputs caused by events from this input-stream sequence on (earlier events
    /// still build the state).
    #[arg(long, value_name = "SEQUENCE")]
    pub from_sequence: Option<u64>,
    /// Write outputs caused by events of this event-time date (YYYY-MM-DD) and later.
    #[arg(long, value_name = "DATE")]
    pub from_date: Option<NaiveDate>,
    /// Write the outputs as JSON lines to this file ("-": standard output).
    #[arg(long, value_name = "FILE", required_unless_present = "subject")]
    pub out: Option<PathBuf>,
    /// Publish the outputs on `<SUBJECT>.<family>` (alerts, actions, tasks, scores) of the
    /// NATS server instead.
    #[arg(long, conflicts_with = "out")]
    pub subject: Option<String>,
    /// The NATS server (its input stream, its model registry, and --subject).
    #[command(flatten)]
    pub nats: NatsArgs,
    /// The pipeline's configuration: give the live worker's options (features, score
    /// points, limit policy, registry) so the replay computes what it computed.
    #[command(flatten)]
    pub worker: WorkerArgs,
}

/// What a replay did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplaySummary {
    /// Events run through the stages.
    pub events: u64,
    /// Events the worker would dead-letter, skipped.
    pub skipped: u64,
    /// Outputs written.
    pub outputs: u64,
}

/// Where outputs go.
pub enum Sink {
    /// JSON lines.
    Lines(Box<dyn Write + Send>),
    /// Core NATS publishes on `<prefix>.<family>`.
    Subject(async_nats::Client, String),
}

impl Sink {
    async fn put(&mut self, output: &OutputEnvelope) -> Result<(), PipelineError> {
        match self {
            Sink::Lines(w) => w
                .write_all(&output.to_json())
                .and_then(|()| w.write_all(b"\n"))
                .map_err(|e| PipelineError::Io("writing the replay's outputs".into(), e)),
            Sink::Subject(client, prefix) => {
                let subject = format!("{prefix}.{}", output.output.family().as_str());
                let mut headers = async_nats::HeaderMap::new();
                headers.insert("Nats-Msg-Id", output.output_id.as_str());
                client
                    .publish_with_headers(subject, headers, output.to_json().into())
                    .await
                    .map_err(|e| PipelineError::js("publishing a replayed output", e))
            }
        }
    }

    /// Writes out what is buffered (the file) or sends what is queued (the subject).
    pub async fn finish(&mut self) -> Result<(), PipelineError> {
        match self {
            Sink::Lines(w) => w
                .flush()
                .map_err(|e| PipelineError::Io("writing the replay's outputs".into(), e)),
            Sink::Subject(client, _) => client
                .flush()
                .await
                .map_err(|e| PipelineError::js("flushing replayed outputs", e)),
        }
    }
}

/// The stages a worker with `config` starts from, fresh.
pub fn stages_for(config: &WorkerConfig) -> Result<Stages, PipelineError> {
    let mut stages = Stages::default();
    stages.configure_features(config.feature_definitions.clone(), config.features.clone())?;
    stages.configure_scoring(config.scoring.clone())?;
    Ok(stages)
}

/// Runs the log through the stages: every `(sequence, bytes)` of `log`, in order.
pub struct Replayer<'a> {
    stages: Stages,
    registry: &'a Registry,
    max_event_bytes: usize,
    from_sequence: u64,
    from_date: Option<NaiveDate>,
    summary: ReplaySummary,
}

impl<'a> Replayer<'a> {
    /// A replay with the worker's configuration, writing outputs from the given point.
    pub fn new(
        config: &WorkerConfig,
        registry: &'a Registry,
        from_sequence: Option<u64>,
        from_date: Option<NaiveDate>,
    ) -> Result<Replayer<'a>, PipelineError> {
        Ok(Replayer {
            stages: stages_for(config)?,
            registry,
            max_event_bytes: config.max_event_bytes,
            from_sequence: from_sequence.unwrap_or(0),
            from_date,
            summary: ReplaySummary::default(),
        })
    }

    /// One message of the log.
    pub async fn push(
        &mut self,
        sequence: u64,
        bytes: &[u8],
        sink: &mut Sink,
    ) -> Result<(), PipelineError> {
        let event = match Envelope::decode(bytes, self.max_event_bytes) {
            Ok(e) => e,
            Err(_) => {
                self.summary.skipped += 1;
                return Ok(());
            }
        };
        self.registry
            .offer_activation(&mut self.stages, &event)
            .await?;
        let outputs = self.stages.process(&event)?;
        self.summary.events += 1;
        let write = sequence >= self.from_sequence
            && self
                .from_date
                .is_none_or(|d| event.event_time.date_naive() >= d);
        if write {
            for o in &outputs {
                sink.put(o).await?;
                self.summary.outputs += 1;
            }
        }
        Ok(())
    }

    /// The summary so far.
    pub fn summary(&self) -> &ReplaySummary {
        &self.summary
    }
}

/// Reads the input stream from its first message up to the last one there is now, in
/// order, handing each `(sequence, payload)` to `f`.
pub async fn read_input_stream(
    js: &jetstream::Context,
    subjects: &events::Subjects,
    mut f: impl AsyncFnMut(u64, &[u8]) -> Result<(), PipelineError>,
) -> Result<(), PipelineError> {
    let mut stream = js
        .get_stream(subjects.input_stream())
        .await
        .map_err(|e| PipelineError::js("opening the input stream", e))?;
    let last = stream
        .info()
        .await
        .map_err(|e| PipelineError::js("reading the input stream", e))?
        .state
        .last_sequence;
    if last == 0 {
        return Ok(());
    }
    let reader = stream
        .create_consumer(consumer::pull::Config {
            deliver_policy: consumer::DeliverPolicy::All,
            ack_policy: consumer::AckPolicy::None,
            filter_subject: subjects.input_wildcard(),
            inactive_threshold: std::time::Duration::from_secs(60),
            ..Default::default()
        })
        .await
        .map_err(|e| PipelineError::js("reading the input stream", e))?;
    // Pulled ahead while the stages run, as the worker pulls (the next batch is asked for
    // before this one is used up), rather than a fetch at a time.
    let mut messages = reader
        .stream()
        .max_messages_per_batch(1000)
        .heartbeat(std::time::Duration::from_secs(5))
        .expires(std::time::Duration::from_secs(30))
        .messages()
        .await
        .map_err(|e| PipelineError::js("reading the input stream", e))?;
    while let Some(m) = messages.next().await {
        let m = m.map_err(|e| PipelineError::js("reading the input stream", e))?;
        let info = m
            .info()
            .map_err(|e| PipelineError::js("reading the input stream", e))?;
        let at = info.stream_sequence;
        f(at, &m.payload).await?;
        if at >= last {
            return Ok(());
        }
    }
    Err(PipelineError::Internal(format!(
        "the input stream's messages ended before its last one ({last})"
    )))
}

/// Runs `creditstream replay`.
pub async fn run(args: ReplayArgs) -> Result<(), PipelineError> {
    let subjects = args.nats.subjects();
    let config = args.worker.config(subjects.clone())?;
    let connection = match &args.nats.nats_url {
        Some(url) => Some(crate::broker::connect(&args.nats.options(url.clone())).await?),
        None => None,
    };
    let registry = match (&config.registry_dir, &connection) {
        (Some(dir), _) => Registry::Directory(dir.clone()),
        (None, Some((_, js))) => Registry::object_store(js, subjects.prefix()).await?,
        (None, None) => Registry::Directory(PathBuf::from("models")),
    };
    let mut sink = match (&args.out, &args.subject, &connection) {
        (Some(path), _, _) if path.as_os_str() == "-" => Sink::Lines(Box::new(std::io::stdout())),
        (Some(path), _, _) => {
            let file = std::fs::File::create(path)
                .map_err(|e| PipelineError::Io(format!("creating {}", path.display()), e))?;
            Sink::Lines(Box::new(std::io::BufWriter::new(file)))
        }
        (None, Some(subject), Some((client, _))) => Sink::Subject(client.clone(), subject.clone()),
        _ => {
            return Err(PipelineError::InvalidOption {
                name: "--subject",
                reason: "publishing outputs needs --nats-url".into(),
            });
        }
    };
    let started = Instant::now();
    let mut replayer = Replayer::new(&config, &registry, args.from_sequence, args.from_date)?;
    let progress = crate::progress::counter("replay");
    match (&args.archive, &connection) {
        (Some(dir), _) => {
            crate::archive::read_events(dir, async |sequence, bytes| {
                progress.inc(1);
                replayer.push(sequence, bytes, &mut sink).await
            })
            .await?;
        }
        (None, Some((_, js))) => {
            read_input_stream(js, &subjects, async |sequence, bytes| {
                progress.inc(1);
                replayer.push(sequence, bytes, &mut sink).await
            })
            .await?;
        }
        (None, None) => {
            return Err(PipelineError::InvalidOption {
                name: "--archive",
                reason: "replay reads --archive DIR or the input stream of --nats-url URL".into(),
            });
        }
    }
    sink.finish().await?;
    progress.finish_and_clear();
    let s = replayer.summary();
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "creditstream replay: {} events ({} skipped as the worker would dead-letter them) → {} outputs in {seconds:.1} s ({:.0} events/s)",
        s.events,
        s.skipped,
        s.outputs,
        s.events as f64 / seconds.max(1e-9)
    );
    Ok(())
}
