//! Score updates: a debtor's standing, published when it differs from the last one
//! published for that debtor. Model outputs (probability, risk class, recommended limit)
//! are not filled in yet.

use events::{Output, ScoreUpdate};
use ledger::Standing;

use crate::context::Context;

/// Describes what changed between two standings, in words.
pub fn standing_change_reason(previous: Option<&Standing>, now: &Standing) -> String {
    let Some(before) = previous else {
        return "first standing published for this debtor".to_owned();
    };
    let mut parts = Vec::new();
    let mut money = |name: &str, a: rust_decimal::Decimal, b: rust_decimal::Decimal| {
        if a != b {
            parts.push(format!("{name} {} → {}", a.normalize(), b.normalize()));
        }
    };
    money("open balance", before.open_balance, now.open_balance);
    money(
        "overdue balance",
        before.overdue_balance,
        now.overdue_balance,
    );
    money(
        "unapplied credit",
        before.unapplied_credit,
        now.unapplied_credit,
    );
    if before.credit_limit != now.credit_limit {
        let show = |l: Option<rust_decimal::Decimal>| {
            l.map_or("none".to_owned(), |l| l.normalize().to_string())
        };
        parts.push(format!(
            "credit limit {} → {}",
            show(before.credit_limit),
            show(now.credit_limit)
        ));
    }
    if before.max_days_past_due != now.max_days_past_due {
        parts.push(format!(
            "days past due {} → {}",
            before.max_days_past_due, now.max_days_past_due
        ));
    }
    if before.exposure_above_limit != now.exposure_above_limit {
        parts.push(if now.exposure_above_limit {
            "exposure now above the limit".to_owned()
        } else {
            "exposure back within the limit".to_owned()
        });
    }
    if before.currency != now.currency {
        parts.push(format!("currency {} → {}", before.currency, now.currency));
    }
    if parts.is_empty() {
        "standing unchanged".to_owned()
    } else {
        parts.join(", ")
    }
}

/// The score update for `standing`. A debtor without a known limit is published without
/// one and is never `exposure_above_limit`.
pub(crate) fn score_update(
    ctx: &mut Context<'_>,
    debtor_id: &str,
    previous: Option<&Standing>,
    standing: &Standing,
) {
    ctx.emit(
        Some(debtor_id),
        Some(debtor_id),
        Output::ScoreUpdate(ScoreUpdate {
            currency: standing.currency,
            open_balance: standing.open_balance,
            overdue_balance: standing.overdue_balance,
            max_days_past_due: standing.max_days_past_due,
            unapplied_credit: standing.unapplied_credit,
            credit_limit: standing.credit_limit,
            exposure_above_limit: standing.exposure_above_limit,
            probability_late: None,
            risk_class: None,
            recommended_limit: None,
            reason: standing_change_reason(previous, standing),
        }),
    );
}
