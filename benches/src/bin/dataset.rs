//! Times `creditstream dataset` over an event archive: a simulated portfolio is written
//! to a Parquet archive (untimed), then the training set is built from it as the command
//! does (DataFusion reads the archive in log order; ledger and features run; one row per
//! invoice is written) in a process of its own, as a user runs it: its memory starts
//! untouched (the archive writer's would flatter it).
//!
//! `cargo run --release -p benches --bin dataset -- [DEBTORS] [MONTHS] [ARCHIVE]`
//! (280 000 debtors over 12 months make about 10 million events.) With ARCHIVE, the
//! archive is written to that directory and kept; an existing one is read as it is.

use std::path::{Path, PathBuf};
use std::time::Instant;

use pipeline::dataset::DatasetArgs;

/// The child's argument: build the training set of ARCHIVE into OUT.
const BUILD: &str = "--build";

fn main() {
    // The allocator's settings of `creditstream dataset`, which the child inherits (an
    // operator's own values are kept, to time others).
    pipeline::tune_allocator(pipeline::MemoryUse::Growing);
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if first.as_deref() == Some(BUILD) {
        let archive = PathBuf::from(args.next().unwrap_or_else(|| usage("no archive")));
        let out = PathBuf::from(args.next().unwrap_or_else(|| usage("no output")));
        return build(archive, out);
    }
    let parse = |a: Option<String>, default: u32| match a {
        None => default,
        Some(a) => a.parse().unwrap_or_else(|_| usage(&a)),
    };
    let debtors = parse(first, 280_000);
    let months = parse(args.next(), 12);
    let kept = args.next().map(PathBuf::from);
    let dir = tempfile::tempdir().expect("temporary directory");
    let archive_dir = kept.unwrap_or_else(|| dir.path().join("archive"));

    let t = Instant::now();
    if archive_dir.is_dir() {
        println!("archive: {} (written earlier)", archive_dir.display());
    } else {
        let events = benches::archive_simulation(&archive_dir, debtors, months);
        println!(
            "archive: {debtors} debtors, {months} months, {events} events, {:.0} MB of Parquet, written in {:.1}s",
            dir_bytes(&archive_dir) as f64 / 1e6,
            t.elapsed().as_secs_f64()
        );
    }
    let out = dir.path().join("training.parquet");
    let t = Instant::now();
    let status = std::process::Command::new(std::env::current_exe().expect("this program"))
        .arg(BUILD)
        .arg(&archive_dir)
        .arg(&out)
        .status()
        .expect("starting the dataset process");
    assert!(status.success(), "the dataset process failed: {status}");
    println!(
        "dataset process: {:.1}s wall clock, start to exit",
        t.elapsed().as_secs_f64()
    );
}

/// The child: builds the training set and reports it, with its peak memory.
fn build(archive: PathBuf, out: PathBuf) {
    let args = DatasetArgs {
        archive,
        out,
        late_days: features::training::DEFAULT_LATE_DAYS,
        horizon_days: features::training::DEFAULT_HORIZON_DAYS,
        feature_definitions: None,
    };
    // The command's runtime (blocking threads capped).
    let runtime = pipeline::runtime(pipeline::MemoryUse::Growing).expect("runtime");
    let t = Instant::now();
    let summary = runtime
        .block_on(pipeline::dataset::build(&args))
        .expect("dataset");
    let seconds = t.elapsed().as_secs_f64();
    let peak =
        benches::status_kb("VmHWM").map_or_else(|| "unknown".to_owned(), |kb| format!("{kb} kB"));
    println!(
        "dataset: {} events read, {} rows ({} late, {} unlabelled), {:.0} MB, in {seconds:.1}s ({:.0} events/s), peak RSS {peak}",
        summary.events,
        summary.rows,
        summary.late,
        summary.unlabelled,
        std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0) as f64 / 1e6,
        summary.events as f64 / seconds
    );
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() {
                        dir_bytes(&p)
                    } else {
                        e.metadata().map(|m| m.len()).unwrap_or(0)
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

fn usage(why: &str) -> ! {
    eprintln!("error: {why}\nusage: dataset [DEBTORS] [MONTHS] [ARCHIVE]");
    std::process::exit(2);
}
