//! Helpers shared by the Kafka tests: running the binary, watching its log, reading its
//! summary and dead-letter file, and consuming every topic with an rdkafka consumer.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde_json::Value;

pub const TOPICS: [&str; 5] = [
    "retail-sales-transactions",
    "retail-inventory-updates",
    "retail-customer-events",
    "retail-price-changes",
    "retail-restock-alerts",
];

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// A running `kafka-gen` whose stderr is collected line by line.
pub struct Generator {
    pub child: Child,
    lines: Receiver<String>,
    pub log: Vec<String>,
    pub dir: PathBuf,
}

impl Generator {
    /// Starts the binary with `--data-dir`, `--summary-json` and `--dead-letter` in `dir`.
    pub fn spawn(dir: &Path, bootstrap: &str, args: &[&str]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kafka-gen"));
        command
            .arg("--data-dir")
            .arg(data_dir())
            .args(["--sink", "kafka", "--bootstrap-servers", bootstrap])
            .arg("--summary-json")
            .arg(dir.join("summary.json"))
            .arg("--dead-letter")
            .arg(dir.join("dead-letter.jsonl"))
            .args(args);
        let mut gen = Self::spawn_command(&mut command);
        gen.dir = dir.to_path_buf();
        gen
    }

    /// Starts `command` (any subcommand) with its stderr collected as [`Generator::spawn`] does.
    pub fn spawn_command(command: &mut Command) -> Self {
        let mut child = command
            .env("RUST_LOG", "info,librdkafka=off")
            .env_remove("KAFKA_GEN_BOOTSTRAP_SERVERS")
            // The test's own variable; kafka-gen rejects unknown KAFKA_GEN_* names.
            .env_remove("KAFKA_GEN_TEST_BROKER")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            log: Vec::new(),
            dir: PathBuf::new(),
        }
    }

    /// Sends SIGTERM to the process.
    pub fn sigterm(&self) {
        let pid = i32::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    }

    /// Waits (bounded) for a log line containing `needle`.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(50)) {
                let hit = line.contains(needle);
                self.log.push(line);
                if hit {
                    return;
                }
            }
        }
        panic!(
            "no log line with {needle:?} within {timeout:?}; log so far:\n{}",
            self.log.join("\n")
        );
    }

    /// Waits (bounded) for the process to exit; kills it on timeout.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            while let Ok(line) = self.lines.try_recv() {
                self.log.push(line);
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                // The reader thread ends with the pipe; drain what is left.
                while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.log.push(line);
                }
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "kafka-gen did not exit within {timeout:?}; log:\n{}",
                    self.log.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        self.log.join("\n")
    }

    pub fn summary(&self) -> Value {
        let text = std::fs::read_to_string(self.dir.join("summary.json"))
            .unwrap_or_else(|e| panic!("no summary ({e}); log:\n{}", self.log_text()));
        serde_json::from_str(&text).unwrap()
    }

    /// Event ids in the dead-letter file (empty when it was never created).
    pub fn dead_letters(&self) -> Vec<String> {
        self.dead_letter_lines()
            .iter()
            .map(|l| l["event"]["event_id"].as_str().unwrap().to_string())
            .collect()
    }

    /// The dead-letter file's lines, parsed; every line must be whole JSON.
    pub fn dead_letter_lines(&self) -> Vec<Value> {
        match std::fs::read_to_string(self.dir.join("dead-letter.jsonl")) {
            Ok(text) => {
                assert!(text.is_empty() || text.ends_with('\n'), "a cut last line");
                text.lines()
                    .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
                    .collect()
            }
            Err(_) => Vec::new(),
        }
    }
}

/// The kafka sink's `unknown_total` from a summary (0 when the summary has none).
pub fn unknown_total(summary: &Value) -> u64 {
    summary["sinks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "kafka")
        .and_then(|s| s["unknown_total"].as_u64())
        .unwrap_or(0)
}

pub fn event_id(json: &str) -> String {
    let v: Value = serde_json::from_str(json).unwrap();
    v["event_id"].as_str().unwrap().to_string()
}

/// The kafka sink's totals from a summary: (generated, delivered, failed, in_flight).
pub fn totals(summary: &Value) -> (u64, u64, u64, u64) {
    let kafka = summary["sinks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "kafka")
        .unwrap();
    (
        summary["generated_total"].as_u64().unwrap(),
        kafka["delivered_total"].as_u64().unwrap(),
        kafka["failed_total"].as_u64().unwrap(),
        kafka["in_flight_total"].as_u64().unwrap(),
    )
}

/// Every record of every topic, from the beginning to the high watermarks, as (topic, event_id).
/// One record read back: where it sits and which event it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub id: String,
}

/// Every record of `topics` up to the high watermarks, as (topic, event_id) pairs.
pub fn consume_all(bootstrap: &str, topics: &[&str]) -> Vec<(String, String)> {
    consume_all_at(bootstrap, topics)
        .into_iter()
        .map(|r| (r.topic, r.id))
        .collect()
}

/// Every record of `topics` up to the high watermarks, with its position.
pub fn consume_all_at(bootstrap: &str, topics: &[&str]) -> Vec<Read> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "kafka-gen-test")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let timeout = Duration::from_secs(10);
    let mut tpl = TopicPartitionList::new();
    let mut ends: HashMap<(String, i32), i64> = HashMap::new();
    for topic in topics {
        let md = consumer.fetch_metadata(Some(topic), timeout).unwrap();
        for p in md.topics()[0].partitions() {
            let (low, high) = consumer.fetch_watermarks(topic, p.id(), timeout).unwrap();
            if high > low {
                ends.insert((topic.to_string(), p.id()), high);
                tpl.add_partition_offset(topic, p.id(), Offset::Beginning)
                    .unwrap();
            }
        }
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !ends.is_empty() {
        assert!(
            Instant::now() < deadline,
            "consuming stalled; unread partitions: {ends:?}"
        );
        let Some(msg) = consumer.poll(Duration::from_millis(500)) else {
            continue;
        };
        let msg = msg.unwrap();
        let payload = std::str::from_utf8(msg.payload().unwrap()).unwrap();
        out.push(Read {
            topic: msg.topic().to_string(),
            partition: msg.partition(),
            offset: msg.offset(),
            id: event_id(payload),
        });
        let key = (msg.topic().to_string(), msg.partition());
        if ends.get(&key).is_some_and(|end| msg.offset() + 1 >= *end) {
            ends.remove(&key);
        }
    }
    out
}

/// Asserts no event id appears twice and returns how many records there were.
pub fn assert_no_duplicates(records: &[(String, String)]) -> u64 {
    let mut seen = std::collections::HashSet::new();
    for (topic, id) in records {
        assert!(
            seen.insert(id.clone()),
            "event {id} arrived twice (topic {topic})"
        );
    }
    records.len() as u64
}

/// A broker this test started; stopped on drop, by pid (the script's pid file).
pub struct Broker(tempfile::TempDir, &'static str);

impl Broker {
    fn script(&self, action: &str) -> Output {
        Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/dev-broker.sh"))
            .arg(action)
            .env("PORT", self.1)
            .env("STATE_DIR", self.0.path())
            .output()
            .unwrap()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.script("stop");
    }
}

/// The broker address, or None to skip. Each test starts its own broker on its own port.
pub fn broker(port: &'static str) -> Option<(String, Option<Broker>)> {
    if let Ok(addr) = std::env::var("KAFKA_GEN_TEST_BROKER") {
        return Some((addr, None));
    }
    let home_bin = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/tansu"));
    let have = Command::new("tansu")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
        || home_bin.is_some_and(|p| p.exists());
    if !have {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("tansu is required under CI=true; run scripts/dev-broker.sh install");
        }
        eprintln!("\n*** SKIPPED: tansu is missing (set CI=true to make this a failure) ***\n");
        return None;
    }
    let broker = Broker(tempfile::tempdir().unwrap(), port);
    let out = broker.script("start");
    assert!(
        out.status.success(),
        "broker start failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some((format!("127.0.0.1:{port}"), Some(broker)))
}

/// Every record of `topics` from the beginning, read until the topics have been quiet for
/// `quiet` (Tansu 0.6 reports high watermarks short of the last batch, so they cannot say when
/// to stop). Returns (topic, event_id) pairs.
pub fn consume_until_quiet(
    bootstrap: &str,
    topics: &[&str],
    quiet: Duration,
) -> Vec<(String, String)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "kafka-gen-test-quiet")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let timeout = Duration::from_secs(10);
    let mut tpl = TopicPartitionList::new();
    for topic in topics {
        let md = consumer.fetch_metadata(Some(topic), timeout).unwrap();
        for p in md.topics()[0].partitions() {
            tpl.add_partition_offset(topic, p.id(), Offset::Beginning)
                .unwrap();
        }
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = Instant::now();
    while last.elapsed() < quiet {
        assert!(Instant::now() < deadline, "consuming did not go quiet");
        if let Some(msg) = consumer.poll(Duration::from_millis(200)) {
            let msg = msg.unwrap();
            let payload = std::str::from_utf8(msg.payload().unwrap()).unwrap();
            out.push((msg.topic().to_string(), event_id(payload)));
            last = Instant::now();
        }
    }
    out
}
