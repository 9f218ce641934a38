//! Tutoring operations for an operations dashboard: students and tutors; sessions that start
//! and later complete, inbound calls, tutor availability, student health and supply/demand,
//! from a number of concurrent streams (`--streams`, 50 by default), each its own sequence.
//!
//! - `master`: students, tutors and their generation.
//! - `events`: payloads and the health score.
//! - `world`: open sessions, student histories, the streams.
//! - `contract`: the rules a consumer may rely on.

pub mod contract;
pub mod events;
pub mod master;
pub mod world;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::profile::ProfileDefaults;
use crate::scenario::util::Check;
use crate::scenario::{ContractChecker, EventTypeId, EventTypeSpec, MasterKind, Scenario, World};
use crate::SimRng;

pub const SESSION_STARTED: EventTypeId = 0;
pub const SESSION_COMPLETED: EventTypeId = 1;
pub const CALL_LOGGED: EventTypeId = 2;
pub const AVAILABILITY_UPDATED: EventTypeId = 3;
pub const HEALTH_UPDATE: EventTypeId = 4;
pub const SUPPLY_DEMAND: EventTypeId = 5;

/// `session_completed` is derived from `session_started` (weight 0); the others are drawn.
pub static TYPES: &[EventTypeSpec] = &[
    EventTypeSpec {
        name: "session_started",
        default_weight: 0.35,
        default_topic: "tutoring-sessions",
        key_field: "student_id",
    },
    EventTypeSpec {
        name: "session_completed",
        default_weight: 0.0,
        default_topic: "tutoring-sessions",
        key_field: "student_id",
    },
    EventTypeSpec {
        name: "ib_call_logged",
        default_weight: 0.20,
        default_topic: "tutoring-calls",
        key_field: "student_id",
    },
    EventTypeSpec {
        name: "tutor_availability_updated",
        default_weight: 0.15,
        default_topic: "tutoring-tutor-availability",
        key_field: "tutor_id",
    },
    EventTypeSpec {
        name: "customer_health_update",
        default_weight: 0.15,
        default_topic: "tutoring-customer-health",
        key_field: "student_id",
    },
    EventTypeSpec {
        name: "supply_demand_update",
        default_weight: 0.15,
        default_topic: "tutoring-supply-demand",
        key_field: "region",
    },
];

pub const SUBJECTS: &[&str] = &[
    "math",
    "physics",
    "chemistry",
    "biology",
    "english",
    "history",
    "computer_science",
    "spanish",
];

pub const REGIONS: &[&str] = &["northeast", "southeast", "midwest", "southwest", "west"];

pub const CALL_REASONS: &[(&str, u32)] = &[
    ("scheduling", 35),
    ("billing", 25),
    ("technical", 20),
    ("tutor_feedback", 12),
    ("cancellation", 8),
];

/// Streams when `--streams` is not given: what the old simulator ran.
pub const DEFAULT_STREAMS: u32 = 50;

/// Tuning of the tutoring world (`[tutoring]` in the config file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TutoringConfig {
    /// Shortest session, in minutes of event time.
    pub session_minutes_min: u32,
    /// Longest session, in minutes of event time.
    pub session_minutes_max: u32,
    /// Share of sessions completed successfully.
    pub success_share: f64,
    /// Share of inbound calls resolved.
    pub call_resolved_share: f64,
}

impl Default for TutoringConfig {
    fn default() -> Self {
        Self {
            session_minutes_min: 30,
            session_minutes_max: 90,
            success_share: 0.9,
            call_resolved_share: 0.7,
        }
    }
}

impl TutoringConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        let c = Check("tutoring");
        c.span(
            "session_minutes_min/max",
            self.session_minutes_min.into(),
            self.session_minutes_max.into(),
            1.0,
            1440.0,
        )?;
        c.range("success_share", self.success_share, 0.0, 1.0)?;
        c.range("call_resolved_share", self.call_resolved_share, 0.0, 1.0)
    }
}

/// Tutoring happens after school and in the evening; weekends are quieter; the shopping
/// holidays are ordinary days and the family ones quiet.
pub const PROFILE: ProfileDefaults = ProfileDefaults {
    hourly: [
        0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.5, 2.0, 2.5, 2.5, 2.5, 3.0, 4.0, 6.0, 8.0, 9.0,
        9.5, 9.0, 7.5, 5.0, 2.5, 1.0,
    ],
    weekend_multiplier: 0.7,
    holiday_multipliers: &[
        ("black_friday", 0.6),
        ("cyber_monday", 1.0),
        ("christmas_season", 0.9),
        ("boxing_week", 0.4),
        ("back_to_school", 1.4),
        ("mothers_day", 0.6),
        ("valentines_day", 1.0),
        ("christmas_eve", 0.2),
        ("christmas_day", 0.1),
    ],
};

pub struct Tutoring;

impl Scenario for Tutoring {
    fn name(&self) -> &'static str {
        "tutoring"
    }

    fn description(&self) -> &'static str {
        "Tutoring operations: sessions, inbound calls, tutor availability, health, supply and demand"
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
                name: "students",
                default_count: 5000,
                max_count: 10_000_000,
            },
            MasterKind {
                name: "tutors",
                default_count: 500,
                max_count: 1_000_000,
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
        let [students, tutors] = sizes else {
            anyhow::bail!("tutoring master data takes 2 sizes, got {}", sizes.len());
        };
        master::MasterData::generate(rng, *students, *tutors).write(dir, format)
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
        let streams = DEFAULT_STREAMS;
        Ok(Box::new(world::TutoringWorld::new(
            data,
            TutoringConfig::default(),
            streams,
        )))
    }
}
