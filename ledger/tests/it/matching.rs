use events::{Currency, PaymentReceived};
use ledger::references::{creditor_reference, dutch_payment_reference};
use ledger::{
    LedgerConfig, LedgerEffect, MatchRule, SameAmountPolicy, UnexplainedPaymentPolicy,
    UnmatchedReason,
};

use crate::support::*;

fn applied(effects: &[LedgerEffect]) -> (String, MatchRule, Vec<(String, String)>, String) {
    effects
        .iter()
        .find_map(|e| match e {
            LedgerEffect::PaymentApplied {
                debtor_id,
                rule,
                allocations,
                unapplied,
                ..
            } => Some((
                debtor_id.clone(),
                *rule,
                allocations
                    .iter()
                    .map(|a| {
                        (
                            a.invoice_number.to_string(),
                            a.amount.normalize().to_string(),
                        )
                    })
                    .collect(),
                unapplied.normalize().to_string(),
            )),
            _ => None,
        })
        .expect("a PaymentApplied effect")
}

fn with_reference(number: &str, debtor: &str, amount: &str, reference: &str) -> events::InputEvent {
    let mut i = invoice(number, debtor, amount, "2025-03-31");
    i.payment_reference = Some(reference.into());
    issued(i)
}

fn ledger_with_two_debtors() -> Harness {
    let mut h = Harness::new();
    h.on("2025-01-01", debtor("D1", "10000", &["NL91ABNA0417164300"]));
    h.on("2025-01-01", debtor("D2", "10000", &[]));
    h
}

#[test]
fn rf_structured_reference_pays_its_invoice() {
    let mut h = ledger_with_two_debtors();
    let rf = creditor_reference("INV1001");
    h.on(
        "2025-01-02",
        with_reference("INV-1001", "D2", "250.00", &rf),
    );
    h.on("2025-01-02", inv("INV-1002", "D2", "250.00", "2025-02-01"));
    let mut p = payment("P1", "250.00");
    p.structured_reference = Some(rf.to_lowercase());
    let effects = h.on("2025-01-10", paid(p));
    let (debtor, rule, allocations, unapplied) = applied(&effects);
    assert_eq!(debtor, "D2");
    assert_eq!(rule, MatchRule::StructuredReference);
    assert_eq!(allocations, [("INV-1001".to_string(), "250".to_string())]);
    assert_eq!(unapplied, "0");
    assert_eq!(h.open("INV-1001"), dec("0"));
    assert_eq!(h.open("INV-1002"), dec("250"));
}

#[test]
fn dutch_payment_reference_pays_its_invoice() {
    let mut h = ledger_with_two_debtors();
    let reference = dutch_payment_reference(4711);
    h.on(
        "2025-01-02",
        with_reference("INV-4711", "D1", "80", &reference),
    );
    let mut p = payment("P1", "80");
    p.structured_reference = Some(format!("{} {}", &reference[..8], &reference[8..]));
    let (_, rule, allocations, _) = applied(&h.on("2025-01-10", paid(p)));
    assert_eq!(rule, MatchRule::StructuredReference);
    assert_eq!(allocations[0].0, "INV-4711");
}

#[test]
fn structured_reference_with_a_bad_checksum_is_read_as_text() {
    let mut h = ledger_with_two_debtors();
    // The invoice prints a reference whose checksum is wrong; a payment quoting it must not
    // be trusted by rule 1.
    h.on(
        "2025-01-02",
        with_reference("INV-1", "D2", "100", "RF00ABC"),
    );
    let mut p = payment("P1", "100");
    p.structured_reference = Some("RF00ABC".into());
    let effects = h.on("2025-01-10", paid(p));
    assert!(
        matches!(effects[0], LedgerEffect::PaymentUnmatched { .. }),
        "{effects:?}"
    );

    // A structured reference holding an invoice number is matched as text (rule 2).
    let mut p = payment("P2", "100");
    p.structured_reference = Some("INV-1".into());
    let (_, rule, allocations, _) = applied(&h.on("2025-01-11", paid(p)));
    assert_eq!(rule, MatchRule::InvoiceNumberInText);
    assert_eq!(allocations[0].0, "INV-1");
}

#[test]
fn invoice_numbers_in_text_pay_several_items_in_text_order() {
    let mut h = ledger_with_two_debtors();
    h.on("2025-01-02", inv("INV-10", "D1", "100", "2025-02-01"));
    h.on("2025-01-02", inv("INV-11", "D1", "50", "2025-02-01"));
    let mut p = payment("P1", "120");
    p.remittance_text = Some("Invoices inv11, INV-10. Thanks".into());
    let (_, rule, allocations, unapplied) = applied(&h.on("2025-01-10", paid(p)));
    assert_eq!(rule, MatchRule::InvoiceNumberInText);
    assert_eq!(
        allocations,
        [
            ("INV-11".into(), "50".into()),
            ("INV-10".into(), "70".into())
        ]
    );
    assert_eq!(unapplied, "0");
    assert_eq!(h.open("INV-10"), dec("30"));
}

#[test]
fn invoice_number_must_match_a_whole_token() {
    let mut h = ledger_with_two_debtors();
    h.on("2025-01-02", inv("INV-1", "D1", "100", "2025-02-01"));
    let mut p = payment("P1", "100");
    p.remittance_text = Some("INV-10 and XINV-1".into());
    let effects = h.on("2025-01-10", paid(p));
    assert!(
        matches!(effects[0], LedgerEffect::PaymentUnmatched { .. }),
        "{effects:?}"
    );
}

#[test]
fn known_iban_and_exact_amount_pay_that_item() {
    let mut h = ledger_with_two_debtors();
    h.on("2025-01-02", inv("A", "D1", "100", "2025-02-01"));
    h.on("2025-01-02", inv("B", "D1", "75.50", "2025-02-01"));
    let mut p = payment("P1", "75.5");
    p.counterparty_iban = Some("NL91 ABNA 0417 1643 00".into());
    let (debtor, rule, allocations, _) = applied(&h.on("2025-01-10", paid(p)));
    assert_eq!((debtor.as_str(), rule), ("D1", MatchRule::PayerAndAmount));
    assert_eq!(allocations[0].0, "B");
}

#[test]
fn equal_amounts_pay_the_oldest_due_date_then_lowest_invoice_number_when_configured() {
    let mut h = Harness::with(LedgerConfig {
        same_amount_policy: SameAmountPolicy::OldestFirst,
        ..LedgerConfig::default()
    });
    h.on("2025-01-02", inv("C", "D2", "60", "2025-02-10"));
    h.on("2025-01-02", inv("B", "D2", "60", "2025-02-01"));
    h.on("2025-01-02", inv("A", "D2", "60", "2025-02-01"));
    let mut p = payment("P1", "60");
    p.debtor_id = Some("D2".into());
    assert_eq!(applied(&h.on("2025-01-10", paid(p.clone()))).2[0].0, "A");
    p.payment_id = "P2".into();
    assert_eq!(applied(&h.on("2025-01-10", paid(p.clone()))).2[0].0, "B");
    p.payment_id = "P3".into();
    assert_eq!(applied(&h.on("2025-01-10", paid(p))).2[0].0, "C");
}

#[test]
fn iban_learnt_from_a_matched_payment_identifies_the_payer_later() {
    let mut h = ledger_with_two_debtors();
    h.on("2025-01-02", inv("INV-1", "D2", "100", "2025-02-01"));
    h.on("2025-01-02", inv("INV-2", "D2", "40", "2025-02-01"));
    let mut p = payment("P1", "100");
    p.remittance_text = Some("INV-1".into());
    p.counterparty_iban = Some("DE89370400440532013000".into());
    h.on("2025-01-10", paid(p));
    assert!(
        h.ledger
            .debtor("D2")
            .unwrap()
            .learnt_ibans
            .contains("DE89370400440532013000")
    );

    let mut p = payment("P2", "40");
    p.counterparty_iban = Some("de89 3704 0044 0532 0130 00".into());
    let (debtor, rule, allocations, _) = applied(&h.on("2025-01-11", paid(p)));
    assert_eq!((debtor.as_str(), rule), ("D2", MatchRule::PayerAndAmount));
    assert_eq!(allocations[0].0, "INV-2");
}

#[test]
fn known_payer_without_a_matching_item_keeps_unapplied_credit() {
    let mut h = ledger_with_two_debtors();
    h.on("2025-01-02", inv("A", "D1", "100", "2025-02-01"));
    let mut p = payment("P1", "33");
    p.counterparty_iban = Some("NL91ABNA0417164300".into());
    let effects = h.on("2025-01-10", paid(p));
    let (debtor, rule, allocations, unapplied) = applied(&effects);
    assert_eq!(
        (debtor.as_str(), rule),
        ("D1", MatchRule::PayerKnownUnapplied)
    );
    assert!(allocations.is_empty());
    assert_eq!(unapplied, "33");
    assert_eq!(h.unapplied("D1"), dec("33"));
    assert_eq!(h.open("A"), dec("100"));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, LedgerEffect::StandingChanged { debtor_id } if debtor_id == "D1"))
    );
}

#[test]
fn an_unexplained_payment_pays_the_oldest_items_only_when_configured() {
    let mut h = Harness::with(LedgerConfig {
        unexplained_payment_policy: UnexplainedPaymentPolicy::OldestFirst,
        ..LedgerConfig::default()
    });
    h.on("2025-01-01", debtor("D1", "10000", &["NL91ABNA0417164300"]));
    h.on("2025-01-02", inv("B", "D1", "100", "2025-02-10"));
    h.on("2025-01-02", inv("A", "D1", "75", "2025-02-01"));
    let mut p = payment("P1", "172");
    p.counterparty_iban = Some("NL91ABNA0417164300".into());
    let (_, rule, allocations, unapplied) = applied(&h.on("2025-01-10", paid(p)));
    assert_eq!(rule, MatchRule::OldestOpenItems);
    assert_eq!(
        allocations,
        [("A".into(), "75".into()), ("B".into(), "97".into())]
    );
    assert_eq!(unapplied, "0");
    assert_eq!(
        h.open("B"),
        dec("3"),
        "nothing named B: its rest is not written off"
    );
}

#[test]
fn unknown_payer_is_unmatched_with_deterministic_candidates() {
    let mut h = Harness::new();
    for d in ["D7", "D3", "D5", "D1", "D4", "D2", "D6"] {
        h.on(
            "2025-01-02",
            inv(&format!("I-{d}"), d, "99.00", "2025-02-01"),
        );
    }
    h.on("2025-01-02", inv("I-X", "D1", "99", "2025-02-01"));
    h.on("2025-01-02", inv("I-Y", "D8", "98", "2025-02-01"));
    let effects = h.on("2025-01-10", paid(payment("P1", "99")));
    let LedgerEffect::PaymentUnmatched {
        candidates,
        amount,
        reason,
        debtor_id,
        ..
    } = &effects[0]
    else {
        panic!("{effects:?}")
    };
    assert_eq!(*reason, UnmatchedReason::UnknownPayer);
    assert_eq!(*debtor_id, None);
    assert_eq!(candidates, &["D1", "D2", "D3", "D4", "D5"]);
    assert_eq!(amount.amount, dec("99"));
    assert_eq!(h.ledger.totals().unmatched, dec("99"));
    assert_eq!(h.ledger.totals().allocated, dec("0"));
}

#[test]
fn overpayment_with_a_reference_leaves_unapplied_credit() {
    let mut h = ledger_with_two_debtors();
    h.on("2025-01-02", inv("INV-1", "D1", "100", "2025-02-01"));
    let mut p = payment("P1", "130");
    p.remittance_text = Some("INV-1".into());
    let (_, _, allocations, unapplied) = applied(&h.on("2025-01-10", paid(p)));
    assert_eq!(allocations, [("INV-1".into(), "100".into())]);
    assert_eq!(unapplied, "30");
    assert_eq!(h.unapplied("D1"), dec("30"));
}

#[test]
fn partial_payment_leaves_the_rest_open() {
    let mut h = ledger_with_two_debtors();
    h.on("2025-01-02", inv("INV-1", "D1", "100", "2025-02-01"));
    let mut p = payment("P1", "40");
    p.remittance_text = Some("INV-1".into());
    let effects = h.on("2025-01-10", paid(p));
    assert!(!names(&effects).contains(&"item_settled"));
    assert_eq!(h.open("INV-1"), dec("60"));
    assert_eq!(h.ledger.standing("D1").unwrap().open_balance, dec("60"));
}

#[test]
fn settling_payment_reports_the_item_settled() {
    let mut h = ledger_with_two_debtors();
    h.on("2025-01-02", inv("INV-1", "D1", "100", "2025-02-01"));
    let mut p = payment("P1", "100");
    p.remittance_text = Some("INV-1".into());
    let effects = h.on("2025-01-10", paid(p));
    assert_eq!(
        names(&effects),
        ["payment_applied", "item_settled", "standing_changed"]
    );
    assert!(!h.ledger.item("INV-1").unwrap().is_open());
}

#[test]
fn payment_in_another_currency_is_a_currency_mismatch() {
    let mut h = ledger_with_two_debtors();
    h.on("2025-01-02", inv("INV-1", "D1", "100", "2025-02-01"));
    let mut p = payment("P1", "100");
    p.currency = Currency::parse("USD").unwrap();
    p.remittance_text = Some("INV-1".into());
    let effects = h.on("2025-01-10", paid(p));
    let LedgerEffect::CurrencyMismatch {
        expected,
        invoice_numbers,
        ..
    } = &effects[0]
    else {
        panic!("{effects:?}")
    };
    assert_eq!(*expected, Currency::EUR);
    assert_eq!(invoice_numbers, &["INV-1"]);
    assert_eq!(h.open("INV-1"), dec("100"));
    assert_eq!(h.ledger.totals().unmatched, dec("100"));
}

#[test]
fn duplicate_payment_id_is_ignored() {
    let mut h = ledger_with_two_debtors();
    h.on("2025-01-02", inv("INV-1", "D1", "100", "2025-02-01"));
    let mut p = payment("P1", "50");
    p.remittance_text = Some("INV-1".into());
    h.on("2025-01-10", paid(p.clone()));
    let effects = h.on("2025-01-10", paid(p));
    assert!(matches!(
        &effects[..],
        [LedgerEffect::DuplicateIgnored { .. }]
    ));
    assert_eq!(h.open("INV-1"), dec("50"));
    assert_eq!(h.ledger.totals().paid_in, dec("50"));
}

#[test]
fn second_payment_of_a_settled_invoice_becomes_credit_of_its_debtor() {
    let mut h = ledger_with_two_debtors();
    h.on("2025-01-02", inv("INV-1", "D2", "100", "2025-02-01"));
    let mut p = payment("P1", "100");
    p.remittance_text = Some("INV-1".into());
    h.on("2025-01-10", paid(p.clone()));
    p.payment_id = "P2".into();
    let (debtor, rule, _, unapplied) = applied(&h.on("2025-01-11", paid(p)));
    assert_eq!(
        (debtor.as_str(), rule),
        ("D2", MatchRule::PayerKnownUnapplied)
    );
    assert_eq!(unapplied, "100");
}

#[test]
fn allocations_never_exceed_payment_or_open_amount() {
    let mut h = ledger_with_two_debtors();
    h.on("2025-01-02", inv("A", "D1", "30", "2025-02-01"));
    h.on("2025-01-02", inv("B", "D1", "30", "2025-02-01"));
    h.on("2025-01-02", inv("C", "D1", "30", "2025-02-01"));
    let p = PaymentReceived {
        remittance_text: Some("A B C".into()),
        ..payment("P1", "45")
    };
    let (_, _, allocations, unapplied) = applied(&h.on("2025-01-10", paid(p)));
    assert_eq!(
        allocations,
        [("A".into(), "30".into()), ("B".into(), "15".into())]
    );
    assert_eq!(unapplied, "0");
    assert_eq!(h.open("C"), dec("30"));
}

#[test]
fn equal_amounts_without_a_reference_are_a_task_listing_the_items() {
    let mut h = ledger_with_two_debtors();
    h.on("2025-01-02", inv("C", "D1", "60", "2025-02-10"));
    h.on("2025-01-02", inv("B", "D1", "60", "2025-02-01"));
    h.on("2025-01-02", inv("A", "D1", "75", "2025-02-01"));
    let mut p = payment("P1", "60");
    p.counterparty_iban = Some("NL91ABNA0417164300".into());
    let effects = h.on("2025-01-10", paid(p));
    let LedgerEffect::PaymentUnmatched {
        reason,
        debtor_id,
        candidate_invoices,
        ..
    } = &effects[0]
    else {
        panic!("{effects:?}")
    };
    assert_eq!(*reason, UnmatchedReason::AmbiguousAmount);
    assert_eq!(debtor_id.as_deref(), Some("D1"));
    assert_eq!(candidate_invoices, &["B", "C"]);
    assert_eq!(h.open("B"), dec("60"));
    assert_eq!(h.ledger.totals().unmatched, dec("60"));
}

/// D1 (IBAN known from master data) with an item `named` of 100 and others.
fn debtor_with_items(items: &[(&str, &str)]) -> Harness {
    let mut h = ledger_with_two_debtors();
    for (number, amount) in items {
        h.on("2025-01-02", inv(number, "D1", amount, "2025-02-01"));
    }
    h
}

fn from_d1(id: &str, amount: &str, text: &str) -> events::InputEvent {
    let mut p = payment(id, amount);
    p.counterparty_iban = Some("NL91ABNA0417164300".into());
    p.remittance_text = Some(text.into());
    paid(p)
}

fn unmatched(effects: &[LedgerEffect]) -> (UnmatchedReason, Vec<String>) {
    effects
        .iter()
        .find_map(|e| match e {
            LedgerEffect::PaymentUnmatched {
                reason,
                candidate_invoices,
                ..
            } => Some((*reason, candidate_invoices.clone())),
            _ => None,
        })
        .expect("a PaymentUnmatched effect")
}

#[test]
fn reference_to_another_invoice_with_the_amount_of_one_open_item_pays_that_item() {
    let mut h = debtor_with_items(&[("INV-A", "100"), ("INV-B", "80.35"), ("INV-C", "55")]);
    let (debtor, rule, allocations, unapplied) =
        applied(&h.on("2025-01-10", from_d1("P1", "80.35", "Factuur INV-A")));
    assert_eq!(
        (debtor.as_str(), rule),
        ("D1", MatchRule::OtherItemOfAmount)
    );
    assert_eq!(allocations, [("INV-B".into(), "80.35".into())]);
    assert_eq!(unapplied, "0");
    assert_eq!(h.open("INV-A"), dec("100"));
}

#[test]
fn reference_to_another_invoice_with_two_items_of_the_amount_is_a_task() {
    let mut h = debtor_with_items(&[("INV-A", "100"), ("INV-B", "80"), ("INV-C", "80")]);
    let (reason, candidates) = unmatched(&h.on("2025-01-10", from_d1("P1", "80", "INV-A")));
    assert_eq!(reason, UnmatchedReason::AmbiguousAmount);
    assert_eq!(candidates, ["INV-A", "INV-B", "INV-C"]);
}

#[test]
fn short_within_tolerance_of_the_reference_and_equal_to_another_item_is_a_task() {
    let mut h = debtor_with_items(&[("INV-A", "100"), ("INV-B", "98")]);
    let (reason, candidates) = unmatched(&h.on("2025-01-10", from_d1("P1", "98", "INV-A")));
    assert_eq!(reason, UnmatchedReason::AmbiguousAmount);
    assert_eq!(candidates, ["INV-A", "INV-B"]);
}

#[test]
fn a_round_amount_below_the_reference_equal_to_another_item_is_a_task() {
    // 40.00 is a part of INV-A as much as all of INV-B.
    let mut h = debtor_with_items(&[("INV-A", "100"), ("INV-B", "40")]);
    let (reason, candidates) = unmatched(&h.on("2025-01-10", from_d1("P1", "40", "INV-A")));
    assert_eq!(reason, UnmatchedReason::AmbiguousAmount);
    assert_eq!(candidates, ["INV-A", "INV-B"]);
}

#[test]
fn partial_and_short_payments_with_a_reference_stay_on_the_referenced_item() {
    let mut h = debtor_with_items(&[("INV-A", "100"), ("INV-B", "80")]);
    let (_, rule, allocations, _) = applied(&h.on("2025-01-10", from_d1("P1", "40", "INV-A")));
    assert_eq!(rule, MatchRule::InvoiceNumberInText);
    assert_eq!(allocations, [("INV-A".into(), "40".into())]);
    assert_eq!(h.open("INV-A"), dec("60"));
    let (_, _, allocations, _) = applied(&h.on("2025-01-11", from_d1("P2", "78.25", "INV-B")));
    assert_eq!(allocations, [("INV-B".into(), "78.25".into())]);
    assert_eq!(h.open("INV-B"), dec("0"), "the rest is written off");
}

#[test]
fn a_named_subset_that_adds_up_is_paid_and_the_other_number_ignored() {
    let mut h = debtor_with_items(&[("INV-1001", "100"), ("INV-1002", "80")]);
    let (_, _, allocations, unapplied) =
        applied(&h.on("2025-01-10", from_d1("P1", "80", "INV-1001 INV-1002")));
    assert_eq!(allocations, [("INV-1002".into(), "80".into())]);
    assert_eq!(unapplied, "0");
}

#[test]
fn another_debtors_invoice_named_exactly_is_paid_only_when_the_amount_pays_it() {
    let mut h = ledger_with_two_debtors();
    h.on("2025-01-02", inv("INV-9", "D2", "70", "2025-02-01"));
    // From D1's account, naming D2's invoice, a different amount: D1's credit.
    let (debtor, rule, allocations, _) = applied(&h.on("2025-01-10", from_d1("P1", "65", "INV-9")));
    assert_eq!(
        (debtor.as_str(), rule),
        ("D1", MatchRule::PayerKnownUnapplied)
    );
    assert!(allocations.is_empty());
    // The exact amount: a payment for a related debtor.
    let (debtor, rule, allocations, _) = applied(&h.on("2025-01-11", from_d1("P2", "70", "INV-9")));
    assert_eq!(
        (debtor.as_str(), rule),
        ("D2", MatchRule::InvoiceNumberInText)
    );
    assert_eq!(allocations, [("INV-9".into(), "70".into())]);
    // D1's IBAN stays D1's.
    let mut p = payment("P3", "5");
    p.counterparty_iban = Some("NL91ABNA0417164300".into());
    assert_eq!(applied(&h.on("2025-01-12", paid(p))).0, "D1");
}

#[test]
fn disputed_items_are_not_paid_by_amount_alone() {
    let mut h = debtor_with_items(&[("A", "50"), ("B", "50")]);
    h.on(
        "2025-01-03",
        events::InputEvent::DisputeOpened(events::DisputeOpened {
            dispute_id: "X1".into(),
            debtor_id: "D1".into(),
            invoice_number: "A".into(),
            amount: None,
            reason: "damaged".into(),
        }),
    );
    let mut p = payment("P1", "50");
    p.counterparty_iban = Some("NL91ABNA0417164300".into());
    let (_, rule, allocations, _) = applied(&h.on("2025-01-10", paid(p)));
    assert_eq!(rule, MatchRule::PayerAndAmount);
    assert_eq!(allocations[0].0, "B");
}

#[test]
fn a_distinctive_name_with_the_exact_amount_identifies_the_payer() {
    let mut h = Harness::new();
    let mut master = debtor("D1", "1000", &[]);
    if let events::InputEvent::DebtorUpdated(d) = &mut master {
        d.name = "Jansen Bloemen B.V.".into();
    }
    h.on("2025-01-01", master);
    h.on("2025-01-02", inv("A", "D1", "120.40", "2025-02-01"));
    h.on("2025-01-02", inv("B", "D1", "80", "2025-02-01"));
    let mut p = payment("P1", "120.40");
    p.counterparty_name = Some("JANSEN BLOEMEN B.V.".into());
    p.counterparty_iban = Some("DE89370400440532013000".into());
    let (debtor, rule, allocations, _) = applied(&h.on("2025-01-10", paid(p.clone())));
    assert_eq!((debtor.as_str(), rule), ("D1", MatchRule::NameAndAmount));
    assert_eq!(allocations[0].0, "A");
    assert!(
        h.ledger.debtor("D1").unwrap().learnt_ibans.is_empty(),
        "a name does not teach an IBAN"
    );
    // A name alone never keeps money as credit: no item of the amount, a task.
    p.payment_id = "P2".into();
    p.amount = dec("33");
    let (reason, _) = unmatched(&h.on("2025-01-11", paid(p)));
    assert_eq!(reason, UnmatchedReason::UnknownPayer);
}

#[test]
fn a_common_personal_name_identifies_nobody() {
    let mut h = Harness::new();
    let mut master = debtor("D1", "1000", &[]);
    if let events::InputEvent::DebtorUpdated(d) = &mut master {
        d.name = "J. de Vries".into();
    }
    h.on("2025-01-01", master);
    h.on("2025-01-02", inv("A", "D1", "45.95", "2025-02-01"));
    let mut p = payment("P1", "45.95");
    p.counterparty_name = Some("J. de Vries".into());
    let (reason, _) = unmatched(&h.on("2025-01-10", paid(p)));
    assert_eq!(reason, UnmatchedReason::UnknownPayer);
}

#[test]
fn an_unknown_payer_names_only_debtors_whose_item_is_open_at_that_amount_settled_or_reopened() {
    let candidates = |effects: &[LedgerEffect]| match &effects[0] {
        LedgerEffect::PaymentUnmatched { candidates, .. } => candidates.clone(),
        other => panic!("{other:?}"),
    };
    let mut h = Harness::new();
    for d in ["D1", "D2", "D3"] {
        h.on("2025-01-02", inv(&format!("I-{d}"), d, "99", "2025-02-01"));
    }
    let mut by_d2 = payment("P-D2", "99");
    by_d2.debtor_id = Some("D2".into());
    by_d2.remittance_text = Some("I-D2".into());
    h.on("2025-01-05", paid(by_d2));
    assert_eq!(h.open("I-D2"), dec("0"));
    let settled = candidates(&h.on("2025-01-10", paid(payment("P1", "99"))));
    assert_eq!(settled, ["D1", "D3"], "a settled item is no candidate");

    h.on("2025-01-11", reversal("P-D2", "99", "AC04"));
    assert_eq!(h.open("I-D2"), dec("99"));
    let reopened = candidates(&h.on("2025-01-12", paid(payment("P2", "99"))));
    assert_eq!(
        reopened,
        ["D1", "D2", "D3"],
        "a re-opened item is one again"
    );

    // The index is rebuilt from the items on loading: the same candidates.
    let mut restored = Harness::new();
    restored.ledger = serde_json::from_str(&serde_json::to_string(&h.ledger).unwrap()).unwrap();
    let again = candidates(&restored.on("2025-01-12", paid(payment("P3", "99"))));
    assert_eq!(again, reopened);
}
