//! Whatever happens, a reminder is never sent for an invoice that is paid or disputed when
//! the decision is made, and output ids never repeat.

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
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..6_usize, 0..3_usize, 1..120_u8).prop_map(|(id, invoice, amount)| Op::Pay {
            id,
            invoice,
            amount
        }),
        (0..6_usize).prop_map(|id| Op::Reverse { id }),
        (0..3_usize).prop_map(|invoice| Op::Dispute { invoice }),
        (0..3_usize).prop_map(|invoice| Op::Resolve { invoice }),
        (0..3_usize, 0..20_u8).prop_map(|(id, days)| Op::Promise { id, days }),
        (0..20_u8).prop_map(|days| Op::Tick { days }),
    ]
}

proptest! {
    #[test]
    fn reminders_only_for_open_undisputed_items(ops in proptest::collection::vec(op(), 0..40)) {
        let mut e = Engine::new();
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
            };
            let outputs = e.on(&format!("e{seq}"), &day.to_string(), event);
            for o in &outputs {
                prop_assert!(seen.insert(o.output_id.clone()), "repeated id {}", o.output_id);
                if let Output::Action(Action { kind: ActionKind::Reminder, invoice_numbers, .. }) = &o.output {
                    for number in invoice_numbers {
                        let item = e.ledger.item(number);
                        prop_assert!(item.is_some_and(|i| i.is_open() && !i.is_disputed()), "reminder for {number}");
                        prop_assert!(e.ledger.open_promise_covering(number).is_none());
                    }
                }
            }
        }
    }
}
