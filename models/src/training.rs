//! A training run: a time-ordered split of the training table into fitting, calibration
//! and validation rows (never random across time), the model fitted on the first, Platt
//! scaling on the second, metrics on the third, packed into a [`ModelArtifact`]. The model is
//! the logistic regression (default) or the boosted-trees challenger.

use chrono::{DateTime, Utc};
use linfa::ParamGuard;
use linfa::dataset::DatasetBase;
use linfa::traits::Fit;

use crate::artifact::{ARTIFACT_FORMAT, ModelArtifact, ModelMetadata, RiskModel, TimeSpan};
use crate::boosting::BoostingParams;
use crate::calibration::Calibrator;
use crate::classes::RiskClasses;
use crate::error::ModelError;
use crate::logistic::{ClassWeight, LogisticParams};
use crate::metrics::evaluate;
use crate::scaling::StandardScaler;
use crate::table::TrainingTable;

/// Bands of the calibration table in evaluations.
pub const CALIBRATION_BINS: usize = 10;

/// Which kind of model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModelKind {
    /// Logistic regression (the default: transparent, fast, well calibrated).
    #[default]
    Logistic,
    /// Gradient-boosted trees (the challenger: catches interactions and thresholds).
    BoostedTrees,
}

/// How to train.
#[derive(Debug, Clone)]
pub struct TrainingConfig {
    /// Which model.
    pub kind: ModelKind,
    /// The logistic regression's hyperparameters.
    pub logistic: LogisticParams,
    /// The boosted trees' hyperparameters.
    pub boosting: BoostingParams,
    /// Risk classes of the calibrated probability.
    pub classes: RiskClasses,
    /// Shares of the time-ordered rows for fitting, calibration and validation.
    pub split: [f64; 3],
}

impl Default for TrainingConfig {
    fn default() -> Self {
        TrainingConfig {
            kind: ModelKind::default(),
            logistic: LogisticParams::default(),
            boosting: BoostingParams::default(),
            classes: RiskClasses::default(),
            split: [0.6, 0.2, 0.2],
        }
    }
}

impl TrainingConfig {
    /// Checks every hyperparameter (both models') and the split before any work.
    pub fn check(&self) -> Result<(), ModelError> {
        self.logistic.check_ref()?;
        self.boosting.check_ref()?;
        crate::table::check_shares(&self.split)
    }
}

/// The steps of a training run, reported as each begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Fitting the model on the earliest rows.
    Fit,
    /// Fitting the calibrator on the next rows.
    Calibrate,
    /// Measuring the calibrated model on the latest rows.
    Validate,
}

/// Trains, calibrates and validates a model on `table` (rows in time order).
pub fn train(
    table: &TrainingTable,
    config: &TrainingConfig,
    version: &str,
    time_column: &str,
    created_at: DateTime<Utc>,
    mut progress: impl FnMut(Step),
) -> Result<ModelArtifact, ModelError> {
    if version.trim().is_empty() {
        return Err(ModelError::parameter("version", "empty"));
    }
    config.check()?;
    let logistic = config.logistic.check_ref()?;
    let boosting = config.boosting.check_ref()?;
    let parts = table.split_by_time(&config.split)?;
    let span = |r: &std::ops::Range<usize>| TimeSpan {
        first: table.time[r.start],
        last: table.time[r.end - 1],
        rows: r.len(),
    };
    progress(Step::Fit);
    let (x, y) = table.part(parts[0].clone());
    let training_base_rate = y.iter().filter(|&&l| l).count() as f64 / y.len() as f64;
    let feature_means = StandardScaler::fit(x)?.mean;
    let feature_profiles = crate::drift::profiles(x);
    let data = DatasetBase::new(x, ndarray::Array1::from(y.to_vec()));
    let (model, trainer) = match config.kind {
        ModelKind::Logistic => {
            let weight = match logistic.class_weight() {
                ClassWeight::None => "none",
                ClassWeight::Balanced => "balanced",
            };
            let trainer = format!(
                "logistic regression (Newton), C={}, class weight {weight}{}",
                logistic.c(),
                if logistic.standardize() {
                    ", standardised"
                } else {
                    ""
                }
            );
            (RiskModel::Logistic(logistic.fit(&data)?), trainer)
        }
        ModelKind::BoostedTrees => {
            let trainer = format!(
                "gradient-boosted trees, {} trees of up to {} leaves, learning rate {}, at least {} rows per leaf",
                boosting.max_iterations(),
                boosting.max_leaf_nodes(),
                boosting.learning_rate(),
                boosting.min_samples_leaf()
            );
            (RiskModel::BoostedTrees(boosting.fit(&data)?), trainer)
        }
    };

    progress(Step::Calibrate);
    let (x, y) = table.part(parts[1].clone());
    let raw = raw_probabilities(&model, x)?;
    let calibrator = Calibrator::platt(&raw, y)?;

    progress(Step::Validate);
    let (x, y) = table.part(parts[2].clone());
    let calibrated = calibrated_probabilities(&model, &calibrator, x)?;
    let metrics = evaluate(&calibrated, y, training_base_rate, CALIBRATION_BINS)?;
    Ok(ModelArtifact {
        metadata: ModelMetadata {
            format: ARTIFACT_FORMAT,
            version: version.to_owned(),
            created_at,
            trainer: format!("{trainer}; {} features", model.features()),
            feature_schema_hash: table.encoding.schema_hash(),
            time_column: time_column.to_owned(),
            time_kind: table.time_kind,
            training: span(&parts[0]),
            calibration: span(&parts[1]),
            validation: span(&parts[2]),
            training_base_rate,
            feature_means,
            metrics,
            feature_profiles,
        },
        encoding: table.encoding.clone(),
        model,
        calibrator,
        classes: config.classes.clone(),
    })
}

/// Calibrated probabilities of many rows.
pub fn calibrated_probabilities(
    model: &RiskModel,
    calibrator: &Calibrator,
    x: ndarray::ArrayView2<'_, f64>,
) -> Result<Vec<f64>, ModelError> {
    Ok(raw_probabilities(model, x)?
        .into_iter()
        .map(|p| calibrator.apply(p))
        .collect())
}

/// Raw probabilities of many rows.
pub fn raw_probabilities(
    model: &RiskModel,
    x: ndarray::ArrayView2<'_, f64>,
) -> Result<Vec<f64>, ModelError> {
    match model {
        RiskModel::Logistic(m) => Ok(m.probabilities(x)?.to_vec()),
        RiskModel::BoostedTrees(m) => m.probabilities(x),
    }
}
