//! A private NATS server per test, and helpers to read streams back.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, consumer};
use bytes::Bytes;
use events::{Envelope, OutputEnvelope, Subjects};
use pipeline::broker::{self, NatsOptions};
use pipeline::metrics::PipelineMetrics;
use pipeline::natsd::LocalNats;
use pipeline::publish::EventPublisher;
use pipeline::stages::Stages;
use pipeline::worker::{self, WorkerConfig, WorkerHandle};
use simulator::{SimConfig, Simulator};

/// Partitions of the test servers' subjects.
pub const PARTITIONS: u32 = 4;

/// How long any condition may take before a test fails.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A test's own NATS server and JetStream context.
pub struct Nats {
    pub _server: LocalNats,
    pub js: jetstream::Context,
    pub subjects: Subjects,
}

impl Nats {
    /// The server's model registry, holding `models`.
    pub async fn registry(
        &self,
        models: &[&models::ModelArtifact],
    ) -> pipeline::registry::Registry {
        let registry = pipeline::registry::Registry::object_store(&self.js, self.subjects.prefix())
            .await
            .expect("registry");
        for model in models {
            registry.publish(model).await.expect("model published");
        }
        registry
    }

    pub async fn start() -> Nats {
        Nats::on(LocalNats::start().expect("nats-server starts (is it installed?)")).await
    }

    /// A server that takes messages of at most `max_payload` bytes.
    pub async fn start_with_max_payload(max_payload: usize) -> Nats {
        let server = LocalNats::start_with_max_payload(max_payload)
            .expect("nats-server starts (is it installed?)");
        Nats::on(server).await
    }

    async fn on(server: LocalNats) -> Nats {
        let (_client, js) = broker::connect(&NatsOptions {
            url: server.url(),
            ..Default::default()
        })
        .await
        .expect("connects");
        let subjects = Subjects::new("cstest", PARTITIONS);
        broker::ensure_streams(&js, &subjects)
            .await
            .expect("streams");
        Nats {
            _server: server,
            js,
            subjects,
        }
    }

    pub fn worker_config(&self) -> WorkerConfig {
        WorkerConfig {
            subjects: self.subjects.clone(),
            ..WorkerConfig::default()
        }
    }

    pub async fn start_worker(&self, config: WorkerConfig) -> (WorkerHandle, Arc<PipelineMetrics>) {
        let registry = prometheus::Registry::new();
        let metrics = Arc::new(PipelineMetrics::new(&registry).expect("metrics"));
        let handle = worker::start(self.js.clone(), config, metrics.clone())
            .await
            .expect("worker starts");
        (handle, metrics)
    }

    /// Publishes events; returns the last stream sequence.
    pub async fn publish(&self, events: &[Envelope]) -> u64 {
        let mut publisher = EventPublisher::new(self.js.clone(), self.subjects.clone());
        for e in events {
            publisher.publish(e).await.expect("publish");
        }
        publisher.flush().await.expect("flush");
        publisher.last_sequence
    }

    /// Publishes raw bytes on a subject; returns the stream sequence.
    pub async fn publish_raw(&self, subject: String, bytes: Bytes) -> u64 {
        let mut publisher = EventPublisher::new(self.js.clone(), self.subjects.clone());
        publisher
            .publish_raw(subject, bytes, None)
            .await
            .expect("publish");
        publisher.flush().await.expect("flush");
        publisher.last_sequence
    }

    /// Every message of a stream, in order.
    pub async fn read_stream(&self, name: &str) -> Vec<StoredMessage> {
        let stream = self.js.get_stream(name).await.expect("stream");
        let count = stream.get_info().await.expect("info").state.messages as usize;
        if count == 0 {
            return Vec::new();
        }
        let reader = stream
            .create_consumer(consumer::pull::Config {
                deliver_policy: consumer::DeliverPolicy::All,
                ack_policy: consumer::AckPolicy::None,
                ..Default::default()
            })
            .await
            .expect("reader");
        let mut out = Vec::with_capacity(count);
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while out.len() < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "stream {name} not read in time"
            );
            let mut batch = reader
                .fetch()
                .max_messages(1000)
                .expires(Duration::from_millis(500))
                .messages()
                .await
                .expect("fetch");
            use futures::StreamExt;
            while let Some(m) = batch.next().await {
                let m = m.expect("message");
                out.push(StoredMessage {
                    subject: m.subject.to_string(),
                    headers: m.headers.clone(),
                    payload: m.payload.clone(),
                });
            }
        }
        out
    }

    pub async fn outputs(&self) -> Vec<OutputEnvelope> {
        self.outputs_of(&self.subjects).await
    }

    /// The outputs in the output stream of `subjects`, in stream order.
    pub async fn outputs_of(&self, subjects: &Subjects) -> Vec<OutputEnvelope> {
        self.read_stream(&subjects.output_stream())
            .await
            .into_iter()
            .flat_map(|m| events::decode_outputs(&m.payload).expect("outputs decode"))
            .collect()
    }
}

pub struct StoredMessage {
    pub subject: String,
    pub headers: Option<HeaderMap>,
    pub payload: Bytes,
}

impl StoredMessage {
    /// The value of header `name`, if the message has it.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .as_ref()
            .and_then(|h| h.get(name))
            .map(|v| v.to_string())
    }
}

/// A small simulated portfolio.
pub fn portfolio(debtors: u32, months: u32, seed: u64) -> Vec<Envelope> {
    let config = SimConfig {
        seed,
        debtors,
        months,
        ..SimConfig::default()
    };
    Simulator::new(config.check().expect("valid config")).collect()
}

/// What the stages give for the events when run in-process, without NATS: the reference
/// the pipeline's published outputs must equal.
pub fn expected_outputs(events: &[Envelope]) -> Vec<OutputEnvelope> {
    let mut stages = Stages::default();
    events
        .iter()
        .flat_map(|e| {
            // Through the wire form, exactly as the worker sees it.
            let decoded = Envelope::decode(&e.to_json(), events::DEFAULT_MAX_EVENT_BYTES)
                .expect("simulated events are valid");
            stages.process(&decoded).expect("features run")
        })
        .collect()
}

/// An output's subject: its family and its debtor's partition (none when unrouted).
pub type OrderKey = (&'static str, Option<u32>);

/// Where an output's order is kept: its subject, which holds the outputs of one family
/// for a partition of the debtors in the order they were decided (the fixture's
/// [`PARTITIONS`]). Score updates of several subjects go out together, so the order
/// across subjects is not the order of decision.
pub fn order_key(output: &OutputEnvelope) -> OrderKey {
    (
        output.output.family().as_str(),
        output
            .debtor_id
            .as_deref()
            .map(|d| events::partition_of(d, PARTITIONS)),
    )
}

/// Asserts the published outputs are exactly the expected ones, none twice, in order on
/// each subject.
pub fn assert_same_outputs(published: &[OutputEnvelope], expected: &[OutputEnvelope]) {
    let mut ids: Vec<&str> = published.iter().map(|o| o.output_id.as_str()).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(before, ids.len(), "an output was published twice");
    assert_eq!(published.len(), expected.len(), "number of outputs");
    let in_order = |outputs| by_subject(outputs, |o: &&OutputEnvelope| order_key(o));
    let (published, expected) = (in_order(published), in_order(expected));
    assert_eq!(
        published.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (key, outputs) in &published {
        assert_eq!(outputs.len(), expected[key].len(), "outputs of {key:?}");
        for (i, (p, e)) in outputs.iter().zip(&expected[key]).enumerate() {
            assert_eq!(p, e, "output {i} of {key:?} differs");
        }
    }
}

/// `items` by the subject `key` gives each (see [`order_key`]), each subject's in order.
pub fn by_subject<T>(
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> OrderKey,
) -> BTreeMap<OrderKey, Vec<T>> {
    let mut by_key: BTreeMap<OrderKey, Vec<T>> = BTreeMap::new();
    for item in items {
        by_key.entry(key(&item)).or_default().push(item);
    }
    by_key
}

/// [`assert_same_outputs`] after a worker was killed: the score updates it published
/// after its last checkpoint may come again (the same ids and content) in messages cut
/// elsewhere, and count once; alerts, actions and tasks still come once.
pub fn assert_same_outputs_after_crash(published: &[OutputEnvelope], expected: &[OutputEnvelope]) {
    let mut seen: HashMap<&str, &OutputEnvelope> = HashMap::new();
    let mut once = Vec::new();
    for o in published {
        match seen.get(o.output_id.as_str()) {
            Some(first) => {
                assert_eq!(
                    o.output.family(),
                    events::OutputFamily::Scores,
                    "{o:?} twice"
                );
                assert_eq!(*first, o, "a score update came again changed");
            }
            None => {
                seen.insert(&o.output_id, o);
                once.push(o.clone());
            }
        }
    }
    assert_same_outputs(&once, expected);
}

/// One HTTP/1.0 request (the server closes the connection after the body): status and
/// body. `body` is sent as JSON.
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String), String> {
    use std::io::{Read, Write};
    let (method, path, body) = (
        method.to_string(),
        path.to_string(),
        body.map(str::to_owned),
    );
    tokio::task::spawn_blocking(move || {
        let fail = |e: std::io::Error| format!("{method} http://{addr}{path}: {e}");
        let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .map_err(fail)?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(fail)?;
        let payload = body.unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{payload}",
            payload.len()
        )
        .map_err(fail)?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).map_err(fail)?;
        let response = String::from_utf8_lossy(&response);
        let (head, body) = response
            .split_once("\r\n\r\n")
            .ok_or_else(|| format!("{method} {path}: no end of headers"))?;
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("{method} {path}: bad status line in {head:?}"))?;
        Ok((status, body.to_string()))
    })
    .await
    .unwrap()
}

/// The `creditstream` command, to run as a user does.
pub fn creditstream() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_creditstream"))
}

/// The standard error of a run that must be refused as bad input (exit code 2).
pub fn refused(run: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    stderr
}
