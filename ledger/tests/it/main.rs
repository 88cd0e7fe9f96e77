//! Ledger integration tests: one binary, a module per concept.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

mod combinations;
mod credit_notes;
mod disputes;
mod exposure;
mod invoices;
mod kpis;
mod matching;
mod overdue;
mod promises;
mod properties;
mod reversal;
mod typos;
mod write_offs;
