//! Backtests: closed loop on the simulator (the response model wired in), and replayed
//! history (decisions differ, the history's KPIs do not). No network.

use events::Envelope;
use pipeline::backtest::{Arm, ArmReport, Source, html, run_arms, strategy_arm, text};
use pipeline::cli::PortfolioArgs;
use pipeline::scoring::LoadedModel;
use pipeline::worker::WorkerConfig;

const NO_REMINDERS: &str =
    "version = \"no-reminders\"\n\n[[segment]]\nname = \"everyone\"\ndunning = []\n";

fn portfolio(seed: u64) -> PortfolioArgs {
    PortfolioArgs {
        debtors: 800,
        months: 9,
        seed,
        start: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("date"),
    }
}

fn arm(spec: &str, model: Option<LoadedModel>) -> Arm {
    let (strategy, strategy_text) = strategy_arm(spec).expect("strategy");
    Arm {
        label: strategy.version.clone(),
        strategy,
        strategy_text,
        model,
        log_models: false,
    }
}

fn no_reminders() -> Arm {
    let strategy = decisions::Strategy::parse("no-reminders", NO_REMINDERS).expect("valid");
    Arm {
        label: "no-reminders".into(),
        strategy,
        strategy_text: NO_REMINDERS.into(),
        model: None,
        log_models: false,
    }
}

fn model() -> LoadedModel {
    let (_, bytes) = crate::scoring::trained_model("v1");
    LoadedModel::from_bytes("v1", bytes).expect("valid artifact")
}

fn closed_loop(seed: u64, arms: &[Arm]) -> Vec<ArmReport> {
    let p = portfolio(seed);
    run_arms(
        &WorkerConfig::default(),
        Source::Simulated(&p),
        arms,
        3,
        None,
    )
    .expect("backtest")
}

#[test]
fn the_same_seed_gives_the_same_report_and_another_seed_another() {
    let arms = [arm("segmented", Some(model())), arm("static", None)];
    let first = closed_loop(5, &arms);
    let again = closed_loop(5, &arms);
    assert_eq!(first, again);
    assert!(
        first
            .iter()
            .all(|a| a.reminders_total > 0 && a.dso_days.is_some())
    );
    assert_eq!(first[0].model_version.as_deref(), Some("v1"));
    assert!(
        first[0]
            .reminders_by_segment
            .keys()
            .any(|s| s == "low-risk"),
        "the model's classes pick segments: {:?}",
        first[0].reminders_by_segment
    );
    let other = closed_loop(6, &arms);
    assert_ne!(first[0].dso_days, other[0].dso_days);
}

#[test]
fn sending_no_reminders_at_all_collects_later_than_the_default_strategy() {
    let reports = closed_loop(9, &[arm("segmented", None), no_reminders()]);
    let (default, none) = (&reports[0], &reports[1]);
    assert_eq!(none.reminders_total, 0);
    assert!(
        default.reminders_total > 1000,
        "{}",
        default.reminders_total
    );
    let dso = |r: &ArmReport| r.dso_days.expect("dso");
    assert!(
        dso(none) > dso(default) + 0.5,
        "DSO: no reminders {:.2}, default {:.2}",
        dso(none),
        dso(default)
    );
    let add = |r: &ArmReport| r.avg_days_delinquent.expect("add");
    assert!(
        add(none) > add(default),
        "{} vs {}",
        add(none),
        add(default)
    );
    // Debtors answered: many paid sooner for reminders; without them only credit holds
    // (which that strategy keeps) moved some.
    let sooner = |r: &ArmReport| r.responses.get("pays_sooner").copied().unwrap_or(0);
    assert!(sooner(default) > 100, "{:?}", default.responses);
    assert!(sooner(none) * 4 < sooner(default), "{:?}", none.responses);
}

#[test]
fn on_replayed_history_the_decisions_differ_and_the_history_does_not() {
    let p = portfolio(3);
    let log: Vec<Envelope> = pipeline::simulate::simulator(&p)
        .expect("simulator")
        .collect();
    let arms = [arm("segmented", None), arm("static", None), no_reminders()];
    let reports = run_arms(
        &WorkerConfig::default(),
        Source::History(&log),
        &arms,
        3,
        None,
    )
    .expect("run");
    let events = log.len() as u64;
    assert!(
        reports
            .iter()
            .all(|r| r.events == events && r.responses.is_empty())
    );
    // What depends on the decisions differs...
    assert_ne!(reports[0].reminders, reports[1].reminders);
    assert_eq!(reports[2].reminders_total, 0);
    // ...what the history did does not.
    for r in &reports[1..] {
        assert_eq!(r.dso_days, reports[0].dso_days);
        assert_eq!(r.bad_debt, reports[0].bad_debt);
        assert_eq!(r.invoiced, reports[0].invoiced);
        assert_eq!(r.payments, reports[0].payments);
    }

    let report = pipeline::backtest::BacktestReport {
        mode: "replayed history".into(),
        source: "test".into(),
        warm_up_months: 3,
        arms: reports,
        replications: Vec::new(),
    };
    let table = text(&report);
    for label in [
        "builtin-segmented-4",
        "static-1",
        "no-reminders",
        "DSO (days)",
        "by email",
    ] {
        assert!(table.contains(label), "{label} missing from\n{table}");
    }
    let page = html(&report);
    assert!(page.starts_with("<!DOCTYPE html>") && page.matches("<svg").count() >= 4);
    assert!(page.contains("Reminders and calls by channel"));
}
