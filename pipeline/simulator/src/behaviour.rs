//! How debtors pay: the [`Behaviour`] kinds and, per debtor, a `Profile` of drawn
//! parameters that decides when each invoice is paid (or never), whether it is paid in
//! parts, disputed, promised, returned as a direct debit, and the latent risk a credit
//! bureau sees.
//!
//! Every behaviour leaves traces a model can learn from: days late, partial payments,
//! reversals, disputes, broken promises and bureau ratings that move with it.

use serde::Serialize;

use crate::calendar::Calendar;
use crate::rng::Rng;

/// The payment behaviour of a debtor (ground truth; never published as an event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Pays by the due date, nearly always a few days early.
    OnTime,
    /// Mostly on time; about one invoice in seven is paid a week or two late.
    IncidentallyLate,
    /// Late as a habit: most invoices two to five weeks late.
    StructurallyLate,
    /// Pays part of an invoice first and the rest weeks later (sometimes never).
    PartialPayer,
    /// Pays all invoices falling due at once, in a monthly payment run.
    CombinedPayer,
    /// Starts fine and gets later month by month.
    Deteriorating,
    /// On time until a month in the run, then increasingly late, then stops paying.
    TurningBad,
    /// Pays by direct debit; collections are often returned and paid again later.
    ReversalProne,
    /// Disputes about one invoice in five; some disputes end with a credit note.
    Disputer,
}

impl Behaviour {
    /// Every behaviour.
    pub const ALL: [Behaviour; 9] = [
        Behaviour::OnTime,
        Behaviour::IncidentallyLate,
        Behaviour::StructurallyLate,
        Behaviour::PartialPayer,
        Behaviour::CombinedPayer,
        Behaviour::Deteriorating,
        Behaviour::TurningBad,
        Behaviour::ReversalProne,
        Behaviour::Disputer,
    ];

    /// The snake_case name (as in the ground truth).
    pub fn as_str(self) -> &'static str {
        match self {
            Behaviour::OnTime => "on_time",
            Behaviour::IncidentallyLate => "incidentally_late",
            Behaviour::StructurallyLate => "structurally_late",
            Behaviour::PartialPayer => "partial_payer",
            Behaviour::CombinedPayer => "combined_payer",
            Behaviour::Deteriorating => "deteriorating",
            Behaviour::TurningBad => "turning_bad",
            Behaviour::ReversalProne => "reversal_prone",
            Behaviour::Disputer => "disputer",
        }
    }

    /// Whether a debtor with this behaviour may pay by direct debit: the ones whose
    /// money is there on the due date, plus the two whose trouble shows as returns.
    pub fn allows_direct_debit(self) -> bool {
        matches!(
            self,
            Behaviour::OnTime
                | Behaviour::IncidentallyLate
                | Behaviour::TurningBad
                | Behaviour::ReversalProne
        )
    }
}

/// Latest a payment is ever made, in days after the due date.
const MAX_DELAY: i32 = 180;

/// A debtor's behaviour with the parameters drawn for it.
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    /// The behaviour.
    pub behaviour: Behaviour,
    /// Probability that an invoice is paid late (before seasonality and trends).
    pub late_probability: f64,
    /// Median days late when late (before seasonality and trends).
    pub late_median: f64,
    /// Deteriorating: extra median days late per month.
    pub slope: f64,
    /// Turning bad: the day the debtor turns (`i32::MAX` for other behaviours).
    pub turn_day: i32,
    /// Turning bad: the day from which nothing is paid any more (`i32::MAX` otherwise).
    pub stop_day: i32,
    /// The debtor's own offset on the latent bureau risk scale.
    pub risk_offset: f64,
    /// Combined payer: day of the month of the payment run (1 to 28).
    pub run_day: u32,
}

impl Profile {
    /// Draws the parameters of `behaviour` for a run of `days` days.
    pub fn draw(behaviour: Behaviour, days: i32, rng: &mut Rng) -> Profile {
        let (late_probability, late_median) = match behaviour {
            Behaviour::OnTime | Behaviour::CombinedPayer => (0.02, 3.0),
            Behaviour::IncidentallyLate => (rng.uniform(0.10, 0.20), rng.uniform(6.0, 12.0)),
            Behaviour::StructurallyLate => (rng.uniform(0.75, 0.95), rng.uniform(12.0, 35.0)),
            Behaviour::PartialPayer => (0.3, 10.0),
            Behaviour::Deteriorating => (0.10, 3.0),
            Behaviour::TurningBad => (0.02, 3.0),
            Behaviour::ReversalProne => (0.3, 8.0),
            Behaviour::Disputer => (0.2, 12.0),
        };
        let (turn_day, stop_day) = if behaviour == Behaviour::TurningBad {
            let turn = ((f64::from(days) * rng.uniform(0.25, 0.7)) as i32).max(45);
            (turn, turn + rng.range_i64(60, 120) as i32)
        } else {
            (i32::MAX, i32::MAX)
        };
        Profile {
            behaviour,
            late_probability,
            late_median,
            slope: if behaviour == Behaviour::Deteriorating {
                rng.uniform(2.0, 5.0)
            } else {
                0.0
            },
            turn_day,
            stop_day,
            risk_offset: rng.gaussian(0.0, 0.8),
            run_day: rng.range_i64(1, 28) as u32,
        }
    }

    /// Whether the debtor has turned bad by `day`.
    pub fn has_turned(&self, day: i32) -> bool {
        day >= self.turn_day
    }

    /// Whether the debtor has stopped paying altogether by `day`.
    pub fn has_stopped(&self, day: i32) -> bool {
        day >= self.stop_day
    }

    /// When an invoice due on `due_day` gets paid: days after the due date (negative:
    /// early), or `None` when it is never paid.
    pub fn payment_delay(&self, due_day: i32, cal: &Calendar, rng: &mut Rng) -> Option<i32> {
        let season = cal.lateness_factor(due_day);
        let months = cal.months_since_start(due_day);
        let (p_late, median, sigma, early_max) = match self.behaviour {
            Behaviour::TurningBad if self.has_stopped(due_day) => return None,
            Behaviour::TurningBad if self.has_turned(due_day) => {
                let since = f64::from(due_day - self.turn_day) / 30.44;
                (0.8, 12.0 + 8.0 * since, 0.5, 2)
            }
            Behaviour::Deteriorating => {
                if rng.bernoulli(0.005 * months) {
                    return None;
                }
                (
                    (self.late_probability + 0.07 * months).min(0.95),
                    self.late_median + self.slope * months,
                    0.6,
                    4,
                )
            }
            Behaviour::StructurallyLate => (self.late_probability, self.late_median, 0.5, 3),
            Behaviour::OnTime | Behaviour::CombinedPayer | Behaviour::TurningBad => {
                (self.late_probability, self.late_median, 0.3, 7)
            }
            _ => (self.late_probability, self.late_median, 0.6, 5),
        };
        // Holidays and December slow everyone down, good payers a little less.
        let seasonal_extra = match self.behaviour {
            Behaviour::OnTime | Behaviour::CombinedPayer => 0.0,
            _ => 0.15 * (season - 1.0),
        };
        let p_late = (p_late * season + seasonal_extra).min(0.98);
        let delay = if rng.bernoulli(p_late) {
            let days = rng.lognormal(median * season, sigma).round() as i32;
            days.clamp(1, MAX_DELAY)
        } else {
            -(rng.range_i64(0, early_max) as i32)
        };
        if self.behaviour == Behaviour::TurningBad && due_day + delay >= self.stop_day {
            return None;
        }
        Some(delay)
    }

    /// Probability that a regular payment is a part payment.
    pub fn partial_probability(&self) -> f64 {
        match self.behaviour {
            Behaviour::PartialPayer => 0.45,
            _ => 0.0,
        }
    }

    /// Probability that a part payer never pays the rest.
    pub fn abandons_rest_probability(&self) -> f64 {
        match self.behaviour {
            Behaviour::PartialPayer => 0.08,
            _ => 0.0,
        }
    }

    /// Probability that an invoice is disputed.
    pub fn dispute_probability(&self) -> f64 {
        match self.behaviour {
            Behaviour::Disputer => 0.2,
            Behaviour::CombinedPayer | Behaviour::ReversalProne => 0.0,
            _ => 0.004,
        }
    }

    /// For an invoice paid late enough to be chased: the probability that the debtor
    /// promises to pay, and the probability that such a promise is kept.
    pub fn promise_odds(&self, day: i32) -> (f64, f64) {
        match self.behaviour {
            Behaviour::IncidentallyLate => (0.3, 0.9),
            Behaviour::StructurallyLate => (0.5, 0.6),
            Behaviour::PartialPayer => (0.2, 0.7),
            Behaviour::Deteriorating => (0.4, 0.5),
            Behaviour::TurningBad if self.has_turned(day) => (0.6, 0.25),
            _ => (0.2, 0.8),
        }
    }

    /// Relative chance that a direct-debit collection on `day` is returned (1 = an
    /// ordinary debtor).
    pub fn reversal_weight(&self, day: i32) -> f64 {
        match self.behaviour {
            Behaviour::ReversalProne => 15.0,
            Behaviour::TurningBad if self.has_turned(day) => 25.0,
            Behaviour::IncidentallyLate => 3.0,
            _ => 1.0,
        }
    }

    /// Latent risk on the bureau's scale (0 best, 9 worst) on `day`, before the type's
    /// adjustment and the bureau's own noise. A bureau learns of a turn about a month
    /// late.
    pub fn latent_risk(&self, day: i32) -> f64 {
        let months = f64::from(day) / 30.44;
        let base = match self.behaviour {
            Behaviour::OnTime => 1.8,
            Behaviour::IncidentallyLate => 2.8,
            Behaviour::StructurallyLate => 4.6,
            Behaviour::PartialPayer => 4.8,
            Behaviour::CombinedPayer => 3.0,
            Behaviour::Deteriorating => 3.0 + 0.3 * months,
            Behaviour::TurningBad => {
                let seen_from = self.turn_day.saturating_add(30);
                if day >= seen_from {
                    4.5 + 0.6 * f64::from(day - seen_from) / 30.44
                } else {
                    2.0
                }
            }
            Behaviour::ReversalProne => 4.3,
            Behaviour::Disputer => 3.4,
        };
        base + self.risk_offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn calendar() -> Calendar {
        Calendar::new(NaiveDate::from_ymd_opt(2025, 1, 1).expect("date"))
    }

    fn late_share(behaviour: Behaviour, due_day: i32) -> f64 {
        let cal = calendar();
        let mut rng = Rng::seed_from(17);
        let profile = Profile::draw(behaviour, 365, &mut rng);
        let n = 4000;
        let late = (0..n)
            .filter(|_| {
                profile
                    .payment_delay(due_day, &cal, &mut rng)
                    .is_none_or(|d| d > 0)
            })
            .count();
        late as f64 / f64::from(n)
    }

    #[test]
    fn on_time_is_rarely_late_and_structurally_late_mostly() {
        assert!(late_share(Behaviour::OnTime, 60) < 0.05);
        assert!(late_share(Behaviour::StructurallyLate, 60) > 0.7);
    }

    #[test]
    fn deteriorating_gets_later_over_time() {
        assert!(
            late_share(Behaviour::Deteriorating, 300)
                > late_share(Behaviour::Deteriorating, 10) + 0.3
        );
    }

    #[test]
    fn turning_bad_stops_paying_after_its_stop_day() {
        let cal = calendar();
        let mut rng = Rng::seed_from(2);
        let profile = Profile::draw(Behaviour::TurningBad, 365, &mut rng);
        assert!(profile.turn_day >= 45 && profile.stop_day > profile.turn_day);
        assert_eq!(
            profile.payment_delay(profile.stop_day, &cal, &mut rng),
            None
        );
        assert!(profile.latent_risk(profile.stop_day) > profile.latent_risk(0) + 2.0);
    }
}
