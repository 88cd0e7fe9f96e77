//! The domain stages in data-flow order, without I/O: ledger → features → models →
//! decisions. The worker feeds it decoded events; tests and replays call it directly,
//! which is how a replay gives the same outputs as the live run. The model stage and its
//! score points are described in [`crate::scoring`].
//!
//! Features gather in micro-batches: a batch is flushed when it holds
//! `batch_max_events` events (here) or when its first event has waited
//! `batch_max_delay_ms` (the worker's timer, [`Stages::flush_features`]), and always
//! before a checkpoint, so a checkpoint never leaves facts behind.

use decisions::{DecisionConfig, Decisions};
use events::{Envelope, InputEvent, OutputEnvelope};
use features::{Definitions, FeatureConfig, FeatureError, FeatureState, FeatureStore, FlushReport};
use ledger::{Ledger, LedgerConfig, LedgerDelta, LedgerEffect};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::error::PipelineError;
use crate::scoring::{self, LoadedModel, ModelStage, ScoringConfig};

/// What scoring some of a score point's debtors gives: the scores worth publishing, in
/// order, and the rows the model could not score.
type PartScores = (Vec<decisions::Scored>, Vec<PipelineError>);

/// What one event caused.
#[derive(Debug, Clone)]
pub struct Processed {
    /// Outputs to publish.
    pub outputs: Vec<OutputEnvelope>,
    /// Ledger effects, in order.
    pub effects: Vec<LedgerEffect>,
    /// The feature micro-batch, when this event filled it.
    pub features: Option<FlushReport>,
    /// Debtors scored at the score point this event completed, if any.
    pub scored: usize,
}

/// The feature store inside the stages: its state goes into checkpoints, its compiled
/// definitions are rebuilt on load.
#[derive(Debug)]
pub struct FeatureStage(FeatureStore, Option<FeatureState>);

impl FeatureStage {
    fn builtin(state: FeatureState) -> Result<FeatureStage, FeatureError> {
        let store =
            FeatureStore::with_state(Definitions::builtin()?, FeatureConfig::default(), state)?;
        Ok(FeatureStage(store, None))
    }
}

impl Default for FeatureStage {
    fn default() -> Self {
        // The built-in definitions are part of the build; a test proves they compile.
        FeatureStage::builtin(FeatureState::default())
            .expect("the built-in feature definitions compile")
    }
}

impl Serialize for FeatureStage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.state().serialize(s)
    }
}

impl<'de> Deserialize<'de> for FeatureStage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let state = FeatureState::deserialize(d)?;
        // Kept aside too: the worker configures its own definitions next, and the state
        // must survive when it was laid out for those rather than the built-in ones.
        let mut stage = FeatureStage::builtin(state.clone()).map_err(serde::de::Error::custom)?;
        stage.1 = Some(state);
        Ok(stage)
    }
}

/// The state of every stage; serialised whole into checkpoints.
#[derive(Debug, Serialize, Deserialize)]
pub struct Stages {
    ledger: Ledger,
    /// Checkpoints written before the feature stage existed have none: features then
    /// start empty.
    #[serde(default)]
    features: FeatureStage,
    /// Checkpoints written before the model stage existed have none: no model is active.
    #[serde(default)]
    models: ModelStage,
    decisions: Decisions,
    events: u64,
}

/// The stages' state as a checkpoint after the first writes it
/// ([`crate::checkpoint`]): the ledger's [`LedgerDelta`] (its history entries changed
/// since the previous checkpoint, the rest in full) and the other stages in full — they
/// grow with the debtors, not with time, and are small beside the ledger's history.
#[derive(Debug, Serialize)]
pub struct StagesDelta {
    ledger: LedgerDelta,
    features: FeatureState,
    /// As the model stage serialises itself (its models are written whole).
    models: Box<RawValue>,
    decisions: Decisions,
    events: u64,
}

impl StagesDelta {
    /// The ledger's part.
    pub fn ledger(&self) -> &LedgerDelta {
        &self.ledger
    }
}

impl Default for Stages {
    fn default() -> Self {
        Stages::new(LedgerConfig::default(), DecisionConfig::default())
    }
}

impl Stages {
    /// Fresh stages, with the built-in feature definitions.
    pub fn new(ledger: LedgerConfig, decisions: DecisionConfig) -> Self {
        Stages {
            ledger: Ledger::new(ledger),
            features: FeatureStage::default(),
            models: ModelStage::default(),
            decisions: Decisions::new(decisions),
            events: 0,
        }
    }

    /// Replaces the feature definitions and configuration, keeping the feature state
    /// when it fits the definitions' windows (otherwise features start over). Refuses
    /// definitions that do not compile.
    pub fn configure_features(
        &mut self,
        definitions: Definitions,
        config: FeatureConfig,
    ) -> Result<(), FeatureError> {
        let state = match self.features.1.take() {
            Some(restored) => restored,
            None => self.features.0.state().clone(),
        };
        self.features = FeatureStage(FeatureStore::with_state(definitions, config, state)?, None);
        Ok(())
    }

    /// Assembles stages from their parts as a checkpoint stores them.
    pub(crate) fn from_parts(
        ledger: Ledger,
        features: FeatureStage,
        models: ModelStage,
        decisions: Decisions,
        events: u64,
    ) -> Stages {
        Stages {
            ledger,
            features,
            models,
            decisions,
            events,
        }
    }

    /// Starts remembering what changes, for [`Stages::take_delta`]: call it once the
    /// stages were loaded from their checkpoint (or created, when there was none).
    pub fn start_journal(&mut self) {
        self.ledger.start_journal();
    }

    /// The state since the previous call (or [`Stages::start_journal`]), for a
    /// checkpoint: a copy of everything but the ledger's history, whose changed entries
    /// it takes. Flush the feature batch first ([`Stages::flush_features`]): facts still
    /// waiting are not state.
    pub fn take_delta(&mut self) -> Result<StagesDelta, PipelineError> {
        let models = serde_json::value::to_raw_value(&self.models).map_err(|e| {
            PipelineError::Checkpoint {
                what: "encode",
                detail: e.to_string(),
            }
        })?;
        Ok(StagesDelta {
            ledger: self.ledger.take_delta(),
            features: self.features.0.state().clone(),
            models,
            decisions: self.decisions.clone(),
            events: self.events,
        })
    }

    /// Replaces the scoring configuration (score points, limit policy).
    pub fn configure_scoring(&mut self, config: ScoringConfig) -> Result<(), PipelineError> {
        self.models.configure(config)
    }

    /// Checks the models restored from a checkpoint against the features and scoring
    /// configuration now in place.
    pub fn check_restored_models(&self) -> Result<(), PipelineError> {
        let schema = scoring::scoring_schema(self.features.0.engine().output_schema())?;
        self.models.check_restored(&schema)
    }

    /// Offers a model version the edge loaded from the registry (or why it could not) to
    /// the `model_activated` event naming it, which comes next.
    pub fn offer_model(&mut self, version: &str, loaded: Result<LoadedModel, String>) {
        self.models.offer(version, loaded);
    }

    /// The decisions' state, read-only.
    pub fn decisions(&self) -> &Decisions {
        &self.decisions
    }

    /// The model stage, read-only.
    pub fn models(&self) -> &ModelStage {
        &self.models
    }

    /// Runs one validated event through every stage and returns the outputs it causes.
    /// Time passes first (the event moves the event-time clock), then the event applies.
    pub fn process(&mut self, event: &Envelope) -> Result<Vec<OutputEnvelope>, PipelineError> {
        Ok(self.process_with_effects(event)?.outputs)
    }

    /// Like [`Stages::process`], also returning what changed in the ledger and the
    /// feature batch the event completed (for metrics).
    pub fn process_with_effects(&mut self, event: &Envelope) -> Result<Processed, PipelineError> {
        if let InputEvent::ModelActivated(activation) = &event.event {
            // A control event: it moves no time and touches no ledger or feature state.
            self.events += 1;
            let schema = scoring::scoring_schema(self.features.0.engine().output_schema())?;
            let outcome = self.models.activate(activation, &schema);
            let mut outputs = self.decisions.decide_model_activation(
                event,
                &self.ledger,
                &outcome.version,
                outcome.refusal.as_deref(),
                outcome.summary,
            );
            let rescore = outcome.refusal.is_none();
            let (features, scored) = self.score_point(event, rescore, &mut outputs)?;
            return Ok(Processed {
                outputs,
                effects: Vec::new(),
                features,
                scored,
            });
        }
        if event.event.is_control() {
            // A strategy activated or a task closed: decided on the state as it is; no
            // time passes, no ledger or feature state changes.
            self.events += 1;
            let outputs = self.decisions.decide(event, &[], &self.ledger);
            return Ok(Processed {
                outputs,
                effects: Vec::new(),
                features: None,
                scored: 0,
            });
        }
        let mut effects = self.ledger.advance_to(event.event_time);
        if let InputEvent::InvoiceIssued(invoice) = &event.event {
            self.capture_for_drift(invoice, event);
        }
        effects.extend(self.ledger.apply(event));
        self.events += 1;
        self.features.0.observe(event, &effects, &self.ledger);
        let mut features = if self.features.0.batch_full() {
            let report = self.features.0.flush()?;
            self.models.note_changed(&report.changed, &report.slid);
            Some(report)
        } else {
            None
        };
        let mut outputs = self.decisions.decide(event, &effects, &self.ledger);
        let due = self.models.count_event();
        let mut scored = 0;
        if due || matches!(event.event, InputEvent::ClockTick(_)) {
            let (report, n) = self.score_point(event, false, &mut outputs)?;
            scored = n;
            if report.is_some() {
                features = report;
            }
        }
        Ok(Processed {
            outputs,
            effects,
            features,
            scored,
        })
    }

    /// A score point caused by `cause`: flushes the feature micro-batch, scores the
    /// debtors whose features changed since their last score (at most the configured
    /// number, see [`scoring::ScoringConfig::max_debtors`]; when `all`, an activation,
    /// every debtor is queued to be re-scored first, in slices like any others) and
    /// adds the score updates worth publishing to `outputs`. Returns the flush's report
    /// and how many debtors were scored.
    fn score_point(
        &mut self,
        cause: &Envelope,
        all: bool,
        outputs: &mut Vec<OutputEnvelope>,
    ) -> Result<(Option<FlushReport>, usize), PipelineError> {
        let report = self.flush_features()?;
        let everyone = all.then(|| self.features.0.slots().len());
        let slots = self.models.take_pending(everyone);
        let Some(today) = self.features.0.watermark() else {
            return Ok((report, 0));
        };
        let mut scored = 0;
        self.models.prepare();
        for chunk in scoring::chunks(&slots) {
            // Features a custom definition cannot evaluate stop neither the stream nor the
            // other debtors: counted as failed scorings, the debtors keep their last score.
            let (worth, failures) = match self.score_chunk(chunk, today) {
                Ok(scores) => scores,
                Err(e) => {
                    self.models.failed(chunk.len(), &e);
                    continue;
                }
            };
            for e in &failures {
                self.models.failed(1, e);
            }
            scored += chunk.len();
            outputs.extend(self.decisions.decide_scores(cause, &worth, &self.ledger));
        }
        if let Err(e) = self.models.count_captured(self.features.0.engine()) {
            // Only the drift figures miss these rows; said in the log by the worker.
            self.models.failed(1, &e);
        }
        Ok((report, scored))
    }

    /// The features and scores of a chunk of a score point's debtors (by slot) on
    /// `today`, computed in parts at once, all but the first on threads of their own (see
    /// [`scoring::ScoringConfig::threads`]), and put together in order: the scores worth
    /// publishing and the rows the model could not score; or the error of the first part
    /// whose features could not be evaluated. A part whose thread cannot be started (the
    /// system's limit reached) is scored on this thread after the first.
    fn score_chunk(&self, chunk: &[u32], today: i32) -> Result<PartScores, PipelineError> {
        let mut parts = scoring::parts(chunk, self.models.config().threads);
        let first = parts.next().unwrap_or_default();
        let results = std::thread::scope(|s| {
            let others: Vec<_> = parts
                .map(|part| {
                    std::thread::Builder::new()
                        .name("scoring".into())
                        .spawn_scoped(s, move || self.score_part(part, today))
                        .map_err(|_| part)
                })
                .collect();
            let mut results = vec![self.score_part(first, today)];
            results.extend(others.into_iter().map(|other| {
                match other {
                    Ok(thread) => thread
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                    Err(part) => self.score_part(part, today),
                }
            }));
            results
        });
        let (mut worth, mut failures) = (Vec::new(), Vec::new());
        for result in results {
            let (kept, failed) = result?;
            worth.extend(kept);
            failures.extend(failed);
        }
        Ok((worth, failures))
    }

    /// The features and scores of some of a score point's debtors (by slot) on `today`,
    /// reading the stages without changing them: the scores worth publishing and the rows
    /// the model could not score, or why the features could not be evaluated.
    fn score_part(&self, slots: &[u32], today: i32) -> Result<PartScores, PipelineError> {
        let batch = self
            .features
            .0
            .features(slots, today, &self.ledger)
            .map_err(PipelineError::from)
            .and_then(scoring::with_amount)?;
        let decisions = &self.decisions;
        let min_change = decisions.config().min_probability_change;
        Ok(self.models.score_slice(&batch, |debtor, score| {
            decisions.last_score(debtor).is_none_or(|last| {
                decisions::scores::is_meaningful_score_change(last, score, min_change)
            })
        }))
    }

    /// Captures, for drift, the debtor's feature inputs as the invoice is issued (before
    /// it applies: a training row's moment). A debtor whose facts wait in the feature
    /// micro-batch is left out (its state is not current without a flush); drift is
    /// measured on a sample.
    fn capture_for_drift(&mut self, invoice: &events::InvoiceIssued, event: &Envelope) {
        if self.models.champion().is_none() || self.ledger.item(&invoice.invoice_number).is_some() {
            return;
        }
        let slot = self.features.0.slot(&invoice.debtor_id);
        if self.features.0.is_pending(slot) {
            return;
        }
        let day = features::day_number(event.event_time.date_naive());
        let amount = invoice.amount.to_string().parse().unwrap_or(f64::NAN);
        let store = &self.features.0;
        let ledger = &self.ledger;
        self.models.capture(
            &invoice.debtor_id,
            day,
            amount,
            || store.inputs_builder(),
            |builder| store.push_inputs(builder, slot, day, ledger),
        );
    }

    /// Flushes the feature micro-batch (time is up, or a checkpoint comes); `None` when
    /// it is empty.
    pub fn flush_features(&mut self) -> Result<Option<FlushReport>, FeatureError> {
        if self.features.0.pending_events() == 0 {
            return Ok(None);
        }
        let report = self.features.0.flush()?;
        self.models.note_changed(&report.changed, &report.slid);
        Ok(Some(report))
    }

    /// The ledger, read-only.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The feature store, read-only.
    pub fn features(&self) -> &FeatureStore {
        &self.features.0
    }

    /// Events processed since the stages were created.
    pub fn events(&self) -> u64 {
        self.events
    }
}
