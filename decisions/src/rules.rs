//! [`Decisions`]: the state kept between causes and the dispatch from each ledger effect
//! to the rule that handles it.

use std::collections::{BTreeMap, BTreeSet};

use events::{Envelope, OutputEnvelope};
use ledger::{Ledger, LedgerEffect, Standing};
use serde::{Deserialize, Serialize};

use crate::config::DecisionConfig;
use crate::context::Context;
use crate::{alerts, credit_hold, dunning, scores, tasks};

/// Turns ledger effects into alerts, actions, tasks and score updates. Deterministic: the
/// same causes, effects and ledger states give the same outputs with the same ids. The
/// state (the last standing published per debtor) serialises with checkpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decisions {
    config: DecisionConfig,
    /// Last standing published per debtor.
    published: BTreeMap<String, Standing>,
    /// Last model score published per debtor.
    #[serde(default)]
    scores: BTreeMap<String, scores::ModelScore>,
    /// When each debtor's last class and limit alerts were raised.
    #[serde(default)]
    alert_memory: BTreeMap<String, alerts::ScoreAlertMemory>,
    /// Tasks published and not closed, by kind. (Nothing closes a task yet: tasks are
    /// closed by people through the task API, to come.)
    #[serde(default)]
    open_tasks: BTreeMap<String, u64>,
}

impl Decisions {
    /// Decisions with no history.
    pub fn new(config: DecisionConfig) -> Decisions {
        Decisions {
            config,
            published: BTreeMap::new(),
            scores: BTreeMap::new(),
            open_tasks: BTreeMap::new(),
            alert_memory: BTreeMap::new(),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &DecisionConfig {
        &self.config
    }

    /// The last standing published for a debtor.
    pub fn last_published(&self, debtor_id: &str) -> Option<&Standing> {
        self.published.get(debtor_id)
    }

    /// Tasks published and not closed, by kind.
    pub fn open_tasks(&self) -> &BTreeMap<String, u64> {
        &self.open_tasks
    }

    /// Debtors by the risk class of their last published score.
    pub fn risk_class_counts(&self) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for s in self.scores.values() {
            *counts.entry(s.risk_class.clone()).or_insert(0) += 1;
        }
        counts
    }

    /// The last model score published for a debtor.
    pub fn last_score(&self, debtor_id: &str) -> Option<&scores::ModelScore> {
        self.scores.get(debtor_id)
    }

    /// Decides on the scores of a score point caused by `cause` (the event that completed
    /// it): a score update for each debtor whose score moved meaningfully since the last
    /// one published (see [`scores::is_meaningful_score_change`]), with its standing as it
    /// is now, and the alerts the move calls for (risk class changed, limit change
    /// recommended, new debtor high-risk). Ids are
    /// `model_score:<cause event id>:<debtor id>` and `<alert>:<cause>:<debtor>`.
    pub fn decide_scores(
        &mut self,
        cause: &Envelope,
        scored: &[scores::Scored],
        ledger: &Ledger,
    ) -> Vec<OutputEnvelope> {
        let mut ctx = Context::new(cause, ledger);
        for s in scored {
            let previous = self.scores.get(&s.debtor_id);
            if previous.is_some_and(|p| {
                !scores::is_meaningful_score_change(p, &s.score, self.config.min_probability_change)
            }) {
                continue;
            }
            let Some(standing) = ledger.standing(&s.debtor_id) else {
                continue;
            };
            let reason = scores::score_change_reason(previous, &s.score, &s.explanation);
            // Kept only for debtors that were alerted: most never are.
            let before = self.alert_memory.get(&s.debtor_id);
            let mut memory = before.cloned().unwrap_or_default();
            alerts::score_alerts(
                &mut ctx,
                &self.config,
                &mut memory,
                &s.debtor_id,
                &standing,
                previous,
                &s.score,
                &s.explanation,
            );
            if before != Some(&memory) && memory != alerts::ScoreAlertMemory::default() {
                self.alert_memory.insert(s.debtor_id.clone(), memory);
            }
            scores::score_update(
                &mut ctx,
                "model_score",
                &s.debtor_id,
                &standing,
                Some(&s.score),
                reason,
            );
            self.scores.insert(s.debtor_id.clone(), s.score.clone());
            self.published.insert(s.debtor_id.clone(), standing);
        }
        ctx.into_outputs()
    }

    /// The alert on a model activation (`cause`): taken, or refused with the reason (the
    /// models in use stay). `summary` says what happened in words.
    pub fn decide_model_activation(
        &mut self,
        cause: &Envelope,
        ledger: &Ledger,
        version: &str,
        refusal: Option<&str>,
        summary: String,
    ) -> Vec<OutputEnvelope> {
        let mut ctx = Context::new(cause, ledger);
        alerts::model_activation(&mut ctx, version, refusal, summary);
        ctx.into_outputs()
    }

    /// `cause` is the input event whose processing produced `effects` (including the
    /// effects of `advance_to` called just before applying it); `ledger` is the state after
    /// it. Returns the outputs in effect order; ids are `<kind>:<cause event id>` with a
    /// discriminator (invoice number, debtor id, promise id) for rules that can fire more
    /// than once per cause.
    pub fn decide(
        &mut self,
        cause: &Envelope,
        effects: &[LedgerEffect],
        ledger: &Ledger,
    ) -> Vec<OutputEnvelope> {
        let mut ctx = Context::new(cause, ledger);
        let mut standings_done: BTreeSet<&str> = BTreeSet::new();
        for effect in effects {
            match effect {
                LedgerEffect::PaymentUnmatched {
                    payment_id,
                    amount,
                    reason,
                    debtor_id,
                    candidates,
                    candidate_invoices,
                } => tasks::unmatched_payment(
                    &mut ctx,
                    tasks::Unmatched {
                        payment_id,
                        amount: *amount,
                        reason: *reason,
                        debtor_id: debtor_id.as_deref(),
                        candidates,
                        candidate_invoices,
                    },
                ),
                LedgerEffect::ReversalUnknown {
                    payment_id,
                    debtor_id,
                    amount,
                    reason_code,
                } => tasks::unknown_reversal(
                    &mut ctx,
                    payment_id,
                    debtor_id.as_deref(),
                    *amount,
                    reason_code,
                ),
                LedgerEffect::CurrencyMismatch {
                    payment_id,
                    debtor_id,
                    amount,
                    expected,
                    invoice_numbers,
                } => tasks::currency_mismatch(
                    &mut ctx,
                    payment_id,
                    debtor_id.as_deref(),
                    *amount,
                    *expected,
                    invoice_numbers,
                ),
                LedgerEffect::PaymentReversed {
                    payment_id,
                    debtor_id,
                    amount,
                    reason_code,
                    reopened,
                    ..
                } => alerts::reversal_received(
                    &mut ctx,
                    payment_id,
                    debtor_id.as_deref(),
                    *amount,
                    reason_code,
                    reopened,
                ),
                LedgerEffect::DisputeOpened {
                    debtor_id,
                    invoice_number,
                    amount,
                    ..
                } => alerts::dispute_opened(&mut ctx, debtor_id, invoice_number, *amount),
                LedgerEffect::PromiseBroken {
                    debtor_id,
                    promise_id,
                    promised_date,
                    amount,
                    paid,
                } => alerts::promise_broken(
                    &mut ctx,
                    debtor_id,
                    promise_id,
                    *promised_date,
                    *amount,
                    *paid,
                ),
                LedgerEffect::ExposureAboveLimit {
                    debtor_id,
                    open_balance,
                    credit_limit,
                } => credit_hold::above_limit(&mut ctx, debtor_id, *open_balance, *credit_limit),
                LedgerEffect::ExposureWithinLimit {
                    debtor_id,
                    open_balance,
                    credit_limit,
                } => credit_hold::within_limit(&mut ctx, debtor_id, *open_balance, *credit_limit),
                LedgerEffect::ItemOverdue {
                    debtor_id,
                    invoice_number,
                    due_date,
                    days_past_due,
                    ..
                } => dunning::item_overdue(
                    &mut ctx,
                    &self.config,
                    debtor_id,
                    invoice_number,
                    *due_date,
                    *days_past_due,
                ),
                LedgerEffect::StandingChanged { debtor_id } => {
                    // Judged once per debtor per cause, on the state after the cause.
                    if !standings_done.insert(debtor_id) {
                        continue;
                    }
                    let Some(standing) = ledger.standing(debtor_id) else {
                        continue;
                    };
                    let previous = self.published.get(debtor_id.as_str());
                    if self.config.score_updates_only_on_change
                        && previous.is_some_and(|p| !scores::is_meaningful_change(p, &standing))
                    {
                        continue;
                    }
                    let reason = scores::standing_change_reason(previous, &standing);
                    scores::score_update(
                        &mut ctx,
                        "score_update",
                        debtor_id,
                        &standing,
                        self.scores.get(debtor_id.as_str()),
                        reason,
                    );
                    self.published.insert(debtor_id.clone(), standing);
                }
                _ => {}
            }
        }
        let outputs = ctx.into_outputs();
        for o in &outputs {
            if let events::Output::Task(t) = &o.output {
                *self
                    .open_tasks
                    .entry(t.kind.as_str().to_owned())
                    .or_insert(0) += 1;
            }
        }
        outputs
    }
}
