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
pub mod stages;
pub mod strategy;
pub mod task_api;
pub mod train;
pub mod worker;

pub use error::{ErrorClass, PipelineError};

/// The memory allocator of every program built on this crate (the `creditstream` binary,
/// the benchmarks, the tests): mimalloc. The ledger, the feature store and the codecs make
/// and free millions of small strings and records; with the system allocator that took a
/// fifth to a quarter of `creditstream dataset`'s time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
