//! Scenario tests: readable event scripts (`tests/it/scenarios/*.script`) run through a
//! ledger and decisions as the pipeline runs them, their outputs (score updates left out)
//! compared with the golden file beside each script (`*.out`). `UPDATE_GOLDEN=1 cargo test
//! -p decisions` rewrites the golden files; review the diff.
//!
//! A script is one event per line, `#` starts a comment:
//!
//! ```text
//! <date> debtor <id> <type> limit <amount> [channel <channel>]
//! <date> invoice <number> <debtor> <amount> due <date>
//! <date> payment <id> <amount> ref <invoice>          (the invoice number in the text)
//! <date> reversal <payment id> <amount> <reason code>
//! <date> dispute <id> <debtor> <invoice>
//! <date> resolve <id> <debtor> <invoice> <invoice_upheld|debtor_upheld|withdrawn>
//! <date> promise <id> <debtor> <amount> by <date> [<invoice>...]
//! <date> tick
//! <date> score <debtor> <class> <probability>         (a model score point)
//! <date> strategy <file in scenarios/>                (a strategy_activated event)
//! <date> close <task id> by <who>: <reason>
//! <date> override <debtor> <amount> by <who>: <reason>
//! expect <output id>                                  (the previous event emitted it)
//! expect-none <output kind>                           (the previous event emitted none)
//! ```
//!
//! Events get the ids `e1`, `e2`, ... in script order, so output ids read
//! `<kind>:e<n>[:<discriminator>]`.

use std::path::{Path, PathBuf};

use decisions::{ModelScore, Scored};
use events::*;

use crate::support::*;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/scenarios")
}

/// One line of the golden file per output, and its details indented.
fn render(event_id: &str, outputs: &[OutputEnvelope]) -> String {
    let mut out = String::new();
    for o in outputs {
        let (family, detail) = match &o.output {
            Output::ScoreUpdate(_) => continue,
            Output::Alert(a) => ("alert", format!("{:?}", a.severity).to_lowercase()),
            Output::Action(a) => {
                let mut d = Vec::new();
                if let Some(c) = a.channel {
                    d.push(c.as_str().to_owned());
                }
                if let Some(t) = a.tone {
                    d.push(format!("{t:?}").to_lowercase());
                }
                if let Some(t) = a.payment_term_days {
                    d.push(format!("term {t} days"));
                }
                ("action", d.join(" "))
            }
            Output::Task(t) => (
                "task",
                if t.closure.is_some() {
                    "closes".to_owned()
                } else {
                    "opens".to_owned()
                },
            ),
        };
        out.push_str(&format!(
            "{} {event_id} {family} {} {}{} [{}]\n",
            o.event_time.date_naive(),
            o.output.kind_label(),
            o.debtor_id.as_deref().unwrap_or("-"),
            if detail.is_empty() {
                String::new()
            } else {
                format!(" ({detail})")
            },
            o.output_id
        ));
        let summary = match &o.output {
            Output::Alert(a) => &a.summary,
            Output::Action(a) => &a.summary,
            Output::Task(t) => &t.summary,
            Output::ScoreUpdate(s) => &s.reason,
        };
        out.push_str(&format!("    {summary}\n"));
        if let Output::Action(a) = &o.output {
            let r = &a.reason;
            let mut parts = vec![format!("rule {}", r.rule)];
            if let Some(v) = &r.strategy_version {
                parts.push(format!("strategy {v}"));
            }
            if let Some(s) = &r.segment {
                parts.push(format!("segment {s}"));
            }
            if let Some(d) = r.step_day {
                parts.push(format!("step day {d}"));
            }
            if let Some(c) = &r.risk_class {
                parts.push(format!("class {c}"));
            }
            out.push_str(&format!("    reason: {}\n", parts.join(", ")));
            for i in &a.installments {
                out.push_str(&format!("    installment {} on {}\n", i.amount, i.due_date));
            }
        }
    }
    out
}

fn debtor_type(s: &str) -> DebtorType {
    serde_json::from_value(serde_json::Value::String(s.into()))
        .unwrap_or_else(|_| panic!("unknown debtor type {s}"))
}

fn channel(s: &str) -> Channel {
    serde_json::from_value(serde_json::Value::String(s.into()))
        .unwrap_or_else(|_| panic!("unknown channel {s}"))
}

/// `by <who>: <reason>` at the end of a line.
fn by_and_reason(rest: &str) -> (String, String) {
    let rest = rest.trim();
    let rest = rest.strip_prefix("by ").expect("`by <who>: <reason>`");
    let (who, why) = rest.split_once(':').expect("`by <who>: <reason>`");
    (who.trim().to_owned(), why.trim().to_owned())
}

/// Runs a script; returns the golden text. Panics at a failed `expect`.
fn run(name: &str) -> String {
    let text = std::fs::read_to_string(dir().join(name)).unwrap();
    let mut engine = Engine::new();
    let mut golden = format!(
        "# Outputs of {name} (score updates left out), one line each:\n# <date> <event> <family> <kind> <debtor> (details) [output id], then the summary.\n"
    );
    let mut last: Vec<OutputEnvelope> = Vec::new();
    let mut n = 0;
    for (line_no, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let at_line = || format!("{name}:{}: {raw}", line_no + 1);
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[0] {
            "expect" => {
                assert!(
                    last.iter().any(|o| o.output_id == words[1]),
                    "{}: expected {} among {:?}",
                    at_line(),
                    words[1],
                    ids(&last)
                );
                continue;
            }
            "expect-none" => {
                assert!(
                    !last.iter().any(|o| o.output.kind_label() == words[1]),
                    "{}: expected no {} among {:?}",
                    at_line(),
                    words[1],
                    ids(&last)
                );
                continue;
            }
            _ => {}
        }
        n += 1;
        let id = format!("e{n}");
        let day = words[0];
        let event = match words[1] {
            "debtor" => {
                let mut e = debtor(words[2], words[5], Channel::Email);
                if let InputEvent::DebtorUpdated(d) = &mut e {
                    d.debtor_type = debtor_type(words[3]);
                    if words.get(6) == Some(&"channel") {
                        d.preferred_channel = channel(words[7]);
                    }
                }
                e
            }
            "invoice" => {
                let mut e = inv(words[2], words[3], words[4], words[6]);
                if let InputEvent::InvoiceIssued(i) = &mut e {
                    i.issue_date = date(day);
                }
                e
            }
            "payment" => {
                let mut p = payment(words[2], words[3]);
                p.value_date = date(day);
                p.remittance_text = Some(words[5].to_owned());
                InputEvent::PaymentReceived(p)
            }
            "reversal" => reversal(words[2], words[3], words[4]),
            "dispute" => dispute(words[2], words[3], words[4]),
            "resolve" => InputEvent::DisputeResolved(DisputeResolved {
                dispute_id: words[2].into(),
                debtor_id: words[3].into(),
                invoice_number: words[4].into(),
                outcome: serde_json::from_value(serde_json::Value::String(words[5].into()))
                    .unwrap(),
            }),
            "promise" => {
                let mut e = promise(words[2], words[3], words[4], words[6]);
                if let InputEvent::PromiseToPay(p) = &mut e {
                    p.invoice_numbers = words[7..].iter().map(|s| s.to_string()).collect();
                }
                e
            }
            "tick" => tick(),
            "strategy" => InputEvent::StrategyActivated(StrategyActivated {
                version: {
                    let t = std::fs::read_to_string(dir().join(words[2])).unwrap();
                    decisions::Strategy::parse(words[2], &t)
                        .map(|s| s.version)
                        .unwrap_or_else(|_| words[2].to_owned())
                },
                config: std::fs::read_to_string(dir().join(words[2])).unwrap(),
                activated_by: "analyst".into(),
                reason: String::new(),
            }),
            "close" => {
                let (who, why) = by_and_reason(&line[line.find(" by ").unwrap()..]);
                InputEvent::TaskClosed(TaskClosed {
                    task_id: words[2].into(),
                    closed_by: who,
                    reason: why,
                })
            }
            "override" => {
                let (who, why) = by_and_reason(&line[line.find(" by ").unwrap()..]);
                InputEvent::LimitOverride(LimitOverride {
                    debtor_id: words[2].into(),
                    credit_limit: dec(words[3]),
                    currency: Currency::EUR,
                    set_by: who,
                    reason: why,
                })
            }
            "score" => {
                let envelope = Envelope::new(&id, at(day), tick());
                let mut out = engine.on(&id, day, tick());
                out.extend(engine.decisions.decide_scores(
                    &envelope,
                    &[Scored {
                        debtor_id: words[2].into(),
                        score: ModelScore {
                            model_version: "m1".into(),
                            probability_late: words[4].parse().unwrap(),
                            risk_class: words[3].into(),
                            recommended_limit: None,
                            challenger: None,
                        },
                        explanation: "scripted score".into(),
                    }],
                    &engine.ledger,
                ));
                golden.push_str(&render(&id, &out));
                last = out;
                continue;
            }
            other => panic!("{}: unknown event `{other}`", at_line()),
        };
        let out = engine.on(&id, day, event);
        golden.push_str(&render(&id, &out));
        last = out;
    }
    golden
}

fn check(name: &str) {
    let actual = run(&format!("{name}.script"));
    golden(&dir().join(format!("{name}.out")), &actual);
}

#[test]
fn dunning_follows_the_segment_schedule_to_the_collection_agency() {
    check("dunning_schedule");
}

#[test]
fn late_student_gets_a_plan_that_turns_definitive_and_a_text_after_a_miss() {
    check("late_student");
}

#[test]
fn unpaid_first_installment_lets_the_offer_lapse_and_dunning_resume() {
    check("plan_lapses");
}

#[test]
fn a_debtors_reminders_due_within_days_of_each_other_go_in_one_message() {
    check("combined_reminders");
}

#[test]
fn promises_pause_reminders_until_kept_or_broken() {
    check("promises");
}

#[test]
fn no_reminder_for_items_paid_or_disputed_before_the_step_goes_out() {
    check("suppression");
}

#[test]
fn credit_holds_follow_exposure_and_the_worst_class_per_segment() {
    check("credit_holds");
}

#[test]
fn a_strategy_activated_in_the_log_takes_over_and_a_bad_one_is_refused() {
    check("strategy_activation");
}

#[test]
fn tasks_close_by_people_and_by_resolutions_and_overrides_take_effect() {
    check("tasks_and_overrides");
}
