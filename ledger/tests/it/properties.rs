//! Properties over random event sequences on small ledgers: money is conserved, nothing is
//! over-allocated, the matcher agrees with brute force, a reversal restores the items, and
//! replay and checkpoint/restore are deterministic.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use events::*;
use ledger::references::creditor_reference;
use ledger::{Ledger, LedgerConfig, LedgerEffect, MatchRule, PaymentStatus};
use proptest::prelude::*;
use rust_decimal::Decimal;

const DEBTORS: usize = 3;
const INVOICES: usize = 8;
const AMOUNTS: [&str; 5] = ["10", "20", "35.50", "50", "0.01"];

#[derive(Clone, Debug)]
enum Reference {
    None,
    Structured(usize),
    Text(Vec<usize>),
    DebtorId(usize),
    Iban(usize),
    UnknownIban,
}

#[derive(Clone, Debug)]
enum Op {
    Master {
        debtor: usize,
        limit: u32,
    },
    Invoice {
        number: usize,
        debtor: usize,
        amount: usize,
        due_in: u64,
    },
    Pay {
        id: usize,
        amount: usize,
        reference: Reference,
        usd: bool,
    },
    Reverse {
        id: usize,
    },
    Credit {
        id: usize,
        debtor: usize,
        amount: usize,
        invoice: Option<usize>,
    },
    Dispute {
        invoice: usize,
        open: bool,
    },
    Promise {
        id: usize,
        debtor: usize,
        amount: usize,
        days: u64,
    },
    Tick {
        days: u64,
    },
}

fn reference() -> impl Strategy<Value = Reference> {
    prop_oneof![
        Just(Reference::None),
        (0..INVOICES).prop_map(Reference::Structured),
        proptest::collection::vec(0..INVOICES, 1..4).prop_map(Reference::Text),
        (0..DEBTORS).prop_map(Reference::DebtorId),
        (0..DEBTORS).prop_map(Reference::Iban),
        Just(Reference::UnknownIban),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (0..DEBTORS, 0..200_u32).prop_map(|(debtor, limit)| Op::Master { debtor, limit }),
        4 => (0..INVOICES, 0..DEBTORS, 0..AMOUNTS.len(), 0..40_u64)
            .prop_map(|(number, debtor, amount, due_in)| Op::Invoice { number, debtor, amount, due_in }),
        5 => (0..10_usize, 0..AMOUNTS.len(), reference(), proptest::bool::weighted(0.05))
            .prop_map(|(id, amount, reference, usd)| Op::Pay { id, amount, reference, usd }),
        2 => (0..10_usize).prop_map(|id| Op::Reverse { id }),
        1 => (0..4_usize, 0..DEBTORS, 0..AMOUNTS.len(), proptest::option::of(0..INVOICES))
            .prop_map(|(id, debtor, amount, invoice)| Op::Credit { id, debtor, amount, invoice }),
        1 => (0..INVOICES, any::<bool>()).prop_map(|(invoice, open)| Op::Dispute { invoice, open }),
        1 => (0..3_usize, 0..DEBTORS, 0..AMOUNTS.len(), 0..20_u64)
            .prop_map(|(id, debtor, amount, days)| Op::Promise { id, debtor, amount, days }),
        2 => (0..15_u64).prop_map(|days| Op::Tick { days }),
    ]
}

fn ops(max: usize) -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(op(), 0..max)
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default()
}

fn iban(debtor: usize) -> String {
    format!("NL{debtor:02}BANK000000000{debtor}")
}

fn invoice_number(n: usize) -> String {
    format!("INV-{n:03}")
}

/// Turns ops into envelopes, moving event time with ticks.
fn envelopes(ops: &[Op]) -> Vec<Envelope> {
    let mut day = start();
    let mut out = Vec::new();
    for (seq, op) in ops.iter().enumerate() {
        let event = match op {
            Op::Master { debtor, limit } => InputEvent::DebtorUpdated(DebtorUpdated {
                debtor_id: format!("D{debtor}"),
                name: "x".into(),
                debtor_type: DebtorType::Business,
                country: "NL".into(),
                payment_method: PaymentMethod::DirectDebit,
                preferred_channel: Channel::Email,
                credit_limit: Decimal::from(*limit),
                currency: Currency::EUR,
                ibans: if *debtor == 0 { vec![iban(0)] } else { vec![] },
            }),
            Op::Invoice {
                number,
                debtor,
                amount,
                due_in,
            } => InputEvent::InvoiceIssued(InvoiceIssued {
                invoice_number: invoice_number(*number),
                debtor_id: format!("D{debtor}"),
                amount: dec(AMOUNTS[*amount]),
                currency: Currency::EUR,
                issue_date: day,
                due_date: day + Days::new(*due_in),
                payment_reference: Some(creditor_reference(&format!("{number}"))),
            }),
            Op::Pay {
                id,
                amount,
                reference,
                usd,
            } => {
                let mut p = PaymentReceived {
                    payment_id: format!("P{id}"),
                    amount: dec(AMOUNTS[*amount]),
                    currency: if *usd {
                        Currency::parse("USD").unwrap_or(Currency::EUR)
                    } else {
                        Currency::EUR
                    },
                    value_date: day,
                    method: PaymentMethod::BankTransfer,
                    counterparty_name: None,
                    counterparty_iban: None,
                    remittance_text: None,
                    structured_reference: None,
                    end_to_end_id: None,
                    debtor_id: None,
                };
                match reference {
                    Reference::None => {}
                    Reference::Structured(n) => {
                        p.structured_reference = Some(creditor_reference(&format!("{n}")))
                    }
                    Reference::Text(ns) => {
                        p.remittance_text = Some(
                            ns.iter()
                                .map(|n| invoice_number(*n))
                                .collect::<Vec<_>>()
                                .join(" "),
                        )
                    }
                    Reference::DebtorId(d) => p.debtor_id = Some(format!("D{d}")),
                    Reference::Iban(d) => p.counterparty_iban = Some(iban(*d)),
                    Reference::UnknownIban => p.counterparty_iban = Some("XX00UNKNOWN".into()),
                }
                InputEvent::PaymentReceived(p)
            }
            Op::Reverse { id } => InputEvent::PaymentReversed(PaymentReversed {
                payment_id: format!("P{id}"),
                amount: dec("1"),
                currency: Currency::EUR,
                value_date: day,
                reason_code: "AM04".into(),
                debtor_id: None,
            }),
            Op::Credit {
                id,
                debtor,
                amount,
                invoice,
            } => InputEvent::CreditNoteIssued(CreditNoteIssued {
                credit_note_number: format!("CN{id}"),
                debtor_id: format!("D{debtor}"),
                amount: dec(AMOUNTS[*amount]),
                currency: Currency::EUR,
                issue_date: day,
                invoice_number: invoice.map(invoice_number),
            }),
            Op::Dispute {
                invoice,
                open: true,
            } => InputEvent::DisputeOpened(DisputeOpened {
                dispute_id: format!("X{invoice}"),
                debtor_id: "D0".into(),
                invoice_number: invoice_number(*invoice),
                amount: None,
                reason: String::new(),
            }),
            Op::Dispute {
                invoice,
                open: false,
            } => InputEvent::DisputeResolved(DisputeResolved {
                dispute_id: format!("X{invoice}"),
                debtor_id: "D0".into(),
                invoice_number: invoice_number(*invoice),
                outcome: DisputeOutcome::Withdrawn,
            }),
            Op::Promise {
                id,
                debtor,
                amount,
                days,
            } => InputEvent::PromiseToPay(PromiseToPay {
                promise_id: format!("PR{id}"),
                debtor_id: format!("D{debtor}"),
                promised_date: day + Days::new(*days),
                amount: dec(AMOUNTS[*amount]),
                currency: Currency::EUR,
                invoice_numbers: vec![],
            }),
            Op::Tick { days } => {
                day = day + Days::new(*days);
                InputEvent::ClockTick(ClockTick {})
            }
        };
        let time: DateTime<Utc> = day.and_hms_opt(9, 0, 0).unwrap_or_default().and_utc();
        out.push(Envelope::new(format!("e{seq}"), time, event));
    }
    out
}

/// Advance then apply, like the pipeline.
fn step(ledger: &mut Ledger, e: &Envelope) -> Vec<LedgerEffect> {
    let mut effects = ledger.advance_to(e.event_time);
    effects.extend(ledger.apply(e));
    effects
}

#[derive(Clone, Debug, PartialEq)]
struct ItemView {
    debtor: String,
    open: Decimal,
    currency: Currency,
    due: NaiveDate,
}

fn items(ledger: &Ledger) -> BTreeMap<String, ItemView> {
    ledger
        .debtors()
        .flat_map(|a| a.items.values())
        .map(|i| {
            (
                i.invoice_number.clone(),
                ItemView {
                    debtor: i.debtor_id.clone(),
                    open: i.open_amount,
                    currency: i.currency,
                    due: i.due_date,
                },
            )
        })
        .collect()
}

fn unapplied(ledger: &Ledger) -> BTreeMap<String, Decimal> {
    ledger
        .debtors()
        .map(|a| (a.debtor_id.clone(), a.unapplied_credit))
        .collect()
}

/// Every invariant that must hold after any call, given the items before it.
fn check(
    ledger: &Ledger,
    before: &BTreeMap<String, ItemView>,
    effects: &[LedgerEffect],
) -> Result<(), TestCaseError> {
    let totals = ledger.totals();
    prop_assert!(totals.is_balanced(), "unbalanced {totals:?}");

    // Totals agree with the state they summarise.
    let mut open = Decimal::ZERO;
    for account in ledger.debtors() {
        let mut account_open = Decimal::ZERO;
        for item in account.items.values() {
            prop_assert!(item.open_amount >= Decimal::ZERO && item.open_amount <= item.amount);
            prop_assert_eq!(
                item.amount,
                item.open_amount + item.paid_amount + item.credited_amount
            );
            account_open += item.open_amount;
        }
        prop_assert_eq!(account.open_balance, account_open);
        prop_assert!(account.unapplied_credit >= Decimal::ZERO);
        open += account_open;
    }
    prop_assert_eq!(totals.open, open);
    prop_assert_eq!(
        totals.unapplied,
        unapplied(ledger).values().copied().sum::<Decimal>()
    );
    let live = ledger.payments().filter(|p| !p.reversed);
    let (mut allocated, mut unmatched) = (Decimal::ZERO, Decimal::ZERO);
    for p in live {
        let sum: Decimal = p.allocations.iter().map(|a| a.amount).sum();
        prop_assert!(
            p.allocations
                .iter()
                .all(|a| a.amount > Decimal::ZERO && a.amount <= p.amount)
        );
        match p.status {
            PaymentStatus::Applied => prop_assert_eq!(sum + p.unapplied, p.amount),
            _ => {
                prop_assert!(p.allocations.is_empty());
                unmatched += p.amount;
            }
        }
        allocated += sum;
    }
    prop_assert_eq!(totals.allocated, allocated);
    prop_assert_eq!(totals.unmatched, unmatched);

    for effect in effects {
        match effect {
            LedgerEffect::PaymentApplied {
                amount,
                rule,
                allocations,
                unapplied,
                debtor_id,
                ..
            } => {
                // Never more than the payment, never more than an item's open amount.
                let sum: Decimal = allocations.iter().map(|a| a.amount).sum();
                prop_assert_eq!(sum + *unapplied, amount.amount);
                for a in allocations {
                    let prior = before
                        .get(&a.invoice_number)
                        .map(|i| i.open)
                        .unwrap_or_default();
                    prop_assert!(
                        a.amount <= prior,
                        "{} allocated {} > open {}",
                        a.invoice_number,
                        a.amount,
                        prior
                    );
                }
                // Rule 3 against brute force: the oldest (due, number) equal-amount item.
                if *rule == MatchRule::PayerAndAmount {
                    let expected = before
                        .iter()
                        .filter(|(_, i)| {
                            i.debtor == *debtor_id
                                && i.open == amount.amount
                                && i.currency == amount.currency
                        })
                        .min_by_key(|(n, i)| (i.due, (*n).clone()))
                        .map(|(n, _)| n.clone());
                    prop_assert_eq!(Some(allocations[0].invoice_number.clone()), expected);
                }
            }
            LedgerEffect::PaymentUnmatched {
                amount, candidates, ..
            } => {
                let mut expected: Vec<String> = before
                    .values()
                    .filter(|i| {
                        i.open == amount.amount
                            && i.currency == amount.currency
                            && i.open > Decimal::ZERO
                    })
                    .map(|i| i.debtor.clone())
                    .collect();
                expected.sort();
                expected.dedup();
                expected.truncate(5);
                prop_assert_eq!(candidates, &expected);
            }
            _ => {}
        }
    }
    Ok(())
}

fn run(events: &[Envelope]) -> (Ledger, Vec<Vec<LedgerEffect>>) {
    let mut ledger = Ledger::new(LedgerConfig::default());
    let effects = events.iter().map(|e| step(&mut ledger, e)).collect();
    (ledger, effects)
}

fn json(ledger: &Ledger) -> String {
    serde_json::to_string(ledger).unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn money_is_conserved_and_never_over_allocated(ops in ops(60)) {
        let mut ledger = Ledger::new(LedgerConfig::default());
        for e in envelopes(&ops) {
            let before = items(&ledger);
            let effects = step(&mut ledger, &e);
            check(&ledger, &before, &effects)?;
        }
    }

    #[test]
    fn reversal_restores_the_items_prior_open_amounts(
        prefix in ops(40),
        amount in 0..AMOUNTS.len(),
        reference in reference(),
    ) {
        let mut all = prefix.clone();
        all.push(Op::Pay { id: 99, amount, reference, usd: false });
        all.push(Op::Reverse { id: 99 });
        let events = envelopes(&all);
        let mut ledger = Ledger::new(LedgerConfig::default());
        let (head, tail) = events.split_at(prefix.len());
        for e in head {
            step(&mut ledger, e);
        }
        let (items_before, unapplied_before, totals_before) = (items(&ledger), unapplied(&ledger), ledger.totals());
        for e in tail {
            step(&mut ledger, e);
        }
        prop_assert_eq!(items(&ledger), items_before);
        // A payment can create the payer's (empty) account; compare the balances that existed.
        let after = unapplied(&ledger);
        for (debtor, credit) in &after {
            prop_assert_eq!(*credit, unapplied_before.get(debtor).copied().unwrap_or_default());
        }
        let totals = ledger.totals();
        prop_assert_eq!(totals.open, totals_before.open);
        prop_assert_eq!(totals.unapplied, totals_before.unapplied);
        prop_assert_eq!(totals.allocated, totals_before.allocated);
        prop_assert_eq!(totals.unmatched, totals_before.unmatched);
    }

    #[test]
    fn replaying_the_same_events_gives_an_equal_ledger(ops in ops(60)) {
        let events = envelopes(&ops);
        let (a, effects_a) = run(&events);
        let (b, effects_b) = run(&events);
        prop_assert_eq!(json(&a), json(&b));
        prop_assert_eq!(&effects_a, &effects_b);
        // Effects survive a JSON round trip (the pipeline may log or forward them).
        let wire = serde_json::to_string(&effects_a).unwrap_or_default();
        let back: Result<Vec<Vec<LedgerEffect>>, _> = serde_json::from_str(&wire);
        prop_assert_eq!(back.ok(), Some(effects_a));
    }

    #[test]
    fn restoring_a_checkpoint_continues_exactly(ops in ops(60), cut in 0..60_usize) {
        let events = envelopes(&ops);
        let cut = cut.min(events.len());
        let (whole, whole_effects) = run(&events);

        let mut first = Ledger::new(LedgerConfig::default());
        for e in &events[..cut] {
            step(&mut first, e);
        }
        let restored: Result<Ledger, _> = serde_json::from_str(&json(&first));
        prop_assert!(restored.is_ok(), "checkpoint does not deserialize: {:?}", restored.err());
        let mut resumed = restored.map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&resumed, &first);
        let rest: Vec<Vec<LedgerEffect>> = events[cut..].iter().map(|e| step(&mut resumed, e)).collect();
        prop_assert_eq!(json(&resumed), json(&whole));
        prop_assert_eq!(&rest[..], &whole_effects[cut..]);
    }
}
