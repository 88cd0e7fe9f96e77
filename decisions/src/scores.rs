//! Score updates: a debtor's standing, published when it differs from the last one
//! published for that debtor, and its model score (probability of paying late, risk class,
//! recommended limit), published when it moved meaningfully. Each update carries both: the
//! standing as it is and the last model score.

use events::{Output, ScoreUpdate, ShadowScore};
use ledger::Standing;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

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

/// A debtor's model score, as the model stage computed it at a score point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelScore {
    /// Version of the champion model.
    pub model_version: String,
    /// Calibrated probability of paying late.
    pub probability_late: f64,
    /// Risk class.
    pub risk_class: String,
    /// Recommended credit limit (absent when the policy could not give one).
    pub recommended_limit: Option<Decimal>,
    /// The challenger's score in shadow, when one is active.
    pub challenger: Option<ShadowScore>,
}

/// A debtor scored at a score point, with what drove the score in words.
#[derive(Clone, Debug, PartialEq)]
pub struct Scored {
    /// The debtor.
    pub debtor_id: String,
    /// The score.
    pub score: ModelScore,
    /// The strongest factors of the score and the limit's reasoning, in words.
    pub explanation: String,
}

/// Whether `now` differs enough from the last published score: another model version or
/// risk class, another recommended limit, a probability moved by at least `min_change`,
/// or a challenger started, stopped or replaced (so every debtor's record shows which
/// challenger scored it). The challenger's probability alone never makes news.
pub fn is_meaningful_score_change(
    previous: &ModelScore,
    now: &ModelScore,
    min_change: f64,
) -> bool {
    previous.model_version != now.model_version
        || previous.risk_class != now.risk_class
        || previous.recommended_limit != now.recommended_limit
        || (previous.probability_late - now.probability_late).abs() >= min_change
        || previous.probability_late.is_nan() != now.probability_late.is_nan()
        || previous.challenger.as_ref().map(|c| &c.model_version)
            != now.challenger.as_ref().map(|c| &c.model_version)
}

/// Describes a new score against the last published one, then what drove it.
pub fn score_change_reason(previous: Option<&ModelScore>, now: &ModelScore, why: &str) -> String {
    let percent = |p: f64| format!("{:.1} %", p * 100.0);
    let mut parts = Vec::new();
    match previous {
        None => parts.push(format!(
            "first score: {} to pay late, class {}",
            percent(now.probability_late),
            now.risk_class
        )),
        Some(before) => {
            if before.model_version != now.model_version {
                parts.push(format!(
                    "model {} → {}",
                    before.model_version, now.model_version
                ));
            }
            if before.risk_class != now.risk_class {
                parts.push(format!(
                    "risk class {} → {}",
                    before.risk_class, now.risk_class
                ));
            }
            parts.push(format!(
                "probability of paying late {} → {}",
                percent(before.probability_late),
                percent(now.probability_late)
            ));
            if before.recommended_limit != now.recommended_limit {
                let show =
                    |l: Option<Decimal>| l.map_or("none".to_owned(), |l| l.normalize().to_string());
                parts.push(format!(
                    "recommended limit {} → {}",
                    show(before.recommended_limit),
                    show(now.recommended_limit)
                ));
            }
        }
    }
    let mut text = parts.join(", ");
    if !why.is_empty() {
        text.push_str("; ");
        text.push_str(why);
    }
    text
}

/// The score update for `standing` with the debtor's last model score, if any, with the
/// id `<rule>:<cause>:<debtor>` (`score_update` for a standing that changed, `model_score`
/// for a score that moved). A debtor without a known limit is published without one and
/// is never `exposure_above_limit`.
pub(crate) fn score_update(
    ctx: &mut Context<'_>,
    rule: &str,
    debtor_id: &str,
    standing: &Standing,
    score: Option<&ModelScore>,
    reason: String,
) {
    ctx.emit_as(
        rule,
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
            probability_late: score.map(|s| s.probability_late),
            risk_class: score.map(|s| s.risk_class.clone()),
            recommended_limit: score.and_then(|s| s.recommended_limit),
            model_version: score.map(|s| s.model_version.clone()),
            challenger: score.and_then(|s| s.challenger.clone()),
            reason,
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

    fn score(p: f64, class: &str, limit: i64) -> ModelScore {
        ModelScore {
            model_version: "v1".into(),
            probability_late: p,
            risk_class: class.into(),
            recommended_limit: Some(Decimal::from(limit)),
            challenger: None,
        }
    }

    #[test]
    fn a_small_probability_move_within_the_class_is_not_news() {
        let before = score(0.10, "B", 5000);
        assert!(!is_meaningful_score_change(
            &before,
            &score(0.11, "B", 5000),
            0.02
        ));
        assert!(is_meaningful_score_change(
            &before,
            &score(0.125, "B", 5000),
            0.02
        ));
        assert!(is_meaningful_score_change(
            &before,
            &score(0.101, "C", 5000),
            0.02
        ));
        assert!(is_meaningful_score_change(
            &before,
            &score(0.10, "B", 4500),
            0.02
        ));
        let mut other = before.clone();
        other.model_version = "v2".into();
        assert!(is_meaningful_score_change(&before, &other, 0.02));
        let mut shadow = before.clone();
        shadow.challenger = Some(ShadowScore {
            model_version: "v3".into(),
            probability_late: 0.5,
            risk_class: "D".into(),
        });
        assert!(is_meaningful_score_change(&before, &shadow, 0.02));
        let mut moved = shadow.clone();
        if let Some(c) = &mut moved.challenger {
            c.probability_late = 0.9;
        }
        assert!(!is_meaningful_score_change(&shadow, &moved, 0.02));
    }

    #[test]
    fn the_reason_says_what_moved_and_why() {
        let text = score_change_reason(
            Some(&score(0.10, "B", 5000)),
            &score(0.31, "D", 2500),
            "drivers: x",
        );
        assert_eq!(
            text,
            "risk class B → D, probability of paying late 10.0 % → 31.0 %, \
             recommended limit 5000 → 2500; drivers: x"
        );
        assert!(
            score_change_reason(None, &score(0.2, "C", 1), "").starts_with("first score: 20.0 %")
        );
    }
}
