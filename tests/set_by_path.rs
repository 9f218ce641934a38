//! Any config field set by its path, through the binary: `--conf PATH=VALUE` and
//! `KAFKA_GEN__SECTION__FIELD=VALUE` (issue 11), their precedence against the file, the other
//! variables and flags, and exit 2 for a bad path or value.

mod common;

use std::process::Command;

use common::*;

/// `kafka-gen config ARGS` with `env`, from the repository root; the printed TOML.
fn printed(args: &[&str], env: &[(&str, &str)]) -> toml::Value {
    let out = Command::new(kafka_gen_bin())
        .arg("config")
        .args(args)
        .envs(env.iter().copied())
        .env_remove("RUST_LOG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?} {env:?}: {}", stderr(&out));
    toml::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap()
}

/// Runs `kafka-gen ARGS` with `env` expecting exit 2, no panic, and every needle.
fn expect_bad(args: &[&str], env: &[(&str, &str)], needles: &[&str]) {
    let out = Command::new(kafka_gen_bin())
        .args(args)
        .envs(env.iter().copied())
        .env_remove("RUST_LOG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for needle in needles {
        assert!(
            err.contains(needle),
            "{args:?} {env:?}: expected {needle:?} in {err:?}"
        );
    }
}

#[test]
fn fields_of_several_sections_are_set_by_flag_and_by_environment() {
    let c = printed(
        &[
            "--conf",
            "kafka.linger_ms=7",
            "--conf",
            "http.batch_size=42",
            "--conf",
            "ingest.max_body_bytes=2048",
        ],
        &[
            ("KAFKA_GEN__SCHEDULE__RATE_PER_SEC", "12.5"),
            ("KAFKA_GEN__PROFILE__TIMEZONE", "Europe/Paris"),
            ("KAFKA_GEN__FILE__PER_TYPE", "true"),
        ],
    );
    assert_eq!(c["kafka"]["linger_ms"].as_integer(), Some(7));
    assert_eq!(c["http"]["batch_size"].as_integer(), Some(42));
    assert_eq!(c["ingest"]["max_body_bytes"].as_integer(), Some(2048));
    assert_eq!(c["schedule"]["rate_per_sec"].as_float(), Some(12.5));
    assert_eq!(c["profile"]["timezone"].as_str(), Some("Europe/Paris"));
    assert_eq!(c["file"]["per_type"].as_bool(), Some(true));
    // Before the subcommand's name, as the other run flags may be (issue 10).
    let out = kafka_gen(&["--conf", "kafka.linger_ms=9", "config"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let c: toml::Value = toml::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(c["kafka"]["linger_ms"].as_integer(), Some(9));
}

#[test]
fn precedence_is_defaults_file_env_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(
        &file,
        "[kafka]\nlinger_ms = 20\nbatch_size_bytes = 300000\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    // The file beats the defaults.
    let c = printed(&["--config", file], &[]);
    assert_eq!(c["kafka"]["linger_ms"].as_integer(), Some(20));
    // A path variable beats the file; the file still beats the defaults elsewhere.
    let env = [("KAFKA_GEN__KAFKA__LINGER_MS", "30")];
    let c = printed(&["--config", file], &env);
    assert_eq!(c["kafka"]["linger_ms"].as_integer(), Some(30));
    assert_eq!(c["kafka"]["batch_size_bytes"].as_integer(), Some(300000));
    // --conf beats the variable.
    let c = printed(&["--config", file, "--conf", "kafka.linger_ms=40"], &env);
    assert_eq!(c["kafka"]["linger_ms"].as_integer(), Some(40));
    // Against the named variables and flags: a path variable beats KAFKA_GEN_*, loses to a
    // flag; --conf beats both.
    let env = [
        ("KAFKA_GEN_BOOTSTRAP_SERVERS", "named-env:9092"),
        ("KAFKA_GEN__KAFKA__BOOTSTRAP_SERVERS", "path-env:9092"),
    ];
    let c = printed(&[], &env);
    assert_eq!(
        c["kafka"]["bootstrap_servers"].as_str(),
        Some("path-env:9092")
    );
    let c = printed(&["--bootstrap-servers", "flag:9092"], &env);
    assert_eq!(c["kafka"]["bootstrap_servers"].as_str(), Some("flag:9092"));
    let both = [
        "--bootstrap-servers",
        "flag:9092",
        "--conf",
        "kafka.bootstrap_servers=conf:9092",
    ];
    let c = printed(&both, &env);
    assert_eq!(c["kafka"]["bootstrap_servers"].as_str(), Some("conf:9092"));
}

#[test]
fn a_bad_path_or_value_exits_2_naming_path_value_and_what_is_allowed() {
    expect_bad(
        &["--conf", "kafka.lingr_ms=5", "--sink", "null"],
        &[],
        &[
            "--conf kafka.lingr_ms=5",
            "kafka.lingr_ms is not a setting",
            "`linger_ms`",
        ],
    );
    expect_bad(
        &["--sink", "null"],
        &[("KAFKA_GEN__SCHEDULE__RATE", "5")],
        &[
            "KAFKA_GEN__SCHEDULE__RATE",
            "schedule.rate is not a setting",
            "`rate_per_sec`",
        ],
    );
    expect_bad(
        &["--conf", "http.batch_size=lots", "--sink", "null"],
        &[],
        &["http.batch_size cannot be \"lots\"", "u32"],
    );
    expect_bad(
        &["--sink", "null"],
        &[("KAFKA_GEN__FILE__PER_TYPE", "maybe")],
        &[
            "KAFKA_GEN__FILE__PER_TYPE",
            "file.per_type cannot be \"maybe\"",
            "bool",
        ],
    );
    // Ranges are checked as for the file: the value, the range and where to change it.
    expect_bad(
        &["--conf", "schedule.rate_per_sec=1e300", "--sink", "null"],
        &[],
        &["rate is 1e300", "1e-6 to 1e9"],
    );
    expect_bad(
        &["--conf", "kafka.linger_ms=4000000000"],
        &[],
        &["linger_ms", "4000000000"],
    );
    // Every command that reads the configuration takes it.
    expect_bad(
        &["consume", "--conf", "kafka.nope=1"],
        &[],
        &["kafka.nope is not a setting"],
    );
}

#[test]
fn a_path_run_paces_like_the_flag_it_stands_for() {
    // `schedule.count` alone runs at once on a simulated clock (issue 10), and a path that sets
    // a pace makes it a paced run, just as --rate does: checked by the note each one logs.
    let out = kafka_gen(&[
        "--sink",
        "null",
        "--conf",
        "schedule.count=3",
        "--seed",
        "1",
        "--stats-interval",
        "0",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("A count with no pacing"),
        "{}",
        stderr(&out)
    );
    let out = kafka_gen(&[
        "--sink",
        "null",
        "--conf",
        "schedule.count=3",
        "--conf",
        "schedule.rate_per_sec=1000",
        "--seed",
        "1",
        "--stats-interval",
        "0",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("A count with no pacing"),
        "{}",
        stderr(&out)
    );
}
