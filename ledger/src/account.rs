//! Debtor accounts: master data, balances and the debtor's open items in due-date order
//! (the items themselves are in the ledger's item table).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use events::{Channel, Currency, DebtorType, PaymentMethod};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::items::OpenItem;

/// Master data as the last `debtor_updated` event gave it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterData {
    /// Legal or personal name.
    pub name: String,
    /// Segment.
    pub debtor_type: DebtorType,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// How the debtor usually pays.
    pub payment_method: PaymentMethod,
    /// Where reminders go first.
    pub preferred_channel: Channel,
    /// Credit limit.
    pub credit_limit: Decimal,
    /// Currency of the limit (and of the account).
    pub currency: Currency,
    /// IBANs the master data knows (normalised).
    pub ibans: Vec<String>,
}

/// The latest credit bureau rating of a debtor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BureauRatingRecord {
    /// Bureau name.
    pub bureau: String,
    /// Rating as the bureau writes it.
    pub rating: String,
    /// Probability of default within a year, if given.
    pub probability_of_default: Option<Decimal>,
    /// Event time of the rating.
    pub rated_at: DateTime<Utc>,
}

/// One debtor: master data (when known), balances and its open items' due-date index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebtorAccount {
    /// Debtor id.
    pub debtor_id: String,
    /// Master data, `None` while the debtor is only known from other events.
    pub master: Option<MasterData>,
    /// Account currency: master data's, else that of the first event with money.
    pub currency: Option<Currency>,
    /// Sum of open amounts.
    pub open_balance: Decimal,
    /// Sum of open amounts of overdue items.
    pub overdue_balance: Decimal,
    /// Money received but not applied to an item.
    pub unapplied_credit: Decimal,
    /// Whether the open balance is above the limit (as last reported).
    pub exposure_above_limit: bool,
    /// IBANs learnt from matched payments (normalised).
    pub learnt_ibans: BTreeSet<String>,
    /// Latest bureau rating.
    pub bureau_rating: Option<BureauRatingRecord>,
    /// Promises not yet kept or broken, by promise id.
    pub open_promises: BTreeSet<String>,
    /// A limit set by hand (`limit_override`); it takes precedence over master data's.
    #[serde(default)]
    pub limit_override: Option<Decimal>,
    /// Open items in due-date order (due date, invoice number); the items themselves are
    /// the ledger's ([`crate::Ledger::open_items`]).
    pub(crate) open_index: BTreeSet<(NaiveDate, crate::index::Key)>,
    /// Items of a checkpoint written when accounts held their items (before the ledger's
    /// item table): moved to the table on loading, never written.
    #[serde(default, rename = "items", skip_serializing)]
    pub(crate) legacy_items: BTreeMap<String, OpenItem>,
}

impl DebtorAccount {
    /// An empty account with no master data.
    pub(crate) fn new(debtor_id: &str) -> DebtorAccount {
        DebtorAccount {
            debtor_id: debtor_id.to_owned(),
            master: None,
            currency: None,
            open_balance: Decimal::ZERO,
            overdue_balance: Decimal::ZERO,
            unapplied_credit: Decimal::ZERO,
            exposure_above_limit: false,
            learnt_ibans: BTreeSet::new(),
            bureau_rating: None,
            open_promises: BTreeSet::new(),
            limit_override: None,
            open_index: BTreeSet::new(),
            legacy_items: BTreeMap::new(),
        }
    }

    /// Credit limit: the one set by hand, else master data's, if any.
    pub fn credit_limit(&self) -> Option<Decimal> {
        self.limit_override
            .or_else(|| self.master.as_ref().map(|m| m.credit_limit))
    }

    /// Preferred channel, when master data gave one.
    pub fn preferred_channel(&self) -> Option<Channel> {
        self.master.as_ref().map(|m| m.preferred_channel)
    }

    /// Segment, when master data gave one.
    pub fn debtor_type(&self) -> Option<DebtorType> {
        self.master.as_ref().map(|m| m.debtor_type)
    }

    /// The open items as (due date, invoice number), oldest due date first (ties by
    /// invoice number), without looking the items up; the items:
    /// [`crate::Ledger::open_items_of`].
    pub fn open_item_keys(&self) -> impl Iterator<Item = (NaiveDate, &str)> + '_ {
        self.open_index.iter().map(|(d, n)| (*d, n.as_str()))
    }

    /// Number of open items.
    pub fn open_item_count(&self) -> usize {
        self.open_index.len()
    }
}
