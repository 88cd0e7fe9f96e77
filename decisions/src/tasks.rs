//! Tasks: the exceptions a person must decide (a payment nobody could match or that fits
//! several invoices, a reversal of an unknown payment, a payment in the wrong currency, a
//! dispute, a limit set by hand above the authority level). Phone calls of a dunning
//! schedule and broken payment plans are tasks too; they are made in `dunning` and
//! `plans`. The list of open tasks and their closing live in `task_list`.

use events::{InputEvent, Money, Output, Task, TaskKind};
use ledger::UnmatchedReason;
use rust_decimal::Decimal;

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
            invoice_numbers: Vec::new(),
            closure: None,
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
            invoice_numbers: Vec::new(),
            closure: None,
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
            invoice_numbers: Vec::new(),
            closure: None,
        }),
    );
}

/// A debtor disputes an invoice: someone decides whether it stands (reminders for it are
/// held meanwhile). Closed by the dispute's resolution or by a person.
pub(crate) fn dispute_review(
    ctx: &mut Context<'_>,
    debtor_id: &str,
    invoice_number: &str,
    dispute_id: &str,
    amount: Option<Money>,
) {
    let what = match amount {
        Some(a) => format!(" ({a})"),
        None => String::new(),
    };
    let reason = match &ctx.cause.event {
        InputEvent::DisputeOpened(d) if !d.reason.trim().is_empty() => {
            format!(
                " The debtor says: {}.",
                d.reason.trim().trim_end_matches('.')
            )
        }
        _ => String::new(),
    };
    ctx.emit(
        Some(dispute_id),
        Some(debtor_id),
        Output::Task(Task {
            kind: TaskKind::DisputeReview,
            summary: format!(
                "Debtor {debtor_id} disputes invoice {invoice_number}{what} (dispute {dispute_id}).{reason} Decide whether the invoice stands, then resolve the dispute."
            ),
            payment_id: None,
            amount,
            candidates: Vec::new(),
            invoice_numbers: vec![invoice_number.to_owned()],
            closure: None,
        }),
    );
}

/// A limit set by hand above the authority level: a second person confirms or corrects
/// it (the override is in force meanwhile).
pub(crate) fn limit_override_review(
    ctx: &mut Context<'_>,
    debtor_id: &str,
    limit: Money,
    previous: Option<Decimal>,
    authority: Decimal,
) {
    let (by, why) = match &ctx.cause.event {
        InputEvent::LimitOverride(o) => (o.set_by.clone(), o.reason.clone()),
        _ => ("someone".to_owned(), String::new()),
    };
    let was = previous
        .map(|p| format!(" (was {} {p})", limit.currency))
        .unwrap_or_default();
    ctx.emit(
        Some(debtor_id),
        Some(debtor_id),
        Output::Task(Task {
            kind: TaskKind::LimitOverrideReview,
            summary: format!(
                "{by} set debtor {debtor_id}'s credit limit to {limit}{was}, above the authority level of {} {authority}: confirm it or set it back. Reason given: {why}",
                limit.currency
            ),
            payment_id: None,
            amount: Some(limit),
            candidates: Vec::new(),
            invoice_numbers: Vec::new(),
            closure: None,
        }),
    );
}
