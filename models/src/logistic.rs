//! Logistic regression, the default late-payer risk model, trained by Newton's method
//! (iteratively reweighted least squares) behind linfa's `Fit` trait.
//!
//! The objective is scikit-learn's: `C · Σ wᵢ·logloss(yᵢ, xᵢ·β + β₀) + ½‖β‖²` (the
//! intercept is not penalised), on standardised features. With a few dozen features the
//! Hessian is small, so each Newton step costs one pass over the rows (a blocked
//! `Sᵀ·diag(p(1−p))·S` product, spread over the threads) and the solver converges in a
//! handful of steps where L-BFGS needs dozens. Rows are processed in fixed blocks whose
//! partial sums are added in block order, so the fitted coefficients do not depend on the
//! number of threads.

use linfa::ParamGuard;
use linfa::dataset::{AsSingleTargets, DatasetBase};
use linfa::traits::{Fit, PredictInplace};
use ndarray::{Array1, Array2, ArrayBase, ArrayView2, Axis, Data, Ix2, Slice};
use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::scaling::StandardScaler;

/// Rows per block of the Newton pass: big enough for an efficient matrix product, small
/// enough that a block's standardised copy stays in cache.
const BLOCK_ROWS: usize = 4096;

/// How the two classes are weighted in the loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeight {
    /// Every row counts once.
    None,
    /// Each class weighs as much as the other in total (scikit-learn's `"balanced"`:
    /// `n / (2 · n_class)`), so a rare "late" class is not ignored. Probabilities are then
    /// skewed towards the rare class and must be calibrated on held-out data.
    #[default]
    Balanced,
}

/// Checked hyperparameters of [`LogisticModel`] training.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidLogisticParams {
    c: f64,
    max_iterations: usize,
    tolerance: f64,
    class_weight: ClassWeight,
    standardize: bool,
    winsorize: bool,
    threads: usize,
}

impl ValidLogisticParams {
    /// Inverse regularisation strength (scikit-learn's `C`).
    pub fn c(&self) -> f64 {
        self.c
    }
    /// Most Newton steps taken.
    pub fn max_iterations(&self) -> usize {
        self.max_iterations
    }
    /// Largest coefficient change (standardised scale) at which the fit has converged.
    pub fn tolerance(&self) -> f64 {
        self.tolerance
    }
    /// Class weighting.
    pub fn class_weight(&self) -> ClassWeight {
        self.class_weight
    }
    /// Whether features are standardised before fitting.
    pub fn standardize(&self) -> bool {
        self.standardize
    }
    /// Whether values are held within the training 0.5th–99.5th percentiles (see
    /// [`crate::scaling`]).
    pub fn winsorize(&self) -> bool {
        self.winsorize
    }
    /// Threads used for the passes over the rows.
    pub fn threads(&self) -> usize {
        self.threads
    }
}

/// Hyperparameters of [`LogisticModel`] training, checked by [`ParamGuard::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticParams(ValidLogisticParams);

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams(ValidLogisticParams {
            c: 1.0,
            max_iterations: 100,
            tolerance: 1e-6,
            class_weight: ClassWeight::default(),
            standardize: true,
            winsorize: true,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
        })
    }
}

impl LogisticParams {
    /// The defaults: `C = 1`, balanced classes, standardised and winsorised features, all
    /// cores.
    pub fn new() -> LogisticParams {
        LogisticParams::default()
    }
    /// Inverse regularisation strength; larger is weaker. `f64::INFINITY` fits without
    /// penalty.
    pub fn c(mut self, c: f64) -> Self {
        self.0.c = c;
        self
    }
    /// Most Newton steps.
    pub fn max_iterations(mut self, n: usize) -> Self {
        self.0.max_iterations = n;
        self
    }
    /// Convergence tolerance on the largest coefficient change.
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.0.tolerance = tolerance;
        self
    }
    /// Class weighting.
    pub fn class_weight(mut self, class_weight: ClassWeight) -> Self {
        self.0.class_weight = class_weight;
        self
    }
    /// Standardise features first (default) or fit on them as they are.
    pub fn standardize(mut self, standardize: bool) -> Self {
        self.0.standardize = standardize;
        self
    }
    /// Hold values within the training 0.5th–99.5th percentiles, in training and scoring
    /// (default), or use them as they are (the textbook fit, e.g. to compare with another
    /// library).
    pub fn winsorize(mut self, winsorize: bool) -> Self {
        self.0.winsorize = winsorize;
        self
    }
    /// Threads for the passes over the rows (the result does not depend on it).
    pub fn threads(mut self, threads: usize) -> Self {
        self.0.threads = threads;
        self
    }
}

impl ParamGuard for LogisticParams {
    type Checked = ValidLogisticParams;
    type Error = ModelError;

    fn check_ref(&self) -> Result<&ValidLogisticParams, ModelError> {
        let p = &self.0;
        if p.c.is_nan() || p.c <= 0.0 {
            return Err(ModelError::parameter("c", format!("{} is not > 0", p.c)));
        }
        if p.max_iterations == 0 {
            return Err(ModelError::parameter(
                "max_iterations",
                "must be at least 1",
            ));
        }
        if !(p.tolerance.is_finite() && p.tolerance > 0.0) {
            return Err(ModelError::parameter(
                "tolerance",
                format!("{} is not a positive number", p.tolerance),
            ));
        }
        if p.threads == 0 {
            return Err(ModelError::parameter("threads", "must be at least 1"));
        }
        Ok(p)
    }

    fn check(self) -> Result<ValidLogisticParams, ModelError> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// A fitted logistic regression: standardisation, coefficients on the standardised scale
/// and how the fit went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticModel {
    /// The standardisation the coefficients apply to.
    pub scaler: StandardScaler,
    /// One coefficient per standardised feature.
    pub coefficients: Vec<f64>,
    /// The intercept.
    pub intercept: f64,
    /// Newton steps taken.
    pub iterations: usize,
    /// Whether the tolerance was reached within the step limit.
    pub converged: bool,
}

impl LogisticModel {
    /// Number of features the model takes.
    pub fn features(&self) -> usize {
        self.coefficients.len()
    }

    /// The log-odds for one row of raw feature values.
    pub fn log_odds(&self, row: &[f64]) -> f64 {
        self.intercept
            + row
                .iter()
                .enumerate()
                .map(|(j, &v)| self.coefficients[j] * self.scaler.scale_value(j, v))
                .sum::<f64>()
    }

    /// The probability of the positive class (late) for one row of raw feature values.
    pub fn probability(&self, row: &[f64]) -> f64 {
        sigmoid(self.log_odds(row))
    }

    /// Each feature's contribution to the log-odds of `row`: its coefficient times its
    /// standardised value (0 for a feature at its training mean).
    pub fn contributions(&self, row: &[f64]) -> Vec<f64> {
        row.iter()
            .enumerate()
            .map(|(j, &v)| self.coefficients[j] * self.scaler.scale_value(j, v))
            .collect()
    }

    /// Checks a model read from outside: one mean and one scale per coefficient.
    pub fn validate(&self) -> Result<(), ModelError> {
        let d = self.coefficients.len();
        if self.scaler.mean.len() != d || self.scaler.scale.len() != d {
            return Err(ModelError::Data(format!(
                "{d} coefficients but {} means and {} scales",
                self.scaler.mean.len(),
                self.scaler.scale.len()
            )));
        }
        self.scaler.validate()
    }

    /// Coefficients and intercept on the raw (unstandardised) scale.
    pub fn raw_coefficients(&self) -> (Vec<f64>, f64) {
        let raw: Vec<f64> = self
            .coefficients
            .iter()
            .zip(&self.scaler.scale)
            .map(|(c, s)| c / s)
            .collect();
        let intercept = self.intercept
            - raw
                .iter()
                .zip(&self.scaler.mean)
                .map(|(c, m)| c * m)
                .sum::<f64>();
        (raw, intercept)
    }

    /// Probabilities for many rows (rows × features) at once.
    pub fn probabilities(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>, ModelError> {
        if x.ncols() != self.features() {
            return Err(ModelError::Shape {
                expected: self.features(),
                got: x.ncols(),
            });
        }
        let (raw, intercept) = self.raw_coefficients();
        if !self.scaler.lower.is_empty() {
            // Values held within the training bounds (missing ones at the mean), a block of
            // rows at a time into a buffer, then one matrix-vector product per block.
            const BLOCK: usize = 512;
            let (lower, upper, mean) = (&self.scaler.lower, &self.scaler.upper, &self.scaler.mean);
            let raw = Array1::from(raw);
            let n = x.nrows();
            let mut z = Array1::zeros(n);
            let mut buffer = Array2::<f64>::zeros((BLOCK.min(n), x.ncols()));
            let mut start = 0;
            while start < n {
                let end = (start + BLOCK).min(n);
                let mut block = buffer.slice_axis_mut(Axis(0), Slice::from(..end - start));
                for (mut out, row) in block
                    .rows_mut()
                    .into_iter()
                    .zip(x.slice_axis(Axis(0), Slice::from(start..end)).rows())
                {
                    match (out.as_slice_mut(), row.as_slice()) {
                        // Contiguous rows (the usual layout): plain slices, which vectorise.
                        (Some(out), Some(row)) => clamp_row(out, row, lower, upper, mean),
                        _ => {
                            let values: Vec<f64> = row.iter().copied().collect();
                            let mut clamped = vec![0.0; values.len()];
                            clamp_row(&mut clamped, &values, lower, upper, mean);
                            out.assign(&Array1::from(clamped));
                        }
                    }
                }
                let part = block.dot(&raw);
                for (out, p) in z
                    .slice_axis_mut(Axis(0), Slice::from(start..end))
                    .iter_mut()
                    .zip(part.iter())
                {
                    *out = sigmoid(p + intercept);
                }
                start = end;
            }
            return Ok(z);
        }
        let raw = Array1::from(raw);
        let mut z = x.dot(&raw);
        for (i, z) in z.iter_mut().enumerate() {
            if z.is_nan() {
                // A missing value: counted as its training mean.
                *z = x
                    .row(i)
                    .iter()
                    .zip(&raw)
                    .zip(&self.scaler.mean)
                    .map(|((&v, c), m)| c * if v.is_nan() { *m } else { v })
                    .sum();
            }
            *z = sigmoid(*z + intercept);
        }
        Ok(z)
    }
}

/// One row held within the bounds, a missing value (NaN fails every comparison) at the
/// mean: compare-and-select over plain slices.
#[inline]
fn clamp_row(out: &mut [f64], row: &[f64], lower: &[f64], upper: &[f64], mean: &[f64]) {
    let n = out
        .len()
        .min(row.len())
        .min(lower.len())
        .min(upper.len())
        .min(mean.len());
    let (out, row, lower, upper, mean) = (
        &mut out[..n],
        &row[..n],
        &lower[..n],
        &upper[..n],
        &mean[..n],
    );
    for j in 0..n {
        let v = row[j];
        let c = if v < lower[j] {
            lower[j]
        } else if v > upper[j] {
            upper[j]
        } else {
            v
        };
        out[j] = if c.is_nan() { mean[j] } else { c };
    }
}

impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<f64>> for LogisticModel {
    /// Probabilities of the positive class; `x` must have the model's number of features.
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<f64>) {
        assert_eq!(x.nrows(), y.len(), "one target per row");
        match self.probabilities(x.view()) {
            Ok(p) => y.assign(&p),
            Err(e) => panic!("{e}"),
        }
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}

impl<D: Data<Elem = f64>, T: AsSingleTargets<Elem = bool>> Fit<ArrayBase<D, Ix2>, T, ModelError>
    for ValidLogisticParams
{
    type Object = LogisticModel;

    fn fit(
        &self,
        dataset: &DatasetBase<ArrayBase<D, Ix2>, T>,
    ) -> Result<LogisticModel, ModelError> {
        let x = dataset.records.view();
        let labels = dataset.as_single_targets();
        let y: Vec<f64> = labels.iter().map(|&b| f64::from(u8::from(b))).collect();
        let weights = dataset
            .weights()
            .map(|w| w.iter().map(|&w| f64::from(w)).collect::<Vec<_>>());
        self.fit_targets(x, &y, weights.as_deref())
    }
}

impl ValidLogisticParams {
    /// Fits on targets in [0, 1] (soft targets allowed, as Platt scaling uses) with
    /// optional sample weights; the class weights apply on top, by the 0.5 threshold.
    pub fn fit_targets(
        &self,
        x: ArrayView2<'_, f64>,
        y: &[f64],
        sample_weight: Option<&[f64]>,
    ) -> Result<LogisticModel, ModelError> {
        let n = x.nrows();
        if n == 0 {
            return Err(ModelError::Data("no rows to train on".into()));
        }
        if y.len() != n {
            return Err(linfa::Error::MismatchedShapes(n, y.len()).into());
        }
        if let Some(i) = y.iter().position(|v| !(0.0..=1.0).contains(v)) {
            return Err(ModelError::Data(format!(
                "row {i}: target {} is not in [0, 1]",
                y[i]
            )));
        }
        let mut weight = match sample_weight {
            Some(w) if w.len() != n => {
                return Err(linfa::Error::MismatchedShapes(n, w.len()).into());
            }
            Some(w) => {
                if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
                    return Err(ModelError::Data(format!(
                        "row {i}: weight {} is not a finite number ≥ 0",
                        w[i]
                    )));
                }
                w.to_vec()
            }
            None => vec![1.0; n],
        };
        let positives: f64 = y.iter().zip(&weight).map(|(y, w)| y * w).sum();
        let total: f64 = weight.iter().sum();
        if positives <= 0.0 || positives >= total {
            return Err(ModelError::Data(
                "the training rows hold only one class".into(),
            ));
        }
        if self.class_weight == ClassWeight::Balanced {
            let n_pos = y.iter().filter(|&&v| v >= 0.5).count();
            let n_neg = n - n_pos;
            if n_pos == 0 || n_neg == 0 {
                return Err(ModelError::Data(
                    "the training rows hold only one class".into(),
                ));
            }
            let w_pos = n as f64 / (2.0 * n_pos as f64);
            let w_neg = n as f64 / (2.0 * n_neg as f64);
            for (w, &y) in weight.iter_mut().zip(y) {
                *w *= if y >= 0.5 { w_pos } else { w_neg };
            }
        }
        let scaler = if self.standardize {
            let mut scaler = StandardScaler::fit(x)?;
            if !self.winsorize {
                scaler.lower.clear();
                scaler.upper.clear();
            }
            scaler
        } else {
            if let Some((i, j)) = x
                .indexed_iter()
                .find_map(|((i, j), v)| v.is_infinite().then_some((i, j)))
            {
                return Err(ModelError::Data(format!(
                    "row {i}, feature {j}: infinite value"
                )));
            }
            StandardScaler::identity(x.ncols())
        };
        let problem = Problem {
            x,
            scaler: &scaler,
            y,
            weight: &weight,
            c: self.c,
            threads: self.threads,
        };
        let d = x.ncols() + 1;
        let mut theta = Array1::<f64>::zeros(d);
        let weighted_mean = (y.iter().zip(&weight).map(|(y, w)| y * w).sum::<f64>()
            / weight.iter().sum::<f64>())
        .clamp(1e-6, 1.0 - 1e-6);
        theta[d - 1] = (weighted_mean / (1.0 - weighted_mean)).ln();
        let mut current = problem.pass(&theta);
        let mut iterations = 0;
        let mut converged = false;
        while iterations < self.max_iterations {
            iterations += 1;
            let step = solve_newton(&current.hessian, &current.gradient)?;
            let decrement = current.gradient.dot(&step);
            let largest = step.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
            let mut t = 1.0;
            let mut accepted = None;
            for _ in 0..30 {
                let candidate = &theta - &(&step * t);
                let next = problem.pass(&candidate);
                if next.loss <= current.loss - 1e-4 * t * decrement
                    || (next.loss - current.loss).abs() <= 1e-14 * current.loss.abs()
                {
                    accepted = Some((candidate, next));
                    break;
                }
                t *= 0.5;
            }
            let Some((candidate, next)) = accepted else {
                // No step lowers the loss any more: converged only if the Newton step
                // itself was already negligible (the loss is flat to machine precision).
                converged = largest <= self.tolerance.sqrt();
                break;
            };
            theta = candidate;
            current = next;
            if largest <= self.tolerance {
                converged = true;
                break;
            }
        }
        Ok(LogisticModel {
            coefficients: theta.iter().take(d - 1).copied().collect(),
            intercept: theta[d - 1],
            scaler,
            iterations,
            converged,
        })
    }
}

/// The logistic function, written to avoid overflow for large |z|.
#[inline]
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + e^z)` without overflow.
#[inline]
fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// The training data and the objective.
struct Problem<'x, 'a> {
    x: ArrayView2<'x, f64>,
    scaler: &'a StandardScaler,
    y: &'a [f64],
    weight: &'a [f64],
    c: f64,
    threads: usize,
}

/// Objective, gradient and Hessian at one point (over all rows, or one block).
struct Pass {
    loss: f64,
    gradient: Array1<f64>,
    hessian: Array2<f64>,
}

impl Problem<'_, '_> {
    /// Objective, gradient and Hessian at `theta` (coefficients then intercept).
    fn pass(&self, theta: &Array1<f64>) -> Pass {
        let n = self.x.nrows();
        let d = theta.len();
        let blocks = n.div_ceil(BLOCK_ROWS);
        let threads = self.threads.min(blocks).max(1);
        let mut partials: Vec<Option<Pass>> = Vec::with_capacity(blocks);
        partials.resize_with(blocks, || None);
        let run = |first: usize| {
            let mut buffer = Array2::<f64>::zeros((BLOCK_ROWS, d));
            (first..blocks)
                .step_by(threads)
                .map(|b| (b, self.block(b, theta, &mut buffer)))
                .collect::<Vec<_>>()
        };
        if threads == 1 {
            for (b, p) in run(0) {
                partials[b] = Some(p);
            }
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = (1..threads)
                    .map(|t| {
                        let run = &run;
                        scope.spawn(move || run(t))
                    })
                    .collect();
                for (b, p) in run(0) {
                    partials[b] = Some(p);
                }
                for h in handles {
                    match h.join() {
                        Ok(done) => {
                            for (b, p) in done {
                                partials[b] = Some(p);
                            }
                        }
                        Err(panic) => std::panic::resume_unwind(panic),
                    }
                }
            });
        }
        let mut total = Pass {
            loss: 0.0,
            gradient: Array1::zeros(d),
            hessian: Array2::zeros((d, d)),
        };
        // Added in block order: the result does not depend on the thread count.
        for p in partials.into_iter().flatten() {
            total.loss += p.loss;
            total.gradient += &p.gradient;
            total.hessian += &p.hessian;
        }
        // Scale to scikit-learn's objective (C · loss) and add the penalty on the
        // coefficients (not the intercept). An infinite C means no penalty.
        let (scale, l2) = if self.c.is_finite() {
            (self.c, 1.0)
        } else {
            (1.0, 0.0)
        };
        total.loss *= scale;
        total.gradient *= scale;
        total.hessian *= scale;
        for j in 0..d - 1 {
            total.loss += 0.5 * l2 * theta[j] * theta[j];
            total.gradient[j] += l2 * theta[j];
            total.hessian[[j, j]] += l2;
        }
        total
    }

    /// One block's share of the pass; `buffer` holds its standardised rows.
    fn block(&self, b: usize, theta: &Array1<f64>, buffer: &mut Array2<f64>) -> Pass {
        let start = b * BLOCK_ROWS;
        let end = (start + BLOCK_ROWS).min(self.x.nrows());
        let m = end - start;
        let d = theta.len();
        let mut rows = buffer.slice_axis_mut(Axis(0), Slice::from(0..m));
        for (raw, mut out) in self
            .x
            .slice_axis(Axis(0), Slice::from(start..end))
            .rows()
            .into_iter()
            .zip(rows.rows_mut())
        {
            for (j, (o, &v)) in out.iter_mut().zip(raw.iter()).enumerate() {
                *o = self.scaler.scale_value(j, v);
            }
            out[d - 1] = 1.0;
        }
        let mut z = rows.dot(theta);
        let mut residual = Array1::<f64>::zeros(m);
        let mut loss = 0.0;
        for i in 0..m {
            let (y, w) = (self.y[start + i], self.weight[start + i]);
            let zi = z[i];
            loss += w * (softplus(zi) - y * zi);
            let p = sigmoid(zi);
            residual[i] = w * (p - y);
            z[i] = (w * p * (1.0 - p)).sqrt();
        }
        let gradient = rows.t().dot(&residual);
        for (mut row, &root) in rows.rows_mut().into_iter().zip(z.iter()) {
            row *= root;
        }
        let hessian = rows.t().dot(&rows);
        Pass {
            loss,
            gradient,
            hessian,
        }
    }
}

/// Solves `H·x = g` for the Newton step by Cholesky; a Hessian that is not positive
/// definite (separable data without penalty) gets a growing ridge until it is.
fn solve_newton(h: &Array2<f64>, g: &Array1<f64>) -> Result<Array1<f64>, ModelError> {
    let d = g.len();
    let diagonal = (0..d).map(|i| h[[i, i]].abs()).fold(0.0_f64, f64::max);
    let mut ridge = 0.0;
    for _ in 0..20 {
        let mut a = h.clone();
        for i in 0..d {
            a[[i, i]] += ridge;
        }
        if let Some(x) = cholesky_solve(a, g) {
            return Ok(x);
        }
        ridge = if ridge == 0.0 {
            1e-10 * diagonal.max(1.0)
        } else {
            ridge * 100.0
        };
    }
    Err(ModelError::Data(
        "the Newton system stays singular; are some features constant or duplicated?".into(),
    ))
}

/// Cholesky factorisation in place and the two triangular solves; `None` if `a` is not
/// positive definite.
fn cholesky_solve(mut a: Array2<f64>, g: &Array1<f64>) -> Option<Array1<f64>> {
    let d = g.len();
    for j in 0..d {
        let mut diag = a[[j, j]];
        for k in 0..j {
            diag -= a[[j, k]] * a[[j, k]];
        }
        if !(diag > 0.0 && diag.is_finite()) {
            return None;
        }
        let l_jj = diag.sqrt();
        a[[j, j]] = l_jj;
        for i in j + 1..d {
            let mut v = a[[i, j]];
            for k in 0..j {
                v -= a[[i, k]] * a[[j, k]];
            }
            a[[i, j]] = v / l_jj;
        }
    }
    let mut x = g.clone();
    for i in 0..d {
        let mut v = x[i];
        for k in 0..i {
            v -= a[[i, k]] * x[k];
        }
        x[i] = v / a[[i, i]];
    }
    for i in (0..d).rev() {
        let mut v = x[i];
        for k in i + 1..d {
            v -= a[[k, i]] * x[k];
        }
        x[i] = v / a[[i, i]];
    }
    Some(x)
}
