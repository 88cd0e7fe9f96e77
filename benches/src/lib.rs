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
