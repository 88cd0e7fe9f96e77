//! Checkpoints as a chain: a base and deltas restore exactly the state that wrote them,
//! are folded into a new base once they outgrow it, continue a base of the previous
//! format, and a chain missing a delta is refused.

use events::Envelope;
use pipeline::checkpoint::{CheckpointStore, CheckpointWriter, FOLD_RATIO};
use pipeline::stages::Stages;

use crate::fixture::*;

fn decoded(events: &[Envelope]) -> Vec<Envelope> {
    events
        .iter()
        .map(|e| {
            Envelope::decode(&e.to_json(), events::DEFAULT_MAX_EVENT_BYTES)
                .expect("simulated events are valid")
        })
        .collect()
}

/// Runs events through the stages and flushes the feature batch, as a checkpoint does.
fn run(stages: &mut Stages, events: &[Envelope]) {
    for e in events {
        stages.process(e).expect("stages run");
    }
    stages.flush_features().expect("features flush");
}

fn json(stages: &Stages) -> String {
    serde_json::to_string(stages).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deltas_after_a_base_of_the_previous_format_restore_the_state_exactly() {
    let nats = Nats::start().await;
    let events = decoded(&portfolio(40, 6, 11));
    let n = events.len();
    let store = CheckpointStore::open(&nats.js, nats.subjects.prefix(), "chain")
        .await
        .unwrap();
    let bucket = nats
        .js
        .get_object_store(format!("{}-checkpoints", nats.subjects.prefix()))
        .await
        .unwrap();

    // The base, as the previous build (format 3, no deltas) wrote it.
    let mut live = Stages::default();
    let cuts = [n / 4, n / 4 + n / 50, n / 4 + n / 25, n];
    run(&mut live, &events[..cuts[0]]);
    let base = format!(
        r#"{{"format":3,"sequence":{},"stages":{}}}"#,
        cuts[0],
        json(&live)
    );
    bucket
        .put("worker-chain", &mut base.as_bytes())
        .await
        .unwrap();
    let (loaded, chain) = store.load().await.unwrap().expect("the base loads");
    assert_eq!((loaded.format, loaded.sequence), (3, cuts[0] as u64));
    assert_eq!(json(&loaded.stages), json(&live));
    assert_eq!(chain.deltas(), 0);

    live.start_journal();
    let mut writer = CheckpointWriter::new(store.clone(), chain);
    let (mut longest_chain, mut compactions) = (0, 0);
    // What the chain holds, to tell when the writer must fold it.
    let (mut base_bytes, mut delta_bytes) = (base.len(), 0);
    for w in cuts.windows(2) {
        run(&mut live, &events[w[0]..w[1]]);
        let written = writer
            .write(w[1] as u64, live.take_delta().unwrap())
            .await
            .unwrap();
        delta_bytes += written.bytes;
        assert_eq!(
            written.base.is_some(),
            delta_bytes > FOLD_RATIO * base_bytes,
            "folded once the deltas ({delta_bytes} bytes) outgrow {FOLD_RATIO} times the base ({base_bytes} bytes)"
        );
        if let Some(bytes) = written.base {
            (base_bytes, delta_bytes) = (bytes, 0);
        }
        let (loaded, chain) = store.load().await.unwrap().expect("the chain loads");
        assert_eq!(loaded.sequence, w[1] as u64);
        assert_eq!(json(&loaded.stages), json(&live), "state at {}", w[1]);
        assert_eq!(
            &chain,
            writer.chain(),
            "the writer knows the chain as stored"
        );
        if written.base.is_some() {
            compactions += 1;
            assert_eq!(chain.deltas(), 0, "folded into the base");
            assert_eq!(loaded.format, pipeline::checkpoint::CHECKPOINT_FORMAT);
        }
        longest_chain = longest_chain.max(chain.deltas());
    }
    // A small delta stays a delta; the one carrying most of the history outgrows the base.
    assert!(
        longest_chain >= 1 && compactions >= 1,
        "{longest_chain} deltas at most, {compactions} folded into a base"
    );

    // Many more checkpoints (no new events): the chains reuse their slots' names, so the
    // bucket's stream keeps a bounded set of subjects (a deleted object leaves a marker
    // under its name).
    let mut last = n as u64;
    for _ in 0..30 {
        last += 1;
        writer
            .write(last, live.take_delta().unwrap())
            .await
            .unwrap();
        longest_chain = longest_chain.max(writer.chain().deltas());
    }
    let stream = nats
        .js
        .get_stream(format!("OBJ_{}-checkpoints", nats.subjects.prefix()))
        .await
        .unwrap();
    let subjects = stream.get_info().await.unwrap().state.subjects_count;
    // A name and a chunk subject for the base and for each slot.
    assert!(
        subjects <= 2 * (1 + longest_chain as u64),
        "{subjects} subjects in the bucket's stream after 30 more checkpoints, chains of {longest_chain} at most"
    );
    let (loaded, _) = store.load().await.unwrap().expect("the chain loads");
    assert_eq!(loaded.sequence, last);

    // Two more deltas, then the first of them lost: the chain is refused rather than
    // resumed without it.
    let slot = writer.chain().deltas();
    for sequence in [last + 1, last + 2] {
        let w = writer
            .write(sequence, live.take_delta().unwrap())
            .await
            .unwrap();
        assert!(w.base.is_none());
    }
    bucket
        .delete(format!("worker-chain.delta.{slot:06}"))
        .await
        .unwrap();
    let e = store
        .load()
        .await
        .map(|_| ())
        .expect_err("a broken chain is refused");
    assert!(
        e.to_string()
            .contains(&format!("the delta at sequence {} follows {}, but the checkpoint before it ends at {last}: a delta is missing", last + 2, last + 1)),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_checkpointing_often_leaves_a_chain_equal_to_its_state() {
    let nats = Nats::start().await;
    let events = portfolio(40, 4, 7);
    let last = nats.publish(&events).await;
    let config = pipeline::worker::WorkerConfig {
        batch_max: 40,
        checkpoint_every: 60,
        ..nats.worker_config()
    };
    let (mut worker, metrics) = nats.start_worker(config.clone()).await;
    worker
        .wait_for(PATIENCE, |s| s.checkpointed_sequence >= last)
        .await
        .expect("all input checkpointed");
    worker.stop().await.unwrap();
    let (checkpoints, compactions) = (
        metrics.checkpoints.get(),
        metrics.checkpoint_compactions.get(),
    );
    // The first delta follows no base and is folded into one at once.
    assert!(
        checkpoints >= 2 && compactions >= 1,
        "{checkpoints} checkpoints, {compactions} folded into a base"
    );
    assert!(metrics.checkpoint_pause_seconds.get_sample_count() >= checkpoints);
    assert!(metrics.checkpoint_wait_seconds.get_sample_count() >= checkpoints);

    let store = CheckpointStore::open(&nats.js, nats.subjects.prefix(), &config.name)
        .await
        .unwrap();
    let (loaded, _) = store.load().await.unwrap().expect("a checkpoint");
    assert_eq!(loaded.sequence, last);
    let mut reference = Stages::default();
    run(&mut reference, &decoded(&events));
    assert_eq!(json(&loaded.stages), json(&reference));
}
