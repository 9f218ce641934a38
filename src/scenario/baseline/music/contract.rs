//! The music data contract as checks over the stream of plays:
//!
//! 1. Every `song_id`, `user_id` and `location_id` is in the master data; no `event_id` repeats.
//! 2. `play_duration_ms` is between 1 and the song's `duration_ms`; `device_type` is one of
//!    mobile, desktop, tablet, smart_speaker.
//! 3. `played_at` equals `event_time`, which is on or after the song's release date and the
//!    user's registration date, and never decreases per user.
//! 4. A session keeps its user, device and location; its plays are numbered 1, 2, 3, ...; a
//!    user's sessions do not interleave (a new one starts at play 1 and the old one never
//!    continues).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::master::MasterData;
use super::DEVICES;
use crate::scenario::util::{ids, time_ms, Ledger, RecentIds};
use crate::scenario::{ContractChecker, Violation};

const DAY_MS: i64 = 86_400_000;

struct Session {
    user: String,
    device: String,
    location: String,
    last_play: u64,
}

pub struct Checker {
    ledger: Ledger,
    from_start: bool,
    users: HashSet<String>,
    locations: HashSet<String>,
    /// Per song: duration and release day start in ms.
    songs: HashMap<String, (u64, i64)>,
    registered_ms: HashMap<String, i64>,
    /// Open sessions: at most one per user (older ones move to `finished`).
    sessions: HashMap<String, Session>,
    current: HashMap<String, String>,
    finished: RecentIds,
}

fn day_ms(d: chrono::NaiveDate) -> i64 {
    d.signed_duration_since(chrono::NaiveDate::default())
        .num_days()
        * DAY_MS
}

impl Checker {
    pub fn new(data: &MasterData, from_start: bool) -> Self {
        Self {
            ledger: Ledger::default(),
            from_start,
            users: ids(&data.users, |u| &u.user_id),
            locations: ids(&data.locations, |l| &l.location_id),
            songs: data
                .songs
                .iter()
                .map(|s| {
                    (
                        s.song_id.clone(),
                        (u64::from(s.duration_ms), day_ms(s.release_date)),
                    )
                })
                .collect(),
            registered_ms: data
                .users
                .iter()
                .map(|u| (u.user_id.clone(), day_ms(u.registration_date)))
                .collect(),
            sessions: HashMap::new(),
            current: HashMap::new(),
            finished: RecentIds::default(),
        }
    }

    fn play(&mut self, id: &str, e: &Value) {
        let l = &mut self.ledger;
        let song = e["song_id"].as_str().unwrap_or("");
        let Some(&(length, released)) = self.songs.get(song) else {
            l.fail(
                id,
                "unknown_reference",
                format!("song_id {song:?} is not in the master data"),
            );
            return;
        };
        let (Some(user), Some(location)) = (
            l.reference(id, e, "user_id", &self.users),
            l.reference(id, e, "location_id", &self.locations),
        ) else {
            return;
        };
        let heard = e["play_duration_ms"].as_u64().unwrap_or(0);
        if !(1..=length).contains(&heard) {
            l.fail(
                id,
                "play_duration",
                format!("play_duration_ms {heard} is not in 1..={length}"),
            );
        }
        let device = e["device_type"].as_str().unwrap_or("");
        if !DEVICES.iter().any(|d| d.0 == device) {
            l.fail(id, "schema", format!("device_type {device:?} is unknown"));
        }
        let at = time_ms(&e["event_time"]).unwrap_or(i64::MIN);
        if time_ms(&e["played_at"]) != Some(at) {
            l.fail(id, "played_at", "played_at differs from event_time".into());
        }
        if at < released {
            l.fail(
                id,
                "unreleased_song",
                format!("{song} is played before its release"),
            );
        }
        if at < self.registered_ms.get(user).copied().unwrap_or(i64::MAX) {
            l.fail(
                id,
                "unregistered_user",
                format!("{user} plays before registering"),
            );
        }
        l.in_order(id, user, e);

        let session = e["session_id"].as_str().unwrap_or("").to_string();
        let n = e["session_play"].as_u64().unwrap_or(0);
        match self.sessions.get_mut(&session) {
            Some(s) => {
                if s.user != user || s.device != device || s.location != location {
                    l.fail(
                        id,
                        "session",
                        format!("session {session} changed user, device or location"),
                    );
                }
                if n != s.last_play + 1 {
                    l.fail(
                        id,
                        "session",
                        format!("session {session} play {n} follows {}", s.last_play),
                    );
                }
                if self.current.get(user) != Some(&session) {
                    l.fail(
                        id,
                        "session",
                        format!("session {session} continues after {user} started another"),
                    );
                }
                s.last_play = n;
            }
            None if self.finished.contains(&session) => l.fail(
                id,
                "session",
                format!("session {session} continues after {user} started another"),
            ),
            None => {
                if n != 1 && self.from_start {
                    l.fail(
                        id,
                        "session",
                        format!("session {session} starts at play {n}"),
                    );
                }
                self.sessions.insert(
                    session.clone(),
                    Session {
                        user: user.to_string(),
                        device: device.to_string(),
                        location: location.to_string(),
                        last_play: n,
                    },
                );
                // A user's previous session is over: forget it, keeping only its id (as
                // [`RecentIds`], bounded) to catch a late play of it.
                if let Some(old) = self.current.insert(user.to_string(), session) {
                    self.sessions.remove(&old);
                    self.finished.insert(&old, at);
                }
            }
        }
    }
}

impl ContractChecker for Checker {
    fn check(&mut self, event: &Value) -> usize {
        let before = self.ledger.violations.len();
        let (id, ty) = self.ledger.begin("music", event);
        match ty {
            "play" => self.play(&id, event),
            other => self
                .ledger
                .fail(&id, "schema", format!("unknown event_type {other:?}")),
        }
        self.ledger.violations.len() - before
    }

    fn finish(&mut self) {}

    fn violations(&self) -> &[Violation] {
        &self.ledger.violations
    }

    fn take_violations(&mut self) -> Vec<Violation> {
        std::mem::take(&mut self.ledger.violations)
    }
}
