//! `checks:` end to end on a small world: compiled from text, run by the contract on events
//! written by hand. `prev` per key, `first`, entity fields and `lookup`, the memory bound, the
//! ingest API's share, and rules that do not compile.

use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value as Json};

use super::check_run::Memory;
use super::contract::{validate, Checker};
use crate::scenario::ContractChecker;

const WORLD: &str = r#"world: t
entities:
  songs:
    count: 3
    id: "S${seq}"
    fields:
      duration_ms: ${1000 * seq}
events:
  play:
    weight: 1
    topic: t
    key: user
    pick:
      s: songs
    payload:
      user: "u${randint(1, 3)}"
      song: ${s.id}
      song_text: "${s.id}-x"
      n: ${randint(1, 5)}
      ms: ${randint(1, 5000)}
  stop:
    weight: 1
    topic: t
    key: user
    payload:
      user: "u${randint(1, 3)}"
      reason: ${choice('done', 'skip')}
checks:
  numbering:
    types: [play]
    rule: n == prev(user, n, 0) + 1
  within:
    rule: ms <= song.duration_ms
  same_song:
    rule: song_text == concat(first(user, song_text), '')
  by_lookup:
    types: [play]
    rule: "lookup('songs', song_text == 'S3-x' ? 'S3' : 'S1').duration_ms >= 1000"
  pure:
    rule: reason != 'skip' or user != 'u3'
"#;

fn model(text: &str) -> Result<super::model::Model, String> {
    super::compile_text("t.yaml", text, &Default::default()).map_err(|e| e.to_string())
}

fn checker(from_start: bool) -> Checker {
    let m = model(WORLD).unwrap();
    let (master, _) = super::master::load_or_generate(&m, Path::new("/nonexistent/x")).unwrap();
    Checker::new(Arc::new(m), Arc::new(master), "t", from_start)
}

fn play(user: &str, song: &str, n: i64, ms: i64) -> Json {
    json!({
        "event_id": uuid::Uuid::now_v7().to_string(),
        "event_type": "play",
        "event_time": "2025-01-01T00:00:00.000Z",
        "schema_version": 1,
        "scenario": "t",
        "caused_by": null,
        "user": user,
        "song": song,
        "song_text": format!("{song}-x"),
        "n": n,
        "ms": ms,
    })
}

fn rules(c: &mut Checker, e: &Json) -> Vec<&'static str> {
    c.check(e);
    c.take_violations().into_iter().map(|v| v.rule).collect()
}

#[test]
fn prev_reads_the_previous_event_with_the_same_key() {
    let mut c = checker(true);
    assert!(rules(&mut c, &play("u1", "S1", 1, 10)).is_empty());
    assert!(rules(&mut c, &play("u2", "S1", 1, 10)).is_empty());
    assert!(rules(&mut c, &play("u1", "S1", 2, 10)).is_empty());
    // u2's last was 1: 3 skips one. Then 4 follows the 3 (one break, one violation).
    c.check(&play("u2", "S1", 3, 10));
    let v = c.take_violations();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].rule, "numbering");
    assert_eq!(
        v[0].detail,
        "`n == prev(user, n, 0) + 1` does not hold: n = 3, user = \"u2\", prev(user, n, 0) = 1"
    );
    assert!(rules(&mut c, &play("u2", "S1", 4, 10)).is_empty());
    // A new key starts from the default.
    assert_eq!(rules(&mut c, &play("u3", "S1", 2, 10)), ["numbering"]);
}

#[test]
fn from_the_middle_of_a_stream_an_unseen_key_is_not_checked() {
    let mut c = checker(false);
    let v = rules(&mut c, &play("u1", "S1", 4, 10));
    assert!(v.is_empty(), "{v:?}");
    assert_eq!(rules(&mut c, &play("u1", "S1", 3, 10)), ["numbering"]);
}

#[test]
fn first_keeps_the_first_value_and_fields_read_master_data() {
    let mut c = checker(true);
    assert!(rules(&mut c, &play("u1", "S2", 1, 2000)).is_empty());
    // Song S2 lasts 2000 ms.
    assert_eq!(rules(&mut c, &play("u2", "S2", 1, 2001)), ["within"]);
    // u1 named S2 first; S1 now breaks same_song, and still does later.
    assert_eq!(rules(&mut c, &play("u1", "S1", 2, 10)), ["same_song"]);
    assert_eq!(rules(&mut c, &play("u1", "S1", 3, 10)), ["same_song"]);
    assert!(rules(&mut c, &play("u1", "S2", 4, 10)).is_empty());
    // An id not in the master data is the reference rule's, not this one's.
    assert_eq!(
        rules(&mut c, &play("u3", "S9", 1, 4000)),
        ["unknown_reference"]
    );
}

#[test]
fn memory_is_bounded_and_what_it_forgot_is_not_checked() {
    let m = model(WORLD).unwrap();
    let (master, _) = super::master::load_or_generate(&m, Path::new("/nonexistent/x")).unwrap();
    let mut mem = Memory::new(&m.checks, true).with_max_keys(4);
    let mut bad = Vec::new();
    let t = m.events.iter().position(|e| e.name == "play").unwrap();
    for i in 0..100 {
        let mut e = play(&format!("u{i}"), "S1", 1, 10);
        e["event_time"] = json!(format!("2025-01-01T00:00:{:02}.000Z", i % 60));
        mem.run(&m.checks, &master, t, "play", &e, &mut |r, d| {
            bad.push((r, d))
        });
        // Two memories (numbering's prev, same_song's first), at most 4 keys each.
        assert!(mem.len() <= 8, "{} keys", mem.len());
    }
    assert!(bad.is_empty(), "{bad:?}");
    // u0 was forgotten: its 5th play is not checked against the default, not reported.
    let mut e = play("u0", "S1", 5, 10);
    e["event_time"] = json!("2025-01-01T00:02:00.000Z");
    mem.run(&m.checks, &master, t, "play", &e, &mut |r, d| {
        bad.push((r, d))
    });
    assert!(bad.is_empty(), "{bad:?}");
    // What it remembers still is checked.
    let mut e = play("u0", "S1", 7, 10);
    e["event_time"] = json!("2025-01-01T00:02:00.000Z");
    mem.run(&m.checks, &master, t, "play", &e, &mut |r, d| {
        bad.push((r, d))
    });
    assert_eq!(bad.len(), 1, "{bad:?}");
}

#[test]
fn the_ingest_api_checks_the_rules_that_need_no_memory_or_master_data() {
    let m = model(WORLD).unwrap();
    let stop = |user: &str, reason: &str| {
        json!({
            "event_id": uuid::Uuid::now_v7().to_string(),
            "event_type": "stop",
            "event_time": "2025-01-01T00:00:00.000Z",
            "schema_version": 1,
            "scenario": "t",
            "caused_by": null,
            "user": user,
            "reason": reason,
        })
    };
    assert!(validate(&m, "t", None, &stop("u3", "done")).is_ok());
    let err = validate(&m, "t", None, &stop("u3", "skip")).unwrap_err();
    assert!(err.starts_with("rule pure: "), "{err}");
    assert!(err.contains("user = \"u3\""), "{err}");
    // numbering (memory) and within (master data) are consume's.
    assert!(validate(&m, "t", None, &play("u1", "S1", 4, 4000)).is_ok());
}

#[test]
fn bad_rules_are_located_and_say_what_is_allowed() {
    let cases = [
        (
            "rule: n == prev(user, n, 0) + 1",
            "rule: nn == 1",
            "unknown name `nn`",
        ),
        (
            "rule: ms <= song.duration_ms",
            "rule: ms + 1",
            "must be true or false, not",
        ),
        (
            "lookup('songs', song_text",
            "lookup('sogns', song_text",
            "unknown entity kind `sogns`; kinds: songs",
        ),
        (
            "rule: ms <= song.duration_ms",
            "rule: ms <= song.length",
            "`songs` has no field or state `length`",
        ),
        (
            "rule: ms <= song.duration_ms",
            "rule: ms <= uniform(0, 9)",
            "draws at random",
        ),
        (
            "rule: n == prev(user, n, 0) + 1",
            "rule: n == prev(user, prev(user, n), 0)",
            "cannot be inside another",
        ),
        (
            "types: [play]",
            "types: [plya]",
            "`plya` is not an event type",
        ),
        (
            "rule: ms <= song.duration_ms",
            "rule: ms < 0",
            "can never hold",
        ),
        (
            "rule: n == prev(user, n, 0) + 1",
            "rule: n == prev(user)",
            "prev(key, value) or prev(key, value, default)",
        ),
    ];
    for (from, to, message) in cases {
        assert!(WORLD.contains(from), "{from}");
        let err = model(&WORLD.replacen(from, to, 1)).unwrap_err();
        assert!(err.contains(message), "{to}: {err}");
        assert!(err.starts_with("t.yaml:"), "{to}: {err}");
        let loc: Vec<&str> = err.split(": ").next().unwrap().split(':').collect();
        assert!(
            loc.len() == 3 && loc[1].parse::<usize>().is_ok() && loc[2].parse::<usize>().is_ok(),
            "{to}: not located: {err}"
        );
        assert!(err.contains("checks."), "{to}: no path: {err}");
    }
}

/// `types:` was first called `on:`; files written then still load, with the same rules.
#[test]
fn the_old_on_key_still_names_a_rules_types() {
    let old = WORLD.replace("types: [", "on: [");
    assert_ne!(old, WORLD);
    assert!(model(&old).is_ok());
    let err = model(&old.replacen("on: [play]", "on: [plya]", 1)).unwrap_err();
    assert!(err.contains("`plya` is not an event type"), "{err}");
}
