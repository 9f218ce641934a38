//! The flags of a run: how each overrides the config file and the environment (`--conf`
//! settings by path come after them, in `path`).

use super::resolve::{merge_weights, parse_weights};
use super::{Config, SinkKind};
use crate::cli::RunArgs;

/// Whether the flags set a pace: gaps, a rate, a speed, the profile, or a run length.
pub(super) fn flags_pace(a: &RunArgs) -> bool {
    a.min_delta.is_some()
        || a.max_delta.is_some()
        || a.rate.is_some()
        || a.volume.is_some()
        || a.speed.is_some()
        || a.follow_profile
        || a.duration.is_some()
        || a.continuous
}

pub(super) fn apply_flags(config: &mut Config, a: &RunArgs) -> anyhow::Result<()> {
    let s = &mut config.schedule;
    if let Some(v) = &a.scenario {
        config.scenario = v.clone();
    }
    if let Some(v) = &a.world {
        config.scenario = v.display().to_string();
    }
    for pair in &a.set {
        let (name, value) = crate::worldfile::param_pair(pair, "--set")?;
        config.params.insert(name, toml::Value::String(value));
    }
    if let Some(v) = &a.data_dir {
        config.data_dir = v.clone();
    }
    if let Some(v) = &a.output {
        config.file.path = Some(v.clone());
        if a.sink.is_none() {
            config.sinks = vec![SinkKind::File];
        }
    }
    if a.output_per_type {
        config.file.per_type = true;
    }
    if let Some(v) = &a.sink {
        config.sinks = v.clone();
    }
    if a.continuous {
        s.duration = None;
        s.count = None;
    }
    s.duration = a.duration.or(s.duration);
    s.count = a.count.or(s.count);
    s.on_end = a.on_end.unwrap_or(s.on_end);
    s.max_records = a.max_records.or(s.max_records);
    if let Some(v) = a.volume {
        // The bounds of --rate, per minute.
        crate::bounds::check(v, (6e-5, 6e10), "volume", "events per minute", "--volume")?;
    }
    s.rate_per_sec = a.rate.or(a.volume.map(|v| v / 60.0)).or(s.rate_per_sec);
    config.streams = a.streams.or(config.streams);
    let s = &mut config.schedule;
    s.min_delta_secs = a.min_delta.unwrap_or(s.min_delta_secs);
    s.max_delta_secs = a.max_delta.unwrap_or(s.max_delta_secs);
    s.start = a.start.or(s.start);
    s.end = a.end.or(s.end);
    s.events_per_day = a.events_per_day.or(s.events_per_day);
    s.speed = a.speed.or(s.speed);
    s.follow_profile |= a.follow_profile;
    if let Some(v) = &a.timezone {
        config.profile.timezone = v.clone();
    }
    let s = &mut config.schedule;
    s.flush_timeout_secs = a.flush.flush_timeout.unwrap_or(s.flush_timeout_secs);
    config.seed = a.seed.or(config.seed);
    if let Some(v) = &a.weights {
        config.weights = merge_weights(&config.weights, &parse_weights(v, "--weights")?);
    }
    config.stats_interval_secs = a.stats.stats_interval.unwrap_or(config.stats_interval_secs);
    config.log_events = a.log_events.or(config.log_events);
    config.log_format = a.log.log_format.unwrap_or(config.log_format);
    if let Some(v) = &a.brokers.bootstrap_servers {
        config.kafka.bootstrap_servers = v.clone();
    }
    config.kafka.create_topics |= a.produce.create_topics;
    if let Some(v) = &a.dead_letter {
        config.kafka.dead_letter_path = v.clone();
    }
    config.kafka.headers = a.produce.kafka_headers.unwrap_or(config.kafka.headers);
    if let Some(v) = &a.summary_json {
        config.summary_json = Some(v.clone());
    }
    if let Some(v) = &a.http_endpoint {
        config.http.endpoint = Some(v.clone());
    }
    config.http.concurrency = a.http_concurrency.unwrap_or(config.http.concurrency);
    config.http.batch_size = a.http_batch_size.unwrap_or(config.http.batch_size);
    config.http.format = a.http_format.unwrap_or(config.http.format);
    config.metrics_listen = a.metrics.metrics_listen.or(config.metrics_listen);
    if let Some(v) = &a.auth.auth_token_file {
        config.auth.token_file = Some(v.clone());
    }
    config.auth.health_open |= a.auth.auth_health_open;
    super::tls::apply_flags(&mut config.tls, &a.tls);
    Ok(())
}
