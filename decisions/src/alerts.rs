//! Alerts for credit managers: a reversal received, a dispute opened, a promise broken, a
//! model activated or refused, and on a debtor's new score: its risk class changed, its
//! recommended limit moved, a new debtor starts high-risk. (Exposure alerts live with the
//! credit hold they come with, in `credit_hold`.)

use chrono::NaiveDate;
use events::{Alert, AlertKind, InputEvent, Money, Output, Severity};
use ledger::{Allocation, Standing};
use rust_decimal::Decimal;

use crate::config::DecisionConfig;
use crate::context::Context;
use crate::reason_codes::describe_reason_code;
use crate::scores::ModelScore;

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
    activation(ctx, kind, severity, version, summary);
}

/// A strategy activation was taken (`refusal` is `None`) or refused, with the version in
/// `reference`.
pub(crate) fn strategy_activation(
    ctx: &mut Context<'_>,
    version: &str,
    refusal: Option<&str>,
    summary: String,
) {
    let (kind, severity) = match refusal {
        None => (AlertKind::StrategyActivated, Severity::Info),
        Some(_) => (AlertKind::StrategyRefused, Severity::High),
    };
    activation(ctx, kind, severity, version, summary);
}

fn activation(
    ctx: &mut Context<'_>,
    kind: AlertKind,
    severity: Severity,
    version: &str,
    summary: String,
) {
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

/// Alerts on a debtor's new model score against the last one published: its risk class
/// changed, its recommended limit moved beyond the configured share of the limit in force,
/// or — a debtor's first score outside a model activation — it starts in a high-risk
/// class. A model swap changes every score at once, so a score from another model version
/// than the last raises nothing (the activation has its own alert).
///
/// A debtor whose score hovers around a class cut-off or the edge of the limit band would
/// raise an alert at every crossing: after a class (or limit) alert, the next one for the
/// debtor waits `alert_quiet_days` of event time, except a move into a high-risk class.
#[allow(clippy::too_many_arguments)]
pub(crate) fn score_alerts(
    ctx: &mut Context<'_>,
    config: &DecisionConfig,
    memory: &mut ScoreAlertMemory,
    debtor_id: &str,
    standing: &Standing,
    previous: Option<&ModelScore>,
    now: &ModelScore,
    explanation: &str,
) {
    let activation = matches!(ctx.cause.event, InputEvent::ModelActivated(_));
    let today = ctx.cause.event_time.date_naive();
    let quiet = |last: Option<NaiveDate>| {
        last.is_some_and(|d| (today - d).num_days() < config.alert_quiet_days)
    };
    let context = format!(
        "open balance {}, overdue {}, limit {}",
        standing.open_balance.normalize(),
        standing.overdue_balance.normalize(),
        standing
            .credit_limit
            .map_or("none".to_owned(), |l| l.normalize().to_string())
    );
    let percent = |p: f64| format!("{:.1} %", p * 100.0);
    let money = |v: Decimal| Money::new(v, standing.currency);
    match previous {
        None => {
            if !activation && config.high_risk_classes.contains(&now.risk_class) {
                ctx.emit(
                    Some(debtor_id),
                    Some(debtor_id),
                    Output::Alert(Alert {
                        kind: AlertKind::NewDebtorHighRisk,
                        severity: Severity::High,
                        summary: format!(
                            "New debtor {debtor_id} scored high risk: class {}, {} to pay late ({context}); {explanation}.",
                            now.risk_class,
                            percent(now.probability_late)
                        ),
                        amount: now.recommended_limit.map(money),
                        reference: Some(now.risk_class.clone()),
                    }),
                );
            }
        }
        Some(before) if before.model_version == now.model_version => {
            let into_high_risk = now.probability_late > before.probability_late
                && config.high_risk_classes.contains(&now.risk_class)
                && !config.high_risk_classes.contains(&before.risk_class);
            if before.risk_class != now.risk_class && (into_high_risk || !quiet(memory.class_alert))
            {
                memory.class_alert = Some(today);
                let worse = now.probability_late > before.probability_late;
                let severity = if worse && config.high_risk_classes.contains(&now.risk_class) {
                    Severity::High
                } else if worse {
                    Severity::Warning
                } else {
                    Severity::Info
                };
                ctx.emit(
                    Some(debtor_id),
                    Some(debtor_id),
                    Output::Alert(Alert {
                        kind: AlertKind::RiskClassChanged,
                        severity,
                        summary: format!(
                            "Debtor {debtor_id} moved from risk class {} to {} ({} → {} to pay late; {context}); {explanation}.",
                            before.risk_class,
                            now.risk_class,
                            percent(before.probability_late),
                            percent(now.probability_late)
                        ),
                        amount: None,
                        reference: Some(now.risk_class.clone()),
                    }),
                );
            }
            let side = |recommended: Option<Decimal>| -> Option<bool> {
                let (r, c) = (recommended?, standing.credit_limit?);
                if c <= Decimal::ZERO {
                    return None;
                }
                let share = (r - c).checked_div(c)?;
                (share.abs() > config.limit_change_alert_share).then_some(share > Decimal::ZERO)
            };
            let (was, is) = (side(before.recommended_limit), side(now.recommended_limit));
            if let (Some(up), Some(recommended)) = (is, now.recommended_limit)
                && was != is
                && !quiet(memory.limit_alert)
            {
                memory.limit_alert = Some(today);
                let (severity, what) = if up {
                    (
                        Severity::Info,
                        "a commercial opportunity: the debtor can carry more credit",
                    )
                } else {
                    (
                        Severity::Warning,
                        "the limit in force is more than the debtor's risk supports",
                    )
                };
                ctx.emit(
                    Some(debtor_id),
                    Some(debtor_id),
                    Output::Alert(Alert {
                        kind: AlertKind::LimitChangeRecommended,
                        severity,
                        summary: format!(
                            "Recommended credit limit for debtor {debtor_id} is {} against {} in force, {what} ({context}); {explanation}.",
                            recommended.normalize(),
                            standing
                                .credit_limit
                                .map_or("none".to_owned(), |l| l.normalize().to_string())
                        ),
                        amount: Some(money(recommended)),
                        reference: Some(now.risk_class.clone()),
                    }),
                );
            }
        }
        Some(_) => {}
    }
}

/// When a debtor's last class and limit alerts were raised (event-time dates).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScoreAlertMemory {
    /// Date of the last `risk_class_changed` alert.
    pub class_alert: Option<NaiveDate>,
    /// Date of the last `limit_change_recommended` alert.
    pub limit_alert: Option<NaiveDate>,
}
