//! Alerts for credit managers: a reversal received, a dispute opened, a promise broken.
//! (Exposure alerts live with the credit hold they come with, in `credit_hold`.)

use chrono::NaiveDate;
use events::{Alert, AlertKind, InputEvent, Money, Output, Severity};
use ledger::Allocation;
use rust_decimal::Decimal;

use crate::context::Context;
use crate::reason_codes::describe_reason_code;

/// A known payment was taken back.
pub(crate) fn reversal_received(
    ctx: &mut Context<'_>,
    payment_id: &str,
    debtor_id: Option<&str>,
    amount: Money,
    reason_code: &str,
    reopened: &[Allocation],
) {
    let who = debtor_id
        .map(|d| format!(" by debtor {d}"))
        .unwrap_or_default();
    let reopened_text = if reopened.is_empty() {
        String::new()
    } else {
        // An invoice appears twice when the payment also wrote its rest off.
        let mut numbers: Vec<&str> = Vec::with_capacity(reopened.len());
        for a in reopened {
            if !numbers.contains(&a.invoice_number.as_str()) {
                numbers.push(&a.invoice_number);
            }
        }
        format!("; invoice(s) {} open again", numbers.join(", "))
    };
    let summary = format!(
        "Payment {payment_id} of {amount}{who} was reversed: {}{reopened_text}.",
        describe_reason_code(reason_code)
    );
    ctx.emit(
        None,
        debtor_id,
        Output::Alert(Alert {
            kind: AlertKind::ReversalReceived,
            severity: Severity::Warning,
            summary,
            amount: Some(amount),
            reference: Some(payment_id.to_owned()),
        }),
    );
}

/// A debtor disputes an invoice.
pub(crate) fn dispute_opened(
    ctx: &mut Context<'_>,
    debtor_id: &str,
    invoice_number: &str,
    disputed: Option<Decimal>,
) {
    let item = ctx.ledger.item(invoice_number);
    let currency = item.map(|i| i.currency).unwrap_or(events::Currency::EUR);
    let amount = disputed
        .or_else(|| item.map(|i| i.open_amount))
        .map(|a| Money::new(a, currency));
    let part = match (disputed, amount) {
        (Some(_), Some(a)) => format!(" ({a} of it)"),
        _ => String::new(),
    };
    let reason = match &ctx.cause.event {
        InputEvent::DisputeOpened(d) if !d.reason.trim().is_empty() => {
            format!(": {}", d.reason.trim())
        }
        _ => String::new(),
    };
    let summary = format!(
        "Debtor {debtor_id} disputes invoice {invoice_number}{part}{reason}; reminders for it are held."
    );
    ctx.emit(
        None,
        Some(debtor_id),
        Output::Alert(Alert {
            kind: AlertKind::DisputeOpened,
            severity: Severity::Info,
            summary,
            amount,
            reference: Some(invoice_number.to_owned()),
        }),
    );
}

/// A promise to pay passed its date without the money.
pub(crate) fn promise_broken(
    ctx: &mut Context<'_>,
    debtor_id: &str,
    promise_id: &str,
    promised_date: NaiveDate,
    amount: Money,
    paid: Decimal,
) {
    let summary = format!(
        "Debtor {debtor_id} promised {amount} by {promised_date} and paid {} {paid} since; promise {promise_id} is broken.",
        amount.currency
    );
    ctx.emit(
        Some(promise_id),
        Some(debtor_id),
        Output::Alert(Alert {
            kind: AlertKind::PromiseBroken,
            severity: Severity::Warning,
            summary,
            amount: Some(amount),
            reference: Some(promise_id.to_owned()),
        }),
    );
}

/// A model activation was taken (`refusal` is `None`) or refused: said to credit managers
/// and operators, with the version in `reference`.
pub(crate) fn model_activation(
    ctx: &mut Context<'_>,
    version: &str,
    refusal: Option<&str>,
    summary: String,
) {
    let (kind, severity) = match refusal {
        None => (AlertKind::ModelActivated, Severity::Info),
        Some(_) => (AlertKind::ModelRefused, Severity::High),
    };
    ctx.emit(
        None,
        None,
        Output::Alert(Alert {
            kind,
            severity,
            summary,
            amount: None,
            reference: Some(version.to_owned()),
        }),
    );
}
