//! [`Decisions`]: the state kept between causes and the dispatch from each ledger effect
//! to the rule that handles it.

use std::collections::{BTreeMap, BTreeSet};

use events::{Envelope, InputEvent, Output, OutputEnvelope, StrategyActivated, TaskClosed};
use ledger::{AllocationKind, HashIndex, Ledger, LedgerEffect, Standing};
use serde::{Deserialize, Serialize};

use crate::config::DecisionConfig;
use crate::context::{Context, Policy};
use crate::credit_hold::Holds;
use crate::dunning::DunningBook;
use crate::plans::{PlanBook, PlanStatus};
use crate::strategy::Strategy;
use crate::task_list::{Closed, TaskList, closure_output};
use crate::{alerts, scores, tasks};

/// Turns ledger effects into alerts, actions, tasks and score updates. Deterministic: the
/// same causes, effects and ledger states give the same outputs with the same ids. The
/// state (last standing and score published per debtor, the strategy in force, the
/// dunning book, payment plans, credit holds, the task list) serialises with checkpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decisions {
    config: DecisionConfig,
    /// Last standing published per debtor.
    published: HashIndex<String, Standing>,
    /// Last model score published per debtor.
    #[serde(default)]
    scores: HashIndex<String, scores::ModelScore>,
    /// When each debtor's last class and limit alerts were raised.
    #[serde(default)]
    alert_memory: HashIndex<String, alerts::ScoreAlertMemory>,
    /// The strategy in force (the built-in one until a `strategy_activated` event).
    #[serde(default = "Strategy::builtin")]
    strategy: Strategy,
    /// Overdue items and their reminder schedule.
    #[serde(default)]
    dunning: DunningBook,
    /// Payment plans.
    #[serde(default)]
    plans: PlanBook,
    /// Debtors on credit hold.
    #[serde(default)]
    holds: Holds,
    /// Open and recently closed tasks.
    #[serde(default)]
    tasks: TaskList,
}

impl Decisions {
    /// Decisions with no history, following the built-in strategy.
    pub fn new(config: DecisionConfig) -> Decisions {
        Decisions {
            config,
            published: HashIndex::default(),
            scores: HashIndex::default(),
            alert_memory: HashIndex::default(),
            strategy: Strategy::builtin(),
            dunning: DunningBook::default(),
            plans: PlanBook::default(),
            holds: Holds::default(),
            tasks: TaskList::default(),
        }
    }

    /// The strategy in force.
    pub fn strategy(&self) -> &Strategy {
        &self.strategy
    }

    /// The task list.
    pub fn tasks(&self) -> &TaskList {
        &self.tasks
    }

    /// Whether a payment plan (offered or agreed) covers the invoice, and which.
    pub fn plan_status(&self, invoice_number: &str) -> Option<PlanStatus> {
        self.plans.status(invoice_number)
    }

    /// Whether the debtor is on credit hold.
    pub fn is_on_hold(&self, debtor_id: &str) -> bool {
        self.holds.is_on_hold(debtor_id)
    }

    /// Sizes of the workflow state: (overdue items in the dunning book, payment plans
    /// running, debtors on hold).
    pub fn workflow_sizes(&self) -> (usize, usize, usize) {
        (self.dunning.len(), self.plans.len(), self.holds.len())
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
    pub fn open_tasks(&self) -> BTreeMap<String, u64> {
        self.tasks.open_counts()
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
            let policy = Policy {
                strategy: &self.strategy,
                scores: &self.scores,
                config: &self.config,
            };
            self.holds
                .risk_class(&mut ctx, &policy, &s.debtor_id, &s.score.risk_class);
        }
        let outputs = ctx.into_outputs();
        self.tasks.record(&outputs);
        outputs
    }

    /// Decides on a `strategy_activated` event: the config is read and checked as a whole;
    /// taken, it is in force from the next event on (alert `strategy_activated`); refused,
    /// the strategy in force stays (alert `strategy_refused` with the file's error).
    fn decide_strategy_activation(
        &mut self,
        cause: &Envelope,
        activation: &StrategyActivated,
        ledger: &Ledger,
    ) -> Vec<OutputEnvelope> {
        let mut ctx = Context::new(cause, ledger);
        let source = format!("strategy {}", activation.version);
        let outcome = Strategy::parse(&source, &activation.config)
            .map_err(|e| e.to_string())
            .and_then(|s| {
                if s.version == activation.version {
                    Ok(s)
                } else {
                    Err(format!(
                        "the event activates version {} but the config says version = \"{}\"",
                        activation.version, s.version
                    ))
                }
            });
        let previous = self.strategy.version.clone();
        match outcome {
            Ok(strategy) => {
                let names: Vec<&str> = strategy.segments.iter().map(|s| s.name.as_str()).collect();
                let summary = format!(
                    "Strategy {} is in force (was {previous}), activated by {}{}; segments: {}.",
                    strategy.version,
                    activation.activated_by,
                    if activation.reason.trim().is_empty() {
                        String::new()
                    } else {
                        format!(": {}", activation.reason.trim())
                    },
                    names.join(", ")
                );
                alerts::strategy_activation(&mut ctx, &activation.version, None, summary);
                self.strategy = strategy;
            }
            Err(why) => {
                let summary = format!(
                    "Strategy {} activated by {} is refused: {why}. Strategy {previous} stays in force.",
                    activation.version, activation.activated_by
                );
                alerts::strategy_activation(&mut ctx, &activation.version, Some(&why), summary);
            }
        }
        ctx.into_outputs()
    }

    /// Decides on a `task_closed` event: the open task is closed (an output on the tasks
    /// subject says so). An unknown or already closed task changes nothing.
    fn decide_task_closed(
        &mut self,
        cause: &Envelope,
        closing: &TaskClosed,
        ledger: &Ledger,
    ) -> Vec<OutputEnvelope> {
        let mut ctx = Context::new(cause, ledger);
        let closed = Closed {
            closed_by: closing.closed_by.clone(),
            reason: closing.reason.clone(),
            closed_at: cause.event_time,
            event_id: cause.event_id.clone(),
        };
        close_task(&mut ctx, &mut self.tasks, &closing.task_id, closed);
        let outputs = ctx.into_outputs();
        self.tasks
            .prune(cause.event_time, self.config.closed_task_retention_days);
        outputs
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
        match &cause.event {
            InputEvent::StrategyActivated(a) => {
                return self.decide_strategy_activation(cause, a, ledger);
            }
            InputEvent::TaskClosed(c) => return self.decide_task_closed(cause, c, ledger),
            _ => {}
        }
        let mut ctx = Context::new(cause, ledger);
        // Calls loaded from a checkpoint are checked once, at the first event after.
        for task_id in self.tasks.take_calls_to_check() {
            close_call_if_nothing_owed(&mut ctx, &mut self.tasks, &task_id);
        }
        let mut standings_done: BTreeSet<&str> = BTreeSet::new();
        let policy = Policy {
            strategy: &self.strategy,
            scores: &self.scores,
            config: &self.config,
        };
        let today = ledger.clock().map(|c| c.date_naive());
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
                } => {
                    alerts::reversal_received(
                        &mut ctx,
                        payment_id,
                        debtor_id.as_deref(),
                        *amount,
                        reason_code,
                        reopened,
                    );
                    // An item that was overdue before it was paid does not turn overdue
                    // again: re-opened, it goes back into the dunning book here.
                    if let Some(today) = today {
                        for a in reopened {
                            if let Some(item) = ledger.item(&a.invoice_number)
                                && item.is_open()
                                && item.overdue
                            {
                                self.dunning.track(
                                    &a.invoice_number,
                                    &item.debtor_id,
                                    item.due_date,
                                    today,
                                );
                            }
                        }
                    }
                }
                LedgerEffect::DisputeOpened {
                    debtor_id,
                    invoice_number,
                    dispute_id,
                    amount,
                } => {
                    alerts::dispute_opened(&mut ctx, debtor_id, invoice_number, *amount);
                    let item = ledger.item(invoice_number);
                    let money = amount
                        .or_else(|| item.map(|i| i.open_amount))
                        .zip(item.map(|i| i.currency))
                        .map(|(a, c)| events::Money::new(a, c));
                    tasks::dispute_review(&mut ctx, debtor_id, invoice_number, dispute_id, money);
                }
                LedgerEffect::DisputeResolved {
                    invoice_number,
                    dispute_id,
                    outcome,
                    still_disputed: false,
                    ..
                } => {
                    for task_id in self
                        .tasks
                        .open_about(events::TaskKind::DisputeReview, invoice_number)
                    {
                        let closed = Closed {
                            closed_by: "dispute_resolved".to_owned(),
                            reason: format!(
                                "dispute {dispute_id} resolved: {}",
                                match outcome {
                                    events::DisputeOutcome::InvoiceUpheld => "the invoice stands",
                                    events::DisputeOutcome::DebtorUpheld => "the debtor is right",
                                    events::DisputeOutcome::Withdrawn => "withdrawn",
                                }
                            ),
                            closed_at: cause.event_time,
                            event_id: cause.event_id.clone(),
                        };
                        close_task(&mut ctx, &mut self.tasks, &task_id, closed);
                    }
                }
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
                } => self.holds.above_limit(
                    &mut ctx,
                    &policy,
                    debtor_id,
                    *open_balance,
                    *credit_limit,
                ),
                LedgerEffect::ExposureWithinLimit {
                    debtor_id,
                    open_balance,
                    credit_limit,
                } => self.holds.within_limit(
                    &mut ctx,
                    &policy,
                    debtor_id,
                    *open_balance,
                    *credit_limit,
                ),
                LedgerEffect::LimitOverridden {
                    debtor_id,
                    credit_limit,
                    previous,
                } if *credit_limit > self.config.limit_override_authority => {
                    let currency = ledger
                        .debtor(debtor_id)
                        .and_then(|a| a.currency)
                        .unwrap_or(events::Currency::EUR);
                    tasks::limit_override_review(
                        &mut ctx,
                        debtor_id,
                        events::Money::new(*credit_limit, currency),
                        *previous,
                        self.config.limit_override_authority,
                    );
                }
                LedgerEffect::InvoiceOpened {
                    debtor_id,
                    invoice_number,
                    amount,
                    due_date,
                } => self.plans.invoice_opened(
                    &mut ctx,
                    &policy,
                    debtor_id,
                    invoice_number,
                    *amount,
                    *due_date,
                ),
                LedgerEffect::PaymentApplied { allocations, .. } => {
                    for a in allocations {
                        if a.kind != AllocationKind::Payment {
                            continue;
                        }
                        if ledger.item(&a.invoice_number).is_some_and(|i| i.is_open()) {
                            self.plans.paid_in_part(&a.invoice_number);
                        }
                        self.plans.paid(&mut ctx, &policy, &a.invoice_number);
                    }
                }
                LedgerEffect::CreditNoteApplied {
                    invoice_number: Some(invoice_number),
                    ..
                } => self.plans.paid(&mut ctx, &policy, invoice_number),
                LedgerEffect::ItemSettled {
                    debtor_id,
                    invoice_number,
                    due_date,
                    settled_on,
                } => {
                    self.plans
                        .settled(debtor_id, invoice_number, *due_date, *settled_on);
                    self.dunning.forget(invoice_number);
                    close_calls_no_longer_needed(&mut ctx, &mut self.tasks, invoice_number);
                }
                LedgerEffect::ItemOverdue {
                    debtor_id,
                    invoice_number,
                    due_date,
                    ..
                } => {
                    if let Some(today) = today {
                        self.dunning
                            .track(invoice_number, debtor_id, *due_date, today);
                    }
                }
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
        // Time-driven decisions, on the ledger as it is after the cause.
        if let Some(today) = today {
            self.plans.run(&mut ctx, &policy, today);
            self.dunning.run(&mut ctx, &policy, &self.plans, today);
        }
        let outputs = ctx.into_outputs();
        self.tasks.record(&outputs);
        if let Some(now) = ledger.clock() {
            self.tasks
                .prune(now, self.config.closed_task_retention_days);
        }
        outputs
    }
}

/// Closes the open phone calls about a settled invoice once nothing they are about is
/// owed any more: nobody has to call for money already paid (or credited).
fn close_calls_no_longer_needed(ctx: &mut Context<'_>, tasks: &mut TaskList, invoice_number: &str) {
    for task_id in tasks.open_about(events::TaskKind::PhoneCall, invoice_number) {
        close_call_if_nothing_owed(ctx, tasks, &task_id);
    }
}

/// Closes an open phone call when none of its invoices is owed any more.
fn close_call_if_nothing_owed(ctx: &mut Context<'_>, tasks: &mut TaskList, task_id: &str) {
    let Some(invoices) = tasks.get(task_id).map(|t| t.invoice_numbers.clone()) else {
        return;
    };
    if invoices
        .iter()
        .any(|n| ctx.ledger.item(n).is_some_and(|i| i.is_open()))
    {
        return;
    }
    let closed = Closed {
        closed_by: "settled".to_owned(),
        reason: format!(
            "nothing is owed on {} any more; the call is not needed",
            if invoices.len() == 1 {
                format!("invoice {}", invoices[0])
            } else {
                format!("invoices {}", invoices.join(", "))
            }
        ),
        closed_at: ctx.cause.event_time,
        event_id: ctx.cause.event_id.clone(),
    };
    close_task(ctx, tasks, task_id, closed);
}

/// Closes an open task and publishes the closure.
fn close_task(ctx: &mut Context<'_>, tasks: &mut TaskList, task_id: &str, closed: Closed) {
    let Some(task) = tasks.close(task_id, closed.clone()) else {
        return;
    };
    let output = Output::Task(closure_output(task, &closed));
    let debtor_id = task.debtor_id.clone();
    ctx.emit_as("task_closed", Some(task_id), debtor_id.as_deref(), output);
}
