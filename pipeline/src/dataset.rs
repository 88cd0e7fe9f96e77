//! `creditstream dataset`: a point-in-time training set from the event archive. DataFusion
//! reads the archive's Parquet files in log order (stream sequence, repeats dropped); the
//! events run through the same ledger and feature code as the stream
//! ([`features::TrainingSetBuilder`]); one row per invoice goes to a Parquet file.

use std::path::PathBuf;

use clap::Args;
use events::Envelope;
use features::{Definitions, LabelOptions, TrainingSetBuilder, TrainingSummary};

use crate::archive::write_parquet_batches;
use crate::error::PipelineError;

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

/// Builds the training set of `args` and writes it; returns what it holds.
pub async fn build(args: &DatasetArgs) -> Result<TrainingSummary, PipelineError> {
    let labels = LabelOptions {
        late_days: args.late_days,
        horizon_days: args.horizon_days,
    };
    let definitions = load_definitions(args.feature_definitions.as_ref())?;
    let mut builder =
        TrainingSetBuilder::new(definitions, ledger::LedgerConfig::default(), labels)?;
    let progress = crate::progress::counter("dataset");
    let mut skipped = 0_u64;
    crate::archive::read_events(&args.archive, async |sequence, payload| {
        progress.inc(1);
        match Envelope::decode(payload, usize::MAX) {
            Ok(event) => builder.push(&event)?,
            Err(e) => {
                skipped += 1;
                tracing::warn!(
                    sequence,
                    reason = e.reason.as_str(),
                    "archived event does not decode"
                );
            }
        }
        Ok(())
    })
    .await?;
    progress.finish_and_clear();
    if skipped > 0 {
        tracing::warn!(skipped, "archived events skipped");
    }
    let schema = builder.schema();
    let (batches, summary) = builder.finish()?;
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| PipelineError::Io(format!("creating {}", dir.display()), e))?;
    }
    write_parquet_batches(&args.out, schema, &batches)?;
    Ok(summary)
}
