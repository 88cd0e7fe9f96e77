//! Invoice numbers written loosely or mistyped: digit cores, the payer's items, the amount.

use ledger::{LedgerEffect, MatchRule, UnmatchedReason};

use crate::support::*;

const D1_IBAN: &str = "NL91ABNA0417164300";

/// D1 (IBAN from master data) owns INV-0000123 (44.95) and INV-0012345 (300); D2 owns
/// INV-0000124 (44.95), INV-0000132 (10) and INV-0002345 (300).
fn ledger() -> Harness {
    let mut h = Harness::new();
    h.on("2025-01-01", debtor("D1", "10000", &[D1_IBAN]));
    h.on("2025-01-01", debtor("D2", "10000", &[]));
    for (number, debtor, amount) in [
        ("INV-0000123", "D1", "44.95"),
        ("INV-0012345", "D1", "300"),
        ("INV-0000124", "D2", "44.95"),
        ("INV-0000132", "D2", "10"),
        ("INV-0002345", "D2", "300"),
    ] {
        h.on("2025-01-02", inv(number, debtor, amount, "2025-02-01"));
    }
    h
}

fn from_d1(id: &str, amount: &str, text: &str) -> events::InputEvent {
    let mut p = payment(id, amount);
    p.counterparty_iban = Some(D1_IBAN.into());
    p.remittance_text = Some(text.into());
    paid(p)
}

fn outcome(effects: &[LedgerEffect]) -> (Option<MatchRule>, Vec<String>) {
    match &effects[0] {
        LedgerEffect::PaymentApplied {
            rule, allocations, ..
        } => (
            Some(*rule),
            allocations
                .iter()
                .map(|a| a.invoice_number.to_string())
                .collect(),
        ),
        LedgerEffect::PaymentUnmatched {
            candidate_invoices, ..
        } => (None, candidate_invoices.clone()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn loosely_written_numbers_pay_the_payers_item() {
    for (i, text) in [
        "INV 0000123",
        "INV - 0000123",
        "INV-000 0123",
        "inv0000123",
        "IN-0000123",
        "Inv.nr. 0000123",
        "nr 0000123",
        "0000123",
        "INV-123",
        "Factuur 123",
    ]
    .into_iter()
    .enumerate()
    {
        let mut h = ledger();
        let got = outcome(&h.on("2025-01-10", from_d1(&format!("P{i}"), "44.95", text)));
        let expected_rule = if text == "inv0000123" {
            MatchRule::InvoiceNumberInText
        } else {
            MatchRule::InvoiceNumberLoose
        };
        assert_eq!(
            got,
            (Some(expected_rule), vec!["INV-0000123".into()]),
            "{text}"
        );
    }
}

#[test]
fn digits_split_by_a_space_are_read_as_one_number_first() {
    let mut h = ledger();
    let got = outcome(&h.on("2025-01-10", from_d1("P1", "300", "INV-001 2345")));
    assert_eq!(
        got,
        (
            Some(MatchRule::InvoiceNumberLoose),
            vec!["INV-0012345".into()]
        )
    );
}

#[test]
fn a_mistyped_number_that_is_someone_elses_invoice_pays_the_payers_item() {
    for text in ["INV-0000124", "INV-0000132", "INV-0000223", "INV-0001023"] {
        let mut h = ledger();
        let got = outcome(&h.on("2025-01-10", from_d1("P1", "44.95", text)));
        assert_eq!(
            got,
            (
                Some(MatchRule::InvoiceNumberTypo),
                vec!["INV-0000123".into()]
            ),
            "{text}"
        );
        assert_eq!(h.open("INV-0000124"), dec("44.95"), "{text}");
    }
}

#[test]
fn a_typo_close_to_two_items_of_the_payer_is_decided_by_the_amount_or_asked() {
    let mut h = ledger();
    h.on("2025-01-02", inv("INV-0000125", "D1", "60", "2025-02-01"));
    // 124 is one edit from 123 (44.95) and 125 (60): the amount decides.
    let got = outcome(&h.on("2025-01-10", from_d1("P1", "60", "INV-0000124")));
    assert_eq!(
        got,
        (
            Some(MatchRule::InvoiceNumberTypo),
            vec!["INV-0000125".into()]
        )
    );
    // Same amounts: a task listing both.
    let mut h = ledger();
    h.on(
        "2025-01-02",
        inv("INV-0000125", "D1", "44.95", "2025-02-01"),
    );
    let effects = h.on("2025-01-10", from_d1("P1", "44.95", "INV-0000124"));
    assert!(matches!(
        &effects[0],
        LedgerEffect::PaymentUnmatched {
            reason: UnmatchedReason::AmbiguousReference,
            ..
        }
    ));
    assert_eq!(
        outcome(&effects),
        (None, vec!["INV-0000123".into(), "INV-0000125".into()])
    );
}

#[test]
fn without_a_known_payer_a_loose_number_needs_the_exact_amount() {
    let mut h = ledger();
    let mut p = payment("P1", "300");
    p.remittance_text = Some("nr 0012345".into());
    let got = outcome(&h.on("2025-01-10", paid(p)));
    assert_eq!(
        got,
        (
            Some(MatchRule::InvoiceNumberLoose),
            vec!["INV-0012345".into()]
        )
    );
    let mut p = payment("P2", "299");
    p.remittance_text = Some("nr 0002345".into());
    let effects = h.on("2025-01-10", paid(p));
    assert!(matches!(
        &effects[0],
        LedgerEffect::PaymentUnmatched {
            reason: UnmatchedReason::UnknownPayer,
            ..
        }
    ));
}

#[test]
fn a_number_naming_a_settled_item_of_the_payer_is_not_read_as_a_typo() {
    let mut h = ledger();
    h.on("2025-01-10", from_d1("P1", "44.95", "INV-0000123"));
    // INV-0000123 is settled; 0000124 (D2's) is one edit away but the text names 123.
    let effects = h.on("2025-01-11", from_d1("P2", "44.95", "INV-0000123"));
    let LedgerEffect::PaymentApplied {
        rule,
        debtor_id,
        unapplied,
        ..
    } = &effects[0]
    else {
        panic!("{effects:?}")
    };
    assert_eq!(*rule, MatchRule::PayerKnownUnapplied);
    assert_eq!(debtor_id, "D1");
    assert_eq!(*unapplied, dec("44.95"));
    assert_eq!(h.open("INV-0000124"), dec("44.95"));
}
