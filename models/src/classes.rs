//! Risk classes: bands of calibrated probability with cut-offs the analyst sets
//! (default A < 5 % ≤ B < 15 % ≤ C < 30 % ≤ D < 50 % ≤ E).

use serde::{Deserialize, Serialize};

use crate::error::ModelError;

/// Ordered risk classes, best first, and the probabilities that separate them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RiskClassesSpec", into = "RiskClassesSpec")]
pub struct RiskClasses {
    labels: Vec<String>,
    cutoffs: Vec<f64>,
}

/// The written form of [`RiskClasses`], checked on reading.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskClassesSpec {
    /// Class names, best (least risky) first.
    pub labels: Vec<String>,
    /// One fewer than the labels: the probability at which each next class begins.
    pub cutoffs: Vec<f64>,
}

impl TryFrom<RiskClassesSpec> for RiskClasses {
    type Error = ModelError;
    fn try_from(spec: RiskClassesSpec) -> Result<Self, ModelError> {
        RiskClasses::new(spec.labels, spec.cutoffs)
    }
}

impl From<RiskClasses> for RiskClassesSpec {
    fn from(c: RiskClasses) -> Self {
        RiskClassesSpec {
            labels: c.labels,
            cutoffs: c.cutoffs,
        }
    }
}

impl Default for RiskClasses {
    fn default() -> Self {
        RiskClasses {
            labels: ["A", "B", "C", "D", "E"].map(String::from).to_vec(),
            cutoffs: vec![0.05, 0.15, 0.30, 0.50],
        }
    }
}

/// One class's line in an evaluation: how many rows it holds and how many were late.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassRow {
    /// The class.
    pub label: String,
    /// Probability band `[from, to)`.
    pub from: f64,
    /// Upper edge of the band.
    pub to: f64,
    /// Rows scored into the class.
    pub rows: usize,
    /// Of those, rows that were late.
    pub late: usize,
    /// Mean calibrated probability of the class's rows.
    pub mean_predicted: f64,
}

impl RiskClasses {
    /// Classes from names (best first) and the cut-offs between them, which must rise
    /// strictly inside (0, 1).
    pub fn new(labels: Vec<String>, cutoffs: Vec<f64>) -> Result<RiskClasses, ModelError> {
        if labels.len() < 2 {
            return Err(ModelError::parameter("labels", "at least two classes"));
        }
        if cutoffs.len() + 1 != labels.len() {
            return Err(ModelError::parameter(
                "cutoffs",
                format!(
                    "{} classes need {} cut-offs, got {}",
                    labels.len(),
                    labels.len() - 1,
                    cutoffs.len()
                ),
            ));
        }
        if let Some(l) = labels.iter().find(|l| l.trim().is_empty()) {
            return Err(ModelError::parameter(
                "labels",
                format!("empty class name {l:?}"),
            ));
        }
        for (i, l) in labels.iter().enumerate() {
            if labels[..i].contains(l) {
                return Err(ModelError::parameter(
                    "labels",
                    format!("{l:?} appears twice"),
                ));
            }
        }
        if let Some(c) = cutoffs.iter().find(|c| !(**c > 0.0 && **c < 1.0)) {
            return Err(ModelError::parameter(
                "cutoffs",
                format!("{c} is not strictly between 0 and 1"),
            ));
        }
        if cutoffs.windows(2).any(|w| w[0] >= w[1]) {
            return Err(ModelError::parameter("cutoffs", "must rise strictly"));
        }
        Ok(RiskClasses { labels, cutoffs })
    }

    /// Class names, best first.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The cut-offs between classes.
    pub fn cutoffs(&self) -> &[f64] {
        &self.cutoffs
    }

    /// Index of the class of a calibrated probability (0 is the best); a probability
    /// that is not a number gets the worst class.
    pub fn class_of(&self, probability: f64) -> usize {
        if probability.is_nan() {
            return self.worst();
        }
        self.cutoffs.partition_point(|&c| c <= probability)
    }

    /// Name of the class of a calibrated probability.
    pub fn label_of(&self, probability: f64) -> &str {
        &self.labels[self.class_of(probability)]
    }

    /// Index of the worst class.
    pub fn worst(&self) -> usize {
        self.labels.len() - 1
    }

    /// Rows and late rows per class.
    pub fn table(&self, probabilities: &[f64], labels: &[bool]) -> Vec<ClassRow> {
        let mut rows: Vec<ClassRow> = self
            .labels
            .iter()
            .enumerate()
            .map(|(i, label)| ClassRow {
                label: label.clone(),
                from: if i == 0 { 0.0 } else { self.cutoffs[i - 1] },
                to: self.cutoffs.get(i).copied().unwrap_or(1.0),
                rows: 0,
                late: 0,
                mean_predicted: 0.0,
            })
            .collect();
        for (&p, &l) in probabilities.iter().zip(labels) {
            let row = &mut rows[self.class_of(p)];
            row.rows += 1;
            row.late += usize::from(l);
            row.mean_predicted += p;
        }
        for row in &mut rows {
            if row.rows > 0 {
                row.mean_predicted /= row.rows as f64;
            }
        }
        rows
    }
}
