//! Portfolio simulator: a deterministic (seeded) synthetic credit portfolio that writes
//! creditstream input events and keeps the ground truth beside them.
//!
//! Layout, in the order data flows:
//! - [`rng`]: the seeded generator (SplitMix64 → xoshiro256**) and its draws;
//! - [`config`]: [`SimConfig`] → [`SimConfig::check`] → [`ValidSimConfig`], or a
//!   [`SimError`] naming the parameter;
//! - `calendar`: day numbers, instants, business days, seasonality;
//! - `portfolio`: the debtors (type, country, `names`, [`iban`], method, channel,
//!   limit, invoicing pattern), each from its own random stream;
//! - [`behaviour`]: the [`Behaviour`] of each debtor and its drawn profile: when an
//!   invoice is paid, in parts, disputed, promised, returned;
//! - [`remittance`]: the [`NoiseKind`] of each payment, the quota that keeps a run on
//!   the configured mix, and the remittance texts;
//! - `reversal`: which direct debits are returned and why;
//! - `bureau`: quarterly ratings that follow the latent risk;
//! - [`response`]: the debtor response model — how each behaviour reacts to a reminder
//!   (channel, tone, term), a call, a payment plan, a credit hold, the collection agency;
//!   [`Simulator::respond`] feeds the pipeline's outputs back in closed-loop backtests;
//! - `agenda`: future actions by (instant, sequence), kept day by day;
//! - [`simulation`]: the [`Simulator`], which takes actions off the agenda, updates the
//!   debtors' open items, yields [`events::Envelope`]s in event-time order and records
//!   the [`GroundTruth`] (with private children for accounts, payments, disputes and
//!   promises);
//! - [`truth`]: the ground truth and its JSON-lines form.
//!
//! Flow: config → portfolio (debtors + behaviour profiles) → agenda of actions →
//! simulation (behaviour decides timing, remittance decides the payment's form) →
//! events out through `Iterator`, truth kept in [`Simulator::truth`].
//!
//! The crate does no I/O of its own and reads no clock; writing JSON lines goes to a
//! caller-supplied [`std::io::Write`]. `README.md` beside this crate describes the
//! behaviours and the noise mix for analysts.

mod agenda;
pub mod behaviour;
mod bureau;
mod calendar;
pub mod config;
pub mod iban;
mod names;
mod portfolio;
pub mod remittance;
pub mod response;
mod reversal;
pub mod rng;
pub mod simulation;
pub mod truth;

pub use behaviour::Behaviour;
pub use config::{BehaviourMix, NoiseMix, SimConfig, SimError, ValidSimConfig};
pub use remittance::NoiseKind;
pub use response::{Reaction, Response};
pub use simulation::Simulator;
pub use truth::{Allocation, DebtorTruth, DisputeTruth, GroundTruth, PaymentTruth, PromiseTruth};
