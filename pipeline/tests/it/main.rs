//! Integration tests of the `creditstream` binary and its pipeline, each against its own
//! real `nats-server` (free loopback port, temporary store), started and stopped per test.

#![allow(clippy::unwrap_used)]

mod backtest;
mod bad_input;
mod checkpoint;
mod cli;
mod dataset;
mod end_to_end;
mod fixture;
mod import;
mod max_payload;
mod monitoring;
mod outbox;
mod registry;
mod replay;
mod restart;
mod scoring;
mod setup;
mod train;
mod workflow;
