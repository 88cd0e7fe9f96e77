//! The HTTP server: `/metrics` for Prometheus, `/healthz`, and the task API
//! ([`crate::task_api`]) when a worker runs beside it.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus::Registry;

use crate::error::PipelineError;

/// A bound HTTP server, serving until the returned task is dropped or aborted.
pub struct HttpServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The serving task.
    pub task: tokio::task::JoinHandle<()>,
}

/// Binds `addr` (port 0 picks a free one) and serves the routes; the task API too when
/// `tasks` is given.
pub async fn serve(
    addr: SocketAddr,
    registry: Registry,
    tasks: Option<crate::task_api::TaskApi>,
) -> Result<HttpServer, PipelineError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| PipelineError::Io(format!("binding the HTTP server to {addr}"), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| PipelineError::Io("reading the HTTP address".into(), e))?;
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .with_state(registry);
    let app = match tasks {
        Some(api) => app.merge(crate::task_api::routes(api)),
        None => app,
    };
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "HTTP server stopped");
        }
    });
    Ok(HttpServer { addr, task })
}

async fn metrics(State(registry): State<Registry>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::render(&registry),
    )
}
