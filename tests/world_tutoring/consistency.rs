//! The 100,000-event replay of the tutoring world: its contract, the document's fields,
//! shares and ranges, and the consistency the world adds (sessions, health, supply, streams).

use std::collections::{HashMap, HashSet, VecDeque};

use kafka_gen::scenario;
use serde_json::{json, Value};

use super::common::*;
use super::{config, ms, world, REGIONS, SUBJECTS, WORLD};

/// The document's payload fields, in its order, per event type.
fn document_fields(ty: &str) -> &'static [&'static str] {
    match ty {
        "session_started" => &[
            "timestamp",
            "source",
            "session_id",
            "student_id",
            "tutor_id",
            "subject",
            "session_type",
            "scheduled_duration_minutes",
        ],
        "session_completed" => &[
            "timestamp",
            "source",
            "session_id",
            "student_id",
            "tutor_id",
            "subject",
            "actual_duration_minutes",
            "student_rating",
            "tutor_rating",
            "completed_successfully",
        ],
        "ib_call_logged" => &[
            "timestamp",
            "source",
            "call_id",
            "student_id",
            "reason",
            "duration_seconds",
            "resolved",
            "priority",
        ],
        "tutor_availability_updated" => &[
            "timestamp",
            "source",
            "tutor_id",
            "available_hours_this_week",
            "subjects",
            "timezone",
            "accepts_instant_book",
        ],
        "customer_health_update" => &[
            "timestamp",
            "source",
            "student_id",
            "sessions_last_7_days",
            "sessions_last_30_days",
            "ib_calls_last_14_days",
            "avg_session_rating",
            "health_score",
            "churn_risk",
        ],
        "supply_demand_update" => &[
            "timestamp",
            "source",
            "subject",
            "region",
            "available_tutors",
            "active_students",
            "demand_score",
            "supply_score",
            "balance_status",
        ],
        other => panic!("unknown event_type {other}"),
    }
}

/// What the tests read of the master data: each student's region and standing, each tutor's
/// home market.
struct Master {
    region: HashMap<String, String>,
    standing: HashMap<String, f64>,
    market: HashMap<String, usize>,
}

/// Master data written by `kafka-gen master` (master_seed 42: the same as made in memory).
fn master() -> (tempfile::TempDir, Master) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tutoring");
    let m = kafka_gen(&[
        "master",
        "--world",
        WORLD,
        "--out",
        out.to_str().unwrap(),
        "--seed",
        "42",
    ]);
    assert!(m.status.success(), "{}", stderr(&m));
    let read = |kind: &str| -> Vec<Value> {
        serde_json::from_str(&std::fs::read_to_string(out.join(format!("{kind}.json"))).unwrap())
            .unwrap()
    };
    let students = read("students");
    let id = |s: &Value| s["id"].as_str().unwrap().to_string();
    let region = students
        .iter()
        .map(|s| (id(s), s["region"].as_str().unwrap().to_string()))
        .collect();
    let standing = students
        .iter()
        .map(|s| (id(s), s["standing"].as_f64().unwrap()))
        .collect();
    let markets = read("tutors")
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_string(),
                t["market"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    let m = Master {
        region,
        standing,
        market: markets,
    };
    (dir, m)
}

fn market(subject: &str, region: &str) -> usize {
    let s = SUBJECTS.iter().position(|x| *x == subject).unwrap();
    let r = REGIONS.iter().position(|x| *x == region).unwrap();
    r * 9 + s
}

/// Times within `window_ms` before `now` (inclusive of `now`, exclusive of the start).
fn in_window(times: Option<&VecDeque<i64>>, now: i64, window_ms: i64) -> u64 {
    times.map_or(0, |t| {
        t.iter()
            .filter(|&&x| x > now - window_ms && x <= now)
            .count() as u64
    })
}

struct Open {
    event_id: String,
    student: String,
    tutor: String,
    subject: String,
    scheduled: i64,
    at: i64,
}

#[tokio::test]
async fn the_contract_and_the_worlds_consistency_hold_over_100k_events() {
    let (dir, md) = master();
    let (student_region, tutor_market) = (&md.region, &md.market);
    let mut c = config(21, &dir.path().join("tutoring"));
    c.schedule.start = Some("2025-03-01T08:00:00Z".parse().unwrap());
    c.schedule.count = Some(100_000);
    let (summary, events) = run_captured(&c).await;
    assert_eq!(summary.primary.iter().sum::<u64>(), 100_000);
    let s = scenario::find(&world()).unwrap();
    let mut checker = s.checker(&c.data_dir, true).unwrap();
    const DAY: i64 = 86_400_000;
    const HOUR: i64 = 3_600_000;
    let mut rosters: HashMap<usize, i64> = HashMap::new();
    for &m in tutor_market.values() {
        *rosters.entry(m).or_default() += 1;
    }
    let mut open: HashMap<String, Open> = HashMap::new();
    let (mut busy_students, mut busy_tutors) = (HashSet::new(), HashSet::new());
    let mut completions: HashMap<String, VecDeque<i64>> = HashMap::new();
    let mut calls: HashMap<String, VecDeque<i64>> = HashMap::new();
    let mut ratings: HashMap<String, (i64, i64)> = HashMap::new();
    let mut subjects: HashMap<String, Vec<String>> = HashMap::new();
    let mut accepts: HashMap<String, bool> = HashMap::new();
    let mut market_starts: HashMap<usize, VecDeque<i64>> = HashMap::new();
    let mut streams: HashMap<u64, u64> = HashMap::new();
    let mut counts: HashMap<String, Vec<&Value>> = HashMap::new();
    let mut last = 0;
    for e in &events {
        checker.check(e);
        assert_eq!(s.validate_event(e).map(|_| ()), Ok(()), "{e}");
        let ty = e["event_type"].as_str().unwrap();
        let p = &e["payload"];
        // The document's envelope and fields, no more inside the payload.
        let mut keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = document_fields(ty).to_vec();
        keys.sort_unstable();
        want.sort_unstable();
        assert_eq!(keys, want, "{e}");
        assert_eq!(p["source"], "simulator");
        let now = ms(e);
        assert!(now >= last, "time went back: {e}");
        last = now;
        // Each stream counts 1, 2, 3, ...
        let stream = e["stream_id"].as_u64().unwrap();
        let seq = streams.entry(stream).or_default();
        *seq += 1;
        assert_eq!(e["stream_seq"].as_u64(), Some(*seq), "{e}");
        let student = p["student_id"].as_str().unwrap_or("").to_string();
        let tutor = p["tutor_id"].as_str().unwrap_or("").to_string();
        match ty {
            "session_started" => {
                assert!(e["caused_by"].is_null());
                let subject = p["subject"].as_str().unwrap().to_string();
                assert!(
                    busy_students.insert(student.clone()) && busy_tutors.insert(tutor.clone()),
                    "double booked: {e}"
                );
                if let Some(taught) = subjects.get(&tutor) {
                    assert!(
                        taught.contains(&subject),
                        "{tutor} does not teach {subject}: {e}"
                    );
                }
                if p["session_type"] == "instant_book" {
                    assert_ne!(
                        accepts.get(&tutor),
                        Some(&false),
                        "instant_book with a tutor who does not accept it: {e}"
                    );
                }
                market_starts
                    .entry(market(&subject, &student_region[&student]))
                    .or_default()
                    .push_back(now);
                let session = p["session_id"].as_str().unwrap().to_string();
                assert!(session.starts_with(&format!("sess_{now}_")), "{e}");
                let o = Open {
                    event_id: e["event_id"].as_str().unwrap().into(),
                    student,
                    tutor,
                    subject,
                    scheduled: p["scheduled_duration_minutes"].as_i64().unwrap(),
                    at: now,
                };
                assert!(open.insert(session, o).is_none(), "session id repeats: {e}");
            }
            "session_completed" => {
                let o = open
                    .remove(p["session_id"].as_str().unwrap())
                    .expect("completes a started session");
                assert_eq!(e["caused_by"].as_str(), Some(o.event_id.as_str()));
                assert_eq!(
                    (
                        student.as_str(),
                        tutor.as_str(),
                        p["subject"].as_str().unwrap()
                    ),
                    (o.student.as_str(), o.tutor.as_str(), o.subject.as_str())
                );
                let minutes = p["actual_duration_minutes"].as_i64().unwrap();
                assert_eq!(now - o.at, minutes * 60_000, "{e}");
                assert!(
                    (20..=95).contains(&minutes)
                        && (o.scheduled - 10..=o.scheduled + 5).contains(&minutes),
                    "{e}"
                );
                busy_students.remove(&student);
                busy_tutors.remove(&tutor);
                completions
                    .entry(student.clone())
                    .or_default()
                    .push_back(now);
                let r = ratings.entry(student).or_default();
                r.0 += p["student_rating"].as_i64().unwrap();
                r.1 += 1;
            }
            "ib_call_logged" => {
                calls.entry(student).or_default().push_back(now);
                assert!(
                    p["call_id"]
                        .as_str()
                        .unwrap()
                        .starts_with(&format!("call_{now}_")),
                    "{e}"
                );
            }
            "tutor_availability_updated" => {
                let taught: Vec<String> = p["subjects"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect();
                assert_ne!(taught[0], taught[1], "{e}");
                if let Some(before) = subjects.insert(tutor.clone(), taught.clone()) {
                    assert_eq!(before, taught, "a tutor's subjects do not change");
                }
                accepts.insert(tutor, p["accepts_instant_book"].as_bool().unwrap());
            }
            "customer_health_update" => {
                let (w7, w30, c14) = (
                    in_window(completions.get(&student), now, 7 * DAY),
                    in_window(completions.get(&student), now, 30 * DAY),
                    in_window(calls.get(&student), now, 14 * DAY),
                );
                assert_eq!(
                    (
                        p["sessions_last_7_days"].as_u64(),
                        p["sessions_last_30_days"].as_u64(),
                        p["ib_calls_last_14_days"].as_u64()
                    ),
                    (Some(w7), Some(w30), Some(c14)),
                    "{e}"
                );
                assert!(
                    w7 <= 10 && w30 <= 40 && c14 <= 5,
                    "outside the document's ranges: {e}"
                );
                let rating = match ratings.get(&student) {
                    Some((sum, n)) => (100.0 * *sum as f64 / *n as f64).round() / 100.0,
                    None => 4.0,
                };
                assert_eq!(p["avg_session_rating"].as_f64(), Some(rating), "{e}");
                let score = ((100.0
                    * (md.standing[&student] + 5.0 * (rating - 4.0) + 0.5 * w30 as f64
                        - c14 as f64))
                    .round()
                    / 100.0)
                    .clamp(60.0, 100.0);
                assert!(
                    (p["health_score"].as_f64().unwrap() - score).abs() < 1e-9,
                    "score {score}: {e}"
                );
                let risk = if score < 73.33 {
                    "high"
                } else if score < 86.67 {
                    "medium"
                } else {
                    "low"
                };
                assert_eq!(p["churn_risk"], risk, "{e}");
            }
            "supply_demand_update" => {
                let m = market(
                    p["subject"].as_str().unwrap(),
                    p["region"].as_str().unwrap(),
                );
                let roster = rosters.get(&m).copied().unwrap_or(0);
                let busy = busy_tutors.iter().filter(|t| tutor_market[*t] == m).count() as i64;
                assert_eq!(p["available_tutors"].as_i64(), Some(roster - busy), "{e}");
                assert_eq!(
                    p["active_students"].as_u64(),
                    Some(in_window(market_starts.get(&m), now, HOUR)),
                    "{e}"
                );
                // Free tutors per session started in the last hour, 100 at 0.6 or more.
                let active = in_window(market_starts.get(&m), now, HOUR).max(1) as f64;
                let free = (roster - busy) as f64;
                let supply =
                    (100.0 * (50.0 + 50.0 * (free / (0.6 * active)).min(1.0))).round() / 100.0;
                assert_eq!(p["supply_score"].as_f64(), Some(supply), "{e}");
            }
            other => panic!("unknown type {other}"),
        }
        counts.entry(ty.to_string()).or_default().push(e);
    }
    checker.finish();
    let v = checker.violations();
    assert!(v.is_empty(), "{} violations, first: {}", v.len(), v[0]);
    // Almost every started session completed within the run.
    let (started, completed) = (
        counts["session_started"].len(),
        counts["session_completed"].len(),
    );
    assert!(
        completed > 15_000 && started - completed < 100,
        "{started} started, {completed} completed"
    );
    // The document's shares: 90% of sessions succeed and 70% of calls are resolved.
    // Threshold: four binomial standard deviations.
    let share = |events: &[&Value], field: &str, p: f64| {
        let n = events.len() as f64;
        let k = events
            .iter()
            .filter(|e| e["payload"][field] == true)
            .count() as f64;
        assert!(
            (k / n - p).abs() < 4.0 * (p * (1.0 - p) / n).sqrt(),
            "{field}: {:.4} vs {p}",
            k / n
        );
    };
    share(&counts["session_completed"], "completed_successfully", 0.9);
    share(&counts["ib_call_logged"], "resolved", 0.7);
    share(
        &counts["tutor_availability_updated"],
        "accepts_instant_book",
        0.5,
    );
    // The document's uniform choices, by chi-square. Threshold: reject only if p <= 0.001.
    let uniform = |ty: &str, field: &str, values: &[Value]| {
        let events = &counts[ty];
        let n = events.len() as f64 / values.len() as f64;
        let stat: f64 = values
            .iter()
            .map(|v| {
                (events.iter().filter(|e| e["payload"][field] == *v).count() as f64 - n).powi(2) / n
            })
            .sum();
        let p = chi_square_p(stat, values.len() as f64 - 1.0);
        assert!(p > 0.001, "{ty}.{field}: p = {p:.5}");
    };
    let texts = |xs: &[&str]| xs.iter().map(|x| json!(x)).collect::<Vec<_>>();
    uniform("session_started", "subject", &texts(&SUBJECTS));
    uniform(
        "session_started",
        "scheduled_duration_minutes",
        &[json!(30), json!(60), json!(90)],
    );
    uniform(
        "session_completed",
        "student_rating",
        &[json!(3), json!(4), json!(5)],
    );
    uniform(
        "ib_call_logged",
        "reason",
        &texts(&[
            "scheduling_issue",
            "technical_problem",
            "tutor_concern",
            "billing_question",
            "general_inquiry",
        ]),
    );
    uniform(
        "ib_call_logged",
        "priority",
        &texts(&["low", "medium", "high"]),
    );
    // A tutor's timezone is master data, so the events follow the tutors' own mix, not an
    // exact quarter each: test the tutors by chi-square (reject only if p <= 0.001), and that
    // every update carries its tutor's timezone.
    let tutors: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("tutoring/tutors.json")).unwrap(),
    )
    .unwrap();
    let zone_of: HashMap<&str, &str> = tutors
        .iter()
        .map(|t| (t["id"].as_str().unwrap(), t["timezone"].as_str().unwrap()))
        .collect();
    let quarter = tutors.len() as f64 / 4.0;
    let stat: f64 = ["EST", "CST", "MST", "PST"]
        .iter()
        .map(|z| (zone_of.values().filter(|v| *v == z).count() as f64 - quarter).powi(2) / quarter)
        .sum();
    assert!(
        chi_square_p(stat, 3.0) > 0.001,
        "tutors' timezones: chi-square {stat}"
    );
    for e in &counts["tutor_availability_updated"] {
        let tutor = e["payload"]["tutor_id"].as_str().unwrap();
        assert_eq!(
            e["payload"]["timezone"].as_str(),
            zone_of.get(tutor).copied(),
            "{e}"
        );
    }
    uniform("supply_demand_update", "region", &texts(&REGIONS));
    // session_type: a third each overall, within 2 points (instant_book needs a tutor who takes it).
    let sessions = &counts["session_started"];
    for t in ["one_on_one", "group", "instant_book"] {
        let k = sessions
            .iter()
            .filter(|e| e["payload"]["session_type"] == t)
            .count() as f64
            / sessions.len() as f64;
        assert!((k - 1.0 / 3.0).abs() < 0.02, "{t}: {k:.4}");
    }
    // The document's ranges held, and every churn risk occurred.
    let risks: HashSet<&str> = counts["customer_health_update"]
        .iter()
        .map(|e| e["payload"]["churn_risk"].as_str().unwrap())
        .collect();
    assert_eq!(risks.len(), 3, "{risks:?}");
    // STREAM_COUNT = 50 streams by default.
    assert_eq!(streams.len(), 50);
}
