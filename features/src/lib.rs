//! Per-debtor behavioural features.
//!
//! This stage sits between the ledger and the models. Its feature definitions (SQL over
//! Arrow, run by DataFusion), incremental per-debtor state and point-in-time training sets
//! are not built yet; until then the pipeline passes ledger effects straight to decisions.
