//! Batch bookings, returns, pending and outgoing entries on this crate's camt.053.001.08
//! fixture (`tests/fixtures/camt053_v08_batch_of_three.xml`).

use chrono::{NaiveDate, TimeZone, Utc};
use events::PaymentMethod;
use rust_decimal::Decimal;
use statements::{BalanceCheck, Direction, SkipReason};

use crate::support::*;

const FIXTURE: &str = "camt053_v08_batch_of_three.xml";

fn fixture_text() -> String {
    String::from_utf8(fixture(FIXTURE)).unwrap()
}

#[test]
fn a_batch_of_three_becomes_three_payments_that_add_up_to_the_entry() {
    let (file, plan) = import(&fixture(FIXTURE));
    let entry = &file.statements[0].entries[0];
    assert_eq!(entry.batch_size, Some(3));
    assert_eq!(entry.status.as_deref(), Some("BOOK"), "v08 <Sts><Cd>");
    let payments = received(&plan);
    assert_eq!(payments.len(), 3);
    assert_eq!(
        payments.iter().map(|p| p.amount).sum::<Decimal>(),
        entry.amount
    );
    let ids: Vec<&str> = payments.iter().map(|p| p.payment_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "NL91ABNA0417164300/STMT-2025-03-28/BANK-0001/1",
            "NL91ABNA0417164300/STMT-2025-03-28/BANK-0001/2",
            "NL91ABNA0417164300/STMT-2025-03-28/BANK-0001/3",
        ]
    );
    assert_eq!(plan.events[0].event_id, format!("stmt-{}", ids[0]));
    assert_eq!(
        plan.events[0].event_time,
        Utc.with_ymd_and_hms(2025, 3, 28, 0, 0, 0).unwrap(),
        "the booking date at midnight UTC"
    );

    let first = payments[0];
    assert_eq!(first.amount, dec("100.00"));
    assert_eq!(
        first.counterparty_name.as_deref(),
        Some("Bakkerij De Korenaar B.V."),
        "v08 <Pty><Nm>"
    );
    assert_eq!(
        first.counterparty_iban.as_deref(),
        Some("NL20INGB0001234567")
    );
    assert_eq!(
        first.structured_reference.as_deref(),
        Some("RF18539007547034")
    );
    assert_eq!(first.end_to_end_id.as_deref(), Some("E2E-INV-000123"));
    assert_eq!(first.method, PaymentMethod::BankTransfer);
    assert_eq!(first.debtor_id, None);
    assert_eq!(
        first.value_date,
        NaiveDate::from_ymd_opt(2025, 3, 28).unwrap()
    );

    let second = payments[1];
    assert_eq!(second.end_to_end_id, None, "NOTPROVIDED is dropped");
    assert_eq!(second.counterparty_name.as_deref(), Some("Jansen & Zn."));
    assert_eq!(
        second.remittance_text.as_deref(),
        Some("Factuur INV-2025-000124 dank u")
    );
    assert_eq!(
        payments[2].remittance_text.as_deref(),
        Some("INV-2025-000125")
    );
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
}

#[test]
fn the_return_of_a_collected_direct_debit_names_the_original_payment() {
    let (_, plan) = import(&fixture(FIXTURE));
    let reversals = reversed(&plan);
    assert_eq!(reversals.len(), 1);
    let r = reversals[0];
    assert_eq!(r.payment_id, "DD-2025-03-05-000981");
    assert_eq!(r.reason_code, "MD06");
    assert_eq!(r.amount, dec("45.00"));
    assert_eq!(r.debtor_id, None);
    let envelope = &plan.events[3];
    assert_eq!(
        envelope.event_id,
        "stmt-NL91ABNA0417164300/STMT-2025-03-28/BANK-0002/1"
    );
    assert_eq!(
        envelope.event_time,
        Utc.with_ymd_and_hms(2025, 3, 28, 0, 0, 0).unwrap(),
        "the date of a <DtTm> as written"
    );
}

#[test]
fn outgoing_and_pending_entries_are_skipped_with_their_line() {
    let (file, plan) = import(&fixture(FIXTURE));
    let skipped: Vec<(usize, &str, Decimal, &SkipReason)> = plan
        .skipped
        .iter()
        .map(|s| (s.line, s.entry.as_str(), s.amount, &s.reason))
        .collect();
    assert_eq!(
        skipped,
        [
            (
                86,
                "entry 3 of statement STMT-2025-03-28",
                dec("200.00"),
                &SkipReason::Debit
            ),
            (
                95,
                "entry 4 of statement STMT-2025-03-28",
                dec("75.00"),
                &SkipReason::NotBooked {
                    status: "PDNG".into()
                }
            ),
        ]
    );
    assert_eq!(plan.skipped[0].direction, Direction::Debit);
    // The pending entry does not move the booked balances.
    assert_eq!(file.statements[0].balance_check(), BalanceCheck::Consistent);
    assert_eq!(file.statements[0].credit_sum(), dec("150.00"));
}

#[test]
fn a_batch_whose_amounts_do_not_add_up_stays_one_payment_with_a_warning() {
    let text = fixture_text().replace(
        r#"<Amt Ccy="EUR">20.00</Amt>"#,
        r#"<Amt Ccy="EUR">25.00</Amt>"#,
    );
    let (_, plan) = import(text.as_bytes());
    let payments = received(&plan);
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0].amount, dec("150.00"));
    assert_eq!(
        payments[0].payment_id,
        "NL91ABNA0417164300/STMT-2025-03-28/BANK-0001/1"
    );
    assert_eq!(
        payments[0].counterparty_name, None,
        "no single payer to name"
    );
    assert_eq!(plan.warnings.len(), 1);
    let w = &plan.warnings[0];
    assert!(
        w.contains("line 29") && w.contains("add up to 155.00"),
        "{w}"
    );
}

#[test]
fn a_batch_with_transactions_in_another_currency_stays_one_payment() {
    let text = fixture_text().replace(
        r#"<Amt Ccy="EUR">30.00</Amt>"#,
        r#"<Amt Ccy="CHF">30.00</Amt>"#,
    );
    let (file, plan) = import(text.as_bytes());
    assert_eq!(file.statements[0].entries[0].transactions[1].amount, None);
    assert_eq!(received(&plan).len(), 1);
    assert!(
        plan.warnings[0].contains("do not all give an amount in EUR"),
        "{:?}",
        plan.warnings
    );
}
