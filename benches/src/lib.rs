//! Benchmarks and measurement harnesses. Each binary in `src/bin` prints what it measured
//! with the data size, so results read as events per second.
//!
//! - `stage-throughput`: the simulator, the wire codec and the domain stages in-process
//!   (no broker), on a simulated portfolio.
//! - `matching`: cash application alone: payments drawn like the default noise mix,
//!   matched against a ledger of a million open items (payments/s on one core).
