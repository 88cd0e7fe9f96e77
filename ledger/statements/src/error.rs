//! The one error type of the crate: why a statement file was refused.
//!
//! Every variant is **bad input** (the file), never a transient failure: retrying the same
//! bytes gives the same error, so a caller reports it and publishes nothing from the file.
//! Each variant names the 1-based line of the file it is about.

/// Why a file was refused as a whole. Nothing from a refused file may be published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// Neither camt.053, camt.054 nor MT940 (see [`crate::detect()`]).
    #[error("not a bank statement: {detail}")]
    NotAStatement {
        /// What the file looks like instead.
        detail: String,
    },
    /// The file's bytes are not text in the expected encoding.
    #[error("line {line}: {detail}")]
    Encoding {
        /// Line of the first offending byte.
        line: usize,
        /// What is wrong.
        detail: String,
    },
    /// The XML is not well-formed (cut off, mismatched tags, bad escapes ...).
    #[error("line {line}, column {column}: malformed XML: {detail}")]
    Xml {
        /// Line of the error.
        line: usize,
        /// Column (in characters) of the error.
        column: usize,
        /// What the XML reader found.
        detail: String,
    },
    /// Something outside an entry is missing or wrong: a statement without an account, a
    /// balance with a bad amount, an MT940 field outside a statement.
    #[error("line {line}: {detail}")]
    Structure {
        /// Line of the element or field concerned.
        line: usize,
        /// What is wrong.
        detail: String,
    },
    /// One entry (camt `<Ntry>`, MT940 `:61:`) cannot be read or cannot become a valid event.
    #[error("line {line}: {entry}: {detail}")]
    Entry {
        /// Line on which the entry starts.
        line: usize,
        /// Which entry: its number in its statement and the statement id.
        entry: String,
        /// What is wrong, naming the element or field (and its own line when it differs).
        detail: String,
    },
    /// A currency code that is not an active ISO 4217 code.
    #[error(
        "line {line}: {context}: unknown currency `{code}` (expected an active ISO 4217 code such as EUR)"
    )]
    UnsupportedCurrency {
        /// Line of the entry or balance that carries it.
        line: usize,
        /// The entry or balance that carries it.
        context: String,
        /// The code as written.
        code: String,
    },
}

impl StatementError {
    /// The line the error is about, if it has one.
    pub fn line(&self) -> Option<usize> {
        match self {
            StatementError::NotAStatement { .. } => None,
            StatementError::Encoding { line, .. }
            | StatementError::Xml { line, .. }
            | StatementError::Structure { line, .. }
            | StatementError::Entry { line, .. }
            | StatementError::UnsupportedCurrency { line, .. } => Some(*line),
        }
    }
}
