//! ISO 20022 camt.053 (`BkToCstmrStmt/Stmt`) and camt.054 (`BkToCstmrDbtCdtNtfctn/Ntfctn`)
//! into [`Statement`]s, versions .001.02 to .001.08 alike: elements are found by local
//! name, whatever the namespace, and the few places where later versions nest differently
//! (`Sts/Cd`, `Dbtr/Pty/Nm`, `BICFI`) are read both ways.
//!
//! Per record: `Id`, `Acct/Id/IBAN` (or `Othr/Id`), `Acct/Ccy`, `Bal` (type, `Amt/@Ccy`,
//! `CdtDbtInd`, `Dt`), `Ntry`. Per entry: `Amt/@Ccy`, `CdtDbtInd`, `RvslInd`, `Sts`,
//! `BookgDt`/`ValDt` (`Dt` or `DtTm`), `NtryRef`, `AcctSvcrRef`, `BkTxCd`, `AddtlNtryInf`
//! and `NtryDtls` (`Btch/NbOfTxs`, one transaction per `TxDtls`). A return is recognised
//! by `RvslInd`, by `RtrInf` on a transaction, or by a return sub-family code.

use chrono::NaiveDate;
use events::Currency;
use rust_decimal::Decimal;

use crate::amount;
use crate::detect::{self, Format};
use crate::error::StatementError;
use crate::identifiers::{self, provided};
use crate::model::{Balance, Direction, Entry, SignedAmount, Statement, Transaction};
use crate::xml::Element;

/// ISO bank transaction sub-families of returns and reversals: reversal due to a payment
/// return (`RRTN`), to a payment reversal (`PRDD`), to a return or unpaid direct debit
/// (`UPDD`), ACH return (`ARET`). An entry or transaction with one of them is a return even
/// without `<RvslInd>` or `<RtrInf>`.
const RETURN_SUB_FAMILIES: &[&str] = &["RRTN", "PRDD", "UPDD", "ARET"];

/// Whether an element's `<BkTxCd>` names a return sub-family.
fn return_code(el: &Element) -> bool {
    el.text_at(&["BkTxCd", "Domn", "Fmly", "SubFmlyCd"])
        .is_some_and(|c| RETURN_SUB_FAMILIES.contains(&c))
}

/// Reads the statements (or notifications) of a camt document.
pub(crate) fn statements(root: &Element, format: Format) -> Result<Vec<Statement>, StatementError> {
    let wanted = detect::message_element(format).unwrap_or_default();
    let message = if root.name == wanted {
        root
    } else {
        root.child(wanted)
            .ok_or_else(|| StatementError::NotAStatement {
                detail: format!("<{}> has no <{wanted}>", root.name),
            })?
    };
    let record_name = match format {
        Format::Camt054 => "Ntfctn",
        _ => "Stmt",
    };
    let message_reference = message.text_at(&["GrpHdr", "MsgId"]);
    message
        .all(record_name)
        .map(|record| statement(record, message_reference))
        .collect()
}

fn statement(
    record: &Element,
    message_reference: Option<&str>,
) -> Result<Statement, StatementError> {
    let structure = |detail: &str| StatementError::Structure {
        line: record.line,
        detail: format!("<{}>: {detail}", record.name),
    };
    let id = record
        .text_at(&["Id"])
        .ok_or_else(|| structure("no <Id>"))?;
    let account = record
        .text_at(&["Acct", "Id", "IBAN"])
        .or_else(|| record.text_at(&["Acct", "Id", "Othr", "Id"]))
        .ok_or_else(|| structure("no account (<Acct><Id><IBAN> or <Othr><Id>)"))?;
    let currency = match record.at(&["Acct", "Ccy"]) {
        Some(ccy) => Some(currency(
            ccy.text().unwrap_or_default(),
            ccy.line,
            &format!("account of {} {id}", record.name),
        )?),
        None => None,
    };
    let balances = record
        .all("Bal")
        .map(balance)
        .collect::<Result<Vec<_>, _>>()?;
    let find = |kinds: &[&str]| {
        kinds
            .iter()
            .find_map(|k| balances.iter().find(|b| b.kind == *k).map(|b| b.balance))
    };
    let opening_balance = find(&["OPBD", "PRCD"]);
    let closing_balance = find(&["CLBD"]);
    let entries = record
        .all("Ntry")
        .enumerate()
        .map(|(i, ntry)| entry(ntry, &format!("Ntry {} of {} {id}", i + 1, record.name)))
        .collect::<Result<Vec<_>, _>>()?;
    let information = record
        .text_at(&["AddtlStmtInf"])
        .or_else(|| record.text_at(&["AddtlNtfctnInf"]));
    Ok(Statement {
        id: id.to_owned(),
        line: record.line,
        account: account.to_owned(),
        currency: currency.or(opening_balance.map(|b| b.currency)),
        message_reference: message_reference.map(str::to_owned),
        opening_balance,
        closing_balance,
        balances,
        information: information.map(str::to_owned),
        entries,
    })
}

fn balance(bal: &Element) -> Result<Balance, StatementError> {
    let kind = bal
        .text_at(&["Tp", "CdOrPrtry", "Cd"])
        .or_else(|| bal.text_at(&["Tp", "CdOrPrtry", "Prtry"]))
        .unwrap_or("?")
        .to_owned();
    let structure = |detail: String| StatementError::Structure {
        line: bal.line,
        detail: format!("balance {kind}: {detail}"),
    };
    let amt = bal
        .child("Amt")
        .ok_or_else(|| structure("no <Amt>".to_owned()))?;
    let mut amount = amount::parse_xml(amt.text().unwrap_or_default())
        .map_err(|d| structure(format!("<Amt> on line {}: {d}", amt.line)))?;
    let ccy = amt
        .attribute("Ccy")
        .ok_or_else(|| structure("<Amt> without Ccy".to_owned()))?;
    let currency = currency(ccy, bal.line, &format!("balance {kind}"))?;
    match direction(bal) {
        Ok(Direction::Credit) => {}
        Ok(Direction::Debit) => amount = -amount,
        Err(d) => return Err(structure(d)),
    }
    let date = bal
        .child("Dt")
        .map(date_of)
        .transpose()
        .map_err(structure)?
        .flatten()
        .ok_or_else(|| structure("no <Dt>".to_owned()))?;
    Ok(Balance {
        kind,
        balance: SignedAmount {
            amount,
            currency,
            date,
        },
    })
}

fn entry(ntry: &Element, label: &str) -> Result<Entry, StatementError> {
    let bad = |detail: String| StatementError::Entry {
        line: ntry.line,
        entry: label.to_owned(),
        detail,
    };
    let amt = ntry
        .child("Amt")
        .ok_or_else(|| bad("no <Amt>".to_owned()))?;
    let amount = amount::parse_xml(amt.text().unwrap_or_default())
        .map_err(|d| bad(format!("<Amt> on line {}: {d}", amt.line)))?;
    let ccy = amt
        .attribute("Ccy")
        .ok_or_else(|| bad(format!("<Amt> on line {} has no Ccy", amt.line)))?;
    let currency = currency(ccy, ntry.line, label)?;
    let direction = direction(ntry).map_err(bad)?;
    let reversal = match ntry.text_at(&["RvslInd"]) {
        None | Some("false" | "0") => return_code(ntry),
        Some("true" | "1") => true,
        Some(other) => return Err(bad(format!("<RvslInd> `{other}` is not true or false"))),
    };
    let booking_date = ntry
        .child("BookgDt")
        .map(date_of)
        .transpose()
        .map_err(|d| bad(format!("<BookgDt>: {d}")))?
        .flatten();
    let value_date = ntry
        .child("ValDt")
        .map(date_of)
        .transpose()
        .map_err(|d| bad(format!("<ValDt>: {d}")))?
        .flatten();
    let details: Vec<&Element> = ntry.all("NtryDtls").collect();
    let batch_size = details
        .iter()
        .find_map(|d| d.at(&["Btch", "NbOfTxs"]))
        .map(|n| {
            n.text()
                .unwrap_or_default()
                .parse::<u32>()
                .map_err(|_| bad(format!("<NbOfTxs> on line {} is not a count", n.line)))
        })
        .transpose()?;
    let tx_elements: Vec<&Element> = details.iter().flat_map(|d| d.all("TxDtls")).collect();
    let lone = tx_elements.len() == 1;
    let transactions = if tx_elements.is_empty() {
        vec![Transaction {
            amount: Some(amount),
            ..Transaction::default()
        }]
    } else {
        tx_elements
            .iter()
            .map(|tx| {
                transaction(
                    tx,
                    TxContext {
                        entry_amount: amount,
                        entry_currency: currency,
                        lone,
                        original_credit: (direction == Direction::Credit)
                            != (reversal || is_returned(tx)),
                        label,
                        entry_line: ntry.line,
                    },
                )
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    let status = ntry
        .text_at(&["Sts"])
        .or_else(|| ntry.text_at(&["Sts", "Cd"]))
        .map(str::to_owned);
    Ok(Entry {
        line: ntry.line,
        reference: provided(ntry.text_at(&["NtryRef"])),
        bank_reference: provided(ntry.text_at(&["AcctSvcrRef"])),
        booking_date,
        value_date,
        amount,
        currency,
        direction,
        reversal,
        status,
        transaction_code: domain_code(ntry),
        proprietary_code: ntry.text_at(&["BkTxCd", "Prtry", "Cd"]).map(str::to_owned),
        batch_size,
        additional_info: ntry.text_at(&["AddtlNtryInf"]).map(str::to_owned),
        transactions,
    })
}

/// What a transaction needs to know about its entry.
struct TxContext<'a> {
    entry_amount: Decimal,
    entry_currency: Currency,
    /// The entry has this one transaction.
    lone: bool,
    /// The payment the transaction is about (for a return: the returned payment) was a
    /// credit, so the other party is the debtor.
    original_credit: bool,
    label: &'a str,
    entry_line: usize,
}

fn transaction(tx: &Element, cx: TxContext<'_>) -> Result<Transaction, StatementError> {
    let bad = |detail: String| StatementError::Entry {
        line: cx.entry_line,
        entry: cx.label.to_owned(),
        detail,
    };
    let amt = tx
        .child("Amt")
        .or_else(|| tx.at(&["AmtDtls", "TxAmt", "Amt"]));
    let own = match amt {
        Some(amt) => {
            let value = amount::parse_xml(amt.text().unwrap_or_default())
                .map_err(|d| bad(format!("<TxDtls> <Amt> on line {}: {d}", amt.line)))?;
            let same_currency = match amt.attribute("Ccy") {
                Some(code) => currency(code, cx.entry_line, cx.label)? == cx.entry_currency,
                None => true,
            };
            same_currency.then_some(value)
        }
        None => None,
    };
    let amount = match own {
        Some(value) => Some(value),
        // The lone transaction of an entry is the entry; a detail amount in another
        // currency is the instructed amount, not what was booked.
        None if cx.lone => Some(cx.entry_amount),
        None => None,
    };
    let (party, account, agent) = if cx.original_credit {
        ("Dbtr", "DbtrAcct", "DbtrAgt")
    } else {
        ("Cdtr", "CdtrAcct", "CdtrAgt")
    };
    let parties = tx.child("RltdPties");
    let name = parties.and_then(|p| {
        p.text_at(&[party, "Nm"])
            .or_else(|| p.text_at(&[party, "Pty", "Nm"]))
    });
    let iban_text = parties.and_then(|p| p.text_at(&[account, "Id", "IBAN"]));
    let account_id =
        iban_text.or_else(|| parties.and_then(|p| p.text_at(&[account, "Id", "Othr", "Id"])));
    let bic = tx.child("RltdAgts").and_then(|a| {
        a.text_at(&[agent, "FinInstnId", "BIC"])
            .or_else(|| a.text_at(&[agent, "FinInstnId", "BICFI"]))
    });
    let remittance = tx.child("RmtInf");
    let unstructured: Vec<&str> = remittance
        .map(|r| r.all("Ustrd").filter_map(Element::text).collect())
        .unwrap_or_default();
    let structured_reference = remittance.and_then(|r| {
        r.all("Strd")
            .find_map(|s| s.text_at(&["CdtrRefInf", "Ref"]))
            .map(str::to_owned)
    });
    let return_info = tx.child("RtrInf");
    let returned = is_returned(tx);
    let return_reason = return_info.and_then(|r| {
        r.text_at(&["Rsn", "Cd"])
            .or_else(|| r.text_at(&["Rsn", "Prtry"]))
            .map(str::to_owned)
    });
    let return_text = return_info.and_then(|r| {
        let parts: Vec<&str> = r.all("AddtlInf").filter_map(Element::text).collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    Ok(Transaction {
        amount,
        end_to_end_id: provided(tx.text_at(&["Refs", "EndToEndId"])),
        mandate_id: provided(tx.text_at(&["Refs", "MndtId"])),
        counterparty_name: name.map(str::to_owned),
        counterparty_iban: iban_text.and_then(identifiers::iban),
        counterparty_account: account_id.map(str::to_owned),
        counterparty_bic: bic.map(str::to_owned),
        remittance_text: (!unstructured.is_empty()).then(|| unstructured.join(" ")),
        structured_reference,
        returned,
        return_reason,
        return_text,
        original_amount: None,
        charges: None,
    })
}

/// A transaction with return information or a return bank transaction code.
fn is_returned(tx: &Element) -> bool {
    tx.child("RtrInf").is_some() || return_code(tx)
}

/// `CRDT`/`DBIT` of an element's `CdtDbtInd`.
fn direction(el: &Element) -> Result<Direction, String> {
    match el.text_at(&["CdtDbtInd"]) {
        Some("CRDT") => Ok(Direction::Credit),
        Some("DBIT") => Ok(Direction::Debit),
        Some(other) => Err(format!("<CdtDbtInd> `{other}` is not CRDT or DBIT")),
        None => Err("no <CdtDbtInd>".to_owned()),
    }
}

/// The date of a `<Dt>`/`<DtTm>` choice (a date-time gives its date as written).
fn date_of(choice: &Element) -> Result<Option<NaiveDate>, String> {
    let Some((text, line)) = choice
        .child("Dt")
        .or_else(|| choice.child("DtTm"))
        .and_then(|e| e.text().map(|t| (t, e.line)))
    else {
        return Ok(None);
    };
    iso_date(text)
        .map(Some)
        .ok_or_else(|| format!("`{text}` on line {line} is not a date (YYYY-MM-DD)"))
}

/// `YYYY-MM-DD` at the start of `text`.
fn iso_date(text: &str) -> Option<NaiveDate> {
    let date = text.get(..10)?;
    let rest = &text[10..];
    if !(rest.is_empty() || rest.starts_with('T') || rest.starts_with('+') || rest.starts_with('Z'))
    {
        return None;
    }
    let b = date.as_bytes();
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |s: &str| {
        s.parse::<u32>()
            .ok()
            .filter(|_| s.bytes().all(|b| b.is_ascii_digit()))
    };
    let year = i32::try_from(number(&date[..4])?).ok()?;
    NaiveDate::from_ymd_opt(year, number(&date[5..7])?, number(&date[8..])?)
}

/// `PMNT/RCDT/ESCT` from `<BkTxCd><Domn>`.
fn domain_code(ntry: &Element) -> Option<String> {
    let domain = ntry.at(&["BkTxCd", "Domn"])?;
    let parts: Vec<&str> = [
        domain.text_at(&["Cd"]),
        domain.text_at(&["Fmly", "Cd"]),
        domain.text_at(&["Fmly", "SubFmlyCd"]),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn currency(code: &str, line: usize, context: &str) -> Result<Currency, StatementError> {
    Currency::parse(code).map_err(|_| StatementError::UnsupportedCurrency {
        line,
        context: context.to_owned(),
        code: code.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_date_times_give_the_date_as_written() {
        assert_eq!(
            iso_date("2013-12-27"),
            NaiveDate::from_ymd_opt(2013, 12, 27)
        );
        assert_eq!(
            iso_date("2007-10-18T13:15:00+01:00"),
            NaiveDate::from_ymd_opt(2007, 10, 18)
        );
        assert_eq!(iso_date("2013-13-27"), None);
        assert_eq!(iso_date("27.12.2013"), None);
        assert_eq!(iso_date("2013-12-2"), None);
        assert_eq!(iso_date("2013-12-27x"), None);
    }
}
