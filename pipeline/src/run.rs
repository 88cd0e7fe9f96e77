//! `creditstream run`: the worker against a NATS server, with /metrics, until Ctrl-C.

use std::sync::Arc;

use prometheus::Registry;

use crate::cli::RunArgs;
use crate::error::PipelineError;
use crate::metrics::PipelineMetrics;
use crate::worker::{self, WorkerConfig};

/// Runs the command.
pub async fn run(args: RunArgs) -> Result<(), PipelineError> {
    let url = args
        .nats
        .nats_url
        .clone()
        .ok_or(PipelineError::InvalidOption {
            name: "--nats-url",
            reason: "`run` needs a NATS server; `demo` starts its own".into(),
        })?;
    let config = WorkerConfig {
        subjects: args.nats.subjects(),
        name: args.worker.worker_name.clone(),
        batch_max: args.worker.batch_size,
        max_event_bytes: args.worker.max_event_bytes,
        checkpoint_every: args.worker.checkpoint_every,
        ..WorkerConfig::default()
    };
    config.check()?;
    let (_client, js) = crate::broker::connect(&args.nats.options(url)).await?;
    let registry = Registry::new();
    let metrics =
        Arc::new(
            PipelineMetrics::new(&registry).map_err(|e| PipelineError::InvalidOption {
                name: "metrics",
                reason: e.to_string(),
            })?,
        );
    let http = crate::http::serve(args.http_addr, registry).await?;
    eprintln!(
        "creditstream worker running; metrics at http://{}/metrics",
        http.addr
    );
    let mut handle = worker::start(js, config, metrics.clone()).await?;
    let interrupted = tokio::select! {
        _ = tokio::signal::ctrl_c() => true,
        r = handle.wait() => { r?; false }
    };
    if interrupted {
        eprintln!("stopping: finishing the batch in hand and checkpointing");
        handle.stop().await?;
    }
    eprintln!(
        "stopped after {} events and {} dead letters",
        metrics.events_total(),
        metrics.dead_letters_total()
    );
    http.task.abort();
    Ok(())
}
