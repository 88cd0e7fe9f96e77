//! Dunning: a friendly reminder when an item turns overdue, unless at decision time the
//! item is paid, disputed or under a promise that is not broken. A reminder is never sent
//! for a paid or disputed invoice.

use chrono::NaiveDate;
use events::{Action, ActionKind, Money, Output};

use crate::config::DecisionConfig;
use crate::context::Context;

/// Why an overdue item gets no reminder now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderHeld {
    /// The ledger no longer knows the item.
    UnknownItem,
    /// Nothing is owed any more.
    NotOpen,
    /// The debtor disputes it.
    Disputed,
    /// A promise to pay covers it and is neither kept nor broken yet.
    UnderPromise,
}

/// Whether an overdue item may be reminded now, judged on the ledger's current state.
pub fn reminder_held(ledger: &ledger::Ledger, invoice_number: &str) -> Option<ReminderHeld> {
    let Some(item) = ledger.item(invoice_number) else {
        return Some(ReminderHeld::UnknownItem);
    };
    if !item.is_open() {
        Some(ReminderHeld::NotOpen)
    } else if item.is_disputed() {
        Some(ReminderHeld::Disputed)
    } else if ledger.open_promise_covering(invoice_number).is_some() {
        Some(ReminderHeld::UnderPromise)
    } else {
        None
    }
}

/// An item turned overdue: remind the debtor on its preferred channel.
pub(crate) fn item_overdue(
    ctx: &mut Context<'_>,
    config: &DecisionConfig,
    debtor_id: &str,
    invoice_number: &str,
    due_date: NaiveDate,
    days_past_due: i64,
) {
    if reminder_held(ctx.ledger, invoice_number).is_some() {
        return;
    }
    let Some(item) = ctx.ledger.item(invoice_number) else {
        return;
    };
    let open = Money::new(item.open_amount, item.currency);
    let channel = ctx
        .ledger
        .debtor(debtor_id)
        .and_then(|a| a.preferred_channel())
        .unwrap_or(config.default_channel);
    let days = if days_past_due == 1 {
        "1 day".to_owned()
    } else {
        format!("{days_past_due} days")
    };
    ctx.emit(
        Some(invoice_number),
        Some(debtor_id),
        Output::Action(Action {
            kind: ActionKind::Reminder,
            channel: Some(channel),
            tone: Some(config.reminder_tone),
            invoice_numbers: vec![invoice_number.to_owned()],
            summary: format!(
                "Remind debtor {debtor_id}: invoice {invoice_number} was due on {due_date} ({days} ago); {open} is open."
            ),
        }),
    );
}
