//! The outbox: publishes the stage loop's outputs and dead letters to JetStream from a task
//! of its own, in the order the stage loop hands them over, while the stages run on.
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
use events::{OutputEnvelope, Subjects};
use tokio::sync::{mpsc, oneshot};

use crate::broker;
use crate::error::PipelineError;
use crate::publish::EventPublisher;

/// Publish acknowledgements awaited, oldest first, once this many are outstanding: half
/// the context's permits, so that waiting for an ack never waits for a permit. Awaited
/// within one event's outputs too, or an event with more outputs than the context has
/// permits (a score point over thousands of debtors) would wait for itself.
const MAX_PENDING_ACKS: usize = broker::MAX_ACK_INFLIGHT / 2;

/// Hand-overs queued for the task before the stage loop waits for room: a few batches'
/// worth of events.
const QUEUE: usize = 4096;

enum Command {
    /// The outputs of one event, published in order.
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
}

impl Outbox {
    /// Starts the task publishing through `js` on the output subjects of `subjects`.
    pub fn start(js: jetstream::Context, subjects: Subjects) -> Self {
        let (commands, queue) = mpsc::channel(QUEUE);
        let task = tokio::spawn(run(js, subjects, queue));
        Self {
            commands,
            task: Some(task),
        }
    }

    /// Hands over the outputs of one event (nothing to do when there are none).
    pub async fn outputs(&mut self, outputs: Vec<OutputEnvelope>) -> Result<(), PipelineError> {
        if outputs.is_empty() {
            return Ok(());
        }
        self.send(Command::Outputs(outputs)).await
    }

    /// Hands over a message built by the caller, published after everything before it.
    pub async fn message(
        &mut self,
        subject: String,
        message: PublishMessage,
    ) -> Result<(), PipelineError> {
        self.send(Command::Message { subject, message }).await
    }

    /// Returns once the server has stored every publish handed over so far; the error of
    /// the publish that failed otherwise.
    pub async fn stored(&mut self) -> Result<(), PipelineError> {
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

async fn run(
    js: jetstream::Context,
    subjects: Subjects,
    mut queue: mpsc::Receiver<Command>,
) -> Result<(), PipelineError> {
    let mut publisher = EventPublisher::with_window(
        js,
        subjects.clone(),
        MAX_PENDING_ACKS,
        "output not acknowledged",
    );
    while let Some(command) = queue.recv().await {
        match command {
            Command::Outputs(outputs) => {
                for output in outputs {
                    let subject =
                        subjects.output(output.output.family(), output.debtor_id.as_deref());
                    let message = PublishMessage::build()
                        .payload(Bytes::from(output.to_json()))
                        .message_id(&output.output_id);
                    publisher
                        .publish_message(subject, message, "publishing an output")
                        .await?;
                }
            }
            Command::Message { subject, message } => {
                publisher
                    .publish_message(subject, message, "publishing a dead letter")
                    .await?;
            }
            Command::Stored(reply) => {
                publisher.flush().await?;
                // The stage loop may have stopped waiting (it is stopping): nothing to say.
                let _ = reply.send(());
            }
        }
    }
    Ok(())
}
