//! Matching: which items (or which debtor) a payment pays, by rules in order of
//! confidence. Reads the ledger, changes nothing; `payments` books the outcome.
//!
//! 1. [`MatchRule::StructuredReference`]: the structured reference (valid RF or Dutch
//!    checksum) equals an open item's payment reference.
//! 2. [`MatchRule::InvoiceNumberInText`]: invoice numbers of open items appear as tokens
//!    in the remittance text (or in a structured reference that failed rule 1), in text
//!    order.
//! 3. [`MatchRule::PayerAndAmount`]: the payer is known and exactly one of its open items
//!    (several: the oldest due date, ties by invoice number) has the payment's amount.
//! 4. [`MatchRule::PayerKnownUnapplied`]: the payer is known, nothing matches: the money
//!    is kept as unapplied credit.
//! 5. Otherwise the payment is unmatched, with candidate debtors.
//!
//! The payer is known from the payment's `debtor_id`, else from its IBAN (master data or
//! learnt), else from a reference that names an item of the debtor which is already
//! settled (a second payment of a paid invoice is that debtor's credit, not a task).

use events::{Currency, PaymentReceived};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ledger::{Ledger, open_amount_key};
use crate::references::{is_valid_structured_reference, normalize_reference};

/// The rule that applied a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchRule {
    /// The structured reference named the item.
    StructuredReference,
    /// The remittance text named the item's invoice number.
    InvoiceNumberInText,
    /// Known payer, amount equal to one open item.
    PayerAndAmount,
    /// Known payer, nothing to apply to: kept as unapplied credit.
    PayerKnownUnapplied,
}

impl MatchRule {
    /// Label value.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchRule::StructuredReference => "structured_reference",
            MatchRule::InvoiceNumberInText => "invoice_number_in_text",
            MatchRule::PayerAndAmount => "payer_and_amount",
            MatchRule::PayerKnownUnapplied => "payer_known_unapplied",
        }
    }
}

/// What matching decided for one payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MatchOutcome {
    /// Apply to these open items, in order.
    Items {
        /// The rule that found them.
        rule: MatchRule,
        /// Invoice numbers, in allocation order.
        invoices: Vec<String>,
        /// The payer if known independently of the items.
        payer: Option<String>,
    },
    /// Keep as unapplied credit of this debtor.
    Unapplied {
        /// The payer.
        debtor_id: String,
    },
    /// Nobody found: a task with these candidate debtors.
    Unmatched {
        /// Candidate debtors, best first.
        candidates: Vec<String>,
    },
}

/// Characters that separate tokens in remittance text. Dashes, dots and slashes are kept:
/// they occur inside invoice numbers.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            ',' | ';' | ':' | '(' | ')' | '[' | ']' | '#' | '"' | '\'' | '+' | '*' | '|'
        )
}

/// Normalised tokens of a text, in order.
pub(crate) fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(is_separator)
        .map(normalize_reference)
        .filter(|t| !t.is_empty())
}

impl Ledger {
    /// Decides how to apply `p` (rules 1 to 5 above).
    pub(crate) fn plan_match(&self, p: &PaymentReceived) -> MatchOutcome {
        let mut settled_owner: Option<String> = None;

        // Rule 1.
        if let Some(reference) = &p.structured_reference {
            let norm = normalize_reference(reference);
            if is_valid_structured_reference(&norm)
                && let Some(invoice) = self.by_reference.get(&norm)
                && let Some(item) = self.item(invoice)
            {
                if item.is_open() {
                    return MatchOutcome::Items {
                        rule: MatchRule::StructuredReference,
                        invoices: vec![invoice.clone()],
                        payer: p.debtor_id.clone(),
                    };
                }
                settled_owner = Some(item.debtor_id.clone());
            }
        }

        // Rule 2: the structured reference (when rule 1 did not apply) and the free text.
        let texts = p
            .structured_reference
            .iter()
            .chain(p.remittance_text.iter());
        let mut invoices: Vec<String> = Vec::new();
        for token in texts.flat_map(|t| tokens(t)) {
            let Some(invoice) = self.by_number.get(&token) else {
                continue;
            };
            let Some(item) = self.item(invoice) else {
                continue;
            };
            if item.is_open() {
                if !invoices.contains(invoice) {
                    invoices.push(invoice.clone());
                }
            } else if settled_owner.is_none() {
                settled_owner = Some(item.debtor_id.clone());
            }
        }
        if !invoices.is_empty() {
            return MatchOutcome::Items {
                rule: MatchRule::InvoiceNumberInText,
                invoices,
                payer: p.debtor_id.clone(),
            };
        }

        // Rules 3 and 4.
        let payer = p
            .debtor_id
            .clone()
            .or_else(|| {
                p.counterparty_iban
                    .as_deref()
                    .and_then(|iban| self.ibans.owner(iban))
                    .map(str::to_owned)
            })
            .or(settled_owner);
        if let Some(debtor_id) = payer {
            if let Some(invoice) = self.oldest_open_item_of_amount(&debtor_id, p.amount, p.currency)
            {
                return MatchOutcome::Items {
                    rule: MatchRule::PayerAndAmount,
                    invoices: vec![invoice],
                    payer: Some(debtor_id),
                };
            }
            return MatchOutcome::Unapplied { debtor_id };
        }

        // Rule 5.
        MatchOutcome::Unmatched {
            candidates: self.candidates_of_amount(p.amount, p.currency),
        }
    }

    /// The debtor's open item in `currency` whose open amount is exactly `amount`; of
    /// several, the oldest due date, ties by invoice number.
    fn oldest_open_item_of_amount(
        &self,
        debtor_id: &str,
        amount: Decimal,
        currency: Currency,
    ) -> Option<String> {
        let account = self.accounts.get(debtor_id)?;
        account
            .open_items()
            .find(|i| i.currency == currency && i.open_amount == amount)
            .map(|i| i.invoice_number.clone())
    }

    /// Debtors with an open item of exactly `amount` in `currency`, in debtor id order, at
    /// most the configured number.
    fn candidates_of_amount(&self, amount: Decimal, currency: Currency) -> Vec<String> {
        let mut candidates: Vec<String> = Vec::new();
        if let Some(set) = self.by_open_amount.get(&open_amount_key(currency, amount)) {
            for (debtor_id, _) in set {
                if candidates.len() >= self.config.max_unmatched_candidates {
                    break;
                }
                if candidates.last() != Some(debtor_id) {
                    candidates.push(debtor_id.clone());
                }
            }
        }
        candidates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_on_separators_and_normalise() {
        let t: Vec<String> = tokens("Payment: inv-000123, INV 7; (ref#x.y) 2025/01").collect();
        assert_eq!(
            t,
            ["PAYMENT", "INV000123", "INV", "7", "REF", "XY", "2025/01"]
        );
    }
}
