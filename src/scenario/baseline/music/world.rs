//! The music world: a fixed number of listening sessions open at once (`--streams`), each a
//! user on one device at one location playing a run of songs. Each primary draw advances one
//! session by one play; a finished session makes room for another user's.

use std::collections::HashMap;

use rand::RngExt;
use rand_distr::{Distribution, Zipf};
use serde::Serialize;
use uuid::Uuid;

use super::master::MasterData;
use super::{MusicConfig, DEVICES, PLAY, TYPES};
use crate::event::EventWriter;
use crate::scenario::util::{envelope, pick, uuid, TimeMs};
use crate::scenario::{EventTypeId, World};
use crate::SimRng;

const DAY_MS: i64 = 86_400_000;

/// A play, as written after the envelope.
#[derive(Serialize)]
pub struct Play<'a> {
    pub song_id: &'a str,
    pub user_id: &'a str,
    pub location_id: &'a str,
    /// The same instant as `event_time`.
    pub played_at: TimeMs,
    /// At most the song's `duration_ms`.
    pub play_duration_ms: u32,
    pub device_type: &'static str,
    pub session_id: Uuid,
    /// 1 for a session's first play, then 2, 3, ...
    pub session_play: u32,
}

#[derive(Debug, Clone, Copy)]
struct Session {
    id: Uuid,
    user: u32,
    location: u32,
    device: &'static str,
    played: u32,
    length: u32,
}

pub struct MusicWorld {
    data: MasterData,
    cfg: MusicConfig,
    popularity: Zipf<f64>,
    /// Release day (days since the epoch) per song.
    release_day: Vec<i64>,
    /// Songs ordered by release day, and those days, for "released by" and "trending" ranges.
    by_release: Vec<u32>,
    sorted_days: Vec<i64>,
    registration_day: Vec<i64>,
    /// Locations in each user's country.
    home: Vec<Vec<u32>>,
    busy: Vec<bool>,
    slots: Vec<Option<Session>>,
}

fn epoch_day(date: chrono::NaiveDate) -> i64 {
    date.signed_duration_since(chrono::NaiveDate::default())
        .num_days()
}

impl MusicWorld {
    pub fn new(data: MasterData, cfg: MusicConfig, sessions: u32) -> anyhow::Result<Self> {
        let popularity = Zipf::new(data.songs.len() as f64, cfg.popularity_skew)?;
        let release_day: Vec<i64> = data
            .songs
            .iter()
            .map(|s| epoch_day(s.release_date))
            .collect();
        let mut by_release: Vec<u32> = (0..data.songs.len() as u32).collect();
        by_release.sort_by_key(|&s| (release_day[s as usize], s));
        let sorted_days = by_release
            .iter()
            .map(|&s| release_day[s as usize])
            .collect();
        let mut by_country: HashMap<&str, Vec<u32>> = HashMap::new();
        for (i, l) in data.locations.iter().enumerate() {
            by_country
                .entry(&l.country_code)
                .or_default()
                .push(i as u32);
        }
        let home = data
            .users
            .iter()
            .map(|u| {
                by_country
                    .get(u.country.as_str())
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        let slots = vec![None; (sessions as usize).min(data.users.len()).max(1)];
        Ok(Self {
            popularity,
            release_day,
            by_release,
            sorted_days,
            registration_day: data
                .users
                .iter()
                .map(|u| epoch_day(u.registration_date))
                .collect(),
            home,
            busy: vec![false; data.users.len()],
            slots,
            data,
            cfg,
        })
    }

    /// A user with no open session who has registered by `day`.
    fn free_user(&self, rng: &mut SimRng, day: i64) -> Option<u32> {
        let n = self.data.users.len();
        let ok = |u: usize| !self.busy[u] && self.registration_day[u] <= day;
        for _ in 0..32 {
            let u = rng.random_range(0..n);
            if ok(u) {
                return Some(u as u32);
            }
        }
        let start = rng.random_range(0..n);
        (0..n)
            .map(|i| (start + i) % n)
            .find(|&u| ok(u))
            .map(|u| u as u32)
    }

    fn start_session(&mut self, rng: &mut SimRng, day: i64) -> Option<Session> {
        let user = self.free_user(rng, day)?;
        self.busy[user as usize] = true;
        let home = &self.home[user as usize];
        let location = if !home.is_empty() && rng.random_bool(self.cfg.home_location_share) {
            home[rng.random_range(0..home.len())]
        } else {
            rng.random_range(0..self.data.locations.len()) as u32
        };
        Some(Session {
            id: uuid(rng),
            user,
            location,
            device: pick(rng, DEVICES),
            played: 0,
            length: rng.random_range(self.cfg.session_plays_min..=self.cfg.session_plays_max),
        })
    }

    /// A song released by `day`: a trending new release now and then, otherwise by popularity.
    fn song(&self, rng: &mut SimRng, day: i64) -> Option<usize> {
        let released = self.sorted_days.partition_point(|&d| d <= day);
        if released == 0 {
            return None;
        }
        if rng.random_bool(self.cfg.trending_share) {
            let from = self
                .sorted_days
                .partition_point(|&d| d <= day - i64::from(self.cfg.trending_days));
            if from < released {
                return Some(self.by_release[rng.random_range(from..released)] as usize);
            }
        }
        for _ in 0..8 {
            let song = (self.popularity.sample(rng) as usize).clamp(1, self.data.songs.len()) - 1;
            if self.release_day[song] <= day {
                return Some(song);
            }
        }
        Some(self.by_release[rng.random_range(0..released)] as usize)
    }

    fn play(&mut self, rng: &mut SimRng, now_ms: i64, out: &mut EventWriter<'_>) -> bool {
        let day = now_ms.div_euclid(DAY_MS);
        let slot = rng.random_range(0..self.slots.len());
        let session = match self.slots[slot] {
            Some(s) if s.played < s.length => s,
            finished => {
                if let Some(s) = finished {
                    self.busy[s.user as usize] = false;
                }
                self.slots[slot] = None;
                match self.start_session(rng, day) {
                    Some(s) => s,
                    None => return false,
                }
            }
        };
        let Some(song) = self.song(rng, day) else {
            self.slots[slot] = Some(session);
            return false;
        };
        let length = self.data.songs[song].duration_ms;
        let heard = if rng.random_bool(self.cfg.full_play_share) {
            length
        } else {
            rng.random_range((length / 20).max(1)..length)
        };
        let session = Session {
            played: session.played + 1,
            ..session
        };
        self.slots[slot] = Some(session);
        let user_id = &self.data.users[session.user as usize].user_id;
        let play = Play {
            song_id: &self.data.songs[song].song_id,
            user_id,
            location_id: &self.data.locations[session.location as usize].location_id,
            played_at: TimeMs(now_ms),
            play_duration_ms: heard,
            device_type: session.device,
            session_id: session.id,
            session_play: session.played,
        };
        out.emit(rng, envelope(TYPES, PLAY, now_ms, None, user_id), &play);
        true
    }
}

impl World for MusicWorld {
    fn primary(
        &mut self,
        rng: &mut SimRng,
        event_type: EventTypeId,
        now_ms: i64,
        out: &mut EventWriter<'_>,
    ) -> bool {
        event_type == PLAY && self.play(rng, now_ms, out)
    }

    fn has_scheduled(&self) -> bool {
        false
    }

    fn due(&mut self, _: &mut SimRng, _: i64, _: &mut EventWriter<'_>) {}
}
