//! The tutoring world file (`worlds/tutoring.yaml`): golden output, the document's payloads
//! field for field, its contract and the world's consistency replayed over 100,000 events, the
//! type mix, the document's shares, the streams, and a broken stream caught per rule.

#[path = "../common/mod.rs"]
mod common;
mod consistency;
mod steady;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::scenarios::type_mix;
use common::*;
use kafka_gen::config::{Config, SinkKind};
use kafka_gen::scenario;
use serde_json::{json, Value};

const WORLD: &str = "worlds/tutoring.yaml";
const NO_DATA: &str = "/nonexistent/kafka-gen-test";
const SUBJECTS: [&str; 9] = [
    "Mathematics",
    "Physics",
    "Chemistry",
    "Biology",
    "English",
    "History",
    "Computer Science",
    "Spanish",
    "French",
];
const REGIONS: [&str; 5] = ["northeast", "southeast", "midwest", "west", "southwest"];

fn world() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(WORLD)
        .display()
        .to_string()
}

fn config(seed: u64, data_dir: &Path) -> Config {
    Config {
        scenario: world(),
        data_dir: data_dir.to_path_buf(),
        seed: Some(seed),
        sinks: vec![SinkKind::Null],
        stats_interval_secs: 0.0,
        ..Config::default()
    }
}

/// The arguments of a run to stdout of `count` events, seed 8, from 2025-03-01 08:00 UTC,
/// followed by `more`.
fn stdout_run<'a>(count: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--world",
        WORLD,
        "--data-dir",
        NO_DATA,
        "--sink",
        "stdout",
        "--seed",
        "8",
        "--start",
        "2025-03-01T08:00:00Z",
        "--count",
        count,
        "--stats-interval",
        "0",
    ];
    args.extend_from_slice(more);
    args
}

fn ms(e: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(e["payload"]["timestamp"].as_str().unwrap())
        .unwrap()
        .timestamp_millis()
}

#[test]
fn golden_output_is_byte_identical() {
    let args = [
        "--world",
        WORLD,
        "--data-dir",
        NO_DATA,
        "--sink",
        "stdout",
        "--seed",
        "7",
        "--start",
        "2025-01-01T09:00:00Z",
        "--count",
        "200",
        // The gaps this golden was made with, before the world stated its own pace.
        "--min-delta",
        "10",
        "--max-delta",
        "60",
        "--stats-interval",
        "0",
    ];
    common::scenarios::assert_golden(&args, "world-tutoring");
}

#[test]
fn the_type_mix_follows_the_weights() {
    let c = config(11, Path::new(NO_DATA));
    let (p, observed) = type_mix(&c, 100_000, 60_000);
    // Threshold: reject the weights only if p <= 0.001.
    assert!(p > 0.001, "p = {p:.5}, observed {observed:?}");
    assert_eq!(
        observed[1], 0.0,
        "session_completed is never drawn, only derived"
    );
}

#[test]
fn stream_count_sets_the_number_of_sequences() {
    // The document's environment variable, and --set, which wins over it.
    let run = |env: &str, set: &[&str]| {
        let args = stdout_run("3000", set);
        let out = std::process::Command::new(kafka_gen_bin())
            .args(&args)
            .env("STREAM_COUNT", env)
            .env_remove("RUST_LOG")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let mut last: HashMap<u64, u64> = HashMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let e: Value = serde_json::from_str(line).unwrap();
            let (s, n) = (
                e["stream_id"].as_u64().unwrap(),
                e["stream_seq"].as_u64().unwrap(),
            );
            assert_eq!(n, last.get(&s).copied().unwrap_or(0) + 1);
            last.insert(s, n);
        }
        last.len()
    };
    assert_eq!(run("3", &[]), 3);
    assert_eq!(run("3", &["--set", "STREAM_COUNT=7"]), 7);
}

/// A checker of the world's contract and rules, reading the stream from its start.
fn checker() -> Box<dyn scenario::ContractChecker> {
    scenario::find(&world())
        .unwrap()
        .checker(Path::new(NO_DATA), true)
        .unwrap()
}

fn caught(setup: &[Value], event: Value, rule: &str) {
    let mut c = checker();
    for e in setup {
        c.check(e);
    }
    assert!(
        c.violations().is_empty(),
        "setup is clean: {:?}",
        c.violations()
    );
    c.check(&event);
    assert!(
        c.violations().iter().any(|v| v.rule == rule),
        "expected {rule}, got {:?}",
        c.violations()
    );
}

#[tokio::test]
async fn each_broken_rule_is_caught() {
    let mut c = config(5, Path::new(NO_DATA));
    c.schedule.start = Some("2025-03-01T08:00:00Z".parse().unwrap());
    c.schedule.count = Some(400);
    let (_, events) = run_captured(&c).await;
    let find = |ty: &str| {
        events
            .iter()
            .find(|e| e["event_type"] == ty)
            .unwrap()
            .clone()
    };
    let (start, health, avail) = (
        find("session_started"),
        find("customer_health_update"),
        find("tutor_availability_updated"),
    );
    let with = |e: &Value, field: &str, v: Value| {
        let mut e = e.clone();
        e["event_id"] = json!(uuid::Uuid::now_v7().to_string());
        e["payload"][field] = v;
        e
    };
    caught(
        &[],
        with(&start, "tutor_id", json!("tut_99")),
        "unknown_reference",
    );
    caught(&[], with(&start, "subject", json!("Art")), "schema");
    caught(
        &[],
        with(&start, "session_type", json!("webinar")),
        "schema",
    );
    caught(
        &[],
        with(&start, "scheduled_duration_minutes", json!("60")),
        "schema",
    );
    caught(&[], with(&start, "extra", json!(1)), "schema");
    caught(
        &[],
        with(&avail, "available_hours_this_week", json!(41)),
        "bounds",
    );
    caught(&[], with(&avail, "subjects", json!(["Physics"])), "schema");
    caught(&[], with(&health, "health_score", json!(59.5)), "bounds");
    caught(&[], with(&health, "churn_risk", json!("none")), "schema");
    let mut no_source = with(&health, "source", json!("simulator"));
    no_source["payload"]
        .as_object_mut()
        .unwrap()
        .remove("source");
    caught(&[], no_source, "schema");
    // The document's envelope gets the id, order and follow-up checks too.
    let done = find("session_completed");
    let at = events
        .iter()
        .position(|e| e["event_id"] == done["caused_by"])
        .unwrap();
    let before = events[..=at].to_vec();
    let top = |e: &Value, field: &str, v: Value| {
        let mut e = e.clone();
        e["event_id"] = json!(uuid::Uuid::now_v7().to_string());
        e[field] = v;
        e
    };
    caught(&before, top(&done, "caused_by", Value::Null), "caused_by");
    caught(
        &before,
        top(&done, "caused_by", json!(uuid::Uuid::now_v7().to_string())),
        "caused_by",
    );
    caught(
        &[],
        top(&start, "caused_by", json!(uuid::Uuid::now_v7().to_string())),
        "caused_by",
    );
    // A completion names its own session, student and tutor: the values its start carried.
    let other_student = if done["payload"]["student_id"] == "stu_1000" {
        "stu_1001"
    } else {
        "stu_1000"
    };
    caught(
        &before,
        with(&done, "student_id", json!(other_student)),
        "carried",
    );
    caught(
        &before,
        with(&done, "session_id", json!("sess_0_1000")),
        "carried",
    );
    let mut early = top(&done, "stream_seq", json!(1));
    early["payload"]["timestamp"] = json!("2025-03-01T07:00:00.000Z");
    caught(&before, early, "follow_order");
    // Alone, a stream's event is its first (rule stream_seq).
    let mut alone = start.clone();
    alone["stream_seq"] = json!(1);
    caught(
        std::slice::from_ref(&alone),
        alone.clone(),
        "duplicate_event_id",
    );
    let mut later = top(&health, "stream_seq", json!(1));
    later["payload"]["timestamp"] = json!("2099-01-01T00:00:00.000Z");
    let mut back = top(&health, "stream_seq", json!(1));
    back["payload"]["timestamp"] = json!("2020-01-01T00:00:00.000Z");
    caught(&[later], back, "time_order");
    // The file's own rules (`checks:`).
    caught(&before, top(&done, "stream_seq", json!(999)), "stream_seq");
    let started = &events[at];
    let again = with(started, "session_id", json!("sess_1_1000"));
    caught(&before, again, "student_double_booking");
    let seen = |id: &str| before.iter().any(|e| e["payload"]["student_id"] == id);
    let free = (1000..10_000)
        .map(|n| format!("stu_{n}"))
        .find(|id| !seen(id))
        .unwrap();
    let tutor_again = with(started, "student_id", json!(free));
    caught(
        &before,
        with(&tutor_again, "session_id", json!("sess_1_1001")),
        "tutor_double_booking",
    );
    let p = &health["payload"];
    let more = p["sessions_last_30_days"].as_u64().unwrap() + 1;
    caught(
        &[],
        with(&health, "sessions_last_7_days", json!(more)),
        "health_windows",
    );
    let score = p["health_score"].as_f64().unwrap();
    let off = if score > 90.0 {
        score - 5.0
    } else {
        score + 5.0
    };
    caught(
        &[],
        with(&health, "health_score", json!(off)),
        "health_score",
    );
    let wrong = if score < 73.33 { "low" } else { "high" };
    caught(&[], with(&health, "churn_risk", json!(wrong)), "churn_risk");
    // The ingest API checks a rule that needs no earlier event and no master data (the
    // health score reads the student's standing, so it is checked where master data is).
    let err = scenario::find(&world())
        .unwrap()
        .validate_event(&with(&health, "churn_risk", json!(wrong)))
        .unwrap_err();
    assert!(err.starts_with("rule churn_risk: "), "{err}");
    let market = find("supply_demand_update");
    let status = if market["payload"]["balance_status"] == "balanced" {
        "high_demand"
    } else {
        "balanced"
    };
    caught(
        &[],
        with(&market, "balance_status", json!(status)),
        "balance_status",
    );
}

/// Over 41 days of event time (one event a minute: `STREAM_COUNT=1`, `EVENTS_PER_RUN=1`), so
/// that the 7-, 14- and 30-day windows fill and empty, the counts health and market updates
/// show are what the stream itself shows (`health_history`, `market_history`), and a market's
/// supply and demand scores follow from the sessions its tutors have open (`market_supply`):
/// the checker finds no violation, and finds one when a late update is off by one.
#[test]
fn health_and_market_counts_follow_the_stream_as_windows_fill_and_empty() {
    let events = json_lines(&stdout_run(
        "60000",
        &["--set", "STREAM_COUNT=1", "--set", "EVENTS_PER_RUN=1"],
    ));
    let mut c = checker();
    // The windows empty as well as fill: some student's 7-day count goes down.
    let mut last: HashMap<&str, u64> = HashMap::new();
    let mut fell = 0;
    for e in &events {
        c.check(e);
        if e["event_type"] == "customer_health_update" {
            let p = &e["payload"];
            let n = p["sessions_last_7_days"].as_u64().unwrap();
            let s = p["student_id"].as_str().unwrap();
            fell += usize::from(last.insert(s, n).is_some_and(|before| n < before));
        }
    }
    c.finish();
    assert!(c.violations().is_empty(), "{:?}", &c.violations()[..1]);
    assert!(fell > 100, "7-day counts fell {fell} times");
    let late = |ty: &str, field: &str| {
        events
            .iter()
            .rposition(|e| e["event_type"] == ty && e["payload"][field].as_u64() > Some(0))
            .unwrap()
    };
    for (ty, field, rule) in [
        (
            "customer_health_update",
            "sessions_last_30_days",
            "health_history",
        ),
        (
            "customer_health_update",
            "ib_calls_last_14_days",
            "health_history",
        ),
        ("supply_demand_update", "active_students", "market_history"),
    ] {
        let i = late(ty, field);
        let mut off = events[i].clone();
        off["event_id"] = json!(uuid::Uuid::now_v7().to_string());
        let n = off["payload"][field].as_u64().unwrap();
        off["payload"][field] = json!(n - 1);
        caught(&events[..i], off, rule);
    }
    // A market with sessions started in the last hour (so its demand reads its roster, the
    // available tutors plus those in a session) showing one tutor fewer available, or a
    // demand or supply score half a point off.
    let i = events
        .iter()
        .rposition(|e| {
            e["event_type"] == "supply_demand_update"
                && e["payload"]["demand_score"].as_f64() < Some(100.0)
                && e["payload"]["active_students"].as_u64() > Some(0)
        })
        .unwrap();
    let mut off = events[i].clone();
    off["event_id"] = json!(uuid::Uuid::now_v7().to_string());
    let n = off["payload"]["available_tutors"].as_u64().unwrap();
    off["payload"]["available_tutors"] = json!(n - 1);
    caught(&events[..i], off.clone(), "market_supply");
    off["payload"]["available_tutors"] = json!(n);
    for field in ["demand_score", "supply_score"] {
        let mut off = off.clone();
        let d = off["payload"][field].as_f64().unwrap();
        off["payload"][field] = json!(if d < 100.0 { d + 0.5 } else { d - 0.5 });
        caught(&events[..i], off, "market_supply");
    }
}
