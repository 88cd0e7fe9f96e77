//! Times the feature stage alone (facts → DataFusion partial aggregates → merge into
//! tiles → windows sliding, and the features of the debtors that changed) at micro-batches
//! of 1k, 10k and 100k events, beside the bare DataFusion aggregate (a six-aggregate
//! `GROUP BY debtor` over the same fact batches, planned per batch as a user would), and
//! measures the state kept per debtor.
//!
//! `cargo run --release -p benches --bin feature-stage -- [DEBTORS] [MONTHS] [STATE_DEBTORS]`
//! (`BATCHES=10000` times that batch size only; `STAGE_ONLY=1` leaves out all but the
//! feature stage's own column and the state measurement, `STAGE_ONLY=features` all but
//! the column with the features of the debtors that changed, for profiling them;
//! `REPEAT=N` with `STAGE_ONLY` times that column N times, so that a profile of the whole
//! process is mostly the stage's)
//!
//! The portfolio (default 20 000 debtors, 12 months) is simulated and run through the
//! ledger once, untimed, to get each event's facts. For the state measurement the same
//! history is replayed under `STATE_DEBTORS / DEBTORS` copies of every debtor (default
//! 1 000 000 debtors in all) at 10k-event batches.

use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use events::Envelope;
use features::{
    Definitions, Fact, FactBuilder, FeatureConfig, FeatureStore, StandingInputs, StandingSource,
    Window, day_number, facts_of, facts_schema,
};
use ledger::{Ledger, LedgerConfig};
use simulator::{SimConfig, Simulator};

/// Standing is the ledger's to read; the bench leaves it empty.
struct NoStanding;

impl StandingSource for NoStanding {
    fn standing(&self, _: &str, _: chrono::NaiveDate, windows: &[Window]) -> StandingInputs {
        StandingInputs {
            overdue_over: vec![Default::default(); windows.len()],
            ..StandingInputs::default()
        }
    }
}

fn main() {
    // The allocator the pipeline runs with (the bare DataFusion reference gets it too).
    pipeline::tune_allocator(pipeline::MemoryUse::Churning);
    let mut args = std::env::args().skip(1);
    let parse = |a: Option<String>, default: u32| match a {
        None => default,
        Some(a) => a.parse().unwrap_or_else(|_| usage(&a)),
    };
    let debtors = parse(args.next(), 20_000);
    let months = parse(args.next(), 12);
    let state_debtors = parse(args.next(), 1_000_000);
    let config = SimConfig {
        debtors,
        months,
        ..SimConfig::default()
    }
    .check()
    .unwrap_or_else(|e| usage(&e.to_string()));

    // For profiling one column: `STAGE_ONLY=features` times the stage with the features
    // of the debtors that changed, any other value the stage alone.
    let stage_only = std::env::var("STAGE_ONLY").ok();
    let repeat = match benches::env_setting::<usize>("REPEAT") {
        None => 1,
        Some(0) => usage("REPEAT: 0 is not a count"),
        Some(n) => n,
    };
    if repeat > 1 && stage_only.is_none() {
        usage("REPEAT repeats one column: set STAGE_ONLY too");
    }
    let batches = batch_sizes();
    let t = Instant::now();
    let events: Vec<Envelope> = Simulator::new(config).collect();
    let mut ledger = Ledger::new(LedgerConfig::default());
    let mut history: Vec<(i32, Vec<Fact>)> = Vec::with_capacity(events.len());
    for e in &events {
        let mut effects = ledger.advance_to(e.event_time);
        effects.extend(ledger.apply(e));
        history.push((
            day_number(e.event_time.date_naive()),
            facts_of(e, &effects, &ledger),
        ));
    }
    let facts: usize = history.iter().map(|(_, f)| f.len()).sum();
    println!(
        "portfolio: {debtors} debtors, {months} months, {} events, {facts} facts ({:.2} per event); prepared in {:.1}s",
        history.len(),
        facts as f64 / history.len() as f64,
        t.elapsed().as_secs_f64()
    );
    println!();
    println!(
        "{:>7} | {:>30} | {:>30} | {:>30} | {:>6}",
        "batch",
        "feature stage: ev/s p50 p99",
        "+ features of changed: ev/s p50 p99",
        "bare DataFusion: ev/s p50 p99",
        "ratio"
    );
    for batch in batches {
        if let Some(only) = &stage_only {
            for _ in 0..repeat {
                let timing = run_stage(&history, batch, only == "features");
                println!("{batch:>7} | {}", timing.line());
            }
            continue;
        }
        let stage = run_stage(&history, batch, false);
        let with_features = run_stage(&history, batch, true);
        let bare = run_bare(&history, batch);
        let partial = run_partial(&history, batch);
        println!(
            "{batch:>7} | {} | {} | {} | {:>5.2}x | {}",
            stage.line(),
            with_features.line(),
            bare.line(),
            stage.per_event() / bare.per_event(),
            partial.line()
        );
    }

    let copies = (state_debtors / debtors).max(1);
    let t = Instant::now();
    let (store, events_in) = run_state(&history, copies);
    let n = store.slots().len();
    let bytes = store.state_bytes();
    println!();
    println!(
        "state: {n} debtors after {events_in} events ({copies} copies of the portfolio, 10k batches, {:.1}s): {} bytes, {:.0} bytes per debtor",
        t.elapsed().as_secs_f64(),
        bytes,
        bytes as f64 / n as f64
    );
}

/// The batch sizes to time: 1k, 10k and 100k, or those of `BATCHES` (comma-separated,
/// e.g. `BATCHES=10000` to profile one size).
fn batch_sizes() -> Vec<usize> {
    match std::env::var("BATCHES") {
        Err(_) => vec![1_000, 10_000, 100_000],
        Ok(list) => list
            .split(',')
            .map(|b| match b.trim().parse() {
                Ok(n) if n > 0 => n,
                _ => usage(&format!("BATCHES: {b:?} is not a batch size")),
            })
            .collect(),
    }
}

fn usage(why: &str) -> ! {
    eprintln!("error: {why}\nusage: feature-stage [DEBTORS] [MONTHS] [STATE_DEBTORS]");
    std::process::exit(2);
}

struct Timing {
    events: usize,
    total: Duration,
    batches: Vec<Duration>,
}

impl Timing {
    fn per_event(&self) -> f64 {
        self.total.as_secs_f64() / self.events as f64
    }

    fn line(&self) -> String {
        let mut ms: Vec<f64> = self.batches.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        format!(
            "{:>9.0} {:>7.2}ms {:>7.2}ms",
            self.events as f64 / self.total.as_secs_f64(),
            benches::percentile(&ms, 0.5),
            benches::percentile(&ms, 0.99)
        )
    }
}

/// The feature stage over the history in batches of `batch` events.
fn run_stage(history: &[(i32, Vec<Fact>)], batch: usize, features: bool) -> Timing {
    let definitions = Definitions::builtin().expect("built-in definitions");
    let config = FeatureConfig {
        batch_max_events: batch,
        ..FeatureConfig::default()
    };
    let mut store = FeatureStore::new(definitions, config).expect("feature store");
    let mut timing = Timing {
        events: history.len(),
        total: Duration::ZERO,
        batches: Vec::new(),
    };
    for chunk in history.chunks(batch) {
        let t = Instant::now();
        for (day, facts) in chunk {
            store.observe_facts(*day, facts);
        }
        let report = store.flush().expect("flush");
        if features {
            let today = store.watermark().unwrap_or_default();
            let f = store
                .features(&report.changed, today, &NoStanding)
                .expect("features");
            std::hint::black_box(f);
        }
        let d = t.elapsed();
        timing.total += d;
        timing.batches.push(d);
    }
    timing
}

/// Our planned partial-aggregate query alone over the same fact batches.
fn run_partial(history: &[(i32, Vec<Fact>)], batch: usize) -> Timing {
    let definitions = Definitions::builtin().expect("built-in definitions");
    let store = FeatureStore::new(definitions, FeatureConfig::default()).expect("store");
    let batches = fact_batches(history, batch);
    let mut timing = Timing {
        events: history.len(),
        total: Duration::ZERO,
        batches: Vec::new(),
    };
    for b in batches {
        let t = Instant::now();
        let out = store
            .engine()
            .partial_aggregates(b)
            .expect("partial aggregates");
        std::hint::black_box(out);
        let d = t.elapsed();
        timing.total += d;
        timing.batches.push(d);
    }
    timing
}

fn fact_batches(history: &[(i32, Vec<Fact>)], batch: usize) -> Vec<RecordBatch> {
    let mut slots = features::DebtorSlots::default();
    history
        .chunks(batch)
        .map(|chunk| {
            let mut b = FactBuilder::new();
            for (_, facts) in chunk {
                b.push_all(&mut slots, facts);
            }
            b.finish().expect("facts batch")
        })
        .collect()
}

/// DataFusion alone: the same facts as batches, a six-aggregate `GROUP BY debtor` planned
/// and run per batch.
fn run_bare(history: &[(i32, Vec<Fact>)], batch: usize) -> Timing {
    let batches = fact_batches(history, batch);
    let mut timing = Timing {
        events: history.len(),
        total: Duration::ZERO,
        batches: Vec::new(),
    };
    let config = datafusion::prelude::SessionConfig::new().with_target_partitions(1);
    for b in batches {
        let t = Instant::now();
        let ctx = SessionContext::new_with_config(config.clone());
        let table = MemTable::try_new(facts_schema(), vec![vec![b]]).expect("table");
        ctx.register_table("facts", Arc::new(table))
            .expect("register");
        let out = futures::executor::block_on(async {
            ctx.sql(
                "SELECT debtor, count(*), sum(amount), max(days_late), min(day), sum(days_late), count(method) \
                 FROM facts GROUP BY debtor",
            )
            .await?
            .collect()
            .await
        })
        .expect("bare aggregate");
        std::hint::black_box(out);
        let d = t.elapsed();
        timing.total += d;
        timing.batches.push(d);
    }
    timing
}

/// The history under `copies` copies of every debtor, for the state size.
fn run_state(history: &[(i32, Vec<Fact>)], copies: u32) -> (FeatureStore, usize) {
    let definitions = Definitions::builtin().expect("built-in definitions");
    let mut store = FeatureStore::new(definitions, FeatureConfig::default()).expect("store");
    let mut events = 0;
    let mut renamed: Vec<Fact> = Vec::new();
    for (day, facts) in history {
        for c in 0..copies {
            renamed.clear();
            renamed.extend(facts.iter().map(|f| Fact {
                debtor_id: format!("{}-{c}", f.debtor_id).into(),
                ..f.clone()
            }));
            store.observe_facts(*day, &renamed);
            events += 1;
            if store.batch_full() {
                store.flush().expect("flush");
            }
        }
    }
    store.flush().expect("flush");
    (store, events)
}
