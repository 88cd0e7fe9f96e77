//! Property: streaming over any split of the events into micro-batches gives the same
//! features as one batch and as a full recomputation.

use events::{DebtorType, InputEvent, PaymentMethod};
use proptest::prelude::*;

use crate::support::*;

#[derive(Debug, Clone)]
enum Op {
    Invoice {
        debtor: usize,
        cents: u32,
        terms: u8,
    },
    Pay {
        invoice: usize,
        share: u8,
        method: u8,
    },
    Reverse {
        payment: usize,
    },
    Dispute {
        invoice: usize,
    },
    Promise {
        debtor: usize,
        days: u8,
    },
    Quiet,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize, 100..500_000u32, 0..60u8).prop_map(|(debtor, cents, terms)| Op::Invoice { debtor, cents, terms }),
        4 => (0..64usize, 1..=4u8, 0..3u8).prop_map(|(invoice, share, method)| Op::Pay { invoice, share, method }),
        1 => (0..64usize).prop_map(|payment| Op::Reverse { payment }),
        1 => (0..64usize).prop_map(|invoice| Op::Dispute { invoice }),
        1 => (0..3usize, 1..20u8).prop_map(|(debtor, days)| Op::Promise { debtor, days }),
        2 => Just(Op::Quiet),
    ]
}

/// Turns ops into dated events, one to four days apart (some on the same day).
fn script(ops: &[Op], gaps: &[u8]) -> Vec<(String, InputEvent)> {
    let start = date("2025-01-01");
    let mut day = start;
    let mut events = Vec::new();
    for (d, kind) in [
        DebtorType::Business,
        DebtorType::Consumer,
        DebtorType::TopCustomer,
    ]
    .into_iter()
    .enumerate()
    {
        events.push((day.to_string(), debtor(&format!("D{d}"), "2000", kind)));
    }
    let mut invoices: Vec<(String, usize, u32)> = Vec::new();
    let mut payments: Vec<(String, usize, String)> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        day = day + chrono::Days::new(u64::from(gaps[i % gaps.len()] % 5));
        let today = day.to_string();
        let event = match op {
            Op::Invoice {
                debtor: d,
                cents,
                terms,
            } => {
                let number = format!("I{}", invoices.len());
                invoices.push((number.clone(), *d, *cents));
                let due = day + chrono::Days::new(u64::from(*terms));
                inv(
                    &number,
                    &format!("D{d}"),
                    &format!("{}.{:02}", cents / 100, cents % 100),
                    &today,
                    &due.to_string(),
                )
            }
            Op::Pay {
                invoice,
                share,
                method,
            } if !invoices.is_empty() => {
                let (number, d, cents) = invoices[invoice % invoices.len()].clone();
                let part = cents * u32::from(*share) / 4;
                let id = format!("P{}", payments.len());
                payments.push((id.clone(), d, format!("{}.{:02}", part / 100, part % 100)));
                let method = [
                    PaymentMethod::BankTransfer,
                    PaymentMethod::DirectDebit,
                    PaymentMethod::Card,
                ][usize::from(*method)];
                pay(
                    &id,
                    &format!("D{d}"),
                    &number,
                    &format!("{}.{:02}", part / 100, part % 100),
                    &today,
                    method,
                )
            }
            Op::Reverse { payment } if !payments.is_empty() => {
                let (id, d, amount) = payments[payment % payments.len()].clone();
                reversal(&id, &format!("D{d}"), &amount, &today)
            }
            Op::Dispute { invoice } if !invoices.is_empty() => {
                let (number, d, _) = invoices[invoice % invoices.len()].clone();
                dispute(&format!("DS{i}"), &format!("D{d}"), &number)
            }
            Op::Promise { debtor: d, days } => {
                let by = day + chrono::Days::new(u64::from(*days));
                promise(
                    &format!("PR{i}"),
                    &format!("D{d}"),
                    "10",
                    &by.to_string(),
                    &[],
                )
            }
            _ => tick(),
        };
        events.push((today, event));
    }
    events
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_split_into_micro_batches_gives_the_same_features(
        ops in prop::collection::vec(op(), 1..120),
        gaps in prop::collection::vec(0..6u8, 1..16),
        cuts in prop::collection::vec(any::<bool>(), 1..40),
    ) {
        let events = script(&ops, &gaps);
        let mut one = Harness::new();
        let mut split = Harness::new();
        for (i, (day, event)) in events.iter().enumerate() {
            one.on(day, event.clone());
            split.on(day, event.clone());
            if cuts[i % cuts.len()] {
                split.flush();
            }
        }
        one.flush();
        split.flush();
        let today = one.store.watermark().unwrap() + 3;
        one.store.advance_to(today);
        split.store.advance_to(today);
        let ((one_inputs, one_features), (ref_inputs, ref_features)) = one.both(today);
        let ((split_inputs, split_features), _) = split.both(today);
        assert_same(&split_inputs, &one_inputs);
        assert_same(&split_features, &one_features);
        assert_same(&one_inputs, &ref_inputs);
        assert_same(&one_features, &ref_features);
    }
}
