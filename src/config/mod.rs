//! The one immutable [`Config`] everything after start-up reads, and the types it is made of.
//! `resolve` builds it from defaults < config file < `KAFKA_GEN_*` environment < flags;
//! `world_env` and `world_pace` add a world file's environment aliases and default pace.

pub mod bounds;
mod duration;
mod env;
mod notes;
mod resolve;
mod time;
mod world_env;
mod world_pace;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::bail;
use serde::{Deserialize, Serialize};

pub use duration::HumanDuration;
pub use notes::Note;
pub use resolve::{resolve, resolve_noted, resolve_with_env, DEFAULT_CONFIG_PATH};
pub use time::TimeArg;

use crate::ingest::IngestConfig;
use crate::profile::{Profile, ProfileConfig};
use crate::scenario::bnpl::BnplConfig;
use crate::scenario::music::MusicConfig;
use crate::scenario::retail::RetailConfig;
use crate::scenario::tutoring::TutoringConfig;
use crate::scenario::web::WebConfig;
use crate::scenario::Scenario;
use crate::sinks::file::FileSinkConfig;
use crate::sinks::http::HttpSinkConfig;
use crate::sinks::kafka::KafkaConfig;

/// Where events go. `--sink` takes one or more, comma-separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SinkKind {
    /// One Kafka topic per event type (`--bootstrap-servers`).
    Kafka,
    /// JSON lines on standard output.
    Stdout,
    /// JSON lines in a file (`--output`).
    File,
    /// Discards events; for benchmarks.
    Null,
    /// POSTs events to an ingest API (`--http-endpoint`).
    Http,
}

/// Log format on stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// How primary events are paced (`[schedule]` in the config file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// Realistic mode: shortest gap between primary events, in seconds (0 to a year).
    pub min_delta_secs: f64,
    /// Realistic mode: longest gap between primary events, in seconds (0.001 to a year).
    pub max_delta_secs: f64,
    /// Batch mode: primary events per second (1e-6 to 1e9), paced evenly. Unset means
    /// realistic mode.
    pub rate_per_sec: Option<f64>,
    /// Stop after this many primary events. Unset (and no duration) runs until stopped.
    pub count: Option<u64>,
    /// Stop after this long: `"90s"`, `"2h"`, or a bare number of minutes.
    pub duration: Option<HumanDuration>,
    /// Run on a simulated clock from here: an RFC 3339 time, or a date (local midnight in the
    /// profile's time zone). With `end`, the historical range; with neither `end`, `count` nor
    /// `duration`, a backfill from here to now that then continues live.
    pub start: Option<TimeArg>,
    /// Historical mode: the end of the range (exclusive; a date means the end of that day).
    pub end: Option<TimeArg>,
    /// Historical mode: mean primary events per day (0.001 to 8.64e13), instead of a `count`.
    pub events_per_day: Option<f64>,
    /// Simulated time runs this many times faster than real time (3600: an hour a second;
    /// 1e-6 to 1e9).
    pub speed: Option<f64>,
    /// Live modes scale their pace by the time profile's intensity.
    pub follow_profile: bool,
    /// At shutdown, how long to wait for the sinks to deliver what they hold, in seconds (at
    /// most a day).
    pub flush_timeout_secs: f64,
    /// Set by `resolve`, never read from a file: a `count` with no pacing posts as fast as the
    /// sinks take events, on a simulated clock whose drawn gaps end now (issue 10).
    #[serde(skip)]
    pub ends_now: bool,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self {
            min_delta_secs: 10.0,
            max_delta_secs: 60.0,
            rate_per_sec: None,
            count: None,
            duration: None,
            start: None,
            end: None,
            events_per_day: None,
            speed: None,
            follow_profile: false,
            flush_timeout_secs: 30.0,
            ends_now: false,
        }
    }
}

/// The effective configuration of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Scenario to simulate.
    pub scenario: String,
    /// Directory holding the scenario's master data (`kafka-gen master` writes it).
    pub data_dir: PathBuf,
    /// Seed for every random draw. Unset: a fresh seed, logged so the run can be repeated.
    pub seed: Option<u64>,
    /// Where events go: any of `kafka`, `stdout`, `file`, `null`, `http`.
    pub sinks: Vec<SinkKind>,
    /// Seconds between live stats lines on stderr, 0.1 to 86400; 0 turns them off.
    pub stats_interval_secs: f64,
    /// Log format on stderr: `text` or `json`.
    pub log_format: LogFormat,
    /// Log `Event #N: <type> generated` at info level for each primary event. Unset: on when
    /// the pace is slower than one event a second in real time (`--log-events`).
    pub log_events: Option<bool>,
    /// After the run, write per-type generated/delivered/failed counts here as JSON.
    pub summary_json: Option<PathBuf>,
    /// Relative weights of the primary event types, by type name; unnamed types keep their
    /// scenario default. Normalised to sum to 1.
    pub weights: BTreeMap<String, f64>,
    /// Concurrent sequences inside the simulated world (not OS threads): listening sessions
    /// (music), operation streams (tutoring), users (web). Unset keeps the scenario's default;
    /// retail has none and ignores it.
    pub streams: Option<u32>,
    pub schedule: ScheduleConfig,
    /// The `file` sink.
    pub file: FileSinkConfig,
    /// The time-of-day and calendar intensity (`[profile]`).
    pub profile: ProfileConfig,
    /// The retail scenario.
    pub retail: RetailConfig,
    /// The music scenario.
    pub music: MusicConfig,
    /// The tutoring scenario.
    pub tutoring: TutoringConfig,
    /// The web scenario.
    pub web: WebConfig,
    /// The bnpl scenario.
    pub bnpl: BnplConfig,
    /// The `kafka` sink.
    pub kafka: KafkaConfig,
    /// Serve Prometheus metrics (`/metrics`) and `/health` here, e.g. `0.0.0.0:9464`
    /// (`--metrics-listen`). Unset: no metrics endpoint.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// The `http` sink.
    pub http: HttpSinkConfig,
    /// The ingest API service (`kafka-gen ingest`).
    pub ingest: IngestConfig,
    /// Parameters of a world file (`[params]`), by name; `KAFKA_GEN_PARAM_<NAME>` and
    /// `--set NAME=VALUE` override them.
    pub params: BTreeMap<String, toml::Value>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            scenario: "retail".into(),
            data_dir: PathBuf::from("data"),
            seed: None,
            sinks: vec![SinkKind::Kafka],
            stats_interval_secs: 10.0,
            log_format: LogFormat::Text,
            log_events: None,
            summary_json: None,
            weights: BTreeMap::new(),
            streams: None,
            schedule: ScheduleConfig::default(),
            file: FileSinkConfig::default(),
            profile: ProfileConfig::default(),
            retail: RetailConfig::default(),
            music: MusicConfig::default(),
            tutoring: TutoringConfig::default(),
            web: WebConfig::default(),
            bnpl: BnplConfig::default(),
            kafka: KafkaConfig::default(),
            metrics_listen: None,
            http: HttpSinkConfig::default(),
            ingest: IngestConfig::default(),
            params: BTreeMap::new(),
        }
    }
}

/// `weights` by the scenario's own type names: an alias (`sales` for retail's `sale`) counts
/// as its type, and naming a type twice, by alias and by name, is an error.
fn canonical_weights<'a>(
    weights: &'a BTreeMap<String, f64>,
    scenario: &dyn Scenario,
) -> anyhow::Result<BTreeMap<&'a str, f64>> {
    let mut out: BTreeMap<&str, (&str, f64)> = BTreeMap::new();
    for (name, w) in weights {
        let canonical = (scenario.weight_aliases().iter())
            .find(|(alias, _)| *alias == name.as_str())
            .map_or(name.as_str(), |(_, to)| *to);
        if let Some((other, _)) = out.insert(canonical, (name, *w)) {
            bail!(
                "weights name {canonical:?} twice, as {other:?} and as {name:?}; give only one \
                 of them (--weights or [weights])"
            );
        }
    }
    Ok(out.into_iter().map(|(k, (_, w))| (k, w)).collect())
}

impl Config {
    /// The world parameters as text, for a world file to parse by its own types.
    pub fn param_texts(&self) -> BTreeMap<String, String> {
        self.params
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect()
    }

    /// The primary-draw weights of `scenario`'s event types, in its table order, validated and
    /// normalised to sum to 1.
    pub fn weights_for(&self, scenario: &dyn Scenario) -> anyhow::Result<Vec<f64>> {
        let types = scenario.event_types();
        let weights = canonical_weights(&self.weights, scenario)?;
        for name in weights.keys() {
            if !types.iter().any(|t| t.name == *name) {
                let known: Vec<_> = types.iter().map(|t| t.name).collect();
                bail!(
                    "weight for unknown event type {name:?}; {} has: {}",
                    scenario.name(),
                    known.join(", ")
                );
            }
        }
        let raw: Vec<f64> = types
            .iter()
            .map(|t| weights.get(t.name).copied().unwrap_or(t.default_weight))
            .collect();
        for (t, w) in types.iter().zip(&raw) {
            let what = format!("weight for {:?}", t.name);
            bounds::check(
                *w,
                (0.0, bounds::MAX_WEIGHT),
                &what,
                "",
                "--weights or [weights]",
            )?;
        }
        let total: f64 = raw.iter().sum();
        if total <= 0.0 || !total.is_finite() {
            bail!("all event weights are zero; give at least one event type a weight > 0");
        }
        Ok(raw.iter().map(|w| w / total).collect())
    }

    /// Checks everything that does not need the master data.
    pub fn validate(&self) -> anyhow::Result<()> {
        let scenario = crate::scenario::find(&self.scenario)?;
        self.weights_for(scenario)?;
        let s = &self.schedule;
        let (lo, hi) = (s.min_delta_secs, s.max_delta_secs);
        let longest = bounds::MAX_DELTA_SECS;
        bounds::check(lo, (0.0, longest), "min delta", "seconds", "--min-delta")?;
        bounds::check(hi, (1e-3, longest), "max delta", "seconds", "--max-delta")?;
        if lo > hi {
            bail!(
                "min delta {}s is greater than max delta {}s; set --min-delta <= --max-delta",
                bounds::Num(lo),
                bounds::Num(hi)
            );
        }
        if let Some(rate) = s.rate_per_sec {
            bounds::check(
                rate,
                (bounds::MIN_RATE, bounds::MAX_RATE),
                "rate",
                "events per second",
                "--rate; for slower pacing use --min-delta/--max-delta",
            )?;
        }
        if let Some(n) = self.streams {
            if !(1..=1_000_000).contains(&n) {
                bail!("streams is {n}; it must be between 1 and 1000000 (--streams)");
            }
        }
        if s.count == Some(0) {
            bail!(
                "count is 0; it must be at least 1, or leave it out to run until stopped (--count)"
            );
        }
        self.time_range(scenario)?;
        if self.stats_interval_secs != 0.0 {
            bounds::check(
                self.stats_interval_secs,
                (bounds::MIN_STATS_INTERVAL_SECS, bounds::DAY_SECS),
                "stats interval",
                "seconds, or 0 to turn stats off",
                "--stats-interval",
            )?;
        }
        let flush = s.flush_timeout_secs;
        bounds::check(
            flush,
            (0.0, bounds::DAY_SECS),
            "flush timeout",
            "seconds",
            "--flush-timeout",
        )?;
        if self.sinks.is_empty() {
            bail!("no sink configured; pass --sink with one or more of kafka, stdout, file, null, http");
        }
        if self.sinks.contains(&SinkKind::File) && self.file.path.is_none() {
            bail!("the file sink needs a path; pass --output PATH (or set [file] path)");
        }
        if self.sinks.contains(&SinkKind::Kafka) {
            self.kafka.validate(scenario.event_types())?;
        }
        if self.sinks.contains(&SinkKind::Http) {
            self.http.validate()?;
        }
        self.ingest.validate()?;
        self.retail.validate()?;
        self.music.validate()?;
        self.tutoring.validate()?;
        self.web.validate()?;
        self.bnpl.validate()
    }

    /// The time profile of the configured scenario, with the config's overrides.
    pub fn profile_for(&self, scenario: &dyn Scenario) -> anyhow::Result<Profile> {
        Profile::new(&scenario.default_profile(), &self.profile)
    }

    /// Validates the time options and resolves `start` and `end` to epoch milliseconds.
    pub fn time_range(
        &self,
        scenario: &dyn Scenario,
    ) -> anyhow::Result<(Option<i64>, Option<i64>)> {
        let s = &self.schedule;
        let profile = self.profile_for(scenario)?;
        let start = s.start.map(|t| t.start_ms(&profile)).transpose()?;
        let end = s.end.map(|t| t.end_ms(&profile)).transpose()?;
        let now = chrono::Utc::now().timestamp_millis();
        let valid = |ms: i64| (0..253_402_300_800_000).contains(&ms);
        if let (Some(t), Some(ms)) = (s.start, start) {
            if !valid(ms) {
                bail!("start {t} is outside 1970..9999; pick a start in that range (--start)");
            }
            if end.is_none() {
                bounds::check_run_fits(t, ms, s)?;
            }
        }
        if let Some(speed) = s.speed {
            let fix = "--speed; 3600 runs an hour a second";
            bounds::check(speed, bounds::SPEED, "speed", "times real time", fix)?;
            if start.is_none() {
                bail!("--speed needs a simulated clock; give --start too");
            }
        }
        if let Some(per_day) = s.events_per_day {
            let what = "events per day";
            bounds::check(
                per_day,
                bounds::EVENTS_PER_DAY,
                what,
                "",
                "--events-per-day",
            )?;
            if s.count.is_some() {
                bail!("--count and --events-per-day both set the volume; give one of them");
            }
            if start.is_none() {
                bail!("--events-per-day needs a historical range or backfill; give --start too");
            }
        }
        if let (Some(t), Some(ms)) = (s.end, end) {
            let Some(from) = start else {
                bail!(
                    "--end {t} needs --start; historical mode covers a range from --start to --end"
                );
            };
            if ms <= from {
                bail!(
                    "end {t} is not after start {}; give an --end later than --start",
                    s.start.map(|t| t.to_string()).unwrap_or_default()
                );
            }
            if ms > now {
                bail!("end {t} is in the future; historical mode covers the past (use --start with --continuous to backfill and then go live)");
            }
        }
        let backfill =
            start.is_some() && end.is_none() && s.count.is_none() && s.duration.is_none();
        if backfill && start.is_some_and(|ms| ms > now) {
            bail!("start {} is in the future; to backfill, start in the past, or give --count or --duration to run a simulated clock", s.start.map(|t| t.to_string()).unwrap_or_default());
        }
        Ok((start, end))
    }

    /// The configuration as TOML, for `kafka-gen config`.
    pub fn to_toml(&self) -> anyhow::Result<String> {
        Ok(toml::to_string_pretty(self)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_config_file_states_the_defaults() {
        let text = include_str!("../../config/generator.toml");
        let mut shipped: Config = toml::from_str(text).expect("config/generator.toml parses");
        let defaults = Config::default();
        let scenario = crate::scenario::find("retail").unwrap();
        assert_eq!(
            shipped.weights_for(scenario).unwrap(),
            defaults.weights_for(scenario).unwrap()
        );
        shipped.weights.clear();
        // The shipped file names every topic; the defaults leave them to the scenario.
        let scenario_topics: BTreeMap<String, String> = scenario
            .event_types()
            .iter()
            .map(|t| (t.name.to_string(), t.default_topic.to_string()))
            .collect();
        assert_eq!(shipped.kafka.topics, scenario_topics);
        shipped.kafka.topics.clear();
        assert_eq!(
            shipped, defaults,
            "config/generator.toml and Config::default() disagree"
        );
    }
}
