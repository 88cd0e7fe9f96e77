//! `creditstream backtest`: two or more arms — a strategy config and a model each — run
//! over the same portfolio and compared side by side.
//!
//! - **Closed loop, on the simulator** (default): each arm gets the same simulated
//!   portfolio (same seed); the stages run over its events as the worker would, and every
//!   action and task they decide is fed back to the simulator's debtor response model
//!   ([`simulator::Simulator::respond`]), so a reminder that works makes a payment come
//!   sooner in that arm's world. DSO, CEI, cure rate and bad debt therefore answer "what
//!   would this strategy have done to cash".
//! - **Replayed history** (`--archive DIR`): the Parquet archive's events, the same for
//!   every arm (no response: history is fixed). What depends only on the decisions —
//!   reminders, tasks, holds, limit changes, plans — differs between arms; DSO, CEI, cure
//!   rate and bad debt are the history's own and the same in every arm.
//!
//! Each arm activates its strategy (and model) by events at the start of the log, as an
//! analyst would; strategy activations in a replayed archive are skipped so the arm's
//! strategy stays in force. Arms run on threads of their own. The report goes to the
//! terminal ([`text`]), to an HTML page with charts ([`html`]) and, with `--json`, to a file.

mod report;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use clap::Args;
use decisions::Strategy;
use events::{
    ActionKind, AlertKind, Envelope, InputEvent, ModelActivated, ModelRole, Output, OutputEnvelope,
    TaskKind,
};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

pub use self::report::{html, text};
use crate::cli::{PortfolioArgs, WorkerArgs};
use crate::error::PipelineError;
use crate::replay::stages_for;
use crate::scoring::LoadedModel;
use crate::stages::Stages;
use crate::worker::WorkerConfig;

/// The `trained` model learns from the portfolio of seed `--seed` + this (apart from the
/// replications' seeds).
pub const TRAINING_SEED_OFFSET: u64 = 10_000;

/// `creditstream backtest`.
#[derive(Debug, Clone, Args)]
pub struct BacktestArgs {
    /// A strategy to try: `segmented` (the built-in one), `static` (one schedule for
    /// everyone) or a strategy file. Give it twice or more; every strategy is run with
    /// every model.
    #[arg(long = "strategy", value_name = "segmented|static|FILE", default_values_t = ["segmented".to_owned(), "static".to_owned()])]
    pub strategies: Vec<String>,
    /// A risk model: `trained` (trained first on another simulated history, of seed
    /// --seed + 10000, as the demo does), `none`, or a version in --registry-dir. With --archive, `log` (the
    /// default there) takes the model activations in the archive.
    #[arg(long = "model", value_name = "trained|none|log|VERSION")]
    pub models: Vec<String>,
    /// Replay this Parquet event archive (open loop) instead of simulating a portfolio.
    #[arg(long, value_name = "DIR")]
    pub archive: Option<PathBuf>,
    /// The simulated portfolio (closed loop).
    #[command(flatten)]
    pub portfolio: PortfolioArgs,
    /// Months at the start left out of DSO, CEI, cure rate and average days delinquent,
    /// while the receivables build up from nothing.
    #[arg(long, default_value_t = 3)]
    pub warm_up_months: u32,
    /// Run the simulated portfolio this many times, with seeds --seed, --seed + 1, ...,
    /// and report each figure's mean and range over them beside the first seed's report.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub replications: u32,
    /// Write the HTML report here.
    #[arg(long, value_name = "FILE", default_value = "backtest.html")]
    pub html: PathBuf,
    /// Also write the report as JSON here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// The pipeline's configuration (features, score points, limit policy, registry).
    #[command(flatten)]
    pub worker: WorkerArgs,
}

/// Where an arm's events come from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// The simulator, in closed loop.
    Simulated(&'a PortfolioArgs),
    /// A fixed log (replayed history), in order.
    History(&'a [Envelope]),
}

/// One arm: a strategy and a model.
#[derive(Debug, Clone)]
pub struct Arm {
    /// How the report names it.
    pub label: String,
    /// The strategy and its text (as activated).
    pub strategy: Strategy,
    /// The strategy's TOML text.
    pub strategy_text: String,
    /// The model activated at the start; `None`: none, or the log's own.
    pub model: Option<LoadedModel>,
    /// Honour model activations found in the log (history only).
    pub log_models: bool,
}

/// What one arm did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ArmReport {
    /// The arm's name.
    pub label: String,
    /// Strategy version.
    pub strategy_version: String,
    /// Model version activated at the start, if any.
    pub model_version: Option<String>,
    /// Input events run.
    pub events: u64,
    /// Outputs decided.
    pub outputs: u64,
    /// Days sales outstanding (30-day window), mean of the month ends after the warm-up.
    pub dso_days: Option<f64>,
    /// Collection effectiveness index (30-day window), mean of the month ends.
    pub cei: Option<f64>,
    /// Share of debtors overdue 30 days earlier that are current, mean of the month ends.
    pub cure_rate: Option<f64>,
    /// Best possible DSO: DSO × current (not overdue) share of the receivables — what the
    /// payment terms alone give; no strategy goes below it. Mean of the month ends.
    pub best_possible_dso_days: Option<f64>,
    /// Average days delinquent: DSO × overdue share of the receivables (DSO less the best
    /// possible DSO), mean of the month ends.
    pub avg_days_delinquent: Option<f64>,
    /// Reminders sent, by channel (`phone`: calls, which are tasks for a person).
    pub reminders: BTreeMap<String, u64>,
    /// Every reminder and call.
    pub reminders_total: u64,
    /// Reminders (not calls) by the strategy segment the debtor was in.
    pub reminders_by_segment: BTreeMap<String, u64>,
    /// Tasks created, by kind.
    pub tasks: BTreeMap<String, u64>,
    /// Every task created.
    pub tasks_total: u64,
    /// Payments received.
    pub payments: u64,
    /// Share of payments applied without a task for a person.
    pub auto_match_share: Option<f64>,
    /// `limit_change_recommended` alerts.
    pub limit_changes: u64,
    /// Credit holds placed.
    pub credit_holds: u64,
    /// Payment plans proposed, and confirmed (first installment paid).
    pub plans_proposed: u64,
    /// Payment plans confirmed.
    pub plans_confirmed: u64,
    /// Invoices handed to the collection agency.
    pub collection_handovers: u64,
    /// Invoiced over the run.
    pub invoiced: Decimal,
    /// Bad debt written off: open at the end of the run more than 90 days past due.
    pub bad_debt: Decimal,
    /// Bad debt by debtor type.
    pub bad_debt_by_type: BTreeMap<String, Decimal>,
    /// Receivables open at the end.
    pub open_at_end: Decimal,
    /// What the debtors did about what they received (closed loop only).
    pub responses: BTreeMap<String, u64>,
    /// Month-end figures, for the charts.
    pub months: Vec<MonthEnd>,
}

/// The KPIs at one month end.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthEnd {
    /// The last day of the month.
    pub date: NaiveDate,
    /// DSO, days.
    pub dso_days: Option<f64>,
    /// CEI, 0–1.
    pub cei: Option<f64>,
    /// Cure rate, 0–1.
    pub cure_rate: Option<f64>,
    /// Receivables overdue, share of the receivables.
    pub overdue_share: Option<f64>,
    /// Reminders and calls sent in the month.
    pub reminders: u64,
}

/// The whole backtest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestReport {
    /// `simulated, closed loop` or `replayed history`.
    pub mode: String,
    /// The portfolio (simulated) or the archive (history).
    pub source: String,
    /// Months left out of the KPI means.
    pub warm_up_months: u32,
    /// One per arm, in the order given (the first seed's, with --replications).
    pub arms: Vec<ArmReport>,
    /// With --replications: the seeds run and each arm's key figures over them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replications: Vec<Replication>,
}

/// One arm's key figures over several seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replication {
    /// The arm.
    pub label: String,
    /// The seeds, in order.
    pub seeds: Vec<u64>,
    /// DSO of each seed.
    pub dso_days: Vec<Option<f64>>,
    /// Average days delinquent of each seed.
    pub avg_days_delinquent: Vec<Option<f64>>,
    /// CEI of each seed.
    pub cei: Vec<Option<f64>>,
    /// Reminders and calls of each seed.
    pub reminders_total: Vec<u64>,
    /// Bad debt of each seed.
    pub bad_debt: Vec<Decimal>,
    /// Invoiced of each seed.
    pub invoiced: Vec<Decimal>,
}

impl Replication {
    fn of(seeds: &[u64], label: &str, runs: &[&ArmReport]) -> Replication {
        Replication {
            label: label.to_owned(),
            seeds: seeds.to_vec(),
            dso_days: runs.iter().map(|r| r.dso_days).collect(),
            avg_days_delinquent: runs.iter().map(|r| r.avg_days_delinquent).collect(),
            cei: runs.iter().map(|r| r.cei).collect(),
            reminders_total: runs.iter().map(|r| r.reminders_total).collect(),
            bad_debt: runs.iter().map(|r| r.bad_debt).collect(),
            invoiced: runs.iter().map(|r| r.invoiced).collect(),
        }
    }
}

/// Counts outputs and samples the ledger's KPIs as the arm runs.
struct Tally {
    report: ArmReport,
    month: Option<(i32, u32)>,
    month_reminders: u64,
    warm_up: u32,
}

impl Tally {
    fn new(arm: &Arm, warm_up: u32) -> Tally {
        Tally {
            report: ArmReport {
                label: arm.label.clone(),
                strategy_version: arm.strategy.version.clone(),
                model_version: arm.model.as_ref().map(|m| m.version.clone()),
                ..ArmReport::default()
            },
            month: None,
            month_reminders: 0,
            warm_up,
        }
    }

    /// Before an event: counts it; a new month closes the last one.
    fn before(&mut self, event: &Envelope, stages: &Stages) {
        self.report.events += 1;
        let date = event.event_time.date_naive();
        let month = (date.year(), date.month());
        match self.month {
            Some(m) if m != month => {
                self.close_month(&stages.ledger().kpis());
                self.month = Some(month);
            }
            None => self.month = Some(month),
            _ => {}
        }
        if matches!(event.event, InputEvent::PaymentReceived(_)) {
            self.report.payments += 1;
        }
    }

    fn close_month(&mut self, kpis: &ledger::PortfolioKpis) {
        let Some(date) = kpis.as_of else { return };
        let f = |d: Option<Decimal>| d.and_then(|d| d.to_f64());
        let open = kpis.open_balance;
        let overdue_share = (!open.is_zero())
            .then(|| ((open - kpis.aging.current) / open).to_f64())
            .flatten();
        self.report.months.push(MonthEnd {
            date,
            dso_days: f(kpis.dso_days),
            cei: f(kpis.cei),
            cure_rate: f(kpis.cure_rate),
            overdue_share,
            reminders: self.month_reminders,
        });
        self.month_reminders = 0;
    }

    fn output(&mut self, o: &OutputEnvelope) {
        let r = &mut self.report;
        r.outputs += 1;
        match &o.output {
            Output::Action(a) => match a.kind {
                ActionKind::Reminder => {
                    let channel = a.channel.map_or("unknown", |c| c.as_str());
                    *r.reminders.entry(channel.to_owned()).or_default() += 1;
                    r.reminders_total += 1;
                    let segment = a.reason.segment.as_deref().unwrap_or("unknown");
                    *r.reminders_by_segment
                        .entry(segment.to_owned())
                        .or_default() += 1;
                    self.month_reminders += 1;
                }
                ActionKind::CreditHold => r.credit_holds += 1,
                ActionKind::PaymentPlanProposed => r.plans_proposed += 1,
                ActionKind::PaymentPlanConfirmed => r.plans_confirmed += 1,
                ActionKind::CollectionHandover => {
                    r.collection_handovers += a.invoice_numbers.len().max(1) as u64;
                }
                _ => {}
            },
            Output::Task(t) if t.closure.is_none() => {
                *r.tasks.entry(t.kind.as_str().to_owned()).or_default() += 1;
                r.tasks_total += 1;
                if t.kind == TaskKind::PhoneCall {
                    *r.reminders.entry("phone".to_owned()).or_default() += 1;
                    r.reminders_total += 1;
                    self.month_reminders += 1;
                }
            }
            Output::Alert(a) if a.kind == AlertKind::LimitChangeRecommended => {
                r.limit_changes += 1;
            }
            _ => {}
        }
    }

    fn finish(mut self, stages: &Stages) -> ArmReport {
        let kpis = stages.ledger().kpis();
        self.close_month(&kpis);
        let r = &mut self.report;
        // Month ends after the warm-up (all of them when the run is too short for one).
        let skip = self.warm_up as usize;
        let kept: Vec<&MonthEnd> = if r.months.len() > skip {
            r.months.iter().skip(skip).collect()
        } else {
            r.months.iter().collect()
        };
        let mean = |f: &dyn Fn(&MonthEnd) -> Option<f64>| {
            let values: Vec<f64> = kept.iter().filter_map(|m| f(m)).collect();
            (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
        };
        r.dso_days = mean(&|m| m.dso_days);
        r.cei = mean(&|m| m.cei);
        r.cure_rate = mean(&|m| m.cure_rate);
        r.avg_days_delinquent = mean(&|m| Some(m.dso_days? * m.overdue_share?));
        r.best_possible_dso_days = mean(&|m| Some(m.dso_days? * (1.0 - m.overdue_share?)));
        let unmatched = r.tasks.get(TaskKind::UnmatchedPayment.as_str()).copied();
        r.auto_match_share =
            (r.payments > 0).then(|| 1.0 - unmatched.unwrap_or(0) as f64 / r.payments as f64);
        r.invoiced = stages.ledger().totals().invoiced;
        r.bad_debt = kpis.aging.over_90;
        if let Some(today) = kpis.as_of {
            for account in stages.ledger().debtors() {
                let kind = account
                    .master
                    .as_ref()
                    .map_or("unknown", |m| m.debtor_type.as_str());
                let written_off: Decimal = stages
                    .ledger()
                    .open_items_of(account)
                    .filter(|i| (today - i.due_date).num_days() > 90)
                    .map(|i| i.open_amount)
                    .sum();
                if !written_off.is_zero() {
                    *r.bad_debt_by_type.entry(kind.to_owned()).or_default() += written_off;
                }
            }
        }
        r.open_at_end = kpis.open_balance;
        self.report
    }
}

/// An activation event at `at` for the arm's model.
fn model_activation(model: &LoadedModel, at: DateTime<Utc>) -> Envelope {
    Envelope {
        schema_version: events::CURRENT_SCHEMA_VERSION,
        event_id: format!("backtest-model-{}", model.version),
        event_time: at,
        event: InputEvent::ModelActivated(ModelActivated {
            role: ModelRole::Champion,
            version: model.version.clone(),
            sha256: Some(model.sha256.clone()),
            activated_by: "backtest".into(),
            reason: "the arm's model".into(),
        }),
    }
}

/// Runs one arm from `source` to its end.
pub fn run_arm(
    config: &WorkerConfig,
    source: Source<'_>,
    arm: &Arm,
    warm_up_months: u32,
    registry: Option<&crate::registry::Registry>,
) -> Result<ArmReport, PipelineError> {
    let mut stages = stages_for(config)?;
    let mut tally = Tally::new(arm, warm_up_months);
    // The arm's model and strategy, activated by events at the start of the log.
    let open = |stages: &mut Stages, first: DateTime<Utc>| -> Result<(), PipelineError> {
        if let Some(model) = &arm.model {
            stages.offer_model(&model.version, Ok(model.clone()));
            stages.process(&model_activation(model, first))?;
        }
        stages.process(&crate::strategy::activation_event(
            &arm.strategy,
            &arm.strategy_text,
            "backtest",
            "the arm's strategy",
            first,
        )?)?;
        Ok(())
    };
    match source {
        Source::Simulated(portfolio) => {
            let mut sim = crate::simulate::simulator(portfolio)?;
            let first = portfolio
                .start
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc())
                .unwrap_or_default();
            open(&mut stages, first)?;
            let mut responses: BTreeMap<&'static str, u64> = BTreeMap::new();
            while let Some(event) = sim.next() {
                tally.before(&event, &stages);
                for o in stages.process(&event)? {
                    tally.output(&o);
                    *responses.entry(sim.respond(&o).as_str()).or_default() += 1;
                }
            }
            responses.remove(simulator::Response::NotConcerned.as_str());
            tally.report.responses = responses
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
        }
        Source::History(log) => {
            let Some(first) = log.first() else {
                return Ok(tally.finish(&stages));
            };
            open(&mut stages, first.event_time)?;
            for event in log {
                match &event.event {
                    // The arm's strategy stays in force.
                    InputEvent::StrategyActivated(_) => continue,
                    InputEvent::ModelActivated(_) => {
                        if !arm.log_models {
                            continue;
                        }
                        if let Some(registry) = registry {
                            futures::executor::block_on(
                                registry.offer_activation(&mut stages, event),
                            )?;
                        }
                    }
                    _ => {}
                }
                tally.before(event, &stages);
                for o in stages.process(event)? {
                    tally.output(&o);
                }
            }
        }
    }
    Ok(tally.finish(&stages))
}

/// A strategy named on the command line.
pub fn strategy_arm(spec: &str) -> Result<(Strategy, String), PipelineError> {
    let builtin = |name: &str, text: &str| {
        Strategy::parse(name, text)
            .map(|s| (s, text.to_owned()))
            .map_err(|e| PipelineError::InvalidInput(e.to_string()))
    };
    match spec {
        "segmented" | "builtin" => builtin(
            "segmented (built in)",
            decisions::strategy::BUILTIN_STRATEGY,
        ),
        "static" => builtin("static (built in)", decisions::strategy::STATIC_STRATEGY),
        path => crate::strategy::read_strategy(std::path::Path::new(path)),
    }
}

/// The arms of `args`: every strategy with every model.
async fn arms(
    args: &BacktestArgs,
    registry: &crate::registry::Registry,
) -> Result<Vec<Arm>, PipelineError> {
    let mut strategies = Vec::new();
    for spec in &args.strategies {
        strategies.push(strategy_arm(spec)?);
    }
    let default_model = if args.archive.is_some() {
        "log"
    } else {
        "trained"
    };
    let model_specs: Vec<String> = if args.models.is_empty() {
        vec![default_model.to_owned()]
    } else {
        args.models.clone()
    };
    let mut models: Vec<(Option<LoadedModel>, bool)> = Vec::new();
    for spec in &model_specs {
        models.push(match spec.as_str() {
            "none" => (None, false),
            "log" if args.archive.is_some() => (None, true),
            "log" => {
                return Err(PipelineError::InvalidOption {
                    name: "--model",
                    reason: "`log` takes the model activations of --archive; there is none".into(),
                });
            }
            "trained" => {
                // On a history of its own, apart from every replication's portfolio.
                let history = PortfolioArgs {
                    seed: args.portfolio.seed.wrapping_add(TRAINING_SEED_OFFSET - 1),
                    ..args.portfolio.clone()
                };
                let artifact = crate::demo::demo_model(&history)?;
                let bytes = serde_json::to_vec(&artifact)
                    .map_err(|e| PipelineError::Internal(format!("model artifact: {e}")))?;
                eprintln!(
                    "trained risk model {} on another simulated history: validation AUC {:.3}",
                    artifact.metadata.version, artifact.metadata.metrics.auc
                );
                (
                    Some(LoadedModel::from_bytes(&artifact.metadata.version, &bytes)?),
                    false,
                )
            }
            version => {
                let loaded = registry
                    .for_activation(version)
                    .await?
                    .map_err(PipelineError::InvalidInput)?;
                (Some(loaded), false)
            }
        });
    }
    let mut arms = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (strategy, text) in &strategies {
        for ((model, log_models), spec) in models.iter().zip(&model_specs) {
            let label = if model_specs.len() > 1 {
                format!("{} / {spec}", strategy.version)
            } else {
                strategy.version.clone()
            };
            if !seen.insert(label.clone()) {
                return Err(PipelineError::InvalidOption {
                    name: "--strategy",
                    reason: format!("{label} is given twice"),
                });
            }
            arms.push(Arm {
                label,
                strategy: strategy.clone(),
                strategy_text: text.clone(),
                model: model.clone(),
                log_models: *log_models,
            });
        }
    }
    Ok(arms)
}

/// Runs every arm, each on a thread of its own.
pub fn run_arms(
    config: &WorkerConfig,
    source: Source<'_>,
    arms: &[Arm],
    warm_up_months: u32,
    registry: Option<&crate::registry::Registry>,
) -> Result<Vec<ArmReport>, PipelineError> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = arms
            .iter()
            .map(|arm| {
                scope.spawn(move || {
                    let started = Instant::now();
                    let report = run_arm(config, source, arm, warm_up_months, registry)?;
                    let seconds = started.elapsed().as_secs_f64();
                    eprintln!(
                        "arm {}: {} events in {seconds:.1} s ({:.0} events/s)",
                        arm.label,
                        report.events,
                        report.events as f64 / seconds.max(1e-9)
                    );
                    Ok::<_, PipelineError>(report)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| PipelineError::Internal("a backtest arm panicked".into()))?
            })
            .collect()
    })
}

/// Runs `creditstream backtest`.
pub async fn run(args: BacktestArgs) -> Result<(), PipelineError> {
    if args.strategies.is_empty() {
        return Err(PipelineError::InvalidOption {
            name: "--strategy",
            reason: "give at least one strategy".into(),
        });
    }
    if args.worker.archive_dir.is_some() {
        return Err(PipelineError::InvalidOption {
            name: "--archive-dir",
            reason: "a backtest writes no archive; read one with --archive DIR".into(),
        });
    }
    let config = args.worker.config(events::Subjects::new(
        events::subjects::DEFAULT_PREFIX,
        events::subjects::DEFAULT_PARTITIONS,
    ))?;
    let registry = crate::registry::Registry::Directory(
        config
            .registry_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("models")),
    );
    let arms = arms(&args, &registry).await?;
    let warm_up = args.warm_up_months;
    let report = match &args.archive {
        Some(dir) => {
            let mut log = Vec::new();
            let mut skipped = 0u64;
            crate::archive::read_events(dir, async |_, bytes| {
                match Envelope::decode(bytes, config.max_event_bytes) {
                    Ok(e) => log.push(e),
                    Err(_) => skipped += 1,
                }
                Ok(())
            })
            .await?;
            eprintln!(
                "read {} events from {} ({skipped} the worker would dead-letter, skipped)",
                log.len(),
                dir.display()
            );
            let reports = tokio::task::block_in_place(|| {
                run_arms(
                    &config,
                    Source::History(&log),
                    &arms,
                    warm_up,
                    Some(&registry),
                )
            })?;
            BacktestReport {
                mode: "replayed history".into(),
                source: dir.display().to_string(),
                warm_up_months: warm_up,
                arms: reports,
                replications: Vec::new(),
            }
        }
        None => {
            let p = &args.portfolio;
            let seeds: Vec<u64> = (0..u64::from(args.replications))
                .map(|i| p.seed.wrapping_add(i))
                .collect();
            let mut runs: Vec<Vec<ArmReport>> = Vec::new();
            for &seed in &seeds {
                let portfolio = PortfolioArgs { seed, ..p.clone() };
                if seeds.len() > 1 {
                    eprintln!("seed {seed}:");
                }
                runs.push(tokio::task::block_in_place(|| {
                    run_arms(&config, Source::Simulated(&portfolio), &arms, warm_up, None)
                })?);
            }
            let replications = if seeds.len() > 1 {
                arms.iter()
                    .enumerate()
                    .map(|(i, arm)| {
                        let of_arm: Vec<&ArmReport> = runs.iter().map(|r| &r[i]).collect();
                        Replication::of(&seeds, &arm.label, &of_arm)
                    })
                    .collect()
            } else {
                Vec::new()
            };
            BacktestReport {
                mode: "simulated, closed loop".into(),
                source: format!(
                    "{} debtors, {} months from {}, seed {}",
                    p.debtors, p.months, p.start, p.seed
                ),
                warm_up_months: warm_up,
                arms: runs.swap_remove(0),
                replications,
            }
        }
    };
    print!("{}", text(&report));
    crate::train::write_atomically(&args.html, html(&report).as_bytes())?;
    eprintln!("report written to {}", args.html.display());
    if let Some(path) = &args.json {
        let json = serde_json::to_vec_pretty(&report)
            .map_err(|e| PipelineError::Internal(format!("report: {e}")))?;
        crate::train::write_atomically(path, &json)?;
    }
    Ok(())
}
