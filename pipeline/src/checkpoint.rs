//! Checkpoints: the stages' state and the stream sequence it includes, kept in a JetStream
//! object store so that any machine running the worker can resume from it.
//!
//! Order of effects for a batch: outputs published (and acknowledged by the server) →
//! checkpoint written → inputs acked. A crash anywhere in between repeats the batch from
//! the last checkpoint; its outputs carry the same ids and the output stream drops them.

use async_nats::jetstream::{self, object_store};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

use crate::error::PipelineError;
use crate::stages::Stages;

/// Version of the checkpoint format.
pub const CHECKPOINT_FORMAT: u32 = 1;

/// What a checkpoint holds.
#[derive(Debug, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Format version.
    pub format: u32,
    /// Last input stream sequence whose effects are in `stages`.
    pub sequence: u64,
    /// State of every stage.
    pub stages: Stages,
}

/// Reads and writes one worker's checkpoint.
#[derive(Clone)]
pub struct CheckpointStore {
    store: object_store::ObjectStore,
    object: String,
}

impl CheckpointStore {
    /// Opens (creating when missing) the bucket `<prefix>-checkpoints`.
    pub async fn open(
        js: &jetstream::Context,
        prefix: &str,
        worker: &str,
    ) -> Result<Self, PipelineError> {
        let bucket = format!("{prefix}-checkpoints");
        let store = match js.get_object_store(&bucket).await {
            Ok(store) => store,
            Err(_) => js
                .create_object_store(object_store::Config {
                    bucket: bucket.clone(),
                    description: Some("creditstream worker checkpoints".into()),
                    storage: jetstream::stream::StorageType::File,
                    ..Default::default()
                })
                .await
                .map_err(|e| PipelineError::js("creating the checkpoint bucket", e))?,
        };
        Ok(CheckpointStore {
            store,
            object: format!("worker-{worker}"),
        })
    }

    /// The last checkpoint, or `None` when the worker never wrote one.
    pub async fn load(&self) -> Result<Option<Checkpoint>, PipelineError> {
        let mut object = match self.store.get(&self.object).await {
            Ok(o) => o,
            Err(e) if e.kind() == object_store::GetErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(PipelineError::Checkpoint {
                    what: "read",
                    detail: e.to_string(),
                });
            }
        };
        let mut bytes = Vec::new();
        object
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| PipelineError::Checkpoint {
                what: "read",
                detail: e.to_string(),
            })?;
        let checkpoint: Checkpoint =
            serde_json::from_slice(&bytes).map_err(|e| PipelineError::Checkpoint {
                what: "decode",
                detail: e.to_string(),
            })?;
        if checkpoint.format != CHECKPOINT_FORMAT {
            return Err(PipelineError::Checkpoint {
                what: "decode",
                detail: format!(
                    "format {} but this build reads {CHECKPOINT_FORMAT}",
                    checkpoint.format
                ),
            });
        }
        Ok(Some(checkpoint))
    }

    /// Writes a checkpoint; returns its size in bytes.
    pub async fn save(&self, sequence: u64, stages: &Stages) -> Result<usize, PipelineError> {
        #[derive(Serialize)]
        struct Borrowed<'a> {
            format: u32,
            sequence: u64,
            stages: &'a Stages,
        }
        let bytes = serde_json::to_vec(&Borrowed {
            format: CHECKPOINT_FORMAT,
            sequence,
            stages,
        })
        .map_err(|e| PipelineError::Checkpoint {
            what: "encode",
            detail: e.to_string(),
        })?;
        self.store
            .put(self.object.as_str(), &mut bytes.as_slice())
            .await
            .map_err(|e| PipelineError::Checkpoint {
                what: "write",
                detail: e.to_string(),
            })?;
        Ok(bytes.len())
    }
}
