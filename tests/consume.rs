//! `kafka-gen consume` against a real Kafka-protocol broker (Tansu, in-memory): a clean
//! generator stream gives no violations and exit 0; a stream a test producer broke on purpose
//! gives the right kinds of violation, naming the broken events, and exit 1.
//!
//! The broker comes from `KAFKA_GEN_TEST_BROKER` (HOST:PORT, already running) or is started on
//! ports 19393 and 19394 with `scripts/dev-broker.sh`. Without `tansu` the test is skipped loudly, unless
//! `CI=true`, where that is a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::kafka::{broker, data_dir, totals, Generator};
use kafka_gen::scenario::retail::TYPES;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::ClientConfig;
use serde_json::Value;

/// A config naming fresh topics (so earlier runs on a shared broker do not count).
fn topics_config(dir: &Path, tag: &str) -> (PathBuf, Vec<String>) {
    let run = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let mut config = String::from("[kafka]\npartitions = 3\n[kafka.topics]\n");
    let mut topics = Vec::new();
    for t in TYPES {
        let topic = format!("{tag}-{run}-{}", t.default_topic);
        config.push_str(&format!("{} = \"{topic}\"\n", t.name));
        topics.push(topic);
    }
    let path = dir.join(format!("{tag}.toml"));
    std::fs::write(&path, config).unwrap();
    (path, topics)
}

/// Runs `kafka-gen consume --from-beginning --until-idle 3`; returns the exit code, the
/// summary JSON and the log.
fn consume(dir: &Path, bootstrap: &str, config: &Path, group: &str) -> (i32, Value, String) {
    consume_with(dir, bootstrap, config, group, &["--until-idle", "3"])
}

/// [`consume`] with other flags in place of `--until-idle 3`.
fn consume_with(
    dir: &Path,
    bootstrap: &str,
    config: &Path,
    group: &str,
    extra: &[&str],
) -> (i32, Value, String) {
    let summary = dir.join(format!("{group}.json"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_kafka-gen"));
    child
        .arg("consume")
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data_dir())
        .args(["--bootstrap-servers", bootstrap, "--group-id", group])
        .args(["--from-beginning", "--stats-interval", "1"])
        .arg("--summary-json")
        .arg(&summary)
        .args(extra)
        .env("RUST_LOG", "info,librdkafka=off")
        .env_remove("KAFKA_GEN_BOOTSTRAP_SERVERS");
    let out = run_bounded(child, Duration::from_secs(120));
    let log = String::from_utf8_lossy(&out.stderr).to_string();
    let summary: Value = std::fs::read_to_string(&summary)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| panic!("no consumer summary; log:\n{log}"));
    (out.status.code().unwrap_or(-1), summary, log)
}

/// Runs a command, killing it if it outlives `timeout`.
fn run_bounded(mut cmd: Command, timeout: Duration) -> Output {
    use std::process::Stdio;
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(timeout) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            let log = rx
                .recv_timeout(Duration::from_secs(10))
                .ok()
                .and_then(Result::ok)
                .map(|out| String::from_utf8_lossy(&out.stderr).to_string())
                .unwrap_or_default();
            panic!("process {pid} did not finish within {timeout:?}; log:\n{log}");
        }
    }
}

#[test]
fn a_clean_generator_stream_has_no_violations() {
    let Some((bootstrap, _broker)) = broker("19393") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = topics_config(dir.path(), "clean");
    let mut gen = Generator::spawn(
        dir.path(),
        &bootstrap,
        &[
            "--config",
            config.to_str().unwrap(),
            "--create-topics",
            "--seed",
            "11",
            "--start",
            "2025-01-01T00:00:00Z",
            "--count",
            "5000",
            "--stats-interval",
            "0",
        ],
    );
    let status = gen.wait(Duration::from_secs(120));
    assert_eq!(status.code(), Some(0), "log:\n{}", gen.log_text());
    let (generated, delivered, _, _) = totals(&gen.summary());
    assert_eq!(delivered, generated);

    // Issue 28: Tansu 0.6 answers a fetch that starts inside a record batch with the next
    // batch, so a partition that was paused and resumed (a fetch from the consumer position,
    // inside a batch) lost the rest of its batch there. The reorder buffer now stops reading a
    // partition's queue instead, which never re-fetches: a tiny buffer must read everything.
    let flags = ["--until-idle", "3", "--reorder-buffer", "25"];
    let (code, summary, log) = consume_with(dir.path(), &bootstrap, &config, "clean", &flags);
    assert_eq!(summary["records"], delivered, "log:\n{log}");
    assert_eq!(summary["violations"], 0, "{summary:#}\nlog:\n{log}");
    assert_eq!(code, 0, "log:\n{log}");
    assert!(log.contains("Consumer summary."), "{log}");
}

fn create_topics(bootstrap: &str, topics: &[String]) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let new: Vec<NewTopic> = topics
        .iter()
        .map(|t| NewTopic::new(t, 3, TopicReplication::Fixed(1)))
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for result in runtime
        .block_on(admin.create_topics(&new, &options))
        .unwrap()
    {
        result.unwrap();
    }
}

/// Events of a short generated stream, as JSON, in stream order.
fn generated_events(dir: &Path) -> Vec<Value> {
    let path = dir.join("events.jsonl");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kafka-gen"));
    cmd.arg("--data-dir")
        .arg(data_dir())
        .arg("--output")
        .arg(&path)
        .args(["--seed", "5", "--start", "2025-01-01T00:00:00Z"])
        .args(["--count", "400", "--stats-interval", "0"]);
    let out = run_bounded(cmd, Duration::from_secs(60));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn nth_of<'a>(events: &'a mut [Value], ty: &str, n: usize) -> &'a mut Value {
    events
        .iter_mut()
        .filter(|e| e["event_type"] == ty)
        .nth(n)
        .unwrap_or_else(|| panic!("fewer than {} {ty} events", n + 1))
}

#[test]
fn a_broken_stream_names_each_broken_rule_and_event() {
    let Some((bootstrap, _broker)) = broker("19394") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (config, topics) = topics_config(dir.path(), "broken");
    let mut events = generated_events(dir.path());

    // One fault of each kind, on events late enough that the world state is known.
    let stale = nth_of(&mut events, "sale", 150);
    stale["unit_price"] = Value::from(0.01);
    let stale_id = stale["event_id"].as_str().unwrap().to_string();
    let chain = nth_of(&mut events, "inventory_update", 120);
    chain["stock_after"] = Value::from(chain["stock_after"].as_i64().unwrap() + 7);
    let chain_id = chain["event_id"].as_str().unwrap().to_string();
    let unknown = nth_of(&mut events, "customer_event", 30);
    unknown["home_store_id"] = Value::from("ST-NOWHERE");
    let unknown_id = unknown["event_id"].as_str().unwrap().to_string();
    let dup = nth_of(&mut events, "customer_event", 40).clone();
    let dup_id = dup["event_id"].as_str().unwrap().to_string();
    events.push(dup);

    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .unwrap();
    create_topics(&bootstrap, &topics);
    for e in &events {
        let ty = TYPES
            .iter()
            .position(|t| e["event_type"] == t.name)
            .unwrap();
        let key = e[TYPES[ty].key_field].as_str().unwrap().to_string();
        let payload = e.to_string();
        producer
            .send(BaseRecord::to(&topics[ty]).key(&key).payload(&payload))
            .unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();

    // Tansu 0.6 reports high watermarks short of the last batch, so a partition can look
    // caught up while its last batch (the duplicate, with an old event time) is still to come;
    // a longer grace keeps the rest waiting for it, as a real broker's true watermark would.
    let flags = ["--until-idle", "5", "--reorder-grace", "10"];
    let (code, summary, log) = consume_with(dir.path(), &bootstrap, &config, "broken", &flags);
    assert_eq!(code, 1, "log:\n{log}");
    assert_eq!(summary["records"], events.len(), "log:\n{log}");
    let examples = &summary["examples"];
    for (rule, id) in [
        ("stale_price", &stale_id),
        ("stock_chain", &chain_id),
        ("unknown_reference", &unknown_id),
        ("duplicate_event_id", &dup_id),
    ] {
        let named = examples[rule].as_array().is_some_and(|list| {
            list.iter()
                .any(|e| e.as_str().is_some_and(|e| e.contains(id.as_str())))
        });
        assert!(named, "no {rule} violation naming {id}: {summary:#}");
    }
    // The duplicate goes last, with an old event time, so it is out of order in its own
    // partition: it is late unless another partition still holds the watermark below its time,
    // which depends on the stream's shape (issue 12's stream has none). Nothing else is late.
    assert!(summary["late_arrivals"].as_u64() <= Some(1), "{summary:#}");
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let run = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kafka-gen"));
        cmd.arg("consume")
            .arg("--data-dir")
            .arg(data_dir())
            .args(args)
            .env_remove("KAFKA_GEN_BOOTSTRAP_SERVERS");
        let out = run_bounded(cmd, Duration::from_secs(30));
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, err) = run(&["--until-idle", "-1"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--until-idle is -1"), "{err}");
    let (code, err) = run(&["--group-id", " "]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--group-id is empty"), "{err}");
    // An unreachable broker fails the run (exit 1): tests/exit_codes.rs.
}

/// librdkafka's mock cluster with the scenario's topics (3 partitions each) under fresh names.
/// Its consumer groups wait 3 s before the first assignment (Kafka's default
/// `group.initial.rebalance.delay.ms`), longer than the consumer's default 2 s reorder grace.
fn mock_with_topics(
    dir: &Path,
    tag: &str,
) -> (
    MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
    PathBuf,
) {
    let mock = MockCluster::new(1).unwrap();
    let (config, topics) = topics_config(dir, tag);
    for topic in &topics {
        mock.create_topic(topic, 3, 1).unwrap();
    }
    (mock, config)
}

/// Issue 10: a clean 2,000-primary run read with `--from-beginning` reported hundreds of
/// violations, because the reorder grace ran from process start while the group join took
/// longer, so the first partition read was released before the others had delivered.
#[test]
fn a_clean_run_read_after_a_slow_group_join_has_no_violations() {
    let dir = tempfile::tempdir().unwrap();
    let (mock, config) = mock_with_topics(dir.path(), "slowjoin");
    let bootstrap = mock.bootstrap_servers();
    let mut gen = Generator::spawn(
        dir.path(),
        &bootstrap,
        &[
            "--config",
            config.to_str().unwrap(),
            "--seed",
            "12",
            "--start",
            "2025-01-01T00:00:00Z",
            "--count",
            "2000",
            "--stats-interval",
            "0",
        ],
    );
    let status = gen.wait(Duration::from_secs(120));
    assert_eq!(status.code(), Some(0), "log:\n{}", gen.log_text());
    let (generated, delivered, _, _) = totals(&gen.summary());
    assert_eq!(delivered, generated);

    let (code, summary, log) = consume(dir.path(), &bootstrap, &config, "slowjoin");
    assert_eq!(summary["records"], delivered, "log:\n{log}");
    assert_eq!(summary["violations"], 0, "{summary:#}\nlog:\n{log}");
    assert_eq!(summary["late_arrivals"], 0, "{summary:#}");
    assert_eq!(code, 0, "log:\n{log}");
}

/// Issue 10: `--until-idle` counted idle time before any partition was assigned, so a slow
/// group join ended the run with `records=0 violations=0` and exit 0.
#[test]
fn idle_time_counts_only_after_the_assignment() {
    let dir = tempfile::tempdir().unwrap();
    let (mock, config) = mock_with_topics(dir.path(), "idle");
    let bootstrap = mock.bootstrap_servers();
    let events = generated_events(dir.path());
    let topics: Vec<String> = std::fs::read_to_string(&config)
        .unwrap()
        .lines()
        .filter_map(|l| {
            l.split_once(" = \"")
                .map(|(_, t)| t.trim_end_matches('"').to_string())
        })
        .collect();
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .unwrap();
    for e in &events {
        let ty = TYPES
            .iter()
            .position(|t| e["event_type"] == t.name)
            .unwrap();
        let key = e[TYPES[ty].key_field].as_str().unwrap().to_string();
        let payload = e.to_string();
        producer
            .send(BaseRecord::to(&topics[ty]).key(&key).payload(&payload))
            .unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();

    // The join takes 3 s; the idle time is 1 s.
    let (code, summary, log) = consume_with(
        dir.path(),
        &bootstrap,
        &config,
        "idle",
        &["--until-idle", "1"],
    );
    assert_eq!(summary["records"], events.len(), "log:\n{log}");
    assert_eq!(summary["violations"], 0, "{summary:#}\nlog:\n{log}");
    assert_eq!(code, 0, "log:\n{log}");
}

/// A consumer that is never assigned a partition must not pass as clean: exit 1, saying why.
#[test]
fn a_consumer_never_assigned_a_partition_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (mock, config) = mock_with_topics(dir.path(), "unassigned");
    let bootstrap = mock.bootstrap_servers();
    // Every attempt to join the group fails, for longer than the test runs.
    mock.request_errors(
        RDKafkaApiKey::JoinGroup,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS; 1000],
    );
    let (code, summary, log) = consume_with(
        dir.path(),
        &bootstrap,
        &config,
        "unassigned",
        &["--until-idle", "1", "--topic-wait", "3"],
    );
    assert_eq!(summary["records"], 0, "log:\n{log}");
    assert_eq!(code, 1, "log:\n{log}");
    assert!(
        log.contains("no partition was assigned to group unassigned"),
        "{log}"
    );
}

/// Issue 28 (item 12): a fatal client error, such as a static member fenced by another with
/// the same `group.instance.id`, was logged and the consumer read on; with `--until-idle` it
/// then went idle and passed as clean (exit 0). It must stop at once with exit 1, saying why.
#[test]
fn a_fatal_consumer_error_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let (mock, config) = mock_with_topics(dir.path(), "fenced");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("[kafka.librdkafka]\n\"group.instance.id\" = \"checker-1\"\n");
    std::fs::write(&config, text).unwrap();
    // The first heartbeat after the join says another member took this instance id.
    mock.request_errors(
        RDKafkaApiKey::Heartbeat,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID],
    );
    let started = std::time::Instant::now();
    let (code, _summary, log) = consume_with(
        dir.path(),
        &mock.bootstrap_servers(),
        &config,
        "fenced",
        &["--until-idle", "20"],
    );
    assert_eq!(code, 1, "log:\n{log}");
    assert!(log.contains("stopped on a fatal error"), "{log}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "it waited for the idle time: {:?}",
        started.elapsed()
    );
}

/// Issue 28: a backfill's topics lie days apart in event time, and a reorder buffer far
/// smaller than that gap forced records out of order (a clean stream got tens of thousands of
/// violations). With flow control the partitions ahead are not read: a buffer of 25
/// records per partition still checks two weeks of history clean, reading everything.
#[test]
fn a_backfill_read_through_a_tiny_reorder_buffer_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    let (mock, config) = mock_with_topics(dir.path(), "backfill");
    let bootstrap = mock.bootstrap_servers();
    let mut gen = Generator::spawn(
        dir.path(),
        &bootstrap,
        &[
            "--config",
            config.to_str().unwrap(),
            "--seed",
            "13",
            "--start",
            "2025-01-01T00:00:00Z",
            "--end",
            "2025-01-15T00:00:00Z",
            "--events-per-day",
            "200",
            "--stats-interval",
            "0",
        ],
    );
    let status = gen.wait(Duration::from_secs(120));
    assert_eq!(status.code(), Some(0), "log:\n{}", gen.log_text());
    let (generated, delivered, _, _) = totals(&gen.summary());
    assert_eq!(delivered, generated);

    let flags = ["--until-idle", "3", "--reorder-buffer", "25"];
    let (code, summary, log) = consume_with(dir.path(), &bootstrap, &config, "backfill", &flags);
    assert_eq!(summary["records"], delivered, "log:\n{log}");
    assert_eq!(summary["violations"], 0, "{summary:#}\nlog:\n{log}");
    assert_eq!(summary["late_arrivals"], 0, "{summary:#}");
    assert_eq!(summary["unchecked"], 0, "{summary:#}");
    assert_eq!(code, 0, "log:\n{log}");
}
