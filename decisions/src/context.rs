//! What a rule sees while deciding on one cause, and how it emits an output; the
//! strategy-driven rules also see a [`Policy`].

use events::{ActionReason, CURRENT_SCHEMA_VERSION, Channel, Envelope, Output, OutputEnvelope};
use ledger::{HashIndex, Ledger};

use crate::config::DecisionConfig;
use crate::ids::OutputIds;
use crate::scores::ModelScore;
use crate::strategy::{Segment, Strategy};

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

/// What the strategy-driven rules read besides the ledger: the strategy in force, the
/// last published scores and the configuration.
pub(crate) struct Policy<'a> {
    pub(crate) strategy: &'a Strategy,
    pub(crate) scores: &'a HashIndex<String, ModelScore>,
    pub(crate) config: &'a DecisionConfig,
}

impl Policy<'_> {
    /// The segment a debtor is in now (by its type and its last published risk class).
    pub(crate) fn segment(&self, ledger: &Ledger, debtor_id: &str) -> &Segment {
        self.strategy.segment_for(
            ledger.debtor(debtor_id).and_then(|a| a.debtor_type()),
            self.scores.get(debtor_id).map(|s| s.risk_class.as_str()),
        )
    }

    /// The reason of an action of `rule` for a debtor: the strategy version and segment
    /// (when the rule follows the strategy), the step, and the debtor's last score.
    pub(crate) fn reason(
        &self,
        rule: &str,
        debtor_id: &str,
        segment: Option<&Segment>,
        step_day: Option<u32>,
    ) -> ActionReason {
        let score = self.scores.get(debtor_id);
        ActionReason {
            rule: rule.to_owned(),
            strategy_version: segment.map(|_| self.strategy.version.clone()),
            segment: segment.map(|s| s.name.clone()),
            step_day,
            risk_class: score.map(|s| s.risk_class.clone()),
            probability_late: score.map(|s| s.probability_late),
            model_version: score.map(|s| s.model_version.clone()),
        }
    }

    /// The channel for a message to the debtor when the strategy says "preferred".
    pub(crate) fn preferred_channel(&self, ledger: &Ledger, debtor_id: &str) -> Channel {
        ledger
            .debtor(debtor_id)
            .and_then(|a| a.preferred_channel())
            .unwrap_or(self.config.default_channel)
    }
}
