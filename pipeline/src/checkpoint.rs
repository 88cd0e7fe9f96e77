//! Checkpoints: the stages' state and the stream sequence it includes, kept in a JetStream
//! object store so that any machine running the worker can resume from it.
//!
//! Order of effects for a batch: outputs published (and acknowledged by the server) →
//! checkpoint written → inputs acked. A crash anywhere in between repeats the batch from
//! the last checkpoint; its outputs carry the same ids and the output stream drops them.
//!
//! A checkpoint is a chain in the bucket `<prefix>-checkpoints`:
//! - `worker-<name>`: the full state at a sequence (the *base*, every format);
//! - `worker-<name>.delta.<slot>` (6 digits, its place after the base; its sequence in
//!   the object's metadata): a [`StagesDelta`] naming the sequence it follows — the
//!   ledger's history entries changed since then, everything else in full. Each chain
//!   reuses the slots of the one before, so the bucket holds a bounded set of names.
//!
//! The ledger's history (every invoice and payment ever seen) is most of the state and
//! grows with time; a delta costs what happened since the previous checkpoint plus the
//! rest, which grows with the debtors. The worker copies the delta out of its state (the
//! only pause in its stage loop) and a task writes it while the stages run on
//! ([`CheckpointWriter`]). Once the deltas together outgrow [`FOLD_RATIO`] times the base
//! (or number `MAX_DELTAS`), the writer folds them into a new base — from what is stored,
//! not from the worker's state — and deletes them, so loading reads at most about three
//! times a full state. Loading is the base, then each delta in order; a delta that does
//! not follow the one before is refused by name.

use async_nats::jetstream::{self, object_store};
use futures::StreamExt;
use ledger::{Ledger, LedgerConfig, LedgerDelta, LedgerImage};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::io::AsyncReadExt;

use crate::error::PipelineError;
use crate::stages::{FeatureStage, Stages, StagesDelta};

/// Version of the checkpoint format written: 4 is a base followed by deltas (its base is
/// laid out as 3); 3 leaves out the ledger's item and payment fields that hold their
/// default; 2 kept every item in one table, 1 inside each account (or, written by the
/// first builds with the table, already in it).
pub const CHECKPOINT_FORMAT: u32 = 4;

/// Formats this build reads: 1 (in either ledger layout), 2, 3 and 4.
pub const READABLE_FORMATS: [u32; 4] = [1, 2, 3, 4];

/// What a checkpoint holds.
#[derive(Debug)]
pub struct Checkpoint {
    /// Format version.
    pub format: u32,
    /// Last input stream sequence whose effects are in `stages`.
    pub sequence: u64,
    /// State of every stage.
    pub stages: Stages,
}

/// A base as stored: the ledger's image read (deltas apply to it; its indices are built
/// only when the stages are), the other stages kept as
/// written (a delta replaces them whole), so that folding deltas into a new base does not
/// depend on the definitions a worker configures.
#[derive(Serialize, Deserialize)]
struct StoredBase {
    format: u32,
    sequence: u64,
    stages: StoredStages,
}

#[derive(Serialize, Deserialize)]
struct StoredStages {
    ledger: LedgerImage,
    /// Absent from checkpoints written before the feature and model stages existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    features: Option<Box<RawValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    models: Option<Box<RawValue>>,
    /// Absent only from the empty state a chain starts from when there is no base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    decisions: Option<Box<RawValue>>,
    events: u64,
}

impl StoredBase {
    /// The state before any event: where a chain without a base starts.
    fn empty() -> StoredBase {
        StoredBase {
            format: CHECKPOINT_FORMAT,
            sequence: 0,
            stages: StoredStages {
                ledger: LedgerImage::new(LedgerConfig::default()),
                features: None,
                models: None,
                decisions: None,
                events: 0,
            },
        }
    }

    /// Applies `deltas` (each a stored delta's bytes) in order; refuses one that does not
    /// follow the state's sequence.
    fn apply(&mut self, deltas: &[Vec<u8>]) -> Result<(), PipelineError> {
        let mut at = self.sequence;
        let mut error = None;
        let mut rest = None;
        let ledgers = deltas.iter().map_while(|bytes| match decode_delta(bytes) {
            Ok(d) if d.after == at => {
                at = d.sequence;
                let StoredDeltaBody {
                    ledger,
                    features,
                    models,
                    decisions,
                    events,
                } = d.delta;
                rest = Some((features, models, decisions, events));
                Some(ledger)
            }
            Ok(d) => {
                error = Some(PipelineError::Checkpoint {
                    what: "read",
                    detail: format!(
                        "the delta at sequence {} follows {}, but the checkpoint before it ends at {at}: a delta is missing",
                        d.sequence, d.after
                    ),
                });
                None
            }
            Err(e) => {
                error = Some(e);
                None
            }
        });
        self.stages.ledger.apply_deltas(ledgers);
        if let Some(e) = error {
            return Err(e);
        }
        if let Some((features, models, decisions, events)) = rest {
            self.sequence = at;
            self.format = CHECKPOINT_FORMAT;
            self.stages.features = Some(features);
            self.stages.models = Some(models);
            self.stages.decisions = Some(decisions);
            self.stages.events = events;
        }
        Ok(())
    }

    /// The stages, their parts read.
    fn into_checkpoint(self) -> Result<Checkpoint, PipelineError> {
        fn part<T: serde::de::DeserializeOwned>(
            raw: Option<Box<RawValue>>,
            absent: impl FnOnce() -> T,
        ) -> Result<T, PipelineError> {
            match raw {
                Some(raw) => {
                    serde_json::from_str(raw.get()).map_err(|e| PipelineError::Checkpoint {
                        what: "decode",
                        detail: e.to_string(),
                    })
                }
                None => Ok(absent()),
            }
        }
        let s = self.stages;
        let stages = Stages::from_parts(
            Ledger::from(s.ledger),
            part(s.features, FeatureStage::default)?,
            part(s.models, Default::default)?,
            part(s.decisions, || {
                decisions::Decisions::new(decisions::DecisionConfig::default())
            })?,
            s.events,
        );
        Ok(Checkpoint {
            format: self.format,
            sequence: self.sequence,
            stages,
        })
    }
}

/// A delta as stored.
#[derive(Deserialize)]
struct StoredDelta {
    /// The sequence of the state it applies to.
    after: u64,
    sequence: u64,
    delta: StoredDeltaBody,
}

#[derive(Deserialize)]
struct StoredDeltaBody {
    ledger: LedgerDelta,
    features: Box<RawValue>,
    models: Box<RawValue>,
    decisions: Box<RawValue>,
    events: u64,
}

/// Object metadata key holding a delta's sequence.
const SEQUENCE_KEY: &str = "sequence";

/// Deltas after which a chain is folded however small they are (bounds the names a
/// worker uses and the objects a load reads).
const MAX_DELTAS: usize = 64;

/// A chain is folded into a new base once its deltas together are larger than this many
/// times the base: loading then reads at most about this plus one times a full state.
/// Each delta carries the state but the ledger's history in full (a third to a half of
/// it), so at one base's worth a growing state was folded at most checkpoints (6 of 8 in
/// the paced run of `end-to-end`), each fold a read, a decoding and a write of the
/// whole state beside the stages; at two, 4 of 11, and the checkpoints took 35 % less
/// time to write.
pub const FOLD_RATIO: usize = 2;

/// Where a worker's chain stands: its base and the deltas written after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    base_sequence: u64,
    base_bytes: usize,
    /// (sequence, bytes) of each delta after the base, in order.
    deltas: Vec<(u64, usize)>,
}

impl Chain {
    /// The sequence the next delta follows.
    pub fn sequence(&self) -> u64 {
        self.deltas.last().map_or(self.base_sequence, |d| d.0)
    }

    /// Deltas after the base.
    pub fn deltas(&self) -> usize {
        self.deltas.len()
    }

    fn delta_bytes(&self) -> usize {
        self.deltas.iter().map(|d| d.1).sum()
    }
}

/// Reads and writes one worker's checkpoint.
#[derive(Clone)]
pub struct CheckpointStore {
    store: object_store::ObjectStore,
    /// The connection, for the size of the chunks the server takes.
    client: async_nats::Client,
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
            client: js.client(),
            object: format!("worker-{worker}"),
        })
    }

    /// The last checkpoint and where its chain stands, or `None` when the worker never
    /// wrote one.
    pub async fn load(&self) -> Result<Option<(Checkpoint, Chain)>, PipelineError> {
        let Some((base, chain)) = self.load_stored().await? else {
            return Ok(None);
        };
        let checkpoint = tokio::task::spawn_blocking(move || base.into_checkpoint())
            .await
            .map_err(|e| PipelineError::js("reading the checkpoint", e))??;
        Ok(Some((checkpoint, chain)))
    }

    /// The base with every delta after it applied, as stored.
    async fn load_stored(&self) -> Result<Option<(StoredBase, Chain)>, PipelineError> {
        let base = self.read(&self.object).await?;
        let deltas = self.delta_names().await?;
        if base.is_none() && deltas.is_empty() {
            return Ok(None);
        }
        let base_bytes = base.as_ref().map_or(0, Vec::len);
        let mut stored = match base {
            Some(bytes) => tokio::task::spawn_blocking(move || decode_base(&bytes))
                .await
                .map_err(|e| PipelineError::js("reading the checkpoint", e))??,
            None => StoredBase::empty(),
        };
        let mut chain = Chain {
            base_sequence: stored.sequence,
            base_bytes,
            deltas: Vec::new(),
        };
        let mut bodies = Vec::new();
        // Deltas at or before the base were folded into it (and not yet deleted).
        for (sequence, name) in deltas.into_iter().filter(|d| d.0 > stored.sequence) {
            let bytes = self
                .read(&name)
                .await?
                .ok_or_else(|| PipelineError::Checkpoint {
                    what: "read",
                    detail: format!("{name} was listed but is gone"),
                })?;
            chain.deltas.push((sequence, bytes.len()));
            bodies.push(bytes);
        }
        let stored = tokio::task::spawn_blocking(move || {
            stored.apply(&bodies)?;
            Ok::<_, PipelineError>(stored)
        })
        .await
        .map_err(|e| PipelineError::js("reading the checkpoint", e))??;
        Ok(Some((stored, chain)))
    }

    /// An object's bytes, `None` when there is no such object.
    async fn read(&self, name: &str) -> Result<Option<Vec<u8>>, PipelineError> {
        let failed = |e: String| PipelineError::Checkpoint {
            what: "read",
            detail: format!("{name}: {e}"),
        };
        let mut object = match self.store.get(name).await {
            Ok(o) => o,
            Err(e) if e.kind() == object_store::GetErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(failed(e.to_string())),
        };
        // Sized once: a base is tens of MB, and growing into it copies it several times.
        let mut bytes = Vec::with_capacity(object.info.size);
        object
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| failed(e.to_string()))?;
        Ok(Some(bytes))
    }

    /// Stores an object; `sequence`, when given, goes into its metadata (a delta's, read
    /// back by [`CheckpointStore::delta_names`] without reading the delta).
    async fn put(
        &self,
        name: &str,
        bytes: &[u8],
        sequence: Option<u64>,
    ) -> Result<(), PipelineError> {
        let mut meta = crate::broker::object_meta(&self.client, name);
        if let Some(sequence) = sequence {
            meta.metadata
                .insert(SEQUENCE_KEY.into(), sequence.to_string());
        }
        let mut reader = bytes;
        self.store
            .put(meta, &mut reader)
            .await
            .map_err(|e| PipelineError::Checkpoint {
                what: "write",
                detail: format!("{name}: {e}"),
            })?;
        Ok(())
    }

    /// The object of the delta at `slot` (its place in the chain after the base): a chain
    /// reuses the names of the one before, so that the bucket keeps a bounded set of names
    /// (a deleted object leaves a marker under its name until the name is written again).
    fn delta_name(&self, slot: usize) -> String {
        format!("{}.delta.{slot:06}", self.object)
    }

    /// This worker's deltas in the bucket, as (sequence, name), by sequence.
    async fn delta_names(&self) -> Result<Vec<(u64, String)>, PipelineError> {
        let failed = |e: String| PipelineError::Checkpoint {
            what: "read",
            detail: format!("listing the checkpoint bucket: {e}"),
        };
        let prefix = format!("{}.delta.", self.object);
        let mut list = self.store.list().await.map_err(|e| failed(e.to_string()))?;
        let mut names = Vec::new();
        while let Some(info) = list.next().await {
            let info = info.map_err(|e| failed(e.to_string()))?;
            if !info.name.starts_with(&prefix) {
                continue;
            }
            let sequence = info
                .metadata
                .get(SEQUENCE_KEY)
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| failed(format!("{} has no sequence in its metadata", info.name)))?;
            names.push((sequence, info.name));
        }
        names.sort_unstable();
        Ok(names)
    }

    /// Deletes the deltas at or before `sequence`.
    async fn delete_deltas_through(&self, sequence: u64) -> Result<(), PipelineError> {
        for (_, name) in self
            .delta_names()
            .await?
            .into_iter()
            .filter(|d| d.0 <= sequence)
        {
            match self.store.delete(&name).await {
                Ok(()) => {}
                Err(e) if e.kind() == object_store::DeleteErrorKind::NotFound => {}
                Err(e) => {
                    return Err(PipelineError::Checkpoint {
                        what: "write",
                        detail: format!("deleting {name}: {e}"),
                    });
                }
            }
        }
        Ok(())
    }
}

/// What one write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Bytes of the delta.
    pub bytes: usize,
    /// Bytes of the base, when one was written (the deltas folded into one, or the
    /// whole state).
    pub base: Option<usize>,
}

/// Writes a worker's deltas in order and folds them into a new base when they outgrow
/// the one they follow. Owned by one task at a time (the worker hands it to the task
/// that writes, which hands it back).
pub struct CheckpointWriter {
    store: CheckpointStore,
    chain: Chain,
}

impl CheckpointWriter {
    /// A writer continuing `chain` (as [`CheckpointStore::load`] found it; the default
    /// when there was no checkpoint).
    pub fn new(store: CheckpointStore, chain: Chain) -> Self {
        CheckpointWriter { store, chain }
    }

    /// Where the chain stands.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// Writes the state at `sequence` as a delta after the chain's last state.
    pub async fn write(
        &mut self,
        sequence: u64,
        delta: StagesDelta,
    ) -> Result<Written, PipelineError> {
        #[derive(Serialize)]
        struct Stored {
            format: u32,
            after: u64,
            sequence: u64,
            delta: StagesDelta,
        }
        // A delta is about the size of the one before.
        let expected = self.chain.deltas.last().map_or(0, |&(_, size)| size);
        let bytes = encode(
            Stored {
                format: CHECKPOINT_FORMAT,
                after: self.chain.sequence(),
                sequence,
                delta,
            },
            room_for(expected),
        )
        .await?;
        let name = self.store.delta_name(self.chain.deltas.len());
        self.store.put(&name, &bytes, Some(sequence)).await?;
        self.chain.deltas.push((sequence, bytes.len()));
        let base = if self.chain.delta_bytes() > FOLD_RATIO * self.chain.base_bytes
            || self.chain.deltas.len() >= MAX_DELTAS
        {
            Some(self.compact().await?)
        } else {
            None
        };
        Ok(Written {
            bytes: bytes.len(),
            base,
        })
    }

    /// Writes the whole state at `sequence` as the base (encoded on the caller's thread),
    /// and deletes the deltas it supersedes.
    pub async fn write_whole(
        &mut self,
        sequence: u64,
        stages: &Stages,
    ) -> Result<Written, PipelineError> {
        #[derive(Serialize)]
        struct Whole<'a> {
            format: u32,
            sequence: u64,
            stages: &'a Stages,
        }
        let bytes = to_json(
            &Whole {
                format: CHECKPOINT_FORMAT,
                sequence,
                stages,
            },
            room_for(self.chain.base_bytes),
        )?;
        let bytes = self.install_base(sequence, bytes).await?;
        Ok(Written {
            bytes,
            base: Some(bytes),
        })
    }

    /// Stores `bytes` as the base at `sequence`, deletes the deltas it supersedes and
    /// starts the chain after it; returns the base's size.
    async fn install_base(
        &mut self,
        sequence: u64,
        bytes: Vec<u8>,
    ) -> Result<usize, PipelineError> {
        self.store.put(&self.store.object, &bytes, None).await?;
        if !self.chain.deltas.is_empty() {
            self.store.delete_deltas_through(sequence).await?;
        }
        self.chain = Chain {
            base_sequence: sequence,
            base_bytes: bytes.len(),
            deltas: Vec::new(),
        };
        Ok(bytes.len())
    }

    /// Folds the stored chain into a new base and deletes the deltas in it; returns the
    /// base's size.
    async fn compact(&mut self) -> Result<usize, PipelineError> {
        let Some((stored, _)) = self.store.load_stored().await? else {
            return Err(PipelineError::Checkpoint {
                what: "read",
                detail: "the chain just written is gone".into(),
            });
        };
        let sequence = stored.sequence;
        // The new base holds the old one and what the deltas added to it.
        let expected = self.chain.base_bytes + self.chain.delta_bytes() / 2;
        let bytes = encode(stored, room_for(expected)).await?;
        self.install_base(sequence, bytes).await
    }
}

/// Encodes a checkpoint object on a thread of the blocking pool (tens of MB of JSON) into
/// a buffer of `capacity` bytes to start with.
async fn encode<T: Serialize + Send + 'static>(
    value: T,
    capacity: usize,
) -> Result<Vec<u8>, PipelineError> {
    tokio::task::spawn_blocking(move || to_json(&value, capacity))
        .await
        .map_err(|e| PipelineError::js("writing a checkpoint", e))?
}

/// Encodes a checkpoint object on the caller's thread into a buffer of `capacity` bytes to
/// start with: growing a buffer of tens of MB copies it each time it doubles, and each
/// copy goes to fresh pages the kernel must clear.
fn to_json<T: Serialize>(value: &T, capacity: usize) -> Result<Vec<u8>, PipelineError> {
    let mut bytes = Vec::with_capacity(capacity);
    serde_json::to_writer(&mut bytes, value).map_err(|e| PipelineError::Checkpoint {
        what: "encode",
        detail: e.to_string(),
    })?;
    Ok(bytes)
}

/// Room for an object expected to be about `expected` bytes: a little more, as the state
/// grows between two checkpoints.
fn room_for(expected: usize) -> usize {
    expected + expected / 8
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

/// Decodes a full checkpoint (a base) of a readable format.
pub fn decode(bytes: &[u8]) -> Result<Checkpoint, PipelineError> {
    decode_base(bytes)?.into_checkpoint()
}

/// Refuses a checkpoint whose announced format this build does not read.
fn check_format(bytes: &[u8]) -> Result<(), PipelineError> {
    match announced_format(bytes) {
        Some(format) if !READABLE_FORMATS.contains(&format) => Err(refused(format)),
        _ => Ok(()),
    }
}

fn refused(format: u32) -> PipelineError {
    PipelineError::Checkpoint {
        what: "decode",
        detail: format!("format {format} but this build reads {}", readable()),
    }
}

/// Decodes a base of a readable format.
fn decode_base(bytes: &[u8]) -> Result<StoredBase, PipelineError> {
    check_format(bytes)?;
    let base: StoredBase =
        serde_json::from_slice(bytes).map_err(|e| PipelineError::Checkpoint {
            what: "decode",
            detail: e.to_string(),
        })?;
    if !READABLE_FORMATS.contains(&base.format) {
        return Err(refused(base.format));
    }
    Ok(base)
}

/// Decodes a delta (format 4 and later).
fn decode_delta(bytes: &[u8]) -> Result<StoredDelta, PipelineError> {
    check_format(bytes)?;
    serde_json::from_slice(bytes).map_err(|e| PipelineError::Checkpoint {
        what: "decode",
        detail: format!("a delta: {e}"),
    })
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
        let e = decode(&written(5)).unwrap_err().to_string();
        assert!(
            e.contains("format 5 but this build reads 1, 2, 3 and 4"),
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
