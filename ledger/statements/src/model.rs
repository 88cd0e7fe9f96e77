//! The typed statement: what the readers (`camt`, `mt940`) produce from a
//! file and what [`crate::to_events`] turns into events. Format-neutral: a camt `<Stmt>` or
//! `<Ntfctn>` and an MT940 message (`:20:` … `-`) both become one [`Statement`]; a camt
//! `<Ntry>` and an MT940 `:61:` (with its `:86:`) both become one [`Entry`].

use chrono::NaiveDate;
use events::Currency;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::detect::Format;

/// A whole file, read without error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementFile {
    /// The format the file was read as.
    pub format: Format,
    /// The message version from the XML namespace (`camt.053.001.02`); `None` for MT940
    /// and for XML without an ISO 20022 namespace.
    pub version: Option<String>,
    /// SHA-256 of the file's bytes, lower-case hex: the key under which an importer
    /// remembers that it published this file.
    pub digest: String,
    /// The statements (camt.054: notifications) in file order.
    pub statements: Vec<Statement>,
    /// What the reader tolerated and a person may want to know (each names its line), for
    /// example an MT940 `:61:` after the `-` that ended its statement.
    pub warnings: Vec<String>,
}

/// One statement of one account (camt `<Stmt>`/`<Ntfctn>`, one MT940 message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    /// The bank's id of the statement, unique per account: camt `<Stmt><Id>`; MT940
    /// `<:28C: statement/sequence number>/<opening balance date>`, followed by
    /// `/<currency>` when `:25:` ends in a currency code (the `:20:` reference is a
    /// per-transmission reference, not stable, so it is not part of the id). When a file
    /// holds the same id twice for one account, the later ones get `~2`, `~3` ...
    pub id: String,
    /// Line on which the statement starts.
    pub line: usize,
    /// The account: IBAN, or the account id as the bank writes it (MT940 `:25:` without a
    /// trailing currency code, e.g. `20090500/0006853030`).
    pub account: String,
    /// The account currency: camt `<Acct><Ccy>`, else the opening balance's currency;
    /// MT940 the opening (else closing) balance's currency.
    pub currency: Option<Currency>,
    /// camt `<GrpHdr><MsgId>`; MT940 `:20:`.
    pub message_reference: Option<String>,
    /// Booked opening balance: camt OPBD (else PRCD, the previous closing); MT940
    /// `:60F:`/`:60M:`.
    pub opening_balance: Option<SignedAmount>,
    /// Booked closing balance: camt CLBD; MT940 `:62F:`/`:62M:`.
    pub closing_balance: Option<SignedAmount>,
    /// Every balance as given, in file order (available, forward-available ...).
    pub balances: Vec<Balance>,
    /// Statement-level information: camt `<AddtlStmtInf>`/`<AddtlNtfctnInf>`; an MT940
    /// `:86:` that follows the balances rather than a `:61:`.
    pub information: Option<String>,
    /// The entries in file order.
    pub entries: Vec<Entry>,
}

/// A balance: a signed amount (negative: debit balance) in a currency on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SignedAmount {
    /// The amount, negative for a debit balance.
    pub amount: Decimal,
    /// Its currency.
    pub currency: Currency,
    /// The date the balance is for.
    pub date: NaiveDate,
}

/// One balance line as the file gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balance {
    /// camt type code (`OPBD`, `PRCD`, `CLBD`, `CLAV`, `FWAV` ...) or MT940 tag (`60F`,
    /// `60M`, `62F`, `62M`, `64`, `65`).
    pub kind: String,
    /// The balance.
    pub balance: SignedAmount,
}

/// Which way money moved on the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Direction {
    /// Money came in (camt CRDT; MT940 `C`, and `RD`: a debit reversed).
    Credit,
    /// Money went out (camt DBIT; MT940 `D`, and `RC`: a credit reversed).
    Debit,
}

impl Direction {
    /// The other direction.
    pub fn opposite(self) -> Direction {
        match self {
            Direction::Credit => Direction::Debit,
            Direction::Debit => Direction::Credit,
        }
    }
}

/// One booking on the account (camt `<Ntry>`, MT940 `:61:` with its `:86:`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Line on which the entry starts (`<Ntry>`, `:61:`).
    pub line: usize,
    /// The entry's own reference: camt `<NtryRef>`; MT940 the customer reference of `:61:`
    /// (`NONREF` is none). Not always unique (one camt sample repeats it on 4 entries).
    pub reference: Option<String>,
    /// The bank's reference: camt `<AcctSvcrRef>`; MT940 the reference after `//`.
    pub bank_reference: Option<String>,
    /// Booking date (camt `<BookgDt>` date, or the date part of its date-time as written;
    /// MT940 entry date, its year taken from the value date).
    pub booking_date: Option<NaiveDate>,
    /// Value date (camt `<ValDt>`; MT940 the first six digits of `:61:`).
    pub value_date: Option<NaiveDate>,
    /// The booked amount, a magnitude (the direction gives the sign).
    pub amount: Decimal,
    /// Currency of the amount (camt `Amt/@Ccy`; MT940 the statement's balance currency).
    pub currency: Currency,
    /// Credit or debit.
    pub direction: Direction,
    /// A reversal or return (R-transaction): camt `<RvslInd>true` or a return bank
    /// transaction sub-family (`RRTN`, `PRDD`, `UPDD`, `ARET`); MT940 `RC`/`RD` mark,
    /// transaction type `RTI` (returned item), or German GVC 108/109/159.
    pub reversal: bool,
    /// camt `<Sts>` (`BOOK`, `PDNG`, `INFO`); `None` for MT940 (always booked).
    pub status: Option<String>,
    /// camt domain code `Domn/Fmly/SubFmly` (`PMNT/RCDT/ESCT`); MT940 the `:61:`
    /// transaction type (`NMSC`, `NTRF`, `N051`).
    pub transaction_code: Option<String>,
    /// camt proprietary code (`<BkTxCd><Prtry><Cd>`, e.g. `NTRF+020`); MT940 the German
    /// GVC of a structured `:86:` (e.g. `109`).
    pub proprietary_code: Option<String>,
    /// camt `<NtryDtls><Btch><NbOfTxs>`: how many payments the booking bundles.
    pub batch_size: Option<u32>,
    /// camt `<AddtlNtryInf>`; MT940 the booking text (`?00`) and the `:61:` supplementary
    /// details.
    pub additional_info: Option<String>,
    /// The payments the entry books, at least one: one per camt `<TxDtls>` (a batch booking
    /// is split into its transactions); an entry without details has one transaction
    /// holding the entry amount; an MT940 entry always has one.
    pub transactions: Vec<Transaction>,
}

impl Entry {
    /// Booked, not pending or information only: no status (MT940) or camt status `BOOK`.
    /// Only booked entries move the booked balances and become events.
    pub fn is_booked(&self) -> bool {
        self.status
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case("BOOK"))
    }
}

/// One payment within an entry (camt `<TxDtls>`; the single payment of an MT940 entry).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Transaction {
    /// The amount in the entry's currency: camt `<Amt>` or `<AmtDtls><TxAmt><Amt>`; the
    /// entry amount when the entry has this one transaction and the details give none in
    /// the entry's currency; `None` when several transactions give no amount.
    pub amount: Option<Decimal>,
    /// SEPA end-to-end id (camt `<EndToEndId>`, MT940 `EREF+`); `NOTPROVIDED` is none.
    pub end_to_end_id: Option<String>,
    /// SEPA direct-debit mandate id (camt `<MndtId>`, MT940 `MREF+`).
    pub mandate_id: Option<String>,
    /// Name of the other party of the (original) payment: the debtor of a credit, the
    /// creditor of a debit; for a return, of the payment that is returned. MT940 `?32?33`.
    pub counterparty_name: Option<String>,
    /// IBAN of the other party (only when it has the shape of an IBAN).
    pub counterparty_iban: Option<String>,
    /// Account of the other party as written (IBAN or a national account number).
    pub counterparty_account: Option<String>,
    /// BIC (or German bank code) of the other party's bank (MT940 `?30`).
    pub counterparty_bic: Option<String>,
    /// Unstructured remittance text: camt `<Ustrd>` blocks joined by a space; MT940 the
    /// `SVWZ+` text, else the free text of `:86:`.
    pub remittance_text: Option<String>,
    /// Structured creditor reference: camt `<Strd><CdtrRefInf><Ref>` (the first); MT940 an
    /// RF creditor reference (ISO 11649, check digits verified) found in the text.
    pub structured_reference: Option<String>,
    /// The transaction carries return information (camt `<RtrInf>`, or a return
    /// sub-family in its own `<BkTxCd>`).
    pub returned: bool,
    /// Return reason code: camt `<RtrInf><Rsn><Cd>` (or `<Prtry>`), e.g. `MD06`; MT940 a
    /// SEPA return reason code standing alone in the text.
    pub return_reason: Option<String>,
    /// Return explanation: camt `<RtrInf><AddtlInf>`.
    pub return_text: Option<String>,
    /// Original amount of a return before charges: MT940 `/OCMT/` or `OAMT+`.
    pub original_amount: Option<Decimal>,
    /// Charges booked with the entry: MT940 `/CHGS/`.
    pub charges: Option<Decimal>,
}

/// Whether a statement's balances add up: opening + credits − debits = closing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum BalanceCheck {
    /// They add up.
    Consistent,
    /// They do not (`expected` is the closing balance, `computed` opening + credits −
    /// debits). Reported, never corrected: some public samples are anonymised this way.
    Mismatch {
        /// The closing balance as given.
        expected: Decimal,
        /// Opening balance plus credits minus debits.
        computed: Decimal,
    },
    /// Balances and entries are in more than one currency, so they cannot be added.
    MixedCurrencies {
        /// The currencies found, sorted.
        currencies: Vec<Currency>,
    },
    /// The opening or the closing balance is not given (camt.054 notifications have none).
    NotGiven,
}

impl Statement {
    /// Sum of the booked credit entries (camt CRDT; MT940 `C` and `RD`).
    pub fn credit_sum(&self) -> Decimal {
        self.sum(Direction::Credit)
    }

    /// Sum of the booked debit entries (camt DBIT; MT940 `D` and `RC`).
    pub fn debit_sum(&self) -> Decimal {
        self.sum(Direction::Debit)
    }

    fn sum(&self, direction: Direction) -> Decimal {
        self.entries
            .iter()
            .filter(|e| e.direction == direction && e.is_booked())
            .map(|e| e.amount)
            .sum()
    }

    /// Checks opening + credits − debits = closing over the booked entries, in exact
    /// decimals.
    pub fn balance_check(&self) -> BalanceCheck {
        let (Some(opening), Some(closing)) = (self.opening_balance, self.closing_balance) else {
            return BalanceCheck::NotGiven;
        };
        let mut currencies: Vec<Currency> = [opening.currency, closing.currency]
            .into_iter()
            .chain(
                self.entries
                    .iter()
                    .filter(|e| e.is_booked())
                    .map(|e| e.currency),
            )
            .collect();
        currencies.sort();
        currencies.dedup();
        if currencies.len() > 1 {
            return BalanceCheck::MixedCurrencies { currencies };
        }
        let computed = opening.amount + self.credit_sum() - self.debit_sum();
        if computed == closing.amount {
            BalanceCheck::Consistent
        } else {
            BalanceCheck::Mismatch {
                expected: closing.amount,
                computed,
            }
        }
    }
}
