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

/// A field of this process's `/proc/self/status` counted in kB (`VmHWM`, the peak resident
/// set; `VmRSS`, the resident set now), in kB; `None` when it cannot be read (not Linux).
pub fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let value = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?;
    value.split_whitespace().next()?.parse().ok()
}

/// CPU time (user and system, all threads) a process has used so far, in seconds: this
/// process with `None`. Read from `/proc/<pid>/stat` (Linux; clock ticks of 1/100 s, the
/// kernel's fixed `USER_HZ`); `None` when it cannot be read.
pub fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses: utime and
    // stime are the 12th and 13th of them.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let mut fields = rest.split(' ').skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}

/// The CPU time of the broker and of this process over a phase of a harness.
#[derive(Debug, Clone, Copy)]
pub struct CpuSpan {
    server: u32,
    start: (Option<f64>, Option<f64>),
}

impl CpuSpan {
    /// Starts counting for the broker process `server` and this one.
    pub fn start(server: u32) -> CpuSpan {
        CpuSpan {
            server,
            start: (cpu_seconds(Some(server)), cpu_seconds(None)),
        }
    }

    /// A line of what the phase cost since [`CpuSpan::start`]: each process's CPU seconds,
    /// in cores over `wall` seconds and in microseconds per event of `events`.
    pub fn report(&self, wall: f64, events: u64) -> String {
        let line = |name: &str, before: Option<f64>, now: Option<f64>| match (before, now) {
            (Some(a), Some(b)) => format!(
                "{name} {:.1} s ({:.2} cores, {:.1} us per event)",
                b - a,
                (b - a) / wall,
                (b - a) * 1e6 / events.max(1) as f64
            ),
            _ => format!("{name} unknown"),
        };
        format!(
            "cpu: {}; {}",
            line("nats-server", self.start.0, cpu_seconds(Some(self.server))),
            line("this process", self.start.1, cpu_seconds(None))
        )
    }
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

    #[test]
    fn this_process_cpu_time_is_read_and_grows_with_work() {
        let before = cpu_seconds(None).expect("this process's CPU time");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut spin = 0_u64;
        let mut now = before;
        while now < before + 0.05 && std::time::Instant::now() < deadline {
            for i in 0..100_000_u64 {
                spin = std::hint::black_box(spin.wrapping_mul(31).wrapping_add(i));
            }
            now = cpu_seconds(None).expect("this process's CPU time");
        }
        assert!(
            now >= before + 0.05,
            "{before} s then {now} s after spinning"
        );
        assert!(cpu_seconds(Some(u32::MAX)).is_none());
    }

    #[test]
    fn status_fields_are_read_in_kb() {
        // The resident set first: the peak read after it is at least that.
        let now = status_kb("VmRSS").expect("resident set");
        let peak = status_kb("VmHWM").expect("peak resident set");
        assert!(now > 0 && peak >= now, "VmHWM {peak} kB, VmRSS {now} kB");
        assert!(status_kb("VmNoSuchField").is_none());
        assert!(
            status_kb("VmHW").is_none(),
            "a prefix of a field is not the field"
        );
    }
}
