//! How bounded runs end (issue 28): follow-ups due before the end are made, `--on-end`
//! finishes the chains or stops at once and the summary counts what was dropped, a
//! historical count is exact, a batch stays bounded however many follow-ups a primary event
//! owes, and `--max-records` bounds the records in all.

use super::tests::{Captured, Seen, SeenSink};
use super::*;
use crate::schedule::{HumanDuration, OnEnd, TimeArg};
use crate::sinks::SinkKind;

/// One primary event starts nine steps one second apart.
const CHAIN: &str = r#"
world: chain
events:
  begin:
    weight: 1
    payload:
      n: 0
    then:
      - event: step
        after: 1
        repeat: {times: 9, every: 1}
  step:
    weight: 0
    payload:
      n: ${occurrence}
"#;

/// Ten meters, each installed once (most primary draws while some are not), then reading
/// every 10 s for ever: each reading schedules the next. Checks are the other primary events.
const METERS: &str = r#"
world: meters
entities:
  meters:
    count: 10
    id: "M-${seq:02}"
state:
  meters:
    installed: {init: false}
events:
  install:
    weight: 10
    pick:
      m: {from: meters, where: not m.installed}
    effects:
      - set: {m.installed: true}
    payload:
      meter: ${m.id}
    then:
      - event: reading
        after: 10
  check:
    weight: 1
    pick:
      m: meters
    payload:
      meter: ${m.id}
  reading:
    weight: 0
    payload:
      meter: ${m.id}
      value: ${round(uniform(0, 100), 2)}
    then:
      - event: reading
        after: 10
"#;

/// One machine, busy for an hour after each use: most draws of a day's uses are refused.
const MACHINE: &str = r#"
world: machine
entities:
  machines:
    count: 1
    id: "X-${seq:02}"
state:
  machines:
    busy: {init: false}
events:
  use:
    weight: 1
    pick:
      m: {from: machines, where: not m.busy}
    effects:
      - set: {m.busy: true}
    payload:
      machine: ${m.id}
    then:
      - event: release
        after: 3600
  release:
    weight: 0
    effects:
      - set: {m.busy: false}
    payload:
      machine: ${m.id}
"#;

/// A run's config for the world file `text`, on the null sink; the directory holds the file.
fn world_config(text: &str) -> (Config, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("world.yaml");
    std::fs::write(&path, text).unwrap();
    let config = Config {
        scenario: path.display().to_string(),
        data_dir: dir.path().join("none"),
        seed: Some(5),
        sinks: vec![SinkKind::Null],
        stats_interval_secs: 0.0,
        ..Config::default()
    };
    (config, dir)
}

fn at(text: &str) -> Option<TimeArg> {
    Some(text.parse().unwrap())
}

/// Runs `config` to its end: what it summarised, and what the sink saw.
async fn run(config: &Config) -> (Summary, Seen) {
    let types = crate::scenario::find(&config.scenario)
        .unwrap()
        .event_types()
        .len();
    let (sink, seen) = SeenSink::new(types);
    let runner = Runner::with_sinks(config, vec![Box::new(sink)]).unwrap();
    let summary = runner.run(CancellationToken::new()).await.unwrap();
    (summary, seen)
}

/// Issue 28, item 8: a primary event's chain of steps one second apart, in a 15 s run whose
/// next primary event falls after the end, made 1 event instead of 10: the steps were made
/// only when the next primary was drawn.
#[tokio::test]
async fn follow_ups_due_before_the_end_are_made() {
    let (mut config, _dir) = world_config(CHAIN);
    config.schedule.start = at("2026-01-05T00:00:00Z");
    config.schedule.duration = Some("15s".parse::<HumanDuration>().unwrap());
    config.schedule.min_delta_secs = 100.0;
    config.schedule.max_delta_secs = 120.0;
    for on_end in [OnEnd::Finish, OnEnd::Stop] {
        config.schedule.on_end = on_end;
        let (summary, seen) = run(&config).await;
        let times = seen.times();
        assert_eq!(times.len(), 10, "{on_end:?}: {times:?}");
        let start = times[0].0;
        let steps: Vec<i64> = times[1..].iter().map(|(t, _)| t - start).collect();
        assert_eq!(steps, (1..=9).map(|s| s * 1000).collect::<Vec<_>>());
        assert_eq!(summary.follow_ups.dropped, 0, "{on_end:?}");
    }
}

/// Item 8: when the count is reached, `finish` makes the chains already started (no new
/// primary event) and `stop` ends at once; the summary counts what each dropped.
#[tokio::test]
async fn on_end_finishes_the_chains_or_stops_and_counts_the_dropped() {
    let (mut config, _dir) = world_config(CHAIN);
    config.schedule.start = at("2026-01-05T00:00:00Z");
    config.schedule.count = Some(3);
    config.schedule.min_delta_secs = 100.0;
    config.schedule.max_delta_secs = 120.0;
    // Three chains of 1 + 9; the third one's steps come after the last primary event.
    for (on_end, records, finished, dropped) in [(OnEnd::Finish, 30, 9, 0), (OnEnd::Stop, 21, 0, 9)]
    {
        config.schedule.on_end = on_end;
        let (summary, seen) = run(&config).await;
        let times = seen.times();
        assert_eq!(times.len(), records, "{on_end:?}");
        assert_eq!(times.iter().filter(|(_, p)| *p).count(), 3, "{on_end:?}");
        assert!(
            times.windows(2).all(|w| w[0].0 <= w[1].0),
            "{on_end:?}: out of order"
        );
        let f = summary.follow_ups;
        assert_eq!((f.finished, f.dropped), (finished, dropped), "{on_end:?}");
        let json = crate::report::summary_json(
            crate::scenario::find(&config.scenario)
                .unwrap()
                .event_types(),
            &summary,
        );
        assert_eq!(json["follow_ups"]["dropped"], dropped, "{json}");
        assert_eq!(json["follow_ups"]["on_end"], on_end.name(), "{json}");
    }
}

/// Item 8: a chain that never ends (each reading schedules the next) is finished for an hour
/// of event time after the last primary event, and the reading still pending is dropped.
#[tokio::test]
async fn an_endless_chain_is_finished_for_an_hour() {
    let (mut config, _dir) = world_config(METERS);
    config.schedule.start = at("2026-01-05T00:00:00Z");
    config.schedule.count = Some(1);
    config.schedule.min_delta_secs = 100.0;
    config.schedule.max_delta_secs = 120.0;
    config.weights.insert("check".into(), 0.0);
    let (summary, seen) = run(&config).await;
    let times = seen.times();
    let last_primary = times
        .iter()
        .filter(|(_, p)| *p)
        .map(|(t, _)| *t)
        .max()
        .unwrap();
    let last = times.last().unwrap().0;
    // Readings at +10 s .. +3590 s, the one at +3600 s left pending.
    assert_eq!(last - last_primary, 3_590_000);
    assert_eq!(summary.follow_ups.finished, 359);
    assert_eq!(summary.follow_ups.dropped, 1);
}

/// Issue 28, item 7: a historical `--count` made fewer primary events than asked when the
/// world refused draws (one machine, busy for an hour after each use, 8 uses in a day). A
/// count the range cannot hold (30 hour-long uses in a day) ends short and says so.
#[tokio::test]
async fn a_historical_count_is_exact_when_draws_are_refused() {
    let (mut config, _dir) = world_config(MACHINE);
    config.schedule.start = at("2015-01-01T00:00:00Z");
    config.schedule.end = at("2015-01-02T00:00:00Z");
    for seed in 1..=4 {
        config.seed = Some(seed);
        config.schedule.count = Some(8);
        let (summary, seen) = run(&config).await;
        let primaries = seen.times().iter().filter(|(_, p)| *p).count();
        assert_eq!(primaries, 8, "seed {seed}");
        assert_eq!(summary.primary.iter().sum::<u64>(), 8, "seed {seed}");
    }

    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    config.schedule.count = Some(30);
    let (summary, _) = run(&config).await;
    let made = summary.primary.iter().sum::<u64>();
    assert!(made < 25, "{made} hour-long uses in a day");
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("The range ended before the count") && text.contains(&format!("made={made}")),
        "{text}"
    );
}

/// Issue 28, item 11: ten meters reading every 10 s, 10 primary events a day, for a long
/// range: every day's readings went into the batch of the chunk of primary events, so memory
/// grew with the range (948 MB for a month). A batch now holds at most
/// [`MAX_BATCH_RECORDS`] records (and one primary event's own), however long the range.
#[tokio::test]
async fn batches_stay_bounded_over_a_long_sparse_range() {
    let (mut config, _dir) = world_config(METERS);
    config.schedule.start = at("2015-01-01T00:00:00Z");
    config.schedule.end = at("2015-01-04T00:00:00Z");
    config.schedule.events_per_day = Some(10.0);
    let (_, seen) = run(&config).await;
    let times = seen.times();
    // Every reading due before the end is made: one each 10 s after its meter's install.
    let end = chrono::DateTime::parse_from_rfc3339("2015-01-04T00:00:00Z")
        .unwrap()
        .timestamp_millis();
    let installs = seen.times_of(0);
    assert_eq!(installs.len(), 10, "every meter installed");
    let due: i64 = installs.iter().map(|t| (end - t - 1) / 10_000).sum();
    assert_eq!(seen.times_of(2).len() as i64, due);
    assert!(times.windows(2).all(|w| w[0].0 <= w[1].0), "out of order");
    assert!(
        seen.largest_batch() <= MAX_BATCH_RECORDS + 16,
        "a batch of {} records",
        seen.largest_batch()
    );
}

/// Issue 28, item 20: `--max-records` bounds the records in all, primary and follow-up, and a
/// long range says at start-up how many records it implies.
#[tokio::test]
async fn max_records_bounds_the_total_and_a_large_range_says_so() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (mut config, _dir) = world_config(METERS);
    config.schedule.start = at("2015-01-01T00:00:00Z");
    config.schedule.end = at("2024-12-31T00:00:00Z");
    config.schedule.events_per_day = Some(10.0);
    config.schedule.max_records = Some(300_000);
    let (summary, seen) = run(&config).await;
    assert_eq!(seen.times().len(), 300_000);
    assert_eq!(summary.stop, Stop::Finished);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("This range implies about"))
        .unwrap_or_else(|| panic!("no estimate logged: {text}"));
    // About 10 meters × 10 years at a reading every 10 s: 315M.
    let records: f64 = line
        .split("records=")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("no count in {line}"));
    assert!((2.5e8..3.5e8).contains(&records), "{line}");
}
