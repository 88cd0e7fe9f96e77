//! Credit holds: exposure above the limit always raises a high alert; whether it also
//! blocks new orders, and whether a risk class does, is the segment's `credit_hold` rule.
//! A debtor is on hold while either reason holds; the hold is lifted when neither does.

use events::{Action, ActionKind, Alert, AlertKind, Money, Output, Severity};
use ledger::HashIndex;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::context::{Context, Policy};

/// Why a debtor is on hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Hold {
    above_limit: bool,
    risk_class: bool,
}

impl Hold {
    fn on(self) -> bool {
        self.above_limit || self.risk_class
    }
}

/// Debtors on hold and why (looked up by debtor, never walked: a hash index, written in
/// key order).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Holds(HashIndex<String, Hold>);

fn money(ctx: &Context<'_>, debtor_id: &str, amount: Decimal) -> Money {
    let currency = ctx
        .ledger
        .debtor(debtor_id)
        .and_then(|a| a.currency)
        .unwrap_or(events::Currency::EUR);
    Money::new(amount, currency)
}

impl Holds {
    /// Debtors on hold.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether a debtor is on hold.
    pub(crate) fn is_on_hold(&self, debtor_id: &str) -> bool {
        self.0.contains_key(debtor_id)
    }

    /// Applies a change of one reason and says the transition, if any.
    fn set(
        &mut self,
        ctx: &mut Context<'_>,
        policy: &Policy<'_>,
        debtor_id: &str,
        change: impl FnOnce(&mut Hold),
        why: String,
    ) {
        let before = self.0.get(debtor_id).copied().unwrap_or_default();
        let mut after = before;
        change(&mut after);
        if after.on() {
            self.0.insert(debtor_id.to_owned(), after);
        } else {
            self.0.remove(debtor_id);
        }
        let segment = policy.segment(ctx.ledger, debtor_id);
        let (kind, summary) = match (before.on(), after.on()) {
            (false, true) => (
                ActionKind::CreditHold,
                format!("Block new orders for debtor {debtor_id}: {why}."),
            ),
            (true, false) => (
                ActionKind::CreditHoldReleased,
                format!("Lift the credit hold on debtor {debtor_id}: {why}."),
            ),
            _ => return,
        };
        ctx.emit(
            Some(debtor_id),
            Some(debtor_id),
            Output::Action(Action {
                kind,
                channel: None,
                tone: None,
                invoice_numbers: Vec::new(),
                payment_term_days: None,
                installments: Vec::new(),
                summary,
                reason: policy.reason("credit_hold", debtor_id, Some(segment), None),
            }),
        );
    }

    /// Open balance rose above the limit: a high alert, and a hold where the segment says.
    pub(crate) fn above_limit(
        &mut self,
        ctx: &mut Context<'_>,
        policy: &Policy<'_>,
        debtor_id: &str,
        open_balance: Decimal,
        credit_limit: Decimal,
    ) {
        let open = money(ctx, debtor_id, open_balance);
        let limit = money(ctx, debtor_id, credit_limit);
        ctx.emit(
            Some(debtor_id),
            Some(debtor_id),
            Output::Alert(Alert {
                kind: AlertKind::ExposureAboveLimit,
                severity: Severity::High,
                summary: format!(
                    "Debtor {debtor_id}'s open balance {open} is above its credit limit {limit}."
                ),
                amount: Some(open),
                reference: None,
            }),
        );
        if policy
            .segment(ctx.ledger, debtor_id)
            .credit_hold
            .above_limit
        {
            self.set(
                ctx,
                policy,
                debtor_id,
                |h| h.above_limit = true,
                format!("open balance {open} above limit {limit}"),
            );
        }
    }

    /// Open balance is back within the limit: that reason for a hold is gone.
    pub(crate) fn within_limit(
        &mut self,
        ctx: &mut Context<'_>,
        policy: &Policy<'_>,
        debtor_id: &str,
        open_balance: Decimal,
        credit_limit: Decimal,
    ) {
        let open = money(ctx, debtor_id, open_balance);
        let limit = money(ctx, debtor_id, credit_limit);
        self.set(
            ctx,
            policy,
            debtor_id,
            |h| h.above_limit = false,
            format!("open balance {open} within limit {limit}"),
        );
    }

    /// The debtor's risk class is now `class`: on hold while the segment lists it.
    pub(crate) fn risk_class(
        &mut self,
        ctx: &mut Context<'_>,
        policy: &Policy<'_>,
        debtor_id: &str,
        class: &str,
    ) {
        let segment = policy.segment(ctx.ledger, debtor_id);
        let hold = segment.credit_hold.risk_classes.iter().any(|c| c == class);
        let why = if hold {
            format!(
                "risk class {class} is held in segment \"{}\" of strategy {}",
                segment.name, policy.strategy.version
            )
        } else {
            format!("risk class {class} is not held")
        };
        self.set(ctx, policy, debtor_id, |h| h.risk_class = hold, why);
    }
}
