//! `creditstream train` on the point-in-time training set of a simulated portfolio.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use datafusion::arrow::array::{AsArray, RecordBatch};
use features::{Definitions, LabelOptions, TrainingSetBuilder};
use models::ModelArtifact;
use simulator::{Behaviour, GroundTruth, SimConfig, Simulator};

/// Simulates a portfolio, builds its training set in-process and writes it to Parquet.
fn training_set(dir: &Path, debtors: u32, months: u32, seed: u64) -> (PathBuf, GroundTruth) {
    let config = SimConfig {
        seed,
        debtors,
        months,
        ..SimConfig::default()
    };
    let mut sim = Simulator::new(config.check().unwrap());
    let mut builder = TrainingSetBuilder::new(
        Definitions::builtin().unwrap(),
        ledger::LedgerConfig::default(),
        LabelOptions::default(),
    )
    .unwrap();
    for e in sim.by_ref() {
        builder.push(&e).unwrap();
    }
    let schema = builder.schema();
    let (batches, _) = builder.finish().unwrap();
    let path = dir.join("training.parquet");
    pipeline::archive::write_parquet_batches(&path, schema, &batches).unwrap();
    (path, sim.into_truth())
}

fn train(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_creditstream"))
        .arg("train")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn trained_model_ranks_the_simulators_late_payers_above_the_punctual_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (data, truth) = training_set(dir.path(), 1000, 12, 5);
    let out = dir.path().join("models/risk.json");
    let run = train(&[
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--version",
        "sim-test",
    ]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.contains("creditstream train: model sim-test"),
        "{stdout}"
    );
    println!("{stdout}");
    let artifact = ModelArtifact::from_json(&std::fs::read(&out).unwrap()).unwrap();
    let m = &artifact.metadata;
    assert!(m.metrics.auc > 0.75, "AUC {}", m.metrics.auc);
    assert!(
        m.metrics.expected_calibration_error < 0.05,
        "{:?}",
        m.metrics.calibration
    );
    assert!(m.training.last <= m.calibration.first && m.calibration.last <= m.validation.first);

    // Score every invoice and average per simulated behaviour.
    let (_, batches) = pipeline::train::read_parquet(&data).unwrap();
    let mut by_behaviour: HashMap<Behaviour, (f64, usize)> = HashMap::new();
    for batch in &batches {
        score_batch(&artifact, batch, &truth, &mut by_behaviour);
    }
    let mean = |b: Behaviour| {
        let (sum, n) = by_behaviour[&b];
        sum / n as f64
    };
    let punctual = mean(Behaviour::OnTime);
    for late in [Behaviour::StructurallyLate, Behaviour::PartialPayer] {
        assert!(
            mean(late) > 2.0 * punctual,
            "{late:?} scores {} on average, on-time payers {punctual}",
            mean(late)
        );
    }

    // The challenger from the same command.
    let trees_out = dir.path().join("models/trees.json");
    let run = train(&[
        "--data",
        data.to_str().unwrap(),
        "--out",
        trees_out.to_str().unwrap(),
        "--model",
        "boosted-trees",
        "--trees",
        "40",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let trees = ModelArtifact::from_json(&std::fs::read(&trees_out).unwrap()).unwrap();
    assert!(matches!(trees.model, models::RiskModel::BoostedTrees(_)));
    assert!(
        trees.metadata.metrics.auc > 0.75,
        "{:?}",
        trees.metadata.metrics
    );
}

fn score_batch(
    artifact: &ModelArtifact,
    batch: &RecordBatch,
    truth: &GroundTruth,
    by_behaviour: &mut HashMap<Behaviour, (f64, usize)>,
) {
    let x = artifact.encoding.encode(batch).unwrap();
    let debtors = batch
        .column_by_name("debtor_id")
        .unwrap()
        .as_string::<i32>();
    for (i, row) in x.rows().into_iter().enumerate() {
        let score = artifact.score_row(row.as_slice().unwrap());
        let behaviour = truth.debtors[debtors.value(i)].behaviour;
        let e = by_behaviour.entry(behaviour).or_default();
        e.0 += score.probability;
        e.1 += 1;
    }
}

#[test]
fn train_refuses_bad_options_and_files_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.json");
    let missing = train(&[
        "--data",
        dir.path().join("nowhere.parquet").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("is not a file"));

    let (data, _) = training_set(dir.path(), 40, 4, 9);
    for (option, value, says) in [
        ("--split", "0.5,0.5", "--split"),
        ("--cutoffs", "0.5,0.2,0.3,0.4", "rise strictly"),
        ("--c", "0", "invalid parameter c"),
        ("--label", "nonexistent", "no column nonexistent"),
    ] {
        let run = train(&[
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            option,
            value,
        ]);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{option} {value}: {stderr}");
        assert!(stderr.contains(says), "{option} {value}: {stderr}");
    }
    assert!(!out.exists(), "nothing written after a refusal");
}
