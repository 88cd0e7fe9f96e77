//! How good a risk score is: ranking (AUC, KS), accuracy of the probabilities (Brier
//! score, log-loss) and calibration (predicted against observed late share per band).

use serde::{Deserialize, Serialize};

use crate::error::ModelError;

/// Everything `evaluate` reports about a score on labelled rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Rows scored.
    pub rows: usize,
    /// Rows labelled late.
    pub positives: usize,
    /// Late share of these rows.
    pub base_rate: f64,
    /// Area under the ROC curve (0.5 is chance, 1 a perfect ranking).
    pub auc: f64,
    /// Kolmogorov–Smirnov statistic: the largest gap between the late and on-time
    /// rows' cumulative score distributions.
    pub ks: f64,
    /// Mean squared error of the probabilities.
    pub brier: f64,
    /// Brier score of always predicting the reference late share (the training
    /// period's); a useful model scores below it.
    pub brier_reference: f64,
    /// Mean negative log-likelihood of the labels.
    pub log_loss: f64,
    /// Predicted against observed late share in equal-width probability bands.
    pub calibration: Vec<CalibrationBin>,
    /// Row-weighted mean gap between predicted and observed late share over the bands.
    pub expected_calibration_error: f64,
}

/// One probability band of a calibration table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Lower edge of the band (inclusive).
    pub lower: f64,
    /// Upper edge of the band (exclusive, but 1.0 is in the last band).
    pub upper: f64,
    /// Rows whose probability falls in the band.
    pub rows: usize,
    /// Mean predicted probability of those rows.
    pub mean_predicted: f64,
    /// Share of those rows that were late.
    pub observed: f64,
}

/// One point of a ROC curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RocPoint {
    /// False-positive rate at the threshold.
    pub fpr: f64,
    /// True-positive rate at the threshold.
    pub tpr: f64,
}

/// Evaluates probabilities against labels. `reference_rate` is the late share a model
/// must beat (normally the training period's); bands are `bins` equal-width slices of
/// [0, 1].
pub fn evaluate(
    scores: &[f64],
    labels: &[bool],
    reference_rate: f64,
    bins: usize,
) -> Result<Evaluation, ModelError> {
    check(scores, labels)?;
    let rows = scores.len();
    let positives = labels.iter().filter(|&&l| l).count();
    let calibration = calibration_table(scores, labels, bins);
    let expected_calibration_error = calibration
        .iter()
        .map(|b| b.rows as f64 * (b.mean_predicted - b.observed).abs())
        .sum::<f64>()
        / rows as f64;
    Ok(Evaluation {
        rows,
        positives,
        base_rate: positives as f64 / rows as f64,
        auc: auc(scores, labels)?,
        ks: ks(scores, labels)?,
        brier: brier(scores, labels),
        brier_reference: brier_constant(reference_rate, labels),
        log_loss: log_loss(scores, labels),
        calibration,
        expected_calibration_error,
    })
}

fn check(scores: &[f64], labels: &[bool]) -> Result<(), ModelError> {
    if scores.len() != labels.len() {
        return Err(linfa::Error::MismatchedShapes(scores.len(), labels.len()).into());
    }
    if scores.is_empty() {
        return Err(ModelError::Data("no rows to evaluate".into()));
    }
    if let Some(i) = scores.iter().position(|s| s.is_nan()) {
        return Err(ModelError::Data(format!("row {i}: score is NaN")));
    }
    Ok(())
}

/// Rows sorted by score, grouped by equal score: (late, on time) per group, ascending.
fn groups(scores: &[f64], labels: &[bool]) -> Vec<(u64, u64)> {
    let mut pairs: Vec<(f64, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<(u64, u64)> = Vec::new();
    let mut last = f64::NAN;
    for (s, l) in pairs {
        if out.is_empty() || s != last {
            out.push((0, 0));
            last = s;
        }
        if let Some(g) = out.last_mut() {
            if l {
                g.0 += 1;
            } else {
                g.1 += 1;
            }
        }
    }
    out
}

fn both_classes(labels: &[bool]) -> Result<(u64, u64), ModelError> {
    let p = labels.iter().filter(|&&l| l).count() as u64;
    let n = labels.len() as u64 - p;
    if p == 0 || n == 0 {
        return Err(ModelError::Data(
            "AUC and KS need rows of both classes".into(),
        ));
    }
    Ok((p, n))
}

/// Area under the ROC curve; tied scores count one half.
pub fn auc(scores: &[f64], labels: &[bool]) -> Result<f64, ModelError> {
    check(scores, labels)?;
    let (p, n) = both_classes(labels)?;
    let mut below = 0_u64;
    let mut sum = 0.0_f64;
    for (late, on_time) in groups(scores, labels) {
        sum += late as f64 * below as f64 + 0.5 * late as f64 * on_time as f64;
        below += on_time;
    }
    Ok(sum / (p as f64 * n as f64))
}

/// Kolmogorov–Smirnov statistic between the scores of late and on-time rows.
pub fn ks(scores: &[f64], labels: &[bool]) -> Result<f64, ModelError> {
    check(scores, labels)?;
    let (p, n) = both_classes(labels)?;
    let (mut late, mut on_time, mut best) = (0_u64, 0_u64, 0.0_f64);
    for (l, o) in groups(scores, labels) {
        late += l;
        on_time += o;
        best = best.max((late as f64 / p as f64 - on_time as f64 / n as f64).abs());
    }
    Ok(best)
}

/// The ROC curve from the highest threshold down, thinned to about `max_points`.
pub fn roc_curve(
    scores: &[f64],
    labels: &[bool],
    max_points: usize,
) -> Result<Vec<RocPoint>, ModelError> {
    check(scores, labels)?;
    let (p, n) = both_classes(labels)?;
    let groups = groups(scores, labels);
    let every = groups.len().div_ceil(max_points.max(2)).max(1);
    let mut out = vec![RocPoint { fpr: 0.0, tpr: 0.0 }];
    let (mut tp, mut fp) = (0_u64, 0_u64);
    for (i, (l, o)) in groups.iter().rev().enumerate() {
        tp += l;
        fp += o;
        if i % every == every - 1 || i + 1 == groups.len() {
            out.push(RocPoint {
                fpr: fp as f64 / n as f64,
                tpr: tp as f64 / p as f64,
            });
        }
    }
    Ok(out)
}

/// Mean squared error of the probabilities.
pub fn brier(scores: &[f64], labels: &[bool]) -> f64 {
    let sum: f64 = scores
        .iter()
        .zip(labels)
        .map(|(&s, &l)| (s - f64::from(u8::from(l))).powi(2))
        .sum();
    sum / scores.len().max(1) as f64
}

/// Brier score of predicting `rate` for every row.
pub fn brier_constant(rate: f64, labels: &[bool]) -> f64 {
    let sum: f64 = labels
        .iter()
        .map(|&l| (rate - f64::from(u8::from(l))).powi(2))
        .sum();
    sum / labels.len().max(1) as f64
}

/// Mean negative log-likelihood; probabilities are clipped to [1e-15, 1 − 1e-15].
pub fn log_loss(scores: &[f64], labels: &[bool]) -> f64 {
    let sum: f64 = scores
        .iter()
        .zip(labels)
        .map(|(&s, &l)| {
            let p = s.clamp(1e-15, 1.0 - 1e-15);
            if l { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum();
    sum / scores.len().max(1) as f64
}

/// Predicted against observed late share in `bins` equal-width bands of [0, 1]; empty
/// bands are left out.
pub fn calibration_table(scores: &[f64], labels: &[bool], bins: usize) -> Vec<CalibrationBin> {
    let bins = bins.max(1);
    let mut rows = vec![0_usize; bins];
    let mut predicted = vec![0.0_f64; bins];
    let mut late = vec![0_usize; bins];
    for (&s, &l) in scores.iter().zip(labels) {
        let b = ((s.clamp(0.0, 1.0) * bins as f64) as usize).min(bins - 1);
        rows[b] += 1;
        predicted[b] += s;
        late[b] += usize::from(l);
    }
    (0..bins)
        .filter(|&b| rows[b] > 0)
        .map(|b| CalibrationBin {
            lower: b as f64 / bins as f64,
            upper: (b + 1) as f64 / bins as f64,
            rows: rows[b],
            mean_predicted: predicted[b] / rows[b] as f64,
            observed: late[b] as f64 / rows[b] as f64,
        })
        .collect()
}
