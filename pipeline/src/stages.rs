//! The domain stages in data-flow order, without I/O: ledger → (features → models, not
//! built yet) → decisions. The worker feeds it decoded events; tests and replays call it
//! directly, which is how a replay gives the same outputs as the live run.

use decisions::{DecisionConfig, Decisions};
use events::{Envelope, OutputEnvelope};
use ledger::{Ledger, LedgerConfig, LedgerEffect};
use serde::{Deserialize, Serialize};

/// What one event caused.
#[derive(Debug, Clone)]
pub struct Processed {
    /// Outputs to publish.
    pub outputs: Vec<OutputEnvelope>,
    /// Ledger effects, in order.
    pub effects: Vec<LedgerEffect>,
}

/// The state of every stage; serialised whole into checkpoints.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stages {
    ledger: Ledger,
    decisions: Decisions,
    events: u64,
}

impl Default for Stages {
    fn default() -> Self {
        Stages::new(LedgerConfig::default(), DecisionConfig::default())
    }
}

impl Stages {
    /// Fresh stages.
    pub fn new(ledger: LedgerConfig, decisions: DecisionConfig) -> Self {
        Stages {
            ledger: Ledger::new(ledger),
            decisions: Decisions::new(decisions),
            events: 0,
        }
    }

    /// Runs one validated event through every stage and returns the outputs it causes.
    /// Time passes first (the event moves the event-time clock), then the event applies.
    pub fn process(&mut self, event: &Envelope) -> Vec<OutputEnvelope> {
        self.process_with_effects(event).outputs
    }

    /// Like [`Stages::process`], also returning what changed in the ledger (for metrics).
    pub fn process_with_effects(&mut self, event: &Envelope) -> Processed {
        let mut effects = self.ledger.advance_to(event.event_time);
        effects.extend(self.ledger.apply(event));
        self.events += 1;
        let outputs = self.decisions.decide(event, &effects, &self.ledger);
        Processed { outputs, effects }
    }

    /// The ledger, read-only.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Events processed since the stages were created.
    pub fn events(&self) -> u64 {
        self.events
    }
}
