//! Times cash application: a ledger holding a million open items (built through the
//! `Ledger` API: 100 000 debtors × 10 invoices by default), then payments drawn like the
//! simulator's default noise mix, matched one by one on one core.
//!
//! `cargo run --release -p benches --bin matching -- [DEBTORS] [ITEMS_PER_DEBTOR] [PAYMENTS]`
//!
//! Payments are built before the clock starts; the timed loop is what the pipeline does
//! per payment (`advance_to` the event time, then `apply`). Afterwards every payment's
//! outcome is checked against the item it was drawn for, so the figure is for correct
//! work: the summary shows auto-matched, tasks and wrong matches per kind.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use events::{
    Channel, Currency, DebtorType, DebtorUpdated, Envelope, InputEvent, InvoiceIssued,
    PaymentMethod, PaymentReceived,
};
use ledger::references::{creditor_reference, dutch_payment_reference};
use ledger::{Ledger, LedgerConfig, LedgerEffect};
use rust_decimal::Decimal;
use simulator::rng::Rng;
use simulator::{NoiseKind, iban, remittance};

/// One drawn item.
struct Item {
    number: String,
    reference: Option<String>,
    cents: i64,
    paid: bool,
}

/// One drawn debtor.
struct Debtor {
    id: String,
    iban: String,
    country: &'static str,
    items: Vec<Item>,
}

/// A payment to time and what it should do.
struct Drawn {
    envelope: Envelope,
    kind: NoiseKind,
    /// Invoices it pays (empty: it must become a task).
    pays: Vec<String>,
}

/// The noise mix of DESIGN (shares in per mille).
const MIX: [(NoiseKind, u32); 10] = [
    (NoiseKind::StructuredReference, 550),
    (NoiseKind::InvoiceNumberExact, 200),
    (NoiseKind::InvoiceNumberTypo, 80),
    (NoiseKind::SeveralInvoices, 50),
    (NoiseKind::NoReferenceAmountMatch, 40),
    (NoiseKind::PartialWithReference, 30),
    (NoiseKind::ShortByBankCosts, 20),
    (NoiseKind::Overpayment, 15),
    (NoiseKind::OtherInvoiceReference, 10),
    (NoiseKind::UnknownPayer, 5),
];

fn cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let debtors = arg(1, 100_000);
    let per_debtor = arg(2, 10);
    let payments = arg(3, 200_000).min(debtors * per_debtor / 2);
    let mut rng = Rng::seed_from(42);
    let start: DateTime<Utc> = NaiveDate::from_ymd_opt(2025, 1, 2)
        .and_then(|d| d.and_hms_opt(8, 0, 0))
        .map(|t| t.and_utc())
        .unwrap_or_default();
    let issue = start.date_naive();
    let due = issue + TimeDelta::days(60);

    // The portfolio.
    let mut book: Vec<Debtor> = Vec::with_capacity(debtors);
    let mut seq: u32 = 0;
    for d in 0..debtors {
        let country = rng.pick(&["NL", "NL", "DE", "BE", "FR"]);
        let dutch = country == "NL" && rng.bernoulli(0.7);
        let items = (0..per_debtor)
            .map(|_| {
                seq += 1;
                let reference = rng.bernoulli(0.92).then(|| {
                    if dutch {
                        dutch_payment_reference(u64::from(seq))
                    } else {
                        creditor_reference(&format!("{seq:07}"))
                    }
                });
                Item {
                    number: format!("INV-{seq:07}"),
                    reference,
                    cents: (rng.lognormal(30_000.0, 1.0).round() as i64).clamp(500, 10_000_000),
                    paid: false,
                }
            })
            .collect();
        book.push(Debtor {
            id: format!("D{d:07}"),
            iban: iban::generate(country, &mut rng),
            country,
            items,
        });
    }

    let t = Instant::now();
    let mut ledger = Ledger::new(LedgerConfig::default());
    ledger.advance_to(start);
    let mut event = 0_u64;
    let mut envelope = |e: InputEvent, at: DateTime<Utc>| {
        event += 1;
        Envelope::new(format!("e{event}"), at, e)
    };
    for debtor in &book {
        ledger.apply(&envelope(
            InputEvent::DebtorUpdated(DebtorUpdated {
                debtor_id: debtor.id.clone(),
                name: format!("Debtor {}", debtor.id),
                debtor_type: DebtorType::Business,
                country: debtor.country.to_owned(),
                payment_method: PaymentMethod::BankTransfer,
                preferred_channel: Channel::Email,
                credit_limit: cents(1_000_000_000),
                currency: Currency::EUR,
                ibans: vec![debtor.iban.clone()],
            }),
            start,
        ));
        for item in &debtor.items {
            ledger.apply(&envelope(
                InputEvent::InvoiceIssued(InvoiceIssued {
                    invoice_number: item.number.clone(),
                    debtor_id: debtor.id.clone(),
                    amount: cents(item.cents),
                    currency: Currency::EUR,
                    issue_date: issue,
                    due_date: due,
                    payment_reference: item.reference.clone(),
                }),
                start,
            ));
        }
    }
    let built = t.elapsed();
    let open_items = ledger
        .debtors()
        .map(|a| ledger.open_items_of(a).count())
        .sum::<usize>();
    report(
        &format!("build ledger ({debtors} debtors × {per_debtor} items)"),
        debtors * (per_debtor + 1),
        built,
    );
    println!("ledger holds {open_items} open items");

    // The payments, drawn before the clock starts.
    let weights: Vec<f64> = MIX.iter().map(|(_, w)| f64::from(*w)).collect();
    let mut drawn: Vec<Drawn> = Vec::with_capacity(payments);
    let mut attempts = 0;
    while drawn.len() < payments && attempts < payments * 4 {
        attempts += 1;
        let kind = MIX[rng.weighted_index(&weights)].0;
        let d = rng.below(debtors as u64) as usize;
        let at = start + TimeDelta::milliseconds(drawn.len() as i64 * 10);
        let id = format!("TX-{:09}", drawn.len() + 1);
        if let Some(p) = draw(&mut book[d], kind, &mut rng) {
            let (pays, payment) = p;
            let payment = PaymentReceived {
                payment_id: id,
                ..payment
            };
            drawn.push(Drawn {
                envelope: envelope(InputEvent::PaymentReceived(payment), at),
                kind,
                pays,
            });
        }
    }

    // The timed loop: what the pipeline does per payment, plus a check of the outcome
    // against the drawn item (cheap, and it keeps no effects alive).
    let mut verdicts: Vec<usize> = Vec::with_capacity(drawn.len());
    let rss_before = resident_bytes();
    let t = Instant::now();
    for p in &drawn {
        let mut effects = ledger.advance_to(p.envelope.event_time);
        effects.extend(ledger.apply(&p.envelope));
        verdicts.push(verdict(&effects, &p.pays));
    }
    let matched = t.elapsed();
    report(
        &format!("match payments (ledger of {open_items} open items)"),
        drawn.len(),
        matched,
    );
    if let (Some(before), Some(after)) = (rss_before, resident_bytes()) {
        println!(
            "resident memory {:.0} MB after the build, +{:.0} bytes per payment while matching",
            before as f64 / 1e6,
            after.saturating_sub(before) as f64 / drawn.len().max(1) as f64
        );
    }

    let mut by_kind: BTreeMap<NoiseKind, [u64; 4]> = BTreeMap::new();
    for (p, v) in drawn.iter().zip(&verdicts) {
        by_kind.entry(p.kind).or_default()[*v] += 1;
    }
    println!("{:<28} {:>9} {:>7} {:>7}", "kind", "auto", "task", "wrong");
    let mut total = [0_u64; 4];
    for (kind, c) in &by_kind {
        println!(
            "{:<28} {:>9} {:>7} {:>7}",
            kind.as_str(),
            c[0],
            c[1],
            c[2] + c[3]
        );
        for i in 0..4 {
            total[i] += c[i];
        }
    }
    let n = drawn.len().max(1) as f64;
    println!(
        "{} payments: {:.2} % auto-matched as drawn, {:.2} % tasks, {} wrong or missing",
        drawn.len(),
        100.0 * total[0] as f64 / n,
        100.0 * total[1] as f64 / n,
        total[2] + total[3]
    );
    println!(
        "matching: {:.0} payments/s on one core ({:.2} µs per payment) against {open_items} open items",
        n / matched.as_secs_f64().max(1e-9),
        matched.as_secs_f64() * 1e6 / n
    );
    // Freeing millions of small allocations takes seconds and measures nothing.
    std::mem::forget(ledger);
}

/// 0: applied exactly to the drawn invoices; 1: a task; 2: applied otherwise (wrong);
/// 3: no payment effect.
fn verdict(effects: &[LedgerEffect], pays: &[String]) -> usize {
    effects
        .iter()
        .find_map(|e| match e {
            LedgerEffect::PaymentApplied { allocations, .. } => {
                let right = !pays.is_empty()
                    && allocations.len() == pays.len()
                    && allocations
                        .iter()
                        .all(|a| pays.iter().any(|p| *p == a.invoice_number));
                Some(if right { 0 } else { 2 })
            }
            LedgerEffect::PaymentUnmatched { .. } | LedgerEffect::CurrencyMismatch { .. } => {
                Some(1)
            }
            _ => None,
        })
        .unwrap_or(3)
}

/// Draws one payment of `kind` for `debtor`: the invoices it pays and the payment (its id
/// is set by the caller). `None` when the debtor has nothing left that suits the kind.
fn draw(
    debtor: &mut Debtor,
    kind: NoiseKind,
    rng: &mut Rng,
) -> Option<(Vec<String>, PaymentReceived)> {
    let open: Vec<usize> = (0..debtor.items.len())
        .filter(|&i| !debtor.items[i].paid)
        .collect();
    let main = *open.get(rng.below(open.len() as u64) as usize)?;
    let mut payment = PaymentReceived {
        payment_id: String::new(),
        amount: cents(debtor.items[main].cents),
        currency: Currency::EUR,
        value_date: NaiveDate::from_ymd_opt(2025, 1, 2).unwrap_or_default(),
        method: PaymentMethod::BankTransfer,
        counterparty_name: Some(format!("Debtor {}", debtor.id)),
        counterparty_iban: Some(debtor.iban.clone()),
        remittance_text: None,
        structured_reference: None,
        end_to_end_id: None,
        debtor_id: None,
    };
    let country = debtor.country;
    let item = &debtor.items[main];
    let reference_or_text = |payment: &mut PaymentReceived, rng: &mut Rng| match &item.reference {
        Some(r) if rng.bernoulli(0.5) => payment.structured_reference = Some(r.clone()),
        _ => payment.remittance_text = Some(remittance::invoice_text(&item.number, country, rng)),
    };
    let mut pays = vec![item.number.clone()];
    match kind {
        NoiseKind::StructuredReference => {
            payment.structured_reference = Some(item.reference.clone()?);
        }
        NoiseKind::InvoiceNumberExact => {
            payment.remittance_text = Some(remittance::invoice_text(&item.number, country, rng));
        }
        NoiseKind::InvoiceNumberTypo => {
            let mangled = remittance::mangled_number(&item.number, rng);
            payment.remittance_text = Some(remittance::invoice_text(&mangled, country, rng));
        }
        NoiseKind::SeveralInvoices => {
            let others: Vec<usize> = open.iter().copied().filter(|&i| i != main).collect();
            if others.is_empty() {
                return None;
            }
            let k = rng.range_i64(1, others.len().min(3) as i64) as usize;
            let chosen: Vec<usize> = std::iter::once(main)
                .chain(others.into_iter().take(k))
                .collect();
            pays = chosen
                .iter()
                .map(|&i| debtor.items[i].number.clone())
                .collect();
            payment.amount = chosen.iter().map(|&i| cents(debtor.items[i].cents)).sum();
            payment.remittance_text = if rng.bernoulli(0.5) {
                Some(remittance::several_text(&pays, country, rng))
            } else {
                remittance::generic_text(country, rng)
            };
            for i in chosen {
                debtor.items[i].paid = true;
            }
            return Some((pays, payment));
        }
        NoiseKind::NoReferenceAmountMatch => {
            payment.remittance_text = remittance::generic_text(country, rng);
        }
        NoiseKind::PartialWithReference => {
            let part = ((item.cents as f64 * rng.uniform(0.2, 0.8) / 100.0).round() as i64) * 100;
            if part <= 0 || part >= item.cents {
                return None;
            }
            payment.amount = cents(part);
            reference_or_text(&mut payment, rng);
        }
        NoiseKind::ShortByBankCosts => {
            if item.cents < 2500 {
                return None;
            }
            payment.amount = cents(item.cents - rng.range_i64(1, 250));
            reference_or_text(&mut payment, rng);
        }
        NoiseKind::Overpayment => {
            payment.amount = cents(item.cents + rng.range_i64(1, (item.cents / 20).max(100)));
            reference_or_text(&mut payment, rng);
        }
        NoiseKind::OtherInvoiceReference => {
            let other = open
                .iter()
                .copied()
                .find(|&i| i != main && debtor.items[i].cents != item.cents)?;
            let other = &debtor.items[other];
            match &other.reference {
                Some(r) if rng.bernoulli(0.5) => payment.structured_reference = Some(r.clone()),
                _ => {
                    payment.remittance_text =
                        Some(remittance::invoice_text(&other.number, country, rng))
                }
            }
        }
        NoiseKind::UnknownPayer => {
            payment.counterparty_name = Some("Stichting Derdengelden Betalingen".into());
            payment.counterparty_iban = Some(iban::generate("DE", rng));
            payment.remittance_text = remittance::generic_text(country, rng);
            pays.clear();
        }
    }
    debtor.items[main].paid = true;
    Some((pays, payment))
}

/// Resident set size of this process (Linux; `None` elsewhere).
fn resident_bytes() -> Option<u64> {
    benches::status_kb("VmRSS").map(|kb| kb * 1024)
}

fn report(what: &str, n: usize, took: Duration) {
    let secs = took.as_secs_f64();
    println!(
        "{what:<58} {n:>9} events in {secs:>7.3} s = {:>10.0} events/s",
        n as f64 / secs.max(1e-9)
    );
}
