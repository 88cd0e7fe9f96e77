//! Benchmarks and measurement harnesses. Each binary in `src/bin` prints what it measured
//! with the data size, so results read as events per second.
//!
//! - `stage-throughput`: the simulator, the wire codec and the domain stages in-process
//!   (no broker), on a simulated portfolio.
//! - `matching`: cash application alone: payments drawn like the default noise mix,
//!   matched against a ledger of a million open items (payments/s on one core).
//! - `feature-stage`: the feature stage alone at 1k, 10k and 100k-event micro-batches,
//!   beside the bare DataFusion aggregate; `dataset`: `creditstream dataset` over a
//!   simulated archive.
//! - `model-training`: our side of `benches/models/compare.sh`, the side-by-side with
//!   scikit-learn.
//!
//! Shared set-up of the harnesses lives here.

use std::path::Path;

use pipeline::archive::Archive;
use simulator::{SimConfig, Simulator};

/// An experiment's setting from the environment (`SCORE_MAX_DEBTORS=500`, say): `None`
/// when unset; a value that does not parse stops the harness, naming it.
pub fn env_setting<T: std::str::FromStr>(name: &str) -> Option<T> {
    let value = std::env::var(name).ok()?;
    Some(value.parse().unwrap_or_else(|_| {
        eprintln!("error: {name}={value} is not a valid value");
        std::process::exit(2)
    }))
}

/// The value at quantile `p` (0 to 1) of `sorted` (ascending), the nearest sample; NaN
/// when there are none.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// What a Prometheus histogram can say of its `q` quantile without interpolating: the
/// upper bound of the first bucket that holds it (`+inf` above the last bound, NaN with
/// no observations).
pub fn bucket_quantile(histogram: &prometheus::Histogram, q: f64) -> f64 {
    use prometheus::core::Metric;
    let metric = histogram.metric();
    let histogram = metric.get_histogram();
    let total = histogram.get_sample_count();
    if total == 0 {
        return f64::NAN;
    }
    let rank = ((total as f64 * q).ceil() as u64).max(1);
    histogram
        .get_bucket()
        .iter()
        .find(|b| b.cumulative_count() >= rank)
        .map_or(f64::INFINITY, |b| b.upper_bound())
}

/// Simulates `debtors` over `months` (the simulator's defaults otherwise) and writes every
/// event to a Parquet archive in `dir`, as the worker does; returns the number of events.
pub fn archive_simulation(dir: &Path, debtors: u32, months: u32) -> u64 {
    let config = SimConfig {
        debtors,
        months,
        ..SimConfig::default()
    }
    .check()
    .unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2)
    });
    let mut archive = Archive::open(dir).expect("archive");
    let mut events = 0_u64;
    for e in Simulator::new(config) {
        events += 1;
        archive.push(events, &e, &e.to_json());
        if archive.pending() >= 500_000 {
            archive.write().expect("archive write");
        }
    }
    archive.write().expect("archive write");
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_quantile_is_the_bound_of_the_bucket_holding_the_quantile() {
        let histogram = prometheus::Histogram::with_opts(
            prometheus::HistogramOpts::new("h", "h").buckets(vec![0.01, 0.1, 1.0]),
        )
        .expect("a histogram");
        assert!(bucket_quantile(&histogram, 0.5).is_nan());
        for _ in 0..98 {
            histogram.observe(0.005);
        }
        histogram.observe(0.5);
        histogram.observe(7.0);
        assert_eq!(bucket_quantile(&histogram, 0.5), 0.01);
        assert_eq!(bucket_quantile(&histogram, 0.98), 0.01);
        assert_eq!(bucket_quantile(&histogram, 0.99), 1.0);
        assert_eq!(bucket_quantile(&histogram, 1.0), f64::INFINITY);
        assert_eq!(bucket_quantile(&histogram, 0.0), 0.01);
    }
}
