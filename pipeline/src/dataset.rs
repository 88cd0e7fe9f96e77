//! `creditstream dataset`: a point-in-time training set from the event archive. DataFusion
//! reads the archive's Parquet files in log order (stream sequence, repeats dropped); the
//! events run through the same ledger and feature code as the stream
//! ([`features::TrainingSetBuilder`]); one row per invoice goes to a Parquet file, its
//! features encoded as they are made and its labels once the log has been read
//! ([`TrainingFile`]).

use std::path::{Path, PathBuf};

use clap::Args;
use events::Envelope;
use features::{
    Definitions, LabelOptions, Labeller, LedgerReplay, Outcomes, Replayed, TrainingFeatures,
    TrainingSetBuilder, TrainingSummary,
};

use crate::error::PipelineError;
use crate::training_file::TrainingFile;

/// `creditstream dataset`.
#[derive(Debug, Clone, Args)]
pub struct DatasetArgs {
    /// The event archive (the directory given to the worker as --archive-dir).
    #[arg(long, value_name = "DIR")]
    pub archive: PathBuf,
    /// Parquet file to write, one row per invoice.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// An invoice paid off more than this many days after its due date is late.
    #[arg(long, default_value_t = features::training::DEFAULT_LATE_DAYS)]
    pub late_days: u32,
    /// An invoice still unpaid this many days after its due date is late.
    #[arg(long, default_value_t = features::training::DEFAULT_HORIZON_DAYS)]
    pub horizon_days: u32,
    /// Feature definitions (TOML); the built-in ones by default.
    #[arg(long, value_name = "FILE")]
    pub feature_definitions: Option<PathBuf>,
}

/// Reads feature definitions from a file, or the built-in ones.
pub fn load_definitions(path: Option<&PathBuf>) -> Result<Definitions, PipelineError> {
    Ok(match path {
        None => Definitions::builtin()?,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| PipelineError::Io(format!("reading {}", path.display()), e))?;
            Definitions::parse(&path.display().to_string(), &text)?
        }
    })
}

/// Runs the command.
pub async fn run(args: DatasetArgs) -> Result<(), PipelineError> {
    let summary = build(&args).await?;
    println!(
        "creditstream dataset: {} events read, {} invoices written to {} ({} late, {} not yet labelled)",
        summary.events,
        summary.rows,
        args.out.display(),
        summary.late,
        summary.unlabelled
    );
    Ok(())
}

/// Events handed from one thread to the next at a time.
const HANDOFF: usize = 1024;
/// Hand-offs waiting between two threads, at most. Each thread's pace comes in bursts
/// (the ledger's at each new day, the features' at each micro-batch and chunk of rows):
/// 64 hand-offs (65,536 events) let one run ahead while the other is in a burst. Over 10
/// million events (2026-12-05, alternating pairs) 72.2–74.4 s against 77.9–81.1 s with
/// 16, and 256 no faster than 64 (71.3 and 74.1 s against 74.1 s).
const QUEUE: usize = 64;

/// What the ledger thread hands the feature thread.
enum ToFeatures {
    Events(Vec<Replayed>),
    /// Boxed: the ledger it holds is a large structure beside a chunk's list.
    End(Box<Outcomes>),
}

/// Builds the training set of `args` and writes it; returns what it holds.
///
/// Three stages overlap: this task reads and decodes the archive, one thread runs the
/// ledger ([`LedgerReplay`]), another the features ([`TrainingFeatures`]); the halves see
/// the events in log order, as [`TrainingSetBuilder`] runs them one after the other.
pub async fn build(args: &DatasetArgs) -> Result<TrainingSummary, PipelineError> {
    let labels = LabelOptions {
        late_days: args.late_days,
        horizon_days: args.horizon_days,
    };
    let definitions = load_definitions(args.feature_definitions.as_ref())?;
    let builder = TrainingSetBuilder::new(definitions, ledger::LedgerConfig::default(), labels)?;
    let schema = builder.schema();
    let (mut replay, features) = builder.into_halves();
    reserve(&mut replay, &args.archive).await?;
    // The output is started before the archive is read: a path that cannot be written is
    // refused at once, not after minutes of work.
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| PipelineError::Io(format!("creating {}", dir.display()), e))?;
    }
    let file = TrainingFile::create(&args.out, schema)?;
    // `None` ends the log: a channel closed without it means the reading failed.
    let (events_tx, events_rx) = tokio::sync::mpsc::channel::<Option<Vec<Envelope>>>(QUEUE);
    let (replayed_tx, replayed_rx) = std::sync::mpsc::sync_channel::<ToFeatures>(QUEUE);
    // Chunks of events the ledger has done with come back to be emptied here, where their
    // events were made: freeing memory on the thread that took it is the allocator's cheap
    // case, and the ledger thread, which sets the pace, is spared it.
    let (spent_tx, spent_rx) = std::sync::mpsc::channel::<Vec<Envelope>>();
    let ledger_thread = spawn("dataset-ledger", move || {
        replay_ledger(replay, events_rx, &replayed_tx, &spent_tx)
    })?;
    let feature_thread = spawn("dataset-features", move || {
        capture_features(features, file, &replayed_rx)
    })?;

    let progress = crate::progress::counter("dataset");
    let mut skipped = 0_u64;
    let mut chunk = Vec::with_capacity(HANDOFF);
    let mut threads_stopped = false;
    let read = crate::archive::read_events(&args.archive, async |sequence, payload| {
        progress.inc(1);
        match Envelope::decode(payload, usize::MAX) {
            Ok(event) => chunk.push(event),
            Err(e) => {
                skipped += 1;
                tracing::warn!(
                    sequence,
                    reason = e.reason.as_str(),
                    "archived event does not decode"
                );
            }
        }
        if chunk.len() >= HANDOFF {
            let next = match spent_rx.try_recv() {
                Ok(mut spent) => {
                    spent.clear();
                    spent
                }
                Err(_) => Vec::with_capacity(HANDOFF),
            };
            let full = std::mem::replace(&mut chunk, next);
            // A closed channel: a thread stopped on an error, reported at the join.
            if events_tx.send(Some(full)).await.is_err() {
                threads_stopped = true;
                return Err(PipelineError::Internal("a dataset thread stopped".into()));
            }
        }
        Ok(())
    })
    .await;
    if read.is_ok() {
        // Sends fail only if a thread stopped: its error is reported below.
        let _ = events_tx.send(Some(chunk)).await;
        let _ = events_tx.send(None).await;
    }
    drop(events_tx);
    progress.finish_and_clear();
    let built = join(feature_thread)?;
    // The ledger thread ends once it has handed over the outcomes: nobody waits for it.
    // When the features failed it is joined, to report a panic of its own rather than
    // the echo.
    if built.is_err() {
        join(ledger_thread)?;
    }
    // The archive's own error first; a failed hand-off only echoes a thread's error.
    let summary = match (read, built) {
        (Err(e), _) if !threads_stopped => return Err(e),
        (_, Err(e)) | (Err(e), Ok(_)) => return Err(e),
        (Ok(()), Ok(summary)) => summary,
    };
    if skipped > 0 {
        tracing::warn!(skipped, "archived events skipped");
    }
    Ok(summary)
}

/// Sizes `replay`'s item tables once for the invoices and payments `archive` holds:
/// growing them through millions of items moves every item at each doubling (a tenth of
/// the ledger thread's time).
pub async fn reserve(replay: &mut LedgerReplay, archive: &Path) -> Result<(), PipelineError> {
    let kinds = [
        events::EventKind::InvoiceIssued,
        events::EventKind::PaymentReceived,
    ];
    let counts = crate::archive::count_kinds(archive, &kinds).await?;
    let count = |i: usize| {
        counts
            .get(i)
            .map_or(0, |&n| usize::try_from(n).unwrap_or(0))
    };
    replay.reserve_invoices(count(0));
    replay.reserve_payments(count(1));
    Ok(())
}

/// The ledger thread: events in, what they mean for the features out; at the end of the
/// log, the outcomes (which hold the ledger, left to the end of the process).
/// Stops without outcomes if the reading failed or the feature thread stopped.
fn replay_ledger(
    mut replay: LedgerReplay,
    mut events: tokio::sync::mpsc::Receiver<Option<Vec<Envelope>>>,
    out: &std::sync::mpsc::SyncSender<ToFeatures>,
    spent: &std::sync::mpsc::Sender<Vec<Envelope>>,
) {
    loop {
        match events.blocking_recv() {
            Some(Some(chunk)) => {
                let replayed = chunk.iter().filter_map(|e| replay.push(e)).collect();
                if out.send(ToFeatures::Events(replayed)).is_err() {
                    return; // the feature thread stopped on an error
                }
                // The reading has ended when nobody takes it back: freed here then.
                let _ = spent.send(chunk);
            }
            Some(None) => break,
            None => return, // the reading failed
        }
    }
    // The outcomes hold the ledger. Never freed (here if the feature thread stopped, else
    // there, see `capture_features`): the ledger of a large archive is millions of
    // allocations, seconds of a core that the features and the writing need; the command
    // ends soon after, and the operating system takes the memory back at once.
    if let Err(unsent) = out.send(ToFeatures::End(Box::new(replay.finish()))) {
        std::mem::forget(unsent);
    }
}

/// The feature thread: captures every invoice's features and encodes them into the file
/// as chunks of rows complete; at the end, labels the rows and writes the file out.
/// Without the outcomes (the ledger thread stopped), the file is left unwritten.
fn capture_features(
    mut features: TrainingFeatures,
    mut file: TrainingFile,
    replayed: &std::sync::mpsc::Receiver<ToFeatures>,
) -> Result<TrainingSummary, PipelineError> {
    for message in replayed {
        match message {
            ToFeatures::Events(chunk) => {
                for r in chunk {
                    features.take(r)?;
                }
                for rows in features.take_unlabelled() {
                    file.add(rows)?;
                }
            }
            ToFeatures::End(outcomes) => {
                let (rest, options) = features.finish_unlabelled()?;
                for rows in rest {
                    file.add(rows)?;
                }
                let mut labeller = Labeller::new(*outcomes, options);
                let finished = file.finish(&mut labeller);
                let summary = labeller.summary();
                // Not freed: the labeller holds the ledger (see `replay_ledger`).
                std::mem::forget(labeller);
                finished?;
                return Ok(summary);
            }
        }
    }
    Err(PipelineError::Internal(
        "the ledger thread stopped before the end of the archive".into(),
    ))
}

fn spawn<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<std::thread::JoinHandle<T>, PipelineError> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(f)
        .map_err(|e| PipelineError::Io(format!("starting the {name} thread"), e))
}

fn join<T>(thread: std::thread::JoinHandle<T>) -> Result<T, PipelineError> {
    thread
        .join()
        .map_err(|_| PipelineError::Internal("a dataset thread panicked".into()))
}
