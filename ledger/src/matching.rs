//! Matching (cash application): which items, or which debtor, a payment pays. Rules in
//! order of confidence; reads the ledger and changes nothing (`payments` books the
//! outcome). Whatever is not unambiguous becomes an exception with its candidates listed,
//! never a guess presented as a match.
//!
//! **The payer** is known from the payment's `debtor_id`, else from its IBAN (master data
//! or learnt from earlier payments); later from a reference naming a settled item of a
//! debtor, and last (only together with an exact amount) from a distinctive name.
//!
//! **Named items** (rules 1 and 2):
//! 1. [`MatchRule::StructuredReference`]: a structured reference whose checksum holds (RF
//!    creditor reference or Dutch payment reference) equals an item's payment reference.
//! 2. Otherwise the remittance text (and a structured reference that named nothing) is
//!    read (`remittance`): [`MatchRule::InvoiceNumberInText`] for an invoice number
//!    written exactly, [`MatchRule::InvoiceNumberLoose`] for its digits with another
//!    prefix, spaces or leading zeros dropped, [`MatchRule::InvoiceNumberTypo`] for digits
//!    one edit away (`typos`). Loose and typo readings count only for items of the known
//!    payer (a mistyped number is often someone else's invoice); without a known payer
//!    they count only for numbers of four digits or more and when exactly one candidate
//!    has the payment's amount. A reading that fits several items of the payer equally
//!    (and the amount does not decide) is an ambiguous reference. Another debtor's
//!    invoice named exactly is paid only when the amount pays it exactly.
//!
//! **The amount** then decides how named items are paid:
//! - one named item: the amount equals its open amount; or, when exactly one *other* open
//!   item of the same debtor has exactly the amount, that item is paid instead
//!   ([`MatchRule::OtherItemOfAmount`]: a reference to the wrong invoice) unless the
//!   amount is also explained by the named item (within the bank-cost tolerance of it, or
//!   a round amount as people pay in part or round up): then, or with two such items, the
//!   payment is ambiguous; otherwise the named item is paid: short within the tolerance
//!   (the rest is written off or left open by policy), in part, or over (the rest is
//!   unapplied credit);
//! - several named items: all of them when they add up; else the one subset that adds up
//!   exactly (two are ambiguous); else all in text order (partial or over).
//!
//! **No named item, payer known**:
//! 3. [`MatchRule::PayerAndAmount`]: exactly one open item of the payer has the amount
//!    (several: ambiguous, or the oldest by [`crate::config::SameAmountPolicy`]);
//!    [`MatchRule::NameAndAmount`] when the payer is known only by name.
//! 4. [`MatchRule::PayerAndCombination`]: exactly one set of the payer's open items adds
//!    up to the amount (`combinations`, bounded; two sets are ambiguous, a search beyond
//!    its caps is a task).
//! 5. [`MatchRule::PayerKnownUnapplied`]: nothing fits: the money is the payer's
//!    unapplied credit (or, when [`crate::config::UnexplainedPaymentPolicy`] says so,
//!    [`MatchRule::OldestOpenItems`]: applied to its open items oldest first, the rest
//!    credit).
//!
//! **Otherwise** the payment is an exception ([`UnmatchedReason::UnknownPayer`]) with the
//! debtors that have an open item of exactly the amount as candidates.
//!
//! Amount-based rules (3, 4 and the other-item check) consider only open items in the
//! payment's currency that are not disputed.

use events::{Currency, PaymentReceived};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::combinations::{Combination, SearchLimits, find_combination};
use crate::config::{SameAmountPolicy, UnexplainedPaymentPolicy};
use crate::index::Key;
use crate::items::OpenItem;
use crate::ledger::{DigitNumbers, Ledger};
use crate::references::{is_valid_structured_reference, normalized_reference};
use crate::remittance::{digit_core, digit_groups, exact_keys, tokens};
use crate::typos::{one_edit_variants, within_one_edit};

/// Fewest digits in a number read as a typo of another (shorter numbers have too many
/// neighbours to mean anything).
const MIN_TYPO_DIGITS: usize = 3;

/// Fewest digits in a number read loosely or as a typo when the payer is unknown (and the
/// amount must confirm it).
const MIN_WEAK_DIGITS: usize = 4;

/// Most named items whose subsets are tried when they do not add up.
const MAX_NAMED_SUBSET_ITEMS: usize = 12;

/// The rule that applied a payment (or one allocation of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchRule {
    /// The structured reference (checksum valid) named the item.
    StructuredReference,
    /// The remittance text named the item's invoice number exactly.
    InvoiceNumberInText,
    /// The text held the invoice number's digits with another prefix, spaces or leading
    /// zeros dropped, and the item is the payer's.
    InvoiceNumberLoose,
    /// The text held a number one edit away from the invoice number (typo), and the item
    /// is the only such item of the payer (or the only one with the amount).
    InvoiceNumberTypo,
    /// A reference named another item of the debtor with a different open amount; this
    /// item is the only one of the debtor with exactly the payment's amount.
    OtherItemOfAmount,
    /// Known payer, amount equal to exactly one of its open items.
    PayerAndAmount,
    /// Payer known only by a distinctive name, amount equal to exactly one of its open
    /// items.
    NameAndAmount,
    /// Known payer, exactly one set of its open items adds up to the amount.
    PayerAndCombination,
    /// Known payer, nothing explains the amount, and the policy says to apply it to the
    /// payer's open items oldest first (see [`crate::config::UnexplainedPaymentPolicy`]).
    OldestOpenItems,
    /// Known payer, nothing to apply to: kept as unapplied credit.
    PayerKnownUnapplied,
}

impl MatchRule {
    /// Every rule, in order of confidence.
    pub const ALL: [MatchRule; 10] = [
        MatchRule::StructuredReference,
        MatchRule::InvoiceNumberInText,
        MatchRule::InvoiceNumberLoose,
        MatchRule::InvoiceNumberTypo,
        MatchRule::OtherItemOfAmount,
        MatchRule::PayerAndAmount,
        MatchRule::NameAndAmount,
        MatchRule::PayerAndCombination,
        MatchRule::OldestOpenItems,
        MatchRule::PayerKnownUnapplied,
    ];

    /// Label value.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchRule::StructuredReference => "structured_reference",
            MatchRule::InvoiceNumberInText => "invoice_number_in_text",
            MatchRule::InvoiceNumberLoose => "invoice_number_loose",
            MatchRule::InvoiceNumberTypo => "invoice_number_typo",
            MatchRule::OtherItemOfAmount => "other_item_of_amount",
            MatchRule::PayerAndAmount => "payer_and_amount",
            MatchRule::NameAndAmount => "name_and_amount",
            MatchRule::PayerAndCombination => "payer_and_combination",
            MatchRule::OldestOpenItems => "oldest_open_items",
            MatchRule::PayerKnownUnapplied => "payer_known_unapplied",
        }
    }

    /// Whether the payment named the item (a reference or an invoice number): only then
    /// can a shortfall within the tolerance be written off.
    pub fn names_the_item(self) -> bool {
        matches!(
            self,
            MatchRule::StructuredReference
                | MatchRule::InvoiceNumberInText
                | MatchRule::InvoiceNumberLoose
                | MatchRule::InvoiceNumberTypo
        )
    }

    /// Confidence of an allocation by this rule when the amount is exactly explained, in
    /// percent: how sure the rule is of the item (a prior, not a probability fitted to
    /// data). An allocation whose amount is not exactly the item's open amount (partial,
    /// short, over) gets [`PARTIAL_CONFIDENCE_PENALTY`] less.
    pub fn confidence(self) -> u8 {
        match self {
            MatchRule::StructuredReference => 99,
            MatchRule::InvoiceNumberInText => 97,
            MatchRule::InvoiceNumberLoose => 95,
            MatchRule::InvoiceNumberTypo => 90,
            MatchRule::OtherItemOfAmount => 85,
            MatchRule::PayerAndAmount => 90,
            MatchRule::NameAndAmount => 75,
            MatchRule::PayerAndCombination => 85,
            MatchRule::OldestOpenItems => 50,
            MatchRule::PayerKnownUnapplied => 90,
        }
    }
}

/// Percentage points taken off a rule's confidence when the amount does not settle the
/// item exactly.
pub const PARTIAL_CONFIDENCE_PENALTY: u8 = 10;

/// Why a payment became an exception (a task for a person).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnmatchedReason {
    /// Nobody identified the payer and no reference named an item.
    UnknownPayer,
    /// A number in the text fits several items equally (typo neighbours).
    AmbiguousReference,
    /// The amount fits several open items equally (of the payer, or besides the one the
    /// reference named).
    AmbiguousAmount,
    /// Several sets of the payer's open items add up to the amount.
    AmbiguousCombination,
    /// The payer has too many open items (or the search took too long) to decide which
    /// add up to the amount.
    CombinationSearchLimit,
}

impl UnmatchedReason {
    /// Every reason.
    pub const ALL: [UnmatchedReason; 5] = [
        UnmatchedReason::UnknownPayer,
        UnmatchedReason::AmbiguousReference,
        UnmatchedReason::AmbiguousAmount,
        UnmatchedReason::AmbiguousCombination,
        UnmatchedReason::CombinationSearchLimit,
    ];

    /// Label value.
    pub fn as_str(self) -> &'static str {
        match self {
            UnmatchedReason::UnknownPayer => "unknown_payer",
            UnmatchedReason::AmbiguousReference => "ambiguous_reference",
            UnmatchedReason::AmbiguousAmount => "ambiguous_amount",
            UnmatchedReason::AmbiguousCombination => "ambiguous_combination",
            UnmatchedReason::CombinationSearchLimit => "combination_search_limit",
        }
    }
}

/// One item a payment is to be applied to, and the rule that found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// Invoice number.
    pub(crate) invoice: Key,
    /// The rule.
    pub(crate) rule: MatchRule,
}

/// What matching decided for one payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MatchOutcome {
    /// Apply to these items, in order; the rest is unapplied credit of `debtor_id`.
    Items {
        /// The debtor the payment is booked to.
        debtor_id: Key,
        /// Items in allocation order.
        targets: Vec<Target>,
        /// Whether the payment's IBAN may be learnt as `debtor_id`'s.
        learn_iban: bool,
    },
    /// Keep as unapplied credit of this debtor.
    Unapplied {
        /// The payer.
        debtor_id: Key,
        /// Whether the payment's IBAN may be learnt as the payer's.
        learn_iban: bool,
    },
    /// A task for a person.
    Exception {
        /// Why.
        reason: UnmatchedReason,
        /// The debtor, when known.
        debtor_id: Option<Key>,
        /// Candidate debtors, best first.
        candidates: Vec<Key>,
        /// Candidate invoices, best first.
        candidate_invoices: Vec<Key>,
    },
}

/// How the payer was identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PayerSource {
    /// The payment names its debtor (direct debit, card).
    DebtorId,
    /// The IBAN is known (master data or learnt).
    Iban,
    /// A reference named an already settled item of the debtor.
    SettledReference,
    /// A distinctive name only one debtor has.
    Name,
}

/// One place in the text that names items.
#[derive(Debug)]
struct Mention {
    /// Open items it may mean, in invoice-number order.
    candidates: Vec<Key>,
    /// The rule of the reading.
    rule: MatchRule,
    /// Counts only when exactly one candidate has the payment's amount (a loose or typo
    /// reading without a known payer).
    weak: bool,
}

/// What the texts of a payment say.
#[derive(Debug, Default)]
struct TextReading {
    mentions: Vec<Mention>,
    /// Exact invoice numbers of open items of another debtor than the known payer.
    foreign: Vec<Key>,
    /// Debtor of an exactly named item that is already settled.
    settled_owner: Option<Key>,
}

impl Ledger {
    /// Decides how to apply `p` (the rules above).
    pub(crate) fn plan_match(&self, p: &PaymentReceived) -> MatchOutcome {
        let mut payer: Option<(Key, PayerSource)> = p
            .debtor_id
            .as_deref()
            .map(|d| (Key::from(d), PayerSource::DebtorId))
            .or_else(|| {
                p.counterparty_iban
                    .as_deref()
                    .and_then(|iban| self.ibans.owner(iban))
                    .map(|d| (Key::from(d), PayerSource::Iban))
            });
        let payer_id = payer.as_ref().map(|(d, _)| d.as_str());

        // Rule 1.
        let mut settled_owner: Option<Key> = None;
        let mut structured_found = false;
        if let Some(reference) = &p.structured_reference {
            let norm = normalized_reference(reference);
            if is_valid_structured_reference(&norm)
                && let Some(invoice) = self.by_reference.get(norm.as_ref())
                && let Some(item) = self.item(invoice)
            {
                structured_found = true;
                if item.is_open() {
                    let named = vec![Target {
                        invoice: invoice.clone(),
                        rule: MatchRule::StructuredReference,
                    }];
                    return self.apply_named(p, named, payer.as_ref().map(|x| x.1));
                }
                settled_owner = Some(item.debtor_id.clone());
            }
        }

        // Rule 2.
        let mut texts: Vec<&str> = Vec::with_capacity(2);
        if !structured_found && let Some(r) = &p.structured_reference {
            texts.push(r);
        }
        if let Some(t) = &p.remittance_text {
            texts.push(t);
        }
        let reading = self.read_texts(&texts, payer_id);
        if settled_owner.is_none() {
            settled_owner = reading.settled_owner.clone();
        }
        let mut named: Vec<Target> = Vec::new();
        let mut ambiguous: Vec<Key> = Vec::new();
        for mention in &reading.mentions {
            let fits: Vec<&Key> = mention
                .candidates
                .iter()
                .filter(|i| self.item(i).is_some_and(|it| it.open_amount == p.amount))
                .collect();
            let chosen = match (mention.candidates.len(), fits.len()) {
                (_, 1) => Some(fits[0].clone()),
                (1, _) if !mention.weak => Some(mention.candidates[0].clone()),
                _ if mention.weak => None,
                _ => {
                    ambiguous.extend(mention.candidates.iter().cloned());
                    None
                }
            };
            if let Some(invoice) = chosen
                && !named.iter().any(|t| t.invoice == invoice)
            {
                named.push(Target {
                    invoice,
                    rule: mention.rule,
                });
            }
        }
        if !ambiguous.is_empty() {
            for t in &named {
                if !ambiguous.contains(&t.invoice) {
                    ambiguous.push(t.invoice.clone());
                }
            }
            return MatchOutcome::Exception {
                reason: UnmatchedReason::AmbiguousReference,
                debtor_id: payer.map(|x| x.0),
                candidates: Vec::new(),
                candidate_invoices: ambiguous,
            };
        }
        if !named.is_empty() {
            return self.apply_named(p, named, payer.as_ref().map(|x| x.1));
        }
        // Another debtor's invoices, named exactly, that the amount pays exactly.
        if !reading.foreign.is_empty() {
            let sum: Option<Decimal> = reading
                .foreign
                .iter()
                .map(|i| {
                    self.item(i)
                        .filter(|it| it.currency == p.currency)
                        .map(|it| it.open_amount)
                })
                .sum();
            if sum == Some(p.amount)
                && let Some(owner) = reading
                    .foreign
                    .first()
                    .and_then(|i| self.item(i))
                    .map(|i| &i.debtor_id)
            {
                return MatchOutcome::Items {
                    debtor_id: owner.clone(),
                    targets: reading
                        .foreign
                        .iter()
                        .map(|i| Target {
                            invoice: i.clone(),
                            rule: MatchRule::InvoiceNumberInText,
                        })
                        .collect(),
                    learn_iban: false,
                };
            }
        }

        // Rules 3 to 5.
        if payer.is_none() {
            payer = settled_owner.map(|d| (d, PayerSource::SettledReference));
        }
        if payer.is_none()
            && self.config.identify_payer_by_name
            && let Some(name) = &p.counterparty_name
        {
            payer = self
                .names
                .owner(name)
                .map(|d| (Key::from(d), PayerSource::Name));
        }
        match payer {
            Some((debtor_id, source)) => self.apply_by_amount(p, debtor_id, source),
            None => self.unknown_payer(p),
        }
    }

    /// Reads the texts for invoice numbers (rule 2).
    fn read_texts(&self, texts: &[&str], payer: Option<&str>) -> TextReading {
        let mut reading = TextReading::default();
        let own = |item: &OpenItem| payer.is_none_or(|d| d == item.debtor_id);
        for text in texts {
            let toks = tokens(text);
            let mut consumed = vec![false; toks.len()];
            for (index, token) in toks.iter().enumerate() {
                for (k, key) in exact_keys(token.raw).enumerate() {
                    let Some(item) = self.by_number.get(key.as_str()).and_then(|i| self.item(i))
                    else {
                        continue;
                    };
                    if own(item) {
                        consumed[index] = true;
                        if item.is_open() {
                            reading.mentions.push(Mention {
                                candidates: vec![item.invoice_number.clone()],
                                rule: MatchRule::InvoiceNumberInText,
                                weak: false,
                            });
                        } else if reading.settled_owner.is_none() {
                            reading.settled_owner = Some(item.debtor_id.clone());
                        }
                    } else if item.is_open() && !reading.foreign.contains(&item.invoice_number) {
                        reading.foreign.push(item.invoice_number.clone());
                    }
                    if k == 0 {
                        break; // the whole token named an item: its parts need not be tried
                    }
                }
            }
            for group in digit_groups(&toks) {
                if consumed[group.first_token..=group.last_token]
                    .iter()
                    .any(|c| *c)
                {
                    continue;
                }
                if let Some(mention) = self.read_digits(&group.readings(), payer, &mut reading) {
                    reading.mentions.push(mention);
                }
            }
        }
        reading
    }

    /// Reads one number written loosely (or mistyped): its digit cores, best first.
    fn read_digits(
        &self,
        readings: &[String],
        payer: Option<&str>,
        reading: &mut TextReading,
    ) -> Option<Mention> {
        let own = |item: &OpenItem| payer.is_none_or(|d| d == item.debtor_id);
        let min_digits = if payer.is_some() { 1 } else { MIN_WEAK_DIGITS };
        for core in readings.iter().filter(|c| c.len() >= min_digits) {
            let Some(invoices) = self.by_digits.get(core.as_str()) else {
                continue;
            };
            let items: Vec<&OpenItem> = invoices
                .as_slice()
                .iter()
                .filter_map(|i| self.item(i))
                .filter(|i| own(i))
                .collect();
            if items.iter().any(|i| !i.is_open()) && payer.is_some() {
                // It names a settled item of the payer: a second payment, not a typo.
                if reading.settled_owner.is_none() {
                    reading.settled_owner = payer.map(Key::from);
                }
                return None;
            }
            let open: Vec<Key> = items
                .iter()
                .filter(|i| i.is_open())
                .map(|i| i.invoice_number.clone())
                .collect();
            if !open.is_empty() {
                return Some(Mention {
                    candidates: open,
                    rule: MatchRule::InvoiceNumberLoose,
                    weak: payer.is_none(),
                });
            }
        }
        // One edit away.
        let min_digits = if payer.is_some() {
            MIN_TYPO_DIGITS
        } else {
            MIN_WEAK_DIGITS
        };
        for core in readings.iter().filter(|c| c.len() >= min_digits) {
            let candidates: Vec<Key> = match payer {
                Some(debtor_id) => {
                    let account = self.accounts.get(debtor_id)?;
                    let mut found: Vec<Key> = self
                        .open_items_of(account)
                        .filter(|i| {
                            within_one_edit(
                                digit_core(&i.invoice_number).as_bytes(),
                                core.as_bytes(),
                            )
                        })
                        .map(|i| i.invoice_number.clone())
                        .collect();
                    found.sort();
                    found
                }
                None => one_edit_variants(core)
                    .iter()
                    .filter_map(|v| self.by_digits.get(v.as_str()))
                    .flat_map(DigitNumbers::as_slice)
                    .filter(|i| self.item(i).is_some_and(OpenItem::is_open))
                    .cloned()
                    .collect(),
            };
            if !candidates.is_empty() {
                return Some(Mention {
                    candidates,
                    rule: MatchRule::InvoiceNumberTypo,
                    weak: payer.is_none(),
                });
            }
        }
        None
    }

    /// The amount decides how the named items are paid.
    fn apply_named(
        &self,
        p: &PaymentReceived,
        named: Vec<Target>,
        payer_source: Option<PayerSource>,
    ) -> MatchOutcome {
        let items: Vec<&OpenItem> = named.iter().filter_map(|t| self.item(&t.invoice)).collect();
        let Some(first) = items.first() else {
            return self.unknown_payer(p);
        };
        let debtor_id = first.debtor_id.clone();
        let strong = named.iter().all(|t| {
            matches!(
                t.rule,
                MatchRule::StructuredReference | MatchRule::InvoiceNumberInText
            )
        });
        // Learn the IBAN only from what identifies the debtor on its own: the debtor id, or
        // an exact reference when the IBAN said nothing.
        let learn_iban = match payer_source {
            Some(PayerSource::DebtorId) => true,
            None => strong,
            Some(_) => false,
        };
        let items_outcome = |targets: Vec<Target>| MatchOutcome::Items {
            debtor_id: debtor_id.clone(),
            targets,
            learn_iban,
        };
        let foreign_currency = items.iter().any(|i| i.currency != p.currency);
        if foreign_currency || items.len() != named.len() {
            // The booking raises the currency mismatch.
            return items_outcome(named);
        }

        if let [item] = items[..] {
            if item.open_amount == p.amount {
                return items_outcome(named);
            }
            let others: Vec<&OpenItem> = self
                .amount_candidates(&item.debtor_id, p.currency)
                .filter(|o| o.invoice_number != item.invoice_number && o.open_amount == p.amount)
                .collect();
            // Within the tolerance of the named item (bank costs, a little over) the amount
            // explains the named item as well as another one of exactly that amount; so
            // does a round amount, which is how people pay in part or round up.
            let tolerance = &self.config.short_payment_tolerance;
            let near = tolerance.covers(item.open_amount, p.amount)
                || tolerance.covers(p.amount, item.open_amount);
            let round = p.amount.fract().is_zero();
            return match others[..] {
                [] => items_outcome(named),
                [other] if !near && !round => items_outcome(vec![Target {
                    invoice: other.invoice_number.clone(),
                    rule: MatchRule::OtherItemOfAmount,
                }]),
                _ => MatchOutcome::Exception {
                    reason: UnmatchedReason::AmbiguousAmount,
                    debtor_id: Some(item.debtor_id.clone()),
                    candidates: Vec::new(),
                    candidate_invoices: std::iter::once(item)
                        .chain(others)
                        .map(|i| i.invoice_number.clone())
                        .collect(),
                },
            };
        }

        let sum: Decimal = items.iter().map(|i| i.open_amount).sum();
        if sum == p.amount || items.len() > MAX_NAMED_SUBSET_ITEMS {
            return items_outcome(named);
        }
        let amounts: Vec<Decimal> = items.iter().map(|i| i.open_amount).collect();
        let limits = SearchLimits {
            min_items: 1,
            max_items: MAX_NAMED_SUBSET_ITEMS,
            max_steps: self.config.combination_max_steps,
        };
        match find_combination(&amounts, p.amount, limits) {
            Combination::Unique(subset) => {
                items_outcome(subset.into_iter().map(|i| named[i].clone()).collect())
            }
            Combination::Ambiguous(..) => MatchOutcome::Exception {
                reason: UnmatchedReason::AmbiguousAmount,
                debtor_id: Some(debtor_id.clone()),
                candidates: Vec::new(),
                candidate_invoices: named.into_iter().map(|t| t.invoice).collect(),
            },
            Combination::None | Combination::TooLarge => items_outcome(named),
        }
    }

    /// Rules 3 to 5 for a payer known without a named item.
    fn apply_by_amount(
        &self,
        p: &PaymentReceived,
        debtor_id: Key,
        source: PayerSource,
    ) -> MatchOutcome {
        let learn_iban = matches!(
            source,
            PayerSource::DebtorId | PayerSource::SettledReference
        );
        let same: Vec<&OpenItem> = self
            .amount_candidates(&debtor_id, p.currency)
            .filter(|i| i.open_amount == p.amount)
            .collect();
        let one = |item: &OpenItem, rule: MatchRule| MatchOutcome::Items {
            debtor_id: debtor_id.clone(),
            targets: vec![Target {
                invoice: item.invoice_number.clone(),
                rule,
            }],
            learn_iban,
        };
        if source == PayerSource::Name {
            return match same[..] {
                [item] => one(item, MatchRule::NameAndAmount),
                _ => self.unknown_payer(p),
            };
        }
        match (&same[..], self.config.same_amount_policy) {
            ([item], _) | ([item, ..], SameAmountPolicy::OldestFirst) => {
                return one(item, MatchRule::PayerAndAmount);
            }
            ([], _) => {}
            (several, SameAmountPolicy::Ask) => {
                return MatchOutcome::Exception {
                    reason: UnmatchedReason::AmbiguousAmount,
                    debtor_id: Some(debtor_id.clone()),
                    candidates: vec![debtor_id.clone()],
                    candidate_invoices: several.iter().map(|i| i.invoice_number.clone()).collect(),
                };
            }
        }

        // Rule 4.
        let open: Vec<&OpenItem> = self.amount_candidates(&debtor_id, p.currency).collect();
        let amounts: Vec<Decimal> = open.iter().map(|i| i.open_amount).collect();
        let limits = SearchLimits {
            min_items: 2,
            max_items: self.config.combination_max_items,
            max_steps: self.config.combination_max_steps,
        };
        let invoices = |indices: &[usize]| -> Vec<Key> {
            indices
                .iter()
                .map(|&i| open[i].invoice_number.clone())
                .collect()
        };
        match find_combination(&amounts, p.amount, limits) {
            Combination::Unique(indices) => MatchOutcome::Items {
                debtor_id: debtor_id.clone(),
                targets: invoices(&indices)
                    .into_iter()
                    .map(|invoice| Target {
                        invoice,
                        rule: MatchRule::PayerAndCombination,
                    })
                    .collect(),
                learn_iban,
            },
            Combination::Ambiguous(a, b) => {
                let mut union: Vec<usize> = a.into_iter().chain(b).collect();
                union.sort_unstable();
                union.dedup();
                MatchOutcome::Exception {
                    reason: UnmatchedReason::AmbiguousCombination,
                    debtor_id: Some(debtor_id.clone()),
                    candidates: vec![debtor_id],
                    candidate_invoices: invoices(&union),
                }
            }
            Combination::TooLarge => MatchOutcome::Exception {
                reason: UnmatchedReason::CombinationSearchLimit,
                debtor_id: Some(debtor_id.clone()),
                candidates: vec![debtor_id],
                candidate_invoices: Vec::new(),
            },
            // Rule 5.
            Combination::None => match self.config.unexplained_payment_policy {
                UnexplainedPaymentPolicy::KeepAsCredit => MatchOutcome::Unapplied {
                    debtor_id,
                    learn_iban,
                },
                UnexplainedPaymentPolicy::OldestFirst if open.is_empty() => {
                    MatchOutcome::Unapplied {
                        debtor_id,
                        learn_iban,
                    }
                }
                UnexplainedPaymentPolicy::OldestFirst => MatchOutcome::Items {
                    debtor_id: debtor_id.clone(),
                    targets: open
                        .iter()
                        .map(|i| Target {
                            invoice: i.invoice_number.clone(),
                            rule: MatchRule::OldestOpenItems,
                        })
                        .collect(),
                    learn_iban,
                },
            },
        }
    }

    /// Nobody identified: a task with the debtors that have an open item of the amount.
    fn unknown_payer(&self, p: &PaymentReceived) -> MatchOutcome {
        MatchOutcome::Exception {
            reason: UnmatchedReason::UnknownPayer,
            debtor_id: None,
            candidates: self.candidates_of_amount(p.amount, p.currency),
            candidate_invoices: Vec::new(),
        }
    }

    /// Open items of `debtor_id` in `currency` that amount-based rules may pay (not
    /// disputed), oldest due date first.
    fn amount_candidates<'a>(
        &'a self,
        debtor_id: &str,
        currency: Currency,
    ) -> impl Iterator<Item = &'a OpenItem> + 'a {
        self.open_items(debtor_id)
            .filter(move |i| i.currency == currency && !i.is_disputed())
    }

    /// Debtors with an open item of exactly `amount` in `currency`, in debtor id order, at
    /// most the configured number.
    fn candidates_of_amount(&self, amount: Decimal, currency: Currency) -> Vec<Key> {
        self.open_amounts
            .debtors(currency, amount, self.config.max_unmatched_candidates)
    }
}
