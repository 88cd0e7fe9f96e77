//! The MT940 samples of `testdata/mt940`, against the figures of its `SOURCE.txt`, and
//! the dialects they show.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use statements::{BalanceCheck, Direction, SkipReason};

use crate::support::*;

struct Expected {
    file: &'static str,
    statements: usize,
    entries: usize,
    credit: &'static str,
    debit: &'static str,
    first_opening: &'static str,
    last_closing: Option<&'static str>,
    /// Statements whose opening + credits − debits = closing, of those with both balances.
    consistent: (usize, usize),
}

const EXPECTED: &[Expected] = &[
    Expected {
        file: "jejik-mt940_commerzbank.txt",
        statements: 1,
        entries: 1,
        credit: "0",
        debit: "12.35",
        first_opening: "0.00",
        last_closing: Some("0.00"),
        consistent: (0, 1), // anonymised balances
    },
    Expected {
        file: "jejik-mt940_deutschebank.txt",
        statements: 1,
        entries: 1,
        credit: "0",
        debit: "12.35",
        first_opening: "0.00",
        last_closing: Some("0.00"),
        consistent: (0, 1),
    },
    Expected {
        file: "jejik-mt940_paribas.txt",
        statements: 2,
        entries: 2,
        credit: "0",
        debit: "20.00",
        first_opening: "0.00",
        last_closing: Some("-10.00"),
        consistent: (2, 2),
    },
    Expected {
        file: "jejik-mt940_volksbankenraiffeisenbanken.txt",
        statements: 8,
        entries: 12,
        credit: "745.00",
        debit: "0",
        first_opening: "3085.00",
        last_closing: Some("3830.00"),
        consistent: (8, 8),
    },
    Expected {
        file: "php-mt940_Abn_sample",
        statements: 4,
        entries: 5,
        credit: "25111.08",
        debit: "1257.86",
        first_opening: "17369.99",
        last_closing: Some("321033.76"),
        consistent: (4, 4),
    },
    Expected {
        file: "php-mt940_Rabo_sample",
        statements: 39,
        entries: 39,
        credit: "1943308.78",
        debit: "592206.96",
        first_opening: "0.00",
        last_closing: Some("5500.00"),
        consistent: (10, 39), // demo data
    },
    Expected {
        file: "php-mt940_Spk_sample",
        statements: 4,
        entries: 10,
        credit: "932",
        debit: "16.68",
        first_opening: "1818.90",
        last_closing: Some("2734.22"),
        consistent: (4, 4),
    },
    Expected {
        file: "wolph-mt940_ASNB_mt940.txt",
        statements: 31,
        entries: 8,
        credit: "2828.90",
        debit: "2771.96",
        first_opening: "444.29",
        last_closing: Some("501.23"),
        consistent: (31, 31),
    },
    Expected {
        file: "wolph-mt940_citi_mt940.txt",
        statements: 1,
        entries: 5,
        credit: "0.00",
        debit: "1142.75",
        first_opening: "17376.67",
        last_closing: Some("16233.92"),
        consistent: (1, 1),
    },
    Expected {
        file: "wolph-mt940_self-provided_gv_codes.sta",
        statements: 1,
        entries: 2,
        credit: "0",
        debit: "257.45",
        first_opening: "12345.12",
        last_closing: None,
        consistent: (0, 0),
    },
    Expected {
        file: "wolph-mt940_self-provided_multiline.sta",
        statements: 1,
        entries: 2,
        credit: "119",
        debit: "5",
        first_opening: "16.40",
        last_closing: Some("11.40"),
        consistent: (0, 1), // the stray :61: after the closing `-`
    },
];

#[test]
fn every_mt940_sample_gives_the_source_figures() {
    assert_eq!(
        EXPECTED.len(),
        MT940_SAMPLES.len(),
        "every sample is listed"
    );
    for x in EXPECTED {
        let file = statements::parse(&mt940(x.file)).unwrap();
        let what = x.file;
        assert_eq!(file.format, statements::Format::Mt940, "{what}");
        assert_eq!(file.statements.len(), x.statements, "{what}: statements");
        let entries: usize = file.statements.iter().map(|s| s.entries.len()).sum();
        assert_eq!(entries, x.entries, "{what}: :61: lines");
        let credit: Decimal = file.statements.iter().map(|s| s.credit_sum()).sum();
        let debit: Decimal = file.statements.iter().map(|s| s.debit_sum()).sum();
        assert_eq!(credit, dec(x.credit), "{what}: credits");
        assert_eq!(debit, dec(x.debit), "{what}: debits");
        let opening = file.statements.first().unwrap().opening_balance.unwrap();
        assert_eq!(
            opening.amount,
            dec(x.first_opening),
            "{what}: first opening"
        );
        let closing = file.statements.last().unwrap().closing_balance;
        assert_eq!(
            closing.map(|b| b.amount),
            x.last_closing.map(dec),
            "{what}: last closing"
        );
        let checks: Vec<BalanceCheck> = file.statements.iter().map(|s| s.balance_check()).collect();
        let given = checks
            .iter()
            .filter(|c| **c != BalanceCheck::NotGiven)
            .count();
        let consistent = checks
            .iter()
            .filter(|c| **c == BalanceCheck::Consistent)
            .count();
        assert_eq!(
            (consistent, given),
            x.consistent,
            "{what}: balance continuity"
        );
        // Every inconsistent statement is reported.
        let (_, plan) = import(&mt940(x.file));
        let mismatches = plan
            .balance_warnings
            .iter()
            .filter(|w| w.contains("but the closing balance is"))
            .count();
        assert_eq!(
            mismatches,
            given - consistent,
            "{what}: {:?}",
            plan.balance_warnings
        );
    }
}

#[test]
fn commerzbank_and_deutsche_bank_returned_direct_debits_are_reversals() {
    for name in [
        "jejik-mt940_commerzbank.txt",
        "jejik-mt940_deutschebank.txt",
    ] {
        let (file, plan) = import(&mt940(name));
        let entry = &file.statements[0].entries[0];
        assert!(entry.reversal, "{name}: GVC 109 and type RTI mark a return");
        assert_eq!(entry.proprietary_code.as_deref(), Some("109"));
        assert_eq!(entry.transaction_code.as_deref(), Some("NRTI"));
        assert_eq!(entry.direction, Direction::Debit);
        assert_eq!(entry.bank_reference.as_deref(), Some("2016021783252833"));
        assert!(
            entry
                .additional_info
                .as_deref()
                .unwrap()
                .starts_with("SEPA-LASTSCHR. RETOURE CORE")
        );
        let tx = &entry.transactions[0];
        assert_eq!(
            tx.end_to_end_id.as_deref(),
            Some("A1.200080779.400143254.4961336")
        );
        assert_eq!(tx.mandate_id.as_deref(), Some("20852HW2723821"));
        assert_eq!(tx.original_amount, Some(dec("11.85")));
        assert_eq!(tx.charges, Some(dec("0.50")));
        assert_eq!(
            tx.counterparty_iban.as_deref(),
            Some("DE50712345600200691329")
        );

        let reversals = reversed(&plan);
        assert_eq!(reversals.len(), 1, "{name}");
        let r = reversals[0];
        assert_eq!(
            r.payment_id, "A1.200080779.400143254.4961336",
            "the original end-to-end id"
        );
        assert_eq!(
            r.amount,
            dec("11.85"),
            "the returned amount, without the charges"
        );
        assert_eq!(
            r.reason_code, "NARR",
            "no code in the file, only a narrative"
        );
        assert_eq!(r.value_date, NaiveDate::from_ymd_opt(2020, 6, 8).unwrap());
        assert!(received(&plan).is_empty());
        assert_eq!(plan.skipped.len(), 1);
        assert_eq!(plan.skipped[0].reason, SkipReason::ReturnCharges);
        assert_eq!(plan.skipped[0].amount, dec("0.50"));
    }
}

#[test]
fn crlf_and_lf_files_read_the_same() {
    let lf = statements::parse(&mt940("jejik-mt940_commerzbank.txt")).unwrap();
    let crlf = statements::parse(&mt940("jejik-mt940_deutschebank.txt")).unwrap();
    assert_eq!(lf.statements[0].entries, crlf.statements[0].entries);
    assert_eq!(crlf.statements[0].account, "20070000/0123456601");
}

#[test]
fn german_structured_86_gives_counterparty_remittance_and_references() {
    let file = statements::parse(&mt940("jejik-mt940_volksbankenraiffeisenbanken.txt")).unwrap();
    let first = &file.statements[0].entries[0];
    assert_eq!(first.proprietary_code.as_deref(), Some("166"));
    let tx = &first.transactions[0];
    assert_eq!(tx.counterparty_name.as_deref(), Some("Olivia Dorn"));
    assert_eq!(
        tx.counterparty_iban.as_deref(),
        Some("DE40500105174675974588")
    );
    assert_eq!(tx.counterparty_bic.as_deref(), Some("HEISDE66"));
    assert_eq!(
        tx.remittance_text.as_deref(),
        Some("einfach so fuer euch  IBAN: DE40500105174675974588 BIC: HEISDE66")
    );
    // ?20..?29 are one text cut in pieces; ?32 and ?33 one name.
    let tx = &file.statements[1].entries[0].transactions[0];
    assert!(
        tx.remittance_text
            .as_deref()
            .unwrap()
            .starts_with("Musical Emilio CD")
    );
    let with_eref = &file.statements[2].entries[0].transactions[0];
    assert_eq!(
        with_eref.end_to_end_id.as_deref(),
        Some("ZV0100284190949300000002")
    );
    let hellwig = &file.statements[3].entries[0].transactions[0];
    assert_eq!(
        hellwig.counterparty_name.as_deref(),
        Some("Hellwig, Annegret, Hellwig, Dieter")
    );

    let file = statements::parse(&mt940("wolph-mt940_self-provided_gv_codes.sta")).unwrap();
    let debit = &file.statements[0].entries[0];
    assert_eq!(debit.proprietary_code.as_deref(), Some("835"));
    let tx = &debit.transactions[0];
    assert_eq!(tx.end_to_end_id.as_deref(), Some("1234567890123 PAYPAL"));
    assert_eq!(tx.mandate_id.as_deref(), Some("12AB234CD6E7F"));
    assert_eq!(
        tx.remittance_text.as_deref(),
        Some(". SPOTIFY, Ihr Einkaufbei SPOTIFY")
    );
    assert_eq!(
        tx.counterparty_name.as_deref(),
        Some("PayPal (Europe) S.a.r.l. et")
    );
    assert!(!debit.reversal, "a direct debit of ours, not a return");

    let file = statements::parse(&mt940("php-mt940_Spk_sample")).unwrap();
    let first = &file.statements[0].entries[0];
    assert_eq!(first.proprietary_code.as_deref(), Some("051"));
    assert_eq!(first.reference.as_deref(), Some("00001238972230329"));
    assert_eq!(first.transaction_code.as_deref(), Some("N051"));
    let tx = &first.transactions[0];
    assert_eq!(
        tx.remittance_text.as_deref(),
        Some("SOME DESCRIPTIONMORE DESC")
    );
    assert_eq!(tx.counterparty_account.as_deref(), Some("0012345678"));
    assert_eq!(
        tx.counterparty_iban, None,
        "a German account number, not an IBAN"
    );
    assert_eq!(tx.counterparty_bic.as_deref(), Some("20010020"));
}

#[test]
fn part_statements_with_60m_and_62m_chain_up() {
    let file = statements::parse(&mt940("php-mt940_Spk_sample")).unwrap();
    let kinds: Vec<Vec<&str>> = file
        .statements
        .iter()
        .map(|s| s.balances.iter().map(|b| b.kind.as_str()).collect())
        .collect();
    assert_eq!(
        kinds,
        [
            ["60F", "62M"],
            ["60M", "62F"],
            ["60F", "62M"],
            ["60M", "62F"]
        ]
    );
    let ids: Vec<&str> = file.statements.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "09198/001/2010-02-17",
            "09198/002/2010-02-17",
            "09199/001/2010-02-13",
            "09199/002/2010-02-18"
        ]
    );
    let (_, plan) = import(&mt940("php-mt940_Spk_sample"));
    assert!(
        plan.balance_warnings.is_empty(),
        "{:?}",
        plan.balance_warnings
    );
    // The entry date takes its year from the value date.
    let first = &file.statements[0].entries[0];
    assert_eq!(first.value_date, NaiveDate::from_ymd_opt(2010, 2, 17));
    assert_eq!(first.booking_date, NaiveDate::from_ymd_opt(2010, 2, 4));
}

#[test]
fn swift_block_headers_are_skipped_and_asn_details_read() {
    let (file, plan) = import(&mt940("wolph-mt940_ASNB_mt940.txt"));
    assert_eq!(file.statements.len(), 31);
    assert!(
        file.statements
            .iter()
            .all(|s| s.account == "NL81ASNB9999999999")
    );
    assert!(file.warnings.is_empty(), "{:?}", file.warnings);
    let first = &file.statements[0].entries[0];
    assert_eq!(first.reference.as_deref(), Some("NL47INGB9999999999"));
    assert_eq!(first.additional_info.as_deref(), Some("hr gjlm paulissen"));
    let tx = &first.transactions[0];
    assert_eq!(tx.counterparty_iban.as_deref(), Some("NL47INGB9999999999"));
    assert_eq!(tx.counterparty_name.as_deref(), Some("hr gjlm paulissen"));
    assert_eq!(tx.remittance_text.as_deref(), Some("Betaling sieraden"));
    // A line cut at 65 characters continues without a space.
    let dividend = received(&plan)
        .into_iter()
        .find(|p| p.amount == dec("828.72"))
        .unwrap();
    assert!(
        dividend
            .remittance_text
            .as_deref()
            .unwrap()
            .contains("Transfer Solutions BV-DIVIDEND")
    );
    assert!(
        plan.balance_warnings.is_empty(),
        "{:?}",
        plan.balance_warnings
    );
}

#[test]
fn a_61_after_the_end_of_its_statement_is_kept_and_warned_about() {
    let (file, plan) = import(&mt940("wolph-mt940_self-provided_multiline.sta"));
    assert_eq!(file.warnings.len(), 1);
    assert!(file.warnings[0].contains("line 38"), "{}", file.warnings[0]);
    assert_eq!(plan.warnings, file.warnings);
    let s = &file.statements[0];
    assert_eq!(s.entries[1].line, 38);
    assert_eq!(s.entries[1].amount, dec("119"));
    assert!(
        plan.balance_warnings[0].contains("difference -119"),
        "{:?}",
        plan.balance_warnings
    );
    // The :86: after :62F:/:64: is about the statement, not the last entry.
    assert_eq!(
        s.information.as_deref(),
        Some("FREE TEXT FREE TEXT FREE TEXT FREE TEXT FREE TEXT FREE TEXT")
    );
    let first = &s.entries[0];
    assert_eq!(
        (first.direction, first.reversal),
        (Direction::Debit, false),
        "DR: D, funds code R"
    );
    let tx = &first.transactions[0];
    assert_eq!(
        tx.counterparty_name.as_deref(),
        Some("NOM DU DO / BENEFICIAIRE 11NOM DU DO / BENEFICIAIRE 22")
    );
    assert_eq!(
        tx.counterparty_account.as_deref(),
        Some("NUMERO DE COMPTE01234567")
    );
    assert_eq!(tx.original_amount, Some(dec("4.5")));
    assert_eq!(
        s.balances
            .iter()
            .map(|b| b.kind.as_str())
            .collect::<Vec<_>>(),
        ["60F", "62F", "64"]
    );
}

#[test]
fn bank_layouts_abn_rabobank_citibank_paribas_are_read() {
    // ABN AMRO: a preamble before each message, :28:, amounts without decimals.
    let file = statements::parse(&mt940("php-mt940_Abn_sample")).unwrap();
    assert_eq!(file.statements[0].account, "500950253");
    assert_eq!(file.statements[0].entries[1].amount.to_string(), "203");
    assert_eq!(
        file.statements[0].entries[1].transaction_code.as_deref(),
        Some("N369")
    );

    // Rabobank's old layout: `:940:`, `.` decimals with leading zeros, several :86: per
    // entry, accounts with a currency suffix in three currencies.
    let file = statements::parse(&mt940("php-mt940_Rabo_sample")).unwrap();
    let mut currencies: Vec<String> = file
        .statements
        .iter()
        .filter_map(|s| s.currency.map(|c| c.to_string()))
        .collect();
    currencies.sort();
    currencies.dedup();
    assert_eq!(currencies, ["EUR", "JPY", "USD"]);
    let s = &file.statements[4];
    assert_eq!(
        (s.account.as_str(), s.id.as_str()),
        ("1017.490.554", "00000/00/2003-01-07/EUR")
    );
    assert_eq!(s.entries[0].amount.to_string(), "300.00");
    assert_eq!(
        s.entries[0].transactions[0].remittance_text.as_deref(),
        Some("Demo gebruiker Spaarpot kantine")
    );

    // Citibank: the entry date as four spaces, zero-amount informational lines.
    let (file, plan) = import(&mt940("wolph-mt940_citi_mt940.txt"));
    let entries = &file.statements[0].entries;
    assert!(entries.iter().all(|e| e.booking_date.is_none()));
    assert_eq!(entries[2].amount, Decimal::ZERO);
    assert!(plan.events.is_empty());
    let zero = plan
        .skipped
        .iter()
        .filter(|s| s.reason == SkipReason::ZeroAmount)
        .count();
    assert_eq!(zero, 2);
    assert_eq!(file.statements[0].balances.last().unwrap().kind, "64");

    // BNP Paribas: a debit closing balance is negative; fees are skipped.
    let (file, plan) = import(&mt940("jejik-mt940_paribas.txt"));
    assert_eq!(
        file.statements[1].closing_balance.unwrap().amount,
        dec("-10.00")
    );
    assert_eq!(file.statements[0].account, "12345678/0123456789");
    assert_eq!(file.statements[0].id, "00001/00001/2024-07-31/EUR");
    assert!(plan.events.is_empty());
    assert!(plan.skipped.iter().all(|s| s.reason == SkipReason::Debit));
}
