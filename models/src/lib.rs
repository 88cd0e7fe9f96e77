//! Late-payer risk, risk classes and credit-limit models: training, evaluation,
//! calibration and the formats the pipeline loads.
//!
//! Layout:
//! - [`scaling`]: feature standardisation learnt on the training rows.
//! - [`logistic`]: the default risk model, logistic regression fitted by Newton's method
//!   behind linfa's `Fit` trait.
//! - [`boosting`]: the challenger, histogram gradient-boosted trees grown leaf-wise.
//! - [`calibration`]: Platt scaling on held-out rows, so a probability means what it says.
//! - [`classes`]: risk classes (A–E) from calibrated probabilities, cut-offs configurable.
//! - [`limits`]: the credit-limit policy (TOML): risk class × typical invoicing, bureau
//!   rating, floors and caps per debtor type, bounded change, rounding; with its reasons.
//! - [`metrics`]: AUC, KS, Brier score, log-loss, calibration tables, ROC curves.
//! - [`table`]: Arrow batches → time-ordered, encoded training rows (numbers, one
//!   indicator per text category) and the encoding's schema hash.
//! - [`report`]: a model judged on labelled rows, as text and as an HTML page with charts.
//! - [`drift`]: each feature's training distribution and the population stability index
//!   of newer rows against it.
//! - [`mod@explain`]: why a row scored as it did, column by column, in words.
//! - [`training`]: a training run (time-ordered split: fit, calibrate, validate) that
//!   produces an [`artifact`]: encoding, model, calibrator, classes and registry metadata.
//!
//! Data flows: Arrow batches → encoded feature rows (rows × features, `f64`, NaN =
//! missing) and late labels → scaler + fitted model → raw probability → calibrator →
//! probability → risk class.

pub mod artifact;
pub mod boosting;
pub mod calibration;
pub mod classes;
pub mod drift;
pub mod error;
pub mod explain;
pub mod limits;
pub mod logistic;
pub mod metrics;
pub mod report;
pub mod scaling;
pub mod table;
pub mod training;

pub use artifact::{ModelArtifact, ModelMetadata, RiskModel, RiskScore};
pub use boosting::{BoostedTrees, BoostingParams};
pub use calibration::Calibrator;
pub use classes::RiskClasses;
pub use error::ModelError;
pub use explain::{Explainer, Explanation, explain, explain_top};
pub use limits::{LimitInputs, LimitPolicy, LimitRecommendation};
pub use logistic::{ClassWeight, LogisticModel, LogisticParams, ValidLogisticParams};
pub use report::ModelReport;
pub use scaling::StandardScaler;
pub use table::{FeatureEncoding, TimeKind, TrainingTable};
pub use training::{ModelKind, TrainingConfig, train};
