//! `--kafka-headers` (issue 10): each header set puts exactly the promised headers on every
//! record. The real binary produces into librdkafka's in-process mock cluster; an rdkafka
//! consumer reads every record back with its headers.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::kafka::{data_dir, TOPICS};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

fn cluster() -> MockCluster<'static, DefaultProducerContext> {
    let mock = MockCluster::new(1).unwrap();
    for topic in TOPICS {
        mock.create_topic(topic, 1, 1).unwrap();
    }
    mock
}

/// Runs kafka-gen for 40 primaries into a fresh mock cluster with `args` and `env`, then
/// returns each record's event type (from the payload) and its headers as (key, value) text.
fn produce(args: &[&str], env: &[(&str, &str)]) -> Vec<(String, Vec<(String, String)>)> {
    let mock = cluster();
    let bootstrap = mock.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(common::kafka_gen_bin())
        .arg("--data-dir")
        .arg(data_dir())
        .args(["--sink", "kafka", "--bootstrap-servers", &bootstrap])
        .args([
            "--seed",
            "4",
            "--start",
            "2025-01-01T00:00:00Z",
            "--count",
            "40",
        ])
        .args(["--stats-interval", "0"])
        .arg("--dead-letter")
        .arg(dir.path().join("dead-letter.jsonl"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("KAFKA_GEN_BOOTSTRAP_SERVERS")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("group.id", "kafka-gen-headers-test")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let timeout = Duration::from_secs(10);
    let mut tpl = TopicPartitionList::new();
    let mut ends = HashMap::new();
    for topic in TOPICS {
        let (low, high) = consumer.fetch_watermarks(topic, 0, timeout).unwrap();
        if high > low {
            ends.insert(topic.to_string(), high);
            tpl.add_partition_offset(topic, 0, Offset::Beginning)
                .unwrap();
        }
    }
    consumer.assign(&tpl).unwrap();
    let mut records = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ends.is_empty() {
        assert!(Instant::now() < deadline, "consuming stalled: {ends:?}");
        let Some(msg) = consumer.poll(Duration::from_millis(500)) else {
            continue;
        };
        let msg = msg.unwrap();
        let payload: serde_json::Value = serde_json::from_slice(msg.payload().unwrap()).unwrap();
        let headers = msg.headers().map_or_else(Vec::new, |h| {
            h.iter()
                .map(|h| {
                    let value = String::from_utf8(h.value.unwrap_or_default().to_vec()).unwrap();
                    (h.key.to_string(), value)
                })
                .collect()
        });
        records.push((payload["event_type"].as_str().unwrap().to_string(), headers));
        if ends
            .get(msg.topic())
            .is_some_and(|end| msg.offset() + 1 >= *end)
        {
            ends.remove(msg.topic());
        }
    }
    assert!(records.len() >= 40, "{} records", records.len());
    records
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn all_is_the_default_and_carries_the_four_headers() {
    let producer = format!("kafka-gen/{}", env!("CARGO_PKG_VERSION"));
    for records in [produce(&[], &[]), produce(&["--kafka-headers", "all"], &[])] {
        for (event_type, headers) in records {
            let want = owned(&[
                ("event_type", &event_type),
                ("schema_version", "1"),
                ("content-type", "application/json"),
                ("producer", &producer),
            ]);
            assert_eq!(headers, want);
        }
    }
}

#[test]
fn event_type_carries_only_the_event_type() {
    for records in [
        produce(&["--kafka-headers", "event_type"], &[]),
        produce(&[], &[("KAFKA_GEN_KAFKA_HEADERS", "event_type")]),
    ] {
        for (event_type, headers) in records {
            assert_eq!(headers, owned(&[("event_type", &event_type)]));
        }
    }
}

#[test]
fn none_carries_no_headers() {
    for (_, headers) in produce(&["--kafka-headers", "none"], &[]) {
        assert!(headers.is_empty(), "{headers:?}");
    }
}

#[test]
fn an_unknown_header_set_is_a_usage_error() {
    common::expect_usage_error(&["--kafka-headers", "some"], "some");
    let out = std::process::Command::new(common::kafka_gen_bin())
        .args(["--sink", "null", "--count", "1"])
        .env("KAFKA_GEN_KAFKA_HEADERS", "some")
        .output()
        .unwrap();
    let err = common::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("KAFKA_GEN_KAFKA_HEADERS") && err.contains("event_type"),
        "{err}"
    );
}
