//! `creditstream run`: the worker against a NATS server, with /metrics, until Ctrl-C.

use std::sync::Arc;
use std::time::Duration;

use prometheus::Registry;

use crate::cli::RunArgs;
use crate::error::{ErrorClass, PipelineError};
use crate::metrics::PipelineMetrics;
use crate::worker;

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
    let mut config = args.worker.config(args.nats.subjects())?;
    let options = args.nats.options(url);
    let (_client, js) = crate::broker::connect(&options).await?;
    // Checkpoints (tens of megabytes each) on a connection of their own, so that they do
    // not queue ahead of the events and outputs.
    let (_checkpoint_client, checkpoint_js) = crate::broker::connect(&options).await?;
    let board = Arc::new(crate::task_api::TaskBoard::default());
    config.task_board = Some(board.clone());
    let api = crate::task_api::TaskApi {
        board,
        js: js.clone(),
        subjects: config.subjects.clone(),
    };
    let registry = Registry::new();
    let metrics = Arc::new(
        PipelineMetrics::new(&registry)
            .map_err(|e| PipelineError::Internal(format!("metrics: {e}")))?,
    );
    let http = crate::http::serve(args.http_addr, registry, Some(api)).await?;
    eprintln!(
        "creditstream worker running; metrics at http://{0}/metrics, tasks at http://{0}/tasks",
        http.addr
    );
    // A transient failure (NATS restarting, a timeout) restarts the worker from its last
    // checkpoint after a backoff; anything else stops the command.
    let mut backoff = Duration::from_secs(1);
    loop {
        let started = worker::start_with_checkpoints(
            js.clone(),
            checkpoint_js.clone(),
            config.clone(),
            metrics.clone(),
        );
        let mut handle = match started.await {
            Ok(h) => h,
            Err(e) if e.class() == ErrorClass::Transient => {
                eprintln!("worker could not start ({e}); retrying in {backoff:?}");
                if wait_or_interrupt(backoff).await {
                    break;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
            Err(e) => return Err(e),
        };
        let interrupted = tokio::select! {
            _ = crate::shutdown::requested() => true,
            r = handle.wait() => match r {
                Ok(()) => false,
                Err(e) if e.class() == ErrorClass::Transient => {
                    eprintln!("worker stopped ({e}); restarting from its checkpoint in {backoff:?}");
                    if wait_or_interrupt(backoff).await {
                        break;
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
                Err(e) => return Err(e),
            }
        };
        if interrupted {
            eprintln!("stopping: finishing the batch in hand and checkpointing");
            handle.stop().await?;
        }
        break;
    }
    eprintln!(
        "stopped after {} events and {} dead letters",
        metrics.events_total(),
        metrics.dead_letters_total()
    );
    http.task.abort();
    Ok(())
}

/// Longest wait between restarts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Sleeps for `delay`; true when Ctrl-C came first.
async fn wait_or_interrupt(delay: Duration) -> bool {
    tokio::select! {
        _ = crate::shutdown::requested() => true,
        _ = tokio::time::sleep(delay) => false,
    }
}
