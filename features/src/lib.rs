//! Per-debtor behavioural features, declared as SQL and run by DataFusion, computed
//! incrementally in the stream and identically for training.
//!
//! Layout:
//! - [`definitions`]: windows, partial aggregates and features, read from TOML
//!   (`features/definitions.toml` is built in) and checked as a whole.
//! - [`engine`]: the definitions compiled once: the partial-aggregate query planned by
//!   DataFusion over a swappable `facts` table, each feature a physical expression.
//! - [`facts`]: what the ledger saw happen to a debtor (one row each), derived from an
//!   event, its ledger effects and the ledger; the facts table's Arrow schema.
//! - [`tiles`]: the per-debtor window state (one tile per hop period) and how partial
//!   aggregates merge into it; [`debtors`]: debtor ids to dense slots.
//! - [`store`]: the streaming [`FeatureStore`]: micro-batches of facts → partial
//!   aggregates → tiles; windows slide with the event-time watermark; features on demand.
//! - [`standing`]: the standing columns (balances, overdue by age, limit, rating, type),
//!   read from the ledger at the moment of scoring; [`inputs`]: the feature inputs batch.
//! - [`mod@reference`]: the same features by a full recomputation over all facts, the yardstick
//!   of the streaming store in tests and checks.
//! - [`training`]: point-in-time training sets: one row per invoice at its issue, features
//!   as known then, a label observed later.
//!
//! Data flows: (event, ledger effects, ledger) → facts → micro-batch → DataFusion partial
//! aggregates (debtor, day) → tiles → window values + standing → feature expressions →
//! one feature row per debtor.

pub mod debtors;
pub mod definitions;
pub mod engine;
pub mod error;
pub mod facts;
pub mod inputs;
pub mod reference;
pub mod standing;
pub mod store;
pub mod tiles;
pub mod training;

pub use debtors::DebtorSlots;
pub use definitions::{Aggregate, AggregateType, Definitions, Feature, Merge, Window};
pub use engine::Engine;
pub use error::FeatureError;
pub use facts::{Fact, FactBuilder, FactKind, day_date, day_number, facts_of, facts_schema};
pub use standing::{StandingInputs, StandingSource};
pub use store::{FeatureConfig, FeatureState, FeatureStore, FlushReport};
pub use training::{
    LabelKeys, LabelOptions, Labeller, LedgerReplay, Outcomes, Replayed, TrainingFeatures,
    TrainingSetBuilder, TrainingSummary, Unlabelled,
};
