//! The root [`Config`]: it only assembles the sections each component owns (`[schedule]`,
//! `[kafka]`, `[file]`, `[http]`, `[ingest]`, `[metrics]`, `[auth]`, `[tls]`, `[profile]`, a
//! world's section), each defined, defaulted and validated beside its component, and hands
//! each component its own section.
//! `resolve` builds it from defaults < config file < `KAFKA_GEN_*` environment < flags, and
//! `path` sets any field of any section by its dotted path (`--conf kafka.linger_ms=5`,
//! `KAFKA_GEN__KAFKA__LINGER_MS=5`).
//! `world_env` and `world_pace` add a world file's environment aliases and default pace;
//! `tls` reads `[tls]`'s variables and flags, also for `serve`, which has no config file.

mod env;
mod flags;
mod legacy;
mod notes;
pub mod path;
mod resolve;
pub mod sections;
mod tls;
mod world_env;
mod world_pace;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::bail;
use serde::{Deserialize, Serialize};

pub use notes::Note;
pub use resolve::{resolve, resolve_noted, resolve_with_env, DEFAULT_CONFIG_PATH};
pub use tls::resolve_tls;

// The sections' own types, where the components that own them define them; re-exported so
// that the assembled configuration reads as one place.
pub use crate::bounds;
pub use crate::logging::LogFormat;
pub use crate::schedule::{HumanDuration, ScheduleConfig, TimeArg};
pub use crate::sinks::SinkKind;

use crate::guard::AuthConfig;
use crate::ingest::IngestConfig;
use crate::listen::TlsConfig;
use crate::metrics::MetricsConfig;
use crate::profile::{Profile, ProfileConfig};
use crate::scenario::retail::RetailConfig;
use crate::scenario::Scenario;
use crate::sinks::file::FileSinkConfig;
use crate::sinks::http::HttpSinkConfig;
use crate::sinks::kafka::KafkaConfig;

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
    /// Concurrent sequences inside the simulated world (not OS threads): sets the parameter
    /// the world file's `--streams` alias names (music's `threads`, tutoring's `STREAM_COUNT`,
    /// web's `num_users`) unless the parameter is set itself. Retail and bnpl have none and
    /// ignore it.
    pub streams: Option<u32>,
    pub schedule: ScheduleConfig,
    /// The `file` sink.
    pub file: FileSinkConfig,
    /// The time-of-day and calendar intensity (`[profile]`).
    pub profile: ProfileConfig,
    /// The retail scenario.
    pub retail: RetailConfig,
    /// The `kafka` sink.
    pub kafka: KafkaConfig,
    /// Serve Prometheus metrics (`/metrics`) and `/health` here, e.g. `127.0.0.1:9464`
    /// (`--metrics-listen`). Unset: no metrics endpoint.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// The metrics listener's bounds.
    pub metrics: MetricsConfig,
    /// The `http` sink.
    pub http: HttpSinkConfig,
    /// The ingest API service (`kafka-gen ingest`).
    pub ingest: IngestConfig,
    /// Bearer tokens the HTTP listeners require (`[auth]`).
    pub auth: AuthConfig,
    /// TLS for this process's listeners: the ingest API, the metrics listener.
    pub tls: TlsConfig,
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
            kafka: KafkaConfig::default(),
            metrics_listen: None,
            metrics: MetricsConfig::default(),
            http: HttpSinkConfig::default(),
            ingest: IngestConfig::default(),
            auth: AuthConfig::default(),
            tls: TlsConfig::default(),
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
        let clocked = |i: usize| scenario.clocked(i as crate::scenario::EventTypeId);
        for (i, (t, w)) in types.iter().zip(&raw).enumerate() {
            if let Some(why) = clocked(i).filter(|_| *w > 0.0) {
                bail!(
                    "weight for {:?} is {}, but {why}, not by draws; leave its weight out \
                     (--weights or [weights])",
                    t.name,
                    bounds::Num(*w)
                );
            }
        }
        let total: f64 = raw.iter().sum();
        if total == 0.0 && (0..types.len()).any(|i| clocked(i).is_some()) {
            // Every event comes on an entity's clock, or follows one that did.
            return Ok(raw);
        }
        if total <= 0.0 || !total.is_finite() {
            bail!("all event weights are zero; give at least one event type a weight > 0");
        }
        // A follow-up drawn on its own lacks what its cause gives it: the world refuses it
        // every time, and a run or stream would end with nothing (issue 28).
        for (i, (t, w)) in types.iter().zip(&raw).enumerate() {
            if *w > 0.0 {
                if let Some(why) = scenario.follow_only(i as crate::scenario::EventTypeId) {
                    bail!(
                        "weight for {:?} is {}, but it can only follow: {why}; give it weight 0 \
                         and weight its causes instead (--weights or [weights])",
                        t.name,
                        bounds::Num(*w)
                    );
                }
            }
        }
        Ok(raw.iter().map(|w| w / total).collect())
    }

    /// Checks everything that does not need the master data: the root settings here, and
    /// each section by its own `validate`.
    pub fn validate(&self) -> anyhow::Result<()> {
        let scenario = crate::scenario::find(&self.scenario)?;
        self.weights_for(scenario)?;
        self.schedule.validate()?;
        if let Some(n) = self.streams {
            if !(1..=1_000_000).contains(&n) {
                bail!("streams is {n}; it must be between 1 and 1000000 (--streams)");
            }
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
        if self.sinks.is_empty() {
            bail!("no sink configured; pass --sink with one or more of kafka, stdout, file, null, http");
        }
        if self.sinks.contains(&SinkKind::File) && self.file.path.is_none() {
            bail!("the file sink needs a path; pass --output PATH (or set [file] path)");
        }
        // A section's numbers are checked even when its sink is not used, so a bad value in
        // the config file is found now, not on the day the sink is switched on (issue 28);
        // what only a used sink needs (an endpoint, known topics) is checked with its use.
        if self.sinks.contains(&SinkKind::Kafka) {
            self.kafka.validate(scenario.event_types())?;
        } else {
            self.kafka.check_ranges()?;
        }
        if self.sinks.contains(&SinkKind::Http) {
            self.http.validate()?;
        } else {
            self.http.check_ranges()?;
        }
        self.ingest.validate()?;
        self.metrics.validate()?;
        self.tls.validate()?;
        self.retail.validate()
    }

    /// What `kafka-gen ingest` is handed: `[ingest]`, `[kafka]`, the world, and for its
    /// listeners `[metrics]` and the tokens of `[auth]` (read from their file now).
    pub fn ingest_service(&self) -> anyhow::Result<crate::ingest::Service> {
        Ok(crate::ingest::Service {
            section: self.ingest.clone(),
            kafka: self.kafka.clone(),
            world: crate::scenario::find(&self.scenario)?,
            metrics_listen: self.metrics_listen,
            metrics: self.metrics.clone(),
            access: crate::guard::Access::load(&self.auth)?,
            tls: self.tls.clone(),
        })
    }

    /// The sections of the configured sinks, for `sinks::build`.
    pub fn sink_sections(&self) -> crate::sinks::SinkSections<'_> {
        crate::sinks::SinkSections {
            file: &self.file,
            kafka: &self.kafka,
            http: &self.http,
        }
    }

    /// The time profile of the configured scenario, with the config's overrides.
    pub fn profile_for(&self, scenario: &dyn Scenario) -> anyhow::Result<Profile> {
        Profile::new(&scenario.default_profile(), &self.profile)
    }

    /// Validates the time options and resolves `start` and `end` to epoch milliseconds.
    /// The section `scenario`'s world is handed: the seed, its weights, the rate the run
    /// asks for and retail's settings.
    pub fn world_section(
        &self,
        scenario: &dyn Scenario,
    ) -> anyhow::Result<crate::scenario::WorldSection> {
        let range = self.time_range(scenario)?;
        Ok(crate::scenario::WorldSection {
            seed: self.seed,
            weights: self.weights_for(scenario)?,
            requested_rate: crate::scenario::retail::capacity::requested_rate(
                &self.schedule,
                range,
            ),
            retail: self.retail.clone(),
        })
    }

    pub fn time_range(
        &self,
        scenario: &dyn Scenario,
    ) -> anyhow::Result<(Option<i64>, Option<i64>)> {
        self.schedule.time_range(&self.profile_for(scenario)?)
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

    /// A world is handed its section, resolved from the whole configuration: the seed, its
    /// own weights (a type not named keeps its default), the rate the schedule asks for and
    /// retail's settings; and a bad weight is refused there, before any world is built.
    #[test]
    fn a_world_section_is_resolved_from_the_configuration() {
        let retail = crate::scenario::find("retail").unwrap();
        let mut config = Config {
            seed: Some(7),
            ..Config::default()
        };
        config.weights.insert("sale".into(), 2.0);
        config.schedule.rate_per_sec = Some(40.0);
        config.retail.restock_lead_min_secs = 123.0;
        let section = config.world_section(retail).unwrap();
        assert_eq!(section.seed, Some(7));
        assert_eq!(section.weights, config.weights_for(retail).unwrap());
        let sale = retail
            .event_types()
            .iter()
            .position(|t| t.name == "sale")
            .unwrap();
        // Shares: sale 2 against the other types' default 0.5 together.
        assert!((section.weights[sale] - 2.0 / 2.5).abs() < 1e-12);
        assert_eq!(section.requested_rate, 40.0);
        assert_eq!(section.retail, config.retail);
        config.weights.insert("no_such_type".into(), 1.0);
        assert!(config.world_section(retail).is_err());
    }
}
