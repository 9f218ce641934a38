//! The `KAFKA_GEN_*` environment: which variables exist, and how each overrides the config
//! file (flags override them in turn).

use std::path::PathBuf;

use anyhow::bail;
use serde::Deserialize;

use super::resolve::{merge_weights, parse_listen, parse_sinks, parse_weights};
use super::{Config, HumanDuration, LogFormat};
use crate::sinks::kafka::{HeaderSet, Secret};

/// `KAFKA_GEN_*` variables. An unknown one is an error, so a typo does not go unnoticed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Env {
    pub(super) config: Option<PathBuf>,
    pub(super) scenario: Option<String>,
    pub(super) world: Option<PathBuf>,
    /// World parameters, `NAME=VALUE,...`.
    pub(super) set: Option<String>,
    pub(super) data_dir: Option<PathBuf>,
    pub(super) sink: Option<String>,
    pub(super) output: Option<PathBuf>,
    pub(super) min_delta: Option<f64>,
    pub(super) max_delta: Option<f64>,
    pub(super) rate: Option<f64>,
    pub(super) count: Option<u64>,
    pub(super) on_end: Option<String>,
    pub(super) max_records: Option<u64>,
    pub(super) duration: Option<String>,
    pub(super) start: Option<String>,
    pub(super) end: Option<String>,
    pub(super) events_per_day: Option<f64>,
    pub(super) speed: Option<f64>,
    pub(super) follow_profile: Option<bool>,
    pub(super) timezone: Option<String>,
    pub(super) seed: Option<u64>,
    pub(super) weights: Option<String>,
    pub(super) stats_interval: Option<f64>,
    pub(super) log_events: Option<bool>,
    pub(super) flush_timeout: Option<f64>,
    pub(super) log_format: Option<String>,
    pub(super) bootstrap_servers: Option<String>,
    pub(super) create_topics: Option<bool>,
    pub(super) dead_letter: Option<PathBuf>,
    pub(super) kafka_headers: Option<String>,
    pub(super) summary_json: Option<PathBuf>,
    pub(super) security_protocol: Option<String>,
    pub(super) sasl_mechanism: Option<String>,
    pub(super) sasl_username: Option<String>,
    pub(super) sasl_password: Option<String>,
    pub(super) ssl_ca_path: Option<PathBuf>,
    pub(super) http_endpoint: Option<String>,
    pub(super) http_authorization: Option<String>,
    pub(super) http_concurrency: Option<u32>,
    pub(super) http_batch_size: Option<u32>,
    pub(super) metrics_listen: Option<String>,
    pub(super) ingest_listen: Option<String>,
    pub(super) streams: Option<u32>,
    pub(super) output_per_type: Option<bool>,
    pub(super) continuous: Option<bool>,
    pub(super) volume: Option<f64>,
    pub(super) http_format: Option<String>,
    /// The fields each posted event keeps, `event_type,payload`.
    pub(super) http_fields: Option<String>,
    pub(super) auth_token_file: Option<PathBuf>,
    /// Bearer tokens, comma- or newline-separated; kept as a secret.
    pub(super) auth_tokens: Option<String>,
    pub(super) auth_health_open: Option<bool>,
    pub(super) tls_cert: Option<PathBuf>,
    pub(super) tls_key: Option<PathBuf>,
    pub(super) tls_client_ca: Option<PathBuf>,
}

impl Env {
    /// Whether the environment sets the pace: gaps, a rate, a speed, the profile or a run
    /// length. Without any pacing, a `count` run posts at once (see `resolve`).
    pub(super) fn sets_pacing(&self) -> bool {
        self.min_delta.is_some()
            || self.max_delta.is_some()
            || self.rate.is_some()
            || self.volume.is_some()
            || self.speed.is_some()
            || self.follow_profile.is_some()
            || self.duration.is_some()
            || self.continuous == Some(true)
    }
}

pub(super) fn apply_env(config: &mut Config, env: Env) -> anyhow::Result<()> {
    use clap::ValueEnum;
    apply_kafka_env(config, &env);
    apply_http_env(config, &env)?;
    let (file, tokens) = (env.auth_token_file.clone(), env.auth_tokens.clone());
    config.auth.apply_env(file, tokens, env.auth_health_open);
    super::tls::TlsEnv {
        tls_cert: env.tls_cert.clone(),
        tls_key: env.tls_key.clone(),
        tls_client_ca: env.tls_client_ca.clone(),
    }
    .apply(&mut config.tls);
    let s = &mut config.schedule;
    if let Some(v) = env.scenario {
        config.scenario = v;
    }
    if let Some(v) = env.world {
        config.scenario = v.display().to_string();
    }
    if let Some(pairs) = env.set {
        for pair in pairs.split(',').filter(|p| !p.trim().is_empty()) {
            let (name, value) = crate::worldfile::param_pair(pair, "KAFKA_GEN_SET")?;
            config.params.insert(name, toml::Value::String(value));
        }
    }
    if let Some(v) = env.data_dir {
        config.data_dir = v;
    }
    if let Some(v) = env.output {
        config.file.path = Some(v);
        // As `--output` does: a path alone means the file sink.
        if env.sink.is_none() {
            config.sinks = vec![super::SinkKind::File];
        }
    }
    if let Some(v) = env.output_per_type {
        config.file.per_type = v;
    }
    if let Some(v) = env.sink {
        config.sinks = parse_sinks(&v)?;
    }
    s.min_delta_secs = env.min_delta.unwrap_or(s.min_delta_secs);
    s.max_delta_secs = env.max_delta.unwrap_or(s.max_delta_secs);
    if let Some(v) = env.volume {
        if env.rate.is_some() {
            bail!("KAFKA_GEN_VOLUME and KAFKA_GEN_RATE both set the rate; give one of them");
        }
        if !v.is_finite() || v <= 0.0 {
            bail!("KAFKA_GEN_VOLUME is {v}; it must be a number of events per minute > 0");
        }
        s.rate_per_sec = Some(v / 60.0);
    }
    s.rate_per_sec = env.rate.or(s.rate_per_sec);
    config.streams = env.streams.or(config.streams);
    let s = &mut config.schedule;
    if env.continuous == Some(true) {
        s.count = None;
        s.duration = None;
    }
    s.count = env.count.or(s.count);
    s.max_records = env.max_records.or(s.max_records);
    if let Some(v) = &env.on_end {
        s.on_end = crate::schedule::OnEnd::from_str(v, true).map_err(|_| {
            anyhow::anyhow!("KAFKA_GEN_ON_END: {v:?} is not an end; use finish or stop")
        })?;
    }
    if let Some(v) = env.duration {
        s.duration = Some(
            v.parse::<HumanDuration>()
                .map_err(|e| anyhow::anyhow!("KAFKA_GEN_DURATION: {e}"))?,
        );
    }
    if let Some(v) = env.start {
        s.start = Some(
            v.parse()
                .map_err(|e| anyhow::anyhow!("KAFKA_GEN_START: {e}"))?,
        );
    }
    if let Some(v) = env.end {
        s.end = Some(
            v.parse()
                .map_err(|e| anyhow::anyhow!("KAFKA_GEN_END: {e}"))?,
        );
    }
    s.events_per_day = env.events_per_day.or(s.events_per_day);
    s.speed = env.speed.or(s.speed);
    s.follow_profile = env.follow_profile.unwrap_or(s.follow_profile);
    if let Some(v) = env.timezone {
        config.profile.timezone = v;
    }
    let s = &mut config.schedule;
    if let Some(v) = env.flush_timeout {
        s.flush_timeout_secs = v;
    }
    config.seed = env.seed.or(config.seed);
    if let Some(v) = env.weights {
        config.weights = merge_weights(&config.weights, &parse_weights(&v, "KAFKA_GEN_WEIGHTS")?);
    }
    if let Some(v) = env.stats_interval {
        config.stats_interval_secs = v;
    }
    config.log_events = env.log_events.or(config.log_events);
    if let Some(v) = env.kafka_headers {
        config.kafka.headers = HeaderSet::from_str(&v, true).map_err(|_| {
            anyhow::anyhow!(
                "KAFKA_GEN_KAFKA_HEADERS: {v:?} is not a header set; use all, event_type or none"
            )
        })?;
    }
    if let Some(v) = env.log_format {
        config.log_format = LogFormat::from_str(&v, true).map_err(|_| {
            anyhow::anyhow!("KAFKA_GEN_LOG_FORMAT: {v:?} is not a log format; use text or json")
        })?;
    }
    Ok(())
}

fn apply_kafka_env(config: &mut Config, env: &Env) {
    let k = &mut config.kafka;
    if let Some(v) = &env.bootstrap_servers {
        k.bootstrap_servers = v.clone();
    }
    k.create_topics = env.create_topics.unwrap_or(k.create_topics);
    if let Some(v) = &env.dead_letter {
        k.dead_letter_path = v.clone();
    }
    if let Some(v) = &env.summary_json {
        config.summary_json = Some(v.clone());
    }
    let s = &mut k.security;
    s.protocol = env.security_protocol.clone().or(s.protocol.take());
    s.sasl_mechanism = env.sasl_mechanism.clone().or(s.sasl_mechanism.take());
    s.sasl_username = env.sasl_username.clone().or(s.sasl_username.take());
    if let Some(v) = &env.sasl_password {
        s.sasl_password = Some(Secret::new(v.clone()));
    }
    s.ssl_ca_path = env.ssl_ca_path.clone().or(s.ssl_ca_path.take());
}

fn apply_http_env(config: &mut Config, env: &Env) -> anyhow::Result<()> {
    let h = &mut config.http;
    h.endpoint = env.http_endpoint.clone().or(h.endpoint.take());
    if let Some(v) = &env.http_authorization {
        h.authorization = Some(Secret::new(v.clone()));
    }
    h.concurrency = env.http_concurrency.unwrap_or(h.concurrency);
    h.batch_size = env.http_batch_size.unwrap_or(h.batch_size);
    if let Some(v) = &env.http_format {
        use clap::ValueEnum;
        h.format = crate::sinks::http::BodyFormat::from_str(v, true).map_err(|_| {
            anyhow::anyhow!("KAFKA_GEN_HTTP_FORMAT: {v:?} is not a format; use array or ndjson")
        })?;
    }
    if let Some(v) = &env.http_fields {
        h.fields = Some(crate::sinks::http::fields::parse(v));
    }
    if let Some(v) = &env.metrics_listen {
        config.metrics_listen = Some(parse_listen(v, "KAFKA_GEN_METRICS_LISTEN")?);
    }
    if let Some(v) = &env.ingest_listen {
        config.ingest.listen = parse_listen(v, "KAFKA_GEN_INGEST_LISTEN")?;
    }
    Ok(())
}

/// An `envy` error in the words of the variables people set: `KAFKA_GEN_RAET` rather than
/// "unknown field `raet`", with the close valid names.
pub(super) fn env_error(error: envy::Error) -> anyhow::Error {
    const HELP: &str = "see `kafka-gen --help` for the KAFKA_GEN_* variables; any config \
                         field is also KAFKA_GEN__SECTION__FIELD";
    let var = |name: &str| format!("KAFKA_GEN_{}", name.to_uppercase());
    let text = error.to_string();
    // serde's wording: unknown field `raet`, expected one of `config`, `scenario`, ...
    if let Some(rest) = text.strip_prefix("unknown field `") {
        let mut quoted = rest.split('`');
        let name = quoted.next().unwrap_or_default();
        let close: Vec<String> = quoted
            .skip(1)
            .step_by(2)
            .filter(|known| edit_distance(name, known) <= 2)
            .map(var)
            .collect();
        let hint = if close.is_empty() {
            String::new()
        } else {
            format!("; did you mean {}?", close.join(" or "))
        };
        return anyhow::anyhow!(
            "environment variable {} is not one kafka-gen reads{hint} ({HELP})",
            var(name)
        );
    }
    // envy's wording: <problem> while parsing value 'x' provided by COUNT
    if let Some((problem, name)) = text.rsplit_once(" provided by ") {
        return anyhow::anyhow!("environment variable {}: {problem} ({HELP})", var(name));
    }
    anyhow::anyhow!("environment: {text} ({HELP})")
}

/// Levenshtein distance, for suggesting a variable name.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}
