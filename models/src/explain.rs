//! Why a row scored as it did: each input column's push on the (calibrated) log-odds of
//! paying late, in words a credit manager reads. For the logistic regression a column's
//! push is its coefficient times its standardised value (nothing at the training mean);
//! for trees it is what the splits on the column changed along the row's paths. Platt
//! calibration is affine on the log-odds, so the pushes scale with it and still add up:
//! base + Σ pushes = the calibrated log-odds.

use serde::{Deserialize, Serialize};

use crate::artifact::{ModelArtifact, RiskModel};
use crate::calibration::Calibrator;
use crate::logistic::sigmoid;
use crate::table::EncodedColumn;

/// One input column's part in a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// The input column.
    pub column: String,
    /// Its value for the row, as text ("unknown" when missing).
    pub value: String,
    /// Its mean over the training rows (numbers only).
    pub typical: Option<f64>,
    /// Its push on the calibrated log-odds of paying late.
    pub log_odds: f64,
}

/// A score taken apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// Calibrated probability of paying late.
    pub probability: f64,
    /// Risk class.
    pub class: String,
    /// Probability with no column pushing (every number at its training mean for the
    /// logistic regression; the trees' starting point).
    pub base_probability: f64,
    /// The columns, strongest push first.
    pub factors: Vec<Factor>,
}

/// Explains the score of a row of encoded features: every input column.
pub fn explain(artifact: &ModelArtifact, row: &[f64]) -> Explanation {
    explain_top(artifact, row, usize::MAX)
}

/// Explains the score of a row with its `top` strongest columns only (cheaper: only they
/// are put into words).
pub fn explain_top(artifact: &ModelArtifact, row: &[f64], top: usize) -> Explanation {
    let (order, base, slope, shift) = strongest(artifact, row, top);
    let columns = &artifact.encoding.columns;
    let means = &artifact.metadata.feature_means;
    let factors = order
        .into_iter()
        .map(|(c, at, log_odds)| Factor {
            column: columns[c].name().to_owned(),
            value: value_of(&columns[c], row, at),
            typical: typical_of(&columns[c], means, at),
            log_odds,
        })
        .collect();
    let score = artifact.score_row(row);
    Explanation {
        probability: score.probability,
        class: artifact.classes.labels()[score.class].clone(),
        base_probability: sigmoid(slope * base + shift),
        factors,
    }
}

/// The `top` strongest columns of a row as (column index, first encoded feature, push on
/// the calibrated log-odds), strongest first (ties by column name), with the model's base
/// log-odds and the calibration's slope and shift.
fn strongest(
    artifact: &ModelArtifact,
    row: &[f64],
    top: usize,
) -> (Vec<(usize, usize, f64)>, f64, f64, f64) {
    let (pushes, base) = match &artifact.model {
        RiskModel::Logistic(m) => (m.contributions(row), m.intercept),
        RiskModel::BoostedTrees(m) => m.contributions(row),
    };
    let (slope, shift) = match artifact.calibrator {
        Calibrator::Identity => (1.0, 0.0),
        Calibrator::Platt { slope, intercept } => (slope, intercept),
    };
    let mut order = Vec::with_capacity(artifact.encoding.columns.len());
    let mut at = 0;
    for (c, column) in artifact.encoding.columns.iter().enumerate() {
        let width = match column {
            EncodedColumn::Number { .. } => 1,
            EncodedColumn::Category { categories, .. } => categories.len(),
        };
        order.push((c, at, slope * pushes[at..at + width].iter().sum::<f64>()));
        at += width;
    }
    let columns = &artifact.encoding.columns;
    let stronger = |a: &(usize, usize, f64), b: &(usize, usize, f64)| {
        b.2.abs()
            .total_cmp(&a.2.abs())
            .then_with(|| columns[a.0].name().cmp(columns[b.0].name()))
    };
    // Only the strongest are ordered: a score update names three of dozens of columns.
    if top < order.len() {
        if top > 0 {
            order.select_nth_unstable_by(top - 1, stronger);
        }
        order.truncate(top);
    }
    order.sort_by(stronger);
    (order, base, slope, shift)
}

/// A column's value in a row, as text ("unknown" when missing).
fn value_of(column: &EncodedColumn, row: &[f64], at: usize) -> String {
    match column {
        EncodedColumn::Number { .. } => {
            let v = row[at];
            if v.is_nan() {
                "unknown".into()
            } else {
                number(v)
            }
        }
        EncodedColumn::Category { categories, .. } => (0..categories.len())
            .find(|&k| row[at + k] == 1.0)
            .map_or_else(|| "unknown".to_owned(), |k| categories[k].clone()),
    }
}

/// A number column's mean over the training rows, if known.
fn typical_of(column: &EncodedColumn, means: &[f64], at: usize) -> Option<f64> {
    match column {
        EncodedColumn::Number { .. } => means.get(at).copied().filter(|m| m.is_finite()),
        EncodedColumn::Category { .. } => None,
    }
}

/// Puts the drivers of a model's scores into words, as [`Explanation::summary`] does, for
/// a stream of scores: the columns' names are put into words once, and a row already
/// scored is not scored again.
#[derive(Debug, Clone, Default)]
pub struct Explainer {
    /// The model version the words are of.
    version: String,
    /// Each input column's name in words.
    words: Vec<String>,
}

impl Explainer {
    /// The explainer of `artifact`'s columns.
    pub fn new(artifact: &ModelArtifact) -> Explainer {
        Explainer {
            version: artifact.metadata.version.clone(),
            words: artifact
                .encoding
                .columns
                .iter()
                .map(|c| words(c.name()))
                .collect(),
        }
    }

    /// Whether this explainer was made for `artifact`.
    pub fn fits(&self, artifact: &ModelArtifact) -> bool {
        self.version == artifact.metadata.version
            && self.words.len() == artifact.encoding.columns.len()
    }

    /// The line `explain_top(artifact, row, top).summary(top)` gives, for an artifact this
    /// explainer [fits](Explainer::fits).
    pub fn summary(&self, artifact: &ModelArtifact, row: &[f64], top: usize) -> String {
        let (order, ..) = strongest(artifact, row, top);
        let columns = &artifact.encoding.columns;
        let means = &artifact.metadata.feature_means;
        let mut out = String::new();
        for (c, at, log_odds) in order {
            if log_odds.abs() < MOVES {
                continue;
            }
            let name = self
                .words
                .get(c)
                .map_or_else(|| words(columns[c].name()), Clone::clone);
            let typical = typical_of(&columns[c], means, at);
            push_driver(
                &mut out,
                &name,
                &value_of(&columns[c], row, at),
                typical,
                log_odds,
            );
        }
        if out.is_empty() {
            NOTHING_MOVES.to_owned()
        } else {
            out
        }
    }
}

/// A push smaller than this (on the log-odds) is not named as a driver.
const MOVES: f64 = 0.005;

/// The summary when no column pushes the score by [`MOVES`] or more.
const NOTHING_MOVES: &str = "no column moves the score much";

/// Appends one driver to a summary line (`; ` between drivers):
/// `late share, last 90 days 0.40 (typical 0.08) raises the odds 2.10-fold`.
fn push_driver(out: &mut String, words: &str, value: &str, typical: Option<f64>, log_odds: f64) {
    use std::fmt::Write;
    if !out.is_empty() {
        out.push_str("; ");
    }
    let direction = if log_odds > 0.0 { "raises" } else { "lowers" };
    let _ = write!(out, "{words} {value}");
    if let Some(t) = typical {
        let _ = write!(out, " (typical {})", number(t));
    }
    let _ = write!(
        out,
        " {direction} the odds {:.2}-fold",
        log_odds.abs().exp()
    );
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// A feature name as words: `late_share_90d` → "late share, last 90 days";
/// `overdue_balance_over_30d` → "overdue balance more than 30 days past due".
pub fn words(name: &str) -> String {
    let parts: Vec<&str> = name.split('_').collect();
    let days = |p: &str| {
        p.strip_suffix('d')
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            .map(str::to_owned)
    };
    match parts.as_slice() {
        [head @ .., "over", last] if days(last).is_some() => format!(
            "{} more than {} days past due",
            head.join(" "),
            days(last).unwrap_or_default()
        ),
        [head @ .., last] if !head.is_empty() && days(last).is_some() => format!(
            "{}, last {} days",
            head.join(" "),
            days(last).unwrap_or_default()
        ),
        _ => parts.join(" "),
    }
}

impl Explanation {
    /// The `top` strongest columns on one line, for a score update's reason:
    /// `late share, last 90 days 0.40 (typical 0.08) raises the odds 2.10-fold; ...`.
    pub fn summary(&self, top: usize) -> String {
        let mut out = String::new();
        for f in self
            .factors
            .iter()
            .filter(|f| f.log_odds.abs() >= MOVES)
            .take(top)
        {
            push_driver(&mut out, &words(&f.column), &f.value, f.typical, f.log_odds);
        }
        if out.is_empty() {
            NOTHING_MOVES.to_owned()
        } else {
            out
        }
    }

    /// The explanation in sentences, the `top` strongest columns.
    pub fn text(&self, top: usize) -> String {
        let mut out = format!(
            "{:.1} % chance of paying more than the agreed days late: risk class {}.\n\
             Starting point {:.1} %; what moves it:\n",
            100.0 * self.probability,
            self.class,
            100.0 * self.base_probability
        );
        for f in self.factors.iter().take(top) {
            let factor = f.log_odds.abs().exp();
            let effect = if f.log_odds.abs() < MOVES {
                "hardly changes the odds".to_owned()
            } else if f.log_odds > 0.0 {
                format!("raises the odds of paying late {factor:.2}-fold")
            } else {
                format!("lowers the odds of paying late {factor:.2}-fold")
            };
            let typical = f
                .typical
                .map(|t| format!(" (typical {})", number(t)))
                .unwrap_or_default();
            out.push_str(&format!(
                "  - {} is {}{typical}: {effect}\n",
                words(&f.column),
                f.value
            ));
        }
        out
    }
}
