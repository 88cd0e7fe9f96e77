use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array, RecordBatch,
    StringArray,
};
use arrow_schema::{DataType, Field, Schema};
use chrono::TimeZone;
use models::{ModelArtifact, ModelError, TrainingConfig, TrainingTable, train};

use crate::support::{Rng, logistic_table};

fn batch(schema: &Arc<Schema>, columns: Vec<ArrayRef>) -> RecordBatch {
    RecordBatch::try_new(schema.clone(), columns).expect("batch")
}

fn small_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("t", DataType::Int64, false),
        Field::new("amount", DataType::Decimal128(38, 6), true),
        Field::new("flag", DataType::Boolean, true),
        Field::new("debtor_type", DataType::Utf8, true),
        Field::new("late", DataType::Boolean, true),
    ]))
}

fn small_batch(schema: &Arc<Schema>) -> RecordBatch {
    batch(
        schema,
        vec![
            Arc::new(Int64Array::from(vec![30, 10, 20, 40])),
            Arc::new(
                Decimal128Array::from(vec![Some(1_500_000), Some(2_250_000), None, Some(0)])
                    .with_precision_and_scale(38, 6)
                    .expect("decimal"),
            ),
            Arc::new(BooleanArray::from(vec![
                Some(true),
                Some(false),
                None,
                Some(true),
            ])),
            Arc::new(StringArray::from(vec![
                Some("consumer"),
                Some("business"),
                None,
                Some("government"),
            ])),
            Arc::new(BooleanArray::from(vec![
                Some(true),
                Some(false),
                Some(true),
                None,
            ])),
        ],
    )
}

#[test]
fn table_orders_rows_by_time_encodes_columns_and_drops_unlabelled_rows() {
    let schema = small_schema();
    let table = TrainingTable::from_batches(&schema, &[small_batch(&schema)], "late", "t", &[])
        .expect("table");
    assert_eq!(table.unlabelled, 1);
    assert_eq!(table.time, vec![10, 20, 30]);
    assert_eq!(table.labels, vec![false, true, true]);
    assert_eq!(
        table.encoding.feature_names(),
        vec![
            "amount",
            "flag",
            "debtor_type=business",
            "debtor_type=consumer",
            "debtor_type=government"
        ]
    );
    // Row at t = 10: 2.25, false, business.
    assert_eq!(table.x.row(0).to_vec(), vec![2.25, 0.0, 1.0, 0.0, 0.0]);
    // Row at t = 20: all missing: NaN numbers, no category.
    let r = table.x.row(1).to_vec();
    assert!(r[0].is_nan() && r[1].is_nan());
    assert_eq!(&r[2..], &[0.0, 0.0, 0.0]);
    assert_eq!(table.x.row(2).to_vec(), vec![1.5, 1.0, 0.0, 1.0, 0.0]);
}

#[test]
fn schema_hash_follows_the_columns_and_their_categories() {
    let schema = small_schema();
    let a = TrainingTable::from_batches(&schema, &[small_batch(&schema)], "late", "t", &[])
        .expect("table");
    let b = TrainingTable::from_batches(&schema, &[small_batch(&schema)], "late", "t", &["flag"])
        .expect("table");
    assert_ne!(a.encoding.schema_hash(), b.encoding.schema_hash());
    let again = TrainingTable::from_batches(&schema, &[small_batch(&schema)], "late", "t", &[])
        .expect("table");
    assert_eq!(a.encoding.schema_hash(), again.encoding.schema_hash());
    // A batch without a column the model reads is refused by name.
    let other = Arc::new(Schema::new(vec![Field::new(
        "amount",
        DataType::Float64,
        true,
    )]));
    let missing = batch(&other, vec![Arc::new(Float64Array::from(vec![1.0]))]);
    let err = a.encoding.encode(&missing).expect_err("no flag column");
    assert!(err.to_string().contains("no column flag"), "{err}");
}

#[test]
fn identifiers_and_dates_are_not_taken_as_features() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("t", DataType::Int64, false),
        Field::new("invoice_number", DataType::Utf8, false),
        Field::new("due_date", DataType::Date32, false),
        Field::new("late", DataType::Boolean, false),
    ]));
    let n = 100;
    let b = batch(
        &schema,
        vec![
            Arc::new(Int64Array::from_iter_values(0..n)),
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| format!("INV-{i}")),
            )),
            Arc::new(Date32Array::from_iter_values(0..n as i32)),
            Arc::new(BooleanArray::from_iter((0..n).map(|i| Some(i % 2 == 0)))),
        ],
    );
    let err = TrainingTable::from_batches(&schema, std::slice::from_ref(&b), "late", "t", &[])
        .expect_err("id column");
    assert!(err.to_string().contains("invoice_number"), "{err}");
    let err = TrainingTable::from_batches(
        &schema,
        std::slice::from_ref(&b),
        "late",
        "t",
        &["invoice_number"],
    )
    .expect_err("date column");
    assert!(
        err.to_string().contains("due_date has type Date32"),
        "{err}"
    );
}

fn synthetic_batch(rows: usize, seed: u64) -> (Arc<Schema>, RecordBatch) {
    let (x, labels, _) = logistic_table(rows, &[1.2, -0.8, 0.0], -1.0, seed);
    let mut rng = Rng::new(seed + 1);
    let schema = Arc::new(Schema::new(vec![
        Field::new("issued", DataType::Int64, false),
        Field::new("a", DataType::Float64, false),
        Field::new("b", DataType::Float64, false),
        Field::new("c", DataType::Float64, false),
        Field::new("segment", DataType::Utf8, false),
        Field::new("late", DataType::Boolean, false),
    ]));
    let col = |j: usize| Arc::new(Float64Array::from(x.column(j).to_vec())) as ArrayRef;
    let b = batch(
        &schema,
        vec![
            Arc::new(Int64Array::from_iter_values(
                (0..rows as i64).map(|i| i / 10),
            )),
            col(0),
            col(1),
            col(2),
            Arc::new(StringArray::from_iter_values(
                (0..rows).map(|_| if rng.uniform() < 0.5 { "x" } else { "y" }),
            )),
            Arc::new(BooleanArray::from(labels)),
        ],
    );
    (schema, b)
}

#[test]
fn a_training_run_gives_calibrated_probabilities_on_later_rows() {
    let (schema, b) = synthetic_batch(60_000, 41);
    let table = TrainingTable::from_batches(&schema, &[b], "late", "issued", &[]).expect("table");
    let mut steps = Vec::new();
    let created = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
    let artifact = train(
        &table,
        &TrainingConfig::default(),
        "risk-test-1",
        "issued",
        created,
        |s| steps.push(s),
    )
    .expect("train");
    assert_eq!(steps.len(), 3);
    let m = &artifact.metadata;
    // Time order: fit < calibration < validation, no overlap.
    assert!(m.training.last < m.calibration.first && m.calibration.last < m.validation.first);
    assert_eq!(
        m.training.rows + m.calibration.rows + m.validation.rows,
        60_000
    );
    // Balanced class weights skew the raw probabilities; calibration brings them back:
    // predicted and observed late shares agree within 2 points per band on rows the
    // model never saw.
    assert!(
        m.metrics.expected_calibration_error < 0.02,
        "{:?}",
        m.metrics.calibration
    );
    assert!(m.metrics.auc > 0.75, "AUC {}", m.metrics.auc);
    assert!(m.metrics.brier < m.metrics.brier_reference);
    let json = artifact.to_json().expect("json");
    let back = ModelArtifact::from_json(&json).expect("read back");
    assert_eq!(back, artifact);
    let row = table.x.row(5).to_vec();
    assert_eq!(back.score_row(&row), artifact.score_row(&row));
}

#[test]
fn artifacts_refuse_other_schemas_and_formats() {
    let (schema, b) = synthetic_batch(5_000, 43);
    let table = TrainingTable::from_batches(&schema, &[b], "late", "issued", &[]).expect("table");
    let created = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
    let artifact = train(
        &table,
        &TrainingConfig::default(),
        "v1",
        "issued",
        created,
        |_| {},
    )
    .expect("train");
    assert!(artifact.check_schema(&table.encoding.schema_hash()).is_ok());
    let err = artifact.check_schema("0000").expect_err("mismatch");
    assert!(matches!(err, ModelError::SchemaMismatch { .. }), "{err}");
    assert!(err.to_string().contains("model v1"), "{err}");
    // Against running features given as a schema: each column that does not fit is named.
    assert!(artifact.check_inputs(&schema).is_ok());
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .filter(|f| f.name() != "a")
        .map(|f| match f.name().as_str() {
            "b" => Field::new("b", DataType::Utf8, true),
            "segment" => Field::new("segment", DataType::Int64, true),
            _ => f.as_ref().clone(),
        })
        .collect();
    let err = artifact
        .check_inputs(&Schema::new(fields))
        .expect_err("misfit");
    assert!(matches!(err, ModelError::InputsMismatch { .. }), "{err}");
    let text = err.to_string();
    for problem in [
        "column a is missing",
        "column b has type Utf8, the model expects a number",
        "column segment has type Int64, the model expects text",
    ] {
        assert!(text.contains(problem), "{text}");
    }
    let mut other = artifact.clone();
    other.metadata.format = 99;
    let err = ModelArtifact::from_json(&other.to_json().expect("json")).expect_err("format");
    assert!(err.to_string().contains("format 99"), "{err}");
    let mut profiles = artifact.clone();
    if let Some(p) = profiles.metadata.feature_profiles.first_mut() {
        p.shares.pop();
    }
    let err = ModelArtifact::from_json(&profiles.to_json().expect("json")).expect_err("profiles");
    assert!(err.to_string().contains("feature profiles"), "{err}");
    let mut tampered = artifact.clone();
    tampered.metadata.feature_schema_hash = "abc".into();
    assert!(ModelArtifact::from_json(&tampered.to_json().expect("json")).is_err());
    // A model whose parts do not fit together is refused, not run.
    let mut broken = artifact;
    if let models::RiskModel::Logistic(m) = &mut broken.model {
        m.scaler.mean.pop();
    }
    let err = ModelArtifact::from_json(&broken.to_json().expect("json")).expect_err("scaler");
    assert!(err.to_string().contains("means"), "{err}");

    let config = TrainingConfig {
        kind: models::ModelKind::BoostedTrees,
        boosting: models::BoostingParams::new().max_iterations(2),
        ..TrainingConfig::default()
    };
    let mut trees = train(&table, &config, "t", "issued", created, |_| {}).expect("train");
    if let models::RiskModel::BoostedTrees(m) = &mut trees.model
        && let Some(models::boosting::Node::Split { left, .. }) = m.trees[0].nodes.get_mut(0)
    {
        *left = 0; // a loop
    }
    let err = ModelArtifact::from_json(&trees.to_json().expect("json")).expect_err("loop");
    assert!(err.to_string().contains("out of range"), "{err}");
}

#[test]
fn infinite_feature_values_are_refused_by_column_and_row() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("t", DataType::Int64, false),
        Field::new("x", DataType::Float64, false),
        Field::new("late", DataType::Boolean, false),
    ]));
    let b = batch(
        &schema,
        vec![
            Arc::new(Int64Array::from(vec![1, 2])),
            Arc::new(Float64Array::from(vec![1.0, f64::INFINITY])),
            Arc::new(BooleanArray::from(vec![true, false])),
        ],
    );
    let err = TrainingTable::from_batches(&schema, &[b], "late", "t", &[]).expect_err("inf");
    assert!(
        err.to_string().contains("column x, row 1: infinite"),
        "{err}"
    );
}

#[test]
fn the_boosted_challenger_trains_calibrates_and_round_trips_too() {
    let (schema, b) = synthetic_batch(30_000, 47);
    let table = TrainingTable::from_batches(&schema, &[b], "late", "issued", &[]).expect("table");
    let created = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
    let config = TrainingConfig {
        kind: models::ModelKind::BoostedTrees,
        boosting: models::BoostingParams::new().max_iterations(40),
        ..TrainingConfig::default()
    };
    let artifact = train(&table, &config, "trees-1", "issued", created, |_| {}).expect("train");
    let m = &artifact.metadata;
    assert!(
        m.trainer.starts_with("gradient-boosted trees, 40 trees"),
        "{}",
        m.trainer
    );
    assert!(matches!(artifact.model, models::RiskModel::BoostedTrees(_)));
    assert!(m.metrics.auc > 0.75, "AUC {}", m.metrics.auc);
    assert!(
        m.metrics.expected_calibration_error < 0.03,
        "{:?}",
        m.metrics
    );
    let back = ModelArtifact::from_json(&artifact.to_json().expect("json")).expect("read");
    assert_eq!(back, artifact);
}

/// A synthetic table of `rows` and a model of each kind trained on it (`iterations` rounds
/// of boosting), with its kind.
fn trained_both_ways(
    rows: usize,
    seed: u64,
    iterations: usize,
) -> (TrainingTable, Vec<(models::ModelKind, ModelArtifact)>) {
    let (schema, b) = synthetic_batch(rows, seed);
    let table = TrainingTable::from_batches(&schema, &[b], "late", "issued", &[]).expect("table");
    let created = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
    let artifacts = [models::ModelKind::Logistic, models::ModelKind::BoostedTrees]
        .into_iter()
        .map(|kind| {
            let config = TrainingConfig {
                kind,
                boosting: models::BoostingParams::new().max_iterations(iterations),
                ..TrainingConfig::default()
            };
            let artifact = train(&table, &config, "x", "issued", created, |_| {});
            (kind, artifact.expect("train"))
        })
        .collect();
    (table, artifacts)
}

#[test]
fn explanations_add_up_to_the_score_for_both_models() {
    use models::calibration::logit;
    let (table, artifacts) = trained_both_ways(20_000, 53, 20);
    for (kind, artifact) in &artifacts {
        for i in [0, 999, 19_999] {
            let row = table.x.row(i).to_vec();
            let e = models::explain(artifact, &row);
            let total =
                logit(e.base_probability) + e.factors.iter().map(|f| f.log_odds).sum::<f64>();
            assert!(
                (total - logit(e.probability)).abs() < 1e-9,
                "{kind:?} row {i}: {total} against {}",
                logit(e.probability)
            );
            assert_eq!(e.factors.len(), 4, "one factor per input column");
            assert!(
                e.factors
                    .windows(2)
                    .all(|w| w[0].log_odds.abs() >= w[1].log_odds.abs())
            );
        }
        // Feature a (coefficient 1.2 in the truth) is the strongest push somewhere.
        let row = table.x.row(7).to_vec();
        let e = models::explain(artifact, &row);
        let text = e.text(2);
        assert!(text.contains("risk class"), "{text}");
        assert_eq!(text.lines().count(), 4, "{text}");
    }
}

#[test]
fn the_explainer_words_the_drivers_as_the_explanation_does() {
    let (table, artifacts) = trained_both_ways(5_000, 54, 10);
    for (kind, artifact) in &artifacts {
        let explainer = models::Explainer::new(artifact);
        assert!(explainer.fits(artifact));
        assert!(!models::Explainer::default().fits(artifact));
        let mut named = 0;
        for i in (0..5_000).step_by(97) {
            let row = table.x.row(i).to_vec();
            for top in [0, 1, 2, 3, 10] {
                let line = explainer.summary(artifact, &row, top);
                assert_eq!(
                    line,
                    models::explain_top(artifact, &row, top).summary(top),
                    "{kind:?} row {i}, top {top}"
                );
                assert_eq!(line, models::explain(artifact, &row).summary(top));
                named += usize::from(line.contains("the odds"));
            }
        }
        assert!(named > 0, "{kind:?}: some rows have drivers");
    }
}

#[test]
fn feature_names_read_as_words() {
    use models::explain::words;
    assert_eq!(words("late_share_90d"), "late share, last 90 days");
    assert_eq!(
        words("overdue_balance_over_30d"),
        "overdue balance more than 30 days past due"
    );
    assert_eq!(words("debtor_type"), "debtor type");
    assert_eq!(words("utilisation"), "utilisation");
}
