//! The genkgo/camt samples against genkgo's own expected decoding (JSON dumps of its PHP
//! objects, amounts in minor units, `__RECURSIVITY__` where an object was dumped before).

use rust_decimal::Decimal;
use serde_json::Value;
use statements::{Direction, Entry, Statement, Transaction};

use crate::support::*;

/// Which sample, and its expected decoding.
const FILES: &[&str] = &[
    "genkgo-camt_camt053.v2.multi.statement",
    "genkgo-camt_camt053.v2.five.decimals",
    "genkgo-camt_camt053.v4",
    "genkgo-camt_camt054.v2",
    "genkgo-camt_camt054.v4",
];

fn text(v: &Value) -> Option<&str> {
    v.as_str()
        .filter(|s| !s.is_empty() && *s != "__RECURSIVITY__")
}

/// An amount in minor units with its sign, as genkgo writes it.
fn minor_units(amount: Decimal, currency: &str) -> String {
    let exponent = if currency == "JPY" { 0 } else { 2 };
    let scaled = amount * Decimal::from(10_i64.pow(exponent));
    assert_eq!(
        scaled.fract(),
        Decimal::ZERO,
        "{amount} {currency} in minor units"
    );
    scaled.trunc().normalize().to_string()
}

/// A money object of the dump: (minor units, currency).
fn money(v: &Value) -> (String, String) {
    (
        v["getAmount"].as_str().unwrap().to_owned(),
        v["getCurrency"]["getCode"].as_str().unwrap().to_owned(),
    )
}

/// The date part of a dumped DateTimeImmutable.
fn date(v: &Value) -> Option<String> {
    v.get("0")
        .and_then(Value::as_str)
        .map(|s| s[..10].to_owned())
}

/// A list whose first element is `__RECURSIVITY__` for the singular getter's object.
fn resolved<'a>(list: &'a Value, first: &'a Value) -> Vec<&'a Value> {
    list.as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, v)| {
            if i == 0 && v.as_str() == Some("__RECURSIVITY__") {
                first
            } else {
                v
            }
        })
        .collect()
}

fn balance_code(kind: &str) -> &str {
    match kind {
        "opening" => "OPBD",
        "closing" => "CLBD",
        "opening_available" => "OPAV",
        "closing_available" => "CLAV",
        other => panic!("balance type {other}"),
    }
}

fn check_record(record: &Value, statement: &Statement, what: &str) {
    assert_eq!(
        record["getId"].as_str(),
        Some(statement.id.as_str()),
        "{what}: id"
    );
    assert_eq!(
        record["getAccount"]["getIdentification"].as_str(),
        Some(statement.account.as_str()),
        "{what}: account"
    );
    // A notification has no balances (and its dump no getBalances).
    let none = Vec::new();
    let balances = record["getBalances"].as_array().unwrap_or(&none);
    assert_eq!(balances.len(), statement.balances.len(), "{what}: balances");
    for (expected, ours) in balances.iter().zip(&statement.balances) {
        let kind = balance_code(expected["getType"].as_str().unwrap());
        assert_eq!(ours.kind, kind, "{what}: balance type");
        let b = ours.balance;
        assert_eq!(
            (
                minor_units(b.amount, b.currency.as_str()),
                b.currency.to_string()
            ),
            money(&expected["getAmount"]),
            "{what}: balance {kind}"
        );
        assert_eq!(
            date(&expected["getDate"]),
            Some(b.date.to_string()),
            "{what}: {kind} date"
        );
    }
}

fn check_entry(expected: &Value, entry: &Entry, what: &str) {
    let signed = match entry.direction {
        Direction::Credit => entry.amount,
        Direction::Debit => -entry.amount,
    };
    assert_eq!(
        (
            minor_units(signed, entry.currency.as_str()),
            entry.currency.to_string()
        ),
        money(&expected["getAmount"]),
        "{what}: amount"
    );
    let indicator = match entry.direction {
        Direction::Credit => "CRDT",
        Direction::Debit => "DBIT",
    };
    assert_eq!(
        expected["getCreditDebitIndicator"].as_str(),
        Some(indicator),
        "{what}"
    );
    assert_eq!(
        expected["getReversalIndicator"].as_bool(),
        Some(entry.reversal),
        "{what}"
    );
    assert_eq!(
        expected["getStatus"].as_str(),
        entry.status.as_deref(),
        "{what}: status"
    );
    assert_eq!(
        date(&expected["getBookingDate"]),
        entry.booking_date.map(|d| d.to_string()),
        "{what}: booking date"
    );
    assert_eq!(
        date(&expected["getValueDate"]),
        entry.value_date.map(|d| d.to_string()),
        "{what}: value date"
    );
    assert_eq!(
        text(&expected["getAccountServicerReference"]),
        entry.bank_reference.as_deref(),
        "{what}: AcctSvcrRef"
    );
    assert_eq!(
        text(&expected["getReference"]),
        entry.reference.as_deref(),
        "{what}: NtryRef"
    );
    assert_eq!(
        text(&expected["getAdditionalInfo"]),
        entry.additional_info.as_deref(),
        "{what}: AddtlNtryInf"
    );
    let details = resolved(
        &expected["getTransactionDetails"],
        &expected["getTransactionDetail"],
    );
    assert_eq!(
        details.len(),
        entry.transactions.len(),
        "{what}: transactions"
    );
    for (i, (d, tx)) in details.iter().zip(&entry.transactions).enumerate() {
        check_transaction(d, tx, entry, &format!("{what} tx {}", i + 1));
    }
}

fn check_transaction(expected: &Value, tx: &Transaction, entry: &Entry, what: &str) {
    // A transaction amount in the entry's currency is the transaction's part of the
    // entry; in another currency (an instructed amount) it is not what was booked.
    if let Some(m) = expected["getAmount"].as_object() {
        let (units, currency) = money(&Value::Object(m.clone()));
        if currency == entry.currency.as_str() && entry.transactions.len() > 1 {
            let ours = tx.amount.unwrap();
            let signed = if units.starts_with('-') { -ours } else { ours };
            assert_eq!(minor_units(signed, &currency), units, "{what}: amount");
        } else if entry.transactions.len() > 1 {
            assert_eq!(
                tx.amount, None,
                "{what}: an amount in {currency} is not split"
            );
        } else {
            assert_eq!(
                tx.amount,
                Some(entry.amount),
                "{what}: a lone transaction is the entry"
            );
        }
    }
    let refs = &expected["getReference"];
    assert_eq!(
        text(&refs["getEndToEndId"]),
        tx.end_to_end_id.as_deref(),
        "{what}: e2e"
    );
    assert_eq!(
        text(&refs["getMandateId"]),
        tx.mandate_id.as_deref(),
        "{what}: mandate"
    );
    let remittance = &expected["getRemittanceInformation"];
    let unstructured: Vec<&str> = resolved(
        &remittance["getUnstructuredBlocks"],
        &remittance["getUnstructuredBlock"],
    )
    .into_iter()
    .filter_map(|b| text(&b["getMessage"]))
    .collect();
    let unstructured = (!unstructured.is_empty()).then(|| unstructured.join(" "));
    assert_eq!(
        unstructured.as_deref(),
        tx.remittance_text.as_deref(),
        "{what}: Ustrd"
    );
    // A block's reference dumped before is the top-level one.
    let structured = resolved(
        &remittance["getStructuredBlocks"],
        &remittance["getStructuredBlock"],
    )
    .into_iter()
    .find_map(|b| match &b["getCreditorReferenceInformation"] {
        Value::String(s) if s == "__RECURSIVITY__" => {
            text(&remittance["getCreditorReferenceInformation"]["getRef"])
        }
        reference => text(&reference["getRef"]),
    });
    assert_eq!(
        structured,
        tx.structured_reference.as_deref(),
        "{what}: CdtrRefInf/Ref"
    );
    // The counterparty of a credit is its debtor, of a debit its creditor.
    let role = match entry.direction {
        Direction::Credit => "Debtor",
        Direction::Debit => "Creditor",
    };
    let party = expected["getRelatedParties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["getRelatedPartyType"]["__CLASS__"]
                .as_str()
                .is_some_and(|c| c.ends_with(&format!("\\{role}")))
        });
    let name = party.and_then(|p| text(&p["getRelatedPartyType"]["getName"]));
    assert_eq!(name, tx.counterparty_name.as_deref(), "{what}: {role} name");
    let account = party.and_then(|p| text(&p["getAccount"]["getIdentification"]));
    assert_eq!(
        account,
        tx.counterparty_account.as_deref(),
        "{what}: {role} account"
    );
    assert_eq!(
        expected["getReturnInformation"].is_null(),
        !tx.returned,
        "{what}: RtrInf"
    );
}

#[test]
fn decoded_camt_values_equal_the_genkgo_expected_files() {
    for name in FILES {
        let expected: Value = serde_json::from_slice(&camt(&format!("{name}.json"))).unwrap();
        let file = statements::parse(&camt(&format!("{name}.xml"))).unwrap();
        let entries = expected["getEntries"].as_array().unwrap();
        assert!(!entries.is_empty(), "{name}");
        for e in entries {
            // The dump holds the entries of the last record (and that record) only.
            let record = &e["getRecord"];
            let statement = if record.is_object() {
                let id = record["getId"].as_str().unwrap();
                file.statements.iter().find(|s| s.id == id).unwrap()
            } else {
                file.statements.last().unwrap()
            };
            if record.is_object() {
                check_record(record, statement, name);
            }
            let index = usize::try_from(e["getIndex"].as_u64().unwrap()).unwrap();
            check_entry(
                e,
                &statement.entries[index],
                &format!("{name} entry {index}"),
            );
        }
    }
}
