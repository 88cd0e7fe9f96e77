//! Cash application against the ground truth: the simulator's default noisy stream runs
//! through `ledger::Ledger` (advance to the event time, then apply, as the pipeline does)
//! and every payment's outcome is compared with what the truth says it pays.
//!
//! Each payment is judged on the effect its own `apply` returned (a payment reversed later
//! is judged on the allocation made when it came in):
//! - **exact**: applied without a task, allocations equal the truth's (invoice and amount,
//!   in any order), unapplied credit equal, write-offs only on a payment short by bank
//!   costs and on the invoice it pays;
//! - **differs**: applied without a task to the right invoices and debtor, but the amounts
//!   differ (for example kept as credit instead of allocated);
//! - **task**: an exception for a person (with its reason);
//! - **wrong**: an allocation or write-off on an invoice the truth does not name, or
//!   unapplied credit on another debtor than the payer.
//!
//! Auto-matched = exact + differs. Run with `--nocapture` to see the tables.

use std::collections::BTreeMap;

use events::InputEvent;
use ledger::{Allocation, Ledger, LedgerConfig, LedgerEffect};
use rust_decimal::Decimal;
use simulator::{GroundTruth, NoiseKind, PaymentTruth, SimConfig, Simulator};

/// What became of one payment, judged against the truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Exact,
    Differs,
    Task(&'static str),
    Wrong,
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    payments: u64,
    exact: u64,
    differs: u64,
    tasks: u64,
    wrong: u64,
}

impl Counts {
    fn add(&mut self, verdict: Verdict) {
        self.payments += 1;
        match verdict {
            Verdict::Exact => self.exact += 1,
            Verdict::Differs => self.differs += 1,
            Verdict::Task(_) => self.tasks += 1,
            Verdict::Wrong => self.wrong += 1,
        }
    }

    fn auto(&self) -> u64 {
        self.exact + self.differs
    }

    fn share(&self, n: u64) -> f64 {
        100.0 * n as f64 / self.payments.max(1) as f64
    }
}

/// The outcome of a run: counts overall, per noise kind, tasks by reason, and a few
/// examples of what was not exact.
#[derive(Debug, Default)]
struct Report {
    all: Counts,
    by_kind: BTreeMap<NoiseKind, Counts>,
    tasks: BTreeMap<&'static str, u64>,
    by_rule: BTreeMap<&'static str, u64>,
    /// Payments with a write-off, and the sum written off.
    write_offs: (u64, Decimal),
    /// Payments that left unapplied credit, and its sum.
    unapplied: (u64, Decimal),
    examples: Vec<String>,
}

fn sorted(allocations: impl Iterator<Item = (String, Decimal)>) -> Vec<(String, Decimal)> {
    let mut v: Vec<(String, Decimal)> = allocations.map(|(i, a)| (i, a.normalize())).collect();
    v.sort();
    v
}

fn judge(truth: &PaymentTruth, effect: &LedgerEffect) -> Option<Verdict> {
    match effect {
        LedgerEffect::PaymentApplied {
            debtor_id,
            allocations,
            unapplied,
            write_offs,
            ..
        } => {
            let named = |a: &Allocation| {
                truth
                    .allocations
                    .iter()
                    .any(|t| t.invoice_number == a.invoice_number)
            };
            let wrong = !allocations.iter().all(named)
                || !write_offs.iter().all(named)
                || (!unapplied.is_zero() && *debtor_id != truth.debtor_id);
            let exact = sorted(
                allocations
                    .iter()
                    .map(|a| (a.invoice_number.to_string(), a.amount)),
            ) == sorted(
                truth
                    .allocations
                    .iter()
                    .map(|a| (a.invoice_number.clone(), a.amount)),
            ) && *unapplied == truth.unapplied
                && (write_offs.is_empty() || truth.noise == NoiseKind::ShortByBankCosts);
            Some(if wrong {
                Verdict::Wrong
            } else if exact {
                Verdict::Exact
            } else {
                Verdict::Differs
            })
        }
        LedgerEffect::PaymentUnmatched { reason, .. } => Some(Verdict::Task(reason.as_str())),
        LedgerEffect::CurrencyMismatch { .. } => Some(Verdict::Task("currency_mismatch")),
        _ => None,
    }
}

/// Runs `config` through a ledger with `ledger_config` and judges every payment.
fn run(config: SimConfig, ledger_config: LedgerConfig) -> Report {
    let mut sim = Simulator::new(config.check().expect("valid config"));
    let events: Vec<events::Envelope> = sim.by_ref().collect();
    let truth: GroundTruth = sim.into_truth();
    let mut ledger = Ledger::new(ledger_config);
    let mut report = Report::default();
    for envelope in &events {
        ledger.advance_to(envelope.event_time);
        let effects = ledger.apply(envelope);
        assert!(ledger.totals().is_balanced(), "{:?}", ledger.totals());
        let InputEvent::PaymentReceived(p) = &envelope.event else {
            continue;
        };
        let t = &truth.payments[&p.payment_id];
        let (verdict, effect) = effects
            .iter()
            .find_map(|e| judge(t, e).map(|v| (v, e)))
            .unwrap_or_else(|| panic!("{}: no payment effect in {effects:?}", p.payment_id));
        report.all.add(verdict);
        report.by_kind.entry(t.noise).or_default().add(verdict);
        match verdict {
            Verdict::Task(reason) => *report.tasks.entry(reason).or_default() += 1,
            _ => {
                if let LedgerEffect::PaymentApplied {
                    rule,
                    write_offs,
                    unapplied,
                    ..
                } = effect
                {
                    *report.by_rule.entry(rule.as_str()).or_default() += 1;
                    if !write_offs.is_empty() {
                        report.write_offs.0 += 1;
                        report.write_offs.1 += write_offs.iter().map(|w| w.amount).sum::<Decimal>();
                    }
                    if !unapplied.is_zero() {
                        report.unapplied.0 += 1;
                        report.unapplied.1 += *unapplied;
                    }
                }
            }
        }
        let expected_task =
            matches!(verdict, Verdict::Task(_)) && t.noise == NoiseKind::UnknownPayer;
        let notable = matches!(verdict, Verdict::Wrong | Verdict::Differs);
        if verdict != Verdict::Exact && !expected_task && (notable || report.examples.len() < 12) {
            report.examples.push(format!(
                "{verdict:?} {}: {:?} text {:?} ref {:?} iban {:?}\n    truth {} {:?} unapplied {}\n    ledger {effect:?}",
                t.noise.as_str(),
                p.amount,
                p.remittance_text,
                p.structured_reference,
                p.counterparty_iban,
                t.debtor_id,
                t.allocations
                    .iter()
                    .map(|a| (a.invoice_number.as_str(), a.amount))
                    .collect::<Vec<_>>(),
                t.unapplied,
            ));
        }
    }
    report
}

fn print(title: &str, r: &Report) {
    println!("\n== cash application: {title} ==");
    println!(
        "{:<28} {:>8} {:>8} {:>8} {:>6} {:>6} {:>8}",
        "noise kind", "payments", "exact", "differs", "tasks", "wrong", "auto %"
    );
    let line = |name: &str, c: &Counts| {
        println!(
            "{name:<28} {:>8} {:>8} {:>8} {:>6} {:>6} {:>7.2}%",
            c.payments,
            c.exact,
            c.differs,
            c.tasks,
            c.wrong,
            c.share(c.auto())
        );
    };
    for (kind, c) in &r.by_kind {
        line(kind.as_str(), c);
    }
    line("all", &r.all);
    println!(
        "auto-matched {:.2} % (exact {:.2} %), tasks {:.2} %, wrong {}",
        r.all.share(r.all.auto()),
        r.all.share(r.all.exact),
        r.all.share(r.all.tasks),
        r.all.wrong
    );
    println!("tasks by reason: {:?}", r.tasks);
    println!("auto-matched payments by rule: {:?}", r.by_rule);
    println!(
        "write-offs within the tolerance: {} payments, {} in all; unapplied credit: {} payments, {} in all",
        r.write_offs.0, r.write_offs.1, r.unapplied.0, r.unapplied.1
    );
    for e in &r.examples {
        println!("  {e}");
    }
}

fn assert_targets(r: &Report) {
    assert_eq!(r.all.wrong, 0, "wrong matches");
    let auto = r.all.share(r.all.auto());
    assert!(auto >= 99.0, "auto-matched {auto:.2} % < 99 %");
    let exact = r.all.share(r.all.exact);
    assert!(exact >= 99.0, "exactly as the truth {exact:.2} % < 99 %");
    // The irreducible share: an unknown payer without a usable reference is a task.
    let unknown = r.by_kind[&NoiseKind::UnknownPayer];
    assert_eq!(
        unknown.tasks, unknown.payments,
        "unknown payers become tasks"
    );
}

#[test]
fn default_stream_is_auto_matched_at_99_percent_with_no_wrong_match() {
    let report = run(SimConfig::default(), LedgerConfig::default());
    print("seed 42, 1000 debtors, 12 months", &report);
    assert!(report.all.payments > 10_000);
    assert_targets(&report);
}

#[test]
fn another_seed_is_auto_matched_at_99_percent_with_no_wrong_match() {
    let config = SimConfig {
        seed: 7,
        ..SimConfig::default()
    };
    let report = run(config, LedgerConfig::default());
    print("seed 7, 1000 debtors, 12 months", &report);
    assert_targets(&report);
}

/// Twenty more seeds (slow in a debug build: run with `--release -- --ignored`).
#[test]
#[ignore = "slow: twenty full runs"]
fn twenty_seeds_are_auto_matched_at_99_percent_with_no_wrong_match() {
    for seed in 1..=20 {
        let config = SimConfig {
            seed,
            ..SimConfig::default()
        };
        let report = run(config, LedgerConfig::default());
        println!(
            "seed {seed}: {} payments, auto-matched {:.2} %, wrong {}, tasks {:?}",
            report.all.payments,
            report.all.share(report.all.auto()),
            report.all.wrong,
            report.tasks
        );
        assert_targets(&report);
    }
}
