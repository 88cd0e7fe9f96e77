//! The event archive: every valid input event, as received, in Parquet files partitioned
//! by event-time day (`day=YYYY-MM-DD/part-<first>-<last>.parquet`, Hive style), for
//! training sets and for other tools (DuckDB, pandas, polars read it as it is).
//!
//! The worker adds events as it processes them and writes the files before each
//! checkpoint, so everything a checkpoint covers is archived. A crash between the two
//! archives some events twice; readers drop repeats by `sequence` (the dataset command
//! does).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{
    RecordBatch, StringBuilder, TimestampMicrosecondBuilder, UInt64Builder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use events::Envelope;

use crate::error::PipelineError;

/// The archive's columns.
pub fn archive_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("sequence", DataType::UInt64, false),
        Field::new("event_id", DataType::Utf8, false),
        Field::new(
            "event_time",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("kind", DataType::Utf8, false),
        Field::new("debtor_id", DataType::Utf8, true),
        Field::new("payload", DataType::Utf8, false),
    ]))
}

#[derive(Default)]
struct DayBuffer {
    sequence: UInt64Builder,
    event_id: StringBuilder,
    event_time: TimestampMicrosecondBuilder,
    kind: StringBuilder,
    debtor_id: StringBuilder,
    payload: StringBuilder,
    first: u64,
    last: u64,
    rows: usize,
}

/// Events waiting to be written, by day.
pub struct Archive {
    dir: PathBuf,
    days: BTreeMap<NaiveDate, DayBuffer>,
}

impl Archive {
    /// An archive in `dir` (created if missing).
    pub fn open(dir: &Path) -> Result<Archive, PipelineError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| PipelineError::Io(format!("creating archive {}", dir.display()), e))?;
        Ok(Archive {
            dir: dir.to_owned(),
            days: BTreeMap::new(),
        })
    }

    /// Adds a valid event with its stream sequence and the bytes it arrived as.
    pub fn push(&mut self, sequence: u64, event: &Envelope, payload: &[u8]) {
        let day = event.event_time.date_naive();
        let b = self.days.entry(day).or_default();
        if b.rows == 0 {
            b.first = sequence;
        }
        b.last = sequence;
        b.rows += 1;
        b.sequence.append_value(sequence);
        b.event_id.append_value(&event.event_id);
        b.event_time
            .append_value(event.event_time.timestamp_micros());
        b.kind.append_value(event.event.kind().as_str());
        b.debtor_id.append_option(event.event.debtor_id());
        b.payload.append_value(String::from_utf8_lossy(payload));
    }

    /// Events waiting.
    pub fn pending(&self) -> usize {
        self.days.values().map(|b| b.rows).sum()
    }

    /// Writes the waiting events, one file per day; returns the files written.
    pub fn write(&mut self) -> Result<Vec<PathBuf>, PipelineError> {
        let mut written = Vec::new();
        for (day, mut b) in std::mem::take(&mut self.days) {
            let dir = self.dir.join(format!("day={day}"));
            std::fs::create_dir_all(&dir)
                .map_err(|e| PipelineError::Io(format!("creating {}", dir.display()), e))?;
            let path = dir.join(format!("part-{:020}-{:020}.parquet", b.first, b.last));
            let batch = RecordBatch::try_new(
                archive_schema(),
                vec![
                    Arc::new(b.sequence.finish()),
                    Arc::new(b.event_id.finish()),
                    Arc::new(b.event_time.finish().with_timezone("UTC")),
                    Arc::new(b.kind.finish()),
                    Arc::new(b.debtor_id.finish()),
                    Arc::new(b.payload.finish()),
                ],
            )
            .map_err(|e| PipelineError::Internal(format!("archive batch: {e}")))?;
            write_parquet(&path, &batch)?;
            written.push(path);
        }
        Ok(written)
    }
}

/// Writes one batch to a Parquet file (snappy), atomically: a temporary file renamed.
pub fn write_parquet(path: &Path, batch: &RecordBatch) -> Result<(), PipelineError> {
    write_parquet_batches(path, batch.schema(), std::slice::from_ref(batch))
}

/// Writes batches to a Parquet file (snappy), atomically: a temporary file renamed.
pub fn write_parquet_batches(
    path: &Path,
    schema: SchemaRef,
    batches: &[RecordBatch],
) -> Result<(), PipelineError> {
    let tmp = path.with_extension("parquet.tmp");
    let io =
        |what: &str, e: std::io::Error| PipelineError::Io(format!("{what} {}", path.display()), e);
    let file = std::fs::File::create(&tmp).map_err(|e| io("creating", e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let parquet = |e: datafusion::parquet::errors::ParquetError| {
        PipelineError::Io(
            format!("writing {}", path.display()),
            std::io::Error::other(e.to_string()),
        )
    };
    let mut writer = ArrowWriter::try_new(file, schema, Some(props)).map_err(parquet)?;
    for b in batches {
        writer.write(b).map_err(parquet)?;
    }
    writer.close().map_err(parquet)?;
    std::fs::rename(&tmp, path).map_err(|e| io("renaming into", e))?;
    Ok(())
}

/// Chains of files with disjoint sequence ranges merged when the archive is read.
const MERGED_GROUPS: usize = 16;

/// Refuses a path that is not a directory, before DataFusion is asked to read it.
fn check_archive_dir(dir: &Path) -> Result<(), PipelineError> {
    if dir.is_dir() {
        return Ok(());
    }
    Err(PipelineError::InvalidInput(format!(
        "{} is not an archive directory",
        dir.display()
    )))
}

/// Number of events of each of `kinds` in an archive (in that order), from its `kind`
/// column alone, in one scan (repeats around a crash counted twice).
pub async fn count_kinds(
    dir: &Path,
    kinds: &[events::EventKind],
) -> Result<Vec<u64>, PipelineError> {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::compute::cast;
    use datafusion::arrow::datatypes::Int64Type;
    use datafusion::functions_aggregate::expr_fn::count;
    use datafusion::prelude::{ParquetReadOptions, SessionContext, col, lit};

    check_archive_dir(dir)?;
    let ctx = SessionContext::new();
    let options = ParquetReadOptions::default()
        .table_partition_cols(vec![("day".to_owned(), DataType::Utf8)]);
    let df_err = |e: datafusion::error::DataFusionError| {
        PipelineError::InvalidInput(format!("counting the archive's events: {e}"))
    };
    let names: Vec<_> = kinds.iter().map(|k| lit(k.as_str())).collect();
    let batches = ctx
        .read_parquet(dir.to_string_lossy().into_owned(), options)
        .await
        .map_err(df_err)?
        .filter(col("kind").in_list(names, false))
        .map_err(df_err)?
        .aggregate(vec![col("kind")], vec![count(lit(1)).alias("n")])
        .map_err(df_err)?
        .collect()
        .await
        .map_err(df_err)?;
    let mut counts = vec![0; kinds.len()];
    for batch in &batches {
        // Read back as text whichever string type the reader chose.
        let names = cast(batch.column(0), &DataType::Utf8).map_err(|e| df_err(e.into()))?;
        let names = names.as_string::<i32>();
        let ns = batch.column(1).as_primitive::<Int64Type>();
        for row in 0..batch.num_rows() {
            if let Some(at) = kinds.iter().position(|k| k.as_str() == names.value(row)) {
                counts[at] = u64::try_from(ns.value(row)).unwrap_or(0);
            }
        }
    }
    Ok(counts)
}

/// Reads an archive in log order: each event's stream sequence and its bytes as
/// received, repeats (archived twice around a crash) dropped. DataFusion reads the files.
pub async fn read_events(
    dir: &Path,
    mut f: impl AsyncFnMut(u64, &[u8]) -> Result<(), PipelineError>,
) -> Result<(), PipelineError> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::UInt64Type;
    use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
    use futures::StreamExt;

    check_archive_dir(dir)?;
    // Each file is written in sequence order: declared, DataFusion merges the files by
    // their sequence ranges instead of sorting the whole archive in memory. Files whose
    // ranges overlap (late events, repeats around a crash) go to groups of their own, up
    // to MERGED_GROUPS (a batch each in memory); beyond, DataFusion sorts it all.
    let mut config = SessionConfig::new()
        .with_batch_size(8192)
        .with_target_partitions(MERGED_GROUPS);
    config
        .options_mut()
        .execution
        .split_file_groups_by_statistics = true;
    let ctx = SessionContext::new_with_config(config);
    let options = ParquetReadOptions::default()
        .table_partition_cols(vec![("day".to_owned(), DataType::Utf8)])
        .file_sort_order(vec![vec![
            datafusion::prelude::col("sequence").sort(true, false),
        ]]);
    let archive = dir.to_string_lossy().into_owned();
    let df_err = |what: &'static str| {
        move |e: datafusion::error::DataFusionError| {
            PipelineError::InvalidInput(format!("{what} the archive: {e}"))
        }
    };
    ctx.register_parquet("archive", &archive, options)
        .await
        .map_err(df_err("reading"))?;
    let mut stream = ctx
        .sql("SELECT sequence, payload FROM archive ORDER BY sequence")
        .await
        .map_err(df_err("querying"))?
        .execute_stream()
        .await
        .map_err(df_err("reading"))?;
    let mut last_sequence = 0_u64;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(df_err("reading"))?;
        let sequences = batch.column(0).as_primitive::<UInt64Type>();
        // DataFusion may read text as string views: take it as plain UTF-8.
        let payloads = datafusion::arrow::compute::cast(batch.column(1), &DataType::Utf8)
            .map_err(|e| PipelineError::InvalidInput(format!("archive payload: {e}")))?;
        let payloads = payloads
            .as_string_opt::<i32>()
            .ok_or_else(|| PipelineError::InvalidInput("archive payload is not text".into()))?;
        for row in 0..batch.num_rows() {
            let sequence = sequences.value(row);
            if sequence == last_sequence && last_sequence != 0 {
                continue; // archived twice around a crash
            }
            if sequence < last_sequence {
                // Within a file DataFusion trusts the declared order: a file not written
                // by the archive (rows out of order) would otherwise lose events here.
                return Err(PipelineError::InvalidInput(format!(
                    "the archive is out of order: sequence {sequence} comes after \
                     {last_sequence} (a file whose rows are not in sequence order)"
                )));
            }
            last_sequence = sequence;
            if payloads.is_null(row) {
                continue;
            }
            f(sequence, payloads.value(row).as_bytes()).await?;
        }
    }
    Ok(())
}
