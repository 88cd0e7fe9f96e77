//! Dunning: the reminder schedule of each overdue item, driven by event time. When an
//! item turns overdue it enters the book; on each day of event time the book sends the
//! next step of the debtor's segment once its day past due has come (channel, tone,
//! payment term offered), a phone task for a phone step, and after the last step, on the
//! segment's day, hands the item over to the collection agency. Steps go out in order and
//! keep their spacing: when the clock jumped past several, the first one not sent goes
//! out and the next waits the gap between the two.
//!
//! Nothing is sent for an item that is paid, disputed, under a promise to pay or under a
//! payment plan at the moment of sending: the book looks at the ledger after the event
//! that moved the clock has been applied, so a payment arriving between the moment a step
//! fell due and the moment it would be sent stops it. Held items are looked at again the
//! next day; paid items leave the book.

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};
use events::{Action, ActionKind, Channel, Money, Output, Task, TaskKind, Tone};
use ledger::HashIndex;
use serde::{Deserialize, Serialize};

use crate::context::{Context, Policy};
use crate::plans::PlanBook;
use crate::strategy::{DunningStep, Segment, StepChannel};

/// Why an overdue item gets no reminder now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderHeld {
    /// The ledger no longer knows the item.
    UnknownItem,
    /// Nothing is owed any more.
    NotOpen,
    /// The debtor disputes it.
    Disputed,
    /// A promise to pay covers it and is neither kept nor broken yet.
    UnderPromise,
    /// A payment plan (proposed or definitive) covers it.
    UnderPlan,
}

/// Whether an overdue item may be reminded now, judged on the ledger's current state (a
/// plan is the decisions' own: see [`crate::Decisions::plan_status`]).
pub fn reminder_held(ledger: &ledger::Ledger, invoice_number: &str) -> Option<ReminderHeld> {
    let Some(item) = ledger.item(invoice_number) else {
        return Some(ReminderHeld::UnknownItem);
    };
    if !item.is_open() {
        Some(ReminderHeld::NotOpen)
    } else if item.is_disputed() {
        Some(ReminderHeld::Disputed)
    } else if ledger.open_promise_covering(invoice_number).is_some() {
        Some(ReminderHeld::UnderPromise)
    } else {
        None
    }
}

/// An item in the book.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Dunned {
    debtor_id: String,
    due_date: NaiveDate,
    /// Day (past due) of the last step sent.
    last_step: Option<u32>,
    /// When the book looks at it next.
    next: NaiveDate,
    /// Date its last step went out (an item gets at most one step a day, also when
    /// another item's message would take it along later that day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sent_on: Option<NaiveDate>,
}

/// Overdue items and when each is looked at next.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "BookState")]
pub(crate) struct DunningBook {
    /// By invoice number: looked up, never walked in order (the timers give the order), so
    /// a hash index, written in key order.
    items: HashIndex<String, Dunned>,
    timers: BTreeSet<(NaiveDate, String)>,
    /// The items of each debtor, in invoice order (for messages that combine them).
    /// Rebuilt on loading.
    #[serde(skip)]
    by_debtor: HashIndex<String, BTreeSet<String>>,
}

/// The book as written.
#[derive(Deserialize)]
struct BookState {
    items: HashIndex<String, Dunned>,
    timers: BTreeSet<(NaiveDate, String)>,
}

impl From<BookState> for DunningBook {
    fn from(state: BookState) -> Self {
        let mut by_debtor: HashIndex<String, BTreeSet<String>> = HashIndex::default();
        for (invoice, d) in state.items.iter() {
            by_debtor
                .entry(d.debtor_id.clone())
                .or_default()
                .insert(invoice.clone());
        }
        DunningBook {
            items: state.items,
            timers: state.timers,
            by_debtor,
        }
    }
}

/// An item whose step goes out with another item's message.
struct Companion {
    invoice_number: String,
    dunned: Dunned,
    step: DunningStep,
    /// The step's channel, `preferred` resolved.
    channel: Channel,
}

/// Whether a step is a call by a person (a task) rather than a message.
fn is_call(step: &DunningStep) -> bool {
    step.channel == StepChannel::Phone
}

impl DunningBook {
    /// An item turned overdue: looked at today.
    pub(crate) fn track(
        &mut self,
        invoice_number: &str,
        debtor_id: &str,
        due_date: NaiveDate,
        today: NaiveDate,
    ) {
        if self.items.contains_key(invoice_number) {
            return;
        }
        self.insert(
            invoice_number.to_owned(),
            Dunned {
                debtor_id: debtor_id.to_owned(),
                due_date,
                last_step: None,
                next: today,
                sent_on: None,
            },
        );
    }

    /// The item is settled: it leaves the book.
    pub(crate) fn forget(&mut self, invoice_number: &str) {
        if let Some(d) = self.items.remove(invoice_number) {
            self.timers.remove(&(d.next, invoice_number.to_owned()));
            self.unlist(&d.debtor_id, invoice_number);
        }
    }

    /// Puts an item in the book, looked at on `d.next`.
    fn insert(&mut self, invoice_number: String, d: Dunned) {
        self.timers.insert((d.next, invoice_number.clone()));
        self.by_debtor
            .entry(d.debtor_id.clone())
            .or_default()
            .insert(invoice_number.clone());
        self.items.insert(invoice_number, d);
    }

    /// Takes an item off its debtor's list (it has left `items`).
    fn unlist(&mut self, debtor_id: &str, invoice_number: &str) {
        if let Some(of_debtor) = self.by_debtor.get_mut(debtor_id) {
            of_debtor.remove(invoice_number);
            if of_debtor.is_empty() {
                self.by_debtor.remove(debtor_id);
            }
        }
    }

    /// Items in the book.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Sends what has fallen due by `today`.
    pub(crate) fn run(
        &mut self,
        ctx: &mut Context<'_>,
        policy: &Policy<'_>,
        plans: &PlanBook,
        today: NaiveDate,
    ) {
        while let Some((at, invoice)) = self.timers.first().cloned() {
            if at > today {
                break;
            }
            self.timers.pop_first();
            // Out of `items` while it is decided on (it stays listed under its debtor).
            let Some(mut d) = self.items.remove(&invoice) else {
                continue;
            };
            let stays = 'decided: {
                let held = reminder_held(ctx.ledger, &invoice)
                    .or_else(|| plans.covers(&invoice).then_some(ReminderHeld::UnderPlan));
                match held {
                    Some(ReminderHeld::NotOpen | ReminderHeld::UnknownItem) => false,
                    Some(_) => {
                        d.next = today + Days::new(1);
                        true
                    }
                    None => {
                        let days_past_due = (today - d.due_date).num_days();
                        let segment = policy.segment(ctx.ledger, &d.debtor_id);
                        let after = |day: u32| d.due_date + Days::new(u64::from(day));
                        match segment.next_step(d.last_step) {
                            Some(step) if days_past_due >= i64::from(step.day) => {
                                let Some(within) = segment.combine_within_days else {
                                    send_step(ctx, policy, segment, step, &invoice, &d, today, &[]);
                                    break 'decided step_sent(segment, step, &mut d, today);
                                };
                                let companions = self.companions(
                                    ctx, policy, plans, segment, step, &invoice, &d, today, within,
                                );
                                send_step(
                                    ctx,
                                    policy,
                                    segment,
                                    step,
                                    &invoice,
                                    &d,
                                    today,
                                    &companions,
                                );
                                for c in companions {
                                    self.companion_sent(segment, c, today);
                                }
                                step_sent(segment, step, &mut d, today)
                            }
                            Some(step) => {
                                d.next = after(step.day);
                                true
                            }
                            None => match segment.collection_after_days {
                                Some(c) if days_past_due >= i64::from(c) => {
                                    handover(ctx, policy, segment, &invoice, &d, days_past_due);
                                    false
                                }
                                Some(c) => {
                                    d.next = after(c);
                                    true
                                }
                                None => false,
                            },
                        }
                    }
                }
            };
            self.put_back(invoice, d, stays);
        }
    }

    /// An item taken out of `items` to be decided on (still listed under its debtor, its
    /// timer gone): back in the book, looked at on `d.next`, or out of it.
    fn put_back(&mut self, invoice_number: String, d: Dunned, stays: bool) {
        if stays {
            self.timers.insert((d.next, invoice_number.clone()));
            self.items.insert(invoice_number, d);
        } else {
            self.unlist(&d.debtor_id, &invoice_number);
        }
    }

    /// A companion's step went out with another item's message: its timer moves to its
    /// next step, or it leaves the book when nothing more is to come.
    fn companion_sent(&mut self, segment: &Segment, c: Companion, today: NaiveDate) {
        self.timers
            .remove(&(c.dunned.next, c.invoice_number.clone()));
        self.items.remove(&c.invoice_number);
        let mut d = c.dunned;
        let stays = step_sent(segment, &c.step, &mut d, today);
        self.put_back(c.invoice_number, d, stays);
    }

    /// The debtor's other items whose next step goes with the step of `invoice_number`
    /// going out today: not sent today already, not held, in the same currency, their
    /// next step due within `within` days and, like this one, a message (or, like this
    /// one, a call). In invoice-number order.
    #[allow(clippy::too_many_arguments)]
    fn companions(
        &self,
        ctx: &Context<'_>,
        policy: &Policy<'_>,
        plans: &PlanBook,
        segment: &Segment,
        step: &DunningStep,
        invoice_number: &str,
        d: &Dunned,
        today: NaiveDate,
        within: u32,
    ) -> Vec<Companion> {
        let Some(of_debtor) = self.by_debtor.get(&d.debtor_id) else {
            return Vec::new();
        };
        let currency = ctx.ledger.item(invoice_number).map(|i| i.currency);
        let preferred = policy.preferred_channel(ctx.ledger, &d.debtor_id);
        let horizon = today + Days::new(u64::from(within));
        let mut companions = Vec::new();
        for other in of_debtor {
            if other == invoice_number {
                continue;
            }
            let Some(dunned) = self.items.get(other) else {
                continue;
            };
            if dunned.sent_on == Some(today) {
                continue;
            }
            let Some(next) = segment.next_step(dunned.last_step) else {
                continue;
            };
            let due = (dunned.due_date + Days::new(u64::from(next.day))).max(dunned.next);
            if due > horizon
                || is_call(next) != is_call(step)
                || ctx.ledger.item(other).map(|i| i.currency) != currency
                || reminder_held(ctx.ledger, other).is_some()
                || plans.covers(other)
            {
                continue;
            }
            companions.push(Companion {
                invoice_number: other.clone(),
                dunned: dunned.clone(),
                step: *next,
                channel: next.channel.resolve(preferred),
            });
        }
        companions
    }
}

/// Records that `step` went out today for the item `d`: returns whether the item stays
/// in the book (a step or the hand-over is still to come), `d.next` set to when. Steps
/// keep their spacing when the clock jumped past several (or a step went out early with
/// another item's message).
fn step_sent(segment: &Segment, step: &DunningStep, d: &mut Dunned, today: NaiveDate) -> bool {
    d.last_step = Some(step.day);
    d.sent_on = Some(today);
    let Some(next_day) = segment
        .next_step(Some(step.day))
        .map(|s| s.day)
        .or(segment.collection_after_days)
    else {
        return false;
    };
    let gap = Days::new(u64::from(next_day.saturating_sub(step.day)));
    d.next = (d.due_date + Days::new(u64::from(next_day))).max(today + gap);
    true
}

fn days(n: i64) -> String {
    if n == 1 {
        "1 day".to_owned()
    } else {
        format!("{n} days")
    }
}

fn tone_word(tone: Tone) -> &'static str {
    match tone {
        Tone::Friendly => "friendly",
        Tone::Neutral => "neutral",
        Tone::Firm => "firm",
    }
}

/// How late an item is and what is open on it, as a reminder says it.
fn lateness(invoice_number: &str, due_date: NaiveDate, open: Money, today: NaiveDate) -> String {
    let days_past_due = (today - due_date).num_days();
    format!(
        "invoice {invoice_number} was due on {due_date} ({} ago); {open} is open",
        days(days_past_due)
    )
}

/// Messages combined go on the strongest of their channels.
fn channel_rank(channel: Channel) -> u8 {
    match channel {
        Channel::Sms => 0,
        Channel::Email => 1,
        Channel::Letter => 2,
        Channel::Phone => 3,
    }
}

fn tone_rank(tone: Tone) -> u8 {
    match tone {
        Tone::Friendly => 0,
        Tone::Neutral => 1,
        Tone::Firm => 2,
    }
}

/// One step: a message on its channel, or a phone task; with `companions`, one message
/// for all their items (the strongest channel, the firmest tone, the shortest term
/// offered).
#[allow(clippy::too_many_arguments)]
fn send_step(
    ctx: &mut Context<'_>,
    policy: &Policy<'_>,
    segment: &Segment,
    step: &DunningStep,
    invoice_number: &str,
    d: &Dunned,
    today: NaiveDate,
    companions: &[Companion],
) {
    let Some(item) = ctx.ledger.item(invoice_number) else {
        return;
    };
    let mut open = Money::new(item.open_amount, item.currency);
    let debtor_id = d.debtor_id.as_str();
    let step_number = |day: u32| {
        segment
            .dunning
            .iter()
            .position(|s| s.day == day)
            .map_or(1, |i| i + 1)
    };
    let mut late = lateness(invoice_number, d.due_date, open, today);
    let mut why = format!(
        "step {} of segment \"{}\" (day {}) in strategy {}",
        step_number(step.day),
        segment.name,
        step.day,
        policy.strategy.version
    );
    let mut invoice_numbers = vec![invoice_number.to_owned()];
    let mut channel = step
        .channel
        .resolve(policy.preferred_channel(ctx.ledger, debtor_id));
    let mut tone = step.tone;
    let mut term = step.payment_term_days;
    for c in companions {
        let Some(other) = ctx.ledger.item(&c.invoice_number) else {
            continue;
        };
        let other_open = Money::new(other.open_amount, other.currency);
        late.push_str("; ");
        late.push_str(&lateness(
            &c.invoice_number,
            c.dunned.due_date,
            other_open,
            today,
        ));
        why.push_str(&format!(
            "; invoice {}: step {} (day {})",
            c.invoice_number,
            step_number(c.step.day),
            c.step.day
        ));
        open.amount += other_open.amount;
        invoice_numbers.push(c.invoice_number.clone());
        if channel_rank(c.channel) > channel_rank(channel) {
            channel = c.channel;
        }
        if tone_rank(c.step.tone) > tone_rank(tone) {
            tone = c.step.tone;
        }
        term = match (term, c.step.payment_term_days) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    if invoice_numbers.len() > 1 {
        late.push_str(&format!(
            "; {open} open on the {} invoices",
            invoice_numbers.len()
        ));
    }
    if is_call(step) {
        ctx.emit(
            Some(invoice_number),
            Some(debtor_id),
            Output::Task(Task {
                kind: TaskKind::PhoneCall,
                summary: format!(
                    "Call debtor {debtor_id} ({} tone): {late}. Dunning {why}.",
                    tone_word(tone)
                ),
                payment_id: None,
                amount: Some(open),
                candidates: Vec::new(),
                invoice_numbers,
                closure: None,
            }),
        );
        return;
    }
    let offer = term
        .map(|t| format!(" Offer {} to pay.", days(i64::from(t))))
        .unwrap_or_default();
    ctx.emit(
        Some(invoice_number),
        Some(debtor_id),
        Output::Action(Action {
            kind: ActionKind::Reminder,
            channel: Some(channel),
            tone: Some(tone),
            invoice_numbers,
            payment_term_days: term,
            installments: Vec::new(),
            summary: format!(
                "Remind debtor {debtor_id} ({}): {late}.{offer} Dunning {why}.",
                tone_word(tone)
            ),
            reason: policy.reason("dunning", debtor_id, Some(segment), Some(step.day)),
        }),
    );
}

/// The end of the schedule: hand the item to the collection agency.
fn handover(
    ctx: &mut Context<'_>,
    policy: &Policy<'_>,
    segment: &Segment,
    invoice_number: &str,
    d: &Dunned,
    days_past_due: i64,
) {
    let Some(item) = ctx.ledger.item(invoice_number) else {
        return;
    };
    let open = Money::new(item.open_amount, item.currency);
    let debtor_id = d.debtor_id.as_str();
    ctx.emit(
        Some(invoice_number),
        Some(debtor_id),
        Output::Action(Action {
            kind: ActionKind::CollectionHandover,
            channel: None,
            tone: None,
            invoice_numbers: vec![invoice_number.to_owned()],
            payment_term_days: None,
            installments: Vec::new(),
            summary: format!(
                "Hand invoice {invoice_number} of debtor {debtor_id} ({open} open, {} past due) to the collection agency: the dunning schedule of segment \"{}\" in strategy {} is done.",
                days(days_past_due),
                segment.name,
                policy.strategy.version
            ),
            reason: policy.reason(
                "collection",
                debtor_id,
                Some(segment),
                segment.collection_after_days,
            ),
        }),
    );
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_books_debtor_index_follows_its_items_and_is_rebuilt_on_loading() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let mut book = DunningBook::default();
        book.track("A", "D1", day, day);
        book.track("B", "D1", day, day);
        book.track("C", "D2", day, day);
        book.forget("B");
        book.forget("C");
        let of_d1: Vec<&str> = book.by_debtor["D1"].iter().map(String::as_str).collect();
        assert_eq!(of_d1, ["A"]);
        assert!(!book.by_debtor.contains_key("D2"));
        let written = serde_json::to_string(&book).unwrap();
        assert!(!written.contains("by_debtor"), "{written}");
        let restored: DunningBook = serde_json::from_str(&written).unwrap();
        assert_eq!(restored, book);
    }
}
