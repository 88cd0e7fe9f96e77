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

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate};
use events::{Action, ActionKind, Money, Output, Task, TaskKind, Tone};
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
}

/// Overdue items and when each is looked at next.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DunningBook {
    items: BTreeMap<String, Dunned>,
    timers: BTreeSet<(NaiveDate, String)>,
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
        self.items.insert(
            invoice_number.to_owned(),
            Dunned {
                debtor_id: debtor_id.to_owned(),
                due_date,
                last_step: None,
                next: today,
            },
        );
        self.timers.insert((today, invoice_number.to_owned()));
    }

    /// The item is settled: it leaves the book.
    pub(crate) fn forget(&mut self, invoice_number: &str) {
        if let Some(d) = self.items.remove(invoice_number) {
            self.timers.remove(&(d.next, invoice_number.to_owned()));
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
            let Some(mut d) = self.items.remove(&invoice) else {
                continue;
            };
            let held = reminder_held(ctx.ledger, &invoice)
                .or_else(|| plans.covers(&invoice).then_some(ReminderHeld::UnderPlan));
            match held {
                Some(ReminderHeld::NotOpen | ReminderHeld::UnknownItem) => continue,
                Some(_) => {
                    d.next = today + Days::new(1);
                }
                None => {
                    let days_past_due = (today - d.due_date).num_days();
                    let segment = policy.segment(ctx.ledger, &d.debtor_id);
                    let after = |day: u32| d.due_date + Days::new(u64::from(day));
                    match segment.next_step(d.last_step) {
                        Some(step) if days_past_due >= i64::from(step.day) => {
                            send_step(ctx, policy, segment, step, &invoice, &d, days_past_due);
                            d.last_step = Some(step.day);
                            let Some(next_day) = segment
                                .next_step(Some(step.day))
                                .map(|s| s.day)
                                .or(segment.collection_after_days)
                            else {
                                // The schedule is done: nothing more to send.
                                continue;
                            };
                            // Steps keep their spacing when the clock jumped past several.
                            let gap = Days::new(u64::from(next_day.saturating_sub(step.day)));
                            d.next = after(next_day).max(today + gap);
                        }
                        Some(step) => d.next = after(step.day),
                        None => match segment.collection_after_days {
                            Some(c) if days_past_due >= i64::from(c) => {
                                handover(ctx, policy, segment, &invoice, &d, days_past_due);
                                continue;
                            }
                            Some(c) => d.next = after(c),
                            None => continue,
                        },
                    }
                }
            }
            self.timers.insert((d.next, invoice.clone()));
            self.items.insert(invoice, d);
        }
    }
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

/// One step: a message on its channel, or a phone task.
fn send_step(
    ctx: &mut Context<'_>,
    policy: &Policy<'_>,
    segment: &Segment,
    step: &DunningStep,
    invoice_number: &str,
    d: &Dunned,
    days_past_due: i64,
) {
    let Some(item) = ctx.ledger.item(invoice_number) else {
        return;
    };
    let open = Money::new(item.open_amount, item.currency);
    let debtor_id = d.debtor_id.as_str();
    let number = segment
        .dunning
        .iter()
        .position(|s| s.day == step.day)
        .map_or(1, |i| i + 1);
    let late = format!(
        "invoice {invoice_number} was due on {} ({} ago); {open} is open",
        d.due_date,
        days(days_past_due)
    );
    let why = format!(
        "step {number} of segment \"{}\" (day {}) in strategy {}",
        segment.name, step.day, policy.strategy.version
    );
    if step.channel == StepChannel::Phone {
        ctx.emit(
            Some(invoice_number),
            Some(debtor_id),
            Output::Task(Task {
                kind: TaskKind::PhoneCall,
                summary: format!(
                    "Call debtor {debtor_id} ({} tone): {late}. Dunning {why}.",
                    tone_word(step.tone)
                ),
                payment_id: None,
                amount: Some(open),
                candidates: Vec::new(),
                invoice_numbers: vec![invoice_number.to_owned()],
                closure: None,
            }),
        );
        return;
    }
    let channel = step
        .channel
        .resolve(policy.preferred_channel(ctx.ledger, debtor_id));
    let term = step
        .payment_term_days
        .map(|t| format!(" Offer {} to pay.", days(i64::from(t))))
        .unwrap_or_default();
    ctx.emit(
        Some(invoice_number),
        Some(debtor_id),
        Output::Action(Action {
            kind: ActionKind::Reminder,
            channel: Some(channel),
            tone: Some(step.tone),
            invoice_numbers: vec![invoice_number.to_owned()],
            payment_term_days: step.payment_term_days,
            installments: Vec::new(),
            summary: format!(
                "Remind debtor {debtor_id} ({}): {late}.{term} Dunning {why}.",
                tone_word(step.tone)
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
