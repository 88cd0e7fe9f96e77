//! Files that cannot be read are refused whole, naming the line (and the entry): nothing
//! of them can be published.

use statements::{Format, StatementError};

use crate::support::*;

#[test]
fn a_truncated_xml_file_is_refused_naming_its_last_line() {
    let bytes = fixture("camt053_truncated.xml");
    assert_eq!(statements::detect(&bytes), Some(Format::Camt053));
    match statements::parse(&bytes).unwrap_err() {
        StatementError::Xml { line, detail, .. } => {
            assert_eq!(line, 39, "{detail}");
        }
        other => panic!("{other:?}"),
    }
    // Cut at a tag boundary, the open elements are named.
    let text = String::from_utf8(fixture("camt053_v08_batch_of_three.xml")).unwrap();
    let cut: String = text.lines().take(40).collect::<Vec<_>>().join("\n");
    let err = statements::parse(cut.as_bytes()).unwrap_err();
    let message = err.to_string();
    assert_eq!(err.line(), Some(40), "{message}");
    assert!(
        message.contains("inside <TxDtls> opened on line 39"),
        "{message}"
    );
}

#[test]
fn an_entry_with_a_bad_amount_is_refused_naming_the_entry_and_its_line() {
    match statements::parse(&fixture("camt053_bad_amount.xml")).unwrap_err() {
        StatementError::Entry {
            line,
            entry,
            detail,
        } => {
            assert_eq!(line, 23, "the line of the <Ntry>");
            assert_eq!(entry, "Ntry 2 of Stmt STMT-BAD-AMOUNT");
            assert!(
                detail.contains("`12,50`") && detail.contains("line 25"),
                "{detail}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unknown_currency_is_refused_naming_the_entry() {
    let err = statements::parse(&fixture("camt053_unknown_currency.xml")).unwrap_err();
    assert_eq!(
        err,
        StatementError::UnsupportedCurrency {
            line: 9,
            context: "Ntry 1 of Ntfctn NTFCTN-CURRENCY".into(),
            code: "EURO".into(),
        }
    );
    assert!(
        err.to_string()
            .starts_with("line 9: Ntry 1 of Ntfctn NTFCTN-CURRENCY")
    );

    let mt940 = b":20:X\n:25:NL81ASNB9999999999\n:28C:1\n:60F:C250101XYZ1,00\n-\n";
    match statements::parse(mt940).unwrap_err() {
        StatementError::UnsupportedCurrency { line, code, .. } => {
            assert_eq!((line, code.as_str()), (4, "XYZ"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_broken_61_line_is_refused_naming_the_entry_and_its_line() {
    match statements::parse(&fixture("mt940_broken_61.sta")).unwrap_err() {
        StatementError::Entry {
            line,
            entry,
            detail,
        } => {
            assert_eq!(line, 7);
            assert_eq!(entry, ":61: entry 2 of statement 00001/001/2025-03-27");
            assert!(detail.contains("1O,00"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn files_that_are_not_statements_are_refused() {
    for (bytes, says) in [
        (&b""[..], "empty"),
        (b"Datum;Betrag\n2025-03-28;10,00\n", "neither XML nor MT940"),
        (b"<html><body/></html>", "root is <html>"),
        (
            br#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><CstmrCdtTrfInitn/></Document>"#,
            "<CstmrCdtTrfInitn>",
        ),
    ] {
        assert_eq!(statements::detect(bytes), None);
        match statements::parse(bytes).unwrap_err() {
            StatementError::NotAStatement { detail } => assert!(detail.contains(says), "{detail}"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn xml_that_is_not_utf8_is_refused_with_its_line() {
    let mut bytes = fixture("camt053_bad_amount.xml");
    let at = bytes.windows(5).position(|w| w == b"INV-1").unwrap();
    bytes[at] = 0xFC; // a Latin-1 ü
    match statements::parse(&bytes).unwrap_err() {
        StatementError::Encoding { line, .. } => assert_eq!(line, 19),
        other => panic!("{other:?}"),
    }
}

#[test]
fn mt940_structure_errors_name_their_line() {
    let before = b":25:NL81ASNB9999999999\n:20:X\n:60F:C250101EUR1,00\n:61:2501010101C1,00NTRFX\n";
    match statements::parse(before).unwrap_err() {
        StatementError::Structure { line, detail } => {
            assert_eq!(line, 1, "{detail}");
        }
        other => panic!("{other:?}"),
    }
    let no_account = b":20:X\n:28C:1\n:60F:C250101EUR1,00\n:61:2501010101C1,00NTRFX\n-\n";
    match statements::parse(no_account).unwrap_err() {
        StatementError::Structure { line, detail } => {
            assert_eq!(line, 1);
            assert!(detail.contains(":25:"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    let bad_balance = b":20:X\n:25:A\n:60F:C25010EUR1,00\n:61:2501010101C1,00NTRFX\n-\n";
    assert_eq!(statements::parse(bad_balance).unwrap_err().line(), Some(3));
}

#[test]
fn a_camt_statement_without_an_account_is_refused() {
    let xml =
        "<Document>\n<BkToCstmrStmt>\n<Stmt>\n<Id>S1</Id>\n</Stmt>\n</BkToCstmrStmt>\n</Document>";
    match statements::parse(xml.as_bytes()).unwrap_err() {
        StatementError::Structure { line, detail } => {
            assert_eq!(line, 3);
            assert!(detail.contains("no account"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_entry_without_any_date_refuses_the_whole_plan() {
    let text = String::from_utf8(fixture("camt053_v08_batch_of_three.xml")).unwrap();
    // The return (second entry) loses both its dates: the batch before it must not be
    // published either.
    let text = text
        .replace(
            "<BookgDt><DtTm>2025-03-28T09:30:00+01:00</DtTm></BookgDt>",
            "",
        )
        .replacen(
            "<ValDt><Dt>2025-03-28</Dt></ValDt>\n        <AcctSvcrRef>BANK-0002",
            "<AcctSvcrRef>BANK-0002",
            1,
        );
    let file = statements::parse(text.as_bytes()).unwrap();
    assert_eq!(file.statements[0].entries[1].value_date, None);
    match statements::to_events(&file).unwrap_err() {
        StatementError::Entry {
            line,
            entry,
            detail,
        } => {
            assert_eq!(line, 67);
            assert_eq!(entry, "entry 2 of statement STMT-2025-03-28");
            assert!(detail.contains("date"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_amount_beyond_the_event_contract_refuses_the_plan() {
    let text = String::from_utf8(fixture("camt053_v08_batch_of_three.xml")).unwrap();
    // Seven decimals: readable, but the contract allows six.
    let text = text.replace(
        r#"<Amt Ccy="EUR">75.00</Amt>"#,
        r#"<Amt Ccy="EUR">75.0000001</Amt>"#,
    );
    let text = text.replace("<Sts><Cd>PDNG</Cd></Sts>", "<Sts><Cd>BOOK</Cd></Sts>");
    let file = statements::parse(text.as_bytes()).unwrap();
    match statements::to_events(&file).unwrap_err() {
        StatementError::Entry { line, detail, .. } => {
            assert_eq!(line, 95);
            assert!(detail.contains("invalid_amount"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}
