//! Times `creditstream dataset` over an event archive: a simulated portfolio is written
//! to a Parquet archive (untimed), then the training set is built from it as the command
//! does (DataFusion reads the archive in log order; ledger and features run; one row per
//! invoice is written) in a process of its own, as a user runs it: its memory starts
//! untouched (the archive writer's would flatter it).
//!
//! `cargo run --release -p benches --bin dataset -- [DEBTORS] [MONTHS] [ARCHIVE]`
//! (280 000 debtors over 12 months make about 10 million events.) With ARCHIVE, the
//! archive is written to that directory and kept; an existing one is read as it is.
//!
//! `dataset --ledger ARCHIVE` times the ledger half alone (the thread that sets the
//! command's pace): the archive's events are read into memory first (untimed), then one
//! thread replays them through [`features::LedgerReplay`] as the command's ledger thread
//! does, with nothing beside it (what each event yields is dropped there, where the
//! command hands it to the features' thread). It prints the time, the thread's user and
//! system time, the memory the ledger took, and the time per event kind (each event timed
//! on its own, which adds about 50 ns to each).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use pipeline::dataset::DatasetArgs;

/// The child's argument: build the training set of ARCHIVE into OUT.
const BUILD: &str = "--build";
/// Times the ledger half alone over ARCHIVE.
const LEDGER: &str = "--ledger";

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
    if first.as_deref() == Some(LEDGER) {
        let archive = PathBuf::from(args.next().unwrap_or_else(|| usage("no archive")));
        return replay_ledger(&archive);
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

/// Events read into memory at a time: lists of a fixed size, so none is copied as it grows
/// (the memory a growing list lets go would be reused by the ledger, flattering it).
const READ_CHUNK: usize = 65_536;

/// `--ledger`: the ledger half alone over `archive`.
fn replay_ledger(archive: &Path) {
    let runtime = pipeline::runtime(pipeline::MemoryUse::Growing).expect("runtime");
    let t = Instant::now();
    let mut chunks: Vec<Vec<events::Envelope>> = Vec::new();
    let mut undecoded = 0_u64;
    runtime
        .block_on(pipeline::archive::read_events(
            archive,
            async |_, payload| {
                match events::Envelope::decode(payload, usize::MAX) {
                    Ok(event) => {
                        if chunks.last().is_none_or(|c| c.len() == READ_CHUNK) {
                            chunks.push(Vec::with_capacity(READ_CHUNK));
                        }
                        if let Some(chunk) = chunks.last_mut() {
                            chunk.push(event);
                        }
                    }
                    Err(_) => undecoded += 1,
                }
                Ok(())
            },
        ))
        .expect("reading the archive");
    let events: usize = chunks.iter().map(Vec::len).sum();
    println!(
        "read {events} events ({undecoded} undecodable) into memory in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    let definitions = features::Definitions::builtin().expect("built-in definitions");
    let windows = definitions.windows.clone();
    let mut replay = features::LedgerReplay::new(ledger::LedgerConfig::default(), windows);
    // Sized as the command sizes them.
    runtime
        .block_on(pipeline::dataset::reserve(&mut replay, archive))
        .expect("counting the archive's events");
    let rss_before = benches::status_kb("VmRSS").unwrap_or(0);
    let thread = std::thread::Builder::new()
        .name("dataset-ledger".to_owned())
        .spawn(move || {
            let (user0, system0) = benches::thread_cpu_seconds().unwrap_or_default();
            let mut kinds: BTreeMap<&'static str, (u64, f64)> = BTreeMap::new();
            let t = Instant::now();
            for event in chunks.iter().flatten() {
                let started = Instant::now();
                let replayed = replay.push(event);
                let seconds = started.elapsed().as_secs_f64();
                drop(replayed);
                let kind = kinds.entry(event.event.kind().as_str()).or_default();
                kind.0 += 1;
                kind.1 += seconds;
            }
            let seconds = t.elapsed().as_secs_f64();
            let (user, system) = benches::thread_cpu_seconds().unwrap_or_default();
            // Left to the end of the process, as the command leaves them.
            std::mem::forget(replay);
            std::mem::forget(chunks);
            (seconds, user - user0, system - system0, kinds)
        })
        .expect("starting the ledger thread");
    let (seconds, user, system, kinds) = thread.join().expect("the ledger thread");
    let rss_after = benches::status_kb("VmRSS").unwrap_or(0);
    println!(
        "ledger alone: {events} events in {seconds:.1}s ({:.0} events/s), thread {user:.1}s user + {system:.1}s system, {} MB taken",
        events as f64 / seconds,
        rss_after.saturating_sub(rss_before) / 1024
    );
    for (kind, (n, s)) in kinds {
        println!(
            "  {kind:<20} {n:>9} events {s:>6.1}s {:>6.2} us each",
            s / n.max(1) as f64 * 1e6
        );
    }
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
    eprintln!(
        "error: {why}\nusage: dataset [DEBTORS] [MONTHS] [ARCHIVE]\n       dataset --ledger ARCHIVE"
    );
    std::process::exit(2);
}
