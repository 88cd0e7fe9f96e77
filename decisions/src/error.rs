//! Errors of the decisions crate.

use thiserror::Error;

/// What can go wrong in decisions: only configuration can (decisions on events never
/// fail; what they cannot decide becomes a task).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecisionError {
    /// A strategy config is refused as a whole.
    #[error("{file}{}: {field}: {reason}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Strategy {
        /// The file (or the activation) it came from.
        file: String,
        /// The line, when known.
        line: Option<usize>,
        /// The field, as a path (`segment[2] "consumers".dunning[1].day`).
        field: String,
        /// What is wrong.
        reason: String,
    },
}
