//! Per-entity clocks (`per:`, issue 29 item 4) through the real runner and binary, on
//! tests/fixtures/world-sensors.yaml: 50 sensors each reporting every 10 s on its own clock,
//! in a world with no weighted type at all. Its rate follows from its population (5 a
//! second), each sensor's gaps are its `every`, clocks start staggered and stop at `until`,
//! and it runs with --count, with --start/--end and live.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::*;
use kafka_gen::config::{Config, SinkKind};
use serde_json::Value;

const START: &str = "2025-01-01T00:00:00Z";

fn sensors() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/world-sensors.yaml")
        .display()
        .to_string()
}

fn config(seed: u64) -> Config {
    Config {
        scenario: sensors(),
        data_dir: PathBuf::from("/nonexistent/kafka-gen-test"),
        seed: Some(seed),
        sinks: vec![SinkKind::Null],
        stats_interval_secs: 0.0,
        ..Config::default()
    }
}

fn ms(e: &Value) -> i64 {
    let t = e["event_time"].as_str().unwrap();
    chrono::DateTime::parse_from_rfc3339(t)
        .unwrap()
        .timestamp_millis()
}

/// Reading times per sensor, in order.
fn by_sensor(events: &[Value]) -> BTreeMap<String, Vec<i64>> {
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for e in events.iter().filter(|e| e["event_type"] == "reading") {
        let s = e["sensor"].as_str().unwrap().to_string();
        out.entry(s).or_default().push(ms(e));
    }
    out
}

/// The sensors world over `--start START --end END` with `sets` (`--set` pairs), from the
/// binary's stdout.
fn run_range(end: &str, sets: &[&str]) -> Vec<Value> {
    let world = sensors();
    let mut args = vec![
        "run",
        "--world",
        &world,
        "--data-dir",
        "/nonexistent/kafka-gen-test",
        "--sink",
        "stdout",
        "--seed",
        "5",
        "--start",
        START,
        "--end",
        end,
        "--stats-interval",
        "0",
    ];
    for s in sets {
        args.extend(["--set", s]);
    }
    json_lines(&args)
}

/// Kolmogorov-Smirnov statistic of `xs` against the exponential distribution of `mean`.
fn ks_exponential(xs: &mut [f64], mean: f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len() as f64;
    xs.iter()
        .enumerate()
        .map(|(i, x)| {
            let f = 1.0 - (-x / mean).exp();
            (f - i as f64 / n).abs().max((f - (i + 1) as f64 / n).abs())
        })
        .fold(0.0, f64::max)
}

/// 50 sensors with exponential gaps of mean 10 s over an hour: 18,000 readings expected
/// (Poisson, sd 134; within 4 sd), 5 a second, from every sensor; each sensor's gaps follow
/// the exponential distribution of mean 10 s (KS over ~18,000 gaps, critical value at
/// alpha = 0.001 is 1.95 / sqrt(n) = 0.0146); and the stream keeps its contract (a reading
/// is a primary event: no cause).
#[tokio::test]
async fn fifty_sensors_every_10_s_make_5_readings_a_second() {
    let mut c = config(7);
    c.schedule.start = Some(START.parse().unwrap());
    c.schedule.end = Some("2025-01-01T01:00:00Z".parse().unwrap());
    let (summary, events) = run_captured(&c).await;
    let readings = by_sensor(&events);
    let n: usize = readings.values().map(Vec::len).sum();
    assert_eq!(readings.len(), 50, "every sensor reports");
    assert!(
        (18_000i64 - n as i64).abs() < 4 * 134,
        "{n} readings in an hour"
    );
    assert_eq!(summary.primary[0], n as u64, "readings are the primaries");
    let alarms = events.iter().filter(|e| e["event_type"] == "alarm").count() as u64;
    assert_eq!(summary.derived[1], alarms, "alarms follow readings");
    let mut gaps: Vec<f64> = readings
        .values()
        .flat_map(|t| t.windows(2).map(|w| (w[1] - w[0]) as f64 / 1000.0))
        .collect();
    let m = gaps.len() as f64;
    let d = ks_exponential(&mut gaps, 10.0);
    assert!(d < 1.95 / m.sqrt(), "KS D = {d} over {m} gaps");
    let s = kafka_gen::scenario::find(&sensors()).unwrap();
    let mut checker = s
        .checker(&PathBuf::from("/nonexistent/kafka-gen-test"), true)
        .unwrap();
    for e in &events {
        checker.check(e);
    }
    checker.finish();
    let v = checker.violations();
    assert!(v.is_empty(), "{} violations, first: {}", v.len(), v[0]);
}

/// A world with no weighted type stops at its count exactly: 1,000 readings, no more
/// (with `--on-end stop`, no follow-up after the count either).
#[tokio::test]
async fn a_world_with_no_weighted_type_runs_to_a_count() {
    let mut c = config(8);
    c.schedule.start = Some(START.parse().unwrap());
    c.schedule.count = Some(1000);
    c.schedule.on_end = kafka_gen::schedule::OnEnd::Stop;
    let (summary, events) = run_captured(&c).await;
    let readings = events
        .iter()
        .filter(|e| e["event_type"] == "reading")
        .count();
    assert_eq!(readings, 1000);
    assert_eq!(summary.primary[0], 1000);
    // 1,000 readings at 5 a second take about 200 s of event time.
    let span = (ms(events.last().unwrap()) - ms(&events[0])) as f64 / 1000.0;
    assert!((150.0..250.0).contains(&span), "{span} s");
}

/// Constant gaps: the first readings are spread evenly over the first 10 s (1,000 sensors in
/// 10 one-second bins, chi-square with 9 degrees of freedom, p > 0.001), and each sensor's
/// next reading comes exactly 10 s after its first.
#[test]
fn constant_gaps_start_staggered_and_keep_their_period() {
    let events = run_range("2025-01-01T00:00:25Z", &["num_sensors=1000", "jitter=0"]);
    let readings = by_sensor(&events);
    assert_eq!(readings.len(), 1000);
    let t0 = chrono::DateTime::parse_from_rfc3339(START)
        .unwrap()
        .timestamp_millis();
    let mut bins = [0.0f64; 10];
    for times in readings.values() {
        let first = times[0] - t0;
        assert!((0..10_000).contains(&first), "first reading at {first} ms");
        bins[(first / 1000) as usize] += 1.0;
        for w in times.windows(2) {
            assert_eq!(w[1] - w[0], 10_000, "a constant gap of 10 s");
        }
        assert!(times.len() >= 2, "two readings in 25 s");
    }
    let stat: f64 = bins.iter().map(|o| (o - 100.0).powi(2) / 100.0).sum();
    let p = chi_square_p(stat, 9.0);
    assert!(p > 0.001, "first readings not uniform: {bins:?}, p = {p}");
}

/// `until: s.readings >= max_readings` stops each sensor's clock after 3 readings: over an
/// hour, every sensor reports exactly 3 times, numbered 1, 2, 3, and the run ends.
#[test]
fn until_stops_a_clock_for_good() {
    let events = run_range("2025-01-01T01:00:00Z", &["max_readings=3"]);
    let readings = by_sensor(&events);
    assert_eq!(readings.len(), 50);
    for (sensor, times) in &readings {
        assert_eq!(times.len(), 3, "{sensor}: {times:?}");
    }
    let mut ns: Vec<i64> = events
        .iter()
        .filter(|e| e["event_type"] == "reading")
        .map(|e| e["n"].as_i64().unwrap())
        .collect();
    ns.sort_unstable();
    ns.dedup();
    assert_eq!(ns, [1, 2, 3]);
}

/// Live: events are posted as their time comes (tokio's paused clock): 30 s of 5 a second
/// are about 150 readings (Poisson, sd 12; within 4 sd), delivered over the 30 s rather than
/// at once.
#[test]
fn a_live_run_posts_each_tick_at_its_time() {
    let mut c = config(9);
    c.schedule.duration = Some(kafka_gen::schedule::HumanDuration(
        std::time::Duration::from_secs(30),
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let (readings, spread) = runtime.block_on(async {
        let t0 = tokio::time::Instant::now();
        let types = 2;
        let (sink, seen) = CaptureSink::new(types);
        let runner = kafka_gen::runner::Runner::with_sinks(&c, vec![Box::new(sink)]).unwrap();
        runner
            .run(tokio_util::sync::CancellationToken::new())
            .await
            .unwrap();
        let seen = seen.lock().unwrap();
        let readings = seen
            .events()
            .iter()
            .filter(|e| e["event_type"] == "reading")
            .count();
        let last = seen.arrivals.iter().max().copied().unwrap_or(t0);
        let first = seen.arrivals.iter().min().copied().unwrap_or(t0);
        (readings, (last - first).as_secs_f64())
    });
    assert!(
        (150i64 - readings as i64).abs() < 4 * 12,
        "{readings} readings"
    );
    assert!(
        spread > 25.0,
        "delivered over {spread} s, not as they fell due"
    );
}

/// `check` runs its trial on the clocks (no draws) and reports the ticks.
#[test]
fn check_reports_the_ticks_of_a_world_with_no_weights() {
    let out = kafka_gen(&["check", &sensors()]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("per entity, on each of the sensors' own clocks"),
        "{text}"
    );
    assert!(text.contains("reading: 10,000 of 10,000 ticks"), "{text}");
}

/// A bad `per` clock is refused at load with its file:line:column and exit 2.
#[test]
fn a_bad_per_clock_is_located_and_exits_2() {
    let base = std::fs::read_to_string(sensors()).unwrap();
    let cases: &[(&str, &str, &str)] = &[
        (
            "per: {s: sensors}",
            "per: {s: sensor}",
            "`sensor` is not an entity kind",
        ),
        (
            "per: {s: sensors}",
            "per: {s: sensors, t: sensors}",
            "per has 2 entries",
        ),
        (
            "    per: {s: sensors}\n",
            "    per: {s: sensors}\n    weight: 2\n",
            "remove its weight or set it to 0",
        ),
        (
            "    every: \"jitter > 0 ? exponential(gap_secs) : gap_secs\"\n",
            "",
            "a per-entity type needs `every`",
        ),
        (
            "    every: \"jitter > 0 ? exponential(gap_secs) : gap_secs\"\n",
            "    every: 0\n",
            "every is 0; it must be above 0",
        ),
        (
            "    until: s.readings >= max_readings\n",
            "    until: s.readings >= celsius\n",
            "it may read `s`",
        ),
        (
            "    per: {s: sensors}\n",
            "",
            "`every` belongs to a per-entity clock",
        ),
    ];
    for (from, to, needle) in cases {
        assert!(base.contains(from), "{from}");
        let text = base.replace(from, to);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.yaml");
        std::fs::write(&path, text).unwrap();
        let out = kafka_gen(&["check", path.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{to}: {err}");
        assert!(err.contains(needle), "{to}: expected {needle:?} in {err}");
        assert!(err.contains("bad.yaml:"), "{to}: no location in {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// Clocks beside weighted draws: `--count` counts both as primaries and stops at exactly
/// the count, ticks included, and the summary says so.
#[tokio::test]
async fn a_count_counts_ticks_and_draws_together() {
    let base = std::fs::read_to_string(sensors()).unwrap();
    let drawn =
        "  inspection:\n    weight: 1\n    pick: {s: sensors}\n    payload: {sensor: '${s.id}'}\n";
    let text = format!("{base}{drawn}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.yaml");
    std::fs::write(&path, text).unwrap();
    let mut c = config(10);
    c.scenario = path.display().to_string();
    c.schedule.start = Some(START.parse().unwrap());
    c.schedule.count = Some(2000);
    c.schedule.rate_per_sec = Some(5.0);
    c.schedule.on_end = kafka_gen::schedule::OnEnd::Stop;
    let (summary, events) = run_captured(&c).await;
    let count = |t: &str| events.iter().filter(|e| e["event_type"] == t).count() as u64;
    let (readings, inspections) = (count("reading"), count("inspection"));
    assert_eq!(readings + inspections, 2000, "{readings} + {inspections}");
    assert_eq!(summary.primary.iter().sum::<u64>(), 2000);
    assert_eq!(
        (summary.primary[0], summary.primary[2]),
        (readings, inspections)
    );
    // Draws at --rate 5 and 50 clocks every 10 s: about half each (binomial sd 22; within 5 sd).
    assert!(
        (1000i64 - readings as i64).abs() < 5 * 22,
        "{readings} readings"
    );
}
