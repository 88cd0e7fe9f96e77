//! The exact output of a tiny run, kept as golden files: any change to what the
//! simulator writes (a new draw, a dependency that serialises differently) shows up as a
//! diff to review. `UPDATE_GOLDEN=1 cargo test -p simulator` rewrites them.

use std::path::PathBuf;

use simulator::{SimConfig, Simulator};

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn check_golden(name: &str, actual: &[u8]) {
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("create golden dir");
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let expected = String::from_utf8_lossy(&expected);
        let actual = String::from_utf8_lossy(actual);
        let first_difference = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from line {}:\nexpected: {:?}\nactual:   {:?}\n(UPDATE_GOLDEN=1 rewrites it after review)",
            path.display(),
            first_difference + 1,
            expected.lines().nth(first_difference),
            actual.lines().nth(first_difference),
        );
    }
}

#[test]
fn a_tiny_run_writes_exactly_the_golden_events_and_truth() {
    let config = SimConfig {
        seed: 2025,
        debtors: 6,
        months: 2,
        ..SimConfig::default()
    };
    let mut sim = Simulator::new(config.check().expect("valid"));
    let mut events = Vec::new();
    sim.write_jsonl(&mut events).expect("write to a Vec");
    let mut truth = Vec::new();
    sim.truth().write_jsonl(&mut truth).expect("write to a Vec");
    check_golden("tiny_events.jsonl", &events);
    check_golden("tiny_truth.jsonl", &truth);
}
