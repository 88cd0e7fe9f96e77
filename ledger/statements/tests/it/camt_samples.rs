//! The camt.053 / camt.054 samples of `testdata/camt`, against the figures of its
//! `SOURCE.txt`.

use chrono::NaiveDate;
use statements::{BalanceCheck, Direction, Format};

use crate::support::*;

/// Balance continuity of one statement, as SOURCE.txt states it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Chain {
    Ok,
    Broken,
    NotGiven,
    MixedCurrencies,
}

fn chain(check: &BalanceCheck) -> Chain {
    match check {
        BalanceCheck::Consistent => Chain::Ok,
        BalanceCheck::Mismatch { .. } => Chain::Broken,
        BalanceCheck::NotGiven => Chain::NotGiven,
        BalanceCheck::MixedCurrencies { .. } => Chain::MixedCurrencies,
    }
}

struct Expected {
    file: &'static str,
    format: Format,
    version: &'static str,
    entries: usize,
    /// Our transactions: one per `TxDtls`, one for an entry without details.
    transactions: usize,
    credit: &'static str,
    debit: &'static str,
    first_opening: Option<&'static str>,
    last_closing: Option<&'static str>,
    /// Per statement.
    chains: &'static [Chain],
}

const EXPECTED: &[Expected] = &[
    Expected {
        file: "camt_parser_053_valid_example.xml",
        format: Format::Camt053,
        version: "camt.053.001.02",
        entries: 4,
        transactions: 5,
        credit: "1.00",
        debit: "11.00",
        first_opening: Some("33.06"), // PRCD: the previous closing is the opening
        last_closing: Some("23.06"),
        chains: &[Chain::Ok],
    },
    Expected {
        file: "camt_parser_053_valid_example_with_debit.xml",
        format: Format::Camt053,
        version: "camt.053.001.02",
        entries: 4,
        transactions: 5,
        credit: "1.00",
        debit: "11.00",
        first_opening: Some("-33.06"),
        last_closing: Some("23.06"),
        chains: &[Chain::Broken],
    },
    Expected {
        file: "camt_parser_053_valid_example_with_batch.xml",
        format: Format::Camt053,
        version: "camt.053.001.02",
        entries: 3,
        transactions: 3, // 2 TxDtls + the batch booking without details
        credit: "7688.00",
        debit: "4753.74",
        first_opening: Some("7329.80"),
        last_closing: Some("23038.20"),
        chains: &[Chain::Broken],
    },
    Expected {
        file: "camt_parser_053_valid_example_v4.xml",
        format: Format::Camt053,
        version: "camt.053.001.04",
        entries: 13,
        transactions: 32,
        credit: "1810.56",
        debit: "1272.95",
        first_opening: Some("322152.16"),
        last_closing: Some("322689.77"),
        chains: &[Chain::Ok],
    },
    Expected {
        file: "camt_parser_054_valid_example.xml",
        format: Format::Camt054,
        version: "camt.054.001.04",
        entries: 4,
        transactions: 5,
        credit: "80.56",
        debit: "21.53",
        first_opening: None,
        last_closing: None,
        chains: &[Chain::NotGiven],
    },
    Expected {
        file: "genkgo-camt_camt053.v2.multi.statement.xml",
        format: Format::Camt053,
        version: "camt.053.001.02",
        entries: 2,
        transactions: 2,
        credit: "8.85",
        debit: "7.00",
        first_opening: Some("18.15"),
        last_closing: Some("20.00"),
        chains: &[Chain::Ok, Chain::Ok],
    },
    Expected {
        file: "genkgo-camt_camt053.v2.five.decimals.xml",
        format: Format::Camt053,
        version: "camt.053.001.02",
        entries: 1,
        transactions: 1,
        credit: "8.850",
        debit: "0",
        first_opening: Some("18.150"),
        last_closing: Some("27.050"),
        chains: &[Chain::Broken],
    },
    Expected {
        file: "genkgo-camt_camt053.v4.xml",
        format: Format::Camt053,
        version: "camt.053.001.04",
        entries: 1,
        transactions: 1,
        credit: "8.85",
        debit: "0",
        first_opening: Some("18.15"),
        last_closing: Some("-27.00"), // in SEK: not a chain
        chains: &[Chain::MixedCurrencies],
    },
    Expected {
        file: "genkgo-camt_camt054.v2.xml",
        format: Format::Camt054,
        version: "camt.054.001.02",
        entries: 1,
        transactions: 3,
        credit: "0",
        debit: "200000",
        first_opening: None,
        last_closing: None,
        chains: &[Chain::NotGiven],
    },
    Expected {
        file: "genkgo-camt_camt054.v4.xml",
        format: Format::Camt054,
        version: "camt.054.001.04",
        entries: 1,
        transactions: 3,
        credit: "0",
        debit: "200000",
        first_opening: None,
        last_closing: None,
        chains: &[Chain::NotGiven],
    },
];

#[test]
fn every_camt_sample_gives_the_source_figures() {
    assert_eq!(EXPECTED.len(), CAMT_SAMPLES.len(), "every sample is listed");
    for x in EXPECTED {
        let file = statements::parse(&camt(x.file)).unwrap();
        let what = x.file;
        assert_eq!(file.format, x.format, "{what}");
        assert_eq!(file.version.as_deref(), Some(x.version), "{what}");
        assert_eq!(file.statements.len(), x.chains.len(), "{what}: statements");
        let entries: usize = file.statements.iter().map(|s| s.entries.len()).sum();
        assert_eq!(entries, x.entries, "{what}: entries");
        let transactions: usize = file
            .statements
            .iter()
            .flat_map(|s| &s.entries)
            .map(|e| e.transactions.len())
            .sum();
        assert_eq!(transactions, x.transactions, "{what}: transactions");
        let credit: rust_decimal::Decimal = file.statements.iter().map(|s| s.credit_sum()).sum();
        let debit: rust_decimal::Decimal = file.statements.iter().map(|s| s.debit_sum()).sum();
        assert_eq!(credit, dec(x.credit), "{what}: credits");
        assert_eq!(debit, dec(x.debit), "{what}: debits");
        let opening = file.statements.first().unwrap().opening_balance;
        let closing = file.statements.last().unwrap().closing_balance;
        assert_eq!(
            opening.map(|b| b.amount),
            x.first_opening.map(dec),
            "{what}: opening"
        );
        assert_eq!(
            closing.map(|b| b.amount),
            x.last_closing.map(dec),
            "{what}: closing"
        );
        let chains: Vec<Chain> = file
            .statements
            .iter()
            .map(|s| chain(&s.balance_check()))
            .collect();
        assert_eq!(chains, x.chains, "{what}: balance continuity");
        assert!(file.warnings.is_empty(), "{what}: {:?}", file.warnings);
    }
}

#[test]
fn broken_balance_chains_are_warned_about_and_the_file_is_still_imported() {
    let (_, plan) = import(&camt("camt_parser_053_valid_example_with_debit.xml"));
    assert_eq!(
        plan.balance_warnings.len(),
        1,
        "{:?}",
        plan.balance_warnings
    );
    let warning = &plan.balance_warnings[0];
    for part in [
        "0352C5320131227220503",
        "-33.06",
        "-43.06",
        "23.06",
        "line 13",
    ] {
        assert!(warning.contains(part), "{warning} names {part}");
    }
    assert_eq!(received(&plan).len(), 1);

    let (file, plan) = import(&camt("genkgo-camt_camt053.v2.five.decimals.xml"));
    assert_eq!(
        file.statements[0].balance_check(),
        BalanceCheck::Mismatch {
            expected: dec("27.050"),
            computed: dec("27.000")
        }
    );
    assert!(plan.balance_warnings[0].contains("difference 0.050"));
    assert_eq!(
        received(&plan)[0].amount.to_string(),
        "8.850",
        "decimals as written"
    );

    let (_, plan) = import(&camt("genkgo-camt_camt053.v4.xml"));
    assert!(
        plan.balance_warnings[0].contains("EUR, SEK"),
        "{:?}",
        plan.balance_warnings
    );
    let (_, plan) = import(&camt("camt_parser_053_valid_example_v4.xml"));
    assert!(
        plan.balance_warnings.is_empty(),
        "{:?}",
        plan.balance_warnings
    );
}

#[test]
fn batch_bookings_are_split_into_their_transactions() {
    let file = statements::parse(&camt("camt_parser_053_valid_example.xml")).unwrap();
    let batch = &file.statements[0].entries[3];
    assert_eq!(batch.batch_size, Some(2));
    assert_eq!(batch.direction, Direction::Debit);
    let amounts: Vec<_> = batch.transactions.iter().map(|t| t.amount).collect();
    assert_eq!(amounts, [Some(dec("3.50")), Some(dec("2.50"))]);
    let e2e: Vec<_> = batch
        .transactions
        .iter()
        .map(|t| t.end_to_end_id.as_deref().unwrap())
        .collect();
    assert_eq!(
        e2e,
        ["STZV-EtE27122013-11:02-1", "STZV-EtE27122013-11:02-2"]
    );

    let file = statements::parse(&camt("camt_parser_053_valid_example_v4.xml")).unwrap();
    let sizes: Vec<(Option<u32>, usize)> = file.statements[0]
        .entries
        .iter()
        .filter(|e| e.batch_size.is_some())
        .map(|e| (e.batch_size, e.transactions.len()))
        .collect();
    assert_eq!(
        sizes,
        [
            (Some(10), 10),
            (Some(8), 8),
            (Some(3), 3),
            (Some(2), 2),
            (Some(1), 1),
            (Some(1), 1),
            (Some(1), 1)
        ]
    );
    // The batch of ten ISR payments becomes ten payments adding up to the entry.
    let (_, plan) = import(&camt("camt_parser_053_valid_example_v4.xml"));
    let of_batch: Vec<_> = received(&plan)
        .into_iter()
        .filter(|p| p.payment_id.contains("/20160530007602769939022000000012/"))
        .collect();
    assert_eq!(of_batch.len(), 10);
    assert_eq!(
        of_batch
            .iter()
            .map(|p| p.amount)
            .sum::<rust_decimal::Decimal>(),
        dec("1000.00")
    );
    assert_eq!(
        of_batch[1].structured_reference.as_deref(),
        Some("000000000002016030002820804")
    );
}

#[test]
fn a_batch_booking_without_details_stays_one_transaction_of_the_entry_amount() {
    let file = statements::parse(&camt("camt_parser_053_valid_example_with_batch.xml")).unwrap();
    let batch = &file.statements[0].entries[0];
    assert_eq!(batch.batch_size, Some(3));
    assert_eq!(batch.transactions.len(), 1);
    assert_eq!(batch.transactions[0].amount, Some(dec("4753.74")));
    assert_eq!(batch.transaction_code.as_deref(), Some("PMNT/ICDT/ESCT"));
}

#[test]
fn returns_with_md06_and_narr_and_reversal_indicators_become_reversals() {
    let (file, plan) = import(&camt("camt_parser_053_valid_example_v4.xml"));
    let reversals = reversed(&plan);
    let summary: Vec<(&str, String, &str)> = reversals
        .iter()
        .map(|r| {
            (
                r.reason_code.as_str(),
                r.amount.to_string(),
                r.payment_id.as_str(),
            )
        })
        .collect();
    let own = "CH0309000000250090342/20160430375204000008574/20160323007602726186629000000012";
    assert_eq!(
        summary,
        [
            ("NARR", "20.00".to_owned(), format!("{own}/1").as_str()),
            ("NARR", "40.00".to_owned(), format!("{own}/2").as_str()),
            ("NARR", "50.00".to_owned(), format!("{own}/3").as_str()),
            ("MD06", "6.00".to_owned(), "EndToEnd-2B6C-CHDDBB5"),
            ("MD06", "15.53".to_owned(), "E2E-1-1-16030913"),
        ]
    );
    // The NARR returns give no end-to-end id: the entry's own id is the payment id.
    let narr = &file.statements[0].entries[8];
    assert!(narr.transactions.iter().all(|t| t.returned));
    assert!(
        narr.transactions[0]
            .return_text
            .as_deref()
            .unwrap()
            .contains("BEGUENSTIGTER UNBEKANNT")
    );
    // MD06: a debit with RvslInd=true; the counterparty is the debtor of the returned
    // collection.
    let md06 = &file.statements[0].entries[11];
    assert!(md06.reversal && md06.direction == Direction::Debit);
    assert_eq!(
        md06.transactions[0].counterparty_name.as_deref(),
        Some("Bernasconi Maria")
    );
    assert_eq!(
        reversals[3].value_date,
        NaiveDate::from_ymd_opt(2016, 4, 10).unwrap()
    );

    let (_, plan) = import(&camt("camt_parser_054_valid_example.xml"));
    let codes: Vec<&str> = reversed(&plan)
        .iter()
        .map(|r| r.reason_code.as_str())
        .collect();
    assert_eq!(codes, ["MD06", "MD06"]);
    let collected: Vec<String> = received(&plan)
        .iter()
        .map(|p| p.amount.to_string())
        .collect();
    assert_eq!(collected, ["15.00", "9.00", "56.56"]);
}

#[test]
fn transaction_details_are_decoded() {
    let file = statements::parse(&camt("camt_parser_053_valid_example.xml")).unwrap();
    let s = &file.statements[0];
    assert_eq!(s.account, "DE14740618130000033626");
    assert_eq!(s.currency.map(|c| c.to_string()).as_deref(), Some("EUR"));
    assert_eq!(
        s.message_reference.as_deref(),
        Some("053D2013-12-27T22:05:03.0N130000005")
    );
    let first = &s.entries[0];
    assert_eq!(first.reference.as_deref(), Some("1234567890sdfghjk"));
    assert_eq!(first.bank_reference.as_deref(), Some("2013122710583450000"));
    assert_eq!(
        first.proprietary_code, None,
        "an empty <BkTxCd/> on the entry"
    );
    let tx = &first.transactions[0];
    assert_eq!(tx.end_to_end_id.as_deref(), Some("EndToEndReference"));
    assert_eq!(tx.mandate_id.as_deref(), Some("MandateReference"));
    assert_eq!(
        tx.counterparty_name.as_deref(),
        Some("Testkonto Nummer 2"),
        "creditor of a debit"
    );
    assert_eq!(
        tx.counterparty_iban.as_deref(),
        Some("DE09300606010012345671")
    );
    assert_eq!(tx.counterparty_bic.as_deref(), Some("DAAEDEDDXXX"));
    assert!(
        first
            .additional_info
            .as_deref()
            .unwrap()
            .starts_with("Überweisungs-Gutschrift")
    );
    // NOTPROVIDED is no end-to-end id.
    assert_eq!(s.entries[1].transactions[0].end_to_end_id, None);
    // A national account number (BBAN) is kept as the account, not as an IBAN.
    let credit = &s.entries[2].transactions[0];
    assert_eq!(
        credit.counterparty_account.as_deref(),
        Some("740618130100033626")
    );
    assert_eq!(credit.counterparty_iban, None);
    assert_eq!(credit.remittance_text.as_deref(), Some("R CKBUCHUNG"));
}
