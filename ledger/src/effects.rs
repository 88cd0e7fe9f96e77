//! What the ledger tells later stages after each call: one [`LedgerEffect`] per thing that
//! changed, in the order it happened.

use chrono::NaiveDate;
use events::{Currency, DisputeOutcome, EventKind, Money};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::matching::{MatchRule, UnmatchedReason};
use crate::payments::Allocation;

/// Why an event was ignored without changing the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IgnoredReason {
    /// The amount is zero or negative (the decoder refuses these; a hand-built event may
    /// not).
    NonPositiveAmount,
    /// A dispute resolution for a dispute the item does not have open.
    UnknownDispute,
    /// A limit set by hand in another currency than the debtor's account.
    CurrencyMismatch,
}

/// One change of the ledger, for decisions, features and metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LedgerEffect {
    /// Master data of a debtor was stored.
    DebtorUpdated {
        /// Debtor.
        debtor_id: String,
        /// Whether the account did not exist before.
        created: bool,
    },
    /// A new open item.
    InvoiceOpened {
        /// Debtor who owes it.
        debtor_id: String,
        /// Invoice number.
        invoice_number: String,
        /// Gross amount.
        amount: Money,
        /// Due date.
        due_date: NaiveDate,
    },
    /// An event whose identity (invoice number, payment id, ...) was seen before; nothing
    /// changed.
    DuplicateIgnored {
        /// Kind of the ignored event.
        kind: EventKind,
        /// Its identity (invoice number, payment id, credit note number, ...).
        key: String,
    },
    /// An event that changed nothing for another reason.
    Ignored {
        /// Kind of the ignored event.
        kind: EventKind,
        /// Its identity.
        key: String,
        /// Why.
        reason: IgnoredReason,
    },
    /// A payment was applied automatically (no task): to items, as unapplied credit, or
    /// both. `allocations` plus `unapplied` add up to `amount`; `write_offs` are not
    /// payment money.
    PaymentApplied {
        /// Bank transaction id.
        payment_id: String,
        /// The debtor the payment was booked to.
        debtor_id: String,
        /// Amount of the payment.
        amount: Money,
        /// The rule that matched it (that of the first allocation; `payer_known_unapplied`
        /// when it only became credit).
        rule: MatchRule,
        /// Amounts of the payment applied to items, in order (kind `payment`), each with
        /// its rule and confidence.
        allocations: Vec<Allocation>,
        /// What was left over and kept as unapplied credit of `debtor_id`.
        unapplied: Decimal,
        /// Rests of items written off within the bank-cost tolerance (kind `write_off`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        write_offs: Vec<Allocation>,
    },
    /// No rule could apply a payment without a person: its money waits in the exceptions
    /// total and a task lists the candidates.
    PaymentUnmatched {
        /// Bank transaction id.
        payment_id: String,
        /// Amount of the payment.
        amount: Money,
        /// Why.
        reason: UnmatchedReason,
        /// The debtor, when it is known and only the items are in doubt.
        debtor_id: Option<String>,
        /// Candidate debtors, best first (unknown payer: those with an open item of
        /// exactly this amount).
        candidates: Vec<String>,
        /// Candidate invoices, best first (ambiguous references, amounts, combinations).
        candidate_invoices: Vec<String>,
    },
    /// A payment refers to items (or a debtor) in another currency; it waits in the
    /// exceptions total.
    CurrencyMismatch {
        /// Bank transaction id.
        payment_id: String,
        /// The debtor it appears to belong to.
        debtor_id: Option<String>,
        /// Amount and currency of the payment.
        amount: Money,
        /// Currency of the item or account it refers to.
        expected: Currency,
        /// Items it refers to.
        invoice_numbers: Vec<String>,
    },
    /// An item's open amount reached zero.
    ItemSettled {
        /// Debtor.
        debtor_id: String,
        /// Invoice number.
        invoice_number: String,
        /// Due date of the item.
        due_date: NaiveDate,
        /// Value date of the payment or issue date of the credit note that settled it.
        settled_on: NaiveDate,
    },
    /// A known payment was taken back; its allocations and unapplied credit are undone.
    PaymentReversed {
        /// Bank transaction id of the original payment.
        payment_id: String,
        /// The debtor it had been booked to, if any.
        debtor_id: Option<String>,
        /// Amount of the original payment.
        amount: Money,
        /// SEPA return reason code.
        reason_code: String,
        /// Items re-opened, with the amounts re-opened: the payment's allocations, then its
        /// write-offs (see each one's `kind`; left out of the JSON when it is `payment`).
        reopened: Vec<Allocation>,
        /// Unapplied credit taken back.
        unapplied_removed: Decimal,
        /// The payment had been an exception (unmatched or currency mismatch).
        was_exception: bool,
    },
    /// A reversal of a payment the ledger does not know (neither by payment id nor by
    /// end-to-end id).
    ReversalUnknown {
        /// The payment id the reversal names.
        payment_id: String,
        /// Debtor, if the reversal names one.
        debtor_id: Option<String>,
        /// Amount taken back.
        amount: Money,
        /// SEPA return reason code.
        reason_code: String,
    },
    /// A credit note was booked.
    CreditNoteApplied {
        /// Credit note number.
        credit_note_number: String,
        /// Debtor credited.
        debtor_id: String,
        /// Invoice it reduced, if it named one that exists.
        invoice_number: Option<String>,
        /// Amount taken off the invoice.
        applied: Decimal,
        /// Amount kept as unapplied credit.
        unapplied: Decimal,
    },
    /// An event names an invoice the ledger does not know.
    InvoiceUnknown {
        /// Kind of the event.
        kind: EventKind,
        /// Debtor the event names.
        debtor_id: String,
        /// The unknown invoice number.
        invoice_number: String,
    },
    /// An item is disputed.
    DisputeOpened {
        /// Debtor of the item.
        debtor_id: String,
        /// Invoice number.
        invoice_number: String,
        /// Dispute id.
        dispute_id: String,
        /// Disputed amount, when only part is disputed.
        amount: Option<Decimal>,
    },
    /// A dispute was settled.
    DisputeResolved {
        /// Debtor of the item.
        debtor_id: String,
        /// Invoice number.
        invoice_number: String,
        /// Dispute id.
        dispute_id: String,
        /// How it ended.
        outcome: DisputeOutcome,
        /// Whether other disputes on the item remain open.
        still_disputed: bool,
    },
    /// A promise to pay was recorded.
    PromiseRecorded {
        /// Debtor.
        debtor_id: String,
        /// Promise id.
        promise_id: String,
        /// Date promised.
        promised_date: NaiveDate,
        /// Amount promised.
        amount: Money,
    },
    /// The debtor paid at least the promised amount in time.
    PromiseKept {
        /// Debtor.
        debtor_id: String,
        /// Promise id.
        promise_id: String,
        /// Paid since the promise.
        paid: Decimal,
    },
    /// The promised date passed without the promised amount.
    PromiseBroken {
        /// Debtor.
        debtor_id: String,
        /// Promise id.
        promise_id: String,
        /// Date promised.
        promised_date: NaiveDate,
        /// Amount promised.
        amount: Money,
        /// Paid since the promise.
        paid: Decimal,
    },
    /// A bureau rating was stored on the account.
    BureauRatingRecorded {
        /// Debtor.
        debtor_id: String,
        /// Bureau.
        bureau: String,
        /// Rating.
        rating: String,
    },
    /// An item passed its due date (plus grace) while open. Happens once per item.
    ItemOverdue {
        /// Debtor.
        debtor_id: String,
        /// Invoice number.
        invoice_number: String,
        /// Due date.
        due_date: NaiveDate,
        /// Open amount when it turned overdue.
        open_amount: Decimal,
        /// Days since the due date on the clock's date.
        days_past_due: i64,
    },
    /// The open balance rose above the credit limit.
    ExposureAboveLimit {
        /// Debtor.
        debtor_id: String,
        /// Open balance.
        open_balance: Decimal,
        /// Credit limit.
        credit_limit: Decimal,
    },
    /// The open balance is back within the credit limit.
    ExposureWithinLimit {
        /// Debtor.
        debtor_id: String,
        /// Open balance.
        open_balance: Decimal,
        /// Credit limit.
        credit_limit: Decimal,
    },
    /// A credit manager set the debtor's limit by hand.
    LimitOverridden {
        /// Debtor.
        debtor_id: String,
        /// The limit now in force.
        credit_limit: Decimal,
        /// The limit before, if any.
        previous: Option<Decimal>,
    },
    /// A debtor's balances (or limit) changed; at most one per debtor per call.
    StandingChanged {
        /// Debtor.
        debtor_id: String,
    },
}

impl LedgerEffect {
    /// The debtor concerned, when known.
    pub fn debtor_id(&self) -> Option<&str> {
        use LedgerEffect as E;
        match self {
            E::DebtorUpdated { debtor_id, .. }
            | E::InvoiceOpened { debtor_id, .. }
            | E::PaymentApplied { debtor_id, .. }
            | E::ItemSettled { debtor_id, .. }
            | E::CreditNoteApplied { debtor_id, .. }
            | E::InvoiceUnknown { debtor_id, .. }
            | E::DisputeOpened { debtor_id, .. }
            | E::DisputeResolved { debtor_id, .. }
            | E::PromiseRecorded { debtor_id, .. }
            | E::PromiseKept { debtor_id, .. }
            | E::PromiseBroken { debtor_id, .. }
            | E::BureauRatingRecorded { debtor_id, .. }
            | E::ItemOverdue { debtor_id, .. }
            | E::LimitOverridden { debtor_id, .. }
            | E::ExposureAboveLimit { debtor_id, .. }
            | E::ExposureWithinLimit { debtor_id, .. }
            | E::StandingChanged { debtor_id } => Some(debtor_id),
            E::CurrencyMismatch { debtor_id, .. }
            | E::PaymentUnmatched { debtor_id, .. }
            | E::PaymentReversed { debtor_id, .. }
            | E::ReversalUnknown { debtor_id, .. } => debtor_id.as_deref(),
            E::DuplicateIgnored { .. } | E::Ignored { .. } => None,
        }
    }

    /// A short, bounded name of the effect (`payment_applied`, `item_overdue`, ...), for
    /// metric labels.
    pub fn name(&self) -> &'static str {
        use LedgerEffect as E;
        match self {
            E::DebtorUpdated { .. } => "debtor_updated",
            E::InvoiceOpened { .. } => "invoice_opened",
            E::DuplicateIgnored { .. } => "duplicate_ignored",
            E::Ignored { .. } => "ignored",
            E::PaymentApplied { .. } => "payment_applied",
            E::PaymentUnmatched { .. } => "payment_unmatched",
            E::CurrencyMismatch { .. } => "currency_mismatch",
            E::ItemSettled { .. } => "item_settled",
            E::PaymentReversed { .. } => "payment_reversed",
            E::ReversalUnknown { .. } => "reversal_unknown",
            E::CreditNoteApplied { .. } => "credit_note_applied",
            E::InvoiceUnknown { .. } => "invoice_unknown",
            E::DisputeOpened { .. } => "dispute_opened",
            E::DisputeResolved { .. } => "dispute_resolved",
            E::PromiseRecorded { .. } => "promise_recorded",
            E::PromiseKept { .. } => "promise_kept",
            E::PromiseBroken { .. } => "promise_broken",
            E::BureauRatingRecorded { .. } => "bureau_rating_recorded",
            E::ItemOverdue { .. } => "item_overdue",
            E::ExposureAboveLimit { .. } => "exposure_above_limit",
            E::ExposureWithinLimit { .. } => "exposure_within_limit",
            E::LimitOverridden { .. } => "limit_overridden",
            E::StandingChanged { .. } => "standing_changed",
        }
    }
}
