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

use std::collections::BTreeMap;
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

/// The fields of a `stat` line of `/proc` after the command name (which may hold spaces
/// and parentheses): the process's state first.
fn stat_fields(stat: &str) -> Option<std::str::Split<'_, char>> {
    Some(stat.get(stat.rfind(')')? + 2..)?.split(' '))
}

/// The minor page faults (pages first touched, or mapped again) counted in a `stat` line
/// of `/proc` (its tenth field).
pub fn parse_minor_faults(stat: &str) -> Option<u64> {
    stat_fields(stat)?.nth(7)?.parse().ok()
}

/// Minor page faults so far: of this process's threads named `name`, and of the whole
/// process; zeros when they cannot be read (not Linux).
pub fn minor_faults(name: &str) -> (u64, u64) {
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|stat| parse_minor_faults(&stat))
            .unwrap_or(0)
    };
    let own = proc_dir(None);
    let named = std::fs::read_dir(format!("{own}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|comm| comm.trim_end() == name)
        })
        .map(|task| read(&task.path().join("stat")))
        .sum();
    (named, read(std::path::Path::new(&format!("{own}/stat"))))
}

/// CPU time (user and system, all threads) a process has used so far, in seconds: this
/// process with `None`. Read from `/proc/<pid>/stat` (Linux); `None` when it cannot be
/// read.
pub fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("{}/stat", proc_dir(pid))).ok()?;
    let (user, system) = user_and_system(&stat)?;
    Some(user + system)
}

/// CPU time the calling thread has used so far, in seconds: (user, system). Read from
/// `/proc/thread-self/stat` (Linux); `None` when it cannot be read.
pub fn thread_cpu_seconds() -> Option<(f64, f64)> {
    user_and_system(&std::fs::read_to_string("/proc/thread-self/stat").ok()?)
}

/// The user and system time counted in a `stat` line of `/proc`, in seconds (clock ticks
/// of 1/100 s, the kernel's fixed `USER_HZ`).
fn user_and_system(stat: &str) -> Option<(f64, f64)> {
    // utime and stime are the 12th and 13th fields after the command name.
    let mut fields = stat_fields(stat)?.skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user / 100.0, system / 100.0))
}

/// The `/proc` directory of a process: this one with `None`.
fn proc_dir(pid: Option<u32>) -> String {
    match pid {
        Some(pid) => format!("/proc/{pid}"),
        None => "/proc/self".to_owned(),
    }
}

/// One thread's scheduler times, from `/proc/<pid>/task/<tid>/schedstat`: seconds on a
/// core and seconds runnable but waiting for one (the run queue).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SchedTimes {
    /// Seconds on a core.
    pub on_core: f64,
    /// Seconds waiting for a core while runnable.
    pub waiting: f64,
}

impl SchedTimes {
    /// What was added since `earlier`, none where the times went back (a thread gone).
    pub fn since(self, earlier: SchedTimes) -> SchedTimes {
        SchedTimes {
            on_core: (self.on_core - earlier.on_core).max(0.0),
            waiting: (self.waiting - earlier.waiting).max(0.0),
        }
    }
}

impl std::ops::Add for SchedTimes {
    type Output = SchedTimes;

    fn add(self, other: SchedTimes) -> SchedTimes {
        SchedTimes {
            on_core: self.on_core + other.on_core,
            waiting: self.waiting + other.waiting,
        }
    }
}

impl std::iter::Sum for SchedTimes {
    fn sum<I: Iterator<Item = SchedTimes>>(times: I) -> SchedTimes {
        times.fold(SchedTimes::default(), std::ops::Add::add)
    }
}

/// Parses a `schedstat` line: nanoseconds on a core, nanoseconds waiting on a run queue,
/// time slices run.
pub fn parse_schedstat(line: &str) -> Option<SchedTimes> {
    let mut fields = line.split_whitespace();
    let on_core: u64 = fields.next()?.parse().ok()?;
    let waiting: u64 = fields.next()?.parse().ok()?;
    Some(SchedTimes {
        on_core: on_core as f64 / 1e9,
        waiting: waiting as f64 / 1e9,
    })
}

/// Scheduler times by thread id, with each thread's name.
pub type ThreadTimes = BTreeMap<u32, (String, SchedTimes)>;

/// The scheduler times of each live thread of a process (this one with `None`), by
/// thread id with the thread's name; empty when they cannot be read (not Linux, or a
/// kernel without scheduler statistics).
pub fn thread_times(pid: Option<u32>) -> ThreadTimes {
    let Ok(tasks) = std::fs::read_dir(format!("{}/task", proc_dir(pid))) else {
        return BTreeMap::new();
    };
    tasks
        .filter_map(|task| {
            let task = task.ok()?;
            let tid: u32 = task.file_name().to_str()?.parse().ok()?;
            let times =
                parse_schedstat(&std::fs::read_to_string(task.path().join("schedstat")).ok()?)?;
            let name = std::fs::read_to_string(task.path().join("comm")).ok()?;
            Some((tid, (name.trim_end().to_owned(), times)))
        })
        .collect()
}

/// What the threads alive at the end of a span did in it, summed by thread name: a
/// thread started within the span counts from zero (so does one whose id the span began
/// with under another name, or with more time than it has now: an id reused). Threads
/// that ended within the span are not in it.
pub fn times_by_name(before: &ThreadTimes, after: &ThreadTimes) -> BTreeMap<String, SchedTimes> {
    let mut by_name: BTreeMap<String, SchedTimes> = BTreeMap::new();
    for (tid, (name, now)) in after {
        let then = before
            .get(tid)
            .filter(|(n, t)| n == name && t.on_core <= now.on_core && t.waiting <= now.waiting)
            .map_or(SchedTimes::default(), |(_, t)| *t);
        let sum = by_name.entry(name.clone()).or_default();
        *sum = *sum + now.since(then);
    }
    by_name
}

/// The CPU time of the broker and of this process over a phase of a harness.
#[derive(Debug, Clone)]
pub struct CpuSpan {
    server: u32,
    start: (Option<f64>, Option<f64>),
    /// The broker's threads and this process's at the start.
    threads: (ThreadTimes, ThreadTimes),
}

impl CpuSpan {
    /// Starts counting for the broker process `server` and this one.
    pub fn start(server: u32) -> CpuSpan {
        CpuSpan {
            server,
            start: (cpu_seconds(Some(server)), cpu_seconds(None)),
            threads: (thread_times(Some(server)), thread_times(None)),
        }
    }

    /// A line of how long the threads of each process were on a core and how long they
    /// waited for one since [`CpuSpan::start`], in total and for this process's busiest
    /// thread names: on two cores shared by the broker, the worker and the harness, a
    /// stage loop slower than alone is a stage loop waiting for a core. Threads that
    /// ended within the span (a score point's helpers) are not counted.
    pub fn waits(&self) -> String {
        let total = |by: &BTreeMap<String, SchedTimes>| by.values().copied().sum::<SchedTimes>();
        let server = times_by_name(&self.threads.0, &thread_times(Some(self.server)));
        let own = times_by_name(&self.threads.1, &thread_times(None));
        if own.is_empty() {
            return "threads: scheduler statistics unavailable".to_owned();
        }
        let server = if server.is_empty() {
            "nats-server unknown".to_owned()
        } else {
            let s = total(&server);
            format!("nats-server {:.1} / {:.1} s", s.on_core, s.waiting)
        };
        let o = total(&own);
        let mut named: Vec<(&String, &SchedTimes)> = own.iter().collect();
        named.sort_by(|a, b| b.1.on_core.total_cmp(&a.1.on_core));
        let names: Vec<String> = named
            .iter()
            .take(4)
            .map(|(n, t)| format!("{n} {:.1} / {:.1} s", t.on_core, t.waiting))
            .collect();
        format!(
            "threads, on a core / waiting for one: {server}; this process {:.1} / {:.1} s ({})",
            o.on_core,
            o.waiting,
            names.join(", ")
        )
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
    fn schedstat_lines_read_as_seconds_and_bad_ones_are_refused() {
        assert_eq!(
            parse_schedstat("2500000000 500000000 42\n"),
            Some(SchedTimes {
                on_core: 2.5,
                waiting: 0.5
            })
        );
        assert_eq!(parse_schedstat("12"), None);
        assert_eq!(parse_schedstat("a b c"), None);
    }

    #[test]
    fn a_span_counts_threads_alive_at_its_end_by_name() {
        let t = |on_core, waiting| SchedTimes { on_core, waiting };
        let before = BTreeMap::from([
            (1, ("main".to_owned(), t(1.0, 0.5))),
            (2, ("worker".to_owned(), t(2.0, 1.0))),
            (3, ("worker".to_owned(), t(4.0, 1.0))),
            // Ended within the span: not counted.
            (4, ("helper".to_owned(), t(9.0, 9.0))),
            // Its id reused by a thread of another name: counted from zero.
            (5, ("old".to_owned(), t(7.0, 7.0))),
            // Its id reused by a thread of the same name: counted from zero too.
            (7, ("worker".to_owned(), t(5.0, 5.0))),
        ]);
        let after = BTreeMap::from([
            (1, ("main".to_owned(), t(1.5, 0.5))),
            (2, ("worker".to_owned(), t(3.0, 1.25))),
            (3, ("worker".to_owned(), t(4.5, 2.0))),
            (5, ("new".to_owned(), t(0.25, 0.0))),
            (6, ("worker".to_owned(), t(0.5, 0.25))),
            (7, ("worker".to_owned(), t(0.25, 0.0))),
        ]);
        let by = times_by_name(&before, &after);
        assert_eq!(by.len(), 3);
        assert_eq!(by["main"], t(0.5, 0.0));
        assert_eq!(by["worker"], t(2.25, 1.5));
        assert_eq!(by["new"], t(0.25, 0.0));
    }

    #[test]
    fn this_process_threads_are_found_with_their_times() {
        if thread_times(None).is_empty() {
            return; // not Linux, or no scheduler statistics
        }
        // A thread of a known name, working until it has been on a core long enough to
        // show (a test may run on the process's main thread, named after the binary).
        let found = std::thread::Builder::new()
            .name("schedstat-probe".into())
            .spawn(|| {
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
                let mut spin = 0_u64;
                loop {
                    for i in 0..100_000_u64 {
                        spin = std::hint::black_box(spin.wrapping_mul(31).wrapping_add(i));
                    }
                    let threads = thread_times(None);
                    let me = threads
                        .values()
                        .find(|(n, _)| n == "schedstat-probe")
                        .map(|(_, t)| *t);
                    if me.is_some_and(|t| t.on_core >= 0.01) || std::time::Instant::now() > deadline
                    {
                        return (me, threads.len());
                    }
                }
            })
            .expect("a thread")
            .join()
            .expect("the probe ends");
        let (me, threads) = found;
        assert!(
            me.is_some_and(|t| t.on_core >= 0.01),
            "{me:?} among {threads} threads"
        );
        assert!(thread_times(Some(u32::MAX)).is_empty());
    }

    #[test]
    fn minor_faults_are_read_from_a_stat_line_and_grow_as_fresh_memory_is_touched() {
        let line = "42 (a (b) c) S 1 42 42 0 -1 4194560 1234 0 5 0 10 3 0 0 20 0 1 0 99";
        assert_eq!(parse_minor_faults(line), Some(1234));
        assert_eq!(parse_minor_faults("42 (truncated"), None);
        assert_eq!(parse_minor_faults("42 (x) S 1 2 3 4 5 6 many"), None);
        let name = "fault-probe";
        let (touched, after) = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let before = minor_faults(name);
                // 64 MB, each page written once: a fault per page, or per huge page (32),
                // less one or two where the first and last share huge pages touched before.
                let mut pages = vec![0_u8; 64 << 20];
                for page in pages.chunks_mut(4096) {
                    page[0] = 1;
                }
                let after = minor_faults(name);
                (std::hint::black_box(pages).len(), (before, after))
            })
            .expect("probe thread")
            .join()
            .expect("probe ends");
        let (before, after) = after;
        if after.1 == 0 {
            return; // not Linux
        }
        assert_eq!(touched, 64 << 20);
        assert!(after.0 >= before.0 + 16, "{before:?} -> {after:?}");
        assert!(after.1 >= after.0, "the process counts its threads' faults");
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
