//! Ledger configuration and the crate's error type.

use serde::{Deserialize, Serialize};

/// Default most candidate debtors listed on an unmatched payment.
pub const DEFAULT_MAX_UNMATCHED_CANDIDATES: usize = 5;

/// Longest grace period accepted, in days (a year).
pub const MAX_GRACE_DAYS: i64 = 366;

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
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            grace_days_before_overdue: 0,
            max_unmatched_candidates: DEFAULT_MAX_UNMATCHED_CANDIDATES,
        }
    }
}

impl LedgerConfig {
    /// Refuses values that make no sense, naming the field.
    pub fn validate(&self) -> Result<(), LedgerError> {
        if !(0..=MAX_GRACE_DAYS).contains(&self.grace_days_before_overdue) {
            return Err(LedgerError::InvalidConfig {
                field: "grace_days_before_overdue",
                reason: format!(
                    "{} is outside 0..={MAX_GRACE_DAYS}",
                    self.grace_days_before_overdue
                ),
            });
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
}
