//! The simulator's parameters, checked before anything runs: [`SimConfig`] →
//! [`SimConfig::check`] → [`ValidSimConfig`] (or a [`SimError`] naming the parameter).

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::behaviour::Behaviour;
use crate::remittance::NoiseKind;

/// Most debtors one run may hold (their state is kept in memory).
pub const MAX_DEBTORS: u32 = 1_000_000;

/// Longest run, in months.
pub const MAX_MONTHS: u32 = 120;

/// How far two shares that should add up to one may be off (rounding of decimal input).
const SUM_TOLERANCE: f64 = 1e-6;

/// Everything a run depends on. Same config, same events, byte for byte.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimConfig {
    /// Seed of every random draw.
    pub seed: u64,
    /// Number of debtors (ids `D000001` ...).
    pub debtors: u32,
    /// Length of the run in calendar months.
    pub months: u32,
    /// First simulated day.
    pub start: NaiveDate,
    /// How payments are remitted (DESIGN's default noise mix).
    pub noise: NoiseMix,
    /// How debtors behave.
    pub behaviours: BehaviourMix,
    /// Publish a `clock_tick` at the end of every simulated day.
    pub tick_daily: bool,
}

impl Default for SimConfig {
    /// Seed 42, 1000 debtors, 12 months from 2025-01-01, DESIGN's noise mix, the default
    /// behaviour mix, daily clock ticks.
    fn default() -> Self {
        SimConfig {
            seed: 42,
            debtors: 1000,
            months: 12,
            start: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default(),
            noise: NoiseMix::default(),
            behaviours: BehaviourMix::default(),
            tick_daily: true,
        }
    }
}

/// Shares of the payment kinds (they add up to 1), as in DESIGN's table, plus the
/// reversal rate of direct debits and the bank-cost tolerance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoiseMix {
    /// Structured reference (RF or Dutch payment reference), correct. Direct debits
    /// count here.
    pub structured_reference: f64,
    /// Invoice number in the free text, exact.
    pub invoice_number_exact: f64,
    /// Invoice number in the text with a typo, spaces, a prefix or leading zeros dropped.
    pub invoice_number_typo: f64,
    /// Several invoices in one payment (numbers in the text, or none: amount = sum).
    pub several_invoices: f64,
    /// No reference, known IBAN, amount equals exactly one open item of the payer.
    pub no_reference_amount_match: f64,
    /// Partial payment with a reference.
    pub partial_with_reference: f64,
    /// Short by bank costs, within [`NoiseMix::bank_cost_tolerance`].
    pub short_by_bank_costs: f64,
    /// Overpayment with a reference.
    pub overpayment: f64,
    /// Reference to another invoice of the same debtor, amount of the one really paid.
    pub other_invoice_reference: f64,
    /// Unknown payer, no usable reference.
    pub unknown_payer: f64,
    /// Share of direct-debit collections that are returned (on top of the mix).
    pub reversals: f64,
    /// Largest shortfall of a "short by bank costs" payment, in EUR.
    pub bank_cost_tolerance: Decimal,
}

impl Default for NoiseMix {
    /// DESIGN's default mix: 55 / 20 / 8 / 5 / 4 / 3 / 2 / 1.5 / 1 / 0.5 %, 2 % reversals,
    /// bank costs up to 2.50 EUR.
    fn default() -> Self {
        NoiseMix {
            structured_reference: 0.55,
            invoice_number_exact: 0.20,
            invoice_number_typo: 0.08,
            several_invoices: 0.05,
            no_reference_amount_match: 0.04,
            partial_with_reference: 0.03,
            short_by_bank_costs: 0.02,
            overpayment: 0.015,
            other_invoice_reference: 0.01,
            unknown_payer: 0.005,
            reversals: 0.02,
            bank_cost_tolerance: Decimal::new(250, 2),
        }
    }
}

impl NoiseMix {
    /// The configured share of one payment kind.
    pub fn share(&self, kind: NoiseKind) -> f64 {
        match kind {
            NoiseKind::StructuredReference => self.structured_reference,
            NoiseKind::InvoiceNumberExact => self.invoice_number_exact,
            NoiseKind::InvoiceNumberTypo => self.invoice_number_typo,
            NoiseKind::SeveralInvoices => self.several_invoices,
            NoiseKind::NoReferenceAmountMatch => self.no_reference_amount_match,
            NoiseKind::PartialWithReference => self.partial_with_reference,
            NoiseKind::ShortByBankCosts => self.short_by_bank_costs,
            NoiseKind::Overpayment => self.overpayment,
            NoiseKind::OtherInvoiceReference => self.other_invoice_reference,
            NoiseKind::UnknownPayer => self.unknown_payer,
        }
    }

    fn field(kind: NoiseKind) -> &'static str {
        match kind {
            NoiseKind::StructuredReference => "noise.structured_reference",
            NoiseKind::InvoiceNumberExact => "noise.invoice_number_exact",
            NoiseKind::InvoiceNumberTypo => "noise.invoice_number_typo",
            NoiseKind::SeveralInvoices => "noise.several_invoices",
            NoiseKind::NoReferenceAmountMatch => "noise.no_reference_amount_match",
            NoiseKind::PartialWithReference => "noise.partial_with_reference",
            NoiseKind::ShortByBankCosts => "noise.short_by_bank_costs",
            NoiseKind::Overpayment => "noise.overpayment",
            NoiseKind::OtherInvoiceReference => "noise.other_invoice_reference",
            NoiseKind::UnknownPayer => "noise.unknown_payer",
        }
    }
}

/// Shares of the debtor behaviours (they add up to 1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BehaviourMix {
    /// Pays by the due date.
    pub on_time: f64,
    /// Mostly on time, now and then late.
    pub incidentally_late: f64,
    /// Late as a habit.
    pub structurally_late: f64,
    /// Pays invoices in parts.
    pub partial_payer: f64,
    /// Pays several invoices at once in a monthly payment run.
    pub combined_payer: f64,
    /// Gets later month by month.
    pub deteriorating: f64,
    /// Good until a month in the run, then late, then stops paying (bad debt).
    pub turning_bad: f64,
    /// Direct debit, often returned, paid again later.
    pub reversal_prone: f64,
    /// Disputes invoices; some disputes end with a credit note.
    pub disputer: f64,
}

impl Default for BehaviourMix {
    /// 40 / 20 / 10 / 6 / 6 / 6 / 4 / 4 / 4 % in the order of the fields.
    fn default() -> Self {
        BehaviourMix {
            on_time: 0.40,
            incidentally_late: 0.20,
            structurally_late: 0.10,
            partial_payer: 0.06,
            combined_payer: 0.06,
            deteriorating: 0.06,
            turning_bad: 0.04,
            reversal_prone: 0.04,
            disputer: 0.04,
        }
    }
}

impl BehaviourMix {
    /// The configured share of one behaviour.
    pub fn share(&self, behaviour: Behaviour) -> f64 {
        match behaviour {
            Behaviour::OnTime => self.on_time,
            Behaviour::IncidentallyLate => self.incidentally_late,
            Behaviour::StructurallyLate => self.structurally_late,
            Behaviour::PartialPayer => self.partial_payer,
            Behaviour::CombinedPayer => self.combined_payer,
            Behaviour::Deteriorating => self.deteriorating,
            Behaviour::TurningBad => self.turning_bad,
            Behaviour::ReversalProne => self.reversal_prone,
            Behaviour::Disputer => self.disputer,
        }
    }

    fn field(behaviour: Behaviour) -> &'static str {
        match behaviour {
            Behaviour::OnTime => "behaviours.on_time",
            Behaviour::IncidentallyLate => "behaviours.incidentally_late",
            Behaviour::StructurallyLate => "behaviours.structurally_late",
            Behaviour::PartialPayer => "behaviours.partial_payer",
            Behaviour::CombinedPayer => "behaviours.combined_payer",
            Behaviour::Deteriorating => "behaviours.deteriorating",
            Behaviour::TurningBad => "behaviours.turning_bad",
            Behaviour::ReversalProne => "behaviours.reversal_prone",
            Behaviour::Disputer => "behaviours.disputer",
        }
    }
}

/// A refused configuration. Always the caller's mistake (bad input, never retried); the
/// variant names the parameter so a CLI can point at its flag.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// A value outside its allowed range.
    #[error("`{parameter}` is {value}; expected {expected}")]
    OutOfRange {
        /// The parameter, as its field path (`debtors`, `noise.unknown_payer` ...).
        parameter: &'static str,
        /// The refused value.
        value: String,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// Shares that do not add up to one.
    #[error("`{parameter}` shares add up to {sum}; they must add up to 1")]
    SharesDoNotSumToOne {
        /// The group of shares (`noise` or `behaviours`).
        parameter: &'static str,
        /// What they add up to.
        sum: f64,
    },
}

impl SimError {
    /// The parameter the error is about.
    pub fn parameter(&self) -> &'static str {
        match self {
            SimError::OutOfRange { parameter, .. }
            | SimError::SharesDoNotSumToOne { parameter, .. } => parameter,
        }
    }
}

/// A configuration that passed [`SimConfig::check`]; the only way to build a
/// [`crate::Simulator`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidSimConfig {
    config: SimConfig,
    end: NaiveDate,
}

impl ValidSimConfig {
    /// The checked values.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// The first day after the run (`start` + `months`).
    pub fn end(&self) -> NaiveDate {
        self.end
    }

    /// Number of simulated days.
    pub fn days(&self) -> u32 {
        u32::try_from((self.end - self.config.start).num_days()).unwrap_or(0)
    }
}

fn out_of_range(parameter: &'static str, value: impl ToString, expected: &'static str) -> SimError {
    SimError::OutOfRange {
        parameter,
        value: value.to_string(),
        expected,
    }
}

fn check_share(parameter: &'static str, value: f64) -> Result<(), SimError> {
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(out_of_range(parameter, value, "a share between 0 and 1"))
    }
}

impl SimConfig {
    /// Checks every parameter; the first bad one is refused with its name.
    pub fn check(self) -> Result<ValidSimConfig, SimError> {
        if self.debtors == 0 || self.debtors > MAX_DEBTORS {
            return Err(out_of_range(
                "debtors",
                self.debtors,
                "1 to 1000000 debtors",
            ));
        }
        if self.months == 0 || self.months > MAX_MONTHS {
            return Err(out_of_range("months", self.months, "1 to 120 months"));
        }
        if !(1990..=2200).contains(&self.start.year()) {
            return Err(out_of_range(
                "start",
                self.start,
                "a date in the years 1990 to 2200",
            ));
        }
        let end = self
            .start
            .checked_add_months(Months::new(self.months))
            .ok_or_else(|| {
                out_of_range("months", self.months, "a run that ends on a valid date")
            })?;

        let mut sum = 0.0;
        for kind in NoiseKind::ALL {
            let share = self.noise.share(kind);
            check_share(NoiseMix::field(kind), share)?;
            sum += share;
        }
        if (sum - 1.0).abs() > SUM_TOLERANCE {
            return Err(SimError::SharesDoNotSumToOne {
                parameter: "noise",
                sum,
            });
        }
        if !(self.noise.reversals.is_finite() && (0.0..=0.5).contains(&self.noise.reversals)) {
            return Err(out_of_range(
                "noise.reversals",
                self.noise.reversals,
                "a share of direct debits between 0 and 0.5",
            ));
        }
        let tolerance = self.noise.bank_cost_tolerance;
        if tolerance < Decimal::new(1, 2)
            || tolerance > Decimal::new(2500, 2)
            || tolerance.scale() > 2
        {
            return Err(out_of_range(
                "noise.bank_cost_tolerance",
                tolerance,
                "an amount from 0.01 to 25.00 EUR with at most 2 decimals",
            ));
        }

        let mut sum = 0.0;
        for behaviour in Behaviour::ALL {
            let share = self.behaviours.share(behaviour);
            check_share(BehaviourMix::field(behaviour), share)?;
            sum += share;
        }
        if (sum - 1.0).abs() > SUM_TOLERANCE {
            return Err(SimError::SharesDoNotSumToOne {
                parameter: "behaviours",
                sum,
            });
        }
        Ok(ValidSimConfig { config: self, end })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(config: SimConfig) -> SimError {
        match config.check() {
            Ok(_) => panic!("config was accepted"),
            Err(e) => e,
        }
    }

    #[test]
    fn default_config_is_accepted_and_spans_a_year() {
        let valid = SimConfig::default().check().expect("default is valid");
        assert_eq!(valid.days(), 365);
        assert_eq!(
            valid.end(),
            NaiveDate::from_ymd_opt(2026, 1, 1).expect("date")
        );
    }

    #[test]
    fn check_refuses_bad_parameters_naming_them() {
        let cases: Vec<(SimConfig, &str)> = vec![
            (
                SimConfig {
                    debtors: 0,
                    ..SimConfig::default()
                },
                "debtors",
            ),
            (
                SimConfig {
                    debtors: MAX_DEBTORS + 1,
                    ..SimConfig::default()
                },
                "debtors",
            ),
            (
                SimConfig {
                    months: 0,
                    ..SimConfig::default()
                },
                "months",
            ),
            (
                SimConfig {
                    months: 121,
                    ..SimConfig::default()
                },
                "months",
            ),
            (
                SimConfig {
                    start: NaiveDate::from_ymd_opt(1850, 1, 1).expect("date"),
                    ..SimConfig::default()
                },
                "start",
            ),
            (
                SimConfig {
                    noise: NoiseMix {
                        unknown_payer: 0.05,
                        ..NoiseMix::default()
                    },
                    ..SimConfig::default()
                },
                "noise",
            ),
            (
                SimConfig {
                    noise: NoiseMix {
                        overpayment: -0.015,
                        ..NoiseMix::default()
                    },
                    ..SimConfig::default()
                },
                "noise.overpayment",
            ),
            (
                SimConfig {
                    noise: NoiseMix {
                        structured_reference: f64::NAN,
                        ..NoiseMix::default()
                    },
                    ..SimConfig::default()
                },
                "noise.structured_reference",
            ),
            (
                SimConfig {
                    noise: NoiseMix {
                        reversals: 0.9,
                        ..NoiseMix::default()
                    },
                    ..SimConfig::default()
                },
                "noise.reversals",
            ),
            (
                SimConfig {
                    noise: NoiseMix {
                        bank_cost_tolerance: Decimal::ZERO,
                        ..NoiseMix::default()
                    },
                    ..SimConfig::default()
                },
                "noise.bank_cost_tolerance",
            ),
            (
                SimConfig {
                    behaviours: BehaviourMix {
                        on_time: 0.5,
                        ..BehaviourMix::default()
                    },
                    ..SimConfig::default()
                },
                "behaviours",
            ),
            (
                SimConfig {
                    behaviours: BehaviourMix {
                        disputer: 1.5,
                        ..BehaviourMix::default()
                    },
                    ..SimConfig::default()
                },
                "behaviours.disputer",
            ),
        ];
        for (config, parameter) in cases {
            let err = refused(config);
            assert_eq!(err.parameter(), parameter, "{err}");
            assert!(
                err.to_string().contains(parameter),
                "message names the parameter: {err}"
            );
        }
    }
}
