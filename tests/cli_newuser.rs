//! What a new user meets first (issue 10, "What a new user sees"): the documented commands
//! finish within seconds, global flags work before a subcommand, nothing is silently ignored,
//! `master` does not overwrite the shipped data, and `--help` names every variable.

mod common;

use std::time::Duration;

use common::*;
use kafka_gen::cli::RunArgs;
use kafka_gen::config::{resolve_with_env, SinkKind};

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `--scenario NAME --sink stdout --count 5 --stats-interval 0`, resolved as the binary does
/// from the repository root, with `env` as the environment.
fn count_args(scenario: &str) -> RunArgs {
    RunArgs {
        scenario: Some(scenario.into()),
        sink: Some(vec![SinkKind::Stdout]),
        count: Some(5),
        stats: kafka_gen::cli::StatsArgs {
            stats_interval: Some(0.0),
        },
        ..RunArgs::default()
    }
}

/// Runs the resolved config into a capture sink; returns how much of tokio's (paused) clock
/// the run took and the primary events' times in milliseconds.
async fn run_timed(args: &RunArgs, env: &[(&str, &str)]) -> (Duration, Vec<i64>) {
    let config = resolve_with_env(args, vars(env)).unwrap();
    let t0 = tokio::time::Instant::now();
    let (summary, events) = run_captured(&config).await;
    let took = t0.elapsed();
    assert_eq!(summary.primary.iter().sum::<u64>(), 5);
    let times = events
        .iter()
        .filter(|e| e["caused_by"].is_null())
        .map(|e| {
            // Tutoring keeps its document's envelope: the time is its payload's timestamp.
            let t = (e["event_time"].as_str())
                .or(e["payload"]["timestamp"].as_str())
                .unwrap();
            chrono::DateTime::parse_from_rfc3339(t)
                .unwrap()
                .timestamp_millis()
        })
        .collect();
    (took, times)
}

/// Issue 10: `kafka-gen --sink stdout --count 5` took 2-3 minutes in every scenario, and the
/// README's `--create-topics --count 10000` about four days. A count with no pacing flag now
/// posts as fast as the sinks take events, on a simulated clock whose event times keep the
/// realistic gaps (10-60 s by default, or the world file's own pace) and end now.
#[tokio::test(start_paused = true)]
async fn a_count_without_pacing_posts_at_once_with_realistic_gaps() {
    for s in kafka_gen::scenario::builtins().unwrap() {
        let before = chrono::Utc::now().timestamp_millis();
        let (took, times) = run_timed(&count_args(s.name()), &[]).await;
        let after = chrono::Utc::now().timestamp_millis();
        // The simulated clock ends now, so no event lies in the future, where Kafka 4 would
        // refuse it by default (message.timestamp.after.max.ms is an hour).
        let last = times.last().copied().unwrap_or_default();
        assert!(
            (before - 1..=after + 1).contains(&last),
            "{}: last event at {last}, run between {before} and {after}",
            s.name()
        );
        // Nothing sleeps: the paused clock does not move at all.
        assert_eq!(
            took,
            Duration::ZERO,
            "{}: the run waited {took:?}",
            s.name()
        );
        assert_eq!(times.len(), 5, "{}", s.name());
        // The default 10-60 s, or the pace the world file states (music: 1 play a second,
        // tutoring: 500 events a minute, web: its gaps; bnpl follows the time profile).
        let pace = s.default_pace();
        let (lo, hi) = match (pace.rate, pace.deltas) {
            _ if pace.is_empty() => (10_000, 60_000),
            (Some(r), _) if pace.follow_profile != Some(true) => {
                let gap = (1000.0 / r).round() as i64;
                (gap - 1, gap + 1)
            }
            (_, Some((lo, hi))) => ((lo * 1000.0) as i64, (hi * 1000.0).ceil() as i64),
            _ => (1, i64::MAX),
        };
        for pair in times.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                (lo..=hi).contains(&gap),
                "{}: gap {gap} ms outside {lo}-{hi} ms",
                s.name()
            );
        }
    }
}

/// Pacing given by a flag or by the environment keeps the live, real-time pace.
#[tokio::test(start_paused = true)]
async fn explicit_pacing_keeps_the_live_pace() {
    let mut args = count_args("retail");
    args.min_delta = Some(1.0);
    args.max_delta = Some(2.0);
    let (took, times) = run_timed(&args, &[]).await;
    // Four gaps of 1-2 s each, waited out in (paused) real time.
    assert!(took >= Duration::from_secs(4), "took {took:?}");
    assert_eq!(times.len(), 5);

    let env = [("KAFKA_GEN_MIN_DELTA", "1"), ("KAFKA_GEN_MAX_DELTA", "2")];
    let (took, _) = run_timed(&count_args("retail"), &env).await;
    assert!(took >= Duration::from_secs(4), "took {took:?}");

    let mut args = count_args("retail");
    args.rate = Some(2.0);
    let (took, _) = run_timed(&args, &[]).await;
    assert!(took >= Duration::from_secs(1), "took {took:?}");
}

/// Runs the binary in `dir` with extra environment variables.
fn kafka_gen_in(
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    std::process::Command::new(kafka_gen_bin())
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("KAFKA_BOOTSTRAP_SERVERS")
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .unwrap()
}

fn fixture() -> String {
    fixture_dir().to_str().unwrap().to_string()
}

/// Issue 10: `kafka-gen --config x.toml config` and `--scenario music master` gave "cannot be
/// used with". A run's flags before a subcommand now reach it.
#[test]
fn global_flags_before_a_subcommand_reach_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("x.toml");
    std::fs::write(&config, "seed = 9\n").unwrap();
    let out = kafka_gen(&[
        "--config",
        config.to_str().unwrap(),
        "--scenario",
        "music",
        "config",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("seed = 9"), "{printed}");
    assert!(printed.contains("scenario = \"music\""), "{printed}");

    let data = dir.path().join("music");
    let out = kafka_gen(&[
        "--scenario",
        "music",
        "master",
        "--out",
        data.to_str().unwrap(),
        "--size",
        "songs=3,users=3,locations=3",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(data.join("songs.json").exists());

    // A flag the subcommand does not take is named, not reported as a clash.
    let out = kafka_gen(&[
        "--sink",
        "stdout",
        "master",
        "--out",
        data.to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--sink") && !err.contains("cannot be used with"),
        "{err}"
    );

    // A flag's value is never taken for a subcommand.
    let cli = kafka_gen::cli::Cli::try_parse_args(["kafka-gen", "--weights", "master=1"]).unwrap();
    assert!(cli.command.is_none());
    assert_eq!(cli.run.weights.as_deref(), Some("master=1"));
}

/// Issue 10: `--output x.jsonl --sink stdout` silently wrote no file.
#[test]
fn output_without_the_file_sink_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.jsonl");
    let out = kafka_gen(&[
        "--output",
        path.to_str().unwrap(),
        "--sink",
        "stdout",
        "--count",
        "1",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("add file to --sink (e.g. --sink stdout,file)"),
        "{err}"
    );
    assert!(!path.exists());

    // KAFKA_GEN_OUTPUT alone means the file sink, as --output alone does.
    let env = vars(&[("KAFKA_GEN_OUTPUT", "x.jsonl")]);
    let c = resolve_with_env(&RunArgs::default(), env).unwrap();
    assert_eq!(c.sinks, vec![SinkKind::File]);
    let env = vars(&[
        ("KAFKA_GEN_OUTPUT", "x.jsonl"),
        ("KAFKA_GEN_SINK", "stdout"),
    ]);
    let e = resolve_with_env(&RunArgs::default(), env).unwrap_err();
    assert!(
        format!("{e:#}").contains("KAFKA_GEN_OUTPUT=x.jsonl"),
        "{e:#}"
    );
}

/// Issue 10: a missing default config file silently used the defaults; now the log says which
/// file was read, or that none was.
#[test]
fn the_log_says_which_config_file_was_read() {
    let args = [
        "--data-dir",
        &fixture(),
        "--sink",
        "null",
        "--count",
        "1",
        "--stats-interval",
        "0",
    ];
    let empty = tempfile::tempdir().unwrap();
    let out = kafka_gen_in(empty.path(), &args, &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("No config file found; using the built-in defaults"),
        "{err}"
    );

    let out = kafka_gen(&args);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("Loaded config file") && err.contains("config/generator.toml"),
        "{err}"
    );
}

/// Issue 10: `KAFKA_BOOTSTRAP_SERVERS`, the name the seed's compose file used, was ignored
/// without a word. It is an alias now; `KAFKA_GEN_BOOTSTRAP_SERVERS` wins over it.
#[test]
fn kafka_bootstrap_servers_is_an_alias() {
    let c = resolve_with_env(
        &RunArgs::default(),
        vars(&[("KAFKA_BOOTSTRAP_SERVERS", "k:1")]),
    );
    assert_eq!(c.unwrap().kafka.bootstrap_servers, "k:1");
    let both = [
        ("KAFKA_BOOTSTRAP_SERVERS", "k:1"),
        ("KAFKA_GEN_BOOTSTRAP_SERVERS", "k:2"),
    ];
    let c = resolve_with_env(&RunArgs::default(), vars(&both)).unwrap();
    assert_eq!(c.kafka.bootstrap_servers, "k:2");

    let args = [
        "--data-dir",
        &fixture(),
        "--sink",
        "null",
        "--count",
        "1",
        "--stats-interval",
        "0",
    ];
    let dir = tempfile::tempdir().unwrap();
    let out = kafka_gen_in(dir.path(), &args, &[("KAFKA_BOOTSTRAP_SERVERS", "k:1")]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("Using KAFKA_BOOTSTRAP_SERVERS as KAFKA_GEN_BOOTSTRAP_SERVERS"),
        "{err}"
    );
}

/// Issue 10: `kafka-gen master` with no `--out` overwrote the shipped `./data` without asking.
#[test]
fn master_without_out_refuses_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let out = kafka_gen_in(dir.path(), &["master", "--stores", "2"], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("pass --out DIR") && err.contains("--force"),
        "{err}"
    );
    assert!(
        !dir.path().join("data").exists(),
        "master wrote data/ anyway"
    );

    let sizes = ["--stores", "2", "--products", "3", "--customers", "3"];
    let out = kafka_gen_in(
        dir.path(),
        &[&["master", "--force"][..], &sizes].concat(),
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.path().join("data/stores.json").exists());
}

/// Issue 10: `--help` was one flat list of about 40 flags naming 5 variables. Every run flag
/// now sits under a heading and names its `KAFKA_GEN_*` variable, which the environment
/// really reads. The flags come from clap's own definition, so a new flag is checked too.
#[test]
fn every_run_flag_has_a_heading_and_names_its_variable() {
    use clap::CommandFactory;
    let command = kafka_gen::cli::Cli::command();
    let mut checked = 0;
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
        assert!(arg.get_help_heading().is_some(), "--{long} has no heading");
        if long == "conf" {
            // Issue 11: `--conf PATH=VALUE` sets any field; its variables are the paths.
            let var = "[env: KAFKA_GEN__<SECTION>__<FIELD>=VALUE]";
            assert!(help.contains(var), "--conf: {help:?} does not name {var}");
            continue;
        }
        let var = format!("KAFKA_GEN_{}", long.replace('-', "_").to_uppercase());
        assert!(
            help.contains(&format!("[env: {var}]")),
            "--{long}: {help:?} does not name {var}"
        );
        // The variable exists: whatever its value, it is never an unknown field.
        let result = resolve_with_env(&RunArgs::default(), vars(&[(&var, "1")]));
        if let Err(e) = result {
            assert!(!format!("{e:#}").contains("unknown field"), "{var}: {e:#}");
        }
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} flags found");
    let out = kafka_gen(&["--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for heading in [
        "Mode:",
        "Pacing:",
        "Output:",
        "Kafka:",
        "HTTP:",
        "Observability:",
    ] {
        assert!(help.contains(heading), "no {heading} in --help:\n{help}");
    }
}

/// Issue 10's `--help` grouping, for the subcommands: every flag of `master`, `serve`,
/// `consume`, `ingest` and `replay` sits under a heading, and each flag that a `KAFKA_GEN_*`
/// variable also sets names it, as the run's flags do.
#[test]
fn every_subcommand_flag_has_a_heading_and_names_its_variable() {
    use clap::CommandFactory;
    // The flags these subcommands resolve through the run's configuration, so the run's
    // variables set them too (`ingest --listen` is `KAFKA_GEN_INGEST_LISTEN`).
    let variable = |sub: &str, long: &str| match (sub, long) {
        ("ingest", "listen") => Some("KAFKA_GEN_INGEST_LISTEN".to_string()),
        // Issue 30: serve reads these variables itself.
        ("ingest" | "serve", "auth-token-file" | "auth-health-open") => Some(format!(
            "KAFKA_GEN_{}",
            long.replace('-', "_").to_uppercase()
        )),
        (
            "consume" | "ingest" | "replay",
            "config" | "scenario" | "data-dir" | "bootstrap-servers" | "create-topics"
            | "metrics-listen" | "log-format" | "stats-interval" | "flush-timeout"
            | "kafka-headers",
        ) => Some(format!(
            "KAFKA_GEN_{}",
            long.replace('-', "_").to_uppercase()
        )),
        // Issue 30: `serve` reads these three variables without the rest of the config.
        ("serve" | "ingest", "tls-cert" | "tls-key" | "tls-client-ca") => Some(format!(
            "KAFKA_GEN_{}",
            long.replace('-', "_").to_uppercase()
        )),
        _ => None,
    };
    let command = kafka_gen::cli::Cli::command();
    for sub in ["master", "serve", "consume", "ingest", "replay"] {
        let cmd = command.find_subcommand(sub).unwrap();
        let mut named = 0;
        for arg in cmd.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            assert!(
                arg.get_help_heading().is_some(),
                "{sub} --{long} has no heading"
            );
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            if let Some(var) = variable(sub, long) {
                assert!(
                    help.contains(&format!("[env: {var}]")),
                    "{sub} --{long}: {help:?} does not name {var}"
                );
                named += 1;
            }
        }
        if matches!(sub, "consume" | "ingest" | "replay") {
            assert!(named >= 3, "{sub}: only {named} variables named");
        }
        let out = kafka_gen(&[sub, "--help"]);
        let help = String::from_utf8_lossy(&out.stdout);
        let headings: Vec<&str> = help
            .lines()
            .filter(|l| l.ends_with(':') && !l.starts_with(' '))
            .filter(|l| !["Usage:", "Arguments:", "Options:"].contains(l))
            .collect();
        assert!(
            headings.len() >= 2,
            "{sub} --help has headings {headings:?}:\n{help}"
        );
    }
}
