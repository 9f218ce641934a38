//! Shared helpers for the integration tests.
#![allow(dead_code)]

pub mod kafka;
pub mod scenarios;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use kafka_gen::config::{Config, SinkKind};
use kafka_gen::event::Batch;
use kafka_gen::sinks::{Sink, SinkCounts, SinkError};

pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/master")
}

/// A config on the small fixture data with a fixed seed and no stats lines.
pub fn fixture_config(seed: u64) -> Config {
    Config {
        data_dir: fixture_dir(),
        seed: Some(seed),
        sinks: vec![SinkKind::Null],
        stats_interval_secs: 0.0,
        ..Config::default()
    }
}

/// What a [`CaptureSink`] saw: each record's JSON and, per batch, tokio's clock at arrival.
#[derive(Default)]
pub struct Captured {
    pub payloads: Vec<Vec<u8>>,
    pub arrivals: Vec<tokio::time::Instant>,
}

impl Captured {
    /// Every captured record parsed as JSON.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.payloads
            .iter()
            .map(|p| serde_json::from_slice(p).unwrap())
            .collect()
    }
}

/// A sink that keeps everything, for tests.
pub struct CaptureSink {
    pub seen: Arc<Mutex<Captured>>,
    counts: SinkCounts,
}

impl CaptureSink {
    pub fn new(types: usize) -> (Self, Arc<Mutex<Captured>>) {
        let seen = Arc::new(Mutex::new(Captured::default()));
        (
            Self {
                seen: seen.clone(),
                counts: SinkCounts::new(types),
            },
            seen,
        )
    }
}

#[async_trait]
impl Sink for CaptureSink {
    fn name(&self) -> &'static str {
        "capture"
    }

    async fn send(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let mut seen = self.seen.lock().unwrap();
        seen.arrivals.push(tokio::time::Instant::now());
        for r in batch.iter() {
            seen.payloads.push(r.payload.to_vec());
            self.counts.delivered[usize::from(r.event_type)] += 1;
        }
        Ok(())
    }

    async fn flush(&mut self, _: Duration) -> Result<(), SinkError> {
        Ok(())
    }

    fn counts(&self) -> SinkCounts {
        self.counts.clone()
    }
}

/// Runs `config` to completion into a capture sink and returns the events as JSON.
pub async fn run_captured(config: &Config) -> (kafka_gen::runner::Summary, Vec<serde_json::Value>) {
    let types = kafka_gen::scenario::find(&config.scenario).map_or(5, |s| s.event_types().len());
    let (sink, seen) = CaptureSink::new(types);
    let runner = kafka_gen::runner::Runner::with_sinks(config, vec![Box::new(sink)]).unwrap();
    let summary = runner
        .run(tokio_util::sync::CancellationToken::new())
        .await
        .unwrap();
    let events = seen.lock().unwrap().events();
    (summary, events)
}

/// Upper tail of the chi-square distribution: P(X >= stat) with `df` degrees of freedom.
pub fn chi_square_p(stat: f64, df: f64) -> f64 {
    use statrs::distribution::{ChiSquared, ContinuousCDF};
    1.0 - ChiSquared::new(df).unwrap().cdf(stat)
}

pub fn kafka_gen_bin() -> &'static str {
    env!("CARGO_BIN_EXE_kafka-gen")
}

/// Runs the binary from the repository root, without the caller's `RUST_LOG`.
pub fn kafka_gen(args: &[&str]) -> std::process::Output {
    std::process::Command::new(kafka_gen_bin())
        .args(args)
        .env_remove("RUST_LOG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

/// Runs the binary (see [`kafka_gen`]), expecting success, and parses each line it printed
/// as one JSON event.
pub fn json_lines(args: &[&str]) -> Vec<serde_json::Value> {
    let out = kafka_gen(args);
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Runs the world file at `path` to stdout for `count` primary events from `seed`, starting
/// 2025-03-07T20:00:00Z, with no master data on disk, and parses its events.
pub fn run_world(path: &str, seed: &str, count: &str) -> Vec<serde_json::Value> {
    json_lines(&[
        "run",
        "--world",
        path,
        "--data-dir",
        "/nonexistent/kafka-gen-test",
        "--sink",
        "stdout",
        "--seed",
        seed,
        "--start",
        "2025-03-07T20:00:00Z",
        "--count",
        count,
        "--stats-interval",
        "0",
    ])
}

pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs kafka-gen expecting exit 2 and an error containing `needle`, and no panic.
pub fn expect_usage_error(args: &[&str], needle: &str) {
    let out = kafka_gen(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "args {args:?}: {err}");
    assert!(
        err.contains(needle),
        "args {args:?}: expected {needle:?} in {err:?}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// Runs the binary (see [`kafka_gen`]), expecting success, and hands each line it prints to
/// `each` as one JSON event as it comes: a long run is tallied without holding its stream.
pub fn stream_lines(args: &[&str], mut each: impl FnMut(&serde_json::Value)) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(kafka_gen_bin())
        .args(args)
        .env_remove("RUST_LOG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        // Not piped: a full stderr pipe nobody reads would stall the run.
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    for line in std::io::BufReader::new(out).lines() {
        each(&serde_json::from_str(&line.unwrap()).unwrap());
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "kafka-gen {args:?}: {status}");
}
