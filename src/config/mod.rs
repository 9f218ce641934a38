//! The one immutable [`Config`] everything after start-up reads, and the types it is made of.
//! `resolve` builds it from defaults < config file < `KAFKA_GEN_*` environment < flags.

mod duration;
mod resolve;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::bail;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use duration::HumanDuration;
pub use resolve::{resolve, DEFAULT_CONFIG_PATH};

use crate::scenario::retail::RetailConfig;
use crate::scenario::Scenario;
use crate::sinks::file::FileSinkConfig;
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
    /// Realistic mode: shortest gap between primary events, in seconds.
    pub min_delta_secs: f64,
    /// Realistic mode: longest gap between primary events, in seconds.
    pub max_delta_secs: f64,
    /// Batch mode: primary events per second, paced evenly. Unset means realistic mode.
    pub rate_per_sec: Option<f64>,
    /// Stop after this many primary events. Unset (and no duration) runs until stopped.
    pub count: Option<u64>,
    /// Stop after this long: `"90s"`, `"2h"`, or a bare number of minutes.
    pub duration: Option<HumanDuration>,
    /// Run on a simulated clock that starts here (RFC 3339) and advances by the drawn gaps (or
    /// 1/rate) without sleeping, as fast as the sinks take events.
    pub start: Option<DateTime<Utc>>,
    /// At shutdown, how long to wait for the sinks to deliver what they hold, in seconds.
    pub flush_timeout_secs: f64,
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
            flush_timeout_secs: 30.0,
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
    /// Where events go: any of `kafka`, `stdout`, `file`, `null`.
    pub sinks: Vec<SinkKind>,
    /// Seconds between live stats lines on stderr; 0 turns them off.
    pub stats_interval_secs: f64,
    /// Log format on stderr: `text` or `json`.
    pub log_format: LogFormat,
    /// After the run, write per-type generated/delivered/failed counts here as JSON.
    pub summary_json: Option<PathBuf>,
    /// Relative weights of the primary event types, by type name; unnamed types keep their
    /// scenario default. Normalised to sum to 1.
    pub weights: BTreeMap<String, f64>,
    pub schedule: ScheduleConfig,
    /// The `file` sink.
    pub file: FileSinkConfig,
    /// The retail scenario.
    pub retail: RetailConfig,
    /// The `kafka` sink.
    pub kafka: KafkaConfig,
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
            summary_json: None,
            weights: BTreeMap::new(),
            schedule: ScheduleConfig::default(),
            file: FileSinkConfig::default(),
            retail: RetailConfig::default(),
            kafka: KafkaConfig::default(),
        }
    }
}

impl Config {
    /// The primary-draw weights of `scenario`'s event types, in its table order, validated and
    /// normalised to sum to 1.
    pub fn weights_for(&self, scenario: &dyn Scenario) -> anyhow::Result<Vec<f64>> {
        let types = scenario.event_types();
        for name in self.weights.keys() {
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
            .map(|t| {
                self.weights
                    .get(t.name)
                    .copied()
                    .unwrap_or(t.default_weight)
            })
            .collect();
        for (t, w) in types.iter().zip(&raw) {
            if !w.is_finite() || *w < 0.0 {
                bail!(
                    "weight for {:?} is {w}; weights must be finite and >= 0",
                    t.name
                );
            }
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
        if !lo.is_finite() || lo < 0.0 {
            bail!("min delta is {lo}; it must be a number of seconds >= 0 (--min-delta)");
        }
        if !hi.is_finite() || hi <= 0.0 {
            bail!("max delta is {hi}; it must be a number of seconds > 0 (--max-delta)");
        }
        if lo > hi {
            bail!(
                "min delta {lo}s is greater than max delta {hi}s; set --min-delta <= --max-delta"
            );
        }
        if let Some(rate) = s.rate_per_sec {
            if !rate.is_finite() || rate <= 0.0 || rate > 1e9 {
                bail!("rate is {rate}; it must be a number of events per second > 0 and <= 1e9 (--rate)");
            }
        }
        if s.count == Some(0) {
            bail!(
                "count is 0; it must be at least 1, or leave it out to run until stopped (--count)"
            );
        }
        if let Some(start) = s.start {
            let year = start.format("%Y").to_string().parse::<i32>().unwrap_or(0);
            if !(1970..=9999).contains(&year) {
                bail!("start {start} is outside 1970..9999; pick a start time in that range (--start)");
            }
        }
        if !self.stats_interval_secs.is_finite() || self.stats_interval_secs < 0.0 {
            bail!(
                "stats interval is {}; it must be seconds >= 0, 0 to turn stats off",
                self.stats_interval_secs
            );
        }
        if !s.flush_timeout_secs.is_finite() || s.flush_timeout_secs < 0.0 {
            bail!(
                "flush timeout is {}; it must be seconds >= 0",
                s.flush_timeout_secs
            );
        }
        if self.sinks.is_empty() {
            bail!("no sink configured; pass --sink with one or more of kafka, stdout, file, null");
        }
        if self.sinks.contains(&SinkKind::File) && self.file.path.is_none() {
            bail!("the file sink needs a path; pass --output PATH (or set [file] path)");
        }
        if self.sinks.contains(&SinkKind::Kafka) {
            self.kafka.validate(scenario.event_types())?;
        }
        self.retail.validate()
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
        let scenario_topics: BTreeMap<String, String> =
            scenario.event_types().iter().map(|t| (t.name.to_string(), t.default_topic.to_string())).collect();
        assert_eq!(shipped.kafka.topics, scenario_topics);
        shipped.kafka.topics.clear();
        assert_eq!(
            shipped, defaults,
            "config/generator.toml and Config::default() disagree"
        );
    }
}
