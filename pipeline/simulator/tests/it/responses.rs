//! The response model wired into the run: what credit management sends changes when and
//! whether debtors pay, and nothing else moves while nobody sends anything.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use events::{
    Action, ActionKind, ActionReason, Channel, Envelope, InputEvent, Output, OutputEnvelope, Task,
    TaskKind, Tone,
};
use rust_decimal::Decimal;
use simulator::{Response, SimConfig, Simulator};

use crate::support::small;

fn action(debtor: &str, at: &Envelope, kind: ActionKind, invoices: Vec<String>) -> OutputEnvelope {
    OutputEnvelope {
        schema_version: 1,
        output_id: format!("{}:{}", kind.as_str(), at.event_id),
        event_time: at.event_time,
        cause_event_id: at.event_id.clone(),
        debtor_id: Some(debtor.to_owned()),
        output: Output::Action(Action {
            kind,
            channel: Some(Channel::Email),
            tone: Some(Tone::Firm),
            invoice_numbers: invoices,
            payment_term_days: None,
            installments: Vec::new(),
            summary: "test".into(),
            reason: ActionReason {
                rule: "test".into(),
                strategy_version: None,
                segment: None,
                step_day: None,
                risk_class: None,
                probability_late: None,
                model_version: None,
            },
        }),
    }
}

/// What a run did to its invoices.
#[derive(Debug, Default)]
struct Outcome {
    /// Σ days from due date to the last payment, over invoices paid.
    late_days: i64,
    paid: i64,
    written_off: usize,
    responses: BTreeMap<Response, u32>,
    /// Invoices issued per debtor, with their issue dates.
    issued: BTreeMap<String, Vec<NaiveDate>>,
}

/// Runs `config`; with `remind`, every invoice gets a firm e-mail the first day after it
/// falls due (as a naive dunning run would send it).
fn run(config: SimConfig, remind: bool, hold: Option<(&str, NaiveDate, NaiveDate)>) -> Outcome {
    let mut sim = Simulator::new(config.check().expect("valid config"));
    let mut due: BTreeMap<String, (String, NaiveDate)> = BTreeMap::new();
    let mut last_paid: BTreeMap<String, NaiveDate> = BTreeMap::new();
    let mut outcome = Outcome::default();
    let mut pending: Vec<(String, String, NaiveDate)> = Vec::new();
    while let Some(event) = sim.next() {
        match &event.event {
            InputEvent::InvoiceIssued(i) => {
                due.insert(i.invoice_number.clone(), (i.debtor_id.clone(), i.due_date));
                pending.push((i.invoice_number.clone(), i.debtor_id.clone(), i.due_date));
                outcome
                    .issued
                    .entry(i.debtor_id.clone())
                    .or_default()
                    .push(i.issue_date);
            }
            InputEvent::PaymentReceived(p) => {
                let truth = &sim.truth().payments[&p.payment_id];
                for a in &truth.allocations {
                    last_paid.insert(a.invoice_number.clone(), p.value_date);
                }
            }
            InputEvent::ClockTick(_) => {
                let today = event.event_time.date_naive();
                if let Some((debtor, on, off)) = hold {
                    let kind = if on == today {
                        Some(ActionKind::CreditHold)
                    } else if off == today {
                        Some(ActionKind::CreditHoldReleased)
                    } else {
                        None
                    };
                    if let Some(kind) = kind {
                        sim.respond(&action(debtor, &event, kind, Vec::new()));
                    }
                }
                if remind {
                    let (now, later): (Vec<_>, Vec<_>) =
                        pending.drain(..).partition(|p| p.2 < today);
                    pending = later;
                    for (number, debtor, _) in now {
                        let out = action(&debtor, &event, ActionKind::Reminder, vec![number]);
                        *outcome.responses.entry(sim.respond(&out)).or_default() += 1;
                    }
                }
            }
            _ => {}
        }
    }
    for (number, paid_on) in &last_paid {
        let (_, due_date) = &due[number];
        outcome.late_days += (*paid_on - *due_date).num_days();
        outcome.paid += 1;
    }
    outcome.written_off = sim.truth().written_off.len();
    outcome
}

#[test]
fn reminders_bring_payments_forward_and_recover_some_bad_debt() {
    let config = SimConfig {
        debtors: 3000,
        months: 12,
        ..small(7)
    };
    let quiet = run(config.clone(), false, None);
    let reminded = run(config, true, None);
    let mean = |o: &Outcome| o.late_days as f64 / o.paid as f64;
    assert!(
        mean(&reminded) < mean(&quiet) - 1.0,
        "mean days from due date to payment: reminded {:.2}, not {:.2}",
        mean(&reminded),
        mean(&quiet)
    );
    eprintln!(
        "written off: reminded {}, not {}",
        reminded.written_off, quiet.written_off
    );
    assert!(
        reminded.written_off < quiet.written_off,
        "written off: reminded {}, not {}",
        reminded.written_off,
        quiet.written_off
    );
    let sooner = reminded
        .responses
        .get(&Response::PaysSooner)
        .copied()
        .unwrap_or(0);
    let ignored = reminded
        .responses
        .get(&Response::Ignored)
        .copied()
        .unwrap_or(0);
    assert!(sooner > 0 && ignored > 0, "{:?}", reminded.responses);
}

#[test]
fn a_run_nobody_answers_is_the_plain_simulation() {
    let config = small(11);
    let plain: Vec<Envelope> = Simulator::new(config.clone().check().expect("valid")).collect();
    let mut sim = Simulator::new(config.check().expect("valid"));
    let mut answered = Vec::new();
    while let Some(event) = sim.next() {
        // Outputs about unknown debtors or invoices, and outputs that ask a known debtor
        // nothing.
        let unknown = action(
            "D999999",
            &event,
            ActionKind::Reminder,
            vec!["INV-0000001".into()],
        );
        assert_eq!(sim.respond(&unknown), Response::NotConcerned);
        if let InputEvent::InvoiceIssued(i) = &event.event {
            let debtor = i.debtor_id.as_str();
            let number = vec![i.invoice_number.clone()];
            let nothing = [
                action(
                    debtor,
                    &event,
                    ActionKind::Reminder,
                    vec!["INV-9999999".into()],
                ),
                action(
                    debtor,
                    &event,
                    ActionKind::PaymentPlanConfirmed,
                    number.clone(),
                ),
                action(
                    debtor,
                    &event,
                    ActionKind::InstallmentReminder,
                    number.clone(),
                ),
                action(debtor, &event, ActionKind::PaymentPlanEnded, number.clone()),
                OutputEnvelope {
                    output: Output::Task(Task {
                        kind: TaskKind::DisputeReview,
                        summary: "test".into(),
                        payment_id: None,
                        amount: None,
                        candidates: Vec::new(),
                        invoice_numbers: number,
                        closure: None,
                    }),
                    ..unknown.clone()
                },
            ];
            for out in &nothing {
                assert_eq!(sim.respond(out), Response::NotConcerned, "{out:?}");
            }
        }
        answered.push(event);
    }
    assert_eq!(plain, answered);
}

#[test]
fn a_credit_hold_blocks_new_invoices_until_released() {
    let config = small(3);
    let day = config.start + chrono::TimeDelta::days(40);
    let release = config.start + chrono::TimeDelta::days(100);
    let free = run(config.clone(), false, None);
    // The debtor with the most invoices after the hold day.
    let (debtor, _) = free
        .issued
        .iter()
        .max_by_key(|(_, dates)| dates.iter().filter(|d| **d > day).count())
        .expect("debtors");
    let held = run(config, false, Some((debtor, day, release)));
    let between = |o: &Outcome| {
        o.issued[debtor]
            .iter()
            .filter(|d| **d > day && **d <= release)
            .count()
    };
    let after = |o: &Outcome| o.issued[debtor].iter().filter(|d| **d > release).count();
    assert!(between(&free) > 2, "{} invoices while held", between(&free));
    assert_eq!(between(&held), 0);
    assert!(after(&held) > 0, "orders resume after the release");
}

#[test]
fn a_plan_taken_is_paid_by_its_installments() {
    let config = SimConfig {
        debtors: 1500,
        months: 8,
        ..small(21)
    };
    let mut sim = Simulator::new(config.check().expect("valid config"));
    // Invoice → its installments, for the plans the debtors took.
    let mut taken: BTreeMap<String, Vec<(NaiveDate, Decimal)>> = BTreeMap::new();
    let mut paid: BTreeMap<String, Vec<(NaiveDate, Decimal, String)>> = BTreeMap::new();
    let mut offered = 0;
    while let Some(event) = sim.next() {
        match &event.event {
            InputEvent::InvoiceIssued(i) if i.amount >= Decimal::from(100) => {
                let third = (i.amount / Decimal::from(3)).round_dp(2);
                let plan: Vec<(NaiveDate, Decimal)> = (0..3)
                    .map(|k| {
                        let amount = if k == 2 {
                            i.amount - third * Decimal::from(2)
                        } else {
                            third
                        };
                        (i.due_date + chrono::TimeDelta::days(30 * k), amount)
                    })
                    .collect();
                let mut out = action(
                    &i.debtor_id,
                    &event,
                    ActionKind::PaymentPlanProposed,
                    vec![i.invoice_number.clone()],
                );
                if let Output::Action(a) = &mut out.output {
                    a.installments = plan
                        .iter()
                        .map(|&(due_date, amount)| events::Installment {
                            due_date,
                            amount: events::Money::new(amount, events::Currency::EUR),
                        })
                        .collect();
                }
                offered += 1;
                if sim.respond(&out) == Response::TakesPlan {
                    taken.insert(i.invoice_number.clone(), plan);
                }
            }
            InputEvent::PaymentReceived(p) => {
                for a in &sim.truth().payments[&p.payment_id].allocations {
                    if taken.contains_key(&a.invoice_number) {
                        paid.entry(a.invoice_number.clone()).or_default().push((
                            p.value_date,
                            a.amount,
                            p.payment_id.clone(),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    assert!(
        taken.len() > 50 && taken.len() * 3 < offered,
        "{} of {offered}",
        taken.len()
    );
    let mut by_installment = 0;
    // A disputed invoice waits for its dispute, installments too.
    let disputed: std::collections::BTreeSet<&str> = sim
        .truth()
        .disputes
        .values()
        .map(|d| d.invoice_number.as_str())
        .collect();
    for (number, plan) in taken.iter().filter(|(n, _)| !disputed.contains(n.as_str())) {
        // Direct debits returned afterwards did not pay.
        let truth = sim.truth();
        let payments: Vec<(NaiveDate, Decimal)> = paid
            .get(number)
            .into_iter()
            .flatten()
            .filter(|p| !truth.payments[&p.2].is_reversed)
            .map(|p| (p.0, p.1))
            .collect();
        let total: Decimal = payments.iter().map(|p| p.1).sum();
        let amount: Decimal = plan.iter().map(|p| p.1).sum();
        assert!(total <= amount, "{number} paid {total} of {amount}");
        // The first installment is paid by its date, unless the whole came sooner.
        if let Some(&(date, first)) = payments.first()
            && first == plan[0].1
        {
            assert!(
                date <= plan[0].0,
                "{number}: installment of {} paid {date}",
                plan[0].0
            );
            by_installment += 1;
        }
    }
    assert!(
        by_installment * 2 > taken.len(),
        "{by_installment} of {}",
        taken.len()
    );
}
