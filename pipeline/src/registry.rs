//! The model registry: versioned model artifacts kept in a NATS JetStream Object Store
//! (bucket `<prefix>-models`) or, offline, in a directory — the same object names in both,
//! `risk/<version>.json`. A version is written once: publishing the same artifact again
//! changes nothing, publishing another one under a version already taken is refused.
//! Which version scores is decided by an activation in the event log
//! (`creditstream model activate`, a `model_activated` event), not by the registry.

use std::path::PathBuf;

use async_nats::jetstream::{self, object_store};
use clap::{Args, Subcommand};
use events::{Envelope, InputEvent, ModelActivated, ModelRole};
use models::{ModelArtifact, ModelMetadata};
use tokio::io::AsyncReadExt;

use crate::cli::NatsArgs;
use crate::error::PipelineError;
use crate::evaluate::read_model;
use crate::scoring::LoadedModel;
use crate::train::write_atomically;

/// Where models are kept.
pub enum Registry {
    /// A directory (offline use, tests, air-gapped training machines).
    Directory(PathBuf),
    /// A JetStream Object Store bucket.
    ObjectStore(Box<Bucket>),
}

/// The registry's bucket, and the connection (for the size of the chunks the server
/// takes).
pub struct Bucket {
    store: object_store::ObjectStore,
    client: async_nats::Client,
}

/// What publishing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// The version is new in the registry.
    New,
    /// The same artifact was already there under this version.
    AlreadyThere,
}

/// The object name of a version; versions are letters, digits, `.`, `-` and `_`.
pub fn object_name(version: &str) -> Result<String, PipelineError> {
    let ok = !version.is_empty()
        && version.len() <= 128
        && !version.starts_with('.')
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if ok {
        Ok(format!("risk/{version}.json"))
    } else {
        Err(PipelineError::InvalidInput(format!(
            "model version {version:?}: letters, digits, '.', '-' and '_' only (at most 128), \
             not starting with '.'"
        )))
    }
}

impl Registry {
    /// The registry bucket of `prefix` on a JetStream server, created if missing.
    pub async fn object_store(
        js: &jetstream::Context,
        prefix: &str,
    ) -> Result<Registry, PipelineError> {
        let bucket = format!("{prefix}-models");
        let store = match js.get_object_store(&bucket).await {
            Ok(store) => store,
            Err(_) => js
                .create_object_store(object_store::Config {
                    bucket,
                    description: Some("creditstream: model artifacts by version".into()),
                    storage: jetstream::stream::StorageType::File,
                    ..Default::default()
                })
                .await
                .map_err(|e| PipelineError::js("creating the model registry bucket", e))?,
        };
        Ok(Registry::ObjectStore(Box::new(Bucket {
            store,
            client: js.client(),
        })))
    }

    async fn read(&self, name: &str) -> Result<Option<Vec<u8>>, PipelineError> {
        match self {
            Registry::Directory(dir) => {
                let path = dir.join(name);
                match std::fs::read(&path) {
                    Ok(bytes) => Ok(Some(bytes)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(PipelineError::Io(format!("reading {}", path.display()), e)),
                }
            }
            Registry::ObjectStore(bucket) => {
                // Only "not found" means absent; a server that does not answer is an
                // error (the worker stops and tries again), never a refusal.
                if let Err(e) = bucket.store.info(name).await {
                    return match e.kind() {
                        object_store::InfoErrorKind::NotFound => Ok(None),
                        _ => Err(PipelineError::js("reading the model registry", e)),
                    };
                }
                let mut object = bucket
                    .store
                    .get(name)
                    .await
                    .map_err(|e| PipelineError::js("reading a model", e))?;
                let mut bytes = Vec::new();
                object
                    .read_to_end(&mut bytes)
                    .await
                    .map_err(|e| PipelineError::js("reading a model", e))?;
                Ok(Some(bytes))
            }
        }
    }

    /// Stores an artifact under its version.
    pub async fn publish(&self, artifact: &ModelArtifact) -> Result<Published, PipelineError> {
        let name = object_name(&artifact.metadata.version)?;
        let bytes = artifact.to_json()?;
        if let Some(existing) = self.read(&name).await? {
            return if existing == bytes {
                Ok(Published::AlreadyThere)
            } else {
                Err(PipelineError::InvalidInput(format!(
                    "model version {} is in the registry with other content; train the new \
                     model with its own --version",
                    artifact.metadata.version
                )))
            };
        }
        match self {
            Registry::Directory(dir) => write_atomically(&dir.join(&name), &bytes)?,
            Registry::ObjectStore(bucket) => {
                bucket
                    .store
                    .put(
                        crate::broker::object_meta(&bucket.client, &name),
                        &mut bytes.as_slice(),
                    )
                    .await
                    .map_err(|e| PipelineError::js("storing a model", e))?;
            }
        }
        Ok(Published::New)
    }

    /// The artifact of a version.
    pub async fn load(&self, version: &str) -> Result<ModelArtifact, PipelineError> {
        let name = object_name(version)?;
        let bytes = self.read(&name).await?.ok_or_else(|| {
            PipelineError::InvalidInput(format!("model version {version} is not in the registry"))
        })?;
        Ok(ModelArtifact::from_json(&bytes)?)
    }

    /// Before `event` runs: when it activates a model version (as champion or challenger),
    /// offers the stages that version from here, as the worker, a replay and a backtest all
    /// do; other events need nothing.
    pub async fn offer_activation(
        &self,
        stages: &mut crate::stages::Stages,
        event: &Envelope,
    ) -> Result<(), PipelineError> {
        if let InputEvent::ModelActivated(a) = &event.event
            && a.role != ModelRole::ChallengerStopped
        {
            let loaded = self.for_activation(&a.version).await?;
            stages.offer_model(&a.version, loaded);
        }
        Ok(())
    }

    /// A version to offer to its activation event: `Ok(Err(why))` when the registry has
    /// no usable artifact under it (absent, corrupt, another version inside) — the
    /// activation is then refused; `Err` when the registry cannot be read at all (the
    /// worker stops and, restarted, tries again from its checkpoint).
    pub async fn for_activation(
        &self,
        version: &str,
    ) -> Result<Result<LoadedModel, String>, PipelineError> {
        let name = match object_name(version) {
            Ok(name) => name,
            Err(e) => return Ok(Err(e.to_string())),
        };
        Ok(match self.read(&name).await? {
            None => Err(format!("model version {version} is not in the registry")),
            Some(bytes) => LoadedModel::from_bytes(version, &bytes).map_err(|e| e.to_string()),
        })
    }

    /// The metadata of every version, oldest first.
    pub async fn list(&self) -> Result<Vec<ModelMetadata>, PipelineError> {
        let mut names = Vec::new();
        match self {
            Registry::Directory(dir) => {
                let risk = dir.join("risk");
                if risk.is_dir() {
                    let entries = std::fs::read_dir(&risk)
                        .map_err(|e| PipelineError::Io(format!("listing {}", risk.display()), e))?;
                    for entry in entries {
                        let entry = entry.map_err(|e| {
                            PipelineError::Io(format!("listing {}", risk.display()), e)
                        })?;
                        let file = entry.file_name().to_string_lossy().into_owned();
                        if file.ends_with(".json") {
                            names.push(format!("risk/{file}"));
                        }
                    }
                }
            }
            Registry::ObjectStore(bucket) => {
                use futures::StreamExt;
                let mut list = bucket
                    .store
                    .list()
                    .await
                    .map_err(|e| PipelineError::js("listing models", e))?;
                while let Some(info) = list.next().await {
                    let info = info.map_err(|e| PipelineError::js("listing models", e))?;
                    if !info.deleted && info.name.starts_with("risk/") {
                        names.push(info.name);
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            if let Some(bytes) = self.read(&name).await? {
                out.push(ModelArtifact::from_json(&bytes)?.metadata);
            }
        }
        out.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.version.cmp(&b.version))
        });
        Ok(out)
    }
}

/// `creditstream model`.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: ModelAction,
}

/// `creditstream model` actions.
#[derive(Debug, Clone, Subcommand)]
pub enum ModelAction {
    /// Store a model artifact in the registry under its version.
    Publish {
        /// The artifact (JSON) written by `creditstream train`.
        file: PathBuf,
        /// Where the registry is.
        #[command(flatten)]
        at: RegistryArgs,
    },
    /// List the registry's models: version, creation time, validation AUC, trainer.
    List {
        /// Where the registry is.
        #[command(flatten)]
        at: RegistryArgs,
    },
    /// Make a registry version the champion (its scores are published), or the
    /// challenger (it scores in shadow), or stop the challenger. Publishes a
    /// model_activated event into the input stream: the running pipeline switches between
    /// two events when it reaches it, and a replay of the log switches at the same point.
    Activate {
        /// The version, as `creditstream model list` shows it.
        version: String,
        /// Score in shadow beside the champion instead of replacing it.
        #[arg(long)]
        challenger: bool,
        /// Stop the challenger of this version.
        #[arg(long, conflicts_with = "challenger")]
        stop_challenger: bool,
        /// Who activates it (kept in the log).
        #[arg(long, env = "USER", default_value = "unknown")]
        by: String,
        /// Why (kept in the log).
        #[arg(long, default_value = "")]
        reason: String,
        /// Where the registry is (the version is checked there); the event always goes to
        /// the NATS server.
        #[command(flatten)]
        at: RegistryArgs,
    },
}

/// Where the registry is: a directory, or a NATS server.
#[derive(Debug, Clone, Args)]
pub struct RegistryArgs {
    /// A registry directory, for use without NATS.
    #[arg(long, value_name = "DIR", conflicts_with = "nats_url")]
    pub registry_dir: Option<PathBuf>,
    /// The NATS server holding the registry bucket.
    #[command(flatten)]
    pub nats: NatsArgs,
}

/// The activation event of `version` in `role`: for a champion or challenger the version
/// is read from `registry` first, and its content's SHA-256 goes into the event; a
/// version the registry cannot give is refused here, before anything is published.
pub async fn activation_event(
    registry: &Registry,
    version: &str,
    role: ModelRole,
    by: &str,
    reason: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Envelope, PipelineError> {
    let sha256 = match role {
        ModelRole::ChallengerStopped => {
            object_name(version)?;
            None
        }
        _ => Some(
            registry
                .for_activation(version)
                .await?
                .map_err(PipelineError::InvalidInput)?
                .sha256,
        ),
    };
    let event = Envelope {
        schema_version: events::CURRENT_SCHEMA_VERSION,
        event_id: format!(
            "model-{}-{version}-{}",
            role.as_str(),
            now.format("%Y%m%dT%H%M%S%.6fZ")
        ),
        event_time: now,
        event: InputEvent::ModelActivated(ModelActivated {
            role,
            version: version.to_owned(),
            sha256,
            activated_by: by.to_owned(),
            reason: reason.to_owned(),
        }),
    };
    // The same checks as the pipeline's decoder (ids, text lengths).
    Envelope::decode(&event.to_json(), events::DEFAULT_MAX_EVENT_BYTES)
        .map_err(|e| PipelineError::InvalidInput(e.detail))?;
    Ok(event)
}

impl RegistryArgs {
    async fn open(&self) -> Result<Registry, PipelineError> {
        if let Some(dir) = &self.registry_dir {
            return Ok(Registry::Directory(dir.clone()));
        }
        let url = self
            .nats
            .nats_url
            .clone()
            .ok_or(PipelineError::InvalidOption {
                name: "--nats-url",
                reason: "give --nats-url URL or --registry-dir DIR".into(),
            })?;
        let (_client, js) = crate::broker::connect(&self.nats.options(url)).await?;
        Registry::object_store(&js, &self.nats.prefix).await
    }
}

/// Runs `creditstream model`.
pub async fn run(args: ModelArgs) -> Result<(), PipelineError> {
    match args.action {
        ModelAction::Publish { file, at } => {
            let artifact = read_model(&file)?;
            let registry = at.open().await?;
            let done = registry.publish(&artifact).await?;
            println!(
                "creditstream model publish: {} {}",
                artifact.metadata.version,
                match done {
                    Published::New => "stored",
                    Published::AlreadyThere => "was already there (same artifact)",
                }
            );
        }
        ModelAction::List { at } => {
            let registry = at.open().await?;
            let models = registry.list().await?;
            println!(
                "{:<32} {:<20} {:>7} {:>8}  trainer",
                "version", "created (UTC)", "AUC", "schema"
            );
            for m in &models {
                println!(
                    "{:<32} {:<20} {:>7.4} {:>8}  {}",
                    m.version,
                    m.created_at.format("%Y-%m-%d %H:%M:%S"),
                    m.metrics.auc,
                    m.feature_schema_hash
                        .get(..8)
                        .unwrap_or(&m.feature_schema_hash),
                    m.trainer
                );
            }
            println!("{} model(s)", models.len());
        }
        ModelAction::Activate {
            version,
            challenger,
            stop_challenger,
            by,
            reason,
            at,
        } => {
            let url = at
                .nats
                .nats_url
                .clone()
                .ok_or(PipelineError::InvalidOption {
                    name: "--nats-url",
                    reason: "activating publishes an event into the log: give --nats-url URL"
                        .into(),
                })?;
            let (_client, js) = crate::broker::connect(&at.nats.options(url)).await?;
            let registry = match &at.registry_dir {
                Some(dir) => Registry::Directory(dir.clone()),
                None => Registry::object_store(&js, &at.nats.prefix).await?,
            };
            let role = if stop_challenger {
                ModelRole::ChallengerStopped
            } else if challenger {
                ModelRole::Challenger
            } else {
                ModelRole::Champion
            };
            let event =
                activation_event(&registry, &version, role, &by, &reason, chrono::Utc::now())
                    .await?;
            let subjects = at.nats.subjects();
            crate::broker::ensure_streams(&js, &subjects).await?;
            let mut publisher = crate::publish::EventPublisher::new(js, subjects);
            publisher.publish(&event).await?;
            publisher.flush().await?;
            println!(
                "creditstream model activate: {version} as {} published (event {}); \
                 the pipeline switches when it reaches it",
                role.as_str(),
                event.event_id
            );
        }
    }
    Ok(())
}
