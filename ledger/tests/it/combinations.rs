//! Rule 4: a known payer's open items that add up exactly to a payment without a
//! reference; the search against brute force on small ledgers.

use std::collections::BTreeSet;

use ledger::combinations::{Combination, SearchLimits, find_combination};
use ledger::{LedgerConfig, LedgerEffect, MatchRule, UnmatchedReason};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::support::*;

const IBAN: &str = "NL91ABNA0417164300";

fn payer_with(items: &[(&str, &str, &str)]) -> Harness {
    payer_with_config(items, LedgerConfig::default())
}

fn payer_with_config(items: &[(&str, &str, &str)], config: LedgerConfig) -> Harness {
    let mut h = Harness::with(config);
    h.on("2025-01-01", debtor("D1", "100000", &[IBAN]));
    for (number, amount, due) in items {
        h.on("2025-01-02", inv(number, "D1", amount, due));
    }
    h
}

fn pay(h: &mut Harness, id: &str, amount: &str) -> Vec<LedgerEffect> {
    let mut p = payment(id, amount);
    p.counterparty_iban = Some(IBAN.into());
    p.remittance_text = Some("Betaling".into());
    h.on("2025-01-10", paid(p))
}

#[test]
fn the_one_set_of_items_that_adds_up_is_paid_in_due_date_order() {
    let mut h = payer_with(&[
        ("A", "100", "2025-02-01"),
        ("B", "250", "2025-03-01"),
        ("C", "75.50", "2025-01-20"),
        ("D", "30", "2025-02-10"),
    ]);
    let effects = pay(&mut h, "P1", "325.50");
    let LedgerEffect::PaymentApplied {
        rule, allocations, ..
    } = &effects[0]
    else {
        panic!("{effects:?}")
    };
    assert_eq!(*rule, MatchRule::PayerAndCombination);
    let paid: Vec<&str> = allocations
        .iter()
        .map(|a| a.invoice_number.as_str())
        .collect();
    assert_eq!(paid, ["C", "B"]);
    assert!(allocations.iter().all(|a| a.confidence == 85));
}

#[test]
fn two_sets_that_add_up_are_a_task_listing_their_items() {
    let mut h = payer_with(&[
        ("A", "10", "2025-02-01"),
        ("B", "20", "2025-02-02"),
        ("C", "30", "2025-02-03"),
        ("D", "40", "2025-02-04"),
    ]);
    let effects = pay(&mut h, "P1", "50");
    let LedgerEffect::PaymentUnmatched {
        reason,
        candidate_invoices,
        debtor_id,
        ..
    } = &effects[0]
    else {
        panic!("{effects:?}")
    };
    assert_eq!(*reason, UnmatchedReason::AmbiguousCombination);
    assert_eq!(debtor_id.as_deref(), Some("D1"));
    assert_eq!(candidate_invoices, &["A", "B", "C", "D"]);
}

#[test]
fn a_payer_with_more_items_than_the_search_allows_gets_a_task() {
    let config = LedgerConfig {
        combination_max_items: 3,
        ..LedgerConfig::default()
    };
    let mut h = payer_with_config(
        &[
            ("A", "10", "2025-02-01"),
            ("B", "21", "2025-02-02"),
            ("C", "32", "2025-02-03"),
            ("D", "43", "2025-02-04"),
        ],
        config,
    );
    let effects = pay(&mut h, "P1", "53");
    assert!(matches!(
        &effects[0],
        LedgerEffect::PaymentUnmatched {
            reason: UnmatchedReason::CombinationSearchLimit,
            ..
        }
    ));
}

/// Brute force: every set (of at least `min` items) of `amounts` adding up to `target`.
fn brute_force(amounts: &[Decimal], target: Decimal, min: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    for mask in 1_u32..(1 << amounts.len()) {
        let set: Vec<usize> = (0..amounts.len())
            .filter(|i| mask & (1 << i) != 0)
            .collect();
        let sum: Decimal = set.iter().map(|&i| amounts[i]).sum();
        if set.len() >= min && sum == target {
            out.push(set);
        }
    }
    out
}

fn amounts() -> impl Strategy<Value = Vec<Decimal>> {
    // Few distinct cent amounts, so equal amounts and several solutions are common.
    proptest::collection::vec(
        prop_oneof![
            Just(1000_i64),
            Just(2000),
            Just(3550),
            Just(5000),
            1..6000_i64
        ],
        0..11,
    )
    .prop_map(|v| v.into_iter().map(|c| Decimal::new(c, 2)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn the_search_agrees_with_brute_force(
        amounts in amounts(),
        pick in proptest::collection::vec(any::<bool>(), 11),
        extra in 0..3000_i64,
        min in 1..3_usize,
    ) {
        // A target that is a sum of some items (often), or a random amount.
        let picked: Decimal = amounts.iter().zip(&pick).filter(|(_, p)| **p).map(|(a, _)| *a).sum();
        let target = if extra % 3 == 0 { Decimal::new(extra, 2) } else { picked };
        let limits = SearchLimits { min_items: min, max_items: 24, max_steps: 1_000_000 };
        let expected = brute_force(&amounts, target, min);
        match find_combination(&amounts, target, limits) {
            Combination::None => prop_assert!(expected.is_empty() || target <= Decimal::ZERO, "{expected:?}"),
            Combination::Unique(set) => prop_assert_eq!(vec![set], expected),
            Combination::Ambiguous(a, b) => {
                prop_assert!(expected.len() >= 2);
                prop_assert!(a != b && expected.contains(&a) && expected.contains(&b));
            }
            Combination::TooLarge => prop_assert!(false, "no cap was reached"),
        }
    }

    #[test]
    fn the_ledger_pays_a_combination_only_when_brute_force_finds_exactly_one(
        cents in proptest::collection::vec(prop_oneof![Just(1000_i64), Just(2000), Just(3550), 1..5000_i64], 1..8),
        pick in proptest::collection::vec(any::<bool>(), 8),
    ) {
        let numbers: Vec<String> = (0..cents.len()).map(|i| format!("I{i}")).collect();
        let amounts: Vec<String> = cents.iter().map(|c| Decimal::new(*c, 2).to_string()).collect();
        let items: Vec<(&str, &str, &str)> = numbers
            .iter()
            .zip(&amounts)
            .map(|(n, a)| (n.as_str(), a.as_str(), "2025-02-01"))
            .collect();
        let mut h = payer_with(&items);
        let target: i64 = cents.iter().zip(&pick).filter(|(_, p)| **p).map(|(c, _)| *c).sum();
        prop_assume!(target > 0);
        let target = Decimal::new(target, 2);
        let values: Vec<Decimal> = cents.iter().map(|c| Decimal::new(*c, 2)).collect();
        let singles = values.iter().filter(|v| **v == target).count();
        let sets = brute_force(&values, target, 2);
        let effects = pay(&mut h, "P1", &target.to_string());
        match &effects[0] {
            LedgerEffect::PaymentApplied { rule: MatchRule::PayerAndAmount, allocations, .. } => {
                prop_assert_eq!(singles, 1);
                prop_assert_eq!(allocations[0].amount, target);
            }
            LedgerEffect::PaymentApplied { rule: MatchRule::PayerAndCombination, allocations, .. } => {
                prop_assert_eq!(singles, 0);
                prop_assert_eq!(sets.len(), 1);
                let paid: BTreeSet<String> = allocations.iter().map(|a| a.invoice_number.to_string()).collect();
                let expected: BTreeSet<String> = sets[0].iter().map(|&i| numbers[i].clone()).collect();
                prop_assert_eq!(paid, expected);
            }
            LedgerEffect::PaymentUnmatched { reason: UnmatchedReason::AmbiguousAmount, .. } => {
                prop_assert!(singles >= 2);
            }
            LedgerEffect::PaymentUnmatched { reason: UnmatchedReason::AmbiguousCombination, .. } => {
                prop_assert_eq!(singles, 0);
                prop_assert!(sets.len() >= 2);
            }
            other => prop_assert!(false, "{other:?} (singles {singles}, sets {sets:?})"),
        }
    }
}
