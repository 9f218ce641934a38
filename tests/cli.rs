//! The binary end to end: golden output, master data, bad input, pipes and signals.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

const GOLDEN_ARGS: &[&str] = &[
    "--data-dir",
    "tests/fixtures/master",
    "--sink",
    "stdout",
    "--seed",
    "7",
    "--start",
    "2025-01-01T09:00:00Z",
    "--count",
    "200",
    "--stats-interval",
    "0",
];

#[test]
fn golden_output_is_byte_identical() {
    let out = kafka_gen(GOLDEN_ARGS);
    assert!(out.status.success(), "{}", stderr(&out));
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden-retail.jsonl");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &out.stdout).unwrap();
    }
    let want = std::fs::read(&golden)
        .expect("golden file; create it with UPDATE_GOLDEN=1 cargo test --test cli");
    assert!(
        out.stdout == want,
        "output differs from {}; if the change is intended, rerun with UPDATE_GOLDEN=1",
        golden.display()
    );
    let again = kafka_gen(GOLDEN_ARGS);
    assert_eq!(again.stdout, out.stdout);
}

#[test]
fn master_is_reproducible_and_runnable_in_both_formats() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for dir in [&a, &b] {
        let out = kafka_gen(&[
            "master",
            "--stores",
            "3",
            "--products",
            "20",
            "--customers",
            "30",
            "--seed",
            "5",
            "--out",
            dir.path().to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    for f in ["stores.json", "products.json", "customers.json"] {
        assert_eq!(
            std::fs::read(a.path().join(f)).unwrap(),
            std::fs::read(b.path().join(f)).unwrap(),
            "{f}"
        );
    }
    let stores: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(a.path().join("stores.json")).unwrap()).unwrap();
    assert_eq!(stores.len(), 3);

    let csv = tempfile::tempdir().unwrap();
    let out = kafka_gen(&[
        "master",
        "--format",
        "csv",
        "--stores",
        "3",
        "--products",
        "20",
        "--customers",
        "30",
        "--out",
        csv.path().to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let run = kafka_gen(&[
        "--data-dir",
        csv.path().to_str().unwrap(),
        "--sink",
        "stdout",
        "--start",
        "2025-01-01T00:00:00Z",
        "--count",
        "50",
        "--stats-interval",
        "0",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        run.stdout
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count()
            >= 50
    );
}

#[test]
fn bad_flags_and_config_exit_2_naming_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    expect_usage_error(
        &["--config", "/nonexistent/generator.toml"],
        "/nonexistent/generator.toml",
    );
    expect_usage_error(&["--config", &cfg("bad.toml", "[schedule\n")], "bad.toml");
    expect_usage_error(
        &["--config", &cfg("unknown.toml", "colour = 1\n")],
        "unknown field `colour`",
    );
    expect_usage_error(&["--weights", "sale=-0.5"], "weight for \"sale\" is -0.5");
    expect_usage_error(&["--weights", "sale=NaN"], "weight for \"sale\" is NaN");
    expect_usage_error(&["--weights", "refund=1"], "unknown event type \"refund\"");
    expect_usage_error(
        &[
            "--weights",
            "sale=0,inventory_update=0,customer_event=0,price_change=0,restock_alert=0",
        ],
        "all event weights are zero",
    );
    expect_usage_error(
        &["--min-delta", "40", "--max-delta", "30"],
        "min delta 40s is greater than max delta 30s",
    );
    expect_usage_error(&["--min-delta", "-1"], "min delta is -1");
    expect_usage_error(&["--rate", "0"], "rate is 0");
    expect_usage_error(&["--rate", "-5"], "rate is -5");
    expect_usage_error(&["--count", "0"], "count is 0");
    expect_usage_error(&["--count", "-3"], "-3");
    expect_usage_error(&["--duration", "0"], "duration \"0\"");
    expect_usage_error(
        &["--duration", "-2h"],
        "duration \"-2h\" is not a positive length of time",
    );
    expect_usage_error(&["--continuous", "--duration", "5"], "cannot be used with");
    expect_usage_error(
        &["--output", "/nonexistent-dir/out.jsonl"],
        "/nonexistent-dir/out.jsonl",
    );
}

#[test]
fn bad_historical_input_exits_2() {
    expect_usage_error(
        &["--start", "2025-12-01", "--end", "2025-11-01"],
        "end 2025-11-01 is not after start 2025-12-01",
    );
    expect_usage_error(
        &["--start", "2025-13-01"],
        "\"2025-13-01\" is not a date or time",
    );
    expect_usage_error(
        &["--start", "yesterday"],
        "\"yesterday\" is not a date or time",
    );
    expect_usage_error(
        &["--start", "2025-01-01", "--end", "2099-01-01"],
        "end 2099-01-01 is in the future",
    );
    expect_usage_error(
        &["--start", "2025-01-01", "--count", "5", "--speed", "0"],
        "speed is 0",
    );
    expect_usage_error(
        &["--start", "2025-01-01", "--count", "5", "--speed", "-2"],
        "speed is -2",
    );
    expect_usage_error(
        &[
            "--start",
            "2025-01-01",
            "--end",
            "2025-02-01",
            "--count",
            "5",
            "--events-per-day",
            "3",
        ],
        "cannot be used with",
    );
    expect_usage_error(&["--end", "2025-02-01"], "--start");
    let dir = tempfile::tempdir().unwrap();
    let cfg = |text: &str| {
        let p = dir.path().join("p.toml");
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let hours = |w: &str| format!("[profile]\nhourly = [{w}]\n", w = [w; 24].join(","));
    expect_usage_error(
        &["--config", &cfg(&hours("0"))],
        "profile.hourly weights are all zero",
    );
    let negative = format!("[profile]\nhourly = [-1{}]\n", ",1".repeat(23));
    expect_usage_error(
        &["--config", &cfg(&negative)],
        "profile.hourly weight for 00:00 is -1",
    );
    expect_usage_error(
        &["--timezone", "Mars/Base"],
        "time zone \"Mars/Base\" is unknown",
    );
}

#[test]
fn bad_master_data_exits_2_naming_file_and_record() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let run = |needle: &str| {
        expect_usage_error(
            &[
                "--data-dir",
                d,
                "--sink",
                "null",
                "--count",
                "1",
                "--start",
                "2025-01-01T00:00:00Z",
            ],
            needle,
        )
    };
    run("stores.json (or .csv) is missing; run `kafka-gen master");
    for f in ["stores.json", "products.json", "customers.json"] {
        std::fs::copy(fixture_dir().join(f), dir.path().join(f)).unwrap();
    }
    let products = dir.path().join("products.json");
    let original = std::fs::read_to_string(&products).unwrap();
    std::fs::write(&products, "").unwrap();
    run("products.json is empty");
    std::fs::write(&products, "[{\"sku\": 1}]").unwrap();
    run("products.json: record 1");
    std::fs::write(
        &products,
        original.replacen("\"base_price\":", "\"base_price\":-", 1),
    )
    .unwrap();
    run("base_price is -");
    let mut rows: Vec<serde_json::Value> = serde_json::from_str(&original).unwrap();
    rows[3]["sku"] = rows[0]["sku"].clone();
    std::fs::write(&products, serde_json::to_string(&rows).unwrap()).unwrap();
    run("record 4: duplicate id \"SKU-00001\"");
    std::fs::write(&products, &original).unwrap();
    let customers = dir.path().join("customers.json");
    let text = std::fs::read_to_string(&customers).unwrap();
    std::fs::write(
        &customers,
        text.replacen("\"home_store_id\":\"ST-00", "\"home_store_id\":\"XX-00", 1),
    )
    .unwrap();
    run("is not a store in the stores file");
}

#[test]
fn closing_the_pipe_ends_quietly() {
    let mut child = Command::new(kafka_gen_bin())
        .args([
            "--sink",
            "stdout",
            "--rate",
            "100000",
            "--stats-interval",
            "0",
            "--data-dir",
        ])
        .arg(fixture_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for _ in 0..10 {
        assert!(lines.next().unwrap().unwrap().starts_with('{'));
    }
    drop(lines);
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(
        !err.contains("ERROR") && !err.contains("kafka-gen:"),
        "{err}"
    );
}

#[test]
fn sigterm_and_sigint_flush_and_exit_0() {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let dir = tempfile::tempdir().unwrap();
        let out_path = dir.path().join("events.jsonl");
        let mut child = Command::new(kafka_gen_bin())
            .args(["--rate", "2000", "--stats-interval", "0", "--output"])
            .arg(&out_path)
            .arg("--data-dir")
            .arg(fixture_dir())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until events are being written (bounded), then signal.
        for _ in 0..200 {
            if std::fs::metadata(&out_path)
                .map(|m| m.len() > 0)
                .unwrap_or(false)
            {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = child.wait().unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert_eq!(status.code(), Some(0), "signal {signal}: {err}");
        let written = std::fs::read_to_string(&out_path).unwrap();
        let lines = written.lines().count();
        for line in written.lines() {
            serde_json::from_str::<serde_json::Value>(line).expect("every line is a whole event");
        }
        let summary = err
            .lines()
            .find(|l| l.contains("Summary."))
            .expect("a summary line");
        assert!(
            summary.contains(&format!("events={lines} ")),
            "file has {lines} lines; {summary}"
        );
        assert!(
            summary.contains(&format!("file delivered={lines} failed=0")),
            "{summary}"
        );
    }
}

#[test]
fn per_type_files_and_json_logs() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("ev.jsonl");
    let out = kafka_gen(&[
        "--data-dir",
        "tests/fixtures/master",
        "--output",
        base.to_str().unwrap(),
        "--output-per-type",
        "--start",
        "2025-01-01T00:00:00Z",
        "--count",
        "500",
        "--log-format",
        "json",
        "--seed",
        "1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut total = 0;
    for ty in [
        "sale",
        "inventory_update",
        "customer_event",
        "price_change",
        "restock_alert",
    ] {
        let text = std::fs::read_to_string(dir.path().join(format!("ev.{ty}.jsonl"))).unwrap();
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["event_type"], ty);
            total += 1;
        }
    }
    let summary: serde_json::Value = stderr(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["message"] == "Summary.")
        .expect("a JSON summary line");
    assert_eq!(summary["events"], total);
    assert_eq!(summary["primary"], 500);
}

#[test]
fn config_prints_the_effective_configuration() {
    let out = Command::new(kafka_gen_bin())
        .args(["config", "--rate", "250", "--weights", "sale=0.7"])
        .env("KAFKA_GEN_MAX_DELTA", "33")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let printed: toml::Value = toml::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(printed["schedule"]["rate_per_sec"].as_float(), Some(250.0));
    assert_eq!(printed["schedule"]["max_delta_secs"].as_float(), Some(33.0));
    assert_eq!(printed["weights"]["sale"].as_float(), Some(0.7));
}
