//! The model stage, without I/O: the champion model (and a challenger in shadow) score
//! debtors from their features at **score points**, and model versions are switched by
//! `model_activated` events in the log.
//!
//! Score points are fixed by the log alone, so a replay scores at the same moments as the
//! live run: after `every_events` events since the last score point (the count is part of
//! the checkpoint), at each clock tick, and at each model activation (which re-scores
//! every debtor). At a score point the feature micro-batch is flushed and the debtors
//! whose features changed since their last score are scored, at most `max_debtors` of
//! them: those with new facts first, then those an activation has still to re-score, then
//! those whose windows only slid. The others wait (in the checkpoint too) for the next
//! score points, which come every tenth of `every_events` while any wait, so that a
//! window's period turning over thousands of debtors at once, or an activation over a
//! million, is scored in slices instead of one long pause. The wall-clock flushes
//! of the micro-batch in between move work earlier but change no feature (streaming over
//! any split gives the same features), hence no score.
//!
//! A debtor is scored as for its next invoice: the model's rows are invoices at issue
//! time, so its `amount` column is filled with the debtor's average invoice over the
//! features' 365-day window (missing without invoices, which the model reads as typical).
//!
//! Activation: the edge loads the version from the registry and offers it
//! ([`ModelStage::offer`]) before the `model_activated` event is processed; the event then
//! takes it when the content's SHA-256 matches, the model's input columns fit the running
//! features and its risk classes fit the limit policy. Otherwise the models in use stay
//! and the refusal is said in an alert.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Decimal128Type, DecimalType, Field, Float64Type, Schema, SchemaRef,
};
use decisions::{ModelScore, Scored};
use events::{ModelActivated, ModelRole, ShadowScore};
use models::{LimitInputs, LimitPolicy, ModelArtifact};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::PipelineError;

/// Debtors scored per feature evaluation.
const CHUNK: usize = 4096;

/// Most debtors a score point scores by default (see [`ScoringConfig::max_debtors`]).
pub const DEFAULT_MAX_DEBTORS: usize = 1000;

/// Threads a score point scores on by default (see [`ScoringConfig::threads`]): the
/// stage loop's and one more, the second core of a two-core machine.
pub const DEFAULT_THREADS: usize = 2;

/// Most threads a score point scores on.
pub const MAX_THREADS: usize = 64;

/// While debtors wait for a score, a score point comes every `every_events` / this.
const CATCH_UP_DIVISOR: u64 = 10;

/// Rows counted for drift before the counts are halved.
pub const DRIFT_MEMORY: u64 = 100_000;

/// Fewer rows than this since the champion was activated give no drift figure.
pub const DRIFT_MIN_ROWS: u64 = 100;

/// The column a debtor's typical invoice goes into.
pub const AMOUNT_COLUMN: &str = "amount";

/// How the model stage scores.
#[derive(Debug, Clone)]
pub struct ScoringConfig {
    /// A score point every this many events (also at clock ticks and activations).
    pub every_events: u64,
    /// Most debtors a score point scores: debtors with new facts first, then those a
    /// model activation has still to re-score (an activation re-scores everyone), then
    /// those whose windows only slid, each kind in turn from where the last score point
    /// stopped; the others wait for the next score points, which come every
    /// `every_events / 10` events while any wait (so at least that many). Keeps the stage
    /// loop's pauses short when a window's period turns and thousands of debtors change
    /// at once, or when a model is activated over a million debtors.
    pub max_debtors: usize,
    /// The credit-limit policy.
    pub limit_policy: LimitPolicy,
    /// Feature column holding the debtor's recent invoicing, the base of its typical
    /// month.
    pub invoicing_column: String,
    /// Months that column covers.
    pub invoicing_months: u32,
    /// Columns named in a score update's reason.
    pub explain_top: usize,
    /// Threads a score point's debtors are scored on (their features, scores and
    /// explanations; the decisions on them follow in order on the stage loop's thread).
    /// The outputs are the same whatever the number.
    pub threads: usize,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        ScoringConfig {
            every_events: 1000,
            max_debtors: DEFAULT_MAX_DEBTORS,
            limit_policy: LimitPolicy::builtin().expect("the built-in limit policy parses"),
            invoicing_column: "invoiced_amount_90d".into(),
            invoicing_months: 3,
            explain_top: 3,
            threads: DEFAULT_THREADS,
        }
    }
}

impl ScoringConfig {
    /// Checks the knobs, naming the bad one.
    pub fn check(&self) -> Result<(), PipelineError> {
        if self.every_events == 0 || self.every_events > 1_000_000 {
            return Err(PipelineError::InvalidOption {
                name: "score every",
                reason: "must be between 1 and 1000000 events".into(),
            });
        }
        if self.max_debtors == 0 || self.max_debtors > 10_000_000 {
            return Err(PipelineError::InvalidOption {
                name: "score max debtors",
                reason: "must be between 1 and 10000000 debtors".into(),
            });
        }
        // While debtors wait, a score point every tenth of `every_events`: it must score
        // at least as many debtors as events come in between, or news alone could fill
        // every score point and the others wait for ever.
        if (self.max_debtors as u64).saturating_mul(CATCH_UP_DIVISOR) < self.every_events {
            return Err(PipelineError::InvalidOption {
                name: "score max debtors",
                reason: format!(
                    "must be at least a tenth of score every ({} events)",
                    self.every_events
                ),
            });
        }
        if self.threads == 0 || self.threads > MAX_THREADS {
            return Err(PipelineError::InvalidOption {
                name: "score threads",
                reason: format!("must be between 1 and {MAX_THREADS}"),
            });
        }
        if self.invoicing_months == 0 || self.invoicing_months > 120 {
            return Err(PipelineError::InvalidOption {
                name: "invoicing months",
                reason: "must be between 1 and 120".into(),
            });
        }
        Ok(())
    }
}

/// SHA-256 of an artifact's stored bytes, as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A model version as loaded from the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadedModel {
    /// The registry version.
    pub version: String,
    /// SHA-256 of the stored bytes.
    pub sha256: String,
    /// The artifact.
    pub artifact: ModelArtifact,
}

impl LoadedModel {
    /// Reads stored bytes (refusing what is not a valid artifact of `version`).
    pub fn from_bytes(version: &str, bytes: &[u8]) -> Result<LoadedModel, PipelineError> {
        let artifact = ModelArtifact::from_json(bytes)?;
        if artifact.metadata.version != version {
            return Err(PipelineError::InvalidInput(format!(
                "the registry's object for version {version} holds version {}",
                artifact.metadata.version
            )));
        }
        Ok(LoadedModel {
            version: version.to_owned(),
            sha256: sha256_hex(bytes),
            artifact,
        })
    }
}

/// The model stage's state; champion and challenger go into checkpoints whole, so a
/// restart scores with the same models without the registry.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ModelStage {
    champion: Option<LoadedModel>,
    challenger: Option<LoadedModel>,
    /// The champion's columns in words, for the drivers of its scores (made again from
    /// the champion when it changes or after a restart).
    #[serde(skip)]
    explainer: models::Explainer,
    /// Feature slots of debtors with new facts since their last score.
    pending: BTreeSet<u32>,
    /// Feature slots of debtors whose windows only slid since their last score (scored
    /// after those of `pending`).
    #[serde(default)]
    slid: BTreeSet<u32>,
    /// Events since the last score point.
    since: u64,
    /// Whether debtors were left waiting at the last score point (the next ones come
    /// sooner). Decided at score points only: debtors noted by a wall-clock flush in
    /// between must not move the next score point, or a replay would score elsewhere.
    #[serde(default)]
    catching_up: bool,
    /// Where the next score point starts taking debtors with news, and debtors whose
    /// windows only slid (slots, taken in turn from there, wrapping around), so that no
    /// waiting debtor is passed over for ever.
    #[serde(default)]
    cursors: (u32, u32),
    /// The debtors the last activation has still to re-score (taken after those with
    /// news, before those whose windows only slid). Debtors in it are in neither
    /// `pending` nor `slid`: they are scored as they are when their turn comes.
    #[serde(default)]
    sweep: Option<Sweep>,
    /// Debtor scorings that failed (rows the model could not read, such as an infinite
    /// feature value), and the last reason.
    #[serde(default)]
    errors: u64,
    #[serde(default)]
    last_error: Option<String>,
    /// Rows captured for drift since the last score point: a debtor's feature inputs at
    /// the moment one of its invoices is issued, before the invoice applies — the rows the
    /// model learnt from.
    #[serde(skip)]
    captured: Captured,
    /// The champion's rows counted for drift, per encoded feature and drift bin (see
    /// [`models::drift::FeatureProfile::bin`]); halved when they pass
    /// [`DRIFT_MEMORY`] rows, so that recent rows weigh most.
    #[serde(default)]
    drift: Vec<Vec<u64>>,
    /// Versions the edge loaded for activation events still to come.
    #[serde(skip)]
    offered: BTreeMap<String, Result<LoadedModel, String>>,
    #[serde(skip)]
    config: ScoringConfig,
}

/// An activation's re-scoring of every debtor, in slices: slots `next..end` are still to
/// be scored, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Sweep {
    next: u32,
    end: u32,
}

impl Sweep {
    /// Every debtor of `slots` slots; `None` when there are none.
    fn of(slots: usize) -> Option<Sweep> {
        let end = u32::try_from(slots).unwrap_or(u32::MAX);
        (end > 0).then_some(Sweep { next: 0, end })
    }

    fn contains(self, slot: u32) -> bool {
        (self.next..self.end).contains(&slot)
    }

    fn len(self) -> usize {
        (self.end - self.next) as usize
    }

    /// Takes the next `n` slots at most; `None` once none are left.
    fn take(sweep: &mut Option<Sweep>, n: usize) -> Vec<u32> {
        let Some(s) = sweep else {
            return Vec::new();
        };
        let upto = s
            .next
            .saturating_add(u32::try_from(n).unwrap_or(u32::MAX))
            .min(s.end);
        let taken = (s.next..upto).collect();
        s.next = upto;
        if s.next == s.end {
            *sweep = None;
        }
        taken
    }
}

/// Invoice rows captured at issue for drift, evaluated at the next score point.
#[derive(Default)]
struct Captured {
    inputs: Option<features::inputs::InputsBuilder>,
    ids: Vec<String>,
    days: Vec<i32>,
    amounts: Vec<f64>,
}

impl std::fmt::Debug for Captured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Captured({} rows)", self.ids.len())
    }
}

/// What an activation did, for the alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationOutcome {
    /// The version named by the event.
    pub version: String,
    /// Why it was refused; `None` when taken.
    pub refusal: Option<String>,
    /// What happened, in words.
    pub summary: String,
}

impl ModelStage {
    /// Replaces the configuration (not part of checkpoints).
    pub fn configure(&mut self, config: ScoringConfig) -> Result<(), PipelineError> {
        config.check()?;
        self.config = config;
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &ScoringConfig {
        &self.config
    }

    /// The champion, if one is active.
    pub fn champion(&self) -> Option<&LoadedModel> {
        self.champion.as_ref()
    }

    /// The challenger, if one scores in shadow.
    pub fn challenger(&self) -> Option<&LoadedModel> {
        self.challenger.as_ref()
    }

    /// Debtor scorings that failed so far, and the last reason.
    pub fn errors(&self) -> (u64, Option<&str>) {
        (self.errors, self.last_error.as_deref())
    }

    /// Records `rows` scorings that failed with `error`.
    pub(crate) fn failed(&mut self, rows: usize, error: &PipelineError) {
        self.errors += rows as u64;
        self.last_error = Some(error.to_string());
    }

    /// Offers a version loaded from the registry (or why it could not be) to the next
    /// activation event naming it.
    pub fn offer(&mut self, version: &str, loaded: Result<LoadedModel, String>) {
        self.offered.insert(version.to_owned(), loaded);
    }

    /// Debtors whose features changed (by slot, sorted), of which `slid` (sorted) only
    /// by windows sliding.
    pub(crate) fn note_changed(&mut self, changed: &[u32], slid: &[u32]) {
        if self.champion.is_some() {
            note_waiting(&mut self.pending, &mut self.slid, self.sweep, changed, slid);
        }
    }

    /// Captures the row of an invoice at its issue for drift: `push` appends the debtor's
    /// feature inputs to the builder it is given (made by `new_builder` on first use).
    pub(crate) fn capture(
        &mut self,
        debtor_id: &str,
        day: i32,
        amount: f64,
        new_builder: impl FnOnce() -> features::inputs::InputsBuilder,
        push: impl FnOnce(&mut features::inputs::InputsBuilder),
    ) {
        if self.champion.is_none() {
            return;
        }
        let builder = self.captured.inputs.get_or_insert_with(new_builder);
        push(builder);
        self.captured.ids.push(debtor_id.to_owned());
        self.captured.days.push(day);
        self.captured.amounts.push(amount);
    }

    /// Counts the rows captured since the last score point for drift, evaluated by
    /// `engine`.
    pub(crate) fn count_captured(
        &mut self,
        engine: &features::Engine,
    ) -> Result<(), PipelineError> {
        let captured = std::mem::take(&mut self.captured);
        let (Some(inputs), Some(champion)) = (captured.inputs, &self.champion) else {
            return Ok(());
        };
        let inputs = inputs.finish()?;
        let ids: ArrayRef = Arc::new(datafusion::arrow::array::StringArray::from(captured.ids));
        let days: ArrayRef = Arc::new(datafusion::arrow::array::Date32Array::from(captured.days));
        let batch = engine.evaluate(ids, days, &inputs)?;
        let batch = with_column(batch, AMOUNT_COLUMN, Float64Array::from(captured.amounts))?;
        let x = champion.artifact.encoding.encode(&batch)?;
        count_drift(
            &mut self.drift,
            &champion.artifact.metadata.feature_profiles,
            &x,
        );
        Ok(())
    }

    /// Counts an event; whether it completes a score point by count (sooner while
    /// debtors wait for a score, see [`ScoringConfig::max_debtors`]).
    pub(crate) fn count_event(&mut self) -> bool {
        self.since += 1;
        let every = if self.catching_up {
            (self.config.every_events / CATCH_UP_DIVISOR).max(1)
        } else {
            self.config.every_events
        };
        self.since >= every
    }

    /// Debtors waiting for a score.
    pub fn waiting(&self) -> usize {
        self.pending.len() + self.slid.len() + self.sweep.map_or(0, Sweep::len)
    }

    /// Takes the debtors to score at a score point, in slot order, and starts counting
    /// again: at most [`ScoringConfig::max_debtors`] of those waiting, the ones with new
    /// facts first. `activated` (an activation, with the number of slots) puts every
    /// debtor in the queue first: all are re-scored, in slices like any others.
    pub(crate) fn take_pending(&mut self, activated: Option<usize>) -> Vec<u32> {
        self.since = 0;
        if self.champion.is_none() || activated.is_some() {
            // Nobody to score without a model; at an activation everyone is in the sweep,
            // scored as they are when their turn comes.
            self.pending.clear();
            self.slid.clear();
            self.sweep = self.champion.as_ref().and(activated).and_then(Sweep::of);
        }
        let taken = take_waiting(
            (&mut self.pending, &mut self.slid),
            &mut self.sweep,
            &mut self.cursors,
            self.config.max_debtors,
        );
        self.catching_up = self.waiting() > 0;
        taken
    }

    /// Whether a model fits the running features (`features`: the scoring schema) and,
    /// as champion, the limit policy and the columns it reads.
    fn fits(&self, model: &LoadedModel, role: ModelRole, features: &Schema) -> Result<(), String> {
        model
            .artifact
            .check_inputs(features)
            .map_err(|e| e.to_string())?;
        if role == ModelRole::Champion {
            self.config
                .limit_policy
                .check_classes(&model.artifact.classes)
                .map_err(|e| e.to_string())?;
            for column in [self.config.invoicing_column.as_str(), "open_balance"] {
                if features.field_with_name(column).is_err() {
                    return Err(format!(
                        "the limit policy reads column {column}, which the running features lack"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks the models restored from a checkpoint against the configuration the worker
    /// starts with (its features and limit policy may differ from those they were
    /// activated under).
    pub fn check_restored(&self, features: &Schema) -> Result<(), PipelineError> {
        for (model, role) in [
            (&self.champion, ModelRole::Champion),
            (&self.challenger, ModelRole::Challenger),
        ] {
            if let Some(m) = model
                && let Err(why) = self.fits(m, role, features)
            {
                return Err(PipelineError::InvalidInput(format!(
                    "the checkpoint's {} model {} does not fit this configuration: {why}; \
                     start with the features and limit policy it was activated under, then \
                     activate a model that fits the new ones",
                    role.as_str(),
                    m.version
                )));
            }
        }
        Ok(())
    }

    /// Applies an activation event against the running features' schema (with the
    /// amount column), keeping the models in use when anything is wrong.
    pub fn activate(&mut self, event: &ModelActivated, features: &Schema) -> ActivationOutcome {
        let version = event.version.clone();
        let refuse = |reason: String| ActivationOutcome {
            version: version.clone(),
            summary: format!(
                "Model {version} was not made {} ({reason}); the models in use stay.",
                event.role.as_str()
            ),
            refusal: Some(reason),
        };
        if event.role == ModelRole::ChallengerStopped {
            return match &self.challenger {
                Some(c) if c.version == version => {
                    self.challenger = None;
                    ActivationOutcome {
                        version: version.clone(),
                        refusal: None,
                        summary: format!(
                            "Challenger {version} stopped scoring in shadow (by {}{}).",
                            event.activated_by,
                            reason_suffix(&event.reason)
                        ),
                    }
                }
                Some(c) => refuse(format!("the challenger is {}, not {version}", c.version)),
                None => refuse("no challenger is scoring".into()),
            };
        }
        let loaded = match self.offered.remove(&version) {
            Some(Ok(loaded)) => loaded,
            Some(Err(why)) => return refuse(why),
            None => return refuse("it was not loaded from the registry".into()),
        };
        if let Some(expected) = &event.sha256
            && *expected != loaded.sha256
        {
            return refuse(format!(
                "the registry holds content with SHA-256 {}, the event names {expected}",
                loaded.sha256
            ));
        }
        if let Err(why) = self.fits(&loaded, event.role, features) {
            return refuse(why);
        }
        let slot = match event.role {
            ModelRole::Champion => &mut self.champion,
            _ => &mut self.challenger,
        };
        let before = slot.as_ref().map(|m| m.version.clone());
        *slot = Some(loaded);
        if event.role == ModelRole::Champion {
            self.drift.clear();
            self.captured = Captured::default();
        }
        ActivationOutcome {
            version: version.clone(),
            refusal: None,
            summary: format!(
                "Model {version} is now the {} (was {}), by {}{}.",
                event.role.as_str(),
                before.as_deref().unwrap_or("none"),
                event.activated_by,
                reason_suffix(&event.reason)
            ),
        }
    }

    /// Makes the drivers' words fit the champion: once before the parts of a score
    /// point are scored (see [`ModelStage::score_slice`]).
    pub(crate) fn prepare(&mut self) {
        if let Some(champion) = &self.champion
            && !self.explainer.fits(&champion.artifact)
        {
            self.explainer = models::Explainer::new(&champion.artifact);
        }
    }

    /// Scores the debtors of one features batch (`debtor_id`, `as_of`, features..., with
    /// the amount column added by [`with_amount`]), reading the stage without changing it,
    /// so that the parts of a score point can be scored at once (after
    /// [`ModelStage::prepare`]). `keep` says whether a debtor's score is worth explaining
    /// (it may be published); others are left out. A row the model cannot read (an
    /// infinite value) or that gives no finite probability is left out and its error
    /// returned, in row order, to be counted with [`ModelStage::failed`]; the other rows
    /// are scored.
    pub(crate) fn score_slice(
        &self,
        batch: &RecordBatch,
        mut keep: impl FnMut(&str, &ModelScore) -> bool,
    ) -> (Vec<Scored>, Vec<PipelineError>) {
        let mut failures: Vec<PipelineError> = Vec::new();
        let Some(champion) = &self.champion else {
            return (Vec::new(), failures);
        };
        let x = encode_rows(&champion.artifact, batch, &mut failures);
        let shadow = self
            .challenger
            .as_ref()
            .map(|c| (c, encode_rows(&c.artifact, batch, &mut failures)));
        let ids = batch.column(0).as_string::<i32>();
        let limits = LimitColumns::new(
            batch,
            &self.config.invoicing_column,
            self.config.invoicing_months,
        );
        let mut out = Vec::new();
        for (i, row) in x.iter().enumerate() {
            let Some(row) = row else { continue };
            let risk = champion.artifact.score_row(row);
            if !risk.probability.is_finite() {
                failures.push(PipelineError::InvalidInput(format!(
                    "model {} gave no probability for debtor {}",
                    champion.version,
                    ids.value(i)
                )));
                continue;
            }
            let class = champion.artifact.classes.labels()[risk.class].clone();
            // The limit of every debtor scored; its steps in words only for those published.
            let inputs = limits.inputs(i, risk.class, &class);
            let policy = &self.config.limit_policy;
            let limit = inputs
                .as_ref()
                .ok()
                .and_then(|d| policy.limit(d).ok())
                .map(|l| l.limit);
            let challenger = shadow.as_ref().and_then(|(c, x)| {
                let r = c.artifact.score_row(x[i].as_ref()?);
                r.probability.is_finite().then(|| ShadowScore {
                    model_version: c.version.clone(),
                    probability_late: r.probability,
                    risk_class: c.artifact.classes.labels()[r.class].clone(),
                })
            });
            let score = ModelScore {
                model_version: champion.version.clone(),
                probability_late: risk.probability,
                risk_class: class,
                recommended_limit: limit,
                challenger,
            };
            let debtor_id = ids.value(i);
            if !keep(debtor_id, &score) {
                continue;
            }
            let drivers = self
                .explainer
                .summary(&champion.artifact, row, self.config.explain_top);
            let limit_text = match inputs.and_then(|d| Ok(policy.recommend(&d)?)) {
                Ok(l) => format!(
                    "limit: {}",
                    l.steps
                        .iter()
                        .map(|s| s.reason.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Err(e) => format!("no limit recommended: {e}"),
            };
            out.push(Scored {
                debtor_id: debtor_id.to_owned(),
                score,
                explanation: format!("drivers: {drivers}; {limit_text}"),
            });
        }
        (out, failures)
    }
}

/// The encoded rows of a batch, `None` for a row the model cannot read (its error added
/// to `failures`): the batch is encoded at once, and row by row only when that fails.
fn encode_rows(
    artifact: &ModelArtifact,
    batch: &RecordBatch,
    failures: &mut Vec<PipelineError>,
) -> Vec<Option<Vec<f64>>> {
    match artifact.encoding.encode(batch) {
        Ok(x) => x.rows().into_iter().map(|r| Some(r.to_vec())).collect(),
        Err(_) => (0..batch.num_rows())
            .map(|i| match artifact.encoding.encode(&batch.slice(i, 1)) {
                Ok(x) => Some(x.row(0).to_vec()),
                Err(e) => {
                    failures.push(e.into());
                    None
                }
            })
            .collect(),
    }
}

impl ModelStage {
    /// The champion's drift: each encoded feature's population stability index over the
    /// recent invoices at their issue (as captured) against its training rows (empty before
    /// [`DRIFT_MIN_ROWS`] rows, or for artifacts without training profiles).
    pub fn drift(&self) -> Vec<(String, f64)> {
        let Some(champion) = &self.champion else {
            return Vec::new();
        };
        let profiles = &champion.artifact.metadata.feature_profiles;
        let rows: u64 = self.drift.first().map_or(0, |c| c.iter().sum());
        if rows < DRIFT_MIN_ROWS || profiles.len() != self.drift.len() {
            return Vec::new();
        }
        champion
            .artifact
            .encoding
            .feature_names()
            .into_iter()
            .zip(profiles.iter().zip(&self.drift))
            .map(|(name, (profile, counts))| (name, profile.psi_of_counts(counts)))
            .collect()
    }
}

/// Adds debtors whose features changed (`changed`, of which `slid` only by windows
/// sliding; both sorted) to those waiting for a score: with news (`pending`) or with
/// windows that slid only (`slid_only`, unless news of theirs wait already). Those an
/// activation's `sweep` has still to re-score wait there.
fn note_waiting(
    pending: &mut BTreeSet<u32>,
    slid_only: &mut BTreeSet<u32>,
    sweep: Option<Sweep>,
    changed: &[u32],
    slid: &[u32],
) {
    for &slot in changed {
        if sweep.is_some_and(|s| s.contains(slot)) {
            continue;
        }
        if slid.binary_search(&slot).is_ok() {
            if !pending.contains(&slot) {
                slid_only.insert(slot);
            }
        } else {
            pending.insert(slot);
            slid_only.remove(&slot);
        }
    }
}

/// Takes at most `max` of the debtors waiting: with news, then those an activation's
/// `sweep` has still to re-score (lowest first), then those whose windows only slid; the
/// first and the last kind each in turn from its cursor (which moves past the last
/// taken); returned in slot order.
fn take_waiting(
    (pending, slid_only): (&mut BTreeSet<u32>, &mut BTreeSet<u32>),
    sweep: &mut Option<Sweep>,
    cursors: &mut (u32, u32),
    max: usize,
) -> Vec<u32> {
    let mut taken = take_from(pending, &mut cursors.0, max);
    let mut swept = Sweep::take(sweep, max - taken.len());
    taken.append(&mut swept);
    let mut slid = take_from(slid_only, &mut cursors.1, max - taken.len());
    taken.append(&mut slid);
    taken.sort_unstable();
    taken
}

/// Removes and returns at most `n` slots of `set`: from `cursor` up, then from the
/// lowest (all of them when it holds no more); the cursor moves past the last taken.
fn take_from(set: &mut BTreeSet<u32>, cursor: &mut u32, n: usize) -> Vec<u32> {
    if set.len() <= n {
        return std::mem::take(set).into_iter().collect();
    }
    let taken: Vec<u32> = set
        .range(*cursor..)
        .chain(set.range(..*cursor))
        .take(n)
        .copied()
        .collect();
    for slot in &taken {
        set.remove(slot);
    }
    if let Some(&last) = taken.last() {
        *cursor = last.wrapping_add(1);
    }
    taken
}

/// Adds the rows of `x` to the drift counts (laid out for `profiles` on first use).
fn count_drift(
    counts: &mut Vec<Vec<u64>>,
    profiles: &[models::drift::FeatureProfile],
    x: &ndarray::Array2<f64>,
) {
    if profiles.len() != x.ncols() || x.nrows() == 0 {
        return;
    }
    if counts.len() != profiles.len() {
        *counts = profiles.iter().map(|p| vec![0; p.shares.len()]).collect();
    }
    for (j, (profile, c)) in profiles.iter().zip(counts.iter_mut()).enumerate() {
        for &v in x.column(j) {
            if let Some(n) = c.get_mut(profile.bin(v)) {
                *n += 1;
            }
        }
        if c.iter().sum::<u64>() > DRIFT_MEMORY {
            c.iter_mut().for_each(|n| *n /= 2);
        }
    }
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}

/// The columns of a batch the credit-limit policy reads: amounts as they are when
/// decimal (money), else as text like the ratings and types, cast once per batch.
pub struct LimitColumns {
    invoicing: Option<ArrayRef>,
    open_balance: Option<ArrayRef>,
    credit_limit: Option<ArrayRef>,
    bureau_rating: Option<ArrayRef>,
    debtor_type: Option<ArrayRef>,
    invoicing_column: String,
    months: u32,
}

impl LimitColumns {
    /// The columns of `batch`: its typical month is `invoicing_column` / `months`, its
    /// exposure the open balance.
    pub fn new(batch: &RecordBatch, invoicing_column: &str, months: u32) -> LimitColumns {
        let text = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| cast(c, &DataType::Utf8).ok())
        };
        let amounts = |name: &str| match batch.column_by_name(name) {
            Some(c) if matches!(c.data_type(), DataType::Decimal128(_, s) if *s >= 0) => {
                Some(c.clone())
            }
            _ => text(name),
        };
        LimitColumns {
            invoicing: amounts(invoicing_column),
            open_balance: amounts("open_balance"),
            credit_limit: amounts("credit_limit"),
            bureau_rating: text("bureau_rating"),
            debtor_type: text("debtor_type"),
            invoicing_column: invoicing_column.to_owned(),
            months,
        }
    }

    /// What the limit policy needs of the debtor in `row`.
    pub fn inputs(
        &self,
        row: usize,
        risk_class: usize,
        risk_class_name: &str,
    ) -> Result<LimitInputs, PipelineError> {
        let invoicing = amount(self.invoicing.as_ref(), row).ok_or_else(|| {
            PipelineError::InvalidInput(format!(
                "no amount in column {} for the debtor's typical invoicing",
                self.invoicing_column
            ))
        })?;
        Ok(LimitInputs {
            risk_class,
            risk_class_name: risk_class_name.to_owned(),
            monthly_invoicing: invoicing / Decimal::from(self.months.max(1)),
            exposure: amount(self.open_balance.as_ref(), row).unwrap_or_default(),
            current_limit: amount(self.credit_limit.as_ref(), row),
            bureau_rating: text(self.bureau_rating.as_ref(), row),
            debtor_type: text(self.debtor_type.as_ref(), row),
        })
    }
}

fn text(column: Option<&ArrayRef>, row: usize) -> Option<String> {
    let c = column?.as_string::<i32>();
    c.is_valid(row).then(|| c.value(row).to_owned())
}

/// An amount of a decimal column, or of a text column holding a number; `None` when
/// missing or not a number [`Decimal`] can hold. A decimal [`Decimal`] cannot take as
/// it is (more than 28 places, or more digits) is read from its text, as a text column.
fn amount(column: Option<&ArrayRef>, row: usize) -> Option<Decimal> {
    let c = column?;
    match c.data_type() {
        DataType::Decimal128(precision, scale) if *scale >= 0 => {
            let values = c.as_primitive::<Decimal128Type>();
            if !values.is_valid(row) {
                return None;
            }
            let value = values.value(row);
            u32::try_from(*scale)
                .ok()
                .and_then(|s| Decimal::try_from_i128_with_scale(value, s).ok())
                .or_else(|| {
                    Decimal128Type::format_decimal(value, *precision, *scale)
                        .parse()
                        .ok()
                })
        }
        _ => text(column, row).and_then(|v| v.parse().ok()),
    }
}

/// The features batch with the [`AMOUNT_COLUMN`] a debtor is scored with: its average
/// invoice over 365 days (`invoiced_amount_365d / invoice_count_365d`), NULL without
/// invoices. A batch that has the column already is returned as it is.
pub fn with_amount(batch: RecordBatch) -> Result<RecordBatch, PipelineError> {
    if batch.column_by_name(AMOUNT_COLUMN).is_some() {
        return Ok(batch);
    }
    let as_f64 = |name: &str| -> Result<Option<ArrayRef>, PipelineError> {
        batch
            .column_by_name(name)
            .map(|c| cast(c, &DataType::Float64))
            .transpose()
            .map_err(|e| PipelineError::InvalidInput(format!("{name}: {e}")))
    };
    let rows = batch.num_rows();
    let average: Float64Array = match (
        as_f64("invoiced_amount_365d")?,
        as_f64("invoice_count_365d")?,
    ) {
        (Some(sum), Some(count)) => {
            let (sum, count) = (
                sum.as_primitive::<Float64Type>(),
                count.as_primitive::<Float64Type>(),
            );
            (0..rows)
                .map(|i| {
                    (sum.is_valid(i) && count.is_valid(i) && count.value(i) > 0.0)
                        .then(|| sum.value(i) / count.value(i))
                })
                .collect()
        }
        _ => (0..rows).map(|_| None).collect(),
    };
    with_column(batch, AMOUNT_COLUMN, average)
}

/// The batch with a nullable Float64 column added.
fn with_column(
    batch: RecordBatch,
    name: &str,
    values: Float64Array,
) -> Result<RecordBatch, PipelineError> {
    let mut fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(name, DataType::Float64, true));
    let mut columns = batch.columns().to_vec();
    columns.push(Arc::new(values));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| PipelineError::InvalidInput(format!("scoring rows: {e}")))
}

/// The schema rows are scored with: the features' output schema with the amount column
/// [`with_amount`] adds.
pub fn scoring_schema(features: &SchemaRef) -> Result<SchemaRef, PipelineError> {
    Ok(with_amount(RecordBatch::new_empty(features.clone()))?.schema())
}

/// Feature rows per evaluation at a score point.
pub(crate) fn chunks(slots: &[u32]) -> std::slice::Chunks<'_, u32> {
    slots.chunks(CHUNK)
}

/// Fewest debtors a thread scores at a score point: starting a thread costs tens of
/// microseconds, a debtor's features and score several.
pub const PART_MIN: usize = 64;

/// A chunk of a score point's debtors in the parts scored at once, one per thread: at
/// most `threads` parts of about equal size, none much under [`PART_MIN`] debtors (one
/// part when the chunk is small). Debtors are scored row by row, so the split changes no
/// score; the parts' results are put together in order.
pub(crate) fn parts(chunk: &[u32], threads: usize) -> std::slice::Chunks<'_, u32> {
    let n = threads.min(chunk.len() / PART_MIN).max(1);
    chunk.chunks(chunk.len().div_ceil(n).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(slots: &[u32]) -> BTreeSet<u32> {
        slots.iter().copied().collect()
    }

    #[test]
    fn a_chunk_is_split_into_parts_of_at_least_part_min_debtors_one_per_thread() {
        let chunk: Vec<u32> = (0..1000).collect();
        let sizes = |len: usize, threads: usize| -> Vec<usize> {
            let parts: Vec<&[u32]> = parts(&chunk[..len], threads).collect();
            assert_eq!(parts.concat(), &chunk[..len], "in order, each debtor once");
            parts.iter().map(|p| p.len()).collect()
        };
        assert_eq!(sizes(1000, 1), [1000]);
        assert_eq!(sizes(1000, 2), [500, 500]);
        assert_eq!(sizes(1000, 3), [334, 334, 332]);
        assert_eq!(
            sizes(2 * PART_MIN - 1, 2),
            [2 * PART_MIN - 1],
            "too few for two"
        );
        assert_eq!(sizes(2 * PART_MIN, 2), [PART_MIN, PART_MIN]);
        assert_eq!(
            sizes(200, MAX_THREADS),
            [67, 67, 66],
            "no more parts than the chunk holds 64-debtor shares"
        );
        assert_eq!(sizes(1, 4), [1]);
    }

    #[test]
    fn debtors_with_news_are_taken_before_those_whose_windows_only_slid() {
        let (mut pending, mut slid) = (BTreeSet::new(), BTreeSet::new());
        // 1 and 7 have news; 2, 3 and 9 only slid; 5 slid and has news.
        note_waiting(
            &mut pending,
            &mut slid,
            None,
            &[1, 2, 3, 5, 7, 9],
            &[2, 3, 9],
        );
        note_waiting(&mut pending, &mut slid, None, &[5], &[5]);
        note_waiting(&mut pending, &mut slid, None, &[5], &[]);
        assert_eq!(pending, set(&[1, 5, 7]));
        assert_eq!(slid, set(&[2, 3, 9]));
        // News for 3 moves it ahead; a slide of 1, which has news, changes nothing.
        note_waiting(&mut pending, &mut slid, None, &[1, 3], &[1]);
        assert_eq!(pending, set(&[1, 3, 5, 7]));
        assert_eq!(slid, set(&[2, 9]));

        let mut cursors = (0, 0);
        let mut take = |pending: &mut BTreeSet<u32>, slid: &mut BTreeSet<u32>, max| {
            take_waiting((pending, slid), &mut None, &mut cursors, max)
        };
        assert_eq!(take(&mut pending, &mut slid, 3), vec![1, 3, 5]);
        assert_eq!(take(&mut pending, &mut slid, 2), vec![2, 7]);
        assert_eq!(take(&mut pending, &mut slid, 5), vec![9]);
        assert!(pending.is_empty() && slid.is_empty());
        assert!(take(&mut pending, &mut slid, 5).is_empty());
    }

    #[test]
    fn debtors_are_taken_in_turn_so_that_none_waits_for_ever() {
        // Debtor 1 has news again before every score point; 2..=9 wait with news.
        let (mut pending, mut slid) = (set(&[1, 2, 3, 4, 5, 6, 7, 8, 9]), set(&[10, 11]));
        let mut cursors = (0, 0);
        let mut seen = Vec::new();
        for _ in 0..3 {
            let taken = take_waiting((&mut pending, &mut slid), &mut None, &mut cursors, 3);
            seen.push(taken);
            pending.insert(1);
        }
        assert_eq!(seen, vec![vec![1, 2, 3], vec![4, 5, 6], vec![7, 8, 9]]);
        // Round again: 1 (news), then the slid ones in turn.
        assert_eq!(
            take_waiting((&mut pending, &mut slid), &mut None, &mut cursors, 2),
            vec![1, 10]
        );
        assert_eq!(
            take_waiting((&mut pending, &mut slid), &mut None, &mut cursors, 2),
            vec![11]
        );
    }

    #[test]
    fn an_activation_re_scores_everyone_in_slices_after_the_news() {
        // An activation over 10 debtors: everyone is in the sweep, nobody else waits.
        let (mut pending, mut slid) = (BTreeSet::new(), BTreeSet::new());
        let mut sweep = Sweep::of(10);
        let mut cursors = (0, 0);
        let mut take = |pending: &mut BTreeSet<u32>, slid: &mut BTreeSet<u32>, sweep: &mut _| {
            take_waiting((pending, slid), sweep, &mut cursors, 4)
        };
        assert_eq!(take(&mut pending, &mut slid, &mut sweep), vec![0, 1, 2, 3]);
        // News of 1 (swept already) wait in `pending`, of 6 (not yet) in the sweep;
        // 12, a debtor the sweep does not cover, slid.
        note_waiting(&mut pending, &mut slid, sweep, &[1, 6, 12], &[12]);
        assert_eq!((pending.clone(), slid.clone()), (set(&[1]), set(&[12])));
        assert_eq!(sweep.map(Sweep::len), Some(6));
        // News first, then the sweep, then the slid.
        assert_eq!(take(&mut pending, &mut slid, &mut sweep), vec![1, 4, 5, 6]);
        assert_eq!(take(&mut pending, &mut slid, &mut sweep), vec![7, 8, 9, 12]);
        assert_eq!(sweep, None);
        assert!(pending.is_empty() && slid.is_empty());
        // Once the sweep is over, news of 6 wait as any other.
        note_waiting(&mut pending, &mut slid, sweep, &[6], &[]);
        assert_eq!(pending, set(&[6]));
        assert_eq!(Sweep::of(0), None);
    }

    #[test]
    fn take_from_wraps_around_at_any_size_and_cursor() {
        let all = [4, 8, 15, 16, 23];
        for start in [0, 8, 9, 23, 24] {
            for n in 0..7 {
                let mut s = set(&all);
                let mut cursor = start;
                let taken = take_from(&mut s, &mut cursor, n);
                let mut expected: Vec<u32> = all
                    .iter()
                    .filter(|&&x| x >= start)
                    .chain(all.iter().filter(|&&x| x < start))
                    .take(n)
                    .copied()
                    .collect();
                if n >= all.len() {
                    expected.sort_unstable();
                }
                assert_eq!(taken, expected, "start {start}, n = {n}");
                let rest: Vec<u32> = all.into_iter().filter(|x| !taken.contains(x)).collect();
                assert_eq!(
                    s.into_iter().collect::<Vec<_>>(),
                    rest,
                    "start {start}, n = {n}"
                );
            }
        }
    }

    #[test]
    fn limit_amounts_read_from_decimals_equal_those_read_as_text() {
        use datafusion::arrow::array::{Decimal128Array, StringArray};
        let money = Decimal128Array::from(vec![Some(1_234_500), None, Some(-7), Some(0)])
            .with_precision_and_scale(38, 2)
            .expect("a decimal type");
        let text = StringArray::from(vec![Some("12345.00"), None, Some("-0.07"), Some("0.00")]);
        let floats = Float64Array::from(vec![Some(12345.0), None, Some(-0.07), Some(0.0)]);
        let schema = Schema::new(vec![
            Field::new("invoiced", money.data_type().clone(), true),
            Field::new("open_balance", DataType::Utf8, true),
            Field::new("credit_limit", DataType::Float64, true),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![Arc::new(money), Arc::new(text), Arc::new(floats)],
        )
        .expect("a batch");
        let columns = LimitColumns::new(&batch, "invoiced", 1);
        for row in 0..4 {
            let decimal = amount(columns.invoicing.as_ref(), row);
            let parsed = amount(columns.open_balance.as_ref(), row);
            assert_eq!(decimal, parsed, "row {row}");
            // The same text, scale included, as the cast to text gave.
            assert_eq!(
                decimal.map(|d| d.to_string()),
                parsed.map(|d| d.to_string())
            );
            assert_eq!(
                amount(columns.credit_limit.as_ref(), row).is_some(),
                parsed.is_some()
            );
        }
        assert_eq!(
            amount(columns.invoicing.as_ref(), 0),
            Some(Decimal::new(1_234_500, 2))
        );
        // More places than Decimal holds: read from the text, as a text column would be.
        let fine = Decimal128Array::from(vec![Some(12_345_678_900_000_000_000_000_000_000_000)])
            .with_precision_and_scale(38, 30)
            .expect("a decimal type");
        let as_text = cast(&fine, &DataType::Utf8).expect("text");
        let expected: Option<Decimal> = super::text(Some(&as_text), 0).and_then(|t| t.parse().ok());
        assert!(expected.is_some());
        let fine: ArrayRef = Arc::new(fine);
        assert_eq!(amount(Some(&fine), 0), expected);
    }

    #[test]
    fn a_score_point_of_no_debtors_or_too_many_is_refused() {
        for (max_debtors, every_events) in [(0, 1000), (10_000_001, 1000), (99, 1000)] {
            let config = ScoringConfig {
                max_debtors,
                every_events,
                ..ScoringConfig::default()
            };
            let err = config.check().expect_err("refused").to_string();
            assert!(err.contains("score max debtors"), "{err}");
        }
        let tenth = ScoringConfig {
            max_debtors: 100,
            ..ScoringConfig::default()
        };
        assert!(tenth.check().is_ok());
        assert!(ScoringConfig::default().check().is_ok());
    }
}
