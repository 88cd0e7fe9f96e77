//! Ledger integration tests: one binary, a module per concept.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

mod credit_notes;
mod disputes;
mod exposure;
mod invoices;
mod matching;
mod overdue;
mod promises;
mod properties;
mod reversal;
