//! `creditstream explain`: why a debtor scores as it does — its latest row in a training
//! set (its features as known at its latest invoice) scored by a model, each column's push
//! on the odds of paying late, in words — and the credit limit the policy recommends,
//! step by step.

use std::path::PathBuf;

use clap::Args;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use models::{LimitPolicy, LimitRecommendation};

use crate::error::PipelineError;
use crate::evaluate::read_model;
use crate::scoring::LimitColumns;
use crate::train::read_parquet;

/// `creditstream explain`.
#[derive(Debug, Clone, Args)]
pub struct ExplainArgs {
    /// The debtor (its id as in the events, e.g. D000042).
    pub debtor: String,
    /// Model artifact (JSON) written by `creditstream train`.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Rows with the model's feature columns and a debtor_id column (Parquet), e.g. from
    /// `creditstream dataset`; the debtor's latest row is explained.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// How many columns to show, strongest first.
    #[arg(long, default_value_t = 8)]
    pub top: usize,
    /// Credit-limit policy (TOML); the built-in one by default.
    #[arg(long, value_name = "FILE")]
    pub limit_policy: Option<PathBuf>,
    /// Column holding the debtor's recent invoicing, the base of its typical month.
    #[arg(long, default_value = "invoiced_amount_90d")]
    pub invoicing_column: String,
    /// Months that column covers.
    #[arg(long, default_value_t = 3)]
    pub invoicing_months: u32,
}

/// Reads a credit-limit policy from a file, or the built-in one.
pub fn load_limit_policy(path: Option<&PathBuf>) -> Result<LimitPolicy, PipelineError> {
    Ok(match path {
        None => LimitPolicy::builtin()?,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| PipelineError::Io(format!("reading {}", path.display()), e))?;
            LimitPolicy::parse(&path.display().to_string(), &text)?
        }
    })
}

/// What `explain` says of a debtor.
#[derive(Debug, Clone)]
pub struct DebtorExplanation {
    /// The score taken apart.
    pub score: models::Explanation,
    /// The recommended credit limit and its steps.
    pub limit: LimitRecommendation,
    /// When the row's features were known, as text.
    pub at: String,
}

/// Explains as `args` say.
pub fn build(args: &ExplainArgs) -> Result<DebtorExplanation, PipelineError> {
    let artifact = read_model(&args.model)?;
    let policy = load_limit_policy(args.limit_policy.as_ref())?;
    policy.check_classes(&artifact.classes)?;
    if args.invoicing_months == 0 {
        return Err(PipelineError::InvalidOption {
            name: "--invoicing-months",
            reason: "must be at least 1".into(),
        });
    }
    let (_, batches) = read_parquet(&args.data)?;
    let time_column = &artifact.metadata.time_column;
    // The debtor's latest row: (batch, row, time).
    let mut latest: Option<(usize, usize, i64)> = None;
    for (b, batch) in batches.iter().enumerate() {
        let debtors = batch
            .column_by_name("debtor_id")
            .filter(|c| c.data_type() == &DataType::Utf8)
            .ok_or_else(|| {
                PipelineError::InvalidInput(format!(
                    "{} has no text column debtor_id",
                    args.data.display()
                ))
            })?
            .as_string::<i32>();
        let times = batch
            .column_by_name(time_column)
            .map(|c| datafusion::arrow::compute::cast(c, &DataType::Int64))
            .transpose()
            .map_err(|e| PipelineError::InvalidInput(format!("{time_column}: {e}")))?
            .ok_or_else(|| {
                PipelineError::InvalidInput(format!(
                    "{} has no column {time_column}",
                    args.data.display()
                ))
            })?;
        let times = times.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        for i in 0..batch.num_rows() {
            if debtors.is_valid(i) && debtors.value(i) == args.debtor && times.is_valid(i) {
                let t = times.value(i);
                if latest.is_none_or(|(_, _, best)| t >= best) {
                    latest = Some((b, i, t));
                }
            }
        }
    }
    let Some((b, i, t)) = latest else {
        return Err(PipelineError::InvalidInput(format!(
            "{} has no rows of debtor {}",
            args.data.display(),
            args.debtor
        )));
    };
    let row = batches[b].slice(i, 1);
    let x = artifact.encoding.encode(&row)?;
    let features = x.row(0).to_vec();
    let score = models::explain(&artifact, &features);
    let risk_class = artifact.classes.class_of(score.probability);
    let inputs = LimitColumns::new(&row, &args.invoicing_column, args.invoicing_months)
        .inputs(0, risk_class, &score.class)
        .map_err(|e| {
            PipelineError::InvalidInput(format!(
                "{}: {e} (--invoicing-column)",
                args.data.display()
            ))
        })?;
    let limit = policy.recommend(&inputs)?;
    Ok(DebtorExplanation {
        score,
        limit,
        at: artifact.metadata.time_kind.format(t),
    })
}

/// Runs the command.
pub fn run(args: ExplainArgs) -> Result<(), PipelineError> {
    let e = build(&args)?;
    println!("Debtor {}, as known on {}:", args.debtor, e.at);
    print!("{}", e.score.text(args.top));
    print!("{}", e.limit.text());
    Ok(())
}
