//! The pipeline's errors, each with the class that decides what happens next.

/// What the caller should do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Bad input or bad configuration from a user: report it, do not retry.
    User,
    /// An outside system failed (NATS down, timeout): retry with backoff.
    Transient,
    /// A bug or a broken invariant: stop loudly.
    Internal,
}

/// Errors of the `creditstream` binary.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// `nats-server` is needed to run without `--nats-url` but is not installed.
    #[error(
        "nats-server is not installed; install it (Debian/Ubuntu: `sudo apt-get install nats-server`) \
         or pass --nats-url to use a running server"
    )]
    NatsServerMissing,
    /// The local `nats-server` did not come up.
    #[error("the local nats-server failed: {0}")]
    NatsServerFailed(String),
    /// Could not connect to NATS.
    #[error("cannot connect to NATS at {url}: {source}")]
    Connect {
        /// Server URL.
        url: String,
        /// Cause.
        source: async_nats::ConnectError,
    },
    /// Credentials file unreadable.
    #[error("cannot read NATS credentials {path}: {source}")]
    Credentials {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// A JetStream stream or consumer exists with settings we cannot use.
    #[error("JetStream setup: {0}")]
    Setup(String),
    /// A JetStream call failed.
    #[error("JetStream {what}: {detail}")]
    JetStream {
        /// What was being done.
        what: &'static str,
        /// Cause.
        detail: String,
    },
    /// The feature stage refused its definitions or failed on a batch.
    #[error("features: {0}")]
    Features(#[from] features::FeatureError),
    /// A model could not be trained, read or applied.
    #[error("model: {0}")]
    Model(#[from] models::ModelError),
    /// A checkpoint could not be written or read back.
    #[error("checkpoint {what}: {detail}")]
    Checkpoint {
        /// What was being done.
        what: &'static str,
        /// Cause.
        detail: String,
    },
    /// A file or socket operation failed.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// An invalid option or configuration value.
    #[error("invalid {name}: {reason}")]
    InvalidOption {
        /// The option.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// Input a user gave (a file) that cannot be used; the message names what and where.
    #[error("{0}")]
    InvalidInput(String),
    /// Stopped by Ctrl-C or SIGTERM before finishing.
    #[error("interrupted")]
    Interrupted,
    /// A broken invariant inside creditstream (a bug).
    #[error("internal error: {0}")]
    Internal(String),
    /// The simulator refused its configuration.
    #[error(transparent)]
    Simulator(#[from] simulator::SimError),
}

impl PipelineError {
    /// The class of this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            PipelineError::NatsServerMissing
            | PipelineError::Credentials { .. }
            | PipelineError::Setup(_)
            | PipelineError::InvalidOption { .. }
            | PipelineError::InvalidInput(_)
            | PipelineError::Interrupted
            | PipelineError::Simulator(_)
            | PipelineError::Model(_) => ErrorClass::User,
            PipelineError::Connect { .. }
            | PipelineError::JetStream { .. }
            | PipelineError::NatsServerFailed(_)
            | PipelineError::Io(..) => ErrorClass::Transient,
            PipelineError::Features(e) => match e {
                features::FeatureError::Engine { .. } => ErrorClass::Internal,
                _ => ErrorClass::User,
            },
            PipelineError::Checkpoint { .. } | PipelineError::Internal(_) => ErrorClass::Internal,
        }
    }

    pub(crate) fn js(what: &'static str, e: impl std::fmt::Display) -> PipelineError {
        PipelineError::JetStream {
            what,
            detail: e.to_string(),
        }
    }
}
