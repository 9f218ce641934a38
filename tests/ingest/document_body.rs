//! Issue 29: `kafka-gen ingest` for tutoring accepts the document's own body,
//! `{event_type, payload}`, and completes it with what the world's events carry: an
//! `event_id` (the request's `Idempotency-Key` when it is a UUID), `caused_by` null, and
//! `stream_id` 1,000,000 (past the generator's streams) with `stream_seq` 1, 2, ... The client's bytes come first, unchanged.

use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::common::{fixture_config, run_captured};
use super::{post, wait_health};

const TOPIC: &str = "tutoring-calls";

/// Every record of `TOPIC`'s one partition, as text.
fn read_topic(bootstrap: &str, n: usize) -> Vec<String> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "kafka-gen-test-doc")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(TOPIC, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while out.len() < n && std::time::Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            out.push(String::from_utf8(m.payload().unwrap().to_vec()).unwrap());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documents_body_is_accepted_and_completed() {
    // Real tutoring calls, cut down to the document's body.
    let mut gen = fixture_config(5);
    gen.scenario = "tutoring".into();
    gen.data_dir = "/nonexistent/tutoring".into();
    gen.schedule.start = Some("2025-01-01T00:00:00Z".parse().unwrap());
    gen.schedule.count = Some(60);
    let (_, events) = run_captured(&gen).await;
    let bodies: Vec<String> = (events.iter())
        .filter(|e| e["event_type"] == "ib_call_logged")
        .take(3)
        .map(|e| {
            serde_json::json!({"event_type": e["event_type"], "payload": e["payload"]}).to_string()
        })
        .collect();
    assert_eq!(bodies.len(), 3);

    let mock = rdkafka::mocking::MockCluster::new(1).unwrap();
    for topic in [
        TOPIC,
        "tutoring-sessions",
        "tutoring-customer-health",
        "tutoring-supply-demand",
        "tutoring-tutor-availability",
    ] {
        mock.create_topic(topic, 1, 1).unwrap();
    }
    let bootstrap = mock.bootstrap_servers();
    let mut config = super::ingest_config(&bootstrap);
    config.scenario = "tutoring".into();
    config.data_dir = "/nonexistent/tutoring".into();
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
    tokio::time::sleep(Duration::from_millis(500)).await;
    if service.is_finished() {
        panic!("the service stopped: {:?}", service.await);
    }
    wait_health(&client, &base, 200).await;
    let url = format!("{base}/events");

    // With a UUID Idempotency-Key, twice: one record, whose id is the key.
    let key = "01941f29-7c00-7f4b-8a95-c9b3c9f9ddd5";
    for produced in [1, 0] {
        let r = client
            .post(&url)
            .header("idempotency-key", key)
            .header("content-type", "application/json")
            .body(bodies[0].clone())
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["produced"], produced, "{body}");
    }
    // Without a key, two in one array: each gets its own new id.
    let (status, body) = post(
        &client,
        &url,
        format!("[{},{}]", bodies[1], bodies[2]),
        "application/json",
    )
    .await;
    assert_eq!(
        (status, &body["produced"]),
        (200, &Value::from(2)),
        "{body}"
    );
    // Still refused: a body that is not the document's (no payload).
    let (status, body) = post(
        &client,
        &url,
        r#"{"event_type": "ib_call_logged"}"#.into(),
        "application/json",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("payload"),
        "{body}"
    );

    let b = bootstrap.clone();
    let records = tokio::task::spawn_blocking(move || read_topic(&b, 3))
        .await
        .unwrap();
    assert_eq!(records.len(), 3, "{records:?}");
    for (i, (record, body)) in records.iter().zip(&bodies).enumerate() {
        assert!(record.starts_with(&body[..body.len() - 1]), "{record}");
        let v: Value = serde_json::from_str(record).unwrap();
        assert_eq!(v["stream_id"], 1_000_000, "{record}");
        assert_eq!(v["stream_seq"], i as u64 + 1, "{record}");
        assert!(
            v["caused_by"].is_null() && v.get("caused_by").is_some(),
            "{record}"
        );
        let id = v["event_id"].as_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{record}");
        assert_eq!(i == 0, id == key, "{record}");
    }
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(30), service)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
