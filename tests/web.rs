//! The web scenario: golden output, its contract over 100,000 events, id integrity, the
//! journey mix, human-like timings and the number of concurrent users.

mod common;

use std::collections::HashMap;

use common::scenarios::{assert_caught, config, golden, replay};
use common::*;
use kafka_gen::scenario::web::JOURNEYS;
use serde_json::{json, Value};

#[test]
fn golden_output_is_byte_identical() {
    golden("web", 20);
}

async fn long_run(seed: u64, sessions: u64) -> Vec<Value> {
    let mut c = config("web", seed);
    c.schedule.start = Some("2025-03-01T08:00:00Z".parse().unwrap());
    c.schedule.count = Some(sessions);
    replay(&c).await.1
}

fn ms(e: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(e["event_time"].as_str().unwrap())
        .unwrap()
        .timestamp_millis()
}

#[tokio::test]
async fn the_contract_holds_over_100k_events_with_human_timings() {
    let events = long_run(21, 4_000).await;
    assert!(events.len() > 100_000, "{} events", events.len());
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for e in &events {
        *counts.entry(e["event_type"].as_str().unwrap()).or_default() += 1;
        match e["event_type"].as_str().unwrap() {
            "page_closed" => {
                let d = e["duration_ms"].as_i64().unwrap();
                assert!((10_000..=120_000).contains(&d), "page open {d} ms");
            }
            "session_ended" => {
                let d = e["duration_ms"].as_i64().unwrap();
                assert!((60_000..=600_000).contains(&d), "session {d} ms");
                assert!((3..=15).contains(&e["pages_viewed"].as_u64().unwrap()));
            }
            _ => {}
        }
    }
    // Sessions ran to their end, and pages had their clicks (0-8, so about 4 a page).
    assert!(counts["session_ended"] > 3_900, "{counts:?}");
    let per_page = counts["button_clicked"] as f64 / counts["page_visited"] as f64;
    assert!((3.5..4.5).contains(&per_page), "{per_page} clicks a page");
}

#[tokio::test]
async fn journeys_follow_their_shares() {
    let events = long_run(5, 8_000).await;
    let mut observed = vec![0f64; JOURNEYS.len()];
    for e in events
        .iter()
        .filter(|e| e["event_type"] == "session_created")
    {
        let j = e["journey"].as_str().unwrap();
        observed[JOURNEYS.iter().position(|x| x.name == j).unwrap()] += 1.0;
    }
    let n: f64 = observed.iter().sum();
    let stat: f64 = observed
        .iter()
        .zip(JOURNEYS)
        .map(|(o, j)| {
            let e = n * f64::from(j.share) / 100.0;
            (o - e).powi(2) / e
        })
        .sum();
    let p = chi_square_p(stat, 4.0);
    // Threshold: reject the journey shares only if p <= 0.001.
    assert!(p > 0.001, "chi-square {stat:.2}, p = {p:.5}, {observed:?}");
    // A shopping journey that ran to its end ends in the cart.
    let ended: std::collections::HashSet<&str> = events
        .iter()
        .filter(|e| e["event_type"] == "session_ended")
        .map(|e| e["session_id"].as_str().unwrap())
        .collect();
    let last_page: HashMap<&str, &str> = events
        .iter()
        .filter(|e| e["event_type"] == "page_visited")
        .map(|e| {
            (
                e["session_id"].as_str().unwrap(),
                e["page_url"].as_str().unwrap(),
            )
        })
        .collect();
    let shopping_to_cart = events
        .iter()
        .filter(|e| e["journey"] == "shopping" && ended.contains(e["session_id"].as_str().unwrap()))
        .all(|e| {
            last_page
                .get(e["session_id"].as_str().unwrap())
                .is_none_or(|u| *u == "/cart")
        });
    assert!(shopping_to_cart);
}

#[tokio::test]
async fn users_bound_the_concurrent_sessions() {
    let mut c = config("web", 6);
    c.streams = Some(4);
    c.schedule.start = Some("2025-03-01T08:00:00Z".parse().unwrap());
    c.schedule.rate_per_sec = Some(1.0);
    c.schedule.count = Some(300);
    let (_, events) = replay(&c).await;
    let (mut open, mut most) = (0i32, 0);
    for e in &events {
        match e["event_type"].as_str().unwrap() {
            "session_created" => open += 1,
            "session_ended" => open -= 1,
            _ => {}
        }
        most = most.max(open);
    }
    assert_eq!(most, 4, "4 users, each in at most one session");
    // Their starts are staggered, not simultaneous.
    let starts: Vec<i64> = events
        .iter()
        .filter(|e| e["event_type"] == "session_created")
        .map(ms)
        .collect();
    assert!(starts.windows(2).all(|w| w[1] > w[0]));
}

#[test]
fn the_checker_catches_broken_streams() {
    let base = |id: &str, ty: &str, secs: u32| {
        json!({"event_id": id, "event_type": ty, "event_time": format!("2025-01-01T00:00:{secs:02}.000Z"),
            "schema_version": 1, "scenario": "web", "caused_by": "c", "session_id": "s", "user_id": "WU-000001",
            "page_id": "PG-0001", "page_view_id": "v"})
    };
    let mut created = base("c", "session_created", 0);
    created["caused_by"] = Value::Null;
    let visit = base("v1", "page_visited", 1);
    assert_caught(
        "web",
        std::slice::from_ref(&created),
        base("b", "button_clicked", 2),
        "page",
    );
    assert_caught(
        "web",
        &[created.clone(), visit.clone()],
        base("v2", "page_visited", 3),
        "page",
    );
    let mut stray = base("x", "page_visited", 3);
    stray["page_id"] = json!("PG-NOPE");
    assert_caught(
        "web",
        std::slice::from_ref(&created),
        stray,
        "unknown_reference",
    );
    let mut end = base("e", "session_ended", 5);
    end["pages_viewed"] = json!(0);
    end["clicks"] = json!(0);
    end["duration_ms"] = json!(5000);
    assert_caught(
        "web",
        &[created.clone(), end],
        base("late", "page_visited", 6),
        "session",
    );
    assert_caught("web", &[], base("o", "page_visited", 1), "session");
}
