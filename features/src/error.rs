//! The crate's error type. Each variant says what the caller does with it: definitions and
//! configuration are refused at start; an engine failure on a batch is a bug.

/// What can go wrong in the feature stage.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// The definitions file is malformed or inconsistent; nothing runs.
    #[error("{file}{}: {field}: {reason}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    InvalidDefinitions {
        /// File the definitions came from.
        file: String,
        /// Line of the offending definition, when known.
        line: Option<usize>,
        /// The definition and field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A definition's SQL does not compile; DataFusion's message is quoted.
    #[error("{file}:{line}: {what} `{name}` does not compile: {message}")]
    DefinitionSql {
        /// File the definitions came from.
        file: String,
        /// Line of the definition.
        line: usize,
        /// `aggregate` or `feature`.
        what: &'static str,
        /// Name of the definition.
        name: String,
        /// DataFusion's message.
        message: String,
    },
    /// A configuration value is out of range.
    #[error("invalid feature configuration: {field}: {reason}")]
    InvalidConfig {
        /// The option.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// DataFusion or Arrow failed on data that had passed validation: a bug.
    #[error("feature engine failed while {context}: {source}")]
    Engine {
        /// What the engine was doing.
        context: &'static str,
        /// DataFusion's error.
        source: datafusion::error::DataFusionError,
    },
}

impl FeatureError {
    pub(crate) fn engine(
        context: &'static str,
    ) -> impl FnOnce(datafusion::error::DataFusionError) -> FeatureError {
        move |source| FeatureError::Engine { context, source }
    }

    pub(crate) fn arrow(
        context: &'static str,
    ) -> impl FnOnce(datafusion::arrow::error::ArrowError) -> FeatureError {
        move |e| FeatureError::Engine {
            context,
            source: datafusion::error::DataFusionError::ArrowError(Box::new(e), None),
        }
    }
}
