//! The music scenario: golden output, its contract over 100,000 plays, id integrity, song
//! popularity, the device mix, trending releases and concurrent sessions.

mod common;

use std::collections::{HashMap, HashSet};

use common::scenarios::{assert_caught, config, golden, replay};
use common::*;
use kafka_gen::scenario::music::master::MasterData;
use kafka_gen::scenario::music::DEVICES;
use serde_json::json;

#[test]
fn golden_output_is_byte_identical() {
    golden("music", 200);
}

#[tokio::test]
async fn the_contract_holds_over_100k_plays() {
    let mut c = config("music", 21);
    c.schedule.start = Some("2025-03-01T08:00:00Z".parse().unwrap());
    c.schedule.count = Some(100_000);
    let (summary, events) = replay(&c).await;
    assert_eq!(summary.primary, vec![100_000]);
    assert_eq!(events.len(), 100_000);
    // Sessions really ran: most plays continue a session.
    let continuing = events.iter().filter(|e| e["session_play"] != 1).count();
    assert!(continuing > 80_000, "{continuing} continuing plays");
}

fn play(id: &str, session: &str, n: u64, song: &str, user: &str) -> serde_json::Value {
    let data = MasterData::load(&scenarios::fixture("music")).unwrap();
    json!({"event_id": id, "event_type": "play", "event_time": "2025-08-01T00:00:00.000Z",
        "schema_version": 1, "scenario": "music", "caused_by": null, "song_id": song,
        "user_id": user, "location_id": data.locations[0].location_id,
        "played_at": "2025-08-01T00:00:00.000Z", "play_duration_ms": 1000,
        "device_type": "mobile", "session_id": session, "session_play": n})
}

#[test]
fn the_checker_catches_broken_streams() {
    let data = MasterData::load(&scenarios::fixture("music")).unwrap();
    let (song, user) = (&data.songs[0].song_id, &data.users[0].user_id);
    let first = play("a", "s1", 1, song, user);
    assert_caught(
        "music",
        &[],
        play("b", "s1", 1, "SONG-NOPE", user),
        "unknown_reference",
    );
    assert_caught(
        "music",
        &[],
        play("b", "s1", 1, song, "USER-NOPE"),
        "unknown_reference",
    );
    assert_caught(
        "music",
        std::slice::from_ref(&first),
        play("b", "s1", 3, song, user),
        "session",
    );
    let mut long = play("b", "s1", 2, song, user);
    long["play_duration_ms"] = json!(data.songs[0].duration_ms + 1);
    assert_caught("music", std::slice::from_ref(&first), long, "play_duration");
    let mut early = play("b", "s2", 1, song, user);
    early["event_time"] = json!("1960-01-01T00:00:00.000Z");
    early["played_at"] = early["event_time"].clone();
    assert_caught("music", &[], early, "unreleased_song");
    // A user's new session, then the old one again.
    let second = play("b", "s2", 1, song, user);
    assert_caught(
        "music",
        &[first, second],
        play("c", "s1", 2, song, user),
        "session",
    );
}

#[tokio::test]
async fn song_popularity_is_zipf() {
    // After every fixture release and with no trending, plays follow Zipf(n, 1.1) by file order.
    let mut c = config("music", 3);
    c.music.trending_share = 0.0;
    c.schedule.start = Some("2025-08-01T00:00:00Z".parse().unwrap());
    c.schedule.rate_per_sec = Some(10.0);
    c.schedule.count = Some(50_000);
    let (_, events) = replay(&c).await;
    let data = MasterData::load(&c.data_dir).unwrap();
    let index: HashMap<&str, usize> = data
        .songs
        .iter()
        .enumerate()
        .map(|(i, s)| (s.song_id.as_str(), i))
        .collect();
    let mut observed = vec![0f64; data.songs.len()];
    for e in &events {
        observed[index[e["song_id"].as_str().unwrap()]] += 1.0;
    }
    let h: f64 = (1..=data.songs.len()).map(|k| (k as f64).powf(-1.1)).sum();
    let n = events.len() as f64;
    let stat: f64 = observed
        .iter()
        .enumerate()
        .map(|(k, o)| {
            let e = n * ((k + 1) as f64).powf(-1.1) / h;
            (o - e).powi(2) / e
        })
        .sum();
    let p = chi_square_p(stat, observed.len() as f64 - 1.0);
    // Threshold: reject the Zipf law only if p <= 0.001.
    assert!(p > 0.001, "chi-square {stat:.1}, p = {p:.5}");
    // A few hits dominate: the top 10% of songs take most plays.
    let top: f64 = observed[..data.songs.len() / 10].iter().sum();
    assert!(top / n > 0.5, "top songs have {:.2} of plays", top / n);
}

#[tokio::test]
async fn sessions_pick_devices_by_their_shares() {
    let mut c = config("music", 4);
    c.schedule.start = Some("2025-08-01T00:00:00Z".parse().unwrap());
    c.schedule.rate_per_sec = Some(10.0);
    c.schedule.count = Some(100_000);
    let (_, events) = replay(&c).await;
    // One device per session: count session starts, which are independent draws.
    let mut observed = vec![0f64; DEVICES.len()];
    for e in events.iter().filter(|e| e["session_play"] == 1) {
        let d = e["device_type"].as_str().unwrap();
        observed[DEVICES.iter().position(|x| x.0 == d).unwrap()] += 1.0;
    }
    let n: f64 = observed.iter().sum();
    assert!(n > 5_000.0, "{n} sessions");
    let stat: f64 = observed
        .iter()
        .zip(DEVICES)
        .map(|(o, (_, w))| {
            let e = n * f64::from(*w) / 100.0;
            (o - e).powi(2) / e
        })
        .sum();
    let p = chi_square_p(stat, 3.0);
    // Threshold: reject the device shares only if p <= 0.001.
    assert!(p > 0.001, "chi-square {stat:.2}, p = {p:.5}, {observed:?}");
}

#[tokio::test]
async fn new_releases_trend() {
    let mut c = config("music", 5);
    c.schedule.start = Some("2025-05-01T00:00:00Z".parse().unwrap());
    c.schedule.rate_per_sec = Some(0.01);
    c.schedule.count = Some(40_000);
    let (_, events) = replay(&c).await;
    let data = MasterData::load(&c.data_dir).unwrap();
    let released: HashMap<&str, i64> = data
        .songs
        .iter()
        .map(|s| {
            (
                s.song_id.as_str(),
                s.release_date
                    .and_hms_opt(0, 0, 0)
                    .unwrap()
                    .and_utc()
                    .timestamp_millis(),
            )
        })
        .collect();
    let month = 30 * 86_400_000;
    let (mut eligible, mut fresh) = (0f64, 0f64);
    for e in &events {
        let t = chrono::DateTime::parse_from_rfc3339(e["event_time"].as_str().unwrap())
            .unwrap()
            .timestamp_millis();
        // Only moments when some song is new can a play go to a new release.
        if released.values().any(|&r| r <= t && t - r < month) {
            eligible += 1.0;
            let r = released[e["song_id"].as_str().unwrap()];
            fresh += f64::from(u8::from(t - r < month));
        }
    }
    assert!(
        eligible > 10_000.0,
        "{eligible} plays while a release was new"
    );
    // trending_share (0.15) of those plays go to a new release, plus what popularity sends.
    // Threshold: four binomial standard deviations below 0.15.
    let floor = 0.15 - 4.0 * (0.15f64 * 0.85 / eligible).sqrt();
    let share = fresh / eligible;
    assert!(
        share > floor,
        "new releases got {share:.3} of plays, floor {floor:.3}"
    );
}

#[tokio::test]
async fn streams_bound_the_open_sessions() {
    for streams in [1u32, 5] {
        let mut c = config("music", 6);
        c.streams = Some(streams);
        c.schedule.start = Some("2025-08-01T00:00:00Z".parse().unwrap());
        c.schedule.count = Some(5_000);
        let (_, events) = replay(&c).await;
        let mut last_play: HashMap<&str, usize> = HashMap::new();
        for (i, e) in events.iter().enumerate() {
            last_play.insert(e["session_id"].as_str().unwrap(), i);
        }
        let mut open = HashSet::new();
        let mut most = 0;
        for (i, e) in events.iter().enumerate() {
            let s = e["session_id"].as_str().unwrap();
            open.insert(s);
            most = most.max(open.len());
            if last_play[s] == i {
                open.remove(s);
            }
        }
        assert!(
            most <= streams as usize,
            "{most} sessions open with --streams {streams}"
        );
        assert_eq!(most, streams as usize);
    }
}
