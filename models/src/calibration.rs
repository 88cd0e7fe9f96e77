//! Calibration: turning a model's raw probability into one that means what it says (of
//! invoices scored 20 %, about 20 % are paid late), learnt on held-out rows that the
//! model did not train on.

use linfa::ParamGuard;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::logistic::{ClassWeight, LogisticParams, sigmoid};

/// A monotone map from raw to calibrated probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Calibrator {
    /// Raw probabilities are used as they are.
    Identity,
    /// Platt scaling: `σ(slope · logit(p) + intercept)`.
    Platt {
        /// Multiplies the raw log-odds.
        slope: f64,
        /// Added to the scaled log-odds.
        intercept: f64,
    },
}

impl Calibrator {
    /// Fits Platt scaling to raw probabilities and their labels, with Platt's smoothed
    /// targets (`(N₊+1)/(N₊+2)` and `1/(N₋+2)`) so that a small calibration set does not
    /// produce certainties.
    pub fn platt(raw: &[f64], labels: &[bool]) -> Result<Calibrator, ModelError> {
        if raw.len() != labels.len() {
            return Err(linfa::Error::MismatchedShapes(raw.len(), labels.len()).into());
        }
        let positives = labels.iter().filter(|&&l| l).count();
        let negatives = labels.len() - positives;
        if positives == 0 || negatives == 0 {
            return Err(ModelError::Data(
                "calibration needs held-out rows of both classes".into(),
            ));
        }
        let hi = (positives as f64 + 1.0) / (positives as f64 + 2.0);
        let lo = 1.0 / (negatives as f64 + 2.0);
        let targets: Vec<f64> = labels.iter().map(|&l| if l { hi } else { lo }).collect();
        let x = Array2::from_shape_vec((raw.len(), 1), raw.iter().map(|&p| logit(p)).collect())
            .map_err(linfa::Error::from)?;
        let fitted = LogisticParams::new()
            .c(f64::INFINITY)
            .class_weight(ClassWeight::None)
            .standardize(false)
            .threads(1)
            .check()?
            .fit_targets(x.view(), &targets, None)?;
        Ok(Calibrator::Platt {
            slope: fitted.coefficients[0],
            intercept: fitted.intercept,
        })
    }

    /// The calibrated probability of a raw one.
    pub fn apply(&self, raw: f64) -> f64 {
        match *self {
            Calibrator::Identity => raw,
            Calibrator::Platt { slope, intercept } => sigmoid(slope * logit(raw) + intercept),
        }
    }
}

/// Log-odds of a probability, clipped away from 0 and 1.
pub fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    (p / (1.0 - p)).ln()
}
