//! The credit bureau: once a quarter it rates every debtor on a ten-grade scale with a
//! one-year probability of default. The grade follows the debtor's latent risk (its
//! behaviour, its own offset, its trend) plus the bureau's noise, so ratings correlate
//! with behaviour without giving it away.

use events::DebtorType;
use rust_decimal::Decimal;

use crate::rng::Rng;

/// The grades, best first.
pub const GRADES: [&str; 10] = ["AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D"];

/// Probability of default within a year per grade, in ten-thousandths (3 is 0.0003).
const PD_TEN_THOUSANDTHS: [i64; 10] = [3, 7, 15, 40, 120, 350, 900, 1800, 3000, 6000];

/// Standard deviation of the bureau's own noise, in grades.
const BUREAU_NOISE: f64 = 0.6;

/// Name of the bureau that rates a debtor of this type.
pub fn bureau_name(debtor_type: DebtorType) -> &'static str {
    match debtor_type {
        DebtorType::Consumer => "ConsumerCheck",
        _ => "EuroCredit",
    }
}

/// Shift of the latent risk by debtor type (public bodies and key accounts rate better).
pub fn type_adjustment(debtor_type: DebtorType) -> f64 {
    match debtor_type {
        DebtorType::Government => -1.5,
        DebtorType::TopCustomer => -0.8,
        DebtorType::Business => 0.0,
        DebtorType::Consumer => 0.3,
    }
}

/// A grade and its probability of default for a debtor of `latent` risk.
pub fn rate(latent: f64, rng: &mut Rng) -> (&'static str, Decimal) {
    let grade = (latent + rng.gaussian(0.0, BUREAU_NOISE))
        .round()
        .clamp(0.0, 9.0) as usize;
    (GRADES[grade], Decimal::new(PD_TEN_THOUSANDTHS[grade], 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_latent_risk_gives_worse_grades_and_higher_default_probability() {
        let mut rng = Rng::seed_from(1);
        let mean_grade = |latent: f64, rng: &mut Rng| {
            let total: usize = (0..2000)
                .map(|_| {
                    let (g, _) = rate(latent, rng);
                    GRADES.iter().position(|x| *x == g).unwrap_or(0)
                })
                .sum();
            total as f64 / 2000.0
        };
        assert!(mean_grade(5.0, &mut rng) > mean_grade(2.0, &mut rng) + 2.5);
        let (_, pd_low) = rate(-5.0, &mut rng);
        let (_, pd_high) = rate(20.0, &mut rng);
        assert!(pd_low < pd_high && pd_high <= Decimal::ONE);
    }
}
