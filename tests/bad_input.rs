//! Bad input never panics: every number a user gives is checked at load against a stated range,
//! and the error names the value, the bound and where to change it, then exits 2 (issue 10).

mod common;
#[path = "bad_input/listeners.rs"]
mod listeners;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Writes `text` to `dir/name` and returns the path as a string.
fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// Runs kafka-gen expecting exit 2 (not 101) and an error containing every needle.
fn expect_bad(args: &[&str], needles: &[&str]) {
    let out = kafka_gen(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "args {args:?}: {err}");
    assert!(!err.contains("panicked"), "args {args:?}: {err}");
    for needle in needles {
        assert!(
            err.contains(needle),
            "args {args:?}: expected {needle:?} in {err:?}"
        );
    }
}

#[test]
fn out_of_range_numbers_exit_2_naming_value_and_bound() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = |name: &str, text: &str| write(d, name, text);
    let startup = config("startup.toml", "[kafka]\nstartup_timeout_secs = 1e300\n");
    let window = config("window.toml", "[ingest]\nidempotency_window_secs = 1e300\n");
    let elapsed = config("elapsed.toml", "[http]\nmax_elapsed_secs = 1e300\n");
    let stats = config("stats.toml", "stats_interval_secs = 1e-300\n");
    let partitions = config("parts.toml", "[kafka]\npartitions = 2000000000\n");
    let linger = config("linger.toml", "[kafka]\nlinger_ms = 4000000000\n");
    let http_timeout = config(
        "timeout.toml",
        "[http]\ntimeout_ms = 18446744073709551615\n",
    );
    let ack = config(
        "ack.toml",
        "[ingest]\nack_timeout_ms = 18446744073709551615\n",
    );
    let lead = config("lead.toml", "[retail]\nrestock_lead_max_secs = 1e300\n");
    let http = ["--sink", "http", "--http-endpoint", "http://127.0.0.1:9/"];
    let sim = ["--start", "2025-01-01T00:00:00Z", "--count", "5"];
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec!["--rate", "1e-300"], vec!["rate is 1e-300", "1e-6"]),
        (vec!["--rate", "1e308"], vec!["rate is 1e308", "1e9"]),
        (vec!["--volume", "1e-300"], vec!["volume is 1e-300", "6e-5"]),
        (
            [&sim[..], &["--speed", "1e-300"]].concat(),
            vec!["speed is 1e-300", "1e-6"],
        ),
        (
            [&sim[..], &["--speed", "1e300"]].concat(),
            vec!["speed is 1e300", "1e9"],
        ),
        (
            vec!["--flush-timeout", "1e300"],
            vec!["flush timeout is 1e300", "86400"],
        ),
        (
            vec!["--stats-interval", "1e300"],
            vec!["stats interval is 1e300", "86400"],
        ),
        (
            vec!["--stats-interval", "1e-300"],
            vec!["stats interval is 1e-300", "0.1"],
        ),
        (
            vec!["--config", &stats],
            vec!["stats interval is 1e-300", "0.1"],
        ),
        (
            vec!["--min-delta", "1e300", "--max-delta", "1e300"],
            vec!["min delta is 1e300", "31536000"],
        ),
        (
            vec!["--max-delta", "1e300"],
            vec!["max delta is 1e300", "31536000"],
        ),
        (
            vec![
                "--start",
                "2025-01-01",
                "--end",
                "2025-01-02",
                "--events-per-day",
                "1e-300",
            ],
            vec!["events per day is 1e-300", "1e-3"],
        ),
        (
            vec!["--weights", "sale=1e308"],
            vec!["weight for \"sale\" is 1e308", "1e9"],
        ),
        (
            vec!["--config", &startup],
            vec!["kafka.startup_timeout_secs is 1e300", "3600"],
        ),
        (
            vec!["--config", &window],
            vec!["ingest.idempotency_window_secs is 1e300", "604800"],
        ),
        (
            [&["--config", &*elapsed][..], &http[..]].concat(),
            vec!["http.max_elapsed_secs is 1e300", "86400"],
        ),
        (
            [&["--config", &*http_timeout][..], &http[..]].concat(),
            vec!["http.timeout_ms is 18446744073709551615", "3600000"],
        ),
        (
            vec!["--config", &ack],
            vec!["ingest.ack_timeout_ms is 18446744073709551615", "3600000"],
        ),
        (
            vec!["--config", &partitions],
            vec!["kafka.partitions is 2000000000", "100000"],
        ),
        (
            vec!["--config", &linger],
            vec!["kafka.linger_ms is 4000000000", "900000"],
        ),
        (
            vec!["--config", &lead],
            vec!["retail.restock_lead_max_secs is 1e300", "31536000"],
        ),
    ];
    for (args, needles) in &cases {
        expect_bad(args, needles);
    }
    // Compact numbers: no 309-digit rendering of 1e308.
    let out = kafka_gen(&["--rate", "1e308"]);
    assert!(!stderr(&out).contains("0000000000"), "{}", stderr(&out));
}

/// Issue 28: a config file's `[kafka]` or `[http]` with a value out of range was accepted,
/// exit 0, when the run's sink did not use that section; every section the file holds is
/// checked at load.
#[test]
fn unused_sections_of_the_config_file_are_checked_too() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases = [
        (
            "[kafka]\nstartup_timeout_secs = 1e300\n",
            "kafka.startup_timeout_secs is 1e300",
        ),
        (
            "[kafka]\nlinger_ms = 4000000000\n",
            "kafka.linger_ms is 4000000000",
        ),
        ("[http]\ntimeout_ms = 0\n", "http.timeout_ms is 0"),
        ("[http]\nbatch_size = 0\n", "http.batch_size is 0"),
    ];
    for (i, (text, needle)) in cases.iter().enumerate() {
        let config = write(d, &format!("c{i}.toml"), text);
        let args = ["--config", &config, "--sink", "stdout", "--count", "1"];
        expect_bad(&args, &[needle]);
    }
}

#[test]
fn the_environment_is_checked_like_the_flags() {
    for (var, value, needles) in [
        ("KAFKA_GEN_RATE", "1e-300", &["rate is 1e-300", "1e-6"][..]),
        (
            "KAFKA_GEN_FLUSH_TIMEOUT",
            "1e300",
            &["flush timeout is 1e300"],
        ),
        (
            "KAFKA_GEN_STATS_INTERVAL",
            "0.01",
            &["stats interval is 0.01"],
        ),
    ] {
        let out = Command::new(kafka_gen_bin())
            .env(var, value)
            .env_remove("RUST_LOG")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{var}={value}: {err}");
        for needle in needles {
            assert!(err.contains(needle), "{var}={value}: {needle:?} in {err}");
        }
    }
}

/// The fixture master data with every product's `field` set to `value` (a JSON literal).
fn fixture_with(dir: &Path, field: &str, value: serde_json::Value) {
    for f in ["stores.json", "customers.json"] {
        std::fs::copy(fixture_dir().join(f), dir.join(f)).unwrap();
    }
    let text = std::fs::read_to_string(fixture_dir().join("products.json")).unwrap();
    let mut rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    for row in &mut rows {
        row[field] = value.clone();
    }
    std::fs::write(
        dir.join("products.json"),
        serde_json::to_string(&rows).unwrap(),
    )
    .unwrap();
}

#[test]
fn master_data_numbers_are_bounded_naming_file_record_and_bound() {
    let sim = [
        "--sink",
        "stdout",
        "--count",
        "2000",
        "--seed",
        "3",
        "--start",
        "2025-01-01T00:00:00Z",
        "--stats-interval",
        "0",
        "--data-dir",
    ];
    for (field, value, needles) in [
        (
            "base_price",
            serde_json::json!(1e17),
            &["products.json: record 1", "base_price is 1e17", "1e9"][..],
        ),
        (
            "base_price",
            serde_json::json!(1e308),
            &["base_price is 1e308", "1e9"],
        ),
        (
            "unit_cost",
            serde_json::json!(5e9),
            &["unit_cost is 5e9", "1e9"],
        ),
        (
            "max_stock",
            serde_json::json!(4_000_000_000u32),
            &["max_stock is 4000000000", "1000000000"],
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        fixture_with(dir.path(), field, value);
        let args = [&sim[..], &[dir.path().to_str().unwrap()]].concat();
        expect_bad(&args, needles);
    }
    let dir = tempfile::tempdir().unwrap();
    for f in ["products.json", "customers.json"] {
        std::fs::copy(fixture_dir().join(f), dir.path().join(f)).unwrap();
    }
    let text = std::fs::read_to_string(fixture_dir().join("stores.json")).unwrap();
    let mut rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    rows[1]["size_sqm"] = serde_json::json!(4_000_000_000u32);
    std::fs::write(
        dir.path().join("stores.json"),
        serde_json::to_string(&rows).unwrap(),
    )
    .unwrap();
    let args = [&sim[..], &[dir.path().to_str().unwrap()]].concat();
    expect_bad(
        &args,
        &["stores.json: record 2", "size_sqm is 4000000000", "1000000"],
    );
}

/// Runs kafka-gen for at most `limit`, killing it if it runs longer; returns the exit code
/// (None when killed), stdout and stderr.
fn run_for(args: &[&str], limit: Duration) -> (Option<i32>, String, String) {
    let mut child = Command::new(kafka_gen_bin())
        .args(args)
        .env_remove("RUST_LOG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let read = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            r.read_to_string(&mut s).ok();
            s
        })
    };
    let (out, err) = (read(Box::new(stdout)), read(Box::new(stderr)));
    let started = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (code, out.join().unwrap(), err.join().unwrap())
}

#[test]
fn a_world_that_cannot_draw_anything_stops_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    fixture_with(dir.path(), "initial_stock", serde_json::json!(0));
    let data = dir.path().to_str().unwrap();
    let only_sales = "sale=1,inventory_update=0,customer_event=0,price_change=0,restock_alert=0";
    let args = [
        "--data-dir",
        data,
        "--sink",
        "stdout",
        "--weights",
        only_sales,
        "--stats-interval",
        "0",
    ];
    let simulated = ["--start", "2025-01-01T00:00:00Z", "--count", "100"];
    for extra in [&simulated[..], &["--rate", "1000", "--count", "100"]] {
        let all = [&args[..], extra].concat();
        let (code, out, err) = run_for(&all, Duration::from_secs(60));
        assert_eq!(code, Some(2), "{all:?} did not stop: {err}");
        assert!(out.is_empty(), "{out}");
        for needle in ["cannot produce any event", "sale"] {
            assert!(err.contains(needle), "{needle:?} in {err}");
        }
    }
    // Sales that empty the shelves, then nothing else can happen: the events made before the
    // world ran dry are delivered, and the run then stops.
    let full = tempfile::tempdir().unwrap();
    fixture_with(full.path(), "initial_stock", serde_json::json!(1));
    let all = [
        "--data-dir",
        full.path().to_str().unwrap(),
        "--sink",
        "stdout",
        "--weights",
        only_sales,
        "--stats-interval",
        "0",
        "--start",
        "2025-01-01T00:00:00Z",
        "--count",
        "1000000",
    ];
    let (code, out, err) = run_for(&all, Duration::from_secs(60));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot produce any event"), "{err}");
    let sales = out
        .lines()
        .filter(|l| l.contains("\"event_type\":\"sale\""))
        .count();
    assert!(sales > 0, "{err}");
    assert!(out.lines().all(|l| l.ends_with('}')));
}

#[test]
fn event_times_past_year_9999_are_refused() {
    let last = "9999-12-31T23:59:59.999Z";
    expect_bad(
        &["--start", "9999-12-31T23:59:00Z", "--count", "100"],
        &["9999-12-31T23:59:00Z", last],
    );
    expect_bad(
        &["--start", "9999-12-31T23:59:00Z", "--duration", "1h"],
        &["9999-12-31T23:59:00Z", last],
    );
    // Following the profile stretches gaps beyond the up-front estimate: the run stops with an
    // error at the limit instead of wrapping back to January.
    let (code, out, err) = run_for(
        &[
            "--start",
            "9999-12-31T20:00:00Z",
            // 239 minutes fit before midnight; the evening's low intensity stretches them.
            "--count",
            "239",
            "--min-delta",
            "60",
            "--max-delta",
            "60",
            "--follow-profile",
            "--sink",
            "stdout",
            "--stats-interval",
            "0",
            "--data-dir",
            fixture_dir().to_str().unwrap(),
        ],
        Duration::from_secs(60),
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(last), "{err}");
    assert!(!out.contains("\"9999-01-"), "times wrapped back to January");
}

#[test]
fn errors_name_the_key_the_line_and_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let typed = write(
        dir.path(),
        "typed.toml",
        "seed = 1\n\n[schedule]\nrate_per_sec = \"5\"\n",
    );
    expect_bad(
        &["--config", &typed],
        &["schedule.rate_per_sec", "line 4, column 16", "expected f64"],
    );
    let unknown = write(dir.path(), "unknown.toml", "[kafka]\nlinger = 5\n");
    expect_bad(
        &["--config", &unknown],
        &["unknown field `linger`", "line 2, column 1"],
    );

    let out = Command::new(kafka_gen_bin())
        .env("KAFKA_GEN_RAET", "5")
        .env_remove("RUST_LOG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("KAFKA_GEN_RAET"), "{err}");
    assert!(err.contains("KAFKA_GEN_RATE"), "{err}");

    expect_bad(
        &["--count", "-5"],
        &["--count must be a whole number >= 1; got -5"],
    );
    expect_bad(
        &["--count", "1.5"],
        &["--count must be a whole number >= 1; got 1.5"],
    );
    expect_bad(&["--seed", "-1"], &["--seed must be a whole number"]);
    expect_bad(
        &["--http-batch-size", "-1"],
        &["--http-batch-size must be a whole number >= 1; got -1"],
    );
}
