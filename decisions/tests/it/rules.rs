use decisions::DecisionConfig;
use events::*;

use crate::support::*;

fn only<'a>(outputs: &'a [OutputEnvelope], kind: &str) -> Vec<&'a OutputEnvelope> {
    outputs
        .iter()
        .filter(|o| o.output.kind_label() == kind)
        .collect()
}

#[test]
fn unmatched_payment_becomes_a_task_with_candidates() {
    let mut e = Engine::new();
    e.on("e1", "2025-01-01", inv("A", "D2", "99", "2025-02-01"));
    e.on("e2", "2025-01-01", inv("B", "D1", "99", "2025-02-01"));
    let mut p = payment("P1", "99");
    p.counterparty_name = Some("J. Doe".into());
    let out = e.on("e3", "2025-01-05", InputEvent::PaymentReceived(p));
    assert_eq!(
        ids(&out),
        [("unmatched_payment:e3".to_string(), "unmatched_payment")]
    );
    let o = &out[0];
    assert_eq!(o.cause_event_id, "e3");
    assert_eq!(o.event_time, at("2025-01-05"));
    assert_eq!(o.schema_version, CURRENT_SCHEMA_VERSION);
    assert_eq!(o.debtor_id, None);
    let Output::Task(task) = &o.output else {
        panic!()
    };
    assert_eq!(task.kind, TaskKind::UnmatchedPayment);
    assert_eq!(task.candidates, ["D1", "D2"]);
    assert_eq!(task.payment_id.as_deref(), Some("P1"));
    assert!(task.summary.contains("J. Doe"), "{}", task.summary);
}

#[test]
fn payment_fitting_several_invoices_becomes_a_task_listing_them() {
    let mut e = Engine::new();
    e.on("e1", "2025-01-01", inv("A", "D1", "60", "2025-02-01"));
    e.on("e2", "2025-01-01", inv("B", "D1", "60", "2025-02-10"));
    let mut p = payment("P1", "60");
    p.debtor_id = Some("D1".into());
    let out = e.on("e3", "2025-01-05", InputEvent::PaymentReceived(p));
    assert_eq!(
        ids(&out),
        [("unmatched_payment:e3".to_string(), "unmatched_payment")]
    );
    assert_eq!(out[0].debtor_id.as_deref(), Some("D1"));
    let Output::Task(task) = &out[0].output else {
        panic!()
    };
    assert_eq!(task.kind, TaskKind::UnmatchedPayment);
    assert_eq!(task.candidates, ["A", "B"]);
    assert!(
        task.summary
            .contains("its amount fits several invoices of debtor D1 (A, B)"),
        "{}",
        task.summary
    );
}

#[test]
fn unknown_reversal_becomes_a_task() {
    let mut e = Engine::new();
    let out = e.on("e1", "2025-01-05", reversal("P404", "10", "MD06"));
    assert_eq!(
        ids(&out),
        [("unknown_reversal:e1".to_string(), "unknown_reversal")]
    );
    let Output::Task(task) = &out[0].output else {
        panic!()
    };
    assert!(
        task.summary.contains("MD06 (refund request by the debtor)"),
        "{}",
        task.summary
    );
}

#[test]
fn payment_in_another_currency_becomes_a_task() {
    let mut e = Engine::new();
    e.on("e1", "2025-01-01", inv("A", "D1", "100", "2025-02-01"));
    let mut p = payment("P1", "100");
    p.currency = Currency::parse("GBP").unwrap();
    p.remittance_text = Some("A".into());
    let out = e.on("e2", "2025-01-05", InputEvent::PaymentReceived(p));
    assert_eq!(
        ids(&out),
        [("currency_mismatch:e2".to_string(), "currency_mismatch")]
    );
    let Output::Task(task) = &out[0].output else {
        panic!()
    };
    assert_eq!(task.candidates, ["A"]);
    assert_eq!(out[0].debtor_id.as_deref(), Some("D1"));
}

#[test]
fn reversal_raises_a_warning_naming_the_reason_code() {
    let mut e = Engine::new();
    e.on("e1", "2025-01-01", inv("A", "D1", "100", "2025-02-01"));
    e.on("e2", "2025-01-05", pay_text("P1", "100", "A"));
    let out = e.on("e3", "2025-01-08", reversal("P1", "100", "AM04"));
    let alerts = only(&out, "reversal_received");
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].output_id, "reversal_received:e3");
    let Output::Alert(alert) = &alerts[0].output else {
        panic!()
    };
    assert_eq!(alert.severity, Severity::Warning);
    assert!(
        alert.summary.contains("AM04 (insufficient funds)"),
        "{}",
        alert.summary
    );
    assert!(alert.summary.contains("A open again"), "{}", alert.summary);
    assert_eq!(alert.reference.as_deref(), Some("P1"));
}

#[test]
fn dispute_raises_an_info_alert() {
    let mut e = Engine::new();
    e.on("e1", "2025-01-01", inv("A", "D1", "100", "2025-02-01"));
    let out = e.on("e2", "2025-01-05", dispute("X1", "D1", "A"));
    assert_eq!(
        ids(&out),
        [
            ("dispute_opened:e2".to_string(), "dispute_opened"),
            ("dispute_review:e2:X1".to_string(), "dispute_review"),
        ]
    );
    let Output::Alert(alert) = &out[0].output else {
        panic!()
    };
    assert_eq!(alert.severity, Severity::Info);
    assert!(alert.summary.contains("wrong quantity"));
}

#[test]
fn broken_promise_raises_a_warning() {
    let mut e = Engine::new();
    e.on("e1", "2025-01-01", inv("A", "D1", "100", "2025-01-10"));
    e.on(
        "e2",
        "2025-01-12",
        promise("PR1", "D1", "100", "2025-01-20"),
    );
    let out = e.on("e3", "2025-01-21", tick());
    // The promise held the reminders; broken, dunning resumes with the step now due.
    assert_eq!(
        ids(&out),
        [
            ("promise_broken:e3:PR1".to_string(), "promise_broken"),
            ("reminder:e3:A".to_string(), "reminder"),
        ]
    );
    let Output::Alert(alert) = &out[0].output else {
        panic!()
    };
    assert_eq!(alert.severity, Severity::Warning);
}

#[test]
fn exposure_above_limit_alerts_and_holds_then_releases() {
    let mut e = Engine::new();
    e.on("e1", "2025-01-01", debtor("D1", "150", Channel::Email));
    e.on("e2", "2025-01-01", inv("A", "D1", "100", "2025-02-01"));
    let out = e.on("e3", "2025-01-02", inv("B", "D1", "100", "2025-02-01"));
    let kinds: Vec<_> = without_scores(&out)
        .iter()
        .map(|o| (o.output_id.as_str(), o.output.kind_label()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("exposure_above_limit:e3:D1", "exposure_above_limit"),
            ("credit_hold:e3:D1", "credit_hold"),
        ]
    );
    let Output::Alert(alert) = &out[0].output else {
        panic!()
    };
    assert_eq!(alert.severity, Severity::High);

    let out = e.on("e4", "2025-01-03", pay_text("P1", "100", "A"));
    let kinds: Vec<_> = without_scores(&out)
        .iter()
        .map(|o| o.output_id.as_str())
        .collect();
    assert_eq!(kinds, ["credit_hold_released:e4:D1"]);
}

#[test]
fn overdue_item_gets_a_friendly_reminder_on_the_preferred_channel() {
    let mut e = Engine::new();
    e.on("e1", "2025-01-01", debtor("D1", "1000", Channel::Sms));
    e.on("e2", "2025-01-01", inv("A", "D1", "100", "2025-01-31"));
    // The built-in strategy's "standard" segment: first step on day 3, preferred channel.
    let out = e.on("e3", "2025-02-03", tick());
    let reminders = only(&out, "reminder");
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].output_id, "reminder:e3:A");
    let Output::Action(action) = &reminders[0].output else {
        panic!()
    };
    assert_eq!(action.channel, Some(Channel::Sms));
    assert_eq!(action.tone, Some(Tone::Friendly));
    assert_eq!(action.invoice_numbers, ["A"]);
}

#[test]
fn reminder_goes_by_email_when_the_channel_is_unknown() {
    let mut e = Engine::new();
    e.on("e1", "2025-01-01", inv("A", "D1", "100", "2025-01-31"));
    let out = e.on("e2", "2025-02-03", tick());
    let Output::Action(action) = &only(&out, "reminder")[0].output else {
        panic!()
    };
    assert_eq!(action.channel, Some(Channel::Email));
}

#[test]
fn no_reminder_for_an_item_paid_in_the_same_event_that_turned_it_overdue() {
    let mut e = Engine::new();
    e.on("e1", "2025-01-01", inv("A", "D1", "100", "2025-01-31"));
    // No tick in between: the payment's advance_to turns A overdue, its apply pays it.
    let out = e.on("e2", "2025-02-03", pay_text("P1", "100", "A"));
    assert!(only(&out, "reminder").is_empty(), "{:?}", ids(&out));
}

#[test]
fn no_reminder_for_a_disputed_item() {
    let mut e = Engine::new();
    e.on("e1", "2025-01-01", inv("A", "D1", "100", "2025-01-31"));
    e.on("e2", "2025-01-15", dispute("X1", "D1", "A"));
    let out = e.on("e3", "2025-02-01", tick());
    assert!(only(&out, "reminder").is_empty());
}

#[test]
fn no_reminder_while_an_unbroken_promise_covers_the_item() {
    let mut e = Engine::new();
    e.on("e1", "2025-01-01", inv("A", "D1", "100", "2025-01-31"));
    e.on(
        "e2",
        "2025-01-25",
        promise("PR1", "D1", "100", "2025-02-10"),
    );
    let out = e.on("e3", "2025-02-01", tick());
    assert!(only(&out, "reminder").is_empty());
}

#[test]
fn score_update_is_published_only_when_the_standing_changed() {
    let mut e = Engine::new();
    let out = e.on("e1", "2025-01-01", inv("A", "D1", "100", "2025-01-31"));
    let scores = only(&out, "score_update");
    assert_eq!(scores.len(), 1);
    assert_eq!(scores[0].output_id, "score_update:e1:D1");
    let Output::ScoreUpdate(s) = &scores[0].output else {
        panic!()
    };
    assert_eq!(s.open_balance, dec("100"));
    assert_eq!(s.probability_late, None);
    assert_eq!(s.reason, "first standing published for this debtor");

    let out = e.on("e2", "2025-01-05", inv("B", "D1", "50", "2025-01-31"));
    let Output::ScoreUpdate(s) = &only(&out, "score_update")[0].output else {
        panic!()
    };
    assert_eq!(s.reason, "open balance 100 → 150");

    // A partial payment and its reversal within one decision leave nothing to publish
    // only if the standing equals the last published one; here it changes.
    let out = e.on("e3", "2025-01-06", pay_text("P1", "50", "B"));
    assert_eq!(only(&out, "score_update").len(), 1);

    // Master data with the same limit twice: the second changes nothing.
    e.on("e4", "2025-01-07", debtor("D1", "500", Channel::Email));
    let out = e.on("e5", "2025-01-08", debtor("D1", "500", Channel::Letter));
    assert!(only(&out, "score_update").is_empty());
}

#[test]
fn score_updates_on_every_change_report_when_configured_so() {
    let mut e = Engine::with(DecisionConfig {
        score_updates_only_on_change: false,
        ..DecisionConfig::default()
    });
    e.on("e1", "2025-01-01", inv("A", "D1", "100", "2025-01-31"));
    assert_eq!(
        e.decisions.last_published("D1").map(|s| s.open_balance),
        Some(dec("100"))
    );
}

#[test]
fn a_call_for_money_paid_closes_at_once_and_calls_restored_stale_close_at_the_next_event() {
    let mut e = Engine::new();
    let InputEvent::DebtorUpdated(mut t1) = debtor("T1", "50000", Channel::Email) else {
        panic!()
    };
    t1.debtor_type = DebtorType::TopCustomer;
    e.on("e1", "2025-01-01", InputEvent::DebtorUpdated(t1));
    e.on("e2", "2025-01-01", inv("A", "T1", "100", "2025-01-31"));
    assert_eq!(only(&e.on("e3", "2025-02-10", tick()), "reminder").len(), 1);
    let out = e.on("e4", "2025-03-02", tick());
    let calls: Vec<&str> = only(&out, "phone_call")
        .iter()
        .map(|o| o.output_id.as_str())
        .collect();
    assert_eq!(calls, ["phone_call:e4:A"]);
    let before_payment = serde_json::to_string(&e.decisions).unwrap();

    // Paid: the call is not needed any more.
    let out = e.on("e5", "2025-03-05", pay_text("P1", "100", "A"));
    let closing: Vec<_> = out
        .iter()
        .filter(|o| o.output_id == "task_closed:e5:phone_call:e4:A")
        .collect();
    assert_eq!(closing.len(), 1, "{:?}", ids(&out));
    let Output::Task(t) = &closing[0].output else {
        panic!()
    };
    assert_eq!(
        t.closure.as_ref().map(|c| c.closed_by.as_str()),
        Some("settled")
    );

    // Restored from a checkpoint taken after that: nothing left to close.
    let after_payment = serde_json::to_string(&e.decisions).unwrap();
    let mut restored: decisions::Decisions = serde_json::from_str(&after_payment).unwrap();
    let tick6 = Envelope::new("e6", at("2025-03-06"), tick());
    let mut effects = e.ledger.advance_to(tick6.event_time);
    effects.extend(e.ledger.apply(&tick6));
    let out = restored.decide(&tick6, &effects, &e.ledger);
    assert!(only(&out, "phone_call").is_empty(), "{:?}", ids(&out));

    // State as a build before calls closed by themselves left it (the call still open,
    // its invoice paid): checked once, at the first event after loading.
    let mut stale: decisions::Decisions = serde_json::from_str(&before_payment).unwrap();
    let tick7 = Envelope::new("e7", at("2025-03-07"), tick());
    let mut effects = e.ledger.advance_to(tick7.event_time);
    effects.extend(e.ledger.apply(&tick7));
    let out = stale.decide(&tick7, &effects, &e.ledger);
    assert_eq!(
        ids(&out),
        [("task_closed:e7:phone_call:e4:A".to_string(), "phone_call")]
    );
    let tick8 = Envelope::new("e8", at("2025-03-08"), tick());
    let effects = e.ledger.advance_to(tick8.event_time);
    assert!(stale.decide(&tick8, &effects, &e.ledger).is_empty());
}
