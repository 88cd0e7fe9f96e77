//! SWIFT MT940 customer statements into [`Statement`]s.
//!
//! The text is first cut into fields: a line starting with `:TAG:` opens a field, the
//! lines after it continue it, a line `-` ends a message. SWIFT block headers
//! (`{1:...}{2:...}{4:` ... `-}{5:...}`) and bank preambles before the first field (ABN
//! AMRO's `ABNANL2A`/`940`, Rabobank's `:940:`) are skipped. CRLF and LF both work.
//!
//! Then per message: `:20:` starts a statement, `:25:` account (a trailing currency code
//! is dropped), `:28C:`/`:28:` statement number, `:60F:`/`:60M:` opening, `:61:` an entry,
//! `:86:` right after a `:61:` (or after another such `:86:`) details of that entry, any
//! other `:86:` statement information, `:62F:`/`:62M:` closing, `:64:`/`:65:` available
//! balances. Unknown fields are ignored. A field after the `-` that ended a statement and
//! before the next `:20:` is read as part of that statement, with a warning; so is a
//! statement without a closing balance (the file may be cut off).
//!
//! `:61:` is `YYMMDD[MMDD](C|D|RC|RD)[funds code]amount[ ]TTTT[reference][//bank
//! reference]`, its next lines supplementary details (`/OCMT/EUR11,85//CHGS/EUR0,50/`).

use chrono::{Datelike, NaiveDate};
use events::Currency;
use rust_decimal::Decimal;

use crate::amount;
use crate::error::StatementError;
use crate::field86;
use crate::identifiers::{self, provided};
use crate::model::{Balance, Direction, Entry, SignedAmount, Statement, Transaction};

/// German GVCs of returns and reversals: 108 and 109 returned SEPA direct debits (B2B,
/// core), 159 a returned SEPA credit transfer.
const RETURN_GVCS: &[&str] = &["108", "109", "159"];

/// The statements of an MT940 file, and what was tolerated.
pub(crate) fn statements(text: &str) -> Result<(Vec<Statement>, Vec<String>), StatementError> {
    let mut builder = Builder::default();
    for token in tokens(text) {
        match token {
            Token::Field(field) => builder.field(field)?,
            Token::End(line) => builder.end(line),
        }
    }
    let mut warnings = builder.warnings;
    let statements = builder
        .statements
        .into_iter()
        .map(Partial::finish)
        .collect::<Result<Vec<_>, _>>()?;
    // :62F:/:62M: is mandatory: without it the statement may be cut off, and its balance
    // cannot be checked.
    for s in statements.iter().filter(|s| s.closing_balance.is_none()) {
        warnings.push(format!(
            "line {}: statement {} of account {} has no closing balance (:62F:/:62M:); the file may be incomplete",
            s.line, s.id, s.account
        ));
    }
    Ok((statements, warnings))
}

/// A field: its tag, the line it starts on, its text lines (the first without the tag).
struct Field<'a> {
    tag: &'a str,
    line: usize,
    lines: Vec<&'a str>,
}

enum Token<'a> {
    Field(Field<'a>),
    /// A `-` line: the end of a message.
    End(usize),
}

fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut tokens: Vec<Token<'_>> = Vec::new();
    // Whether continuation lines go to the last field (not after a `-` or before any field).
    let mut open = false;
    for (i, raw) in text.split('\n').enumerate() {
        let number = i + 1;
        let mut line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some((_, rest)) = line.split_once("{4:") {
            // `{1:...}{2:...}{3:}{4:` then perhaps the first field on the same line.
            line = rest;
            open = false;
            if line.trim().is_empty() {
                continue;
            }
        } else if line.starts_with("-}") || line.trim_end() == "-" {
            tokens.push(Token::End(number));
            open = false;
            continue;
        } else if line.starts_with('{') {
            continue; // a trailer block such as {5:...}
        }
        if let Some((tag, rest)) = split_tag(line) {
            tokens.push(Token::Field(Field {
                tag,
                line: number,
                lines: vec![rest],
            }));
            open = true;
        } else if open && let Some(Token::Field(field)) = tokens.last_mut() {
            field.lines.push(line);
        }
    }
    tokens
}

/// `:TAG:rest` with a tag of two digits and an optional letter (`20`, `60F`), `NS`
/// (non-SWIFT), or Rabobank's `940`.
fn split_tag(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix(':')?;
    let end = rest.find(':')?;
    let tag = &rest[..end];
    let b = tag.as_bytes();
    let valid = match b.len() {
        2 => b.iter().all(u8::is_ascii_alphanumeric),
        3 => b[..2].iter().all(u8::is_ascii_digit) && b[2].is_ascii_alphanumeric(),
        _ => false,
    };
    valid.then(|| (tag, &rest[end + 1..]))
}

/// A statement being read.
#[derive(Default)]
struct Partial {
    line: usize,
    reference: Option<String>,
    account: Option<(String, Option<String>)>,
    number: Option<String>,
    opening: Option<SignedAmount>,
    closing: Option<SignedAmount>,
    balances: Vec<Balance>,
    entries: Vec<RawEntry>,
    information: Vec<String>,
    /// An `:86:` now belongs to the last entry.
    details_follow: bool,
    /// The `-` that ended it, if any.
    ended_on: Option<usize>,
}

/// A `:61:` with its `:86:` lines, read when the statement is complete (the currency comes
/// from the balances).
struct RawEntry {
    line: usize,
    text: String,
    supplementary: Vec<String>,
    details: Vec<String>,
}

#[derive(Default)]
struct Builder {
    statements: Vec<Partial>,
    warnings: Vec<String>,
}

impl Builder {
    fn field(&mut self, field: Field<'_>) -> Result<(), StatementError> {
        match field.tag {
            "940" | "NS" => return Ok(()),
            "20" => {
                self.statements.push(Partial {
                    line: field.line,
                    reference: provided(Some(field.lines[0])),
                    ..Partial::default()
                });
                return Ok(());
            }
            _ => {}
        }
        let Some(current) = self.statements.last_mut() else {
            return Err(StatementError::Structure {
                line: field.line,
                detail: format!(
                    ":{}: before the first :20: (no statement started)",
                    field.tag
                ),
            });
        };
        if let Some(end) = current.ended_on {
            self.warnings.push(format!(
                "line {}: :{}: after the `-` on line {end} that ended the statement starting on line {}; read as part of that statement",
                field.line, field.tag, current.line
            ));
            // One warning per stray group of fields: the next `-` ends the statement again.
            current.ended_on = None;
        }
        let text = field.lines[0].trim();
        match field.tag {
            "25" => current.account = Some(account(text)),
            "28C" | "28" => current.number = provided(Some(text)),
            "60F" | "60M" => {
                let b = balance(field.tag, text, field.line)?;
                current.opening = Some(b.balance);
                current.balances.push(b);
                current.details_follow = false;
            }
            "62F" | "62M" => {
                let b = balance(field.tag, text, field.line)?;
                current.closing = Some(b.balance);
                current.balances.push(b);
                current.details_follow = false;
            }
            "64" | "65" => {
                current.balances.push(balance(field.tag, text, field.line)?);
                current.details_follow = false;
            }
            "61" => {
                current.entries.push(RawEntry {
                    line: field.line,
                    text: field.lines[0].to_owned(),
                    supplementary: field.lines[1..]
                        .iter()
                        .map(|l| l.trim().to_owned())
                        .filter(|l| !l.is_empty())
                        .collect(),
                    details: Vec::new(),
                });
                current.details_follow = true;
            }
            "86" => match current.entries.last_mut() {
                Some(entry) if current.details_follow => {
                    entry
                        .details
                        .extend(field.lines.iter().map(|l| (*l).to_owned()));
                }
                _ => {
                    let info: Vec<&str> = field
                        .lines
                        .iter()
                        .map(|l| l.trim())
                        .filter(|l| !l.is_empty())
                        .collect();
                    current.information.push(info.join(" "));
                }
            },
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, line: usize) {
        if let Some(current) = self.statements.last_mut()
            && current.ended_on.is_none()
        {
            current.ended_on = Some(line);
        }
    }
}

/// `:25:` as account and, when it ends in one, its currency code (`1017.490.554EUR`,
/// `0800003200000001610722 EUR`, `12345678/0123456789EUR`).
fn account(text: &str) -> (String, Option<String>) {
    let n = text.len();
    if n > 3 && text.is_char_boundary(n - 3) {
        let (head, tail) = text.split_at(n - 3);
        let ends_in_code = tail.bytes().all(|b| b.is_ascii_uppercase())
            && head.ends_with(|c: char| c.is_ascii_digit() || c == ' ')
            && Currency::parse(tail).is_ok();
        if ends_in_code {
            return (head.trim().to_owned(), Some(tail.to_owned()));
        }
    }
    (text.to_owned(), None)
}

/// `C200605EUR0,00`: mark, date, currency, amount.
fn balance(tag: &str, text: &str, line: usize) -> Result<Balance, StatementError> {
    let bad = |detail: String| StatementError::Structure {
        line,
        detail: format!(":{tag}: `{text}`: {detail}"),
    };
    let sign = match text.get(..1) {
        Some("C") => Decimal::ONE,
        Some("D") => Decimal::NEGATIVE_ONE,
        _ => {
            return Err(bad(
                "expected C or D, then YYMMDD, currency and amount".to_owned()
            ));
        }
    };
    let date = text
        .get(1..7)
        .and_then(swift_date)
        .ok_or_else(|| bad("the date is not YYMMDD".to_owned()))?;
    let code = text
        .get(7..10)
        .ok_or_else(|| bad("no currency".to_owned()))?;
    let currency = Currency::parse(code).map_err(|_| StatementError::UnsupportedCurrency {
        line,
        context: format!(":{tag}: balance"),
        code: code.to_owned(),
    })?;
    let amount = amount::parse_swift(text[10..].trim()).map_err(bad)?;
    Ok(Balance {
        kind: tag.to_owned(),
        balance: SignedAmount {
            amount: sign * amount,
            currency,
            date,
        },
    })
}

/// `YYMMDD` (years 00–79 are 2000–2079, 80–99 are 1980–1999).
fn swift_date(text: &str) -> Option<NaiveDate> {
    if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let yy: i32 = text[..2].parse().ok()?;
    let year = if yy < 80 { 2000 + yy } else { 1900 + yy };
    NaiveDate::from_ymd_opt(year, text[2..4].parse().ok()?, text[4..].parse().ok()?)
}

/// The booking date `MMDD` nearest to the value date (a booking in early January may
/// belong to a value date in late December, and the other way round).
fn entry_date(mmdd: &str, value_date: NaiveDate) -> Option<NaiveDate> {
    let month: u32 = mmdd.get(..2)?.parse().ok()?;
    let day: u32 = mmdd.get(2..4)?.parse().ok()?;
    let year = value_date.year();
    [year - 1, year, year + 1]
        .into_iter()
        .filter_map(|y| NaiveDate::from_ymd_opt(y, month, day))
        .min_by_key(|d| (*d - value_date).num_days().abs())
}

/// The fields of a `:61:` line.
#[derive(Debug, PartialEq, Eq)]
struct Line61 {
    value_date: NaiveDate,
    booking_date: Option<NaiveDate>,
    direction: Direction,
    reversal: bool,
    amount: Decimal,
    type_code: String,
    reference: Option<String>,
    bank_reference: Option<String>,
}

fn parse_61(text: &str) -> Result<Line61, String> {
    let text = text.trim_end();
    let value_date = text
        .get(..6)
        .and_then(swift_date)
        .ok_or_else(|| format!("`{text}`: the value date is not YYMMDD"))?;
    let mut rest = &text[6..];
    let mut booking_date = None;
    if let Some(mmdd) = rest.get(..4) {
        if mmdd.bytes().all(|b| b.is_ascii_digit()) {
            booking_date = Some(
                entry_date(mmdd, value_date)
                    .ok_or_else(|| format!("`{text}`: the entry date `{mmdd}` is not MMDD"))?,
            );
            rest = &rest[4..];
        } else if mmdd == "    " {
            rest = &rest[4..]; // Citibank writes the absent entry date as spaces
        }
    }
    let (direction, reversal, mark_len) = if rest.starts_with("RC") {
        (Direction::Debit, true, 2)
    } else if rest.starts_with("RD") {
        (Direction::Credit, true, 2)
    } else if rest.starts_with('C') {
        (Direction::Credit, false, 1)
    } else if rest.starts_with('D') {
        (Direction::Debit, false, 1)
    } else {
        return Err(format!(
            "`{text}`: expected the mark C, D, RC or RD after the date(s)"
        ));
    };
    rest = &rest[mark_len..];
    // The funds code: the third letter of a currency code (`DR5,` is D, funds code R).
    if rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
        rest = &rest[1..];
    }
    let amount_len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.'))
        .unwrap_or(rest.len());
    let amount =
        amount::parse_swift(&rest[..amount_len]).map_err(|d| format!("`{text}`: amount {d}"))?;
    rest = rest[amount_len..].trim_start();
    let type_ok = rest.len() >= 4
        && rest.starts_with(['N', 'F', 'S'])
        && rest.as_bytes()[1..4].iter().all(u8::is_ascii_alphanumeric);
    if !type_ok {
        return Err(format!(
            "`{text}`: expected a transaction type such as NTRF or NMSC after the amount"
        ));
    }
    let type_code = rest[..4].to_owned();
    let (reference, bank_reference) = match rest[4..].split_once("//") {
        Some((r, b)) => (r, Some(b)),
        None => (&rest[4..], None),
    };
    Ok(Line61 {
        value_date,
        booking_date,
        direction,
        reversal,
        amount,
        type_code,
        reference: provided(Some(reference)),
        bank_reference: provided(bank_reference),
    })
}

/// `/OCMT/EUR11,85/` style amounts of the supplementary details.
fn supplementary_amount(text: &str, key: &str, currency: Currency) -> Option<Decimal> {
    let start = text.find(key)? + key.len();
    let rest = &text[start..];
    let value = rest.split('/').next()?;
    let (code, number) = (value.get(..3)?, value.get(3..)?);
    (code == currency.as_str())
        .then(|| amount::parse_swift(number).ok())
        .flatten()
}

impl Partial {
    fn finish(self) -> Result<Statement, StatementError> {
        let (account, account_currency) =
            self.account.ok_or_else(|| StatementError::Structure {
                line: self.line,
                detail: "statement without a :25: account".to_owned(),
            })?;
        let currency = self
            .opening
            .or(self.closing)
            .map(|b| b.currency)
            .or_else(|| {
                account_currency
                    .as_deref()
                    .and_then(|c| Currency::parse(c).ok())
            });
        let number = self.number.clone().or_else(|| self.reference.clone());
        let date = self.opening.or(self.closing).map(|b| b.date);
        let mut id = match (number, date) {
            (Some(n), Some(d)) => format!("{n}/{d}"),
            (Some(n), None) => n,
            (None, Some(d)) => d.to_string(),
            (None, None) => format!("line {}", self.line),
        };
        // One account number with several currency sub-accounts (`1700.59.308EUR`,
        // `1700.59.308JPY`): the currency tells their statements apart.
        if let Some(code) = &account_currency {
            id = format!("{id}/{code}");
        }
        let entries = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, raw)| {
                let label = format!(":61: entry {} of statement {id}", i + 1);
                raw_entry(raw, currency, &label)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let information = (!self.information.is_empty()).then(|| self.information.join(" "));
        Ok(Statement {
            id,
            line: self.line,
            account,
            currency,
            message_reference: self.reference,
            opening_balance: self.opening,
            closing_balance: self.closing,
            balances: self.balances,
            information,
            entries,
        })
    }
}

fn raw_entry(
    raw: &RawEntry,
    currency: Option<Currency>,
    label: &str,
) -> Result<Entry, StatementError> {
    let bad = |detail: String| StatementError::Entry {
        line: raw.line,
        entry: label.to_owned(),
        detail,
    };
    let line = parse_61(&raw.text).map_err(|d| bad(format!(":61: {d}")))?;
    let currency = currency.ok_or_else(|| {
        bad("no currency: the statement has no :60F:/:60M:/:62F: balance".to_owned())
    })?;
    let detail_lines: Vec<&str> = raw.details.iter().map(String::as_str).collect();
    let details = field86::parse(&detail_lines);
    let supplementary = raw.supplementary.join(" ");
    let reversal = line.reversal
        || line.type_code.ends_with("RTI")
        || details
            .gvc
            .as_deref()
            .is_some_and(|g| RETURN_GVCS.contains(&g));
    let searchable = format!("{} {}", details.full_text, supplementary);
    let original_amount =
        supplementary_amount(&supplementary, "/OCMT/", currency).or(details.original_amount);
    let additional: Vec<&str> = [
        details.booking_text.as_deref(),
        Some(supplementary.as_str()),
    ]
    .into_iter()
    .flatten()
    .filter(|s| !s.is_empty())
    .collect();
    let transaction = Transaction {
        amount: Some(line.amount),
        end_to_end_id: details.end_to_end_id.clone(),
        mandate_id: details.mandate_id.clone(),
        counterparty_name: details.name.clone(),
        counterparty_iban: details.account.as_deref().and_then(identifiers::iban),
        counterparty_account: details.account.clone(),
        counterparty_bic: details.bic.clone(),
        remittance_text: details.remittance_text.clone(),
        structured_reference: details
            .remittance_text
            .as_deref()
            .and_then(identifiers::find_rf_reference),
        returned: false,
        return_reason: reversal
            .then(|| identifiers::find_return_reason(&searchable))
            .flatten(),
        return_text: None,
        original_amount,
        charges: supplementary_amount(&supplementary, "/CHGS/", currency),
    };
    Ok(Entry {
        line: raw.line,
        reference: line.reference,
        bank_reference: line.bank_reference,
        booking_date: line.booking_date,
        value_date: Some(line.value_date),
        amount: line.amount,
        currency,
        direction: line.direction,
        reversal,
        status: None,
        transaction_code: Some(line.type_code),
        proprietary_code: details.gvc,
        batch_size: None,
        additional_info: (!additional.is_empty()).then(|| additional.join(" ")),
        transactions: vec![transaction],
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_61_line_gives_dates_mark_amount_type_and_references() {
        let l = parse_61("2006080608D12,35 NRTIKREF+//2016021783252833").unwrap();
        assert_eq!(l.value_date, date(2020, 6, 8));
        assert_eq!(l.booking_date, Some(date(2020, 6, 8)));
        assert_eq!((l.direction, l.reversal), (Direction::Debit, false));
        assert_eq!(l.amount, Decimal::new(1235, 2));
        assert_eq!(l.type_code, "NRTI");
        assert_eq!(l.reference.as_deref(), Some("KREF+"));
        assert_eq!(l.bank_reference.as_deref(), Some("2016021783252833"));

        let l = parse_61("240312    DD212,39NMSCNONREF//").unwrap();
        assert_eq!((l.booking_date, l.direction), (None, Direction::Debit));
        assert_eq!((l.reference, l.bank_reference), (None, None));

        let l = parse_61("0408040804DR5,NTRFREFERENCE DO 111//MUL0408041114005").unwrap();
        assert_eq!(
            (l.direction, l.reversal),
            (Direction::Debit, false),
            "R is a funds code"
        );
        assert_eq!(l.amount, Decimal::from(5));

        let l = parse_61("0408040804RD5,NTRFX").unwrap();
        assert_eq!((l.direction, l.reversal), (Direction::Credit, true));
        let l = parse_61("030109C000000000300.00NMSC170059286").unwrap();
        assert_eq!(l.amount.to_string(), "300.00");
    }

    #[test]
    fn the_entry_date_takes_the_year_nearest_to_the_value_date() {
        let l = parse_61("0912310102C1,NMSCX").unwrap();
        assert_eq!(l.booking_date, Some(date(2010, 1, 2)));
        let l = parse_61("1001021231C1,NMSCX").unwrap();
        assert_eq!(l.booking_date, Some(date(2009, 12, 31)));
    }

    #[test]
    fn broken_61_lines_say_what_is_wrong() {
        for (line, says) in [
            ("20060X0608D12,35NMSC", "value date"),
            ("2006080608X12,35NMSC", "mark"),
            ("2006080608D12;35NMSC", "transaction type"),
            ("2006080608D,35NMSC", "amount"),
            ("2006081399D1,NMSC", "entry date"),
        ] {
            let err = parse_61(line).unwrap_err();
            assert!(err.contains(says), "{line}: {err}");
        }
    }

    #[test]
    fn accounts_lose_a_trailing_currency_code() {
        assert_eq!(
            account("1017.490.554EUR"),
            ("1017.490.554".into(), Some("EUR".into()))
        );
        assert_eq!(
            account("0800003200000001610722 EUR"),
            ("0800003200000001610722".into(), Some("EUR".into()))
        );
        assert_eq!(
            account("NL81ASNB9999999999"),
            ("NL81ASNB9999999999".into(), None)
        );
        assert_eq!(account("DE12ABC"), ("DE12ABC".into(), None));
    }
}
