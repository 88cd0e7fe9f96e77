//! Exposure: the open balance against the credit limit, reported on each crossing.

use rust_decimal::Decimal;

use crate::account::DebtorAccount;
use crate::effects::LedgerEffect;

/// How far the open balance is above a known credit limit (`None`: not above, or no
/// limit).
pub(crate) fn excess_over_limit(account: &DebtorAccount) -> Option<Decimal> {
    let limit = account.credit_limit()?;
    (account.open_balance > limit).then(|| account.open_balance - limit)
}

/// Compares the account's open balance with its limit and, when the side changed since
/// the last report, records the new side and returns the effect. No limit: never above.
pub(crate) fn transition(account: &mut DebtorAccount) -> Option<LedgerEffect> {
    let limit = account.credit_limit();
    let above = excess_over_limit(account).is_some();
    if above == account.exposure_above_limit {
        return None;
    }
    account.exposure_above_limit = above;
    let debtor_id = account.debtor_id.clone();
    let open_balance = account.open_balance;
    let credit_limit = limit.unwrap_or_default();
    Some(if above {
        LedgerEffect::ExposureAboveLimit {
            debtor_id,
            open_balance,
            credit_limit,
        }
    } else {
        LedgerEffect::ExposureWithinLimit {
            debtor_id,
            open_balance,
            credit_limit,
        }
    })
}
