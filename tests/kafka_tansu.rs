//! End to end against a real Kafka-protocol broker (Tansu, in-memory), checked by an
//! independent client (`scripts/check_topics.py`, confluent-kafka from PyPI).
//!
//! The broker comes from `KAFKA_GEN_TEST_BROKER` (HOST:PORT, already running) or is started on
//! port 19092 with `scripts/dev-broker.sh`. Without `tansu` or the Python client the test is
//! skipped loudly, unless `CI=true`, where that is a failure.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::kafka::{broker, totals, Generator};
use kafka_gen::scenario::retail::TYPES;

const TEST_PORT: &str = "19092";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Fails under CI, skips (with a loud note) elsewhere. Returns false when skipping.
fn require(ok: bool, what: &str) -> bool {
    if ok {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} is required under CI=true; run scripts/dev-broker.sh install / pip install confluent-kafka");
    }
    eprintln!(
        "\n*** SKIPPED kafka_tansu: {what} is missing (set CI=true to make this a failure) ***\n"
    );
    false
}

fn python_client_available() -> bool {
    Command::new("python3")
        .args(["-c", "import confluent_kafka"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn hundred_thousand_events_arrive_as_specified() {
    // The shared helper starts Tansu on TEST_PORT (or uses KAFKA_GEN_TEST_BROKER); it skips
    // loudly without tansu, and fails under CI=true.
    let Some((bootstrap, _broker)) = broker(TEST_PORT) else {
        return;
    };
    if !require(python_client_available(), "python3 with confluent-kafka") {
        return;
    }

    // Unique topics, so a shared broker's earlier runs do not count.
    let run = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let dir = tempfile::tempdir().unwrap();
    let mut config = String::from("[kafka]\npartitions = 3\n[kafka.topics]\n");
    let mut type_args = Vec::new();
    for t in TYPES {
        let topic = format!("e2e-{run}-{}", t.default_topic);
        config.push_str(&format!("{} = \"{topic}\"\n", t.name));
        type_args.push(format!("{}:{topic}:{}", t.name, t.key_field));
    }
    let config_path = dir.path().join("c.toml");
    std::fs::write(&config_path, config).unwrap();

    let mut gen = Generator::spawn(
        dir.path(),
        &bootstrap,
        &[
            "--config",
            config_path.to_str().unwrap(),
            "--create-topics",
            "--seed",
            "7",
            "--start",
            "2025-01-01T00:00:00Z",
            "--count",
            "100000",
            "--rate",
            "1000000",
            "--stats-interval",
            "0",
        ],
    );
    let status = gen.wait(Duration::from_secs(300));
    assert_eq!(status.code(), Some(0), "log:\n{}", gen.log_text());
    let (generated, delivered, failed, in_flight) = totals(&gen.summary());
    assert_eq!((delivered, failed, in_flight), (generated, 0, 0));
    assert!(generated >= 100_000);

    let mut check = Command::new("python3");
    check
        .arg(repo().join("scripts/check_topics.py"))
        .args(["--bootstrap", &bootstrap])
        .arg("--summary")
        .arg(dir.path().join("summary.json"))
        .args([
            "--producer",
            concat!("kafka-gen/", env!("CARGO_PKG_VERSION")),
        ]);
    for t in &type_args {
        check.args(["--type", t]);
    }
    let out = check.output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{report}");
    assert!(out.status.success(), "independent check failed:\n{report}");
}
