//! Command-line interface (clap derive). Each sub-command lives in its own module.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::broker::NatsOptions;
use crate::error::PipelineError;
use crate::worker::WorkerConfig;

/// creditstream: streaming credit management. Payments and invoices meet in one place,
/// every debtor is re-scored as things happen, and every decision can be replayed.
#[derive(Debug, Parser)]
#[command(name = "creditstream", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Sub-commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a portfolio and run the whole pipeline on it, with a live summary.
    ///
    /// Without --nats-url it starts its own nats-server (free loopback port, temporary
    /// store). It ends by itself once every event is processed, unless --keep-running.
    Demo(DemoArgs),
    /// Run the pipeline worker against a NATS server until stopped (Ctrl-C).
    Run(RunArgs),
    /// Generate a synthetic portfolio: JSON lines to a file, or events into NATS.
    Simulate(SimulateArgs),
    /// Import bank statements (camt.053, camt.054, MT940) as payment and reversal events.
    ///
    /// Every file is checked before anything is published; a file that cannot be read stops
    /// the import with the file, entry and line named. A file (or statement) imported before
    /// publishes nothing new.
    ImportStatement(ImportArgs),
    /// Write a point-in-time training set from the event archive: one row per invoice at
    /// its issue, with the debtor's features as known then and whether it was paid late.
    Dataset(crate::dataset::DatasetArgs),
    /// Train a late-payer risk model on a training set: fitted on the earliest rows,
    /// calibrated on the next, validated on the latest (never split at random across time).
    Train(crate::train::TrainArgs),
    /// Judge a trained model on labelled rows: AUC, KS, Brier score, log-loss, risk classes
    /// and calibration, and an HTML report with charts (--report).
    Evaluate(crate::evaluate::EvaluateArgs),
    /// Explain a debtor's score: each feature's push on the odds of paying late, in words,
    /// for the debtor's latest row in a training set.
    Explain(crate::explain::ExplainArgs),
    /// The model registry: publish a trained model under its version, list the models.
    Model(crate::registry::ModelArgs),
    /// Strategies per segment (dunning, payment plans, credit holds): check a strategy
    /// file, or activate it in the running pipeline through the log.
    Strategy(crate::strategy::StrategyArgs),
    /// Run the pipeline over a log already written (the input stream, or the event
    /// archive) with the event-time clock, much faster than real time: the live run's
    /// outputs, byte for byte, to a file or a subject.
    Replay(crate::replay::ReplayArgs),
    /// Try strategies and models side by side: on a simulated portfolio in closed loop (its
    /// debtors respond to what they receive), or on a replayed event archive.
    Backtest(crate::backtest::BacktestArgs),
}

impl Command {
    /// How the command uses its memory, for the allocator's settings and the runtime's
    /// blocking threads ([`crate::runtime`]): `dataset` only grows its memory (the ledger
    /// of the whole archive); the others take and free it over and over.
    pub fn memory_use(&self) -> crate::MemoryUse {
        match self {
            Command::Dataset(_) => crate::MemoryUse::Growing,
            _ => crate::MemoryUse::Churning,
        }
    }
}

/// How to reach NATS.
#[derive(Debug, Clone, Args)]
pub struct NatsArgs {
    /// NATS server URL (e.g. nats://127.0.0.1:4222).
    #[arg(long, env = "CREDITSTREAM_NATS_URL")]
    pub nats_url: Option<String>,
    /// NATS credentials file (.creds).
    #[arg(long, env = "CREDITSTREAM_NATS_CREDS", requires = "nats_url")]
    pub nats_creds: Option<PathBuf>,
    /// NATS user (with --nats-password).
    #[arg(long, env = "CREDITSTREAM_NATS_USER", requires_all = ["nats_url", "nats_password"])]
    pub nats_user: Option<String>,
    /// NATS password.
    #[arg(long, env = "CREDITSTREAM_NATS_PASSWORD", requires = "nats_user")]
    pub nats_password: Option<String>,
    /// NATS token.
    #[arg(long, env = "CREDITSTREAM_NATS_TOKEN", requires = "nats_url")]
    pub nats_token: Option<String>,
    /// Prefix of every subject, stream and bucket.
    #[arg(long, default_value = events::subjects::DEFAULT_PREFIX, value_parser = parse_prefix)]
    pub prefix: String,
    /// Number of debtor partitions in the subjects.
    #[arg(long, default_value_t = events::subjects::DEFAULT_PARTITIONS, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub partitions: u32,
}

impl NatsArgs {
    /// Connection options for `url`.
    pub fn options(&self, url: String) -> NatsOptions {
        NatsOptions {
            url,
            creds: self.nats_creds.clone(),
            user: self.nats_user.clone(),
            password: self.nats_password.clone(),
            token: self.nats_token.clone(),
        }
    }

    /// The subject layout.
    pub fn subjects(&self) -> events::Subjects {
        events::Subjects::new(&self.prefix, self.partitions)
    }
}

fn parse_prefix(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(s.to_owned())
    } else {
        Err("letters, digits, '-' and '_' only, at most 32".into())
    }
}

/// The portfolio to simulate.
#[derive(Debug, Clone, Args)]
pub struct PortfolioArgs {
    /// Number of debtors.
    #[arg(long, default_value_t = 1000)]
    pub debtors: u32,
    /// Months of history.
    #[arg(long, default_value_t = 12)]
    pub months: u32,
    /// Random seed: the same seed gives the same portfolio, event for event.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// First simulated day (YYYY-MM-DD).
    #[arg(long, default_value = "2025-01-01")]
    pub start: chrono::NaiveDate,
}

/// Worker tuning.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// Largest micro-batch, in messages.
    #[arg(long, default_value_t = 1000)]
    pub batch_size: usize,
    /// Checkpoint at least every this many input messages.
    #[arg(long, default_value_t = 20_000)]
    pub checkpoint_every: u64,
    /// Largest accepted input message, in bytes; larger ones are dead-lettered.
    #[arg(long, default_value_t = events::DEFAULT_MAX_EVENT_BYTES)]
    pub max_event_bytes: usize,
    /// Most score updates published in one message, one per line (those of one
    /// `scores` subject ready together, up to 64 KiB); 1 publishes each in a message of
    /// its own. 1 to 1000.
    #[arg(long, default_value_t = crate::worker::DEFAULT_SCORE_UPDATES_PER_MESSAGE)]
    pub score_updates_per_message: usize,
    /// Once the input runs dry, keep looking for more this many microseconds before
    /// sleeping, yielding the core to any thread with work (a stage loop woken from a
    /// sleep runs on cold caches); 0 sleeps at once. At most 10000.
    #[arg(long, default_value_t = crate::worker::DEFAULT_SPIN_MICROS)]
    pub spin_micros: u64,
    /// Name of this worker (its durable consumer and checkpoint).
    #[arg(long, default_value = "all")]
    pub worker_name: String,
    /// Feature definitions (TOML: windows, aggregates and features in SQL); the built-in
    /// ones by default. A definition that does not compile is refused at start.
    #[arg(long, value_name = "FILE")]
    pub feature_definitions: Option<PathBuf>,
    /// Run the feature micro-batch when it holds this many input events...
    #[arg(long, default_value_t = features::store::DEFAULT_BATCH_MAX_EVENTS)]
    pub feature_batch_events: usize,
    /// ...or when its first event has waited this many milliseconds.
    #[arg(long, default_value_t = features::store::DEFAULT_BATCH_MAX_DELAY_MS)]
    pub feature_batch_delay_ms: u64,
    /// Facts up to this many days behind the event-time watermark count in the features;
    /// older ones are counted and left out.
    #[arg(long, default_value_t = features::store::DEFAULT_ALLOWED_LATENESS_DAYS)]
    pub allowed_lateness_days: u32,
    /// Archive every valid input event to Parquet files in this directory, partitioned by
    /// day (the input of `creditstream dataset`).
    #[arg(long, value_name = "DIR")]
    pub archive_dir: Option<PathBuf>,
    /// Score the debtors whose features changed every this many input events (also at
    /// every clock tick and model activation).
    #[arg(long, default_value_t = 1000)]
    pub score_every: u64,
    /// Score at most this many debtors at a score point: those with new facts first, then
    /// those a model activation has still to re-score (it re-scores everyone, this many at
    /// a time), then those whose windows only slid, each kind in turn; the others at the
    /// next score points, which come every tenth of --score-every events while any wait.
    /// At least a tenth of --score-every.
    #[arg(long, default_value_t = crate::scoring::DEFAULT_MAX_DEBTORS)]
    pub score_max_debtors: usize,
    /// Score a score point's debtors on this many threads (their features, scores and
    /// explanations, in parts of 64 debtors or more; the decisions on them follow in
    /// order). The outputs are the same whatever the number. From 1 to 64.
    #[arg(long, default_value_t = crate::scoring::DEFAULT_THREADS)]
    pub score_threads: usize,
    /// Credit-limit policy (TOML); the built-in one by default. Refused at start when it
    /// does not parse, with the line and field named.
    #[arg(long, value_name = "FILE")]
    pub limit_policy: Option<PathBuf>,
    /// Load activated model versions from this registry directory instead of the NATS
    /// server's `<prefix>-models` object store.
    #[arg(long, value_name = "DIR")]
    pub registry_dir: Option<PathBuf>,
}

impl WorkerArgs {
    /// The checked worker configuration for `subjects`.
    pub fn config(&self, subjects: events::Subjects) -> Result<WorkerConfig, PipelineError> {
        let feature_definitions =
            crate::dataset::load_definitions(self.feature_definitions.as_ref())?;
        let features = features::FeatureConfig {
            batch_max_events: self.feature_batch_events,
            batch_max_delay_ms: self.feature_batch_delay_ms,
            allowed_lateness_days: self.allowed_lateness_days,
        };
        features.validate()?;
        // Compile now: definitions that do not compile stop the command before it connects.
        features::Engine::new(feature_definitions.clone())?;
        let config = WorkerConfig {
            subjects,
            name: self.worker_name.clone(),
            batch_max: self.batch_size,
            max_event_bytes: self.max_event_bytes,
            score_updates_per_message: self.score_updates_per_message,
            checkpoint_every: self.checkpoint_every,
            spin: std::time::Duration::from_micros(self.spin_micros),
            feature_definitions,
            features,
            archive_dir: self.archive_dir.clone(),
            scoring: crate::scoring::ScoringConfig {
                every_events: self.score_every,
                max_debtors: self.score_max_debtors,
                threads: self.score_threads,
                limit_policy: crate::explain::load_limit_policy(self.limit_policy.as_ref())?,
                ..crate::scoring::ScoringConfig::default()
            },
            registry_dir: self.registry_dir.clone(),
            ..WorkerConfig::default()
        };
        config.check()?;
        Ok(config)
    }
}

/// `creditstream demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// NATS connection; without --nats-url a private nats-server is started.
    #[command(flatten)]
    pub nats: NatsArgs,
    /// Portfolio.
    #[command(flatten)]
    pub portfolio: PortfolioArgs,
    /// Worker tuning.
    #[command(flatten)]
    pub worker: WorkerArgs,
    /// Address of the HTTP server (/metrics and the task API); port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub http_addr: SocketAddr,
    /// Keep the pipeline (and /metrics) running after the portfolio is processed, until Ctrl-C.
    #[arg(long)]
    pub keep_running: bool,
    /// Do not publish the handful of malformed messages that show the dead-letter path.
    #[arg(long)]
    pub no_bad_events: bool,
    /// Do not train a risk model on a separate simulated history and activate it first
    /// (then score updates carry balances only).
    #[arg(long)]
    pub no_model: bool,
}

/// `creditstream run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// NATS connection (--nats-url is required).
    #[command(flatten)]
    pub nats: NatsArgs,
    /// Worker tuning.
    #[command(flatten)]
    pub worker: WorkerArgs,
    /// Address of the HTTP server (/metrics and the task API, docs/tasks.md).
    #[arg(long, default_value = "127.0.0.1:9464")]
    pub http_addr: SocketAddr,
}

/// `creditstream simulate`.
#[derive(Debug, Clone, Args)]
pub struct SimulateArgs {
    /// Portfolio.
    #[command(flatten)]
    pub portfolio: PortfolioArgs,
    /// Write the events as JSON lines to this file ("-" for standard output).
    #[arg(
        long,
        conflicts_with = "nats_url",
        required_unless_present = "nats_url"
    )]
    pub out: Option<PathBuf>,
    /// Write the ground truth (behaviour of each debtor, invoices each payment pays) as
    /// JSON lines to this file.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// NATS connection, to publish into the input stream instead of writing a file.
    #[command(flatten)]
    pub nats: NatsArgs,
}

/// `creditstream import-statement`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Statement files (camt.053 / camt.054 XML, MT940).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write the events as JSON lines to this file ("-" for standard output) instead of
    /// publishing them.
    #[arg(long, conflicts_with = "nats_url")]
    pub out: Option<PathBuf>,
    /// NATS connection, to publish into the input stream.
    #[command(flatten)]
    pub nats: NatsArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemoryUse, allocator_settings};

    #[test]
    fn dataset_grows_its_memory_and_the_other_commands_churn() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("creditstream").chain(args.iter().copied()))
                .expect("the arguments parse")
                .command
                .memory_use()
        };
        assert_eq!(
            parse(&["dataset", "--archive", "a", "--out", "b"]),
            MemoryUse::Growing
        );
        assert_eq!(parse(&["demo"]), MemoryUse::Churning);
        assert_eq!(
            parse(&["replay", "--archive", "a", "--out", "b"]),
            MemoryUse::Churning
        );
    }

    #[test]
    fn both_memory_uses_set_the_same_variables() {
        // A program started by another inherits its settings: none may be left over.
        let names = |m| allocator_settings(m).map(|(var, _)| var);
        assert_eq!(names(MemoryUse::Growing), names(MemoryUse::Churning));
        assert_ne!(
            allocator_settings(MemoryUse::Growing),
            allocator_settings(MemoryUse::Churning)
        );
    }
}
