//! The debtor response model: how each [`Behaviour`] reacts to what credit management
//! sends it — a reminder (by channel and tone, with or without a payment term), a phone
//! call, a payment plan offered, a reminder of a missed installment, a credit hold, a hand
//! over to the collection agency. Closed-loop backtests (`creditstream backtest`) feed the
//! pipeline's actions and tasks back into the [`crate::Simulator`] through
//! [`crate::Simulator::respond`]; a plain simulation never calls it and is unchanged.
//!
//! Without any stimulus a debtor pays as its behaviour draws it (see [`crate::behaviour`]):
//! that is the debtor nobody chases. A stimulus can only bring a payment forward (or
//! recover an invoice the debtor would never have paid); it never delays one. Every
//! probability of the model is in this file, in [`Reaction::of`] and the factors beside
//! it, and drawn from each debtor's own response stream (seeded from the run's seed), so
//! the same seed and the same decisions give the same run.
//!
//! The numbers are assumptions, chosen to be plausible rather than measured: a forgetful
//! payer answers any kind reminder; a debtor who uses its suppliers as a bank answers a firm
//! tone and a call more than a friendly e-mail; a consumer short of cash reads a text
//! message sooner than a letter and takes a payment plan; a debtor about to fail answers
//! little but the collection agency. Each further reminder about the same invoice works
//! less ([`FATIGUE`]).

use events::{Channel, DebtorType, Tone};

use crate::Behaviour;

/// What a debtor did about one stimulus (for the backtest's counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Response {
    /// Nothing it concerns is open any more (paid, disputed, collected), or the output
    /// asks nothing of the debtor.
    NotConcerned,
    /// The debtor let it pass: it pays as it would have.
    Ignored,
    /// It pays sooner than it would have (or at all, for an invoice it would never pay).
    PaysSooner,
    /// A call ended in a promise to pay (kept or not).
    Promises,
    /// It took a payment plan.
    TakesPlan,
    /// The collection agency will recover the money.
    AgencyRecovers,
    /// New orders are blocked (credit hold) or released.
    OrdersBlocked,
    /// New orders are possible again.
    OrdersReleased,
}

impl Response {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Response::NotConcerned => "not_concerned",
            Response::Ignored => "ignored",
            Response::PaysSooner => "pays_sooner",
            Response::Promises => "promises",
            Response::TakesPlan => "takes_plan",
            Response::AgencyRecovers => "agency_recovers",
            Response::OrdersBlocked => "orders_blocked",
            Response::OrdersReleased => "orders_released",
        }
    }
}

/// A stimulus about an invoice the debtor would never pay works this much less often:
/// it had decided not to.
pub const ABANDONED: f64 = 0.5;

/// Each earlier reminder about the same invoice multiplies the chance that the next one
/// works by this.
pub const FATIGUE: f64 = 0.7;

/// A message on the debtor's own preferred channel works this much more often.
pub const PREFERRED_CHANNEL: f64 = 1.25;

/// No stimulus works more often than this.
pub const MAX_CHANCE: f64 = 0.95;

/// How one behaviour reacts. Chances are per stimulus, for one invoice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reaction {
    /// Chance that a neutral e-mail reminder gets the invoice paid sooner.
    pub reminder: f64,
    /// Multipliers of [`Reaction::reminder`] for a friendly, neutral and firm tone.
    pub tone: [f64; 3],
    /// Chance that a phone call ends in a promise to pay.
    pub call: f64,
    /// Chance that such a promise is kept.
    pub promise_kept: f64,
    /// Chance that a payment plan offered is taken (its first installment paid).
    pub plan_accepted: f64,
    /// Chance that each later installment is paid on its date (otherwise it is missed).
    pub installment_kept: f64,
    /// Chance that a credit hold gets the debtor's overdue invoices paid.
    pub hold: f64,
    /// Chance that the collection agency recovers an invoice the debtor would not pay.
    pub agency: f64,
}

impl Reaction {
    /// The reaction of `behaviour`; `turned` says whether a debtor turning bad has
    /// turned, `stopped` whether it has stopped paying altogether.
    pub fn of(behaviour: Behaviour, turned: bool, stopped: bool) -> Reaction {
        let r =
            |reminder, tone, call, promise_kept, plan_accepted, installment_kept, hold, agency| {
                Reaction {
                    reminder,
                    tone,
                    call,
                    promise_kept,
                    plan_accepted,
                    installment_kept,
                    hold,
                    agency,
                }
            };
        match behaviour {
            // Late by accident: any reminder works, a firm one a little less.
            Behaviour::OnTime => r(0.85, [1.0, 0.95, 0.8], 0.9, 0.95, 0.1, 0.95, 0.9, 0.9),
            // Waits for its monthly run unless pressed.
            Behaviour::CombinedPayer => r(0.3, [1.0, 1.0, 1.1], 0.6, 0.9, 0.1, 0.9, 0.8, 0.9),
            // Forgot: kind reminders work best.
            Behaviour::IncidentallyLate => r(0.7, [1.0, 0.9, 0.7], 0.8, 0.9, 0.2, 0.9, 0.8, 0.8),
            // Pays when pressed: firm tone and calls.
            Behaviour::StructurallyLate => r(0.25, [0.6, 1.0, 1.6], 0.6, 0.7, 0.5, 0.7, 0.7, 0.7),
            // Short of cash: plans work, tone matters little.
            Behaviour::PartialPayer => r(0.3, [1.0, 1.0, 1.0], 0.5, 0.75, 0.7, 0.75, 0.5, 0.6),
            Behaviour::Deteriorating => r(0.25, [0.8, 1.0, 1.3], 0.5, 0.6, 0.5, 0.6, 0.5, 0.5),
            Behaviour::TurningBad if stopped => {
                r(0.02, [1.0, 1.0, 1.0], 0.1, 0.1, 0.05, 0.1, 0.05, 0.25)
            }
            Behaviour::TurningBad if turned => {
                r(0.1, [0.8, 1.0, 1.2], 0.35, 0.3, 0.4, 0.5, 0.2, 0.35)
            }
            Behaviour::TurningBad => r(0.85, [1.0, 0.95, 0.8], 0.9, 0.95, 0.1, 0.95, 0.9, 0.9),
            Behaviour::ReversalProne => r(0.45, [1.0, 1.0, 1.1], 0.6, 0.7, 0.3, 0.7, 0.6, 0.7),
            // Takes a firm tone badly.
            Behaviour::Disputer => r(0.4, [1.1, 1.0, 0.7], 0.6, 0.8, 0.2, 0.8, 0.6, 0.7),
        }
    }

    /// Chance that a reminder by `channel` in `tone` gets the invoice paid sooner, after
    /// `earlier` reminders about it, for a debtor of `debtor_type` preferring `preferred`.
    pub fn reminder_chance(
        &self,
        debtor_type: DebtorType,
        preferred: Channel,
        channel: Channel,
        tone: Tone,
        earlier: u32,
    ) -> f64 {
        let tone = match tone {
            Tone::Friendly => self.tone[0],
            Tone::Neutral => self.tone[1],
            Tone::Firm => self.tone[2],
        };
        let own = if channel == preferred {
            PREFERRED_CHANNEL
        } else {
            1.0
        };
        let fatigue = FATIGUE.powi(i32::try_from(earlier).unwrap_or(i32::MAX));
        (self.reminder * tone * channel_factor(debtor_type, channel) * own * fatigue)
            .clamp(0.0, MAX_CHANCE)
    }
}

/// How well a channel reaches a debtor type (e-mail = 1): consumers read a text message
/// soonest and leave letters unopened; businesses file letters and ignore texts.
pub fn channel_factor(debtor_type: DebtorType, channel: Channel) -> f64 {
    match (debtor_type, channel) {
        (DebtorType::Consumer, Channel::Sms) => 1.3,
        (DebtorType::Consumer, Channel::Letter) => 0.8,
        (_, Channel::Sms) => 0.6,
        (_, Channel::Letter) => 1.0,
        (_, Channel::Phone) => 1.2,
        (_, Channel::Email) => 1.0,
    }
}

/// Days from a reminder to the payment it brings, before the weekend: a message read at
/// once 1–4 days, a letter in the post 3–7 days; a payment term offered is taken up to
/// its last day (between half the term and the term).
pub fn reminder_lag(channel: Channel, term_days: Option<u32>) -> (i64, i64) {
    match (term_days, channel) {
        (Some(term), _) => {
            let term = i64::from(term.max(1));
            ((term / 2).max(1), term)
        }
        (None, Channel::Letter) => (3, 7),
        (None, _) => (1, 4),
    }
}

/// Days from a call to the date the debtor promises.
pub const PROMISE_LAG: (i64, i64) = (3, 10);

/// Days from a credit hold to the payment it brings.
pub const HOLD_LAG: (i64, i64) = (2, 7);

/// Days from a hand-over to the collection agency to the money it recovers.
pub const AGENCY_LAG: (i64, i64) = (20, 60);

/// Days a missed installment is paid after the reminder of it.
pub const INSTALLMENT_REMINDER_LAG: (i64, i64) = (1, 3);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chance_is_a_probability() {
        for b in Behaviour::ALL {
            for (turned, stopped) in [(false, false), (true, false), (true, true)] {
                let r = Reaction::of(b, turned, stopped);
                for p in [
                    r.reminder,
                    r.call,
                    r.promise_kept,
                    r.plan_accepted,
                    r.installment_kept,
                    r.hold,
                    r.agency,
                ] {
                    assert!((0.0..=1.0).contains(&p), "{b:?}: {p}");
                }
                for t in [Tone::Friendly, Tone::Neutral, Tone::Firm] {
                    for c in [
                        Channel::Email,
                        Channel::Sms,
                        Channel::Letter,
                        Channel::Phone,
                    ] {
                        let p = r.reminder_chance(DebtorType::Consumer, Channel::Sms, c, t, 0);
                        assert!((0.0..=MAX_CHANCE).contains(&p));
                    }
                }
            }
        }
    }

    #[test]
    fn reminders_wear_off_and_the_right_tone_matters() {
        let late = Reaction::of(Behaviour::StructurallyLate, false, false);
        let first = late.reminder_chance(
            DebtorType::Business,
            Channel::Email,
            Channel::Email,
            Tone::Firm,
            0,
        );
        let third = late.reminder_chance(
            DebtorType::Business,
            Channel::Email,
            Channel::Email,
            Tone::Firm,
            2,
        );
        assert!(third < first * 0.5);
        let friendly = late.reminder_chance(
            DebtorType::Business,
            Channel::Email,
            Channel::Email,
            Tone::Friendly,
            0,
        );
        assert!(friendly < first);
        // A consumer reads a text message sooner than a letter.
        let r = Reaction::of(Behaviour::PartialPayer, false, false);
        assert!(
            r.reminder_chance(
                DebtorType::Consumer,
                Channel::Email,
                Channel::Sms,
                Tone::Neutral,
                0
            ) > r.reminder_chance(
                DebtorType::Consumer,
                Channel::Email,
                Channel::Letter,
                Tone::Neutral,
                0
            )
        );
    }

    #[test]
    fn a_debtor_that_stopped_paying_answers_little_but_the_agency() {
        let stopped = Reaction::of(Behaviour::TurningBad, true, true);
        assert!(stopped.reminder < 0.05 && stopped.agency > stopped.hold);
    }
}
