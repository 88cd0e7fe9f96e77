//! Gradient-boosted trees, the challenger risk model: histogram-based, grown leaf-wise
//! (best split first) as LightGBM and scikit-learn's `HistGradientBoostingClassifier`
//! do, behind linfa's `Fit` trait.
//!
//! Each feature is cut into at most 255 bins at quantiles of the training values (a
//! missing value gets a bin of its own and learns at each split which side it goes); a
//! node's histogram sums the log-loss gradients and hessians per bin, and the larger child
//! of a split gets its histogram as the parent's minus the smaller child's. Rows are
//! summed in fixed chunks added in order, so the model does not depend on the number of
//! threads.

use linfa::ParamGuard;
use linfa::dataset::{AsSingleTargets, DatasetBase};
use linfa::traits::Fit;
use ndarray::{ArrayBase, ArrayView2, Data, Ix2};
use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::logistic::sigmoid;

/// The bin of missing values.
const MISSING: u8 = 255;
/// Histogram bins per feature (254 value bins at most, and the missing bin).
const BINS: usize = 256;
/// Rows per chunk of a histogram pass.
const CHUNK_ROWS: usize = 32_768;
/// Batches at least this large are scored on all cores.
const PARALLEL_SCORING_ROWS: usize = 16_384;
/// Rows sampled to find the bin edges.
const BINNING_SAMPLE: usize = 200_000;

/// Checked hyperparameters of [`BoostedTrees`] training.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidBoostingParams {
    learning_rate: f64,
    max_iterations: usize,
    max_leaf_nodes: usize,
    min_samples_leaf: usize,
    l2_regularization: f64,
    max_bins: usize,
    threads: usize,
}

impl ValidBoostingParams {
    /// Shrinkage of each tree's contribution.
    pub fn learning_rate(&self) -> f64 {
        self.learning_rate
    }
    /// Number of trees.
    pub fn max_iterations(&self) -> usize {
        self.max_iterations
    }
    /// Leaves per tree.
    pub fn max_leaf_nodes(&self) -> usize {
        self.max_leaf_nodes
    }
    /// Fewest rows in a leaf.
    pub fn min_samples_leaf(&self) -> usize {
        self.min_samples_leaf
    }
}

/// Hyperparameters of [`BoostedTrees`] training (scikit-learn's defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct BoostingParams(ValidBoostingParams);

impl Default for BoostingParams {
    fn default() -> Self {
        BoostingParams(ValidBoostingParams {
            learning_rate: 0.1,
            max_iterations: 100,
            max_leaf_nodes: 31,
            min_samples_leaf: 20,
            l2_regularization: 0.0,
            max_bins: 255,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
        })
    }
}

impl BoostingParams {
    /// scikit-learn's defaults: 100 trees of 31 leaves, learning rate 0.1.
    pub fn new() -> BoostingParams {
        BoostingParams::default()
    }
    /// Shrinkage of each tree.
    pub fn learning_rate(mut self, v: f64) -> Self {
        self.0.learning_rate = v;
        self
    }
    /// Number of trees.
    pub fn max_iterations(mut self, v: usize) -> Self {
        self.0.max_iterations = v;
        self
    }
    /// Leaves per tree.
    pub fn max_leaf_nodes(mut self, v: usize) -> Self {
        self.0.max_leaf_nodes = v;
        self
    }
    /// Fewest rows in a leaf.
    pub fn min_samples_leaf(mut self, v: usize) -> Self {
        self.0.min_samples_leaf = v;
        self
    }
    /// L2 penalty on leaf values.
    pub fn l2_regularization(mut self, v: f64) -> Self {
        self.0.l2_regularization = v;
        self
    }
    /// Value bins per feature (2..=255).
    pub fn max_bins(mut self, v: usize) -> Self {
        self.0.max_bins = v;
        self
    }
    /// Threads for the histogram passes (the result does not depend on it).
    pub fn threads(mut self, v: usize) -> Self {
        self.0.threads = v;
        self
    }
}

impl ParamGuard for BoostingParams {
    type Checked = ValidBoostingParams;
    type Error = ModelError;

    fn check_ref(&self) -> Result<&ValidBoostingParams, ModelError> {
        let p = &self.0;
        if !(p.learning_rate > 0.0 && p.learning_rate <= 1.0) {
            return Err(ModelError::parameter(
                "learning_rate",
                format!("{} is not in (0, 1]", p.learning_rate),
            ));
        }
        if p.max_iterations == 0 {
            return Err(ModelError::parameter(
                "max_iterations",
                "must be at least 1",
            ));
        }
        if p.max_leaf_nodes < 2 {
            return Err(ModelError::parameter(
                "max_leaf_nodes",
                "must be at least 2",
            ));
        }
        if p.min_samples_leaf == 0 {
            return Err(ModelError::parameter(
                "min_samples_leaf",
                "must be at least 1",
            ));
        }
        if !(p.l2_regularization >= 0.0 && p.l2_regularization.is_finite()) {
            return Err(ModelError::parameter(
                "l2_regularization",
                format!("{} is not a number ≥ 0", p.l2_regularization),
            ));
        }
        if !(2..=255).contains(&p.max_bins) {
            return Err(ModelError::parameter(
                "max_bins",
                format!("{} is not in 2..=255", p.max_bins),
            ));
        }
        if p.threads == 0 {
            return Err(ModelError::parameter("threads", "must be at least 1"));
        }
        Ok(p)
    }

    fn check(self) -> Result<ValidBoostingParams, ModelError> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// One node of a tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "node", rename_all = "snake_case")]
pub enum Node {
    /// Rows with `x[feature] <= threshold` go left, others right; missing values go where
    /// `missing_left` says.
    Split {
        /// Feature index.
        feature: usize,
        /// Largest value that goes left.
        threshold: f64,
        /// Where a missing value goes.
        missing_left: bool,
        /// Index of the left child.
        left: usize,
        /// Index of the right child.
        right: usize,
        /// Loss reduction of the split (for feature importance).
        gain: f64,
        /// The value this node would have as a leaf (for explanations: what each split
        /// on a row's path changes).
        value: f64,
    },
    /// A leaf: its contribution to the log-odds (learning rate applied).
    Leaf {
        /// Contribution to the log-odds.
        value: f64,
    },
}

/// One regression tree on the log-odds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// Nodes; the root is the first.
    pub nodes: Vec<Node>,
}

impl Node {
    /// The node's value: a leaf's contribution, or what a split node would give as a leaf.
    fn value(&self) -> f64 {
        match self {
            Node::Leaf { value } | Node::Split { value, .. } => *value,
        }
    }
}

impl Tree {
    /// Where a row goes from node `i`: the child's index and the split's feature, or
    /// `None` at a leaf.
    fn step(&self, i: usize, row: &[f64]) -> Option<(usize, usize)> {
        let Node::Split {
            feature,
            threshold,
            missing_left,
            left,
            right,
            ..
        } = &self.nodes[i]
        else {
            return None;
        };
        let v = row[*feature];
        let go_left = if v.is_nan() {
            *missing_left
        } else {
            v <= *threshold
        };
        Some((if go_left { *left } else { *right }, *feature))
    }

    /// The tree's contribution for a row of raw feature values.
    pub fn value(&self, row: &[f64]) -> f64 {
        let mut i = 0;
        while let Some((child, _)) = self.step(i, row) {
            i = child;
        }
        self.nodes[i].value()
    }

    /// Adds to `out` what each split on the row's path changed (the child's value minus
    /// the node's); returns the root's value. The root's value plus `out`'s sum is the
    /// tree's value for the row.
    pub fn add_contributions(&self, row: &[f64], out: &mut [f64]) -> f64 {
        let mut i = 0;
        while let Some((child, feature)) = self.step(i, row) {
            out[feature] += self.nodes[child].value() - self.nodes[i].value();
            i = child;
        }
        self.nodes[0].value()
    }
}

/// A fitted boosted-tree model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoostedTrees {
    /// Number of features the model takes.
    pub features: usize,
    /// Log-odds before any tree (of the training late share).
    pub baseline: f64,
    /// The trees, in the order they were fitted.
    pub trees: Vec<Tree>,
}

impl BoostedTrees {
    /// The log-odds for a row of raw feature values.
    pub fn log_odds(&self, row: &[f64]) -> f64 {
        self.baseline + self.trees.iter().map(|t| t.value(row)).sum::<f64>()
    }

    /// The probability of the positive class (late) for a row.
    pub fn probability(&self, row: &[f64]) -> f64 {
        sigmoid(self.log_odds(row))
    }

    /// Probabilities for many rows, spread over the cores for large batches.
    pub fn probabilities(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>, ModelError> {
        if x.ncols() != self.features {
            return Err(ModelError::Shape {
                expected: self.features,
                got: x.ncols(),
            });
        }
        let score = |rows: ArrayView2<'_, f64>, out: &mut [f64]| {
            let mut row = vec![0.0; self.features];
            for (r, o) in rows.rows().into_iter().zip(out.iter_mut()) {
                row.iter_mut().zip(r.iter()).for_each(|(v, x)| *v = *x);
                *o = self.probability(&row);
            }
        };
        let n = x.nrows();
        let mut out = vec![0.0; n];
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        if threads == 1 || n < PARALLEL_SCORING_ROWS {
            score(x, &mut out);
        } else {
            let per_thread = n.div_ceil(threads);
            std::thread::scope(|scope| {
                for (t, part) in out.chunks_mut(per_thread).enumerate() {
                    let rows = x.slice_axis(
                        ndarray::Axis(0),
                        ndarray::Slice::from(t * per_thread..t * per_thread + part.len()),
                    );
                    let score = &score;
                    scope.spawn(move || score(rows, part));
                }
            });
        }
        Ok(out)
    }

    /// Checks a model read from outside: every split names a feature the model takes and
    /// children that come after it in the tree (so a walk always ends at a leaf).
    pub fn validate(&self) -> Result<(), ModelError> {
        for (t, tree) in self.trees.iter().enumerate() {
            if tree.nodes.is_empty() {
                return Err(ModelError::Data(format!("tree {t} has no nodes")));
            }
            for (i, node) in tree.nodes.iter().enumerate() {
                if let Node::Split {
                    feature,
                    left,
                    right,
                    ..
                } = node
                {
                    let child_ok = |c: usize| c > i && c < tree.nodes.len();
                    if *feature >= self.features || !child_ok(*left) || !child_ok(*right) {
                        return Err(ModelError::Data(format!(
                            "tree {t}, node {i}: feature {feature} or children {left}, {right} out of range"
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// Each feature's contribution to the log-odds of a row (the changes of the splits on
    /// its paths through the trees), and the part no feature explains (baseline and the
    /// roots' values): the two add up to the row's log-odds.
    pub fn contributions(&self, row: &[f64]) -> (Vec<f64>, f64) {
        let mut out = vec![0.0; self.features];
        let mut base = self.baseline;
        for t in &self.trees {
            base += t.add_contributions(row, &mut out);
        }
        (out, base)
    }

    /// Total split gain per feature, normalised to sum to 1 (0s for a model of stumps
    /// without splits).
    pub fn feature_importance(&self) -> Vec<f64> {
        let mut gain = vec![0.0; self.features];
        for t in &self.trees {
            for n in &t.nodes {
                if let Node::Split {
                    feature, gain: g, ..
                } = n
                {
                    gain[*feature] += g;
                }
            }
        }
        let total: f64 = gain.iter().sum();
        if total > 0.0 {
            gain.iter_mut().for_each(|g| *g /= total);
        }
        gain
    }
}

impl<D: Data<Elem = f64>, T: AsSingleTargets<Elem = bool>> Fit<ArrayBase<D, Ix2>, T, ModelError>
    for ValidBoostingParams
{
    type Object = BoostedTrees;

    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<BoostedTrees, ModelError> {
        let x = dataset.records.view();
        let labels = dataset.as_single_targets();
        let y: Vec<f64> = labels.iter().map(|&b| f64::from(u8::from(b))).collect();
        self.fit_rows(x, &y)
    }
}

/// Bin edges of the features and the binned rows.
struct Binned {
    /// Per feature: the largest value of each bin (ascending).
    edges: Vec<Vec<f64>>,
    /// Rows × features, row-major; `MISSING` for a missing value.
    bins: Vec<u8>,
    features: usize,
}

impl Binned {
    fn new(x: ArrayView2<'_, f64>, max_bins: usize, threads: usize) -> Result<Binned, ModelError> {
        let (n, d) = x.dim();
        let step = n.div_ceil(BINNING_SAMPLE).max(1);
        let mut edges = Vec::with_capacity(d);
        for j in 0..d {
            let mut values: Vec<f64> = Vec::with_capacity(n / step + 1);
            for i in (0..n).step_by(step) {
                let v = x[[i, j]];
                if v.is_infinite() {
                    return Err(ModelError::Data(format!(
                        "row {i}, feature {j}: infinite value"
                    )));
                }
                if !v.is_nan() {
                    values.push(v);
                }
            }
            values.sort_by(f64::total_cmp);
            let mut distinct = values.clone();
            distinct.dedup();
            let e: Vec<f64> = if distinct.len() <= max_bins {
                // Each distinct value its own bin; the edge is the midpoint to the next.
                distinct
                    .windows(2)
                    .map(|w| w[0] + (w[1] - w[0]) / 2.0)
                    .collect()
            } else {
                // Quantiles of the rows (repeated values weigh as often as they occur).
                let mut e: Vec<f64> = (1..max_bins)
                    .map(|k| {
                        let q = k as f64 / max_bins as f64 * (values.len() - 1) as f64;
                        let lo = q.floor() as usize;
                        values[lo]
                            + (values[(lo + 1).min(values.len() - 1)] - values[lo])
                                * (q - lo as f64)
                    })
                    .collect();
                e.dedup();
                e
            };
            edges.push(e);
        }
        let mut bins = vec![0_u8; n * d];
        let bin_rows = |first_row: usize, out: &mut [u8]| {
            for (k, cells) in out.chunks_mut(d).enumerate() {
                for (j, cell) in cells.iter_mut().enumerate() {
                    let v = x[[first_row + k, j]];
                    *cell = if v.is_nan() {
                        MISSING
                    } else {
                        edges[j].partition_point(|&e| e < v) as u8
                    };
                }
            }
        };
        let per_thread = n.div_ceil(threads.max(1)).max(1);
        std::thread::scope(|scope| {
            for (t, out) in bins.chunks_mut(per_thread * d).enumerate() {
                let bin_rows = &bin_rows;
                scope.spawn(move || bin_rows(t * per_thread, out));
            }
        });
        Ok(Binned {
            edges,
            bins,
            features: d,
        })
    }
}

/// Gradient, hessian and count per bin per feature: `[g, h, n]` records.
type Histogram = Vec<[f64; 3]>;

/// The best split of a leaf.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    gain: f64,
    feature: usize,
    bin: usize,
    missing_left: bool,
}

/// A leaf being grown: its rows (a range of the row index), sums and histogram.
struct Growing {
    node: usize,
    start: usize,
    end: usize,
    g: f64,
    h: f64,
    histogram: Histogram,
    best: Option<Candidate>,
}

impl ValidBoostingParams {
    /// Fits on 0/1 targets.
    fn fit_rows(&self, x: ArrayView2<'_, f64>, y: &[f64]) -> Result<BoostedTrees, ModelError> {
        let (n, d) = x.dim();
        if n == 0 || d == 0 {
            return Err(ModelError::Data(
                "no rows or no features to train on".into(),
            ));
        }
        if y.len() != n {
            return Err(linfa::Error::MismatchedShapes(n, y.len()).into());
        }
        let positives: f64 = y.iter().sum();
        if positives <= 0.0 || positives >= n as f64 {
            return Err(ModelError::Data(
                "the training rows hold only one class".into(),
            ));
        }
        let binned = Binned::new(x, self.max_bins, self.threads)?;
        let rate = positives / n as f64;
        let baseline = (rate / (1.0 - rate)).ln();
        let mut raw = vec![baseline; n];
        let mut gradients = vec![[0.0_f64; 2]; n];
        let mut index: Vec<u32> = Vec::with_capacity(n);
        let mut scratch: Vec<u32> = Vec::with_capacity(n);
        let mut trees = Vec::with_capacity(self.max_iterations);
        for _ in 0..self.max_iterations {
            for ((gh, &f), &y) in gradients.iter_mut().zip(&raw).zip(y) {
                let p = sigmoid(f);
                *gh = [p - y, (p * (1.0 - p)).max(1e-16)];
            }
            index.clear();
            index.extend(0..n as u32);
            let tree = self.grow(&binned, &gradients, &mut index, &mut scratch, &mut raw);
            trees.push(tree);
        }
        Ok(BoostedTrees {
            features: d,
            baseline,
            trees,
        })
    }

    /// Grows one tree leaf-wise and adds its values to `raw`.
    fn grow(
        &self,
        binned: &Binned,
        gradients: &[[f64; 2]],
        index: &mut [u32],
        scratch: &mut Vec<u32>,
        raw: &mut [f64],
    ) -> Tree {
        let n = index.len();
        let histogram = self.histogram(binned, gradients, index);
        let (g, h) = totals(&histogram);
        let mut nodes = vec![Node::Leaf { value: 0.0 }];
        let mut root = Growing {
            node: 0,
            start: 0,
            end: n,
            g,
            h,
            histogram,
            best: None,
        };
        root.best = self.best_split(&root, binned);
        let mut leaves = vec![root];
        while leaves.len() < self.max_leaf_nodes {
            let Some(k) = leaves
                .iter()
                .enumerate()
                .filter(|(_, l)| l.best.is_some())
                .max_by(|a, b| {
                    let ga = a.1.best.map_or(0.0, |c| c.gain);
                    let gb = b.1.best.map_or(0.0, |c| c.gain);
                    ga.total_cmp(&gb).then(b.0.cmp(&a.0))
                })
                .map(|(k, _)| k)
            else {
                break;
            };
            let leaf = leaves.swap_remove(k);
            let Some(c) = leaf.best else { break };
            // Stable partition of the leaf's rows: left first.
            let d = binned.features;
            let goes_left = |r: u32| {
                let b = binned.bins[r as usize * d + c.feature];
                if b == MISSING {
                    c.missing_left
                } else {
                    usize::from(b) <= c.bin
                }
            };
            let rows = &mut index[leaf.start..leaf.end];
            scratch.clear();
            let mut kept = 0;
            for i in 0..rows.len() {
                let r = rows[i];
                if goes_left(r) {
                    rows[kept] = r;
                    kept += 1;
                } else {
                    scratch.push(r);
                }
            }
            rows[kept..].copy_from_slice(scratch);
            let mid = leaf.start + kept;
            let (small, large) = if kept <= rows.len() - kept {
                ((leaf.start, mid), (mid, leaf.end))
            } else {
                ((mid, leaf.end), (leaf.start, mid))
            };
            let small_hist = self.histogram(binned, gradients, &index[small.0..small.1]);
            let large_hist: Histogram = leaf
                .histogram
                .iter()
                .zip(&small_hist)
                .map(|(p, s)| [p[0] - s[0], p[1] - s[1], p[2] - s[2]])
                .collect();
            // A feature without missing values here sends a missing value at scoring
            // time to the larger child, as scikit-learn does.
            let missing_seen = leaf.histogram[c.feature * BINS + usize::from(MISSING)][2] > 0.0;
            let missing_left = if missing_seen {
                c.missing_left
            } else {
                kept >= (leaf.end - leaf.start) - kept
            };
            let left_node = nodes.len();
            nodes.push(Node::Leaf { value: 0.0 });
            nodes.push(Node::Leaf { value: 0.0 });
            nodes[leaf.node] = Node::Split {
                feature: c.feature,
                threshold: binned.edges[c.feature]
                    .get(c.bin)
                    .copied()
                    .unwrap_or(f64::INFINITY),
                missing_left,
                left: left_node,
                right: left_node + 1,
                gain: c.gain,
                value: -self.learning_rate * leaf.g / (leaf.h + self.l2_regularization),
            };
            for (range, hist, node) in [
                (
                    small,
                    small_hist,
                    if small.0 == leaf.start {
                        left_node
                    } else {
                        left_node + 1
                    },
                ),
                (
                    large,
                    large_hist,
                    if large.0 == leaf.start {
                        left_node
                    } else {
                        left_node + 1
                    },
                ),
            ] {
                let (g, h) = totals(&hist);
                let mut child = Growing {
                    node,
                    start: range.0,
                    end: range.1,
                    g,
                    h,
                    histogram: hist,
                    best: None,
                };
                child.best = self.best_split(&child, binned);
                leaves.push(child);
            }
        }
        for leaf in &leaves {
            let value = -self.learning_rate * leaf.g / (leaf.h + self.l2_regularization);
            nodes[leaf.node] = Node::Leaf { value };
            for &r in &index[leaf.start..leaf.end] {
                raw[r as usize] += value;
            }
        }
        Tree { nodes }
    }

    /// The histogram of a set of rows, summed in fixed chunks added in order.
    fn histogram(&self, binned: &Binned, gradients: &[[f64; 2]], rows: &[u32]) -> Histogram {
        let d = binned.features;
        let chunks: Vec<&[u32]> = rows.chunks(CHUNK_ROWS).collect();
        let build = |rows: &[u32]| {
            let mut hist: Histogram = vec![[0.0; 3]; d * BINS];
            for &r in rows {
                let r = r as usize;
                let [g, h] = gradients[r];
                let bins = &binned.bins[r * d..(r + 1) * d];
                for (j, &b) in bins.iter().enumerate() {
                    let cell = &mut hist[j * BINS + usize::from(b)];
                    cell[0] += g;
                    cell[1] += h;
                    cell[2] += 1.0;
                }
            }
            hist
        };
        let threads = self.threads.min(chunks.len()).max(1);
        let mut parts: Vec<Option<Histogram>> = (0..chunks.len()).map(|_| None).collect();
        if threads == 1 {
            for (k, c) in chunks.iter().enumerate() {
                parts[k] = Some(build(c));
            }
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let chunks = &chunks;
                        let build = &build;
                        scope.spawn(move || {
                            (t..chunks.len())
                                .step_by(threads)
                                .map(|k| (k, build(chunks[k])))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                for h in handles {
                    match h.join() {
                        Ok(done) => done.into_iter().for_each(|(k, p)| parts[k] = Some(p)),
                        Err(panic) => std::panic::resume_unwind(panic),
                    }
                }
            });
        }
        let mut parts = parts.into_iter().flatten();
        let mut total = parts.next().unwrap_or_else(|| vec![[0.0; 3]; d * BINS]);
        for p in parts {
            for (t, v) in total.iter_mut().zip(&p) {
                t[0] += v[0];
                t[1] += v[1];
                t[2] += v[2];
            }
        }
        total
    }

    /// The best split of a leaf over all features, if any gains.
    fn best_split(&self, leaf: &Growing, binned: &Binned) -> Option<Candidate> {
        let rows = (leaf.end - leaf.start) as f64;
        let min = self.min_samples_leaf as f64;
        if rows < 2.0 * min {
            return None;
        }
        let lambda = self.l2_regularization;
        let score = |g: f64, h: f64| g * g / (h + lambda);
        let parent = score(leaf.g, leaf.h);
        let mut best: Option<Candidate> = None;
        for j in 0..binned.features {
            let hist = &leaf.histogram[j * BINS..(j + 1) * BINS];
            let missing = hist[usize::from(MISSING)];
            let value_bins = binned.edges[j].len() + 1;
            for missing_left in [false, true] {
                if missing_left && missing[2] == 0.0 {
                    continue;
                }
                let (mut gl, mut hl, mut nl) = if missing_left {
                    (missing[0], missing[1], missing[2])
                } else {
                    (0.0, 0.0, 0.0)
                };
                // Split after bin b: bins 0..=b left. The last value bin leaves nothing
                // right unless missing values go right.
                for (b, cell) in hist.iter().enumerate().take(value_bins) {
                    gl += cell[0];
                    hl += cell[1];
                    nl += cell[2];
                    let nr = rows - nl;
                    if nl < min {
                        continue;
                    }
                    if nr < min {
                        break;
                    }
                    let (gr, hr) = (leaf.g - gl, leaf.h - hl);
                    if hl < 1e-3 || hr < 1e-3 {
                        continue;
                    }
                    let gain = score(gl, hl) + score(gr, hr) - parent;
                    if gain > best.map_or(1e-12, |c| c.gain) {
                        best = Some(Candidate {
                            gain,
                            feature: j,
                            bin: b,
                            missing_left,
                        });
                    }
                }
            }
        }
        best
    }
}

/// Gradient and hessian sums of a histogram (from its first feature: every row is in one
/// bin of each feature).
fn totals(hist: &Histogram) -> (f64, f64) {
    hist[..BINS]
        .iter()
        .fold((0.0, 0.0), |(g, h), c| (g + c[0], h + c[1]))
}
