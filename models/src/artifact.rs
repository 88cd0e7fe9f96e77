//! The model artifact: everything needed to score a debtor (feature encoding, fitted
//! model, calibrator, risk classes) with the metadata the registry keeps (version,
//! feature schema hash, training window, validation metrics, creation time). Stored as
//! JSON; the format number changes when a reader of the old format could misread it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::boosting::BoostedTrees;
use crate::calibration::Calibrator;
use crate::classes::RiskClasses;
use crate::drift::FeatureProfile;
use crate::error::ModelError;
use crate::logistic::LogisticModel;
use crate::metrics::Evaluation;
use crate::table::{FeatureEncoding, TimeKind};

/// The artifact format this crate writes and reads.
pub const ARTIFACT_FORMAT: u32 = 1;

/// The fitted model inside an artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RiskModel {
    /// Logistic regression on standardised features.
    Logistic(LogisticModel),
    /// Gradient-boosted trees.
    BoostedTrees(BoostedTrees),
}

impl RiskModel {
    /// The raw (uncalibrated) probability of a row of encoded features.
    pub fn raw_probability(&self, row: &[f64]) -> f64 {
        match self {
            RiskModel::Logistic(m) => m.probability(row),
            RiskModel::BoostedTrees(m) => m.probability(row),
        }
    }

    /// How much each encoded feature matters to the model, normalised to sum to 1:
    /// for the logistic regression the size of its standardised coefficient, for trees
    /// its share of the split gain.
    pub fn importance(&self) -> Vec<f64> {
        match self {
            RiskModel::Logistic(m) => {
                let total: f64 = m.coefficients.iter().map(|c| c.abs()).sum();
                m.coefficients
                    .iter()
                    .map(|c| if total > 0.0 { c.abs() / total } else { 0.0 })
                    .collect()
            }
            RiskModel::BoostedTrees(m) => m.feature_importance(),
        }
    }

    /// Number of encoded features the model takes.
    pub fn features(&self) -> usize {
        match self {
            RiskModel::Logistic(m) => m.features(),
            RiskModel::BoostedTrees(m) => m.features,
        }
    }
}

/// The time span and size of one part of the time-ordered split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeSpan {
    /// Time of the first row (the training table's time column value).
    pub first: i64,
    /// Time of the last row.
    pub last: i64,
    /// Rows in the part.
    pub rows: usize,
}

/// What the registry records about a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    /// Artifact format ([`ARTIFACT_FORMAT`]).
    pub format: u32,
    /// The model's version name, unique in a registry.
    pub version: String,
    /// When the model was trained.
    pub created_at: DateTime<Utc>,
    /// What was trained, in a few words (model kind and hyperparameters).
    pub trainer: String,
    /// Digest of the input columns the model reads ([`FeatureEncoding::schema_hash`]).
    pub feature_schema_hash: String,
    /// The time column the split used.
    pub time_column: String,
    /// What the time column's integers count (for showing the spans as dates).
    pub time_kind: TimeKind,
    /// Rows the model was fitted on.
    pub training: TimeSpan,
    /// Held-out rows the calibrator was fitted on.
    pub calibration: TimeSpan,
    /// Later held-out rows the metrics were measured on.
    pub validation: TimeSpan,
    /// Late share of the training rows.
    pub training_base_rate: f64,
    /// Mean of each encoded feature over the training rows (missing values left out),
    /// shown as the typical value in explanations.
    pub feature_means: Vec<f64>,
    /// Metrics of the calibrated probabilities on the validation rows.
    pub metrics: Evaluation,
    /// Each encoded feature's distribution over the training rows, to measure drift
    /// (population stability index) against the rows scored later.
    #[serde(default)]
    pub feature_profiles: Vec<FeatureProfile>,
}

/// A trained, calibrated risk model with its metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelArtifact {
    /// Registry metadata.
    pub metadata: ModelMetadata,
    /// How input columns become features.
    pub encoding: FeatureEncoding,
    /// The fitted model.
    pub model: RiskModel,
    /// Raw → calibrated probability.
    pub calibrator: Calibrator,
    /// Calibrated probability → risk class.
    pub classes: RiskClasses,
}

/// A row's risk as the artifact scores it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RiskScore {
    /// The model's probability before calibration.
    pub raw: f64,
    /// Calibrated probability of paying late.
    pub probability: f64,
    /// Index of the risk class (0 is the best).
    pub class: usize,
}

impl ModelArtifact {
    /// Scores a row of encoded features.
    pub fn score_row(&self, row: &[f64]) -> RiskScore {
        let raw = self.model.raw_probability(row);
        let probability = self.calibrator.apply(raw);
        RiskScore {
            raw,
            probability,
            class: self.classes.class_of(probability),
        }
    }

    /// Refuses to score features whose schema differs from the model's.
    pub fn check_schema(&self, running_schema_hash: &str) -> Result<(), ModelError> {
        if self.metadata.feature_schema_hash == running_schema_hash {
            Ok(())
        } else {
            Err(ModelError::SchemaMismatch {
                version: self.metadata.version.clone(),
                model_schema: self.metadata.feature_schema_hash.clone(),
                running_schema: running_schema_hash.to_owned(),
            })
        }
    }

    /// Refuses to score rows of `schema` (the running features) when a column the model
    /// reads is missing or of another kind, naming each one.
    pub fn check_inputs(&self, schema: &arrow_schema::Schema) -> Result<(), ModelError> {
        let problems = self.encoding.misfits(schema);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ModelError::InputsMismatch {
                version: self.metadata.version.clone(),
                problems,
            })
        }
    }

    /// The artifact as JSON.
    pub fn to_json(&self) -> Result<Vec<u8>, ModelError> {
        serde_json::to_vec_pretty(self).map_err(|e| ModelError::Data(format!("artifact: {e}")))
    }

    /// Reads an artifact, refusing other formats and inconsistent parts.
    pub fn from_json(bytes: &[u8]) -> Result<ModelArtifact, ModelError> {
        let a: ModelArtifact = serde_json::from_slice(bytes)
            .map_err(|e| ModelError::Data(format!("not a model artifact: {e}")))?;
        if a.metadata.format != ARTIFACT_FORMAT {
            return Err(ModelError::Data(format!(
                "artifact format {} is not the supported {ARTIFACT_FORMAT}",
                a.metadata.format
            )));
        }
        match &a.model {
            RiskModel::Logistic(m) => m.validate()?,
            RiskModel::BoostedTrees(m) => m.validate()?,
        }
        if a.model.features() != a.encoding.width() {
            return Err(ModelError::Shape {
                expected: a.encoding.width(),
                got: a.model.features(),
            });
        }
        let profiles = &a.metadata.feature_profiles;
        if !profiles.is_empty()
            && (profiles.len() != a.encoding.width()
                || profiles.iter().any(|p| p.shares.len() != p.edges.len() + 2))
        {
            return Err(ModelError::Data(
                "the artifact's feature profiles do not fit its encoding".into(),
            ));
        }
        if a.encoding.schema_hash() != a.metadata.feature_schema_hash {
            return Err(ModelError::Data(
                "the artifact's schema hash does not match its encoding".into(),
            ));
        }
        Ok(a)
    }
}
