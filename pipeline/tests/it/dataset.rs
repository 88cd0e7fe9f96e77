//! The event archive written by a running worker, read back by a second Parquet reader,
//! and `creditstream dataset` over it.

use std::path::{Path, PathBuf};

use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
use datafusion::parquet::record::Field;
use features::TrainingSetBuilder;

use crate::fixture::*;

fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(parquet_files(&path));
        } else if path.extension().is_some_and(|e| e == "parquet") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Every row of a Parquet file as (column, value as text) pairs, by the parquet crate's
/// record reader (not the Arrow reader DataFusion uses).
fn rows(path: &Path) -> Vec<Vec<(String, String)>> {
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| {
            row.unwrap()
                .get_column_iter()
                .map(|(name, field)| {
                    let text = match field {
                        Field::Str(s) => s.clone(),
                        Field::Null => String::new(),
                        other => other.to_string(),
                    };
                    (name.clone(), text)
                })
                .collect()
        })
        .collect()
}

/// Runs `creditstream dataset --archive ARCHIVE --out OUT`.
fn dataset(archive: &Path, out: &Path) -> std::process::Output {
    creditstream()
        .args(["dataset", "--archive"])
        .arg(archive)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn cell<'a>(row: &'a [(String, String)], name: &str) -> &'a str {
    &row.iter().find(|(n, _)| n == name).unwrap().1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_archives_every_event_by_day_and_dataset_builds_a_training_set_from_it() {
    let nats = Nats::start().await;
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let mut config = nats.worker_config();
    config.archive_dir = Some(archive.clone());
    let (mut worker, _metrics) = nats.start_worker(config).await;
    let events = portfolio(60, 4, 11);
    let last = nats.publish(&events).await;
    worker
        .wait_for(PATIENCE, |s| s.checkpointed_sequence >= last)
        .await
        .unwrap();
    worker.stop().await.unwrap();

    // A second reader sees every event once, in its day's partition, as it was sent.
    let files = parquet_files(&archive);
    assert!(
        files.len() >= 100,
        "one file per day at least: {}",
        files.len()
    );
    let mut seen = Vec::new();
    for f in &files {
        let day = f
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for row in rows(f) {
            let event =
                events::Envelope::decode(cell(&row, "payload").as_bytes(), usize::MAX).unwrap();
            assert_eq!(day, format!("day={}", event.event_time.date_naive()));
            assert_eq!(cell(&row, "event_id"), event.event_id);
            assert_eq!(cell(&row, "kind"), event.event.kind().as_str());
            seen.push(event.event_id);
        }
    }
    let mut expected: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected);

    // The training set from the archive is the one built in-process from the same log.
    let out = dir.path().join("training/set.parquet");
    let run = dataset(&archive, &out);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.contains(&format!("{} events read", events.len())),
        "{stdout}"
    );

    let (schema, batches, summary) = TrainingSetBuilder::of_events(&events).unwrap();
    let written = rows(&out);
    assert_eq!(written.len() as u64, summary.rows);
    assert!(
        stdout.contains(&format!("{} invoices written", summary.rows)),
        "{stdout}"
    );
    let mut i = 0;
    for batch in &batches {
        let invoices = batch
            .column(0)
            .as_any()
            .downcast_ref::<datafusion::arrow::array::StringArray>()
            .unwrap();
        for r in 0..batch.num_rows() {
            assert_eq!(cell(&written[i], "invoice_number"), invoices.value(r));
            i += 1;
        }
    }
    let late = written.iter().filter(|r| cell(r, "late") == "true").count() as u64;
    assert_eq!(late, summary.late);
    assert!(late > 0);
    // Encoded as its rows were made, the file is the one the labelled batches make whole.
    let whole = dir.path().join("whole.parquet");
    pipeline::archive::write_parquet_batches(&whole, schema, &batches).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&whole).unwrap());
}

#[test]
fn dataset_refuses_a_missing_archive_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dataset(&dir.path().join("nowhere"), &dir.path().join("x.parquet"));
    let stderr = refused(&out);
    assert!(stderr.contains("not an archive directory"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[tokio::test]
async fn the_archive_reads_in_log_order_across_overlapping_files_and_repeats_once() {
    use pipeline::archive::{Archive, read_events};
    let dir = tempfile::tempdir().unwrap();
    let mut events = portfolio(5, 2, 7);
    events.truncate(12);
    // Days alternate with the sequence (late events): each day's file spans the other's.
    let days = [0, 1, 0, 1, 2, 0, 2, 1, 0, 2, 1, 0];
    let start = events[0].event_time;
    for (e, d) in events.iter_mut().zip(days) {
        e.event_time = start + chrono::Duration::days(d);
    }
    let mut archive = Archive::open(dir.path()).unwrap();
    for (i, e) in events.iter().enumerate().take(8) {
        archive.push(i as u64 + 1, e, &e.to_json());
    }
    archive.write().unwrap();
    // A crash after writing 1–8: 6–8 are archived again, with what follows.
    for (i, e) in events.iter().enumerate().skip(5) {
        archive.push(i as u64 + 1, e, &e.to_json());
    }
    archive.write().unwrap();
    assert!(parquet_files(dir.path()).len() >= 6);

    let mut read = Vec::new();
    read_events(dir.path(), async |sequence, bytes| {
        read.push((sequence, bytes.to_vec()));
        Ok(())
    })
    .await
    .unwrap();
    let sequences: Vec<u64> = read.iter().map(|(s, _)| *s).collect();
    assert_eq!(sequences, (1..=12).collect::<Vec<u64>>());
    for ((_, bytes), e) in read.iter().zip(&events) {
        assert_eq!(bytes, &e.to_json());
    }

    // Counted by kind in one scan, the repeats (6–8) twice, a kind not there as 0.
    use events::EventKind;
    let kinds = [
        events[0].event.kind(),
        events[11].event.kind(),
        EventKind::ModelActivated,
    ];
    let archived: Vec<&events::Envelope> =
        events.iter().take(8).chain(events.iter().skip(5)).collect();
    let expected: Vec<u64> = kinds
        .iter()
        .map(|k| archived.iter().filter(|e| e.event.kind() == *k).count() as u64)
        .collect();
    assert!(
        expected[0] > 0 && expected[1] > 0 && expected[2] == 0,
        "{expected:?}"
    );
    assert_eq!(
        pipeline::archive::count_kinds(dir.path(), &kinds)
            .await
            .unwrap(),
        expected
    );
}

#[test]
fn dataset_refuses_a_damaged_archive_file_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let day = archive.join("day=2025-01-01");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::write(
        day.join("part-00000000000000000001-00000000000000000009.parquet"),
        b"PAR1 this is not a Parquet file",
    )
    .unwrap();
    let out = dir.path().join("x.parquet");
    let run = dataset(&archive, &out);
    let stderr = refused(&run);
    assert!(stderr.contains("the archive"), "{stderr}");
    assert!(!out.exists(), "no training set from a damaged archive");
    assert!(
        !out.with_extension("parquet.tmp").exists(),
        "nor a file half written"
    );
}

#[tokio::test]
async fn an_archive_file_out_of_sequence_order_is_refused_not_read_short() {
    use pipeline::archive::{Archive, read_events};
    let dir = tempfile::tempdir().unwrap();
    let events = portfolio(3, 1, 7);
    let mut archive = Archive::open(dir.path()).unwrap();
    // One day's rows written 3, 1, 2: not as the archive writes them.
    for (sequence, e) in [3, 1, 2].into_iter().zip(&events) {
        let mut e = e.clone();
        e.event_time = events[0].event_time;
        archive.push(sequence, &e, &e.to_json());
    }
    archive.write().unwrap();
    let mut read = 0;
    let result = read_events(dir.path(), async |_, _| {
        read += 1;
        Ok(())
    })
    .await;
    let error = result.unwrap_err().to_string();
    assert!(error.contains("out of order"), "{error}");
    assert_eq!(read, 1, "stopped at the first row out of order");
}
