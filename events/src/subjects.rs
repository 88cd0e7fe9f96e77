//! Subject and stream names, and the partitioning of debtors.
//!
//! | subject | stream | what |
//! |---|---|---|
//! | `<p>.in.<partition>.<type>` | `<P>_IN` | input events of a debtor's partition |
//! | `<p>.in.unrouted.<type>` | `<P>_IN` | bank transactions whose debtor is not known yet |
//! | `<p>.out.<family>.<partition>` | `<P>_OUT` | alerts, actions, tasks, scores |
//! | `<p>.deadletter.<reason>` | `<P>_DLQ` | refused input, original bytes, reason in headers |
//!
//! `<p>` is the prefix (default `creditstream`), `<P>` its upper-case form.

use crate::envelope::DeadLetterReason;
use crate::input::EventKind;
use crate::output::OutputFamily;

/// The default subject prefix.
pub const DEFAULT_PREFIX: &str = "creditstream";

/// The default number of partitions.
pub const DEFAULT_PARTITIONS: u32 = 16;

/// Subject token for input whose debtor is not known yet.
pub const UNROUTED: &str = "unrouted";

/// Header: why a message was dead-lettered (a [`DeadLetterReason`] name).
pub const HEADER_DLQ_REASON: &str = "Creditstream-Dead-Letter-Reason";
/// Header: the human-readable detail.
pub const HEADER_DLQ_DETAIL: &str = "Creditstream-Dead-Letter-Detail";
/// Header: subject the message arrived on.
pub const HEADER_DLQ_SUBJECT: &str = "Creditstream-Original-Subject";
/// Header: the event id, when the envelope got far enough to have one.
pub const HEADER_DLQ_EVENT_ID: &str = "Creditstream-Event-Id";
/// Header: its stream sequence.
pub const HEADER_DLQ_SEQUENCE: &str = "Creditstream-Original-Sequence";
/// Header, on a dead letter without the input's bytes (they would not fit in one message
/// with the headers): their size. The input stream holds them at the original sequence.
pub const HEADER_DLQ_PAYLOAD_OMITTED: &str = "Creditstream-Dead-Letter-Payload-Omitted";

/// Partition of a debtor: FNV-1a 64 of the id modulo the partition count. Stable across
/// builds and platforms, so producers in any language can compute it.
pub fn partition_of(debtor_id: &str, partitions: u32) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in debtor_id.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % u64::from(partitions.max(1))) as u32
}

/// Names of every subject and stream, for one prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subjects {
    prefix: String,
    partitions: u32,
}

impl Default for Subjects {
    fn default() -> Self {
        Subjects::new(DEFAULT_PREFIX, DEFAULT_PARTITIONS)
    }
}

impl Subjects {
    /// Subjects under `prefix` with `partitions` debtor partitions (at least one).
    pub fn new(prefix: &str, partitions: u32) -> Self {
        Subjects {
            prefix: prefix.to_owned(),
            partitions: partitions.max(1),
        }
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Number of partitions.
    pub fn partitions(&self) -> u32 {
        self.partitions
    }

    /// Stream holding all input.
    pub fn input_stream(&self) -> String {
        format!("{}_IN", self.prefix.to_uppercase())
    }

    /// Stream holding all outputs.
    pub fn output_stream(&self) -> String {
        format!("{}_OUT", self.prefix.to_uppercase())
    }

    /// Stream holding dead letters.
    pub fn dead_letter_stream(&self) -> String {
        format!("{}_DLQ", self.prefix.to_uppercase())
    }

    /// Wildcard of all input subjects.
    pub fn input_wildcard(&self) -> String {
        format!("{}.in.>", self.prefix)
    }

    /// Wildcard of one partition's input.
    pub fn input_partition_wildcard(&self, partition: u32) -> String {
        format!("{}.in.{partition}.>", self.prefix)
    }

    /// Wildcard of all outputs.
    pub fn output_wildcard(&self) -> String {
        format!("{}.out.>", self.prefix)
    }

    /// Wildcard of all dead letters.
    pub fn dead_letter_wildcard(&self) -> String {
        format!("{}.deadletter.>", self.prefix)
    }

    /// Input subject for an event of `kind` about `debtor_id` (unrouted when unknown).
    pub fn input(&self, debtor_id: Option<&str>, kind: EventKind) -> String {
        match debtor_id {
            Some(d) => format!(
                "{}.in.{}.{}",
                self.prefix,
                partition_of(d, self.partitions),
                kind.as_str()
            ),
            None => format!("{}.in.{UNROUTED}.{}", self.prefix, kind.as_str()),
        }
    }

    /// Output subject for `family` about `debtor_id` (unrouted when unknown).
    pub fn output(&self, family: OutputFamily, debtor_id: Option<&str>) -> String {
        match debtor_id {
            Some(d) => format!(
                "{}.out.{}.{}",
                self.prefix,
                family.as_str(),
                partition_of(d, self.partitions)
            ),
            None => format!("{}.out.{}.{UNROUTED}", self.prefix, family.as_str()),
        }
    }

    /// Dead-letter subject for `reason`.
    pub fn dead_letter(&self, reason: DeadLetterReason) -> String {
        format!("{}.deadletter.{}", self.prefix, reason.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_is_fnv1a_and_stable() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (reference value of the algorithm).
        assert_eq!(
            partition_of("a", u32::MAX),
            (0xaf63_dc4c_8601_ec8c_u64 % u64::from(u32::MAX)) as u32
        );
        assert_eq!(partition_of("D000042", 16), partition_of("D000042", 16));
        assert!(partition_of("anything", 16) < 16);
        assert_eq!(partition_of("x", 0), 0);
    }

    #[test]
    fn subjects_follow_the_documented_layout() {
        let s = Subjects::new("cs", 4);
        assert_eq!(
            s.input(None, EventKind::PaymentReceived),
            "cs.in.unrouted.payment_received"
        );
        let p = partition_of("D1", 4);
        assert_eq!(
            s.input(Some("D1"), EventKind::InvoiceIssued),
            format!("cs.in.{p}.invoice_issued")
        );
        assert_eq!(
            s.output(OutputFamily::Alerts, Some("D1")),
            format!("cs.out.alerts.{p}")
        );
        assert_eq!(
            s.dead_letter(DeadLetterReason::Oversized),
            "cs.deadletter.oversized"
        );
        assert_eq!(s.input_stream(), "CS_IN");
    }
}
