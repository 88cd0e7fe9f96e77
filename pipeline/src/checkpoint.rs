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

/// Version of the checkpoint format written: 3 leaves out the ledger's item and payment
/// fields that hold their default; 2 kept every item in one table, 1 inside each account
/// (or, written by the first builds with the table, already in it).
pub const CHECKPOINT_FORMAT: u32 = 3;

/// Formats this build reads: 1 (in either ledger layout), 2 and 3.
pub const READABLE_FORMATS: [u32; 3] = [1, 2, 3];

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
        let checkpoint = decode(&bytes)?;
        Ok(Some(checkpoint))
    }

    /// Writes a checkpoint (format [`CHECKPOINT_FORMAT`]); returns its size in bytes.
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

/// The format a checkpoint announces at its start (`{"format":N,...`, as written here),
/// read before the rest so that a format this build does not know is refused by name
/// rather than by the first field it misses.
fn announced_format(bytes: &[u8]) -> Option<u32> {
    let rest = bytes.strip_prefix(br#"{"format":"#)?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// The readable formats as a sentence says them: `1, 2 and 3`.
fn readable() -> String {
    let names = READABLE_FORMATS.map(|f| f.to_string());
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// Decodes a checkpoint of a readable format.
pub fn decode(bytes: &[u8]) -> Result<Checkpoint, PipelineError> {
    let refuse = |format: u32| PipelineError::Checkpoint {
        what: "decode",
        detail: format!("format {format} but this build reads {}", readable()),
    };
    if let Some(format) = announced_format(bytes)
        && !READABLE_FORMATS.contains(&format)
    {
        return Err(refuse(format));
    }
    let checkpoint: Checkpoint =
        serde_json::from_slice(bytes).map_err(|e| PipelineError::Checkpoint {
            what: "decode",
            detail: e.to_string(),
        })?;
    if !READABLE_FORMATS.contains(&checkpoint.format) {
        return Err(refuse(checkpoint.format));
    }
    Ok(checkpoint)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn written(format: u32) -> Vec<u8> {
        let body = serde_json::to_string(&Stages::default()).unwrap();
        format!(r#"{{"format":{format},"sequence":7,"stages":{body}}}"#).into_bytes()
    }

    #[test]
    fn readable_formats_load_and_others_are_refused_by_their_number() {
        for format in READABLE_FORMATS {
            let c = decode(&written(format)).unwrap();
            assert_eq!((c.format, c.sequence), (format, 7));
        }
        let e = decode(&written(4)).unwrap_err().to_string();
        assert!(
            e.contains("format 4 but this build reads 1, 2 and 3"),
            "{e}"
        );
        // A later format whose body this build could not decode is refused by its number,
        // not by the first field it misses.
        let e = decode(br#"{"format":9,"sequence":7,"stages":{"something":"new"}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("format 9 but this build reads"), "{e}");
        let e = decode(b"{\"sequence\":7}").unwrap_err().to_string();
        assert!(e.contains("missing field"), "{e}");
    }
}
