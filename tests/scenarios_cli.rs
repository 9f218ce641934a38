//! Scenario selection through the binary: `kafka-gen scenarios`, `master --scenario`, the
//! scenario-aware defaults, `--volume` and `--streams` (`--threads`, `--users`), bad input.

mod common;

use common::*;

#[test]
fn scenarios_lists_every_world_with_its_file() {
    let out = kafka_gen(&["scenarios"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for s in kafka_gen::scenario::builtins().unwrap() {
        assert!(text.contains(&format!("{}: ", s.name())), "{text}");
        for t in s.event_types() {
            assert!(
                text.contains(t.name) && text.contains(t.default_topic),
                "{text}"
            );
        }
    }
    assert!(
        text.contains("locations (100), artists (125), songs (1000), users (5000)"),
        "{text}"
    );
    for name in ["music", "tutoring", "web", "bnpl"] {
        let line = format!("  world file: worlds/{name}.yaml (built in)");
        assert!(text.contains(&line), "{text}");
    }
    assert!(text.contains("master data in data/music:"), "{text}");
    assert!(
        text.contains("world file worlds/bank.yaml (--world worlds/bank.yaml)"),
        "{text}"
    );
}

#[test]
fn each_scenario_runs_on_its_shipped_data() {
    for s in kafka_gen::scenario::builtins().unwrap() {
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
        // Tutoring keeps its document's envelope, which names no scenario.
        assert!(lines
            .iter()
            .all(|e| e.get("scenario").is_none_or(|n| n == s.name())
                && s.event_types().iter().any(|t| e["event_type"] == t.name)));
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
    // 120 plays a minute as sessions of 11.5 plays on average (issue 29).
    assert_eq!(
        printed["schedule"]["rate_per_sec"].as_float(),
        Some(2.0 / 11.5)
    );
    // Music's --threads is its world file's parameter (issue 11).
    assert_eq!(printed["params"]["threads"].as_str(), Some("7"));
    let out = kafka_gen(&["config", "--users", "3"]);
    let printed: toml::Value = toml::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(printed["streams"].as_integer(), Some(3));
    assert_eq!(printed["data_dir"].as_str(), Some("data"));
}

#[test]
fn master_writes_any_scenarios_data_reproducibly() {
    for s in kafka_gen::scenario::builtins().unwrap() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        // Small, but no smaller than a world needs (web's pages include one of each of its ten
        // page types; tutoring's 45 markets are its 9 subjects in 5 regions).
        let size = |k: &kafka_gen::scenario::MasterKind| k.default_count.min(50);
        let sizes: Vec<String> = s
            .master_kinds()
            .iter()
            .map(|k| format!("{}={}", k.name, size(k)))
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
            assert_eq!(records.len(), size(k), "{f}");
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
    // A world file's kind counted by a parameter keeps to the parameter's range: web's pages
    // start with one of each of its ten page types.
    expect_usage_error(
        &["master", "--scenario", "web", "--size", "pages=5"],
        "5 pages is out of range: web counts them by the parameter num_pages, which allows 10 to 1000000",
    );
    expect_usage_error(
        &["--scenario", "music", "--weights", "sale=1"],
        "unknown event type \"sale\"",
    );
    expect_usage_error(&["--scenario", "music", "--volume", "-1"], "volume");
    expect_usage_error(&["--scenario", "music", "--threads", "0"], "0");
    expect_usage_error(&["--volume", "5", "--rate", "3"], "cannot be used with");
    let empty = tempfile::tempdir().unwrap();
    expect_usage_error(
        &[
            "--scenario",
            "music",
            "--sink",
            "null",
            "--data-dir",
            empty.path().to_str().unwrap(),
        ],
        "locations.json (or .csv) is missing",
    );
}

/// Issue 11: a shipped world's name runs the file built into the binary, from any working
/// directory, with the same bytes as the file on disk.
#[test]
fn a_shipped_worlds_name_runs_its_file_from_any_directory() {
    let elsewhere = tempfile::tempdir().unwrap();
    for world in ["music", "--world=music"] {
        let mut args = vec![];
        if world == "music" {
            args.extend(["--scenario", "music"]);
        } else {
            args.push(world);
        }
        args.extend([
            "--data-dir",
            "/nonexistent/kafka-gen-test",
            "--sink",
            "stdout",
            "--seed",
            "7",
            "--start",
            "2025-01-01T09:00:00Z",
            "--count",
            "200",
            "--min-delta",
            "10",
            "--max-delta",
            "60",
            "--stats-interval",
            "0",
        ]);
        let out = std::process::Command::new(kafka_gen_bin())
            .args(&args)
            .env_remove("RUST_LOG")
            .current_dir(elsewhere.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/golden-world-music.jsonl");
        assert!(
            out.stdout == std::fs::read(golden).unwrap(),
            "{world}: not the bytes of worlds/music.yaml"
        );
    }
}

/// Issue 11: the Rust worlds took --streams (--threads, --users) and `streams`; each file's
/// `aliases:` maps them to its own parameter, and a parameter given by name wins.
#[test]
fn streams_set_each_worlds_own_parameter() {
    let params = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(kafka_gen_bin());
        cmd.args(args).env_remove("RUST_LOG");
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let printed: toml::Value = toml::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
        printed
            .get("params")
            .cloned()
            .unwrap_or(toml::Value::Table(Default::default()))
    };
    for (world, param) in [
        ("music", "threads"),
        ("tutoring", "STREAM_COUNT"),
        ("web", "num_users"),
    ] {
        for flag in ["--streams", "--threads", "--users"] {
            let p = params(&["config", "--scenario", world, flag, "6"], &[]);
            assert_eq!(p[param].as_str(), Some("6"), "{world} {flag}: {p}");
        }
        let p = params(
            &["config", "--scenario", world],
            &[("KAFKA_GEN_STREAMS", "4")],
        );
        assert_eq!(
            p[param].as_integer(),
            Some(4),
            "{world} KAFKA_GEN_STREAMS: {p}"
        );
        let set = format!("{param}=9");
        let p = params(
            &["config", "--scenario", world, "--set", &set],
            &[("KAFKA_GEN_STREAMS", "4")],
        );
        assert_eq!(p[param].as_str(), Some("9"), "{world}: --set wins: {p}");
    }
    // Over the whole run: 3 tutoring streams.
    let out = kafka_gen(&[
        "--scenario",
        "tutoring",
        "--streams",
        "3",
        "--sink",
        "stdout",
        "--seed",
        "1",
        "--start",
        "2025-06-01T00:00:00Z",
        "--count",
        "300",
        "--stats-interval",
        "0",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let streams: std::collections::HashSet<String> = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            let e: serde_json::Value = serde_json::from_slice(l).unwrap();
            Some(e["stream_id"].to_string()).filter(|s| s != "null")
        })
        .collect();
    assert_eq!(streams.len(), 3, "{streams:?}");
}

/// Issue 11: a config file of the Rust worlds' days, with their own sections, exits 2 naming
/// each key and the parameter it became; so does a setting by path into one.
#[test]
fn an_old_world_section_exits_2_naming_what_each_key_became() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("old.toml");
    std::fs::write(
        &config,
        "scenario = \"music\"\n[music]\nfull_play_share = 0.5\npopularity_skew = 1.3\n",
    )
    .unwrap();
    let path = config.to_str().unwrap();
    expect_usage_error(
        &["--config", path, "config"],
        "music.full_play_share -> the parameter full_play_share: --set full_play_share=V",
    );
    expect_usage_error(
        &["--config", path, "config"],
        "music.popularity_skew -> no parameter: the file's song pick has a fixed Zipf exponent",
    );
    expect_usage_error(
        &["--conf", "tutoring.call_resolved_share=0.5", "config"],
        "tutoring.call_resolved_share -> the parameter resolved_share",
    );
}
