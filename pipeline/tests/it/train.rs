//! `creditstream train` on the point-in-time training set of a simulated portfolio.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::{AsArray, RecordBatch};
use features::TrainingSetBuilder;
use models::ModelArtifact;
use simulator::{Behaviour, GroundTruth, SimConfig, Simulator};

/// Simulates a portfolio, builds its training set in-process and writes it to Parquet.
pub fn training_set(dir: &Path, debtors: u32, months: u32, seed: u64) -> (PathBuf, GroundTruth) {
    let config = SimConfig {
        seed,
        debtors,
        months,
        ..SimConfig::default()
    };
    let mut sim = Simulator::new(config.check().unwrap());
    let (schema, batches, _) = TrainingSetBuilder::of_events(sim.by_ref()).unwrap();
    let path = dir.join("training.parquet");
    pipeline::archive::write_parquet_batches(&path, schema, &batches).unwrap();
    (path, sim.into_truth())
}

/// Runs `creditstream` with `args`.
pub fn creditstream_with(args: &[&str]) -> std::process::Output {
    crate::fixture::creditstream().args(args).output().unwrap()
}

fn train(args: &[&str]) -> std::process::Output {
    creditstream_with(&[&["train"], args].concat())
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

    // Judged by `evaluate` on the validation period, with the HTML report, whose copy
    // under docs/ is kept up to date by this test (UPDATE_GOLDEN=1 rewrites it).
    let report = dir.path().join("report.html");
    let run = creditstream_with(&[
        "evaluate",
        "--model",
        out.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.contains(&format!("model sim-test on {} rows", m.metrics.rows)),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("AUC {:.4}", m.metrics.auc)),
        "{stdout}"
    );
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("<svg") && html.contains("What the model looks at"));
    golden("docs/reports/simulated.html", &html);

    // Explained for a structurally late debtor, in words; an unknown debtor is refused.
    let late_debtor = truth
        .debtors
        .iter()
        .find(|(_, t)| t.behaviour == Behaviour::StructurallyLate)
        .map(|(id, _)| id.clone())
        .unwrap();
    let explain = |debtor: &str| {
        creditstream_with(&[
            "explain",
            debtor,
            "--model",
            out.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
        ])
    };
    let run = explain(&late_debtor);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.starts_with(&format!("Debtor {late_debtor}, as known on 20")),
        "{stdout}"
    );
    assert!(stdout.contains("risk class"), "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.contains("the odds")).count(),
        8,
        "{stdout}"
    );
    assert!(
        stdout.contains("raises the odds of paying late"),
        "{stdout}"
    );
    assert!(stdout.contains("Recommended credit limit"), "{stdout}");
    assert!(stdout.contains("typical monthly invoicing"), "{stdout}");
    let run = explain("D999999");
    assert!(crate::fixture::refused(&run).contains("no rows of debtor D999999"));

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

/// Compares a generated file with its committed copy (path from the repository root);
/// `UPDATE_GOLDEN=1` rewrites the copy.
fn golden(path: &str, generated: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with UPDATE_GOLDEN=1", path.display()));
    assert!(
        committed == generated,
        "{} differs from what the test generates; review and rerun with UPDATE_GOLDEN=1",
        path.display()
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
    assert!(crate::fixture::refused(&missing).contains("is not a file"));

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

    // A model evaluated on rows without its feature columns is refused by name.
    let run = train(&[
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let other = dir.path().join("other.parquet");
    let schema = std::sync::Arc::new(datafusion::arrow::datatypes::Schema::new(vec![
        datafusion::arrow::datatypes::Field::new(
            "issued_at",
            datafusion::arrow::datatypes::DataType::Int64,
            false,
        ),
        datafusion::arrow::datatypes::Field::new(
            "late",
            datafusion::arrow::datatypes::DataType::Boolean,
            false,
        ),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            std::sync::Arc::new(datafusion::arrow::array::Int64Array::from(vec![1])),
            std::sync::Arc::new(datafusion::arrow::array::BooleanArray::from(vec![true])),
        ],
    )
    .unwrap();
    pipeline::archive::write_parquet_batches(&other, schema, &[batch]).unwrap();
    let run = creditstream_with(&[
        "evaluate",
        "--all-rows",
        "--model",
        out.to_str().unwrap(),
        "--data",
        other.to_str().unwrap(),
    ]);
    let stderr = crate::fixture::refused(&run);
    assert!(stderr.contains("the features have no column"), "{stderr}");

    // A bad credit-limit policy is refused with its file, line and field.
    let policy = dir.path().join("limits.toml");
    std::fs::write(
        &policy,
        models::limits::DEFAULT_POLICY.replace(r#"rounding = "500""#, r#"rounding = "0""#),
    )
    .unwrap();
    let run = creditstream_with(&[
        "explain",
        "D000001",
        "--model",
        out.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--limit-policy",
        policy.to_str().unwrap(),
    ]);
    let stderr = crate::fixture::refused(&run);
    let line = models::limits::DEFAULT_POLICY
        .lines()
        .position(|l| l.starts_with("rounding ="))
        .unwrap()
        + 1;
    assert!(
        stderr.contains(&format!("limits.toml:{line}: rounding: 0 is not > 0")),
        "{stderr}"
    );
}
