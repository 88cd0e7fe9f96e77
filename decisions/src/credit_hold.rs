//! Credit holds: exposure above the limit raises a high alert and blocks new orders;
//! back within the limit releases the block.

use events::{Action, ActionKind, Alert, AlertKind, Money, Output, Severity};
use rust_decimal::Decimal;

use crate::context::Context;

fn money(ctx: &Context<'_>, debtor_id: &str, amount: Decimal) -> Money {
    let currency = ctx
        .ledger
        .debtor(debtor_id)
        .and_then(|a| a.currency)
        .unwrap_or(events::Currency::EUR);
    Money::new(amount, currency)
}

/// Open balance rose above the limit: alert and hold.
pub(crate) fn above_limit(
    ctx: &mut Context<'_>,
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
    ctx.emit(
        Some(debtor_id),
        Some(debtor_id),
        Output::Action(Action {
            kind: ActionKind::CreditHold,
            channel: None,
            tone: None,
            invoice_numbers: Vec::new(),
            summary: format!(
                "Block new orders for debtor {debtor_id}: open balance {open} above limit {limit}."
            ),
        }),
    );
}

/// Open balance is back within the limit: release the hold.
pub(crate) fn within_limit(
    ctx: &mut Context<'_>,
    debtor_id: &str,
    open_balance: Decimal,
    credit_limit: Decimal,
) {
    let open = money(ctx, debtor_id, open_balance);
    let limit = money(ctx, debtor_id, credit_limit);
    ctx.emit(
        Some(debtor_id),
        Some(debtor_id),
        Output::Action(Action {
            kind: ActionKind::CreditHoldReleased,
            channel: None,
            tone: None,
            invoice_numbers: Vec::new(),
            summary: format!("Lift the credit hold on debtor {debtor_id}: open balance {open} within limit {limit}."),
        }),
    );
}
