//! The `creditstream` binary's library: the only crate that does I/O.
//!
//! Layout, in data-flow order:
//! - [`cli`]: the command line (clap);
//! - [`natsd`]: a private `nats-server` for the demo and tests;
//! - [`broker`]: NATS connection, streams and the worker's consumer;
//! - [`publish`]: producers' side, events into the input stream;
//! - [`worker`]: the stage loop — pull, decode (bad input → dead letter), [`stages`],
//!   publish outputs, [`checkpoint`], ack;
//! - [`stages`]: ledger → decisions, pure, also used by replays and tests;
//! - [`metrics`] and [`http`]: the metric catalogue and `/metrics`; [`task_api`]: the
//!   task list, closing tasks and limit overrides over HTTP;
//! - [`demo`], [`run`], [`simulate`], [`import`], [`dataset`], [`train`],
//!   [`evaluate`], [`explain`]: the sub-commands; [`archive`]: the Parquet event archive;
//!   [`registry`]: model artifacts by version (object store or directory); [`strategy`]:
//!   checking and activating strategy configs; [`replay`]: the stages over a written log.

pub mod archive;
pub mod backtest;
pub mod broker;
pub mod checkpoint;
pub mod cli;
pub mod dataset;
pub mod demo;
pub mod error;
pub mod evaluate;
pub mod explain;
pub mod http;
pub mod import;
pub mod metrics;
pub mod natsd;
pub mod outbox;
pub mod progress;
pub mod publish;
pub mod registry;
pub mod replay;
pub mod run;
pub mod scoring;
pub mod shutdown;
pub mod simulate;
pub mod spin;
pub mod stages;
pub mod strategy;
pub mod task_api;
pub mod train;
pub mod training_file;
pub mod worker;

pub use error::{ErrorClass, PipelineError};

/// The memory allocator of every program built on this crate (the `creditstream` binary,
/// the benchmarks, the tests): mimalloc. The ledger, the feature store and the codecs make
/// and free millions of small strings and records; with the system allocator that took a
/// fifth to a quarter of `creditstream dataset`'s time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How a program uses its memory, which decides the allocator's settings
/// ([`allocator_settings`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryUse {
    /// Takes and frees memory over and over for as long as it runs: the worker (micro-
    /// batches, checkpoint copies), the demo, the replays and the benchmarks of them.
    Churning,
    /// One pass that only grows its memory to the end: `creditstream dataset` (the
    /// ledger of the whole archive, kept until the last event).
    Growing,
}

/// The allocator's settings for a program, as mimalloc's environment variables, each
/// applied unless the operator set it. Both uses set the same variables:
///
/// - `MIMALLOC_PURGE_DELAY=10000`: freed memory stays with the process 10 s before it is
///   handed back to the operating system. mimalloc's default, one second, is shorter than
///   the time between two checkpoints: each checkpoint's copy of the state then lands in
///   memory handed back since, which the kernel has to map and zero again — the copy took
///   25 and 32 ms instead of 5 and 8 ms for the feature tiles and the decisions of 10,000
///   debtors, and the worker, as fast as it goes end to end, was 5–24 % slower (two pairs
///   of runs).
/// - `MIMALLOC_ARENA_EAGER_COMMIT`: whether mimalloc's arenas (1 GiB reserved at a time)
///   are committed at once, and so marked for transparent huge pages (`1`), or page by
///   page as they are used (`0`). Churning, `0`: with huge pages every first touch faults
///   in and zeroes 2 MiB while the process waits — encoding the 121 MB state of a
///   checkpoint took 1.6–1.7 s instead of 0.44–0.48 s, the slowest score point 43–86 ms
///   instead of 13–19 ms, and the kernel's page zeroing was over a quarter of
///   `stage-throughput`'s samples. Growing, `1`: memory is touched once and kept, so a
///   huge page costs its zeroing once, and the tables of millions of items translate
///   their addresses cheaper — `creditstream dataset` over 10 million events took
///   78–92 s instead of 106–111 s (four alternating pairs, 2026-12-04; see
///   docs/operations.md, Memory).
pub fn allocator_settings(memory: MemoryUse) -> [(&'static str, &'static str); 2] {
    let eager_commit = match memory {
        MemoryUse::Churning => "0",
        MemoryUse::Growing => "1",
    };
    [
        ("MIMALLOC_PURGE_DELAY", "10000"),
        ("MIMALLOC_ARENA_EAGER_COMMIT", eager_commit),
    ]
}

/// The async runtime of a program that uses its memory as `memory` says: tokio's
/// multi-threaded runtime with I/O and timers. A [`MemoryUse::Growing`] program runs at
/// most as many blocking threads as the machine has cores, kept for the whole run.
/// DataFusion reads local files on blocking threads, one read each; left to tokio's
/// default (up to 512, each let go after 10 s idle), `creditstream dataset` started 75–176
/// of them to read an archive of 1.77 million events on 2 cores, and each one's pages of
/// the allocator stayed with the process: capped at 2, the same command took 13.9 and
/// 15.1 s against 22.1 and 17.4 s, peak RSS 1.66 GB against 2.5–2.9 GB (two alternating
/// pairs, 2026-12-04); over 10 million events no faster (91.5–111.9 s against 86.2–98.5 s,
/// the machine's variation) and 0.4 GB less at the peak (7.7 against 8.1 GB).
pub fn runtime(memory: MemoryUse) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if memory == MemoryUse::Growing {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        builder
            .max_blocking_threads(cores)
            .thread_keep_alive(std::time::Duration::from_secs(600));
    }
    builder.build()
}

/// Sets the allocator up for a program that uses its memory as `memory` says: mimalloc
/// reads its settings from the environment once, before `main`, so when one of
/// [`allocator_settings`] is not set the program runs itself again (same process,
/// arguments and standard streams) with the missing ones set. Values set by the operator
/// are kept. Call it at the start of `main`, as soon as the program knows what it will do
/// (`creditstream` parses its command line first) and before anything with an effect
/// outside the process; it returns when nothing is to be done or the re-execution failed
/// (then the program runs on with the allocator's defaults, and says so).
pub fn tune_allocator(memory: MemoryUse) {
    use std::os::unix::process::CommandExt;
    let missing: Vec<(&str, &str)> = allocator_settings(memory)
        .into_iter()
        .filter(|(var, _)| std::env::var_os(var).is_none())
        .collect();
    if missing.is_empty() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(name) = args.next() {
        command.arg0(name);
    }
    let error = command.args(args).envs(missing.iter().copied()).exec();
    let names: Vec<&str> = missing.iter().map(|(var, _)| *var).collect();
    eprintln!(
        "warning: could not run again with {} set ({error}); the allocator's defaults apply",
        names.join(", ")
    );
}
