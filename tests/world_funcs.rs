//! The functions added after the first set, end to end in a small world
//! (`tests/fixtures/world-reminders.yaml`): a repeated follow-up reads its occurrence and looks
//! up its label with `at`; `local_hour` and `local_weekday` follow the zone; `poisson`,
//! `binomial` and a zipf exponent from a param run; and bad parameters are load errors with
//! `file:line:column` and exit 2.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::{Datelike, Timelike};
use common::*;
use serde_json::Value;

fn world() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/world-reminders.yaml")
}

fn ms(e: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(e["event_time"].as_str().unwrap())
        .unwrap()
        .timestamp_millis()
}

fn run(path: &str) -> Vec<Value> {
    run_world(path, "5", "2000")
}

#[test]
fn repeated_follow_ups_count_their_occurrences_and_zones_give_local_time() {
    let events = run(world().to_str().unwrap());
    let mut signups: HashMap<String, (i64, String)> = HashMap::new();
    let mut seen: HashMap<String, i64> = HashMap::new();
    let (mut reminders, mut zones) = (0, HashMap::new());
    for e in &events {
        let t = chrono::DateTime::from_timestamp_millis(ms(e)).unwrap();
        match e["event_type"].as_str().unwrap() {
            "signup" => {
                assert_eq!(
                    e["occurrence"], 1,
                    "a primary event is its first occurrence"
                );
                let ny = t.with_timezone(&chrono_tz::America::New_York);
                assert_eq!(e["local_hour"], ny.hour(), "{e}");
                let tokyo = t.with_timezone(&chrono_tz::Asia::Tokyo);
                assert_eq!(
                    e["weekday_tokyo"],
                    tokyo.weekday().number_from_monday(),
                    "{e}"
                );
                let tz: chrono_tz::Tz = e["tz"].as_str().unwrap().parse().unwrap();
                assert_eq!(e["user_hour"], t.with_timezone(&tz).hour(), "{e}");
                *zones.entry(e["tz"].to_string()).or_insert(0) += 1;
                assert!(e["items"].as_i64().unwrap() >= 0, "{e}");
                assert!((0..=10).contains(&e["clicks"].as_i64().unwrap()), "{e}");
                assert_eq!(e["growth"], 1.1576);
                let id = e["event_id"].as_str().unwrap().to_string();
                signups.insert(id, (ms(e), e["user"].as_str().unwrap().into()));
            }
            "reminder" => {
                reminders += 1;
                let cause = e["caused_by"].as_str().unwrap();
                let (at, user) = &signups[cause];
                let n = seen.entry(cause.to_string()).or_insert(0);
                *n += 1;
                assert_eq!(e["n"], *n, "{e}");
                assert_eq!(
                    e["label"],
                    ["first", "second", "final"][*n as usize - 1],
                    "{e}"
                );
                assert_eq!(ms(e), at + 3_600_000 + (*n - 1) * 86_400_000, "{e}");
                assert_eq!(e["user"].as_str(), Some(user.as_str()));
            }
            other => panic!("unexpected event type {other}"),
        }
    }
    assert!(reminders > 100, "{reminders} reminders");
    assert!(seen.values().all(|n| *n <= 3), "at most 3 occurrences");
    // The run starts on a Friday evening in New York, so the local day crosses over.
    assert_eq!(zones.len(), 3, "{zones:?}");
}

#[test]
fn schema_types_the_new_functions() {
    let out = kafka_gen(&["schema", "--world", world().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = &s["signup"]["properties"];
    assert_eq!(p["local_hour"]["minimum"], 0.0);
    assert_eq!(p["local_hour"]["maximum"], 23.0);
    assert_eq!(p["weekday_tokyo"]["maximum"], 7.0);
    assert_eq!(p["clicks"]["maximum"], 10.0);
    assert_eq!(p["items"]["minimum"], 0.0);
    let r = &s["reminder"]["properties"];
    assert_eq!(r["n"]["minimum"], 1.0);
    assert_eq!(
        r["label"]["enum"],
        serde_json::json!(["first", "second", "final"])
    );
}

#[test]
fn bad_parameters_of_the_new_functions_are_located_and_exit_2() {
    let cases = [
        (
            "${poisson(rate)}",
            "${poisson(-1)}",
            "events.signup.payload.items",
            "lambda is -1",
        ),
        (
            "${binomial(10, 0.25)}",
            "${binomial(10, 1.5)}",
            "events.signup.payload.clicks",
            "p is 1.5",
        ),
        (
            "${binomial(10, 0.25)}",
            "${binomial(-3, 0.5)}",
            "events.signup.payload.clicks",
            "n is -3",
        ),
        (
            "'America/New_York')}",
            "'America/NewYork')}",
            "events.signup.payload.local_hour",
            "unknown time zone `America/NewYork`",
        ),
        (
            "s: skew}",
            "s: 0 - skew}",
            "events.signup.pick.u",
            "zipf exponent s = -1.2",
        ),
        (
            "s: skew}",
            "s: u.tz}",
            "events.signup.pick.u",
            "unknown name `u`; known here: skew, rate",
        ),
        (
            "s: skew}",
            "s: 'uniform(1, 2)'}",
            "events.signup.pick.u",
            "must be a constant",
        ),
    ];
    let text = std::fs::read_to_string(world()).unwrap();
    for (from, to, path, message) in cases {
        assert!(text.contains(from), "{from}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.yaml");
        std::fs::write(&file, text.replacen(from, to, 1)).unwrap();
        let out = kafka_gen(&["check", file.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{to}: {err}");
        assert!(err.contains(message), "{to}: {err}");
        assert!(err.contains(path), "{to}: expected the path {path}: {err}");
        let located = err
            .trim_start_matches("kafka-gen: ")
            .split(": ")
            .next()
            .unwrap_or("");
        assert!(
            located.matches(':').count() == 2 && located.ends_with(|c: char| c.is_ascii_digit()),
            "{to}: not located: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}
