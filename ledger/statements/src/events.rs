//! From a read [`StatementFile`] to the events an importer publishes: [`to_events`].
//!
//! (The module shares its name with the `events` crate, the event contract; that crate is
//! written `::events` here.)
//!
//! Per entry, per transaction (a batch booking is split into its transactions when their
//! amounts add up to the entry; otherwise it stays one payment and a warning says why):
//! - a **return or reversal** (the entry is a reversal, or the transaction carries return
//!   information) becomes `payment_reversed`: `payment_id` is the end-to-end id the return
//!   quotes, which is the original payment's, else the entry's own id (below);
//!   `reason_code` the return reason, `NARR` (narrative) when the file gives none; the
//!   amount is the original amount when the bank booked charges on top of it (MT940
//!   `/OCMT/`, `OAMT+`), the charges then being skipped;
//! - any other **credit** becomes `payment_received` (method `bank_transfer`, no debtor:
//!   the routing step finds it);
//! - any other **debit** (outgoing payment, fee), a zero amount (informational lines) and
//!   an entry that is not booked (camt status `PDNG`, `INFO`) is [`Skipped`], with its line
//!   and the reason.
//!
//! Ids are deterministic, so importing the same statement again yields the same ids and
//! the broker and the ledger drop the repeats: a transaction's id is
//! `<account>/<statement id>/<entry key>/<transaction number>` (the entry key is the
//! bank's reference when it is unique in the statement, else the entry's own reference
//! when unique, else the entry's number; numbers start at 1), at most 123 bytes (longer
//! ones keep their start and end in a hash); the event id is `stmt-` followed by it. The
//! event time is the booking date (else the value date) at 00:00:00 UTC: the day the bank
//! booked the money, as the statement states it, and the same on every import.
//!
//! Every event is decoded again with [`::events::Envelope::decode`] before it is handed
//! out; one that would not pass refuses the file, like any other error.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use ::events::envelope::{MAX_ID_LEN, MAX_TEXT_LEN};
use ::events::{
    Currency, DEFAULT_MAX_EVENT_BYTES, Envelope, InputEvent, PaymentMethod, PaymentReceived,
    PaymentReversed,
};
use chrono::NaiveTime;
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::StatementError;
use crate::identifiers;
use crate::model::{
    BalanceCheck, Direction, Entry, SignedAmount, Statement, StatementFile, Transaction,
};

/// Prefix of every event id this crate makes.
pub const EVENT_ID_PREFIX: &str = "stmt-";

/// The reason code of a return that gives no code (ISO 20022 `NARR`: narrative).
pub const NARRATIVE_REASON: &str = "NARR";

/// Longest transaction id, so that the event id (with its prefix) fits the contract.
const MAX_TRANSACTION_ID: usize = MAX_ID_LEN - EVENT_ID_PREFIX.len();

/// What importing a file publishes, and what it leaves out.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportPlan {
    /// The events, in file order; each decodes under the event contract.
    pub events: Vec<Envelope>,
    /// Bookings that are not payments or reversals, each with its line and the reason.
    pub skipped: Vec<Skipped>,
    /// Balances that do not add up (within a statement, or from one statement of an
    /// account to the next), each naming the statement and its line.
    pub balance_warnings: Vec<String>,
    /// What the reader tolerated ([`StatementFile::warnings`]) and batch bookings that
    /// could not be split, each naming its line.
    pub warnings: Vec<String>,
}

/// A booking (or part of one) that becomes no event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Line on which the entry starts.
    pub line: usize,
    /// Which entry (`entry 3 of statement 0352C5320131227220503`).
    pub entry: String,
    /// The transaction within the entry (from 1), when only part of the entry is skipped.
    pub transaction: Option<usize>,
    /// The amount skipped.
    pub amount: Decimal,
    /// Its currency.
    pub currency: Currency,
    /// Which way it moved.
    pub direction: Direction,
    /// Why it is not an event.
    pub reason: SkipReason,
}

/// Why a booking is not an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum SkipReason {
    /// A debit that is not a return: an outgoing payment, a fee, a direct debit of ours.
    Debit,
    /// Charges the bank booked together with a return, on top of the returned amount.
    ReturnCharges,
    /// A zero amount (an informational line).
    ZeroAmount,
    /// Not booked (camt status `PDNG` or `INFO`).
    NotBooked {
        /// The status as given.
        status: String,
    },
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Debit => {
                f.write_str("debit that is not a return (outgoing payment or fee)")
            }
            SkipReason::ReturnCharges => f.write_str("charges booked with a return"),
            SkipReason::ZeroAmount => f.write_str("zero amount (informational line)"),
            SkipReason::NotBooked { status } => write!(f, "not booked (status {status})"),
        }
    }
}

/// Turns a read file into the events to publish. Refuses the file (no events at all) when
/// an entry has no date or an event would not pass the contract.
pub fn to_events(file: &StatementFile) -> Result<ImportPlan, StatementError> {
    let mut plan = ImportPlan {
        warnings: file.warnings.clone(),
        ..ImportPlan::default()
    };
    let mut ids = Ids::default();
    // The last closing balance per account and currency (one account number may have
    // sub-accounts in several currencies).
    let mut closings: HashMap<(&str, Option<Currency>), (&str, SignedAmount)> = HashMap::new();
    for statement in &file.statements {
        let account = (statement.account.as_str(), statement.currency);
        check_balances(statement, closings.get(&account), &mut plan);
        match statement.closing_balance {
            Some(closing) => {
                closings.insert(account, (&statement.id, closing));
            }
            None => {
                closings.remove(&account);
            }
        }
        let keys = entry_keys(statement);
        for (i, (entry, key)) in statement.entries.iter().zip(&keys).enumerate() {
            let label = format!("entry {} of statement {}", i + 1, statement.id);
            let prefix = format!(
                "{}/{}/{key}",
                clean(&statement.account),
                clean(&statement.id)
            );
            plan_entry(entry, &label, &prefix, &mut ids, &mut plan)?;
        }
    }
    Ok(plan)
}

/// The events of one entry, or why it has none.
fn plan_entry(
    entry: &Entry,
    label: &str,
    prefix: &str,
    ids: &mut Ids,
    plan: &mut ImportPlan,
) -> Result<(), StatementError> {
    let skip = |transaction: Option<usize>, amount: Decimal, reason: SkipReason| Skipped {
        line: entry.line,
        entry: label.to_owned(),
        transaction,
        amount,
        currency: entry.currency,
        direction: entry.direction,
        reason,
    };
    if !entry.is_booked() {
        let reason = SkipReason::NotBooked {
            status: entry.status.clone().unwrap_or_default(),
        };
        plan.skipped.push(skip(None, entry.amount, reason));
        return Ok(());
    }
    let any_return = entry.reversal || entry.transactions.iter().any(|t| t.returned);
    if entry.direction == Direction::Debit && !any_return {
        plan.skipped
            .push(skip(None, entry.amount, SkipReason::Debit));
        return Ok(());
    }
    let bad = |detail: String| StatementError::Entry {
        line: entry.line,
        entry: label.to_owned(),
        detail,
    };
    let booked = entry
        .booking_date
        .or(entry.value_date)
        .ok_or_else(|| bad("neither a booking date nor a value date".to_owned()))?;
    let value_date = entry.value_date.unwrap_or(booked);
    let event_time = booked.and_time(NaiveTime::MIN).and_utc();
    let parts = match split(entry) {
        Ok(parts) => parts,
        Err(why) => {
            plan.warnings.push(format!(
                "line {}: {label}: {why}; imported as one payment of {} {} without transaction details",
                entry.line, entry.currency, entry.amount
            ));
            vec![(entry.amount, Cow::Owned(lump(entry)))]
        }
    };
    for (t, (amount, tx)) in parts.iter().enumerate() {
        let number = t + 1;
        if amount.is_zero() {
            plan.skipped
                .push(skip(Some(number), *amount, SkipReason::ZeroAmount));
            continue;
        }
        let own_id = ids.unique(&format!("{prefix}/{number}"));
        let event_id = format!("{EVENT_ID_PREFIX}{own_id}");
        let event = if entry.reversal || tx.returned {
            let (returned, charges) = match tx.original_amount {
                Some(original) if original > Decimal::ZERO && original < *amount => {
                    (original, *amount - original)
                }
                _ => (*amount, Decimal::ZERO),
            };
            if !charges.is_zero() {
                plan.skipped
                    .push(skip(Some(number), charges, SkipReason::ReturnCharges));
            }
            let reason_code = tx
                .return_reason
                .as_deref()
                .filter(|c| identifiers::is_reason_code(c))
                .unwrap_or(NARRATIVE_REASON);
            InputEvent::PaymentReversed(PaymentReversed {
                payment_id: tx
                    .end_to_end_id
                    .as_deref()
                    .and_then(id_field)
                    .unwrap_or_else(|| own_id.clone()),
                amount: returned,
                currency: entry.currency,
                value_date,
                reason_code: reason_code.to_owned(),
                debtor_id: None,
            })
        } else if entry.direction == Direction::Credit {
            InputEvent::PaymentReceived(PaymentReceived {
                payment_id: own_id.clone(),
                amount: *amount,
                currency: entry.currency,
                value_date,
                method: PaymentMethod::BankTransfer,
                counterparty_name: tx.counterparty_name.as_deref().map(text_field),
                counterparty_iban: tx.counterparty_iban.as_deref().and_then(id_field),
                remittance_text: tx.remittance_text.as_deref().map(text_field),
                structured_reference: tx.structured_reference.as_deref().and_then(id_field),
                end_to_end_id: tx.end_to_end_id.as_deref().and_then(id_field),
                debtor_id: None,
            })
        } else {
            plan.skipped
                .push(skip(Some(number), *amount, SkipReason::Debit));
            continue;
        };
        let envelope = Envelope::new(event_id, event_time, event);
        Envelope::decode(&envelope.to_json(), DEFAULT_MAX_EVENT_BYTES)
            .map_err(|e| bad(format!("transaction {number} gives an invalid event: {e}")))?;
        plan.events.push(envelope);
    }
    Ok(())
}

/// The transactions with their amounts, when they add up to the entry; else why not.
fn split(entry: &Entry) -> Result<Vec<(Decimal, Cow<'_, Transaction>)>, String> {
    let n = entry.transactions.len();
    let amounts: Option<Vec<Decimal>> = entry.transactions.iter().map(|t| t.amount).collect();
    let Some(amounts) = amounts else {
        return Err(format!(
            "its {n} transactions do not all give an amount in {}",
            entry.currency
        ));
    };
    let sum: Decimal = amounts.iter().sum();
    if sum != entry.amount {
        return Err(format!(
            "its {n} transactions add up to {sum}, not to the entry amount {}",
            entry.amount
        ));
    }
    Ok(amounts
        .into_iter()
        .zip(entry.transactions.iter().map(Cow::Borrowed))
        .collect())
}

/// An entry that cannot be split, as one transaction: the entry's text, and its return
/// information when all its transactions agree on it.
fn lump(entry: &Entry) -> Transaction {
    let txs = &entry.transactions;
    let returned = !txs.is_empty() && txs.iter().all(|t| t.returned);
    let reason = txs.first().and_then(|t| t.return_reason.clone());
    let same_reason = txs.iter().all(|t| t.return_reason == reason);
    Transaction {
        amount: Some(entry.amount),
        remittance_text: entry.additional_info.clone(),
        returned,
        return_reason: if same_reason { reason } else { None },
        ..Transaction::default()
    }
}

/// Per entry of a statement, the key that makes its id unique within the statement.
fn entry_keys(statement: &Statement) -> Vec<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for e in &statement.entries {
        for r in [&e.bank_reference, &e.reference].into_iter().flatten() {
            *counts.entry(r.as_str()).or_default() += 1;
        }
    }
    let unique = |r: &Option<String>| {
        r.as_deref()
            .filter(|r| counts.get(r) == Some(&1))
            .map(clean)
            .filter(|r| !r.is_empty())
    };
    let mut used = HashSet::new();
    let mut keys = Vec::with_capacity(statement.entries.len());
    for (i, e) in statement.entries.iter().enumerate() {
        let number = (i + 1).to_string();
        let mut key = unique(&e.bank_reference)
            .or_else(|| unique(&e.reference))
            .unwrap_or_else(|| number.clone());
        if used.contains(&key) {
            key = number;
        }
        let mut n = 2;
        let base = key.clone();
        while used.contains(&key) {
            key = format!("{base}~{n}");
            n += 1;
        }
        used.insert(key.clone());
        keys.push(key);
    }
    keys
}

/// Transaction ids handed out so far in the file.
#[derive(Default)]
struct Ids {
    used: HashSet<String>,
}

impl Ids {
    /// `id`, bounded in length, made unique in the file with `~2`, `~3` ... if need be.
    fn unique(&mut self, id: &str) -> String {
        let mut candidate = bounded(id);
        let mut n = 2;
        while self.used.contains(&candidate) {
            candidate = bounded(&format!("{id}~{n}"));
            n += 1;
        }
        self.used.insert(candidate.clone());
        candidate
    }
}

/// `id` when it fits [`MAX_TRANSACTION_ID`], else its start, `~` and 16 hex digits of its
/// SHA-256 (so two long ids that differ only at the end stay different).
fn bounded(id: &str) -> String {
    if id.len() <= MAX_TRANSACTION_ID {
        return id.to_owned();
    }
    let hash: String = Sha256::digest(id.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut keep = MAX_TRANSACTION_ID - hash.len() - 1;
    while !id.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}~{hash}", &id[..keep])
}

/// A part of an id: runs of white space and control characters (line breaks included) as
/// one space, trimmed.
fn clean(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// An id field of an event: cleaned, `None` when empty or longer than the contract allows.
fn id_field(text: &str) -> Option<String> {
    let id = clean(text);
    (!id.is_empty() && id.len() <= MAX_ID_LEN).then_some(id)
}

/// A text field of an event: control characters other than line breaks as spaces, cut to
/// the contract's length at a character boundary.
fn text_field(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect();
    if out.len() > MAX_TEXT_LEN {
        let mut keep = MAX_TEXT_LEN;
        while !out.is_char_boundary(keep) {
            keep -= 1;
        }
        out.truncate(keep);
    }
    out
}

/// Balance warnings of one statement: its own chain, and its opening against the previous
/// closing of the same account in the file.
fn check_balances(
    statement: &Statement,
    previous: Option<&(&str, SignedAmount)>,
    plan: &mut ImportPlan,
) {
    let name = format!(
        "statement {} of account {} (line {})",
        statement.id, statement.account, statement.line
    );
    match statement.balance_check() {
        BalanceCheck::Consistent | BalanceCheck::NotGiven => {}
        BalanceCheck::Mismatch { expected, computed } => {
            let opening = statement
                .opening_balance
                .map_or(Decimal::ZERO, |b| b.amount);
            plan.balance_warnings.push(format!(
                "{name}: opening {opening} + credits {} - debits {} = {computed}, but the closing balance is {expected} (difference {})",
                statement.credit_sum(),
                statement.debit_sum(),
                expected - computed
            ));
        }
        BalanceCheck::MixedCurrencies { currencies } => {
            let list: Vec<&str> = currencies.iter().map(Currency::as_str).collect();
            plan.balance_warnings.push(format!(
                "{name}: balances and entries are in several currencies ({}); the balance was not checked",
                list.join(", ")
            ));
        }
    }
    if let (Some((previous_id, closing)), Some(opening)) = (previous, statement.opening_balance)
        && closing.currency == opening.currency
        && closing.amount != opening.amount
    {
        plan.balance_warnings.push(format!(
            "{name}: opens with {} {} but the previous statement {previous_id} of the account closed with {} {}",
            opening.currency, opening.amount, closing.currency, closing.amount
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_ids_are_bounded_and_stay_distinct() {
        let a = "A".repeat(200) + "1";
        let b = "A".repeat(200) + "2";
        assert_eq!(bounded(&a).len(), MAX_TRANSACTION_ID);
        assert_ne!(bounded(&a), bounded(&b));
        assert_eq!(bounded("short"), "short");
        let umlauts = "ü".repeat(100);
        assert!(bounded(&umlauts).len() <= MAX_TRANSACTION_ID);
    }

    #[test]
    fn text_fields_are_cut_at_a_character_boundary() {
        let long = "€".repeat(600);
        let cut = text_field(&long);
        assert!(cut.len() <= MAX_TEXT_LEN && cut.chars().all(|c| c == '€'));
        assert_eq!(text_field("a\tb\nc"), "a b\nc");
        assert_eq!(id_field("  \u{7} "), None);
    }
}
