//! The task API (JSON over HTTP, served beside `/metrics`): people list and filter the
//! tasks the pipeline opened, close them, and set a debtor's credit limit by hand. Closing
//! and overriding are not done here: they are published as `task_closed` and
//! `limit_override` events into the input stream (who and why: the audit trail), and the
//! pipeline applies them in log order, so a replay does the same. Hence `202 Accepted`.
//!
//! | method | path | does |
//! |---|---|---|
//! | GET | `/tasks?status=open\|closed\|all&kind=<kind>&debtor=<id>` | lists tasks (default: open), oldest first |
//! | GET | `/tasks/{id}` | one task, open or recently closed |
//! | POST | `/tasks/{id}/close` | body `{"closed_by": "...", "reason": "..."}`: publishes `task_closed` |
//! | POST | `/debtors/{id}/limit` | body `{"credit_limit": "40000.00", "currency": "EUR", "set_by": "...", "reason": "..."}`: publishes `limit_override` |
//!
//! The list is the worker's as of its last checkpoint (every few seconds, and whenever the
//! input goes quiet). Events published here carry the pipeline's event-time clock as
//! their `event_time`, so a person's action never moves business time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use async_nats::jetstream;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use decisions::{TaskFilter, TaskList};
use events::{Envelope, InputEvent, LimitOverride, Subjects, TaskClosed, TaskKind};
use serde::Deserialize;
use serde_json::json;

use crate::stages::Stages;

/// The task list as the worker last published it, and the event-time clock then.
#[derive(Debug, Default)]
pub struct TaskBoard {
    state: RwLock<(TaskList, Option<DateTime<Utc>>)>,
}

impl TaskBoard {
    /// Takes the worker's current task list and clock.
    pub fn update(&self, stages: &Stages) {
        let tasks = stages.decisions().tasks().clone();
        let clock = stages.ledger().clock();
        if let Ok(mut state) = self.state.write() {
            *state = (tasks, clock);
        }
    }

    fn read<T>(&self, f: impl FnOnce(&TaskList, Option<DateTime<Utc>>) -> T) -> T {
        match self.state.read() {
            Ok(state) => f(&state.0, state.1),
            Err(poisoned) => {
                let state = poisoned.into_inner();
                f(&state.0, state.1)
            }
        }
    }
}

/// What the API needs: the board, and where to publish people's decisions.
#[derive(Clone)]
pub struct TaskApi {
    /// The worker's task list.
    pub board: Arc<TaskBoard>,
    /// JetStream, to publish `task_closed` and `limit_override` events.
    pub js: jetstream::Context,
    /// The subject layout.
    pub subjects: Subjects,
}

/// The routes, to merge into the HTTP server.
pub fn routes(api: TaskApi) -> Router {
    Router::new()
        .route("/tasks", get(list))
        .route("/tasks/{id}", get(one))
        .route("/tasks/{id}/close", post(close))
        .route("/debtors/{id}/limit", post(limit))
        .with_state(api)
}

/// A JSON response.
fn reply(status: StatusCode, body: &impl serde::Serialize) -> Response {
    let bytes = serde_json::to_vec_pretty(body).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    reply(status, &json!({ "error": message.into() }))
}

/// `%XX` and `+` decoded (query values are ids and kinds; a bad escape stays as written).
fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query string as a map (the last value of a repeated key wins).
fn query_map(raw: Option<&str>) -> HashMap<String, String> {
    raw.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

async fn list(State(api): State<TaskApi>, RawQuery(raw): RawQuery) -> Response {
    let q = query_map(raw.as_deref());
    let open = match q.get("status").map(String::as_str) {
        None | Some("open") => Some(true),
        Some("closed") => Some(false),
        Some("all") => None,
        Some(other) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("status `{other}`: use open, closed or all"),
            );
        }
    };
    let kind = match q.get("kind") {
        None => None,
        Some(k) => match TaskKind::from_label(k) {
            Some(kind) => Some(kind),
            None => {
                let kinds: Vec<&str> = TaskKind::ALL.iter().map(|k| k.as_str()).collect();
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("kind `{k}`: use one of {}", kinds.join(", ")),
                );
            }
        },
    };
    for key in q.keys() {
        if !["status", "kind", "debtor"].contains(&key.as_str()) {
            return error(
                StatusCode::BAD_REQUEST,
                format!("unknown parameter `{key}`: use status, kind, debtor"),
            );
        }
    }
    let filter = TaskFilter {
        open,
        kind,
        debtor_id: q.get("debtor").cloned(),
    };
    api.board.read(|tasks, _| {
        let listed = tasks.list(&filter);
        reply(
            StatusCode::OK,
            &json!({ "count": listed.len(), "tasks": listed }),
        )
    })
}

async fn one(State(api): State<TaskApi>, Path(id): Path<String>) -> Response {
    api.board.read(|tasks, _| match tasks.get(&id) {
        Some(t) => reply(StatusCode::OK, t),
        None => error(StatusCode::NOT_FOUND, format!("no task `{id}`")),
    })
}

/// Body of `POST /tasks/{id}/close`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseBody {
    closed_by: String,
    reason: String,
}

/// Body of `POST /debtors/{id}/limit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitBody {
    credit_limit: String,
    currency: String,
    set_by: String,
    reason: String,
}

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// An event from a person, stamped with the pipeline's clock, checked as the decoder would.
fn envelope(clock: Option<DateTime<Utc>>, event: InputEvent) -> Result<Envelope, String> {
    let now = Utc::now();
    let envelope = Envelope {
        schema_version: events::CURRENT_SCHEMA_VERSION,
        event_id: format!(
            "api-{}-{}",
            now.format("%Y%m%dT%H%M%S%.9fZ"),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        ),
        event_time: clock.unwrap_or(now),
        event,
    };
    // Round-trips through the decoder, so a refusal here is the one the pipeline would give.
    Envelope::decode(&envelope.to_json(), events::DEFAULT_MAX_EVENT_BYTES).map_err(|e| e.detail)
}

async fn publish(api: &TaskApi, event: Envelope) -> Response {
    let mut publisher = crate::publish::EventPublisher::new(api.js.clone(), api.subjects.clone());
    let result = match publisher.publish(&event).await {
        Ok(()) => publisher.flush().await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => reply(
            StatusCode::ACCEPTED,
            &json!({ "event_id": event.event_id, "type": event.event.kind().as_str() }),
        ),
        Err(e) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("could not publish the event: {e}"),
        ),
    }
}

async fn close(State(api): State<TaskApi>, Path(id): Path<String>, body: Bytes) -> Response {
    let body: CloseBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("request body: {e}")),
    };
    let (open, clock) = api
        .board
        .read(|tasks, clock| (tasks.get(&id).map(|t| t.closed.is_none()), clock));
    match open {
        None => return error(StatusCode::NOT_FOUND, format!("no task `{id}`")),
        Some(false) => return error(StatusCode::CONFLICT, format!("task `{id}` is closed")),
        Some(true) => {}
    }
    let event = match envelope(
        clock,
        InputEvent::TaskClosed(TaskClosed {
            task_id: id,
            closed_by: body.closed_by,
            reason: body.reason,
        }),
    ) {
        Ok(e) => e,
        Err(refused) => return error(StatusCode::BAD_REQUEST, refused),
    };
    publish(&api, event).await
}

async fn limit(State(api): State<TaskApi>, Path(debtor_id): Path<String>, body: Bytes) -> Response {
    let body: LimitBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("request body: {e}")),
    };
    // Read through the event contract, so amounts and currencies follow its rules.
    let data = json!({
        "debtor_id": debtor_id,
        "credit_limit": body.credit_limit,
        "currency": body.currency,
        "set_by": body.set_by,
        "reason": body.reason,
    });
    let event: LimitOverride = match serde_json::from_value(data) {
        Ok(e) => e,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let clock = api.board.read(|_, clock| clock);
    match envelope(clock, InputEvent::LimitOverride(event)) {
        Ok(e) => publish(&api, e).await,
        Err(refused) => error(StatusCode::BAD_REQUEST, refused),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_decoded() {
        let q = query_map(Some("status=all&debtor=D%2F42&kind=phone_call&x=a+b&y=%zz"));
        assert_eq!(q["status"], "all");
        assert_eq!(q["debtor"], "D/42");
        assert_eq!(q["kind"], "phone_call");
        assert_eq!(q["x"], "a b");
        assert_eq!(q["y"], "%zz");
        assert!(query_map(None).is_empty());
    }
}
