//! Music master data: songs, users and locations, their checks, and their generation.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use fake::faker::address::en::CityName;
use fake::faker::internet::en::FreeEmailProvider;
use fake::faker::lorem::en::Word;
use fake::faker::name::en::{FirstName, LastName};
use fake::Fake;
use rand::seq::IndexedRandom;
use rand::RngExt;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::master::{self, Format, MasterRecord};
use crate::scenario::util::{date, round_to, ymd};
use crate::SimRng;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Song {
    pub song_id: String,
    pub title: String,
    pub artist: String,
    pub album: String,
    pub genre: String,
    /// Length of the track; a play never lasts longer.
    pub duration_ms: u32,
    /// Nobody plays a song before this day; for a while after it, the song may trend.
    pub release_date: NaiveDate,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub user_id: String,
    pub username: String,
    pub email: String,
    /// Nobody plays anything before registering.
    pub registration_date: NaiveDate,
    /// ISO 3166 alpha-2 code; users mostly listen from a location in their country.
    pub country: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub location_id: String,
    pub city: String,
    pub country_code: String,
    pub latitude: f64,
    pub longitude: f64,
}

impl MasterRecord for Song {
    const KIND: &'static str = "songs";
    fn id(&self) -> &str {
        &self.song_id
    }
    fn check(&self) -> Result<(), String> {
        if !(1_000..=3_600_000).contains(&self.duration_ms) {
            return Err(format!(
                "duration_ms is {}; it must be between 1000 and 3600000",
                self.duration_ms
            ));
        }
        Ok(())
    }
}

impl MasterRecord for User {
    const KIND: &'static str = "users";
    fn id(&self) -> &str {
        &self.user_id
    }
    fn check(&self) -> Result<(), String> {
        if !self.email.contains('@') {
            return Err(format!("email {:?} has no '@'", self.email));
        }
        Ok(())
    }
}

impl MasterRecord for Location {
    const KIND: &'static str = "locations";
    fn id(&self) -> &str {
        &self.location_id
    }
    fn check(&self) -> Result<(), String> {
        if !(-90.0..=90.0).contains(&self.latitude) || !(-180.0..=180.0).contains(&self.longitude) {
            return Err(format!(
                "latitude/longitude {}/{} is not on Earth",
                self.latitude, self.longitude
            ));
        }
        Ok(())
    }
}

/// The whole music master data set.
#[derive(Debug, Clone)]
pub struct MasterData {
    pub songs: Vec<Song>,
    pub users: Vec<User>,
    pub locations: Vec<Location>,
}

impl MasterData {
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            songs: master::load(dir)?,
            users: master::load(dir)?,
            locations: master::load(dir)?,
        })
    }

    pub fn write(&self, dir: &Path, format: Format) -> anyhow::Result<Vec<PathBuf>> {
        Ok(vec![
            master::write(dir, &self.songs, format)?,
            master::write(dir, &self.users, format)?,
            master::write(dir, &self.locations, format)?,
        ])
    }

    /// Generates a data set; the same sizes and seed give the same records.
    pub fn generate(rng: &mut SimRng, songs: usize, users: usize, locations: usize) -> Self {
        let locations: Vec<Location> = (0..locations).map(|i| gen_location(rng, i)).collect();
        let artists: Vec<String> = (0..(songs / 8).max(1)).map(|_| gen_artist(rng)).collect();
        let songs = (0..songs).map(|i| gen_song(rng, i, &artists)).collect();
        let users = (0..users).map(|i| gen_user(rng, i, &locations)).collect();
        Self {
            songs,
            users,
            locations,
        }
    }
}

/// A latitude or longitude range.
type Span = (f64, f64);

/// Countries with rough bounding boxes (lat, lon).
const COUNTRIES: &[(&str, Span, Span)] = &[
    ("US", (30.0, 47.0), (-122.0, -75.0)),
    ("GB", (50.5, 57.0), (-5.0, 1.0)),
    ("DE", (48.0, 54.0), (7.0, 14.0)),
    ("FR", (43.5, 50.0), (-1.0, 7.0)),
    ("BR", (-30.0, -5.0), (-55.0, -36.0)),
    ("JP", (33.0, 43.0), (131.0, 141.0)),
    ("IN", (10.0, 28.0), (73.0, 88.0)),
    ("CA", (43.5, 53.0), (-123.0, -66.0)),
    ("AU", (-37.5, -27.0), (115.0, 153.0)),
    ("MX", (17.0, 28.0), (-106.0, -90.0)),
    ("SE", (55.5, 63.0), (12.0, 19.0)),
];

const GENRES: &[&str] = &[
    "pop",
    "rock",
    "hip-hop",
    "electronic",
    "r&b",
    "jazz",
    "classical",
    "country",
    "latin",
    "indie",
];

fn capitalised(rng: &mut SimRng, words: usize) -> String {
    (0..words)
        .map(|_| {
            let w: String = Word().fake_with_rng(rng);
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn gen_artist(rng: &mut SimRng) -> String {
    match rng.random_range(0..3) {
        0 => {
            let first: String = FirstName().fake_with_rng(rng);
            let last: String = LastName().fake_with_rng(rng);
            format!("{first} {last}")
        }
        1 => format!("The {}s", capitalised(rng, 1)),
        _ => capitalised(rng, 2),
    }
}

fn gen_song(rng: &mut SimRng, i: usize, artists: &[String]) -> Song {
    // Track lengths cluster around three and a half minutes.
    let length: f64 = Normal::new(215_000.0, 45_000.0)
        .map(|n| n.sample(rng))
        .unwrap_or(215_000.0);
    let words = rng.random_range(1..=3);
    let release_date = if rng.random_bool(0.35) {
        date(rng, ymd(2024, 1, 1), ymd(2025, 6, 30))
    } else {
        date(rng, ymd(1965, 1, 1), ymd(2023, 12, 31))
    };
    Song {
        song_id: format!("SONG-{:05}", i + 1),
        title: capitalised(rng, words),
        artist: artists.choose(rng).cloned().unwrap_or_default(),
        album: capitalised(rng, 2),
        genre: GENRES.choose(rng).copied().unwrap_or("pop").to_string(),
        duration_ms: length.clamp(60_000.0, 600_000.0) as u32,
        release_date,
    }
}

fn gen_user(rng: &mut SimRng, i: usize, locations: &[Location]) -> User {
    let first: String = FirstName().fake_with_rng(rng);
    let username = format!("{}{}", first.to_lowercase(), rng.random_range(1..10_000));
    let provider: String = FreeEmailProvider().fake_with_rng(rng);
    User {
        user_id: format!("USER-{:06}", i + 1),
        email: format!("{username}@{provider}"),
        username,
        registration_date: date(rng, ymd(2012, 1, 1), ymd(2024, 12, 31)),
        country: locations
            .choose(rng)
            .map(|l| l.country_code.clone())
            .unwrap_or_else(|| "US".into()),
    }
}

fn gen_location(rng: &mut SimRng, i: usize) -> Location {
    let &(code, lat, lon) = COUNTRIES.choose(rng).unwrap_or(&COUNTRIES[0]);
    Location {
        location_id: format!("LOC-{:04}", i + 1),
        city: CityName().fake_with_rng(rng),
        country_code: code.to_string(),
        latitude: round_to(rng.random_range(lat.0..lat.1), 4),
        longitude: round_to(rng.random_range(lon.0..lon.1), 4),
    }
}
