//! Drift: how far the features a model sees now have moved from those it was trained on,
//! as the population stability index (PSI) per feature. Each feature's training
//! distribution is kept in the artifact as shares of rows in (at most) ten bins cut at its
//! training deciles, plus the share of missing values; new rows are binned the same way and
//! `PSI = Σ (now − then) · ln(now / then)` over the bins. Rule of thumb: below 0.1 stable,
//! 0.1 to 0.25 worth a look, above 0.25 the population has moved.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

/// Bins of a profile (deciles).
pub const PROFILE_BINS: usize = 10;

/// A share below this counts as this (an empty bin would make the index infinite).
const SHARE_FLOOR: f64 = 1e-4;

/// One feature's training distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureProfile {
    /// Upper edges of the value bins, ascending (training deciles, repeats removed); a
    /// value above the last edge falls in a last bin of its own.
    pub edges: Vec<f64>,
    /// Share of training rows per value bin (`edges.len() + 1` of them), then the share of
    /// missing values.
    pub shares: Vec<f64>,
}

impl FeatureProfile {
    /// The profile of a feature's values (NaN = missing).
    pub fn of(values: impl Iterator<Item = f64>) -> FeatureProfile {
        let mut present: Vec<f64> = Vec::new();
        let mut missing = 0_usize;
        for v in values {
            if v.is_nan() {
                missing += 1;
            } else {
                present.push(v);
            }
        }
        present.sort_by(f64::total_cmp);
        let mut edges: Vec<f64> = if present.is_empty() {
            Vec::new()
        } else {
            (1..PROFILE_BINS)
                .map(|k| present[k * (present.len() - 1) / PROFILE_BINS])
                .collect()
        };
        edges.dedup();
        let mut profile = FeatureProfile {
            shares: Vec::new(),
            edges,
        };
        let mut counts = vec![0_u64; profile.edges.len() + 2];
        for v in present {
            counts[profile.bin(v)] += 1;
        }
        counts[profile.edges.len() + 1] += missing as u64;
        profile.shares = shares(&counts);
        profile
    }

    /// The bin of a value: a value bin, or the last one (missing) for NaN; index into
    /// counts of `shares.len()` bins, as [`FeatureProfile::psi_of_counts`] takes them.
    pub fn bin(&self, v: f64) -> usize {
        if v.is_nan() {
            self.edges.len() + 1
        } else {
            self.edges.partition_point(|&e| e < v)
        }
    }

    /// The population stability index of new values against this profile.
    pub fn psi(&self, values: impl Iterator<Item = f64>) -> f64 {
        let mut counts = vec![0_u64; self.shares.len()];
        for v in values {
            counts[self.bin(v)] += 1;
        }
        self.psi_of_counts(&counts)
    }

    /// The population stability index of new rows counted per bin (see
    /// [`FeatureProfile::bin`]); 0 without rows.
    pub fn psi_of_counts(&self, counts: &[u64]) -> f64 {
        if counts.iter().all(|&c| c == 0) {
            return 0.0;
        }
        shares(counts)
            .into_iter()
            .zip(&self.shares)
            .map(|(a, &e)| {
                let (a, e) = (a.max(SHARE_FLOOR), e.max(SHARE_FLOOR));
                (a - e) * (a / e).ln()
            })
            .sum()
    }
}

/// Counts per bin as shares of their total (zeros when there are none).
fn shares(counts: &[u64]) -> Vec<f64> {
    let total: u64 = counts.iter().sum();
    counts
        .iter()
        .map(|&c| {
            if total == 0 {
                0.0
            } else {
                c as f64 / total as f64
            }
        })
        .collect()
}

/// The profile of every column of `x` (rows × features).
pub fn profiles(x: ArrayView2<'_, f64>) -> Vec<FeatureProfile> {
    x.columns()
        .into_iter()
        .map(|c| FeatureProfile::of(c.iter().copied()))
        .collect()
}

/// The PSI of every column of `x` against the profiles (in column order).
pub fn psi(profiles: &[FeatureProfile], x: ArrayView2<'_, f64>) -> Vec<f64> {
    profiles
        .iter()
        .zip(x.columns())
        .map(|(p, c)| p.psi(c.iter().copied()))
        .collect()
}
