//! A live run over NATS and a replay of the same log produce identical outputs, byte for
//! byte: clock ticks, a model activation and a strategy activation included; from the
//! input stream and from the Parquet archive; and from a point on. The order compared is
//! the order on each output subject.

use std::collections::BTreeMap;

use events::{Envelope, InputEvent, ModelRole, StrategyActivated};
use pipeline::registry::activation_event;
use pipeline::replay::{Replayer, Sink, read_input_stream};

use crate::fixture::*;

/// Lines written to a shared buffer.
#[derive(Clone, Default)]
struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn lines(&self) -> Vec<Vec<u8>> {
        self.0
            .lock()
            .unwrap()
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_of_the_log_gives_the_live_outputs_byte_for_byte() {
    let nats = Nats::start().await;
    let (artifact, _) = crate::scoring::trained_model("v1");
    let registry = nats.registry(&[&artifact]).await;

    let events = portfolio(80, 6, 13);
    assert!(
        events
            .iter()
            .any(|e| matches!(e.event, InputEvent::ClockTick(_))),
        "the log has clock ticks"
    );
    let half = events.len() / 2;
    let mut log = vec![
        activation_event(
            &registry,
            "v1",
            ModelRole::Champion,
            "ops",
            "test",
            events[0].event_time,
        )
        .await
        .expect("activation"),
    ];
    log.extend_from_slice(&events[..half]);
    log.push(Envelope::new(
        "strategy-static",
        events[half].event_time,
        InputEvent::StrategyActivated(StrategyActivated {
            version: "static-1".into(),
            config: decisions::strategy::STATIC_STRATEGY.into(),
            activated_by: "analyst".into(),
            reason: "compare".into(),
        }),
    ));
    log.extend_from_slice(&events[half..]);

    let archive = tempfile::tempdir().expect("temp dir");
    let config = pipeline::worker::WorkerConfig {
        archive_dir: Some(archive.path().to_path_buf()),
        ..nats.worker_config()
    };
    let (mut worker, _) = nats.start_worker(config.clone()).await;
    let last = nats.publish(&log).await;
    worker
        .wait_for(PATIENCE, |s| s.checkpointed_sequence >= last)
        .await
        .expect("all input checkpointed");
    worker.stop().await.expect("stops");
    let live: Vec<Vec<u8>> = nats
        .read_stream(&nats.subjects.output_stream())
        .await
        .iter()
        .flat_map(|m| {
            events::output_lines(&m.payload)
                .map(<[u8]>::to_vec)
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        live.len() > 1000,
        "a run worth comparing: {} outputs",
        live.len()
    );
    let kinds = |lines: &[Vec<u8>]| {
        lines
            .iter()
            .filter(|l| {
                let s = String::from_utf8_lossy(l);
                s.contains("\"strategy_activated\"") || s.contains("\"model_activated\"")
            })
            .count()
    };
    assert_eq!(kinds(&live), 2, "both activations were taken live");

    // From the input stream.
    let out = Buffer::default();
    let mut sink = Sink::Lines(Box::new(out.clone()));
    let mut replayer = Replayer::new(&config, &registry, None, None).expect("replayer");
    read_input_stream(&nats.js, &nats.subjects, async |sequence, bytes| {
        replayer.push(sequence, bytes, &mut sink).await
    })
    .await
    .expect("replays the stream");
    assert_eq!(replayer.summary().events, log.len() as u64);
    let replayed = out.lines();
    assert_eq!(replayed.len(), live.len(), "number of outputs");
    let (replayed, live) = (in_order(&replayed), in_order(&live));
    assert_eq!(
        replayed.keys().collect::<Vec<_>>(),
        live.keys().collect::<Vec<_>>(),
        "subjects"
    );
    for (key, lines) in &live {
        assert_eq!(replayed[key].len(), lines.len(), "outputs of {key:?}");
        for (i, (r, l)) in replayed[key].iter().zip(lines).enumerate() {
            assert!(
                r == l,
                "output {i} of {key:?} differs:\n replay {}\n live   {}",
                String::from_utf8_lossy(r),
                String::from_utf8_lossy(l)
            );
        }
    }

    // From the Parquet archive the worker wrote.
    let out = Buffer::default();
    let mut sink = Sink::Lines(Box::new(out.clone()));
    let mut replayer = Replayer::new(&config, &registry, None, None).expect("replayer");
    pipeline::archive::read_events(archive.path(), async |sequence, bytes| {
        replayer.push(sequence, bytes, &mut sink).await
    })
    .await
    .expect("replays the archive");
    assert!(
        in_order(&out.lines()) == live,
        "the archive replays to the same bytes"
    );

    // From a point on: the same outputs as the live run from there (the state before it
    // is rebuilt, not skipped).
    let from = last / 2;
    let out = Buffer::default();
    let mut sink = Sink::Lines(Box::new(out.clone()));
    let mut replayer = Replayer::new(&config, &registry, Some(from), None).expect("replayer");
    read_input_stream(&nats.js, &nats.subjects, async |sequence, bytes| {
        replayer.push(sequence, bytes, &mut sink).await
    })
    .await
    .expect("replays the stream");
    let tail = out.lines();
    assert!(!tail.is_empty() && tail.len() < live.values().map(Vec::len).sum());
    for (key, tail) in in_order(&tail) {
        let lines = &live[&key];
        assert!(
            tail[..] == lines[lines.len() - tail.len()..],
            "the outputs of {key:?} from the point on"
        );
    }
}

/// Output lines by subject, in order: the order a replay keeps (the live run publishes
/// score updates of several debtors together, so its order across subjects is not the
/// order of decision).
fn in_order(lines: &[Vec<u8>]) -> BTreeMap<OrderKey, Vec<Vec<u8>>> {
    by_subject(lines.iter().cloned(), |line| {
        order_key(&serde_json::from_slice(line).expect("an output"))
    })
}
