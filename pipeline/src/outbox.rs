//! The outbox: publishes the stage loop's outputs and dead letters to JetStream from a task
//! of its own, in the order the stage loop hands them over, while the stages run on.
//!
//! Encoding outputs, handing them to the client and awaiting their acknowledgements took
//! the stage loop about 6 s of a 25 s run beside 15 s of stages (about two outputs per
//! event, `benches/src/bin/end-to-end.rs`); here they overlap with the next events. Nothing is lost by it: the stage loop asks [`Outbox::stored`] before a
//! checkpoint, which returns only when the server has stored everything handed over before,
//! so no input is acked before its outputs are stored. A publish the server refuses stops
//! the outbox; the stage loop learns why at its next hand-over or at `stored`, and stops.

use std::collections::VecDeque;

use async_nats::jetstream::{self, context::PublishAckFuture, message::PublishMessage};
use bytes::Bytes;
use events::{OutputEnvelope, Subjects};
use tokio::sync::{mpsc, oneshot};

use crate::broker;
use crate::error::PipelineError;

/// Publish acknowledgements awaited, oldest first, once this many are outstanding. Half the
/// context's permits, so that waiting for an ack never waits for a permit.
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
    let mut pending: VecDeque<PublishAckFuture> = VecDeque::new();
    while let Some(command) = queue.recv().await {
        match command {
            Command::Outputs(outputs) => {
                for output in outputs {
                    let subject =
                        subjects.output(output.output.family(), output.debtor_id.as_deref());
                    let message = PublishMessage::build()
                        .payload(Bytes::from(output.to_json()))
                        .message_id(&output.output_id);
                    let ack = js
                        .send_publish(subject, message)
                        .await
                        .map_err(|e| PipelineError::js("publishing an output", e))?;
                    keep(&mut pending, ack).await?;
                }
            }
            Command::Message { subject, message } => {
                let ack = js
                    .send_publish(subject, message)
                    .await
                    .map_err(|e| PipelineError::js("publishing a dead letter", e))?;
                keep(&mut pending, ack).await?;
            }
            Command::Stored(reply) => {
                while let Some(ack) = pending.pop_front() {
                    settle(ack).await?;
                }
                // The stage loop may have stopped waiting (it is stopping): nothing to say.
                let _ = reply.send(());
            }
        }
    }
    Ok(())
}

/// Keeps `ack` to await later, awaiting the oldest ones while too many are outstanding:
/// within one event's outputs too, or an event with more outputs than the context has
/// permits (a score point over thousands of debtors) would wait for itself.
async fn keep(
    pending: &mut VecDeque<PublishAckFuture>,
    ack: PublishAckFuture,
) -> Result<(), PipelineError> {
    pending.push_back(ack);
    while pending.len() >= MAX_PENDING_ACKS {
        if let Some(oldest) = pending.pop_front() {
            settle(oldest).await?;
        }
    }
    Ok(())
}

async fn settle(ack: PublishAckFuture) -> Result<(), PipelineError> {
    ack.await
        .map(|_| ())
        .map_err(|e| PipelineError::js("output not acknowledged", e))
}
