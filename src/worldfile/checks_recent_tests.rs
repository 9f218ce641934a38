//! `recent(key, seconds, counted)` and `total(key, counted)` in `checks:`: counts over a
//! sliding span of event time or since the stream began, known only when every event counted
//! was seen, and never reported when unknown.

use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value as Json};

use super::check_run::{Memory, MAX_KEYS};
use super::contract::Checker;
use super::expr::Master;
use super::model::Model;
use crate::scenario::ContractChecker;

const WORLD: &str = r#"world: r
events:
  visit:
    weight: 1
    topic: r
    key: user
    payload:
      user: "u${randint(1, 3)}"
  report:
    weight: 1
    topic: r
    key: user
    payload:
      user: "u${randint(1, 3)}"
      visits_1h: ${randint(0, 9)}
checks:
  visits:
    doc: a report shows the user's visits in the last hour
    types: [visit, report]
    rule: event_type != 'report' or visits_1h == recent(user, 3600, event_type == 'visit')
"#;

fn model() -> Model {
    super::compile_text("r.yaml", WORLD, &Default::default()).unwrap()
}

fn master_of(m: &Model) -> Master {
    super::master::load_or_generate(m, Path::new("/nonexistent/x"))
        .unwrap()
        .0
}

fn checker_of(m: Model, from_start: bool) -> Checker {
    let master = master_of(&m);
    Checker::new(Arc::new(m), Arc::new(master), "r", from_start)
}

fn checker(from_start: bool) -> Checker {
    checker_of(model(), from_start)
}

/// A model's rules run straight on a [`Memory`] read from the stream's start, whose bound a
/// test may lower.
struct Rules {
    model: Model,
    master: Master,
    mem: Memory,
}

impl Rules {
    fn new(model: Model, max_keys: usize) -> Self {
        let mem = Memory::new(&model.checks, true).with_max_keys(max_keys);
        let master = master_of(&model);
        Rules { model, master, mem }
    }

    /// Runs the rules on `e`; what they found broken, as `rule: detail`.
    fn run(&mut self, e: &Json) -> Vec<String> {
        let name = e["event_type"].as_str().unwrap();
        let t = self
            .model
            .events
            .iter()
            .position(|x| x.name == name)
            .unwrap();
        let mut bad = Vec::new();
        let (checks, master) = (&self.model.checks, &self.master);
        self.mem.run(checks, master, t, name, e, &mut |r, d| {
            bad.push(format!("{r}: {d}"))
        });
        bad
    }
}

/// An event at `secs` seconds into 2025; a report when `n` is given.
fn event(user: &str, secs: i64, n: Option<i64>) -> Json {
    let time = chrono::DateTime::from_timestamp(1_735_689_600 + secs, 0).unwrap();
    let mut e = json!({
        "event_id": uuid::Uuid::now_v7().to_string(),
        "event_type": if n.is_some() { "report" } else { "visit" },
        "event_time": time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "schema_version": 1,
        "scenario": "r",
        "caused_by": null,
        "user": user,
    });
    if let Some(n) = n {
        e["visits_1h"] = json!(n);
    }
    e
}

fn rules(c: &mut Checker, e: &Json) -> Vec<&'static str> {
    c.check(e);
    c.take_violations().into_iter().map(|v| v.rule).collect()
}

#[test]
fn recent_counts_the_key_s_events_in_the_span_before_this_one() {
    let mut c = checker(true);
    for (user, secs) in [("u1", 0), ("u1", 10), ("u2", 20), ("u1", 3500)] {
        assert!(rules(&mut c, &event(user, secs, None)).is_empty());
    }
    // At 3600 s the span is (0 s, 3600 s]: the visit at 0 has left it.
    assert!(rules(&mut c, &event("u1", 3600, Some(2))).is_empty());
    assert_eq!(rules(&mut c, &event("u1", 3600, Some(3))), ["visits"]);
    // A report is not counted; a key never seen has none.
    assert!(rules(&mut c, &event("u1", 3601, Some(2))).is_empty());
    assert!(rules(&mut c, &event("u3", 3601, Some(0))).is_empty());
    assert_eq!(rules(&mut c, &event("u3", 3601, Some(1))), ["visits"]);
    // A visit in the same millisecond as the report may come before or after it in another
    // order: the count is not known, and a wrong one is not reported.
    assert!(rules(&mut c, &event("u2", 4000, None)).is_empty());
    assert!(rules(&mut c, &event("u2", 4000, Some(7))).is_empty());
    assert!(rules(&mut c, &event("u2", 4001, Some(1))).is_empty());
    assert_eq!(rules(&mut c, &event("u2", 4001, Some(2))), ["visits"]);
}

#[test]
fn joined_mid_stream_a_count_is_checked_once_its_whole_span_was_seen() {
    let mut c = checker(false);
    assert!(rules(&mut c, &event("u1", 0, None)).is_empty());
    // u1 may have visited before the stream was joined: 5 is not reported.
    assert!(rules(&mut c, &event("u1", 1800, Some(5))).is_empty());
    assert!(rules(&mut c, &event("u1", 3600, Some(5))).is_empty());
    // From 3601 s the span starts after the first event seen.
    assert!(rules(&mut c, &event("u1", 3601, Some(0))).is_empty());
    assert_eq!(rules(&mut c, &event("u1", 3601, Some(1))), ["visits"]);
}

#[test]
fn what_recent_forgot_leaves_its_span_unchecked_until_it_has_passed() {
    let mut r = Rules::new(model(), 4);
    for i in 0..20 {
        let bad = r.run(&event(&format!("u{i}"), i, None));
        assert!(bad.is_empty(), "{bad:?}");
        assert!(r.mem.len() <= 4, "{} keys", r.mem.len());
    }
    // u0 was forgotten: a wrong count within the hour after is not reported...
    let bad = r.run(&event("u0", 1000, Some(0)));
    assert!(bad.is_empty(), "{bad:?}");
    // ...and once the hour has passed, counts are checked again.
    let bad = r.run(&event("u0", 3700, Some(1)));
    assert_eq!(bad.len(), 1, "{bad:?}");
}

/// A key counted for a week, a visit a minute, keeps only the last hour's times, however
/// rarely it is reported on: the memory holds one span per key, not the key's history.
#[test]
fn a_key_keeps_one_span_of_times() {
    let mut r = Rules::new(model(), MAX_KEYS);
    for minute in 0..7 * 24 * 60 {
        let bad = r.run(&event("u1", minute * 60, None));
        assert!(bad.is_empty(), "{bad:?}");
    }
    assert!(
        r.mem.times_kept() <= 61,
        "{} times kept",
        r.mem.times_kept()
    );
}

#[test]
fn a_bad_recent_is_a_load_error_that_says_what_it_takes() {
    for (rule, needle) in [
        ("recent(user, 3600) == 1", "recent(key, seconds, counted)"),
        ("recent(user, visits_1h, true) == 1", "known at load"),
        ("recent(user, 0, true) == 1", "known at load"),
        ("recent(user, 60, 'yes') == 1", "must be true or false"),
        (
            "prev(user, recent(user, 60, true)) == 1",
            "cannot be inside",
        ),
    ] {
        let err = load_error(rule);
        assert!(err.contains(needle), "{rule}: {err}");
        assert!(err.contains("checks.visits.rule"), "{rule}: {err}");
    }
}

/// `WORLD` with its rule replaced by `rule`, compiled.
fn compile_with(rule: &str) -> Result<Model, super::WorldError> {
    let text = WORLD.replace(
        "event_type != 'report' or visits_1h == recent(user, 3600, event_type == 'visit')",
        rule,
    );
    super::compile_text("r.yaml", &text, &Default::default())
}

fn world_with(rule: &str) -> Model {
    compile_with(rule).unwrap()
}

/// The load error of `WORLD` with `rule`, or "" when it loads.
fn load_error(rule: &str) -> String {
    compile_with(rule)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

const TOTAL: &str = "event_type != 'report' or visits_1h == total(user, event_type == 'visit')";

fn total_checker(from_start: bool) -> Checker {
    checker_of(world_with(TOTAL), from_start)
}

#[test]
fn total_counts_every_earlier_event_of_the_key_since_the_stream_began() {
    let mut c = total_checker(true);
    for (user, secs) in [("u1", 0), ("u1", 10), ("u2", 20), ("u1", 90 * 86400)] {
        assert!(rules(&mut c, &event(user, secs, None)).is_empty());
    }
    // No span: the visit at 0 still counts 90 days on.
    assert!(rules(&mut c, &event("u1", 90 * 86400 + 1, Some(3))).is_empty());
    assert_eq!(
        rules(&mut c, &event("u1", 90 * 86400 + 1, Some(2))),
        ["visits"]
    );
    assert!(rules(&mut c, &event("u3", 90 * 86400 + 1, Some(0))).is_empty());
    // A visit in the same millisecond leaves the count unknown, as with `recent`.
    assert!(rules(&mut c, &event("u2", 100 * 86400, None)).is_empty());
    assert!(rules(&mut c, &event("u2", 100 * 86400, Some(9))).is_empty());
    assert_eq!(
        rules(&mut c, &event("u2", 100 * 86400 + 1, Some(1))),
        ["visits"]
    );
}

#[test]
fn a_total_is_not_checked_by_a_consumer_that_joined_mid_stream() {
    let mut c = total_checker(false);
    assert!(rules(&mut c, &event("u1", 0, None)).is_empty());
    // u1 may have visited before the stream was joined, however long ago.
    assert!(rules(&mut c, &event("u1", 400 * 86400, Some(7))).is_empty());
}

/// A total keeps a number per key, not the key's times: a week of visits a minute keeps one.
#[test]
fn a_total_keeps_one_time_per_key() {
    let mut r = Rules::new(world_with(TOTAL), MAX_KEYS);
    for minute in 0..7 * 24 * 60 {
        assert!(r.run(&event("u1", minute * 60, None)).is_empty());
    }
    assert!(r.run(&event("u1", 7 * 86400, Some(7 * 24 * 60))).is_empty());
    assert_eq!(
        r.run(&event("u1", 7 * 86400, Some(7 * 24 * 60 - 1))).len(),
        1
    );
    assert_eq!(r.mem.times_kept(), 1);
}

#[test]
fn a_bad_total_is_a_load_error_that_says_what_it_takes() {
    for (rule, needle) in [
        ("total(user) == 1", "total(key, counted)"),
        ("total(user, 60, true) == 1", "total(key, counted)"),
        (
            "total(user, 'yes') == 1",
            "total's counted must be true or false",
        ),
        ("prev(user, total(user, true)) == 1", "cannot be inside"),
    ] {
        let err = load_error(rule);
        assert!(err.contains(needle), "{rule}: {err}");
        assert!(err.contains("checks.visits.rule"), "{rule}: {err}");
    }
}
