//! Music plays for a top-songs dashboard: songs, users and locations; play events from users'
//! listening sessions, with skewed song popularity and new releases that trend.
//!
//! - `master`: songs, users, locations and their generation.
//! - `world`: listening sessions, song popularity and trending releases.
//! - `contract`: the rules a consumer of the plays may rely on.

pub mod contract;
pub mod master;
pub mod world;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::profile::ProfileDefaults;
use crate::scenario::util::Check;
use crate::scenario::{ContractChecker, EventTypeId, EventTypeSpec, MasterKind, Scenario, World};
use crate::SimRng;

pub const PLAY: EventTypeId = 0;

/// The one music event type: a play, keyed by user so a session stays in order.
pub static TYPES: &[EventTypeSpec] = &[EventTypeSpec {
    name: "play",
    default_weight: 1.0,
    default_topic: "music-plays",
    key_field: "user_id",
}];

/// Listening sessions open at once when `--streams` (`--threads`) is not given.
pub const DEFAULT_SESSIONS: u32 = 100;

/// Device types and their shares of listening sessions.
pub const DEVICES: &[(&str, u32)] = &[
    ("mobile", 55),
    ("desktop", 25),
    ("tablet", 10),
    ("smart_speaker", 10),
];

/// Tuning of the music world (`[music]` in the config file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MusicConfig {
    /// Zipf exponent of song popularity (rank = position in songs file): 0 is uniform, higher
    /// makes a few hits dominate.
    pub popularity_skew: f64,
    /// Share of plays that go to a trending new release instead of by overall popularity.
    pub trending_share: f64,
    /// A song trends for this many days after its release date.
    pub trending_days: u32,
    /// Share of plays heard to the end; the others are skipped part-way.
    pub full_play_share: f64,
    /// Fewest plays in a listening session.
    pub session_plays_min: u32,
    /// Most plays in a listening session.
    pub session_plays_max: u32,
    /// Share of sessions at the user's home (a location in their country); others travel.
    pub home_location_share: f64,
}

impl Default for MusicConfig {
    fn default() -> Self {
        Self {
            popularity_skew: 1.1,
            trending_share: 0.15,
            trending_days: 30,
            full_play_share: 0.7,
            session_plays_min: 3,
            session_plays_max: 20,
            home_location_share: 0.9,
        }
    }
}

impl MusicConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        let c = Check("music");
        c.range("popularity_skew", self.popularity_skew, 0.0, 10.0)?;
        c.range("trending_share", self.trending_share, 0.0, 1.0)?;
        c.range("trending_days", self.trending_days.into(), 1.0, 3650.0)?;
        c.range("full_play_share", self.full_play_share, 0.0, 1.0)?;
        c.span(
            "session_plays_min/max",
            self.session_plays_min.into(),
            self.session_plays_max.into(),
            1.0,
            10_000.0,
        )?;
        c.range("home_location_share", self.home_location_share, 0.0, 1.0)
    }
}

/// Listening peaks on the commute and in the evening; weekends a little busier; shopping days
/// are ordinary days, the holidays themselves a little busier.
pub const PROFILE: ProfileDefaults = ProfileDefaults {
    hourly: [
        1.5, 1.0, 0.6, 0.4, 0.4, 0.7, 1.8, 4.0, 5.5, 4.5, 4.0, 4.2, 4.8, 4.8, 4.5, 4.6, 5.2, 6.0,
        6.5, 6.2, 5.8, 5.0, 3.8, 2.5,
    ],
    weekend_multiplier: 1.1,
    holiday_multipliers: &[
        ("black_friday", 1.0),
        ("cyber_monday", 1.0),
        ("christmas_season", 1.05),
        ("boxing_week", 1.1),
        ("back_to_school", 1.0),
        ("mothers_day", 1.0),
        ("thanksgiving", 1.0),
        ("easter_sunday", 1.0),
        ("christmas_day", 1.2),
        ("new_years_day", 1.2),
        ("valentines_day", 1.1),
    ],
};

pub struct Music;

impl Scenario for Music {
    fn name(&self) -> &'static str {
        "music"
    }

    fn description(&self) -> &'static str {
        "Music plays for a top-songs dashboard: listening sessions, hits and trending releases"
    }

    fn event_types(&self) -> &'static [EventTypeSpec] {
        TYPES
    }

    fn default_profile(&self) -> ProfileDefaults {
        PROFILE
    }

    fn master_kinds(&self) -> &'static [MasterKind] {
        &[
            MasterKind {
                name: "songs",
                default_count: 1000,
                max_count: 1_000_000,
            },
            MasterKind {
                name: "users",
                default_count: 5000,
                max_count: 10_000_000,
            },
            MasterKind {
                name: "locations",
                default_count: 100,
                max_count: 100_000,
            },
        ]
    }

    fn write_master(
        &self,
        rng: &mut SimRng,
        sizes: &[usize],
        dir: &Path,
        format: crate::master::Format,
    ) -> anyhow::Result<Vec<PathBuf>> {
        let [songs, users, locations] = sizes else {
            anyhow::bail!("music master data takes 3 sizes, got {}", sizes.len());
        };
        master::MasterData::generate(rng, *songs, *users, *locations).write(dir, format)
    }

    fn checker(
        &self,
        data_dir: &Path,
        from_start: bool,
    ) -> anyhow::Result<Box<dyn ContractChecker>> {
        let data = master::MasterData::load(data_dir)?;
        Ok(Box::new(contract::Checker::new(&data, from_start)))
    }

    fn load_master(&self, data_dir: &Path) -> anyhow::Result<crate::scenario::Master> {
        Ok(crate::scenario::Master::new(master::MasterData::load(
            data_dir,
        )?))
    }

    fn world_from(
        &self,
        master: &crate::scenario::Master,
        _section: &crate::scenario::WorldSection,
    ) -> anyhow::Result<Box<dyn World>> {
        let data = master.get::<master::MasterData>()?.clone();
        let sessions = DEFAULT_SESSIONS;
        Ok(Box::new(world::MusicWorld::new(
            data,
            MusicConfig::default(),
            sessions,
        )?))
    }
}
