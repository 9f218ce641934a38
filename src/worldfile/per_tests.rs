//! Per-entity clocks in the running world: ticks merged in time order with follow-ups, made
//! as primaries, refused ticks counted and their clocks going on, `until` stopping a clock,
//! and a count's limit stopping them all.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::SeedableRng;

use super::runtime::FileWorld;
use super::tally::Cause;
use crate::event::{Batch, EventWriter};
use crate::scenario::World;
use crate::SimRng;

const WORLD: &str = "world: t
entities:
  sensors: {count: 3, id: 'S${seq}'}
state:
  sensors:
    n: {init: 0, min: 0}
events:
  tick:
    per: {s: sensors}
    start: 0
    every: 10
    until: s.n >= 3
    when: s.id != 'S2'
    effects:
      - add: {s.n: 1}
    payload: {sensor: '${s.id}', n: '${s.n}'}
    then:
      - {event: echo, after: 5}
  echo:
    weight: 0
    payload: {sensor: '${s.id}'}
";

fn world() -> FileWorld {
    let model = super::compile_text("t.yaml", WORLD, &BTreeMap::new()).unwrap();
    let model = Arc::new(model);
    let mut rng = SimRng::seed_from_u64(1);
    let master = Arc::new(super::master::generate(&model, &mut rng, &[]).unwrap());
    FileWorld::new(model, master, vec!["tick", "echo"], &mut rng).unwrap()
}

/// `(time, type, sensor, primary)` of each event in `batch`.
fn seen(batch: &Batch) -> Vec<(i64, u8, String, bool)> {
    batch
        .iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_slice(r.payload).unwrap();
            let sensor = v["sensor"].as_str().unwrap().to_string();
            (r.time_ms, r.event_type, sensor, r.primary)
        })
        .collect()
}

#[test]
fn ticks_merge_with_follow_ups_and_until_stops_a_clock() {
    let mut w = world();
    let mut rng = SimRng::seed_from_u64(2);
    w.begin(&mut rng, 0);
    assert_eq!(
        w.next_due(),
        Some(0),
        "start: 0 puts every first tick at the start"
    );
    let mut batch = Batch::new();
    let more = w.due_some(
        &mut rng,
        100_000,
        &mut EventWriter::new(&mut batch, "t"),
        1000,
    );
    assert!(!more);
    let events = seen(&batch);
    let mut want = Vec::new();
    for k in 0..3 {
        let t = k * 10_000;
        want.push((t, 0, "S1".to_string(), true));
        want.push((t, 0, "S3".to_string(), true));
        want.push((t + 5_000, 1, "S1".to_string(), false));
        want.push((t + 5_000, 1, "S3".to_string(), false));
    }
    assert_eq!(
        events, want,
        "S2's ticks are refused; S1 and S3 stop after 3"
    );
    // S2's clock goes on through its refusals: 0, 10, ..., 100 s.
    let refused = &w.tally().primary[0].refused;
    assert_eq!(refused, &vec![(Cause::When, 11)]);
    assert_eq!(w.next_due(), Some(110_000));
    assert!(w.has_scheduled());
}

#[test]
fn a_limit_stops_the_clocks_but_not_the_follow_ups() {
    let mut w = world();
    let mut rng = SimRng::seed_from_u64(2);
    w.begin(&mut rng, 0);
    w.limit_clocks(1);
    let mut batch = Batch::new();
    w.due_some(
        &mut rng,
        60_000,
        &mut EventWriter::new(&mut batch, "t"),
        1000,
    );
    let events = seen(&batch);
    assert_eq!(
        events,
        [
            (0, 0, "S1".to_string(), true),
            (5_000, 1, "S1".to_string(), false)
        ],
        "one tick, then only its follow-up"
    );
    assert_eq!(w.next_due(), None);
    assert!(!w.has_scheduled());
}

#[test]
fn a_world_is_begun_once_at_its_first_event_when_not_before() {
    let mut w = world();
    let mut rng = SimRng::seed_from_u64(2);
    let mut batch = Batch::new();
    w.due_some(
        &mut rng,
        7_000,
        &mut EventWriter::new(&mut batch, "t"),
        1000,
    );
    let events = seen(&batch);
    assert_eq!(events.len(), 2, "ticks at 7 s: {events:?}");
    assert!(events.iter().all(|e| e.0 == 7_000));
    w.begin(&mut rng, 0);
    assert_eq!(w.next_due(), Some(12_000), "a second begin changes nothing");
}
