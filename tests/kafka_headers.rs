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
    let records = read_back(&bootstrap);
    assert!(records.len() >= 40, "{} records", records.len());
    records
}

/// Every record on the scenario's topics: its event type (from the payload) and its headers
/// as (key, value) text.
fn read_back(bootstrap: &str) -> Vec<(String, Vec<(String, String)>)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
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

/// The ingest service honours the same setting (issue 10: it always sent all four headers):
/// `--kafka-headers event_type` on its command line, `KAFKA_GEN_KAFKA_HEADERS=none` from the
/// environment. Events posted to the real binary are read back from the mock cluster.
#[test]
fn ingest_honours_the_header_set() {
    let events = std::process::Command::new(common::kafka_gen_bin())
        .arg("--data-dir")
        .arg(data_dir())
        .args(["--sink", "stdout", "--seed", "4", "--count", "20"])
        .args(["--start", "2025-01-01T00:00:00Z", "--stats-interval", "0"])
        .output()
        .unwrap();
    assert!(events.status.success(), "{}", common::stderr(&events));
    let body = String::from_utf8(events.stdout).unwrap();
    let posted = body.lines().count();
    for (args, env, want) in [
        (&[][..], Some(("KAFKA_GEN_KAFKA_HEADERS", "none")), 0),
        (&["--kafka-headers", "event_type"][..], None, 1),
        (&[][..], None, 4),
    ] {
        let mock = cluster();
        let bootstrap = mock.bootstrap_servers();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen = format!("127.0.0.1:{port}");
        let mut command = std::process::Command::new(common::kafka_gen_bin());
        command
            .args([
                "ingest",
                "--listen",
                &listen,
                "--bootstrap-servers",
                &bootstrap,
            ])
            .args(args)
            .envs(env);
        let mut ingest = common::kafka::Generator::spawn_command(&mut command);
        ingest.wait_for("Ingest API ready.", Duration::from_secs(20));
        let status = post_ndjson(&listen, &body);
        assert!(
            status.starts_with("HTTP/1.1 200"),
            "{status}\nlog:\n{}",
            ingest.log_text()
        );
        ingest.sigterm();
        assert!(
            ingest.wait(Duration::from_secs(30)).success(),
            "{}",
            ingest.log_text()
        );
        let records = read_back(&bootstrap);
        assert_eq!(records.len(), posted);
        for (event_type, headers) in records {
            assert_eq!(headers.len(), want, "{args:?} {env:?}: {headers:?}");
            if want > 0 {
                assert_eq!(headers[0], ("event_type".to_string(), event_type));
            }
        }
    }
}

/// POSTs `body` as NDJSON to the ingest API at `addr`; returns the response's status line.
fn post_ndjson(addr: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST /events HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-ndjson\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.lines().next().unwrap_or_default().to_string()
}
