//! The accounts-receivable sub-ledger: open items, payment matching, reversals, credit
//! notes, disputes, promises, aging and exposure. A plain library: events in, effects out,
//! no I/O and no wall clock (time is the event-time clock the caller moves).
//!
//! Layout:
//! - `ledger`: the [`Ledger`] state and its entry points [`Ledger::apply`] (one input
//!   event) and [`Ledger::advance_to`] (time passes); the single place an item's open
//!   amount changes; the item table (every item by invoice number).
//! - [`account`]: debtor accounts (master data, balances, their open items in due-date
//!   order); [`items`]: open items.
//! - `invoices`, [`payments`], `reversal`, `credit_notes`, `disputes`, [`promises`],
//!   `master_data`: one module per input event family, each an `impl Ledger` block.
//! - [`matching`]: which items a payment pays (rules in order of confidence), read-only;
//!   it reads texts with [`remittance`] (tokens, digit cores), tolerates one-edit
//!   [`typos`], searches [`combinations`] of open items (bounded), and identifies payers
//!   by IBAN (`ibans`) or distinctive name (`names`); [`references`]: RF and Dutch
//!   payment references and their check digits.
//! - [`payments`]: booking the match (allocations, write-offs within the bank-cost
//!   tolerance, unapplied credit, exceptions); `reversal`: undoing a payment named by
//!   payment id or end-to-end id.
//! - `index`: hash maps for the large lookup tables that serialise in key order;
//!   `dense`: the history tables' map (entries side by side, 4-byte positions in a hash
//!   table, also serialised in key order); `journal`: a `dense` map for the history tables
//!   (items, payments, reference lookups) that remembers which keys changed; `delta`: [`LedgerDelta`], what changed
//!   since the last checkpoint; `rare`: [`RareVec`], the lists nearly every item or
//!   payment leaves empty, one pointer each;
//!   `open_amounts`: which debtors have an open item of an amount (exception candidates);
//!   `overdue`: the due-date index that turns items overdue as the clock moves;
//!   [`aging`]: days-past-due buckets; `exposure`: open balance against the limit.
//! - [`kpis`]: portfolio KPIs ([`Ledger::kpis`]: open balance, aging, DSO, CEI, cure
//!   rate, exposure) from running totals and day-end snapshots that `advance_to` records
//!   when the clock's date changes.
//! - [`effects`]: the [`LedgerEffect`]s every call returns; [`standing`]: a debtor's
//!   balances for scoring; [`totals`]: money totals and their conservation equations;
//!   [`config`]: [`LedgerConfig`] and [`LedgerError`].
//!
//! Data flows: `events::Envelope` → [`Ledger::apply`] → matching and booking in the
//! event's module → `set_open_amount` (balances, indices, totals) → effects; at the end of
//! each call: timers (overdue items, broken promises), exposure crossings and one
//! `StandingChanged` per debtor whose balances moved. Decisions read the effects and the
//! ledger's state.

pub mod account;
pub mod aging;
pub mod combinations;
pub mod config;
mod credit_notes;
mod delta;
mod dense;
mod disputes;
pub mod effects;
mod exposure;
mod ibans;
mod index;
mod invoices;
pub mod items;
mod journal;
pub mod kpis;
mod ledger;
mod master_data;
pub mod matching;
mod names;
mod open_amounts;
mod overdue;
pub mod payments;
pub mod promises;
mod rare;
pub mod references;
pub mod remittance;
mod reversal;
pub mod standing;
pub mod totals;
pub mod typos;

pub use account::{BureauRatingRecord, DebtorAccount, MasterData};
pub use aging::AgingBuckets;
pub use config::{
    LedgerConfig, LedgerError, SameAmountPolicy, ShortPaymentPolicy, ShortPaymentTolerance,
    UnexplainedPaymentPolicy,
};
pub use delta::LedgerDelta;
pub use effects::{IgnoredReason, LedgerEffect};
pub use index::{HashIndex, Key};
pub use items::OpenItem;
pub use kpis::PortfolioKpis;
pub use ledger::{Ledger, LedgerImage};
pub use matching::{MatchRule, UnmatchedReason};
pub use payments::{Allocation, AllocationKind, PaymentRecord, PaymentStatus};
pub use promises::{Promise, PromiseStatus};
pub use rare::RareVec;
pub use standing::Standing;
pub use totals::LedgerTotals;
