//! Stopping with the broker down, the dead-letter file's labels and counts, and replaying it
//! (issue 10, "Signals, counts and the dead-letter file"), against librdkafka's in-process
//! mock cluster. Waits are I/O on a real (mock) broker, bounded.

mod common;

use std::collections::HashSet;
use std::process::Command;
use std::time::{Duration, Instant};

use common::kafka::{assert_no_duplicates, consume_all, totals, unknown_total, Generator, TOPICS};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use serde_json::Value;

const READY: &str = "Kafka sink ready.";
const EXIT_WAIT: Duration = Duration::from_secs(120);

fn cluster() -> MockCluster<'static, DefaultProducerContext> {
    let mock = MockCluster::new(1).unwrap();
    for topic in TOPICS {
        mock.create_topic(topic, 3, 1).unwrap();
    }
    mock
}

/// Every event is delivered, failed or unknown; the file holds exactly the failed and unknown
/// ones, each once, labelled with its sink, topic, key, outcome and error.
fn assert_counts_match_the_file(gen: &Generator) -> (u64, u64, u64) {
    let summary = gen.summary();
    let (generated, delivered, failed, in_flight) = totals(&summary);
    let unknown = unknown_total(&summary);
    assert_eq!(
        (delivered + failed + unknown, in_flight),
        (generated, 0),
        "log:\n{}",
        gen.log_text()
    );
    let lines = gen.dead_letter_lines();
    let count = |outcome: &str| lines.iter().filter(|l| l["outcome"] == outcome).count() as u64;
    assert_eq!((count("failed"), count("unknown")), (failed, unknown));
    let ids: HashSet<String> = gen.dead_letters().into_iter().collect();
    assert_eq!(ids.len(), lines.len(), "an event was dead-lettered twice");
    for l in &lines {
        assert_eq!(l["sink"], "kafka", "{l}");
        assert!(TOPICS.contains(&l["topic"].as_str().unwrap()), "{l}");
        assert!(!l["key"].as_str().unwrap().is_empty(), "{l}");
        assert!(!l["error"].as_str().unwrap().is_empty(), "{l}");
        assert!(l["headers"]["event_type"].is_string(), "{l}");
    }
    (delivered, failed, unknown)
}

/// SIGTERM while the broker is down and librdkafka's queue is full: the stop reaches the
/// flush, the run ends within the flush timeout plus a bound, and everything undelivered is
/// counted and dead-lettered. Before the fix `send` retried QueueFull for ever.
#[test]
fn sigterm_with_a_full_queue_flushes_and_dead_letters_within_the_timeout() {
    let mock = cluster();
    let bootstrap = mock.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "[kafka]\nqueue_max_messages = 5000\n").unwrap();
    let flush_timeout = Duration::from_secs(3);
    let mut gen = Generator::spawn(
        dir.path(),
        &bootstrap,
        &[
            "--config",
            config.to_str().unwrap(),
            "--seed",
            "7",
            "--rate",
            "50000",
            "--flush-timeout",
            "3",
            "--stats-interval",
            "0",
        ],
    );
    gen.wait_for(READY, Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(500));
    mock.broker_down(-1).unwrap();
    // The queue holds 5,000: full within a second at anything near 50,000/s.
    std::thread::sleep(Duration::from_secs(3));
    let stopped = Instant::now();
    gen.sigterm();
    let status = gen.wait(EXIT_WAIT);
    let took = stopped.elapsed();
    // The flush timeout, the 5 s allowed for purged records to report back, and slack for a
    // loaded machine.
    let bound = flush_timeout + Duration::from_secs(10);
    eprintln!("SIGTERM to exit: {took:?}");
    assert!(took <= bound, "exit took {took:?} (bound {bound:?})");
    assert_eq!(status.code(), Some(1), "log:\n{}", gen.log_text());
    assert_eq!(gen.summary()["stop"], "cancelled");
    let (_, failed, unknown) = assert_counts_match_the_file(&gen);
    assert!(
        failed + unknown >= 4000,
        "failed {failed}, unknown {unknown}"
    );
    eprintln!("dead-lettered: failed {failed}, unknown {unknown}");
    assert!(
        gen.log_text().contains("Summary."),
        "log:\n{}",
        gen.log_text()
    );
}

/// Dead-lettered events replayed with `kafka-gen replay` arrive once each; `unknown` ones are
/// skipped unless asked for.
#[test]
fn replay_sends_the_failed_dead_letters_to_their_topics_once() {
    let mock = cluster();
    let bootstrap = mock.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "[kafka]\nmessage_timeout_ms = 1500\n").unwrap();
    let mut gen = Generator::spawn(
        dir.path(),
        &bootstrap,
        &[
            "--config",
            config.to_str().unwrap(),
            "--seed",
            "8",
            "--rate",
            "2000",
            "--duration",
            "3s",
            "--flush-timeout",
            "10",
            "--stats-interval",
            "0",
        ],
    );
    gen.wait_for(READY, Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(800));
    mock.broker_down(-1).unwrap();
    assert_eq!(
        gen.wait(EXIT_WAIT).code(),
        Some(1),
        "log:\n{}",
        gen.log_text()
    );
    let (delivered, failed, unknown) = assert_counts_match_the_file(&gen);
    assert!(failed > 0, "nothing failed; log:\n{}", gen.log_text());
    mock.broker_up(-1).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_kafka-gen"))
        .arg("replay")
        .arg(dir.path().join("dead-letter.jsonl"))
        .args(["--bootstrap-servers", &bootstrap])
        .env("RUST_LOG", "info,librdkafka=off")
        .env_remove("KAFKA_GEN_BOOTSTRAP_SERVERS")
        .env_remove("KAFKA_GEN_TEST_BROKER")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(log.contains(&format!("replayed={failed}")), "{log}");
    assert!(log.contains(&format!("skipped_unknown={unknown}")), "{log}");

    let records = consume_all(&bootstrap, &TOPICS);
    let on_topic = assert_no_duplicates(&records);
    assert!(
        (delivered + failed..=delivered + failed + unknown).contains(&on_topic),
        "{on_topic} on the topics; delivered {delivered}, replayed {failed}, unknown {unknown}"
    );
    let ids: HashSet<&str> = records.iter().map(|(_, id)| id.as_str()).collect();
    for line in gen.dead_letter_lines() {
        let id = line["event"]["event_id"].as_str().unwrap();
        if line["outcome"] == "failed" {
            assert!(ids.contains(id), "replayed {id} is not on the topics");
        }
    }
}

/// A dead-letter file on a full device: one error line and one total, not one per event, and
/// the run still ends with its summary.
#[test]
fn a_full_dead_letter_device_logs_once_with_a_total() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    let mock = cluster();
    let bootstrap = mock.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "[kafka]\nmessage_timeout_ms = 1000\n").unwrap();
    // The generator writes its dead letters to dir/dead-letter.jsonl: make that the full device.
    std::os::unix::fs::symlink("/dev/full", dir.path().join("dead-letter.jsonl")).unwrap();
    let mut gen = Generator::spawn(
        dir.path(),
        &bootstrap,
        &[
            "--config",
            config.to_str().unwrap(),
            "--seed",
            "9",
            "--rate",
            "3000",
            "--duration",
            "2s",
            "--stats-interval",
            "0",
        ],
    );
    gen.wait_for(READY, Duration::from_secs(20));
    mock.broker_down(-1).unwrap();
    assert_eq!(
        gen.wait(EXIT_WAIT).code(),
        Some(1),
        "log:\n{}",
        gen.log_text()
    );
    let summary: Value = gen.summary();
    let (_, _, failed, _) = totals(&summary);
    let lost = failed + unknown_total(&summary);
    assert!(lost > 100, "log:\n{}", gen.log_text());
    let log = gen.log_text();
    assert_eq!(
        log.matches("Cannot write to the dead-letter file").count(),
        1,
        "log:\n{log}"
    );
    assert!(log.contains(&format!("lost={lost}")), "log:\n{log}");
}
