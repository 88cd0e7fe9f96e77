//! Times the simulator, the JSON codec and the stages (ledger → decisions) in-process on a
//! simulated portfolio.
//!
//! `cargo run --release -p benches --bin stage-throughput -- [DEBTORS] [MONTHS]`

use std::time::Instant;

use events::Envelope;
use pipeline::stages::Stages;
use simulator::{SimConfig, Simulator};

fn main() {
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
    for e in &decoded {
        outputs += stages.process(e).expect("stages run").len();
    }
    report("stages (ledger → features → decisions)", decoded.len(), t);
    println!(
        "portfolio: {debtors} debtors, {months} months, {} events, {:.0} bytes/event on the wire, {outputs} outputs",
        events.len(),
        bytes as f64 / events.len().max(1) as f64
    );
}

fn report(what: &str, n: usize, since: Instant) {
    let secs = since.elapsed().as_secs_f64();
    println!(
        "{what:<28} {n:>9} events in {secs:>7.3} s = {:>10.0} events/s",
        n as f64 / secs.max(1e-9)
    );
}
