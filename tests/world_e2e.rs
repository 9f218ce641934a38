//! The README's tutorial world end to end: into a real Kafka-protocol broker (Tansu) and read
//! back by `kafka-gen consume --world` with no violations; through the ingest API, which
//! validates against the same file; and over `kafka-gen serve`. Waits are bounded I/O.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::kafka::{broker, consume_all, totals, Generator};
use common::run_captured;
use kafka_gen::config::{Config, SinkKind};
use kafka_gen::serve::{router, AppState, Limits};
use rdkafka::mocking::MockCluster;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

fn bank() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("worlds/bank.yaml")
        .display()
        .to_string()
}

/// A config naming fresh topics for the bank's event types.
fn topics_config(dir: &Path) -> (PathBuf, Vec<String>) {
    // The file names the world, so its topics belong to it.
    let run = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let tx = format!("bank-tx-{run}");
    let receipts = format!("bank-receipts-{run}");
    let text = format!(
        "scenario = \"{}\"\n[kafka]\npartitions = 3\n[kafka.topics]\ndeposit = \"{tx}\"\nwithdrawal = \"{tx}\"\nreceipt = \"{receipts}\"\n",
        bank()
    );
    let path = dir.join("bank.toml");
    std::fs::write(&path, text).unwrap();
    (path, vec![tx, receipts])
}

#[test]
fn the_tutorial_world_goes_through_kafka_and_consume_finds_no_violations() {
    let Some((bootstrap, _broker)) = broker("19397") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = topics_config(dir.path());
    let world = bank();
    // No --data-dir: the world's master data is made in memory, as in the README.
    let mut command = Command::new(env!("CARGO_BIN_EXE_kafka-gen"));
    command
        .args([
            "--world",
            &world,
            "--config",
            config.to_str().unwrap(),
            "--create-topics",
        ])
        .args([
            "--sink",
            "kafka",
            "--bootstrap-servers",
            &bootstrap,
            "--seed",
            "3",
        ])
        .args([
            "--start",
            "2025-01-01T00:00:00Z",
            "--count",
            "3000",
            "--stats-interval",
            "0",
        ])
        .arg("--summary-json")
        .arg(dir.path().join("summary.json"));
    let mut gen = Generator::spawn_command(&mut command);
    gen.dir = dir.path().to_path_buf();
    let status = gen.wait(Duration::from_secs(120));
    assert_eq!(status.code(), Some(0), "log:\n{}", gen.log_text());
    let (generated, delivered, _, _) = totals(&gen.summary());
    assert_eq!(delivered, generated);
    assert!(
        delivered > 3000,
        "receipts come on top of 3000 primaries: {delivered}"
    );

    let summary = dir.path().join("consume.json");
    let out = Command::new(env!("CARGO_BIN_EXE_kafka-gen"))
        .args([
            "consume",
            "--world",
            &world,
            "--config",
            config.to_str().unwrap(),
        ])
        .args([
            "--bootstrap-servers",
            &bootstrap,
            "--group-id",
            "bank-e2e",
            "--from-beginning",
        ])
        .args([
            "--until-idle",
            "5",
            "--reorder-grace",
            "10",
            "--stats-interval",
            "1",
        ])
        .arg("--summary-json")
        .arg(&summary)
        .env("RUST_LOG", "info,librdkafka=off")
        .env_remove("KAFKA_GEN_BOOTSTRAP_SERVERS")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let s: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap_or_default())
        .unwrap_or_else(|_| panic!("no consumer summary; log:\n{log}"));
    assert_eq!(s["records"], delivered, "{s:#}\nlog:\n{log}");
    assert_eq!(s["violations"], 0, "{s:#}\nlog:\n{log}");
    assert_eq!(out.status.code(), Some(0), "log:\n{log}");
}

fn config_for(bootstrap: &str) -> Config {
    let mut c = Config {
        scenario: bank(),
        data_dir: PathBuf::from("/nonexistent/kafka-gen-test"),
        seed: Some(5),
        sinks: vec![SinkKind::Null],
        stats_interval_secs: 0.0,
        ..Config::default()
    };
    c.kafka.bootstrap_servers = bootstrap.to_string();
    c.ingest.ack_timeout_ms = 3_000;
    c.ingest.health_interval_ms = 200;
    c
}

#[tokio::test]
async fn the_ingest_api_validates_against_the_world_file() {
    let mock = MockCluster::new(1).unwrap();
    for topic in ["bank.transactions", "bank.receipts"] {
        mock.create_topic(topic, 3, 1).unwrap();
    }
    let bootstrap = mock.bootstrap_servers();
    let mut config = config_for(&bootstrap);
    config.schedule.start = Some("2025-01-01T00:00:00Z".parse().unwrap());
    config.schedule.count = Some(100);
    let (_, events) = run_captured(&config).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let cancel = CancellationToken::new();
    let service = {
        let (config, cancel) = (config.clone(), cancel.clone());
        tokio::spawn(async move {
            kafka_gen::ingest::serve(&config.ingest_service()?, listener, cancel).await
        })
    };
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while client
        .get(format!("{base}/health"))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .ok()
        != Some(200)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "/health never answered 200"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let post = |body: String| {
        let client = client.clone();
        let url = format!("{base}/events");
        async move {
            let r = client
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        }
    };
    let (status, body) = post(serde_json::to_string(&events).unwrap()).await;
    assert_eq!(status, 200, "{body}");

    let mut bad = events[0].clone();
    bad["amount"] = json!("twelve");
    bad["event_id"] = json!(uuid::Uuid::now_v7().to_string());
    let (status, body) = post(bad.to_string()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("amount"), "{body}");
    let mut unknown = events[0].clone();
    unknown["event_type"] = json!("loan");
    let (status, body) = post(unknown.to_string()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("is not an event type of bank"), "{body}");

    let b = bootstrap.clone();
    let records = tokio::task::spawn_blocking(move || {
        consume_all(&b, &["bank.transactions", "bank.receipts"])
    })
    .await
    .unwrap();
    assert_eq!(
        records.len(),
        events.len(),
        "every accepted event reached its topic"
    );
    cancel.cancel();
    let _ = service.await;
}

#[tokio::test]
async fn serve_streams_the_world_by_its_name() {
    let limits = Limits {
        max_rate: 100_000.0,
        max_total: 100_000,
        max_streams: 2,
        ..Limits::default()
    };
    let scenario = kafka_gen::worldfile::scenario(Path::new(&bank())).unwrap();
    let state = AppState::with_worlds(limits, Some(PathBuf::from("/nonexistent")), vec![scenario]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stop = state.shutdown();
    tokio::spawn(async move {
        axum::serve(listener, router(state))
            .with_graceful_shutdown(stop.cancelled_owned())
            .await
            .unwrap();
    });
    let text = reqwest::Client::new()
        .post(format!("{base}/stream/bank"))
        .body(r#"{"rate": 1000, "time_compression": 1000, "start": "2025-03-04T10:00:00Z", "total": 200, "seed": 4}"#)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(events.len() >= 200, "{} lines: {text}", events.len());
    let mut checker = scenario_checker();
    for e in &events {
        checker.check(e);
    }
    assert!(
        checker.violations().is_empty(),
        "{:?}",
        &checker.violations()[..1]
    );
    // A request never names a file: only served worlds answer.
    let missing = reqwest::Client::new()
        .post(format!("{base}/stream/bank.yaml"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}

fn scenario_checker() -> Box<dyn kafka_gen::scenario::ContractChecker> {
    let s = kafka_gen::scenario::find(&bank()).unwrap();
    s.checker(Path::new("/nonexistent"), true).unwrap()
}
