//! Returned direct debits: which collections come back (steered to the configured share
//! of all collections, with the debtor's behaviour weighting who is hit) and with which
//! SEPA return reason.

use crate::rng::Rng;

/// SEPA (ISO 20022) return reasons of ordinary returns, with their weights.
const REASONS: [(&str, f64); 6] = [
    ("AM04", 0.45), // insufficient funds
    ("MD06", 0.20), // refund requested by the debtor
    ("MS02", 0.15), // refused by the debtor
    ("MS03", 0.10), // reason not specified
    ("AC04", 0.05), // account closed
    ("MD01", 0.05), // no valid mandate
];

/// Return reasons of a debtor that has stopped paying.
const BAD_DEBT_REASONS: [(&str, f64); 2] = [("AM04", 0.7), ("AC04", 0.3)];

/// How many collections ahead the rate looks when it corrects itself.
const WINDOW: f64 = 500.0;

/// Decides which collections are returned so that, over a run, the configured share of
/// direct debits is returned. A collection's chance is its debtor's weight times a base
/// rate that the running count of returns corrects.
#[derive(Debug, Clone)]
pub struct ReversalRate {
    target: f64,
    collections: u64,
    reversals: u64,
    weight_sum: f64,
}

impl ReversalRate {
    /// A rate aiming at `target` (share of collections returned).
    pub fn new(target: f64) -> ReversalRate {
        ReversalRate {
            target,
            collections: 0,
            reversals: 0,
            weight_sum: 0.0,
        }
    }

    /// Decides whether one collection of a debtor with this `weight` is returned;
    /// `forced` returns it whatever the rate (the debtor has no money left).
    pub fn decide(&mut self, weight: f64, forced: bool, rng: &mut Rng) -> bool {
        self.collections += 1;
        self.weight_sum += weight;
        let returned = forced || {
            let mean_weight = self.weight_sum / self.collections as f64;
            let shortfall =
                (self.target * (self.collections as f64 + WINDOW) - self.reversals as f64).max(0.0);
            let base = shortfall / (WINDOW * mean_weight);
            rng.bernoulli((weight * base).min(1.0))
        };
        if returned {
            self.reversals += 1;
        }
        returned
    }
}

/// A return reason for an ordinary return.
pub fn reason(rng: &mut Rng) -> &'static str {
    rng.pick_weighted(&REASONS)
}

/// A return reason for a debtor that has stopped paying.
pub fn bad_debt_reason(rng: &mut Rng) -> &'static str {
    rng.pick_weighted(&BAD_DEBT_REASONS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_follow_the_target_and_the_weights() {
        let mut rate = ReversalRate::new(0.02);
        let mut rng = Rng::seed_from(12);
        let (mut heavy, mut heavy_returned, mut light_returned) = (0, 0, 0);
        let n = 200_000;
        for i in 0..n {
            let weight = if i % 10 == 0 { 15.0 } else { 1.0 };
            let returned = rate.decide(weight, false, &mut rng);
            if weight > 1.0 {
                heavy += 1;
                heavy_returned += u32::from(returned);
            } else {
                light_returned += u32::from(returned);
            }
        }
        let share = f64::from(heavy_returned + light_returned) / f64::from(n);
        assert!((share - 0.02).abs() < 0.002, "share {share}");
        let heavy_rate = f64::from(heavy_returned) / f64::from(heavy);
        let light_rate = f64::from(light_returned) / f64::from(n - heavy);
        assert!(
            heavy_rate > 8.0 * light_rate,
            "{heavy_rate} vs {light_rate}"
        );
    }
}
