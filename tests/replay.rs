//! `kafka-gen replay` stopped by a signal (issue 10): it stops reading the file, flushes what
//! it handed to the producer, and reports true counts, every line of the file in exactly one
//! of them, then exits 0 or 1 as the generator does. Before, SIGTERM killed it with no summary.
//! Against librdkafka's in-process mock cluster; waits are bounded I/O.

mod common;

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use common::kafka::{assert_no_duplicates, consume_all, Generator};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::ClientConfig;

const TOPIC: &str = "retail-sales-transactions";
const LINES: u64 = 200_000;

/// A dead-letter file of `LINES` failed Kafka lines for `TOPIC`, each a distinct event id.
fn dead_letter_file(path: &std::path::Path) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..LINES {
        writeln!(
            out,
            r#"{{"sink":"kafka","topic":"{TOPIC}","key":"S{k:03}","outcome":"failed","error":"test","headers":{{"event_type":"sale"}},"timestamp_ms":1767225600000,"event":{{"event_id":"00000000-0000-0000-0000-{i:012}","event_type":"sale"}}}}"#,
            k = i % 50
        )
        .unwrap();
    }
}

/// Waits (bounded) until `TOPIC` holds at least `n` records.
fn wait_for_records(bootstrap: &str, n: i64) {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let total: i64 = (0..3)
            .map(|p| {
                consumer
                    .fetch_watermarks(TOPIC, p, Duration::from_secs(5))
                    .map_or(0, |(low, high)| high - low)
            })
            .sum();
        if total >= n {
            return;
        }
        assert!(Instant::now() < deadline, "only {total} records arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The `key=N` field of the "Replay done." line.
fn field(log: &str, key: &str) -> u64 {
    let line = log
        .lines()
        .find(|l| l.contains("Replay done."))
        .unwrap_or_else(|| panic!("no summary line; log:\n{log}"));
    let start = line
        .find(&format!(" {key}="))
        .unwrap_or_else(|| panic!("no {key} in {line}"))
        + key.len()
        + 2;
    line[start..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// SIGTERM while the broker is down and the producer's queue is full: the replay stops within
/// the flush timeout plus a bound, prints its summary, and what it calls replayed is what is on
/// the topic.
#[test]
fn sigterm_stops_a_replay_with_its_summary_and_true_counts() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic(TOPIC, 3, 1).unwrap();
    let bootstrap = mock.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dead-letter.jsonl");
    dead_letter_file(&file);
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "[kafka]\nqueue_max_messages = 2000\n").unwrap();
    let flush_timeout = Duration::from_secs(2);

    let mut replay = Generator::spawn_command(
        Command::new(env!("CARGO_BIN_EXE_kafka-gen"))
            .arg("replay")
            .arg(&file)
            .arg("--config")
            .arg(&config)
            .args(["--bootstrap-servers", &bootstrap])
            .args(["--flush-timeout", "2"]),
    );
    replay.wait_for("Replaying.", Duration::from_secs(20));
    // Down once some records have arrived, long before all of them.
    wait_for_records(&bootstrap, 1000);
    mock.broker_down(-1).unwrap();
    // 2,000 queued at most: the queue is full well within this.
    std::thread::sleep(Duration::from_secs(2));
    let stopped = Instant::now();
    replay.sigterm();
    let status = replay.wait(Duration::from_secs(60));
    let took = stopped.elapsed();
    let log = replay.log_text();
    // The flush timeout, the 5 s allowed for purged records to report back, and slack.
    let bound = flush_timeout + Duration::from_secs(10);
    assert!(
        took <= bound,
        "exit took {took:?} (bound {bound:?}); log:\n{log}"
    );
    let (replayed, failed, unknown, unread) = (
        field(&log, "replayed"),
        field(&log, "failed"),
        field(&log, "unknown"),
        field(&log, "unread"),
    );
    eprintln!("replayed {replayed}, failed {failed}, unknown {unknown}, unread {unread}");
    assert_eq!(replayed + failed + unknown + unread, LINES, "log:\n{log}");
    assert!(
        unread > 0 && replayed > 0,
        "the stop came too late or too early; log:\n{log}"
    );
    // Some were queued when the broker went away: not all delivered, so exit 1.
    assert!(failed + unknown > 0, "log:\n{log}");
    assert_eq!(status.code(), Some(1), "log:\n{log}");

    mock.broker_up(-1).unwrap();
    let records = consume_all(&bootstrap, &[TOPIC]);
    let on_topic = assert_no_duplicates(&records);
    assert!(
        (replayed..=replayed + unknown).contains(&on_topic),
        "{on_topic} on the topic; replayed {replayed}, unknown {unknown}"
    );
}

/// A replay of `file` against `bootstrap` with `extra` arguments, run to its end; its log.
fn replay_to_end(file: &std::path::Path, bootstrap: &str, extra: &[&str]) -> String {
    let mut replay = Generator::spawn_command(
        Command::new(env!("CARGO_BIN_EXE_kafka-gen"))
            .arg("replay")
            .arg(file)
            .args(["--bootstrap-servers", bootstrap])
            .args(extra),
    );
    let status = replay.wait(Duration::from_secs(120));
    let log = replay.log_text();
    assert_eq!(status.code(), Some(0), "log:\n{log}");
    log
}

/// A replay stopped by SIGTERM while the broker is up records how far it got beside the file;
/// run again, it goes on from there, so every line is on the topic exactly once. A third run
/// has nothing left to send, and `--restart` sends the whole file again.
#[test]
fn a_stopped_replay_resumes_and_sends_each_event_once() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic(TOPIC, 3, 1).unwrap();
    // At most 1,000 in flight per 100 ms round trip: the stop lands long before the end.
    mock.broker_round_trip_time(1, Duration::from_millis(100))
        .unwrap();
    let bootstrap = mock.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dead-letter.jsonl");
    dead_letter_file(&file);
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "[kafka]\nqueue_max_messages = 1000\n").unwrap();
    let config = config.to_str().unwrap();

    let mut replay = Generator::spawn_command(
        Command::new(env!("CARGO_BIN_EXE_kafka-gen"))
            .arg("replay")
            .arg(&file)
            .args(["--config", config])
            .args(["--bootstrap-servers", &bootstrap]),
    );
    replay.wait_for("Replaying.", Duration::from_secs(20));
    wait_for_records(&bootstrap, 1000);
    replay.sigterm();
    let status = replay.wait(Duration::from_secs(60));
    let log = replay.log_text();
    assert_eq!(status.code(), Some(0), "log:\n{log}");
    let (first, unread) = (field(&log, "replayed"), field(&log, "unread"));
    assert!(first > 0 && unread > 0, "log:\n{log}");
    assert_eq!(first + unread, LINES, "log:\n{log}");
    assert!(dir.path().join("dead-letter.jsonl.replayed").exists());

    mock.broker_round_trip_time(1, Duration::ZERO).unwrap();
    let log = replay_to_end(&file, &bootstrap, &["--config", config]);
    assert_eq!(field(&log, "replayed"), unread, "log:\n{log}");
    assert_eq!(field(&log, "unread"), 0, "log:\n{log}");
    let records = consume_all(&bootstrap, &[TOPIC]);
    assert_eq!(assert_no_duplicates(&records), LINES);

    let log = replay_to_end(&file, &bootstrap, &["--config", config]);
    assert_eq!(field(&log, "replayed"), 0, "log:\n{log}");
    let log = replay_to_end(&file, &bootstrap, &["--config", config, "--restart"]);
    assert_eq!(field(&log, "replayed"), LINES, "log:\n{log}");
}
