//! `creditstream strategy`: check a strategy config, and activate it by publishing a
//! `strategy_activated` event (carrying the file's text) into the input stream. The
//! running pipeline takes it between two events; a replay takes it at the same point.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use decisions::Strategy;
use events::{Envelope, InputEvent, StrategyActivated};

use crate::cli::NatsArgs;
use crate::error::PipelineError;

/// `creditstream strategy`.
#[derive(Debug, Clone, Args)]
pub struct StrategyArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: StrategyAction,
}

/// The strategy sub-commands.
#[derive(Debug, Clone, Subcommand)]
pub enum StrategyAction {
    /// Read and check a strategy file as the pipeline would; print its segments, or the
    /// error with its line and field.
    Check {
        /// The strategy file (TOML).
        file: PathBuf,
    },
    /// Check a strategy file, then publish it as a strategy_activated event: the running
    /// pipeline follows it from that point of the log on, without a restart.
    Activate {
        /// The strategy file (TOML).
        file: PathBuf,
        /// Who activates it (kept in the log).
        #[arg(long, env = "USER", default_value = "unknown")]
        by: String,
        /// Why (kept in the log).
        #[arg(long, default_value = "")]
        reason: String,
        /// The NATS server.
        #[command(flatten)]
        nats: NatsArgs,
    },
}

/// Reads and checks a strategy file; errors name the file, the line and the field.
pub fn read_strategy(file: &Path) -> Result<(Strategy, String), PipelineError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| PipelineError::Io(format!("reading {}", file.display()), e))?;
    let strategy = Strategy::parse(&file.display().to_string(), &text)
        .map_err(|e| PipelineError::InvalidInput(e.to_string()))?;
    Ok((strategy, text))
}

/// The event that activates `strategy` (whose text is `text`), checked as the pipeline's
/// decoder would check it (size, ids, text lengths).
pub fn activation_event(
    strategy: &Strategy,
    text: &str,
    by: &str,
    reason: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Envelope, PipelineError> {
    let event = Envelope {
        schema_version: events::CURRENT_SCHEMA_VERSION,
        event_id: format!(
            "strategy-{}-{}",
            strategy.version,
            now.format("%Y%m%dT%H%M%S%.6fZ")
        ),
        event_time: now,
        event: InputEvent::StrategyActivated(StrategyActivated {
            version: strategy.version.clone(),
            config: text.to_owned(),
            activated_by: by.to_owned(),
            reason: reason.to_owned(),
        }),
    };
    Envelope::decode(&event.to_json(), events::DEFAULT_MAX_EVENT_BYTES)
        .map_err(|e| PipelineError::InvalidInput(e.detail))?;
    Ok(event)
}

fn describe(strategy: &Strategy) -> String {
    let mut out = format!("strategy {}:\n", strategy.version);
    for s in &strategy.segments {
        let types = s
            .debtor_types
            .as_ref()
            .map_or("every type".to_owned(), |t| {
                t.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
            });
        let classes = s
            .risk_classes
            .as_ref()
            .map_or("every class".to_owned(), |c| c.join(", "));
        let steps: Vec<String> = s
            .dunning
            .iter()
            .map(|d| format!("day {} {:?}", d.day, d.channel).to_lowercase())
            .collect();
        out.push_str(&format!(
            "  {:<22} {types}; {classes}; steps: {}{}{}\n",
            s.name,
            if steps.is_empty() {
                "none".to_owned()
            } else {
                steps.join(", ")
            },
            s.collection_after_days
                .map(|c| format!("; collection on day {c}"))
                .unwrap_or_default(),
            s.payment_plan
                .as_ref()
                .map(|p| format!("; plan of {} installments", p.installments))
                .unwrap_or_default(),
        ));
    }
    out
}

/// Runs `creditstream strategy`.
pub async fn run(args: StrategyArgs) -> Result<(), PipelineError> {
    match args.action {
        StrategyAction::Check { file } => {
            let (strategy, _) = read_strategy(&file)?;
            print!("{}", describe(&strategy));
            println!("creditstream strategy check: {} is valid", file.display());
        }
        StrategyAction::Activate {
            file,
            by,
            reason,
            nats,
        } => {
            let (strategy, text) = read_strategy(&file)?;
            let event = activation_event(&strategy, &text, &by, &reason, chrono::Utc::now())?;
            let url = nats.nats_url.clone().ok_or(PipelineError::InvalidOption {
                name: "--nats-url",
                reason: "activating publishes an event into the log: give --nats-url URL".into(),
            })?;
            let (_client, js) = crate::broker::connect(&nats.options(url)).await?;
            let subjects = nats.subjects();
            crate::broker::ensure_streams(&js, &subjects).await?;
            let mut publisher = crate::publish::EventPublisher::new(js, subjects);
            publisher.publish(&event).await?;
            publisher.flush().await?;
            println!(
                "creditstream strategy activate: {} published (event {}); the pipeline \
                 follows it when it reaches it",
                strategy.version, event.event_id
            );
        }
    }
    Ok(())
}
