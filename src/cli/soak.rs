//! The flags of `kafka-gen soak`. Its pace flags are a run's, read the same way (they go
//! through the run's configuration, so a config file and `KAFKA_GEN_*` apply too).

use std::path::PathBuf;

use clap::Args;

use super::run::whole;
use super::shared::ConfigArgs;
use crate::schedule::{HumanDuration, TimeArg};

/// Flags of `kafka-gen soak`.
#[derive(Debug, Clone, Args)]
pub struct SoakArgs {
    /// World file to soak: a path, or a shipped world's name (tutoring)
    #[arg(
        help_heading = "Mode",
        long,
        value_name = "FILE",
        conflicts_with = "scenario"
    )]
    pub world: Option<PathBuf>,
    /// Scenario to soak: retail, music, tutoring, web, bnpl, or a world file's path
    /// [default: retail]
    #[arg(help_heading = "Mode", long)]
    pub scenario: Option<String>,
    /// Set a world parameter, e.g. --set num_users=50; repeat for more
    #[arg(help_heading = "Mode", long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Directory with the master data [default: data for retail, data/<scenario> otherwise;
    /// made in memory from the world's master_seed when missing]
    #[arg(help_heading = "Mode", long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Simulated time to run: 30d, 12h, ... (at most 3660d)
    #[arg(
        help_heading = "Soak",
        long,
        value_name = "DURATION",
        default_value = "30d",
        allow_hyphen_values = true
    )]
    pub duration: HumanDuration,
    /// Length of a period, each reported and tested against the rest (at least 1m)
    #[arg(
        help_heading = "Soak",
        long,
        value_name = "DURATION",
        default_value = "1d",
        allow_hyphen_values = true
    )]
    pub period: HumanDuration,
    /// Periods at the start left out of the drift tests, while state leaves its `init`
    #[arg(help_heading = "Soak", long, value_name = "PERIODS", default_value_t = 1,
        allow_negative_numbers = true, value_parser = whole::<u32>("--warmup", ">= 0"))]
    pub warmup: u32,
    /// Simulated time of the first event [default: 2025-01-06T00:00:00Z, a Monday]
    #[arg(help_heading = "Soak", long, value_name = "TIME")]
    pub start: Option<TimeArg>,
    /// Exit 1 when the verdict is drifting
    #[arg(help_heading = "Soak", long)]
    pub fail_on_drift: bool,
    /// Write the periods, every test, the thresholds and the verdict to PATH as JSON
    #[arg(help_heading = "Soak", long, value_name = "PATH")]
    pub summary_json: Option<PathBuf>,
    /// Seed of the draws [default: 1, so a soak repeats]
    #[arg(help_heading = "Soak", long, allow_negative_numbers = true,
        value_parser = whole::<u64>("--seed", "from 0 to 18446744073709551615"))]
    pub seed: Option<u64>,
    /// Primary events per second, as a run's --rate [default: the world's pace]
    #[arg(
        help_heading = "Pacing",
        long,
        value_name = "N",
        allow_negative_numbers = true
    )]
    pub rate: Option<f64>,
    /// Events per minute: the same as --rate N/60
    #[arg(
        help_heading = "Pacing",
        long,
        value_name = "N",
        conflicts_with = "rate",
        allow_negative_numbers = true
    )]
    pub volume: Option<f64>,
    /// Shortest gap between primary events, seconds
    #[arg(
        help_heading = "Pacing",
        long,
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    pub min_delta: Option<f64>,
    /// Longest gap between primary events, seconds
    #[arg(
        help_heading = "Pacing",
        long,
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    pub max_delta: Option<f64>,
    /// Mean primary events per day, their times drawn from the time profile (as a
    /// historical range's)
    #[arg(
        help_heading = "Pacing",
        long,
        value_name = "N",
        allow_negative_numbers = true
    )]
    pub events_per_day: Option<f64>,
    /// Scale the pace by the time profile (hour, weekday, holidays)
    #[arg(help_heading = "Pacing", long)]
    pub follow_profile: bool,
    /// Time zone of the time profile, an IANA name [default: UTC]
    #[arg(help_heading = "Pacing", long, value_name = "TZ")]
    pub timezone: Option<String>,
    /// Event type weights, e.g. sale=0.6,price_change=0.05
    #[arg(help_heading = "Pacing", long, value_name = "TYPE=W,...")]
    pub weights: Option<String>,
    /// Concurrent sequences inside the world (its streams/threads/users parameter)
    #[arg(help_heading = "Pacing", long, visible_aliases = ["threads", "users"], value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub streams: Option<u32>,
}

impl SoakArgs {
    /// The run these flags describe, for the run's configuration to resolve: a simulated
    /// clock from `start` for the soak's duration, no sink.
    pub fn as_run(&self, start: TimeArg) -> super::RunArgs {
        super::RunArgs {
            config: self.config.clone(),
            scenario: self.scenario.clone(),
            world: self.world.clone(),
            set: self.set.clone(),
            data_dir: self.data_dir.clone(),
            sink: Some(vec![crate::sinks::SinkKind::Null]),
            duration: Some(self.duration),
            rate: self.rate,
            volume: self.volume,
            streams: self.streams,
            min_delta: self.min_delta,
            max_delta: self.max_delta,
            seed: self.seed,
            start: Some(start),
            events_per_day: self.events_per_day,
            follow_profile: self.follow_profile,
            timezone: self.timezone.clone(),
            weights: self.weights.clone(),
            log_events: Some(false),
            stats: super::StatsArgs {
                stats_interval: Some(0.0),
            },
            ..super::RunArgs::default()
        }
    }
}
