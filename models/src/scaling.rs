//! Feature standardisation: each column centred on its training mean and divided by its
//! training standard deviation, so that coefficients are comparable and the solver is
//! well conditioned. Missing values (NaN) are left out of the statistics and become the
//! mean (0 after scaling).
//!
//! Values are first held within the training range, at its 0.5th and 99.5th percentiles
//! (winsorising), in training and in scoring alike: a linear model extrapolates without
//! bound, and a debtor far outside anything seen in training (a balance 60 standard
//! deviations out) would otherwise get a probability driven by that one value.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::error::ModelError;

/// Per-column mean and standard deviation learnt from training rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandardScaler {
    /// Mean of each column over its non-missing training values.
    pub mean: Vec<f64>,
    /// Population standard deviation of each column (1 where a column is constant).
    pub scale: Vec<f64>,
    /// Lowest value used per column (the training 0.5th percentile); empty: no bound
    /// (artifacts written before bounds existed, or the identity).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lower: Vec<f64>,
    /// Highest value used per column (the training 99.5th percentile).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upper: Vec<f64>,
}

/// Share of training values below the lower bound, and above the upper one.
pub const WINSOR_SHARE: f64 = 0.005;

impl StandardScaler {
    /// Learns the statistics of `x` (rows × features). Infinite values are refused with
    /// their row and column; NaN counts as missing.
    pub fn fit(x: ArrayView2<'_, f64>) -> Result<StandardScaler, ModelError> {
        let d = x.ncols();
        let mut count = vec![0_u64; d];
        let mut sum = vec![0.0_f64; d];
        for (i, row) in x.rows().into_iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                if v.is_nan() {
                    continue;
                }
                if v.is_infinite() {
                    return Err(ModelError::Data(format!(
                        "row {i}, feature {j}: infinite value"
                    )));
                }
                count[j] += 1;
                sum[j] += v;
            }
        }
        let mean: Vec<f64> = sum
            .iter()
            .zip(&count)
            .map(|(s, &n)| if n == 0 { 0.0 } else { s / n as f64 })
            .collect();
        let mut squares = vec![0.0_f64; d];
        for row in x.rows() {
            for ((&v, m), sq) in row.iter().zip(&mean).zip(squares.iter_mut()) {
                if !v.is_nan() {
                    *sq += (v - m) * (v - m);
                }
            }
        }
        let scale = squares
            .iter()
            .zip(&count)
            .map(|(sq, &n)| {
                let sd = if n == 0 { 0.0 } else { (sq / n as f64).sqrt() };
                if sd > 1e-12 * (1.0 + sd.abs()) && sd.is_finite() {
                    sd
                } else {
                    1.0
                }
            })
            .collect();
        let mut lower = Vec::with_capacity(d);
        let mut upper = Vec::with_capacity(d);
        let mut values: Vec<f64> = Vec::with_capacity(x.nrows());
        for column in x.columns() {
            values.clear();
            values.extend(column.iter().copied().filter(|v| !v.is_nan()));
            if values.is_empty() {
                // Finite, so the artifact's JSON holds numbers (an infinity would be null).
                lower.push(f64::MIN);
                upper.push(f64::MAX);
                continue;
            }
            let last = values.len() - 1;
            let lo = ((last as f64) * WINSOR_SHARE).floor() as usize;
            let hi = ((last as f64) * (1.0 - WINSOR_SHARE)).ceil() as usize;
            let (_, &mut l, _) = values.select_nth_unstable_by(lo, f64::total_cmp);
            let (_, &mut u, _) = values.select_nth_unstable_by(hi.min(last), f64::total_cmp);
            lower.push(l);
            upper.push(u.max(l));
        }
        Ok(StandardScaler {
            mean,
            scale,
            lower,
            upper,
        })
    }

    /// Checks a scaler read from outside: bounds absent, or one ordered pair per column.
    pub fn validate(&self) -> Result<(), ModelError> {
        let d = self.mean.len();
        let bounded = !(self.lower.is_empty() && self.upper.is_empty());
        if bounded
            && (self.lower.len() != d
                || self.upper.len() != d
                || self
                    .lower
                    .iter()
                    .zip(&self.upper)
                    .any(|(l, u)| l.is_nan() || u.is_nan() || l > u))
        {
            return Err(ModelError::Data(format!(
                "the scaler's bounds do not fit its {d} columns (lower {}, upper {})",
                self.lower.len(),
                self.upper.len()
            )));
        }
        Ok(())
    }

    /// Whether `v` lies outside the bounds of `column` (NaN does not).
    #[inline]
    pub fn out_of_bounds(&self, column: usize, v: f64) -> bool {
        match (self.lower.get(column), self.upper.get(column)) {
            (Some(l), Some(u)) => v < *l || v > *u,
            _ => false,
        }
    }

    /// The scaler that changes nothing, for `features` columns.
    pub fn identity(features: usize) -> StandardScaler {
        StandardScaler {
            mean: vec![0.0; features],
            scale: vec![1.0; features],
            lower: Vec::new(),
            upper: Vec::new(),
        }
    }

    /// Number of columns.
    pub fn features(&self) -> usize {
        self.mean.len()
    }

    /// One value on the standardised scale, held within the training bounds; a missing
    /// value becomes 0 (the mean).
    #[inline]
    pub fn scale_value(&self, column: usize, v: f64) -> f64 {
        if v.is_nan() {
            return 0.0;
        }
        let v = match (self.lower.get(column), self.upper.get(column)) {
            (Some(l), Some(u)) => v.max(*l).min(*u),
            _ => v,
        };
        (v - self.mean[column]) / self.scale[column]
    }

    /// Writes the standardised `row` into `out`.
    pub fn transform_row(&self, row: &[f64], out: &mut [f64]) {
        for (j, (o, &v)) in out.iter_mut().zip(row).enumerate() {
            *o = self.scale_value(j, v);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ndarray::Array2;

    use super::*;

    #[test]
    fn values_beyond_the_training_range_count_as_its_edge() {
        // 1000 rows: 0, 1, ..., 999 in one column; the bounds are the 0.5th and 99.5th
        // percentiles.
        let x = Array2::from_shape_fn((1000, 1), |(i, _)| i as f64);
        let s = StandardScaler::fit(x.view()).unwrap();
        assert_eq!(s.lower, [4.0]);
        assert_eq!(s.upper, [995.0]);
        assert_eq!(s.scale_value(0, 1e9), s.scale_value(0, 995.0));
        assert_eq!(s.scale_value(0, -7.0), s.scale_value(0, 4.0));
        assert!(s.scale_value(0, 500.0) != s.scale_value(0, 995.0));
        assert_eq!(s.scale_value(0, f64::NAN), 0.0);
        s.validate().unwrap();
        let bad = StandardScaler {
            lower: vec![2.0],
            upper: vec![1.0],
            ..s.clone()
        };
        assert!(bad.validate().is_err());
        // A column with no value at all has no bound, and the scaler reads back from JSON.
        let x = Array2::from_shape_fn((10, 1), |_| f64::NAN);
        let empty = StandardScaler::fit(x.view()).unwrap();
        assert_eq!(empty.scale_value(0, 1e300), 1e300);
        let back: StandardScaler =
            serde_json::from_str(&serde_json::to_string(&empty).unwrap()).unwrap();
        assert_eq!(back, empty);
        // Artifacts written before the bounds existed read without them.
        let old: StandardScaler =
            serde_json::from_str(r#"{"mean": [1.0], "scale": [2.0]}"#).unwrap();
        assert_eq!(old.scale_value(0, 1e9), (1e9 - 1.0) / 2.0);
    }
}
