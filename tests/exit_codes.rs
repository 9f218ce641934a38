//! Exit codes of the commands that talk to Kafka or serve a port (issue 10): 2 only for bad
//! input (a flag, a config value, master data, a scenario, an output path), 1 when the run
//! failed, start-up included (an unreachable broker, a port another process holds, a summary
//! that cannot be written at the end). Before, `consume` and `ingest` exited 2 for all of them.
//! Waits are bounded I/O on real sockets and librdkafka's mock cluster.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::kafka::{data_dir, TOPICS};
use rdkafka::mocking::MockCluster;

const BOUND: Duration = Duration::from_secs(60);

/// Runs `kafka-gen ARGS` with no inherited Kafka settings, killing it past [`BOUND`]; returns
/// the exit code and stderr.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kafka-gen"))
        .args(args)
        .env("RUST_LOG", "info,librdkafka=off")
        .env_remove("KAFKA_GEN_BOOTSTRAP_SERVERS")
        .env_remove("KAFKA_GEN_TEST_BROKER")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + BOUND;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("kafka-gen {args:?} did not finish within {BOUND:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status.code(), reader.join().unwrap())
}

/// A port nothing listens on (bound, then released).
fn dead_port() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}

fn retail_mock() -> MockCluster<'static, rdkafka::producer::DefaultProducerContext> {
    let mock = MockCluster::new(1).unwrap();
    for topic in TOPICS {
        mock.create_topic(topic, 1, 1).unwrap();
    }
    mock
}

#[test]
fn consume_bad_flags_exit_2_naming_the_flag() {
    let data = data_dir();
    let data = data.to_str().unwrap();
    for (flag, value) in [
        ("--reorder-grace", "-1"),
        ("--reorder-buffer", "5"),
        ("--reorder-buffer", "2000000"),
        ("--until-idle", "0"),
        ("--topic-wait", "nan"),
        ("--scenario", "nosuch"),
    ] {
        let (code, err) = run(&["consume", "--data-dir", data, flag, value]);
        assert_eq!(code, Some(2), "{flag} {value}: {err}");
        assert!(err.contains(flag) || err.contains(value), "{flag}: {err}");
    }
    // Missing master data is bad input, found before any broker is asked.
    let (code, err) = run(&[
        "consume",
        "--data-dir",
        "/nonexistent/kafka-gen-data",
        "--bootstrap-servers",
        &dead_port(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("/nonexistent/kafka-gen-data"), "{err}");
}

/// An unwritable `--summary-json` is bad input found at start-up, before the broker is asked
/// (before, the broker's error came first, and the path was only tried after the run).
#[test]
fn consume_checks_its_summary_path_before_connecting() {
    let (code, err) = run(&[
        "consume",
        "--data-dir",
        data_dir().to_str().unwrap(),
        "--bootstrap-servers",
        &dead_port(),
        "--summary-json",
        "/nonexistent/dir/summary.json",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--summary-json"), "{err}");
    assert!(!err.contains("cannot reach Kafka"), "{err}");
}

/// Nothing listens at the address: the run failed (exit 1), with the address in the error.
#[test]
fn consume_with_an_unreachable_broker_exits_1() {
    let bootstrap = dead_port();
    let (code, err) = run(&[
        "consume",
        "--data-dir",
        data_dir().to_str().unwrap(),
        "--bootstrap-servers",
        &bootstrap,
        "--until-idle",
        "1",
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&format!("cannot reach Kafka at {bootstrap}")),
        "{err}"
    );
}

/// A clean (empty) check whose summary cannot be written at the end, on a full device: the
/// run failed (exit 1), not bad input; the path opened fine at start-up.
#[test]
fn consume_failing_to_write_its_summary_at_the_end_exits_1() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    let mock = retail_mock();
    let (code, err) = run(&[
        "consume",
        "--data-dir",
        data_dir().to_str().unwrap(),
        "--bootstrap-servers",
        &mock.bootstrap_servers(),
        "--until-idle",
        "1",
        "--topic-wait",
        "20",
        "--summary-json",
        "/dev/full",
    ]);
    assert!(err.contains("No records for the idle time"), "{err}");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("/dev/full"), "{err}");
}

#[test]
fn ingest_with_an_unknown_scenario_exits_2() {
    let (code, err) = run(&["ingest", "--scenario", "nosuch", "--listen", "127.0.0.1:0"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("nosuch"), "{err}");
}

/// The port is held by another process (here, this test): the run failed (exit 1), and the
/// error says so and names the flag.
#[test]
fn ingest_on_a_port_in_use_exits_1() {
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap().to_string();
    let (code, err) = run(&[
        "ingest",
        "--listen",
        &addr,
        "--bootstrap-servers",
        &dead_port(),
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&addr) && err.contains("another process holds the port"),
        "{err}"
    );
    assert!(err.contains("--listen"), "{err}");
}

#[test]
fn ingest_with_an_unreachable_broker_exits_1() {
    let bootstrap = dead_port();
    let (code, err) = run(&[
        "ingest",
        "--listen",
        "127.0.0.1:0",
        "--bootstrap-servers",
        &bootstrap,
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&format!("cannot reach Kafka at {bootstrap}")),
        "{err}"
    );
}

/// A broker that answers but lacks the topics is a configuration matter: exit 2, naming
/// `--create-topics`.
#[test]
fn ingest_with_missing_topics_exits_2() {
    let mock = MockCluster::new(1).unwrap();
    let (code, err) = run(&[
        "ingest",
        "--listen",
        "127.0.0.1:0",
        "--bootstrap-servers",
        &mock.bootstrap_servers(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--create-topics"), "{err}");
}

#[test]
fn serve_and_the_metrics_port_in_use_exit_1() {
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap().to_string();
    let (code, err) = run(&["serve", "--listen", &addr]);
    assert_eq!(code, Some(1), "serve: {err}");
    assert!(err.contains("another process holds the port"), "{err}");
    let (code, err) = run(&["serve", "--listen", "not-an-address"]);
    assert_eq!(code, Some(2), "serve: {err}");
    let (code, err) = run(&[
        "--sink",
        "null",
        "--count",
        "1",
        "--data-dir",
        data_dir().to_str().unwrap(),
        "--metrics-listen",
        &addr,
    ]);
    assert_eq!(code, Some(1), "--metrics-listen: {err}");
    assert!(err.contains("--metrics-listen"), "{err}");
}

/// consume and replay use `[kafka]` even when the run's sinks do not, so they check it
/// themselves: an out-of-range value is bad input naming the key, not a panic (before: exit
/// 101 for consume, "the replay thread panicked" for replay).
#[test]
fn consume_and_replay_check_the_kafka_section() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        "sinks = [\"stdout\"]\n[kafka]\nstartup_timeout_secs = 1e300\n",
    )
    .unwrap();
    let dead = dir.path().join("dead.jsonl");
    std::fs::write(
        &dead,
        "{\"sink\":\"kafka\",\"topic\":\"t\",\"outcome\":\"failed\",\"event\":{}}\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let bootstrap = dead_port();
    for args in [
        &[
            "consume",
            "--data-dir",
            data_dir().to_str().unwrap(),
            "--config",
            config,
            "--bootstrap-servers",
            &bootstrap,
        ][..],
        &[
            "replay",
            dead.to_str().unwrap(),
            "--config",
            config,
            "--bootstrap-servers",
            &bootstrap,
        ][..],
    ] {
        let (code, err) = run(args);
        assert_eq!(code, Some(2), "{}: {err}", args[0]);
        assert!(
            err.contains("kafka.startup_timeout_secs"),
            "{}: {err}",
            args[0]
        );
        assert!(!err.contains("panicked"), "{}: {err}", args[0]);
    }
}

/// Issue 30: a certificate without its key, or a TLS file that cannot be read or holds no
/// certificate, is bad input naming what is missing or the file, for each listener, and is
/// found before anything starts (serve's worlds, ingest's Kafka).
#[test]
fn bad_tls_settings_exit_2_naming_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, "not PEM\n").unwrap();
    let bad = bad.to_str().unwrap();
    let missing = dir.path().join("missing.crt");
    let missing = missing.to_str().unwrap();
    let (code, err) = run(&["serve", "--listen", "127.0.0.1:0", "--tls-cert", bad]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--tls-key is not"), "{err}");
    let (code, err) = run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        bad,
        "--tls-key",
        bad,
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("bad.pem holds no certificate"), "{err}");
    assert!(
        !err.contains("made it in memory"),
        "the worlds loaded first: {err}"
    );
    let (code, err) = run(&[
        "ingest",
        "--listen",
        "127.0.0.1:0",
        "--bootstrap-servers",
        &dead_port(),
        "--tls-cert",
        missing,
        "--tls-key",
        bad,
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot read the TLS certificate file") && err.contains("missing.crt"));
    let (code, err) = run(&[
        "--sink",
        "null",
        "--count",
        "1",
        "--data-dir",
        data_dir().to_str().unwrap(),
        "--metrics-listen",
        "127.0.0.1:0",
        "--tls-key",
        bad,
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--tls-cert is not"), "{err}");
}
