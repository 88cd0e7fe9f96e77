//! `creditstream evaluate`: a trained model judged on labelled rows — AUC, KS, Brier score,
//! log-loss, the confusion per risk class and the calibration table in the terminal, and
//! an HTML report with ROC and calibration charts and the features that matter most.

use std::path::PathBuf;

use clap::Args;
use models::{ModelArtifact, TrainingTable};

use crate::error::PipelineError;
use crate::train::{read_parquet, write_atomically};

/// `creditstream evaluate`.
#[derive(Debug, Clone, Args)]
pub struct EvaluateArgs {
    /// Model artifact (JSON) written by `creditstream train`.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Labelled rows (Parquet) with the model's feature columns, e.g. from
    /// `creditstream dataset`.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Where to write the HTML report.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Boolean column saying whether the invoice was paid late.
    #[arg(long, default_value = "late")]
    pub label: String,
    /// Judge every labelled row. By default only rows from the model's validation period
    /// on count: rows it was fitted or calibrated on would flatter it.
    #[arg(long)]
    pub all_rows: bool,
    /// Title of the report (default: the data file's name and the rows judged).
    #[arg(long)]
    pub title: Option<String>,
}

/// Reads a model artifact.
pub fn read_model(path: &PathBuf) -> Result<ModelArtifact, PipelineError> {
    if !path.is_file() {
        return Err(PipelineError::InvalidInput(format!(
            "{} is not a file",
            path.display()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| PipelineError::Io(format!("reading {}", path.display()), e))?;
    ModelArtifact::from_json(&bytes)
        .map_err(|e| PipelineError::InvalidInput(format!("{}: {e}", path.display())))
}

/// Judges the model as `args` say; returns the report.
pub fn build(args: &EvaluateArgs) -> Result<models::ModelReport, PipelineError> {
    let artifact = read_model(&args.model)?;
    let (schema, batches) = read_parquet(&args.data)?;
    let table = TrainingTable::with_encoding(
        &schema,
        &batches,
        &args.label,
        &artifact.metadata.time_column,
        artifact.encoding.clone(),
    )?;
    drop(batches);
    let rows = if args.all_rows {
        0..table.rows()
    } else {
        table.from_time(artifact.metadata.validation.first)
    };
    if rows.is_empty() {
        return Err(PipelineError::InvalidInput(format!(
            "{} has no labelled rows from the model's validation period on ({}); \
             --all-rows judges every row",
            args.data.display(),
            artifact
                .metadata
                .time_kind
                .format(artifact.metadata.validation.first)
        )));
    }
    let name = args.data.file_name().map_or_else(
        || args.data.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let title = args.title.clone().unwrap_or_else(|| {
        if args.all_rows {
            format!("{name}: all labelled rows")
        } else {
            format!("{name}: rows from the validation period on")
        }
    });
    let period = (table.time[rows.start], table.time[rows.end - 1]);
    let (x, labels) = table.part(rows);
    Ok(models::report::assess(
        &artifact, &title, x, labels, period,
    )?)
}

/// Runs the command.
pub fn run(args: EvaluateArgs) -> Result<(), PipelineError> {
    let report = build(&args)?;
    print!("{}", report.text());
    if let Some(path) = &args.report {
        write_atomically(path, report.html().as_bytes())?;
        println!(
            "\ncreditstream evaluate: report written to {}",
            path.display()
        );
    }
    Ok(())
}
