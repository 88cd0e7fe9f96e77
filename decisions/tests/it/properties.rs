//! Whatever happens, a reminder is never sent for an invoice that is paid, disputed,
//! promised or under a payment plan when the decision is made (an installment reminder
//! only for a plan's open, undisputed, unpromised invoice), and output ids never repeat.

use std::collections::BTreeSet;

use events::*;
use proptest::prelude::*;

use crate::support::*;

#[derive(Clone, Debug)]
enum Op {
    Pay {
        id: usize,
        invoice: usize,
        amount: u8,
    },
    Reverse {
        id: usize,
    },
    Dispute {
        invoice: usize,
    },
    Resolve {
        invoice: usize,
    },
    Promise {
        id: usize,
        days: u8,
    },
    Tick {
        days: u8,
    },
    Invoice {
        amount: u16,
        due_in: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..6_usize, 0..6_usize, 1..120_u8).prop_map(|(id, invoice, amount)| Op::Pay {
            id,
            invoice,
            amount
        }),
        (0..6_usize).prop_map(|id| Op::Reverse { id }),
        (0..3_usize).prop_map(|invoice| Op::Dispute { invoice }),
        (0..3_usize).prop_map(|invoice| Op::Resolve { invoice }),
        (0..3_usize, 0..20_u8).prop_map(|(id, days)| Op::Promise { id, days }),
        (0..20_u8).prop_map(|days| Op::Tick { days }),
        (0..40_u8).prop_map(|days| Op::Tick { days }),
        (200..400_u16, 0..40_u8).prop_map(|(amount, due_in)| Op::Invoice { amount, due_in }),
    ]
}

proptest! {
    #[test]
    fn reminders_only_for_open_undisputed_items(ops in proptest::collection::vec(op(), 0..60)) {
        let mut e = Engine::new();
        // A consumer: its segment offers payment plans, so plans come and go too.
        let mut consumer = debtor("D1", "100000", Channel::Email);
        if let InputEvent::DebtorUpdated(d) = &mut consumer {
            d.debtor_type = DebtorType::Consumer;
        }
        e.on("d1", "2025-01-01", consumer);
        let mut invoices = 3;
        let mut seen = BTreeSet::new();
        let mut day = date("2025-01-01");
        for (n, due) in ["2025-01-10", "2025-01-20", "2025-02-01"].iter().enumerate() {
            e.on(&format!("i{n}"), "2025-01-01", inv(&format!("I{n}"), "D1", "100", due));
        }
        for (seq, op) in ops.iter().enumerate() {
            let event = match op {
                Op::Pay { id, invoice, amount } => {
                    let mut p = payment(&format!("P{id}"), &amount.to_string());
                    p.remittance_text = Some(format!("I{invoice}"));
                    InputEvent::PaymentReceived(p)
                }
                Op::Reverse { id } => reversal(&format!("P{id}"), "1", "AM04"),
                Op::Dispute { invoice } => dispute(&format!("X{invoice}"), "D1", &format!("I{invoice}")),
                Op::Resolve { invoice } => InputEvent::DisputeResolved(DisputeResolved {
                    dispute_id: format!("X{invoice}"),
                    debtor_id: "D1".into(),
                    invoice_number: format!("I{invoice}"),
                    outcome: DisputeOutcome::InvoiceUpheld,
                }),
                Op::Promise { id, days } => {
                    promise(&format!("PR{id}"), "D1", "50", &(day + chrono::Days::new(u64::from(*days))).to_string())
                }
                Op::Tick { days } => {
                    day = day + chrono::Days::new(u64::from(*days));
                    tick()
                }
                Op::Invoice { amount, due_in } => {
                    let due = day + chrono::Days::new(u64::from(*due_in));
                    let mut i = inv(&format!("I{invoices}"), "D1", &amount.to_string(), &due.to_string());
                    if let InputEvent::InvoiceIssued(i) = &mut i {
                        i.issue_date = day;
                    }
                    invoices += 1;
                    i
                }
            };
            let outputs = e.on(&format!("e{seq}"), &day.to_string(), event);
            for o in &outputs {
                prop_assert!(seen.insert(o.output_id.clone()), "repeated id {}", o.output_id);
                let Output::Action(Action { kind, invoice_numbers, .. }) = &o.output else {
                    continue;
                };
                if !matches!(kind, ActionKind::Reminder | ActionKind::InstallmentReminder) {
                    continue;
                }
                for number in invoice_numbers {
                    let item = e.ledger.item(number);
                    prop_assert!(item.is_some_and(|i| i.is_open() && !i.is_disputed()), "{kind:?} for {number}");
                    prop_assert!(e.ledger.open_promise_covering(number).is_none(), "{kind:?} for promised {number}");
                    let planned = e.decisions.plan_status(number).is_some();
                    if *kind == ActionKind::Reminder {
                        prop_assert!(!planned, "reminder for planned {number}");
                    } else {
                        prop_assert!(planned, "installment reminder without a plan for {number}");
                    }
                }
            }
        }
    }
}
