//! `creditstream import-statement`: bank statement files (camt.053, camt.054, MT940) to
//! payment and reversal events in the input stream.
//!
//! All files are read and parsed before anything is published: one unreadable file stops
//! the whole import, naming the file, entry and line, and nothing is published. Each file's
//! digest and each statement's id are recorded in the object store bucket `<prefix>-imports`
//! once its events are stored, so importing the same file again — or the same statement in
//! another file — publishes nothing new, however long afterwards.

use std::io::Write;
use std::path::PathBuf;

use async_nats::jetstream::{self, object_store};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use statements::{StatementError, StatementFile};
use tokio::io::AsyncReadExt;

use crate::cli::ImportArgs;
use crate::error::PipelineError;
use crate::publish::EventPublisher;

/// A file read and parsed, ready to import.
struct Parsed {
    path: PathBuf,
    file: StatementFile,
}

/// What the bucket records about an imported file.
#[derive(Debug, Serialize, Deserialize)]
struct FileRecord {
    file_name: String,
    imported_at: chrono::DateTime<chrono::Utc>,
    statements: Vec<String>,
    events: usize,
}

/// Runs the command.
pub async fn run(args: ImportArgs) -> Result<(), PipelineError> {
    let parsed = parse_all(&args.files)?;
    if let Some(out) = &args.out {
        return write_jsonl(&parsed, out);
    }
    let url = args
        .nats
        .nats_url
        .clone()
        .ok_or(PipelineError::InvalidOption {
            name: "--nats-url",
            reason: "give --nats-url URL to publish, or --out FILE to write JSON lines".into(),
        })?;
    let (_client, js) = crate::broker::connect(&args.nats.options(url)).await?;
    let subjects = args.nats.subjects();
    crate::broker::ensure_streams(&js, &subjects).await?;
    let imports = imports_bucket(&js, subjects.prefix()).await?;
    let mut publisher = EventPublisher::new(js, subjects);
    let mut published_total = 0_u64;
    for Parsed { path, file } in parsed {
        let name = path.display().to_string();
        let file_key = format!("file.{}", file.digest);
        if let Some(previous) = kv_get::<FileRecord>(&imports, &file_key).await? {
            println!(
                "{name}: already imported on {} as {}; nothing published",
                previous.imported_at.format("%Y-%m-%d %H:%M UTC"),
                previous.file_name
            );
            continue;
        }
        // Statements already imported from another file are left out.
        let mut fresh = file.clone();
        let mut repeated = Vec::new();
        fresh.statements.clear();
        for statement in &file.statements {
            if kv_get::<String>(&imports, &statement_key(&statement.account, &statement.id))
                .await?
                .is_some()
            {
                repeated.push(statement.id.clone());
            } else {
                fresh.statements.push(statement.clone());
            }
        }
        let plan = statements::to_events(&fresh).map_err(|e| refused(&name, e))?;
        let before = publisher.stored;
        for event in &plan.events {
            publisher.publish(event).await?;
        }
        publisher.flush().await?;
        let stored = publisher.stored - before;
        published_total += stored;
        // Recorded only once every event is stored: a crash before this line repeats the
        // import, and the stream and the ledger drop the repeated events by their ids.
        for statement in &fresh.statements {
            kv_put(
                &imports,
                &statement_key(&statement.account, &statement.id),
                &file.digest,
            )
            .await?;
        }
        let record = FileRecord {
            file_name: name.clone(),
            imported_at: chrono::Utc::now(),
            statements: file.statements.iter().map(|s| s.id.clone()).collect(),
            events: plan.events.len(),
        };
        kv_put(&imports, &file_key, &record).await?;
        print_file_summary(&name, &file, &plan, stored, &repeated);
    }
    eprintln!("imported: {published_total} new events published");
    Ok(())
}

fn print_file_summary(
    name: &str,
    file: &StatementFile,
    plan: &statements::ImportPlan,
    stored: u64,
    repeated: &[String],
) {
    let payments = plan
        .events
        .iter()
        .filter(|e| e.event.kind() == events::EventKind::PaymentReceived)
        .count();
    let reversals = plan.events.len() - payments;
    println!(
        "{name}: {}, {} statements, {payments} payments and {reversals} reversals ({stored} new), {} entries not imported (debits, return charges, pending)",
        file.format.as_str(),
        file.statements.len(),
        plan.skipped.len()
    );
    if !repeated.is_empty() {
        println!(
            "  statements already imported from another file, left out: {}",
            repeated.join(", ")
        );
    }
    for warning in plan.balance_warnings.iter().chain(&plan.warnings) {
        println!("  warning: {warning}");
    }
}

/// Reads and parses every file; the first failure refuses the whole import.
fn parse_all(paths: &[PathBuf]) -> Result<Vec<Parsed>, PipelineError> {
    let mut parsed = Vec::with_capacity(paths.len());
    let mut failures = Vec::new();
    for path in paths {
        let name = path.display().to_string();
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                failures.push(format!("{name}: cannot read: {e}"));
                continue;
            }
        };
        match statements::parse(&bytes).and_then(|file| {
            // Converting now surfaces every entry-level problem before anything is published.
            statements::to_events(&file).map(|_| file)
        }) {
            Ok(file) => parsed.push(Parsed {
                path: path.clone(),
                file,
            }),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    if failures.is_empty() {
        Ok(parsed)
    } else {
        Err(PipelineError::InvalidInput(format!(
            "nothing imported, {} of {} files refused:\n  {}",
            failures.len(),
            paths.len(),
            failures.join("\n  ")
        )))
    }
}

fn refused(name: &str, e: StatementError) -> PipelineError {
    PipelineError::InvalidInput(format!("{name}: {e}"))
}

fn write_jsonl(parsed: &[Parsed], out: &std::path::Path) -> Result<(), PipelineError> {
    let io = |e| PipelineError::Io(format!("writing {}", out.display()), e);
    let sink: Box<dyn Write> = if out.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::fs::File::create(out).map_err(io)?)
    };
    let mut w = std::io::BufWriter::new(sink);
    let mut count = 0;
    for Parsed { path, file } in parsed {
        let plan =
            statements::to_events(file).map_err(|e| refused(&path.display().to_string(), e))?;
        for event in &plan.events {
            w.write_all(&event.to_json()).map_err(io)?;
            w.write_all(b"\n").map_err(io)?;
            count += 1;
        }
    }
    w.flush().map_err(io)?;
    eprintln!("wrote {count} events from {} files", parsed.len());
    Ok(())
}

async fn imports_bucket(
    js: &jetstream::Context,
    prefix: &str,
) -> Result<object_store::ObjectStore, PipelineError> {
    // An object store rather than a key-value bucket: async-nats' key-value creation
    // does not read nats-server 2.9's reply.
    let bucket = format!("{prefix}-imports");
    match js.get_object_store(&bucket).await {
        Ok(store) => Ok(store),
        Err(_) => js
            .create_object_store(object_store::Config {
                bucket,
                description: Some(
                    "creditstream: bank statement files and statements imported".into(),
                ),
                storage: jetstream::stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| PipelineError::js("creating the imports bucket", e)),
    }
}

/// A key for a statement: its account and id can hold any character, so they are hashed.
fn statement_key(account: &str, id: &str) -> String {
    let digest = Sha256::digest(format!("{account}\u{0}{id}").as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("stmt.{hex}")
}

async fn kv_get<T: serde::de::DeserializeOwned>(
    store: &object_store::ObjectStore,
    key: &str,
) -> Result<Option<T>, PipelineError> {
    let mut object = match store.get(key).await {
        Ok(o) => o,
        Err(e) if e.kind() == object_store::GetErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(PipelineError::js("reading the imports bucket", e)),
    };
    let mut bytes = Vec::new();
    object
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| PipelineError::js("reading the imports bucket", e))?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| PipelineError::Internal(format!("imports record {key}: {e}")))
}

async fn kv_put<T: Serialize>(
    store: &object_store::ObjectStore,
    key: &str,
    value: &T,
) -> Result<(), PipelineError> {
    let bytes = serde_json::to_vec(value)
        .map_err(|e| PipelineError::Internal(format!("imports record {key}: {e}")))?;
    store
        .put(key, &mut bytes.as_slice())
        .await
        .map(|_| ())
        .map_err(|e| PipelineError::js("writing the imports bucket", e))
}
