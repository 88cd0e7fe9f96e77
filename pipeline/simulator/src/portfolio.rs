//! Who the debtors are: type, country, name, IBAN, payment method, preferred channel,
//! credit limit, invoicing pattern and behaviour, all drawn from the debtor's own random
//! stream, so debtor `D000042` is the same whatever the size of the portfolio.

use events::{Channel, DebtorType, PaymentMethod};

use crate::behaviour::{Behaviour, Profile};
use crate::config::BehaviourMix;
use crate::iban;
use crate::names;
use crate::rng::Rng;

/// Shares of the debtor types.
const TYPES: [(DebtorType, f64); 4] = [
    (DebtorType::Consumer, 0.55),
    (DebtorType::Business, 0.35),
    (DebtorType::TopCustomer, 0.03),
    (DebtorType::Government, 0.07),
];

/// How a debtor is invoiced.
#[derive(Debug, Clone)]
pub struct InvoicePattern {
    /// Median invoice amount of this debtor, in cents.
    pub median_cents: f64,
    /// Spread (standard deviation of the logarithm) of its invoice amounts.
    pub sigma: f64,
    /// Smallest invoice, in cents.
    pub min_cents: i64,
    /// Share of invoices for a fixed amount (a subscription fee).
    pub fixed_share: f64,
    /// Mean days between invoices (before seasonality).
    pub mean_interval: f64,
    /// Whether invoices come at a steady rhythm (monthly billing) rather than at random.
    pub regular: bool,
    /// Payment terms in days.
    pub terms: i32,
}

/// Which structured reference the debtor's invoices carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceStyle {
    /// ISO 11649 RF creditor reference.
    Creditor,
    /// Dutch 16-digit payment reference.
    Dutch,
}

/// One debtor's fixed attributes.
#[derive(Debug, Clone)]
pub struct Debtor {
    /// Id (`D000001`).
    pub id: String,
    /// Name.
    pub name: String,
    /// Segment.
    pub debtor_type: DebtorType,
    /// ISO 3166 country.
    pub country: &'static str,
    /// How it pays at the start of the run.
    pub method: PaymentMethod,
    /// Where reminders go first.
    pub channel: Channel,
    /// Credit limit in cents.
    pub credit_limit_cents: i64,
    /// The debtor's IBAN.
    pub iban: String,
    /// Behaviour and its parameters.
    pub profile: Profile,
    /// Invoicing pattern.
    pub invoicing: InvoicePattern,
    /// Structured reference printed on its invoices.
    pub reference_style: ReferenceStyle,
}

/// The id of debtor number `index` (0-based): `D000001` for index 0.
pub fn debtor_id(index: u32) -> String {
    format!("D{:06}", u64::from(index) + 1)
}

fn country(debtor_type: DebtorType, rng: &mut Rng) -> &'static str {
    let table: &[(&'static str, f64)] = match debtor_type {
        DebtorType::Consumer => &[("NL", 0.55), ("BE", 0.2), ("DE", 0.15), ("FR", 0.1)],
        DebtorType::Business => &[
            ("NL", 0.45),
            ("DE", 0.25),
            ("BE", 0.15),
            ("FR", 0.1),
            ("LU", 0.03),
            ("AT", 0.02),
        ],
        DebtorType::TopCustomer => &[("NL", 0.4), ("DE", 0.35), ("FR", 0.15), ("BE", 0.1)],
        DebtorType::Government => &[("NL", 0.6), ("BE", 0.2), ("DE", 0.2)],
    };
    rng.pick_weighted(table)
}

fn channel(debtor_type: DebtorType, rng: &mut Rng) -> Channel {
    let table: &[(Channel, f64)] = match debtor_type {
        DebtorType::Consumer => &[
            (Channel::Email, 0.6),
            (Channel::Sms, 0.25),
            (Channel::Letter, 0.15),
        ],
        DebtorType::Business => &[
            (Channel::Email, 0.75),
            (Channel::Phone, 0.15),
            (Channel::Letter, 0.1),
        ],
        DebtorType::TopCustomer => &[(Channel::Phone, 0.6), (Channel::Email, 0.4)],
        DebtorType::Government => &[(Channel::Letter, 0.5), (Channel::Email, 0.5)],
    };
    rng.pick_weighted(table)
}

fn invoicing(debtor_type: DebtorType, rng: &mut Rng) -> InvoicePattern {
    // (type median EUR, sigma, min EUR, fixed share, mean interval days, regular, terms)
    let (median, sigma, min, fixed_share, interval, regular, terms) = match debtor_type {
        DebtorType::TopCustomer => (
            6000.0,
            0.8,
            100,
            0.0,
            5.0,
            false,
            if rng.bernoulli(0.3) { 45 } else { 60 },
        ),
        DebtorType::Business => (
            750.0,
            1.0,
            15,
            0.1,
            20.0,
            false,
            if rng.bernoulli(0.2) { 14 } else { 30 },
        ),
        DebtorType::Consumer => (45.0, 0.6, 5, 0.7, 30.44, true, 14),
        DebtorType::Government => (2500.0, 1.1, 50, 0.0, 30.0, false, 30),
    };
    InvoicePattern {
        median_cents: rng.lognormal(median * 100.0, 0.6),
        sigma: sigma * 0.6,
        min_cents: min * 100,
        fixed_share,
        mean_interval: interval * rng.uniform(0.7, 1.3),
        regular,
        terms,
    }
}

/// Rounds cents up to a whole number of `step` euros.
fn round_to(cents: f64, step_eur: i64) -> i64 {
    let step = step_eur * 100;
    (((cents / step as f64).round() as i64).max(1)) * step
}

/// Draws debtor number `index` for a run of `days` days and returns it with its random
/// stream, positioned after the draws of its attributes.
pub fn draw_debtor(index: u32, seed: u64, behaviours: &BehaviourMix, days: i32) -> (Debtor, Rng) {
    let mut rng = Rng::stream(seed, u64::from(index));
    let debtor_type = rng.pick_weighted(&TYPES);
    let behaviour_table = Behaviour::ALL.map(|b| (b, behaviours.share(b)));
    let behaviour = rng.pick_weighted(&behaviour_table);
    let country = country(debtor_type, &mut rng);
    let name = names::debtor_name(country, debtor_type, &mut rng);
    let iban = iban::generate(country, &mut rng);
    let direct_debit_odds = match debtor_type {
        DebtorType::Consumer => 0.6,
        DebtorType::Business => 0.15,
        _ => 0.0,
    };
    let method = if behaviour == Behaviour::ReversalProne
        || (behaviour.allows_direct_debit() && rng.bernoulli(direct_debit_odds))
    {
        PaymentMethod::DirectDebit
    } else {
        PaymentMethod::BankTransfer
    };
    let channel = channel(debtor_type, &mut rng);
    let invoicing = invoicing(debtor_type, &mut rng);
    let monthly = invoicing.median_cents * 30.44 / invoicing.mean_interval;
    let step = match debtor_type {
        DebtorType::Consumer => 250,
        DebtorType::Business => 500,
        DebtorType::TopCustomer | DebtorType::Government => 5000,
    };
    let credit_limit_cents = round_to(monthly * rng.uniform(2.5, 5.0), step);
    let reference_style = if country == "NL" && rng.bernoulli(0.7) {
        ReferenceStyle::Dutch
    } else {
        ReferenceStyle::Creditor
    };
    let profile = Profile::draw(behaviour, days, &mut rng);
    let debtor = Debtor {
        id: debtor_id(index),
        name,
        debtor_type,
        country,
        method,
        channel,
        credit_limit_cents,
        iban,
        profile,
        invoicing,
        reference_style,
    };
    (debtor, rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_debtor_does_not_depend_on_the_portfolio_size() {
        let mix = BehaviourMix::default();
        let (a, _) = draw_debtor(41, 7, &mix, 365);
        let (b, _) = draw_debtor(41, 7, &mix, 365);
        assert_eq!(a.id, "D000042");
        assert_eq!(
            (a.name, a.iban, a.credit_limit_cents),
            (b.name, b.iban, b.credit_limit_cents)
        );
    }

    #[test]
    fn direct_debit_is_mainly_for_consumers_and_reversal_prone_debtors() {
        let mix = BehaviourMix::default();
        let mut by_type = std::collections::BTreeMap::new();
        for i in 0..5000 {
            let (d, _) = draw_debtor(i, 1, &mix, 365);
            assert!(iban::is_valid(&d.iban));
            assert!(d.credit_limit_cents > 0);
            if d.profile.behaviour == Behaviour::ReversalProne {
                assert_eq!(d.method, PaymentMethod::DirectDebit);
            }
            let e = by_type.entry(d.debtor_type).or_insert((0, 0));
            e.0 += 1;
            if d.method == PaymentMethod::DirectDebit {
                e.1 += 1;
            }
        }
        let share = |t| {
            let (n, dd) = by_type[&t];
            f64::from(dd) / f64::from(n)
        };
        assert!(share(DebtorType::Consumer) > 0.3);
        assert!(share(DebtorType::Business) < 0.2);
    }
}
