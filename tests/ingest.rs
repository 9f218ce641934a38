//! The ingest API end to end: the service runs in-process on 127.0.0.1 (random port) in front
//! of librdkafka's mock cluster; a real HTTP client posts valid, invalid, oversized and
//! duplicate batches; an rdkafka consumer reads what reached the topics. Then the broker goes
//! down (503, nothing acknowledged lost) and the generator's HTTP sink posts through the
//! service to the same topics. The same batches then go through the service to a real Tansu
//! broker. Waits are I/O on real sockets, each bounded. `tls`: the same over TLS with client
//! certificates, the HTTP sink posting through it. `auth`: the service with bearer tokens
//! (issue 30).

#[path = "ingest/auth.rs"]
mod auth;
mod common;
#[path = "ingest/document_body.rs"]
mod document_body;
#[path = "ingest/tls.rs"]
mod tls;
#[path = "common/tls.rs"]
mod tls_pki;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use common::kafka::{broker, consume_all, consume_until_quiet, TOPICS};
use common::{fixture_config, run_captured};
use kafka_gen::config::{Config, SinkKind};
use kafka_gen::runner::Runner;
use kafka_gen::sinks::http::HttpSink;
use kafka_gen::sinks::Sink;
use rdkafka::mocking::MockCluster;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

const BOUND: Duration = Duration::from_secs(30);

fn id(event: &Value) -> String {
    event["event_id"].as_str().unwrap().to_string()
}

fn array(events: &[Value]) -> String {
    serde_json::to_string(events).unwrap()
}

async fn post(client: &reqwest::Client, url: &str, body: String, ct: &str) -> (u16, Value) {
    let response = client
        .post(url)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Polls `/health` until it answers `want`, at most [`BOUND`].
async fn wait_health(client: &reqwest::Client, base: &str, want: u16) {
    let deadline = Instant::now() + BOUND;
    loop {
        let status = client
            .get(format!("{base}/health"))
            .send()
            .await
            .map(|r| r.status().as_u16());
        if status.as_ref().is_ok_and(|s| *s == want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "/health never answered {want}: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn ingest_config(bootstrap: &str) -> Config {
    let mut c = fixture_config(11);
    c.kafka.bootstrap_servers = bootstrap.to_string();
    c.kafka.message_timeout_ms = 60_000;
    c.ingest.max_body_bytes = 256 * 1024;
    c.ingest.ack_timeout_ms = 3_000;
    c.ingest.health_interval_ms = 200;
    c
}

/// Posts valid, duplicate, NDJSON, single, invalid, malformed and oversized bodies, checking
/// each answer; returns the events it drew from and the ids the service acknowledged.
async fn post_batches(client: &reqwest::Client, url: &str) -> (Vec<Value>, HashSet<String>) {
    let mut gen_config = fixture_config(3);
    gen_config.schedule.start = Some("2025-01-01T00:00:00Z".parse().unwrap());
    gen_config.schedule.count = Some(400);
    let (_, events) = run_captured(&gen_config).await;
    let mut acked: HashSet<String> = HashSet::new();
    let json = "application/json";

    // A valid array batch, then the same batch again: acknowledged, not produced twice.
    let (status, body) = post(client, url, array(&events[..100]), json).await;
    assert_eq!(
        (status, &body["produced"]),
        (200, &Value::from(100)),
        "{body}"
    );
    acked.extend(events[..100].iter().map(id));
    let (status, body) = post(client, url, array(&events[..100]), json).await;
    assert_eq!(status, 200);
    assert_eq!(
        (&body["produced"], &body["duplicates"]),
        (&Value::from(0), &Value::from(100))
    );

    // NDJSON, overlapping the first batch by ten events.
    let nd: String = events[90..200].iter().map(|e| format!("{e}\n")).collect();
    let (status, body) = post(client, url, nd, "application/x-ndjson").await;
    assert_eq!(
        (status, &body["duplicates"]),
        (200, &Value::from(10)),
        "{body}"
    );
    acked.extend(events[90..200].iter().map(id));

    // Single events with an Idempotency-Key, sent twice.
    for e in &events[200..210] {
        for _ in 0..2 {
            let r = client
                .post(url)
                .header("idempotency-key", id(e))
                .body(e.to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
        }
        acked.insert(id(e));
    }

    // Invalid: the first bad field of the first bad event is named; nothing of it produced.
    let mut bad = events[210..220].to_vec();
    let sale = bad.iter().position(|e| e["event_type"] == "sale").unwrap();
    bad[sale].as_object_mut().unwrap().remove("store_id");
    let (status, body) = post(client, url, array(&bad), json).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"],
        format!("events[{sale}]: store_id: missing; it must be a string")
    );
    let (status, body) = post(client, url, "{\"event_id\": 12".into(), json).await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = post(client, url, "x".repeat(300 * 1024), json).await;
    assert_eq!(status, 413);

    (events, acked)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_invalid_oversized_duplicate_and_kafka_down() {
    let mock = MockCluster::new(1).unwrap();
    for topic in TOPICS {
        mock.create_topic(topic, 3, 1).unwrap();
    }
    let bootstrap = mock.bootstrap_servers();
    let config = ingest_config(&bootstrap);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let url = format!("{base}/events");
    let cancel = CancellationToken::new();
    let service = {
        let (config, cancel) = (config.clone(), cancel.clone());
        tokio::spawn(async move {
            kafka_gen::ingest::serve(&config.ingest_service()?, listener, cancel).await
        })
    };
    let client = reqwest::Client::new();
    wait_health(&client, &base, 200).await;

    let (events, mut acked) = post_batches(&client, &url).await;
    let json = "application/json";

    // Kafka goes down: 503 (quickly, once the health check notices), and back up: accepted.
    mock.broker_down(1).unwrap();
    wait_health(&client, &base, 503).await;
    let (status, body) = post(&client, &url, array(&events[220..300]), json).await;
    assert_eq!(status, 503, "{body}");
    mock.broker_up(1).unwrap();
    wait_health(&client, &base, 200).await;
    let deadline = Instant::now() + BOUND;
    loop {
        let (status, body) = post(&client, &url, array(&events[220..300]), json).await;
        if status == 200 {
            break;
        }
        assert!(
            status == 503 && Instant::now() < deadline,
            "{status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    acked.extend(events[220..300].iter().map(id));

    let b = bootstrap.clone();
    let records = tokio::task::spawn_blocking(move || consume_all(&b, &TOPICS))
        .await
        .unwrap();
    let on_topics: HashMap<String, String> = records
        .iter()
        .map(|(t, i)| (i.clone(), t.clone()))
        .collect();
    assert_eq!(
        records.len(),
        on_topics.len(),
        "an event was produced twice"
    );
    let acked_on: HashSet<String> = on_topics.keys().cloned().collect();
    assert_eq!(
        acked_on, acked,
        "exactly the acknowledged events are on the topics"
    );
    for e in &events[..300] {
        if let Some(topic) = on_topics.get(&id(e)) {
            let ty = e["event_type"].as_str().unwrap();
            let want = kafka_gen::scenario::retail::TYPES
                .iter()
                .find(|t| t.name == ty)
                .unwrap();
            assert_eq!(topic, want.default_topic);
        }
    }

    // The generator's HTTP sink through the service: every event lands once on its topic.
    let mut run = fixture_config(21);
    run.sinks = vec![SinkKind::Http];
    run.schedule.start = Some("2025-02-01T00:00:00Z".parse().unwrap());
    run.schedule.count = Some(1000);
    run.http.endpoint = Some(url.clone());
    run.http.batch_size = 100;
    let dir = tempfile::tempdir().unwrap();
    let http = HttpSink::open(
        &run.http,
        std::sync::Arc::new(kafka_gen::sinks::dead_letter::DeadLetter::new(
            dir.path().join("dl.jsonl"),
        )),
        5,
    )
    .unwrap();
    let sinks: Vec<Box<dyn Sink>> = vec![Box::new(http)];
    let summary = tokio::time::timeout(
        BOUND,
        Runner::with_sinks(&run, sinks)
            .unwrap()
            .run(CancellationToken::new()),
    )
    .await
    .unwrap()
    .unwrap();
    let sent = summary.sinks[0].counts.delivered_total();
    assert_eq!(summary.undelivered(), 0);
    let b = bootstrap.clone();
    let records = tokio::task::spawn_blocking(move || consume_all(&b, &TOPICS))
        .await
        .unwrap();
    assert_eq!(records.len() as u64, acked.len() as u64 + sent);

    cancel.cancel();
    tokio::time::timeout(BOUND, service)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

/// The same batches against a real Kafka-protocol broker (Tansu): the service creates the
/// topics, and exactly the acknowledged events are on them, once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_invalid_oversized_duplicate_on_tansu() {
    let Some((bootstrap, _broker)) = broker("19494") else {
        return;
    };
    let mut config = ingest_config(&bootstrap);
    config.kafka.create_topics = true;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let cancel = CancellationToken::new();
    let service = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            kafka_gen::ingest::serve(&config.ingest_service()?, listener, cancel).await
        })
    };
    let client = reqwest::Client::new();
    wait_health(&client, &base, 200).await;
    let (_, acked) = post_batches(&client, &format!("{base}/events")).await;

    let records = tokio::task::spawn_blocking(move || {
        consume_until_quiet(&bootstrap, &TOPICS, Duration::from_secs(3))
    })
    .await
    .unwrap();
    let ids: HashSet<String> = records.iter().map(|(_, i)| i.clone()).collect();
    assert_eq!(records.len(), ids.len(), "an event was produced twice");
    assert_eq!(
        ids, acked,
        "exactly the acknowledged events are on the topics"
    );
    cancel.cancel();
    tokio::time::timeout(BOUND, service)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
