//! Decisions: from ledger effects to alerts, actions, tasks and score updates. A plain
//! library: effects and ledger state in, output envelopes out; no I/O, no wall clock
//! (time is the ledger's event-time clock).
//!
//! Layout:
//! - `rules`: [`Decisions`], its state and the dispatch from each
//!   [`ledger::LedgerEffect`] (and each control event) to the rule that handles it;
//! - [`strategy`]: the strategy config per segment (debtor type × risk class), read and
//!   checked from TOML; `context` resolves a debtor's segment and an action's reason;
//! - [`dunning`]: the reminder schedule of each overdue item on event time, held for
//!   paid, disputed, promised or planned items, then the collection hand-over;
//! - `plans`: payment plans (proposed, definitive, SMS after a miss, broken);
//! - `credit_hold`: exposure above the limit (alert, hold per segment) and holds by risk
//!   class;
//! - `tasks`: the exceptions for people; [`task_list`]: open and closed tasks, closing;
//! - `alerts`: reversal received, dispute opened, promise broken, model and strategy
//!   activations, score moves;
//! - [`scores`]: score updates when a standing changed;
//! - [`reason_codes`]: SEPA return reason codes in words;
//! - `ids`: deterministic output ids; `context`: what a rule sees and how it emits;
//! - [`config`] holds [`DecisionConfig`]; [`error`] the config errors.
//!
//! Data flows: (cause [`events::Envelope`], its effects, the ledger after it) →
//! [`Decisions::decide`] → one rule per effect → [`events::OutputEnvelope`]s with ids
//! `<kind>:<cause event id>[:<discriminator>]`, event time = the cause's.

mod alerts;
pub mod config;
mod context;
mod credit_hold;
pub mod dunning;
pub mod error;
mod ids;
mod plans;
pub mod reason_codes;
mod rules;
pub mod scores;
pub mod strategy;
pub mod task_list;
mod tasks;

pub use config::DecisionConfig;
pub use error::DecisionError;
pub use plans::PlanStatus;
pub use rules::Decisions;
pub use scores::{ModelScore, Scored};
pub use strategy::Strategy;
pub use task_list::{TaskFilter, TaskList, TaskRecord};
