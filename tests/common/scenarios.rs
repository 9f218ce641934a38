//! Helpers for the per-scenario tests: fixture configs, golden files, contract replays and the
//! type mix.

use std::path::{Path, PathBuf};

use kafka_gen::config::{Config, SinkKind};
use kafka_gen::event::Batch;
use kafka_gen::generator::Generator;
use kafka_gen::scenario;

/// The small fixture master data of `name`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A config of scenario `name` on its fixture data, with a fixed seed and no stats lines.
pub fn config(name: &str, seed: u64) -> Config {
    Config {
        scenario: name.into(),
        data_dir: fixture(name),
        seed: Some(seed),
        sinks: vec![SinkKind::Null],
        stats_interval_secs: 0.0,
        ..Config::default()
    }
}

/// Runs the binary with a fixed seed, start and `count` on the fixture data and compares its
/// stdout with `tests/fixtures/golden-<name>.jsonl` (UPDATE_GOLDEN=1 rewrites it).
pub fn golden(name: &str, count: u64) {
    let count = count.to_string();
    let fixture = fixture(name);
    let args = [
        "--scenario",
        name,
        "--data-dir",
        fixture.to_str().unwrap(),
        "--sink",
        "stdout",
        "--seed",
        "7",
        "--start",
        "2025-01-01T09:00:00Z",
        "--count",
        &count,
        "--stats-interval",
        "0",
    ];
    assert_golden(&args, name);
}

/// Runs the binary with `args`, compares its stdout with `tests/fixtures/golden-<name>.jsonl`
/// (UPDATE_GOLDEN=1 rewrites it), and checks a second run gives the same bytes.
pub fn assert_golden(args: &[&str], name: &str) {
    let run = || super::kafka_gen(args);
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("golden-{name}.jsonl"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &out.stdout).unwrap();
    }
    let want = std::fs::read(&path).expect("golden file; create it with UPDATE_GOLDEN=1");
    assert!(
        out.stdout == want,
        "output differs from {}; if intended, rerun with UPDATE_GOLDEN=1",
        path.display()
    );
    assert_eq!(run().stdout, out.stdout, "same seed, same bytes");
}

/// Runs `config` on the simulated clock into memory and replays every event through the
/// scenario's contract checker; panics on the first violation. Returns the events.
pub async fn replay(config: &Config) -> (kafka_gen::runner::Summary, Vec<serde_json::Value>) {
    let (summary, events) = super::run_captured(config).await;
    let scenario = scenario::find(&config.scenario).unwrap();
    let mut checker = scenario.checker(&config.data_dir, true).unwrap();
    let mut last = String::new();
    for event in &events {
        checker.check(event);
        assert_eq!(
            scenario.validate_event(event).map(|_| ()),
            Ok(()),
            "{event}"
        );
        let time = event["event_time"].as_str().unwrap().to_string();
        assert!(
            time >= last,
            "generator output went back in time: {time} < {last}"
        );
        last = time;
    }
    checker.finish();
    let v = checker.violations();
    assert!(v.is_empty(), "{} violations, first: {}", v.len(), v[0]);
    (summary, events)
}

/// Draws `n` primaries one `step_ms` apart and returns the chi-square p-value of the type
/// counts against the configured weights, and the counts.
pub fn type_mix(config: &Config, n: usize, step_ms: i64) -> (f64, Vec<f64>) {
    let scenario = scenario::find(&config.scenario).unwrap();
    let weights = config.weights_for(scenario).unwrap();
    let mut generator = Generator::new(scenario, config, config.seed.unwrap_or(1)).unwrap();
    let mut batch = Batch::new();
    let mut observed = vec![0f64; weights.len()];
    for i in 0..n {
        batch.clear();
        let ty = generator
            .next(1_735_722_000_000 + i as i64 * step_ms, &mut batch)
            .expect("a servable world")
            .expect("a primary event");
        observed[usize::from(ty)] += 1.0;
    }
    let stat: f64 = observed
        .iter()
        .zip(&weights)
        .filter(|(_, w)| **w > 0.0)
        .map(|(o, w)| (o - w * n as f64).powi(2) / (w * n as f64))
        .sum();
    let df = weights.iter().filter(|w| **w > 0.0).count() as f64 - 1.0;
    (super::chi_square_p(stat, df.max(1.0)), observed)
}

/// Asserts the checker of `name` reports `rule` for `event` after the `setup` events.
pub fn assert_caught(
    name: &str,
    setup: &[serde_json::Value],
    event: serde_json::Value,
    rule: &str,
) {
    let scenario = scenario::find(name).unwrap();
    let mut checker = scenario.checker(&fixture(name), true).unwrap();
    for e in setup {
        checker.check(e);
    }
    let clean = checker.violations().len();
    assert_eq!(clean, 0, "setup is clean: {:?}", checker.violations());
    checker.check(&event);
    checker.finish();
    assert!(
        checker.violations().iter().any(|v| v.rule == rule),
        "expected {rule}, got {:?}",
        checker.violations()
    );
}
