//! What a rule sees while deciding on one cause, and how it emits an output.

use events::{CURRENT_SCHEMA_VERSION, Envelope, Output, OutputEnvelope};
use ledger::Ledger;

use crate::ids::OutputIds;

/// The cause, the ledger after it, and the outputs so far.
pub(crate) struct Context<'a> {
    /// The input event being decided on.
    pub(crate) cause: &'a Envelope,
    /// The ledger after the cause was applied.
    pub(crate) ledger: &'a Ledger,
    ids: OutputIds,
    outputs: Vec<OutputEnvelope>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(cause: &'a Envelope, ledger: &'a Ledger) -> Self {
        Context {
            cause,
            ledger,
            ids: OutputIds::default(),
            outputs: Vec::new(),
        }
    }

    /// Adds an output; its id is `<kind>:<cause>[:<discriminator>]`.
    pub(crate) fn emit(
        &mut self,
        discriminator: Option<&str>,
        debtor_id: Option<&str>,
        output: Output,
    ) {
        let rule = output.kind_label();
        self.emit_as(rule, discriminator, debtor_id, output);
    }

    /// Adds an output whose id names `rule` instead of the output's kind:
    /// `<rule>:<cause>[:<discriminator>]` (for one kind of output sent by two rules, whose
    /// ids must never meet whatever the discriminators hold).
    pub(crate) fn emit_as(
        &mut self,
        rule: &str,
        discriminator: Option<&str>,
        debtor_id: Option<&str>,
        output: Output,
    ) {
        let output_id = self.ids.next(rule, &self.cause.event_id, discriminator);
        self.outputs.push(OutputEnvelope {
            schema_version: CURRENT_SCHEMA_VERSION,
            output_id,
            event_time: self.cause.event_time,
            cause_event_id: self.cause.event_id.clone(),
            debtor_id: debtor_id.map(str::to_owned),
            output,
        });
    }

    pub(crate) fn into_outputs(self) -> Vec<OutputEnvelope> {
        self.outputs
    }
}
