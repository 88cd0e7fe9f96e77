//! Times `creditstream dataset` over an event archive: a simulated portfolio is written
//! to a Parquet archive (untimed), then the training set is built from it as the command
//! does (DataFusion reads the archive in log order; ledger and features run; one row per
//! invoice is written).
//!
//! `cargo run --release -p benches --bin dataset -- [DEBTORS] [MONTHS] [ARCHIVE]`
//! (280 000 debtors over 12 months make about 10 million events.) With ARCHIVE, the
//! archive is written to that directory and kept (an existing one is read as it is), to
//! time `creditstream dataset` on it in a process of its own.

use std::time::Instant;

use pipeline::dataset::DatasetArgs;

fn main() {
    let mut args = std::env::args().skip(1);
    let parse = |a: Option<String>, default: u32| match a {
        None => default,
        Some(a) => a.parse().unwrap_or_else(|_| usage(&a)),
    };
    let debtors = parse(args.next(), 280_000);
    let months = parse(args.next(), 12);
    let kept = args.next().map(std::path::PathBuf::from);
    let dir = tempfile::tempdir().expect("temporary directory");
    let archive_dir = kept.unwrap_or_else(|| dir.path().join("archive"));

    let t = Instant::now();
    let events = if archive_dir.is_dir() {
        0 // an archive written earlier
    } else {
        benches::archive_simulation(&archive_dir, debtors, months)
    };
    let bytes = dir_bytes(&archive_dir);
    println!(
        "archive: {debtors} debtors, {months} months, {events} events, {:.0} MB of Parquet, written in {:.1}s",
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    let args = DatasetArgs {
        archive: archive_dir,
        out: dir.path().join("training.parquet"),
        late_days: features::training::DEFAULT_LATE_DAYS,
        horizon_days: features::training::DEFAULT_HORIZON_DAYS,
        feature_definitions: None,
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let t = Instant::now();
    let summary = runtime
        .block_on(pipeline::dataset::build(&args))
        .expect("dataset");
    let seconds = t.elapsed().as_secs_f64();
    println!(
        "dataset: {} events read, {} rows ({} late, {} unlabelled), {:.0} MB, in {seconds:.1}s ({:.0} events/s)",
        summary.events,
        summary.rows,
        summary.late,
        summary.unlabelled,
        std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0) as f64 / 1e6,
        summary.events as f64 / seconds
    );
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
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
