//! The models crate's one error type.

/// What can go wrong while training, calibrating or applying a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A hyperparameter or policy value is out of range; names the parameter.
    #[error("invalid parameter {name}: {reason}")]
    Parameter {
        /// The parameter's name as the analyst writes it.
        name: &'static str,
        /// Why the value is refused.
        reason: String,
    },
    /// A configuration file (credit-limit policy) refused at load.
    #[error("{file}{}: {field}: {reason}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Config {
        /// The file.
        file: String,
        /// The line, when known.
        line: Option<usize>,
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The training or evaluation data cannot be used as given.
    #[error("unusable data: {0}")]
    Data(String),
    /// Rows whose features do not have the model's shape.
    #[error("expected {expected} features per row, got {got}")]
    Shape {
        /// Features the model was trained on.
        expected: usize,
        /// Features in the data handed in.
        got: usize,
    },
    /// A model whose feature schema differs from the running feature definitions.
    #[error(
        "model {version} was trained on feature schema {model_schema}, the running features are {running_schema}"
    )]
    SchemaMismatch {
        /// The refused model's version.
        version: String,
        /// The schema hash in the model's metadata.
        model_schema: String,
        /// The schema hash of the features the pipeline computes.
        running_schema: String,
    },
    /// A model that reads input columns the running features do not have, or have with
    /// another type.
    #[error("model {version} does not fit the running features: {}", problems.join("; "))]
    InputsMismatch {
        /// The refused model's version.
        version: String,
        /// Each column that does not fit, in words.
        problems: Vec<String>,
    },
    /// An error raised by linfa's traits.
    #[error(transparent)]
    Linfa(#[from] linfa::Error),
}

impl ModelError {
    pub(crate) fn parameter(name: &'static str, reason: impl Into<String>) -> ModelError {
        ModelError::Parameter {
            name,
            reason: reason.into(),
        }
    }
}
