//! A world file's own pace (`pace:`) and its source document's option names (`aliases:`):
//! the web guide's throughput table, tutoring's STREAM_COUNT x EVENTS_PER_RUN a minute and
//! INGEST_API_URL, the song-play plan's run options, all through the real option parsing
//! (`Cli::try_parse_args`, `config::resolve_with_env`) and, for the pace, on tokio's paused
//! clock.

mod common;

use std::sync::Mutex;

use common::*;
use kafka_gen::cli::{Cli, Command};
use kafka_gen::config::{self, Config};

/// World parameters are process-wide once resolved (`worldfile::set_params`): one test at a
/// time resolves and runs.
static SERIAL: Mutex<()> = Mutex::new(());

fn world(name: &str) -> String {
    format!("{}/worlds/{name}.yaml", env!("CARGO_MANIFEST_DIR"))
}

/// The configuration `kafka-gen ARGS` resolves to, with `env` as the whole environment.
fn resolve(args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<Config> {
    let mut argv = vec!["kafka-gen"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_args(argv)?;
    let run = match cli.command {
        Some(Command::Run(a)) | Some(Command::Config(a)) => a,
        _ => cli.run,
    };
    let vars = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    config::resolve_with_env(&run, vars)
}

/// Events delivered by `kafka-gen ARGS`, and the seconds of real time the run took, on
/// tokio's paused clock (a runtime of its own, so the caller can hold [`SERIAL`]).
fn throughput(args: &[&str]) -> (usize, f64) {
    let config = resolve(args, &[]).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let t0 = tokio::time::Instant::now();
        let (_, events) = run_captured(&config).await;
        (events.len(), t0.elapsed().as_secs_f64())
    })
}

/// The guide's table: 10 users give 15-20 events/s and 100 users 150-200, over its 5-minute
/// run, with its default options (human_like_delays on). The world aims at 17.5 a user... a
/// second; a session has ~20 events with a standard deviation of ~8, and sessions start
/// evenly, so over 5 minutes (~260 sessions for 10 users) the rate's standard deviation is
/// about 2.5%: the table's range is more than 5 of them either side. Seeds fixed.
#[test]
fn web_meets_the_guides_throughput_table() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let web = world("web");
    for (users, lo, hi) in [("10", 15.0, 20.0), ("100", 150.0, 200.0)] {
        let set = format!("num_users={users}");
        let args = [
            "--world",
            &web,
            "--set",
            &set,
            "--sink",
            "null",
            "--seed",
            "7",
            "--data-dir",
            "/nonexistent/kafka-gen-test",
            "--stats-interval",
            "0",
        ];
        let (events, secs) = throughput(&args);
        let rate = events as f64 / secs;
        eprintln!("web, {users} users: {events} events in {secs:.1} s = {rate:.2}/s");
        assert!(
            (299.0..=301.0).contains(&secs),
            "{users} users: the run took {secs} s, not duration_seconds (300)"
        );
        assert!(
            (lo..=hi).contains(&rate),
            "{users} users: {events} events in {secs:.1} s = {rate:.2}/s, outside {lo}-{hi}"
        );
    }
}

/// human_like_delays: false takes the pauses out: ten times the events a second; and
/// `--duration` (real time) still bounds the run.
#[test]
fn web_without_human_like_delays_is_ten_times_faster() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let web = world("web");
    let args = [
        "--world",
        &web,
        "--set",
        "advanced.human_like_delays=false",
        "--duration",
        "60s",
        "--sink",
        "null",
        "--seed",
        "7",
        "--data-dir",
        "/nonexistent/kafka-gen-test",
        "--stats-interval",
        "0",
    ];
    let (events, secs) = throughput(&args);
    let rate = events as f64 / secs;
    eprintln!("web, 10 users, no human-like delays: {events} events in {secs:.1} s = {rate:.2}/s");
    assert!((59.0..=61.0).contains(&secs), "took {secs} s");
    // 10 users x 17.5 a second; +-15% (about 3 standard deviations over 60 s).
    assert!((150.0..=200.0).contains(&rate), "{rate:.1} events/s");
}

/// A bounded web run's event times end at the wall clock, never after it, while sessions
/// keep their durations in event time.
#[test]
fn web_event_times_end_now_not_in_the_future() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let c = resolve(&["--world", &world("web"), "--sink", "null"], &[]).unwrap();
    let s = &c.schedule;
    let speed = s.speed.expect("the web world runs its own speed");
    assert!((100.0..=110.0).contains(&speed), "speed {speed}");
    let span = s.duration.unwrap().0.as_secs_f64();
    assert!((span - 300.0 * speed).abs() < 1e-6, "span {span}");
    let start = match s.start.unwrap() {
        config::TimeArg::Time(t) => t.timestamp_millis() as f64,
        other => panic!("{other:?}"),
    };
    let end_of_run = chrono::Utc::now().timestamp_millis() as f64 + 300_000.0;
    assert!((start + span * 1000.0 - end_of_run).abs() < 5_000.0);
    // Any pacing the user gives wins over the world's.
    let c = resolve(
        &["--world", &world("web"), "--sink", "null", "--rate", "3"],
        &[],
    )
    .unwrap();
    assert_eq!(
        (c.schedule.rate_per_sec, c.schedule.speed),
        (Some(3.0), None)
    );
}

/// The guide's YAML config file, read whole with `--set @FILE`, and one key with `--set`.
#[test]
fn web_reads_the_guides_config_file() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("event_simulator_config.yaml");
    std::fs::write(
        &file,
        "simulation:\n  num_users: 50\n  duration_seconds: 600\n  api_url: \"http://localhost:8000/api/events\"\n\
         event_probabilities:\n  session_start: 0.03\n  session_end: 0.03\n  page_visit: 0.20\n  page_close: 0.15\n  button_click: 0.55\n  link_click: 0.04\n\
         user_behavior:\n  session_duration_max: 120\n  pages_per_session_max: 5\n  clicks_per_page_max: 2\n\
         advanced:\n  human_like_delays: true\n  stats_interval: 30\n  verbose: true\n  save_to_file: false\n",
    )
    .unwrap();
    let at = format!("@{}", file.display());
    let c = resolve(
        &[
            "--world",
            &world("web"),
            "--set",
            &at,
            "--set",
            "user_behavior.time_per_page_max=20",
        ],
        &[],
    )
    .unwrap();
    assert_eq!(
        c.http.endpoint.as_deref(),
        Some("http://localhost:8000/api/events")
    );
    assert_eq!((c.stats_interval_secs, c.log_events), (30.0, Some(true)));
    let params = c.param_texts();
    assert_eq!(params["num_users"], "50");
    assert_eq!(params["button_click"], "0.55");
    assert_eq!(params["session_duration_max"], "120");
    assert_eq!(params["time_per_page_max"], "20");
    assert_eq!(params["duration_seconds"], "600");
    // `kafka-gen check` takes the keys too.
    let out = kafka_gen(&[
        "check",
        "worlds/web.yaml",
        "--set",
        "user_behavior.time_per_page_max=30",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("time_per_page_max = 30 "));
    // 600 s of real time at this mix's speed: 2 x 1.75 x 120 x 0.03 / 1.0.
    let span = c.schedule.duration.unwrap().0.as_secs_f64();
    assert!((span - 600.0 * 12.6).abs() < 1e-6, "span {span}");
}

/// A key the guide does not have, or a custom event type, is refused with the known keys.
#[test]
fn web_refuses_an_unknown_config_key() {
    let web = world("web");
    let err = resolve(
        &[
            "--world",
            &web,
            "--set",
            "event_probabilities.form_submit=0.1",
        ],
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("\"event_probabilities.form_submit\" is not an option"),
        "{err}"
    );
    assert!(err.contains("user_behavior.session_duration_min"), "{err}");
    expect_usage_error(
        &[
            "--world",
            "worlds/web.yaml",
            "--set",
            "user_behaviour.session_duration_min=5",
        ],
        "is not an option of worlds/web.yaml",
    );
}

/// Tutoring runs STREAM_COUNT x EVENTS_PER_RUN primary events a minute; INGEST_API_URL is the
/// http sink's endpoint, below KAFKA_GEN_HTTP_ENDPOINT.
#[test]
fn tutoring_paces_by_stream_count_and_events_per_run() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let tutoring = world("tutoring");
    let c = resolve(
        &["--world", &tutoring, "--sink", "http"],
        &[("INGEST_API_URL", "http://api/ingest")],
    )
    .unwrap();
    assert_eq!(c.schedule.rate_per_sec, Some(500.0 / 60.0));
    assert_eq!(c.http.endpoint.as_deref(), Some("http://api/ingest"));
    // --follow-profile scales the world's pace rather than replacing it.
    let c = resolve(&["--world", &tutoring, "--follow-profile"], &[]).unwrap();
    assert_eq!(c.schedule.rate_per_sec, Some(500.0 / 60.0));
    assert!(c.schedule.follow_profile);
    let both = [
        ("INGEST_API_URL", "http://api/ingest"),
        ("KAFKA_GEN_HTTP_ENDPOINT", "http://other/"),
    ];
    let c = resolve(&["--world", &tutoring, "--sink", "http"], &both).unwrap();
    assert_eq!(c.http.endpoint.as_deref(), Some("http://other/"));
    let c = resolve(
        &[
            "--world",
            &tutoring,
            "--set",
            "STREAM_COUNT=100",
            "--set",
            "EVENTS_PER_RUN=20",
        ],
        &[],
    )
    .unwrap();
    assert_eq!(c.schedule.rate_per_sec, Some(2000.0 / 60.0));
    // The variables themselves, through the binary.
    let out = std::process::Command::new(kafka_gen_bin())
        .args(["config", "--world", "worlds/tutoring.yaml"])
        .env("STREAM_COUNT", "25")
        .env("EVENTS_PER_RUN", "6")
        .env("INGEST_API_URL", "http://lambda/ingest")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("rate_per_sec = 2.5\n"), "{text}");
    assert!(
        text.contains("endpoint = \"http://lambda/ingest\""),
        "{text}"
    );
}

/// On the paused clock, three minutes of tutoring at the default 50 x 10 give 1,500 events
/// (sessions last 20-95 minutes, so none completes yet), within the rate gate's 1%.
#[test]
fn tutoring_sends_500_events_a_minute() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let tutoring = world("tutoring");
    let args = [
        "--world",
        &tutoring,
        "--duration",
        "3m",
        "--sink",
        "null",
        "--seed",
        "3",
        "--data-dir",
        "/nonexistent/kafka-gen-test",
        "--stats-interval",
        "0",
    ];
    let (events, secs) = throughput(&args);
    eprintln!("tutoring: {events} events in {secs:.1} s");
    assert!((179.0..=181.0).contains(&secs), "took {secs} s");
    assert!(
        (1485..=1515).contains(&events),
        "{events} events in 3 minutes"
    );
}

/// The song-play plan's options: --volume per minute live and a total in historical mode,
/// --threads, --num-*, --duration-seconds, --master-data-dir, --api-endpoint, --posting-rate.
#[test]
fn music_takes_the_song_play_plans_options() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let music = world("music");
    let c = resolve(&["--world", &music], &[]).unwrap();
    // The plan's 60 plays a minute, as sessions of 11.5 plays on average (issue 29: a
    // session's later plays follow its first, the primary event).
    let sessions = |plays_a_second: f64| Some(plays_a_second / 11.5);
    assert_eq!(
        c.schedule.rate_per_sec,
        sessions(1.0),
        "the plan's 60 a minute"
    );
    // --master-data-dir names data that must exist (an existing directory here).
    let master = tempfile::tempdir().unwrap();
    let master_dir = master.path().display().to_string();
    let c = resolve(
        &[
            "--world",
            &music,
            "--volume",
            "120",
            "--threads",
            "8",
            "--num-songs",
            "300",
            "--num-users=40",
            "--num-locations",
            "7",
            "--duration-seconds",
            "90",
            "--master-data-dir",
            &master_dir,
            "--api-endpoint",
            "http://localhost:8000/play",
            "--live",
        ],
        &[],
    )
    .unwrap();
    assert_eq!(c.schedule.rate_per_sec, sessions(2.0));
    assert_eq!(c.schedule.duration.unwrap().0.as_secs_f64(), 90.0);
    let p = c.param_texts();
    assert_eq!(
        [
            &p["threads"],
            &p["num_songs"],
            &p["num_users"],
            &p["num_locations"]
        ],
        ["8", "300", "40", "7"]
    );
    assert_eq!(c.data_dir, master.path());
    assert_eq!(
        c.http.endpoint.as_deref(),
        Some("http://localhost:8000/play")
    );
    // Historical: a total, 10,000 plays by default (870 sessions), posted at --posting-rate.
    let range = [
        "--historical",
        "--start-datetime",
        "2025-01-01",
        "--end-datetime",
        "2025-01-31",
    ];
    let mut args = vec!["--world", music.as_str()];
    args.extend(range);
    let c = resolve(&args, &[]).unwrap();
    assert_eq!(
        (c.schedule.count, c.schedule.rate_per_sec),
        (Some(870), None)
    );
    args.extend(["--volume", "2500", "--posting-rate", "10"]);
    let c = resolve(&args, &[]).unwrap();
    assert_eq!(
        (c.schedule.count, c.schedule.rate_per_sec),
        (Some(217), Some(10.0))
    );
}

/// Issue 29: the song-play plan raises an error when --master-data-dir does not exist; it
/// silently made the data in memory. kafka-gen's own --data-dir still does that.
#[test]
fn a_missing_master_data_dir_is_an_error_naming_it() {
    let args = [
        "--world",
        "worlds/music.yaml",
        "--count",
        "3",
        "--sink",
        "null",
    ];
    let mut missing = args.to_vec();
    missing.extend(["--master-data-dir", "/nonexistent/music-master"]);
    expect_usage_error(
        &missing,
        "--master-data-dir \"/nonexistent/music-master\" does not exist",
    );
    expect_usage_error(&missing, "kafka-gen master --world music --out DIR");
    expect_usage_error(&missing, "omit --master-data-dir");
    let mut inline = args.to_vec();
    inline.push("--master-data-dir=/nonexistent/music-master");
    expect_usage_error(&inline, "does not exist");
    let mut own = args.to_vec();
    own.extend(["--data-dir", "/nonexistent/music-master"]);
    let out = kafka_gen(&own);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// An option no alias declares is still an error (exit 2), and so is a bad alias value.
#[test]
fn unknown_flags_stay_errors_with_a_world() {
    expect_usage_error(
        &["--world", "worlds/music.yaml", "--num-albums", "5"],
        "--num-albums",
    );
    expect_usage_error(
        &[
            "--world",
            "worlds/music.yaml",
            "--num-songs",
            "lots",
            "--sink",
            "null",
        ],
        "num_songs",
    );
    expect_usage_error(
        &["--world", "worlds/music.yaml", "--num-songs"],
        "--num-songs needs a value",
    );
    // --num-songs is the music world's: with another world it is unknown.
    expect_usage_error(
        &["--world", "worlds/web.yaml", "--num-songs", "5"],
        "--num-songs",
    );
}

/// A pace out of its range with the given parameters: exit 2, located in the file.
#[test]
fn a_pace_out_of_range_is_bad_input() {
    expect_usage_error(
        &[
            "--world",
            "worlds/tutoring.yaml",
            "--set",
            "STREAM_COUNT=100000",
            "--set",
            "EVENTS_PER_RUN=1000000",
            "--sink",
            "null",
        ],
        "worlds/tutoring.yaml:",
    );
    expect_usage_error(
        &[
            "--world", "worlds/tutoring.yaml", "--set", "STREAM_COUNT=100000", "--set",
            "EVENTS_PER_RUN=1000000", "--sink", "null",
        ],
        "pace.rate: `STREAM_COUNT * EVENTS_PER_RUN / 60` is 1666666666.6666667 with these parameters; rate must be 0.000001..1000000000",
    );
}

/// bnpl: simtom's rate_per_second (1.0) and seasonal_factor (on: live runs follow the time
/// profile); a pace of the user's replaces both.
#[test]
fn bnpl_streams_at_simtoms_rate_with_its_seasons() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bnpl = world("bnpl");
    let c = resolve(&["--world", &bnpl], &[]).unwrap();
    assert_eq!(c.schedule.rate_per_sec, Some(1.0));
    assert!(c.schedule.follow_profile);
    let c = resolve(
        &[
            "--world",
            &bnpl,
            "--set",
            "seasonal_factor=false",
            "--set",
            "rate_per_second=20",
        ],
        &[],
    )
    .unwrap();
    assert_eq!(
        (c.schedule.rate_per_sec, c.schedule.follow_profile),
        (Some(20.0), false)
    );
    let c = resolve(
        &["--world", &bnpl, "--min-delta", "1", "--max-delta", "2"],
        &[],
    )
    .unwrap();
    assert_eq!(
        (c.schedule.rate_per_sec, c.schedule.follow_profile),
        (None, false)
    );
}
