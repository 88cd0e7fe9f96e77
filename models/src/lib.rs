//! Late-payer risk, risk classes and credit-limit models: training, evaluation,
//! calibration and the formats the pipeline loads.
//!
//! Layout:
//! - [`scaling`]: feature standardisation learnt on the training rows.
//! - [`logistic`]: the default risk model, logistic regression fitted by Newton's method
//!   behind linfa's `Fit` trait.
//! - [`calibration`]: Platt scaling on held-out rows, so a probability means what it says.
//! - [`classes`]: risk classes (A–E) from calibrated probabilities, cut-offs configurable.
//! - [`metrics`]: AUC, KS, Brier score, log-loss, calibration tables, ROC curves.
//!
//! Data flows: feature rows (rows × features, `f64`, NaN = missing) and late labels →
//! scaler + fitted model → raw probability → calibrator → probability → risk class.

pub mod calibration;
pub mod classes;
pub mod error;
pub mod logistic;
pub mod metrics;
pub mod scaling;

pub use calibration::Calibrator;
pub use classes::RiskClasses;
pub use error::ModelError;
pub use logistic::{ClassWeight, LogisticModel, LogisticParams, ValidLogisticParams};
pub use scaling::StandardScaler;
