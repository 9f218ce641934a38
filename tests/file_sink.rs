//! The stdout and file sinks as a user meets them (issue 10): live runs show each event as it
//! is made, a full disk leaves whole lines and true counts, and `--summary-json` is checked
//! before the run. Waits here are bounded polls on a real process, not timing assertions.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{kafka_gen, kafka_gen_bin, stderr};
use serde_json::Value;

const START: &str = "2025-01-01T00:00:00Z";

fn sigterm(child: &std::process::Child) {
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
}

fn line_count(path: &Path) -> usize {
    std::fs::read(path)
        .map(|b| b.iter().filter(|c| **c == b'\n').count())
        .unwrap_or(0)
}

/// Live mode at 5 events a second: the file shows events while the run goes on (before the
/// fix they sat in a 256 KiB buffer until exit).
#[test]
fn live_file_sink_writes_each_event_while_running() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("events.jsonl");
    let mut child = Command::new(kafka_gen_bin())
        .args([
            "--output",
            out.to_str().unwrap(),
            "--rate",
            "5",
            "--seed",
            "1",
        ])
        .args(["--stats-interval", "0"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while line_count(&out) < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let running = child.try_wait().unwrap().is_none();
    let seen = line_count(&out);
    sigterm(&child);
    let status = child.wait().unwrap();
    assert!(running, "the run ended early: {status:?}");
    assert!(
        seen >= 2,
        "only {seen} lines on disk after 30 s of a live run"
    );
    assert_eq!(status.code(), Some(0));
}

/// The README's first command: stdout shows the first event while the run goes on.
#[test]
fn live_stdout_sink_shows_the_first_event_at_once() {
    let mut child = Command::new(kafka_gen_bin())
        .args(["--sink", "stdout", "--continuous", "--min-delta", "0.1"])
        .args(["--max-delta", "0.3", "--stats-interval", "0"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let first = rx.recv_timeout(Duration::from_secs(30));
    sigterm(&child);
    let _ = child.wait();
    let first = first.expect("no event on stdout within 30 s of a live run");
    let event: Value = serde_json::from_str(&first).unwrap();
    assert!(event["event_id"].is_string(), "{first}");
}

/// A file on a full device: nothing counts as delivered that is not on disk, everything
/// generated is counted, and the run exits 1 (the run failed, not the input).
#[test]
fn full_disk_file_sink_counts_only_what_is_written() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.json");
    let out = kafka_gen(&[
        "--output",
        "/dev/full",
        "--start",
        START,
        "--count",
        "20000",
        "--seed",
        "2",
        "--summary-json",
        summary.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let s: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    let file = &s["sinks"][0];
    assert_eq!(file["name"], "file");
    assert_eq!(file["delivered_total"], 0, "{s:#}");
    assert_eq!(file["failed_total"], s["generated_total"], "{s:#}");
}

/// An unwritable --summary-json is bad input found before any event is made.
#[test]
fn unwritable_summary_json_exits_2_before_the_run() {
    let out = kafka_gen(&[
        "--sink",
        "stdout",
        "--start",
        START,
        "--count",
        "5",
        "--summary-json",
        "/nonexistent-dir/summary.json",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("/nonexistent-dir/summary.json"), "{err}");
    assert!(out.stdout.is_empty(), "events were made before the check");
}

/// A failure after the run started (the summary cannot be written at the end) exits 1, not
/// 2: it is not bad input.
#[test]
fn a_failure_during_the_run_exits_1() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let out = kafka_gen(&[
        "--sink",
        "null",
        "--start",
        START,
        "--count",
        "5",
        "--summary-json",
        "/dev/full",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot write the summary"), "{err}");
}

/// `--summary-json /dev/null` (as bench/kafka-throughput.sh passes) is a character device,
/// which cannot be truncated: writing the summary there must still succeed, exit 0.
#[test]
fn a_summary_to_a_device_such_as_dev_null_is_fine() {
    let out = kafka_gen(&[
        "--sink",
        "null",
        "--start",
        START,
        "--count",
        "5",
        "--summary-json",
        "/dev/null",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
