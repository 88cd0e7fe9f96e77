//! Decisions: from ledger effects to alerts, actions, tasks and score updates. A plain
//! library: effects and ledger state in, output envelopes out; no I/O, no wall clock.
//!
//! Layout:
//! - `rules`: [`Decisions`], its state (last standing published per debtor) and the
//!   dispatch from each [`ledger::LedgerEffect`] to the rule that handles it;
//! - `tasks`: unmatched payment, unknown reversal, currency mismatch (for people);
//! - `alerts`: reversal received, dispute opened, promise broken;
//! - `credit_hold`: exposure above the limit (alert and hold) and back within it;
//! - [`dunning`]: reminders for overdue items, held for paid, disputed or promised items;
//! - [`scores`]: score updates when a standing changed;
//! - [`reason_codes`]: SEPA return reason codes in words;
//! - `ids`: deterministic output ids; `context`: what a rule sees and how it emits;
//! - [`config`] holds [`DecisionConfig`].
//!
//! Data flows: (cause [`events::Envelope`], its effects, the ledger after it) →
//! [`Decisions::decide`] → one rule per effect → [`events::OutputEnvelope`]s with ids
//! `<kind>:<cause event id>[:<discriminator>]`, event time = the cause's.

mod alerts;
pub mod config;
mod context;
mod credit_hold;
pub mod dunning;
mod ids;
pub mod reason_codes;
mod rules;
pub mod scores;
mod tasks;

pub use config::DecisionConfig;
pub use rules::Decisions;
pub use scores::{ModelScore, Scored};
