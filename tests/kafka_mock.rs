//! Fault injection against librdkafka's in-process mock cluster (issue 3, "Tests"). The mock
//! listens on real localhost ports, so the real `kafka-gen` binary runs against it while the
//! test holds the cluster and breaks it. Exactly-once is checked by consuming every topic and
//! comparing event ids with the generator's summary and dead-letter file.
//!
//! Waits here are I/O on a real (mock) broker, bounded; no assertion depends on them being
//! short except the slow-broker test's lower bound, which physics guarantees.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::kafka::{
    assert_no_duplicates, consume_all, consume_all_at, totals, unknown_total, Generator, Read,
    TOPICS,
};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

const READY: &str = "Kafka sink ready.";
const EXIT_WAIT: Duration = Duration::from_secs(120);

fn cluster() -> MockCluster<'static, DefaultProducerContext> {
    let mock = MockCluster::new(1).unwrap();
    for topic in TOPICS {
        mock.create_topic(topic, 3, 1).unwrap();
    }
    mock
}

/// Delivered everything it generated, nothing failed, and the topics hold each event once.
fn assert_exactly_once(gen: &Generator, bootstrap: &str) -> u64 {
    let (generated, delivered, failed, in_flight) = totals(&gen.summary());
    assert!(generated > 0);
    assert_eq!(
        (delivered, failed, in_flight),
        (generated, 0, 0),
        "log:\n{}",
        gen.log_text()
    );
    let records = consume_all(bootstrap, &TOPICS);
    assert_eq!(assert_no_duplicates(&records), generated);
    assert!(gen.dead_letters().is_empty());
    eprintln!("{generated} events generated, delivered and consumed exactly once");
    generated
}

/// No event lost, and every duplicate a whole batch the broker appended twice.
///
/// librdkafka's mock cluster deduplicates retried batches only for transactional producers
/// (`rd_kafka_mock_validate_records` returns early without a TransactionalId), unlike a real
/// broker, which deduplicates an idempotent producer's retries by producer id and sequence. So
/// when the mock drops its connections after appending a batch but before answering, the
/// producer's retry lands twice. This accepts exactly that and nothing else: each repeated run
/// of records must replay, in order and in one partition, a run written just before it.
fn assert_no_loss_and_only_replayed_batches(gen: &Generator, bootstrap: &str) {
    let (generated, delivered, failed, in_flight) = totals(&gen.summary());
    assert!(generated > 0);
    assert_eq!(
        (delivered, failed, in_flight),
        (generated, 0, 0),
        "log:\n{}",
        gen.log_text()
    );
    let mut reads = consume_all_at(bootstrap, &TOPICS);
    let distinct: HashSet<&str> = reads.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        distinct.len() as u64,
        generated,
        "every generated event is on the topics"
    );
    let replayed = replayed_batches(&mut reads).unwrap_or_else(|e| panic!("{e}"));
    if replayed > 0 {
        eprintln!("{replayed} records were batches the mock broker appended twice (see above)");
    }
    assert!(gen.dead_letters().is_empty());
}

/// Checks that every repeated record belongs to a run replaying, in order and in one
/// partition, the run written just before it; returns how many records were replayed.
fn replayed_batches(reads: &mut [Read]) -> Result<usize, String> {
    reads.sort_by(|a, b| (&a.topic, a.partition, a.offset).cmp(&(&b.topic, b.partition, b.offset)));
    let mut replayed = 0;
    for part in reads.chunk_by(|a, b| (&a.topic, a.partition) == (&b.topic, b.partition)) {
        let mut first_at = std::collections::HashMap::new();
        let mut i = 0;
        while i < part.len() {
            let Some(&j) = first_at.get(&part[i].id) else {
                first_at.insert(part[i].id.clone(), i);
                i += 1;
                continue;
            };
            // part[i..] repeats part[j..]: everything appended since the first copy must come
            // again, record for record (in-flight batches retried in order on one partition).
            let len = i - j;
            let copy: Vec<&str> = part[i..(i + len).min(part.len())]
                .iter()
                .map(|r| r.id.as_str())
                .collect();
            let orig: Vec<&str> = part[j..i].iter().map(|r| r.id.as_str()).collect();
            if copy != orig {
                return Err(format!(
                    "{}/{}@{}: event {} appears again, but not as a replayed batch",
                    part[i].topic, part[i].partition, part[i].offset, part[i].id
                ));
            }
            replayed += copy.len();
            i += copy.len();
        }
    }
    Ok(replayed)
}

#[test]
fn replayed_batches_are_told_from_stray_duplicates() {
    let read = |offset: i64, id: &str| Read {
        topic: "t".into(),
        partition: 0,
        offset,
        id: id.into(),
    };
    let ids = |list: &[&str]| -> Vec<Read> {
        list.iter()
            .enumerate()
            .map(|(o, id)| read(o as i64, id))
            .collect()
    };
    assert_eq!(replayed_batches(&mut ids(&["a", "b", "c"])), Ok(0));
    // b, c appended, the answer lost, both retried: a replay.
    assert_eq!(
        replayed_batches(&mut ids(&["a", "b", "c", "b", "c", "d"])),
        Ok(2)
    );
    // One event sent twice among others: not a replay.
    assert!(replayed_batches(&mut ids(&["a", "b", "c", "d", "b", "e"])).is_err());
    assert!(replayed_batches(&mut ids(&["a", "b", "a"])).is_err());
}

/// (1) The broker goes down for several seconds mid-run and comes back: every event is
/// delivered, once from the producer's side (see `assert_no_loss_and_only_replayed_batches`
/// for the one way the mock broker itself can duplicate).
#[test]
fn broker_down_then_back_loses_and_duplicates_nothing() {
    let mock = cluster();
    let bootstrap = mock.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let mut gen = Generator::spawn(
        dir.path(),
        &bootstrap,
        &[
            "--seed",
            "1",
            "--rate",
            "3000",
            "--duration",
            "7s",
            "--stats-interval",
            "1",
        ],
    );
    gen.wait_for(READY, Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(1));
    mock.broker_down(-1).unwrap();
    std::thread::sleep(Duration::from_secs(4));
    mock.broker_up(-1).unwrap();
    let status = gen.wait(EXIT_WAIT);
    assert_eq!(status.code(), Some(0), "log:\n{}", gen.log_text());
    assert_no_loss_and_only_replayed_batches(&gen, &bootstrap);
}

/// (2) Produce requests fail with retriable errors: the idempotent producer retries without
/// loss or duplicates.
#[test]
fn retriable_produce_errors_lose_and_duplicate_nothing() {
    let mock = cluster();
    let bootstrap = mock.bootstrap_servers();
    let errors: Vec<RDKafkaRespErr> = [
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
    ]
    .into_iter()
    .cycle()
    .take(40)
    .collect();
    mock.request_errors(RDKafkaApiKey::Produce, &errors);
    let dir = tempfile::tempdir().unwrap();
    let mut gen = Generator::spawn(
        dir.path(),
        &bootstrap,
        &[
            "--seed",
            "2",
            "--start",
            "2025-01-01T00:00:00Z",
            "--count",
            "20000",
            "--stats-interval",
            "0",
        ],
    );
    let status = gen.wait(EXIT_WAIT);
    assert_eq!(status.code(), Some(0), "log:\n{}", gen.log_text());
    assert_exactly_once(&gen, &bootstrap);
}

/// (3) The broker goes away for good with a short message timeout: the summary counts exactly
/// the undelivered events, the dead-letter file holds exactly those, and the exit is non-zero.
#[test]
fn broker_gone_for_good_dead_letters_exactly_the_undelivered() {
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
            "3",
            "--rate",
            "3000",
            "--duration",
            "4s",
            "--flush-timeout",
            "20",
            "--stats-interval",
            "0",
        ],
    );
    gen.wait_for(READY, Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(1));
    mock.broker_down(-1).unwrap();
    let status = gen.wait(EXIT_WAIT);
    assert_eq!(status.code(), Some(1), "log:\n{}", gen.log_text());

    let (generated, delivered, failed, in_flight) = totals(&gen.summary());
    let unknown = unknown_total(&gen.summary());
    eprintln!("generated {generated}, delivered {delivered}, failed {failed}, unknown {unknown}");
    assert!(
        failed + unknown > 0 && delivered > 0,
        "delivered {delivered}, failed {failed}"
    );
    assert_eq!((delivered + failed + unknown, in_flight), (generated, 0));
    let dead: Vec<String> = gen.dead_letters();
    assert_eq!(
        dead.len() as u64,
        failed + unknown,
        "dead-letter lines vs failed + unknown count"
    );
    let dead_set: HashSet<&String> = dead.iter().collect();
    assert_eq!(
        dead_set.len(),
        dead.len(),
        "an event was dead-lettered twice"
    );
    assert!(
        gen.log_text().contains("dead-letter"),
        "log:\n{}",
        gen.log_text()
    );

    // Back up only to read what made it: the delivered events, none of the failed ones, and
    // perhaps some of the unknown ones (that is what unknown means).
    mock.broker_up(-1).unwrap();
    let lines = gen.dead_letter_lines();
    let failed_ids: HashSet<&str> = lines
        .iter()
        .filter(|l| l["outcome"] == "failed")
        .map(|l| l["event"]["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(failed_ids.len() as u64, failed);
    let records = consume_all(&bootstrap, &TOPICS);
    let on_topic = assert_no_duplicates(&records);
    assert!(
        (delivered..=delivered + unknown).contains(&on_topic),
        "{on_topic} on the topics, {delivered} delivered, {unknown} unknown"
    );
    assert!(
        records
            .iter()
            .all(|(_, id)| !failed_ids.contains(id.as_str())),
        "a failed event was delivered"
    );
}

/// (4) SIGTERM mid-run: the generator stops drawing, flushes, and delivered == generated.
#[test]
fn sigterm_flushes_everything_and_exits_zero() {
    let mock = cluster();
    let bootstrap = mock.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let mut gen = Generator::spawn(
        dir.path(),
        &bootstrap,
        &["--seed", "4", "--rate", "5000", "--stats-interval", "0"],
    );
    gen.wait_for(READY, Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(1500));
    let pid = i32::try_from(gen.child.id()).unwrap();
    // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = gen.wait(EXIT_WAIT);
    assert_eq!(status.code(), Some(0), "log:\n{}", gen.log_text());
    assert_eq!(gen.summary()["stop"], "cancelled");
    assert_exactly_once(&gen, &bootstrap);
}

/// (5) A slow broker: the generator waits for room instead of buffering without bound.
/// Records in flight never exceed the queue bound, the run takes at least as long as the
/// round trips force, and peak memory stays small.
#[test]
fn slow_broker_slows_the_generator_and_bounds_memory() {
    let mock = cluster();
    let rtt = Duration::from_millis(300);
    let queue_max_messages: u64 = 2000;
    mock.broker_round_trip_time(-1, rtt).unwrap();
    let bootstrap = mock.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!("[kafka]\nqueue_max_messages = {queue_max_messages}\n"),
    )
    .unwrap();
    let started = Instant::now();
    let mut gen = Generator::spawn(
        dir.path(),
        &bootstrap,
        &[
            "--config",
            config.to_str().unwrap(),
            "--seed",
            "5",
            "--start",
            "2025-01-01T00:00:00Z",
            "--count",
            "8000",
            "--stats-interval",
            "0.2",
        ],
    );
    let pid = gen.child.id();
    let mut peak_rss_kb = 0u64;
    while gen.child.try_wait().unwrap().is_none() {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(kb) = status.lines().find_map(|l| l.strip_prefix("VmHWM:")) {
                peak_rss_kb =
                    peak_rss_kb.max(kb.trim().trim_end_matches("kB").trim().parse().unwrap_or(0));
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = gen.wait(EXIT_WAIT);
    let elapsed = started.elapsed();
    assert_eq!(status.code(), Some(0), "log:\n{}", gen.log_text());
    let generated = assert_exactly_once(&gen, &bootstrap);

    // Each round trip frees at most a queue's worth of records.
    let floor = rtt.mul_f64(generated as f64 / queue_max_messages as f64 * 0.5);
    assert!(
        elapsed >= floor,
        "{generated} records took {elapsed:?}; a {rtt:?} broker allows no less than {floor:?}"
    );
    let in_flight: Vec<u64> = gen
        .log
        .iter()
        .filter_map(|l| l.split("in_flight=").nth(1))
        .filter_map(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .collect();
    eprintln!("{generated} records in {elapsed:?} (floor {floor:?}), peak RSS {peak_rss_kb} kB, in flight {in_flight:?}");
    assert!(
        !in_flight.is_empty(),
        "no stats lines; log:\n{}",
        gen.log_text()
    );
    assert!(
        in_flight.iter().all(|n| *n <= queue_max_messages),
        "in flight over the queue bound: {in_flight:?}"
    );
    assert!(peak_rss_kb < 200 * 1024, "peak RSS {peak_rss_kb} kB");
}

/// An unreachable broker is a clear error within a few seconds, naming the address; exit 1:
/// the run failed, though the address may be right (issue 10's exit codes).
#[test]
fn unreachable_broker_fails_fast_with_exit_1() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bootstrap = format!("127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut gen = Generator::spawn(
        dir.path(),
        &bootstrap,
        &["--count", "10", "--start", "2025-01-01T00:00:00Z"],
    );
    let status = gen.wait(Duration::from_secs(30));
    assert_eq!(status.code(), Some(1), "log:\n{}", gen.log_text());
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    let log = gen.log_text();
    assert!(
        log.contains(&bootstrap) && log.contains("check that the broker is up"),
        "log:\n{log}"
    );
}

/// Without --create-topics a missing topic is a start-up error listing the missing topics.
#[test]
fn missing_topics_are_a_start_up_error() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic(TOPICS[0], 1, 1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut gen = Generator::spawn(
        dir.path(),
        &mock.bootstrap_servers(),
        &["--count", "10", "--start", "2025-01-01T00:00:00Z"],
    );
    let status = gen.wait(Duration::from_secs(30));
    assert_eq!(status.code(), Some(2), "log:\n{}", gen.log_text());
    let log = gen.log_text();
    assert!(
        log.contains(TOPICS[1]) && !log.contains(&format!("{},", TOPICS[0])),
        "log:\n{log}"
    );
    assert!(log.contains("--create-topics"), "log:\n{log}");
}
