//! Property tests against naive references: random MT940 statements against sums and
//! balances computed directly from the generated bookings, random camt batches against
//! their transactions.

use proptest::prelude::*;
use rust_decimal::Decimal;
use statements::BalanceCheck;

use crate::support::*;

#[derive(Debug, Clone)]
struct Booking {
    /// `C`, `D`, `RC` or `RD`.
    mark: &'static str,
    cents: i64,
    entry_date: bool,
    reference: Option<String>,
    whole_units_without_decimals: bool,
}

fn booking() -> impl Strategy<Value = Booking> {
    (
        prop::sample::select(vec!["C", "D", "RC", "RD"]),
        0_i64..1_000_000_000,
        any::<bool>(),
        prop::option::of("[A-Z0-9]{1,16}"),
        any::<bool>(),
    )
        .prop_map(|(mark, cents, entry_date, reference, whole)| Booking {
            mark,
            cents,
            entry_date,
            reference,
            whole_units_without_decimals: whole,
        })
}

fn swift_amount(cents: i64, without_decimals: bool) -> String {
    if without_decimals && cents % 100 == 0 {
        format!("{},", cents / 100)
    } else {
        format!("{},{:02}", cents / 100, cents % 100)
    }
}

fn balance(tag: &str, date: &str, cents: i64) -> String {
    let mark = if cents < 0 { 'D' } else { 'C' };
    format!(":{tag}:{mark}{date}EUR{}", swift_amount(cents.abs(), false))
}

fn render_mt940(opening: i64, bookings: &[Booking], crlf: bool) -> (String, i64) {
    let mut lines = vec![
        ":20:PROPTEST".to_owned(),
        ":25:NL91ABNA0417164300".to_owned(),
        ":28C:00042/001".to_owned(),
        balance("60F", "250327", opening),
    ];
    let mut closing = opening;
    for (i, b) in bookings.iter().enumerate() {
        let entry_date = if b.entry_date { "0328" } else { "" };
        let reference = b.reference.as_deref().unwrap_or("NONREF");
        lines.push(format!(
            ":61:250328{entry_date}{}{}NTRF{reference}//B{i}",
            b.mark,
            swift_amount(b.cents, b.whole_units_without_decimals)
        ));
        lines.push(format!(":86:Payment {i}"));
        closing += match b.mark {
            "C" | "RD" => b.cents,
            _ => -b.cents,
        };
    }
    lines.push(balance("62F", "250328", closing));
    lines.push("-".to_owned());
    let end = if crlf { "\r\n" } else { "\n" };
    (lines.join(end) + end, closing)
}

fn cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

proptest! {
    #[test]
    fn mt940_sums_balances_and_events_match_a_naive_reader(
        opening in -1_000_000_000_i64..1_000_000_000,
        bookings in prop::collection::vec(booking(), 0..12),
        crlf in any::<bool>(),
    ) {
        let (text, _) = render_mt940(opening, &bookings, crlf);
        let (file, plan) = import(text.as_bytes());
        prop_assert_eq!(file.statements.len(), 1);
        let s = &file.statements[0];
        prop_assert_eq!(s.entries.len(), bookings.len());
        let sum = |marks: &[&str]| -> Decimal {
            bookings.iter().filter(|b| marks.contains(&b.mark)).map(|b| cents(b.cents)).sum()
        };
        prop_assert_eq!(s.credit_sum(), sum(&["C", "RD"]));
        prop_assert_eq!(s.debit_sum(), sum(&["D", "RC"]));
        prop_assert_eq!(s.balance_check(), BalanceCheck::Consistent);
        prop_assert!(plan.balance_warnings.is_empty());

        let paid: Vec<Decimal> = bookings
            .iter()
            .filter(|b| b.mark == "C" && b.cents > 0)
            .map(|b| cents(b.cents))
            .collect();
        let received: Vec<Decimal> = received(&plan).iter().map(|p| p.amount).collect();
        prop_assert_eq!(received, paid);
        let returned: Vec<Decimal> = bookings
            .iter()
            .filter(|b| b.mark.starts_with('R') && b.cents > 0)
            .map(|b| cents(b.cents))
            .collect();
        let reversals: Vec<Decimal> = reversed(&plan).iter().map(|r| r.amount).collect();
        prop_assert_eq!(reversals, returned);
        prop_assert!(reversed(&plan).iter().all(|r| r.reason_code == "NARR"));
    }

    #[test]
    fn camt_batches_split_into_exactly_their_transactions(
        parts in prop::collection::vec(1_i64..10_000_000, 1..8),
    ) {
        let total: i64 = parts.iter().sum();
        let details: String = parts
            .iter()
            .enumerate()
            .map(|(i, c)| format!(
                "<TxDtls><Refs><EndToEndId>E2E-{i}</EndToEndId></Refs><Amt Ccy=\"EUR\">{}</Amt></TxDtls>",
                cents(*c)
            ))
            .collect();
        let xml = format!(
            "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.04\"><BkToCstmrStmt><Stmt>\
             <Id>S1</Id><Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></Acct>\
             <Ntry><Amt Ccy=\"EUR\">{}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>\
             <BookgDt><Dt>2025-03-28</Dt></BookgDt><NtryDtls><Btch><NbOfTxs>{}</NbOfTxs></Btch>\
             {details}</NtryDtls></Ntry></Stmt></BkToCstmrStmt></Document>",
            cents(total),
            parts.len()
        );
        let (_, plan) = import(xml.as_bytes());
        let amounts: Vec<Decimal> = received(&plan).iter().map(|p| p.amount).collect();
        let expected: Vec<Decimal> = parts.iter().map(|c| cents(*c)).collect();
        prop_assert_eq!(amounts.iter().sum::<Decimal>(), cents(total));
        prop_assert_eq!(amounts, expected);
        let e2e: Vec<String> = received(&plan).iter().map(|p| p.end_to_end_id.clone().unwrap()).collect();
        prop_assert_eq!(e2e, (0..parts.len()).map(|i| format!("E2E-{i}")).collect::<Vec<_>>());
    }
}

/// Every sample and fixture, read once.
fn corpus() -> &'static [(String, Vec<u8>)] {
    static CORPUS: std::sync::OnceLock<Vec<(String, Vec<u8>)>> = std::sync::OnceLock::new();
    CORPUS.get_or_init(all_good_files)
}

/// Reads and plans damaged input: it may be refused, but never panics, and what it
/// publishes passes the event contract.
fn read_or_refuse(bytes: &[u8]) {
    if let Ok(file) = statements::parse(bytes)
        && let Ok(plan) = statements::to_events(&file)
    {
        for e in &plan.events {
            events::Envelope::decode(&e.to_json(), events::DEFAULT_MAX_EVENT_BYTES).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_cut_or_changed_byte_of_a_sample_is_read_or_refused_never_a_panic(
        file in any::<prop::sample::Index>(),
        cut in any::<prop::sample::Index>(),
        change in prop::option::of((any::<prop::sample::Index>(), any::<u8>())),
    ) {
        let (_, bytes) = file.get(corpus());
        let mut bytes = bytes[..cut.index(bytes.len() + 1)].to_vec();
        if let Some((at, byte)) = change
            && !bytes.is_empty()
        {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        read_or_refuse(&bytes);
    }

    #[test]
    fn mt940_shaped_noise_is_read_or_refused_never_a_panic(
        text in "(:(20|25|28C|60F|60M|61|86|62F|62M|64):[ -~]{0,40}\r?\n|-\r?\n|\\?[0-9]{2}[ -~]{0,30}\n|[ -~]{0,40}\n){0,24}",
    ) {
        read_or_refuse(text.as_bytes());
    }
}
