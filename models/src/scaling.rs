//! Feature standardisation: each column centred on its training mean and divided by its
//! training standard deviation, so that coefficients are comparable and the solver is
//! well conditioned. Missing values (NaN) are left out of the statistics and become the
//! mean (0 after scaling).

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
}

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
        Ok(StandardScaler { mean, scale })
    }

    /// The scaler that changes nothing, for `features` columns.
    pub fn identity(features: usize) -> StandardScaler {
        StandardScaler {
            mean: vec![0.0; features],
            scale: vec![1.0; features],
        }
    }

    /// Number of columns.
    pub fn features(&self) -> usize {
        self.mean.len()
    }

    /// One value on the standardised scale; a missing value becomes 0 (the mean).
    #[inline]
    pub fn scale_value(&self, column: usize, v: f64) -> f64 {
        if v.is_nan() {
            0.0
        } else {
            (v - self.mean[column]) / self.scale[column]
        }
    }

    /// Writes the standardised `row` into `out`.
    pub fn transform_row(&self, row: &[f64], out: &mut [f64]) {
        for (j, (o, &v)) in out.iter_mut().zip(row).enumerate() {
            *o = self.scale_value(j, v);
        }
    }
}
