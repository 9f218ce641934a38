//! `[ingest]` in the config file: the ingest API's address, limits and windows.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::bail;
use serde::{Deserialize, Serialize};

/// The ingest API service (`kafka-gen ingest`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Address the API listens on (`--listen`, `KAFKA_GEN_INGEST_LISTEN`).
    pub listen: SocketAddr,
    /// Largest request body in bytes; a larger one is answered 413.
    pub max_body_bytes: usize,
    /// How long an acknowledged event id or `Idempotency-Key` is remembered, in seconds; a
    /// repeat within the window is acknowledged without producing it again.
    pub idempotency_window_secs: f64,
    /// Most keys remembered; beyond it the oldest are forgotten first.
    pub idempotency_max_keys: usize,
    /// How long a request waits for Kafka to confirm its events before answering 503, in ms.
    /// Keep it below the client's own timeout (the `http` sink's `timeout_ms`, 20 s), so a
    /// client hears the 503 rather than giving up on a request that may still succeed.
    pub ack_timeout_ms: u64,
    /// How long a client may take to send a request's headers, in ms; then the connection is
    /// closed (slow clients must not hold connections for ever). 100..=600000.
    pub header_read_timeout_ms: u64,
    /// How long a client may take to send a request's body, in ms; then it is answered 408.
    /// 100..=3600000.
    pub body_read_timeout_ms: u64,
    /// Requests handled at once (bodies being read or waiting for Kafka); one more is answered
    /// 503 at once. Bodies in memory are bounded by this times `max_body_bytes`. 1..=10000.
    pub max_concurrent_requests: usize,
    /// How often Kafka connectivity is checked (for `/health` and the quick 503), in ms.
    pub health_interval_ms: u64,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            max_body_bytes: 16 * 1024 * 1024,
            idempotency_window_secs: 600.0,
            idempotency_max_keys: 1_000_000,
            ack_timeout_ms: 15_000,
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 30_000,
            max_concurrent_requests: 32,
            health_interval_ms: 2_000,
        }
    }
}

impl IngestConfig {
    /// Checks the options; messages name the option and the bad value.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.max_body_bytes < 1024 {
            bail!(
                "ingest.max_body_bytes is {}; it must be at least 1024",
                self.max_body_bytes
            );
        }
        let w = self.idempotency_window_secs;
        if !(w.is_finite() && w >= 0.0) {
            bail!("ingest.idempotency_window_secs is {w}; it must be seconds >= 0");
        }
        if self.ack_timeout_ms == 0 || self.health_interval_ms == 0 {
            bail!("ingest.ack_timeout_ms and ingest.health_interval_ms must be at least 1");
        }
        let ranges = [
            (
                "header_read_timeout_ms",
                self.header_read_timeout_ms,
                100,
                600_000,
            ),
            (
                "body_read_timeout_ms",
                self.body_read_timeout_ms,
                100,
                3_600_000,
            ),
            (
                "max_concurrent_requests",
                self.max_concurrent_requests as u64,
                1,
                10_000,
            ),
        ];
        for (name, value, low, high) in ranges {
            if !(low..=high).contains(&value) {
                bail!("ingest.{name} is {value}; it must be {low}..={high}");
            }
        }
        Ok(())
    }

    pub fn window(&self) -> Duration {
        Duration::from_secs_f64(self.idempotency_window_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_client_bounds_are_range_checked() {
        IngestConfig::default().validate().unwrap();
        let c = IngestConfig {
            header_read_timeout_ms: 0,
            ..IngestConfig::default()
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.contains("header_read_timeout_ms is 0") && e.contains("100..=600000"),
            "{e}"
        );
        let c = IngestConfig {
            max_concurrent_requests: 0,
            ..IngestConfig::default()
        };
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("max_concurrent_requests is 0"));
        let c = IngestConfig {
            body_read_timeout_ms: 4_000_000,
            ..IngestConfig::default()
        };
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("body_read_timeout_ms"));
    }

    /// Issue 10: the `http` sink gave up on a request (10 s) before ingest answered it
    /// (15 s), so a slow Kafka made our own sink send the same events twice.
    #[test]
    fn the_sink_waits_longer_than_ingest_holds_a_request() {
        let sink = crate::sinks::http::HttpSinkConfig::default().timeout();
        let ack = Duration::from_millis(IngestConfig::default().ack_timeout_ms);
        assert!(sink >= ack + Duration::from_secs(5), "{sink:?} vs {ack:?}");
    }
}
