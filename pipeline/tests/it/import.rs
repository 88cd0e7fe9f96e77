//! `creditstream import-statement` against a real server: real bank files become events,
//! a second import publishes nothing, a broken file publishes nothing at all.

use std::path::PathBuf;
use std::process::Output;

use crate::fixture::{Nats, creditstream, refused};

fn shared(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(path)
}

async fn import(nats: &Nats, files: Vec<PathBuf>) -> Output {
    let url = nats._server.url();
    tokio::task::spawn_blocking(move || {
        creditstream()
            .args([
                "import-statement",
                "--prefix",
                "cstest",
                "--partitions",
                "4",
                "--nats-url",
            ])
            .arg(url)
            .args(files)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

async fn input_count(nats: &Nats) -> u64 {
    let stream = nats
        .js
        .get_stream(nats.subjects.input_stream())
        .await
        .unwrap();
    stream.get_info().await.unwrap().state.messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_imported_twice_publishes_nothing_new() {
    let nats = Nats::start().await;
    let files = vec![
        shared("camt/camt_parser_053_valid_example_with_batch.xml"),
        shared("mt940/jejik-mt940_commerzbank.txt"),
    ];
    let first = import(&nats, files.clone()).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let after_first = input_count(&nats).await;
    assert!(after_first > 0, "the files hold payments");

    // Every event decodes and is a payment or a reversal.
    for m in nats.read_stream(&nats.subjects.input_stream()).await {
        let e = events::Envelope::decode(&m.payload, events::DEFAULT_MAX_EVENT_BYTES).unwrap();
        assert!(matches!(
            e.event.kind(),
            events::EventKind::PaymentReceived | events::EventKind::PaymentReversed
        ));
    }

    let second = import(&nats, files).await;
    assert!(second.status.success());
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert_eq!(stdout.matches("already imported").count(), 2, "{stdout}");
    assert_eq!(
        input_count(&nats).await,
        after_first,
        "nothing new published"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_file_refuses_the_whole_import_naming_the_line() {
    let nats = Nats::start().await;
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(shared("camt/camt_parser_053_valid_example.xml")).unwrap();
    // Cut the file in the middle of an entry.
    let broken = dir.path().join("broken.xml");
    let cut = good.find("</Ntry>").unwrap();
    std::fs::write(&broken, &good[..cut]).unwrap();

    let out = import(
        &nats,
        vec![shared("camt/camt_parser_053_valid_example.xml"), broken],
    )
    .await;
    let stderr = refused(&out);
    assert!(stderr.contains("broken.xml"), "{stderr}");
    assert!(stderr.contains("line"), "names the line: {stderr}");
    let stream = nats
        .js
        .get_stream(nats.subjects.input_stream())
        .await
        .unwrap();
    assert_eq!(
        stream.get_info().await.unwrap().state.messages,
        0,
        "nothing published"
    );
}
