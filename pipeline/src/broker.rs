//! NATS connection and the JetStream layout: the input, output and dead-letter streams,
//! the worker's durable consumer and the checkpoint bucket. Created when missing, checked
//! when present; see `docs/operations.md` for the settings.

use std::time::Duration;

use async_nats::jetstream::{self, consumer, object_store, stream};
use events::Subjects;

use crate::error::PipelineError;

/// How to reach NATS.
#[derive(Debug, Clone, Default)]
pub struct NatsOptions {
    /// Server URL(s), comma separated.
    pub url: String,
    /// `.creds` file (JWT + nkey seed).
    pub creds: Option<std::path::PathBuf>,
    /// User name (with `password`).
    pub user: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Token.
    pub token: Option<String>,
}

/// Connects and returns the client and its JetStream context.
pub async fn connect(
    options: &NatsOptions,
) -> Result<(async_nats::Client, jetstream::Context), PipelineError> {
    let mut connect = async_nats::ConnectOptions::new()
        .name("creditstream")
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(5));
    if let Some(path) = &options.creds {
        connect =
            connect
                .credentials_file(path)
                .await
                .map_err(|source| PipelineError::Credentials {
                    path: path.display().to_string(),
                    source,
                })?;
    }
    if let (Some(user), Some(password)) = (&options.user, &options.password) {
        connect = connect.user_and_password(user.clone(), password.clone());
    }
    if let Some(token) = &options.token {
        connect = connect.token(token.clone());
    }
    // retry_on_initial_connect makes connect() return at once; wait for the first
    // connection with a bound so a wrong URL is reported instead of hanging.
    let client = connect
        .connect(options.url.as_str())
        .await
        .map_err(|source| PipelineError::Connect {
            url: options.url.clone(),
            source,
        })?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while client.connection_state() != async_nats::connection::State::Connected {
        if tokio::time::Instant::now() > deadline {
            return Err(PipelineError::JetStream {
                what: "connect",
                detail: format!("no connection to {} after 10 s", options.url),
            });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let js = jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(10))
        .max_ack_inflight(MAX_ACK_INFLIGHT)
        .build(client.clone());
    Ok((client, js))
}

/// Bytes kept for the headers of a message whose payload the pipeline sizes itself (a
/// batch of score updates with its id and count, an object's chunk): such a payload takes
/// at most the server's `max_payload` less this.
pub const HEADER_ROOM: usize = 1024;

/// Chunks of the objects the pipeline stores (checkpoints, models): async-nats's own
/// size, unless the server takes less.
const OBJECT_CHUNK_BYTES: usize = 128 * 1024;

/// The largest payload, at most `cap`, of a message with headers of up to
/// [`HEADER_ROOM`] bytes that the server takes: its `max_payload` (announced when the
/// client connects; 1 MiB unless the operator set it) less that room. Read at each use: a
/// reconnection may reach a server with another setting.
pub fn payload_room(client: &async_nats::Client, cap: usize) -> usize {
    client
        .max_payload()
        .saturating_sub(HEADER_ROOM)
        .min(cap)
        .max(1)
}

/// What to store an object as: its name, and chunks the server takes.
pub fn object_meta(client: &async_nats::Client, name: &str) -> object_store::ObjectMetadata {
    object_store::ObjectMetadata {
        name: name.to_owned(),
        chunk_size: Some(payload_room(client, OBJECT_CHUNK_BYTES)),
        ..Default::default()
    }
}

/// Publish acks a connection lets wait before the next publish waits for one of them.
pub const MAX_ACK_INFLIGHT: usize = 4096;

/// Window in which JetStream drops a message whose `Nats-Msg-Id` it has seen.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// Creates the three streams when missing and checks their subjects when present.
pub async fn ensure_streams(
    js: &jetstream::Context,
    subjects: &Subjects,
) -> Result<(), PipelineError> {
    for (name, wildcard, description) in [
        (
            subjects.input_stream(),
            subjects.input_wildcard(),
            "creditstream input events: the log everything is rebuilt from",
        ),
        (
            subjects.output_stream(),
            subjects.output_wildcard(),
            "creditstream outputs: alerts, actions, tasks, score updates",
        ),
        (
            subjects.dead_letter_stream(),
            subjects.dead_letter_wildcard(),
            "creditstream dead letters: refused input with its reason",
        ),
    ] {
        let config = stream::Config {
            name: name.clone(),
            description: Some(description.into()),
            subjects: vec![wildcard.clone()],
            storage: stream::StorageType::File,
            retention: stream::RetentionPolicy::Limits,
            duplicate_window: DUPLICATE_WINDOW,
            ..Default::default()
        };
        let mut stream = js
            .get_or_create_stream(config)
            .await
            .map_err(|e| PipelineError::js("creating a stream", e))?;
        let info = stream
            .info()
            .await
            .map_err(|e| PipelineError::js("reading stream info", e))?;
        if !info.config.subjects.contains(&wildcard) {
            return Err(PipelineError::Setup(format!(
                "stream {name} exists with subjects {:?}, expected {wildcard}; \
                 delete it or choose another --prefix",
                info.config.subjects
            )));
        }
    }
    Ok(())
}

/// The worker's durable pull consumer over all input partitions, positioned just after
/// `after_sequence` (the checkpointed position). An existing consumer is replaced, so that
/// whatever it had delivered but was not checkpointed is delivered again at once.
pub async fn worker_consumer(
    js: &jetstream::Context,
    subjects: &Subjects,
    durable: &str,
    after_sequence: u64,
    max_ack_pending: i64,
) -> Result<consumer::PullConsumer, PipelineError> {
    let stream = js
        .get_stream(subjects.input_stream())
        .await
        .map_err(|e| PipelineError::js("opening the input stream", e))?;
    match stream.delete_consumer(durable).await {
        Ok(_) => {}
        Err(e)
            if matches!(e.kind(), stream::ConsumerErrorKind::JetStream(ref j)
                if j.error_code() == jetstream::ErrorCode::CONSUMER_NOT_FOUND) => {}
        Err(e) => return Err(PipelineError::js("replacing the worker consumer", e)),
    }
    let deliver_policy = if after_sequence == 0 {
        consumer::DeliverPolicy::All
    } else {
        consumer::DeliverPolicy::ByStartSequence {
            start_sequence: after_sequence + 1,
        }
    };
    stream
        .create_consumer(consumer::pull::Config {
            durable_name: Some(durable.to_owned()),
            description: Some("creditstream worker: all partitions".into()),
            filter_subject: subjects.input_wildcard(),
            deliver_policy,
            ack_policy: consumer::AckPolicy::All,
            ack_wait: Duration::from_secs(60),
            max_ack_pending,
            ..Default::default()
        })
        .await
        .map_err(|e| PipelineError::js("creating the worker consumer", e))
}

/// The worker's pull of `consumer`'s messages: up to `batch_max` a request, a heartbeat
/// every 5 s, each request expiring after 30 s.
pub async fn worker_messages(
    consumer: &consumer::PullConsumer,
    batch_max: usize,
) -> Result<consumer::pull::Stream, PipelineError> {
    consumer
        .stream()
        .max_messages_per_batch(batch_max)
        .heartbeat(Duration::from_secs(5))
        .expires(Duration::from_secs(30))
        .messages()
        .await
        .map_err(|e| PipelineError::js("pulling input", e))
}
