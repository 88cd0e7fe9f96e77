//! Master data and bureau ratings: what the ledger stores about a debtor besides money.

use chrono::{DateTime, Utc};
use events::{BureauRating, DebtorUpdated, LimitOverride};

use crate::account::{BureauRatingRecord, MasterData};
use crate::effects::LedgerEffect;
use crate::index::Key;
use crate::ledger::Ledger;
use crate::references::normalize_reference;

impl Ledger {
    /// `debtor_updated`: replaces the master data; the limit change (if any) is a standing
    /// change.
    pub(crate) fn update_debtor(&mut self, e: &DebtorUpdated, effects: &mut Vec<LedgerEffect>) {
        let created = !self.accounts.contains_key(e.debtor_id.as_str());
        let account = self.account_mut(&e.debtor_id, Some(e.currency));
        account.currency = Some(e.currency);
        let old_limit = account.credit_limit();
        let learnt = account.learnt_ibans.clone();
        let new_ibans: Vec<String> = e.ibans.iter().map(|i| normalize_reference(i)).collect();
        let old_name = account.master.as_ref().map(|m| m.name.clone());
        let old_ibans = account
            .master
            .replace(MasterData {
                name: e.name.clone(),
                debtor_type: e.debtor_type,
                country: e.country.clone(),
                payment_method: e.payment_method,
                preferred_channel: e.preferred_channel,
                credit_limit: e.credit_limit,
                currency: e.currency,
                ibans: new_ibans.clone(),
            })
            .map(|m| m.ibans)
            .unwrap_or_default();
        for iban in old_ibans.iter().filter(|i| !new_ibans.contains(i)) {
            self.ibans
                .unregister(iban, &e.debtor_id, learnt.contains(iban));
        }
        for iban in &new_ibans {
            self.ibans.register(iban, &e.debtor_id);
        }
        if old_name.as_deref() != Some(e.name.as_str()) {
            self.names
                .rename(&e.debtor_id, old_name.as_deref(), &e.name);
        }
        if created || old_limit != Some(e.credit_limit) {
            self.touched.insert(Key::from(e.debtor_id.as_str()));
        }
        effects.push(LedgerEffect::DebtorUpdated {
            debtor_id: e.debtor_id.clone(),
            created,
        });
    }

    /// `limit_override`: the limit set by hand takes effect at once and stays in force
    /// over later master data, until the next override.
    pub(crate) fn override_limit(&mut self, e: &LimitOverride, effects: &mut Vec<LedgerEffect>) {
        // A limit only means something in the account's currency.
        if self
            .accounts
            .get(e.debtor_id.as_str())
            .and_then(|a| a.currency)
            .is_some_and(|c| c != e.currency)
        {
            effects.push(LedgerEffect::Ignored {
                kind: events::EventKind::LimitOverride,
                key: e.debtor_id.clone(),
                reason: crate::effects::IgnoredReason::CurrencyMismatch,
            });
            return;
        }
        let account = self.account_mut(&e.debtor_id, Some(e.currency));
        let previous = account.credit_limit();
        account.limit_override = Some(e.credit_limit);
        if previous != Some(e.credit_limit) {
            self.touched.insert(Key::from(e.debtor_id.as_str()));
        }
        effects.push(LedgerEffect::LimitOverridden {
            debtor_id: e.debtor_id.clone(),
            credit_limit: e.credit_limit,
            previous,
        });
    }

    /// `bureau_rating`: keeps the latest rating on the account.
    pub(crate) fn record_rating(
        &mut self,
        e: &BureauRating,
        event_time: DateTime<Utc>,
        effects: &mut Vec<LedgerEffect>,
    ) {
        let account = self.account_mut(&e.debtor_id, None);
        account.bureau_rating = Some(BureauRatingRecord {
            bureau: e.bureau.clone(),
            rating: e.rating.clone(),
            probability_of_default: e.probability_of_default,
            rated_at: event_time,
        });
        effects.push(LedgerEffect::BureauRatingRecorded {
            debtor_id: e.debtor_id.clone(),
            bureau: e.bureau.clone(),
            rating: e.rating.clone(),
        });
    }
}
