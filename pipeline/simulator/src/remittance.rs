//! What a payer writes on a bank transfer: the [`NoiseKind`] of each payment (DESIGN's
//! table), the [`KindQuota`] that keeps the kinds on the configured mix, and the texts
//! themselves (invoice numbers exact or mangled, several numbers, nothing useful).
//!
//! Some payments have their kind forced by the debtor's behaviour (a direct debit always
//! carries the structured reference, a part payer pays in parts, a combined payer pays
//! several invoices at once). The quota counts those too and steers the free draws so
//! that the whole run still follows the mix.

use serde::Serialize;

use crate::config::NoiseMix;
use crate::rng::Rng;

/// How a payment is remitted: one row of DESIGN's noise table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseKind {
    /// Structured reference (RF or Dutch payment reference), correct.
    StructuredReference,
    /// Invoice number in the free text, exact.
    InvoiceNumberExact,
    /// Invoice number in the text with a typo, spaces, a prefix or leading zeros dropped.
    InvoiceNumberTypo,
    /// Several invoices in one payment (their numbers in the text, or none).
    SeveralInvoices,
    /// No reference, known IBAN, amount equals exactly one open item of the payer.
    NoReferenceAmountMatch,
    /// Partial payment with a reference.
    PartialWithReference,
    /// Short by bank costs within the tolerance.
    ShortByBankCosts,
    /// Overpayment with a reference.
    Overpayment,
    /// Reference to another invoice of the same debtor, amount of the one really paid.
    OtherInvoiceReference,
    /// Unknown payer, no usable reference.
    UnknownPayer,
}

impl NoiseKind {
    /// Every kind, in DESIGN's order.
    pub const ALL: [NoiseKind; 10] = [
        NoiseKind::StructuredReference,
        NoiseKind::InvoiceNumberExact,
        NoiseKind::InvoiceNumberTypo,
        NoiseKind::SeveralInvoices,
        NoiseKind::NoReferenceAmountMatch,
        NoiseKind::PartialWithReference,
        NoiseKind::ShortByBankCosts,
        NoiseKind::Overpayment,
        NoiseKind::OtherInvoiceReference,
        NoiseKind::UnknownPayer,
    ];

    /// The snake_case name (as in the ground truth).
    pub fn as_str(self) -> &'static str {
        match self {
            NoiseKind::StructuredReference => "structured_reference",
            NoiseKind::InvoiceNumberExact => "invoice_number_exact",
            NoiseKind::InvoiceNumberTypo => "invoice_number_typo",
            NoiseKind::SeveralInvoices => "several_invoices",
            NoiseKind::NoReferenceAmountMatch => "no_reference_amount_match",
            NoiseKind::PartialWithReference => "partial_with_reference",
            NoiseKind::ShortByBankCosts => "short_by_bank_costs",
            NoiseKind::Overpayment => "overpayment",
            NoiseKind::OtherInvoiceReference => "other_invoice_reference",
            NoiseKind::UnknownPayer => "unknown_payer",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// How many payments ahead the quota looks: at equilibrium the free draws follow the mix
/// exactly; a kind that forced payments have over-used gets less weight.
const QUOTA_WINDOW: f64 = 200.0;

/// Keeps the payment kinds of a run on the configured mix.
#[derive(Debug, Clone)]
pub struct KindQuota {
    shares: [f64; 10],
    counts: [u64; 10],
    total: u64,
}

impl KindQuota {
    /// A quota for `mix`.
    pub fn new(mix: &NoiseMix) -> KindQuota {
        KindQuota {
            shares: NoiseKind::ALL.map(|k| mix.share(k)),
            counts: [0; 10],
            total: 0,
        }
    }

    /// Counts one payment of `kind`.
    pub fn record(&mut self, kind: NoiseKind) {
        self.counts[kind.index()] += 1;
        self.total += 1;
    }

    /// Draws a kind for a payment that may be any of the `applicable` kinds (indexed as
    /// [`NoiseKind::ALL`]). Weights are each kind's shortfall against its share of the
    /// payments so far plus a window, so the run converges on the mix.
    pub fn draw(&self, rng: &mut Rng, applicable: &[bool; 10]) -> NoiseKind {
        let horizon = self.total as f64 + QUOTA_WINDOW;
        let mut weights = [0.0; 10];
        for i in 0..10 {
            if applicable[i] {
                weights[i] = (self.shares[i] * horizon - self.counts[i] as f64).max(0.0);
            }
        }
        if weights.iter().all(|w| *w <= 0.0) {
            for i in 0..10 {
                if applicable[i] {
                    weights[i] = self.shares[i];
                }
            }
        }
        if weights.iter().all(|w| *w <= 0.0) {
            return NoiseKind::InvoiceNumberExact;
        }
        NoiseKind::ALL[rng.weighted_index(&weights)]
    }
}

/// The invoice number in a sentence of the payer's language.
pub fn invoice_text(number: &str, country: &str, rng: &mut Rng) -> String {
    let template: &str = match country {
        "NL" => rng.pick(&[
            "Factuur {}",
            "factuurnummer {}",
            "{}",
            "Betaling factuur {}",
        ]),
        "BE" => rng.pick(&["Factuur {}", "Facture {}", "{}"]),
        "DE" | "AT" => rng.pick(&["Rechnung {}", "RE {}", "{}", "Rechnungsnr. {}"]),
        "FR" | "LU" => rng.pick(&["Facture {}", "Paiement facture {}", "{}"]),
        _ => rng.pick(&["Invoice {}", "{}"]),
    };
    template.replacen("{}", number, 1)
}

/// The invoice number (`INV-0001234`) as people get it wrong: spaces, another or no
/// prefix, leading zeros dropped, or one digit mistyped. Never the exact number.
pub fn mangled_number(number: &str, rng: &mut Rng) -> String {
    let digits = number.strip_prefix("INV-").unwrap_or(number);
    let trimmed = digits.trim_start_matches('0');
    let variant = rng.below(4);
    match variant {
        0 => {
            let split = digits.len() / 2;
            match rng.below(3) {
                0 => format!("INV {digits}"),
                1 => format!("INV - {digits}"),
                _ => format!("INV-{} {}", &digits[..split], &digits[split..]),
            }
        }
        1 => {
            let prefix = rng.pick(&["", "inv", "INV", "IN-", "NV-", "Inv.nr. ", "nr "]);
            format!("{prefix}{digits}")
        }
        2 if !trimmed.is_empty() && trimmed.len() < digits.len() => {
            if rng.bernoulli(0.5) {
                format!("INV-{trimmed}")
            } else {
                trimmed.to_owned()
            }
        }
        _ => format!("INV-{}", mistype(digits, rng)),
    }
}

/// One digit swapped with its neighbour (when they differ) or replaced by the next one.
fn mistype(digits: &str, rng: &mut Rng) -> String {
    let mut bytes: Vec<u8> = digits.bytes().collect();
    if bytes.is_empty() {
        return "0".to_owned();
    }
    let swaps: Vec<usize> = (0..bytes.len().saturating_sub(1))
        .filter(|&i| bytes[i] != bytes[i + 1])
        .collect();
    if !swaps.is_empty() && rng.bernoulli(0.5) {
        let i = rng.pick(&swaps);
        bytes.swap(i, i + 1);
    } else {
        // Mistype one of the significant digits.
        let first = bytes.iter().position(|b| *b != b'0').unwrap_or(0);
        let i = rng.range_i64(first as i64, bytes.len() as i64 - 1) as usize;
        bytes[i] = if bytes[i] == b'9' { b'8' } else { bytes[i] + 1 };
    }
    String::from_utf8(bytes).unwrap_or_default()
}

/// Several invoice numbers in one remittance text.
pub fn several_text(numbers: &[String], country: &str, rng: &mut Rng) -> String {
    let separator = rng.pick(&[" ", ", ", " + ", "/"]);
    let lead = match country {
        "NL" | "BE" => rng.pick(&["Facturen ", "", "fact. "]),
        "DE" | "AT" => rng.pick(&["Rechnungen ", "", "RE "]),
        "FR" | "LU" => rng.pick(&["Factures ", ""]),
        _ => rng.pick(&["Invoices ", ""]),
    };
    format!("{lead}{}", numbers.join(separator))
}

/// A text that says nothing about which invoice is paid (or no text at all).
pub fn generic_text(country: &str, rng: &mut Rng) -> Option<String> {
    if rng.bernoulli(0.4) {
        return None;
    }
    let text = match country {
        "NL" | "BE" => rng.pick(&[
            "Betaling",
            "Termijn",
            "zie factuur",
            "Overboeking",
            "klantnummer onbekend",
        ]),
        "DE" | "AT" => rng.pick(&["Zahlung", "Überweisung", "Begleichung offene Posten"]),
        "FR" | "LU" => rng.pick(&["Paiement", "Virement", "Règlement"]),
        _ => rng.pick(&["Payment", "Transfer"]),
    };
    Some(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mangled_numbers_never_equal_the_number() {
        let mut rng = Rng::seed_from(4);
        for n in [
            "INV-0001234",
            "INV-0000007",
            "INV-1111111",
            "INV-9999999",
            "INV-0001000",
        ] {
            for _ in 0..500 {
                let m = mangled_number(n, &mut rng);
                assert_ne!(m, n);
                assert!(!m.is_empty());
            }
        }
    }

    #[test]
    fn exact_texts_hold_the_number() {
        let mut rng = Rng::seed_from(4);
        for country in ["NL", "BE", "DE", "FR", "LU", "AT"] {
            assert!(invoice_text("INV-0000042", country, &mut rng).contains("INV-0000042"));
        }
    }

    #[test]
    fn quota_converges_on_the_mix_despite_forced_kinds() {
        let mix = NoiseMix::default();
        let mut quota = KindQuota::new(&mix);
        let mut rng = Rng::seed_from(8);
        let all = [true; 10];
        for i in 0..100_000 {
            // Every fifth payment is a direct debit, forced to the structured reference.
            let kind = if i % 5 == 0 {
                NoiseKind::StructuredReference
            } else {
                quota.draw(&mut rng, &all)
            };
            quota.record(kind);
        }
        for kind in NoiseKind::ALL {
            let share = quota.counts[kind.index()] as f64 / quota.total as f64;
            assert!((share - mix.share(kind)).abs() < 0.002, "{kind:?}: {share}");
        }
    }
}
