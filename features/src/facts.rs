//! Facts: one row per thing the ledger saw happen to a known debtor, the input of the
//! partial aggregates. A pure function of one processed event (the envelope, the ledger's
//! effects and the ledger after it), so the stream, a replay and a training set derive the
//! same facts from the same log.
//!
//! Every fact is dated by the event's event-time date: what a debtor's features know on a
//! day is what had happened by then, never a value date in the future.

use std::sync::Arc;

use chrono::NaiveDate;
use compact_str::CompactString;
use datafusion::arrow::array::{
    BooleanBuilder, Decimal128Builder, Int32Builder, RecordBatch, StringBuilder, UInt32Builder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use events::{Envelope, InputEvent, PaymentMethod};
use ledger::{AllocationKind, Ledger, LedgerEffect};
use rust_decimal::Decimal;

use crate::debtors::DebtorSlots;
use crate::error::FeatureError;

/// Precision of money columns.
pub const MONEY_PRECISION: u8 = 38;
/// Scale of money columns (the event contract allows at most six decimals).
pub const MONEY_SCALE: i8 = 6;

/// The Arrow type of money.
pub fn money_type() -> DataType {
    DataType::Decimal128(MONEY_PRECISION, MONEY_SCALE)
}

/// An amount as the mantissa of a Decimal128 at [`MONEY_SCALE`].
pub fn money_mantissa(amount: Decimal) -> i128 {
    let mut d = amount;
    d.rescale(MONEY_SCALE as u32);
    d.mantissa()
}

/// A Decimal128 mantissa at [`MONEY_SCALE`] as an amount.
pub fn money_from_mantissa(mantissa: i128) -> Decimal {
    Decimal::try_from_i128_with_scale(mantissa, MONEY_SCALE as u32).unwrap_or(Decimal::MAX)
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

/// A date as days since 1970-01-01.
pub fn day_number(date: NaiveDate) -> i32 {
    i32::try_from((date - epoch()).num_days()).unwrap_or(i32::MAX)
}

/// Days since 1970-01-01 as a date.
pub fn day_date(day: i32) -> NaiveDate {
    epoch() + chrono::Days::new(day.max(0) as u64)
}

/// What a fact records (the `kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FactKind {
    /// An invoice was issued (amount).
    Invoice,
    /// An invoice was paid off (days_late, part_paid).
    Settled,
    /// A payment was applied to the debtor (amount, method).
    Payment,
    /// A payment was taken back (amount).
    Reversal,
    /// An item was disputed.
    Dispute,
    /// A promise to pay was broken (amount promised).
    PromiseBroken,
    /// A promise to pay was kept (amount promised... paid).
    PromiseKept,
    /// A credit note was booked (amount).
    CreditNote,
}

impl FactKind {
    /// The `kind` column's value.
    pub fn as_str(self) -> &'static str {
        match self {
            FactKind::Invoice => "invoice",
            FactKind::Settled => "settled",
            FactKind::Payment => "payment",
            FactKind::Reversal => "reversal",
            FactKind::Dispute => "dispute",
            FactKind::PromiseBroken => "promise_broken",
            FactKind::PromiseKept => "promise_kept",
            FactKind::CreditNote => "credit_note",
        }
    }
}

/// One fact, before it is a row.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// Debtor (held in place up to 24 bytes: a fact allocates nothing).
    pub debtor_id: CompactString,
    /// Event-time date, days since 1970-01-01.
    pub day: i32,
    /// What happened.
    pub kind: FactKind,
    /// Amount, where the kind has one.
    pub amount: Option<Decimal>,
    /// Days after the due date the item was paid off (settled facts).
    pub days_late: Option<i32>,
    /// Whether the item had been paid in part before (settled facts).
    pub part_paid: Option<bool>,
    /// How the payment was made (payment facts).
    pub method: Option<PaymentMethod>,
}

impl Fact {
    fn new(debtor_id: &str, day: i32, kind: FactKind) -> Fact {
        Fact {
            debtor_id: CompactString::from(debtor_id),
            day,
            kind,
            amount: None,
            days_late: None,
            part_paid: None,
            method: None,
        }
    }
}

/// The facts of one processed event, in effect order.
pub fn facts_of(event: &Envelope, effects: &[LedgerEffect], ledger: &Ledger) -> Vec<Fact> {
    let day = day_number(event.event_time.date_naive());
    let method = match &event.event {
        InputEvent::PaymentReceived(p) => Some(p.method),
        _ => None,
    };
    let mut facts = Vec::new();
    for effect in effects {
        match effect {
            LedgerEffect::InvoiceOpened {
                debtor_id, amount, ..
            } => {
                let mut f = Fact::new(debtor_id, day, FactKind::Invoice);
                f.amount = Some(amount.amount);
                facts.push(f);
            }
            LedgerEffect::PaymentApplied {
                debtor_id, amount, ..
            } => {
                let mut f = Fact::new(debtor_id, day, FactKind::Payment);
                f.amount = Some(amount.amount);
                f.method = method;
                facts.push(f);
            }
            LedgerEffect::ItemSettled {
                debtor_id,
                invoice_number,
                due_date,
                settled_on,
            } => {
                let mut f = Fact::new(debtor_id, day, FactKind::Settled);
                let late = (*settled_on - *due_date).num_days().max(0);
                f.days_late = Some(i32::try_from(late).unwrap_or(i32::MAX));
                f.part_paid = Some(paid_before(invoice_number, effects, ledger));
                facts.push(f);
            }
            LedgerEffect::PaymentReversed {
                debtor_id: Some(debtor_id),
                amount,
                ..
            } => {
                let mut f = Fact::new(debtor_id, day, FactKind::Reversal);
                f.amount = Some(amount.amount);
                facts.push(f);
            }
            LedgerEffect::DisputeOpened { debtor_id, .. } => {
                facts.push(Fact::new(debtor_id, day, FactKind::Dispute));
            }
            LedgerEffect::PromiseBroken {
                debtor_id, amount, ..
            } => {
                let mut f = Fact::new(debtor_id, day, FactKind::PromiseBroken);
                f.amount = Some(amount.amount);
                facts.push(f);
            }
            LedgerEffect::PromiseKept {
                debtor_id, paid, ..
            } => {
                let mut f = Fact::new(debtor_id, day, FactKind::PromiseKept);
                f.amount = Some(*paid);
                facts.push(f);
            }
            LedgerEffect::CreditNoteApplied {
                debtor_id,
                applied,
                unapplied,
                ..
            } => {
                let mut f = Fact::new(debtor_id, day, FactKind::CreditNote);
                f.amount = Some(*applied + *unapplied);
                facts.push(f);
            }
            _ => {}
        }
    }
    facts
}

/// Whether payment money had reached the item before this event: what it has been paid
/// in all is more than this event's payment allocations to it.
fn paid_before(invoice_number: &str, effects: &[LedgerEffect], ledger: &Ledger) -> bool {
    let Some(item) = ledger.item(invoice_number) else {
        return false;
    };
    let now: Decimal = effects
        .iter()
        .filter_map(|e| match e {
            LedgerEffect::PaymentApplied { allocations, .. } => Some(allocations),
            _ => None,
        })
        .flatten()
        .filter(|a| a.invoice_number == invoice_number && a.kind == AllocationKind::Payment)
        .map(|a| a.amount)
        .sum();
    item.paid_amount > now && now > Decimal::ZERO
}

/// The Arrow schema of the facts table.
pub fn facts_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("debtor", DataType::UInt32, false),
        Field::new("day", DataType::Int32, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("amount", money_type(), true),
        Field::new("days_late", DataType::Int32, true),
        Field::new("part_paid", DataType::Boolean, true),
        Field::new("method", DataType::Utf8, true),
    ]))
}

/// Builds a facts [`RecordBatch`] row by row.
#[derive(Debug, Default)]
pub struct FactBuilder {
    debtor: UInt32Builder,
    day: Int32Builder,
    kind: StringBuilder,
    amount: Decimal128Builder,
    days_late: Int32Builder,
    part_paid: BooleanBuilder,
    method: StringBuilder,
    rows: usize,
}

impl FactBuilder {
    /// An empty builder.
    pub fn new() -> FactBuilder {
        FactBuilder::default()
    }

    /// Appends one fact of the debtor in `slot`.
    pub fn push(&mut self, slot: u32, fact: &Fact) {
        self.debtor.append_value(slot);
        self.day.append_value(fact.day);
        self.kind.append_value(fact.kind.as_str());
        self.amount.append_option(fact.amount.map(money_mantissa));
        self.days_late.append_option(fact.days_late);
        self.part_paid.append_option(fact.part_paid);
        self.method.append_option(fact.method.map(|m| m.as_str()));
        self.rows += 1;
    }

    /// Appends facts, giving new debtors a slot.
    pub fn push_all(&mut self, slots: &mut DebtorSlots, facts: &[Fact]) {
        for f in facts {
            let slot = slots.slot(&f.debtor_id);
            self.push(slot, f);
        }
    }

    /// Rows so far.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no row was appended.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The rows so far as a batch; the builder starts again empty.
    pub fn finish(&mut self) -> Result<RecordBatch, FeatureError> {
        self.rows = 0;
        let amount = self
            .amount
            .finish()
            .with_precision_and_scale(MONEY_PRECISION, MONEY_SCALE)
            .map_err(FeatureError::arrow("building facts"))?;
        RecordBatch::try_new(
            facts_schema(),
            vec![
                Arc::new(self.debtor.finish()),
                Arc::new(self.day.finish()),
                Arc::new(self.kind.finish()),
                Arc::new(amount),
                Arc::new(self.days_late.finish()),
                Arc::new(self.part_paid.finish()),
                Arc::new(self.method.finish()),
            ],
        )
        .map_err(FeatureError::arrow("building facts"))
    }
}
