//! The `creditstream` command as a user runs it.

use std::process::Command;

use crate::fixture::{creditstream, refused};

#[test]
fn a_bad_argument_prints_usage_and_exits_2() {
    let out = creditstream()
        .args(["demo", "--debtors", "many"])
        .output()
        .unwrap();
    let stderr = refused(&out);
    assert!(stderr.contains("Usage:"), "{stderr}");
    assert!(stderr.contains("--debtors"), "{stderr}");

    let out = creditstream().arg("frobnicate").output().unwrap();
    assert!(refused(&out).contains("Usage:"));
}

#[test]
fn an_invalid_portfolio_is_refused_before_anything_starts() {
    let out = creditstream()
        .args(["demo", "--debtors", "0"])
        .output()
        .unwrap();
    let stderr = refused(&out);
    assert!(stderr.contains("debtors"), "names the parameter: {stderr}");
}

#[test]
fn simulate_writes_json_lines_that_decode_and_a_ground_truth() {
    let dir = tempfile::tempdir().unwrap();
    let events_path = dir.path().join("events.jsonl");
    let truth_path = dir.path().join("truth.jsonl");
    let out = creditstream()
        .args([
            "simulate",
            "--debtors",
            "25",
            "--months",
            "2",
            "--seed",
            "5",
            "--out",
        ])
        .arg(&events_path)
        .arg("--truth")
        .arg(&truth_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&events_path).unwrap();
    let mut count = 0;
    for line in text.lines() {
        events::Envelope::decode(line.as_bytes(), events::DEFAULT_MAX_EVENT_BYTES)
            .unwrap_or_else(|e| panic!("{e}: {line}"));
        count += 1;
    }
    assert!(count > 100);
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(
        summary.contains(&format!("simulated {count} events")),
        "{summary}"
    );
    assert!(std::fs::metadata(&truth_path).unwrap().len() > 0);

    // The same seed gives the same file, byte for byte.
    let again = dir.path().join("again.jsonl");
    let out = creditstream()
        .args([
            "simulate",
            "--debtors",
            "25",
            "--months",
            "2",
            "--seed",
            "5",
            "--out",
        ])
        .arg(&again)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(std::fs::read(&again).unwrap(), text.as_bytes());
}

#[test]
fn the_demo_runs_a_small_portfolio_to_the_end_and_exits_0() {
    let out = creditstream()
        .args(["demo", "--debtors", "40", "--months", "3"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("creditstream demo finished"), "{stdout}");
    assert!(
        stdout.contains(", 9 dead letters"),
        "one per reason: {stdout}"
    );
    assert!(stderr.contains("/metrics"), "{stderr}");
    // The summary's counts are the pipeline's: 40 debtors in the ledger.
    assert!(stdout.contains("40 debtors"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_uses_an_existing_server_given_by_nats_url() {
    let nats = crate::fixture::Nats::start().await;
    let url = nats._server.url();
    let out = tokio::task::spawn_blocking(move || {
        creditstream()
            .args([
                "demo",
                "--debtors",
                "15",
                "--months",
                "1",
                "--prefix",
                "external",
                "--nats-url",
            ])
            .arg(url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        !stderr.contains("started nats-server"),
        "no private server: {stderr}"
    );
    // Its input and outputs are in the given server's streams, under the given prefix.
    let input = nats
        .js
        .get_stream("EXTERNAL_IN")
        .await
        .unwrap()
        .get_info()
        .await
        .unwrap();
    let output = nats
        .js
        .get_stream("EXTERNAL_OUT")
        .await
        .unwrap()
        .get_info()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let published: u64 = stdout
        .split_once("input    ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("summary names the published count: {stdout}"));
    assert_eq!(
        input.state.messages, published,
        "every published message is in the stream"
    );
    assert!(output.state.messages > 0);
}

#[test]
fn the_demo_reports_an_unreachable_server_clearly() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = creditstream()
        .args(["demo", "--debtors", "5", "--months", "1", "--nats-url"])
        .arg(format!("nats://127.0.0.1:{port}"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(75),
        "a transient failure: retry later"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&port.to_string()),
        "names the server: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_publishes_every_event_into_the_input_stream() {
    let nats = crate::fixture::Nats::start().await;
    let url = nats._server.url();
    let out = tokio::task::spawn_blocking(move || {
        let published = creditstream()
            .args([
                "simulate",
                "--debtors",
                "12",
                "--months",
                "2",
                "--prefix",
                "sim",
                "--nats-url",
            ])
            .arg(url)
            .output()
            .unwrap();
        let written = creditstream()
            .args(["simulate", "--debtors", "12", "--months", "2", "--out", "-"])
            .output()
            .unwrap();
        (published, written)
    })
    .await
    .unwrap();
    let (published, written) = out;
    assert!(
        published.status.success(),
        "{}",
        String::from_utf8_lossy(&published.stderr)
    );
    let lines = String::from_utf8_lossy(&written.stdout).lines().count() as u64;
    let input = nats
        .js
        .get_stream("SIM_IN")
        .await
        .unwrap()
        .get_info()
        .await
        .unwrap();
    assert_eq!(
        input.state.messages, lines,
        "the same events as the JSON lines"
    );
}

#[test]
fn a_terminated_demo_stops_its_private_nats_server() {
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};
    let mut child = creditstream()
        .args(["demo", "--debtors", "5", "--months", "1", "--keep-running"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read stderr until the demo says it keeps running; remember the server's address.
    let mut url = None;
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("started nats-server at ") {
            url = rest.split_whitespace().next().map(str::to_owned);
        }
        if line.starts_with("still running") {
            break;
        }
    }
    let url = url.expect("the demo names its server");
    let addr = url.trim_start_matches("nats://").to_owned();
    assert!(
        std::net::TcpStream::connect(&addr).is_ok(),
        "server up while the demo runs"
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(130), "interrupted");
    // The server goes with it (the port stops accepting within a bounded time).
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(&addr).is_ok() {
        assert!(
            Instant::now() < deadline,
            "nats-server still running after the demo ended"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(lines);
}

#[test]
fn feature_definitions_that_do_not_compile_are_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("features.toml");
    let text = features::definitions::DEFAULT_DEFINITIONS.replace(
        "sql = \"today - last_payment_day\"",
        "sql = \"today - no_such_column\"",
    );
    std::fs::write(&path, text).unwrap();
    let out = creditstream()
        .args([
            "demo",
            "--debtors",
            "5",
            "--months",
            "1",
            "--feature-definitions",
        ])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = refused(&out);
    assert!(
        stderr.contains("feature `days_since_last_payment` does not compile"),
        "names the feature: {stderr}"
    );
    assert!(
        stderr.contains("features.toml:"),
        "names the file and line: {stderr}"
    );
    assert!(
        stderr.contains("no_such_column"),
        "quotes DataFusion: {stderr}"
    );

    let out = creditstream()
        .args(["demo", "--debtors", "5", "--feature-batch-events", "0"])
        .output()
        .unwrap();
    let stderr = refused(&out);
    assert!(stderr.contains("batch_max_events"), "{stderr}");
}

#[test]
fn backtest_writes_its_report_over_several_seeds_and_refuses_bad_arms() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("backtest.html");
    let json = dir.path().join("backtest.json");
    let out = creditstream()
        .args([
            "backtest",
            "--debtors",
            "300",
            "--months",
            "6",
            "--model",
            "none",
        ])
        .args(["--replications", "2", "--warm-up-months", "2", "--html"])
        .arg(&html)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("over 2 seeds (42, 43)"), "{stdout}");
    assert!(stdout.contains("builtin-segmented-4") && stdout.contains("static-1"));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["arms"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        report["replications"][1]["seeds"],
        serde_json::json!([42, 43])
    );
    assert!(
        std::fs::read_to_string(&html)
            .unwrap()
            .contains("<h2>Over 2 seeds</h2>")
    );

    // A strategy file with a mistake: its line and field, exit 2, no report.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "version = \"x\"\n[[segment]]\nname = \"all\"\ndunning = [{ day = 3, channel = \"fax\", tone = \"friendly\" }]\n").unwrap();
    let out = creditstream()
        .args(["backtest", "--model", "none", "--strategy"])
        .arg(&bad)
        .output()
        .unwrap();
    let stderr = refused(&out);
    assert!(stderr.contains("bad.toml:4"), "{stderr}");
    // `log` needs an archive to take the models from.
    let out = creditstream()
        .args(["backtest", "--model", "log"])
        .output()
        .unwrap();
    assert!(refused(&out).contains("--model"));
    let out = creditstream()
        .args(["backtest", "--archive-dir", "somewhere"])
        .output()
        .unwrap();
    assert!(refused(&out).contains("--archive DIR"));
    let out = creditstream()
        .args(["backtest", "--replications", "0"])
        .output()
        .unwrap();
    assert!(refused(&out).contains("Usage:"));
}
