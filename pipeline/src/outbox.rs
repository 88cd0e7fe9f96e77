//! The outbox: publishes the stage loop's outputs and dead letters to JetStream from a task
//! of its own, in the order the stage loop hands them over on each subject, while the
//! stages run on. Score updates of one subject that it finds waiting together go out in
//! one message (see `events::output_lines`); every other output in a message of its own.
//!
//! Encoding outputs, handing them to the client and awaiting their acknowledgements took
//! the stage loop about 6 s of a 25 s run beside 15 s of stages (about two outputs per
//! event, `benches/src/bin/end-to-end.rs`); here they overlap with the next events.
//! Nothing is lost by it: the stage loop asks [`Outbox::stored`] before a checkpoint,
//! which returns only when the server has stored everything handed over before, so no
//! input is acked before its outputs are stored. A publish the server refuses stops
//! the outbox; the stage loop learns why at its next hand-over or at `stored`, and stops.

use async_nats::jetstream::{self, message::PublishMessage};
use bytes::Bytes;
use events::{OUTPUTS_HEADER, OutputEnvelope, OutputFamily, Subjects};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::broker;
use crate::error::PipelineError;
use crate::publish::EventPublisher;

/// Publish acknowledgements awaited, oldest first, once this many are outstanding: half
/// the context's permits, so that waiting for an ack never waits for a permit. Awaited
/// within one hand-over's outputs too, or a hand-over with more outputs than the context
/// has permits (a score point over thousands of debtors) would wait for itself.
const MAX_PENDING_ACKS: usize = broker::MAX_ACK_INFLIGHT / 2;

/// Hand-overs queued for the task before the stage loop waits for room (each the outputs
/// of one or more events).
const QUEUE: usize = 4096;

/// Hand-overs published in one go at most (the score updates among them together), so
/// that under a steady flow a score update waits for no more than this many hand-overs'
/// outputs.
const MAX_DRAIN: usize = 256;

/// A message of score updates holds this many bytes at most: the largest input event by
/// default (`--max-event-bytes`), or less where the server's `max_payload` is smaller
/// (less [`broker::HEADER_ROOM`] for the message's id and count).
const MAX_BATCH_BYTES: usize = events::DEFAULT_MAX_EVENT_BYTES;

enum Command {
    /// The outputs of one or more events, published in order.
    Outputs(Vec<OutputEnvelope>),
    /// A message built by the stage loop (a dead letter, with its headers).
    Message {
        subject: String,
        message: PublishMessage,
    },
    /// Answer once every publish handed over before is stored.
    Stored(oneshot::Sender<()>),
}

/// The stage loop's side of the outbox task.
pub struct Outbox {
    commands: mpsc::Sender<Command>,
    task: Option<tokio::task::JoinHandle<Result<(), PipelineError>>>,
    /// Outputs held by [`Outbox::hold`] since the last hand-over, in order.
    held: Vec<OutputEnvelope>,
    /// The events whose outputs are held.
    held_events: usize,
}

/// Events whose outputs [`Outbox::hold`] hands over together (fewer when the stage loop
/// hands over first, at the end of its batch of input). The outbox puts the score updates
/// of one subject it finds handed over together into one message; one event's outputs at
/// a time, with the stage loop on a thread of its own and the outbox taking each
/// hand-over as it came, the worker as fast as it goes published 682,410 outputs in about
/// 199,000 messages instead of 133,000.
pub const HANDOVER_EVENTS: usize = 64;

impl Outbox {
    /// Starts the task publishing through `js` on the output subjects of `subjects`. Up
    /// to `score_batch` score updates of one subject handed over together are published
    /// in one message (see [`events::output_lines`]); 1 publishes each alone.
    pub fn start(js: jetstream::Context, subjects: Subjects, score_batch: usize) -> Self {
        let (commands, queue) = mpsc::channel(QUEUE);
        let task = tokio::spawn(run(js, subjects, score_batch, queue));
        Self {
            commands,
            task: Some(task),
            held: Vec::new(),
            held_events: 0,
        }
    }

    /// Holds the outputs of one event, after those held before; hands over everything
    /// held once it is the outputs of [`HANDOVER_EVENTS`] events.
    pub async fn hold(&mut self, outputs: Vec<OutputEnvelope>) -> Result<(), PipelineError> {
        self.held.extend(outputs);
        self.held_events += 1;
        if self.held_events >= HANDOVER_EVENTS {
            self.hand_over().await?;
        }
        Ok(())
    }

    /// Hands over the outputs held (at the end of a batch of input; a message or a
    /// [`Outbox::stored`] does it first by itself, so that it comes after them).
    pub async fn hand_over(&mut self) -> Result<(), PipelineError> {
        self.held_events = 0;
        if self.held.is_empty() {
            return Ok(());
        }
        let held = std::mem::take(&mut self.held);
        self.send(Command::Outputs(held)).await
    }

    /// Hands over the outputs of one or more events, in order, after those held (nothing
    /// to do when there are none).
    pub async fn outputs(&mut self, outputs: Vec<OutputEnvelope>) -> Result<(), PipelineError> {
        self.held.extend(outputs);
        self.hand_over().await
    }

    /// Hands over a message built by the caller, published after everything before it
    /// (the outputs held included).
    pub async fn message(
        &mut self,
        subject: String,
        message: PublishMessage,
    ) -> Result<(), PipelineError> {
        self.hand_over().await?;
        self.send(Command::Message { subject, message }).await
    }

    /// Returns once the server has stored every publish handed over so far (the outputs
    /// held are handed over first); the error of the publish that failed otherwise.
    pub async fn stored(&mut self) -> Result<(), PipelineError> {
        self.hand_over().await?;
        let (reply, stored) = oneshot::channel();
        self.send(Command::Stored(reply)).await?;
        match stored.await {
            Ok(()) => Ok(()),
            Err(_) => Err(self.failure().await),
        }
    }

    async fn send(&mut self, command: Command) -> Result<(), PipelineError> {
        match self.commands.send(command).await {
            Ok(()) => Ok(()),
            Err(_) => Err(self.failure().await),
        }
    }

    /// Why the task ended (it ends only on an error while the stage loop holds it).
    async fn failure(&mut self) -> PipelineError {
        match self.task.take() {
            Some(task) => match task.await {
                Ok(Err(e)) => e,
                Ok(Ok(())) => PipelineError::Internal("the outbox ended early".into()),
                Err(e) => PipelineError::js("publishing outputs", e),
            },
            None => PipelineError::Internal("the outbox failed before".into()),
        }
    }
}

impl Drop for Outbox {
    /// A worker killed or stopped takes its outbox with it; what was not stored is
    /// published again from the last checkpoint (with the same message ids).
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Score updates waiting to be published together, by subject, in the order their
/// subjects first came (a few dozen subjects at most: one per partition).
#[derive(Default)]
struct ScoreBatches {
    batches: Vec<ScoreBatch>,
}

struct ScoreBatch {
    subject: String,
    /// The outputs' wire forms, one per line.
    payload: Vec<u8>,
    first_id: String,
    last_id: String,
    count: usize,
    /// SHA-256 of the outputs' ids, each followed by a line break.
    ids: Sha256,
}

impl ScoreBatch {
    /// The message: one output is published as it is, with its id as `Nats-Msg-Id`;
    /// several, one per line, as `<first id>..<last id>:<count>:<digest>` (the digest:
    /// the first 16 hex digits of the SHA-256 of their ids) with their count in
    /// [`OUTPUTS_HEADER`]. So an id comes up again only for the same outputs, as after a
    /// restart that cut the messages alike; cut elsewhere, they are stored again (never
    /// dropped as duplicates of outputs the stream does not hold).
    fn message(self) -> (String, PublishMessage) {
        let message = PublishMessage::build().payload(Bytes::from(self.payload));
        let message = if self.count == 1 {
            message.message_id(&self.first_id)
        } else {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(OUTPUTS_HEADER, self.count.to_string().as_str());
            let digest = self.ids.finalize();
            let digest: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            message.headers(headers).message_id(format!(
                "{}..{}:{}:{digest}",
                self.first_id, self.last_id, self.count
            ))
        };
        (self.subject, message)
    }
}

impl ScoreBatches {
    /// Adds a score update to its subject's batch and moves the batches that are full to
    /// `full`: the subject's batch as it was, when the update would take it past
    /// `max_bytes` (the update then starts a new one), and the batch holding the update
    /// once it has `max` updates or `max_bytes` bytes. So a message holds more than
    /// `max_bytes` only when one update alone does.
    fn add(
        &mut self,
        subject: String,
        output: &OutputEnvelope,
        limits: (usize, usize),
        full: &mut Vec<ScoreBatch>,
    ) {
        let (max, max_bytes) = limits;
        let line = output.to_json();
        let i = match self.batches.iter().position(|b| b.subject == subject) {
            Some(i) if self.batches[i].payload.len() + 1 + line.len() > max_bytes => {
                full.push(self.batches.remove(i));
                None
            }
            found => found,
        };
        let i = i.unwrap_or_else(|| {
            self.batches.push(ScoreBatch {
                subject,
                payload: Vec::new(),
                first_id: output.output_id.clone(),
                last_id: String::new(),
                count: 0,
                ids: Sha256::new(),
            });
            self.batches.len() - 1
        });
        let batch = &mut self.batches[i];
        if batch.count > 0 {
            batch.payload.push(b'\n');
        }
        batch.payload.extend_from_slice(&line);
        batch.last_id.clone_from(&output.output_id);
        batch.count += 1;
        batch.ids.update(output.output_id.as_bytes());
        batch.ids.update(b"\n");
        if batch.count >= max || batch.payload.len() >= max_bytes {
            full.push(self.batches.remove(i));
        }
    }
}

async fn run(
    js: jetstream::Context,
    subjects: Subjects,
    score_batch: usize,
    mut queue: mpsc::Receiver<Command>,
) -> Result<(), PipelineError> {
    let client = js.client();
    let mut publisher = EventPublisher::with_window(
        js,
        subjects.clone(),
        MAX_PENDING_ACKS,
        "output not acknowledged",
    );
    let mut scores = ScoreBatches::default();
    let mut full = Vec::new();
    while let Some(first) = queue.recv().await {
        // Read at each hand-over: a reconnection may reach a server with another limit.
        let limits = (score_batch, broker::payload_room(&client, MAX_BATCH_BYTES));
        // What the stage loop handed over meanwhile is published in one go: score
        // updates of one subject together, the rest one by one as they come.
        let mut next = Some(first);
        let mut drained = 0;
        while let Some(command) = next {
            match command {
                Command::Outputs(outputs) => {
                    for output in outputs {
                        let family = output.output.family();
                        let subject = subjects.output(family, output.debtor_id.as_deref());
                        if family == OutputFamily::Scores {
                            scores.add(subject, &output, limits, &mut full);
                            for batch in full.drain(..) {
                                publish_batch(&mut publisher, batch).await?;
                            }
                            continue;
                        }
                        let message = PublishMessage::build()
                            .payload(Bytes::from(output.to_json()))
                            .message_id(&output.output_id);
                        publisher
                            .publish_message(subject, message, "publishing an output")
                            .await?;
                    }
                }
                Command::Message { subject, message } => {
                    publish_batches(&mut publisher, &mut scores).await?;
                    publisher
                        .publish_message(subject, message, "publishing a dead letter")
                        .await?;
                }
                Command::Stored(reply) => {
                    publish_batches(&mut publisher, &mut scores).await?;
                    publisher.flush().await?;
                    // The stage loop may have stopped waiting (it is stopping): nothing
                    // to say.
                    let _ = reply.send(());
                }
            }
            drained += 1;
            next = if drained < MAX_DRAIN {
                queue.try_recv().ok()
            } else {
                None
            };
        }
        publish_batches(&mut publisher, &mut scores).await?;
    }
    Ok(())
}

/// Publishes every score update waiting, subject by subject.
async fn publish_batches(
    publisher: &mut EventPublisher,
    scores: &mut ScoreBatches,
) -> Result<(), PipelineError> {
    for batch in std::mem::take(&mut scores.batches) {
        publish_batch(publisher, batch).await?;
    }
    Ok(())
}

/// Publishes the score updates of one subject in one message.
async fn publish_batch(
    publisher: &mut EventPublisher,
    batch: ScoreBatch,
) -> Result<(), PipelineError> {
    let (subject, message) = batch.message();
    publisher
        .publish_message(subject, message, "publishing score updates")
        .await
}
