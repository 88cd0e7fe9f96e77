//! Monitoring, checked by the real tools: the live `/metrics` text of a worker fed by the
//! simulator passes `promtool check metrics`; the rules in `dashboards/prometheus` pass
//! `promtool check rules` and their unit tests; every metric the dashboards and rules name
//! is exported; and a real Prometheus server scrapes the worker, evaluates the rules
//! without errors, answers every dashboard query with data and gives back the portfolio
//! KPIs exactly as `/metrics` shows them.
//!
//! `promtool` and `prometheus` come from the Debian package `prometheus` (`./run.sh test`
//! installs it), found on the PATH or in `/usr/bin`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use pipeline::http::HttpServer;
use pipeline::metrics::PipelineMetrics;
use pipeline::worker::{self, WorkerHandle};
use serde_json::Value;

use crate::fixture::*;

// ------------------------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_metrics_of_a_fed_worker_pass_promtool_check_metrics() {
    let live = LivePipeline::start().await;
    let text = live.metrics_text().await;
    let out = run(
        Command::new(tool("promtool")).args(["check", "metrics"]),
        Some(&text),
    );
    assert!(
        out.status.success(),
        "promtool check metrics finds problems in the live /metrics ({}):\n{}",
        out.status,
        output_text(&out)
    );
    // The feature stage ran in the worker: the portfolio's 100 debtors got features and
    // the checkpoint holds their state.
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} not in /metrics"))
    };
    assert!(value("creditstream_features_debtors_changed_total") >= 100.0);
    assert!(value("creditstream_features_state_bytes") > 0.0);
    assert!(value("creditstream_features_flush_duration_seconds_count") >= 1.0);
    // Every message taken up, accepted or dead-lettered, has its wait in the stream
    // observed once.
    let sum_of = |family: &str| -> f64 {
        text.lines()
            .filter_map(|l| l.strip_prefix(family)?.strip_prefix('{'))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let taken_up = sum_of("creditstream_ingest_events_total")
        + sum_of("creditstream_ingest_dead_letters_total");
    assert!(taken_up >= 100.0, "the worker took up {taken_up} messages");
    assert_eq!(value("creditstream_ingest_delay_seconds_count"), taken_up);
    assert!(value("creditstream_ingest_delay_seconds_sum") >= 0.0);
    live.stop().await;
}

#[test]
fn rules_pass_promtool_check_rules_and_their_unit_tests() {
    let dir = dashboards().join("prometheus");
    let check = run(
        Command::new(tool("promtool"))
            .args(["check", "rules", "rules.yml"])
            .current_dir(&dir),
        None,
    );
    assert!(
        check.status.success(),
        "promtool check rules:\n{}",
        output_text(&check)
    );
    let test = run(
        Command::new(tool("promtool"))
            .args(["test", "rules", "rules_test.yml"])
            .current_dir(&dir),
        None,
    );
    assert!(
        test.status.success(),
        "promtool test rules:\n{}",
        output_text(&test)
    );
}

#[test]
fn every_alert_has_a_severity_a_summary_a_description_and_unit_tests() {
    let rules = std::fs::read_to_string(dashboards().join("prometheus/rules.yml")).unwrap();
    let tests = std::fs::read_to_string(dashboards().join("prometheus/rules_test.yml")).unwrap();
    let readme = std::fs::read_to_string(dashboards().join("README.md")).unwrap();
    let alerts = rule_names(&rules, "- alert:");
    assert!(!alerts.is_empty(), "rules.yml has alerts");
    for alert in &alerts {
        assert!(
            readme.contains(&format!("`{alert}`")),
            "dashboards/README.md does not describe {alert}"
        );
        let body = rule_body(&rules, alert);
        for needle in ["severity:", "summary:", "description:"] {
            assert!(body.contains(needle), "alert {alert} has no {needle}");
        }
        // At least one evaluation with the alert firing and one with it silent.
        let evaluations: Vec<&str> = tests
            .split("- alertname: ")
            .skip(1)
            .filter(|e| e.split_whitespace().next() == Some(alert.as_str()))
            .collect();
        assert!(
            evaluations.iter().any(|e| e.contains("exp_alerts: []")),
            "no test shows {alert} not firing"
        );
        assert!(
            evaluations.iter().any(|e| e.contains("- exp_labels:")),
            "no test shows {alert} firing"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_named_in_the_dashboards_and_rules_is_exported_by_a_running_worker() {
    let live = LivePipeline::start().await;
    let families = metric_families(&live.metrics_text().await);
    let mut missing = Vec::new();
    let mut checked = 0;
    for file in monitoring_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        for name in metric_names_in(&text) {
            checked += 1;
            if !is_exported(&name, &families) {
                missing.push(format!("{name} (in {})", file.display()));
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} metric names found: parser broken?"
    );
    assert!(
        missing.is_empty(),
        "named in dashboards or rules but not exported by the pipeline:\n{}",
        missing.join("\n")
    );
    live.stop().await;
}

#[test]
fn dashboards_are_importable_grafana_json_on_the_prometheus_input() {
    let mut uids = BTreeSet::new();
    let files = dashboard_files();
    assert!(files.len() >= 2, "pipeline-health and portfolio dashboards");
    for file in files {
        let name = file.display().to_string();
        let d: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
        let inputs = d["__inputs"].as_array().expect("__inputs");
        assert!(
            inputs
                .iter()
                .any(|i| i["name"] == "DS_PROMETHEUS" && i["pluginId"] == "prometheus"),
            "{name}: a DS_PROMETHEUS datasource input"
        );
        assert!(
            d["schemaVersion"].as_u64().is_some_and(|v| v >= 36),
            "{name}: schemaVersion"
        );
        assert!(d["id"].is_null(), "{name}: id null, so import creates it");
        let uid = d["uid"].as_str().expect("uid").to_string();
        assert!(uids.insert(uid.clone()), "{name}: uid {uid} used twice");
        assert!(d["title"].as_str().is_some_and(|t| !t.is_empty()));

        let panels = d["panels"].as_array().expect("panels");
        let mut ids = BTreeSet::new();
        let mut boxes: Vec<(String, (u64, u64, u64, u64))> = Vec::new();
        for p in panels {
            let title = p["title"].as_str().unwrap_or("?");
            assert!(
                ids.insert(p["id"].as_u64().expect("panel id")),
                "{name}: panel id of {title} used twice"
            );
            let g = &p["gridPos"];
            let (x, y, w, h) = (
                g["x"].as_u64().unwrap(),
                g["y"].as_u64().unwrap(),
                g["w"].as_u64().unwrap(),
                g["h"].as_u64().unwrap(),
            );
            assert!(x + w <= 24, "{name}: {title} wider than the grid");
            for (other, (ox, oy, ow, oh)) in &boxes {
                let overlap = x < ox + ow && *ox < x + w && y < oy + oh && *oy < y + h;
                assert!(!overlap, "{name}: {title} overlaps {other}");
            }
            boxes.push((title.to_string(), (x, y, w, h)));
            if p["type"] == "row" {
                continue;
            }
            assert!(
                ["timeseries", "stat"].contains(&p["type"].as_str().unwrap_or("")),
                "{name}: {title} is a timeseries or stat panel"
            );
            assert_eq!(
                p["datasource"]["uid"], "${DS_PROMETHEUS}",
                "{name}: {title} uses the datasource input"
            );
            let targets = p["targets"].as_array().expect("targets");
            assert!(!targets.is_empty(), "{name}: {title} has queries");
            let mut refs = BTreeSet::new();
            for t in targets {
                assert_eq!(
                    t["datasource"]["uid"], "${DS_PROMETHEUS}",
                    "{name}: {title}"
                );
                assert!(t["expr"].as_str().is_some_and(|e| !e.is_empty()));
                assert!(
                    refs.insert(t["refId"].as_str().unwrap().to_string()),
                    "{name}: {title}: refId twice"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_a_fed_worker_evaluates_the_rules_and_answers_the_dashboards() {
    let live = LivePipeline::start().await;
    let rules_file = dashboards().join("prometheus/rules.yml");
    let mut prometheus = PrometheusServer::start(live.http.addr, &rules_file);
    prometheus.wait_ready().await;

    // The portfolio KPIs read back through the query API equal what /metrics shows. The
    // worker has processed everything, so the values no longer change.
    let exported: BTreeMap<SeriesKey, f64> = samples(&live.metrics_text().await)
        .into_iter()
        .filter(|(k, _)| k.0.starts_with("creditstream_portfolio_"))
        .collect();
    let open_balance = exported
        .get(&(
            "creditstream_portfolio_open_balance".to_string(),
            Vec::new(),
        ))
        .copied()
        .expect("creditstream_portfolio_open_balance on /metrics");
    assert!(open_balance > 0.0, "a fed portfolio has receivables");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let queried = prometheus
            .query_samples(r#"{__name__=~"creditstream_portfolio_.+"}"#)
            .await;
        if queried == exported {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Prometheus gives {queried:?}, /metrics {exported:?}:\n{}",
            prometheus.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let up = prometheus.query_samples(r#"up{job="creditstream"}"#).await;
    assert_eq!(up.values().copied().collect::<Vec<_>>(), vec![1.0]);

    // A few scrapes, so that rate() and deriv() have two samples in every window.
    prometheus
        .wait_for_query(
            "count_over_time(creditstream_ledger_debtors[1m]) >= 3",
            "three scrapes",
        )
        .await;

    // Every dashboard query answers with data (the variables set as Grafana would for
    // "All"); other queries (annotations) at least parse.
    for file in dashboard_files() {
        let d: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for panel in d["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let expr = grafana_to_promql(target["expr"].as_str().unwrap());
                let result = prometheus.query(&expr).await;
                assert!(
                    result.as_ref().is_ok_and(|r| !r.is_empty()),
                    "{}: panel {:?}: {expr} gives {result:?}",
                    file.display(),
                    panel["title"]
                );
            }
        }
        for annotation in d["annotations"]["list"].as_array().unwrap() {
            if let Some(expr) = annotation["expr"].as_str() {
                let expr = grafana_to_promql(expr);
                let result = prometheus.query(&expr).await;
                assert!(result.is_ok(), "{}: {expr}: {result:?}", file.display());
            }
        }
        let variable = &d["templating"]["list"][0]["query"]["query"];
        assert_eq!(
            variable,
            "label_values(creditstream_ingest_events_total, instance)"
        );
        let values = prometheus
            .get_json("/api/v1/label/instance/values?match%5B%5D=creditstream_ingest_events_total")
            .await;
        assert_eq!(
            values["data"],
            serde_json::json!([live.http.addr.to_string()])
        );
    }

    // Every recording rule records something from the live series, and every rule has
    // been evaluated on them without an error (a vector-matching mistake would show here).
    let rules_text = std::fs::read_to_string(&rules_file).unwrap();
    let records = rule_names(&rules_text, "- record:");
    let alerts = rule_names(&rules_text, "- alert:");
    for record in &records {
        prometheus
            .wait_for_query(record, &format!("recording rule {record}"))
            .await;
    }
    let after = chrono::Utc::now();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let rules = prometheus.get_json("/api/v1/rules").await;
        let rules: Vec<&Value> = rules["data"]["groups"]
            .as_array()
            .expect("rule groups")
            .iter()
            .flat_map(|g| g["rules"].as_array().unwrap())
            .collect();
        assert_eq!(
            rules.len(),
            records.len() + alerts.len(),
            "Prometheus loaded every rule of rules.yml"
        );
        for rule in &rules {
            assert!(
                rule["health"] != "err",
                "rule {} fails on live data: {}",
                rule["name"],
                rule["lastError"]
            );
        }
        let evaluated_since = |rule: &&Value| {
            rule["health"] == "ok"
                && rule["lastEvaluation"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .is_some_and(|t| t > after)
        };
        if rules.iter().all(evaluated_since) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "rules not all evaluated: {rules:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    drop(prometheus);
    live.stop().await;
}

#[test]
fn metric_names_are_found_with_histogram_series_and_without_recording_rules() {
    let text = "sum(rate(creditstream_a_total[5m])) / creditstream:b:rate5m \
                histogram_quantile(0.9, creditstream_h_seconds_bucket) xcreditstream_no \
                every `creditstream_*` metric";
    let names = metric_names_in(text);
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["creditstream_a_total", "creditstream_h_seconds_bucket"]
    );
    let families = BTreeMap::from([
        ("creditstream_a_total".to_string(), "counter".to_string()),
        (
            "creditstream_h_seconds".to_string(),
            "histogram".to_string(),
        ),
        ("creditstream_g".to_string(), "gauge".to_string()),
    ]);
    assert!(is_exported("creditstream_h_seconds_bucket", &families));
    assert!(is_exported("creditstream_a_total", &families));
    assert!(!is_exported("creditstream_g_sum", &families));
    assert!(!is_exported("creditstream_missing", &families));
}

// ------------------------------------------------------------------ a fed, served worker

/// A worker fed by the simulator until every event is checkpointed, its metrics served
/// over HTTP from the registry its [`PipelineMetrics`] were built from, as in
/// `creditstream run`.
struct LivePipeline {
    _nats: Nats,
    worker: WorkerHandle,
    http: HttpServer,
}

impl LivePipeline {
    async fn start() -> LivePipeline {
        let nats = Nats::start().await;
        let registry = prometheus::Registry::new();
        let metrics = Arc::new(PipelineMetrics::new(&registry).expect("metrics"));
        let mut worker = worker::start(nats.js.clone(), nats.worker_config(), metrics)
            .await
            .expect("worker starts");
        let http = pipeline::http::serve("127.0.0.1:0".parse().unwrap(), registry, None)
            .await
            .expect("metrics served");
        // A model scores the portfolio, as in the demo: trained on another simulated
        // history, kept in the registry, activated by the log's first event.
        let portfolio_args = pipeline::cli::PortfolioArgs {
            debtors: 300,
            months: 12,
            seed: 8,
            start: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        };
        let artifact = pipeline::demo::demo_model(&portfolio_args).expect("trains");
        let models = nats.registry(&[&artifact]).await;
        let events = portfolio(100, 6, 7);
        let activation = pipeline::registry::activation_event(
            &models,
            &artifact.metadata.version,
            events::ModelRole::Champion,
            "test",
            "",
            events[0].event_time,
        )
        .await
        .expect("activation");
        let mut log = vec![activation];
        log.extend(events);
        let last = nats.publish(&log).await;
        worker
            .wait_for(PATIENCE, |s| s.checkpointed_sequence >= last)
            .await
            .expect("all input checkpointed");
        LivePipeline {
            _nats: nats,
            worker,
            http,
        }
    }

    async fn metrics_text(&self) -> String {
        let (status, body) = http_get(self.http.addr, "/metrics")
            .await
            .expect("GET /metrics");
        assert_eq!(status, 200, "GET /metrics: {body}");
        body
    }

    async fn stop(self) {
        self.worker.stop().await.expect("worker stops cleanly");
        self.http.task.abort();
    }
}

// ------------------------------------------------------------------- a Prometheus server

/// A `prometheus` server of this test: a free loopback port, a temporary directory for its
/// configuration and storage, scraping one target every second and evaluating the given
/// rule file every second; killed on drop.
struct PrometheusServer {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl PrometheusServer {
    fn start(target: SocketAddr, rules: &Path) -> PrometheusServer {
        let dir = tempfile::Builder::new()
            .prefix("creditstream-prometheus-")
            .tempdir()
            .unwrap();
        // JSON strings are YAML strings: safe for any path.
        let rules = serde_json::to_string(&rules.display().to_string()).unwrap();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {rules}\n\
             scrape_configs:\n  - job_name: creditstream\n    static_configs:\n      \
             - targets: [\"{target}\"]\n"
        );
        let config_file = dir.path().join("prometheus.yml");
        std::fs::write(&config_file, config).unwrap();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let child = Command::new(tool("prometheus"))
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("prometheus starts");
        PrometheusServer { child, addr, dir }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    async fn wait_ready(&mut self) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("prometheus exited with {status}:\n{}", self.log());
            }
            if let Ok((200, _)) = http_get(self.addr, "/-/ready").await {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "prometheus not ready:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn get_json(&self, path: &str) -> Value {
        let (status, body) = http_get(self.addr, path).await.expect("Prometheus API");
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).expect("Prometheus API answers JSON")
    }

    /// An instant query: its samples, or the error Prometheus gives.
    async fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        let path = format!("/api/v1/query?query={}", url_encode(expr));
        let (status, body) = http_get(self.addr, &path).await?;
        let answer: Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
        if status != 200 || answer["status"] != "success" {
            return Err(format!("HTTP {status}: {body}"));
        }
        Ok(answer["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    /// An instant query's samples by metric name and labels (without `job` and `instance`,
    /// which the scrape adds).
    async fn query_samples(&self, expr: &str) -> BTreeMap<SeriesKey, f64> {
        let result = self.query(expr).await.expect("query");
        result
            .iter()
            .map(|s| {
                let mut labels: Vec<(String, String)> = s["metric"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .filter(|(k, _)| !["__name__", "job", "instance"].contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                    .collect();
                labels.sort();
                let name = s["metric"]["__name__"].as_str().unwrap_or("").to_string();
                let value = s["value"][1].as_str().unwrap().parse::<f64>().unwrap();
                ((name, labels), value)
            })
            .collect()
    }

    /// Polls until the query gives at least one sample.
    async fn wait_for_query(&self, expr: &str, what: &str) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match self.query(expr).await {
                Ok(r) if !r.is_empty() => return,
                Ok(_) => {}
                Err(e) => panic!("{what}: {expr}: {e}"),
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: no data for {expr}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ------------------------------------------------------------------------------ helpers

/// `dashboards/` of the workspace.
fn dashboards() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dashboards")
}

fn files_in(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

fn dashboard_files() -> Vec<PathBuf> {
    files_in(&dashboards().join("grafana"), "json")
}

/// The dashboards, the rules and the rules' unit tests.
fn monitoring_files() -> Vec<PathBuf> {
    let mut files = dashboard_files();
    files.extend(files_in(&dashboards().join("prometheus"), "yml"));
    files
}

/// `promtool` or `prometheus`, on the PATH or in `/usr/bin`.
fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{name} not found: install the Debian package prometheus (./run.sh test does)")
        })
}

fn run(command: &mut Command, stdin: Option<&str>) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut pipe = child.stdin.take().unwrap();
    // promtool reads all of stdin before it writes anything: no deadlock.
    pipe.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET over HTTP/1.0: status and body.
async fn http_get(addr: SocketAddr, path: &str) -> Result<(u16, String), String> {
    crate::fixture::http(addr, "GET", path, None).await
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A dashboard query as Grafana sends it with every worker chosen.
fn grafana_to_promql(expr: &str) -> String {
    expr.replace("$__rate_interval", "1m")
        .replace("$instance", ".*")
}

/// Metric families of an exposition, by name: their types.
fn metric_families(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            Some((words.next()?.to_string(), words.next()?.to_string()))
        })
        .collect()
}

/// A series: metric name and sorted labels.
type SeriesKey = (String, Vec<(String, String)>);

/// The samples of an exposition.
fn samples(text: &str) -> BTreeMap<SeriesKey, f64> {
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line.rsplit_once(' ').expect("a sample line");
        let (name, labels) = match series.split_once('{') {
            None => (series.to_string(), Vec::new()),
            Some((name, rest)) => {
                let rest = rest.strip_suffix('}').expect("labels end with }");
                let mut labels: Vec<(String, String)> = rest
                    .split("\",")
                    .filter(|l| !l.is_empty())
                    .map(|l| {
                        let (k, v) = l.split_once("=\"").expect("label=\"value\"");
                        (k.to_string(), v.trim_end_matches('"').to_string())
                    })
                    .collect();
                labels.sort();
                (name.to_string(), labels)
            }
        };
        out.insert((name, labels), value.parse().expect("a sample value"));
    }
    out
}

/// Names of the form `creditstream_[a-z0-9_]+` in a text (recording rules, which are named
/// `creditstream:...`, are not metric names of the pipeline).
fn metric_names_in(text: &str) -> BTreeSet<String> {
    const PREFIX: &str = "creditstream_";
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find(PREFIX) {
        let preceded_by_word = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
        let tail = &rest[at..];
        let len = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        // A bare prefix is prose (`creditstream_*`), not a name.
        if !preceded_by_word && len > PREFIX.len() {
            names.insert(tail[..len].to_string());
        }
        rest = &tail[len.max(PREFIX.len())..];
    }
    names
}

/// Is `name` a metric family of the exposition, or a series of one of its histograms?
fn is_exported(name: &str, families: &BTreeMap<String, String>) -> bool {
    families.contains_key(name)
        || ["_bucket", "_sum", "_count"].iter().any(|suffix| {
            name.strip_suffix(suffix)
                .is_some_and(|base| families.get(base).is_some_and(|t| t == "histogram"))
        })
}

/// Names of the rules of a kind (`- record:` or `- alert:`) in a rule file, in order.
fn rule_names(rules: &str, kind: &str) -> Vec<String> {
    rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix(kind))
        .map(|n| n.trim().to_string())
        .collect()
}

/// The text of one alert in a rule file, up to the next rule.
fn rule_body<'a>(rules: &'a str, alert: &str) -> &'a str {
    let start = rules
        .find(&format!("- alert: {alert}\n"))
        .expect("alert in rules");
    let body = &rules[start + 1..];
    let end = body
        .find("- alert:")
        .or_else(|| body.find("- record:"))
        .unwrap_or(body.len());
    &body[..end]
}
