//! Integration tests of the feature stage (one binary, so CI links it once).

#![allow(clippy::unwrap_used, missing_docs)]

mod definitions;
mod properties;
mod simulated;
mod streaming;
mod support;
mod training;
