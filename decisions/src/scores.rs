//! Score updates: a debtor's standing, published when it differs from the last one
//! published for that debtor. Model outputs (probability, risk class, recommended limit)
//! are not filled in yet.

use events::{Output, ScoreUpdate};
use ledger::Standing;

use crate::context::Context;

/// Whether `now` differs from the last published standing enough to publish it: any
/// amount, the limit, the exposure flag or the currency changed, or the oldest overdue
/// item moved into another aging bucket. A day more past due within the same bucket is
/// not news (otherwise every clock tick would re-publish every overdue debtor).
pub fn is_meaningful_change(previous: &Standing, now: &Standing) -> bool {
    previous.open_balance != now.open_balance
        || previous.overdue_balance != now.overdue_balance
        || previous.unapplied_credit != now.unapplied_credit
        || previous.credit_limit != now.credit_limit
        || previous.exposure_above_limit != now.exposure_above_limit
        || previous.currency != now.currency
        || ledger::aging::bucket_index(previous.max_days_past_due)
            != ledger::aging::bucket_index(now.max_days_past_due)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn standing(days: i64, open: i64) -> Standing {
        Standing {
            currency: events::Currency::EUR,
            open_balance: Decimal::from(open),
            overdue_balance: Decimal::from(open),
            max_days_past_due: days,
            unapplied_credit: Decimal::ZERO,
            credit_limit: Some(Decimal::from(1000)),
            exposure_above_limit: false,
        }
    }

    #[test]
    fn a_day_more_past_due_within_a_bucket_is_not_news() {
        assert!(!is_meaningful_change(&standing(3, 100), &standing(4, 100)));
        assert!(!is_meaningful_change(
            &standing(31, 100),
            &standing(60, 100)
        ));
    }

    #[test]
    fn crossing_an_aging_bucket_or_any_amount_change_is_news() {
        assert!(is_meaningful_change(&standing(0, 100), &standing(1, 100)));
        assert!(is_meaningful_change(&standing(30, 100), &standing(31, 100)));
        assert!(is_meaningful_change(&standing(90, 100), &standing(91, 100)));
        assert!(is_meaningful_change(&standing(5, 100), &standing(5, 101)));
    }
}
