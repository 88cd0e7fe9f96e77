//! `creditstream dataset`: a point-in-time training set from the event archive. DataFusion
//! reads the archive's Parquet files in log order (stream sequence, repeats dropped); the
//! events run through the same ledger and feature code as the stream
//! ([`features::TrainingSetBuilder`]); one row per invoice goes to a Parquet file.

use std::path::PathBuf;

use clap::Args;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, UInt64Type};
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use events::Envelope;
use features::{Definitions, LabelOptions, TrainingSetBuilder, TrainingSummary};
use futures::StreamExt;

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
    if !args.archive.is_dir() {
        return Err(PipelineError::InvalidInput(format!(
            "{} is not an archive directory",
            args.archive.display()
        )));
    }
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_batch_size(8192));
    let options = ParquetReadOptions::default()
        .table_partition_cols(vec![("day".to_owned(), DataType::Utf8)]);
    let archive = args.archive.to_string_lossy().into_owned();
    let df_err = |what: &'static str| {
        move |e: datafusion::error::DataFusionError| {
            PipelineError::InvalidInput(format!("{what} the archive: {e}"))
        }
    };
    ctx.register_parquet("archive", &archive, options)
        .await
        .map_err(df_err("reading"))?;
    let mut stream = ctx
        .sql("SELECT sequence, payload FROM archive ORDER BY sequence")
        .await
        .map_err(df_err("querying"))?
        .execute_stream()
        .await
        .map_err(df_err("reading"))?;
    let progress = crate::progress::counter("dataset");
    let mut last_sequence = 0_u64;
    let mut skipped = 0_u64;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(df_err("reading"))?;
        let sequences = batch.column(0).as_primitive::<UInt64Type>();
        // DataFusion may read text as string views: take it as plain UTF-8.
        let payloads = datafusion::arrow::compute::cast(batch.column(1), &DataType::Utf8)
            .map_err(|e| PipelineError::InvalidInput(format!("archive payload: {e}")))?;
        let payloads = payloads
            .as_string_opt::<i32>()
            .ok_or_else(|| PipelineError::InvalidInput("archive payload is not text".into()))?;
        for row in 0..batch.num_rows() {
            let sequence = sequences.value(row);
            if sequence <= last_sequence && last_sequence != 0 {
                continue; // archived twice around a crash
            }
            last_sequence = sequence;
            if payloads.is_null(row) {
                skipped += 1;
                continue;
            }
            match Envelope::decode(payloads.value(row).as_bytes(), usize::MAX) {
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
        }
        progress.inc(batch.num_rows() as u64);
    }
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
