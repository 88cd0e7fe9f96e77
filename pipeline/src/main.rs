//! The `creditstream` command.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use pipeline::cli::{Cli, Command};
use pipeline::{ErrorClass, PipelineError};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let memory = cli.command.memory_use();
    pipeline::tune_allocator(memory);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CREDITSTREAM_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match pipeline::runtime(memory) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(70);
        }
    };
    let result: Result<(), PipelineError> = runtime.block_on(async {
        match cli.command {
            // `run` stops gracefully on its own (checkpoint, ack) when asked to.
            Command::Run(args) => pipeline::run::run(args).await,
            // The others stop at once; dropping them stops a private nats-server too.
            command => {
                let work = async move {
                    match command {
                        Command::Demo(args) => pipeline::demo::run(args).await,
                        Command::Simulate(args) => pipeline::simulate::run(args).await,
                        Command::ImportStatement(args) => pipeline::import::run(args).await,
                        Command::Dataset(args) => pipeline::dataset::run(args).await,
                        Command::Train(args) => {
                            tokio::task::spawn_blocking(move || pipeline::train::run(args))
                                .await
                                .map_err(|e| PipelineError::Internal(e.to_string()))?
                        }
                        Command::Evaluate(args) => {
                            tokio::task::spawn_blocking(move || pipeline::evaluate::run(args))
                                .await
                                .map_err(|e| PipelineError::Internal(e.to_string()))?
                        }
                        Command::Model(args) => pipeline::registry::run(args).await,
                        Command::Strategy(args) => pipeline::strategy::run(args).await,
                        Command::Replay(args) => pipeline::replay::run(args).await,
                        Command::Backtest(args) => pipeline::backtest::run(args).await,
                        Command::Explain(args) => {
                            tokio::task::spawn_blocking(move || pipeline::explain::run(args))
                                .await
                                .map_err(|e| PipelineError::Internal(e.to_string()))?
                        }
                        Command::Run(_) => Ok(()),
                    }
                };
                tokio::select! {
                    // A signal wins over work that ends in the same instant.
                    biased;
                    _ = pipeline::shutdown::requested() => {
                        eprintln!("stopped by a signal");
                        Err(PipelineError::Interrupted)
                    }
                    r = work => r,
                }
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(PipelineError::Interrupted) => ExitCode::from(130),
        Err(e) => {
            eprintln!("error: {e}");
            match e.class() {
                ErrorClass::User => ExitCode::from(2),
                ErrorClass::Transient => ExitCode::from(75),
                ErrorClass::Internal => ExitCode::from(70),
            }
        }
    }
}

/// Prints a command-line error followed by the usage of the command concerned.
fn usage_error(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        error.exit();
    }
    let _ = error.print();
    if !error.to_string().contains("Usage:") {
        let mut command = Cli::command();
        command.build();
        let sub = std::env::args()
            .nth(1)
            .and_then(|name| command.find_subcommand_mut(&name).map(|c| c.render_usage()));
        let usage = match sub {
            Some(u) => u,
            None => command.render_usage(),
        };
        eprintln!("\n{usage}");
    }
    ExitCode::from(2)
}
