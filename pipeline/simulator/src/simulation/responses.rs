//! Closed loop: the debtor's response to what credit management decided about it (see
//! [`crate::response`] for the model and its probabilities). A response plans actions on
//! the agenda like any other — a payment brought forward, a promise, installments — so the
//! run stays in event-time order and deterministic.

use chrono::{DateTime, Utc};
use events::{ActionKind, Channel, Output, OutputEnvelope, TaskKind, Tone};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::accounts::{ItemState, invoice_number};
use super::payments::Draft;
use super::{Action, END_OF_DAY, PayMode, Simulator, Stream, time_of_day};
use crate::calendar::{HOUR, day_of_instant};
use crate::response::{
    ABANDONED, AGENCY_LAG, HOLD_LAG, INSTALLMENT_REMINDER_LAG, PROMISE_LAG, Reaction, Response,
    reminder_lag,
};

impl Simulator {
    /// The debtor's response to one output of the pipeline: a reminder, a call (a
    /// `phone_call` task), a payment plan offered, a missed installment's reminder, a
    /// credit hold or its release, a hand-over to the collection agency, the end of a
    /// plan. Outputs about debtors the simulator does not know, and every other output,
    /// are [`Response::NotConcerned`]. Feed outputs in the order the pipeline made them,
    /// right after the event that caused them.
    pub fn respond(&mut self, output: &OutputEnvelope) -> Response {
        let Some(d) = output
            .debtor_id
            .as_deref()
            .and_then(|id| self.debtor_index(id))
        else {
            return Response::NotConcerned;
        };
        let today = day_of_instant(self.schedule.agenda.now());
        match &output.output {
            Output::Action(a) => match a.kind {
                ActionKind::Reminder => {
                    let channel = a.channel.unwrap_or(Channel::Email);
                    let tone = a.tone.unwrap_or(Tone::Neutral);
                    self.each_invoice(&a.invoice_numbers, |sim, seq| {
                        sim.reminded(d, seq, channel, tone, a.payment_term_days, today)
                    })
                }
                ActionKind::CreditHold => self.held(d, today),
                ActionKind::CreditHoldReleased => {
                    self.debtors[d].held = false;
                    Response::OrdersReleased
                }
                ActionKind::PaymentPlanProposed => match a.invoice_numbers.first() {
                    Some(number) => match self.invoice_seq(d, number) {
                        Some(seq) => {
                            let installments: Vec<(i32, i64)> = a
                                .installments
                                .iter()
                                .map(|i| (self.cal.day_of(i.due_date), to_cents(i.amount.amount)))
                                .collect();
                            self.plan_offered(d, seq, &installments, today)
                        }
                        None => Response::NotConcerned,
                    },
                    None => Response::NotConcerned,
                },
                ActionKind::PaymentPlanEnded => {
                    self.each_invoice(&a.invoice_numbers, |sim, seq| sim.plan_ended(d, seq, today))
                }
                ActionKind::InstallmentReminder => self
                    .each_invoice(&a.invoice_numbers, |sim, seq| {
                        sim.installment_reminded(d, seq, today)
                    }),
                ActionKind::CollectionHandover => self
                    .each_invoice(&a.invoice_numbers, |sim, seq| {
                        sim.handed_over(d, seq, today)
                    }),
                ActionKind::PaymentPlanConfirmed => Response::NotConcerned,
            },
            Output::Task(t) if t.kind == TaskKind::PhoneCall && t.closure.is_none() => {
                self.each_invoice(&t.invoice_numbers, |sim, seq| sim.called(d, seq, today))
            }
            _ => Response::NotConcerned,
        }
    }

    /// The debtor's index from its id (`D000001` is 0).
    fn debtor_index(&self, id: &str) -> Option<usize> {
        let n: usize = id.strip_prefix('D')?.parse().ok()?;
        let d = n.checked_sub(1)?;
        (self.debtors.get(d)?.debtor.id == id).then_some(d)
    }

    /// Sequence number of an open invoice of debtor `d`.
    fn invoice_seq(&self, d: usize, number: &str) -> Option<u32> {
        let seq: u32 = number.strip_prefix("INV-")?.parse().ok()?;
        self.debtors[d].find(seq).map(|_| seq)
    }

    /// Runs `f` for each open invoice named; the strongest response wins.
    fn each_invoice(
        &mut self,
        numbers: &[String],
        mut f: impl FnMut(&mut Simulator, u32) -> Response,
    ) -> Response {
        let d_numbers: Vec<u32> = numbers
            .iter()
            .filter_map(|n| n.strip_prefix("INV-")?.parse().ok())
            .collect();
        d_numbers
            .into_iter()
            .map(|seq| f(self, seq))
            .max()
            .unwrap_or(Response::NotConcerned)
    }

    fn reaction(&self, d: usize, day: i32) -> Reaction {
        let p = &self.debtors[d].debtor.profile;
        Reaction::of(p.behaviour, p.has_turned(day), p.has_stopped(day))
    }

    /// Plans a payment of the whole open amount `from..=to` days from `today` (moved to a
    /// business day).
    fn plan_settle(&mut self, d: usize, seq: u32, today: i32, (from, to): (i64, i64)) {
        let st = &mut self.debtors[d];
        let day = self
            .cal
            .business_day(today + st.reply.range_i64(from, to) as i32);
        let second = time_of_day(&mut st.reply, 7, 20);
        self.schedule.on(
            day,
            second,
            Action::Settle {
                debtor: d as u32,
                invoice: seq,
            },
        );
    }

    /// Whether item `seq` can be paid sooner: open (not disputed, not collected) and
    /// not on a plan. Returns the chance factor (lower for an invoice it would never pay).
    fn payable(&self, d: usize, seq: u32) -> Option<f64> {
        let st = &self.debtors[d];
        let item = &st.open[st.find(seq)?];
        (item.state == ItemState::Open && !item.on_plan).then_some(if item.abandoned {
            ABANDONED
        } else {
            1.0
        })
    }

    fn reminded(
        &mut self,
        d: usize,
        seq: u32,
        channel: Channel,
        tone: Tone,
        term: Option<u32>,
        today: i32,
    ) -> Response {
        let Some(factor) = self.payable(d, seq) else {
            return Response::NotConcerned;
        };
        let reaction = self.reaction(d, today);
        let st = &mut self.debtors[d];
        let Some(index) = st.find(seq) else {
            return Response::NotConcerned;
        };
        let earlier = u32::from(st.open[index].reminders);
        st.open[index].reminders = st.open[index].reminders.saturating_add(1);
        let chance = factor
            * reaction.reminder_chance(
                st.debtor.debtor_type,
                st.debtor.channel,
                channel,
                tone,
                earlier,
            );
        if !st.reply.bernoulli(chance) {
            return Response::Ignored;
        }
        self.plan_settle(d, seq, today, reminder_lag(channel, term));
        Response::PaysSooner
    }

    fn called(&mut self, d: usize, seq: u32, today: i32) -> Response {
        let Some(factor) = self.payable(d, seq) else {
            return Response::NotConcerned;
        };
        let reaction = self.reaction(d, today);
        let st = &mut self.debtors[d];
        if !st.reply.bernoulli(factor * reaction.call) {
            return Response::Ignored;
        }
        // A person calls within three business days; the debtor names a date.
        let call_day = self
            .cal
            .business_day(today + st.reply.range_i64(1, 3) as i32);
        let promised_day = call_day + st.reply.range_i64(PROMISE_LAG.0, PROMISE_LAG.1) as i32;
        let kept = st.reply.bernoulli(reaction.promise_kept);
        let second = time_of_day(&mut st.reply, 9, 17);
        let debtor = d as u32;
        self.schedule.on(
            call_day,
            second,
            Action::Promise {
                debtor,
                invoice: seq,
                promised_day,
                kept,
            },
        );
        if kept {
            let second = time_of_day(&mut self.debtors[d].reply, 7, 20);
            self.schedule.on(
                promised_day,
                second.min(END_OF_DAY - 2 * HOUR),
                Action::Settle {
                    debtor,
                    invoice: seq,
                },
            );
        }
        Response::Promises
    }

    fn held(&mut self, d: usize, today: i32) -> Response {
        self.debtors[d].held = true;
        let reaction = self.reaction(d, today);
        let overdue: Vec<(u32, f64)> = self.debtors[d]
            .open
            .iter()
            .filter(|i| i.due_day < today)
            .filter_map(|i| Some((i.seq, self.payable(d, i.seq)?)))
            .collect();
        if overdue.is_empty() {
            return Response::OrdersBlocked;
        }
        let factor = overdue.iter().map(|o| o.1).fold(0.0, f64::max);
        if !self.debtors[d].reply.bernoulli(factor * reaction.hold) {
            return Response::OrdersBlocked;
        }
        for (seq, _) in overdue {
            self.plan_settle(d, seq, today, HOLD_LAG);
        }
        Response::PaysSooner
    }

    fn handed_over(&mut self, d: usize, seq: u32, today: i32) -> Response {
        if self.payable(d, seq).is_none() {
            return Response::NotConcerned;
        }
        let reaction = self.reaction(d, today);
        if !self.debtors[d].reply.bernoulli(reaction.agency) {
            return Response::Ignored;
        }
        self.plan_settle(d, seq, today, AGENCY_LAG);
        Response::AgencyRecovers
    }

    fn plan_offered(
        &mut self,
        d: usize,
        seq: u32,
        installments: &[(i32, i64)],
        today: i32,
    ) -> Response {
        let Some(factor) = self.payable(d, seq) else {
            return Response::NotConcerned;
        };
        if installments.is_empty() {
            return Response::NotConcerned;
        }
        let reaction = self.reaction(d, today);
        let st = &mut self.debtors[d];
        if !st.reply.bernoulli(factor * reaction.plan_accepted) {
            return Response::Ignored;
        }
        let Some(index) = st.find(seq) else {
            return Response::NotConcerned;
        };
        let item = &mut st.open[index];
        item.on_plan = true;
        item.plan = item.plan.wrapping_add(1);
        item.plan_missed = 0;
        if item.abandoned {
            item.abandoned = false;
            self.out.truth.written_off.remove(&invoice_number(seq));
        }
        let plan = item.plan;
        let count = installments.len();
        for (i, &(due_day, cents)) in installments.iter().enumerate() {
            // Taking the plan is paying its first installment; each later one is kept
            // or missed.
            let st = &mut self.debtors[d];
            let kept = i == 0 || st.reply.bernoulli(reaction.installment_kept);
            // Paid by its date: up to two days early, on a business day, never after it
            // (unless it falls due tomorrow or sooner).
            let early = st.reply.range_i64(0, 2) as i32;
            let day = self.cal.business_day_by(due_day - early).max(today + 1);
            self.plan_installment(d, seq, day, (plan, cents, i + 1 == count, kept));
        }
        Response::TakesPlan
    }

    /// Plans an installment of `plan` on `day`: `(plan, cents, last, kept)`.
    fn plan_installment(&mut self, d: usize, seq: u32, day: i32, what: (u8, i64, bool, bool)) {
        let (plan, cents, last, kept) = what;
        let second = time_of_day(&mut self.debtors[d].reply, 7, 20);
        self.schedule.on(
            day,
            second,
            Action::Installment {
                debtor: d as u32,
                invoice: seq,
                plan,
                cents,
                last,
                kept,
            },
        );
    }

    fn installment_reminded(&mut self, d: usize, seq: u32, today: i32) -> Response {
        let reaction = self.reaction(d, today);
        let st = &mut self.debtors[d];
        let Some(index) = st.find(seq) else {
            return Response::NotConcerned;
        };
        let item = &st.open[index];
        if !item.on_plan || item.plan_missed <= 0 {
            return Response::NotConcerned;
        }
        let (plan, cents) = (item.plan, item.plan_missed);
        if !st.reply.bernoulli(reaction.installment_kept) {
            return Response::Ignored;
        }
        let day = self.cal.business_day(
            today
                + st.reply
                    .range_i64(INSTALLMENT_REMINDER_LAG.0, INSTALLMENT_REMINDER_LAG.1)
                    as i32,
        );
        self.plan_installment(d, seq, day, (plan, cents, false, true));
        Response::PaysSooner
    }

    /// A plan ended without being kept: the debtor goes back to paying at its own pace.
    fn plan_ended(&mut self, d: usize, seq: u32, today: i32) -> Response {
        let st = &mut self.debtors[d];
        let Some(index) = st.find(seq) else {
            return Response::NotConcerned;
        };
        if !st.open[index].on_plan {
            return Response::NotConcerned;
        }
        st.open[index].on_plan = false;
        st.open[index].plan_missed = 0;
        let due_day = st.open[index].due_day.max(today - 180);
        let delay = st
            .debtor
            .profile
            .payment_delay(due_day, &self.cal, &mut st.reply);
        match delay {
            Some(delay) => {
                let day = (due_day + delay - today).max(1);
                self.plan_settle(d, seq, today, (i64::from(day), i64::from(day)));
            }
            None => {
                st.open[index].abandoned = true;
                self.out.truth.written_off.insert(invoice_number(seq));
            }
        }
        // Not a choice of the debtor's: it goes back to its own pace.
        Response::NotConcerned
    }

    /// A payment of the whole open amount of `seq`, as a response planned it.
    pub(super) fn settle(&mut self, d: usize, seq: u32, day: i32, time: DateTime<Utc>) {
        let st = &mut self.debtors[d];
        let Some(index) = st.find(seq) else { return };
        if st.open[index].state != ItemState::Open {
            return;
        }
        // One invoice paid in full: every way of remitting it but a part payment. Drawn
        // from the response stream, so the debtor's own stream (its invoices) stays the
        // same whatever the strategy: arms of a backtest differ by their decisions only.
        let applicable = self.applicable(d, index, PayMode::Rest, false);
        self.drawing_from(d, Stream::Reply, |sim| {
            let kind = sim.out.quota.draw(&mut sim.debtors[d].rng, &applicable);
            sim.transfer(d, kind, &[seq], day, time);
        });
    }

    /// An installment of plan `plan` falls due: paid (`kept`) or missed.
    pub(super) fn installment(
        &mut self,
        d: usize,
        seq: u32,
        (plan, cents, last, kept): (u8, i64, bool, bool),
        day: i32,
        time: DateTime<Utc>,
    ) {
        let st = &mut self.debtors[d];
        let Some(index) = st.find(seq) else { return };
        let item = &mut st.open[index];
        if item.state != ItemState::Open || !item.on_plan || item.plan != plan {
            return;
        }
        if !kept {
            item.plan_missed += cents;
            return;
        }
        let mut paid = cents.min(item.open);
        if last {
            // The last installment clears what is left.
            paid = item.open;
        }
        if paid <= 0 {
            return;
        }
        item.plan_missed = (item.plan_missed - paid).max(0);
        if paid >= item.open {
            item.on_plan = false;
        }
        let reference = item.reference;
        let number = invoice_number(seq);
        let country = st.debtor.country;
        let (remittance, structured) = match reference {
            Some(style) if st.reply.bernoulli(0.5) => {
                (None, Some(super::accounts::payment_reference(style, seq)))
            }
            _ => (
                Some(crate::remittance::invoice_text(
                    &number,
                    country,
                    &mut st.reply,
                )),
                None,
            ),
        };
        let draft = Draft {
            kind: crate::NoiseKind::PartialWithReference,
            method: events::PaymentMethod::BankTransfer,
            allocations: vec![(seq, paid)],
            unapplied: 0,
            remittance,
            structured,
            stranger: false,
        };
        self.drawing_from(d, Stream::Reply, |sim| {
            sim.book(d, draft, day, time, None);
        });
    }
}

/// A decimal amount in whole cents.
fn to_cents(amount: Decimal) -> i64 {
    (amount * Decimal::ONE_HUNDRED)
        .trunc()
        .to_i64()
        .unwrap_or(0)
}
