//! Decisions integration tests: one binary, a module per concept.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

mod determinism;
mod golden;
mod properties;
mod rules;
mod scenarios;
