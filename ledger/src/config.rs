//! Ledger configuration and the crate's error type.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Default most candidate debtors listed on an unmatched payment.
pub const DEFAULT_MAX_UNMATCHED_CANDIDATES: usize = 5;

/// Longest grace period accepted, in days (a year).
pub const MAX_GRACE_DAYS: i64 = 366;

/// Default most open items of one payer the combination search considers.
pub const DEFAULT_COMBINATION_MAX_ITEMS: usize = 24;

/// Default most search steps (items tried) the combination search may take per payment.
pub const DEFAULT_COMBINATION_MAX_STEPS: usize = 100_000;

/// Largest `combination_max_items` accepted.
pub const MAX_COMBINATION_ITEMS: usize = 64;

/// Default window of the portfolio KPIs (DSO, CEI, cure rate), in days.
pub const DEFAULT_KPI_WINDOW_DAYS: u32 = 30;

/// Longest KPI window accepted, in days (a year).
pub const MAX_KPI_WINDOW_DAYS: u32 = 365;

/// What to do with the small rest of an item a payment left open within the bank-cost
/// tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShortPaymentPolicy {
    /// Write the rest off (recorded as a write-off allocation of the payment).
    #[default]
    WriteOff,
    /// Leave the rest open on the item.
    LeaveOpen,
}

/// What to do when a known payer pays, without a usable reference, an amount that several
/// of its open items have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SameAmountPolicy {
    /// A task listing the items: a person decides.
    #[default]
    Ask,
    /// Apply it to the item with the oldest due date (ties: the lowest invoice number).
    OldestFirst,
}

/// What to do with a payment of a known payer that no reference, amount or combination
/// explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnexplainedPaymentPolicy {
    /// Keep it as the payer's unapplied credit (nothing is guessed; the credit shows in
    /// the standing and a person or a later payment applies it).
    #[default]
    KeepAsCredit,
    /// Apply it to the payer's open items, oldest due date first (not disputed, same
    /// currency); the rest is unapplied credit.
    OldestFirst,
}

/// How much less than an item's open amount a payment may be and still count as paying
/// it in full (bank costs deducted on the way). Both limits apply when both are set (the
/// lower wins); with neither set nothing is within tolerance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShortPaymentTolerance {
    /// Largest difference, in the payment's currency.
    pub absolute: Option<Decimal>,
    /// Largest difference as a percentage of the item's open amount (10 means 10 %).
    pub percent: Option<Decimal>,
}

impl Default for ShortPaymentTolerance {
    /// 5.00 and at most 10 % of the open amount.
    fn default() -> Self {
        ShortPaymentTolerance {
            absolute: Some(Decimal::new(500, 2)),
            percent: Some(Decimal::TEN),
        }
    }
}

impl ShortPaymentTolerance {
    /// Whether a payment of `paid` on an item with `open` open is short by no more than
    /// the tolerance (and short at all).
    pub fn covers(&self, open: Decimal, paid: Decimal) -> bool {
        let short = open - paid;
        if short <= Decimal::ZERO || paid <= Decimal::ZERO {
            return false;
        }
        if self.absolute.is_none() && self.percent.is_none() {
            return false;
        }
        let within_absolute = self.absolute.is_none_or(|a| short <= a);
        let within_percent = self
            .percent
            .is_none_or(|p| short * Decimal::ONE_HUNDRED <= open * p);
        within_absolute && within_percent
    }
}

/// How the ledger behaves. Build it with [`Default`] and change fields, then call
/// [`LedgerConfig::validate`] before handing it to [`crate::Ledger::new`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LedgerConfig {
    /// Days after the due date before an item counts as overdue (0: the day after the due
    /// date).
    pub grace_days_before_overdue: i64,
    /// Most candidate debtors listed on an unmatched payment.
    pub max_unmatched_candidates: usize,
    /// Bank costs: how short a payment naming an item may be and still settle it.
    pub short_payment_tolerance: ShortPaymentTolerance,
    /// What happens to the rest within the tolerance.
    pub short_payment_policy: ShortPaymentPolicy,
    /// A known payer, no reference, several open items of exactly the amount.
    pub same_amount_policy: SameAmountPolicy,
    /// A known payer, no reference, and nothing explains the amount.
    pub unexplained_payment_policy: UnexplainedPaymentPolicy,
    /// Most open items of the payer the combination search considers (items larger than
    /// the payment do not count); with more, the payment becomes a task.
    pub combination_max_items: usize,
    /// Most search steps per payment; a search that needs more becomes a task.
    pub combination_max_steps: usize,
    /// Identify a payer whose IBAN is unknown by a distinctive name that exactly one
    /// debtor has (used only with an exact amount of one of its open items).
    pub identify_payer_by_name: bool,
    /// Window of the portfolio KPIs that look back (DSO, CEI, cure rate), in days of event
    /// time; the ledger keeps one day-end snapshot per day of it (see [`crate::kpis`]).
    pub kpi_window_days: u32,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            grace_days_before_overdue: 0,
            max_unmatched_candidates: DEFAULT_MAX_UNMATCHED_CANDIDATES,
            short_payment_tolerance: ShortPaymentTolerance::default(),
            short_payment_policy: ShortPaymentPolicy::default(),
            same_amount_policy: SameAmountPolicy::default(),
            unexplained_payment_policy: UnexplainedPaymentPolicy::default(),
            combination_max_items: DEFAULT_COMBINATION_MAX_ITEMS,
            combination_max_steps: DEFAULT_COMBINATION_MAX_STEPS,
            identify_payer_by_name: true,
            kpi_window_days: DEFAULT_KPI_WINDOW_DAYS,
        }
    }
}

impl LedgerConfig {
    /// Refuses values that make no sense, naming the field.
    pub fn validate(&self) -> Result<(), LedgerError> {
        let invalid =
            |field: &'static str, reason: String| Err(LedgerError::InvalidConfig { field, reason });
        if !(0..=MAX_GRACE_DAYS).contains(&self.grace_days_before_overdue) {
            return invalid(
                "grace_days_before_overdue",
                format!(
                    "{} is outside 0..={MAX_GRACE_DAYS}",
                    self.grace_days_before_overdue
                ),
            );
        }
        if let Some(a) = self.short_payment_tolerance.absolute
            && a < Decimal::ZERO
        {
            return invalid(
                "short_payment_tolerance.absolute",
                format!("{a} is negative"),
            );
        }
        if let Some(p) = self.short_payment_tolerance.percent
            && !(Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(&p)
        {
            return invalid(
                "short_payment_tolerance.percent",
                format!("{p} is outside 0..=100"),
            );
        }
        if !(2..=MAX_COMBINATION_ITEMS).contains(&self.combination_max_items) {
            return invalid(
                "combination_max_items",
                format!(
                    "{} is outside 2..={MAX_COMBINATION_ITEMS}",
                    self.combination_max_items
                ),
            );
        }
        if self.combination_max_steps == 0 {
            return invalid("combination_max_steps", "must be at least 1".to_owned());
        }
        if !(1..=MAX_KPI_WINDOW_DAYS).contains(&self.kpi_window_days) {
            return invalid(
                "kpi_window_days",
                format!(
                    "{} is outside 1..={MAX_KPI_WINDOW_DAYS}",
                    self.kpi_window_days
                ),
            );
        }
        Ok(())
    }
}

/// Errors of the ledger crate. Applying events never fails (odd input becomes an effect);
/// only configuration and reference building can be refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// A configuration value is out of range (a bad-input class error: refuse the config).
    #[error("ledger config `{field}`: {reason}")]
    InvalidConfig {
        /// The field concerned.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A reference could not be built.
    #[error(transparent)]
    Reference(#[from] crate::references::ReferenceError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn default_config_is_valid() {
        assert_eq!(LedgerConfig::default().validate(), Ok(()));
    }

    #[test]
    fn negative_grace_is_refused_with_the_field_named() {
        let config = LedgerConfig {
            grace_days_before_overdue: -1,
            ..LedgerConfig::default()
        };
        let err = config.validate().err();
        assert!(matches!(
            err,
            Some(LedgerError::InvalidConfig {
                field: "grace_days_before_overdue",
                ..
            })
        ));
    }

    #[test]
    fn bad_tolerance_and_search_caps_are_refused_with_the_field_named() {
        let field = |config: LedgerConfig| match config.validate() {
            Err(LedgerError::InvalidConfig { field, .. }) => field,
            _ => "",
        };
        let mut c = LedgerConfig::default();
        c.short_payment_tolerance.absolute = Some(d("-1"));
        assert_eq!(field(c), "short_payment_tolerance.absolute");
        let mut c = LedgerConfig::default();
        c.short_payment_tolerance.percent = Some(d("101"));
        assert_eq!(field(c), "short_payment_tolerance.percent");
        let c = LedgerConfig {
            combination_max_items: 1,
            ..LedgerConfig::default()
        };
        assert_eq!(field(c), "combination_max_items");
        let c = LedgerConfig {
            combination_max_steps: 0,
            ..LedgerConfig::default()
        };
        assert_eq!(field(c), "combination_max_steps");
        for days in [0, MAX_KPI_WINDOW_DAYS + 1] {
            let c = LedgerConfig {
                kpi_window_days: days,
                ..LedgerConfig::default()
            };
            assert_eq!(field(c), "kpi_window_days");
        }
        for days in [1, MAX_KPI_WINDOW_DAYS] {
            let c = LedgerConfig {
                kpi_window_days: days,
                ..LedgerConfig::default()
            };
            assert_eq!(c.validate(), Ok(()));
        }
    }

    #[test]
    fn a_config_without_the_kpi_window_gets_the_default() {
        let c: Result<LedgerConfig, _> =
            serde_json::from_str(r#"{"grace_days_before_overdue": 3}"#);
        let c = c.unwrap_or_default();
        assert_eq!(c.grace_days_before_overdue, 3);
        assert_eq!(c.kpi_window_days, DEFAULT_KPI_WINDOW_DAYS);
    }

    #[test]
    fn tolerance_takes_the_lower_of_both_limits() {
        let t = ShortPaymentTolerance::default();
        assert!(t.covers(d("100"), d("97.50")));
        assert!(t.covers(d("100"), d("95")));
        assert!(!t.covers(d("100"), d("94.99")), "more than 5.00");
        assert!(t.covers(d("20"), d("18")));
        assert!(!t.covers(d("20"), d("17.99")), "more than 10 %");
        assert!(!t.covers(d("100"), d("100")), "not short");
        assert!(!t.covers(d("100"), d("101")), "over");
        let only_absolute = ShortPaymentTolerance {
            percent: None,
            ..ShortPaymentTolerance::default()
        };
        assert!(only_absolute.covers(d("20"), d("15")));
        let none = ShortPaymentTolerance {
            absolute: None,
            percent: None,
        };
        assert!(!none.covers(d("100"), d("99.99")));
    }
}
