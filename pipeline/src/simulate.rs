//! `creditstream simulate`: the portfolio simulator's edge — JSON lines to a file or events
//! into the input stream, with progress and a one-line summary.

use std::io::Write;
use std::time::Instant;

use simulator::{SimConfig, Simulator};

use crate::cli::{PortfolioArgs, SimulateArgs};
use crate::error::PipelineError;
use crate::publish::EventPublisher;

/// Builds the simulator for a portfolio.
pub fn simulator(portfolio: &PortfolioArgs) -> Result<Simulator, PipelineError> {
    let config = SimConfig {
        seed: portfolio.seed,
        debtors: portfolio.debtors,
        months: portfolio.months,
        start: portfolio.start,
        ..SimConfig::default()
    };
    Ok(Simulator::new(config.check()?))
}

/// Runs the command.
pub async fn run(args: SimulateArgs) -> Result<(), PipelineError> {
    let started = Instant::now();
    let mut sim = simulator(&args.portfolio)?;
    let progress = crate::progress::counter("simulating");
    let mut count = 0_u64;
    match (&args.out, &args.nats.nats_url) {
        (Some(path), _) => {
            let io = |e| PipelineError::Io(format!("writing {}", path.display()), e);
            let sink: Box<dyn Write> = if path.as_os_str() == "-" {
                Box::new(std::io::stdout().lock())
            } else {
                Box::new(std::fs::File::create(path).map_err(io)?)
            };
            let mut out = std::io::BufWriter::new(sink);
            for event in sim.by_ref() {
                out.write_all(&event.to_json()).map_err(io)?;
                out.write_all(b"\n").map_err(io)?;
                count += 1;
                if count.is_multiple_of(4096) {
                    progress.set_position(count);
                }
            }
            out.flush().map_err(io)?;
        }
        (None, Some(url)) => {
            let (_client, js) = crate::broker::connect(&args.nats.options(url.clone())).await?;
            let subjects = args.nats.subjects();
            crate::broker::ensure_streams(&js, &subjects).await?;
            let mut publisher = EventPublisher::new(js, subjects);
            for event in sim.by_ref() {
                publisher.publish(&event).await?;
                count += 1;
                if count.is_multiple_of(4096) {
                    progress.set_position(count);
                }
            }
            publisher.flush().await?;
        }
        (None, None) => {
            return Err(PipelineError::InvalidOption {
                name: "--out",
                reason: "give --out FILE or --nats-url URL".into(),
            });
        }
    }
    progress.finish_and_clear();
    if let Some(path) = &args.truth {
        let io = |e| PipelineError::Io(format!("writing {}", path.display()), e);
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
        sim.truth().write_jsonl(&mut out).map_err(io)?;
        out.flush().map_err(io)?;
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "simulated {count} events for {} debtors over {} months (seed {}) in {secs:.1} s ({:.0} events/s)",
        args.portfolio.debtors,
        args.portfolio.months,
        args.portfolio.seed,
        count as f64 / secs.max(1e-9)
    );
    Ok(())
}
