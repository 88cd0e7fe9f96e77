//! Times the simulator, the JSON codec and the stages (ledger → decisions) in-process on a
//! simulated portfolio, without a model and with one activated first (scoring at score
//! points, every 1000 events and at each clock tick), then the pause of the score point of
//! the model activated again over every debtor, and writing and reading the state
//! at the end as a checkpoint: whole (a base, written off the stage loop when deltas are
//! folded) and as the delta of the last 20,000 events (two seconds at 10k events/s: the
//! copy is the stage loop's pause, the encoding is done by the writing task), with what
//! the delta is made of, stage by stage. With the model, each event is timed too: the
//! first event of each event-time day (aging, dunning, windows sliding) apart from the
//! others.
//!
//! `SCORE_MAX_DEBTORS=<n>` caps score points at `n` debtors instead of the default 1,000;
//! `SCORE_THREADS=<n>` scores their debtors on `n` threads instead of 2.
//!
//! `PAUSE_EVERY=<n>` waits 0.5 ms before every `n`-th event of the run with the model, as
//! the stage loop waits for input between small batches at a steady rate: asleep
//! (`std::thread::sleep`), or with `SPIN=1` looking again and again, yielding the core
//! (as `pipeline::spin` does). The waits are left out of the stages' time: what is left
//! is what the stages cost when they run in small groups, their caches cold or warm.
//!
//! Beside the costs, the stage costs alone as a queue: each event's latency if events came
//! evenly at 5,000, 10,000 and 20,000 per second and were processed one at a time, as the
//! stage loop does, with nothing else on its core — the floor under the end-to-end
//! latency at that rate. And a fingerprint of the outputs in order, to compare builds.
//!
//! `cargo run --release -p benches --bin stage-throughput -- [DEBTORS] [MONTHS]`

use std::time::Instant;

use events::Envelope;
use pipeline::stages::Stages;
use simulator::{SimConfig, Simulator};

fn main() {
    pipeline::tune_allocator(pipeline::MemoryUse::Churning);
    let mut args = std::env::args().skip(1);
    let debtors = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let months = args.next().and_then(|a| a.parse().ok()).unwrap_or(12);
    let config = SimConfig {
        debtors,
        months,
        ..SimConfig::default()
    };
    let config = match config.check() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}\nusage: stage-throughput [DEBTORS] [MONTHS]");
            std::process::exit(2);
        }
    };

    let t = Instant::now();
    let events: Vec<Envelope> = Simulator::new(config).collect();
    report("simulate", events.len(), t);

    let t = Instant::now();
    let wire: Vec<Vec<u8>> = events.iter().map(Envelope::to_json).collect();
    report("encode JSON", events.len(), t);
    let bytes: usize = wire.iter().map(Vec::len).sum();

    let t = Instant::now();
    let decoded: Vec<Envelope> = wire
        .iter()
        .filter_map(|w| Envelope::decode(w, events::DEFAULT_MAX_EVENT_BYTES).ok())
        .collect();
    report("decode + validate", decoded.len(), t);
    assert_eq!(decoded.len(), events.len(), "every simulated event decodes");

    let t = Instant::now();
    let mut stages = Stages::default();
    let mut outputs = 0_usize;
    let journal_from = decoded.len().saturating_sub(DELTA_EVENTS);
    for (i, e) in decoded.iter().enumerate() {
        if i == journal_from {
            stages.start_journal();
        }
        outputs += stages.process(e).expect("stages run").len();
    }
    report("stages (ledger → features → decisions)", decoded.len(), t);
    stages.flush_features().expect("features flush");
    checkpoint(&stages);
    delta(&mut stages, decoded.len() - journal_from);

    // The same with a risk model trained on another simulated history, activated first.
    let portfolio = pipeline::cli::PortfolioArgs {
        debtors,
        months,
        seed: SimConfig::default().seed,
        start: SimConfig::default().start,
    };
    let t = Instant::now();
    let artifact = pipeline::demo::demo_model(&portfolio).expect("trains");
    let stored = artifact.to_json().expect("json");
    let version = artifact.metadata.version.clone();
    println!(
        "trained {version} in {:.2} s (validation AUC {:.3})",
        t.elapsed().as_secs_f64(),
        artifact.metadata.metrics.auc
    );
    let activation = Envelope {
        schema_version: 1,
        event_id: "bench-activation".into(),
        event_time: decoded[0].event_time,
        event: events::InputEvent::ModelActivated(events::ModelActivated {
            role: events::ModelRole::Champion,
            version: version.clone(),
            sha256: None,
            activated_by: "bench".into(),
            reason: String::new(),
        }),
    };
    let mut stages = Stages::default();
    // SCORE_MAX_DEBTORS=<n>: debtors a score point scores at most (default 1,000);
    // SCORE_THREADS=<n>: threads it scores them on (default 2).
    let mut scoring = pipeline::scoring::ScoringConfig::default();
    if let Some(n) = benches::env_setting("SCORE_MAX_DEBTORS") {
        scoring.max_debtors = n;
    }
    if let Some(n) = benches::env_setting("SCORE_THREADS") {
        scoring.threads = n;
    }
    stages
        .configure_scoring(scoring)
        .expect("valid SCORE_MAX_DEBTORS and SCORE_THREADS");
    let loaded = pipeline::scoring::LoadedModel::from_bytes(&version, &stored).expect("loads");
    stages.offer_model(&version, Ok(loaded));
    stages.process(&activation).expect("activation");
    assert!(stages.models().champion().is_some(), "the model was taken");
    let mut with_model = 0_usize;
    let mut kinds: std::collections::BTreeMap<&'static str, usize> = Default::default();
    let mut scored = 0_usize;
    let mut points = Vec::new();
    // Each event's time, and whether it was the first of a new day (event time).
    let mut each: Vec<(f64, bool)> = Vec::with_capacity(decoded.len());
    let mut day = None;
    // A fingerprint of every output in order, to compare two builds' outputs; the time
    // its JSON takes is left out of the stages' time.
    let mut fingerprint = std::hash::DefaultHasher::new();
    let mut fingerprinting = std::time::Duration::ZERO;
    let pause_every: usize = benches::env_setting("PAUSE_EVERY").unwrap_or(0);
    let spin = std::env::var_os("SPIN").is_some();
    let mut waited = std::time::Duration::ZERO;
    let t = Instant::now();
    for (i, e) in decoded.iter().enumerate() {
        if pause_every > 0 && i % pause_every == 0 {
            waited += pause(spin);
        }
        let started = Instant::now();
        let processed = stages.process_with_effects(e).expect("stages run");
        let new_day = day.replace(e.event_time.date_naive()) != Some(e.event_time.date_naive());
        each.push((started.elapsed().as_secs_f64() * 1e3, new_day));
        with_model += processed.outputs.len();
        let hashing = Instant::now();
        for o in &processed.outputs {
            *kinds.entry(o.output.kind_label()).or_insert(0) += 1;
            std::hash::Hash::hash(&o.to_json(), &mut fingerprint);
        }
        fingerprinting += hashing.elapsed();
        if processed.scored > 0 {
            scored += processed.scored;
            points.push(started.elapsed().as_secs_f64());
        }
    }
    report_time(
        "stages with a model",
        decoded.len(),
        t.elapsed()
            .saturating_sub(fingerprinting)
            .saturating_sub(waited),
    );
    let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!(
        "outputs with a model: {}; fingerprint {:016x}",
        kinds.join(", "),
        std::hash::Hasher::finish(&fingerprint)
    );
    points.sort_by(f64::total_cmp);
    let at = |q: f64| benches::percentile(&points, q) * 1e3;
    if !points.is_empty() {
        println!(
            "score points: {}, {scored} debtor scorings, per point p50 {:.2} ms p99 {:.2} ms max {:.2} ms, {with_model} outputs; {} debtors waiting at the end",
            points.len(),
            at(0.5),
            at(0.99),
            at(1.0),
            stages.models().waiting()
        );
    }
    let split = |first: bool| -> Vec<f64> {
        let mut ms: Vec<f64> = each.iter().filter(|e| e.1 == first).map(|e| e.0).collect();
        ms.sort_by(f64::total_cmp);
        ms
    };
    for (what, ms) in [("first of a day", split(true)), ("others", split(false))] {
        let total: f64 = ms.iter().sum();
        println!(
            "  per event, {what}: {} events, {total:.0} ms in all, {}",
            ms.len(),
            quantiles(&ms)
        );
    }
    // The stage costs alone as a queue: events arriving evenly at each rate, processed one
    // at a time in order on one core; an event's latency is from its arrival to the end of
    // its processing (its score point's included). What the stage loop would give with
    // nothing else on its core: the floor under the end-to-end latency at that rate.
    for rate in [5_000.0, 10_000.0, 20_000.0] {
        let mut latency = queued_latency(&each, rate);
        latency.sort_by(f64::total_cmp);
        println!(
            "  queued at {rate:.0} events/s (stage costs alone): latency {}",
            quantiles(&latency)
        );
    }
    // The model activated again with every debtor known: the pause of its own score point
    // (the others follow at the next ones).
    let again = Envelope {
        event_id: "bench-activation-again".into(),
        event_time: decoded
            .last()
            .map_or(activation.event_time, |e| e.event_time),
        ..activation.clone()
    };
    let loaded = pipeline::scoring::LoadedModel::from_bytes(&version, &stored).expect("loads");
    stages.offer_model(&version, Ok(loaded));
    let started = Instant::now();
    let processed = stages.process_with_effects(&again).expect("activation");
    println!(
        "activation over {} debtors: its score point {:.1} ms for {} debtors, {} waiting for the next ones",
        stages.features().slots().len(),
        started.elapsed().as_secs_f64() * 1e3,
        processed.scored,
        stages.models().waiting()
    );
    println!(
        "portfolio: {debtors} debtors, {months} months, {} events, {:.0} bytes/event on the wire, {outputs} outputs",
        events.len(),
        bytes as f64 / events.len().max(1) as f64
    );
}

/// p50, p99, p99.9 and max of `sorted` (ms, ascending), as the per-event lines print them.
fn quantiles(sorted: &[f64]) -> String {
    let q = |p: f64| benches::percentile(sorted, p);
    format!(
        "p50 {:.3} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        q(0.5),
        q(0.99),
        q(0.999),
        q(1.0)
    )
}

/// Each event's latency in ms (arrival to the end of its processing) when events costing
/// `each` (ms, in order) arrive evenly at `rate` per second and are processed one at a time.
fn queued_latency(each: &[(f64, bool)], rate: f64) -> Vec<f64> {
    let gap = 1e3 / rate;
    let mut free_at = 0.0_f64;
    each.iter()
        .enumerate()
        .map(|(i, &(cost, _))| {
            let arrival = i as f64 * gap;
            free_at = free_at.max(arrival) + cost;
            free_at - arrival
        })
        .collect()
}

/// Times writing and reading the stages' state as a checkpoint does (JSON), without the
/// object store.
fn checkpoint(stages: &Stages) {
    let t = Instant::now();
    let bytes = serde_json::to_vec(stages).expect("the state serialises");
    let encode = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let restored: Stages = serde_json::from_slice(&bytes).expect("the state reads back");
    let decode = t.elapsed().as_secs_f64();
    assert_eq!(
        restored.ledger().debtor_count(),
        stages.ledger().debtor_count()
    );
    println!(
        "checkpoint (JSON)            {:.1} MB written in {encode:.3} s, read in {decode:.3} s",
        bytes.len() as f64 / 1e6
    );
}

/// Events in the timed delta.
const DELTA_EVENTS: usize = 20_000;

/// Times the copy a checkpoint's delta takes of the state (the stage loop's pause) and
/// its encoding.
fn delta(stages: &mut Stages, events: usize) {
    let t = Instant::now();
    let delta = stages.take_delta().expect("the delta is taken");
    let pause = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let bytes = serde_json::to_vec(&delta).expect("the delta serialises");
    let encode = t.elapsed().as_secs_f64();
    println!(
        "checkpoint delta             {events} events: pause {:.1} ms, {} history entries, {:.1} MB encoded in {encode:.3} s",
        pause * 1e3,
        delta.ledger().history_entries(),
        bytes.len() as f64 / 1e6
    );
    // What the delta is made of, stage by stage.
    let parts: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes).expect("the delta reads back");
    let parts: Vec<String> = parts
        .iter()
        .map(|(stage, v)| {
            let size = serde_json::to_vec(v).map_or(0, |b| b.len());
            format!("{stage} {:.1} MB", size as f64 / 1e6)
        })
        .collect();
    println!("  delta by stage: {}", parts.join(", "));
}

fn report(what: &str, n: usize, since: Instant) {
    report_time(what, n, since.elapsed());
}

/// Prints `n` events done in `time` and the rate.
fn report_time(what: &str, n: usize, time: std::time::Duration) {
    let secs = time.as_secs_f64();
    println!(
        "{what:<28} {n:>9} events in {secs:>7.3} s = {:>10.0} events/s",
        n as f64 / secs.max(1e-9)
    );
}

/// Waits 0.5 ms, asleep or spinning as the stage loop does ([`pipeline::spin::Spin`] on
/// input that never comes, yielding the core at each turn); returns how long.
fn pause(spin: bool) -> std::time::Duration {
    let started = Instant::now();
    let wait = std::time::Duration::from_micros(500);
    if spin {
        let mut never = pipeline::spin::Spin::new(std::future::pending::<()>(), wait);
        let mut waker = std::task::Context::from_waker(std::task::Waker::noop());
        let _pending = std::future::Future::poll(std::pin::Pin::new(&mut never), &mut waker);
    } else {
        std::thread::sleep(wait);
    }
    started.elapsed()
}
