//! Tasks: the exceptions a person must decide (a payment nobody could match or that fits
//! several invoices, a reversal of an unknown payment, a payment in the wrong currency).

use events::{InputEvent, Money, Output, Task, TaskKind};
use ledger::UnmatchedReason;

use crate::context::Context;

/// What the ledger says about a payment it could not apply on its own.
pub(crate) struct Unmatched<'a> {
    pub(crate) payment_id: &'a str,
    pub(crate) amount: Money,
    pub(crate) reason: UnmatchedReason,
    pub(crate) debtor_id: Option<&'a str>,
    pub(crate) candidates: &'a [String],
    pub(crate) candidate_invoices: &'a [String],
}

/// A payment no rule could apply unambiguously: a task listing the candidate debtors
/// (unknown payer) or the candidate invoices (ambiguous reference, amount, combination).
pub(crate) fn unmatched_payment(ctx: &mut Context<'_>, u: Unmatched<'_>) {
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
    let (payment_id, amount) = (u.payment_id, u.amount);
    let (summary, candidates) = if u.reason == UnmatchedReason::UnknownPayer {
        let hint = match u.candidates.len() {
            0 => "no debtor has an open item of this amount".to_owned(),
            1 => format!("debtor {} has an open item of this amount", u.candidates[0]),
            n => format!("{n} debtors have an open item of this amount"),
        };
        (
            format!(
                "Payment {payment_id} of {amount} from {payer}{text} matches no invoice; {hint}. Find the debtor and apply it."
            ),
            u.candidates.to_vec(),
        )
    } else {
        let debtor = u
            .debtor_id
            .map(|d| format!(" of debtor {d}"))
            .unwrap_or_default();
        let why = match u.reason {
            UnmatchedReason::AmbiguousReference => "its reference fits several invoices",
            UnmatchedReason::AmbiguousAmount => "its amount fits several invoices",
            UnmatchedReason::AmbiguousCombination => {
                "several sets of open invoices add up to its amount"
            }
            _ => "there are too many open invoices to tell which add up to its amount",
        };
        let listed = if u.candidate_invoices.is_empty() {
            String::new()
        } else {
            format!(" ({})", u.candidate_invoices.join(", "))
        };
        (
            format!(
                "Payment {payment_id} of {amount} from {payer}{text} is not applied: {why}{debtor}{listed}. Decide which invoices it pays."
            ),
            u.candidate_invoices.to_vec(),
        )
    };
    ctx.emit(
        None,
        u.debtor_id,
        Output::Task(Task {
            kind: TaskKind::UnmatchedPayment,
            summary,
            payment_id: Some(payment_id.to_owned()),
            amount: Some(amount),
            candidates,
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
