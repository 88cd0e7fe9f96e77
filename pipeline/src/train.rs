//! `creditstream train`: a late-payer risk model from a point-in-time training set (as
//! `creditstream dataset` writes it, or any Parquet table with a boolean label and a time
//! column). Rows are split in time order — fitting, then calibration, then validation —
//! never at random; the artifact (JSON) holds the model, its calibration, the risk classes
//! and the validation metrics.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use datafusion::arrow::array::{RecordBatch, RecordBatchReader};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use indicatif::{ProgressBar, ProgressStyle};
use models::training::Step;
use models::{
    BoostingParams, ClassWeight, LogisticParams, ModelArtifact, ModelKind, RiskClasses,
    TrainingConfig, TrainingTable,
};

use crate::error::PipelineError;

/// Columns of `creditstream dataset`'s output that are not features: identifiers, the due
/// date and the outcome.
pub const DEFAULT_EXCLUDE: &str = "invoice_number,debtor_id,due_date,days_late";

/// Which model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    /// Logistic regression: transparent, fast, the default.
    Logistic,
    /// Gradient-boosted trees: the challenger, catches interactions and thresholds.
    BoostedTrees,
}

/// How the classes are weighted while fitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClassWeightArg {
    /// Late and on-time rows weigh the same in total (the rare class is not ignored).
    Balanced,
    /// Every row counts once.
    None,
}

/// `creditstream train`.
#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    /// Training set (Parquet), e.g. from `creditstream dataset`.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Where to write the model artifact (JSON).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Version name recorded in the artifact (default: risk- and the UTC time of training,
    /// e.g. risk-20261201T120000Z).
    #[arg(long)]
    pub version: Option<String>,
    /// Boolean column saying whether the invoice was paid late.
    #[arg(long, default_value = "late")]
    pub label: String,
    /// Column that orders the rows in time; the split follows it.
    #[arg(long, default_value = "issued_at")]
    pub time: String,
    /// Columns that are not features (identifiers, dates, outcomes), comma separated.
    #[arg(long, value_delimiter = ',', default_value = DEFAULT_EXCLUDE)]
    pub exclude: Vec<String>,
    /// Which model to train.
    #[arg(long, value_enum, default_value_t = ModelArg::Logistic)]
    pub model: ModelArg,
    /// Boosted trees: number of trees.
    #[arg(long, default_value_t = 100)]
    pub trees: usize,
    /// Boosted trees: most leaves per tree.
    #[arg(long, default_value_t = 31)]
    pub max_leaves: usize,
    /// Boosted trees: shrinkage of each tree's contribution.
    #[arg(long, default_value_t = 0.1)]
    pub learning_rate: f64,
    /// Logistic regression: inverse regularisation strength (larger fits the training rows
    /// more closely).
    #[arg(long, default_value_t = 1.0)]
    pub c: f64,
    /// Logistic regression: class weighting while fitting.
    #[arg(long, value_enum, default_value_t = ClassWeightArg::Balanced)]
    pub class_weight: ClassWeightArg,
    /// Shares of the rows, in time order, for fitting, calibration and validation.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0.6,0.2,0.2",
        value_name = "FIT,CAL,VAL"
    )]
    pub split: Vec<f64>,
    /// Risk class names, best first.
    #[arg(long, value_delimiter = ',', default_value = "A,B,C,D,E")]
    pub classes: Vec<String>,
    /// Probabilities at which each next risk class begins (one fewer than the classes).
    #[arg(long, value_delimiter = ',', default_value = "0.05,0.15,0.3,0.5")]
    pub cutoffs: Vec<f64>,
}

/// Reads a Parquet file's batches.
pub fn read_parquet(
    path: &Path,
) -> Result<(datafusion::arrow::datatypes::SchemaRef, Vec<RecordBatch>), PipelineError> {
    if !path.is_file() {
        return Err(PipelineError::InvalidInput(format!(
            "{} is not a file",
            path.display()
        )));
    }
    let file = File::open(path)
        .map_err(|e| PipelineError::Io(format!("opening {}", path.display()), e))?;
    let bad = |e: &dyn std::fmt::Display| {
        PipelineError::InvalidInput(format!(
            "{}: not a readable Parquet file: {e}",
            path.display()
        ))
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| bad(&e))?
        .build()
        .map_err(|e| bad(&e))?;
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<_>, _>>().map_err(|e| bad(&e))?;
    Ok((schema, batches))
}

/// Writes bytes to a file atomically (a temporary file renamed), creating its directory.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PipelineError> {
    let io = |what: &str, e| PipelineError::Io(format!("{what} {}", path.display()), e);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io("creating the directory of", e))?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| io("writing", e))?;
    std::fs::rename(&tmp, path).map_err(|e| io("renaming into", e))
}

/// Trains as `args` say and returns the artifact (not yet written).
pub fn build(args: &TrainArgs) -> Result<ModelArtifact, PipelineError> {
    let split: [f64; 3] =
        args.split
            .as_slice()
            .try_into()
            .map_err(|_| PipelineError::InvalidOption {
                name: "--split",
                reason: format!(
                    "three shares expected (fit, calibration, validation), got {:?}",
                    args.split
                ),
            })?;
    let config = TrainingConfig {
        kind: match args.model {
            ModelArg::Logistic => ModelKind::Logistic,
            ModelArg::BoostedTrees => ModelKind::BoostedTrees,
        },
        boosting: BoostingParams::new()
            .max_iterations(args.trees)
            .max_leaf_nodes(args.max_leaves)
            .learning_rate(args.learning_rate),
        logistic: LogisticParams::new()
            .c(args.c)
            .class_weight(match args.class_weight {
                ClassWeightArg::Balanced => ClassWeight::Balanced,
                ClassWeightArg::None => ClassWeight::None,
            }),
        classes: RiskClasses::new(args.classes.clone(), args.cutoffs.clone())?,
        split,
    };
    config.check()?;
    let progress = ProgressBar::new_spinner();
    progress.set_style(
        ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    progress.enable_steady_tick(Duration::from_millis(120));
    progress.set_message(format!("reading {}", args.data.display()));
    let (schema, batches) = read_parquet(&args.data)?;
    let exclude: Vec<&str> = args.exclude.iter().map(String::as_str).collect();
    let table = TrainingTable::from_batches(&schema, &batches, &args.label, &args.time, &exclude)?;
    drop(batches);
    let created_at = chrono::Utc::now();
    let version = args
        .version
        .clone()
        .unwrap_or_else(|| format!("risk-{}", created_at.format("%Y%m%dT%H%M%SZ")));
    let rows = table.rows();
    let artifact = models::train(&table, &config, &version, &args.time, created_at, |step| {
        progress.set_message(match step {
            Step::Fit => format!("fitting on the earliest of {rows} rows"),
            Step::Calibrate => "calibrating on the next rows".to_owned(),
            Step::Validate => "validating on the latest rows".to_owned(),
        });
    })?;
    progress.finish_and_clear();
    Ok(artifact)
}

/// Runs the command.
pub fn run(args: TrainArgs) -> Result<(), PipelineError> {
    let artifact = build(&args)?;
    write_atomically(&args.out, &artifact.to_json()?)?;
    let m = &artifact.metadata;
    let e = &m.metrics;
    println!(
        "creditstream train: model {} ({} features) fitted on {} rows, calibrated on {}, \
         validated on {}: AUC {:.3}, KS {:.3}, Brier {:.4} (base-rate predictor {:.4}), \
         calibration error {:.3}; written to {}",
        m.version,
        artifact.encoding.width(),
        m.training.rows,
        m.calibration.rows,
        m.validation.rows,
        e.auc,
        e.ks,
        e.brier,
        e.brier_reference,
        e.expected_calibration_error,
        args.out.display()
    );
    Ok(())
}
