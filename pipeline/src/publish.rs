//! Publishing into JetStream with acknowledgements in flight: input events into the input
//! stream (the simulator's and producers' side), and the worker's outputs and dead letters
//! (its [`crate::outbox`]).

use std::collections::VecDeque;

use async_nats::jetstream::{self, context::PublishAckFuture, message::PublishMessage};
use bytes::Bytes;
use events::{Envelope, Subjects};

use crate::error::PipelineError;

/// Publishes events with their `event_id` as `Nats-Msg-Id` (or messages built by the
/// caller), in order, keeping up to `window` acknowledgements in flight and awaiting the
/// oldest first.
pub struct EventPublisher {
    js: jetstream::Context,
    subjects: Subjects,
    window: usize,
    in_flight: VecDeque<PublishAckFuture>,
    /// What a missing acknowledgement is called in the error.
    unacknowledged: &'static str,
    /// Events the stream stored.
    pub stored: u64,
    /// Events the stream dropped as duplicates of an earlier `Nats-Msg-Id`.
    pub duplicates: u64,
    /// Highest stream sequence acknowledged.
    pub last_sequence: u64,
}

impl EventPublisher {
    /// A publisher into `subjects`' input stream.
    pub fn new(js: jetstream::Context, subjects: Subjects) -> Self {
        Self::with_window(js, subjects, 1024, "event not acknowledged")
    }

    /// A publisher keeping up to `window` acknowledgements in flight, whose error for a
    /// missing one says `unacknowledged`.
    pub fn with_window(
        js: jetstream::Context,
        subjects: Subjects,
        window: usize,
        unacknowledged: &'static str,
    ) -> Self {
        EventPublisher {
            js,
            subjects,
            window,
            in_flight: VecDeque::new(),
            unacknowledged,
            stored: 0,
            duplicates: 0,
            last_sequence: 0,
        }
    }

    /// Publishes one event on its partition's subject.
    pub async fn publish(&mut self, event: &Envelope) -> Result<(), PipelineError> {
        let subject = self
            .subjects
            .input(event.event.debtor_id(), event.event.kind());
        let message = PublishMessage::build()
            .payload(Bytes::from(event.to_json()))
            .message_id(&event.event_id);
        self.publish_message(subject, message, "publishing an event")
            .await
    }

    /// Publishes raw bytes on a subject (for producers that already hold the wire form,
    /// and to show what happens to bad input).
    pub async fn publish_raw(
        &mut self,
        subject: String,
        payload: Bytes,
        message_id: Option<&str>,
    ) -> Result<(), PipelineError> {
        let mut message = PublishMessage::build().payload(payload);
        if let Some(id) = message_id {
            message = message.message_id(id);
        }
        self.publish_message(subject, message, "publishing an event")
            .await
    }

    /// Publishes a message built by the caller; `what` names it in the error when the
    /// client refuses it.
    pub async fn publish_message(
        &mut self,
        subject: String,
        message: PublishMessage,
        what: &'static str,
    ) -> Result<(), PipelineError> {
        if self.in_flight.len() >= self.window {
            self.settle_one().await?;
        }
        let ack = self
            .js
            .send_publish(subject, message)
            .await
            .map_err(|e| PipelineError::js(what, e))?;
        self.in_flight.push_back(ack);
        Ok(())
    }

    async fn settle_one(&mut self) -> Result<(), PipelineError> {
        if let Some(ack) = self.in_flight.pop_front() {
            let ack = ack
                .await
                .map_err(|e| PipelineError::js(self.unacknowledged, e))?;
            if ack.duplicate {
                self.duplicates += 1;
            } else {
                self.stored += 1;
            }
            self.last_sequence = self.last_sequence.max(ack.sequence);
        }
        Ok(())
    }

    /// Waits for every acknowledgement in flight.
    pub async fn flush(&mut self) -> Result<(), PipelineError> {
        while !self.in_flight.is_empty() {
            self.settle_one().await?;
        }
        Ok(())
    }
}
