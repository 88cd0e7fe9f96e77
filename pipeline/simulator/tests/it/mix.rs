//! Payments follow the configured noise mix, direct debits come back at the configured
//! rate, and each payment looks the way its noise kind says.

use std::collections::{BTreeMap, BTreeSet};

use events::{InputEvent, PaymentMethod};
use rust_decimal::Decimal;
use simulator::{NoiseKind, NoiseMix, SimConfig};

use crate::support::{Run, default_run, run};

fn assert_follows(run: &Run, mix: &NoiseMix) {
    let counts = run.truth.noise_counts();
    let total: u64 = counts.values().sum();
    assert!(total > 10_000, "{total} payments");
    for kind in NoiseKind::ALL {
        let share = counts.get(&kind).copied().unwrap_or(0) as f64 / total as f64;
        let target = mix.share(kind);
        let tolerance = 0.002 + 0.1 * target;
        assert!(
            (share - target).abs() <= tolerance,
            "{kind:?}: {share:.4} against {target}"
        );
    }
}

#[test]
fn noise_kind_shares_follow_the_configured_mix() {
    let run = run(SimConfig {
        debtors: 2500,
        ..SimConfig::default()
    });
    assert_follows(&run, &NoiseMix::default());
}

#[test]
fn a_custom_noise_mix_is_followed() {
    let mix = NoiseMix {
        structured_reference: 0.40,
        invoice_number_exact: 0.30,
        invoice_number_typo: 0.10,
        several_invoices: 0.05,
        no_reference_amount_match: 0.05,
        partial_with_reference: 0.04,
        short_by_bank_costs: 0.02,
        overpayment: 0.02,
        other_invoice_reference: 0.01,
        unknown_payer: 0.01,
        ..NoiseMix::default()
    };
    let run = run(SimConfig {
        noise: mix.clone(),
        ..SimConfig::default()
    });
    assert_follows(&run, &mix);
}

fn reversal_share(run: &Run) -> f64 {
    let dd = run
        .truth
        .payments
        .values()
        .filter(|p| p.method == PaymentMethod::DirectDebit);
    let (n, reversed) = dd.fold((0, 0), |(n, r), p| (n + 1, r + u32::from(p.is_reversed)));
    f64::from(reversed) / f64::from(n)
}

#[test]
fn about_two_percent_of_direct_debits_are_returned_with_sepa_codes() {
    let run = default_run();
    let share = reversal_share(run);
    assert!((0.015..=0.025).contains(&share), "{share}");
    let codes = ["AM04", "MD06", "MS02", "MS03", "AC04", "MD01"];
    for e in &run.events {
        if let InputEvent::PaymentReversed(r) = &e.event {
            assert!(codes.contains(&r.reason_code.as_str()), "{}", r.reason_code);
        }
    }
}

#[test]
fn the_configured_reversal_share_is_followed() {
    let run = run(SimConfig {
        noise: NoiseMix {
            reversals: 0.06,
            ..NoiseMix::default()
        },
        ..SimConfig::default()
    });
    let share = reversal_share(&run);
    assert!((0.05..=0.07).contains(&share), "{share}");
}

/// Open amounts per debtor and invoice, replayed from the events as a ledger would see
/// them: invoices open, credit notes and payments reduce them, returns reopen them, a
/// payment short by bank costs closes its invoice.
#[derive(Default)]
struct OpenItems {
    open: BTreeMap<String, BTreeMap<String, Decimal>>,
    debtor_of: BTreeMap<String, String>,
}

impl OpenItems {
    fn get(&self, invoice: &str) -> Decimal {
        let debtor = &self.debtor_of[invoice];
        self.open[debtor]
            .get(invoice)
            .copied()
            .unwrap_or(Decimal::ZERO)
    }

    fn add(&mut self, invoice: &str, delta: Decimal) {
        let debtor = &self.debtor_of[invoice];
        let items = self.open.entry(debtor.clone()).or_default();
        let open = items.entry(invoice.to_owned()).or_insert(Decimal::ZERO);
        *open += delta;
        if *open <= Decimal::ZERO {
            items.remove(invoice);
        }
    }

    fn close(&mut self, invoice: &str) {
        let debtor = &self.debtor_of[invoice];
        if let Some(items) = self.open.get_mut(debtor) {
            items.remove(invoice);
        }
    }

    /// Open items of the debtor with exactly this open amount.
    fn with_amount(&self, debtor: &str, amount: Decimal) -> usize {
        self.open
            .get(debtor)
            .map_or(0, |items| items.values().filter(|a| **a == amount).count())
    }
}

#[test]
fn each_payment_looks_the_way_its_noise_kind_says() {
    let run = default_run();
    let invoices = run.invoices();
    let debtor_ibans: BTreeMap<&str, &str> = run
        .events
        .iter()
        .filter_map(|e| match &e.event {
            InputEvent::DebtorUpdated(d) => Some((d.debtor_id.as_str(), d.ibans[0].as_str())),
            _ => None,
        })
        .collect();
    let all_ibans: BTreeSet<&str> = debtor_ibans.values().copied().collect();
    let tolerance = NoiseMix::default().bank_cost_tolerance;
    let mut items = OpenItems::default();
    for e in &run.events {
        let p = match &e.event {
            InputEvent::InvoiceIssued(i) => {
                items
                    .debtor_of
                    .insert(i.invoice_number.clone(), i.debtor_id.clone());
                items.add(&i.invoice_number, i.amount);
                continue;
            }
            InputEvent::CreditNoteIssued(c) => {
                items.add(
                    c.invoice_number.as_deref().expect("names its invoice"),
                    -c.amount,
                );
                continue;
            }
            InputEvent::PaymentReversed(r) => {
                for a in &run.truth.payments[&r.payment_id].allocations {
                    items.add(&a.invoice_number, a.amount);
                }
                continue;
            }
            InputEvent::PaymentReceived(p) => p,
            _ => continue,
        };
        let id = &p.payment_id;
        let truth = &run.truth.payments[id];
        let first = invoices[truth.allocations[0].invoice_number.as_str()];
        let open = items.get(&first.invoice_number);
        let text = p.remittance_text.as_deref().unwrap_or("");
        let own_iban =
            p.counterparty_iban.as_deref() == Some(debtor_ibans[truth.debtor_id.as_str()]);
        let names_first = text.contains(&first.invoice_number)
            || p.structured_reference.is_some()
                && p.structured_reference == first.payment_reference;
        for a in &truth.allocations {
            assert!(
                a.amount <= items.get(&a.invoice_number),
                "{id} pays more than is open"
            );
        }
        match truth.noise {
            NoiseKind::StructuredReference => {
                assert!(
                    p.structured_reference.is_some()
                        && p.structured_reference == first.payment_reference,
                    "{id}"
                );
                assert_eq!(p.amount, open, "{id}");
            }
            NoiseKind::InvoiceNumberExact => {
                assert!(text.contains(&first.invoice_number), "{id}: {text}");
                assert!(p.structured_reference.is_none() && p.amount == open, "{id}");
            }
            NoiseKind::InvoiceNumberTypo => {
                assert!(
                    !text.is_empty() && !text.contains(&first.invoice_number),
                    "{id}: {text}"
                );
                assert!(p.structured_reference.is_none() && p.amount == open, "{id}");
            }
            NoiseKind::SeveralInvoices => {
                assert!(truth.allocations.len() >= 2, "{id}");
                assert!(own_iban && p.structured_reference.is_none());
                for a in &truth.allocations {
                    assert_eq!(a.amount, items.get(&a.invoice_number), "{id}");
                }
            }
            NoiseKind::NoReferenceAmountMatch => {
                assert!(
                    own_iban && p.structured_reference.is_none() && !text.contains("INV"),
                    "{id}: {text}"
                );
                assert_eq!(p.amount, open, "{id}");
                assert_eq!(
                    items.with_amount(&truth.debtor_id, p.amount),
                    1,
                    "{id}: amount not unique"
                );
            }
            NoiseKind::PartialWithReference => {
                assert!(names_first && p.amount < open, "{id}");
            }
            NoiseKind::ShortByBankCosts => {
                assert!(names_first, "{id}");
                assert!(p.amount < open && p.amount >= open - tolerance, "{id}");
            }
            NoiseKind::Overpayment => {
                assert!(names_first && truth.unapplied > Decimal::ZERO, "{id}");
                assert_eq!(truth.allocations[0].amount, open, "{id}");
            }
            NoiseKind::OtherInvoiceReference => {
                assert!(own_iban && !names_first, "{id}");
                assert_eq!(p.amount, open, "{id}");
                assert_eq!(
                    items.with_amount(&truth.debtor_id, p.amount),
                    1,
                    "{id}: amount not unique"
                );
                let named: Vec<&&events::InvoiceIssued> = invoices
                    .values()
                    .filter(|i| {
                        i.debtor_id == truth.debtor_id
                            && i.invoice_number != first.invoice_number
                            && (text.contains(&i.invoice_number)
                                || p.structured_reference.is_some()
                                    && p.structured_reference == i.payment_reference)
                    })
                    .collect();
                assert_eq!(named.len(), 1, "{id}");
                assert_ne!(named[0].amount, p.amount, "{id}");
            }
            NoiseKind::UnknownPayer => {
                assert!(
                    !all_ibans.contains(p.counterparty_iban.as_deref().unwrap_or("")),
                    "{id}"
                );
                assert!(
                    p.structured_reference.is_none() && !text.contains("INV"),
                    "{id}"
                );
                assert_eq!(p.amount, open, "{id}");
            }
        }
        if p.method == PaymentMethod::DirectDebit {
            assert_eq!(truth.noise, NoiseKind::StructuredReference);
        }
        for a in &truth.allocations {
            items.add(&a.invoice_number, -a.amount);
        }
        if truth.noise == NoiseKind::ShortByBankCosts {
            items.close(&first.invoice_number);
        }
    }
}
