//! The creditstream event contract, shared by every stage.
//!
//! Layout:
//! - [`money`]: exact amounts (decimal strings on the wire) and ISO 4217 currencies;
//! - [`input`]: the input event kinds (debtor, invoice, payment, reversal, credit note,
//!   dispute, promise, bureau rating, clock tick);
//! - [`envelope`]: the versioned envelope, its decoder and the dead-letter reasons;
//!   `field_errors` (private) tells the decoder which field of `data` an error came from;
//! - [`output`]: alerts, actions, tasks and score updates with deterministic ids;
//! - [`subjects`]: subject and stream names and the partitioning of debtors;
//! - [`lines`]: line numbers in config texts, for errors that name the line.
//!
//! Data flows: producer bytes → [`Envelope::decode`] → typed [`InputEvent`] (or a
//! [`DecodeError`] naming a [`DeadLetterReason`]) → later stages → [`OutputEnvelope`].
//! The wire format is documented in `docs/events.md`.

pub mod envelope;
mod field_errors;
pub mod input;
pub mod lines;
pub mod money;
pub mod output;
pub mod subjects;

pub use envelope::{
    CURRENT_SCHEMA_VERSION, DEFAULT_MAX_EVENT_BYTES, DeadLetterReason, DecodeError, Envelope,
};
pub use input::*;
pub use money::{Currency, Money};
pub use output::*;
pub use subjects::{Subjects, partition_of};
