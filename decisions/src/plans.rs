//! Payment plans: the "late student" case. A debtor who paid its last invoice late or in
//! parts (or has items overdue) gets a plan proposed when a new invoice is issued, where
//! its segment offers one: installments, the first on the invoice's due date. The plan
//! becomes definitive when the first installment is paid; unpaid by then, the offer
//! lapses and the invoice is dunned as usual. Under a definitive plan, a missed
//! installment sends an SMS a few days before the next one falls due; at the segment's
//! number of misses (or a miss of the last installment) the plan is broken: a task for a
//! person, and dunning resumes. Reminders are held while a plan covers the invoice.
//!
//! An installment counts as paid when payments and credit notes on the invoice add up to
//! the installments so far; it is checked the day after it fell due, in event time.

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};
use events::{
    Action, ActionKind, Channel, Currency, Installment, Money, Output, Task, TaskKind, Tone,
};
use ledger::HashIndex;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::context::{Context, Policy};
use crate::strategy::PlanPolicy;

/// Whether a plan is only offered or agreed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Offered; the first installment is not paid yet.
    Proposed,
    /// The first installment was paid.
    Definitive,
}

/// What the plan's timer does when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Check {
    /// Whether installment `k` (0-based) was paid.
    Installment(usize),
    /// The SMS before installment `k` after a missed one.
    Sms(usize),
}

/// A plan on one invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Plan {
    debtor_id: String,
    status: PlanStatus,
    currency: Currency,
    /// (due date, amount) per installment.
    installments: Vec<(NaiveDate, Decimal)>,
    policy: PlanPolicy,
    segment: String,
    missed: u32,
    check: Check,
    /// When the timer fires.
    at: NaiveDate,
}

impl Plan {
    /// Sum of installments 0..=k.
    fn due_through(&self, k: usize) -> Decimal {
        self.installments.iter().take(k + 1).map(|(_, a)| *a).sum()
    }
}

/// How a debtor paid its last settled invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Cycle {
    invoice_number: String,
    days_late: i64,
    in_parts: bool,
}

/// Plans by invoice, their timers, and what the proposal rule needs to know of the last
/// cycle of each debtor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PlanBook {
    /// Looked up, never walked: the timers give the order.
    plans: HashIndex<String, Plan>,
    timers: BTreeSet<(NaiveDate, String)>,
    /// Open invoices that received a payment which left them open.
    paid_in_part: BTreeSet<String>,
    /// The last settled invoice of each debtor that ever settled one.
    last_cycle: HashIndex<String, Cycle>,
}

fn installment_word(k: usize) -> String {
    format!("installment {}", k + 1)
}

fn list(installments: &[(NaiveDate, Decimal)], currency: Currency) -> String {
    installments
        .iter()
        .map(|(d, a)| format!("{} on {d}", Money::new(*a, currency)))
        .collect::<Vec<_>>()
        .join(", ")
}

impl PlanBook {
    /// Whether a plan (offered or agreed) covers the invoice: reminders wait.
    pub(crate) fn covers(&self, invoice_number: &str) -> bool {
        self.plans.contains_key(invoice_number)
    }

    /// The status of the plan on an invoice, if any.
    pub(crate) fn status(&self, invoice_number: &str) -> Option<PlanStatus> {
        self.plans.get(invoice_number).map(|p| p.status)
    }

    /// Plans running.
    pub(crate) fn len(&self) -> usize {
        self.plans.len()
    }

    /// A payment left the invoice open: it is being paid in parts.
    pub(crate) fn paid_in_part(&mut self, invoice_number: &str) {
        self.paid_in_part.insert(invoice_number.to_owned());
    }

    /// The invoice is settled: remember how (for the debtor's next invoice), and its plan
    /// is done.
    pub(crate) fn settled(
        &mut self,
        debtor_id: &str,
        invoice_number: &str,
        due_date: NaiveDate,
        settled_on: NaiveDate,
    ) {
        let planned = self.plans.remove(invoice_number);
        if let Some(p) = &planned {
            self.timers.remove(&(p.at, invoice_number.to_owned()));
        }
        let in_parts = self.paid_in_part.remove(invoice_number) || planned.is_some();
        self.last_cycle.insert(
            debtor_id.to_owned(),
            Cycle {
                invoice_number: invoice_number.to_owned(),
                days_late: (settled_on - due_date).num_days().max(0),
                in_parts,
            },
        );
    }

    /// A new invoice: propose a plan when the debtor's segment offers one and the debtor
    /// struggled last cycle.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn invoice_opened(
        &mut self,
        ctx: &mut Context<'_>,
        policy: &Policy<'_>,
        debtor_id: &str,
        invoice_number: &str,
        amount: Money,
        due_date: NaiveDate,
    ) {
        let segment = policy.segment(ctx.ledger, debtor_id);
        let Some(plan_policy) = &segment.payment_plan else {
            return;
        };
        // An invoice that arrives already past due gets no plan: its first installment
        // would lie in the past.
        let today = ctx.ledger.clock().map(|c| c.date_naive());
        if amount.amount < plan_policy.min_amount
            || self.plans.contains_key(invoice_number)
            || today.is_some_and(|t| due_date < t)
        {
            return;
        }
        let why = match self.last_cycle.get(debtor_id) {
            Some(c) if c.days_late > 0 && c.in_parts => format!(
                "it paid invoice {} {} days late and in parts",
                c.invoice_number, c.days_late
            ),
            Some(c) if c.days_late > 0 => format!(
                "it paid invoice {} {} days late",
                c.invoice_number, c.days_late
            ),
            Some(c) if c.in_parts => {
                format!("it paid invoice {} in parts", c.invoice_number)
            }
            _ => {
                // Other items overdue now (not this one, should it be overdue already).
                let this = ctx
                    .ledger
                    .item(invoice_number)
                    .filter(|i| i.overdue)
                    .map_or(Decimal::ZERO, |i| i.open_amount);
                let overdue = ctx
                    .ledger
                    .debtor(debtor_id)
                    .map_or(Decimal::ZERO, |a| a.overdue_balance)
                    - this;
                if overdue <= Decimal::ZERO {
                    return;
                }
                format!("it has {} overdue", Money::new(overdue, amount.currency))
            }
        };
        let n = plan_policy.installments;
        let share =
            (amount.amount / Decimal::from(n)).round_dp_with_strategy(2, RoundingStrategy::ToZero);
        let mut installments = Vec::with_capacity(n as usize);
        for k in 0..n {
            let due = due_date + Days::new(u64::from(k * plan_policy.interval_days));
            let part = if k + 1 == n {
                amount.amount - share * Decimal::from(n - 1)
            } else {
                share
            };
            installments.push((due, part));
        }
        let plan = Plan {
            debtor_id: debtor_id.to_owned(),
            status: PlanStatus::Proposed,
            currency: amount.currency,
            installments,
            policy: plan_policy.clone(),
            segment: segment.name.clone(),
            missed: 0,
            check: Check::Installment(0),
            at: due_date + Days::new(1),
        };
        let channel = policy.preferred_channel(ctx.ledger, debtor_id);
        ctx.emit(
            Some(invoice_number),
            Some(debtor_id),
            Output::Action(Action {
                kind: ActionKind::PaymentPlanProposed,
                channel: Some(channel),
                tone: Some(Tone::Friendly),
                invoice_numbers: vec![invoice_number.to_owned()],
                payment_term_days: None,
                installments: installments_out(&plan),
                summary: format!(
                    "Offer debtor {debtor_id} to pay invoice {invoice_number} ({amount}) in {n} installments: {}. Proposed because {why}; paying the first installment makes the plan definitive.",
                    list(&plan.installments, plan.currency)
                ),
                reason: policy.reason("payment_plan", debtor_id, Some(segment), None),
            }),
        );
        self.timers.insert((plan.at, invoice_number.to_owned()));
        self.plans.insert(invoice_number.to_owned(), plan);
    }

    /// Money reached a planned invoice: a proposed plan whose first installment is now
    /// paid becomes definitive.
    pub(crate) fn paid(
        &mut self,
        ctx: &mut Context<'_>,
        policy: &Policy<'_>,
        invoice_number: &str,
    ) {
        let Some(plan) = self.plans.get_mut(invoice_number) else {
            return;
        };
        if plan.status != PlanStatus::Proposed {
            return;
        }
        let Some(item) = ctx.ledger.item(invoice_number) else {
            return;
        };
        let covered = item.amount - item.open_amount;
        if covered < plan.due_through(0) {
            return;
        }
        plan.status = PlanStatus::Definitive;
        let debtor_id = plan.debtor_id.clone();
        let segment = policy.strategy.segment_named(&plan.segment);
        ctx.emit(
            Some(invoice_number),
            Some(&debtor_id),
            Output::Action(Action {
                kind: ActionKind::PaymentPlanConfirmed,
                channel: Some(policy.preferred_channel(ctx.ledger, &debtor_id)),
                tone: Some(Tone::Friendly),
                invoice_numbers: vec![invoice_number.to_owned()],
                payment_term_days: None,
                installments: installments_out(plan),
                summary: format!(
                    "Confirm to debtor {debtor_id}: the first installment of invoice {invoice_number} is paid, the plan is definitive ({}).",
                    list(&plan.installments[1..], plan.currency)
                ),
                reason: policy.reason("payment_plan", &debtor_id, segment, None),
            }),
        );
    }

    /// Runs the checks that have fallen due by `today`.
    pub(crate) fn run(&mut self, ctx: &mut Context<'_>, policy: &Policy<'_>, today: NaiveDate) {
        while let Some((at, invoice)) = self.timers.first().cloned() {
            if at > today {
                break;
            }
            self.timers.pop_first();
            let Some(mut plan) = self.plans.remove(&invoice) else {
                continue;
            };
            let covered = ctx
                .ledger
                .item(&invoice)
                .map_or(Decimal::ZERO, |i| i.amount - i.open_amount);
            let segment = policy.strategy.segment_named(&plan.segment);
            let keep = match plan.check {
                Check::Installment(k) => {
                    let last = k + 1 == plan.installments.len();
                    if covered >= plan.due_through(k) {
                        if last {
                            // Paid in full: the item settles and the plan is done.
                            false
                        } else {
                            plan.check = Check::Installment(k + 1);
                            plan.at = plan.installments[k + 1].0 + Days::new(1);
                            true
                        }
                    } else if plan.status == PlanStatus::Proposed {
                        ended(
                            ctx,
                            policy,
                            segment,
                            &plan,
                            &invoice,
                            format!(
                                "the first installment ({}) was not paid by {}; the offer lapses and the invoice is dunned as usual",
                                Money::new(plan.installments[0].1, plan.currency),
                                plan.installments[0].0
                            ),
                        );
                        false
                    } else {
                        plan.missed += 1;
                        if plan.missed >= plan.policy.break_after_missed || last {
                            broken(ctx, policy, segment, &plan, &invoice, k);
                            false
                        } else {
                            let next_due = plan.installments[k + 1].0;
                            let sms_on =
                                next_due - Days::new(u64::from(plan.policy.sms_days_before_next));
                            if sms_on <= today {
                                // Late (the clock jumped): still before the next one?
                                if today <= next_due {
                                    sms(ctx, policy, segment, &plan, &invoice, k + 1, covered);
                                }
                                plan.check = Check::Installment(k + 1);
                                plan.at = next_due + Days::new(1);
                            } else {
                                plan.check = Check::Sms(k + 1);
                                plan.at = sms_on;
                            }
                            true
                        }
                    }
                }
                Check::Sms(k) => {
                    // Only while still behind (a debtor who caught up gets no SMS), and only
                    // before the next installment falls due (the clock may have jumped).
                    if covered < plan.due_through(k - 1) && today <= plan.installments[k].0 {
                        sms(ctx, policy, segment, &plan, &invoice, k, covered);
                    }
                    plan.check = Check::Installment(k);
                    plan.at = plan.installments[k].0 + Days::new(1);
                    true
                }
            };
            if keep {
                self.timers.insert((plan.at, invoice.clone()));
                self.plans.insert(invoice, plan);
            }
        }
    }
}

fn installments_out(plan: &Plan) -> Vec<Installment> {
    plan.installments
        .iter()
        .map(|(d, a)| Installment {
            due_date: *d,
            amount: Money::new(*a, plan.currency),
        })
        .collect()
}

/// The SMS before installment `k` after a missed one.
fn sms(
    ctx: &mut Context<'_>,
    policy: &Policy<'_>,
    segment: Option<&crate::strategy::Segment>,
    plan: &Plan,
    invoice_number: &str,
    k: usize,
    covered: Decimal,
) {
    let behind = plan.due_through(k - 1) - covered;
    let (next_due, next_amount) = plan.installments[k];
    // Not for an item disputed or under a promise meanwhile (a paid one has no plan).
    if crate::dunning::reminder_held(ctx.ledger, invoice_number).is_some() {
        return;
    }
    ctx.emit(
        Some(invoice_number),
        Some(&plan.debtor_id),
        Output::Action(Action {
            kind: ActionKind::InstallmentReminder,
            channel: Some(Channel::Sms),
            tone: Some(Tone::Neutral),
            invoice_numbers: vec![invoice_number.to_owned()],
            payment_term_days: None,
            installments: vec![Installment {
                due_date: next_due,
                amount: Money::new(next_amount, plan.currency),
            }],
            summary: format!(
                "Text debtor {}: {} of the plan for invoice {invoice_number} is not paid ({} behind); {} of {} falls due on {next_due}.",
                plan.debtor_id,
                installment_word(k - 1),
                Money::new(behind, plan.currency),
                installment_word(k),
                Money::new(next_amount, plan.currency),
            ),
            reason: policy.reason("payment_plan", &plan.debtor_id, segment, None),
        }),
    );
}

/// A plan ends without being kept.
fn ended(
    ctx: &mut Context<'_>,
    policy: &Policy<'_>,
    segment: Option<&crate::strategy::Segment>,
    plan: &Plan,
    invoice_number: &str,
    why: String,
) {
    ctx.emit(
        Some(invoice_number),
        Some(&plan.debtor_id),
        Output::Action(Action {
            kind: ActionKind::PaymentPlanEnded,
            channel: None,
            tone: None,
            invoice_numbers: vec![invoice_number.to_owned()],
            payment_term_days: None,
            installments: Vec::new(),
            summary: format!(
                "The payment plan of debtor {} for invoice {invoice_number} ends: {why}.",
                plan.debtor_id
            ),
            reason: policy.reason("payment_plan", &plan.debtor_id, segment, None),
        }),
    );
}

/// A definitive plan is broken: it ends, and a person decides what next.
fn broken(
    ctx: &mut Context<'_>,
    policy: &Policy<'_>,
    segment: Option<&crate::strategy::Segment>,
    plan: &Plan,
    invoice_number: &str,
    k: usize,
) {
    let why = format!(
        "{} missed (last one {} due on {}); reminders resume",
        if plan.missed == 1 {
            "1 installment".to_owned()
        } else {
            format!("{} installments", plan.missed)
        },
        installment_word(k),
        plan.installments[k].0
    );
    ended(ctx, policy, segment, plan, invoice_number, why.clone());
    let open = ctx
        .ledger
        .item(invoice_number)
        .map(|i| Money::new(i.open_amount, i.currency));
    ctx.emit(
        Some(invoice_number),
        Some(&plan.debtor_id),
        Output::Task(Task {
            kind: TaskKind::PaymentPlanBroken,
            summary: format!(
                "Debtor {} broke the payment plan for invoice {invoice_number}: {why}. Call the debtor, agree a new plan or hand the invoice over.",
                plan.debtor_id
            ),
            payment_id: None,
            amount: open,
            candidates: Vec::new(),
            invoice_numbers: vec![invoice_number.to_owned()],
            closure: None,
        }),
    );
}
