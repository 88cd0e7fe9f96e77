//! The model registry: versions kept once, in a directory and in a real JetStream Object
//! Store.

use models::ModelArtifact;
use pipeline::registry::{Published, Registry};

use crate::fixture::{Nats, refused};
use crate::train::{creditstream_with, training_set};

/// Trains a model with `creditstream train` and returns its file and artifact.
fn trained(dir: &std::path::Path, data: &str, version: &str, c: &str) -> (String, ModelArtifact) {
    let out = dir.join(format!("{version}-{c}.json"));
    let run = creditstream_with(&[
        "train",
        "--data",
        data,
        "--out",
        out.to_str().unwrap(),
        "--version",
        version,
        "--c",
        c,
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let artifact = ModelArtifact::from_json(&std::fs::read(&out).unwrap()).unwrap();
    (out.to_str().unwrap().to_owned(), artifact)
}

#[tokio::test]
async fn each_version_is_kept_once_in_a_directory_and_in_the_object_store() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _) = training_set(dir.path(), 300, 12, 3);
    let data = data.to_str().unwrap();
    let (v1_file, v1) = trained(dir.path(), data, "v1", "1");
    let (v2_file, v2) = trained(dir.path(), data, "v2", "0.5");
    let (other_v1_file, other_v1) = trained(dir.path(), data, "v1", "0.1");
    assert_ne!(v1, other_v1);

    // On disk, through the command line.
    let registry = dir.path().join("registry");
    let publish = |file: &str| {
        creditstream_with(&[
            "model",
            "publish",
            file,
            "--registry-dir",
            registry.to_str().unwrap(),
        ])
    };
    let run = publish(&v1_file);
    assert!(String::from_utf8_lossy(&run.stdout).contains("v1 stored"));
    let run = publish(&v1_file);
    assert!(
        String::from_utf8_lossy(&run.stdout).contains("v1 was already there"),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    let run = publish(&other_v1_file);
    assert!(refused(&run).contains("v1 is in the registry with other content"));
    assert!(publish(&v2_file).status.success());
    let run = creditstream_with(&[
        "model",
        "list",
        "--registry-dir",
        registry.to_str().unwrap(),
    ]);
    let listed = String::from_utf8_lossy(&run.stdout);
    assert!(listed.contains("2 model(s)"), "{listed}");
    assert!(listed.lines().any(|l| l.starts_with("v1 ")), "{listed}");
    let on_disk = Registry::Directory(registry.clone());
    assert_eq!(on_disk.load("v1").await.unwrap(), v1);

    // In a JetStream Object Store: the command line publishes, the library reads back.
    let nats = Nats::start().await;
    let run = creditstream_with(&[
        "model",
        "publish",
        &v1_file,
        "--nats-url",
        &nats._server.url(),
        "--prefix",
        "cstest",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let store = Registry::object_store(&nats.js, "cstest").await.unwrap();
    assert_eq!(store.publish(&v1).await.unwrap(), Published::AlreadyThere);
    assert!(store.publish(&other_v1).await.is_err());
    assert_eq!(store.publish(&v2).await.unwrap(), Published::New);
    assert_eq!(store.load("v1").await.unwrap(), v1);
    assert_eq!(store.load("v2").await.unwrap(), v2);
    let versions: Vec<String> = store
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.version)
        .collect();
    assert_eq!(versions.len(), 2);
    assert!(versions.contains(&"v1".to_owned()) && versions.contains(&"v2".to_owned()));
    assert!(
        store
            .load("v3")
            .await
            .unwrap_err()
            .to_string()
            .contains("not in the registry")
    );
    assert!(pipeline::registry::object_name("../etc").is_err());

    // Activation from the command line: an event in the input stream naming the stored
    // content; a version the registry lacks is refused before anything is published.
    let activate = |args: &[&str]| {
        let url = nats._server.url();
        let mut all = vec!["model", "activate"];
        all.extend_from_slice(args);
        all.extend_from_slice(&[
            "--nats-url",
            &url,
            "--prefix",
            "cstest",
            "--partitions",
            "4",
        ]);
        creditstream_with(&all)
    };
    let run = activate(&[
        "v2",
        "--challenger",
        "--by",
        "analyst.a",
        "--reason",
        "trial",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stdout).contains("v2 as challenger published"));
    let run = activate(&["v3"]);
    assert!(refused(&run).contains("v3 is not in the registry"));
    let run = activate(&["v2", "--challenger", "--stop-challenger"]);
    assert_eq!(
        run.status.code(),
        Some(2),
        "conflicting options print usage"
    );
    assert!(String::from_utf8_lossy(&run.stderr).contains("Usage"));
    let stored = nats.read_stream(&nats.subjects.input_stream()).await;
    assert_eq!(stored.len(), 1, "only the valid activation was published");
    let event =
        events::Envelope::decode(&stored[0].payload, events::DEFAULT_MAX_EVENT_BYTES).unwrap();
    let events::InputEvent::ModelActivated(a) = event.event else {
        panic!("{event:?}");
    };
    assert_eq!(a.role, events::ModelRole::Challenger);
    assert_eq!(
        (a.version.as_str(), a.activated_by.as_str()),
        ("v2", "analyst.a")
    );
    let bytes = std::fs::read(&v2_file).unwrap();
    assert_eq!(a.sha256, Some(pipeline::scoring::sha256_hex(&bytes)));
    assert_eq!(stored[0].subject, "cstest.in.unrouted.model_activated");
}

#[tokio::test]
async fn a_registry_that_cannot_be_read_is_an_error_not_a_refusal() {
    let nats = Nats::start().await;
    let store = Registry::object_store(&nats.js, "cstest").await.unwrap();
    // Absent: a refusal the activation reports.
    let absent = store
        .for_activation("v1")
        .await
        .expect("the registry answers");
    assert!(absent.unwrap_err().contains("not in the registry"));
    // The server gone: an error (the worker stops and tries again), never a refusal.
    let crate::fixture::Nats { _server, .. } = nats;
    drop(_server);
    let gone = tokio::time::timeout(crate::fixture::PATIENCE, store.for_activation("v1"))
        .await
        .expect("answers in time");
    assert!(gone.is_err(), "{gone:?}");
}
