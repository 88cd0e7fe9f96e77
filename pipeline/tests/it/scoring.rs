//! The model stage inside the stages, without a network: model versions activated by
//! events in the log, debtors scored at score points, refusals that keep the model in
//! use, a challenger in shadow, and outputs that do not depend on micro-batch flushes or
//! checkpoints.

use std::sync::{Arc, OnceLock};

use chrono::{TimeZone, Utc};
use datafusion::arrow::array::{Float64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use events::{AlertKind, Envelope, InputEvent, ModelActivated, ModelRole, Output, OutputEnvelope};
use features::{Definitions, TrainingSetBuilder};
use models::{ModelArtifact, ModelKind, TrainingConfig, TrainingTable};
use pipeline::scoring::{LoadedModel, ScoringConfig};
use pipeline::stages::Stages;

use crate::fixture::portfolio;

const EXCLUDE: [&str; 4] = ["invoice_number", "debtor_id", "due_date", "days_late"];

/// The point-in-time training set of a simulated portfolio.
fn training_batches() -> &'static (Arc<Schema>, Vec<RecordBatch>) {
    static SET: OnceLock<(Arc<Schema>, Vec<RecordBatch>)> = OnceLock::new();
    SET.get_or_init(|| {
        let (schema, batches, _) = TrainingSetBuilder::of_events(portfolio(600, 12, 3)).unwrap();
        (schema, batches)
    })
}

fn train(version: &str, kind: ModelKind, schema: &Schema, batches: &[RecordBatch]) -> Vec<u8> {
    let table = TrainingTable::from_batches(schema, batches, "late", "issued_at", &EXCLUDE)
        .expect("training table");
    let config = TrainingConfig {
        kind,
        ..TrainingConfig::default()
    };
    let created = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
    models::train(&table, &config, version, "issued_at", created, |_| {})
        .expect("trains")
        .to_json()
        .expect("json")
}

/// A model version's stored bytes, trained once per test run.
fn model(version: &'static str) -> &'static [u8] {
    static V1: OnceLock<Vec<u8>> = OnceLock::new();
    static V2: OnceLock<Vec<u8>> = OnceLock::new();
    let (schema, batches) = training_batches();
    match version {
        "v1" => V1.get_or_init(|| train("v1", ModelKind::Logistic, schema, batches)),
        "v2" => V2.get_or_init(|| train("v2", ModelKind::BoostedTrees, schema, batches)),
        other => panic!("no model {other}"),
    }
}

/// A model version trained once per test run, as an artifact.
pub(crate) fn trained_model(version: &'static str) -> (ModelArtifact, &'static [u8]) {
    let bytes = model(version);
    (ModelArtifact::from_json(bytes).expect("artifact"), bytes)
}

/// A model that reads a column the running features do not have.
fn model_with_extra_column() -> Vec<u8> {
    let (schema, batches) = training_batches();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new("shoe_size", DataType::Float64, true));
    let wider = Arc::new(Schema::new(fields));
    let batches: Vec<RecordBatch> = batches
        .iter()
        .map(|b| {
            let mut columns = b.columns().to_vec();
            columns.push(Arc::new(Float64Array::from_iter_values(
                (0..b.num_rows()).map(|i| (i % 13) as f64),
            )));
            RecordBatch::try_new(wider.clone(), columns).unwrap()
        })
        .collect();
    train("v-shoes", ModelKind::Logistic, &wider, &batches)
}

/// The built-in feature definitions as text, to change for a test.
fn builtin_definitions() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../features/definitions.toml"
    ))
    .unwrap()
}

fn loaded(version: &str, bytes: &[u8]) -> LoadedModel {
    LoadedModel::from_bytes(version, bytes).expect("valid artifact")
}

fn activation(
    id: &str,
    after: &Envelope,
    role: ModelRole,
    version: &str,
    sha256: Option<String>,
) -> Envelope {
    Envelope {
        schema_version: 1,
        event_id: id.into(),
        event_time: after.event_time,
        event: InputEvent::ModelActivated(ModelActivated {
            role,
            version: version.into(),
            sha256,
            activated_by: "analyst.test".into(),
            reason: "test".into(),
        }),
    }
}

fn alerts(outputs: &[OutputEnvelope], kind: AlertKind) -> Vec<String> {
    outputs
        .iter()
        .filter_map(|o| match &o.output {
            Output::Alert(a) if a.kind == kind => Some(a.summary.clone()),
            _ => None,
        })
        .collect()
}

/// A score update that carries a model score.
struct Seen {
    id: String,
    debtor: String,
    version: String,
    probability: f64,
    class: String,
    has_limit: bool,
    challenger: Option<String>,
}

fn scored(outputs: &[OutputEnvelope]) -> Vec<Seen> {
    outputs
        .iter()
        .filter_map(|o| match &o.output {
            Output::ScoreUpdate(s) => s.model_version.clone().map(|version| Seen {
                id: o.output_id.clone(),
                debtor: o.debtor_id.clone().unwrap_or_default(),
                version,
                probability: s.probability_late.unwrap_or(f64::NAN),
                class: s.risk_class.clone().unwrap_or_default(),
                has_limit: s.recommended_limit.is_some(),
                challenger: s.challenger.as_ref().map(|c| c.model_version.clone()),
            }),
            _ => None,
        })
        .collect()
}

fn run(stages: &mut Stages, events: &[Envelope]) -> Vec<OutputEnvelope> {
    events
        .iter()
        .flat_map(|e| stages.process(e).expect("stages run"))
        .collect()
}

#[test]
fn an_activation_in_the_log_scores_every_debtor_and_later_events_rescore_them() {
    let events = portfolio(120, 6, 21);
    let half = events.len() / 2;
    let mut stages = Stages::default();
    let before = run(&mut stages, &events[..half]);
    assert!(scored(&before).is_empty(), "no model, no model scores");

    let bytes = model("v1");
    stages.offer_model("v1", Ok(loaded("v1", bytes)));
    let sha = pipeline::scoring::sha256_hex(bytes);
    let at = activation(
        "act-1",
        &events[half - 1],
        ModelRole::Champion,
        "v1",
        Some(sha),
    );
    let outputs = stages.process(&at).unwrap();
    let taken = alerts(&outputs, AlertKind::ModelActivated);
    assert_eq!(taken.len(), 1, "{outputs:?}");
    assert!(
        taken[0].contains("Model v1 is now the champion (was none)"),
        "{taken:?}"
    );
    let first = scored(&outputs);
    let debtors = stages.features().slots().len();
    assert!(debtors > 50, "{debtors} debtors");
    assert_eq!(
        first.len(),
        debtors,
        "every known debtor scored at the activation"
    );
    for s in &first {
        assert_eq!(s.id, format!("model_score:act-1:{}", s.debtor));
        assert_eq!(s.version, "v1");
        assert!(
            s.probability > 0.0 && s.probability < 1.0,
            "{}",
            s.probability
        );
        assert!(
            ["A", "B", "C", "D", "E"].contains(&s.class.as_str()),
            "{}",
            s.class
        );
        assert!(s.challenger.is_none());
    }
    assert!(
        first.iter().filter(|s| s.has_limit).count() * 10 >= first.len() * 9,
        "most debtors get a recommended limit"
    );
    let spread: Vec<f64> = first.iter().map(|s| s.probability).collect();
    let (lo, hi) = spread
        .iter()
        .fold((1.0_f64, 0.0_f64), |(lo, hi), p| (lo.min(*p), hi.max(*p)));
    assert!(
        hi - lo > 0.2,
        "scores spread over the portfolio: {lo}..{hi}"
    );
    let reason = outputs
        .iter()
        .find_map(|o| match &o.output {
            Output::ScoreUpdate(s) if s.model_version.is_some() => Some(s.reason.clone()),
            _ => None,
        })
        .unwrap();
    assert!(reason.starts_with("first score: "), "{reason}");
    assert!(reason.contains("drivers: "), "{reason}");
    assert!(reason.contains("limit: "), "{reason}");

    let after = run(&mut stages, &events[half..]);
    let rescored = scored(&after);
    assert!(
        rescored.iter().any(|s| s.id.starts_with("model_score:")),
        "debtors are re-scored as their features change"
    );
    assert!(
        rescored.iter().any(|s| !s.id.starts_with("model_score:")),
        "standing updates carry the last model score"
    );
    assert!(rescored.iter().all(|s| s.version == "v1"));
    assert_eq!(
        stages.models().champion().map(|m| m.version.as_str()),
        Some("v1")
    );
    // Drift of the invoices issued since (their rows at issue) against the training rows,
    // per encoded feature.
    let drift = stages.models().drift();
    let artifact = ModelArtifact::from_json(bytes).unwrap();
    assert_eq!(drift.len(), artifact.encoding.width());
    assert!(drift.iter().all(|(_, psi)| psi.is_finite() && *psi >= 0.0));
    // The simulated histories start empty, so the 365-day features grow all year: later
    // invoices sit above the earliest 60 % of the training rows the profiles come from.
    let count = drift
        .iter()
        .find(|(f, _)| f == "invoice_count_365d")
        .unwrap()
        .1;
    assert!(count > 0.05, "{drift:?}");
}

#[test]
fn refused_activations_keep_the_model_in_use_and_say_why() {
    let events = portfolio(60, 4, 22);
    let mut stages = Stages::default();
    run(&mut stages, &events);
    let last = events.last().unwrap();
    stages.offer_model("v1", Ok(loaded("v1", model("v1"))));
    let ok = stages
        .process(&activation("a1", last, ModelRole::Champion, "v1", None))
        .unwrap();
    assert_eq!(alerts(&ok, AlertKind::ModelActivated).len(), 1);

    // Other content than the event names.
    stages.offer_model("v2", Ok(loaded("v2", model("v2"))));
    let wrong_sha = Some("0".repeat(64));
    let out = stages
        .process(&activation(
            "a2",
            last,
            ModelRole::Champion,
            "v2",
            wrong_sha,
        ))
        .unwrap();
    let refused = alerts(&out, AlertKind::ModelRefused);
    assert_eq!(refused.len(), 1, "{out:?}");
    assert!(refused[0].contains("SHA-256"), "{refused:?}");
    assert!(refused[0].contains("the models in use stay"), "{refused:?}");

    // Not loaded: the registry had no such version.
    stages.offer_model("v9", Err("model version v9 is not in the registry".into()));
    let out = stages
        .process(&activation("a3", last, ModelRole::Champion, "v9", None))
        .unwrap();
    let refused = alerts(&out, AlertKind::ModelRefused);
    assert!(
        refused[0].contains("v9 is not in the registry"),
        "{refused:?}"
    );
    let out = stages
        .process(&activation("a4", last, ModelRole::Champion, "v8", None))
        .unwrap();
    assert!(alerts(&out, AlertKind::ModelRefused)[0].contains("not loaded"));

    // A model reading a column the running features lack.
    let shoes = model_with_extra_column();
    stages.offer_model("v-shoes", Ok(loaded("v-shoes", &shoes)));
    let out = stages
        .process(&activation(
            "a5",
            last,
            ModelRole::Champion,
            "v-shoes",
            None,
        ))
        .unwrap();
    let refused = alerts(&out, AlertKind::ModelRefused);
    assert!(
        refused[0].contains("does not fit the running features: column shoe_size is missing"),
        "{refused:?}"
    );
    assert!(scored(&out).is_empty(), "a refusal re-scores nobody");

    // Stopping a challenger that is not there.
    let out = stages
        .process(&activation(
            "a6",
            last,
            ModelRole::ChallengerStopped,
            "v1",
            None,
        ))
        .unwrap();
    assert!(alerts(&out, AlertKind::ModelRefused)[0].contains("no challenger is scoring"));

    assert_eq!(
        stages.models().champion().map(|m| m.version.as_str()),
        Some("v1")
    );
    assert!(stages.models().challenger().is_none());
}

#[test]
fn a_challenger_scores_in_shadow_beside_the_champion_until_stopped() {
    let events = portfolio(80, 6, 23);
    let third = events.len() / 3;
    let mut stages = Stages::default();
    run(&mut stages, &events[..third]);
    stages.offer_model("v1", Ok(loaded("v1", model("v1"))));
    stages
        .process(&activation(
            "c1",
            &events[third - 1],
            ModelRole::Champion,
            "v1",
            None,
        ))
        .unwrap();
    stages.offer_model("v2", Ok(loaded("v2", model("v2"))));
    let out = stages
        .process(&activation(
            "c2",
            &events[third - 1],
            ModelRole::Challenger,
            "v2",
            None,
        ))
        .unwrap();
    assert!(alerts(&out, AlertKind::ModelActivated)[0].contains("now the challenger"));
    let mid = run(&mut stages, &events[third..2 * third]);
    let with_shadow = scored(&mid);
    assert!(!with_shadow.is_empty());
    assert!(
        with_shadow
            .iter()
            .all(|s| s.version == "v1" && s.challenger.as_deref() == Some("v2")),
        "champion v1 published, challenger v2 recorded beside it"
    );
    let differ = mid.iter().any(|o| match &o.output {
        Output::ScoreUpdate(s) => s
            .challenger
            .as_ref()
            .is_some_and(|c| Some(c.probability_late) != s.probability_late),
        _ => false,
    });
    assert!(differ, "the two models give their own probabilities");

    let out = stages
        .process(&activation(
            "c3",
            &events[2 * third - 1],
            ModelRole::ChallengerStopped,
            "v2",
            None,
        ))
        .unwrap();
    assert!(alerts(&out, AlertKind::ModelActivated)[0].contains("stopped scoring in shadow"));
    let late = run(&mut stages, &events[2 * third..]);
    let model_points: Vec<_> = scored(&late)
        .into_iter()
        .filter(|s| s.id.starts_with("model_score:"))
        .collect();
    assert!(!model_points.is_empty());
    assert!(
        model_points.iter().all(|s| s.challenger.is_none()),
        "no shadow after the stop"
    );
}

#[test]
fn outputs_do_not_depend_on_micro_batch_flushes_or_checkpoints() {
    same_outputs_whatever_the_flushes(ScoringConfig::default());
}

#[test]
fn capped_score_points_do_not_depend_on_micro_batch_flushes_or_checkpoints() {
    // Score points of at most 8 debtors every 50 events: debtors wait, by news or by a
    // window sliding, across flushes and the checkpoint.
    same_outputs_whatever_the_flushes(ScoringConfig {
        every_events: 50,
        max_debtors: 8,
        ..ScoringConfig::default()
    });
}

#[test]
fn outputs_do_not_depend_on_the_threads_scoring_them() {
    // 300 debtors: the activation's score point scores them all, in parts of 64 or more
    // on up to 4 threads, and so do the score points after a window's period turns over.
    let mut events = portfolio(300, 4, 31);
    let at = events.len() / 3;
    let activate = activation("t1", &events[at - 1], ModelRole::Champion, "v1", None);
    events.insert(at, activate);
    let run = |threads: usize| {
        let mut stages = Stages::default();
        stages
            .configure_scoring(ScoringConfig {
                threads,
                ..ScoringConfig::default()
            })
            .unwrap();
        let (mut outputs, mut largest) = (Vec::new(), 0);
        for e in &events {
            if matches!(e.event, InputEvent::ModelActivated(_)) {
                stages.offer_model("v1", Ok(loaded("v1", model("v1"))));
            }
            let processed = stages.process_with_effects(e).unwrap();
            largest = largest.max(processed.scored);
            outputs.extend(processed.outputs);
        }
        assert_eq!(stages.models().errors().0, 0, "no scoring failed");
        (outputs, largest)
    };
    let (one, largest) = run(1);
    assert!(
        largest >= 4 * pipeline::scoring::PART_MIN,
        "a score point of {largest} debtors: too few for four parts"
    );
    assert!(
        scored(&one).len() >= largest,
        "the model's scores were published"
    );
    let one: Vec<Vec<u8>> = one.iter().map(OutputEnvelope::to_json).collect();
    for threads in [2, 4] {
        let (many, _) = run(threads);
        let many: Vec<Vec<u8>> = many.iter().map(OutputEnvelope::to_json).collect();
        assert_eq!(many.len(), one.len(), "{threads} threads: as many outputs");
        assert!(
            many == one,
            "{threads} threads: the same outputs, byte for byte, in the same order"
        );
    }
}

#[test]
fn score_threads_out_of_range_are_refused_by_name() {
    for threads in [0, pipeline::scoring::MAX_THREADS + 1] {
        let error = ScoringConfig {
            threads,
            ..ScoringConfig::default()
        }
        .check()
        .unwrap_err()
        .to_string();
        assert!(error.contains("score threads"), "{error}");
    }
}

/// Runs a log with a model activated early, once plainly and once with micro-batch
/// flushes at other moments (as the worker's timer does) and a checkpoint written and
/// read back in the middle, and compares the outputs byte for byte.
fn same_outputs_whatever_the_flushes(config: ScoringConfig) {
    let mut events = portfolio(80, 6, 24);
    let at = events.len() / 4;
    let activate = activation("d1", &events[at - 1], ModelRole::Champion, "v1", None);
    events.insert(at, activate);
    let configured = || {
        let mut stages = Stages::default();
        stages.configure_scoring(config.clone()).unwrap();
        stages
    };

    let mut plain = configured();
    let mut expected = Vec::new();
    let mut most_waiting = 0;
    for e in &events {
        if matches!(e.event, InputEvent::ModelActivated(_)) {
            plain.offer_model("v1", Ok(loaded("v1", model("v1"))));
        }
        expected.extend(plain.process(e).unwrap());
        most_waiting = most_waiting.max(plain.models().waiting());
    }
    if config.max_debtors < 80 {
        assert!(most_waiting > config.max_debtors, "{most_waiting} waited");
    }

    let mut stages = configured();
    let mut got = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if matches!(e.event, InputEvent::ModelActivated(_)) {
            stages.offer_model("v1", Ok(loaded("v1", model("v1"))));
        }
        got.extend(stages.process(e).unwrap());
        if i % 7 == 3 {
            stages.flush_features().unwrap();
        }
        // Just after the activation (its re-scoring under way when capped), and half-way;
        // flushed first, as the worker does before a checkpoint.
        if i == at + 2 || i == events.len() / 2 {
            stages.flush_features().unwrap();
            let json = serde_json::to_vec(&stages).unwrap();
            stages = serde_json::from_slice(&json).unwrap();
            stages.configure_scoring(config.clone()).unwrap();
        }
    }
    assert!(scored(&expected).len() > 100, "the model scored");
    let text = |o: &[OutputEnvelope]| -> Vec<String> {
        o.iter()
            .map(|o| String::from_utf8(o.to_json()).unwrap())
            .collect()
    };
    assert_eq!(text(&got), text(&expected));
}

/// What a run with capped score points did.
struct Capped {
    /// Debtors scored at each score point after the activation.
    points: Vec<usize>,
    /// The most debtors left waiting at once.
    most_waiting: usize,
    /// The fewest events from a score point to one not at a clock tick.
    closest: usize,
    stages: Stages,
}

/// Runs `events` with score points every 50 events of at most `max_debtors` debtors.
fn run_capped(events: &[Envelope], max_debtors: usize) -> Capped {
    let mut stages = Stages::default();
    stages
        .configure_scoring(ScoringConfig {
            every_events: 50,
            max_debtors,
            ..ScoringConfig::default()
        })
        .unwrap();
    let (mut points, mut most_waiting, mut closest) = (Vec::new(), 0, usize::MAX);
    let mut last_point = None;
    for (i, e) in events.iter().enumerate() {
        let activation = matches!(e.event, InputEvent::ModelActivated(_));
        if activation {
            stages.offer_model("v1", Ok(loaded("v1", model("v1"))));
        }
        let processed = stages.process_with_effects(e).unwrap();
        if !activation && processed.scored > 0 {
            points.push(processed.scored);
            if let Some(last) = last_point
                && !matches!(e.event, InputEvent::ClockTick(_))
            {
                closest = closest.min(i - last);
            }
        }
        if processed.scored > 0 {
            last_point = Some(i);
        }
        most_waiting = most_waiting.max(stages.models().waiting());
    }
    Capped {
        points,
        most_waiting,
        closest,
        stages,
    }
}

/// A portfolio of 120 debtors over 6 months with the model activated (as `id`) a third of
/// the way through; the activation's place in the log.
fn activated_a_third_through(id: &str) -> (Vec<Envelope>, usize) {
    let mut events = portfolio(120, 6, 21);
    let at = events.len() / 3;
    let activate = activation(id, &events[at - 1], ModelRole::Champion, "v1", None);
    events.insert(at, activate);
    (events, at)
}

#[test]
fn a_score_point_scores_at_most_its_share_and_the_others_follow_at_the_next_ones() {
    let (events, _) = activated_a_third_through("cap-1");

    let whole = run_capped(&events, 10_000_000);
    let largest = whole.points.iter().copied().max().unwrap_or(0);
    assert!(largest > 8, "uncapped score points reach {largest} debtors");
    assert!(whole.closest >= 50, "{} events apart", whole.closest);

    let capped = run_capped(&events, 8);
    assert!(capped.points.iter().all(|&n| n <= 8), "{:?}", capped.points);
    assert!(
        capped.points.contains(&8),
        "the cap binds: {:?}",
        capped.points
    );
    assert!(
        capped.most_waiting > 8,
        "{} waited at most",
        capped.most_waiting
    );
    // While debtors wait, score points come every tenth of 50 events.
    assert_eq!(capped.closest, 5, "the closest score points by count");
    assert!(capped.points.len() > whole.points.len());
    let mut stages = capped.stages;
    // Nobody is forgotten: clock ticks (score points each) take the rest, 8 at a time.
    let last = events.last().unwrap().event_time;
    stages.flush_features().unwrap();
    let waiting = stages.models().waiting();
    assert!(waiting > 0, "debtors still wait at the end of the log");
    for i in 0..=waiting.div_ceil(8) {
        if stages.models().waiting() == 0 {
            break;
        }
        let tick = Envelope {
            schema_version: 1,
            event_id: format!("tick-{i}"),
            event_time: last,
            event: InputEvent::ClockTick(events::ClockTick {}),
        };
        let scored = stages.process_with_effects(&tick).unwrap().scored;
        assert_eq!(scored, waiting.saturating_sub(8 * i).min(8), "tick {i}");
    }
    assert_eq!(stages.models().waiting(), 0);
}

#[test]
fn an_activation_over_more_debtors_than_a_score_point_takes_re_scores_them_in_slices() {
    let (events, at) = activated_a_third_through("sweep-1");
    let mut stages = Stages::default();
    stages
        .configure_scoring(ScoringConfig {
            every_events: 50,
            max_debtors: 8,
            ..ScoringConfig::default()
        })
        .unwrap();
    let mut known = 0;
    // Debtor → the event at which the model first scored it.
    let mut first = std::collections::BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        if i == at {
            stages.offer_model("v1", Ok(loaded("v1", model("v1"))));
            known = stages.features().slots().len();
        }
        let processed = stages.process_with_effects(e).unwrap();
        assert!(
            processed.scored <= 8,
            "{} scored at event {i}",
            processed.scored
        );
        if i == at {
            assert_eq!(processed.scored, 8, "the activation's own score point");
            assert_eq!(
                stages.models().waiting(),
                known - 8,
                "the rest wait their turn"
            );
        }
        for s in scored(&processed.outputs) {
            if s.id.starts_with("model_score:") {
                first.entry(s.debtor).or_insert(i);
            }
        }
    }
    assert!(known > 50, "{known} debtors");
    assert!(
        first.len() >= known,
        "{} of {known} debtors scored",
        first.len()
    );
    // Score points come every 5 events while debtors wait, so the debtors known at the
    // activation get their first score within a few hundred events, not at the next 50th.
    let slices = first.values().filter(|&&i| i > at).count();
    assert!(
        slices >= known - 8,
        "{slices} first scores after the activation's point"
    );
    let last = first.values().copied().max().unwrap();
    assert!(
        last - at < 40 * known.div_ceil(8),
        "the sweep ended {} events later",
        last - at
    );
}

#[test]
fn a_models_artifact_refused_on_reading_is_not_offered() {
    let mut bytes = model("v1").to_vec();
    bytes.truncate(bytes.len() / 2);
    let err = LoadedModel::from_bytes("v1", &bytes).expect_err("truncated");
    assert!(err.to_string().contains("not a model artifact"), "{err}");
    let err = LoadedModel::from_bytes("v7", model("v1")).expect_err("other version");
    assert!(err.to_string().contains("holds version v1"), "{err}");
    let artifact = ModelArtifact::from_json(model("v1")).unwrap();
    assert_eq!(artifact.metadata.version, "v1");
}

/// The input stream read back in order, decoded as the worker decodes it.
async fn input_log(nats: &crate::fixture::Nats) -> Vec<Envelope> {
    nats.read_stream(&nats.subjects.input_stream())
        .await
        .into_iter()
        .map(|m| Envelope::decode(&m.payload, events::DEFAULT_MAX_EVENT_BYTES).expect("valid"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_pipeline_swaps_models_under_load_without_losing_an_event() {
    use crate::fixture::{Nats, PATIENCE, assert_same_outputs};
    use pipeline::registry::activation_event;

    let nats = Nats::start().await;
    let shoes = model_with_extra_column();
    let artifacts: Vec<ModelArtifact> = [model("v1"), model("v2"), &shoes]
        .into_iter()
        .map(|bytes| ModelArtifact::from_json(bytes).unwrap())
        .collect();
    let registry = nats.registry(&artifacts.iter().collect::<Vec<_>>()).await;
    let events = portfolio(150, 6, 25);
    let n = events.len();
    let (q1, q2, q3) = (n / 4, n / 2, 3 * n / 4);
    let at = |i: usize| events[i - 1].event_time;
    let activate = |version: &'static str, when| {
        activation_event(&registry, version, ModelRole::Champion, "ops", "test", when)
    };
    let a1 = activate("v1", at(q1)).await.unwrap();
    let refused = activate("v-shoes", at(q2)).await.unwrap();
    let a2 = activate("v2", at(q3)).await.unwrap();
    let missing = activate("v404", at(q3))
        .await
        .expect_err("not in the registry");
    assert!(
        missing.to_string().contains("v404 is not in the registry"),
        "{missing}"
    );

    let (mut worker, metrics) = nats.start_worker(nats.worker_config()).await;
    // The worker consumes while the log is written: the swaps happen under load.
    let mut log = events[..q1].to_vec();
    log.push(a1);
    log.extend_from_slice(&events[q1..q2]);
    log.push(refused);
    log.extend_from_slice(&events[q2..q3]);
    log.push(a2);
    log.extend_from_slice(&events[q3..]);
    let last = nats.publish(&log).await;
    worker
        .wait_for(PATIENCE, |s| s.checkpointed_sequence >= last)
        .await
        .expect("all input checkpointed");

    // Nothing lost: every event counted, and the outputs are exactly those of the same
    // log run offline (models offered from the same registry), in order.
    assert_eq!(metrics.events_total(), log.len() as u64);
    let stored = input_log(&nats).await;
    assert_eq!(stored.len(), log.len());
    let mut stages = Stages::default();
    let mut expected = Vec::new();
    for e in &stored {
        registry.offer_activation(&mut stages, e).await.unwrap();
        expected.extend(stages.process(e).unwrap());
    }
    let published = nats.outputs().await;
    assert_same_outputs(&published, &expected);

    // On each subject (the order the contract keeps), v1's scores, then v2's only.
    let seen = scored(&published);
    assert!(
        seen.iter().any(|s| s.version == "v1"),
        "v1 scored before the swap"
    );
    assert!(seen.iter().any(|s| s.version == "v2"), "v2 scores");
    let by_subject = crate::fixture::by_subject(&published, |o| crate::fixture::order_key(o));
    for (subject, outputs) in by_subject {
        let versions: Vec<String> = scored(&outputs.into_iter().cloned().collect::<Vec<_>>())
            .into_iter()
            .map(|s| s.version)
            .collect();
        let first_v2 = versions
            .iter()
            .position(|v| v == "v2")
            .unwrap_or(versions.len());
        assert!(
            versions[..first_v2].iter().all(|v| v == "v1")
                && versions[first_v2..].iter().all(|v| v == "v2"),
            "{subject:?}: {versions:?}"
        );
    }
    let refusals = alerts(&published, AlertKind::ModelRefused);
    assert_eq!(refusals.len(), 1);
    assert!(
        refusals[0].contains("column shoe_size is missing"),
        "{refusals:?}"
    );
    let outcome = |o: &str| metrics.models_activations.with_label_values(&[o]).get();
    assert_eq!((outcome("taken"), outcome("refused")), (2, 1));
    let active = |m: &pipeline::metrics::PipelineMetrics, v: &str| {
        m.models_active.with_label_values(&["champion", v]).get()
    };
    assert_eq!(active(&metrics, "v2"), 1);
    assert!(metrics.models_scored_debtors.get() > 150);
    worker.stop().await.expect("stops");

    // A restart scores with the model of its checkpoint, without the activation again.
    let (worker, metrics) = nats.start_worker(nats.worker_config()).await;
    assert_eq!(active(&metrics, "v2"), 1);
    worker.stop().await.expect("stops");
}

#[test]
fn rows_the_model_cannot_read_are_counted_and_stop_nothing() {
    let text = builtin_definitions();
    // A custom definition that divides by zero: every late share is infinite.
    let broken = text.replace(
        "CAST(paid_late_{w} AS DOUBLE) / CAST(NULLIF(settled_{w}, 0) AS DOUBLE)",
        "CAST(1 AS DOUBLE) / CAST(0 AS DOUBLE)",
    );
    assert_ne!(broken, text);
    let mut stages = Stages::default();
    stages
        .configure_features(
            Definitions::parse("broken.toml", &broken).unwrap(),
            features::FeatureConfig::default(),
        )
        .unwrap();
    let events = portfolio(40, 3, 26);
    stages.offer_model("v1", Ok(loaded("v1", model("v1"))));
    let taken = stages
        .process(&activation(
            "e1",
            &events[0],
            ModelRole::Champion,
            "v1",
            None,
        ))
        .unwrap();
    assert_eq!(alerts(&taken, AlertKind::ModelActivated).len(), 1);
    let outputs = run(&mut stages, &events);
    let (errors, why) = stages.models().errors();
    assert!(errors > 0);
    assert!(why.unwrap_or("").contains("infinite value"), "{why:?}");
    assert!(scored(&outputs).is_empty(), "no score from unreadable rows");
    assert!(
        outputs
            .iter()
            .any(|o| matches!(o.output, Output::ScoreUpdate(_))),
        "the rest of the pipeline goes on"
    );
}

#[test]
fn score_moves_raise_alerts_for_credit_managers_but_a_model_swap_does_not() {
    let events = portfolio(150, 12, 27);
    let mut stages = Stages::default();
    stages.offer_model("v1", Ok(loaded("v1", model("v1"))));
    let mut outputs = stages
        .process(&activation(
            "f1",
            &events[0],
            ModelRole::Champion,
            "v1",
            None,
        ))
        .unwrap();
    let half = events.len() / 2;
    outputs.extend(run(&mut stages, &events[..half]));
    let classes = alerts(&outputs, AlertKind::RiskClassChanged);
    assert!(!classes.is_empty(), "risk classes move over a year");
    assert!(
        classes[0].contains("moved from risk class") && classes[0].contains("drivers: "),
        "{}",
        classes[0]
    );
    assert!(
        classes[0].contains("open balance"),
        "debtor context: {}",
        classes[0]
    );
    let limits = alerts(&outputs, AlertKind::LimitChangeRecommended);
    assert!(!limits.is_empty());
    assert!(
        limits
            .iter()
            .all(|l| l.contains("Recommended credit limit"))
    );
    for o in &outputs {
        if let Output::Alert(a) = &o.output
            && a.kind == AlertKind::NewDebtorHighRisk
        {
            assert!(["D", "E"].contains(&a.reference.as_deref().unwrap_or("")));
            assert_eq!(a.severity, events::Severity::High);
        }
    }
    // Alerts are raised on transitions, and a debtor hovering at a cut-off is not alerted
    // at every crossing: 30 days of event time between two class alerts of a debtor,
    // unless it moves into a high-risk class.
    let mut last: std::collections::HashMap<String, (String, chrono::NaiveDate)> =
        Default::default();
    for o in &outputs {
        if let Output::Alert(a) = &o.output
            && a.kind == AlertKind::RiskClassChanged
        {
            let debtor = o.debtor_id.clone().unwrap();
            let class = a.reference.clone().unwrap();
            let day = o.event_time.date_naive();
            if let Some((before, when)) = last.get(&debtor) {
                let into_high_risk = ["D", "E"].contains(&class.as_str());
                assert!(
                    into_high_risk || (day - *when).num_days() >= 30,
                    "{debtor}: {before} on {when}, {class} on {day}"
                );
            }
            last.insert(debtor, (class, day));
        }
    }

    // A swap to another model re-scores everyone without a flood of alerts.
    stages.offer_model("v2", Ok(loaded("v2", model("v2"))));
    let swap = stages
        .process(&activation(
            "f2",
            &events[half - 1],
            ModelRole::Champion,
            "v2",
            None,
        ))
        .unwrap();
    assert!(scored(&swap).len() > 100);
    for kind in [
        AlertKind::RiskClassChanged,
        AlertKind::LimitChangeRecommended,
        AlertKind::NewDebtorHighRisk,
    ] {
        assert!(alerts(&swap, kind).is_empty(), "{kind:?} at the swap");
    }
}

#[test]
fn a_new_debtor_first_scored_in_a_high_risk_class_raises_one_alert() {
    // Every class counted as high risk: each debtor's first score raises the alert once.
    let config = decisions::DecisionConfig {
        high_risk_classes: ["A", "B", "C", "D", "E"].map(String::from).to_vec(),
        ..decisions::DecisionConfig::default()
    };
    let mut stages = Stages::new(ledger::LedgerConfig::default(), config);
    let events = portfolio(60, 3, 28);
    stages.offer_model("v1", Ok(loaded("v1", model("v1"))));
    let mut outputs = stages
        .process(&activation(
            "g1",
            &events[0],
            ModelRole::Champion,
            "v1",
            None,
        ))
        .unwrap();
    outputs.extend(run(&mut stages, &events));
    let mut alerted: Vec<String> = outputs
        .iter()
        .filter(|o| matches!(&o.output, Output::Alert(a) if a.kind == AlertKind::NewDebtorHighRisk))
        .map(|o| o.debtor_id.clone().unwrap())
        .collect();
    let n = alerted.len();
    alerted.sort();
    alerted.dedup();
    assert_eq!(alerted.len(), n, "one alert per debtor");
    let first_scored: std::collections::BTreeSet<String> = scored(&outputs)
        .into_iter()
        .filter(|s| s.id.starts_with("model_score:"))
        .map(|s| s.debtor)
        .collect();
    assert_eq!(alerted.len(), first_scored.len());
    assert!(n > 20, "{n}");
}

#[test]
fn a_restored_model_that_does_not_fit_new_features_stops_the_start_with_the_reason() {
    let events = portfolio(30, 2, 29);
    let mut stages = Stages::default();
    stages.offer_model("v1", Ok(loaded("v1", model("v1"))));
    stages
        .process(&activation(
            "h1",
            &events[0],
            ModelRole::Champion,
            "v1",
            None,
        ))
        .unwrap();
    run(&mut stages, &events);
    let checkpoint = serde_json::to_vec(&stages).unwrap();

    // Restarted with the same features: fine.
    let restored: Stages = serde_json::from_slice(&checkpoint).unwrap();
    restored.check_restored_models().expect("fits");

    // Restarted with definitions that drop the late shares the model reads.
    let text = builtin_definitions();
    let without = text.replace(
        "[[feature]]\nname = \"late_share_{w}\"\nsql = \"CAST(paid_late_{w} AS DOUBLE) / CAST(NULLIF(settled_{w}, 0) AS DOUBLE)\"\n",
        "",
    );
    assert_ne!(without, text);
    let mut restored: Stages = serde_json::from_slice(&checkpoint).unwrap();
    restored
        .configure_features(
            Definitions::parse("fewer.toml", &without).unwrap(),
            features::FeatureConfig::default(),
        )
        .unwrap();
    let err = restored.check_restored_models().expect_err("does not fit");
    let text = err.to_string();
    assert!(text.contains("champion model v1"), "{text}");
    assert!(text.contains("column late_share_30d is missing"), "{text}");
}
