//! Tasks: the exceptions a person must decide (a payment nobody could match, a reversal of
//! an unknown payment, a payment in the wrong currency).

use events::{InputEvent, Money, Output, Task, TaskKind};

use crate::context::Context;

/// A payment no rule could apply: a task listing the candidate debtors.
pub(crate) fn unmatched_payment(
    ctx: &mut Context<'_>,
    payment_id: &str,
    amount: Money,
    candidates: &[String],
) {
    let payer = match &ctx.cause.event {
        InputEvent::PaymentReceived(p) => p
            .counterparty_name
            .clone()
            .or_else(|| p.counterparty_iban.clone())
            .unwrap_or_else(|| "an unknown payer".to_owned()),
        _ => "an unknown payer".to_owned(),
    };
    let text = match &ctx.cause.event {
        InputEvent::PaymentReceived(p) => p
            .remittance_text
            .as_deref()
            .or(p.structured_reference.as_deref())
            .map(|t| format!(" with reference \"{t}\""))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let hint = match candidates.len() {
        0 => "no debtor has an open item of this amount".to_owned(),
        1 => format!("debtor {} has an open item of this amount", candidates[0]),
        n => format!("{n} debtors have an open item of this amount"),
    };
    let summary = format!(
        "Payment {payment_id} of {amount} from {payer}{text} matches no invoice; {hint}. Find the debtor and apply it."
    );
    ctx.emit(
        None,
        None,
        Output::Task(Task {
            kind: TaskKind::UnmatchedPayment,
            summary,
            payment_id: Some(payment_id.to_owned()),
            amount: Some(amount),
            candidates: candidates.to_vec(),
        }),
    );
}

/// A reversal naming a payment the ledger does not know.
pub(crate) fn unknown_reversal(
    ctx: &mut Context<'_>,
    payment_id: &str,
    debtor_id: Option<&str>,
    amount: Money,
    reason_code: &str,
) {
    let summary = format!(
        "A reversal of {amount} ({}) names payment {payment_id}, which the ledger does not know; find the original payment.",
        crate::reason_codes::describe_reason_code(reason_code)
    );
    ctx.emit(
        None,
        debtor_id,
        Output::Task(Task {
            kind: TaskKind::UnknownReversal,
            summary,
            payment_id: Some(payment_id.to_owned()),
            amount: Some(amount),
            candidates: debtor_id.map(str::to_owned).into_iter().collect(),
        }),
    );
}

/// A payment in another currency than the items (or account) it refers to.
pub(crate) fn currency_mismatch(
    ctx: &mut Context<'_>,
    payment_id: &str,
    debtor_id: Option<&str>,
    amount: Money,
    expected: events::Currency,
    invoice_numbers: &[String],
) {
    let target = if invoice_numbers.is_empty() {
        match debtor_id {
            Some(d) => format!("the account of debtor {d}"),
            None => "an account".to_owned(),
        }
    } else {
        format!("invoice(s) {}", invoice_numbers.join(", "))
    };
    let summary = format!(
        "Payment {payment_id} of {amount} refers to {target} in {expected}; convert and apply it by hand."
    );
    ctx.emit(
        None,
        debtor_id,
        Output::Task(Task {
            kind: TaskKind::CurrencyMismatch,
            summary,
            payment_id: Some(payment_id.to_owned()),
            amount: Some(amount),
            candidates: invoice_numbers.to_vec(),
        }),
    );
}
