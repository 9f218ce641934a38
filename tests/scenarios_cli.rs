//! Scenario selection through the binary: `kafka-gen scenarios`, `master --scenario`, the
//! scenario-aware defaults, `--volume` and `--streams` (`--threads`, `--users`), bad input.

mod common;

use common::*;

#[test]
fn scenarios_lists_every_registered_scenario() {
    let out = kafka_gen(&["scenarios"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for s in kafka_gen::scenario::REGISTRY {
        assert!(text.contains(&format!("{}: ", s.name())), "{text}");
        for t in s.event_types() {
            assert!(
                text.contains(t.name) && text.contains(t.default_topic),
                "{text}"
            );
        }
    }
    assert!(
        text.contains("songs (1000), users (5000), locations (100)"),
        "{text}"
    );
}

#[test]
fn each_scenario_runs_on_its_shipped_data() {
    for s in kafka_gen::scenario::REGISTRY {
        let out = kafka_gen(&[
            "--scenario",
            s.name(),
            "--sink",
            "stdout",
            "--start",
            "2025-06-01T00:00:00Z",
            "--count",
            "50",
            "--stats-interval",
            "0",
            "--seed",
            "1",
        ]);
        assert!(out.status.success(), "{}: {}", s.name(), stderr(&out));
        let lines: Vec<serde_json::Value> = out
            .stdout
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        assert!(lines.len() >= 50, "{}", s.name());
        assert!(lines.iter().all(|e| e["scenario"] == s.name()));
    }
}

#[test]
fn a_scenario_flag_starts_from_that_scenarios_defaults() {
    // config/generator.toml names retail's weights, topics and data directory.
    let out = kafka_gen(&["config", "--scenario", "music"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed: toml::Value = toml::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(printed["data_dir"].as_str(), Some("data/music"));
    assert!(printed["weights"].get("sale").is_none());
    let out = kafka_gen(&[
        "config",
        "--scenario",
        "music",
        "--data-dir",
        "elsewhere",
        "--volume",
        "120",
        "--threads",
        "7",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed: toml::Value = toml::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(printed["data_dir"].as_str(), Some("elsewhere"));
    assert_eq!(printed["schedule"]["rate_per_sec"].as_float(), Some(2.0));
    assert_eq!(printed["streams"].as_integer(), Some(7));
    let out = kafka_gen(&["config", "--users", "3"]);
    let printed: toml::Value = toml::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(printed["streams"].as_integer(), Some(3));
    assert_eq!(printed["data_dir"].as_str(), Some("data"));
}

#[test]
fn master_writes_any_scenarios_data_reproducibly() {
    for s in kafka_gen::scenario::REGISTRY {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let sizes: Vec<String> = s
            .master_kinds()
            .iter()
            .map(|k| format!("{}=7", k.name))
            .collect();
        for dir in [&a, &b] {
            let out = kafka_gen(&[
                "master",
                "--scenario",
                s.name(),
                "--size",
                &sizes.join(","),
                "--seed",
                "5",
                "--out",
                dir.path().to_str().unwrap(),
            ]);
            assert!(out.status.success(), "{}", stderr(&out));
        }
        for k in s.master_kinds() {
            let f = format!("{}.json", k.name);
            let bytes = std::fs::read(a.path().join(&f)).unwrap();
            assert_eq!(bytes, std::fs::read(b.path().join(&f)).unwrap(), "{f}");
            let records: Vec<serde_json::Value> = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(records.len(), 7, "{f}");
        }
        // What master writes, a run loads and its contract accepts.
        let out = kafka_gen(&[
            "--scenario",
            s.name(),
            "--data-dir",
            a.path().to_str().unwrap(),
            "--sink",
            "stdout",
            "--start",
            "2025-06-01T00:00:00Z",
            "--count",
            "100",
            "--stats-interval",
            "0",
        ]);
        assert!(out.status.success(), "{}: {}", s.name(), stderr(&out));
        let mut checker = s.checker(a.path(), true).unwrap();
        for line in out.stdout.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            checker.check(&serde_json::from_slice(line).unwrap());
        }
        checker.finish();
        assert!(
            checker.violations().is_empty(),
            "{}: {:?}",
            s.name(),
            checker.violations()[0]
        );
    }
}

#[test]
fn bad_scenario_input_exits_2_naming_the_value() {
    expect_usage_error(&["--scenario", "opera"], "unknown scenario \"opera\"");
    expect_usage_error(
        &["master", "--scenario", "opera"],
        "unknown scenario \"opera\"",
    );
    expect_usage_error(
        &["master", "--scenario", "music", "--stores", "3"],
        "no master data kind \"stores\"",
    );
    expect_usage_error(
        &["master", "--scenario", "music", "--size", "songs=0"],
        "0 songs is out of range",
    );
    expect_usage_error(&["master", "--size", "songs"], "\"songs\" is not KIND=N");
    expect_usage_error(
        &["--scenario", "music", "--weights", "sale=1"],
        "unknown event type \"sale\"",
    );
    expect_usage_error(&["--scenario", "music", "--volume", "0"], "volume is 0");
    expect_usage_error(&["--scenario", "music", "--threads", "0"], "0");
    expect_usage_error(&["--volume", "5", "--rate", "3"], "cannot be used with");
    expect_usage_error(
        &[
            "--scenario",
            "music",
            "--sink",
            "null",
            "--data-dir",
            "/nonexistent",
        ],
        "songs.json (or .csv) is missing",
    );
}
