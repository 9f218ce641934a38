//! The ingest API under the faults of issue 10, in front of librdkafka's mock cluster: a reused
//! `Idempotency-Key` with a different body, concurrent copies of one request, a fatal producer
//! error, a topic that goes missing, and slow or abusive clients. Waits are real I/O on local
//! sockets, each bounded.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use common::kafka::{consume_all, TOPICS};
use common::{fixture_config, run_captured};
use kafka_gen::config::Config;
use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

const BOUND: Duration = Duration::from_secs(30);

fn mock() -> MockCluster<'static, rdkafka::producer::DefaultProducerContext> {
    let mock = MockCluster::new(1).unwrap();
    for topic in TOPICS {
        mock.create_topic(topic, 3, 1).unwrap();
    }
    mock
}

fn ingest_config(bootstrap: &str) -> Config {
    let mut c = fixture_config(11);
    c.kafka.bootstrap_servers = bootstrap.to_string();
    c.kafka.message_timeout_ms = 60_000;
    c.ingest.max_body_bytes = 256 * 1024;
    c.ingest.ack_timeout_ms = 5_000;
    c.ingest.health_interval_ms = 200;
    c
}

/// Starts the service in-process; returns its base URL and the token that stops it.
async fn start(config: Config) -> (String, CancellationToken, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    let service = tokio::spawn(async move {
        kafka_gen::ingest::serve(&config.ingest_service().unwrap(), listener, c)
            .await
            .unwrap();
    });
    let client = reqwest::Client::new();
    let deadline = Instant::now() + BOUND;
    while client.get(format!("{base}/health")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the service never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (base, cancel, service)
}

async fn events(n: u64) -> Vec<Value> {
    let mut c = fixture_config(3);
    c.schedule.start = Some("2025-01-01T00:00:00Z".parse().unwrap());
    c.schedule.count = Some(n);
    run_captured(&c).await.1
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    key: Option<&str>,
    body: String,
) -> (u16, Value) {
    let mut request = client.post(url).body(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// How often each event id is on the topics.
async fn on_topics(bootstrap: &str) -> HashMap<String, usize> {
    let b = bootstrap.to_string();
    let records = tokio::task::spawn_blocking(move || consume_all(&b, &TOPICS))
        .await
        .unwrap();
    let mut times = HashMap::new();
    for (_, id) in records {
        *times.entry(id).or_default() += 1;
    }
    times
}

fn id(e: &Value) -> String {
    e["event_id"].as_str().unwrap().to_string()
}

async fn stop(cancel: CancellationToken, service: tokio::task::JoinHandle<()>) {
    cancel.cancel();
    tokio::time::timeout(BOUND, service).await.unwrap().unwrap();
}

/// Issue 10: a second request reusing an `Idempotency-Key` with a different body was answered
/// 200 `{"duplicates":1}` and its event never written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_key_with_a_different_body_is_refused() {
    let mock = mock();
    let (base, cancel, service) = start(ingest_config(&mock.bootstrap_servers())).await;
    let url = format!("{base}/events");
    let client = reqwest::Client::new();
    let e = events(2).await;
    let (status, body) = post(&client, &url, Some("key-1"), e[0].to_string()).await;
    assert_eq!(
        (status, &body["produced"]),
        (200, &Value::from(1)),
        "{body}"
    );
    let (status, body) = post(&client, &url, Some("key-1"), e[0].to_string()).await;
    assert_eq!(
        (status, &body["duplicates"]),
        (200, &Value::from(1)),
        "a retry: {body}"
    );
    let (status, body) = post(&client, &url, Some("key-1"), e[1].to_string()).await;
    assert_eq!(status, 422, "a different body under the same key: {body}");
    assert!(
        body["error"].as_str().unwrap().contains("Idempotency-Key"),
        "{body}"
    );
    let (status, body) = post(&client, &url, Some("key-2"), e[1].to_string()).await;
    assert_eq!(
        (status, &body["produced"]),
        (200, &Value::from(1)),
        "{body}"
    );
    stop(cancel, service).await;
    let times = on_topics(&mock.bootstrap_servers()).await;
    assert_eq!(times.get(&id(&e[0])), Some(&1));
    assert_eq!(times.get(&id(&e[1])), Some(&1));
}

/// Issue 10: 20 identical requests in flight gave 20 copies, because keys entered the window
/// only once Kafka confirmed. A slow broker (500 ms round trips) keeps them in flight together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_copies_of_a_request_are_produced_once() {
    let mock = mock();
    let (base, cancel, service) = start(ingest_config(&mock.bootstrap_servers())).await;
    mock.broker_round_trip_time(1, Duration::from_millis(500))
        .unwrap();
    let url = format!("{base}/events");
    let client = reqwest::Client::new();
    let mut e = events(60).await;
    e.truncate(60);
    let with_key = serde_json::to_string(&e[..30]).unwrap();
    let without_key = serde_json::to_string(&e[30..]).unwrap();
    // 20 copies with the key the http sink would send, then 20 copies without a key.
    let mut produced = 0;
    for (key, body) in [(Some("batch-a-30"), with_key), (None, without_key)] {
        let mut copies = Vec::new();
        for _ in 0..20 {
            let (client, url, body) = (client.clone(), url.clone(), body.clone());
            copies.push(tokio::spawn(
                async move { post(&client, &url, key, body).await },
            ));
        }
        for copy in copies {
            let (status, body) = tokio::time::timeout(BOUND, copy).await.unwrap().unwrap();
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["accepted"], 30, "{body}");
            produced += body["produced"].as_u64().unwrap();
        }
    }
    assert_eq!(produced, 60, "each event produced by one request");
    stop(cancel, service).await;
    let times = on_topics(&mock.bootstrap_servers()).await;
    let ids: HashSet<String> = e.iter().map(id).collect();
    assert_eq!(times.keys().cloned().collect::<HashSet<_>>(), ids);
    assert!(
        times.values().all(|n| *n == 1),
        "copies on the topics: {times:?}"
    );
}

/// Issue 10: after a fatal producer error (here: fenced while getting its producer id) every
/// POST was answered 503 for ever while `/health` said ok. The producer is rebuilt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fatal_producer_error_is_recovered_from() {
    let mock = mock();
    mock.request_errors(
        RDKafkaApiKey::InitProducerId,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_PRODUCER_FENCED],
    );
    let (base, cancel, service) = start(ingest_config(&mock.bootstrap_servers())).await;
    let url = format!("{base}/events");
    let client = reqwest::Client::new();
    let e = events(5).await;
    let body = serde_json::to_string(&e).unwrap();
    let deadline = Instant::now() + BOUND;
    let mut refusals = Vec::new();
    loop {
        let (status, answer) = post(&client, &url, None, body.clone()).await;
        if status == 200 {
            break;
        }
        refusals.push(answer.to_string());
        assert!(
            status == 503 && Instant::now() < deadline,
            "{status} {answer}; before: {refusals:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let health: Value = client
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["producer_rebuilds"], 1, "{health}");
    assert_eq!(health["kafka"], "up", "{health}");
    stop(cancel, service).await;
    let times = on_topics(&mock.bootstrap_servers()).await;
    for event in &e {
        assert_eq!(times.get(&id(event)), Some(&1), "{times:?}");
    }
}
