//! The training set's Parquet file, written as its rows are made. Every column but the
//! labels is encoded (compressed, in memory) as each chunk of rows arrives; the labels,
//! known only once the log has been read to its end, are encoded last, and the row groups
//! are then written out in order. The file holds the same bytes as writing the labelled
//! batches whole would; the process holds the encoded columns (about the size of the
//! file) instead of every row's features until the end of the log.

use std::fs::File;
use std::path::{Path, PathBuf};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves,
};
use datafusion::parquet::basic::Compression;
use datafusion::parquet::errors::ParquetError;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::file::writer::SerializedFileWriter;
use features::training::LABEL_COLUMNS;
use features::{LabelKeys, Labeller, Unlabelled};

use crate::error::PipelineError;

/// A training set's Parquet file being written (to a temporary name, renamed into place
/// when finished; removed if it never is).
pub struct TrainingFile {
    path: PathBuf,
    tmp: PathBuf,
    schema: SchemaRef,
    writer: Option<SerializedFileWriter<File>>,
    factory: ArrowRowGroupWriterFactory,
    max_rows: usize,
    /// The row group being encoded.
    open: Option<Group>,
    /// Row groups whose columns but the labels are encoded, in order.
    encoded: Vec<EncodedGroup>,
    renamed: bool,
}

/// A row group being encoded: a writer per column (those of the labels still untouched)
/// and what its rows' labels are drawn from, in the pieces the rows came in.
struct Group {
    writers: Vec<ArrowColumnWriter>,
    keys: Vec<LabelKeys>,
    rows: usize,
}

/// A row group with every column but the labels encoded.
struct EncodedGroup {
    columns: Vec<ArrowColumnChunk>,
    labels: Vec<ArrowColumnWriter>,
    keys: Vec<LabelKeys>,
}

impl TrainingFile {
    /// Starts the file at `path` for rows of `schema` (snappy-compressed; the last
    /// [`LABEL_COLUMNS`] fields are the labels). Fails at once if it cannot be created.
    pub fn create(path: &Path, schema: SchemaRef) -> Result<TrainingFile, PipelineError> {
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        TrainingFile::with_properties(path, schema, props)
    }

    fn with_properties(
        path: &Path,
        schema: SchemaRef,
        props: WriterProperties,
    ) -> Result<TrainingFile, PipelineError> {
        let tmp = path.with_extension("parquet.tmp");
        let file = File::create(&tmp)
            .map_err(|e| PipelineError::Io(format!("creating {}", tmp.display()), e))?;
        let max_rows = props.max_row_group_row_count().unwrap_or(usize::MAX).max(1);
        let parquet = parquet_error(path);
        let (writer, factory) = match ArrowWriter::try_new(file, schema.clone(), Some(props))
            .and_then(ArrowWriter::into_serialized_writer)
        {
            Ok(started) => started,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(parquet(e));
            }
        };
        // One Parquet column per field: nested fields (several leaves) are not expected.
        let leaves = writer.schema_descr().num_columns();
        let file = TrainingFile {
            path: path.to_owned(),
            tmp,
            schema,
            writer: Some(writer),
            factory,
            max_rows,
            open: None,
            encoded: Vec::new(),
            renamed: false,
        };
        if leaves != file.schema.fields().len() || leaves < LABEL_COLUMNS {
            return Err(PipelineError::Internal(format!(
                "the training set's {} columns make {leaves} Parquet columns",
                file.schema.fields().len()
            )));
        }
        Ok(file)
    }

    /// Encodes the columns of `rows` but the labels, into row groups of at most the
    /// writer's row count (a chunk split across two where it falls on the boundary).
    pub fn add(&mut self, rows: Unlabelled) -> Result<(), PipelineError> {
        let parquet = parquet_error(&self.path);
        let mut rest = rows;
        while !rest.is_empty() {
            let mut group = match self.open.take() {
                Some(group) => group,
                None => Group {
                    writers: self
                        .factory
                        .create_column_writers(self.encoded.len())
                        .map_err(&parquet)?,
                    keys: Vec::new(),
                    rows: 0,
                },
            };
            let (now, later) = rest.split_at(self.max_rows - group.rows);
            rest = later;
            let fields = self.schema.fields().iter();
            for ((field, column), writer) in fields
                .zip(now.columns.columns())
                .zip(group.writers.iter_mut())
            {
                for leaf in compute_leaves(field, column).map_err(&parquet)? {
                    writer.write(&leaf).map_err(&parquet)?;
                }
            }
            group.rows += now.len();
            group.keys.push(now.keys);
            if group.rows >= self.max_rows {
                self.encoded.push(close_group(group, &self.path)?);
            } else {
                self.open = Some(group);
            }
        }
        Ok(())
    }

    /// Encodes every row's labels as `labeller` draws them, writes the row groups out
    /// and moves the file into place.
    pub fn finish(mut self, labeller: &mut Labeller) -> Result<(), PipelineError> {
        if let Some(group) = self.open.take() {
            self.encoded.push(close_group(group, &self.path)?);
        }
        let parquet = parquet_error(&self.path);
        let Some(mut writer) = self.writer.take() else {
            return Err(PipelineError::Internal(
                "training file finished twice".into(),
            ));
        };
        let label_fields = &self.schema.fields()[self.schema.fields().len() - LABEL_COLUMNS..];
        for group in std::mem::take(&mut self.encoded) {
            let mut row_group = writer.next_row_group().map_err(&parquet)?;
            for column in group.columns {
                column
                    .append_to_row_group(&mut row_group)
                    .map_err(&parquet)?;
            }
            let mut label_writers = group.labels;
            // Labelled in the pieces the rows came in, as whole batches would be written.
            for keys in &group.keys {
                let labels = labeller.label(keys);
                for ((field, column), writer) in label_fields
                    .iter()
                    .zip(&labels)
                    .zip(label_writers.iter_mut())
                {
                    for leaf in compute_leaves(field, column).map_err(&parquet)? {
                        writer.write(&leaf).map_err(&parquet)?;
                    }
                }
            }
            for writer in label_writers {
                writer
                    .close()
                    .and_then(|c| c.append_to_row_group(&mut row_group))
                    .map_err(&parquet)?;
            }
            row_group.close().map_err(&parquet)?;
        }
        writer.close().map_err(&parquet)?;
        std::fs::rename(&self.tmp, &self.path)
            .map_err(|e| PipelineError::Io(format!("renaming into {}", self.path.display()), e))?;
        self.renamed = true;
        Ok(())
    }
}

impl Drop for TrainingFile {
    /// A file never finished (an error on the way) leaves no temporary file behind.
    fn drop(&mut self) {
        if !self.renamed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Closes a row group's columns but its labels.
fn close_group(mut group: Group, path: &Path) -> Result<EncodedGroup, PipelineError> {
    let labels = group.writers.split_off(group.writers.len() - LABEL_COLUMNS);
    let columns = group
        .writers
        .into_iter()
        .map(ArrowColumnWriter::close)
        .collect::<Result<_, _>>()
        .map_err(parquet_error(path))?;
    Ok(EncodedGroup {
        columns,
        labels,
        keys: group.keys,
    })
}

fn parquet_error(path: &Path) -> impl Fn(ParquetError) -> PipelineError + '_ {
    move |e| {
        PipelineError::Io(
            format!("writing {}", path.display()),
            std::io::Error::other(e.to_string()),
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use datafusion::arrow::array::RecordBatch;
    use features::{Definitions, LabelOptions, TrainingSetBuilder};
    use simulator::{SimConfig, Simulator};

    /// A small portfolio's rows, cut into uneven pieces, and the labeller of their log.
    fn pieces(cuts: &[usize]) -> (SchemaRef, Vec<Unlabelled>, Labeller) {
        let config = SimConfig {
            seed: 5,
            debtors: 120,
            months: 8,
            ..SimConfig::default()
        };
        let builder = TrainingSetBuilder::new(
            Definitions::builtin().unwrap(),
            ledger::LedgerConfig::default(),
            LabelOptions::default(),
        )
        .unwrap();
        let schema = builder.schema();
        let (mut replay, mut features) = builder.into_halves();
        for event in Simulator::new(config.check().unwrap()) {
            if let Some(r) = replay.push(&event) {
                features.take(r).unwrap();
            }
        }
        let outcomes = replay.finish();
        let (chunks, options) = features.finish_unlabelled().unwrap();
        let mut pieces = Vec::new();
        for mut rest in chunks {
            for &cut in cuts {
                let (piece, later) = rest.split_at(cut);
                pieces.push(piece);
                rest = later;
            }
            pieces.push(rest);
        }
        (schema, pieces, Labeller::new(outcomes, options))
    }

    #[test]
    fn rows_encoded_as_they_come_make_the_file_whole_labelled_batches_make() {
        // Row groups of 300 rows: pieces of 170, 330 and 2 rows fall across them.
        let props = || {
            WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_max_row_group_row_count(Some(300))
                .build()
        };
        let cuts = [170, 330, 2];
        let dir = tempfile::tempdir().unwrap();

        let (schema, rows, mut labeller) = pieces(&cuts);
        let total: usize = rows.iter().map(Unlabelled::len).sum();
        assert!(total > 900, "{total} rows: too few to cross row groups");
        let mut batches = Vec::new();
        for piece in rows {
            let mut columns = piece.columns.columns().to_vec();
            columns.extend(labeller.label(&piece.keys));
            batches.push(RecordBatch::try_new(schema.clone(), columns).unwrap());
        }
        let whole = dir.path().join("whole.parquet");
        let mut writer =
            ArrowWriter::try_new(File::create(&whole).unwrap(), schema.clone(), Some(props()))
                .unwrap();
        for b in &batches {
            writer.write(b).unwrap();
        }
        let metadata = writer.close().unwrap();
        assert!(metadata.num_row_groups() >= 3);

        let (schema, rows, mut labeller) = pieces(&cuts);
        let streamed = dir.path().join("streamed.parquet");
        let mut file = TrainingFile::with_properties(&streamed, schema, props()).unwrap();
        for piece in rows {
            file.add(piece).unwrap();
        }
        assert!(!streamed.exists(), "in place only once finished");
        file.finish(&mut labeller).unwrap();
        assert_eq!(labeller.summary().rows, total as u64);
        assert_eq!(
            std::fs::read(&streamed).unwrap(),
            std::fs::read(&whole).unwrap()
        );
        assert!(!streamed.with_extension("parquet.tmp").exists());
    }

    #[test]
    fn a_file_never_finished_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let (schema, rows, _) = pieces(&[]);
        let path = dir.path().join("set.parquet");
        let mut file = TrainingFile::create(&path, schema).unwrap();
        for piece in rows {
            file.add(piece).unwrap();
        }
        assert!(path.with_extension("parquet.tmp").exists());
        drop(file);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
