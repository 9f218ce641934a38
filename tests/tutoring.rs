//! The tutoring scenario: golden output, its contract over 100,000 events, id integrity, the
//! type mix, the configured shares and the streams.

mod common;

use std::collections::{HashMap, HashSet};

use common::scenarios::{assert_caught, config, golden, replay, type_mix};
use kafka_gen::scenario::tutoring::master::MasterData;
use serde_json::json;

#[test]
fn golden_output_is_byte_identical() {
    golden("tutoring", 200);
}

#[tokio::test]
async fn the_contract_holds_over_100k_events() {
    let mut c = config("tutoring", 21);
    c.schedule.start = Some("2025-03-01T08:00:00Z".parse().unwrap());
    c.schedule.count = Some(100_000);
    let (summary, events) = replay(&c).await;
    assert_eq!(summary.primary.iter().sum::<u64>(), 100_000);
    let mut by_type: HashMap<&str, Vec<&serde_json::Value>> = HashMap::new();
    for e in &events {
        by_type
            .entry(e["event_type"].as_str().unwrap())
            .or_default()
            .push(e);
    }
    // Almost every started session completed within the run.
    let (started, completed) = (
        by_type["session_started"].len(),
        by_type["session_completed"].len(),
    );
    assert!(
        completed > 30_000 && started - completed < 100,
        "{started} started, {completed} completed"
    );
    // Durations lie in the configured 30-90 minutes.
    assert!(by_type["session_completed"]
        .iter()
        .all(|e| (30..=90).contains(&e["duration_minutes"].as_u64().unwrap())));
    // 90% of sessions succeed and 70% of calls are resolved.
    // Threshold: four binomial standard deviations.
    let share = |events: &[&serde_json::Value], field: &str, p: f64| {
        let n = events.len() as f64;
        let k = events.iter().filter(|e| e[field] == true).count() as f64;
        assert!(
            (k / n - p).abs() < 4.0 * (p * (1.0 - p) / n).sqrt(),
            "{field}: {:.4} vs {p}",
            k / n
        );
    };
    share(&by_type["session_completed"], "completed_successfully", 0.9);
    share(&by_type["ib_call_logged"], "resolved", 0.7);
    // Health moved: some students fell into high churn risk, others rose.
    let risks: HashSet<&str> = by_type["customer_health_update"]
        .iter()
        .map(|e| e["churn_risk"].as_str().unwrap())
        .collect();
    assert_eq!(risks.len(), 3, "{risks:?}");
    // 50 streams by default, as the old simulator ran.
    let streams: HashSet<u64> = events
        .iter()
        .map(|e| e["stream_id"].as_u64().unwrap())
        .collect();
    assert_eq!(streams.len(), 50);
}

#[test]
fn the_type_mix_follows_the_weights() {
    let c = config("tutoring", 11);
    let (p, observed) = type_mix(&c, 100_000, 60_000);
    // Threshold: reject the weights only if p <= 0.001.
    assert!(p > 0.001, "p = {p:.5}, observed {observed:?}");
    assert_eq!(
        observed[1], 0.0,
        "session_completed is never drawn, only derived"
    );
}

#[tokio::test]
async fn streams_sets_the_number_of_sequences() {
    let mut c = config("tutoring", 8);
    c.streams = Some(3);
    c.schedule.start = Some("2025-03-01T08:00:00Z".parse().unwrap());
    c.schedule.count = Some(3_000);
    let (_, events) = replay(&c).await;
    let mut last: HashMap<u64, u64> = HashMap::new();
    for e in &events {
        let (s, n) = (
            e["stream_id"].as_u64().unwrap(),
            e["stream_seq"].as_u64().unwrap(),
        );
        assert_eq!(n, last.get(&s).copied().unwrap_or(0) + 1);
        last.insert(s, n);
    }
    assert_eq!(last.len(), 3);
}

fn event(id: &str, ty: &str, time: &str, fields: serde_json::Value) -> serde_json::Value {
    let mut e = json!({"event_id": id, "event_type": ty, "event_time": time, "schema_version": 1,
        "scenario": "tutoring", "caused_by": null, "stream_id": 1, "stream_seq": 1});
    for (k, v) in fields.as_object().unwrap() {
        e[k] = v.clone();
    }
    e
}

#[test]
fn the_checker_catches_broken_streams() {
    let data = MasterData::load(&common::scenarios::fixture("tutoring")).unwrap();
    let (s, t) = (&data.students[0], &data.tutors[0]);
    let subject = t.teaches().next().unwrap();
    let start = event(
        "a",
        "session_started",
        "2025-01-01T10:00:00.000Z",
        json!({"session_id": "x",
        "student_id": s.student_id, "tutor_id": t.tutor_id, "subject": subject, "region": s.region}),
    );
    let done = |minutes: u64, time: &str| {
        let mut e = event(
            "b",
            "session_completed",
            time,
            json!({"session_id": "x", "student_id": s.student_id,
            "tutor_id": t.tutor_id, "subject": subject, "duration_minutes": minutes,
            "completed_successfully": true, "rating": 5, "stream_seq": 2}),
        );
        e["caused_by"] = json!("a");
        e
    };
    let prior = std::slice::from_ref(&start);
    assert_caught(
        "tutoring",
        prior,
        done(30, "2025-01-01T10:45:00.000Z"),
        "duration",
    );
    assert_caught(
        "tutoring",
        &[],
        done(30, "2025-01-01T10:30:00.000Z"),
        "completion_without_start",
    );
    let mut unknown = start.clone();
    unknown["tutor_id"] = json!("TUT-NOPE");
    assert_caught("tutoring", &[], unknown, "unknown_reference");
    let health = event(
        "c",
        "customer_health_update",
        "2025-01-01T11:00:00.000Z",
        json!({"student_id": s.student_id,
        "health_score": 75, "churn_risk": "medium", "sessions_succeeded": 0, "sessions_failed": 0,
        "calls_unresolved": 0, "stream_seq": 3}),
    );
    assert_caught(
        "tutoring",
        &[start.clone(), done(30, "2025-01-01T10:30:00.000Z")],
        health,
        "health",
    );
    let busy = event(
        "d",
        "tutor_availability_updated",
        "2025-01-01T10:10:00.000Z",
        json!({"tutor_id": t.tutor_id, "status": "available", "weekly_hours": 10, "timezone": "UTC", "stream_seq": 2}),
    );
    assert_caught("tutoring", prior, busy, "availability");
    let mut skip = start.clone();
    skip["stream_seq"] = json!(5);
    assert_caught("tutoring", &[], skip, "stream_seq");
}
