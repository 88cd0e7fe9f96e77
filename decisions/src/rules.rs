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
}

impl Decisions {
    /// Decisions with no history.
    pub fn new(config: DecisionConfig) -> Decisions {
        Decisions {
            config,
            published: BTreeMap::new(),
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
                    scores::score_update(&mut ctx, debtor_id, previous, &standing);
                    self.published.insert(debtor_id.clone(), standing);
                }
                _ => {}
            }
        }
        ctx.into_outputs()
    }
}
