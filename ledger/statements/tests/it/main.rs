//! Integration tests of the statement import: one binary, a module per concept.
//!
//! The public samples live in `testdata/camt` and `testdata/mt940` (their
//! `SOURCE.txt` lists the figures asserted here); this crate's own fixtures, for what the
//! samples do not show, in `tests/fixtures`; the readable import plans in `tests/golden`.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

mod batches;
mod camt_samples;
mod contract;
mod genkgo_expected;
mod golden;
mod mt940_samples;
mod properties;
mod refusals;
