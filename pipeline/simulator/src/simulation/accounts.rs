//! A debtor's account as the simulator tracks it: its open items (mirroring what the
//! ledger will see), the invoices it settled lately, its mandate, and the formats of
//! invoice numbers and payment references.

use std::collections::VecDeque;

use ledger::references::{creditor_reference, dutch_payment_reference};
use rust_decimal::Decimal;

use crate::portfolio::{Debtor, ReferenceStyle};
use crate::rng::Rng;

/// Invoices of one debtor remembered after they are settled (for references to another
/// invoice of the same debtor).
pub(super) const RECENT_INVOICES: usize = 6;

/// Where an open item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ItemState {
    /// Open and payable.
    Open,
    /// Under dispute: not paid until settled.
    Disputed,
    /// Collected by a direct debit that will be returned: paid in the ledger's eyes.
    Collected,
}

/// An open item as the simulator tracks it (it mirrors what the ledger will see).
#[derive(Debug, Clone)]
pub(super) struct Item {
    pub(super) seq: u32,
    pub(super) amount: i64,
    pub(super) open: i64,
    pub(super) issue_day: i32,
    pub(super) due_day: i32,
    pub(super) reference: Option<ReferenceStyle>,
    pub(super) state: ItemState,
    pub(super) collections: u8,
    /// The debtor will never pay it (or its rest): left out of combined payments.
    pub(super) abandoned: bool,
    /// Reminders received about it (closed-loop runs only).
    pub(super) reminders: u8,
    /// Paid by the installments of a payment plan the debtor took: its own payment plans
    /// wait (closed-loop runs only).
    pub(super) on_plan: bool,
    /// Which plan the installments belong to (a later plan makes earlier ones void).
    pub(super) plan: u8,
    /// Installments of the plan missed and not yet made good, in cents.
    pub(super) plan_missed: i64,
}

/// A debtor during the run.
#[derive(Debug, Clone)]
pub(super) struct DebtorState {
    pub(super) debtor: Debtor,
    pub(super) rng: Rng,
    pub(super) open: Vec<Item>,
    pub(super) recent: VecDeque<(u32, i64, Option<ReferenceStyle>)>,
    pub(super) version: u32,
    pub(super) mandate: bool,
    pub(super) fee_cents: i64,
    /// New orders blocked by a credit hold (closed-loop runs only).
    pub(super) held: bool,
    /// The debtor's own stream for its responses, apart from `rng`, so responding draws
    /// nothing from the stream its invoices and payments come from.
    pub(super) reply: Rng,
    /// The debtor's stream for its invoices and their fates (amount, reference, interval,
    /// when and whether each is paid): apart from `rng`, which the payments draw from.
    pub(super) orders: Rng,
    /// Orders the debtor placed so far, blocked ones included (numbers the fate streams).
    pub(super) orders_placed: u32,
}

impl DebtorState {
    /// Position of invoice `seq` among the open items.
    pub(super) fn find(&self, seq: u32) -> Option<usize> {
        self.open.iter().position(|i| i.seq == seq)
    }

    /// Whether exactly one open item (as the ledger sees it) has this open amount.
    pub(super) fn amount_is_unique(&self, cents: i64) -> bool {
        self.open
            .iter()
            .filter(|i| i.state != ItemState::Collected && i.open == cents)
            .count()
            == 1
    }

    /// Removes a settled item, remembering it among the recent invoices.
    pub(super) fn settle(&mut self, index: usize) {
        let item = self.open.remove(index);
        if self.recent.len() == RECENT_INVOICES {
            self.recent.pop_front();
        }
        self.recent
            .push_back((item.seq, item.amount, item.reference));
    }
}

/// The invoice number of invoice `seq`.
pub(super) fn invoice_number(seq: u32) -> String {
    format!("INV-{seq:07}")
}

/// The structured reference printed on invoice `seq`.
pub(super) fn payment_reference(style: ReferenceStyle, seq: u32) -> String {
    match style {
        ReferenceStyle::Creditor => creditor_reference(&format!("{seq:07}")),
        ReferenceStyle::Dutch => dutch_payment_reference(u64::from(seq)),
    }
}

/// An amount in cents as a two-decimal amount.
pub(super) fn cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}
