//! Historical mode and the shape of time: the profile's hour, weekend and holiday patterns,
//! the range, reproducibility, and the hand-off from backfill to live.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use chrono::{Datelike, NaiveDate, Weekday};
use common::*;
use kafka_gen::config::TimeArg;
use kafka_gen::profile::sampler::Sampler;
use kafka_gen::profile::{Profile, ProfileConfig, RETAIL_HOURLY, RETAIL_PROFILE};
use kafka_gen::runner::{Runner, Stop};
use kafka_gen::SimRng;
use rand::SeedableRng;

fn ms(date: &str) -> i64 {
    let d: NaiveDate = date.parse().unwrap();
    d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis()
}

#[test]
fn a_simulated_month_follows_the_profile() {
    let profile = Profile::new(&RETAIL_PROFILE, &ProfileConfig::default()).unwrap();
    let (start, end) = (ms("2025-11-01"), ms("2025-12-01"));
    let n = 300_000u64;
    let mut sampler = Sampler::count(profile.clone(), start, end, n).unwrap();
    let mut rng = SimRng::seed_from_u64(17);
    let mut by_hour = [0f64; 24];
    let mut by_day = BTreeMap::<NaiveDate, f64>::new();
    let mut last = f64::MIN;
    let mut count = 0;
    while let Some(t) = sampler.next(&mut rng) {
        assert!(
            t >= last && t >= start as f64 && t < end as f64,
            "{t} out of order or range"
        );
        last = t;
        let (date, hour) = profile.local_date_hour(t as i64).unwrap();
        by_hour[hour as usize] += 1.0;
        *by_day.entry(date).or_default() += 1.0;
        count += 1;
    }
    assert_eq!(count, n);

    // Hour of day against the profile's curve (whole days, so weekday and holiday multipliers
    // scale every hour alike). Threshold: p > 0.001 with 23 degrees of freedom.
    let total: f64 = RETAIL_HOURLY.iter().sum();
    let stat: f64 = (0..24)
        .map(|h| {
            let expected = n as f64 * RETAIL_HOURLY[h] / total;
            (by_hour[h] - expected).powi(2) / expected
        })
        .sum();
    let p = chi_square_p(stat, 23.0);
    assert!(p > 0.001, "hour-of-day chi-square {stat:.1}, p = {p:.5}");

    // Weekends against ordinary weekdays, and holidays against ordinary weekdays.
    let ordinary = |d: &NaiveDate| profile.day_multiplier(*d) == 1.0;
    let mean = |days: Vec<f64>| days.iter().sum::<f64>() / days.len() as f64;
    let weekday = mean(
        by_day
            .iter()
            .filter(|(d, _)| ordinary(d))
            .map(|(_, c)| *c)
            .collect(),
    );
    let weekend = mean(
        by_day
            .iter()
            .filter(|(d, _)| matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
            .filter(|(d, _)| profile.day_multiplier(**d) == 0.85)
            .map(|(_, c)| *c)
            .collect(),
    );
    let ratio = weekend / weekday;
    // Within 5% of the weekend multiplier.
    assert!(
        (ratio / 0.85 - 1.0).abs() < 0.05,
        "weekend/weekday {ratio:.3}, want 0.85"
    );
    for (day, multiplier) in [("2025-11-28", 2.5), ("2025-11-27", 0.5)] {
        let got = by_day[&day.parse::<NaiveDate>().unwrap()] / weekday;
        // Within 10% of the holiday's multiplier (Black Friday, Thanksgiving).
        assert!(
            (got / multiplier - 1.0).abs() < 0.10,
            "{day}: {got:.3} x a weekday, want {multiplier}"
        );
    }
}

#[tokio::test]
async fn historical_runs_cover_the_range_reproducibly() {
    let mut config = fixture_config(4);
    config.schedule.start = Some("2025-11-01".parse::<TimeArg>().unwrap());
    config.schedule.end = Some("2025-11-30".parse::<TimeArg>().unwrap());
    config.schedule.count = Some(20_000);
    let (summary, events) = run_captured(&config).await;
    assert_eq!(summary.stop, Stop::Finished);
    assert_eq!(summary.primary.iter().sum::<u64>(), 20_000);
    let times: Vec<&str> = events
        .iter()
        .map(|e| e["event_time"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "times in order");
    assert!(
        times[0] >= "2025-11-01T00:00:00.000Z"
            && *times.last().unwrap() < "2025-12-01T00:00:00.000Z"
    );
    let (_, again) = run_captured(&config).await;
    assert_eq!(events, again, "same seed, same flags: same output");

    // --events-per-day sets the mean level instead of a total.
    config.schedule.count = None;
    config.schedule.events_per_day = Some(500.0);
    let (summary, _) = run_captured(&config).await;
    let primaries = summary.primary.iter().sum::<u64>();
    // 30 days at 500/day: Poisson(15,000), sd about 122.
    assert!((14_400..=15_600).contains(&primaries), "{primaries}");
}

#[tokio::test(start_paused = true)]
async fn backfill_hands_over_to_live_without_gap_or_overlap() {
    let mut config = fixture_config(8);
    let start = chrono::Utc::now() - chrono::Duration::hours(6);
    config.schedule.start = Some(TimeArg::Time(start));
    config.schedule.min_delta_secs = 5.0;
    config.schedule.max_delta_secs = 30.0;
    let (sink, seen) = CaptureSink::new(5);
    let runner = Runner::with_sinks(&config, vec![Box::new(sink)]).unwrap();
    let cancel = tokio_util::sync::CancellationToken::new();
    let stopper = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(600)).await;
        stopper.cancel();
    });
    let summary = runner.run(cancel).await.unwrap();
    let handoff = summary.handoff_ms.expect("the backfill went live");
    let events = seen.lock().unwrap().events();
    let primaries: Vec<i64> = events
        .iter()
        .filter(|e| e["caused_by"].is_null())
        .map(|e| {
            chrono::DateTime::parse_from_rfc3339(e["event_time"].as_str().unwrap())
                .unwrap()
                .timestamp_millis()
        })
        .collect();
    assert!(
        primaries.windows(2).all(|w| w[0] <= w[1]),
        "event times never go back"
    );
    let ids: HashSet<&str> = events
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), events.len(), "no duplicate across the hand-off");
    let live_from = primaries
        .iter()
        .position(|t| *t > handoff)
        .expect("live events after the hand-off");
    assert!(
        live_from > 100,
        "six hours were backfilled ({live_from} events)"
    );
    let gap = primaries[live_from] - primaries[live_from - 1];
    let largest_drawn = 30_000;
    assert!(
        (5_000..=largest_drawn + 1).contains(&gap),
        "hand-off gap {gap} ms"
    );
    // Ten minutes of live gaps between 5 and 30 s.
    let live = primaries.len() - live_from;
    assert!((18..=125).contains(&live), "{live} live events");
}

#[tokio::test(start_paused = true)]
async fn posting_pace_follows_speed_or_rate() {
    // --speed 3600: one simulated day is posted over 24 s of (paused) real time.
    let mut config = fixture_config(3);
    config.schedule.start = Some("2025-03-03".parse::<TimeArg>().unwrap());
    config.schedule.end = Some("2025-03-03".parse::<TimeArg>().unwrap());
    config.schedule.count = Some(2_000);
    config.schedule.speed = Some(3600.0);
    let t0 = tokio::time::Instant::now();
    let (summary, _) = run_captured(&config).await;
    assert_eq!(summary.primary.iter().sum::<u64>(), 2_000);
    let secs = t0.elapsed().as_secs_f64();
    assert!((20.0..=24.1).contains(&secs), "a day at 3600x took {secs}s");

    // --rate 200 in historical mode is a posting rate: 2,000 events take about 10 s.
    config.schedule.speed = None;
    config.schedule.rate_per_sec = Some(200.0);
    let t0 = tokio::time::Instant::now();
    let (_, events) = run_captured(&config).await;
    let secs = t0.elapsed().as_secs_f64();
    assert!(
        (9.9..=10.1).contains(&secs),
        "2,000 events at 200/s took {secs}s"
    );
    // The event times still come from the profile, not from the posting rate.
    let first = events[0]["event_time"].as_str().unwrap();
    let last = events.last().unwrap()["event_time"].as_str().unwrap();
    assert!(
        first.starts_with("2025-03-03T") && last.starts_with("2025-03-03T2"),
        "{first} .. {last}"
    );
}

#[tokio::test]
async fn follow_profile_scales_the_pace_and_the_world_stays_consistent() {
    let mut config = fixture_config(12);
    config.schedule.start = Some("2025-06-02".parse::<TimeArg>().unwrap());
    config.schedule.duration = Some(kafka_gen::config::HumanDuration(Duration::from_secs(
        7 * 86_400,
    )));
    config.schedule.min_delta_secs = 10.0;
    config.schedule.max_delta_secs = 60.0;
    config.schedule.follow_profile = true;
    let (_, events) = run_captured(&config).await;
    let mut by_hour = [0u32; 24];
    for e in events.iter().filter(|e| e["caused_by"].is_null()) {
        let t = chrono::DateTime::parse_from_rfc3339(e["event_time"].as_str().unwrap()).unwrap();
        by_hour[chrono::Timelike::hour(&t) as usize] += 1;
    }
    let day: u32 = by_hour[9..18].iter().sum::<u32>() / 9;
    let night: u32 = by_hour[0..6].iter().sum::<u32>() / 6;
    // The profile makes a daytime hour about 9 times as busy as a night hour.
    assert!(
        day > 4 * night.max(1),
        "day {day}/h against night {night}/h"
    );

    let data = kafka_gen::scenario::retail::master::MasterData::load(&fixture_dir()).unwrap();
    let mut checker = kafka_gen::scenario::retail::contract::Checker::new(&data, true);
    for e in &events {
        checker.check(e);
    }
    assert!(
        checker.violations().is_empty(),
        "{}",
        checker.violations()[0]
    );
}
